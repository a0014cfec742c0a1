"""Nightly scoring: every customer's churn risk with its reason, purchase probability and value,
written in bulk for the active churn version, plus the drift report of that version.

The work is cut into shards of customer-id ranges (`SCORING_SHARD_CUSTOMERS`): `scoring_plan`
picks the version and tonight's feature snapshot (built if missing) and the ranges; each
`scores_shard_write` reads its range of the snapshot, scores it and replaces that range of the
version's rows in one transaction (a redelivered shard rewrites the same rows); `scoring_finish`
drops rows of customers no longer scored, writes the drift report and the churn_risk.crossed
webhook. `customers_score` runs the three in one process; the `mlcore.score_customers` task runs
the shards as a chord on the ml queue. Rows carry the run's time, so a reader sees each
customer's previous or new score while a run is under way, never none.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from customers.models import Customer
from customers.webhooks.services import webhook_customers, webhook_event_emit, webhook_event_wanted
from infra import jobs
from infra.bulk import frame_insert
from infra.shards import shard_ranges
from mlcore.features.selectors import feature_snapshot_customer_ids, feature_snapshot_frame
from mlcore.features.services import feature_snapshot_build
from mlcore.ml.features import lifetime_summary
from mlcore.ml.predictions import bgnbd, gamma_gamma
from mlcore.ml.predictions.drift import drift_table
from mlcore.ml.predictions.value_intervals import value_interval, value_reasons
from mlcore.models import CustomerScore, DriftReport, ModelVersion
from mlcore.predictions.services import (
    BGNBD,
    CHURN,
    GAMMA_GAMMA,
    UNIT_DAYS,
    feature_config_of,
    json_safe,
    moment_of,
)
from mlcore.registry import services as registry

log = logging.getLogger(__name__)
HORIZONS_DAYS = (30, 90, 365)


class NoActiveChurnModel(Exception):
    """Scoring needs an active churn version (train one with `manage.py train_models`)."""


@dataclass(frozen=True)
class ScoringResult:
    model_version_id: int
    scored: int
    max_psi: float | None


LIFETIME_COLUMNS = ["probability_active", "expected_purchases_30", "expected_purchases_90", "expected_purchases_365",
                    "expected_value_12m", "expected_value_12m_low", "expected_value_12m_high"]


def lifetime_figures(features: pd.DataFrame, *, annual_discount_rate: float) -> tuple[pd.DataFrame, dict]:
    """P(active), expected purchases, 12-month value (with its interval and reason) from the active
    BG/NBD and Gamma-Gamma, on the snapshot's lifetime summary columns."""
    bg_mv, gg_mv = registry.model_version_active(kind=BGNBD), registry.model_version_active(kind=GAMMA_GAMMA)
    index = features.index
    out = pd.DataFrame(index=index, columns=LIFETIME_COLUMNS, dtype="float64").assign(value_reason="")
    if bg_mv is None:
        return out, {}
    unit = float(bg_mv.params.get("unit_days", UNIT_DAYS))
    s = lifetime_summary(features, unit_days=unit).reindex(index)
    known = s["frequency"].notna()
    s = s[known]
    purchase = registry.model_version_load_object(version_id=bg_mv.pk)
    out.loc[known, "probability_active"] = bgnbd.probability_alive(purchase, s["frequency"], s["recency"], s["T"])
    for days in HORIZONS_DAYS:
        out.loc[known, f"expected_purchases_{days}"] = bgnbd.expected_purchases(purchase, days / unit, s["frequency"], s["recency"], s["T"])
    if gg_mv is not None:
        value = value_figures(features.loc[known, "net_spend_365"], s, gg_mv, purchase, unit=unit, annual_discount_rate=annual_discount_rate,
                              purchases_365=out.loc[known, "expected_purchases_365"])
        for column, source in [("expected_value_12m", "value"), ("expected_value_12m_low", "low"), ("expected_value_12m_high", "high"), ("value_reason", "reason")]:
            out.loc[known, column] = value[source].to_numpy()
    return out, {"bgnbd_version_id": bg_mv.pk, "gamma_gamma_version_id": getattr(gg_mv, "pk", None)}


def value_figures(past_year: pd.Series, s: pd.DataFrame, gg_mv: ModelVersion, purchase, *, unit: float, annual_discount_rate: float, purchases_365) -> pd.DataFrame:
    """The served 12-month value (past net spend or the capped BG/NBD x Gamma-Gamma), its interval (model, small shops) and reason."""
    served = gg_mv.params.get("served_model", "bgnbd_gamma_gamma")
    out = pd.DataFrame({"value": np.nan, "low": np.nan, "high": np.nan}, index=s.index)
    if served == "past_spend":
        out["value"] = past_year.reindex(s.index).fillna(0.0).to_numpy(dtype="float64")
    else:
        spend = registry.model_version_load_object(version_id=gg_mv.pk)
        monetary = gamma_gamma.capped(s["monetary"], gg_mv.params.get("spend_cap"))
        out["value"] = gamma_gamma.customer_lifetime_value(
            purchase, spend, s["frequency"], s["recency"], s["T"], monetary, annual_discount_rate=annual_discount_rate, unit_days=unit,
        )
        interval = value_interval(gg_mv.params.get("bootstrap") or [], s, unit_days=unit, annual_discount_rate=annual_discount_rate)
        out["low"], out["high"] = interval["low"].to_numpy(), interval["high"].to_numpy()
    out["reason"] = value_reasons(out["value"], purchases_365, served=served)
    return out


