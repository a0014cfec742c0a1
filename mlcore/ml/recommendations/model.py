"""The trained recommender artefact: fit every part on one window, score blocks, take top-N.

`fit_recommender` builds the interactions, popularity, ALS, item-kNN and content profiles of a
training window; `score_parts` gives the four raw part scores for a block of customer rows;
`recommend_block` blends them, applies the rules and names a reason for every item. Blocks keep
memory bounded, so a million customers are scored a few thousand rows at a time.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from mlcore.ml.recommendations import buy_again, catalogue, cf, content, rules, slots, tifu
from mlcore.ml.recommendations.hybrid import HybridWeights, blend, normalise_parts
from mlcore.ml.recommendations.interactions import Interactions, build_interactions
from mlcore.ml.recommendations.popularity import Popularity, fit_popularity, popularity_scores

PRODUCT_COLUMNS = ("product_id", "sku", "title", "category")


@dataclass(frozen=True)
class RecommenderConfig:
    half_life_days: float = 180.0
    popularity_days: int = 90
    als: cf.AlsConfig = field(default_factory=cf.AlsConfig)
    knn_neighbours: int = 100
    exclude_recent_days: int = 14  # 0 keeps everything the customer bought
    rebuy_min_share: float = 0.0  # own products re-bought by fewer of their buyers are not listed again (0: all may)
    max_per_category: int = 3
    similar_n: int = 20
    tifu: tifu.TifuConfig | None = tifu.TifuConfig()  # None: no TIFU-KNN part (a plain default: older pickles read it)


@dataclass
class RecommenderModel:
    data: Interactions
    skus: np.ndarray
    titles: np.ndarray
    categories: np.ndarray
    popularity: Popularity
    als: cf.AlsFactors
    knn: sparse.csr_matrix
    embeddings: np.ndarray
    profiles: np.ndarray
    weights: HybridWeights
    config: RecommenderConfig
    timings: dict[str, float] = field(default_factory=dict)
    repurchase: np.ndarray | None = None  # buy_again.repurchase_share of `data`; None in artefacts made before it
    rebuy: np.ndarray | None = None  # catalogue.rebuy_share per column (shrunk to the category); None before it
    tifu: tifu.Tifu | None = None  # the TIFU-KNN part; None in artefacts made before it (or switched off)
    explore_weights: HybridWeights | None = None  # the "new items" blend that ranks the explore list
    slots: slots.SlotModel | None = None  # repeat/explore split; None: one blended list (as before)


@dataclass(frozen=True)
class Recommended:
    column: int
    score: float
    reason: str


def check_products(products: pd.DataFrame) -> None:
    missing = [c for c in PRODUCT_COLUMNS if c not in products.columns]
    if missing:
        raise ValueError(f"products frame lacks columns {missing}; it needs {list(PRODUCT_COLUMNS)}.")


def fit_recommender(
    lines: pd.DataFrame, products: pd.DataFrame, embeddings: np.ndarray, *,
    config: RecommenderConfig | None = None, weights: HybridWeights | None = None, as_of: pd.Timestamp | None = None,
    progress: Callable[[str], None] | None = None,
) -> RecommenderModel:
    """Fit every part on `lines` (already cut at the end of the window) over `products`' catalogue.

    `progress` is told each part's name and seconds as it finishes (the job row, the command's log).
    """
    config = config or RecommenderConfig()
    check_products(products)
    if len(embeddings) != len(products):
        raise ValueError(f"{len(embeddings)} embeddings for {len(products)} products: they must match row for row.")
    step = _Steps(progress)
    data = step("interactions", lambda: build_interactions(lines, products["product_id"].to_numpy(), as_of=as_of, half_life_days=config.half_life_days))
    pop = step("popularity", lambda: fit_popularity(lines, data, recent_days=config.popularity_days))
    als = step("als", lambda: cf.fit_als(data, config.als, progress=progress))
    knn = step("item_knn", lambda: cf.fit_item_knn(data, neighbours=config.knn_neighbours))
    profiles = step("content_profiles", lambda: content.customer_profiles(data.decayed, embeddings))
    tifu_part = step("tifu_knn", lambda: tifu.fit_tifu(lines, data, config.tifu)) if config.tifu else None
    categories = products["category"].fillna("").to_numpy(dtype=object)
    return RecommenderModel(
        data=data, skus=products["sku"].to_numpy(dtype=object), titles=products["title"].fillna("").to_numpy(dtype=object),
        categories=categories, popularity=pop, als=als, knn=knn,
        embeddings=embeddings, profiles=profiles, weights=weights or HybridWeights(), config=config, timings=step.timings,
        repurchase=buy_again.repurchase_share(data), rebuy=catalogue.rebuy_share(data.counts, categories), tifu=tifu_part,
    )


class _Steps:
    """Runs named fitting steps, keeping their seconds and telling `progress` after each."""

    def __init__(self, progress: Callable[[str], None] | None):
        self.progress, self.timings = progress, {}

    def __call__(self, name: str, work: Callable[[], object]):
        started = time.perf_counter()
        result = work()
        self.timings[name] = time.perf_counter() - started
        if self.progress:
            self.progress(f"fitted {name} in {self.timings[name]:.1f} s")
        return result


def score_parts(model: RecommenderModel, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Raw scores of each part for these customer rows (rows x catalogue)."""
    parts = {
        "cf": cf.als_scores(model.als, rows),
        "cb": content.content_scores(model.profiles[rows], model.embeddings),
        "ba": buy_again.buy_again_scores(model.data, rows, model.repurchase),
        "pop": popularity_scores(model.popularity, model.data.user_country[rows]),
    }
    if getattr(model, "tifu", None) is not None:
        parts["tifu"] = tifu.tifu_scores(model.tifu, rows)
    return parts


