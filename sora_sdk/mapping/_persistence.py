"""Map files: a session's TSDF volume plus its scene extras (anchors, planes), saved atomically.

A map file is a zip archive (``.soramap``) holding:

- ``manifest.json``: format name and version, voxel size, block resolution, and the SHA-256 of
  each other member;
- ``volume.npz``: the allocated TSDF blocks (keys, tsdf, weight, colour);
- ``scene.json``: what the caller passes as ``extra`` (anchors, planes …).

Saving writes a temporary file in the target folder, fsyncs it and renames it over the target,
then fsyncs the folder, so a crash leaves either the old file or the new one, never a torn one.
Loading verifies the archive, the manifest and every checksum before it touches the live map: a
torn, foreign or tampered file raises DataLossError and the current map stays as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from sora_sdk.core.errors import DataLossError, FailedPreconditionError

__all__ = [
    "MAP_FORMAT",
    "encode_map",
    "load_map",
    "read_map",
    "remove_stale_temporaries",
    "save_map",
    "write_atomically",
    "write_map",
]

MAP_FORMAT = "sora-map"
MAP_VERSION = 1
_MEMBERS = ("volume.npz", "scene.json")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Writes ``data`` to ``path`` so that a crash at any moment leaves the old file or the new one.

    A temporary file in the same folder is written and fsynced, renamed over the target, and the
    folder is fsynced so the rename itself is durable. A crash can leave a ``.<name>.*.tmp`` file
    behind (never read; ``remove_stale_temporaries`` clears them).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> int:
    """Deletes what an interrupted ``write_atomically`` left in ``folder``; returns how many."""
    removed = 0
    for tmp in Path(folder).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    """``np.savez_compressed``'s format (``np.load`` reads it) at zlib level 1 instead of 6: a room's
    85 MB of voxels compress to about the same size (mostly empty voxels) in a third of the time,
    which is CPU taken from the live streams at every autosave."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, array in arrays.items():
            with z.open(f"{name}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)
    return buf.getvalue()


def _json_bytes(extra: dict[str, Any]) -> bytes:
    """``json.dumps(extra, sort_keys=True)``, with each item of a top-level list encoded on its own: one
    ``json.dumps`` call holds the GIL until it returns (~0.6 s for 100,000 anchors), item by item the
    serving threads get their turns while a save runs in the background."""
    parts = []
    for key in sorted(extra):
        value = extra[key]
        if isinstance(value, list):
            body = "[" + ", ".join(json.dumps(item, sort_keys=True) for item in value) + "]"
        else:
            body = json.dumps(value, sort_keys=True)
        parts.append(f"{json.dumps(key)}: {body}")
    return ("{" + ", ".join(parts) + "}").encode()


def encode_map(
    blocks: dict[str, np.ndarray], voxel_size_m: float, block_resolution: int, extra: dict[str, Any]
) -> bytes:
    """The bytes of a map file holding ``blocks`` (as from ``TsdfVolume.dump_blocks``) and ``extra``."""
    members = {"volume.npz": _npz(blocks), "scene.json": _json_bytes(extra)}
    manifest = {
        "format": MAP_FORMAT,
        "version": MAP_VERSION,
        "voxel_size_m": voxel_size_m,
        "block_resolution": block_resolution,
        "blocks": len(blocks["keys"]),
        "sha256": {name: _sha256(data) for name, data in members.items()},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("manifest.json", json.dumps(manifest, sort_keys=True))
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def write_map(
    path: str | os.PathLike[str], blocks: dict[str, np.ndarray], config: Any, extra: dict[str, Any]
) -> tuple[int, str]:
    """Writes a map file atomically from dumped ``blocks``; returns (size, sha256 of the file).

    ``config`` is the mapper's MapperConfig (voxel size and block resolution go in the manifest).
    Callers dump the blocks under their map lock and write outside it, so fusion is not held up by
    compression and fsync.
    """
    data = encode_map(blocks, config.voxel_size_m, config.block_resolution, extra)
    write_atomically(path, data)
    return len(data), _sha256(data)


def save_map(path: str | os.PathLike[str], mapper: Any, extra: dict[str, Any]) -> tuple[int, str]:
    """Writes ``mapper``'s volume and ``extra`` to ``path`` atomically; returns (size, sha256 of the file)."""
    return write_map(path, mapper.volume.dump_blocks(), mapper.config, extra)


def read_map(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any]]:
    """Reads and verifies a map file: (manifest, blocks, extra). Raises DataLossError on any damage."""
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as z:
            manifest = json.loads(z.read("manifest.json"))
            if manifest.get("format") != MAP_FORMAT:
                raise DataLossError(f"{p.name} is not a Sora map", reason="MAP_FOREIGN")
            if manifest.get("version") != MAP_VERSION:
                raise DataLossError(f"{p.name} has map format version {manifest.get('version')}", reason="MAP_VERSION")
            members = {name: z.read(name) for name in _MEMBERS}
    except DataLossError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise DataLossError(
            f"{p.name} is not a readable Sora map ({type(exc).__name__})", reason="MAP_CORRUPT"
        ) from None
    for name, data in members.items():
        if manifest.get("sha256", {}).get(name) != _sha256(data):
            raise DataLossError(f"{p.name}: checksum mismatch in {name}", reason="MAP_CHECKSUM")
    with np.load(io.BytesIO(members["volume.npz"])) as npz:
        blocks = {k: npz[k] for k in ("keys", "tsdf", "weight", "color")}
    return manifest, blocks, json.loads(members["scene.json"])


def load_map(path: str | os.PathLike[str], mapper: Any) -> tuple[dict[str, Any], Any]:
    """Verifies ``path`` and only then replaces ``mapper``'s volume with it.

    Returns the extras and the MeshUpdate that turns the old chunks into the loaded ones.
    """
    manifest, blocks, extra = read_map(path)
    if abs(float(manifest["voxel_size_m"]) - mapper.config.voxel_size_m) > 1e-9 or int(
        manifest["block_resolution"]
    ) != int(mapper.config.block_resolution):
        raise FailedPreconditionError(
            f"map has {manifest['voxel_size_m']} m voxels x{manifest['block_resolution']}, "
            f"the session uses {mapper.config.voxel_size_m} m x{mapper.config.block_resolution}",
            reason="MAP_INCOMPATIBLE",
        )
    return extra, mapper.restore(blocks)
