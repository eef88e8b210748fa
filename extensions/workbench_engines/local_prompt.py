"""Prompt words → a scene spec for the procedural ``local`` engine.

The local engine does not understand language; it looks for a small, documented vocabulary in the prompt
(case-insensitive, whole words) and turns what it finds into a :class:`SceneSpec`. Anything else in the
prompt is ignored. The vocabulary:

**Scenes / backgrounds** (first match wins, longest phrase first):
``white studio`` (also ``studio``, ``white background``, ``seamless``), ``grey studio``/``gray studio``,
``black studio``/``dark studio``, ``beige linen``/``linen``, ``marble``, ``concrete``, ``wood``/``wooden``/``oak``/``walnut``,
``sunset``, ``pastel``, ``gradient``, ``outdoor``/``park``/``garden``, ``kitchen counter``/``kitchen``,
``beach``. A colour word followed by ``background``/``backdrop`` (or ``on <colour>``) gives a plain studio of
that colour.

**Colourways** (recolour the product, shading preserved): ``in <colour>``, ``colourway <colour>``,
``colorway <colour>``, ``<colour> colourway``, ``<colour> version``.

**Colours**: see :data:`COLOURS` (``navy``, ``red``, ``forest green``, ``sage``, ``mustard`` …).

**Light / mood**: ``warm``, ``cool``/``cold``, ``moody``/``dramatic``, ``bright``, ``high key``/``high-key``,
``golden hour``, ``soft light`` (neutral).

**Framing**: ``close-up``/``closeup``/``close up``/``macro``/``detail``, ``wide``/``wide shot``/``lifestyle``,
``flat lay``/``flat-lay``/``flatlay``/``top-down``/``overhead`` (seen from above: the surface fills the frame
and the product casts an offset drop shadow).

**Aspect**: ``1:1``, ``4:5``, ``16:9`` … anywhere in the prompt (the request's ``aspect`` wins).

**Reflection**: ``reflection``/``reflective``/``glossy``/``mirror`` gives a floor reflection (a faint one is
on by default on ``marble`` and ``dark studio``).

**Removals**: ``no <thing>``/``without <thing>`` in the prompt, or ``<thing>`` in the negative prompt, for
``shadow``, ``props``, ``vignette``, ``reflection``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["COLOURS", "SCENES", "SceneSpec", "parse_prompt"]

#: Named colours (sRGB) the engine understands, for colourways and plain backgrounds.
COLOURS: dict[str, tuple[int, int, int]] = {
    "forest green": (34, 85, 51), "sky blue": (120, 175, 225), "royal blue": (45, 75, 170),
    "navy blue": (28, 38, 78), "light blue": (160, 200, 230), "dark green": (30, 70, 40),
    "light grey": (205, 205, 208), "light gray": (205, 205, 208), "dark grey": (70, 72, 76),
    "dark gray": (70, 72, 76), "hot pink": (230, 70, 150), "baby pink": (245, 200, 210),
    "navy": (28, 38, 78), "red": (190, 30, 40), "crimson": (170, 20, 45), "burgundy": (110, 25, 40),
    "maroon": (110, 30, 35), "pink": (235, 150, 175), "rose": (220, 130, 150), "coral": (240, 120, 95),
    "orange": (235, 120, 30), "peach": (250, 190, 160), "yellow": (240, 205, 40), "mustard": (205, 160, 40),
    "gold": (210, 170, 60), "green": (50, 140, 70), "olive": (110, 115, 50), "sage": (150, 170, 135),
    "mint": (170, 225, 195), "teal": (20, 125, 130), "turquoise": (50, 190, 190), "blue": (40, 90, 190),
    "cobalt": (30, 70, 180), "purple": (110, 50, 150), "lavender": (190, 170, 225), "lilac": (200, 165, 215),
    "violet": (130, 70, 190), "brown": (115, 75, 45), "chocolate": (85, 50, 30), "tan": (200, 165, 120),
    "camel": (190, 145, 90), "khaki": (185, 170, 120), "beige": (225, 210, 185), "cream": (245, 238, 215),
    "ivory": (248, 244, 230), "white": (245, 245, 245), "black": (25, 25, 28), "charcoal": (55, 57, 62),
    "grey": (140, 140, 145), "gray": (140, 140, 145), "silver": (190, 192, 196), "sand": (215, 195, 160),
    "terracotta": (190, 95, 65), "rust": (170, 80, 40),
}

#: Scene names and the phrases that select them (longest phrases are tried first).
SCENES: dict[str, tuple[str, ...]] = {
    "white_studio": ("white studio", "studio", "white background", "seamless", "plain background"),
    "grey_studio": ("grey studio", "gray studio"),
    "dark_studio": ("black studio", "dark studio", "black background"),
    "linen": ("beige linen", "linen"),
    "marble": ("marble",),
    "concrete": ("concrete",),
    "wood": ("wooden", "wood", "oak", "walnut", "timber"),
    "sunset": ("sunset",),
    "pastel": ("pastel",),
    "gradient": ("gradient",),
    "outdoor": ("outdoor", "outdoors", "park", "garden"),
    "kitchen": ("kitchen counter", "kitchen"),
    "beach": ("beach",),
}

_MOODS = {
    "golden hour": "golden_hour", "high key": "high_key", "high-key": "high_key", "warm": "warm",
    "cool": "cool", "cold": "cool", "moody": "moody", "dramatic": "moody", "bright": "bright",
}
_FRAMING = {
    "flat lay": "flatlay", "flat-lay": "flatlay", "flatlay": "flatlay", "top-down": "flatlay",
    "overhead": "flatlay", "close-up": "close", "closeup": "close", "close up": "close", "macro": "close", "detail": "close",
    "wide shot": "wide", "wide": "wide", "lifestyle": "wide",
}
_REMOVABLE = ("shadow", "props", "vignette", "reflection")
_REFLECT_WORDS = ("reflection", "reflective", "glossy", "mirror")
_COLOUR_ALT = "|".join(re.escape(c) for c in sorted(COLOURS, key=len, reverse=True))
_COLOURWAY_RES = (
    re.compile(rf"\b(?:colou?rway|in)\s+(?:a\s+|an\s+)?({_COLOUR_ALT})\b"),
    re.compile(rf"\b({_COLOUR_ALT})\s+(?:colou?rway|version)\b"),
)
_BG_COLOUR_RES = (
    re.compile(rf"\b({_COLOUR_ALT})\s+(?:background|backdrop|studio)\b"),
    re.compile(rf"\bon\s+(?:a\s+)?({_COLOUR_ALT})\b(?!\s+(?:colou?rway|version))"),
)
_ASPECT_RE = re.compile(r"\b(\d{1,2})\s*:\s*(\d{1,2})\b")


@dataclass(frozen=True)
class SceneSpec:
    """What the local engine will draw, decided from the prompt words."""

    scene: str = "white_studio"
    background_colour: tuple[int, int, int] | None = None
    colourway: str | None = None
    moods: tuple[str, ...] = ()
    framing: str = "default"
    aspect: str | None = None
    shadow: bool = True
    props: bool = True
    vignette: bool = True
    reflection: float = 0.0  # opacity of the floor reflection at the product's base (0 = none)

    @property
    def colourway_rgb(self) -> tuple[int, int, int] | None:
        """The sRGB value of the requested colourway, if any."""
        return COLOURS.get(self.colourway) if self.colourway else None


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text) is not None


def parse_prompt(prompt: str, negative: str | None = None) -> SceneSpec:
    """Read the documented vocabulary out of ``prompt`` (and ``negative``) into a :class:`SceneSpec`."""
    text = " ".join(prompt.lower().split())
    neg = " ".join((negative or "").lower().split())
    colourway = None
    for rx in _COLOURWAY_RES:
        m = rx.search(text)
        if m:
            colourway = m.group(1)
            break
    bg_colour = None
    for rx in _BG_COLOUR_RES:
        m = rx.search(text)
        if m and m.group(1) != colourway:
            bg_colour = COLOURS[m.group(1)]
            break
    scene = None
    phrases = sorted(((p, s) for s, ps in SCENES.items() for p in ps), key=lambda t: len(t[0]), reverse=True)
    # position decides between two scene words; the longest phrase wins at one position
    hits = [(m.start(), -len(p), s) for p, s in phrases for m in [re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text)] if m]
    if hits:
        scene = min(hits)[2]
    if scene is None:
        scene = "color_studio" if bg_colour else "white_studio"
    elif bg_colour and scene in ("white_studio", "grey_studio") and bg_colour not in (
            COLOURS["white"], COLOURS["grey"], COLOURS["black"]):
        scene = "color_studio"
    moods = tuple(dict.fromkeys(v for k, v in _MOODS.items() if _has(text, k)))
    if "golden_hour" in moods:
        moods = tuple(m for m in moods if m != "warm")
    framing = next((v for k, v in _FRAMING.items() if _has(text, k)), "default")
    am = _ASPECT_RE.search(text)
    aspect = f"{int(am.group(1))}:{int(am.group(2))}" if am and int(am.group(1)) and int(am.group(2)) else None
    removed = {
        word for word in _REMOVABLE
        if re.search(rf"\b(?:no|without)\s+{word}s?\b", text) or _has(neg, word) or _has(neg, word.rstrip("s"))
    }
    if _has(neg, "prop"):
        removed.add("props")
    reflection = 0.0
    if "reflection" not in removed:
        if any(_has(text, w) for w in _REFLECT_WORDS) and not re.search(r"\b(?:no|without)\s+reflections?\b", text):
            reflection = 0.28
        elif scene in ("marble", "dark_studio"):
            reflection = 0.12
    return SceneSpec(
        reflection=reflection,
        scene=scene, background_colour=bg_colour, colourway=colourway, moods=moods, framing=framing,
        aspect=aspect, shadow="shadow" not in removed, props="props" not in removed,
        vignette="vignette" not in removed,
    )
