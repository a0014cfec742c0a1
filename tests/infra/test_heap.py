import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from infra.heap import large_arrays_reused

ROOT = Path(__file__).resolve().parents[2]
# Run in a fresh interpreter: how a freed array comes back depends on everything the process freed
# before (a long test run's heap can hand a 64 MiB array back from its top without new pages).
PROBE = """
import json, resource
import numpy as np
from numpy._core import multiarray
from infra.heap import large_arrays_reused
multiarray._set_madvise_hugepage(False)  # 4 KiB pages: a fresh array faults size / 4 KiB times

def second_allocation_faults(size):
    first = np.ones(size, dtype=np.uint8)
    del first
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    again = np.ones(size, dtype=np.uint8)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    del again
    return faults

big, small = 64 * 1024 * 1024, 16 * 1024 * 1024
out = {"outside": second_allocation_faults(big)}
with large_arrays_reused() as applied:
    out["inside"] = second_allocation_faults(big)
out.update(applied=applied, after=second_allocation_faults(big), small_after=second_allocation_faults(small))
print(json.dumps(out))
"""


def probe() -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's; elsewhere the context does nothing")
def test_a_freed_large_array_is_reused_inside_and_glibcs_adapted_thresholds_hold_after():
    # given a fresh process making, freeing and making again a 64 MiB array (above the 32 MiB glibc adapts to at most),
    # when outside, inside and after large_arrays_reused, then only inside is it reused (no page faults); after leaving,
    # a 16 MiB array still reuses the heap (leaving must not set glibc's 128 KiB start: that switches adaptation off)
    faults = probe()
    fresh = 64 * 1024 * 1024 // 4096
    assert faults["applied"] and faults["outside"] > fresh // 2 and faults["after"] > fresh // 2
    assert faults["inside"] < 256 and faults["small_after"] < 256


def test_the_context_yields_whether_it_applied_and_never_raises_elsewhere(monkeypatch):
    # given a C library that is not glibc, when the context is entered, then it yields False and the block runs
    monkeypatch.setattr("infra.heap._glibc", lambda: None)
    with large_arrays_reused() as applied:
        ran = True
    assert ran and applied is False
