"""mlcore's services, one module per pipeline (registry, jobs, segments, predictions, ...).

Each pipeline runs selector -> frame -> mlcore.ml -> registry -> stored scores.
"""
