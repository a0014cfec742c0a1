"""Review intelligence services: scoring sentiment and aspects, alerts, training the models."""
from mlcore.services.feedback.alerts import high_value_customer_ids, review_alert_mark_done, review_alerts_raise
from mlcore.services.feedback.scoring import (
    TextSentiment,
    review_sentiment_detail,
    reviews_score,
    sentiment_score_texts,
)
from mlcore.services.feedback.training import sentiment_train, sentiment_train_all

__all__ = [
    "TextSentiment", "high_value_customer_ids", "review_alert_mark_done", "review_alerts_raise",
    "review_sentiment_detail", "reviews_score", "sentiment_score_texts", "sentiment_train", "sentiment_train_all",
]
