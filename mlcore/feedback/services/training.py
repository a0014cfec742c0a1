"""Training the served sentiment model of each language from the shop's rated reviews.

1. The labelled reviews are split 80/20 (stratified, seed 42) into training and held-out reviews.
2. Selection: every candidate (mlcore.ml.feedback.candidates: the linear baseline, NB-SVM, the
   TF-IDF ensembles, snownlp for Chinese; not --quick: the linear candidates stacked on their
   out-of-fold log-odds, TF-IDF blended with frozen MiniLM (English) or E5 (Chinese) embeddings,
   that stack with a network on every training review's embedding, and the fine-tuned
   transformer) is fitted on 80% of the training reviews and judged on the other 20%
   (the validation fold); the best by validation macro-F1 is selected.
3. The selected model is refitted on all training reviews and measured once on the held-out
   reviews (the figures the version records), then refitted on every labelled review (training
   + held-out) and that model is registered as the ModelVersion (metrics.refit_on_all).
4. It is activated when it beats the active version: on the held-out reviews written after the
   active version's data window (reviews it has not seen) when there are at least 20 with both
   labels, otherwise by the held-out macro-F1 each recorded when it was trained.

Progress goes to this module's logger (train_sentiment prints it) and to the job row.
"""
from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
from django.conf import settings

