"""The ``esign`` command line.

    esign pdf IN.pdf OUT.pdf --p12 FILE [--level B-T] [--profile public] [--trust PEM]...
    esign detached FILE [--out FILE.p7s] --p12 FILE ...
    esign asic OUT.asice FILE... --p12 FILE [--level B-B|B-T|B-LT|B-LTA] [--tsa URL]
    esign asic OUT.asice IN.asice --archive [--tsa URL]   (B-LTA, or its renewal)
    esign asic OUT.asics IN.asics --archive [--tsa URL]   (an ASiC-S timestamp renewed)
    esign asic OUT.asics FILE --timestamp-only [--level B-T|B-LT] [--tsa URL]
    esign xml IN.xml OUT.xml --p12 FILE [--role seller|declarant] [--element DLHDon] ...
    esign xml IN_FOLDER OUT_FOLDER --p12 FILE ...       (every *.xml of the folder)
    esign identity CERT
    esign challenge issue [--ttl SECONDS]
    esign challenge verify CHALLENGE.json RESPONSE.p7s [--profile ...] [--trust ...]
    esign augment IN OUT --level B-T|B-LT|B-LTA [--tsa URL] [--field NAME] [--content FILE]
    esign renew FILE_OR_FOLDER... [--due-before DATE] [--tsa URL] [--state FILE]
                [--evidence DIR] [--workers N | --dask ADDRESS]

Key options (one of): ``--p12 FILE`` (password from ``--password-file``, the
``ESIGN_P12_PASSWORD`` environment variable, or empty), ``--key PEM --chain PEM``,
``--pkcs11-lib LIB --token LABEL --key-label LABEL [--pin-file FILE]`` (PIN also from
``ESIGN_PIN``), ``--csc-url URL --credential ID [--csc-token-file FILE]``.

``--trust`` and ``--revocation`` mean what they mean in ``verify``: extra anchors added to
the profile's bundled ones, and hard/soft/off revocation checking.

Errors print one line on stderr and exit non-zero (2: usage, 1: refused or failed);
refusals of ``augment`` and ``renew`` add a second line, in Vietnamese.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = [
    "add_key_options",
    "add_trust_options",
    "build_parser",
    "close_signer",
    "load_signer",
    "main",
    "trust_and_policy",
]


class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, no usage dump
        raise _ArgError(message)


def add_key_options(p: argparse.ArgumentParser) -> None:
    """Add the key options (``--p12``, ``--key``/``--chain``, ``--pkcs11-lib``, ``--csc-url``
    and their secrets) to ``p``; :func:`load_signer` reads them back."""
    g = p.add_argument_group("key")
    g.add_argument("--p12", metavar="FILE", help="PKCS#12 file")
    g.add_argument("--password-file", metavar="FILE", help="file holding the PKCS#12 password")
    g.add_argument("--key", metavar="PEM", help="PEM private key (with --chain)")
    g.add_argument("--chain", metavar="PEM", help="PEM certificate chain, signer first")
    g.add_argument("--pkcs11-lib", metavar="LIB", help="PKCS#11 module (.so)")
    g.add_argument("--token", metavar="LABEL", help="token label")
    g.add_argument("--key-label", metavar="LABEL", help="key (and certificate) label")
    g.add_argument("--pin-file", metavar="FILE", help="file holding the token PIN")
    g.add_argument("--csc-url", metavar="URL", help="CSC API service base URL")
    g.add_argument("--credential", metavar="ID", help="CSC credential ID")
    g.add_argument("--csc-token-file", metavar="FILE", help="file holding the CSC bearer token")
    g.add_argument("--csc-pin-file", metavar="FILE", help="file holding the CSC credential PIN")


def add_trust_options(p: argparse.ArgumentParser) -> None:
    """Add ``--profile``, ``--trust`` (repeatable) and ``--revocation`` to ``p``."""
    p.add_argument("--profile", default="public", choices=("public", "specialized", "any"))
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PEM_OR_DIR",
        help="extra trust anchors (repeatable)",
    )
    p.add_argument("--revocation", default="hard", choices=("hard", "soft", "off"))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="esign",
        description="Create PAdES, CAdES and XMLDSig signatures under the public or specialized "
        "profile.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    pdf = sub.add_parser("pdf", help="sign a PDF (PAdES)")
    pdf.add_argument("input", metavar="IN.pdf")
    pdf.add_argument("output", metavar="OUT.pdf")
    pdf.add_argument("--level", default=None, choices=("B-B", "B-T", "B-LT", "B-LTA"))
    pdf.add_argument("--tsa", metavar="URL")
    pdf.add_argument("--visible", metavar="PAGE,x1,y1,x2,y2")
    pdf.add_argument("--certify", action="store_true", help="certification (DocMDP) signature")
    pdf.add_argument("--field", metavar="NAME", help="signature field name")
    add_trust_options(pdf)
    add_key_options(pdf)

    det = sub.add_parser("detached", help="detached CAdES signature over any file")
    det.add_argument("input", metavar="FILE")
    det.add_argument("--out", metavar="FILE.p7s")
    det.add_argument("--level", default=None, choices=("B-B", "B-T"))
    det.add_argument("--tsa", metavar="URL")
    add_trust_options(det)
    add_key_options(det)

    asic = sub.add_parser(
        "asic",
        help="an ASiC container: files signed together (ASiC-E), or one file timestamped "
        "(ASiC-S, --timestamp-only)",
    )
    asic.add_argument("output", metavar="OUT.asice")
    asic.add_argument("inputs", metavar="FILE", nargs="+")
    asic.add_argument("--level", default=None, choices=("B-B", "B-T", "B-LT", "B-LTA"))
    asic.add_argument("--tsa", metavar="URL")
    asic.add_argument(
        "--timestamp-only",
        action="store_true",
        help="ASiC-S: one FILE with an RFC 3161 timestamp token over it, no signature (no key)",
    )
    asic.add_argument(
        "--archive",
        action="store_true",
        help="B-LTA for an existing container: FILE is an .asice with CAdES, or an .asics "
        "timestamped with --timestamp-only; a new archive manifest and timestamp over it "
        "all are added (renewal: the previous archive manifest is kept, renamed); no key",
    )
    add_trust_options(asic)
    add_key_options(asic)

    xml = sub.add_parser("xml", help="sign an e-invoice or tax declaration (XMLDSig)")
    xml.add_argument("input", metavar="IN", help="an XML file, or a folder of *.xml files")
    xml.add_argument("output", metavar="OUT", help="the signed file, or a folder for them")
    xml.add_argument(
        "--role",
        choices=("seller", "declarant"),
        help="seller: HDon, DLHDon signed into DSCKS/NBan; declarant: HSoThueDTu, into "
        "CKyDTu (default: the one the document is)",
    )
    xml.add_argument("--element", metavar="NAME", help="the element to sign (it has an Id)")
    add_trust_options(xml)
    add_key_options(xml)

    ident = sub.add_parser("identity", help="print the signer identity in a certificate")
    ident.add_argument("cert", metavar="CERT")

    ch = sub.add_parser("challenge", help="sign-in by certificate, for scripts")
    chs = ch.add_subparsers(dest="action", required=True, parser_class=_Parser)
    issue = chs.add_parser("issue", help="print a new challenge as JSON")
    issue.add_argument("--ttl", type=float, default=120.0)
    ver = chs.add_parser("verify", help="check a signed challenge; print the identity")
    ver.add_argument("challenge", metavar="CHALLENGE.json")
    ver.add_argument("response", metavar="RESPONSE")
    add_trust_options(ver)

    aug = sub.add_parser(
        "augment",
        help="bring existing PAdES/CAdES signatures (also in ASiC containers) up to B-T, "
        "B-LT or B-LTA",
    )
    aug.add_argument(
        "input", metavar="IN", help="a signed PDF, .p7s or .p7m, or an .asice/.asics container"
    )
    aug.add_argument("output", metavar="OUT", help="the augmented file (may be IN)")
    aug.add_argument("--level", required=True, choices=("B-T", "B-LT", "B-LTA"))
    aug.add_argument("--tsa", metavar="URL")
    aug.add_argument("--field", metavar="NAME", help="PDF: only this signature field")
    aug.add_argument(
        "--content", metavar="FILE", help=".p7s: the signed content (default: IN without .p7s)"
    )
    add_trust_options(aug)

    ren = sub.add_parser(
        "renew", help="renew archive/document timestamps that lapse before a date (in place)"
    )
    ren.add_argument("paths", metavar="FILE_OR_FOLDER", nargs="+")
    ren.add_argument(
        "--due-before",
        metavar="DATE",
        help="renew what lapses before this date (ISO; a date alone is 00:00 Vietnam time; "
        "default: a year from now)",
    )
    ren.add_argument("--tsa", metavar="URL")
    ren.add_argument(
        "--state", metavar="FILE", help="record each outcome (JSON lines); skip what it records"
    )
    ren.add_argument(
        "--evidence",
        metavar="DIR",
        help="keep what the validation before each renewal rested on in DIR/<sha256>/ "
        "(as verify --evidence; replay with verify --offline --evidence-in DIR)",
    )
    where = ren.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="renew in N processes of this machine (default: 1)",
    )
    where.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="renew on a Dask cluster: the scheduler's address (tcp://host:8786); the "
        "documents and the evidence folder must be on a filesystem the workers see at the "
        "same paths",
    )
    add_trust_options(ren)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _read_secret(path: str | None, env: str) -> str | None:
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            from esign.errors import UsageError

            raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return os.environ.get(env)


def load_signer(args: argparse.Namespace) -> Any:
    """The signer the key options in ``args`` name (see :func:`add_key_options`).

    Raises :class:`~esign.errors.UsageError` for a missing or conflicting choice and
    :class:`~esign.errors.KeySourceError` when the key cannot be loaded. Close a token
    session with :func:`close_signer`.
    """
    import esign
    from esign.errors import UsageError

    chosen = [
        n
        for n, v in (
            ("--p12", args.p12),
            ("--key", args.key),
            ("--pkcs11-lib", args.pkcs11_lib),
            ("--csc-url", args.csc_url),
        )
        if v
    ]
    if len(chosen) != 1:
        raise UsageError("give exactly one key: --p12, --key/--chain, --pkcs11-lib or --csc-url")
    if args.p12:
        return esign.from_pkcs12(
            args.p12, _read_secret(args.password_file, "ESIGN_P12_PASSWORD") or ""
        )
    if args.key:
        if not args.chain:
            raise UsageError("--key needs --chain")
        return esign.from_pem(
            args.key, args.chain, _read_secret(args.password_file, "ESIGN_KEY_PASSWORD")
        )
    if args.pkcs11_lib:
        if not (args.token and args.key_label):
            raise UsageError("--pkcs11-lib needs --token and --key-label")
        return esign.from_pkcs11(
            args.pkcs11_lib, args.token, args.key_label, _read_secret(args.pin_file, "ESIGN_PIN")
        )
    if not args.credential:
        raise UsageError("--csc-url needs --credential")
    return esign.from_csc(
        args.csc_url,
        args.credential,
        token=_read_secret(args.csc_token_file, "ESIGN_CSC_TOKEN"),
        pin=_read_secret(args.csc_pin_file, "ESIGN_CSC_PIN"),
    )


def trust_and_policy(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """``(SignatureProfile, TrustProfile, ValidationPolicy)`` from :func:`add_trust_options`."""
    import esign
    from verify import TrustProfile, ValidationPolicy

    profile = esign.profile_named(args.profile)
    trust = profile.trust_profile()
    if args.trust:
        hierarchy = profile.hierarchy
        trust = trust.with_extra_anchors(args.trust, hierarchy=hierarchy)
    policy = ValidationPolicy(revocation=args.revocation)
    assert isinstance(trust, TrustProfile)
    return profile, trust, policy


def close_signer(signer: Any) -> None:
    """Close a PKCS#11 session the signer holds (a no-op for other key sources)."""
    session = getattr(signer, "pkcs11_session", None)
    if session is not None:
        session.close()


