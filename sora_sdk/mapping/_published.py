"""The published voxels: the copy of the TSDF that the mesh chunks are made from.

Why a copy: a revisit frame nudges the voxels of a third of a room, most by far less than a
sensor's noise, and re-meshing every block it touched is what makes an update cost about as much
as a full extraction on a room-sized map. Skipping a block whose voxels barely changed would break
the welding, though: a block's mesh reads a one-voxel apron from its +x/+y/+z neighbours
(:mod:`._mesher`), so a re-meshed neighbour would read the skipped block's *current* voxels while
the skipped block's own chunk still shows the old ones, and the two would disagree on their
shared face (cracks).

So when ``MapperConfig.remesh_tolerance_voxels`` > 0 the mesher reads this copy, never the live
volume. A voxel of the copy is updated (*published*) only when the live voxel differs from it by
more than the tolerance: its signed distance by more than ``remesh_tolerance_voxels`` voxels, its
observed state (weight at or above ``weight_threshold``, or above 0) at all, or a colour channel by
more than :data:`COLOR_TOLERANCE` levels. Only the blocks that read a published voxel (the block
itself, and a neighbour whose apron holds it) are re-meshed. The chunks are then exactly the
global marching-cubes surface of this copy, crack-free as before, and each voxel they were made
from is within the tolerance of the live one. Voxels that differ by less wait, and are published
with the next larger change or by an exact update (:meth:`PublishedVoxels.publish` with
``exact=True``), which leaves no difference but colour rounding.

Per voxel the copy holds tsdf float32 (copied exactly, so a freshly published block meshes
exactly like the live volume), flags uint8 (bit 0: weight >= ``weight_threshold``; bit 1:
weight > 0) and colour uint8 RGB (rounded): 8 B against the live grid's 20 B, so 32 KiB per
16^3 block. Rows are allocated as blocks are published and freed when their block is evicted, so
the copy never holds more blocks than the volume's budget.
"""

from __future__ import annotations

import numpy as np

from sora_sdk.core.config import MapperConfig

from ._keys import decode_keys, encode_keys
from ._marching_cubes import APRON_OFFSETS, BlockStores
from ._volume import TsdfVolume

__all__ = ["COLOR_TOLERANCE", "OBSERVED", "SEEN", "PublishedVoxels"]

#: Flag bit: the voxel was observed at least ``weight_threshold`` times (cells are meshed only
#: where all eight corners have it).
OBSERVED = np.uint8(1)
#: Flag bit: the voxel was observed at all (the normals' finite differences use such voxels).
SEEN = np.uint8(2)
#: A colour channel is published when it moved by more than this many levels (of 255) and the
#: tolerance is not 0.
COLOR_TOLERANCE = 4

# Of the blocks whose voxels a block's mesh reads (APRON_OFFSETS), the part of each neighbour it
# reads: the first two layers along each axis where the offset is 1 (samples r and r + 1: the apron,
# and the normals' stencil at sample r).
# Blocks published per batch: bounds the temporary arrays to ~(16^3 * 40 B) * batch = 40 MB.
_BATCH = 256


def _codes(keys: np.ndarray) -> list[int]:
    """(k, 3) int block keys -> k Python ints (dictionary keys, faster than tuples)."""
    return encode_keys(keys).tolist()


