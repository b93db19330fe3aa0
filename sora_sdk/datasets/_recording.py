"""Sora recordings: every sensor message of a stream, byte for byte, replayable bit-exact.

Layout: the magic line ``SORAREC1\\n``, one JSON header line (stream name, session options,
creation time), then records of ``uint32 little-endian length`` + the serialized
``sora.v1.StreamSensorDataRequest``. The reader yields the message bytes; the client decodes and
re-sends them unchanged. A torn tail (a crash mid-write) ends the recording at the last whole record.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["MAGIC", "RecordingReader", "RecordingWriter", "is_recording"]

MAGIC = b"SORAREC1\n"
_LEN = struct.Struct("<I")
MAX_RECORD_BYTES = 256 << 20


def is_recording(path: str | os.PathLike[str]) -> bool:
    p = Path(path)
    if not p.is_file():
        return False
    with open(p, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


@dataclass
class RecordingWriter:
    """Appends serialized messages; ``header`` is free-form JSON-able metadata."""

    path: Path
    header: dict[str, Any] = field(default_factory=dict)
    _file: BinaryIO | None = None
    count: int = 0

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")
        self._file.write(MAGIC)
        self._file.write(json.dumps(self.header, sort_keys=True).encode() + b"\n")

    def write(self, message: bytes) -> None:
        assert self._file is not None, "recording is closed"
        self._file.write(_LEN.pack(len(message)))
        self._file.write(message)
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RecordingReader:
    """Iterates the serialized messages of a recording, in order."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                raise ValueError(f"{self.path} is not a Sora recording (bad magic)")
            self.header: dict[str, Any] = json.loads(f.readline())
            self._start = f.tell()

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as f:
            f.seek(self._start)
            while True:
                head = f.read(_LEN.size)
                if len(head) < _LEN.size:
                    return
                (n,) = _LEN.unpack(head)
                if n > MAX_RECORD_BYTES:
                    raise ValueError(f"{self.path}: record of {n} bytes exceeds the limit")
                body = f.read(n)
                if len(body) < n:
                    return  # torn tail
                yield body