# (model, rows, candidate columns per row, blended scores) -> new scores of those candidates
Reranker = Callable[["RecommenderModel", np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def recommend_block(
    model: RecommenderModel, rows: np.ndarray, k: int, *, exclude_recent_days: int | None = None,
    reranker: Reranker | None = None, rerank_candidates: int = 20,
) -> list[list[Recommended]]:
    """Top-k per row with the rules applied and the reason of every item.

    With a reranker, the hybrid's first `rerank_candidates` are re-ordered (and re-scored) by it
    and stay above the rest of the hybrid's list; reasons still name the hybrid part behind each item.
    """
    normalised, ranked, listed = block_candidates(model, rows, k, exclude_recent_days=exclude_recent_days, reranker=reranker, rerank_candidates=rerank_candidates)
    out = []
    for i, row in enumerate(rows):
        score_of = dict(zip(ranked[i].tolist(), listed[i].tolist(), strict=True))
        chosen = rules.diversify(ranked[i], model.categories, k, model.config.max_per_category)
        out.append([Recommended(c, float(score_of[c]), reason_for(model, normalised, i, int(row), c, _weights_behind(model, int(row), c))) for c in chosen])
    return out


def block_candidates(
    model: RecommenderModel, rows: np.ndarray, k: int, *, exclude_recent_days: int | None = None,
    reranker: Reranker | None = None, rerank_candidates: int = 20,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """(normalised part scores, ranked candidate columns, their scores) of a block, best first.

    The blended, masked scores of the block with a partial sort (argpartition) to k * 4 candidates
    (or the reranker's); `recommend_block` and `mlcore.ml.recommendations.topn` both list from these.
    """
    days = model.config.exclude_recent_days if exclude_recent_days is None else exclude_recent_days
    normalised = normalise_parts(score_parts(model, rows), in_place=True)  # the raw parts are not read again
    scores = served_mask(model, rows, blend(normalised, model.weights), days, in_place=True)
    length = k * 4 if reranker is None else max(k * 4, rerank_candidates)
    if getattr(model, "slots", None) is not None:
        ranked, listed = _split_lists(model, rows, normalised, scores, days, k, length)
    else:
        ranked = rules.top_columns(scores, length)
        listed = np.take_along_axis(scores, np.maximum(ranked, 0), axis=1).astype(np.float64)
    if reranker is not None:
        ranked, listed = _reranked(model, rows, ranked, listed, scores, reranker, rerank_candidates)
    return normalised, ranked, listed


def served_mask(model: RecommenderModel, rows: np.ndarray, scores: np.ndarray, days: int, *, in_place: bool = False) -> np.ndarray:
    """The serving rules on a block of scores: the recent-purchase mask and the learned re-buy rule.

    Both only touch products the customer bought, so they are set cell by cell from the block's sparse
    rows; a copy of `scores` is masked unless `in_place` (a caller's fresh blend)."""
    cells = []
    if days > 0:
        cells.append(rules.recent_purchase_cells(model.data.last_days, rows, days))
    if model.config.rebuy_min_share > 0 and model.rebuy is not None:
        allowed = catalogue.rebuy_allowed(model.rebuy, model.config.rebuy_min_share)
        cells.append(catalogue.own_one_off_cells(model.data.counts, rows, allowed))
    if not cells:
        return scores
    masked = scores if in_place else scores.copy()
    for cell in cells:
        masked[cell] = -np.inf
    return masked


def _split_lists(model, rows, normalised, scores, days, k, length):
    """Repeat/explore lists mixed by the customer's predicted repeat slots (slots.py).

    Returns (columns, their scores); the scores fall with the rank.
    """
    own = rules.history_mask(model.data.counts, rows)
    repeat = rules.top_columns(np.where(own, scores, -np.inf), length)
    explore_scores = served_mask(model, rows, blend(normalised, model.explore_weights or model.weights), days, in_place=True)
    explore = rules.top_columns(np.where(own, -np.inf, explore_scores), length)
    rates = slots.rebuy_rates(model.data.counts, rows, model.slots.prior, model.slots.pseudo)
    ranked = slots.mix_lists(repeat, explore, slots.repeat_slots(model.slots, rates, k))
    source = np.where(np.take_along_axis(own, np.maximum(ranked, 0), axis=1), scores.shape[1], 0)
    both = np.hstack([explore_scores, scores])
    listed = np.take_along_axis(both, np.maximum(ranked, 0) + source, axis=1).astype(np.float64)
    # stored scores fall with the rank: an explore item keeps its blended score, shifted below the repeat items above it
    listed = np.minimum.accumulate(np.where(ranked >= 0, listed, np.inf), axis=1)
    listed = np.where(ranked >= 0, listed, -np.inf)
    return ranked, listed


def _weights_behind(model: RecommenderModel, row: int, column: int) -> HybridWeights:
    """The blend that ranked this item: the explore list's for a product new to a split-list customer."""
    if getattr(model, "slots", None) is None or model.explore_weights is None or model.data.counts[row, column] > 0:
        return model.weights
    return model.explore_weights


def _reranked(model, rows, ranked, listed, scores, reranker: Reranker, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first n candidates in the reranker's order with its scores, placed above the rest."""
    head = ranked[:, :n]
    new = np.asarray(reranker(model, rows, head, scores), dtype=np.float64)
    order = np.argsort(np.where(head >= 0, -new, np.inf), axis=1, kind="stable")
    head, new = np.take_along_axis(head, order, axis=1), np.take_along_axis(new, order, axis=1)
    # the tail keeps the hybrid's order, scored just below the lowest re-ranked candidate
    finite = np.where(np.isfinite(new), new, np.inf).min(axis=1, keepdims=True)
    floor = np.where(np.isfinite(finite), finite, 0.0)
    tail = floor - 1.0 - 1e-3 * np.arange(ranked.shape[1] - head.shape[1])
    tail = np.where(ranked[:, n:] >= 0, tail, -np.inf)
    return np.hstack([head, ranked[:, n:]]), np.hstack([new, tail])


def reason_for(
    model: RecommenderModel, normalised: dict[str, np.ndarray], i: int, row: int, column: int, weights: HybridWeights | None = None,
) -> str:
    """Why this item: the part that contributed most to its blended score, in words."""
    weights = weights or model.weights
    contributions = {name: weights.of(name) * normalised[name][i, column] for name in normalised if weights.of(name)}
    part = max(contributions, key=contributions.get) if contributions else "pop"
    history = model.data.counts[row].indices
    bought = int(model.data.counts[row, column])
    if part in ("ba", "tifu") and bought:
        return "you bought this once" if bought == 1 else f"you bought this {bought} times"
    if part == "tifu":
        return "customers like you bought this"
    if part == "cf" and len(history):
        anchor = history[np.argmax(model.knn[history, column].toarray().ravel())]
        return f"bought together with {model.titles[anchor]}"
    if part in ("cf", "cb") and len(history):
        anchor = history[np.argmax(model.embeddings[history] @ model.embeddings[column])]
        return f"similar to {model.titles[anchor]}"
    return popular_reason(model.data.user_country[row])


def popular_reason(country: str) -> str:
    return f"popular in {country}" if country else "popular in the shop"


def popular_list(model: RecommenderModel, country: str, k: int) -> list[Recommended]:
    """The fallback list of a customer with no history: their country's popular products."""
    scores = popularity_scores(model.popularity, np.array([country], dtype=object))
    ranked = rules.top_columns(scores, k * 4)[0]
    reason = popular_reason(country if country in model.popularity.country_scores else "")
    return [Recommended(c, float(scores[0, c]), reason) for c in rules.diversify(ranked, model.categories, k, model.config.max_per_category)]


def similar_table(model: RecommenderModel, *, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """(columns, scores) of every product's most similar products: content cosine plus co-purchase."""
    n = model.config.similar_n
    columns, scores = [], []
    for start in range(0, len(model.embeddings), block):
        sims = model.embeddings[start:start + block] @ model.embeddings.T
        sims += 0.5 * model.knn[start:start + block].toarray()
        np.fill_diagonal(sims[:, start:start + block], -np.inf)
        top = rules.top_columns(sims, n)
        columns.append(top)
        scores.append(np.take_along_axis(sims, np.maximum(top, 0), axis=1))
    return np.vstack(columns), np.vstack(scores).astype(np.float32)
