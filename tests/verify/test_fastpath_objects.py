"""The fast path on PDFs whose revisions keep their cross-reference data in streams, read
object by object (:mod:`verify.fastpath_objects`): the dossier ``make demo`` makes (a
PDF/A-3 form by WeasyPrint, the citizen's PAdES B-LT signature, the official's B-LT
countersignature with a stamp and a field lock), each made end to end with its own
content, fonts, attachments, dossier code, timestamps and validation data.

Every report from the fast path must equal full validation's; documents of one structure
must share a template."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import ocsp
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from fixtures.demo import demo_trust, dossiers
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.test_fastpath import _pair, _same
from tests.verify.test_xades import fetch, live_crls
from verify import Indication, SubIndication, ValidationPolicy, Verifier, fastpath
from verify import fastpath_objects as fo

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture(scope="module")
def made(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Four dossiers, each made end to end as ``make demo`` makes its one."""
    folder = tmp_path_factory.mktemp("dossiers")
    return list(dossiers(demo_pki, folder, 4, now=PINNED_NOW, seed=11))


def _verifiers(pki: DemoPKI) -> tuple[Verifier, Verifier]:
    return _pair(demo_trust(pki), ValidationPolicy(validation_time=PINNED_NOW))


def _flipped(doc: bytes, at: int) -> bytes:
    changed = bytearray(doc)
    changed[at] ^= 1
    return bytes(changed)


def test_dossiers_come_from_one_template_with_full_validations_reports(
    demo_pki: DemoPKI, made: list[bytes]
) -> None:
    """Four dossiers (each its own form content, fonts, attachment, dossier code in the
    signers' reasons, XMP metadata, /ID, signatures and VRI names): the first is validated
    in full, the other three come from its template, and every report is full
    validation's (both signatures TOTAL_PASSED)."""
    fast, full = _verifiers(demo_pki)
    assert len({len(doc) for doc in made}) > 1  # not the same bytes over and over
    for i, doc in enumerate(made):
        report = fast.verify(doc)
        _same(report, full.verify(doc), f"dossier {i}")
        assert report.indication is Indication.TOTAL_PASSED
        assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2
    assert fastpath.stats(fast)["hits"] == len(made) - 1


def test_a_tampered_dossier_fails_from_its_own_template(
    demo_pki: DemoPKI, made: list[bytes]
) -> None:
    """A byte of the form's page content changed after both signatures (as the benchmark
    tampers): HASH_FAILURE for both signatures, from the template the first tampered
    dossier made, with full validation's report."""
    fast, full = _verifiers(demo_pki)
    for i, doc in enumerate(made):
        spot = doc.index(b"stream") + 40
        tampered = _flipped(doc, spot)
        report = fast.verify(tampered)
        _same(report, full.verify(tampered), f"dossier {i}")
        assert report.indication is Indication.TOTAL_FAILED
        assert report.signatures[0].sub_indication is SubIndication.HASH_FAILURE
    assert fastpath.stats(fast)["hits"] == len(made) - 1


