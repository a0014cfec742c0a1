import tarfile

import pytest

from mlcore.models import ModelVersion
from mlcore.recommendations.services import recommender_train
from mlcore.recommendations.tasks import train_ranker
from mlcore.registry.services import model_version_path
from tests.mlcore.recommend_shop import make_shop, tiny_encoder_folder

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_encoder(tmp_path_factory):
    """A tiny random BERT saved with the packaged tokenizer, as a local RANKER_MODEL_PATH."""
    return tiny_encoder_folder(tmp_path_factory.mktemp("tiny-encoder"))


def test_ranker_task_registers_a_ranker_version_and_runs_twice(settings, tiny_encoder):
    # given a trained recommender and a tiny encoder path, when the GPU task runs twice on the CPU, then two ranker versions exist
    settings.RANKER_MODEL_PATH = tiny_encoder
    make_shop()
    recommender_train(fast=True)
    first = train_ranker.apply(kwargs={"steps": 3}).get()
    second = train_ranker.apply(kwargs={"steps": 3}).get()
    versions = ModelVersion.objects.filter(kind="ranker", status=ModelVersion.Status.READY)
    assert versions.count() == 2 and first["version"] == 1 and second["version"] == 2
    assert second["metrics"]["device"] == "cpu" and second["metrics"]["pairs"] == 3 * 32 and "weight" in second["metrics"]
    with tarfile.open(model_version_path(version_id=second["model_version"])) as tar:
        assert {"config.json", "metrics.json"} <= set(tar.getnames())


def test_ranker_task_without_a_recommender_is_skipped():
    # given no trained recommender, when the ranker task runs, then it says so and registers nothing
    assert "skipped" in train_ranker.apply().get()
    assert not ModelVersion.objects.filter(kind="ranker").exists()
