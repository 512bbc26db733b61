"""Autofill: provide once; slow, failing or malformed providers never break the form."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eforms import (
    Catalog,
    ProviderRegistry,
    RegistryError,
    autofill,
    autofill_sync,
    load_definition,
    sqlite_registry,
    validate,
)
from fixtures.registry.build import DEMO_CITIZEN, DEMO_HOUSEHOLD_BUSINESS

from .conftest import NOW, TODAY, clock

FORM: dict[str, Any] = {
    "id": "thu-autofill",
    "version": "1",
    "title": {"vi": "Thử"},
    "schema": {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "string", "format": "vn-mobile"},
            "c": {"type": "string"},
        },
    },
    "labels": {
        "/a": {"vi": "Họ và tên", "en": "Full name"},
        "/b": {"vi": "Số điện thoại", "en": "Phone"},
        "/c": {"vi": "Ghi chú", "en": "Note"},
    },
    "providers": {
        "fast": {"vi": "Hệ thống nhanh", "en": "the fast system"},
        "odd": {"vi": "Hệ thống lạ", "en": "the odd system"},
        "slow": {"vi": "Hệ thống chậm", "en": "the slow system"},
        "submissions": {"vi": "Hồ sơ đã nộp", "en": "earlier submissions"},
    },
    "autofill": [
        {"field": "/a", "source": "fast.a", "locked": True},
        {"field": "/b", "source": "odd.b"},
        {"field": "/c", "source": "slow.c"},
    ],
}


class Scripted:
    """A real provider object whose behaviour is set by the test (no mocks of our code)."""

    def __init__(self, answer: Any = None, delay: float = 0.0, error: bool = False) -> None:
        self.answer, self.delay, self.error = answer, delay, error

    async def lookup(self, subject: str, keys: Sequence[str]) -> Mapping[str, Any]:
        await asyncio.sleep(self.delay)
        if self.error:
            raise ConnectionError("registry down")
        result: Mapping[str, Any] = self.answer
        return result


def _form() -> Any:
    return load_definition(FORM, known_providers=["fast", "odd", "slow"])


def test_fill_from_embedded_registry(catalog: Catalog, registry_db: Path) -> None:
    """The demo citizen's identity is filled and locked, with provenance and pinned time."""
    form = catalog.form("to-khai-thay-doi-thong-tin-cu-tru")
    result = autofill_sync(form, DEMO_CITIZEN, sqlite_registry(registry_db), clock=clock)
    assert result.data["applicant"]["fullName"] == "Nguyễn Thị Hoà"
    assert result.data["applicant"]["currentAddress"]["communeCode"] == "00004"
    prov = result.values["/applicant/idNumber"]
    assert (prov.provider, prov.key, prov.locked, prov.retrieved_at) == (
        "population",
        "personal_id",
        True,
        NOW,
    )
    assert not result.values["/applicant/phone"].locked
    # The submissions provider is not registered: a warning, and its field is left to type.
    assert [w.provider for w in result.warnings] == ["submissions"]
    assert "/applicant/email" in result.missing
    report = validate(form, result.data, prefilled=result.values, today=TODAY)
    assert all(e.code == "required" for e in report.errors)


def test_business_form_filled_by_tax_code(catalog: Catalog, registry_db: Path) -> None:
    """An organisation form is filled from the business registry by tax code."""
    form = catalog.form("thong-bao-thay-doi-noi-dung-dang-ky-doanh-nghiep")
    result = autofill_sync(form, DEMO_HOUSEHOLD_BUSINESS, sqlite_registry(registry_db))
    assert result.data["enterprise"]["taxCode"] == DEMO_HOUSEHOLD_BUSINESS
    assert result.values["/enterprise/name"].locked


def test_unknown_subject_leaves_everything_to_type(catalog: Catalog, registry_db: Path) -> None:
    """A subject no registry knows yields no values and no exception."""
    form = catalog.form("to-khai-dang-ky-khai-sinh")
    result = autofill_sync(form, "001099999999", sqlite_registry(registry_db))
    assert result.values == {}
    assert len(result.missing) == len(form.bindings)


def test_slow_failing_malformed_become_warnings() -> None:
    """A timeout, an exception and a bad answer each become a warning; good values stay."""
    registry = ProviderRegistry(
        {
            "fast": Scripted({"a": "Hoà"}),
            "odd": Scripted({"b": "not a phone"}),
            "slow": Scripted({"c": "late"}, delay=5),
        }
    )
    started = time.monotonic()
    result = asyncio.run(autofill(_form(), "s", registry, timeout=0.1, clock=clock))
    assert time.monotonic() - started < 1.0
    assert result.data == {"a": "Hoà"}
    reasons = {w.provider: w.reason for w in result.warnings}
    assert reasons == {"odd": "malformed values ignored", "slow": "timed out"}
    failing = ProviderRegistry({"fast": Scripted(error=True), "odd": Scripted(["x"])})
    result = asyncio.run(autofill(_form(), "s", failing, timeout=0.1, clock=clock))
    reasons = {w.provider: w.reason for w in result.warnings}
    assert reasons["fast"].startswith("failed: ConnectionError")
    assert reasons["odd"] == "malformed answer (not an object)"
    assert reasons["slow"] == "not registered"


def test_typed_values_win_over_suggestions_not_over_locks() -> None:
    """What the person typed stays unless the binding is locked."""
    registry = ProviderRegistry(
        {"fast": Scripted({"a": "A"}), "odd": Scripted({"b": "0912345678"})}
    )
    result = asyncio.run(autofill(_form(), "s", registry, data={"a": "typed", "b": "0988888888"}))
    assert result.data["a"] == "A"
    assert result.data["b"] == "0988888888"


def test_registry_rules() -> None:
    """Names are unique unless replaced; non-providers are refused; entry points load."""
    registry = ProviderRegistry()
    registry.register("x", Scripted({}))
    with pytest.raises(RegistryError):
        registry.register("x", Scripted({}))
    registry.register("x", Scripted({}), replace=True)
    with pytest.raises(RegistryError):
        registry.register("y", object())  # type: ignore[arg-type]
    with pytest.raises(RegistryError):
        registry.get("nope")
    assert registry.load_entry_points("hoso.autofill.none-installed") == []
    assert registry.names() == ["x"]


_behaviour = st.tuples(st.sampled_from(["ok", "error", "slow", "garbage"]), st.floats(0, 0.05))


@settings(max_examples=25, deadline=None)
@given(st.tuples(_behaviour, _behaviour, _behaviour))
def test_random_failures_and_delays_never_raise_or_overrun(behaviours: Any) -> None:
    """Whatever the providers do, autofill returns within its budget and never raises."""
    providers = {}
    for name, (kind, delay) in zip(["fast", "odd", "slow"], behaviours, strict=True):
        providers[name] = Scripted(
            answer={"a": "x", "b": "0912345678", "c": "y"} if kind != "garbage" else 42,
            delay=delay + (1.0 if kind == "slow" else 0),
            error=kind == "error",
        )
    started = time.monotonic()
    result = asyncio.run(
        autofill(_form(), "s", ProviderRegistry(providers), timeout=0.08, budget=0.15)
    )
    assert time.monotonic() - started < 0.6
    failed = {w.provider for w in result.warnings}
    for name, (kind, _delay) in zip(["fast", "odd", "slow"], behaviours, strict=True):
        assert (name in failed) == (kind != "ok")
