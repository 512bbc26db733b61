"""Renew archived signatures before their proof lapses (``esign renew``).

For each document (a PDF, a detached ``.p7s`` next to its content, an enveloping
``.p7m``), :func:`verify.preservation.renewal_due` tells when the newest archive or
document timestamp over each signature lapses (its TSA certificate's expiry, a revocation
on its TSA's path, its algorithms' sunset in the dated rules; a signature without any
timestamp: its signer's certificate). A document with a date before ``due_before`` is
renewed, in place and atomically:

1. the whole document is verified now, every document or archive timestamp of the chain
   included (a broken chain is refused: :class:`~esign.errors.TimestampChainBroken`);
2. the validation data the last timestamp needs is added (the DSS, or
   ``SignedData.certificates``/``crls``), and whatever else is missing;
3. a new document timestamp (PAdES) or archive-time-stamp-v3 (CAdES) is added over it all,
   then its own TSA's validation data.

An ASiC-E container (``.asice``, ``.sce``) is verified as a whole and is due when its
newest archive timestamp lapses (without one, its CAdES signatures' own); it is renewed
with a new archive manifest and timestamp (:func:`esign.asic.archive_asic`). An ASiC-S
time assertion (``.asics``, ``.scs``: one file and ``META-INF/timestamp.tst``) is due
when its newest timestamp lapses and is renewed the same way, as EU DSS does. A container
whose archive chain has a gap is refused.

The new timestamp must itself last past ``due_before``: a renewal whose TSA would lapse
before then too is refused, and the file is left as it was. pyHanko's ``ltaupdate``
validates only the last document timestamp; here every timestamp of the chain is.

Documents are taken one after another by default (the work is network-bound and
pyHanko's PDF writing is CPU-bound: one process is the honest default on a small machine).
``workers=N`` renews them in N processes of this machine; ``executor=`` on any
:class:`concurrent.futures.Executor`, e.g. a Dask ``distributed`` client's
``get_executor()`` (the documents, the state file's folder aside, and the evidence folder
must then be on a filesystem the workers see at the same paths). The job (its
:class:`~verify.Verifier` included) is pickled once and sent with each chunk of documents,
as :func:`verify.bulk.verify_many` does; a worker keeps the one it unpickled for the next
chunks. This process keeps the state file, the progress and the outcomes, in the order of
the documents.

With a ``state`` file each outcome is appended as one JSON line as soon as it is known; a
run given the same file skips the documents it records as renewed or not due (for the same
``due_before``) whose bytes have not changed since, so an interrupted run is finished by
running it again.

With ``evidence`` (a folder), what the validation before each renewal rested on is kept
there with :class:`verify.evidence.Evidence` under ``<sha256>/`` of the document as
validated (for a detached ``.p7s``: of its content, as ``verify --evidence`` keys it,
then under ``signatures/<sha256 of the .p7s>/``, so that two signatures over the same
content keep their own): the certificates, OCSP responses and CRLs, the JSON report, and
``renewal.json`` saying what was renewed. A PAdES renewal is an incremental update: the
document as validated is the first ``validated_size`` bytes of the renewed file. A CMS
signature cannot be cut back, so its bytes as validated are kept beside
(``validated.p7s`` or ``validated.p7m``).
``verify --offline --at VALIDATION_TIME --evidence-in DIR`` over that document replays
the validation and reaches the same verdict without the network.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import hashlib
import json
import os
import pickle
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from esign import _core, asic
from esign.augment import _augment_cms, _augment_pdf, _is_pdf, _Job, _job
from esign.errors import AugmentRefused, EsignError, InputError, TimestampError, UsageError
from esign.profiles import PUBLIC, SignatureProfile
from verify import DocumentReport, TrustProfile, ValidationPolicy, Verifier
from verify.evidence import Evidence
from verify.preservation import CAUSES, RenewalDue, renewal_due, timestamp_lapse

__all__ = [
    "STATUSES",
    "RenewOutcome",
    "arenew",
    "documents",
    "renew",
]

STATUSES = ("renewed", "not_due", "refused", "failed", "skipped")
"""What became of a document: renewed; not due before the date; refused (the reason is in
the outcome, nothing was written); failed (it could not be read); skipped (the state
file records it as done)."""

_SUFFIXES = (".pdf", ".p7s", ".p7m", ".asice", ".sce", ".asics", ".scs")


@dataclass(frozen=True)
class RenewOutcome:
    """What became of one document."""

    path: str
    status: str
    """One of :data:`STATUSES`."""
    message_en: str
    message_vi: str
    due: datetime | None = None
    """The earliest renewal date before the run (None: none known)."""
    next_due: datetime | None = None
    """After a renewal: the earliest date the next one is due."""
    added: tuple[str, ...] = ()
    sha256: str | None = None
    """The file's SHA-256 as the run left it."""
    due_before: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "message_en": self.message_en,
            "message_vi": self.message_vi,
            "due": _iso(self.due),
            "next_due": _iso(self.next_due),
            "added": list(self.added),
            "sha256": self.sha256,
            "due_before": _iso(self.due_before),
        }


