"""XML signing (e-invoices, tax declarations): every key source, checked strictly by
libxmlsec1 (python-xmlsec) and by verify's own checker."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import xmlsec
from cryptography import x509 as pyca_x509
from lxml import etree

import esign
from fixtures import softhsm
from fixtures.csc import CSCServer, start_csc
from fixtures.documents import minimal_pdf
from fixtures.pki.build import P12_PASSWORD
from tests.conftest import PINNED_NOW
from verify import Indication, Verifier
from verify.xmldsig import check_xml_signature

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS}
SECRET = b"x" * 32
# PINNED_NOW (10:00 UTC) in Vietnam's local time, as SigningTime must carry it
PINNED_VN = "2026-06-01T17:00:00"


def invoice(*, namespace: str | None = None, data_id: str = "data", extra: str = "") -> bytes:
    """A Circular 78 e-invoice (HDon) before the seller signs; optional default namespace."""
    ns = f' xmlns="{namespace}"' if namespace else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<HDon{ns} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <DLHDon Id="{data_id}">
    <TTChung><PBan>2.1.0</PBan><THDon>Hoá đơn giá trị gia tăng</THDon><KHHDon>C26TAA</KHHDon>
      <SHDon>159</SHDon><NLap>2026-06-01</NLap><DVTTe>VND</DVTTe></TTChung>
    <NDHDon><NBan><Ten>Công ty TNHH Hồ Sơ</Ten><MST>0312585298</MST></NBan>
      <TToan><TgTTTBSo>1100000</TgTTTBSo></TToan></NDHDon>
  </DLHDon>{extra}
  <DSCKS><NBan/><NMua/></DSCKS>
</HDon>
""".encode()


def declaration(id_attr: str = "id") -> bytes:
    """An e-tax declaration (HSoThueDTu) as the tax software writes it: HSoKhaiThue to sign."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<HSoThueDTu xmlns="http://kekhaithue.gdt.gov.vn/TKhaiThue" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <HSoKhaiThue {id_attr}="_NODE_TO_SIGN">
    <TTinChung><TTinTKhaiThue><TKhaiThue><maTKhai>842</maTKhai><kyKKhai>05/2026</kyKKhai>
    </TKhaiThue><NNT><mst>0312585298</mst><tenNNT>Công ty TNHH Hồ Sơ</tenNNT></NNT>
    </TTinTKhaiThue></TTinChung>
    <CTieuTKhaiChinh><ct23>1100000</ct23></CTieuTKhaiChinh>
  </HSoKhaiThue>
  <CKyDTu/>
</HSoThueDTu>
""".encode()


def strict_verify(data: bytes, id_attrs: tuple[str, ...] = ("Id",)) -> pyca_x509.Certificate:
    """libxmlsec1 verifies every signature with the key of its own first certificate."""
    root = etree.fromstring(data)
    xmlsec.tree.add_ids(root, list(id_attrs))
    signatures = root.findall(f".//{{{DS}}}Signature")
    assert signatures
    for node in signatures:
        der = base64.b64decode(node.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", "", NS))
        ctx = xmlsec.SignatureContext()
        ctx.key = xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertDer)
        ctx.verify(node)  # raises xmlsec.Error unless every reference and the value verify
    return pyca_x509.load_der_x509_certificate(der)


