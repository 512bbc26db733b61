"""Unicode handling at the boundary: NFC for storage, folding for matching.

Vietnamese text reaches us in NFC, NFD and with the tone mark on either vowel of a
diphthong ("Hòa" / "Hoà"). We store what the person typed, in NFC; we *compare* folded
forms, which drop case, every diacritic (tone marks and vowel marks) and turn "đ" into "d".
"""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["fold", "nfc", "nfc_tree", "same_text"]

MAX_DEPTH = 64


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Fold case, diacritics and tone-mark placement, for matching only.

    >>> fold("Hòa") == fold("Hoà") == fold("HOA") == "hoa"
    True
    """
    decomposed = unicodedata.normalize("NFD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("đ", "d").replace("ð", "d")
    return " ".join(stripped.split())


def same_text(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are the same words up to case, diacritics and spacing."""
    return fold(a) == fold(b)


def nfc_tree(value: Any, *, _depth: int = 0) -> Any:
    """Return a copy of a JSON value with every string (keys too) in NFC.

    Raises ``ValueError`` past :data:`MAX_DEPTH` levels of nesting.
    """
    if _depth > MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, dict):
        return {nfc(str(k)): nfc_tree(v, _depth=_depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc_tree(v, _depth=_depth + 1) for v in value]
    return value
