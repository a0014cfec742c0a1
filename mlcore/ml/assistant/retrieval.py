"""Hybrid retrieval over knowledge chunks: BM25 (rank_bm25) on the tokens of text.py plus dense
cosine similarity of sentence embeddings, fused by reciprocal rank (RRF, k=60), within one
language. The dense half is optional (an index built without an encoder is BM25 only), and
embeddings are passed in precomputed so a caller can store them and re-embed only what changed.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi
from scipy.stats import rankdata

from mlcore.ml.assistant.text import tokens

Encoder = Callable[[list[str]], np.ndarray]  # texts -> L2-normalised rows
RRF_K = 60


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    article_id: int | None  # an article's passage, or
    text: str
    indexed_text: str
    product_id: int | None = None  # a catalogue passage (a product's facts or its review highlights)
    title: str = ""  # a catalogue passage's product title: the question must name the product (see gate)

    @property
    def source(self) -> str:
        """What a citation names: "a<article id>" or "p<product id>"."""
        return f"a{self.article_id}" if self.article_id is not None else f"p{self.product_id}"


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # fused score (higher is better)
    bm25: float
    dense: float | None


class HybridIndex:
    """The chunks of one language; search returns the best `k` hits, best first."""

    def __init__(self, passages: list[Passage], embeddings: np.ndarray | None = None, encoder: Encoder | None = None):
        self.passages = passages
        self._tokens = [tokens(p.indexed_text) for p in passages]
        self._titles = [tokens(p.title) for p in passages]
        self._bm25 = BM25Okapi(self._tokens) if passages else None
        self.embeddings = embeddings if encoder is not None else None
        self.encoder = encoder

    def bm25_scores(self, query: str) -> np.ndarray:
        if not self.passages:
            return np.zeros(0)
        q = tokens(query)
        return np.asarray(self._bm25.get_scores(q)) if q else np.zeros(len(self.passages))

    def dense_scores(self, query: str) -> np.ndarray | None:
        if self.encoder is None or self.embeddings is None or not self.passages:
            return None
        return self.embeddings @ self.encoder([query])[0]

    def gate(self, query: str) -> np.ndarray:
        """Which passages may answer: every article passage; a catalogue passage only when the query
        shares at least two words of its product's title (all of them for a one-word title), so
        hundreds of product passages do not crowd the policy articles out of general questions."""
        asked = set(tokens(query))
        return np.asarray([
            not p.title or len(asked & set(title)) >= min(2, len(set(title)))
            for p, title in zip(self.passages, self._titles, strict=True)
        ], dtype=bool)

    def search(self, query: str, k: int = 5) -> list[Hit]:
        lexical = self.bm25_scores(query)
        dense = self.dense_scores(query)
        fused = np.where(self.gate(query), _rrf([lexical] if dense is None else [lexical, dense]), -np.inf)
        order = [i for i in np.argsort(-fused, kind="stable")[:k] if np.isfinite(fused[i])]
        return [
            Hit(passage=self.passages[i], score=float(fused[i]), bm25=float(lexical[i]), dense=None if dense is None else float(dense[i]))
            for i in order
        ]


def _rrf(score_lists: list[np.ndarray]) -> np.ndarray:
    fused = np.zeros(len(score_lists[0]))
    for scores in score_lists:
        fused += 1.0 / (RRF_K + rankdata(-scores, method="min"))  # ties share a rank: an all-zero list favours no one
    return fused


def article_ranking(hits: list[Hit]) -> list[str]:
    """Distinct sources ("a<article id>", "p<product id>") in the order their best chunk was
    retrieved (for hit@k and MRR)."""
    return list(dict.fromkeys(hit.passage.source for hit in hits))
