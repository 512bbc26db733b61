"""The ``verify`` command line (also ``python -m verify``).

::

    verify [--trust PEM_OR_DIR]... [--profile public|specialized|any]
           [--revocation hard|soft|off] [--offline] [--at ISO_TIME] [--json]
           [--report FILE.html|FILE.pdf] [--detached FILE.p7s] [-v] PATH...

Scripts depend on this contract; it is documented in ``docs/cli.md``. Exit status: 0 every
document TOTAL_PASSED; 1 at least one TOTAL_FAILED; 2 none failed but at least one did not
pass (or there was nothing to verify); 64 bad usage; 73 the report file could not be
written. A bad file never stops the run and never prints a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import os
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import IO, NoReturn

from verify.discover import Item, discover
from verify.errors import VerifyError
from verify.policy import RevocationMode, ValidationPolicy
from verify.report import (
    VN_TZ,
    DocumentReport,
    Indication,
    SubIndication,
    sentences,
    vn_time,
)
from verify.trust import TrustProfile
from verify.verifier import Verifier

__all__ = ["EXIT_FAILED", "EXIT_NOT_PASSED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_PASSED = 2
EXIT_USAGE = 64  # sysexits.h EX_USAGE
EXIT_CANTCREAT = 73  # sysexits.h EX_CANTCREAT: the report file could not be written

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
}


class UsageError(Exception):
    """Bad command-line usage: one line on stderr, exit 64."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="verify",
        description=(
            "Verify PDF signatures and detached CMS signatures (.p7s, .sig) with ETSI-style "
            "verdicts (TOTAL_PASSED, TOTAL_FAILED, INDETERMINATE) and a sentence in "
            "Vietnamese for each document."
        ),
        epilog=(
            "Exit status: 0 all TOTAL_PASSED; 1 at least one TOTAL_FAILED; 2 none failed "
            "but at least one did not pass; 64 bad usage; 73 report not written."
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
        "--revocation",
        choices=[m.value for m in RevocationMode],
        default=RevocationMode.HARD.value,
        help="hard: no revocation info is INDETERMINATE (default); soft: accept with a "
        "warning; off: do not check",
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
        "-v",
        "--verbose",
        action="store_true",
        help="let the underlying libraries log their warnings on stderr",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("hoso")
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "unknown"


# -- arguments ----------------------------------------------------------------------------


def parse_time(text: str) -> datetime:
    """Parse ``--at``: ISO 8601; a date alone or a naive time is in Asia/Ho_Chi_Minh."""
    value = text.strip()
    try:
        if len(value) == 10 and value.count("-") == 2:
            day = date.fromisoformat(value)
            return datetime.combine(day, time(0, 0), tzinfo=VN_TZ).astimezone(UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--at: {text!r} is not an ISO 8601 date or time "
            "(e.g. 2026-06-01, 2026-06-01T17:00:00, 2026-06-01T10:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(UTC)


def _trust_profile(args: argparse.Namespace) -> TrustProfile:
    profile = TrustProfile.named(args.profile)
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


def _check_report_target(report: str | None) -> None:
    if report is None:
        return
    suffix = Path(report).suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise UsageError(f"--report: {report!r} must end in .html or .pdf")
    parent = Path(report).parent
    if not parent.is_dir():
        raise UsageError(f"--report: folder {str(parent)!r} does not exist")


# -- verifying ----------------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text or type(exc).__name__)[:300]


def _file_facts(path: Path) -> tuple[int, str | None]:
    try:
        if not path.is_file():
            return 0, None
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()
    except OSError:
        return 0, None


def _plain_report(
    path: Path,
    *,
    indication: Indication,
    sub: SubIndication,
    reason_vi: str,
    reason_en: str,
    moment: datetime,
    fmt: str = "unknown",
    extra_vi: str = "",
    extra_en: str = "",
) -> DocumentReport:
    vi, en = sentences(sub, reason_vi, reason_en)
    size, sha = _file_facts(path)
    return DocumentReport(
        path=os.fspath(path),
        size=size,
        sha256=sha,
        format=fmt,
        indication=indication,
        sub_indication=sub,
        message_vi=f"{vi} {extra_vi}".strip(),
        message_en=f"{en} {extra_en}".strip(),
        validation_time=moment,
    )


def _looks_like_cms(path: Path) -> bool:
    try:
        from asn1crypto import cms, pem

        data = path.read_bytes()[: 16 * 1024 * 1024]
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        info = cms.ContentInfo.load(data)
        return info["content_type"].native == "signed_data" and info["content"] is not None
    except Exception:  # noqa: BLE001 - anything unreadable is "not CMS"
        return False


def _orphan_report(item: Item, moment: datetime) -> DocumentReport:
    content = item.path.with_suffix("").name
    if not _looks_like_cms(item.path):
        return _plain_report(
            item.path,
            indication=Indication.TOTAL_FAILED,
            sub=SubIndication.FORMAT_FAILURE,
            reason_vi="tệp chữ ký không phải là chữ ký CMS đọc được",
            reason_en="the signature file is not a readable CMS signature",
            moment=moment,
            fmt="cms",
        )
    return _plain_report(
        item.path,
        indication=Indication.INDETERMINATE,
        sub=SubIndication.SIGNED_DATA_NOT_FOUND,
        reason_vi="",
        reason_en="",
        moment=moment,
        fmt="cms",
        extra_vi=f"Đây là chữ ký rời nhưng không có tệp dữ liệu “{content}” bên cạnh; "
        f"hãy đặt tệp đã ký cạnh tệp chữ ký hoặc dùng --detached.",
        extra_en=f"This is a detached signature but there is no content file “{content}” "
        f"beside it; put the signed file next to it or use --detached.",
    )


def _crash_report(path: Path, exc: BaseException, moment: datetime) -> DocumentReport:
    return _plain_report(
        path,
        indication=Indication.TOTAL_FAILED,
        sub=SubIndication.FORMAT_FAILURE,
        reason_vi=f"lỗi không mong đợi khi kiểm tra tệp ({type(exc).__name__}: {_one_line(exc)})",
        reason_en=f"unexpected error while checking the file ({type(exc).__name__}: "
        f"{_one_line(exc)})",
        moment=moment,
    )


def _special_file_report(path: Path, moment: datetime) -> DocumentReport | None:
    """A report for a named path that is neither a regular file nor missing."""
    try:
        if not path.exists() or path.is_file():
            return None
    except OSError:
        return None
    what_vi, what_en = ("thư mục", "a folder") if path.is_dir() else ("tệp đặc biệt", "special")
    return _plain_report(
        path,
        indication=Indication.TOTAL_FAILED,
        sub=SubIndication.FORMAT_FAILURE,
        reason_vi=f"đường dẫn không phải là tệp thông thường ({what_vi})",
        reason_en=f"the path is not a regular file ({what_en})",
        moment=moment,
    )


async def _verify_item(verifier: Verifier, item: Item, moment: datetime) -> DocumentReport:
    try:
        if item.orphan:
            return _orphan_report(item, moment)
        special = _special_file_report(item.path, moment)
        if special is not None:
            return special
        limit = verifier.policy.document_time_limit
        try:
            report = await asyncio.wait_for(
                verifier.averify(item.path, detached=item.detached), timeout=limit
            )
        except TimeoutError:
            return _plain_report(
                item.path,
                indication=Indication.INDETERMINATE,
                sub=SubIndication.TIME_LIMIT_EXCEEDED,
                reason_vi=f"giới hạn {limit:g} giây",
                reason_en=f"limit {limit:g} seconds",
                moment=moment,
            )
        if item.detached is not None:
            report = replace(report, detached_signature=os.fspath(item.detached))
        return report
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the run
        return _crash_report(item.path, exc, moment)


async def _verify_all(
    verifier: Verifier,
    items: Sequence[Item],
    moment: datetime,
    emit: Callable[[DocumentReport], None],
) -> list[DocumentReport]:
    reports: list[DocumentReport] = []
    for item in items:
        report = await _verify_item(verifier, item, moment)
        reports.append(report)
        emit(report)
    return reports


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
    names = []
    for sig in report.signatures:
        name = (sig.signer or {}).get("name")
        if name and name not in names:
            names.append(str(name))
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
    counts = {ind: 0 for ind in Indication}
    for r in reports:
        counts[r.indication] += 1
    n = len(reports)
    vi = ", ".join(f"{_INDICATION_VI[i].lower()}: {counts[i]}" for i in Indication)
    en = ", ".join(f"{counts[i]} {i.value}" for i in Indication)
    return f"Tổng cộng {n} tài liệu — {vi} ({n} document{'' if n == 1 else 's'}: {en})"


def exit_status(reports: Sequence[DocumentReport]) -> int:
    if any(r.indication is Indication.TOTAL_FAILED for r in reports):
        return EXIT_FAILED
    if reports and all(r.passed for r in reports):
        return EXIT_OK
    return EXIT_NOT_PASSED


def _describe_time(moment: datetime) -> str:
    return f"{moment.isoformat().replace('+00:00', 'Z')} = {vn_time(moment)}"


@contextlib.contextmanager
def _quiet_libraries(verbose: bool) -> Iterator[None]:
    """Silence third-party loggers for the run (and put them back afterwards)."""
    saved = []
    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate, list(logger.handlers)))
        if verbose:
            if not logger.handlers:
                logger.addHandler(logging.StreamHandler(sys.stderr))
            logger.setLevel(logging.WARNING)
            logger.propagate = False
        else:
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


