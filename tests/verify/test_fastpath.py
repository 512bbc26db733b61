"""The fast path gives exactly the report full validation gives, on every corpus we have.

Each document is verified by a verifier with ``ValidationPolicy(fast_path=False)`` (full
pyHanko validation every time) and by one with the fast path on that has already seen
documents of the usual shapes (so its templates are warm); the two reports must be equal
(``elapsed_ms`` aside, which is not part of a report's identity or JSON).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from asn1crypto import cms, ocsp, tsp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.sign import fields

from fixtures.documents import minimal_pdf, sign_detached, sign_pdf
from fixtures.pki import DemoPKI, DemoServices
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


def _apart(fast: Verifier) -> str:
    """Where the keys of ``fast``'s templates differ (paths into the key tuples, with the
    values at the first few): what made documents meant to share a template miss it."""
    keys = list(fastpath._store(fast).templates)
    found: list[str] = []

    def walk(a: Any, b: Any, path: tuple[int, ...]) -> None:
        if len(found) >= 6 or a == b:
            return
        if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
            for k, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, (*path, k))
            return
        found.append(f"{path}: {repr(a)[:160]} != {repr(b)[:160]}")

    for first, second in itertools.pairwise(keys):
        walk(first, second, ())
    return f"{len(keys)} templates; keys apart at " + ("; ".join(found) or "nothing")


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


def _signed_end(pdf: bytes) -> int:
    """Where the bytes the first signature signs end."""
    found = re.search(rb"/ByteRange\s*\[\s*0\s+\d+\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert found is not None
    return int(found[1]) + int(found[2])


def _edited(pdf: bytes, at: int, old: bytes, new: bytes) -> bytes:
    """``old`` at ``at`` replaced by ``new`` of the same length (every offset stays)."""
    assert pdf[at : at + len(old)] == old, old
    assert len(new) == len(old), new
    return pdf[:at] + new + pdf[at + len(old) :]


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
    and tampered ones (HASH_FAILURE) come from templates; a document of a new shape (two
    signatures) is validated in full the first time and answered from its own template
    the second."""
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
    assert fastpath.stats(fast)["hits"] == before + 1


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


def test_holding_hands_back_a_new_shape_once_and_never_what_was_validated_in_full(
    demo_pki: DemoPKI, shapes: dict[str, bytes]
) -> None:
    """Inside ``holding``, a document of a shape with no template raises Held with its
    template key, unvalidated; a document of a shape with a template is answered from it;
    and a shape this verifier validated in full without making a template (an untrusted
    signer) is validated in full again, not held: nothing comes back twice."""
    policy = ValidationPolicy(validation_time=PINNED_NOW)
    fast, full = _pair(demo_trust(demo_pki), policy)
    docs = [resign_pdf(demo_pki, "citizen-ec", shapes["bb-citizen-ec"], i) for i in range(3)]
    with fastpath.holding(), pytest.raises(fastpath.Held) as held:
        fast.verify(docs[0])
    assert held.value.key == fastpath.template_key(fast, docs[0])
    assert fastpath.stats(fast) == {"hits": 0, "misses": 0, "templates": 0}
    _same(fast.verify(docs[0]), full.verify(docs[0]), "validated in full, outside")
    with fastpath.holding():
        _same(fast.verify(docs[1]), full.verify(docs[1]), "from its template")
    assert fastpath.stats(fast)["hits"] == 1

    # online, an untrusted signer's verdict makes no template (an issuer fetched for
    # another document could complete the path)
    nobody = TrustProfile.custom([demo_pki.cert("gov-root")], name="other")
    stranger, strict = _pair(nobody, policy)
    first = stranger.verify(docs[0])
    assert first.indication is Indication.INDETERMINATE
    assert fastpath.stats(stranger)["templates"] == 0
    with fastpath.holding():
        _same(stranger.verify(docs[2]), strict.verify(docs[2]), "untrusted, in full")


def test_template_key_is_none_for_what_the_fast_path_leaves_alone(
    demo_pki: DemoPKI, shapes: dict[str, bytes]
) -> None:
    """A certified document, garbage and a non-DER detached signature have no template key
    (their workers validate them in full); one and two signatures have one."""
    verifier = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    assert fastpath.template_key(verifier, shapes["certified"]) is None
    assert fastpath.template_key(verifier, shapes["two"]) is not None
    assert fastpath.template_key(verifier, b"not a pdf") is None
    assert fastpath.template_key(verifier, b"{}", b"-----BEGIN PKCS7-----") is None
    assert fastpath.template_key(verifier, shapes["bb-citizen"]) is not None


def test_documents_with_one_template_key_share_one_shape_hint(
    demo_pki: DemoPKI, shapes: dict[str, bytes]
) -> None:
    """The bulk planner's cheap hint: the same for every document of one template key
    (re-signed, tampered), different for other signers and shapes (not for a timestamp),
    None where the fast path does not go."""
    verifier = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    hints: dict[str, Any] = {}
    for name in ["bb-citizen", "bb-citizen-ec", "bb-official", "two", "lt", "bt"]:
        docs = [shapes[name]]
        if name.startswith("bb-"):
            docs += [resign_pdf(demo_pki, name[3:], shapes[name], i) for i in range(3)]
            docs.append(_flipped(docs[1], docs[1].index(b"/Helvetica") + 1))
        found = {fastpath.shape_hint(verifier, doc) for doc in docs}
        assert len(found) == 1, name
        hints[name] = found.pop()
        assert hints[name] is not None, name
    assert hints["bt"] == hints["bb-official"]  # the hint leaves the timestamp out
    del hints["bt"]
    assert len(set(hints.values())) == len(hints)
    assert fastpath.shape_hint(verifier, shapes["certified"]) is None
    assert fastpath.shape_hint(verifier, b"%PDF-1.7 not a pdf") is None
    pdf = _flipped(shapes["bb-citizen"], 0)  # not read as a PDF from its first byte
    assert fastpath.shape_hint(verifier, pdf) == fastpath.template_key(verifier, pdf)


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
    """A B-LT document whose DSS update was altered, which gained another update (a second
    signature), or whose signed revision refers (in its structure) to an object the update
    adds: fast = full, and none of them is answered from the template of the unaltered
    shape. Text that reads like such a reference inside a stream's data (which no reader
    takes for one) changes nothing: that document is answered from the template."""
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
    # the font of the signed page now names an object the DSS update adds
    font = lt.rindex(b"/F1 5 0 R", 0, _signed_end(lt))
    pointing = _edited(lt, font - 1, b"\n/F1 5 0 R", f"/F1 {max(added)} 0 R".encode())
    pointing = resign_pdf(demo_pki, "citizen", pointing, 6, tsa_at=TSA_TIMES[0])
    for what, doc in [
        ("altered update", bytes(altered)),
        ("another revision", extra),
        ("signed structure refers to an added object", pointing),
    ]:
        hits = fastpath.stats(fast)["hits"]
        report = fast.verify(doc)
        assert fastpath.stats(fast)["hits"] == hits, what  # not from any template
        _same(report, full.verify(doc), what)
    _check(fast, full, pointing, None, "signed structure refers to an added object, again")
    assert fastpath.stats(fast)["hits"] == hits  # no template is made for it either
    in_data = resign_pdf(demo_pki, "citizen", lt, f"{max(added)} 0 R", tsa_at=TSA_TIMES[0])
    hits = fastpath.stats(fast)["hits"]
    _same(fast.verify(in_data), full.verify(in_data), "a reference in stream data")
    assert fastpath.stats(fast)["hits"] == hits + 1


_VRI_NAME = re.compile(rb"/VRI\s*<<\s*/([0-9A-Fa-f]{40})\b")


def _vri_renamed(pdf: bytes, name: bytes) -> bytes:
    """``pdf`` with its DSS's (one) VRI entry renamed ``name`` (40 hex digits)."""
    found = _VRI_NAME.search(pdf)
    assert found is not None
    assert len(name) == 40
    return pdf[: found.start(1)] + name + pdf[found.end(1) :]


def _one_context(pki: DemoPKI, moment: datetime, first: int) -> list[bytes]:
    """Three B-LT documents a signing service makes with one validation context (gathered
    as of ``moment``): the same validation data in each."""
    from fixtures.documents import demo_validation_context

    context = demo_validation_context(pki, moment=moment)
    return [
        sign_pdf(
            pki,
            "citizen",
            minimal_pdf(f"Hồ sơ {first + i}", pages=2),
            at=SIGNED_AT + timedelta(minutes=first + i),
            ltv=True,
            validation_context=context,
        )
        for i in range(3)
    ]


