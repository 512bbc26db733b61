"""The adversarial corpus: every case, how it is built, and the verdict it must get.

One table (:data:`CASES`) drives the tests (``test_corpus.py``), the measurements that fill
``CASES.md`` (``python -m tests.adversarial.measure``) and the pyHanko-alone comparison
(``python -m tests.adversarial.compare_pyhanko``). A case is built from documents signed by
``fixtures.documents`` with the demo PKI, changed by ``fixtures.attacks``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko.sign import fields

from fixtures import attacks as A
from fixtures.demo import demo_trust
from fixtures.documents import minimal_pdf, sign_detached, sign_pdf
from fixtures.pki import DemoPKI
from verify import Indication, SubIndication, TrustProfile, ValidationPolicy, Verifier

PINNED_NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # = tests.conftest.PINNED_NOW
SIGNED_AT = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)
BEFORE_REVOCATION = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
DATA = '{"ho_ten": "Nguyễn Thị Hoà", "so_tien": 1000000}'.encode()

P = Indication.TOTAL_PASSED
F = Indication.TOTAL_FAILED
I = Indication.INDETERMINATE  # noqa: E741
S = SubIndication


@dataclass(frozen=True)
class Input:
    """What one case hands to the verifier."""

    data: bytes
    """The PDF, or the content of a detached signature."""
    detached: bytes | None = None
    anchors: tuple[asn1_x509.Certificate, ...] = ()
    """Generated roots to trust instead of the demo ones (then offline, soft revocation)."""
    sparse_size: int | None = None
    """Write ``data`` to a file and extend it (sparse) to this size; verify by path."""


@dataclass(frozen=True)
class Case:
    id: str
    klass: str
    how: str
    indication: Indication
    sub: SubIndication | None
    why: str
    build: Callable[[Bases], Input]
    isolate: bool = False
    """Run in a subprocess with a timeout (could hang or blow the stack)."""


def make_verifier(pki: DemoPKI | None, inp: Input) -> Verifier:
    """The demo trust (network on loopback, hard revocation), or generated anchors offline."""
    if inp.anchors:
        trust = TrustProfile.custom(list(inp.anchors), name="lab", hierarchy="public")
        policy = ValidationPolicy(validation_time=PINNED_NOW, network=False, revocation="soft")
        return Verifier(trust, policy)
    assert pki is not None
    return Verifier(demo_trust(pki), ValidationPolicy(validation_time=PINNED_NOW))


class Bases:
    """Signed base documents, made once and shared by every case (bytes surgery on them)."""

    def __init__(self, pki: DemoPKI) -> None:
        self.pki = pki

    @cached_property
    def pdf(self) -> bytes:
        return minimal_pdf("To khai dang ky khai sinh - so tien 1.000.000 VND")

    @cached_property
    def signed(self) -> bytes:
        return sign_pdf(self.pki, "citizen", self.pdf, at=SIGNED_AT)

    @cached_property
    def form(self) -> bytes:
        return A.form_pdf()

    @cached_property
    def signed_form(self) -> bytes:
        return sign_pdf(self.pki, "citizen", self.form, at=SIGNED_AT)

    def certified_form(self, perm: fields.MDPPerm) -> bytes:
        return sign_pdf(
            self.pki, "agency-seal", self.form, at=SIGNED_AT, certify=perm, field_name="CoQuan"
        )

    @cached_property
    def certified_p2(self) -> bytes:
        return self.certified_form(fields.MDPPerm.FILL_FORMS)

    @cached_property
    def certified_p1(self) -> bytes:
        return self.certified_form(fields.MDPPerm.NO_CHANGES)

    @cached_property
    def detached(self) -> bytes:
        return sign_detached(self.pki, "citizen", DATA, at=SIGNED_AT)

    @cached_property
    def detached_info(self) -> cms.ContentInfo:
        return cms.ContentInfo.load(self.detached)

    def key(self, label: str = "citizen") -> A.rsa.RSAPrivateKey | A.ec.EllipticCurvePrivateKey:
        return A.load_key(self.pki, label)

    def shadow(self, kind: str) -> bytes:
        return sign_pdf(self.pki, "citizen", A.shadow_pdf(kind), at=SIGNED_AT)

    @cached_property
    def lab_chain(self) -> A.GeneratedPKI:
        return A.gen_chain(3)


def _pdf(f: Callable[[Bases], bytes]) -> Callable[[Bases], Input]:
    return lambda b: Input(f(b))


def _cms(f: Callable[[Bases], cms.ContentInfo | bytes]) -> Callable[[Bases], Input]:
    def build(b: Bases) -> Input:
        sig = f(b)
        return Input(DATA, sig if isinstance(sig, bytes) else sig.dump())

    return build


def _lab(
    pki: Callable[[], A.GeneratedPKI], *, embed: Callable[[A.GeneratedPKI], list[int]] | None = None
) -> Callable[[Bases], Input]:
    """A detached signature by a generated leaf, carrying the chain (or the listed certs)."""

    def build(_: Bases) -> Input:
        g = pki()
        idx = embed(g) if embed else list(range(1, len(g.certs) - 1))
        sig = A.detached_with_certificates(
            DATA, g.leaf, g.leaf_key, [g.certs[i] for i in idx], at=SIGNED_AT
        )
        return Input(DATA, sig, anchors=(g.root,))

    return build


def _br(b: Bases, f: Callable[[int, int, int, int, int], tuple[int, int, int, int]]) -> bytes:
    """Re-sign the base with a ByteRange computed from the real one and the file size."""
    lay = A.sig_layout(b.signed)
    return A.resign_byterange(
        b.pki, "citizen", b.signed, f(*lay.byte_range, len(b.signed)), at=SIGNED_AT
    )


def _shadow_hide_free(b: Bases) -> bytes:
    return A.freed_object_update(b.shadow("hide"), 6)


def _shadow_hide_empty(b: Bases) -> bytes:
    doc = b.shadow("hide")
    empty = A._stream(b"", b"/Type /XObject /Subtype /Form /BBox [0 0 595 842]")
    return A.append_raw_update(doc, {6: empty})


def _shadow_hide_and_replace(b: Bases) -> bytes:
    doc = b.shadow("hide-and-replace")
    prepared = [m for m in A.re.finditer(rb"(?m)^4 0 obj", doc)][1].start()
    return A.xref_only_update(doc, 4, prepared)


def _tst_swap(b: Bases) -> bytes:
    target = cms.ContentInfo.load(
        sign_detached(b.pki, "citizen", DATA, at=SIGNED_AT, timestamp=True)
    )
    donor = cms.ContentInfo.load(
        sign_detached(b.pki, "citizen", b"other data", at=SIGNED_AT, timestamp=True)
    )
    return A.cms_swap_timestamp_token(target, donor).dump()


def _untrusted_tsa(b: Bases) -> bytes:
    """citizen-revoked (revoked 2026-03-01) with an attacker's token claiming 2026-02-01."""
    from fixtures.documents import demo_signer

    signer = demo_signer(b.pki, "citizen-revoked")
    with A.pinned(BEFORE_REVOCATION):
        info = A.asyncio.run(
            signer.async_sign_general_data(
                DATA,
                "sha256",
                detached=True,
                use_cades=True,
                timestamper=A.attacker_tsa(BEFORE_REVOCATION),
            )
        )
    return bytes(info.dump())


