"""Stored recommender output: per-customer top-N, per-product similar items, popular lists.

Every row points at the recommender ModelVersion that produced it; serving reads the active one.
"""
from __future__ import annotations

from django.db import models

from mlcore.registry.models import ModelVersion


class Recommendation(models.Model):
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="recommendations")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("customers.Product", on_delete=models.CASCADE, related_name="+")
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
