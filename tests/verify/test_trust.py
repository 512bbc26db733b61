"""Trust profiles: the bundled Vietnamese hierarchies, loaders, and path building."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    PathBuildingError,
    PathValidationError,
)
from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy

from verify.errors import TrustStoreError, UnknownTrustProfileError, VerifyError
from verify.trust import (
    TrustProfile,
    bundled_catalog,
    fingerprint,
    load_certificates,
)

DATA = Path(__file__).resolve().parents[2] / "verify" / "data" / "trust"

# SHA-256 of each bundled certificate's DER, copied by hand from the shared CATALOG.md.
# An edited or swapped bundle file fails here even if catalog.json was edited with it.
PINNED: dict[str, str] = {
    "public/mic-national-root-ca-2008.pem": "CA918D635BB130BEC97639E6AABF7EDBC4EB1310F8058B9419F467AE0230AD8C",  # noqa: E501
    "public/vietnam-national-root-ca-2014.pem": "BAC8BF609AB420A8EE1780D74F4DE5C7F7184959D2A7375B0A75E4C29F0908E7",  # noqa: E501
    "public/vietnam-national-root-ca-ema-2026.pem": "0D765AEDFE7B12C7D11C7B5737507F24DB22F8AFE24BE140EB5801CB0853A8F9",  # noqa: E501
    "public/vietnam-national-root-ca-g3-2024.pem": "7B3269E7D79AEBBFAE5095F45BBB7074771E690CB7DF02B441062B12F7690ECE",  # noqa: E501
    "public/vietnam-national-root-ca-mobilepki-2025.pem": "C75535D65C0FF7480A3D6F393D56DA5F7C92DDCC071F4E9166C3F8D660EF836C",  # noqa: E501
    "public/vietnam-national-root-ca-rs-2025.pem": "12AFEBA2545F6FC0F31EC130F31BF2D16184A2B5B7CEBCB43CFD1BA35DD4EA46",  # noqa: E501
    "public/vietnam-national-root-ca-tsa-2025.pem": "D343B3C5132F7D1676C3560025AEFEF036FCEEC073C33F18E075B3A21C8F8552",  # noqa: E501
    "public/vietnam-national-root-ca-usbtoken-2025.pem": "41803135F13A6359866E7E6F76DAFD598D496836944A52DD1FAD66B3BF2EE63B",  # noqa: E501
    "public/bkavca-2015.pem": "DDAB3AA11600215C08CA4CCBC18BE5204C171A48081A6CD73A95AA868E1258AF",
    "public/ca2-2015.pem": "22A088DEDD18B017409157CCDCE931236492DF259459E7FAC424574DD06380E2",
    "public/easyca-2020.pem": "226FF88E9B3BC23BC756425E6A5236895F04AD72FB48D1A3242F4389259CE487",
    "public/efy-ca-2018.pem": "78B775B5C62B409CF088AA3316074152325582F8F5DF7B6A2CCD71F70480877C",
    "public/fastca-sha-256-2020.pem": "BCE53BFC017DC917CCAC7F314BCDDF257C53EC8FFC0165F33A80558DEDED01F1",  # noqa: E501
    "public/fpt-certification-authority-2015.pem": "406BA8BE66EAD6D01672F1E137CC35A778E2F289EDD3F9E7580964190B83C761",  # noqa: E501
    "public/misa-ca-2019.pem": "C8B3186A611DD6A9445924CDC6A950D1592777935310983E6E56861AC8C92337",
    "public/newtel-ca-2013.pem": "27AB09408347EE182186D2A21E82FEDA0A4E0F84441525BA1DE74A7E87401EBA",
    "public/safe-ca-2012.pem": "2DC2258971BA842F141F5DD0C24D018CD053C959390480891CEBF0AC806AB3D3",
    "public/safe-ca-2017.pem": "4E66E0073C9C217DBFA80697B0096FA61D71C1F32B29A12C2E2C37C0CAC35881",
    "public/smartsign-2012.pem": "429AEFDFDA0226C104ABF0511AD5B0F219A2B9AA6B23B6C964D43B44A5D38395",
    "public/smartsign-2017.pem": "591E6796472780FCF98D2E6797C8249457726DEE54A264307D9B51193CDBD5FD",
    "public/trustca-g1-2019.pem": "BFB284BDECB1DC958A7E0BBD8418AB54D4E7866E440446B87631DE21AFB04AC7",  # noqa: E501
    "public/vietnam-national-ca-erd-2026.pem": "DDB4D0266E266EB7BC6D98B071D78CE3020BC508AE08EE549A077A0E9496A040",  # noqa: E501
    "public/vietnam-national-ca-lta-2026.pem": "12A70606D2E04F9754481738800A87B1FF7D08736AE8F1C9344FEF51470B3D1D",  # noqa: E501
    "public/viettel-ca-2015.pem": "684CAF190176D13158808EF193B2D20575399A87FD9E8C5BEDC09065A184841A",  # noqa: E501
    "public/viettel-ca-rs-2022.pem": "860BCBE22FDC6757FE03B4597F7C61CA7F36E13CEB74A78CBEFC9C5B267B8662",  # noqa: E501
    "public/vnpt-ca-sha2-2024.pem": "7D6BA5245317F9ED5D8BC765A4634D26AC6340D36B9F584DF3B52D9C4A81A306",  # noqa: E501
    "public/vnpt-certification-authority-2009.pem": "068927B4C1A38AE4DB1E8F59A71A8C643D9DFBB53A674862387BD5AA7386247B",  # noqa: E501
    "public/vnpt-smartca-rs-2021.pem": "95CF8F36C986E0C0F7E03761B17D7804072CB644B235A8F1C62107F8804A4889",  # noqa: E501
    "specialized/co-quan-chung-thuc-so-chuyen-dung-chinh-phu-rootca-2010.pem": "F7BC89054CEC7F12730D7B8CD3EB7955B163835087E5EB873EDFB584763B3F90",  # noqa: E501
    "specialized/rootca-chuyen-dung-chinh-phu-g2-2018.pem": "F04BA4B459A7C9A1B971AD9B1CB833E695A80C79AEA63B174B66A70EDFE2FDB8",  # noqa: E501
    "specialized/ca-phuc-vu-cac-co-quan-ang-g2-2018.pem": "E4B402E3CB4CACC0A20D21FA49BCE76BEB4EB47BA7FFB7A8F71C554DBE561A81",  # noqa: E501
    "specialized/ca-phuc-vu-cac-co-quan-nha-nuoc-g2-2018.pem": "D8CAB7A4AEF92E6BB2509D7C61CEE7B44F3731B2D21074963530277B366FAE4B",  # noqa: E501
    "specialized/ca-phuc-vu-cho-dich-vu-phan-mem-g2-2018.pem": "40F3072893F35607E48F868DE76556905EC9784C3F1C9467DE767372556DF208",  # noqa: E501
    "specialized/co-quan-chung-thuc-so-bo-cong-an-2010.pem": "ECBF8428266C549EB1BFDC2715270D5B9DFF3BBBE2D3F0C33E0FD91F70B2D943",  # noqa: E501
    "specialized/co-quan-chung-thuc-so-bo-ngoai-giao-2016.pem": "3C4281296F92D292CC952295FE41AD7D0B37438FF1D143B56C4642CC1B14BD93",  # noqa: E501
    "specialized/co-quan-chung-thuc-so-bo-tai-chinh-2010.pem": "A262CFA489DBBE666F8B89FAB832547809874D5A06FA9F7A38FC227EBDF40514",  # noqa: E501
    "specialized/co-quan-chung-thuc-so-chinh-phu-2010.pem": "75E969C07BA35C29C72BBC1BFB880F20F3891A619B00B77EB02CA6160736A1FE",  # noqa: E501
    "specialized/co-quan-chung-thuc-so-dang-cong-san-2010.pem": "6E218B3EBC2F31B0D03205C64FD7E8920FB47187D37AFCDB4CB2BB4178BF4635",  # noqa: E501
    "specialized/may-chu-cap-dau-thoi-gian-01-2018.pem": "DA00DB89A849FE8B00882707224C6B291BDED54469E1A7532744F96ECAE79D39",  # noqa: E501
    "specialized/may-chu-cap-dau-thoi-gian-2013.pem": "FB2889047796A588378A57D47CEB563EFEFA39AF95B94D8F493830B5FF1634BC",  # noqa: E501
}

PUBLIC_ROOTS = {f for f in PINNED if f.startswith("public/") and "root" in f}
SPECIALIZED_ROOTS = {
    "specialized/co-quan-chung-thuc-so-chuyen-dung-chinh-phu-rootca-2010.pem",
    "specialized/rootca-chuyen-dung-chinh-phu-g2-2018.pem",
}
TSA_FILES = {
    "specialized/may-chu-cap-dau-thoi-gian-01-2018.pem",
    "specialized/may-chu-cap-dau-thoi-gian-2013.pem",
}

# The bundled chains were built when SHA-1 was still accepted. Whether SHA-1 is acceptable
# at a validation time is the validation policy's call; these proofs are about paths.
ALLOW_SHA1 = DisallowWeakAlgorithmsPolicy(weak_hash_algos=frozenset({"md2", "md5"}))


def _bundled(file: str) -> asn1_x509.Certificate:
    (cert,) = load_certificates(DATA / file)
    return cert


def _fps(certs: Iterable[asn1_x509.Certificate]) -> set[str]:
    return {fingerprint(c) for c in certs}


def _pinned_fps(files: Iterable[str]) -> set[str]:
    return {PINNED[f].lower() for f in files}


def _validate(
    cert: asn1_x509.Certificate,
    profile: TrustProfile,
    moment: datetime,
    *,
    key_usage: set[str] | None = None,
    extended_key_usage: set[str] | None = None,
    algorithms: Any = ALLOW_SHA1,
) -> list[asn1_x509.Certificate]:
    context = profile.validation_context(
        moment=moment, revocation_mode="none", algorithm_usage_policy=algorithms
    )
    validator = CertificateValidator(cert, validation_context=context)
    path = asyncio.run(validator.async_validate_usage(key_usage or set(), extended_key_usage))
    return list(path)


def _validity(cert: asn1_x509.Certificate) -> tuple[datetime, datetime]:
    validity = cert["tbs_certificate"]["validity"]
    return validity["not_before"].native, validity["not_after"].native


def _moment_inside(*certs: asn1_x509.Certificate) -> datetime:
    """The middle of the period in which all the given certificates are valid."""
    start = max(_validity(c)[0] for c in certs)
    end = min(_validity(c)[1] for c in certs)
    assert start < end
    return start + (end - start) / 2


# --------------------------------------------------------------------------------------
# Synthetic PKI helpers (cryptography, EC keys: fast)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = datetime(2030, 1, 1, tzinfo=UTC)
INSIDE = datetime(2026, 6, 1, tzinfo=UTC)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Thử nghiệm"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _issue(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    serial: int,
    critical_policies: bool = False,
    critical_crldp: bool = False,
    timestamping_eku: bool = False,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(T0)
        .not_valid_after(T1)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if critical_policies:
        policy = x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), None)
        builder = builder.add_extension(x509.CertificatePolicies([policy]), critical=True)
    if critical_crldp:
        point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier("http://127.0.0.1/test.crl")],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=True)
    if timestamping_eku:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _root(cn: str = "Test Root", **kwargs: Any) -> tuple[x509.Certificate, Any]:
    key = _key()
    return _issue(_name(cn), key, _name(cn), key, ca=True, serial=1, **kwargs), key


# --------------------------------------------------------------------------------------
# The bundle


def test_bundle_files_match_pinned_fingerprints() -> None:
    """Every bundled file is present, holds one certificate, and has its pinned SHA-256."""
    on_disk = {p.relative_to(DATA).as_posix() for p in DATA.glob("*/*.pem")}
    assert on_disk == set(PINNED)
    for file, pinned in PINNED.items():
        certs = load_certificates(DATA / file)
        assert len(certs) == 1, file
        assert hashlib.sha256(certs[0].dump()).hexdigest().upper() == pinned, file


def test_catalog_json_agrees_with_pins_and_files() -> None:
    """catalog.json lists exactly the pinned files, with the pinned fingerprints and kinds."""
    catalog = {e.file: e for e in bundled_catalog()}
    assert set(catalog) == set(PINNED)
    for file, entry in catalog.items():
        assert entry.sha256 == PINNED[file].lower(), file
        assert entry.hierarchy == file.split("/")[0]
    assert {f for f, e in catalog.items() if e.kind == "root"} == PUBLIC_ROOTS | SPECIALIZED_ROOTS
    assert {f for f, e in catalog.items() if e.kind == "tsa"} == TSA_FILES
    raw = json.loads((DATA / "catalog.json").read_text(encoding="utf-8"))
    assert all(item["source"] for item in raw["certificates"])


def test_bundle_readme_warns_to_check_fingerprints() -> None:
    """The bundle's README says fingerprints must be checked at rootca.gov.vn and ca.gov.vn."""
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "rootca.gov.vn" in readme
    assert "ca.gov.vn" in readme
    assert "have not yet been compared" in readme


