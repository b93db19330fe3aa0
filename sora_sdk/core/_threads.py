"""Thread priority: background work yields the CPU to the threads that serve streams.

Linux schedules threads one by one, so a thread's niceness is its own (threads it starts inherit
it). Niceness can be raised without privileges but not lowered, so helpers here only raise it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading

__all__ = ["niceness_target", "raise_thread_niceness"]


def niceness_target(nice: int) -> int | None:
    """The niceness ``nice`` above the calling thread's (at most 19); None where there is nothing to
    do (``nice`` <= 0, or not Linux)."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return None
    return min(19, os.getpriority(os.PRIO_PROCESS, 0) + int(nice))


def raise_thread_niceness(target: int | None) -> bool:
    """Raise the calling thread's niceness to ``target`` if it is lower; False when refused."""
    if target is None:
        return True
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        if os.getpriority(os.PRIO_PROCESS, tid) < target:
            os.setpriority(os.PRIO_PROCESS, tid, target)
        return True
    return False
