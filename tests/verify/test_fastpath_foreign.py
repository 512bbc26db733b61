"""The fast path on documents other tools made: the EU DSS test PDFs, a contract appendix
signed with MISA-CA's software, an e-invoice signed by a seller through CA2, and detached
CMS signatures made by OpenSSL.

Each document is validated where it can pass: its own root certificates trusted, at its
claimed signing time, revocation soft and offline. So full validation passes most of them
and the fast path keeps a template for each. Then copies of it with one byte changed
(anywhere, in the signed bytes, in the signature dictionary, in the unsigned padding of
``/Contents``) must get from the fast path exactly the report full validation gives. The
fast path answers many of them from templates (a tampered copy from the template of the
first tampered one), so its reading of files it did not make is what is compared.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.test_fastpath import _flipped, _same
from tests.verify.test_verifier import demo_trust
from verify import (
    DocumentReport,
    Indication,
    RevocationMode,
    TrustProfile,
    ValidationPolicy,
    Verifier,
    fastpath,
)

DATA = Path(__file__).resolve().parents[1] / "data"
FOREIGN = sorted((DATA / "dss").glob("*.pdf")) + sorted((DATA / "realworld").glob("*.pdf"))

TAKEN = {
    "DSS-2025.pdf",
    "DSS-3567.pdf",
    "Signature-P-HU_MIC-1.pdf",
    "Signature-P-PK7-2.pdf",
    "TestToSignPDFSHA256_TST_SIG_NOT_FOUND.pdf",
    "adbe_ocsp_signed.pdf",
    "doc-firmado-LT.pdf",
    "hello_signed_INCSAVE_signed.pdf",
    "pades-bes.pdf",
    "pades-epes.pdf",
    "pades-level-b-sig-policy-invalid-digest-algo.pdf",
    "pades-not-epes.pdf",
    "pdf-signed-original.pdf",
    "pdf-with-eof-cr.pdf",
    "pkcs7.pdf",
    "self-issued-qesig.pdf",
    "misa-ca-contract-appendix.pdf",
}
"""The files the fast path takes: one signature over the whole file (the plain cases), and
two signatures in two revisions of plain tables written by another tool
(``hello_signed_INCSAVE_signed.pdf``, read object by object: its revisions' objects are
not those of any structure judged byte for byte)."""

WEAK = {"hello_signed_INCSAVE_signed.pdf"}
"""Signed with RSA 1024-bit keys: INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE wherever
it is checked (nothing proves a time before the algorithm stopped being acceptable), a
verdict the fast path keeps no template of."""

PASSING = (
    TAKEN
    - WEAK
    - {
        "doc-firmado-LT.pdf",  # its OCSP response's signer cannot be validated
        "pkcs7.pdf",  # a certificate of its chain may not be used for signing
    }
)
"""The ones full validation passes, their roots trusted, at their signing time."""

TEMPLATED = PASSING
"""The ones whose passing report the fast path rebuilds, so keeps a template for (two of
them, ``Signature-P-PK7-2.pdf`` and ``TestToSignPDFSHA256_TST_SIG_NOT_FOUND.pdf``, with a
signature timestamp full validation does not accept: its TSA is not trusted)."""

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)")


@functools.cache
def _setup(name: str) -> tuple[Verifier, Verifier, bytes]:
    """A pair of verifiers (fast path on, off) for one file, where it can pass (see
    :func:`tests.verify.test_speedups._where_it_can_pass`)."""
    from tests.verify.test_speedups import _where_it_can_pass

    path = next(p for p in FOREIGN if p.name == name)
    found = _where_it_can_pass(path)
    assert found is not None, name
    trust, policy = found
    return (
        Verifier(trust, policy.replace(fast_path=True)),
        Verifier(trust, policy.replace(fast_path=False)),
        path.read_bytes(),
    )


def _contents(data: bytes) -> tuple[int, int]:
    """Where the last signature's ``/Contents`` hex string lies (``<`` and ``>`` left out)."""
    found = list(_BYTE_RANGE.finditer(data))[-1]
    return int(found[2]) + 1, int(found[3]) - 1


