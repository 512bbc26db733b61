"""Where the key lives: soft keys, PKCS#11 tokens, CSC remote services.

Every key source ends in a pyHanko :class:`~pyhanko.sign.signers.Signer`, side by side:

=========================  ====================================================
``from_pkcs12(path, pw)``  PKCS#12 file (agency server key, exported token)
``from_pem(key, chain)``   PEM private key plus certificate chain
``from_pkcs11(...)``       PKCS#11 token (USB ký số) through pyHanko's PKCS11Signer;
                           ``pkcs11_token(...)`` is the same as a context manager
``from_csc(...)``          a CSC API service (SIM ký số / cloud key): returns a
                           :class:`RemoteKey`; ``sign_pdf`` opens it inside its own
                           event loop (aiohttp sessions belong to one loop)
``afrom_csc(session,...)`` the CSCSigner itself, for async callers with their session
=========================  ====================================================

The two-phase flow for browser plugins lives in :mod:`esign.twophase`.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import Signer, SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from esign.errors import (
    AuthorisationFailed,
    KeyNotFound,
    KeySourceError,
    RemoteSigningError,
    RemoteTimeout,
    TokenError,
    TokenNotFound,
    WrongPin,
)

if TYPE_CHECKING:
    import aiohttp
    from pyhanko.sign.pkcs11 import PKCS11Signer
    from pyhanko.sign.signers.csc_signer import CSCSigner

__all__ = [
    "KeySource",
    "LoadedKeySigner",
    "RemoteKey",
    "afrom_csc",
    "cert_store",
    "from_csc",
    "from_pem",
    "from_pkcs11",
    "from_pkcs12",
    "pkcs11_token",
    "signer_chain",
]

_MAX_KEY_FILE = 1024 * 1024


@runtime_checkable
class KeySource(Protocol):
    """A key that needs an event loop to open (remote services): ``async with ks.open()``."""

    def open(self) -> Any:  # an async context manager yielding a pyHanko Signer
        ...


# -- soft keys -----------------------------------------------------------------------------


def _read(path: str | os.PathLike[str], what: str) -> bytes:
    p = Path(path)
    try:
        if p.stat().st_size > _MAX_KEY_FILE:
            raise KeySourceError(f"{p}: too large for a {what}")
        return p.read_bytes()
    except OSError as exc:
        raise KeySourceError(f"{p}: cannot read {what}: {exc.strerror or exc}") from exc


def _asn1_cert(cert: Any) -> x509.Certificate:
    return x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _asn1_key(key: Any) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


class LoadedKeySigner(SimpleSigner):
    """pyHanko's :class:`SimpleSigner` that keeps the loaded private key.

    ``SimpleSigner.sign_raw`` parses its key again for every signature, and a PAdES
    signature signs twice (a dry run sizes the /Contents gap): for a 3072-bit RSA key that
    parsing, with its consistency checks, costs more than the signing itself. This signer
    parses the key once, when it is made; everything else is ``SimpleSigner``'s.
    """

    def __init__(
        self,
        private_key: Any,
        *,
        signing_cert: x509.Certificate,
        cert_registry: Any,
        signature_mechanism: Any = None,
    ) -> None:
        super().__init__(
            signing_cert=signing_cert,
            signing_key=_asn1_key(private_key),
            cert_registry=cert_registry,
            signature_mechanism=signature_mechanism,
        )
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism_info = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            mechanism = mechanism_info.signature_algo
        except ValueError:
            mechanism = mechanism_info["algorithm"].native
        key = self._private_key
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if mechanism == "rsassa_pss" and isinstance(key, rsa.RSAPrivateKey):
            pss, hash_algo = process_pss_params(mechanism_info["parameters"])
            return key.sign(data, pss, hash_algo)
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        return super().sign_raw(data, digest_algorithm)  # other key types: pyHanko's way


def from_pkcs12(
    path: str | os.PathLike[str] | bytes, password: str | bytes | None = None
) -> SimpleSigner:
    """A signer from a PKCS#12 file (or its bytes). ``password`` may be empty.

    Raises :class:`KeySourceError` for a missing file, a wrong password or a file without a
    key and certificate.
    """
    data = path if isinstance(path, bytes) else _read(path, "PKCS#12 file")
    where = "PKCS#12 data" if isinstance(path, bytes) else str(path)
    pw = password.encode() if isinstance(password, str) else password
    try:
        key, cert, cas = pkcs12.load_key_and_certificates(data, pw or None)
    except ValueError as exc:
        if pw:
            raise KeySourceError(f"{where}: wrong password or not a PKCS#12 file") from exc
        try:  # an empty password may be b"" rather than "no password"
            key, cert, cas = pkcs12.load_key_and_certificates(data, b"")
        except ValueError:
            raise KeySourceError(
                f"{where}: a password is needed, or this is not a PKCS#12 file"
            ) from exc
    if key is None or cert is None:
        raise KeySourceError(f"{where}: holds no private key and certificate")
    return LoadedKeySigner(
        key,
        signing_cert=_asn1_cert(cert),
        cert_registry=cert_store([_asn1_cert(c) for c in cas]),
    )


def from_pem(
    key: str | os.PathLike[str] | bytes,
    chain: str | os.PathLike[str] | bytes | Sequence[x509.Certificate],
    password: str | bytes | None = None,
) -> SimpleSigner:
    """A signer from a PEM (or DER) private key and a certificate chain.

    ``chain`` is a PEM file (or bytes) whose first certificate is the signer's, followed by
    its CAs, or a sequence of asn1crypto certificates in that order.
    """
    key_data = key if isinstance(key, bytes) else _read(key, "private key")
    pw = password.encode() if isinstance(password, str) else password
    try:
        if key_data.lstrip().startswith(b"-----"):
            private = serialization.load_pem_private_key(key_data, pw or None)
        else:
            private = serialization.load_der_private_key(key_data, pw or None)
    except (ValueError, TypeError) as exc:
        raise KeySourceError(f"private key cannot be loaded: {_first_line(exc)}") from exc
    if isinstance(chain, bytes | str | os.PathLike):
        raw = chain if isinstance(chain, bytes) else _read(chain, "certificate chain")
        certs = _parse_certs(raw)
    else:
        certs = list(chain)
    if not certs:
        raise KeySourceError("the certificate chain holds no certificate")
    signer_cert = certs[0]
    pub_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if signer_cert.public_key.dump() != pub_der:
        raise KeySourceError("the private key does not match the first certificate of the chain")
    return LoadedKeySigner(private, signing_cert=signer_cert, cert_registry=cert_store(certs[1:]))


def _parse_certs(raw: bytes) -> list[x509.Certificate]:
    try:
        if asn1_pem.detect(raw):
            return [
                x509.Certificate.load(der)
                for kind, _h, der in asn1_pem.unarmor(raw, multiple=True)
                if kind == "CERTIFICATE"
            ]
        return [x509.Certificate.load(raw)]
    except (ValueError, TypeError) as exc:
        raise KeySourceError(f"certificate chain cannot be read: {_first_line(exc)}") from exc


def cert_store(certs: Sequence[x509.Certificate]) -> SimpleCertificateStore:
    """A pyhanko-certvalidator certificate store holding ``certs``."""
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]
    store.register_multiple(certs)
    return store


def signer_chain(signer: Signer) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The signer's certificate and the other certificates it carries."""
    cert = signer.signing_cert
    if cert is None:
        raise KeySourceError("the signer has no certificate")
    others = [c for c in signer.cert_registry if c.dump() != cert.dump()]
    return cert, others


