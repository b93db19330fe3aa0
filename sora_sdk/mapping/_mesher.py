"""Incremental meshing: one mesh chunk per TSDF block, re-made only where voxels changed.

Why not Open3D's ``extract_triangle_mesh``: it can only extract the whole grid, which costs
~300 ms on a room at 2 cm on a CPU and grows with the map, while a frame changes a few dozen to a
few hundred blocks. Here each dirty block is meshed on its own over the block's voxels plus a
one-voxel apron read from its +x/+y/+z neighbours, so cell (i, j, k) of the global grid is
triangulated by exactly one block, from exactly the same eight samples a global pass would use.
The union of the chunks is therefore one marching-cubes surface of the whole volume, and a vertex
on a face shared by two chunks is computed from the same two samples in both, to the same float
(no cracks). The marching cubes itself is :mod:`._marching_cubes` (compiled, all blocks of an
update in one pass, the GIL released).

Cells are meshed only when all eight corners were observed at least ``weight_threshold`` times
and the surface passes through, exactly Open3D's rule; the vertices are Open3D's (one per crossed
edge, linear interpolation). The triangulation differs from Open3D's only in cells with an
ambiguous face, where ours never leaves a hole (:func:`._marching_cubes.triangle_table`).

A block's mesh reads the voxels of the 8 blocks ``key + {0, 1}^3`` (itself and the apron), so
when a block changes the 7 blocks ``key + {-1, 0}^3 - 0`` must be re-meshed with it (of a
neighbour, only its first two layers along the axes where it is offset are read).

The voxels come from the live volume (:class:`TsdfVolume`) or from the copy of them published
within a tolerance (:class:`~sora_sdk.mapping._published.PublishedVoxels`); every chunk of a map
must be meshed from the same one, or the welding argument above does not hold.

Normals are the TSDF gradient (central differences, interpolated along the vertex's edge); on a
block's minimum faces the stencil is one-sided forward, so it too reads only the ``{0, 1}^3``
neighbours and both chunks sharing a face compute the same normal there.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from sora_sdk.core._threads import niceness_target, raise_thread_niceness
from sora_sdk.core.config import MapperConfig
from sora_sdk.core.scene import BlockKey, MeshChunk

from ._keys import decode_keys, encode_keys
from ._marching_cubes import APRON_OFFSETS, BlockStores, mesh_blocks
from ._published import PublishedVoxels
from ._volume import TsdfVolume

__all__ = ["BlockMesher", "blocks_to_remesh", "set_mesh_thread_nice"]

#: Offsets of the blocks whose mesh reads a given block (itself first): -APRON_OFFSETS.
DEPENDENT_OFFSETS = -APRON_OFFSETS
#: An update is split over threads only when each gets at least this many blocks.
_BLOCKS_PER_THREAD = 48

_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_nice: int | None = None  # absolute niceness for the pool's threads; None: leave them be


def set_mesh_thread_nice(nice: int) -> None:
    """The mesher's pool threads run at ``nice`` above the calling thread's niceness (Linux), so that a
    server's meshing yields the CPU to its event loop like the rest of its map work. A thread takes
    it at its next task (niceness can be raised without privileges, not lowered)."""
    global _pool_nice
    if (target := niceness_target(nice)) is not None:
        _pool_nice = target


def _threads(config: MapperConfig) -> int:
    wanted = int(config.mesh_threads)
    return max(1, wanted if wanted > 0 else min(os.cpu_count() or 1, 8))


def _shared_pool() -> ThreadPoolExecutor:
    """One pool for every mapper in the process: the compiled pass releases the GIL, so its
    threads mesh in parallel; sessions meshing at once share the cores instead of multiplying threads."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8), thread_name_prefix="sora-mesh")
        return _pool


def blocks_to_remesh(changed: np.ndarray) -> np.ndarray:
    """(n, 3) int keys of changed blocks -> (m, 3) int32 unique keys whose chunks depend on them."""
    changed = np.asarray(changed, dtype=np.int32).reshape(-1, 3)
    if len(changed) == 0:
        return np.zeros((0, 3), dtype=np.int32)
    out = (changed[:, None, :] + DEPENDENT_OFFSETS[None, :, :]).reshape(-1, 3)
    return decode_keys(np.unique(encode_keys(out)))


class BlockMesher:
    """Marching cubes per block (the worker; chunks are kept by the caller).

    ``weight_threshold``: a cell is meshed only when all eight corners were observed at least
    this many times, so no triangle is made from unobserved space.
    """

    def __init__(self, config: MapperConfig) -> None:
        self.config = config
        self._res = int(config.block_resolution)

    def mesh_blocks(
        self, source: TsdfVolume | PublishedVoxels, keys: np.ndarray, version: int = 0
    ) -> dict[BlockKey, MeshChunk]:
        """Mesh the (k, 3) blocks ``keys`` of the live volume or of its published copy; the result
        holds only blocks that have triangles."""
        keys = np.asarray(keys, dtype=np.int32).reshape(-1, 3)
        if len(keys) == 0:
            return {}
        stores = source.block_stores(keys)
        parts = min(_threads(self.config), len(keys) // _BLOCKS_PER_THREAD)
        if parts <= 1:
            return self._chunks(keys, self._mesh(keys, stores), version)
        # Contiguous runs of keys: neighbouring blocks share apron voxels, which stay in cache.
        bounds = np.linspace(0, len(keys), parts + 1).astype(np.int64)
        runs = list(itertools.pairwise(bounds.tolist()))
        pool = _shared_pool()
        futures = [pool.submit(self._pool_mesh, keys[a:b], stores._replace(slots=stores.slots[a:b])) for a, b in runs]
        out: dict[BlockKey, MeshChunk] = {}
        for (a, b), future in zip(runs, futures, strict=True):
            out.update(self._chunks(keys[a:b], future.result(), version))
        return out

    def _pool_mesh(self, keys: np.ndarray, stores: BlockStores) -> tuple[np.ndarray, ...]:
        raise_thread_niceness(_pool_nice)
        return self._mesh(keys, stores)

    def _mesh(self, keys: np.ndarray, stores: BlockStores) -> tuple[np.ndarray, ...]:
        return mesh_blocks(
            keys,
            stores,
            threshold=float(self.config.weight_threshold),
            resolution=self._res,
            voxel_size_m=float(self.config.voxel_size_m),
        )

    def _chunks(self, keys: np.ndarray, meshed: tuple[np.ndarray, ...], version: int) -> dict[BlockKey, MeshChunk]:
        verts, normals, colors, tris, v_start, t_start = meshed
        block_size = float(self.config.voxel_size_m) * self._res
        made = np.flatnonzero(t_start[1:] > t_start[:-1])
        origins = keys[made].astype(np.float64) * block_size
        v_start, t_start = v_start.tolist(), t_start.tolist()
        out: dict[BlockKey, MeshChunk] = {}
        # Copies, not views: a chunk outlives the update, and a view would keep the whole update's
        # arrays alive for as long as any one of its chunks is.
        for i, (b, key) in enumerate(zip(made.tolist(), keys[made].tolist(), strict=True)):
            v0, v1, t0, t1 = v_start[b], v_start[b + 1], t_start[b], t_start[b + 1]
            k: BlockKey = (key[0], key[1], key[2])
            out[k] = MeshChunk(
                key=k,
                version=version,
                origin_world_m=origins[i].copy(),
                size_m=block_size,
                vertices=verts[v0:v1].copy(),
                normals=normals[v0:v1].copy(),
                colors=colors[v0:v1].copy(),
                triangles=tris[t0:t1].copy(),
            )
        return out
