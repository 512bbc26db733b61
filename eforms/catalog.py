"""The procedure catalog: codes, names, levels, audiences, agencies, fees, documents, forms.

Bundled procedures live in ``eforms/data/procedures/<code>.json`` and their forms in
``eforms/data/forms/<form-id>.json``; a :class:`Catalog` can also be built from any folder
with the same layout. Legal references are data with effective dates, so a change of law is
a data change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from eforms.definition import FormDefinition, Localized, load_definition
from eforms.errors import CatalogError, DefinitionError
from eforms.text import fold

__all__ = [
    "AUDIENCES",
    "LEVELS",
    "Catalog",
    "Fee",
    "FormRef",
    "LegalReference",
    "Procedure",
    "RequiredDocument",
    "bundled_catalog",
]

LEVELS = ("full", "partial")
AUDIENCES = ("citizen", "organisation", "both")
DOCUMENT_KINDS = ("eform", "upload", "datastore")
AGENCY_LEVELS = ("central", "province", "commune")


@dataclass(frozen=True)
class Fee:
    amount_vnd: int
    description: Localized


@dataclass(frozen=True)
class RequiredDocument:
    """An e-form to fill, a file to upload, or a reference into the person's data store."""

    kind: str
    name: Localized
    form: str | None = None
    datastore_key: str | None = None


@dataclass(frozen=True)
class FormRef:
    id: str
    version: str


@dataclass(frozen=True)
class LegalReference:
    number: str
    title: str
    issued: date
    effective_from: date
    effective_to: date | None = None

    def in_force(self, on: date) -> bool:
        """True if this text applies on ``on``."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure of the national procedure database."""

    code: str
    name: Localized
    level: str
    audience: str
    topic: Localized
    agency: Localized
    agency_level: str
    processing_days: int
    processing_text: Localized
    fees: tuple[Fee, ...]
    documents: tuple[RequiredDocument, ...]
    forms: tuple[FormRef, ...]
    legal_basis: tuple[LegalReference, ...]
    keywords: tuple[str, ...] = ()

    def legal_basis_on(self, on: date) -> tuple[LegalReference, ...]:
        """The legal texts in force on ``on``."""
        return tuple(r for r in self.legal_basis if r.in_force(on))

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name.vi,
            "name_en": self.name.en,
            "level": self.level,
            "audience": self.audience,
            "topic": self.topic.vi,
            "agency": self.agency.vi,
            "agency_level": self.agency_level,
            "processing_days": self.processing_days,
            "fees_vnd": [f.amount_vnd for f in self.fees],
            "forms": [f"{f.id}@{f.version}" for f in self.forms],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], where: str = "") -> Procedure:
        try:
            proc = cls(
                code=raw["code"],
                name=Localized.from_json(raw["name"]),
                level=raw["level"],
                audience=raw["audience"],
                topic=Localized.from_json(raw["topic"]),
                agency=Localized.from_json(raw["agency"]),
                agency_level=raw["agencyLevel"],
                processing_days=int(raw["processingTime"]["days"]),
                processing_text=Localized.from_json(raw["processingTime"]["text"]),
                fees=tuple(
                    Fee(int(f["amountVnd"]), Localized.from_json(f["description"]))
                    for f in raw.get("fees", [])
                ),
                documents=tuple(
                    RequiredDocument(
                        d["kind"],
                        Localized.from_json(d["name"]),
                        d.get("form"),
                        d.get("datastoreKey"),
                    )
                    for d in raw.get("documents", [])
                ),
                forms=tuple(FormRef(f["id"], f["version"]) for f in raw.get("forms", [])),
                legal_basis=tuple(
                    LegalReference(
                        r["number"],
                        r["title"],
                        date.fromisoformat(r["issued"]),
                        date.fromisoformat(r["effectiveFrom"]),
                        date.fromisoformat(r["effectiveTo"]) if r.get("effectiveTo") else None,
                    )
                    for r in raw.get("legalBasis", [])
                ),
                keywords=tuple(raw.get("keywords", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CatalogError(f"{where}: malformed procedure ({exc!r})") from exc
        problems = [
            (proc.level, LEVELS), (proc.audience, AUDIENCES), (proc.agency_level, AGENCY_LEVELS)
        ] + [(d.kind, DOCUMENT_KINDS) for d in proc.documents]  # fmt: skip
        for value, allowed in problems:
            if value not in allowed:
                raise CatalogError(f"{where}: {value!r} is not one of {allowed}")
        return proc


class Catalog:
    """Procedures and their forms, from a folder with ``procedures/`` and ``forms/``."""

    def __init__(self, root: Path | Any) -> None:
        self.root = root
        self._procedures: dict[str, Procedure] = {}
        self._forms: dict[str, FormDefinition] = {}
        proc_dir = root / "procedures"
        for entry in sorted(proc_dir.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".json"):
                raw = json.loads(entry.read_text(encoding="utf-8"))
                proc = Procedure.from_json(raw, entry.name)
                self._procedures[proc.code] = proc

    def procedures(self) -> list[Procedure]:
        return list(self._procedures.values())

    def get(self, code: str) -> Procedure:
        try:
            return self._procedures[code]
        except KeyError:
            raise CatalogError(f"no procedure with code {code!r}") from None

    def search(
        self,
        text: str | None = None,
        *,
        audience: str | None = None,
        level: str | None = None,
        topic: str | None = None,
        agency: str | None = None,
        agency_level: str | None = None,
    ) -> list[Procedure]:
        """Filter procedures; text matches all words, ignoring case and diacritics."""
        out = []
        for p in self._procedures.values():
            if audience and not (p.audience == audience or p.audience == "both"):
                continue
            if level and p.level != level:
                continue
            if agency_level and p.agency_level != agency_level:
                continue
            if topic and fold(topic) not in fold(f"{p.topic.vi} {p.topic.en}"):
                continue
            if agency and fold(agency) not in fold(f"{p.agency.vi} {p.agency.en}"):
                continue
            if text:
                hay = fold(" ".join([p.code, p.name.vi, p.name.en, p.topic.vi, *p.keywords]))
                if not all(word in hay for word in fold(text).split()):
                    continue
            out.append(p)
        return out

    def form_ids(self) -> list[str]:
        forms = self.root / "forms"
        return sorted(e.name[:-5] for e in forms.iterdir() if e.name.endswith(".json"))

    def form(self, form_id: str, version: str | None = None) -> FormDefinition:
        """A bundled form by id (``id`` or ``id@version``)."""
        if "@" in form_id and version is None:
            form_id, version = form_id.split("@", 1)
        if form_id not in self._forms:
            if form_id not in self.form_ids():
                raise CatalogError(f"no form with id {form_id!r}")
            entry = self.root / "forms" / f"{form_id}.json"
            try:
                raw = json.loads(entry.read_text(encoding="utf-8"))
                self._forms[form_id] = load_definition(raw, name=f"forms/{form_id}.json")
            except DefinitionError:
                raise
            except (OSError, ValueError) as exc:
                raise CatalogError(f"form {form_id!r} cannot be read: {exc}") from exc
        form = self._forms[form_id]
        if version is not None and form.version != version:
            raise CatalogError(f"form {form_id!r} has version {form.version}, not {version}")
        return form

    def forms_of(self, code: str) -> list[FormDefinition]:
        return [self.form(f.id, f.version) for f in self.get(code).forms]

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self._procedures.values())


@cache
def bundled_catalog() -> Catalog:
    """The catalog shipped with hoso (twenty procedures and their forms)."""
    return Catalog(resources.files("eforms") / "data")
