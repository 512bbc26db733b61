"""The fast path gives exactly the report full validation gives, on every corpus we have.

Each document is verified by a verifier with ``ValidationPolicy(fast_path=False)`` (full
pyHanko validation every time) and by one with the fast path on that has already seen
documents of the usual shapes (so its templates are warm); the two reports must be equal
(``elapsed_ms`` aside, which is not part of a report's identity or JSON).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from asn1crypto import cms, tsp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.sign import fields

from fixtures.documents import minimal_pdf, sign_detached, sign_pdf
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.conftest import Corpus
from tests.verify.test_verifier import SIGNED_AT, demo_trust
from verify import (
    DocumentReport,
    Indication,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    Verifier,
    fastpath,
    speedups,
)

LABELS = ["citizen", "citizen-ec", "organisation", "official", "agency-seal", "branch"]


def _pair(trust: TrustProfile, policy: ValidationPolicy) -> tuple[Verifier, Verifier]:
    return (
        Verifier(trust, policy.replace(fast_path=True)),
        Verifier(trust, policy.replace(fast_path=False)),
    )


def _same(fast: DocumentReport, full: DocumentReport, what: str) -> None:
    assert fast.to_dict() == full.to_dict(), what
    assert fast == full, what


def _check(
    fast: Verifier, full: Verifier, data: bytes, detached: bytes | None, what: str
) -> DocumentReport:
    """Both paths, twice on the fast side (the second time from a template if any)."""
    expected = full.verify(data, detached=detached)
    for _ in range(2):
        _same(fast.verify(data, detached=detached), expected, what)
    return expected


# -- signing helpers: same signer, same shape, other content ------------------------------


def _key(pki: DemoPKI, label: str) -> Any:
    return serialization.load_der_private_key(pki.key(label).dump(), password=None)


def resign_pdf(
    pki: DemoPKI,
    label: str,
    pdf: bytes,
    variant: int | str,
    *,
    tsa_at: datetime | None = None,
) -> bytes:
    """The same signed PDF with a few signed bytes changed and the CMS signed again: a new
    document of exactly the same shape (as a signer producing many of them would). With
    ``tsa_at``, the signature gets a new timestamp from the demo TSA, made at that time;
    whatever follows the signed revision (a B-LT document's DSS update) is kept as it is."""
    doc = bytearray(pdf)
    spot = doc.index(b"xxxxxxxx")
    doc[spot : spot + 8] = (
        f"{variant:08d}" if isinstance(variant, int) else f"{variant:8.8s}"
    ).encode()
    start = doc.index(b"/ByteRange")
    a, b, c = (int(x) for x in bytes(doc[start:]).split(b"[", 1)[1].split(b"]", 1)[0].split()[1:4])
    der = bytes.fromhex(doc[a + 1 : b - 1].decode())
    info = cms.ContentInfo.load(der)
    signed = bytes(doc[0:a] + doc[b : b + c])
    new = _resign(pki, label, info, signed, tsa_at).dump()
    hexed = new.hex().encode()
    doc[a + 1 : b - 1] = hexed + b"0" * (b - a - 2 - len(hexed))
    return bytes(doc)


def _timestamp_token(pki: DemoPKI, label: str, signature: bytes, at: datetime) -> Any:
    """A timestamp token over ``signature`` from the signer's TSA, made at ``at``."""
    from certomancer.registry import ServiceLabel

    tsa = "gov-tsa" if pki.hierarchy_of(label) == "specialized" else "public-tsa"
    stamper = pki.arch.service_registry.summon_timestamper(ServiceLabel(tsa), at_time=at)
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(signature).digest(),
            },
            "nonce": int.from_bytes(os.urandom(8), "big"),
            "cert_req": True,
        }
    )
    return stamper.request_tsa_response(request)["time_stamp_token"]


