"""Which catalogue rows become recommender columns, and which bought products may come back.

A shop's catalogue can be mostly dead stock: 90,000 rows of which 71,000 never sold made every one
a column (dense rows x catalogue blocks, 90,000 texts embedded, a 90,000-row similar table).
`live_catalogue` keeps the products sold in the last `sold_days` before the end of training plus
products never sold that were added in that window (and at most 30 days after the last order: a catalogue
imported together with years-old orders is not new) and have text of their own (a title that is
not just the SKU, or a description), so a new product can still be recommended by content.

`rebuy_share` learns how often a product is bought again: per product, shrunk towards its
category's share and the category's towards the shop's (empirical Bayes with `strength` pseudo-
buyers), so a product with few buyers borrows from similar ones. `rebuy_allowed` turns that into
the rule of the served lists: a customer's own product may be recommended again only where its
share reaches `min_share`, so one-off purchases (a sofa, a book) are not, and consumables are.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from mlcore.ml.recommendations import rules

PRODUCT_KIND = "product"
NEW_GRACE_DAYS = 30  # a product created up to this long after the last sale is new; later, the catalogue came with old orders


def live_catalogue(products: pd.DataFrame, lines: pd.DataFrame, *, as_of: pd.Timestamp, sold_days: int) -> pd.DataFrame:
    """The rows of `products` that are sellable columns: sold recently, or new with text (see the module doc)."""
    if "kind" in products.columns:
        products = products[products["kind"].fillna(PRODUCT_KIND).eq(PRODUCT_KIND)]
    if sold_days <= 0:
        return products.reset_index(drop=True)
    since = as_of - pd.Timedelta(days=sold_days)
    sold = lines.loc[lines["placed_at"] >= since, "product_id"].unique()
    keep = products["product_id"].isin(sold)
    if "created_at" in products.columns:
        ever_sold = products["product_id"].isin(lines["product_id"].unique())
        created = pd.to_datetime(products["created_at"], utc=True)
        # created long after the last order means an import of history, not a product new to the shop
        new = (created >= since) & (created <= as_of + pd.Timedelta(days=NEW_GRACE_DAYS))
        keep |= ~ever_sold & new & has_own_text(products)
    return products[keep].reset_index(drop=True)


def has_own_text(products: pd.DataFrame) -> pd.Series:
    title = products["title"].fillna("").str.strip()
    description = products.get("description", pd.Series("", index=products.index)).fillna("").str.strip()
    return (title.ne("") & title.ne(products["sku"].astype(str))) | description.ne("")


def rebuy_share(counts: sparse.csr_matrix, categories: np.ndarray, *, strength: float = 5.0) -> np.ndarray:
    """Per column: the shrunk share of its buyers who bought it in two or more orders."""
    buyers = np.asarray((counts > 0).sum(axis=0)).ravel().astype(np.float64)
    repeat = np.asarray((counts >= 2).sum(axis=0)).ravel().astype(np.float64)
    shop = repeat.sum() / max(buyers.sum(), 1.0)
    codes, inverse = np.unique(np.asarray(categories, dtype=object).astype(str), return_inverse=True)
    cat_buyers = np.bincount(inverse, weights=buyers, minlength=len(codes))
    cat_repeat = np.bincount(inverse, weights=repeat, minlength=len(codes))
    category = (cat_repeat + strength * shop) / (cat_buyers + strength)
    return ((repeat + strength * category[inverse]) / (buyers + strength)).astype(np.float32)


def rebuy_allowed(share: np.ndarray, min_share: float) -> np.ndarray:
    return np.asarray(share) >= min_share


def own_one_off_cells(counts: sparse.csr_matrix, rows: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(block row, column) where the customer bought the product and it is not one that people buy again."""
    block = counts[rows]
    return rules.stored_cells(block, (block.data > 0) & ~allowed[block.indices])


def own_one_off_mask(counts: sparse.csr_matrix, rows: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """`own_one_off_cells` as a dense (rows x catalogue) mask."""
    return rules.cells_mask(own_one_off_cells(counts, rows, allowed), (len(rows), counts.shape[1]))
