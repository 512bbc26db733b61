"""Form definitions: JSON Schema 2020-12 + JSON Forms UI schema + labels + autofill.

A definition is plain JSON on disk (see ``eforms/data/forms/``); :func:`load_definition`
checks it against ``eforms/data/meta-schema.json`` and then checks what a meta-schema cannot:
that the data schema is itself valid, every ``pattern`` compiles, every ``$ref`` resolves in
the explicit registry (bundled schemas only: nothing is ever fetched), every UI scope, label,
binding, computed field and cross-field check names a real field, every autofill provider is
known and every expression only uses safe operations. The first problem found is raised as a
:class:`~eforms.errors.DefinitionError` whose ``location`` is a JSON Pointer into the file.

A plain JSON Schema file (no ``id``/``schema`` envelope) is accepted as a definition too.
"""

from __future__ import annotations

import importlib
import json
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import referencing
import referencing.exceptions
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing.jsonschema import DRAFT202012

from eforms import logic, pointers
from eforms.errors import DefinitionError, DefinitionWarning, LogicError
from eforms.formats import VN_FORMATS, format_checker
from eforms.text import nfc_tree

if TYPE_CHECKING:
    from referencing._core import Resolver  # the public package does not re-export it

__all__ = [
    "BUILTIN_PROVIDERS",
    "LABEL_KEYWORD",
    "MAX_DEFINITION_BYTES",
    "MAX_PATTERN_LENGTH",
    "AutofillBinding",
    "ComputedField",
    "CrossCheck",
    "FieldLabel",
    "FormDefinition",
    "Localized",
    "SignerBlock",
    "load_definition",
    "schema_registry",
]

MAX_DEFINITION_BYTES = 2_000_000
MAX_PATTERN_LENGTH = 1_000
_MAX_GROUP_REPEAT = 5  # a group holding "+"/"*" may repeat this often (polynomial cost)
"""Longest regular expression a definition may hold (``pattern``, ``patternProperties``)."""
#: Provider names a definition may bind to without registering anything first.
BUILTIN_PROVIDERS = frozenset({"population", "business", "insurance", "submissions"})
_LOCAL_BASE = "urn:hoso:form"


@dataclass(frozen=True)
class Localized:
    """A text in Vietnamese (required) and English (falls back to Vietnamese)."""

    vi: str
    en: str = ""

    def get(self, lang: str = "vi") -> str:
        return self.en if lang == "en" and self.en else self.vi

    @classmethod
    def from_json(cls, raw: Mapping[str, str]) -> Localized:
        return cls(vi=raw["vi"], en=raw.get("en", ""))


@dataclass(frozen=True)
class FieldLabel:
    """Label and optional help for one field (keyed by data pointer)."""

    label: Localized
    help: Localized | None = None


@dataclass(frozen=True)
class SignerBlock:
    """One signature block of the printed form: who signs (``role``, e.g. "Bên nữ") and the
    field holding the name printed under the signature line (``name``, a data pointer)."""

    role: Localized
    name: str | None = None


@dataclass(frozen=True)
class AutofillBinding:
    """``field`` is filled from ``provider``'s ``key``; ``locked`` values cannot be changed."""

    field: str
    provider: str
    key: str
    locked: bool = False


@dataclass(frozen=True)
class ComputedField:
    """``field`` is computed by a JSON Logic ``expression`` over the form data."""

    field: str
    expression: Any


