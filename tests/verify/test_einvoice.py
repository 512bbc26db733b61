"""The invoice as an auditor reads it: facts from the signed elements only, and the MST check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from fixtures.einvoice import DS, INVOICE_ID, MCCQT_ID, invoice_xml, sign_strict
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import Indication, SubIndication, TrustProfile, ValidationPolicy, Verifier
from verify.einvoice import FACT_KEYS, invoice_facts
from verify.xmldsig import inspect_xml

SIGNED_AT = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
REAL = Path(__file__).resolve().parents[1] / "data" / "realworld" / "ca2-einvoice-seller-signed.xml"


@pytest.fixture(scope="module")
def verifier(demo_pki: DemoPKI) -> Verifier:
    trust = TrustProfile.custom([demo_pki.root("public")], name="demo", hierarchy="public")
    trust = trust.with_extra_anchors([demo_pki.root("specialized")], hierarchy="specialized")
    return Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW, revocation="soft"))


def test_facts_of_a_signed_invoice_with_tax_authority_code(
    demo_pki: DemoPKI, verifier: Verifier, validate_report: Callable[[dict[str, Any]], None]
) -> None:
    """Every fact is read from the signed DLHDon and the tax authority's signed MCCQT."""
    xml = sign_strict(invoice_xml(mccqt="00ABCDEF"), demo_pki, "organisation", at=SIGNED_AT)
    xml = sign_strict(xml, demo_pki, "agency-seal", at=SIGNED_AT, place="CQT", targets=(MCCQT_ID,))
    report = verifier.verify(xml)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.facts == {
        "form": "1",
        "series": "C26TAA",
        "number": "42",
        "date": "2026-05-20",
        "seller_mst": "0100047516",
        "seller_name": "CÔNG TY TNHH GIẢI PHÁP HỒ SƠ SỐ",
        "buyer_name": "CÔNG TY CỔ PHẦN THƯƠNG MẠI BÌNH MINH",
        "buyer_mst": "0312345678",
        "total": "10800000",
        "tax_authority_code": "00ABCDEF",
        "seller_certificate_mst": "0100047516",
        "seller_mst_matches": True,
        "seller_covers_dlhdon": True,
        "tax_authority_covers_mccqt": True,
    }
    assert [(s.role, s.covers) for s in report.signatures] == [
        ("seller", ("DLHDon", "SigningTime")),
        ("tax_authority", ("MCCQT", "SigningTime")),
    ]
    validate_report(report.to_dict())
    assert report.to_dict()["facts"]["tax_authority_code"] == "00ABCDEF"


def test_unsigned_mccqt_is_not_a_fact(demo_pki: DemoPKI) -> None:
    """An MCCQT no tax-authority signature covers is never reported as the code."""
    xml = sign_strict(invoice_xml(mccqt="00FORGED"), demo_pki, "organisation", at=SIGNED_AT)
    facts = invoice_facts(inspect_xml(xml))
    assert facts is not None
    assert facts["tax_authority_code"] is None
    assert facts["tax_authority_covers_mccqt"] is None


def test_tax_authority_not_covering_mccqt(demo_pki: DemoPKI, verifier: Verifier) -> None:
    """A tax-authority signature over DLHDon but not MCCQT: INDETERMINATE, constraint failure."""
    xml = sign_strict(invoice_xml(mccqt="00ABCDEF"), demo_pki, "organisation", at=SIGNED_AT)
    xml = sign_strict(
        xml, demo_pki, "agency-seal", at=SIGNED_AT, place="CQT", targets=(INVOICE_ID,)
    )
    report = verifier.verify(xml)
    cqt = report.signatures[1]
    assert (cqt.indication, cqt.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )
    assert "MCCQT" in cqt.message_en
    assert report.facts is not None
    assert report.facts["tax_authority_covers_mccqt"] is False
    assert report.facts["tax_authority_code"] is None


def test_facts_after_the_signature_only_from_the_signed_copy(demo_pki: DemoPKI) -> None:
    """A change to DLHDon after signing leaves no facts: the signed element is not intact."""
    xml = sign_strict(invoice_xml(), demo_pki, "organisation", at=SIGNED_AT)
    forged = xml.replace(b"10800000", b"1080", 1)
    facts = invoice_facts(inspect_xml(forged))
    assert facts is not None
    assert facts["total"] is None
    assert facts["seller_mst"] is None


