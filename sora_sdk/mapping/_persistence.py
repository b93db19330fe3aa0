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

__all__ = ["MAP_FORMAT", "load_map", "read_map", "save_map"]

MAP_FORMAT = "sora-map"
MAP_VERSION = 1
_MEMBERS = ("volume.npz", "scene.json")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_map(path: str | os.PathLike[str], mapper: Any, extra: dict[str, Any]) -> tuple[int, str]:
    """Writes ``mapper``'s volume and ``extra`` to ``path`` atomically; returns (size, sha256 of the file)."""
    blocks = mapper.volume.dump_blocks()
    buf = io.BytesIO()
    np.savez_compressed(buf, **blocks)
    members = {"volume.npz": buf.getvalue(), "scene.json": json.dumps(extra, sort_keys=True).encode()}
    manifest = {
        "format": MAP_FORMAT,
        "version": MAP_VERSION,
        "voxel_size_m": mapper.config.voxel_size_m,
        "block_resolution": mapper.config.block_resolution,
        "blocks": len(blocks["keys"]),
        "sha256": {name: _sha256(data) for name, data in members.items()},
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
                z.writestr("manifest.json", json.dumps(manifest, sort_keys=True))
                for name, data in members.items():
                    z.writestr(name, data)
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
    data = target.read_bytes()
    return len(data), _sha256(data)


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
