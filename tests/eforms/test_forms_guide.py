"""docs/forms.md builds a procedure from scratch with the public API only: every code block
of the guide runs here, in order, in one empty folder, and what it says it prints is what
it prints.

The guide's civil-status registry is a real HTTP server on loopback; its key, TSA and trust
anchor are the demo PKI's (services on loopback, time pinned at PINNED_NOW).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from eforms.cli import main
from fixtures.documents import pinned
from fixtures.pki import DemoPKI
from fixtures.pki.build import P12_PASSWORD
from tests.conftest import PINNED_NOW

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "forms.md"
BRIDE = "001190012345"  # the demo citizen whose certificate signs
_BLOCK = re.compile(
    r"(?:<!-- file: (?P<file>[^ ]+) -->\n)?```(?P<kind>\w+)\n(?P<body>.*?)```", re.S
)


def blocks() -> list[tuple[str, str, str | None]]:
    """(kind, body, file name) of every fenced block of the guide, in order."""
    text = GUIDE.read_text("utf-8")
    return [(m["kind"], m["body"], m["file"]) for m in _BLOCK.finditer(text)]


class _CivilStatus:
    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        subject = request.path.rsplit("/", 1)[-1]
        known = {
            "full_name": "Nguyễn Thị Hoà",
            "birth_date": "1990-03-15",
            "sex": "F",
            "personal_id": BRIDE,
            "marital_status": "single",
        }
        if subject != BRIDE:
            return Response("{}", status=404)(environ, start_response)
        keys = request.args.get("keys", "").split(",")
        body = json.dumps({k: known[k] for k in keys if k in known}, ensure_ascii=False)
        return Response(body, mimetype="application/json")(environ, start_response)


@pytest.fixture
def civil_status_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _CivilStatus(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/ho-tich/cong-dan"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _matches(expected: str, actual: str) -> bool:
    """One line against another, whitespace folded; ``...`` stands for anything."""
    want = " ".join(expected.split())
    got = " ".join(actual.split())
    pattern = ".*".join(re.escape(part) for part in want.split("..."))
    return re.fullmatch(pattern, got) is not None


def _run_console(body: str) -> None:
    command: list[str] | None = None
    expected: list[str] = []

    def finish() -> None:
        if command is None:
            return
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(command)
        lines = out.getvalue().splitlines()
        assert len(lines) == len(expected), (command, lines)
        for want, got in zip(expected, lines, strict=True):
            assert _matches(want, got), (command, want, got)

    for line in body.splitlines():
        if line.startswith("$ "):
            finish()
            words = shlex.split(line[2:])
            assert words[0] == "eforms", line
            command, expected = words[1:], []
        elif line.strip():
            expected.append(line)
    finish()


def test_the_guide_runs_from_nothing_to_a_signed_submission(
    demo_pki: DemoPKI,
    civil_status_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every block of docs/forms.md, in order: JSON blocks are saved as the files they name,
    Python blocks run in one namespace and import only public names, console blocks run
    'eforms' and print what the guide shows, text blocks are lines the Python before them
    printed. The guide ends with a signed dossier that verifies and no code spent in vain."""
    found = blocks()
    assert [k for k, _b, _f in found].count("python") >= 6
    monkeypatch.chdir(tmp_path)
    demo_pki.write_p12("citizen", tmp_path / "keys" / "citizen.p12")
    (tmp_path / "keys" / "root.pem").write_bytes(demo_pki.cert_pem("vn-root"))
    monkeypatch.setenv("CIVIL_STATUS_URL", civil_status_url)
    monkeypatch.setenv("SIGNER_P12", str(tmp_path / "keys" / "citizen.p12"))
    monkeypatch.setenv("SIGNER_P12_PASSWORD", P12_PASSWORD.decode())
    monkeypatch.setenv("TRUST_ROOT", str(tmp_path / "keys" / "root.pem"))
    monkeypatch.setenv("TSA_URL", demo_pki.tsa_url("public"))
    namespace: dict[str, Any] = {"__name__": "forms_guide"}
    printed = ""
    with pinned(PINNED_NOW):
        for number, (kind, body, file) in enumerate(found):
            where = f"{GUIDE.name} block {number} ({kind})"
            if kind == "json":
                assert file, f"{where}: a JSON block names its file (<!-- file: ... -->)"
                json.loads(body)
                Path(file).write_text(body, encoding="utf-8")
            elif kind == "python":
                assert not re.search(r"^\s*(from|import) (eforms|esign|verify)\.", body, re.M), (
                    where
                )
                assert not re.search(r"\._[a-z]", body), f"{where}: a private name"
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    exec(compile(body, where, "exec"), namespace)  # noqa: S102 - the guide's own code
                printed = out.getvalue()
            elif kind == "text":
                lines = printed.splitlines()
                for want in body.splitlines():
                    if want.strip():
                        assert any(_matches(want, got) for got in lines), (where, want, lines)
            elif kind == "console":
                _run_console(body)
            else:
                pytest.fail(f"{where}: unknown block kind {kind!r}")
    bundle = namespace["bundle"]
    assert bundle.dossier_code == "000.00.00.H29-260601-0001"
    assert (tmp_path / "outbox" / bundle.dossier_code / "manifest.json").is_file()
    assert (tmp_path / "to-khai.pdf").read_bytes().startswith(b"%PDF-")
