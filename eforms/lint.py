"""Lint a form definition: what loads but would read badly or break quietly.

:func:`load_definition` refuses what cannot work (a broken schema, a scope naming nothing);
:func:`check_definition` finds what works but is wrong for the people who read the form:

- ``unlabelled-field``: a field with no label, neither the form's (``labels``) nor its
  shared definition's (``x-label``): it would show its JSON name;
- ``label-missing-en``: a label, UI group label or message without its English text;
- ``unnamed-provider``: a binding to a provider that nobody names (the form's
  ``providers``, or :data:`eforms.names.NAMES`): people would read "a connected
  registry"; ``unknown-provider`` when a list of known providers is given and it is not in
  it;
- ``unlabelled-enum``: an enum value without a label (``x-enum-labels``, a control's
  ``options.enumLabels``, ``oneOf`` titles, or the labels its bound provider gives), or
  with one in Vietnamese only (``enum-label-missing-en``); ``unknown-vocabulary`` for an
  ``x-enum-labels`` naming no registered vocabulary;
- ``unknown-reference``: a computed field or an ``expression`` check reading a ``var``
  that is not a field of the form.

:func:`load_definition` warns (:class:`~eforms.errors.DefinitionWarning`) for each;
``eforms check`` prints them and exits 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from eforms import pointers
from eforms.definition import BUILTIN_PROVIDERS, FormDefinition
from eforms.names import ENUM_LABELS_KEYWORD, NAMES, NameRegistry, enum_labels

__all__ = ["PROBLEM_CODES", "Problem", "check_definition"]

PROBLEM_CODES = (
    "unlabelled-field",
    "label-missing-en",
    "unnamed-provider",
    "unknown-provider",
    "unlabelled-enum",
    "enum-label-missing-en",
    "unknown-vocabulary",
    "unknown-reference",
)
_SCOPED = frozenset({"map", "filter", "reduce", "all", "some", "none"})


@dataclass(frozen=True)
class Problem:
    """One finding: where in the definition (JSON Pointer), what (``code``), and the sentence
    in English and Vietnamese."""

    location: str
    code: str
    message_en: str
    message_vi: str

    def message(self, lang: str = "en") -> str:
        return self.message_vi if lang == "vi" else self.message_en

    def to_json(self) -> dict[str, str]:
        return {
            "location": self.location,
            "code": self.code,
            "message_en": self.message_en,
            "message_vi": self.message_vi,
        }

    def __str__(self) -> str:
        return f"{self.location or '/'}: {self.code}: {self.message_en}"


def _fields(form: FormDefinition) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every data pointer the schema declares (list items without an index), with its schema."""
    seen: set[str] = set()

    def walk(pointer: str, depth: int) -> Iterator[tuple[str, Mapping[str, Any]]]:
        if depth > 16:
            return
        node = form.field_schema(pointer) if pointer else form.schema
        if not isinstance(node, Mapping):
            return
        if pointer and pointer not in seen:
            seen.add(pointer)
            yield pointer, node
        for name in _property_names(node, form, pointer):
            yield from walk(pointers.join([*pointers.split(pointer), name]), depth + 1)

    yield from walk("", 0)


def _property_names(node: Mapping[str, Any], form: FormDefinition, pointer: str) -> list[str]:
    names: list[str] = []
    stack: list[Any] = [node]
    hops = 0
    while stack and hops < 64:
        hops += 1
        current = stack.pop(0)
        if not isinstance(current, Mapping):
            continue
        props = current.get("properties")
        if isinstance(props, Mapping):
            names.extend(n for n in props if n not in names)
        items = current.get("items")
        if isinstance(items, Mapping):
            resolved = form.field_schema(pointers.join([*pointers.split(pointer), "0"]))
            stack.append(resolved if resolved is not None else items)
        for key in ("allOf", "anyOf", "oneOf"):
            value = current.get(key)
            if isinstance(value, list):
                stack.extend(value)
        for key in ("then", "else"):
            stack.append(current.get(key))
    return names


def _label_problems(form: FormDefinition) -> Iterator[Problem]:
    for pointer, _node in _fields(form):
        found = form.field_label(pointer)
        where = "/labels/" + pointers.join([pointer])[1:]
        if found is None:
            name = pointers.split(pointer)[-1]
            yield Problem(
                where,
                "unlabelled-field",
                f"field {pointer} has no label (labels, or x-label in its schema): people "
                f"would read its JSON name {name!r}",
                f"trường {pointer} chưa có nhãn (labels, hoặc x-label trong lược đồ): người "
                f"dùng sẽ thấy tên JSON {name!r}",
            )
        elif not found.label.en:
            yield Problem(
                where,
                "label-missing-en",
                f"the label of {pointer} has no English text",
                f"nhãn của {pointer} chưa có tiếng Anh",
            )
        elif found.help is not None and not found.help.en:
            yield Problem(
                where + "/help",
                "label-missing-en",
                f"the help text of {pointer} has no English text",
                f"hướng dẫn của {pointer} chưa có tiếng Anh",
            )