def test_the_fast_path_takes_these_files_other_tools_made() -> None:
    """The files the differential tests below run on are the ones the fast path takes (so
    that a change that made it take none would not pass them unnoticed)."""
    base = Verifier(
        policy=ValidationPolicy(network=False, validation_time=datetime(2026, 1, 1, tzinfo=UTC))
    )
    taken = {p.name for p in FOREIGN if fastpath.template_key(base, p.read_bytes()) is not None}
    assert taken == TAKEN


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_a_foreign_file_and_a_tampered_copy_come_from_templates_as_full_validation_says(
    name: str,
) -> None:
    """The file again, and a second copy tampered with in its signed bytes, get full
    validation's reports; where the fast path keeps templates, from the templates of the
    first ones."""
    fast, full, data = _setup(name)
    expected = full.verify(data)
    assert expected.passed == (name in PASSING)
    _same(fast.verify(data), expected, "first")
    hits = fastpath.stats(fast)["hits"]
    _same(fast.verify(data), expected, "again")
    if name in TEMPLATED:
        assert fastpath.stats(fast)["hits"] == hits + 1
    start, _end = _contents(data)
    for at in (start // 3, start // 2):  # two places in the signed bytes
        changed = _flipped(data, at, 0x01)
        report = full.verify(changed)
        assert report.indication is Indication.TOTAL_FAILED
        _same(fast.verify(changed), report, f"byte {at}")
    if name in TEMPLATED:  # the second tampered copy too, from the first one's template
        assert fastpath.stats(fast)["hits"] == hits + 2


_REGIONS = st.sampled_from(["anywhere", "signed", "signature dictionary", "padding"])


@pytest.mark.parametrize("name", sorted(TAKEN))
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_changed_byte_in_a_foreign_file_gets_full_validations_report(
    name: str, data: Any
) -> None:
    """One byte of the file changed, anywhere, in its signed bytes, around its signature
    dictionary, or a hex digit of the unsigned padding after the CMS in ``/Contents``:
    the fast path's report is full validation's."""
    fast, full, doc = _setup(name)
    start, end = _contents(doc)
    region = data.draw(_REGIONS, label="region")
    if region == "padding":
        der_end = start + len(doc[start:end].rstrip(b"0"))
        at = data.draw(st.integers(min(der_end, end - 1), end - 1), label="offset")
        digit = data.draw(st.sampled_from(b"0123456789abcdefABCDEF"), label="digit")
        changed = doc[:at] + bytes([digit]) + doc[at + 1 :]
    else:
        if region == "anywhere":
            at = data.draw(st.integers(0, len(doc) - 1), label="offset")
        elif region == "signed":
            at = data.draw(
                st.one_of(st.integers(0, start - 2), st.integers(end + 1, len(doc) - 1)),
                label="offset",
            )
        else:
            low = max(0, doc.rfind(b"<<", 0, start) - 300)
            at = data.draw(
                st.one_of(
                    st.integers(low, start - 1), st.integers(end, min(len(doc) - 1, end + 300))
                ),
                label="offset",
            )
        mask = data.draw(st.integers(1, 255), label="xor")
        changed = _flipped(doc, at, mask)
    _same(fast.verify(changed), full.verify(changed), f"{region}: byte {at}")


def test_revocation_data_that_cannot_be_used_is_named_with_certvalidators_reason() -> None:
    """A Costa Rican B-LT file whose OCSP response's signer cannot be validated (its
    responder's chain is not trusted here): pyHanko folds certvalidator's error into
    CERTIFICATE_CHAIN_GENERAL_FAILURE. The report names the unusable revocation data and
    gives certvalidator's own reason in both languages, not the bare sub-indication."""
    _fast, full, data = _setup("doc-firmado-LT.pdf")
    sig = full.verify(data).signatures[0]
    assert sig.indication is Indication.INDETERMINATE
    assert sig.sub_indication == "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    assert "Unable to verify OCSP response" in sig.message_en
    assert "no usable revocation information" in sig.message_en
    assert "không có thông tin thu hồi (OCSP/CRL) dùng được" in sig.message_vi
    assert "Unable to verify OCSP response" in sig.message_vi


def test_a_name_pyhanko_refuses_in_a_signed_field_is_never_answered_from_a_template() -> None:
    """EU DSS's pdf-signed-original.pdf with one byte of its signature field's
    ``/Subtype /Widget`` turned into a control character (0x08): pyHanko refuses the name
    (it must be escaped), so full validation finds the file unreadable (FORMAT_FAILURE).
    The fast path, holding the template of an earlier tampered copy (HASH_FAILURE), reads
    the name as pyHanko would and leaves the copy to full validation."""
    fast, full, data = _setup("pdf-signed-original.pdf")
    for at in (100, 200):  # two tampered copies: the second from the first one's template
        _same(fast.verify(_flipped(data, at, 1)), full.verify(_flipped(data, at, 1)), "")
    hits = fastpath.stats(fast)["hits"]
    at = data.index(b"/Widget") + 2
    changed = _flipped(data, at, ord("i") ^ 0x08)
    assert changed[at - 2 : at + 5] == b"/W\x08dget"
    expected = full.verify(changed)
    assert expected.sub_indication == "FORMAT_FAILURE"
    _same(fast.verify(changed), expected, "a control character in a name")
    assert fastpath.stats(fast)["hits"] == hits


_INVOICE = DATA / "realworld" / "ca2-einvoice-seller-signed.xml"


@functools.cache
def _invoice_setup() -> tuple[Verifier, Verifier, bytes]:
    """A pair of verifiers (fast path on, off) where the CA2 e-invoice passes: its seller's
    certificate trusted as it is (CA2's 2024 intermediate is not at hand), a minute after
    the signing time it claims, revocation soft, offline."""
    data = _INVOICE.read_bytes()
    der = base64.b64decode(re.search(rb"<X509Certificate>([^<]+)</X509Certificate>", data)[1])  # type: ignore[index]
    claimed = re.search(rb"<SigningTime>([^<]+)</SigningTime>", data)[1].decode()  # type: ignore[index]
    moment = datetime.fromisoformat(claimed).replace(tzinfo=UTC) + timedelta(minutes=1)
    policy = ValidationPolicy(network=False, validation_time=moment, revocation=RevocationMode.SOFT)
    trust = TrustProfile.custom([x509.Certificate.load(der)], name="the seller")
    return (
        Verifier(trust, policy.replace(fast_path=True)),
        Verifier(trust, policy.replace(fast_path=False)),
        data,
    )


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_changed_e_invoice_gets_full_validations_report(data: Any) -> None:
    """The CA2 e-invoice with one byte changed anywhere or in the message header the
    signature does not cover (``TDiep/TTChung``), or with whitespace, a comment or a
    processing instruction put between two elements: the fast path's report (from the
    seller's template when the signature still verifies) is full validation's."""
    fast, full, doc = _invoice_setup()
    _same(fast.verify(doc), full.verify(doc), "as signed")
    header_end = doc.index(b"</TTChung>")
    kind = data.draw(st.sampled_from(["anywhere", "header", "between elements"]), label="kind")
    if kind == "between elements":
        ends = [m.end() for m in re.finditer(rb">", doc)]
        at = data.draw(st.sampled_from(ends), label="offset")
        put = data.draw(st.sampled_from([b" ", b"\n", b"\t", b"<!-- x -->", b"<?pi x?>"]))
        changed = doc[:at] + put + doc[at:]
    else:
        low = 0 if kind == "anywhere" else doc.index(b"<TTChung>")
        high = len(doc) - 1 if kind == "anywhere" else header_end - 1
        at = data.draw(st.integers(low, high), label="offset")
        changed = _flipped(doc, at, data.draw(st.integers(1, 255), label="xor"))
    _same(fast.verify(changed), full.verify(changed), f"{kind}: byte {at}")


def test_the_e_invoice_and_a_copy_with_another_header_come_from_the_sellers_template() -> None:
    """The e-invoice passes, and a copy whose unsigned message header differs is answered
    from the template the first one left, with full validation's report."""
    fast, full, doc = _invoice_setup()
    expected = full.verify(doc)
    assert expected.passed
    _same(fast.verify(doc), expected, "first")
    hits = fastpath.stats(fast)["hits"]
    code = re.search(rb"<MTDiep>([^<]+)</MTDiep>", doc)
    assert code is not None
    other = doc.replace(code[1], code[1][::-1], 1)
    _same(fast.verify(other), full.verify(other), "another header")
    assert fastpath.stats(fast)["hits"] == hits + 1


def test_two_workers_give_foreign_files_and_their_copies_full_validations_reports(
    tmp_path: Path,
) -> None:
    """Copies of four foreign PDFs (the same file again, one byte changed) verified by
    two worker processes, which pass the templates they make to each other: each report is
    full validation's."""
    from verify import verify_many

    expected: dict[str, DocumentReport] = {}
    names = [
        "misa-ca-contract-appendix.pdf",
        "pades-bes.pdf",
        "DSS-2025.pdf",
        "doc-firmado-LT.pdf",
    ]
    for name in names:
        fast, full, data = _setup(name)
        start, _end = _contents(data)
        copies = [data] * 4 + [_flipped(data, at, 0x20) for at in (start // 5, start // 4)]
        for k, copy in enumerate(copies):
            path = tmp_path / f"{name}-{k}.pdf"
            path.write_bytes(copy)
            expected[str(path)] = full.verify(path)
        # one verifier per file (its own roots and time): one pool run per file
        got = {
            r.path: r
            for r in verify_many(
                sorted(tmp_path.glob(f"{name}-*.pdf")), verifier=fast, workers=2, chunk_size=2
            )
        }
        assert got.keys() == {p for p in expected if p.startswith(str(tmp_path / name))}
        for path, report in got.items():
            found, wanted = report.to_dict(), expected[path].to_dict()
            found.pop("elapsed_ms", None)
            wanted.pop("elapsed_ms", None)
            assert found == wanted, path


@pytest.fixture(scope="module")
def openssl_signed(
    demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Verifier, Verifier, list[tuple[bytes, bytes]]]:
    """Six JSON files, each signed detached by ``openssl cms -sign -cades`` as the demo
    citizen (SHA-256, the issuing CA carried), and a pair of verifiers at the pinned time."""
    folder = tmp_path_factory.mktemp("openssl")
    cert, key, chain = folder / "c.pem", folder / "k.pem", folder / "ca.pem"
    cert.write_bytes(demo_pki.cert_pem("citizen"))
    key.write_bytes(demo_pki.key_pem("citizen"))
    chain.write_bytes(demo_pki.cert_pem("ca-rsa"))
    pairs = []
    for i in range(6):
        data = folder / f"to-khai-{i}.json"
        data.write_bytes(f'{{"so": {i}, "ho_ten": "Nguyễn Thị Hoà"}}'.encode())
        out = folder / f"to-khai-{i}.p7s"
        subprocess.run(
            [
                *("openssl", "cms", "-sign", "-binary", "-cades", "-md", "sha256"),
                *("-in", str(data), "-signer", str(cert), "-inkey", str(key)),
                *("-certfile", str(chain), "-outform", "DER", "-out", str(out)),
            ],
            check=True,
            capture_output=True,
        )
        pairs.append((data.read_bytes(), out.read_bytes()))
    trust = demo_trust(demo_pki)
    policy = ValidationPolicy(validation_time=PINNED_NOW)
    return (
        Verifier(trust, policy.replace(fast_path=True)),
        Verifier(trust, policy.replace(fast_path=False)),
        pairs,
    )


def test_openssl_detached_signatures_come_from_one_template_as_full_validation_says(
    openssl_signed: tuple[Verifier, Verifier, list[tuple[bytes, bytes]]],
) -> None:
    """Detached CMS made by OpenSSL, not by hoso: the first is validated in full, the other
    five of the same signer are answered from its template, each with full validation's
    report (TOTAL_PASSED)."""
    fast, full, pairs = openssl_signed
    hits = fastpath.stats(fast)["hits"]
    for content, signature in pairs:
        expected = full.verify(content, detached=signature)
        assert expected.passed, expected.message_en
        _same(fast.verify(content, detached=signature), expected, "genuine")
    assert fastpath.stats(fast)["hits"] >= hits + len(pairs) - 1


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_changed_byte_in_an_openssl_signature_or_its_content_gets_full_validations_report(
    openssl_signed: tuple[Verifier, Verifier, list[tuple[bytes, bytes]]], data: Any
) -> None:
    """One byte changed in an OpenSSL-made detached CMS (anywhere in its DER) or in the
    content it signs: the fast path's report is full validation's."""
    fast, full, pairs = openssl_signed
    content, signature = data.draw(st.sampled_from(pairs), label="pair")
    if data.draw(st.booleans(), label="in the signature"):
        at = data.draw(st.integers(0, len(signature) - 1), label="offset")
        signature = _flipped(signature, at, data.draw(st.integers(1, 255), label="xor"))
    else:
        at = data.draw(st.integers(0, len(content) - 1), label="offset")
        content = _flipped(content, at, data.draw(st.integers(1, 255), label="xor"))
    _same(fast.verify(content, detached=signature), full.verify(content, detached=signature), "")


CHECKED_LATER = datetime(2031, 6, 1, 10, 0, tzinfo=UTC)
"""A "now" after most of these files' signing certificates expired."""

TEMPLATED_LATER = TAKEN - {
    # a B-LT file, and one with a second signature in a later revision: a byte changed in
    # the first signed revision changes its structure, so each tampered copy makes a
    # template of its own (the file itself is answered from one)
    "doc-firmado-LT.pdf",
    "hello_signed_INCSAVE_signed.pdf",
}
"""The files whose verdict checked "now" in 2031 the fast path keeps a template of: most
INDETERMINATE / OUT_OF_BOUNDS_NO_POE (their signer's certificate expired, nothing proves
the time), a few passing by their timestamp's proof of time."""


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_a_foreign_file_checked_now_years_later_comes_from_templates_as_full_validation_says(
    name: str,
) -> None:
    """Checked "now" (2031), offline: the file again, and two copies tampered with in their
    signed bytes, get full validation's reports; the fast path answers the second of each
    from a template where it keeps one (an expired signer's verdict included)."""
    import time_machine

    fast, full, data = _setup(name)
    fast = Verifier(fast.trust, fast.policy.replace(validation_time=None))
    full = Verifier(full.trust, full.policy.replace(validation_time=None))
    start, _end = _contents(data)
    with time_machine.travel(CHECKED_LATER, tick=False):
        expected = full.verify(data)
        _same(fast.verify(data), expected, "first")
        _same(fast.verify(data), expected, "again")
        for at in (start // 3, start // 2):
            changed = _flipped(data, at, 0x01)
            _same(fast.verify(changed), full.verify(changed), f"byte {at}")
    templated = fastpath.stats(fast)["hits"] >= 2
    assert templated == (name in TEMPLATED_LATER), fastpath.stats(fast)


def test_the_e_invoice_checked_now_years_later_comes_from_the_sellers_template() -> None:
    """The CA2 e-invoice checked "now" in 2031, offline, after its seller's certificate
    expired (2028; trusted here as it is, an anchor, so it still passes). A copy with
    another unsigned message header, and one with a byte of its signed content changed,
    get full validation's reports; the copy that still verifies, from the seller's
    template made "now"."""
    import time_machine

    fast, full, doc = _invoice_setup()
    fast = Verifier(fast.trust, fast.policy.replace(validation_time=None))
    full = Verifier(full.trust, full.policy.replace(validation_time=None))
    code = re.search(rb"<MTDiep>([^<]+)</MTDiep>", doc)
    assert code is not None
    other = doc.replace(code[1], code[1][::-1], 1)
    signed = doc.index(b"<NDHDon>")
    changed = _flipped(doc, doc.index(b">", signed + 10) + 1, 0x01)
    with time_machine.travel(CHECKED_LATER, tick=False):
        expected = full.verify(doc)
        _same(fast.verify(doc), expected, "first")
        hits = fastpath.stats(fast)["hits"]
        _same(fast.verify(other), full.verify(other), "another header")
        assert fastpath.stats(fast)["hits"] == hits + 1
        _same(fast.verify(changed), full.verify(changed), "signed content changed")


@pytest.mark.parametrize("when", ["at its signing time", "years later", "its root not trusted"])
@pytest.mark.parametrize("name", sorted(TAKEN))
def test_changed_bytes_spread_over_a_foreign_file_get_full_validations_reports(
    name: str, when: str
) -> None:
    """Copies with one byte changed at 24 places spread over the file (signed bytes, the
    signature dictionary, the trailer), and with one hex digit changed at 24 places of the
    CMS (certificates, attributes, signature, timestamp), get from the fast path, from
    templates where it keeps them, full validation's reports: checked where the file can
    pass, checked "now" in 2031 (most of these files' signers expired), and offline under
    a profile that does not hold its root."""
    import time_machine

    fast, full, doc = _setup(name)
    clock: Any = contextlib.nullcontext()
    if when == "years later":
        fast = Verifier(fast.trust, fast.policy.replace(validation_time=None))
        full = Verifier(full.trust, full.policy.replace(validation_time=None))
        clock = time_machine.travel(CHECKED_LATER, tick=False)
    elif when == "its root not trusted":  # offline: NO_CERTIFICATE_CHAIN_FOUND, templated
        other = _invoice_setup()[0].trust  # the CA2 e-invoice's seller, an unrelated anchor
        fast = Verifier(other, fast.policy)
        full = Verifier(other, full.policy)
    start, end = _contents(doc)
    der_end = start + len(doc[start:end].rstrip(b"0"))
    with clock:
        _same(fast.verify(doc), full.verify(doc), "as signed")
        if when == "its root not trusted" and name not in WEAK:  # these are kept so
            hits = fastpath.stats(fast)["hits"]
            _same(fast.verify(doc), full.verify(doc), "again")
            assert fastpath.stats(fast)["hits"] == hits + 1
        for k in range(24):
            at = len(doc) * k // 24 + k
            changed = _flipped(doc, at, 1 << (k % 8))
            _same(fast.verify(changed), full.verify(changed), f"byte {at}")
        for k in range(24):  # a hex digit of the CMS changed: the DER read otherwise
            at = start + (der_end - start) * k // 24 + k
            digit = b"0123456789abcdef"[(int(doc[at : at + 1], 16) + 1 + k) % 16]
            changed = doc[:at] + bytes([digit]) + doc[at + 1 :]
            _same(fast.verify(changed), full.verify(changed), f"hex digit {at}")


@pytest.mark.parametrize("when", ["years later", "its root not trusted"])
def test_openssl_signatures_and_changed_copies_years_later_or_untrusted_are_full_validations(
    openssl_signed: tuple[Verifier, Verifier, list[tuple[bytes, bytes]]], when: str
) -> None:
    """The OpenSSL-made detached signatures checked offline "now" in 2031 (their signer
    expired: INDETERMINATE / OUT_OF_BOUNDS_NO_POE), or offline under a profile that does
    not hold their root (NO_CERTIFICATE_CHAIN_FOUND): the five after the first come from
    its template, and copies of one with a byte changed at 24 places of its DER get full
    validation's reports."""
    import time_machine

    fast, full, pairs = openssl_signed
    policy = full.policy.replace(network=False, revocation="soft")
    clock: Any = contextlib.nullcontext()
    trust = full.trust
    if when == "years later":
        policy = policy.replace(validation_time=None)
        clock = time_machine.travel(CHECKED_LATER, tick=False)
    else:
        trust = _invoice_setup()[0].trust  # an unrelated anchor
    fast = Verifier(trust, policy.replace(fast_path=True))
    full = Verifier(trust, policy.replace(fast_path=False))
    with clock:
        for content, signature in pairs:
            expected = full.verify(content, detached=signature)
            assert not expected.passed
            _same(fast.verify(content, detached=signature), expected, "genuine")
        assert fastpath.stats(fast)["hits"] == len(pairs) - 1
        content, signature = pairs[0]
        for k in range(24):
            at = len(signature) * k // 24 + k % 7
            changed = _flipped(signature, at, 1 << (k % 8))
            report = full.verify(content, detached=changed)
            _same(fast.verify(content, detached=changed), report, f"byte {at}")


def test_a_malformed_signed_data_is_a_format_failure_in_every_reader(
    openssl_signed: tuple[Verifier, Verifier, list[tuple[bytes, bytes]]],
) -> None:
    """An OpenSSL-made detached signature, and EU DSS's plain PAdES file, with the length
    of their SignedData's version changed (02 01 01 becomes 02 03 01: the version swallows
    the digestAlgorithms set's header). Nothing signed changes and a lenient parse still
    verifies the signature; the structure is broken, so both readers, and the fast path
    after a template of the intact shape, say TOTAL_FAILED / FORMAT_FAILURE, as full
    validation does."""
    fast, full, pairs = openssl_signed
    content, signature = pairs[0]
    _same(fast.verify(content, detached=signature), full.verify(content, detached=signature), "")
    at = signature.index(bytes([2, 1, 1]))  # SignedData.version INTEGER 1
    broken = _flipped(signature, at + 1, 2)
    report = full.verify(content, detached=broken)
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        "FORMAT_FAILURE",
    )
    assert "SignedData structure is malformed" in report.message_en
    assert "cấu trúc CMS SignedData hỏng" in report.message_vi
    _same(fast.verify(content, detached=broken), report, "malformed, detached")
    pdf_fast, pdf_full, doc = _setup("pdf-signed-original.pdf")
    start, _end = _contents(doc)
    _same(pdf_fast.verify(doc), pdf_full.verify(doc), "intact PDF")
    at = doc.index(b"020101", start)  # the version's INTEGER, in the hex of /Contents
    pdf = doc[: at + 3] + b"3" + doc[at + 4 :]
    report = pdf_full.verify(pdf)
    assert report.sub_indication == "FORMAT_FAILURE", report.message_en
    _same(pdf_fast.verify(pdf), report, "malformed, PDF")
