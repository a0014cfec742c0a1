"""Webhooks emitted by mlcore, batched per run: segment.entered (one per segment that gained
customers), churn_risk.crossed (one per scoring run), review.negative (one per scoring batch)."""
from __future__ import annotations

import datetime as dt

import pytest

from customers.models import Customer
from mlcore.feedback.services import reviews_score
from mlcore.feedback.services.scoring import reviews_score_batch
from mlcore.models import CustomerScore, SegmentationRun
from mlcore.predictions import services as predictions
from mlcore.predictions.scoring import customers_score
from mlcore.segments.selectors import run_entrants
from mlcore.segments.services import segmentation_run_build
from tests.conftest import emitted
from tests.customers.factories import ProductFactory, ReviewFactory
from tests.mlcore.feedback_support import NEGATIVE_TEXTS, POSITIVE_TEXTS
from tests.mlcore.prediction_shop import shop_create, shop_lines
from tests.mlcore.segment_shop import SNAPSHOT, make_shop

pytestmark = pytest.mark.django_db


def test_segment_entered_is_one_event_per_segment_with_exact_counts(webhook_subscriber, settings):
    # given a shop segmented twice, when each run stores, then each segment that gained customers emits one event whose count matches the run's entrants
    settings.WEBHOOK_MAX_CUSTOMERS = 5
    make_shop()
    first = segmentation_run_build(snapshot_at=SNAPSHOT)
    first_events = emitted("segment.entered")
    assert sum(e["customers"]["count"] for e in first_events) == Customer.objects.count()  # no earlier run: everyone entered
    assert all(len(e["customers"]["external_ids"]) <= 5 for e in first_events)
    assert any(e["customers"]["truncated"] for e in first_events)
    assert {e["segment"]["key"] for e in first_events} == set(SegmentationRun.objects.get(pk=first).segments.values_list("key", flat=True))
    second = segmentation_run_build(snapshot_at=SNAPSHOT + dt.timedelta(days=30))
    later_events = [e for e in emitted("segment.entered") if e["run_id"] == second]
    assert sum(e["customers"]["count"] for e in later_events) == run_entrants(run_id=second).count()
    assert len(emitted("segment.entered")) == len(first_events) + len(later_events)


def test_churn_risk_crossed_lists_customers_who_reached_the_threshold_once(webhook_subscriber):
    # given trained models, when scoring runs twice on unchanged data, then the first run emits one event with every at-risk customer and the second emits none
    shop_create(shop_lines())
    predictions.lifetime_models_train()
    mv = predictions.churn_train()
    customers_score()
    customers_score()
    [payload] = emitted("churn_risk.crossed")
    at_risk = CustomerScore.objects.filter(model_version=mv, churn_probability__gte=0.5)
    assert payload["customers"]["count"] == at_risk.count() > 0
    assert payload["model_version"] == {"kind": "churn", "version": mv.version} and payload["threshold"] == 0.5
    assert set(payload["customers"]["external_ids"]) <= set(at_risk.values_list("customer__external_id", flat=True))


def test_review_negative_is_sent_once_per_review_per_batch(webhook_subscriber):
    # given positive and negative reviews, when scored and then re-scored, then one event lists the negative ones and re-scoring sends nothing more
    product = ProductFactory(sku="MUG-1")
    for text in POSITIVE_TEXTS + NEGATIVE_TEXTS:
        ReviewFactory(product=product, rating=5 if text in POSITIVE_TEXTS else 1, title="", text=text)
    reviews_score()
    [payload] = emitted("review.negative")
    assert payload["count"] == len(payload["reviews"]) > 0
    assert all(r["product_sku"] == "MUG-1" and r["sentiment_score"] < 0 for r in payload["reviews"])
    reviews_score_batch([r["review_id"] for r in payload["reviews"]])
    assert len(emitted("review.negative")) == 1