def test_public_anchors_are_the_national_roots() -> None:
    """The public profile trusts the eight self-signed national roots and nothing else."""
    profile = TrustProfile.public()
    assert len(PUBLIC_ROOTS) == 8
    assert _fps(profile.anchors) == _pinned_fps(PUBLIC_ROOTS)
    public_cas = {f for f in PINNED if f.startswith("public/")} - PUBLIC_ROOTS
    assert _fps(profile.intermediates) == _pinned_fps(public_cas)
    assert all(c.self_signed == "maybe" for c in profile.anchors)


def test_specialized_anchors_are_g1_and_g2_roots() -> None:
    """The specialized profile trusts only the G1 (2010) and G2 (2018) roots."""
    profile = TrustProfile.specialized()
    assert _fps(profile.anchors) == _pinned_fps(SPECIALIZED_ROOTS)
    others = {f for f in PINNED if f.startswith("specialized/")} - SPECIALIZED_ROOTS
    assert _fps(profile.intermediates) == _pinned_fps(others)


def test_tsa_certificates_are_intermediates_never_anchors() -> None:
    """The two Ban Cơ yếu TSA certificates help build paths but are not trusted alone."""
    profile = TrustProfile.specialized()
    tsa = _pinned_fps(TSA_FILES)
    assert tsa <= _fps(profile.intermediates)
    assert not tsa & _fps(profile.anchors)
    assert not any(profile.is_anchor(_bundled(f)) for f in TSA_FILES)