def _spread(doc: bytes, count: int) -> Iterator[int]:
    """``count`` places spread over the file, and one in every later revision's objects."""
    step = max(1, len(doc) // count)
    yield from range(step // 2, len(doc), step)
    for m in re.finditer(rb"\d+ 0 obj", doc):
        if m.start() > len(doc) // 3:
            yield m.end() + 5


def test_a_changed_byte_anywhere_gets_full_validations_report(
    demo_pki: DemoPKI, made: list[bytes]
) -> None:
    """With the template of a genuine dossier made, another dossier changed at 24 places
    spread over the file and in each object of its later revisions (its DSS, the
    countersignature, the stamp, the XMP metadata, the cross-reference streams...) gets,
    each time, full validation's report: a change the structure leaves out either breaks
    a signature or is read for each document; any other change is a new structure."""
    fast, full = _verifiers(demo_pki)
    places = sorted(set(_spread(made[1], 24)))
    assert len(places) > 40
    each_change_as_full(fast, full, made[0], made[1], places)


def each_change_as_full(
    fast: Verifier, full: Verifier, first: bytes, doc: bytes, places: Iterable[int]
) -> None:
    """With the template of ``first`` made, ``doc`` with one byte changed at each of
    ``places`` gets full validation's report each time."""
    fast.verify(first)
    for at in places:
        changed = _flipped(doc, at)
        _same(fast.verify(changed), full.verify(changed), f"byte {at}")


@settings(max_examples=12, deadline=None, derandomize=True)
@given(at=st.floats(min_value=0, max_value=1, exclude_max=True), mask=st.integers(1, 255))
def test_tampering_a_dossier_never_passes(
    demo_pki: DemoPKI, made: list[bytes], at: float, mask: int
) -> None:
    """Any byte of a dossier changed to any other value: the fast path never passes it
    where full validation does not, and says what full validation says."""
    fast, full = _verifiers(demo_pki)
    fast.verify(made[0])
    doc = bytearray(made[2])
    doc[int(at * len(doc))] ^= mask
    changed = bytes(doc)
    expected = full.verify(changed)
    _same(fast.verify(changed), expected, f"byte {int(at * len(doc))} ^ {mask}")


def _live_ocsp(pki: DemoPKI, label: str, hash_algorithm: str = "sha1") -> ocsp.OCSPResponse:
    """The demo RSA CA's OCSP answer about ``label``, asked on loopback with a certificate
    identifier hashed with ``hash_algorithm``."""
    cert, issuer = pki.cert(label), pki.cert("ca-rsa")
    name_hash = getattr(issuer.subject, hash_algorithm)
    key_hash = getattr(issuer.public_key, hash_algorithm)
    request = ocsp.OCSPRequest(
        {
            "tbs_request": {
                "request_list": [
                    {
                        "req_cert": {
                            "hash_algorithm": {"algorithm": hash_algorithm},
                            "issuer_name_hash": name_hash,
                            "issuer_key_hash": key_hash,
                            "serial_number": cert.serial_number,
                        }
                    }
                ]
            }
        }
    )
    body = fetch(pki.service_urls["ocsp:ca-rsa"], request.dump(), "application/ocsp-request")
    return ocsp.OCSPResponse.load(body)


def _with_dss(
    doc: bytes, answers: list[ocsp.OCSPResponse], certs: Any = (), crls: Any = ()
) -> bytes:
    """``doc`` with one more revision adding ``answers``, ``certs`` and ``crls`` to its
    DSS, in that order."""
    writer = IncrementalPdfFileWriter(io.BytesIO(doc), strict=False)
    DocumentSecurityStore.supply_dss_in_writer(
        writer, None, ocsps=answers, certs=list(certs), crls=list(crls)
    )
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def test_the_dss_order_of_one_answer_per_certificate_is_not_part_of_the_structure(
    demo_pki: DemoPKI, made: list[bytes]
) -> None:
    """A signer fetching OCSP answers concurrently lists them in the DSS in the order the
    fetches ended. Answers for two certificates in either order: one structure, and each
    document gets full validation's report. Two answers about one certificate (one
    identified by SHA-1, the other by SHA-256 hashes): which comes first may matter, and
    the two orders are two structures. Certificates of two names, and CRLs of two issuers,
    in either order: one structure."""
    fast, full = _verifiers(demo_pki)
    one, other = _live_ocsp(demo_pki, "citizen-weak"), _live_ocsp(demo_pki, "citizen-no-usage")
    again = _live_ocsp(demo_pki, "citizen-weak", "sha256")
    assert one.dump() != again.dump()
    weak, no_usage = demo_pki.cert("citizen-weak"), demo_pki.cert("citizen-no-usage")
    lists = live_crls(demo_pki)
    docs = {
        "two certificates": (_with_dss(made[0], [one, other]), _with_dss(made[1], [other, one])),
        "one certificate": (_with_dss(made[0], [one, again]), _with_dss(made[1], [again, one])),
        "certificates": (
            _with_dss(made[0], [], certs=[weak, no_usage]),
            _with_dss(made[1], [], certs=[no_usage, weak]),
        ),
        "CRLs": (
            _with_dss(made[0], [], crls=lists),
            _with_dss(made[1], [], crls=lists[::-1]),
        ),
    }
    keys = {}
    for what, pair in docs.items():
        keys[what] = [fastpath.template_key(fast, doc) for doc in pair]
        for i, doc in enumerate(pair):
            _same(fast.verify(doc), full.verify(doc), f"{what}, order {i}")
    assert None not in [key for pair in keys.values() for key in pair]
    assert keys["two certificates"][0] == keys["two certificates"][1]
    assert keys["one certificate"][0] != keys["one certificate"][1]
    assert keys["certificates"][0] == keys["certificates"][1]
    assert keys["CRLs"][0] == keys["CRLs"][1]


def test_an_annotation_added_after_the_signatures_is_left_to_full_validation(
    demo_pki: DemoPKI, made: list[bytes]
) -> None:
    """A later revision that adds a text annotation to the signed page (not a signature
    widget): the structure is not taken, and the report is full validation's."""
    fast, full = _verifiers(demo_pki)
    fast.verify(made[0])
    writer = IncrementalPdfFileWriter(io.BytesIO(made[1]), strict=False)
    pages = [kid.get_object() for kid in writer.root["/Pages"]["/Kids"]]
    page = next(page for page in pages if "/Annots" in page)  # the signed page
    note = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/Text"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (100, 100, 120, 120)]
                ),
                generic.NameObject("/Contents"): generic.TextStringObject("đã xem"),
            }
        )
    )
    page["/Annots"].append(note)
    writer.update_container(page["/Annots"])  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    doc = out.getvalue()
    before = fastpath.stats(fast)["hits"]
    for _ in range(2):
        _same(fast.verify(doc), full.verify(doc), "an added annotation")
    assert fastpath.stats(fast)["hits"] == before


