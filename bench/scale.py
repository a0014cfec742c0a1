"""The platform at shop scale: a generated shop imported into PostgreSQL, then the nightly run.

    OMP_NUM_THREADS=1 .venv/bin/python bench/scale.py --customers 1000000 --max-minutes 90
    OMP_NUM_THREADS=1 .venv/bin/python bench/scale.py --customers 5000 --max-minutes 10   # CI-sized

Steps (each in its own process, so its peak RSS is its own; wall, CPU seconds and peak RSS of each):
  generate    mlcore.ml.synthetic order lines (BG/NBD-like cadence, Zipf product popularity, skewed
              baskets, ~2% returns), written as an Online Retail file plus a reviews file
  import      both files through the importer (customers.imports.services.import_file)
  the night   as beat starts it, each task applied in-process as a worker would run it:
              segment_customers (features + segmentation), train_churn (with BG/NBD + Gamma-Gamma),
              score_customers (with its writes), train_recommender (fit, then every customer's top-N
              in shards, with its writes), score_reviews
  features    tonight's feature snapshot from the database in shards of each --feature-shard-sizes,
              one after another in-process (wall, CPU, peak RSS, shards; 0: the one-read build), deleted after;
              then the same as beat builds it (mlcore.build_features: plan + chord) on a worker of each --workers
  before/after  top-N of a sample of customers per customer (recommend_block) vs in blocks
              (topn.top_block), equal lists checked; score writes through bulk_create vs frame_insert;
              the sample's lists written a row a slot (the table's shape until migration 0018) vs a row a customer
  workers     the recommender's top-N shards as a Celery group on the ml queue through Redis, with a
              worker of 1 and then of 2 processes (--workers), and two shard sizes (--shard-sizes)
Bounded: every child gets the time left of --max-minutes and is stopped when it runs out; steps not
reached are listed as not run. Results: bench/.cache/scale/<customers>.json, a table printed, and
the table written into docs/scale.md between its `scale:begin` / `scale:end` markers.
Databases: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/clm_scale_bench, schema
reset), BENCH_REDIS_URL for the worker step (default redis://127.0.0.1:6379/6).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache" / "scale"
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clm_scale_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
BENCH_SECRET = "bench-only-secret-key-not-for-production-0123456789"  # noqa: S105 - DEBUG off needs one; never deployed
sys.path.insert(0, str(ROOT))
NIGHT = [("segment_customers", "mlcore.segments.tasks"), ("train_churn", "mlcore.predictions.tasks"),
         ("score_customers", "mlcore.predictions.tasks"), ("train_recommender", "mlcore.recommendations.tasks"),
         ("score_reviews", "mlcore.feedback.tasks")]
WORDS = ["red", "blue", "vintage", "wooden", "glass", "paper", "heart", "star", "garden", "kitchen", "party", "christmas", "retro", "set of 3", "large", "small"]
GENERATE_CHUNK_LINES = 1_000_000
NOUNS = ["mug", "bag", "candle", "card", "lantern", "cushion", "frame", "clock", "bowl", "bunting", "tin", "doormat"]


def django_setup(broker: bool = False) -> None:
    os.environ.update(DATABASE_URL=DB_URL, DJANGO_SETTINGS_MODULE="clmsite.settings", DEBUG="0", LOG_LEVEL="WARNING",
                      CLM_VAR_DIR=str(CACHE / "var"), SECRET_KEY=BENCH_SECRET)
    if broker:
        os.environ["REDIS_URL"] = REDIS_URL
    import django

    django.setup()


# --- steps (run in a child process) ------------------------------------------------------------
def step_generate(args) -> dict:
    import numpy as np

    from mlcore.ml.synthetic import SyntheticConfig, generate_order_lines

    lines = generate_order_lines(SyntheticConfig(n_customers=args.customers, n_products=args.products, seed=7))
    rng = np.random.default_rng(7)
    title = {p: f"{rng.choice(WORDS).upper()} {rng.choice(WORDS).upper()} {NOUNS[p % len(NOUNS)].upper()}" for p in range(1, args.products + 1)}
    path = CACHE / f"orders-{args.customers}.csv"
    for start in range(0, len(lines), GENERATE_CHUNK_LINES):  # the file's text columns a chunk at a time (8.2 GB at 1M in one go)
        _online_retail_rows(lines.iloc[start:start + GENERATE_CHUNK_LINES], title).to_csv(path, index=False, header=start == 0, mode="w" if start == 0 else "a")
    sales = lines[lines["status"] == "placed"].drop_duplicates(["customer_id", "product_id"])
    reviews = sales.sample(n=min(len(sales), max(1, args.customers // 10)), random_state=7)
    rating = rng.choice([1, 2, 3, 4, 5], size=len(reviews), p=[0.08, 0.07, 0.12, 0.28, 0.45])
    texts = np.where(rating >= 4, "Lovely quality, arrived quickly, would buy again", np.where(rating <= 2, "Broken on arrival and the colour is wrong, disappointed", "It is fine, a bit smaller than expected"))
    pd_reviews = reviews.assign(sku="P" + reviews["product_id"].astype(str), customer=reviews["customer_id"].astype(str), rating=rating,
                                title="Review", text=texts, date=reviews["placed_at"].dt.strftime("%Y-%m-%d %H:%M:%S"), external_id="r" + np.arange(len(reviews)).astype(str))
    pd_reviews[["external_id", "sku", "customer", "rating", "title", "text", "date"]].to_csv(CACHE / f"reviews-{args.customers}.csv", index=False)
    return {"order_lines": len(lines), "orders": int(lines["order_id"].nunique()), "customers": int(lines["customer_id"].nunique()),
            "products": int(lines["product_id"].nunique()), "reviews": len(reviews)}


def _online_retail_rows(lines, title: dict):
    """The generated lines as Online Retail's columns (returns as C-prefixed invoices)."""
    import numpy as np
    import pandas as pd

    invoice = np.where(lines["status"] == "returned", "C", "") + lines["order_id"].astype(str)
    return pd.DataFrame({
        "InvoiceNo": invoice, "StockCode": "P" + lines["product_id"].astype(str), "Description": lines["product_id"].map(title),
        "Quantity": lines["quantity"], "InvoiceDate": lines["placed_at"].dt.strftime("%Y-%m-%d %H:%M:%S"),
        "UnitPrice": lines["unit_price"], "CustomerID": lines["customer_id"], "Country": lines["country"],
    })


