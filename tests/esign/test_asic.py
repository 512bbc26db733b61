"""ASiC containers made by esign: ASiC-E signed over its manifest, ASiC-S timestamped.

Signed at the pinned time (the ``clock`` fixture) against the demo PKI's live services on
loopback; every container is checked by ``verify``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

import esign
from esign.asic import MANIFEST_NAME, SIGNATURE_NAME, TIMESTAMP_NAME
from esign.cli import main as esign_main
from fixtures.documents import minimal_pdf
from fixtures.pki.build import P12_PASSWORD
from tests.conftest import PINNED_NOW
from tests.esign.test_xml_sign import invoice
from verify import Indication, ValidationPolicy, Verifier

FORM = "Tờ khai đăng ký thường trú.pdf"
DATA = '{"ho_ten": "Nguyễn Thị Hoà", "cccd": "001190012345"}'.encode()


def dossier(tmp_path: Path) -> list[Path]:
    """A dossier's files: a form (PDF with a Vietnamese name) and its data (JSON)."""
    form = tmp_path / FORM
    form.write_bytes(minimal_pdf("Tờ khai"))
    data = tmp_path / "du-lieu.json"
    data.write_bytes(DATA)
    return [form, data]


def entries(container: bytes) -> list[zipfile.ZipInfo]:
    return zipfile.ZipFile(io.BytesIO(container)).infolist()


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_asice_of_a_dossier_verifies_at_each_level(
    level, signer_for, public_trust, checker, tsa, tmp_path: Path
) -> None:
    """Every file is covered by the one CAdES signature over the manifest; the container
    passes, its report names both files and the signature's level."""
    out = tmp_path / "ho-so.asice"
    res = esign.sign_asic(
        dossier(tmp_path),
        out,
        signer_for("citizen"),
        level=level,
        trust=public_trust,
        tsa_url=tsa["public"],
    )
    assert res.output == out
    assert res.level == level
    report = checker.verify(out)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.format == "asic"
    assert report.facts is not None
    assert report.facts["container"] == "ASiC-E"
    assert report.facts["not_covered"] == []
    assert [f["name"] for f in report.facts["files"]] == [FORM, "du-lieu.json"]
    assert {f["status"] for f in report.facts["files"]} == {"covered"}
    (sig,) = report.signatures
    assert sig.field_name == SIGNATURE_NAME
    assert sig.covers == (FORM, "du-lieu.json")
    assert sig.level == {"B-B": "CAdES-B-B", "B-T": "CAdES-B-T", "B-LT": "CAdES-B-LT"}[level]


def test_asice_b_lt_verifies_offline_b_t_does_not(
    signer_for, public_trust, tsa, tmp_path: Path
) -> None:
    """B-LT carries the signer's and the TSA's chains with their OCSP responses and CRLs:
    it passes with the network off, where the same container at B-T cannot be settled."""
    offline = Verifier(public_trust, ValidationPolicy(validation_time=PINNED_NOW, network=False))
    made = {
        level: esign.sign_asic(
            dossier(tmp_path),
            None,
            signer_for("citizen"),
            level=level,
            trust=public_trust,
            tsa_url=tsa["public"],
        ).data
        for level in ("B-T", "B-LT")
    }
    lt = offline.verify(made["B-LT"] or b"")
    assert lt.indication is Indication.TOTAL_PASSED, lt.message_en
    assert offline.verify(made["B-T"] or b"").indication is Indication.INDETERMINATE


def test_zip_is_deterministic_with_mimetype_first_stored_and_no_extra_field(
    signer_for, public_trust, tmp_path: Path
) -> None:
    """ETSI EN 319 162-1 A.1: ``mimetype`` first, stored, no extra field; with the same
    files, key (RSA PKCS#1 v1.5) and clock, two containers are the same bytes."""
    files = dossier(tmp_path)
    one, two = (
        esign.sign_asic(files, None, signer_for("citizen"), level="B-B", trust=public_trust).data
        for _ in range(2)
    )
    assert one is not None
    assert one == two
    assert one[30:38] == b"mimetype"
    infos = entries(one)
    assert [i.filename for i in infos] == [
        "mimetype",
        FORM,
        "du-lieu.json",
        MANIFEST_NAME,
        SIGNATURE_NAME,
    ]
    first = infos[0]
    assert (first.header_offset, first.compress_type, first.extra) == (0, zipfile.ZIP_STORED, b"")
    assert zipfile.ZipFile(io.BytesIO(one)).read("mimetype") == b"application/vnd.etsi.asic-e+zip"
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert all(i.extra == b"" for i in infos)


