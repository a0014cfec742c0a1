"""The hybrid: y = alpha * CF + beta * CB + gamma * BA + delta * POP + epsilon * TIFU on per-customer z-scores.

CF is the ALS score, CB the content (embedding) score, BA the buy-again score, POP the
customer's country popularity and TIFU the TIFU-KNN score (tifu.py; epsilon 0 is the hybrid
before it). Each part is z-normalised within each customer's row, so the
weights trade parts of different scales. alpha is fixed at 1 (a ranking does not change when all
weights are scaled together) and beta, gamma, delta are chosen by grid search on a validation
window carved from the end of the training period, never on the test window: first the 5x5x5
grid of the four older parts, then coordinate ascent over all five weights from that optimum
(`coordinate_search`), so TIFU gets weight only where it raises the validation NDCG. Under the
"new items only" protocol the customer's own products are excluded, so gamma has no effect there.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

PARTS = ("cf", "cb", "ba", "pop", "tifu")


@dataclass(frozen=True)
class HybridWeights:
    alpha: float = 1.0  # CF (ALS)
    beta: float = 0.1  # CB (content)
    gamma: float = 0.5  # BA (buy again)
    delta: float = 0.1  # POP (popularity in the customer's country)
    epsilon: float = 0.0  # TIFU-KNN (0 in artefacts made before it: pickles take the class default)

    def as_dict(self) -> dict[str, float]:
        return {"alpha": self.alpha, "beta": self.beta, "gamma": self.gamma, "delta": self.delta, "epsilon": self.epsilon}

    def of(self, part: str) -> float:
        return getattr(self, WEIGHT_OF[part])


WEIGHT_OF = {"cf": "alpha", "cb": "beta", "ba": "gamma", "pop": "delta", "tifu": "epsilon"}


GRID = {"beta": (0.0, 0.1, 0.2, 0.4, 0.8), "gamma": (0.0, 0.25, 0.5, 1.0, 2.0), "delta": (0.0, 0.1, 0.3, 0.5, 1.0)}
COORDINATE_GRID = {**GRID, "epsilon": (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)}


def zscore_rows(scores: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """Each row as z-scores, in float32; the input is left as it was unless `in_place` (and float32).

    The arithmetic of `(x - x.mean()) / x.std()` step by step on one float32 array (bit-identical,
    tested), without std's second mean and the two full-size temporaries: 0.075 s against 0.027 s
    for 2,048 x 4,000 float64 scores, 7-10% of a block's whole top-N (docs/scale.md). In place, the
    copy goes too (a block's raw part scores are not read again: `block_candidates`)."""
    out = scores if in_place and scores.dtype == np.float32 else np.array(scores, dtype=np.float32)
    out -= out.mean(axis=1, keepdims=True)
    std = np.sqrt(np.square(out).mean(axis=1, keepdims=True))
    out /= np.maximum(std, 1e-6)
    return out


def normalise_parts(parts: dict[str, np.ndarray], *, in_place: bool = False) -> dict[str, np.ndarray]:
    """Every part's row z-scores; `in_place` overwrites float32 parts (the caller's arrays) instead of copying."""
    return {name: zscore_rows(parts[name], in_place=in_place) for name in PARTS if name in parts}


def blend(normalised: dict[str, np.ndarray], weights: HybridWeights) -> np.ndarray:
    """The weighted sum of the parts (a part of weight 0 is not read), with one scratch array for the products."""
    total = scratch = None
    for name, scores in normalised.items():
        weight = weights.of(name)
        if not weight:
            continue
        if total is None:
            total = np.multiply(scores, weight, out=np.empty_like(scores))  # the parts' dtype even for a numpy weight
            continue
        scratch = np.empty_like(total) if scratch is None else scratch
        total += np.multiply(scores, weight, out=scratch)
    return np.zeros_like(next(iter(normalised.values()))) if total is None else total


def grid_search(
    normalised: dict[str, np.ndarray], objective: Callable[[np.ndarray], float], grid: dict[str, tuple] | None = None
) -> tuple[HybridWeights, float, list[dict]]:
    """The weights with the best objective (e.g. validation NDCG@10), plus every trial tried."""
    grid = grid or GRID
    best, best_value, trials = HybridWeights(), -np.inf, []
    for beta, gamma, delta in itertools.product(grid["beta"], grid["gamma"], grid["delta"]):
        weights = HybridWeights(alpha=1.0, beta=beta, gamma=gamma, delta=delta)
        value = objective(blend(normalised, weights))
        trials.append({**weights.as_dict(), "value": value})
        if value > best_value:
            best, best_value = weights, value
    return best, float(best_value), trials


def coordinate_search(
    normalised: dict[str, np.ndarray], objective: Callable[[np.ndarray], float], start: HybridWeights,
    grid: dict[str, tuple] | None = None, rounds: int = 3,
) -> tuple[HybridWeights, float, list[dict]]:
    """From `start`, try every grid value of one weight at a time, keep the best, until a round changes nothing.

    The result is never worse on the objective than `start` (ties keep the current weight).
    """
    grid = grid or COORDINATE_GRID
    best, best_value = start, objective(blend(normalised, start))
    trials = [{**start.as_dict(), "value": best_value}]
    for _ in range(rounds):
        changed = False
        for name, values in grid.items():
            for value in values:
                weights = dataclasses.replace(best, **{name: value})
                if weights == best:
                    continue
                score = objective(blend(normalised, weights))
                trials.append({**weights.as_dict(), "value": score})
                if score > best_value + 1e-9:
                    best, best_value, changed = weights, score, True
        if not changed:
            break
    return best, float(best_value), trials
