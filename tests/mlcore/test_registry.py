import pytest
from django.db import IntegrityError, transaction

from mlcore.models import ModelVersion
from mlcore.registry import services as registry

pytestmark = pytest.mark.django_db


def test_versions_number_up_per_kind():
    # given two kinds, when versions are created, then each counts from 1
    assert [registry.model_version_create(kind="churn").version for _ in range(2)] == [1, 2]
    assert registry.model_version_create(kind="bgnbd").version == 1


def test_artefact_written_with_hash_and_then_ready():
    # given a training version, when its artefact is saved, then it is ready with a matching sha256 and loads back
    mv = registry.model_version_create(kind="churn", params={"seed": 1})
    assert mv.status == "training"
    mv = registry.model_version_save_object(version_id=mv.pk, obj={"w": [1, 2]}, metrics={"auc": 0.8})
    assert mv.status == "ready" and len(mv.artefact_sha256) == 64 and mv.artefact_path == "churn/1/model.pkl"
    assert registry.model_version_load_object(version_id=mv.pk) == {"w": [1, 2]}


def test_artefacts_are_immutable():
    # given a ready version, when its artefact is written again, then it is refused
    mv = registry.model_version_save_object(version_id=registry.model_version_create(kind="churn").pk, obj=1)
    with pytest.raises(ValueError, match="immutable"):
        registry.model_version_save_object(version_id=mv.pk, obj=2)


def test_tampered_artefact_is_refused():
    # given a ready version whose file changed on disk, when loaded, then the hash check refuses it
    mv = registry.model_version_save_object(version_id=registry.model_version_create(kind="churn").pk, obj=1)
    path = registry.model_version_path(version_id=mv.pk)
    path.write_bytes(b"changed")
    with pytest.raises(ValueError, match="sha256"):
        registry.model_version_load_object(version_id=mv.pk)


def test_only_ready_versions_activate_and_one_is_active_per_kind():
    # given two ready versions and one training, then activation moves, training is refused, and one is active
    v1 = registry.model_version_save_object(version_id=registry.model_version_create(kind="churn").pk, obj=1)
    v2 = registry.model_version_save_object(version_id=registry.model_version_create(kind="churn").pk, obj=2)
    v3 = registry.model_version_create(kind="churn")
    registry.model_version_activate(version_id=v1.pk)
    registry.model_version_activate(version_id=v2.pk)
    with pytest.raises(registry.ActivationRefused):
        registry.model_version_activate(version_id=v3.pk)
    assert list(ModelVersion.objects.filter(is_active=True).values_list("version", flat=True)) == [2]
    assert registry.model_version_rollback(kind="churn").version == 1
    assert registry.model_version_active(kind="churn").version == 1


def test_database_refuses_two_active_versions_of_a_kind():
    # given an active version, when another row is forced active, then the conditional unique constraint refuses
    v1 = registry.model_version_save_object(version_id=registry.model_version_create(kind="churn").pk, obj=1)
    v2 = registry.model_version_save_object(version_id=registry.model_version_create(kind="churn").pk, obj=2)
    registry.model_version_activate(version_id=v1.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=v2.pk).update(is_active=True)
