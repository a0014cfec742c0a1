from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from mlcore.ml.feedback.baselines import CHAR_NGRAM, LinearSentiment, MajoritySentiment, sentiment_metrics
from mlcore.ml.feedback.datasets import split_holdout
from mlcore.ml.feedback.fallback import ZeroShotSentiment
from mlcore.ml.feedback.topics import (
    TopicConfig,
    aspect_mentions,
    aspect_sentiment_table,
    class_tfidf_words,
    find_topics,
)
from mlcore.ml.feedback.transformer import TransformerConfig, TransformerSentiment, train_transformer
from tests.mlcore.feedback_support import NEGATIVE_TEXTS, POSITIVE_TEXTS, tiny_bert_folder

TEXTS = POSITIVE_TEXTS + NEGATIVE_TEXTS
TARGETS = np.array([1] * len(POSITIVE_TEXTS) + [0] * len(NEGATIVE_TEXTS))


def _word_encoder(texts):
    """A deterministic bag-of-keywords encoder standing in for a sentence model."""
    good, bad = ("love", "great", "happy", "perfect"), ("hate", "awful", "terrible", "poor")
    rows = np.array([[sum(w in t.lower() for w in good), sum(w in t.lower() for w in bad), 0.1] for t in texts], dtype=float)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_linear_model_learns_and_metrics_beat_majority():
    # given a tiny labelled set, when a char n-gram model is fitted, then it separates its training texts better than majority
    model = LinearSentiment(replace(CHAR_NGRAM, min_df=1)).fit(TEXTS, TARGETS)
    metrics = sentiment_metrics(TARGETS, model.predict_proba(TEXTS))
    floor = sentiment_metrics(TARGETS, MajoritySentiment().fit(TEXTS, TARGETS).predict_proba(TEXTS))
    assert model.method == "char_ngram_linear"
    assert metrics["macro_f1"] > floor["macro_f1"]
    assert metrics["n_test"] == len(TEXTS)


def test_linear_model_refuses_a_single_class():
    # given only positive targets, when fitting, then the error says both labels are needed
    with pytest.raises(ValueError, match="both positive and negative"):
        LinearSentiment().fit(POSITIVE_TEXTS, np.ones(len(POSITIVE_TEXTS)))


def test_zero_shot_prefers_the_closer_references():
    # given an encoder and reference sentences, when scoring clear texts, then the positive one is above 0.5 and the negative below
    model = ZeroShotSentiment(_word_encoder, "en", references={"en": {"positive": ["I love it, great"], "negative": ["awful, I hate it"]}})
    p = model.predict_proba(["love it, perfect and great", "terrible and awful"])
    assert p[0] > 0.5 > p[1]
    assert model.method == "fallback"


def test_split_holdout_is_stratified_and_disjoint():
    # given 100 rows with 20% negative, when split 80/20, then the test set keeps the share and shares no row
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(100)], "label": ["negative"] * 20 + ["positive"] * 80})
    train, test = split_holdout(frame, test_size=0.2, seed=1)
    assert len(test) == 20 and (test["label"] == "negative").sum() == 4
    assert not set(train["text"]) & set(test["text"])


def test_aspect_mentions_find_sentences_in_both_languages():
    # given an English and a Chinese review, when aspects are found, then each keeps only the sentences mentioning it
    mentions = aspect_mentions(["The fit is great. Delivery took ages!", "质量很好。物流太慢了"], ["en", "zh"])
    found = {(int(r.index), r.aspect): r.text for r in mentions.itertuples()}
    assert found[(0, "fit")] == "The fit is great."
    assert found[(0, "delivery")] == "Delivery took ages!"
    assert found[(1, "quality")] == "质量很好。"
    assert (1, "delivery") in found


def test_aspect_table_aggregates_per_product():
    # given scored aspect rows, when tabled, then mentions, mean and negative share are per product and aspect
    rows = pd.DataFrame({"product_id": [1, 1, 1], "aspect": ["fit", "fit", "price"], "score": [0.5, -0.5, 1.0], "label": ["positive", "negative", "positive"]})
    table = aspect_sentiment_table(rows)
    fit = table[table["aspect"] == "fit"].iloc[0]
    assert fit["mentions"] == 2 and fit["score_mean"] == 0 and fit["negative_share"] == 0.5


def test_topics_are_named_by_distinctive_words():
    # given two obvious groups of texts and embeddings, when clustered, then each topic is named by its own words
    texts = ["zipper broke zipper"] * 5 + ["shipping slow shipping"] * 5
    emb = np.array([[1.0, 0.0]] * 5 + [[0.0, 1.0]] * 5)
    clusters, table = find_topics(texts, emb, TopicConfig(n_topics=2))
    words = class_tfidf_words(texts, clusters, top_words=2)
    assert set(table["size"]) == {5}
    assert {words[clusters[0]][0], words[clusters[-1]][0]} == {"zipper", "shipping"}


def test_transformer_trains_a_few_steps_on_a_tiny_random_config(tmp_path):
    # given a tiny random BERT, when fine-tuned 3 steps on the CPU and round-tripped through bytes, then it predicts the same probabilities
    base = tiny_bert_folder(tmp_path / "tiny")
    config = TransformerConfig(max_length=32, batch_size=4, max_steps=3, threads=1, device="cpu")
    model = train_transformer(base, TEXTS, TARGETS, config)
    p = model.predict_proba(TEXTS)
    again = TransformerSentiment.from_bytes(model.to_bytes(), folder=tmp_path / "unpacked", device="cpu")
    assert p.shape == (len(TEXTS),) and ((p >= 0) & (p <= 1)).all()
    assert np.allclose(again.predict_proba(TEXTS), p, atol=1e-5)
    assert model.train_examples == 12
