"""The ``verify`` command line (also ``python -m verify``).

::

    verify [--trust PEM_OR_DIR]... [--profile public|specialized|any]
           [--trust-store DIR | --no-trust-store] [--policy FILE]
           [--revocation hard|soft|off] [--offline] [--at ISO_TIME]
           [--max-size SIZE] [--strict] [--json] [--report FILE.html|FILE.pdf]
           [--detached FILE.p7s] [--workers N | --dask ADDRESS] [--jsonl FILE] [--csv FILE]
           [--resume FILE] [--cache DIR | --no-cache] [--evidence DIR] [--evidence-in DIR]
           [-v] PATH...

Every file gets a line. A file in no signed format (text, JSON, images, certificates, HTML
that is not XML-signed...) is NOT_SIGNED and one that cannot be read is INDETERMINATE /
FILE_UNREADABLE, both decided here (:func:`verify.special.screen`); a hoso dossier's
``manifest.json`` is checked against its folder (:mod:`verify.dossier`); the signed
documents are checked by :func:`verify.bulk.verify_many` (the library's bulk path, in this
process or a pool of worker processes). Scripts depend on this contract; it is documented
in ``docs/cli.md``. Exit status: 0 every signed document TOTAL_PASSED; 1 at least one
TOTAL_FAILED; 2 none failed but at least one did not pass (or there was no signed document,
or with --strict a file was NOT_SIGNED); 64 bad usage; 73 the report file could not be
written; 130 interrupted. A bad file never stops the run and never prints a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import os
import sys
import time as _time
import unicodedata
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import IO, Any, NoReturn

from verify import logs, speedups
from verify.bulk import BulkItem, verify_many
from verify.cache import RevocationCache, default_cache_dir
from verify.discover import Item, discover
from verify.dossier import Dossier, check_dossier, extra_files, read_manifest
from verify.errors import PolicyFileError, VerifyError
from verify.policy import RevocationMode, ValidationPolicy, load_policy
from verify.report import VN_TZ, DocumentReport, Indication, SubIndication, vn_time
from verify.special import crash_report, file_facts, one_line, screen, special_file_report
from verify.trust import TrustProfile, trust_data_age_warning
from verify.truststore import StoreInputError, TrustStore, default_store_dir
from verify.verifier import Verifier

__all__ = [
    "EXIT_CANTCREAT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_PASSED",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_PASSED = 2
EXIT_USAGE = 64  # sysexits.h EX_USAGE
EXIT_CANTCREAT = 73  # sysexits.h EX_CANTCREAT: the report file could not be written
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

DOCUMENTS_PER_WORKER = 32
"""A worker process is started for at most every this many documents (small runs stay in
this process: starting a worker costs more than checking a few documents)."""

CSV_COLUMNS = (
    "path",
    "detached_signature",
    "sha256",
    "size",
    "format",
    "indication",
    "sub_indication",
    "signers",
    "levels",
    "signing_time",
    "message_vi",
    "message_en",
)

# Loggers of the libraries we build on: they log validation problems as warnings with
# tracebacks. Our report already says what went wrong, in a sentence.
_NOISY_LOGGERS = (
    "pyhanko",
    "pyhanko_certvalidator",
    "weasyprint",
    "fontTools",
    "urllib3",
    "requests",
)

_INDICATION_VI = {
    Indication.TOTAL_PASSED: "Hợp lệ",
    Indication.TOTAL_FAILED: "Không hợp lệ",
    Indication.INDETERMINATE: "Chưa xác định được",
    Indication.NOT_SIGNED: "Không phải tài liệu ký số",
}

EARLIEST_TIME = datetime(1950, 1, 1, tzinfo=UTC)
"""--at may not be earlier: X.509 times start in 1950 (UTCTime)."""
LATEST_TIME = datetime(9999, 1, 1, tzinfo=UTC)
"""--at must be earlier, a year short of the calendar's end, so that no time arithmetic of
the validation (freshness windows, grace periods) overflows."""
FUTURE_SLACK_SECONDS = 300
"""A --at later than the clock by more than this is "in the future" (a warning)."""

_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


class UsageError(Exception):
    """Bad command-line usage: one line on stderr, exit 64."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="verify",
        description=(
            "Verify PDF signatures (PAdES, PKCS#7), XML signatures (XMLDSig: e-invoices, "
            "tax and e-government XML), enveloping CMS (.p7m) and detached CMS signatures "
            "(.p7s, .sig) with ETSI-style verdicts (TOTAL_PASSED, TOTAL_FAILED, "
            "INDETERMINATE) and a sentence in Vietnamese for each document. In a folder "
            "every file gets a line: a file in no signed format is NOT_SIGNED, and a hoso "
            "dossier (manifest.json from 'eforms submit') is checked against its manifest."
        ),
        epilog=(
            "Exit status: 0 all signed documents TOTAL_PASSED; 1 at least one TOTAL_FAILED; "
            "2 none failed but at least one did not pass (or no signed document; with "
            "--strict, also a NOT_SIGNED file); 64 bad usage; 73 report not written."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files or folders (walked recursively); X.p7s / X.sig beside X sign X",
    )
    parser.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PEM_OR_DIR",
        help="extra trust anchors: a certificate file (PEM/DER/PKCS#7) or a folder of them; "
        "repeatable",
    )
    parser.add_argument(
        "--profile",
        choices=("public", "specialized", "any"),
        default="any",
        help="bundled trust profile (default: any = public and specialized)",
    )
    parser.add_argument(
        "--trust-store",
        metavar="DIR",
        default=None,
        help="the local trust store added to the profile (default: $HOSO_TRUST_STORE, else "
        "the user data folder; see 'verify trust')",
    )
    parser.add_argument(
        "--no-trust-store",
        action="store_true",
        help="use the bundled trust data (and --trust) only, not the local trust store",
    )
    parser.add_argument(
        "--revocation",
        choices=[m.value for m in RevocationMode],
        default=None,
        help="hard: no revocation info is INDETERMINATE (default); soft: accept with a "
        "warning; off: do not check",
    )
    parser.add_argument(
        "--policy",
        metavar="FILE",
        help="a validation policy file (TOML, or JSON when it ends in .json): constraint "
        "levels, algorithm dates, limits (docs/policy.md); --revocation, --offline and --at "
        "override it",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="do not fetch OCSP responses, CRLs or certificates (embedded data only)",
    )
    parser.add_argument(
        "--at",
        metavar="ISO_TIME",
        help="validation time, ISO 8601 (a date alone is 00:00 and a time without offset "
        "is local time in Asia/Ho_Chi_Minh); default: now",
    )
    parser.add_argument(
        "--max-size",
        type=parse_size,
        default=None,
        metavar="SIZE",
        help="largest file to read, in bytes, or with a K, M or G suffix (powers of 1024): "
        "e.g. 200M for big signed scans; default 64M, or the policy's max_file_size",
    )
    parser.add_argument(
        "--due-before",
        metavar="DATE",
        help="also tell each signature's renewal date (the last timestamp's TSA certificate "
        "expiring or revoked, the dated algorithm rules) and list the documents whose proof "
        "must be renewed before DATE (ISO 8601, as --at); the exit status is unaffected",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="count a file that is not a signed document (NOT_SIGNED) as not passed "
        "(exit status 2 when nothing failed)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per document per line on stdout (docs/report-schema.json)",
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="write the auditor's report for all documents to FILE.html or FILE.pdf",
    )
    parser.add_argument(
        "--detached",
        metavar="FILE.p7s",
        help="detached CMS signature of the single PATH given",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"worker processes (default: the number of CPUs, {os.cpu_count() or 1}; at most "
        f"one per {DOCUMENTS_PER_WORKER} documents)",
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="verify on a Dask cluster: the scheduler's address (tcp://host:8786); the "
        "documents must be on a filesystem the workers see at the same paths",
    )
    parser.add_argument(
        "--jsonl",
        metavar="FILE",
        help="also write one JSON report per line to FILE, each as soon as it is known",
    )
    parser.add_argument(
        "--csv",
        metavar="FILE",
        help="also write one CSV row per document to FILE, each as soon as it is known",
    )
    parser.add_argument(
        "--resume",
        metavar="FILE",
        help="skip documents that already have a verdict in FILE (a --jsonl file of an "
        "earlier, interrupted run); with --jsonl FILE the new verdicts are appended",
    )
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        metavar="DIR",
        help=f"keep fetched OCSP responses, CRLs and certificates in DIR (default: "
        f"{default_cache_dir()})",
    )
    cache.add_argument(
        "--no-cache",
        action="store_true",
        help="keep nothing between runs (fetched answers live in memory for this run only)",
    )
    parser.add_argument(
        "--evidence",
        metavar="DIR",
        help="keep what each verdict rested on in DIR/<sha256>/: certificates, OCSP "
        "responses, CRLs and the JSON report",
    )
    parser.add_argument(
        "--evidence-in",
        metavar="DIR",
        help="use the evidence kept by --evidence DIR (with --offline: replay without the network)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="let the underlying libraries log their warnings on stderr",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def positive_int(text: str) -> int:
    """A whole number of at least 1 (``--workers``); ``ArgumentTypeError`` otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def parse_size(text: str) -> int:
    """``--max-size``: bytes, or a whole number with K, M or G (powers of 1024)."""
    value = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = value[-1:] if value[-1:] in ("K", "M", "G") else ""
    digits = value[: len(value) - len(unit)]
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size (bytes, or a whole number with K, M or G: 200M)"
        )
    size = int(digits) * _SIZE_UNITS[unit]
    if size < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1 byte")
    return size


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("hoso")
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "unknown"


# -- arguments ----------------------------------------------------------------------------


def parse_time(text: str) -> datetime:
    """Parse ``--at``: ISO 8601; a date alone or a naive time is in Asia/Ho_Chi_Minh.

    The time must lie in [:data:`EARLIEST_TIME`, :data:`LATEST_TIME`): anything else, even
    a date the calendar cannot convert to UTC (``0001-01-01`` in Vietnam time), is a usage
    error, never a traceback."""
    value = text.strip()
    try:
        if len(value) == 10 and value.count("-") == 2:
            moment = datetime.combine(date.fromisoformat(value), time(0, 0), tzinfo=VN_TZ)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--at: {text!r} is not an ISO 8601 date or time "
            "(e.g. 2026-06-01, 2026-06-01T17:00:00, 2026-06-01T10:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    try:
        result = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        result = None
    if result is None or not EARLIEST_TIME <= result < LATEST_TIME:
        raise UsageError(
            f"--at: {text!r} is out of range: the validation time must be from "
            f"{EARLIEST_TIME:%Y-%m-%d} to {LATEST_TIME.year - 1}-12-31 (UTC)"
        )
    return result


def local_trust_store(args: argparse.Namespace) -> TrustStore | None:
    """The local trust store (``--trust-store``, else the default one), or ``None`` with
    ``--no-trust-store``."""
    if getattr(args, "no_trust_store", False):
        return None
    return TrustStore(getattr(args, "trust_store", None) or default_store_dir())


def trust_profile(args: argparse.Namespace) -> TrustProfile:
    """The bundled profile (``--profile``) with the local trust store's certificates (of
    that hierarchy) and the ``--trust`` anchors added; a missing or unreadable file, or a
    damaged store, is a usage error."""
    profile = TrustProfile.named(args.profile)
    store = local_trust_store(args)
    if store is not None:
        try:
            profile = store.extend(
                profile,
                hierarchy=args.profile if args.profile in ("public", "specialized") else None,
            )
        except StoreInputError as exc:
            raise UsageError(f"{exc.message_en} / {exc.message_vi}") from None
    if not args.trust:
        return profile
    hierarchy = args.profile if args.profile in ("public", "specialized") else None
    for item in args.trust:
        if not os.path.exists(item):
            raise UsageError(f"--trust: {item}: no such file or folder")
        try:
            profile = profile.with_extra_anchors(item, hierarchy=hierarchy)
        except (VerifyError, OSError, ValueError) as exc:
            raise UsageError(f"--trust: {item}: {_one_line(exc)}") from None
    return profile


def _local_store_setting(store: TrustStore | None) -> list[tuple[str, str]]:
    """The report's row naming the local trust store used: its certificates, last change."""
    if store is None:
        return []
    entries = store.entries()
    if not entries:
        return []
    changed = store.last_change()
    day = f"{changed:%Y-%m-%d}" if changed else "?"
    return [
        (
            "Kho tin cậy cục bộ / Local trust store",
            f"{store.path}: {len(entries)} chứng thư, thay đổi lần cuối {day} / "
            f"{len(entries)} certificate{'' if len(entries) == 1 else 's'}, last changed {day}",
        )
    ]


