import numpy as np
import pytest

from mlcore.ml.recommendations import ranker, ranker_train
from mlcore.ml.recommendations.cf import AlsConfig
from mlcore.ml.recommendations.model import RecommenderConfig, fit_recommender
from mlcore.ml.recommendations.ranker_data import candidate_texts, merge_pairs, relation_texts
from mlcore.ml.recommendations.rerank import CrossEncoderReranker, choose_weight, combine, grouped_ndcg, rerank_columns
from tests.mlcore.ml.shop_frames import shop_embeddings, shop_lines, shop_products

torch = pytest.importorskip("torch")
SMALL = RecommenderConfig(als=AlsConfig(factors=4, iterations=3), knn_neighbours=5, exclude_recent_days=0, max_per_category=2, similar_n=3)


@pytest.fixture(scope="module")
def model():
    return fit_recommender(shop_lines(), shop_products(), shop_embeddings(), config=SMALL)


@pytest.fixture(scope="module")
def tiny_reranker():
    tokenizer = ranker.load_tokenizer(ranker_train.default_model_path())
    return CrossEncoderReranker(encoder=ranker.tiny_model(tokenizer.vocab_size, seed=3), tokenizer=tokenizer, max_len=32, weight=1.0, batch_size=4)


def test_grouped_ndcg_matches_hand_computed_values():
    # given two customers with one bought pair each, ranked 1st and 2nd, when scored, then NDCG is the mean of 1 and 1/log2(3)
    groups, labels = np.array([0, 0, 1, 1]), np.array([1.0, 0.0, 0.0, 1.0])
    value = grouped_ndcg(groups, labels, np.array([0.9, 0.1, 0.8, 0.2]))
    assert value == pytest.approx((1.0 + 1.0 / np.log2(3)) / 2)


def test_choose_weight_keeps_the_hybrid_when_the_ranker_only_adds_noise():
    # given logits that carry no signal and a hybrid that ranks every bought pair first, when lambda is chosen, then it is 0
    groups, labels = np.repeat(np.arange(20), 4), np.tile([1.0, 0.0, 0.0, 0.0], 20)
    base = np.tile([1.0, 0.0, -0.5, -1.0], 20)
    weight, trials = choose_weight(groups, labels, base, np.random.default_rng(0).standard_normal(80))
    assert weight == 0.0 and trials["0.0"] == pytest.approx(1.0)


def test_choose_weight_takes_the_ranker_when_it_knows_better():
    # given a hybrid that ranks the bought pair last and logits that rank it first, when lambda is chosen, then it is above 0
    groups, labels = np.repeat(np.arange(20), 4), np.tile([1.0, 0.0, 0.0, 0.0], 20)
    weight, _ = choose_weight(groups, labels, np.tile([-1.0, 0.0, 0.5, 1.0], 20), np.tile([5.0, 0.0, 0.0, 0.0], 20))
    assert weight > 0


def test_combine_and_rerank_columns_order_candidates_by_the_blend():
    # given two candidates and a padded slot, when blended with a strong ranker, then the ranker's favourite leads and the pad stays last
    top = np.array([[7, 3, -1]])
    scores = combine(np.array([[1.0, -1.0, np.nan]]), np.array([[0.0, 3.0, np.nan]]), 1.0)
    columns, ordered = rerank_columns(top, scores)
    assert columns.tolist() == [[3, 7, -1]] and ordered[0, 0] == pytest.approx(2.0) and ordered[0, 2] == -np.inf
    assert rerank_columns(top, combine(np.array([[1.0, -1.0, np.nan]]), np.array([[0.0, 3.0, np.nan]]), 0.0))[0].tolist() == [[7, 3, -1]]


def test_candidate_text_names_the_customers_relation_to_the_product(model):
    # given a customer's favourite product and one they never bought, when described, then the text says bought n times / never bought
    row = 0
    bought = int(model.data.counts[row].indices[np.argmax(model.data.counts[row].data)])
    never = int(np.setdiff1d(np.arange(len(model.data.item_ids)), model.data.counts[row].indices)[0])
    texts = relation_texts(model, np.array([row, row]), np.array([bought, never]))
    assert texts[0].startswith(f"bought {int(model.data.counts[row, bought])} times, last ") and " in united kingdom" in texts[0]
    assert texts[1].startswith("never bought")
    assert candidate_texts(model, np.array([row]), np.array([never]))[0].endswith(f"{model.titles[never]}. {model.categories[never].lower()}")


def test_reranker_scores_each_distinct_pair_once_and_pads_with_nan(model, tiny_reranker):
    # given candidates with a repeated pair and a pad, when the tiny ranker scores them, then repeats agree and the pad is nan
    logits = tiny_reranker.candidate_logits(model, np.array([0, 1]), np.array([[2, 5, -1], [2, 5, 2]]))
    assert np.isnan(logits[0, 2]) and np.isfinite(logits[1]).all()
    assert logits[1, 0] == pytest.approx(logits[1, 2])
    blended = tiny_reranker(model, np.array([0]), np.array([[2, 5, -1]]), np.zeros((1, 8), dtype=np.float32))
    assert blended.shape == (1, 3) and blended[0, 2] == -np.inf


def test_merge_pairs_keeps_a_pair_present_in_both_sets_once(model):
    # given the same pairs built twice, when merged, then nothing is duplicated and texts still resolve
    from mlcore.ml.recommendations.ranker_data import build_pairs

    truth = {row: {0, 1} for row in range(len(model.data.user_ids))}
    pairs = build_pairs(model, truth, candidates=6, negatives_per_positive=1)
    merged = merge_pairs(pairs, pairs)
    assert len(merged.labels) == len(pairs.labels) and sorted(merged.texts[merged.second]) == sorted(pairs.texts[pairs.second])
