"""Review intelligence, Django-free: labels from ratings, language detection, sentiment models
(zero-shot fallback, linear baselines, snownlp, fine-tuned transformer), topics and aspects.

Everything here takes frames, lists of texts or arrays and returns arrays, frames or fitted
objects, so the same code trains on a GPU host from an exported file.
"""
