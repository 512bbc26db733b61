"""Validation data for B-LT, in one place: each certificate's path validated now with the
verifier's own :class:`~pyhanko_certvalidator.ValidationContext` (which fetches what it
lacks), and what the paths rest on gathered to be embedded.

Internal to esign: :mod:`esign.augment` (and so :mod:`esign.renew`) and :mod:`esign.asic`
collect with :func:`collect`; a CMS takes what was collected with :func:`add_to_cms`
(``SignedData.certificates`` and ``crls``, OCSP responses as RFC 5940 ``otherRevInfo``,
every other value keeping its bytes). A certificate whose revocation data cannot be had
is refused by name with each address tried (:class:`~esign.errors.ValidationDataUnavailable`),
a revoked or untrusted one with :class:`~esign.errors.SignatureNotValid`.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from asn1crypto import crl, ocsp, x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    InsufficientRevinfoError,
    PathBuildingError,
    RevokedError,
)

from esign import _cms_edit
from esign.errors import SignatureNotValid, ValidationDataUnavailable
from verify import Verifier

__all__ = [
    "Carried",
    "Collected",
    "Need",
    "add_to_cms",
    "cert_name",
    "collect",
    "context",
    "first_line",
    "has_revocation",
    "name_of",
    "validate",
]


@dataclass(frozen=True)
class Need:
    """A certificate whose path must be validated now and its validation data kept."""

    en: str
    vi: str
    cert: x509.Certificate
    others: tuple[x509.Certificate, ...]


@dataclass
class Carried:
    """Certificates and revocation values the document already holds."""

    certs: list[x509.Certificate] = field(default_factory=list)
    ocsps: list[ocsp.OCSPResponse] = field(default_factory=list)
    crls: list[crl.CertificateList] = field(default_factory=list)


@dataclass
class Collected:
    certs: list[x509.Certificate] = field(default_factory=list)
    ocsps: list[ocsp.OCSPResponse] = field(default_factory=list)
    crls: list[crl.CertificateList] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.certs or self.ocsps or self.crls)


def context(verifier: Verifier, needs: Sequence[Need], carried: Carried) -> ValidationContext:
    others = [*carried.certs, *(c for n in needs for c in n.others)]
    return verifier.validation_context(
        verifier.policy.moment(), other_certs=others, crls=carried.crls, ocsps=carried.ocsps
    )


async def collect(verifier: Verifier, needs: Sequence[Need], carried: Carried) -> Collected:
    """Validate each need's path now and gather what it rests on: every certificate of
    the paths and the revocation values fetched (and carried ones they used). A need whose
    path already has revocation data in ``carried`` is skipped."""
    vc = context(verifier, needs, carried)
    out = Collected()
    used = False
    for need in needs:
        if await _covered(vc, need, carried):
            continue
        path = await validate(vc, need, verifier)
        used = True
        for cert in path.iter_certs(include_root=True):
            if all(cert.dump() != c.dump() for c in out.certs):
                out.certs.append(cert)
    if used:
        # in a fixed order, not the order the concurrent fetches ended in: the same
        # answers make the same bytes
        out.ocsps = sorted(vc.ocsps, key=lambda o: o.dump())
        out.crls = sorted(vc.crls, key=lambda c: c.dump())
    return out


async def validate(vc: ValidationContext, need: Need, verifier: Verifier) -> Any:
    """``need``'s path validated now with ``vc`` (which keeps what it fetched)."""
    validator = CertificateValidator(
        need.cert, intermediate_certs=list(need.others), validation_context=vc
    )
    try:
        return await validator.async_validate_usage(set())  # type: ignore[no-untyped-call]
    except RevokedError as exc:
        raise SignatureNotValid(
            f"the certificate of {need.en} ({cert_name(need.cert)}) is revoked: {first_line(exc)}",
            f"chứng thư số của {need.vi} ({cert_name(need.cert)}) đã bị thu hồi: {first_line(exc)}",
        ) from exc
    except InsufficientRevinfoError as exc:
        gap = await _unavailable(vc, need, verifier)
        assert gap is not None
        raise gap from exc
    except PathBuildingError as exc:
        who, why = cert_name(need.cert), first_line(exc)
        raise SignatureNotValid(
            f"no trusted path for the certificate of {need.en} ({who}): {why}",
            f"không dựng được chuỗi tin cậy cho chứng thư số của {need.vi} ({who}): {why}",
        ) from exc
    except Exception as exc:
        gap = await _unavailable(vc, need, verifier, only_if_gap=True)
        if gap is not None:
            raise gap from exc
        raise SignatureNotValid(
            f"the certificate of {need.en} ({cert_name(need.cert)}) does not validate now: "
            f"{first_line(exc)}",
            f"chứng thư số của {need.vi} ({cert_name(need.cert)}) không hợp lệ tại thời điểm "
            f"này: {first_line(exc)}",
        ) from exc


