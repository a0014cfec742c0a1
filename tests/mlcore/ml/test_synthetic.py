from mlcore.ml.features import build_customer_features
from mlcore.ml.synthetic import SyntheticConfig, generate_order_lines


def test_generated_lines_are_skewed_and_reproducible():
    # given a small config, when generated twice with one seed, then equal frames with skewed orders per customer
    cfg = SyntheticConfig(n_customers=2000, n_products=300, seed=3)
    a, b = generate_order_lines(cfg), generate_order_lines(cfg)
    assert a.equals(b)
    orders = a[a["quantity"] > 0].groupby("customer_id")["order_id"].nunique()
    assert orders.max() >= 5 * orders.median()  # a few frequent buyers, most rare
    assert (a["quantity"] < 0).mean() < 0.05 and (a["quantity"] < 0).any()
    features = build_customer_features(a, snapshot=a["placed_at"].max())
    assert len(features) > 1500
