"""The validation policy: what the verifier accepts, and how hard it tries.

A :class:`ValidationPolicy` is a frozen value: make one, share it. Defaults are the ones an
auditor would pick for Vietnamese dossiers and are documented on each field.

Algorithm rules follow the shape of EU DSS's cryptographic constraints: an algorithm is
either never acceptable (MD5, MD2, RSA keys under 1024 bits), or acceptable only for
signatures *proven* (by a trusted timestamp) to exist before a cut-off date:

========================  ==========================================
SHA-1 (digest)            proven before 2019-01-01 (``sha1_until``)
RSA keys < 2048 bits      proven before 2019-01-01 (``rsa_weak_until``)
ECDSA curves < 256 bits   never
========================  ==========================================

2019-01-01 is the date from which Vietnamese public CAs had to move their certificates to
SHA-256 (the national root switched in 2014; MIC's 2008 SHA-1 root is kept for old
signatures only). A signature with a weak algorithm and no proof of existence before the
cut-off is ``INDETERMINATE`` / ``CRYPTO_CONSTRAINTS_FAILURE_NO_POE``; with a never-allowed
algorithm it is ``INDETERMINATE`` / ``CRYPTO_CONSTRAINTS_FAILURE``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

__all__ = ["AlgorithmRules", "RevocationMode", "ValidationPolicy"]


class RevocationMode(enum.StrEnum):
    """How to treat missing revocation information."""

    HARD = "hard"
    """No revocation info for the signing time makes the signature INDETERMINATE (default)."""
    SOFT = "soft"
    """Try to get revocation info; when none can be had, accept and say so in the report."""
    OFF = "off"
    """Do not check revocation at all (the report says so)."""


@dataclass(frozen=True)
class AlgorithmRules:
    """Which digest and key algorithms are acceptable, and until when."""

    forbidden_digests: frozenset[str] = frozenset({"md2", "md4", "md5"})
    sha1_until: datetime = datetime(2019, 1, 1, tzinfo=UTC)
    rsa_weak_until: datetime = datetime(2019, 1, 1, tzinfo=UTC)
    rsa_min_bits: int = 2048
    rsa_never_below_bits: int = 1024
    ec_min_bits: int = 256

    def time_boundaries(self) -> tuple[datetime, ...]:
        """Every moment at which a verdict of these rules can change with the proven time."""
        return (self.sha1_until, self.rsa_weak_until)

    def digest_verdict(self, digest: str, proven_time: datetime | None) -> str | None:
        """``None`` if acceptable, else ``"never"`` or ``"no_poe"``."""
        digest = digest.lower().replace("-", "")
        if digest in self.forbidden_digests:
            return "never"
        if digest == "sha1" and (proven_time is None or proven_time >= self.sha1_until):
            return "no_poe"
        return None

    def key_verdict(self, algorithm: str, bits: int, proven_time: datetime | None) -> str | None:
        """``None`` if acceptable, else ``"never"`` or ``"no_poe"``."""
        if algorithm in ("rsa", "rsassa_pss"):
            if bits < self.rsa_never_below_bits:
                return "never"
            if bits < self.rsa_min_bits and (
                proven_time is None or proven_time >= self.rsa_weak_until
            ):
                return "no_poe"
        elif algorithm == "ec" and bits < self.ec_min_bits:
            return "never"
        return None


@dataclass(frozen=True)
class ValidationPolicy:
    """How the verifier validates. Frozen; use :meth:`replace` to derive a variant."""

    revocation: RevocationMode = RevocationMode.HARD
    network: bool = True
    """Fetch OCSP responses, CRLs and missing CA certificates. Off = embedded/supplied only."""
    validation_time: datetime | None = None
    """The time to validate at; ``None`` means "now" at each call. Must be timezone-aware."""
    algorithms: AlgorithmRules = field(default_factory=AlgorithmRules)
    fetch_timeout: float = 5.0
    """Seconds per OCSP/CRL/certificate fetch."""
    max_file_size: int = 64 * 1024 * 1024
    """Bigger documents are refused with FORMAT_FAILURE and a message naming the limit."""
    max_signatures: int = 64
    """More signatures than this in one PDF are reported, not validated one by one."""
    document_time_limit: float = 10.0
    """Seconds one document may take in an isolated (bulk / CLI) run. Every case of the
    adversarial corpus ends in under 4 s; the margin is for a signature whose chain needs
    several cold OCSP/CRL fetches over a slow link (each bounded by ``fetch_timeout``)."""
    fast_path: bool = True
    """Verify common PDFs (one signature over the whole file, nothing else to judge) and
    detached CMS signatures directly, reusing the verdict on the signer's certificate from
    an earlier full validation (see :mod:`verify.fastpath`); anything else, and the first
    document of each signer, goes through full validation. The reports are the same either
    way; ``False`` always validates in full."""

    def __post_init__(self) -> None:
        if self.validation_time is not None and self.validation_time.tzinfo is None:
            raise ValueError("validation_time must be timezone-aware")
        # accept the plain strings "hard" / "soft" / "off" from configuration files
        object.__setattr__(self, "revocation", RevocationMode(self.revocation))

    def replace(self, **changes: object) -> ValidationPolicy:
        return replace(self, **changes)  # type: ignore[arg-type]

    def moment(self) -> datetime:
        """The validation time for one call: the fixed one, or now (aware UTC)."""
        return self.validation_time or datetime.now(UTC)