def test_any_is_the_union_of_both_hierarchies() -> None:
    """`any` holds exactly the anchors and intermediates of public and specialized."""
    public, special, both = TrustProfile.public(), TrustProfile.specialized(), TrustProfile.any()
    assert both.name == "any"
    assert _fps(both.anchors) == _fps(public.anchors) | _fps(special.anchors)
    assert _fps(both.intermediates) == _fps(public.intermediates) | _fps(special.intermediates)
    assert len(both.anchors) == len(public.anchors) + len(special.anchors)


def test_named_profiles_and_unknown_name() -> None:
    """named() returns the bundled profiles; an unknown name raises verify's ValueError."""
    assert TrustProfile.named("public") == TrustProfile.public()
    assert TrustProfile.named("Specialized") == TrustProfile.specialized()
    assert TrustProfile.named("any") == TrustProfile.any()
    with pytest.raises(UnknownTrustProfileError) as excinfo:
        TrustProfile.named("qualified-eu")
    assert isinstance(excinfo.value, ValueError)
    assert isinstance(excinfo.value, VerifyError)
    assert "qualified-eu" in str(excinfo.value)
    assert "public" in str(excinfo.value)


def test_bundled_loading_is_cached() -> None:
    """A second request for a bundled profile returns the very same object."""
    assert TrustProfile.public() is TrustProfile.public()
    assert TrustProfile.any() is TrustProfile.any()
    assert bundled_catalog() is bundled_catalog()


