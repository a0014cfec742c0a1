"""Django-free machine-learning code: frames and arrays in, frames, arrays or estimators out.

Nothing under mlcore.ml imports Django or another app (an import-linter contract checks it), so
the same training code runs on a GPU host from an exported data file.
"""