async def _path_certs(vc: ValidationContext, need: Need) -> list[x509.Certificate]:
    """The certificates of ``need``'s path, leaf first, without its trust anchor."""
    vc.certificate_registry.register_multiple(need.others)
    try:
        paths = await vc.path_builder.async_build_paths(need.cert)
    except Exception:  # noqa: BLE001 - no path: the leaf alone
        return [need.cert]
    return list(reversed(list(paths[0].iter_certs(include_root=False))))


async def _covered(vc: ValidationContext, need: Need, carried: Carried) -> bool:
    if not (carried.ocsps or carried.crls):
        return False
    return all(has_revocation(c, carried.ocsps, carried.crls) for c in await _path_certs(vc, need))


def has_revocation(
    cert: x509.Certificate,
    ocsps: Iterable[ocsp.OCSPResponse],
    crls: Iterable[crl.CertificateList],
) -> bool:
    """Some OCSP response names ``cert`` or some CRL is its issuer's."""
    for resp in ocsps:
        try:
            basic = resp["response_bytes"]["response"].parsed
            for single in basic["tbs_response_data"]["responses"]:
                cid = single["cert_id"]
                if cid["serial_number"].native != cert.serial_number:
                    continue
                algo = cid["hash_algorithm"]["algorithm"].native
                name_hash = hashlib.new(algo, cert.issuer.dump()).digest()
                if cid["issuer_name_hash"].native == name_hash:
                    return True
        except Exception:  # noqa: BLE001, S112 - an unreadable response covers nothing
            continue
    for item in crls:
        try:
            if item["tbs_cert_list"]["issuer"].dump() == cert.issuer.dump():
                return True
        except Exception:  # noqa: BLE001, S112
            continue
    return False


async def _unavailable(
    vc: ValidationContext, need: Need, verifier: Verifier, *, only_if_gap: bool = False
) -> ValidationDataUnavailable | None:
    """The refusal naming the first certificate of ``need``'s path without revocation
    data, with each of its OCSP and CRL addresses and what happened there."""
    certs = await _path_certs(vc, need)
    lacking = next((c for c in certs if not has_revocation(c, vc.ocsps, vc.crls)), None)
    if lacking is None:
        if only_if_gap:
            return None
        lacking = need.cert
    urls = [("OCSP", u) for u in lacking.ocsp_urls] + [("CRL", u) for u in _crl_urls(lacking)]
    timeout = verifier.policy.fetch_timeout
    probed = [(kind, url, *_probe(url, timeout)) for kind, url in urls]
    issuer = name_of(lacking.issuer)
    who_en = f"the certificate {cert_name(lacking)} (issued by {issuer}), on the path of {need.en}"
    who_vi = f"chứng thư số {cert_name(lacking)} (do {issuer} cấp), trên đường dẫn của {need.vi}"
    if probed:
        where_en = "; ".join(f"{kind} {url}: {en}" for kind, url, en, _vi in probed)
        where_vi = "; ".join(f"{kind} {url}: {vi}" for kind, url, _en, vi in probed)
    else:
        where_en = "it names no OCSP responder and no CRL distribution point"
        where_vi = "chứng thư số không ghi địa chỉ OCSP hay CRL nào"
    return ValidationDataUnavailable(
        f"no revocation data can be had for {who_en}: {where_en}",
        f"không lấy được thông tin thu hồi cho {who_vi}: {where_vi}",
        certificate=cert_name(lacking),
        addresses=tuple(f"{kind} {url}: {en}" for kind, url, en, _vi in probed),
    )


def _crl_urls(cert: x509.Certificate) -> list[str]:
    urls: list[str] = []
    for point in cert.crl_distribution_points:
        urls.extend(u for u in (point.url,) if u)
    return urls


def _probe(url: str, timeout: float) -> tuple[str, str]:
    """What connecting to ``url``'s host and port gives, in English and Vietnamese."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "not a usable address", "địa chỉ không dùng được"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except ConnectionRefusedError:
        return "connection refused", "máy chủ từ chối kết nối"
    except TimeoutError:
        return f"no answer within {timeout:g} s", f"không trả lời trong {timeout:g} giây"
    except socket.gaierror:
        return "host name not found", "không tìm thấy tên máy chủ"
    except OSError as exc:
        text = exc.strerror or str(exc)
        return text, f"lỗi kết nối ({text})"
    return (
        "reachable, but no usable answer for this certificate",
        "kết nối được nhưng không có câu trả lời dùng được cho chứng thư số này",
    )


def add_to_cms(raw: bytes, collected: Collected) -> tuple[bytes, int, int]:
    return _cms_edit.add_validation_data(
        raw,
        [c.dump() for c in collected.certs],
        [c.dump() for c in collected.crls],
        [o.dump() for o in collected.ocsps],
    )


def cert_name(cert: x509.Certificate) -> str:
    return name_of(cert.subject)


def name_of(name: x509.Name) -> str:
    try:
        native = name.native
        return str(native.get("common_name") or name.human_friendly)
    except Exception:  # noqa: BLE001 - a name that cannot be read is shown as it is
        return "?"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
