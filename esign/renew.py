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

The new timestamp must itself last past ``due_before``: a renewal whose TSA would lapse
before then too is refused, and the file is left as it was. pyHanko's ``ltaupdate``
validates only the last document timestamp; here every timestamp of the chain is.

Documents are taken one after another (the work is network-bound and pyHanko's PDF
writing is CPU-bound: one process is the honest default on a small machine). With a
``state`` file each outcome is appended as one JSON line as soon as it is known; a run
given the same file skips the documents it records as renewed or not due (for the same
``due_before``) whose bytes have not changed since, so an interrupted run is finished by
running it again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from esign import _core
from esign.augment import _augment_cms, _augment_pdf, _is_pdf, _Job, _job
from esign.errors import AugmentRefused, EsignError, InputError, TimestampError, UsageError
from esign.profiles import PUBLIC, SignatureProfile
from verify import TrustProfile, ValidationPolicy, Verifier
from verify.preservation import RenewalDue, renewal_due

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

_SUFFIXES = (".pdf", ".p7s", ".p7m")


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
    """The documents ``paths`` name: files as given, and every ``*.pdf``, ``*.p7s`` and
    ``*.p7m`` under folders (recursively, sorted). Raises :class:`InputError` for a path
    that does not exist."""
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
) -> list[RenewOutcome]:
    """Renew every document under ``paths`` whose proof lapses before ``due_before``;
    see :func:`renew`."""
    if due_before.tzinfo is None:
        raise UsageError("due_before must be timezone-aware")
    job = _job("B-LTA", tsa_url, profile, trust, policy, verifier, digest, renewal=True)
    docs = documents(paths)
    done = _read_state(Path(state), due_before) if state is not None else {}
    outcomes: list[RenewOutcome] = []
    for n, doc in enumerate(docs, 1):
        try:
            outcome = await _renew_one(doc, job, due_before, done)
        except Exception as exc:  # noqa: BLE001 - one bad document does not stop the run
            text = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            outcome = RenewOutcome(
                str(doc),
                "failed",
                f"could not be renewed ({text})",
                f"không gia hạn được ({text})",
                due_before=due_before,
            )
        outcomes.append(outcome)
        if state is not None and outcome.status != "skipped":
            _append_state(Path(state), outcome)
        if progress is not None:
            progress(n, len(docs), outcome)
    return outcomes


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
) -> list[RenewOutcome]:
    """Renew, in place, every document under ``paths`` (files, or folders walked for
    ``*.pdf``, ``*.p7s`` with their content next to them, ``*.p7m``) whose proof lapses
    before ``due_before``, with a new timestamp from ``tsa_url`` (default: the profile's
    TSA); leave the others as they are. One :class:`RenewOutcome` per document, in
    order; a refusal is an outcome, not an exception. ``state``: a JSON-lines file of
    outcomes, appended as they come and read back to skip what is done; ``progress`` is
    called after each document with (done, total, outcome).
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
        )
    )


# -- one document -------------------------------------------------------------------------------


async def _renew_one(
    doc: Path, job: _Job, due_before: datetime, done: dict[str, str]
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
    v = job.verifier
    now = v.policy.moment()
    if _is_pdf(data) or content is None:
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
        return outcome(
            "refused",
            f"{earliest.message_en}; not renewed: the new timestamp would lapse before "
            f"{due_before:%Y-%m-%d} too ({next_one.message_en}): choose a TSA whose "
            "certificate lasts longer",
            f"{earliest.message_vi}; không gia hạn: dấu thời gian mới cũng hết hiệu lực trước "
            f"{due_before:%d/%m/%Y} ({next_one.message_vi}): hãy chọn TSA có chứng thư số "
            "còn hạn lâu hơn",
            due=due,
            sha256=sha,
        )
    try:
        with _core.atomic_output(doc) as (out, _target):
            out.write(new)
    except EsignError as exc:
        return outcome("failed", str(exc), str(exc), due=due, sha256=sha)
    next_when = f"{next_one.due:%Y-%m-%d}" if next_one and next_one.due else "no date known"
    return outcome(
        "renewed",
        f"renewed ({earliest.message_en}); next renewal before {next_when}",
        f"đã gia hạn ({earliest.message_vi}); lần gia hạn tới trước {next_when}",
        due=due,
        next_due=next_one.due if next_one else None,
        added=tuple(added),
        sha256=hashlib.sha256(new).hexdigest(),
    )


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
