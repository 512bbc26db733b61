"""Augment existing signatures: PAdES and CAdES to B-T, B-LT and B-LTA, never changing
what was signed.

**PAdES** (every signature of the file, or the one in ``field``), in incremental updates:

- ``B-T``: a signature timestamp cannot be added to a PDF signature after the fact (the
  CMS sits in the signed file's ``/Contents``; rewriting it would change an earlier
  revision), so a signature without one gets a *document timestamp* over the whole file,
  which ETSI EN 319 142-1 accepts as the B-T timestamp. EU DSS does the same
  (``PAdESLevelBaselineT``: "Will add a DocumentTimeStamp. signature-timestamp (CMS) is
  impossible to add while extending"); pyHanko's ``ltvfix`` adds no timestamp for this.
- ``B-LT``: B-T first where needed, then the DSS with every certificate and the OCSP
  responses and CRLs of the signers' paths, of their signature timestamps' TSAs and of the
  latest document timestamp's TSA (pyHanko's ``add_validation_info`` /
  ``collect_validation_info``, EU DSS's ``PAdESLevelBaselineLT``).
- ``B-LTA``: B-LT, then a new document timestamp, then the DSS updated with its TSA's
  validation data (what pyHanko's ``timestamp_pdf`` and ``update_archival_timestamp_chain``
  write, and EU DSS's ``PAdESLevelBaselineLTA``).

**CAdES**, detached (``.p7s``) and enveloping (``.p7m``); the signature value, the signed
attributes and the content keep their bytes (:mod:`esign._cms_edit`):

- ``B-T``: a signature-time-stamp-token unsigned attribute over the signature value;
- ``B-LT``: the certificates in ``SignedData.certificates``, the CRLs in
  ``SignedData.crls`` and the OCSP responses there as ``otherRevInfo``
  id-ri-ocsp-response (RFC 5940), as ETSI EN 319 122-1 B-LT asks, for the signer and the
  timestamps' TSAs;
- ``B-LTA``: an archive-time-stamp-v3 with its ats-hash-index-v3
  (:func:`verify.cades_archive.archive_timestamp_request`), then its TSA's validation data
  (the index lets later additions stand).

**ASiC containers** (:mod:`esign.asic`), rewritten with every entry a manifest or
timestamp covers keeping its bytes:

- ASiC-E with CAdES: each ``META-INF/signature*.p7s`` is augmented as above to ``B-T`` or
  ``B-LT`` over the ``ASiCManifest`` that names it; ``B-LTA`` is B-LT, then an archive
  manifest and timestamp over the container (:func:`esign.asic.archive_asic`), as EU DSS
  builds ASiC-E B-LTA. A signature an ``ASiCArchiveManifest`` already covers is refused
  when something would be added to it (its bytes are under that manifest's digest).
- ASiC-S with a CAdES signature (``META-INF/signature.p7s`` over the one file): the
  signature is augmented as above, ``B-LTA`` included (inside the CAdES, as EU DSS does).
- ASiC-S with a time assertion (``META-INF/timestamp.tst``): ``B-T`` is there already;
  ``B-LT`` puts the TSA's validation data into the token no manifest covers yet;
  ``B-LTA`` is :func:`esign.asic.archive_asic`.
- XAdES in a container (``META-INF/signatures*.xml``) is refused.

Validation data is only fetched for what lacks it: a certificate whose path already has
revocation data in the document is left as it is (an archived signer whose certificate
has since expired needs nothing new). Before anything is produced, the input is verified
with :class:`verify.Verifier`; a signature that does not verify now, a certificate whose
revocation data cannot be had (named, with each address tried) and a failing TSA are
refused (:class:`~esign.errors.AugmentRefused`, :class:`~esign.errors.TimestampError`),
each with an English and a Vietnamese sentence, and nothing is written.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from asn1crypto import cms, core
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from esign import _cms_edit, _core
from esign._ltdata import (
    Carried,
    Collected,
    Need,
    add_to_cms,
    cert_name,
    collect,
    context,
    first_line,
    validate,
)
from esign.errors import (
    AugmentRefused,
    InputError,
    SignatureNotValid,
    TimestampChainBroken,
    TimestampError,
    UsageError,
)
from esign.profiles import PUBLIC, Level, SignatureProfile
from verify import (
    DocumentReport,
    Indication,
    RevocationMode,
    SignatureReport,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    Verifier,
    cades_archive,
    cms_forms,
)

__all__ = [
    "AugmentResult",
    "aaugment",
    "aaugment_cms",
    "aaugment_pdf",
    "augment",
    "augment_cms",
    "augment_pdf",
]

Source = str | os.PathLike[str] | bytes | IO[bytes]
Format = Literal["pdf", "cms-detached", "cms-enveloped", "asic-e", "asic-s"]
_ORDER = {"B-B": 0, "B-T": 1, "B-LT": 2, "B-LTA": 3}
_ARCHIVE = (cades_archive.ARCHIVE_TIMESTAMP_V3, cades_archive.ARCHIVE_TIMESTAMP_V2)


@dataclass(frozen=True)
class AugmentResult:
    """What was produced: where, for which signatures, and what was added."""

    output: Path | None
    data: bytes | None
    """The augmented bytes when no output path was given; else ``None``."""
    size: int
    sha256: str
    level: Level
    """The level asked for."""
    format: Format
    signatures: tuple[str, ...]
    """The signatures augmented: PDF field names, ``SignerInfo N`` for CMS, container
    entries (``META-INF/signature001.p7s``, ``META-INF/timestamp.tst``) for ASiC."""
    added: tuple[str, ...]
    """What was added, in order (a document timestamp, validation data, an archive
    timestamp...); empty when everything was already there."""
    report: DocumentReport = field(compare=False, repr=False)
    """verify's report on the input (what the refusal checks rested on)."""


