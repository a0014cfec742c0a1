"""Loading the sentiment model that serves each language: the active ModelVersion of kind
sentiment_<language>, or the zero-shot fallback when none is active. Loaded models are kept
per process, keyed by version id, so hourly scoring and the API do not reload them.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from django.conf import settings

from mlcore.feedback.services.config import LANGUAGES, embedding_model_path
from mlcore.ml.feedback.fallback import (
    ZeroShotSentiment,
    e5_encoder,
    minilm_encoder,
    reference_set,
    uses_multilingual_encoder,
)
from mlcore.ml.feedback.transformer import TransformerSentiment
from mlcore.models import ModelVersion
from mlcore.registry import services as registry

ARTEFACT_PICKLE = "model.pkl"
ARTEFACT_TRANSFORMER = "model.zip"

_lock = threading.Lock()
_loaded: dict[tuple, object] = {}


@dataclass(frozen=True)
class ServingModel:
    model: object  # has predict_proba(texts) -> P(positive)
    language: str
    version: ModelVersion | None

    @property
    def is_fallback(self) -> bool:
        return self.version is None


def sentiment_kind(language: str) -> str:
    return f"sentiment_{language}"


def fallback_model(language: str) -> ZeroShotSentiment:
    """The zero-shot model of a language: MiniLM for English, multilingual E5 for every other one."""
    language = reference_set(language)  # every language without its own references shares one model
    key = ("fallback", language, settings.EMBEDDING_MODEL_PATH, settings.MULTILINGUAL_MODEL_PATH)
    with _lock:
        if key not in _loaded:
            encoder = (e5_encoder(settings.MULTILINGUAL_MODEL_PATH or None) if uses_multilingual_encoder(language)
                       else minilm_encoder(embedding_model_path()))
            _loaded[key] = ZeroShotSentiment(encoder, language)
        return _loaded[key]


def model_version_sentiment_load(version: ModelVersion) -> object:
    """The fitted model of a sentiment ModelVersion (hash-checked by the registry)."""
    key = ("version", version.pk, version.artefact_sha256)
    with _lock:
        if key not in _loaded:
            if version.artefact_path.endswith(ARTEFACT_TRANSFORMER):
                content = registry.model_version_load_bytes(version_id=version.pk)
                folder = settings.MODEL_DIR / "_unpacked" / version.artefact_sha256
                _loaded[key] = TransformerSentiment.from_bytes(content, folder=folder)
            else:
                _loaded[key] = registry.model_version_load_object(version_id=version.pk)
        return _loaded[key]


def serving_model(language: str) -> ServingModel:
    """The active model of a trained language (LANGUAGES), else the zero-shot fallback; a language
    without a model of its own (pt, de, ...) is always the multilingual fallback, never English."""
    if language not in LANGUAGES:
        return ServingModel(model=fallback_model(language), language=language, version=None)
    version = registry.model_version_active(kind=sentiment_kind(language))
    if version is None:
        return ServingModel(model=fallback_model(language), language=language, version=None)
    return ServingModel(model=model_version_sentiment_load(version), language=language, version=version)