def _many_certs(b: Bases) -> Input:
    from fixtures.documents import demo_signer

    extra = A.many_certificates(10_000)
    signer = demo_signer(b.pki, "citizen")
    sig = A.detached_with_certificates(
        DATA,
        signer.signing_cert,
        b.pki.key("citizen"),
        [*signer.cert_registry, *extra],
        at=SIGNED_AT,
    )
    return Input(DATA, sig)


def _thousand_sigs(b: Bases) -> bytes:
    return A.many_signature_fields(b.signed, 1000)


def _wrong_tst_imprint_check(b: Bases) -> bytes:
    return _tst_swap(b)


def _stamped(b: Bases, label: str, at: datetime, digest: str = "sha256") -> bytes:
    """A detached signature by ``label`` with a *trusted* demo TSA token saying ``at``."""
    from fixtures.documents import demo_signer

    tsa = A.timestamps.DummyTimeStamper(
        tsa_cert=b.pki.cert("public-tsa"), tsa_key=b.pki.key("public-tsa"), fixed_dt=at
    )
    with A.pinned(at):
        info = A.asyncio.run(
            demo_signer(b.pki, label).async_sign_general_data(
                DATA, digest, detached=True, use_cades=True, timestamper=tsa
            )
        )
    return bytes(info.dump())


def _digest(b: Bases, label: str, digest: str) -> bytes:
    from fixtures.documents import demo_signer

    with A.pinned(SIGNED_AT):
        info = A.asyncio.run(
            demo_signer(b.pki, label).async_sign_general_data(
                DATA, digest, detached=True, use_cades=True
            )
        )
    return bytes(info.dump())


def _big_file(_: Bases) -> Input:
    return Input(b"%PDF-1.7\n", sparse_size=200 * 1024 * 1024)