# -- PKCS#11 -------------------------------------------------------------------------------


def from_pkcs11(
    lib: str | os.PathLike[str],
    token_label: str,
    key_label: str,
    pin: str | None,
    *,
    cert_label: str | None = None,
) -> PKCS11Signer:
    """A signer for a key on a PKCS#11 token (USB ký số), through pyHanko's PKCS11Signer.

    Opens a session and loads the key, certificate and every other certificate on the token
    at once, so a wrong PIN, a missing token or a missing key is reported here:
    :class:`TokenNotFound`, :class:`WrongPin`, :class:`KeyNotFound`. Close the session with
    ``signer.pkcs11_session.close()`` or use :func:`pkcs11_token`.
    """
    try:
        import pkcs11
        from pkcs11 import exceptions as p11_exc
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
    except ImportError as exc:  # pragma: no cover - the extra is not installed
        raise TokenError("PKCS#11 support needs the 'pkcs11' extra (python-pkcs11)") from exc

    lib_path = os.fspath(lib)
    if not Path(lib_path).exists():
        raise TokenNotFound(f"{lib_path}: no such PKCS#11 library")
    try:
        session = open_pkcs11_session(
            lib_path, token_criteria=TokenCriteria(label=token_label), user_pin=pin
        )
    except p11_exc.PinIncorrect as exc:
        raise WrongPin(f"token {token_label!r}: wrong PIN") from exc
    except p11_exc.PinLenRange as exc:
        raise WrongPin(f"token {token_label!r}: PIN of a length the token does not accept") from exc
    except p11_exc.PinLocked as exc:
        raise WrongPin(f"token {token_label!r}: PIN locked") from exc
    except pkcs11.PKCS11Error as exc:
        if "No token" in str(exc):
            raise TokenNotFound(f"no PKCS#11 token labelled {token_label!r}") from exc
        raise TokenError(f"token {token_label!r}: {_first_line(exc)}") from exc
    except (OSError, RuntimeError) as exc:
        raise TokenNotFound(f"{lib_path}: cannot load PKCS#11 library: {exc}") from exc
    signer = PKCS11Signer(
        session,
        cert_label=cert_label or key_label,
        key_label=key_label,
        other_certs_to_pull=None,
    )
    try:
        # pyHanko's loader, called now so a missing key fails here, not mid-signature
        signer._load_objects()  # type: ignore[no-untyped-call]
        list(signer._load_other_certs())
        # many tokens (SoftHSM2 among them) only do raw ECDSA: hash here, sign there
        signer.use_raw_mechanism = signer.signing_cert.public_key.algorithm == "ec"
    except pkcs11.PKCS11Error as exc:
        session.close()
        raise KeyNotFound(
            f"token {token_label!r}: no key and certificate labelled {key_label!r}"
        ) from exc
    return signer


