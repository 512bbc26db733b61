"""Shared plumbing: pre-sign checks, timestampers, validation contexts, atomic output.

Internal: the public entry points are :mod:`esign.pdf` and :mod:`esign.cms`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from asn1crypto import x509
from pyhanko.sign.signers import Signer
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext

from esign.errors import (
    CertificateRefused,
    CertificateRevoked,
    InputError,
    RefusalCause,
    RevocationUnavailable,
    UsageError,
    WrongProfile,
)
from esign.profiles import LEVELS, Level, SignatureProfile
from esign.signers import KeySource, signer_chain
from verify import (
    CertificateCheck,
    RevocationMode,
    SignerIdentity,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    Verifier,
)


def check_level(level: str) -> Level:
    norm = level.strip().upper()
    if not norm.startswith("B-"):
        norm = "B-" + norm.removeprefix("PADES-").removeprefix("CADES-")
    for known in LEVELS:
        if known == norm:
            return known
    raise UsageError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")


@dataclass(frozen=True)
class Plan:
    """What one signing operation will do, decided before anything is produced."""

    profile: SignatureProfile
    level: Level
    verifier: Verifier
    check: CertificateCheck
    identity: SignerIdentity
    tsa_url: str | None
    digest: str
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    def timestamper(self) -> HTTPTimeStamper | None:
        if self.level == "B-B" or self.tsa_url is None:
            return None
        return HTTPTimeStamper(
            self.tsa_url, timeout=int(max(self.verifier.policy.fetch_timeout, 1))
        )

    def validation_context(self) -> ValidationContext:
        # the verifier's own: its revocation cache, its policy (verify is the one place)
        return self.verifier.validation_context(other_certs=self.chain)


def resolve_verifier(
    profile: SignatureProfile,
    trust: TrustProfile | None,
    policy: ValidationPolicy | None,
    verifier: Verifier | None,
) -> Verifier:
    if verifier is not None:
        if trust is not None or policy is not None:
            raise UsageError("give either verifier= or trust=/policy=, not both")
        return verifier
    return profile.verifier(trust, policy)


async def plan(
    signer: Signer,
    *,
    profile: SignatureProfile,
    level: str | None,
    trust: TrustProfile | None,
    policy: ValidationPolicy | None,
    verifier: Verifier | None,
    tsa_url: str | None,
    digest: str | None,
) -> Plan:
    """Decide level, TSA and digest, and refuse a certificate that would not verify."""
    lvl = check_level(level or profile.default_level)
    v = resolve_verifier(profile, trust, policy, verifier)
    tsa = tsa_url or profile.default_tsa
    if lvl != "B-B" and not tsa:
        raise UsageError(
            f"level {lvl} needs a timestamp authority: give tsa_url "
            f"(the {profile.name} profile has no default TSA)"
        )
    if lvl in ("B-LT", "B-LTA") and v.policy.revocation is RevocationMode.OFF:
        raise UsageError(f"level {lvl} embeds revocation information: revocation cannot be off")
    md = (digest or profile.default_digest).lower()
    cert, chain = signer_chain(signer)
    try:
        check = await profile.acheck_certificate(cert, chain, verifier=v, digest=md)
    except CertificateRefused as exc:
        raise await explain_refusal(exc, profile, cert, chain, v) from exc
    identity = check.signer or SignerIdentity.from_certificate(cert, profile=check.profile)
    return Plan(profile, lvl, v, check, identity, tsa, md, cert, tuple(chain))


# -- why a certificate was refused ---------------------------------------------------------------

_REVOCATION_SUBS = frozenset(
    {
        SubIndication.TRY_LATER,
        SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
        SubIndication.GENERIC,
        SubIndication.REVOKED,
        SubIndication.REVOKED_NO_POE,
        SubIndication.REVOKED_CA_NO_POE,
    }
)
_REASONS_VI = {
    "unspecified": "không nêu lý do",
    "key_compromise": "lộ khóa bí mật",
    "ca_compromise": "lộ khóa của tổ chức cấp",
    "affiliation_changed": "thay đổi thông tin tổ chức",
    "superseded": "đã được thay thế",
    "cessation_of_operation": "ngừng hoạt động",
    "certificate_hold": "tạm dừng",
    "privilege_withdrawn": "bị rút quyền",
}


async def explain_refusal(
    exc: CertificateRefused,
    profile: SignatureProfile,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    verifier: Verifier,
) -> CertificateRefused:
    """The refusal again, with the cause the validation found, in English and Vietnamese.

    For a revocation problem (revoked, or no answer) each certificate of the path is asked
    about once more through the verifier's own fetchers (answers that came back are in its
    cache; failures are tried again): the revoked one is named with its date, reason and
    the OCSP responder or CRL that said so; an OCSP responder or CRL that cannot be reached
    is named with the network error. A refusal that only revocation can explain and whose
    every source failed becomes :class:`RevocationUnavailable`. A chain that reaches no
    anchor names the certificate it ends at.
    """
    check = exc.check
    sub = check.sub_indication if check is not None else None
    path = _path(cert, chain)
    causes: list[RefusalCause] = []
    cls: type[CertificateRefused] = type(exc)
    if (
        check is not None
        and sub in _REVOCATION_SUBS
        and cls
        in (
            CertificateRefused,
            CertificateRevoked,
            RevocationUnavailable,
        )
    ):
        revoked, failed = await _ask_revocation(path, verifier)
        if revoked:
            causes, cls = revoked, CertificateRevoked
        elif failed:
            causes = failed
            if cls is CertificateRefused and sub is not SubIndication.REVOKED:
                cls = RevocationUnavailable
    elif isinstance(exc, WrongProfile) and path:
        end = path[-1]
        root = _self_issued(end)
        anchors_en = f"the trust anchors of the {profile.name} profile"
        anchors_vi = f"danh sách gốc tin cậy của hồ sơ chữ ký «{profile.name}»"
        causes.append(
            RefusalCause(
                *_about(end),
                "",
                f"this root is not among {anchors_en}"
                if root
                else f"the chain stops here: its issuer is not known, nor among {anchors_en}",
                f"chứng thư gốc này không có trong {anchors_vi}"
                if root
                else f"chuỗi chứng thư dừng ở đây: không tìm thấy tổ chức cấp, không có trong "
                f"{anchors_vi}",
            )
        )
    if not causes and cls is type(exc):
        if exc.message_vi and not exc.message_vi.startswith(exc.title_vi):
            return exc
        return cls(str(exc), check=check, message_vi=_vi_sentence(cls, exc, cert, check, profile))
    en = str(exc).replace(" (no further detail)", "")
    if causes:
        en = f"{en.rstrip('.')}; cause: " + "; ".join(c.text("en") for c in causes)
    vi = _vi_sentence(cls, exc, cert, check, profile).replace(" (không rõ lý do)", "")
    if causes:
        vi = f"{vi.rstrip('.')}; nguyên nhân: " + "; ".join(c.text("vi") for c in causes)
    return cls(en, check=check, message_vi=vi, causes=causes)


def _vi_sentence(
    cls: type[CertificateRefused],
    exc: CertificateRefused,
    cert: x509.Certificate,
    check: CertificateCheck | None,
    profile: SignatureProfile,
) -> str:
    who = f"chứng thư số '{_name_of(cert.subject)}'"
    if check is not None and check.ok and isinstance(exc, WrongProfile):
        found = check.profile or "không rõ"
        detail = (
            f"chuỗi chứng thư kết thúc ở gốc tin cậy của hệ thống «{found}», không phải hệ "
            f"thống «{profile.hierarchy}» mà hồ sơ chữ ký «{profile.name}» yêu cầu"
        )
    elif check is not None:
        detail = check.message_vi
    else:
        detail = str(exc).split(": ", 1)[-1]  # a local check: the English detail, named
    return f"{cls.title_vi} ({who}): {detail}"


def _self_issued(cert: x509.Certificate) -> bool:
    return bool(cert.subject.dump() == cert.issuer.dump())


def _path(cert: x509.Certificate, chain: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """``cert`` and its issuers among ``chain``, signer first (as far as they go)."""
    out = [cert]
    pool = list(chain)
    while not _self_issued(out[-1]) and len(out) < 16:
        issuer = next(
            (c for c in pool if c.subject.dump() == out[-1].issuer.dump() and c not in out), None
        )
        if issuer is None:
            break
        out.append(issuer)
    return out


def _name_of(name: x509.Name) -> str:
    try:
        native = name.native
        cn = native.get("common_name") if isinstance(native, dict) else None
    except Exception:  # noqa: BLE001 - a name is only for the message
        cn = None
    if isinstance(cn, list):
        cn = cn[0] if cn else None
    return str(cn) if cn else str(name.human_friendly)


def _about(cert: x509.Certificate) -> tuple[str, str, str]:
    """(name, serial, issuer) of ``cert``, the first three fields of a :class:`RefusalCause`."""
    return _name_of(cert.subject), f"{cert.serial_number:X}", _name_of(cert.issuer)


async def _ask_revocation(
    path: Sequence[x509.Certificate], verifier: Verifier
) -> tuple[list[RefusalCause], list[RefusalCause]]:
    """(revocations found, sources that failed) for every certificate of ``path`` but the root."""
    from pyhanko_certvalidator.authority import AuthorityWithCert
    from pyhanko_certvalidator.errors import CRLFetchError, OCSPFetchError

    vc = verifier.validation_context(other_certs=path)
    manager = vc.revinfo_manager
    revoked: list[RefusalCause] = []
    failed: list[RefusalCause] = []
    if not vc.fetching_allowed:
        for cert in path[:-1] if len(path) > 1 else path:
            if cert.ocsp_urls or _crl_urls(cert):
                failed.append(
                    RefusalCause(
                        *_about(cert),
                        "",
                        "fetching revocation data is off (offline policy) and none was given",
                        "chính sách không cho tải thông tin thu hồi và không có sẵn thông tin nào",
                    )
                )
        return revoked, failed
    for cert, issuer in itertools.pairwise(path):
        who = _about(cert)
        ocsp_urls = [str(u) for u in cert.ocsp_urls]
        crl_urls = _crl_urls(cert)
        problems: list[RefusalCause] = []
        if ocsp_urls:
            source = f"OCSP {', '.join(ocsp_urls)}"
            try:
                answers = await manager.async_retrieve_ocsps(cert, AuthorityWithCert(issuer))
            except OCSPFetchError as exc:
                problems.append(
                    RefusalCause(*who, _source(exc, "OCSP", source), *_network_error(exc))
                )
            except Exception as exc:  # noqa: BLE001 - a broken answer is named, not raised
                problems.append(RefusalCause(*who, source, _first(exc), _first(exc)))
            else:
                found = _ocsp_revocation(cert, [a.ocsp_response_data for a in answers])
                if found is not None:
                    revoked.append(RefusalCause(*who, source, *found))
                    continue
                if answers:
                    continue  # a good answer: this certificate is not the cause
        if crl_urls:
            source = f"CRL {', '.join(crl_urls)}"
            try:
                crls = await manager.fetch_crls(cert)
            except CRLFetchError as exc:
                problems.append(
                    RefusalCause(*who, _source(exc, "CRL", source), *_network_error(exc))
                )
            except Exception as exc:  # noqa: BLE001
                problems.append(RefusalCause(*who, source, _first(exc), _first(exc)))
            else:
                found = _crl_revocation(cert, [c.crl_data for c in crls])
                if found is not None:
                    revoked.append(RefusalCause(*who, source, *found))
                    continue
                if crls:
                    continue
        if not ocsp_urls and not crl_urls:
            problems.append(
                RefusalCause(
                    *who,
                    "",
                    "it names no OCSP responder and no CRL distribution point",
                    "chứng thư số không ghi địa chỉ OCSP hay CRL nào",
                )
            )
        failed.extend(problems)
    return revoked, failed


def _source(exc: BaseException, kind: str, default: str) -> str:
    """The address a fetch error names (pyHanko's message carries it), else ``default``."""
    import re

    found = re.search(r"https?://\S+", str(exc))
    return f"{kind} {found.group(0).rstrip('.,;')}" if found else default


def _crl_urls(cert: x509.Certificate) -> list[str]:
    urls: list[str] = []
    for point in cert.crl_distribution_points:
        url = point.url
        if url:
            urls.append(str(url))
    return urls


def _when(moment: Any) -> str:
    return f"{moment:%d/%m/%Y}" if moment is not None else "?"


def _reason(raw: Any) -> tuple[str, str]:
    name = str(raw) if raw else "unspecified"
    return name.replace("_", " "), _REASONS_VI.get(name, name.replace("_", " "))


def _ocsp_revocation(cert: x509.Certificate, answers: Sequence[Any]) -> tuple[str, str] | None:
    for answer in answers:
        try:
            basic = answer["response_bytes"]["response"].parsed
            for single in basic["tbs_response_data"]["responses"]:
                if single["cert_id"]["serial_number"].native != cert.serial_number:
                    continue
                status = single["cert_status"]
                if status.name != "revoked":
                    continue
                info = status.chosen
                en_reason, vi_reason = _reason(info["revocation_reason"].native)
                when = _when(info["revocation_time"].native)
                return f"revoked on {when} ({en_reason})", f"bị thu hồi ngày {when} ({vi_reason})"
        except Exception:  # noqa: BLE001, S112 - an unreadable answer says nothing
            continue
    return None


def _crl_revocation(cert: x509.Certificate, lists: Sequence[Any]) -> tuple[str, str] | None:
    for item in lists:
        try:
            if item["tbs_cert_list"]["issuer"].dump() != cert.issuer.dump():
                continue
            for entry in item["tbs_cert_list"]["revoked_certificates"]:
                if entry["user_certificate"].native != cert.serial_number:
                    continue
                raw_reason = None
                for ext in entry["crl_entry_extensions"]:
                    if ext["extn_id"].native == "crl_reason":
                        raw_reason = ext["extn_value"].native
                en_reason, vi_reason = _reason(raw_reason)
                when = _when(entry["revocation_date"].native)
                return f"revoked on {when} ({en_reason})", f"bị thu hồi ngày {when} ({vi_reason})"
        except Exception:  # noqa: BLE001, S112
            continue
    return None


def _first(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _network_error(exc: BaseException) -> tuple[str, str]:
    """What a failed fetch ran into, in English and Vietnamese (the innermost cause)."""
    import re

    import requests

    inner: BaseException = exc
    while inner.__cause__ is not None or inner.__context__ is not None:
        nxt = inner.__cause__ or inner.__context__
        assert nxt is not None
        inner = nxt
        if isinstance(inner, requests.RequestException):
            break
    text = str(inner)
    if isinstance(inner, requests.Timeout) or "timed out" in text.lower():
        return "no answer in time", "không trả lời kịp thời"
    errno = re.search(r"\[Errno (-?\d+)\] ([^'\")\]]+)", text)
    if "Connection refused" in text:
        return "connection refused", "máy chủ từ chối kết nối"
    if (
        "Name or service not known" in text
        or "nodename nor servname" in text
        or (errno is not None and errno.group(1) in ("-2", "-3", "-5"))
    ):
        return "host name not found", "không tìm thấy tên máy chủ"
    status = re.search(r"status code (\d{3})|HTTP (\d{3})", text)
    if status is not None:
        code = status.group(1) or status.group(2)
        return f"the server answered HTTP {code}", f"máy chủ trả lời lỗi HTTP {code}"
    if errno is not None:
        return errno.group(2).strip(), f"lỗi kết nối ({errno.group(2).strip()})"
    detail = _first(inner)
    return detail, f"lỗi ({detail})"


@contextlib.asynccontextmanager
async def opened(signer: Signer | KeySource) -> AsyncIterator[Signer]:
    """A pyHanko Signer, opening a remote key source in the running loop if needed."""
    if isinstance(signer, Signer):
        yield signer
        return
    if isinstance(signer, KeySource):
        async with signer.open() as s:
            yield s
        return
    raise UsageError(
        f"expected a pyHanko Signer or an esign key source, got {type(signer).__name__}"
    )


Destination = str | os.PathLike[str] | IO[bytes] | None


@contextlib.contextmanager
def atomic_output(dest: Destination) -> Iterator[tuple[IO[bytes], Path | None]]:
    """A writable binary stream that becomes ``dest`` only if the block succeeds.

    For a path: a temporary file in the same folder, renamed over ``dest`` at the end and
    removed on any failure, so no partial file is ever left. For a stream: written to a
    temporary file first and copied on success. For ``None``: a temporary file whose
    bytes the caller reads before the block ends.
    """
    target: Path | None = None
    if isinstance(dest, str | os.PathLike):
        target = Path(dest)
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.is_dir():
            raise InputError(f"{target}: the folder {folder} does not exist")
    else:
        folder = Path(tempfile.gettempdir())
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".esign-", suffix=".part", dir=folder)
    except OSError as exc:
        raise InputError(f"{target or folder}: cannot write: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    ok = False
    try:
        with os.fdopen(fd, "w+b") as stream:
            yield stream, target
            stream.flush()
            if target is None and dest is not None:
                stream.seek(0)
                while chunk := stream.read(1 << 20):
                    dest.write(chunk)  # type: ignore[union-attr]
            elif target is not None:
                os.fsync(stream.fileno())
        if target is not None:
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        ok = True
    finally:
        if not ok or target is None:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def open_input(source: str | os.PathLike[str] | bytes | IO[bytes]) -> Any:
    """A readable binary stream for ``source``; :class:`InputError` if it cannot be read."""
    import io

    if isinstance(source, bytes | bytearray | memoryview):
        return contextlib.nullcontext(io.BytesIO(bytes(source)))
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            return path.open("rb")
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return contextlib.nullcontext(source)
