"""The second real shop (Olist, ../shared/data/olist): import it and run every pipeline on it.

Prints the figures of docs/second-shop.md: the import reports, the shop's horizons, segments, what
churn and lifetime value say (too little repeat behaviour), the recommender's version note, an
offline comparison of popularity, ALS, content and the hybrid on a time split, the share of
stored top-10 slots that are products the customer already bought (before / after the learned
re-buy rule), and the sentiment of the Portuguese reviews against their stars (zero-shot
multilingual E5 and a TF-IDF model trained on the stars of older reviews).

Runs on a fresh SQLite database of its own under bench/.cache/olist/ (migrated first; DATABASE_URL
is ignored so a real database is never filled with another shop):
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/second_shop.py
The data is CC BY-NC-SA 4.0: it is read from ../shared and never copied into the project.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clmsite.settings")
VAR = ROOT / "bench" / ".cache" / "olist"
FOLDER = Path(os.environ.get("CLM_SHARED_DATA", ROOT.parent / "shared" / "data")) / "olist"
MAPPINGS = ROOT / "docs" / "mappings"
SPLIT_AT = pd.Timestamp("2018-05-01", tz="UTC")


def main() -> None:
    import django
    from django.core.management import call_command

    if not FOLDER.exists():
        print(f"second shop: {FOLDER} is absent; nothing to measure")
        return
    VAR.mkdir(parents=True, exist_ok=True)
    for old in VAR.glob("*.sqlite3*"):
        old.unlink()
    os.environ["CLM_VAR_DIR"] = str(VAR)
    os.environ.pop("DATABASE_URL", None)
    django.setup()
    call_command("migrate", verbosity=0)
    print(f"load {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    imports()
    pipelines()
    recommender_offline()
    sentiment()
    print(f"load {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)


def imports() -> None:
    from customers.imports.joined import import_joined
    from customers.models import ImportBatch

    for name in ("orders", "reviews", "products"):  # products last: the other two reset titles to SKUs (docs/second-shop.md)
        started = time.perf_counter()
        batch = ImportBatch.objects.get(pk=import_joined(mapping_path=MAPPINGS / f"olist_{name}.yaml", folder=FOLDER))
        print(f"import {name} ({time.perf_counter() - started:.1f} s): {batch.message}", flush=True)
        print("  rules: " + json.dumps({k: v for k, v in batch.rule_counts.items() if v}), flush=True)


def pipelines() -> None:
    from customers.selectors import order_lines_frame
    from mlcore.models import Segment
    from mlcore.predictions import services as predictions
    from mlcore.predictions.horizons import horizons_of
    from mlcore.recommendations import services as recommendations
    from mlcore.segments import services as segments

    lines = order_lines_frame()
    print("horizons: " + json.dumps(horizons_of(lines).as_dict()), flush=True)
    snapshot = (lines["placed_at"].max().floor("D") + pd.Timedelta(days=1)).to_pydatetime()
    run_id = segments.segmentation_run_build(snapshot_at=snapshot)
    print("segments:", flush=True)
    for s in Segment.objects.filter(run_id=run_id):
        print(f"  {s.name}: {s.size} customers, revenue share {s.revenue_share:.3f}, profile {json.dumps(s.profile)}", flush=True)
    bg, gg = predictions.lifetime_models_train()
    print(f"bgnbd v{bg.version} active={bg.is_active}: {bg.notes}", flush=True)
    print(f"gamma_gamma v{gg.version} active={gg.is_active}: {gg.notes}", flush=True)
    churn = predictions.churn_train()
    print(f"churn v{churn.version} status={churn.status} active={churn.is_active}: {churn.notes}", flush=True)
    started = time.perf_counter()
    rec = recommendations.recommender_train()
    print(f"recommender v{rec.version} ({time.perf_counter() - started:.0f} s) active={rec.is_active}: {rec.notes}", flush=True)
    print("  metrics: " + json.dumps({k: v for k, v in rec.metrics.items() if k != "train_seconds"}), flush=True)
    own_share_of_lists(rec.pk)


def own_share_of_lists(version_id: int) -> None:
    """Share of stored top-10 slots holding a product the customer bought, with and without the rule."""
    from dataclasses import replace

    from mlcore.ml.recommendations.model import recommend_block
    from mlcore.recommendations.services import recommender_model

    model = recommender_model(version_id=version_id)
    rows = np.arange(len(model.data.user_ids))
    for label, config in (("before (14 days masked only)", replace(model.config, exclude_recent_days=14, rebuy_min_share=0.0)),
                          ("after (learned re-buy rule)", model.config)):
        model.config = config
        owned = total = 0
        for start in range(0, len(rows), 2048):
            block = rows[start:start + 2048]
            for row, listed in zip(block, recommend_block(model, block, 10), strict=True):
                bought = set(model.data.counts[row].indices.tolist())
                owned += sum(item.column in bought for item in listed)
                total += len(listed)
        print(f"  own products in the top-10 slots, {label}: {owned:,} of {total:,} ({owned / max(total, 1):.1%})", flush=True)


def recommender_offline() -> None:
    """Time split at SPLIT_AT on the imported lines: popularity, ALS, content, buy-again, hybrid."""
    from mlcore.ml.recommendations.evaluation import evaluate
    from mlcore.recommendations.services import product_embeddings, recommender_inputs

    lines, products = recommender_inputs()
    _, embeddings = product_embeddings(products)
    both = lines.groupby("customer_id")["placed_at"].agg(lambda s: (s.min() < SPLIT_AT) and (s.max() >= SPLIT_AT)).sum()
    print(f"offline split {SPLIT_AT:%Y-%m-%d}: {len(products):,} columns; customers with purchases on both sides: {int(both)}", flush=True)
    report = evaluate(lines, products, embeddings, split_at=SPLIT_AT, validation_days=60)
    for protocol, rows in report["protocols"].items():
        print(f"  protocol {protocol} ({report['customers'][protocol]} customers):", flush=True)
        for name, m in rows.items():
            print(f"    {name}: NDCG@10 {m['ndcg@10']:.4f} recall@10 {m['recall@10']:.4f} coverage@10 {m['coverage@10']:.4f}", flush=True)
    print(f"  own share@10 (all items): {json.dumps(report.get('own_share@10'))}", flush=True)
    cold_start(lines, products)


def cold_start(lines: pd.DataFrame, products: pd.DataFrame) -> None:
    """Customers first seen after the split: what the shop-wide popular list (their fallback) catches."""
    from mlcore.ml.recommendations import metrics

    train, test = lines[lines["placed_at"] < SPLIT_AT], lines[lines["placed_at"] >= SPLIT_AT]
    new = test[~test["customer_id"].isin(train["customer_id"])]
    index = pd.Index(products["product_id"])
    truth = {int(c): set(index.get_indexer(g["product_id"]).tolist()) for c, g in new.groupby("customer_id")}
    recent = train[train["placed_at"] >= SPLIT_AT - pd.Timedelta(days=90)]
    popular = index.get_indexer(recent["product_id"].value_counts().index[:20]).tolist()
    rng = np.random.default_rng(0)
    for label, lists in (("popular (last 90 days)", {c: popular for c in truth}),
                         ("random", {c: rng.choice(len(products), 20, replace=False).tolist() for c in truth})):
        m = metrics.summarise(lists, truth, len(products))
        print(f"  cold start ({len(truth):,} new customers after the split), {label}: NDCG@10 {m['ndcg@10']:.4f} recall@10 {m['recall@10']:.4f}", flush=True)


def sentiment() -> None:
    """Portuguese reviews with text: P(positive) against the stars (4-5 positive, 1-2 negative)."""
    from sklearn.metrics import roc_auc_score

    from customers.selectors import reviews_frame
    from mlcore.ml.feedback.baselines import LinearSentiment, sentiment_metrics
    from mlcore.ml.feedback.fallback import ZeroShotSentiment, e5_encoder

    reviews = reviews_frame()
    text = (reviews["title"].fillna("") + ". " + reviews["text"].fillna("")).str.strip(". ")
    labelled = reviews.assign(text_all=text)[(text != "") & reviews["rating"].isin([1, 2, 4, 5])].sort_values("created_at")
    y = labelled["rating"].ge(4).astype(int).to_numpy()
    texts = labelled["text_all"].tolist()
    cut = int(len(texts) * 0.7)
    print(f"sentiment: {len(texts):,} reviews with text and 1-2 or 4-5 stars ({y.mean():.1%} positive); test = the newest {len(texts) - cut:,}", flush=True)
    started = time.perf_counter()
    zero = ZeroShotSentiment(e5_encoder(os.environ.get("MULTILINGUAL_MODEL_PATH") or None), "pt")
    p_zero = zero.predict_proba(texts[cut:])
    print(f"  zero-shot multilingual E5: ROC AUC {roc_auc_score(y[cut:], p_zero):.4f} {sentiment_metrics(y[cut:], p_zero)} ({time.perf_counter() - started:.0f} s)", flush=True)
    linear = LinearSentiment().fit(texts[:cut], y[:cut])
    p_lin = linear.predict_proba(texts[cut:])
    print(f"  TF-IDF + logistic on older stars: ROC AUC {roc_auc_score(y[cut:], p_lin):.4f} {sentiment_metrics(y[cut:], p_lin)}", flush=True)
    majority = np.full(len(texts) - cut, float(y[:cut].mean() >= 0.5))
    print(f"  majority class: {sentiment_metrics(y[cut:], majority)}", flush=True)


if __name__ == "__main__":
    main()
