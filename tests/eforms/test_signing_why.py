"""Signing says why: when esign refuses the signer's certificate, the error names what the
validation found (the certificate, the OCSP responder or CRL, the error or the revocation),
in English and Vietnamese, and eforms shows it, before any dossier code is taken.

The demo PKI's services answer for real on loopback; "unreachable" is a second demo PKI
whose services were started, then stopped (its addresses refuse connections).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import esign
from eforms import DossierCodes, FormDefinition, bundled_catalog, submit
from eforms.cli import main
from esign.errors import RefusalCause
from fixtures.documents import demo_signer, pinned
from fixtures.pki import DemoPKI, start_services
from fixtures.pki.build import P12_PASSWORD
from tests.conftest import PINNED_NOW
from verify import TrustProfile

REPO = Path(__file__).resolve().parents[2]
FORM = "to-khai-thay-doi-thong-tin-cu-tru"
EXAMPLE = json.loads((REPO / "eforms" / "data" / "examples" / f"{FORM}.json").read_text("utf-8"))


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with pinned(PINNED_NOW):
        yield


@pytest.fixture(scope="module")
def form() -> FormDefinition:
    return bundled_catalog().form(FORM)


@pytest.fixture(scope="module")
def dead_pki() -> DemoPKI:
    """A demo PKI whose OCSP, CRL and TSA addresses refuse every connection."""
    services = start_services(at_time=PINNED_NOW)
    services.stop()
    return services.pki


def _public(pki: DemoPKI) -> TrustProfile:
    return TrustProfile.custom([pki.root("public")], hierarchy="public")


def _refusal(
    form: FormDefinition, pki: DemoPKI, label: str, tmp_path: Path, **kwargs: Any
) -> esign.CertificateRefused:
    codes = DossierCodes(tmp_path / "codes.sqlite")
    with pytest.raises(esign.CertificateRefused) as caught:
        submit(
            form,
            EXAMPLE["valid"],
            demo_signer(pki, label),
            trust=kwargs.pop("trust", _public(pki)),
            tsa_url=pki.tsa_url("public"),
            codes=codes,
            now=PINNED_NOW,
            **kwargs,
        )
    assert codes.audit(everything=True) == []  # refused before a code was taken
    return caught.value


def test_unreachable_revocation_names_each_source_and_the_network_error(
    form: FormDefinition, dead_pki: DemoPKI, tmp_path: Path
) -> None:
    """No OCSP responder or CRL answers: RevocationUnavailable, naming each certificate of the
    path, each address asked and 'connection refused', in English and in Vietnamese; no
    'no further detail'."""
    error = _refusal(form, dead_pki, "citizen", tmp_path)
    assert type(error) is esign.RevocationUnavailable
    (ocsp,) = dead_pki.cert("citizen").ocsp_urls
    first = error.causes[0]
    assert isinstance(first, RefusalCause)
    assert (first.certificate, first.issuer) == ("Nguyễn Thị Hoà", "Demo Public CA RSA")
    assert first.source == f"OCSP {ocsp}"
    assert (first.error_en, first.error_vi) == ("connection refused", "máy chủ từ chối kết nối")
    sources = [c.source.split()[0] for c in error.causes]
    assert sources == ["OCSP", "CRL", "OCSP", "CRL"]  # the signer's, then its CA's
    assert {c.certificate for c in error.causes} == {"Nguyễn Thị Hoà", "Demo Public CA RSA"}
    assert "no further detail" not in str(error)
    assert first.source in str(error)
    assert "connection refused" in str(error)
    assert error.message_vi is not None
    assert error.message_vi.startswith("Không kiểm tra được tình trạng thu hồi")
    assert "máy chủ từ chối kết nối" in error.message_vi
    assert first.source in error.message_vi


def test_a_revoked_certificate_names_the_responder_the_date_and_the_reason(
    form: FormDefinition, demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """CertificateRevoked says which certificate, which OCSP responder said so, when and why."""
    error = _refusal(form, demo_pki, "citizen-revoked", tmp_path)
    assert type(error) is esign.CertificateRevoked
    (cause,) = error.causes
    assert cause.certificate == "Trần Văn Bình"
    assert cause.source.startswith("OCSP http://127.0.0.1:")
    assert cause.error_en == "revoked on 01/03/2026 (key compromise)"
    assert cause.error_vi == "bị thu hồi ngày 01/03/2026 (lộ khóa bí mật)"
    assert error.message("vi").startswith(
        "Chứng thư số đã bị thu hồi (chứng thư số 'Trần Văn Bình')"
    )
    assert "bị thu hồi ngày 01/03/2026" in error.message("vi")
    assert cause.text("en") in error.message("en")


def test_an_untrusted_chain_names_where_it_ends(
    form: FormDefinition, demo_pki: DemoPKI, tmp_path: Path
) -> None:
    """An official's certificate (specialized hierarchy) offered to a public-only trust
    profile: WrongProfile names the root its chain ends at, in both languages; the wrong
    hierarchy is said in Vietnamese too."""
    error = _refusal(form, demo_pki, "official", tmp_path)
    assert type(error) is esign.WrongProfile
    (cause,) = error.causes
    assert cause.certificate == "Demo Government Specialized Root CA"
    assert "not among the trust anchors of the public profile" in cause.error_en
    assert "không có trong danh sách gốc tin cậy" in cause.error_vi
    both = TrustProfile.custom([demo_pki.root("public")], hierarchy="public").with_extra_anchors(
        [demo_pki.root("specialized")], hierarchy="specialized"
    )
    wrong = _refusal(form, demo_pki, "citizen", tmp_path, trust=both, profile=esign.SPECIALIZED)
    assert "«public», không phải hệ thống «specialized»" in (wrong.message_vi or "")


@pytest.mark.parametrize(
    ("lang", "said"), [("vi", "máy chủ từ chối kết nối"), ("en", "connection refused")]
)
def test_eforms_submit_prints_the_cause_in_the_language_asked(
    dead_pki: DemoPKI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    lang: str,
    said: str,
) -> None:
    """'eforms submit' with revocation unreachable: exit 1, one line naming the refusal, the
    OCSP address and the network error, in --lang (Vietnamese by default); nothing written."""
    p12 = dead_pki.write_p12("citizen", tmp_path / "citizen.p12")
    (tmp_path / "pw").write_bytes(P12_PASSWORD)
    (tmp_path / "roots").mkdir()
    (tmp_path / "roots" / "public.pem").write_bytes(dead_pki.cert_pem("vn-root"))
    data = tmp_path / "data.json"
    data.write_text(json.dumps(EXAMPLE["valid"], ensure_ascii=False), encoding="utf-8")
    args = ["submit", FORM, str(data), "--p12", str(p12), "--password-file", str(tmp_path / "pw")]
    args += ["--trust", str(tmp_path / "roots"), "--tsa", dead_pki.tsa_url("public")]
    args += ["--state-dir", str(tmp_path / "state"), "--out", str(tmp_path / "out")]
    if lang == "en":
        args += ["--lang", "en"]
    assert main(args) == 1
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("eforms: RevocationUnavailable: ")
    assert said in line
    assert "OCSP http://127.0.0.1:" in line
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "state").exists()
