"""mlcore's Celery tasks live beside each area (mlcore/<area>/tasks.py); importing them here registers them.

Names are stable ("mlcore.<name>", GPU work "mlcore.gpu.<name>"); tests/clmsite/test_task_names.py
checks that no deployed name changes.
"""
import mlcore.features.tasks  # noqa: F401
import mlcore.feedback.tasks  # noqa: F401
import mlcore.predictions.tasks  # noqa: F401
import mlcore.recommendations.tasks  # noqa: F401
import mlcore.segments.tasks  # noqa: F401
