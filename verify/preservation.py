"""When each signature's proof must be renewed, and why.

A signature stays provable after its signer's certificate lapses as long as its newest
timestamp does: the newest archive timestamp (CAdES, XAdES) or document timestamp (PAdES)
over it, else its signature timestamp. That timestamp lapses at the earliest of:

- the expiry of its TSA's certificate, or of a CA certificate on that certificate's path
  (after it, nothing proves the TSA's key was trustworthy, ETSI EN 319 102-1 §5.6.2.3);
- the revocation of one of them, as revocation data carried in the document (or given)
  states it, signed by the issuer (:func:`verify.process.find_revocation`);
- the sunset of its algorithms in the policy's dated rules
  (:class:`verify.policy.AlgorithmRules`: SHA-1 at ``sha1_until``, RSA keys under
  ``rsa_min_bits`` at ``rsa_weak_until``; a forbidden digest never held).

A signature with no timestamp at all lapses with its signer's certificate (or a CA
certificate on its path). Before that date a new archive or document timestamp must be
added over the signature, its timestamps and their validation data (``esign renew``).

:func:`renewal_due` reads the timestamp tokens from the document itself (the report does
not keep them) and, given the document's :class:`~verify.report.DocumentReport`, speaks of
the signatures by the report's index and field name. :func:`timestamp_lapse` does the same
for one :class:`~verify.process.TimestampEvidence`, for a reader that holds the evidence.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms, tsp, x509
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

from verify import cades_archive, cms_forms, process
from verify.policy import AlgorithmRules
from verify.report import DocumentReport, Indication, vn_time
from verify.xmldsig import inspect_xml, looks_like_xml

__all__ = [
    "CAUSES",
    "Lapse",
    "RenewalDue",
    "renewal_due",
    "timestamp_lapse",
]

CAUSES: dict[str, tuple[str, str]] = {
    "tsa_certificate_expires": (
        "chứng thư số của đơn vị cấp dấu thời gian (TSA) của dấu thời gian cuối cùng hết hạn",
        "the TSA certificate of the last timestamp expires",
    ),
    "ca_certificate_expires": (
        "chứng thư số CA trên chuỗi của TSA của dấu thời gian cuối cùng hết hạn",
        "a CA certificate on the path of the last timestamp's TSA expires",
    ),
    "tsa_revoked": (
        "chứng thư số trên chuỗi của TSA của dấu thời gian cuối cùng bị thu hồi",
        "a certificate on the path of the last timestamp's TSA is revoked",
    ),
    "algorithm_sunset": (
        "thuật toán của dấu thời gian cuối cùng hết được chấp nhận theo quy tắc thuật toán",
        "the last timestamp's algorithm reaches its sunset in the algorithm rules",
    ),
    "signer_certificate_expires": (
        "chữ ký không có dấu thời gian và chứng thư số của người ký hết hạn",
        "the signature has no timestamp and the signer's certificate expires",
    ),
    "signer_ca_certificate_expires": (
        "chữ ký không có dấu thời gian và một chứng thư số CA trên chuỗi của người ký hết hạn",
        "the signature has no timestamp and a CA certificate on the signer's path expires",
    ),
    "signer_revoked": (
        "chữ ký không có dấu thời gian và chứng thư số trên chuỗi của người ký bị thu hồi",
        "the signature has no timestamp and a certificate on the signer's path is revoked",
    ),
}
"""Every cause of a renewal date: (Vietnamese, English)."""

_MAX_PATH = 10


@dataclass(frozen=True)
class Lapse:
    """When one timestamp (or an untimestamped signature) stops proving anything, and
    why: ``cause`` is a key of :data:`CAUSES`; ``detail`` names the certificate or the
    algorithm."""

    at: datetime
    cause: str
    detail: str


@dataclass(frozen=True)
class RenewalDue:
    """The date by which one signature's proof must be renewed, and why."""

    index: int
    """The signature's index, as in the document's report."""
    field_name: str | None
    due: datetime | None
    """None: nothing known lapses (or the signature does not verify now: see ``cause``)."""
    cause: str | None
    """A key of :data:`CAUSES`, ``not_valid`` (the signature does not verify now: renewal
    cannot help) or ``None``."""
    message_vi: str
    message_en: str
    timestamp: str | None = None
    """The timestamp whose lapse sets the date (``document timestamp Timestamp2``,
    ``archive timestamp 2 (v3)``, ``signature timestamp``), None for a signature without."""
    timestamp_time: datetime | None = None
    tsa: str | None = None
    detail: str | None = None

    def due_before(self, moment: datetime) -> bool:
        """Its proof lapses before ``moment`` (so it must be renewed before then)."""
        return self.due is not None and self.due < moment

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "field_name": self.field_name,
            "due": _iso(self.due),
            "cause": self.cause,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "timestamp": self.timestamp,
            "timestamp_time": _iso(self.timestamp_time),
            "tsa": self.tsa,
            "detail": self.detail,
        }


