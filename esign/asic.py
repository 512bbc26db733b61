"""ASiC containers (ETSI EN 319 162-1): a dossier signed once, an e-invoice timestamped.

:func:`sign_asic` packs any number of files into an **ASiC-E** container with one CAdES
signature (``META-INF/signature001.p7s``) over an ``META-INF/ASiCManifest.xml`` that lists
every file with its digest: a dossier whose parts are signed together and cannot be
changed, removed or added to unnoticed. Levels B-B, B-T (signature timestamp) and B-LT
(the signer's and the TSA's chains and their OCSP responses and CRLs in the CMS
``certificates`` and ``crls``, so that it verifies after the services are gone).

:func:`timestamp_asic_s` packs one file (an XML e-invoice, which carries no timestamp of
its own) into an **ASiC-S** container with an RFC 3161 timestamp token over it
(``META-INF/timestamp.tst``): a proof that the file existed at that time, still standing
after its signer's certificate expires. At B-LT the TSA's chain and revocation data go into
the token's own ``certificates`` and ``crls``. The container is verified with
:mod:`verify` before it is written.

The ZIP is deterministic: ``mimetype`` first, stored, no extra field; every entry dated
1980-01-01 with the same attributes, in the order given, then the manifest and signature;
the same files and signature give the same bytes. Files are streamed (1 MiB chunks) through
their digests into the container. Nothing is written unless everything succeeded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import mimetypes
import os
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import quote, unquote
from xml.sax.saxutils import quoteattr

from asn1crypto import cms, x509
from pyhanko.sign import signers
from pyhanko.sign.general import extract_certificate_info, find_unique_cms_attribute
from pyhanko.sign.timestamps import HTTPTimeStamper

from esign import _core, _ltdata
from esign.errors import (
    AugmentRefused,
    InputError,
    RevocationUnavailable,
    TimestampError,
    UsageError,
)
from esign.pdf import SignResult, signing_errors
from esign.profiles import PUBLIC, SignatureProfile
from esign.signers import KeySource
from verify import DocumentReport, RevocationMode, TrustProfile, ValidationPolicy, Verifier

__all__ = [
    "ARCHIVE_MANIFEST_NAME",
    "MANIFEST_NAME",
    "SIGNATURE_NAME",
    "TIMESTAMP_NAME",
    "AsicArchived",
    "AsicFile",
    "AsicTimestamped",
    "aarchive_asic",
    "archive_asic",
    "archive_manifest_xml",
    "asign_asic",
    "atimestamp_asic_s",
    "manifest_xml",
    "sign_asic",
    "timestamp_asic_s",
]

MIMETYPE_S = "application/vnd.etsi.asic-s+zip"
MIMETYPE_E = "application/vnd.etsi.asic-e+zip"
MANIFEST_NAME = "META-INF/ASiCManifest.xml"
SIGNATURE_NAME = "META-INF/signature001.p7s"
TIMESTAMP_NAME = "META-INF/timestamp.tst"
ARCHIVE_MANIFEST_NAME = "META-INF/ASiCArchiveManifest.xml"
_TST_MIME = "application/vnd.etsi.timestamp-token"

AsicFile = str | os.PathLike[str] | tuple[str, bytes | str | os.PathLike[str]]
"""A file to pack: a path (its name in the container is the file's name), or ``(name,
content)`` with the content as bytes or a path; a name may hold folders (``a/b.pdf``)."""

_EPOCH = (1980, 1, 1, 0, 0, 0)
_CHUNK = 1 << 20
_ASIC_NS = "http://uri.etsi.org/02918/v1.2.1#"
_DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_DIGEST_URIS = {
    "sha256": "http://www.w3.org/2001/04/xmlenc#sha256",
    "sha384": "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "sha512": "http://www.w3.org/2001/04/xmlenc#sha512",
}
# Python's own table, not the machine's /etc/mime.types: the same name gives the same type
# everywhere.
_MIME = mimetypes.MimeTypes()


@dataclass(frozen=True)
class AsicTimestamped:
    """An ASiC-S container made by :func:`timestamp_asic_s`."""

    output: Path | None
    data: bytes | None
    """The container's bytes when no output path was given; else ``None``."""
    size: int
    sha256: str
    level: str
    """``B-T`` (the token) or ``B-LT`` (with the TSA's validation data)."""
    name: str
    """The timestamped file's name in the container."""
    time: datetime
    """The time the token asserts."""
    tsa: str | None
    """The TSA certificate's common name."""
    report: DocumentReport
    """What :mod:`verify` said of the container before it was written."""


# -- inputs and the ZIP ----------------------------------------------------------------------


def _name_problem(name: str) -> str | None:
    if not name or name.endswith("/"):
        return "an empty name or a folder"
    if "\\" in name or any(not c.isprintable() for c in name):
        return "a backslash or a control character"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "an empty, '.' or '..' segment"
    if name == "mimetype" or name.upper().startswith("META-INF/"):
        return "a name the container reserves (mimetype, META-INF/)"
    return None


