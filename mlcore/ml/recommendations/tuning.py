"""Everything chosen on the validation window: TIFU-KNN's settings, the hybrid weights, the slot split.

Order: (1) TIFU-KNN's group size, decays, neighbours and blend, by its own NDCG@10 (all items);
(2) per protocol, the older 5x5x5 grid of the four first parts ("hybrid before"), then coordinate
ascent over all five weights from there; (3) the repeat/explore slot model. A new choice (the
coordinate-ascent weights, the slot split) replaces the older one only when its validation gain
is a gain by the paired bootstrap (95% interval over validation customers above 0): a lift inside
the noise is not served. The objective is always mean NDCG@10 over the validation customers.
"""
from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

import numpy as np

from mlcore.ml.recommendations import metrics, rules, slots, tifu
from mlcore.ml.recommendations.hybrid import GRID, HybridWeights, blend, coordinate_search, grid_search, normalise_parts

TIFU_GRID = {"group_size": (3, 7, 14), "within_decay": (0.8, 1.0), "across_decay": (0.6, 0.9), "neighbours": (50, 300)}
TIFU_BLENDS = (0.5, 0.7, 0.9, 1.0)
FAST_TIFU_GRID = {"group_size": (7,), "within_decay": (0.9,), "across_decay": (0.7,), "neighbours": (300,)}
FAST_TIFU_BLENDS = (0.9,)
PROTOCOLS = ("all", "new")


@dataclass
class Tuned:
    tifu: tifu.TifuConfig | None
    before: dict[str, HybridWeights]  # per protocol, the four older parts
    weights: dict[str, HybridWeights]  # per protocol, with TIFU
    slots: slots.SlotModel | None  # served: only when it beat the plain hybrid on validation
    slot_fit: slots.SlotModel | None = None  # the fitted split, served or not (the bench reports it)
    searched: dict[str, HybridWeights] = field(default_factory=dict)  # per protocol, the coordinate ascent's weights, served or not
    validation: dict[str, float] = field(default_factory=dict)  # NDCG@10 of each choice on the validation window

    def as_dict(self) -> dict:
        return {"tifu": self.tifu.as_dict() if self.tifu else None,
                "before": {p: w.as_dict() for p, w in self.before.items()}, "weights": {p: w.as_dict() for p, w in self.weights.items()},
                "slots": self.slots.as_dict() if self.slots else None,
                "slot_fit": self.slot_fit.as_dict() if self.slot_fit else None, "served": {p: self.served(p) for p in self.weights},
                "validation_ndcg@10": self.validation}

    def served(self, protocol: str) -> str:
        """The name of the evaluation row the platform serves under this protocol."""
        if protocol == "all" and self.slots is not None:
            return "repeat/explore split"
        return "hybrid with TIFU-KNN" if self.weights[protocol] != self.before.get(protocol) else "hybrid before"


def truth_matrix(split, protocol: str) -> np.ndarray:
    """rows x catalogue, True where the customer bought the product in the window (protocol's truth)."""
    out = np.zeros((len(split.rows), len(split.model.data.item_ids)), dtype=bool)
    position = {int(r): i for i, r in enumerate(split.rows)}
    for row, items in split.truth[protocol].items():
        out[position[row], list(items)] = True
    return out


def protocol_top(split, scores: np.ndarray, protocol: str, n: int = 10) -> np.ndarray:
    if protocol == "new":
        scores = rules.apply_mask(scores, split.history)
    return rules.top_columns(scores, n)


