"""Content-based scores from sentence embeddings of each product's title, description and category.

Products are embedded once with the packaged all-MiniLM-L6-v2 (a local sentence-transformers
folder, never downloaded); the embeddings travel inside the recommender artefact. A customer's
profile is the recency-weighted mean of the embeddings of what they bought; a product scores the
cosine between that profile and its own embedding.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import sparse


def product_texts(products: pd.DataFrame) -> list[str]:
    """"title. description. category" per product, skipping empty parts."""
    parts = [products[c].fillna("").astype(str).str.strip() for c in ("title", "description", "category")]
    joined = parts[0].str.cat(parts[1:], sep=". ").str.replace(r"(\. )+", ". ", regex=True)
    return joined.str.strip(". ").str.lower().tolist()


@lru_cache(maxsize=2)
def _encoder(model_path: str, device: str):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path, device=device)


def embed_texts(texts: list[str], *, model_path: str, batch_size: int = 128, device: str | None = None) -> np.ndarray:
    """L2-normalised float32 embeddings of the texts (one row each); the encoder is loaded once per process."""
    encoder = _encoder(str(model_path), device or "cpu")
    vectors = encoder.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    return vectors.astype(np.float32)


def customer_profiles(decayed: sparse.csr_matrix, embeddings: np.ndarray) -> np.ndarray:
    """Recency-weighted mean embedding of each row's purchases, normalised (zero for no history)."""
    weights = decayed.astype(np.float32)
    profiles = np.asarray(weights @ embeddings)
    norms = np.linalg.norm(profiles, axis=1, keepdims=True)
    return np.divide(profiles, norms, out=np.zeros_like(profiles), where=norms > 0)


def content_scores(profiles: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    return profiles @ embeddings.T


def similar_items(embeddings: np.ndarray, column: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(columns, cosines) of the k products closest to one product, itself left out."""
    sims = embeddings @ embeddings[column]
    sims[column] = -np.inf
    top = np.argpartition(-sims, min(k, len(sims) - 1))[:k]
    top = top[np.argsort(-sims[top])]
    return top, sims[top]
