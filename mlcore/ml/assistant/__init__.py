"""The support assistant's Django-free parts: chunking, hybrid retrieval, intents, grounding,
guardrails and answer composition. The Django side lives in campaigns/assistant/."""
