"""Fixtures for the eforms tests: the demo registry built for real, a pinned clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from eforms import Catalog, bundled_catalog
from fixtures.registry.build import build_registry

#: Every eforms test speaks of this day and moment, never of the wall clock.
TODAY = date(2025, 9, 1)
NOW = datetime(2025, 9, 1, 3, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def registry_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo registry (1,200 synthetic citizens), built once per session."""
    return build_registry(tmp_path_factory.mktemp("registry") / "registry.sqlite")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return bundled_catalog()
