"""Validate filled data against a form: every error at once, most useful first.

:func:`validate` returns a :class:`ValidationReport`; it never raises for bad *data* (only
for a bad definition). Each :class:`FieldError` has a JSON Pointer to the field, a machine
``code`` and messages in Vietnamese and English. Besides JSON Schema it checks the form's
cross-field rules (personal ID digits vs birth date and sex, dates in order, expressions),
locked autofilled values and computed fields, and it returns the data normalised: Unicode
NFC everywhere, mobile numbers as ``0XXXXXXXXX``, computed fields filled in.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jsonschema.exceptions import ValidationError, best_match

from eforms import logic, pointers
from eforms.definition import FormDefinition, load_definition
from eforms.errors import FormValidationError, LogicError
from eforms.formats import format_display_date, normalize_mobile, parse_personal_id
from eforms.messages import TYPE_NAMES, render
from eforms.names import enum_labels, provider_label
from eforms.provenance import FilledValue
from eforms.text import nfc_tree

__all__ = [
    "MAX_NODES",
    "MAX_SUBMISSION_BYTES",
    "NOT_FUTURE",
    "FieldError",
    "ValidationReport",
    "age_on",
    "compute",
    "validate",
    "validate_json",
    "vn_today",
]

#: Largest number of JSON values (objects, arrays, scalars) accepted in one submission.
MAX_NODES = 50_000
#: Largest submission, as JSON text, that :func:`validate_json` parses.
MAX_SUBMISSION_BYTES = 5_000_000

_KEYWORD_CODES = {
    "minLength": "min-length",
    "maxLength": "max-length",
    "exclusiveMinimum": "exclusive-minimum",
    "exclusiveMaximum": "exclusive-maximum",
    "multipleOf": "multiple-of",
    "minItems": "min-items",
    "maxItems": "max-items",
    "uniqueItems": "unique-items",
    "minContains": "contains",
    "maxContains": "contains",
    "minProperties": "min-properties",
    "maxProperties": "max-properties",
    "additionalProperties": "unknown-field",
    "unevaluatedProperties": "unknown-field",
    "unevaluatedItems": "extra-items",
    "items": "extra-items",
    "prefixItems": "extra-items",
    "propertyNames": "property-name",
    "anyOf": "no-match",
    "oneOf": "no-match",
    "not": "not-allowed",
    "false": "forbidden",
    "dependentRequired": "dependent-required",
}

# Lower is more useful: what blocks the form first, typos next, then limits, then rules.
_RANK = {
    "too-large": 0,
    "required": 1,
    "type": 1,
    "locked": 2,
    "dependent-required": 2,
    "enum": 3,
    "const": 3,
    "pattern": 3,
    "personal-id-birth-year": 4,
    "personal-id-sex": 4,
    "date-order": 4,
    "date-order-or-equal": 4,
    "future-date": 4,
    "age-min": 4,
    "age-max": 4,
    "rule": 4,
    "computed": 5,
}
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_FORMAT_RANK = 3
_DEFAULT_RANK = 6


@dataclass(frozen=True)
class FieldError:
    """One problem: where (``pointer``), what (``code``), and what to tell the person."""

    pointer: str
    code: str
    message_vi: str
    message_en: str
    params: Mapping[str, str] = field(default_factory=dict)

    def message(self, lang: str = "vi") -> str:
        return self.message_en if lang == "en" else self.message_vi

    def to_json(self, lang: str = "vi") -> dict[str, str]:
        return {
            "pointer": self.pointer,
            "code": self.code,
            "message": self.message(lang),
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of :func:`validate`: ranked ``errors`` and the normalised ``data``."""

    form: str
    errors: tuple[FieldError, ...]
    data: Any
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_status(self) -> ValidationReport:
        """Raise :class:`~eforms.errors.FormValidationError` if there are errors."""
        if self.errors:
            raise FormValidationError(self.errors)
        return self

    def by_pointer(self) -> dict[str, list[FieldError]]:
        out: dict[str, list[FieldError]] = {}
        for e in self.errors:
            out.setdefault(e.pointer, []).append(e)
        return out