def step_import(args) -> dict:
    from customers.imports.services import import_file
    from customers.models import ImportBatch

    out = {}
    started = time.perf_counter()
    batch = ImportBatch.objects.get(pk=import_file(path=CACHE / f"orders-{args.customers}.csv", kind="orders", preset="online_retail"))
    out.update(order_rows=batch.rows_read, order_rows_created=batch.rows_created, orders_seconds=round(time.perf_counter() - started, 1))
    mapping = {"columns": {"external_id": "external_id", "product_sku": "sku", "customer_id": "customer", "rating": "rating",
                           "title": "title", "text": "text", "created_at": "date"}, "language": "en"}
    batch = ImportBatch.objects.get(pk=import_file(path=CACHE / f"reviews-{args.customers}.csv", kind="reviews", mapping=mapping))
    out.update(review_rows=batch.rows_read, review_rows_created=batch.rows_created)
    return out


def step_task(args) -> dict:
    import importlib

    from infra import jobs

    module = dict(NIGHT)[args.step]
    task = getattr(importlib.import_module(module), args.step)
    kwargs = {"fast": True} if args.step == "train_recommender" and args.fast else {}
    result = task.apply(kwargs=kwargs).get()
    result = {**result, **jobs.job_result(job_id=result["job_id"])}  # a sharded task's counts are the job's, from its chord's callback
    return {k: v for k, v in result.items() if isinstance(v, (int, float, str, type(None))) and k != "job_id"}


def step_features(args) -> dict:
    """Tonight's feature snapshot from the database in shards of --shard-size customers, one after
    another in this process (as the in-process build runs them); the snapshot is deleted after, so
    the night's segment_customers builds its own."""
    from customers.clock import shop_as_of
    from mlcore.features.services import feature_config_active, feature_frame_compute, feature_snapshot_store
    from mlcore.features.shards import feature_snapshot_build_sharded
    from mlcore.ml.features import FeatureConfig
    from mlcore.models import CustomerFeatures, FeatureSnapshot

    # the active churn model's definition, else the default one (the shop's horizons would read every line first)
    config, at = feature_config_active() or FeatureConfig(), shop_as_of().moment
    doomed = FeatureSnapshot.objects.filter(snapshot_at=at, definition=config.key)
    CustomerFeatures.objects.filter(snapshot__in=doomed).delete()
    doomed.delete()
    if args.shard_size == 0:  # before the shards: every line read at once, every customer computed in one process
        started = time.perf_counter()
        features = feature_frame_compute(snapshot_at=at, config=config)
        snapshot_id, frame = feature_snapshot_store(snapshot_at=at, features=features, config=config), features
        seconds = time.perf_counter() - started
        snapshot = FeatureSnapshot.objects.get(pk=snapshot_id)
        out = {"customers": snapshot.customer_count, "shards": "one read", "build_s": round(seconds, 1)}
    else:
        snapshot_id, frame = feature_snapshot_build_sharded(snapshot_at=at, config=config, size=args.shard_size)
        snapshot = FeatureSnapshot.objects.get(pk=snapshot_id)
        out = {"customers": snapshot.customer_count, "shards": len(snapshot.params["shards"]), "shard_size": args.shard_size,
               "plan_s": snapshot.params["plan_seconds"], "build_s": round(snapshot.build_seconds, 1)}
    out["frame_rows"] = len(frame)
    CustomerFeatures.objects.filter(snapshot_id=snapshot_id).delete()
    snapshot.delete()
    return out


