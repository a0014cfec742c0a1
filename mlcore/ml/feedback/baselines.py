"""Sentiment baselines: TF-IDF word and character n-gram linear models, snownlp, and metrics.

Every sentiment model of this package answers `predict_proba(texts) -> P(positive)` as a
float array, so scoring, evaluation and serving treat them alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.pipeline import Pipeline


@dataclass(frozen=True)
class LinearConfig:
    analyzer: str = "word"  # "word" (TF-IDF of words and bigrams) or "char_wb" (char n-grams)
    ngram_range: tuple[int, int] = (1, 2)
    min_df: int = 2
    max_features: int = 200_000
    C: float = 4.0
    class_weight: str | None = "balanced"
    seed: int = 42


WORD_TFIDF = LinearConfig()
CHAR_NGRAM = LinearConfig(analyzer="char_wb", ngram_range=(1, 3))


class LinearSentiment:
    """TF-IDF features + logistic regression; `method` names it in metrics and the registry."""

    def __init__(self, config: LinearConfig = WORD_TFIDF):
        self.config = config
        self.method = "char_ngram_linear" if config.analyzer.startswith("char") else "tfidf_linear"
        self.pipeline = Pipeline([
            ("tfidf", TfidfVectorizer(
                analyzer=config.analyzer, ngram_range=config.ngram_range, min_df=config.min_df,
                max_features=config.max_features, sublinear_tf=True, lowercase=True,
            )),
            ("clf", LogisticRegression(C=config.C, class_weight=config.class_weight, max_iter=2000, random_state=config.seed)),
        ])

    def fit(self, texts: list[str], targets: np.ndarray) -> LinearSentiment:
        if len(set(np.asarray(targets).tolist())) < 2:
            raise ValueError("training a sentiment model needs both positive and negative examples")
        self.pipeline.fit(list(texts), np.asarray(targets))
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros(0)
        return self.pipeline.predict_proba(list(texts))[:, 1]


class SnowNLPSentiment:
    """snownlp's bundled Chinese sentiment model (naive Bayes trained on shopping reviews)."""

    method = "snownlp"

    def fit(self, texts: list[str], targets: np.ndarray) -> SnowNLPSentiment:
        return self  # used as shipped: retraining snownlp rewrites its package data

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        from snownlp import SnowNLP

        return np.array([SnowNLP(text).sentiments if text.strip() else 0.5 for text in texts], dtype=float)


class MajoritySentiment:
    """Always the most common training class: the floor every model must beat."""

    method = "majority"

    def fit(self, texts: list[str], targets: np.ndarray) -> MajoritySentiment:
        self.p = float(np.mean(targets) >= 0.5)
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.full(len(texts), self.p)


def sentiment_metrics(targets: np.ndarray, p_positive: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1 and negative-class recall/precision (they drive the alerts) of the 0.5
    decision on a held-out set, with its size."""
    predicted = (np.asarray(p_positive) >= 0.5).astype(int)
    negative = {"pos_label": 0, "zero_division": 0}
    return {
        "accuracy": round(float(accuracy_score(targets, predicted)), 4),
        "macro_f1": round(float(f1_score(targets, predicted, average="macro", labels=[0, 1], zero_division=0)), 4),
        "negative_recall": round(float(recall_score(targets, predicted, **negative)), 4),
        "negative_precision": round(float(precision_score(targets, predicted, **negative)), 4),
        "n_test": int(len(targets)),
    }
