"""One unpack path for model-folder artefacts, zip (sentiment) or tar.gz (ranker)."""
import io
import tarfile
import zipfile

import pytest

from mlcore.ml.model_folders import unpack_once


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("marker.json", "{}")
        archive.writestr("weights.bin", "zip")
    return buffer.getvalue()


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("marker.json", b"{}"), ("weights.bin", b"tar")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("content, expected", [(_zip(), "zip"), (_tar(), "tar")])
def test_unpacks_either_archive_once(tmp_path, content, expected):
    # given a zip or tar.gz artefact, when unpacked twice, then the folder holds its files and the second call leaves the first unpack alone
    folder = unpack_once(content, tmp_path / "sha", marker="marker.json")
    assert (folder / "weights.bin").read_text() == expected
    (folder / "weights.bin").write_text("kept")
    assert (unpack_once(content, folder, marker="marker.json") / "weights.bin").read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["sha"]  # no staging folder left behind
