"""Errors raised by :mod:`verify`.

Validation itself does not raise: a verifier returns a report. These exceptions are for
the edges, where a caller handed us something we cannot use (a trust store file that is
not a certificate, an unknown profile name, bytes that are not a certificate).

The tree::

    VerifyError                      base of every error raised on purpose by verify
    ├── TrustStoreError              a trust store file or folder cannot be read
    │   └── UnknownTrustProfileError an unknown trust profile name (also a ValueError)
    ├── CertificateParseError        bytes or an object that is not an X.509 certificate
    │                                (also a ValueError)
    └── PolicyFileError              a validation policy file that cannot be read or is not
                                     a valid policy (also a ValueError)

Every error carries its message in English, on one line, naming the file or value at
fault. ``TrustStoreError.path`` is the offending file when there is one.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CertificateParseError",
    "PolicyFileError",
    "TrustStoreError",
    "UnknownTrustProfileError",
    "VerifyError",
]


class VerifyError(Exception):
    """Base class of every error that :mod:`verify` raises on purpose."""


class TrustStoreError(VerifyError):
    """A trust store (file, bundle or folder of certificates) cannot be used."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class UnknownTrustProfileError(TrustStoreError, ValueError):
    """A trust profile was asked for by a name that does not exist."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown trust profile {name!r}; known profiles: {', '.join(known)}")
        self.name = name
        self.known = known


class CertificateParseError(VerifyError, ValueError):
    """A value given as a certificate is not a readable X.509 certificate."""


class PolicyFileError(VerifyError, ValueError):
    """A policy file cannot be read or is not a valid policy; the message names the file
    and the key at fault."""
