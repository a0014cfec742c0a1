"""Offline evaluation on a time split, under the two protocols of the issue.

"all": every product counts, including what the customer bought before. "new": products the
customer bought in training are removed from both the list and the truth, and customers with
nothing new in the test window are left out. Customers are those with purchases both before and
after the split (a cold-start customer gets the popularity fallback, which popularity's row shows).
The hybrid's weights (and TIFU-KNN's settings and the repeat/explore split, tuning.py) are chosen
per protocol on a validation window cut from the end of the training period; the test window is
read only to score the final lists. Every row keeps its per-customer NDCG@10, so gains get paired
bootstrap intervals over customers (metrics.paired_bootstrap).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.ml.recommendations import catalogue, metrics, rules, slots, tifu, tuning
from mlcore.ml.recommendations.hybrid import HybridWeights, blend, grid_search, normalise_parts
from mlcore.ml.recommendations.interactions import time_split, truth_sets
from mlcore.ml.recommendations.model import RecommenderConfig, RecommenderModel, Reranker, fit_recommender, score_parts

PROTOCOLS = ("all", "new")


@dataclass(frozen=True)
class Split:
    model: RecommenderModel
    rows: np.ndarray
    truth: dict[str, dict[int, list[int] | set[int]]]
    history: np.ndarray  # rows x catalogue, bought in training
    train: pd.DataFrame | None = None  # the lines the model was fitted on (TIFU-KNN's tuning refits on them)


def prepare(lines: pd.DataFrame, products: pd.DataFrame, embeddings: np.ndarray, at: pd.Timestamp, config: RecommenderConfig,
            max_customers: int | None = None) -> Split:
    """Fit on lines before `at`; truth sets per protocol from lines on or after it.

    `max_customers`: evaluate a seeded sample of that many of the window's buyers (the tuning's
    score matrices are customers x catalogue: a million-customer shop's did not fit in 24 GB).
    """
    train, test = time_split(lines, at)
    as_of = pd.Timestamp(at).tz_localize("UTC") if pd.Timestamp(at).tzinfo is None else at
    model = fit_recommender(train, products, embeddings, config=dataclasses.replace(config, tifu=None), as_of=as_of)
    truth_all = truth_sets(test, model.data)
    rows = np.array(sorted(truth_all), dtype=np.int64)
    if max_customers is not None and len(rows) > max_customers:
        rows = np.sort(np.random.default_rng(0).choice(rows, size=max_customers, replace=False))
        truth_all = {int(r): truth_all[int(r)] for r in rows}
    model.config = config
    if config.tifu:  # the neighbours of the evaluated customers only: the others are never scored here
        model.tifu = tifu.fit_tifu(train, model.data, config.tifu, rows=rows)
    history = rules.history_mask(model.data.counts, rows)
    truth_new = {}
    for i, row in enumerate(rows):
        new = truth_all[int(row)] - set(np.flatnonzero(history[i]).tolist())
        if new:
            truth_new[int(row)] = new
    return Split(model=model, rows=rows, truth={"all": truth_all, "new": truth_new}, history=history, train=train)


def subset(split: Split, positions: np.ndarray) -> Split:
    """The same split restricted to some of its customers (positions into split.rows)."""
    rows = split.rows[positions]
    keep = set(rows.tolist())
    truth = {p: {r: t for r, t in split.truth[p].items() if r in keep} for p in PROTOCOLS}
    return Split(model=split.model, rows=rows, truth=truth, history=split.history[positions], train=split.train)


def lists_for(split: Split, scores: np.ndarray, protocol: str, n: int = 20) -> dict[int, list[int]]:
    if protocol == "new":
        scores = rules.apply_mask(scores, split.history)
    top = rules.top_columns(scores, n)
    return {int(row): top[i].tolist() for i, row in enumerate(split.rows)}


def score_protocol(split: Split, scores: np.ndarray, protocol: str) -> dict[str, float]:
    truth = split.truth[protocol]
    return metrics.summarise(lists_for(split, scores, protocol), truth, len(split.model.data.item_ids))


def choose_weights(split: Split, protocol: str, grid: dict[str, tuple] | None = None) -> tuple[HybridWeights, float]:
    """The hybrid weights with the best NDCG@10 on this split (a validation window)."""
    if not split.truth[protocol]:
        return HybridWeights(), float("nan")
    normalised = normalise_parts(score_parts(split.model, split.rows))
    best, value, _ = grid_search(normalised, lambda s: score_protocol(split, s, protocol)["ndcg@10"], grid)
    return best, value


def evaluate(
    lines: pd.DataFrame, products: pd.DataFrame, embeddings: np.ndarray, *, split_at: pd.Timestamp,
    validation_days: int = 60, config: RecommenderConfig | None = None, reranker: Reranker | None = None,
    rebuy_min_share: float = 0.05, fast: bool = False, bootstrap_samples: int = 2000,
) -> dict:
    """Metrics of every part, the hybrids (before / with TIFU-KNN / split lists) under both protocols, with intervals."""
    config = config or RecommenderConfig()
    train, _ = time_split(lines, split_at)
    validation = prepare(train, products, embeddings, pd.Timestamp(split_at) - pd.Timedelta(days=validation_days), config)
    tuned = tuning.tune(validation, fast=fast)
    test = prepare(lines, products, embeddings, split_at, dataclasses.replace(config, tifu=tuned.tifu))
    report = test_report(test, tuned, rebuy_min_share=rebuy_min_share, bootstrap_samples=bootstrap_samples)
    if reranker is not None:
        for protocol in PROTOCOLS:
            hybrid = blend(normalise_parts(score_parts(test.model, test.rows)), tuned.weights[protocol])
            report["protocols"][protocol]["hybrid+ranker"] = score_protocol(test, rerank_scores(test, hybrid, protocol, reranker), protocol)
    return report


def model_tops(test: Split, tuned: tuning.Tuned, n: int = 20) -> dict[str, dict[str, np.ndarray]]:
    """protocol -> model -> every test customer's top-n columns (the protocol's exclusions applied).

    "hybrid with TIFU-KNN" holds the coordinate ascent's weights and "repeat/explore split" the
    fitted split, whether or not validation let them be served (tuned.served names the served row).
    """
    raw = score_parts(test.model, test.rows)
    normalised = normalise_parts(raw)
    out = {}
    for protocol in PROTOCOLS:
        tops = {name: tuning.protocol_top(test, raw[name], protocol, n) for name in raw}
        tops["hybrid before"] = tuning.protocol_top(test, blend(normalised, tuned.before[protocol]), protocol, n)
        if protocol == "all":  # ALS as an explore list: on a shop without re-buys, the fair ALS baseline
            tops["cf, own products masked"] = tuning.protocol_top(test, raw["cf"], "new", n)
        if protocol in tuned.searched:
            tops["hybrid with TIFU-KNN"] = tuning.protocol_top(test, blend(normalised, tuned.searched[protocol]), protocol, n)
        if protocol == "all" and tuned.slot_fit is not None:
            repeat, explore, rates = tuning.split_lists(test, normalised, tuned.weights, n)
            tops["repeat/explore split"] = slots.mix_lists(repeat, explore, slots.repeat_slots(tuned.slot_fit, rates, 10))
        out[protocol] = tops
    return out


BASELINES = ("pop", "cf", "cf, own products masked", "ba", "tifu", "hybrid before")
CANDIDATES = ("tifu", "hybrid before", "hybrid with TIFU-KNN", "repeat/explore split")


def test_report(test: Split, tuned: tuning.Tuned, *, rebuy_min_share: float = 0.05, bootstrap_samples: int = 2000) -> dict:
    """Every model's metrics per protocol, and paired bootstrap intervals of NDCG@10 gains over the baselines."""
    n_items = len(test.model.data.item_ids)
    report: dict = {"tuned": tuned.as_dict(), "protocols": {}, "gains": {}, "customers": {p: len(test.truth[p]) for p in PROTOCOLS}}
    for protocol, tops in model_tops(test, tuned).items():
        lists = {name: {int(r): top[i].tolist() for i, r in enumerate(test.rows)} for name, top in tops.items()}
        report["protocols"][protocol] = {name: metrics.summarise(ls, test.truth[protocol], n_items) for name, ls in lists.items()}
        if not test.truth[protocol]:
            report["gains"][protocol] = {}
            continue
        truth = tuning.truth_matrix(test, protocol)
        ndcg = {name: tuning.per_customer(test, top, truth) for name, top in tops.items()}
        report["gains"][protocol] = {
            f"{model} vs {base}": metrics.paired_bootstrap(ndcg[model], ndcg[base], samples=bootstrap_samples)
            for model in CANDIDATES if model in ndcg for base in BASELINES if base != model and base in ndcg
        }
    hybrid = blend(normalise_parts(score_parts(test.model, test.rows)), tuned.weights["all"])
    ruled = rebuy_ruled(test, hybrid, rebuy_min_share)
    report["protocols"]["all"]["hybrid+rebuy_rule"] = score_protocol(test, ruled, "all")
    report["own_share@10"] = {"hybrid": own_share(test, hybrid), "hybrid+rebuy_rule": own_share(test, ruled)}
    return report


