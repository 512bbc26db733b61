"""Issue 18: a visible stamp made at another time is a document of the same shape.

The verifier's fast path answers a document from a template made for an earlier one of
the same shape (see :mod:`verify.fastpath`). A countersignature's stamp shows its time;
what the fast path leaves out is the stamp's drawing, not the font subset drawn with it,
nor the drawing's length. So the stamp's font subset (glyphs, widths, ToUnicode map, tag,
font program) and the drawing's length must not change with the time: every digit is in
the subset, the digits are tabular, the tag is derived from the subset.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uharfbuzz as hb
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

import esign
from eforms import stamp_for
from esign.pdf import _tabular_digits, stamp_font
from fixtures.documents import demo_signer, minimal_pdf, pinned
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import DocumentReport, TrustProfile, ValidationPolicy, Verifier, fastpath, verify_many

VN = timedelta(hours=7)
POLICY = ValidationPolicy(validation_time=PINNED_NOW)
DIGITS = "0123456789"


def _vn(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    """A moment given as Hà Nội wall-clock time (what the stamp shows)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC) - VN


def _pair(trust: TrustProfile) -> tuple[Verifier, Verifier]:
    """A new verifier with the fast path (no templates yet), and one that always
    validates in full."""
    return Verifier(trust, POLICY), Verifier(trust, POLICY.replace(fast_path=False))


def _reports(verifier: Verifier, paths: list[Path]) -> list[DocumentReport]:
    """The batch verified in order, as ``verify_many`` does it in one process."""
    return list(verify_many(paths, verifier=verifier))


def _written(tmp: Path, docs: list[bytes]) -> list[Path]:
    paths = []
    for i, doc in enumerate(docs):
        path = tmp / f"doc-{i}.pdf"
        path.write_bytes(doc)
        paths.append(path)
    return paths


def _text(pdf: Path) -> str:
    """The text poppler reads off the first page, stamps included (their ToUnicode maps)."""
    res = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return res.stdout


# -- the font ---------------------------------------------------------------------------------


def test_stamp_font_digits_are_tabular_and_unkerned_and_other_glyphs_untouched() -> None:
    """The stamp's font gives every digit one advance, kerned with nothing, and changes no
    other character's glyph or advance."""
    original = Path(stamp_font()).read_bytes()
    data = _tabular_digits(original)
    assert data == _tabular_digits(original)  # the same bytes every time
    font = hb.Font(hb.Face(data))

    def advances(text: str) -> list[int]:
        buf = hb.Buffer()
        buf.add_str(text)
        buf.guess_segment_properties()
        hb.shape(font, buf)
        return [pos.x_advance for pos in buf.glyph_positions]

    line = [advances(f"Ngày ký: {d}{d}/{d}{d}/2026 {d}{d}:{d}{d}:{d}{d} (GMT+7)") for d in DIGITS]
    assert all(one == line[0] for one in line)
    assert len(set(advances(DIGITS + "7/1:4")[:10])) == 1
    before, after = TTFont(io.BytesIO(original)), TTFont(io.BytesIO(data))
    old, new = before.getBestCmap(), after.getBestCmap()
    assert {c: g for c, g in new.items() if chr(c) not in DIGITS} == {
        c: g for c, g in old.items() if chr(c) not in DIGITS
    }
    assert all(after["hmtx"][g] == before["hmtx"][g] for g in before.getGlyphOrder())
    assert after["head"].modified == before["head"].modified


# -- one countersigner at other times ---------------------------------------------------------

COUNTERSIGNED_AT = [
    _vn(2026, 5, 20, 9, 0, 0),
    _vn(2026, 5, 28, 23, 58, 47),
    _vn(2026, 5, 31, 11, 1, 10),
]
SHOWN = ["20/05/2026 09:00:00", "28/05/2026 23:58:47", "31/05/2026 11:01:10"]


@pytest.fixture(scope="module")
def countersigned(demo_pki: DemoPKI, both_trust: TrustProfile) -> list[bytes]:
    """A citizen's signed PDF countersigned by the same official with a visible stamp at
    each of COUNTERSIGNED_AT (other dates, other digits)."""
    with pinned(_vn(2026, 5, 19, 8, 0, 0)):
        first = esign.sign_pdf(
            minimal_pdf("Ho so dang ky thuong tru", padding=2000),
            None,
            demo_signer(demo_pki, "citizen"),
            level="B-B",
            trust=both_trust,
            policy=POLICY,
        ).data
    assert first is not None
    docs = []
    for at in COUNTERSIGNED_AT:
        with pinned(at):
            res = esign.sign_pdf(
                first,
                None,
                demo_signer(demo_pki, "official"),
                profile=esign.SPECIALIZED,
                level="B-B",
                trust=both_trust,
                policy=POLICY,
                field_name="CanBo",
                visible=esign.VisibleStamp(1, (320, 60, 540, 120)),
            )
        assert res.data is not None
        docs.append(res.data)
    return docs


