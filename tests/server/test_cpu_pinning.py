"""``server.cpus``: ``sora serve`` runs on the CPUs it is given, its map process too (Linux).

Why it matters is measured by ``sora bench load`` (docs/performance.md): sharing its cores with other
work made the event loop wait for a CPU and set the p99. Here: that the CPU lists parse, that every
thread moves (those started later too) and comes back, and that a real ``sora serve`` and its map
process end up on the CPU named, or refuse to start with the field named.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sora_sdk.bench._load import _tree
from sora_sdk.client import SoraClient
from sora_sdk.core._threads import format_cpu_list, parse_cpu_list, pin_process, pinned
from tests.server.test_crash_safety import server_process

linux = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux's")


def _threads_cpus(pid: int | str = "self") -> dict[int, set[int]]:
    """Every thread of a process and the CPUs it may run on, from /proc."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            text = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        except FileNotFoundError:  # ended meanwhile
            continue
        line = next(x for x in text.splitlines() if x.startswith("Cpus_allowed_list:"))
        out[int(tid)] = parse_cpu_list(line.split(":", 1)[1].strip())
    return out


def test_cpu_lists_parse_and_fold() -> None:
    assert parse_cpu_list("0-3,6") == {0, 1, 2, 3, 6}
    assert parse_cpu_list(" 2 , 0 ") == {0, 2}
    assert parse_cpu_list("") == set()
    assert format_cpu_list({6, 0, 1, 2, 3, 9, 10}) == "0-3,6,9-10"
    assert parse_cpu_list(format_cpu_list({5, 1, 2})) == {1, 2, 5}
    for bad in ("x", "3-1", "-1", "1-", "0;1"):
        with pytest.raises(ValueError, match="CPU"):
            parse_cpu_list(bad)


@linux
@pytest.mark.skipif(len(getattr(os, "sched_getaffinity", lambda _: ())(0)) < 2, reason="needs two CPUs")
def test_every_thread_moves_and_comes_back() -> None:
    before = os.sched_getaffinity(0)
    cpu = max(before)
    stop = threading.Event()
    early = threading.Thread(target=stop.wait, name="started-before")
    early.start()
    try:
        with pinned({cpu}):
            late = threading.Thread(target=stop.wait, name="started-inside")
            late.start()
            inside = _threads_cpus()
            assert early.native_id in inside and late.native_id in inside
            assert all(cpus == {cpu} for cpus in inside.values()), inside
        after = _threads_cpus()
        assert all(cpus == before for cpus in after.values()), after  # the thread started inside too
    finally:
        stop.set()
        early.join()
        late.join()


@linux
def test_a_cpu_that_is_not_online_is_refused_and_nothing_moves() -> None:
    before = _threads_cpus()
    with pytest.raises(ValueError, match="not online"):
        pin_process({10_000})
    with pytest.raises(ValueError, match="no CPUs"):
        pin_process(set())
    assert _threads_cpus() == before


@linux
async def test_sora_serve_and_its_map_process_run_on_the_cpus_named(tmp_path: Path) -> None:
    cpu = max(os.sched_getaffinity(0))
    async with server_process(tmp_path, "--server-cpus", str(cpu)) as server:
        async with SoraClient(server.address) as client:
            session = await client.create_session()  # the map process holds its map from here
            assert (await session.refresh()).session_id == session.session_id
        assert server.proc is not None
        _, *children = _tree(server.proc.pid)
        maps = [c for c in children if b"sora_sdk.maphost" in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert len(maps) == 1, "the map process runs beside the server"
        for _ in range(100):  # the map process starts its threads as work reaches it
            if len(_threads_cpus(maps[0])) > 2:
                break
            await asyncio.sleep(0.1)
        for pid in [server.proc.pid, *maps]:
            threads = _threads_cpus(pid)
            assert len(threads) > 2 and all(cpus == {cpu} for cpus in threads.values()), (pid, threads)


def test_sora_serve_refuses_cpus_it_cannot_have(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sora_sdk.cli.main", "serve", "--port", "0", "--server-data-dir", str(tmp_path),
         "--server-cpus", "0-2x"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode != 0
    assert "server.cpus '0-2x'" in out.stderr and "CPU number or range" in out.stderr, out.stderr
