"""Signer identities read from Vietnamese certificates."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils.reader import PdfFileReader

from verify.errors import CertificateParseError, VerifyError
from verify.identity import Identifier, IdentifierScheme, SignerIdentity, SignerKind
from verify.trust import TrustProfile

REALWORLD = Path(__file__).resolve().parents[1] / "data" / "realworld"
MISA_PDF = REALWORLD / "misa-ca-contract-appendix.pdf"

T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = datetime(2028, 1, 1, 12, 30, tzinfo=UTC)

CA_KEY = ec.generate_private_key(ec.SECP256R1())
LEAF_KEY = ec.generate_private_key(ec.SECP256R1())
CA_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Công ty Thử nghiệm CA"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Test-CA"),
    ]
)

Attr = tuple[x509.ObjectIdentifier, str]


def _cert(
    attrs: list[Attr],
    *,
    issuer: x509.Name = CA_NAME,
    issuer_key: ec.EllipticCurvePrivateKey = CA_KEY,
    serial: int = 0x0A1B2C,
    email_san: str | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs]))
        .issuer_name(issuer)
        .public_key(LEAF_KEY.public_key())
        .serial_number(serial)
        .not_valid_before(T0)
        .not_valid_after(T1)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if email_san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email_san)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _identity(attrs: list[Attr], **kwargs: object) -> SignerIdentity:
    cert = _cert(attrs)
    asn1 = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    return SignerIdentity.from_certificate(asn1, **kwargs)  # type: ignore[arg-type]


def _uid(text: str) -> Attr:
    return (NameOID.USER_ID, text)


def _cn(text: str) -> Attr:
    return (NameOID.COMMON_NAME, text)


def _o(text: str) -> Attr:
    return (NameOID.ORGANIZATION_NAME, text)


def _schemes(identity: SignerIdentity) -> list[tuple[str, str]]:
    return [(str(i.scheme), i.value) for i in identity.identifiers]


# --------------------------------------------------------------------------------------
# Identifier forms


def test_cccd_citizen_id_makes_an_individual() -> None:
    """UID=CCCD:<12 digits> is a well-formed citizen ID and the signer is an individual."""
    identity = _identity([_cn("NGUYỄN VĂN AN"), _uid("CCCD:001089020747")])
    assert identity.identifiers == (
        Identifier(IdentifierScheme.CCCD, "001089020747", "CCCD:001089020747", "uid", True),
    )
    assert identity.kind is SignerKind.INDIVIDUAL
    assert identity.identifier("cccd") == "001089020747"


@pytest.mark.parametrize("number", ["162952530", "079073009568"])
def test_cmnd_old_id_with_9_or_12_digits(number: str) -> None:
    """UID=CMND: accepts the 9-digit and the 12-digit old identity card number."""
    identity = _identity([_cn("Lê Công Nghĩa"), _uid(f"CMND:{number}")])
    (ident,) = identity.identifiers
    assert (ident.scheme, ident.value, ident.well_formed) == ("cmnd", number, True)
    assert identity.kind is SignerKind.INDIVIDUAL


def test_passport_hc() -> None:
    """UID=HC:<passport number> is read as a passport and makes an individual."""
    identity = _identity([_cn("John Smith"), _uid("HC: e00851967")])
    assert _schemes(identity) == [("passport", "E00851967")]
    assert identity.identifiers[0].raw == "HC: e00851967"
    assert identity.kind is SignerKind.INDIVIDUAL


def test_mst_tax_code_makes_an_organisation() -> None:
    """UID=MST:<10 digits> alone makes an organisation."""
    identity = _identity(
        [_cn("CÔNG TY CỔ PHẦN ABC"), _o("CÔNG TY CỔ PHẦN ABC"), _uid("MST:0104359717")]
    )
    assert _schemes(identity) == [("mst", "0104359717")]
    assert identity.kind is SignerKind.ORGANISATION


@pytest.mark.parametrize(
    ("raw", "value"),
    [("MST:0100686209-199", "0100686209-199"), ("mst : 0100686209199", "0100686209-199")],
)
def test_branch_mst(raw: str, value: str) -> None:
    """A branch tax code (10 digits - 3 digits, or 13 digits run together) is one MST."""
    identity = _identity([_cn("CHI NHÁNH HÀ NỘI"), _uid(raw)])
    (ident,) = identity.identifiers
    assert (ident.scheme, ident.value, ident.well_formed, ident.raw) == ("mst", value, True, raw)
    assert identity.kind is SignerKind.ORGANISATION


def test_state_body_with_mst_and_mns() -> None:
    """A state body carries MST and MNS (budget unit code) in two UIDs: an organisation."""
    identity = _identity(
        [
            (NameOID.EMAIL_ADDRESS, "syt@danang.gov.vn"),
            _uid("MST:0400260612"),
            _uid("MNS:1047665"),
            _cn("SỞ Y TẾ"),
            _o("ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG"),
            (NameOID.LOCALITY_NAME, "Đà Nẵng"),
            (NameOID.COUNTRY_NAME, "VN"),
        ]
    )
    assert _schemes(identity) == [("mst", "0400260612"), ("mns", "1047665")]
    assert all(i.well_formed for i in identity.identifiers)
    assert identity.kind is SignerKind.ORGANISATION
    assert identity.email == "syt@danang.gov.vn"
    assert identity.locality == "Đà Nẵng"


def test_multiple_uids_employee_certificate_is_a_person() -> None:
    """Company MST plus the employee's CCCD, both kept in order: the signer is a person."""
    identity = _identity(
        [
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.STATE_OR_PROVINCE_NAME, "Hà Nội"),
            _o("MobiFone IT"),
            _uid("MST:0100686209-199"),
            _uid("CCCD:025199009534"),
            _cn("NGUYỄN HỒNG NHUNG"),
        ]
    )
    assert _schemes(identity) == [("mst", "0100686209-199"), ("cccd", "025199009534")]
    assert identity.kind is SignerKind.INDIVIDUAL
    assert identity.province == "Hà Nội"
    assert identity.organisation == "MobiFone IT"


