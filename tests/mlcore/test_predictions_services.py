"""Training, the churn gate, scoring and drift on a small generated shop in the database."""
import numpy as np
import pytest

from mlcore.models import CustomerScore, DriftReport, ModelVersion
from mlcore.predictions import services as predictions
from mlcore.predictions.scoring import NoActiveChurnModel, customers_score
from mlcore.registry import services as registry
from tests.mlcore.prediction_shop import shop_create, shop_lines

pytestmark = pytest.mark.django_db


class InvertedModel:
    """A deliberately worse churn model: the good one's ranking turned upside down."""

    def __init__(self, model):
        self.model = model
        self.features = model.features
        self.medians = model.medians

    def predict_proba(self, features):
        return 1.0 - self.model.predict_proba(features)


@pytest.fixture
def shop():
    shop_create(shop_lines())


def store_inverted(good: ModelVersion) -> ModelVersion:
    artefact = registry.model_version_load_object(version_id=good.pk)
    worse = registry.model_version_create(kind="churn", params=good.params)
    return registry.model_version_save_object(version_id=worse.pk, obj={"model": InvertedModel(artefact["model"]), "reference": artefact["reference"]})


def test_training_records_metrics_window_cutoffs_and_becomes_active(shop):
    # given a shop and no churn model, when trained, then the version is ready, active, with metrics, cut-offs and window
    mv = predictions.churn_train()
    assert mv.status == "ready" and mv.is_active
    assert {"roc_auc", "pr_auc", "brier", "top_decile_lift", "baseline", "by_country_group", "feature_importances"} <= set(mv.metrics)
    assert len(mv.params["train_cutoffs"]) == 4 and mv.params["validation_cutoff"] > mv.params["train_cutoffs"][-1]
    assert mv.data_window_start < mv.data_window_end


def test_activation_of_a_worse_churn_model_is_refused_unless_forced(shop):
    # given an active model and a worse challenger, when promoted, then it is refused; forced, it activates; rollback restores
    good = predictions.churn_train()
    worse = store_inverted(good)
    with pytest.raises(registry.ActivationRefused, match="stays a challenger"):
        predictions.churn_model_promote(version_id=worse.pk)
    assert registry.model_version_active(kind="churn").pk == good.pk
    decision = predictions.churn_model_promote(version_id=worse.pk, force=True)
    assert decision.activated and decision.candidate_auc < decision.active_auc
    assert registry.model_version_rollback(kind="churn").pk == good.pk


def test_a_second_equal_model_passes_the_gate(shop):
    # given an active model, when the same data trains again, then the new version is at least as good and becomes active
    first = predictions.churn_train()
    second = predictions.churn_train()
    assert second.is_active and not ModelVersion.objects.get(pk=first.pk).is_active
    assert "activated" in second.notes and "vs active" in second.notes


def test_scoring_twice_leaves_one_score_set_with_reasons_and_drift(shop):
    # given trained models, when scoring runs twice, then one row per customer remains, each with a reason and value
    predictions.lifetime_models_train()
    mv = predictions.churn_train()
    customers_score()
    first_ids = set(CustomerScore.objects.values_list("customer_id", flat=True))
    result = customers_score()
    scores = CustomerScore.objects.filter(model_version=mv)
    assert scores.count() == len(first_ids) == result.scored == CustomerScore.objects.count()
    assert all(s.reason.startswith("churn risk ") for s in scores[:20])
    assert all(s.expected_value_12m is not None and 0 <= s.probability_active <= 1 for s in scores[:20])
    assert DriftReport.objects.filter(model_version=mv).count() == 2


def test_scoring_without_an_active_model_says_so(shop):
    # given no churn model, when scoring, then a clear error names the command to run
    with pytest.raises(NoActiveChurnModel, match="train_models"):
        customers_score()


def test_lifetime_models_are_fitted_and_active(shop):
    # given a shop, when BG/NBD and Gamma-Gamma are fitted, then both are active with finite parameters
    bg, gg = predictions.lifetime_models_train()
    assert registry.model_version_active(kind="bgnbd").pk == bg.pk and registry.model_version_active(kind="gamma_gamma").pk == gg.pk
    assert all(np.isfinite(v) and v > 0 for v in (bg.params["r"], bg.params["alpha"], gg.params["p"]))


def test_the_churn_window_comes_from_the_shop_unless_set(shop, settings):
    # given a shop, when churn trains, then its window is the shop's derived horizon, recorded on the version; a setting replaces it
    mv = predictions.churn_train()
    horizons = mv.params["horizons"]
    assert mv.params["config"]["window_days"] == horizons["churn_window_days"] and "churn_window_days" in horizons["derived"]
    assert "at_risk_probability" in horizons["derived"] and 0.2 <= horizons["at_risk_probability"] <= 0.8
    settings.CHURN_WINDOW_DAYS = 60
    again = predictions.churn_train()
    assert again.params["config"]["window_days"] == 60 and "churn_window_days" not in again.params["horizons"]["derived"]