CASES: list[Case] = [
    # -- universal signature forgery -------------------------------------------------------
    Case(
        "usf-contents-missing",
        "USF",
        "/Contents entry blanked out (ByteRange kept)",
        F,
        S.FORMAT_FAILURE,
        "no CMS to check: structurally not a signature",
        _pdf(lambda b: A.contents_set(b.signed, None)),
    ),
    Case(
        "usf-contents-null",
        "USF",
        "/Contents null",
        F,
        S.FORMAT_FAILURE,
        "no CMS to check",
        _pdf(lambda b: A.contents_set(b.signed, b"null")),
    ),
    Case(
        "usf-contents-empty",
        "USF",
        "/Contents <>",
        F,
        S.FORMAT_FAILURE,
        "empty CMS",
        _pdf(lambda b: A.contents_set(b.signed, b"<>")),
    ),
    Case(
        "usf-contents-zeros",
        "USF",
        "/Contents <0000...> (all zeros, same length)",
        F,
        S.FORMAT_FAILURE,
        "zeros are not DER",
        _pdf(lambda b: A.pdf_with_cms(b.signed, b"")),
    ),
    Case(
        "usf-contents-not-der",
        "USF",
        "/Contents <6e6f742064...> (ASCII text)",
        F,
        S.FORMAT_FAILURE,
        "not DER",
        _pdf(lambda b: A.pdf_with_cms(b.signed, b"not der, just text" * 8)),
    ),
    Case(
        "usf-byterange-missing",
        "USF",
        "/ByteRange entry blanked out",
        F,
        S.FORMAT_FAILURE,
        "nothing says what is signed",
        _pdf(lambda b: A.byterange_set(b.signed, None)),
    ),
    Case(
        "usf-byterange-null",
        "USF",
        "/ByteRange null",
        F,
        S.FORMAT_FAILURE,
        "nothing says what is signed",
        _pdf(lambda b: A.byterange_set(b.signed, b"null")),
    ),
    Case(
        "usf-byterange-negative",
        "USF",
        "/ByteRange [0 -1 b c]",
        F,
        S.FORMAT_FAILURE,
        "a negative length is not a byte range",
        _pdf(
            lambda b: A.byterange_set(
                b.signed, b"[0 -1 %d %d]" % A.sig_layout(b.signed).byte_range[2:]
            )
        ),
    ),
    Case(
        "usf-byterange-past-end",
        "USF",
        "/ByteRange second range runs 1 MB past the end of file",
        F,
        S.FORMAT_FAILURE,
        "the range does not exist in the file",
        _pdf(
            lambda b: A.byterange_set(
                b.signed,
                b"[0 %d %d %d]"
                % (lambda r: (r[1], r[2], r[3] + 1_000_000))(A.sig_layout(b.signed).byte_range),
            )
        ),
    ),
    Case(
        "usf-byterange-three-ranges",
        "USF",
        "/ByteRange with 6 numbers, re-signed",
        F,
        S.FORMAT_FAILURE,
        "a PDF signature has exactly two ranges around /Contents",
        _pdf(
            lambda b: A.byterange_set(
                b.signed, b"[0 %d %d %d 0 0]" % A.sig_layout(b.signed).byte_range[1:]
            )
        ),
    ),
    Case(
        "usf-byterange-overlap",
        "USF",
        "second range starts inside the first (re-signed with the demo key over those bytes)",
        F,
        S.FORMAT_FAILURE,
        "overlapping ranges leave the tail of the file unsigned",
        _pdf(lambda b: _br(b, lambda o1, l1, o2, l2, n: (0, l1, 100, l1 - 100))),
    ),
    Case(
        "usf-byterange-not-from-zero",
        "USF",
        "ByteRange starts at 40 (re-signed)",
        F,
        S.FORMAT_FAILURE,
        "the header and first objects are unsigned",
        _pdf(lambda b: _br(b, lambda o1, l1, o2, l2, n: (40, l1 - 40, o2, l2))),
    ),
    Case(
        "usf-byterange-tail-uncovered",
        "USF",
        "ByteRange stops 60 bytes before the end of file (re-signed)",
        F,
        S.FORMAT_FAILURE,
        "the last xref/trailer bytes are unsigned and can be rewritten",
        _pdf(lambda b: _br(b, lambda o1, l1, o2, l2, n: (0, l1, o2, l2 - 60))),
    ),
    Case(
        "usf-byterange-gap-too-wide",
        "USF",
        "first range stops 20 bytes before '<' (re-signed): '/Contents' key unsigned",
        F,
        S.FORMAT_FAILURE,
        "bytes besides the /Contents value are unsigned",
        _pdf(lambda b: _br(b, lambda o1, l1, o2, l2, n: (0, l1 - 20, o2, l2))),
    ),
    Case(
        "usf-contents-shorter-than-gap",
        "USF",
        "/Contents hex shortened by 128 chars, spaces fill the gap (signed bytes untouched)",
        F,
        S.FORMAT_FAILURE,
        "the gap is not exactly the /Contents string",
        _pdf(lambda b: A.contents_shorter_than_gap(b.signed)),
    ),
    # -- incremental saving -------------------------------------------------------------------
    Case(
        "isa-page-content-appended",
        "ISA",
        "update adds a content stream drawing new text",
        F,
        S.FORMAT_FAILURE,
        "page content changed after signing",
        _pdf(lambda b: A.page_content_appended(b.signed)),
    ),
    Case(
        "isa-font-swap",
        "ISA",
        "update replaces /F1 by /Symbol",
        F,
        S.FORMAT_FAILURE,
        "glyphs change meaning",
        _pdf(lambda b: A.swap_font(b.signed)),
    ),
    Case(
        "isa-overlay-xobject",
        "ISA",
        "update draws a white box + text XObject over page 1",
        F,
        S.FORMAT_FAILURE,
        "overlay hides signed text",
        _pdf(lambda b: A.add_overlay_xobject(b.signed)),
    ),
    Case(
        "isa-add-page",
        "ISA",
        "update appends a page",
        F,
        S.FORMAT_FAILURE,
        "pages added after signing",
        _pdf(lambda b: A.add_page(b.signed)),
    ),
    Case(
        "isa-catalog-openaction",
        "ISA",
        "update adds /OpenAction JavaScript to the catalog",
        F,
        S.FORMAT_FAILURE,
        "catalog changed",
        _pdf(lambda b: A.catalog_open_action(b.signed)),
    ),
    Case(
        "isa-certified-p1-form-fill",
        "ISA",
        "certified NO_CHANGES, then a form field is filled",
        F,
        S.FORMAT_FAILURE,
        "the certification allows no change at all",
        _pdf(lambda b: A.fill_field(b.certified_p1, "GhiChu", "DA DUYET", opaque=False)),
    ),
    Case(
        "isa-no-xref",
        "ISA",
        "objects redefining the page content appended after %%EOF, no xref",
        F,
        S.FORMAT_FAILURE,
        "unexplained bytes after the signed revision; object-scanning readers show them",
        _pdf(lambda b: A.trailing_objects_without_xref(b.signed)),
    ),
    Case(
        "isa-fake-trailer",
        "ISA",
        "real update changing the page, then a copy of the signed trailer "
        "(startxref -> signed xref)",
        F,
        S.FORMAT_FAILURE,
        "a reader following another xref sees changed content",
        _pdf(lambda b: A.update_behind_fake_trailer(b.signed)),
    ),
    Case(
        "isa-second-xref",
        "ISA",
        "real update changing the page, then an empty xref whose /Prev skips it",
        F,
        S.FORMAT_FAILURE,
        "hidden revision: unexplained bytes after the signed revision",
        _pdf(lambda b: A.update_behind_second_xref(b.signed)),
    ),
    Case(
        "isa-dss-and-doc-timestamp",
        "ISA (allowed)",
        "update adds DSS (certs, OCSP, CRLs) and a document timestamp",
        P,
        None,
        "validation data and timestamps are allowed after signing",
        _pdf(lambda b: A.add_dss_and_doc_timestamp(b.signed, b.pki, at=SIGNED_AT)),
    ),
    Case(
        "isa-second-signature",
        "ISA (allowed)",
        "a second signature (official) in a new field",
        P,
        None,
        "countersigning is allowed",
        _pdf(lambda b: sign_pdf(b.pki, "official", b.signed, at=SIGNED_AT, field_name="CanBo")),
    ),
    # -- signature wrapping ---------------------------------------------------------------------
    Case(
        "swa-moved-signed-block",
        "SWA",
        "second signed block moved behind a new object, /ByteRange rewritten in the gap",
        F,
        S.FORMAT_FAILURE,
        "digest matches old bytes while the xref shows new objects",
        _pdf(lambda b: A.wrap_signed_revision(b.signed)),
    ),
    Case(
        "swa-duplicated-document",
        "SWA",
        "a full new xref (no /Prev) appended, reusing the signed signature field",
        F,
        S.FORMAT_FAILURE,
        "the signed revision is not in the xref chain the viewer follows",
        _pdf(lambda b: A.duplicated_revision(b.signed)),
    ),
    # -- shadow attacks -------------------------------------------------------------------------
    Case(
        "shadow-hide-free",
        "Shadow",
        "signed with an overlay XObject; update frees the overlay object",
        F,
        S.FORMAT_FAILURE,
        "hidden text revealed by an xref-only update",
        _pdf(_shadow_hide_free),
    ),
    Case(
        "shadow-hide-empty",
        "Shadow",
        "signed with an overlay XObject; update empties it",
        F,
        S.FORMAT_FAILURE,
        "hidden text revealed",
        _pdf(_shadow_hide_empty),
    ),
    Case(
        "shadow-hide-and-replace",
        "Shadow",
        "object 4 defined twice before signing; update is only an xref entry -> 2nd definition",
        F,
        S.FORMAT_FAILURE,
        "page content switched without a new object",
        _pdf(_shadow_hide_and_replace),
    ),
    Case(
        "shadow-replace-via-form",
        "Shadow",
        "field SoTien's widget lies over the printed amount; filled after signing with an "
        "opaque appearance showing 999.000.000",
        F,
        S.FORMAT_FAILURE,
        "form filling is allowed, but the new appearance paints over signed page content",
        _pdf(lambda b: A.fill_field(b.signed_form, "SoTien", "SO TIEN: 999.000.000 VND")),
    ),
    Case(
        "shadow-form-fill-bomb",
        "Shadow",
        "field GhiChu filled, then its appearance replaced by 1 GB of Flate (about 1 MB)",
        F,
        S.FORMAT_FAILURE,
        "the filled form cannot be drawn safely, so what it shows cannot be checked",
        _pdf(lambda b: A.bomb_appearance(b.signed_form, "GhiChu")),
        isolate=True,
    ),
    Case(
        "form-fill-benign",
        "Shadow (allowed)",
        "field GhiChu (empty area) filled after an approval signature",
        P,
        None,
        "form filling that covers no signed content is allowed (reported as a warning)",
        _pdf(lambda b: A.fill_field(b.signed_form, "GhiChu", "DA DUYET", opaque=False)),
    ),
    # -- certified documents ----------------------------------------------------------------
    Case(
        "cert-evil-annotation-p2",
        "Certified",
        "certified FILL_FORMS, then an opaque FreeText annotation over the amount",
        F,
        S.FORMAT_FAILURE,
        "annotations are beyond form filling",
        _pdf(lambda b: A.add_annotation(b.certified_p2)),
    ),
    Case(
        "cert-sneaky-signature-p2",
        "Certified",
        "certified FILL_FORMS, then a new valid signature (citizen-ec) whose stamp paints "
        "'999.000.000' over the signed amount",
        F,
        S.FORMAT_FAILURE,
        "a signature appearance that covers certified content changes what is shown",
        _pdf(
            lambda b: A.add_sneaky_signature_field(
                b.certified_p2, b.pki, "citizen-ec", at=SIGNED_AT
            )
        ),
    ),
    Case(
        "sneaky-signature-approval",
        "Shadow",
        "approval-signed form, then a second valid signature (citizen-ec) whose opaque stamp "
        "paints '999.000.000' over the signed amount",
        F,
        S.FORMAT_FAILURE,
        "new signatures are allowed, but not a stamp drawn over what the first signer saw",
        _pdf(
            lambda b: A.add_sneaky_signature_field(b.signed_form, b.pki, "citizen-ec", at=SIGNED_AT)
        ),
    ),
    Case(
        "cert-form-fill-p2",
        "Certified (allowed)",
        "certified FILL_FORMS, then field GhiChu filled",
        P,
        None,
        "allowed by the certification",
        _pdf(lambda b: A.fill_field(b.certified_p2, "GhiChu", "DA DUYET", opaque=False)),
    ),
    # -- CMS -------------------------------------------------------------------------------------
    Case(
        "cms-message-digest-mismatch",
        "CMS",
        "messageDigest of other data, signed attributes re-signed with the right key",
        F,
        S.HASH_FAILURE,
        "the signature is valid but over another document",
        _cms(
            lambda b: A.cms_with_message_digest(
                b.detached_info, b.key(), hashlib.sha256(b"x").digest()
            )
        ),
    ),
    Case(
        "cms-no-signed-attrs",
        "CMS",
        "plain PKCS#7: signature straight over the content, no signed attributes",
        I,
        S.SIG_CONSTRAINTS_FAILURE,
        "not a CAdES baseline signature: no signing-certificate, no content-type",
        _cms(lambda b: A.cms_no_signed_attrs(b.detached_info, b.key(), DATA)),
    ),
    Case(
        "cms-content-type-wrong",
        "CMS",
        "content-type attribute says signedData (re-signed)",
        F,
        S.FORMAT_FAILURE,
        "content-type must match the encapsulated type (RFC 5652 11.1)",
        _cms(lambda b: A.cms_content_type_wrong(b.detached_info, b.key())),
    ),
    Case(
        "cms-signing-cert-substituted",
        "CMS",
        "signing-certificate-v2 names organisation's certificate; signer is citizen (re-signed)",
        I,
        S.NO_SIGNING_CERTIFICATE_FOUND,
        "certificate substitution: the signed reference does not match the signer",
        _cms(
            lambda b: A.cms_signing_certificate_other(
                b.detached_info, b.key(), b.pki.cert("organisation")
            )
        ),
    ),
    Case(
        "cms-signing-cert-missing",
        "CMS",
        "detached CMS without signing-certificate(-v2) attribute (re-signed)",
        P,
        None,
        "as under EU DSS's default policy, the missing attribute is a warning "
        "(constraint signing_certificate_present, level WARN): the signer is identified by "
        "issuer and serial number and the signature verifies; a policy can make it FAIL",
        _cms(lambda b: A.cms_signing_certificate_removed(b.detached_info, b.key())),
    ),
    Case(
        "cms-signing-cert-doubled",
        "CMS",
        "two signing-certificate-v2 attributes (re-signed)",
        F,
        S.FORMAT_FAILURE,
        "RFC 5035: the attribute must occur once",
        _cms(
            lambda b: A.cms_doubled_signing_certificate(
                b.detached_info, b.key(), b.pki.cert("organisation")
            )
        ),
    ),
    Case(
        "cms-other-key",
        "CMS",
        "signed attributes signed with organisation's key, citizen's certificate",
        F,
        S.SIG_CRYPTO_FAILURE,
        "the key is not the certificate's",
        _cms(lambda b: A.cms_signed_by_other_key(b.detached_info, b.key("citizen-weak"))),
    ),
    Case(
        "cms-algorithm-mismatch",
        "CMS",
        "signatureAlgorithm ecdsa-with-SHA256 on an RSA key",
        I,
        S.CRYPTO_CONSTRAINTS_FAILURE,
        "the algorithm cannot apply to the key: not a crash",
        _cms(lambda b: A.cms_algorithm_mismatch(b.detached_info)),
    ),
    Case(
        "cms-pdf-message-digest-mismatch",
        "CMS",
        "PDF signature whose messageDigest is of other bytes (re-signed)",
        F,
        S.HASH_FAILURE,
        "as for detached",
        _pdf(
            lambda b: A.pdf_with_cms(
                b.signed,
                A.cms_with_message_digest(
                    A.cms_from_pdf(b.signed), b.key(), hashlib.sha256(b"x").digest()
                ),
            )
        ),
    ),
    Case(
        "cms-pdf-signing-cert-substituted",
        "CMS",
        "PDF signature whose signing-certificate-v2 names another certificate (re-signed)",
        I,
        S.NO_SIGNING_CERTIFICATE_FOUND,
        "certificate substitution in a PDF",
        _pdf(
            lambda b: A.pdf_with_cms(
                b.signed,
                A.cms_signing_certificate_other(
                    A.cms_from_pdf(b.signed), b.key(), b.pki.cert("organisation")
                ),
            )
        ),
    ),
    Case(
        "cms-pdf-signing-cert-missing",
        "CMS",
        "PAdES (/ETSI.CAdES.detached) signature without signing-certificate-v2 (re-signed)",
        P,
        None,
        "a warning under the default policy, as in EU DSS (signing_certificate_present)",
        _pdf(
            lambda b: A.pdf_with_cms(
                b.signed, A.cms_signing_certificate_removed(A.cms_from_pdf(b.signed), b.key())
            )
        ),
    ),
    Case(
        "subfilter-x509-rsa-sha1",
        "Unsupported",
        "SubFilter /adbe.x509.rsa_sha1",
        I,
        S.SIG_CONSTRAINTS_FAILURE,
        "reported as unverifiable, never skipped",
        _pdf(lambda b: A.subfilter_set(b.signed, b"/adbe.x509.rsa_sha1")),
    ),
    Case(
        "subfilter-missing",
        "Unsupported",
        "no /SubFilter",
        I,
        S.SIG_CONSTRAINTS_FAILURE,
        "reported as unverifiable, never skipped",
        _pdf(lambda b: A.subfilter_set(b.signed, b"")),
    ),
    # -- timestamps ------------------------------------------------------------------------------
    Case(
        "ts-over-other-data",
        "Timestamp",
        "signature-timestamp token taken from a signature over other data",
        P,
        None,
        "the token's imprint is not this signature's, so it proves nothing (a warning says "
        "so); the signature itself is intact and judged without it, as EU DSS does",
        _cms(_tst_swap),
    ),
    Case(
        "ts-untrusted-tsa-rescue",
        "Timestamp",
        "citizen-revoked (revoked 2026-03-01) + an attacker TSA token claiming 2026-02-01",
        I,
        S.REVOKED_NO_POE,
        "an untrusted timestamp proves nothing: revoked, and no proof the signature predates it",
        _cms(_untrusted_tsa),
    ),
    Case(
        "ts-trusted-before-revocation",
        "Timestamp (allowed)",
        "citizen-revoked signs with a trusted timestamp of 2026-02-01 (revoked 2026-03-01)",
        P,
        None,
        "revocation after the proven signing time does not invalidate the signature",
        _cms(lambda b: _stamped(b, "citizen-revoked", BEFORE_REVOCATION)),
    ),
    # -- algorithms and certificates of the demo PKI (default policy) ----------------------------
    Case(
        "alg-md5",
        "Algorithms",
        "detached CAdES with MD5 digest (citizen)",
        I,
        S.CRYPTO_CONSTRAINTS_FAILURE,
        "MD5 is never acceptable",
        _cms(lambda b: _digest(b, "citizen", "md5")),
    ),
    Case(
        "alg-sha1",
        "Algorithms",
        "detached CAdES with SHA-1 digest, no timestamp",
        I,
        S.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
        "SHA-1 only with proof of existence before 2019",
        _cms(lambda b: _digest(b, "citizen", "sha1")),
    ),
    Case(
        "alg-rsa1024",
        "Algorithms",
        "PDF signed by citizen-weak (RSA-1024 key, SHA-1 certificate)",
        I,
        S.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
        "RSA < 2048 only with proof of existence before 2019",
        _pdf(lambda b: sign_pdf(b.pki, "citizen-weak", b.pdf, at=SIGNED_AT)),
    ),
    Case(
        "cert-expired-at-signing",
        "Certificates",
        "citizen-expired (valid 2020-2023) signs; trusted timestamp proves 2026-05-31",
        I,
        S.OUT_OF_BOUNDS_NO_POE,
        "the earliest proof of existence is after expiry: nothing proves it was made in time",
        _cms(lambda b: _stamped(b, "citizen-expired", SIGNED_AT)),
    ),
    Case(
        "cert-expired-no-proof",
        "Certificates",
        "citizen-expired signs, no timestamp",
        I,
        S.OUT_OF_BOUNDS_NO_POE,
        "expired now, nothing proves the signature existed in time",
        _pdf(lambda b: sign_pdf(b.pki, "citizen-expired", b.pdf, at=SIGNED_AT)),
    ),
    Case(
        "cert-not-yet-valid-at-signing",
        "Certificates",
        "citizen (valid from 2025-01-01) with a trusted timestamp of 2024-06-01",
        F,
        S.NOT_YET_VALID,
        "the certificate did not exist yet at the proven signing time",
        _cms(lambda b: _stamped(b, "citizen", datetime(2024, 6, 1, tzinfo=UTC))),
    ),
    Case(
        "cert-revoked-before-signing",
        "Certificates",
        "citizen-revoked (revoked 2026-03-01) signs on 2026-05-31",
        F,
        S.REVOKED,
        "revoked before the signature was made",
        _pdf(lambda b: sign_pdf(b.pki, "citizen-revoked", b.pdf, at=SIGNED_AT)),
    ),
    Case(
        "cert-untrusted-root",
        "Certificates",
        "citizen's signature, verified trusting only the specialized root (offline)",
        I,
        S.NO_CERTIFICATE_CHAIN_FOUND,
        "the public root is not a trust anchor here",
        lambda b: Input(b.signed, anchors=(b.pki.root("specialized"),)),
    ),
    Case(
        "cert-wrong-key-usage",
        "Certificates",
        "citizen-no-usage (keyEncipherment only) signs",
        I,
        S.CHAIN_CONSTRAINTS_FAILURE,
        "the certificate may not sign",
        _pdf(lambda b: sign_pdf(b.pki, "citizen-no-usage", b.pdf, at=SIGNED_AT)),
    ),
    # -- certificate paths (generated EC P-256 certificates, trusted root passed in) ------------
    Case(
        "path-lab-control",
        "Path",
        "root -> CA -> signer, generated: the positive control",
        P,
        None,
        "proves the lab set-up itself verifies",
        _lab(lambda: A.gen_chain(3)),
    ),
    Case(
        "path-intermediate-missing",
        "Path",
        "CMS carries the leaf only; no AIA, offline",
        I,
        S.NO_CERTIFICATE_CHAIN_FOUND,
        "no path to the root can be built",
        _lab(lambda: A.gen_chain(3), embed=lambda g: []),
    ),
    Case(
        "path-ca-without-basic-constraints",
        "Path",
        "the intermediate has no basicConstraints extension",
        I,
        S.CHAIN_CONSTRAINTS_FAILURE,
        "RFC 5280 6.1.4(k): an issuer must be a CA",
        _lab(lambda: A.gen_chain(3, ca_flags=[True, None, False])),
    ),
    Case(
        "path-ca-false",
        "Path",
        "the intermediate says cA=FALSE",
        I,
        S.CHAIN_CONSTRAINTS_FAILURE,
        "an end entity issued the signer",
        _lab(lambda: A.gen_chain(3, ca_flags=[True, False, False])),
    ),
    Case(
        "path-name-constraints",
        "Path",
        "intermediate permits O=Allowed Org only; leaf is O=Other Org",
        I,
        S.CHAIN_CONSTRAINTS_FAILURE,
        "name-constraint violation",
        _lab(lambda: A.gen_chain(4, permitted_org="Allowed Org", leaf_org="Other Org")),
    ),
    Case(
        "path-loop",
        "Path",
        "CA A issued by B, B by A, leaf by A; no trusted root on the path",
        I,
        S.NO_CERTIFICATE_CHAIN_FOUND,
        "a loop must end, not spin",
        lambda b: (
            lambda g, r: Input(
                DATA,
                A.detached_with_certificates(DATA, g.leaf, g.leaf_key, g.certs[:2], at=SIGNED_AT),
                anchors=(r.root,),
            )
        )(A.path_loop(), b.lab_chain),
    ),
    Case(
        "path-50-long",
        "Path",
        "root -> 48 intermediates -> signer (50 certificates)",
        P,
        None,
        "a long but valid path: verdict within the bound",
        _lab(lambda: A.gen_chain(50)),
    ),
    Case(
        "path-name-only-chaining",
        "Path",
        "10 layers x 5 same-name CAs without key identifiers (51 certificates), signer under the "
        "last layer",
        I,
        S.NO_CERTIFICATE_CHAIN_FOUND,
        "5^10 candidate paths by name: must end within the time bound",
        _lab(
            lambda: A.name_only_chaining_certs(10, 5),
            embed=lambda g: list(range(1, len(g.certs) - 1)),
        ),
        isolate=True,
    ),
    # -- resource abuse ------------------------------------------------------------------------
    Case(
        "res-xref-loop",
        "Resource",
        "update whose trailer /Prev points at itself",
        F,
        S.FORMAT_FAILURE,
        "must end, not loop",
        _pdf(lambda b: A.xref_loop(b.signed)),
        isolate=True,
    ),
    Case(
        "res-page-tree-loop",
        "Resource",
        "update making /Pages its own kid",
        F,
        S.FORMAT_FAILURE,
        "must end, not loop",
        _pdf(lambda b: A.page_tree_loop(b.signed)),
        isolate=True,
    ),
    Case(
        "res-deep-nesting",
        "Resource",
        "update adding 100,000-deep nested arrays to the catalog",
        I,
        S.SIG_CONSTRAINTS_FAILURE,
        "the RecursionError in the difference analysis becomes a verdict: the signature is "
        "intact, and what changed after it could not be analysed (pdf_changes_analysed)",
        _pdf(lambda b: A.deep_nesting_update(b.signed)),
        isolate=True,
    ),
    Case(
        "res-compression-bomb",
        "Resource",
        "update replacing page content with 1 GB of Flate (1 MB compressed)",
        F,
        S.FORMAT_FAILURE,
        "bounded memory: page content changed anyway",
        _pdf(lambda b: A.compression_bomb_update(b.signed, 1024)),
        isolate=True,
    ),
    Case(
        "res-1000-signatures",
        "Resource",
        "update adding 1,000 filled signature fields",
        F,
        S.FORMAT_FAILURE,
        "above the policy's max_signatures (64): reported, not validated",
        _pdf(_thousand_sigs),
        isolate=True,
    ),
    Case(
        "res-10000-certificates",
        "Resource",
        "valid detached signature carrying 10,000 unrelated certificates",
        P,
        None,
        "nothing forged: the verdict must come within the bound",
        _many_certs,
        isolate=True,
    ),
    Case(
        "res-200mb-file",
        "Resource",
        "a 200 MB file (sparse on disk) given by path",
        I,
        S.SIZE_LIMIT_EXCEEDED,
        "above max_file_size (64 MB): refused before reading",
        _big_file,
    ),
    Case(
        "res-declared-encrypted",
        "Resource",
        "update adding a bogus /Encrypt to the trailer",
        I,
        S.ENCRYPTED,
        "an encrypted document cannot be checked",
        _pdf(lambda b: A.declare_encrypted(b.signed)),
    ),
]

CASES_BY_ID = {c.id: c for c in CASES}
assert len(CASES_BY_ID) == len(CASES), "case ids must be unique"


@dataclass(frozen=True)
class Bound:
    """The bounds stated in CASES.md and docs/security.md, checked by the tests."""

    seconds_per_case: float = 15.0
    """Wall time of one verification on the slow 2-core test machine (in-process)."""
    isolate_timeout: float = 90.0
    """Subprocess limit for an isolated case: start-up, verification and reporting."""
    peak_rss_mb: float = 1024.0
    """Peak resident memory of the process verifying one isolated case."""


BOUND = Bound()
