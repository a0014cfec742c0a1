import pytest

from mlcore.models import RecommendationList
from mlcore.recommendations.ranker_serving import ranker_for_serving
from mlcore.recommendations.services import recommender_train
from tests.mlcore.recommend_shop import make_shop, tiny_ranker_version, use_small_lists

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(settings):
    use_small_lists(settings)
    settings.RANKER_CANDIDATES = 8
    settings.TORCH_THREADS = 1
    return make_shop()


def stored_lists(version) -> dict[int, list[int]]:
    lists: dict[int, list[int]] = {}
    for customer, _, product, _, _ in RecommendationList.objects.filter(model_version=version).slots():
        lists.setdefault(customer, []).append(product)
    return lists


def test_without_an_active_ranker_lists_are_the_hybrids(shop):
    # given no ranker, when the recommender trains, then nothing is re-ranked and its params say so
    assert ranker_for_serving() is None
    assert recommender_train(fast=True).params["ranker"] is None


def test_an_active_ranker_reorders_the_stored_lists_and_is_named_by_the_version(shop, tmp_path):
    # given a hybrid-only version and then an active tiny ranker that dominates the blend, when retrained, then lists change and name the ranker
    hybrid = recommender_train(fast=True)
    ranker_version = tiny_ranker_version(tmp_path / "ranker", weight=100.0)
    reranked = recommender_train(fast=True)
    assert reranked.params["ranker"] == {"model_version": ranker_version.pk, "version": 1, "weight": 100.0, "candidates": 8}
    before, after = stored_lists(hybrid), stored_lists(reranked)
    assert before.keys() == after.keys() and all(len(items) == 5 for items in after.values())
    assert before != after
    slots = RecommendationList.objects.filter(model_version=reranked).slots()
    assert all(reason for *_, reason in slots)
    assert not {product for _, _, product, _, _ in slots} & {shop["fee"].pk, shop["inactive"].pk}
    assert (shop["customers"][0].pk, shop["products"][6].pk) not in {(c, p) for c, _, p, _, _ in slots}  # bought 2 days ago
    for customer in after:
        scores = [score for c, _, _, score, _ in slots if c == customer]
        assert scores == sorted(scores, reverse=True)


def test_a_ranker_with_blend_weight_zero_is_not_used(shop, tmp_path):
    # given an active ranker whose chosen lambda was 0, when the recommender trains, then its lists are the hybrid's alone
    tiny_ranker_version(tmp_path / "ranker", weight=0.0)
    assert ranker_for_serving() is None
    assert recommender_train(fast=True).params["ranker"] is None


def test_a_cpu_host_skips_reranking_past_its_pair_budget(shop, tmp_path, settings, caplog):
    # given an active useful ranker and a CPU budget smaller than the shop's pairs, when the recommender trains, then the lists are the hybrid's and a warning says why
    tiny_ranker_version(tmp_path / "ranker", weight=100.0)
    settings.RANKER_CPU_MAX_PAIRS = 10
    assert ranker_for_serving(pairs=10) is not None
    assert recommender_train(fast=True).params["ranker"] is None
    assert "RANKER_CPU_MAX_PAIRS" in caplog.text
