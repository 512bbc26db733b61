"""The class of an OCSP answer or CRL (``fastpath_objects._ocsp_class`` / ``_crl_class``):
two answers share a class only when they differ in nothing but their times, their nonce
and their signature value, and both verify under one listed certificate's key.

A B-LT document whose signer fetched its validation data anew carries answers of its own;
the fast path holds them by their class (and the order of their times), so documents of
one signer share a template. The answers here are made and signed by the test itself
(asn1crypto and ``cryptography``, as any responder software would), one field changed at
a time.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import algos, core, crl, ocsp, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from verify import fastpath_objects as fo

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _certificate(name: str, key: Any) -> bytes:
    subject = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        cx509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(AT - timedelta(days=365))
        .not_valid_after(AT + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def responder() -> tuple[Any, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, _certificate("Demo OCSP responder", key)


@pytest.fixture(scope="module")
def stranger() -> tuple[Any, bytes]:
    """Another responder, under the same name."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, _certificate("Demo OCSP responder", key)


def _sign(key: Any, tbs: bytes, digest: str) -> bytes:
    hash_ = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384()}[digest]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return bytes(key.sign(tbs, ec.ECDSA(hash_)))
    return bytes(key.sign(tbs, padding.PKCS1v15(), hash_))


def _answer(
    signer: tuple[Any, bytes],
    *,
    produced: datetime = AT,
    this_update: datetime = AT,
    next_update: datetime | None = AT + timedelta(days=1),
    nonce: bytes | None = b"n" * 16,
    serial: int = 1001,
    status: str = "good",
    by: str = "key",
    digest: str = "sha256",
    carry: bool = False,
    extra: bool = False,
) -> bytes:
    """A basic OCSP answer about one certificate, signed by ``signer``."""
    key, cert_der = signer
    cert = x509.Certificate.load(cert_der)
    single: dict[str, Any] = {
        "cert_id": {
            "hash_algorithm": {"algorithm": "sha1"},
            "issuer_name_hash": hashlib.sha1(cert.subject.dump()).digest(),  # noqa: S324
            "issuer_key_hash": cert.public_key.sha1,
            "serial_number": serial,
        },
        "cert_status": ocsp.CertStatus(
            name="good" if status == "good" else "revoked",
            value=None
            if status == "good"
            else {"revocation_time": AT - timedelta(days=3), "revocation_reason": "key_compromise"},
        ),
        "this_update": this_update,
    }
    if next_update is not None:
        single["next_update"] = next_update
    extensions = []
    if nonce is not None:
        extensions.append({"extn_id": "nonce", "critical": False, "extn_value": nonce})
    if extra:
        extensions.append(
            {"extn_id": "extended_revoke", "critical": False, "extn_value": core.Null()}
        )
    responder_id = (
        ocsp.ResponderId(name="by_key", value=cert.public_key.sha1)
        if by == "key"
        else ocsp.ResponderId(name="by_name", value=cert.subject)
    )
    tbs = ocsp.ResponseData(
        {
            "responder_id": responder_id,
            "produced_at": produced,
            "responses": [single],
            "response_extensions": extensions or None,
        }
    )
    algorithm = f"{digest}_{'ecdsa' if isinstance(key, ec.EllipticCurvePrivateKey) else 'rsa'}"
    basic = ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": tbs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": algorithm}),
            "signature": _sign(key, tbs.dump(), digest),
            "certs": [cert] if carry else None,
        }
    )
    response = ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
        }
    )
    return bytes(response.dump())


def _crl(
    signer: tuple[Any, bytes],
    *,
    this_update: datetime = AT,
    next_update: datetime = AT + timedelta(days=7),
    revoked: tuple[int, ...] = (),
    number: int = 5,
) -> bytes:
    key, cert_der = signer
    cert = x509.Certificate.load(cert_der)
    tbs = crl.TbsCertList(
        {
            "version": "v2",
            "signature": {"algorithm": "sha256_rsa"},
            "issuer": cert.subject,
            "this_update": x509.Time(name="utc_time", value=this_update),
            "next_update": x509.Time(name="utc_time", value=next_update),
            "revoked_certificates": [
                {
                    "user_certificate": serial,
                    "revocation_date": x509.Time(name="utc_time", value=AT - timedelta(days=1)),
                }
                for serial in revoked
            ]
            or None,
            "crl_extensions": [{"extn_id": "crl_number", "critical": False, "extn_value": number}],
        }
    )
    listed = crl.CertificateList(
        {
            "tbs_cert_list": tbs,
            "signature_algorithm": {"algorithm": "sha256_rsa"},
            "signature": _sign(key, tbs.dump(), "sha256"),
        }
    )
    return bytes(listed.dump())


def _ocsp(raw: bytes, signers: list[bytes]) -> Any:
    return fo._ocsp_class(raw, signers)


