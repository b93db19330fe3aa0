"""Lip-sync: espeak-ng phoneme events to Oculus' 15 visemes and ARKit-style mouth/jaw blendshapes.

The phoneme → viseme table follows the Oculus Lipsync "Viseme Reference" (Meta developer docs), which
defines the 15 visemes by example sounds: sil = silence; PP = p, b, m (put, bat, mat); FF = f, v (fat, vat);
TH = th (think, that); DD = t, d (tip, doll); kk = k, g (call, gas); CH = ch, j, sh (chair, join, she);
SS = s, z (sir, zeal); nn = n, l (lot, not); RR = r (red); aa = car; E = bed; ih = tip; oh = toe; ou = book.
The keys of PHONEME_TO_VISEME are espeak-ng's mnemonics for those sounds in its en-us phoneme set
(``phsource/ph_english``, ``ph_english_us``: T/D = th, tS/dZ/S = ch/j/sh, A: = car, E = bed, I = tip,
oU = toe, U = book). Sounds the reference does not list are placed by articulation: Z (measure) with CH,
N (sing) with kk, w with ou (rounded lips), j (yes) with ih, schwa with E, r-coloured vowels (3:) with RR,
a/V/aI/aU (cat, cut, price, mouth) with aa (the jaw opens first), O:/OI (thought, choice) with oh, and
h / glottal stop take the shape of the next sound (the mouth is already forming it).

The blendshape weights per viseme are ours (the reference gives images, not numbers): a few ARKit face
blendshapes per mouth shape, tuned so the shapes are distinct and no weight exceeds 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "BLENDSHAPE_NAMES",
    "PHONEME_TO_VISEME",
    "VISEMES",
    "VISEME_BLENDSHAPES",
    "VisemeOptions",
    "VisemeTrack",
    "blendshape_frames",
    "phoneme_to_viseme",
    "slice_track",
    "viseme_track",
]

#: Oculus' 15 visemes, names as AvatarEvent.visemes carries them (proto VISEME_<NAME.upper()>).
VISEMES: tuple[str, ...] = ("sil", "pp", "ff", "th", "dd", "kk", "ch", "ss", "nn", "rr", "aa", "e", "i", "o", "u")

_INHERIT = ""  # takes the viseme of the next sound

#: espeak-ng en-us phoneme mnemonic (without stress marks) → viseme.
PHONEME_TO_VISEME: dict[str, str] = {
    # consonants
    "p": "pp", "b": "pp", "m": "pp", "m-": "pp",
    "f": "ff", "v": "ff",
    "T": "th", "D": "th",
    "t": "dd", "d": "dd", "t#": "dd", "d#": "dd", "t2": "dd", "d2": "dd", "*": "dd",
    "k": "kk", "g": "kk", "N": "kk", "x": "kk", "C": "kk", "k#": "kk",
    "tS": "ch", "dZ": "ch", "S": "ch", "Z": "ch", "S;": "ch",
    "s": "ss", "z": "ss", "s2": "ss", "z#": "ss",
    "n": "nn", "l": "nn", "n-": "nn", "l-": "nn", "L": "nn", "@L": "nn", "l/": "nn", "l/2": "nn",
    "r": "rr", "r-": "rr", "3": "rr", "3:": "rr", "@r": "rr", "r/": "rr",
    "w": "u", "j": "i",
    "h": _INHERIT, "?": _INHERIT,
    # vowels
    "a": "aa", "aa": "aa", "a#": "aa", "A:": "aa", "A@": "aa", "A#": "aa", "V": "aa", "0": "aa",
    "aI": "aa", "aI@": "aa", "aI3": "aa", "aU": "aa", "aU@": "aa", "a2": "aa",
    "e": "e", "E": "e", "E2": "e", "E3": "e", "e@": "e", "eI": "e", "@": "e", "@2": "e", "@5": "e", "@-": "e",
    "i": "i", "i:": "i", "I": "i", "I#": "i", "I2": "i", "i@": "i", "i@3": "i", "iU": "i",
    "o": "o", "oU": "o", "O": "o", "O:": "o", "O@": "o", "o@": "o", "OI": "o", "0#": "o", "O2": "o",
    "u": "u", "u:": "u", "U": "u", "U@": "u", "u@": "u", "U#": "u",
}  # fmt: skip

_FIRST_CHAR = {
    "p": "pp", "b": "pp", "m": "pp", "f": "ff", "v": "ff", "T": "th", "D": "th", "t": "dd", "d": "dd",
    "k": "kk", "g": "kk", "N": "kk", "s": "ss", "z": "ss", "S": "ch", "Z": "ch", "n": "nn", "l": "nn",
    "r": "rr", "a": "aa", "A": "aa", "V": "aa", "e": "e", "E": "e", "@": "e", "i": "i", "I": "i", "o": "o",
    "O": "o", "u": "u", "U": "u", "w": "u", "j": "i", "3": "rr", "0": "aa",
}  # fmt: skip

_VOWEL_VISEMES = frozenset({"aa", "e", "i", "o", "u"})
_STRESS = re.compile(r"^[',%=]+")

#: ARKit blendshape names the visemes drive.
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthPressLeft", "mouthPressRight", "mouthRollLower",
    "mouthRollUpper", "mouthUpperUpLeft", "mouthUpperUpRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "tongueOut",
)  # fmt: skip


def _sym(**w: float) -> dict[str, float]:
    """Expands ``smile=0.3`` into mouthSmileLeft/Right etc. for the paired shapes."""
    out: dict[str, float] = {}
    pairs = {"smile": "mouthSmile", "stretch": "mouthStretch", "press": "mouthPress", "upperUp": "mouthUpperUp",
             "lowerDown": "mouthLowerDown"}  # fmt: skip
    for k, v in w.items():
        if k in pairs:
            out[pairs[k] + "Left"] = v
            out[pairs[k] + "Right"] = v
        else:
            out[k] = v
    return out


#: Full-weight blendshapes of each viseme (missing names are 0).
VISEME_BLENDSHAPES: dict[str, dict[str, float]] = {
    "sil": {},
    "pp": _sym(jawOpen=0.04, mouthClose=0.08, press=0.6, mouthRollLower=0.25, mouthRollUpper=0.2),
    "ff": _sym(jawOpen=0.1, mouthRollLower=0.55, upperUp=0.3),
    "th": _sym(jawOpen=0.18, tongueOut=0.45, stretch=0.1),
    "dd": _sym(jawOpen=0.22, stretch=0.2, upperUp=0.1),
    "kk": _sym(jawOpen=0.28, stretch=0.22),
    "ch": _sym(jawOpen=0.15, mouthFunnel=0.55, mouthPucker=0.3, upperUp=0.2),
    "ss": _sym(jawOpen=0.08, stretch=0.45, smile=0.2),
    "nn": _sym(jawOpen=0.16, stretch=0.15),
    "rr": _sym(jawOpen=0.2, mouthFunnel=0.35, mouthPucker=0.3),
    "aa": _sym(jawOpen=0.7, stretch=0.1, lowerDown=0.3),
    "e": _sym(jawOpen=0.4, stretch=0.4, smile=0.2),
    "i": _sym(jawOpen=0.18, smile=0.5, stretch=0.3),
    "o": _sym(jawOpen=0.5, mouthFunnel=0.6, mouthPucker=0.3),
    "u": _sym(jawOpen=0.18, mouthPucker=0.75, mouthFunnel=0.4),
}


def phoneme_to_viseme(name: str) -> str | None:
    """espeak-ng phoneme mnemonic (stress marks allowed) → viseme; "sil" for pauses; None = next sound's."""
    p = _STRESS.sub("", name)
    if not p or p.startswith(("_", "|")):
        return "sil"
    v = PHONEME_TO_VISEME.get(p)
    if v is None:
        v = PHONEME_TO_VISEME.get(p.rstrip("0123456789#/;-"), None)
    if v is None:
        v = _FIRST_CHAR.get(p[0], "sil" if not p[0].isalnum() else "e")
    return v or None


