"""Segmentation on what customers bought: product-description embeddings + behaviour.

Each distinct product description is embedded once (the packaged all-MiniLM-L6-v2 through
sentence-transformers, loaded from a local path); a customer's text vector is the mean of the
vectors of the products they bought, weighted by spend (a sparse customers x products matmul,
no per-customer loop). The text vectors are reduced by PCA, standardised, weighted and placed
next to the standardised log behavioural features; K-means then runs on the combined matrix.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.decomposition import PCA

from mlcore.ml.sales import sale_mask
from mlcore.ml.segments.clustering import SegmentationConfig, kmeans, prepare_matrix, quality

Encoder = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class TextSegmentationConfig:
    text_components: int = 8
    text_weight: float = 1.0  # weight of the text block relative to the behavioural block
    batch_size: int = 128


def load_sentence_encoder(model_path: str, threads: int = 1) -> Encoder:
    """An encoder from a local sentence-transformers folder (never downloads)."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(texts, batch_size=128, normalize_embeddings=True, show_progress_bar=False)

    return encode


def product_vectors(lines: pd.DataFrame, encode: Encoder) -> tuple[pd.Index, np.ndarray]:
    """(product ids, one embedding per product) from each product's description, embedded once."""
    desc = lines.drop_duplicates("product_id").set_index("product_id")["description"].fillna("").astype(str)
    texts = desc.str.strip().str.lower()
    unique = pd.Index(texts.unique())
    vectors = np.asarray(encode(list(unique)), dtype="float32")
    return desc.index, vectors[unique.get_indexer(texts)]


def customer_text_vectors(lines: pd.DataFrame, product_ids: pd.Index, vectors: np.ndarray, customers: pd.Index) -> np.ndarray:
    """Spend-weighted mean product vector per customer (rows in the order of `customers`)."""
    sales = lines[sale_mask(lines) & lines["customer_id"].isin(customers)]
    rows = customers.get_indexer(sales["customer_id"])
    cols = product_ids.get_indexer(sales["product_id"])
    keep = (rows >= 0) & (cols >= 0)
    weights = sparse.csr_matrix(
        (sales["amount"].to_numpy()[keep], (rows[keep], cols[keep])), shape=(len(customers), len(product_ids))
    )
    totals = np.asarray(weights.sum(axis=1)).ravel()
    mean = weights @ vectors
    return mean / np.where(totals > 0, totals, 1.0)[:, None]


def combined_matrix(features: pd.DataFrame, text: np.ndarray, seg: SegmentationConfig, cfg: TextSegmentationConfig) -> np.ndarray:
    behaviour, _ = prepare_matrix(features, seg.features)
    n_comp = min(cfg.text_components, text.shape[1], len(text))
    reduced = PCA(n_components=n_comp, random_state=seg.seed).fit_transform(text)
    reduced = (reduced - reduced.mean(axis=0)) / np.where(reduced.std(axis=0) > 0, reduced.std(axis=0), 1.0)
    # equal block weight: each block contributes in proportion to its number of columns otherwise
    scale = cfg.text_weight * np.sqrt(behaviour.shape[1] / reduced.shape[1])
    return np.hstack([behaviour, reduced * scale])


def fit_text_segments(
    features: pd.DataFrame, text: np.ndarray, k: int, seg: SegmentationConfig = SegmentationConfig(),
    cfg: TextSegmentationConfig = TextSegmentationConfig(),
) -> tuple[np.ndarray, np.ndarray]:
    """Labels on the combined matrix, and that matrix (to score the fit)."""
    x = combined_matrix(features, text, seg, cfg)
    return kmeans(k, seg).fit(x).labels_.astype("int64"), x


def compare_quality(x: np.ndarray, labelings: dict[str, np.ndarray], seg: SegmentationConfig) -> pd.DataFrame:
    """Silhouette and Davies-Bouldin of several labelings in one space, on the same sample."""
    rows = []
    for name, labels in labelings.items():
        sil, db = quality(x, labels, seg)
        rows.append({"method": name, "segments": int(len(np.unique(labels))), "silhouette": sil, "davies_bouldin": db})
    return pd.DataFrame(rows).set_index("method")
