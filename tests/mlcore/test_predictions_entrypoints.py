"""Tasks, selectors, API and admin of predictions, on hand-made score rows or a small generated shop."""
import pytest
from django.utils import timezone

from infra.models import Job
from mlcore.models import CustomerScore
from mlcore.predictions import api as predictions_views
from mlcore.predictions import services as predictions
from mlcore.predictions.selectors import at_risk_summary, customer_ids_by_scores, customer_scores
from mlcore.predictions.tasks import score_customers, train_churn
from mlcore.registry import services as registry
from tests.customers.factories import CustomerFactory
from tests.mlcore.prediction_shop import shop_create, shop_lines

pytestmark = pytest.mark.django_db


def active_churn_version(active: bool = True):
    mv = registry.model_version_save_object(version_id=registry.model_version_create(kind="churn").pk, obj={})
    if active:
        registry.model_version_activate(version_id=mv.pk)
    return mv


def add_score(mv, customer, churn: float, value: float | None, reason: str = "churn risk"):
    return CustomerScore.objects.create(
        customer=customer, model_version=mv, churn_probability=churn, expected_value_12m=value,
        probability_active=0.5, reason=f"{reason} {churn:.2f}", scored_at=timezone.now(),
    )


@pytest.fixture
def scored():
    mv = active_churn_version()
    customers = [CustomerFactory() for _ in range(3)]
    for customer, churn, value in zip(customers, (0.9, 0.6, 0.1), (500.0, 20.0, 900.0), strict=True):
        add_score(mv, customer, churn, value)
    old = active_churn_version(active=False)
    add_score(old, customers[2], 0.99, 1.0)  # an inactive version's score is never read
    return customers


def test_task_names_are_stable():
    # given the predictions tasks, then their deployed names are the ones the beat schedule uses
    assert (train_churn.name, score_customers.name) == ("mlcore.train_churn", "mlcore.score_customers")


def test_selector_filters_by_churn_and_value_on_the_active_model(scored):
    # given scores of the active and an inactive version, when filtered, then only active scores in range count
    high_risk = set(customer_ids_by_scores(churn_min=0.5))
    valuable = set(customer_ids_by_scores(clv_min=100.0, churn_max=0.95))
    assert high_risk == {scored[0].pk, scored[1].pk} and valuable == {scored[0].pk, scored[2].pk}
    assert customer_scores(customer_id=scored[2].pk).churn_probability == 0.1
    assert customer_scores(customer_id=CustomerFactory().pk) is None


def test_api_returns_a_customers_scores_and_404_without(api_client, scored):
    # given scores, when a customer's scores are fetched, then the reason and value come back; unknown ids give 404
    body = api_client.get(f"/api/v1/customers/{scored[0].external_id}/scores").json()
    assert body["churn_probability"] == 0.9 and body["reason"] == "churn risk 0.90" and body["expected_value_12m"] == 500.0
    assert body["model_version"] == f"churn:{registry.model_version_active(kind='churn').version}"
    assert api_client.get("/api/v1/customers/NOPE/scores").status_code == 404


def test_api_lists_at_risk_customers_by_value(api_client, scored):
    # given scores, when at-risk customers are listed, then the shop's rule (risk >= 0.7 by default) applies; a lower churn_min
    # widens it and a value floor narrows it
    assert [r["customer"] for r in api_client.get("/api/v1/at-risk").json()["results"]] == [scored[0].external_id]
    rows = api_client.get("/api/v1/at-risk?churn_min=0.5").json()["results"]
    assert [r["customer"] for r in rows] == [scored[0].external_id, scored[1].external_id]
    assert [r["customer"] for r in api_client.get("/api/v1/at-risk?churn_min=0.5&min_value=100").json()["results"]] == [scored[0].external_id]
    assert api_client.get("/api/v1/at-risk?churn_min=2").status_code == 400


def test_at_risk_is_cursor_paginated_by_value(api_client, scored):
    # given four customers at the default rule (one without a value), when read two a page, then the cursor walks them by
    # value at stake (risk x value: 450, 210, 28), unknown last; the 0.6-risk customer is below the rule
    mv = registry.model_version_active(kind="churn")
    for value in (300.0, None, 40.0):
        add_score(mv, CustomerFactory(), 0.7, value)
    seen, url = [], "/api/v1/at-risk?page_size=2"
    while url:
        body = api_client.get(url).json()
        seen += [row["expected_value_12m"] for row in body["results"]]
        url = body["next"]
    assert seen == [500.0, 300.0, 40.0, None]


def test_at_risk_rule_comes_from_the_shop_settings_and_orders_by_value_at_stake(api_client, scored, settings):
    # given AT_RISK_MIN_PROBABILITY 0.5 and AT_RISK_MIN_VALUE 10, when the list is read, then both apply and a risky
    # customer of small value ranks below a less risky one of larger value at stake
    settings.AT_RISK_MIN_PROBABILITY, settings.AT_RISK_MIN_VALUE = 0.5, 10.0
    mv = registry.model_version_active(kind="churn")
    add_score(mv, CustomerFactory(), 0.95, 5.0)  # below the value floor
    big = CustomerFactory()
    add_score(mv, big, 0.55, 1000.0)  # at stake 550, above the 0.9 x 500 = 450 of the riskiest
    rows = api_client.get("/api/v1/at-risk").json()["results"]
    assert [r["customer"] for r in rows] == [big.external_id, scored[0].external_id, scored[1].external_id]
    summary = at_risk_summary()
    assert summary["customers"] == 3 and summary["churn_min"] == 0.5 and summary["min_value"] == 10.0
    assert summary["value_at_stake"] == pytest.approx(550 + 450 + 0.6 * 20)


