"""/healthz: the state of the database and the broker, 200 when both answer, 503 otherwise."""
from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the text tells which
        return f"down: {exc.__class__.__name__}: {exc}"[:300]
    return "ok"


def broker_state() -> str:
    if not settings.CELERY_BROKER_URL:
        return "ok (tasks run in-process)"
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"down: {exc.__class__.__name__}: {exc}"[:300]
    return "ok"


def healthz(request):
    checks = {"database": database_state(), "broker": broker_state()}
    healthy = all(state.startswith("ok") for state in checks.values())
    return JsonResponse({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)
