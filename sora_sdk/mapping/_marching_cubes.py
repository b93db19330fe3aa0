"""Marching cubes over many TSDF blocks at once, compiled (numba), reading the voxel stores in place.

Why our own: a revisit frame dirties a third of a room, and meshing those blocks one by one
through scikit-image cost ~0.6 ms a block in Python around the call (gathering samples, masks,
normals, colours), about as much as Open3D's whole-grid extraction (docs/performance.md, "(c)").
Open3D can only extract the whole grid, and no library meshes a chosen set of hashed blocks with
a one-voxel apron. Here one compiled pass reads each block and its +x/+y/+z apron straight from
the voxel arrays (Open3D's CPU buffers through their numpy views, or the published copy), and
writes the vertices, normals, colours and triangles of every block; it releases the GIL, so the
server's event loop keeps running while a map is meshed.

The triangulation table is generated here (:func:`triangle_table`) rather than copied: for each
of the 256 corner configurations, every cube face gets the iso-line segments that separate its
inside corners from its outside ones, joined into closed loops and fanned into triangles. On a
face whose inside corners are diagonal (the ambiguous face) the inside corners are always cut off
separately. The rule reads only the face's four corners, so the two cells sharing a face always
draw the same segments on it: the surface is closed across every cell face, which Lorensen's
original table (the one Open3D uses) does not guarantee. Everywhere else the table gives the
same triangles as that table would, up to how a loop is split into triangles; the vertices are
the same (one per crossed edge, linear interpolation, ``tsdf < 0`` is inside as in Open3D).
"""

from __future__ import annotations

import functools
import itertools
from typing import NamedTuple

import numba
import numpy as np

__all__ = ["APRON_OFFSETS", "MAX_TRIANGLES", "BlockStores", "mesh_blocks", "triangle_table", "warm_up"]

#: Offsets of the blocks whose voxels a block's mesh reads, itself first; row ``dx * 4 + dy * 2 + dz``.
APRON_OFFSETS = np.array(list(itertools.product((0, 1), repeat=3)), dtype=np.int32)


class BlockStores(NamedTuple):
    """Where the voxels of some blocks and of their apron neighbours are, for :func:`mesh_blocks`.

    slots : (m, 8) int64 rows of the stores holding each block's ``key + APRON_OFFSETS[j]`` (-1:
    unallocated). tsdf : (S, r^3) float32. weight : (S, r^3) float32 observation weights, or uint8
    flags when ``flags_mode`` (bit 0: observed at least the threshold, bit 1: observed at all).
    color : (S, r^3, 3) levels 0-255, float32 or uint8. order : (r^3,) int64, the stores' in-block
    index of the voxel at ``(x * r + y) * r + z``.
    """

    slots: np.ndarray
    tsdf: np.ndarray
    weight: np.ndarray
    color: np.ndarray
    order: np.ndarray
    flags_mode: bool


#: Corner i of a cell is at (i & 1, (i >> 1) & 1, (i >> 2) & 1) voxels from its origin.
CORNERS = np.array([(i & 1, (i >> 1) & 1, (i >> 2) & 1) for i in range(8)], dtype=np.int64)
#: Edge e runs from corner EDGE_CORNER[e] one voxel along EDGE_AXIS[e].
EDGE_CORNER, EDGE_AXIS = (
    np.array(col, dtype=np.int64)
    for col in zip(*[(c, a) for a in range(3) for c in range(8) if not (c >> a) & 1], strict=True)
)
#: The most triangles any configuration makes (with the face rule above).
MAX_TRIANGLES = 5


def _edge_between(a: int, b: int) -> int:
    for e in range(12):
        c0 = int(EDGE_CORNER[e])
        c1 = c0 | (1 << int(EDGE_AXIS[e]))
        if {c0, c1} == {a, b}:
            return e
    raise ValueError(f"corners {a} and {b} share no edge")


def _midpoint(e: int) -> np.ndarray:
    p = CORNERS[EDGE_CORNER[e]].astype(np.float64)
    p[EDGE_AXIS[e]] += 0.5
    return p


