"""Run one case's verification in a subprocess, with a timeout, and read its JSON result."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixtures.pki import DemoPKI
from tests.adversarial.corpus import Input

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Outcome:
    """What the subprocess said: a verdict, an escaped exception, a crash or a timeout."""

    result: dict[str, Any] | None
    timed_out: bool = False
    returncode: int | None = None
    stderr: str = ""

    @property
    def verdict(self) -> tuple[str, str | None] | None:
        if self.result is None or "indication" not in self.result:
            return None
        return self.result["indication"], self.result["sub_indication"]


def write_data(inp: Input, path: Path) -> Path:
    """Write the case's data; a sparse case is extended to its size without using disk."""
    with path.open("wb") as f:
        f.write(inp.data)
        if inp.sparse_size is not None:
            f.truncate(inp.sparse_size)
    return path


def write_spec(inp: Input, pki: DemoPKI | None, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec: dict[str, Any] = {"data": str(folder / "data.bin")}
    write_data(inp, folder / "data.bin")
    if inp.detached is not None:
        (folder / "sig.p7s").write_bytes(inp.detached)
        spec["detached"] = str(folder / "sig.p7s")
    if inp.anchors:
        spec["anchors"] = []
        for n, cert in enumerate(inp.anchors):
            p = folder / f"anchor{n}.der"
            p.write_bytes(cert.dump())
            spec["anchors"].append(str(p))
    else:
        assert pki is not None
        roots = {}
        for h in ("public", "specialized"):
            p = folder / f"{h}.der"
            p.write_bytes(pki.root(h).dump())
            roots[h] = str(p)
        spec["demo_roots"] = roots
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def run_spec(spec: Path, timeout: float, *extra: str) -> Outcome:
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.adversarial.run_one", str(spec), *extra],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(None, timed_out=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1]) if lines else None
    return Outcome(result, returncode=proc.returncode, stderr=proc.stderr[-2000:])


def run_isolated(inp: Input, pki: DemoPKI | None, folder: Path, timeout: float) -> Outcome:
    return run_spec(write_spec(inp, pki, folder), timeout)