def documents(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The documents ``paths`` name: files as given, and every ``*.pdf``, ``*.p7s``,
    ``*.p7m``, ``*.asice``, ``*.sce``, ``*.asics`` and ``*.scs`` under folders
    (recursively, sorted). Raises :class:`InputError` for a path that does not exist."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in _SUFFIXES
                and not p.name.startswith(".esign-")
            )
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return list(dict.fromkeys(found))


async def arenew(
    paths: Sequence[str | os.PathLike[str]],
    *,
    due_before: datetime,
    tsa_url: str | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    digest: str | None = None,
    state: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int, RenewOutcome], None] | None = None,
    evidence: str | os.PathLike[str] | None = None,
    workers: int = 1,
    executor: cf.Executor | None = None,
    chunk_size: int = 4,
) -> list[RenewOutcome]:
    """Renew every document under ``paths`` whose proof lapses before ``due_before``;
    see :func:`renew`."""
    if due_before.tzinfo is None:
        raise UsageError("due_before must be timezone-aware")
    if workers < 1 or chunk_size < 1:
        raise UsageError("workers and chunk_size must be at least 1")
    if executor is not None and workers > 1:
        raise UsageError("give workers or an executor, not both")
    job = _job("B-LTA", tsa_url, profile, trust, policy, verifier, digest, renewal=True)
    docs = documents(paths)
    done = _read_state(Path(state), due_before) if state is not None else {}
    evidence_dir = _evidence_folder(evidence)
    outcomes: list[RenewOutcome | None] = [None] * len(docs)
    finished = 0

    def record(index: int, outcome: RenewOutcome) -> None:
        nonlocal finished
        outcomes[index] = outcome
        finished += 1
        if state is not None and outcome.status != "skipped":
            _append_state(Path(state), outcome)
        if progress is not None:
            progress(finished, len(docs), outcome)

    if (executor is None and workers <= 1) or not docs:
        for n, doc in enumerate(docs):
            record(n, await _renew_guarded(doc, job, due_before, done, evidence_dir))
    elif executor is not None:
        await _on_executor(executor, job, docs, due_before, done, evidence_dir, chunk_size, record)
    else:
        import multiprocessing

        # spawned: this process may run threads (a fork would copy their locks held)
        context = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(min(workers, len(docs) or 1), mp_context=context) as pool:
            await _on_executor(pool, job, docs, due_before, done, evidence_dir, chunk_size, record)
    return [o for o in outcomes if o is not None]


