"""A revocation and certificate cache shared across documents and worker processes.

What pyhanko-certvalidator fetches (OCSP responses, CRLs, CA certificates from AIA) is kept
in a :class:`RevocationCache`: in memory, or in a SQLite file that the worker processes on
one machine share (WAL mode, a busy timeout: safe under concurrent writers).

A missing issuer certificate is fetched from the address its child names (AIA caIssuers)
by an :class:`IssuerFetcher`: with a time limit and a size limit, and kept only once it is
shown to be the issuer (the names match, the child's signature verifies with its key, it
is a CA). Kept certificates are found again by address and by subject and key identifier,
offline too: a later run without the network builds the same path from the cache.

An OCSP response or CRL is *used for the validation times it covers*: from its
thisUpdate to its nextUpdate. Asked about a moment outside that window, the cache misses
and the verifier fetches again. Issuer certificates, once checked, are kept for good (a
certificate does not change; its validity is judged with the path).

OCSP requests made through the cache carry no nonce (the lightweight profile of RFC 5019),
so that one answer can serve every document signed under the same certificate.

One cache may be shared by every thread of a process: the memory store and the counters
are kept under a lock, and each thread has its own SQLite connection (each process too:
a connection is never used across a fork).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from asn1crypto import cms, pem, x509
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from pyhanko_certvalidator.fetchers.api import CertificateFetcher, Fetchers
from pyhanko_certvalidator.fetchers.common_utils import gather_aia_issuer_urls
from pyhanko_certvalidator.fetchers.requests_fetchers import (
    RequestsFetcherBackend,
)
from pyhanko_certvalidator.fetchers.requests_fetchers.crl_client import RequestsCRLFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.ocsp_client import RequestsOCSPFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.util import RequestsFetcherMixin
from pyhanko_certvalidator.sig_validate import DEFAULT_SIGNATURE_VALIDATOR

__all__ = [
    "MAX_CERTIFICATE_ANSWER",
    "CachingFetcherBackend",
    "FetchFailure",
    "IssuerFetcher",
    "RevocationCache",
    "default_cache_dir",
    "parse_certificates",
]

MAX_CERTIFICATE_ANSWER = 1 << 20
"""Bytes read at most from an address that serves an issuer certificate (1 MiB)."""

_MAX_AIA_URLS = 10
"""caIssuers addresses followed at most for one certificate or CRL."""

_MAX_FETCHES = 16
"""Issuer certificates fetched at most for one validation context: a server handing out a
new CA at every request cannot keep a path builder fetching."""

_FAILURES_KEPT = 4096
"""Failed issuer fetches remembered (for the reasons reports give), most recent kept."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT NOT NULL,
    valid_from REAL,
    valid_to REAL,
    stored REAL NOT NULL
)
"""

_CERT_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS certificates (
    url TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    subject TEXT NOT NULL,
    key_id TEXT NOT NULL,
    der BLOB NOT NULL,
    stored REAL NOT NULL,
    PRIMARY KEY (url, sha256)
)
""",
    "CREATE INDEX IF NOT EXISTS certificates_by_subject ON certificates (subject, key_id)",
)
"""Issuer certificates fetched (AIA caIssuers) and checked, by address and by subject."""