def verify_both(data: bytes, checker: Verifier, id_attrs: tuple[str, ...] = ("Id",)) -> None:
    """Strict libxmlsec1, verify's low-level checker (strict reading) and the Verifier pass."""
    strict_verify(data, id_attrs)
    checks = check_xml_signature(data)
    assert len(checks) == 1
    check = checks[0]
    assert check.references_ok, check
    assert check.signature_ok, check
    assert check.reading == "strict", check
    assert not check.problems, check.problems
    report = checker.verify_xml(data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en


def tampered_fails_both(data: bytes, checker: Verifier, old: bytes, new: bytes) -> None:
    """After replacing ``old`` by ``new``, libxmlsec1 and verify both refuse the document."""
    assert data.count(old) == 1
    changed = data.replace(old, new)
    with pytest.raises(xmlsec.Error):
        strict_verify(changed)
    check = check_xml_signature(changed)[0]
    assert not (check.references_ok and check.signature_ok and not check.problems)
    assert checker.verify_xml(changed).indication is not Indication.TOTAL_PASSED


@pytest.fixture(scope="module")
def csc(demo_pki) -> Iterator[CSCServer]:
    server = start_csc(demo_pki)
    try:
        yield server
    finally:
        server.stop()


def p12(p12_dir: Path, label: str) -> object:
    return esign.from_pkcs12(p12_dir / f"{label}.p12", P12_PASSWORD)


# -- every key source ------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["citizen", "citizen-ec"])
def test_pkcs12_round_trip(label, p12_dir, public_trust, checker) -> None:
    """A PKCS#12 soft key (RSA and EC) signs an invoice that both verifiers accept."""
    signed = esign.sign_xml(invoice(), p12(p12_dir, label), trust=public_trust)
    verify_both(signed, checker)


@pytest.mark.parametrize("label", ["citizen", "citizen-ec"])
def test_csc_remote_round_trip(label, csc, public_trust, checker) -> None:
    """A CSC remote key (SIM ký số / cloud) signs through the live CSC server, hash-pinned."""
    key = esign.from_csc(csc.url, csc.credential(label), token=csc.token, timeout=10)
    before = csc.calls.get("/csc/v1/signatures/signHash", 0)
    signed = esign.sign_xml(invoice(), key, trust=public_trust)
    verify_both(signed, checker)
    assert csc.calls.get("/csc/v1/signatures/signHash", 0) == before + 1


TOKEN_CLIENT = r"""
import sys
from pathlib import Path
from datetime import datetime
import time_machine
import esign
from fixtures import softhsm
from fixtures.pki import build_pki
from verify import TrustProfile

url, cache, label, src, dst = sys.argv[1:6]
now = datetime.fromisoformat(sys.argv[6])
pki = build_pki(url, Path(cache))
token = softhsm.make_token(pki, (label,))
try:
    trust = TrustProfile.custom([pki.root("public")], hierarchy="public")
    with time_machine.travel(now, tick=False):
        with esign.pkcs11_token(token.lib, token.label, label, token.pin) as signer:
            Path(dst).write_bytes(esign.sign_xml(Path(src), signer, trust=trust))
finally:
    token.cleanup()
"""


@pytest.mark.skipif(not softhsm.available(), reason="softhsm2 not installed (make test does)")
@pytest.mark.parametrize("label", ["citizen", "citizen-ec"])
def test_pkcs11_token_round_trip(label, demo_pki, checker, tmp_path) -> None:
    """A SoftHSM2 token signs an invoice both verifiers accept (own process: one token each)."""
    src, dst = tmp_path / "in.xml", tmp_path / "out.xml"
    src.write_bytes(invoice())
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            TOKEN_CLIENT,
            demo_pki.url_prefix,
            str(demo_pki.cache_dir),
            label,
            str(src),
            str(dst),
            PINNED_NOW.isoformat(),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    verify_both(dst.read_bytes(), checker)


TWO_PHASE_CLIENT = r"""
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
data = sys.stdin.buffer.read()
if isinstance(key, rsa.RSAPrivateKey):
    sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
else:
    sig = key.sign(data, ec.ECDSA(hashes.SHA256()))
    if sys.argv[2] == "raw":
        size = (key.curve.key_size + 7) // 8
        r, s = decode_dss_signature(sig)
        sig = r.to_bytes(size, "big") + s.to_bytes(size, "big")
sys.stdout.buffer.write(sig)
"""


def client_sign(demo_pki, label: str, data: bytes, tmp_path: Path, form: str = "der") -> bytes:
    """The signer's key lives in another process (the browser plugin stand-in)."""
    key = tmp_path / f"{label}.key"
    key.write_bytes(demo_pki.key_pem(label))
    return subprocess.run(
        [sys.executable, "-c", TWO_PHASE_CLIENT, str(key), form],
        input=data,
        capture_output=True,
        check=True,
    ).stdout


@pytest.mark.parametrize(
    ("label", "form"), [("citizen", "der"), ("citizen-ec", "der"), ("citizen-ec", "raw")]
)
def test_two_phase_round_trip(label, form, demo_pki, public_trust, checker, tmp_path) -> None:
    """Two-phase: the plugin's raw value over SignedInfo completes a verifying invoice."""
    prepared = esign.XmlTwoPhaseSigner(SECRET, trust=public_trust).prepare(
        invoice(), demo_pki.cert(label), demo_pki.chain(label)[1:]
    )
    assert prepared.digest_algorithm == "sha256"
    assert prepared.to_sign.startswith(b'<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#"')
    assert prepared.digest == hashlib.sha256(prepared.to_sign).digest()
    value = client_sign(demo_pki, label, prepared.to_sign, tmp_path, form)
    signed = esign.XmlTwoPhaseSigner(SECRET, trust=public_trust).finish(prepared.state, value)
    verify_both(signed, checker)
    assert b"NBan" in signed
    assert PINNED_VN.encode() in signed


def test_two_phase_refuses_wrong_key_and_foreign_states(demo_pki, public_trust, tmp_path) -> None:
    """Another key's value, tampered, foreign-secret and PDF states are all refused."""
    server = esign.XmlTwoPhaseSigner(SECRET, trust=public_trust)
    prepared = server.prepare(invoice(), demo_pki.cert("citizen"), [demo_pki.cert("ca-rsa")])
    wrong = client_sign(demo_pki, "citizen-revoked", prepared.to_sign, tmp_path)
    with pytest.raises(esign.SignatureValueRejected):
        server.finish(prepared.state, wrong)
    good = client_sign(demo_pki, "citizen", prepared.to_sign, tmp_path)
    body, mac = prepared.state.split(".")
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(esign.TwoPhaseStateError):
        server.finish(f"{flipped}.{mac}", good)
    with pytest.raises(esign.TwoPhaseStateError):
        esign.XmlTwoPhaseSigner(b"y" * 32, trust=public_trust).finish(prepared.state, good)
    pdf_state = esign.TwoPhaseSigner(SECRET, trust=public_trust).prepare(
        minimal_pdf("x"),
        demo_pki.cert("citizen"),
        [demo_pki.cert("ca-rsa")],
        level="B-B",
    )
    with pytest.raises(esign.TwoPhaseStateError):
        server.finish(pdf_state.state, good)


def test_two_phase_refuses_revoked_certificate_in_phase_one(demo_pki, public_trust) -> None:
    """Phase one refuses a certificate that would not verify, before anything is signed."""
    with pytest.raises(esign.CertificateRevoked):
        esign.XmlTwoPhaseSigner(SECRET, trust=public_trust).prepare(
            invoice(), demo_pki.cert("citizen-revoked"), [demo_pki.cert("ca-rsa")]
        )


# -- the layout --------------------------------------------------------------------------------


def test_invoice_layout(p12_dir, public_trust, demo_pki) -> None:
    """DSCKS/NBan/Signature with C14N 1.0, rsa-sha256, #Id + enveloped, leaf cert, its name."""
    signed = esign.sign_xml(invoice(), p12(p12_dir, "citizen"), trust=public_trust)
    root = etree.fromstring(signed)
    assert signed.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    sigs = root.xpath("/HDon/DSCKS/NBan/ds:Signature", namespaces=NS)
    assert len(sigs) == 1
    assert len(root.findall(f".//{{{DS}}}Signature")) == 1
    sig = sigs[0]
    assert sig.prefix is None  # the default namespace, no ds: prefix
    assert [c.tag for c in root.find("DSCKS")] == ["NBan", "NMua"]
    info = sig.find("ds:SignedInfo", NS)
    assert info.find("ds:CanonicalizationMethod", NS).get("Algorithm") == (
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    )
    assert info.find("ds:SignatureMethod", NS).get("Algorithm") == (
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    )
    refs = info.findall("ds:Reference", NS)
    assert [r.get("URI") for r in refs] == ["#data", "#" + sig.find("ds:Object", NS).get("Id")]
    assert [t.get("Algorithm") for t in refs[0].findall("ds:Transforms/ds:Transform", NS)] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    ]
    assert {r.find("ds:DigestMethod", NS).get("Algorithm") for r in refs} == {
        "http://www.w3.org/2001/04/xmlenc#sha256"
    }
    certs = sig.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)
    assert base64.b64decode(certs[0].text) == demo_pki.cert("citizen").dump()
    assert [base64.b64decode(c.text) for c in certs[1:]] == [demo_pki.cert("ca-rsa").dump()]
    subject = sig.findtext("ds:KeyInfo/ds:X509Data/ds:X509SubjectName", "", NS)
    leaf = pyca_x509.load_der_x509_certificate(demo_pki.cert("citizen").dump())
    assert pyca_x509.Name.from_rfc4514_string(subject) == leaf.subject


