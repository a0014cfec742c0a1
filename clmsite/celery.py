"""The Celery app: queues default, ml, gpu and email; routes and beat schedule come from settings."""
import os

from celery import Celery
from kombu import Queue

import clmsite.broker  # noqa: F401 - filesystem:// as the embedded broker with whole messages

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clmsite.settings")

app = Celery("clmsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "ml", "gpu", "email")]
app.autodiscover_tasks()


@app.task(name="clmsite.ping")
def ping(value: str = "pong") -> str:
    """Round trip through broker and result backend; used by health checks and tests."""
    return value