@dataclass(frozen=True)
class _Job:
    """One augmentation: its settings, decided before anything is fetched."""

    level: Level
    verifier: Verifier
    tsa_url: str | None
    digest: str
    renewal: bool = False

    def at_least(self, level: Level) -> bool:
        return _ORDER[self.level] >= _ORDER[level]

    def tsa(self) -> str:
        if not self.tsa_url:
            raise UsageError(f"level {self.level} needs a timestamp here: give tsa_url (--tsa URL)")
        return self.tsa_url


# -- public API ---------------------------------------------------------------------------------


async def aaugment_pdf(
    input: Source,
    output: _core.Destination,
    *,
    level: str,
    tsa_url: str | None = None,
    field: str | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    digest: str | None = None,
) -> AugmentResult:
    """Augment every PAdES signature of a PDF (or the one in ``field``); see
    :func:`augment_pdf`."""
    job = _job(level, tsa_url, profile, trust, policy, verifier, digest)
    data = _read(input)
    new, names, added, report = await _augment_pdf(data, job, field)
    return _write(output, new, job, "pdf", names, added, report)


def augment_pdf(
    input: Source,
    output: _core.Destination,
    *,
    level: str,
    tsa_url: str | None = None,
    field: str | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    digest: str | None = None,
) -> AugmentResult:
    """Bring the PAdES signatures of a PDF up to ``level`` (``B-T``, ``B-LT``, ``B-LTA``)
    in incremental updates, and write the result to ``output`` atomically.

    ``input`` is a path, bytes or a binary stream; ``output`` a path (it may be the
    input's), a stream, or ``None`` (bytes in :attr:`AugmentResult.data`). ``field``
    limits the work to one signature field. ``trust``/``policy`` (default: the profile's
    anchors, hard revocation checking) or a long-lived ``verifier`` decide what is valid
    now and fetch the validation data; ``tsa_url`` (default: the profile's TSA) gives the
    timestamps; ``digest`` the document timestamps' hash (default: the profile's).

    Raises :class:`~esign.errors.SignatureNotValid`,
    :class:`~esign.errors.ValidationDataUnavailable`, :class:`~esign.errors.TimestampError`,
    :class:`~esign.errors.UsageError` or :class:`~esign.errors.InputError`; nothing is
    written then.
    """
    return asyncio.run(
        aaugment_pdf(
            input,
            output,
            level=level,
            tsa_url=tsa_url,
            field=field,
            profile=profile,
            trust=trust,
            policy=policy,
            verifier=verifier,
            digest=digest,
        )
    )


async def aaugment_cms(
    signature: Source,
    output: _core.Destination,
    *,
    level: str,
    content: Source | None = None,
    tsa_url: str | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    digest: str | None = None,
) -> AugmentResult:
    """Augment every SignerInfo of a CAdES signature; see :func:`augment_cms`."""
    job = _job(level, tsa_url, profile, trust, policy, verifier, digest)
    raw = _read(signature)
    detached = None if content is None else _read(content)
    new, names, added, report, fmt = await _augment_cms(raw, detached, job)
    return _write(output, new, job, fmt, names, added, report)


def augment_cms(
    signature: Source,
    output: _core.Destination,
    *,
    level: str,
    content: Source | None = None,
    tsa_url: str | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    digest: str | None = None,
) -> AugmentResult:
    """Bring every SignerInfo of a CAdES signature up to ``level`` and write the new CMS
    (DER) to ``output`` atomically.

    ``signature`` is a detached ``.p7s`` (give its ``content``) or an enveloping
    ``.p7m`` (DER, BER or PEM). The signature values, signed attributes and content keep
    their bytes; unsigned attributes, certificates and revocation values are added.
    ``digest`` is the archive timestamps' hash (default: the profile's). Other arguments
    and errors as for :func:`augment_pdf`.
    """
    return asyncio.run(
        aaugment_cms(
            signature,
            output,
            level=level,
            content=content,
            tsa_url=tsa_url,
            profile=profile,
            trust=trust,
            policy=policy,
            verifier=verifier,
            digest=digest,
        )
    )


