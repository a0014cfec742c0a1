"""Staff alerts: a negative review by a high-value customer raises one alert (once per review);
staff work through the open ones and mark them done.

High value: the customer's net spend (sales less returns, from the order lines) is at or above
the FEEDBACK_HIGH_VALUE_PERCENTILE percentile of customers who bought (80 by default).
"""
from __future__ import annotations

import numpy as np
from django.db import transaction
from django.utils import timezone

from customers.models import Review
from customers.selectors import customer_net_spend_totals
from mlcore.feedback.services.config import feedback_settings
from mlcore.models import ReviewAlert


def high_value_customer_ids(*, percentile: float | None = None) -> set[int]:
    """Customers whose net spend is at or above the percentile (and positive)."""
    percentile = feedback_settings().high_value_percentile if percentile is None else percentile
    spend = customer_net_spend_totals()  # summed in the database (each shard of a scoring run asks once)
    spend = spend[spend > 0]
    if spend.empty:
        return set()
    threshold = float(np.percentile(spend.to_numpy(), percentile))
    return {int(c) for c in spend[spend >= threshold].index}


def review_alerts_raise(*, review_ids: list[int], high_value: set[int] | None = None) -> int:
    """Alerts for those negative reviews whose customer is high value; returns how many are new.

    `high_value` lets a scoring run compute the high-value set once for all its batches.
    """
    rows = list(Review.objects.filter(pk__in=review_ids, customer__isnull=False).values_list("id", "customer_id", "rating"))
    if not rows:
        return 0
    valuable = high_value if high_value is not None else high_value_customer_ids()
    candidates = [r for r in rows if r[1] in valuable]
    already = set(ReviewAlert.objects.filter(review_id__in=[r[0] for r in candidates]).values_list("review_id", flat=True))
    new = [
        ReviewAlert(review_id=rid, customer_id=cid, reason=f"Negative review (rating {rating or '-'}) by a high-value customer")
        for rid, cid, rating in candidates if rid not in already
    ]
    ReviewAlert.objects.bulk_create(new, ignore_conflicts=True)  # the unique review keeps it to one alert
    return len(new)


@transaction.atomic
def review_alert_mark_done(*, alert_id: int, user_id: int | None) -> bool:
    """Close an open alert; False when it was done already (safe to click twice)."""
    updated = ReviewAlert.objects.filter(pk=alert_id, status=ReviewAlert.Status.OPEN).update(
        status=ReviewAlert.Status.DONE, done_by_id=user_id, done_at=timezone.now(),
    )
    return bool(updated)