def _check_report_target(report: str | None) -> None:
    if report is None:
        return
    suffix = Path(report).suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise UsageError(f"--report: {report!r} must end in .html or .pdf")
    parent = Path(report).parent
    if not parent.is_dir():
        raise UsageError(f"--report: folder {str(parent)!r} does not exist")


def _one_line(exc: BaseException) -> str:
    return one_line(exc)


def _check_output_target(option: str, target: str | None) -> None:
    if target is None:
        return
    parent = Path(target).parent
    if not parent.is_dir():
        raise UsageError(f"{option}: folder {str(parent)!r} does not exist")
    if Path(target).is_dir():
        raise UsageError(f"{option}: {target!r} is a folder")


def _check_folder(option: str, folder: str | None, *, create: bool) -> None:
    if folder is None:
        return
    path = Path(folder)
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{option}: cannot create {folder!r}: {_one_line(exc)}") from None
    if not path.is_dir():
        raise UsageError(f"{option}: {folder!r} is not a folder")


# -- output -------------------------------------------------------------------------------


def clean(text: object) -> str:
    """Text from a document, made safe for a terminal: NFC, no control characters."""
    value = unicodedata.normalize("NFC", str(text))
    return "".join(
        ch
        if ch.isprintable()
        else (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        for ch in value
    )


def signer_names(report: DocumentReport) -> str:
    """The signers' names; for a hoso dossier, the declarant the manifest names."""
    names = []
    for sig in report.signatures:
        name = (sig.signer or {}).get("name")
        if name and name not in names:
            names.append(str(name))
    if not names and report.format == "dossier" and report.facts:
        declarant = report.facts.get("declarant")
        if isinstance(declarant, str) and declarant:
            names.append(declarant)
    return "; ".join(names)


def levels(report: DocumentReport) -> str:
    found = []
    for sig in report.signatures:
        if sig.level and sig.level not in found:
            found.append(sig.level)
    return "; ".join(found)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _clip(text: str, width: int) -> str:
    if _width(text) <= width:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


def format_table(reports: Sequence[DocumentReport]) -> list[str]:
    """The readable table: one row per document, the Vietnamese sentence last."""
    headers = ("FILE", "INDICATION", "SUB-INDICATION", "SIGNER", "LEVEL", "KẾT LUẬN")
    rows = []
    for r in reports:
        path = clean(r.path or "<bytes>")
        if r.detached_signature:
            path += f" (+ {clean(Path(r.detached_signature).name)})"
        rows.append(
            (
                path,
                r.indication.value,
                r.sub_indication.value if r.sub_indication else "-",
                _clip(clean(signer_names(r)) or "-", 40),
                levels(r) or "-",
                clean(r.message_vi),
            )
        )
    widths = [
        max([_width(headers[i])] + [_width(row[i]) for row in rows])
        for i in range(len(headers) - 1)
    ]
    lines = []
    for row in (headers, *rows):
        cells = [_pad(_clip(row[i], widths[i]), widths[i]) for i in range(len(widths))]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


def summary_line(reports: Sequence[DocumentReport]) -> str:
    return _summary([r.indication for r in reports])


def _shown(counts: Counter[Indication]) -> list[Indication]:
    """The indications a summary counts: the three verdicts always, NOT_SIGNED when any."""
    return [i for i in Indication if i is not Indication.NOT_SIGNED or counts[i]]


def _summary(indications: Sequence[Indication]) -> str:
    counts = Counter(indications)
    n = len(indications)
    shown = _shown(counts)
    vi = ", ".join(f"{_INDICATION_VI[i].lower()}: {counts[i]}" for i in shown)
    en = ", ".join(f"{counts[i]} {i.value}" for i in shown)
    return f"Tổng cộng {n} tài liệu — {vi} ({n} document{'' if n == 1 else 's'}: {en})"


def exit_status(reports: Sequence[DocumentReport], *, strict: bool = False) -> int:
    return _exit([r.indication for r in reports], strict=strict)


def _exit(indications: Sequence[Indication], *, strict: bool = False) -> int:
    """1 if any failed; 0 if every verdict passed (NOT_SIGNED files aside, unless
    ``strict``) and there was at least one; else 2."""
    if any(i is Indication.TOTAL_FAILED for i in indications):
        return EXIT_FAILED
    verdicts = [i for i in indications if i is not Indication.NOT_SIGNED]
    if strict and len(verdicts) != len(indications):
        return EXIT_NOT_PASSED
    if verdicts and all(i is Indication.TOTAL_PASSED for i in verdicts):
        return EXIT_OK
    return EXIT_NOT_PASSED


def _describe_time(moment: datetime) -> str:
    return f"{moment.isoformat().replace('+00:00', 'Z')} = {vn_time(moment)}"


@contextlib.contextmanager
def _quiet_libraries(verbose: bool) -> Iterator[None]:
    """Silence third-party loggers for the run (and put them back afterwards). With
    ``verbose``, they log their warnings (tracebacks of expected failures too, see
    :mod:`verify.logs`) and hoso's own loggers log everything, on stderr."""
    if verbose:
        with _verbose_logging():
            yield
        return
    saved = []
    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate, list(logger.handlers)))
        logger.handlers = [logging.NullHandler()]
        logger.setLevel(logging.CRITICAL + 1)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, level, propagate, handlers in saved:
            logger.handlers = handlers
            logger.setLevel(level)
            logger.propagate = propagate


