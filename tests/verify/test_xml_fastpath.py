"""The XML fast path gives exactly the report full validation gives, on every e-invoice kind.

Each document is verified by a verifier with ``ValidationPolicy(fast_path=False)`` and by
one with the fast path on whose templates are warm (it has verified genuine invoices of
the same seller, and of the seller and the tax authority, first); the two reports must be
equal (``elapsed_ms`` aside). Documents whose signature structure matches a template but
whose own checks fail (a byte of the signed content, a digest or a signature value
changed, a wrapped element, another seller's tax code, a claimed time outside the
certificate) must never be answered from it. python-xmlsec stays the strict reference:
the genuine documents here are signed with it.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from fixtures.einvoice import DS, MCCQT_ID, invoice_xml, sign_dotnet, sign_strict
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import (
    DocumentReport,
    Indication,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    Verifier,
    fastpath,
)

SIGNED_AT = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
SIG = f"{{{DS}}}Signature"


def _trust(pki: DemoPKI) -> TrustProfile:
    trust = TrustProfile.custom([pki.root("public")], name="demo", hierarchy="public")
    return trust.with_extra_anchors([pki.root("specialized")], hierarchy="specialized")


def _policy() -> ValidationPolicy:
    return ValidationPolicy(validation_time=PINNED_NOW, revocation="soft")


def _seller(pki: DemoPKI, number: int, **invoice: Any) -> bytes:
    """A genuine seller-signed invoice; each number is another document of one shape."""
    return sign_strict(
        invoice_xml(number=str(number), buyer_name=f"KHÁCH HÀNG {number}", **invoice),
        pki,
        "organisation",
        at=SIGNED_AT.replace(minute=number % 60),
    )


def _two_signers(pki: DemoPKI, number: int) -> bytes:
    """A seller-signed invoice with the tax authority's code, signed by the authority."""
    xml = _seller(pki, number, mccqt=f"00A1B2C3D4E5F6071829{number:06d}")
    return sign_strict(
        xml, pki, "agency-seal", at=SIGNED_AT.replace(hour=10), place="CQT", targets=(MCCQT_ID,)
    )


