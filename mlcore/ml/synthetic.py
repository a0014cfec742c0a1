"""Generated shop data with realistic skew, for benchmarks at sizes the real data does not reach.

Customers follow a BG/NBD-like process: each buys at an individual rate (gamma distributed)
until an individual dropout (geometric after each order, beta distributed probability), so a
few customers order often and most rarely; product popularity is Zipf-like; lines per order,
quantities and prices are skewed; about 2% of sale lines are returned later as separate credit
orders. The frame has the columns of `customers.selectors.order_lines_frame()`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

START = pd.Timestamp("2010-01-01", tz="UTC")
COUNTRIES = np.array(["United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium", "Switzerland"])
COUNTRY_P = np.array([0.82, 0.04, 0.04, 0.03, 0.02, 0.02, 0.015, 0.015])


@dataclass(frozen=True)
class SyntheticConfig:
    n_customers: int = 100_000
    n_products: int = 10_000
    horizon_days: int = 730
    lines_per_order_mean: float = 2.5
    return_share: float = 0.02
    seed: int = 7


def order_times(rng: np.random.Generator, cfg: SyntheticConfig) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, day offset) of every order."""
    n = cfg.n_customers
    birth = rng.uniform(0, cfg.horizon_days * 0.8, n)
    rate = rng.gamma(shape=0.9, scale=1 / 30.0, size=n)  # orders per day, mean ~ one a month
    dropout = rng.beta(1.0, 3.0, n)
    # orders after the first until dropout: geometric; capped by the horizon below
    extra = rng.geometric(np.clip(dropout, 0.02, 1.0)) - 1
    counts = 1 + np.minimum(extra, 200)
    customer = np.repeat(np.arange(n), counts)
    gaps = rng.exponential(1.0, customer.size) / rate[customer]
    first = np.r_[0, np.cumsum(counts)[:-1]]
    gaps[first] = 0.0
    offsets = np.cumsum(gaps)
    offsets -= np.repeat(offsets[first], counts)
    day = birth[customer] + offsets
    keep = day < cfg.horizon_days
    return customer[keep], day[keep]


def generate_order_lines(cfg: SyntheticConfig = SyntheticConfig()) -> pd.DataFrame:
    rng = np.random.default_rng(cfg.seed)
    cust, day = order_times(rng, cfg)
    n_orders = cust.size
    per_order = 1 + rng.poisson(cfg.lines_per_order_mean - 1, n_orders)
    order_idx = np.repeat(np.arange(n_orders), per_order)
    popularity = 1.0 / np.arange(1, cfg.n_products + 1) ** 1.05
    product = rng.choice(cfg.n_products, size=order_idx.size, p=popularity / popularity.sum())
    price = np.round(np.exp(rng.normal(1.0, 0.8, cfg.n_products)), 2) + 0.29
    quantity = rng.geometric(0.35, order_idx.size)
    country = rng.choice(COUNTRIES, size=cfg.n_customers, p=COUNTRY_P)
    placed = START + pd.to_timedelta(day[order_idx], unit="D")
    sales = pd.DataFrame({
        "order_id": order_idx + 1, "customer_id": cust[order_idx] + 1, "placed_at": placed,
        "status": "placed", "country": country[cust[order_idx]], "product_id": product + 1,
        "quantity": quantity, "unit_price": price[product],
    })
    returned = rng.random(len(sales)) < cfg.return_share
    returns = sales.loc[returned].copy()
    returns["order_id"] = n_orders + 1 + np.arange(len(returns))
    returns["placed_at"] = returns["placed_at"] + pd.to_timedelta(rng.uniform(1, 30, len(returns)), unit="D")
    returns["quantity"] = -returns["quantity"]
    returns["status"] = "returned"
    lines = pd.concat([sales, returns], ignore_index=True)
    lines["sku"] = "P" + lines["product_id"].astype(str)
    lines["category"] = "Category " + (lines["product_id"] % 40).astype(str)
    lines["product_kind"] = "product"
    lines["amount"] = lines["quantity"] * lines["unit_price"]
    lines.insert(0, "line_id", np.arange(1, len(lines) + 1))
    return lines


def cached_order_lines(cache_dir: Path, cfg: SyntheticConfig = SyntheticConfig()) -> pd.DataFrame:
    """Generate once and cache as a pickle under cache_dir (benchmarks share it)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"lines_c{cfg.n_customers}_p{cfg.n_products}_s{cfg.seed}.pkl"
    if path.exists():
        return pd.read_pickle(path)  # noqa: S301 - our own cache file
    lines = generate_order_lines(cfg)
    lines.to_pickle(path)
    return lines