def renew(
    paths: Sequence[str | os.PathLike[str]],
    *,
    due_before: datetime,
    tsa_url: str | None = None,
    profile: SignatureProfile = PUBLIC,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    digest: str | None = None,
    state: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int, RenewOutcome], None] | None = None,
    evidence: str | os.PathLike[str] | None = None,
    workers: int = 1,
    executor: cf.Executor | None = None,
    chunk_size: int = 4,
) -> list[RenewOutcome]:
    """Renew, in place, every document under ``paths`` (files, or folders walked for
    ``*.pdf``, ``*.p7s`` with their content next to them, ``*.p7m``, ASiC-E ``*.asice``
    and ``*.sce``, ASiC-S ``*.asics`` and ``*.scs``) whose proof lapses
    before ``due_before``, with a new timestamp from ``tsa_url`` (default: the profile's
    TSA); leave the others as they are. One :class:`RenewOutcome` per document, in
    order; a refusal is an outcome, not an exception. ``state``: a JSON-lines file of
    outcomes, appended as they come and read back to skip what is done; ``progress`` is
    called after each document with (done, total, outcome). ``evidence``: a folder that
    keeps, for each renewed document, what the validation before the renewal rested on
    (see the module's documentation). ``workers``: processes of this machine;
    ``executor``: any :class:`concurrent.futures.Executor` (a Dask client's
    ``get_executor()``), given ``chunk_size`` documents at a time.
    """
    return asyncio.run(
        arenew(
            paths,
            due_before=due_before,
            tsa_url=tsa_url,
            profile=profile,
            trust=trust,
            policy=policy,
            verifier=verifier,
            digest=digest,
            state=state,
            progress=progress,
            evidence=evidence,
            workers=workers,
            executor=executor,
            chunk_size=chunk_size,
        )
    )


# -- on other processes or machines -------------------------------------------------------------


async def _on_executor(
    executor: cf.Executor,
    job: _Job,
    docs: Sequence[Path],
    due_before: datetime,
    done: dict[str, str],
    evidence: str | None,
    chunk_size: int,
    record: Callable[[int, RenewOutcome], None],
) -> None:
    """Chunks of ``docs`` renewed on ``executor``, at most two per worker in flight; each
    outcome recorded as its chunk comes back."""
    blob = pickle.dumps(job)
    chunks = [
        list(range(i, min(i + chunk_size, len(docs)))) for i in range(0, len(docs), chunk_size)
    ]
    in_flight = max(2, 2 * (getattr(executor, "_max_workers", 0) or 2))
    pending: dict[asyncio.Future[list[RenewOutcome]], list[int]] = {}
    queue = iter(chunks)
    while True:
        while len(pending) < in_flight:
            chunk = next(queue, None)
            if chunk is None:
                break
            names = [str(docs[i]) for i in chunk]
            submitted = executor.submit(
                _renew_chunk,
                blob,
                names,
                due_before,
                {n: done[n] for n in names if n in done},
                evidence,
            )
            pending[asyncio.wrap_future(submitted)] = chunk
        if not pending:
            return
        ready, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for future in ready:
            chunk = pending.pop(future)
            try:
                results = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker fails its documents only
                text = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
                results = [
                    RenewOutcome(
                        str(docs[i]),
                        "failed",
                        f"the worker failed ({text})",
                        f"máy trạm gặp lỗi ({text})",
                        due_before=due_before,
                    )
                    for i in chunk
                ]
            for i, outcome in zip(chunk, results, strict=True):
                record(i, outcome)


_WORKER = threading.local()


def _renew_chunk(
    blob: bytes,
    names: list[str],
    due_before: datetime,
    done: dict[str, str],
    evidence: str | None,
) -> list[RenewOutcome]:
    """In a worker: renew ``names`` one after another with the pickled job (unpickled
    once per worker thread and kept, with its event loop, for the next chunks)."""
    key = hashlib.sha256(blob).hexdigest()
    if getattr(_WORKER, "key", None) != key:
        _WORKER.job = pickle.loads(blob)  # noqa: S301 - our own pickled job, from the parent
        _WORKER.key = key
    if getattr(_WORKER, "loop", None) is None or _WORKER.loop.is_closed():
        _WORKER.loop = asyncio.new_event_loop()
    job: _Job = _WORKER.job
    loop: asyncio.AbstractEventLoop = _WORKER.loop
    return [
        loop.run_until_complete(_renew_guarded(Path(n), job, due_before, done, evidence))
        for n in names
    ]


# -- one document -------------------------------------------------------------------------------


async def _renew_guarded(
    doc: Path, job: _Job, due_before: datetime, done: dict[str, str], evidence: str | None
) -> RenewOutcome:
    """:func:`_renew_one`, any failure its outcome: one bad document does not stop a run."""
    try:
        return await _renew_one(doc, job, due_before, done, evidence)
    except Exception as exc:  # noqa: BLE001 - one bad document does not stop the run
        text = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return RenewOutcome(
            str(doc),
            "failed",
            f"could not be renewed ({text})",
            f"không gia hạn được ({text})",
            due_before=due_before,
        )