def test_b_lt_documents_signed_with_one_context_are_answered_from_one_template(
    demo_pki: DemoPKI,
) -> None:
    """B-LT documents a signing service makes with one validation context: the same
    validation data in each, each DSS naming its own signature's VRI entry (the SHA-1 of
    its signature). fast = full, and every document after the first is answered from the
    first one's template. A VRI entry that names no signature of its document (another
    document's name, or its own in lower case, which pyHanko's difference analysis
    refuses) makes another structure: fast = full, not from that template."""
    docs = _one_context(demo_pki, SIGNED_AT, 0)
    names = []
    for doc in docs:
        found = _VRI_NAME.search(doc)
        assert found is not None
        names.append(found[1])
        a, b = (int(x) for x in _ANY_BYTE_RANGE.findall(doc)[0][:2])
        contents = bytes.fromhex(doc[a + 1 : b - 1].decode())
        assert found[1] == hashlib.sha1(contents).hexdigest().upper().encode()  # noqa: S324
    assert len(set(names)) == 3  # each names its own signature
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    for i, doc in enumerate(docs):
        expected = _check(fast, full, doc, None, f"document {i}")
        assert expected.indication is Indication.TOTAL_PASSED
    assert fastpath.stats(fast)["misses"] == 1
    assert fastpath.stats(fast)["hits"] == 5
    for what, doc in [
        ("another document's VRI name", _vri_renamed(docs[1], names[0])),
        ("its own VRI name in lower case", _vri_renamed(docs[2], names[2].lower())),
    ]:
        hits = fastpath.stats(fast)["hits"]
        report = fast.verify(doc)
        assert fastpath.stats(fast)["hits"] == hits, what
        _same(report, full.verify(doc), what)


def _own_data(services: DemoServices, i: int, at: datetime, tsa: datetime | None = None) -> bytes:
    """A B-LT document signed by the citizen whose validation data was fetched anew for it,
    from services answering as of ``at`` (the TSA as of ``tsa``, if given)."""
    with services.speaking_of(at, tsa=tsa):
        return sign_pdf(
            services.pki,
            "citizen",
            minimal_pdf(f"Hồ sơ {i:04d}", pages=2),
            at=SIGNED_AT + timedelta(minutes=i),
            ltv=True,
        )


def _answers(pdf: bytes) -> list[tuple[int, int]]:
    """Where the data of each OCSP answer and CRL of the DSS lies in ``pdf``."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf)))
    found = []
    for ref in [*dss.ocsps, *dss.crls]:
        raw = ref.get_object().data
        at = pdf.index(raw)
        found.append((at, at + len(raw)))
    return found


@pytest.fixture(scope="module")
def own_data(demo_services: DemoServices) -> list[bytes]:
    """Five B-LT documents, each with validation data of its own: answers made at
    times 7 minutes apart, signed anew, listed in the order the fetches ended."""
    base = SIGNED_AT + timedelta(hours=1)
    return [_own_data(demo_services, i, base + timedelta(minutes=7 * i)) for i in range(5)]


@pytest.mark.parametrize("now", [False, True], ids=["fixed time", "now"])
def test_b_lt_documents_with_validation_data_of_their_own_share_a_template(
    demo_pki: DemoPKI, own_data: list[bytes], now: bool
) -> None:
    """B-LT documents whose signer fetched the validation data anew for each (OCSP answers
    and CRLs made at other times and signed anew), validated at a fixed time or "now"
    (the clock pinned): fast = full, and every document after the first is answered from
    its template, its answers held by what they say and the order of their times among
    every time the verdict weighs them against."""
    import time_machine

    assert len({tuple(doc[a:b] for a, b in _answers(doc)) for doc in own_data}) == 5
    policy = ValidationPolicy() if now else ValidationPolicy(validation_time=PINNED_NOW)
    fast, full = _pair(demo_trust(demo_pki), policy)
    with time_machine.travel(PINNED_NOW, tick=False):
        for i, doc in enumerate(own_data):
            expected = _check(fast, full, doc, None, f"document {i}")
            assert expected.indication is Indication.TOTAL_PASSED
    assert fastpath.stats(fast)["misses"] == 1, _apart(fast)
    assert fastpath.stats(fast)["hits"] == 9


def test_byte_for_byte_probes_grow_rarer_while_they_find_nothing_and_start_over_after() -> None:
    """After a run of documents whose byte-for-byte structure was new, one in 32 is still
    read byte for byte first, then one in 64, 128 and so on up to 1,024 while each finds
    a new structure again; once the byte reading serves (the run ends), the count starts
    over."""
    store = fastpath._Store()
    store.unjudged = fastpath._UNJUDGED_RUN
    probes = [k for k in range(1, 4000) if not fastpath._objects_first(store)]
    gaps = [b - a for a, b in zip([0, *probes], probes, strict=False)]
    assert gaps[:6] == [32, 64, 128, 256, 512, 1024]
    assert set(gaps[6:]) == {1024}
    store.unjudged = 0  # a byte reading served
    assert not fastpath._objects_first(store)
    store.unjudged = fastpath._UNJUDGED_RUN
    assert [fastpath._objects_first(store) for _ in range(32)] == [True] * 31 + [False]


def test_a_run_of_documents_with_validation_data_of_their_own_is_read_object_by_object_first(
    demo_services: DemoServices, demo_pki: DemoPKI, own_data: list[bytes]
) -> None:
    """B-LT documents whose byte-for-byte structures were each new (validation data of
    their own), one after the other: after a run of them, the next ones are read object
    by object first, their byte-for-byte reading (done for nothing) left for a template
    miss. Every report is still full validation's, and every document after the first is
    answered from the template."""
    base = SIGNED_AT + timedelta(hours=3)
    more = [_own_data(demo_services, 40 + i, base + timedelta(minutes=5 * i)) for i in range(8)]
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    store = fastpath._store(fast)
    skipped = 0
    for i, doc in enumerate([*own_data, *more]):
        probes = store.probes
        _check(fast, full, doc, None, f"document {i}")
        skipped += store.probes - probes
    assert fastpath.stats(fast)["misses"] == 1, _apart(fast)
    assert store.unjudged >= fastpath._UNJUDGED_RUN
    assert skipped >= 4  # read object by object first
    assert fastpath.stats(fast)["hits"] == 2 * (len(own_data) + len(more)) - 1
    # then documents that share their validation data (one signing context): each gets
    # full validation's report, every one after the first from its template
    shared = _one_context(demo_pki, base, 60)
    hits = fastpath.stats(fast)["hits"]
    for i, doc in enumerate(shared):
        _check(fast, full, doc, None, f"shared document {i}")
    assert fastpath.stats(fast)["hits"] - hits == 2 * len(shared) - 1


def test_validation_data_of_another_order_in_time_or_unverified_is_not_answered_from_it(
    demo_services: DemoServices, demo_pki: DemoPKI, own_data: list[bytes]
) -> None:
    """Validation data that differs from the template's in more than its times' values:
    the timestamp made after the OCSP answers rather than with them (another order of
    times), an answer's signature broken, an answer made after the validation time. fast
    = full, and none is answered from the template of the others."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    for i, doc in enumerate(own_data[:2]):
        _check(fast, full, doc, None, f"document {i}")
    base = SIGNED_AT + timedelta(hours=2)
    later = _own_data(demo_services, 20, base, tsa=base + timedelta(minutes=30))
    broken = bytearray(own_data[3])
    start, end = _answers(own_data[3])[0]  # an OCSP answer (they come first)
    basic = ocsp.OCSPResponse.load(own_data[3][start:end])["response_bytes"]["response"].parsed
    value = basic["signature"].contents[-16:]
    broken[own_data[3].index(value, start, end)] ^= 0x01  # its signature value
    after = _own_data(demo_services, 21, PINNED_NOW + timedelta(hours=1))
    for what, doc in [
        ("timestamp after the answers", later),
        ("an answer that does not verify", bytes(broken)),
        ("answers made after the validation time", after),
    ]:
        hits = fastpath.stats(fast)["hits"]
        report = fast.verify(doc)
        assert fastpath.stats(fast)["hits"] == hits, what
        _same(report, full.verify(doc), what)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_a_byte_changed_in_the_validation_data_never_differs_from_full_validation(
    demo_pki: DemoPKI, own_data: list[bytes], data: st.DataObject
) -> None:
    """Any byte of any OCSP answer or CRL changed, in a document whose structure has a
    template: the fast path's report is full validation's."""
    fast, full = _FLIP_PAIRS.setdefault(
        "own", _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    )
    if not fastpath.stats(fast)["templates"]:
        _check(fast, full, own_data[0], None, "the template")
    doc = own_data[data.draw(st.integers(1, len(own_data) - 1))]
    start, end = data.draw(st.sampled_from(_answers(doc)))
    at = data.draw(st.integers(start, end - 1))
    flipped = doc[:at] + bytes([doc[at] ^ data.draw(st.integers(1, 255))]) + doc[at + 1 :]
    _same(fast.verify(flipped), full.verify(flipped), f"byte {at}")


