"""Thread priority and CPU placement: background work yields the CPU to the threads that serve streams.

Linux schedules threads one by one, so a thread's niceness and CPU affinity are its own (threads it
starts inherit them). Niceness can be raised without privileges but not lowered, so helpers here only
raise it. Affinity is set for every thread of the process at once (:func:`pin_process`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["format_cpu_list", "niceness_target", "parse_cpu_list", "pin_process", "pinned", "raise_thread_niceness"]


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


def parse_cpu_list(spec: str) -> set[int]:
    """``"0-3,6"`` -> ``{0, 1, 2, 3, 6}``: the kernel's CPU-list format, as ``taskset -c`` and cpusets take it.

    Raises ValueError naming what is wrong; an empty ``spec`` is an empty set.
    """
    cpus: set[int] = set()
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise ValueError(f"{part!r} is not a CPU number or range (a list looks like 0-3,6)") from None
        if first < 0 or last < first:
            raise ValueError(f"{part!r} is not a CPU range (first <= last, both >= 0)")
        cpus.update(range(first, last + 1))
    return cpus


def format_cpu_list(cpus: set[int] | frozenset[int]) -> str:
    """The inverse of :func:`parse_cpu_list`, with runs folded: ``{0, 1, 2, 6}`` -> ``"0-2,6"``."""
    runs: list[list[int]] = []
    for c in sorted(cpus):
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def pin_process(cpus: set[int]) -> set[int]:
    """Moves every thread of this process onto ``cpus`` (Linux); threads and processes started later
    inherit it. Returns the affinity the calling thread had, to pass back to undo it.

    A process may move onto any CPU of its cpuset, whatever affinity it inherited (``taskset`` on a
    parent). Raises ValueError when ``cpus`` is empty, names a CPU that is not online, or one the cpuset
    (a container's limit) withholds; OSError where there is no CPU affinity (not Linux).
    """
    if not hasattr(os, "sched_setaffinity"):
        raise OSError("CPU affinity needs Linux")
    if not cpus:
        raise ValueError("no CPUs given")
    online_file = Path("/sys/devices/system/cpu/online")
    online = parse_cpu_list(online_file.read_text()) if online_file.exists() else set(range(os.cpu_count() or 1))
    if not cpus <= online:
        raise ValueError(f"CPU {format_cpu_list(cpus - online)} is not online (online: {format_cpu_list(online)})")
    before = os.sched_getaffinity(0)
    try:
        _set_every_thread(cpus)
    except OSError:  # EINVAL: the cpuset allows none of them (threads moved before it go back)
        _set_every_thread(before)
        raise ValueError(f"CPU {format_cpu_list(cpus)} is not available to this process (its cpuset)") from None
    got = os.sched_getaffinity(0)
    if got != cpus:  # the kernel kept only those the cpuset allows
        _set_every_thread(before)
        raise ValueError(
            f"CPU {format_cpu_list(cpus - got)} is not available to this process (its cpuset allows "
            f"{format_cpu_list(got)} of them)"
        )
    return set(before)


@contextlib.contextmanager
def pinned(cpus: set[int]) -> Iterator[None]:
    """:func:`pin_process` for the ``with`` block; afterwards every thread (those started inside too)
    gets the calling thread's affinity from before."""
    before = pin_process(cpus)
    try:
        yield
    finally:
        _set_every_thread(before)


def _set_every_thread(cpus: set[int]) -> None:
    for tid in sorted(int(t) for t in os.listdir("/proc/self/task")):
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(tid, cpus)