def _cmd_pdf(args: argparse.Namespace) -> int:
    import esign

    profile, trust, policy = trust_and_policy(args)
    visible = esign.VisibleStamp.parse(args.visible) if args.visible else None
    if not Path(args.input).is_file():
        raise esign.InputError(f"{args.input}: no such file")
    signer = load_signer(args)
    try:
        result = esign.sign_pdf(
            args.input,
            args.output,
            signer,
            profile=profile,
            level=args.level,
            trust=trust,
            policy=policy,
            tsa_url=args.tsa,
            visible=visible,
            certify=args.certify,
            field_name=args.field,
        )
    finally:
        close_signer(signer)
    print(
        f"{result.output}: PAdES-{result.level} signed by {result.signer.name} "
        f"({result.profile} profile), field {result.field_name}"
    )
    return 0


def _cmd_detached(args: argparse.Namespace) -> int:
    import esign

    profile, trust, policy = trust_and_policy(args)
    if not Path(args.input).is_file():
        raise esign.InputError(f"{args.input}: no such file")
    out = args.out or esign.default_signature_path(args.input)
    signer = load_signer(args)
    try:
        result = esign.sign_detached(
            args.input,
            out,
            signer,
            profile=profile,
            level=args.level,
            trust=trust,
            policy=policy,
            tsa_url=args.tsa,
        )
    finally:
        close_signer(signer)
    print(
        f"{result.output}: CAdES-{result.level} signed by {result.signer.name} "
        f"({result.profile} profile)"
    )
    return 0


