"""Signed submissions: validate -> verify attachments -> dossier code -> render -> sign -> bundle.

:func:`submit` turns filled data into a dossier the way a portal receives it::

    from eforms import DossierCodes, bundled_catalog, submit
    import esign

    form = bundled_catalog().form("to-khai-thay-doi-thong-tin-cu-tru")
    bundle = submit(
        form, data, esign.from_pkcs12("citizen.p12", "secret"),
        tsa_url="http://tsa.example.vn", agency="000.00.00.H29",
        codes=DossierCodes("state/dossiers.sqlite"), out_dir="outbox",
    )
    bundle.dossier_code          # '000.00.00.H29-260601-0001'
    bundle.folder                # outbox/000.00.00.H29-260601-0001/

Bad data never yields a signed PDF: :class:`~eforms.errors.FormValidationError` carries every
field error. A signed attachment that does not verify refuses the whole submission
(:class:`AttachmentRefused`, with the verifier's report). Signing errors are esign's own
(:class:`esign.EsignError` subclasses: refused certificate, unreachable TSA...). Nothing is
written unless the whole bundle was made: the folder appears complete or not at all.

A dossier code is spent only on a dossier: every argument, the data, the signer's
certificate (as esign would judge it), the level and its TSA, the attachments and the
paper form's inputs are checked before a code is taken; what fails after that (printing,
the TSA, the key, writing) records the code void with its reason in the same SQLite file,
and :meth:`DossierCodes.audit` (``eforms codes``) lists those gaps.

Errors added here (both :class:`~eforms.errors.EformsError`)::

    SubmissionError          bad arguments, a code that cannot be issued, a folder that
    │                        cannot be written
    ├── AttachmentRefused    an attachment is unreadable or its signature does not verify
    └── SignerMismatch       ``declarant_id`` names an ID the signer's certificate lacks
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import sqlite3
import string
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pyhanko.sign.signers import Signer

from eforms import pointers
from eforms.autofill import AutofillResult
from eforms.definition import FormDefinition
from eforms.errors import EformsError
from eforms.render import PdfAttachment, PdfMetadata, check_pdf_renderable, render_pdf
from eforms.validation import validate
from esign import PUBLIC, SignatureProfile, SignatureSlot, SignResult, VisibleStamp, asign_pdf
from esign import _core as _esign_core  # the checks asign_pdf runs, run before a code
from esign.pdf import FieldLock
from esign.signers import KeySource
from verify import DocumentReport, SignerIdentity, TrustProfile, ValidationPolicy, Verifier
from verify.report import SubIndication

__all__ = [
    "CODE_STATUSES",
    "DECLARANT_FIELD",
    "DEFAULT_AGENCY",
    "DEFAULT_CODE_FORMAT",
    "OFFICIAL_FIELD",
    "VN_TZ",
    "Attachment",
    "AttachmentRefused",
    "CheckedAttachment",
    "CodeRecord",
    "DossierCodes",
    "SignerMismatch",
    "Submission",
    "SubmissionError",
    "asubmit",
    "default_state_dir",
    "stamp_for",
    "submit",
]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_CODE_FORMAT = "{agency}-{yymmdd}-{seq}"
"""Dossier codes as the national portal shows them: ``000.00.00.H29-260601-0001``.