def score_features(model, features: pd.DataFrame, *, annual_discount_rate: float) -> tuple[pd.DataFrame, dict]:
    """Every score of these customers' snapshot rows (index customer_id) and the lifetime versions used."""
    scores = model.reasons(features)
    lifetime, versions = lifetime_figures(features, annual_discount_rate=annual_discount_rate)
    return scores.join(lifetime), versions


@dataclass(frozen=True)
class ScoringPlan:
    version_id: int
    snapshot_id: int
    snapshot_at: str  # ISO: the moment the snapshot and the drift report describe
    scored_at: str  # ISO: every row of this run carries it
    previous_at: str | None  # the latest churn score set before this run (churn_risk.crossed compares with it)
    ranges: list[tuple[int, int]]
    customers: int

    def as_dict(self) -> dict:
        return asdict(self)


def scoring_plan(*, as_of=None, size: int | None = None) -> ScoringPlan:
    """The active churn version, tonight's snapshot of its definition (built now if missing) and the shards."""
    mv = registry.model_version_active(kind=CHURN)
    if mv is None:
        raise NoActiveChurnModel("no active churn model: run `manage.py train_models` first")
    model = registry.model_version_load_object(version_id=mv.pk)["model"]
    snapshot = moment_of(as_of)  # the shop's today (customers.clock), or the given moment
    snapshot_id = feature_snapshot_build(snapshot_at=snapshot.to_pydatetime(), config=feature_config_of(getattr(model, "config", {})))
    ids = feature_snapshot_customer_ids(snapshot_id=snapshot_id)  # the shards read their own ranges of the rows
    if not len(ids):
        raise ValueError(f"no customer has a sale before {snapshot:%Y-%m-%d}: nothing to score")
    previous = CustomerScore.objects.filter(model_version__kind=CHURN).aggregate(at=Max("scored_at"))["at"]
    ranges = shard_ranges(ids=ids, size=size or settings.SCORING_SHARD_CUSTOMERS)
    log.info("scoring churn v%s on feature snapshot %s: %d customers in %d shards", mv.version, snapshot_id, len(ids), len(ranges))
    return ScoringPlan(mv.pk, snapshot_id, snapshot.isoformat(), timezone.now().isoformat(), previous.isoformat() if previous else None,
                       ranges, len(ids))


def score_table(frame: pd.DataFrame, mv: ModelVersion, versions: dict, scored_at) -> pd.DataFrame:
    """The CustomerScore rows of `frame` (indexed by customer id) in the table's field names."""
    lifetime = ["probability_active", "expected_purchases_30", "expected_purchases_90", "expected_purchases_365", "expected_value_12m",
                "expected_value_12m_low", "expected_value_12m_high"]
    table = pd.DataFrame({
        "customer": frame.index.to_numpy(dtype="int64"), "model_version": mv.pk,
        "churn_probability": frame["probability"].to_numpy(dtype="float64"),
        **{name: frame[name].to_numpy(dtype="float64", na_value=np.nan) for name in lifetime},
        "reason": frame["reason"].astype(str).str.slice(0, 400).to_numpy(dtype=object),
        "value_reason": frame["value_reason"].fillna("").astype(str).str.slice(0, 200).to_numpy(dtype=object),
        "scored_at": pd.Timestamp(scored_at),
    })
    for name in ("bgnbd_version", "gamma_gamma_version"):
        table[name] = pd.array([versions.get(f"{name}_id")] * len(table), dtype="Int64")
    return table


@transaction.atomic
def scores_replace(*, mv: ModelVersion, frame: pd.DataFrame, versions: dict, job_id: int | None, batch_size: int,
                   scored_at=None, first_id: int | None = None, end_id: int | None = None) -> int:
    """Replace this version's score set with `frame` (or only its rows with ids in [first_id, end_id)):
    COPY on PostgreSQL, batched inserts elsewhere. Batches of `batch_size` advance the job between
    them (never inside a COPY)."""
    rows = CustomerScore.objects.filter(model_version=mv)
    if first_id is not None:
        rows = rows.filter(customer_id__gte=first_id, customer_id__lt=end_id)
    rows.delete()
    scored_at = scored_at or timezone.now()
    for start in range(0, len(frame), batch_size):
        chunk = frame.iloc[start : start + batch_size]
        frame_insert(model=CustomerScore, frame=score_table(chunk, mv, versions, scored_at), binary=False)
        if job_id:
            jobs.job_progress(job_id=job_id, advance=len(chunk))
    return len(frame)