def test_signing_time_is_signed_and_in_vietnam_time(p12_dir, public_trust, checker) -> None:
    """SigningTime is PINNED_NOW in Vietnam time, signed: changing it fails both verifiers."""
    signed = esign.sign_xml(invoice(), p12(p12_dir, "citizen"), trust=public_trust)
    root = etree.fromstring(signed)
    sig = root.find(".//ds:Signature", NS)
    prop = sig.find("ds:Object/ds:SignatureProperties/ds:SignatureProperty", NS)
    assert prop.get("Target") == "#" + sig.get("Id")
    assert prop.findtext("ds:SigningTime", "", NS) == PINNED_VN
    assert check_xml_signature(signed)[0].claimed_signing_time == PINNED_NOW
    tampered_fails_both(
        signed,
        checker,
        f"<SigningTime>{PINNED_VN}</SigningTime>".encode(),
        b"<SigningTime>2026-05-01T08:00:00</SigningTime>",
    )


def test_explicit_signing_time_aware_and_naive(p12_dir, public_trust) -> None:
    """An aware signing time is converted to Vietnam time; a naive one is taken as such."""
    from datetime import UTC, datetime

    signer = p12(p12_dir, "citizen")
    aware = esign.sign_xml(
        invoice(),
        signer,
        trust=public_trust,
        signing_time=datetime(2026, 5, 31, 20, 30, tzinfo=UTC),
    )
    naive = esign.sign_xml(
        invoice(),
        signer,
        trust=public_trust,
        signing_time=datetime(2026, 6, 1, 3, 30),  # noqa: DTZ001
    )
    assert b"<SigningTime>2026-06-01T03:30:00</SigningTime>" in aware
    assert b"<SigningTime>2026-06-01T03:30:00</SigningTime>" in naive


