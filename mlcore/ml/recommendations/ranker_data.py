"""Training pairs of the cross-encoder ranker, their export file, and tokenising them once.

A pair is "customer history text [SEP] candidate text" with label 1 when the customer bought the
candidate in the label window. The candidate text leads with the customer's relation to the
product ("bought 3 times, last 4 weeks ago", "never bought", "top 50 in united kingdom"), then
its title and category: repeat buying dominates this shop, and a cross-encoder can only learn
from what is in its input. Candidates are the hybrid's top-C of a recommender fitted before the
label window; every positive candidate is kept and negatives are sampled from the remaining
candidates. Each pair also carries `base`, the hybrid's z-score of the candidate within the
customer's candidate list, so the blend weight of the ranker can be chosen on held-out customers. The export is one .npz (plain arrays, no pickle) so training can run on a
GPU host without Django. Texts are tokenised once per distinct text, and the pair tensor is
assembled once, before the first step.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlcore.ml.recommendations import rules
from mlcore.ml.recommendations.hybrid import blend, normalise_parts
from mlcore.ml.recommendations.model import RecommenderModel, score_parts

EXPORT_KEYS = ("texts", "first", "second", "labels", "groups", "base")
POPULARITY_BANDS = (10, 50, 200, 1000)


@dataclass(frozen=True)
class PairSet:
    texts: np.ndarray  # distinct texts (unicode)
    first: np.ndarray  # pair -> index of the customer's history text
    second: np.ndarray  # pair -> index of the candidate's text
    labels: np.ndarray  # float32 0/1
    groups: np.ndarray  # pair -> customer row (for grouped metrics and splits)
    base: np.ndarray  # pair -> hybrid z-score of the candidate among the customer's candidates


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


def relation_texts(model: RecommenderModel, rows: np.ndarray, columns: np.ndarray, ranks: dict[str, np.ndarray] | None = None) -> list[str]:
    """The customer's relation to each candidate, in words (one per (row, column) pair)."""
    counts = np.asarray(model.data.counts[rows, columns]).ravel() if len(rows) else np.zeros(0)
    last = np.asarray(model.data.last_days[rows, columns]).ravel() if len(rows) else np.zeros(0)
    ranks = ranks if ranks is not None else popularity_ranks(model)
    out = []
    for row, column, n, days in zip(rows, columns, counts, last, strict=True):
        bought = f"bought {int(n)} times, last {_age(days - 1.0)}" if n else "never bought"
        country = str(model.data.user_country[row]) or "the shop"
        rank = ranks.get(country, ranks[""])[column]
        band = next((f"top {b}" for b in POPULARITY_BANDS if rank < b), "rarely bought")
        out.append(f"{bought}; {band} in {country.lower()}")
    return out