def default_cache_dir() -> Path:
    """``$HOSO_CACHE_DIR``, else ``$XDG_CACHE_HOME/hoso``, else ``~/.cache/hoso``."""
    env = os.environ.get("HOSO_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hoso"


@dataclass(frozen=True)
class _Entry:
    body: bytes
    content_type: str
    valid_from: float | None
    valid_to: float | None
    stored: float


def _window(kind: str, body: bytes) -> tuple[float | None, float | None]:
    """The validity window (thisUpdate, nextUpdate) an answer speaks for."""
    try:
        if kind == "crl":
            tbs = asn1_crl.CertificateList.load(body)["tbs_cert_list"]
            this, nxt = tbs["this_update"].native, tbs["next_update"].native
        elif kind == "ocsp":
            resp = asn1_ocsp.OCSPResponse.load(body)
            single = resp.basic_ocsp_response["tbs_response_data"]["responses"][0]
            this, nxt = single["this_update"].native, single["next_update"].native
        else:
            return None, None
    except Exception:  # noqa: BLE001 - an unparsable answer is not cached
        return 0.0, 0.0
    return (
        this.timestamp() if isinstance(this, datetime) else None,
        nxt.timestamp() if isinstance(nxt, datetime) else None,
    )


class RevocationCache:
    """OCSP responses, CRLs and certificates by request, in memory or in a SQLite file."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, cert_ttl: float = 86400):
        self.path = Path(path) if path is not None else None
        self.cert_ttl = cert_ttl
        self._memory: dict[str, tuple[str, _Entry]] = {}
        self._certs: dict[tuple[str, str], tuple[str, str, bytes]] = {}
        self._failures: OrderedDict[str, FetchFailure] = OrderedDict()
        self._lock = threading.Lock()
        self._local = threading.local()
        self.hits = 0
        """Answers found here that speak for the time asked about."""
        self.misses = 0
        """Answers asked for and not found (or not for that time): fetched, if allowed."""
        self.fetched = 0
        """Answers fetched from the network through this cache."""
        self.fetch_errors = 0
        """Fetches that failed (unreachable, timed out, an HTTP error status)."""
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._db() as db:
                db.execute(_SCHEMA)
                for statement in _CERT_SCHEMA:
                    db.execute(statement)

    @classmethod
    def in_directory(cls, folder: str | os.PathLike[str]) -> RevocationCache:
        return cls(Path(folder) / "revocation-cache.sqlite3")

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "cert_ttl": self.cert_ttl}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], cert_ttl=state["cert_ttl"])  # type: ignore[misc]

    def _db(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            assert self.path is not None
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    @staticmethod
    def key(method: str, url: str, body: bytes = b"") -> str:
        return hashlib.sha256(method.encode() + b"\0" + url.encode() + b"\0" + body).hexdigest()

    def get(self, key: str, moment: datetime) -> _Entry | None:
        """The stored answer if it speaks for ``moment`` (or is a fresh certificate)."""
        found: tuple[str, _Entry] | None
        if self.path is None:
            with self._lock:
                found = self._memory.get(key)
        else:
            row = (
                self._db()
                .execute(
                    "SELECT kind, body, content_type, valid_from, valid_to, stored FROM entries "
                    "WHERE key = ?",
                    (key,),
                )
                .fetchone()
            )
            found = (row[0], _Entry(row[1], row[2], row[3], row[4], row[5])) if row else None
        if found is None:
            self._count("misses")
            return None
        kind, entry = found
        if kind == "cert":
            usable = time.time() - entry.stored < self.cert_ttl
        else:
            m = moment.timestamp()
            usable = (
                entry.valid_from is not None
                and entry.valid_to is not None
                and entry.valid_from <= m <= entry.valid_to
            )
        if usable:
            self._count("hits")
            return entry
        self._count("misses")
        return None

    def _count(self, counter: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, counter, getattr(self, counter) + n)

    def put(self, key: str, kind: str, body: bytes, content_type: str) -> None:
        valid_from, valid_to = _window(kind, body)
        if kind != "cert" and (valid_to is None or valid_to == 0.0):
            return  # no nextUpdate: an answer that speaks only for the moment it was made
        entry = _Entry(body, content_type, valid_from, valid_to, time.time())
        if self.path is None:
            with self._lock:
                self._memory[key] = (kind, entry)
            return
        self._db().execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, kind, body, content_type, valid_from, valid_to, entry.stored),
        )

    def __len__(self) -> int:
        if self.path is None:
            return len(self._memory)
        row = self._db().execute("SELECT COUNT(*) FROM entries").fetchone()
        return int(row[0])

    # -- issuer certificates (AIA caIssuers) -------------------------------------------

    def keep_certificate(self, url: str, cert: x509.Certificate) -> None:
        """Keep an issuer certificate fetched from ``url`` (already checked by the caller:
        see :class:`IssuerFetcher`)."""
        der = cert.dump()
        sha = hashlib.sha256(der).hexdigest()
        subject, key_id = _name_key(cert.subject), (cert.key_identifier or b"").hex()
        if self.path is None:
            with self._lock:
                self._certs[(url, sha)] = (subject, key_id, der)
            return
        self._db().execute(
            "INSERT OR REPLACE INTO certificates VALUES (?, ?, ?, ?, ?, ?)",
            (url, sha, subject, key_id, der, time.time()),
        )

    def certificates_from(self, url: str) -> list[x509.Certificate]:
        """The issuer certificates fetched from ``url`` and kept here."""
        if self.path is None:
            with self._lock:
                ders = [v[2] for (u, _sha), v in self._certs.items() if u == url]
        else:
            rows = self._db().execute(
                "SELECT der FROM certificates WHERE url = ? ORDER BY stored", (url,)
            )
            ders = [bytes(row[0]) for row in rows.fetchall()]
        return _loaded(ders)

    def certificates_named(
        self, name: x509.Name, key_id: bytes | None = None
    ) -> list[x509.Certificate]:
        """The kept issuer certificates with subject ``name`` (and, when given, subject key
        identifier ``key_id``), wherever they were fetched from."""
        subject, kid = _name_key(name), (key_id or b"").hex()
        if self.path is None:
            with self._lock:
                ders = [
                    v[2]
                    for v in self._certs.values()
                    if v[0] == subject and (not kid or v[1] == kid)
                ]
        else:
            query = "SELECT der FROM certificates WHERE subject = ?"
            args: tuple[str, ...] = (subject,)
            if kid:
                query += " AND key_id = ?"
                args = (subject, kid)
            ders = [bytes(row[0]) for row in self._db().execute(query, args).fetchall()]
        return _loaded(dict.fromkeys(ders))

    def note_failure(self, failure: FetchFailure) -> None:
        """Remember why fetching from an address failed (in memory, for the reasons)."""
        with self._lock:
            self._failures[failure.url] = failure
            self._failures.move_to_end(failure.url)
            while len(self._failures) > _FAILURES_KEPT:
                self._failures.popitem(last=False)
        self._count("fetch_errors")

    def note_success(self, url: str) -> None:
        with self._lock:
            self._failures.pop(url, None)
        self._count("fetched")

    def failure(self, url: str) -> FetchFailure | None:
        """Why the last fetch from ``url`` failed, if it did (and none succeeded since)."""
        with self._lock:
            return self._failures.get(url)


def _name_key(name: x509.Name) -> str:
    """A name as the path builder compares names (normalised), hashed."""
    return hashlib.sha256(name.hashable.encode()).hexdigest()


def _loaded(ders: Iterable[bytes]) -> list[x509.Certificate]:
    certs = []
    for der in ders:
        try:
            certs.append(x509.Certificate.load(der, strict=True))
        except ValueError:
            continue  # a damaged row is no certificate
    return certs


@dataclass(frozen=True)
class FetchFailure:
    """Why no issuer certificate could be had from an address, in both languages."""

    url: str
    reason_vi: str
    reason_en: str


class _Failed(Exception):
    def __init__(self, reason_vi: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.reason_vi = reason_vi
        self.reason_en = reason_en


def parse_certificates(body: bytes) -> list[x509.Certificate]:
    """The certificates of an AIA answer: one certificate in DER or PEM, or a PKCS#7
    certificates-only bundle (DER or PEM). Raises ``ValueError`` for anything else."""
    blocks: list[bytes] = []
    if pem.detect(body):
        blocks = [der for _kind, _headers, der in pem.unarmor(body, multiple=True)]
    else:
        blocks = [body]
    certs: list[x509.Certificate] = []
    for block in blocks:
        info = cms.ContentInfo.load(block)
        try:
            is_bundle = info["content_type"].native == "signed_data"
        except (ValueError, KeyError, TypeError):
            is_bundle = False
        if is_bundle:
            for choice in info["content"]["certificates"] or ():
                if choice.name == "certificate":
                    certs.append(choice.chosen)
            continue
        cert = x509.Certificate.load(block, strict=True)
        _ = cert.subject, cert.public_key  # parse now: a damaged answer fails here
        certs.append(cert)
    if not certs:
        raise ValueError("no certificate in the answer")
    return certs


def _download(url: str, timeout: float, limit: int) -> bytes:
    """At most ``limit`` bytes from ``url`` within ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    try:
        with requests.get(
            url,
            timeout=timeout,
            stream=True,
            headers={"Accept": "application/pkix-cert, application/pkcs7-mime, */*"},
        ) as response:
            if response.status_code != 200:
                code = f"HTTP {response.status_code}"
                raise _Failed(f"máy chủ trả lời {code}", f"the server answered {code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_big(limit)
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_content(64 * 1024):
                total += len(chunk)
                if total > limit:
                    raise _too_big(limit)
                if time.monotonic() > deadline:
                    raise _timed_out(timeout)
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.Timeout:
        raise _timed_out(timeout) from None
    except requests.ConnectionError as exc:
        text = str(exc)
        if "refused" in text.lower():
            raise _Failed("kết nối bị từ chối", "connection refused") from None
        if "timed out" in text.lower():
            raise _timed_out(timeout) from None
        detail = text.splitlines()[0][:160] if text else type(exc).__name__
        raise _Failed(f"không kết nối được ({detail})", f"could not connect ({detail})") from None
    except requests.RequestException as exc:
        detail = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise _Failed(f"lỗi tải ({detail})", f"fetch error ({detail})") from None


def _too_big(limit: int) -> _Failed:
    return _Failed(
        f"câu trả lời lớn hơn {limit:,} byte, đã dừng đọc",
        f"the answer is larger than {limit:,} bytes; reading stopped",
    )


def _timed_out(timeout: float) -> _Failed:
    return _Failed(
        f"hết thời gian chờ ({timeout:g} giây)", f"timed out (after {timeout:g} seconds)"
    )


class _Signed:
    """What an issuer must have signed: a certificate or a CRL, by name and key id."""

    def __init__(self, obj: x509.Certificate | asn1_crl.CertificateList) -> None:
        if isinstance(obj, x509.Certificate):
            self.tbs = obj["tbs_certificate"].dump()
            self.signature = bytes(obj["signature_value"].native)
            self.algorithm = obj["signature_algorithm"]
            self.issuer = obj.issuer
            self.key_id = obj.authority_key_identifier
            self.label = _label(obj.subject)
            self.urls = list(gather_aia_issuer_urls(obj))
        else:
            self.tbs = obj["tbs_cert_list"].dump()
            self.signature = bytes(obj["signature"].native)
            self.algorithm = obj["signature_algorithm"]
            self.issuer = obj.issuer
            self.key_id = obj.authority_key_identifier
            self.label = "CRL " + _label(obj.issuer)
            self.urls = [u for u in obj.issuer_cert_urls if u.startswith("http")]

    def problem(self, candidate: x509.Certificate) -> tuple[str, str] | None:
        """Why ``candidate`` is not the issuer (vi, en), or None when it is."""
        who = _label(candidate.subject)
        if candidate.subject.hashable != self.issuer.hashable:
            return (
                f"chứng thư số nhận được «{who}» không mang tên đơn vị cấp",
                f"the certificate served «{who}» does not bear the issuer's name",
            )
        if self.key_id and candidate.key_identifier and self.key_id != candidate.key_identifier:
            return (
                f"khóa của «{who}» không phải khóa đã ký (mã định danh khóa khác)",
                f"«{who}» has another key than the one that signed (key identifiers differ)",
            )
        try:
            DEFAULT_SIGNATURE_VALIDATOR.validate_signature(
                self.signature, self.tbs, candidate.public_key, self.algorithm
            )
        except Exception:  # noqa: BLE001 - any failure: its key did not sign
            return (
                f"chữ ký của {self.label} không kiểm tra được bằng khóa của «{who}»",
                f"the signature on {self.label} does not verify with the key of «{who}»",
            )
        if not candidate.ca:
            return (
                f"«{who}» không phải chứng thư số của tổ chức cấp (CA)",
                f"«{who}» is not a CA certificate",
            )
        usage = candidate.key_usage_value
        if usage is not None and not (usage.native & {"key_cert_sign", "crl_sign"}):
            return (
                f"«{who}» không được phép ký chứng thư số (key usage)",
                f"«{who}» may not sign certificates (key usage)",
            )
        return None


def _label(name: x509.Name) -> str:
    try:
        return str(name.native.get("common_name") or name.human_friendly)
    except Exception:  # noqa: BLE001 - an odd name is still shown somehow
        return "?"


class IssuerFetcher(CertificateFetcher):
    """pyhanko-certvalidator's certificate fetcher, through a :class:`RevocationCache`.

    Asked for the issuers of a certificate (or of a CRL), it answers with the checked
    issuer certificates the cache holds for the names and key identifiers concerned, or
    for the addresses given; failing that, when ``network`` is allowed, it fetches each
    caIssuers address (``timeout`` seconds in all, at most ``limit`` bytes), keeps what
    proves to be the issuer, and remembers in the cache why an address gave nothing.
    Offline it reads the cache only.
    """

    def __init__(
        self,
        cache: RevocationCache,
        *,
        network: bool,
        timeout: float,
        limit: int = MAX_CERTIFICATE_ANSWER,
    ) -> None:
        self.cache = cache
        self.network = network
        self.timeout = timeout
        self.limit = limit
        self._got: dict[bytes, x509.Certificate] = {}
        self._tried: dict[str, list[x509.Certificate]] = {}

    def fetch_cert_issuers(
        self, cert: x509.Certificate | cms.AttributeCertificateV2
    ) -> AsyncGenerator[x509.Certificate, None]:
        if not isinstance(cert, x509.Certificate):
            return _nothing()
        return self._issuers(_Signed(cert))

    def fetch_crl_issuers(
        self, certificate_list: asn1_crl.CertificateList
    ) -> AsyncGenerator[x509.Certificate, None]:
        return self._issuers(_Signed(certificate_list))

    def fetched_certs(self) -> Iterable[x509.Certificate]:
        return list(self._got.values())

    async def _issuers(self, signed: _Signed) -> AsyncGenerator[x509.Certificate, None]:
        kept = self.cache.certificates_named(signed.issuer, signed.key_id)
        for url in signed.urls[:_MAX_AIA_URLS]:
            kept.extend(self.cache.certificates_from(url))
        found = self._checked(signed, kept)
        if found or not self.network:
            for cert in found:
                yield cert
            return
        for url in signed.urls[:_MAX_AIA_URLS]:
            for cert in await self._fetch(url, signed):
                yield cert

    def _checked(
        self, signed: _Signed, certs: Sequence[x509.Certificate]
    ) -> list[x509.Certificate]:
        good: dict[bytes, x509.Certificate] = {}
        for cert in certs:
            if cert.dump() not in good and signed.problem(cert) is None:
                good[cert.dump()] = cert
        self._got.update(good)
        return list(good.values())

    async def _fetch(self, url: str, signed: _Signed) -> list[x509.Certificate]:
        if url in self._tried:  # once per validation context
            return self._checked(signed, self._tried[url])
        if len(self._tried) >= _MAX_FETCHES:
            self.cache.note_failure(
                FetchFailure(
                    url,
                    f"không tải: đã tải {_MAX_FETCHES} chứng thư số cho một lần kiểm tra",
                    f"not fetched: {_MAX_FETCHES} certificates were fetched for one validation",
                )
            )
            return []
        self._tried[url] = []
        try:
            body = await asyncio.to_thread(_download, url, self.timeout, self.limit)
            try:
                certs = parse_certificates(body)
            except Exception:  # noqa: BLE001 - garbage is a reason, not a crash
                raise _Failed(
                    "câu trả lời không phải chứng thư số (DER, PEM hay PKCS#7)",
                    "the answer is not a certificate (DER, PEM or PKCS#7)",
                ) from None
            problems = [(c, signed.problem(c)) for c in certs]
            good = [c for c, p in problems if p is None]
            if not good:
                vi, en = next(p for _c, p in problems if p is not None)
                raise _Failed(vi, en)
        except _Failed as failed:
            self.cache.note_failure(FetchFailure(url, failed.reason_vi, failed.reason_en))
            return []
        for cert in good:
            self.cache.keep_certificate(url, cert)
        self.cache.note_success(url)
        self._tried[url] = good
        return self._checked(signed, good)


async def _nothing() -> AsyncGenerator[x509.Certificate, None]:
    return
    yield  # an empty asynchronous generator


class _Response:
    """What the requests-based fetchers read from a response: content and headers."""

    def __init__(self, content: bytes, content_type: str) -> None:
        self.content = content
        self.headers = {"Content-Type": content_type}
        self.status_code = 200


class _CachedHttp(RequestsFetcherMixin):
    _cache: RevocationCache
    _moment: datetime
    _kind: str

    def _get(self, url: str, *, acceptable_content_types: Any) -> Awaitable[Any]:
        fetch = super()._get(url, acceptable_content_types=acceptable_content_types)
        return self._cached("GET", url, b"", fetch)

    def _post(
        self, url: str, data: bytes, *, content_type: str, acceptable_content_types: Any
    ) -> Awaitable[Any]:
        fetch = super()._post(
            url,
            data,
            content_type=content_type,
            acceptable_content_types=acceptable_content_types,
        )
        return self._cached("POST", url, data, fetch)

    async def _cached(self, method: str, url: str, body: bytes, fetch: Awaitable[Any]) -> Any:
        key = RevocationCache.key(method, url, body)
        hit = self._cache.get(key, self._moment)
        if hit is not None:
            close = getattr(fetch, "close", None)
            if close is not None:
                close()  # the network request is never started
            return _Response(hit.body, hit.content_type)
        try:
            response = await fetch
        except Exception:
            self._cache._count("fetch_errors")
            raise
        self._cache._count("fetched")
        content_type = str(response.headers.get("Content-Type", ""))
        self._cache.put(key, self._kind, bytes(response.content), content_type)
        return response


class _CachedOCSP(_CachedHttp, RequestsOCSPFetcher):
    _kind = "ocsp"


class _CachedCRL(_CachedHttp, RequestsCRLFetcher):
    _kind = "crl"


class CachingFetcherBackend(RequestsFetcherBackend):
    """Fetchers that consult a :class:`RevocationCache` before the network.

    ``get_fetchers(moment)`` gives fresh fetchers (pyhanko-certvalidator's own in-memory
    results never expire, so one set must not outlive a document) bound to the validation
    time, sharing the cache. Issuer certificates come from an :class:`IssuerFetcher`.
    """

    def __init__(self, cache: RevocationCache, per_request_timeout: float = 10) -> None:
        super().__init__(per_request_timeout=per_request_timeout)
        self.cache = cache

    def get_fetchers(self, moment: datetime | None = None) -> Fetchers:
        when = moment or datetime.now(UTC)
        timeout = self.per_request_timeout
        ocsp = _CachedOCSP(per_request_timeout=timeout, request_nonces=False)
        crl = _CachedCRL(per_request_timeout=timeout)  # type: ignore[no-untyped-call]
        for fetcher in (ocsp, crl):
            fetcher._cache = self.cache
            fetcher._moment = when
        certs = IssuerFetcher(self.cache, network=True, timeout=timeout)
        return Fetchers(ocsp_fetcher=ocsp, crl_fetcher=crl, cert_fetcher=certs)
