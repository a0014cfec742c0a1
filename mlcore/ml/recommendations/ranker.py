"""The cross-encoder ranker: MiniLM with a one-logit head, fine-tuned on (history, candidate) pairs.

The encoder is initialised from a local sentence-transformers / BERT folder (the packaged
all-MiniLM-L6-v2 by default) through AutoModelForSequenceClassification(num_labels=1); tests use
a tiny random config of the same architecture. Training takes the pre-tokenised pair tensor,
shuffles it with a seeded generator, and runs AdamW on binary cross-entropy, in bf16 autocast on
a GPU and in fp32 with small settings on the CPU. It reports the pairs per second it reached.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class RankerConfig:
    max_len: int = 128
    batch_size: int = 32
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    steps: int = 200
    warmup_fraction: float = 0.1
    seed: int = 13
    device: str = "auto"  # auto: cuda when available
    threads: int = 2  # CPU intra-op threads
    freeze_layers: int = 0  # > 0: the embeddings and the lowest N encoder layers stay fixed (a shorter CPU backward pass)
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def resolve_device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def load_tokenizer(model_path: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_path))


def load_model(model_path: str):
    """The encoder with a fresh one-logit head (the classifier is new; the encoder is pretrained)."""
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(str(model_path), num_labels=1)


def tiny_model(vocab_size: int, seed: int = 0):
    """A small random BERT with MiniLM's shape of head, for tests and dry runs."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, num_labels=1)
    return BertForSequenceClassification(config)


def freeze(model, layers: int) -> int:
    """Fix the embeddings and the lowest `layers` encoder layers (0: nothing); returns the parameters left to train."""
    if layers > 0:
        base = model.base_model
        for module in (base.embeddings, *base.encoder.layer[:layers]):
            for parameter in module.parameters():
                parameter.requires_grad_(False)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def train(model, input_ids: np.ndarray, attention_mask: np.ndarray, labels: np.ndarray, config: RankerConfig, on_step=None) -> dict:
    """Fine-tune in place; returns per-step losses, pairs seen and pairs per second."""
    import torch

    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    if device == "cpu":
        torch.set_num_threads(config.threads)
    model.to(device).train()
    trainable = freeze(model, config.freeze_layers)
    ids = torch.from_numpy(input_ids).to(device)
    mask = torch.from_numpy(attention_mask).to(device)
    target = torch.from_numpy(labels.astype(np.float32)).to(device)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate, weight_decay=config.weight_decay)
    warmup = max(1, int(config.steps * config.warmup_fraction))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1 - s / max(config.steps, 1)) + 1e-3)
    positive_weight = torch.tensor(max(1.0, float((labels == 0).sum()) / max(float(labels.sum()), 1.0)), device=device)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=positive_weight)
    # Batch order and lengths live on the CPU, losses stay on the device until the end: no
    # per-step host/device synchronisation stalls the GPU.
    rng = np.random.default_rng(config.seed)
    lengths = attention_mask.sum(axis=1)
    order, cursor, losses = rng.permutation(len(labels)), 0, []
    started = _sync(device)
    for step in range(config.steps):
        if cursor + config.batch_size > len(order):
            order, cursor = rng.permutation(len(labels)), 0
        picked = order[cursor:cursor + config.batch_size]
        cursor += config.batch_size
        length = int(lengths[picked].max())  # trim padding shared by the whole batch
        batch = torch.from_numpy(picked).to(device, non_blocking=True)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            logits = model(input_ids=ids[batch, :length], attention_mask=mask[batch, :length]).logits.squeeze(-1)
        loss = loss_fn(logits.float(), target[batch])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        optimiser.step()
        schedule.step()
        losses.append(loss.detach())
        if on_step:
            on_step(step)
    seconds = _sync(device) - started
    pairs = config.steps * config.batch_size
    losses = torch.stack(losses).float().cpu().tolist() if losses else []
    return {"losses": losses, "pairs": pairs, "seconds": seconds, "pairs_per_second": pairs / max(seconds, 1e-9), "device": device,
            "trainable_parameters": int(trainable)}


def _sync(device: str) -> float:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


def score(model, input_ids: np.ndarray, attention_mask: np.ndarray, *, batch_size: int = 256, device: str = "auto") -> np.ndarray:
    """Logits of every pair (higher: more likely bought)."""
    import torch

    device = resolve_device(device)
    model.to(device).eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(input_ids), batch_size):
            ids = torch.from_numpy(input_ids[start:start + batch_size]).to(device)
            mask = torch.from_numpy(attention_mask[start:start + batch_size]).to(device)
            length = int(mask.sum(dim=1).max())
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
                logits = model(input_ids=ids[:, :length], attention_mask=mask[:, :length]).logits.squeeze(-1)
            out.append(logits.float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)
