"""The fast path on PDFs whose later revisions fill in form fields (:mod:`verify.fastpath_objects`):
a citizen signs a form, an official fills in a text field (each form its own value and
appearance) and countersigns, all written by pyHanko, with cross-reference streams or
with plain tables (each test runs on both).

The difference analysis of such a fill is the same for every value; the report's list of
filled fields (old and new values) is made for each document, and so is the check that
the signed page is blank under the filled field. Every report from the fast path must
equal full validation's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.attacks import check_box, choose, fill_field, form_pdf, press, select
from fixtures.demo import demo_trust
from fixtures.documents import pinned, sign_pdf
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.test_fastpath import _pair, _same
from tests.verify.test_fastpath_objects import each_change_as_full
from verify import Indication, SubIndication, ValidationPolicy, Verifier, fastpath

SIGNED = PINNED_NOW - timedelta(hours=2)
FILLED = SIGNED + timedelta(minutes=10)
VALUES = [
    "Đã nhận đủ hồ sơ, hẹn trả ngày 05/06/2026",
    "Bổ sung bản sao giấy khai sinh",
    "Hồ sơ số 000123 - đủ điều kiện",
    "Chờ xác minh lần 2",
]


def _filled(
    pki: DemoPKI,
    value: str,
    *,
    field: str = "GhiChu",
    at: tuple[float, float] = (12, 12),
    countersigned: bool = True,
    streams: bool = True,
) -> bytes:
    """The citizen's signature on the form, then ``field`` filled with ``value`` (its
    appearance writing it ``at`` from the widget's corner) and, if ``countersigned``, the
    official's signature: each in its own revision, each with a signature timestamp.
    ``streams``: the form and every update with cross-reference streams, else tables."""
    doc = sign_pdf(pki, "citizen", form_pdf(streams=streams), at=SIGNED, timestamp=True)
    with pinned(FILLED):
        doc = fill_field(doc, field, value, opaque=False, at=at)
    return _countersigned(pki, doc) if countersigned else doc


def _countersigned(pki: DemoPKI, doc: bytes) -> bytes:
    """``doc`` signed by the official, with a signature timestamp, half an hour later."""
    return sign_pdf(
        pki, "official", doc, at=SIGNED + timedelta(minutes=30), field_name="CanBo", timestamp=True
    )


def _verifiers(pki: DemoPKI) -> tuple[Verifier, Verifier]:
    return _pair(demo_trust(pki), ValidationPolicy(validation_time=PINNED_NOW))


KINDS = pytest.mark.parametrize("streams", [True, False], ids=["streams", "tables"])


@pytest.fixture(scope="module", params=[True, False], ids=["streams", "tables"])
def forms(demo_pki: DemoPKI, request: pytest.FixtureRequest) -> list[bytes]:
    """Four countersigned forms, the note filled with a value of its own."""
    return [_filled(demo_pki, value, streams=request.param) for value in VALUES]


def test_filled_forms_share_one_template_and_each_names_its_own_values(
    demo_pki: DemoPKI, forms: list[bytes]
) -> None:
    """Four forms whose note differs (and so does its appearance): the first is validated
    in full, the other three come from its template, every report is full validation's,
    and each names its own note as filled after the citizen's signature."""
    fast, full = _verifiers(demo_pki)
    for value, doc in zip(VALUES, forms, strict=True):
        report = fast.verify(doc)
        _same(report, full.verify(doc), value)
        assert report.indication is Indication.TOTAL_PASSED
        citizen = report.signatures[0]
        assert citizen.modifications == "FORM_FILLING_AND_SIGNATURES"
        assert f"GhiChu: '' -> {value!r}" in " ".join(citizen.warnings)
    assert fastpath.stats(fast)["hits"] == len(forms) - 1


@KINDS
def test_a_fill_over_printed_text_is_compared_in_full_each_time(
    demo_pki: DemoPKI, streams: bool
) -> None:
    """The amount's field lies over the printed amount. Filled with a value written in a
    blank part of its box, the form passes; filled with a value written over the printed
    amount, the new appearance covers signed text and the citizen's signature fails
    (FORMAT_FAILURE). The signed page is not blank under that field, so no form of this
    structure is answered from a template: each gets full validation's report, with or
    without a countersignature after the fill."""
    fast, full = _verifiers(demo_pki)
    for countersigned in (True, False):
        for value in ("OK", "OK2"):
            doc = _filled(
                demo_pki,
                value,
                field="SoTien",
                at=(300, 12),
                countersigned=countersigned,
                streams=streams,
            )
            report = fast.verify(doc)
            _same(report, full.verify(doc), value)
            assert report.indication is Indication.TOTAL_PASSED
        over = _filled(
            demo_pki,
            "999.000.000",
            field="SoTien",
            at=(12, 8),
            countersigned=countersigned,
            streams=streams,
        )
        report = fast.verify(over)
        _same(report, full.verify(over), "over the amount")
        citizen = report.signatures[0]
        assert citizen.indication is Indication.TOTAL_FAILED
        assert citizen.sub_indication is SubIndication.FORMAT_FAILURE
        assert "SoTien" in citizen.message_en
    assert fastpath.stats(fast)["hits"] == 0


