"""The adversarial corpus: every case gets its expected verdict, within the stated bounds.

The table is :data:`tests.adversarial.corpus.CASES`; ``CASES.md`` lists it with measured
time and memory. Base documents are signed once per module; each case changes bytes.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fixtures.pki import DemoPKI
from tests.adversarial.corpus import (
    BOUND,
    CASES,
    CASES_BY_ID,
    Bases,
    Case,
    Input,
    make_verifier,
)
from tests.adversarial.isolate import run_isolated, write_data
from verify import DocumentReport, Indication, SubIndication, Verifier

IN_PROCESS = [c for c in CASES if not c.isolate]
ISOLATED = [c for c in CASES if c.isolate]

# The only cases allowed to pass: legitimate changes, positive controls and abuse that
# forges nothing. Everything else in the table is forged or altered.
MAY_PASS = {
    "isa-dss-and-doc-timestamp",
    "isa-second-signature",
    "form-fill-benign",
    "cert-form-fill-p2",
    "ts-trusted-before-revocation",
    "path-lab-control",
    "path-50-long",
    "res-10000-certificates",
    # not forgeries: the signed bytes are the signer's; what they lack is judged by the
    # policy (a warning by default, as EU DSS does), and a borrowed timestamp proves nothing
    "cms-signing-cert-missing",
    "cms-pdf-signing-cert-missing",
    "ts-over-other-data",
}


@pytest.fixture(scope="module")
def bases(demo_pki: DemoPKI) -> Bases:
    return Bases(demo_pki)


_VERIFIERS: dict[tuple[bytes, ...], Verifier] = {}


def verifier_for(pki: DemoPKI, inp: Input) -> Verifier:
    """One verifier per trust set, shared by the cases (as a service would share it)."""
    key = tuple(c.dump() for c in inp.anchors)
    if key not in _VERIFIERS:
        _VERIFIERS[key] = make_verifier(pki, inp)
    return _VERIFIERS[key]


def verify_input(pki: DemoPKI, inp: Input, folder: Path) -> DocumentReport:
    verifier = verifier_for(pki, inp)
    if inp.sparse_size is not None:
        return verifier.verify(write_data(inp, folder / "data.bin"))
    if inp.detached is not None:
        return verifier.verify(inp.data, detached=inp.detached)
    return verifier.verify(inp.data)


def expected(case: Case) -> tuple[str, str | None]:
    return case.indication.value, case.sub.value if case.sub is not None else None


def test_only_benign_cases_expect_to_pass() -> None:
    """The table never expects TOTAL_PASSED for a forged or altered case."""
    passing = {c.id for c in CASES if c.indication is Indication.TOTAL_PASSED}
    assert passing == MAY_PASS


def test_every_attack_class_of_the_issue_is_in_the_table() -> None:
    """Each attack class has cases, and the ids the docs cite exist."""
    classes = {c.klass.split(" (")[0] for c in CASES}
    assert {
        "USF",
        "ISA",
        "SWA",
        "Shadow",
        "Certified",
        "CMS",
        "Unsupported",
        "Timestamp",
        "Algorithms",
        "Certificates",
        "Path",
        "Resource",
    } <= classes
    assert set(CASES_BY_ID) >= MAY_PASS


@pytest.mark.parametrize("case", IN_PROCESS, ids=[c.id for c in IN_PROCESS])
def test_case_gets_its_expected_verdict(
    case: Case, bases: Bases, demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """The document's indication and sub-indication are the table's, within the time bound,
    and every verdict that does not pass names its cause in both languages."""
    inp = case.build(bases)
    started = time.perf_counter()
    report = verify_input(demo_pki, inp, tmp_path)
    elapsed = time.perf_counter() - started
    got = report.indication.value, report.sub_indication.value if report.sub_indication else None
    assert got == expected(case), report.message_en
    if case.indication is not Indication.TOTAL_PASSED:
        assert report.indication is not Indication.TOTAL_PASSED
    for message in (report.message_en, *(s.message_en for s in report.signatures)):
        assert "no further detail" not in message, message
    for message in (report.message_vi, *(s.message_vi for s in report.signatures)):
        assert "không rõ lý do" not in message, message
    assert elapsed < BOUND.seconds_per_case


@pytest.mark.parametrize("case", ISOLATED, ids=[c.id for c in ISOLATED])
def test_isolated_case_ends_in_its_verdict_within_bounds(
    case: Case, bases: Bases, demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """In a subprocess: no hang, no escaped exception, bounded memory, the expected verdict."""
    outcome = run_isolated(case.build(bases), demo_pki, tmp_path, BOUND.isolate_timeout)
    assert not outcome.timed_out
    assert outcome.result is not None, outcome.stderr
    assert "raised" not in outcome.result, outcome.result
    assert outcome.verdict == expected(case), outcome.result["message_en"]
    assert outcome.result["elapsed_s"] < BOUND.seconds_per_case
    assert outcome.result["peak_rss_mb"] < BOUND.peak_rss_mb


def test_untrusted_timestamp_proves_no_signing_time(bases: Bases, demo_pki: DemoPKI) -> None:
    """An attacker's timestamp token is reported but never becomes the proven signing time."""
    inp = CASES_BY_ID["ts-untrusted-tsa-rescue"].build(bases)
    report = make_verifier(demo_pki, inp).verify(inp.data, detached=inp.detached)
    (sig,) = report.signatures
    assert sig.signing_time_proven is None
    assert [t.indication for t in sig.timestamps] == [Indication.INDETERMINATE]


