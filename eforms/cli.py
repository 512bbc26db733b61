"""The ``eforms`` command line.

    eforms catalog [TEXT] [--audience A] [--level L] [--topic T] [--agency A] [--json]
    eforms validate FORM DATA.json [--json] [--lang vi|en] [--today YYYY-MM-DD]
    eforms fill FORM --subject ID [--registry PATH] [--timeout S]
    eforms render FORM DATA.json (--html OUT.html | --pdf OUT.pdf) [--lang vi|en]
                  [--draft] [--today YYYY-MM-DD]
    eforms submit FORM DATA.json --p12 FILE [--password-file F] --out DIR
                  [--profile public|specialized|any] [--trust PEM_OR_DIR]...
                  [--revocation hard|soft|off] [--level B-LT] [--tsa URL] [--agency CODE]
                  [--attach FILE[:SIG]]... [--state-dir DIR] [--code-format FMT]
                  [--declarant-id POINTER]
    eforms codes [--state-dir DIR] [--all] [--json]
    eforms check [--all] [FORM...] [--json] [--lang vi|en]

FORM is a bundled form id (``eforms catalog`` lists them) or a path to a definition file;
a plain JSON Schema file is a valid definition. Exit codes: 0 success / valid, 1 invalid
data, 64 bad usage, 65 unreadable or broken input file, 66 missing file, 73 cannot write the
output (``render`` and ``submit`` write nothing unless the whole output was made).
``render --pdf`` exits 1 for invalid data unless ``--draft`` (every page marked BẢN NHÁP).
``submit`` exits 1 when the data is invalid, an attachment's signature does not verify,
the signer's certificate is refused or (with ``--declarant-id``) is not the declarant's,
and 65 when no dossier code can be issued or the bundle cannot be written; its key options
are ``esign``'s (``--p12``, ``--key``/``--chain``, ``--pkcs11-lib``, ``--csc-url``) and it
writes ``DIR/<dossier code>/``. ``codes`` lists the dossier codes that carry no dossier
(void, with the reason the submission failed; reserved by a submission that never
finished), or every code with ``--all``; it exits 0. ``check`` lints definitions (files or
bundled form ids; ``--all``: every bundled form): unlabelled fields (shared definitions
included), labels without English, unnamed or unknown providers, enum values without
labels, expressions reading no field; exit 0 when clean, 1 when a form has problems or
does not load.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import warnings
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from eforms.autofill import autofill_sync
from eforms.catalog import AUDIENCES, LEVELS, bundled_catalog
from eforms.definition import FormDefinition, load_definition
from eforms.errors import (
    CatalogError,
    DefinitionError,
    DefinitionWarning,
    EformsError,
    FormValidationError,
)
from eforms.providers.sqlite import sqlite_registry
from eforms.providers.submissions import SubmissionsProvider, SubmissionStore
from eforms.submission import (
    DEFAULT_AGENCY,
    DEFAULT_CODE_FORMAT,
    Attachment,
    AttachmentRefused,
    DossierCodes,
    SignerMismatch,
    SubmissionError,
)
from eforms.validation import validate
from esign.cli import add_key_options, add_trust_options

EX_OK, EX_INVALID, EX_USAGE, EX_DATAERR, EX_NOINPUT = 0, 1, 64, 65, 66
EX_CANTCREAT = 73
MAX_DATA_BYTES = 5_000_000


class _UsageError(Exception):
    pass


class _InputError(Exception):
    def __init__(self, message: str, code: int = EX_DATAERR) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="eforms",
        description="Procedure catalog, form validation and autofill.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    cat = sub.add_parser("catalog", help="list and filter procedures")
    cat.add_argument("text", nargs="?", help="words to find (diacritics optional)")
    cat.add_argument("--audience", choices=[a for a in AUDIENCES if a != "both"])
    cat.add_argument("--level", choices=LEVELS)
    cat.add_argument("--topic")
    cat.add_argument("--agency")
    cat.add_argument("--json", action="store_true", help="print JSON")
    val = sub.add_parser("validate", help="validate a filled form")
    val.add_argument("form", help="bundled form id or definition / JSON Schema file")
    val.add_argument("data", help="the filled data (JSON file)")
    val.add_argument("--json", action="store_true", help="print errors as JSON")
    val.add_argument("--lang", choices=["vi", "en"], default="vi")
    val.add_argument("--today", type=date.fromisoformat, help="date for computed fields")
    fill = sub.add_parser("fill", help="prefill a form from the embedded registry")
    fill.add_argument("form")
    fill.add_argument("--subject", required=True, help="personal ID or tax code")
    fill.add_argument("--registry", type=Path, default=None, help="registry SQLite file")
    fill.add_argument("--submissions", type=Path, default=None, help="earlier submissions")
    fill.add_argument("--timeout", type=float, default=3.0)
    ren = sub.add_parser("render", help="render a filled form as HTML (to fill) or PDF/A-3b")
    ren.add_argument("form", help="bundled form id or definition / JSON Schema file")
    ren.add_argument("data", help="the filled data (JSON file)")
    out = ren.add_mutually_exclusive_group(required=True)
    out.add_argument("--html", type=Path, help="write the HTML form here")
    out.add_argument("--pdf", type=Path, help="write the PDF/A-3b (data attached) here")
    ren.add_argument("--lang", choices=["vi", "en"], default="vi")
    ren.add_argument("--place", default="", help="place printed above the signature")
    ren.add_argument(
        "--signed-on", type=date.fromisoformat, default=None, help="date above the signature"
    )
    ren.add_argument(
        "--draft",
        action="store_true",
        help="print invalid data too, marked BẢN NHÁP on every page (PDF only)",
    )
    ren.add_argument("--today", type=date.fromisoformat, help="the day sanity rules speak of")
    sub_ = sub.add_parser("submit", help="validate, render, sign and bundle a dossier")
    sub_.add_argument("form", help="bundled form id or definition / JSON Schema file")
    sub_.add_argument("data", help="the filled data (JSON file)")
    sub_.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="write DIR/<dossier code>/ here"
    )
    sub_.add_argument("--level", default="B-LT", choices=("B-B", "B-T", "B-LT", "B-LTA"))
    sub_.add_argument("--tsa", metavar="URL", help="timestamp authority")
    sub_.add_argument(
        "--agency", default=DEFAULT_AGENCY, metavar="CODE", help="agency code in the dossier code"
    )
    sub_.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="FILE[:SIG]",
        help="an attachment, with its detached signature (repeatable)",
    )
    sub_.add_argument(
        "--state-dir", type=Path, default=None, metavar="DIR", help="where dossier codes are kept"
    )
    sub_.add_argument(
        "--code-format",
        default=DEFAULT_CODE_FORMAT,
        metavar="FMT",
        help="dossier code format (default: %(default)s)",
    )
    sub_.add_argument(
        "--declarant-id",
        metavar="POINTER",
        help="JSON Pointer to the declarant's personal ID (e.g. /applicant/idNumber): the "
        "signer's certificate must carry it",
    )
    sub_.add_argument("--place", default="", help="place printed above the signature")
    sub_.add_argument("--lang", choices=["vi", "en"], default="vi")
    add_trust_options(sub_)
    add_key_options(sub_)
    codes = sub.add_parser("codes", help="audit dossier codes: the gaps and their reasons")
    codes.add_argument(
        "--state-dir", type=Path, default=None, metavar="DIR", help="where dossier codes are kept"
    )
    codes.add_argument("--all", action="store_true", help="every code, not only the gaps")
    codes.add_argument("--json", action="store_true", help="print JSON")
    chk = sub.add_parser("check", help="lint form definitions (labels, providers, enums, rules)")
    chk.add_argument("forms", nargs="*", metavar="FORM", help="definition files or bundled ids")
    chk.add_argument("--all", action="store_true", help="every bundled form")
    chk.add_argument("--json", action="store_true", help="print JSON")
    chk.add_argument("--lang", choices=["vi", "en"], default="en")
    return parser


def _form(ref: str) -> FormDefinition:
    catalog = bundled_catalog()
    if ref.split("@", 1)[0] in catalog.form_ids():
        return catalog.form(ref)
    path = Path(ref)
    if not path.exists():
        known = ", ".join(catalog.form_ids())
        raise _InputError(f"{ref}: no such form or file (bundled forms: {known})", EX_NOINPUT)
    return load_definition(path)


def _read_json(path_text: str) -> Any:
    path = Path(path_text)
    try:
        if path.stat().st_size > MAX_DATA_BYTES:
            raise _InputError(f"{path}: larger than {MAX_DATA_BYTES} bytes")
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _InputError(f"{path}: no such file", EX_NOINPUT) from None
    except OSError as exc:
        raise _InputError(f"{path}: {exc.strerror}", EX_NOINPUT) from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _InputError(f"{path}: not a UTF-8 JSON file ({exc})") from None


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _catalog(args: argparse.Namespace) -> int:
    found = bundled_catalog().search(
        args.text, audience=args.audience, level=args.level, topic=args.topic, agency=args.agency
    )
    if args.json:
        _print_json([p.to_json() for p in found])
        return EX_OK
    for p in found:
        forms = ", ".join(f"{f.id}@{f.version}" for f in p.forms)
        print(f"{p.code}  {p.name.vi}  [{p.audience}, {p.level}, {p.agency.vi}]  {forms}")
    return EX_OK


def _validate(args: argparse.Namespace) -> int:
    form = _form(args.form)
    data = _read_json(args.data)
    report = validate(form, data, today=args.today)
    if args.json:
        _print_json(
            {
                "form": report.form,
                "valid": report.ok,
                "errors": [e.to_json(args.lang) for e in report.errors],
                "warnings": list(report.warnings),
            }
        )
    elif report.ok:
        print("hợp lệ / valid" if args.lang == "vi" else "valid")
    else:
        for e in report.errors:
            print(f"{e.pointer or '/'}\t{e.code}\t{e.message(args.lang)}")
    return EX_OK if report.ok else EX_INVALID


def _registry_path(arg: Path | None) -> Path:
    if arg is not None:
        return arg
    env = os.environ.get("HOSO_REGISTRY")
    if env:
        return Path(env)
    base = os.environ.get("HOSO_CACHE")
    return (Path(base) if base else Path(".cache") / "hoso") / "registry.sqlite"


def _fill(args: argparse.Namespace) -> int:
    form = _form(args.form)
    db = _registry_path(args.registry)
    if not db.is_file():
        raise _InputError(
            f"{db}: registry not found (build it: python -m fixtures.registry.build {db})",
            EX_NOINPUT,
        )
    registry = sqlite_registry(db)
    if args.submissions is not None:
        registry.register("submissions", SubmissionsProvider(SubmissionStore(args.submissions)))
    result = autofill_sync(form, args.subject, registry, timeout=args.timeout)
    _print_json({"form": form.key, "subject": args.subject, **result.to_json()})
    return EX_OK


def _write_atomically(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` via a temporary file: all of it, or nothing."""
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".eforms-", dir=folder)
    except OSError as exc:
        raise _InputError(f"{target}: cannot write ({exc.strerror or exc})", EX_CANTCREAT) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _InputError(f"{target}: cannot write ({exc.strerror or exc})", EX_CANTCREAT) from None


