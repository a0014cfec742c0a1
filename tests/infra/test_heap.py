import platform
import resource

import numpy as np
import pytest

from infra.heap import large_arrays_reused

SIZE = 64 * 1024 * 1024  # above glibc's largest adaptive mmap threshold (32 MiB)


@pytest.fixture(autouse=True)
def small_pages():
    """numpy asks for huge pages for large arrays; with 4 KiB pages a fresh array's faults are its size / 4 KiB."""
    from numpy._core import multiarray

    was = multiarray._set_madvise_hugepage(False)
    yield
    multiarray._set_madvise_hugepage(was)


def second_allocation_faults(size: int = SIZE) -> int:
    """Page faults of writing a `size` array right after one of that size was freed."""
    first = np.ones(size, dtype=np.uint8)
    del first
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    again = np.ones(size, dtype=np.uint8)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    del again
    return faults


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's; elsewhere the context does nothing")
def test_a_freed_large_array_is_reused_inside_and_fresh_pages_are_faulted_outside():
    # given a 64 MiB array made, freed and made again, when inside large_arrays_reused, then the second one reuses the
    # heap (almost no page faults), while outside, before and after, it faults fresh pages in again
    outside = second_allocation_faults()
    with large_arrays_reused() as applied:
        inside = second_allocation_faults()
    after = second_allocation_faults()
    assert applied and outside > 0 and after > 0
    assert inside * 4 < min(outside, after)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's; elsewhere the context does nothing")
def test_after_the_context_arrays_below_glibcs_adapted_threshold_still_reuse_the_heap():
    # given a 16 MiB array (below the 32 MiB glibc adapts to), when made again after the context has been left, then it
    # reuses the heap as it did before (setting thresholds switches glibc's adaptation off: leaving must not set 128 KiB)
    small = 16 * 1024 * 1024
    with large_arrays_reused():  # leaves glibc's thresholds where its own adaptation ends
        second_allocation_faults(small)
    before = second_allocation_faults(small)
    with large_arrays_reused():
        second_allocation_faults()
    assert before < 256 and second_allocation_faults(small) < 256  # fresh pages would be 4,096 faults


def test_the_context_yields_whether_it_applied_and_never_raises_elsewhere(monkeypatch):
    # given a C library that is not glibc, when the context is entered, then it yields False and the block runs
    monkeypatch.setattr("infra.heap._glibc", lambda: None)
    with large_arrays_reused() as applied:
        ran = True
    assert ran and applied is False
