"""Training of the prediction models and the churn registry gate.

- `churn_train`: point-in-time training sets at earlier cut-offs from the shop's order lines,
  the calibrated booster and its RFM baseline, validation metrics (overall and per country
  group), importances and a reference sample for drift; stored as a ModelVersion, then offered
  to the gate.
- `churn_model_promote`: a churn version becomes active only when its ROC AUC is at least the
  active version's on the same recent validation window; otherwise it stays a challenger
  (`force=True` is the staff's deliberate override).
- `lifetime_models_train`: BG/NBD and Gamma-Gamma versions fitted on every customer's summary.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import pandas as pd
from django.conf import settings
from django.utils import timezone

from customers import selectors as shop
from customers.clock import shop_as_of, shop_moment
from infra import jobs
from mlcore.features.services import feature_snapshots_at, feature_snapshots_prune
from mlcore.ml.features import FeatureConfig, as_utc, lifetime_summary
from mlcore.ml.horizons import at_risk_threshold, too_little_repeat
from mlcore.ml.predictions import bgnbd, gamma_gamma
from mlcore.ml.predictions.churn import (
    ChurnConfig,
    baseline_model,
    baseline_wins,
    feature_importances,
    fit_churn,
    labelled_frame,
    plan_cutoffs,
    training_frame,
)
from mlcore.ml.predictions.metrics import (
    calibration_bins,
    classification_metrics,
    country_groups,
    expected_calibration_error,
    group_table,
    lift_deciles,
    roc_points,
)
from mlcore.ml.predictions.value_holdout import value_holdout
from mlcore.ml.predictions.value_intervals import bootstrap_draws
from mlcore.models import ModelVersion
from mlcore.predictions.horizons import horizons_of
from mlcore.registry import services as registry
from mlcore.registry.services import ActivationRefused

log = logging.getLogger(__name__)
CHURN = "churn"
BGNBD = "bgnbd"
GAMMA_GAMMA = "gamma_gamma"
UNIT_DAYS = 7.0  # BG/NBD unit of versions made before the unit came from the shop (params["unit_days"])
REFERENCE_ROWS = 20_000


@dataclass(frozen=True)
class GateDecision:
    candidate_id: int
    active_id: int | None
    candidate_auc: float
    active_auc: float | None
    activated: bool
    window: str


def shop_lines() -> pd.DataFrame:
    return shop.order_lines_frame()


def feature_config_of(config: dict | ChurnConfig) -> FeatureConfig:
    """The snapshot definition a churn model reads: its window and recent days."""
    return FeatureConfig.of_dict(config.as_dict() if isinstance(config, ChurnConfig) else (config or {}))


def customer_country_groups(customer_ids: pd.Index) -> pd.Series:
    countries = shop.customers_frame().set_index("customer_id")["country"].replace("", pd.NA)
    return country_groups(countries.reindex(customer_ids).fillna("Unknown"))


def data_end(lines: pd.DataFrame, as_of=None) -> pd.Timestamp:
    """The end of the data window: the given moment (a naive one in shop time), else the shop's today (customers.clock)."""
    if lines.empty:
        raise ValueError("no order lines: import orders before training")
    return moment_of(as_of)


def moment_of(as_of=None) -> pd.Timestamp:
    """`as_of` as a UTC timestamp (a naive one read in shop time), else the shop's today."""
    if as_of is not None:
        moment = shop_moment(as_of) if isinstance(as_of, str) else as_of
        if moment is None:
            raise ValueError(f"as_of {as_of!r} is not an ISO date or date-time")
        return as_utc(moment)
    return as_utc(shop_as_of().moment)