def test_tax_message_envelope_is_read(demo_pki: DemoPKI) -> None:
    """An invoice inside /TDiep/DLieu/HDon is read the same way."""
    xml = sign_strict(invoice_xml(envelope=True), demo_pki, "organisation", at=SIGNED_AT)
    facts = invoice_facts(inspect_xml(xml))
    assert facts is not None
    assert facts["number"] == "42"
    assert facts["seller_mst_matches"] is True


def test_real_invoice_facts() -> None:
    """The real CA2 invoice: its facts, and its certificate MST equals the seller MST."""
    facts = invoice_facts(inspect_xml(REAL.read_bytes()))
    assert facts is not None
    assert set(facts) == set(FACT_KEYS)
    assert (facts["series"], facts["number"], facts["date"]) == ("C25TLG", "159", "2025-10-23")
    assert facts["seller_mst"] == facts["seller_certificate_mst"] == "0312585298"
    assert facts["seller_mst_matches"] is True


def test_declaration_role_and_no_invoice_facts(demo_pki: DemoPKI) -> None:
    """A tax declaration signed in CKyDTu: role declarant, and no invoice facts."""
    decl = b'<HSoThueDTu><HSoKhaiThue Id="HS-1"><MST>0100047516</MST></HSoKhaiThue></HSoThueDTu>'
    xml = sign_strict(
        decl, demo_pki, "organisation", at=SIGNED_AT, place="CKyDTu", targets=("HS-1",)
    )
    inspection = inspect_xml(xml)
    (check,) = inspection.checks
    assert check.role == "declarant"
    assert check.intact
    assert check.covers_expected is None
    assert invoice_facts(inspection) is None


@pytest.mark.parametrize(
    ("parent", "grandparent", "role"),
    [
        ("NMua", "DSCKS", "buyer"),
        ("TTCQT", "DSCKS", "tax_official"),
        ("NBan", "Other", None),
    ],
)
def test_roles_by_place(parent: str, grandparent: str, role: str | None) -> None:
    """Roles come from where the signature sits."""
    from verify.xmldsig import _role

    root = etree.Element("TBao")
    holder = etree.SubElement(etree.SubElement(root, grandparent), parent)
    sig = etree.SubElement(holder, f"{{{DS}}}Signature")
    assert _role(sig) == role


def test_each_role_signs_under_its_own_hierarchy(demo_pki: DemoPKI) -> None:
    """The seller signs under the public hierarchy, the tax authority under the specialized
    one: a tax-authority certificate in the seller's place (or the reverse) is
    INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE naming both hierarchies."""
    trust = TrustProfile.custom([demo_pki.root("public")], name="demo", hierarchy="public")
    trust = trust.with_extra_anchors([demo_pki.root("specialized")], hierarchy="specialized")
    verifier = Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW, revocation="soft"))
    at = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
    base = invoice_xml(mccqt="00A1B2C3D4E5F60718293A4B5C")
    swapped = sign_strict(base, demo_pki, "agency-seal", at=at)
    swapped = sign_strict(
        swapped, demo_pki, "organisation", at=at, place="CQT", targets=(MCCQT_ID,)
    )
    report = verifier.verify(swapped)
    seller, tax = report.signatures
    for sig, wanted in ((seller, "public"), (tax, "specialized")):
        assert (sig.indication, sig.sub_indication) == (
            Indication.INDETERMINATE,
            SubIndication.CHAIN_CONSTRAINTS_FAILURE,
        ), sig.message_en
        assert f"must chain to the {wanted} hierarchy" in sig.message_en
    assert "chuyên dùng" in tax.message_vi


def test_a_run_over_many_invoices_of_one_seller_gives_each_its_own_full_report(
    demo_pki: DemoPKI,
) -> None:
    """A verifier reused over invoices of one seller (its signer's check answered again from
    memory at a fixed time) reports each exactly as a fresh verifier does: intact or not,
    facts and constraints included."""
    trust = TrustProfile.custom([demo_pki.root("public")], name="demo", hierarchy="public")
    trust = trust.with_extra_anchors([demo_pki.root("specialized")], hierarchy="specialized")
    policy = ValidationPolicy(validation_time=PINNED_NOW, revocation="soft")
    reused = Verifier(trust, policy)
    at = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
    for n in range(4):
        xml = sign_strict(invoice_xml(number=str(n + 1)), demo_pki, "organisation", at=at)
        if n == 2:
            xml = xml.replace(b"10800000", b"99800000")
        got = reused.verify(xml)
        fresh = Verifier(trust, policy).verify(xml)
        assert got.to_dict() == fresh.to_dict()
        assert got.passed is (n != 2)
