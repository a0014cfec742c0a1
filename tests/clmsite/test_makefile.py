"""The Makefile's `browser` target: `make test` on a fresh machine installs Debian's chromium for the
browser journeys when it can, and says why they will skip when it cannot. Run with a PATH of
stand-ins (no chromium, a fake `id` and `apt-get`), so nothing is installed for real."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _stand_in(folder, name, body):
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _make_browser(tmp_path, *, uid, chromium=None):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stand_in(bin_dir, "id", f"echo {uid}")
    _stand_in(bin_dir, "apt-get", f'echo "$@" >> {tmp_path}/apt.calls')
    env = {"PATH": str(bin_dir), "CHROMIUM_PATH": str(chromium or tmp_path / "no-chromium")}
    return subprocess.run([MAKE, "-s", "-C", str(ROOT), "browser"], env=env, capture_output=True, text=True, timeout=60)


def test_missing_chromium_is_installed_with_apt_as_root(tmp_path):
    # given no chromium and root with apt-get, when `make browser` runs, then it installs Debian's chromium
    result = _make_browser(tmp_path, uid=0)
    assert result.returncode == 0, result.stderr
    assert "installing Debian's package" in result.stdout
    assert (tmp_path / "apt.calls").read_text().splitlines() == ["update -qq", "install -y -qq chromium"]


def test_missing_chromium_without_root_says_the_browser_tests_will_skip(tmp_path):
    # given no chromium and no root, when `make browser` runs, then it installs nothing and says why
    result = _make_browser(tmp_path, uid=1000)
    assert result.returncode == 0
    assert "needs root and apt-get" in result.stderr and "browser tests will skip" in result.stderr
    assert not (tmp_path / "apt.calls").exists()


def test_present_chromium_is_left_alone(tmp_path):
    # given CHROMIUM_PATH names a browser, when `make browser` runs, then nothing is installed or said
    _stand_in(tmp_path, "chromium-here", "exit 0")
    result = _make_browser(tmp_path, uid=0, chromium=tmp_path / "chromium-here")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    assert not (tmp_path / "apt.calls").exists()
