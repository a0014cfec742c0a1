"""Writes of the support assistant: knowledge (articles, versions, index), conversations
(replies, thumbs) and hand-over (tickets, staff replies)."""
