"""Unicode boundary: NFC storage, folded matching."""

from __future__ import annotations

import unicodedata

import pytest

from eforms.text import fold, nfc, nfc_tree, same_text


def test_tone_mark_placement_and_case_fold() -> None:
    """ "Hòa" (old style), "Hoà" (new style), "HOA" and "hoa" all match."""
    assert same_text("Hòa", "Hoà")
    assert fold("Nguyễn Thị Hoà") == fold("NGUYEN THI HOA") == "nguyen thi hoa"
    assert fold("Đặng") == "dang"


def test_nfc_tree_normalises_strings_and_keys() -> None:
    """Decomposed input comes out NFC, keys included; other values untouched."""
    decomposed = unicodedata.normalize("NFD", "Việt")
    out = nfc_tree({decomposed: [decomposed, 1, None]})
    assert out == {"Việt": ["Việt", 1, None]}
    assert nfc(decomposed) == "Việt"


def test_nfc_tree_bounds_depth() -> None:
    """Nesting deeper than the bound is refused, not recursed into."""
    deep: object = "x"
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError, match="deeper"):
        nfc_tree(deep)
