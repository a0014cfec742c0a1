"""GPU throughput of the ranker's training loop against the raw model on synthetic batches (H200).

    .venv/bin/python bench/ranker_gpu.py [--batch-size 1024] [--max-len 128] [--steps 60]

1. raw: the same MiniLM cross-encoder (packaged all-MiniLM-L6-v2 + one-logit head), bf16 autocast,
   forward + backward + AdamW on random token batches already on the GPU, full length.
2. platform: mlcore.ml.recommendations.ranker.train on an exported pair file of synthetic history and
   candidate texts long enough to fill every sequence (so both measure length 128), tokenised once
   by ranker_data.tokenise_pairs, exactly as `python -m mlcore.ml.recommendations.ranker_train` runs.
Prints pairs per second of each and the platform's share of the raw figure (aim: >= 75%).
Not run in this session (no GPU was lent to it); run it on the GPU host and paste the output
into docs/recommender.md.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlcore.ml.recommendations import ranker  # noqa: E402
from mlcore.ml.recommendations.ranker_data import PairSet, tokenise_pairs  # noqa: E402
from mlcore.ml.recommendations.ranker_train import default_model_path  # noqa: E402

WORDS = "red blue white heart lantern candle holder mug bag vintage retro set of jumbo paper cake case".split()


def synthetic_pairs(n_pairs: int, seed: int = 0) -> PairSet:
    rng = np.random.default_rng(seed)
    histories = ["; ".join(" ".join(rng.choice(WORDS, 5)) for _ in range(20)) for _ in range(2000)]
    products = [" ".join(rng.choice(WORDS, 60)) for _ in range(5000)]
    texts = np.array(histories + products)
    return PairSet(
        texts=texts, first=rng.integers(0, len(histories), n_pairs), second=len(histories) + rng.integers(0, len(products), n_pairs),
        labels=(rng.random(n_pairs) < 0.25).astype(np.float32), groups=np.arange(n_pairs) // 20,
        base=rng.standard_normal(n_pairs).astype(np.float32),
    )


def raw_throughput(model, batch_size: int, max_len: int, steps: int, vocab: int) -> float:
    import torch

    model.to("cuda").train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=5e-5)
    ids = torch.randint(1000, vocab, (batch_size, max_len), device="cuda")
    mask = torch.ones_like(ids)
    labels = torch.rand(batch_size, device="cuda")
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for warm in range(steps + 5):
        if warm == 5:
            torch.cuda.synchronize()
            started = time.perf_counter()
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            logits = model(input_ids=ids, attention_mask=mask).logits.squeeze(-1)
        loss = loss_fn(logits.float(), labels)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - started)


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--max-len", type=int, default=128)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--pairs", type=int, default=200_000)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("bench/ranker_gpu.py needs CUDA: run it on the GPU host")
    print(f"device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}; batch {args.batch_size}, length {args.max_len}, bf16")
    path = default_model_path()
    tokenizer = ranker.load_tokenizer(path)
    raw = raw_throughput(ranker.load_model(path), args.batch_size, args.max_len, args.steps, tokenizer.vocab_size)
    print(f"raw model, synthetic batches:  {raw:10,.0f} pairs/s")
    pairs = synthetic_pairs(args.pairs)
    started = time.perf_counter()
    ids, mask = tokenise_pairs(tokenizer, pairs.texts, pairs.first, pairs.second, args.max_len)
    print(f"tokenise {len(ids):,} pairs once: {time.perf_counter() - started:.1f} s (mean length {mask.sum(1).mean():.0f})")
    config = ranker.RankerConfig(max_len=args.max_len, batch_size=args.batch_size, steps=5, device="cuda")
    ranker.train(ranker.load_model(path), ids, mask, pairs.labels, config)  # warm-up (CUDA context, kernels)
    config = ranker.RankerConfig(max_len=args.max_len, batch_size=args.batch_size, steps=args.steps, device="cuda")
    result = ranker.train(ranker.load_model(path), ids, mask, pairs.labels, config)
    print(f"platform training loop:        {result['pairs_per_second']:10,.0f} pairs/s  ({100 * result['pairs_per_second'] / raw:.0f}% of raw)")


if __name__ == "__main__":
    main()
