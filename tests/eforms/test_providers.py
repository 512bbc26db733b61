"""The three bundled providers against real SQLite files and a real loopback HTTP server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from eforms import (
    Catalog,
    HttpJsonProvider,
    ProviderError,
    ProviderRegistry,
    SQLiteProvider,
    SubmissionsProvider,
    SubmissionStore,
    autofill,
)
from fixtures.registry.build import DEMO_CITIZEN

from .conftest import NOW, clock


def test_sqlite_provider_whitelists_columns(registry_db: Path) -> None:
    """Only real column names are read; a key carrying SQL is ignored, never executed."""
    provider = SQLiteProvider(registry_db, "people", subject_columns=["personal_id"])
    keys = ["full_name", "sex", "x FROM people; DROP TABLE people; --"]
    answer = asyncio.run(provider.lookup(DEMO_CITIZEN, keys))
    assert answer == {"full_name": "Nguyễn Thị Hoà", "sex": "F"}
    assert asyncio.run(provider.lookup(DEMO_CITIZEN, ["full_name"])) == {
        "full_name": "Nguyễn Thị Hoà"
    }


def test_sqlite_provider_missing_database(tmp_path: Path) -> None:
    """A missing database is a ProviderError (autofill turns it into a warning)."""
    provider = SQLiteProvider(tmp_path / "none.sqlite", "people", subject_columns=["personal_id"])
    with pytest.raises(ProviderError, match="not found"):
        asyncio.run(provider.lookup("x", ["full_name"]))


def test_submissions_newest_value_wins(tmp_path: Path, catalog: Catalog) -> None:
    """Earlier submissions fill fields; the newest non-empty value wins."""
    store = SubmissionStore(tmp_path / "submissions.sqlite")
    store.record(DEMO_CITIZEN, "a", {"applicant": {"email": "cu@example.vn"}}, NOW)
    store.record(
        DEMO_CITIZEN, "b", {"applicant": {"email": "moi@example.vn"}}, NOW + timedelta(days=1)
    )
    store.record(DEMO_CITIZEN, "c", {"applicant": {"email": ""}}, NOW + timedelta(days=2))
    provider = SubmissionsProvider(store)
    answer = asyncio.run(provider.lookup(DEMO_CITIZEN, ["applicant.email", "/applicant/phone"]))
    assert answer == {"applicant.email": "moi@example.vn"}
    form = catalog.form("to-khai-thay-doi-thong-tin-cu-tru")
    registry = ProviderRegistry({"submissions": provider})
    result = asyncio.run(autofill(form, DEMO_CITIZEN, registry, clock=clock))
    assert result.data["applicant"]["email"] == "moi@example.vn"
    assert result.values["/applicant/email"].provider == "submissions"


class _Registry:
    """A small JSON registry over HTTP; counts calls to test retries."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail_first = 0

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        self.calls += 1
        subject = request.path.rsplit("/", 1)[-1]
        if self.fail_first > 0:
            self.fail_first -= 1
            response = Response("busy", status=503)
        elif subject == "garbage":
            response = Response("<html>", mimetype="text/html")
        elif subject == "huge":
            response = Response(json.dumps({"x": "y" * 5000}), mimetype="application/json")
        elif subject == "001090012345":
            keys = request.args.get("keys", "").split(",")
            known = {"insurance_number": "0118959238", "employer": "Công ty Sông Hồng"}
            body = {k: known[k] for k in keys if k in known}
            response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
        else:
            response = Response("{}", status=404, mimetype="application/json")
        return response(environ, start_response)


@pytest.fixture
def http_registry() -> Iterator[tuple[str, _Registry]]:
    """A real werkzeug server on a free loopback port, stopped after the test."""
    app = _Registry()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/people", app
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_http_provider_answers(http_registry: tuple[str, _Registry]) -> None:
    """Known subjects get their values; unknown subjects (404) get nothing."""
    url, _app = http_registry
    provider = HttpJsonProvider(url, timeout=2)
    answer = asyncio.run(provider.lookup("001090012345", ["insurance_number", "nope"]))
    assert answer == {"insurance_number": "0118959238"}
    assert asyncio.run(provider.lookup("000000000000", ["insurance_number"])) == {}


def test_http_provider_retries_server_errors(http_registry: tuple[str, _Registry]) -> None:
    """Two 503s then success: the third try answers."""
    url, app = http_registry
    app.fail_first = 2
    provider = HttpJsonProvider(url, retries=2, backoff=0.01)
    assert asyncio.run(provider.lookup("001090012345", ["employer"])) == {
        "employer": "Công ty Sông Hồng"
    }
    assert app.calls == 3
    app.fail_first = 5
    with pytest.raises(ProviderError, match="gave up after 3 tries"):
        asyncio.run(provider.lookup("001090012345", ["employer"]))


def test_http_provider_refuses_bad_answers(http_registry: tuple[str, _Registry]) -> None:
    """Non-JSON and oversized answers are refused as ProviderError."""
    url, _app = http_registry
    with pytest.raises(ProviderError, match="not JSON"):
        asyncio.run(HttpJsonProvider(url).lookup("garbage", ["x"]))
    with pytest.raises(ProviderError, match="larger than"):
        asyncio.run(HttpJsonProvider(url, max_bytes=1000).lookup("huge", ["x"]))


def test_http_provider_unreachable_is_a_warning() -> None:
    """A closed port makes autofill warn, not raise."""
    from eforms import load_definition

    form = load_definition(
        {
            "id": "thu-http",
            "version": "1",
            "title": {"vi": "Thử"},
            "schema": {"type": "object", "properties": {"n": {"type": "string"}}},
            "labels": {"/n": {"vi": "Mã số bảo hiểm xã hội", "en": "Social insurance number"}},
            "autofill": [{"field": "/n", "source": "insurance.insurance_number"}],
        }
    )
    provider = HttpJsonProvider("http://127.0.0.1:9/x", timeout=0.2, retries=1, backoff=0.01)
    registry = ProviderRegistry({"insurance": provider})
    result = asyncio.run(autofill(form, "s", registry, timeout=1.0))
    assert result.values == {}
    assert result.warnings[0].reason.startswith("failed: ProviderError")