async def aaugment(
    input: Source,
    output: _core.Destination,
    *,
    level: str,
    content: Source | None = None,
    tsa_url: str | None = None,
    field: str | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    digest: str | None = None,
) -> AugmentResult:
    """:func:`aaugment_pdf`, :func:`aaugment_cms` or an ASiC container's augmentation, by
    what ``input`` is."""
    job = _job(level, tsa_url, profile, trust, policy, verifier, digest)
    data = _read(input)
    # a container first: a PDF stored in it may show its header within the first KiB
    if _is_asic(data):
        if content is not None:
            raise UsageError("content is for a detached CMS signature; a container holds its own")
        if field is not None:
            raise UsageError("field names a PDF signature field; the input is an ASiC container")
        new, names, added, report, fmt = await _augment_asic(data, job)
        return _write(output, new, job, fmt, names, added, report)
    if _is_pdf(data):
        if content is not None:
            raise UsageError("content is for a detached CMS signature, not for a PDF")
        new, names, added, report = await _augment_pdf(data, job, field)
        return _write(output, new, job, "pdf", names, added, report)
    if field is not None:
        raise UsageError("field names a PDF signature field; the input is not a PDF")
    detached = None if content is None else _read(content)
    new, names, added, report, fmt = await _augment_cms(data, detached, job)
    return _write(output, new, job, fmt, names, added, report)


def augment(
    input: Source,
    output: _core.Destination,
    *,
    level: str,
    content: Source | None = None,
    tsa_url: str | None = None,
    field: str | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    digest: str | None = None,
) -> AugmentResult:
    """:func:`augment_pdf` or :func:`augment_cms`, by what ``input`` is (a PDF, or a CMS
    signature: ``content`` for a detached one), or an ASiC container (``.asice``,
    ``.asics``; see the module's notes: its CAdES signatures augmented in place, B-LTA by
    archive manifest where EU DSS puts it there)."""
    return asyncio.run(
        aaugment(
            input,
            output,
            level=level,
            content=content,
            tsa_url=tsa_url,
            field=field,
            profile=profile,
            trust=trust,
            policy=policy,
            verifier=verifier,
            digest=digest,
        )
    )


# -- settings, input, output --------------------------------------------------------------------


def _job(
    level: str,
    tsa_url: str | None,
    profile: SignatureProfile,
    trust: TrustProfile | None,
    policy: ValidationPolicy | None,
    verifier: Verifier | None,
    digest: str | None,
    *,
    renewal: bool = False,
) -> _Job:
    lvl = _core.check_level(level)
    if lvl == "B-B":
        raise UsageError("augmenting to B-B adds nothing: choose B-T, B-LT or B-LTA")
    v = _core.resolve_verifier(profile, trust, policy, verifier)
    if lvl in ("B-LT", "B-LTA") and v.policy.revocation is RevocationMode.OFF:
        raise UsageError(f"level {lvl} embeds revocation information: revocation cannot be off")
    if not v.policy.network:
        raise UsageError("augmenting fetches timestamps and validation data: the network is off")
    tsa = tsa_url or profile.default_tsa
    return _Job(lvl, v, tsa, (digest or profile.default_digest).lower(), renewal)


def _read(source: Source) -> bytes:
    with _core.open_input(source) as stream:
        try:
            return bytes(stream.read())
        except OSError as exc:
            raise InputError(f"cannot read the input: {exc.strerror or exc}") from exc


def _write(
    output: _core.Destination,
    data: bytes,
    job: _Job,
    fmt: Format,
    names: Sequence[str],
    added: Sequence[str],
    report: DocumentReport,
) -> AugmentResult:
    with _core.atomic_output(output) as (out, target):
        out.write(data)
    return AugmentResult(
        output=target,
        data=data if output is None else None,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        level=job.level,
        format=fmt,
        signatures=tuple(names),
        added=tuple(added),
        report=report,
    )


def _is_pdf(data: bytes) -> bool:
    return data.lstrip()[:5].startswith(b"%PDF-") or b"%PDF-" in data[:1024]


# -- the checks before anything is added ---------------------------------------------------------


def _not_valid(
    report: DocumentReport, sig: SignatureReport, what_en: str, what_vi: str
) -> SignatureNotValid:
    return SignatureNotValid(
        f"{what_en} does not verify now, so it is not augmented: {sig.message_en}",
        f"{what_vi} không hợp lệ tại thời điểm này nên không được bổ sung: {sig.message_vi}",
        report=report,
    )