def rebuy_ruled(split: Split, scores: np.ndarray, min_share: float) -> np.ndarray:
    """Scores with the served re-buy rule: own products re-bought by too few of their buyers masked."""
    allowed = catalogue.rebuy_allowed(split.model.rebuy, min_share)
    return rules.apply_mask(scores, catalogue.own_one_off_mask(split.model.data.counts, split.rows, allowed))


def own_share(split: Split, scores: np.ndarray, k: int = 10) -> float:
    """Share of the top-k slots holding a product the customer bought in training."""
    top = rules.top_columns(scores, k)
    valid = top >= 0
    owned = np.take_along_axis(split.history, np.maximum(top, 0), axis=1) & valid
    return float(owned.sum() / max(valid.sum(), 1))


def rerank_scores(split: Split, hybrid: np.ndarray, protocol: str, reranker: Reranker, candidates: int = 20) -> np.ndarray:
    """Scores where the hybrid's top candidates are re-ordered by the re-ranker, the rest below."""
    masked, top = candidate_lists(split, hybrid, protocol, candidates)
    return placed_first(masked.shape, top, reranker(split.model, split.rows, top, masked))


def candidate_lists(split: Split, hybrid: np.ndarray, protocol: str, candidates: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """(the protocol's scores, each row's top candidate columns)."""
    masked = rules.apply_mask(hybrid, split.history) if protocol == "new" else hybrid
    return masked, rules.top_columns(masked, candidates)


def placed_first(shape: tuple[int, int], top: np.ndarray, new_scores: np.ndarray) -> np.ndarray:
    """A score matrix ranking the candidates by their new scores, above every other column."""
    out = np.full(shape, -np.inf)  # float64: the +1e6 offset must not round ties into float32
    finite = np.isfinite(new_scores)
    base = np.max(new_scores[finite]) if finite.any() else 0.0
    for i in range(len(top)):
        valid = (top[i] >= 0) & finite[i]
        out[i, top[i][valid]] = new_scores[i][valid] - base + 1e6  # candidates stay above everything else
    return out