@dataclass(frozen=True)
class CrossCheck:
    """A rule across fields: ``personal-id-consistent``, ``date-order`` or ``expression``."""

    rule: str
    params: Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class FormDefinition:
    """One version of one e-form. Build with :func:`load_definition`."""

    id: str
    version: str
    title: Localized
    schema: Mapping[str, Any]
    procedure: str | None = None
    ui: Mapping[str, Any] | None = None
    labels: Mapping[str, FieldLabel] = field(default_factory=dict)
    bindings: tuple[AutofillBinding, ...] = ()
    computed: tuple[ComputedField, ...] = ()
    checks: tuple[CrossCheck, ...] = ()
    template: str | None = None
    source: str = ""
    provider_names: Mapping[str, Localized] = field(default_factory=dict)
    """What the form calls the providers it binds to (``providers`` in the JSON)."""
    signers: tuple[SignerBlock, ...] = ()
    """The printed form's signature blocks, left to right (``signers`` in the JSON); none:
    one block for the declarant."""

    @property
    def key(self) -> str:
        """``id@version``."""
        return f"{self.id}@{self.version}"

    @cached_property
    def registry(self) -> referencing.Registry[Any]:
        """The only place ``$ref`` may resolve: this schema plus the bundled ones."""
        return schema_registry(self.schema)

    @cached_property
    def validator(self) -> Draft202012Validator:
        """A validator with our own FormatChecker and the explicit registry."""
        return Draft202012Validator(
            dict(self.schema), registry=self.registry, format_checker=format_checker()
        )

    @cached_property
    def field_order(self) -> Mapping[str, int]:
        """Data pointers (no array indexes) in the order the schema declares them."""
        order: dict[str, int] = {}

        def walk(node: Any, path: list[str], depth: int) -> None:
            if depth > 16 or not isinstance(node, Mapping):
                return
            if "$ref" in node:
                node = self.field_schema(pointers.join(path)) or {}
            props = node.get("properties")
            for name, sub in (props if isinstance(props, Mapping) else {}).items():
                order.setdefault(pointers.join([*path, name]), len(order))
                walk(sub, [*path, name], depth + 1)

        walk(self.schema, [], 0)
        return order

    def label(self, pointer: str, lang: str = "vi") -> str | None:
        """The label of the field at ``pointer`` (array indexes ignored), if any: the form's
        own (``labels``), else the one its shared definition carries (``x-label``)."""
        found = self.field_label(pointer)
        return found.label.get(lang) if found else None

    def field_label(self, pointer: str) -> FieldLabel | None:
        """The :class:`FieldLabel` of ``pointer``: the form's own, else its schema's
        ``x-label`` (every shared definition of ``common.json`` has one)."""
        found = self.labels.get(pointer) or self.labels.get(_strip_indexes(pointer))
        if found is not None:
            return found
        cache = self._schema_labels
        key = _strip_indexes(pointer)
        if key not in cache:
            sub = self.field_schema(key) if key else None
            cache[key] = _schema_label(sub)
        return cache[key]

    @cached_property
    def _schema_labels(self) -> dict[str, FieldLabel | None]:
        return {}

    def field_schema(self, pointer: str) -> Mapping[str, Any] | None:
        """The (resolved) subschema that governs the data at ``pointer``, if declared."""
        return _schema_at(self.schema, self.registry, pointers.split(pointer))


LABEL_KEYWORD = "x-label"
"""Schema keyword: a field's label in vi and en (``{"vi", "en"}``), used when the form gives
none; the shared definitions carry one, so a field built from them is never unlabelled."""


def _schema_label(sub: Mapping[str, Any] | None) -> FieldLabel | None:
    raw = sub.get(LABEL_KEYWORD) if isinstance(sub, Mapping) else None
    if isinstance(raw, Mapping) and isinstance(raw.get("vi"), str) and raw["vi"]:
        en = raw.get("en")
        return FieldLabel(Localized(raw["vi"], en if isinstance(en, str) else ""))
    return None


def _strip_indexes(pointer: str) -> str:
    return pointers.join(p for p in pointers.split(pointer) if not p.isdigit())


@cache
def _bundled_resources() -> tuple[tuple[str, Any], ...]:
    out: list[tuple[str, Any]] = []
    folder = resources.files("eforms") / "data" / "schemas"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            contents = json.loads(entry.read_text(encoding="utf-8"))
            out.append((contents["$id"], contents))
    return tuple(out)


