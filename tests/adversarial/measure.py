"""Measure every corpus case on its own and write ``CASES.md``.

``python -m tests.adversarial.measure`` starts the demo services on loopback, builds each
case, verifies it in a fresh subprocess (``run_one``) and records the verdict, the wall
time of the verification and the peak resident memory of that process. Run it on a quiet
machine; the figures in ``CASES.md`` say where they were taken.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
from pathlib import Path

from fixtures.pki import start_services
from tests.adversarial.corpus import BOUND, CASES, PINNED_NOW, Bases, Case
from tests.adversarial.isolate import Outcome, run_isolated

HERE = Path(__file__).resolve().parent

HEADER = """# The adversarial corpus

Every case of `corpus.py`, how it is made, the verdict the verifier must give and why, and
what verifying it cost: wall time of the verification and peak resident memory of a fresh
process that verified only this case (the interpreter, pyHanko and the case; a bare
process that imports the verifier is about {baseline} MB). Written by
`python -m tests.adversarial.measure`; {machine}.

Bounds (`corpus.BOUND`, checked by `test_corpus.py`): at most {secs:g} s per case, isolated
cases end within {iso:g} s with at most {mem:g} MB peak. Verdicts: P = TOTAL_PASSED,
F = TOTAL_FAILED, I = INDETERMINATE. "measured" is what this run got; a mismatch with the
expectation is marked **MISMATCH**.

"""

CORRECTED = """
## Expectations corrected, and why

* `ts-untrusted-tsa-rescue` was written as F / REVOKED. The signature claims 2026-02-01,
  before the revocation (2026-03-01), and only an untrusted token backs that claim. ETSI
  EN 319 102-1 (5.2.6, revocation) gives INDETERMINATE / REVOKED_NO_POE when the signing
  time is claimed before the revocation but not proven, which is also what
  `tests/verify/test_verifier.py` requires for the same situation without a token. What
  matters holds: the attacker's token proves nothing (`signing_time_proven` is empty,
  `test_untrusted_timestamp_proves_no_signing_time`) and the signature does not pass.
* `cms-signing-cert-missing` (a *detached* CMS without signing-certificate-v2) is
  I / NO_SIGNING_CERTIFICATE_FOUND, as the table says: detached signatures are judged as
  CAdES baseline signatures, which must carry the ESS attribute. `openssl cms -sign` adds it
  with `-cades` (`test_openssl_cms_sign_detached_verifies` checks both ways). Legacy
  `adbe.pkcs7.detached` PDF signatures without it get a warning instead; a PDF signature
  whose SubFilter declares PAdES (`/ETSI.CAdES.detached`) without it is
  I / NO_SIGNING_CERTIFICATE_FOUND (`cms-pdf-signing-cert-missing`).
"""


def letter(indication: str | None) -> str:
    return {"total-passed": "P", "total-failed": "F", "indeterminate": "I"}.get(
        (indication or "").lower().replace("_", "-"), indication or "?"
    )


def verdict_text(indication: str | None, sub: str | None) -> str:
    return letter(indication) + (f" / {sub}" if sub else "")


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def measured(case: Case, out: Outcome) -> tuple[str, str, str]:
    if out.timed_out:
        return "timeout", "-", "-"
    if out.result is None or "indication" not in out.result:
        raised = (out.result or {}).get("raised", out.stderr[-120:])
        return f"escaped: {raised}", "-", "-"
    r = out.result
    got = verdict_text(r["indication"], r["sub_indication"])
    want = verdict_text(case.indication.value, case.sub.value if case.sub else None)
    if got != want:
        got = f"**MISMATCH** {got}"
    return got, f"{r['elapsed_s']:.2f}", f"{r['peak_rss_mb']:.0f}"


def main() -> int:
    services = start_services(at_time=PINNED_NOW)
    rows = []
    baseline = 0.0
    try:
        bases = Bases(services.pki)
        with tempfile.TemporaryDirectory() as tmp:
            for n, case in enumerate(CASES):
                out = run_isolated(case.build(bases), services.pki, Path(tmp) / case.id, 120.0)
                got, secs, mem = measured(case, out)
                if out.result and "baseline_rss_mb" in out.result:
                    baseline = max(baseline, out.result["baseline_rss_mb"])
                want = verdict_text(case.indication.value, case.sub.value if case.sub else None)
                rows.append(
                    f"| `{case.id}` | {case.klass} | {cell(case.how)} | {want} | "
                    f"{cell(case.why)} | {got} | {secs} | {mem} |"
                )
                print(f"[{n + 1}/{len(CASES)}] {case.id}: {got} {secs}s {mem}MB", file=sys.stderr)
    finally:
        services.stop()
    machine = (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    text = HEADER.format(
        baseline=f"{baseline:.0f}",
        machine=machine,
        secs=BOUND.seconds_per_case,
        iso=BOUND.isolate_timeout,
        mem=BOUND.peak_rss_mb,
    )
    text += "| case | class | how it is made | expected | why | measured | s | peak MB |\n"
    text += "|---|---|---|---|---|---|---:|---:|\n"
    text += "\n".join(rows) + "\n" + CORRECTED
    (HERE / "CASES.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
