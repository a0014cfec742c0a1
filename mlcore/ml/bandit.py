"""Thompson sampling for campaign waves: Beta posteriors on a 0/1 metric (click, conversion).

A campaign sent in waves splits its first wave evenly among its variants; each later wave is
allocated by batched Thompson sampling: every customer of the wave draws one value from each
variant's Beta(1 + successes, 1 + failures) posterior and goes to the variant with the largest
draw. Nothing shifts until every variant has `min_sample` recipients behind it, and the draws
come from a generator seeded by (campaign seed, wave), so a rerun gives the same allocation.

Pure functions of counts (no Django); the campaign simulator and the sending code share them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ArmCounts:
    name: str
    trials: int  # recipients sent in earlier waves
    successes: int  # of them, clicked (or converted)


@dataclass(frozen=True)
class WavePlan:
    counts: dict[str, int]  # customers of this wave per variant
    shares: dict[str, float]
    adaptive: bool  # False: an even split
    reason: str
    prob_best: dict[str, float]  # posterior probability that each variant is best (before the wave)


def even_counts(names: list[str], size: int) -> dict[str, int]:
    """`size` split as evenly as integers allow, the remainder to the first names."""
    base, extra = divmod(size, len(names))
    return {name: base + (i < extra) for i, name in enumerate(names)}


def probability_best(arms: list[ArmCounts], *, rng: np.random.Generator, draws: int = 20_000) -> dict[str, float]:
    """Monte Carlo P(variant is best) under independent Beta(1 + s, 1 + f) posteriors."""
    samples = np.column_stack([rng.beta(1 + a.successes, 1 + a.trials - a.successes, size=draws) for a in arms])
    wins = np.bincount(samples.argmax(axis=1), minlength=len(arms))
    return {a.name: float(w / draws) for a, w in zip(arms, wins, strict=True)}


def thompson_assign(arms: list[ArmCounts], size: int, *, rng: np.random.Generator) -> np.ndarray:
    """One Thompson draw per customer: the index of the variant each of `size` customers gets."""
    alpha = np.array([1 + a.successes for a in arms], dtype="float64")
    beta = np.array([1 + a.trials - a.successes for a in arms], dtype="float64")
    return rng.beta(alpha, beta, size=(size, len(arms))).argmax(axis=1)


def wave_rng(seed: int, wave: int, stream: int = 0) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(wave), stream])


def plan_wave(arms: list[ArmCounts], size: int, *, wave: int, seed: int, min_sample: int, adaptive: bool = True) -> tuple[WavePlan, np.ndarray]:
    """The allocation of wave `wave` (1 = the first) and each customer's variant index.

    The first wave, a non-adaptive campaign and any wave before every variant reached
    `min_sample` recipients get the even split (customers in order, round robin).
    """
    names = [a.name for a in arms]
    rng = wave_rng(seed, wave)
    prob_best = probability_best(arms, rng=wave_rng(seed, wave, 1)) if any(a.trials for a in arms) else {n: 1 / len(names) for n in names}
    short = [a.name for a in arms if a.trials < min_sample]
    if wave <= 1 or not adaptive or short:
        reason = ("first wave: even split" if wave <= 1 else "adaptive off: even split" if not adaptive
                  else f"even split: {', '.join(short)} below the minimum sample of {min_sample}")
        picks = np.arange(size) % len(names)
    else:
        reason = "Thompson sampling on the earlier waves"
        picks = thompson_assign(arms, size, rng=rng)
    counts = {name: int((picks == i).sum()) for i, name in enumerate(names)}
    shares = {name: (n / size if size else 0.0) for name, n in counts.items()}
    plan = WavePlan(counts=counts, shares=shares, adaptive=reason.startswith("Thompson"), reason=reason, prob_best=prob_best)
    return plan, picks


def wave_sizes(total: int, *, wave_count: int, first_share: float) -> list[int]:
    """Customers per wave: the first takes `first_share` of them, the others split the rest."""
    if wave_count <= 1:
        return [total]
    first = round(total * first_share)
    rest = even_counts([str(i) for i in range(wave_count - 1)], total - first)
    return [first, *rest.values()]