@contextmanager
def pkcs11_token(
    lib: str | os.PathLike[str],
    token_label: str,
    key_label: str,
    pin: str | None,
    *,
    cert_label: str | None = None,
) -> Iterator[PKCS11Signer]:
    """:func:`from_pkcs11` as a context manager that closes the session."""
    signer = from_pkcs11(lib, token_label, key_label, pin, cert_label=cert_label)
    try:
        yield signer
    finally:
        signer.pkcs11_session.close()


# -- CSC remote signing ------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteKey:
    """A credential on a CSC API service (SIM ký số, cloud signing).

    ``token`` is the OAuth2 bearer token for the service; ``pin``/``otp`` go to
    ``credentials/authorize`` (hash-pinned: the SAD is bound to the hashes being signed).
    ``timeout`` bounds every HTTP call, in seconds. Open it in an event loop with
    ``async with key.open() as signer``; :func:`esign.sign_pdf` does that for you.
    """

    url: str
    credential_id: str
    token: str | None = None
    pin: str | None = None
    otp: str | None = None
    timeout: float = 30.0
    extra_headers: dict[str, str] = field(default_factory=dict, compare=False)

    @asynccontextmanager
    async def open(self) -> AsyncIterator[CSCSigner]:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            yield await afrom_csc(
                session,
                self.url,
                self.credential_id,
                token=self.token,
                pin=self.pin,
                otp=self.otp,
                timeout=self.timeout,
            )


def from_csc(
    url: str,
    credential_id: str,
    *,
    token: str | None = None,
    pin: str | None = None,
    otp: str | None = None,
    timeout: float = 30.0,
) -> RemoteKey:
    """A :class:`RemoteKey` for a CSC API service; see :func:`afrom_csc` for async callers."""
    return RemoteKey(url.rstrip("/"), credential_id, token, pin, otp, timeout)


async def afrom_csc(
    session: aiohttp.ClientSession,
    url: str,
    credential_id: str,
    *,
    token: str | None = None,
    pin: str | None = None,
    otp: str | None = None,
    timeout: float = 30.0,
) -> CSCSigner:
    """pyHanko's :class:`CSCSigner` for a credential, its certificates fetched.

    Raises :class:`AuthorisationFailed` (HTTP 401/403), :class:`RemoteTimeout` or
    :class:`RemoteSigningError`.
    """
    import aiohttp
    from pyhanko.sign.signers.csc_signer import (
        CSCServiceSessionInfo,
        fetch_certs_in_csc_credential,
    )

    info = CSCServiceSessionInfo(url.rstrip("/"), credential_id, oauth_token=token)
    try:
        cred = await asyncio.wait_for(
            fetch_certs_in_csc_credential(session, info, timeout=int(max(timeout, 1))),
            timeout,
        )
    except TimeoutError as exc:
        raise RemoteTimeout(f"{url}: no answer within {timeout:g} s (credentials/info)") from exc
    except SigningError as exc:
        raise _remote_error(exc, url, "credentials/info") from exc
    except aiohttp.ClientError as exc:
        raise RemoteSigningError(f"{url}: {_first_line(exc)}") from exc
    manager = _HashPinnedAuthorization(
        info, cred, pin=pin, otp=otp, session=session, timeout=timeout
    )
    return _TimedCSCSigner(
        session, manager, sign_timeout=int(max(timeout, 1)), url=url, limit=timeout
    )


