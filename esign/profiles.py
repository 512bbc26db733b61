"""Signature profiles: what a Vietnamese signature must be to be legally valid.

A :class:`SignatureProfile` says which trust profile (from :mod:`verify`) the signer's chain
must reach, which key and digest algorithms are allowed, which key usage the certificate
must carry, and the default PAdES/CAdES level and timestamp authority.

- :data:`PUBLIC`: chữ ký số công cộng, a licensed public CA under the national root.
- :data:`SPECIALIZED`: chữ ký số chuyên dùng Chính phủ, the Government Cipher Committee's CA.
- :data:`ANY`: either hierarchy (e.g. a portal accepting both on intake).

Both allow RSA >= 2048 bits with SHA-256/384/512 and ECDSA on P-256, P-384, P-521, and
require digitalSignature or nonRepudiation.

:meth:`SignatureProfile.check_certificate` is the pre-sign refusal: it raises a
:class:`~esign.errors.CertificateRefused` subclass for an expired, not yet valid, revoked,
wrong-profile, weak or wrong-usage certificate, before anything is produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from asn1crypto import x509

from esign.errors import (
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRefused,
    CertificateRevoked,
    KeyUsageMissing,
    RevocationUnavailable,
    UsageError,
    WeakAlgorithm,
    WrongProfile,
)
from verify import (
    CertificateCheck,
    SubIndication,
    TrustProfile,
    ValidationPolicy,
    Verifier,
)

__all__ = ["ANY", "LEVELS", "PUBLIC", "SPECIALIZED", "Level", "SignatureProfile", "profile_named"]

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]
LEVELS: tuple[Level, ...] = ("B-B", "B-T", "B-LT", "B-LTA")

_CURVE_NAMES = {
    "secp256r1": "P-256",
    "secp384r1": "P-384",
    "secp521r1": "P-521",
}


@dataclass(frozen=True)
class SignatureProfile:
    """What a signature under one Vietnamese hierarchy must be. Frozen; share it."""

    name: str
    hierarchy: Literal["public", "specialized"] | None
    """The hierarchy the chain must reach; ``None`` accepts either."""
    rsa_min_bits: int = 2048
    digests: frozenset[str] = frozenset({"sha256", "sha384", "sha512"})
    curves: frozenset[str] = frozenset(_CURVE_NAMES)
    key_usages: frozenset[str] = frozenset({"digital_signature", "non_repudiation"})
    """The certificate must carry at least one of these."""
    default_level: Level = "B-T"
    default_digest: str = "sha256"
    default_tsa: str | None = None
    """Used for B-T and above when the caller gives no TSA URL."""
    description: str = field(default="", compare=False)

    def replace(self, **changes: object) -> SignatureProfile:
        return replace(self, **changes)  # type: ignore[arg-type]

    def trust_profile(self) -> TrustProfile:
        """The bundled :class:`verify.TrustProfile` for this profile's hierarchy."""
        return TrustProfile.named(self.hierarchy or "any")

    # -- local checks (no network) -------------------------------------------------------

    def check_algorithms(self, cert: x509.Certificate, digest: str | None = None) -> None:
        """Refuse a key or digest outside the profile (:class:`WeakAlgorithm`)."""
        pk = cert.public_key
        algo = pk.algorithm
        who = _who(cert)
        if algo == "rsa":
            bits = int(pk.bit_size)
            if bits < self.rsa_min_bits:
                raise WeakAlgorithm(
                    f"{who}: RSA-{bits} key; the {self.name} profile needs RSA of at least "
                    f"{self.rsa_min_bits} bits"
                )
        elif algo == "ec":
            curve = _curve(cert)
            if curve not in self.curves:
                allowed = ", ".join(_CURVE_NAMES.get(c, c) for c in sorted(self.curves))
                raise WeakAlgorithm(
                    f"{who}: ECDSA curve {curve}; the {self.name} profile allows {allowed}"
                )
        else:
            raise WeakAlgorithm(
                f"{who}: {algo} key; the {self.name} profile allows RSA and ECDSA only"
            )
        cert_digest = cert.hash_algo
        if cert_digest not in self.digests:
            raise WeakAlgorithm(
                f"{who}: certificate signed with {cert_digest.upper()}; the {self.name} "
                f"profile allows {', '.join(sorted(d.upper() for d in self.digests))}"
            )
        if digest is not None and digest.lower() not in self.digests:
            raise WeakAlgorithm(
                f"digest {digest.upper()} is not allowed by the {self.name} profile "
                f"({', '.join(sorted(d.upper() for d in self.digests))})"
            )

    def check_key_usage(self, cert: x509.Certificate) -> None:
        """Refuse a certificate without digitalSignature or nonRepudiation."""
        usage = cert.key_usage_value
        present = set(usage.native) if usage is not None else set()
        if usage is not None and not (present & self.key_usages):
            raise KeyUsageMissing(
                f"{_who(cert)}: key usage {', '.join(sorted(present)) or 'none'} does not "
                "allow signing (needs digitalSignature or nonRepudiation)"
            )

    # -- the full pre-sign check -------------------------------------------------------------

    def verifier(
        self, trust: TrustProfile | None = None, policy: ValidationPolicy | None = None
    ) -> Verifier:
        """A :class:`verify.Verifier` for this profile (reuse it: it caches OCSP/CRL)."""
        return Verifier(trust or self.trust_profile(), policy or ValidationPolicy())

    async def acheck_certificate(
        self,
        cert: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        *,
        verifier: Verifier | None = None,
        trust: TrustProfile | None = None,
        policy: ValidationPolicy | None = None,
        digest: str | None = None,
        at: datetime | None = None,
    ) -> CertificateCheck:
        """Check that ``cert`` may sign under this profile; raise if not.

        Local rules first (algorithms, key usage), then :meth:`verify.Verifier.acheck_certificate`
        for the path to the trust anchors, validity at ``at`` (default: now), key usage and
        revocation per the policy. Returns the passing :class:`verify.CertificateCheck`.
        """
        self.check_algorithms(cert, digest)
        self.check_key_usage(cert)
        v = verifier or self.verifier(trust, policy)
        check = await v.acheck_certificate(cert, list(chain), at=at)
        raise_for_check(self, cert, check)
        return check