def per_customer(split, top: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """NDCG@10 per customer of the protocol (the customers without truth dropped, in row order)."""
    values = metrics.ndcg_rows(top, truth)
    return values[~np.isnan(values)]


def objective(split, protocol: str):
    truth = truth_matrix(split, protocol)
    return lambda scores: float(np.mean(per_customer(split, protocol_top(split, scores, protocol), truth)))


def wins(split, protocol: str, new_top: np.ndarray, old_top: np.ndarray) -> dict:
    """The paired bootstrap of new vs old NDCG@10 on the validation customers (`significant` and gain > 0: serve it)."""
    truth = truth_matrix(split, protocol)
    return metrics.paired_bootstrap(per_customer(split, new_top, truth), per_customer(split, old_top, truth))


def tune_tifu(split, *, fast: bool = False) -> tuple[tifu.TifuConfig, float]:
    """The TIFU-KNN settings with the best NDCG@10 (all items) on the validation split; refits split.model.tifu."""
    grid, blends = (FAST_TIFU_GRID, FAST_TIFU_BLENDS) if fast else (TIFU_GRID, TIFU_BLENDS)
    score = objective(split, "all")
    best, best_value = None, -np.inf
    for m, rb, rg in itertools.product(grid["group_size"], grid["within_decay"], grid["across_decay"]):
        base = tifu.TifuConfig(group_size=m, within_decay=rb, across_decay=rg)
        vectors = tifu.customer_vectors(split.train, split.model.data, base)
        for k in grid["neighbours"]:
            part = tifu.Tifu(vectors=vectors, neighbours=tifu.nearest_neighbours(vectors, k, rows=split.rows), config=dataclasses.replace(base, neighbours=k))
            for alpha in blends:
                value = score(tifu.tifu_scores(part, split.rows, alpha))
                if value > best_value + 1e-9:
                    best, best_value = dataclasses.replace(part, config=dataclasses.replace(part.config, blend=alpha)), value
    split.model.tifu = best
    return best.config, float(best_value)


def tune(split, *, fast: bool = False, fast_grid: dict | None = None, protocols: tuple[str, ...] = PROTOCOLS, with_tifu: bool = True) -> Tuned:
    """Every validation choice on one validation split (see the module docstring)."""
    validation: dict = {}
    config = None
    if with_tifu:
        config, validation["tifu"] = tune_tifu(split, fast=fast)
    parts = normalise_parts(_parts(split), in_place=True)  # the raw part scores are not read again: one copy of the validation block, not two
    older = {name: values for name, values in parts.items() if name != "tifu"}
    before, weights, searched_weights = {}, {}, {}
    for protocol in protocols:
        if not split.truth[protocol]:
            before[protocol] = weights[protocol] = HybridWeights()
            continue
        goal = objective(split, protocol)
        before[protocol], validation[f"hybrid_before_{protocol}"], _ = grid_search(older, goal, fast_grid or GRID)
        weights[protocol], validation[f"hybrid_{protocol}"] = before[protocol], validation[f"hybrid_before_{protocol}"]
        if with_tifu:
            searched, value, _ = coordinate_search(parts, goal, before[protocol])
            searched_weights[protocol] = searched
            test = wins(split, protocol, protocol_top(split, blend(parts, searched), protocol), protocol_top(split, blend(parts, before[protocol]), protocol))
            validation[f"searched_{protocol}"] = {"weights": searched.as_dict(), "ndcg@10": value, "vs_before": test}
            if test["significant"] and test["gain"] > 0:
                weights[protocol], validation[f"hybrid_{protocol}"] = searched, value
    fitted = served = None
    if "all" in protocols and "new" in protocols and split.truth["all"]:
        fitted, validation["split_all"] = fit_slot_model(split, parts, weights)
        repeat, explore, rates = split_lists(split, parts, weights)
        test = wins(split, "all", slots.mix_lists(repeat, explore, slots.repeat_slots(fitted, rates, 10)), protocol_top(split, blend(parts, weights["all"]), "all"))
        validation["split_vs_hybrid"] = test
        served = fitted if test["significant"] and test["gain"] > 0 else None  # else: one blended list
    return Tuned(tifu=config, before=before, weights=weights, slots=served, slot_fit=fitted, searched=searched_weights, validation=validation)


def _parts(split) -> dict[str, np.ndarray]:
    from mlcore.ml.recommendations.model import score_parts

    return score_parts(split.model, split.rows)


def split_lists(split, parts: dict[str, np.ndarray], weights: dict[str, HybridWeights], n: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(repeat list, explore list, re-buy rates) of the split's customers: own products by the "all" blend, the rest by "new"."""
    own = split.history
    repeat = rules.top_columns(np.where(own, blend(parts, weights["all"]), -np.inf), n)
    explore = rules.top_columns(np.where(own, -np.inf, blend(parts, weights["new"])), n)
    prior = slots.shop_rebuy_rate(split.model.data.counts)
    return repeat, explore, slots.rebuy_rates(split.model.data.counts, split.rows, prior)


def fit_slot_model(split, parts: dict[str, np.ndarray], weights: dict[str, HybridWeights]) -> tuple[slots.SlotModel, float]:
    repeat, explore, rates = split_lists(split, parts, weights)
    truth = truth_matrix(split, "all")
    prior = slots.shop_rebuy_rate(split.model.data.counts)
    model, value, _ = slots.fit_slots(repeat, explore, rates, prior, lambda top: float(np.mean(per_customer(split, top, truth))))
    return model, value
