"""TIFU-KNN, the repeat/explore slot split, the vectorised NDCG, the paired bootstrap and the coordinate search."""
import numpy as np
import pandas as pd
import pytest

from mlcore.ml.recommendations import metrics, slots, tifu
from mlcore.ml.recommendations.hybrid import HybridWeights, coordinate_search
from mlcore.ml.recommendations.interactions import build_interactions

DAY = pd.Timestamp("2011-01-01", tz="UTC")
A, B, C, D = 10, 11, 12, 13


def basket_lines(baskets: list[tuple[int, int, set[int]]]) -> pd.DataFrame:
    """(customer, day, products) per basket -> order lines, one order per basket."""
    rows = [(customer, f"O{n}", DAY + pd.Timedelta(days=day), product, "UK")
            for n, (customer, day, products) in enumerate(baskets) for product in sorted(products)]
    return pd.DataFrame(rows, columns=["customer_id", "order_id", "placed_at", "product_id", "country"])


def hand_case():
    # customer 1 buys {A}, {A, B}, {C} (oldest first); customer 2 buys {C}; customer 3 buys {D}
    lines = basket_lines([(1, 0, {A}), (1, 5, {A, B}), (1, 9, {C}), (2, 3, {C}), (3, 4, {D})])
    return lines, build_interactions(lines, np.array([A, B, C, D]))


def test_basket_vectors_decay_within_and_across_groups_by_hand():
    # given groups of 2 baskets counted from the newest and both decays 0.5, when u is made, then it is the hand-computed vector:
    # newest group {A,B},{C}: 0.5/2 and 1/2, halved again for 2 groups; oldest group {A} alone: 1/1 x 0.5 / 2
    lines, data = hand_case()
    config = tifu.TifuConfig(group_size=2, within_decay=0.5, across_decay=0.5, neighbours=1, blend=0.5)
    u = tifu.customer_vectors(lines, data, config).toarray()
    assert u[0] == pytest.approx([0.125 + 0.25, 0.125, 0.25, 0.0])
    assert u[1] == pytest.approx([0, 0, 1.0, 0]) and u[2] == pytest.approx([0, 0, 0, 1.0])


def test_scores_blend_the_own_vector_with_the_nearest_neighbours():
    # given k = 1, when customer 1 is scored, then their neighbour is customer 2 (shares C) and the score is 0.5 u1 + 0.5 u2
    lines, data = hand_case()
    model = tifu.fit_tifu(lines, data, tifu.TifuConfig(group_size=2, within_decay=0.5, across_decay=0.5, neighbours=1, blend=0.5))
    assert model.neighbours[0].indices.tolist() == [1]
    assert tifu.tifu_scores(model, np.array([0]))[0] == pytest.approx([0.1875, 0.0625, 0.625, 0.0])
    assert tifu.tifu_scores(model, np.array([0]), blend=1.0)[0] == pytest.approx([0.375, 0.125, 0.25, 0.0])


def test_nobody_is_their_own_neighbour_and_weights_average():
    # given three customers and k = 2, when neighbours are found, then each row holds the two others at 1/2
    lines, data = hand_case()
    neighbours = tifu.nearest_neighbours(tifu.customer_vectors(lines, data, tifu.TifuConfig()), 2).toarray()
    assert np.diag(neighbours).tolist() == [0, 0, 0]
    assert neighbours.sum(axis=1) == pytest.approx([1.0, 1.0, 1.0])


