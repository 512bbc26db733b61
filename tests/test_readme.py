"""The README's Python example runs as printed and says what it claims."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_example_runs_and_prints_the_verdicts() -> None:
    """The example validates a form (Vietnamese errors) and passes the real MISA-CA contract."""
    (block,) = _python_blocks()
    done = subprocess.run(
        [sys.executable, "-c", block],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("/requester/relationship required ")
    assert any(line.startswith("/requester/phone format.vn-mobile ") for line in lines)
    assert "«0912» không hợp lệ" in done.stdout
    assert lines[-1].startswith("TOTAL_PASSED CÔNG TY TNHH DỊCH VỤ CÔNG NGHỆ TRỰC TUYẾN ")
