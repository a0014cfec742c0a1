"""Sentiment labels from star ratings, and the text a review is judged by."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"


@dataclass(frozen=True)
class LabelConfig:
    """Ratings >= positive_min are positive, <= negative_max negative; the rest neutral or dropped."""

    positive_min: int = 4
    negative_max: int = 2
    keep_neutral: bool = False

    def __post_init__(self):
        if not 1 <= self.negative_max < self.positive_min <= 5:
            raise ValueError(f"LabelConfig needs 1 <= negative_max < positive_min <= 5, got {self.negative_max}, {self.positive_min}")


def ratings_to_labels(ratings: pd.Series, config: LabelConfig = LabelConfig()) -> pd.Series:
    """positive / negative / neutral per rating; missing ratings and (unless kept) neutrals become NA."""
    values = pd.to_numeric(ratings, errors="coerce")
    labels = pd.Series(pd.NA, index=ratings.index, dtype="object")
    labels[values >= config.positive_min] = POSITIVE
    labels[values <= config.negative_max] = NEGATIVE
    middle = (values > config.negative_max) & (values < config.positive_min)
    if config.keep_neutral:
        labels[middle] = NEUTRAL
    return labels


def binary_targets(labels: pd.Series) -> np.ndarray:
    """1 for positive, 0 for negative (neutral rows must be dropped first)."""
    unknown = sorted(set(labels.unique()) - {POSITIVE, NEGATIVE})
    if unknown:
        raise ValueError(f"binary targets need positive/negative labels only, found {unknown}")
    return (labels == POSITIVE).to_numpy(dtype=np.int64)


def review_texts(titles: pd.Series, texts: pd.Series) -> pd.Series:
    """Title and body joined ("Title. Body"), blanks and BOMs removed; empty where both are blank."""
    title = titles.fillna("").astype(str).str.replace("\ufeff", "", regex=False).str.strip()
    body = texts.fillna("").astype(str).str.replace("\ufeff", "", regex=False).str.strip()
    joined = np.where((title != "") & (body != ""), title + ". " + body, title + body)
    return pd.Series(joined, index=titles.index, dtype="object")


def label_from_probability(p_positive: np.ndarray, neutral_band: float = 0.1) -> np.ndarray:
    """positive / negative by P(positive); within +-neutral_band/2 of 0.5 it is neutral."""
    half = neutral_band / 2.0
    out = np.where(p_positive >= 0.5, POSITIVE, NEGATIVE).astype(object)
    out[np.abs(p_positive - 0.5) < half] = NEUTRAL
    return out
