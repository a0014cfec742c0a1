"""Stored recommender output: per-customer top-N, per-product similar items, popular lists.

Every row points at the recommender ModelVersion that produced it; serving reads the active one.
"""
from __future__ import annotations

from django.db import models

from mlcore.registry.models import ModelVersion


class Recommendation(models.Model):
    """One slot of a customer's top-N. Derived rows, rewritten every night (20M at a million
    customers): the foreign keys carry no database constraint, whose per-row checks at commit were
    most of the write; the shard writer holds the rows it points at instead (store.recommendations_replace),
    and deletes cascade through the ORM as before (the customer and product columns stay indexed)."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="recommendations", db_constraint=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    product = models.ForeignKey("customers.Product", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["model_version_id", "customer_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["model_version", "customer", "rank"], name="recommendation_unique_rank"),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.product_id} for {self.customer_id} (v{self.model_version_id})"


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