def _inputs(files: Sequence[AsicFile]) -> list[tuple[str, bytes | str | os.PathLike[str]]]:
    if isinstance(files, str | os.PathLike | tuple):
        raise UsageError("give the files as a list")
    out: list[tuple[str, bytes | str | os.PathLike[str]]] = []
    seen: set[str] = set()
    for item in files:
        if isinstance(item, tuple):
            name, source = item
        else:
            name, source = Path(item).name, item
        name = unicodedata.normalize("NFC", str(name))
        problem = _name_problem(name)
        if problem is not None:
            raise UsageError(f"{name!r} cannot be a name in the container: {problem}")
        if name in seen:
            raise UsageError(f"two files would be named {name!r} in the container")
        seen.add(name)
        if not isinstance(source, bytes | bytearray | memoryview):
            path = Path(source)
            if not path.is_file():
                raise InputError(f"{path}: no such file")
        out.append((name, source))
    if not out:
        raise UsageError("an ASiC container needs at least one file")
    return out


def _info(name: str, method: int, size: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = method
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    info.file_size = size
    return info


def _size(source: bytes | str | os.PathLike[str]) -> int:
    if isinstance(source, bytes | bytearray | memoryview):
        return len(source)
    return Path(source).stat().st_size


def _write_mimetype(zf: zipfile.ZipFile, mimetype: str) -> None:
    data = mimetype.encode("ascii")
    zf.writestr(_info("mimetype", zipfile.ZIP_STORED, len(data)), data)


def _write_file(
    zf: zipfile.ZipFile,
    name: str,
    source: bytes | str | os.PathLike[str],
    algorithms: Sequence[str],
) -> dict[str, bytes]:
    """Stream ``source`` into the container as ``name``; its digests."""
    hashers = {a: hashlib.new(a) for a in algorithms}
    try:
        size = _size(source)
        info = _info(name, zipfile.ZIP_DEFLATED, size)
        with (
            _core.open_input(source) as stream,
            zf.open(info, "w", force_zip64=size > 0x7FFFFFFF) as out,
        ):
            while chunk := stream.read(_CHUNK):
                for h in hashers.values():
                    h.update(chunk)
                out.write(chunk)
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    return {a: h.digest() for a, h in hashers.items()}


def _write_bytes(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    zf.writestr(_info(name, zipfile.ZIP_DEFLATED, len(data)), data)


def manifest_xml(
    references: Sequence[tuple[str, bytes]], digest: str, signature: str = SIGNATURE_NAME
) -> bytes:
    """An ASiCManifest naming ``signature`` and listing each ``(name, digest value)``."""
    method = _DIGEST_URIS[digest]
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<asic:ASiCManifest xmlns:asic="{_ASIC_NS}" xmlns:ds="{_DS_NS}">',
        f'<asic:SigReference MimeType="application/pkcs7-signature" URI={quoteattr(signature)}/>',
    ]
    for name, value in references:
        mime = _MIME.guess_type(name, strict=False)[0] or "application/octet-stream"
        parts.append(
            f"<asic:DataObjectReference MimeType={quoteattr(mime)} "
            f"URI={quoteattr(quote(name, safe='/'))}>"
            f'<ds:DigestMethod Algorithm="{method}"/>'
            f"<ds:DigestValue>{base64.b64encode(value).decode('ascii')}</ds:DigestValue>"
            "</asic:DataObjectReference>"
        )
    parts.append("</asic:ASiCManifest>")
    return "".join(parts).encode("utf-8")


def _mime_of(name: str) -> str:
    """An entry's MIME type as archive manifests name it (EU DSS's choices for META-INF)."""
    lower = name.lower()
    if lower.startswith("meta-inf/"):
        if lower.endswith(".p7s"):
            return "application/pkcs7-signature"
        if lower.endswith(".tst"):
            return _TST_MIME
        if lower.endswith(".xml"):
            return "text/xml"
    return _MIME.guess_type(name, strict=False)[0] or "application/octet-stream"


def archive_manifest_xml(
    timestamp: str,
    references: Sequence[tuple[str, bytes]],
    digest: str,
    rootfile: str | None = None,
) -> bytes:
    """An ``ASiCArchiveManifest`` (ETSI EN 319 162-1 §4.4.3, annex A): a ``SigReference``
    to the ``timestamp`` entry that covers it, then each ``(name, digest value)`` as a
    ``DataObjectReference``; the previous archive manifest, ``rootfile``, marked
    ``Rootfile="true"``."""
    method = _DIGEST_URIS[digest]
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<asic:ASiCManifest xmlns:asic="{_ASIC_NS}" xmlns:ds="{_DS_NS}">',
        f"<asic:SigReference MimeType={quoteattr(_TST_MIME)} URI={quoteattr(timestamp)}/>",
    ]
    for name, value in references:
        root = ' Rootfile="true"' if name == rootfile else ""
        parts.append(
            f"<asic:DataObjectReference MimeType={quoteattr(_mime_of(name))} "
            f"URI={quoteattr(quote(name, safe='/'))}{root}>"
            f'<ds:DigestMethod Algorithm="{method}"/>'
            f"<ds:DigestValue>{base64.b64encode(value).decode('ascii')}</ds:DigestValue>"
            "</asic:DataObjectReference>"
        )
    parts.append("</asic:ASiCManifest>")
    return "".join(parts).encode("utf-8")


