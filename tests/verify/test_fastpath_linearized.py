"""The fast path on linearized files (qpdf's, through pikepdf) signed twice by pyHanko.

A linearized file's first revision has two cross-reference sections: its main one, at
the end of the revision, and its first page's, near the start of the file, which pyHanko
reads as the next revision. A citizen's signature and an official's countersignature
over such a file (as Acrobat's "Fast Web View" writes forms) are read byte for byte like
any other two-signature document; every report must be full validation's own.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.documents import linearized_pdf, sign_pdf
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.test_fastpath import (
    SIGNED_AT,
    _check,
    _flipped,
    _pair,
    _same,
    changed_byte_passes_only_in_the_last_signature_value,
    countersign,
    resign_all,
)
from tests.verify.test_verifier import demo_trust
from verify import ValidationPolicy, Verifier, fastpath

PAIR = ["citizen", "official"]


@pytest.fixture(scope="module")
def genuine(demo_pki: DemoPKI) -> bytes:
    """A linearized file signed by a citizen, then countersigned by an official."""
    base = linearized_pdf("Ho so", padding=1000)
    assert base.startswith(b"%PDF-1.7\n")
    assert b"/Linearized" in base[:100]
    return countersign(demo_pki, "official", sign_pdf(demo_pki, "citizen", base, at=SIGNED_AT))


def test_linearized_two_signature_documents_come_from_a_template_as_full_validation_says(
    demo_pki: DemoPKI, genuine: bytes
) -> None:
    """Re-signed copies of a linearized two-signature document, copies whose signed content
    was changed, and copies countersigned anew at other times: every report full
    validation's, and one full validation for each shape and hash outcome."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    passing, failing = [], []
    for i in range(4):
        doc = resign_all(demo_pki, PAIR, genuine, i)
        passing.append((f"re-signed {i}", doc))
        failing.append((f"re-signed {i}, content changed", _flipped(doc, doc.index(b"xxxx") + 9)))
    for what, doc in [*passing, *failing]:
        report = full.verify(doc)
        _same(fast.verify(doc), report, what)
        assert report.passed is ("changed" not in what), what
    assert len(passing) + len(failing) - fastpath.stats(fast)["hits"] == 2
    assert fastpath.stats(fast)["templates"] == 2


def test_a_linearized_document_with_its_linearization_dictionary_broken_is_validated_in_full(
    demo_pki: DemoPKI, genuine: bytes
) -> None:
    """The same document whose first object no longer says /Linearized (its sections are
    then out of the order the fast path reads): never answered from a template, the
    report full validation's."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    for i in range(2):
        _check(fast, full, resign_all(demo_pki, PAIR, genuine, i), None, "warm")
    hits = fastpath.stats(fast)["hits"]
    at = genuine.index(b"/Linearized") + len(b"/Linearize")
    broken = resign_all(demo_pki, PAIR, _flipped(genuine, at, ord("d") ^ ord("D")), 5)
    _check(fast, full, broken, None, "/LinearizeD")
    assert fastpath.stats(fast)["hits"] == hits


@pytest.fixture(scope="module")
def warm(demo_pki: DemoPKI, genuine: bytes) -> tuple[Verifier, Verifier, bytes]:
    """A warm pair of verifiers (the genuine and a tampered shape's templates made) and a
    linearized two-signature document of that shape."""
    fast, full = _pair(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    for i in range(2):
        doc = resign_all(demo_pki, PAIR, genuine, i)
        _check(fast, full, doc, None, "warm")
        _check(fast, full, _flipped(doc, doc.index(b"xxxx") + 3), None, "warm, tampered")
    return fast, full, resign_all(demo_pki, PAIR, genuine, 7)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_changed_byte_in_a_linearized_document_gets_full_validations_report(
    warm: tuple[Verifier, Verifier, bytes], data: st.DataObject
) -> None:
    """Any one byte of a linearized two-signature document changed (anywhere, any way,
    its two first cross-reference sections and the linearization dictionary included):
    fast = full, and it passes only if the byte is inside the countersignature's own
    /Contents (which no signature covers)."""
    fast, full, doc = warm
    changed_byte_passes_only_in_the_last_signature_value(fast, full, doc, data)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_a_changed_byte_in_the_first_revisions_sections_gets_full_validations_report(
    warm: tuple[Verifier, Verifier, bytes], data: st.DataObject
) -> None:
    """A byte changed where the fast path's reading of a linearized file differs from a
    plain one's: the linearization dictionary and the first revision's two
    cross-reference sections and trailers. Fast = full, and never a pass."""
    fast, full, doc = warm
    first_page = doc.index(b"xref", 0)
    main = doc.index(b"xref", doc.index(b"%%EOF") + 5)
    regions = [
        (0, doc.index(b"endobj") + 6),
        (first_page, doc.index(b"%%EOF", first_page) + 5),
        (main, doc.index(b"%%EOF", main) + 5),
    ]
    start, end = data.draw(st.sampled_from(regions), label="region")
    at = data.draw(st.integers(start, end - 1), label="offset")
    mask = data.draw(st.integers(1, 255), label="xor")
    changed = _flipped(doc, at, mask)
    report = fast.verify(changed)
    _same(report, full.verify(changed), f"byte {at} ^ {mask}")
    assert not report.passed
