"""The model registry: create a version, write its artefact, activate, roll back.

A version is `ready` only after its artefact file and sha256 are written; exactly one version
per kind is active (a conditional unique constraint). Artefacts are immutable files under
<kind>/<version>/ in the "models" storage, so object storage can replace disk by configuration.
"""
from __future__ import annotations

import hashlib
import logging
import pickle  # noqa: S403 - artefacts are written and read only by this platform
import subprocess
import tempfile
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from mlcore.models import ModelVersion

log = logging.getLogger(__name__)


class ActivationRefused(Exception):
    """The version cannot become active (not ready, or worse than the active one)."""


@lru_cache(maxsize=1)
def code_version() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def model_storage():
    return storages["models"]


def model_version_create(
    *, kind: str, params: dict | None = None, data_window_start: datetime | None = None, data_window_end: datetime | None = None
) -> ModelVersion:
    """A new `training` version with the next number for its kind (retries on a concurrent insert)."""
    if kind not in ModelVersion.Kind.values:
        raise ValueError(f"unknown model kind {kind!r}; add it to ModelVersion.Kind")
    for _ in range(5):
        try:
            with transaction.atomic():
                last = ModelVersion.objects.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0
                return ModelVersion.objects.create(
                    kind=kind, version=last + 1, params=params or {}, code_version=code_version(),
                    data_window_start=data_window_start, data_window_end=data_window_end,
                )
        except IntegrityError:
            continue
    raise RuntimeError(f"Could not allocate a version number for {kind!r}.")


@transaction.atomic
def model_version_save_artefact(*, version_id: int, filename: str, content: bytes, metrics: dict | None = None) -> ModelVersion:
    """Write the immutable artefact, record its hash and metrics, and mark the version ready."""
    return _artefact_save(version_id=version_id, filename=filename, file=ContentFile(content), sha256=hashlib.sha256(content).hexdigest(), metrics=metrics)


def model_version_save_object(*, version_id: int, obj: object, metrics: dict | None = None, filename: str = "model.pkl") -> ModelVersion:
    """Pickle `obj` as the version's artefact, through a temporary file hashed as it is written: the
    pickle is never held in memory beside the object (a million-customer recommender's is ~5 GB,
    which took the training's peak from 5.3 to 10.6 GB: docs/scale.md)."""
    with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as handle:  # a disk folder, not tmpfs: it holds the whole pickle
        hashed = _HashingWriter(handle)
        pickle.dump(obj, hashed, protocol=pickle.HIGHEST_PROTOCOL)
        handle.seek(0)
        with transaction.atomic():
            return _artefact_save(version_id=version_id, filename=filename, file=File(handle), sha256=hashed.digest.hexdigest(), metrics=metrics)


class _HashingWriter:
    """A binary file's `write` that also feeds a sha256 (what pickle.dump needs of a file)."""

    def __init__(self, handle):
        self.handle, self.digest = handle, hashlib.sha256()

    def write(self, data) -> int:
        self.digest.update(data)
        return self.handle.write(data)


def _artefact_save(*, version_id: int, filename: str, file: File, sha256: str, metrics: dict | None) -> ModelVersion:
    mv = ModelVersion.objects.select_for_update().get(pk=version_id)
    if mv.status == ModelVersion.Status.READY:
        raise ValueError(f"{mv} is ready already; artefacts are immutable.")
    storage = model_storage()
    name = f"{mv.kind}/{mv.version}/{filename}"
    if storage.exists(name):
        storage.delete(name)  # left by a crashed earlier attempt of this same training version
    mv.artefact_path = storage.save(name, file)
    mv.artefact_sha256 = sha256
    mv.metrics = metrics if metrics is not None else mv.metrics
    mv.status = ModelVersion.Status.READY
    mv.trained_at = timezone.now()
    mv.save(update_fields=["artefact_path", "artefact_sha256", "metrics", "status", "trained_at"])
    return mv


def model_version_load_bytes(*, version_id: int) -> bytes:
    """The artefact's bytes, refused when they no longer match the recorded sha256."""
    mv = ModelVersion.objects.get(pk=version_id)
    with model_storage().open(mv.artefact_path, "rb") as handle:
        content = handle.read()
    if hashlib.sha256(content).hexdigest() != mv.artefact_sha256:
        raise ValueError(f"Artefact of {mv} does not match its recorded sha256.")
    return content


def model_version_load_object(*, version_id: int) -> object:
    """The pickled artefact, read from its file after the file's sha256 is checked (two reads, never the
    whole pickle in memory beside the object)."""
    mv = ModelVersion.objects.get(pk=version_id)
    storage = model_storage()
    with storage.open(mv.artefact_path, "rb") as handle:
        if hashlib.file_digest(handle, "sha256").hexdigest() != mv.artefact_sha256:
            raise ValueError(f"Artefact of {mv} does not match its recorded sha256.")
        if _seekable(handle):
            handle.seek(0)
            return pickle.load(handle)  # noqa: S301 - our own artefact, hash-checked
    with storage.open(mv.artefact_path, "rb") as handle:  # a storage whose files cannot rewind: read it again
        return pickle.load(handle)  # noqa: S301 - our own artefact, hash-checked


def _seekable(handle) -> bool:
    try:
        return bool(handle.seekable())
    except (AttributeError, ValueError):
        return False


def model_version_path(*, version_id: int) -> Path:
    """Local path of an artefact (for libraries that load from a directory or file)."""
    mv = ModelVersion.objects.get(pk=version_id)
    return Path(model_storage().path(mv.artefact_path))


def model_version_fail(*, version_id: int, error: str) -> None:
    ModelVersion.objects.filter(pk=version_id, status=ModelVersion.Status.TRAINING).update(
        status=ModelVersion.Status.FAILED, error=error[:5000]
    )


@transaction.atomic
def model_version_activate(*, version_id: int) -> ModelVersion:
    """Make this version the active one of its kind (also the one-action rollback)."""
    mv = ModelVersion.objects.select_for_update().get(pk=version_id)
    if mv.status != ModelVersion.Status.READY:
        raise ActivationRefused(f"{mv} is not ready and cannot be activated.")
    ModelVersion.objects.filter(kind=mv.kind, is_active=True).exclude(pk=mv.pk).update(is_active=False)
    if not mv.is_active:
        mv.is_active = True
        mv.activated_at = timezone.now()
        mv.save(update_fields=["is_active", "activated_at"])
    return mv


def model_version_active(*, kind: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(kind=kind, is_active=True).first()


def model_version_rollback(*, kind: str) -> ModelVersion:
    """Activate the ready version that was active before the current one."""
    current = model_version_active(kind=kind)
    previous = (
        ModelVersion.objects.filter(kind=kind, status=ModelVersion.Status.READY, activated_at__isnull=False)
        .exclude(pk=getattr(current, "pk", None))
        .order_by("-activated_at")
        .first()
    )
    if previous is None:
        raise ActivationRefused(f"No earlier active version of {kind!r} to roll back to.")
    return model_version_activate(version_id=previous.pk)
