"""Repeat/explore separation: how many of a customer's K slots go to re-buys, from their own re-buy rate.

Li et al. ("A Next Basket Recommendation Reality Check", TOIS 2023) show that most next-basket gains
come from repeat items, and that repeat and explore items are better ranked apart. Here the repeat
list is the customer's own products ranked by the hybrid tuned for "all items", the explore list the
products they never bought ranked by the hybrid tuned for "new items". The customer's re-buy rate
is the share of their (order, product) purchases that were re-buys, shrunk towards the shop's rate
with `pseudo` purchases; the repeat share of the K slots is sigmoid(a + b * logit(rate)), with a
and b grid-searched on the validation window (b = 0 is one share for every customer, so the search
says whether the per-customer rate helps). The first slots are the repeat list's, the rest the
explore list's; a customer with fewer own products than repeat slots gets more explore items.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

A_GRID = tuple(np.round(np.linspace(-3.0, 3.0, 13), 2))
B_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class SlotModel:
    a: float
    b: float
    prior: float  # the shop's re-buy rate the customer's is shrunk towards
    pseudo: float = 10.0

    def as_dict(self) -> dict[str, float]:
        return {"a": self.a, "b": self.b, "prior": self.prior, "pseudo": self.pseudo}


def shop_rebuy_rate(counts: sparse.csr_matrix) -> float:
    total = float(counts.sum())
    return float((total - counts.nnz) / total) if total else 0.0


def rebuy_rates(counts: sparse.csr_matrix, rows: np.ndarray, prior: float, pseudo: float = 10.0) -> np.ndarray:
    """Per row: (re-buys + pseudo * prior) / (purchases + pseudo); a purchase = one product in one order."""
    block = counts[rows]
    purchases = np.asarray(block.sum(axis=1)).ravel()
    rebuys = purchases - np.diff(block.indptr)
    return (rebuys + pseudo * prior) / (purchases + pseudo)


def repeat_slots(model: SlotModel, rates: np.ndarray, k: int) -> np.ndarray:
    rates = np.clip(rates, 1e-4, 1 - 1e-4)
    share = 1.0 / (1.0 + np.exp(-(model.a + model.b * np.log(rates / (1 - rates)))))
    return np.rint(k * share).astype(np.int64)


def mix_lists(repeat: np.ndarray, explore: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Each row: its first `slots` repeat columns (as many as it has), then its explore columns, then
    its remaining repeat columns (so a short explore list is topped up); -1 pads."""
    length = repeat.shape[1]
    taken = np.minimum(slots, (repeat >= 0).sum(axis=1))[:, None]
    position = np.arange(length)[None, :]
    sequence = np.hstack([np.where(position < taken, repeat, -1), explore, np.where(position >= taken, repeat, -1)])
    order = np.argsort(sequence < 0, axis=1, kind="stable")  # valid columns first, in sequence order
    return np.take_along_axis(sequence, order, axis=1)[:, :length]


def fit_slots(
    repeat: np.ndarray, explore: np.ndarray, rates: np.ndarray, prior: float, objective: Callable[[np.ndarray], float], k: int = 10,
) -> tuple[SlotModel, float, list[dict]]:
    """The (a, b) whose mixed lists score best on the objective (validation NDCG@k of each mixed top list)."""
    best, best_value, trials = None, -np.inf, []
    for a, b in itertools.product(A_GRID, B_GRID):
        model = SlotModel(a=float(a), b=float(b), prior=prior)
        value = objective(mix_lists(repeat, explore, repeat_slots(model, rates, k)))
        trials.append({"a": float(a), "b": float(b), "value": value})
        if value > best_value + 1e-12:
            best, best_value = model, value
    return best, float(best_value), trials
