"""Two-phase (external) signing for browser plugins and tokens the server cannot reach.

Phase one (:meth:`TwoPhaseSigner.prepare`): the server prepares the PDF (signature field,
placeholder, ``/ByteRange``), builds the CMS signed attributes and returns them (DER, and
their digest for clients that sign a pre-computed hash) with an opaque ``state``.
The client signs the signed attributes with its key (PKCS#1 v1.5 for RSA, ECDSA DER for EC).
Phase two (:meth:`TwoPhaseSigner.finish`): the server checks the state, checks the
signature value against the certificate's key, and embeds it (adding the RFC 3161
signature timestamp for B-T).

The state carries everything needed (the prepared document compressed, the signed
attributes, the certificate chain, the level), authenticated with HMAC-SHA256 under a
server secret and an expiry: a forged, tampered or stale state raises
:class:`~esign.errors.TwoPhaseStateError`; a signature value that does not verify with the
certificate's key raises :class:`~esign.errors.SignatureValueRejected`. No server-side
storage is needed, so any worker can finish what another prepared.

Built on pyHanko's interrupted signing: ``PdfSigner.async_digest_doc_for_signing``,
``ExternalSigner``, ``PdfTBSDocument.async_finish_signing``.

Levels: B-B and B-T. (B-LT/B-LTA are not offered in two-phase mode yet.)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import os
import secrets
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms, x509
from cryptography.exceptions import InvalidSignature
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

from esign import _core
from esign.errors import (
    InputError,
    SignatureValueRejected,
    TwoPhaseStateError,
    UsageError,
)
from esign.pdf import (
    SignResult,
    Source,
    VisibleStamp,
    _field_lock,
    _stamp_style,
    stamp_font,
    stamp_text,
)
from esign.profiles import PUBLIC, SignatureProfile, profile_named
from esign.signers import cert_store
from verify import SignerIdentity, TrustProfile, ValidationPolicy, Verifier

__all__ = ["Prepared", "TwoPhaseSigner"]

_VERSION = 1
_MAX_STATE = 64 * 1024 * 1024


@dataclass(frozen=True)
class Prepared:
    """Phase one's answer: what the client signs, and the state to send back."""

    to_sign: bytes
    """DER of the CMS signed attributes: sign these bytes (hash-then-sign)."""
    digest: bytes
    """``digest_algorithm`` of :attr:`to_sign`, for clients that sign a precomputed hash."""
    digest_algorithm: str
    signature_algorithm: str
    """e.g. ``sha256_rsa`` (PKCS#1 v1.5) or ``sha256_ecdsa`` (DER-encoded r, s)."""
    state: str
    expires: datetime