def _evidence_folder(evidence: str | os.PathLike[str] | None) -> str | None:
    if evidence is None:
        return None
    folder = Path(evidence)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{folder}: cannot make the evidence folder: {exc.strerror or exc}"
        ) from exc
    return os.fspath(folder)


async def _renew_one(
    doc: Path, job: _Job, due_before: datetime, done: dict[str, str], evidence: str | None
) -> RenewOutcome:
    path = str(doc)

    def outcome(status: str, en: str, vi: str, **more: Any) -> RenewOutcome:
        return RenewOutcome(path, status, en, vi, due_before=due_before, **more)

    try:
        data = doc.read_bytes()
        content = _content_of(doc, data)
    except (OSError, InputError) as exc:
        text = str(exc) if isinstance(exc, InputError) else (exc.strerror or str(exc))
        return outcome("failed", f"cannot be read: {text}", f"không đọc được: {text}")
    sha = hashlib.sha256(data).hexdigest()
    if done.get(path) == sha:
        return outcome(
            "skipped",
            "already done in an earlier run (state file)",
            "đã xử lý ở lần chạy trước (tệp trạng thái)",
            sha256=sha,
        )
    if asic._is_asic(data):
        return await _renew_asic(doc, data, job, due_before, evidence, outcome, sha)
    v = job.verifier
    now = v.policy.moment()
    kept: Evidence | None = None
    if evidence is not None:
        if _is_pdf(data) or content is None:
            report, kept = await v.averify_with_evidence(data)
        else:
            report, kept = await v.averify_with_evidence(content, detached=data)
    elif _is_pdf(data) or content is None:
        report = await v.averify(data)
    else:
        report = await v.averify_detached(content, data)
    dues = renewal_due(data, content=content, report=report, rules=v.policy.algorithms, now=now)
    if not dues:
        return outcome(
            "refused",
            f"no signature to renew: {report.message_en}",
            f"không có chữ ký nào để gia hạn: {report.message_vi}",
            sha256=sha,
        )
    invalid = [d for d in dues if d.cause == "not_valid"]
    if invalid:
        return outcome("refused", invalid[0].message_en, invalid[0].message_vi, sha256=sha)
    earliest = _earliest(dues)
    due = earliest.due if earliest is not None else None
    if earliest is None or not earliest.due_before(due_before):
        when = f"{due:%Y-%m-%d}" if due is not None else "no date known"
        return outcome(
            "not_due",
            f"not due before {due_before:%Y-%m-%d} (next renewal: {when})",
            f"chưa đến hạn trước {due_before:%d/%m/%Y} (lần gia hạn tới: {when})",
            due=due,
            sha256=sha,
        )
    try:
        if _is_pdf(data):
            new, _names, added, _report = await _augment_pdf(data, job, None, report)
        else:
            new, _names, added, _report, _fmt = await _augment_cms(data, content, job, report)
    except (AugmentRefused, TimestampError, InputError, UsageError) as exc:
        return outcome(
            "refused",
            f"{earliest.message_en}; not renewed: {exc}",
            f"{earliest.message_vi}; không gia hạn được: {exc.message_vi or exc}",
            due=due,
            sha256=sha,
        )
    after = renewal_due(new, content=content, rules=v.policy.algorithms, now=now)
    next_one = _earliest(after)
    if next_one is not None and next_one.due_before(due_before):
        return _lapses_too(
            outcome, (earliest.message_en, earliest.message_vi), next_one, due_before, due, sha
        )
    return _write_renewed(
        outcome,
        (earliest.message_en, earliest.message_vi),
        _Written(doc, data, new, added, report, kept, evidence),
        due_before,
        due,
        next_one.due if next_one else None,
        sha,
    )


@dataclass(frozen=True)
class _Written:
    """A renewal about to be written: the document, its bytes before and after, what was
    added, the report that justified it and its evidence (kept in ``evidence``, if given)."""

    doc: Path
    data: bytes
    new: bytes
    added: Sequence[str]
    report: DocumentReport
    kept: Evidence | None
    evidence: str | None