def _resign(
    pki: DemoPKI,
    label: str,
    info: cms.ContentInfo,
    signed: bytes,
    tsa_at: datetime | None = None,
) -> cms.ContentInfo:
    sd = info["content"]
    si = sd["signer_infos"][0]
    algo = si["digest_algorithm"]["algorithm"].native
    attrs = []
    for attr in si["signed_attrs"]:
        if attr["type"].native == "message_digest":
            attr = cms.CMSAttribute(
                {"type": "message_digest", "values": [hashlib.new(algo, signed).digest()]}
            )
        attrs.append(attr)
    si["signed_attrs"] = cms.CMSAttributes(attrs)
    payload = si["signed_attrs"].untag().dump()
    key = _key(pki, label)
    h = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[algo]
    if isinstance(key, rsa.RSAPrivateKey):
        si["signature"] = key.sign(payload, padding.PKCS1v15(), h)
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        si["signature"] = key.sign(payload, ec.ECDSA(h))
    if tsa_at is not None:
        token = _timestamp_token(pki, label, si["signature"].native, tsa_at)
        si["unsigned_attrs"] = cms.CMSAttributes(
            [cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]})]
        )
    return info


# -- corpora -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shapes(demo_pki: DemoPKI) -> dict[str, bytes]:
    """One signed document per shape the fast path takes, plus ones it must leave alone."""
    base = minimal_pdf("Ho so", padding=2000)
    out = {f"bb-{label}": sign_pdf(demo_pki, label, base, at=SIGNED_AT) for label in LABELS}
    out["pkcs7"] = sign_pdf(
        demo_pki,
        "citizen",
        base,
        at=SIGNED_AT,
        subfilter=fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
    )
    out["bt"] = sign_pdf(demo_pki, "official", base, at=SIGNED_AT, timestamp=True)
    out["lt"] = sign_pdf(demo_pki, "citizen", base, at=SIGNED_AT, ltv=True)
    out["two"] = sign_pdf(
        demo_pki, "official", out["bb-citizen"], at=SIGNED_AT, field_name="Signature2"
    )
    out["certified"] = sign_pdf(
        demo_pki, "agency-seal", base, at=SIGNED_AT, certify=fields.MDPPerm.FILL_FORMS
    )
    out["revoked"] = sign_pdf(demo_pki, "citizen-revoked", base, at=SIGNED_AT)
    out["sha512"] = sign_pdf(demo_pki, "citizen", base, at=SIGNED_AT, md_algorithm="sha512")
    return out


def _variants(pki: DemoPKI, shapes: dict[str, bytes]) -> Iterator[tuple[str, bytes]]:
    for name in [f"bb-{label}" for label in LABELS]:
        label = name[3:]
        for i in range(3):
            doc = resign_pdf(pki, label, shapes[name], i)
            yield f"{name}-v{i}", doc
            tampered = bytearray(doc)
            tampered[tampered.index(b"/Helvetica") + 1] ^= 1
            yield f"{name}-v{i}-tampered", bytes(tampered)
            yield f"{name}-v{i}-appended", doc + b"%trailing\n"
    yield "revoked-v1", resign_pdf(pki, "citizen-revoked", shapes["revoked"], 1)


def test_pdf_shapes_and_variants_give_identical_reports(
    demo_pki: DemoPKI, shapes: dict[str, bytes]
) -> None:
    """B-B (RSA/ECDSA, both hierarchies), PKCS#7, SHA-512, B-T, B-LT, two signatures,
    certified, revoked, and re-signed / tampered / appended variants: fast = full."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    for name, doc in shapes.items():
        _check(fast, full, doc, None, name)
    for name, doc in _variants(demo_pki, shapes):
        _check(fast, full, doc, None, name)


def test_fast_path_answers_for_documents_of_a_known_shape(
    demo_pki: DemoPKI, shapes: dict[str, bytes]
) -> None:
    """After one full validation per shape and hash outcome, re-signed documents (passed)
    and tampered ones (HASH_FAILURE) come from templates; two-signature documents never
    do."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    docs = [resign_pdf(demo_pki, "citizen-ec", shapes["bb-citizen-ec"], i) for i in range(5)]
    for i, doc in enumerate(docs):
        report = _check(fast, full, doc, None, f"variant {i}")
        assert report.indication is Indication.TOTAL_PASSED
    assert fastpath.stats(fast)["hits"] == 2 * len(docs) - 1  # every call but the first
    for i, doc in enumerate(docs):
        tampered = bytearray(doc)
        tampered[tampered.index(b"/Helvetica") + 1] ^= 1
        report = _check(fast, full, bytes(tampered), None, f"tampered {i}")
        assert report.sub_indication is SubIndication.HASH_FAILURE
    assert fastpath.stats(fast)["hits"] == 4 * len(docs) - 2
    before = fastpath.stats(fast)["hits"]
    _check(fast, full, shapes["two"], None, "two signatures")
    assert fastpath.stats(fast)["hits"] == before


