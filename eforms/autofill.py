"""Autofill ("provide once"): fill a form from registries the state already keeps.

A provider answers ``await provider.lookup(subject, keys)`` with a mapping of key to value.
Providers are registered by name on a :class:`ProviderRegistry`; third-party packages add
theirs through the ``hoso.autofill`` entry-point group (each entry point names a
zero-argument factory returning a provider). :func:`autofill` asks every provider a form
binds to, concurrently, each within ``timeout`` seconds and all within ``budget``; whatever
is slow, failing or malformed becomes a warning and leaves its fields for the person to type.
Nothing raised by a provider escapes :func:`autofill`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from eforms import pointers
from eforms.definition import AutofillBinding, FormDefinition
from eforms.errors import RegistryError
from eforms.formats import format_checker
from eforms.provenance import FilledValue
from eforms.text import nfc_tree

__all__ = [
    "ENTRY_POINT_GROUP",
    "AutofillProvider",
    "AutofillResult",
    "AutofillWarning",
    "ProviderRegistry",
    "autofill",
    "autofill_sync",
]

ENTRY_POINT_GROUP = "hoso.autofill"


@runtime_checkable
class AutofillProvider(Protocol):
    """Something that knows facts about a subject (a personal ID, a tax code...)."""

    async def lookup(self, subject: str, keys: Sequence[str]) -> Mapping[str, Any]:
        """Values for those ``keys`` it knows; unknown keys are simply left out."""
        ...


class ProviderRegistry:
    """Named autofill providers. Explicit: nothing is registered behind your back."""

    def __init__(self, providers: Mapping[str, AutofillProvider] | None = None) -> None:
        self._providers: dict[str, AutofillProvider] = {}
        for name, provider in (providers or {}).items():
            self.register(name, provider)

    def register(self, name: str, provider: AutofillProvider, *, replace: bool = False) -> None:
        """Register ``provider`` as ``name``; a second registration needs ``replace=True``."""
        if not isinstance(provider, AutofillProvider):
            raise RegistryError(f"{name!r}: {type(provider).__name__} has no async lookup()")
        if name in self._providers and not replace:
            raise RegistryError(f"provider {name!r} is already registered")
        self._providers[name] = provider

    def get(self, name: str) -> AutofillProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise RegistryError(f"no provider named {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._providers

    def names(self) -> list[str]:
        return sorted(self._providers)

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        """Register every provider advertised in the entry-point ``group``; returns names."""
        added = []
        for ep in entry_points(group=group):
            if ep.name in self._providers:
                continue
            factory = ep.load()
            self.register(ep.name, factory())
            added.append(ep.name)
        return added


@dataclass(frozen=True)
class AutofillWarning:
    """A provider that could not help; its fields are left for the person."""

    provider: str
    reason: str
    fields: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"provider": self.provider, "reason": self.reason, "fields": list(self.fields)}


@dataclass(frozen=True)
class AutofillResult:
    """Prefilled ``data`` plus provenance per field and the warnings."""

    data: dict[str, Any]
    values: Mapping[str, FilledValue]
    warnings: tuple[AutofillWarning, ...] = ()
    missing: tuple[str, ...] = field(default=())

    def locked(self) -> dict[str, FilledValue]:
        return {p: v for p, v in self.values.items() if v.locked}

    def to_json(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "provenance": {p: v.to_json() for p, v in sorted(self.values.items())},
            "missing": list(self.missing),
            "warnings": [w.to_json() for w in self.warnings],
        }


async def _ask(
    provider: AutofillProvider, subject: str, keys: list[str], timeout: float
) -> Mapping[str, Any]:
    return await asyncio.wait_for(provider.lookup(subject, keys), timeout)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"failed: {type(exc).__name__}" + (f": {text}" if text else "")


async def autofill(
    form: FormDefinition,
    subject: str,
    registry: ProviderRegistry,
    *,
    timeout: float = 3.0,
    budget: float | None = None,
    clock: Callable[[], datetime] | None = None,
    data: Mapping[str, Any] | None = None,
) -> AutofillResult:
    """Fill ``form`` for ``subject`` from the providers it binds to.

    ``timeout`` bounds each provider, ``budget`` the whole call (default: ``timeout`` plus a
    small margin). ``clock`` gives the aware time stamped on provenance (default: UTC now).
    ``data`` is what the person already typed; autofill never overwrites a value there unless
    the binding is locked.
    """
    now = clock or (lambda: datetime.now(UTC))
    by_provider: dict[str, list[AutofillBinding]] = {}
    for binding in form.bindings:
        by_provider.setdefault(binding.provider, []).append(binding)

    warnings: list[AutofillWarning] = []
    tasks: dict[str, asyncio.Task[Mapping[str, Any]]] = {}
    for name, bindings in by_provider.items():
        fields = tuple(b.field for b in bindings)
        if name not in registry:
            warnings.append(AutofillWarning(name, "not registered", fields))
            continue
        keys = sorted({b.key for b in bindings})
        coro = _ask(registry.get(name), subject, keys, timeout)
        tasks[name] = asyncio.ensure_future(coro)

    limit = budget if budget is not None else timeout + 0.5
    if tasks:
        _done, pending = await asyncio.wait(tasks.values(), timeout=limit)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    result_data: dict[str, Any] = nfc_tree(dict(data or {}))
    values: dict[str, FilledValue] = {}
    checker = format_checker()
    for name, task in tasks.items():
        bindings = by_provider[name]
        fields = tuple(b.field for b in bindings)
        if not task.done() or task.cancelled():
            warnings.append(AutofillWarning(name, "timed out", fields))
            continue
        exc = task.exception()
        if exc is not None:
            warnings.append(AutofillWarning(name, _describe(exc), fields))
            continue
        answer: object = task.result()
        if not isinstance(answer, Mapping):
            warnings.append(AutofillWarning(name, "malformed answer (not an object)", fields))
            continue
        stamp = now()
        bad: list[str] = []
        for b in bindings:
            if b.key not in answer or answer[b.key] is None:
                continue
            try:
                value = nfc_tree(answer[b.key])
            except (ValueError, RecursionError):
                bad.append(b.field)
                continue
            sub = form.field_schema(b.field)
            if sub is not None and not _fits(sub, value, form, checker):
                bad.append(b.field)
                continue
            existing = pointers.get(result_data, b.field)
            if existing is not pointers.MISSING and not b.locked:
                continue
            pointers.set_value(result_data, b.field, value)
            values[b.field] = FilledValue(b.field, value, name, b.key, stamp, b.locked)
        if bad:
            warnings.append(AutofillWarning(name, "malformed values ignored", tuple(bad)))

    missing = tuple(b.field for b in form.bindings if b.field not in values)
    return AutofillResult(result_data, values, tuple(warnings), missing)


def _fits(sub: Mapping[str, Any], value: Any, form: FormDefinition, checker: Any) -> bool:
    try:
        validator = Draft202012Validator(dict(sub), registry=form.registry, format_checker=checker)
        return bool(validator.is_valid(value))
    except (SchemaError, Unresolvable, ValueError, TypeError):
        # a subschema we cannot evaluate alone: keep the value, full validation decides
        return True


def autofill_sync(
    form: FormDefinition,
    subject: str,
    registry: ProviderRegistry,
    **kwargs: Any,
) -> AutofillResult:
    """:func:`autofill` for scripts without an event loop."""
    return asyncio.run(autofill(form, subject, registry, **kwargs))
