import dataclasses

import numpy as np
import pandas as pd
import pytest

from mlcore.ml.recommendations import rules
from mlcore.ml.recommendations.buy_again import buy_again_scores, repurchase_share
from mlcore.ml.recommendations.catalogue import own_one_off_mask, rebuy_allowed
from mlcore.ml.recommendations.cf import AlsConfig
from mlcore.ml.recommendations.evaluation import prepare
from mlcore.ml.recommendations.hybrid import HybridWeights, blend, grid_search, normalise_parts, zscore_rows
from mlcore.ml.recommendations.interactions import build_interactions, time_split
from mlcore.ml.recommendations.model import (
    RecommenderConfig,
    fit_recommender,
    popular_list,
    recommend_block,
    score_parts,
    served_mask,
    similar_table,
)
from mlcore.ml.recommendations.popularity import fit_popularity, popularity_scores
from tests.mlcore.ml.shop_frames import shop_embeddings, shop_lines, shop_products

SMALL = RecommenderConfig(als=AlsConfig(factors=4, iterations=3), knn_neighbours=5, exclude_recent_days=0, max_per_category=2, similar_n=3)
SPLIT = pd.Timestamp("2011-06-01", tz="UTC")


def fitted(lines=None, **kwargs):
    lines = shop_lines() if lines is None else lines
    return fit_recommender(lines, shop_products(), shop_embeddings(), config=kwargs.pop("config", SMALL), **kwargs)


def test_time_split_keeps_test_purchases_out_of_training():
    # given lines on both sides of the split, when prepared for evaluation, then training saw nothing from the test window
    lines = shop_lines()
    split = prepare(lines, shop_products(), shop_embeddings(), SPLIT, SMALL)
    train, test = time_split(lines, SPLIT)
    assert split.model.data.as_of == SPLIT
    assert split.model.data.counts.sum() == len(train.drop_duplicates(["customer_id", "order_id", "product_id"]))
    assert len(test) > 0 and (train["placed_at"] < SPLIT).all()
    assert split.model.data.last_days.data.min() >= 1.0  # every stored purchase is older than the split


def test_buy_again_ranks_frequent_recent_products_first():
    # given a customer who bought P2 in three orders and P5 once, when scored, then P2 leads the buy-again part
    lines = shop_lines()
    extra = lines.iloc[[0, 0, 0]].copy()
    extra["customer_id"], extra["product_id"], extra["order_id"] = 99, 102, ["X1", "X2", "X3"]
    once = lines.iloc[[0]].copy()
    once["customer_id"], once["product_id"], once["order_id"] = 99, 105, "X4"
    model = fitted(pd.concat([lines, extra, once]))
    row = model.data.user_index[99]
    scores = score_parts(model, np.array([row]))["ba"][0]
    assert scores.argmax() == 2 and scores[2] > scores[5] > 0


def test_popularity_is_per_country():
    # given French customers who all buy P6, when their country's scores are made, then P6 tops France only
    lines = shop_lines()
    data = build_interactions(lines, np.arange(100, 108))
    pop = fit_popularity(lines, data, recent_days=365, smoothing=1.0)
    assert popularity_scores(pop, np.array(["France"]))[0].argmax() == 6
    assert popularity_scores(pop, np.array(["United Kingdom"]))[0].argmax() != 6
    model = fitted()
    assert popular_list(model, "France", 3)[0].reason == "popular in France"
    assert popular_list(model, "Atlantis", 3)[0].reason == "popular in the shop"


def test_recommendations_exclude_recent_purchases():
    # given a 30-day exclusion, when each customer's top 5 is made, then nothing bought in those 30 days is in it
    model = fitted(config=RecommenderConfig(als=AlsConfig(factors=4, iterations=3), exclude_recent_days=30))
    rows = np.arange(len(model.data.user_ids))
    recent = rules.recent_purchase_mask(model.data.last_days, rows, 30)
    assert recent.any()
    for row, listed in zip(rows, recommend_block(model, rows, 5), strict=True):
        assert not recent[row, [item.column for item in listed]].any()
        assert all(item.reason for item in listed)


def test_recommendations_hold_at_most_two_per_category():
    # given a cap of 2 per category and 4 MUGs in the catalogue, when top 4 lists are made, then no list holds 3 of a kind
    model = fitted()
    rows = np.arange(len(model.data.user_ids))
    for listed in recommend_block(model, rows, 4):
        categories = [model.categories[item.column] for item in listed]
        assert len(listed) == 4 and max(categories.count(c) for c in set(categories)) <= 2


