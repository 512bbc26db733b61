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
from eforms.definition import AutofillBinding, FormDefinition, Localized
from eforms.errors import RegistryError
from eforms.formats import format_checker
from eforms.names import GENERIC_SOURCE, NAMES, LabelLike, NameRegistry, provider_label
from eforms.provenance import FilledValue
from eforms.text import nfc_tree

__all__ = [
    "ENTRY_POINT_GROUP",
    "WARNING_REASONS",
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
    """Named autofill providers. Explicit: nothing is registered behind your back.

    ``naming`` holds what people read about them (display names, value labels): its own
    entries first, then the public :data:`eforms.names.NAMES`.
    """

    def __init__(self, providers: Mapping[str, AutofillProvider] | None = None) -> None:
        self._providers: dict[str, AutofillProvider] = {}
        self.naming = NameRegistry(parent=NAMES)
        for name, provider in (providers or {}).items():
            self.register(name, provider)

    def register(
        self,
        name: str,
        provider: AutofillProvider,
        *,
        replace: bool = False,
        display_name: LabelLike | None = None,
        enum_labels: Mapping[str, Mapping[Any, LabelLike] | str] | None = None,
    ) -> None:
        """Register ``provider`` as ``name``; a second registration needs ``replace=True``.

        ``display_name`` is how people know the registry ("Cơ sở dữ liệu hộ tịch điện
        tử"), ``enum_labels`` what the values it returns mean (key -> value -> label, or
        key -> vocabulary name). Either may instead be an attribute of the provider object
        of the same name. A provider with neither is shown by :data:`NAMES`'s name for it,
        or as "a connected registry": never by ``name``.
        """
        if not isinstance(provider, AutofillProvider):
            raise RegistryError(f"{name!r}: {type(provider).__name__} has no async lookup()")
        if name in self._providers and not replace:
            raise RegistryError(f"provider {name!r} is already registered")
        shown = display_name
        if shown is None:
            shown = getattr(provider, "display_name", None)
        labels = enum_labels
        if labels is None:
            labels = getattr(provider, "enum_labels", None)
        if shown is not None:
            self.naming.add_provider(name, shown, replace=True)
        if isinstance(labels, Mapping):
            for key, values in labels.items():
                self.naming.add_key_labels(name, str(key), values, replace=True)
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


#: code -> (Vietnamese, English) for what went wrong; ``{detail}`` is the provider's error.
WARNING_REASONS: dict[str, tuple[str, str]] = {
    "not-registered": ("chưa được kết nối", "it is not connected"),
    "timed-out": ("không trả lời kịp thời", "it did not answer in time"),
    "failed": ("gặp lỗi ({detail})", "it failed ({detail})"),
    "malformed-answer": (
        "trả lời không đúng định dạng",
        "its answer was not in the expected form",
    ),
    "malformed-values": (
        "trả về giá trị không hợp lệ cho các trường này",
        "it returned values that do not fit these fields",
    ),
}


@dataclass(frozen=True)
class AutofillWarning:
    """A provider that could not help; its fields are left for the person.

    ``provider`` is the internal key (for logs), ``source`` how people know it; ``code``
    says what happened (a key of :data:`WARNING_REASONS`), ``reason`` in short English for
    logs, :meth:`message` the sentence to show, in Vietnamese or English.
    """

    provider: str
    reason: str
    fields: tuple[str, ...] = ()
    code: str = "failed"
    source: Localized = GENERIC_SOURCE
    detail: str = ""

    def reason_in(self, lang: str = "vi") -> str:
        """What happened, in ``lang`` ("không trả lời kịp thời" / "it did not answer...")."""
        vi, en = WARNING_REASONS.get(self.code, WARNING_REASONS["failed"])
        return (en if lang == "en" else vi).format(detail=self.detail or self.reason)

    @property
    def reason_vi(self) -> str:
        return self.reason_in("vi")

    @property
    def reason_en(self) -> str:
        return self.reason_in("en")

    def message(self, lang: str = "vi") -> str:
        """The sentence to show the person: which registry, what happened, what to do."""
        if lang == "en":
            return (
                f"Could not fill in from {self.source.get('en')}: {self.reason_en}; "
                "please type these fields yourself."
            )
        return (
            f"Chưa lấy được thông tin từ {self.source.get('vi')}: {self.reason_vi}; "
            "vui lòng tự nhập các trường này."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "code": self.code,
            "reason": self.reason,
            "reason_vi": self.reason_vi,
            "reason_en": self.reason_en,
            "message_vi": self.message("vi"),
            "message_en": self.message("en"),
            "source": {"vi": self.source.vi, "en": self.source.get("en")},
            "fields": list(self.fields),
        }


@dataclass(frozen=True)
class AutofillResult:
    """Prefilled ``data`` plus provenance per field and the warnings."""

    data: dict[str, Any]
    values: Mapping[str, FilledValue]
    warnings: tuple[AutofillWarning, ...] = ()
    missing: tuple[str, ...] = field(default=())
    naming: NameRegistry = field(default=NAMES, compare=False, repr=False)
    """The names the providers gave (display names, value labels): renderers use them."""

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

    def source(name: str) -> Localized:
        return provider_label(name, form=form, names=registry.naming)

    def warn(name: str, code: str, reason: str, fields: tuple[str, ...], detail: str = "") -> None:
        warnings.append(AutofillWarning(name, reason, fields, code, source(name), detail))

    for name, bindings in by_provider.items():
        fields = tuple(b.field for b in bindings)
        if name not in registry:
            warn(name, "not-registered", "not registered", fields)
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
            warn(name, "timed-out", "timed out", fields)
            continue
        exc = task.exception()
        if exc is not None:
            described = _describe(exc)
            code = "timed-out" if described == "timed out" else "failed"
            warn(name, code, described, fields, described.removeprefix("failed: "))
            continue
        answer: object = task.result()
        if not isinstance(answer, Mapping):
            warn(name, "malformed-answer", "malformed answer (not an object)", fields)
            continue
        stamp = now()
        shown = source(name)
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
            values[b.field] = FilledValue(b.field, value, name, b.key, stamp, b.locked, shown)
        if bad:
            warn(name, "malformed-values", "malformed values ignored", tuple(bad))

    missing = tuple(b.field for b in form.bindings if b.field not in values)
    return AutofillResult(result_data, values, tuple(warnings), missing, registry.naming)


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