from customers.selectors import reviews_frame
from infra.jobs import job_progress
from mlcore.feedback.services.config import (
    LANGUAGES,
    e5_transformers_folder,
    embedding_model_path,
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
from mlcore.ml.feedback.baselines import sentiment_metrics
from mlcore.ml.feedback.candidates import linear_candidates, stack_candidate, stacked_candidate
from mlcore.ml.feedback.datasets import sample_rows, split_holdout
from mlcore.ml.feedback.ensembles import MemoEncoder
from mlcore.ml.feedback.labels import binary_targets, ratings_to_labels, review_texts
from mlcore.ml.feedback.language import detect_language
from mlcore.ml.feedback.selection import model_select
from mlcore.ml.feedback.transformer import train_transformer
from mlcore.registry import services as registry

log = logging.getLogger(__name__)
QUICK_MAX_REVIEWS = 3000  # --quick selects on at most this many reviews (the refit still uses all)
MIN_UNSEEN = 20


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


def _at_most(texts: list[str], targets: np.ndarray, limit: int | None) -> tuple[list[str], np.ndarray]:
    """A fixed random `limit` of the training reviews (all of them when there are no more)."""
    if limit is None or len(texts) <= limit:
        return list(texts), np.asarray(targets)
    keep = np.sort(np.random.default_rng(1).permutation(len(texts))[:limit])
    return [texts[i] for i in keep], np.asarray(targets)[keep]


class _StackCandidate:
    """fit() fits the stack with embeddings on at most FEEDBACK_STACK_MAX_TRAIN reviews. One
    instance serves a whole training (selection, held-out fit, refit on all), so its MemoEncoder
    embeds each review once; E5's torch folder is exported on the first fit, not when listed."""

    def __init__(self, language: str, members: dict):
        self.language, self.members = language, members
        self.encoder: MemoEncoder | None = None

    def fit(self, texts: list[str], targets: np.ndarray):
        path = str(embedding_model_path() if self.language == "en" else e5_transformers_folder())
        self.encoder = self.encoder or MemoEncoder("minilm" if self.language == "en" else "e5t", path)
        model = stack_candidate(self.language, encoder=self.encoder, encoder_path=path, members=self.members)()
        return model.fit(*_at_most(texts, targets, feedback_settings().stack_max_train))


class _TransformerCandidate:
    """fit() fine-tunes the language's encoder (on a CPU, on at most FEEDBACK_CPU_MAX_TRAIN reviews)."""

    def __init__(self, language: str, on_gpu: bool):
        self.language, self.on_gpu = language, on_gpu

    def fit(self, texts: list[str], targets: np.ndarray):
        texts, targets = _at_most(texts, targets, None if self.on_gpu else feedback_settings().cpu_max_train)
        config = transformer_config(on_gpu=self.on_gpu, language=self.language)
        return train_transformer(transformer_base(self.language), list(texts), np.asarray(targets), config)


def _candidates(language: str, *, quick: bool, on_gpu: bool = False) -> dict:
    linear = linear_candidates(language)
    out = dict(linear)
    if not quick:  # the stacks fit every linear candidate six times: minutes, not --quick's seconds
        out["linear_stacked"] = stack_candidate(language, with_encoder=False, members=linear)
        path = str(embedding_model_path()) if language == "en" else (settings.MULTILINGUAL_MODEL_PATH or "")
        out["encoder_stacked"] = stacked_candidate(language, encoder_path=path)
        stack = _StackCandidate(language, linear)
        out["stacked"] = lambda: stack
    if not quick and transformer_available(language):
        out["transformer"] = lambda: _TransformerCandidate(language, on_gpu)
    return out


def _progress(job_id: int | None, message: str, advance: int = 0) -> None:
    log.info(message)
    if job_id:
        job_progress(job_id=job_id, advance=advance, message=message)


def _fit_timed(factory, frame: pd.DataFrame):
    started = time.perf_counter()
    model = factory().fit(frame["text"].tolist(), binary_targets(frame["label"]))
    return model, round(time.perf_counter() - started, 1)


def _unseen_comparison(active, test: pd.DataFrame, model) -> tuple[dict, dict] | None:
    """(active, new) metrics on held-out reviews written after the active version's data window."""
    end = active.data_window_end
    unseen = test[test["created_at"] > end] if end is not None else test.iloc[:0]
    if len(unseen) < MIN_UNSEEN or unseen["label"].nunique() < 2:
        return None
    targets, texts = binary_targets(unseen["label"]), unseen["text"].tolist()
    return (sentiment_metrics(targets, model_version_sentiment_load(active).predict_proba(texts)),
            sentiment_metrics(targets, model.predict_proba(texts)))


def _against_active(language: str, test: pd.DataFrame, model, held_out: dict) -> tuple[bool, dict | None]:
    active = registry.model_version_active(kind=sentiment_kind(language))
    if active is None:
        return True, None
    compared = _unseen_comparison(active, test, model)
    if compared is not None:
        before, now = compared
        return now["macro_f1"] > before["macro_f1"], {**before, "version_id": active.pk, "on": "unseen held-out reviews", "new": now}
    recorded = (active.metrics or {}).get("macro_f1", -1.0)
    return held_out["macro_f1"] > recorded, {"macro_f1": recorded, "version_id": active.pk, "on": "recorded held-out figure"}


def _register(language: str, name: str, model, metrics: dict, frame: pd.DataFrame) -> registry.ModelVersion:
    params = {"method": name, "language": language, "labels": vars(feedback_settings().labels),
              "fitted_on": "all labelled reviews", "n_fitted": len(frame)}
    if name == "transformer":
        params["config"] = vars(model.config) | {"base_model": model.base_model}
    elif hasattr(model, "config"):
        params["config"] = repr(model.config)
    mv = registry.model_version_create(
        kind=sentiment_kind(language), params=params,
        data_window_start=frame["created_at"].min().to_pydatetime(), data_window_end=frame["created_at"].max().to_pydatetime(),
    )
    if name == "transformer":
        return registry.model_version_save_artefact(version_id=mv.pk, filename=ARTEFACT_TRANSFORMER, content=model.to_bytes(), metrics=metrics)
    return registry.model_version_save_object(version_id=mv.pk, obj=model, metrics=metrics, filename=ARTEFACT_PICKLE)


def _skip_reason(language: str, frame: pd.DataFrame) -> str | None:
    counts = frame["label"].value_counts().to_dict()
    if len(frame) < feedback_settings().min_train or min(counts.get("positive", 0), counts.get("negative", 0)) < 5:
        return f"only {len(frame)} labelled {language} reviews ({counts}); need {feedback_settings().min_train} with 5+ of each label"
    return None


def sentiment_train(*, language: str, quick: bool = False, on_gpu: bool = False, job_id: int | None = None) -> dict:
    """Select on a validation fold, measure on held-out reviews, refit on all, register; activate if better."""
    frame = labelled_reviews(language)
    if reason := _skip_reason(language, frame):
        return {"language": language, "skipped": reason}
    train, test = split_holdout(frame, test_size=0.2, seed=42)
    candidates = _candidates(language, quick=quick, on_gpu=on_gpu)
    pool = sample_rows(train, QUICK_MAX_REVIEWS, seed=5) if quick else train
    _progress(job_id, f"{language}: {len(frame)} labelled reviews ({len(train)} training, {len(test)} held-out); selecting among {', '.join(candidates)} on {len(pool)}")
    selection = model_select(candidates, pool, progress=lambda message: _progress(job_id, f"{language}: {message}", advance=1))
    best = selection.name
    model, seconds = _fit_timed(candidates[best], train)
    held_out = sentiment_metrics(binary_targets(test["label"]), model.predict_proba(test["text"].tolist()))
    _progress(job_id, f"{language}: selected {best}; held-out macro-F1 {held_out['macro_f1']}, negative recall {held_out['negative_recall']}, precision {held_out['negative_precision']} ({seconds} s)")
    activate, active = _against_active(language, test, model, held_out)
    final, refit_seconds = _fit_timed(candidates[best], frame)
    _progress(job_id, f"{language}: refitted {best} on all {len(frame)} labelled reviews ({refit_seconds} s)", advance=1)
    metrics = {**held_out, "method": best, "n_train": len(train), "refit_on_all": True, "n_refit": len(frame),
               "candidates": selection.validation, "selection": {"on": "validation fold of the training reviews", "n_fit": selection.n_fit, "n_validation": selection.n_validation},
               "active_before": active}
    mv = _register(language, best, final, metrics, frame)
    if activate:
        registry.model_version_activate(version_id=mv.pk)
    return {"language": language, "version_id": mv.pk, "version": mv.version, "method": best, "macro_f1": held_out["macro_f1"],
            "negative_recall": held_out["negative_recall"], "negative_precision": held_out["negative_precision"], "activated": activate}


def sentiment_train_all(*, languages: list[str] | None = None, quick: bool = False, on_gpu: bool = False, job_id: int | None = None) -> dict:
    languages = languages or list(LANGUAGES)
    if job_id:
        job_progress(job_id=job_id, done=0, total=sum(len(_candidates(lang, quick=quick)) + 1 for lang in languages), message="training sentiment")
    return {lang: sentiment_train(language=lang, quick=quick, on_gpu=on_gpu, job_id=job_id) for lang in languages}
