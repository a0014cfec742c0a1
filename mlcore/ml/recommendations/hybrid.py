"""The hybrid: y = alpha * CF + beta * CB + gamma * BA + delta * POP on per-customer z-scores.

CF is the ALS score, CB the content (embedding) score, BA the buy-again score and POP the
customer's country popularity. Each part is z-normalised within each customer's row, so the
weights trade parts of different scales. alpha is fixed at 1 (a ranking does not change when all
weights are scaled together) and beta, gamma, delta are chosen by grid search on a validation
window carved from the end of the training period, never on the test window. Under the
"new items only" protocol the customer's own products are excluded, so gamma has no effect there.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

PARTS = ("cf", "cb", "ba", "pop")


@dataclass(frozen=True)
class HybridWeights:
    alpha: float = 1.0  # CF (ALS)
    beta: float = 0.1  # CB (content)
    gamma: float = 0.5  # BA (buy again)
    delta: float = 0.1  # POP (popularity in the customer's country)

    def as_dict(self) -> dict[str, float]:
        return {"alpha": self.alpha, "beta": self.beta, "gamma": self.gamma, "delta": self.delta}

    def of(self, part: str) -> float:
        return {"cf": self.alpha, "cb": self.beta, "ba": self.gamma, "pop": self.delta}[part]


GRID = {"beta": (0.0, 0.1, 0.2, 0.4, 0.8), "gamma": (0.0, 0.25, 0.5, 1.0, 2.0), "delta": (0.0, 0.1, 0.3, 0.5, 1.0)}


def zscore_rows(scores: np.ndarray) -> np.ndarray:
    scores = scores.astype(np.float32, copy=False)
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.maximum(std, 1e-6)


def normalise_parts(parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: zscore_rows(parts[name]) for name in PARTS if name in parts}


def blend(normalised: dict[str, np.ndarray], weights: HybridWeights) -> np.ndarray:
    total = np.zeros_like(next(iter(normalised.values())))
    for name, scores in normalised.items():
        weight = weights.of(name)
        if weight:
            total += weight * scores
    return total


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
