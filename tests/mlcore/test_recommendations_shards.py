"""Sharded top-N: customer-id ranges, idempotent shard reruns, the chord's one Job row, deleted customers and products left out."""
import numpy as np
import pytest
from django.db import OperationalError, connection, connections, transaction

from customers.models import Customer, Order, OrderLine
from infra.bulk import rows_held
from infra.models import Job
from infra.shards import rows_in_range, shard_ranges
from mlcore.models import ModelVersion, RecommendationList
from mlcore.recommendations.selectors import recommendations_for_customer
from mlcore.recommendations.services import (
    recommendations_shard_write,
    recommender_finish,
    recommender_fit_store,
    recommender_shards,
)
from mlcore.recommendations.tasks import train_recommender
from tests.customers.factories import ProductFactory
from tests.mlcore.recommend_shop import make_shop, use_small_lists


def test_shard_ranges_cover_every_id_once_in_slices_of_at_most_size():
    # given unsorted ids with gaps and repeats, when cut into shards of 3, then the half-open ranges hold every id once, 3 at most each
    ids = np.array([40, 2, 7, 7, 19, 3, 100, 55])
    ranges = shard_ranges(ids=ids, size=3)
    assert ranges == [(2, 19), (19, 100), (100, 101)]
    unique = np.unique(ids)
    held = [unique[(unique >= a) & (unique < b)].tolist() for a, b in ranges]
    assert sum(held, []) == unique.tolist() and max(len(h) for h in held) <= 3
    assert shard_ranges(ids=np.array([], dtype=np.int64), size=3) == []
    with pytest.raises(ValueError):
        shard_ranges(ids=ids, size=0)


def test_rows_in_range_are_the_positions_of_the_ranges_ids():
    # given sorted ids, when a range is looked up, then the positions of exactly its ids come back
    assert rows_in_range(sorted_ids=np.array([2, 3, 7, 19, 40]), first_id=3, end_id=19) == range(1, 3)
    assert rows_in_range(sorted_ids=np.array([2, 3]), first_id=10, end_id=20) == range(2, 2)


@pytest.fixture
def shop(settings):
    use_small_lists(settings)
    settings.RECOMMENDER_SHARD_CUSTOMERS = 5
    return make_shop()


@pytest.mark.django_db
def test_a_shard_run_twice_leaves_one_list_per_customer_and_touches_no_other_range(shop):
    # given a fitted version and its shards, when one shard is written twice, then its customers hold one list each and others none
    version = recommender_fit_store(fast=True)
    shards = recommender_shards(version_id=version.pk)
    assert len(shards) == 3  # 12 customers, 5 a shard
    first_id, end_id = shards[1]
    once = recommendations_shard_write(version_id=version.pk, first_id=first_id, end_id=end_id)
    again = recommendations_shard_write(version_id=version.pk, first_id=first_id, end_id=end_id)
    lists = RecommendationList.objects.filter(model_version=version)
    assert once == again == len(lists.slots()) == 5 * 5 and lists.count() == 5
    assert set(lists.values_list("customer_id", flat=True)) == {c.pk for c in shop["customers"] if first_id <= c.pk < end_id}
    assert not ModelVersion.objects.get(pk=version.pk).is_active  # not active until every shard is written


@pytest.mark.django_db
def test_the_task_writes_every_shard_then_activates_with_progress_on_one_job(shop):
    # given shards of 5 customers, when the nightly task runs (eager: the chord in-process), then one job counts all 12 and the version is active
    result = train_recommender.apply(kwargs={"fast": True}).get()
    version = ModelVersion.objects.get(pk=result["model_version"])
    job = Job.objects.get(pk=result["job_id"])
    assert result["shards"] == 3 and version.is_active
    assert job.status == Job.Status.SUCCEEDED and job.done == job.total == 12 and job.message == f"recommender v{version.version} active"
    assert RecommendationList.objects.filter(model_version=version).count() == 12
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_a_failing_shard_fails_the_job_and_leaves_the_version_inactive(shop, monkeypatch):
    # given a shard that breaks, when the task runs, then the job is failed with the reason and the new version is not active
    import mlcore.recommendations.tasks as tasks

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tasks, "recommendations_shard_write", broken)
    with pytest.raises(RuntimeError):
        train_recommender.apply(kwargs={"fast": True}).get()
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED and "disk full" in job.error
    assert not ModelVersion.objects.filter(kind="recommender", is_active=True).exists()


@pytest.mark.django_db
def test_a_shard_leaves_out_a_customer_and_a_product_deleted_since_the_fit_and_deletes_still_cascade(shop):
    # given a fitted version, then a customer and a product deleted before its shards are written
    version = recommender_fit_store(fast=True)
    gone_customer, gone_product = shop["customers"][3], shop["products"][1]
    Order.objects.filter(customer=gone_customer).delete()
    gone_customer.delete()
    OrderLine.objects.filter(product=gone_product).delete()
    gone_product.delete()
    # when every shard is written (with the foreign-key constraints the commit failed, at every retry)
    written = sum(recommendations_shard_write(version_id=version.pk, first_id=a, end_id=b) for a, b in recommender_shards(version_id=version.pk))
    # then the 11 other customers hold a list each, none names the deleted product, and the written count is the slots stored
    lists = RecommendationList.objects.filter(model_version=version)
    assert written == len(lists.slots()) > 0
    assert set(lists.values_list("customer_id", flat=True)) == {c.pk for c in shop["customers"]} - {gone_customer.pk}
    assert gone_product.pk not in {product for _, _, product, _, _ in lists.slots()}
    # and deleting a customer still removes their list (the ORM's cascade, no database constraint needed)
    kept = shop["customers"][5]
    Order.objects.filter(customer=kept).delete()
    kept.delete()
    assert not RecommendationList.objects.filter(customer_id=kept.pk).exists() and lists.exists()


