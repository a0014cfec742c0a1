"""Campaign copy drafted by a language model: prompts built from aggregates only, and the code
guardrails every draft must pass before a staff member may approve it (no Django here)."""
