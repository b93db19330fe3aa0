"""Sessions on disk, so a server killed at any moment comes back with them (crash safety).

Layout under ``server.data_dir``::

    sessions/<session_id>/session.json    who and what the session is (written once, at creation)
    sessions/<session_id>/autosave.soramap  its volume, anchors and planes (every autosave interval)

Both are written with ``write_atomically`` (temporary file, fsync, rename, fsync of the folder), so
a ``kill -9`` leaves the previous file or the new one, never a torn one; the map file carries
checksums that are verified before it is used. A server starting on the same ``data_dir`` restores
every session it finds, with the same ID and owner, from the last autosave: what a session reported
saved (``SessionStats.saved_position``) is what comes back. CloseSession deletes the folder; a
drain (SIGTERM) saves everything and keeps it.

Privacy: the autosave is the session's map (the same thing SaveMap writes), never camera frames or
audio. It lives until the session is closed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..mapping import remove_stale_temporaries, write_atomically
from ._session import SessionInfo

__all__ = ["RestoredSession", "SessionFiles"]

log = logging.getLogger("sora.session")

_RECORD = "session.json"
_AUTOSAVE = "autosave.soramap"
_RECORD_FORMAT = "sora-session"
_RECORD_VERSION = 1


@dataclass(frozen=True)
class RestoredSession:
    """A session found on disk: its record, and its last autosave if there is one."""

    info: SessionInfo
    map_path: Path | None


class SessionFiles:
    """Where sessions are kept on disk (``<data_dir>/sessions``). Blocking: call from an executor."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, session_id: str) -> Path:
        return self.root / session_id

    def autosave_path(self, session_id: str) -> Path:
        return self.folder(session_id) / _AUTOSAVE

    def write_record(self, info: SessionInfo) -> None:
        record = {"format": _RECORD_FORMAT, "version": _RECORD_VERSION, "info": dataclasses.asdict(info)}
        write_atomically(self.folder(info.session_id) / _RECORD, json.dumps(record, sort_keys=True).encode())

    def delete(self, session_id: str) -> None:
        shutil.rmtree(self.folder(session_id), ignore_errors=True)

    def scan(self) -> list[RestoredSession]:
        """Every session folder with a readable record, oldest first.

        A folder whose record is missing or unreadable is skipped with a warning and left in place
        for an operator to inspect. Temporary files an interrupted save left are removed.
        """
        found: list[RestoredSession] = []
        if not self.root.is_dir():
            return found
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            remove_stale_temporaries(folder)
            try:
                record = json.loads((folder / _RECORD).read_text())
                if record.get("format") != _RECORD_FORMAT or record.get("version") != _RECORD_VERSION:
                    raise ValueError(f"format {record.get('format')!r} version {record.get('version')!r}")
                info = _info_from_json(record["info"])
                if info.session_id != folder.name:
                    raise ValueError(f"record names session {info.session_id!r}")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("not restoring %s: unreadable session record (%s)", folder, exc)
                continue
            autosave = folder / _AUTOSAVE
            found.append(RestoredSession(info, autosave if autosave.exists() else None))
        return sorted(found, key=lambda r: r.info.created_time_s)


def _info_from_json(d: dict[str, Any]) -> SessionInfo:
    fields = {f.name for f in dataclasses.fields(SessionInfo)}
    values = {k: v for k, v in d.items() if k in fields}
    values["up_world"] = tuple(float(x) for x in values.get("up_world", (0.0, 0.0, 1.0)))
    if len(values["up_world"]) != 3:
        raise ValueError("up_world must have three components")
    return SessionInfo(**values)