def _ui_problems(ui: Any, location: str = "/ui") -> Iterator[Problem]:
    if not isinstance(ui, Mapping):
        return
    for key in ("label", "text"):
        value = ui.get(key)
        if isinstance(value, str) and value.strip():
            yield Problem(
                f"{location}/{key}",
                "label-missing-en",
                f"the UI {key} {value[:40]!r} is one language only: give {{'vi', 'en'}}",
                f"{key} {value[:40]!r} của giao diện chỉ có một ngôn ngữ: hãy ghi {{'vi', 'en'}}",
            )
        elif isinstance(value, Mapping) and not value.get("en"):
            yield Problem(
                f"{location}/{key}",
                "label-missing-en",
                f"the UI {key} {str(value.get('vi', ''))[:40]!r} has no English text",
                f"{key} {str(value.get('vi', ''))[:40]!r} của giao diện chưa có tiếng Anh",
            )
    children = ui.get("elements")
    for i, child in enumerate(children if isinstance(children, list) else []):
        yield from _ui_problems(child, f"{location}/elements/{i}")


def _ui_enum_labels(ui: Any) -> dict[str, Mapping[str, Any]]:
    """Control scope (as a data pointer) -> its ``options.enumLabels``."""
    out: dict[str, Mapping[str, Any]] = {}
    stack = [ui]
    while stack:
        el = stack.pop()
        if not isinstance(el, Mapping):
            continue
        options = el.get("options")
        scope = el.get("scope")
        if isinstance(scope, str) and isinstance(options, Mapping):
            labels = options.get("enumLabels")
            if isinstance(labels, Mapping):
                out[pointers.scope_to_pointer(scope)] = labels
        children = el.get("elements")
        stack.extend(children if isinstance(children, list) else [])
    return out


