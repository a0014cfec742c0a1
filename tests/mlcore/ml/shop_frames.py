"""A small seeded shop as frames (order_lines_frame / products_frame columns) for mlcore.ml tests."""
from __future__ import annotations

import numpy as np
import pandas as pd

CATEGORIES = ["MUG", "MUG", "MUG", "MUG", "BAG", "BAG", "CANDLE", "CANDLE"]


def shop_products() -> pd.DataFrame:
    return pd.DataFrame({
        "product_id": np.arange(100, 108),
        "sku": [f"P{i}" for i in range(8)],
        "title": [f"{c.lower()} number {i}" for i, c in enumerate(CATEGORIES)],
        "description": "",
        "category": CATEGORIES,
        "price": 2.5,
        "kind": "product",
        "active": True,
    })


def shop_lines(seed: int = 0) -> pd.DataFrame:
    """Customers 1-12 (1-8 in the UK, 9-12 in France) buying over 2011; a few fixed patterns."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2011-01-01", tz="UTC")
    for customer in range(1, 13):
        country = "United Kingdom" if customer <= 8 else "France"
        for order in range(6):
            day = start + pd.Timedelta(days=int(rng.integers(0, 200)))
            favourite = 100 + (customer % 4)
            basket = {favourite}
            if rng.random() < 0.3:
                basket.add(100 + int(rng.integers(0, 8)))
            if country == "France":
                basket.add(106)
            for product in basket:
                rows.append((f"O{customer}-{order}", customer, day, country, product))
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "placed_at", "country", "product_id"])
    frame["sku"] = "P" + (frame["product_id"] - 100).astype(str)
    frame["category"] = frame["product_id"].map(dict(zip(range(100, 108), CATEGORIES, strict=True)))
    frame["quantity"] = 1
    frame["unit_price"] = 2.5
    frame["amount"] = 2.5
    frame["status"] = "placed"
    frame["product_kind"] = "product"
    return frame


def shop_embeddings(n: int = 8, dim: int = 8, seed: int = 3) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
