"""Real documents from Vietnamese signing software verify as their makers intended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from verify import Indication, SubIndication, ValidationPolicy, Verifier

REALWORLD = Path(__file__).resolve().parents[1] / "data" / "realworld"
MISA = REALWORLD / "misa-ca-contract-appendix.pdf"
# the claimed signing time, 2021-12-31 13:17:54 +07:00
MISA_SIGNED = datetime(2021, 12, 31, 13, 17, 54, tzinfo=timezone(timedelta(hours=7)))
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def _verify(at: datetime, revocation: str, profile: str = "public") -> object:
    policy = ValidationPolicy(validation_time=at, network=False, revocation=revocation)
    return Verifier(profile, policy).verify(MISA)


@pytest.mark.parametrize("profile", ["public", "any"])
def test_misa_pdf_passes_at_its_signing_time_with_bundled_trust(profile: str) -> None:
    """At its signing time, offline, the MISA-CA signature passes (revocation not checkable)."""
    policy = ValidationPolicy(validation_time=MISA_SIGNED, network=False, revocation="soft")
    report = Verifier(profile, policy).verify(MISA)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    sig = report.signatures[0]
    assert sig.sub_filter == "/ETSI.CAdES.detached"
    assert sig.digest_algorithm == "sha256"
    assert sig.level == "PAdES-B-B"
    assert [c.subject.split("Common Name: ")[1].split(",")[0] for c in sig.chain[1:]] == [
        "MISA-CA",
        "Vietnam National Root CA",
    ]
    assert any("could not be checked" in w for w in sig.warnings)
    assert sig.signing_time_claimed == MISA_SIGNED


def test_misa_signer_identity_is_the_company_and_its_tax_code() -> None:
    """The signer is read as an organisation with MST 0316950978, issued by MISA-CA."""
    policy = ValidationPolicy(validation_time=MISA_SIGNED, network=False, revocation="soft")
    signer = Verifier("public", policy).verify(MISA).signatures[0].signer
    assert signer is not None
    assert signer["kind"] == "organisation"
    assert signer["name"] == "CÔNG TY TNHH DỊCH VỤ CÔNG NGHỆ TRỰC TUYẾN"
    assert signer["issuer_name"] == "MISA-CA"
    assert signer["profile"] == "public"
    assert {"scheme": "mst", "value": "0316950978"}.items() <= signer["identifiers"][0].items()


def test_misa_pdf_in_hard_mode_offline_is_try_later() -> None:
    """Hard revocation mode offline: no revocation info for the signing time, INDETERMINATE."""
    policy = ValidationPolicy(validation_time=MISA_SIGNED, network=False)
    report = Verifier("public", policy).verify(MISA)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.TRY_LATER,
    )


def test_misa_pdf_now_is_out_of_bounds_no_poe() -> None:
    """Validated now, the certificates have expired and nothing proves the earlier time."""
    policy = ValidationPolicy(validation_time=NOW, network=False, revocation="soft")
    report = Verifier("public", policy).verify(MISA)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.OUT_OF_BOUNDS_NO_POE,
    )
    assert "MISA-CA" in report.message_en or "expired" in report.message_en


def test_misa_pdf_does_not_chain_under_specialized_trust() -> None:
    """A public-hierarchy signature is not trusted under the specialized profile."""
    policy = ValidationPolicy(validation_time=MISA_SIGNED, network=False, revocation="soft")
    report = Verifier("specialized", policy).verify(MISA)
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


EINVOICE = REALWORLD / "ca2-einvoice-seller-signed.xml"


def test_einvoice_xml_signature_value_and_references_verify() -> None:
    """The CA2-signed e-invoice: signature value and every reference digest verify."""
    from verify.xmldsig import check_xml_signature

    (check,) = check_xml_signature(EINVOICE.read_bytes())
    assert check.references_ok
    assert check.signature_ok
    assert check.signature_algorithm == "rsa-sha256"
    assert check.signer_cert.subject.native["user_id"] == "MST:0312585298"
    assert check.claimed_signing_time is not None


def test_einvoice_chain_cannot_be_completed_offline() -> None:
    """The CA2 2024 intermediate is not bundled: integrity holds but no chain is found."""
    policy = ValidationPolicy(validation_time=NOW, network=False, revocation="soft")
    report = Verifier("public", policy).verify(EINVOICE)
    assert report.format == "xml"
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )
    sig = report.signatures[0]
    assert sig.integrity is True
    assert sig.signer is not None
    assert sig.signer["kind"] == "organisation"
    assert sig.signer["issuer_name"] == "CA2"


def test_einvoice_with_changed_amount_is_hash_failure() -> None:
    """Changing the invoice amount breaks the reference digest: TOTAL_FAILED / HASH_FAILURE."""
    forged = EINVOICE.read_bytes().replace(b"80491373", b"80491374", 1)
    policy = ValidationPolicy(validation_time=NOW, network=False, revocation="soft")
    report = Verifier("public", policy).verify(forged)
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.HASH_FAILURE,
    )


def test_xml_with_entities_is_refused() -> None:
    """An XML document declaring entities (billion laughs) is refused, not expanded."""
    bomb = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><r>&a;</r>'
    report = Verifier("public", ValidationPolicy(validation_time=NOW, network=False)).verify(bomb)
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
