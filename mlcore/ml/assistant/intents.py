"""Intents of customer messages: the twelve the assistant acts on, the mapping from the Bitext
customer-service intents to them, keyword rules (English and Chinese) that serve before a model is
trained and in tests, and the two classifiers compared in bench/assistant_eval.py: a TF-IDF
baseline (word + character n-grams, logistic regression) and sentence embeddings + logistic
regression. Product questions, which Bitext lacks, come from the rules or extra labelled rows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

INTENTS = (
    "order_status", "cancel", "change_address", "return_refund", "delivery", "payment", "invoice",
    "product_question", "complaint", "account", "human_agent", "other",
)
BITEXT_TO_INTENT = {
    "track_order": "order_status", "cancel_order": "cancel", "check_cancellation_fee": "cancel",
    "change_shipping_address": "change_address", "set_up_shipping_address": "change_address",
    "get_refund": "return_refund", "track_refund": "return_refund", "check_refund_policy": "return_refund",
    "delivery_period": "delivery", "delivery_options": "delivery",
    "check_payment_methods": "payment", "payment_issue": "payment",
    "check_invoice": "invoice", "get_invoice": "invoice",
    "complaint": "complaint", "review": "other",
    "create_account": "account", "delete_account": "account", "edit_account": "account", "recover_password": "account",
    "registration_problems": "account", "switch_account": "account", "newsletter_subscription": "account",
    "contact_human_agent": "human_agent", "contact_customer_service": "human_agent",
    "place_order": "other", "change_order": "other",
}

# Ordered: the first rule that matches wins (a complaint about a refund is a complaint).
RULES: list[tuple[str, str]] = [
    ("human_agent", r"\b(human|real person|a person|agent|representative|speak to someone|talk to someone|operator)\b|人工|真人|转人工|客服人员"),
    ("complaint", r"\b(complain|complaint|unacceptable|disgusting|terrible|awful|worst|angry|furious|ridiculous|rude|appalling)\b|投诉|差评|太差|垃圾|气死|不满|太慢了|骗"),
    ("cancel", r"\bcancel|取消"),
    ("change_address", r"\b(change|update|wrong|new)\b.{0,25}\baddress\b|\baddress\b.{0,20}\b(change|wrong)|改地址|修改.{0,4}地址|地址.{0,6}(改|错)"),
    ("return_refund", r"\b(return|refund|money back|send (it |them |this |something |an item |items )?back|exchange)|退货|退款|退钱|换货|退回"),
    ("invoice", r"\b(invoice|receipt|vat)\b|发票|收据"),
    ("payment", r"\b(pay|paid|payment|card|paypal|charged|declined|transfer|discount|coupon|voucher)|付款|支付|扣款|银行卡|优惠|付钱"),
    ("order_status", r"\b(where is|where's|track|tracking|status|arrived|dispatched|shipped)\b.{0,30}|\bmy (order|parcel|package)\b|订单.{0,6}(状态|到哪|进度)|物流|快递.{0,4}(到|哪)|发货了吗|到哪了|查.{0,3}订单"),
    ("delivery", r"\b(deliver|delivery|shipping|ship|postage|courier|how long)|配送|运费|送货|几天|多久|邮寄"),
    ("account", r"\b(account|password|log ?in|sign ?in|sign up|register|email address|unsubscribe|newsletter)|账户|账号|密码|登录|注册|退订"),
    ("product_question", r"\b(size|sizes|measure|dimension|colou?r|material|wash|dishwasher|care|gift wrap|made of|fit|stock|product|item"
                         r"|reviews?|rated|customers say|people say)\b|尺寸|大小|颜色|材质|清洗|洗碗机|包装|商品|规格|库存"),
]
_RULES = [(intent, re.compile(pattern, re.IGNORECASE)) for intent, pattern in RULES]


def rule_intent(text: str) -> str:
    for intent, pattern in _RULES:
        if pattern.search(text or ""):
            return intent
    return "other"


@dataclass(frozen=True)
class RuleIntentClassifier:
    """The keyword rules behind the classifier interface (predict(texts) -> labels)."""

    def predict(self, texts: list[str]) -> np.ndarray:
        return np.asarray([rule_intent(t) for t in texts])


_CODE = re.compile(r"\S*\d{4,}\S*")


def intent_text(text: str) -> str:
    """Lower case, and every code of four or more digits (order numbers, model numbers) as one
    token: "where is my order 590001" must not read as a product question because Amazon's product
    questions are full of model numbers and Bitext's order numbers are other digits."""
    return _CODE.sub(" num ", (text or "").lower())