def raise_for_check(
    profile: SignatureProfile, cert: x509.Certificate, check: CertificateCheck
) -> None:
    """Turn a failing :class:`verify.CertificateCheck` into the matching refusal."""
    who = _who(cert)
    if check.ok:
        if profile.hierarchy is not None and check.profile != profile.hierarchy:
            where = check.profile or "no known hierarchy"
            raise WrongProfile(
                f"{who}: the chain ends at an anchor of {where}, not of the "
                f"{profile.hierarchy} hierarchy the {profile.name} profile requires "
                "(tag custom anchors with hierarchy=...)",
                check=check,
            )
        return
    sub = check.sub_indication
    detail = check.message_en
    cls: type[CertificateRefused]
    if sub is SubIndication.EXPIRED:
        cls = CertificateExpired
    elif sub is SubIndication.NOT_YET_VALID:
        cls = CertificateNotYetValid
    elif sub in (
        SubIndication.REVOKED,
        SubIndication.REVOKED_NO_POE,
        SubIndication.REVOKED_CA_NO_POE,
    ):
        cls = CertificateRevoked
    elif sub is SubIndication.NO_CERTIFICATE_CHAIN_FOUND:
        cls = WrongProfile
        detail = f"no chain to the {profile.name} profile's trust anchors ({check.message_en})"
    elif sub in (
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    ):
        cls = WeakAlgorithm
    elif sub in (SubIndication.SIG_CONSTRAINTS_FAILURE, SubIndication.CHAIN_CONSTRAINTS_FAILURE):
        cls = KeyUsageMissing
    elif sub is SubIndication.TRY_LATER:
        cls = RevocationUnavailable
    else:
        cls = CertificateRefused
    raise cls(f"{who}: {detail}", check=check)


def _who(cert: x509.Certificate) -> str:
    try:
        cn = cert.subject.native.get("common_name")
    except Exception:  # noqa: BLE001 - a name is only for the message
        cn = None
    if isinstance(cn, list):
        cn = cn[0] if cn else None
    return f"certificate {cn!r}" if cn else f"certificate #{cert.serial_number:X}"


def _curve(cert: x509.Certificate) -> str:
    params = cert.public_key["algorithm"]["parameters"]
    if params.name == "named":
        return str(params.chosen.native)
    return "explicit parameters"


PUBLIC = SignatureProfile(
    name="public",
    hierarchy="public",
    default_tsa=None,
    description="Chữ ký số công cộng: a licensed public CA under Vietnam's national root CA. "
    "Public CAs run their own TSAs, so there is no single default: pass tsa_url.",
)
SPECIALIZED = SignatureProfile(
    name="specialized",
    hierarchy="specialized",
    default_tsa="http://tsa.ca.gov.vn",
    description="Chữ ký số chuyên dùng Chính phủ: the Government Cipher Committee's CA; "
    "timestamps from its TSA.",
)
ANY = SignatureProfile(
    name="any",
    hierarchy=None,
    description="Either hierarchy.",
)

_BY_NAME = {p.name: p for p in (PUBLIC, SPECIALIZED, ANY)}


def profile_named(name: str) -> SignatureProfile:
    """``public``, ``specialized`` or ``any``; :class:`UsageError` otherwise."""
    try:
        return _BY_NAME[name.strip().lower()]
    except KeyError:
        raise UsageError(
            f"unknown signature profile {name!r}; known: {', '.join(_BY_NAME)}"
        ) from None
