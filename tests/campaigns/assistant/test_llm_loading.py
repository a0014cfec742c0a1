"""The first replies of a process never wait for the local language model to load."""
from __future__ import annotations

import threading

from campaigns.assistant.services import runtime


class SlowModel:
    loaded = threading.Event()

    def __init__(self, *args, **kwargs):
        SlowModel.release.wait(10)
        SlowModel.loaded.set()


def test_replies_are_extractive_until_the_model_has_loaded_then_it_composes(settings, monkeypatch):
    # given a local model that takes a while to load, when replies ask for it, then they get None (extractive) while it loads in the background, and the model once it has
    settings.ASSISTANT_LLM, settings.LLM_BASE_URL, settings.LLM_MODEL_PATH, settings.ASSISTANT_LLM_WAIT_FOR_LOAD = "smollm2", "", "/models/slow.gguf", False
    SlowModel.release, SlowModel.loaded = threading.Event(), threading.Event()
    monkeypatch.setattr(runtime, "TransformersLLM", SlowModel)
    monkeypatch.setattr(runtime, "_loading", {})
    runtime._llm.cache_clear()
    try:
        assert runtime.llm_client() is None  # starts the load
        assert runtime.llm_client() is None  # still loading: not a second load
        SlowModel.release.set()
        assert SlowModel.loaded.wait(10)
        next(iter(runtime._loading.values())).join(10)
        assert isinstance(runtime.llm_client(), SlowModel)
        assert runtime.llm_client(wait=True) is runtime.llm_client()
    finally:
        runtime._llm.cache_clear()
