"""Shared fixtures: the demo PKI services run for real on a loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from fixtures.pki import DemoPKI, DemoServices, start_services

# Every test speaks of this moment, never of the wall clock. The demo certificates are
# valid 2025-01-01 .. 2030-01-01; the revoked ones were revoked on 2026-03-01.
PINNED_NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session", autouse=True)
def _no_user_trust_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads a local trust store left in the user's data folder: the default store
    (``$HOSO_TRUST_STORE``, inherited by every command a test starts) is an empty folder."""
    old = os.environ.get("HOSO_TRUST_STORE")
    os.environ["HOSO_TRUST_STORE"] = os.fspath(tmp_path_factory.mktemp("trust-store"))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("HOSO_TRUST_STORE", None)
        else:
            os.environ["HOSO_TRUST_STORE"] = old


@pytest.fixture(autouse=True)
def _speedups_as_they_were() -> Iterator[None]:
    """Each test finds the speed-ups as the one before it found them (none installed): a
    test that installs them (every command-line and bulk run does) leaves the next test's
    verdicts as they would be in any order. What the speed-ups change is tested by
    ``tests/verify/test_speedups.py``, with and without them, on every stored file."""
    from verify import speedups

    was = speedups.installed()
    yield
    if speedups.installed() != was:
        speedups.uninstall()
        if was:
            speedups.install()


@pytest.fixture(scope="session")
def demo_services() -> Iterator[DemoServices]:
    """OCSP, CRL, CA-issuer and TSA services answering as of PINNED_NOW."""
    services = start_services(at_time=PINNED_NOW)
    try:
        yield services
    finally:
        services.stop()


@pytest.fixture(scope="session")
def demo_pki(demo_services: DemoServices) -> DemoPKI:
    return demo_services.pki
