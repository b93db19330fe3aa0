"""The map process: ``python -m sora_sdk.maphost FD NICE MMAP_THRESHOLD_KIB THREADS SCHED_IDLE`` (started by
:class:`~sora_sdk.maphost.MapProcess`, which hands it one end of a socket pair as ``FD``)."""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from ._maps import host_main

if __name__ == "__main__":
    fd, nice, kib, threads, sched_idle = (int(a) for a in sys.argv[1:6])
    host_main(Connection(fd), nice, kib, threads, bool(sched_idle))
