"""Detached CAdES signatures over any bytes or file (dossier attachments, JSON submissions).

B-B and B-T (RFC 3161 signature timestamp). Files are streamed through the digest in 1 MiB
chunks, so memory does not grow with the file (``benchmarks/sign.py`` shows it on 1 GB).
The output is DER CMS SignedData without encapsulated content (``.p7s``), the kind
``openssl cms -verify -binary -content FILE`` checks.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pyhanko.sign import signers

from esign import _core
from esign.errors import KeySourceError, UsageError
from esign.pdf import SignResult, signing_errors
from esign.profiles import PUBLIC, SignatureProfile
from esign.signers import KeySource
from verify import TrustProfile, ValidationPolicy, Verifier

__all__ = ["asign_detached", "default_signature_path", "sign_detached"]

_CHUNK = 1 << 20


def default_signature_path(content: str | os.PathLike[str]) -> Path:
    """``FILE.p7s`` next to ``FILE``."""
    p = Path(content)
    return p.with_name(p.name + ".p7s")


async def asign_detached(
    content: str | os.PathLike[str] | bytes | IO[bytes],
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
    """Detached CAdES signature over ``content``; see :func:`sign_detached`."""
    if signer is None:
        raise UsageError("a signer is required")
    async with _core.opened(signer) as pyhanko_signer:
        plan = await _core.plan(
            pyhanko_signer,
            profile=profile,
            level=level or ("B-T" if (tsa_url or profile.default_tsa) else "B-B"),
            trust=trust,
            policy=policy,
            verifier=verifier,
            tsa_url=tsa_url,
            digest=digest,
        )
        if plan.level not in ("B-B", "B-T"):
            raise UsageError(f"detached CAdES supports B-B and B-T, not {plan.level}")
        with _core.open_input(content) as stream:
            try:
                with signing_errors(plan.tsa_url):
                    signed = await pyhanko_signer.async_sign_general_data(
                        stream,
                        plan.digest,
                        detached=True,
                        use_cades=True,
                        timestamper=plan.timestamper(),
                        chunk_size=_CHUNK,
                    )
            except OSError as exc:
                raise KeySourceError(f"cannot read the content: {exc}") from exc
        der = signed.dump()
        with _core.atomic_output(output) as (out, target):
            out.write(der)
    return SignResult(
        output=target,
        data=der if output is None else None,
        size=len(der),
        sha256=hashlib.sha256(der).hexdigest(),
        level=plan.level,
        profile=profile.name,
        field_name=None,
        signer=plan.identity,
        check=plan.check,
        signing_time=_signing_time(signed),
    )


def sign_detached(
    content: str | os.PathLike[str] | bytes | IO[bytes],
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
    """Sign ``content`` (a path, bytes or a binary stream) with a detached CAdES signature.

    ``output`` is a path, a binary stream or ``None`` (DER bytes in ``SignResult.data``).
    Level ``B-B`` or ``B-T`` (default: B-T when a TSA is known, else B-B). The
    certificate is checked exactly as for :func:`esign.sign_pdf` before anything is
    written; the output is written atomically.
    """
    return asyncio.run(
        asign_detached(
            content,
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


def _signing_time(signed: object) -> datetime:

    from pyhanko.sign.general import find_unique_cms_attribute

    try:
        info = signed["content"]["signer_infos"][0]  # type: ignore[index]
        value = find_unique_cms_attribute(info["signed_attrs"], "signing_time").native
        return value if isinstance(value, datetime) else datetime.now(UTC)
    except Exception:  # noqa: BLE001 - the time is informative only
        return datetime.now(UTC)