def _lapses_too(
    outcome: Callable[..., RenewOutcome],
    why: tuple[str, str],
    lapse: Any,
    due_before: datetime,
    due: datetime | None,
    sha: str,
) -> RenewOutcome:
    """Refused: the new timestamp would itself lapse before ``due_before`` (``lapse``: what
    says so, with ``message_en``/``message_vi``; None when no date is known)."""
    lapse_en = lapse.message_en if lapse is not None else "no date known"
    lapse_vi = lapse.message_vi if lapse is not None else "không rõ ngày"
    return outcome(
        "refused",
        f"{why[0]}; not renewed: the new timestamp would lapse before "
        f"{due_before:%Y-%m-%d} too ({lapse_en}): choose a TSA whose certificate lasts longer",
        f"{why[1]}; không gia hạn: dấu thời gian mới cũng hết hiệu lực trước "
        f"{due_before:%d/%m/%Y} ({lapse_vi}): hãy chọn TSA có chứng thư số còn hạn lâu hơn",
        due=due,
        sha256=sha,
    )


def _write_renewed(
    outcome: Callable[..., RenewOutcome],
    why: tuple[str, str],
    written: _Written,
    due_before: datetime,
    due: datetime | None,
    next_due: datetime | None,
    sha: str,
) -> RenewOutcome:
    """Keep the evidence (if asked), then replace the document; a renewal whose evidence
    cannot be kept is not made."""
    w = written
    try:
        if w.evidence is not None and w.kept is not None:
            _keep_evidence(
                Path(w.evidence), w.kept, w.report, w.doc, w.data, w.new, due_before, w.added
            )
        with _core.atomic_output(w.doc) as (out, _target):
            out.write(w.new)
    except OSError as exc:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
        return outcome(
            "failed",
            f"the evidence could not be kept, so the document was not renewed: {text}",
            f"không lưu được bằng chứng nên tài liệu không được gia hạn: {text}",
            due=due,
            sha256=sha,
        )
    except EsignError as exc:
        return outcome("failed", str(exc), str(exc), due=due, sha256=sha)
    next_when = f"{next_due:%Y-%m-%d}" if next_due else "no date known"
    return outcome(
        "renewed",
        f"renewed ({why[0]}); next renewal before {next_when}",
        f"đã gia hạn ({why[1]}); lần gia hạn tới trước {next_when}",
        due=due,
        next_due=next_due,
        added=tuple(w.added),
        sha256=hashlib.sha256(w.new).hexdigest(),
    )