def test_stamps_made_at_other_times_are_answered_from_one_template(
    countersigned: list[bytes], both_trust: TrustProfile, tmp_path: Path
) -> None:
    """Countersignatures stamped by one official at other times (09:00:00, 23:58:47,
    other dates) share a shape: after the first, the fast path answers each, with the
    verdicts full validation gives."""
    paths = _written(tmp_path, countersigned)
    for path, shown in zip(paths, SHOWN, strict=True):
        text = _text(path)
        assert f"Ngày ký: {shown} (GMT+7)" in text, text
        assert "Ký bởi: Vũ Minh Đức" in text, text
    fast, full = _pair(both_trust)
    reports = _reports(fast, paths)
    assert fastpath.stats(fast)["hits"] == len(paths) - 1
    expected = _reports(full, paths)
    assert [r.to_dict() for r in reports] == [r.to_dict() for r in expected]
    assert all(r.passed for r in reports), [r.message_en for r in reports]


# -- demo-style dossiers: a citizen's stamp, then an official's ---------------------------------


@dataclass(frozen=True)
class Dossier:
    citizen: str
    code: str
    signed_at: datetime
    received_at: datetime


DOSSIERS = [
    Dossier("citizen", "260520-00001", _vn(2026, 5, 20, 8, 15, 0), _vn(2026, 5, 20, 9, 0, 0)),
    Dossier("citizen-ec", "260521-00002", _vn(2026, 5, 21, 14, 2, 9), _vn(2026, 5, 21, 16, 30, 0)),
    Dossier("citizen", "260528-00003", _vn(2026, 5, 28, 22, 10, 5), _vn(2026, 5, 28, 23, 58, 47)),
    Dossier("citizen-ec", "260531-00004", _vn(2026, 5, 31, 7, 7, 7), _vn(2026, 5, 31, 11, 1, 10)),
]
"""Two citizens (an RSA key and an ECDSA key), each with a dossier on two days. A
signer's certificate is part of a shape, so a template can only answer a citizen's
second dossier."""


def _dossier(pki: DemoPKI, trust: TrustProfile, one: Dossier) -> bytes:
    """As ``make demo`` makes one (fixtures/demo.py ``_dossier``): the citizen signs with a
    visible stamp under the declaration, the official countersigns with a stamp beside it
    and locks every field. At B-T, not the demo's B-LT: the fast path takes no PDF whose
    second signature updates the validation data again. The form is a plain PDF with this
    dossier's own bytes (a form rendered by eforms has cross-reference streams, which the
    fast path does not take either); the reason is the same for every dossier."""
    base = minimal_pdf("To khai dang ky thuong tru", padding=2000)
    base = base.replace(b"x" * len(one.code), one.code.encode(), 1)
    with pinned(one.signed_at):
        signed = esign.sign_pdf(
            base,
            None,
            demo_signer(pki, one.citizen),
            level="B-T",
            trust=trust,
            policy=POLICY,
            tsa_url=pki.tsa_url("public"),
            field_name="CongDan",
            visible=stamp_for(base, "declarant"),
        ).data
    assert signed is not None
    with pinned(one.received_at):
        received = esign.sign_pdf(
            signed,
            None,
            demo_signer(pki, "official"),
            profile=esign.SPECIALIZED,
            level="B-T",
            trust=trust,
            policy=POLICY,
            tsa_url=pki.tsa_url("specialized"),
            field_name="CanBo",
            visible=stamp_for(signed, "official"),
            field_lock="all",
            reason="Tiếp nhận hồ sơ",
            location="Hà Nội",
        ).data
    assert received is not None
    return received


@pytest.fixture(scope="module")
def dossiers(demo_pki: DemoPKI, both_trust: TrustProfile) -> list[bytes]:
    return [_dossier(demo_pki, both_trust, one) for one in DOSSIERS]


def test_demo_style_dossiers_of_two_citizens_pass_as_full_validation_says(
    dossiers: list[bytes], both_trust: TrustProfile, tmp_path: Path
) -> None:
    """Demo-style dossiers (citizen's stamp, then the official's) of two citizens signed at
    other times all pass, with the reports full validation gives."""
    paths = _written(tmp_path, dossiers)
    fast, full = _pair(both_trust)
    reports = _reports(fast, paths)
    assert all(r.passed for r in reports), [r.message_en for r in reports]
    assert [r.to_dict() for r in reports] == [r.to_dict() for r in _reports(full, paths)]
    assert [[s.field_name for s in r.signatures] for r in reports] == [["CongDan", "CanBo"]] * 4
    assert "Ngày ký: 28/05/2026 22:10:05 (GMT+7)" in _text(paths[2])


def test_a_citizens_second_dossier_is_answered_from_the_template_of_the_first(
    dossiers: list[bytes], both_trust: TrustProfile, tmp_path: Path
) -> None:
    """A citizen's second dossier, both its signatures made days after the first
    dossier's, is answered from the first one's template."""
    mine = [doc for one, doc in zip(DOSSIERS, dossiers, strict=True) if one.citizen == "citizen"]
    paths = _written(tmp_path, mine)
    fast, full = _pair(both_trust)
    reports = _reports(fast, paths)
    assert [r.to_dict() for r in reports] == [r.to_dict() for r in _reports(full, paths)]
    assert fastpath.stats(fast)["hits"] == len(paths) - 1