def test_identifier_in_serial_number_attribute() -> None:
    """An identifier in serialNumber (2.5.4.5) is found, and its source is recorded."""
    identity = _identity([_cn("HOÀNG THỊ QUYÊN"), (NameOID.SERIAL_NUMBER, "CCCD:012345678900")])
    (ident,) = identity.identifiers
    assert (ident.scheme, ident.value, ident.source) == ("cccd", "012345678900", "serial_number")
    assert identity.kind is SignerKind.INDIVIDUAL


def test_etsi_semantic_identifiers() -> None:
    """ETSI forms IDCVN-/PASVN- in serialNumber and VATVN- in organizationIdentifier."""
    person = _identity([_cn("Trần Bình"), (NameOID.SERIAL_NUMBER, "IDCVN-012345678901")])
    assert _schemes(person) == [("cccd", "012345678901")]
    old_card = _identity([_cn("Trần Bình"), (NameOID.SERIAL_NUMBER, "IDCVN-123456789")])
    assert _schemes(old_card) == [("cmnd", "123456789")]
    company = _identity([_cn("CÔNG TY XYZ"), (NameOID.ORGANIZATION_IDENTIFIER, "VATVN-0101234567")])
    assert _schemes(company) == [("mst", "0101234567")]
    assert company.identifiers[0].source == "organization_identifier"
    assert company.kind is SignerKind.ORGANISATION


def test_identifier_written_inside_the_common_name() -> None:
    """An identifier written with its scheme inside the CN is found; the CN is kept whole."""
    identity = _identity([_cn("Nguyễn Văn A (CCCD: 001089020747)")])
    assert _schemes(identity) == [("cccd", "001089020747")]
    assert identity.identifiers[0].source == "common_name"
    assert identity.name == "Nguyễn Văn A (CCCD: 001089020747)"