_FLIP_PAIRS: dict[str, tuple[Verifier, Verifier]] = {}


# -- two signatures: a citizen signs, an official countersigns -----------------------------

PAIRS = [
    ("citizen", "official"),
    ("citizen", "organisation"),
    ("citizen-ec", "organisation"),
    ("official", "official"),
    ("agency-seal", "official"),
]
"""(first signer, countersigner): a citizen's signature countersigned by an official (as
``make demo`` does), and the pairs of the benchmark's two-signature corpus."""

_ANY_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def resign_all(pki: DemoPKI, labels: list[str], pdf: bytes, variant: int) -> bytes:
    """A few bytes of the first signed revision changed and every signature made again in
    turn by its signer (``labels``, in revision order), each over its own revision: a new
    document of exactly the same shape, as the benchmark corpus makes them."""
    doc = bytearray(pdf)
    spot = doc.index(b"xxxxxxxx")
    doc[spot : spot + 8] = f"{variant:08d}".encode()
    ranges = list(_ANY_BYTE_RANGE.finditer(bytes(doc)))
    assert len(ranges) == len(labels)
    for found, label in zip(ranges, labels, strict=True):
        a, b, c = (int(x) for x in found.groups())
        der = bytes.fromhex(doc[a + 1 : b - 1].decode())
        signed = bytes(doc[0:a] + doc[b : b + c])
        hexed = _resign(pki, label, cms.ContentInfo.load(der), signed).dump().hex().encode()
        doc[a + 1 : b - 1] = hexed + b"0" * (b - a - 2 - len(hexed))
    return bytes(doc)


def resign_last(pki: DemoPKI, label: str, pdf: bytes) -> bytes:
    """The last signature made again by ``label`` over its (perhaps edited) revision."""
    a, b, c = (int(x) for x in list(_ANY_BYTE_RANGE.finditer(pdf))[-1].groups())
    der = bytes.fromhex(pdf[a + 1 : b - 1].decode())
    new = _resign(pki, label, cms.ContentInfo.load(der), pdf[0:a] + pdf[b : b + c]).dump()
    hexed = new.hex().encode()
    return pdf[: a + 1] + hexed + b"0" * (b - a - 2 - len(hexed)) + pdf[b - 1 :]


def sign_over(pki: DemoPKI, label: str, pdf: bytes) -> bytes:
    """The last signature replaced, in its place, by one that ``label`` makes over the same
    bytes (pyHanko's signer, PAdES attributes): the same structure, another signer."""
    import asyncio

    from fixtures.documents import demo_signer, pinned

    a, b, c = (int(x) for x in list(_ANY_BYTE_RANGE.finditer(pdf))[-1].groups())
    digest = hashlib.sha256(pdf[0:a] + pdf[b : b + c]).digest()
    with pinned(SIGNED_AT):
        made = asyncio.run(demo_signer(pki, label).async_sign(digest, "sha256", use_pades=True))
    hexed = made.dump().hex().encode()
    assert len(hexed) <= b - a - 2, "the new signature does not fit"
    return pdf[: a + 1] + hexed + b"0" * (b - a - 2 - len(hexed)) + pdf[b - 1 :]


def countersign(
    pki: DemoPKI,
    label: str,
    pdf: bytes,
    *,
    at: datetime = SIGNED_AT,
    field_name: str = "Signature2",
    box: tuple[int, int, int, int] | None = None,
    timestamp: bool = False,
    change: Any = None,
) -> bytes:
    """``pdf`` signed once more by ``label`` with pyHanko, in a new revision that also holds
    whatever ``change(writer)`` does to the document (``box``: a visible signature)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers, timestamps

    from fixtures.documents import demo_signer, pinned

    meta = signers.PdfSignatureMetadata(
        field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES
    )
    stamper = (
        timestamps.HTTPTimeStamper(pki.tsa_url(pki.hierarchy_of(label))) if timestamp else None
    )
    with pinned(at):
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        if change is not None:
            change(writer)
        spec = fields.SigFieldSpec(field_name, box=box) if box is not None else None
        out = signers.PdfSigner(
            meta, signer=demo_signer(pki, label), timestamper=stamper, new_field_spec=spec
        ).sign_pdf(writer)
    return bytes(out.getbuffer())


def _page_content_added(writer: Any) -> None:
    from pyhanko.pdf_utils import generic

    stream = generic.StreamObject(stream_data=b"BT /F1 30 Tf 72 500 Td (DA SUA) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(stream))


def _annotation_added(writer: Any) -> None:
    from pyhanko.pdf_utils import generic

    page_ref, _resources = writer.find_page_for_modification(0)
    square = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Square"),
            generic.NameObject("/Rect"): generic.ArrayObject(
                [generic.NumberObject(v) for v in (60, 740, 400, 790)]
            ),
            generic.NameObject("/C"): generic.ArrayObject([generic.FloatObject(1)] * 3),
            generic.NameObject("/IC"): generic.ArrayObject([generic.FloatObject(1)] * 3),
        }
    )
    writer.register_annotation(page_ref, writer.add_object(square))


def _first_widget_appearance_swapped(writer: Any) -> None:
    from pyhanko.pdf_utils import generic

    widget_ref = writer.root["/AcroForm"]["/Fields"].raw_get(0)
    widget = widget_ref.get_object()
    drawing = generic.StreamObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/XObject"),
            generic.NameObject("/Subtype"): generic.NameObject("/Form"),
            generic.NameObject("/BBox"): generic.ArrayObject(
                [generic.NumberObject(v) for v in (0, 0, 200, 50)]
            ),
        },
        stream_data=b"0 0 0 rg 0 0 200 50 re f",
    )
    widget[generic.NameObject("/AP")] = generic.DictionaryObject(
        {generic.NameObject("/N"): writer.add_object(drawing)}
    )
    writer.mark_update(widget_ref)


def _with_text_field(pdf: bytes, name: str, value: str) -> bytes:
    """``pdf`` with a filled text field (and its widget) on the first page."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from fixtures.documents import pinned

    with pinned(SIGNED_AT):  # the update's /ModDate
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_ref, _resources = writer.find_page_for_modification(0)
    field = generic.DictionaryObject(
        {
            generic.NameObject("/FT"): generic.NameObject("/Tx"),
            generic.NameObject("/T"): generic.TextStringObject(name),
            generic.NameObject("/V"): generic.TextStringObject(value),
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Widget"),
            generic.NameObject("/Rect"): generic.ArrayObject(
                [generic.NumberObject(v) for v in (72, 650, 300, 670)]
            ),
            generic.NameObject("/P"): page_ref,
            generic.NameObject("/DA"): generic.TextStringObject("/Helv 0 Tf 0 g"),
        }
    )
    field_ref = writer.add_object(field)
    writer.register_annotation(page_ref, field_ref)
    writer.root[generic.NameObject("/AcroForm")] = writer.add_object(
        generic.DictionaryObject({generic.NameObject("/Fields"): generic.ArrayObject([field_ref])})
    )
    writer.update_root()
    out = io.BytesIO()
    with pinned(SIGNED_AT):
        writer.write(out)
    return out.getvalue()


def _text_field_changed(name: str, value: str) -> Any:
    def change(writer: Any) -> None:
        from pyhanko.pdf_utils import generic

        for ref in writer.root["/AcroForm"]["/Fields"]:
            field = ref.get_object()
            if field.get("/T") == name:
                field[generic.NameObject("/V")] = generic.TextStringObject(value)
                writer.mark_update(ref)

    return change