def test_a_model_checked_against_its_own_training_data_flags_no_drift(shop):
    # given a trained churn model, when scoring runs on the same data it was trained on, then no feature is flagged
    predictions.lifetime_models_train()
    mv = predictions.churn_train()
    customers_score()
    report = DriftReport.objects.get(model_version=mv)
    assert report.max_psi == 0.0 and not any(row["warning"] for row in report.rows)
    assert {row["feature"] for row in report.rows} >= {"tenure_days", "frequency", "monetary"}


def test_a_booster_beaten_by_its_own_baseline_serves_the_baseline(shop):
    # given a booster that cannot split (a leaf needs more customers than exist), when it trains, then its logistic
    # baseline wins on the same window, is registered as the churn version, activated and scores customers
    from mlcore.ml.predictions.churn import ChurnConfig

    served = predictions.churn_train(config=ChurnConfig(window_days=63, min_samples_leaf=10**6))
    booster = ModelVersion.objects.get(kind="churn", version=served.params["baseline_of_version"])
    assert served.params["served_model"] == "logistic_baseline" and served.is_active and not booster.is_active
    assert served.metrics["roc_auc"] == served.metrics["baseline"]["roc_auc"] > served.metrics["booster"]["roc_auc"]
    assert "baseline is served as churn v" in booster.notes and served.notes.startswith("served model: the logistic R/F/M baseline")
    customers_score()
    assert CustomerScore.objects.filter(model_version=served).exclude(reason="").count() == CustomerScore.objects.count() > 0


def test_a_shop_without_repeat_customers_activates_no_churn_or_lifetime_model():
    # given 300 customers who each ordered once, when the models train, then none is active and each version says why
    lines = shop_lines(n_customers=300)
    first = lines.drop_duplicates("customer_id")[["customer_id", "order_id"]]
    shop_create(lines[lines["order_id"].isin(first["order_id"])])
    bg, gg = predictions.lifetime_models_train()
    churn = predictions.churn_train()
    assert {bg.status, gg.status, churn.status} == {ModelVersion.Status.FAILED} and not (bg.is_active or gg.is_active or churn.is_active)
    assert all("too little repeat behaviour" in text for text in (bg.notes, gg.notes, churn.notes, churn.error))
    assert registry.model_version_active(kind="churn") is None


def test_lifetime_value_is_compared_with_past_spend_and_the_winner_is_served(shop):
    # given a shop, when the lifetime models train, then the Gamma-Gamma version records both rankings on the last
    # churn window and serves the one with the higher Spearman correlation
    _, gg = predictions.lifetime_models_train()
    holdout = gg.metrics["holdout"]
    better = "past_spend" if holdout["past_spend"]["spearman"] > holdout["bgnbd_gamma_gamma"]["spearman"] else "bgnbd_gamma_gamma"
    assert holdout["winner"] == gg.params["served_model"] == better and holdout["customers"] > 100
    assert ("served model: past net spend" in gg.notes) == (better == "past_spend")


def test_where_past_spend_is_served_the_12_month_value_is_last_years_net_spend(shop):
    # given a Gamma-Gamma version serving past spend, when customers are scored, then each value is their net spend of the last 365 days
    import pandas as pd

    from mlcore.ml.predictions.value_holdout import net_spend

    _, gg = predictions.lifetime_models_train()
    ModelVersion.objects.filter(pk=gg.pk).update(params={**gg.params, "served_model": "past_spend"})
    predictions.churn_train()
    customers_score()
    lines = predictions.shop_lines()
    end = predictions.data_end(lines)
    expected = net_spend(lines, end - pd.Timedelta(days=365), end)
    scored = dict(CustomerScore.objects.values_list("customer_id", "expected_value_12m"))
    assert all(abs(scored[c] - expected.get(c, 0.0)) < 1e-6 for c in scored) and len(scored) > 100


def test_support_contacts_become_churn_features_and_scores_carry_a_value_reason_and_interval(settings):
    # given a small shop whose customers contacted support (events the assistant writes), when the models train and score
    # with the model's value served, then the churn model reads the support counts and each score has a value interval
    # and a reason built from its own figures
    from customers.models import Event

    settings.CLV_BOOTSTRAP_DRAWS = 5
    lines = shop_lines()
    shop_create(lines)
    rng = np.random.default_rng(0)
    start, end = lines["placed_at"].min(), lines["placed_at"].max()
    customers = lines["customer_id"].unique()
    Event.objects.bulk_create([
        Event(customer_id=int(c), kind=kind, occurred_at=(start + (end - start) * rng.random()).to_pydatetime())
        for c in customers for kind in ("support", "support_neg") if rng.random() < 0.4
    ])
    _, gg = predictions.lifetime_models_train()
    assert len(gg.params["bootstrap"]) == 5 and gg.params["spend_cap"] > 0
    ModelVersion.objects.filter(pk=gg.pk).update(params={**gg.params, "served_model": "bgnbd_gamma_gamma"})
    mv = predictions.churn_train()
    assert "support_contacts_recent" in mv.metrics["features"] and len(mv.metrics["lift_deciles"]) == 10
    assert 0 <= mv.metrics["calibration_error"] < 0.2
    customers_score()
    scores = list(CustomerScore.objects.exclude(expected_value_12m=None)[:20])
    assert scores and all(s.expected_value_12m_low <= s.expected_value_12m_high for s in scores)
    assert all(s.value_reason.startswith("about ") and "net per purchase day" in s.value_reason for s in scores)


