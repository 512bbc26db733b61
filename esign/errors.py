"""Errors raised by :mod:`esign`.

Signing either produces a complete, verifiable output or raises one of these, having left
nothing behind. Every message is one line of English naming the value at fault; errors of
augmentation and renewal also carry the sentence in Vietnamese (``message_vi``).

The tree::

    EsignError                         base of every error esign raises on purpose
    ├── UsageError                     a bad argument (unknown level, TSA missing for B-T, ...)
    │                                  (also a ValueError)
    ├── InputError                     the document or file to sign cannot be read or written
    │   └── XmlInputError              XML that cannot be signed: not well-formed, a DOCTYPE,
    │                                  an unknown layout, the element or its Id missing
    ├── CertificateRefused             the signer's certificate would not verify; ``.check``
    │   │                              is verify's CertificateCheck (None for local checks),
    │   │                              ``.causes`` what the validation found (RefusalCause:
    │   │                              which certificate, which OCSP/CRL source, the error),
    │   │                              ``message_vi`` / ``message_en`` the sentence
    │   ├── CertificateExpired
    │   ├── CertificateNotYetValid
    │   ├── CertificateRevoked
    │   ├── WrongProfile               the chain does not reach the profile's trust anchors
    │   ├── WeakAlgorithm              key type/size or digest outside the profile
    │   ├── KeyUsageMissing            neither digitalSignature nor nonRepudiation
    │   └── RevocationUnavailable      no OCSP/CRL answer while revocation is required
    ├── KeySourceError                 a key cannot be loaded (wrong PKCS#12 password, bad PEM)
    │   ├── TokenError                 a PKCS#11 token problem
    │   │   ├── TokenNotFound          no token with that label (or no library there)
    │   │   ├── WrongPin               the token refused the PIN
    │   │   └── KeyNotFound            no key/certificate with that label on the token
    │   └── RemoteSigningError         a CSC (SIM ký số / cloud key) service failed
    │       ├── AuthorisationFailed    the service refused our credentials or the SAD
    │       └── RemoteTimeout          the service did not answer in time
    ├── TimestampError                 the TSA could not be reached or answered badly
    ├── AugmentRefused                 an existing signature cannot be augmented or renewed
    │   │                              (``.report``: verify's DocumentReport, if one was made)
    │   ├── SignatureNotValid          it does not verify now (revoked, expired, altered...)
    │   ├── ValidationDataUnavailable  no OCSP/CRL answer for a certificate (``.certificate``,
    │   │                              ``.addresses``: the addresses tried and what they said)
    │   └── TimestampChainBroken       a timestamp of the chain to renew does not validate
    ├── TwoPhaseError                  external (browser plugin) signing
    │   ├── TwoPhaseStateError         the opaque state is forged, tampered, expired or garbled
    │   └── SignatureValueRejected     the client's signature value does not verify
    └── ChallengeError                 sign-in by certificate refused
        ├── ChallengeExpired
        ├── ChallengeReplayed
        ├── WrongNonce                 the signed content is not the issued nonce
        └── UntrustedResponse          bad signature, or the certificate would not verify
                                       (``.check`` holds the CertificateCheck when there is one)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from verify import CertificateCheck, DocumentReport

__all__ = [
    "AugmentRefused",
    "AuthorisationFailed",
    "CertificateExpired",
    "CertificateNotYetValid",
    "CertificateRefused",
    "CertificateRevoked",
    "ChallengeError",
    "ChallengeExpired",
    "ChallengeReplayed",
    "EsignError",
    "InputError",
    "KeyNotFound",
    "KeySourceError",
    "KeyUsageMissing",
    "RefusalCause",
    "RemoteSigningError",
    "RemoteTimeout",
    "RevocationUnavailable",
    "SignatureNotValid",
    "SignatureValueRejected",
    "TimestampChainBroken",
    "TimestampError",
    "TokenError",
    "TokenNotFound",
    "TwoPhaseError",
    "TwoPhaseStateError",
    "UntrustedResponse",
    "UsageError",
    "ValidationDataUnavailable",
    "WeakAlgorithm",
    "WrongNonce",
    "WrongPin",
    "WrongProfile",
    "XmlInputError",
]


class EsignError(Exception):
    """Base class of every error :mod:`esign` raises on purpose.

    ``message_vi`` is the message in Vietnamese when the error has one (augmentation and
    renewal give one), else ``None``.
    """

    def __init__(self, *args: object, message_vi: str | None = None) -> None:
        super().__init__(*args)
        self.message_vi = message_vi


class UsageError(EsignError, ValueError):
    """An argument is not acceptable (unknown level, missing TSA URL, bad box...)."""


class InputError(EsignError):
    """The input cannot be read, or the output cannot be written."""


class XmlInputError(InputError):
    """The XML cannot be signed: not well-formed, a DOCTYPE, a layout we do not know, or the
    element to sign (or its ``Id``) missing, ambiguous or already signed."""


@dataclass(frozen=True)
class RefusalCause:
    """One thing the certificate validation found behind a refusal.

    ``certificate`` names the certificate at fault (its subject's common name), with its
    ``serial`` (hex) and ``issuer``; ``source`` is where the answer was sought (``"OCSP
    http://..."``, ``"CRL http://..."``, ``""`` when none applies); ``error_en`` /
    ``error_vi`` say what happened there ("connection refused", "revoked on 01/03/2026
    (key compromise)", ...).
    """

    certificate: str
    serial: str = ""
    issuer: str = ""
    source: str = ""
    error_en: str = ""
    error_vi: str = ""

    def text(self, lang: str = "en") -> str:
        """``certificate 'A' (serial 1F, issued by 'B'), OCSP http://…: connection refused``
        in ``lang`` (``vi`` or ``en``)."""
        if lang == "vi":
            about = ", ".join(
                p
                for p in (
                    f"số hiệu {self.serial}" if self.serial else "",
                    f"do '{self.issuer}' cấp" if self.issuer else "",
                )
                if p
            )
            head = f"chứng thư số '{self.certificate}'" + (f" ({about})" if about else "")
            error = self.error_vi or self.error_en
        else:
            about = ", ".join(
                p
                for p in (
                    f"serial {self.serial}" if self.serial else "",
                    f"issued by '{self.issuer}'" if self.issuer else "",
                )
                if p
            )
            head = f"certificate '{self.certificate}'" + (f" ({about})" if about else "")
            error = self.error_en
        where = f", {self.source}" if self.source else ""
        return f"{head}{where}: {error}" if error else f"{head}{where}"

    def to_dict(self) -> dict[str, str]:
        return {
            "certificate": self.certificate,
            "serial": self.serial,
            "issuer": self.issuer,
            "source": self.source,
            "error_en": self.error_en,
            "error_vi": self.error_vi,
        }


class CertificateRefused(EsignError):
    """The signer's certificate would not produce a signature that verifies.

    ``check`` is the :class:`verify.CertificateCheck` behind the refusal (``None`` when the
    profile refused the certificate before any path was built: weak key, key usage).
    ``causes`` are what the validation found (:class:`RefusalCause`: the certificate, the
    OCSP or CRL address, the error), empty when the verdict says it all. ``str(error)``
    (``message_en``) and ``message_vi`` are the full sentence, causes included.
    """

    code = "refused"
    title_en = "the certificate cannot sign"
    title_vi = "Chứng thư số không dùng được để ký"

    def __init__(
        self,
        message: str,
        *,
        check: CertificateCheck | None = None,
        message_vi: str | None = None,
        causes: Sequence[RefusalCause] = (),
    ) -> None:
        if message_vi is None:
            detail = check.message_vi if check is not None else message
            message_vi = f"{self.title_vi}: {detail}"
        super().__init__(message, message_vi=message_vi)
        self.check = check
        self.causes = tuple(causes)

    @property
    def message_en(self) -> str:
        return str(self)

    def message(self, lang: str = "vi") -> str:
        """The refusal in Vietnamese (``vi``) or English."""
        return (self.message_vi or str(self)) if lang == "vi" else str(self)


class CertificateExpired(CertificateRefused):
    code = "expired"
    title_en = "the certificate has expired"
    title_vi = "Chứng thư số đã hết hạn"


class CertificateNotYetValid(CertificateRefused):
    code = "not_yet_valid"
    title_en = "the certificate is not valid yet"
    title_vi = "Chứng thư số chưa có hiệu lực"


class CertificateRevoked(CertificateRefused):
    code = "revoked"
    title_en = "the certificate has been revoked"
    title_vi = "Chứng thư số đã bị thu hồi"


class WrongProfile(CertificateRefused):
    code = "wrong_profile"
    title_en = "the certificate does not belong to the required hierarchy"
    title_vi = "Chứng thư số không thuộc hệ thống chứng thực mà hồ sơ chữ ký yêu cầu"


class WeakAlgorithm(CertificateRefused):
    code = "weak_algorithm"
    title_en = "the certificate's key or algorithm is not allowed"
    title_vi = "Khóa hoặc thuật toán của chứng thư số không được phép"


class KeyUsageMissing(CertificateRefused):
    code = "key_usage"
    title_en = "the certificate may not be used for signing"
    title_vi = "Chứng thư số không được phép dùng để ký"


class RevocationUnavailable(CertificateRefused):
    code = "revocation_unavailable"
    title_en = "the certificate's revocation status cannot be checked"
    title_vi = "Không kiểm tra được tình trạng thu hồi của chứng thư số"


class KeySourceError(EsignError):
    """A signing key cannot be loaded or used."""


class TokenError(KeySourceError):
    """A PKCS#11 token (USB ký số) problem."""


class TokenNotFound(TokenError):
    """No token with the requested label, or the PKCS#11 library cannot be loaded."""


class WrongPin(TokenError):
    """The token refused the PIN."""


class KeyNotFound(TokenError):
    """No private key or certificate with the requested label on the token."""


class RemoteSigningError(KeySourceError):
    """A remote signing service (CSC API: SIM ký số, cloud key) failed."""


class AuthorisationFailed(RemoteSigningError):
    """The remote service refused the credentials, the PIN/OTP or the SAD."""


class RemoteTimeout(RemoteSigningError):
    """The remote service did not answer in time."""


class TimestampError(EsignError):
    """The timestamp authority could not be reached or gave an unusable answer."""


class AugmentRefused(EsignError):
    """An existing signature cannot be augmented or renewed; nothing was written.

    ``str(error)`` is the English sentence, ``message_vi`` the Vietnamese one; ``report``
    is verify's :class:`~verify.DocumentReport` of the input when one was made.
    """

    def __init__(
        self, message_en: str, message_vi: str, *, report: DocumentReport | None = None
    ) -> None:
        super().__init__(message_en, message_vi=message_vi)
        self.report = report


class SignatureNotValid(AugmentRefused):
    """The signature to augment does not verify now (the report says why): augmenting it
    would only preserve an invalid signature."""


class ValidationDataUnavailable(AugmentRefused):
    """No OCSP response or CRL could be had for a certificate that needs one.

    ``certificate`` names it (its subject); ``addresses`` lists each OCSP or CRL address
    tried with what happened there.
    """

    def __init__(
        self,
        message_en: str,
        message_vi: str,
        *,
        certificate: str,
        addresses: tuple[str, ...] = (),
        report: DocumentReport | None = None,
    ) -> None:
        super().__init__(message_en, message_vi, report=report)
        self.certificate = certificate
        self.addresses = addresses


class TimestampChainBroken(AugmentRefused):
    """A document or archive timestamp of the chain to renew does not validate: a new
    timestamp over it would not restore what it no longer proves."""


class TwoPhaseError(EsignError):
    """External (two-phase) signing failed."""


class TwoPhaseStateError(TwoPhaseError):
    """The opaque state is not one we issued: forged, tampered with, expired or garbled."""


class SignatureValueRejected(TwoPhaseError):
    """The signature value from the client does not verify with the signer's key."""


class ChallengeError(EsignError):
    """A sign-in-by-certificate response was refused."""


class ChallengeExpired(ChallengeError):
    """The challenge is past its expiry."""


class ChallengeReplayed(ChallengeError):
    """The challenge was already used."""


class WrongNonce(ChallengeError):
    """The response signs something other than the issued nonce."""


class UntrustedResponse(ChallengeError):
    """The response's signature or certificate does not verify under the profile."""

    def __init__(self, message: str, *, check: CertificateCheck | None = None) -> None:
        super().__init__(message)
        self.check = check
