"""mlcore's tables, one module per area; every model is re-exported here for Django."""
from mlcore.models.recommendations import PopularProduct, Recommendation, SimilarProduct
from mlcore.models.registry import Job, ModelVersion

__all__ = ["Job", "ModelVersion", "PopularProduct", "Recommendation", "SimilarProduct"]
