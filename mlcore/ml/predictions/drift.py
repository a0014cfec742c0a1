"""Population stability index (PSI) per feature between a reference and a current frame."""
from __future__ import annotations

import numpy as np
import pandas as pd

PSI_WARNING = 0.2


def quantile_edges(reference: pd.Series, bins: int) -> np.ndarray:
    values = reference.dropna().to_numpy(dtype="float64")
    if len(values) == 0:
        return np.array([])
    return np.unique(np.quantile(values, np.linspace(0, 1, bins + 1))[1:-1])


def bin_shares(values: pd.Series, edges: np.ndarray) -> np.ndarray:
    """Shares per bin; a last bin holds the missing values."""
    data = values.to_numpy(dtype="float64")
    missing = np.isnan(data)
    counts = np.bincount(np.searchsorted(edges, data[~missing], side="right"), minlength=len(edges) + 1)
    counts = np.append(counts, missing.sum()).astype("float64")
    return counts / max(counts.sum(), 1.0)


def population_stability_index(reference: pd.Series, current: pd.Series, *, bins: int = 10) -> float:
    edges = quantile_edges(reference, bins)
    ref, cur = bin_shares(reference, edges), bin_shares(current, edges)
    ref, cur = np.clip(ref, 1e-4, None), np.clip(cur, 1e-4, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def drift_table(reference: pd.DataFrame, current: pd.DataFrame, *, features: list[str], bins: int = 10) -> list[dict]:
    """One row per feature: psi and whether it passes the 0.2 warning line."""
    rows = []
    for name in features:
        psi = population_stability_index(reference[name], current[name], bins=bins)
        rows.append({"feature": name, "psi": round(psi, 4), "warning": psi > PSI_WARNING})
    return rows