def tfidf_classifier(*, seed: int = 0, C: float = 10.0) -> Pipeline:
    """The baseline: word 1-2 grams and character 2-4 grams (which also serve Chinese), logistic regression."""
    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, preprocessor=intent_text)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True, preprocessor=intent_text)),
    ])
    return Pipeline([("features", features), ("model", LogisticRegression(C=C, max_iter=2000, random_state=seed))])


def chinese_classifier(*, C: float = 0.5) -> Pipeline:
    """Character 1-3 grams and a class-balanced linear SVM: with a few hundred labels, where the
    word-level baseline only learns the majority class."""
    return Pipeline([
        ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
        ("model", LinearSVC(C=C, class_weight="balanced")),
    ])


def rule_features(texts, weight: float = 1.0) -> np.ndarray:
    """One column per intent: 1 where the keyword rules give that intent (a feature, not the answer)."""
    return np.asarray([[rule_intent(t) == intent for intent in INTENTS] for t in texts], dtype=float) * weight


def english_classifier(*, seed: int = 0, C: float = 10.0, rule_weight: float = 3.0) -> Pipeline:
    """The TF-IDF baseline's features plus the keyword rules' intent: Bitext is templated, so its
    model alone misreads ordinary phrasings ("I want to complain!" as a product question); the rule
    features carry them at a cost of 0.1 point on Bitext dev (bench/assistant_eval.py)."""
    from sklearn.preprocessing import FunctionTransformer

    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, preprocessor=intent_text)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True, preprocessor=intent_text)),
        ("rules", FunctionTransformer(rule_features, kw_args={"weight": rule_weight})),
    ])
    return Pipeline([("features", features), ("model", LogisticRegression(C=C, max_iter=2000, random_state=seed))])


def chinese_keyword_classifier(*, C: float = 3.0, seed: int = 0) -> Pipeline:
    """Character 1-3 grams plus the keyword rules' intent as features, class-balanced logistic
    regression: the rules carry the rare intents a few hundred labels cannot teach, the characters
    correct the rules where JD.com customers phrase things their own way."""
    from sklearn.preprocessing import FunctionTransformer

    features = FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
        ("rules", FunctionTransformer(rule_features)),
    ])
    return Pipeline([("features", features), ("model", LogisticRegression(C=C, class_weight="balanced", max_iter=3000, random_state=seed))])


class EmbeddingIntentClassifier:
    """Logistic regression on sentence embeddings concatenated with the TF-IDF features' scores."""

    def __init__(self, encoder, *, seed: int = 0, C: float = 10.0, class_weight: str | None = None):
        self.encoder, self.seed, self.C = encoder, seed, C
        self.tfidf = tfidf_classifier(seed=seed)
        self.model = LogisticRegression(C=C, max_iter=3000, random_state=seed, class_weight=class_weight)

    def _features(self, texts: list[str]) -> np.ndarray:
        return np.hstack([self.encoder(list(texts)), self.tfidf.predict_proba(list(texts))])

    def fit(self, texts: list[str], labels: list[str]) -> EmbeddingIntentClassifier:
        self.tfidf.fit(list(texts), list(labels))
        self.model.fit(self._features(texts), list(labels))
        return self

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.model.predict(self._features(texts))