@dataclass(frozen=True)
class VisemeOptions:
    """unstressed_weight: weight of vowels without primary/secondary stress (stressed vowels and consonants
    weigh 1). blend_s: coarticulation cross-fade between neighbouring mouth shapes, seconds, centred on each
    key. frame_rate_hz: blendshape frames per second of audio."""

    unstressed_weight: float = 0.7
    blend_s: float = 0.05
    frame_rate_hz: float = 60.0


@dataclass(frozen=True)
class VisemeTrack:
    """keys: [(viseme, start_s, weight)], start times strictly increasing, first key "sil" at 0, last key
    "sil"; each key holds until the next. frames: [(time_s, {blendshape: weight})] at a fixed rate covering
    [0, duration_s]. Times are seconds from the first audio sample."""

    keys: list[tuple[str, float, float]]
    frames: list[tuple[float, dict[str, float]]]
    duration_s: float


def viseme_track(
    phonemes: list[tuple[str, float]], duration_s: float, options: VisemeOptions | None = None
) -> VisemeTrack:
    """Viseme keys and blendshape frames for one synthesised utterance.

    phonemes: [(espeak-ng mnemonic, start_s)] as SpeechResult.phonemes gives them; duration_s: audio length.
    """
    o = options or VisemeOptions()
    raw: list[tuple[str | None, float, float]] = []
    for name, t in phonemes:
        v = phoneme_to_viseme(name)
        stressed = name.startswith(("'", ","))
        w = 1.0 if (v not in _VOWEL_VISEMES or stressed) else o.unstressed_weight
        raw.append((v, min(max(t, 0.0), duration_s), w))
    # "inherit" sounds (h, glottal stop) take the next sound's shape from their own start.
    resolved: list[tuple[str, float, float]] = []
    for i, (v, t, w) in enumerate(raw):
        if v is None:
            nxt = next((x for x in raw[i + 1 :] if x[0] is not None), ("sil", t, 1.0))
            v, w = nxt[0], nxt[2]
        resolved.append((v, t, w))  # type: ignore[arg-type]
    keys: list[tuple[str, float, float]] = [("sil", 0.0, 1.0)]
    for v, t, w in resolved:
        if t >= duration_s:
            continue
        if len(keys) == 1 and t <= 0.0 and v != "sil":
            t = min(1e-3, duration_s / 2)  # the track always opens closed
        if t <= keys[-1][1]:
            if len(keys) > 1:  # same instant: the later sound wins
                keys[-1] = (v, keys[-1][1], w)
            continue
        if (v, w) != (keys[-1][0], keys[-1][2]):
            keys.append((v, t, w))
    if keys[-1][0] != "sil":
        keys.append(("sil", max(keys[-1][1] + 1e-3, duration_s), 1.0))
    return VisemeTrack(keys, blendshape_frames(keys, duration_s, o), duration_s)