def test_profile_of_matches_by_fingerprint_never_by_name() -> None:
    """profile_of names the hierarchy of bundled certificates; a same-name impostor gets None."""
    both = TrustProfile.any()
    for file in PINNED:
        assert both.profile_of(_bundled(file)) == file.split("/")[0], file
    g2 = _bundled("specialized/rootca-chuyen-dung-chinh-phu-g2-2018.pem")
    key = _key()
    g2_name = x509.Name.from_rfc4514_string(
        x509.load_der_x509_certificate(g2.dump()).subject.rfc4514_string()
    )
    impostor = _asn1(_issue(g2_name, key, g2_name, key, ca=True, serial=7))
    assert impostor.subject == g2.subject
    assert both.profile_of(impostor) is None
    assert TrustProfile.public().profile_of(g2) is None


def test_certvalidator_kwargs_split_anchors_and_intermediates() -> None:
    """certvalidator_kwargs gives anchors as trust_roots and the rest as other_certs only."""
    profile = TrustProfile.specialized()
    kwargs = profile.certvalidator_kwargs()
    assert set(kwargs) == {"trust_roots", "other_certs"}
    assert _fps(kwargs["trust_roots"]) == _fps(profile.anchors)
    assert _fps(kwargs["other_certs"]) == _fps(profile.intermediates)
    kwargs["trust_roots"].clear()
    assert len(profile.certvalidator_kwargs()["trust_roots"]) == 2