def _enum_values(node: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """(values, {value text: title}) of an enum, a oneOf/anyOf of consts, or a list of them."""
    target = node
    items = node.get("items")
    if not isinstance(node.get("enum"), list) and isinstance(items, Mapping):
        target = items
    values: list[Any] = list(target["enum"]) if isinstance(target.get("enum"), list) else []
    titles: dict[str, Any] = {}
    for key in ("oneOf", "anyOf"):
        alts = target.get(key)
        for alt in alts if isinstance(alts, list) else []:
            if isinstance(alt, Mapping) and "const" in alt:
                if alt["const"] not in values:
                    values.append(alt["const"])
                titles[repr(alt["const"])] = alt.get("title")
    return values, titles


def _enum_problems(form: FormDefinition, names: NameRegistry) -> Iterator[Problem]:
    ui_labels = _ui_enum_labels(form.ui)
    for pointer, node in _fields(form):
        values, titles = _enum_values(node)
        if not values or all(isinstance(v, bool) for v in values):
            continue
        where = "/schema" + _schema_location(pointer)
        raw = node.get(ENUM_LABELS_KEYWORD)
        if raw is None and isinstance(node.get("items"), Mapping):
            raw = node["items"].get(ENUM_LABELS_KEYWORD)
        if isinstance(raw, str) and names.vocabulary(raw) is None:
            yield Problem(
                where + "/" + ENUM_LABELS_KEYWORD,
                "unknown-vocabulary",
                f"{pointer}: no vocabulary named {raw!r} is registered "
                "(eforms.register_vocabulary)",
                f"{pointer}: chưa đăng ký bộ nhãn nào tên {raw!r} (eforms.register_vocabulary)",
            )
        given = enum_labels(form, pointer, node, names)
        custom = ui_labels.get(pointer, {})
        bare: list[str] = []
        vi_only: list[str] = []
        for value in values:
            text = pointers.join([str(value)])[1:] if not isinstance(value, str) else value
            ui_label = custom.get(text) if isinstance(custom, Mapping) else None
            if ui_label is not None:
                if isinstance(ui_label, Mapping) and ui_label.get("en"):
                    continue
                vi_only.append(text)
                continue
            found = given.find(value) if given is not None else None
            if found is not None:
                if not found.en:
                    vi_only.append(text)
                continue
            if isinstance(titles.get(repr(value)), str):
                vi_only.append(text)  # a schema title is one language
                continue
            bare.append(text)
        if bare:
            shown = ", ".join(repr(v) for v in bare[:8])
            yield Problem(
                where,
                "unlabelled-enum",
                f"{pointer}: no label for {shown} (x-enum-labels, options.enumLabels, or the "
                "labels of the provider it is bound to); labels are never taken from a field's "
                "name",
                f"{pointer}: giá trị {shown} chưa có nhãn (x-enum-labels, options.enumLabels, "
                "hoặc nhãn do nguồn dữ liệu cung cấp); nhãn không bao giờ suy ra từ tên trường",
            )
        if vi_only:
            shown = ", ".join(repr(v) for v in vi_only[:8])
            yield Problem(
                where,
                "enum-label-missing-en",
                f"{pointer}: the labels of {shown} have no English text",
                f"{pointer}: nhãn của {shown} chưa có tiếng Anh",
            )


def _schema_location(pointer: str) -> str:
    """A data pointer as a place in the schema (``/a/b`` -> ``/properties/a/properties/b``)."""
    return "".join("/properties/" + pointers.join([p])[1:] for p in pointers.split(pointer))


def _provider_problems(
    form: FormDefinition, names: NameRegistry, known: Iterable[str] | None
) -> Iterator[Problem]:
    known_set = set(known) if known is not None else None
    reported: set[str] = set()
    for i, binding in enumerate(form.bindings):
        name = binding.provider
        if name in reported:
            continue
        if known_set is not None and name not in known_set:
            reported.add(name)
            yield Problem(
                f"/autofill/{i}",
                "unknown-provider",
                f"provider {name!r} is not among the known providers "
                f"({', '.join(sorted(known_set)) or 'none'})",
                f"nguồn dữ liệu {name!r} không có trong danh sách đã biết "
                f"({', '.join(sorted(known_set)) or 'không có'})",
            )
            continue
        if name in form.provider_names or names.provider(name) is not None:
            continue
        reported.add(name)
        builtin = name in BUILTIN_PROVIDERS
        yield Problem(
            f"/autofill/{i}",
            "unnamed-provider",
            f"provider {name!r} has no display name (the form's providers, or "
            "eforms.register_provider_name): people would read 'a connected registry'"
            + (" (a built-in provider lost its name)" if builtin else ""),
            f"nguồn dữ liệu {name!r} chưa có tên hiển thị (providers của biểu mẫu, hoặc "
            "eforms.register_provider_name): người dùng sẽ chỉ thấy 'cơ sở dữ liệu được kết nối'",
        )


def _vars(expr: Any, depth: int = 0) -> Iterator[str]:
    """The ``var`` paths an expression reads from the form data (not those inside
    map/filter/reduce, which read the current item)."""
    if depth > 64:
        return
    if isinstance(expr, list):
        for item in expr:
            yield from _vars(item, depth + 1)
    elif isinstance(expr, Mapping) and len(expr) == 1:
        ((op, args),) = expr.items()
        if op == "var":
            path = args[0] if isinstance(args, list) and args else args
            if isinstance(path, str) and path and not path.startswith("$"):
                yield path
            return
        if op in _SCOPED and isinstance(args, list) and args:
            yield from _vars(args[0], depth + 1)
            return
        yield from _vars(args, depth + 1)


def _reference_problems(form: FormDefinition) -> Iterator[Problem]:
    expressions: list[tuple[str, Any]] = [
        (f"/computed/{i}/expression", c.expression) for i, c in enumerate(form.computed)
    ]
    for i, check in enumerate(form.checks):
        if check.rule == "expression":
            expressions.append((f"/checks/{i}/expression", check.params.get("expression")))
    computed = {c.field for c in form.computed}
    for location, expr in expressions:
        for path in sorted(set(_vars(expr))):
            parts = [p for p in path.split(".") if p]
            pointer = pointers.join(parts)
            if pointer in computed or form.field_schema(pointer) is not None:
                continue
            yield Problem(
                location,
                "unknown-reference",
                f"the expression reads {path!r}, which is not a field of the form",
                f"biểu thức đọc {path!r}, không phải một trường của biểu mẫu",
            )


def check_definition(
    form: FormDefinition,
    *,
    known_providers: Iterable[str] | None = None,
    names: NameRegistry | None = None,
) -> list[Problem]:
    """Every :class:`Problem` of ``form`` (see the module's list), in definition order.

    ``known_providers`` (the names of a :class:`~eforms.ProviderRegistry`) makes a binding
    to another provider a problem; ``names`` is where display names and vocabularies are
    looked up (default :data:`eforms.names.NAMES`).
    """
    registry = names or NAMES
    found: list[Problem] = []
    found.extend(_label_problems(form))
    found.extend(_ui_problems(form.ui))
    found.extend(_provider_problems(form, registry, known_providers))
    found.extend(_enum_problems(form, registry))
    found.extend(_reference_problems(form))
    for i, check in enumerate(form.checks):
        message = check.params.get("message")
        if isinstance(message, Mapping) and not message.get("en"):
            found.append(
                Problem(
                    f"/checks/{i}/message",
                    "label-missing-en",
                    "the message of this check has no English text",
                    "thông báo của quy tắc này chưa có tiếng Anh",
                )
            )
    return found
