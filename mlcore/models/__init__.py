"""mlcore's tables, one module per area; every model is re-exported here for Django."""
from mlcore.models.feedback import ProductFeedback, ReviewAlert, ReviewAspect, ReviewSentiment
from mlcore.models.registry import Job, ModelVersion

__all__ = ["Job", "ModelVersion", "ProductFeedback", "ReviewAlert", "ReviewAspect", "ReviewSentiment"]