def timestamp_lapse(
    timestamp: process.TimestampEvidence,
    *,
    certificates: Iterable[x509.Certificate] = (),
    revocation: process.Revocation | None = None,
    rules: AlgorithmRules | None = None,
) -> Lapse | None:
    """When ``timestamp`` lapses: its TSA certificate's path (built from ``certificates``
    by issuer), the revocations ``revocation`` states for it, and its digest algorithms
    and TSA key under ``rules``. None when its TSA certificate is unknown."""
    if timestamp.tsa_cert is None:
        return None
    return _lapse(
        timestamp.tsa_cert,
        list(certificates),
        revocation or process.Revocation(),
        rules or AlgorithmRules(),
        timestamp.digest_algorithms,
        timestamp.time,
        signer=False,
    )


def renewal_due(
    document: bytes,
    *,
    content: bytes | None = None,
    report: DocumentReport | None = None,
    rules: AlgorithmRules | None = None,
    revocation: process.Revocation | None = None,
    now: datetime | None = None,
) -> tuple[RenewalDue, ...]:
    """For each signature of ``document`` (a PDF, an XML document with XAdES signatures,
    or a CMS: ``content`` for a detached one), the date by which its proof must be
    renewed and why, in Vietnamese and English.

    ``report``: the document's report, to speak of signatures by its index and field
    name and to say which do not verify now; ``rules``: the dated algorithm rules
    (default: :class:`~verify.policy.AlgorithmRules`'s); ``revocation``: revocation data
    beyond what the document carries (freshly fetched, for a TSA revoked since); ``now``
    words a date already past as overdue. Document timestamps themselves get no entry.
    Never raises on a document it cannot read: that gives no entries.
    """
    rules = rules or AlgorithmRules()
    extra = revocation or process.Revocation()
    moment = now or datetime.now(UTC)
    try:
        if document.lstrip()[:5].startswith(b"%PDF-") or b"%PDF-" in document[:1024]:
            found = _pdf(document, rules, extra)
        elif looks_like_xml(document):
            found = _xml(document, rules, extra)
        else:
            found = _cms(document, content, rules, extra)
    except Exception:  # noqa: BLE001 - an unreadable document has nothing to renew
        return ()
    out: list[RenewalDue] = []
    for item in found:
        sig = _report_signature(report, item)
        index = sig.index if sig is not None else item.index
        if sig is not None and sig.indication is not Indication.TOTAL_PASSED:
            out.append(
                RenewalDue(
                    index,
                    item.field_name,
                    None,
                    "not_valid",
                    "chữ ký không hợp lệ tại thời điểm kiểm tra; gia hạn không khắc phục "
                    f"được: {sig.message_vi}",
                    f"the signature does not verify now; renewal cannot help: {sig.message_en}",
                    item.timestamp,
                    item.time,
                    item.tsa,
                )
            )
            continue
        out.append(_due(index, item, moment))
    return tuple(out)


# -- what each signature rests on ---------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    index: int
    field_name: str | None
    lapse: Lapse | None
    timestamp: str | None
    time: datetime | None
    tsa: str | None


def _due(index: int, item: _Found, now: datetime) -> RenewalDue:
    if item.lapse is None:
        return RenewalDue(
            index,
            item.field_name,
            None,
            None,
            "không xác định được thời hạn gia hạn (không đọc được chứng thư số liên quan)",
            "no renewal date can be told (the certificate it rests on cannot be read)",
            item.timestamp,
            item.time,
            item.tsa,
        )
    lapse = item.lapse
    vi_cause, en_cause = CAUSES[lapse.cause]
    day = lapse.at.astimezone(UTC)
    if lapse.at <= now:
        when_en = f"overdue since {day:%Y-%m-%d}"
        when_vi = f"đã quá hạn từ {vn_time(lapse.at)}"
    else:
        when_en = f"before {day:%Y-%m-%d}"
        when_vi = f"trước {vn_time(lapse.at)}"
    return RenewalDue(
        index,
        item.field_name,
        lapse.at,
        lapse.cause,
        f"{when_vi}: {vi_cause} ({lapse.detail})",
        f"{when_en}: {en_cause} ({lapse.detail})",
        item.timestamp,
        item.time,
        item.tsa,
        lapse.detail,
    )


def _report_signature(report: DocumentReport | None, item: _Found) -> Any:
    if report is None:
        return None
    for sig in report.signatures:
        if item.field_name is not None and sig.field_name == item.field_name:
            return sig
    if item.field_name is None and 0 <= item.index < len(report.signatures):
        return report.signatures[item.index]
    return None