@pytest.fixture(scope="module")
def two_signatures(demo_pki: DemoPKI) -> dict[str, bytes]:
    """Two-signature documents (first signer, then countersigner, each in its revision) of
    every pair, and the first signatures they start from."""
    base = minimal_pdf("Ho so", padding=2000)
    out: dict[str, bytes] = {}
    for first, second in PAIRS:
        if first not in out:
            out[first] = sign_pdf(demo_pki, first, base, at=SIGNED_AT)
        out[f"{first}+{second}"] = countersign(demo_pki, second, out[first])
    out["citizen+official-bt"] = countersign(demo_pki, "official", out["citizen"], timestamp=True)
    return out


def _flipped(pdf: bytes, at: int, mask: int = 1) -> bytes:
    changed = bytearray(pdf)
    changed[at] ^= mask
    return bytes(changed)


def _two_variants(
    pki: DemoPKI, docs: dict[str, bytes], first: str, second: str
) -> Iterator[tuple[str, bytes]]:
    """Documents of one pair's shape: both signatures made again over other content (as
    the benchmark corpus), countersigned again by pyHanko at other times (a new
    revision each time: its own /ID, dates and signature), and tampered with."""
    genuine = docs[f"{first}+{second}"]
    for i in range(3):
        doc = resign_all(pki, [first, second], genuine, i)
        yield f"re-signed {i}", doc
        yield f"re-signed {i}, signed content changed", _flipped(doc, doc.index(b"xxxx") + 9)
        m_date = doc.rindex(b"/M (D\\0722026") + 8
        yield f"re-signed {i}, countersignature's /M changed", _flipped(doc, m_date)
    for i in range(2):
        first_signed = resign_pdf(pki, first, docs[first], 10 + i)
        at = SIGNED_AT + timedelta(minutes=5 + i)
        yield f"countersigned anew {i}", countersign(pki, second, first_signed, at=at)


def test_two_signature_documents_give_identical_reports(
    demo_pki: DemoPKI, two_signatures: dict[str, bytes]
) -> None:
    """Every pair's two-signature documents (RSA/ECDSA, both hierarchies), re-signed,
    countersigned anew, with their signed content or the countersignature's /M changed,
    and a countersignature with a timestamp: fast = full."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    for first, second in PAIRS:
        for what, doc in _two_variants(demo_pki, two_signatures, first, second):
            report = _check(fast, full, doc, None, f"{first}+{second}: {what}")
            assert report.passed is ("changed" not in what), what
    for i in range(2):
        doc = countersign(
            demo_pki, "official", resign_pdf(demo_pki, "citizen", two_signatures["citizen"], i),
            timestamp=True,
        )  # fmt: skip
        _check(fast, full, doc, None, f"countersignature with a timestamp {i}")
    assert fastpath.stats(fast)["hits"] > 0


def test_genuine_two_signature_documents_are_answered_from_templates(
    demo_pki: DemoPKI, two_signatures: dict[str, bytes]
) -> None:
    """A citizen's signature countersigned by an official: one full validation per shape
    and hash outcome, and every other re-signed or newly countersigned document (its own
    revision, /ID, dates and signature) and every other tampered one comes from the
    template, with full validation's report. (An ECDSA countersignature's size varies, and
    with it where the objects after it lie: such documents are of several shapes.)"""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    docs = list(_two_variants(demo_pki, two_signatures, "citizen", "official"))
    passing = [(what, doc) for what, doc in docs if "changed" not in what]
    failing = [(what, doc) for what, doc in docs if "signed content changed" in what]
    for what, doc in [*passing, *failing]:
        _same(fast.verify(doc), full.verify(doc), what)
    # full validations = documents verified - answers from a template
    assert len(passing) + len(failing) - fastpath.stats(fast)["hits"] == 2


def test_a_countersignature_with_another_certificate_is_not_answered_from_the_template(
    demo_pki: DemoPKI, two_signatures: dict[str, bytes]
) -> None:
    """The same document (same structure, byte for byte but the countersignature's
    /Contents) countersigned by another official (another certificate): validated in full
    the first time, then from its own template; countersigned by an official whose
    certificate is revoked: validated in full every time (no template is made from a
    failure)."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    genuine = two_signatures["citizen+official"]
    _check(fast, full, resign_all(demo_pki, ["citizen", "official"], genuine, 1), None, "warm")
    hits = fastpath.stats(fast)["hits"]
    other = sign_over(demo_pki, "agency-seal", genuine)
    report = _check(fast, full, other, None, "another certificate")
    assert report.passed
    assert fastpath.stats(fast)["hits"] == hits + 1  # its second time only
    revoked = sign_over(demo_pki, "official-revoked", genuine)
    report = _check(fast, full, revoked, None, "revoked countersigner")
    assert report.signatures[1].sub_indication is SubIndication.REVOKED
    assert fastpath.stats(fast)["hits"] == hits + 1


def test_later_revisions_that_do_more_than_add_a_signature_never_come_from_a_template(
    demo_pki: DemoPKI, two_signatures: dict[str, bytes]
) -> None:
    """A countersignature's revision that also changes the page content, adds an
    annotation, swaps the first signature's appearance, or changes a field the first
    signature locked, and one edited byte for byte (then signed again) to give the new
    widget an area or draw the page from another stream: fast = full, none is answered
    from a template (not from the genuine documents', nor from one of its own), and the
    locked field's change fails."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    signed = two_signatures["citizen"]
    locked_base = _with_text_field(minimal_pdf("Ho so", padding=2000), "HoTen", "Nguyen Van A")
    locked = sign_pdf(
        demo_pki,
        "citizen",
        locked_base,
        at=SIGNED_AT,
        field_lock=fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, fields=["HoTen"]),
    )
    genuine = countersign(demo_pki, "official", signed)
    for doc in (genuine, countersign(demo_pki, "official", locked)):
        _check(fast, full, doc, None, "genuine")  # the genuine shapes have templates
    widget = genuine.rindex(b"/Rect [ 0 0 0 0 ]") + len(b"/Rect [ ")
    page = genuine.rindex(b"/Contents 4 0 R") + len(b"/Contents ")
    tampered = {
        "page content changed": countersign(
            demo_pki, "official", signed, change=_page_content_added
        ),
        "annotation added": countersign(demo_pki, "official", signed, change=_annotation_added),
        "first signature's appearance swapped": countersign(
            demo_pki, "official", signed, change=_first_widget_appearance_swapped
        ),
        "locked field changed": countersign(
            demo_pki, "official", locked, change=_text_field_changed("HoTen", "Tran Thi B")
        ),
        "new widget with an area": resign_last(
            demo_pki, "official", _edited(genuine, widget, b"0 0 0 0", b"0 0 9 9")
        ),
        "page drawn from another stream": resign_last(
            demo_pki, "official", _edited(genuine, page, b"4 0 R", b"6 0 R")
        ),
    }
    hits = fastpath.stats(fast)["hits"]
    for what, doc in tampered.items():
        report = _check(fast, full, doc, None, what)
        assert fastpath.stats(fast)["hits"] == hits, what
        if what == "locked field changed":
            assert report.signatures[0].indication is Indication.TOTAL_FAILED


def test_what_the_fast_path_leaves_to_full_validation_after_a_signature(
    demo_pki: DemoPKI, two_signatures: dict[str, bytes]
) -> None:
    """Form filling the first signature allows changes what the pages show (only the
    rendered comparison can judge it): validated in full every time. A visible
    countersignature over blank paper is answered from its template the second time, and
    a visible first signature with an invisible countersignature from its template; the
    reports are full validation's."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    open_form = sign_pdf(
        demo_pki,
        "citizen",
        _with_text_field(minimal_pdf("Ho so", padding=2000), "GhiChu", ""),
        at=SIGNED_AT,
    )
    filled = countersign(
        demo_pki, "organisation", open_form, change=_text_field_changed("GhiChu", "Da nhan")
    )
    visible = countersign(
        demo_pki, "organisation", two_signatures["citizen"], box=(72, 600, 272, 650)
    )
    for what, doc, taken in (("form filled", filled, 0), ("visible countersignature", visible, 1)):
        hits = fastpath.stats(fast)["hits"]
        report = _check(fast, full, doc, None, what)
        assert report.passed, what
        assert fastpath.stats(fast)["hits"] == hits + taken, what
    first_visible = countersign(demo_pki, "citizen", minimal_pdf("Ho so", padding=2000),
                                field_name="Signature1", box=(72, 600, 272, 650))  # fmt: skip
    for i in range(2):
        doc = countersign(demo_pki, "official", resign_pdf(demo_pki, "citizen", first_visible, i))
        _check(fast, full, doc, None, f"visible first signature {i}")
    assert fastpath.stats(fast)["hits"] == 4


