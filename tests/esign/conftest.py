"""Fixtures for esign: the demo PKI's trust, a pinned clock, PKCS#12 files, a token, CSC."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.documents import demo_signer, minimal_pdf, pinned
from fixtures.pki import DemoPKI, DemoServices
from tests.conftest import PINNED_NOW
from verify import TrustProfile, ValidationPolicy, Verifier


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    """Every esign test signs at PINNED_NOW (the demo TSA/OCSP answer as of then)."""
    with pinned(PINNED_NOW):
        yield


@pytest.fixture(scope="session")
def public_trust(demo_pki: DemoPKI) -> TrustProfile:
    return TrustProfile.custom([demo_pki.root("public")], hierarchy="public")


@pytest.fixture(scope="session")
def specialized_trust(demo_pki: DemoPKI) -> TrustProfile:
    return TrustProfile.custom([demo_pki.root("specialized")], hierarchy="specialized")


@pytest.fixture(scope="session")
def both_trust(demo_pki: DemoPKI) -> TrustProfile:
    return TrustProfile.custom([demo_pki.root("public")], hierarchy="public").with_extra_anchors(
        [demo_pki.root("specialized")], hierarchy="specialized"
    )


@pytest.fixture(scope="session")
def checker(both_trust: TrustProfile) -> Verifier:
    """The verifier that checks what esign produced (validating at PINNED_NOW)."""
    return Verifier(both_trust, ValidationPolicy(validation_time=PINNED_NOW))


@pytest.fixture(scope="session")
def pdf_bytes() -> bytes:
    return minimal_pdf("Tờ khai đăng ký thường trú")


@pytest.fixture
def signer_for(demo_pki: DemoPKI):  # type: ignore[no-untyped-def]
    return lambda label: demo_signer(demo_pki, label)


@pytest.fixture(scope="session")
def p12_dir(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("p12")
    for label in ("citizen", "citizen-revoked", "official", "citizen-ec"):
        demo_pki.write_p12(label, out / f"{label}.p12")
    (out / "public-root.pem").write_bytes(demo_pki.cert_pem("vn-root"))
    (out / "gov-root.pem").write_bytes(demo_pki.cert_pem("gov-root"))
    return out


@pytest.fixture(scope="session")
def tsa(demo_services: DemoServices) -> dict[str, str]:
    return {h: demo_services.pki.tsa_url(h) for h in ("public", "specialized")}


def pdfsig(path: Path) -> str:
    """poppler's pdfsig report (it checks integrity; the demo roots are not in its NSS db)."""
    res = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return res.stdout + res.stderr
