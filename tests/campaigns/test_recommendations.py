"""The recommendation provider seam: one call per batch when the provider can, one per customer when not."""
from __future__ import annotations

from campaigns import recommendations


def _single(customer_id, k):
    return [f"p{customer_id}-{i}" for i in range(k)]


def _batched(customer_id, k):
    raise AssertionError("a provider with `many` is asked once per batch")


_batched.many = lambda ids, k: {cid: [f"b{cid}"] * k for cid in ids if cid != 3}


def test_provider_without_many_is_asked_per_customer(settings):
    # given a plain provider, when a batch asks, then each customer gets the provider's own answer
    settings.CAMPAIGN_RECOMMENDATION_PROVIDER = "tests.campaigns.test_recommendations._single"
    assert recommendations.recommendations_for_many([1, 2], 2) == {1: ["p1-0", "p1-1"], 2: ["p2-0", "p2-1"]}


def test_provider_with_many_is_asked_once_and_gaps_become_empty_lists(settings):
    # given a batching provider that knows nobody called 3, when a batch asks, then one call answers all and 3 gets an empty list
    settings.CAMPAIGN_RECOMMENDATION_PROVIDER = "tests.campaigns.test_recommendations._batched"
    assert recommendations.recommendations_for_many([1, 3], 1) == {1: ["b1"], 3: []}
    assert recommendations.recommendations_for_many([1], 0) == {1: []}