# --------------------------------------------------------------------------------------
# Loading files


def test_load_pem_with_many_certificates_deduplicates(tmp_path: Path) -> None:
    """A PEM file with several certificates (one repeated) loads each once, in order."""
    files = ["public/misa-ca-2019.pem", "public/vietnam-national-root-ca-2014.pem"]
    text = "".join((DATA / f).read_text() for f in [*files, files[0]])
    bundle = tmp_path / "chain.pem"
    bundle.write_text("leading text is ignored\n" + text)
    certs = load_certificates(bundle)
    assert [fingerprint(c) for c in certs] == [PINNED[f].lower() for f in files]


def test_load_der_certificate(tmp_path: Path) -> None:
    """A DER file loads as one certificate."""
    cert = _bundled("public/misa-ca-2019.pem")
    der = tmp_path / "misa.cer"
    der.write_bytes(cert.dump())
    assert [fingerprint(c) for c in load_certificates(der)] == [fingerprint(cert)]


@pytest.mark.parametrize("encoding", [serialization.Encoding.DER, serialization.Encoding.PEM])
def test_load_pkcs7_bundle(tmp_path: Path, encoding: serialization.Encoding) -> None:
    """A .p7b bundle, DER or PEM, yields all its certificates."""
    files = sorted(f for f in PINNED if f.startswith("specialized/"))
    certs = [x509.load_der_x509_certificate(_bundled(f).dump()) for f in files]
    p7b = tmp_path / "vgca.p7b"
    p7b.write_bytes(pkcs7.serialize_certificates(certs, encoding))
    assert _fps(load_certificates(p7b)) == _pinned_fps(files)


def test_load_folder_walks_and_filters_by_suffix(tmp_path: Path) -> None:
    """A folder is walked recursively; certificate suffixes are read, other files ignored."""
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    misa = _bundled("public/misa-ca-2019.pem")
    (tmp_path / "a.PEM").write_text((DATA / "public/vietnam-national-root-ca-2014.pem").read_text())
    (tmp_path / "sub" / "misa.der").write_bytes(misa.dump())
    (tmp_path / "sub" / "deeper" / "misa-again.crt").write_bytes(misa.dump())
    (tmp_path / "notes.txt").write_text("not a certificate, and not read")
    certs = load_certificates(tmp_path)
    assert _fps(certs) == _pinned_fps(
        ["public/vietnam-national-root-ca-2014.pem", "public/misa-ca-2019.pem"]
    )
    assert len(certs) == 2


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.pem", b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"),
        ("empty.der", b""),
        ("truncated.der", b"\x30\x82\x05\x00\x30\x82"),
        ("text.crt", b"hello, I am not a certificate"),
        ("key-only.pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
    ],
)
def test_bad_file_raises_library_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes
) -> None:
    """Unreadable trust files raise TrustStoreError on one line, naming the file."""
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(TrustStoreError) as excinfo:
        load_certificates(bad)
    message = str(excinfo.value)
    assert name in message
    assert "\n" not in message
    assert excinfo.value.path == bad


def test_bad_file_inside_folder_is_named(tmp_path: Path) -> None:
    """A bad file inside a folder fails the load, and the error names that file."""
    (tmp_path / "good.der").write_bytes(_bundled("public/misa-ca-2019.pem").dump())
    (tmp_path / "broken.cer").write_bytes(b"\x00\x01\x02")
    with pytest.raises(TrustStoreError, match=r"broken\.cer"):
        load_certificates(tmp_path)


def test_missing_path_and_empty_folder_raise(tmp_path: Path) -> None:
    """A missing path and a folder without certificate files raise TrustStoreError."""
    with pytest.raises(TrustStoreError, match="no such file"):
        load_certificates(tmp_path / "absent.pem")
    with pytest.raises(TrustStoreError, match="no certificate files"):
        load_certificates(tmp_path)


