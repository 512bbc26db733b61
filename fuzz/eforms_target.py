"""Fuzz target: e-form validation (data against a bundled form) and definition loading.

Run: ``python -m fuzz.eforms_target fuzz/corpus/eforms -max_total_time=60``. The input is
read as JSON; ``validate`` must return a report for any JSON, and ``load_definition`` must
either load or raise :class:`~eforms.errors.DefinitionError`: any other exception, a hang
or a memory blow-up is a crash.
"""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import date
from functools import cache

import atheris

with atheris.instrument_imports(include=["eforms", "jsonschema"]):
    from eforms.catalog import bundled_catalog
    from eforms.definition import FormDefinition, load_definition
    from eforms.errors import DefinitionError
    from eforms.validation import ValidationReport, validate
    from fuzz._common import FORM_ID


@cache
def form() -> FormDefinition:
    return bundled_catalog().form(FORM_ID)


def one_input(data: bytes) -> None:
    try:
        value = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return
    report = validate(form(), value, today=date(2026, 6, 1))
    if not isinstance(report, ValidationReport):
        raise AssertionError("validate returned something else than a report")
    if isinstance(value, dict):
        with contextlib.suppress(DefinitionError):
            load_definition(value, name="fuzz")


def main() -> None:
    form()
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
