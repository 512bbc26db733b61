"""Sign-in by certificate: nonce, signature, chain with revocation, single use."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import time_machine

import esign
from tests.conftest import PINNED_NOW


def respond(signer, data: bytes, *, detached: bool = True) -> bytes:
    cms = asyncio.run(signer.async_sign_general_data(data, "sha256", detached=detached))
    return bytes(cms.dump())


def test_valid_response_returns_identity(signer_for, public_trust) -> None:
    store = esign.MemoryChallengeStore()
    ch = esign.issue_challenge(60, store=store)
    resp = respond(signer_for("citizen"), ch.to_sign)
    ident = esign.verify_challenge_response(ch, resp, trust=public_trust, store=store)
    assert ident.name == "Nguyễn Thị Hoà"
    assert ident.identifier("cccd") == "001190012345"
    with pytest.raises(esign.ChallengeReplayed):
        esign.verify_challenge_response(ch, resp, trust=public_trust, store=store)


def test_attached_and_base64_responses(signer_for, public_trust) -> None:
    import base64

    store = esign.MemoryChallengeStore()
    ch = esign.issue_challenge(60, store=store)
    resp = base64.b64encode(respond(signer_for("citizen-ec"), ch.to_sign, detached=False)).decode()
    assert esign.verify_challenge_response(ch, resp, trust=public_trust, store=store).name


def test_expired(signer_for, public_trust) -> None:
    store = esign.MemoryChallengeStore()
    ch = esign.issue_challenge(30, store=store)
    resp = respond(signer_for("citizen"), ch.to_sign)
    with (
        time_machine.travel(PINNED_NOW + timedelta(minutes=1), tick=False),
        pytest.raises(esign.ChallengeExpired),
    ):
        esign.verify_challenge_response(ch, resp, trust=public_trust, store=store)


def test_wrong_nonce(signer_for, public_trust) -> None:
    store = esign.MemoryChallengeStore()
    ch = esign.issue_challenge(60, store=store)
    other = esign.issue_challenge(60, store=store)
    with pytest.raises(esign.WrongNonce):
        esign.verify_challenge_response(
            ch, respond(signer_for("citizen"), other.to_sign), trust=public_trust, store=store
        )
    with pytest.raises(esign.WrongNonce):
        esign.verify_challenge_response(
            ch,
            respond(signer_for("citizen"), other.to_sign, detached=False),
            trust=public_trust,
            store=store,
        )


@pytest.mark.parametrize("label", ["citizen-revoked", "official"])
def test_untrusted(label, signer_for, public_trust) -> None:
    store = esign.MemoryChallengeStore()
    ch = esign.issue_challenge(60, store=store)
    with pytest.raises(esign.UntrustedResponse) as info:
        esign.verify_challenge_response(
            ch, respond(signer_for(label), ch.to_sign), trust=public_trust, store=store
        )
    assert info.value.check is not None


def test_garbage_is_untrusted(public_trust) -> None:
    ch = esign.issue_challenge(60)
    with pytest.raises(esign.UntrustedResponse):
        esign.verify_challenge_response(ch, b"\x30\x03garbage", trust=public_trust)
