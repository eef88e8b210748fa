"""What a name may contain: asset names, SKUs, folder and collection names become file paths, URLs,
storefront handles and HTML, so invisible and direction-changing characters are refused at the door."""

from __future__ import annotations

import unicodedata

from ..errors import InvalidSpec

__all__ = ["bad_character", "check_name"]

# the Unicode bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069): they make
# "gpj.exe" read as "exe.jpg"
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def bad_character(text: str) -> str | None:
    """A description of the first character ``text`` may not contain (NUL, control, bidi override), or None."""
    for ch in text:
        if ch in _BIDI:
            return f"the bidirectional control U+{ord(ch):04X}"
        if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d":  # ZWJ stays (emoji sequences)
            return "NUL" if ch == "\0" else f"the control character U+{ord(ch):04X}"
    return None


def check_name(text: str | None, what: str) -> str | None:
    """``text`` stripped, or :class:`InvalidSpec` naming ``what`` and the character it may not contain."""
    if text is None:
        return None
    bad = bad_character(text)
    if bad:
        raise InvalidSpec(f"{what} {text!r} contains {bad}; names may not hold invisible or direction-changing "
                          "characters")
    return text.strip()