def json_safe(value):
    """NaN and infinities become None (PostgreSQL's jsonb refuses them); numpy scalars become Python's."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def validation_report(model, frame: pd.DataFrame) -> dict:
    y = frame["churned"].to_numpy()
    p, base = model.predict_proba(frame), model.predict_baseline(frame)
    groups = customer_country_groups(frame.index)
    return {
        **classification_metrics(y, p),
        "baseline": classification_metrics(y, base),
        "by_country_group": group_table(y, p, groups),
        "baseline_by_country_group": group_table(y, base, groups),
        "roc_curve": roc_points(y, p),
        "baseline_roc_curve": roc_points(y, base),
        "calibration": calibration_bins(y, p),
        "calibration_error": expected_calibration_error(y, p),
        "baseline_calibration_error": expected_calibration_error(y, base),
        "lift_deciles": lift_deciles(y, p),
        "baseline_lift_deciles": lift_deciles(y, base),
    }


def churn_train(*, as_of=None, config: ChurnConfig | None = None, job_id: int | None = None, promote: bool = True) -> ModelVersion:
    """Train, validate and store a churn version; offer the better of it and its baseline to the gate.

    The window is the shop's horizon (`mlcore.ml.horizons`, settings first) unless `config` sets it.
    A shop with too little repeat behaviour gets a failed version saying so, and nothing is activated.
    """
    lines = shop_lines()
    horizons = horizons_of(lines)
    config = config or ChurnConfig(window_days=horizons.churn_window_days)
    end = data_end(lines, as_of)
    cutoffs, validation_cutoff = plan_cutoffs(end, config, data_start=lines["placed_at"].min())
    window = {"data_window_start": lines["placed_at"].min().to_pydatetime(), "data_window_end": end.to_pydatetime()}
    params = {"config": config.as_dict(), "train_cutoffs": [c.isoformat() for c in cutoffs], "validation_cutoff": validation_cutoff.isoformat(),
              "horizons": horizons.as_dict(), "served_model": "gradient_boosting"}
    mv = registry.model_version_create(kind=CHURN, params=params, **window)
    if not horizons.repeat_enough:
        return not_learnable(mv, f"not trained: the shop gives {too_little_repeat(horizons)}; no churn model is activated")
    try:
        progress(job_id, 1, "reading the feature snapshots of the cut-offs")
        features_at = feature_snapshots_at(dates=[*cutoffs, validation_cutoff, end], config=feature_config_of(config), lines=lines)
        train = training_frame(lines, cutoffs, window_days=config.window_days, min_customers=config.min_customers_per_cutoff, features_at=features_at)
        validation = labelled_frame(lines, cutoff=validation_cutoff, window_days=config.window_days, features=features_at[validation_cutoff])
        validation.attrs["window_days"] = config.window_days
        progress(job_id, 2, "fitting")
        model = fit_churn(train, config)
        metrics = validation_report(model, validation) | {
            "train_rows": int(len(train)), "feature_importances": feature_importances(model, validation, seed=config.seed),
            "features": list(model.features),
        }
        reference = drift_reference(features_at[end], config.seed, model)
        params |= {"horizons": horizons_with_at_risk(horizons, train), "feature_definition": feature_config_of(config).key}
        ModelVersion.objects.filter(pk=mv.pk).update(params=json_safe(params))
        mv = registry.model_version_save_object(version_id=mv.pk, obj={"model": model, **reference}, metrics=json_safe(metrics))
        served = baseline_version_create(candidate=mv, model=model, reference=reference) if baseline_wins(mv.metrics) else mv
    except Exception as exc:
        registry.model_version_fail(version_id=mv.pk, error=f"{exc.__class__.__name__}: {exc}")
        raise
    progress(job_id, 3, "gating")
    if promote:
        churn_gate(candidate=served, validation=validation)
    feature_snapshots_prune(before=min(cutoffs).to_pydatetime(), keep_days=settings.FEATURE_SNAPSHOT_KEEP_DAYS,
                            grid_keep_days=settings.FEATURE_SNAPSHOT_GRID_KEEP_DAYS, grid_days=config.grid_days, now=end.to_pydatetime())
    served.refresh_from_db()
    return served


def not_learnable(mv: ModelVersion, reason: str) -> ModelVersion:
    """Mark a version that could not be learned from this shop's data, saying why (the model page shows it)."""
    registry.model_version_fail(version_id=mv.pk, error=reason)
    ModelVersion.objects.filter(pk=mv.pk).update(notes=reason)
    log.warning("%s v%s: %s", mv.kind, mv.version, reason)
    mv.refresh_from_db()
    return mv


