"""mlcore's admin lives beside each area (mlcore/<area>/admin.py); importing them here registers them."""
import mlcore.feedback.admin  # noqa: F401
import mlcore.predictions.admin  # noqa: F401
import mlcore.recommendations.admin  # noqa: F401
import mlcore.registry.admin  # noqa: F401
import mlcore.segments.admin  # noqa: F401
