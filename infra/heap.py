"""Large arrays freed and allocated again inside a loop reuse the process heap instead of fresh pages.

glibc's malloc gives an array above its mmap threshold (128 KiB, adapting up to 32 MiB) pages of
its own and hands them back to the kernel when it is freed, and gives the top of the heap back
once more than the trim threshold is free there. A top-N block of 2,048 customers x 4,000 products
makes and drops some two dozen 32-65 MB arrays, so every block paid the kernel for zeroed pages
again: a fifth to a third of the top-N's CPU seconds were system time (docs/scale.md). Inside
`large_arrays_reused` both thresholds are raised, so freed blocks stay in the heap for the next
block; on leaving, glibc's defaults are set again and the free memory is given back
(`malloc_trim`). Peak memory is unchanged: the heap holds what the loop's largest block needed.
Where the C library is not glibc (musl, macOS) this does nothing.
"""
from __future__ import annotations

import contextlib
import ctypes
import platform
from collections.abc import Iterator
from functools import cache

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
GLIBC_DEFAULT_BYTES = 128 * 1024
KEPT_BYTES = 1 << 30  # arrays up to this size come from the heap; mallopt takes an int, so the trim threshold is 2x at most


@contextlib.contextmanager
def large_arrays_reused(max_array_bytes: int = KEPT_BYTES) -> Iterator[bool]:
    """Within the block, arrays up to `max_array_bytes` reuse freed heap memory; yields whether it applied."""
    libc = _glibc()
    applied = bool(libc) and libc.mallopt(M_MMAP_THRESHOLD, max_array_bytes) == 1 and libc.mallopt(M_TRIM_THRESHOLD, 2 * max_array_bytes - 1) == 1
    try:
        yield applied
    finally:
        if applied:
            libc.mallopt(M_MMAP_THRESHOLD, GLIBC_DEFAULT_BYTES)
            libc.mallopt(M_TRIM_THRESHOLD, GLIBC_DEFAULT_BYTES)
            libc.malloc_trim(0)


@cache
def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    libc = ctypes.CDLL(None)
    libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    return libc