def _cmd_asic(args: argparse.Namespace) -> int:
    import esign
    from esign.errors import UsageError

    profile, trust, policy = trust_and_policy(args)
    for name in args.inputs:
        if not Path(name).is_file():
            raise esign.InputError(f"{name}: no such file")
    if args.archive:
        if len(args.inputs) != 1 or args.timestamp_only:
            raise UsageError("--archive adds to one ASiC container: give one FILE")
        from esign.asic import archive_asic

        archived = archive_asic(
            args.inputs[0],
            args.output,
            profile=profile,
            trust=trust,
            policy=policy,
            tsa_url=args.tsa,
        )
        renamed = "".join(f"; {old} renamed {new}" for old, new in archived.renamed)
        renamed += "".join(
            f"; {name} given its TSA's validation data" for name in archived.extended
        )
        print(
            f"{archived.output}: {archived.container} B-LTA, {archived.manifest} timestamped "
            f"in {archived.timestamp}{renamed}"
        )
        return 0
    if args.timestamp_only:
        if len(args.inputs) != 1:
            raise UsageError("--timestamp-only makes an ASiC-S container: give one FILE")
        stamped = esign.timestamp_asic_s(
            args.inputs[0],
            args.output,
            profile=profile,
            level=args.level,
            trust=trust,
            policy=policy,
            tsa_url=args.tsa,
        )
        print(
            f"{stamped.output}: ASiC-S, {stamped.name} timestamped "
            f"{stamped.time.isoformat()} by {stamped.tsa} ({stamped.level})"
        )
        return 0
    signer = load_signer(args)
    try:
        result = esign.sign_asic(
            args.inputs,
            args.output,
            signer,
            profile=profile,
            level=args.level,
            trust=trust,
            policy=policy,
            tsa_url=args.tsa,
        )
    finally:
        close_signer(signer)
    print(
        f"{result.output}: ASiC-E with CAdES-{result.level} over {len(args.inputs)} file(s), "
        f"signed by {result.signer.name} ({result.profile} profile)"
    )
    return 0