def test_declaration_layout(p12_dir, public_trust, checker) -> None:
    """A tax declaration is signed over HSoKhaiThue (id="_NODE_TO_SIGN") into CKyDTu."""
    signed = esign.sign_xml(declaration(), p12(p12_dir, "citizen"), trust=public_trust)
    ns = {"t": "http://kekhaithue.gdt.gov.vn/TKhaiThue", **NS}
    root = etree.fromstring(signed)
    assert root.xpath("/t:HSoThueDTu/t:CKyDTu/ds:Signature", namespaces=ns)
    ref = root.find(".//ds:Reference", NS)
    assert ref.get("URI") == "#_NODE_TO_SIGN"
    verify_both(signed, checker, id_attrs=("Id", "id"))
    assert check_xml_signature(signed)[0].role == "declarant"
    tampered_fails_both(signed, checker, b"<ct23>1100000</ct23>", b"<ct23>9100000</ct23>")


def test_declaration_role_and_capital_id(p12_dir, public_trust, checker) -> None:
    """role="declarant" with Id="..." (capital I) signs the same way."""
    signed = esign.sign_xml(
        declaration("Id"), p12(p12_dir, "citizen-ec"), role="declarant", trust=public_trust
    )
    verify_both(signed, checker)


def test_invoice_with_default_namespace(p12_dir, public_trust, checker) -> None:
    """An invoice in a default namespace gets DSCKS/NBan in that namespace and verifies."""
    urn = "http://laphoadon.gdt.gov.vn/2014/09/invoicexml/v1"
    src = invoice(namespace=urn).replace(b"\n  <DSCKS><NBan/><NMua/></DSCKS>", b"")
    signed = esign.sign_xml(src, p12(p12_dir, "citizen"), trust=public_trust)
    root = etree.fromstring(signed)
    assert root.xpath("/i:HDon/i:DSCKS/i:NBan/ds:Signature", namespaces={"i": urn, **NS})
    verify_both(signed, checker)