def _pdf(data: bytes, rules: AlgorithmRules, extra: process.Revocation) -> list[_Found]:
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    from verify.pdfopen import open_pdf

    reader = open_pdf(data)
    embedded = []
    for name, _value, sig_field in enumerate_sig_fields(reader, filled_status=True):
        with contextlib.suppress(Exception):
            emb = EmbeddedPdfSignature(reader, sig_field, name)
            _ = emb.signed_revision
            embedded.append(emb)
    embedded.sort(key=lambda e: e.signed_revision)
    dss_certs: list[x509.Certificate] = []
    carried = process.Revocation()
    with contextlib.suppress(Exception):
        vc = DocumentSecurityStore.read_dss(reader).as_validation_context({"trust_roots": []})
        dss_certs = list(vc.certificate_registry)
        carried = process.Revocation(
            tuple((c, "DSS") for c in vc.crls), tuple((o, "DSS") for o in vc.ocsps)
        )
    revocation = carried + extra
    doc_ts = [e for e in embedded if str(e.sig_object_type) == "/DocTimeStamp"]
    found: list[_Found] = []
    for index, emb in enumerate(embedded):
        if str(emb.sig_object_type) == "/DocTimeStamp":
            continue
        field_name = str(emb.field_name)
        later = [t for t in doc_ts if t.signed_revision > emb.signed_revision]
        pool = [*dss_certs, *cms_forms.certificates(emb.signed_data)]
        if later:
            newest = later[-1]
            found.append(
                _from_token(
                    index,
                    field_name,
                    newest.signed_data,
                    f"document timestamp {newest.field_name}",
                    pool,
                    revocation + process.revocation_values(newest.signed_data),
                    rules,
                )
            )
            continue
        tokens = list(extract_tst_data_iter(emb.signer_info, signed=False))
        if tokens:
            newest_token = max(tokens, key=_gen_time_key)
            found.append(
                _from_token(
                    index,
                    field_name,
                    newest_token,
                    "signature timestamp",
                    pool,
                    revocation,
                    rules,
                )
            )
            continue
        found.append(_from_signer(index, field_name, emb.signed_data, pool, revocation, rules))
    return found


def _cms(
    data: bytes, content: bytes | None, rules: AlgorithmRules, extra: process.Revocation
) -> list[_Found]:
    raw = cms_forms.unarmor(data)
    info = cms.ContentInfo.load(raw)
    sd = info["content"]
    pool = list(cms_forms.certificates(sd))
    revocation = process.revocation_values(sd) + extra
    found: list[_Found] = []
    parts = cms_forms.one_per_signer(sd)
    for index, si in enumerate(sd["signer_infos"]):
        archives = [
            a for a in cades_archive.archive_timestamps(raw, index, content) if a.token is not None
        ]
        if archives:
            newest = archives[-1]
            assert newest.token is not None
            found.append(
                _from_token(
                    index,
                    None,
                    newest.token["content"],
                    f"archive timestamp {len(archives)} ({newest.version})",
                    pool,
                    revocation,
                    rules,
                )
            )
            continue
        tokens = list(extract_tst_data_iter(si, signed=False))
        if tokens:
            found.append(
                _from_token(
                    index,
                    None,
                    max(tokens, key=_gen_time_key),
                    "signature timestamp",
                    pool,
                    revocation,
                    rules,
                )
            )
            continue
        found.append(_from_signer(index, None, parts[index], pool, revocation, rules))
    return found


def _xml(data: bytes, rules: AlgorithmRules, extra: process.Revocation) -> list[_Found]:
    """An XML document's signatures (XAdES): each rests on its newest archive timestamp,
    else its newest signature timestamp, else its signer's certificate; the certificates
    and revocation values it carries (``CertificateValues``, ``RevocationValues``,
    ``TimeStampValidationData``) count as a PDF's DSS does."""
    found: list[_Found] = []
    for index, check in enumerate(inspect_xml(data).checks):
        pool = [*check.certificates, *check.carried_certificates]
        revocation = (
            process.Revocation(
                tuple((c, "XAdES") for c in check.carried_crls),
                tuple((o, "XAdES") for o in check.carried_ocsps),
            )
            + extra
        )
        stamps = check.archive_timestamps or check.signature_timestamps
        if stamps:
            newest = max(stamps, key=lambda t: t.claimed_time)
            label = (
                f"archive timestamp {len(stamps)}"
                if check.archive_timestamps
                else "signature timestamp"
            )
            found.append(
                _from_token(index, None, newest.token["content"], label, pool, revocation, rules)
            )
            continue
        if check.signer_cert is None:
            found.append(_Found(index, None, None, None, None, None))
            continue
        lapse = _lapse(check.signer_cert, pool, revocation, rules, (), None, signer=True)
        found.append(_Found(index, None, lapse, None, None, None))
    return found


