"""glibc's allocator, tuned for a long-running server that allocates large numpy arrays on many threads.

glibc serves an allocation above ``M_MMAP_THRESHOLD`` with its own ``mmap`` and returns it to the
system on free, but by default it raises that threshold (up to 32 MiB) each time such a block is
freed, so that later blocks of that size come from the heap arenas instead (each thread that
allocates gets an arena of its own, up to eight per core). Map updates allocate and free arrays of a
few hundred KiB to tens of MiB on several threads, and the arenas keep what the largest of them
needed: a server's RSS creeps up for many minutes. Setting the threshold fixes it (and turns the
adjustment off): large arrays are mapped and unmapped every time, at the cost of page faults when
they are first written.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["set_mmap_threshold"]

_M_MMAP_THRESHOLD = -3  # malloc.h


def set_mmap_threshold(kib: int) -> bool:
    """Fix glibc's ``M_MMAP_THRESHOLD`` at ``kib`` KiB for this process; False where it cannot (not
    glibc, ``kib`` <= 0, or refused: glibc caps it at its largest heap size)."""
    if kib <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, int(kib) * 1024))
