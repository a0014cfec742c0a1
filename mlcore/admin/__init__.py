"""mlcore's admin, one module per area; importing them here registers them."""
from mlcore.admin import recommendations, registry  # noqa: F401