def _archive_order(name: str) -> tuple[int, str]:
    """EU DSS's order: signatures, timestamps, archive manifests, manifests, data files."""
    lower = name.lower()
    if lower.startswith("meta-inf/"):
        rest = lower[len("meta-inf/") :]
        if rest.endswith(".p7s") or rest.startswith("signature"):
            return 0, name
        if rest.endswith(".tst"):
            return 1, name
        if rest.startswith("asicarchivemanifest"):
            return 2, name
        if rest.startswith("asicmanifest"):
            return 3, name
        return 4, name
    return 5, name


def _next_name(taken: set[str], stem: str, suffix: str) -> str:
    """``META-INF/<stem>NNN<suffix>``, the first number from 001 that no entry has."""
    n = 1
    while f"META-INF/{stem}{n:03}{suffix}" in taken:
        n += 1
    return f"META-INF/{stem}{n:03}{suffix}"


async def _archive_entries(
    entries: dict[str, bytes],
    digests: dict[str, bytes],
    verifier: Verifier,
    tsa_url: str,
    md: str,
    *,
    asic_s: bool = False,
) -> tuple[dict[str, str], list[tuple[str, bytes]], list[str]]:
    """The B-LTA step over a container's entries (``mimetype`` aside): the renames (an
    existing ``ASiCArchiveManifest.xml`` becomes ``ASiCArchiveManifestNNN.xml``), the new
    entries (the archive manifest over everything, then its timestamp token with its TSA's
    validation data) and the entries given validation data in place. ``digests`` holds the
    data files' digests already known; the others are computed from ``entries``.

    In an ASiC-S, as EU DSS does, a token no manifest covers yet (``META-INF/timestamp.tst``
    at the first renewal, the last archive timestamp after) first gets its TSA's chain and
    revocation data where it lacks them, in its own ``certificates`` and ``crls`` (its
    signed parts keep their bytes), so that it can still be validated at its own time once
    its TSA's certificate has expired; ``entries`` is updated with its new bytes."""
    extended: list[str] = []
    if asic_s:
        extended = await _extend_uncovered_tokens(entries, verifier)
    taken = set(entries)
    renames: dict[str, str] = {}
    rootfile = None
    if ARCHIVE_MANIFEST_NAME in entries:
        rootfile = _next_name(taken, "ASiCArchiveManifest", ".xml")
        renames[ARCHIVE_MANIFEST_NAME] = rootfile
        taken.add(rootfile)
    tst_name = _next_name(taken, "timestamp", ".tst")
    refs = []
    for name in sorted(taken - {ARCHIVE_MANIFEST_NAME}, key=_archive_order):
        source = next((old for old, new in renames.items() if new == name), name)
        value = digests.get(source)
        if value is None:
            value = hashlib.new(md, entries[source]).digest()
        refs.append((name, value))
    manifest = archive_manifest_xml(tst_name, refs, md, rootfile)
    timestamper = HTTPTimeStamper(tsa_url, timeout=int(max(verifier.policy.fetch_timeout, 1)))
    try:
        with signing_errors(tsa_url):
            token = await timestamper.async_timestamp(hashlib.new(md, manifest).digest(), md)
    except TimestampError:
        raise
    except Exception as exc:  # any TSA failure is a TimestampError
        raise TimestampError(f"{tsa_url}: timestamp failed: {exc}") from exc
    need = _ltdata.Need(
        "the TSA of the archive timestamp",
        "TSA của dấu thời gian lưu trữ",
        *_token_signer(token),
    )
    token = await _with_validation_data(verifier, token, [need])
    return (
        renames,
        [(ARCHIVE_MANIFEST_NAME, manifest), (tst_name, bytes(token.dump()))],
        extended,
    )


