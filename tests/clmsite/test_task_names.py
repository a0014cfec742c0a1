"""Deployed task names never change: beat rows, queued messages and other deployments name them."""
from django.conf import settings

from clmsite.celery import app

DEPLOYED = {
    "clmsite.ping": "default",
    "customers.privacy_run": "default",
    "customers.webhook_deliver": "default",
    "campaigns.assistant_reindex": "ml",
    "campaigns.assistant_reindex_products": "ml",
    "campaigns.attribute_conversions": "email",
    "campaigns.copy_drafts_generate": "ml",
    "campaigns.dispatch_due": "email",
    "campaigns.record_bounce": "email",
    "campaigns.send_batch": "email",
    "campaigns.train_uplift": "ml",
    "customers.reap_stale_imports": "default",
    "customers.import_upload": "default",
    "mlcore.build_features": "ml",
    "mlcore.features_finish": "ml",
    "mlcore.features_shard": "ml",
    "mlcore.gpu.train_ranker": "gpu",
    "mlcore.jobs_reap_stale": "ml",
    "mlcore.gpu.train_sentiment": "gpu",
    "mlcore.recommend_finish": "ml",
    "mlcore.recommend_shard": "ml",
    "mlcore.score_customers": "ml",
    "mlcore.score_finish": "ml",
    "mlcore.score_shard": "ml",
    "mlcore.score_reviews": "ml",
    "mlcore.score_reviews_finish": "ml",
    "mlcore.score_reviews_shard": "ml",
    "mlcore.segment_customers": "ml",
    "mlcore.train_churn": "ml",
    "mlcore.train_recommender": "ml",
}


def registered() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith(("celery.", "tests."))}  # tests.*: tasks tests define


def test_every_deployed_task_name_is_still_registered():
    # given the names deployments depend on, when the apps' tasks load, then each is still registered
    assert set(DEPLOYED) <= registered()


def test_new_tasks_are_added_to_the_deployed_list():
    # given the registered tasks, then none is missing from the list above (so a rename shows up here)
    assert registered() <= set(DEPLOYED)


def test_tasks_route_to_their_queues():
    # given the routes in settings, when each deployed task is routed, then it lands on its queue
    router = app.amqp.router
    for name, queue in DEPLOYED.items():
        route = router.route({}, name)
        assert route["queue"].name == queue, name


def test_beat_schedule_names_only_registered_tasks():
    # given the beat schedule, then every entry names a registered task
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= registered()
