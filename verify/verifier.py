"""The :class:`Verifier`: the public facade over the format readers and the engine.

A verifier holds one :class:`~verify.engine.Engine` (trust profile, policy, revocation
cache) and a reader per format (:mod:`verify.formats`). It reads the input within the
policy's limits, recognises the format from the content, sends PDFs through the bulk fast
path (:mod:`verify.fastpath`), replays stored evidence when asked, and times each report.

It builds on pyHanko's validation (integrity, CMS, difference analysis, DocMDP/FieldMDP)
and pyhanko-certvalidator (path building, revocation); :mod:`verify.process` judges what
the readers found under the policy's constraints, the same way for every format.

Validation never raises on bad input: every failure becomes a report.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from asn1crypto import x509
from pyhanko_certvalidator import ValidationContext

from verify import cms_forms, fastpath, logs, special
from verify.cache import RevocationCache
from verify.engine import CertificateCheck, Engine, Verdict, short
from verify.evidence import Evidence, collecting, harvest
from verify.formats.asic import AsicReader, looks_like_asic
from verify.formats.cms import CmsReader
from verify.formats.pdf import PdfReader, looks_like_pdf
from verify.formats.xml import XmlReader
from verify.policy import ValidationPolicy
from verify.report import DocumentReport, Indication, SubIndication, sentences, with_fields
from verify.trust import TrustProfile
from verify.xmldsig import looks_like_xml

__all__ = ["CertificateCheck", "Source", "Verifier", "in_this_thread"]

Source = str | os.PathLike[str] | bytes

STREAM_ABOVE = 32 * 1024 * 1024
"""A PDF file, or the content of a detached signature, larger than this (32 MiB) is read
from the file piece by piece, never held in memory whole: its SHA-256 is hashed in
chunks, pyHanko hashes the signed byte ranges in chunks. Smaller files are read whole and
take the fast path."""

_HASH_CHUNK = 1 << 20


class Verifier:
    """Verifies PDF, CMS and XML signatures under one trust profile and policy.

    Make it once and use it for many documents: fetched OCSP responses, CRLs and CA
    certificates are cached across documents (the fetchers respect nextUpdate), and the
    bundled trust store is parsed once per process.
    """

    executor: Executor | None = None
    """Where :meth:`averify` and its kin run validations when called on an event loop:
    each on a worker thread of this executor, on an event loop of its own. ``None`` (the
    default): a thread pool shared by every verifier of the process (see
    :func:`offload_threads`). Set it on an instance to give that verifier its own."""

    def __init__(
        self,
        trust: TrustProfile | str = "any",
        policy: ValidationPolicy | None = None,
        *,
        evidence_in: str | os.PathLike[str] | None = None,
        cache: RevocationCache | None = None,
    ) -> None:
        self.engine = Engine(
            TrustProfile.named(trust) if isinstance(trust, str) else trust,
            policy or ValidationPolicy(),
            cache if cache is not None else RevocationCache(),
            evidence_in=Path(evidence_in) if evidence_in is not None else None,
        )
        self._pdf = PdfReader(self.engine)
        self._cms = CmsReader(self.engine)
        self._xml = XmlReader(self.engine)
        self._asic = AsicReader(self.engine, self._cms, xml_reader=self._xml)
        self._embedded_only: Verifier | None = None  # see _embedded_fallback
        logs.ensure()  # expected pyHanko failures logged at DEBUG (verify.logs)

    @property
    def trust(self) -> TrustProfile:
        return self.engine.trust

    @property
    def policy(self) -> ValidationPolicy:
        return self.engine.policy

    @property
    def cache(self) -> RevocationCache:
        return self.engine.cache

    @property
    def evidence_in(self) -> Path | None:
        return self.engine.evidence_in

    def after_fork(self) -> None:
        """In a process forked from the one that made this verifier: keep the templates and
        cached answers, but open connections of its own."""
        self.engine.forked()
        if self._embedded_only is not None:
            self._embedded_only.after_fork()

    def __getstate__(self) -> dict[str, Any]:
        # Fetchers hold sockets and caches: a copy in another process starts cold.
        return {
            "trust": self.trust,
            "policy": self.policy,
            "evidence_in": self.evidence_in,
            "cache": self.cache if self.cache.path is not None else None,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["trust"],
            state["policy"],
            evidence_in=state.get("evidence_in"),
            cache=state.get("cache"),
        )

    def _full_pdf(
        self, path: str | None, data: bytes, moment: datetime
    ) -> Callable[[], Awaitable[DocumentReport]]:
        """Full validation of a PDF, for the fast path to run when no template answers."""
        return lambda: self._pdf.verify(path, data, moment)

    def validation_context(
        self,
        moment: datetime | None = None,
        *,
        other_certs: Iterable[x509.Certificate] = (),
        crls: Iterable[Any] = (),
        ocsps: Iterable[Any] = (),
    ) -> ValidationContext:
        """The ``ValidationContext`` this verifier validates with: its trust profile, its
        policy's revocation mode and network use, and its revocation cache. The one place
        contexts are made; ``esign`` uses it too (for B-LT/B-LTA validation data), so
        signing and verifying share fetched answers."""
        return self.engine.validation_context(
            moment, other_certs=other_certs, crls=crls, ocsps=ocsps
        )

    # -- public API --------------------------------------------------------------------

    def verify(self, source: Source, *, detached: Source | None = None) -> DocumentReport:
        """Verify a PDF, or content with its detached CMS signature. Never raises.

        Works from plain code, from any number of threads sharing this verifier, and inside
        a running event loop (there the validation runs on a thread of its own and this call
        waits for it, blocking that loop: an async caller should await :meth:`averify`)."""
        return _run_sync(lambda: self.averify(source, detached=detached))

    def verify_pdf(self, source: Source) -> DocumentReport:
        return _run_sync(lambda: self.averify_pdf(source))

    def verify_detached(self, content: Source, signature: Source) -> DocumentReport:
        return _run_sync(lambda: self.averify_detached(content, signature))

    async def averify(
        self, source: Source, *, detached: Source | None = None, name: str | None = None
    ) -> DocumentReport:
        """Verify any supported document: PDF, XML (XMLDSig), or content + detached CMS.
        ``name``: the path the report gives a document passed as bytes (a file already
        read), as if it had been read from there.

        The caller's event loop stays free: the validation (CPU-bound: parsing, hashing,
        signature and path checks) runs on a worker thread (:attr:`executor`) on an event
        loop of its own, where its OCSP/CRL/certificate fetches run concurrently, each
        bounded by the policy's ``fetch_timeout``. Cancelling the caller's task cancels the
        validation at its next await. Within :func:`in_this_thread` (as :mod:`verify.bulk`
        runs each document, under a ``SIGALRM`` time limit) it runs on the caller's loop."""
        if not _stay_here():
            return await _offload(
                lambda: self.averify(source, detached=detached, name=name), self.executor
            )
        if detached is not None:
            return await self.averify_detached(source, detached)
        started = time.perf_counter()
        moment = self.policy.moment()
        big = _big_pdf(source, self.policy.max_file_size)
        if big is not None:
            return _with_elapsed(await self._verify_big_pdf(big, moment), started)
        path, data, early = self._read(source, moment, name)
        if early is not None:
            return early
        assert data is not None
        try:
            with self.engine.supplying(data):
                if looks_like_xml(data):
                    report = await self._xml.verify(path, data, moment)
                elif cms_forms.looks_like_signed_data(data):
                    report = await self._cms.verify(path, data, data, moment, enveloped=True)
                elif looks_like_asic(data):
                    report = await self._asic.verify(path, data, moment)
                else:
                    report = await fastpath.pdf(
                        self, path, data, moment, self._full_pdf(path, data, moment)
                    )
                    report = await self._embedded_fallback(path, data, moment, report)
        except Exception as exc:  # noqa: BLE001 - hostile input must end in a verdict
            report = self.engine.document(
                path, data, "unknown", moment, (), _format_failure_doc(exc), ()
            )
        return _with_elapsed(self._with_renewal(report, data, None, moment), started)

    async def _verify_big_pdf(self, path: str, moment: datetime) -> DocumentReport:
        """A PDF above :data:`STREAM_ABOVE`, read from its file piece by piece."""

        async def check(stream: BinaryIO, size: int, sha: str) -> DocumentReport:
            report = await self._pdf.verify_file(path, stream, moment, size=size, sha256=sha)
            if self._needs_embedded_retry(report):
                retry = await self._embedded_verifier()._pdf.verify_file(
                    path, stream, moment, size=size, sha256=sha
                )
                report = _embedded_verdict(report, retry)
            return report

        return await self._on_file(path, "pdf", moment, check, ("a document", "tài liệu"))

    async def _on_file(
        self,
        path: str,
        fmt: str,
        moment: datetime,
        check: Callable[[BinaryIO, int, str], Awaitable[DocumentReport]],
        what: tuple[str, str],
    ) -> DocumentReport:
        """``check`` of the open file at ``path`` (above :data:`STREAM_ABOVE`), given its
        size and SHA-256 hashed a piece at a time; the size limit, an unreadable file and
        hostile bytes end in a verdict, as for a file read whole. Renewal dates need the
        file whole: the report says they are not computed (``what``: en, vi)."""
        size, sha = 0, ""
        try:
            with open(path, "rb") as stream:
                size = os.fstat(stream.fileno()).st_size
                if size > self.policy.max_file_size:
                    return self._oversize(path, size, moment)
                sha = _hash_stream(stream)
                with self.engine.supplying(b"", sha256=sha):
                    report = await check(stream, size, sha)
        except OSError as exc:  # a problem of the reader's machine, not a forgery
            return special.unreadable_report(Path(path), exc, moment)
        except Exception as exc:  # noqa: BLE001 - hostile input must end in a verdict
            return self.engine.document(
                path, b"", fmt, moment, (), _format_failure_doc(exc), (), sha or None, size=size
            )
        if not (self.policy.renewal_dates and report.signatures):
            return report
        en, vi = what
        note = (
            f"Renewal dates are not computed for {en} this large "
            f"(không tính ngày gia hạn cho {vi} lớn như vậy)."
        )
        return _replace_doc(report, warnings=(*report.warnings, note))

    def _needs_embedded_retry(self, report: DocumentReport) -> bool:
        return (
            self.policy.network
            and report.indication is Indication.INDETERMINATE
            and report.sub_indication is SubIndication.TRY_LATER
        )

    def _embedded_verifier(self) -> Verifier:
        if self._embedded_only is None:
            self._embedded_only = Verifier(
                self.trust, self.policy.replace(network=False), cache=self.cache
            )
        return self._embedded_only

    async def _embedded_fallback(
        self, path: str | None, data: bytes, moment: datetime, report: DocumentReport
    ) -> DocumentReport:
        """Online, revocation could not be settled: try what the document itself embeds.

        pyhanko-certvalidator, allowed to fetch, may give up on a chain when the OCSP/CRL
        services cannot be reached even though the document's DSS holds revocation data
        that covers the signing time (an archived PAdES B-LT dossier whose CA has moved).
        Then the same document is checked again with the network off; if that passes, its
        verdict stands, with a warning on every signature that the embedded data was used.
        Only an INDETERMINATE / TRY_LATER verdict is ever reconsidered.
        """
        if not self._needs_embedded_retry(report):
            return report
        embedded_only = self._embedded_verifier()
        retry = await fastpath.pdf(
            embedded_only, path, data, moment, embedded_only._full_pdf(path, data, moment)
        )
        return _embedded_verdict(report, retry)

    async def averify_with_evidence(
        self, source: Source, *, detached: Source | None = None, name: str | None = None
    ) -> tuple[DocumentReport, Evidence]:
        """Verify, and return what the verdict rested on (see :mod:`verify.evidence`).
        Off the caller's event loop, as :meth:`averify` (``name``: as there)."""
        if not _stay_here():
            return await _offload(
                lambda: self.averify_with_evidence(source, detached=detached, name=name),
                self.executor,
            )
        with collecting() as contexts:
            report = await self.averify(source, detached=detached, name=name)
        return report, harvest(report, contexts)

    def verify_with_evidence(
        self, source: Source, *, detached: Source | None = None
    ) -> tuple[DocumentReport, Evidence]:
        return _run_sync(lambda: self.averify_with_evidence(source, detached=detached))

    def verify_xml(self, source: Source) -> DocumentReport:
        return _run_sync(lambda: self.averify(source))

    async def averify_pdf(self, source: Source) -> DocumentReport:
        """A PDF (through the fast path). Off the caller's event loop, as :meth:`averify`."""
        if not _stay_here():
            return await _offload(lambda: self.averify_pdf(source), self.executor)
        started = time.perf_counter()
        moment = self.policy.moment()
        big = _big_pdf(source, self.policy.max_file_size)
        if big is not None:
            return _with_elapsed(await self._verify_big_pdf(big, moment), started)
        path, data, early = self._read(source, moment)
        if early is not None:
            return early
        assert data is not None
        try:
            with self.engine.supplying(data):
                report = await fastpath.pdf(
                    self, path, data, moment, self._full_pdf(path, data, moment)
                )
        except Exception as exc:  # noqa: BLE001 - hostile input must end in a verdict
            report = self.engine.document(
                path, data, "pdf", moment, (), _format_failure_doc(exc), ()
            )
        return _with_elapsed(report, started)

    async def averify_detached(self, content: Source, signature: Source) -> DocumentReport:
        """Content with its detached CMS signature. Off the caller's event loop, as
        :meth:`averify`."""
        if not _stay_here():
            return await _offload(lambda: self.averify_detached(content, signature), self.executor)
        started = time.perf_counter()
        moment = self.policy.moment()
        big = _big_file(content, self.policy.max_file_size)
        if big is not None:
            _sig_path, sig_data, sig_early = self._read(signature, moment)
            if sig_early is not None:
                return _replace_doc(sig_early, path=big, format="cms")
            assert sig_data is not None
            return _with_elapsed(await self._verify_big_detached(big, sig_data, moment), started)
        path, data, early = self._read(content, moment)
        if early is not None:
            return early
        assert data is not None
        _sig_path, sig_data, sig_early = self._read(signature, moment)
        if sig_early is not None:
            return _replace_doc(sig_early, path=path, format="cms")
        assert sig_data is not None
        try:
            with self.engine.supplying(data):
                report = await fastpath.detached(
                    self,
                    path,
                    data,
                    sig_data,
                    moment,
                    lambda: self._cms.verify(path, data, sig_data, moment, enveloped=False),
                )
        except Exception as exc:  # noqa: BLE001 - hostile input must end in a verdict
            report = self.engine.document(
                path, data, "cms", moment, (), _format_failure_doc(exc), ()
            )
        return _with_elapsed(self._with_renewal(report, sig_data, data, moment), started)

    async def _verify_big_detached(
        self, path: str, sig_data: bytes, moment: datetime
    ) -> DocumentReport:
        """Content above :data:`STREAM_ABOVE` with its detached signature, the content read
        from its file piece by piece."""

        async def check(stream: BinaryIO, size: int, sha: str) -> DocumentReport:
            return await self._cms.verify_file(
                path, stream, sig_data, moment, size=size, sha256=sha
            )

        return await self._on_file(path, "cms", moment, check, ("content", "nội dung"))

    def _with_renewal(
        self, report: DocumentReport, document: bytes, content: bytes | None, moment: datetime
    ) -> DocumentReport:
        """``report`` with each signature's renewal date, when the policy asks for them
        (``renewal_dates``; PDF, XML and CMS documents, see :mod:`verify.preservation`)."""
        if not self.policy.renewal_dates or not report.signatures:
            return report
        from verify.preservation import renewal_due

        try:
            dues = renewal_due(
                document,
                content=content,
                report=report,
                rules=self.policy.algorithms,
                now=moment,
            )
        except Exception:  # noqa: BLE001 - renewal dates never cost a document its verdict
            return report
        by_index = {due.index: due.to_dict() for due in dues}
        signatures = tuple(
            replace(sig, renewal=by_index[sig.index]) if sig.index in by_index else sig
            for sig in report.signatures
        )
        return _replace_doc(report, signatures=signatures)

    async def acheck_certificate(
        self,
        cert: x509.Certificate,
        intermediates: Sequence[x509.Certificate] = (),
        *,
        at: datetime | None = None,
    ) -> CertificateCheck:
        """Would a signature by ``cert`` made at ``at`` (default: now) verify?

        Checks the path to this verifier's trust profile, validity at that time, key usage
        (digitalSignature or nonRepudiation), revocation per the policy, and the algorithm
        rules. Used by ``esign`` before it produces anything, and by sign-in by certificate.
        """
        return await self.engine.acheck_certificate(cert, intermediates, at=at)

    def check_certificate(
        self,
        cert: x509.Certificate,
        intermediates: Sequence[x509.Certificate] = (),
        *,
        at: datetime | None = None,
    ) -> CertificateCheck:
        return _run_sync(lambda: self.acheck_certificate(cert, intermediates, at=at))

    def _read(
        self, source: Source, moment: datetime, name: str | None = None
    ) -> tuple[str | None, bytes | None, DocumentReport | None]:
        limit = self.policy.max_file_size
        if isinstance(source, bytes | bytearray | memoryview):
            data = bytes(source)
            path = name
        else:
            path = os.fspath(source)
            try:
                size = Path(path).stat().st_size
                if size > limit:
                    return path, None, self._oversize(path, size, moment)
                data = _read_file(path, size, limit)
            except OSError as exc:  # a problem of the reader's machine, not a forgery
                return path, None, special.unreadable_report(Path(path), exc, moment)
        if len(data) > limit:
            return path, None, self._oversize(path, len(data), moment)
        return path, data, None

    def _oversize(self, path: str | None, size: int, moment: datetime) -> DocumentReport:
        limit = self.policy.max_file_size
        vi, en = sentences(
            SubIndication.SIZE_LIMIT_EXCEEDED,
            f"{size:,} byte, giới hạn {limit:,} byte",
            f"{size:,} bytes, limit {limit:,} bytes",
        )
        return DocumentReport(
            path=path,
            size=size,
            sha256=None,
            format="unknown",
            indication=Indication.INDETERMINATE,
            sub_indication=SubIndication.SIZE_LIMIT_EXCEEDED,
            message_vi=vi,
            message_en=en,
            validation_time=moment,
        )