def _remote_error(exc: BaseException, url: str, endpoint: str) -> RemoteSigningError:
    cause: BaseException | None = exc
    while cause is not None:
        status = getattr(cause, "status", None)
        if status in (401, 403):
            return AuthorisationFailed(f"{url}: {endpoint} refused (HTTP {status})")
        if isinstance(cause, TimeoutError):
            return RemoteTimeout(f"{url}: {endpoint} timed out")
        if status is not None:
            return RemoteSigningError(f"{url}: {endpoint} failed (HTTP {status})")
        cause = cause.__cause__ or cause.__context__
    return RemoteSigningError(f"{url}: {endpoint} failed: {_first_line(exc)}")


def _make_manager_base() -> type:
    from pyhanko.sign.signers.csc_signer import CSCAuthorizationManager

    return CSCAuthorizationManager


class _HashPinnedAuthorization(_make_manager_base()):  # type: ignore[misc]
    """Asks ``credentials/authorize`` for a SAD bound to exactly the hashes to sign."""

    def __init__(
        self,
        info: Any,
        cred: Any,
        *,
        pin: str | None,
        otp: str | None,
        session: aiohttp.ClientSession,
        timeout: float,
    ) -> None:
        super().__init__(info, cred)
        self._pin = pin
        self._otp = otp
        self._session = session
        self._timeout = timeout

    async def authorize_signature(self, hash_b64s: list[str]) -> Any:
        import aiohttp
        from pyhanko.sign.signers.csc_signer import CSCAuthorizationInfo

        info = self.csc_session_info
        url = info.endpoint_url("credentials/authorize")
        body = self.format_csc_auth_request(
            num_signatures=len(hash_b64s), pin=self._pin, otp=self._otp, hash_b64s=hash_b64s
        )
        try:
            async with self._session.post(
                url,
                headers=info.auth_headers,
                json=body,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                if response.status in (401, 403):
                    raise AuthorisationFailed(
                        f"{info.service_url}: credentials/authorize refused "
                        f"(HTTP {response.status})"
                    )
                if response.status >= 400:
                    raise AuthorisationFailed(
                        f"{info.service_url}: credentials/authorize failed (HTTP {response.status})"
                    )
                data = await response.json()
        except TimeoutError as exc:
            raise RemoteTimeout(
                f"{info.service_url}: no answer within {self._timeout:g} s (credentials/authorize)"
            ) from exc
        except aiohttp.ClientError as exc:
            raise RemoteSigningError(f"{info.service_url}: {_first_line(exc)}") from exc
        try:
            sad = str(data["SAD"])
        except (KeyError, TypeError) as exc:
            raise RemoteSigningError(f"{info.service_url}: authorize answer without SAD") from exc
        return CSCAuthorizationInfo(sad=sad)


def _csc_signer_base() -> type:
    from pyhanko.sign.signers.csc_signer import CSCSigner

    return CSCSigner


class _TimedCSCSigner(_csc_signer_base()):  # type: ignore[misc]
    """pyHanko's CSCSigner, with its failures mapped to esign's errors."""

    def __init__(self, *args: Any, url: str, limit: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._url = url
        self._limit = limit

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        try:
            result: bytes = await asyncio.wait_for(
                super().async_sign_raw(data, digest_algorithm, dry_run=dry_run), self._limit
            )
        except (AuthorisationFailed, RemoteTimeout, RemoteSigningError):
            raise
        except TimeoutError as exc:
            raise RemoteTimeout(
                f"{self._url}: no answer within {self._limit:g} s (signHash)"
            ) from exc
        except SigningError as exc:
            err = _remote_error(exc, self._url, "signatures/signHash")
            raise err from exc
        return result


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