def test_cn_without_scheme_colon_is_not_mistaken() -> None:
    """Letters like 'HCM' in a CN are not read as a passport (a scheme needs its colon)."""
    identity = _identity(
        [_cn("Nguyễn Văn A, A101.0001 - 003848/HCM-CCHN"), _uid("CMND:079073009568")]
    )
    assert _schemes(identity) == [("cmnd", "079073009568")]


def test_bhxh_and_pid() -> None:
    """BHXH (10 digits) and PID (12 digits) are personal identifiers."""
    identity = _identity([_cn("Phạm Đức Huy"), _uid("BHXH:0123456789"), _uid("PID:001089020747")])
    assert _schemes(identity) == [("bhxh", "0123456789"), ("pid", "001089020747")]
    assert identity.kind is SignerKind.INDIVIDUAL


def test_twelve_digit_mst_is_a_personal_tax_code() -> None:
    """A 12-digit MST is a personal identification number used as tax code: an individual."""
    identity = _identity([_cn("Hộ kinh doanh Lê Thị Mai"), _uid("MST:038079004321")])
    assert identity.identifiers[0].is_personal
    assert identity.kind is SignerKind.INDIVIDUAL


@pytest.mark.parametrize("raw", ["DDX:abc-123", "038079004321", "  ", "Mã số: 12/ABC"])
def test_unknown_forms_are_kept_raw(raw: str) -> None:
    """A UID in an unknown form is kept with scheme 'unknown' and its exact raw text."""
    identity = _identity([_cn("Ai đó"), _uid(raw)])
    (ident,) = identity.identifiers
    assert ident.scheme == "unknown"
    assert ident.raw == raw
    assert ident.well_formed is False
    assert identity.kind is SignerKind.UNKNOWN


def test_malformed_known_scheme_is_flagged_not_dropped() -> None:
    """CCCD with 5 digits stays a CCCD identifier, flagged as not well formed."""
    identity = _identity([_cn("Ai đó"), _uid("CCCD:12345")])
    (ident,) = identity.identifiers
    assert (ident.scheme, ident.value, ident.well_formed) == ("cccd", "12345", False)


def test_vietnamese_names_are_nfc() -> None:
    """Names given in decomposed Unicode (NFD) come out composed (NFC)."""
    nfd_name = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    nfd_org = unicodedata.normalize("NFD", "Bộ Tài chính")
    assert nfd_name != "Nguyễn Thị Ánh Tuyết"
    identity = _identity([_cn(nfd_name), _o(nfd_org), _uid("CCCD:001089020747")])
    assert identity.name == "Nguyễn Thị Ánh Tuyết"
    assert identity.organisation == "Bộ Tài chính"
    assert identity.name is not None
    assert unicodedata.is_normalized("NFC", identity.name)


# --------------------------------------------------------------------------------------
# Kind rules


def test_person_in_specialized_hierarchy_is_an_official() -> None:
    """A person's certificate from the specialized hierarchy is OFFICIAL; public: INDIVIDUAL."""
    attrs = [_cn("Đỗ Minh Khôi"), _uid("CCCD:001089020747")]
    assert _identity(attrs, profile="specialized").kind is SignerKind.OFFICIAL
    assert _identity(attrs, profile="public").kind is SignerKind.INDIVIDUAL
    assert _identity(attrs).kind is SignerKind.INDIVIDUAL


def test_title_and_organisation_without_ids_in_specialized_is_official() -> None:
    """No identifier, but a title and an organisation, in the specialized hierarchy: OFFICIAL."""
    attrs = [
        _cn("Vũ Thanh Hà"),
        (NameOID.TITLE, "Phó Giám đốc"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "Văn phòng"),
        _o("Sở Tư pháp tỉnh Nam Định"),
    ]
    official = _identity(attrs, profile="specialized")
    assert official.kind is SignerKind.OFFICIAL
    assert official.title == "Phó Giám đốc"
    assert official.organisational_unit == "Văn phòng"
    assert _identity(attrs, profile="public").kind is SignerKind.INDIVIDUAL