def step_topn(args) -> dict:
    import numpy as np

    from mlcore.ml.recommendations.model import recommend_block
    from mlcore.ml.recommendations.topn import category_codes, top_block
    from mlcore.recommendations.services import recommender_model
    from mlcore.registry import services as registry

    model = recommender_model(version_id=registry.model_version_active(kind="recommender").pk)
    n = min(args.topn_sample, len(model.data.user_ids))
    rows, codes, k, out = np.arange(n), category_codes(model), 20, {"customers": n, "model_customers": len(model.data.user_ids), "products": len(model.data.item_ids)}
    for name, run in (("per_customer", lambda b: recommend_block(model, b, k)), ("blocked", lambda b: top_block(model, b, k, codes=codes))):
        started, cpu = time.perf_counter(), time.process_time()
        results = [run(rows[s:s + 2048]) for s in range(0, n, 2048)]
        out[f"{name}_seconds"], out[f"{name}_cpu"] = round(time.perf_counter() - started, 2), round(time.process_time() - cpu, 2)
        out[f"_{name}"] = results
    naive = [[i.column for i in listed] for block in out.pop("_per_customer") for listed in block]
    blocked = [[int(c) for c in cols if c >= 0] for block in out.pop("_blocked") for cols in block.columns]
    out["equal_lists"] = naive == blocked
    return out


def step_writes(args) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from mlcore.features.selectors import feature_snapshot_frame
    from mlcore.models import CustomerScore
    from mlcore.predictions.scoring import score_features, scores_replace, scoring_plan
    from mlcore.registry import services as registry

    plan = scoring_plan()
    model = registry.model_version_load_object(version_id=plan.version_id)["model"]
    frame, versions = score_features(model, feature_snapshot_frame(snapshot_id=plan.snapshot_id), annual_discount_rate=0.10)
    scratch = registry.model_version_create(kind="churn", params={"bench": "scale writes"})
    out = {"rows": len(frame)}
    started = time.perf_counter()
    with transaction.atomic():
        CustomerScore.objects.bulk_create(orm_rows(frame, scratch, versions, timezone.now()), batch_size=5000)
    out["bulk_create_seconds"] = round(time.perf_counter() - started, 2)
    CustomerScore.objects.filter(model_version=scratch).delete()
    started = time.perf_counter()
    scores_replace(mv=scratch, frame=frame, versions=versions, job_id=None, batch_size=50_000)
    out["copy_seconds"] = round(time.perf_counter() - started, 2)
    CustomerScore.objects.filter(model_version=scratch).delete()
    scratch.delete()
    return out


OLD_SLOT_TABLE = """CREATE TABLE bench_recommendation_slots (id bigserial PRIMARY KEY, model_version_id bigint NOT NULL,
    customer_id bigint NOT NULL, product_id bigint NOT NULL, rank smallint NOT NULL, score double precision NOT NULL, reason varchar(300) NOT NULL)"""
OLD_SLOT_INDEXES = ("CREATE UNIQUE INDEX ON bench_recommendation_slots (model_version_id, customer_id, rank)",
                    "CREATE INDEX ON bench_recommendation_slots (model_version_id)", "CREATE INDEX ON bench_recommendation_slots (customer_id)",
                    "CREATE INDEX ON bench_recommendation_slots (product_id)")


def slot_frame(version_id, model, rows, top, *, held):
    """One block's lists a row a slot, as store.py wrote them until migration 0018 (the "before")."""
    import numpy as np
    import pandas as pd

    listed = top.columns >= 0
    row_of, rank = np.nonzero(listed)
    frame = pd.DataFrame({
        "model_version": np.full(len(row_of), version_id, dtype=np.int64),
        "customer": model.data.user_ids[rows[row_of]].astype(np.int64),
        "product": model.data.item_ids[top.columns[listed]].astype(np.int64),
        "rank": (rank + 1).astype(np.int64),
        "score": np.round(top.scores[listed], 6),
        "reason": pd.Series(top.reasons[listed], dtype=object).str.slice(0, 300).to_numpy(dtype=object),
    })
    return frame[np.isin(frame["customer"], held.customers) & np.isin(frame["product"], held.products)]


