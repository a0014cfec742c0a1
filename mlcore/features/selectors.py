"""Reads of stored feature snapshots as DataFrames (one raw query, no model objects), and of the
shop's reviews and support contacts that the features are built from."""
from __future__ import annotations

import numpy as np
import pandas as pd
from django.db import connection

from customers.models import Event, Review
from mlcore.features.models import FEATURE_COLUMNS
from mlcore.models import CustomerFeatures, FeatureSnapshot


def feature_snapshot_frame(*, snapshot_id: int, first_id: int | None = None, end_id: int | None = None,
                           columns: list[str] | None = None) -> pd.DataFrame:
    """The stored features of one snapshot, indexed by customer_id (float columns): every customer,
    or those with ids in [first_id, end_id) (a shard's); every column, or `columns`."""
    if not FeatureSnapshot.objects.filter(pk=snapshot_id).exists():
        raise FeatureSnapshot.DoesNotExist(f"No feature snapshot with id {snapshot_id}.")
    quote = connection.ops.quote_name
    names = list(FEATURE_COLUMNS if columns is None else columns)
    unknown = set(names) - set(FEATURE_COLUMNS)
    if unknown:
        raise ValueError(f"not feature columns: {sorted(unknown)}")
    where, params = [f"{quote('snapshot_id')} = %s"], [snapshot_id]
    if first_id is not None:
        where.append(f"{quote('customer_id')} >= %s")
        params.append(first_id)
    if end_id is not None:
        where.append(f"{quote('customer_id')} < %s")
        params.append(end_id)
    sql = (
        f"SELECT {', '.join(quote(c) for c in ['customer_id', *names])} FROM {quote(CustomerFeatures._meta.db_table)} "
        f"WHERE {' AND '.join(where)} ORDER BY {quote('customer_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=["customer_id", *names])
    frame[names] = frame[names].astype("float64")
    return frame.set_index(frame["customer_id"].astype("int64").rename("customer_id")).drop(columns="customer_id")


def feature_snapshot_customer_ids(*, snapshot_id: int) -> np.ndarray:
    """The ids of the customers in one snapshot, ascending (one indexed column, not the feature values)."""
    ids = CustomerFeatures.objects.filter(snapshot_id=snapshot_id).order_by("customer_id").values_list("customer_id", flat=True)
    return np.fromiter(ids.iterator(chunk_size=50_000), dtype=np.int64)


def feature_snapshot_latest(*, before=None) -> FeatureSnapshot | None:
    qs = FeatureSnapshot.objects.filter(status=FeatureSnapshot.Status.READY)
    if before is not None:
        qs = qs.filter(snapshot_at__lt=before)
    return qs.order_by("-snapshot_at", "-id").first()


def support_events_frame(*, until=None, first_id: int | None = None, end_id: int | None = None) -> pd.DataFrame:
    """customer_id, kind, occurred_at of the support contacts the assistant recorded (churn features);
    with `first_id` and `end_id` those of customers with ids in [first_id, end_id) (a shard's)."""
    qs = Event.objects.filter(kind__in=[Event.Kind.SUPPORT_CONTACT, Event.Kind.SUPPORT_NEGATIVE], customer__erased_at__isnull=True)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    if first_id is not None:
        qs = qs.filter(customer_id__gte=first_id, customer_id__lt=end_id).order_by("pk")
    frame = pd.DataFrame.from_records(list(qs.values_list("customer_id", "kind", "occurred_at")), columns=["customer_id", "kind", "occurred_at"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    return frame


def review_signals_frame(*, until=None, first_id: int | None = None, end_id: int | None = None) -> pd.DataFrame:
    """customer_id, created_at, rating and sentiment score (-1..1, NaN unscored) of every customer's reviews
    (or of customers with ids in [first_id, end_id))."""
    qs = Review.objects.filter(customer__isnull=False, customer__erased_at__isnull=True)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    if first_id is not None:
        qs = qs.filter(customer_id__gte=first_id, customer_id__lt=end_id).order_by("pk")
    rows = qs.values_list("customer_id", "created_at", "rating", "sentiment__score")
    frame = pd.DataFrame.from_records(list(rows), columns=["customer_id", "created_at", "rating", "sentiment"])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame.astype({"rating": "float64", "sentiment": "float64"})
