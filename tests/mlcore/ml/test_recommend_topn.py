import numpy as np
import pandas as pd
import pytest

from mlcore.ml import synthetic
from mlcore.ml.recommendations.cf import AlsConfig
from mlcore.ml.recommendations.hybrid import HybridWeights
from mlcore.ml.recommendations.model import RecommenderConfig, fit_recommender, recommend_block
from mlcore.ml.recommendations.topn import category_codes, diversified_order, top_block
from tests.mlcore.ml.shop_frames import shop_embeddings, shop_lines, shop_products

SMALL = RecommenderConfig(als=AlsConfig(factors=4, iterations=3), knn_neighbours=5, exclude_recent_days=30, max_per_category=2, similar_n=3)


def naive_rows(model, rows, k, **kwargs):
    return [[(item.column, round(item.score, 9), item.reason) for item in listed] for listed in recommend_block(model, rows, k, **kwargs)]


def blocked_rows(model, rows, k, **kwargs):
    top = top_block(model, rows, k, **kwargs)
    return [
        [(int(c), round(float(s), 9), r) for c, s, r in zip(cols, scores, reasons, strict=True) if c >= 0]
        for cols, scores, reasons in zip(top.columns, top.scores, top.reasons, strict=True)
    ]


def synthetic_model(weights: HybridWeights):
    lines = synthetic.generate_order_lines(synthetic.SyntheticConfig(n_customers=300, n_products=120, seed=3))
    lines = lines[lines["status"] == "placed"]
    products = pd.DataFrame({"product_id": np.arange(1, 121), "sku": [f"P{i}" for i in range(1, 121)],
                             "title": [f"product {i}" for i in range(1, 121)], "category": [f"C{i % 7}" for i in range(1, 121)]})
    embeddings = np.random.default_rng(0).normal(size=(120, 16)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    return fit_recommender(lines, products, embeddings, config=SMALL, weights=weights)


def test_blocked_top_n_equals_the_per_customer_lists_on_the_small_shop():
    # given the seeded shop, when every customer's top 4 is taken both ways, then products, scores and reasons match
    model = fit_recommender(shop_lines(), shop_products(), shop_embeddings(), config=SMALL)
    rows = np.arange(len(model.data.user_ids))
    assert blocked_rows(model, rows, 4) == naive_rows(model, rows, 4)


@pytest.mark.parametrize("weights", [HybridWeights(), HybridWeights(beta=2.0, gamma=0.0, delta=0.0), HybridWeights(gamma=3.0)])
def test_blocked_top_n_equals_the_per_customer_lists_on_a_generated_shop(weights):
    # given 300 generated customers and weights that favour each reason in turn, when top 10 is taken both ways, then they match
    model = synthetic_model(weights)
    rows = np.arange(len(model.data.user_ids))
    naive = naive_rows(model, rows, 10)
    assert blocked_rows(model, rows, 10) == naive
    reasons = {r.split(" ")[0] for listed in naive for _, _, r in listed}
    assert len(reasons) >= 2  # more than one reason kind was compared


def test_blocked_top_n_equals_the_per_customer_lists_with_a_reranker():
    # given a reranker that reverses the first candidates, when listed both ways, then they match
    model = synthetic_model(HybridWeights())
    rows = np.arange(50)

    def reverse(model, rows, columns, scores):
        return -np.take_along_axis(scores, np.maximum(columns, 0), axis=1)

    assert blocked_rows(model, rows, 5, reranker=reverse, rerank_candidates=8) == naive_rows(model, rows, 5, reranker=reverse, rerank_candidates=8)


def test_diversified_order_tops_up_and_pads():
    # given one row capped at 2 per category and one short row, when ordered, then the cap tops up and -1 pads
    ranked = np.array([[0, 1, 2, 3], [4, 5, -1, -1]])
    codes = np.array([0, 0, 0, 1, 2, 2])
    order = diversified_order(ranked, codes, 3, 2)
    assert np.take_along_axis(ranked, order, axis=1).tolist() == [[0, 1, 3], [4, 5, -1]]
    assert category_codes(fit_recommender(shop_lines(), shop_products(), shop_embeddings(), config=SMALL)).tolist() == [0, 0, 0, 0, 1, 1, 2, 2]


def test_blocked_top_n_equals_the_per_customer_lists_with_a_served_repeat_explore_split():
    # given a model serving the repeat/explore split (explore items ranked by their own blend), when top 10 is taken both ways, then products, scores and reasons match, re-buys and new products both among them
    from mlcore.ml.recommendations.slots import SlotModel

    model = synthetic_model(HybridWeights())
    model.slots = SlotModel(a=0.0, b=1.0, prior=0.3)
    model.explore_weights = HybridWeights(beta=2.0, gamma=0.0, delta=0.0)
    rows = np.arange(len(model.data.user_ids))
    naive = naive_rows(model, rows, 10)
    assert blocked_rows(model, rows, 10) == naive
    reasons = {r.split(" ")[0] for listed in naive for _, _, r in listed}
    assert "you" in reasons and len(reasons) >= 2
