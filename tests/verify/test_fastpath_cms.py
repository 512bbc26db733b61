"""The fast path's reading of a CMS signature by its values as encoded
(``fastpath_cms.read``): the values it reads are those asn1crypto reads, and a signature
is determined by its skeleton and those values, so that asn1crypto's slow parse is done
once per skeleton (once per signer) and not once per document.

Signatures come from pyHanko (B-B, B-T, detached CAdES, EC and RSA keys), OpenSSL
(``cms -sign``, with its own signingTime) and EU DSS's and Vietnamese signing software's
PDFs.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils.reader import PdfFileReader

from fixtures.attacks import openssl_cms_sign
from fixtures.documents import minimal_pdf, sign_detached, sign_pdf
from fixtures.pki import DemoPKI
from tests.verify.test_verifier import SIGNED_AT
from verify import ber, fastpath, fastpath_cms

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "realworld"


def _pdf_signatures(doc: bytes) -> list[bytes]:
    """Each signature's /Contents (the CMS and its zero padding)."""
    import io

    reader = PdfFileReader(io.BytesIO(doc), strict=False)
    return [bytes(sig.sig_object["/Contents"]) for sig in reader.embedded_signatures]


@pytest.fixture(scope="module")
def made(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    """Two signatures of each kind, made a minute apart over other content."""
    out: dict[str, list[bytes]] = {}
    for k in range(2):
        at = SIGNED_AT + timedelta(minutes=k)
        base = minimal_pdf(f"Ho so {k}", padding=300)
        for name, label, extra in (
            ("bb", "citizen", {}),
            ("bb-ec", "citizen-ec", {}),
            ("bt", "official", {"timestamp": True}),
        ):
            doc = sign_pdf(demo_pki, label, base, at=at, **extra)
            out.setdefault(name, []).append(_pdf_signatures(doc)[0])
        content = f"tờ khai {k}".encode()
        out.setdefault("cades-t", []).append(
            sign_detached(demo_pki, "official", content, at=at, timestamp=True)
        )
        folder = tmp_path_factory.mktemp(f"openssl{k}")
        out.setdefault("openssl", []).append(openssl_cms_sign(demo_pki, "citizen", content, folder))
    return out


def _by_asn1crypto(der: bytes) -> Any:
    """The values asn1crypto reads (the fast path's reference reading), or None where it
    does not take the signature."""
    try:
        return fastpath._read_cms(fastpath._Store(), cms.ContentInfo.load(der))[1]
    except fastpath._NotEligible:
        return None


def _by_skeleton(der: bytes) -> Any:
    """The skeleton and values ``fastpath_cms.read`` reads, or None where it does not."""
    try:
        reading = fastpath_cms.read(der)
    except ValueError:  # (fastpath_cms.Unread among them)
        return None
    return reading.skeleton, reading.values


@pytest.mark.parametrize("kind", ["bb", "bb-ec", "bt", "cades-t", "openssl"])
def test_one_signers_signatures_share_a_skeleton_and_read_as_asn1crypto_reads_them(
    made: dict[str, list[bytes]], kind: str
) -> None:
    """pyHanko's PAdES and CAdES signatures (with a timestamp or not) and OpenSSL's CMS
    with a signingTime: two of one signer, a minute apart, have one skeleton and their
    own values, each the values asn1crypto reads."""
    first, second = (_by_skeleton(der) for der in made[kind])
    assert first is not None
    assert second is not None
    assert first[0] == second[0]
    assert first[1] != second[1]
    for der, (_skeleton, values) in zip(made[kind], (first, second), strict=True):
        assert _by_asn1crypto(der) == values
    if kind == "openssl":
        assert first[1].signing_time is not None
    if kind in ("bt", "cades-t"):
        assert first[1].gen_time is not None
        assert first[1].imprint


def test_other_signers_have_other_skeletons(made: dict[str, list[bytes]]) -> None:
    """Another certificate, key or set of attributes: another skeleton."""
    skeletons = {kind: _by_skeleton(found[0])[0] for kind, found in made.items()}
    assert len(set(skeletons.values())) == len(skeletons)


def _foreign() -> list[tuple[str, bytes]]:
    found = []
    for path in [*sorted((DATA / "dss").glob("*.pdf")), *sorted(SHARED.glob("*.pdf"))]:
        try:
            signatures = _pdf_signatures(path.read_bytes())
        except Exception:  # noqa: BLE001, S112 - a file pyHanko cannot open has none to read
            continue
        found += [(f"{path.name}#{k}", der) for k, der in enumerate(signatures)]
    for path in sorted((DATA / "dss-cades").rglob("*")):
        if path.suffix in (".p7s", ".p7m", ".cms"):
            found.append((path.name, path.read_bytes()))
    return found


FOREIGN = _foreign()


@pytest.mark.parametrize("der", [d for _n, d in FOREIGN], ids=[n for n, _d in FOREIGN])
def test_foreign_signatures_read_as_asn1crypto_reads_them_or_not_at_all(der: bytes) -> None:
    """EU DSS's signatures and the Vietnamese contract's: where the skeleton reader takes
    one that asn1crypto also takes, both read the same values."""
    mine = _by_skeleton(der)
    if mine is None:
        return
    reference = _by_asn1crypto(der)
    assert reference is None or reference == mine[1]


def test_ber_is_left_to_asn1crypto(made: dict[str, list[bytes]]) -> None:
    """A signature with an indefinite length or a length in a longer form than needed
    (BER, not DER) is not read by its skeleton."""
    der = made["bb"][0]
    longer = der[:1] + b"\x83" + int.from_bytes(der[2:4], "big").to_bytes(3, "big") + der[4:]
    assert der[1] == 0x82
    with pytest.raises(ValueError, match="not DER"):
        fastpath_cms.read(longer)


_ONE_BYTE = {
    "kind": st.sampled_from(["bb", "bb-ec", "bt", "cades-t", "openssl"]),
    "where": st.integers(0, 1 << 20),
    "flip": st.integers(1, 255),
}
"""One byte of one kind of signature changed (its place taken modulo its length)."""


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**_ONE_BYTE)
def test_a_changed_byte_changes_the_skeleton_or_the_values(
    made: dict[str, list[bytes]], kind: str, where: int, flip: int
) -> None:
    """One byte changed anywhere: the signature is no longer read, or its skeleton or its
    values differ from the original's (nothing is left out of both); and where asn1crypto
    also reads it, it reads the same values."""
    der = made[kind][0]
    at = where % len(der.rstrip(b"\0"))
    changed = der[:at] + bytes([der[at] ^ flip]) + der[at + 1 :]
    original, found = _by_skeleton(der), _by_skeleton(changed)
    if found is None:
        return
    assert found != original
    try:
        reference = _by_asn1crypto(changed)
    except Exception:  # noqa: BLE001 - asn1crypto refuses it: full validation judges it
        return
    assert reference is None or reference == found[1]