def step_topn_writes(args) -> dict:
    """The first --topn-sample customers' lists written as a night writes a new version: before, one
    row a slot into a table of the old shape (mlcore_recommendation until migration 0018: its five
    indexes), holding the active version's lists as slots, as the old table held last night's; after,
    one row a customer (RecommendationList, store.list_frame) into the table holding last night's
    lists. The lists are scored once; each write runs in a transaction that is rolled back. The old
    table is filled outside the clock and dropped at the end. PostgreSQL only."""
    import numpy as np
    from django.db import connection, transaction

    from infra.bulk import copy_insert, frame_insert
    from mlcore.ml.recommendations.topn import category_codes, top_block
    from mlcore.models import RecommendationList
    from mlcore.recommendations.services import recommender_model
    from mlcore.recommendations.store import BLOCK, keys_hold, list_frame
    from mlcore.registry import services as registry

    version = registry.model_version_active(kind="recommender")
    model = recommender_model(version_id=version.pk)
    n, codes, night = min(args.topn_sample, len(model.data.user_ids)), category_codes(model), version.pk + 10**6
    started = time.perf_counter()
    tops = [(rows, top_block(model, rows, 20, codes=codes)) for rows in (np.arange(s, min(s + BLOCK, n)) for s in range(0, n, BLOCK))]
    out = {"customers": n, "score_seconds": round(time.perf_counter() - started, 2)}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_recommendation_slots")
        cursor.execute(OLD_SLOT_TABLE)
        cursor.execute(f"""INSERT INTO bench_recommendation_slots (model_version_id, customer_id, product_id, rank, score, reason)
            SELECT l.model_version_id, l.customer_id, (e.item->>0)::bigint, e.rank, (e.item->>1)::float8, e.item->>2
            FROM {RecommendationList._meta.db_table} l, jsonb_array_elements(l.items) WITH ORDINALITY AS e(item, rank)""")  # noqa: S608
        for ddl in OLD_SLOT_INDEXES:
            cursor.execute(ddl)
        cursor.execute("ANALYZE bench_recommendation_slots")
        cursor.execute("SELECT count(*) FROM bench_recommendation_slots")
        out["old_table_rows"] = cursor.fetchone()[0]
    out["old_table_fill_seconds"] = round(time.perf_counter() - started, 2)
    for name in ("before", "after"):
        started = time.perf_counter()
        with transaction.atomic():
            held = keys_hold(version_id=version.pk, model=model, rows=range(n))
            for rows, top in tops:
                if name == "before":
                    frame = slot_frame(night, model, rows, top, held=held)
                    copy_insert("bench_recommendation_slots", [f"{c}_id" if c in ("model_version", "customer", "product") else c for c in frame.columns], frame, binary=False)
                    out["rows_before"] = out.get("rows_before", 0) + len(frame)
                else:
                    frame, _ = list_frame(night, model, rows, top, held=held)
                    frame_insert(model=RecommendationList, frame=frame, binary=False)
                    out["rows_after"] = out.get("rows_after", 0) + len(frame)
            out[f"{name}_write_seconds"] = round(time.perf_counter() - started, 2)
            transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_recommendation_slots")
    out["write_speedup"] = round(out["before_write_seconds"] / out["after_write_seconds"], 2)
    return out


def orm_rows(frame, mv, versions, scored_at) -> list:
    """The score rows as ORM objects: the write path before frame_insert (the "before")."""
    import numpy as np

    from mlcore.models import CustomerScore

    values = frame.astype({"probability": "float64"}).replace({np.nan: None})
    return [CustomerScore(
        customer_id=int(i), model_version_id=mv.pk, churn_probability=float(r.probability), probability_active=r.probability_active,
        expected_purchases_30=r.expected_purchases_30, expected_purchases_90=r.expected_purchases_90, expected_purchases_365=r.expected_purchases_365,
        expected_value_12m=r.expected_value_12m, reason=str(r.reason)[:400], scored_at=scored_at,
        bgnbd_version_id=versions.get("bgnbd_version_id"), gamma_gamma_version_id=versions.get("gamma_gamma_version_id"),
    ) for i, r in zip(values.index, values.itertuples(index=False), strict=True)]


