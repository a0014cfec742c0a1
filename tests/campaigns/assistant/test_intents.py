"""Training the assistant's intent models on the real Bitext set and the JDDC labels (slow, real data)."""
from __future__ import annotations

import pytest

from campaigns.assistant.services import runtime
from campaigns.assistant.services.intents import intent_model_train
from tests.conftest import real_data_path

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.realdata]


def test_trained_intent_models_serve_both_languages(settings):
    # given Bitext, product questions and the JDDC labels, when trained, then the version is active, Bitext dev accuracy is high
    # and replies use the trained models for English and Chinese
    settings.ASSISTANT_SUPPORT_DATA = str(real_data_path("support/bitext-intents/train.csv").parent.parent)
    real_data_path("support/jddc-zh/chat_0.1per.txt")
    summary = intent_model_train()
    assert summary["en_dev_accuracy"] >= 0.9
    assert runtime.intent_of("how can I get my money back for this order", "en") == "return_refund"
    assert runtime.intent_of("我要开发票", "zh") == "invoice"  # the rules or the trained model, whichever scored higher
    assert set(summary) >= {"zh_heldout_macro_f1", "zh_rules_heldout_macro_f1"}
    assert not isinstance(runtime.intent_classifier("en"), runtime.RuleIntentClassifier)


def test_a_complaint_in_so_many_words_hands_over_whatever_the_classifier_says(monkeypatch):
    # given a classifier that reads everything as a product question, when a message says "complain", then the intent is complaint
    import numpy as np

    from campaigns.assistant.services import runtime

    class Wrong:
        def predict(self, texts):
            return np.asarray(["product_question"] * len(texts))

    monkeypatch.setattr(runtime, "intent_classifier", lambda language: Wrong())
    assert runtime.intent_of("The teapot arrived cracked, I want to complain!", "en") == "complaint"
    assert runtime.intent_of("Is the teapot dishwasher safe?", "en") == "product_question"
