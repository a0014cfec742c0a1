import hashlib
import pickle

import numpy as np
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


class Piecewise:
    """A binary file that refuses read() of everything (what loading a large pickle must never do)."""

    def __init__(self, handle):
        self.handle = handle

    def read(self, size=-1):
        assert size is not None and size >= 0, "the whole artefact was read into memory"
        return self.handle.read(size)

    def __getattr__(self, name):  # readinto, readline, readable, seek, close: the file's own
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()


def test_a_pickled_artefact_streams_through_a_file_and_is_never_read_whole(monkeypatch):
    # given an object holding a large numpy array, when saved and loaded, then the file is exactly its pickle, the
    # recorded sha256 is the file's, and loading reads the file in pieces (no read() of the whole file)
    obj = {"vectors": np.arange(300_000, dtype=np.float32).reshape(1000, 300), "name": "x"}
    mv = registry.model_version_save_object(version_id=registry.model_version_create(kind="recommender").pk, obj=obj)
    stored = registry.model_version_path(version_id=mv.pk).read_bytes()
    assert stored == pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL) and mv.artefact_sha256 == hashlib.sha256(stored).hexdigest()
    storage = registry.model_storage()
    opened = storage.open

    def piecewise(name, mode="rb"):
        return Piecewise(opened(name, mode))

    monkeypatch.setattr(storage, "open", piecewise)
    loaded = registry.model_version_load_object(version_id=mv.pk)
    assert np.array_equal(loaded["vectors"], obj["vectors"]) and loaded["name"] == "x"


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


def test_an_artefact_in_a_storage_whose_files_cannot_rewind_is_read_again_to_load(monkeypatch):
    # given a storage whose files say they cannot seek, when an artefact is loaded, then it is hash-checked on one read
    # and unpickled from a second one
    mv = registry.model_version_save_object(version_id=registry.model_version_create(kind="churn").pk, obj={"w": 3})
    storage = registry.model_storage()
    opened, opens = storage.open, []

    class OneWay(Piecewise):
        def seekable(self):
            return False

        def seek(self, *args):
            raise OSError("cannot seek")

    def one_way(name, mode="rb"):
        opens.append(name)
        return OneWay(opened(name, mode))

    monkeypatch.setattr(storage, "open", one_way)
    assert registry.model_version_load_object(version_id=mv.pk) == {"w": 3} and len(opens) == 2
