"""Review intelligence services: scoring sentiment and aspects, alerts, training the models."""
from mlcore.feedback.services.alerts import high_value_customer_ids, review_alert_mark_done, review_alerts_raise
from mlcore.feedback.services.scoring import (
    ScoringPlan,
    TextSentiment,
    review_counts_sum,
    review_sentiment_detail,
    reviews_score,
    reviews_score_plan,
    reviews_score_range,
    sentiment_score_texts,
)
from mlcore.feedback.services.training import sentiment_train, sentiment_train_all

__all__ = [
    "ScoringPlan", "TextSentiment", "high_value_customer_ids", "review_alert_mark_done", "review_alerts_raise", "review_counts_sum",
    "review_sentiment_detail", "reviews_score", "reviews_score_plan", "reviews_score_range", "sentiment_score_texts",
    "sentiment_train", "sentiment_train_all",
]
