"""Buy again: the customer's own products, scored by how often and how recently they bought them.

The score is the recency-decayed count of orders holding the product (Interactions.decayed), so
a product bought in many recent orders leads; products never bought score zero.
"""
from __future__ import annotations

import numpy as np

from mlcore.ml.recommend.interactions import Interactions


def buy_again_scores(data: Interactions, rows: np.ndarray) -> np.ndarray:
    return data.decayed[rows].toarray()