class TwoPhaseSigner:
    """Prepares and finishes external signatures under one profile and server secret.

    ``secret`` (at least 32 bytes) authenticates the state; keep it like a session key
    and share it between the workers that may finish a signature. ``ttl`` is how long the
    client has to sign, in seconds.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        profile: SignatureProfile = PUBLIC,
        trust: TrustProfile | None = None,
        policy: ValidationPolicy | None = None,
        verifier: Verifier | None = None,
        ttl: float = 600.0,
    ) -> None:
        if len(secret) < 32:
            raise UsageError("the two-phase secret must be at least 32 bytes")
        self._secret = secret
        self.profile = profile
        self.verifier = _core.resolve_verifier(profile, trust, policy, verifier)
        self.ttl = ttl

    # -- phase one ------------------------------------------------------------------------

    async def aprepare(
        self,
        input: Source,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        *,
        level: str | None = None,
        tsa_url: str | None = None,
        visible: VisibleStamp | None = None,
        certify: bool = False,
        field_lock: Any = None,
        field_name: str | None = None,
        digest: str | None = None,
    ) -> Prepared:
        """Refuse a certificate that would not verify; prepare the document; return what to sign."""
        ext = signers.ExternalSigner(certificate, cert_store(list(chain)), signature_value=1024)
        plan = await _core.plan(
            ext,
            profile=self.profile,
            level=level,
            trust=None,
            policy=None,
            verifier=self.verifier,
            tsa_url=tsa_url,
            digest=digest,
        )
        if plan.level not in ("B-B", "B-T"):
            raise UsageError(f"two-phase signing offers B-B and B-T, not {plan.level}")
        with _core.open_input(input) as stream:
            try:
                writer = IncrementalPdfFileWriter(stream, strict=False)
            except (PdfError, ValueError, OSError) as exc:
                raise InputError(f"not a readable PDF: {exc}") from exc
            existing = [(n, v is not None) for n, v, _r in fields.enumerate_sig_fields(writer.prev)]
            from esign.pdf import _next_field_name

            name = field_name or _next_field_name(existing)
            when = datetime.now(UTC)
            new_field = None
            if not any(n == name for n, _f in existing):
                new_field = fields.SigFieldSpec(
                    name,
                    on_page=(
                        visible.page - 1
                        if visible and visible.page > 0
                        else (visible.page if visible else 0)
                    ),
                    box=visible.box if visible else None,
                    field_mdp_spec=_field_lock(field_lock, name),
                )
            meta = signers.PdfSignatureMetadata(
                field_name=name,
                md_algorithm=plan.digest,
                subfilter=fields.SigSeedSubFilter.PADES,
                certify=certify,
                docmdp_permissions=fields.MDPPerm.FILL_FORMS,
                name=plan.identity.name,
            )
            stamp = None
            params = None
            if visible is not None:
                stamp = _stamp_style(os.fspath(visible.font) if visible.font else stamp_font())
                params = {"text": stamp_text(plan.identity, when)}
            pdf_signer = signers.PdfSigner(
                meta,
                signer=ext,
                timestamper=plan.timestamper(),
                stamp_style=stamp,
                new_field_spec=new_field,
            )
            # Reserve room for the signature timestamp the TSA will add in phase two.
            prepared, _tbs, out = await pdf_signer.async_digest_doc_for_signing(
                writer, appearance_text_params=params, bytes_reserved=_reserve(plan)
            )
            document = out.getvalue() if isinstance(out, io.BytesIO) else _read_all(out)
        signed_attrs = await ext.signed_attrs(
            prepared.document_digest, plan.digest, use_pades=True, timestamper=plan.timestamper()
        )
        to_sign = signed_attrs.dump()
        mechanism = ext.get_signature_mechanism_for_digest(plan.digest)
        expires = time.time() + self.ttl
        payload = {
            "v": _VERSION,
            "id": secrets.token_hex(16),
            "exp": expires,
            "profile": self.profile.name,
            "level": plan.level,
            "tsa": plan.tsa_url,
            "md": plan.digest,
            "field": name,
            "certify": certify,
            "cert": _b64(certificate.dump()),
            "chain": [_b64(c.dump()) for c in chain],
            "attrs": _b64(to_sign),
            "digest": _b64(prepared.document_digest),
            "start": prepared.reserved_region_start,
            "end": prepared.reserved_region_end,
            "doc": _b64(zlib.compress(document, 6)),
        }
        return Prepared(
            to_sign=to_sign,
            digest=hashlib.new(plan.digest, to_sign).digest(),
            digest_algorithm=plan.digest,
            signature_algorithm=mechanism["algorithm"].native,
            state=self._seal(payload),
            expires=datetime.fromtimestamp(expires, UTC),
        )

    def prepare(
        self,
        input: Source,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        **kwargs: Any,
    ) -> Prepared:
        """Sync twin of :meth:`aprepare`."""
        return asyncio.run(self.aprepare(input, certificate, chain, **kwargs))

    # -- phase two --------------------------------------------------------------------------

    async def afinish(
        self, state: str, signature_value: bytes, output: _core.Destination
    ) -> SignResult:
        """Check the state and the signature value; embed it; write ``output`` atomically."""
        p = self._open(state)
        cert = x509.Certificate.load(_unb64(p["cert"]))
        chain = [x509.Certificate.load(_unb64(c)) for c in p["chain"]]
        to_sign = _unb64(p["attrs"])
        md = str(p["md"])
        ext = signers.ExternalSigner(cert, cert_store(chain), signature_value=signature_value)
        mechanism = ext.get_signature_mechanism_for_digest(md)
        try:
            DefaultSignatureValidator().validate_signature(
                signature_value, to_sign, cert.public_key, mechanism
            )
        except (InvalidSignature, ValueError, TypeError) as exc:
            raise SignatureValueRejected(
                "the signature value does not verify with the signer's certificate"
            ) from exc
        signed_attrs = cms.CMSAttributes.load(to_sign)
        profile = profile_named(str(p["profile"]))
        level = str(p["level"])
        tsa = p.get("tsa")
        from pyhanko.sign.timestamps import HTTPTimeStamper

        timestamper = HTTPTimeStamper(tsa) if level != "B-B" and tsa else None
        sig_cms = await ext.async_sign_prescribed_attributes(
            md, signed_attrs=signed_attrs, timestamper=timestamper
        )
        prepared = PreparedByteRangeDigest(
            document_digest=_unb64(p["digest"]),
            reserved_region_start=int(p["start"]),
            reserved_region_end=int(p["end"]),
        )
        document = zlib.decompress(_unb64(p["doc"]))
        buf = io.BytesIO(document)
        await PdfTBSDocument.async_finish_signing(buf, prepared, sig_cms)
        data = buf.getvalue()
        with _core.atomic_output(output) as (out, target):
            out.write(data)
        identity = SignerIdentity.from_certificate(cert, profile=profile.hierarchy)
        from verify import CertificateCheck, Indication

        return SignResult(
            output=target,
            data=data if output is None else None,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            level=level,  # type: ignore[arg-type]
            profile=profile.name,
            field_name=str(p["field"]),
            signer=identity,
            check=CertificateCheck(
                Indication.TOTAL_PASSED,
                None,
                "Đã kiểm tra ở bước một.",
                "Checked in phase one.",
                identity,
                (),
                profile.hierarchy,
            ),
            signing_time=datetime.now(UTC),
            certified=bool(p["certify"]),
        )

    def finish(self, state: str, signature_value: bytes, output: _core.Destination) -> SignResult:
        """Sync twin of :meth:`afinish`."""
        return asyncio.run(self.afinish(state, signature_value, output))

    # -- the state ------------------------------------------------------------------------

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, b"hoso.esign.twophase.v1\x00" + body, hashlib.sha256).digest()

    def _seal(self, payload: dict[str, Any]) -> str:
        body = zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 6)
        return _b64url(body) + "." + _b64url(self._mac(body))

    def _open(self, state: str) -> dict[str, Any]:
        if not isinstance(state, str) or len(state) > _MAX_STATE or state.count(".") != 1:
            raise TwoPhaseStateError("the two-phase state is not one we issued")
        body_txt, mac_txt = state.split(".")
        try:
            body = _unb64url(body_txt)
            mac = _unb64url(mac_txt)
        except ValueError as exc:
            raise TwoPhaseStateError("the two-phase state is garbled") from exc
        if not hmac.compare_digest(mac, self._mac(body)):
            raise TwoPhaseStateError("the two-phase state was tampered with or not issued here")
        try:
            payload: dict[str, Any] = json.loads(zlib.decompress(body))
        except (ValueError, zlib.error) as exc:  # pragma: no cover - authenticated already
            raise TwoPhaseStateError("the two-phase state is garbled") from exc
        if payload.get("v") != _VERSION:
            raise TwoPhaseStateError(
                f"two-phase state version {payload.get('v')!r} is not supported"
            )
        if time.time() > float(payload["exp"]):
            raise TwoPhaseStateError("the two-phase state has expired; prepare again")
        return payload


def _reserve(plan: _core.Plan) -> int:
    # hex-encoded CMS: certificates + signature + (B-T) a timestamp token with its chain
    certs = sum(len(c.dump()) for c in (plan.cert, *plan.chain))
    base = certs + 4096
    if plan.level != "B-B":
        base += 12000
    return 2 * base


def _read_all(stream: Any) -> bytes:
    stream.seek(0)
    return bytes(stream.read())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
