"""The support assistant: knowledge base, conversations, hand-over tickets (an area of campaigns)."""
