"""Drafted campaign copy: the brand voice, drafts from a language model checked by code
guardrails, and their approval into a campaign variant by staff."""
