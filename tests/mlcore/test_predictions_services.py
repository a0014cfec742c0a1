"""Training, the churn gate, scoring and drift on a small generated shop in the database."""
import numpy as np
import pytest

from mlcore.models import CustomerScore, DriftReport, ModelVersion
from mlcore.services import predictions, registry
from mlcore.services.predictions_scoring import NoActiveChurnModel, customers_score
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
