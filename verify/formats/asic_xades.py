"""XAdES signatures inside ASiC containers (``META-INF/signatures*.xml``, ETSI EN 319 162-1).

Each ``ds:Signature`` of the file is checked as the XML reader checks a standalone one
(:func:`verify.xmldsig.inspect_xml`, then :class:`~verify.formats.xml.XmlReader`: the
signature value, the signer's path, the XAdES timestamps and values it carries, the
process's constraints), with its references resolved in the container:

- a reference by file name (``URI="test.txt"``) is digested over that file's bytes (or
  its canonical form when its only transform is a canonicalisation); a changed file is
  TOTAL_FAILED / HASH_FAILURE naming it, a missing one INDETERMINATE /
  SIGNED_DATA_NOT_FOUND naming it;
- the reference to the signature's own ``SignedProperties`` is followed; a XAdES
  signature whose ``SignedProperties`` no reference covers is FORMAT_FAILURE (its signing
  time and signing certificate would be unsigned);
- the ``SigningCertificate``/``SigningCertificateV2`` property must name the certificate
  whose key verifies the signature (else INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND).

Container timestamps that cover the signature file (``proofs``) are proof of existence
for the signature, as they are for an e-invoice in an ASiC-S; so are its own XAdES archive
timestamps (``ArchiveTimeStamp``, validated by the XML reader over the container's files
as the references name them, :func:`verify.xades.archive_imprint_input`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from asn1crypto import x509

from verify import process
from verify.engine import Verdict, short
from verify.formats.xml import XmlReader
from verify.report import SignatureReport, SubIndication, sentences
from verify.xades import XADES_NAMESPACES
from verify.xmldsig import DS, XmlSignatureCheck, XmlSignatureError, inspect_xml

__all__ = ["XADES_DIGESTS", "xades_file_reports"]

XADES_DIGESTS = {
    DS + "sha1": "sha1",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "sha224",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-256": "sha3_256",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-384": "sha3_384",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-512": "sha3_512",
}
"""Digest methods a SigningCertificate's CertDigest may name, as hashlib names."""

_SIGNED_PROPERTIES_TYPES = (
    "http://uri.etsi.org/01903#SignedProperties",
    "http://uri.etsi.org/01903/v1.1.1#SignedProperties",
)


def _report(
    index: int, entry: str, verdict: Verdict, covers: tuple[str, ...], **more: Any
) -> SignatureReport:
    vi, en = sentences(verdict.sub, verdict.reason_vi, verdict.reason_en)
    return SignatureReport(
        index=index,
        kind="xml",
        field_name=entry,
        indication=verdict.indication,
        sub_indication=verdict.sub,
        message_vi=vi,
        message_en=en,
        covers=covers,
        level="XAdES",
        **more,
    )


def _xades_children(el: Any, local: str) -> list[Any]:
    return [
        c
        for c in el
        if isinstance(c.tag, str) and c.tag in {f"{{{ns}}}{local}" for ns in XADES_NAMESPACES}
    ]


def _signed_properties(signature: Any) -> list[Any]:
    """The SignedProperties of the signature's own Object/QualifyingProperties."""
    found = []
    for obj in signature.findall(f"{{{DS}}}Object"):
        for qp in _xades_children(obj, "QualifyingProperties"):
            found.extend(_xades_children(qp, "SignedProperties"))
    return found


def _referenced_ids(signature: Any) -> set[str]:
    ids: set[str] = set()
    for ref in signature.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"):
        uri = ref.get("URI") or ""
        if uri.startswith("#"):
            ids.add(uri[1:])
    return ids


def _signing_certificate_problem(
    properties: Any, signer: x509.Certificate | None
) -> tuple[str, str] | None:
    """Why the SigningCertificate(V2) property does not name ``signer``; None when it
    does, or when the signature has no such property."""
    certs: list[Any] = []
    for ssp in _xades_children(properties, "SignedSignatureProperties"):
        for name in ("SigningCertificate", "SigningCertificateV2"):
            for sc in _xades_children(ssp, name):
                certs.extend(_xades_children(sc, "Cert"))
    if not certs:
        return None
    if signer is None:
        return (
            "không có chứng thư số để so với thuộc tính SigningCertificate",
            "no certificate to compare with the SigningCertificate property",
        )
    der = signer.dump()
    for cert in certs:
        for digest in _xades_children(cert, "CertDigest"):
            method = digest.find(f"{{{DS}}}DigestMethod")
            algorithm = XADES_DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
            value = digest.findtext(f"{{{DS}}}DigestValue")
            if algorithm is None or value is None:
                continue
            try:
                expected = base64.b64decode("".join(value.split()), validate=True)
            except (binascii.Error, ValueError):
                continue
            if hmac.compare_digest(hashlib.new(algorithm, der).digest(), expected):
                return None
    return (
        "thuộc tính SigningCertificate của XAdES không trỏ tới chứng thư số đã ký (giá trị "
        "băm chứng thư số không khớp)",
        "the XAdES SigningCertificate property does not name the certificate that signed "
        "(no certificate digest matches)",
    )