def horizons_with_at_risk(horizons, train: pd.DataFrame) -> dict:
    """The horizons, with the at-risk threshold from the latest training cut-off's churn rate unless set."""
    out = horizons.as_dict()
    if settings.AT_RISK_PROBABILITY is None:
        latest = train.loc[train["cutoff"] == train["cutoff"].max(), "churned"]
        out["at_risk_probability"] = at_risk_threshold(float(latest.mean()))
        out["derived"] = [*out["derived"], "at_risk_probability"]
    return out


def drift_reference(features: pd.DataFrame, seed: int, model) -> dict:
    """A sample of the training end's snapshot in the model's features: what each later scoring's
    snapshot is compared with (a model kept for months shows tenure and totals drifting: it is old)."""
    sample = features[model.features].sample(n=min(REFERENCE_ROWS, len(features)), random_state=seed)
    return {"reference": sample}


def baseline_version_create(*, candidate: ModelVersion, model, reference: dict) -> ModelVersion:
    """Register the candidate's own logistic baseline as a churn version: it is what the gate is offered."""
    m = candidate.metrics
    metrics = {
        **m["baseline"], "baseline": m["baseline"], "booster": {k: m.get(k) for k in ("roc_auc", "pr_auc", "brier", "top_decile_lift", "n", "churn_rate")},
        "by_country_group": m.get("baseline_by_country_group", []), "roc_curve": m.get("baseline_roc_curve"),
        "baseline_roc_curve": m.get("baseline_roc_curve"), "booster_roc_curve": m.get("roc_curve"), "train_rows": m.get("train_rows"),
        "feature_importances": [], "features": m.get("features"),
        "calibration_error": m.get("baseline_calibration_error"), "lift_deciles": m.get("baseline_lift_deciles"),
        "booster_calibration_error": m.get("calibration_error"), "booster_lift_deciles": m.get("lift_deciles"),
    }
    params = {**candidate.params, "served_model": "logistic_baseline", "baseline_of_version": candidate.version}
    served = registry.model_version_create(kind=CHURN, params=params, data_window_start=candidate.data_window_start, data_window_end=candidate.data_window_end)
    served = registry.model_version_save_object(version_id=served.pk, obj={"model": baseline_model(model), **reference}, metrics=json_safe(metrics))
    note = (f"its own logistic baseline beat it on the validation window from {candidate.params['validation_cutoff'][:10]} "
            f"(ROC AUC {m['baseline']['roc_auc']:.4f} vs {m['roc_auc']:.4f}): the baseline is served as churn v{served.version}")
    ModelVersion.objects.filter(pk=candidate.pk).update(notes=note)
    log.info("churn v%s: %s", candidate.version, note)
    return served


def progress(job_id: int | None, done: int, message: str) -> None:
    if job_id:
        jobs.job_progress(job_id=job_id, done=done, total=4, message=message)


def load_churn_model(version_id: int):
    return registry.model_version_load_object(version_id=version_id)["model"]


def churn_compare(*, candidate_id: int, validation: pd.DataFrame | None = None, as_of=None) -> GateDecision:
    """ROC AUC of the candidate and the active version on one recent validation window.

    Both read the window's stored snapshot; a model trained on another definition (window, recent
    days) reads the snapshot of its own definition, with the same customers' labels.
    """
    active = registry.model_version_active(kind=CHURN)
    candidate = load_churn_model(candidate_id)
    lines = None
    if validation is None:
        lines = shop_lines()
        window_days = ModelVersion.objects.get(pk=candidate_id).params.get("config", {}).get("window_days", ChurnConfig.window_days)
        cutoff = plan_cutoffs(data_end(lines, as_of), ChurnConfig(window_days=window_days))[1]
        validation = validation_for(candidate, lines, cutoff, window_days)
    y = validation["churned"].to_numpy()
    candidate_auc = classification_metrics(y, candidate.predict_proba(validation))["roc_auc"]
    active_auc = None
    if active is not None and active.pk != candidate_id and len(validation):
        incumbent = load_churn_model(active.pk)
        frame = validation
        if feature_config_of(getattr(incumbent, "config", {})) != feature_config_of(getattr(candidate, "config", {})):
            lines = shop_lines() if lines is None else lines
            frame = validation_for(incumbent, lines, validation["cutoff"].iloc[0], int(validation.attrs.get("window_days", ChurnConfig.window_days)))
        active_auc = classification_metrics(frame["churned"].to_numpy(), incumbent.predict_proba(frame))["roc_auc"]
    window = f"{validation['cutoff'].iloc[0]:%Y-%m-%d}" if len(validation) else ""
    return GateDecision(candidate_id, getattr(active, "pk", None), candidate_auc, active_auc, False, window)