def scores_shard_write(*, plan: dict, first_id: int, end_id: int, job_id: int | None = None, annual_discount_rate: float = 0.10) -> dict:
    """Score one customer-id range of the plan's snapshot and replace that range of the version's rows.

    Returns the rows written and, when a churn_risk.crossed webhook is wanted, the range's customers
    who reached the at-risk threshold since the previous score set. Progress advances after the
    transaction (the Job row would otherwise be locked against the other shards until it commits).
    """
    mv = ModelVersion.objects.get(pk=plan["version_id"])
    model = registry.model_version_load_object(version_id=mv.pk)["model"]
    features = feature_snapshot_frame(snapshot_id=plan["snapshot_id"], first_id=first_id, end_id=end_id)
    frame, versions = score_features(model, features, annual_discount_rate=annual_discount_rate)
    wanted = webhook_event_wanted(event="churn_risk.crossed")
    with transaction.atomic():
        was = at_risk_ids(scored_at=plan["previous_at"], first_id=first_id, end_id=end_id) if wanted else set()
        written = scores_replace(mv=mv, frame=frame, versions=versions, job_id=None, batch_size=50_000, scored_at=plan["scored_at"],
                                 first_id=first_id, end_id=end_id)
    if job_id:
        jobs.job_progress(job_id=job_id, advance=written, message=f"writing scores of churn v{mv.version}")
    now_at_risk = frame.index[frame["probability"].to_numpy(dtype="float64") >= settings.CHURN_AT_RISK_THRESHOLD]
    crossed = sorted(set(now_at_risk.astype("int64").tolist()) - was) if wanted else []
    return {"scored": written, "crossed": crossed}


def scoring_finish(*, plan: dict, results: list[dict]) -> ScoringResult:
    """After every shard: drop rows of customers this run did not score, the drift report, the webhook."""
    mv = ModelVersion.objects.get(pk=plan["version_id"])
    CustomerScore.objects.filter(model_version=mv).exclude(scored_at=plan["scored_at"]).delete()
    reference = registry.model_version_load_object(version_id=mv.pk)["reference"]
    current = feature_snapshot_frame(snapshot_id=plan["snapshot_id"], columns=list(reference.columns))
    report = drift_report_create(mv=mv, reference=reference, current=current, snapshot=pd.Timestamp(plan["snapshot_at"]).to_pydatetime()) if len(current) else None
    crossed = sorted({c for r in results for c in r.get("crossed", [])})
    churn_risk_crossed_emit(mv=mv, crossed=crossed)
    scored = sum(r["scored"] for r in results)
    log.info("scored %s customers with churn v%s", scored, mv.version)
    return ScoringResult(model_version_id=mv.pk, scored=scored, max_psi=getattr(report, "max_psi", None))


def drift_report_create(*, mv: ModelVersion, reference: pd.DataFrame, current: pd.DataFrame, snapshot) -> DriftReport:
    rows = json_safe(drift_table(reference, current, features=list(reference.columns)))
    max_psi = max((row["psi"] or 0.0 for row in rows), default=0.0)
    return DriftReport.objects.create(model_version=mv, computed_at=timezone.now(), snapshot_at=snapshot, rows=rows, max_psi=max_psi)


def customers_score(*, as_of=None, job_id: int | None = None, size: int | None = None, annual_discount_rate: float = 0.10) -> ScoringResult:
    """Score every customer with the active versions, shard after shard in this process (see the module doc)."""
    plan = scoring_plan(as_of=as_of, size=size).as_dict()
    if job_id:
        jobs.job_progress(job_id=job_id, done=0, total=plan["customers"], message="scoring")
    results = [scores_shard_write(plan=plan, first_id=a, end_id=b, job_id=job_id, annual_discount_rate=annual_discount_rate) for a, b in plan["ranges"]]
    return scoring_finish(plan=plan, results=results)


def at_risk_ids(*, scored_at: str | None, first_id: int, end_id: int) -> set[int]:
    """Customers in [first_id, end_id) at or above the at-risk threshold in the churn score set of `scored_at` (any version)."""
    if scored_at is None:
        return set()
    rows = CustomerScore.objects.filter(model_version__kind=CHURN, scored_at=scored_at, customer_id__gte=first_id, customer_id__lt=end_id,
                                        churn_probability__gte=settings.CHURN_AT_RISK_THRESHOLD)
    return set(rows.values_list("customer_id", flat=True))


def churn_risk_crossed_emit(*, mv: ModelVersion, crossed: list[int]) -> int:
    """One churn_risk.crossed webhook per scoring run, listing the customers who reached the
    threshold since the previous run (none: no event); returns how many crossed."""
    if not crossed:
        return 0
    ids = Customer.objects.filter(pk__in=crossed[: settings.WEBHOOK_MAX_CUSTOMERS]).order_by("pk").values_list("external_id", flat=True)
    webhook_event_emit(event="churn_risk.crossed", payload={
        "model_version": {"kind": mv.kind, "version": mv.version}, "threshold": settings.CHURN_AT_RISK_THRESHOLD,
        "customers": webhook_customers(external_ids=ids, count=len(crossed)),
    })
    return len(crossed)
