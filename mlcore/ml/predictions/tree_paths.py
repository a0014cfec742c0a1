"""Per-feature contributions of a fitted HistGradientBoostingClassifier along each row's decision
path (Saabas' method), vectorised over rows: the raw score is
bias + the sum of the row's contributions, exactly.

Each step from a node to its child credits the split feature with the change in node value, so
every node carries the summed credits of its path from the root: a row's contributions in one tree
are the table row of the leaf it reaches. sklearn shrinks leaf values only
(`TreeGrower._apply_shrinkage`), so split-node values are scaled here by the learning rate to put
every node on the leaves' scale. Numeric splits only (the churn features are all numeric); a
missing value follows the node's `missing_go_to_left`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier


@dataclass(frozen=True)
class TreeTable:
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    is_leaf: np.ndarray
    path: np.ndarray  # nodes x features: credits summed from the root to the node
    root_value: float
    depth: int


def tree_table(nodes: np.ndarray, width: int, learning_rate: float) -> TreeTable:
    is_leaf = nodes["is_leaf"].astype(bool)
    value = np.where(is_leaf, nodes["value"], nodes["value"] * learning_rate)
    path = np.zeros((len(nodes), width))
    for index in range(len(nodes)):  # parents come before their children in sklearn's node array
        if not is_leaf[index]:
            for child in (nodes["left"][index], nodes["right"][index]):
                path[child] = path[index]
                path[child, nodes["feature_idx"][index]] += value[child] - value[index]
    return TreeTable(
        feature=nodes["feature_idx"].astype(np.int64), threshold=nodes["num_threshold"].astype("float64"),
        left=nodes["left"].astype(np.int64), right=nodes["right"].astype(np.int64),
        missing_left=nodes["missing_go_to_left"].astype(bool), is_leaf=is_leaf, path=path,
        root_value=float(value[0]), depth=int(nodes["depth"].max()),
    )


def leaf_of_rows(table: TreeTable, columns: list[np.ndarray]) -> np.ndarray:
    """The leaf each row reaches: one pass over the rows per split node (parents first)."""
    node = np.zeros(len(columns[0]), dtype=np.int64)
    for index in np.flatnonzero(~table.is_leaf):
        column = columns[table.feature[index]]
        go_left = column <= table.threshold[index]
        if table.missing_left[index]:
            go_left |= np.isnan(column)
        node = np.where(node == index, np.where(go_left, table.left[index], table.right[index]), node)
    return node


def tree_contributions(model: HistGradientBoostingClassifier, x: np.ndarray, projection: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(contributions n x k, bias n) in the model's raw (log-odds) score.

    k is the number of features, or the columns of `projection` (features x k, e.g. a 0/1 matrix
    summing features into groups, which also makes the gathers cheaper).
    """
    n, width = x.shape
    projection = np.eye(width) if projection is None else projection
    columns = [np.ascontiguousarray(x[:, j]) for j in range(width)]
    contributions = np.zeros((n, projection.shape[1]))
    bias = float(np.ravel(model._baseline_prediction)[0])
    for (predictor,) in model._predictors:
        table = tree_table(predictor.nodes, width, model.learning_rate)
        bias += table.root_value
        contributions += (table.path @ projection)[leaf_of_rows(table, columns)]
    return contributions, np.full(n, bias)
