"""A small named colour palette and the dominant colour of a set of shaded surface colours.

Mesh colours are albedo times shading (the TSDF averages what the camera saw), so a white box's sides
can be as dark as a grey box's top. Hue and saturation survive shading; brightness does not. The
dominant colour is therefore taken from the best-lit points (the brightest half, which on a lit scene
are the faces turned to the light), and named by hue for saturated colours and by brightness for
the others (:func:`color_name`).
"""

from __future__ import annotations

import numpy as np

from sora_sdk.core.scene import NAMED_COLORS

__all__ = ["PALETTE", "color_name", "dominant_color"]

#: Names and reference colours (uint8 RGB); names match the dialogue layer's colour words.
PALETTE: dict[str, tuple[int, int, int]] = NAMED_COLORS

# Hue sectors (degrees, start of each) of the saturated colour names; pink and brown are told from red
# and orange by saturation and brightness below.
_HUES = ((0.0, "red"), (15.0, "orange"), (45.0, "yellow"), (75.0, "green"), (165.0, "cyan"), (200.0, "blue"),
         (255.0, "purple"), (300.0, "pink"), (340.0, "red"))  # fmt: skip
# Saturation below which a colour is achromatic (white / gray / black); above 0.25 on every palette colour.
_MIN_SATURATION = 0.25
# Value (max channel, 0..255) bounds of the achromatic names, and of brown against orange, for a lit face.
_WHITE_MIN_VALUE = 175.0
_BLACK_MAX_VALUE = 70.0
_BROWN_MAX_VALUE = 160.0
# Pink: a red-to-magenta hue with a washed-out saturation (palette pink 0.49, red 0.85).
_PINK_MAX_SATURATION = 0.65


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, 3) RGB in 0..255 -> hue (n,) degrees 0..360, saturation (n,) 0..1, value (n,) 0..255."""
    c = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
    mx, mn = c.max(axis=1), c.min(axis=1)
    d = mx - mn
    safe = np.where(d > 0, d, 1.0)
    r, g, b = c[:, 0], c[:, 1], c[:, 2]
    h = np.where(mx == r, ((g - b) / safe) % 6.0, np.where(mx == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    h = np.where(d > 0, h * 60.0, 0.0)
    s = np.where(mx > 0, d / np.where(mx > 0, mx, 1.0), 0.0)
    return h, s, mx


def color_name(rgb: tuple[int, int, int] | np.ndarray) -> str:
    """The palette name of one lit colour (uint8 RGB), by hue, saturation and brightness."""
    h, s, v = (float(x[0]) for x in _hsv(np.asarray(rgb, dtype=np.float64)))
    if s < _MIN_SATURATION:
        if v >= _WHITE_MIN_VALUE:
            return "white"
        return "black" if v <= _BLACK_MAX_VALUE else "gray"
    if v <= _BLACK_MAX_VALUE * 0.6:
        return "black"
    name = "red"
    for start, n in _HUES:
        if h >= start:
            name = n
    if name in ("red", "pink") and s < _PINK_MAX_SATURATION and v > _BROWN_MAX_VALUE:
        return "pink"
    if name == "pink" and s >= _PINK_MAX_SATURATION:
        return "red" if h >= 330.0 else "purple"
    if name in ("orange", "red") and 10.0 <= h < 45.0 and v < _BROWN_MAX_VALUE:
        return "brown"
    return name


def dominant_color(colors: np.ndarray) -> tuple[tuple[int, int, int], str]:
    """Dominant colour of (n, 3) uint8 RGB surface colours -> (RGB, palette name).

    The median of the brightest half (by value): the lit faces, where the albedo shows best.
    """
    c = np.asarray(colors, dtype=np.float64).reshape(-1, 3)
    if len(c) == 0:
        return (0, 0, 0), ""
    _, _, v = _hsv(c)
    lit = c[v >= np.median(v)]
    rgb = np.median(lit, axis=0)
    r, g, b = (int(x) for x in np.rint(rgb))
    out = (r, g, b)
    return out, color_name(np.asarray(out))
