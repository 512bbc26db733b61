"""``verify serve``: the verifier as an HTTP service (extra ``hoso[service]``).

::

    verify serve [--trust PEM_OR_DIR]... [--profile public|specialized|any] [--policy FILE]
                 [--revocation hard|soft|off] [--offline] [--at ISO_TIME] [--max-size SIZE]
                 [--cache DIR | --no-cache] [--host 127.0.0.1] [--port 8080] [--workers N]
                 [--threads N] [--max-body 50M] [--max-pending N] [--read-timeout S]
                 [--token-file FILE] [-v]

Starlette on uvicorn, both imported only when the service starts. The trust, profile,
policy, revocation and cache options are the command line's (``docs/cli.md``); the
service's own are described in ``docs/service.md``, with the endpoints:

- ``POST /v1/verify``: the body is the file itself (its format is read from its content;
  ``?filename=`` names it in the report), or ``multipart/form-data`` with the parts
  ``document`` and ``signature`` (a detached signature). 200 with the report, exactly one
  line of ``verify --json``; ``?report=html`` or ``?report=pdf`` the rendered report.
- ``GET /healthz`` (alive), ``GET /readyz`` (trust data loaded and valid at the validation
  time, revocation cache writable; else 503 and the reasons), ``GET /metrics``
  (Prometheus text; with ``--workers``, summed over the processes), ``GET /openapi.json``.

Every request gets a report or a one-line JSON error with a Vietnamese and an English
message: 400 malformed, 401 no or wrong bearer token (``--token-file``; without one the
service binds to loopback only), 404/405, 408 body too slow, 413 body over ``--max-body``
(answered from ``Content-Length`` before the body is read, else as soon as it is
exceeded), 503 with ``Retry-After`` when ``--max-pending`` requests are already in hand.
A validation past the policy's ``document_time_limit`` is a report (INDETERMINATE /
TIME_LIMIT_EXCEEDED). No traceback ever reaches a response; logs are JSON lines on stderr,
one per request with its id (``X-Request-Id``), never a document's content.

Each process keeps one :class:`~verify.Verifier` (trust parsed once, fast-path templates,
revocation answers) and validates each document as a bulk worker does
(:func:`verify.bulk.verify_one`, with :mod:`verify.speedups` installed at start), on one
validation thread (``--threads``); ``--workers`` processes share the SQLite revocation
cache and, on Linux, each listens on a socket of its own (``SO_REUSEPORT``: the kernel
spreads new connections over them). ``POST /v1/verify`` is plain ASGI; the other paths go
through Starlette.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import itertools
import json
import logging
import os
import re
import shutil
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn
from urllib.parse import parse_qsl

from verify import fastpath, special, speedups
from verify.bulk import BulkItem, verify_one
from verify.cache import RevocationCache, default_cache_dir
from verify.cli import (
    UsageError,
    base_policy,
    parse_size,
    parse_time,
    positive_int,
    time_warnings,
    trust_profile,
)
from verify.logs import get_logger
from verify.policy import RevocationMode, ValidationPolicy
from verify.report import DocumentReport, Indication, SubIndication
from verify.trust import TrustProfile, trust_data_age_warning
from verify.verifier import Verifier
from verify.workerpool import alive

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Service", "Settings", "build_parser", "create_app", "main", "worker_app"]

EXIT_USAGE = 64

DEFAULT_MAX_BODY = 50 * 1024 * 1024
DEFAULT_THREADS = 1
DEFAULT_MAX_PENDING = 64
DEFAULT_READ_TIMEOUT = 60.0
SPOOL_ABOVE = 1 << 20
"""A ``/v1/verify`` body up to this size is kept in memory until its validation, which
writes it to its thread's own scratch file; a bigger one is spooled to disk as it
arrives."""

ENV_ARGV = "HOSO_SERVE_ARGV"
"""The options a worker process builds its service from (``--workers``: uvicorn spawns
the workers, which import :func:`worker_app`)."""
ENV_METRICS = "HOSO_SERVE_METRICS"
"""The folder where each worker process leaves its counters for ``/metrics`` to sum."""
ENV_PROFILE = "HOSO_SERVE_PROFILE"
"""For benchmarks only (never set by the service): a folder where each process, at its
clean stop, leaves cProfile statistics of its event loop's thread (``PID-loop.prof``) and
of its validation thread (``PID-validation.prof``), in CPU time."""

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds (seconds) of the ``/v1/verify`` latency histogram's buckets."""

_PATHS = ("/v1/verify", "/healthz", "/readyz", "/metrics", "/openapi.json")
_PROTECTED = ("/v1/verify", "/metrics")
"""Paths that need the bearer token when there are tokens (probes and the API
description do not)."""
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_NOISY_LOGGERS = ("pyhanko", "pyhanko_certvalidator", "weasyprint", "fontTools", "urllib3")

_log = get_logger("service")
_one_line = special.one_line


# -- options (the trust, policy and cache options as verify.cli reads them) ----------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="verify serve",
        description=(
            "Serve signature verification over HTTP: POST a signed file (PDF, XML, CMS) to "
            "/v1/verify and get the report of 'verify --json' back. See docs/service.md."
        ),
    )
    parser.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PEM_OR_DIR",
        help="extra trust anchors: a certificate file or a folder of them; repeatable",
    )
    parser.add_argument(
        "--profile",
        choices=("public", "specialized", "any"),
        default="any",
        help="bundled trust profile (default: any)",
    )
    parser.add_argument(
        "--revocation",
        choices=[m.value for m in RevocationMode],
        default=None,
        help="hard (default), soft or off, as for verify",
    )
    parser.add_argument("--policy", metavar="FILE", help="a validation policy file")
    parser.add_argument("--offline", action="store_true", help="never fetch OCSP/CRL/certificates")
    parser.add_argument("--at", metavar="ISO_TIME", help="validation time (default: now)")
    parser.add_argument(
        "--max-size", type=parse_size, default=None, metavar="SIZE", help="largest document to read"
    )
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        metavar="DIR",
        help=f"revocation cache folder, shared by the workers (default: {default_cache_dir()})",
    )
    cache.add_argument(
        "--no-cache", action="store_true", help="keep fetched answers in each process's memory"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8080, help="port (default 8080; 0: any free port)"
    )
    parser.add_argument(
        "--workers", type=positive_int, default=1, metavar="N", help="processes (default 1)"
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=DEFAULT_THREADS,
        metavar="N",
        help=f"validations at once in each process (default {DEFAULT_THREADS}: more only "
        "overlap cold OCSP/CRL fetches)",
    )
    parser.add_argument(
        "--max-body",
        type=parse_size,
        default=DEFAULT_MAX_BODY,
        metavar="SIZE",
        help="largest request body (default 50M)",
    )
    parser.add_argument(
        "--max-pending",
        type=positive_int,
        default=DEFAULT_MAX_PENDING,
        metavar="N",
        help=f"verify requests in hand per process before 503 (default {DEFAULT_MAX_PENDING})",
    )
    parser.add_argument(
        "--read-timeout",
        type=_seconds,
        default=DEFAULT_READ_TIMEOUT,
        metavar="S",
        help=f"time allowed to receive a request body (default {DEFAULT_READ_TIMEOUT:g} s)",
    )
    parser.add_argument(
        "--token-file",
        metavar="FILE",
        help="bearer tokens, one per line; required to bind to anything but loopback",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log debug records and library warnings"
    )
    return parser


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < 86400:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 86400 seconds")
    return value