def test_asice_from_bytes_and_names_with_folders(signer_for, public_trust, checker) -> None:
    """``(name, content)`` pairs: names may hold folders; a URI with spaces and Vietnamese
    letters is percent-encoded in the manifest and read back."""
    res = esign.sign_asic(
        [("don/Đơn đề nghị.pdf", minimal_pdf("Đơn")), ("dinh-kem/cccd.json", DATA)],
        None,
        signer_for("citizen-ec"),
        level="B-B",
        trust=public_trust,
    )
    assert res.data is not None
    manifest = zipfile.ZipFile(io.BytesIO(res.data)).read(MANIFEST_NAME)
    assert b'URI="don/%C4%90%C6%A1n%20%C4%91%E1%BB%81%20ngh%E1%BB%8B.pdf"' in manifest
    report = checker.verify(res.data)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert report.signatures[0].covers == ("don/Đơn đề nghị.pdf", "dinh-kem/cccd.json")


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ([], "at least one file"),
        ([("../x.pdf", b"x")], "'..'"),
        ([("META-INF/signature.p7s", b"x")], "reserves"),
        ([("mimetype", b"x")], "reserves"),
        ([("a.pdf", b"x"), ("a.pdf", b"y")], "two files"),
        ([("a\\b.pdf", b"x")], "backslash"),
    ],
)
def test_bad_names_are_refused_before_signing(
    files, problem, signer_for, public_trust, tmp_path: Path
) -> None:
    """A name that could leave a folder, clash with META-INF or repeat is a usage error,
    and nothing is written."""
    out = tmp_path / "x.asice"
    with pytest.raises(esign.UsageError, match=problem):
        esign.sign_asic(files, out, signer_for("citizen"), level="B-B", trust=public_trust)
    assert not out.exists()


def test_revoked_signer_is_refused_and_leaves_nothing(
    signer_for, public_trust, tmp_path: Path
) -> None:
    """The certificate is checked before anything is written, as for every esign output."""
    out = tmp_path / "ho-so.asice"
    with pytest.raises(esign.CertificateRevoked):
        esign.sign_asic(
            dossier(tmp_path), out, signer_for("citizen-revoked"), level="B-B", trust=public_trust
        )
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([FORM, "du-lieu.json"])


# -- ASiC-S: an e-invoice gains a proof of existence --------------------------------------------


@pytest.mark.parametrize("level", ["B-T", "B-LT"])
def test_asics_timestamp_over_a_signed_einvoice(
    level, signer_for, public_trust, checker, tsa, tmp_path: Path
) -> None:
    """An e-invoice signed by esign.sign_xml, timestamped in an ASiC-S container: the
    container passes with the timestamp over the invoice at the pinned time and the
    invoice's own signature proven by it; offline, B-LT's timestamp passes too."""
    signed = esign.sign_xml(invoice(), signer_for("citizen"), trust=public_trust)
    path = tmp_path / "hoa-don-159.xml"
    path.write_bytes(signed)
    out = tmp_path / "hoa-don-159.asics"
    res = esign.timestamp_asic_s(path, out, level=level, trust=public_trust, tsa_url=tsa["public"])
    assert res.output == out
    assert res.time == PINNED_NOW
    assert res.report.passed
    container = out.read_bytes()
    assert [i.filename for i in entries(container)] == [
        "mimetype",
        "hoa-don-159.xml",
        TIMESTAMP_NAME,
    ]
    report = checker.verify(out)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    (ts, seller) = report.signatures
    assert ts.kind == "document_timestamp"
    assert ts.covers == ("hoa-don-159.xml",)
    assert ts.signing_time_proven == PINNED_NOW
    assert seller.kind == "xml"  # the invoice's own signature, proven by the container
    assert seller.signing_time_proven == PINNED_NOW
    assert report.facts is not None
    assert report.facts["container"] == "ASiC-S"
    offline = Verifier(public_trust, ValidationPolicy(validation_time=PINNED_NOW, network=False))
    # offline, B-LT's token carries its TSA's validation data; the seller's is not in an
    # ASiC-S, so the invoice's signature stays undecided offline either way
    (ts_offline, seller_offline) = offline.verify(container).signatures
    expected = Indication.TOTAL_PASSED if level == "B-LT" else Indication.INDETERMINATE
    assert ts_offline.indication is expected
    assert seller_offline.indication is Indication.INDETERMINATE