def test_answers_that_differ_only_in_their_times_and_nonce_share_a_class(
    responder: tuple[Any, bytes],
) -> None:
    """Fetched a day apart, with another nonce: one class, each answer's own times."""
    first = _answer(responder)
    later = _answer(
        responder,
        produced=AT + timedelta(days=1),
        this_update=AT + timedelta(days=1),
        next_update=AT + timedelta(days=2),
        nonce=b"m" * 16,
    )
    one, two = _ocsp(first, [responder[1]]), _ocsp(later, [responder[1]])
    assert one.digest == two.digest
    assert one.times == [AT, AT, AT + timedelta(days=1)]
    assert two.times == [AT + timedelta(days=1)] * 2 + [AT + timedelta(days=2)]
    assert one.names == two.names
    assert one.names[0][0] == "1.3.14.3.2.26"  # its certificate, under SHA-1 hashes
    assert one.names[0][2] == 1001


@pytest.mark.parametrize(
    "change",
    [
        {"status": "revoked"},
        {"serial": 1002},
        {"by": "name"},
        {"digest": "sha384"},
        {"carry": True},
        {"extra": True},
        {"nonce": None},
    ],
    ids=lambda c: next(iter(c)),
)
def test_answers_that_differ_in_anything_else_do_not(
    responder: tuple[Any, bytes], change: dict[str, Any]
) -> None:
    """Its status, the certificate it speaks of, how it names its responder, its signature
    algorithm, the certificates it carries, another extension, a nonce or none: each
    makes another class."""
    base = _ocsp(_answer(responder), [responder[1]])
    assert _ocsp(_answer(responder, **change), [responder[1]]).digest != base.digest


def test_an_answer_signed_by_another_key_is_another_class_or_none(
    responder: tuple[Any, bytes], stranger: tuple[Any, bytes]
) -> None:
    """The same words signed by a responder of the same name but another key: another
    class when its own certificate is listed; not classed when only the first one is."""
    mine = _ocsp(_answer(responder, by="name"), [responder[1], stranger[1]])
    theirs = _ocsp(_answer(stranger, by="name"), [responder[1], stranger[1]])
    assert mine.digest != theirs.digest
    with pytest.raises(fo._Unclassed):
        _ocsp(_answer(stranger, by="name"), [responder[1]])


def test_an_answer_without_next_update_is_not_classed(responder: tuple[Any, bytes]) -> None:
    """Its freshness would be a fixed while after its this update, which the order of
    times does not hold."""
    with pytest.raises(fo._Unclassed, match="next update"):
        _ocsp(_answer(responder, next_update=None), [responder[1]])


def test_a_time_with_fractions_of_a_second_is_not_classed(responder: tuple[Any, bytes]) -> None:
    """The class leaves out only times in their plain form, whose values are read
    exactly."""
    with pytest.raises(fo._Unclassed):
        fo.classed(
            fo._ocsp_class,
            _answer(responder, produced=AT + timedelta(microseconds=250_000)),
            [responder[1]],
        )


def test_crls_that_differ_only_in_their_times_share_a_class(responder: tuple[Any, bytes]) -> None:
    """One issuer's CRL issued twice with the same number and entries: one class; another
    entry or another number: another class."""
    first = fo._crl_class(_crl(responder), [responder[1]])
    later = fo._crl_class(
        _crl(responder, this_update=AT + timedelta(hours=5), next_update=AT + timedelta(days=8)),
        [responder[1]],
    )
    assert first.digest == later.digest
    assert later.times == [AT + timedelta(hours=5), AT + timedelta(days=8)]
    assert first.names == later.names == (x509.Certificate.load(responder[1]).subject.dump(),)
    for other in ({"revoked": (1001,)}, {"number": 6}):
        assert fo._crl_class(_crl(responder, **other), [responder[1]]).digest != first.digest