def _age(days: float) -> str:
    if days < 7:
        return "this week"
    weeks = int(days // 7)
    return f"{weeks} weeks ago" if weeks < 52 else "over a year ago"


def popularity_ranks(model: RecommenderModel) -> dict[str, np.ndarray]:
    """country -> each column's rank in that country's popular list ("" is the whole shop); compute once."""
    lists = {"": model.popularity.global_scores, **model.popularity.country_scores}
    return {country: np.argsort(np.argsort(-scores, kind="stable")) for country, scores in lists.items()}


def candidate_texts(model: RecommenderModel, rows: np.ndarray, columns: np.ndarray, ranks: dict[str, np.ndarray] | None = None) -> list[str]:
    """"relation. title. category" of each (row, column) pair."""
    relations = relation_texts(model, rows, columns, ranks)
    return [f"{r}. {product_text(model, int(c))}" for r, c in zip(relations, columns, strict=True)]


def candidate_columns(model: RecommenderModel, rows: np.ndarray, n: int, *, exclude_history: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(top-n columns, blended scores) of the hybrid for these rows, optionally only new products."""
    scores = blend(normalise_parts(score_parts(model, rows)), model.weights)
    if exclude_history:
        scores = rules.apply_mask(scores, rules.history_mask(model.data.counts, rows))
    return rules.top_columns(scores, n), scores


def candidate_base(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
    """The hybrid's z-score of each candidate within its row's candidates (nan where top is -1)."""
    picked = np.take_along_axis(scores, np.maximum(top, 0), axis=1).astype(np.float64)
    picked[top < 0] = np.nan
    mean = np.nanmean(picked, axis=1, keepdims=True)
    std = np.nanstd(picked, axis=1, keepdims=True)
    return ((picked - mean) / np.maximum(std, 1e-6)).astype(np.float32)


def build_pairs(
    model: RecommenderModel, truth: dict[int, set[int]], *, candidates: int = 20, negatives_per_positive: int = 3,
    seed: int = 0, exclude_history: bool = False,
) -> PairSet:
    """Pairs for the customers of `truth` (row -> columns bought in the label window)."""
    rng = np.random.default_rng(seed)
    rows = np.array(sorted(truth), dtype=np.int64)
    top, scores = candidate_columns(model, rows, candidates, exclude_history=exclude_history)
    base = candidate_base(scores, top)
    picked_rows, picked_cols, picked_base, labels = [], [], [], []
    for i, row in enumerate(rows):
        valid = np.flatnonzero(top[i] >= 0)
        bought = np.array([top[i][j] in truth[int(row)] for j in valid], dtype=bool)
        if bought.all() or not bought.any():
            continue
        negatives = valid[~bought]
        take = min(len(negatives), negatives_per_positive * int(bought.sum()))
        chosen = np.concatenate([valid[bought], rng.choice(negatives, size=take, replace=False)])
        picked_rows.extend([int(row)] * len(chosen))
        picked_cols.extend(top[i][chosen].tolist())
        picked_base.extend(base[i][chosen].tolist())
        labels.extend([1.0] * int(bought.sum()) + [0.0] * take)
    return pair_set(model, np.array(picked_rows, dtype=np.int64), np.array(picked_cols, dtype=np.int64),
                    labels=np.array(labels, dtype=np.float32), base=np.array(picked_base, dtype=np.float32))


def pair_set(model: RecommenderModel, rows: np.ndarray, columns: np.ndarray, *, labels: np.ndarray, base: np.ndarray) -> PairSet:
    """Distinct texts and the index arrays of (history, candidate) pairs."""
    index: dict[str, int] = {}
    distinct_rows, inverse = np.unique(rows, return_inverse=True)
    histories = np.array([index.setdefault(h, len(index)) for h in history_texts(model, distinct_rows)], dtype=np.int64)
    second = np.array([index.setdefault(t, len(index)) for t in candidate_texts(model, rows, columns)], dtype=np.int64)
    return PairSet(
        texts=np.array(list(index), dtype=str), first=histories[inverse] if len(rows) else np.zeros(0, dtype=np.int64),
        second=second, labels=labels, groups=rows, base=base,
    )


def merge_pairs(a: PairSet, b: PairSet) -> PairSet:
    """One pair set from two (texts re-indexed; a pair present in both is kept once)."""
    texts = np.concatenate([a.texts, b.texts])
    distinct, inverse = np.unique(texts, return_inverse=True)
    first = np.concatenate([inverse[a.first], inverse[len(a.texts) + b.first]])
    second = np.concatenate([inverse[a.second], inverse[len(a.texts) + b.second]])
    _, keep = np.unique(np.stack([first, second]), axis=1, return_index=True)
    keep = np.sort(keep)
    return PairSet(
        texts=distinct, first=first[keep], second=second[keep], labels=np.concatenate([a.labels, b.labels])[keep],
        groups=np.concatenate([a.groups, b.groups])[keep], base=np.concatenate([a.base, b.base])[keep],
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

    The candidate (relation, title, category) keeps up to 3/5 of the length; the history fills the
    rest ([CLS] h [SEP] c [SEP]).
    """
    encoded = tokenizer(list(map(str, texts)), add_special_tokens=False, truncation=True, max_length=max_len)["input_ids"]
    cls, sep, pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id or 0
    ids = np.full((len(first), max_len), pad, dtype=np.int64)
    mask = np.zeros((len(first), max_len), dtype=np.int64)
    budget = max_len - 3
    for n, (a, b) in enumerate(zip(first, second, strict=True)):
        cand = encoded[b][: budget * 3 // 5]
        hist = encoded[a][: budget - len(cand)]
        seq = [cls, *hist, sep, *cand, sep]
        ids[n, : len(seq)] = seq
        mask[n, : len(seq)] = 1
    return ids, mask

