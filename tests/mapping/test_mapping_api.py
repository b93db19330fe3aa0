"""The public surface of sora_sdk.mapping and its place in the layering (DESIGN.md)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import sora_sdk.mapping as mapping

PACKAGE = Path(mapping.__file__).parent


def test_public_names_are_frozen() -> None:
    assert sorted(mapping.__all__) == [
        "BlockMesher",
        "BlockVoxels",
        "IntegrateResult",
        "MAP_FORMAT",
        "Mapper",
        "MeshUpdate",
        "PlaneTracker",
        "PlaneTrackerOptions",
        "PlaneUpdate",
        "PoseSource",
        "TsdfVolume",
        "blocks_to_remesh",
        "load_map",
        "read_map",
        "remove_stale_temporaries",
        "resolve_device",
        "save_map",
        "set_mesh_thread_nice",
        "write_atomically",
        "write_map",
    ]
    for name in mapping.__all__:
        assert getattr(mapping, name) is not None


def test_mapping_imports_only_what_its_layer_may() -> None:
    allowed_sora = ("sora_sdk.core",)
    allowed_third_party = {"numpy", "numba", "open3d", "trimesh", "scipy", "torch"}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "sora_sdk":
                    assert name.startswith(allowed_sora), f"{path.name} imports {name}"
                elif top not in sys.stdlib_module_names:
                    assert top in allowed_third_party, f"{path.name} imports {name}"