def test_every_object_reads_as_pyhanko_reads_it(made: list[bytes]) -> None:
    """Each revision's sections, and each object of every revision (those in object
    streams too), read by the module as pyHanko's reader reads them: the same kind, the
    same keys, the same stream data."""
    doc = made[0]
    reader = PdfFileReader(io.BytesIO(doc), strict=False)
    read = fo._File(reader, doc)
    assert read.total == reader.xrefs.total_revisions == 5
    checked = 0
    for r in range(read.total):
        for number, entry in read.listed[r].items():
            value, span, _end = read.read(r, number)
            obj = reader.get_object(generic.Reference(number, entry[1], reader), revision=r)
            assert fo._same_kind(obj, value), (r, number)
            if span is not None:
                assert obj.encoded_data == doc[span[0] : span[1]], (r, number)
            checked += 1
    assert checked > 100


def test_the_stored_dossier_is_taken_and_files_from_other_tools_keep_their_verdicts(
    demo_pki: DemoPKI,
) -> None:
    """The countersigned dossier kept in the test data is taken (a template key), and
    every stored PDF from other tools whose newest section is a cross-reference stream
    gets full validation's report from the fast path."""
    fast, full = _verifiers(demo_pki)
    stored = DATA / "made" / "dossier-countersigned.pdf"
    assert fastpath.template_key(fast, stored.read_bytes()) is not None
    for path in sorted(
        p for folder in ("dss", "realworld", "made") for p in (DATA / folder).glob("*.pdf")
    ):
        data = path.read_bytes()
        try:
            reader = PdfFileReader(io.BytesIO(data), strict=False)
            in_streams = fastpath._last_section_is_a_stream(reader)
        except Exception:  # noqa: BLE001, S112 - what pyHanko cannot read, the fast path never takes
            continue
        if not in_streams:
            continue
        for _ in range(2):
            _same(fast.verify(data), full.verify(data), path.name)