@contextlib.contextmanager
def _verbose_logging() -> Iterator[None]:
    saved = []
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(levelname)s: %(message)s"))
    for name in ("hoso", *_NOISY_LOGGERS):
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate, list(logger.handlers)))
        logger.handlers = [handler]
        logger.setLevel(logging.DEBUG if name == "hoso" else logging.WARNING)
        logger.propagate = False
    logs.uninstall()
    try:
        yield
    finally:
        logs.install()
        for logger, level, propagate, handlers in saved:
            logger.handlers = handlers
            logger.setLevel(level)
            logger.propagate = propagate


def _print(stream: IO[str], text: str) -> None:
    try:
        stream.write(text + "\n")
    except UnicodeEncodeError:
        stream.write(text.encode("ascii", "backslashreplace").decode("ascii") + "\n")
    stream.flush()


def _stdout_is_utf8() -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or ""
    return encoding.lower().replace("-", "") in ("utf8", "utf8sig")


# -- resuming ------------------------------------------------------------------------------

_Key = tuple[str, str, str]


def _report_keys(data: dict[str, Any]) -> list[_Key]:
    """The keys by which a recorded verdict is recognised: content hash, else the path."""
    detached = data.get("detached_signature")
    name = Path(detached).name if isinstance(detached, str) else ""
    sha = data.get("sha256")
    if isinstance(sha, str) and sha:
        return [("sha256", sha, name)]
    path = data.get("path")
    return [("path", path, name)] if isinstance(path, str) else []