def test_with_extra_anchors_from_path_and_certificate(tmp_path: Path) -> None:
    """with_extra_anchors adds anchors from files or objects and leaves the original alone."""
    root, _ = _root()
    root_file = tmp_path / "root.pem"
    root_file.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    base = TrustProfile.specialized()
    extended = base.with_extra_anchors([root_file])
    assert extended.name == "specialized"
    assert fingerprint(_asn1(root)) in _fps(extended.anchors)
    assert len(base.anchors) == 2
    assert extended.profile_of(_asn1(root)) is None
    tagged = base.with_extra_anchors(_asn1(root), hierarchy="specialized")
    assert tagged.profile_of(_asn1(root)) == "specialized"
    nne = _bundled("specialized/ca-phuc-vu-cac-co-quan-nha-nuoc-g2-2018.pem")
    promoted = base.with_extra_anchors([nne])
    assert promoted.is_anchor(nne)
    assert fingerprint(nne) not in _fps(promoted.intermediates)


def test_custom_profile() -> None:
    """custom() takes anchors and intermediates, names the profile, and tags a hierarchy."""
    root, _ = _root()
    profile = TrustProfile.custom([_asn1(root)], name="demo", hierarchy="public")
    assert profile.name == "demo"
    assert _fps(profile.anchors) == {fingerprint(_asn1(root))}
    assert profile.intermediates == ()
    assert profile.profile_of(_asn1(root)) == "public"
    assert TrustProfile.custom([_asn1(root)]).profile_of(_asn1(root)) is None


# --------------------------------------------------------------------------------------
# Path building with pyhanko-certvalidator


NON_ROOTS = sorted(e.file for e in bundled_catalog() if not e.is_anchor)


@pytest.mark.parametrize("file", NON_ROOTS)
def test_each_bundled_certificate_chains_to_its_root(file: str) -> None:
    """Each bundled CA/TSA builds a path to an anchor of its own profile (no fetching)."""
    hierarchy = file.split("/")[0]
    profile = TrustProfile.named(hierarchy)
    cert = _bundled(file)
    issuers = [a for a in profile.anchors if a.key_identifier == cert.authority_key_identifier]
    assert len(issuers) == 1
    moment = _moment_inside(cert, issuers[0])
    if file in TSA_FILES:
        path = _validate(
            cert,
            profile,
            moment,
            key_usage={"digital_signature"},
            extended_key_usage={"time_stamping"},
        )
    else:
        path = _validate(cert, profile, moment)
    assert fingerprint(path[-1]) == PINNED[file].lower()
    assert profile.is_anchor(path[0])
    assert profile.profile_of(path[0]) == hierarchy
    assert fingerprint(path[0]) == fingerprint(issuers[0])


def test_public_ca_does_not_chain_under_specialized() -> None:
    """The hierarchies are not cross-certified: MISA-CA has no path under specialized."""
    misa = _bundled("public/misa-ca-2019.pem")
    with pytest.raises(PathBuildingError):
        _validate(misa, TrustProfile.specialized(), _moment_inside(misa))
    assert len(_validate(misa, TrustProfile.any(), _moment_inside(misa))) == 2


def test_sha1_paths_need_the_policy_to_allow_sha1() -> None:
    """SHA-1 CAs fail certvalidator's default algorithm policy: it is a policy decision."""
    smartsign = _bundled("public/smartsign-2012.pem")
    with pytest.raises(DisallowedAlgorithmError, match="sha1"):
        _validate(
            smartsign,
            TrustProfile.public(),
            _moment_inside(smartsign),
            algorithms=DisallowWeakAlgorithmsPolicy(),
        )


@pytest.mark.parametrize("stem", ["smartsign", "safe-ca"])
def test_same_subject_name_different_keys_are_both_kept(stem: str) -> None:
    """SmartSign and SAFE-CA reused their name with a new key; both stay, told apart by key."""
    old, new = (_bundled(f) for f in sorted(f for f in PINNED if f.startswith(f"public/{stem}-")))
    assert old.subject.native["common_name"] == new.subject.native["common_name"]
    assert old.key_identifier != new.key_identifier
    assert old.public_key.dump() != new.public_key.dump()
    held = _fps(TrustProfile.public().intermediates)
    assert {fingerprint(old), fingerprint(new)} <= held