@contextlib.contextmanager
def ml_worker(concurrency: int, **env):
    """A Celery worker of `concurrency` prefork processes on the ml queue, answering pings when
    entered (so its start is not in the caller's clock), stopped on leaving."""
    from clmsite.celery import app

    name = f"scale{os.getpid()}@{platform.node()}"
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "clmsite", "worker", "-Q", "ml", "-c", str(concurrency),
                               "--pool", "prefork", "-l", "WARNING", "-n", name, "--without-gossip", "--without-mingle"],
                              cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1", **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        app.control.purge()
        for _ in range(120):
            if app.control.ping(destination=[name], timeout=1.0):
                break
            if worker.poll() is not None:
                raise RuntimeError(f"the ml worker exited with {worker.returncode} before answering a ping")
        else:
            raise RuntimeError("the ml worker did not answer a ping within 120 s")
        yield worker
    finally:
        worker.terminate()  # a warm shutdown: the shard it runs ends first
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def step_workers(args) -> dict:
    """The active version's top-N shards as the nightly chord through Redis, on a worker of --concurrency processes."""
    from celery import chord

    from infra import jobs
    from infra.models import Job
    from mlcore.recommendations.services import recommender_shards
    from mlcore.recommendations.tasks import recommend_finish, recommend_shard
    from mlcore.registry import services as registry

    version = registry.model_version_active(kind="recommender")
    shards = recommender_shards(version_id=version.pk, size=args.shard_size)
    job = jobs.job_create(kind="bench_shards")
    jobs.job_start(job_id=job.pk, total=version.metrics["customers"])
    with ml_worker(args.concurrency):
        started = time.perf_counter()
        parts = [recommend_shard.si(version_id=version.pk, first_id=a, end_id=b, job_id=job.pk) for a, b in shards]
        chord(parts, recommend_finish.si(version_id=version.pk, job_id=job.pk)).apply_async().get(timeout=max(5, args.time_left - 20))  # ends before the parent stops this process, so the worker is stopped too
        seconds = time.perf_counter() - started
    job = Job.objects.get(pk=job.pk)
    return {"workers": args.concurrency, "shard_size": args.shard_size, "shards": len(shards), "seconds": round(seconds, 2),
            "job": f"{job.status} {job.done}/{job.total}", "note": "the worker up before the clock; each process loads the artefact once"}


def step_feature_workers(args) -> dict:
    """Tonight's feature snapshot as beat builds it (mlcore.build_features: the plan, then a chord of
    --shard-size shards) through Redis on a worker of --concurrency processes; deleted after, as in step_features."""
    from customers.clock import shop_as_of
    from infra.models import Job
    from mlcore.features.tasks import build_features
    from mlcore.models import CustomerFeatures, FeatureSnapshot

    at = shop_as_of().moment
    doomed = FeatureSnapshot.objects.filter(snapshot_at=at)
    CustomerFeatures.objects.filter(snapshot__in=doomed).delete()
    doomed.delete()
    with ml_worker(args.concurrency, FEATURE_SHARD_CUSTOMERS=str(args.shard_size)):
        started = time.perf_counter()
        job_id = build_features.apply_async(kwargs={"snapshot_at": at.isoformat()}, queue="ml").get(timeout=max(5, args.time_left - 60))["job_id"]
        while (job := Job.objects.get(pk=job_id)).status not in ("succeeded", "failed") and time.perf_counter() - started < args.time_left - 40:
            time.sleep(0.5)
        seconds = time.perf_counter() - started
    snapshot = FeatureSnapshot.objects.get(pk=job.result["snapshot_id"]) if job.status == "succeeded" else None
    out = {"workers": args.concurrency, "shard_size": args.shard_size, "seconds": round(seconds, 2), "job": f"{job.status} {job.done}/{job.total}",
           "customers": snapshot.customer_count if snapshot else None, "shards": len(snapshot.params["shards"]) if snapshot else None,
           "plan_s": snapshot.params.get("plan_seconds") if snapshot else None, "note": "from enqueue to the job's end, the worker up before the clock"}
    if snapshot:
        CustomerFeatures.objects.filter(snapshot=snapshot).delete()
        snapshot.delete()
    return out