def _item_keys(item: Item, max_size: int) -> list[_Key]:
    name = item.detached.name if item.detached is not None else ""
    keys: list[_Key] = [("path", os.fspath(item.path), name)]
    try:
        small = item.path.is_file() and item.path.stat().st_size <= max_size
    except OSError:
        small = False
    if small:
        _size, sha = file_facts(item.path)
        if sha is not None:
            keys.append(("sha256", sha, name))
    return keys


def _read_resume(path: str) -> dict[_Key, Indication]:
    """Verdicts recorded in a JSON-lines file; a damaged or partial line is ignored."""
    done: dict[_Key, Indication] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    data = json.loads(line)
                    indication = Indication(data["indication"])
                except (ValueError, KeyError, TypeError):
                    continue
                if isinstance(data, dict):
                    for key in _report_keys(data):
                        done[key] = indication
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"--resume: {path}: {_one_line(exc)}") from None
    return done


def _drop_partial_line(path: str) -> None:
    """An interrupted writer may have left half a line: cut it before appending."""
    try:
        with open(path, "rb+") as f:
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)
    except FileNotFoundError:
        return


# -- streaming outputs ----------------------------------------------------------------------


class _Outputs:
    """--jsonl and --csv files, written line by line as verdicts arrive."""

    def __init__(self, jsonl: str | None, csv_path: str | None, *, append: bool) -> None:
        self._files: list[IO[str]] = []
        self.jsonl: IO[str] | None = None
        self.csv: Any = None
        self._csv_file: IO[str] | None = None
        try:
            if jsonl is not None:
                if append:
                    _drop_partial_line(jsonl)
                self.jsonl = open(jsonl, "a" if append else "w", encoding="utf-8")  # noqa: SIM115
                self._files.append(self.jsonl)
            if csv_path is not None:
                new = not append or not os.path.exists(csv_path) or not os.path.getsize(csv_path)
                # a new file starts with a UTF-8 BOM (Excel then reads it as UTF-8);
                # rows appended to an earlier run's file get none
                self._csv_file = open(  # noqa: SIM115 - closed in close()
                    csv_path,
                    "a" if append else "w",
                    encoding="utf-8-sig" if new else "utf-8",
                    newline="",
                )
                self._files.append(self._csv_file)
                self.csv = csv.writer(self._csv_file)
                if new:
                    self.csv.writerow(CSV_COLUMNS)
                    self._csv_file.flush()
        except OSError as exc:
            self.close()
            raise UsageError(f"cannot write {exc.filename}: {exc.strerror}") from None

    def write(self, report: DocumentReport) -> None:
        if self.jsonl is not None:
            self.jsonl.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
            self.jsonl.flush()
        if self.csv is not None:
            assert self._csv_file is not None
            self.csv.writerow(_csv_row(report))
            self._csv_file.flush()

    def close(self) -> None:
        for f in self._files:
            with contextlib.suppress(OSError):
                f.close()
        self._files = []