def test_a_template_passed_to_another_process_answers_there(
    demo_pki: DemoPKI, shapes: dict[str, bytes]
) -> None:
    """A template taken from one verifier (pickled, as between processes) and adopted by a
    copy of it answers there with the full validation's report and without a full
    validation; template_key names the key it travels under; a verifier with another
    policy ignores it; one that was not asked to record keeps nothing."""
    import pickle

    policy = ValidationPolicy(validation_time=PINNED_NOW)
    maker, full = _pair(demo_trust(demo_pki), policy)
    worker = pickle.loads(pickle.dumps(maker))  # noqa: S301 - as a pool worker receives it
    fastpath.record_made(maker)
    docs = [resign_pdf(demo_pki, "citizen-ec", shapes["bb-citizen-ec"], i) for i in range(3)]
    assert maker.verify(docs[0]).passed
    made = pickle.loads(pickle.dumps(fastpath.take_made(maker)))  # noqa: S301 - ours
    assert [key for key, _template in made] == [fastpath.template_key(maker, docs[0])]
    assert fastpath.template_key(worker, docs[1]) == made[0][0]  # same shape, same key
    assert fastpath.take_made(maker) == []  # taken once
    silent = Verifier(demo_trust(demo_pki), policy)
    assert silent.verify(docs[0]).passed
    assert fastpath.take_made(silent) == []  # it was never asked to keep a list
    assert fastpath.adopt(worker, made) == 1
    assert fastpath.adopt(worker, made) == 0  # already there
    for doc in docs[1:]:
        _same(worker.verify(doc), full.verify(doc), "from an adopted template")
    assert fastpath.stats(worker) == {"hits": 2, "misses": 0, "templates": 1}
    other_time = policy.replace(validation_time=PINNED_NOW - timedelta(days=1))
    assert fastpath.adopt(Verifier(demo_trust(demo_pki), other_time), made) == 0


def test_template_key_is_none_for_what_the_fast_path_leaves_alone(
    demo_pki: DemoPKI, shapes: dict[str, bytes]
) -> None:
    """Two signatures, a certified document, garbage and a non-DER detached signature have
    no template key (their workers validate them in full)."""
    verifier = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    for name in ("two", "certified"):
        assert fastpath.template_key(verifier, shapes[name]) is None, name
    assert fastpath.template_key(verifier, b"not a pdf") is None
    assert fastpath.template_key(verifier, b"{}", b"-----BEGIN PKCS7-----") is None
    assert fastpath.template_key(verifier, shapes["bb-citizen"]) is not None


# -- timestamps and the B-LT validation-data update ----------------------------------------------

TSA_TIMES = [
    SIGNED_AT + timedelta(minutes=1),
    SIGNED_AT + timedelta(hours=3),
    PINNED_NOW - timedelta(hours=1),
]