def test_inherited_xml_attributes_are_canonicalised(p12_dir, public_trust, checker) -> None:
    """xml:lang/xml:space on HDon are inherited in C14N 1.0, so strict verification passes."""
    src = invoice().replace(b"<HDon ", b'<HDon xml:lang="vi" xml:space="preserve" ')
    signed = esign.sign_xml(src, p12(p12_dir, "citizen"), trust=public_trust)
    verify_both(signed, checker)


def test_invoice_inside_a_message(p12_dir, public_trust, checker) -> None:
    """An invoice already wrapped in a TDiep message (TDiep/DLieu/HDon) is signed in place."""
    inner = invoice().split(b"?>", 1)[1]
    src = b"<TDiep><TTChung><MLTDiep>200</MLTDiep></TTChung><DLieu>" + inner + b"</DLieu></TDiep>"
    signed = esign.sign_xml(src, p12(p12_dir, "citizen"), trust=public_trust)
    assert etree.fromstring(signed).xpath(
        "/TDiep/DLieu/HDon/DSCKS/NBan/ds:Signature", namespaces=NS
    )
    verify_both(signed, checker)


def test_other_layout_with_element(p12_dir, public_trust, checker) -> None:
    """Another layout is signed only with element= (here the root, enveloped)."""
    doc = b'<ToKhai Id="tk1"><HoTen>Nguy\xe1\xbb\x85n V\xc4\x83n A</HoTen></ToKhai>'
    with pytest.raises(esign.XmlInputError, match="element="):
        esign.sign_xml(doc, p12(p12_dir, "citizen"), trust=public_trust)
    signed = esign.sign_xml(doc, p12(p12_dir, "citizen"), element="ToKhai", trust=public_trust)
    assert etree.fromstring(signed)[-1].tag == f"{{{DS}}}Signature"
    verify_both(signed, checker)
    tampered_fails_both(signed, checker, b"V\xc4\x83n A", b"V\xc4\x83n B")


def test_tampered_invoice_fails_both_verifiers(p12_dir, public_trust, checker) -> None:
    """Changing the amount, or re-signing the invoice with a moved Id, fails both verifiers."""
    signed = esign.sign_xml(invoice(), p12(p12_dir, "citizen-ec"), trust=public_trust)
    verify_both(signed, checker)
    tampered_fails_both(signed, checker, b"<TgTTTBSo>1100000<", b"<TgTTTBSo>9100000<")
    tampered_fails_both(signed, checker, b'<DLHDon Id="data">', b'<DLHDon Id="data2">')


# -- refusals ----------------------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE HDon [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<HDon><DLHDon Id="data"><Ten>&x;</Ten></DLHDon></HDon>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE HDon [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<HDon><DLHDon Id="data"><Ten>&b;</Ten></DLHDon></HDon>"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (XXE, "DOCTYPE"),
        (LAUGHS, "DOCTYPE"),
        (b"%PDF-1.7 not xml", "not XML"),
        (b"<HDon><DLHDon Id='data'>", "not well-formed"),
        (b"<HDon><DSCKS/></HDon>", "no DLHDon"),
        (b"<HDon><DLHDon>1</DLHDon></HDon>", "no Id"),
        (b"<HDon><DLHDon Id='a'/><DLHDon Id='b'/></HDon>", "ambiguous"),
        (b"<HDon><DLHDon Id='a'/><MCCQT Id='a'/></HDon>", "used by another"),
        (b"<HoaDon><DLHDon Id='a'/></HoaDon>", "not an e-invoice"),
        (b"<a>" * 200 + b"</a>" * 200, "deeper"),
    ],
)
def test_hostile_or_unknown_input_is_refused(data, message, p12_dir, public_trust) -> None:
    """DOCTYPE, non-XML, missing/duplicated/Id-less elements, unknown layouts: XmlInputError."""
    with pytest.raises(esign.XmlInputError, match=message) as info:
        esign.sign_xml(data, p12(p12_dir, "citizen"), trust=public_trust)
    assert isinstance(info.value, esign.InputError)


