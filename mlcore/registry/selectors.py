"""Reads of the model registry and of Job rows: model health and the jobs in progress, with the
one number format people read metrics in (`readable_number`).

The dashboard reads `model_health` (active version per kind, a few headline metrics, the latest
drift flag) and `jobs_overview` (running and queued jobs with their progress, then the last few
that finished).
"""
from __future__ import annotations

from django.db.models import Max, Q

from infra.models import Job
from mlcore.ml.predictions.drift import PSI_WARNING
from mlcore.models import DriftReport, ModelVersion

# The metric names a reader looks for first, per kind of model (others follow when these are absent).
HEADLINE_METRICS = (
    "roc_auc", "auc", "pr_auc", "brier", "log_loss", "f1", "macro_f1", "accuracy", "ndcg_at_10", "ndcg@10", "recall_at_10",
    "hit_rate_at_10", "silhouette", "mae", "rmse", "customers", "repeat_buyers", "train_rows",
)


def readable_number(value) -> str:
    """4334 -> "4,334"; 0.74261 -> "0.743"; 12.5 -> "12.5"; None -> "-"; text stays text."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or (value.is_integer() and abs(value) >= 1000):
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    digits = 3 if abs(value) >= 0.001 or value == 0 else 10
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def headline_metrics(metrics: dict, limit: int = 4) -> list[tuple[str, float]]:
    """Up to `limit` plain numeric metrics, the well-known names first."""
    numeric = {k: v for k, v in (metrics or {}).items() if isinstance(v, int | float) and not isinstance(v, bool)}
    known = [(k, numeric[k]) for k in HEADLINE_METRICS if k in numeric]
    rest = [(k, v) for k, v in numeric.items() if k not in HEADLINE_METRICS]
    return (known + rest)[:limit]


def model_health() -> list[dict]:
    """One row per kind with an active version: version, trained date, headline metrics, drift."""
    active = list(ModelVersion.objects.filter(is_active=True).order_by("kind"))
    drift = {}
    for report in DriftReport.objects.filter(model_version__in=active).order_by("model_version_id", "-computed_at", "-id"):
        drift.setdefault(report.model_version_id, report)
    rows = []
    for mv in active:
        report = drift.get(mv.pk)
        rows.append({
            "id": mv.pk, "kind": mv.kind, "version": mv.version, "trained_at": mv.trained_at,
            "metrics": [(name, readable_number(value)) for name, value in headline_metrics(mv.metrics)],
            "drift_psi": report.max_psi if report else None, "drifting": bool(report and report.max_psi > PSI_WARNING),
            "drift_features": [r["feature"] for r in (report.rows if report else []) if r.get("warning")],
        })
    return rows


def jobs_overview() -> list[dict]:
    """Queued and running jobs (newest first), then the last ended job of each kind (latest end first).

    One row per kind, so a night of eight jobs does not push the morning's import out of view."""
    live = Q(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
    ended = Job.objects.exclude(live)
    last_of_kind = ended.values("kind").annotate(last=Max("id")).values("last")
    jobs = list(Job.objects.filter(live).order_by("-created_at", "-id")) + list(ended.filter(pk__in=last_of_kind).order_by("-finished_at", "-id"))
    return [
        {
            "id": job.pk, "kind": job.kind, "status": job.status, "done": job.done, "total": job.total, "percent": job.percent,
            "message": job.message, "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        }
        for job in jobs
    ]
