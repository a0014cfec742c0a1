"""Shared by the PostgreSQL benches (not a bench itself: `make bench` skips files starting with _)."""
from __future__ import annotations

from urllib.parse import urlsplit


def database_ensure(url: str) -> None:
    """Create the bench database on first use (the server must be up; trust or password in the URL)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(url.replace(parts.path, "/postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
