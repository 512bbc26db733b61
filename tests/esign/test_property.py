"""Property: any content, key and level signs and verifies; one flipped bit breaks it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import esign
from fixtures.documents import minimal_pdf
from verify import Indication


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(
        alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=40
    ),
    label=st.sampled_from(["citizen", "citizen-ec", "organisation"]),
    level=st.sampled_from(["B-B", "B-T"]),
    detached=st.booleans(),
    bit=st.integers(min_value=0, max_value=2**31),
)
def test_sign_verify_flip_fails(
    text, label, level, detached, bit, signer_for, public_trust, checker, tsa
) -> None:
    signer = signer_for(label)
    if detached:
        content = text.encode() * 3
        res = esign.sign_detached(
            content, None, signer, level=level, trust=public_trust, tsa_url=tsa["public"]
        )
        assert (
            checker.verify_detached(content, res.data or b"").indication is Indication.TOTAL_PASSED
        )
        flipped = bytearray(content)
        i = bit % (len(flipped) * 8)
        flipped[i // 8] ^= 1 << (i % 8)
        assert (
            checker.verify_detached(bytes(flipped), res.data or b"").indication
            is not Indication.TOTAL_PASSED
        )
        return
    res = esign.sign_pdf(
        minimal_pdf(text), None, signer, level=level, trust=public_trust, tsa_url=tsa["public"]
    )
    data = res.data or b""
    assert checker.verify_pdf(data).indication is Indication.TOTAL_PASSED
    # a bit inside the signed range: the first /ByteRange part (before /Contents)
    start = data.rindex(b"/Contents <")
    i = bit % (start * 8)
    bad = bytearray(data)
    bad[i // 8] ^= 1 << (i % 8)
    assert checker.verify_pdf(bytes(bad)).indication is not Indication.TOTAL_PASSED
