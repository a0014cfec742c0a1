"""Training the served sentiment model of each language from the shop's rated reviews.

Candidates (linear TF-IDF for English, character n-grams and snownlp for Chinese, the
fine-tuned transformer where an encoder suits the language) are fitted on one split and judged
on the same held-out reviews as the currently active model. The best is registered as a
ModelVersion (kind sentiment_<language>) with every candidate's metrics, and activated only if
it beats the active model on that held-out set.
"""
from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from customers.selectors import reviews_frame
from infra.jobs import job_progress
from mlcore.feedback.services.config import (
    LANGUAGES,
    feedback_settings,
    transformer_available,
    transformer_base,
    transformer_config,
)
from mlcore.feedback.services.models import (
    ARTEFACT_PICKLE,
    ARTEFACT_TRANSFORMER,
    model_version_sentiment_load,
    sentiment_kind,
)
from mlcore.ml.feedback.baselines import CHAR_NGRAM, WORD_TFIDF, LinearSentiment, SnowNLPSentiment, sentiment_metrics
from mlcore.ml.feedback.datasets import sample_rows, split_holdout
from mlcore.ml.feedback.labels import binary_targets, ratings_to_labels, review_texts
from mlcore.ml.feedback.language import detect_language
from mlcore.ml.feedback.transformer import train_transformer
from mlcore.registry import services as registry

log = logging.getLogger(__name__)


def labelled_reviews(language: str) -> pd.DataFrame:
    """The shop's rated reviews in one language: text, label, created_at (neutral ratings left out)."""
    frame = reviews_frame()
    if frame.empty:
        return pd.DataFrame(columns=["text", "label", "created_at"])
    frame["text"] = review_texts(frame["title"], frame["text"])
    frame["label"] = ratings_to_labels(frame["rating"], feedback_settings().labels)
    frame = frame[(frame["text"] != "") & frame["label"].notna()]
    detected = [g if g in LANGUAGES else detect_language(t) for t, g in zip(frame["text"], frame["language"], strict=True)]
    return frame[np.asarray(detected) == language][["text", "label", "created_at"]].reset_index(drop=True)


def _candidates(language: str, *, quick: bool) -> list[str]:
    base = ["tfidf_linear"] if language == "en" else ["char_ngram_linear", "snownlp"]
    if not quick and transformer_available(language):
        base.append("transformer")
    return base


def _fit(name: str, language: str, train: pd.DataFrame, on_gpu: bool):
    texts, targets = train["text"].tolist(), binary_targets(train["label"])
    if name == "tfidf_linear":
        return LinearSentiment(WORD_TFIDF).fit(texts, targets)
    if name == "char_ngram_linear":
        return LinearSentiment(CHAR_NGRAM).fit(texts, targets)
    if name == "snownlp":
        return SnowNLPSentiment().fit(texts, targets)
    sample = train if on_gpu else sample_rows(train, feedback_settings().cpu_max_train, seed=1)
    return train_transformer(transformer_base(language), sample["text"].tolist(), binary_targets(sample["label"]), transformer_config(on_gpu=on_gpu, language=language))


def _active_metrics(language: str, test: pd.DataFrame) -> dict | None:
    active = registry.model_version_active(kind=sentiment_kind(language))
    if active is None:
        return None
    model = model_version_sentiment_load(active)
    metrics = sentiment_metrics(binary_targets(test["label"]), model.predict_proba(test["text"].tolist()))
    return {**metrics, "version_id": active.pk}


def _register(language: str, name: str, model, metrics: dict, frame: pd.DataFrame) -> registry.ModelVersion:
    params = {"method": name, "language": language, "labels": vars(feedback_settings().labels)}
    if name == "transformer":
        params["config"] = vars(model.config) | {"base_model": model.base_model}
    mv = registry.model_version_create(
        kind=sentiment_kind(language), params=params,
        data_window_start=frame["created_at"].min().to_pydatetime(), data_window_end=frame["created_at"].max().to_pydatetime(),
    )
    if name == "transformer":
        return registry.model_version_save_artefact(version_id=mv.pk, filename=ARTEFACT_TRANSFORMER, content=model.to_bytes(), metrics=metrics)
    return registry.model_version_save_object(version_id=mv.pk, obj=model, metrics=metrics, filename=ARTEFACT_PICKLE)


def sentiment_train(*, language: str, quick: bool = False, on_gpu: bool = False, job_id: int | None = None) -> dict:
    """Train the candidates of one language, register the best, activate it if it beats the active one."""
    frame = labelled_reviews(language)
    counts = frame["label"].value_counts().to_dict()
    if len(frame) < feedback_settings().min_train or min(counts.get("positive", 0), counts.get("negative", 0)) < 5:
        return {"language": language, "skipped": f"only {len(frame)} labelled {language} reviews ({counts}); need {feedback_settings().min_train} with 5+ of each label"}
    train, test = split_holdout(frame, test_size=0.2, seed=42)
    targets, results, models = binary_targets(test["label"]), {}, {}
    names = _candidates(language, quick=quick)
    for name in names:
        started = time.perf_counter()
        models[name] = _fit(name, language, train, on_gpu)
        results[name] = sentiment_metrics(targets, models[name].predict_proba(test["text"].tolist()))
        results[name]["seconds"] = round(time.perf_counter() - started, 1)
        if job_id:
            job_progress(job_id=job_id, advance=1, message=f"{language}: {name} macro-F1 {results[name]['macro_f1']}")
    best = max(names, key=lambda n: (results[n]["macro_f1"], results[n]["accuracy"]))
    active = _active_metrics(language, test)
    metrics = {**results[best], "method": best, "n_train": len(train), "candidates": results, "active_before": active}
    mv = _register(language, best, models[best], metrics, frame)
    activated = active is None or results[best]["macro_f1"] > active["macro_f1"]
    if activated:
        registry.model_version_activate(version_id=mv.pk)
    return {"language": language, "version_id": mv.pk, "version": mv.version, "method": best, "macro_f1": results[best]["macro_f1"], "activated": activated}


def sentiment_train_all(*, languages: list[str] | None = None, quick: bool = False, on_gpu: bool = False, job_id: int | None = None) -> dict:
    languages = languages or list(LANGUAGES)
    if job_id:
        job_progress(job_id=job_id, done=0, total=sum(len(_candidates(lang, quick=quick)) for lang in languages), message="training sentiment")
    return {lang: sentiment_train(language=lang, quick=quick, on_gpu=on_gpu, job_id=job_id) for lang in languages}
