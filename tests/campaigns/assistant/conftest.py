"""Fixtures of the support assistant tests: fast settings (BM25 only, extractive answers, no
sentiment model) and the demo knowledge base loaded and indexed through the services."""
from __future__ import annotations

import pytest

from campaigns.assistant.services.knowledge import knowledge_load_file


@pytest.fixture(autouse=True)
def _fast_assistant(settings):
    settings.ASSISTANT_DENSE = False
    settings.ASSISTANT_LLM = "none"
    settings.LLM_BASE_URL = ""
    settings.ASSISTANT_SENTIMENT = False


@pytest.fixture
def knowledge(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return knowledge_load_file()
