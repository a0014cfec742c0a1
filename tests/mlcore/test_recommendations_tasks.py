import io

import pytest
from django.core.management import call_command

from clmsite.celery import app
from mlcore.models import RecommendationList
from tests.mlcore.recommend_shop import make_shop


def test_recommender_task_names_never_change():
    # given the registered Celery tasks, when looked up, then the deployed names exist
    assert {"mlcore.train_recommender", "mlcore.gpu.train_ranker"} <= set(app.tasks.keys())


@pytest.mark.django_db
def test_train_recommender_command_stores_lists(settings):
    # given a shop, when `manage.py train_recommender --fast` runs, then lists are stored and the command says so
    settings.RECOMMENDER_TOP_N = 3
    make_shop()
    out = io.StringIO()
    call_command("train_recommender", "--fast", stdout=out)
    assert "model_version" in out.getvalue() and sum(len(items) for items in RecommendationList.objects.values_list("items", flat=True)) == 12 * 3