def _cmd_xml(args: argparse.Namespace) -> int:
    import esign
    from esign._core import atomic_output
    from esign.errors import InputError, UsageError

    profile, trust, policy = trust_and_policy(args)
    source, target = Path(args.input), Path(args.output)
    folder = source.is_dir()
    if folder:
        inputs = sorted(p for p in source.iterdir() if p.suffix.lower() == ".xml" and p.is_file())
        if target.exists() and not target.is_dir():
            raise UsageError(f"{target}: IN is a folder, so OUT must be a folder too")
        if target.resolve() == source.resolve():
            raise UsageError("OUT must be another folder than IN (the inputs are kept)")
    elif source.is_file():
        inputs = [source]
        if target.is_dir():
            target = target / source.name
    else:
        raise InputError(f"{args.input}: no such file or folder")
    signer = load_signer(args)
    signed = failed = 0
    try:
        results = esign.sign_xml_many(
            inputs,
            signer,
            role=args.role,
            element=args.element,
            profile=profile,
            trust=trust,
            policy=policy,
        )
        with contextlib.closing(results):
            for result in results:
                if result.error is not None or result.data is None:
                    if not folder:
                        raise result.error or InputError(f"{result.source}: not signed")
                    failed += 1
                    print(
                        f"esign: {result.source}: {type(result.error).__name__}: {result.error}",
                        file=sys.stderr,
                    )
                    continue
                dest = target / Path(result.source).name if folder else target
                if folder and not target.exists():
                    target.mkdir(parents=True)
                with atomic_output(dest) as (out, _path):
                    out.write(result.data)
                signed += 1
                if not folder:
                    print(
                        f"{dest}: XMLDSig signed by {result.signer.name} ({args.profile} profile)"
                    )
    finally:
        close_signer(signer)
    if folder:
        print(f"{target}: {signed} of {len(inputs)} documents signed, {failed} refused")
    return 1 if failed else 0


