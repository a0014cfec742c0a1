"""mlcore's tables, one module per area; every model is re-exported here for Django."""
from mlcore.models.features import CustomerFeatures, FeatureSnapshot
from mlcore.models.feedback import ProductFeedback, ReviewAlert, ReviewAspect, ReviewSentiment, ReviewSummary
from mlcore.models.predictions import CustomerScore, DriftReport
from mlcore.models.recommendations import PopularProduct, Recommendation, SimilarProduct
from mlcore.models.registry import Job, ModelVersion
from mlcore.models.segments import Segment, SegmentationRun, SegmentMembership, SegmentTransition

__all__ = [
    "CustomerFeatures", "CustomerScore", "DriftReport", "FeatureSnapshot", "Job", "ModelVersion",
    "PopularProduct", "ProductFeedback", "Recommendation", "ReviewAlert", "ReviewAspect", "ReviewSentiment", "ReviewSummary",
    "Segment", "SegmentationRun", "SegmentMembership", "SegmentTransition", "SimilarProduct",
]