@pytest.mark.parametrize(("shape", "label"), [("bt", "official"), ("lt", "citizen")])
def test_timestamped_variants_give_identical_reports_and_come_from_templates(
    demo_pki: DemoPKI, shapes: dict[str, bytes], shape: str, label: str
) -> None:
    """B-T and B-LT documents re-signed and re-timestamped at several times (the B-LT
    ones keep their DSS update), and tampered: fast = full, and every document after the
    first of each hash outcome comes from a template."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    for i, at in enumerate(TSA_TIMES):
        doc = resign_pdf(demo_pki, label, shapes[shape], i, tsa_at=at)
        report = _check(fast, full, doc, None, f"{shape} at {at}")
        assert report.indication is Indication.TOTAL_PASSED
        assert report.signatures[0].signing_time_proven == at
        tampered = bytearray(doc)
        tampered[tampered.index(b"/Helvetica") + 1] ^= 1
        report = _check(fast, full, bytes(tampered), None, f"{shape} at {at}, tampered")
        assert report.sub_indication is SubIndication.HASH_FAILURE
    # two full validations (one per hash outcome); every other call from a template
    assert fastpath.stats(fast)["hits"] == 4 * len(TSA_TIMES) - 2


def test_a_timestamp_across_a_validity_boundary_is_never_answered_from_a_template(
    demo_pki: DemoPKI, shapes: dict[str, bytes]
) -> None:
    """A timestamp from before the signer's certificate was issued (NOT_YET_VALID in
    full validation) does not reuse the template of one from inside its validity."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    inside = resign_pdf(demo_pki, "official", shapes["bt"], 1, tsa_at=SIGNED_AT)
    _check(fast, full, inside, None, "inside")
    issued = demo_pki.cert("official").not_valid_before
    before = resign_pdf(demo_pki, "official", shapes["bt"], 2, tsa_at=issued - timedelta(days=1))
    hits = fastpath.stats(fast)["hits"]
    report = fast.verify(before)
    assert report == full.verify(before)
    assert report.indication is not Indication.TOTAL_PASSED
    assert fastpath.stats(fast)["hits"] == hits


def test_changes_to_the_validation_data_update_go_to_full_validation(
    demo_pki: DemoPKI, shapes: dict[str, bytes]
) -> None:
    """A B-LT document whose DSS update was altered, which gained another update, or whose
    signed part refers to an object the update adds: fast = full, and none of them is
    answered from the template of the unaltered shape."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    lt = shapes["lt"]
    for i in range(2):
        doc = resign_pdf(demo_pki, "citizen", lt, i, tsa_at=TSA_TIMES[0])
        _check(fast, full, doc, None, f"v{i}")
    assert fastpath.stats(fast)["hits"] == 3  # the unaltered shape has a template
    base = resign_pdf(demo_pki, "citizen", lt, 5, tsa_at=TSA_TIMES[0])
    dss = base.rindex(b"/DSS")
    altered = bytearray(base)
    spot = base.index(b"/OCSPs", dss) if b"/OCSPs" in base[dss:] else base.index(b"/Certs", dss)
    altered[spot + 1] ^= 0x20  # /OCSPs -> /oCSPs: the update no longer says what it did
    extra = sign_pdf(demo_pki, "official", base, at=SIGNED_AT, field_name="Signature2")
    added = [int(n) for n in re.findall(rb"\n(\d+) 0 obj", base[base.rindex(b"%%EOF", 0, dss) :])]
    pointing = resign_pdf(demo_pki, "citizen", lt, f"{max(added)} 0 R", tsa_at=TSA_TIMES[0])
    for what, doc in [
        ("altered update", bytes(altered)),
        ("another revision", extra),
        ("signed part refers to an added object", pointing),
    ]:
        hits = fastpath.stats(fast)["hits"]
        report = fast.verify(doc)
        assert fastpath.stats(fast)["hits"] == hits, what  # not from any template
        _same(report, full.verify(doc), what)


def test_detached_signatures_give_identical_reports(demo_pki: DemoPKI) -> None:
    """Detached CAdES for each signer, re-signed over other content, tampered content,
    a revoked signer and a timestamped one: fast = full."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    for label in [*LABELS, "citizen-revoked"]:
        for i in range(3):
            data = f"{label} {i} ".encode() * 100
            sig = sign_detached(demo_pki, label, data, at=SIGNED_AT)
            _check(fast, full, data, sig, f"{label} {i}")
            _check(fast, full, b"X" + data[1:], sig, f"{label} {i} tampered")
    data = b"timestamped"
    _check(
        fast, full, data, sign_detached(demo_pki, "official", data, at=SIGNED_AT, timestamp=True),
        "timestamped",
    )  # fmt: skip
    assert fastpath.stats(fast)["hits"] > 0