def _file_names(signature: Any) -> tuple[str, ...]:
    """The files the signature's references name (percent-decoded), in order."""
    names: list[str] = []
    for ref in signature.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"):
        uri = (ref.get("URI") or "").strip()
        if uri and not uri.startswith("#"):
            name = unquote(uri)
            while name.startswith("./"):
                name = name[2:]
            names.append(name)
    return tuple(dict.fromkeys(names))


def _countersigns(signature: Any) -> bool:
    """Whether a reference signs another signature's value (a XAdES countersignature)."""
    return any(
        (ref.get("Type") or "").endswith("#CountersignedSignature")
        for ref in signature.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    )


def _own_problem(
    signature: Any, check: XmlSignatureCheck, files: tuple[str, ...]
) -> Verdict | None:
    """A verdict the container's reading gives before the XML reader's: a missing file,
    unsigned signed properties, a signing-certificate property naming someone else."""
    missing = [p for p in check.problems if p.code == "detached-missing"]
    if missing and len(missing) == len(check.problems):
        return Verdict(
            SubIndication.SIGNED_DATA_NOT_FOUND,
            "; ".join(p.vi for p in missing[:3]),
            "; ".join(p.en for p in missing[:3]),
        )
    if check.problems:
        return None  # the XML reader says FORMAT_FAILURE with the cause
    if not files and not _countersigns(signature):
        return Verdict(
            SubIndication.FORMAT_FAILURE,
            "chữ ký XAdES không tham chiếu tệp nào trong gói",
            "the XAdES signature references no file of the container",
        )
    properties = _signed_properties(signature)
    signed = _referenced_ids(signature)
    if properties and not any(p.get("Id") in signed for p in properties):
        return Verdict(
            SubIndication.FORMAT_FAILURE,
            "SignedProperties của XAdES không được ký (không tham chiếu nào trỏ tới nó): thời "
            "điểm ký và chứng thư số ký trong đó không được bảo vệ",
            "the XAdES SignedProperties are not signed (no reference covers them): the "
            "signing time and signing certificate they hold are unprotected",
        )
    if check.intact:
        for props in properties:
            problem = _signing_certificate_problem(props, check.signer_cert)
            if problem is not None:
                return Verdict(SubIndication.NO_SIGNING_CERTIFICATE_FOUND, *problem)
    return None


def _level(signature: Any, check: XmlSignatureCheck) -> str:
    if not _signed_properties(signature):
        return "XMLDSig"
    if check.archive_timestamps:
        return "XAdES-B-LTA"
    if check.carried_crls or check.carried_ocsps:
        return "XAdES-B-LT"
    if check.signature_timestamps:
        return "XAdES-B-T"
    return "XAdES-B-B"


async def xades_file_reports(
    xml: XmlReader,
    entry: str,
    data: bytes,
    files: Mapping[str, bytes],
    moment: datetime,
    index: int,
    proofs: Sequence[process.TimestampEvidence] = (),
) -> list[SignatureReport]:
    """A report for each ds:Signature of the XAdES file ``entry`` of a container whose
    files (by name) are ``files``; ``proofs`` are the container's timestamps over this
    file. Never raises on hostile input."""
    try:
        inspection = inspect_xml(data, detached=files)
    except XmlSignatureError as exc:
        verdict = Verdict(
            SubIndication.FORMAT_FAILURE,
            f"tệp chữ ký XAdES {entry} không đọc được ({exc.vi[:200]})",
            f"the XAdES signature file {entry} cannot be read ({short(exc)})",
        )
        return [_report(index, entry, verdict, ())]
    signatures = list(inspection.root.iter(f"{{{DS}}}Signature"))
    reports: list[SignatureReport] = []
    for n, (signature, check) in enumerate(zip(signatures, inspection.checks, strict=True)):
        covered = _file_names(signature)
        name = f"{entry}#{check.signature_id or n + 1}"
        own = _own_problem(signature, check, covered)
        if own is not None:
            reports.append(
                _report(
                    index + n,
                    name,
                    own,
                    covered,
                    integrity=False
                    if own.sub
                    in (SubIndication.SIGNED_DATA_NOT_FOUND, SubIndication.FORMAT_FAILURE)
                    else check.intact,
                    signing_time_claimed=check.claimed_signing_time,
                )
            )
            continue
        # the XML reader's judgement of one signature (the same as for a standalone file)
        report = await xml.signature_report(index + n, check, moment, None, proofs)
        reports.append(
            replace(
                report,
                field_name=name,
                covers=covered,
                level=_level(signature, check),
                coverage="DETACHED_CONTENT",
            )
        )
    return reports