def _page_text_at(pdf: bytes, y: int) -> bytes:
    """``pdf`` (made by ``minimal_pdf`` with padding) with its page drawn from the padding
    stream, which now begins with a line of text at height ``y``: documents that differ
    in where the text is are of one shape (same bytes but a stream's data)."""
    pdf = _edited(pdf, pdf.index(b"/Contents 4 0 R") + len(b"/Contents "), b"4 0 R", b"6 0 R")
    spot = pdf.index(b"%xxxx")
    text = f"BT /F1 28 Tf 80 {y:03d} Td (SO TIEN 1.000.000 DONG) Tj ET\n%".encode()
    return _edited(pdf, spot, pdf[spot : spot + len(text)], text)


def test_what_a_visible_countersignature_covers_is_judged_for_each_document(
    demo_pki: DemoPKI,
) -> None:
    """Two documents of one shape but for their page content, countersigned with the same
    visible stamp: over blank paper it passes (and the second time comes from its
    template), drawn over the signed amount it fails, validated in full every time (what
    a stamp covers differs from page to page: the signed page under it is looked at for
    each document)."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    base = minimal_pdf("Ho so", padding=2000)
    blank_under = sign_pdf(demo_pki, "citizen", _page_text_at(base, 200), at=SIGNED_AT)
    y = blank_under.index(b"Tf 80 200 Td") + len(b"Tf 80 ")
    covered = resign_pdf(demo_pki, "citizen", _edited(blank_under, y, b"200", b"760"), 1)
    stamp = (60, 740, 420, 800)
    passing = countersign(demo_pki, "official", blank_under, box=stamp)
    assert _check(fast, full, passing, None, "stamp over blank paper").passed
    assert fastpath.stats(fast)["hits"] == 1
    failing = countersign(demo_pki, "official", covered, box=stamp)
    report = _check(fast, full, failing, None, "stamp over the amount")
    assert report.signatures[0].indication is Indication.TOTAL_FAILED
    assert fastpath.stats(fast)["hits"] == 1


# -- visible countersignatures (stamps) -----------------------------------------------------

STAMPS = [(72, 100, 272, 150), (320, 60, 540, 120)]
"""Where the countersignatures' stamps go: blank paper on ``minimal_pdf``'s page."""
_DRAWING = re.compile(rb"/Subtype /Form\s*/Length (\d+)\s*>>\s*stream\n")


def _drawing_span(pdf: bytes) -> tuple[int, int]:
    """Where the data of the last stamp's appearance stream lies."""
    found = list(_DRAWING.finditer(pdf))[-1]
    return found.end(), found.end() + int(found[1])


def _drawing_replaced(pdf: bytes, label: str, pki: DemoPKI, drawing: bytes) -> bytes:
    """The last stamp's appearance data replaced, byte for byte (same length), by
    ``drawing``, and the countersignature made again: the same structure, another
    drawing."""
    start, end = _drawing_span(pdf)
    assert len(drawing) <= end - start
    new = drawing + b" " * (end - start - len(drawing))
    return resign_last(pki, label, pdf[:start] + new + pdf[end:])


def test_visible_countersignatures_give_identical_reports_and_come_from_templates(
    demo_pki: DemoPKI, two_signatures: dict[str, bytes]
) -> None:
    """A citizen's signature over other content, countersigned by pyHanko with a visible
    stamp by other officials (other names in the stamp), at other times (other times in
    it), in other places; and with the signed content, the stamp's drawing or the
    countersignature's /M changed afterwards: fast = full. Only the first document of
    each signer and place (and hash outcome) is validated in full."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    shapes = set()
    verified = 0
    for label in ("official", "agency-seal"):  # RSA: each signature of one size
        for box in STAMPS:
            for i in range(2):
                first = resign_pdf(demo_pki, "citizen", two_signatures["citizen"], 20 + i)
                at = SIGNED_AT + timedelta(minutes=3 + 17 * i, seconds=11 * i)
                doc = countersign(demo_pki, label, first, at=at, box=box)
                report = _check(fast, full, doc, None, f"{label} at {box}, {i}")
                assert report.passed, report.message_en
                shapes.add((label, box))
                verified += 2
    assert fastpath.stats(fast)["hits"] == verified - len(shapes)
    start, _end = _drawing_span(doc)
    tampered = {
        "signed content changed": _flipped(doc, doc.index(b"xxxx") + 9),
        "stamp's drawing changed": _flipped(doc, start + 3),
        "countersignature's /M changed": _flipped(doc, doc.rindex(b"/M (D\\0722026") + 8),
    }
    for what, changed in tampered.items():
        report = _check(fast, full, changed, None, what)
        assert not report.passed, what


def test_a_stamp_that_paints_over_signed_content_keeps_full_validations_verdict(
    demo_pki: DemoPKI,
) -> None:
    """Sneaky signatures: a new signature whose opaque stamp hides the signed amount
    (fixtures.attacks), and a countersignature of the very structure of a genuine one
    whose drawing (the part of the stamp left out of the structure) was swapped for an
    opaque box over the amount: both fail as in full validation, neither from a template;
    the same opaque box over blank paper passes, as in full validation, from the genuine
    stamp's template (the drawing is not part of the structure)."""
    from fixtures.attacks import add_sneaky_signature_field

    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    base = minimal_pdf("Ho so", padding=2000)
    blank_under = sign_pdf(demo_pki, "citizen", _page_text_at(base, 300), at=SIGNED_AT)
    y = blank_under.index(b"Tf 80 300 Td") + len(b"Tf 80 ")
    covered = resign_pdf(demo_pki, "citizen", _edited(blank_under, y, b"300", b"110"), 1)
    at_top = resign_pdf(demo_pki, "citizen", _edited(blank_under, y, b"300", b"700"), 2)
    box = STAMPS[0]
    genuine = countersign(demo_pki, "official", blank_under, box=box)
    assert _check(fast, full, genuine, None, "genuine stamp").passed
    hits = fastpath.stats(fast)["hits"]
    assert hits == 1
    opaque = b"q 1 g 0 0 200 50 re f Q"
    attacks = {
        "sneaky signature": add_sneaky_signature_field(at_top, demo_pki, "official", at=SIGNED_AT),
        "drawing swapped for an opaque box": _drawing_replaced(
            countersign(demo_pki, "official", covered, box=box), "official", demo_pki, opaque
        ),
    }
    for what, doc in attacks.items():
        report = _check(fast, full, doc, None, what)
        assert report.signatures[0].indication is Indication.TOTAL_FAILED, what
        assert "over signed page content" in report.signatures[0].message_en, what
        assert fastpath.stats(fast)["hits"] == hits, what
    harmless = _drawing_replaced(genuine, "official", demo_pki, opaque)
    assert _check(fast, full, harmless, None, "opaque box over blank paper").passed
    assert fastpath.stats(fast)["hits"] == hits + 2  # the genuine stamp's template


_DRAWN_OTHERWISE = {
    "rotated-90": {"/Rotate": 90},
    "rotated-180": {"/Rotate": 180},
    "rotated-270": {"/Rotate": 270},
    "cropped": {"/CropBox": [40, 30, 560, 812]},
}
"""Pages whose /Rect coordinates are not the drawn page's: turned, or shown from a crop box
away from the origin."""


