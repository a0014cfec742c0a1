"""Seconds for features + segmentation + storing, on real and generated shops, SQLite or PostgreSQL.

Usage (one database per process; run from the repository root):
    OMP_NUM_THREADS=1 .venv/bin/python bench/segments.py --db sqlite --size real
    OMP_NUM_THREADS=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_segments \
        .venv/bin/python bench/segments.py --db postgres --size 1m
    .venv/bin/python bench/segments.py --kmeans 1m     # how to choose k: full sweep vs sampled sweep

The order lines come from the Online Retail file (mlcore.ml.datasets) or the cached generator
(mlcore.ml.synthetic, bench/.cache/); reading them from the shop's tables is not timed here.
A run is: features (pure, vectorised) -> K-means with k chosen by silhouette -> naming ->
store the feature snapshot and the run (COPY on PostgreSQL, executemany on SQLite). The
second run, a week later, is the nightly case: it also matches centroids to the first run and
counts transitions over both runs' memberships. SQLite uses a fresh file under bench/.cache;
PostgreSQL uses DATABASE_URL, whose customer and segment tables are emptied first.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
sys.path.insert(0, str(ROOT))
SIZES = {"real": None, "100k": (100_000, 10_000), "1m": (1_000_000, 50_000)}
TIMES: dict[str, float] = defaultdict(float)


@contextmanager
def timed(label: str):
    started = time.perf_counter()
    yield
    TIMES[label] += time.perf_counter() - started


def instrument(module, name: str, label: str) -> None:
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        with timed(label):
            return original(*args, **kwargs)

    setattr(module, name, wrapper)


def order_lines(size: str):
    import pandas as pd

    from mlcore.ml.datasets import load_online_retail
    from mlcore.ml.synthetic import SyntheticConfig, cached_order_lines

    if size == "real":
        path = Path(os.environ.get("CLM_SHARED_DATA", ROOT.parent / "shared" / "data")) / "online-retail" / "online_retail.csv.gz"
        lines = load_online_retail(path)
        return lines, lines["placed_at"].max().normalize() + pd.Timedelta(days=1)
    n, products = SIZES[size]
    lines = cached_order_lines(CACHE, SyntheticConfig(n_customers=n, n_products=products))
    # keep what the features read; text columns as categoricals (a 1M-customer frame is ~4.5 GB otherwise)
    lines = lines[["order_id", "customer_id", "placed_at", "product_id", "category", "product_kind", "quantity", "amount"]]
    lines = lines.astype({"category": "category", "product_kind": "category"})
    return lines, lines["placed_at"].max().normalize() + pd.Timedelta(days=1)


def django_setup(db: str) -> None:
    if db == "sqlite":
        var = CACHE / "sqlite_var"
        var.mkdir(parents=True, exist_ok=True)
        (var / "clm.sqlite3").unlink(missing_ok=True)
        os.environ["CLM_VAR_DIR"] = str(var)
        os.environ.pop("DATABASE_URL", None)
    elif not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("--db postgres needs DATABASE_URL=postgres://...")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clmsite.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset_and_add_customers(customer_ids) -> None:
    """Empty the tables this bench writes, then insert one bare customer per id (untimed set-up)."""
    import pandas as pd
    from django.db import connection, transaction
    from django.utils import timezone

    from customers.models import Customer
    from infra.bulk import frame_insert
    from mlcore.models import (
        CustomerFeatures,
        FeatureSnapshot,
        ModelVersion,
        Segment,
        SegmentationRun,
        SegmentMembership,
        SegmentTransition,
    )

    # the bulk tables have no database foreign keys, so CASCADE would not reach them: name them all
    models = (SegmentMembership, SegmentTransition, Segment, SegmentationRun, CustomerFeatures, FeatureSnapshot, Customer)
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    ModelVersion.objects.filter(kind="segmentation").delete()
    now = timezone.now().isoformat()  # as text: valid for COPY and for SQLite
    ids = pd.Series(sorted(set(customer_ids)), dtype="int64")
    frame = pd.DataFrame({
        "id": ids, "external_id": "C" + ids.astype(str), "email": "", "name": "", "country": "",
        "email_consent": False, "email_consent_source": "", "created_at": now, "updated_at": now,
    })
    with transaction.atomic():
        frame_insert(model=Customer, frame=frame)


def one_run(lines, snapshot) -> int:
    from mlcore.features.services import feature_snapshot_store
    from mlcore.ml.features import build_customer_features
    from mlcore.ml.segments.clustering import fit_segments
    from mlcore.segments import services as service

    config = service.segmentation_config()
    with timed("features"):
        features = build_customer_features(lines, snapshot=snapshot)
    with timed("store feature snapshot"):
        snapshot_id = feature_snapshot_store(snapshot_at=snapshot.to_pydatetime(), features=features)
    with timed("k-means + silhouette"):
        result = fit_segments(features, config)
    with timed("store run (total)"):
        run_id = service.segmentation_run_store(
            snapshot_at=snapshot.to_pydatetime(), snapshot_id=snapshot_id, features=features, result=result, config=config,
        )
    print(f"    run {run_id}: {len(features):,} customers, k={result.k}, silhouette {result.silhouette:.3f}, "
          f"Davies-Bouldin {result.davies_bouldin:.3f}, by k {({k: round(v, 3) for k, v in result.silhouette_by_k.items()})}")
    return run_id


def bench_runs(db: str, size: str) -> None:
    import pandas as pd

    django_setup(db)
    from mlcore.ml.segments import names as segment_names
    from mlcore.segments import services as service

    lines, snapshot = order_lines(size)
    reset_and_add_customers(lines["customer_id"].dropna().astype("int64"))
    instrument(service, "store_memberships", "  memberships insert")
    instrument(service, "store_transitions", "  transitions query")
    instrument(service, "save_model_version", "  model version")
    instrument(service, "name_segments", "  naming")
    instrument(segment_names, "segment_profiles", "  profiles")
    print(f"{size} on {db}: {len(lines):,} order lines; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, {os.cpu_count()} cores")
    for label, when in (("first run", snapshot - pd.Timedelta(days=7)), ("re-segmentation a week later", snapshot)):
        TIMES.clear()
        started = time.perf_counter()
        one_run(lines, when)
        total = time.perf_counter() - started
        print(f"  {label}: {total:.1f} s end to end")
        for name, seconds in TIMES.items():
            print(f"    {name:<28} {seconds:7.2f} s")


def bench_kmeans(size: str) -> None:
    """Choice of k on the real or generated features: full-data sweep vs sampled sweep + refit."""
    from dataclasses import replace

    from mlcore.ml.features import build_customer_features
    from mlcore.ml.segments.clustering import SegmentationConfig, fit_segments

    lines, snapshot = order_lines(size)
    features = build_customer_features(lines, snapshot=snapshot)
    base = SegmentationConfig()
    variants = {
        "sweep on all rows, Lloyd, 1 init": replace(base, fit_sample=None),
        "sweep on 200k sample + refit (default)": base,
        "sweep on 200k sample, 10 inits + refit": replace(base, n_init=10),
    }
    print(f"k selection on {size}: {len(features):,} customers x {len(base.features)} features, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    for name, config in variants.items():
        started = time.perf_counter()
        result = fit_segments(features, config)
        print(f"  {name:<42} {time.perf_counter() - started:6.1f} s  k={result.k} silhouette {result.silhouette:.3f} "
              f"DB {result.davies_bouldin:.3f} inertia {result.inertia:.4g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--size", choices=list(SIZES), default="real")
    parser.add_argument("--kmeans", choices=list(SIZES), help="only compare ways of choosing k at this size")
    args = parser.parse_args()
    if args.kmeans:
        bench_kmeans(args.kmeans)
    else:
        bench_runs(args.db, args.size)


if __name__ == "__main__":
    main()
