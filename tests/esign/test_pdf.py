"""PAdES: every level validates with pyHanko, with our verifier and with poppler's pdfsig."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

import esign
from tests.conftest import PINNED_NOW
from tests.esign.conftest import pdfsig
from verify import Indication


def _pyhanko_ok(data: bytes, roots: list) -> bool:
    reader = PdfFileReader(io.BytesIO(data))
    vc = ValidationContext(trust_roots=roots, allow_fetching=True, moment=PINNED_NOW)
    return all(
        validate_pdf_signature(sig, vc).bottom_line for sig in reader.embedded_regular_signatures
    )


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_every_level_validates_with_pyhanko_verify_and_pdfsig(
    level, demo_pki, signer_for, public_trust, checker, tsa, pdf_bytes, tmp_path: Path
) -> None:
    out = tmp_path / "signed.pdf"
    res = esign.sign_pdf(
        pdf_bytes,
        out,
        signer_for("citizen"),
        level=level,
        trust=public_trust,
        tsa_url=tsa["public"],
    )
    assert res.level == level
    assert res.output == out
    assert out.stat().st_size == res.size
    data = out.read_bytes()
    assert _pyhanko_ok(data, [demo_pki.root("public")])
    report = checker.verify_pdf(out)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.signatures[0].level == f"PAdES-{level}"
    text = pdfsig(out)
    assert "Signature is Valid." in text
    assert "Nguyễn Thị Hoà" in text
    if level in ("B-LT", "B-LTA"):
        assert b"/DSS" in data
    assert [p.name for p in tmp_path.iterdir()] == ["signed.pdf"]


def test_tampered_byte_fails_everywhere(
    signer_for, public_trust, checker, pdf_bytes, tmp_path
) -> None:
    """A flipped byte inside the signed range: pyHanko, verify and pdfsig all say invalid."""
    res = esign.sign_pdf(pdf_bytes, None, signer_for("citizen"), level="B-B", trust=public_trust)
    data = bytearray(res.data or b"")
    pos = data.index(b"595 842")
    data[pos + 2] ^= 0x01  # 595 -> 594: still a valid PDF, different bytes
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    assert checker.verify_pdf(bad).indication is Indication.TOTAL_FAILED
    assert "Signature is Valid." not in pdfsig(bad)


def test_visible_stamp_renders_vietnamese(
    signer_for, public_trust, checker, tsa, pdf_bytes, tmp_path
) -> None:
    """The visible stamp embeds a subset TrueType font with the Vietnamese glyphs."""
    out = tmp_path / "visible.pdf"
    esign.sign_pdf(
        pdf_bytes,
        out,
        signer_for("citizen"),
        level="B-T",
        trust=public_trust,
        tsa_url=tsa["public"],
        visible=esign.VisibleStamp(1, (300, 600, 560, 680)),
    )
    assert checker.verify_pdf(out).indication is Indication.TOTAL_PASSED
    data = out.read_bytes()
    assert b"/FontFile2" in data
    text = esign.pdf.stamp_text(
        esign.sign_pdf(
            pdf_bytes,
            None,
            signer_for("official"),
            profile=esign.ANY,
            level="B-B",
            trust=checker.trust,
        ).signer,
        PINNED_NOW,
    )
    assert "Ký bởi: Vũ Minh Đức" in text
    assert "Ngày ký: 01/06/2026 17:00:00" in text
    assert "Ủy ban nhân dân phường Ba Đình" in text


def test_sequential_certify_sign_countersign_all_stay_valid(
    signer_for, both_trust, checker, tsa, pdf_bytes, tmp_path
) -> None:
    """Agency certifies, citizen signs, official countersigns: three valid signatures."""
    step1 = tmp_path / "1.pdf"
    step2 = tmp_path / "2.pdf"
    step3 = tmp_path / "3.pdf"
    esign.sign_pdf(
        pdf_bytes,
        step1,
        signer_for("agency-seal"),
        profile=esign.SPECIALIZED,
        level="B-T",
        trust=both_trust,
        tsa_url=tsa["specialized"],
        certify=True,
        field_name="CoQuan",
        slots=[
            esign.SignatureSlot("CongDan", esign.VisibleStamp(1, (40, 40, 290, 110))),
            esign.SignatureSlot("CanBo", esign.VisibleStamp(1, (300, 40, 560, 110))),
        ],
    )
    esign.sign_pdf(
        step1,
        step2,
        signer_for("citizen"),
        level="B-T",
        trust=both_trust,
        tsa_url=tsa["public"],
        field_name="CongDan",
    )
    esign.sign_pdf(
        step2,
        step3,
        signer_for("official"),
        profile=esign.SPECIALIZED,
        level="B-LT",
        trust=both_trust,
        tsa_url=tsa["specialized"],
        field_name="CanBo",
    )
    report = checker.verify_pdf(step3)
    assert report.indication is Indication.TOTAL_PASSED, [s.message_en for s in report.signatures]
    assert [s.field_name for s in report.signatures][:3] == ["CoQuan", "CongDan", "CanBo"]
    assert report.signatures[0].certification
    assert pdfsig(step3).count("Signature is Valid.") == 3
    # a field created visibly after the certification is a forbidden change
    late = esign.sign_pdf(
        step1,
        None,
        signer_for("citizen"),
        level="B-B",
        trust=both_trust,
        field_name="Late",
        visible=esign.VisibleStamp(1, (300, 300, 500, 360)),
    )
    assert checker.verify_pdf(late.data or b"").signatures[0].indication is Indication.TOTAL_FAILED


def test_certification_must_come_first(signer_for, public_trust, pdf_bytes) -> None:
    first = esign.sign_pdf(pdf_bytes, None, signer_for("citizen"), level="B-B", trust=public_trust)
    with pytest.raises(esign.UsageError, match="first signature"):
        esign.sign_pdf(
            first.data or b"",
            None,
            signer_for("citizen"),
            level="B-B",
            trust=public_trust,
            certify=True,
        )


def test_change_forbidden_by_certification_breaks_it(
    signer_for, public_trust, checker, pdf_bytes, tmp_path
) -> None:
    """After a FILL_FORMS certification, rewriting page content makes it fail."""
    res = esign.sign_pdf(
        pdf_bytes, None, signer_for("citizen"), level="B-B", trust=public_trust, certify=True
    )
    w = IncrementalPdfFileWriter(io.BytesIO(res.data or b""))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    from pyhanko.pdf_utils import generic

    stream = generic.StreamObject(stream_data=b"BT /F1 30 Tf 72 500 Td (FORGED) Tj ET")
    page["/Contents"] = w.add_object(stream)
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    bad = tmp_path / "forged.pdf"
    bad.write_bytes(out.getvalue())
    report = checker.verify_pdf(bad)
    assert report.indication is not Indication.TOTAL_PASSED


def test_locked_field_cannot_be_changed_after(signer_for, public_trust, checker, pdf_bytes) -> None:
    """Each signature locks its own field (FieldMDP): the lock is in the signature."""
    res = esign.sign_pdf(
        pdf_bytes,
        None,
        signer_for("citizen"),
        level="B-B",
        trust=public_trust,
        field_name="CongDan",
        field_lock="all",
    )
    reader = PdfFileReader(io.BytesIO(res.data or b""))
    sig = reader.embedded_signatures[0]
    assert sig.fieldmdp is not None
    second = esign.sign_pdf(
        res.data or b"", None, signer_for("citizen-ec"), level="B-B", trust=public_trust
    )
    assert checker.verify_pdf(second.data or b"").indication is not Indication.TOTAL_PASSED


def test_not_a_pdf_is_an_input_error_and_leaves_nothing(signer_for, public_trust, tmp_path) -> None:
    out = tmp_path / "o.pdf"
    with pytest.raises(esign.InputError):
        esign.sign_pdf(b"hello", out, signer_for("citizen"), level="B-B", trust=public_trust)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_tsa_is_a_timestamp_error_and_leaves_nothing(
    signer_for, public_trust, pdf_bytes, tmp_path
) -> None:
    out = tmp_path / "o.pdf"
    with pytest.raises(esign.TimestampError):
        esign.sign_pdf(
            pdf_bytes,
            out,
            signer_for("citizen"),
            level="B-T",
            trust=public_trust,
            tsa_url="http://127.0.0.1:9/tsa",
        )
    assert list(tmp_path.iterdir()) == []