def test_offline_and_soft_policies_give_identical_reports(
    demo_pki: DemoPKI, shapes: dict[str, bytes]
) -> None:
    """Offline hard (TRY_LATER), offline soft and revocation off: fast = full."""
    for policy in (
        ValidationPolicy(validation_time=PINNED_NOW, network=False),
        ValidationPolicy(validation_time=PINNED_NOW, network=False, revocation="soft"),
        ValidationPolicy(validation_time=PINNED_NOW, revocation="off"),
    ):
        fast, full = _pair(demo_trust(demo_pki), policy)
        for name in ("bb-citizen", "bb-official"):
            for i in range(2):
                doc = resign_pdf(demo_pki, name[3:], shapes[name], i)
                _check(fast, full, doc, None, f"{policy.revocation} {name} {i}")


def test_cli_corpus_gives_identical_reports(demo_pki: DemoPKI, verify_corpus: Corpus) -> None:
    """Every document of the command line's corpus (pairs with their signatures)."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    root = verify_corpus.root
    for path in sorted(root.iterdir()):
        if path.suffix == ".p7s":
            continue
        sig = path.with_name(path.name + ".p7s")
        detached = sig.read_bytes() if sig.exists() else None
        _check(fast, full, path.read_bytes(), detached, path.name)
    orphan = (root / "orphan.p7s").read_bytes()
    _check(fast, full, b"lost", orphan, "orphan with its content")


def test_adversarial_cases_give_identical_reports(demo_pki: DemoPKI) -> None:
    """Every case of the adversarial corpus (tests/adversarial/corpus.py) that runs in
    process, verified by a fast verifier already warm with the base documents the cases
    are made from. (The cases marked ``isolate`` can hang or exhaust the stack by design;
    they run in a subprocess in their own tests and gain nothing here.)"""
    from tests.adversarial import corpus

    bases = corpus.Bases(demo_pki)
    demo_policy = ValidationPolicy(validation_time=PINNED_NOW)
    fast_demo, full_demo = _pair(corpus.demo_trust(demo_pki), demo_policy)
    _check(fast_demo, full_demo, bases.signed, None, "base")
    _check(fast_demo, full_demo, corpus.DATA, bases.detached, "base detached")
    checked = 0
    for case in corpus.CASES:
        if getattr(case, "isolate", False):
            continue
        inp = case.build(bases)
        if inp.anchors:
            made = corpus.make_verifier(None, inp)
            fast, full = _pair(made.trust, made.policy)
        else:
            fast, full = fast_demo, full_demo
        _check(fast, full, inp.data, inp.detached, case.id)
        checked += 1
    assert checked >= 50


def test_policy_switch_turns_the_fast_path_off(demo_pki: DemoPKI, shapes: dict[str, bytes]) -> None:
    """``ValidationPolicy(fast_path=False)``: no template is ever made or used."""
    full = Verifier(
        demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW, fast_path=False)
    )
    for i in range(3):
        full.verify(resign_pdf(demo_pki, "citizen", shapes["bb-citizen"], i))
    assert fastpath.stats(full) == {"hits": 0, "misses": 0, "templates": 0}


# -- the hex string reader given to pyHanko ---------------------------------------------------

_HEX_PIECES = st.sampled_from(
    [b"0", b"7", b"a", b"F", b"3c", b"ff00", b" ", b"\n", b"\r\n", b"\t", b"\x00", b"%c\n",
     b">", b"<", b"x", b"(", b"/", b"\xff"]
)  # fmt: skip


def _read(reader: Any, data: bytes) -> tuple[Any, ...]:
    stream = io.BytesIO(data)
    try:
        value = reader(stream)
    except Exception as exc:  # noqa: BLE001 - the exception's type is what is compared
        return ("raised", type(exc).__name__, stream.tell())
    return (type(value).__name__, bytes(value.original_bytes), stream.tell())


@settings(max_examples=400, deadline=None)
@given(st.lists(_HEX_PIECES, max_size=40), st.binary(max_size=8))
def test_hex_reader_matches_pyhankos_own(pieces: list[bytes], tail: bytes) -> None:
    """For any input after ``<``, the faster reader returns what pyHanko's returns (same
    type and bytes) or raises the same error, and leaves the stream at the same place."""
    data = b"<" + b"".join(pieces) + tail
    assert _read(speedups.fast_read_hex_string_from_stream, data) == _read(
        speedups.original_hex_reader(), data
    )


def test_hex_reader_decodes_a_long_contents_string_in_one_step() -> None:
    """A 200 KB /Contents-like string, longer than one read, decodes exactly."""
    der = bytes(range(256)) * 400
    data = b"<" + der.hex().upper().encode() + b">/ByteRange"
    fast = _read(speedups.fast_read_hex_string_from_stream, data)
    assert fast == _read(speedups.original_hex_reader(), data)
    assert fast[1] == der
    assert fast[2] == len(data) - len(b"/ByteRange")


# -- the memo of certificate-name string preparation -------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_string_prep_memo_matches_asn1cryptos_own(value: str) -> None:
    """The memoised RFC 4518 preparation equals asn1crypto's, first call and repeated."""
    from asn1crypto import x509 as asn1_x509

    ntv = asn1_x509.NameTypeAndValue()  # the preparation never looks at its object
    try:
        expected: tuple[str, Any] = ("ok", speedups.original_string_prep()(ntv, value))
    except Exception as exc:  # noqa: BLE001 - the exception's type is what is compared
        expected = ("raised", type(exc).__name__)
    for _ in range(2):
        try:
            got: tuple[str, Any] = ("ok", ntv._ldap_string_prep(value))
        except Exception as exc:  # noqa: BLE001 - as above
            got = ("raised", type(exc).__name__)
        assert got == expected


