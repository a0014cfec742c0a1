"""Writes of campaigns, one module per area: lifecycle (create, schedule, start, pause, resume,
cancel, recurring runs), sending (claim and send batches), tracking (opens, clicks, opt-outs,
bounces) and attribution (conversions)."""