def _in_full(der: bytes) -> Any:
    """``fastpath_cms.read`` without any layout: the DER walked anew."""
    try:
        reading = fastpath_cms._read(der, ber.der_value(der), fastpath_cms._Marks())
    except ValueError:
        return None
    return reading.skeleton, reading.values


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**_ONE_BYTE)
def test_a_signature_read_by_a_layout_reads_as_read_in_full(
    made: dict[str, list[bytes]], kind: str, where: int, flip: int
) -> None:
    """Once a signer's signature is read, a signature of the same length is read by where
    the first one's values lie: whatever byte of it changed, that reading is the full
    reading's (the same skeleton and values, or neither takes it)."""
    der = made[kind][0]
    fastpath_cms.read(der)  # its layout known from here
    at = where % len(der.rstrip(b"\0"))
    changed = der[:at] + bytes([der[at] ^ flip]) + der[at + 1 :]
    assert _by_skeleton(changed) == _in_full(changed)


@pytest.mark.parametrize("kind", ["bb", "bb-ec", "bt", "cades-t", "openssl"])
def test_one_signers_later_signatures_are_read_by_its_layout(
    made: dict[str, list[bytes]], kind: str
) -> None:
    """The second signature of a signer (another time, digest, signature value and
    timestamp) is read by the first one's layout where their lengths agree, with its own
    values."""
    first, second = made[kind]
    fastpath_cms.read(first)
    top = ber.der_value(second)
    laid_out = [
        layout
        for layout in fastpath_cms._LAYOUTS.table.get((len(second), top.end), [])
        if b"".join(second[a:b] for a, b in layout.fixed) == layout.written
    ]
    if (len(first), ber.der_value(first).end) == (len(second), top.end) and kind != "bb-ec":
        assert laid_out  # RSA signatures: one length
    assert _by_skeleton(second) == _in_full(second)
    assert _by_skeleton(second)[1] != _by_skeleton(first)[1]


def test_a_time_that_is_no_date_is_not_read_by_a_layout(made: dict[str, list[bytes]]) -> None:
    """A timestamp whose time says month 13, in a signature otherwise laid out as one read
    before: not read (asn1crypto then judges it), as a full reading would not."""
    der = made["bt"][0]
    fastpath_cms.read(der)
    gen_time = fastpath_cms.read(der).values.gen_time
    assert gen_time is not None
    text = gen_time.strftime("%Y%m%d%H%M%S").encode()
    at = der.index(text)
    forged = der[:at] + text[:4] + b"13" + der[at + 6 :]
    with pytest.raises(fastpath_cms.Unread, match="time"):
        fastpath_cms.read(forged)
    assert _in_full(forged) is None


def test_layouts_hold_a_bounded_number_of_bytes(
    made: dict[str, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Layouts keep the bytes of the signatures they were read from (hostile input may
    bring many lengths): with a bound of two signatures' bytes, reading every kind keeps
    the newest within it, and the count of bytes held is exact."""
    every = [der for found in made.values() for der in found]
    bound = 2 * max(len(der) for der in every)
    layouts = ber.Layouts[Any](each=8, keys=1024, max_bytes=bound)  # none read before
    monkeypatch.setattr(fastpath_cms, "_LAYOUTS", layouts)
    for der in every:
        fastpath_cms.read(der)
    held = sum(len(one.written) for found in layouts.table.values() for one in found)
    assert held == layouts.held <= bound
    assert len(layouts.table) < len({(len(der), ber.der_value(der).end) for der in every})
    last = every[-1]
    assert (len(last), ber.der_value(last).end) in layouts.table
