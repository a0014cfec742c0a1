"""Large arrays freed and allocated again inside a loop reuse the process heap instead of fresh pages.

glibc's malloc gives an array above its mmap threshold (128 KiB, adapting up to 32 MiB) pages of
its own and hands them back to the kernel when it is freed, and gives the top of the heap back
once more than the trim threshold is free there. A top-N block of 2,048 customers x 4,000 products
makes and drops some two dozen 32-65 MB arrays, so every block paid the kernel for zeroed pages
again: a fifth to a third of the top-N's CPU seconds were system time (docs/scale.md). Inside
`large_arrays_reused` both thresholds are raised, so freed blocks stay in the heap for the next
block; on leaving, the thresholds glibc itself adapts to are set and the free memory is given back
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
ADAPTED_MMAP_BYTES = 32 * 1024 * 1024  # where glibc's dynamic thresholds end up after large frees (64-bit)
ADAPTED_TRIM_BYTES = 2 * ADAPTED_MMAP_BYTES
KEPT_BYTES = 1 << 29  # arrays up to this size come from the heap; the trim threshold is twice it, and mallopt takes a C int


@contextlib.contextmanager
def large_arrays_reused(max_array_bytes: int = KEPT_BYTES) -> Iterator[bool]:
    """Within the block, arrays up to `max_array_bytes` reuse freed heap memory; yields whether it applied.

    The thresholds are the process's (one context at a time: a prefork or solo worker runs one task).
    Setting them switches glibc's adaptive thresholds off for good, so on leaving they are set to
    the values adaptation reaches after large frees (32 MiB / 64 MiB), not to the 128 KiB start,
    which would hand every later array above 128 KiB fresh pages."""
    libc = _glibc()
    size = max(ADAPTED_MMAP_BYTES, min(int(max_array_bytes), (2**31 - 1) // 2))
    applied = bool(libc) and libc.mallopt(M_MMAP_THRESHOLD, size) == 1
    applied = applied and libc.mallopt(M_TRIM_THRESHOLD, 2 * size) == 1
    try:
        yield applied
    finally:
        if libc:
            libc.mallopt(M_MMAP_THRESHOLD, ADAPTED_MMAP_BYTES)
            libc.mallopt(M_TRIM_THRESHOLD, ADAPTED_TRIM_BYTES)
            libc.malloc_trim(0)


@cache
def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    libc = ctypes.CDLL(None)
    libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    return libc
