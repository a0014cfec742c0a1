"""Model folders shipped as one archive artefact: unpacked once per artefact hash, atomically.

Transformer models (the sentiment model, the ranker) are folders; the registry stores each as one
archive (zip or tar.gz). A worker unpacks it into a folder named after the artefact's sha256 the
first time it needs it: into a staging folder on the same filesystem, then renamed, so two
processes unpacking at once never see a half-written folder.
"""
from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path


def unpack_once(content: bytes, folder: Path, *, marker: str) -> Path:
    """Unpack the zip or tar.gz `content` into `folder` unless `folder/marker` already exists."""
    folder = Path(folder)
    if (folder / marker).exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent))
    if zipfile.is_zipfile(io.BytesIO(content)):
        with zipfile.ZipFile(io.BytesIO(content)) as zipped:
            zipped.extractall(staging)  # noqa: S202 - a zip, not a tar: ZipFile strips absolute paths and ".." itself
    else:
        with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
            archive.extractall(staging, filter="data")
    try:
        staging.rename(folder)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another process unpacked it first
    return folder