def _short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else repr(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Collector:
    def __init__(self, form: FormDefinition) -> None:
        self.form = form
        self.errors: list[FieldError] = []
        self.seen: set[tuple[str, str]] = set()

    def add(self, pointer: str, code: str, **params: str) -> None:
        if (pointer, code) in self.seen:
            return
        self.seen.add((pointer, code))
        label_vi = self.form.label(pointer, "vi")
        label_en = self.form.label(pointer, "en")
        vi, en = render(code, params, label_vi, label_en)
        self.errors.append(FieldError(pointer, code, vi, en, params))

    def add_custom(self, pointer: str, code: str, vi: str, en: str) -> None:
        if (pointer, code) not in self.seen:
            self.seen.add((pointer, code))
            self.errors.append(FieldError(pointer, code, vi, en or vi))


def _count_nodes(value: Any) -> int:
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_NODES:
            return count
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _value_names(
    form: FormDefinition, pointer: str, schema: Any, values: list[Any]
) -> tuple[str, str]:
    """The allowed values as people know them, in Vietnamese and in English: each value's
    label where the schema or the bound provider gives one (``Nam``, not ``M``), else the
    value itself."""
    labels = enum_labels(form, pointer, schema if isinstance(schema, Mapping) else None)
    vi: list[str] = []
    en: list[str] = []
    for v in values:
        found = labels.find(v) if labels is not None else None
        vi.append(_short(found.get("vi"), 30) if found else _short(v, 30))
        en.append(_short(found.get("en"), 30) if found else _short(v, 30))
    return ", ".join(vi), ", ".join(en)


def _leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    """anyOf/oneOf: report the most relevant sub-error, as jsonschema's best_match does."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = best_match(error.context)
        if best is not None:
            yield from _leaf_errors(best)
            return
    yield error


def _map_error(err: ValidationError, out: _Collector) -> None:
    kw = str(err.validator)
    value: Any = err.validator_value
    base = list(err.absolute_path)
    ptr = pointers.join(base)
    if kw == "required":
        inst = err.instance if isinstance(err.instance, dict) else {}
        for name in value:
            if name not in inst:
                out.add(pointers.join([*base, name]), "required")
        return
    if kw == "dependentRequired":
        inst = err.instance if isinstance(err.instance, dict) else {}
        for trigger, needed in value.items():
            if trigger in inst:
                trigger_ptr = pointers.join([*base, trigger])
                other = out.form.label(trigger_ptr) or trigger
                other_en = out.form.label(trigger_ptr, "en") or other
                for name in needed:
                    if name not in inst:
                        out.add(
                            pointers.join([*base, name]),
                            "dependent-required",
                            other=other,
                            other_en=other_en,
                        )
        return
    if kw in ("additionalProperties", "unevaluatedProperties") and isinstance(err.instance, dict):
        schema = err.schema if isinstance(err.schema, Mapping) else {}
        known = set(schema.get("properties", {}))
        for name in err.instance:
            if name not in known:
                out.add(pointers.join([*base, name]), "unknown-field", name=_short(name))
        return
    if kw == "type":
        expected = value if isinstance(value, list) else [value]
        vi = " hoặc ".join(TYPE_NAMES.get(t, (t, t))[0] for t in expected)
        en = " or ".join(TYPE_NAMES.get(t, (t, t))[1] for t in expected)
        out.add(ptr, "type", expected=vi, expected_en=en)
        return
    if kw == "format":
        out.add(ptr, f"format.{value}", value=_short(err.instance))
        return
    if kw == "enum":
        vi, en = _value_names(out.form, ptr, err.schema, list(value)[:12])
        out.add(ptr, "enum", value=_short(err.instance), allowed=vi, allowed_en=en)
        return
    if kw == "const":
        vi, en = _value_names(out.form, ptr, err.schema, [value])
        out.add(ptr, "const", expected=vi, expected_en=en)
        return
    if kw in ("minLength", "maxLength"):
        actual = str(len(err.instance)) if isinstance(err.instance, str) else "?"
        out.add(ptr, _KEYWORD_CODES[kw], limit=str(value), actual=actual)
        return
    if kw == "oneOf" and not err.context:
        out.add(ptr, "ambiguous")
        return
    if kw == "pattern":
        out.add(ptr, "pattern", value=_short(err.instance))
        return
    code = _KEYWORD_CODES.get(kw, kw if kw in ("minimum", "maximum", "contains") else "invalid")
    if err.schema is False:
        code = "unknown-field" if base else "forbidden"
        if base:
            out.add(ptr, code, name=_short(base[-1]))
            return
    out.add(ptr, code, limit=_short(value), value=_short(err.instance))


def compute(
    form: FormDefinition, data: Mapping[str, Any], *, today: date | None = None
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Evaluate the form's computed fields; returns (values by pointer, warnings)."""
    scope: dict[str, Any] = dict(data)
    if today is not None:
        scope["$today"] = today.isoformat()
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for c in form.computed:
        try:
            values[c.field] = logic.evaluate(c.expression, scope)
        except LogicError as exc:
            warnings.append(f"{c.field}: not computed ({exc})")
    return values, tuple(warnings)


NOT_FUTURE = "x-not-future"
"""Schema keyword (an annotation to JSON Schema): this date cannot be after today. The shared
definitions ``birthDate`` and ``pastDate`` of ``common.json`` carry it."""


def _normalise(form: FormDefinition, data: Any) -> tuple[Any, list[str]]:
    """NFC already applied; normalise mobile numbers where the schema says vn-mobile.

    Returns the data and the pointers of the dates that cannot be in the future.
    """
    not_future: list[str] = []

    def walk(node: Any, path: list[str]) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, [*path, k]) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, [*path, str(i)]) for i, v in enumerate(node)]
        if isinstance(node, str):
            pointer = pointers.join(path)
            sub = form.field_schema(pointer)
            if sub is not None and sub.get("format") == "vn-mobile":
                return normalize_mobile(node) or node
            if sub is not None and sub.get(NOT_FUTURE) is True:
                not_future.append(pointer)
        return node

    return walk(data, []), not_future