def test_training_lifetime_models_and_scoring_read_the_stored_snapshots_and_build_each_date_once(shop, monkeypatch):
    # given a trained shop, when the night runs again for the same day, then no feature is computed: every
    # step reads the stored snapshots (the cut-offs' and today's), and scoring reads today's
    from mlcore.features import services as features
    from mlcore.models import FeatureSnapshot

    predictions.lifetime_models_train()
    mv = predictions.churn_train()
    dates = {*mv.params["train_cutoffs"], mv.params["validation_cutoff"]}
    stored = {s.snapshot_at.isoformat() for s in FeatureSnapshot.objects.filter(status="ready")}
    assert dates <= stored and len(stored) == len(dates) + 1  # the cut-offs and today's (shared by the lifetime models)
    assert all(s.definition == mv.params["feature_definition"] for s in FeatureSnapshot.objects.all())

    def no_compute(*args, **kwargs):
        raise AssertionError("features were computed instead of read from the stored snapshot")

    monkeypatch.setattr(features, "customer_features", no_compute)
    predictions.lifetime_models_train()
    again = predictions.churn_train()
    result = customers_score()
    assert again.is_active and result.scored == CustomerScore.objects.filter(model_version=again).count() > 0
    assert FeatureSnapshot.objects.count() == len(stored)


def scores_of(mv):
    return dict(CustomerScore.objects.filter(model_version=mv).values_list("customer_id", "churn_probability"))


def test_sharded_scoring_writes_what_one_shard_writes_and_a_redelivered_shard_changes_nothing(shop):
    # given an active model, when scored in one shard and then in many, then the scores are equal; a shard
    # run again replaces its own range only, and the finish drops a customer who is no longer scored
    from mlcore.predictions.scoring import scores_shard_write, scoring_finish, scoring_plan

    predictions.lifetime_models_train()
    mv = predictions.churn_train()
    customers_score(size=10**9)
    whole = scores_of(mv)
    plan = scoring_plan(size=7).as_dict()
    assert len(plan["ranges"]) > 3 and plan["customers"] == len(whole)
    results = [scores_shard_write(plan=plan, first_id=a, end_id=b) for a, b in plan["ranges"]]
    a, b = plan["ranges"][1]
    assert scores_shard_write(plan=plan, first_id=a, end_id=b)["scored"] == results[1]["scored"]
    stale = CustomerScore.objects.filter(model_version=mv).order_by("customer_id").first()  # as if this run had not scored them
    CustomerScore.objects.filter(pk=stale.pk).update(scored_at=stale.scored_at.replace(year=2000))
    result = scoring_finish(plan=plan, results=results)
    del whole[stale.customer_id]
    assert scores_of(mv) == pytest.approx(whole) and result.scored == len(whole) + 1 and CustomerScore.objects.count() == len(whole)
    assert set(CustomerScore.objects.values_list("scored_at", flat=True)) == {CustomerScore.objects.first().scored_at}

def test_the_scoring_task_runs_its_shards_as_a_chord_and_ends_one_job(shop, settings):
    # given an active model and shards of 9 customers, when the nightly task runs (eagerly), then one Job
    # counts every customer, ends succeeded, and every customer has one score
    from infra.models import Job
    from mlcore.predictions.tasks import score_customers

    settings.SCORING_SHARD_CUSTOMERS = 9
    predictions.lifetime_models_train()
    mv = predictions.churn_train()
    summary = score_customers.apply().get()
    job = Job.objects.get(pk=summary["job_id"])
    assert summary["shards"] > 2 and job.status == "succeeded" and job.done == job.total == summary["customers"]
    assert CustomerScore.objects.filter(model_version=mv).count() == summary["customers"] == job.result["scored"]
    assert DriftReport.objects.filter(model_version=mv).count() == 1


def test_a_failing_scoring_shard_fails_the_job_with_its_reason(shop, settings, monkeypatch):
    # given a shard that breaks, when the nightly task runs, then the job is failed with the shard's error
    from infra.models import Job
    from mlcore.predictions.tasks import score_customers

    settings.SCORING_SHARD_CUSTOMERS = 9
    predictions.lifetime_models_train()
    predictions.churn_train()

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("mlcore.predictions.tasks.scores_shard_write", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        score_customers.apply().get()
    job = Job.objects.filter(kind="score_customers").latest("created_at")
    assert job.status == "failed" and "disk full" in job.error
