"""The one definition of a sale, a return and net spend, for order-line frames (issue #12).

The same rules as `customers.models.OrderLineQuerySet` (sales(), returns(), net()), for frames
shaped like `customers.selectors.order_lines_frame()`: a sale is a product line (not a fee) with
a positive quantity in an order that was not cancelled; a return is a product line with a
negative quantity, wherever it is filed (credit notes are cancelled orders of negative lines);
net spend is sales plus returns. `amount` is quantity * unit_price, computed once by the frame's
selector. Frames without `status` or `product_kind` (a raw file's lines) count every line.
"""
from __future__ import annotations

import pandas as pd

CANCELLED = "cancelled"
FEE = "fee"


def _product_lines(lines: pd.DataFrame) -> pd.Series:
    if "product_kind" in lines.columns:
        return lines["product_kind"].ne(FEE)
    return pd.Series(True, index=lines.index)


def _not_cancelled(lines: pd.DataFrame) -> pd.Series:
    if "status" in lines.columns:
        return lines["status"].ne(CANCELLED)
    return pd.Series(True, index=lines.index)


def sale_mask(lines: pd.DataFrame) -> pd.Series:
    return _product_lines(lines) & (lines["quantity"] > 0) & _not_cancelled(lines)


def return_mask(lines: pd.DataFrame) -> pd.Series:
    return _product_lines(lines) & (lines["quantity"] < 0)


def net_mask(lines: pd.DataFrame) -> pd.Series:
    return sale_mask(lines) | return_mask(lines)


def sales(lines: pd.DataFrame) -> pd.DataFrame:
    return lines[sale_mask(lines)]


def returns(lines: pd.DataFrame) -> pd.DataFrame:
    return lines[return_mask(lines)]


def net(lines: pd.DataFrame) -> pd.DataFrame:
    """The lines that make net spend: sales plus returns."""
    return lines[net_mask(lines)]


def net_spend(lines: pd.DataFrame, by: str = "customer_id") -> pd.Series:
    """Sales plus returns per `by` (returns are negative amounts)."""
    return lines.loc[net_mask(lines)].groupby(by)["amount"].sum()