def _manifest_refs(raw: bytes) -> tuple[str | None, set[str]]:
    """A manifest's ``SigReference`` entry and the entries its ``DataObjectReference``s
    name (nothing when it cannot be read)."""
    from lxml import etree

    try:
        root = etree.fromstring(
            raw, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError:
        return None, set()
    sigs = [unquote(r.get("URI") or "") for r in root.iter(f"{{{_ASIC_NS}}}SigReference")]
    refs = root.iter(f"{{{_ASIC_NS}}}DataObjectReference")
    return (sigs[0] if sigs else None), {unquote(r.get("URI") or "") for r in refs}


async def _extend_uncovered_tokens(entries: dict[str, bytes], verifier: Verifier) -> list[str]:
    """Each ``META-INF/timestamp*.tst`` that no manifest lists (covers) yet, given its
    TSA's validation data where it lacks it (in ``entries``); their names."""
    named: set[str] = set()
    for name, raw in entries.items():
        if _is_manifest(name):
            named |= _manifest_refs(raw)[1]
    done = []
    for name in sorted(entries):
        lower = name.lower()
        if not (lower.startswith("meta-inf/timestamp") and lower.endswith(".tst")):
            continue
        if name in named:
            continue
        token = cms.ContentInfo.load(entries[name])
        need = _ltdata.Need(f"the TSA of {name}", f"TSA của {name}", *_token_signer(token))
        try:
            collected = await _ltdata.collect(verifier, [need], _carried(token))
        except AugmentRefused as exc:
            raise RevocationUnavailable(
                f"no validation data for {name}: {exc}",
                message_vi=f"không có dữ liệu kiểm tra cho {name}: {exc.message_vi or exc}",
            ) from exc
        if collected.empty:
            continue
        entries[name] = _ltdata.add_to_cms(entries[name], collected)[0]
        done.append(name)
    return done


def _is_manifest(name: str) -> bool:
    lower = name.lower()
    return lower.startswith(("meta-inf/asicmanifest", "meta-inf/asicarchivemanifest")) and (
        lower.endswith(".xml")
    )


def _carried(token: cms.ContentInfo) -> _ltdata.Carried:
    from verify import cms_forms, process

    sd = token["content"]
    rev = process.revocation_values(sd)
    return _ltdata.Carried(
        list(cms_forms.certificates(sd)),
        [o for o, _src in rev.ocsps],
        [c for c, _src in rev.crls],
    )


# -- validation data (B-LT) ------------------------------------------------------------------


async def _with_validation_data(
    verifier: Verifier, signed: cms.ContentInfo, needs: Sequence[_ltdata.Need]
) -> cms.ContentInfo:
    """``signed`` with what each need's path rests on (validated now with ``verifier``, see
    :mod:`esign._ltdata`) in its ``certificates`` and ``crls``; nothing signed changes."""
    try:
        collected = await _ltdata.collect(verifier, needs, _ltdata.Carried())
    except AugmentRefused as exc:  # the refusal names the certificate and the cause
        raise RevocationUnavailable(
            f"no validation data for B-LT: {exc}",
            message_vi=f"không có dữ liệu kiểm tra cho B-LT: {exc.message_vi or exc}",
        ) from exc
    raw, _certs, _revs = _ltdata.add_to_cms(bytes(signed.dump()), collected)
    return cms.ContentInfo.load(raw)


def _tsa_needs(signed: cms.ContentInfo) -> list[_ltdata.Need]:
    return [
        _ltdata.Need(
            "the TSA of the signature timestamp",
            "TSA của dấu thời gian chữ ký",
            *_token_signer(token),
        )
        for token in _tsa_tokens(signed)
    ]


def _tsa_tokens(signed: cms.ContentInfo) -> list[cms.ContentInfo]:
    tokens: list[cms.ContentInfo] = []
    for si in signed["content"]["signer_infos"]:
        for attr in si["unsigned_attrs"] or ():
            if attr["type"].native == "signature_time_stamp_token":
                tokens.extend(attr["values"])
    return tokens


def _token_signer(token: cms.ContentInfo) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    info = extract_certificate_info(token["content"])
    return info.signer_cert, tuple(info.other_certs)


# -- ASiC-E: files signed together -------------------------------------------------------------


async def asign_asic(
    files: Sequence[AsicFile],
    output: _core.Destination = None,
    signer: signers.Signer | KeySource | None = None,
    *,
    profile: SignatureProfile = PUBLIC,
    level: str | None = None,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    tsa_url: str | None = None,
    digest: str | None = None,
) -> SignResult:
    """An ASiC-E container signed once over its manifest; see :func:`sign_asic`."""
    if signer is None:
        raise UsageError("a signer is required")
    inputs = _inputs(files)
    lta = level is not None and level.upper() == "B-LTA"
    async with _core.opened(signer) as pyhanko_signer:
        plan = await _core.plan(
            pyhanko_signer,
            profile=profile,
            level="B-LT" if lta else (level or _default_level(profile, tsa_url)),
            trust=trust,
            policy=policy,
            verifier=verifier,
            tsa_url=tsa_url,
            digest=digest,
        )
        if plan.level not in ("B-B", "B-T", "B-LT"):
            raise UsageError(
                f"an ASiC-E signature supports B-B, B-T, B-LT and B-LTA, not {plan.level}"
            )
        if lta and not plan.tsa_url:
            raise UsageError("B-LTA needs a timestamp authority: give tsa_url (--tsa URL)")
        md = plan.digest if plan.digest in _DIGEST_URIS else "sha256"
        with _core.atomic_output(output) as (out, target):
            with zipfile.ZipFile(out, "w") as zf:
                _write_mimetype(zf, MIMETYPE_E)
                refs = [(n, _write_file(zf, n, src, [md])[md]) for n, src in inputs]
                manifest = manifest_xml(refs, md)
                with signing_errors(plan.tsa_url):
                    signed = await pyhanko_signer.async_sign_general_data(
                        manifest,
                        plan.digest,
                        detached=True,
                        use_cades=True,
                        timestamper=plan.timestamper(),
                    )
                if plan.level == "B-LT":
                    signer_need = _ltdata.Need(
                        f"the signer {plan.identity.name}",
                        f"người ký {plan.identity.name}",
                        plan.cert,
                        tuple(plan.chain),
                    )
                    signed = await _with_validation_data(
                        plan.verifier, signed, [signer_need, *_tsa_needs(signed)]
                    )
                _write_bytes(zf, MANIFEST_NAME, manifest)
                _write_bytes(zf, SIGNATURE_NAME, signed.dump())
                if lta:
                    assert plan.tsa_url is not None
                    metadata = {MANIFEST_NAME: manifest, SIGNATURE_NAME: bytes(signed.dump())}
                    _renames, added, _extended = await _archive_entries(
                        {**dict.fromkeys((n for n, _src in inputs), b""), **metadata},
                        dict(refs),
                        plan.verifier,
                        plan.tsa_url,
                        md,
                    )
                    for name, value in added:
                        _write_bytes(zf, name, value)
            data, size, sha = _finish(out, keep=output is None)
    return SignResult(
        output=target,
        data=data,
        size=size,
        sha256=sha,
        level="B-LTA" if lta else plan.level,
        profile=profile.name,
        field_name=None,
        signer=plan.identity,
        check=plan.check,
        signing_time=_signing_time(signed),
    )


def sign_asic(
    files: Sequence[AsicFile],
    output: _core.Destination = None,
    signer: signers.Signer | KeySource | None = None,
    *,
    profile: SignatureProfile = PUBLIC,
    level: str | None = None,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    tsa_url: str | None = None,
    digest: str | None = None,
) -> SignResult:
    """Pack ``files`` into an ASiC-E container with one CAdES signature over its manifest.

    ``files`` lists paths (named in the container by their file name) or ``(name,
    content)`` pairs. ``output`` is a path, a binary stream or ``None`` (the container's
    bytes in ``SignResult.data``). ``level`` is ``B-B``, ``B-T`` or ``B-LT`` (default: B-T
    when a TSA is known, else B-B). The certificate is checked exactly as for
    :func:`esign.sign_pdf` before anything is written; B-LT refuses with
    :class:`~esign.errors.RevocationUnavailable` (naming the certificate) when a chain's
    revocation data cannot be had. The output is written atomically.
    """
    return asyncio.run(
        asign_asic(
            files,
            output,
            signer,
            profile=profile,
            level=level,
            trust=trust,
            policy=policy,
            verifier=verifier,
            tsa_url=tsa_url,
            digest=digest,
        )
    )


# -- ASiC-S: one file timestamped ----------------------------------------------------------


async def atimestamp_asic_s(
    file: AsicFile,
    output: _core.Destination = None,
    *,
    profile: SignatureProfile = PUBLIC,
    level: str | None = None,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    tsa_url: str | None = None,
    digest: str | None = None,
) -> AsicTimestamped:
    """An ASiC-S container with a timestamp token over one file; see :func:`timestamp_asic_s`."""
    ((name, source),) = _inputs([file])
    lvl = _core.check_level(level or "B-T")
    if lvl not in ("B-T", "B-LT"):
        raise UsageError(f"an ASiC-S timestamp is B-T or B-LT, not {lvl}")
    tsa = tsa_url or profile.default_tsa
    if not tsa:
        raise UsageError(
            f"a timestamp needs a timestamp authority: give tsa_url (the {profile.name} "
            "profile has no default TSA)"
        )
    v = _core.resolve_verifier(profile, trust, policy, verifier)
    if lvl == "B-LT" and v.policy.revocation is RevocationMode.OFF:
        raise UsageError("level B-LT embeds revocation information: revocation cannot be off")
    md = (digest or profile.default_digest).lower()
    if md not in _DIGEST_URIS:
        raise UsageError(f"digest {md!r}: choose one of {', '.join(_DIGEST_URIS)}")
    timestamper = HTTPTimeStamper(tsa, timeout=int(max(v.policy.fetch_timeout, 1)))
    with _core.atomic_output(output) as (out, target):
        with zipfile.ZipFile(out, "w") as zf:
            _write_mimetype(zf, MIMETYPE_S)
            value = _write_file(zf, name, source, [md])[md]
            try:
                with signing_errors(tsa):
                    token = await timestamper.async_timestamp(value, md)
            except TimestampError:
                raise
            except Exception as exc:  # any TSA failure is a TimestampError
                raise TimestampError(f"{tsa}: timestamp failed: {exc}") from exc
            if lvl == "B-LT":
                tsa_need = _ltdata.Need("the TSA", "TSA", *_token_signer(token))
                token = await _with_validation_data(v, token, [tsa_need])
            _write_bytes(zf, TIMESTAMP_NAME, token.dump())
        out.seek(0)
        report = await v.averify(out.read(v.policy.max_file_size + 1))
        if not report.passed:
            raise TimestampError(
                f"{tsa}: the timestamped container does not verify: {report.message_en}"
            )
        data, size, sha = _finish(out, keep=output is None)
    tst = token["content"]["encap_content_info"]["content"].parsed
    signer_cert, _ = _token_signer(token)
    return AsicTimestamped(
        output=target,
        data=data,
        size=size,
        sha256=sha,
        level=lvl,
        name=name,
        time=tst["gen_time"].native,
        tsa=signer_cert.subject.native.get("common_name"),
        report=report,
    )


def timestamp_asic_s(
    file: AsicFile,
    output: _core.Destination = None,
    *,
    profile: SignatureProfile = PUBLIC,
    level: str | None = None,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    tsa_url: str | None = None,
    digest: str | None = None,
) -> AsicTimestamped:
    """Pack one file (e.g. a signed XML e-invoice) into an ASiC-S container with an RFC 3161
    timestamp token over it: a proof of existence that outlives its signer's certificate.

    ``file`` is a path or a ``(name, content)`` pair; ``output`` a path, a binary stream or
    ``None`` (bytes in ``.data``). ``tsa_url`` defaults to the profile's TSA. ``level``
    ``B-T`` (default) or ``B-LT`` (the TSA's chain, OCSP responses and CRLs in the token).
    The container is verified with ``verify`` (``trust``/``policy``/``verifier``, the
    profile's by default) before it is written; a TSA that fails or is not trusted raises
    :class:`~esign.errors.TimestampError` and leaves nothing behind.
    """
    return asyncio.run(
        atimestamp_asic_s(
            file,
            output,
            profile=profile,
            level=level,
            trust=trust,
            policy=policy,
            verifier=verifier,
            tsa_url=tsa_url,
            digest=digest,
        )
    )


def _default_level(profile: SignatureProfile, tsa_url: str | None) -> str:
    return "B-T" if (tsa_url or profile.default_tsa) else "B-B"


# -- ASiC-E and ASiC-S: an archive timestamp over a container (B-LTA, renewal) ------------


@dataclass(frozen=True)
class AsicArchived:
    """An ASiC-E or ASiC-S container given a new archive manifest and timestamp by
    :func:`archive_asic`."""

    output: Path | None
    data: bytes | None
    """The container's bytes when no output path was given; else ``None``."""
    size: int
    sha256: str
    manifest: str
    """The new archive manifest's entry (always ``META-INF/ASiCArchiveManifest.xml``)."""
    timestamp: str
    """The new timestamp token's entry (``META-INF/timestampNNN.tst``)."""
    renamed: tuple[tuple[str, str], ...]
    """Entries renamed: the previous archive manifest, to ``ASiCArchiveManifestNNN.xml``."""
    report: DocumentReport
    """What :mod:`verify` said of the container before anything was added."""
    container: str = "ASiC-E"
    """``ASiC-E`` or ``ASiC-S``."""
    extended: tuple[str, ...] = ()
    """Timestamp tokens given their TSA's validation data in place (an ASiC-S's
    ``META-INF/timestamp.tst`` at its first renewal)."""


async def aarchive_asic(
    input: str | os.PathLike[str] | bytes,
    output: _core.Destination = None,
    *,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    tsa_url: str | None = None,
    digest: str | None = None,
) -> AsicArchived:
    """A new archive manifest and timestamp over an ASiC-E or ASiC-S container; see
    :func:`archive_asic`."""
    try:
        data = input if isinstance(input, bytes) else Path(input).read_bytes()
    except OSError as exc:
        raise InputError(f"{input!s}: cannot read: {exc.strerror or exc}") from exc
    tsa = tsa_url or profile.default_tsa
    if not tsa:
        raise UsageError("an archive timestamp needs a timestamp authority: give tsa_url (--tsa)")
    v = _core.resolve_verifier(profile, trust, policy, verifier)
    if v.policy.revocation is RevocationMode.OFF:
        raise UsageError("B-LTA embeds revocation information: revocation cannot be off")
    md = (digest or profile.default_digest).lower()
    if md not in _DIGEST_URIS:
        raise UsageError(f"digest {md!r}: choose one of {', '.join(_DIGEST_URIS)}")
    container = _read_container(data)
    report = await v.averify(data)
    if not report.passed:
        raise TimestampError(
            "the container does not verify now, so no archive timestamp is added: "
            f"{report.message_en}",
            message_vi="hồ sơ ASiC không hợp lệ tại thời điểm này nên không thêm dấu thời "
            f"gian lưu trữ: {report.message_vi}",
        )
    renames, added, extended = await _archive_entries(
        container.entries, {}, v, tsa, md, asic_s=container.asic_s
    )
    with _core.atomic_output(output) as (out, target):
        _write_archived(out, container, renames, added)
        kept, size, sha = _finish(out, keep=output is None)
    return AsicArchived(
        output=target,
        data=kept,
        size=size,
        sha256=sha,
        manifest=added[0][0],
        timestamp=added[1][0],
        renamed=tuple(renames.items()),
        report=report,
        container="ASiC-S" if container.asic_s else "ASiC-E",
        extended=tuple(extended),
    )


def archive_asic(
    input: str | os.PathLike[str] | bytes,
    output: _core.Destination = None,
    *,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    tsa_url: str | None = None,
    digest: str | None = None,
) -> AsicArchived:
    """Bring an ASiC-E container with CAdES to B-LTA, or renew its archive timestamp; or
    renew the time assertion of an ASiC-S container made by :func:`timestamp_asic_s`
    (ETSI EN 319 162-1 §4.4.3, annex A; entries named as EU DSS names them).

    The container is verified first (it must pass now: a timestamp of its chain that no
    longer validates is not covered over). A previous
    ``META-INF/ASiCArchiveManifest.xml`` is renamed ``ASiCArchiveManifestNNN.xml`` (its
    bytes, which its timestamp covers, unchanged); a new ``ASiCArchiveManifest.xml`` lists
    every entry (signatures, timestamps, manifests, the renamed one as ``Rootfile``, data
    files) with its digest and names its timestamp in a ``SigReference``; the new
    ``META-INF/timestampNNN.tst`` is an RFC 3161 token over the manifest's bytes, with its
    TSA's chain and revocation data in its ``certificates`` and ``crls``. In an ASiC-S the
    first renewal also puts the TSA's validation data into ``META-INF/timestamp.tst``
    (unsigned fields only; EU DSS does the same). Every other entry keeps its bytes. An
    earlier archive manifest that left out a timestamp or the data file is closed over:
    the new manifest lists everything.
    ``output`` as for :func:`sign_asic` (it may be the input's path).
    """
    return asyncio.run(
        aarchive_asic(
            input,
            output,
            profile=profile,
            trust=trust,
            policy=policy,
            verifier=verifier,
            tsa_url=tsa_url,
            digest=digest,
        )
    )


def _write_archived(
    out: IO[bytes],
    container: _Container,
    renames: dict[str, str],
    added: Sequence[tuple[str, bytes]],
) -> None:
    """The container again: ``mimetype``, every entry in its order (renamed where
    ``renames`` says, bytes as in ``container.entries``), then the ``added`` ones."""
    with zipfile.ZipFile(out, "w") as zf:
        _write_mimetype(zf, container.mimetype)
        for name in container.order:
            _write_bytes(zf, renames.get(name, name), container.entries[name])
        for name, value in added:
            _write_bytes(zf, name, value)


async def _rearchived(
    data: bytes, verifier: Verifier, tsa_url: str, digest: str
) -> tuple[bytes, str, str, dict[str, str], list[str]]:
    """For :mod:`esign.renew`: ``data`` (an ASiC container, verified by the caller) with a
    new archive manifest and timestamp; also the new entries' names, the renames and the
    tokens given validation data in place."""
    md = digest if digest in _DIGEST_URIS else "sha256"
    container = _read_container(data)
    renames, added, extended = await _archive_entries(
        container.entries, {}, verifier, tsa_url, md, asic_s=container.asic_s
    )
    out = io.BytesIO()
    _write_archived(out, container, renames, added)
    return out.getvalue(), added[0][0], added[1][0], renames, extended


def _is_asice(data: bytes) -> bool:
    """``data`` is a ZIP whose first entry is an ASiC-E ``mimetype``."""
    return data[:4] == b"PK\x03\x04" and MIMETYPE_E.encode("ascii") in data[30:120]


def _is_asic(data: bytes) -> bool:
    """``data`` is a ZIP whose first entry is an ASiC-E or ASiC-S ``mimetype``."""
    head = data[30:120]
    return data[:4] == b"PK\x03\x04" and (
        MIMETYPE_E.encode("ascii") in head or MIMETYPE_S.encode("ascii") in head
    )


@dataclass(frozen=True)
class _Container:
    """A container's entries (``mimetype`` aside), their order and its type."""

    entries: dict[str, bytes]
    order: list[str]
    mimetype: str

    @property
    def asic_s(self) -> bool:
        return self.mimetype == MIMETYPE_S


def _read_container(data: bytes) -> _Container:
    """The entries of an ASiC-E container with CAdES, or of an ASiC-S container with a
    time assertion; anything else is refused with the reason."""
    container = _read_entries(data)
    order = container.order
    if container.asic_s:
        _check_asic_s(order)
    elif not any(
        n.lower().startswith("meta-inf/signature") and n.lower().endswith(".p7s") for n in order
    ):
        raise InputError(
            "the ASiC-E container holds no CAdES signature (META-INF/signature*.p7s): archive "
            "manifests are for ASiC-E with CAdES (XAdES keeps its archive timestamps inside)",
            message_vi="gói ASiC-E không có chữ ký CAdES (META-INF/signature*.p7s): bảng kê "
            "lưu trữ chỉ dành cho ASiC-E với CAdES (XAdES giữ dấu thời gian lưu trữ bên trong "
            "chữ ký)",
        )
    return container


def _read_entries(data: bytes) -> _Container:
    """Any ASiC container's entries (``mimetype`` aside), their order and its type; a ZIP
    that is not one is refused with the reason."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            if not names or names[0] != "mimetype":
                raise InputError(
                    "not an ASiC container: the first entry is not mimetype",
                    message_vi="không phải gói ASiC: mục đầu tiên không phải mimetype",
                )
            mimetype = zf.read("mimetype").decode("ascii", "replace").strip()
            if mimetype not in (MIMETYPE_E, MIMETYPE_S):
                raise InputError(
                    "not an ASiC container (its mimetype is neither asic-e nor asic-s)",
                    message_vi="không phải gói ASiC (mimetype không phải asic-e hay asic-s)",
                )
            order = [n for n in names if n != "mimetype" and not n.endswith("/")]
            if len(set(order)) != len(order):
                raise InputError(
                    "the container names an entry twice",
                    message_vi="gói có một mục mang hai lần cùng tên",
                )
            entries = {n: zf.read(n) for n in order}
    except zipfile.BadZipFile as exc:
        raise InputError(
            f"not a readable ASiC container: {exc}",
            message_vi=f"gói ASiC không đọc được: {exc}",
        ) from exc
    return _Container(entries, order, mimetype)


def _check_asic_s(order: Sequence[str]) -> None:
    """An ASiC-S is renewed by archive manifest only when it is a time assertion over one
    file (EN 319 162-1 §4.3.2; EU DSS does the same): one data file, a
    ``META-INF/timestamp*.tst``, no signature."""
    data_files = [n for n in order if not n.upper().startswith("META-INF/")]
    if len(data_files) != 1:
        raise InputError(
            f"an ASiC-S container holds exactly one data file; this one holds {len(data_files)}",
            message_vi=f"gói ASiC-S phải có đúng một tệp dữ liệu, gói này có {len(data_files)}",
        )
    lower = [n.lower() for n in order]
    if any(n.startswith("meta-inf/signature") for n in lower):
        raise InputError(
            "the ASiC-S container holds a signature: its long-term proof goes inside the "
            "signature (augment the signature to B-LTA), not in an archive manifest",
            message_vi="gói ASiC-S có chữ ký: bằng chứng dài hạn nằm trong chữ ký (nâng chữ ký "
            "lên B-LTA), không nằm trong bảng kê lưu trữ",
        )
    if not any(n.startswith("meta-inf/timestamp") and n.endswith(".tst") for n in lower):
        raise InputError(
            "the ASiC-S container holds no timestamp (META-INF/timestamp.tst): there is no "
            "proof to renew; make one with timestamp_asic_s (esign asic --timestamp-only)",
            message_vi="gói ASiC-S không có dấu thời gian (META-INF/timestamp.tst): không có "
            "bằng chứng nào để gia hạn; hãy tạo bằng esign asic --timestamp-only",
        )


def _finish(out: IO[bytes], *, keep: bool) -> tuple[bytes | None, int, str]:
    """The container's bytes (when kept), size and SHA-256, read back from ``out``."""
    out.seek(0)
    h = hashlib.sha256()
    parts: list[bytes] = []
    size = 0
    while chunk := out.read(_CHUNK):
        h.update(chunk)
        size += len(chunk)
        if keep:
            parts.append(chunk)
    out.seek(0, os.SEEK_END)
    return (b"".join(parts) if keep else None), size, h.hexdigest()


def _signing_time(signed: cms.ContentInfo) -> datetime:
    try:
        info = signed["content"]["signer_infos"][0]
        value = find_unique_cms_attribute(info["signed_attrs"], "signing_time").native
        return value if isinstance(value, datetime) else datetime.now(UTC)
    except Exception:  # noqa: BLE001 - the time is informative only
        return datetime.now(UTC)