@pytest.mark.parametrize("change", sorted(_DRAWN_OTHERWISE))
def test_stamps_on_a_turned_or_cropped_page_are_judged_where_the_page_is_drawn(
    demo_pki: DemoPKI, change: str
) -> None:
    """On a rotated or cropped page a stamp is judged where PDFium draws it: a genuine
    stamp and one drawing a box over blank paper pass (the second from its template), a
    box over the signed text fails, each as full validation says."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    writer = IncrementalPdfFileWriter(io.BytesIO(minimal_pdf("Ho so", padding=2000)))
    page_ref, _resources = writer.find_page_for_modification(0)
    for key, value in _DRAWN_OTHERWISE[change].items():
        page_ref.get_object()[generic.NameObject(key)] = (
            generic.ArrayObject(generic.NumberObject(v) for v in value)
            if isinstance(value, list)
            else generic.NumberObject(value)
        )
    writer.mark_update(page_ref)
    turned = io.BytesIO()
    writer.write(turned)
    first = sign_pdf(demo_pki, "citizen", turned.getvalue(), at=SIGNED_AT)
    stamped = countersign(demo_pki, "official", first, box=STAMPS[0])
    assert _check(fast, full, stamped, None, "a genuine stamp").passed
    hits = fastpath.stats(fast)["hits"]
    boxed = _drawing_replaced(stamped, "official", demo_pki, b"0 g 0 0 200 50 re f")
    assert _check(fast, full, boxed, None, "a box over blank paper").passed
    assert fastpath.stats(fast)["hits"] == hits + 2
    over_text = countersign(demo_pki, "official", first, box=(60, 745, 300, 790))
    boxed_over = _drawing_replaced(over_text, "official", demo_pki, b"0 g 0 0 240 45 re f")
    report = _check(fast, full, boxed_over, None, "a box over the signed text")
    assert not report.passed
    assert fastpath.stats(fast)["hits"] == hits + 2


@pytest.fixture(scope="module")
def stamp_setup(
    demo_pki: DemoPKI, two_signatures: dict[str, bytes]
) -> tuple[Verifier, Verifier, bytes, list[tuple[int, int]]]:
    """A warm pair of verifiers, a genuine countersigned document with a stamp, and the
    parts of its countersignature's revision left out of the structure (generously: the
    signature value, the stamp's drawing, the whole /ID and every date)."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    for i in range(2):
        first = resign_pdf(demo_pki, "citizen", two_signatures["citizen"], 30 + i)
        doc = countersign(demo_pki, "official", first, box=STAMPS[0])
        _check(fast, full, doc, None, "warm")
    a, b, _c = (int(x) for x in list(_ANY_BYTE_RANGE.finditer(doc))[-1].groups())
    left_out = [(a, b), _drawing_span(doc)]
    left_out += [m.span() for m in re.finditer(rb"/ID\s*\[[^\]]*\]", doc)]
    left_out += [m.span() for m in re.finditer(rb"\(D\\072[^)]*\)", doc)]
    return fast, full, doc, left_out


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_a_changed_byte_outside_what_the_stamp_structure_leaves_out_never_comes_from_a_template(
    demo_pki: DemoPKI,
    stamp_setup: tuple[Verifier, Verifier, bytes, list[tuple[int, int]]],
    data: st.DataObject,
) -> None:
    """Any one byte of a stamped countersignature's revision changed outside the parts the
    structure leaves out, and the countersignature made again over it where it still can
    be: fast = full, and the fast path never answers from a template."""
    fast, full, doc, left_out = stamp_setup
    kept = [
        i for i in range(_signed_end(doc), len(doc)) if not any(a <= i < b for a, b in left_out)
    ]
    at = data.draw(st.sampled_from(kept), label="offset")
    mask = data.draw(st.integers(1, 255), label="xor")
    changed = _flipped(doc, at, mask)
    # unless the byte broke the countersignature's own layout
    with contextlib.suppress(Exception):
        changed = resign_last(demo_pki, "official", changed)
    hits = fastpath.stats(fast)["hits"]
    _same(fast.verify(changed), full.verify(changed), f"byte {at} ^ {mask}")
    assert fastpath.stats(fast)["hits"] == hits, f"byte {at} ^ {mask}"


def test_metadata_the_difference_analysis_reads_is_part_of_the_shape(
    demo_pki: DemoPKI, two_signatures: dict[str, bytes]
) -> None:
    """An ECDSA first signature writes XMP metadata into its revision, which the
    difference analysis of every later revision parses. The same document with that
    metadata broken (and both signatures made again) fails in full validation, and is
    never answered from the template of the well-formed one."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    pair = ["citizen-ec", "organisation"]
    genuine = two_signatures["citizen-ec+organisation"]
    for i in range(2):
        _check(fast, full, resign_all(demo_pki, pair, genuine, i), None, "well-formed")
    hits = fastpath.stats(fast)["hits"]
    tag = genuine.index(b"<x:xmpmeta", 0, _signed_end(genuine))
    broken = resign_all(demo_pki, pair, _edited(genuine, tag, b"<x:xmpmeta", b"<x:xmpmetX"), 3)
    report = _check(fast, full, broken, None, "broken metadata")
    assert report.signatures[0].indication is Indication.TOTAL_FAILED
    assert fastpath.stats(fast)["hits"] == hits


@pytest.fixture(scope="module")
def flip_setup(
    demo_pki: DemoPKI, two_signatures: dict[str, bytes]
) -> tuple[Verifier, Verifier, bytes]:
    """A warm pair of verifiers and a genuine two-signature document."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    genuine = two_signatures["citizen-ec+organisation"]
    for i in range(2):
        doc = resign_all(demo_pki, ["citizen-ec", "organisation"], genuine, i)
        _check(fast, full, doc, None, "warm")
        _check(fast, full, _flipped(doc, doc.index(b"xxxx") + 3), None, "warm, tampered")
    return fast, full, resign_all(demo_pki, ["citizen-ec", "organisation"], genuine, 7)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_changed_byte_never_passes_unless_it_is_in_the_last_signature_value(
    flip_setup: tuple[Verifier, Verifier, bytes], data: st.DataObject
) -> None:
    """Any one byte of a two-signature document changed (anywhere, any way): fast = full,
    and the document passes only if the byte is inside the countersignature's own
    /Contents (which no signature covers)."""
    fast, full, doc = flip_setup
    changed_byte_passes_only_in_the_last_signature_value(fast, full, doc, data)


def changed_byte_passes_only_in_the_last_signature_value(
    fast: Verifier, full: Verifier, doc: bytes, data: st.DataObject
) -> None:
    """One byte of ``doc`` drawn and changed: fast = full, and a pass only if the byte is
    inside the last signature's own /Contents."""
    at = data.draw(st.integers(0, len(doc) - 1), label="offset")
    mask = data.draw(st.integers(1, 255), label="xor")
    changed = _flipped(doc, at, mask)
    report = fast.verify(changed)
    _same(report, full.verify(changed), f"byte {at} ^ {mask}")
    last = list(_ANY_BYTE_RANGE.finditer(doc))[-1]
    a, b = int(last[1]), int(last[2])
    if not a < at < b - 1:
        assert not report.passed


def test_a_signed_revision_that_changes_how_its_update_reads_is_not_answered_from_a_template(
    demo_pki: DemoPKI, shapes: dict[str, bytes]
) -> None:
    """A B-LT document whose signed revision's trailer declares more objects (/Size): the
    DSS update then reuses object numbers the signed revision had room for, and the
    difference analysis rejects it. Validated in full (TOTAL_FAILED), never answered from
    the template of the unaltered shape."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    lt = shapes["lt"]
    for i in range(2):
        _check(fast, full, resign_pdf(demo_pki, "citizen", lt, i, tsa_at=TSA_TIMES[0]), None, "lt")
    size = list(re.finditer(rb"/Size (\d\d)\b", lt[: _signed_end(lt)]))[-1]
    bigger = _edited(lt, size.start(1), size[1], b"99")
    hits = fastpath.stats(fast)["hits"]
    report = _check(
        fast, full, resign_pdf(demo_pki, "citizen", bigger, 3, tsa_at=TSA_TIMES[0]), None, "/Size"
    )
    assert report.indication is Indication.TOTAL_FAILED
    assert fastpath.stats(fast)["hits"] == hits


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


_NAME_VALUES = st.text(
    alphabet=st.sampled_from(list("aAbBzZ09 .-'đĐơƠưƯễỄòÒọ\u0301\u0323\t")), max_size=12
)
_NAME_KEYS = st.sampled_from(
    ["common_name", "organization_name", "organizational_unit_name", "locality_name"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_NAME_KEYS, _NAME_VALUES), min_size=1, max_size=4),
    st.lists(st.tuples(_NAME_KEYS, _NAME_VALUES), min_size=1, max_size=4),
    st.booleans(),
)
def test_name_hashable_memo_matches_asn1cryptos_own(
    one: list[tuple[str, str]], other: list[tuple[str, str]], printable: bool
) -> None:
    """A name's comparison form, memoised by its DER, equals asn1crypto's own, first time
    and again, for names built from random Vietnamese-ish values (case, spaces, combining
    marks) in UTF8String or PrintableString where they fit; two names compare equal with
    the memo exactly when they do without it."""
    from asn1crypto import x509 as asn1_x509

    def build(pairs: list[tuple[str, str]]) -> Any:
        values = dict(pairs)
        use_printable = printable and all(v.isascii() and "\t" not in v for v in values.values())
        return asn1_x509.Name.build(values, use_printable=use_printable)

    own = speedups.original_name_hashable().fget
    speedups.install()
    for name in (build(one), build(other)):
        try:
            expected: tuple[str, Any] = ("ok", own(name))
        except Exception as exc:  # noqa: BLE001 - the exception's type is what is compared
            expected = ("raised", type(exc).__name__)
        for again in (name, asn1_x509.Name.load(name.dump()), *_tagged(name)):
            try:
                got: tuple[str, Any] = ("ok", again.hashable)
            except Exception as exc:  # noqa: BLE001 - as above
                got = ("raised", type(exc).__name__)
            assert got == expected
    a, b = build(one), build(other)
    with contextlib.suppress(Exception):
        assert (a.hashable == b.hashable) == (own(a) == own(b))


def _tagged(name: Any) -> list[Any]:
    """The same name where it carries a tag, read back from DER: an OCSP responder's
    ``byName`` (``[1] EXPLICIT``) and a general name's ``directoryName`` (``[4]``)."""
    from asn1crypto import ocsp
    from asn1crypto import x509 as asn1_x509

    by_name = ocsp.ResponderId(name="by_name", value=name)
    directory = asn1_x509.GeneralName(name="directory_name", value=name)
    return [
        ocsp.ResponderId.load(by_name.dump()).chosen,
        asn1_x509.GeneralName.load(directory.dump()).chosen,
    ]