def _cmd_identity(args: argparse.Namespace) -> int:
    from esign.errors import InputError
    from verify import SignerIdentity, load_certificates
    from verify.errors import VerifyError

    try:
        certs = load_certificates(args.cert)
    except VerifyError as exc:
        raise InputError(str(exc)) from exc
    identity = SignerIdentity.from_certificate(certs[0])
    print(json.dumps(identity.to_dict(), ensure_ascii=False, indent=2, sort_keys=True, default=str))
    return 0


def _cmd_challenge(args: argparse.Namespace) -> int:
    import esign
    from esign.errors import InputError

    if args.action == "issue":
        ch = esign.issue_challenge(args.ttl)
        data = {
            **ch.to_dict(),
            "nonce": base64.b64encode(ch.nonce).decode(),
            "issued_at": ch.issued_at.isoformat(),
            "audience": ch.audience,
        }
        print(json.dumps(data, sort_keys=True))
        return 0
    try:
        raw = json.loads(Path(args.challenge).read_text(encoding="utf-8"))
        ch = esign.Challenge(
            id=raw["id"],
            nonce=base64.b64decode(raw["nonce"]),
            issued_at=datetime.fromisoformat(raw["issued_at"]),
            expires_at=datetime.fromisoformat(raw["expires_at"]),
            audience=raw.get("audience", "hoso"),
        )
        response = Path(args.response).read_bytes()
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"cannot read the challenge or response: {exc}") from exc
    profile, trust, policy = trust_and_policy(args)
    # A script checks one response per call: the replay guard is the caller's (one-shot store).
    store = esign.MemoryChallengeStore()
    store.add(ch)
    identity = esign.verify_challenge_response(
        ch, response, profile=profile, trust=trust, policy=policy, store=store
    )
    print(json.dumps(identity.to_dict(), ensure_ascii=False, sort_keys=True, default=str))
    return 0