def test_names_compare_as_rfc5280_says_with_the_memo() -> None:
    """Case, spaces and Vietnamese composition are folded as before: equal names stay equal."""
    from asn1crypto import x509 as asn1_x509

    a = asn1_x509.Name.build({"common_name": "Nguyễn  Thị HOÀ", "country_name": "VN"})
    b = asn1_x509.Name.build({"common_name": "nguyễn thị hoà", "country_name": "vn"})
    c = asn1_x509.Name.build({"common_name": "Nguyễn Thị Hòa", "country_name": "VN"})
    assert a == b
    assert a.hashable == b.hashable
    assert (a == c) == (
        speedups.original_string_prep()(None, "Nguyễn Thị HOÀ")
        == speedups.original_string_prep()(None, "Nguyễn Thị Hòa")
    )


def test_every_dated_algorithm_rule_is_a_time_boundary() -> None:
    """A template never crosses a date of the algorithm rules: each one is a boundary."""
    import dataclasses

    from verify.policy import AlgorithmRules

    rules = AlgorithmRules()
    dated = {
        getattr(rules, f.name)
        for f in dataclasses.fields(rules)
        if isinstance(getattr(rules, f.name), datetime)
    }
    assert dated
    assert dated <= set(rules.time_boundaries())


_IMPORT_TOUCHES_NOTHING = """
from asn1crypto import x509
from pyhanko.pdf_utils import generic
before = (generic.read_hex_string_from_stream, x509.NameTypeAndValue._ldap_string_prep)
import verify, verify.bulk, verify.cli, verify.fastpath, verify.verifier
after = (generic.read_hex_string_from_stream, x509.NameTypeAndValue._ldap_string_prep)
print(before == after)
"""


