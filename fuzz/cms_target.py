"""Fuzz target: the detached CMS verifier over fixed content.

Run: ``python -m fuzz.cms_target fuzz/corpus/cms -max_total_time=60``. A crash is an
exception escaping ``Verifier.verify_detached``, a hang or a memory blow-up.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["verify", "pyhanko", "asn1crypto"]):
    from fuzz._common import offline_verifier
    from verify import DocumentReport

DATA = b'{"ho_ten": "Nguyen Thi Hoa"}'


def one_input(data: bytes) -> None:
    report = offline_verifier().verify_detached(DATA, data)
    if not isinstance(report, DocumentReport):
        raise AssertionError("the verifier returned something else than a report")


def main() -> None:
    offline_verifier()
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