def _render(args: argparse.Namespace) -> int:
    from eforms.render import PdfMetadata, render_html, render_pdf

    form = _form(args.form)
    data = _read_json(args.data)
    if not isinstance(data, dict):
        raise _InputError(f"{args.data}: the data must be a JSON object")
    target: Path = args.html if args.html is not None else args.pdf
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise _InputError(f"{target}: cannot write (no folder {folder})", EX_CANTCREAT)
    if args.html is not None:
        _write_atomically(args.html, render_html(form, data, lang=args.lang).encode("utf-8"))
    else:
        meta = PdfMetadata(place=args.place, signed_on=args.signed_on)
        pdf = render_pdf(
            form, data, metadata=meta, lang=args.lang, draft=args.draft, today=args.today
        )
        _write_atomically(args.pdf, pdf)
    return EX_OK


def _attachment(spec: str) -> Attachment:
    file, _sep, sig = spec.partition(":")
    for path in (file, sig):
        if path and not Path(path).is_file():
            raise _InputError(f"{path}: no such file", EX_NOINPUT)
    if not file:
        raise _UsageError(f"--attach wants FILE[:SIG]; got {spec!r}")
    return Attachment.from_path(file, sig or None)


def _submit(args: argparse.Namespace) -> int:
    from eforms.submission import submit
    from esign.cli import close_signer, load_signer, trust_and_policy

    form = _form(args.form)
    data = _read_json(args.data)
    if not isinstance(data, dict):
        raise _InputError(f"{args.data}: the data must be a JSON object")
    if args.out.exists() and not args.out.is_dir():
        raise _InputError(f"{args.out}: not a folder", EX_CANTCREAT)
    attachments = [_attachment(spec) for spec in args.attach]
    codes = DossierCodes.in_state_dir(args.state_dir, template=args.code_format)
    profile, trust, policy = trust_and_policy(args)
    signer = load_signer(args)
    try:
        bundle = submit(
            form,
            data,
            signer,
            profile=profile,
            level=args.level,
            trust=trust,
            policy=policy,
            tsa_url=args.tsa,
            agency=args.agency,
            codes=codes,
            attachments=attachments,
            place=args.place,
            lang=args.lang,
            out_dir=args.out,
            declarant_id=args.declarant_id,
        )
    finally:
        close_signer(signer)
    print(
        f"{bundle.folder}: dossier {bundle.dossier_code}, PAdES-{bundle.signature.level} "
        f"signed by {bundle.signer.name} ({bundle.signature.profile} profile)"
    )
    return EX_OK


