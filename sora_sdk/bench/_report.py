"""Benchmark results: one line per metric (measured, baseline, ratio, target, verdict), as text and JSON."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["Metric", "Report", "machine_info", "peak_rss_mb"]

#: How a ratio is judged against its target: at most, at least, or not judged (information only).
Goal = Literal["max", "min", "info"]


@dataclass
class Metric:
    """One measurement against a baseline measured in the same run.

    value, baseline : in ``unit``; ratio : value / baseline (or baseline / value where
    ``ratio_is`` says so, e.g. a speed-up); target : the ratio's bound, judged by ``goal``.
    """

    key: str
    title: str
    value: float
    baseline: float
    unit: str
    ratio: float
    target: float | None = None
    goal: Goal = "info"
    ratio_is: str = "value / baseline"
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if self.goal == "info" or self.target is None:
            return "INFO"
        ok = self.ratio <= self.target if self.goal == "max" else self.ratio >= self.target
        return "PASS" if ok else "MISS"

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'<=' if self.goal == 'max' else '>='} {self.target:g}x"


@dataclass
class Report:
    suite: str
    machine: dict[str, Any]
    setup: dict[str, Any]
    metrics: list[Metric] = field(default_factory=list)

    def add(self, metric: Metric) -> Metric:
        self.metrics.append(metric)
        return metric

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "machine": self.machine,
            "setup": self.setup,
            "metrics": {m.key: {**asdict(m), "verdict": m.verdict} for m in self.metrics},
        }

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.to_json(), indent=2, default=float) + "\n")
        return out

    def format(self) -> str:
        """The results as a fixed-width table, then one line of notes per metric."""
        head = ("metric", "measured", "baseline", "ratio", "target", "result")
        rows = [
            (
                m.title,
                _num(m.value, m.unit),
                _num(m.baseline, m.unit),
                f"{m.ratio:.2f}x",
                m.target_text(),
                m.verdict,
            )
            for m in self.metrics
        ]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines = [
            f"sora bench {self.suite}: {self.machine.get('cpu', '?')}, device {self.machine.get('device', '?')}",
            "  ".join(f"{k}={v}" for k, v in self.setup.items()),
            "",
            "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
        ]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        lines.append("")
        lines += [f"{m.key}: ratio = {m.ratio_is}. {m.note}".rstrip() for m in self.metrics]
        return "\n".join(lines)


def _num(x: float, unit: str) -> str:
    if abs(x) >= 100:
        text = f"{x:,.0f}"
    elif abs(x) >= 10:
        text = f"{x:.1f}"
    else:
        text = f"{x:.2f}"
    return f"{text} {unit}"


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, MiB (``getrusage``; kB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float:
    """Resident set size now, MiB (Linux /proc; falls back to the peak elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss_mb()
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def machine_info(device: str) -> dict[str, Any]:
    import numpy as np
    import open3d as o3d

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": f"{cpu} ({os.cpu_count()} cores)",
        "device": device,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "open3d": o3d.__version__,
    }