def step_night_workers(args) -> dict:
    """The night as beat starts it on real workers: each task sent to its queue (all on `ml`) for a
    worker of --concurrency prefork processes, the next sent when the previous one's Job has ended
    (its chord's callback included). Per task: wall from send to the Job's end, the worker processes'
    CPU seconds, and the largest process's RSS (sampled every 0.5 s while the task and then its chord
    run) and the peak of the RSS of all the worker's processes summed (an upper bound: shared pages
    count once per process)."""
    import importlib

    import psutil
    from django.apps import apps
    from django.core.cache import cache
    from django.db import connection

    from infra.models import Job

    # the first night again, as the in-process night met it: every table the night writes (all of
    # mlcore's: snapshots, segments, versions, scores, lists, review scores) emptied, with the
    # campaign tables that point at them (none yet in this bench); the shop's data and the job rows kept
    doomed = {m for m in apps.get_app_config("mlcore").get_models() if not m._meta.proxy and m._meta.managed}  # not the admin's proxies of shop tables
    while True:
        pointing = {m for m in apps.get_models(include_auto_created=True) if not m._meta.proxy for f in m._meta.get_fields() if f.concrete and f.is_relation and f.related_model in doomed} - doomed
        if not pointing:
            break
        if stray := sorted(m._meta.label for m in pointing if m._meta.app_label != "campaigns"):
            raise RuntimeError(f"emptying the night's tables would empty {stray} too")
        doomed |= pointing
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(m._meta.db_table) for m in doomed)}")
    cache.clear()
    out, counted, night_started = {}, {}, time.perf_counter()
    with ml_worker(args.concurrency) as worker:
        tree = psutil.Process(worker.pid)
        for proc in [tree, *tree.children(recursive=True)]:  # the processes' start-up is not the first task's
            with contextlib.suppress(psutil.Error):
                counted[proc.pid] = sum(proc.cpu_times()[:2])
        for name, module in NIGHT:
            if args.night_tasks and name not in args.night_tasks:
                continue
            task = getattr(importlib.import_module(module), name)
            kwargs = {"fast": True} if name == "train_recommender" and args.fast else {}
            left = args.time_left - (time.perf_counter() - night_started) - 30
            if left < 10:
                out[name] = {"status": "not run (time bound)"}
                continue
            cpu, memory, started = {}, {"peak": 0.0, "pool": 0.0}, time.perf_counter()

            def sample(cpu=cpu, memory=memory) -> None:  # the tree's CPU so far and its memory now
                rss = 0.0
                for proc in [tree, *tree.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        times, mb = proc.cpu_times(), proc.memory_info().rss / 2**20
                        cpu[proc.pid] = times.user + times.system
                        memory["peak"], rss = max(memory["peak"], mb), rss + mb
                memory["pool"] = max(memory["pool"], rss)

            sending = task.apply_async(kwargs=kwargs)
            while not sending.ready() and time.perf_counter() - started < left:  # the task's own body, sampled as it runs
                sample()
                time.sleep(0.5)
            sent = sending.get(timeout=1, propagate=False) if sending.ready() else "not finished within the time bound"
            job = Job.objects.filter(pk=sent.get("job_id")).first() if isinstance(sent, dict) else None
            while job is not None:  # then its chord, until the Job ends
                sample()
                job.refresh_from_db()
                if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED) or time.perf_counter() - night_started > args.time_left - 30:
                    break
                time.sleep(0.5)
            sample()
            out[name] = {"status": job.status if job else f"failed: {str(sent)[:200]}", "wall_s": round(time.perf_counter() - started, 1),
                         "cpu_s": round(sum(cpu[p] - counted.get(p, 0.0) for p in cpu), 1), "max_process_mb": round(memory["peak"]),
                         "pool_peak_mb": round(memory["pool"]), "job": f"{job.done}/{job.total}" if job else "", "message": job.message[:120] if job else ""}
            counted.update(cpu)
    return {"workers": args.concurrency, "night_s": round(time.perf_counter() - night_started, 1), "tasks": out,
            "note": "each task from send to its Job's end; CPU and RSS of the worker's processes (the PostgreSQL server's work is not in them)"}


def step_campaign(args) -> dict:
    """A campaign to --recipients consenting customers (emails given to the first ones), with their stored
    recommendations, sent by --campaign-workers real worker processes through SMTP to a counting server."""
    sys.path.insert(0, str(ROOT / "bench"))
    from campaign import HTML, TEXT, campaign_send
    from django.db import connection

    from campaigns.services import lifecycle
    from customers.models import Customer

    last = Customer.objects.order_by("pk").values_list("pk", flat=True)[args.recipients - 1:args.recipients].first() or 2**62
    started = time.perf_counter()
    with connection.cursor() as cursor:  # one statement: the bench's addresses and consent, not 100k ORM saves
        cursor.execute(f"UPDATE {Customer._meta.db_table} SET email = 'c' || id || '@example.com', email_consent = true, "
                       "email_consent_source = 'import' WHERE id <= %s", [last])
        consenting = cursor.rowcount
    prepared = time.perf_counter() - started
    campaign = lifecycle.campaign_create(
        name="Scale", slug=f"scale-{os.getpid()}", holdout_share="0.1", recommendations_count=4, discount_prefix="SCALE", offer_text="15% off",
        variants=[{"name": "A", "share": 50, "subject": "{{ customer.first_name }}, picked for you", "html_body": HTML, "text_body": TEXT},
                  {"name": "B", "share": 50, "subject": "New in for {{ customer.first_name }}", "html_body": HTML, "text_body": TEXT}],
    )
    sent = campaign_send(campaign, workers=args.campaign_workers)
    return {"consenting": consenting, "prepare_seconds": round(prepared, 1), "recipients": sent["recipients"], "received": sent["received"],
            "one_each": sent["received"] == sent["recipients"], "send_seconds": round(sent["seconds"], 1), "ledger_seconds": round(sent["ledger_seconds"], 1),
            "messages_per_s": round(sent["received"] / sent["seconds"], 1), "workers": args.campaign_workers,
            "worker_peak_mb": [round(m) for m in sent["worker_mb"]]}