def csv_time(moment: datetime) -> str:
    """A time in the CSV: ISO 8601 in Asia/Ho_Chi_Minh with its offset (+07:00), the zone
    the Vietnamese sentences and reports use."""
    return moment.astimezone(VN_TZ).isoformat()


def _csv_row(report: DocumentReport) -> list[str]:
    times = []
    for sig in report.signatures:
        when = sig.signing_time_proven or sig.signing_time_claimed
        if when is not None:
            times.append(csv_time(when))
    return [
        report.path or "",
        report.detached_signature or "",
        report.sha256 or "",
        str(report.size),
        report.format,
        report.indication.value,
        report.sub_indication.value if report.sub_indication else "",
        signer_names(report),
        levels(report),
        "; ".join(times),
        report.message_vi,
        report.message_en,
    ]


class _InOrder:
    """Give reports back in the order of the documents, as soon as the next one is known."""

    def __init__(self, items: Sequence[Item]) -> None:
        self._slots: dict[tuple[str, str | None], deque[int]] = {}
        for index, item in enumerate(items):
            key = (os.fspath(item.path), os.fspath(item.detached) if item.detached else None)
            self._slots.setdefault(key, deque()).append(index)
        self._ready: dict[int, DocumentReport] = {}
        self._next = 0
        self._extra = len(items)

    def add(self, report: DocumentReport) -> list[DocumentReport]:
        slots = self._slots.get((report.path or "", report.detached_signature))
        if slots:
            index = slots.popleft()
        else:  # not expected: keep it, after the others
            index = self._extra
            self._extra += 1
        self._ready[index] = report
        out = []
        while self._next in self._ready:
            out.append(self._ready.pop(self._next))
            self._next += 1
        return out

    def rest(self) -> list[DocumentReport]:
        return [self._ready.pop(i) for i in sorted(self._ready)]