def _print(stream: IO[str], text: str) -> None:
    try:
        stream.write(text + "\n")
    except UnicodeEncodeError:
        stream.write(text.encode("ascii", "backslashreplace").decode("ascii") + "\n")
    stream.flush()


def _stdout_is_utf8() -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or ""
    return encoding.lower().replace("-", "") in ("utf8", "utf8sig")


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run ``verify``; return the exit status (see the module docs)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        moment = parse_time(args.at) if args.at else None
        _check_report_target(args.report)
        if args.detached is not None:
            if len(args.paths) != 1 or Path(args.paths[0]).is_dir():
                raise UsageError("--detached needs exactly one PATH: the signed file")
            if not Path(args.detached).exists():
                raise UsageError(f"--detached: {args.detached}: no such file")
        with _quiet_libraries(args.verbose):
            trust = _trust_profile(args)
    except UsageError as exc:
        _print(sys.stderr, f"verify: error: {_one_line(exc)} (see verify --help)")
        return EXIT_USAGE
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE

    with _quiet_libraries(args.verbose):
        return _run(args, trust, moment)


def _run(args: argparse.Namespace, trust: TrustProfile, moment: datetime | None) -> int:
    policy = ValidationPolicy(
        revocation=RevocationMode(args.revocation),
        network=not args.offline,
        validation_time=moment,
    )
    verifier = Verifier(trust, policy)
    shown_moment = moment or datetime.now(UTC)
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
        ("Hồ sơ tin cậy / Trust profile", f"{trust.name} ({len(trust.anchors)} anchors)"),
        ("Kiểm tra thu hồi / Revocation", policy.revocation.value),
        ("Mạng / Network", "offline" if not policy.network else "online (OCSP/CRL)"),
    ]
    ascii_json = not _stdout_is_utf8()

    def emit(report: DocumentReport) -> None:
        if args.json:
            _print(sys.stdout, json.dumps(report.to_dict(), ensure_ascii=ascii_json))

    if args.json:
        _print(sys.stderr, header)
    else:
        _print(sys.stdout, header)
    if not items:
        _print(sys.stderr, "verify: nothing to verify (no files found)")

    reports = asyncio.run(_verify_all(verifier, items, moment or shown_moment, emit))

    if not args.json:
        for line in format_table(reports):
            _print(sys.stdout, line)
        _print(sys.stdout, summary_line(reports))
    else:
        _print(sys.stderr, summary_line(reports))

    if args.report:
        try:
            _write_report(args.report, reports, settings)
        except Exception as exc:  # noqa: BLE001 - say it on one line, keep the verdicts
            _print(sys.stderr, f"verify: error: cannot write {args.report}: {_one_line(exc)}")
            return EXIT_CANTCREAT
        _print(sys.stderr, f"verify: report written to {args.report}")
    return exit_status(reports)


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