STEPS = {"generate": step_generate, "import": step_import, "features": step_features, "topn": step_topn, "topn-writes": step_topn_writes, "writes": step_writes, "workers": step_workers, "feature-workers": step_feature_workers, "night-workers": step_night_workers,
         "campaign": step_campaign,
         **{name: step_task for name, _ in NIGHT}}


def child_main(args) -> None:
    if args.step != "generate":
        django_setup(broker=args.step in ("workers", "feature-workers", "night-workers", "campaign"))
    started, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    out = STEPS[args.step](args)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    out.update(wall_s=round(time.perf_counter() - started, 2), cpu_s=round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 2),
               peak_rss_mb=round(cpu1.ru_maxrss / 1024, 1), major_faults=cpu1.ru_majflt - cpu0.ru_majflt)  # pages read back from disk: memory pressure
    print("RESULT " + json.dumps(out, default=str))


# --- the parent: runs the steps in children, bounded -------------------------------------------
def run_child(argv: list[str], time_left: float) -> dict:
    try:
        done = subprocess.run([sys.executable, __file__, *argv, "--time-left", str(int(time_left))], cwd=ROOT, capture_output=True, text=True,
                              timeout=max(1, time_left), check=False)
    except subprocess.TimeoutExpired:
        return {"status": "stopped at the time bound"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        return {"status": f"failed (rc {done.returncode})", "error": done.stderr[-1500:]}
    return {"status": "ok", **json.loads(lines[-1][7:])}


def reset_database() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import psycopg
    from _pg import database_ensure

    database_ensure(DB_URL)
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env={**os.environ, "DATABASE_URL": DB_URL, "CLM_VAR_DIR": str(CACHE / "var")}, check=True)


def machine() -> dict:
    load = os.getloadavg()
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "python": platform.python_version(),
            "load_at_start": [round(x, 1) for x in load], "threads": os.environ.get("OMP_NUM_THREADS", "unset")}


def plan(args) -> list[tuple[str, list[str]]]:
    base = ["--customers", str(args.customers), "--products", str(args.products)] + (["--fast"] if args.fast else [])
    steps = [("generate", ["generate"]), ("import", ["import"])]
    steps += [(f"features: {size:,}/shard", ["features", "--shard-size", str(size)]) for size in args.feature_shard_sizes]
    steps += [(f"features on {workers} worker(s), {size:,}/shard", ["feature-workers", "--concurrency", str(workers), "--shard-size", str(size)])
              for size in args.feature_shard_sizes if size for workers in args.workers]
    steps += [(name, [name]) for name, _ in NIGHT]
    only = ["--night-tasks", *args.night_tasks] if args.night_tasks else []
    steps += [(f"the night on {workers} worker process(es)", ["night-workers", "--concurrency", str(workers), *only]) for workers in args.night_workers]
    steps.append((f"campaign to {min(args.recipients, args.customers):,} customers", ["campaign", "--recipients", str(args.recipients), "--campaign-workers", str(args.campaign_workers)]))
    steps += [("before/after top-N", ["topn", "--topn-sample", str(args.topn_sample)]), ("before/after score writes", ["writes"]),
              ("before/after top-N writes", ["topn-writes", "--topn-sample", str(args.topn_sample)])]
    for size in args.shard_sizes:
        for workers in args.workers:
            steps.append((f"shards: {workers} worker(s), {size:,}/shard", ["workers", "--concurrency", str(workers), "--shard-size", str(size)]))
    return [(label, ["--step", *argv[:1], *base, *argv[1:]]) for label, argv in steps]


