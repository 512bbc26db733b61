"""Augmenting existing signatures: PAdES B-B/B-T to B-LT and B-LTA, CAdES B-B to B-T, B-LT
and B-LTA, each result verified by hoso; refusals name their reason in both languages."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader

import esign
from esign import cli
from fixtures.documents import demo_signer, minimal_pdf, sign_pdf
from fixtures.pki import DemoPKI, start_services
from tests.conftest import PINNED_NOW
from tests.esign.conftest import pdfsig
from tests.esign.test_cms import openssl_verify
from verify import Indication, TrustProfile, ValidationPolicy, Verifier

OCSP_RESPONSE = "1.3.6.1.5.5.7.16.2"
CLOSED_PORT_TSA = "http://127.0.0.1:9/tsa"


def _offline(trust: TrustProfile) -> Verifier:
    return Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW, network=False))


def _kinds(report) -> list[tuple[str, str | None, str]]:  # type: ignore[no-untyped-def]
    return [(s.kind, s.level, s.indication.value) for s in report.signatures]


def _signer_info(der: bytes) -> cms.SignerInfo:
    return cms.ContentInfo.load(der)["content"]["signer_infos"][0]


def test_pades_b_b_to_b_lt_to_b_lta_passes_online_offline_and_in_pdfsig(
    signer_for, public_trust, checker, tsa, pdf_bytes, tmp_path: Path
) -> None:
    """B-B gets a document timestamp (PAdES B-T after the fact) and the DSS (B-LT), then a
    second document timestamp (B-LTA); each step is an incremental update over the one
    before, passes online, and the last passes offline from the DSS alone.

    verify names the PAdES level as EN 319 142-1 does: the first document timestamp stands
    for the missing signature timestamp (B-T), the DSS makes it B-LT and the second
    document timestamp B-LTA; the document timestamps are reported as ``DOC-TS`` entries
    that prove the signing time."""
    bb = esign.sign_pdf(pdf_bytes, None, signer_for("citizen"), level="B-B", trust=public_trust)
    assert bb.data is not None
    lt_path = tmp_path / "lt.pdf"
    lt = esign.augment_pdf(
        bb.data, lt_path, level="B-LT", trust=public_trust, tsa_url=tsa["public"]
    )
    assert lt.signatures == ("Signature1",)
    assert lt.added[0] == "document timestamp Timestamp1 (for Signature1)"
    assert lt.added[1].startswith("DSS: ")
    lt_data = lt_path.read_bytes()
    assert lt_data.startswith(bb.data)  # incremental: what was signed is untouched
    report = checker.verify(lt_data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert _kinds(report) == [
        ("signature", "PAdES-B-LT", "TOTAL_PASSED"),  # the document timestamp stands for B-T
        ("document_timestamp", "DOC-TS", "TOTAL_PASSED"),
    ]
    assert report.signatures[0].signing_time_proven == PINNED_NOW

    lta = esign.augment_pdf(
        lt_path, tmp_path / "lta.pdf", level="B-LTA", trust=public_trust, tsa_url=tsa["public"]
    )
    assert lta.added == ("document timestamp Timestamp2 (archive)",)  # the DSS had it all
    lta_data = (tmp_path / "lta.pdf").read_bytes()
    assert lta_data.startswith(lt_data)
    for verifier in (checker, _offline(public_trust)):
        report = verifier.verify(lta_data)
        assert report.indication is Indication.TOTAL_PASSED, report.message_en
        assert [s.field_name for s in report.signatures] == [
            "Signature1",
            "Timestamp1",
            "Timestamp2",
        ]
        assert report.signatures[0].level == "PAdES-B-LTA"
    text = pdfsig(tmp_path / "lta.pdf")  # poppler checks the signature, not timestamps
    assert text.count("Signature is Valid.") == 1
    assert "Signature #3:" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lt.pdf", "lta.pdf"]


def test_pades_b_t_to_b_lt_to_b_lta_reaches_the_levels_verify_names(
    signer_for, public_trust, checker, tsa, pdf_bytes
) -> None:
    """A B-T signature needs no document timestamp for B-LT (its own timestamp is the
    B-T one): B-LT adds the DSS only, and verify reports PAdES-B-LT, then PAdES-B-LTA."""
    bt = esign.sign_pdf(
        pdf_bytes,
        None,
        signer_for("citizen"),
        level="B-T",
        trust=public_trust,
        tsa_url=tsa["public"],
    )
    assert bt.data is not None
    lt = esign.augment_pdf(bt.data, None, level="B-LT", trust=public_trust)
    assert lt.data is not None
    assert [a.split(":")[0] for a in lt.added] == ["DSS"]
    report = checker.verify(lt.data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.signatures[0].level == "PAdES-B-LT"
    lta = esign.augment_pdf(lt.data, None, level="B-LTA", trust=public_trust, tsa_url=tsa["public"])
    assert lta.data is not None
    report = _offline(public_trust).verify(lta.data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert _kinds(report) == [
        ("signature", "PAdES-B-LTA", "TOTAL_PASSED"),
        ("document_timestamp", "DOC-TS", "TOTAL_PASSED"),
    ]


def test_cades_detached_b_b_to_b_t_to_b_lt_to_b_lta_keeps_the_signature_bytes(
    signer_for, public_trust, checker, tsa, p12_dir, tmp_path: Path
) -> None:
    """Each level verifies (hoso online and offline, openssl cms -verify); the signature
    value and signed attributes stay byte for byte; B-LT puts the OCSP responses in
    SignedData.crls as otherRevInfo id-ri-ocsp-response; B-LTA adds an
    archive-time-stamp-v3 that verify reads as proof of existence."""
    content = tmp_path / "to-khai.xml"
    content.write_text("<ToKhai><HoTen>Nguyễn Thị Hoà</HoTen></ToKhai>\n", encoding="utf-8")
    sig = tmp_path / "to-khai.xml.p7s"
    esign.sign_detached(content, sig, signer_for("citizen"), level="B-B", trust=public_trust)
    first = _signer_info(sig.read_bytes())
    signed_attrs = first["signed_attrs"].dump()
    value = first["signature"].dump()
    expected = {"B-T": "CAdES-B-T", "B-LT": "CAdES-B-LT", "B-LTA": "CAdES-B-LTA"}
    for level, verify_level in expected.items():
        result = esign.augment_cms(
            sig, sig, level=level, content=content, trust=public_trust, tsa_url=tsa["public"]
        )
        assert result.format == "cms-detached"
        der = sig.read_bytes()
        info = _signer_info(der)
        assert info["signed_attrs"].dump() == signed_attrs
        assert info["signature"].dump() == value
        report = checker.verify_detached(content, sig)
        assert report.indication is Indication.TOTAL_PASSED, (level, report.message_en)
        assert report.signatures[0].level == verify_level
        done = openssl_verify(content, sig, p12_dir / "public-root.pem")
        assert done.returncode == 0, (level, done.stderr)
    signed_data = cms.ContentInfo.load(sig.read_bytes())["content"]
    others = [c.chosen for c in signed_data["crls"] if c.name == "other"]
    assert others
    assert all(o["other_rev_info_format"].dotted == OCSP_RESPONSE for o in others)
    assert signed_data["version"].native == "v5"
    kinds = [t.kind for t in report.signatures[0].timestamps]
    assert kinds == ["signature", "archive"]
    offline = _offline(public_trust).verify_detached(content, sig)
    assert offline.indication is Indication.TOTAL_PASSED, offline.message_en


def test_cades_enveloping_p7m_to_b_lta_keeps_its_content(
    demo_pki: DemoPKI, public_trust, checker, tsa
) -> None:
    """An enveloping .p7m (pyHanko, B-B) goes straight to B-LTA: signature timestamp,
    validation data and an archive timestamp; the encapsulated content is unchanged."""
    data = "Giấy xác nhận cư trú số 123/2026\n".encode()
    signed = asyncio.run(
        demo_signer(demo_pki, "citizen").async_sign_general_data(
            data, "sha256", detached=False, use_cades=True
        )
    )
    p7m = signed.dump()
    result = esign.augment(p7m, None, level="B-LTA", trust=public_trust, tsa_url=tsa["public"])
    assert result.format == "cms-enveloped"
    assert result.data is not None
    assert result.added[0] == "signature-time-stamp-token on SignerInfo 1"
    assert result.added[1].startswith("validation data: ")
    # the archive timestamp's TSA is the signature timestamp's: its data is already there
    assert result.added[2:] == ("archive-time-stamp-v3 on SignerInfo 1",)
    assert (
        cms.ContentInfo.load(result.data)["content"]["encap_content_info"]["content"].native == data
    )
    report = checker.verify(result.data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.signatures[0].level == "CAdES-B-LTA"


def test_revoked_signer_is_refused_in_both_languages_and_nothing_is_written(
    demo_pki: DemoPKI, public_trust, tsa, tmp_path: Path
) -> None:
    """A signature whose signer was revoked before it was made does not verify now:
    augmenting it would preserve an invalid signature, so it is refused with verify's
    reason and no file is left."""
    signed = sign_pdf(demo_pki, "citizen-revoked", minimal_pdf("Đơn"), at=PINNED_NOW)
    out = tmp_path / "out.pdf"
    with pytest.raises(esign.SignatureNotValid) as caught:
        esign.augment_pdf(signed, out, level="B-LT", trust=public_trust, tsa_url=tsa["public"])
    err = caught.value
    assert str(err).startswith("the signature Signature1 does not verify now")
    assert "revoked" in str(err)
    assert err.message_vi is not None
    assert err.message_vi.startswith("chữ ký Signature1 không hợp lệ tại thời điểm này")
    assert "thu hồi" in err.message_vi
    assert err.report is not None
    assert err.report.indication is not Indication.TOTAL_PASSED
    assert list(tmp_path.iterdir()) == []


def test_unreachable_revocation_names_the_certificate_and_each_address(tsa, tmp_path: Path) -> None:
    """Its CA's OCSP responder and CRL are gone (a closed port): augmenting to B-LT is
    refused, naming the certificate that lacks revocation data and, for each address it
    gives, what happened there."""
    services = start_services(at_time=PINNED_NOW)  # this test's own CA, stopped before use
    try:
        pki = services.pki
        trust = TrustProfile.custom([pki.root("public")], hierarchy="public")
        signed = sign_pdf(pki, "citizen", minimal_pdf("Tờ khai"), at=PINNED_NOW)
        ocsp_url = f"{pki.url_prefix}/hoso-demo/ocsp/ca-rsa"
        crl_url = f"{pki.url_prefix}/hoso-demo/crls/ca-rsa/latest.crl"
    finally:
        services.stop()
    policy = ValidationPolicy(fetch_timeout=2)
    with pytest.raises(esign.ValidationDataUnavailable) as caught:
        esign.augment_pdf(
            signed,
            tmp_path / "o.pdf",
            level="B-LT",
            trust=trust,
            policy=policy,
            tsa_url=tsa["public"],
        )
    err = caught.value
    assert err.certificate == "Nguyễn Thị Hoà"
    assert err.addresses == (
        f"OCSP {ocsp_url}: connection refused",
        f"CRL {crl_url}: connection refused",
    )
    assert str(err).startswith(
        "no revocation data can be had for the certificate Nguyễn Thị Hoà (issued by Demo "
        "Public CA RSA), on the path of the signer Nguyễn Thị Hoà of Signature1: OCSP "
    )
    assert err.message_vi is not None
    assert err.message_vi.startswith("không lấy được thông tin thu hồi cho chứng thư số")
    assert "máy chủ từ chối kết nối" in err.message_vi
    assert list(tmp_path.iterdir()) == []


def test_tsa_down_is_a_timestamp_error_in_both_languages(
    signer_for, public_trust, pdf_bytes, tmp_path: Path
) -> None:
    """B-T needs a document timestamp; a TSA at a closed port gives a TimestampError
    naming it (English and Vietnamese) and no file."""
    bb = esign.sign_pdf(pdf_bytes, None, signer_for("citizen"), level="B-B", trust=public_trust)
    with pytest.raises(esign.TimestampError) as caught:
        esign.augment_pdf(
            bb.data or b"",
            tmp_path / "o.pdf",
            level="B-T",
            trust=public_trust,
            tsa_url=CLOSED_PORT_TSA,
        )
    assert str(caught.value).startswith(f"{CLOSED_PORT_TSA}: the timestamp authority gave no")
    assert caught.value.message_vi is not None
    assert "không cấp được dấu thời gian" in caught.value.message_vi
    assert list(tmp_path.iterdir()) == []


def test_cades_tsa_down_leaves_the_signature_as_it_was(
    signer_for, public_trust, tmp_path: Path
) -> None:
    """Augmenting a .p7s in place with the TSA down leaves the file byte for byte."""
    content = tmp_path / "a.txt"
    content.write_bytes(b"du lieu\n")
    sig = tmp_path / "a.txt.p7s"
    esign.sign_detached(content, sig, signer_for("citizen"), level="B-B", trust=public_trust)
    before = sig.read_bytes()
    with pytest.raises(esign.TimestampError):
        esign.augment_cms(
            sig, sig, level="B-T", content=content, trust=public_trust, tsa_url=CLOSED_PORT_TSA
        )
    assert sig.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "a.txt.p7s"]


def test_usage_errors(signer_for, public_trust, pdf_bytes) -> None:
    """B-B adds nothing, an unknown field is named, a .p7s needs its content."""
    bb = esign.sign_pdf(pdf_bytes, None, signer_for("citizen"), level="B-B", trust=public_trust)
    with pytest.raises(esign.UsageError, match="adds nothing"):
        esign.augment_pdf(bb.data or b"", None, level="B-B", trust=public_trust)
    with pytest.raises(esign.UsageError, match="'Nope'"):
        esign.augment_pdf(bb.data or b"", None, level="B-LT", trust=public_trust, field="Nope")
    p7s = esign.sign_detached(b"x", None, signer_for("citizen"), level="B-B", trust=public_trust)
    with pytest.raises(esign.UsageError, match="needs its content"):
        esign.augment_cms(p7s.data or b"", None, level="B-T", trust=public_trust)


def test_cli_augment_prints_what_was_added_and_refuses_in_two_languages(
    demo_pki: DemoPKI, signer_for, public_trust, tsa, pdf_bytes, p12_dir, tmp_path: Path, capsys
) -> None:
    """``esign augment`` exits 0 with one line naming what it added; a refusal exits 1
    with the reason in English, then in Vietnamese, on one line of stderr."""
    src = tmp_path / "in.pdf"
    src.write_bytes(
        esign.sign_pdf(pdf_bytes, None, signer_for("citizen"), level="B-B", trust=public_trust).data
        or b""
    )
    trust_args = ["--profile", "public", "--trust", str(p12_dir / "public-root.pem")]
    code = cli.main(
        [
            "augment",
            str(src),
            str(tmp_path / "out.pdf"),
            "--level",
            "B-LTA",
            "--tsa",
            tsa["public"],
            *trust_args,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"{tmp_path / 'out.pdf'}: Signature1 augmented to B-LTA (pdf); added: ")
    reader = PdfFileReader(io.BytesIO((tmp_path / "out.pdf").read_bytes()))
    assert len(reader.embedded_timestamp_signatures) == 2

    revoked = tmp_path / "revoked.pdf"
    revoked.write_bytes(sign_pdf(demo_pki, "citizen-revoked", minimal_pdf("x"), at=PINNED_NOW))
    code = cli.main(
        [
            "augment",
            str(revoked),
            str(tmp_path / "r.pdf"),
            "--level",
            "B-LT",
            "--tsa",
            tsa["public"],
            *trust_args,
        ]
    )
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    assert len(err) == 1  # one line: English, then Vietnamese
    assert err[0].startswith("esign: SignatureNotValid: the signature Signature1 does not verify")
    assert " / chữ ký Signature1 không hợp lệ" in err[0]
    assert not (tmp_path / "r.pdf").exists()