def schema_registry(schema: Mapping[str, Any]) -> referencing.Registry[Any]:
    """A registry with the bundled schemas and ``schema`` itself; it never retrieves."""
    res = [(uri, DRAFT202012.create_resource(contents)) for uri, contents in _bundled_resources()]
    own = DRAFT202012.create_resource(dict(schema))
    res.append((str(schema.get("$id", _LOCAL_BASE)), own))
    return referencing.Registry().with_resources(res)


def _resolve_refs(
    node: Mapping[str, Any], resolver: Resolver[Any], depth: int = 0
) -> tuple[Mapping[str, Any], Resolver[Any]]:
    while "$ref" in node and depth < 32:
        resolved = resolver.lookup(node["$ref"])
        contents = resolved.contents
        if not isinstance(contents, Mapping):
            break
        node, resolver = contents, resolved.resolver
        depth += 1
    return node, resolver


def _schema_at(
    schema: Mapping[str, Any], registry: referencing.Registry[Any], parts: list[str]
) -> Mapping[str, Any] | None:
    resolver = registry.resolver(base_uri=str(schema.get("$id", _LOCAL_BASE)))
    return _walk(schema, resolver, parts, 0)


def _walk(
    node: Mapping[str, Any], resolver: Resolver[Any], parts: list[str], depth: int
) -> Mapping[str, Any] | None:
    if depth > 64:
        return None
    try:
        node, resolver = _resolve_refs(node, resolver)
    except referencing.exceptions.Unresolvable:
        return None
    if not parts:
        return node
    head, rest = parts[0], parts[1:]
    candidates: list[Mapping[str, Any]] = []
    props = node.get("properties")
    if isinstance(props, Mapping) and isinstance(props.get(head), Mapping):
        candidates.append(props[head])
    if head.isdigit() and isinstance(node.get("items"), Mapping):
        candidates.append(node["items"])
    for child in candidates:
        found = _walk(child, resolver, rest, depth + 1)
        if found is not None:
            return found
    if not head.isdigit() and isinstance(node.get("items"), Mapping):
        # labels name array item fields without an index: /trades/code
        found = _walk(node["items"], resolver, parts, depth + 1)
        if found is not None:
            return found
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key, ()) if isinstance(node.get(key), list) else ():
            if isinstance(sub, Mapping):
                found = _walk(sub, resolver, parts, depth + 1)
                if found is not None:
                    return found
    for key in ("then", "else"):
        sub = node.get(key)
        if isinstance(sub, Mapping):
            found = _walk(sub, resolver, parts, depth + 1)
            if found is not None:
                return found
    return None


def _scope_target(schema: Mapping[str, Any], scope: str) -> Any:
    return pointers.get(schema, scope[1:] if scope.startswith("#") else scope)


def _iter_schema(node: Any, path: list[str | int]) -> Iterator[tuple[list[str | int], Any]]:
    """Yield every subschema-bearing mapping with its path (keywords and all)."""
    if isinstance(node, Mapping):
        yield path, node
        for k, v in node.items():
            if k in ("enum", "const", "default", "examples", "x-enum-labels", "x-label"):
                continue
            yield from _iter_schema(v, [*path, k])
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _iter_schema(v, [*path, i])


def _read(source: str | Path) -> tuple[Any, str]:
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_DEFINITION_BYTES:
            raise DefinitionError(
                f"file is {size} bytes, more than {MAX_DEFINITION_BYTES}", source=str(path)
            )
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise DefinitionError("not UTF-8 text", source=str(path)) from exc
    try:
        return json.loads(raw), str(path)
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", source=str(path)
        ) from exc
    except RecursionError as exc:
        raise DefinitionError("JSON nested too deeply", source=str(path)) from exc


@cache
def _meta_validator() -> Draft202012Validator:
    text = (resources.files("eforms") / "data" / "meta-schema.json").read_text("utf-8")
    return Draft202012Validator(json.loads(text), format_checker=format_checker())


def _is_plain_schema(raw: Mapping[str, Any]) -> bool:
    return not ("schema" in raw and "id" in raw)


