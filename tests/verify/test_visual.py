"""How the signed revision and the final file are drawn for the comparison after form
filling (:mod:`verify.visual`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify import visual

DATA = Path(__file__).resolve().parents[1] / "data"
_DOCUMENTS = [
    DATA / "made" / "dossier-countersigned.pdf",
    DATA / "realworld" / "misa-ca-contract-appendix.pdf",
    *sorted((DATA / "dss").glob("*.pdf"))[:8],
]


def _first_revision_ends(data: bytes) -> list[int]:
    """Where each revision of ``data`` ends (after its ``%%EOF``)."""
    ends, at = [], 0
    while (found := data.find(b"%%EOF", at)) >= 0:
        at = found + 5
        ends.append(at)
    return ends


@pytest.mark.parametrize("path", _DOCUMENTS, ids=lambda p: p.name)
def test_both_drawings_from_one_opened_document_are_the_drawings_made_apart(path: Path) -> None:
    """Each page drawn with and without its annotations and form fields from one opened
    document is, pixel for pixel, what two separate drawings give (the revisions of a
    dossier with filled fields and signature stamps, a Vietnamese contract, EU DSS files)."""
    data = path.read_bytes()
    for end in {*_first_revision_ends(data)[:2], len(data)}:
        part = data[:end]
        try:
            full = visual._render(part, visual.MAX_PAGES, annots=True)
        except Exception:  # noqa: BLE001, S112 - a revision PDFium cannot open is not compared
            continue
        bare = visual._render(part, visual.MAX_PAGES, annots=False)
        both = visual._render_both(part, visual.MAX_PAGES)
        assert [i.tobytes() for i in both[0]] == [i.tobytes() for i in full]
        assert [i.tobytes() for i in both[1]] == [i.tobytes() for i in bare]
        assert len(full) >= 1


def test_the_countersignatures_stamp_is_drawn_only_with_the_annotations() -> None:
    """In the dossier, the official's visible stamp is an annotation: the drawing with
    annotations differs from the bare one, so both kinds of drawing are compared above."""
    data = (DATA / "made" / "dossier-countersigned.pdf").read_bytes()
    full, bare = visual._render_both(data, visual.MAX_PAGES)
    assert any(f.tobytes() != b.tobytes() for f, b in zip(full, bare, strict=True))