def _from_token(
    index: int,
    field_name: str | None,
    token: cms.SignedData,
    label: str,
    pool: Sequence[x509.Certificate],
    revocation: process.Revocation,
    rules: AlgorithmRules,
) -> _Found:
    tsa_cert: x509.Certificate | None = None
    with contextlib.suppress(Exception):
        tsa_cert = extract_certificate_info(token).signer_cert
    time = _gen_time(token)
    if tsa_cert is None:
        return _Found(index, field_name, None, label, time, None)
    lapse = _lapse(
        tsa_cert,
        [*pool, *cms_forms.certificates(token)],
        revocation + process.revocation_values(token),
        rules,
        _token_algorithms(token),
        time,
        signer=False,
    )
    return _Found(index, field_name, lapse, label, time, _name(tsa_cert))


def _from_signer(
    index: int,
    field_name: str | None,
    signed_data: cms.SignedData,
    pool: Sequence[x509.Certificate],
    revocation: process.Revocation,
    rules: AlgorithmRules,
) -> _Found:
    cert: x509.Certificate | None = None
    with contextlib.suppress(Exception):
        cert = extract_certificate_info(signed_data).signer_cert
    if cert is None:
        return _Found(index, field_name, None, None, None, None)
    lapse = _lapse(cert, list(pool), revocation, rules, (), None, signer=True)
    return _Found(index, field_name, lapse, None, None, None)


# -- when a certificate's proof lapses ----------------------------------------------------------


def _lapse(
    cert: x509.Certificate,
    pool: list[x509.Certificate],
    revocation: process.Revocation,
    rules: AlgorithmRules,
    digests: Sequence[str],
    time: datetime | None,
    *,
    signer: bool,
) -> Lapse:
    path = _path(cert, pool)
    candidates: list[Lapse] = []
    for i, c in enumerate(path):
        if signer:
            cause = "signer_certificate_expires" if i == 0 else "signer_ca_certificate_expires"
        else:
            cause = "tsa_certificate_expires" if i == 0 else "ca_certificate_expires"
        candidates.append(Lapse(c.not_valid_after, cause, _name(c)))
    revoked = process.find_revocation(path, pool, revocation)
    if revoked is not None:
        candidates.append(
            Lapse(
                revoked.at,
                "signer_revoked" if signer else "tsa_revoked",
                f"{_name(revoked.cert)}, revoked on {revoked.at:%Y-%m-%d}, {revoked.source}",
            )
        )
    if not signer:
        for digest in digests:
            name = digest.lower().replace("-", "")
            if name in rules.forbidden_digests:
                candidates.append(Lapse(time or rules.sha1_until, "algorithm_sunset", name.upper()))
            elif name == "sha1":
                candidates.append(Lapse(rules.sha1_until, "algorithm_sunset", "SHA-1"))
        algo, bits = process.key_bits(cert)
        if algo in ("rsa", "rsassa_pss") and bits < rules.rsa_min_bits:
            candidates.append(
                Lapse(rules.rsa_weak_until, "algorithm_sunset", f"RSA {bits}-bit TSA key")
            )
    return min(candidates, key=lambda c: c.at)


def _path(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """``cert`` and its issuers found in ``pool`` by name (and key identifier when both
    have one), up to a self-issued certificate."""
    path = [cert]
    seen = {cert.dump()}
    current = cert
    while len(path) < _MAX_PATH and current.subject.dump() != current.issuer.dump():
        issuer = _issuer(current, pool)
        if issuer is None or issuer.dump() in seen:
            break
        path.append(issuer)
        seen.add(issuer.dump())
        current = issuer
    return path


def _issuer(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> x509.Certificate | None:
    aki = cert.authority_key_identifier
    for candidate in pool:
        if candidate.subject != cert.issuer:
            continue
        ski = candidate.key_identifier
        if aki is not None and ski is not None and aki != ski:
            continue
        return candidate
    return None


def _token_algorithms(token: cms.SignedData) -> tuple[str, ...]:
    found: list[str] = []
    with contextlib.suppress(Exception):
        info = token["encap_content_info"]["content"].parsed
        found.append(info["message_imprint"]["hash_algorithm"]["algorithm"].native)
        for si in token["signer_infos"]:
            found.append(si["digest_algorithm"]["algorithm"].native)
    return tuple(dict.fromkeys(found))


def _gen_time(token: cms.SignedData) -> datetime | None:
    with contextlib.suppress(Exception):
        info = token["encap_content_info"]["content"].parsed
        if isinstance(info, tsp.TSTInfo):
            value = info["gen_time"].native
            return value if isinstance(value, datetime) else None
    return None


def _gen_time_key(token: cms.SignedData) -> datetime:
    return _gen_time(token) or datetime.min.replace(tzinfo=UTC)


def _name(cert: x509.Certificate) -> str:
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except Exception:  # noqa: BLE001 - an odd name is shown as unknown
        return "?"


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