def _codes(args: argparse.Namespace) -> int:
    counter = DossierCodes.in_state_dir(args.state_dir)
    if args.state_dir is not None and not counter.path.is_file():
        raise _InputError(f"{counter.path}: no dossier codes kept here", EX_NOINPUT)
    records = counter.audit(everything=args.all)
    if args.json:
        _print_json({"file": str(counter.path), "codes": [r.to_json() for r in records]})
        return EX_OK
    for r in records:
        when = r.issued_at.isoformat() if r.issued_at is not None else "-"
        print(f"{r.code}\t{r.status}\t{when}\t{r.reason}".rstrip("\t"))
    return EX_OK


def _check(args: argparse.Namespace) -> int:
    from eforms.lint import Problem, check_definition

    refs = list(args.forms)
    if args.all:
        refs += [f for f in bundled_catalog().form_ids() if f not in refs]
    if not refs:
        raise _UsageError("check: give FORM... or --all")
    outcomes: list[tuple[str, str | None, list[Problem]]] = []  # (form, load error, problems)
    for ref in refs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DefinitionWarning)  # reported below, once
                form = _form(ref)
        except (DefinitionError, _InputError) as exc:
            outcomes.append((ref, str(exc), []))
            continue
        outcomes.append((ref, None, check_definition(form)))
    clean = all(error is None and not found for _ref, error, found in outcomes)
    if args.json:
        forms = [
            {"form": ref, "loads": error is None, "error": error or "",
             "problems": [p.to_json() for p in found]}
            for ref, error, found in outcomes
        ]  # fmt: skip
        _print_json({"clean": clean, "forms": forms})
    else:
        for ref, error, found in outcomes:
            if error is not None:
                print(f"{ref}: does not load: {error}")
            elif not found:
                print(f"{ref}: ok")
            for p in found:
                print(f"{ref}: {p.location or '/'}: {p.code}: {p.message(args.lang)}")
    return EX_OK if clean else EX_INVALID


