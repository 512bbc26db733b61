"""Profiles: the pre-sign refusal, before any output exists."""

from __future__ import annotations

from pathlib import Path

import pytest

import esign
from verify import TrustProfile, ValidationPolicy


@pytest.mark.parametrize(
    ("label", "error"),
    [
        ("citizen-revoked", esign.CertificateRevoked),
        ("citizen-expired", esign.CertificateExpired),
        ("citizen-no-usage", esign.KeyUsageMissing),
        ("citizen-weak", esign.WeakAlgorithm),
        ("official", esign.WrongProfile),
    ],
)
def test_bad_certificate_is_refused_and_nothing_is_written(
    label, error, signer_for, public_trust, pdf_bytes, tmp_path: Path
) -> None:
    """Revoked, expired, no key usage, weak or wrong-profile: refused, no file left."""
    out = tmp_path / "out.pdf"
    with pytest.raises(error) as info:
        esign.sign_pdf(pdf_bytes, out, signer_for(label), level="B-B", trust=public_trust)
    assert isinstance(info.value, esign.CertificateRefused)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_refusal_carries_the_verify_check(signer_for, public_trust, pdf_bytes) -> None:
    """A revocation refusal carries verify's CertificateCheck."""
    with pytest.raises(esign.CertificateRevoked) as info:
        esign.sign_pdf(
            pdf_bytes, None, signer_for("citizen-revoked"), level="B-B", trust=public_trust
        )
    assert info.value.check is not None
    assert not info.value.check.ok


def test_specialized_certificate_under_public_anchor_tag_is_wrong_profile(
    signer_for, specialized_trust, pdf_bytes
) -> None:
    """A chain that reaches the specialized hierarchy is refused under PUBLIC."""
    with pytest.raises(esign.WrongProfile):
        esign.sign_pdf(
            pdf_bytes,
            None,
            signer_for("official"),
            profile=esign.PUBLIC,
            level="B-B",
            trust=specialized_trust,
        )


def test_untagged_custom_anchor_is_wrong_profile(demo_pki, signer_for, pdf_bytes) -> None:
    """Custom anchors of no known hierarchy do not satisfy a hierarchy-bound profile."""
    trust = TrustProfile.custom([demo_pki.root("public")])
    with pytest.raises(esign.WrongProfile, match="hierarchy"):
        esign.sign_pdf(pdf_bytes, None, signer_for("citizen"), level="B-B", trust=trust)
    res = esign.sign_pdf(
        pdf_bytes, None, signer_for("citizen"), profile=esign.ANY, level="B-B", trust=trust
    )
    assert res.data is not None


def test_revocation_unreachable_in_hard_mode_is_refused(
    signer_for, public_trust, pdf_bytes
) -> None:
    """No OCSP/CRL (network off) with hard revocation: refused, not signed blind."""
    policy = ValidationPolicy(network=False)
    with pytest.raises(esign.CertificateRefused):
        esign.sign_pdf(
            pdf_bytes, None, signer_for("citizen"), level="B-B", trust=public_trust, policy=policy
        )


def test_ecdsa_p256_and_rsa_are_accepted(signer_for, public_trust, pdf_bytes) -> None:
    for label in ("citizen", "citizen-ec"):
        res = esign.sign_pdf(pdf_bytes, None, signer_for(label), level="B-B", trust=public_trust)
        assert res.signer.name


def test_digest_outside_profile_is_refused(signer_for, public_trust, pdf_bytes) -> None:
    with pytest.raises(esign.WeakAlgorithm):
        esign.sign_pdf(
            pdf_bytes, None, signer_for("citizen"), level="B-B", trust=public_trust, digest="sha1"
        )


def test_b_t_without_tsa_is_a_usage_error(signer_for, public_trust, pdf_bytes) -> None:
    with pytest.raises(esign.UsageError, match="timestamp authority"):
        esign.sign_pdf(pdf_bytes, None, signer_for("citizen"), level="B-T", trust=public_trust)


def test_profiles_are_frozen_and_named() -> None:
    assert esign.profile_named("Specialized") is esign.SPECIALIZED
    assert esign.SPECIALIZED.default_tsa
    with pytest.raises(esign.UsageError):
        esign.profile_named("nope")
    with pytest.raises(AttributeError):
        esign.PUBLIC.rsa_min_bits = 1024  # type: ignore[misc]