def test_asics_timestamp_by_an_untrusted_tsa_is_refused(public_trust, tsa, tmp_path: Path) -> None:
    """The specialized hierarchy's TSA is not in the public trust profile: the container
    would not verify, so nothing is written."""
    out = tmp_path / "hoa-don.asics"
    with pytest.raises(esign.TimestampError, match="does not verify"):
        esign.timestamp_asic_s(
            ("hoa-don.xml", invoice()), out, trust=public_trust, tsa_url=tsa["specialized"]
        )
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_asics_timestamp_needs_a_tsa_and_b_t(public_trust) -> None:
    """No TSA (the public profile has no default) or level B-B: usage errors."""
    with pytest.raises(esign.UsageError, match="timestamp authority"):
        esign.timestamp_asic_s(("a.xml", b"<a/>"), None, trust=public_trust)
    with pytest.raises(esign.UsageError, match="B-T or B-LT"):
        esign.timestamp_asic_s(
            ("a.xml", b"<a/>"), None, level="B-B", trust=public_trust, tsa_url="http://x"
        )


def test_unreachable_tsa_is_a_timestamp_error(public_trust, tmp_path: Path) -> None:
    """A TSA that does not answer: TimestampError, and no file."""
    out = tmp_path / "a.asics"
    with pytest.raises(esign.TimestampError):
        esign.timestamp_asic_s(
            ("a.xml", b"<a/>"), out, trust=public_trust, tsa_url="http://127.0.0.1:9/tsa"
        )
    assert not out.exists()


# -- the command line -------------------------------------------------------------------------


def test_cli_asic_signs_a_dossier_and_timestamps_an_invoice(
    p12_dir: Path,
    tsa,
    checker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``esign asic OUT FILE...`` with the same key options as ``esign detached``, and
    ``--timestamp-only`` without a key."""
    monkeypatch.setenv("ESIGN_P12_PASSWORD", P12_PASSWORD.decode())
    files = [str(p) for p in dossier(tmp_path)]
    out = tmp_path / "ho-so.asice"
    trust = ["--trust", str(p12_dir / "public-root.pem"), "--profile", "any"]
    key = ["--p12", str(p12_dir / "citizen.p12")]
    code = esign_main(["asic", str(out), *files, *key, "--tsa", tsa["public"], *trust])
    assert code == 0, capsys.readouterr().err
    assert "ASiC-E with CAdES-B-T over 2 file(s)" in capsys.readouterr().out
    assert checker.verify(out).passed
    stamped = tmp_path / "hoa-don.asics"
    invoice_path = tmp_path / "hoa-don.xml"
    invoice_path.write_bytes(invoice())
    code = esign_main(
        [
            "asic",
            str(stamped),
            str(invoice_path),
            "--timestamp-only",
            "--tsa",
            tsa["public"],
            *trust,
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "ASiC-S, hoa-don.xml timestamped" in capsys.readouterr().out
    assert checker.verify(stamped).passed
    code = esign_main(["asic", str(stamped), *files, "--timestamp-only", *trust])
    assert code == 2
    assert "give one FILE" in capsys.readouterr().err


def test_cli_asic_without_a_key_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --timestamp-only a key option is needed, as for ``esign detached``."""
    (tmp_path / "a.txt").write_text("a")
    code = esign_main(["asic", str(tmp_path / "a.asice"), str(tmp_path / "a.txt")])
    assert code == 2
    assert "give exactly one key" in capsys.readouterr().err