def _in_lang(exc: BaseException, lang: str) -> str:
    """An error's message in ``lang``: esign's refusals carry ``message_vi`` beside the
    English text (``submit`` speaks Vietnamese unless ``--lang en``)."""
    vi = getattr(exc, "message_vi", None)
    text = vi if lang == "vi" and isinstance(vi, str) and vi else str(exc)
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    from esign.errors import EsignError
    from esign.errors import UsageError as EsignUsageError
    from verify.errors import VerifyError

    # pyHanko logs tracebacks for documents it refuses; the verdict is what we print
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    parser = build_parser()
    lang = "vi"
    try:
        args = parser.parse_args(argv)
        lang = getattr(args, "lang", "vi")
        handler = {
            "catalog": _catalog,
            "validate": _validate,
            "fill": _fill,
            "render": _render,
            "submit": _submit,
            "codes": _codes,
            "check": _check,
        }[args.command]
        return handler(args)
    except _UsageError as exc:
        print(f"eforms: {exc}", file=sys.stderr)
        return EX_USAGE
    except _InputError as exc:
        print(f"eforms: {exc}", file=sys.stderr)
        return exc.code
    except FormValidationError as exc:
        print(f"eforms: invalid data: {exc}", file=sys.stderr)
        return EX_INVALID
    except (AttachmentRefused, SignerMismatch) as exc:
        print(f"eforms: refused: {exc}", file=sys.stderr)
        return EX_INVALID
    except EsignUsageError as exc:
        print(f"eforms: {exc}", file=sys.stderr)
        return EX_USAGE
    except (EsignError, VerifyError) as exc:
        print(f"eforms: {type(exc).__name__}: {_in_lang(exc, lang)}", file=sys.stderr)
        return EX_INVALID
    except SubmissionError as exc:
        print(f"eforms: {exc}", file=sys.stderr)
        return EX_DATAERR
    except (DefinitionError, CatalogError) as exc:
        print(f"eforms: {exc}", file=sys.stderr)
        return EX_DATAERR
    except EformsError as exc:
        print(f"eforms: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EX_DATAERR
    except BrokenPipeError:  # output piped into `head` and closed early
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EX_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