Fields: ``agency``, ``procedure`` (dots kept), ``yymmdd``, ``yyyymmdd``, ``yyyy``, ``yy``,
``mm``, ``dd`` (the submission date in Asia/Ho_Chi_Minh) and ``seq`` (required; four digits
unless a format spec is given, e.g. ``{seq:06d}``). The sequence counts per everything else
the code shows: with the default format, per agency and day.
"""
DEFAULT_AGENCY = "HOSO"
"""A placeholder agency code; portals pass their own (mã định danh, e.g. ``000.00.00.H29``)."""
DECLARANT_FIELD = "CongDan"
"""The signature field of the person who declares (người kê khai)."""
OFFICIAL_FIELD = "CanBo"
"""The conventional field name for the official who countersigns (cán bộ tiếp nhận)."""
MANIFEST_VERSION = 1
MAX_ATTACHMENT_BYTES = 20_000_000
MAX_ATTACHMENTS = 50

_AGENCY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_CODE_FIELDS = frozenset({"agency", "procedure", "yymmdd", "yyyymmdd", "yyyy", "yy", "mm", "dd"})
_SIGN_ANCHOR = "chu-ky"  # the id of the signature block in the paper template


class SubmissionError(EformsError):
    """A submission could not be made: bad arguments, no dossier code, an unwritable folder."""


class SignerMismatch(SubmissionError):
    """The signer's certificate does not carry the declarant's personal ID.

    Raised when :func:`submit` is given ``declarant_id``; ``expected`` is the ID in the
    data, ``found`` the personal identifiers (CCCD, CMND, passport...) of the certificate.
    """

    def __init__(self, expected: str, found: Sequence[str]) -> None:
        self.expected = expected
        self.found = tuple(found)
        shown = ", ".join(self.found) or "none"
        super().__init__(
            f"the signer's certificate does not belong to the declarant: it carries "
            f"personal ID(s) {shown}, the form says {expected}"
        )


def _check_declarant(identity: SignerIdentity, expected: str) -> None:
    found = [i.value for i in identity.identifiers if i.is_personal]
    if expected not in found:
        raise SignerMismatch(expected, found)


def _declarant(data: Mapping[str, Any], pointer: str) -> str:
    try:
        value = pointers.get(data, pointer)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise SubmissionError(f"declarant_id {pointer!r}: no such value in the data") from exc
    if not isinstance(value, str) or not value:
        raise SubmissionError(f"declarant_id {pointer!r}: not a personal ID")
    return value


class AttachmentRefused(SubmissionError):
    """An attachment is unreadable or its signature does not verify; nothing was submitted.

    ``name`` is the attachment's name, ``report`` the verifier's :class:`verify.DocumentReport`
    (``None`` when the file could not even be read).
    """

    def __init__(self, name: str, message: str, report: DocumentReport | None = None) -> None:
        self.name = name
        self.report = report
        super().__init__(f"attachment {name!r}: {message}")


# -- attachments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """A file that goes with the form: a scan, a signed PDF, or any file with a detached .p7s.

    ``signature`` is a detached CMS/CAdES signature over ``content``. A PDF that carries
    signatures is verified as a PDF; other files without ``signature`` are kept as given.
    """

    name: str
    content: bytes
    signature: bytes | None = None
    description: str = ""

    def __post_init__(self) -> None:
        name = self.name
        if (
            not name
            or len(name) > 200
            or name.startswith(".")
            or any(c in name for c in '/\\:\0<>"|?*')
            or any(ord(c) < 32 for c in name)
        ):
            raise SubmissionError(f"attachment name {name!r} is not a plain file name")
        if not isinstance(self.content, bytes):
            raise SubmissionError(f"attachment {name!r}: content must be bytes")
        if len(self.content) > MAX_ATTACHMENT_BYTES:
            raise SubmissionError(
                f"attachment {name!r} is larger than {MAX_ATTACHMENT_BYTES} bytes"
            )
        if self.signature is not None and len(self.signature) > 1_000_000:
            raise SubmissionError(f"attachment {name!r}: signature larger than 1000000 bytes")

    @property
    def signature_name(self) -> str | None:
        return f"{self.name}.p7s" if self.signature is not None else None

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        signature: str | os.PathLike[str] | None = None,
        *,
        name: str | None = None,
        description: str = "",
    ) -> Attachment:
        """Read a file (and its detached signature) from disk."""
        p = Path(path)
        content = _read_limited(p, MAX_ATTACHMENT_BYTES)
        sig = _read_limited(Path(signature), 1_000_000) if signature is not None else None
        return cls(name or p.name, content, sig, description)


def _read_limited(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise AttachmentRefused(path.name, f"{path}: no such file") from None
    except OSError as exc:
        raise AttachmentRefused(path.name, f"{path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise AttachmentRefused(path.name, f"{path}: larger than {limit} bytes")
    return data


@dataclass(frozen=True)
class CheckedAttachment:
    """An attachment after intake: whether it was signed, and the verifier's verdict."""

    attachment: Attachment
    signed: bool
    report: DocumentReport | None

    def to_json(self) -> dict[str, Any]:
        rep = self.report
        out: dict[str, Any] = {
            "name": self.attachment.name,
            "signed": self.signed,
            "signature": self.attachment.signature_name,
            "sha256": hashlib.sha256(self.attachment.content).hexdigest(),
        }
        if self.attachment.description:
            out["description"] = self.attachment.description
        if self.signed and rep is not None:
            out["indication"] = rep.indication.value
            out["signers"] = [
                (s.signer or {}).get("name")
                for s in rep.signatures
                if s.kind != "document_timestamp"
            ]
            out["validation_time"] = _iso(rep.validation_time)
        return out


async def _check_attachment(att: Attachment, verifier: Verifier) -> CheckedAttachment:
    if att.signature is not None:
        report = await verifier.averify_detached(att.content, att.signature)
    elif b"%PDF-" in att.content[:1024]:  # readers accept a header within the first 1 KiB
        report = await verifier.averify_pdf(att.content)
        if report.sub_indication is SubIndication.NO_SIGNATURE_FOUND:
            return CheckedAttachment(att, False, report)
    else:
        return CheckedAttachment(att, False, None)
    if not report.passed:
        detail = report.indication.value
        if report.sub_indication is not None:
            detail += f"/{report.sub_indication.value}"
        raise AttachmentRefused(
            att.name, f"signature does not verify ({detail}): {report.message_en}", report
        )
    return CheckedAttachment(att, True, report)