def test_a_tagged_name_gets_asn1cryptos_own_form_and_equals_its_bare_self() -> None:
    """A name read where it carries a tag (an OCSP responder named ``byName``, as EU DSS's
    Hungarian test file has one) gets asn1crypto's own comparison form with the memo, and
    compares equal to the same name untagged. (The memo once re-read the tagged encoding
    as a bare name, which fails: that OCSP response could not be validated, and the
    signature came out INDETERMINATE only with the speed-ups installed.)"""
    from asn1crypto import x509 as asn1_x509

    name = asn1_x509.Name.build({"common_name": "Máy chủ OCSP", "country_name": "VN"})
    own = speedups.original_name_hashable().fget
    speedups.install()
    for tagged in _tagged(name):
        assert tagged.explicit or tagged.implicit
        assert tagged.hashable == own(tagged) == own(name)
        assert tagged == name


def test_a_name_changed_after_its_form_was_remembered_gets_its_new_form() -> None:
    """The memo is keyed by the name's current encoding and computed from that encoding
    read afresh: a name object changed after its comparison form was asked for gets the
    form of what it now says (asn1crypto's own property keeps the old form), and a name
    parsed later with that encoding gets the same, right form."""
    from asn1crypto import x509 as asn1_x509

    speedups.install()
    name = asn1_x509.Name.build({"common_name": "Nguyễn Thị Hoà"})
    before = name.hashable
    name.chosen[0][0]["value"] = asn1_x509.DirectoryString(name="utf8_string", value="Trần Văn An")
    fresh = asn1_x509.Name.load(name.dump())
    right = speedups.original_name_hashable().fget(fresh)
    assert right != before
    assert name.hashable == right
    assert asn1_x509.Name.load(name.dump()).hashable == right


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
from pyhanko.pdf_utils import generic, misc
def now():
    return (generic.read_hex_string_from_stream, generic._decode_name, misc._read_until_class,
            x509.NameTypeAndValue._ldap_string_prep)
before = now()
import verify, verify.bulk, verify.cli, verify.fastpath, verify.verifier
after = now()
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
    """install() replaces every function at the proven versions; uninstall() puts pyHanko's
    and asn1crypto's own back."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils import generic, misc
    from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader

    def now() -> tuple[Any, ...]:
        return (
            generic.read_hex_string_from_stream,
            misc._read_until_class,
            generic._decode_name,
            asn1_x509.NameTypeAndValue._ldap_string_prep,
            HistoricalResolver._load_reverse_xref_cache,
            PdfFileReader._get_object_from_stream,
            asn1_x509.Name.__dict__["hashable"],
        )

    names = {
        "hex_reader",
        "read_until_class",
        "name_decoder",
        "string_prep_memo",
        "name_hashable_memo",
        "reverse_xref",
        "object_stream",
    }
    speedups.uninstall()
    own = now()
    try:
        assert speedups.install() == dict.fromkeys(names)
        assert speedups.installed() == names
        assert generic.read_hex_string_from_stream is speedups.fast_read_hex_string_from_stream
        assert misc._read_until_class is speedups.fast_read_until_class
        assert generic._decode_name is speedups.fast_decode_name
        assert HistoricalResolver._load_reverse_xref_cache is speedups.fast_load_reverse_xref_cache
        assert speedups.original_hex_reader() is own[0]
        assert speedups.original_read_until_class() is own[1]
        assert speedups.original_name_decoder() is own[2]
        assert speedups.original_reverse_xref() is own[4]
        assert PdfFileReader._get_object_from_stream is speedups.fast_get_object_from_stream
        assert speedups.original_object_stream_reader() is own[5]
        assert asn1_x509.Name.__dict__["hashable"].fget is speedups.fast_name_hashable
        assert speedups.original_name_hashable() is own[6]
    finally:
        speedups.uninstall()
    assert now() == own
    assert speedups.installed() == frozenset()


def test_speedups_read_each_librarys_version_from_its_own_module_once_per_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pyHanko's and asn1crypto's versions come from their own version modules, which agree
    with the installed metadata, without walking every package's metadata (milliseconds);
    a bulk run calls install() each time, and each process reads a version only once."""
    import importlib.metadata

    import asn1crypto.version
    import pyhanko.version

    looked: list[str] = []
    real = importlib.metadata.version
    read: list[str] = []
    own_import = importlib.import_module

    def counting(package: str) -> str:
        looked.append(package)
        return real(package)

    def importing(name: str, package: str | None = None) -> Any:
        read.append(name)
        return own_import(name, package)

    speedups.installed_version.cache_clear()
    monkeypatch.setattr(importlib.metadata, "version", counting)
    monkeypatch.setattr(importlib, "import_module", importing)
    try:
        for _ in range(3):
            speedups.install()
        assert looked == []
        assert sorted(read) == ["asn1crypto.version", "pyhanko.version"]
        assert speedups.installed_version("pyhanko") == real("pyhanko")
        assert speedups.installed_version("pyhanko") == pyhanko.version.__version__
        assert speedups.installed_version("asn1crypto") == real("asn1crypto")
        assert speedups.installed_version("asn1crypto") == asn1crypto.version.__version__
        assert speedups.installed_version("no-such-package-hoso") is None
    finally:
        speedups.installed_version.cache_clear()


def test_speedups_refuse_a_library_version_they_were_not_proven_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At another pyHanko version its reader's functions stay pyHanko's own, and install()
    says why."""
    from pyhanko.pdf_utils import generic, misc

    speedups.uninstall()
    from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader

    def now() -> tuple[Any, ...]:
        return (
            generic.read_hex_string_from_stream,
            misc._read_until_class,
            generic._decode_name,
            HistoricalResolver._load_reverse_xref_cache,
            PdfFileReader._get_object_from_stream,
        )

    own = now()
    monkeypatch.setitem(speedups.PROVEN, "pyhanko", frozenset({"0.0.1"}))
    try:
        result = speedups.install()
        pyhankos = (
            "hex_reader",
            "read_until_class",
            "name_decoder",
            "reverse_xref",
            "object_stream",
        )
        for name in pyhankos:
            assert "0.0.1" in (result[name] or "")
        assert now() == own
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


# -- "now", after the signers' certificates expired --------------------------------------------

AFTER_EXPIRY = datetime(2031, 6, 1, 10, 0, tzinfo=PINNED_NOW.tzinfo)
"""A moment after every demo certificate expired (they are valid until 2030-01-01)."""


@pytest.mark.parametrize("timestamp", [False, True], ids=["B-B", "B-T"])
@pytest.mark.parametrize("kind", ["pdf", "cms"])
def test_an_archive_checked_now_after_its_signers_expired_is_answered_from_templates(
    demo_pki: DemoPKI, kind: str, timestamp: bool
) -> None:
    """Documents signed in 2026 and checked "now" in 2031, offline: their certificates have
    expired. Without a timestamp nothing proves the signatures were made before
    (INDETERMINATE / OUT_OF_BOUNDS_NO_POE); with one, each is validated at the time its
    timestamp proves, and passes. Either verdict rests on the certificates, the moment and
    the timestamp's time only, so the fast path answers every document after the first
    from its template, tampered copies after the first tampered one too, each with full
    validation's report."""
    import time_machine

    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(network=False, revocation="soft"))
    documents: list[tuple[bytes, bytes | None]] = []
    for i in range(3):
        at = SIGNED_AT + timedelta(hours=i)  # each its own claimed (and proven) time
        if kind == "pdf":
            pdf = minimal_pdf(f"hồ sơ lưu trữ {i}")
            signed = sign_pdf(demo_pki, "citizen", pdf, at=at, timestamp=timestamp)
            documents.append((signed, None))
        else:
            data = f"hồ sơ lưu trữ {i}".encode()
            sig = sign_detached(demo_pki, "citizen", data, at=at, timestamp=timestamp)
            documents.append((data, sig))
    with time_machine.travel(AFTER_EXPIRY, tick=False):
        for i, (data, detached) in enumerate(documents):
            expected = _check(fast, full, data, detached, f"document {i}")
            if timestamp:  # validated at the time the timestamp proves, before expiry
                assert expected.passed, expected.message_en
                first = expected.signatures[0]
                assert first.validated_at == first.signing_time_proven
            else:
                assert expected.indication is Indication.INDETERMINATE
                assert expected.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE
        for i, (data, detached) in enumerate(documents[:2]):
            tampered = (
                _flipped(data, data.index(b"/Helvetica") + 1) if kind == "pdf" else data + b"!"
            )
            expected = _check(fast, full, tampered, detached, f"tampered {i}")
            assert expected.indication is Indication.TOTAL_FAILED
    # the first of each shape (and of each hash outcome) was validated in full, once
    assert fastpath.stats(fast)["hits"] == 2 * 3 - 1 + 2 * 2 - 1