@dataclass(frozen=True)
class Settings:
    """What a service process is built from (each worker process parses the same options)."""

    trust: TrustProfile
    policy: ValidationPolicy
    cache_path: Path | None
    host: str
    port: int
    workers: int
    threads: int
    max_body: int
    max_pending: int
    read_timeout: float
    token_digests: tuple[bytes, ...]
    verbose: bool
    metrics_dir: Path | None = None

    @classmethod
    def from_argv(cls, argv: Sequence[str], metrics_dir: Path | None = None) -> Settings:
        """The settings for ``verify serve`` with these options; :class:`UsageError` if bad."""
        args = build_parser().parse_args(list(argv))
        moment = parse_time(args.at) if args.at else None
        policy = base_policy(args.policy)
        if args.revocation is not None:
            policy = policy.replace(revocation=RevocationMode(args.revocation))
        if args.offline:
            policy = policy.replace(network=False)
        if moment is not None:
            policy = policy.replace(validation_time=moment)
        if args.max_size is not None:
            policy = policy.replace(max_file_size=args.max_size)
        digests = _read_tokens(args.token_file) if args.token_file else ()
        if not digests and not _loopback(args.host):
            raise UsageError(
                f"--host {args.host}: without --token-file the service binds to loopback only "
                "(127.0.0.1, ::1, localhost)"
            )
        cache_path = None
        if not args.no_cache:
            folder = Path(args.cache) if args.cache else default_cache_dir()
            cache_path = folder / "revocation-cache.sqlite3"
        with _quiet(args.verbose):
            trust = trust_profile(args)
        return cls(
            trust=trust,
            policy=policy,
            cache_path=cache_path,
            host=args.host,
            port=args.port,
            workers=args.workers,
            threads=args.threads,
            max_body=args.max_body,
            max_pending=args.max_pending,
            read_timeout=args.read_timeout,
            token_digests=digests,
            verbose=args.verbose,
            metrics_dir=metrics_dir,
        )


def _read_tokens(path: str) -> tuple[bytes, ...]:
    """The SHA-256 of each token in the file: one per line; blank lines and # comments
    are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--token-file: {path}: {_one_line(exc)}") from None
    tokens = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    if not tokens:
        raise UsageError(f"--token-file: {path} holds no token")
    if any(len(t) < 16 or any(c.isspace() for c in t) for t in tokens):
        raise UsageError(f"--token-file: {path}: a token has fewer than 16 characters or a space")
    return tuple(hashlib.sha256(t.encode()).digest() for t in tokens)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """pyHanko and friends log validation problems with tracebacks; the reports say it."""
    if verbose:
        yield
        return
    saved = []
    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)


# -- logging -------------------------------------------------------------------------------


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the record's
    ``fields`` (``extra={"fields": {...}}``)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = _one_line(record.exc_info[1])
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _configure_logging(verbose: bool) -> None:
    """JSON lines on stderr for hoso, uvicorn and any library warning."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    for name in ("hoso", "uvicorn"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.DEBUG if verbose and name == "hoso" else logging.INFO)
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # one line per request is ours
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.WARNING)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING if verbose else logging.CRITICAL + 1)


# -- metrics -------------------------------------------------------------------------------


