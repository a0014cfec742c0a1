"""The second real shop (Olist, ../shared/data/olist): imported with the project's mappings, every pipeline run on it.

Under 1% of its customers order twice, so churn and lifetime value must refuse and say so, and the
recommender must not fill lists with what the customer already bought. Figures: docs/second-shop.md.
"""
import datetime as dt

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.db.models import F

from customers.imports.joined import import_joined
from customers.models import ImportBatch, Order, OrderLine, Product, Review
from customers.selectors import reviews_frame
from mlcore.models import ModelVersion, RecommendationList, Segment
from mlcore.predictions import services as predictions
from mlcore.recommendations import services as recommendations
from mlcore.registry import services as registry
from mlcore.segments import services as segments
from tests.conftest import real_data_path

pytestmark = [pytest.mark.django_db, pytest.mark.realdata, pytest.mark.slow]
MAPPINGS = django_settings.BASE_DIR / "docs" / "mappings"


def test_olist_imports_and_every_pipeline_says_what_the_shop_supports():
    # given the Olist files, when imported with docs/mappings and every pipeline runs, then the counts match the files,
    # churn and lifetime value refuse with the reason, and the recommender serves lists without one-off re-buys
    folder = real_data_path("olist/olist_orders_dataset_sample.csv.gz").parent
    batches = {name: ImportBatch.objects.get(pk=import_joined(mapping_path=MAPPINGS / f"olist_{name}.yaml", folder=folder))
               for name in ("orders", "reviews", "products")}  # products last: see docs/second-shop.md (titles)
    assert all(b.status == ImportBatch.Status.SUCCEEDED for b in batches.values())
    assert Order.objects.count() == 6893 and Product.objects.count() == 32951 and Review.objects.count() == 8225
    assert Product.objects.exclude(category="").count() > 32000 and Order.objects.filter(currency="BRL").count() == 6893
    assert Product.objects.filter(title=F("sku")).count() < 200  # Olist's catalogue rows without a category keep their SKU

    snapshot = (Order.objects.latest("placed_at").placed_at + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    run_id = segments.segmentation_run_build(snapshot_at=snapshot)
    assert Segment.objects.filter(run_id=run_id).count() >= 2

    bg, gg = predictions.lifetime_models_train()
    churn = predictions.churn_train()
    for mv in (bg, gg, churn):
        assert mv.status == ModelVersion.Status.FAILED and not mv.is_active and "too little repeat behaviour" in mv.notes
    assert registry.model_version_active(kind="churn") is None

    rec = recommendations.recommender_train(fast=True)
    assert rec.is_active and "too little repeat behaviour" in rec.notes and rec.metrics["products"] < 5000
    bought = set(OrderLine.objects.values_list("order__customer_id", "product_id"))
    listed = [(customer, product) for customer, _, product, _, _ in RecommendationList.objects.filter(model_version=rec).slots()]
    assert len(listed) > 50_000 and sum(pair in bought for pair in listed) <= 0.001 * len(listed)


def test_portuguese_reviews_are_scored_by_the_multilingual_encoder_in_line_with_their_stars():
    # given 300 imported Olist reviews with text and clear stars, when the multilingual E5 scores them zero-shot against
    # the Portuguese reference sentences,
    # then positive reviews score higher than negative ones (ROC AUC above 0.85)
    from sklearn.metrics import roc_auc_score

    from mlcore.ml.feedback.fallback import ZeroShotSentiment, e5_encoder

    folder = real_data_path("olist/olist_order_reviews_dataset_sample.csv.gz").parent
    import_joined(mapping_path=MAPPINGS / "olist_reviews.yaml", folder=folder)
    frame = reviews_frame()
    frame = frame[frame["text"].ne("") & frame["rating"].isin([1, 2, 4, 5])].sort_values("review_id").head(300)
    assert set(frame["language"]) == {"pt"}
    model = ZeroShotSentiment(e5_encoder(django_settings.MULTILINGUAL_MODEL_PATH or None), "pt")
    p = model.predict_proba(frame["text"].tolist())
    assert roc_auc_score(frame["rating"].ge(4).to_numpy(), p) > 0.85 and np.isfinite(p).all()
