"""An archived PAdES B-LT dossier still passes after its CA's services are gone."""

from __future__ import annotations

from datetime import UTC, datetime

import esign
from fixtures.documents import demo_signer, minimal_pdf, pinned
from fixtures.pki import start_services
from verify import Indication, TrustProfile, ValidationPolicy, Verifier

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # = tests.conftest.PINNED_NOW
EMBEDDED_USED = "the revocation data embedded in the document (LTV) covers the signing time"


def test_b_lt_passes_online_when_the_revocation_services_are_gone() -> None:
    """Network on, OCSP/CRL unreachable: the DSS data proves the verdict; a warning says so."""
    services = start_services(at_time=NOW)  # this test's own services, stopped before verifying
    try:
        pki = services.pki
        trust = TrustProfile.custom([pki.root("public")], hierarchy="public")
        with pinned(NOW):
            signed = esign.sign_pdf(
                minimal_pdf("Hồ sơ lưu trữ"),
                None,
                demo_signer(pki, "citizen"),
                level="B-LT",
                trust=trust,
                policy=ValidationPolicy(validation_time=NOW),
                tsa_url=pki.tsa_url("public"),
            )
    finally:
        services.stop()
    assert signed.data is not None
    online = Verifier(trust, ValidationPolicy(validation_time=NOW)).verify(signed.data)
    offline = Verifier(trust, ValidationPolicy(validation_time=NOW, network=False)).verify(
        signed.data
    )
    assert offline.indication is Indication.TOTAL_PASSED, offline.message_en
    assert online.indication is Indication.TOTAL_PASSED, online.message_en
    assert any(EMBEDDED_USED in w for w in online.signatures[0].warnings)
