"""The active ranker as a re-ranker of the nightly lists: load, unpack once, hand to the list writer.

When a `ranker` ModelVersion is active and its blend weight (lambda, chosen on held-out customers
when it was trained) is above 0, the nightly precompute re-scores the hybrid's top candidates of
every customer with it; otherwise the lists are the hybrid's alone. The unpacked model folder is
a cache keyed by the artefact's sha256, next to the other unpacked transformer artefacts.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

from mlcore.ml.model_folders import unpack_once
from mlcore.ml.recommendations.ranker import resolve_device
from mlcore.ml.recommendations.rerank import CrossEncoderReranker, load_folder
from mlcore.models import ModelVersion
from mlcore.registry import services as registry

log = logging.getLogger(__name__)
KIND = "ranker"


@dataclass(frozen=True)
class ServingRanker:
    reranker: CrossEncoderReranker
    version: ModelVersion

    def as_params(self) -> dict:
        """What the recommender version records about the ranker that ordered its lists."""
        return {"model_version": self.version.pk, "version": self.version.version, "weight": self.reranker.weight,
                "candidates": settings.RANKER_CANDIDATES}


def ranker_for_serving(*, pairs: int = 0) -> ServingRanker | None:
    """The active ranker, ready to re-rank `pairs` (customer, candidate) pairs on this host; None
    when there is none to use, or when on a CPU the pairs exceed RANKER_CPU_MAX_PAIRS.

    The CPU budget exists because a cross-encoder re-scores about a hundred pairs a second a core
    (docs/recommender.md): 1M customers x 20 candidates would hold the nightly run for days.
    Above it the lists are the hybrid's and a warning says why; a GPU host has no such limit.
    """
    version = registry.model_version_active(kind=KIND)
    if version is None:
        return None
    device = resolve_device("auto")
    if device == "cpu" and pairs > settings.RANKER_CPU_MAX_PAIRS:
        log.warning("ranker v%s not used: %s pairs to re-score exceed RANKER_CPU_MAX_PAIRS=%s on a CPU host; lists are the hybrid's",
                    version.version, pairs, settings.RANKER_CPU_MAX_PAIRS)
        return None
    folder = unpack_once(registry.model_version_load_bytes(version_id=version.pk), settings.MODEL_DIR / "_unpacked" / version.artefact_sha256, marker="metrics.json")
    reranker = load_folder(folder, threads=settings.TORCH_THREADS, device=device)
    if reranker.weight <= 0:
        log.info("ranker v%s has blend weight 0 (it did not help on held-out customers): lists are not re-ranked", version.version)
        return None
    return ServingRanker(reranker=reranker, version=version)