@KINDS
def test_a_fill_after_the_last_signature_shares_a_template(
    demo_pki: DemoPKI, streams: bool
) -> None:
    """The note filled after the citizen's signature, with no countersignature: the forms
    share a template, each report full validation's."""
    fast, full = _verifiers(demo_pki)
    for value in ("Mot", "Hai", "Ba"):
        doc = _filled(demo_pki, value, countersigned=False, streams=streams)
        report = fast.verify(doc)
        _same(report, full.verify(doc), value)
        assert report.indication is Indication.TOTAL_PASSED
    assert fastpath.stats(fast)["hits"] == 2


@KINDS
def test_a_field_drawn_anew_with_its_value_unchanged_fails_as_full_validation_says(
    demo_pki: DemoPKI, streams: bool
) -> None:
    """The note filled again with the value it already had (none), its new appearance
    drawing nothing: the form passes, and its template is made. Another form of the same
    structure whose new appearance shows a text: the field is not among the changed ones,
    so its drawing is a visible change the filling does not explain. Full validation fails
    the citizen's signature, and so does the fast path (the page is blank under the field:
    only the list of changed fields tells the two apart)."""
    fast, full = _verifiers(demo_pki)
    signed = sign_pdf(demo_pki, "citizen", form_pdf(streams=streams), at=SIGNED, timestamp=True)
    with pinned(FILLED):
        quiet = fill_field(signed, "GhiChu", "", opaque=False, shown="")
        shown = fill_field(signed, "GhiChu", "", opaque=False, shown="Mot")
    report = fast.verify(quiet)
    _same(report, full.verify(quiet), "drawn anew, nothing shown")
    assert report.indication is Indication.TOTAL_PASSED
    report = fast.verify(shown)
    _same(report, full.verify(shown), "drawn anew, a text shown")
    assert report.signatures[0].indication is Indication.TOTAL_FAILED
    assert fastpath.stats(fast)["hits"] == 0


@KINDS
def test_a_check_box_and_a_choice_filled_in_share_a_template(
    demo_pki: DemoPKI, streams: bool
) -> None:
    """The form with a check box and a combo box: the citizen signs, the official checks
    the box (its value and appearance state now ``/Yes``, its appearances as they were),
    then chooses a result (a text and a new appearance), each in a revision of its own,
    and countersigns. Three forms, results of their own: one template, every report full
    validation's, each naming the box's old and new state and its own result."""
    fast, full = _verifiers(demo_pki)
    form = form_pdf(streams=streams, choices=True)
    for result in ("Đủ hồ sơ", "Bổ sung", "Đủ hồ sơ, đã đối chiếu"):
        doc = sign_pdf(demo_pki, "citizen", form, at=SIGNED, timestamp=True)
        with pinned(FILLED):
            doc = fill_field(check_box(doc, "DongY", True), "KetQua", result, opaque=False)
        doc = _countersigned(demo_pki, doc)
        report = fast.verify(doc)
        _same(report, full.verify(doc), result)
        assert report.indication is Indication.TOTAL_PASSED
        named = " ".join(report.signatures[0].warnings)
        assert "DongY: '/Off' -> '/Yes'" in named
        assert f"KetQua: '' -> {result!r}" in named
    assert fastpath.stats(fast)["hits"] == 2


