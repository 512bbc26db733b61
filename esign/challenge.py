"""Sign-in by certificate: account registration with a USB token or a signing SIM.

The portal issues a challenge (:func:`issue_challenge`: a random nonce with an expiry); the
citizen's token or SIM signs :attr:`Challenge.to_sign` as CMS (attached or detached,
DER, PEM or base64); the portal calls :func:`verify_challenge_response`, which checks the
signature over the nonce, the certificate chain with revocation against the chosen profile,
that the challenge is fresh and used once, and returns the signer's
:class:`verify.SignerIdentity` (name, CCCD/MST...).

Refusals are distinct errors: :class:`~esign.errors.ChallengeExpired`,
:class:`~esign.errors.ChallengeReplayed`, :class:`~esign.errors.WrongNonce`,
:class:`~esign.errors.UntrustedResponse` (bad signature or a certificate that would not
verify; ``.check`` says why).

Single-use is enforced by a :class:`ChallengeStore`; the default keeps issued challenges in
memory (one process). Portals with several workers give a shared store (Redis, a
database) implementing the same two methods.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from asn1crypto import cms, pem
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.validation.generic_cms import validate_sig_integrity

from esign.errors import (
    CertificateRefused,
    ChallengeExpired,
    ChallengeReplayed,
    UntrustedResponse,
    WrongNonce,
)
from esign.profiles import PUBLIC, SignatureProfile
from verify import SignerIdentity, TrustProfile, ValidationPolicy, Verifier

__all__ = [
    "Challenge",
    "ChallengeStore",
    "MemoryChallengeStore",
    "averify_challenge_response",
    "issue_challenge",
    "verify_challenge_response",
]

_MAX_RESPONSE = 256 * 1024


@dataclass(frozen=True)
class Challenge:
    """A random nonce to be signed, valid until :attr:`expires_at`."""

    id: str
    nonce: bytes
    issued_at: datetime
    expires_at: datetime
    audience: str = field(default="hoso")

    @property
    def to_sign(self) -> bytes:
        """The exact bytes the token must sign (ASCII, safe for text-signing plugins)."""
        nonce = base64.urlsafe_b64encode(self.nonce).rstrip(b"=").decode("ascii")
        return f"{self.audience}-login:{self.id}:{nonce}".encode("ascii")

    def to_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "to_sign": self.to_sign.decode("ascii"),
            "expires_at": self.expires_at.isoformat(),
        }


class ChallengeStore(Protocol):
    """Remembers issued challenges so each is accepted once."""

    def add(self, challenge: Challenge) -> None: ...

    def consume(self, challenge_id: str) -> bool:
        """Mark as used; ``False`` if it was already used (or never issued here)."""
        ...


class MemoryChallengeStore:
    """In-process store; forgets expired challenges as it goes."""

    def __init__(self) -> None:
        self._open: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def add(self, challenge: Challenge) -> None:
        with self._lock:
            now = datetime.now(UTC)
            for cid, exp in list(self._open.items()):
                if exp < now - timedelta(hours=1):
                    del self._open[cid]
            self._open[challenge.id] = challenge.expires_at

    def consume(self, challenge_id: str) -> bool:
        with self._lock:
            return self._open.pop(challenge_id, None) is not None


_DEFAULT_STORE = MemoryChallengeStore()


def issue_challenge(
    ttl: float = 120.0, *, store: ChallengeStore | None = None, audience: str = "hoso"
) -> Challenge:
    """A fresh challenge: 32 random bytes, expiring in ``ttl`` seconds."""
    now = datetime.now(UTC)
    challenge = Challenge(
        id=secrets.token_hex(12),
        nonce=secrets.token_bytes(32),
        issued_at=now,
        expires_at=now + timedelta(seconds=ttl),
        audience=audience,
    )
    (store or _DEFAULT_STORE).add(challenge)
    return challenge


def _load_cms(data: bytes | str) -> cms.SignedData:
    raw = data.encode("ascii") if isinstance(data, str) else bytes(data)
    if len(raw) > _MAX_RESPONSE:
        raise UntrustedResponse(f"response of {len(raw)} bytes is too large")
    try:
        if pem.detect(raw):
            _t, _h, raw = pem.unarmor(raw)
        elif not raw.startswith(b"\x30"):
            raw = base64.b64decode(raw, validate=False)
        info = cms.ContentInfo.load(raw, strict=True)
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed: cms.SignedData = info["content"]
        signed.native  # noqa: B018 - parse eagerly: fail here, not later
        return signed
    except (ValueError, TypeError, binascii.Error) as exc:
        raise UntrustedResponse(f"the response is not a CMS signature: {exc}") from exc


async def averify_challenge_response(
    challenge: Challenge,
    cms_signature: bytes | str,
    *,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    store: ChallengeStore | None = None,
) -> SignerIdentity:
    """Check a signed challenge; return who signed it. See the module docstring."""
    now = datetime.now(UTC)
    if now > challenge.expires_at:
        raise ChallengeExpired(
            f"challenge {challenge.id} expired at {challenge.expires_at:%Y-%m-%d %H:%M:%S}Z"
        )
    signed = _load_cms(cms_signature)
    try:
        infos = signed["signer_infos"]
        if len(infos) != 1:
            raise ValueError(f"{len(infos)} signers")
        signer_info = infos[0]
        certs = extract_certificate_info(signed)
        cert = certs.signer_cert
        digest_algo = signer_info["digest_algorithm"]["algorithm"].native
    except (ValueError, KeyError, TypeError) as exc:
        raise UntrustedResponse(f"the response's signer cannot be read: {exc}") from exc
    content = signed["encap_content_info"]["content"].native
    if content is not None and bytes(content) != challenge.to_sign:
        _check_crypto(signer_info, cert, signed, bytes(content), digest_algo)
        raise WrongNonce("the response signs other content than the issued challenge")
    expected = challenge.to_sign
    try:
        intact, valid = validate_sig_integrity(
            signer_info,
            cert,
            signed["encap_content_info"]["content_type"].native,
            hashlib.new(digest_algo, expected).digest(),
        )
    except Exception as exc:
        raise UntrustedResponse(f"the response's signature cannot be checked: {exc}") from exc
    if not valid:
        raise UntrustedResponse("the response's signature does not verify")
    if not intact:
        raise WrongNonce("the response signs other content than the issued challenge")
    try:
        check = await profile.acheck_certificate(
            cert,
            list(certs.other_certs),
            verifier=verifier,
            trust=trust,
            policy=policy,
        )
    except CertificateRefused as exc:
        raise UntrustedResponse(f"certificate refused: {exc}", check=exc.check) from exc
    if not (store or _DEFAULT_STORE).consume(challenge.id):
        raise ChallengeReplayed(f"challenge {challenge.id} was already used (or not issued here)")
    return check.signer or SignerIdentity.from_certificate(cert, profile=check.profile)


def _check_crypto(
    signer_info: cms.SignerInfo, cert: object, signed: cms.SignedData, content: bytes, algo: str
) -> None:
    try:
        _intact, valid = validate_sig_integrity(
            signer_info,
            cert,
            signed["encap_content_info"]["content_type"].native,
            hashlib.new(algo, content).digest(),
        )
    except Exception as exc:
        raise UntrustedResponse(f"the response's signature cannot be checked: {exc}") from exc
    if not valid:
        raise UntrustedResponse("the response's signature does not verify")


def verify_challenge_response(
    challenge: Challenge,
    cms_signature: bytes | str,
    *,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    store: ChallengeStore | None = None,
) -> SignerIdentity:
    """Sync twin of :func:`averify_challenge_response`."""
    return asyncio.run(
        averify_challenge_response(
            challenge,
            cms_signature,
            profile=profile,
            trust=trust,
            policy=policy,
            verifier=verifier,
            store=store,
        )
    )