def _big_file(source: Source, limit: int) -> str | None:
    """The path of ``source`` when it is a file above :data:`STREAM_ABOVE` and within
    ``limit`` (above it, :meth:`Verifier._read` gives the size-limit verdict unread)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return None
    path = os.fspath(source)
    try:
        size = os.stat(path).st_size
    except OSError:
        return None  # Verifier._read says why it cannot be read
    return path if STREAM_ABOVE < size <= limit else None


def _big_pdf(source: Source, limit: int) -> str | None:
    """:func:`_big_file`, when the file is a PDF (not XML, CMS or a ZIP container, which
    are read whole as before)."""
    path = _big_file(source, limit)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    if looks_like_xml(head) or cms_forms.looks_like_signed_data(head) or head[:2] == b"PK":
        return None
    return path if looks_like_pdf(head) else None


def _hash_stream(stream: BinaryIO) -> str:
    """The hex SHA-256 of an open file, read a piece at a time (from its start)."""
    stream.seek(0)
    digest = hashlib.sha256()
    while chunk := stream.read(_HASH_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _embedded_verdict(report: DocumentReport, retry: DocumentReport) -> DocumentReport:
    """The verdict checked again with only what the document embeds (see
    :meth:`Verifier._embedded_fallback`): it stands, with a warning, if it passes."""
    if retry.indication is not Indication.TOTAL_PASSED:
        return report
    note = (
        "revocation sources could not be reached online; the revocation data embedded "
        "in the document (LTV) covers the signing time and was used"
    )
    sigs = tuple(replace(s, warnings=(*s.warnings, note)) for s in retry.signatures)
    return _replace_doc(retry, signatures=sigs)


def _read_file(path: str, size: int, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of a file: what stat() promised (+1 to notice growth),
    never the whole limit allocated for a small file.

    Plain descriptors, not a file object: a time limit that fires while the file is being
    opened must not leave an unclosed file object behind for the collector to warn about.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks: list[bytes] = []
        total = 0
        want = min(size, limit) + 1
        while total < want:
            more = os.read(fd, want - total)
            if not more:
                break
            chunks.append(more)
            total += len(more)
        while size < total <= limit:  # grew while we looked
            more = os.read(fd, min(1 << 20, limit + 1 - total))
            if not more:
                break
            chunks.append(more)
            total += len(more)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _format_failure_doc(exc: BaseException) -> Verdict:
    return Verdict(
        SubIndication.FORMAT_FAILURE,
        f"tệp hỏng hoặc không đọc được ({short(exc)})",
        f"the file is damaged or unreadable ({short(exc)})",
    )


def _with_elapsed(report: DocumentReport, started: float) -> DocumentReport:
    return with_fields(report, elapsed_ms=round((time.perf_counter() - started) * 1000, 3))


def _replace_doc(report: DocumentReport, **changes: Any) -> DocumentReport:
    return replace(report, **changes)


# -- threads and event loops ---------------------------------------------------------------

_T = TypeVar("_T")

_HERE: contextvars.ContextVar[bool] = contextvars.ContextVar("hoso_verify_here", default=False)
"""True where a validation is to run on the current event loop, in the current thread: on
the worker thread a validation was sent to, in a synchronous call's own loop, and within
:func:`in_this_thread`."""

_POOL: ThreadPoolExecutor | None = None
_POOL_PID = 0
_POOL_LOCK = threading.Lock()


def offload_threads() -> int:
    """Threads of the shared pool that runs validations awaited on an event loop:
    ``$HOSO_VERIFY_THREADS``, else the number of CPUs + 4, at most 32 (as Python's own
    default). Validation is mostly Python code holding the GIL, so more threads do not
    make one process faster; they let fetches and file reads of some documents overlap
    the checks of others. More processes (``verify serve --workers``) scale the CPU work."""
    env = os.environ.get("HOSO_VERIFY_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return min(32, (os.cpu_count() or 1) + 4)


def _shared_pool() -> Executor:
    """The shared pool, made on first use (and again in a forked child, whose copy of the
    parent's pool has no threads behind it)."""
    global _POOL, _POOL_PID
    with _POOL_LOCK:
        if _POOL is None or os.getpid() != _POOL_PID:
            _POOL = ThreadPoolExecutor(offload_threads(), thread_name_prefix="hoso-verify")
            _POOL_PID = os.getpid()
        return _POOL


@contextlib.contextmanager
def in_this_thread() -> Iterator[None]:
    """Within this block, :meth:`Verifier.averify` and its kin validate on the caller's
    event loop, in its thread: for a caller that limits a document's time with a signal
    (only the main thread receives ``SIGALRM``; a validation on another thread would run on
    after the time is up), or that already gives each validation a thread or process of its
    own (:mod:`verify.bulk`: no hop to another thread per document)."""
    token = _HERE.set(True)
    try:
        yield
    finally:
        # A coroutine abandoned inside this block (a timed-out validation whose loop was
        # dropped) is closed later by the garbage collector, in whatever context runs it:
        # that context never saw the token, and has nothing to restore.
        with contextlib.suppress(ValueError):
            _HERE.reset(token)


def _stay_here() -> bool:
    return _HERE.get()


class _OwnLoop:
    """One validation on an event loop of its own, in the thread that calls :meth:`run`,
    with the caller's context variables (a collection of evidence, supplied evidence);
    :meth:`cancel` (from any thread) cancels it at its next await."""

    def __init__(self, make: Callable[[], Coroutine[Any, Any, _T]]) -> None:
        self._make = make
        self._context = contextvars.copy_context()
        self._context.run(_HERE.set, True)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancelled = False

    def run(self) -> Any:
        # A plain loop, not asyncio.run or asyncio.Runner: in the main thread those put a
        # SIGINT handler in and take it out again for every call, and Python 3.11's signal
        # module builds an error message holding the repr of the handler, its task and its
        # coroutine each time (about 0.15 ms a validation, half of the loop's cost).
        # Ctrl-C still raises KeyboardInterrupt here, as it does outside a loop.
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(loop.create_task(self._main(), context=self._context))
        finally:
            try:
                left = asyncio.all_tasks(loop)
                for task in left:
                    task.cancel()
                if left:
                    loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    async def _main(self) -> Any:
        with self._lock:
            if self._cancelled:
                raise asyncio.CancelledError
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
        return await self._make()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # that loop has closed: nothing to cancel
                loop.call_soon_threadsafe(task.cancel)


async def _offload(make: Callable[[], Coroutine[Any, Any, _T]], executor: Executor | None) -> _T:
    """Await ``make()`` run on a worker thread of ``executor`` (else the shared pool)."""
    job = _OwnLoop(make)
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(executor or _shared_pool(), job.run)
    try:
        result: _T = await future
    except asyncio.CancelledError:
        job.cancel()
        raise
    return result


def _run_sync(make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """``make()`` run to its end for a synchronous caller: on an event loop of its own in
    this thread; inside a running event loop (which must not be re-entered), on a thread of
    its own, waited for."""
    job = _OwnLoop(make)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        result: _T = job.run()
        return result
    outcome: list[Any] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(job.run())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
            failure.append(exc)

    thread = threading.Thread(target=work, name="hoso-verify-sync", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    found: _T = outcome[0]
    return found
