"""Training the assistant's intent models and registering them (registry kind assistant_intents,
one artefact holding {"en": classifier, "zh": classifier}); the active version serves replies.
English: the TF-IDF classifier on Bitext train plus product questions; Chinese: the same on the
hand-corrected JDDC labels, character n-grams plus the keyword rules as features (chosen by
cross-validation on the training part: bench/assistant_intents_zh.py). The dev figures go into
the version's metrics."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from sklearn.metrics import accuracy_score, f1_score

from campaigns.assistant.services.runtime import INTENT_KIND
from mlcore.ml.assistant import intent_data
from mlcore.ml.assistant.intents import RuleIntentClassifier, chinese_keyword_classifier, english_classifier
from mlcore.registry import services as registry

JDDC_LABELS = Path(settings.BASE_DIR) / "data" / "support_jddc_zh_intent_labels.tsv"


def _support_data() -> Path:
    return Path(settings.ASSISTANT_SUPPORT_DATA)


def intent_model_train(*, activate: bool = True) -> dict:
    root = _support_data()
    texts, labels = intent_data.bitext_split(root / "bitext-intents" / "train.csv")
    dev_texts, dev_labels = intent_data.bitext_split(root / "bitext-intents" / "dev.csv")
    products = intent_data.product_questions(root / "product-qa-en" / "qa_Appliances.json.gz", n=300)
    english = english_classifier().fit(texts + products, labels + ["product_question"] * len(products))
    predicted = english.predict(dev_texts)
    metrics = {"en_dev_accuracy": accuracy_score(dev_labels, predicted), "en_dev_macro_f1": f1_score(dev_labels, predicted, average="macro")}
    zh_texts, zh_labels, _ = intent_data.jddc_labelled(JDDC_LABELS, root / "jddc-zh" / "chat_0.1per.txt")
    train, held = intent_data.held_out_split(len(zh_texts))
    held_y = [zh_labels[i] for i in held]
    fitted = chinese_keyword_classifier().fit([zh_texts[i] for i in train], [zh_labels[i] for i in train])
    metrics["zh_heldout_macro_f1"] = f1_score(held_y, fitted.predict([zh_texts[i] for i in held]), average="macro")
    metrics["zh_rules_heldout_macro_f1"] = f1_score(held_y, RuleIntentClassifier().predict([zh_texts[i] for i in held]), average="macro")
    # the rules keep serving Chinese unless the classifier beats them on the held-out third
    chinese = chinese_keyword_classifier().fit(zh_texts, zh_labels) if metrics["zh_heldout_macro_f1"] > metrics["zh_rules_heldout_macro_f1"] else None
    version = registry.model_version_create(kind=INTENT_KIND, params={"en": "tfidf+rules+bitext+product-qa", "zh": "chars+rules-lr+jddc-labels" if chinese else "rules"})
    registry.model_version_save_object(version_id=version.pk, obj={"en": english, "zh": chinese}, metrics=metrics)
    if activate:
        registry.model_version_activate(version_id=version.pk)
    return {"version_id": version.pk, **metrics}