def validation_for(model, lines: pd.DataFrame, cutoff, window_days: int) -> pd.DataFrame:
    """The labelled window after `cutoff`, its features from the snapshot of the model's own definition."""
    cutoff = as_utc(cutoff)
    features = feature_snapshots_at(dates=[cutoff], config=feature_config_of(getattr(model, "config", {})), lines=lines)[cutoff]
    frame = labelled_frame(lines, cutoff=cutoff, window_days=window_days, features=features)
    frame.attrs["window_days"] = window_days
    return frame


def gate_passes(decision: GateDecision) -> bool:
    if decision.active_auc is None or pd.isna(decision.active_auc):
        return True
    return not pd.isna(decision.candidate_auc) and decision.candidate_auc >= decision.active_auc - 1e-12


def churn_gate(*, candidate: ModelVersion, validation: pd.DataFrame) -> GateDecision:
    """Offer a fresh version to the gate and note the outcome on it (shown in the admin)."""
    decision = churn_compare(candidate_id=candidate.pk, validation=validation)
    if gate_passes(decision):
        registry.model_version_activate(version_id=candidate.pk)
        decision = replace(decision, activated=True)
    active = "none" if decision.active_auc is None else f"{decision.active_auc:.4f}"
    outcome = "activated" if decision.activated else "challenger (worse than the active version)"
    note = f"gate on the window from {decision.window}: ROC AUC {decision.candidate_auc:.4f} vs active {active}: {outcome}"
    if candidate.params.get("served_model") == "logistic_baseline":
        note = f"served model: the logistic R/F/M baseline of churn v{candidate.params['baseline_of_version']}, which beat the booster; {note}"
    ModelVersion.objects.filter(pk=candidate.pk).update(notes=note)
    log.info("churn v%s: %s", candidate.version, note)
    return decision


def churn_model_promote(*, version_id: int, force: bool = False, validation: pd.DataFrame | None = None, as_of=None) -> GateDecision:
    """Activate a churn version if it is at least as good as the active one (or when forced).

    Raises ActivationRefused, naming both ROC AUCs, when it would make a worse model active.
    """
    mv = ModelVersion.objects.get(pk=version_id)
    if mv.kind != CHURN:
        raise ActivationRefused(f"{mv} is not a churn model")
    decision = churn_compare(candidate_id=version_id, validation=validation, as_of=as_of)
    if not force and not gate_passes(decision):
        raise ActivationRefused(
            f"churn v{mv.version} has ROC AUC {decision.candidate_auc:.4f} on the window from {decision.window}, "
            f"below the active version's {decision.active_auc:.4f}: it stays a challenger"
        )
    registry.model_version_activate(version_id=version_id)
    return replace(decision, activated=True)


def value_holdout_or_none(lines: pd.DataFrame, end: pd.Timestamp, horizons) -> dict | None:
    """BG/NBD x Gamma-Gamma vs past spend on the last churn window (None where it cannot be fitted there)."""
    cutoff = end - pd.Timedelta(days=horizons.churn_window_days)
    if (lines["placed_at"] < cutoff).sum() == 0:
        return None
    try:
        return value_holdout(lines, cutoff=cutoff, window_days=horizons.churn_window_days, unit_days=horizons.bgnbd_unit_days,
                             cap_quantile=settings.CLV_SPEND_CAP_QUANTILE)
    except ValueError as exc:
        log.warning("lifetime value holdout skipped: %s", exc)
        return None