class Metrics:
    """This process's counters, kept under a lock (validation threads and the loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, int]] = Counter()
        self.verdicts: Counter[str] = Counter()
        self.buckets = [0] * len(LATENCY_BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.in_flight = 0

    def request(
        self, method: str, path: str, status: int, seconds: float, indication: str | None
    ) -> None:
        shown = path if path in _PATHS else "other"
        with self._lock:
            self.requests[(shown, status)] += 1
            if indication is not None:
                self.verdicts[indication] += 1
            if shown == "/v1/verify" and method == "POST":
                self.latency_sum += seconds
                self.latency_count += 1
                for i, bound in enumerate(LATENCY_BUCKETS):
                    if seconds <= bound:
                        self.buckets[i] += 1

    def snapshot(self, verifier: Verifier) -> dict[str, Any]:
        cache = verifier.cache
        fast = fastpath.stats(verifier)
        with self._lock:
            return {
                "pid": os.getpid(),
                "requests": [[p, s, n] for (p, s), n in sorted(self.requests.items())],
                "verdicts": dict(self.verdicts),
                "buckets": list(self.buckets),
                "latency_sum": self.latency_sum,
                "latency_count": self.latency_count,
                "in_flight": self.in_flight,
                "cache_hits": cache.hits,
                "cache_misses": cache.misses,
                "fetches": cache.fetched,
                "fetch_errors": cache.fetch_errors,
                "fastpath_hits": fast["hits"],
                "fastpath_misses": fast["misses"],
            }


def exposition(snapshots: Sequence[dict[str, Any]]) -> str:
    """Prometheus text (format 0.0.4) for the counters of one or more processes, summed."""
    requests: Counter[tuple[str, int]] = Counter()
    verdicts: Counter[str] = Counter({i.value: 0 for i in Indication})
    buckets = [0] * len(LATENCY_BUCKETS)
    totals: Counter[str] = Counter()
    in_flight = 0
    for snap in snapshots:
        for path, status, n in snap.get("requests", []):
            requests[(str(path), int(status))] += int(n)
        for name, n in snap.get("verdicts", {}).items():
            verdicts[str(name)] += int(n)
        for i, n in enumerate(snap.get("buckets", [])[: len(buckets)]):
            buckets[i] += int(n)
        for key in (
            "latency_sum",
            "latency_count",
            "cache_hits",
            "cache_misses",
            "fetches",
            "fetch_errors",
            "fastpath_hits",
            "fastpath_misses",
        ):
            totals[key] += snap.get(key, 0)
        if alive(int(snap.get("pid", 0))):
            in_flight += int(snap.get("in_flight", 0))
    out: list[str] = []

    def metric(name: str, kind: str, text: str, rows: Sequence[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(f"{name}{labels} {_number(value)}" for labels, value in rows)

    metric(
        "hoso_http_requests_total",
        "counter",
        "HTTP requests answered, by path and status code.",
        [(f'{{path="{p}",status="{s}"}}', n) for (p, s), n in sorted(requests.items())],
    )
    metric(
        "hoso_verdicts_total",
        "counter",
        "Reports answered by POST /v1/verify, by indication.",
        [(f'{{indication="{k}"}}', n) for k, n in sorted(verdicts.items())],
    )
    rows: list[tuple[str, float]] = [
        (f'_bucket{{le="{bound:g}"}}', n)  # each bucket counts every answer up to its bound
        for bound, n in zip(LATENCY_BUCKETS, buckets, strict=True)
    ]
    rows.append(('_bucket{le="+Inf"}', totals["latency_count"]))
    rows.append(("_sum", totals["latency_sum"]))
    rows.append(("_count", totals["latency_count"]))
    out.append("# HELP hoso_verify_duration_seconds Time to answer POST /v1/verify.")
    out.append("# TYPE hoso_verify_duration_seconds histogram")
    out.extend(f"hoso_verify_duration_seconds{suffix} {_number(v)}" for suffix, v in rows)
    for name, key, text in (
        ("hoso_fetches_total", "fetches", "OCSP/CRL/certificate fetches made."),
        ("hoso_fetch_errors_total", "fetch_errors", "Fetches that failed or timed out."),
        ("hoso_revocation_cache_hits_total", "cache_hits", "Revocation cache hits."),
        ("hoso_revocation_cache_misses_total", "cache_misses", "Revocation cache misses."),
        ("hoso_fastpath_hits_total", "fastpath_hits", "Reports answered from a template."),
        ("hoso_fastpath_misses_total", "fastpath_misses", "Fast path handed over to full."),
    ):
        metric(name, "counter", text, [("", totals[key])])
    metric("hoso_requests_in_flight", "gauge", "Verify requests in hand.", [("", in_flight)])
    metric("hoso_processes", "gauge", "Service processes counted here.", [("", len(snapshots))])
    return "\n".join(out) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# -- the service ---------------------------------------------------------------------------


class _Refused(Exception):
    """A request answered with an error status (a one-line JSON error)."""

    def __init__(
        self, status: int, code: str, vi: str, en: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(en)
        self.status, self.code, self.vi, self.en = status, code, vi, en
        self.headers = headers or {}


class _TooLarge(Exception):
    pass


class _Gone(Exception):
    """The client went away before its request was in."""


class _Body:
    """The request's ``receive``, counting the body: past ``limit`` bytes it raises."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self.limit = limit
        self.received = 0

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise _TooLarge
        elif message["type"] == "http.disconnect":
            raise _Gone
        return message