def test_diversify_tops_up_from_skipped_when_categories_run_out():
    # given five products of one category and a cap of 2, when 4 are asked for, then the list is still 4 long
    assert rules.diversify(np.array([0, 1, 2, 3, 4]), np.array(["A"] * 5), 4, 2) == [0, 1, 2, 3]
    assert rules.diversify(np.array([0, 1, 2, 3]), np.array(["A", "A", "A", "B"]), 3, 2) == [0, 1, 3]


def test_grid_search_picks_the_weights_the_objective_prefers():
    # given an objective that rewards a list led by buy-again, when searched, then gamma is the largest tried
    model = fitted()
    rows = np.arange(len(model.data.user_ids))
    normalised = normalise_parts(score_parts(model, rows))
    target = normalised["ba"].argmax(axis=1)
    best, value, trials = grid_search(normalised, lambda s: float((s.argmax(axis=1) == target).mean()), {"beta": (0.0,), "gamma": (0.0, 5.0), "delta": (0.0,)})
    assert best.gamma == 5.0 and len(trials) == 2
    assert value == max(t["value"] for t in trials) > min(t["value"] for t in trials)


def test_similar_table_leaves_the_product_itself_out():
    # given the fitted shop, when the similar table is made, then no product is similar to itself
    columns, scores = similar_table(fitted())
    assert columns.shape == (8, 3)
    assert all(column not in columns[column] for column in range(8))
    assert np.all(np.diff(scores, axis=1) <= 1e-6)


def test_bad_frames_name_the_missing_columns():
    # given a lines frame without product ids and mismatched embeddings, when fitted, then errors name the problem
    with pytest.raises(ValueError, match="product_id"):
        build_interactions(shop_lines().drop(columns=["product_id"]), np.arange(100, 108))
    with pytest.raises(ValueError, match="embeddings"):
        fit_recommender(shop_lines(), shop_products(), shop_embeddings(n=3), config=SMALL)


def test_hybrid_weights_default_blend_uses_every_part():
    # given default weights, when asked per part, then each part has its weight
    weights = HybridWeights()
    assert [weights.of(p) for p in ("cf", "cb", "ba", "pop")] == [1.0, 0.1, 0.5, 0.1]


def test_evaluate_reports_every_model_under_both_protocols():
    # given the small shop and a re-ranker that reverses the candidates, when evaluated, then every row of both protocols is there
    from mlcore.ml.recommendations.evaluation import evaluate

    def reverse(model, rows, top, scores):
        return np.arange(top.shape[1], dtype=np.float64)[None, :].repeat(len(rows), axis=0)  # last candidate first

    report = evaluate(shop_lines(), shop_products(), shop_embeddings(), split_at=SPLIT, validation_days=60, config=SMALL, reranker=reverse)
    # the served re-buy rule and the repeat/explore split only change lists that hold own products
    extra = {"all": {"hybrid+rebuy_rule", "repeat/explore split", "cf, own products masked"}, "new": set()}
    for protocol in ("all", "new"):
        rows = {"pop", "cf", "cb", "ba", "tifu", "hybrid before", "hybrid with TIFU-KNN", "hybrid+ranker"} | extra[protocol]
        assert set(report["protocols"][protocol]) == rows
        assert all(0.0 <= m["ndcg@10"] <= 1.0 for m in report["protocols"][protocol].values())
        gains = report["gains"][protocol]
        assert {"hybrid with TIFU-KNN vs hybrid before", "hybrid with TIFU-KNN vs cf", "tifu vs ba"} <= set(gains)
        assert report["tuned"]["served"][protocol] in rows
        assert all(g["low"] <= g["gain"] <= g["high"] for g in gains.values())
    assert 0.0 <= report["own_share@10"]["hybrid+rebuy_rule"] <= report["own_share@10"]["hybrid"] <= 1.0
    assert report["customers"]["all"] > 0 and report["tuned"]["weights"]["all"]["alpha"] == 1.0
    assert report["tuned"]["tifu"]["group_size"] in (3, 7, 14)