def test_rebuy_rate_counts_purchases_that_were_re_buys():
    # given a customer who bought P0 in two orders and P1 once, when the rate is made without shrinkage, then 1 re-buy in 3 purchases
    from scipy import sparse

    counts = sparse.csr_matrix(np.array([[2.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))
    assert slots.rebuy_rates(counts, np.array([0, 1]), prior=0.5, pseudo=0.0) == pytest.approx([1 / 3, 0.0])
    assert slots.rebuy_rates(counts, np.array([1]), prior=0.5, pseudo=1.0) == pytest.approx([0.25])
    assert slots.shop_rebuy_rate(counts) == pytest.approx(1 / 4)


def test_slots_grow_with_the_rebuy_rate_and_b_zero_is_one_share_for_all():
    rates = np.array([0.02, 0.5, 0.98])
    assert slots.repeat_slots(slots.SlotModel(a=0.0, b=0.0, prior=0.3), rates, 10).tolist() == [5, 5, 5]
    grown = slots.repeat_slots(slots.SlotModel(a=0.0, b=1.0, prior=0.3), rates, 10)
    assert grown.tolist() == [0, 5, 10]


def test_mixed_list_takes_the_repeat_slots_then_explore_items():
    # given 3 repeat slots but only 2 own products, when mixed, then both own products lead and explore fills the rest
    repeat = np.array([[5, 6, -1, -1], [7, 8, 9, -1]])
    explore = np.array([[1, 2, 3, 4], [1, 2, 3, 4]])
    assert slots.mix_lists(repeat, explore, np.array([3, 1])).tolist() == [[5, 6, 1, 2], [7, 1, 2, 3]]
    assert slots.mix_lists(repeat, explore, np.array([0, 0])).tolist() == explore.tolist()
    # an explore list that runs out is topped up with the remaining own products
    assert slots.mix_lists(np.array([[5, 6, 7, -1]]), np.array([[1, -1, -1, -1]]), np.array([1])).tolist() == [[5, 1, 6, 7]]


def test_fitted_split_gives_re_buyers_their_own_products_and_explorers_new_ones():
    # given a re-buyer (rate 0.9) whose next basket is own products and an explorer (0.1) whose is new, when fitted, then b > 0 splits them
    repeat, explore = np.array([[0, 1], [2, 3]]), np.array([[4, 5], [6, 7]])
    truth = np.zeros((2, 8), dtype=bool)
    truth[0, [0, 1]] = truth[1, [6, 7]] = True
    model, value, trials = slots.fit_slots(repeat, explore, np.array([0.9, 0.1]), 0.5,
                                           lambda top: float(np.nanmean(metrics.ndcg_rows(top, truth, k=2))), k=2)
    assert value == pytest.approx(1.0) and model.b > 0
    assert slots.repeat_slots(model, np.array([0.9, 0.1]), 2).tolist() == [2, 0]
    assert len(trials) == len(slots.A_GRID) * len(slots.B_GRID)


def test_vectorised_ndcg_matches_the_reference_metric():
    rng = np.random.default_rng(3)
    truth = rng.random((40, 30)) < 0.1
    truth[0] = False
    top = np.argsort(-rng.random((40, 30)), axis=1)[:, :10]
    top[5, 7:] = -1
    fast = metrics.ndcg_rows(top, truth)
    assert np.isnan(fast[0])
    for i in range(1, 40):
        if truth[i].any():
            assert fast[i] == pytest.approx(metrics.ndcg_at_k([c for c in top[i] if c >= 0], set(np.flatnonzero(truth[i])), 10))


def test_paired_bootstrap_interval():
    base = np.linspace(0, 1, 200)
    same = metrics.paired_bootstrap(base, base)
    assert same == {"gain": 0.0, "low": 0.0, "high": 0.0, "significant": False}
    shifted = metrics.paired_bootstrap(base + 0.1, base)
    assert shifted["gain"] == pytest.approx(0.1) and shifted["low"] == pytest.approx(0.1) and shifted["significant"]
    noise = np.random.default_rng(1).normal(0, 1, 200)
    drawn = metrics.paired_bootstrap(base + noise - noise.mean(), base, seed=4)
    assert drawn["low"] < 0 < drawn["high"] and not drawn["significant"]  # a zero-mean difference is no gain
    assert drawn == metrics.paired_bootstrap(base + noise - noise.mean(), base, seed=4)  # seeded
    with pytest.raises(ValueError):
        metrics.paired_bootstrap(base, base[:10])


def test_coordinate_search_finds_the_tifu_weight_and_never_loses_to_its_start():
    # given parts where the blend equals epsilon (ALS all zeros, TIFU all ones) and an objective peaking at epsilon 2,
    # when searched from epsilon 0, then it moves there; with a flat objective it keeps the start
    parts = {"cf": np.zeros((1, 2)), "tifu": np.ones((1, 2))}
    start = HybridWeights(epsilon=0.0)
    best, value, trials = coordinate_search(parts, lambda scores: -abs(float(scores[0, 0]) - 2.0), start)
    assert best.epsilon == 2.0 and value == 0.0 and trials[0]["epsilon"] == 0.0
    flat, flat_value, _ = coordinate_search(parts, lambda scores: 0.0, start)
    assert flat == start and flat_value == 0.0


def test_served_lists_follow_the_slot_split_and_name_readable_reasons():
    # given the small shop fitted with TIFU-KNN, when a customer's slots are all repeat or all explore, then their list is
    # own products first or new products only, and the reasons say "you bought this ..." / "customers like you bought this"
    import dataclasses

    from mlcore.ml.recommendations.model import RecommenderConfig, fit_recommender, recommend_block
    from tests.mlcore.ml.shop_frames import shop_embeddings, shop_lines, shop_products

    config = RecommenderConfig(exclude_recent_days=0, max_per_category=10, tifu=tifu.TifuConfig(neighbours=3))
    model = fit_recommender(shop_lines(), shop_products(), shop_embeddings(), config=config,
                            weights=HybridWeights(alpha=0.0, beta=0.0, gamma=0.0, delta=0.0, epsilon=1.0))
    model.explore_weights = HybridWeights(alpha=0.0, beta=0.0, gamma=0.0, delta=0.0, epsilon=1.0)
    row = 0
    own = set(model.data.counts[row].indices.tolist())
    model.slots = slots.SlotModel(a=20.0, b=0.0, prior=0.3)  # every slot to re-buys
    repeat = recommend_block(model, np.array([row]), 4)[0]
    assert {r.column for r in repeat[:len(own)]} == own
    assert all(r.reason.startswith("you bought this") for r in repeat[:len(own)])
    model.slots = dataclasses.replace(model.slots, a=-20.0)  # every slot to exploring
    explore = recommend_block(model, np.array([row]), 4)[0]
    new = [r for r in explore if r.column not in own]
    assert explore[:len(new)] == new and new  # the new products come first
    assert {r.reason for r in new} == {"customers like you bought this"}
    assert [r.score for r in explore] == sorted((r.score for r in explore), reverse=True)


def test_neighbours_come_from_the_reference_sample_when_capped():
    # given 30 customers and a reference sample of 10, when neighbours are found, then every neighbour is a sampled customer
    rng = np.random.default_rng(2)
    from scipy import sparse

    vectors = sparse.csr_matrix(rng.random((30, 6)) * (rng.random((30, 6)) < 0.5))
    capped = tifu.nearest_neighbours(vectors, 3, max_reference=10)
    used = np.unique(capped.indices)
    assert len(used) <= 10 and np.diag(capped.toarray()).sum() == 0
    assert np.allclose(capped.sum(axis=1), 1.0)
    full = tifu.nearest_neighbours(vectors, 3)
    assert np.array_equal(full.toarray(), tifu.nearest_neighbours(vectors, 3, max_reference=30).toarray())


def test_an_artefact_made_before_tifu_and_the_split_still_serves_its_hybrid():
    # given a fitted model pickled without the issue-18 fields (as older artefacts are), when loaded and asked, then it serves
    import pickle

    from mlcore.ml.recommendations.model import RecommenderConfig, fit_recommender, recommend_block
    from tests.mlcore.ml.shop_frames import shop_embeddings, shop_lines, shop_products

    model = fit_recommender(shop_lines(), shop_products(), shop_embeddings(), config=RecommenderConfig(tifu=None))
    for name in ("tifu", "explore_weights", "slots"):
        del model.__dict__[name]
    weights = dict(model.weights.__dict__)
    weights.pop("epsilon")
    object.__setattr__(model.weights, "__dict__", weights)
    old = pickle.loads(pickle.dumps(model))  # noqa: S301 - our own bytes, as the registry loads its artefacts
    assert old.tifu is None and old.slots is None and old.weights.epsilon == 0.0
    listed = recommend_block(old, np.arange(3), 4)
    assert all(len(items) == 4 for items in listed)


@pytest.mark.parametrize("block", [1, 7, 128])
def test_blocked_neighbour_search_finds_the_most_similar_customers_by_brute_force(block):
    # given distinct similarities, when neighbours are searched in blocks of any size, then each row holds
    # exactly the k customers of highest cosine (self left out), as a dense brute force finds them
    from scipy import sparse

    rng = np.random.default_rng(3)
    dense = rng.random((40, 9)) * (rng.random((40, 9)) < 0.6) + np.eye(40, 9) * 1e-3
    normed = dense / np.linalg.norm(dense, axis=1, keepdims=True)
    cosine = normed @ normed.T
    np.fill_diagonal(cosine, -np.inf)
    expected = np.sort(np.argsort(-cosine, axis=1)[:, :4], axis=1)
    found = tifu.nearest_neighbours(sparse.csr_matrix(dense), 4, block=block)
    assert found.dtype == np.float32 and np.allclose(found.sum(axis=1), 1.0)
    assert np.array_equal(np.sort(found.indices.reshape(40, 4), axis=1), expected)


def test_neighbours_of_some_rows_are_the_full_search_rows_and_the_rest_stay_empty():
    # given a row subset (an evaluation's scored customers, unsorted, repeated), when only they are searched, then
    # their rows equal the full search's (reference sample included) and every other row is empty
    from scipy import sparse

    rng = np.random.default_rng(5)
    vectors = sparse.csr_matrix(rng.random((60, 8)) * (rng.random((60, 8)) < 0.5))
    full = tifu.nearest_neighbours(vectors, 3, max_reference=25, block=7)
    rows = np.array([41, 2, 17, 2, 59, 0])
    some = tifu.nearest_neighbours(vectors, 3, rows=rows, max_reference=25, block=7)
    searched = np.unique(rows)
    assert (some[searched] != full[searched]).nnz == 0
    others = np.setdiff1d(np.arange(60), searched)
    assert some[others].nnz == 0 and np.diff(some.indptr)[searched].tolist() == [3] * len(searched)


@pytest.mark.parametrize("rows", [[-1, 3], [3, 60]])
def test_rows_outside_the_customers_are_refused(rows):
    # given a row that is no customer of the vectors, when neighbours are searched for it, then it is refused (not wrapped round)
    from scipy import sparse

    with pytest.raises(ValueError, match="rows outside"):
        tifu.nearest_neighbours(sparse.csr_matrix(np.eye(60, 8)), 3, rows=rows)
