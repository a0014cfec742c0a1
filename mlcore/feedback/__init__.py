"""Review intelligence: sentiment and aspects of reviews, topics, alerts, the sentiment models."""
