"""mlcore's tables live beside each area (mlcore/<area>/models.py); every model is re-exported here for Django."""
from mlcore.features.models import CustomerFeatures, FeatureSnapshot
from mlcore.feedback.models import ProductFeedback, ReviewAlert, ReviewAspect, ReviewSentiment, ReviewSummary
from mlcore.predictions.models import CustomerScore, CustomerUplift, DriftReport
from mlcore.recommendations.models import PopularProduct, RecommendationList, SimilarProduct
from mlcore.registry.models import ModelVersion
from mlcore.segments.models import Segment, SegmentationRun, SegmentMembership, SegmentTransition

__all__ = [
    "CustomerFeatures", "CustomerScore", "CustomerUplift", "DriftReport", "FeatureSnapshot", "ModelVersion",
    "PopularProduct", "ProductFeedback", "RecommendationList", "ReviewAlert", "ReviewAspect", "ReviewSentiment", "ReviewSummary",
    "Segment", "SegmentationRun", "SegmentMembership", "SegmentTransition", "SimilarProduct",
]
