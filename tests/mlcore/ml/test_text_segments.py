import numpy as np
import pandas as pd
import pytest

from mlcore.ml.segments.clustering import SegmentationConfig
from mlcore.ml.segments.text import compare_quality, customer_text_vectors, fit_text_segments, product_vectors


def fake_encoder(calls: list):
    """Unit vectors: candles along x, mugs along y; records what it was asked to embed."""

    def encode(texts):
        calls.append(list(texts))
        return np.array([[1.0, 0.0] if "candle" in t else [0.0, 1.0] for t in texts])

    return encode


def lines() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [1, 1, 2, 2, 3],
        "product_id": [10, 20, 10, 30, 20],
        "description": ["RED CANDLE", "BLUE MUG", "RED CANDLE", "Red candle ", "BLUE MUG"],
        "quantity": [1, 1, 1, -1, 2],
        "amount": [30.0, 10.0, 5.0, -5.0, 8.0],
    })


def test_each_distinct_description_is_embedded_once():
    # given two products with the same description after trimming and case, when embedded, then it is encoded once
    calls: list = []
    ids, vectors = product_vectors(lines(), fake_encoder(calls))
    assert calls == [["red candle", "blue mug"]]
    assert list(ids) == [10, 20, 30] and vectors.shape == (3, 2)


def test_customer_vector_is_the_spend_weighted_mean_of_bought_products():
    # given spends of 30 on candles and 10 on mugs, when averaged, then the vector is (0.75, 0.25); returns are left out
    ids, vectors = product_vectors(lines(), fake_encoder([]))
    out = customer_text_vectors(lines(), ids, vectors, pd.Index([1, 2, 3, 4]))
    assert out[0] == pytest.approx([0.75, 0.25])
    assert out[1] == pytest.approx([1.0, 0.0])
    assert out[2] == pytest.approx([0.0, 1.0])
    assert out[3] == pytest.approx([0.0, 0.0])  # no purchases: a zero vector, not NaN


def test_text_segments_split_buyers_by_what_they_bought():
    # given identical behaviour but two tastes, when clustered with text, then k=2 splits the tastes
    rng = np.random.default_rng(0)
    n = 40
    features = pd.DataFrame({c: rng.lognormal(3, 0.05, n) for c in SegmentationConfig().features})
    taste = np.repeat([0, 1], n // 2)
    text = np.column_stack([1 - taste, taste]) + rng.normal(0, 0.01, (n, 2))
    labels, x = fit_text_segments(features, text, k=2)
    assert pd.crosstab(taste, labels).gt(0).sum(axis=1).eq(1).all()
    table = compare_quality(x, {"text": labels, "random": rng.integers(0, 2, n)}, SegmentationConfig())
    assert table.loc["text", "silhouette"] > table.loc["random", "silhouette"]
