"""The product catalogue and its review highlights as knowledge: passages per product, picked up
by the periodic task when a product or its reviews change, answered with a link to the product page."""
from __future__ import annotations

from decimal import Decimal

import pytest

from campaigns.assistant.models import KnowledgeChunk
from campaigns.assistant.services.catalogue import catalogue_dirty_products, catalogue_reindex
from campaigns.assistant.services.conversations import conversation_start, message_reply
from campaigns.tasks import assistant_reindex_products
from customers.models import Product
from tests.customers.factories import ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cake_stand():
    product = ProductFactory(sku="22423", title="REGENCY CAKESTAND 3 TIER", price=Decimal("12.75"), category="Kitchen", description="")
    ReviewFactory(product=product, rating=5, text="Sturdy and pretty, it held a whole birthday cake without wobbling. Would buy again.")
    ReviewFactory(product=product, rating=2, text="The top tier arrived slightly bent and needed straightening.")
    return product


def test_each_product_gets_a_facts_and_a_reviews_passage(cake_stand):
    # given a product with two reviews, when the catalogue is indexed, then it has its facts and its review highlights
    ProductFactory(sku="POST", title="POSTAGE", kind=Product.Kind.FEE)
    assert catalogue_reindex() == {"indexed": 1, "chunks": 2, "left": 0}
    facts, reviews = KnowledgeChunk.objects.filter(product=cake_stand).order_by("ordinal")
    assert "12.75 GBP" in facts.text and "in stock" in facts.text and "item 22423" in facts.text
    assert "3.5 of 5" in reviews.text and "whole birthday cake" in reviews.text and "slightly bent" in reviews.text


def test_second_run_does_nothing_and_a_change_is_picked_up(cake_stand):
    # given an indexed catalogue, when nothing changed the task does nothing; when the price or a review changes, only that product moves
    other = ProductFactory(title="JUMBO BAG RED RETROSPOT")
    catalogue_reindex()
    assert catalogue_dirty_products() == [] and assistant_reindex_products() == {"indexed": 0, "chunks": 0, "left": 0}
    untouched = set(KnowledgeChunk.objects.filter(product=other).values_list("id", flat=True))
    Product.objects.filter(pk=cake_stand.pk).update(price=Decimal("10.00"), active=False)
    Product.objects.get(pk=cake_stand.pk).save(update_fields=["updated_at"])  # what an import's update does
    assert catalogue_dirty_products() == [cake_stand.pk]
    catalogue_reindex()
    assert "10.00 GBP" in KnowledgeChunk.objects.get(product=cake_stand, ordinal=0).text
    assert "no longer sold" in KnowledgeChunk.objects.get(product=cake_stand, ordinal=0).text
    ReviewFactory(product=other, rating=4, text="Holds a lot of shopping and folds away small.")
    assert catalogue_dirty_products() == [other.pk]
    catalogue_reindex()
    assert not untouched & set(KnowledgeChunk.objects.filter(product=other).values_list("id", flat=True))


def test_a_product_that_becomes_a_fee_leaves_the_catalogue(cake_stand):
    # given an indexed product, when it is re-classed as a fee, then the next run removes its passages
    catalogue_reindex()
    Product.objects.filter(pk=cake_stand.pk).update(kind=Product.Kind.FEE)
    catalogue_reindex()
    assert not KnowledgeChunk.objects.filter(product=cake_stand).exists()


def test_task_works_through_batches_until_none_left():
    # given more changed products than a batch, when the task runs (eager), then it queues itself until all are indexed
    ProductFactory.create_batch(5)
    assistant_reindex_products(batch=2)
    assert catalogue_dirty_products() == [] and KnowledgeChunk.objects.filter(product__isnull=False).count() == 5


def test_product_question_is_answered_from_the_catalogue_with_a_link(knowledge, cake_stand):
    # given the indexed catalogue beside the articles, when a customer asks a product's price, then the answer cites its page
    catalogue_reindex()
    reply = message_reply(conversation_id=conversation_start(customer_id=None).pk, text="How much does the regency cakestand 3 tier cost?")
    assert "12.75" in reply.text
    assert reply.citations[0]["sku"] == "22423" and reply.citations[0]["url"].endswith("/products/22423/")
    reply = message_reply(conversation_id=conversation_start(customer_id=None).pk, text="What do customers say about the regency cakestand?")
    assert "birthday cake" in reply.text or "3.5 of 5" in reply.text