def test_a_later_stamp_over_the_forms_text_is_left_to_full_validation(
    demo_pki: DemoPKI, made: list[bytes], tmp_path: Path
) -> None:
    """A third signature whose stamp is drawn over the form's printed text (the signed
    page is not blank under it) gets no template key: the fast path declines it, and the
    report is full validation's. The same third signature in a blank corner of the page
    is of a structure the fast path takes (a key), and gets full validation's report too
    (the official's field lock forbids a third signature: the countersignature fails,
    a verdict no template keeps)."""
    import esign
    from esign.pdf import VisibleStamp
    from fixtures.documents import pinned
    from fixtures.pki.build import P12_PASSWORD

    written = demo_pki.export(tmp_path / "pki")
    signer = esign.from_pkcs12(written["p12:official"], P12_PASSWORD)
    fast, full = _verifiers(demo_pki)

    def stamped(doc: bytes, box: tuple[int, int, int, int]) -> bytes:
        with pinned(PINNED_NOW):
            signed = esign.sign_pdf(
                doc,
                None,
                signer,
                profile=esign.SPECIALIZED,
                level="B-B",
                field_name="KiemTra",
                visible=VisibleStamp(1, box),
                verifier=full,
            )
        return signed.data or b""

    over_text = [stamped(doc, (40, 760, 300, 820)) for doc in made[:2]]
    in_corner = [stamped(doc, (2, 2, 62, 32)) for doc in made[:2]]
    for doc in over_text:
        assert fastpath.template_key(fast, doc) is None
        _same(fast.verify(doc), full.verify(doc), "a stamp over the form's text")
    assert fastpath.stats(fast)["hits"] == 0
    assert all(fastpath.template_key(fast, doc) is not None for doc in in_corner)
    for doc in in_corner:
        report = fast.verify(doc)
        _same(report, full.verify(doc), "a stamp in a blank corner")
        assert report.signatures[1].indication is Indication.TOTAL_FAILED


_NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.decimals(-1000, 1000, places=3, allow_nan=False, allow_infinity=False).map(str),
)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(
        st.one_of(
            _NUMBERS,
            st.lists(_NUMBERS, min_size=1, max_size=4).map(lambda xs: "[" + " ".join(xs) + "]"),
            st.tuples(st.integers(1, 99), st.integers(0, 3)).map(lambda r: f"{r[0]} {r[1]} R"),
            st.sampled_from(["/Name", "(text)", "true", "<< /A 1 >>"]),
        ),
        min_size=0,
        max_size=40,
    ),
    spaces=st.sampled_from([" ", "\n", "  ", "\r\n"]),
)
def test_a_long_array_of_numbers_is_read_as_pyhanko_reads_it(items: list[str], spaces: str) -> None:
    """An array the lexer reads at once as numbers (``("A", its bytes)``) is one pyHanko
    reads as an array without a reference, ending where the lexer's read ends; any other
    array is read item by item as before."""
    text = ("[" + spaces.join(items) + "] /Next").encode()
    lexer = fo._Lexer(text, 0, len(text))
    try:
        value = lexer.value()
    except fastpath._NotEligible:
        return
    stream = io.BytesIO(text)
    theirs = generic.read_object(stream, generic.Reference(1, 0, None))
    assert isinstance(theirs, generic.ArrayObject)
    if value[0] == "A":
        assert value[1] == text[: lexer.at].strip()
        assert not any(isinstance(item, generic.IndirectObject) for item in theirs)
        assert len(value[1]) == len(text[: text.rindex(b"]") + 1])
    assert text[lexer.at :].strip() == b"/Next"


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(alphabet=st.sampled_from("abcXYZ09-_.#2f41"), min_size=1, max_size=12).map(
        lambda s: "/" + s
    )
)
def test_names_with_escapes_end_where_pyhanko_ends_them(name: str) -> None:
    """A name value with ``#`` escapes is read as written (two documents that write it
    alike read alike) and ends where pyHanko's reading ends; a malformed escape, or one in
    a dictionary key, is not taken."""
    text = f"<< /Type {name} /N 1 >>".encode()
    lexer = fo._Lexer(text, 0, len(text))
    try:
        value = fo._plain_keys(lexer.value())
    except fastpath._NotEligible:
        return
    theirs = generic.read_object(io.BytesIO(text), generic.Reference(1, 0, None))
    assert isinstance(theirs, generic.DictionaryObject)
    assert sorted(theirs) == ["/N", "/Type"]
    assert dict(value[1])[b"/Type"] == ("n", name.encode())
    key = f"<< {name}x 1 >>".encode() if "#" in name else b"<< /a#41 1 >>"
    with pytest.raises(fastpath._NotEligible):
        fo._plain_keys(fo._Lexer(key, 0, len(key)).value())


