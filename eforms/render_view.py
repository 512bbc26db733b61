"""The view model both renderers share: a form's UI schema and data turned into plain nodes.

Nothing here writes markup. :func:`build_view` walks the UI schema (or a layout made from
the JSON Schema when a definition has none), evaluates the rules (:mod:`eforms.rules`),
and for every control works out its label, help, widget, the value to put in the input,
the text to print on paper, its errors and where a prefilled value came from. Every value
from the data is untrusted: it is kept as text here and escaped by the templates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eforms import pointers
from eforms.definition import FormDefinition
from eforms.formats import admin_unit_name, commune_codes, format_display_date, province_codes
from eforms.names import NAMES, NameRegistry, enum_labels, provider_label
from eforms.provenance import FilledValue
from eforms.rules import ElementState, evaluate_rules
from eforms.validation import FieldError

__all__ = [
    "Cell",
    "FieldView",
    "Node",
    "Option",
    "View",
    "build_view",
]

_TEXT = {
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "choose": ("-- Chọn --", "-- Choose --"),
    "locked": ("Đã khóa", "Locked"),
    "from": ("Lấy từ", "From"),
    "prefilled": ("Điền sẵn từ", "Prefilled from"),
    "check": ("hãy kiểm tra và sửa nếu cần", "check it and correct it if needed"),
}
_MAX_TEXT = 2_000  # a value longer than this is cut on paper and in inputs (with an ellipsis)
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def _t(key: str, lang: str) -> str:
    vi, en = _TEXT[key]
    return en if lang == "en" else vi


@dataclass(frozen=True)
class Option:
    """One choice of a select or checkbox group."""

    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class Cell:
    """One input of a table row (arrays of objects)."""

    name: str
    id: str
    label: str
    value: str
    display: str


@dataclass(frozen=True)
class FieldView:
    """Everything a template needs to draw one control."""

    pointer: str
    id: str
    label: str
    help: str
    widget: str  # text, email, tel, date, number, select, checkbox, checkboxes, table
    json_type: str
    value: str
    display: str
    checked: bool = False
    options: tuple[Option, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    required: bool = False
    readonly: bool = False
    locked: bool = False
    fixed: bool = False  # readOnly in the schema (computed fields): never editable
    prefilled: bool = False
    provenance: str = ""
    errors: tuple[str, ...] = ()
    maxlength: int | None = None
    empty: bool = True

    @property
    def described_by(self) -> str:
        ids = []
        if self.help:
            ids.append(f"{self.id}-help")
        if self.provenance:
            ids.append(f"{self.id}-src")
        if self.errors:
            ids.append(f"{self.id}-err")
        return " ".join(ids)


@dataclass(frozen=True)
class Node:
    """A UI element: ``group`` (fieldset), ``row``, ``stack``, ``control`` or ``label``."""

    kind: str
    path: str
    label: str = ""
    children: tuple[Node, ...] = ()
    field: FieldView | None = None
    visible: bool = True
    enabled: bool = True
    rule: str = ""  # the rule as JSON for the optional script, "" when none
    number: int = 0  # position of a control on paper (1., 2., ...)


@dataclass(frozen=True)
class View:
    """The whole form, ready for a template."""

    root: Node
    errors: tuple[tuple[str, str, str], ...]  # (field id or "", label, message)
    fields: tuple[FieldView, ...] = field(default=())


def _label_text(raw: Any, lang: str) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, Mapping):
        text = raw.get("en") if lang == "en" and raw.get("en") else raw.get("vi", "")
        return str(text)
    return ""


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _as_text(value: Any) -> str:
    if value is None or value is pointers.MISSING:
        return ""
    if isinstance(value, str):
        return _clip(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    try:
        return _clip(json.dumps(value, ensure_ascii=False, sort_keys=True))
    except (TypeError, ValueError, RecursionError):
        return ""


def _show_date(value: Any) -> str:
    if isinstance(value, str) and len(value) == 10:
        try:
            return format_display_date(value)
        except ValueError:
            pass
    return _as_text(value)


def _group_digits(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _shown(value: Any, lang: str) -> str:
    """A value as people read it: yes/no for a boolean, a decimal comma in Vietnamese
    ("96,5", not "96.5"); anything else as :func:`_as_text` gives it."""
    if isinstance(value, bool):
        return _t("yes" if value else "no", lang)
    if isinstance(value, float) and lang != "en":
        return _as_text(value).replace(".", ",")
    return _as_text(value)


class _Builder:
    def __init__(
        self,
        form: FormDefinition,
        data: Any,
        prefilled: Mapping[str, FilledValue],
        errors: Sequence[FieldError],
        lang: str,
        naming: NameRegistry = NAMES,
    ) -> None:
        self.form = form
        self.naming = naming
        self.data = data
        self.prefilled = prefilled
        self.lang = lang
        self.states: dict[str, ElementState] = evaluate_rules(form, data)
        self.errors_by_pointer: dict[str, list[str]] = {}
        for e in errors:
            self.errors_by_pointer.setdefault(e.pointer, []).append(e.message(lang))
        self.used_ids: set[str] = set()
        self.fields: list[FieldView] = []
        self.number = 0
        self.locked_fields = {b.field for b in form.bindings if b.locked}

    # -- ids, labels, schema facts -------------------------------------------------------

    def make_id(self, pointer: str) -> str:
        base = "f-" + (_ID_UNSAFE.sub("-", pointer.strip("/")) or "root")
        candidate, n = base, 2
        while candidate in self.used_ids:
            candidate, n = f"{base}-{n}", n + 1
        self.used_ids.add(candidate)
        return candidate

    def label_of(self, pointer: str) -> str:
        found = self.form.label(pointer, self.lang)
        if found:
            return found
        sub = self.form.field_schema(pointer) or {}
        title = sub.get("title")
        if isinstance(title, str) and title:
            return title
        parts = pointers.split(pointer)
        return parts[-1] if parts else self.form.title.get(self.lang)

    def help_of(self, pointer: str) -> str:
        found = self.form.labels.get(pointer)
        return found.help.get(self.lang) if found and found.help else ""

    def is_required(self, pointer: str) -> bool:
        parts = pointers.split(pointer)
        if not parts:
            return False
        parent = self.form.field_schema(pointers.join(parts[:-1])) or {}
        required = parent.get("required")
        return isinstance(required, list) and parts[-1] in required

    def enum_options(
        self, pointer: str, schema: Mapping[str, Any], control: Mapping[str, Any]
    ) -> list[tuple[Any, str]]:
        values: list[Any] = []
        titles: dict[str, str] = {}
        if isinstance(schema.get("enum"), list):
            values = list(schema["enum"])
        for key in ("oneOf", "anyOf"):
            for alt in schema.get(key, ()) if isinstance(schema.get(key), list) else ():
                if isinstance(alt, Mapping) and "const" in alt:
                    if alt["const"] not in values:
                        values.append(alt["const"])
                    if isinstance(alt.get("title"), str):
                        titles[_as_text(alt["const"])] = alt["title"]
        given = enum_labels(self.form, pointer, schema, self.naming)
        options = control.get("options")
        custom = options.get("enumLabels") if isinstance(options, Mapping) else None
        out = []
        for v in values:
            text = titles.get(_as_text(v))
            if isinstance(custom, Mapping) and _as_text(v) in custom:
                text = _label_text(custom[_as_text(v)], self.lang)
            if not text and given is not None:
                found = given.find(v)
                text = found.get(self.lang) if found is not None else ""
            out.append((v, text or _as_text(v)))
        return out

    # -- the tree ---------------------------------------------------------------------------

    def element(self, el: Mapping[str, Any], path: str, depth: int) -> Node | None:
        if depth > 64:
            return None
        state = self.states.get(path, ElementState(path))
        rule = el.get("rule")
        rule_json = ""
        if isinstance(rule, Mapping) and isinstance(rule.get("condition"), Mapping):
            cond = rule["condition"]
            rule_json = json.dumps(
                {
                    "effect": rule.get("effect"),
                    "scope": pointers.scope_to_pointer(str(cond.get("scope", "#"))),
                    "schema": cond.get("schema", True),
                    "failWhenUndefined": bool(cond.get("failWhenUndefined", False)),
                },
                ensure_ascii=False,
                sort_keys=True,
            )
        kind = str(el.get("type"))
        if kind == "Control":
            scope = str(el.get("scope", "#"))
            pointer = pointers.scope_to_pointer(scope)
            sub = self.form.field_schema(pointer) or {}
            if sub.get("type") == "object" and isinstance(sub.get("properties"), Mapping):
                children = self.object_children(
                    pointer, sub, path, depth, state.visible, state.enabled
                )
                label = _label_text(el.get("label"), self.lang) or self.label_of(pointer)
                return Node(
                    "group",
                    path,
                    label,
                    tuple(children),
                    None,
                    state.visible,
                    state.enabled,
                    rule_json,
                )
            fv = self.control(pointer, sub, el, state)
            return Node(
                "control",
                path,
                fv.label,
                (),
                fv,
                state.visible,
                state.enabled,
                rule_json,
                self.next_number(state.visible),
            )
        if kind == "Label":
            text = _label_text(el.get("text"), self.lang) or _label_text(el.get("label"), self.lang)
            return Node("label", path, text, (), None, state.visible, state.enabled, rule_json)
        children = []
        raw_children = el.get("elements")
        for i, child in enumerate(raw_children if isinstance(raw_children, list) else []):
            if isinstance(child, Mapping):
                node = self.element(child, f"{path}/elements/{i}", depth + 1)
                if node is not None:
                    children.append(node)
        label = _label_text(el.get("label"), self.lang)
        node_kind = {"HorizontalLayout": "row", "Group": "group", "Section": "group"}.get(
            kind, "group" if label else "stack"
        )
        return Node(
            node_kind, path, label, tuple(children), None, state.visible, state.enabled, rule_json
        )

    def next_number(self, visible: bool) -> int:
        if not visible:
            return 0
        self.number += 1
        return self.number

    def object_children(
        self,
        pointer: str,
        schema: Mapping[str, Any],
        path: str,
        depth: int,
        visible: bool = True,
        enabled: bool = True,
    ) -> list[Node]:
        out: list[Node] = []
        props = schema.get("properties")
        for name in props if isinstance(props, Mapping) else {}:
            child_ptr = pointers.join([*pointers.split(pointer), name])
            sub = self.form.field_schema(child_ptr) or {}
            child_path = f"{path}/{_ID_UNSAFE.sub('-', name)}"
            if sub.get("type") == "object" and isinstance(sub.get("properties"), Mapping):
                if depth < 16:
                    kids = self.object_children(
                        child_ptr, sub, child_path, depth + 1, visible, enabled
                    )
                    label = self.label_of(child_ptr)
                    out.append(
                        Node("group", child_path, label, tuple(kids), None, visible, enabled)
                    )
                continue
            fv = self.control(child_ptr, sub, {}, ElementState(child_path, visible, enabled))
            out.append(
                Node(
                    "control",
                    child_path,
                    fv.label,
                    (),
                    fv,
                    visible,
                    enabled,
                    number=self.next_number(visible),
                )
            )
        return out

    def control(
        self,
        pointer: str,
        schema: Mapping[str, Any],
        el: Mapping[str, Any],
        state: ElementState,
    ) -> FieldView:
        value = pointers.get(self.data, pointer)
        label = _label_text(el.get("label"), self.lang) or self.label_of(pointer)
        filled = self.prefilled.get(pointer)
        locked = pointer in self.locked_fields and filled is not None and filled.locked
        provenance = ""
        if filled is not None:
            named = filled.source or provider_label(
                filled.provider, form=self.form, names=self.naming
            )
            source = named.get(self.lang)
            provenance = f"{_t('from', self.lang)} {source}"
            if not filled.locked:
                provenance += f", {_t('check', self.lang)}"
        readonly = locked or bool(schema.get("readOnly")) or not state.enabled
        json_type = schema.get("type") if isinstance(schema.get("type"), str) else "string"
        fmt = schema.get("format")
        common: dict[str, Any] = {
            "pointer": pointer,
            "id": self.make_id(pointer),
            "label": label,
            "help": self.help_of(pointer),
            "json_type": str(json_type),
            "required": self.is_required(pointer),
            "readonly": readonly,
            "locked": locked,
            "fixed": bool(schema.get("readOnly")),
            "prefilled": filled is not None and not filled.locked,
            "provenance": provenance,
            "errors": tuple(self.errors_by_pointer.get(pointer, ())),
            "empty": value is pointers.MISSING or value is None or value in ("", []),
        }
        max_length = schema.get("maxLength")
        if isinstance(max_length, int) and not isinstance(max_length, bool):
            common["maxlength"] = max_length

        enum = self.enum_options(pointer, schema, el)
        if json_type == "array":
            return self.array_control(pointer, schema, value, common)
        if enum:
            options = tuple(
                Option(_as_text(v), text, value is not pointers.MISSING and v == value)
                for v, text in enum
            )
            chosen = next((o.label for o in options if o.selected), _as_text(value))
            return FieldView(
                widget="select", value=_as_text(value), display=chosen, options=options, **common
            )
        if json_type == "boolean":
            checked = value is True
            shown = "" if common["empty"] else _t("yes" if checked else "no", self.lang)
            if not isinstance(value, bool) and not common["empty"]:
                shown = _as_text(value)
            return FieldView(
                widget="checkbox", value="true", display=shown, checked=checked, **common
            )
        if json_type in ("integer", "number"):
            shown = _shown(value, self.lang)
            if isinstance(value, int) and not isinstance(value, bool) and "đồng" in label:
                shown = _group_digits(value)
            return FieldView(widget="number", value=_as_text(value), display=shown, **common)
        if fmt == "date":
            return FieldView(
                widget="date", value=_show_date(value), display=_show_date(value), **common
            )
        if fmt == "vn-province":
            current = _as_text(value)
            options = tuple(
                Option(code, name, code == current)
                for code, name in sorted(province_codes().items(), key=lambda kv: kv[1])
            )
            name = admin_unit_name(current) if isinstance(value, str) else None
            return FieldView(
                widget="select", value=current, display=name or current, options=options, **common
            )
        if fmt == "vn-commune":
            current = _as_text(value)
            found = commune_codes().get(current) if isinstance(value, str) else None
            shown = found[0] if found else current
            help_text = common["help"] or ("" if found is None else found[0])
            common["help"] = help_text
            return FieldView(widget="text", value=current, display=shown, **common)
        widget = {"email": "email", "vn-mobile": "tel"}.get(str(fmt), "text")
        text = _as_text(value)
        return FieldView(widget=widget, value=text, display=text, **common)

    def array_control(
        self, pointer: str, schema: Mapping[str, Any], value: Any, common: dict[str, Any]
    ) -> FieldView:
        items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
        assert isinstance(items, Mapping)
        current = value if isinstance(value, list) else []
        item_enum = self.enum_options(pointer, items, {})
        if item_enum:
            options = tuple(Option(_as_text(v), text, v in current) for v, text in item_enum)
            known = {o.value for o in options}
            extra = [_as_text(v) for v in current if _as_text(v) not in known]
            shown = ", ".join([o.label for o in options if o.selected] + extra)
            return FieldView(
                widget="checkboxes", value="", display=shown, options=options, **common
            )
        nested = tuple(
            msg
            for ptr, msgs in self.errors_by_pointer.items()
            if ptr.startswith(pointer + "/")
            for msg in msgs
        )
        common = {**common, "errors": common["errors"] + nested}
        props = items.get("properties") if isinstance(items.get("properties"), Mapping) else None
        names = list(props) if isinstance(props, Mapping) else []
        columns = tuple(self.label_of(pointers.join([*pointers.split(pointer), n])) for n in names)
        if not names:
            columns = (common["label"],)
        max_items = schema.get("maxItems")
        limit = max_items if isinstance(max_items, int) and not isinstance(max_items, bool) else 50
        rows: list[tuple[Cell, ...]] = []
        count = min(len(current) + (0 if common["readonly"] else 1), max(limit, 1), 200)
        for index in range(count):
            item = current[index] if index < len(current) else pointers.MISSING
            cells = []
            for n, col in zip(names or [""], columns, strict=True):
                cell_ptr = pointers.join(
                    [*pointers.split(pointer), str(index)] + ([n] if n else [])
                )
                sub_schema = (props or {}).get(n, {}) if n else items
                raw = item.get(n, pointers.MISSING) if isinstance(item, dict) and n else item
                if n and not isinstance(item, dict) and item is not pointers.MISSING:
                    raw = item if n == names[0] else pointers.MISSING
                resolved = self.form.field_schema(cell_ptr) or sub_schema
                is_date = isinstance(resolved, Mapping) and resolved.get("format") == "date"
                shown = _show_date(raw) if is_date else _as_text(raw)
                display = shown if is_date else _shown(raw, self.lang)
                if isinstance(resolved, Mapping) and raw is not pointers.MISSING:
                    choices = self.enum_options(cell_ptr, resolved, {})
                    display = next((text for v, text in choices if v == raw), display)
                cells.append(Cell(cell_ptr, self.make_id(cell_ptr), col, shown, display))
            rows.append(tuple(cells))
        filled_rows = tuple(r for r in rows if any(c.value for c in r))
        return FieldView(
            widget="table",
            value="",
            display="",
            columns=columns,
            rows=tuple(rows),
            **{**common, "empty": not filled_rows},
        )


def _default_ui(form: FormDefinition) -> dict[str, Any]:
    """A vertical layout of the schema's top-level properties (objects become groups)."""
    props = form.schema.get("properties")
    elements = [
        {"type": "Control", "scope": f"#/properties/{pointers.join([name])[1:]}"}
        for name in (props if isinstance(props, Mapping) else {})
    ]
    return {"type": "VerticalLayout", "elements": elements}


