"""What reviews are about: a keyword aspect lexicon (fit, size, quality, ...) with sentence-level
aspect sentiment, and topics found by clustering review embeddings, each named by its most
distinctive words (class-based TF-IDF, as in BERTopic).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import CountVectorizer

ASPECTS: dict[str, dict[str, list[str]]] = {
    "fit": {"en": ["fit", "fits", "fitted", "fitting", "tight", "loose", "snug", "baggy", "flattering"], "zh": ["合身", "贴身", "紧", "松"]},
    "size": {"en": ["size", "sizes", "sizing", "small", "large", "petite", "xs", "runs big", "runs small", "length", "long", "short"], "zh": ["尺码", "大小", "偏大", "偏小", "码"]},
    "quality": {"en": ["quality", "fabric", "material", "stitching", "seams", "cheap", "durable", "thin", "sturdy", "well made"], "zh": ["质量", "做工", "材质", "面料", "品质"]},
    "delivery": {"en": ["delivery", "shipping", "shipped", "arrived", "package", "packaging", "courier"], "zh": ["物流", "快递", "发货", "送货", "包装", "配送"]},
    "price": {"en": ["price", "priced", "expensive", "cheap", "value", "worth", "sale", "cost", "money"], "zh": ["价格", "价钱", "性价比", "便宜", "贵", "实惠"]},
    "colour": {"en": ["color", "colour", "colors", "colours", "shade", "faded", "bright", "pattern", "print"], "zh": ["颜色", "色差", "褪色"]},
    "comfort": {"en": ["comfortable", "comfy", "soft", "itchy", "scratchy", "cozy", "warm"], "zh": ["舒服", "舒适", "柔软"]},
    "service": {"en": ["service", "customer service", "return", "returned", "refund", "exchange"], "zh": ["服务", "客服", "态度", "退货", "退款"]},
}

_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s*|\n+")


def _patterns(language: str) -> dict[str, re.Pattern]:
    out = {}
    for aspect, words in ASPECTS.items():
        terms = sorted(words.get(language, []), key=len, reverse=True)
        if not terms:
            continue
        escaped = "|".join(re.escape(term) for term in terms)
        out[aspect] = re.compile(escaped if language == "zh" else rf"\b(?:{escaped})\b", re.IGNORECASE)
    return out


_PATTERNS = {lang: _patterns(lang) for lang in ("en", "zh")}


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE.split(text or "") if part and part.strip()]


def aspect_mentions(texts: list[str], languages: list[str]) -> pd.DataFrame:
    """One row per (text index, aspect): the text's sentences that mention the aspect, joined."""
    rows = []
    for index, (text, language) in enumerate(zip(texts, languages, strict=True)):
        patterns = _PATTERNS.get(language, _PATTERNS["en"])
        sentences = split_sentences(text)
        for aspect, pattern in patterns.items():
            hits = [s for s in sentences if pattern.search(s)]
            if hits:
                rows.append((index, aspect, " ".join(hits)))
    return pd.DataFrame(rows, columns=["index", "aspect", "text"])


def aspect_sentiment_table(aspects: pd.DataFrame) -> pd.DataFrame:
    """Per product and aspect: mentions, mean score and share negative (input: product_id, aspect, score, label)."""
    if aspects.empty:
        return pd.DataFrame(columns=["product_id", "aspect", "mentions", "score_mean", "negative_share"])
    grouped = aspects.assign(negative=aspects["label"] == "negative").groupby(["product_id", "aspect"])
    table = grouped.agg(mentions=("score", "size"), score_mean=("score", "mean"), negative_share=("negative", "mean"))
    return table.reset_index().sort_values(["product_id", "mentions"], ascending=[True, False], ignore_index=True)


@dataclass(frozen=True)
class TopicConfig:
    n_topics: int = 8
    top_words: int = 6
    seed: int = 42
    min_df: int = 2


def _analyzer(language: str) -> dict:
    if language == "zh":  # no spaces in Chinese: character bigrams stand in for words
        return {"analyzer": "char", "ngram_range": (2, 2)}
    return {"stop_words": "english", "token_pattern": r"(?u)\b[a-zA-Z][a-zA-Z]+\b"}


def class_tfidf_words(
    texts: list[str], clusters: np.ndarray, *, language: str = "en", top_words: int = 6, min_df: int = 2, min_lift: float = 1.3,
) -> dict[int, list[str]]:
    """The most distinctive words of each cluster: tf within the cluster x log(1 + A / word frequency),
    among words at least `min_lift` times more frequent in the cluster than in all reviews."""
    labels = sorted(set(clusters.tolist()))
    docs = [" ".join(np.asarray(texts, dtype=object)[clusters == label]) for label in labels]
    vectorizer = CountVectorizer(min_df=1, **_analyzer(language))
    counts = vectorizer.fit_transform(docs).toarray().astype(float)
    overall = counts.sum(axis=0)
    keep = overall >= min_df
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    average_words = counts.sum() / len(labels)
    ctfidf = tf * np.log1p(average_words / np.maximum(overall, 1.0))
    ctfidf[:, ~keep] = 0.0
    # distinctive, not merely frequent: a word must be at least min_lift times likelier in the cluster than overall
    lift = tf / np.maximum(overall / max(overall.sum(), 1.0), 1e-12)
    ctfidf[lift < min_lift] = 0.0
    vocab = vectorizer.get_feature_names_out()
    return {label: [vocab[j] for j in np.argsort(-ctfidf[i])[:top_words] if ctfidf[i, j] > 0] for i, label in enumerate(labels)}


def find_topics(texts: list[str], embeddings: np.ndarray, config: TopicConfig = TopicConfig(), *, language: str = "en") -> tuple[np.ndarray, pd.DataFrame]:
    """KMeans over embeddings; returns each text's topic and a table topic, size, share, words, name."""
    if len(texts) != len(embeddings):
        raise ValueError(f"{len(texts)} texts but {len(embeddings)} embeddings")
    k = max(1, min(config.n_topics, len(texts)))
    clusters = KMeans(n_clusters=k, n_init=4, random_state=config.seed).fit_predict(embeddings)
    words = class_tfidf_words(texts, clusters, language=language, top_words=config.top_words, min_df=config.min_df)
    sizes = np.bincount(clusters, minlength=k)
    table = pd.DataFrame({
        "topic": np.arange(k), "size": sizes, "share": np.round(sizes / len(texts), 4),
        "words": [words.get(t, []) for t in range(k)],
    })
    table["name"] = table["words"].map(lambda ws: " / ".join(ws[:3]) or "(no words)")
    return clusters, table.sort_values("size", ascending=False, ignore_index=True)
