"""K-means segmentation of customer features: scaling, choice of k, stable identity, names.

Pipeline (pure; DataFrames and arrays in and out):
- `prepare_matrix`: log1p of the (non-negative, skewed) features, then standardisation;
- `fit_segments`: K-means (Lloyd, one k-means++ initialisation, fixed seed: measured in
  bench/segments.py as good as ten initialisations at a fraction of the time), k chosen by the
  silhouette on a sample over a range unless fixed;
- `match_previous`: Hungarian matching of the new centroids to the previous run's, so a segment
  keeps its key and name between runs ("Champions" stays "Champions");
- `name_segments` (mlcore.ml.segments.names): names and descriptions from the centroids.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sklearn
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import davies_bouldin_score, silhouette_score

SEGMENT_FEATURES = ("recency_days", "frequency", "monetary", "avg_order_value", "tenure_days", "distinct_products")


@dataclass(frozen=True)
class SegmentationConfig:
    features: tuple[str, ...] = SEGMENT_FEATURES
    k: int | None = None  # fixed number of segments; None: chosen by silhouette over k_range
    k_range: tuple[int, int] = (4, 8)  # inclusive
    silhouette_sample: int = 5_000  # silhouette is quadratic: 10k rows cost ~4x as much (bench/segments.py)
    fit_sample: int | None = 200_000  # sweep k on a sample this large, then fit the chosen k on all
    n_init: int = 1
    max_iter: int = 100
    seed: int = 42
    match_max_distance: float = 3.0  # in standard deviations (Euclidean over the features): farther is a new segment


@dataclass
class Scaler:
    """log1p then standardise; kept with the model so later runs scale the same way."""

    features: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return (log_matrix(frame, self.features) - self.mean) / self.std


@dataclass
class SegmentationResult:
    labels: np.ndarray  # cluster index per row of the input frame
    centroids: np.ndarray  # k x features, in log1p units (comparable between runs)
    scaler: Scaler
    k: int
    silhouette: float
    davies_bouldin: float
    silhouette_by_k: dict[int, float] = field(default_factory=dict)
    inertia: float = 0.0


def log_matrix(frame: pd.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise ValueError(f"feature frame lacks column(s) {', '.join(missing)}")
    values = frame.loc[:, list(features)].to_numpy(dtype="float64", na_value=0.0)
    return np.log1p(np.clip(np.nan_to_num(values), 0.0, None))


def prepare_matrix(frame: pd.DataFrame, features: tuple[str, ...]) -> tuple[np.ndarray, Scaler]:
    logged = log_matrix(frame, features)
    mean, std = logged.mean(axis=0), logged.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (logged - mean) / std, Scaler(features=tuple(features), mean=mean, std=std)


def sample_rows(n: int, size: int | None, seed: int) -> np.ndarray:
    if size is None or n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def kmeans(k: int, config: SegmentationConfig, init="k-means++") -> KMeans:
    n_init = 1 if not isinstance(init, str) else config.n_init
    return KMeans(n_clusters=k, init=init, n_init=n_init, max_iter=config.max_iter, algorithm="lloyd", random_state=config.seed)


def quality(x: np.ndarray, labels: np.ndarray, config: SegmentationConfig) -> tuple[float, float]:
    """Silhouette and Davies-Bouldin on the same seeded sample (silhouette is quadratic in n)."""
    rows = sample_rows(len(x), config.silhouette_sample, config.seed)
    if len(np.unique(labels[rows])) < 2:
        return float("nan"), float("nan")
    with sklearn.config_context(working_memory=64):  # small distance chunks stay in cache: measured faster
        silhouette = silhouette_score(x[rows], labels[rows])
    return float(silhouette), float(davies_bouldin_score(x[rows], labels[rows]))


def choose_k(x: np.ndarray, config: SegmentationConfig) -> tuple[int, dict[int, float], dict[int, np.ndarray]]:
    """Best k by silhouette over config.k_range, fitted on a sample; returns the sample centroids too."""
    fit_rows = sample_rows(len(x), config.fit_sample, config.seed)
    xs = x[fit_rows]
    scores: dict[int, float] = {}
    centers: dict[int, np.ndarray] = {}
    lo, hi = config.k_range
    for k in range(lo, min(hi, len(xs) - 1) + 1):
        model = kmeans(k, config).fit(xs)
        scores[k] = quality(xs, model.labels_, config)[0]
        centers[k] = model.cluster_centers_
    if not scores:
        raise ValueError(f"too few customers ({len(x)}) for k in {config.k_range}")
    best = max(scores, key=lambda k: (np.nan_to_num(scores[k], nan=-1.0), -k))
    return best, scores, centers


def fit_segments(frame: pd.DataFrame, config: SegmentationConfig = SegmentationConfig()) -> SegmentationResult:
    """Cluster the customers of a feature frame (one row per customer)."""
    x, scaler = prepare_matrix(frame, config.features)
    if config.k is not None:
        if len(x) <= config.k:
            raise ValueError(f"need more than k={config.k} customers, got {len(x)}")
        k, scores, model = config.k, {}, kmeans(config.k, config).fit(x)
    else:
        k, scores, centers = choose_k(x, config)
        model = kmeans(k, config, init=centers[k]).fit(x)
    silhouette, db = quality(x, model.labels_, config)
    centroids = model.cluster_centers_ * scaler.std + scaler.mean
    return SegmentationResult(
        labels=model.labels_.astype("int64"), centroids=centroids, scaler=scaler, k=k,
        silhouette=silhouette, davies_bouldin=db, silhouette_by_k=scores, inertia=float(model.inertia_),
    )


def match_previous(centroids: np.ndarray, previous: np.ndarray, scale: np.ndarray, max_distance: float) -> dict[int, int]:
    """New cluster index -> previous cluster index, by minimum total centroid distance.

    Centroids are in log1p units; `scale` (the current standard deviations) makes the distance
    unit-free. Pairs farther apart than `max_distance` are left unmatched (a new segment).
    """
    if len(previous) == 0 or len(centroids) == 0:
        return {}
    diff = (centroids[:, None, :] - previous[None, :, :]) / scale
    cost = np.sqrt((diff**2).sum(axis=2))
    rows, cols = linear_sum_assignment(cost)
    return {int(r): int(c) for r, c in zip(rows, cols, strict=True) if cost[r, c] <= max_distance}


def assign(frame: pd.DataFrame, scaler: Scaler, centroids: np.ndarray) -> np.ndarray:
    """Nearest centroid of each row (to place customers with a stored model)."""
    x = scaler.transform(frame)
    scaled = (centroids - scaler.mean) / scaler.std
    return ((x[:, None, :] - scaled[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