class Service:
    """One process's service: its verifier, limits, tokens and counters."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        cache = (
            RevocationCache(settings.cache_path)
            if settings.cache_path is not None
            else RevocationCache()
        )
        self.verifier = Verifier(settings.trust, settings.policy, cache=cache)
        self.executor = ThreadPoolExecutor(settings.threads, thread_name_prefix="hoso-serve")
        """Where validations run. With one thread (the default), each document goes
        through :func:`verify.bulk.verify_one` there, as in a bulk worker: screening, the
        fast path, the time limit, a full garbage collection now and then, on one event
        loop kept for the whole run. With more, each goes through
        :meth:`Verifier.averify` on a thread of this pool, on an event loop of its own."""
        if settings.threads > 1:
            self.verifier.executor = self.executor
        self.metrics = Metrics()
        self._slots: asyncio.Semaphore | None = None
        self._running: dict[Path, asyncio.Future[DocumentReport]] = {}
        self.spool = Path(tempfile.mkdtemp(prefix="hoso-serve-"))
        """This process's folder for request bodies, one subfolder per request."""
        self._spooled = itertools.count()
        self._scratch: set[Path] = set()
        self._render_lock = threading.Lock()  # WeasyPrint is not known to be thread-safe
        self._flushed = 0.0

    @property
    def slots(self) -> asyncio.Semaphore:
        """At most ``--threads`` validations at once: the executor never queues, so a
        document's time limit counts its own work, not its wait. Waiters are served in the
        order they came (FIFO), so that under load every request waits about as long."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.settings.threads)
        return self._slots

    # -- auth ---------------------------------------------------------------------------

    def authorized(self, headers: Sequence[tuple[bytes, bytes]]) -> bool:
        if not self.settings.token_digests:
            return True
        value = next((v for k, v in headers if k.lower() == b"authorization"), b"")
        scheme, _, token = value.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        digest = hashlib.sha256(token.strip().encode("latin-1")).digest()
        found = False
        for known in self.settings.token_digests:
            found |= hmac.compare_digest(digest, known)
        return found

    # -- readiness ----------------------------------------------------------------------

    def problems(self) -> list[dict[str, str]]:
        """Why the service is not ready (empty: ready)."""
        found: list[dict[str, str]] = []
        trust = self.settings.trust
        moment = self.settings.policy.moment()
        if not trust.anchors:
            found.append(
                _problem(
                    "trust",
                    f"bộ chứng thư tin cậy {trust.name} không có chứng thư gốc nào",
                    f"the trust profile {trust.name} has no trust anchor",
                )
            )
        elif not any(a.not_valid_before <= moment <= a.not_valid_after for a in trust.anchors):
            when = moment.isoformat().replace("+00:00", "Z")
            found.append(
                _problem(
                    "trust",
                    f"không chứng thư gốc nào của bộ chứng thư tin cậy {trust.name} còn hiệu "
                    f"lực tại {when}",
                    f"no trust anchor of the profile {trust.name} is valid at {when}",
                )
            )
        stale = trust_data_age_warning(moment)
        if stale is not None:  # CAs licensed, renewed or withdrawn since are missing
            found.append(_problem("trust-data", *stale))
        if self.settings.cache_path is not None:
            problem = cache_problem(self.settings.cache_path)
            if problem is not None:
                found.append(
                    _problem(
                        "cache",
                        f"bộ nhớ đệm thu hồi {self.settings.cache_path} không ghi được: {problem}",
                        f"the revocation cache {self.settings.cache_path} is not writable: "
                        f"{problem}",
                    )
                )
        return found

    # -- verification -------------------------------------------------------------------

    async def check(
        self,
        document: Path | bytes,
        name: str | None,
        signature: Path | None,
        sig_name: str | None,
        workdir: Path | None = None,
    ) -> DocumentReport:
        """The report ``verify --json`` gives for these files, named as the client named
        them; past the policy's time limit, INDETERMINATE / TIME_LIMIT_EXCEEDED. The document
        is a file, or its bytes (one validation thread only), which the validation thread
        writes to its scratch file and removes when it is done.

        The validation's place (one of ``--threads``) is held until the validation has
        really ended, even when its answer was given up (time limit, client gone): an
        abandoned validation still takes its thread, and the next request must not be
        timed while it waits for it. Its files are removed only then (see
        :meth:`cleanup`)."""
        policy = self.settings.policy
        limit = policy.document_time_limit
        seconds = limit if limit and limit > 0 else None
        await self.slots.acquire()
        try:
            running = self._start(document, name, signature, seconds)
        except BaseException:
            self.slots.release()
            raise
        running.add_done_callback(lambda _done: self.slots.release())
        if workdir is not None:
            self._running[workdir] = running
        try:
            async with asyncio.timeout(seconds):
                report = await asyncio.shield(running)
        except TimeoutError:
            report = special.limit_report(
                document if isinstance(document, Path) else Path(_safe_name(name, "document")),
                SubIndication.TIME_LIMIT_EXCEEDED,
                f"quá {limit:g} giây",
                f"more than {limit:g} s",
                policy.moment(),
                fmt="cms" if signature is not None else "unknown",
            )
        report = replace(
            report,
            path=name,
            detached_signature=(sig_name or "signature") if signature is not None else None,
        )
        return time_warnings(report)

    def _start(
        self,
        document: Path | bytes,
        name: str | None,
        signature: Path | None,
        seconds: float | None,
    ) -> asyncio.Future[DocumentReport]:
        loop = asyncio.get_running_loop()
        if isinstance(document, bytes):
            if self.settings.threads != 1:
                raise ValueError("a body in memory needs the single validation thread")
            return loop.run_in_executor(self.executor, self._verify_bytes, document, name, seconds)
        if self.settings.threads == 1:
            item = BulkItem(os.fspath(document), os.fspath(signature) if signature else None)
            return loop.run_in_executor(self.executor, verify_one, self.verifier, item, seconds)
        return asyncio.ensure_future(self._check(document, signature))

    def _verify_bytes(self, data: bytes, name: str | None, seconds: float | None) -> DocumentReport:
        """In the validation thread: the document written to this thread's scratch folder
        under the client's name (its extension counts, as for a file), validated as a bulk
        worker does, removed. One validation at a time per thread (:attr:`slots`), so one
        folder per thread is enough, made once."""
        folder = self.spool / f"thread-{threading.get_ident()}"
        if folder not in self._scratch:
            folder.mkdir(exist_ok=True)
            self._scratch.add(folder)
        target = folder / _safe_name(name, "document")
        try:
            with target.open("wb") as out:
                out.write(data)
            return verify_one(self.verifier, BulkItem(os.fspath(target)), seconds)
        finally:
            with contextlib.suppress(OSError):
                target.unlink()

    async def _check(self, document: Path, signature: Path | None) -> DocumentReport:
        moment = self.settings.policy.moment()
        screened = await asyncio.to_thread(
            special.screen,
            document,
            moment,
            max_size=self.settings.policy.max_file_size,
            detached=signature,
        )
        if screened is not None:
            return screened
        return await self.verifier.averify(document, detached=signature)

    def workdir(self) -> Path:
        """A new empty folder for one request's files."""
        folder = self.spool / str(next(self._spooled))
        folder.mkdir()
        return folder

    def cleanup(self, workdir: Path) -> None:
        """Remove a request's files: now, or when the validation that reads them ends."""
        running = self._running.pop(workdir, None)
        if running is not None and not running.done():
            running.add_done_callback(lambda _done: _remove(workdir))
        else:
            _remove(workdir)

    def render(self, report: DocumentReport, kind: str) -> bytes:
        from verify import render

        now = datetime.now(UTC)
        options: dict[str, Any] = {
            "generated_at": now,
            "policy": self.settings.policy,
            "trust": self.settings.trust,
        }
        if kind == "html":
            return render.render_html([report], **options).encode("utf-8")
        with self._render_lock:
            return render.render_pdf([report], **options)

    # -- metrics across processes -------------------------------------------------------

    def snapshots(self) -> list[dict[str, Any]]:
        own = self.metrics.snapshot(self.verifier)
        folder = self.settings.metrics_dir
        if folder is None:
            return [own]
        self.flush(own)
        found = []
        for file in sorted(folder.glob("*.json")):
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(file.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    found.append(data)
        return found or [own]

    def flush(self, snapshot: dict[str, Any] | None = None) -> None:
        """Leave this process's counters where the others' ``/metrics`` find them."""
        folder = self.settings.metrics_dir
        if folder is None:
            return
        snap = snapshot or self.metrics.snapshot(self.verifier)
        target = folder / f"{os.getpid()}.json"
        temporary = folder / f".{os.getpid()}.tmp"
        with contextlib.suppress(OSError):
            temporary.write_text(json.dumps(snap), encoding="utf-8")
            temporary.replace(target)
        self._flushed = time.monotonic()


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _problem(what: str, vi: str, en: str) -> dict[str, str]:
    return {"check": what, "message_vi": vi, "message_en": en}


def cache_problem(path: Path) -> str | None:
    """Why the SQLite revocation cache at ``path`` cannot be written now (None: it can):
    a fresh connection takes the write lock and reads the table. A cache busy with other
    writers is not a problem."""
    if not path.is_file():
        return "the file is missing" if not path.exists() else "not a regular file"
    try:
        db = sqlite3.connect(path, timeout=0.5, isolation_level=None)
    except sqlite3.Error as exc:
        return _one_line(exc)
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("SELECT COUNT(*) FROM entries WHERE key = ''").fetchone()
        finally:
            db.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None
        return _one_line(exc)
    except sqlite3.Error as exc:
        return _one_line(exc)
    finally:
        db.close()
    return None


# -- HTTP ----------------------------------------------------------------------------------

_MESSAGES: dict[str, tuple[str, str]] = {
    "unauthorized": (
        "Thiếu hoặc sai mã truy cập (Authorization: Bearer).",
        "Missing or wrong bearer token (Authorization: Bearer).",
    ),
    "not_found": ("Không có địa chỉ này.", "No such path."),
    "method_not_allowed": ("Phương thức không được hỗ trợ ở địa chỉ này.", "Method not allowed."),
    "internal": (
        "Lỗi nội bộ của dịch vụ; yêu cầu không được xử lý.",
        "Internal error of the service; the request was not handled.",
    ),
}


def _error_body(status: int, code: str, vi: str, en: str, request_id: str | None) -> bytes:
    body = {
        "status": status,
        "error": code,
        "message_vi": vi,
        "message_en": en,
        "request_id": request_id,
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n"


def _request_id(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == b"x-request-id":
            text = str(value.decode("latin-1"))
            if _REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


class _Front:
    """Outermost: request id, bearer token, one JSON error for anything unexpected (never a
    traceback), metrics and one log line per request."""

    def __init__(self, app: ASGIApp, service: Service, endpoints: _Endpoints) -> None:
        self.app = app
        self.service = service
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        facts: dict[str, Any] = {"request_id": rid}
        scope["hoso"] = facts
        started = time.perf_counter()
        status = 0

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        path = str(scope.get("path", ""))
        try:
            if path in _PROTECTED and not self.service.authorized(scope.get("headers", [])):
                vi, en = _MESSAGES["unauthorized"]
                await _send_error(
                    tagged, 401, "unauthorized", vi, en, rid, {"WWW-Authenticate": "Bearer"}
                )
            elif path == "/v1/verify" and scope.get("method") == "POST":
                await self.endpoints.verify(scope, receive, tagged)  # no routing to do
            else:
                await self.app(scope, receive, tagged)
        except Exception:  # noqa: BLE001 - logged; the client gets one JSON line
            _log.exception("request failed", extra={"fields": {"request_id": rid, "path": path}})
            if not status:
                vi, en = _MESSAGES["internal"]
                with contextlib.suppress(Exception):
                    await _send_error(tagged, 500, "internal", vi, en, rid)
        finally:
            seconds = time.perf_counter() - started
            indication = facts.get("indication")
            self.service.metrics.request(
                str(scope.get("method", "")), path, status or 499, seconds, indication
            )
            fields = {
                "request_id": rid,
                "method": scope.get("method"),
                "path": path if path in _PATHS else "other",
                "status": status or 499,
                "ms": round(seconds * 1000, 1),
            }
            fields.update({k: v for k, v in facts.items() if k != "request_id"})
            _log_request(fields)


def _log_request(fields: dict[str, Any]) -> None:
    """The request's log line: ``_log.info("request", ...)`` without looking up the
    caller's frame (the record's source is this function)."""
    if _log.isEnabledFor(logging.INFO):
        record = _log.makeRecord(
            _log.name,
            logging.INFO,
            __file__,
            0,
            "request",
            (),
            None,
            "_log_request",
            {"fields": fields},
        )
        _log.handle(record)


async def _send_error(
    send: Send,
    status: int,
    code: str,
    vi: str,
    en: str,
    request_id: str | None,
    headers: dict[str, str] | None = None,
) -> None:
    body = _error_body(status, code, vi, en, request_id)
    raw = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _send_refused(send: Send, refused: _Refused, request_id: str | None) -> None:
    await _send_error(
        send, refused.status, refused.code, refused.vi, refused.en, request_id, refused.headers
    )


async def _send_body(send: Send, status: int, media: bytes, body: bytes) -> None:
    headers = [(b"content-type", media), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _safe_name(name: str | None, default: str) -> str:
    """A file name for the temporary copy: the last part of the client's name, without
    anything a file system would mind."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable() and c not in "/\0")[:120]
    if base in ("", ".", ".."):
        return default
    return base


def _params(scope: Scope) -> dict[str, str]:
    """The query parameters, as Starlette reads them (the last of a repeated one)."""
    raw = scope.get("query_string", b"")
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a header (``name`` in lower case)."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _query_name(params: dict[str, str], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if not value or len(value) > 1024 or any(not c.isprintable() for c in value):
        raise _Refused(
            400,
            "bad_filename",
            f"Tham số {key} không hợp lệ (1 đến 1024 ký tự in được).",
            f"The {key} parameter is not valid (1 to 1024 printable characters).",
        )
    return value


def _copy(source: BinaryIO, target: Path) -> int:
    with target.open("wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
        return out.tell()


class _Workdir:
    """A request's folder, made only when a file must be spooled (multipart parts, a body
    over :data:`SPOOL_ABOVE`, more than one validation thread)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.path: Path | None = None

    def get(self) -> Path:
        if self.path is None:
            self.path = self.service.workdir()
        return self.path


class _Asgi:
    """An ASGI callable for a Starlette route (a bound method would be taken for a request
    handler)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


_BUSY = _Refused(
    503,
    "busy",
    "Dịch vụ đang bận, hãy thử lại sau giây lát.",
    "Every worker is busy; try again shortly.",
    {"Retry-After": "1"},
)
_CLIENT_GONE = _Refused(400, "client_gone", "Máy khách đã ngắt kết nối.", "The client went away.")
_JSON = b"application/json; charset=utf-8"


class _Endpoints:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.pending = 0

    async def verify(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /v1/verify``, in plain ASGI: the request's body (in memory up to
        :data:`SPOOL_ABOVE`, else in a file), its validation, the answer."""
        svc = self.service
        facts: dict[str, Any] = scope.setdefault("hoso", {})
        rid = facts.get("request_id")
        if self.pending >= svc.settings.max_pending:
            await _send_refused(send, _BUSY, rid)
            return
        self.pending += 1
        svc.metrics.in_flight = self.pending
        workdir = _Workdir(svc)
        try:
            report, kind = await self._verify(scope, receive, workdir, facts)
        except _Refused as refused:
            await _send_refused(send, refused, rid)
            return
        except _Gone:
            facts["gone"] = True  # nobody to answer; the log line says so
            await _send_refused(send, _CLIENT_GONE, rid)
            return
        finally:
            self.pending -= 1
            svc.metrics.in_flight = self.pending
            if workdir.path is not None:
                svc.cleanup(workdir.path)
        facts["indication"] = report.indication.value
        if report.sub_indication is not None:
            facts["sub_indication"] = report.sub_indication.value
        facts["sha256"] = report.sha256
        if kind == "json":
            body = json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8") + b"\n"
            await _send_body(send, 200, _JSON, body)
            return
        rendered = await asyncio.to_thread(svc.render, report, kind)
        media = b"text/html; charset=utf-8" if kind == "html" else b"application/pdf"
        await _send_body(send, 200, media, rendered)

    async def _verify(
        self, scope: Scope, receive: Receive, workdir: _Workdir, facts: dict[str, Any]
    ) -> tuple[DocumentReport, str]:
        svc = self.service
        limit = svc.settings.max_body
        params = _params(scope)
        kind = params.get("report", "json")
        if kind not in ("json", "html", "pdf"):
            raise _Refused(
                400,
                "bad_report",
                "Tham số report chỉ nhận json, html hoặc pdf.",
                "The report parameter takes json, html or pdf.",
            )
        name = _query_name(params, "filename")
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                raise _Refused(
                    400, "bad_length", "Content-Length không hợp lệ.", "Bad Content-Length."
                )
            if int(declared) > limit:
                raise _too_large(limit)
        body = _Body(receive, limit)
        content_type = _header(scope, b"content-type") or ""
        document: Path | bytes
        sig_path: Path | None = None
        sig_name: str | None = None
        try:
            async with asyncio.timeout(svc.settings.read_timeout):
                if content_type.lower().startswith("multipart/form-data"):
                    document, doc_name, sig_path, sig_name = await self._parts(
                        scope, body, workdir.get()
                    )
                    name = name or doc_name
                else:
                    document = await self._read(body, workdir, name)
        except _TooLarge:
            raise _too_large(limit) from None
        except TimeoutError:
            raise _Refused(
                408,
                "body_timeout",
                f"Không nhận đủ nội dung yêu cầu trong {svc.settings.read_timeout:g} giây.",
                f"The request body did not arrive within {svc.settings.read_timeout:g} s.",
            ) from None
        facts["bytes"] = body.received
        report = await svc.check(document, name, sig_path, sig_name, workdir.path)
        return report, kind

    async def _read(self, body: _Body, workdir: _Workdir, name: str | None) -> Path | bytes:
        """The body: its bytes while they are few (one validation thread), else the file
        it was spooled to as it arrived."""
        chunks: list[bytes] = []
        held = 0
        out: BinaryIO | None = None
        target: Path | None = None
        in_memory = self.service.settings.threads == 1
        try:
            while True:
                message = await body()
                chunk = message.get("body", b"")
                if chunk:
                    if out is None and (not in_memory or held + len(chunk) > SPOOL_ABOVE):
                        target = workdir.get() / _safe_name(name, "document")
                        out = target.open("wb")
                        out.writelines(chunks)
                        chunks.clear()
                    if out is not None:
                        out.write(chunk)
                    else:
                        chunks.append(chunk)
                        held += len(chunk)
                if not message.get("more_body", False):
                    break
        finally:
            if out is not None:
                out.close()
        if body.received == 0:
            raise _Refused(
                400,
                "empty_body",
                "Yêu cầu không có nội dung: hãy gửi tệp cần kiểm tra.",
                "The request has no body: send the file to verify.",
            )
        if target is not None:
            return target
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _parts(
        self, scope: Scope, body: _Body, workdir: Path
    ) -> tuple[Path, str | None, Path | None, str | None]:
        from starlette.datastructures import UploadFile
        from starlette.exceptions import HTTPException
        from starlette.formparsers import MultiPartException
        from starlette.requests import Request as _Request

        counted = _Request(scope, body)
        bad = _Refused(
            400,
            "bad_multipart",
            "Dữ liệu multipart/form-data hỏng hoặc không đúng: cần phần document (và "
            "signature cho chữ ký tách rời), mỗi phần là một tệp.",
            "Malformed or unexpected multipart/form-data: send a part document (and "
            "signature for a detached signature), each a file.",
        )
        try:
            async with counted.form(max_files=2, max_fields=0) as form:
                items = form.multi_items()
                names = [key for key, _value in items]
                if "document" not in names or any(
                    n not in ("document", "signature") or names.count(n) != 1 for n in names
                ):
                    raise bad
                parts: dict[str, tuple[Path, str | None]] = {}
                for key, upload in items:
                    if not isinstance(upload, UploadFile):
                        raise bad
                    default = "document" if key == "document" else "signature.p7s"
                    target = workdir / key
                    target.mkdir()
                    target = target / _safe_name(upload.filename, default)
                    await asyncio.to_thread(_copy, upload.file, target)
                    parts[key] = (target, upload.filename or None)
        except (MultiPartException, HTTPException, KeyError, ValueError):
            raise bad from None
        doc_path, doc_name = parts["document"]
        if "signature" not in parts:
            return doc_path, doc_name, None, None
        sig_path, sig_name = parts["signature"]
        return doc_path, doc_name, sig_path, sig_name or "signature.p7s"

    async def healthz(self, request: Request) -> Response:
        from starlette.responses import Response

        return Response(b'{"status":"ok"}\n', media_type="application/json")

    async def readyz(self, request: Request) -> Response:
        from starlette.responses import Response

        problems = await asyncio.to_thread(self.service.problems)
        body = {"status": "ready" if not problems else "not ready", "problems": problems}
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n"
        return Response(data, status_code=503 if problems else 200, media_type="application/json")

    async def metrics(self, request: Request) -> Response:
        from starlette.responses import Response

        snapshots = await asyncio.to_thread(self.service.snapshots)
        return Response(
            exposition(snapshots).encode(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    async def openapi(self, request: Request) -> Response:
        from starlette.responses import Response

        data = json.dumps(openapi_document(self.service.settings), ensure_ascii=False)
        return Response(data.encode("utf-8"), media_type="application/json")


def _too_large(limit: int) -> _Refused:
    return _Refused(
        413,
        "body_too_large",
        f"Nội dung yêu cầu vượt quá giới hạn {limit:,} byte.",
        f"The request body exceeds the limit of {limit:,} bytes.",
    )


def _json_error(refused: _Refused, request_id: str | None) -> Response:
    from starlette.responses import Response

    body = _error_body(refused.status, refused.code, refused.vi, refused.en, request_id)
    return Response(
        body,
        status_code=refused.status,
        headers=refused.headers,
        media_type="application/json; charset=utf-8",
    )


def create_app(settings: Settings) -> ASGIApp:
    """The ASGI application of one service process."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.routing import Route

    service = Service(settings)
    endpoints = _Endpoints(service)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "internal")
        if status == 400:
            code = "bad_request"
        vi, en = _MESSAGES.get(code, ("Yêu cầu không hợp lệ.", "Bad request."))
        headers = dict(getattr(exc, "headers", None) or {})
        rid = request.scope.get("hoso", {}).get("request_id")
        return _json_error(_Refused(status, code, vi, en, headers), rid)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        flusher = asyncio.create_task(_flush_now_and_then(service))
        profiling = _Profiles.start(service)
        _log.info(
            "ready to serve",
            extra={
                "fields": {
                    "trust": settings.trust.name,
                    "anchors": len(settings.trust.anchors),
                    "revocation": settings.policy.revocation.value,
                    "network": settings.policy.network,
                    "cache": str(settings.cache_path) if settings.cache_path else "memory",
                    "threads": settings.threads,
                }
            },
        )
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            service.flush()
            if profiling is not None:
                profiling.stop()
            service.executor.shutdown(wait=False, cancel_futures=True)
            _remove(service.spool)

    app = Starlette(
        routes=[
            Route("/v1/verify", _Asgi(endpoints.verify), methods=["POST"]),
            Route("/healthz", endpoints.healthz, methods=["GET"]),
            Route("/readyz", endpoints.readyz, methods=["GET"]),
            Route("/metrics", endpoints.metrics, methods=["GET"]),
            Route("/openapi.json", endpoints.openapi, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: http_error},
        lifespan=lifespan,
    )
    return _Front(app, service, endpoints)


class _Profiles:
    """cProfile on the event loop's thread and on the validation thread (``ENV_PROFILE``)."""

    def __init__(self, service: Service, folder: Path) -> None:
        import cProfile

        self.service, self.folder = service, folder
        # the thread's CPU time, not the wall clock: time spent waiting for the GIL is not
        # counted against the function that happened to be running
        self.loop = cProfile.Profile(time.thread_time_ns, 1e-9)
        self.validation = cProfile.Profile(time.thread_time_ns, 1e-9)

    @classmethod
    def start(cls, service: Service) -> _Profiles | None:
        folder = os.environ.get(ENV_PROFILE)
        if not folder:
            return None
        profiles = cls(service, Path(folder))
        profiles.loop.enable()
        service.executor.submit(profiles.validation.enable).result()
        return profiles

    def stop(self) -> None:
        self.loop.disable()
        self.service.executor.submit(self.validation.disable).result()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.loop.dump_stats(self.folder / f"{os.getpid()}-loop.prof")
        self.validation.dump_stats(self.folder / f"{os.getpid()}-validation.prof")


async def _flush_now_and_then(service: Service) -> None:
    if service.settings.metrics_dir is None:
        return
    while True:
        await asyncio.sleep(1.0)
        await asyncio.to_thread(service.flush)


def worker_app() -> ASGIApp:
    """The application of a worker process started by uvicorn (``--workers``): the
    options come from the environment the parent set."""
    argv = json.loads(os.environ[ENV_ARGV])
    folder = os.environ.get(ENV_METRICS)
    settings = Settings.from_argv(argv, Path(folder) if folder else None)
    _configure_logging(settings.verbose)
    speedups.install()
    return create_app(settings)


# -- OpenAPI -------------------------------------------------------------------------------


def openapi_document(settings: Settings) -> dict[str, Any]:
    """A hand-written OpenAPI 3.1 description of the service."""
    error = {"$ref": "#/components/schemas/Error"}

    def answer(text: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "description": text,
            "content": {"application/json": {"schema": schema or error}},
        }

    secured: list[dict[str, list[str]]] = [{"bearer": []}] if settings.token_digests else []
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hoso verify",
            "version": "1",
            "description": "Verification of Vietnamese e-government signatures (PDF, XML, "
            "CMS). Reports follow docs/report-schema.json, one line of `verify --json`.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["status", "error", "message_vi", "message_en"],
                    "properties": {
                        "status": {"type": "integer"},
                        "error": {"type": "string"},
                        "message_vi": {"type": "string"},
                        "message_en": {"type": "string"},
                        "request_id": {"type": ["string", "null"]},
                    },
                },
                "Report": {
                    "type": "object",
                    "description": "A DocumentReport: see docs/report-schema.json.",
                },
            },
        },
        "paths": {
            "/v1/verify": {
                "post": {
                    "summary": "Verify one signed document",
                    "security": secured,
                    "parameters": [
                        {
                            "name": "filename",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 1024},
                            "description": "The document's name, as the report shows it.",
                        },
                        {
                            "name": "report",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": ["json", "html", "pdf"], "default": "json"},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["document"],
                                    "properties": {
                                        "document": {"type": "string", "format": "binary"},
                                        "signature": {"type": "string", "format": "binary"},
                                    },
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The report (json), or the rendered report",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Report"}
                                },
                                "text/html": {"schema": {"type": "string"}},
                                "application/pdf": {
                                    "schema": {"type": "string", "format": "binary"}
                                },
                            },
                        },
                        "400": answer("Malformed request"),
                        "401": answer("Missing or wrong bearer token"),
                        "408": answer("The body did not arrive in time"),
                        "413": answer(f"Body over {settings.max_body} bytes"),
                        "503": answer("Busy: retry after the Retry-After header's seconds"),
                    },
                }
            },
            "/healthz": {"get": {"summary": "Alive", "responses": {"200": answer("Alive", {})}}},
            "/readyz": {
                "get": {
                    "summary": "Trust data loaded and current, cache writable",
                    "responses": {"200": answer("Ready", {}), "503": answer("Not ready", {})},
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "security": secured,
                    "responses": {
                        "200": {
                            "description": "Prometheus text format 0.0.4",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": answer("OpenAPI", {})}}
            },
        },
    }


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run ``verify serve``; returns the exit status (0 after a clean stop, 64 bad usage)."""
    argv = list(sys.argv[2:] if argv is None else argv)
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        print(
            "verify serve: error: needs the service extra (pip install 'hoso[service]')",
            file=sys.stderr,
        )
        return EXIT_USAGE
    metrics_dir: Path | None = None
    try:
        settings = Settings.from_argv(argv)
        _open_cache(settings)
    except UsageError as exc:
        print(f"verify serve: error: {_one_line(exc)} (see verify serve --help)", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    _configure_logging(settings.verbose)
    speedups.install()
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "proxy_headers": False,  # the service does not look at X-Forwarded-* headers
        "timeout_keep_alive": 5,
        "limit_concurrency": max(256, 4 * settings.max_pending),
    }
    try:
        if settings.workers > 1:
            metrics_dir = Path(tempfile.mkdtemp(prefix="hoso-serve-metrics-"))
            os.environ[ENV_ARGV] = json.dumps(argv)
            os.environ[ENV_METRICS] = str(metrics_dir)
            config = uvicorn.Config(
                "verify.service:worker_app", factory=True, workers=settings.workers, **options
            )
        else:
            config = uvicorn.Config(create_app(settings), **options)
        return _serve(config, settings)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _open_cache(settings: Settings) -> None:
    """Make the shared SQLite cache before any worker starts; an unusable folder is a
    usage error (a service must not run on a cache it cannot keep)."""
    if settings.cache_path is None:
        return
    try:
        RevocationCache(settings.cache_path)
    except Exception as exc:  # noqa: BLE001 - any failure is one line
        raise UsageError(f"--cache: {settings.cache_path.parent}: {_one_line(exc)}") from None


def _serve(config: Any, settings: Settings) -> int:
    import uvicorn

    spread = settings.workers > 1 and hasattr(socket, "SO_REUSEPORT") and sys.platform == "linux"
    try:
        if spread:
            sockets = _bind_group(settings.host, settings.port, settings.workers)
        else:
            sockets = [config.bind_socket()]
    except SystemExit:
        return 1
    except OSError as exc:
        _log.error("cannot listen", extra={"fields": {"error": _one_line(exc)}})
        return 1
    host, port = sockets[0].getsockname()[:2]
    _log.info(
        "listening",
        extra={
            "fields": {
                "host": host,
                "port": port,
                "workers": settings.workers,
                "sockets": len(sockets),
            }
        },
    )
    try:
        if settings.workers > 1:
            _supervisor(config, sockets).run()
        else:
            server = uvicorn.Server(config)
            server.run(sockets=sockets)
            if not server.started:
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        for sock in sockets:
            sock.close()
    return 0


def _bind_group(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets bound to one address with ``SO_REUSEPORT``: each worker process
    accepts from its own, and Linux spreads new connections over them (by a hash of the
    client's address and port). With one shared socket, a process that wakes accepts
    every connection waiting, so a few clients all land on one process. Only processes of
    the same user can join the group."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    group: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            group.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host.strip("[]"), port))
            port = sock.getsockname()[1]  # --port 0: the others join the first one's
            sock.set_inheritable(True)
    except OSError:
        for sock in group:
            sock.close()
        raise
    return group


def _supervisor(config: Any, sockets: list[socket.socket]) -> Any:
    """uvicorn's supervisor of worker processes (start, health checks, replacement of a
    dead worker, SIGTERM: each worker stops accepting, finishes its requests and exits).
    With one socket per worker, worker ``i`` and any replacement of it listen on socket
    ``i``, so that no socket is left without a process."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors.multiprocess import Multiprocess, Process

    if len(sockets) == 1:
        return Multiprocess(config, sockets=sockets)

    class Spread(Multiprocess):
        def init_processes(self) -> None:
            for i in range(self.processes_num):
                process = Process(self.config, [sockets[i]])
                process.start()
                self.processes.append(process)

        def keep_subprocess_alive(self) -> None:
            if self.should_exit.is_set():
                return
            for i, process in enumerate(self.processes):
                if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                    continue
                process.kill()
                process.join()
                if process.exitcode == STARTUP_FAILURE:
                    _log.error("a worker process failed to start; stopping")
                    self.should_exit.set()
                    return
                if self.should_exit.is_set():
                    return
                _log.warning("worker process died", extra={"fields": {"worker": process.pid}})
                process = Process(self.config, [sockets[i]])
                process.start()
                self.processes[i] = process

        def restart_all(self) -> None:  # SIGHUP
            for i, old in enumerate(self.processes):
                if self.should_exit.is_set():
                    return
                new = Process(self.config, [sockets[i]])
                new.start()
                ready = new.wait_until_ready(
                    self.config.timeout_worker_healthcheck, self.should_exit
                )
                if not ready:
                    new.kill()
                    new.join()
                    return
                old.terminate()
                old.join()
                self.processes[i] = new

        def handle_ttin(self) -> None:
            _log.warning("the number of worker processes is --workers; SIGTTIN ignored")

        def handle_ttou(self) -> None:
            _log.warning("the number of worker processes is --workers; SIGTTOU ignored")

    return Spread(config, sockets=sockets)