def test_a_reranker_reorders_the_head_of_the_list_and_keeps_reasons():
    # given a reranker that reverses the hybrid's first 4 candidates, when a block is recommended, then they come reversed, above the rest
    model = fitted(config=dataclasses.replace(SMALL, max_per_category=10))
    plain = recommend_block(model, np.array([0]), 4)[0]
    calls = []

    def reverse(model_, rows, top, scores):
        calls.append(top.shape)
        return np.tile(np.arange(top.shape[1], dtype=np.float64), (len(rows), 1))  # the last candidate scores best

    reranked = recommend_block(model, np.array([0]), 4, reranker=reverse, rerank_candidates=4)[0]
    assert calls == [(1, 4)]
    assert [r.column for r in reranked] == [r.column for r in plain][::-1]
    assert {r.column: r.reason for r in reranked} == {r.column: r.reason for r in plain}
    assert [r.score for r in reranked] == sorted((r.score for r in reranked), reverse=True)


def test_without_a_reranker_the_list_is_the_hybrids():
    # given no reranker, when a block is recommended twice, then the lists are identical (the hook changes nothing)
    model = fitted()
    assert recommend_block(model, np.arange(3), 4) == recommend_block(model, np.arange(3), 4, reranker=None, rerank_candidates=50)


def test_buy_again_prefers_products_people_come_back_for():
    # given a customer who bought P3 and P4 twice each, where other customers rebuy P3 but buy P4 once, when scored, then P3 leads
    lines = shop_lines()
    rows = []
    for customer, product, orders in [(99, 103, 2), (99, 104, 2), (97, 103, 3), (98, 103, 2), (97, 104, 1), (98, 104, 1), (96, 104, 1)]:
        for n in range(orders):
            row = lines.iloc[[0]].copy()
            row["customer_id"], row["product_id"], row["order_id"] = customer, product, f"R{customer}-{product}-{n}"
            rows.append(row)
    model = fitted(pd.concat([lines, *rows]))
    scores = score_parts(model, np.array([model.data.user_index[99]]))["ba"][0]
    assert scores[3] > scores[4] > 0


def test_fitted_model_carries_the_repurchase_share_its_blocks_use():
    # given a fitted model, when a block is scored, then buy-again uses the share made at fit, the same as computing it afresh
    model = fitted(shop_lines())
    rows = np.arange(len(model.data.user_ids))
    assert np.array_equal(model.repurchase, repurchase_share(model.data))
    assert np.array_equal(score_parts(model, rows)["ba"], buy_again_scores(model.data, rows))


def test_a_capped_split_evaluates_a_seeded_sample_of_the_window_buyers():
    # given more buyers in the window than the cap, when prepared with max_customers, then a sorted seeded
    # sample of that size is evaluated, its truth and history rows are those customers', and again gives the same
    lines = shop_lines()
    whole = prepare(lines, shop_products(), shop_embeddings(), SPLIT, SMALL)
    cap = len(whole.rows) // 2
    part = prepare(lines, shop_products(), shop_embeddings(), SPLIT, SMALL, max_customers=cap)
    assert len(part.rows) == cap and set(part.rows) <= set(whole.rows) and list(part.rows) == sorted(part.rows)
    assert set(part.truth["all"]) == set(part.rows.tolist()) and set(part.truth["new"]) <= set(part.rows.tolist())
    position = {int(r): i for i, r in enumerate(whole.rows)}
    assert (part.history == whole.history[[position[int(r)] for r in part.rows]]).all()
    assert list(prepare(lines, shop_products(), shop_embeddings(), SPLIT, SMALL, max_customers=cap).rows) == list(part.rows)


