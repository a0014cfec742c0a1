"""Training pairs of the cross-encoder ranker, their export file, and tokenising them once.

A pair is "customer history text [SEP] candidate product text" with label 1 when the customer
bought the candidate in the label window. Candidates are the hybrid's top-C of a recommender
fitted before that window; every positive candidate is kept and negatives are sampled from the
remaining candidates. The export is one .npz (plain arrays, no pickle) so training can run on a
GPU host without Django. Texts are tokenised once per distinct text, and the pair tensor is
assembled once, before the first step.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlcore.ml.recommend import rules
from mlcore.ml.recommend.hybrid import blend, normalise_parts
from mlcore.ml.recommend.model import RecommenderModel, score_parts

EXPORT_KEYS = ("texts", "first", "second", "labels", "groups")


@dataclass(frozen=True)
class PairSet:
    texts: np.ndarray  # distinct texts (unicode)
    first: np.ndarray  # pair -> index of the customer's history text
    second: np.ndarray  # pair -> index of the candidate's text
    labels: np.ndarray  # float32 0/1
    groups: np.ndarray  # pair -> customer row (for grouped metrics and splits)


def history_texts(model: RecommenderModel, rows: np.ndarray, *, max_items: int = 12) -> list[str]:
    """The titles of the customer's most recently (and often) bought products, best first."""
    out = []
    for row in rows:
        start, end = model.data.decayed.indptr[row], model.data.decayed.indptr[row + 1]
        cols, weights = model.data.decayed.indices[start:end], model.data.decayed.data[start:end]
        best = cols[np.argsort(-weights)[:max_items]]
        out.append("; ".join(str(model.titles[c]).lower() for c in best))
    return out


def product_text(model: RecommenderModel, column: int) -> str:
    return f"{str(model.titles[column]).lower()}. {str(model.categories[column]).lower()}"


def candidate_columns(model: RecommenderModel, rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(top-n columns, blended scores) of the hybrid for these rows."""
    scores = blend(normalise_parts(score_parts(model, rows)), model.weights)
    return rules.top_columns(scores, n), scores


def build_pairs(
    model: RecommenderModel, truth: dict[int, set[int]], *, candidates: int = 20, negatives_per_positive: int = 3, seed: int = 0
) -> PairSet:
    """Pairs for the customers of `truth` (row -> columns bought in the label window)."""
    rng = np.random.default_rng(seed)
    rows = np.array(sorted(truth), dtype=np.int64)
    top, _ = candidate_columns(model, rows, candidates)
    histories = history_texts(model, rows)
    texts: dict[str, int] = {}
    first, second, labels, groups = [], [], [], []
    for i, row in enumerate(rows):
        cands = top[i][top[i] >= 0]
        positive = [c for c in cands if c in truth[int(row)]]
        negative = [c for c in cands if c not in truth[int(row)]]
        if not positive or not negative:
            continue
        take = min(len(negative), negatives_per_positive * len(positive))
        chosen = positive + rng.choice(negative, size=take, replace=False).tolist()
        h = texts.setdefault(histories[i], len(texts))
        for c in chosen:
            first.append(h)
            second.append(texts.setdefault(product_text(model, int(c)), len(texts)))
            labels.append(1.0 if c in truth[int(row)] else 0.0)
            groups.append(int(row))
    return PairSet(
        texts=np.array(list(texts), dtype=str), first=np.array(first, dtype=np.int64), second=np.array(second, dtype=np.int64),
        labels=np.array(labels, dtype=np.float32), groups=np.array(groups, dtype=np.int64),
    )


def export_pairs(pairs: PairSet, path: str | Path) -> Path:
    path = Path(path)
    np.savez_compressed(path, **{k: getattr(pairs, k) for k in EXPORT_KEYS})
    return path if path.suffix == ".npz" else path.with_suffix(path.suffix + ".npz")


def load_pairs(path: str | Path) -> PairSet:
    with np.load(Path(path), allow_pickle=False) as data:
        missing = [k for k in EXPORT_KEYS if k not in data.files]
        if missing:
            raise ValueError(f"{path}: ranker export lacks arrays {missing} (expected {list(EXPORT_KEYS)}).")
        return PairSet(**{k: data[k] for k in EXPORT_KEYS})


def tokenise_pairs(tokenizer, texts: np.ndarray, first: np.ndarray, second: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask) of every pair, built once from each distinct text's tokens.

    The candidate keeps up to half the length; the history fills the rest ([CLS] h [SEP] c [SEP]).
    """
    encoded = tokenizer(list(map(str, texts)), add_special_tokens=False, truncation=True, max_length=max_len)["input_ids"]
    cls, sep, pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id or 0
    ids = np.full((len(first), max_len), pad, dtype=np.int64)
    mask = np.zeros((len(first), max_len), dtype=np.int64)
    budget = max_len - 3
    for n, (a, b) in enumerate(zip(first, second, strict=True)):
        cand = encoded[b][: budget // 2]
        hist = encoded[a][: budget - len(cand)]
        seq = [cls, *hist, sep, *cand, sep]
        ids[n, : len(seq)] = seq
        mask[n, : len(seq)] = 1
    return ids, mask

