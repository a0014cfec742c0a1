"""mlcore's tables, one module per area; every model is re-exported here for Django."""
from mlcore.models.predictions import CustomerScore, DriftReport
from mlcore.models.recommendations import PopularProduct, Recommendation, SimilarProduct
from mlcore.models.registry import Job, ModelVersion

__all__ = ["CustomerScore", "DriftReport", "Job", "ModelVersion", "PopularProduct", "Recommendation", "SimilarProduct"]
