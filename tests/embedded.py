"""A real Celery worker with beat on the embedded filesystem broker, as `make demo` runs it.

The worker is a subprocess on the test's own database (a file under var/ on SQLite, the test
database on PostgreSQL), so tests that use it commit their rows (django_db(transaction=True)).
Mail goes to Django's file backend under the given folder.
"""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from tests.conftest import ROOT


def database_env() -> dict[str, str]:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"]), "DATABASE_URL": ""}
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return {"DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}


def mail_recipients(folder: Path) -> list[str]:
    """The To: address of every message the file backend wrote."""
    if not folder.exists():
        return []
    raw = "".join(p.read_text() for p in folder.iterdir())
    return sorted(line[4:] for line in raw.splitlines() if line.startswith("To: "))


@contextmanager
def embedded_worker(folder: Path, *, site_url: str = "http://127.0.0.1:8000", dispatch_seconds: int = 2):
    """Yields the worker process; its log is folder/worker.log, its mail folder/mail."""
    from django.conf import settings

    env = dict(
        os.environ, **database_env(), MEDIA_DIR=str(settings.STORAGES["default"]["OPTIONS"]["location"]), REDIS_URL="", CELERY_BROKER_URL="filesystem://", BROKER_DIR=str(folder / "broker"),
        CAMPAIGN_DISPATCH_SECONDS=str(dispatch_seconds), EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        CAMPAIGN_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=str(folder / "mail"),
        OMP_NUM_THREADS="1", SITE_URL=site_url,
    )
    with open(folder / "worker.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clmsite", "worker", "-B", "-Q", "default,ml,gpu,email", "--pool=solo",
             "--without-gossip", "--without-mingle", "-s", str(folder / "beat-schedule"), "-n", f"embedded-{os.getpid()}@%h",
             "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