def value_bootstrap(summary: pd.DataFrame) -> list[dict]:
    """Refits on resampled customers for a small shop's value intervals (none above CLV_BOOTSTRAP_MAX_CUSTOMERS)."""
    if len(summary) > settings.CLV_BOOTSTRAP_MAX_CUSTOMERS or settings.CLV_BOOTSTRAP_DRAWS <= 0:
        return []
    return bootstrap_draws(summary, draws=settings.CLV_BOOTSTRAP_DRAWS, seed=0, cap_quantile=settings.CLV_SPEND_CAP_QUANTILE)


def lifetime_models_train(*, as_of=None) -> tuple[ModelVersion, ModelVersion]:
    """Fit BG/NBD and Gamma-Gamma on every customer's summary in the shop's time unit, and activate both.

    A shop with too little repeat behaviour gets both versions marked failed with the reason (no
    fit is attempted; nothing is activated); scoring then leaves P(active), expected purchases and
    value empty.
    """
    lines = shop_lines()
    end = data_end(lines, as_of)
    horizons = horizons_of(lines)
    unit = horizons.bgnbd_unit_days
    window = {"data_window_start": lines["placed_at"].min().to_pydatetime(), "data_window_end": end.to_pydatetime()}
    common = {"unit_days": unit, "horizons": horizons.as_dict()}
    if not horizons.repeat_enough:
        reason = f"not trained: the shop gives {too_little_repeat(horizons)}; purchase probability and lifetime value are left empty"
        return tuple(not_learnable(registry.model_version_create(kind=kind, params=json_safe(common), **window), reason) for kind in (BGNBD, GAMMA_GAMMA))
    features = feature_snapshots_at(dates=[end], config=FeatureConfig(window_days=horizons.churn_window_days), lines=lines)[end]
    summary = lifetime_summary(features, unit_days=unit)
    cap = gamma_gamma.spend_cap(summary["frequency"], summary["monetary"], quantile=settings.CLV_SPEND_CAP_QUANTILE)
    purchase = bgnbd.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    spend = gamma_gamma.fit_gamma_gamma(summary["frequency"], gamma_gamma.capped(summary["monetary"], cap))
    common |= {"customers": int(len(summary))}
    bg = registry.model_version_create(kind=BGNBD, params=json_safe(purchase.as_dict() | common), **window)
    bg = registry.model_version_save_object(version_id=bg.pk, obj=purchase, metrics=json_safe(common | {"repeat_buyers": int((summary["frequency"] > 0).sum())}))
    holdout = value_holdout_or_none(lines, end, horizons)
    served = (holdout or {}).get("winner", "bgnbd_gamma_gamma")
    extra = {"served_model": served, "spend_cap": cap, "spend_cap_quantile": settings.CLV_SPEND_CAP_QUANTILE, "bootstrap": value_bootstrap(summary)}
    gg = registry.model_version_create(kind=GAMMA_GAMMA, params=json_safe(spend.as_dict() | common | extra), **window)
    correlation = gamma_gamma.spend_frequency_correlation(summary["frequency"], summary["monetary"])
    gg = registry.model_version_save_object(version_id=gg.pk, obj=spend, metrics=json_safe(common | {"spend_frequency_correlation": correlation, "holdout": holdout}))
    if served == "past_spend":
        ModelVersion.objects.filter(pk=gg.pk).update(notes=(
            f"served model: past net spend, which ranked the window from {holdout['cutoff'][:10]} better than BG/NBD x Gamma-Gamma "
            f"(Spearman {holdout['past_spend']['spearman']:.4f} vs {holdout['bgnbd_gamma_gamma']['spearman']:.4f}); "
            "the 12-month value shown is each customer's net spend of the last 12 months"))
        gg.refresh_from_db()
    registry.model_version_activate(version_id=bg.pk)
    registry.model_version_activate(version_id=gg.pk)
    log.info("lifetime models at %s: %s %s", timezone.now(), purchase, spend)
    return bg, gg