def _face_segments(case: int) -> list[tuple[int, int]]:
    """The directed iso-line segments (edge, edge) on the six faces of a cell, each drawn so that,
    seen from outside the cell, the face's inside corners are on its left."""
    inside = [(case >> i) & 1 == 1 for i in range(8)]
    segments: list[tuple[int, int]] = []
    for axis, side in itertools.product(range(3), (0, 1)):
        u, v = (a for a in range(3) if a != axis)
        # The face's corners in cyclic order.
        ring = []
        for du, dv in ((0, 0), (1, 0), (1, 1), (0, 1)):
            ring.append((side << axis) | (du << u) | (dv << v))
        normal = np.zeros(3)
        normal[axis] = 1.0 if side else -1.0
        crossed = [k for k in range(4) if inside[ring[k]] != inside[ring[(k + 1) % 4]]]
        edges = {k: _edge_between(ring[k], ring[(k + 1) % 4]) for k in crossed}
        if len(crossed) == 2:
            pairs = [(edges[crossed[0]], edges[crossed[1]], [c for c in ring if inside[c]])]
        elif len(crossed) == 4:  # ambiguous face: cut each inside corner off on its own
            pairs = []
            for k in range(4):
                if inside[ring[k]]:
                    pairs.append((edges[(k + 3) % 4], edges[k], [ring[k]]))
        else:
            continue
        for e1, e2, inner in pairs:
            m1, m2 = _midpoint(e1), _midpoint(e2)
            left = np.cross(normal, m2 - m1)
            centre = CORNERS[inner].mean(axis=0)
            segments.append((e1, e2) if np.dot(centre - m1, left) > 0 else (e2, e1))
    return segments


def _on_one_face(a: int, b: int) -> bool:
    """True when cube edges a and b lie on a common face of the cell."""
    pa, pb = _midpoint(a) * 2, _midpoint(b) * 2
    return any(pa[k] == pb[k] and pa[k] in (0, 2) for k in range(3))


def _triangulate(loop: list[int]) -> list[tuple[int, int, int]]:
    """Triangles over a loop of cube edges, none of whose inner diagonals joins two edges of one
    cell face: on an ambiguous face the neighbouring cell may draw the same diagonal, and the edge
    would then carry four triangles (closed, but not a manifold)."""

    def split(poly: list[int]) -> list[tuple[int, int, int]] | None:
        if len(poly) == 3:
            return [(poly[0], poly[1], poly[2])]
        # The triangle on the side (poly[0], poly[-1]) has its apex at some poly[j].
        for j in range(1, len(poly) - 1):
            diagonals = [(poly[0], poly[j])] if j > 1 else []
            if j < len(poly) - 2:
                diagonals.append((poly[j], poly[-1]))
            if any(_on_one_face(a, b) for a, b in diagonals):
                continue
            left = split(poly[: j + 1]) if j > 1 else []
            right = split(poly[j:]) if j < len(poly) - 2 else []
            if left is None or right is None:
                continue
            return [*left, (poly[0], poly[j], poly[-1]), *right]
        return None

    found = split(loop)
    if found is None:
        raise AssertionError(f"no face-safe triangulation of loop {loop}")
    return found


@functools.cache
def triangle_table() -> tuple[np.ndarray, np.ndarray]:
    """(256, MAX_TRIANGLES, 3) int64 edges of each configuration's triangles (-1 padded) and
    (256,) int64 triangle counts. Bit i of a configuration is corner i inside (tsdf < 0); the
    triangles wind counter-clockwise seen from outside (free space), like Open3D's."""
    table = np.full((256, MAX_TRIANGLES, 3), -1, dtype=np.int64)
    counts = np.zeros(256, dtype=np.int64)
    for case in range(1, 255):
        following = dict(_face_segments(case))
        triangles: list[tuple[int, int, int]] = []
        while following:
            start = next(iter(following))
            loop = [start]
            nxt = following.pop(start)
            while nxt != start:
                loop.append(nxt)
                nxt = following.pop(nxt)
            # Segments run with the inside on their left seen from outside the cell, so the loop
            # turns clockwise seen from free space: reversed, its triangles wind counter-clockwise.
            loop.reverse()
            triangles.extend(_triangulate(loop))
        if len(triangles) > MAX_TRIANGLES:
            raise AssertionError(f"configuration {case} makes {len(triangles)} triangles")
        counts[case] = len(triangles)
        table[case, : len(triangles)] = triangles
    return table, counts


# ---------------------------------------------------------------------- the compiled pass