def test_already_signed_and_wrong_role_are_refused(p12_dir, public_trust) -> None:
    """A second seller signature, and a role the document is not for, are refused."""
    signer = p12(p12_dir, "citizen")
    signed = esign.sign_xml(invoice(), signer, trust=public_trust)
    with pytest.raises(esign.XmlInputError, match="already signed"):
        esign.sign_xml(signed, signer, trust=public_trust)
    with pytest.raises(esign.UsageError, match="declarant"):
        esign.sign_xml(invoice(), signer, role="declarant", trust=public_trust)
    with pytest.raises(esign.UsageError, match="unknown role"):
        esign.sign_xml(invoice(), signer, role="buyer", trust=public_trust)
    with pytest.raises(esign.UsageError, match="bytes"):
        esign.sign_xml(invoice().decode(), signer, trust=public_trust)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("label", "error"),
    [
        ("citizen-revoked", esign.CertificateRevoked),
        ("citizen-no-usage", esign.KeyUsageMissing),
    ],
)
def test_certificate_that_would_not_verify_is_refused(
    label, error, demo_pki, public_trust, tmp_path
):
    """Before signing, a revoked certificate or one without signing key usage is refused."""
    path = demo_pki.write_p12(label, tmp_path / f"{label}.p12")
    with pytest.raises(error):
        esign.sign_xml(invoice(), esign.from_pkcs12(path, P12_PASSWORD), trust=public_trust)


def test_wrong_profile_is_refused(p12_dir, specialized_trust) -> None:
    """A public-CA certificate is refused under the specialized profile."""
    with pytest.raises(esign.WrongProfile):
        esign.sign_xml(
            invoice(),
            p12(p12_dir, "citizen"),
            profile=esign.SPECIALIZED,
            trust=specialized_trust,
        )


# -- many invoices -----------------------------------------------------------------------------


def test_sign_many_keeps_order_and_reports_each_failure(
    p12_dir, public_trust, checker, tmp_path
) -> None:
    """sign_xml_many signs bytes and paths in order; a bad one gets an error, the rest go on."""
    on_disk = tmp_path / "hd2.xml"
    on_disk.write_bytes(invoice(data_id="hd2"))
    items = [invoice(data_id="hd1"), on_disk, b"<HDon/>", tmp_path / "missing.xml", invoice()]
    results = list(esign.sign_xml_many(items, p12(p12_dir, "citizen"), trust=public_trust))
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert [r.ok for r in results] == [True, True, False, False, True]
    assert results[1].source == str(on_disk)
    assert results[0].source == "#0"
    assert isinstance(results[2].error, esign.XmlInputError)
    assert isinstance(results[3].error, esign.InputError)
    for r in results:
        if r.ok:
            assert r.data is not None
            verify_both(r.data, checker)
    assert results[0].signer.name


def test_sign_many_refuses_the_certificate_before_the_first(demo_pki, public_trust, tmp_path):
    """A certificate that would not verify stops the whole batch before anything is signed."""
    path = demo_pki.write_p12("citizen-revoked", tmp_path / "r.p12")
    results = esign.sign_xml_many(
        [invoice()], esign.from_pkcs12(path, P12_PASSWORD), trust=public_trust
    )
    with pytest.raises(esign.CertificateRevoked):
        next(iter(results))


def test_sign_many_with_a_remote_key(csc, public_trust, checker) -> None:
    """The remote key source is opened once for the batch; every invoice verifies."""
    key = esign.from_csc(csc.url, csc.credential("citizen"), token=csc.token, timeout=10)
    before = csc.calls.get("/csc/v1/credentials/info", 0)
    results = list(
        esign.sign_xml_many([invoice(data_id=f"hd{i}") for i in range(3)], key, trust=public_trust)
    )
    assert all(r.ok for r in results)
    assert csc.calls.get("/csc/v1/credentials/info", 0) == before + 1
    for r in results:
        assert r.data is not None
        verify_both(r.data, checker)


