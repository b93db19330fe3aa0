"""The map file's scene member is exactly ``json.dumps(extras, sort_keys=True)``, however it is encoded.

Saves encode each item of a top-level list on its own (so a background save with 100,000 anchors does
not hold the GIL for one long ``json.dumps``); the bytes must not change, or files written before and
after would differ and their checksums with them.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sora_sdk.mapping._persistence import _json_bytes

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=10), _json, max_size=5))
def test_scene_member_bytes_equal_one_json_dumps(extra: dict) -> None:
    assert _json_bytes(extra) == json.dumps(extra, sort_keys=True).encode()
    assert json.loads(_json_bytes(extra)) == extra