class PublishedVoxels:
    """The voxels the chunks were meshed from, per block (see the module docstring).

    Thread-compatible, not thread-safe: the :class:`~sora_sdk.mapping.Mapper` serialises calls.
    """

    def __init__(self, config: MapperConfig) -> None:
        self.config = config
        self._res = r = int(config.block_resolution)
        self._budget = int(config.block_budget)
        # The tolerance in the volume's normalised tsdf units (sdf / sdf_trunc).
        self._tsdf_tolerance = float(config.remesh_tolerance_voxels) / float(config.sdf_trunc_voxels)
        self._threshold = np.float32(config.weight_threshold)
        cap = min(64, self._budget)
        self._tsdf = np.zeros((cap, r, r, r), np.float32)
        self._flags = np.zeros((cap, r, r, r), np.uint8)
        self._color = np.zeros((cap, r, r, r, 3), np.uint8)
        self._rows: dict[int, int] = {}  # key code -> row
        self._free: list[int] = list(range(cap - 1, -1, -1))
        self._stale: dict[int, np.ndarray] = {}  # key code -> (3,) int32 key, live differs within the tolerance

    # ------------------------------------------------------------------ properties

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def nbytes(self) -> int:
        """Bytes held by the copy's arrays (allocated rows, used or free)."""
        return int(self._tsdf.nbytes + self._flags.nbytes + self._color.nbytes)

    @property
    def stale_count(self) -> int:
        """Blocks changed since they were last published exactly (their live voxels may differ from
        the published ones, by less than the tolerance)."""
        return len(self._stale)

    def keys(self) -> np.ndarray:
        """(n, 3) int32 keys of the published blocks."""
        return decode_keys(np.fromiter(self._rows, dtype=np.int64, count=len(self._rows)))

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """(k, 3) int keys -> (k,) bool, True where the block is published."""
        return self._lookup(np.asarray(keys).reshape(-1, 3)) >= 0

    def clear(self) -> None:
        """Forget every block (the arrays are kept for reuse)."""
        self._rows.clear()
        self._stale.clear()
        self._free = list(range(len(self._tsdf) - 1, -1, -1))

    # ------------------------------------------------------------------ publishing

    def publish(self, volume: TsdfVolume, keys: np.ndarray, *, exact: bool = False) -> np.ndarray:
        """Bring the copy of the (k, 3) blocks ``keys`` within the tolerance of ``volume``.

        Blocks no longer allocated in the volume are dropped (they read as unobserved, like
        unallocated ones). With ``exact``, every difference is published, in these blocks and in
        every block left stale before. Returns the (m, 3) int32 unique keys of the blocks whose
        mesh reads a voxel that changed (the blocks to re-mesh; some may not be allocated).
        """
        keys = np.asarray(keys, dtype=np.int32).reshape(-1, 3)
        if exact and self._stale:
            keys = np.concatenate([keys, np.array(list(self._stale.values()), dtype=np.int32).reshape(-1, 3)])
            self._stale.clear()
        if len(keys) == 0:
            return np.zeros((0, 3), dtype=np.int32)
        keys = np.unique(keys, axis=0)
        present = volume.contains(keys)
        out: list[np.ndarray] = []
        gone = keys[~present]
        rows = self._lookup(gone)
        if (rows >= 0).any():
            dropped, rows = gone[rows >= 0], rows[rows >= 0]
            # What the dependents read now reads as zeros: re-mesh those that read anything.
            nonzero = (self._flags[rows] != 0) | (self._tsdf[rows] != 0) | (self._color[rows] != 0).any(axis=-1)
            out.append(self._dependents(dropped, nonzero))
            self.drop(dropped)
        live = keys[present]
        for start in range(0, len(live), _BATCH):
            out.append(self._publish_batch(volume, live[start : start + _BATCH], exact))
        if not out:
            return np.zeros((0, 3), dtype=np.int32)
        return np.unique(np.concatenate(out), axis=0).astype(np.int32)

    def _publish_batch(self, volume: TsdfVolume, keys: np.ndarray, exact: bool) -> np.ndarray:
        vox = volume.block_samples(keys, apron=0, names=("tsdf", "weight", "color"))
        tsdf, weight = vox["tsdf"], vox["weight"]
        flags = (weight >= self._threshold).view(np.uint8) | ((weight > 0).view(np.uint8) << 1)
        color = np.rint(np.clip(vox["color"], 0.0, 255.0, out=vox["color"]), out=vox["color"]).astype(np.uint8)
        rows, new = self._allocate(keys)
        old_tsdf, old_flags, old_color = self._tsdf[rows], self._flags[rows], self._color[rows]
        tolerance = 0.0 if exact else self._tsdf_tolerance
        color_tolerance = 0 if exact or tolerance <= 0 else COLOR_TOLERANCE
        publish = flags != old_flags
        if tolerance > 0:
            publish |= np.abs(tsdf - old_tsdf) > np.float32(tolerance)
        else:
            publish |= tsdf != old_tsdf
        for ch in range(3):  # per channel: numpy reduces a trailing axis of 3 slowly
            a, b = color[..., ch], old_color[..., ch]
            publish |= (np.maximum(a, b) - np.minimum(a, b)) > color_tolerance
        np.copyto(old_tsdf, tsdf, where=publish)
        np.copyto(old_flags, flags, where=publish)
        np.copyto(old_color, color, where=publish[..., None])
        self._tsdf[rows], self._flags[rows], self._color[rows] = old_tsdf, old_flags, old_color
        # Blocks whose live voxels may still differ: every block not published exactly but a new
        # one (each of its observed voxels changed state, so all were published). Finding out
        # would cost another pass; the exact update that clears them compares them anyway.
        codes = _codes(keys)
        for i, code in enumerate(codes):
            if tolerance > 0 and not new[i]:
                self._stale[code] = keys[i]
            else:
                self._stale.pop(code, None)
        return self._dependents(keys, publish)

    def _dependents(self, keys: np.ndarray, changed: np.ndarray) -> np.ndarray:
        """Keys of the blocks whose mesh reads a voxel marked in ``changed`` (k, r, r, r) of ``keys``."""
        out = []
        for offset in APRON_OFFSETS:
            part = changed[(slice(None), *(slice(0, 2) if o else slice(None) for o in offset))]
            hit = part.reshape(len(keys), -1).any(axis=1)
            out.append(keys[hit] - offset)
        return np.concatenate(out)

    def drop(self, keys: np.ndarray) -> None:
        """Forget the (k, 3) blocks ``keys`` (evicted); unknown keys are ignored."""
        for code in _codes(np.asarray(keys).reshape(-1, 3)):
            row = self._rows.pop(code, None)
            if row is not None:
                self._free.append(row)
            self._stale.pop(code, None)

    def _allocate(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(k,) int64 rows of the (k, 3) unique keys, new rows (zeros: unobserved) for new keys;
        (k,) bool, True for the new ones."""
        codes = _codes(keys)
        rows = np.array([self._rows.get(c, -1) for c in codes], dtype=np.int64)
        new = np.flatnonzero(rows < 0)
        if len(new) > len(self._free):
            self._grow(len(self._rows) + len(new))
        for i in new.tolist():
            row = self._free.pop()
            self._rows[codes[i]] = row
            rows[i] = row
        if len(new):
            self._tsdf[rows[new]] = 0.0
            self._flags[rows[new]] = 0
            self._color[rows[new]] = 0
        is_new = np.zeros(len(keys), dtype=bool)
        is_new[new] = True
        return rows, is_new

    def _grow(self, needed: int) -> None:
        cap = len(self._tsdf)
        # A quarter more (at most a quarter of the copy unused), but not past the volume's budget
        # unless more are needed (the copy holds at most the volume's blocks once evicted ones are dropped).
        new_cap = max(needed, min(cap + max(cap // 4, 64), self._budget))
        for name in ("_tsdf", "_flags", "_color"):
            old = getattr(self, name)
            grown = np.zeros((new_cap, *old.shape[1:]), old.dtype)
            grown[:cap] = old
            setattr(self, name, grown)
        self._free = list(range(new_cap - 1, cap - 1, -1)) + self._free

    def _lookup(self, keys: np.ndarray) -> np.ndarray:
        """(k,) int64 rows of the (k, 3) keys, -1 where not published."""
        if len(keys) == 0:
            return np.zeros(0, dtype=np.int64)
        get = self._rows.get
        return np.array([get(c, -1) for c in _codes(keys)], dtype=np.int64)

    # ------------------------------------------------------------------ reading (the mesher's source)

    def _apron_rows(self, keys: np.ndarray) -> np.ndarray:
        """(m, 3) int32 keys -> (m, 8) int64 rows of each block's ``key + APRON_OFFSETS[j]`` (-1: unpublished)."""
        return self._lookup((keys[:, None, :] + APRON_OFFSETS[None, :, :]).reshape(-1, 3)).reshape(len(keys), 8)

    def block_stores(self, keys: np.ndarray) -> BlockStores:
        """The arrays the (m, 3) int blocks ``keys`` and their +x/+y/+z neighbours are published in,
        for the mesher (views, nothing copied; flags instead of weights)."""
        keys = np.asarray(keys, dtype=np.int32).reshape(-1, 3)
        r3 = self._res**3
        rows = self._apron_rows(keys)
        return BlockStores(
            slots=rows,
            tsdf=self._tsdf.reshape(-1, r3),
            weight=self._flags.reshape(-1, r3),
            color=self._color.reshape(-1, r3, 3),
            order=np.arange(r3, dtype=np.int64),
            flags_mode=True,
        )

    def block_samples(self, keys: np.ndarray, apron: int = 2) -> tuple[np.ndarray, np.ndarray]:
        """Each block's published voxels plus ``apron`` layers from its +x/+y/+z neighbours.

        keys : (m, 3) int. Returns tsdf (m, s, s, s) float32 and flags (m, s, s, s) uint8, with
        s = r + apron, indexed ``[x, y, z]``; voxels of unpublished blocks read as 0 (unobserved).
        """
        keys = np.asarray(keys, dtype=np.int32).reshape(-1, 3)
        m, r = len(keys), self._res
        if not 0 <= apron <= r:
            raise ValueError(f"apron must be in 0..{r}")
        s = r + apron
        rows = self._apron_rows(keys)
        tsdf = np.zeros((m, s, s, s), np.float32)
        flags = np.zeros((m, s, s, s), np.uint8)
        for j, offset in enumerate(APRON_OFFSETS):
            have = np.flatnonzero(rows[:, j] >= 0)
            if len(have) == 0 or (apron == 0 and offset.any()):
                continue
            src = tuple(slice(0, apron) if o else slice(0, r) for o in offset)
            dst = (have, *(slice(r, s) if o else slice(0, r) for o in offset))
            tsdf[dst] = self._tsdf[(rows[have, j], *src)]
            flags[dst] = self._flags[(rows[have, j], *src)]
        return tsdf, flags

    def gather_voxels(
        self,
        keys: np.ndarray,
        block_row: np.ndarray,
        voxel_xyz: np.ndarray,
        names: tuple[str, ...] = ("tsdf", "color"),
    ) -> dict[str, np.ndarray]:
        """Single voxels from many blocks, as :meth:`TsdfVolume.gather_voxels` (``tsdf``, ``color``).

        Returns float32 arrays of ``block_row``'s shape (``color``: a trailing 3, levels 0-255);
        voxels of unpublished blocks read as 0.
        """
        rows = self._lookup(np.asarray(keys).reshape(-1, 3))[np.asarray(block_row)]
        missing = rows < 0
        rows = np.where(missing, 0, rows)
        voxel = np.broadcast_to(np.asarray(voxel_xyz), rows.shape)
        r3 = self._res**3
        out: dict[str, np.ndarray] = {}
        for name in names:
            if name == "tsdf":
                values = self._tsdf.reshape(-1, r3)[rows, voxel].astype(np.float32)
                values[missing] = 0.0
            elif name == "color":
                values = self._color.reshape(-1, r3, 3)[rows, voxel].astype(np.float32)
                values[missing] = 0.0
            else:
                raise ValueError(f"the published voxels hold no {name!r}")
            out[name] = values
        return out
