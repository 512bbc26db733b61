"""``verify trust``: the bundled trust data and the local trust store, on the command line.

::

    verify trust [--store DIR] list [--json]
    verify trust [--store DIR] show FINGERPRINT_OR_PREFIX [--json]
    verify trust [--store DIR] export [--profile public|specialized|any] OUT.pem
    verify trust [--store DIR] add FILE --hierarchy public|specialized [--kind root|ca|tsa]
    verify trust [--store DIR] remove FINGERPRINT
    verify trust [--store DIR] import FOLDER_OR_P7B --hierarchy public|specialized
    verify trust [--store DIR] log [--json]

The store is ``--store DIR``, else ``$HOSO_TRUST_STORE``, else the user's data folder
(:func:`verify.truststore.default_store_dir`). Every change is appended to the store's
audit log. Messages are English then Vietnamese, one line each. Exit status: 0 done;
1 refused (a bundled certificate cannot be removed, a certificate that is not a CA, an
import with refused certificates); 64 bad usage (a file that holds no certificate, an
unknown fingerprint, a damaged store); 73 the store or the output file cannot be written.
No traceback is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, NoReturn

from asn1crypto import pem

from verify.errors import TrustStoreError
from verify.special import one_line
from verify.trust import load_certificates
from verify.truststore import (
    StoreInputError,
    StoreRefusedError,
    StoreWriteError,
    TrustEntry,
    TrustStore,
    default_store_dir,
    find_entry,
    iter_entries,
)

__all__ = ["EXIT_CANTCREAT", "EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 64  # sysexits.h EX_USAGE
EXIT_CANTCREAT = 73  # sysexits.h EX_CANTCREAT

_PROG = "verify trust"


class _UsageError(Exception):
    """Bad usage: one line on stderr, exit 64."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The ``verify trust`` parser (``--store`` before or after the subcommand)."""
    store = _Parser(add_help=False)
    store.add_argument(
        "--store",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="the local trust store (default: $HOSO_TRUST_STORE, else the user data folder)",
    )
    parser = _Parser(
        prog=_PROG,
        description=(
            "The trust data verify uses: the bundled certificates and a local trust store "
            "beside them. Dữ liệu tin cậy: chứng thư đóng gói và kho tin cậy cục bộ."
        ),
        epilog="Exit status: 0 done; 1 refused; 64 bad usage; 73 the store cannot be written.",
        parents=[store],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    listing = commands.add_parser(
        "list", parents=[store], help="every bundled and local certificate"
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per line")

    show = commands.add_parser("show", parents=[store], help="one certificate in detail")
    show.add_argument("key", metavar="FINGERPRINT_OR_PREFIX")
    show.add_argument("--json", action="store_true", help="a JSON object")

    export = commands.add_parser("export", parents=[store], help="a PEM bundle")
    export.add_argument("out", metavar="OUT.pem")
    export.add_argument(
        "--profile",
        choices=("public", "specialized", "any"),
        default="any",
        help="which hierarchy (default: any = both)",
    )

    add = commands.add_parser("add", parents=[store], help="trust a certificate")
    add.add_argument("file", metavar="FILE")
    add.add_argument("--hierarchy", choices=("public", "specialized"), required=True)
    add.add_argument(
        "--kind",
        choices=("root", "ca", "tsa"),
        default=None,
        help="root: an anchor; ca, tsa: only for building paths "
        "(default: root when self-signed, else ca)",
    )

    remove = commands.add_parser(
        "remove", parents=[store], help="remove a certificate from the local store"
    )
    remove.add_argument("key", metavar="FINGERPRINT")

    imp = commands.add_parser(
        "import",
        parents=[store],
        help="add the CA certificates of a folder or PKCS#7 bundle that chain to a trusted anchor",
    )
    imp.add_argument("source", metavar="FOLDER_OR_P7B")
    imp.add_argument("--hierarchy", choices=("public", "specialized"), required=True)

    log = commands.add_parser("log", parents=[store], help="the local store's audit log")
    log.add_argument("--json", action="store_true", help="the JSON lines as written")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``verify trust``; return the exit status (see the module docs)."""
    args_list = list(sys.argv[2:] if argv is None else argv)
    try:
        args = build_parser().parse_args(args_list)
    except _UsageError as exc:
        _say(sys.stderr, f"{_PROG}: error: {exc} (see verify trust --help)")
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    store = TrustStore(getattr(args, "store", None) or default_store_dir())
    now = datetime.now(UTC)
    try:
        return _COMMANDS[args.command](args, store, now)
    except StoreRefusedError as exc:
        _say(sys.stderr, f"{_PROG}: refused: {exc.message_en} / Từ chối: {exc.message_vi}")
        return EXIT_REFUSED
    except StoreWriteError as exc:
        _say(sys.stderr, f"{_PROG}: error: {exc.message_en} / Lỗi: {exc.message_vi}")
        return EXIT_CANTCREAT
    except StoreInputError as exc:
        _say(sys.stderr, f"{_PROG}: error: {exc.message_en} / Lỗi: {exc.message_vi}")
        return EXIT_USAGE
    except TrustStoreError as exc:  # a file given that holds no certificate
        reason = one_line(exc)
        _say(
            sys.stderr,
            f"{_PROG}: error: {reason} / Lỗi: không đọc được chứng thư từ tệp này",
        )
        return EXIT_USAGE


# -- commands -------------------------------------------------------------------------------


def _list(args: argparse.Namespace, store: TrustStore, now: datetime) -> int:
    entries = list(iter_entries(store))
    if args.json:
        for entry in entries:
            _say(sys.stdout, json.dumps(entry.to_dict(now), ensure_ascii=False))
        return EXIT_OK
    headers = ("SOURCE", "HIERARCHY", "KIND", "SUBJECT CN", "VALID", "EXPIRED", "SHA-256")
    rows = [
        (
            e.source,
            e.hierarchy,
            e.kind,
            _clip(_clean(e.subject_cn), 48),
            f"{e.not_before:%Y-%m-%d}..{e.not_after:%Y-%m-%d}",
            "yes" if e.expired(now) else "no",
            e.sha256,
        )
        for e in entries
    ]
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]
    for row in (headers, *rows):
        _say(sys.stdout, "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    bundled = sum(1 for e in entries if e.source == "bundled")
    local = len(entries) - bundled
    _say(
        sys.stderr,
        f"{bundled} bundled and {local} local certificates (store: {store.path}) / "
        f"{bundled} chứng thư đóng gói và {local} chứng thư trong kho cục bộ",
    )
    return EXIT_OK


def _show(args: argparse.Namespace, store: TrustStore, now: datetime) -> int:
    entry = find_entry(list(iter_entries(store)), args.key)
    if args.json:
        _say(sys.stdout, json.dumps(entry.to_dict(now), ensure_ascii=False, indent=2))
        return EXIT_OK
    cert = entry.certificate
    key = cert.public_key
    size = key.bit_size if key.algorithm in ("rsa", "dsa", "ec") else None
    rows = [
        ("Nguồn / Source", entry.source + (f" ({store.path})" if entry.source == "local" else "")),
        ("Hệ thống / Hierarchy", entry.hierarchy),
        ("Loại / Kind", entry.kind),
        ("Chủ thể / Subject", _clean(entry.subject)),
        ("Tổ chức cấp / Issuer", _clean(entry.issuer)),
        ("Số hiệu / Serial", f"{cert.serial_number:x}"),
        ("Hiệu lực từ / Not before", _iso(entry.not_before)),
        ("Hiệu lực đến / Not after", _iso(entry.not_after)),
        ("Hết hạn / Expired", "có / yes" if entry.expired(now) else "không / no"),
        ("CA (basicConstraints)", "cA=TRUE" if cert.ca else "cA=FALSE"),
        ("Khóa / Key", key.algorithm.upper() + (f" {size} bit" if size else "")),
        ("SHA-256", entry.sha256),
    ]
    if entry.added is not None:
        rows.append(("Thêm lúc / Added", _iso(entry.added)))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        _say(sys.stdout, f"{label.ljust(width)}  {value}")
    return EXIT_OK


def _export(args: argparse.Namespace, store: TrustStore, now: datetime) -> int:
    entries = [
        e for e in iter_entries(store) if args.profile == "any" or e.hierarchy == args.profile
    ]
    chunks: list[bytes] = []
    for e in entries:
        head = (
            f"# {e.source} {e.hierarchy} {e.kind}: {_clean(e.subject)}\n"
            f"# valid {_iso(e.not_before)} .. {_iso(e.not_after)}\n# SHA-256 {e.sha256}\n"
        )
        chunks.append(head.encode("utf-8") + pem.armor("CERTIFICATE", e.certificate.dump()))
    out = Path(args.out)
    try:
        out.write_bytes(b"\n".join(chunks))
    except OSError as exc:
        raise StoreWriteError(
            f"không ghi được {out}: {exc.strerror or exc}",
            f"cannot write {out}: {exc.strerror or exc}",
            path=out,
        ) from None
    _say(
        sys.stderr,
        f"{len(entries)} certificates ({args.profile}) written to {out} / "
        f"đã ghi {len(entries)} chứng thư ({args.profile}) vào {out}",
    )
    return EXIT_OK


def _add(args: argparse.Namespace, store: TrustStore, now: datetime) -> int:
    certs = load_certificates(args.file)
    for cert in certs:
        result = store.add(cert, hierarchy=args.hierarchy, kind=args.kind, now=now)
        if isinstance(result, TrustEntry):
            _say(
                sys.stdout,
                f"added / đã thêm: {_clean(result.subject_cn)} ({result.hierarchy}, "
                f"{result.kind}) {result.sha256}",
            )
        else:
            _say(
                sys.stdout,
                f"unchanged / không đổi: {_clean(result.subject_cn)} {result.sha256}: "
                f"{result.reason_en} / {result.reason_vi}",
            )
    return EXIT_OK


def _remove(args: argparse.Namespace, store: TrustStore, now: datetime) -> int:
    entry = store.remove(args.key, now=now)
    _say(
        sys.stdout,
        f"removed / đã gỡ: {_clean(entry.subject_cn)} ({entry.hierarchy}, {entry.kind}) "
        f"{entry.sha256}",
    )
    return EXIT_OK


def _import(args: argparse.Namespace, store: TrustStore, now: datetime) -> int:
    certs = load_certificates(args.source)
    outcome = store.import_certificates(certs, hierarchy=args.hierarchy, now=now)
    for entry in outcome.added:
        _say(
            sys.stdout,
            f"added / đã thêm: {_clean(entry.subject_cn)} ({entry.hierarchy}, {entry.kind}) "
            f"{entry.sha256}",
        )
    for refusal in outcome.refused:
        label = "skipped / bỏ qua" if refusal.already_trusted else "refused / từ chối"
        _say(
            sys.stdout,
            f"{label}: {_clean(refusal.subject_cn)} {refusal.sha256}: {refusal.reason_en} / "
            f"{refusal.reason_vi}",
        )
    skipped = sum(1 for r in outcome.refused if r.already_trusted)
    refused = len(outcome.refused) - skipped
    _say(
        sys.stderr,
        f"{_PROG}: {len(outcome.added)} added, {refused} refused, {skipped} already trusted / "
        f"đã thêm {len(outcome.added)}, từ chối {refused}, {skipped} đã được tin cậy từ trước",
    )
    return EXIT_REFUSED if outcome.any_refused else EXIT_OK


def _log(args: argparse.Namespace, store: TrustStore, now: datetime) -> int:
    records = store.audit()
    for record in records:
        if args.json:
            _say(sys.stdout, json.dumps(record.to_dict(), ensure_ascii=False))
        else:
            _say(
                sys.stdout,
                f"{_iso(record.time)}  {record.action:<6}  {record.sha256}  "
                f"{record.who}  hoso {record.hoso_version}  {_clean(record.subject)}",
            )
    if not records:
        _say(
            sys.stderr,
            f"no change recorded in {store.path} / chưa có thay đổi nào trong {store.path}",
        )
    return EXIT_OK


_COMMANDS = {
    "list": _list,
    "show": _show,
    "export": _export,
    "add": _add,
    "remove": _remove,
    "import": _import,
    "log": _log,
}


# -- output -----------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(text: object) -> str:
    """Text from a certificate, safe for a terminal: NFC, no control characters."""
    value = unicodedata.normalize("NFC", str(text))
    return "".join(" " if unicodedata.category(c).startswith("C") else c for c in value)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _say(stream: IO[str], text: str) -> None:
    try:
        print(text, file=stream)
    except UnicodeEncodeError:  # a terminal that cannot show Vietnamese
        encoding = getattr(stream, "encoding", None) or "ascii"
        print(text.encode(encoding, "replace").decode(encoding), file=stream)
