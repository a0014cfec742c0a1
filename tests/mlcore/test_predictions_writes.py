"""Customer scores written through frame_insert (COPY on PostgreSQL) equal what the ORM writes."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.utils import timezone

from customers.models import Customer
from infra import bulk as bulk_write
from mlcore.models import CustomerScore
from mlcore.predictions.scoring import score_table, scores_replace
from mlcore.registry import services as registry

pytestmark = pytest.mark.django_db
FIELDS = ["customer_id", "model_version_id", "bgnbd_version_id", "gamma_gamma_version_id", "churn_probability", "probability_active",
          "expected_purchases_30", "expected_purchases_90", "expected_purchases_365", "expected_value_12m",
          "expected_value_12m_low", "expected_value_12m_high", "value_reason", "reason", "scored_at"]


def scored(n: int = 7):
    customers = Customer.objects.bulk_create([Customer(external_id=f"C{i}") for i in range(n)])
    frame = pd.DataFrame({
        "probability": np.linspace(0.05, 0.95, n), "probability_active": [np.nan, *np.linspace(0.1, 0.9, n - 1)],
        "expected_purchases_30": 0.5, "expected_purchases_90": 1.5, "expected_purchases_365": [None, *[3.0] * (n - 1)],
        "expected_value_12m": np.arange(n, dtype=float) * 10.5, "expected_value_12m_low": [np.nan, *[1.0] * (n - 1)],
        "expected_value_12m_high": [np.nan, *[99.5] * (n - 1)], "value_reason": ["", *["spent 10.50 in 2 orders"] * (n - 1)], "reason": ['days since last order, "quoted"', *["frequency\ttab"] * (n - 1)],
    }, index=pd.Index([c.pk for c in customers], name="customer_id"))
    mv = registry.model_version_create(kind="churn", params={})
    bg = registry.model_version_create(kind="bgnbd", params={})
    return frame, mv, {"bgnbd_version_id": bg.pk, "gamma_gamma_version_id": None}


def stored(mv) -> list[tuple]:
    return list(CustomerScore.objects.filter(model_version=mv).order_by("customer_id").values_list(*FIELDS))


def orm_rows(frame, mv, versions, scored_at) -> list[CustomerScore]:
    values = frame.astype({"probability": "float64"}).replace({np.nan: None})
    return [CustomerScore(
        customer_id=int(i), model_version_id=mv.pk, churn_probability=float(r.probability), probability_active=r.probability_active,
        expected_purchases_30=r.expected_purchases_30, expected_purchases_90=r.expected_purchases_90, expected_purchases_365=r.expected_purchases_365,
        expected_value_12m=r.expected_value_12m, expected_value_12m_low=r.expected_value_12m_low, expected_value_12m_high=r.expected_value_12m_high,
        value_reason=str(r.value_reason or ""), reason=str(r.reason)[:400], scored_at=scored_at,
        bgnbd_version_id=versions.get("bgnbd_version_id"), gamma_gamma_version_id=versions.get("gamma_gamma_version_id"),
    ) for i, r in zip(values.index, values.itertuples(index=False), strict=True)]


def test_score_writes_equal_the_orm_rows_on_this_backend():
    # given a score frame with NULLs, quotes and tabs, when written through frame_insert and through bulk_create, then the rows match
    frame, mv, versions = scored()
    scores_replace(mv=mv, frame=frame, versions=versions, job_id=None, batch_size=3)
    fast = stored(mv)
    at = fast[0][-1]
    CustomerScore.objects.filter(model_version=mv).delete()
    CustomerScore.objects.bulk_create(orm_rows(frame, mv, versions, at))
    assert fast == stored(mv)
    assert fast[0][5] is None and fast[0][8] is None and fast[0][3] is None and fast[0][13] == 'days since last order, "quoted"'


def test_score_writes_replace_the_versions_set_when_run_twice():
    # given a written score set, when the same version is written again, then one set remains
    frame, mv, versions = scored()
    scores_replace(mv=mv, frame=frame, versions=versions, job_id=None, batch_size=4)
    scores_replace(mv=mv, frame=frame, versions=versions, job_id=None, batch_size=4)
    assert CustomerScore.objects.filter(model_version=mv).count() == len(frame)


def test_the_fallback_insert_stores_datetimes_as_the_orm_does():
    # given an aware timestamp, when inserted by the fallback, then the ORM reads back the same instant and filters on it
    frame, mv, versions = scored(2)
    at = timezone.now().replace(microsecond=123456)
    with connection.cursor():
        bulk_write.executemany_insert(CustomerScore._meta.db_table, [CustomerScore._meta.get_field(n).column for n in score_table(frame, mv, versions, at).columns],
                                      score_table(frame, mv, versions, at))
    assert CustomerScore.objects.filter(scored_at=at).count() == 2
    assert stored(mv)[0][-1] == at.astimezone(dt.UTC)


@pytest.mark.services
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is the PostgreSQL path; set DATABASE_URL")
def test_copy_and_executemany_write_the_same_scores_on_postgresql():
    # given PostgreSQL, when the same score table goes through COPY and through executemany, then the stored rows match
    frame, mv, versions = scored()
    table = score_table(frame, mv, versions, timezone.now())
    columns = [CustomerScore._meta.get_field(n).column for n in table.columns]
    bulk_write.copy_insert(CustomerScore._meta.db_table, columns, table, binary=False)
    copied = stored(mv)
    CustomerScore.objects.filter(model_version=mv).delete()
    bulk_write.executemany_insert(CustomerScore._meta.db_table, columns, table)
    assert copied == stored(mv)