def test_organisation_certificate_without_ids() -> None:
    """With no identifier, a CN equal to the O is an organisation; anything else is UNKNOWN."""
    org = _identity([_cn("Sở Tư pháp tỉnh Nam Định"), _o("Sở Tư pháp tỉnh Nam Định")])
    assert org.kind is SignerKind.ORGANISATION
    assert _identity([_cn("Một cái tên")]).kind is SignerKind.UNKNOWN


def test_organisation_in_specialized_hierarchy_stays_organisation() -> None:
    """An MST-only certificate in the specialized hierarchy is still an ORGANISATION."""
    identity = _identity([_cn("Sở Tài chính"), _uid("MST:0400260612")], profile="specialized")
    assert identity.kind is SignerKind.ORGANISATION


def test_hierarchy_found_by_issuer_key_not_name() -> None:
    """Two CAs share a name; the profile comes from the CA whose key signed the certificate."""
    public_ca_key = ec.generate_private_key(ec.SECP256R1())
    special_ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = {
        key: x509.CertificateBuilder()
        .subject_name(CA_NAME)
        .issuer_name(CA_NAME)
        .public_key(key.public_key())
        .serial_number(n)
        .not_valid_before(T0)
        .not_valid_after(T1)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
        for n, key in [(1, public_ca_key), (2, special_ca_key)]
    }

    def asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    profile = TrustProfile.custom(
        [asn1(ca_cert[public_ca_key])], name="mixed", hierarchy="public"
    ).with_extra_anchors([asn1(ca_cert[special_ca_key])], hierarchy="specialized")
    attrs = [_cn("Đỗ Minh Khôi"), _uid("CCCD:001089020747")]
    by_special = _cert(attrs, issuer_key=special_ca_key)
    by_public = _cert(attrs, issuer_key=public_ca_key)
    special = SignerIdentity.from_certificate(by_special, profile=profile)
    public = SignerIdentity.from_certificate(by_public, profile=profile)
    assert (special.profile, special.kind) == ("specialized", SignerKind.OFFICIAL)
    assert (public.profile, public.kind) == ("public", SignerKind.INDIVIDUAL)
    stranger = _cert(attrs, issuer_key=ec.generate_private_key(ec.SECP256R1()))
    assert SignerIdentity.from_certificate(stranger, profile=profile).profile is None


# --------------------------------------------------------------------------------------
# Inputs and outputs


def test_accepts_cryptography_der_and_pem() -> None:
    """A cryptography certificate, DER bytes and PEM bytes give the same identity."""
    cert = _cert([_cn("Ngô Quang Đạt"), _uid("CMND:162952530")])
    from_crypto = SignerIdentity.from_certificate(cert)
    from_der = SignerIdentity.from_certificate(cert.public_bytes(serialization.Encoding.DER))
    from_pem = SignerIdentity.from_certificate(cert.public_bytes(serialization.Encoding.PEM))
    assert from_crypto == from_der == from_pem
    assert from_crypto.name == "Ngô Quang Đạt"


@pytest.mark.parametrize("bad", [b"", b"\x30\x03\x02\x01\x01", b"not a certificate", 42])
def test_non_certificates_raise_parse_error(bad: object) -> None:
    """Bytes or objects that are not certificates raise CertificateParseError (a ValueError)."""
    with pytest.raises(CertificateParseError) as excinfo:
        SignerIdentity.from_certificate(bad)
    assert isinstance(excinfo.value, ValueError)
    assert isinstance(excinfo.value, VerifyError)


def test_unknown_profile_string_is_rejected() -> None:
    """A profile given as text must be 'public' or 'specialized'."""
    with pytest.raises(ValueError, match="profile"):
        _identity([_cn("X")], profile="qualified")


