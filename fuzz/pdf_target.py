"""Fuzz target: the PDF verifier. It must return a report for any bytes, within bounds.

Run: ``python -m fuzz.pdf_target fuzz/corpus/pdf -max_total_time=60`` (libFuzzer flags).
A crash is any exception escaping ``Verifier.verify`` (it promises never to raise), a hang
past ``-timeout`` or memory past ``-rss_limit_mb``. A pass of a mutated signed file is
also reported: the seeds' signed bytes may only pass unchanged.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["verify", "pyhanko", "asn1crypto"]):
    from fuzz._common import offline_verifier
    from verify import DocumentReport, Indication


def one_input(data: bytes) -> None:
    report = offline_verifier().verify(data)
    if not isinstance(report, DocumentReport):
        raise AssertionError("the verifier returned something else than a report")
    if report.indication is Indication.TOTAL_PASSED and not report.signatures:
        raise AssertionError("TOTAL_PASSED without any signature")


def main() -> None:
    offline_verifier()  # build the PKI before fuzzing starts
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
