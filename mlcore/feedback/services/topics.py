"""Topics of the shop's reviews: embeddings of the latest reviews of one language, clustered and
named by their most distinctive words (c-TF-IDF), with each topic's mean stored sentiment.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from customers.selectors import reviews_frame
from mlcore.feedback.services.config import LANGUAGES
from mlcore.feedback.services.models import fallback_model
from mlcore.ml.feedback.labels import review_texts
from mlcore.ml.feedback.language import detect_language
from mlcore.ml.feedback.topics import TopicConfig, find_topics
from mlcore.models import ReviewSentiment


def review_topics_find(*, language: str = "en", n_topics: int = 8, limit: int = 5000) -> pd.DataFrame:
    """Columns topic, size, share, words, name, sentiment_mean (most frequent topic first)."""
    frame = reviews_frame().sort_values("created_at", ascending=False)
    frame["full_text"] = review_texts(frame["title"], frame["text"])
    frame = frame[frame["full_text"] != ""]
    detected = [g if g in LANGUAGES else detect_language(t) for t, g in zip(frame["full_text"], frame["language"], strict=True)]
    frame = frame[np.asarray(detected, dtype=object) == language].head(limit)
    if len(frame) < n_topics:
        return pd.DataFrame(columns=["topic", "size", "share", "words", "name", "sentiment_mean"])
    texts = frame["full_text"].tolist()
    embeddings = fallback_model(language).encoder(texts)
    clusters, table = find_topics(texts, embeddings, TopicConfig(n_topics=n_topics), language=language)
    scores = dict(ReviewSentiment.objects.filter(review_id__in=frame["review_id"].tolist()).values_list("review_id", "score"))
    frame = frame.assign(topic=clusters, score=frame["review_id"].map(scores))
    table["sentiment_mean"] = table["topic"].map(frame.groupby("topic")["score"].mean()).round(3)
    return table
