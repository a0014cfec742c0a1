import math

import pytest

from mlcore.ml.recommendations.metrics import coverage, ndcg_at_k, recall_at_k, summarise


def test_recall_counts_hits_over_truth_size():
    # given a list with 2 of the 4 truth items in its top 3, when recall@3 runs, then it is 2/4
    assert recall_at_k([1, 9, 2, 3], {1, 2, 3, 4}, 3) == pytest.approx(0.5)


def test_ndcg_matches_a_hand_computed_value():
    # given hits at ranks 1 and 3 and two truth items, when NDCG@3 runs, then it equals the hand value
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k([7, 0, 8], {7, 8}, 3) == pytest.approx(expected)


def test_ndcg_is_one_for_a_perfect_list_and_zero_without_hits():
    # given perfect and hopeless lists, when NDCG@2 runs, then they score 1 and 0
    assert ndcg_at_k([1, 2, 5], {1, 2}, 2) == pytest.approx(1.0)
    assert ndcg_at_k([5, 6], {1, 2}, 2) == 0.0


def test_metrics_refuse_an_empty_truth_set():
    # given no truth, when recall runs, then it says the metric is undefined
    with pytest.raises(ValueError, match="empty truth"):
        recall_at_k([1], set(), 10)


def test_coverage_and_summary_on_a_small_case():
    # given two customers' lists over a 40-item catalogue, when summarised, then means and coverage are exact
    lists = {0: list(range(20)), 1: [5] + list(range(20, 39))}
    truth = {0: {0, 15}, 1: {5}}
    result = summarise(lists, truth, n_items=40)
    assert result["recall@10"] == pytest.approx((0.5 + 1.0) / 2)
    assert result["recall@20"] == pytest.approx(1.0)
    assert result["ndcg@10"] == pytest.approx((1 / (1 + 1 / math.log2(3)) + 1.0) / 2)
    assert coverage([[1, 2], [2, 3]], 10, 2) == pytest.approx(0.3)
    assert result["coverage@10"] == pytest.approx(19 / 40)  # 0-9 and 20-28; 5 is shared
