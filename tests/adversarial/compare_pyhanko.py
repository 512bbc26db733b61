"""How pyHanko alone judges each corpus case: ``python -m tests.adversarial.compare_pyhanko``.

"pyHanko alone" is what an integration calling ``async_validate_pdf_signature`` (every
signature pyHanko's reader finds; ``async_validate_pdf_timestamp`` for document
timestamps) or ``async_validate_detached_cms`` would conclude: it
accepts when the status' ``bottom_line`` (PDF) or intact+valid+trusted (CMS) holds.
Trust: the same demo roots, OCSP/CRL fetching on loopback, revocation soft-fail (pyHanko's
default). Each case runs in its own subprocess with a time limit. The table is written to
``PYHANKO.md`` next to this file; ``docs/security.md`` summarises it per attack class.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from fixtures.pki import start_services
from tests.adversarial.corpus import CASES, PINNED_NOW, Bases
from tests.adversarial.isolate import run_spec, write_spec
from tests.adversarial.measure import cell, verdict_text

HERE = Path(__file__).resolve().parent
TIMEOUT = 120.0


def main() -> int:
    services = start_services(at_time=PINNED_NOW)
    rows = []
    try:
        bases = Bases(services.pki)
        with tempfile.TemporaryDirectory() as tmp:
            for n, case in enumerate(CASES):
                spec = write_spec(case.build(bases), services.pki, Path(tmp) / case.id)
                out = run_spec(spec, TIMEOUT, "--pyhanko")
                if out.timed_out:
                    said, secs = f"no answer within {TIMEOUT:g} s", "-"
                elif out.result is None:
                    said, secs = f"process died ({out.returncode}): {out.stderr[-120:]}", "-"
                else:
                    said, secs = out.result["pyhanko"], f"{out.result['elapsed_s']:.2f}"
                ours = verdict_text(case.indication.value, case.sub.value if case.sub else None)
                wrong = said.startswith("accepts") and case.indication.value != "TOTAL_PASSED"
                flag = " **accepts a forgery**" if wrong else ""
                rows.append(
                    f"| `{case.id}` | {case.klass} | {ours} | {cell(said)}{flag} | {secs} |"
                )
                print(f"[{n + 1}/{len(CASES)}] {case.id}: {said[:100]}", file=sys.stderr)
    finally:
        services.stop()
    text = (
        "# pyHanko alone on the adversarial corpus\n\n"
        "Written by `python -m tests.adversarial.compare_pyhanko` (see its docstring for "
        'what "alone" means). *ours* is the verdict `test_corpus.py` enforces.\n\n'
        "| case | class | ours | pyHanko alone | s |\n|---|---|---|---|---:|\n"
    )
    (HERE / "PYHANKO.md").write_text(text + "\n".join(rows) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