def load_definition(
    source: str | Path | Mapping[str, Any],
    *,
    known_providers: Iterable[str] | None = None,
    name: str | None = None,
    lint: bool = True,
) -> FormDefinition:
    """Load and check a form definition (or a plain JSON Schema) from a path or a mapping.

    ``known_providers``, when given, are the only autofill provider names bindings may use
    (a binding to another one is refused). By default any provider name is accepted:
    validating and rendering data never needs a provider; :func:`autofill` warns about a
    provider that is not registered when it runs. ``name`` is used in messages and as the
    id of a plain schema.

    A full definition is then linted (:func:`eforms.lint.check_definition`: unlabelled
    fields, unnamed providers, enum values without labels, unknown references) and each
    problem is a :class:`~eforms.errors.DefinitionWarning`; ``lint=False`` skips that. A
    plain JSON Schema is not linted (``eforms check`` lints it on request).
    """
    if isinstance(source, Mapping):
        raw: Any = source
        where = name or ""
    else:
        raw, where = _read(source)
        name = name or Path(source).stem
    try:
        raw = nfc_tree(raw)
    except ValueError as exc:
        raise DefinitionError(str(exc), source=where) from exc
    if not isinstance(raw, Mapping):
        raise DefinitionError("a definition is a JSON object", source=where)
    if _is_plain_schema(raw):
        plain_id = re.sub(r"[^a-z0-9-]+", "-", (name or "schema").lower()).strip("-") or "schema"
        raw = {
            "id": plain_id[:64].rjust(2, "x"),
            "version": "0",
            "title": {"vi": str(raw.get("title", plain_id)), "en": str(raw.get("title", ""))},
            "schema": raw,
        }
        prefix = ""
    else:
        prefix = "/schema"
    providers = None if known_providers is None else frozenset(known_providers)
    form = _build(raw, where, providers, prefix)
    if lint and prefix:
        from eforms.lint import check_definition

        for problem in check_definition(form):
            warnings.warn(DefinitionWarning(problem, where), stacklevel=2)
    return form


def _fail(message: str, location: str, where: str) -> DefinitionError:
    return DefinitionError(message, location=location, source=where)


def _build(
    raw: Mapping[str, Any], where: str, providers: frozenset[str] | None, prefix: str
) -> FormDefinition:
    meta_errors = sorted(_meta_validator().iter_errors(raw), key=lambda e: list(e.path))
    if meta_errors:
        err = min(meta_errors, key=lambda e: -len(e.path))
        raise _fail(_meta_message(err), pointers.join(err.path), where)
    schema: Mapping[str, Any] = raw["schema"]
    _check_schema(schema, where, prefix)
    registry = schema_registry(schema)

    def field_must_exist(pointer: str, location: str) -> None:
        if _schema_at(schema, registry, pointers.split(pointer)) is None:
            raise _fail(f"no field {pointer!r} in the schema", location, where)

    ui = raw.get("ui")
    if ui is not None:
        _check_ui(ui, schema, registry, where)
    labels: dict[str, FieldLabel] = {}
    for ptr, lab in raw.get("labels", {}).items():
        field_must_exist(ptr, "/labels/" + pointers.join([ptr])[1:])
        labels[ptr] = FieldLabel(
            label=Localized(vi=lab["vi"], en=lab.get("en", "")),
            help=Localized.from_json(lab["help"]) if "help" in lab else None,
        )
    bindings: list[AutofillBinding] = []
    for i, b in enumerate(raw.get("autofill", [])):
        field_must_exist(b["field"], f"/autofill/{i}/field")
        provider, _, key = b["source"].partition(".")
        if providers is not None and provider not in providers:
            known = ", ".join(sorted(providers)) or "none"
            raise _fail(f"unknown provider {provider!r} (known: {known})", f"/autofill/{i}", where)
        bindings.append(AutofillBinding(b["field"], provider, key, bool(b.get("locked", False))))
    computed: list[ComputedField] = []
    for i, c in enumerate(raw.get("computed", [])):
        field_must_exist(c["field"], f"/computed/{i}/field")
        _check_logic(c["expression"], f"/computed/{i}/expression", where)
        computed.append(ComputedField(c["field"], c["expression"]))
    checks: list[CrossCheck] = []
    for i, c in enumerate(raw.get("checks", [])):
        params = {k: v for k, v in c.items() if k != "rule"}
        for k in ("id", "birthDate", "sex", "earlier", "later", "field", "at"):
            if k in params:
                field_must_exist(params[k], f"/checks/{i}/{k}")
        if "expression" in params:
            _check_logic(params["expression"], f"/checks/{i}/expression", where)
        checks.append(CrossCheck(c["rule"], params))
    signers: list[SignerBlock] = []
    for i, sb in enumerate(raw.get("signers", [])):
        if "name" in sb:
            field_must_exist(sb["name"], f"/signers/{i}/name")
        signers.append(SignerBlock(Localized.from_json(sb["role"]), sb.get("name")))
    title = Localized.from_json(raw["title"])
    return FormDefinition(
        id=raw["id"],
        version=raw["version"],
        title=title,
        schema=schema,
        procedure=raw.get("procedure"),
        ui=ui,
        labels=labels,
        bindings=tuple(bindings),
        computed=tuple(computed),
        checks=tuple(checks),
        template=raw.get("template"),
        source=where,
        provider_names={
            name: Localized.from_json(text) for name, text in raw.get("providers", {}).items()
        },
        signers=tuple(signers),
    )