@KINDS
def test_a_radio_group_and_a_field_whose_widget_is_its_kid_filled_in_share_templates(
    demo_pki: DemoPKI, streams: bool
) -> None:
    """Fields whose widgets are their kids: the official chooses a radio button (the
    group's value, and the buttons' appearance states: the chosen one's on, the others'
    off, their appearances as they were) and fills in a text field whose widget is its
    kid (the field's value, the kid's new appearance), then countersigns. Four forms, two
    of each choice, each its own name: one template per choice (which button changed is
    the structure), every report full validation's, each naming its own choice and
    name."""
    fast, full = _verifiers(demo_pki)
    form = form_pdf(streams=streams, kids=True)
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"]
    choices = ["TrucTiep", "BuuChinh", "TrucTiep", "BuuChinh"]
    for name, choice in zip(names, choices, strict=True):
        doc = sign_pdf(demo_pki, "citizen", form, at=SIGNED, timestamp=True)
        with pinned(FILLED):
            doc = choose(doc, "HinhThuc", choice)
            doc = fill_field(doc, "NguoiNhan", name, opaque=False, shown="x" * len(name))
        doc = _countersigned(demo_pki, doc)
        report = fast.verify(doc)
        _same(report, full.verify(doc), name)
        assert report.indication is Indication.TOTAL_PASSED
        named = " ".join(report.signatures[0].warnings)
        assert f"HinhThuc: '/Off' -> '/{choice}'" in named
        assert f"NguoiNhan: '' -> {name!r}" in named
    assert fastpath.stats(fast)["hits"] == 2


@KINDS
def test_a_radio_button_turned_on_without_its_group_changing_fails_as_full_validation_says(
    demo_pki: DemoPKI, streams: bool
) -> None:
    """A button's appearance state switched on while its group's value stays ``/Off``
    (the button drawn anew, no value changed): after a form of the same fields filled
    honestly, such a form gets full validation's report, which does not pass it."""
    fast, full = _verifiers(demo_pki)
    form = form_pdf(streams=streams, kids=True)
    honest = sign_pdf(demo_pki, "citizen", form, at=SIGNED, timestamp=True)
    with pinned(FILLED):
        honest = choose(honest, "HinhThuc", "BuuChinh")
    honest = _countersigned(demo_pki, honest)
    _same(fast.verify(honest), full.verify(honest), "honest")
    sly = sign_pdf(demo_pki, "citizen", form, at=SIGNED, timestamp=True)
    with pinned(FILLED):
        sly = press(sly, "HinhThuc", "BuuChinh")
    sly = _countersigned(demo_pki, sly)
    report = fast.verify(sly)
    _same(report, full.verify(sly), "sly")
    assert not report.signatures[0].passed


@KINDS
def test_a_list_box_of_several_choices_filled_in_shares_a_template(
    demo_pki: DemoPKI, streams: bool
) -> None:
    """A list box of several choices (the papers handed in): the official selects some (an
    array of texts, and a new appearance that lists them) and countersigns. Three forms,
    each its own selection (one, two, all three): one template, every report full
    validation's, each naming its own selection."""
    fast, full = _verifiers(demo_pki)
    form = form_pdf(streams=streams, lists=True)
    selections = [["CCCD"], ["CCCD", "Giấy khai sinh"], ["CCCD", "Giấy khai sinh", "Sổ hộ khẩu"]]
    for chosen in selections:
        doc = sign_pdf(demo_pki, "citizen", form, at=SIGNED, timestamp=True)
        with pinned(FILLED):
            doc = select(doc, "GiayTo", chosen)
        doc = _countersigned(demo_pki, doc)
        report = fast.verify(doc)
        _same(report, full.verify(doc), ", ".join(chosen))
        assert report.indication is Indication.TOTAL_PASSED
        assert f"GiayTo: '' -> {', '.join(chosen)!r}" in " ".join(report.signatures[0].warnings)
    assert fastpath.stats(fast)["hits"] == 2


def _flipped(doc: bytes, at: int, mask: int = 1) -> bytes:
    changed = bytearray(doc)
    changed[at] ^= mask
    return bytes(changed)


def test_a_changed_byte_in_a_filled_form_gets_full_validations_report(
    demo_pki: DemoPKI, forms: list[bytes]
) -> None:
    """With a filled form's template made, another changed at 40 places spread over the
    file (the fill, its appearance, the signatures, the cross-reference streams...) gets
    full validation's report each time."""
    fast, full = _verifiers(demo_pki)
    step = len(forms[1]) // 40
    each_change_as_full(fast, full, forms[0], forms[1], range(step // 2, len(forms[1]), step))


@settings(max_examples=10, deadline=None, derandomize=True)
@given(at=st.floats(min_value=0, max_value=1, exclude_max=True), mask=st.integers(1, 255))
def test_tampering_a_filled_form_never_passes_where_full_validation_does_not(
    demo_pki: DemoPKI, forms: list[bytes], at: float, mask: int
) -> None:
    """Any byte of a filled form changed to any other value: the fast path says what full
    validation says."""
    fast, full = _verifiers(demo_pki)
    fast.verify(forms[0])
    place = int(at * len(forms[2]))
    changed = _flipped(forms[2], place, mask)
    _same(fast.verify(changed), full.verify(changed), f"byte {place} ^ {mask}")
