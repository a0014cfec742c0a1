"""Plumbing below the apps: the Job row and its runner (`@job_task`), progress, bulk writes.

`customers`, `mlcore` and `campaigns` all use it; it imports none of them.
"""