def parent_main(args) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + args.max_minutes * 60
    if not args.keep:
        reset_database()
    results = {"customers": args.customers, "products": args.products, "fast": args.fast, "machine": machine(), "steps": {}}
    night_started = None
    for label, argv in plan(args):
        if (args.keep and label in ("generate", "import")) or (args.only and not label.startswith(tuple(args.only))):
            continue
        left = deadline - time.monotonic()
        if left < 5:
            results["steps"][label] = {"status": "not run (time bound)"}
            continue
        if label == "segment_customers":
            night_started = time.monotonic()
        results["steps"][label] = run_child(argv, left)
        results["steps"][label]["load_after"] = round(os.getloadavg()[0], 1)
        if label == "score_reviews" and night_started:
            results["night_wall_s"] = round(time.monotonic() - night_started, 1)
        print(f"{label:32} {json.dumps(results['steps'][label])[:300]}", flush=True)
    name = f"{args.customers}" + ("-" + "-".join(args.only) if args.only else "")
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)  # a label such as "before/after ..." names no folder
    (CACHE / f"{name}.json").write_text(json.dumps(results, indent=1, default=str))
    table = markdown(results)
    print(table)
    docs_write(table, marker=("scale-features" if set(args.only) == {"features"} else "scale-rest") if args.only else "scale")


def markdown(results: dict) -> str:
    m = results["machine"]
    rows = [f"Generated shop: {results['customers']:,} customers, {results['products']:,} products; machine: {m['cores']} cores ({m['cpu']}), "
            f"Python {m['python']}, OMP_NUM_THREADS={m['threads']}, load average at start {m['load_at_start']}; "
            f"recommender {'--fast' if results['fast'] else 'as beat runs it'}; the night (segment_customers .. score_reviews): "
            f"{results.get('night_wall_s', 'not completed')} s wall.", "",
            "| step | status | wall s | CPU s | peak RSS MB | load after | figures |", "|---|---|---|---|---|---|---|"]
    for label, step in results["steps"].items():
        for task, run in step.get("tasks", {}).items():  # the night on workers: a row a task
            rows.append(f"| {label}: {task} | {run['status']} | {run.get('wall_s', '')} | {run.get('cpu_s', '')} | {run.get('max_process_mb', '')} "
                        f"(pool {run.get('pool_peak_mb', '')}) | | {run.get('job', '')} {run.get('message', '')} |".replace("|  |", "| |"))
        figures = {k: v for k, v in step.items() if k not in ("status", "wall_s", "cpu_s", "peak_rss_mb", "load_after", "error", "tasks") and (k != "major_faults" or v)}
        rows.append(f"| {label} | {step['status']} | {step.get('wall_s', '')} | {step.get('cpu_s', '')} | {step.get('peak_rss_mb', '')} | "
                    f"{step.get('load_after', '')} | {json.dumps(figures)[1:-1].replace('|', '/')} |")
    return "\n".join(rows)


def docs_write(table: str, marker: str) -> None:
    """The table into docs/scale.md between `<!-- marker:begin -->` and `<!-- marker:end -->` (appended if absent)."""
    path = ROOT / "docs" / "scale.md"
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    text = path.read_text() if path.exists() else "# Scale\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    path.write_text(f"{head}{begin}\n{table}\n{end}{rest.split(end, 1)[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=4_000)
    parser.add_argument("--max-minutes", type=float, default=90.0)
    parser.add_argument("--fast", action="store_true", help="the recommender's small ALS and weight grid (the demo's setting)")
    parser.add_argument("--topn-sample", type=int, default=20_480, help="customers of the top-N before/after")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--shard-sizes", type=int, nargs="*", default=[5_000, 50_000])
    parser.add_argument("--recipients", type=int, default=100_000, help="consenting customers the campaign step sends to")
    parser.add_argument("--campaign-workers", type=int, default=2)
    parser.add_argument("--feature-shard-sizes", type=int, nargs="*", default=[50_000],
                        help="the feature snapshot built from the database in shards of these many customers (0: the one-read build of before)")
    parser.add_argument("--night-workers", type=int, nargs="*", default=[],
                        help="the whole night again, each task sent to a real ml worker of these many processes (after the in-process night)")
    parser.add_argument("--night-tasks", nargs="*", default=[],
                        help="with --night-workers: send only these of the night's tasks (e.g. train_recommender, which reads only the shop's data)")
    parser.add_argument("--keep", action="store_true", help="reuse the imported shop (skip generate and import)")
    parser.add_argument("--only", nargs="*", help="run only the steps whose label starts with one of these (with --keep: 'before' 'shards')")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--shard-size", type=int, default=50_000, help=argparse.SUPPRESS)
    parser.add_argument("--time-left", type=int, default=600, help=argparse.SUPPRESS)
    args = parser.parse_args()
    child_main(args) if args.step else parent_main(args)


if __name__ == "__main__":
    main()
