"""The model version pages as people read them: metric tables with readable numbers, raw JSON
collapsed, no Delete on ready or active versions, overrides only for ML operators."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from infra.groups import GROUP_NAME, ML_OPERATORS_GROUP_NAME
from mlcore.models import ModelVersion
from mlcore.registry import services as registry
from mlcore.registry.metrics_display import readable_number

pytestmark = pytest.mark.django_db
METRICS = {"customers": 4334, "validation_ndcg@10": 0.36412, "train_seconds": {"als": 0.5361, "item_knn": 1.02},
           "by_country": [{"group": "France", "n": 70, "roc_auc": 0.81512}], "curve": {"x": [0, 1], "y": [0, 1]}}


def ready_version(kind: str = "recommender", metrics: dict | None = None) -> ModelVersion:
    mv = registry.model_version_create(kind=kind)
    return registry.model_version_save_object(version_id=mv.pk, obj={"w": 1}, metrics=metrics or METRICS)


def staff_client(client, django_user_model, group: str):
    user = django_user_model.objects.create_user(username=group.replace(" ", ""), password="pw-123-abc", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


@pytest.mark.parametrize("value, shown", [(4334, "4,334"), (4334.0, "4,334"), (0.74261, "0.743"), (12.5, "12.5"), (187390.44, "187,390.4"), (None, "-"), (0.0000012, "0.0000012")])
def test_numbers_read_without_exponents(value, shown):
    # given a metric value, when formatted, then it reads as a plain grouped number
    assert readable_number(value) == shown


def test_model_page_shows_tables_and_keeps_raw_json_collapsed(admin_user_client):
    # given a ready version with scalar, per-key and per-row metrics, when its page opens, then they are tables with readable numbers and the JSON sits in a closed details
    mv = ready_version()
    page = admin_user_client.get(f"/admin/mlcore/modelversion/{mv.pk}/change/").content.decode()
    assert "<td>customers</td><td>4,334</td>" in page and "<td>validation ndcg@10</td><td>0.364</td>" in page
    assert "<td>France</td><td>70</td><td>0.815</td>" in page and "<td>item_knn</td><td>1.02</td>" in page
    assert "e+0" not in page and "<details><summary>Show the raw JSON</summary>" in page
    assert page.index("Show the raw JSON") > page.index("<td>customers</td>")


def test_ready_and_active_versions_have_no_delete(admin_user_client):
    # given an active and a failed version, when their pages and the list open, then only the failed one can be deleted and the bulk delete action is gone
    active = ready_version()
    registry.model_version_activate(version_id=active.pk)
    failed = registry.model_version_create(kind="recommender")
    registry.model_version_fail(version_id=failed.pk, error="boom")
    assert admin_user_client.get(f"/admin/mlcore/modelversion/{active.pk}/delete/").status_code == 403
    assert "deletelink" not in admin_user_client.get(f"/admin/mlcore/modelversion/{active.pk}/change/").content.decode()
    assert admin_user_client.get(f"/admin/mlcore/modelversion/{failed.pk}/delete/").status_code == 200
    assert 'value="delete_selected"' not in admin_user_client.get("/admin/mlcore/modelversion/").content.decode()


def test_marketing_cannot_force_activate_or_roll_back(client, django_user_model):
    # given a Marketing user and two churn versions, when the list opens and force-activate is posted, then the action is not offered and nothing changes
    first, second = ready_version("churn"), ready_version("churn")
    registry.model_version_activate(version_id=first.pk)
    marketer = staff_client(client, django_user_model, GROUP_NAME)
    listing = marketer.get("/admin/mlcore/modelversion/").content.decode()
    marketer.post("/admin/mlcore/modelversion/", {"action": "force_activate", "_selected_action": [second.pk]})
    assert 'value="force_activate"' not in listing and 'value="rollback"' not in listing and 'value="activate"' in listing
    assert ModelVersion.objects.get(is_active=True, kind="churn").pk == first.pk


def test_ml_operators_may_roll_back(client, django_user_model):
    # given an ML operator and a kind whose second version is active, when roll back is posted, then the first is active again
    first, second = ready_version(), ready_version()
    registry.model_version_activate(version_id=first.pk)
    registry.model_version_activate(version_id=second.pk)
    operator = staff_client(client, django_user_model, ML_OPERATORS_GROUP_NAME)
    listing = operator.get("/admin/mlcore/modelversion/").content.decode()
    operator.post("/admin/mlcore/modelversion/", {"action": "rollback", "_selected_action": [second.pk]})
    assert 'value="force_activate"' in listing and 'value="rollback"' in listing
    assert ModelVersion.objects.get(is_active=True, kind="recommender").pk == first.pk


def test_feature_snapshot_list_shows_build_seconds_rounded(admin_user_client):
    # given a churn cut-off snapshot stored with its raw build time, when staff open the list, then it reads 0.6, not 0.6257703139999649
    from mlcore.models import FeatureSnapshot

    FeatureSnapshot.objects.create(snapshot_at="2011-11-01T00:00:00Z", definition="d", status="ready", customer_count=4334, build_seconds=0.6257703139999649)
    page = admin_user_client.get("/admin/mlcore/featuresnapshot/").content.decode()
    assert '<td class="field-build_time">0.6</td>' in page and "0.62577" not in page
