"""mlcore's admin, one module per area; importing them here registers them."""
from mlcore.admin import feedback, predictions, recommendations, registry, segments  # noqa: F401