@numba.njit(nogil=True, cache=True)
def _grow2(a: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover - compiled
    out = np.empty((max(n, 2 * a.shape[0]), a.shape[1]), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@numba.njit(nogil=True, cache=True, inline="always")
def _derivative(
    t: np.ndarray, seen: np.ndarray, x: int, y: int, z: int, dx: int, dy: int, dz: int, interior: bool
) -> float:  # pragma: no cover
    """d(tsdf)/d(voxel) along (dx, dy, dz) at sample (x, y, z): central inside the block, forward
    on its minimum faces (``interior`` False), one-sided where a neighbour was never observed, 0
    where neither was."""
    t0 = float(t[x, y, z])
    s0 = seen[x, y, z]
    tp = float(t[x + dx, y + dy, z + dz])
    sp = seen[x + dx, y + dy, z + dz]
    tm = 0.0
    sm = False
    if interior:
        tm = float(t[x - dx, y - dy, z - dz])
        sm = seen[x - dx, y - dy, z - dz]
    if sm and sp:
        return 0.5 * (tp - tm)
    if s0 and sp:
        return tp - t0
    if s0 and sm:
        return t0 - tm
    return 0.0


@numba.njit(nogil=True, cache=True, inline="always")
def _gradient(
    t: np.ndarray, seen: np.ndarray, x: int, y: int, z: int, r: int
) -> tuple[float, float, float]:  # pragma: no cover
    """The TSDF gradient at sample (x, y, z) of a block's (r+2)^3 grid. Forward differences on the
    block's minimum faces (local 0 and r) read only samples 0..r+1, so two blocks sharing a face
    compute the same value there."""
    return (
        _derivative(t, seen, x, y, z, 1, 0, 0, 1 <= x <= r - 1),
        _derivative(t, seen, x, y, z, 0, 1, 0, 1 <= y <= r - 1),
        _derivative(t, seen, x, y, z, 0, 0, 1, 1 <= z <= r - 1),
    )


@numba.njit(nogil=True, cache=True, inline="always")
def _same(verts: np.ndarray, i: int, j: int) -> bool:  # pragma: no cover - compiled
    return verts[i, 0] == verts[j, 0] and verts[i, 1] == verts[j, 1] and verts[i, 2] == verts[j, 2]


@numba.njit(nogil=True, cache=True)
def _kernel(  # pragma: no cover - compiled; tested through mesh_blocks
    keys: np.ndarray,
    slots: np.ndarray,
    tsdf: np.ndarray,
    weight: np.ndarray,
    color: np.ndarray,
    order: np.ndarray,
    flags_mode: bool,
    threshold: float,
    r: int,
    voxel_size: float,
    table: np.ndarray,
    counts: np.ndarray,
    edge_corner: np.ndarray,
    edge_axis: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    m = keys.shape[0]
    order_zyx = order.reshape((r, r, r)).transpose((2, 1, 0)).copy().reshape(-1)
    zyx = True  # the store keeps a block [z][y][x] (Open3D's layout): no lookup per voxel
    for i in range(r * r * r):
        if order_zyx[i] != i:
            zyx = False
    s = r + 2
    n = r + 1
    t = np.zeros((s, s, s), dtype=np.float32)
    ob_bits = np.zeros((s, s), dtype=np.int64)
    in_bits = np.zeros((s, s), dtype=np.int64)
    cell_bits = (np.int64(1) << r) - 1
    seen = np.zeros((s, s, s), dtype=np.bool_)
    vid = np.full(n * n * n * 3, -1, dtype=np.int64)
    touched = np.empty(n * n * n * 3, dtype=np.int64)
    most_v = 3 * n * n * n
    most_t = table.shape[1] * r * r * r
    cap_v = m * 256 + most_v
    cap_t = m * 512 + most_t
    at_corner = np.zeros(most_v, dtype=np.int64)
    stamp = np.zeros((s, s, s), dtype=np.int64)
    grad = np.zeros((s, s, s, 3), dtype=np.float64)
    rgb = np.zeros((s, s, s, 3), dtype=np.float64)
    verts = np.empty((cap_v, 3), dtype=np.float32)
    norms = np.empty((cap_v, 3), dtype=np.float32)
    cols = np.empty((cap_v, 3), dtype=np.uint8)
    tris = np.empty((cap_t, 3), dtype=np.int32)
    v_start = np.zeros(m + 1, dtype=np.int64)
    t_start = np.zeros(m + 1, dtype=np.int64)
    nv = 0
    nt = 0
    cell_vid = np.zeros(12, dtype=np.int64)
    cell_corner = np.zeros(12, dtype=np.int64)
    for b in range(m):
        v_start[b] = nv
        t_start[b] = nt
        if slots[b, 0] < 0:
            continue
        # The block's samples 0..r+1 per axis: its own voxels, then two layers of each +x/+y/+z
        # neighbour (unallocated neighbours read as never observed). Observed and inside (tsdf < 0)
        # are also kept as bit rows along z, to find the cells the surface crosses a row (r cells) at a time.
        for j in range(8):
            dx, dy, dz = (j >> 2) & 1, (j >> 1) & 1, j & 1
            slot = slots[b, j]
            x0, y0, z0 = dx * r, dy * r, dz * r
            x1, y1, z1 = (s if dx else r), (s if dy else r), (s if dz else r)
            if not dz:  # these (x, y) rows start here
                ob_bits[x0:x1, y0:y1] = 0
                in_bits[x0:x1, y0:y1] = 0
            if slot < 0:
                t[x0:x1, y0:y1, z0:z1] = 0.0
                seen[x0:x1, y0:y1, z0:z1] = False
                continue
            # z outermost and x innermost: Open3D keeps a block [z][y][x], so the reads run along memory.
            for z in range(z0, z1):
                bit = np.int64(1) << z
                for y in range(y0, y1):
                    base = ((z - z0) * r + (y - y0)) * r - x0
                    for x in range(x0, x1):
                        i = base + x if zyx else order_zyx[base + x]
                        v = tsdf[slot, i]
                        w = weight[slot, i]
                        t[x, y, z] = v
                        if flags_mode:
                            o = (np.int64(w) & 1) != 0
                            seen[x, y, z] = (np.int64(w) & 2) != 0
                        else:
                            o = w >= threshold
                            seen[x, y, z] = w > 0
                        if o:
                            ob_bits[x, y] |= bit
                        if v < 0:
                            in_bits[x, y] |= bit
        # Room for the most a block can make, so the loops below never check.
        v0 = nv
        if nv + most_v > verts.shape[0]:
            verts = _grow2(verts, nv + most_v)
            norms = _grow2(norms, nv + most_v)
            cols = _grow2(cols, nv + most_v)
        if nt + most_t > tris.shape[0]:
            tris = _grow2(tris, nt + most_t)
        n_touched = 0
        for x in range(r):
            for y in range(r):
                a, bb, c, d = ob_bits[x, y], ob_bits[x + 1, y], ob_bits[x, y + 1], ob_bits[x + 1, y + 1]
                valid = a & bb & c & d
                valid &= valid >> 1
                a, bb, c, d = in_bits[x, y], in_bits[x + 1, y], in_bits[x, y + 1], in_bits[x + 1, y + 1]
                some = a | bb | c | d
                some |= some >> 1
                every = a & bb & c & d
                every &= every >> 1
                crossing = valid & some & ~every & cell_bits
                if crossing == 0:
                    continue
                for z in range(r):
                    if not (crossing >> z) & 1:
                        continue
                    case = 0
                    for corner in range(8):
                        bits = in_bits[x + (corner & 1), y + ((corner >> 1) & 1)]
                        case |= ((bits >> (z + ((corner >> 2) & 1))) & 1) << corner
                    # Each crossed edge of the cell: its vertex, made by the first cell that needs it.
                    for e in range(12):
                        c0 = edge_corner[e]
                        ax = edge_axis[e]
                        if ((case >> c0) ^ (case >> (c0 | (1 << ax)))) & 1 == 0:
                            continue
                        ox, oy, oz = x + (c0 & 1), y + ((c0 >> 1) & 1), z + ((c0 >> 2) & 1)
                        slot_e = ((ox * n + oy) * n + oz) * 3 + ax
                        if vid[slot_e] < 0:
                            ex, ey, ez = ox + (ax == 0), oy + (ax == 1), oz + (ax == 2)
                            a = np.float64(t[ox, oy, oz])
                            f = a / (a - np.float64(t[ex, ey, ez]))
                            verts[nv, 0] = ((keys[b, 0] * r + ox) + (f if ax == 0 else 0.0)) * voxel_size
                            verts[nv, 1] = ((keys[b, 1] * r + oy) + (f if ax == 1 else 0.0)) * voxel_size
                            verts[nv, 2] = ((keys[b, 2] * r + oz) + (f if ax == 2 else 0.0)) * voxel_size
                            for px, py, pz in ((ox, oy, oz), (ex, ey, ez)):
                                if stamp[px, py, pz] != b + 1:  # gradient and colour, once per sample
                                    stamp[px, py, pz] = b + 1
                                    g = _gradient(t, seen, px, py, pz, r)
                                    grad[px, py, pz, 0] = g[0]
                                    grad[px, py, pz, 1] = g[1]
                                    grad[px, py, pz, 2] = g[2]
                                    qx, qy, qz = 1 if px >= r else 0, 1 if py >= r else 0, 1 if pz >= r else 0
                                    sl = slots[b, qx * 4 + qy * 2 + qz]
                                    vi = order[((px - qx * r) * r + (py - qy * r)) * r + (pz - qz * r)]
                                    for ch in range(3):
                                        rgb[px, py, pz, ch] = np.float64(color[sl, vi, ch])
                            gx = (1.0 - f) * grad[ox, oy, oz, 0] + f * grad[ex, ey, ez, 0]
                            gy = (1.0 - f) * grad[ox, oy, oz, 1] + f * grad[ex, ey, ez, 1]
                            gz = (1.0 - f) * grad[ox, oy, oz, 2] + f * grad[ex, ey, ez, 2]
                            length = np.sqrt(gx * gx + gy * gy + gz * gz)
                            if length > 1e-12:
                                norms[nv, 0] = gx / length
                                norms[nv, 1] = gy / length
                                norms[nv, 2] = gz / length
                            else:  # flat TSDF around the edge: point along it, out of the surface
                                sign = 1.0 if a < 0 else -1.0
                                norms[nv, 0] = sign if ax == 0 else 0.0
                                norms[nv, 1] = sign if ax == 1 else 0.0
                                norms[nv, 2] = sign if ax == 2 else 0.0
                            for ch in range(3):
                                q = np.rint((1.0 - f) * rgb[ox, oy, oz, ch] + f * rgb[ex, ey, ez, ch])
                                cols[nv, ch] = np.uint8(min(255.0, max(0.0, q)))
                            at_corner[nv - v0] = f == 0.0 or f == 1.0
                            vid[slot_e] = nv
                            touched[n_touched] = slot_e
                            n_touched += 1
                            nv += 1
                        cell_vid[e] = vid[slot_e]
                        cell_corner[e] = at_corner[vid[slot_e] - v0]
                    for k in range(counts[case]):
                        e0, e1, e2 = table[case, k, 0], table[case, k, 1], table[case, k, 2]
                        i0, i1, i2 = cell_vid[e0], cell_vid[e1], cell_vid[e2]
                        # A vertex on a corner whose tsdf is exactly 0 is shared by several edges:
                        # drop the triangles that collapse there (zero area).
                        if cell_corner[e0] + cell_corner[e1] + cell_corner[e2] >= 2:
                            if _same(verts, i0, i1) or _same(verts, i1, i2) or _same(verts, i2, i0):
                                continue
                        tris[nt, 0] = i0 - v0
                        tris[nt, 1] = i1 - v0
                        tris[nt, 2] = i2 - v0
                        nt += 1
        for k in range(n_touched):
            vid[touched[k]] = -1
    v_start[m] = nv
    t_start[m] = nt
    return verts[:nv], norms[:nv], cols[:nv], tris[:nt], v_start, t_start


def mesh_blocks(
    keys: np.ndarray, stores: BlockStores, *, threshold: float, resolution: int, voxel_size_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mesh the (m, 3) int blocks ``keys`` in one compiled pass over ``stores`` (see :class:`BlockStores`).

    A cell is meshed when all eight corners are observed (weight >= ``threshold``) and the surface
    passes through it. Returns vertices (V, 3) float32 world metres, normals (V, 3) float32 unit
    (the TSDF gradient), colours (V, 3) uint8, triangles (T, 3) int32 indexing their own block's
    vertices, and (m + 1,) int64 starts: block b owns vertices ``v_start[b]:v_start[b + 1]`` and
    triangles ``t_start[b]:t_start[b + 1]``.
    """
    if not 1 <= resolution <= 61:  # a block's samples along z, plus the apron, are bits of one int64
        raise ValueError(f"block resolution {resolution} is outside 1..61")
    table, counts = triangle_table()
    return _kernel(
        np.ascontiguousarray(keys, dtype=np.int64).reshape(-1, 3),
        np.ascontiguousarray(stores.slots, dtype=np.int64).reshape(-1, 8),
        stores.tsdf,
        stores.weight,
        stores.color,
        np.ascontiguousarray(stores.order, dtype=np.int64),
        bool(stores.flags_mode),
        float(threshold),
        int(resolution),
        float(voxel_size_m),
        table,
        counts,
        EDGE_CORNER,
        EDGE_AXIS,
    )


def warm_up(resolution: int = 16) -> None:
    """Compile both variants of the pass (the live volume's float32 stores, the published copy's
    uint8 ones) into numba's cache beside this module: ~10 s each on a laptop core, paid by
    ``make setup`` instead of by the first map a server meshes."""
    r3 = resolution**3
    for weight, color, flags in ((np.float32, np.float32, False), (np.uint8, np.uint8, True)):
        stores = BlockStores(
            slots=np.full((1, 8), -1, dtype=np.int64),
            tsdf=np.zeros((1, r3), np.float32),
            weight=np.zeros((1, r3), weight),
            color=np.zeros((1, r3, 3), color),
            order=np.arange(r3, dtype=np.int64),
            flags_mode=flags,
        )
        mesh_blocks(np.zeros((1, 3), np.int32), stores, threshold=1.0, resolution=resolution, voxel_size_m=0.02)
