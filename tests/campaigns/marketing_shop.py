"""A generated shop as a marketer meets it: consenting customers with orders, two segmentation
runs, trained lifetime and churn models with every customer scored (recommendations fall back to popularity). Built through
the real pipelines (no hand-written scores), for the dashboard, builder and browser tests."""
from __future__ import annotations

import datetime as dt

from customers.models import Customer, Order
from mlcore.predictions import services as predictions
from mlcore.predictions.scoring import customers_score
from mlcore.segments.services import segmentation_run_build
from tests.mlcore.prediction_shop import shop_create, shop_lines


def marketing_shop_create(n_customers: int = 300) -> dict:
    """Write the shop and run segmentation (twice), churn training and scoring; returns run ids."""
    shop_create(shop_lines(n_customers=n_customers))
    for customer in Customer.objects.all():
        customer.email, customer.email_consent, customer.name = f"{customer.external_id.lower()}@example.com", True, f"Pat {customer.external_id}"
        customer.save(update_fields=["email", "email_consent", "name"])
    last = Order.objects.order_by("-placed_at").values_list("placed_at", flat=True).first()
    end = dt.datetime.combine(last.date() + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    first_run = segmentation_run_build(snapshot_at=end - dt.timedelta(days=90))
    second_run = segmentation_run_build(snapshot_at=end)
    predictions.lifetime_models_train(as_of=end)
    churn = predictions.churn_train(as_of=end)
    customers_score(as_of=end)
    return {"runs": [first_run, second_run], "churn_version": churn.pk, "as_of": end}
