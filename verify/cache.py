"""A revocation and certificate cache shared across documents and worker processes.

What pyhanko-certvalidator fetches (OCSP responses, CRLs, CA certificates from AIA) is kept
in a :class:`RevocationCache`: in memory, or in a SQLite file that the worker processes on
one machine share (WAL mode, a busy timeout: safe under concurrent writers).

An OCSP response or CRL is *used for the validation times it covers*: from its
thisUpdate to its nextUpdate. Asked about a moment outside that window, the cache misses
and the verifier fetches again. Certificates are kept for ``cert_ttl`` seconds.

OCSP requests made through the cache carry no nonce (the lightweight profile of RFC 5019),
so that one answer can serve every document signed under the same certificate.

One cache may be shared by every thread of a process: the memory store and the counters
are kept under a lock, and each thread has its own SQLite connection (each process too:
a connection is never used across a fork).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.fetchers.requests_fetchers import (
    RequestsFetcherBackend,
)
from pyhanko_certvalidator.fetchers.requests_fetchers.cert_fetch_client import (
    RequestsCertificateFetcher,
)
from pyhanko_certvalidator.fetchers.requests_fetchers.crl_client import RequestsCRLFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.ocsp_client import RequestsOCSPFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.util import RequestsFetcherMixin

__all__ = ["CachingFetcherBackend", "RevocationCache", "default_cache_dir"]

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


class _CachedCerts(_CachedHttp, RequestsCertificateFetcher):
    _kind = "cert"


class CachingFetcherBackend(RequestsFetcherBackend):
    """Fetchers that consult a :class:`RevocationCache` before the network.

    ``get_fetchers(moment)`` gives fresh fetchers (pyhanko-certvalidator's own in-memory
    results never expire, so one set must not outlive a document) bound to the validation
    time, sharing the cache.
    """

    def __init__(self, cache: RevocationCache, per_request_timeout: float = 10) -> None:
        super().__init__(per_request_timeout=per_request_timeout)
        self.cache = cache

    def get_fetchers(self, moment: datetime | None = None) -> Fetchers:
        when = moment or datetime.now(UTC)
        timeout = self.per_request_timeout
        ocsp = _CachedOCSP(per_request_timeout=timeout, request_nonces=False)
        crl = _CachedCRL(per_request_timeout=timeout)  # type: ignore[no-untyped-call]
        certs = _CachedCerts(per_request_timeout=timeout)
        for fetcher in (ocsp, crl, certs):
            fetcher._cache = self.cache
            fetcher._moment = when
        return Fetchers(ocsp_fetcher=ocsp, crl_fetcher=crl, cert_fetcher=certs)
