"""ASiC-E at B-LTA (ETSI EN 319 162-1 §4.4.3, annex A, named as EU DSS names them): an
archive manifest listing every entry with its digest, a timestamp token over the manifest's
bytes, and a renewal that keeps the previous manifest (renamed) under a new one.

The structure is checked directly (each digest recomputed, the token's imprint, the token
verified by ``openssl ts -verify`` against the demo root at the pinned time) and by
``verify``, which reads archive manifests."""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from asn1crypto import cms, pem
from lxml import etree

import esign
from esign.asic import ARCHIVE_MANIFEST_NAME, MANIFEST_NAME, SIGNATURE_NAME, archive_asic
from esign.cli import main as esign_main
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.esign.test_asic import DATA, FORM, dossier
from verify import Indication, TrustProfile, ValidationPolicy, Verifier

ASIC = "{http://uri.etsi.org/02918/v1.2.1#}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
TST_MIME = "application/vnd.etsi.timestamp-token"


def _entries(container: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(container)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _references(manifest: bytes) -> tuple[tuple[str, str], list[tuple[str, str, bool, bytes]]]:
    """The SigReference (URI, MimeType) and each DataObjectReference (URI, MimeType,
    Rootfile, digest value)."""
    root = etree.fromstring(manifest)
    assert root.tag == f"{ASIC}ASiCManifest"
    (sig,) = root.findall(f"{ASIC}SigReference")
    refs = []
    for ref in root.findall(f"{ASIC}DataObjectReference"):
        assert ref.find(f"{DS}DigestMethod").get("Algorithm").endswith("#sha256")
        value = base64.b64decode(ref.findtext(f"{DS}DigestValue"))
        refs.append(
            (unquote(ref.get("URI")), ref.get("MimeType"), ref.get("Rootfile") == "true", value)
        )
    return (sig.get("URI"), sig.get("MimeType")), refs


def _imprint(token: bytes) -> bytes:
    info = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    return bytes(info["message_imprint"]["hashed_message"].native)


def _openssl_verifies(
    token: bytes, data: bytes, pki: DemoPKI, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """``openssl ts -verify`` of ``token`` over ``data``, the demo public root as the only
    anchor, the certificates the token carries as intermediates, at the pinned time.
    OpenSSL's PKCS#7 reader knows no RFC 5940 OCSP response in ``crls``, so it is given
    the token without them (no signature covers that field)."""
    info = cms.ContentInfo.load(token)
    del info["content"]["crls"]
    (tmp_path / "token.tst").write_bytes(info.dump(force=True))
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "root.pem").write_bytes(pki.cert_pem("vn-root"))
    certs = cms.ContentInfo.load(token)["content"]["certificates"]
    (tmp_path / "chain.pem").write_bytes(
        b"".join(pem.armor("CERTIFICATE", c.chosen.dump()) for c in certs)
    )
    return subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-in",
            str(tmp_path / "token.tst"),
            "-token_in",
            "-data",
            str(tmp_path / "data"),
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-untrusted",
            str(tmp_path / "chain.pem"),
            "-attime",
            str(int(PINNED_NOW.timestamp())),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_asice_b_lta_has_an_archive_manifest_over_every_entry_and_its_timestamp(
    signer_for, public_trust: TrustProfile, tsa, demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """``level="B-LTA"``: the B-LT container plus META-INF/ASiCArchiveManifest.xml, whose
    SigReference names META-INF/timestamp001.tst and whose DataObjectReferences list the
    signature, the manifest and both files (in EU DSS's order) with their SHA-256; the
    token's imprint is the SHA-256 of the manifest's bytes and openssl verifies it."""
    out = tmp_path / "ho-so.asice"
    res = esign.sign_asic(
        dossier(tmp_path),
        out,
        signer_for("citizen"),
        level="B-LTA",
        trust=public_trust,
        tsa_url=tsa["public"],
    )
    assert res.level == "B-LTA"
    found = _entries(out.read_bytes())
    assert list(found) == [
        "mimetype",
        FORM,
        "du-lieu.json",
        MANIFEST_NAME,
        SIGNATURE_NAME,
        ARCHIVE_MANIFEST_NAME,
        "META-INF/timestamp001.tst",
    ]
    sig_ref, refs = _references(found[ARCHIVE_MANIFEST_NAME])
    assert sig_ref == ("META-INF/timestamp001.tst", TST_MIME)
    assert [(uri, mime, root) for uri, mime, root, _v in refs] == [
        (SIGNATURE_NAME, "application/pkcs7-signature", False),
        (MANIFEST_NAME, "text/xml", False),
        (FORM, "application/pdf", False),
        ("du-lieu.json", "application/json", False),
    ]
    for uri, _mime, _root, value in refs:
        assert value == hashlib.sha256(found[uri]).digest(), uri
    assert found["du-lieu.json"] == DATA
    token = found["META-INF/timestamp001.tst"]
    assert _imprint(token) == hashlib.sha256(found[ARCHIVE_MANIFEST_NAME]).digest()
    checked = _openssl_verifies(token, found[ARCHIVE_MANIFEST_NAME], demo_pki, tmp_path)
    assert checked.stdout.strip() == "Verification: OK", checked.stderr


def test_renewal_renames_the_archive_manifest_and_covers_the_old_timestamp(
    signer_for,
    public_trust: TrustProfile,
    checker: Verifier,
    tsa,
    demo_pki: DemoPKI,
    tmp_path: Path,
) -> None:
    """``archive_asic`` over a B-LTA container: the old ASiCArchiveManifest.xml becomes
    ASiCArchiveManifest001.xml with the same bytes (its timestamp001.tst still matches
    it); the new ASiCArchiveManifest.xml names timestamp002.tst and covers everything,
    timestamp001.tst and the renamed manifest (Rootfile) included; every other entry keeps
    its bytes; openssl verifies the new token over the new manifest; verify passes the
    renewed container."""
    first = esign.sign_asic(
        dossier(tmp_path),
        None,
        signer_for("citizen"),
        level="B-LTA",
        trust=public_trust,
        tsa_url=tsa["public"],
    ).data
    assert first is not None
    renewed = archive_asic(first, None, trust=public_trust, tsa_url=tsa["public"])
    assert renewed.data is not None
    assert renewed.renamed == ((ARCHIVE_MANIFEST_NAME, "META-INF/ASiCArchiveManifest001.xml"),)
    assert renewed.timestamp == "META-INF/timestamp002.tst"
    before, after = _entries(first), _entries(renewed.data)
    old_manifest = before[ARCHIVE_MANIFEST_NAME]
    assert after["META-INF/ASiCArchiveManifest001.xml"] == old_manifest
    assert _imprint(after["META-INF/timestamp001.tst"]) == hashlib.sha256(old_manifest).digest()
    for name, value in before.items():
        if name != ARCHIVE_MANIFEST_NAME:
            assert after[name] == value, name
    sig_ref, refs = _references(after[ARCHIVE_MANIFEST_NAME])
    assert sig_ref == ("META-INF/timestamp002.tst", TST_MIME)
    assert [(uri, root) for uri, _mime, root, _v in refs] == [
        (SIGNATURE_NAME, False),
        ("META-INF/timestamp001.tst", False),
        ("META-INF/ASiCArchiveManifest001.xml", True),
        (MANIFEST_NAME, False),
        (FORM, False),
        ("du-lieu.json", False),
    ]
    for uri, _mime, _root, value in refs:
        assert value == hashlib.sha256(after[uri]).digest(), uri
    token = after["META-INF/timestamp002.tst"]
    assert _imprint(token) == hashlib.sha256(after[ARCHIVE_MANIFEST_NAME]).digest()
    checked = _openssl_verifies(token, after[ARCHIVE_MANIFEST_NAME], demo_pki, tmp_path)
    assert checked.stdout.strip() == "Verification: OK", checked.stderr
    report = checker.verify(renewed.data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert [(s.kind, s.field_name, s.indication) for s in report.signatures] == [
        ("detached", SIGNATURE_NAME, Indication.TOTAL_PASSED),
        ("document_timestamp", "META-INF/timestamp001.tst", Indication.TOTAL_PASSED),
        ("document_timestamp", "META-INF/timestamp002.tst", Indication.TOTAL_PASSED),
    ]
    assert report.signatures[-1].covers == tuple(uri for uri, _m, _r, _v in refs)
    offline = Verifier(public_trust, ValidationPolicy(validation_time=PINNED_NOW, network=False))
    assert offline.verify(renewed.data).indication is Indication.TOTAL_PASSED


def test_cli_archive_brings_a_b_lt_container_to_b_lta(
    p12_dir: Path, tsa, public_trust: TrustProfile, checker: Verifier, tmp_path: Path, capsys
) -> None:
    """``esign asic OUT.asice IN.asice --archive`` (no key) adds the first archive
    manifest and timestamp001.tst to a B-LT container and says so."""
    files = dossier(tmp_path)
    lt = tmp_path / "lt.asice"
    key = ["--p12", str(p12_dir / "citizen.p12"), "--password-file", str(tmp_path / "pw")]
    from fixtures.pki.build import P12_PASSWORD

    (tmp_path / "pw").write_bytes(P12_PASSWORD)
    trust = ["--profile", "public", "--trust", str(p12_dir / "public-root.pem")]
    assert (
        esign_main(
            [
                "asic",
                str(lt),
                *map(str, files),
                "--level",
                "B-LT",
                "--tsa",
                tsa["public"],
                *key,
                *trust,
            ]
        )
        == 0
    ), capsys.readouterr().err
    capsys.readouterr()
    lta = tmp_path / "lta.asice"
    code = esign_main(["asic", str(lta), str(lt), "--archive", "--tsa", tsa["public"], *trust])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip() == (
        f"{lta}: ASiC-E B-LTA, {ARCHIVE_MANIFEST_NAME} timestamped in META-INF/timestamp001.tst"
    )
    found = _entries(lta.read_bytes())
    assert set(found) == set(_entries(lt.read_bytes())) | {
        ARCHIVE_MANIFEST_NAME,
        "META-INF/timestamp001.tst",
    }
    report = checker.verify(lta)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en


def test_esign_renew_renews_an_asice_whose_archive_timestamp_lapses(
    signer_for, public_trust: TrustProfile, checker: Verifier, demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """``esign renew`` over a folder of ASiC-E containers: the one whose newest archive
    timestamp comes from the TSA certificate that expires in 2027 is renewed before 2028
    (ASiCArchiveManifest001.xml, timestamp002.tst; next renewal 2039), the one timestamped
    under the 2039 certificate is not due and keeps its bytes."""
    from tests.esign.test_renew import DUE_BEFORE, TSA_2027_EXPIRY, tsa_2027

    folder = tmp_path / "luu-tru"
    folder.mkdir()
    for name, tsa_url in (("a.asice", tsa_2027(demo_pki)), ("b.asice", demo_pki.tsa_url("public"))):
        esign.sign_asic(
            [("don.txt", name.encode())],
            folder / name,
            signer_for("citizen"),
            level="B-LTA",
            trust=public_trust,
            tsa_url=tsa_url,
        )
    b_before = (folder / "b.asice").read_bytes()
    outcomes = esign.renew(
        [folder], due_before=DUE_BEFORE, trust=public_trust, tsa_url=demo_pki.tsa_url("public")
    )
    assert [(Path(o.path).name, o.status) for o in outcomes] == [
        ("a.asice", "renewed"),
        ("b.asice", "not_due"),
    ]
    renewed, not_due = outcomes
    assert renewed.due == TSA_2027_EXPIRY
    assert renewed.next_due == datetime(2039, 1, 1, tzinfo=UTC)
    assert renewed.added == (
        f"{ARCHIVE_MANIFEST_NAME} renamed META-INF/ASiCArchiveManifest001.xml",
        f"archive manifest {ARCHIVE_MANIFEST_NAME} with its timestamp META-INF/timestamp002.tst",
    )
    assert renewed.message_en.startswith(
        "renewed (before 2027-06-01: the TSA certificate of the last timestamp expires"
    )
    assert not_due.message_en == "not due before 2028-01-01 (next renewal: 2039-01-01)"
    assert (folder / "b.asice").read_bytes() == b_before
    report = checker.verify(folder / "a.asice")
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert [s.field_name for s in report.signatures][-1] == "META-INF/timestamp002.tst"


def test_archive_asic_refuses_what_is_not_an_asice_with_cades_or_a_timestamped_asics(
    public_trust: TrustProfile, tsa, tmp_path: Path
) -> None:
    """An ASiC-S without a timestamp, and an ASiC-E whose signature is XAdES (which keeps
    its archive timestamps inside), get no archive manifest: an input error naming why,
    nothing written. (A timestamped ASiC-S is renewed: tests/esign/test_asic_s_renew.py.)"""
    asics = io.BytesIO()
    with zipfile.ZipFile(asics, "w") as zf:
        zf.writestr("mimetype", "application/vnd.etsi.asic-s+zip")
        zf.writestr("hoa-don.xml", b"<HDon/>")
    xades = io.BytesIO()
    with zipfile.ZipFile(xades, "w") as zf:
        zf.writestr("mimetype", "application/vnd.etsi.asic-e+zip")
        zf.writestr("a.txt", b"a")
        zf.writestr("META-INF/signatures001.xml", b"<XAdESSignatures/>")
    out = tmp_path / "out.asice"
    for given, why in ((asics.getvalue(), "holds no timestamp"), (xades.getvalue(), "XAdES")):
        with pytest.raises(esign.InputError, match=why):
            archive_asic(given, out, trust=public_trust, tsa_url=tsa["public"])
    assert not out.exists()