@settings(max_examples=200, deadline=None)
@given(at=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_a_flipped_bit_never_keeps_the_class(
    responder: tuple[Any, bytes], at: int, bit: int
) -> None:
    """One bit changed anywhere in an answer: it no longer reads, no longer verifies, or
    is another class (nothing but its times and nonce may differ within a class, and
    those are signed)."""
    raw = _answer(responder, carry=True)
    base = fo.classed(fo._ocsp_class, raw, [responder[1]])  # its layout known from here
    at %= len(raw)
    changed = bytearray(raw)
    changed[at] ^= 1 << bit
    try:
        found = fo.classed(fo._ocsp_class, bytes(changed), [responder[1]])
    except fo._Unclassed:
        return
    assert found.digest != base.digest


def test_no_single_byte_change_keeps_the_class(responder: tuple[Any, bytes]) -> None:
    """Every byte of an OCSP answer (with its responder's certificate) and of a CRL (with
    two entries), each changed four ways: none keeps the original's class. (A signature
    whose unused-bits octet changed still verifies under a reader of octets, while
    asn1crypto reads other bits: such an answer is not classed.) The original is classed
    first, so every change is read by its class's layout where it fits."""
    for raw, kind in (
        (_answer(responder, carry=True), fo._ocsp_class),
        (_crl(responder, revoked=(5, 6)), fo._crl_class),
    ):
        base = fo.classed(kind, raw, [responder[1]])
        kept = []
        for at in range(len(raw)):
            for flip in (0x01, 0x02, 0x80, 0xFF):
                changed = bytearray(raw)
                changed[at] ^= flip
                try:
                    found = fo.classed(kind, bytes(changed), [responder[1]])
                except fo._Unclassed:
                    continue
                if found.digest == base.digest:
                    kept.append((kind.__name__, at, flip))
        assert not kept


def _both(kind: Any, raw: bytes, signers: list[bytes]) -> tuple[Any, Any]:
    """``raw``'s class as its class's layout reads it, and as read in full."""
    where = (kind.__name__, fo.signers_key(signers), len(raw))
    return fo._from_layout(where, raw), kind(raw, signers)


def _same(one: Any, two: Any) -> bool:
    return bool(
        (one.digest, one.times, one.names, one.carried)
        == (two.digest, two.times, two.names, two.carried)
    )


@settings(max_examples=80, deadline=None)
@given(
    days=st.integers(-8000, 8000),
    seconds=st.integers(0, 86399),
    nonce=st.binary(min_size=16, max_size=16),
)
def test_an_answer_read_by_its_class_layout_is_classed_as_read_in_full(
    responder: tuple[Any, bytes], days: int, seconds: int, nonce: bytes
) -> None:
    """Once an answer is classed, later answers of its class are read by where their
    times, nonce and signature lie: the same class, times and names as a full reading."""
    signers = [responder[1]]
    fo.classed(fo._ocsp_class, _answer(responder), signers)
    at = AT + timedelta(days=days, seconds=seconds)
    raw = _answer(
        responder, produced=at, this_update=at, next_update=at + timedelta(days=1), nonce=nonce
    )
    by_layout, full = _both(fo._ocsp_class, raw, signers)
    assert by_layout is not None
    assert _same(by_layout, full)
    assert by_layout.times == [at, at, at + timedelta(days=1)]


@settings(max_examples=60, deadline=None)
@given(year=st.integers(1950, 2048), days=st.integers(0, 364), seconds=st.integers(0, 86399))
def test_a_crl_read_by_its_class_layout_reads_utc_times_as_rfc_5280(
    responder: tuple[Any, bytes], year: int, days: int, seconds: int
) -> None:
    """A CRL's UTCTime years 50-99 are the 1900s and 00-49 the 2000s, read by the layout as
    in full."""
    signers = [responder[1]]
    fo.classed(fo._crl_class, _crl(responder), signers)
    at = datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=days, seconds=seconds)
    raw = _crl(responder, this_update=at, next_update=at + timedelta(days=7))
    by_layout, full = _both(fo._crl_class, raw, signers)
    assert by_layout is not None
    assert _same(by_layout, full)
    assert by_layout.times == [at, at + timedelta(days=7)]


def test_ecdsa_answers_of_one_class_are_read_by_the_layout_of_their_length() -> None:
    """An ECDSA signature's length varies with its value, and so the answer's: each length
    has a layout of its own, and every answer is classed as read in full."""
    key = ec.generate_private_key(ec.SECP256R1())
    signer = (key, _certificate("Demo EC responder", key))
    signers = [signer[1]]
    laid_out = 0
    for hour in range(40):
        at = AT + timedelta(hours=hour)
        raw = _answer(signer, produced=at, this_update=at, next_update=at + timedelta(days=1))
        by_layout, full = _both(fo._ocsp_class, raw, signers)
        if by_layout is not None:
            laid_out += 1
            assert _same(by_layout, full)
        assert _same(fo.classed(fo._ocsp_class, raw, signers), full)
    assert laid_out > 20


def test_an_answer_whose_time_is_not_a_date_is_not_classed_by_its_layout(
    responder: tuple[Any, bytes],
) -> None:
    """A 13th month written where the layout expects a time: read in full, which refuses
    it (as every reader of the answer would)."""
    signers = [responder[1]]
    raw = _answer(responder)
    fo.classed(fo._ocsp_class, raw, signers)
    produced = AT.strftime("%Y%m%d%H%M%SZ").encode()
    forged = raw.replace(produced, produced[:4] + b"13" + produced[6:], 1)
    assert forged != raw
    assert fo._from_layout(("_ocsp_class", fo.signers_key(signers), len(raw)), forged) is None
    with pytest.raises(fo._Unclassed):
        fo.classed(fo._ocsp_class, forged, signers)


def test_layouts_are_held_by_their_table_alone_within_a_bound_of_bytes(
    responder: tuple[Any, bytes],
) -> None:
    """A class remembered for an answer does not keep its layout alive (only the table of
    layouts does, within its bound of bytes), and the count of bytes held is exact."""
    signers = [responder[1]]
    for hour in range(5):
        at = AT + timedelta(hours=hour)
        raw = _answer(responder, produced=at, this_update=at, next_update=at + timedelta(days=1))
        assert fo.classed(fo._ocsp_class, raw, signers).layout is None
    held = sum(2 * len(one.written) for found in fo._LAYOUTS.table.values() for one in found)
    assert held == fo._LAYOUTS.held <= fo._LAYOUT_BYTES
