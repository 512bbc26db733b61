"""Properties over hostile bytes (hypothesis, derandomized, no example database).

``tests/verify/test_verifier.py`` already flips single bytes of a one-signature PDF and
random bytes of a CMS blob; these add truncation at any point, flips in a certified
document that was filled in later (several revisions), and mutations that follow the DER
structure of a CMS (tags, lengths, node contents, cuts at node boundaries).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures import attacks as A
from fixtures.pki import DemoPKI
from tests.adversarial.corpus import DATA, Bases, Input, make_verifier
from verify import DocumentReport, Indication, Verifier

PROFILE = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def bases(demo_pki: DemoPKI) -> Bases:
    return Bases(demo_pki)


@pytest.fixture(scope="module")
def verifier(demo_pki: DemoPKI, bases: Bases) -> Verifier:
    return make_verifier(demo_pki, Input(bases.signed))


@pytest.fixture(scope="module")
def certified_then_filled(bases: Bases) -> bytes:
    return A.fill_field(bases.certified_p2, "GhiChu", "DA DUYET", opaque=False)


@PROFILE
@given(data=st.data())
def test_truncating_a_signed_pdf_anywhere_never_passes(
    verifier: Verifier, bases: Bases, data: st.DataObject
) -> None:
    """Property: a signed PDF cut at any byte (keeping at least one) is never TOTAL_PASSED."""
    cut = data.draw(st.integers(min_value=1, max_value=len(bases.signed) - 1))
    report = verifier.verify(bases.signed[:cut])
    assert isinstance(report, DocumentReport)
    assert report.indication is not Indication.TOTAL_PASSED


@PROFILE
@given(data=st.data())
def test_flipping_a_certified_byte_of_a_filled_form_never_passes(
    verifier: Verifier, certified_then_filled: bytes, data: st.DataObject
) -> None:
    """Property: in a certified, later filled form, a changed certified byte never passes."""
    doc = certified_then_filled
    lay = A.sig_layout(doc[: doc.index(b"%%EOF", doc.index(b"/ByteRange")) + 5])
    o1, l1, o2, l2 = lay.byte_range
    pos = data.draw(st.one_of(st.integers(o1, o1 + l1 - 1), st.integers(o2, o2 + l2 - 1)))
    mutated = bytearray(doc)
    mutated[pos] ^= data.draw(st.integers(1, 255))
    report = verifier.verify(bytes(mutated))
    assert report.indication is not Indication.TOTAL_PASSED


def der_nodes(
    der: bytes, start: int = 0, end: int | None = None, depth: int = 0
) -> Iterator[tuple[int, int, int, bool]]:
    """(offset, header length, content length, constructed) of every TLV, depth first."""
    end = len(der) if end is None else end
    pos = start
    while pos < end and depth < 40:
        tag = der[pos]
        first = der[pos + 1]
        if first < 0x80:
            head, length = 2, first
        else:
            n = first & 0x7F
            head, length = 2 + n, int.from_bytes(der[pos + 2 : pos + 2 + n], "big")
        constructed = bool(tag & 0x20)
        yield pos, head, length, constructed
        if constructed:
            yield from der_nodes(der, pos + head, pos + head + length, depth + 1)
        pos += head + length


@pytest.fixture(scope="module")
def detached(bases: Bases) -> bytes:
    return bases.detached


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_structural_cms_mutations_never_crash_and_never_pass(
    verifier: Verifier, detached: bytes, data: st.DataObject
) -> None:
    """Property: tag, length, content or cut mutations at DER nodes: a report, never a pass."""
    nodes = list(der_nodes(detached))
    offset, head, length, constructed = data.draw(st.sampled_from(nodes))
    kind = data.draw(st.sampled_from(["tag", "length", "content", "cut-start", "cut-end"]))
    blob = bytearray(detached)
    if kind == "tag":
        blob[offset] ^= data.draw(st.integers(1, 255))
    elif kind == "length":
        blob[offset + 1] = data.draw(st.integers(0, 255).filter(lambda v: v != blob[offset + 1]))
    elif kind == "content" and length > 0 and not constructed:
        at = offset + head + data.draw(st.integers(0, length - 1))
        blob[at] ^= data.draw(st.integers(1, 255))
    elif kind == "cut-start":
        blob = blob[:offset]
    else:
        blob = blob[: offset + head + length - 1]
    mutated = bytes(blob)
    report = verifier.verify(DATA, detached=mutated)
    assert isinstance(report, DocumentReport)
    if report.indication is Indication.TOTAL_PASSED:
        # only bytes outside what is signed may change and still pass (an embedded CA
        # certificate the verifier fetches again, say): the signed attributes, the
        # signature value and the signer's certificate are exactly the original ones
        assert signed_parts(mutated) == signed_parts(detached)


def signed_parts(der: bytes) -> tuple[bytes, bytes, bytes]:
    from asn1crypto import cms

    signed_data = cms.ContentInfo.load(der)["content"]
    si = signed_data["signer_infos"][0]
    sid = si["sid"].chosen
    signer = next(
        c.chosen
        for c in signed_data["certificates"]
        if c.chosen.issuer == sid["issuer"]
        and c.chosen.serial_number == sid["serial_number"].native
    )
    return si["signed_attrs"].dump(), si["signature"].native, signer.dump()
