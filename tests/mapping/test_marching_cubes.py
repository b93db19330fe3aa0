"""The compiled marching cubes and its generated table, on fields with known answers.

Random sign fields put an ambiguous face (inside corners on a diagonal) in most cells: that is
where Lorensen's table leaves holes, and where ours must not.
"""

from __future__ import annotations

import numpy as np
import pytest
from mapping_helpers import dense_block_stores, edge_counts, oriented, reference_marching_cubes, weld_to

from sora_sdk.mapping._marching_cubes import CORNERS, EDGE_AXIS, EDGE_CORNER, mesh_blocks, triangle_table

VOXEL_M = 0.02


def _mesh(tsdf: np.ndarray, observed: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """The compiled per-block pass over a dense grid: welded vertices (voxel units) and triangles."""
    keys, stores = dense_block_stores(tsdf, observed, r)
    verts, _, _, tris, v_start, t_start = mesh_blocks(keys, stores, threshold=1.0, resolution=r, voxel_size_m=VOXEL_M)
    block = np.repeat(np.arange(len(keys)), np.diff(t_start))
    global_tris = tris.astype(np.int64) + v_start[:-1][block][:, None]
    unique, inverse = np.unique(verts, axis=0, return_inverse=True)
    return unique.astype(np.float64) / VOXEL_M, inverse.reshape(-1)[global_tris]


def _random_field(seed: int, n: int) -> np.ndarray:
    """Random signs inside, one layer of free space (positive) all round: the surface is closed."""
    rng = np.random.default_rng(seed)
    tsdf = rng.uniform(0.05, 1.0, (n, n, n)).astype(np.float32) * rng.choice([-1.0, 1.0], (n, n, n)).astype(np.float32)
    tsdf[[0, -1], :, :] = tsdf[:, [0, -1], :] = tsdf[:, :, [0, -1]] = 0.5
    return tsdf


def test_each_configuration_draws_closed_loops_on_the_cell_faces() -> None:
    """Per configuration: every crossed edge carries a vertex, and the patch's open border runs
    only along cell faces (so neighbouring cells can close it)."""
    table, counts = triangle_table()
    assert counts[0] == counts[255] == 0
    for case in range(1, 255):
        inside = [(case >> i) & 1 for i in range(8)]
        crossed = {e for e in range(12) if inside[EDGE_CORNER[e]] != inside[EDGE_CORNER[e] | (1 << EDGE_AXIS[e])]}
        tris = table[case, : counts[case]]
        assert set(tris.reshape(-1).tolist()) == crossed
        for (a, b), used in edge_counts(tris).items():
            assert used <= 2
            if used == 1:  # a border edge: both of its cube edges on one face of the cell
                pa = CORNERS[EDGE_CORNER[a]] * 2 + np.eye(3, dtype=np.int64)[EDGE_AXIS[a]]
                pb = CORNERS[EDGE_CORNER[b]] * 2 + np.eye(3, dtype=np.int64)[EDGE_AXIS[b]]
                assert any(pa[k] == pb[k] and pa[k] in (0, 2) for k in range(3)), (case, a, b)


@pytest.mark.parametrize("seed", range(4))
def test_random_fields_give_a_closed_two_manifold_surface(seed: int) -> None:
    tsdf = _random_field(seed, 16)
    observed = np.ones_like(tsdf, dtype=bool)
    vertices, triangles = _mesh(tsdf, observed, r=4)
    counts = edge_counts(triangles)
    assert len(triangles) > 1000
    assert set(counts.values()) == {2}  # closed: no hole, no crack between blocks or cells
    # The same surface as one global pass over the dense grid.
    gv, gt = reference_marching_cubes(tsdf, observed)
    assert len(gv) == len(vertices)
    assert oriented(weld_to(vertices, gv, 1e-4)[gt]) == oriented(triangles)


def test_block_size_does_not_change_the_surface() -> None:
    """Blocks of 4, 8 and 16 voxels: the same triangles (the apron makes the cut invisible)."""
    tsdf = _random_field(7, 16)
    observed = np.ones_like(tsdf, dtype=bool)
    observed[5:9, 3:6, 10:12] = False  # a hole in the observations, crossing block borders
    meshes = [_mesh(tsdf, observed, r) for r in (4, 8, 16)]
    for vertices, triangles in meshes[1:]:
        np.testing.assert_array_equal(vertices, meshes[0][0])
        assert oriented(triangles) == oriented(meshes[0][1])


def test_a_sphere_is_wound_outward_with_gradient_normals() -> None:
    n, centre, radius = 32, np.array([15.3, 16.1, 15.7]), 9.0
    grid = np.stack(np.meshgrid(*(np.arange(n),) * 3, indexing="ij"), axis=-1).astype(np.float64)
    tsdf = (np.linalg.norm(grid - centre, axis=-1) - radius).astype(np.float32) / 4.0
    keys, stores = dense_block_stores(tsdf, np.ones_like(tsdf, dtype=bool), 8)
    verts, normals, _, tris, v_start, t_start = mesh_blocks(keys, stores, threshold=1.0, resolution=8, voxel_size_m=1.0)
    block = np.repeat(np.arange(len(keys)), np.diff(t_start))
    t = tris.astype(np.int64) + v_start[:-1][block][:, None]
    v = verts.astype(np.float64)
    radial = v - centre
    np.testing.assert_allclose(np.linalg.norm(radial, axis=1), radius, atol=0.05)
    face = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
    assert np.all(np.einsum("ij,ij->i", face, v[t].mean(axis=1) - centre) > 0)  # counter-clockwise from outside
    cosine = np.einsum("ij,ij->i", normals, radial / np.linalg.norm(radial, axis=1, keepdims=True))
    assert cosine.min() > 0.99


def test_exact_zeros_make_no_zero_area_triangles() -> None:
    tsdf = _random_field(3, 12)
    tsdf[np.random.default_rng(3).random(tsdf.shape) < 0.2] = 0.0  # on the surface: counts as outside
    tsdf[[0, -1], :, :] = tsdf[:, [0, -1], :] = tsdf[:, :, [0, -1]] = 0.5
    vertices, triangles = _mesh(tsdf, np.ones_like(tsdf, dtype=bool), r=4)
    p = vertices[triangles]
    area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    assert len(triangles) > 100 and area.min() > 0
    gv, gt = reference_marching_cubes(tsdf, np.ones_like(tsdf, dtype=bool))
    assert (len(np.unique(gv, axis=0)), len(gt)) == (len(vertices), len(triangles))  # welded by position