def _cmd_augment(args: argparse.Namespace) -> int:
    import esign

    profile, trust, policy = trust_and_policy(args)
    source = Path(args.input)
    if not source.is_file():
        raise esign.InputError(f"{args.input}: no such file")
    content = args.content
    if content is None and source.suffix.lower() == ".p7s" and source.with_suffix("").is_file():
        content = source.with_suffix("")
    result = esign.augment(
        source,
        args.output,
        level=args.level,
        content=content,
        tsa_url=args.tsa,
        field=args.field,
        profile=profile,
        trust=trust,
        policy=policy,
    )
    added = "; ".join(result.added) or "nothing (everything was already there)"
    print(
        f"{result.output}: {', '.join(result.signatures)} augmented to {result.level} "
        f"({result.format}); added: {added}"
    )
    return 0


def _due_date(text: str | None) -> datetime:
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    from esign.errors import UsageError

    if text is None:
        return datetime.now(UTC) + timedelta(days=365)
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--due-before wants an ISO date or time; got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    return when


def _cmd_renew(args: argparse.Namespace) -> int:
    import time

    import esign
    from esign.renew import STATUSES

    profile, trust, policy = trust_and_policy(args)
    due_before = _due_date(args.due_before)
    started = time.perf_counter()

    def progress(done: int, total: int, outcome: Any) -> None:
        print(
            f"esign renew: [{done}/{total}] {outcome.path}: {outcome.status}: {outcome.message_en}",
            file=sys.stderr,
            flush=True,
        )

    client = executor = None
    if args.dask is not None:
        client, executor = _dask_executor(args.dask)
    try:
        outcomes = esign.renew(
            args.paths,
            due_before=due_before,
            tsa_url=args.tsa,
            profile=profile,
            trust=trust,
            policy=policy,
            state=args.state,
            progress=progress,
            evidence=args.evidence,
            workers=args.workers or 1,
            executor=executor,
        )
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
    counts = {s: sum(o.status == s for o in outcomes) for s in STATUSES}
    print(
        f"{len(outcomes)} documents due before {due_before:%Y-%m-%d} checked in "
        f"{time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items())
    )
    if args.evidence and counts["renewed"]:
        print(f"esign renew: evidence kept in {args.evidence}", file=sys.stderr)
    return 1 if counts["refused"] or counts["failed"] else 0


def _dask_executor(address: str) -> tuple[Any, Any]:
    """A Dask client for ``address`` and its executor; a usage error saying why not."""
    from esign.errors import UsageError

    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            "--dask needs the 'distributed' package (pip install hoso[dask]) / "
            "--dask cần gói 'distributed'"
        ) from None
    try:
        client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except Exception as exc:  # noqa: BLE001 - any connection failure is one line
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise UsageError(
            f"--dask: cannot reach the scheduler at {address}: {text} / "
            f"không kết nối được bộ điều phối Dask tại {address}"
        ) from None
    return client, client.get_executor()  # type: ignore[no-untyped-call]


def main(argv: list[str] | None = None) -> int:
    from esign.errors import EsignError, UsageError
    from verify.errors import VerifyError

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        handler = {
            "pdf": _cmd_pdf,
            "detached": _cmd_detached,
            "asic": _cmd_asic,
            "xml": _cmd_xml,
            "identity": _cmd_identity,
            "challenge": _cmd_challenge,
            "augment": _cmd_augment,
            "renew": _cmd_renew,
        }[args.command]
        return handler(args)
    except _ArgError as exc:
        print(f"esign: error: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"esign: error: {exc}", file=sys.stderr)
        return 2
    except (EsignError, VerifyError) as exc:
        # one line: the reason in English, then in Vietnamese when it has its own text
        line = " ".join(str(exc).split())
        vi = " ".join(str(getattr(exc, "message_vi", "") or "").split())
        if vi and vi not in line:
            line = f"{line} / {vi}"
        print(f"esign: {type(exc).__name__}: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("esign: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
