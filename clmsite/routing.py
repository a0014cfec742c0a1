"""The one route table: which queue each task runs on (callers never pass queue=).

Task names are "<app>.<name>", GPU work "mlcore.gpu.<name>". The first matching pattern wins.
Campaign mail goes to CAMPAIGN_QUEUE ("email" unless a deployment names its own), read when a
task is sent, so a test or bench that gives its private worker a queue of its own can route to it.
"""
from __future__ import annotations

from fnmatch import fnmatchcase

EMAIL = "email"
ROUTES: tuple[tuple[str, str], ...] = (
    ("mlcore.gpu.*", "gpu"),
    ("mlcore.*", "ml"),
    ("campaigns.assistant_*", "ml"),  # the assistant's re-indexing and training embed texts
    ("campaigns.train_uplift", "ml"),
    ("campaigns.copy_*", "ml"),  # drafting copy runs the language model
    ("campaigns.*", EMAIL),
    ("customers.*", "default"),
)


def queue_for(name: str) -> str:
    from django.conf import settings

    for pattern, queue in ROUTES:
        if fnmatchcase(name, pattern):
            return settings.CAMPAIGN_QUEUE if queue == EMAIL else queue
    return settings.CELERY_TASK_DEFAULT_QUEUE


def route_task(name, args, kwargs, options, task=None, **kw) -> dict:
    """Celery's router hook (settings.CELERY_TASK_ROUTES names it)."""
    return {"queue": queue_for(name)}
