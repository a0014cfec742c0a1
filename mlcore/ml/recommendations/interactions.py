"""Index maps and the implicit customer x product matrices the candidate models learn from.

A purchase counts once per order (quantities of a gift wholesaler's lines say little about
preference); its weight decays with age, with a half-life in days, as of the end of training.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

REQUIRED_LINE_COLUMNS = ("customer_id", "order_id", "placed_at", "product_id", "country")


@dataclass(frozen=True)
class Interactions:
    """Customers (rows) x products (columns) of one training window."""

    user_ids: np.ndarray  # row -> customer id
    item_ids: np.ndarray  # column -> product id
    counts: sparse.csr_matrix  # distinct orders per (customer, product)
    decayed: sparse.csr_matrix  # sum over those orders of 0.5 ** (age_days / half_life)
    last_days: sparse.csr_matrix  # age in days of the latest purchase (+1, so 0 means never)
    user_country: np.ndarray  # row -> the customer's most frequent order country
    as_of: pd.Timestamp

    @property
    def user_index(self) -> dict[int, int]:
        return {int(u): i for i, u in enumerate(self.user_ids)}

    @property
    def item_index(self) -> dict[int, int]:
        return {int(p): j for j, p in enumerate(self.item_ids)}


def check_lines(lines: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED_LINE_COLUMNS if c not in lines.columns]
    if missing:
        raise ValueError(f"order lines frame lacks columns {missing}; it needs {list(REQUIRED_LINE_COLUMNS)}.")


def time_split(lines: pd.DataFrame, at: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(before `at`, from `at` on): nothing of the second part can reach a model fitted on the first."""
    at = pd.Timestamp(at)
    at = at.tz_localize("UTC") if at.tzinfo is None else at
    before = lines["placed_at"] < at
    return lines[before], lines[~before]


def build_interactions(
    lines: pd.DataFrame, item_ids: np.ndarray, *, as_of: pd.Timestamp | None = None, half_life_days: float = 90.0
) -> Interactions:
    """Matrices over the given product universe; lines of other products are ignored."""
    check_lines(lines)
    item_ids = np.asarray(item_ids, dtype=np.int64)
    known = lines[lines["product_id"].isin(item_ids)]
    as_of = pd.Timestamp(as_of) if as_of is not None else known["placed_at"].max() + pd.Timedelta(seconds=1)
    orders = known.drop_duplicates(["customer_id", "order_id", "product_id"])
    user_ids, rows = np.unique(orders["customer_id"].to_numpy(dtype=np.int64), return_inverse=True)
    cols = pd.Index(item_ids).get_indexer(orders["product_id"].to_numpy())
    age = ((as_of - orders["placed_at"]).dt.total_seconds() / 86400.0).clip(lower=0).to_numpy()
    shape = (len(user_ids), len(item_ids))
    counts = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)
    decayed = sparse.csr_matrix(((0.5 ** (age / half_life_days)).astype(np.float32), (rows, cols)), shape=shape)
    last = pd.DataFrame({"r": rows, "c": cols, "age": age}).groupby(["r", "c"])["age"].min().reset_index()
    last_days = sparse.csr_matrix(((last["age"] + 1.0).to_numpy(np.float32), (last["r"], last["c"])), shape=shape)
    country = _main_country(known)
    return Interactions(
        user_ids=user_ids, item_ids=item_ids, counts=counts, decayed=decayed, last_days=last_days,
        user_country=country.reindex(user_ids).fillna("").to_numpy(dtype=object), as_of=as_of,
    )


def _main_country(lines: pd.DataFrame) -> pd.Series:
    """customer id -> the country of most of their lines (vectorised: no per-customer Python)."""
    sizes = lines.groupby(["customer_id", "country"], sort=False).size().rename("n").reset_index()
    best = sizes.sort_values(["customer_id", "n"], ascending=[True, False], kind="stable").drop_duplicates("customer_id")
    return best.set_index("customer_id")["country"]


def truth_sets(test_lines: pd.DataFrame, data: Interactions) -> dict[int, set[int]]:
    """Row -> column indices bought in the test window, for customers known to training."""
    user_index, item_index = data.user_index, pd.Index(data.item_ids)
    rows = test_lines["customer_id"].map(user_index)
    cols = item_index.get_indexer(test_lines["product_id"].to_numpy())
    pairs = pd.DataFrame({"r": rows, "c": cols}).dropna()
    pairs = pairs[pairs["c"] >= 0].astype("int64")
    return {int(r): set(group.tolist()) for r, group in pairs.groupby("r")["c"]}
