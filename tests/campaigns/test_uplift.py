"""Uplift from past campaigns: the training frame (features at send time, conversion in the
window), a planted effect the model finds, stored scores behind the `expected_uplift` audience
criterion, and the report's Qini section (with a reason when there is none)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from campaigns.audience import audience_queryset
from campaigns.audience_form import AudienceFields
from campaigns.models import Campaign, Delivery
from campaigns.selectors import campaign_report
from campaigns.services.uplift import uplift_model_train
from campaigns.uplift import uplift_training_frame
from customers.models import Customer, Order, OrderLine, Product
from mlcore.features.selectors import feature_snapshot_frame
from mlcore.features.services import feature_snapshot_build
from mlcore.models import CustomerUplift, ModelVersion
from tests.campaigns.factories import CampaignFactory, VariantFactory
from tests.mlcore.prediction_shop import shop_create, shop_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def past_campaign():
    """A sent campaign with a 50% holdout where the mail made every recent treated buyer order again."""
    shop_create(shop_lines(n_customers=600, seed=5))
    Customer.objects.update(email_consent=True)
    for customer in Customer.objects.all():
        Customer.objects.filter(pk=customer.pk).update(email=f"{customer.external_id.lower()}@example.com")
    last = Order.objects.order_by("-placed_at").values_list("placed_at", flat=True).first()
    send_at = dt.datetime.combine(last.date() - dt.timedelta(days=40), dt.time(9), tzinfo=dt.UTC)
    snapshot_id = feature_snapshot_build(snapshot_at=send_at - dt.timedelta(hours=9))
    features = feature_snapshot_frame(snapshot_id=snapshot_id)
    variant = VariantFactory(campaign__status=Campaign.Status.SENT, campaign__started_at=send_at, campaign__holdout_share=Decimal("0.5"),
                             campaign__conversion_window_days=30, share=100)
    campaign = variant.campaign
    rows, planted = [], []
    for i, (customer_id, recency) in enumerate(features["recency_days"].items()):
        treated = i % 2 == 0
        rows.append(Delivery(campaign=campaign, customer_id=customer_id, variant=variant if treated else None, is_holdout=not treated,
                             status=Delivery.Status.SENT if treated else Delivery.Status.HOLDOUT, sent_at=send_at if treated else None))
        if treated and recency < 90:
            planted.append(customer_id)
    Delivery.objects.bulk_create(rows)
    product = Product.objects.first()
    next_id = Order.objects.order_by("-pk").values_list("pk", flat=True).first() + 1  # the shop wrote explicit ids: PostgreSQL's sequence is behind
    orders = Order.objects.bulk_create([Order(id=next_id + i, external_id=f"U{cid}", customer_id=cid, placed_at=send_at + dt.timedelta(days=3)) for i, cid in enumerate(planted)])
    OrderLine.objects.bulk_create([OrderLine(order=o, line_no=1, product=product, quantity=1, unit_price=Decimal("10.00")) for o in orders])
    return campaign


def test_training_frame_has_features_at_send_time_and_window_outcomes(past_campaign):
    # given the past campaign, when its frame is built, then one row per recipient and holdout member, half treated, planted orders converted
    frame, skipped = uplift_training_frame()
    assert skipped == {} and len(frame) == Delivery.objects.count()
    assert frame["treated"].mean() == pytest.approx(0.5, abs=0.01)
    recent_treated = frame.loc[(frame["treated"] == 1) & (frame["recency_days"] < 90)]
    assert recent_treated["converted"].mean() > 0.95  # a return in the window can make net revenue negative
    assert "frequency" in frame.columns


def test_trained_model_finds_the_planted_effect_and_feeds_the_audience_and_report(past_campaign, admin_user_client):
    # given the past campaign, when the uplift model is trained, then it is active, every customer is scored, recent customers score higher, the criterion selects them and the report shows its Qini
    summary = uplift_model_train()
    assert summary["status"] == ModelVersion.Status.READY and summary["campaigns"] == [past_campaign.pk]
    assert CustomerUplift.objects.count() == summary["scored"] > 0
    features = feature_snapshot_frame(snapshot_id=feature_snapshot_build(snapshot_at=past_campaign.started_at - dt.timedelta(hours=9)))
    scores = dict(CustomerUplift.objects.values_list("customer_id", "uplift"))
    recent = [scores[c] for c in features.index[features["recency_days"] < 90]]
    older = [scores[c] for c in features.index[features["recency_days"] >= 120]]
    assert sum(recent) / len(recent) > sum(older) / len(older) + 0.2
    chosen = set(audience_queryset([{"key": "expected_uplift", "params": {"min": 0.3}}]).values_list("pk", flat=True))
    assert chosen and set(features.index[features["recency_days"] < 90]) & chosen
    assert not chosen & set(features.index[features["recency_days"] >= 200])
    qini = campaign_report(campaign_id=past_campaign.pk)["qini"]
    assert qini["available"] and qini["in_sample"] and qini["coefficient"] > 0.02
    page = admin_user_client.get(f"/admin/campaigns/campaign/{past_campaign.pk}/report/").content.decode()
    assert 'id="qini-chart"' in page and page.count("<polyline") == 2 and "part of the model's training data" in page


def test_too_little_history_fails_the_version_saying_why():
    # given no finished campaign, when training, then a failed version that says what is missing and nothing scored
    summary = uplift_model_train()
    assert summary["status"] == ModelVersion.Status.FAILED and "0 recipients" in summary["error"] and summary["scored"] == 0


def test_report_says_why_there_is_no_qini_curve():
    # given a campaign and no uplift model, when its report is read, then the Qini section explains why
    campaign = CampaignFactory()
    assert "no uplift model is trained yet" in campaign_report(campaign_id=campaign.pk)["qini"]["reason"]


def test_audience_form_turns_points_into_the_uplift_rule():
    # given "expected uplift above 5 points" in the form, when read as rules, then an expected_uplift rule with min 0.05
    form = AudienceFields({"uplift_min": "5", "other_rules": "[]"})
    assert form.is_valid(), form.errors
    assert form.audience_rules() == [{"key": "expected_uplift", "params": {"min": 0.05}}]


def test_train_task_twice_leaves_one_active_version_with_its_scores(past_campaign):
    # given the past campaign, when the training task runs twice, then two ready versions, the second active, its scores one per customer
    from campaigns.tasks import train_uplift

    first, second = train_uplift.delay().get(), train_uplift.delay().get()
    assert first["status"] == second["status"] == ModelVersion.Status.READY and first["version"] != second["version"]
    active = ModelVersion.objects.get(kind="uplift", is_active=True)
    assert active.label == second["version"]
    assert CustomerUplift.objects.filter(model_version=active).count() == second["scored"] == CustomerUplift.objects.filter(model_version=active).values("customer").distinct().count()
