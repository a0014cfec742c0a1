"""Re-ranking the hybrid's top candidates with a fine-tuned cross-encoder, for serving and evaluation.

The final score of a candidate is z(hybrid score among the customer's candidates) + weight x the
ranker's logit; the weight (lambda) is chosen on held-out validation customers when the ranker
is trained, never on a test window. Pairs are scored in batches under inference mode with the
CPU threads the caller gives; each distinct (customer, product) pair is scored once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlcore.ml.recommendations import metrics, ranker
from mlcore.ml.recommendations.model import RecommenderModel
from mlcore.ml.recommendations.ranker_data import (
    candidate_base,
    candidate_texts,
    history_texts,
    popularity_ranks,
    tokenise_pairs,
)

WEIGHTS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)


@dataclass
class CrossEncoderReranker:
    """A callable (model, rows, candidate columns, blended scores) -> new candidate scores."""

    encoder: object
    tokenizer: object
    max_len: int
    weight: float
    batch_size: int = 256
    threads: int = 1
    device: str = "cpu"
    _ranks: tuple = field(default=(None, None), init=False, repr=False)  # (model, its popularity ranks)

    def popularity_ranks(self, model: RecommenderModel) -> dict[str, np.ndarray]:
        """Made once per fitted model, not once per block of customers."""
        if self._ranks[0] is not model:
            self._ranks = (model, popularity_ranks(model))
        return self._ranks[1]

    def pair_logits(self, model: RecommenderModel, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """The ranker's logit of each (row, column) pair; a pair repeated in the input is scored once."""
        if not len(rows):
            return np.zeros(0, dtype=np.float32)
        keys, inverse = np.unique(np.stack([rows, columns]), axis=1, return_inverse=True)
        distinct_rows, row_of = np.unique(keys[0], return_inverse=True)
        texts = history_texts(model, distinct_rows)
        first = row_of.astype(np.int64)
        texts += candidate_texts(model, keys[0], keys[1], self.popularity_ranks(model))
        second = np.arange(len(distinct_rows), len(texts), dtype=np.int64)
        ids, mask = tokenise_pairs(self.tokenizer, np.array(texts, dtype=str), first, second, self.max_len)
        order = np.argsort(mask.sum(axis=1), kind="stable")  # similar lengths share a batch: less padding
        logits = np.empty(len(order), dtype=np.float32)
        with _threads(self.threads):
            logits[order] = ranker.score(self.encoder, ids[order], mask[order], batch_size=self.batch_size, device=self.device)
        return logits[inverse.ravel()]

    def candidate_logits(self, model: RecommenderModel, rows: np.ndarray, top: np.ndarray) -> np.ndarray:
        """rows x candidates logits (nan where `top` is -1)."""
        valid = top >= 0
        out = np.full(top.shape, np.nan, dtype=np.float32)
        out[valid] = self.pair_logits(model, np.repeat(rows, valid.sum(axis=1)), top[valid])
        return out

    def __call__(self, model: RecommenderModel, rows: np.ndarray, top: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return combine(candidate_base(scores, top), self.candidate_logits(model, rows, top), self.weight)


def combine(base: np.ndarray, logits: np.ndarray, weight: float) -> np.ndarray:
    """base + weight * logit; -inf where there is no candidate."""
    out = base.astype(np.float64) + (weight * logits if weight else 0.0)
    return np.where(np.isfinite(base) & np.isfinite(logits), out, -np.inf)


def rerank_columns(top: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(columns, scores) of each row's candidates in the order of the new scores (-1 pads last)."""
    order = np.argsort(-scores, axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(scores, order, axis=1)


def grouped_ndcg(groups: np.ndarray, labels: np.ndarray, scores: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k over customers of their pairs ordered by `scores` (a proxy on sampled candidates)."""
    values = []
    for group in np.unique(groups):
        picked = np.flatnonzero(groups == group)
        truth = set(np.flatnonzero(labels[picked]).tolist())
        if truth:
            values.append(metrics.ndcg_at_k(np.argsort(-scores[picked], kind="stable").tolist(), truth, k))
    return float(np.mean(values)) if values else float("nan")


def choose_weight(groups: np.ndarray, labels: np.ndarray, base: np.ndarray, logits: np.ndarray) -> tuple[float, dict[str, float]]:
    """The lambda with the best grouped NDCG@10 on held-out pairs (0, the hybrid alone, wins ties)."""
    trials = {str(w): grouped_ndcg(groups, labels, base + w * logits) for w in WEIGHTS}
    best = max(WEIGHTS, key=lambda w: (round(trials[str(w)], 6), -w))
    return float(best), trials


def load_folder(folder: Path, *, threads: int = 1, device: str = "cpu", batch_size: int = 256) -> CrossEncoderReranker:
    """A reranker from a folder written by ranker_train.run (model, tokenizer, metrics.json)."""
    from transformers import AutoModelForSequenceClassification

    metrics = json.loads((Path(folder) / "metrics.json").read_text())
    encoder = AutoModelForSequenceClassification.from_pretrained(str(folder))
    return CrossEncoderReranker(
        encoder=encoder, tokenizer=ranker.load_tokenizer(str(folder)), max_len=int(metrics["config"]["max_len"]),
        weight=float(metrics.get("weight", 0.0)), batch_size=batch_size, threads=threads, device=device,
    )


class _threads:
    """torch's intra-op threads for the block, restored after."""

    def __init__(self, n: int):
        self.n = n

    def __enter__(self):
        import torch

        self.before = torch.get_num_threads()
        torch.set_num_threads(max(1, self.n))

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.before)
