"""hoso dossiers: a folder made by ``eforms submit``, checked against its ``manifest.json``.

``eforms submit`` writes a dossier as a folder ``<dossier code>/`` holding the signed form
(PDF), the form data (JSON), the attachments (``attachments/...``, with their detached
signatures) and ``manifest.json``, which names the dossier (code, agency, procedure, form,
submission time, the declarant's signature) and lists every other file with its size and
SHA-256 (see :mod:`eforms.submission`).

:func:`read_manifest` recognises such a ``manifest.json`` (a JSON object with
``manifest_version``, ``dossier_code`` and ``parts``); :func:`check_dossier` compares the
folder with it and gives the dossier's own report, under the manifest's path:

- every listed file present with its SHA-256: TOTAL_PASSED;
- a listed file changed or missing: TOTAL_FAILED / MANIFEST_MISMATCH, naming each file;
- a listed file that cannot be read here: INDETERMINATE / FILE_UNREADABLE;
- a manifest that names itself a hoso manifest but cannot be used (no parts, a path that
  leaves the folder, a malformed digest): TOTAL_FAILED / FORMAT_FAILURE;
- files in the folder that the manifest does not list are named in a warning (they are
  verified on their own lines like any other file; the dossier's verdict is about the
  files it lists).

The report's ``format`` is ``dossier`` and its ``facts`` hold the dossier code, agency,
procedure, form, declarant, every listed part with its status, and the extra files. The
signatures inside the dossier (the form PDF, signed attachments) are checked on their own
lines, as every file is.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from verify.discover import walk
from verify.logs import get_logger
from verify.report import DocumentReport, Indication, SubIndication
from verify.special import file_facts

__all__ = [
    "MANIFEST_NAME",
    "Dossier",
    "Part",
    "check_dossier",
    "extra_files",
    "read_manifest",
]

MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""A ``manifest.json`` larger than this is not read as a dossier manifest."""

_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_log = get_logger("dossier")


@dataclass(frozen=True)
class Part:
    """One file the manifest lists."""

    path: str
    """Relative to the dossier folder, with ``/``."""
    role: str | None
    sha256: str
    size: int | None


@dataclass(frozen=True)
class Dossier:
    """What a hoso ``manifest.json`` says about its dossier."""

    folder: Path
    manifest: Path
    code: str
    agency: str | None
    procedure: str | None
    form_id: str | None
    form_version: str | None
    submitted_at: str | None
    declarant: str | None
    """The name of the person whose signature the manifest records (người kê khai)."""
    declarant_identifiers: tuple[str, ...]
    signature_level: str | None
    parts: tuple[Part, ...]
    problems: tuple[str, ...] = ()
    """Why the manifest cannot be used (English), if it cannot."""

    @property
    def listed(self) -> frozenset[str]:
        return frozenset(p.path for p in self.parts)

    def title_vi(self) -> str:
        return f"Hồ sơ {self.code} ({_who(self, 'thủ tục', 'người kê khai', 'không rõ')})"

    def title_en(self) -> str:
        return f"Dossier {self.code} ({_who(self, 'procedure', 'declarant', 'unknown')})"