def test_importing_verify_replaces_nothing_in_third_party_code() -> None:
    """No pyHanko or asn1crypto function is replaced by importing any verify module."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_TOUCHES_NOTHING], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "True"


def test_speedups_install_on_proven_versions_and_uninstall_restores_the_originals() -> None:
    """install() replaces both functions at the proven versions; uninstall() puts pyHanko's
    and asn1crypto's own back."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils import generic

    speedups.uninstall()
    own = (generic.read_hex_string_from_stream, asn1_x509.NameTypeAndValue._ldap_string_prep)
    try:
        assert speedups.install() == {"hex_reader": None, "string_prep_memo": None}
        assert speedups.installed() == {"hex_reader", "string_prep_memo"}
        assert generic.read_hex_string_from_stream is speedups.fast_read_hex_string_from_stream
        assert speedups.original_hex_reader() is own[0]
    finally:
        speedups.uninstall()
    assert (
        generic.read_hex_string_from_stream,
        asn1_x509.NameTypeAndValue._ldap_string_prep,
    ) == own
    assert speedups.installed() == frozenset()


def test_speedups_refuse_a_library_version_they_were_not_proven_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At another pyHanko version the hex reader stays pyHanko's own, and install() says why."""
    from pyhanko.pdf_utils import generic

    speedups.uninstall()
    own = generic.read_hex_string_from_stream
    monkeypatch.setitem(speedups.PROVEN, "pyhanko", frozenset({"0.0.1"}))
    try:
        result = speedups.install()
        assert result["hex_reader"] is not None
        assert "0.0.1" in result["hex_reader"]
        assert generic.read_hex_string_from_stream is own
        assert result["string_prep_memo"] is None
    finally:
        speedups.uninstall()


def test_a_template_never_answers_for_a_claimed_time_the_policy_judges_otherwise(
    demo_pki: DemoPKI,
) -> None:
    """Same signer and shape, one claimed time inside the certificate's validity and one
    after its expiry: the second is never answered from the first's passing template, and
    with the constraint at WARN neither is a warning carried over to the other."""
    from datetime import UTC, datetime

    import fixtures.attacks as A

    late = datetime(2031, 1, 1, tzinfo=UTC)
    for level in ("FAIL", "WARN"):
        policy = ValidationPolicy(
            validation_time=PINNED_NOW,
            constraints={"signing_time_in_certificate_validity": level},
        )
        fast, full = _pair(demo_trust(demo_pki), policy)
        for n, claimed in enumerate((SIGNED_AT, late, SIGNED_AT, late)):
            data = f"hồ sơ {level} {n}".encode()
            sig = A.sign_cades(demo_pki, "citizen", data, at=SIGNED_AT, signing_time=claimed)
            expected = _check(fast, full, data, sig.dump(), f"{level} claimed {claimed}")
            assert expected.passed is (claimed == SIGNED_AT or level == "WARN")


@pytest.mark.parametrize(
    "policy",
    [
        ValidationPolicy(network=False, revocation="soft"),
        ValidationPolicy(revocation="off"),
    ],
    ids=["offline-soft", "revocation-off"],
)
def test_templates_serve_now_when_no_revocation_data_is_used(
    demo_pki: DemoPKI, policy: ValidationPolicy
) -> None:
    """Validated "now" with nothing fetched (offline, or revocation off), only time can
    change the answer: the certificates' validity is the template's window, the fast path
    answers every document after the first, and its reports are full validation's."""
    import time_machine

    fast, full = _pair(demo_trust(demo_pki), policy)
    with time_machine.travel(PINNED_NOW, tick=False):
        for i in range(4):
            data = f"hồ sơ ngoại tuyến {i}".encode()
            sig = sign_detached(demo_pki, "citizen", data, at=SIGNED_AT)
            expected = _check(fast, full, data, sig, f"document {i}")
            assert expected.passed, expected.message_en
    assert fastpath.stats(fast)["hits"] == 2 * 4 - 1


def test_the_fast_path_uses_no_private_name_of_the_verifier() -> None:
    """fastpath reads the verifier's public surface only (trust, policy, evidence_in) and is
    handed the full check to run; it imports nothing private from verify.verifier."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(fastpath))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "verify.verifier":
            assert all(not alias.name.startswith("_") for alias in node.names)
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "verifier"
        ):
            assert not node.attr.startswith("_"), node.attr