def _meta_message(err: Any) -> str:
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        return f"unknown key(s) {', '.join(map(repr, extra))}"
    if err.validator == "enum":
        return f"{err.instance!r} is not one of {err.validator_value!r}"
    if err.validator == "pattern":
        return f"{err.instance!r} does not match {err.validator_value!r}"
    if err.validator == "required":
        return str(err.message)
    return str(err.message)[:300]


def _check_logic(expr: Any, location: str, where: str) -> None:
    try:
        logic.check_expression(expr)
    except LogicError as exc:
        raise _fail(f"bad expression: {exc}", location, where) from exc


def _check_schema(schema: Mapping[str, Any], where: str, prefix: str) -> None:
    declared = schema.get("$schema")
    if declared not in (None, "https://json-schema.org/draft/2020-12/schema"):
        raise _fail("only JSON Schema 2020-12 is supported", f"{prefix}/$schema", where)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        loc = prefix + pointers.join(exc.path)
        raise _fail(f"invalid JSON Schema: {exc.message}", loc, where) from exc
    registry = schema_registry(schema)
    resolver = registry.resolver(base_uri=str(schema.get("$id", _LOCAL_BASE)))
    for path, node in _iter_schema(schema, []):
        loc = prefix + pointers.join(path)
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            _check_regex(pattern, loc + "/pattern", where)
        pattern_props = node.get("patternProperties")
        if isinstance(pattern_props, Mapping):
            for pat in pattern_props:
                _check_regex(pat, loc + "/patternProperties", where)
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt.startswith("vn-") and fmt not in VN_FORMATS:
            raise _fail(f"unknown format {fmt!r}", loc + "/format", where)
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                resolver.lookup(ref)
            except referencing.exceptions.Unresolvable as exc:
                raise _fail(
                    f"$ref {ref!r} does not resolve in the registry (nothing is fetched)",
                    loc + "/$ref",
                    where,
                ) from exc


