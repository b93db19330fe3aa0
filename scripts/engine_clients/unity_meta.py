"""Keep the Unity package's .meta files complete (committed; `--check` in the tests).

    .venv/bin/python scripts/engine_clients/unity_meta.py           # add missing .meta, drop orphans
    .venv/bin/python scripts/engine_clients/unity_meta.py --check   # fail when any is missing or orphaned

A package installed from a git URL is immutable: Unity ignores any asset in it that has no .meta
file, and every GUID must be stable so scenes and settings can reference scripts and shaders.
New .meta files get a GUID derived from the asset's path inside the package (an MD5 of
"com.sora.sdk:<path>"), so regenerating them is reproducible; existing ones are never rewritten.

Unity skips folders whose names end in "~" (Documentation~, Samples~) and names starting with
".". Samples~ content still gets .meta files, because Package Manager copies a sample, .meta files
included, into Assets/ on import, and the sample scenes reference their scripts by GUID.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "unity_plugin"
_GUID = re.compile(r"^guid: ([0-9a-f]{32})$", re.MULTILINE)

_IMPORTERS = {
    ".cs": "MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n"
    "  executionOrder: 0\n  icon: {instanceID: 0}\n",
    ".asmdef": "AssemblyDefinitionImporter:\n  externalObjects: {}\n",
    ".shader": "ShaderImporter:\n  externalObjects: {}\n  defaultTextures: []\n  nonModifiableTextures: []\n",
    ".md": "TextScriptImporter:\n  externalObjects: {}\n",
    ".txt": "TextScriptImporter:\n  externalObjects: {}\n",
    ".xml": "TextScriptImporter:\n  externalObjects: {}\n",
    ".json": "TextScriptImporter:\n  externalObjects: {}\n",
    ".unity": "DefaultImporter:\n  externalObjects: {}\n",
}
_TAIL = "  userData: \n  assetBundleName: \n  assetBundleVariant: \n"


def guid_for(rel: str) -> str:
    return hashlib.md5(f"com.sora.sdk:{rel}".encode()).hexdigest()


def assets(package: Path = PACKAGE) -> list[Path]:
    """Every file and folder that Unity imports (or copies with a sample) and so needs a .meta."""
    out = []
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        parts = rel.parts
        if path.suffix == ".meta" or any(p.startswith(".") for p in parts):
            continue
        hidden = [p for p in parts if p.endswith("~")]
        if hidden and (hidden != ["Samples~"] or parts[-1] == "Samples~"):
            continue  # Documentation~ (and the ~ folders themselves) are not imported
        out.append(path)
    return out


def meta_text(path: Path, package: Path = PACKAGE) -> str:
    rel = path.relative_to(package).as_posix()
    head = f"fileFormatVersion: 2\nguid: {guid_for(rel)}\n"
    if path.is_dir():
        return head + "folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n" + _TAIL
    if path.name == "package.json" and path.parent == package:
        return head + "PackageManifestImporter:\n  externalObjects: {}\n" + _TAIL
    importer = _IMPORTERS.get(path.suffix, "DefaultImporter:\n  externalObjects: {}\n")
    return head + importer + _TAIL


def meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta")


def read_guid(path: Path) -> str:
    """The GUID in an asset's .meta file."""
    m = _GUID.search(meta_path(path).read_text())
    if not m:
        raise ValueError(f"{meta_path(path)} has no guid")
    return m.group(1)


def problems(package: Path = PACKAGE) -> list[str]:
    wanted = {meta_path(p) for p in assets(package)}
    found = {p for p in package.rglob("*.meta") if not any(q.endswith("~") and q != "Samples~" for q in p.parts)}
    out = [f"missing {m.relative_to(package)}" for m in sorted(wanted - found)]
    out += [f"orphaned {m.relative_to(package)}" for m in sorted(found - wanted)]
    guids: dict[str, Path] = {}
    for m in sorted(wanted & found):
        g = _GUID.search(m.read_text())
        if not g:
            out.append(f"no guid in {m.relative_to(package)}")
        elif g.group(1) in guids:
            out.append(f"duplicate guid in {m.relative_to(package)} and {guids[g.group(1)].relative_to(package)}")
        else:
            guids[g.group(1)] = m
    return out


def sync(package: Path = PACKAGE) -> tuple[int, int]:
    """Writes missing .meta files and removes orphaned ones; returns (written, removed)."""
    written = removed = 0
    for path in assets(package):
        m = meta_path(path)
        if not m.exists():
            m.write_text(meta_text(path, package))
            written += 1
    wanted = {meta_path(p) for p in assets(package)}
    for m in package.rglob("*.meta"):
        if m not in wanted:
            m.unlink()
            removed += 1
    return written, removed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="fail when a .meta is missing, orphaned or duplicated")
    a = ap.parse_args()
    if a.check:
        found = problems()
        if found:
            raise SystemExit(
                "unity_plugin .meta files out of date (run scripts/engine_clients/unity_meta.py):\n" + "\n".join(found)
            )
        print("unity_plugin .meta files complete")
        return
    written, removed = sync()
    print(f"wrote {written} .meta files, removed {removed}")


if __name__ == "__main__":
    main()