@pytest.fixture(scope="module")
def made_apart(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Four dossiers signed and countersigned seven minutes apart, in the hour before the
    validation time: each stamp shows its own time (its drawing and its font subset
    differ), the validation data is the same."""
    folder = tmp_path_factory.mktemp("dossiers-apart")
    first = PINNED_NOW - timedelta(hours=1)
    return list(dossiers(demo_pki, folder, 4, now=first, seed=12, apart=timedelta(minutes=7)))


def test_dossiers_whose_stamps_show_their_own_times_share_a_template(
    demo_pki: DemoPKI, made_apart: list[bytes]
) -> None:
    """The stamps' drawings (their data, their fonts' subsets and widths) are not part of
    the structure: dossiers countersigned at different times come from one template, each
    report full validation's, and a byte changed in the second dossier's stamp drawing
    (its compressed data) or its font still gets full validation's report."""
    fast, full = _verifiers(demo_pki)
    stamps = []
    for doc in made_apart:
        reader = PdfFileReader(io.BytesIO(doc), strict=False)
        fields = [f.get_object() for f in reader.root["/AcroForm"]["/Fields"]]
        field = next(f for f in fields if f["/T"] == "CanBo")
        stamps.append(field["/AP"]["/N"].get_object().data)
    assert len(set(stamps)) == len(stamps)  # each stamp its own drawing
    for i, doc in enumerate(made_apart):
        report = fast.verify(doc)
        _same(report, full.verify(doc), f"dossier {i}")
        assert report.indication is Indication.TOTAL_PASSED
    assert fastpath.stats(fast)["hits"] == len(made_apart) - 1
    doc = made_apart[1]
    reader = PdfFileReader(io.BytesIO(doc), strict=False)
    fields = [f.get_object() for f in reader.root["/AcroForm"]["/Fields"]]
    drawing = next(f for f in fields if f["/T"] == "CanBo")["/AP"].raw_get("/N")
    font = drawing.get_object()["/Resources"]["/Font"]["/F1"]["/DescendantFonts"][0]
    font_file = font.get_object()["/FontDescriptor"].raw_get("/FontFile2")
    places = [reader.xrefs[ref.reference] for ref in (drawing, font_file)]
    for place in places:
        at = doc.index(b"stream", place) + 20
        changed = _flipped(doc, at)
        _same(fast.verify(changed), full.verify(changed), f"byte {at} of the stamp")


def test_a_kind_of_structure_refused_three_times_is_not_judged_again(demo_pki: DemoPKI) -> None:
    """Signed documents each given an annotation of its own text afterwards: a later
    revision the fast path does not take, each a structure of its own. Three are judged
    and refused; from then on, documents of the same kind go to full validation without a
    judgement of their own. Every report is full validation's."""
    from fixtures.attacks import add_annotation
    from fixtures.documents import minimal_pdf, sign_pdf

    fast, full = _verifiers(demo_pki)
    signed = sign_pdf(demo_pki, "citizen", minimal_pdf("Ho so"), at=PINNED_NOW, timestamp=True)
    for i in range(6):
        doc = add_annotation(signed, opaque_text=b"Ghi chu %d " % i + b"x" * i)
        _same(fast.verify(doc), full.verify(doc), f"annotated {i}")
    judged = [k for k in fastpath._store(fast).structures if k[0] == "objects"]
    assert len(judged) == fo._REFUSALS
    assert fastpath.stats(fast)["hits"] == 0