async def _refuse_unless_valid(
    report: DocumentReport,
    checks: Sequence[tuple[SignatureReport, str, str, Need | None]],
    job: _Job,
) -> None:
    """Raise for the first signature of ``checks`` that does not pass: revocation that
    cannot be had is named (certificate and addresses), anything else is the report's."""
    for sig, what_en, what_vi, need in checks:
        if sig.indication is Indication.TOTAL_PASSED:
            continue
        if sig.sub_indication is SubIndication.TRY_LATER and need is not None:
            vc = context(job.verifier, [need], Carried())
            try:
                await validate(vc, need, job.verifier)  # raises ValidationDataUnavailable if it can
            except AugmentRefused as exc:
                exc.report = exc.report or report
                raise
        raise _not_valid(report, sig, what_en, what_vi)


def _chain_check(
    report: DocumentReport, timestamps: Sequence[tuple[str, str, bool, str, str]]
) -> None:
    """Renewal: every document or archive timestamp of the chain must validate."""
    for name_en, name_vi, ok, why_en, why_vi in timestamps:
        if not ok:
            raise TimestampChainBroken(
                f"the timestamp chain is broken at {name_en}: {why_en}; a new timestamp "
                "would not restore what it no longer proves",
                f"chuỗi dấu thời gian bị đứt tại {name_vi}: {why_vi}; dấu thời gian mới "
                "không khôi phục được điều nó không còn chứng minh",
                report=report,
            )


# -- timestamps ---------------------------------------------------------------------------------


def _timestamper(job: _Job) -> HTTPTimeStamper:
    return HTTPTimeStamper(job.tsa(), timeout=int(max(job.verifier.policy.fetch_timeout, 1)))


def _tsa_failed(url: str, exc: BaseException) -> TimestampError:
    why = first_line(exc)
    return TimestampError(
        f"{url}: the timestamp authority gave no timestamp: {why}",
        message_vi=f"{url}: đơn vị cấp dấu thời gian không cấp được dấu thời gian: {why}",
    )


async def _token(job: _Job, digest: bytes, algorithm: str) -> cms.ContentInfo:
    url = job.tsa()
    try:
        token: cms.ContentInfo = await _timestamper(job).async_timestamp(digest, algorithm)
    except Exception as exc:
        raise _tsa_failed(url, exc) from exc
    return token


def _tsa_need(token: cms.SignedData | cms.ContentInfo, en: str, vi: str) -> Need:
    sd = token["content"] if isinstance(token, cms.ContentInfo) else token
    info = extract_certificate_info(sd)
    return Need(en, vi, info.signer_cert, tuple(info.other_certs))


async def _new_tsa_checked(job: _Job, need: Need, carried: Carried) -> Collected:
    """A new timestamp's TSA, validated now (a TSA outside the trust profile, or revoked,
    gives no timestamp worth adding); its validation data."""
    try:
        return await collect(job.verifier, [need], carried)
    except SignatureNotValid as exc:
        raise TimestampError(
            f"{job.tsa()}: the timestamp is not usable: {exc}",
            message_vi=f"{job.tsa()}: dấu thời gian không dùng được: {exc.message_vi}",
        ) from exc


# -- PAdES --------------------------------------------------------------------------------------


def _open(data: bytes) -> PdfFileReader:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
    except (PdfError, ValueError, OSError) as exc:
        raise InputError(f"not a readable PDF: {first_line(exc)}") from exc
    if reader.encrypted:
        raise InputError("encrypted PDFs are not augmented")
    return reader


def _embedded(reader: PdfFileReader) -> list[EmbeddedPdfSignature]:
    found = [
        EmbeddedPdfSignature(reader, sig_field, name)
        for name, _value, sig_field in enumerate_sig_fields(reader, filled_status=True)
    ]
    return sorted(found, key=lambda e: e.signed_revision)


def _is_doc_ts(emb: EmbeddedPdfSignature) -> bool:
    return str(emb.sig_object_type) == "/DocTimeStamp"


def _dss(reader: PdfFileReader) -> Carried:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        vc = dss.as_validation_context({"trust_roots": []})
    except Exception:  # noqa: BLE001 - no DSS (or an unreadable one): nothing carried
        return Carried()
    return Carried(list(vc.certificate_registry), list(vc.ocsps), list(vc.crls))


def _signer_need(emb: EmbeddedPdfSignature) -> Need:
    info = extract_certificate_info(emb.signed_data)
    name = cert_name(info.signer_cert)
    return Need(
        f"the signer {name} of {emb.field_name}",
        f"người ký {name} của {emb.field_name}",
        info.signer_cert,
        tuple(info.other_certs),
    )


def _tst_needs(signer_info: cms.SignerInfo, where_en: str, where_vi: str) -> list[Need]:
    needs = []
    for signed in (False, True):
        for sd in extract_tst_data_iter(signer_info, signed=signed):
            kind_en = "content timestamp" if signed else "signature timestamp"
            kind_vi = "dấu thời gian nội dung" if signed else "dấu thời gian chữ ký"
            needs.append(
                _tsa_need(
                    sd, f"the TSA of the {kind_en} of {where_en}", f"TSA của {kind_vi} {where_vi}"
                )
            )
    return needs