def test_to_dict_is_json_ready_with_stable_keys_and_utc_times() -> None:
    """to_dict has a fixed key order, serialises to JSON, and gives aware UTC times."""
    identity = _identity(
        [_cn("Trần Thị Lan"), _uid("CCCD:001089020747"), (NameOID.COUNTRY_NAME, "VN")],
    )
    data = identity.to_dict()
    assert list(data) == [
        "kind",
        "name",
        "identifiers",
        "organisation",
        "organisational_unit",
        "title",
        "email",
        "locality",
        "province",
        "country",
        "issuer_name",
        "issuer_organisation",
        "profile",
        "serial_number",
        "not_before",
        "not_after",
    ]
    assert list(data["identifiers"][0]) == ["scheme", "value", "raw", "source", "well_formed"]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["kind"] == "individual"
    assert data["not_before"] == "2025-01-01T00:00:00+00:00"
    assert data["not_after"] == "2028-01-01T12:30:00+00:00"
    assert identity.not_before.tzinfo is not None
    assert identity.not_before.utcoffset() == UTC.utcoffset(None)
    assert data["serial_number"] == "0A1B2C"
    assert data["issuer_name"] == "Test-CA"
    assert data["issuer_organisation"] == "Công ty Thử nghiệm CA"


def test_email_from_subject_alt_name() -> None:
    """Without an emailAddress attribute the e-mail comes from the subjectAltName."""
    cert = _cert([_cn("Lý Văn Tám"), _uid("CCCD:001089020747")], email_san="tam@example.vn")
    assert SignerIdentity.from_certificate(cert).email == "tam@example.vn"


def test_describe_lines() -> None:
    """describe_vi/en give one line: name, known identifiers, issuing CA."""
    identity = _identity([_cn("Trần Thị Lan"), _uid("CCCD:001089020747"), _uid("XYZ:1")])
    assert identity.describe_vi() == "Trần Thị Lan (CCCD 001089020747), cấp bởi Test-CA"
    assert identity.describe_en() == "Trần Thị Lan (citizen ID 001089020747), issued by Test-CA"


# --------------------------------------------------------------------------------------
# The real MISA-CA signer


def test_real_misa_ca_signer_is_the_organisation() -> None:
    """The MISA-CA signer of the real contract appendix is an organisation with its MST."""
    with MISA_PDF.open("rb") as f:
        cert = PdfFileReader(f).embedded_signatures[0].signer_cert
    identity = SignerIdentity.from_certificate(cert, profile=TrustProfile.any())
    assert identity.kind is SignerKind.ORGANISATION
    assert identity.name == "CÔNG TY TNHH DỊCH VỤ CÔNG NGHỆ TRỰC TUYẾN"
    assert identity.identifier(IdentifierScheme.MST) == "0316950978"
    assert identity.identifiers[0].raw == "MST:0316950978"
    assert identity.issuer_name == "MISA-CA"
    assert identity.issuer_organisation == "MISA JOINT STOCK COMPANY"
    assert identity.profile == "public"
    assert identity.province == "TP Hồ Chí Minh"
    assert identity.not_before == datetime(2021, 9, 11, 5, 0, 55, tzinfo=UTC)
    assert identity.describe_vi() == (
        "CÔNG TY TNHH DỊCH VỤ CÔNG NGHỆ TRỰC TUYẾN (MST 0316950978), cấp bởi MISA-CA"
    )


# --------------------------------------------------------------------------------------
# Property


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=3))
def test_any_uid_text_never_raises_and_keeps_raw(texts: list[str]) -> None:
    """Whatever text the UIDs hold, reading never raises and every raw text is kept."""
    identity = _identity([_cn("Bất kỳ"), *(_uid(t) for t in texts)])
    raws = [i.raw for i in identity.identifiers if i.source == "uid"]
    assert set(texts) <= set(raws)
    assert len(raws) == len(set(texts))
    assert isinstance(identity.kind, SignerKind)
    json.dumps(identity.to_dict(), ensure_ascii=False)