def _who(d: Dossier, procedure: str, declarant: str, unknown: str) -> str:
    return f"{procedure} {d.procedure or unknown}, {declarant} {d.declarant or unknown}"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_manifest(path: str | os.PathLike[str]) -> Dossier | None:
    """The dossier ``path`` describes, or ``None`` when it is not a hoso manifest.

    A file named ``manifest.json`` holding a JSON object with ``manifest_version`` and
    ``dossier_code`` is one; if its ``parts`` cannot be used, the returned dossier's
    ``problems`` say why.
    """
    manifest = Path(path)
    if manifest.name != MANIFEST_NAME:
        return None
    try:
        if not manifest.is_file() or manifest.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        data = json.loads(manifest.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    code = _text(data.get("dossier_code"))
    if code is None or not isinstance(data.get("manifest_version"), int):
        return None
    form = _object(data.get("form"))
    signature = _object(data.get("signature"))
    signer = _object(signature.get("signer"))
    raw_ids = signer.get("identifiers")
    identifiers: list[Any] = raw_ids if isinstance(raw_ids, list) else []
    parts, problems = _parts(data.get("parts"))
    return Dossier(
        folder=manifest.parent,
        manifest=manifest,
        code=code,
        agency=_text(data.get("agency")),
        procedure=_text(data.get("procedure")),
        form_id=_text(form.get("id")),
        form_version=_text(form.get("version")),
        submitted_at=_text(data.get("submitted_at")),
        declarant=_text(signer.get("name")),
        declarant_identifiers=tuple(
            f"{i.get('scheme')}:{i.get('value')}"
            for i in identifiers
            if isinstance(i, dict) and _text(i.get("value"))
        ),
        signature_level=_text(signature.get("level")),
        parts=tuple(parts),
        problems=tuple(problems),
    )


def _parts(raw: object) -> tuple[list[Part], list[str]]:
    if not isinstance(raw, list) or not raw:
        return [], ["the manifest lists no parts"]
    parts: list[Part] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            problems.append(f"part {n} is not an object")
            continue
        rel = entry.get("path")
        sha = entry.get("sha256")
        size = entry.get("size")
        if not isinstance(rel, str) or not _safe_relative(rel):
            problems.append(f"part {n} has a path outside the dossier folder: {rel!r}")
            continue
        if not isinstance(sha, str) or not _SHA256_RE.fullmatch(sha):
            problems.append(f"part {rel!r} has no valid SHA-256")
            continue
        if rel in seen:
            problems.append(f"part {rel!r} is listed twice")
            continue
        seen.add(rel)
        parts.append(
            Part(
                path=rel,
                role=_text(entry.get("role")),
                sha256=sha,
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            )
        )
    return parts, problems


def _safe_relative(rel: str) -> bool:
    if not rel or "\\" in rel or "\x00" in rel:
        return False
    pure = PurePosixPath(rel)
    return not pure.is_absolute() and ".." not in pure.parts and rel != MANIFEST_NAME


def extra_files(dossier: Dossier, found: Iterable[Path] | None = None) -> list[Path]:
    """Files in the dossier's folder that its manifest does not list (``manifest.json``
    aside), in walk order: hidden entries are not looked at, as when verifying a folder.
    ``found``: the folder's files if already walked."""
    listed = dossier.listed
    files = found if found is not None else walk(dossier.folder)
    extra = []
    for file in files:
        try:
            rel = file.relative_to(dossier.folder)
        except ValueError:
            continue
        key = rel.as_posix()
        if key != MANIFEST_NAME and key not in listed:
            extra.append(file)
    return extra


@dataclass(frozen=True)
class _Finding:
    part: Part
    status: str  # ok | changed | missing | unreadable
    detail: str = ""


def _look(dossier: Dossier, part: Part) -> _Finding:
    target = dossier.folder.joinpath(*PurePosixPath(part.path).parts)
    try:
        if not target.exists() and not target.is_symlink():
            return _Finding(part, "missing")
        if not target.is_file():
            return _Finding(part, "unreadable", "not a regular file")
        with target.open("rb"):
            pass
    except OSError as exc:
        return _Finding(part, "unreadable", exc.strerror or type(exc).__name__)
    _size, sha = file_facts(target)
    if sha is None:
        return _Finding(part, "unreadable", "cannot be read")
    return _Finding(part, "ok" if sha == part.sha256 else "changed")


def check_dossier(
    dossier: Dossier, moment: datetime, *, extra: Iterable[Path] | None = None
) -> DocumentReport:
    """The dossier's report (see the module docs). ``extra``: the files not listed, if
    already known (else the folder is walked)."""
    extras = list(extra) if extra is not None else extra_files(dossier)
    extra_names = [p.relative_to(dossier.folder).as_posix() for p in extras]
    size, sha = file_facts(dossier.manifest)
    findings = [_look(dossier, part) for part in dossier.parts]
    _log.debug(
        "dossier %s (%s): %s; extra files: %s",
        dossier.code,
        dossier.manifest,
        ", ".join(f"{f.part.path} {f.status}" for f in findings) or "no parts",
        ", ".join(extra_names) or "none",
    )
    facts = _facts(dossier, findings, extra_names)
    warnings = tuple(f"not listed in {MANIFEST_NAME}: {name}" for name in extra_names)
    title_vi, title_en = dossier.title_vi(), dossier.title_en()
    extra_vi, extra_en = _extra_sentences(extra_names)

    def report(
        indication: Indication, sub: SubIndication | None, vi: str, en: str
    ) -> DocumentReport:
        return DocumentReport(
            path=os.fspath(dossier.manifest),
            size=size,
            sha256=sha,
            format="dossier",
            indication=indication,
            sub_indication=sub,
            message_vi=f"{title_vi}: {vi}{extra_vi}",
            message_en=f"{title_en}: {en}{extra_en}",
            validation_time=moment,
            warnings=warnings,
            facts=facts,
        )

    if dossier.problems:
        shown = "; ".join(dossier.problems[:3])
        return report(
            Indication.TOTAL_FAILED,
            SubIndication.FORMAT_FAILURE,
            f"bảng kê {MANIFEST_NAME} bị hỏng, không dùng được ({shown}).",
            f"its {MANIFEST_NAME} is damaged and cannot be used ({shown}).",
        )
    bad = [f for f in findings if f.status in ("changed", "missing")]
    if bad:
        vi = "; ".join(_finding_vi(f) for f in bad)
        en = "; ".join(_finding_en(f) for f in bad)
        return report(
            Indication.TOTAL_FAILED,
            SubIndication.MANIFEST_MISMATCH,
            f"không hợp lệ, thư mục không khớp với bảng kê {MANIFEST_NAME}: {vi}.",
            f"invalid, the folder does not match its {MANIFEST_NAME}: {en}.",
        )
    unreadable = [f for f in findings if f.status == "unreadable"]
    if unreadable:
        vi = "; ".join(f"không đọc được tệp “{f.part.path}” ({f.detail})" for f in unreadable)
        en = "; ".join(f"the file “{f.part.path}” cannot be read ({f.detail})" for f in unreadable)
        return report(
            Indication.INDETERMINATE,
            SubIndication.FILE_UNREADABLE,
            f"chưa xác định được: {vi}; đây là sự cố trên máy kiểm tra.",
            f"indeterminate: {en}; this is a problem on the checking machine.",
        )
    n = len(findings)
    return report(
        Indication.TOTAL_PASSED,
        None,
        f"cả {n} tệp trong bảng kê {MANIFEST_NAME} đều có mặt và đúng SHA-256.",
        f"all {n} files listed in {MANIFEST_NAME} are present with their SHA-256.",
    )


def _finding_vi(f: _Finding) -> str:
    if f.status == "missing":
        return f"tệp “{f.part.path}” bị thiếu"
    return f"tệp “{f.part.path}” đã bị thay đổi (SHA-256 khác)"


def _finding_en(f: _Finding) -> str:
    if f.status == "missing":
        return f"the file “{f.part.path}” is missing"
    return f"the file “{f.part.path}” was changed (its SHA-256 differs)"


def _extra_sentences(names: list[str]) -> tuple[str, str]:
    if not names:
        return "", ""
    shown = ", ".join(f"“{n}”" for n in names[:10]) + (", ..." if len(names) > 10 else "")
    return (
        f" Cảnh báo: {len(names)} tệp không có trong bảng kê: {shown}.",
        f" Warning: {len(names)} file{'' if len(names) == 1 else 's'} not in the manifest: "
        f"{shown}.",
    )


def _facts(dossier: Dossier, findings: list[_Finding], extra_names: list[str]) -> dict[str, Any]:
    parts: list[Mapping[str, Any]] = [
        {
            "path": f.part.path,
            "role": f.part.role,
            "size": f.part.size,
            "sha256": f.part.sha256,
            "status": f.status,
        }
        for f in findings
    ]
    return {
        "dossier_code": dossier.code,
        "agency": dossier.agency,
        "procedure": dossier.procedure,
        "form_id": dossier.form_id,
        "form_version": dossier.form_version,
        "submitted_at": dossier.submitted_at,
        "declarant": dossier.declarant,
        "declarant_identifiers": list(dossier.declarant_identifiers),
        "signature_level": dossier.signature_level,
        "parts": parts,
        "extra_files": extra_names,
    }
