"""The UI schema's rules (SHOW / HIDE / ENABLE / DISABLE), evaluated on the server.

A rule is JSON Forms' ``{"effect": ..., "condition": {"scope": ..., "schema": ...}}``: the
condition holds when the data at ``scope`` validates against ``schema``. As in JSON Forms,
a value that is absent is *undefined*: it fails ``const``, ``enum`` and ``type`` (so "show
when basis is relative-home" is false on an empty form) but passes ``{}`` and ``not``;
``failWhenUndefined: true`` makes an absent value fail every condition.

:func:`evaluate_rules` walks a form's UI schema and returns, for every element, whether it
is visible and enabled; an element inside a hidden (or disabled) layout is hidden (or
disabled) too. :func:`hidden_fields` lists the data pointers the person cannot see: the
renderers leave them out of the paper form.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from eforms import pointers
from eforms.definition import FormDefinition
from eforms.formats import format_checker

__all__ = [
    "EFFECTS",
    "ElementState",
    "condition_holds",
    "evaluate_rules",
    "hidden_fields",
    "iter_elements",
]

EFFECTS = ("SHOW", "HIDE", "ENABLE", "DISABLE")
_MAX_DEPTH = 64


class _Undefined:
    """Stands for JavaScript's ``undefined``: no JSON type, equal to nothing."""

    def __repr__(self) -> str:
        return "undefined"


_UNDEFINED = _Undefined()


@dataclass(frozen=True)
class ElementState:
    """What the rules decided for one UI element (``path`` is a pointer into the UI)."""

    path: str
    visible: bool = True
    enabled: bool = True


def iter_elements(
    ui: Mapping[str, Any] | None, path: str = "", depth: int = 0
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every UI element with its pointer into the UI schema (``""``, ``/elements/0``...)."""
    if ui is None or depth > _MAX_DEPTH:
        return
    yield path, ui
    children = ui.get("elements")
    for i, child in enumerate(children if isinstance(children, list) else []):
        if isinstance(child, Mapping):
            yield from iter_elements(child, f"{path}/elements/{i}", depth + 1)


def condition_holds(form: FormDefinition, condition: Mapping[str, Any], data: Any) -> bool:
    """True when the data at the condition's scope validates against its schema."""
    scope = condition.get("scope", "#")
    pointer = pointers.scope_to_pointer(str(scope))
    value = pointers.get(data, pointer) if pointer else data
    if value is pointers.MISSING:
        if condition.get("failWhenUndefined", False):
            return False
        value = _UNDEFINED
    schema = condition.get("schema", True)
    try:
        validator = Draft202012Validator(
            schema if isinstance(schema, bool) else dict(schema),
            registry=form.registry,
            format_checker=format_checker(),
        )
        return bool(validator.is_valid(value))
    except (TypeError, ValueError, RecursionError):
        return False  # a condition we cannot evaluate leaves the rule's effect off


def _apply(effect: str, holds: bool) -> tuple[bool | None, bool | None]:
    if effect == "SHOW":
        return holds, None
    if effect == "HIDE":
        return not holds, None
    if effect == "ENABLE":
        return None, holds
    if effect == "DISABLE":
        return None, not holds
    return None, None


def evaluate_rules(form: FormDefinition, data: Any) -> dict[str, ElementState]:
    """The state of every element of ``form.ui`` for ``data`` (parents win over children)."""
    states: dict[str, ElementState] = {}

    def visit(el: Mapping[str, Any], path: str, visible: bool, enabled: bool, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        rule = el.get("rule")
        if isinstance(rule, Mapping) and isinstance(rule.get("condition"), Mapping):
            shown, usable = _apply(
                str(rule.get("effect")), condition_holds(form, rule["condition"], data)
            )
            visible = visible and (shown if shown is not None else True)
            enabled = enabled and (usable if usable is not None else True)
        states[path] = ElementState(path, visible, enabled)
        children = el.get("elements")
        for i, child in enumerate(children if isinstance(children, list) else []):
            if isinstance(child, Mapping):
                visit(child, f"{path}/elements/{i}", visible, enabled, depth + 1)

    if form.ui is not None:
        visit(form.ui, "", True, True, 0)
    return states


def hidden_fields(form: FormDefinition, data: Any) -> frozenset[str]:
    """Data pointers of the controls that the rules hide for ``data``."""
    states = evaluate_rules(form, data)
    hidden: set[str] = set()
    shown: set[str] = set()
    for path, el in iter_elements(form.ui):
        scope = el.get("scope")
        if el.get("type") != "Control" or not isinstance(scope, str):
            continue
        target = pointers.scope_to_pointer(scope)
        (shown if states.get(path, ElementState(path)).visible else hidden).add(target)
    return frozenset(hidden - shown)
