"""The fine-tuned transformer sentiment classifier: a pretrained encoder (the packaged MiniLM,
or any local transformers folder) with a fresh classification head, fine-tuned on labelled
reviews. Texts are tokenised once; batches are padded to their own longest text. On a GPU it
trains in bfloat16 mixed precision; on a CPU the caller picks small settings.

Run from an exported file, without Django:
    python -m mlcore.ml.feedback.transformer --data reviews.csv --model PATH --out DIR
(the CSV has columns text and label = positive/negative).
"""
from __future__ import annotations

import argparse
import io
import json
import math
import tempfile
import time
import zipfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mlcore.ml.model_folders import unpack_once

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TransformerConfig:
    max_length: int = 128
    epochs: float = 1.0
    batch_size: int = 32
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_steps: int | None = None
    eval_batch_size: int = 128
    threads: int = 2
    device: str = "auto"  # "auto": cuda where present, else cpu
    freeze_embeddings: bool = False  # a 250k-piece vocabulary makes every optimizer step slow on a CPU
    seed: int = 42


def resolve_device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def tokenise_once(tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    """Token ids of every text, truncated, unpadded (padding happens per batch)."""
    return tokenizer(list(texts), truncation=True, max_length=max_length, padding=False)["input_ids"]


def pad_batch(ids: list[list[int]], pad_id: int):
    import torch

    width = max(len(row) for row in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, row in enumerate(ids):
        input_ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return input_ids, mask


def _autocast(device: str):
    import torch

    return torch.autocast(device_type="cuda", dtype=torch.bfloat16) if device == "cuda" else nullcontext()


class TransformerSentiment:
    """A sequence classifier and its tokenizer; predict_proba gives P(positive)."""

    method = "transformer"

    def __init__(self, model, tokenizer, config: TransformerConfig, base_model: str = ""):
        self.model, self.tokenizer, self.config, self.base_model = model, tokenizer, config, base_model
        self.train_seconds: float | None = None
        self.train_examples = 0

    def predict_proba(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        import torch

        if len(texts) == 0:
            return np.zeros(0)
        device = next(self.model.parameters()).device.type
        ids = tokenise_once(self.tokenizer, texts, self.config.max_length)
        order = np.argsort([len(row) for row in ids])  # similar lengths together: less padding
        out = np.empty(len(ids), dtype=np.float64)
        self.model.eval()
        size = self.config.eval_batch_size
        with torch.inference_mode():
            for start in range(0, len(order), size):
                chunk = order[start : start + size]
                input_ids, mask = pad_batch([ids[i] for i in chunk], self.tokenizer.pad_token_id or 0)
                with _autocast(device):
                    logits = self.model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
                out[chunk] = torch.softmax(logits.float(), dim=-1)[:, 1].cpu().numpy()
                if progress:
                    progress(min(start + size, len(order)), len(order))
        return out

    def to_bytes(self) -> bytes:
        """One zip holding the model folder, the tokenizer and the training settings."""
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "model"
            self.model.save_pretrained(folder)
            self.tokenizer.save_pretrained(folder)
            meta = {"config": asdict(self.config), "base_model": self.base_model}
            (folder / "clm_sentiment.json").write_text(json.dumps(meta))
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(folder.rglob("*")):
                    archive.write(path, path.relative_to(folder).as_posix())
            return buffer.getvalue()

    @classmethod
    def from_bytes(cls, content: bytes, *, folder: Path, device: str = "auto") -> TransformerSentiment:
        """Unpack into `folder` (a cache keyed by the artefact hash) and load it there."""
        unpack_once(content, folder, marker="clm_sentiment.json")
        return cls.from_folder(folder, device=device)

    @classmethod
    def from_folder(cls, folder: Path, *, device: str = "auto") -> TransformerSentiment:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        meta = json.loads((folder / "clm_sentiment.json").read_text())
        model = AutoModelForSequenceClassification.from_pretrained(folder).to(resolve_device(device))
        tokenizer = AutoTokenizer.from_pretrained(folder)
        return cls(model, tokenizer, TransformerConfig(**meta["config"]), meta.get("base_model", ""))


def _schedule(optimizer, warmup: int, total: int):
    import torch

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_transformer(
    model_path: Path | str, texts: list[str], targets: np.ndarray, config: TransformerConfig = TransformerConfig(),
    progress: Progress | None = None,
) -> TransformerSentiment:
    """Fine-tune encoder + new 2-class head on (texts, 0/1 targets); returns the fitted classifier."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if len(texts) != len(targets) or len(texts) < 2:
        raise ValueError(f"need at least 2 texts with one target each, got {len(texts)} texts and {len(targets)} targets")
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    if device == "cpu":
        torch.set_num_threads(config.threads)
    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_path), num_labels=2).to(device)
    if config.freeze_embeddings:
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    ids = tokenise_once(tokenizer, texts, config.max_length)
    y = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    steps_per_epoch = math.ceil(len(ids) / config.batch_size)
    total = config.max_steps or max(1, int(math.ceil(steps_per_epoch * config.epochs)))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = _schedule(optimizer, int(total * config.warmup_ratio), total)
    rng = np.random.default_rng(config.seed)
    started, step = time.perf_counter(), 0
    model.train()
    while step < total:
        order = rng.permutation(len(ids))
        for start in range(0, len(order), config.batch_size):
            if step >= total:
                break
            chunk = order[start : start + config.batch_size]
            input_ids, mask = pad_batch([ids[i] for i in chunk], tokenizer.pad_token_id or 0)
            with _autocast(device):
                out = model(input_ids=input_ids.to(device), attention_mask=mask.to(device), labels=y[chunk].to(device))
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if progress:
                progress(step, total)
    if device == "cuda":
        torch.cuda.synchronize()
    result = TransformerSentiment(model, tokenizer, config, base_model=str(model_path))
    result.train_seconds = time.perf_counter() - started
    result.train_examples = min(len(ids), total * config.batch_size) if config.max_steps else int(len(ids) * config.epochs)
    return result


def _main(argv: list[str] | None = None) -> None:
    import pandas as pd

    from mlcore.ml.feedback.labels import binary_targets

    parser = argparse.ArgumentParser(description="Fine-tune a sentiment classifier from an exported CSV (text,label).")
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--model", required=True, help="local transformers folder of the base encoder")
    parser.add_argument("--out", required=True, type=Path, help="where to write the zipped model")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    frame = pd.read_csv(args.data)
    config = TransformerConfig(max_length=args.max_length, epochs=args.epochs, batch_size=args.batch_size, device=args.device)
    model = train_transformer(args.model, frame["text"].astype(str).tolist(), binary_targets(frame["label"]), config)
    args.out.write_bytes(model.to_bytes())
    print(json.dumps({"train_seconds": round(model.train_seconds or 0, 1), "examples": model.train_examples, "out": str(args.out)}))


if __name__ == "__main__":
    _main()