def test_path_follows_the_key_not_the_name() -> None:
    """Of two CAs with one name and different keys, the path goes through the signing key."""
    root, root_key = _root()
    same = _name("CA trùng tên")
    key_a, key_b = _key(), _key()
    ca_a = _issue(same, key_a, root.subject, root_key, ca=True, serial=2)
    ca_b = _issue(same, key_b, root.subject, root_key, ca=True, serial=3)
    leaf_key = _key()
    leaf = _issue(_name("Người ký"), leaf_key, same, key_b, ca=False, serial=4)
    both = TrustProfile.custom([_asn1(root)], intermediates=[_asn1(ca_a), _asn1(ca_b)])
    path = _validate(_asn1(leaf), both, INSIDE, key_usage={"digital_signature"})
    assert fingerprint(path[1]) == fingerprint(_asn1(ca_b))
    wrong_only = TrustProfile.custom([_asn1(root)], intermediates=[_asn1(ca_a)])
    with pytest.raises((PathBuildingError, PathValidationError)):
        _validate(_asn1(leaf), wrong_only, INSIDE, key_usage={"digital_signature"})


def test_2026_national_cas_chain_through_root_with_critical_extensions() -> None:
    """ERD and LTA (critical certificatePolicies) chain to the EMA root (critical CRL DP)."""
    ema = _bundled("public/vietnam-national-root-ca-ema-2026.pem")
    assert {"certificate_policies", "crl_distribution_points"} <= ema.critical_extensions
    for file in (
        "public/vietnam-national-ca-erd-2026.pem",
        "public/vietnam-national-ca-lta-2026.pem",
    ):
        ca = _bundled(file)
        assert "certificate_policies" in ca.critical_extensions
        path = _validate(ca, TrustProfile.public(), _moment_inside(ca, ema), algorithms=None)
        assert [fingerprint(c) for c in path] == [fingerprint(ema), fingerprint(ca)]


def test_tsa_root_has_critical_timestamping_eku() -> None:
    """The 2025 TSA root carries a critical timeStamping EKU and is a public anchor."""
    tsa_root = _bundled("public/vietnam-national-root-ca-tsa-2025.pem")
    assert "extended_key_usage" in tsa_root.critical_extensions
    assert tsa_root.extended_key_usage_value.native == ["time_stamping"]
    assert TrustProfile.public().is_anchor(tsa_root)


def test_critical_policies_crldp_and_timestamping_eku_are_understood() -> None:
    """certvalidator accepts critical certificatePolicies, CRL DP and EKU, root and sub-CA."""
    root, root_key = _root(
        "Root kiểu 2025", critical_policies=True, critical_crldp=True, timestamping_eku=True
    )
    sub_key = _key()
    sub = _issue(
        _name("CA dấu thời gian"),
        sub_key,
        root.subject,
        root_key,
        ca=True,
        serial=2,
        critical_policies=True,
        critical_crldp=True,
        timestamping_eku=True,
    )
    tsa_key = _key()
    tsa = _issue(
        _name("Máy chủ TSA"),
        tsa_key,
        sub.subject,
        sub_key,
        ca=False,
        serial=3,
        timestamping_eku=True,
    )
    profile = TrustProfile.custom([_asn1(root)], intermediates=[_asn1(sub)])
    path = _validate(
        _asn1(tsa),
        profile,
        INSIDE,
        key_usage={"digital_signature"},
        extended_key_usage={"time_stamping"},
        algorithms=None,
    )
    assert len(path) == 3


def test_crl_issuer_en_dash_quirk_is_present() -> None:
    """The RS and USBTOKEN roots name their CRL issuer with an EN DASH; subjects use '-'."""
    for file in [
        "public/vietnam-national-root-ca-rs-2025.pem",
        "public/vietnam-national-root-ca-usbtoken-2025.pem",
    ]:
        cert = _bundled(file)
        subject_cn = cert.subject.native["common_name"]
        (point,) = cert.crl_distribution_points_value
        crl_issuer_cn = point["crl_issuer"][0].chosen.native["common_name"]
        assert "-" in subject_cn
        assert "\u2013" in crl_issuer_cn
        assert crl_issuer_cn.replace("\u2013", "-") == subject_cn


def test_profiles_compare_and_pickle_by_content() -> None:
    """Profiles compare by name and fingerprints, and survive pickling (for worker pools)."""
    import pickle

    profile = TrustProfile.any()
    clone = pickle.loads(pickle.dumps(profile))  # noqa: S301 - our own bytes
    assert clone == profile
    assert hash(clone) == hash(profile)
    assert clone.profile_of(_bundled("public/misa-ca-2019.pem")) == "public"
    assert TrustProfile.public() != TrustProfile.specialized()