class _Progress:
    """A progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int) -> None:
        self._bar: Any = None
        self.failed = 0
        isatty = getattr(sys.stderr, "isatty", None)
        if total and isatty is not None and isatty():
            from tqdm import tqdm

            # No monitor thread: the bar is refreshed as reports arrive, and a process
            # with no other thread can fork its workers warm (see verify.bulk).
            tqdm.monitor_interval = 0
            self._bar = tqdm(
                total=total,
                unit="doc",
                file=sys.stderr,
                dynamic_ncols=True,
                leave=True,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, "
                "{rate_fmt}] {postfix}",
            )
            self._bar.set_postfix_str("failed: 0", refresh=False)

    def update(self, report: DocumentReport) -> None:
        if report.indication is Indication.TOTAL_FAILED:
            self.failed += 1
        if self._bar is not None:
            if report.indication is Indication.TOTAL_FAILED:
                self._bar.set_postfix_str(f"failed: {self.failed}", refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def stats_line(verdicts: Iterable[tuple[Indication, SubIndication | None]], seconds: float) -> str:
    """Counts per indication and sub-indication, the time taken and documents per second."""
    by_indication: Counter[Indication] = Counter()
    by_sub: dict[Indication, Counter[str]] = {i: Counter() for i in Indication}
    for indication, sub in verdicts:
        by_indication[indication] += 1
        if sub is not None:
            by_sub[indication][sub.value] += 1
    n = sum(by_indication.values())
    parts = []
    for ind in _shown(by_indication):
        text = f"{ind.value} {by_indication[ind]}"
        subs = sorted(by_sub[ind].items())
        if subs:
            text += " (" + ", ".join(f"{k} {v}" for k, v in subs) + ")"
        parts.append(text)
    rate = n / seconds if seconds > 0 else 0.0
    return (
        f"verify: {n} document{'' if n == 1 else 's'} in {seconds:.2f} s "
        f"({rate:.1f} documents/s): {'; '.join(parts)}"
    )


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run ``verify``; return the exit status (see the module docs)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "serve":  # ``verify serve``: the HTTP service (docs/service.md)
        from verify import service

        return service.main(argv[1:])
    if argv and argv[0] == "trust":  # ``verify trust``: the trust data (docs/cli.md)
        from verify import trust_cli

        return trust_cli.main(argv[1:])
    speedups.install()  # a command-line run is bulk work: the proven speed-ups
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        moment = parse_time(args.at) if args.at else None
        args.due = parse_time(args.due_before) if args.due_before else None
        _check_report_target(args.report)
        if args.detached is not None:
            if len(args.paths) != 1 or Path(args.paths[0]).is_dir():
                raise UsageError("--detached needs exactly one PATH: the signed file")
            if not Path(args.detached).exists():
                raise UsageError(f"--detached: {args.detached}: no such file")
        if args.dask is not None and args.workers is not None:
            raise UsageError("--workers and --dask cannot be used together")
        _check_output_target("--jsonl", args.jsonl)
        _check_output_target("--csv", args.csv)
        _check_folder("--evidence", args.evidence, create=True)
        _check_folder("--evidence-in", args.evidence_in, create=False)
        if args.resume is not None and Path(args.resume).is_dir():
            raise UsageError(f"--resume: {args.resume!r} is a folder")
        args.base_policy = base_policy(args.policy)
        with _quiet_libraries(args.verbose):
            trust = trust_profile(args)
        stale = trust_data_age_warning(moment or datetime.now(UTC))
        if stale is not None:
            _print(sys.stderr, f"verify: warning: {stale[1]} / Cảnh báo: {stale[0]}")
    except UsageError as exc:
        _print(sys.stderr, f"verify: error: {_one_line(exc)} (see verify --help)")
        return EXIT_USAGE
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE

    with _quiet_libraries(args.verbose):
        try:
            return _run(args, trust, moment)
        except UsageError as exc:
            _print(sys.stderr, f"verify: error: {_one_line(exc)}")
            return EXIT_USAGE


def base_policy(path: str | None) -> ValidationPolicy:
    """The policy file's policy, or the default one; a bad file is a usage error."""
    if path is None:
        return ValidationPolicy()
    try:
        return load_policy(path)
    except PolicyFileError as exc:
        raise UsageError(f"--policy: {exc}") from None


def _cache(args: argparse.Namespace) -> RevocationCache:
    if args.no_cache:
        return RevocationCache()
    folder = Path(args.cache) if args.cache else default_cache_dir()
    try:
        return RevocationCache.in_directory(folder)
    except Exception as exc:  # noqa: BLE001 - an unusable cache folder only costs speed
        _print(
            sys.stderr,
            f"verify: warning: cache {folder} not usable ({_one_line(exc)}); "
            "keeping fetched answers in memory for this run",
        )
        return RevocationCache()


def _executor(address: str) -> tuple[Any, Any]:
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            "--dask needs the 'distributed' package (pip install hoso[dask])"
        ) from None
    try:
        client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except Exception as exc:  # noqa: BLE001 - any connection failure is one line
        raise UsageError(
            f"--dask: cannot reach the scheduler at {address}: {_one_line(exc)}"
        ) from None
    return client, client.get_executor()  # type: ignore[no-untyped-call]