@pytest.mark.django_db
def test_rows_held_returns_the_ids_that_exist_among_those_asked(shop):
    # given the shop's customers, when asked for theirs plus ids that were never rows, then only the existing ones come back, sorted
    ids = sorted(c.pk for c in shop["customers"][2:6])
    asked = np.array([*reversed(ids), max(ids) + 10_000, -1, ids[0]])
    with transaction.atomic():
        assert rows_held(model=Customer, ids=asked).tolist() == ids
    assert rows_held(model=Customer, ids=np.array([], dtype=np.int64)).size == 0


@pytest.mark.django_db(transaction=True)
def test_rows_held_makes_a_concurrent_delete_wait_on_postgresql():
    # given a customer held by a writer's open transaction, when another connection locks it for a non-key update, then it need not wait;
    # when it deletes it, then the delete waits (here: times out)
    if connection.vendor != "postgresql":
        pytest.skip("the FOR KEY SHARE lock is PostgreSQL's; SQLite serialises writers")
    customer = Customer.objects.create(external_id="HELD")
    other = connections.create_connection("default")
    try:
        with transaction.atomic():
            assert rows_held(model=Customer, ids=np.array([customer.pk])).tolist() == [customer.pk]
            with other.cursor() as cursor:
                cursor.execute("SET lock_timeout = '300ms'")
                cursor.execute("BEGIN")  # the consent change's lock (customers.services.customer_set_consent) does not wait
                cursor.execute("SELECT id FROM customers_customer WHERE id = %s FOR NO KEY UPDATE", [customer.pk])
                assert cursor.fetchone() == (customer.pk,)
                cursor.execute("ROLLBACK")
                with pytest.raises(OperationalError, match="lock timeout"):
                    cursor.execute("DELETE FROM customers_customer WHERE id = %s", [customer.pk])
    finally:
        other.close()
    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db
def test_finishing_a_version_deletes_lists_whose_customer_went_and_readers_skip_a_product_that_went(shop):
    # given a version's shards written, then what a delete racing a shard leaves: a gone customer's list, a gone product first in a list
    version = recommender_fit_store(fast=True)
    for first_id, end_id in recommender_shards(version_id=version.pk):
        recommendations_shard_write(version_id=version.pk, first_id=first_id, end_id=end_id)
    lists = RecommendationList.objects.filter(model_version=version)
    before = lists.count()
    RecommendationList.objects.create(model_version=version, customer_id=10**9, items=[[shop["products"][0].pk, 1.0, ""]])
    first = lists.get(customer=shop["customers"][0])
    first.items = [[10**9, 9.0, "gone"], *first.items]
    first.save(update_fields=["items"])
    # when the version is finished, then the gone customer's list is gone, the rest kept, and the version is active;
    # and the customer with the gone product is served their other products
    finished = recommender_finish(version_id=version.pk)
    assert finished.is_active and lists.count() == before and not lists.filter(customer_id=10**9).exists()
    served = recommendations_for_customer(customer_id=shop["customers"][0].pk, k=5)
    assert [item.product_id for item in served] == [p for p, _, _ in first.items[1:6]]


@pytest.mark.django_db
def test_a_list_frame_keeps_held_finite_listed_slots_and_round_trips_reasons_that_csv_and_json_escape():
    # given a block of three customers' top-4: padding, a -inf score (what the re-ranker gives a NaN logit), a product and a customer not held,
    # and reasons holding quotes, commas, backslashes, a newline, a tab and non-ASCII
    from types import SimpleNamespace

    from infra.bulk import frame_insert
    from mlcore.ml.recommendations.topn import TopBlock
    from mlcore.recommendations.store import Held, list_frame

    version = ModelVersion.objects.create(kind="recommender", version=1, status="ready")
    ann, bob, gone = (Customer.objects.create(external_id=x) for x in ("ANN", "BOB", "GONE"))
    products = [ProductFactory() for _ in range(4)]
    model = SimpleNamespace(data=SimpleNamespace(user_ids=np.array([ann.pk, bob.pk, gone.pk]), item_ids=np.array([p.pk for p in products])))
    reasons = ['similar to "Heart" mug, set of 3', "bought together with C:\\tin\\box", "línea\nnueva 购物车 \t tab"]
    top = TopBlock(
        columns=np.array([[0, 1, 2, -1], [3, 0, 1, -1], [1, 2, 3, 0]]),
        scores=np.array([[0.9, 0.8, 0.7, np.nan], [0.6, -np.inf, 0.55, np.nan], [0.5, 0.4, 0.3, 0.2]]),
        reasons=np.array([[*reasons, ""], ["popular in the shop", "x", "customers like you bought this", ""], ["a", "b", "c", "d"]], dtype=object),
    )
    held = Held(customers=np.array(sorted([ann.pk, bob.pk])), products=np.array(sorted(p.pk for p in products[:3])))
    # when the block's frame is made and written as a shard writes it (COPY on PostgreSQL)
    frame, slots = list_frame(version.pk, model, np.arange(3), top, held=held)
    assert frame_insert(model=RecommendationList, frame=frame, binary=False) == 2
    # then ann keeps her three slots with their reasons as given; bob loses the product not held and the -inf slot; the
    # customer not held gets no row; padding is never stored; the slot count is what was stored
    stored = {row.customer_id: row.items for row in RecommendationList.objects.all()}
    assert stored == {
        ann.pk: [[products[i].pk, score, reason] for i, score, reason in zip(range(3), [0.9, 0.8, 0.7], reasons, strict=True)],
        bob.pk: [[products[1].pk, 0.55, "customers like you bought this"]],
    }
    assert slots == 4