def test_plain_cms_without_signing_certificate_warns_and_fails_when_the_policy_says_so(
    bases: Bases, demo_pki: DemoPKI
) -> None:
    """A detached CMS without the ESS attribute passes with a warning that says why (the
    default level WARN, as in EU DSS), and is INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND
    with the constraint at FAIL; the detailed report shows the constraint either way."""
    inp = CASES_BY_ID["cms-signing-cert-missing"].build(bases)
    verifier = make_verifier(demo_pki, inp)
    (sig,) = verifier.verify(inp.data, detached=inp.detached).signatures
    assert sig.passed
    assert any("signing-certificate" in w for w in sig.warnings)
    [checked] = [c for c in sig.constraints if c.id == "signing_certificate_present"]
    assert (checked.level, checked.status) == ("WARN", "failed")
    strict = Verifier(
        verifier.trust,
        verifier.policy.replace(constraints={"signing_certificate_present": "FAIL"}),
    )
    report = strict.verify(inp.data, detached=inp.detached)
    (sig,) = report.signatures
    assert sig.sub_indication is SubIndication.NO_SIGNING_CERTIFICATE_FOUND
    assert "signing-certificate" in report.message_en
    assert "signing-certificate" in report.message_vi


def test_hidden_update_is_named_in_the_report(bases: Bases, demo_pki: DemoPKI) -> None:
    """An update hidden behind a fake trailer fails with a reason naming the hidden update."""
    inp = CASES_BY_ID["isa-fake-trailer"].build(bases)
    report = make_verifier(demo_pki, inp).verify(inp.data)
    assert "hidden update" in report.message_en
    assert "cập nhật bị che giấu" in report.message_vi


def test_form_filling_lists_changed_fields_with_old_and_new_values(
    bases: Bases, demo_pki: DemoPKI
) -> None:
    """Allowed form filling passes with a warning naming each field, old and new value."""
    inp = CASES_BY_ID["form-fill-benign"].build(bases)
    report = make_verifier(demo_pki, inp).verify(inp.data)
    assert report.indication is Indication.TOTAL_PASSED
    (sig,) = report.signatures
    assert any("GhiChu: '' -> 'DA DUYET'" in w for w in sig.warnings)


def test_field_painting_over_signed_content_is_named(bases: Bases, demo_pki: DemoPKI) -> None:
    """The shadow 'replace via form' failure names the field drawn over signed content."""
    inp = CASES_BY_ID["shadow-replace-via-form"].build(bases)
    report = make_verifier(demo_pki, inp).verify(inp.data)
    (sig,) = report.signatures
    assert "field 'SoTien' is drawn over signed page content" in sig.message_en
    assert any("SoTien: '' -> 'SO TIEN: 999.000.000 VND'" in w for w in sig.warnings)