def _keep_evidence(
    folder: Path,
    kept: Evidence,
    report: DocumentReport,
    doc: Path,
    data: bytes,
    new: bytes,
    due_before: datetime,
    added: Sequence[str],
) -> None:
    """The validation before a renewal, under ``folder/<sha256>/`` as ``verify --evidence``
    keeps it, with ``renewal.json`` (and, for CMS, the signature as it was validated). A
    detached ``.p7s`` is keyed by its content, which other signatures may share: its own
    files go under ``folder/<sha256 of the content>/signatures/<sha256 of the .p7s>/``."""
    key = report.sha256 or hashlib.sha256(data).hexdigest()
    pdf = _is_pdf(data)
    suffix = _validated_suffix(doc, data)
    detached = not pdf and suffix == ".p7s"
    signature = hashlib.sha256(data).hexdigest() if detached else None
    where = kept.write(folder, key, report.to_json(), signature_sha256=signature)
    if not pdf:
        (where / f"validated{suffix}").write_bytes(data)
    about = {
        "path": str(doc),
        "validated_sha256": hashlib.sha256(data).hexdigest(),
        "validated_size": len(data),
        "validated_bytes": (
            f"the first {len(data)} bytes of the renewed file (an incremental update)"
            if pdf
            else f"validated{suffix} beside"
        ),
        "validation_time": _iso(report.validation_time),
        "indication": report.indication.value,
        "renewed_sha256": hashlib.sha256(new).hexdigest(),
        "due_before": _iso(due_before),
        "added": list(added),
    }
    (where / "renewal.json").write_text(
        json.dumps(about, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def _validated_suffix(doc: Path, data: bytes) -> str:
    if asic._is_asice(data):
        return ".asice"
    if asic._is_asic(data):
        return ".asics"
    return ".p7s" if doc.suffix.lower() == ".p7s" else ".p7m"


# -- ASiC containers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Due:
    at: datetime
    message_en: str
    message_vi: str


async def _renew_asic(
    doc: Path,
    data: bytes,
    job: _Job,
    due_before: datetime,
    evidence: str | None,
    outcome: Callable[..., RenewOutcome],
    sha: str,
) -> RenewOutcome:
    """An ASiC-E or ASiC-S container: verified now as a whole; due when its newest
    timestamp (an archive manifest's, else its signatures' own) lapses; renewed with a new
    archive manifest and timestamp (:func:`esign.asic.archive_asic`)."""
    v = job.verifier
    kept: Evidence | None = None
    if evidence is not None:
        report, kept = await v.averify_with_evidence(data)
    else:
        report = await v.averify(data)
    if not report.passed:
        return outcome(
            "refused",
            f"the container does not verify now; renewal cannot help: {report.message_en}",
            f"hồ sơ ASiC không hợp lệ tại thời điểm này; gia hạn không giúp được: "
            f"{report.message_vi}",
            sha256=sha,
        )
    rules = v.policy.algorithms
    due = _asic_due(data, rules)
    if due is None or not due.at < due_before:
        when = f"{due.at:%Y-%m-%d}" if due is not None else "no date known"
        return outcome(
            "not_due",
            f"not due before {due_before:%Y-%m-%d} (next renewal: {when})",
            f"chưa đến hạn trước {due_before:%d/%m/%Y} (lần gia hạn tới: {when})",
            due=due.at if due else None,
            sha256=sha,
        )
    try:
        new, manifest, tst, renames, extended = await asic._rearchived(
            data, v, job.tsa(), job.digest
        )
    except EsignError as exc:
        return outcome(
            "refused",
            f"{due.message_en}; not renewed: {exc}",
            f"{due.message_vi}; không gia hạn được: {exc.message_vi or exc}",
            due=due.at,
            sha256=sha,
        )
    after = _asic_due(new, rules)
    if after is None or after.at < due_before:
        return _lapses_too(
            outcome, (due.message_en, due.message_vi), after, due_before, due.at, sha
        )
    added = [f"validation data for {name}'s TSA put into it" for name in extended]
    added += [f"{old} renamed {new_name}" for old, new_name in renames.items()]
    added.append(f"archive manifest {manifest} with its timestamp {tst}")
    return _write_renewed(
        outcome,
        (due.message_en, due.message_vi),
        _Written(doc, data, new, added, report, kept, evidence),
        due_before,
        due.at,
        after.at,
        sha,
    )


def _asic_due(data: bytes, rules: Any) -> _Due | None:
    """When an ASiC container's proof lapses: the earliest lapse of the tokens no archive
    manifest lists (in a whole chain, the newest archive timestamp alone), else the
    earliest of its CAdES signatures' (each over the manifest that names it)."""
    import zipfile
    from io import BytesIO

    from asn1crypto import cms
    from pyhanko.sign.general import extract_certificate_info

    from verify import cms_forms, process

    with zipfile.ZipFile(BytesIO(data)) as zf:
        entries = {n: zf.read(n) for n in zf.namelist() if n.upper().startswith("META-INF/")}
    # the heads of the chain: every token no archive manifest lists (in a whole chain, the
    # newest alone; where a manifest left one out, that one too: it lapses on its own)
    listed: set[str] = set()
    for name, raw in entries.items():
        if name[len("META-INF/") :].lower().startswith("asicarchivemanifest"):
            listed |= _listed_entries(raw)
    lapses = []
    for name, raw in entries.items():
        if not name.lower().endswith(".tst") or name in listed:
            continue
        sd = cms.ContentInfo.load(raw)["content"]
        info = sd["encap_content_info"]["content"].parsed
        algorithms = (
            info["message_imprint"]["hash_algorithm"]["algorithm"].native,
            *(si["digest_algorithm"]["algorithm"].native for si in sd["signer_infos"]),
        )
        evidence = process.TimestampEvidence(
            "archive",
            info["gen_time"].native,
            True,
            True,
            True,
            tsa_cert=extract_certificate_info(sd).signer_cert,
            digest_algorithms=algorithms,
            label=name,
        )
        lapse = timestamp_lapse(
            evidence,
            certificates=cms_forms.certificates(sd),
            revocation=process.revocation_values(sd),
            rules=rules,
        )
        if lapse is not None:
            lapses.append((lapse.at, name, lapse))
    if lapses:
        _at, name, lapse = min(lapses, key=lambda found: (found[0], found[1]))
        vi, en = CAUSES[lapse.cause]
        return _Due(
            lapse.at,
            f"before {lapse.at:%Y-%m-%d}: {en} ({lapse.detail}, {name})",
            f"trước {lapse.at:%d/%m/%Y}: {vi} ({lapse.detail}, {name})",
        )
    if any(name.lower().endswith(".tst") for name in entries):
        return None
    dues: list[RenewalDue] = []
    for name, raw in entries.items():
        if name.lower().endswith(".p7s"):
            manifest = _manifest_naming(entries, name)
            if manifest is not None:
                dues.extend(renewal_due(raw, content=manifest, rules=rules))
    earliest = _earliest(dues)
    if earliest is None or earliest.due is None:
        return None
    return _Due(earliest.due, earliest.message_en, earliest.message_vi)


def _manifest_naming(entries: dict[str, bytes], signature: str) -> bytes | None:
    """The ``ASiCManifest*.xml`` whose ``SigReference`` names ``signature``."""
    for name, raw in entries.items():
        if not name[len("META-INF/") :].lower().startswith("asicmanifest"):
            continue
        if _sig_reference(raw) == signature:
            return raw
    return None


def _listed_entries(manifest: bytes) -> set[str]:
    """The entries a manifest's ``DataObjectReference``s name (none if not readable)."""
    from urllib.parse import unquote

    from lxml import etree

    try:
        root = etree.fromstring(manifest, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return set()
    return {unquote(ref.get("URI") or "") for ref in root.iter("{*}DataObjectReference")}


def _sig_reference(manifest: bytes | None) -> str | None:
    """The entry a manifest's ``SigReference`` names (None: none, or not readable)."""
    from urllib.parse import unquote

    from lxml import etree

    if manifest is None:
        return None
    try:
        root = etree.fromstring(manifest, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return None
    for ref in root.iter("{*}SigReference"):
        return unquote(ref.get("URI") or "")
    return None


def _content_of(doc: Path, data: bytes) -> bytes | None:
    """A detached signature's content: the file of the same name without ``.p7s``."""
    if _is_pdf(data) or doc.suffix.lower() != ".p7s":
        return None
    content = doc.with_suffix("")
    if not content.is_file():
        raise InputError(f"{doc}: its content {content.name} is not next to it")
    return content.read_bytes()


def _earliest(dues: Sequence[RenewalDue]) -> RenewalDue | None:
    dated = [d for d in dues if d.due is not None]
    return min(dated, key=lambda d: d.due or datetime.max.replace(tzinfo=UTC), default=None)


# -- the state file -----------------------------------------------------------------------------


def _read_state(path: Path, due_before: datetime) -> dict[str, str]:
    """path -> the SHA-256 a finished document had, for the outcomes that need no
    second run (renewed; not due before the same date)."""
    done: dict[str, str] = {}
    if not path.exists():
        return done
    for line in _lines(path):
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a half-written last line
        if not isinstance(item, dict) or not item.get("sha256"):
            continue
        status = item.get("status")
        if status == "renewed" or (
            status == "not_due" and item.get("due_before") == _iso(due_before)
        ):
            done[str(item.get("path"))] = str(item["sha256"])
    return done


def _lines(path: Path) -> Iterator[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the state file: {exc.strerror or exc}") from exc
    yield from (line for line in text.splitlines() if line.strip())


def _append_state(path: Path, outcome: RenewOutcome) -> None:
    line = json.dumps(outcome.to_dict(), ensure_ascii=False) + "\n"
    try:
        with path.open("a+b") as f:
            if f.tell() > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    line = "\n" + line  # after a half-written line of an interrupted run
            f.write(line.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise InputError(f"{path}: cannot write the state file: {exc.strerror or exc}") from exc


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
