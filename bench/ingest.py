"""Import speed: lines/second for the full Online Retail file on SQLite and on PostgreSQL,
against a plain PostgreSQL COPY of the same raw file into a scratch table (the reference).

    .venv/bin/python bench/ingest.py [--file data/online_retail.csv.gz] [--pg postgres://...] [--skip-sqlite] [--skip-pg]

Each measurement runs in a fresh process on an empty database (SQLite under bench/.cache/,
PostgreSQL: the database named by --pg, default clm_ingest, whose public schema is reset), then
imports the same file a second time (nothing changes: the idempotent path). Prints figures.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _pg import database_ensure  # bench/ is sys.path[0] when a bench runs

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/clm_ingest"


def _django(env: dict) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clmsite.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_one(file: str) -> dict:
    """In a child process whose environment names the database: migrate, import twice, time both."""
    from django.core.management import call_command

    from customers.imports.services import import_file
    from customers.models import ImportBatch

    call_command("migrate", verbosity=0)
    out = {}
    for label in ("fresh", "again"):
        started = time.perf_counter()
        batch = ImportBatch.objects.get(pk=import_file(path=file, kind="orders", preset="online_retail"))
        out[label] = {"seconds": round(time.perf_counter() - started, 2), "rows_read": batch.rows_read,
                      "created": batch.rows_created, "unchanged": batch.rows_unchanged}
    return out


def child(env: dict, file: str) -> dict:
    code = f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import ingest, json; ingest._django({env!r}); print(json.dumps(ingest.run_one({file!r})))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_sqlite(file: str) -> dict:
    var = CACHE / "sqlite"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    return child({"CLM_VAR_DIR": str(var), "DATABASE_URL": ""}, file)


def reset_pg(url: str) -> None:
    import psycopg

    database_ensure(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def bench_pg(file: str, url: str) -> dict:
    reset_pg(url)
    return child({"DATABASE_URL": url, "CLM_VAR_DIR": str(CACHE / "pg-var")}, file)


def bench_raw_copy(file: str, url: str) -> float:
    """Reference: gunzip + COPY the raw CSV into an unindexed scratch table of text columns."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_raw_copy")
        cur.execute("CREATE TABLE bench_raw_copy (invoice text, stock_code text, description text, quantity text, "
                    "invoice_date text, unit_price text, customer_id text, country text)")
        with gzip.open(file, "rb") as raw, cur.copy("COPY bench_raw_copy FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while chunk := raw.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        cur.execute("DROP TABLE bench_raw_copy")
        conn.commit()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=str(ROOT / "data" / "online_retail.csv.gz"))
    parser.add_argument("--pg", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    if not Path(args.file).exists():
        raise SystemExit(f"{args.file} is missing (the bundled data/ copy or ../shared/data)")
    lines = sum(1 for _ in gzip.open(args.file, "rt", encoding="utf-8")) - 1
    print(f"ingest bench: {args.file} ({lines:,} lines); {os.cpu_count()} cores shared with other jobs, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, load average {os.getloadavg()[0]:.1f}")
    results = {}
    if not args.skip_sqlite:
        results["sqlite (batched)"] = bench_sqlite(args.file)
    if not args.skip_pg:
        results["postgresql (COPY + upsert)"] = bench_pg(args.file, args.pg)
        raw = bench_raw_copy(args.file, args.pg)
        print(f"  {'raw COPY reference':28s} {raw:7.2f} s  {lines / raw:10,.0f} lines/s")
    for name, figures in results.items():
        for label in ("fresh", "again"):
            s = figures[label]["seconds"]
            ratio = f"  {s / raw:4.1f}x raw COPY" if not args.skip_pg else ""
            print(f"  {name + ' ' + label:28s} {s:7.2f} s  {lines / s:10,.0f} lines/s{ratio}  "
                  f"(created {figures[label]['created']:,}, unchanged {figures[label]['unchanged']:,})")


if __name__ == "__main__":
    main()
