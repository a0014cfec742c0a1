"""Migration 0018 carries the stored top-N over from one row a slot to one row a customer (and back)."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("mlcore", "0017_recommendation_keys_without_constraints")]
AFTER = [("mlcore", "0018_recommendation_lists")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_slot_rows_become_one_list_a_customer_in_rank_order_and_back():
    # given the schema before 0018 with two customers' slot rows of one version, written out of rank order
    apps = _migrate(BEFORE)
    version = apps.get_model("mlcore", "ModelVersion").objects.create(kind="recommender", version=1, status="ready")
    customer = apps.get_model("customers", "Customer")
    product = apps.get_model("customers", "Product")
    ann, bob = customer.objects.create(external_id="ANN"), customer.objects.create(external_id="BOB")
    mug, pot = product.objects.create(sku="MUG", title="Mug"), product.objects.create(sku="POT", title="Pot")
    slots = apps.get_model("mlcore", "Recommendation")
    slots.objects.create(model_version=version, customer=ann, product=pot, rank=2, score=0.5, reason="popular in the shop")
    slots.objects.create(model_version=version, customer=ann, product=mug, rank=1, score=0.9, reason="you bought this once")
    slots.objects.create(model_version=version, customer=bob, product=pot, rank=1, score=0.7, reason="")
    try:
        # when migrated to 0018, then each customer has one list, best first, with every slot's product, score and reason
        lists = _migrate(AFTER).get_model("mlcore", "RecommendationList").objects.order_by("customer_id")
        assert [(row.customer_id, row.items) for row in lists] == [
            (ann.pk, [[mug.pk, 0.9, "you bought this once"], [pot.pk, 0.5, "popular in the shop"]]),
            (bob.pk, [[pot.pk, 0.7, ""]]),
        ]
        # and when migrated back, then the slot rows are as they were
        back = _migrate(BEFORE).get_model("mlcore", "Recommendation").objects.order_by("customer_id", "rank")
        assert list(back.values_list("customer_id", "product_id", "rank", "score", "reason")) == [
            (ann.pk, mug.pk, 1, 0.9, "you bought this once"), (ann.pk, pot.pk, 2, 0.5, "popular in the shop"), (bob.pk, pot.pk, 1, 0.7, ""),
        ]
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
