"""Loaders of the public review data sets used for evaluation (no Django, no copying).

Both return a frame with columns text, label (positive/negative[/neutral]) and, where the
source has them, rating and group (product id or category). The Chinese set's licence forbids
shipping it: it is read in place from ../shared/data and never copied into the project.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mlcore.ml.feedback.labels import NEGATIVE, POSITIVE, LabelConfig, ratings_to_labels, review_texts


def _require(path: Path, columns: list[str]) -> pd.DataFrame:
    if not Path(path).exists():
        raise FileNotFoundError(f"review data file {path} does not exist")
    frame = pd.read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    return frame


def load_english_reviews(path: Path, config: LabelConfig = LabelConfig()) -> pd.DataFrame:
    """Women's clothing reviews: title + text, labelled from Rating; blank texts and duplicates dropped."""
    raw = _require(path, ["Clothing ID", "Title", "Review Text", "Rating"])
    frame = pd.DataFrame({
        "text": review_texts(raw["Title"], raw["Review Text"]),
        "rating": raw["Rating"].astype("int64"),
        "label": ratings_to_labels(raw["Rating"], config),
        "group": raw["Clothing ID"].astype(str),
    })
    frame = frame[raw["Review Text"].fillna("").str.strip() != ""]
    frame = frame.drop_duplicates(subset=["text"]).dropna(subset=["label"])
    return frame.reset_index(drop=True)


def load_chinese_reviews(path: Path) -> pd.DataFrame:
    """online_shopping_10_cats: label 1/0 to positive/negative, BOMs stripped, blanks and duplicates dropped."""
    raw = _require(path, ["cat", "label", "review"])
    text = raw["review"].fillna("").astype(str).str.replace("\ufeff", "", regex=False).str.strip()
    bad = ~raw["label"].isin([0, 1])
    if bad.any():
        raise ValueError(f"{path}: label must be 0 or 1; row {int(np.flatnonzero(bad)[0]) + 2} has {raw['label'][bad].iloc[0]!r}")
    frame = pd.DataFrame({"text": text, "label": np.where(raw["label"] == 1, POSITIVE, NEGATIVE), "group": raw["cat"].astype(str)})
    frame = frame[frame["text"] != ""].drop_duplicates(subset=["text"])
    return frame.reset_index(drop=True)


def split_holdout(frame: pd.DataFrame, *, test_size: float = 0.2, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stratified random split by label (train, test)."""
    rng = np.random.default_rng(seed)
    test_parts = []
    for _, part in frame.groupby("label", sort=True):
        n_test = int(round(len(part) * test_size))
        test_parts.append(part.index.to_numpy()[rng.permutation(len(part))[:n_test]])
    test_index = np.sort(np.concatenate(test_parts)) if test_parts else np.array([], dtype=int)
    test = frame.loc[test_index]
    train = frame.drop(index=test_index)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def sample_rows(frame: pd.DataFrame, n: int | None, *, seed: int = 42) -> pd.DataFrame:
    """At most n rows, drawn at random with a fixed seed (all rows when n is None)."""
    if n is None or n >= len(frame):
        return frame
    return frame.sample(n=n, random_state=seed).reset_index(drop=True)