def vn_today() -> date:
    """Today in Việt Nam (Asia/Ho_Chi_Minh): the default day sanity rules speak of."""
    return datetime.now(VN_TZ).date()


def _future_dates(found: list[str], data: Any, today: date, out: _Collector) -> None:
    for pointer in found:
        day = _date_or_none(pointers.get(data, pointer))
        if day is not None and day > today:
            out.add(
                pointer,
                "future-date",
                value=format_display_date(day),
                expected=format_display_date(today),
            )


def age_on(born: date, on: date) -> int:
    """Whole years from ``born`` to ``on`` (a person born on 29 February turns a year older
    on 1 March in common years)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _date_or_none(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _cross_checks(form: FormDefinition, data: Any, today: date, out: _Collector) -> None:
    for check in form.checks:
        p = check.params
        if check.rule == "age":
            _check_age(form, data, p, today, out)
        elif check.rule == "personal-id-consistent":
            _check_personal_id(form, data, p, out)
        elif check.rule == "date-order":
            allow_equal = bool(p.get("allowEqual", False))
            for earlier_ptr, later_ptr in _pairs(data, p["earlier"], p["later"]):
                earlier = _date_or_none(pointers.get(data, earlier_ptr))
                later = _date_or_none(pointers.get(data, later_ptr))
                if earlier is None or later is None:
                    continue
                if later < earlier or (later == earlier and not allow_equal):
                    out.add(
                        later_ptr,
                        "date-order-or-equal" if allow_equal else "date-order",
                        value=format_display_date(later),
                        expected=format_display_date(earlier),
                        other=form.label(earlier_ptr) or p["earlier"],
                        other_en=form.label(earlier_ptr, "en") or p["earlier"],
                    )
        elif check.rule == "expression":
            try:
                holds = logic.truthy(logic.evaluate(p["expression"], data))
            except LogicError:
                holds = True  # missing or malformed inputs are reported by the schema
            if not holds:
                msg = p.get("message")
                if isinstance(msg, Mapping):
                    label = form.label(p["field"])
                    vi = f"{label}: {msg['vi']}" if label else str(msg["vi"])
                    en = str(msg.get("en") or msg["vi"])
                    out.add_custom(p["field"], "rule", vi, en)
                else:
                    out.add(p["field"], "rule")


def _expand(data: Any, parts: list[str]) -> list[list[str]]:
    """Concrete paths for ``parts``: a name met where the data holds a list means every item
    (``/history/from`` is ``/history/0/from``, ``/history/1/from``...)."""
    found: list[list[str]] = []

    def walk(node: Any, done: list[str], rest: list[str]) -> None:
        if len(found) > MAX_NODES:
            return
        if not rest:
            found.append(done)
            return
        head = rest[0]
        if isinstance(node, list) and not head.isdigit():
            for i, item in enumerate(node):
                walk(item, [*done, str(i)], rest)
        elif isinstance(node, dict) and head in node:
            walk(node[head], [*done, head], rest[1:])
        elif isinstance(node, list) and head.isdigit() and int(head) < len(node):
            walk(node[int(head)], [*done, head], rest[1:])

    walk(data, [], parts)
    return found


def _pairs(data: Any, first: str, second: str) -> list[tuple[str, str]]:
    """(first, second) pointers, item by item where both name fields of the same list items
    (``/history/from`` and ``/history/to`` pair each item's own two dates)."""
    out: list[tuple[str, str]] = []

    def walk(node: Any, done: list[str], a: list[str], b: list[str]) -> None:
        if len(out) > MAX_NODES:
            return
        if isinstance(node, list) and a and b and not a[0].isdigit() and not b[0].isdigit():
            for i, item in enumerate(node):
                walk(item, [*done, str(i)], a, b)
            return
        if len(a) > 1 and len(b) > 1 and a[0] == b[0]:
            child = pointers.get(node, pointers.join([a[0]]))
            if child is not pointers.MISSING:
                walk(child, [*done, a[0]], a[1:], b[1:])
            return
        for left in _expand(node, a):
            for right in _expand(node, b):
                out.append((pointers.join([*done, *left]), pointers.join([*done, *right])))

    walk(data, [], pointers.split(first), pointers.split(second))
    return out


def _check_age(
    form: FormDefinition, data: Any, p: Mapping[str, Any], today: date, out: _Collector
) -> None:
    born = _date_or_none(pointers.get(data, p["birthDate"]))
    at = _date_or_none(pointers.get(data, p["at"])) if "at" in p else today
    if born is None or at is None or born > at:
        return  # missing or malformed dates are the schema's to report, order date-order's
    years = age_on(born, at)
    low, high = p.get("min"), p.get("max")
    code, limit = "", 0
    if isinstance(low, int) and years < low:
        code, limit = "age-min", low
    elif isinstance(high, int) and years > high:
        code, limit = "age-max", high
    if not code:
        return
    msg = p.get("message")
    if isinstance(msg, Mapping):
        label = form.label(p["birthDate"])
        vi = f"{label}: {msg['vi']}" if label else str(msg["vi"])
        label_en = form.label(p["birthDate"], "en") or label
        en_text = str(msg.get("en") or msg["vi"])
        en = f"{label_en}: {en_text}" if label_en else en_text
        out.add_custom(p["birthDate"], code, vi, en)
        return
    out.add(
        p["birthDate"],
        code,
        limit=str(limit),
        actual=str(years),
        expected=format_display_date(at),
    )


_SEX_NAMES = {"M": "nam", "F": "nữ"}


def _check_personal_id(
    form: FormDefinition, data: Any, p: Mapping[str, Any], out: _Collector
) -> None:
    """The ID's birth year and sex digits against the date of birth and sex given (item by
    item when the pointers name fields of list items)."""
    if "birthDate" in p:
        for id_ptr, born_ptr in _pairs(data, p["id"], p["birthDate"]):
            raw_id = pointers.get(data, id_ptr)
            decoded = parse_personal_id(raw_id) if isinstance(raw_id, str) else None
            born = _date_or_none(pointers.get(data, born_ptr))
            if decoded is not None and born is not None and born.year != decoded.birth_year:
                out.add(
                    id_ptr,
                    "personal-id-birth-year",
                    value=raw_id,
                    actual=str(decoded.birth_year),
                    expected=format_display_date(born),
                )
    if "sex" in p:
        for id_ptr, sex_ptr in _pairs(data, p["id"], p["sex"]):
            raw_id = pointers.get(data, id_ptr)
            decoded = parse_personal_id(raw_id) if isinstance(raw_id, str) else None
            sex = pointers.get(data, sex_ptr)
            if decoded is not None and sex in _SEX_NAMES and sex != decoded.sex:
                out.add(
                    id_ptr,
                    "personal-id-sex",
                    value=raw_id,
                    actual=_SEX_NAMES[decoded.sex],
                    expected=_SEX_NAMES[sex],
                )


def _rank_key(form: FormDefinition, e: FieldError) -> tuple[int, int, str]:
    rank = _FORMAT_RANK if e.code.startswith("format.") else _RANK.get(e.code, _DEFAULT_RANK)
    order = form.field_order
    stripped = pointers.join(p for p in pointers.split(e.pointer) if not p.isdigit())
    return rank, order.get(stripped, len(order)), e.pointer


def validate(
    form: FormDefinition | Mapping[str, Any],
    data: Any,
    *,
    prefilled: Mapping[str, FilledValue] | None = None,
    today: date | None = None,
) -> ValidationReport:
    """Check ``data`` against ``form`` (a definition or a plain JSON Schema).

    ``prefilled`` is what autofill returned (pointer -> :class:`FilledValue`): a locked
    value that was changed is an error. ``today`` feeds computed fields that need it
    (ages); without it those fields are left out with a warning. The sanity rules (dates
    marked ``x-not-future`` such as births and issues not after today, ``age`` checks
    without an ``at``) speak of ``today``, by default today in Việt Nam.
    """
    definition = form if isinstance(form, FormDefinition) else load_definition(form)
    out = _Collector(definition)
    if _count_nodes(data) > MAX_NODES:
        out.add("", "too-large")
        return ValidationReport(definition.key, tuple(out.errors), data)
    try:
        normalised, not_future = _normalise(definition, nfc_tree(data))
    except (ValueError, RecursionError):
        out.add("", "too-large")
        return ValidationReport(definition.key, tuple(out.errors), data)

    warnings: tuple[str, ...] = ()
    if isinstance(normalised, dict) and definition.computed:
        normalised = copy.deepcopy(normalised)
        values, warnings = compute(definition, normalised, today=today)
        for ptr, value in values.items():
            given = pointers.get(normalised, ptr)
            if given is not pointers.MISSING and given != value:
                out.add(ptr, "computed", expected=_short(value), value=_short(given))
            else:
                pointers.set_value(normalised, ptr, value)

    for err in definition.validator.iter_errors(normalised):
        for leaf in _leaf_errors(err):
            _map_error(leaf, out)

    for ptr, filled in (prefilled or {}).items():
        if not filled.locked:
            continue
        given = pointers.get(normalised, ptr)
        if given is not pointers.MISSING and given != filled.value:
            source = filled.source or provider_label(filled.provider, form=definition)
            out.add(
                ptr,
                "locked",
                expected=_short(filled.value),
                other=source.vi,
                other_en=source.get("en"),
            )

    day = today if today is not None else vn_today()
    _future_dates(not_future, normalised, day, out)
    if isinstance(normalised, dict):
        _cross_checks(definition, normalised, day, out)
    ranked = sorted(out.errors, key=lambda e: _rank_key(definition, e))
    return ValidationReport(definition.key, tuple(ranked), normalised, warnings)


def _json_depth_exceeds(text: str, limit: int) -> bool:
    """Does the JSON text nest arrays/objects deeper than ``limit``? (one linear scan)

    Run before ``json.loads`` so the parser never recurses into hostile depth.
    """
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def validate_json(
    form: FormDefinition | Mapping[str, Any],
    raw: bytes | str,
    *,
    prefilled: Mapping[str, FilledValue] | None = None,
    today: date | None = None,
) -> ValidationReport:
    """Parse a submission (JSON text, as received) with bounds, then :func:`validate` it.

    Text over :data:`MAX_SUBMISSION_BYTES`, nested deeper than the e-forms depth limit,
    not UTF-8 or not JSON gives a report with one error at ``""`` whose message says
    which limit or rule it broke; nothing is parsed past the limits.
    """
    import json

    from eforms.text import MAX_DEPTH

    definition = form if isinstance(form, FormDefinition) else load_definition(form)
    out = _Collector(definition)
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > MAX_SUBMISSION_BYTES:
        out.add_custom(
            "",
            "too-large",
            f"Hồ sơ nộp quá lớn: {size:,} byte, tối đa {MAX_SUBMISSION_BYTES:,} byte.",
            f"The submission is too large: {size:,} bytes, at most {MAX_SUBMISSION_BYTES:,}.",
        )
        return ValidationReport(definition.key, tuple(out.errors), None)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        out.add_custom(
            "", "not-json", "Hồ sơ nộp không phải văn bản UTF-8.", "The submission is not UTF-8."
        )
        return ValidationReport(definition.key, tuple(out.errors), None)
    if _json_depth_exceeds(text, MAX_DEPTH):
        out.add_custom(
            "",
            "too-large",
            f"Dữ liệu lồng quá sâu: quá {MAX_DEPTH} cấp.",
            f"The data is nested too deeply: more than {MAX_DEPTH} levels.",
        )
        return ValidationReport(definition.key, tuple(out.errors), None)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        out.add_custom(
            "",
            "not-json",
            f"Hồ sơ nộp không phải JSON hợp lệ ({exc}).",
            f"The submission is not valid JSON ({exc}).",
        )
        return ValidationReport(definition.key, tuple(out.errors), None)
    return validate(definition, data, prefilled=prefilled, today=today)
