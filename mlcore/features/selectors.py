"""Reads of stored feature snapshots as DataFrames (one raw query, no model objects)."""
from __future__ import annotations

import pandas as pd
from django.db import connection

from mlcore.features.models import FEATURE_COLUMNS
from mlcore.models import CustomerFeatures, FeatureSnapshot


def feature_snapshot_frame(*, snapshot_id: int) -> pd.DataFrame:
    """Every customer's stored features of one snapshot, indexed by customer_id (float columns)."""
    if not FeatureSnapshot.objects.filter(pk=snapshot_id).exists():
        raise FeatureSnapshot.DoesNotExist(f"No feature snapshot with id {snapshot_id}.")
    quote = connection.ops.quote_name
    columns = ["customer_id", *FEATURE_COLUMNS]
    sql = (
        f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(CustomerFeatures._meta.db_table)} "
        f"WHERE {quote('snapshot_id')} = %s ORDER BY {quote('customer_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [snapshot_id])
        rows = cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame[list(FEATURE_COLUMNS)] = frame[list(FEATURE_COLUMNS)].astype("float64")
    return frame.set_index(frame["customer_id"].astype("int64").rename("customer_id")).drop(columns="customer_id")


def feature_snapshot_latest(*, before=None) -> FeatureSnapshot | None:
    qs = FeatureSnapshot.objects.filter(status=FeatureSnapshot.Status.READY)
    if before is not None:
        qs = qs.filter(snapshot_at__lt=before)
    return qs.order_by("-snapshot_at", "-id").first()