def test_als_fits_with_blas_on_one_thread_and_tells_each_iteration():
    # given BLAS set to two threads by the process, when ALS fits, then it fits on one (implicit's
    # CG calls a tiny ssymv per customer: a thread pool behind each call is what stalled the 1M night),
    # says every iteration, and leaves the process's setting as it was
    import threadpoolctl

    from mlcore.ml.recommendations.cf import fit_als

    data = build_interactions(shop_lines(), np.arange(100, 108))
    seen, told = [], []

    def progress(message):
        told.append(message)
        seen.extend(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")

    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        factors = fit_als(data, AlsConfig(factors=4, iterations=3), progress=progress)
        after = {p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"}
    assert factors.user_factors.shape == (len(data.user_ids), 4) and np.isfinite(factors.item_factors).all()
    assert [m.split(" in ")[0] for m in told] == ["ALS iteration 1/3", "ALS iteration 2/3", "ALS iteration 3/3"]
    assert set(seen) == {1} and after == {2}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zscore_rows_is_bit_identical_to_the_textbook_formula_and_leaves_its_input(dtype):
    # given rows of scores (one constant row, one with a few large values), when z-scored, then every bit equals
    # (x - mean) / max(std, 1e-6) in float32, the constant row is all zeros, and the input is unchanged
    rng = np.random.default_rng(3)
    scores = (rng.standard_normal((64, 500)) * 3 + 1).astype(dtype)
    scores[5], scores[7, :10] = 0.0, 9.0
    before = scores.copy()
    x = scores.astype(np.float32)
    expected = (x - x.mean(axis=1, keepdims=True)) / np.maximum(x.std(axis=1, keepdims=True), 1e-6)
    got = zscore_rows(scores)
    assert got.dtype == np.float32 and np.array_equal(got, expected) and not got[5].any()
    assert np.array_equal(scores, before)


def test_zscore_rows_in_place_overwrites_float32_only_and_gives_the_same_bits():
    # given float32 and float64 scores, when z-scored in place, then the float32 array itself holds the z-scores
    # (bit-equal to the copying call) and the float64 one is left and a float32 copy returned
    rng = np.random.default_rng(4)
    single = rng.standard_normal((16, 300)).astype(np.float32)
    expected = zscore_rows(single)
    got = zscore_rows(single, in_place=True)
    assert got is single and np.array_equal(got, expected)
    double = rng.standard_normal((16, 300))
    before = double.copy()
    assert zscore_rows(double, in_place=True).dtype == np.float32 and np.array_equal(double, before)


def test_blend_is_the_weighted_sum_of_the_weighted_parts_only():
    # given three parts, one of weight 0, when blended, then the result equals the plain weighted sum and no input changed;
    # with every weight 0 it is zeros
    rng = np.random.default_rng(5)
    parts = {name: rng.standard_normal((8, 50)).astype(np.float32) for name in ("cf", "cb", "ba")}
    copies = {name: values.copy() for name, values in parts.items()}
    weights = HybridWeights(alpha=1.0, beta=0.0, gamma=0.5)
    assert np.array_equal(blend(parts, weights), parts["cf"] + 0.5 * parts["ba"])
    assert all(np.array_equal(parts[name], copies[name]) for name in parts)
    assert not blend(parts, HybridWeights(alpha=0.0, beta=0.0, gamma=0.0)).any()


def test_served_mask_masks_recent_and_one_off_purchases_on_a_copy_unless_in_place():
    # given a model with a 30-day exclusion and a re-buy rule, when a block's scores are masked, then exactly the dense
    # masks' cells are -inf, the input is untouched, and in place the same cells are set on the input itself
    model = fitted(config=RecommenderConfig(als=AlsConfig(factors=4, iterations=3), exclude_recent_days=30, rebuy_min_share=0.5))
    rows = np.arange(len(model.data.user_ids))
    scores = np.ones((len(rows), len(model.data.item_ids)), dtype=np.float32)
    expected = rules.recent_purchase_mask(model.data.last_days, rows, 30) | own_one_off_mask(
        model.data.counts, rows, rebuy_allowed(model.rebuy, 0.5))
    assert expected.any()
    masked = served_mask(model, rows, scores, 30)
    assert np.array_equal(np.isneginf(masked), expected) and not np.isneginf(scores).any()
    assert served_mask(model, rows, scores, 30, in_place=True) is scores and np.array_equal(np.isneginf(scores), expected)
    assert np.array_equal(rules.history_mask(model.data.counts, rows), model.data.counts.toarray() > 0)


def test_top_columns_in_row_chunks_equal_the_whole_block(monkeypatch):
    # given scores with ties, -inf and short rows, when the top columns are taken in chunks of 3 rows, then they equal one pass
    rng = np.random.default_rng(6)
    scores = np.round(rng.standard_normal((10, 40)), 1)
    scores[2, 5:] = -np.inf
    whole = rules.top_columns(scores, 8)
    monkeypatch.setattr(rules, "TOP_CHUNK_ROWS", 3)
    assert np.array_equal(rules.top_columns(scores, 8), whole) and (whole[2] == -1).sum() == 3