def test_api_segment_filter_needs_the_segments_area(api_client, scored, monkeypatch):
    # given no segments module, when filtered by segment, then 400 says so; with one, its ids filter the list
    monkeypatch.setattr(predictions_views, "segment_selector", lambda: None)
    assert api_client.get("/api/v1/at-risk?segment=vip").status_code == 400
    monkeypatch.setattr(predictions_views, "segment_selector", lambda: lambda segment_keys: [scored[1].pk])
    assert [r["customer"] for r in api_client.get("/api/v1/at-risk?segment=vip&churn_min=0.5").json()["results"]] == [scored[1].external_id]


def test_api_needs_authentication(anon_client):
    # given no token, when the at-risk list is asked for, then 401
    assert anon_client.get("/api/v1/at-risk").status_code == 401


def test_admin_shows_scores_panel_and_at_risk_list(admin_user_client, scored):
    # given scores, when the customer page and the score list render, then the reason and the at-risk rows show
    page = admin_user_client.get(f"/admin/customers/customer/{scored[0].pk}/change/").content.decode()
    assert "Predictions" in page and "churn risk 0.90" in page
    listing = admin_user_client.get("/admin/mlcore/customerscore/?risk=medium").content.decode()
    assert "churn risk 0.90" in listing and "churn risk 0.60" not in listing and "churn risk 0.10" not in listing


def test_training_and_scoring_tasks_twice_leave_one_score_set_and_jobs_done(admin_user_client):
    # given a shop, when training runs and the scoring task runs twice, then one score set, succeeded jobs, and the model page renders
    shop_create(shop_lines(n_customers=300))
    train_churn.apply()
    score_customers.apply()
    score_customers.apply()
    mv = registry.model_version_active(kind="churn")
    assert CustomerScore.objects.count() == CustomerScore.objects.filter(model_version=mv).count() == 300
    assert set(Job.objects.values_list("status", flat=True)) == {"succeeded"} and Job.objects.count() == 3
    page = admin_user_client.get(f"/admin/mlcore/modelversion/{mv.pk}/change/").content.decode()
    assert "ROC curve" in page and "vendor/chart.umd.min.js" in page and "PSI" in page


def test_admin_activate_action_refuses_a_worse_churn_model(admin_user_client):
    # given an active churn model and a worse one, when staff activate it, then it is refused; force activates it
    shop_create(shop_lines(n_customers=300))
    good = predictions.churn_train()
    from tests.mlcore.test_predictions_services import store_inverted
    worse = store_inverted(good)
    url = "/admin/mlcore/modelversion/"
    response = admin_user_client.post(url, {"action": "activate", "_selected_action": [worse.pk]}, follow=True)
    assert "stays a challenger" in response.content.decode() and registry.model_version_active(kind="churn").pk == good.pk
    admin_user_client.post(url, {"action": "force_activate", "_selected_action": [worse.pk]}, follow=True)
    assert registry.model_version_active(kind="churn").pk == worse.pk


def test_training_task_on_an_empty_shop_fails_its_job_with_the_reason():
    # given no orders, when the training task runs, then it raises and its job is failed saying why
    with pytest.raises(ValueError, match="no order lines"):
        train_churn.apply()
    job = Job.objects.get(kind="train_churn")
    assert job.status == "failed" and "no order lines" in job.error


def test_management_commands_train_and_score(capsys):
    # given a shop, when train_models then score_customers run (the demo steps), then a churn model is active and every customer scored
    from django.core.management import call_command

    from clmsite.management.commands.setup_demo import DEMO_STEPS
    shop_create(shop_lines(n_customers=300))
    call_command("train_models")
    call_command("score_customers")
    out = capsys.readouterr().out
    assert "churn version" in out and "300 customers scored" in out
    assert ("train_models", []) in DEMO_STEPS and ("score_customers", []) in DEMO_STEPS


def test_train_models_on_an_empty_shop_is_a_clear_command_error():
    # given no orders, when train_models runs, then a CommandError says orders must be imported first
    from django.core.management import CommandError, call_command
    with pytest.raises(CommandError, match="import orders"):
        call_command("train_models")


def test_the_model_page_says_when_the_baseline_is_served_and_shows_the_horizons(admin_user_client):
    # given a booster beaten by its own baseline, when staff open the served version's page, then it says the baseline
    # is served, beside the booster's figures, and lists the shop's horizons
    from mlcore.ml.predictions.churn import ChurnConfig

    shop_create(shop_lines(n_customers=300))
    served = predictions.churn_train(config=ChurnConfig(window_days=63, min_samples_leaf=10**6))
    page = admin_user_client.get(f"/admin/mlcore/modelversion/{served.pk}/change/").content.decode()
    assert "Served model: the logistic R/F/M baseline" in page and "calibrated gradient boosting (not served)" in page
    assert "Horizons from the shop&#x27;s purchase cadence" in page or "Horizons from the shop's purchase cadence" in page
    assert "at-risk threshold" in page


def test_at_risk_list_follows_the_setting_not_the_versions_churn_rate(api_client, scored, settings):
    # given an active version whose shop's base churn rate was 0.05 (recorded in its horizons), when the list is asked
    # without churn_min, then the shop's rule (AT_RISK_MIN_PROBABILITY, 0.7) applies; changing the setting moves it
    from mlcore.models import ModelVersion

    ModelVersion.objects.filter(kind="churn", is_active=True).update(params={"horizons": {"at_risk_probability": 0.05}})
    assert [r["customer"] for r in api_client.get("/api/v1/at-risk").json()["results"]] == [scored[0].external_id]
    settings.AT_RISK_MIN_PROBABILITY = 0.05
    assert len(api_client.get("/api/v1/at-risk").json()["results"]) == 3
