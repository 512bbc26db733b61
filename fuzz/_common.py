"""What the fuzz targets share: an offline verifier trusting the demo roots, and seeds."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from fixtures.pki import DemoPKI, build_pki
from verify import TrustProfile, ValidationPolicy, Verifier

PINNED_NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
CORPUS = Path(__file__).resolve().parent / "corpus"
FORM_ID = "to-khai-dang-ky-khai-sinh"
"""The bundled form whose validation the e-forms target exercises."""


@cache
def demo_pki() -> DemoPKI:
    """The demo PKI (keys from the usual cache), its service URLs on an unused port."""
    return build_pki("http://127.0.0.1:9")


@cache
def offline_verifier() -> Verifier:
    """The demo trust, offline and soft (a fuzzer must never touch the network)."""
    # an unreachable loopback prefix: nothing is fetched anyway (network=False)
    pki = demo_pki()
    trust = TrustProfile.custom(
        [pki.root("public")], name="demo", hierarchy="public"
    ).with_extra_anchors([pki.root("specialized")], hierarchy="specialized")
    policy = ValidationPolicy(
        validation_time=PINNED_NOW,
        network=False,
        revocation="soft",
        max_file_size=4 * 1024 * 1024,
    )
    return Verifier(trust, policy)