# -- dossier codes ----------------------------------------------------------------------------


class _Seq(int):
    def __format__(self, spec: str) -> str:
        return format(int(self), spec or "04d")


_SEQ_MARK = "\x00seq\x00"


class _SeqMarker:
    def __format__(self, spec: str) -> str:
        return _SEQ_MARK


def default_state_dir() -> Path:
    """Where dossier sequences live unless told: ``$HOSO_STATE_DIR``, else
    ``$XDG_STATE_HOME/hoso``, else ``~/.local/state/hoso``."""
    env = os.environ.get("HOSO_STATE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "hoso"


CODE_STATUSES = ("reserved", "used", "void")
"""What became of an issued code: taken by a submission still running (or whose process
stopped), spent on a dossier, or void (the submission failed after taking it)."""
_MAX_REASON = 500


@dataclass(frozen=True)
class CodeRecord:
    """One issued dossier code and what became of it (see :meth:`DossierCodes.audit`).

    ``status`` is ``reserved``, ``used``, ``void`` or ``missing`` (a number below the
    counter that no record explains); ``reason`` says why a code is not a dossier.
    """

    code: str
    scope: str
    seq: int
    status: str
    reason: str
    issued_at: datetime | None
    closed_at: datetime | None

    @property
    def is_gap(self) -> bool:
        """True when no dossier carries this code."""
        return self.status != "used"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "scope": self.scope,
            "seq": self.seq,
            "status": self.status,
            "reason": self.reason,
            "issued_at": _iso(self.issued_at),
            "closed_at": _iso(self.closed_at),
        }


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
        text = text or "the submission was interrupted"
    out = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return out[:_MAX_REASON]


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class DossierCodes:
    """Issues dossier codes from a SQLite file: unique across threads and processes.

    Each :meth:`reserve` (and :meth:`issue`) is one ``BEGIN IMMEDIATE`` transaction that
    bumps the counter for the code's scope (everything the format shows except ``seq``)
    and records the code, so two processes sharing the file never get the same code. Dates
    are the submission's in Asia/Ho_Chi_Minh.

    :func:`submit` checks everything it can before it takes a code (arguments, data,
    certificate, attachments, that the form can be rendered), then takes one with
    :meth:`reserve`; :meth:`confirm` records the dossier made, :meth:`void` the reason
    when anything fails after that (rendering, the TSA, the signing key, writing the
    folder). A code is never issued twice; :meth:`audit` lists every code that
    is not a dossier, with its reason.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        template: str = DEFAULT_CODE_FORMAT,
        timeout: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self.template = template
        self.timeout = timeout
        self._check_template(template)

    @classmethod
    def in_state_dir(
        cls, state_dir: str | os.PathLike[str] | None = None, **kwargs: Any
    ) -> DossierCodes:
        """Codes kept in ``<state_dir>/dossier-codes.sqlite``

        ``state_dir`` defaults to :func:`default_state_dir`.
        """
        base = Path(state_dir) if state_dir is not None else default_state_dir()
        return cls(base / "dossier-codes.sqlite", **kwargs)

    @staticmethod
    def _check_template(template: str) -> None:
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as exc:
            raise SubmissionError(f"dossier code format {template!r}: {exc}") from None
        names = [f for _lit, f, _spec, _conv in parsed if f is not None]
        if "seq" not in names:
            raise SubmissionError(f"dossier code format {template!r} has no {{seq}}")
        unknown = sorted({n for n in names if n != "seq" and n not in _CODE_FIELDS})
        if unknown:
            raise SubmissionError(
                f"dossier code format {template!r}: unknown field(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(_CODE_FIELDS | {'seq'}))}"
            )

    def _seq_spec(self) -> str:
        for _lit, name, spec, _conv in string.Formatter().parse(self.template):
            if name == "seq":
                return spec or ""
        return ""

    def check(self, agency: str, at: datetime, *, procedure: str | None = None) -> None:
        """Raise :class:`SubmissionError` if a code could not be made for these values."""
        self._fields(agency, at, procedure)

    def _fields(self, agency: str, at: datetime, procedure: str | None) -> dict[str, Any]:
        if at.tzinfo is None:
            raise SubmissionError("the submission time must be timezone-aware")
        if not _AGENCY_RE.fullmatch(agency):
            raise SubmissionError(
                f"agency code {agency!r}: use 1-40 letters, digits, '.', '_' or '-'"
            )
        local = at.astimezone(VN_TZ)
        return {
            "agency": agency,
            "procedure": procedure or "",
            "yymmdd": f"{local:%y%m%d}",
            "yyyymmdd": f"{local:%Y%m%d}",
            "yyyy": f"{local:%Y}",
            "yy": f"{local:%y}",
            "mm": f"{local:%m}",
            "dd": f"{local:%d}",
        }

    def _connect(self, *, create: bool = True) -> sqlite3.Connection:
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            elif not self.path.is_file():
                raise SubmissionError(f"{self.path}: no dossier counter here")
            return sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise SubmissionError(f"{self.path}: cannot open the dossier counter: {exc}") from exc

    @staticmethod
    def _ensure_tables(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS counters (scope TEXT PRIMARY KEY, last INTEGER)")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS issued (code TEXT PRIMARY KEY, scope TEXT NOT NULL, "
            "seq INTEGER NOT NULL, issued_at TEXT NOT NULL)"
        )
        columns = {row[1] for row in conn.execute("PRAGMA table_info(issued)")}
        # files made before codes had an outcome: their codes count as used
        if "status" not in columns:
            conn.execute("ALTER TABLE issued ADD COLUMN status TEXT NOT NULL DEFAULT 'used'")
        if "reason" not in columns:
            conn.execute("ALTER TABLE issued ADD COLUMN reason TEXT NOT NULL DEFAULT ''")
        if "closed_at" not in columns:
            conn.execute("ALTER TABLE issued ADD COLUMN closed_at TEXT")

    def _take(self, agency: str, at: datetime, procedure: str | None, status: str) -> str:
        fields = self._fields(agency, at, procedure)
        scope = self.template.format(seq=_SeqMarker(), **fields)
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._ensure_tables(conn)
            (seq,) = conn.execute(
                "INSERT INTO counters (scope, last) VALUES (?, 1) "
                "ON CONFLICT (scope) DO UPDATE SET last = last + 1 RETURNING last",
                (scope,),
            ).fetchone()
            code = self.template.format(seq=_Seq(seq), **fields)
            stamp = at.astimezone(UTC).isoformat()
            conn.execute(
                "INSERT INTO issued (code, scope, seq, issued_at, status, closed_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (code, scope, seq, stamp, status, stamp if status == "used" else None),
            )
            conn.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            conn.execute("ROLLBACK")
            raise SubmissionError(
                f"dossier code format {self.template!r} produced a code issued before; "
                "make it show {seq}"
            ) from exc
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise SubmissionError(f"{self.path}: cannot issue a dossier code: {exc}") from exc
        finally:
            conn.close()
        return str(code)

    def issue(self, agency: str, at: datetime, *, procedure: str | None = None) -> str:
        """The next code for ``agency`` at ``at`` (aware), spent at once (status ``used``).

        For a dossier still to be made, :meth:`reserve` and then :meth:`confirm` or
        :meth:`void`. Raises :class:`SubmissionError`.
        """
        return self._take(agency, at, procedure, "used")

    def reserve(self, agency: str, at: datetime, *, procedure: str | None = None) -> str:
        """The next code, taken for a dossier being made: :meth:`confirm` or :meth:`void` it."""
        return self._take(agency, at, procedure, "reserved")

    def _close(self, code: str, status: str, reason: str, at: datetime | None) -> None:
        stamp = (at or datetime.now(UTC)).astimezone(UTC).isoformat()
        conn = self._connect(create=False)
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._ensure_tables(conn)
            row = conn.execute("SELECT status FROM issued WHERE code = ?", (code,)).fetchone()
            if row is None:
                raise SubmissionError(f"dossier code {code!r} was never issued here")
            if row[0] != "reserved":
                raise SubmissionError(f"dossier code {code!r} is already {row[0]}")
            conn.execute(
                "UPDATE issued SET status = ?, reason = ?, closed_at = ? WHERE code = ?",
                (status, reason[:_MAX_REASON], stamp, code),
            )
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise SubmissionError(f"{self.path}: cannot record dossier code {code}: {exc}") from exc
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def confirm(self, code: str, *, at: datetime | None = None) -> None:
        """Record that the dossier carrying the reserved ``code`` was made."""
        self._close(code, "used", "", at)

    def void(self, code: str, reason: str, *, at: datetime | None = None) -> None:
        """Record that the reserved ``code`` carries no dossier, and why."""
        self._close(code, "void", reason or "no reason given", at)

    def audit(self, *, everything: bool = False) -> list[CodeRecord]:
        """Every code that carries no dossier (``everything``: every code), in order.

        Void codes come with the reason the submission failed; a code still ``reserved``
        belongs to a submission running now or whose process stopped; a ``missing`` number
        is one the counter passed that no record explains (a file edited by hand).
        """
        if not self.path.is_file():
            return []
        conn = self._connect(create=False)
        try:
            conn.execute("BEGIN")
            self._ensure_tables(conn)
            rows = conn.execute(
                "SELECT code, scope, seq, status, reason, issued_at, closed_at FROM issued"
            ).fetchall()
            counters = dict(conn.execute("SELECT scope, last FROM counters").fetchall())
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise SubmissionError(f"{self.path}: cannot read the dossier counter: {exc}") from exc
        finally:
            conn.close()
        out: list[CodeRecord] = []
        seen: dict[str, set[int]] = {}
        for code, scope, seq, status, reason, issued_at, closed_at in rows:
            seen.setdefault(scope, set()).add(int(seq))
            if status == "reserved" and not reason:
                reason = "reserved, no outcome recorded (a submission running or stopped)"
            out.append(
                CodeRecord(
                    str(code), str(scope), int(seq), str(status), str(reason or ""),
                    _when(issued_at), _when(closed_at),
                )
            )  # fmt: skip
        for scope, last in counters.items():
            for seq in range(1, int(last) + 1):
                if seq not in seen.get(scope, set()):
                    code = scope.replace(_SEQ_MARK, format(_Seq(seq), self._seq_spec()))
                    out.append(
                        CodeRecord(code, scope, seq, "missing", "no record of this number",
                                   None, None)
                    )  # fmt: skip
        out = [dataclasses.replace(r, scope=r.scope.replace(_SEQ_MARK, "{seq}")) for r in out]
        out.sort(key=lambda r: (r.scope, r.seq))
        return out if everything else [r for r in out if r.is_gap]


# -- where the stamps go ------------------------------------------------------------------------


def stamp_for(pdf: bytes, role: Literal["declarant", "official"] = "declarant") -> VisibleStamp:
    """Where a visible signature goes on a form rendered by :func:`eforms.render_pdf`.

    ``declarant``: in the space under "(Ký, ghi rõ họ tên)" above the printed name;
    ``official``: the blank to its left, level with it. Found from the signature block's
    named destination; for another PDF, the bottom of the last page.
    """
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        page, x, top = _anchor(reader)
    except Exception:  # noqa: BLE001 - any PDF without our anchor gets the fallback
        page, x, top = -1, 317, 191
    if role == "declarant":
        box = (int(x) + 8, int(top) - 106, int(x) + 219, int(top) - 55)
    elif role == "official":
        box = (71, int(top) - 106, 300, int(top) - 40)
    else:
        raise SubmissionError(f"role must be 'declarant' or 'official', not {role!r}")
    return VisibleStamp(page, box)


def _anchor(reader: Any) -> tuple[int, float, float]:
    names = reader.root["/Names"]["/Dests"]["/Names"]
    for i in range(0, len(names) - 1, 2):
        if str(names[i]) == _SIGN_ANCHOR:
            dest = names[i + 1]
            page_ref = dest.raw_get(0)  # the reference, not the page it points to
            count = int(reader.root["/Pages"]["/Count"])
            for ix in range(count):
                ref, _res = reader.find_page_for_modification(ix)
                if ref.idnum == page_ref.idnum:
                    top = float(dest[3])
                    if top < 130:  # too close to the bottom edge for a stamp
                        break
                    return ix + 1, float(dest[2]), top
            break
    raise LookupError("no signature anchor")


# -- the bundle ---------------------------------------------------------------------------------


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat() if dt is not None else None


def _json_bytes(value: Any) -> bytes:
    return (
        json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n"
    ).encode("utf-8")


@dataclass(frozen=True)
class Submission:
    """A signed dossier: the signed PDF, the data, the attachments and the manifest.

    :meth:`files` maps each relative path in the bundle folder to its bytes; the manifest
    lists every other part with its SHA-256. ``folder`` is where it was written, if it was.
    """

    dossier_code: str
    agency: str
    procedure: str | None
    form_id: str
    form_version: str
    submitted_at: datetime
    signer: SignerIdentity
    signature: SignResult
    pdf: bytes
    data: Mapping[str, Any]
    attachments: tuple[CheckedAttachment, ...]
    manifest: Mapping[str, Any] = field(repr=False)
    folder: Path | None = None

    @property
    def pdf_name(self) -> str:
        return f"{self.form_id}.pdf"

    @property
    def data_name(self) -> str:
        return f"{self.form_id}.json"

    @property
    def data_json(self) -> bytes:
        return _json_bytes(self.data)

    @property
    def manifest_json(self) -> bytes:
        return _json_bytes(self.manifest)

    def files(self) -> dict[str, bytes]:
        """Relative path -> content, ``manifest.json`` last."""
        out = _parts(self.pdf_name, self.pdf, self.data_name, self.data_json, self.attachments)
        out["manifest.json"] = self.manifest_json
        return out

    def write(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write the bundle to ``out_dir/<dossier code>/`` atomically; return that folder.

        The files are written to a hidden temporary folder beside it and renamed into
        place at the end: the folder appears complete or not at all.
        """
        return _write_folder(Path(out_dir), self.dossier_code, self.files())


