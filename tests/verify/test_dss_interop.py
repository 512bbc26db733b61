"""EU DSS's own PAdES test files: we agree with DSS on integrity and on unexplained changes.

``tests/data/dss/facts.json`` holds, per file, what DSS's JUnit test asserts; where we
differ on purpose, its ``ours`` entry says what we report instead and why (see
``tests/data/dss/SOURCES.md``). ``python -m tests.verify.test_dss_interop`` prints the
agreement counts against DSS's facts alone.
"""

from __future__ import annotations

import functools
import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from verify import DocumentReport, Indication, RevocationMode, ValidationPolicy, Verifier
from verify.report import SignatureReport
from verify.trust import TrustProfile

# files from producers in the wild make cryptography and pyHanko warn (non-positive
# serial numbers, over-long name attributes, odd seeks): the verifier runs as in
# production, where a warning is not an error
pytestmark = pytest.mark.filterwarnings("ignore")

DATA = Path(__file__).resolve().parents[1] / "data" / "dss"
FACTS: dict[str, dict[str, Any]] = json.loads((DATA / "facts.json").read_text("utf-8"))["files"]
AT = datetime(2026, 1, 1, tzinfo=UTC)
"""Pinned validation time: trust and time are not what these files are compared on."""
_CHANGE_FAILURES = (
    "modified after signing",
    "visible change",
    "hidden update",
    "filled form shows",
)
FACT_NAMES = ("signatures", "intact", "unexplained", "terminates")


@functools.cache
def _verifier() -> Verifier:
    policy = ValidationPolicy(validation_time=AT, network=False, revocation=RevocationMode.SOFT)
    return Verifier(TrustProfile.custom([]), policy)


@functools.cache
def _report(name: str) -> tuple[DocumentReport, float]:
    started = time.monotonic()
    report = _verifier().verify(DATA / name)
    return report, time.monotonic() - started


def _signatures(report: DocumentReport) -> list[SignatureReport]:
    """What DSS calls signatures: not document timestamps, nor RFC 3161 tokens in /Sig."""
    return [
        s for s in report.signatures if s.kind == "signature" and s.sub_filter != "/ETSI.RFC3161"
    ]


def _flags_change(sig: SignatureReport) -> bool:
    """Whether we say something changed after the signature that nothing permits."""
    if sig.modifications in ("OTHER", "NOT_ANALYSED"):
        return True
    return sig.indication is Indication.TOTAL_FAILED and any(
        words in sig.message_en for words in _CHANGE_FAILURES
    )


def _per_signature(value: Any, count: int) -> list[Any]:
    if isinstance(value, list):
        return value
    return [True] * count if value == "all" else [value] * count


def _dss_unexplained(facts: dict[str, Any], count: int) -> list[bool | None]:
    """DSS's finding per signature: True (undefined changes or visual differences),
    False (asserted absent), None (not asserted)."""
    undefined = _per_signature(facts["undefined_changes"], count)
    visual = _per_signature(facts["visual_changes"], count)
    out: list[bool | None] = []
    for index in range(count):
        found = [v[index] if index < len(v) else None for v in (undefined, visual) if v is not None]
        if True in found:
            out.append(True)
        elif False in found:
            out.append(False)
        else:
            out.append(None)
    return out


def expected(name: str, fact: str, count: int) -> Any:
    """DSS's fact, or ours where facts.json documents a deliberate difference."""
    facts = FACTS[name]
    ours = facts.get("ours", {})
    if fact in ours:
        value = ours[fact]
        return _per_signature(value, count) if fact in ("intact", "unexplained") else value
    return dss_fact(name, fact, count)


def dss_fact(name: str, fact: str, count: int) -> Any:
    facts = FACTS[name]
    if fact == "signatures":
        return facts["signatures"]
    if fact == "intact":
        return None if facts["intact"] is None else _per_signature(facts["intact"], count)
    if fact == "unexplained":
        return _dss_unexplained(facts, count)
    return facts.get("terminates")


def observed(name: str) -> dict[str, Any]:
    report, elapsed = _report(name)
    sigs = _signatures(report)
    return {
        "signatures": len(sigs),
        "intact": [s.integrity for s in sigs],
        # a signature whose bytes do not match has no "after signing" to judge
        "unexplained": [None if s.integrity is False else _flags_change(s) for s in sigs],
        "terminates": elapsed < 3.0,
    }


def compare(name: str, fact: str, *, ours: bool) -> tuple[int, int]:
    """(agreements, differences) on one fact of one file; per signature where per signature."""
    seen = observed(name)
    count = seen["signatures"]
    want = (expected if ours else dss_fact)(name, fact, count)
    if want is None:
        return 0, 0
    if fact == "signatures":
        return (1, 0) if want == count else (0, 1)
    if fact == "terminates":
        return (1, 0) if seen["terminates"] else (0, 1)
    got = seen[fact]
    agree = differ = 0
    for index, value in enumerate(want):
        if value is None:
            continue
        if index < len(got) and got[index] is None and fact == "unexplained":
            continue
        if index < len(got) and got[index] is value:
            agree += 1
        else:
            differ += 1
    return agree, differ


@pytest.mark.parametrize("name", sorted(FACTS))
def test_dss_file(name: str) -> None:
    """Our signature count, integrity and change findings are DSS's, or our documented ones."""
    seen = observed(name)
    count = seen["signatures"]
    want_count = expected(name, "signatures", count)
    if want_count is not None:
        assert count == want_count, f"{name}: {count} signatures, expected {want_count}"
    elif FACTS[name].get("terminates") is None:
        assert count >= 1, f"{name}: DSS finds at least one signature"
    if expected(name, "terminates", count):
        assert seen["terminates"], f"{name}: the verifier took too long"
    for fact in ("intact", "unexplained"):
        want = expected(name, fact, count)
        if want is None:
            continue
        got = seen[fact]
        for index, value in enumerate(want):
            if value is None:
                continue
            assert index < len(got), f"{name}: no signature {index + 1}"
            if got[index] is None and fact == "unexplained":
                continue
            assert got[index] is value, f"{name}: signature {index + 1} {fact}={got[index]}"


def test_every_deliberate_difference_says_why() -> None:
    """Each documented difference from DSS names the fact it changes and gives a reason."""
    for name, facts in FACTS.items():
        ours = facts.get("ours")
        if ours is None:
            continue
        assert ours.get("why"), name
        assert set(ours) - {"why"} <= set(FACT_NAMES), name


def measure(*, ours: bool = False) -> dict[str, Counter[str]]:
    """Agreement counts per fact over every file (against DSS's facts unless ``ours``)."""
    totals: dict[str, Counter[str]] = {fact: Counter() for fact in FACT_NAMES}
    for name in sorted(FACTS):
        for fact in FACT_NAMES:
            agree, differ = compare(name, fact, ours=ours)
            totals[fact]["agree"] += agree
            totals[fact]["differ"] += differ
            if differ and not ours:
                totals[fact][name] += differ
    return totals


if __name__ == "__main__":
    for fact, counts in measure().items():
        files = sorted(k for k in counts if k not in ("agree", "differ"))
        print(f"{fact}: agree {counts['agree']}, differ {counts['differ']}")
        for name in files:
            print(f"    {name}: {observed(name)[fact]}")
