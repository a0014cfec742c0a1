"""mlcore's Celery tasks, one module per area; importing them here registers them.

Names are stable ("mlcore.<name>", GPU work "mlcore.gpu.<name>"); tests/mlcore/test_tasks.py
checks that no deployed name changes.
"""
from mlcore.tasks import base, feedback, jobs, predictions, recommendations, segments  # noqa: F401