@pytest.mark.parametrize("revocation", ["soft", "hard"])
def test_online_after_expiry_a_verdict_waiting_on_revocation_data_is_never_kept(
    demo_pki: DemoPKI, revocation: str
) -> None:
    """Checked "now" after expiry with the network allowed, the demo responders' answers
    (as of 2026) cannot settle 2031: INDETERMINATE / TRY_LATER, which a later attempt may
    change. The fast path keeps no template of it and gives full validation's reports."""
    import time_machine

    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(revocation=revocation))
    signed = [
        sign_pdf(demo_pki, "citizen", minimal_pdf(f"hồ sơ trực tuyến {i}"), at=SIGNED_AT)
        for i in range(3)
    ]
    with time_machine.travel(AFTER_EXPIRY, tick=False):
        for i, data in enumerate(signed):
            expected = _check(fast, full, data, None, f"document {i}")
            assert expected.sub_indication is SubIndication.TRY_LATER, expected.message_en
    assert fastpath.stats(fast)["templates"] == 0
    assert fastpath.stats(fast)["hits"] == 0


def test_a_verdict_resting_on_time_is_kept_only_where_no_fetch_could_change_it() -> None:
    """An expired signer's verdict is kept when the policy fetches nothing (offline, or
    revocation off); with fetching allowed, only if the validation used revocation data
    (none known here: not kept)."""
    report = DocumentReport.from_signatures(None, b"", "pdf", PINNED_NOW, [], (), None)
    for policy, kept in [
        (ValidationPolicy(network=False), True),
        (ValidationPolicy(revocation="off"), True),
        (ValidationPolicy(revocation="soft"), False),
        (ValidationPolicy(), False),
    ]:
        verifier = Verifier(policy=policy)
        assert fastpath._settled_offline(verifier, report, None) is kept, policy
        assert fastpath._settled_offline(verifier, report, []) is kept, policy


_MOMENTS = st.floats(-1e10, 1e10, allow_nan=False)


@settings(max_examples=400, deadline=None)
@given(
    starts=st.lists(_MOMENTS, max_size=8),
    ends=st.lists(_MOMENTS, max_size=8),
    at=_MOMENTS,
    other=_MOMENTS,
    tolerance=st.floats(0, fastpath.MARGIN * 0.95),
)
def test_a_window_holds_only_moments_that_compare_with_every_date_as_now_does(
    starts: list[float], ends: list[float], at: float, other: float, tolerance: float
) -> None:
    """Every moment in the window of ``at`` compares with each date as ``at`` does, with
    or without a tolerance below the margin: from a start (``m >= s``, ``m >= s - t``),
    until an end (``m <= e``, ``m <= e + t``); ``at`` is in its own window. A window
    reaches the edge of a span ``at`` is inside."""
    cell = fastpath._cell(starts, ends, at)
    if cell is None:
        assert any(s - fastpath.MARGIN <= at < s for s in starts) or any(
            e < at <= e + fastpath.MARGIN for e in ends
        )
        return
    low, high = cell
    assert low <= at <= high
    if all(at >= s for s in starts) and starts:
        assert low >= max(starts)
    if low <= other <= high:
        for s in starts:
            assert (other >= s) == (at >= s)
            assert (other >= s - tolerance) == (at >= s - tolerance)
        for e in ends:
            assert (other <= e) == (at <= e)
            assert (other <= e + tolerance) == (at <= e + tolerance)


@pytest.mark.parametrize("kind", ["pdf", "cms"])
def test_a_revoked_signers_timestamped_signatures_are_each_judged_against_the_revocation(
    demo_pki: DemoPKI, kind: str
) -> None:
    """citizen-revoked's certificate was revoked on 2026-03-01. Signatures timestamped on
    2026-02-15 and 2026-02-20 pass (made before the revocation); one timestamped on
    2026-05-15 fails (REVOKED), and must: all three share a shape, and their proven times
    lie between the same certificate dates. Where the validation knows of a revocation,
    the fast path keeps no template, so each gets full validation's report."""
    from fixtures import attacks as A

    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    zone = PINNED_NOW.tzinfo
    days = [datetime(2026, m, d, 9, 0, tzinfo=zone) for m, d in ((2, 15), (2, 20), (5, 15))]
    verdicts = []
    for i, at in enumerate(days):
        tsa = A.CertomancerTimeStamper(demo_pki, at)
        if kind == "pdf":
            pdf = minimal_pdf(f"hợp đồng {i}")
            data = A.sign_pdf_as(demo_pki, "citizen-revoked", pdf, at=at, timestamper=tsa)
            detached = None
        else:
            data = f"hợp đồng {i}".encode()
            detached = A.sign_cades(
                demo_pki, "citizen-revoked", data, at=at, timestamper=tsa
            ).dump()
        expected = _check(fast, full, data, detached, f"timestamped {at:%Y-%m-%d}")
        verdicts.append((expected.indication, expected.sub_indication))
    assert verdicts == [
        (Indication.TOTAL_PASSED, None),
        (Indication.TOTAL_PASSED, None),
        (Indication.TOTAL_FAILED, SubIndication.REVOKED),
    ]
    assert fastpath.stats(fast)["templates"] == 0


@pytest.mark.parametrize("network", [False, True], ids=["offline", "online"])
def test_documents_from_a_ca_the_profile_does_not_hold_are_kept_offline_only(
    demo_pki: DemoPKI, network: bool
) -> None:
    """A profile with only the specialized root checks citizens' signatures (public
    hierarchy): INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND. Offline the path is built
    from what the documents carry and what the issuer cache holds, which the run only
    reads: the fast path answers every document after the first of its shape. Online an
    issuer fetched for one document could complete the next one's path: no template.
    Every report is full validation's, tampered copies' too."""
    trust = TrustProfile.custom([demo_pki.root("specialized")], name="specialized only")
    policy = ValidationPolicy(validation_time=PINNED_NOW, network=network, revocation="soft")
    fast, full = _pair(trust, policy)
    for i in range(3):
        pdf = minimal_pdf(f"hồ sơ công dân {i}")
        signed = sign_pdf(demo_pki, "citizen", pdf, at=SIGNED_AT + timedelta(minutes=i))
        expected = _check(fast, full, signed, None, f"document {i}")
        assert expected.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        tampered = _flipped(signed, signed.index(b"/Helvetica") + 1)
        assert _check(fast, full, tampered, None, f"tampered {i}").indication is (
            Indication.TOTAL_FAILED
        )
    # offline: one template of each verdict; online: only the tampered copies' (a hash
    # failure rests on nothing fetched)
    assert fastpath.stats(fast)["templates"] == (1 if network else 2)
    assert fastpath.stats(fast)["hits"] == (2 * 3 - 1 if network else 2 * (2 * 3 - 1))