def _doc_ts_need(emb: EmbeddedPdfSignature) -> Need:
    return _tsa_need(
        emb.signed_data,
        f"the TSA of the document timestamp {emb.field_name}",
        f"TSA của dấu thời gian tài liệu {emb.field_name}",
    )


def _field_for_timestamp(reader: PdfFileReader) -> str:
    names = {name for name, _v, _r in enumerate_sig_fields(reader)}
    n = 1
    while f"Timestamp{n}" in names:
        n += 1
    return f"Timestamp{n}"


async def _add_document_timestamp(data: bytes, job: _Job) -> tuple[bytes, str]:
    reader = _open(data)
    name = _field_for_timestamp(reader)
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    out = io.BytesIO()
    try:
        await PdfTimeStamper(_timestamper(job), field_name=name).async_timestamp_pdf(
            writer, job.digest, output=out
        )
    except Exception as exc:
        raise _tsa_failed(job.tsa(), exc) from exc
    return out.getvalue(), name


def _write_dss(data: bytes, collected: Collected) -> bytes | None:
    """``data`` with the DSS updated in a new revision, or None when it has it all."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    dss = DocumentSecurityStore.supply_dss_in_writer(
        writer, None, certs=collected.certs, ocsps=collected.ocsps, crls=collected.crls
    )
    if not dss.modified:
        return None
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def _describe(collected: Collected) -> str:
    return (
        f"{len(collected.certs)} certificates, {len(collected.ocsps)} OCSP responses, "
        f"{len(collected.crls)} CRLs"
    )


async def _augment_pdf(
    data: bytes, job: _Job, field_name: str | None, report: DocumentReport | None = None
) -> tuple[bytes, list[str], list[str], DocumentReport]:
    if report is None:
        report = await job.verifier.averify(data)
    if report.format != "pdf":
        raise InputError(f"not a readable PDF: {report.message_en}")
    embs = _embedded(_open(data))
    by_name = {str(e.field_name): e for e in embs}
    regular = [s for s in report.signatures if s.kind == "signature"]
    targets = [s for s in regular if field_name is None or s.field_name == field_name]
    if field_name is not None and not targets:
        raise UsageError(f"no signed signature field {field_name!r} in this PDF")
    if not targets:
        raise AugmentRefused(
            "the PDF holds no signature to augment",
            "tệp PDF không có chữ ký nào để bổ sung",
            report=report,
        )
    checks = []
    for sig in targets:
        emb = by_name.get(str(sig.field_name))
        need = _signer_need(emb) if emb is not None else None
        checks.append((sig, f"the signature {sig.field_name}", f"chữ ký {sig.field_name}", need))
    await _refuse_unless_valid(report, checks, job)
    if job.renewal:
        _chain_check(
            report,
            [
                (
                    f"the document timestamp {s.field_name}",
                    f"dấu thời gian tài liệu {s.field_name}",
                    s.indication is Indication.TOTAL_PASSED,
                    s.message_en,
                    s.message_vi,
                )
                for s in report.signatures
                if s.kind == "document_timestamp"
            ],
        )
    names = [str(s.field_name) for s in targets]
    added: list[str] = []

    # B-T: a document timestamp for the signatures that have no timestamp yet
    target_embs = [by_name[n] for n in names if n in by_name]
    doc_ts = [e for e in embs if _is_doc_ts(e)]
    untimed = [
        e
        for e in target_embs
        if not list(extract_tst_data_iter(e.signer_info, signed=False))
        and not any(t.signed_revision > e.signed_revision for t in doc_ts)
    ]
    if untimed:
        data, ts_name = await _add_document_timestamp(data, job)
        added.append(
            f"document timestamp {ts_name} (for {', '.join(str(e.field_name) for e in untimed)})"
        )
        new_ts = next(e for e in _embedded(_open(data)) if str(e.field_name) == ts_name)
        # its TSA validated now; at B-LT its validation data goes into the DSS below
        await _new_tsa_checked(job, _doc_ts_need(new_ts), Carried())
    if not job.at_least("B-LT"):
        return data, names, added, report

    # B-LT: the DSS, for the signers, their timestamps and the latest document timestamp
    data = await _pdf_validation_data(data, names, job, added)
    if not job.at_least("B-LTA"):
        return data, names, added, report

    # B-LTA: a new document timestamp over it all, then its TSA's validation data
    data, ts_name = await _add_document_timestamp(data, job)
    added.append(f"document timestamp {ts_name} (archive)")
    reader = _open(data)
    new_ts = next(e for e in _embedded(reader) if str(e.field_name) == ts_name)
    collected = await _new_tsa_checked(job, _doc_ts_need(new_ts), _dss(reader))
    if not collected.empty:
        written = _write_dss(data, collected)
        if written is not None:
            data = written
            added.append(f"DSS for {ts_name}: {_describe(collected)}")
    return data, names, added, report


async def _pdf_validation_data(
    data: bytes, names: Sequence[str], job: _Job, added: list[str]
) -> bytes:
    reader = _open(data)
    embs = _embedded(reader)
    by_name = {str(e.field_name): e for e in embs}
    needs: list[Need] = []
    for name in names:
        emb = by_name.get(name)
        if emb is None:
            continue
        needs.append(_signer_need(emb))
        needs.extend(_tst_needs(emb.signer_info, str(emb.field_name), str(emb.field_name)))
    latest = [e for e in embs if _is_doc_ts(e)]
    if latest:
        needs.append(_doc_ts_need(latest[-1]))
    carried = _dss(reader)
    for emb in embs:
        carried.certs.extend(cms_forms.certificates(emb.signed_data))
    collected = await collect(job.verifier, needs, carried)
    if collected.empty:
        return data
    written = _write_dss(data, collected)
    if written is None:
        return data
    added.append(f"DSS: {_describe(collected)}")
    return written


# -- CAdES --------------------------------------------------------------------------------------


def _load_cms(raw: bytes) -> tuple[bytes, cms.SignedData]:
    try:
        raw = cms_forms.unarmor(raw)
        info = cms.ContentInfo.load(raw, strict=True)
        if info["content_type"].native != "signed_data":
            raise ValueError("not a CMS SignedData")
        sd = info["content"]
        _ = sd["signer_infos"][0]
    except Exception as exc:
        raise InputError(f"not a readable CMS signature: {first_line(exc)}") from exc
    return raw, sd


def _unsigned_oids(si: cms.SignerInfo) -> list[str]:
    attrs = si["unsigned_attrs"]
    if isinstance(attrs, core.Void):
        return []
    return [a["type"].dotted for a in attrs]


def _cms_carried(sd: cms.SignedData) -> Carried:
    from verify import process

    rev = process.revocation_values(sd)
    return Carried(
        list(cms_forms.certificates(sd)),
        [o for o, _src in rev.ocsps],
        [c for c, _src in rev.crls],
    )


async def _augment_cms(
    raw: bytes, content: bytes | None, job: _Job, report: DocumentReport | None = None
) -> tuple[bytes, list[str], list[str], DocumentReport, Format]:
    raw, sd = _load_cms(raw)
    enveloped = sd["encap_content_info"]["content"].native is not None
    if enveloped and content is not None:
        raise UsageError("the CMS holds its content (.p7m): give no content")
    if not enveloped and content is None:
        raise UsageError("a detached signature (.p7s) needs its content: give content")
    fmt: Format = "cms-enveloped" if enveloped else "cms-detached"
    v = job.verifier
    if report is None:
        report = await (v.averify(raw) if enveloped else v.averify_detached(content or b"", raw))
    count = len(sd["signer_infos"])
    parts = cms_forms.one_per_signer(sd)
    names = [f"SignerInfo {i + 1}" for i in range(count)]
    signer_needs = []
    for i, part in enumerate(parts):
        info = extract_certificate_info(part)
        name = cert_name(info.signer_cert)
        signer_needs.append(
            Need(
                f"the signer {name} of SignerInfo {i + 1}",
                f"người ký {name} của SignerInfo {i + 1}",
                info.signer_cert,
                tuple(cms_forms.certificates(sd)),
            )
        )
    sigs = list(report.signatures)
    if len(sigs) != count:  # the CMS could not be read as a whole
        raise SignatureNotValid(
            f"the CMS signature does not verify now, so it is not augmented: {report.message_en}",
            f"chữ ký CMS không hợp lệ tại thời điểm này nên không được bổ sung: "
            f"{report.message_vi}",
            report=report,
        )
    await _refuse_unless_valid(
        report,
        [
            (s, f"SignerInfo {i + 1}", f"SignerInfo {i + 1}", signer_needs[i])
            for i, s in enumerate(sigs)
        ],
        job,
    )
    if job.renewal:
        _chain_check(
            report,
            [
                (
                    f"the {t.kind} timestamp of SignerInfo {i + 1} ({t.tsa or 'TSA unknown'})",
                    f"dấu thời gian lưu trữ của SignerInfo {i + 1} ({t.tsa or 'không rõ TSA'})",
                    t.indication is Indication.TOTAL_PASSED,
                    t.message_en or t.indication.value,
                    t.indication.value,
                )
                for i, s in enumerate(sigs)
                for t in s.timestamps
                if t.kind not in ("signature", "content")
            ],
        )
    added: list[str] = []
    infos = list(sd["signer_infos"])

    # B-T: a signature-time-stamp-token over each signature value that has no timestamp
    for i, si in enumerate(infos):
        oids = _unsigned_oids(si)
        if _cms_edit.SIGNATURE_TIMESTAMP in oids or any(o in _ARCHIVE for o in oids):
            continue
        algorithm = si["digest_algorithm"]["algorithm"].native
        imprint = hashlib.new(algorithm, si["signature"].native).digest()
        token = await _token(job, imprint, algorithm)
        await _new_tsa_checked(
            job,
            _tsa_need(
                token,
                f"the TSA of the new signature timestamp of SignerInfo {i + 1}",
                f"TSA của dấu thời gian chữ ký mới của SignerInfo {i + 1}",
            ),
            Carried(),
        )
        raw = _cms_edit.append_unsigned_attribute(
            raw, i, _cms_edit.attribute(_cms_edit.SIGNATURE_TIMESTAMP, token.dump())
        )
        added.append(f"signature-time-stamp-token on SignerInfo {i + 1}")
    if not job.at_least("B-LT"):
        return raw, names, added, report, fmt

    # B-LT: certificates and revocation values for the signers and every timestamp's TSA
    raw = await _cms_validation_data(raw, signer_needs, job, added)
    if not job.at_least("B-LTA"):
        return raw, names, added, report, fmt

    # B-LTA: an archive-time-stamp-v3 on each SignerInfo, then its TSA's validation data
    new_needs: list[Need] = []
    for i in range(count):
        try:
            request = cades_archive.archive_timestamp_request(raw, i, content, job.digest)
        except ValueError as exc:
            raise AugmentRefused(
                f"SignerInfo {i + 1}: no archive timestamp can be computed: {exc}",
                f"SignerInfo {i + 1}: không tính được dấu thời gian lưu trữ: {exc}",
                report=report,
            ) from exc
        token = await _token(job, request.message_imprint, request.hash_algorithm)
        try:
            token = cades_archive.with_hash_index(token, request)
        except ValueError as exc:
            raise _tsa_failed(job.tsa(), exc) from exc
        raw = bytes(cades_archive.add_archive_timestamp(raw, i, token).dump())
        added.append(f"archive-time-stamp-v3 on SignerInfo {i + 1}")
        new_needs.append(
            _tsa_need(
                token,
                f"the TSA of the new archive timestamp of SignerInfo {i + 1}",
                f"TSA của dấu thời gian lưu trữ mới của SignerInfo {i + 1}",
            )
        )
    _raw, sd = _load_cms(raw)
    try:
        collected = await collect(job.verifier, new_needs, _cms_carried(sd))
    except SignatureNotValid as exc:
        raise TimestampError(str(exc), message_vi=exc.message_vi) from exc
    if not collected.empty:
        raw, n_certs, n_revs = add_to_cms(raw, collected)
        if n_certs or n_revs:
            added.append(
                f"validation data of the archive timestamps' TSA: {n_certs} certificates, "
                f"{n_revs} revocation values"
            )
    return raw, names, added, report, fmt


async def _cms_validation_data(
    raw: bytes,
    signer_needs: Sequence[Need],
    job: _Job,
    added: list[str],
) -> bytes:
    _raw, sd = _load_cms(raw)
    needs = list(signer_needs)
    for i, si in enumerate(sd["signer_infos"]):
        needs.extend(_tst_needs(si, f"SignerInfo {i + 1}", f"SignerInfo {i + 1}"))
        archives = [
            a for a in cades_archive.archive_timestamps(raw, i, None) if a.token is not None
        ]
        if archives:
            token = archives[-1].token
            assert token is not None
            needs.append(
                _tsa_need(
                    token,
                    f"the TSA of the last archive timestamp of SignerInfo {i + 1}",
                    f"TSA của dấu thời gian lưu trữ cuối của SignerInfo {i + 1}",
                )
            )
        if any(a.version == "v2" for a in archives):
            raise AugmentRefused(
                f"SignerInfo {i + 1} carries an archive-time-stamp-v2, which covers "
                "SignedData.certificates and crls: new validation data would break it",
                f"SignerInfo {i + 1} có dấu thời gian lưu trữ v2, vốn bao trùm "
                "SignedData.certificates và crls: thêm dữ liệu kiểm tra sẽ làm hỏng nó",
            )
    collected = await collect(job.verifier, needs, _cms_carried(sd))
    if collected.empty:
        return raw
    raw, n_certs, n_revs = add_to_cms(raw, collected)
    if n_certs or n_revs:
        added.append(f"validation data: {n_certs} certificates, {n_revs} revocation values")
    return raw


# -- ASiC containers ----------------------------------------------------------------------------


def _is_asic(data: bytes) -> bool:
    from esign import asic

    return asic._is_asic(data)


async def _augment_asic(
    data: bytes, job: _Job
) -> tuple[bytes, list[str], list[str], DocumentReport, Format]:
    """An ASiC container brought to ``job.level``: its CAdES signatures augmented over
    what they sign, then (B-LTA, ASiC-E or a timestamped ASiC-S) a new archive manifest
    and timestamp; the container rewritten, every other entry keeping its bytes."""
    from esign import asic

    container = asic._read_entries(data)
    entries = container.entries
    fmt: Format = "asic-s" if container.asic_s else "asic-e"
    lower = {n: n.lower() for n in container.order}
    cades = [
        n
        for n, low in lower.items()
        if low.startswith("meta-inf/signature") and low.endswith(".p7s")
    ]
    if any(
        low.startswith("meta-inf/signatures") and low.endswith(".xml") for low in lower.values()
    ):
        raise AugmentRefused(
            "the container's signatures are XAdES (META-INF/signatures*.xml): they are not "
            "augmented here (a XAdES signature keeps its timestamps inside itself)",
            "chữ ký trong gói là XAdES (META-INF/signatures*.xml): không được bổ sung ở đây "
            "(chữ ký XAdES giữ dấu thời gian bên trong nó)",
        )
    stamps = [
        n
        for n, low in lower.items()
        if low.startswith("meta-inf/timestamp") and low.endswith(".tst")
    ]
    if not cades and not (container.asic_s and stamps):
        raise AugmentRefused(
            "the container holds no CAdES signature and no time assertion to augment",
            "gói không có chữ ký CAdES hay dấu thời gian nào để bổ sung",
        )
    report = await job.verifier.averify(data)
    if not report.passed:
        raise SignatureNotValid(
            f"the container does not verify now, so it is not augmented: {report.message_en}",
            f"hồ sơ ASiC không hợp lệ tại thời điểm này nên không được bổ sung: "
            f"{report.message_vi}",
            report=report,
        )
    names: list[str] = []
    added: list[str] = []
    archive = job.at_least("B-LTA") and not (container.asic_s and cades)
    cms_job = _Job("B-LT", job.verifier, job.tsa_url, job.digest) if archive else job
    covered = _archive_covered(entries)
    for name in cades:
        content = _asic_content(container, name)
        new, _n, steps, _r, _f = await _augment_cms(entries[name], content, cms_job)
        if new != entries[name] and name in covered:
            raise AugmentRefused(
                f"{name} is covered by {covered[name]}: adding to it would break that "
                "archive manifest's digest; renew the container instead (--level B-LTA)",
                f"{name} đã được bảng kê lưu trữ {covered[name]} bao phủ: bổ sung vào nó sẽ "
                "làm sai giá trị băm trong bảng kê đó; hãy gia hạn gói (--level B-LTA)",
                report=report,
            )
        entries[name] = new
        names.append(name)
        added.extend(f"{name}: {step}" for step in steps)
    renames: dict[str, str] = {}
    new_entries: list[tuple[str, bytes]] = []
    if archive:
        md = job.digest if job.digest in asic._DIGEST_URIS else "sha256"
        renames, new_entries, extended = await asic._archive_entries(
            entries, {}, job.verifier, job.tsa(), md, asic_s=container.asic_s
        )
        added.extend(f"validation data for {n}'s TSA put into it" for n in extended)
        added.extend(f"{old} renamed {new}" for old, new in renames.items())
        added.append(f"archive manifest {new_entries[0][0]} with its timestamp {new_entries[1][0]}")
        names.append(new_entries[1][0])
    elif container.asic_s and not cades and job.at_least("B-LT"):
        extended = await asic._extend_uncovered_tokens(entries, job.verifier)
        added.extend(f"validation data for {n}'s TSA put into it" for n in extended)
        names.extend(n for n in stamps if n in extended)
    if container.asic_s and not cades and not names:
        names.extend(stamps)
    out = io.BytesIO()
    asic._write_archived(out, container, renames, new_entries)
    return out.getvalue(), names, added, report, fmt


def _archive_covered(entries: dict[str, bytes]) -> dict[str, str]:
    """Each entry an ``ASiCArchiveManifest*.xml`` lists, with (one of) the manifest(s)."""
    from esign import asic

    found: dict[str, str] = {}
    for name, raw in entries.items():
        if name[len("META-INF/") :].lower().startswith("asicarchivemanifest"):
            for listed in asic._manifest_refs(raw)[1]:
                found.setdefault(listed, name)
    return found


def _asic_content(container: Any, signature: str) -> bytes:
    """What a CAdES signature in a container signs: in an ASiC-S the one data file, in an
    ASiC-E the ``ASiCManifest`` whose ``SigReference`` names it."""
    from esign import asic

    entries: dict[str, bytes] = container.entries
    if container.asic_s:
        data = [n for n in container.order if not n.upper().startswith("META-INF/")]
        if len(data) != 1:
            raise AugmentRefused(
                f"an ASiC-S container holds exactly one data file; this one holds {len(data)}",
                f"gói ASiC-S phải có đúng một tệp dữ liệu, gói này có {len(data)}",
            )
        return entries[data[0]]
    for name, raw in entries.items():
        manifest = name[len("META-INF/") :].lower().startswith("asicmanifest")
        if manifest and asic._manifest_refs(raw)[0] == signature:
            return raw
    raise AugmentRefused(
        f"no ASiCManifest names {signature}: what it signs is not known",
        f"không có bảng kê ASiCManifest nào trỏ tới {signature}: không biết nó ký gì",
    )
