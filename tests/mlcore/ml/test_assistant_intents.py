"""Intent rules and classifiers of the support assistant on small inputs."""
from __future__ import annotations

import pytest

from mlcore.ml.assistant.intents import BITEXT_TO_INTENT, INTENTS, RuleIntentClassifier, rule_intent, tfidf_classifier


@pytest.mark.parametrize(("text", "intent"), [
    ("Where is my order 536365?", "order_status"), ("I want to cancel my order", "cancel"), ("I need to change my delivery address", "change_address"),
    ("How do I return this mug?", "return_refund"), ("How long does delivery take?", "delivery"), ("Can I pay with PayPal?", "payment"),
    ("I need an invoice", "invoice"), ("What size is the lunch box?", "product_question"), ("This is unacceptable, I want to complain", "complaint"),
    ("I forgot my password", "account"), ("Let me talk to a real person", "human_agent"), ("hello", "other"),
    ("我的快递到哪了", "order_status"), ("我要退货", "return_refund"), ("我要投诉", "complaint"), ("转人工", "human_agent"), ("运费多少", "delivery"),
])
def test_rules_recognise_each_intent(text, intent):
    # given a typical message of an intent, when the rules classify it, then they name that intent
    assert rule_intent(text) == intent


def test_every_bitext_intent_maps_to_a_known_intent():
    # given the Bitext mapping, when read, then every target is one of the twelve intents
    assert set(BITEXT_TO_INTENT.values()) <= set(INTENTS)


def test_tfidf_classifier_learns_small_data():
    # given a few labelled messages, when the baseline is fitted, then it labels close paraphrases correctly
    texts = ["where is my parcel", "track my package", "cancel my order", "please cancel the purchase", "refund my money", "I want a refund"] * 3
    labels = ["order_status", "order_status", "cancel", "cancel", "return_refund", "return_refund"] * 3
    model = tfidf_classifier().fit(texts, labels)
    assert list(model.predict(["where is my package", "cancel purchase", "money refund"])) == ["order_status", "cancel", "return_refund"]
    assert list(RuleIntentClassifier().predict(["cancel it"])) == ["cancel"]


def test_codes_of_digits_read_as_one_token():
    # given an order number and a model number, when prepared for the intent features, then both are the same token
    from mlcore.ml.assistant.intents import intent_text

    assert intent_text("Where is my order 590001?") == "where is my order  num "
    assert intent_text("Is part LSE7804ACE right?") == "is part  num  right?"


def test_rule_features_mark_the_rules_intent():
    # given a complaint, when turned into rule features, then only the complaint column is set (times the weight)
    from mlcore.ml.assistant.intents import INTENTS, rule_features

    row = rule_features(["I want to complain!"], weight=3.0)[0]
    assert row[INTENTS.index("complaint")] == 3.0 and row.sum() == 3.0