def build_view(
    form: FormDefinition,
    data: Any,
    *,
    prefilled: Mapping[str, FilledValue] | None = None,
    errors: Sequence[FieldError] = (),
    lang: str = "vi",
    naming: NameRegistry = NAMES,
) -> View:
    """Turn ``form`` and ``data`` into a :class:`View` (rules applied, errors attached).

    ``naming`` gives the providers' display names and value labels (an
    :class:`~eforms.AutofillResult` carries the ones its providers gave)."""
    builder = _Builder(form, data, prefilled or {}, errors, lang, naming)
    ui = form.ui if form.ui is not None else _default_ui(form)
    if form.ui is None:
        builder.states = {}
    root = builder.element(ui, "", 0) or Node("stack", "")
    fields: list[FieldView] = []

    def collect(node: Node) -> None:
        if node.field is not None:
            fields.append(node.field)
        for child in node.children:
            collect(child)

    collect(root)
    ids = {f.pointer: (f.id, f.label) for f in fields}
    for f in fields:
        for row in f.rows:
            for cell in row:
                ids[cell.name] = (cell.id, cell.label)
    summary = []
    for e in errors:
        target_id, label = ids.get(e.pointer, ("", form.label(e.pointer, lang) or ""))
        summary.append((target_id, label, e.message(lang)))
    return View(root, tuple(summary), tuple(fields))