def _check_regex(pattern: str, location: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise _fail(f"pattern {pattern!r} is not a valid regex: {exc}", location, where) from exc
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise _fail(
            f"pattern is {len(pattern)} characters, more than {MAX_PATTERN_LENGTH}",
            location,
            where,
        )
    if _nested_quantifier(pattern):
        raise _fail(
            f"pattern {pattern!r} repeats a group that itself repeats without bound: "
            "matching can take exponential time (catastrophic backtracking); "
            "rewrite it without an unbounded quantifier inside a repeated group",
            location,
            where,
        )


def _nested_quantifier(pattern: str) -> bool:
    """Does ``pattern`` repeat something that can match the same text in many ways?

    ``(a+)+``, ``(a*)*``, ``(\\w+\\s?)*``, ``(.*a){20}`` (a repeated group holding an
    unbounded quantifier) and ``(a|aa)+`` (an unbounded repeat of alternatives that may
    start alike) make Python's backtracking engine try exponentially many ways on a
    near-miss, and ``re`` cannot be interrupted: such patterns are refused when the
    definition is loaded. A group repeated a few times (``{0,2}``), or whose body has a
    bounded length (``(\\d{3}-)+``), is allowed.
    """
    parser: Any = importlib.import_module("re._parser")  # the parser ``re`` itself uses
    consts: Any = importlib.import_module("re._constants")
    repeats = (consts.MAX_REPEAT, consts.MIN_REPEAT, consts.POSSESSIVE_REPEAT)

    def children(op: Any, arg: Any) -> list[Any]:
        if op in repeats:
            return [arg[2]]
        if op is consts.SUBPATTERN:
            return [arg[-1]]
        if op is consts.BRANCH:
            return list(arg[1])
        if op in (consts.ASSERT, consts.ASSERT_NOT):
            return [arg[1]]
        return []

    def unbounded(items: Any) -> bool:
        for op, arg in items:
            if op in repeats and arg[1] == consts.MAXREPEAT:
                return True
            if any(unbounded(c) for c in children(op, arg)):
                return True
        return False

    def ambiguous_branch(items: Any) -> bool:
        for op, arg in items:
            if op is consts.BRANCH:
                firsts = [next(iter(alt)) if len(alt) else None for alt in arg[1]]
                literal = [f for f in firsts if f is not None and f[0] is consts.LITERAL]
                if len(literal) < len(firsts) or len({f[1] for f in literal}) < len(literal):
                    return True
            if any(ambiguous_branch(c) for c in children(op, arg)):
                return True
        return False

    def find(items: Any) -> bool:
        for op, arg in items:
            if op in repeats:
                _low, high, body = arg
                if high > _MAX_GROUP_REPEAT and unbounded(body):
                    return True
                if high == consts.MAXREPEAT and ambiguous_branch(body):
                    return True
            if any(find(c) for c in children(op, arg)):
                return True
        return False

    try:
        return find(parser.parse(pattern))
    except Exception:  # noqa: BLE001 - re.compile accepted it; only the analysis failed
        return False


def _check_ui(
    ui: Mapping[str, Any],
    schema: Mapping[str, Any],
    registry: referencing.Registry[Any],
    where: str,
) -> None:
    def visit(el: Mapping[str, Any], loc: str) -> None:
        scope = el.get("scope")
        if isinstance(scope, str) and _scope_target(schema, scope) is pointers.MISSING:
            target = pointers.scope_to_pointer(scope)
            if _schema_at(schema, registry, pointers.split(target)) is None:
                raise _fail(f"scope {scope!r} names nothing in the schema", loc + "/scope", where)
        rule = el.get("rule")
        if isinstance(rule, Mapping):
            cond = rule["condition"]
            cscope = cond["scope"]
            target = pointers.scope_to_pointer(cscope)
            if (
                _scope_target(schema, cscope) is pointers.MISSING
                and _schema_at(schema, registry, pointers.split(target)) is None
            ):
                raise _fail(
                    f"rule scope {cscope!r} names nothing in the schema",
                    loc + "/rule/condition/scope",
                    where,
                )
            try:
                Draft202012Validator.check_schema(cond["schema"])
            except SchemaError as exc:
                raise _fail(
                    f"bad rule condition: {exc.message}",
                    loc + "/rule/condition/schema" + pointers.join(exc.path),
                    where,
                ) from exc
        for i, child in enumerate(el.get("elements", [])):
            visit(child, f"{loc}/elements/{i}")

    visit(ui, "/ui")
