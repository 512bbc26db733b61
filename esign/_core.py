"""Shared plumbing: pre-sign checks, timestampers, validation contexts, atomic output.

Internal: the public entry points are :mod:`esign.pdf` and :mod:`esign.cms`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from asn1crypto import x509
from pyhanko.sign.signers import Signer
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext

from esign.errors import InputError, UsageError
from esign.profiles import LEVELS, Level, SignatureProfile
from esign.signers import KeySource, signer_chain
from verify import (
    CertificateCheck,
    RevocationMode,
    SignerIdentity,
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
    check = await profile.acheck_certificate(cert, chain, verifier=v, digest=md)
    identity = check.signer or SignerIdentity.from_certificate(cert, profile=check.profile)
    return Plan(profile, lvl, v, check, identity, tsa, md, cert, tuple(chain))


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
