"""mlcore's admin, one module per area; importing them here registers them."""
from mlcore.admin import feedback, registry  # noqa: F401
