"""The ranker pipeline inside the platform: export pairs, fine-tune Django-free, register a version.

Pairs come from a recommender fitted before the last RANKER_LABEL_DAYS of data (with the active
recommender's hybrid weights), labelled by what each customer bought in those days. They are
written to an export file and trained by mlcore.ml.recommendations.ranker_train.run, the same code a
GPU host runs from the file alone. The fine-tuned model folder is stored as a tar.gz artefact of
a ModelVersion of kind "ranker", activated only when its blend weight (lambda, chosen on held-out
customers' pairs) is above 0, i.e. when adding it to the hybrid helped there; the nightly lists
are then re-ranked with it (mlcore.recommendations.ranker_serving).
"""
from __future__ import annotations

import dataclasses
import io
import tarfile
import tempfile
from pathlib import Path

import pandas as pd
from django.conf import settings

from infra import jobs
from mlcore.ml.recommendations.hybrid import HybridWeights
from mlcore.ml.recommendations.interactions import time_split, truth_sets
from mlcore.ml.recommendations.model import fit_recommender
from mlcore.ml.recommendations.ranker import RankerConfig, resolve_device
from mlcore.ml.recommendations.ranker_data import build_pairs, export_pairs, merge_pairs
from mlcore.ml.recommendations.ranker_train import run as run_training
from mlcore.ml.recommendations.tifu import TifuConfig
from mlcore.models import ModelVersion
from mlcore.recommendations.services import (
    embedding_model_path,
    product_embeddings,
    recommender_config,
    recommender_inputs,
)
from mlcore.registry import services as registry

KIND = "ranker"
LABEL_DAYS = 30


class NoRecommender(Exception):
    """No active recommender (or no purchases in the label window) to learn re-ranking from."""


def ranker_config(*, steps: int | None) -> RankerConfig:
    """Full settings on a GPU (bf16, batch 256, length 128); small ones on the CPU.

    The CPU settings are those measured in docs/recommender.md: length 48, batch 32, lr 1e-4 with
    10% warmup, embeddings and the lowest 3 layers frozen, 700 steps (about one pass over the pairs).
    """
    if resolve_device("auto") == "cuda":
        return RankerConfig(max_len=128, batch_size=256, steps=steps or 2000, device="cuda")
    return RankerConfig(max_len=48, batch_size=32, learning_rate=1e-4, steps=steps or 700, device="cpu",
                        threads=settings.TORCH_THREADS, freeze_layers=3)


def ranker_pairs(export_path: Path) -> tuple[Path, dict]:
    """Write the training pairs of the current data to `export_path`; returns it and a summary."""
    active = registry.model_version_active(kind="recommender")
    if active is None:
        raise NoRecommender("train the recommender first: the ranker re-ranks its candidates")
    lines, products = recommender_inputs()
    _, embeddings = product_embeddings(products)
    cutoff = lines["placed_at"].max() - pd.Timedelta(days=LABEL_DAYS)
    before, after = time_split(lines, cutoff)
    if before.empty or after.empty:
        raise NoRecommender(f"need purchases before and within the last {LABEL_DAYS} days")
    weights = HybridWeights(**active.params.get("weights", {}))
    tuned_tifu = (active.params.get("tuned") or {}).get("tifu")  # the active version's TIFU-KNN settings (issue 18)
    config = recommender_config(fast=True)
    if tuned_tifu:
        config = dataclasses.replace(config, tifu=TifuConfig(**tuned_tifu))
    model = fit_recommender(before, products, embeddings, config=config, weights=weights, as_of=cutoff)
    truth = truth_sets(after, model.data)
    pairs = merge_pairs(build_pairs(model, truth), build_pairs(model, truth, exclude_history=True))
    if not len(pairs.labels):
        raise NoRecommender("no customer has both a bought and a not-bought candidate in the label window")
    summary = {"pairs": int(len(pairs.labels)), "positives": int(pairs.labels.sum()), "cutoff": cutoff.isoformat()}
    return export_pairs(pairs, export_path), summary


def ranker_train(*, job_id: int | None = None, steps: int | None = None) -> ModelVersion:
    config = ranker_config(steps=steps)
    with tempfile.TemporaryDirectory() as tmp:
        export, summary = ranker_pairs(Path(tmp) / "pairs.npz")
        if job_id:
            jobs.job_progress(job_id=job_id, total=config.steps, message=f"training on {summary['pairs']} pairs")
        version = registry.model_version_create(kind=KIND, params={"config": config.as_dict(), "data": summary})
        try:
            metrics = run_training(export, Path(tmp) / "model", config, model_path=settings.RANKER_MODEL_PATH or embedding_model_path())
            content = _tar_folder(Path(tmp) / "model")
            version = registry.model_version_save_artefact(version_id=version.pk, filename="ranker.tar.gz", content=content, metrics=metrics)
        except Exception as exc:
            registry.model_version_fail(version_id=version.pk, error=str(exc))
            raise
    if (metrics.get("weight") or 0) > 0:
        version = registry.model_version_activate(version_id=version.pk)
    return version


def _tar_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)
    return buffer.getvalue()