# -- the command line --------------------------------------------------------------------------


def _one_line(err: str) -> None:
    assert err.count("\n") == 1, err
    assert "Traceback" not in err


def _cli_key(p12_dir: Path, label: str = "citizen") -> list[str]:
    return [
        "--p12",
        str(p12_dir / f"{label}.p12"),
        "--trust",
        str(p12_dir / "public-root.pem"),
    ]


def test_cli_signs_one_invoice(p12_dir, checker, tmp_path, monkeypatch, capsys) -> None:
    """`esign xml IN OUT --p12 F` writes a signed invoice that both verifiers accept."""
    from esign.cli import main

    monkeypatch.setenv("ESIGN_P12_PASSWORD", "demo")
    src, out = tmp_path / "hd.xml", tmp_path / "hd-signed.xml"
    src.write_bytes(invoice())
    rc = main(["xml", str(src), str(out), "--role", "seller", *_cli_key(p12_dir)])
    assert rc == 0, capsys.readouterr().err
    assert "XMLDSig signed by" in capsys.readouterr().out
    verify_both(out.read_bytes(), checker)


def test_cli_signs_a_declaration_with_password_file(p12_dir, checker, tmp_path, capsys) -> None:
    """`esign xml` with --password-file and --element signs a declaration into CKyDTu."""
    from esign.cli import main

    pw = tmp_path / "pw"
    pw.write_text("demo\n")
    src, out = tmp_path / "tk.xml", tmp_path / "tk-signed.xml"
    src.write_bytes(declaration())
    args = ["xml", str(src), str(out), "--element", "HSoKhaiThue", "--password-file", str(pw)]
    rc = main([*args, *_cli_key(p12_dir)])
    assert rc == 0, capsys.readouterr().err
    verify_both(out.read_bytes(), checker, id_attrs=("Id", "id"))


def test_cli_signs_a_folder(p12_dir, checker, tmp_path, monkeypatch, capsys) -> None:
    """A folder is signed into another; a bad file is one stderr line and exit code 1."""
    from esign.cli import main

    monkeypatch.setenv("ESIGN_P12_PASSWORD", "demo")
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(3):
        (src / f"hd{i}.xml").write_bytes(invoice(data_id=f"hd{i}"))
    (src / "broken.xml").write_bytes(b"<HDon><DLHDon>")
    (src / "notes.txt").write_text("not an invoice")
    rc = main(["xml", str(src), str(out), *_cli_key(p12_dir, "citizen-ec")])
    captured = capsys.readouterr()
    assert rc == 1
    _one_line(captured.err)
    assert "broken.xml" in captured.err
    assert "XmlInputError" in captured.err
    assert "3 of 4 documents signed" in captured.out
    assert sorted(p.name for p in out.iterdir()) == ["hd0.xml", "hd1.xml", "hd2.xml"]
    for p in out.iterdir():
        verify_both(p.read_bytes(), checker)


@pytest.mark.parametrize(
    ("make_args", "code"),
    [
        (lambda d, k: ["xml", str(d / "hd.xml"), str(d / "o.xml"), *k], 1),  # DOCTYPE
        (lambda d, k: ["xml", str(d / "none.xml"), str(d / "o.xml"), *k], 1),  # no file
        (lambda d, k: ["xml", str(d / "hd.xml"), str(d / "o.xml")], 2),  # no key
        (lambda d, k: ["xml", str(d / "hd.xml"), str(d / "o.xml"), "--role", "x", *k], 2),
        (lambda d, k: ["xml", str(d), str(d), *k], 2),  # OUT is IN
    ],
)
def test_cli_bad_input_is_one_line(make_args, code, p12_dir, tmp_path, monkeypatch, capsys) -> None:
    """Bad input, no file, no key, bad role: one stderr line, non-zero code, no output."""
    from esign.cli import main

    monkeypatch.setenv("ESIGN_P12_PASSWORD", "demo")
    (tmp_path / "hd.xml").write_bytes(XXE)
    rc = main(make_args(tmp_path, _cli_key(p12_dir)))
    assert rc == code
    _one_line(capsys.readouterr().err)
    assert not (tmp_path / "o.xml").exists()
