"""The documented sentiment protocol's data: the held-out split and the out-of-domain splits.

In-domain: stratified 80/20 split (seed 42); Chinese scored on a fixed random 3,000 of its
held-out part (seed 7). Out-of-domain: English trains on every Department but the held-out one
(Dresses) and is scored on that Department's reviews; Chinese trains on every `cat` but the
held-out one (酒店, hotels) and is scored on a fixed random 3,000 of that category. The
encoder-stacked model embeds the held-out reviews and its capped random subset of the training
reviews (StackedConfig.max_embedded), in-domain only: embedding is slow on 2 shared cores.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from mlcore.ml.feedback import datasets
from mlcore.ml.feedback.ensembles import StackedConfig, embedded_subset

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CLM_SHARED_DATA", ROOT.parent / "shared" / "data"))
FILES = {"en": DATA / "reviews-en" / "womens_clothing_reviews.csv.gz", "zh": DATA / "reviews-zh" / "online_shopping_10_cats.csv.gz"}
ZH_TEST_N = 3000
OOD_GROUP = {"en": "Dresses", "zh": "酒店"}


def load_frame(lang: str) -> pd.DataFrame:
    """Labelled reviews with a `domain` column (English Department Name, Chinese cat)."""
    if lang == "en":
        frame = datasets.load_english_reviews(FILES["en"])
        raw = pd.read_csv(FILES["en"], usecols=["Clothing ID", "Department Name"]).drop_duplicates("Clothing ID")
        departments = dict(zip(raw["Clothing ID"].astype(str), raw["Department Name"].fillna("unknown"), strict=True))
        return frame.assign(domain=frame["group"].map(departments).fillna("unknown"))
    frame = datasets.load_chinese_reviews(FILES["zh"])
    return frame.assign(domain=frame["group"])


def in_domain(lang: str, frame: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = datasets.split_holdout(load_frame(lang) if frame is None else frame, test_size=0.2, seed=42)
    return train, (datasets.sample_rows(test, ZH_TEST_N, seed=7) if lang == "zh" else test)


def out_of_domain(lang: str, frame: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = load_frame(lang) if frame is None else frame
    held = frame["domain"] == OOD_GROUP[lang]
    train, test = frame[~held].reset_index(drop=True), frame[held].reset_index(drop=True)
    return train, (datasets.sample_rows(test, ZH_TEST_N, seed=7) if lang == "zh" else test)


def embedding_texts(lang: str, config: StackedConfig) -> list[str]:
    """What the encoder-stacked model embeds on the in-domain protocol, held-out reviews first."""
    train, test = in_domain(lang)
    keep = embedded_subset(len(train), config.max_embedded, config.seed)
    return list(dict.fromkeys(test["text"].tolist() + train["text"].iloc[keep].tolist()))
