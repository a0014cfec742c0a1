"""Stored recommender output: every customer's top-N (one row a customer), per-product similar items, popular lists.

Every row points at the recommender ModelVersion that produced it; serving reads the active one.
"""
from __future__ import annotations

from django.db import models

from mlcore.registry.models import ModelVersion


class RecommendationListQuerySet(models.QuerySet):
    def slots(self) -> list[tuple[int, int, int, float, str]]:
        """The lists as (customer_id, rank, product_id, score, reason) rows, by customer then rank."""
        out = []
        for customer_id, items in self.order_by("customer_id").values_list("customer_id", "items"):
            out.extend((customer_id, rank, product_id, score, reason) for rank, (product_id, score, reason) in enumerate(items, start=1))
        return out


class RecommendationList(models.Model):
    """One customer's top-N of one recommender version: `items` is [[product_id, score, reason], ...],
    best first. Derived rows, rewritten every night: one row per customer, not one per slot, so a
    million customers' lists are 1M rows and index entries instead of 20M (the write was the
    nightly top-N's largest part, docs/scale.md). The keys carry no database constraint (the shard
    writer holds the customers and products it writes, store.recommendations_replace); deleting a
    customer or version cascades through the ORM, and a product deleted since the night is skipped
    by the readers, which join every listed product."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="recommendation_lists", db_constraint=False,
        db_index=False,  # the unique (version, customer) index leads with it
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    items = models.JSONField(help_text="[[product id, score, reason], ...], best first")

    objects = RecommendationListQuerySet.as_manager()

    class Meta:
        ordering = ["model_version_id", "customer_id"]
        constraints = [
            models.UniqueConstraint(fields=["model_version", "customer"], name="recommendationlist_unique_customer"),
        ]

    def __str__(self) -> str:
        return f"{len(self.items)} products for {self.customer_id} (v{self.model_version_id})"


class SimilarProduct(models.Model):
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="similar_products")
    product = models.ForeignKey("customers.Product", on_delete=models.CASCADE, related_name="+")
    similar = models.ForeignKey("customers.Product", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()

    class Meta:
        ordering = ["model_version_id", "product_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["model_version", "product", "rank"], name="similarproduct_unique_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.similar_id} similar to {self.product_id} (#{self.rank})"


class PopularProduct(models.Model):
    """The fallback list of a country ('' = the whole shop) for customers without history."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="popular_products")
    country = models.CharField(max_length=64, blank=True)
    product = models.ForeignKey("customers.Product", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()

    class Meta:
        ordering = ["model_version_id", "country", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["model_version", "country", "rank"], name="popularproduct_unique_rank"),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.product_id} popular in {self.country or 'the shop'}"