def _mutate(data: bytes, change: Callable[[Any], None]) -> bytes:
    root = etree.fromstring(data)
    change(root)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def _flip_base64(el: Any) -> None:
    raw = bytearray(base64.b64decode(el.text))
    raw[len(raw) // 2] ^= 0x01
    el.text = base64.b64encode(bytes(raw)).decode()


def _tampered_value(root: Any) -> None:
    _flip_base64(root.find(f"DSCKS/NBan/{SIG}/{{{DS}}}SignatureValue"))


def _tampered_digest(root: Any) -> None:
    _flip_base64(
        root.find(f"DSCKS/NBan/{SIG}/{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestValue")
    )


def _tampered_total(root: Any) -> None:
    root.find("DLHDon/NDHDon/TToan/TgTTTBSo").text = "1"


def _wrapped_into_object(root: Any) -> None:
    """The signed DLHDon moved into the signature's Object, a forged one in its place."""
    signed = root.find("DLHDon")
    forged = copy.deepcopy(signed)
    del forged.attrib["Id"]
    forged.find("NDHDon/TToan/TgTTTBSo").text = "1"
    root.find(f"DSCKS/NBan/{SIG}/{{{DS}}}Object").append(signed)
    root.insert(0, forged)


def _forged_copy_other_id_spelling(root: Any) -> None:
    """A forged DLHDon carrying the signed one's Id as ``id``: the Id resolves twice."""
    forged = copy.deepcopy(root.find("DLHDon"))
    del forged.attrib["Id"]
    forged.set("id", root.find("DLHDon").get("Id"))
    root.find("DSCKS").append(forged)


def _other_signature_id(root: Any) -> None:
    """The Signature's own Id (not signed) spelt otherwise: the same signature."""
    sig = root.find(f"DSCKS/NBan/{SIG}")
    sig.set("Id", "NBan-sig-2")
    sig.find(f"{{{DS}}}Object/SignatureProperties/SignatureProperty").set("Target", "#NBan-sig-2")


@pytest.fixture(scope="module")
def verifiers(demo_pki: DemoPKI) -> tuple[Verifier, Verifier]:
    """(fast, full): the fast one has templates for both shapes already."""
    fast = Verifier(_trust(demo_pki), _policy().replace(fast_path=True))
    full = Verifier(_trust(demo_pki), _policy().replace(fast_path=False))
    for warm in (_seller(demo_pki, 1), _two_signers(demo_pki, 1)):
        assert fast.verify(warm).indication is Indication.TOTAL_PASSED
    assert fastpath.stats(fast)["templates"] == 2
    return fast, full


def _same(fast: DocumentReport, full: DocumentReport, what: str) -> None:
    assert fast.to_dict() == full.to_dict(), what
    assert fast == full, what


def _corpus(pki: DemoPKI) -> dict[str, tuple[bytes, Indication, SubIndication | None]]:
    """Each document with the verdict full validation gives it."""
    passed = (Indication.TOTAL_PASSED, None)
    genuine = _seller(pki, 7)
    two = _two_signers(pki, 8)
    return {
        "genuine": (genuine, *passed),
        "genuine, another invoice": (_seller(pki, 9, total="99"), *passed),
        "genuine, another signature Id": (_mutate(genuine, _other_signature_id), *passed),
        "two signers": (two, *passed),
        "two signers, another invoice": (_two_signers(pki, 11), *passed),
        "dotnet reading": (
            sign_dotnet(invoice_xml(number="12"), pki, "organisation", at=SIGNED_AT),
            *passed,
        ),
        "tampered value": (
            _mutate(genuine, _tampered_value),
            Indication.TOTAL_FAILED,
            SubIndication.SIG_CRYPTO_FAILURE,
        ),
        "tampered digest": (
            _mutate(genuine, _tampered_digest),
            Indication.TOTAL_FAILED,
            SubIndication.HASH_FAILURE,
        ),
        "tampered content": (
            _mutate(genuine, _tampered_total),
            Indication.TOTAL_FAILED,
            SubIndication.HASH_FAILURE,
        ),
        "tampered content, two signers": (
            _mutate(two, _tampered_total),
            Indication.TOTAL_FAILED,
            SubIndication.HASH_FAILURE,
        ),
        "wrapped into the Object": (
            _mutate(genuine, _wrapped_into_object),
            Indication.TOTAL_FAILED,
            SubIndication.FORMAT_FAILURE,
        ),
        "forged copy, id spelling": (
            _mutate(genuine, _forged_copy_other_id_spelling),
            Indication.TOTAL_FAILED,
            SubIndication.FORMAT_FAILURE,
        ),
        "wrong seller MST": (
            _seller(pki, 13, seller_mst="0109999999"),
            Indication.INDETERMINATE,
            SubIndication.SIG_CONSTRAINTS_FAILURE,
        ),
        "claimed before the certificate": (
            sign_strict(
                invoice_xml(number="14"), pki, "organisation", at=datetime(2001, 1, 1, tzinfo=UTC)
            ),
            Indication.INDETERMINATE,
            SubIndication.SIG_CONSTRAINTS_FAILURE,
        ),
        "expired signer": (
            sign_strict(
                invoice_xml(number="15"),
                pki,
                "citizen-expired",
                at=datetime(2024, 1, 2, tzinfo=UTC),
            ),
            Indication.INDETERMINATE,
            SubIndication.OUT_OF_BOUNDS_NO_POE,
        ),
    }


def test_warm_fast_path_reports_equal_full_validation(
    demo_pki: DemoPKI, verifiers: tuple[Verifier, Verifier]
) -> None:
    """Genuine, tampered (value, digest, content), wrapped, wrong-MST, dotnet, two-signer
    and expired invoices: the warm fast path reports exactly what full validation does,
    twice in a row (the second time from a template if the first made one)."""
    fast, full = verifiers
    for what, (data, indication, sub) in _corpus(demo_pki).items():
        expected = full.verify(data)
        assert expected.indication is indication, (what, expected.message_en)
        assert expected.signatures[0].sub_indication is sub, (what, expected.message_en)
        for _ in range(2):
            _same(fast.verify(data), expected, what)


def test_failing_checks_never_come_from_a_template(
    demo_pki: DemoPKI, verifiers: tuple[Verifier, Verifier]
) -> None:
    """A document whose own checks fail (value, digest, content, wrapping, another seller's
    MST) gets its verdict from full validation: no template answers it."""
    fast, _full = verifiers
    corpus = _corpus(demo_pki)
    for what in (
        "tampered value",
        "tampered digest",
        "tampered content",
        "tampered content, two signers",
        "wrapped into the Object",
        "forged copy, id spelling",
        "wrong seller MST",
        "claimed before the certificate",
        "expired signer",
    ):
        data, indication, sub = corpus[what]
        before = fastpath.stats(fast)["hits"]
        report = fast.verify(data)
        assert fastpath.stats(fast)["hits"] == before, what
        assert report.indication is indication, what
        if sub is not None:
            assert report.signatures[0].sub_indication is sub, (what, report.message_en)


def test_genuine_invoices_of_one_seller_are_answered_from_one_template(
    demo_pki: DemoPKI,
) -> None:
    """Invoices of one seller with other contents, numbers, signing times and signature
    Ids share one template; each report carries its own facts, Id and claimed time."""
    fast = Verifier(_trust(demo_pki), _policy())
    docs = [_seller(demo_pki, n) for n in range(20, 25)]
    docs.append(_mutate(_seller(demo_pki, 25), _other_signature_id))
    reports = [fast.verify(d) for d in docs]
    assert fastpath.stats(fast) == {"hits": 5, "misses": 1, "templates": 1}
    assert [r.facts["number"] for r in reports if r.facts] == [str(n) for n in range(20, 26)]
    assert reports[-1].signatures[0].field_name == "NBan-sig-2"
    assert len({r.signatures[0].signing_time_claimed for r in reports}) == 6


def test_template_key_is_the_same_for_invoices_of_one_shape(demo_pki: DemoPKI) -> None:
    """A bulk run's planner tells XML documents of one shape apart without validating."""
    verifier = Verifier(_trust(demo_pki), _policy())
    one = fastpath.template_key(verifier, _seller(demo_pki, 30))
    assert one is not None
    assert fastpath.template_key(verifier, _seller(demo_pki, 31)) == one
    assert fastpath.template_key(verifier, _two_signers(demo_pki, 32)) not in (None, one)
    tampered = _mutate(_seller(demo_pki, 33), _tampered_total)
    assert fastpath.template_key(verifier, tampered) is None


def _now_pair(pki: DemoPKI) -> tuple[Verifier, Verifier]:
    """(fast, full) validating "now" (no pinned validation time: the command line's
    default), hard revocation checking with the demo OCSP responders."""
    policy = ValidationPolicy()
    return (
        Verifier(_trust(pki), policy.replace(fast_path=True)),
        Verifier(_trust(pki), policy.replace(fast_path=False)),
    )


def test_validated_now_invoices_are_answered_from_templates_with_full_reports(
    demo_pki: DemoPKI,
) -> None:
    """Validated "now" (the clock pinned), every invoice after the first of each shape (one
    seller, seller + tax authority) comes from a template, and each report is the one
    full validation gives; a tampered invoice is still validated in full."""
    import time_machine

    fast, full = _now_pair(demo_pki)
    docs = [_seller(demo_pki, n) for n in range(40, 44)]
    docs += [_two_signers(demo_pki, n) for n in range(44, 47)]
    tampered = _mutate(_seller(demo_pki, 47), _tampered_total)
    with time_machine.travel(PINNED_NOW, tick=False):
        for i, data in enumerate(docs):
            expected = full.verify(data)
            assert expected.passed, (i, expected.message_en)
            _same(fast.verify(data), expected, f"invoice {i}")
        assert fastpath.stats(fast)["hits"] == len(docs) - 2
        report = fast.verify(tampered)
        _same(report, full.verify(tampered), "tampered")
        assert not report.passed
    assert fastpath.stats(fast)["hits"] == len(docs) - 2


def test_an_xml_template_made_now_serves_only_its_window(demo_pki: DemoPKI) -> None:
    """A template made "now" serves a later moment while every certificate and OCSP answer
    it rests on is still current, and not once they are not (a year later the answers have
    expired; after 2030 the certificates have): there full validation decides, and the
    reports are full validation's."""
    import time_machine

    fast, full = _now_pair(demo_pki)
    with time_machine.travel(PINNED_NOW, tick=False):
        fast.verify(_seller(demo_pki, 60))
    assert fastpath.stats(fast)["templates"] == 1
    data = _seller(demo_pki, 61)
    with time_machine.travel(PINNED_NOW + timedelta(minutes=1), tick=False):
        _same(fast.verify(data), full.verify(data), "+1 min")
    assert fastpath.stats(fast)["hits"] == 1
    for later in (timedelta(days=400), timedelta(days=365 * 4)):
        with time_machine.travel(PINNED_NOW + later, tick=False):
            data = _seller(demo_pki, 62)
            _same(fast.verify(data), full.verify(data), f"+{later}")
        assert fastpath.stats(fast)["hits"] == 1, later


def test_a_bulk_run_validating_now_uses_xml_templates(demo_pki: DemoPKI, tmp_path: Any) -> None:
    """``verify_many`` without a pinned validation time (as the ``verify`` command runs by
    default) answers the invoices after the first from the template, with full
    validation's reports."""
    import time_machine

    from verify.bulk import verify_many

    fast, full = _now_pair(demo_pki)
    paths = []
    for n in range(70, 76):
        path = tmp_path / f"invoice-{n}.xml"
        path.write_bytes(_seller(demo_pki, n))
        paths.append(str(path))
    with time_machine.travel(PINNED_NOW, tick=False):
        reports = list(verify_many(paths, verifier=fast, workers=1))
        for report in reports:
            assert report.path is not None
            _same(report, full.verify(report.path), report.path)
    assert fastpath.stats(fast)["hits"] == len(paths) - 1


@pytest.fixture(scope="module")
def genuine(demo_pki: DemoPKI) -> bytes:
    return _two_signers(demo_pki, 50)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_changed_byte_of_the_signed_content_never_passes_through_the_fast_path(
    genuine: bytes, verifiers: tuple[Verifier, Verifier], data: st.DataObject
) -> None:
    """Any single byte changed inside what the signatures sign (the DLHDon, the MCCQT, each
    SignedInfo; whitespace never for whitespace) never passes, never comes from a template,
    and the report is full validation's."""
    fast, full = verifiers
    spans = []
    for start_tag, end_tag in (
        (b"<DLHDon", b"</DLHDon>"),
        (b"<MCCQT", b"</MCCQT>"),
        (b"<SignedInfo>", b"</SignedInfo>"),
    ):
        at = 0
        while (start := genuine.find(start_tag, at)) >= 0:
            end = genuine.index(end_tag, start) + len(end_tag)
            spans.append((start, end))
            at = end
    start, end = data.draw(st.sampled_from(spans))
    at = data.draw(st.integers(start, end - 1))
    old = genuine[at]
    new = data.draw(st.integers(0, 255).filter(lambda b: b != old))
    if chr(old).isspace() and chr(new).isspace():
        new = ord("x")
    mutated = genuine[:at] + bytes([new]) + genuine[at + 1 :]
    before = fastpath.stats(fast)["hits"]
    report = fast.verify(mutated)
    assert fastpath.stats(fast)["hits"] == before
    assert not report.passed
    _same(report, full.verify(mutated), f"byte {at}: {old:#x} -> {new:#x}")


@pytest.fixture(scope="module")
def now_verifiers(demo_pki: DemoPKI) -> tuple[Verifier, Verifier]:
    """(fast, full) validating "now", the fast one with a template for the two-signer
    shape made at the pinned clock."""
    import time_machine

    fast, full = _now_pair(demo_pki)
    with time_machine.travel(PINNED_NOW, tick=False):
        assert fast.verify(_two_signers(demo_pki, 80)).passed
    assert fastpath.stats(fast)["templates"] == 1
    return fast, full


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_validated_now_a_changed_signed_byte_never_passes_through_a_template(
    genuine: bytes, now_verifiers: tuple[Verifier, Verifier], data: st.DataObject
) -> None:
    """Validated "now" (within the template's window), any single byte changed inside the
    DLHDon, the MCCQT or a SignedInfo never passes, never comes from a template, and the
    report is full validation's."""
    import time_machine

    fast, full = now_verifiers
    spans = []
    for start_tag, end_tag in (
        (b"<DLHDon", b"</DLHDon>"),
        (b"<MCCQT", b"</MCCQT>"),
        (b"<SignedInfo>", b"</SignedInfo>"),
    ):
        at = 0
        while (start := genuine.find(start_tag, at)) >= 0:
            end = genuine.index(end_tag, start) + len(end_tag)
            spans.append((start, end))
            at = end
    start, end = data.draw(st.sampled_from(spans))
    at = data.draw(st.integers(start, end - 1))
    old = genuine[at]
    new = data.draw(st.integers(0, 255).filter(lambda b: b != old))
    if chr(old).isspace() and chr(new).isspace():
        new = ord("x")
    mutated = genuine[:at] + bytes([new]) + genuine[at + 1 :]
    with time_machine.travel(PINNED_NOW + timedelta(seconds=30), tick=False):
        before = fastpath.stats(fast)["hits"]
        report = fast.verify(mutated)
        assert fastpath.stats(fast)["hits"] == before
        assert not report.passed
        _same(report, full.verify(mutated), f"byte {at}: {old:#x} -> {new:#x}")
        genuine_report = fast.verify(genuine)
        assert fastpath.stats(fast)["hits"] == before + 1, "the genuine one still is"
        _same(genuine_report, full.verify(genuine), "genuine")
