"""The difference analysis for fields whose widgets are their kids (:mod:`verify.diffrules`):
a fill passes as pyHanko passes a merged widget's, and nothing more does."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields

from fixtures.attacks import _write, choose, fill_field, form_pdf
from fixtures.demo import demo_trust
from fixtures.documents import pinned, sign_pdf
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from verify import Indication, ValidationPolicy, Verifier

SIGNED = PINNED_NOW - timedelta(hours=2)
LATER = SIGNED + timedelta(minutes=10)
KINDS = pytest.mark.parametrize("streams", [True, False], ids=["streams", "tables"])


def _signed(pki: DemoPKI, streams: bool, lock: fields.FieldMDPSpec | None = None) -> bytes:
    form = form_pdf(streams=streams, kids=True)
    return sign_pdf(pki, "citizen", form, at=SIGNED, field_lock=lock)


def _citizen(pki: DemoPKI, doc: bytes) -> tuple[Indication, str, str | None]:
    verifier = Verifier(demo_trust(pki), ValidationPolicy(validation_time=PINNED_NOW))
    sig = verifier.verify(doc).signatures[0]
    return sig.indication, sig.message_en, sig.modifications


def _edit_kid(doc: bytes, field: str, change: str) -> bytes:
    """Change the first widget of ``field`` in an update, as ``change`` says."""
    w = IncrementalPdfFileWriter(io.BytesIO(doc), strict=False)
    group = next(
        f.get_object() for f in w.root["/AcroForm"]["/Fields"] if f.get_object()["/T"] == field
    )
    kid_ref = group.raw_get("/Kids").raw_get(0)
    kid = kid_ref.get_object()
    if change == "moved":
        kid[generic.NameObject("/Rect")] = generic.ArrayObject(
            [generic.FloatObject(x) for x in (60, 700, 80, 720)]
        )
    elif change == "drawing rewritten":  # the appearance stream itself written anew, in place
        stream = kid["/AP"]["/N"]["/Off"] if "/Off" in kid["/AP"]["/N"] else kid["/AP"]["/N"]
        stream._data = b"q 0 g 0 0 20 20 re f Q"
        stream._encoded_data = None
        w.mark_update(stream.container_ref)
        kid[generic.NameObject("/AS")] = generic.NameObject("/Off")
    w.update_container(kid)
    return _write(w)


@KINDS
def test_filling_fields_whose_widgets_are_kids_passes_as_form_filling(
    demo_pki: DemoPKI, streams: bool
) -> None:
    """A radio button chosen and a text field filled through its kid widget after the
    citizen signed: the citizen's signature passes, the change judged form filling (EU
    DSS and Adobe Reader judge it so; pyHanko's default rules alone did not)."""
    doc = _signed(demo_pki, streams)
    with pinned(LATER):
        doc = fill_field(choose(doc, "HinhThuc", "TrucTiep"), "NguoiNhan", "Lê Thị Hoa")
    indication, _message, modifications = _citizen(demo_pki, doc)
    assert indication is Indication.TOTAL_PASSED
    assert modifications == "FORM_FILLING_AND_SIGNATURES"


@KINDS
@pytest.mark.parametrize("change", ["moved", "drawing rewritten"])
def test_a_kid_widget_changed_beyond_a_fill_fails(
    demo_pki: DemoPKI, streams: bool, change: str
) -> None:
    """A button moved elsewhere on the page, or an existing appearance stream rewritten in
    place (what the signer saw, changed): not a fill, and the citizen's signature fails."""
    doc = _signed(demo_pki, streams)
    with pinned(LATER):
        doc = _edit_kid(doc, "HinhThuc", change)
    indication, message, modifications = _citizen(demo_pki, doc)
    assert indication is Indication.TOTAL_FAILED, message
    assert modifications == "OTHER"


@KINDS
def test_a_locked_field_filled_through_its_kids_fails(demo_pki: DemoPKI, streams: bool) -> None:
    """The citizen's signature locks the radio group (FieldMDP): choosing a button after
    it is not allowed, kids or not."""
    lock = fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, ["HinhThuc"])
    doc = _signed(demo_pki, streams, lock)
    with pinned(LATER):
        doc = choose(doc, "HinhThuc", "BuuChinh")
    indication, message, _modifications = _citizen(demo_pki, doc)
    assert indication is Indication.TOTAL_FAILED, message
    # the same lock leaves the other field free
    free = _signed(demo_pki, streams, lock)
    with pinned(LATER):
        free = fill_field(free, "NguoiNhan", "Lê Thị Hoa")
    assert _citizen(demo_pki, free)[0] is Indication.TOTAL_PASSED