def _run(args: argparse.Namespace, trust: TrustProfile, moment: datetime | None) -> int:
    policy: ValidationPolicy = args.base_policy
    if args.revocation is not None:
        policy = policy.replace(revocation=RevocationMode(args.revocation))
    if args.offline:
        policy = policy.replace(network=False)
    if moment is not None:
        policy = policy.replace(validation_time=moment)
    if args.max_size is not None:
        policy = policy.replace(max_file_size=args.max_size)
    if args.due is not None:
        policy = policy.replace(renewal_dates=True)
    cache = _cache(args)
    verifier = Verifier(trust, policy, evidence_in=args.evidence_in, cache=cache)
    now = datetime.now(UTC)
    shown_moment = moment or now
    if args.detached is not None:
        items = [Item(Path(args.paths[0]), detached=Path(args.detached))]
    else:
        items = discover(args.paths)

    when = _describe_time(shown_moment) if moment else f"now ({_describe_time(shown_moment)})"
    header = (
        f"Thời điểm kiểm tra / validation time: {when}; profile: {trust.name}; "
        f"revocation: {policy.revocation.value}{'; offline' if not policy.network else ''}"
    )
    settings = [
        ("Thời điểm kiểm tra / Validation time", when),
        ("Bộ chứng thư tin cậy / Trust profile", f"{trust.name} ({len(trust.anchors)} anchors)"),
        *_local_store_setting(local_trust_store(args)),
        ("Kiểm tra thu hồi / Revocation", policy.revocation.value),
        ("Mạng / Network", "offline" if not policy.network else "online (OCSP/CRL)"),
    ]
    if args.evidence_in:
        settings.append(("Bằng chứng / Evidence used", str(args.evidence_in)))
    if args.max_size is not None:
        settings.append(("Giới hạn kích thước tệp / File size limit", f"{args.max_size} bytes"))
    settings.append(("Chính sách kiểm tra / Validation policy", args.policy or ""))
    if args.due is not None:
        settings.append(("Gia hạn trước / Renew before", _describe_time(args.due)))
    if moment is not None and (moment - now).total_seconds() > FUTURE_SLACK_SECONDS:
        future_vi, future_en = _future_warning(moment, now)
        _print(sys.stderr, f"verify: warning: {future_en} / Cảnh báo: {future_vi}")
        settings.append(("Cảnh báo / Warning", f"{future_vi} / {future_en}"))
    ascii_json = not _stdout_is_utf8()

    if args.json:
        _print(sys.stderr, header)
    else:
        _print(sys.stdout, header)

    # --resume: what an earlier run already decided is not checked again
    previous: list[Indication] = []
    if args.resume is not None:
        done = _read_resume(args.resume)
        todo = []
        for item in items:
            keys = _item_keys(item, policy.max_file_size)
            found = next((done[k] for k in keys if k in done), None)
            if found is None:
                todo.append(item)
            else:
                previous.append(found)
        if previous:
            _print(
                sys.stderr,
                f"verify: {len(previous)} document(s) already have a verdict in "
                f"{args.resume}: skipped",
            )
        items = todo
    if not items and not previous:
        _print(sys.stderr, "verify: nothing to verify (no files found)")
    screening = _Screening(items, policy)

    append = (
        args.resume is not None and args.jsonl is not None and _same_file(args.resume, args.jsonl)
    )
    outputs = _Outputs(args.jsonl, args.csv, append=append)
    keep = not args.json or args.report is not None or args.due is not None
    reports: list[DocumentReport] = []
    seen: list[tuple[Indication, SubIndication | None]] = []
    early_time: list[str] = []
    order = _InOrder(items)
    progress = _Progress(len(items))
    client = None
    started = _time.perf_counter()
    interrupted = False
    stream: Iterator[DocumentReport] | None = None
    memory = memory_limit(policy.max_file_size)
    try:
        if args.dask is not None:
            client, executor = _executor(args.dask)
            stream = verify_many(
                screening.feed(items),
                verifier=verifier,
                executor=executor,
                evidence_out=args.evidence,
                memory_limit=memory,
            )
        else:
            wanted = args.workers or os.cpu_count() or 1
            workers = max(1, min(wanted, len(items) // DOCUMENTS_PER_WORKER))
            stream = verify_many(
                screening.feed(items),
                verifier=verifier,
                workers=workers,
                evidence_out=args.evidence,
                memory_limit=memory,
            )
        for report in screening.merged(stream):
            report = time_warnings(screening.annotate(report))
            if any(w.startswith(_EARLY_TIME_WARNING) for w in report.warnings):
                early_time.append(clean(report.path or "<bytes>"))
            outputs.write(report)
            progress.update(report)
            seen.append((report.indication, report.sub_indication))
            for ready in order.add(report):
                if keep:
                    reports.append(ready)
                if args.json:
                    _print(sys.stdout, json.dumps(ready.to_dict(), ensure_ascii=ascii_json))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()  # type: ignore[attr-defined]
        progress.close()
        outputs.close()
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
    elapsed = _time.perf_counter() - started
    for ready in order.rest():
        if keep:
            reports.append(ready)
        if args.json:
            _print(sys.stdout, json.dumps(ready.to_dict(), ensure_ascii=ascii_json))

    if interrupted:
        hint = f"; continue with --resume {args.jsonl}" if args.jsonl else ""
        _print(
            sys.stderr,
            f"verify: interrupted after {len(seen)} of {len(items)} documents{hint}",
        )
        return EXIT_INTERRUPTED

    if not args.json:
        for line in format_table(reports):
            _print(sys.stdout, line)
        _print(sys.stdout, summary_line(reports))
    else:
        _print(sys.stderr, _summary([i for i, _s in seen]))
    _print(sys.stderr, stats_line(seen, elapsed))
    if early_time:
        names = ", ".join(early_time[:5]) + (", ..." if len(early_time) > 5 else "")
        _print(
            sys.stderr,
            f"verify: warning: for {len(early_time)} document(s) the validation time is before "
            f"a signature's claimed signing time: {names} / Cảnh báo: thời điểm kiểm tra sớm "
            "hơn thời điểm ký mà chữ ký khai báo",
        )
    if args.due is not None:
        _print_due(reports, args.due, sys.stderr if args.json else sys.stdout)
    if seen and all(i is Indication.NOT_SIGNED for i, _s in seen) and not previous:
        _print(sys.stderr, "verify: no signed document among the files given")
    if args.evidence:
        _print(sys.stderr, f"verify: evidence kept in {args.evidence}")

    if args.report:
        try:
            _write_report(args.report, reports, settings)
        except Exception as exc:  # noqa: BLE001 - say it on one line, keep the verdicts
            _print(sys.stderr, f"verify: error: cannot write {args.report}: {_one_line(exc)}")
            return EXIT_CANTCREAT
        _print(sys.stderr, f"verify: report written to {args.report}")
    return _exit([*previous, *(i for i, _s in seen)], strict=args.strict)


def _print_due(reports: Sequence[DocumentReport], due: datetime, out: Any) -> None:
    """``--due-before``: each signature whose proof must be renewed before ``due``."""
    lines = []
    for report in reports:
        for sig in report.signatures:
            renewal = sig.renewal or {}
            when = renewal.get("due")
            if when is not None and datetime.fromisoformat(when) < due:
                name = clean(report.path or "<bytes>")
                lines.append(f"  {name} [{sig.field_name or sig.index}]: {renewal['message_en']}")
                lines.append(f"    {renewal['message_vi']}")
    head = (
        f"Cần gia hạn trước {_describe_time(due)} / to renew before "
        f"{due.isoformat(timespec='seconds')}: {len(lines) // 2} signature(s)"
    )
    _print(out, head)
    for line in lines:
        _print(out, line)


def memory_limit(max_file_size: int) -> int:
    """A worker's memory ceiling for documents up to ``max_file_size`` bytes: 2 GiB, or
    eight times the largest document when --max-size allows bigger ones (the bytes, the
    parsed objects and the hashing all live at once)."""
    return max(2 * 1024**3, 8 * max_file_size)


def _future_warning(moment: datetime, now: datetime) -> tuple[str, str]:
    return (
        f"thời điểm kiểm tra {vn_time(moment)} ở tương lai (bây giờ là {vn_time(now)}): "
        "chưa có thông tin thu hồi hay dấu thời gian nào cho thời điểm đó, kết quả chỉ đúng "
        "nếu không có gì thay đổi từ nay đến lúc ấy",
        f"the validation time {_iso_z(moment)} is in the future (now: {_iso_z(now)}): no "
        "revocation information or timestamp can speak for it yet; the verdicts hold only "
        "if nothing changes until then",
    )


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_EARLY_TIME_WARNING = "The validation time is before the signing time"


def time_warnings(report: DocumentReport) -> DocumentReport:
    """``report`` with a warning for each signature whose claimed (or proven) signing time
    is after the validation time: it was judged as of a moment before it says it was
    made."""
    moment = report.validation_time
    if moment is None:
        return report
    notes = []
    for sig in report.signatures:
        claimed = sig.signing_time_claimed or sig.signing_time_proven
        if claimed is not None and moment < claimed:
            notes.append(
                f"{_EARLY_TIME_WARNING} that signature {sig.index + 1} claims "
                f"({_iso_z(claimed)}; validated at {_iso_z(moment)}): it is judged as of a "
                "moment before it says it was made"
            )
    if not notes:
        return report
    return replace(report, warnings=(*report.warnings, *notes))


class _Screening:
    """What this process decides before the signature checks (see ``docs/cli.md``): a hoso
    dossier's ``manifest.json`` against its folder, files in no signed format (NOT_SIGNED),
    unreadable ones (FILE_UNREADABLE). The rest goes to :func:`verify_many`."""

    def __init__(self, items: Sequence[Item], policy: ValidationPolicy) -> None:
        self.policy = policy
        self.dossiers: dict[str, tuple[Dossier, list[Path]]] = {}
        self.extra: dict[str, str] = {}
        """path of a file not listed in its dossier's manifest -> that dossier's code"""
        self.side: deque[DocumentReport] = deque()
        for item in items:
            if item.detached is not None or item.orphan or item.path.name != "manifest.json":
                continue
            dossier = read_manifest(item.path)
            if dossier is None:
                continue
            extras = extra_files(dossier)
            self.dossiers[os.fspath(item.path)] = (dossier, extras)
            for path in extras:
                self.extra[os.fspath(path)] = dossier.code

    def early(self, item: Item) -> DocumentReport | None:
        moment = self.policy.moment()
        found = self.dossiers.get(os.fspath(item.path)) if item.detached is None else None
        if found is not None:
            return check_dossier(found[0], moment, extra=found[1])
        if item.orphan:
            return special_file_report(item.path, moment)
        return screen(item.path, moment, max_size=self.policy.max_file_size, detached=item.detached)

    def feed(self, items: Iterable[Item]) -> Iterator[BulkItem]:
        """The items for the signature checks; the others' reports wait in ``side``."""
        for item in items:
            try:
                found = self.early(item)
            except Exception as exc:  # noqa: BLE001 - one bad file never stops the run
                found = crash_report(item.path, exc, self.policy.moment())
            if found is None:
                yield replace(BulkItem.of(item), screened=True)
            else:
                self.side.append(found)

    def merged(self, stream: Iterable[DocumentReport]) -> Iterator[DocumentReport]:
        """The checked reports and the screened ones, each as soon as it is known."""
        for report in stream:
            while self.side:
                yield self.side.popleft()
            yield report
        while self.side:
            yield self.side.popleft()

    def annotate(self, report: DocumentReport) -> DocumentReport:
        """A file in a dossier's folder that its manifest does not list gets a warning."""
        for path in (report.path, report.detached_signature):
            code = self.extra.get(path) if path is not None else None
            if code is not None:
                note = f"not listed in the manifest.json of dossier {code}"
                return replace(report, warnings=(*report.warnings, note))
        return report


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _write_report(
    target: str, reports: Sequence[DocumentReport], settings: Sequence[tuple[str, str]]
) -> None:
    from verify import render

    now = datetime.now(UTC)
    if Path(target).suffix.lower() == ".pdf":
        render.render_pdf(reports, target, generated_at=now, settings=settings)
    else:
        html = render.render_html(reports, generated_at=now, settings=settings)
        Path(target).write_text(html, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