def _parts(
    pdf_name: str,
    pdf: bytes,
    data_name: str,
    data_json: bytes,
    attachments: Sequence[CheckedAttachment],
) -> dict[str, bytes]:
    out = {pdf_name: pdf, data_name: data_json}
    for checked in attachments:
        att = checked.attachment
        out[f"attachments/{att.name}"] = att.content
        if att.signature is not None:
            out[f"attachments/{att.signature_name}"] = att.signature
    return out


_MEDIA = {
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".p7s": "application/pkcs7-signature",
}


def _part_entry(path: str, content: bytes, role: str) -> dict[str, Any]:
    return {
        "path": path,
        "role": role,
        "media_type": _MEDIA.get(Path(path).suffix.lower(), "application/octet-stream"),
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


def _write_folder(out_dir: Path, name: str, files: Mapping[str, bytes]) -> Path:
    target = out_dir / name
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if target.exists():
            raise SubmissionError(f"{target}: already exists")
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=out_dir))
    except OSError as exc:
        raise SubmissionError(f"{out_dir}: cannot write: {exc.strerror or exc}") from None
    try:
        for rel, content in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o755)  # noqa: S103 - a bundle is for others to read, as mkdir would make it
        os.rename(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SubmissionError(f"{target}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


# -- submit ---------------------------------------------------------------------------------------


def _policy_at(policy: ValidationPolicy | None, now: datetime | None) -> ValidationPolicy | None:
    if now is None:
        return policy
    if policy is None:
        return ValidationPolicy(validation_time=now)
    if policy.validation_time is None:
        return dataclasses.replace(policy, validation_time=now)
    return policy


async def asubmit(
    form: FormDefinition,
    data: Mapping[str, Any],
    signer: Signer | KeySource,
    *,
    profile: SignatureProfile = PUBLIC,
    level: str = "B-LT",
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    tsa_url: str | None = None,
    agency: str = DEFAULT_AGENCY,
    codes: DossierCodes | None = None,
    attachments: Sequence[Attachment] = (),
    attachment_verifier: Verifier | None = None,
    autofill: AutofillResult | None = None,
    now: datetime | None = None,
    place: str = "",
    lang: str = "vi",
    visible: VisibleStamp | Literal[False] | None = None,
    field_name: str = DECLARANT_FIELD,
    field_lock: FieldLock | None = None,
    slots: Sequence[SignatureSlot] = (),
    out_dir: str | os.PathLike[str] | None = None,
    declarant_id: str | None = None,
) -> Submission:
    """Async :func:`submit`: the same steps; rendering and file work run in threads."""
    # 1. the arguments
    if not isinstance(form, FormDefinition):
        raise SubmissionError("form must be a FormDefinition (load_definition or the catalog)")
    if not isinstance(data, Mapping):
        raise SubmissionError("data must be a JSON object")
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        raise SubmissionError("now must be timezone-aware")
    _check_signing_arguments(lang, visible, field_name, field_lock, slots)
    if len(attachments) > MAX_ATTACHMENTS:
        raise SubmissionError(f"at most {MAX_ATTACHMENTS} attachments")
    if any(not isinstance(a, Attachment) for a in attachments):
        raise SubmissionError("attachments must be eforms.Attachment objects")
    names = [n for a in attachments for n in (a.name, a.signature_name) if n is not None]
    if len(set(names)) != len(names):
        raise SubmissionError("two attachments (or an attachment and a signature) share a name")
    local_day = moment.astimezone(VN_TZ).date()
    counter = codes if codes is not None else DossierCodes.in_state_dir()
    counter.check(agency, moment, procedure=form.procedure)
    if out_dir is not None:
        await asyncio.to_thread(_check_out_dir, Path(out_dir))

    # 2. the data: nothing is rendered, signed or written for invalid data
    report = validate(
        form, data, prefilled=autofill.values if autofill is not None else None, today=local_day
    )
    report.raise_for_status()
    clean: dict[str, Any] = report.data
    expected_id = _declarant(clean, declarant_id) if declarant_id is not None else None

    async with _esign_core.opened(signer) as key:
        # 3. the signer: the certificate esign would refuse (profile, validity, revocation,
        # algorithms, key usage), the level and its TSA, and the declarant
        policy = _policy_at(policy, now) if verifier is None else policy
        plan = await _esign_core.plan(
            key,
            profile=profile,
            level=level,
            trust=trust if verifier is None else None,
            policy=policy if verifier is None else None,
            verifier=verifier,
            tsa_url=tsa_url,
            digest=None,
        )
        if expected_id is not None:
            _check_declarant(plan.identity, expected_id)

        # 4. the attachments
        att_verifier = attachment_verifier or verifier
        checked: list[CheckedAttachment] = []
        if attachments:
            if att_verifier is None:
                anchors = trust or TrustProfile.named("any")
                att_verifier = Verifier(anchors, policy or ValidationPolicy())
            for att in attachments:
                checked.append(await _check_attachment(att, att_verifier))

        # 5. that the paper form can be made (not printed yet: that takes seconds)
        meta = PdfMetadata(created=moment, place=place, signed_on=local_day)
        check_pdf_renderable(form, clean, autofill=autofill, metadata=meta, lang=lang)

        # 6. the code; from here on a failure leaves it void, with the reason
        code = await asyncio.to_thread(counter.reserve, agency, moment, procedure=form.procedure)
        try:
            bundle = await _make(
                form, clean, key, plan, code, agency, moment, meta, checked,
                autofill=autofill, lang=lang, visible=visible, field_name=field_name,
                field_lock=field_lock, slots=slots, place=place, out_dir=out_dir,
            )  # fmt: skip
        except BaseException as exc:
            try:
                counter.void(code, _reason(exc), at=moment)
            except SubmissionError as also:
                exc.add_note(f"dossier code {code} could not be recorded void: {also}")
            raise
        await asyncio.to_thread(counter.confirm, code, at=moment)
    return bundle


def _check_signing_arguments(
    lang: str,
    visible: VisibleStamp | Literal[False] | None,
    field_name: str,
    field_lock: FieldLock | None,
    slots: Sequence[SignatureSlot],
) -> None:
    if lang not in ("vi", "en"):
        raise SubmissionError(f"lang must be 'vi' or 'en', not {str(lang)[:20]!r}")
    if visible is not None and visible is not False and not isinstance(visible, VisibleStamp):
        raise SubmissionError("visible must be an esign.VisibleStamp, False or None")
    if not isinstance(field_name, str) or not field_name.strip():
        raise SubmissionError("field_name must be a non-empty signature field name")
    if (
        field_lock is not None
        and field_lock not in ("own", "all", "none")
        and (isinstance(field_lock, str) or not all(isinstance(n, str) for n in field_lock))
    ):
        raise SubmissionError(
            f"field_lock must be 'own', 'all', 'none' or a list of field names; got {field_lock!r}"
        )
    slot_names = [s.name for s in slots]
    if any(not isinstance(s, SignatureSlot) for s in slots):
        raise SubmissionError("slots must be esign.SignatureSlot objects")
    if len(set(slot_names)) != len(slot_names) or field_name in slot_names:
        raise SubmissionError("signature slots must have distinct names, none the signer's")


def _check_out_dir(out_dir: Path) -> None:
    """Could the bundle folder be made under ``out_dir``? (nothing is created here)"""
    existing = out_dir.absolute()
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise SubmissionError(f"{out_dir}: not a folder this process can write in")


async def _make(
    form: FormDefinition,
    clean: dict[str, Any],
    key: Signer,
    plan: _esign_core.Plan,
    code: str,
    agency: str,
    moment: datetime,
    meta: PdfMetadata,
    checked: Sequence[CheckedAttachment],
    *,
    autofill: AutofillResult | None,
    lang: str,
    visible: VisibleStamp | Literal[False] | None,
    field_name: str,
    field_lock: FieldLock | None,
    slots: Sequence[SignatureSlot],
    place: str,
    out_dir: str | os.PathLike[str] | None,
) -> Submission:
    """Render, sign and bundle under ``code``: the steps that come after the code."""
    dossier = {
        "dossier_code": code,
        "agency": agency,
        "procedure": form.procedure,
        "form": {"id": form.id, "version": form.version},
        "submitted_at": _iso(moment),
        "attachments": [c.to_json() for c in checked],
    }
    dossier_file = PdfAttachment(
        "ho-so.json", _json_bytes(dossier), f"Hồ sơ {code}: mã, cơ quan, tệp kèm theo", "Supplement"
    )
    pdf = await asyncio.to_thread(
        render_pdf,
        form,
        clean,
        autofill=autofill,
        attachments=[dossier_file],
        metadata=dataclasses.replace(meta, keywords=(*meta.keywords, code)),
        lang=lang,
        today=moment.astimezone(VN_TZ).date(),
    )

    stamp: VisibleStamp | None
    if visible is None:
        stamp = stamp_for(pdf, "declarant")
    elif visible is False:
        stamp = None
    else:
        stamp = visible
    signed = await asign_pdf(
        pdf,
        None,
        key,
        profile=plan.profile,
        level=plan.level,
        verifier=plan.verifier,  # the one that checked the certificate, with its cache
        tsa_url=plan.tsa_url,
        visible=stamp,
        field_name=field_name,
        field_lock=field_lock,
        reason=f"Nộp hồ sơ {code}",
        location=place or None,
        slots=slots,
    )
    if signed.data is None:  # pragma: no cover - esign returns the bytes when output is None
        raise SubmissionError("esign returned no signed bytes")

    pdf_name, data_name = f"{form.id}.pdf", f"{form.id}.json"
    data_json = _json_bytes(clean)
    parts = _parts(pdf_name, signed.data, data_name, data_json, checked)
    roles = {pdf_name: "signed-form", data_name: "form-data"}
    for c in checked:
        roles[f"attachments/{c.attachment.name}"] = "attachment"
        if c.attachment.signature_name is not None:
            roles[f"attachments/{c.attachment.signature_name}"] = "attachment-signature"
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        **dossier,
        "signature": {
            "field": signed.field_name,
            "level": f"PAdES-{signed.level}",
            "profile": signed.profile,
            "signed_at": _iso(signed.signing_time),
            "signer": signed.signer.to_dict(),
        },
        "parts": [_part_entry(rel, content, roles[rel]) for rel, content in parts.items()],
    }
    bundle = Submission(
        dossier_code=code,
        agency=agency,
        procedure=form.procedure,
        form_id=form.id,
        form_version=form.version,
        submitted_at=moment.astimezone(UTC),
        signer=signed.signer,
        signature=signed,
        pdf=signed.data,
        data=clean,
        attachments=tuple(checked),
        manifest=manifest,
    )
    if out_dir is not None:
        folder = await asyncio.to_thread(bundle.write, out_dir)
        bundle = dataclasses.replace(bundle, folder=folder)
    return bundle


def submit(
    form: FormDefinition,
    data: Mapping[str, Any],
    signer: Signer | KeySource,
    *,
    profile: SignatureProfile = PUBLIC,
    level: str = "B-LT",
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    tsa_url: str | None = None,
    agency: str = DEFAULT_AGENCY,
    codes: DossierCodes | None = None,
    attachments: Sequence[Attachment] = (),
    attachment_verifier: Verifier | None = None,
    autofill: AutofillResult | None = None,
    now: datetime | None = None,
    place: str = "",
    lang: str = "vi",
    visible: VisibleStamp | Literal[False] | None = None,
    field_name: str = DECLARANT_FIELD,
    field_lock: FieldLock | None = None,
    slots: Sequence[SignatureSlot] = (),
    out_dir: str | os.PathLike[str] | None = None,
    declarant_id: str | None = None,
) -> Submission:
    """Validate, check attachments, issue a dossier code, render, sign; return the bundle.

    ``signer`` is a pyHanko signer or an esign key source (:func:`esign.from_pkcs12`,
    :func:`esign.from_pkcs11`, :func:`esign.from_csc`...); ``profile``, ``level`` (default
    PAdES B-LT), ``trust``, ``policy`` or ``verifier``, and ``tsa_url`` mean what they mean
    in :func:`esign.sign_pdf`. ``now`` (aware; default: the current time) is the submission
    time: the dossier code's date (Asia/Ho_Chi_Minh), the date printed above the signature,
    the PDF's creation time and, unless ``policy`` fixes one, the time certificates and
    attachments are validated at. The signature's own signing time is the signer's clock,
    proven by the TSA.

    ``codes`` issues the code (default: :meth:`DossierCodes.in_state_dir`); ``agency`` goes
    into it. ``attachments`` are verified with ``attachment_verifier`` (default: ``verifier``,
    else one on ``trust`` or every bundled anchor): any signed attachment that does not
    reach TOTAL_PASSED raises :class:`AttachmentRefused`. ``autofill`` is what prefilled
    the data: a changed locked value is a validation error, and the PDF marks the sources.

    The declarant's visible stamp goes under "(Ký, ghi rõ họ tên)" (:func:`stamp_for`);
    ``visible=False`` signs invisibly. ``field_name``, ``field_lock`` and ``slots`` (empty
    fields for later signers) are passed to esign. With ``out_dir`` the bundle is written
    to ``out_dir/<code>/`` atomically.

    ``declarant_id`` (a JSON Pointer into the data, e.g. ``"/applicant/idNumber"``) makes
    sure the citizen signs their own declaration: the signer's certificate must carry that
    personal ID (CCCD, CMND, passport), or :class:`SignerMismatch` is raised. With a
    key source (token, remote key) the source is opened first, so this too is checked
    before a code is taken.

    Everything that can be checked is checked before a dossier code is taken (with
    :meth:`DossierCodes.reserve`); a failure after that (rendering, the TSA, the key,
    writing the folder) records the code void with the reason (:meth:`DossierCodes.void`)
    and raises the original error.

    Raises :class:`~eforms.errors.FormValidationError` (every field error, best first),
    :class:`AttachmentRefused`, :class:`SubmissionError`, or esign's errors from signing.
    """
    return asyncio.run(
        asubmit(
            form,
            data,
            signer,
            profile=profile,
            level=level,
            trust=trust,
            policy=policy,
            verifier=verifier,
            tsa_url=tsa_url,
            agency=agency,
            codes=codes,
            attachments=attachments,
            attachment_verifier=attachment_verifier,
            autofill=autofill,
            now=now,
            place=place,
            lang=lang,
            visible=visible,
            field_name=field_name,
            field_lock=field_lock,
            slots=slots,
            out_dir=out_dir,
            declarant_id=declarant_id,
        )
    )
