import numpy as np
import pandas as pd

from mlcore.ml.recommendations.catalogue import live_catalogue, own_one_off_mask, rebuy_allowed, rebuy_share
from mlcore.ml.recommendations.cf import AlsConfig
from mlcore.ml.recommendations.model import RecommenderConfig, fit_recommender, recommend_block

END = pd.Timestamp("2026-06-30", tz="UTC")


def catalogue() -> pd.DataFrame:
    return pd.DataFrame({
        "product_id": [1, 2, 3, 4, 5, 6, 7],
        "sku": ["A", "B", "C", "D", "E", "F", "G"],
        "title": ["mug", "bag", "old lamp", "new candle", "E", "late import", "postage"],
        "description": ["", "", "", "", "", "", ""],
        "category": ["x", "x", "x", "y", "y", "y", "fee"],
        "kind": ["product"] * 6 + ["fee"],
        "created_at": pd.to_datetime([END - pd.Timedelta(days=800)] * 3 + [END - pd.Timedelta(days=5), END - pd.Timedelta(days=5),
                                      END + pd.Timedelta(days=900), END - pd.Timedelta(days=800)], utc=True),
    })


def test_live_catalogue_keeps_recent_sellers_and_new_products_with_text_only():
    # given a product sold recently, one sold long ago, new ones with and without text, a late import and a fee,
    # when the columns are chosen, then the recent seller and the new product with text are kept
    lines = pd.DataFrame({"product_id": [1, 3, 7], "placed_at": [END - pd.Timedelta(days=10), END - pd.Timedelta(days=700), END]})
    kept = live_catalogue(catalogue(), lines, as_of=END, sold_days=365)
    assert kept["sku"].tolist() == ["A", "D"]


def test_live_catalogue_with_zero_days_keeps_every_product_row_but_fees():
    # given the setting 0, when the columns are chosen, then every product row but the fee is a column
    lines = pd.DataFrame({"product_id": [1], "placed_at": [END]})
    assert live_catalogue(catalogue(), lines, as_of=END, sold_days=0)["sku"].tolist() == list("ABCDEF")


def repeat_shop() -> tuple[pd.DataFrame, pd.DataFrame]:
    """20 customers: everyone re-buys coffee (column 0) every month; each bought one sofa (1) once; tea (2) is popular too."""
    rows = []
    start = pd.Timestamp("2026-01-01", tz="UTC")
    for customer in range(1, 21):
        for month in range(5):
            rows.append((f"O{customer}-{month}", customer, start + pd.Timedelta(days=30 * month + customer), 10))
        rows.append((f"S{customer}", customer, start + pd.Timedelta(days=3), 11))
        if customer % 2:
            rows.append((f"T{customer}", customer, start + pd.Timedelta(days=40), 12))
    lines = pd.DataFrame(rows, columns=["order_id", "customer_id", "placed_at", "product_id"]).assign(country="UK")
    products = pd.DataFrame({"product_id": [10, 11, 12, 13], "sku": ["COF", "SOFA", "TEA", "LAMP"], "title": ["coffee", "sofa", "tea", "lamp"],
                             "category": ["drinks", "furniture", "drinks", "furniture"]})
    return lines, products


def test_rebuy_share_is_high_for_consumables_and_low_for_one_off_items():
    # given coffee re-bought by everyone and a sofa bought once each, when shares are learned, then only coffee may come back
    lines, products = repeat_shop()
    model = fit_recommender(lines, products, np.eye(4, dtype=np.float32), config=RecommenderConfig(als=AlsConfig(factors=2, iterations=2)))
    allowed = rebuy_allowed(model.rebuy, 0.05)
    assert model.rebuy[0] > 0.5 and model.rebuy[1] < 0.05
    assert allowed.tolist()[:2] == [True, False]


def test_rebuy_share_of_a_product_with_few_buyers_borrows_from_its_category():
    # given a category whose products are re-bought, when a new product of it has one one-time buyer, then it inherits the category's share
    counts = np.array([[3, 0, 1], [2, 0, 0], [4, 1, 0]], dtype=np.float32)
    from scipy import sparse

    share = rebuy_share(sparse.csr_matrix(counts), np.array(["a", "a", "b"]), strength=5.0)
    assert share[1] > share[2]


def test_served_lists_keep_consumables_and_drop_bought_one_off_items():
    # given the shop above and the learned rule, when lists are made, then coffee is listed again and the sofa is not
    lines, products = repeat_shop()
    config = RecommenderConfig(als=AlsConfig(factors=2, iterations=2), exclude_recent_days=0, rebuy_min_share=0.05, max_per_category=4)
    model = fit_recommender(lines, products, np.eye(4, dtype=np.float32), config=config)
    listed = recommend_block(model, np.arange(len(model.data.user_ids)), 4)
    columns = [{item.column for item in row} for row in listed]
    assert all(0 in c and 1 not in c for c in columns)
    assert own_one_off_mask(model.data.counts, np.array([0]), rebuy_allowed(model.rebuy, 0.05))[0].tolist() == [False, True, False, False]


def test_fit_reports_progress_of_every_part():
    # given a progress callback, when the recommender is fitted, then each part is reported with its seconds, and ALS each iteration
    lines, products = repeat_shop()
    told = []
    fit_recommender(lines, products, np.eye(4, dtype=np.float32), config=RecommenderConfig(als=AlsConfig(factors=2, iterations=2)), progress=told.append)
    parts = [m.split()[1] for m in told]
    assert parts == ["interactions", "popularity", "iteration", "iteration", "als", "item_knn", "content_profiles", "tifu_knn"]
    assert [m.split()[2] for m in told if m.startswith("ALS iteration")] == ["1/2", "2/2"]