def _shape(key: tuple[str, float, float]) -> dict[str, float]:
    v, _t, w = key
    return {n: x * w for n, x in VISEME_BLENDSHAPES[v].items()}


def blendshape_frames(
    keys: list[tuple[str, float, float]], duration_s: float, options: VisemeOptions | None = None
) -> list[tuple[float, dict[str, float]]]:
    """Samples the keys at ``frame_rate_hz`` with a linear cross-fade of ``blend_s`` centred on each key.

    Returns [(time_s, {name: weight})] for t = 0, 1/rate, … ≤ duration_s; every frame lists all
    BLENDSHAPE_NAMES.
    """
    o = options or VisemeOptions()
    n = int(duration_s * o.frame_rate_hz) + 1
    half = o.blend_s / 2
    frames: list[tuple[float, dict[str, float]]] = []
    k = 0
    for f in range(n):
        t = f / o.frame_rate_hz
        while k + 1 < len(keys) and keys[k + 1][1] - half <= t:
            k += 1
        cur = _shape(keys[k])
        a = 1.0 if k == 0 or o.blend_s <= 0 else min(1.0, max(0.0, (t - (keys[k][1] - half)) / o.blend_s))
        prev = _shape(keys[k - 1]) if k > 0 and a < 1.0 else {}
        frames.append(
            (t, {name: round(a * cur.get(name, 0.0) + (1 - a) * prev.get(name, 0.0), 4) for name in BLENDSHAPE_NAMES})
        )
    return frames


def slice_track(
    track: VisemeTrack, t0_s: float, t1_s: float, offset_s: float = 0.0
) -> tuple[list[tuple[str, float, float]], list[tuple[float, dict[str, float]]]]:
    """The keys and frames for audio [t0_s, t1_s), shifted by ``offset_s`` (the utterance's start in the
    turn). The key active at t0_s is restated at t0_s so each slice stands alone."""
    keys: list[tuple[str, float, float]] = []
    for i, (v, t, w) in enumerate(track.keys):
        nxt = track.keys[i + 1][1] if i + 1 < len(track.keys) else float("inf")
        if nxt <= t0_s or t >= t1_s:
            continue
        keys.append((v, max(t, t0_s) + offset_s, w))
    frames = [(t + offset_s, w) for t, w in track.frames if t0_s <= t < t1_s]
    return keys, frames
