"""Verify one case in this process and print the verdict, wall time and peak memory as JSON.

Used in a subprocess (``python -m tests.adversarial.run_one spec.json``) for cases that could
hang or blow the stack, and by ``measure.py`` to measure every case on its own.
The spec names files written by the parent: ``data``, optional ``detached``, optional
``anchors`` (DER roots, offline) or ``demo_roots`` ({"public": path, "specialized": path}).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from asn1crypto import x509

from tests.adversarial.corpus import PINNED_NOW
from verify import TrustProfile, ValidationPolicy, Verifier


def _cert(path: str) -> x509.Certificate:
    return x509.Certificate.load(Path(path).read_bytes())


def verifier_from_spec(spec: dict[str, Any]) -> Verifier:
    if spec.get("anchors"):
        trust = TrustProfile.custom(
            [_cert(p) for p in spec["anchors"]], name="lab", hierarchy="public"
        )
        policy = ValidationPolicy(validation_time=PINNED_NOW, network=False, revocation="soft")
        return Verifier(trust, policy)
    roots = spec["demo_roots"]
    trust = TrustProfile.custom(
        [_cert(roots["public"])], name="demo", hierarchy="public"
    ).with_extra_anchors([_cert(roots["specialized"])], hierarchy="specialized")
    return Verifier(trust, ValidationPolicy(validation_time=PINNED_NOW))


def pyhanko_alone(spec: dict[str, Any]) -> dict[str, Any]:
    """pyHanko's own judgement, without our layer: what a plain integration would say."""
    import asyncio
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import (
        async_validate_detached_cms,
        async_validate_pdf_signature,
        async_validate_pdf_timestamp,
    )
    from pyhanko_certvalidator import ValidationContext

    if spec.get("anchors"):
        roots = [_cert(p) for p in spec["anchors"]]
        vc_args: dict[str, Any] = {"allow_fetching": False, "revocation_mode": "soft-fail"}
    else:
        roots = [_cert(p) for p in spec["demo_roots"].values()]
        vc_args = {"allow_fetching": True, "revocation_mode": "soft-fail"}

    def context() -> ValidationContext:
        return ValidationContext(trust_roots=roots, moment=PINNED_NOW, **vc_args)

    path = Path(spec["data"])
    if path.stat().st_size > 512 * 1024 * 1024:
        return {"pyhanko": "not attempted (file over 512 MB)"}
    data = path.read_bytes()
    if spec.get("detached"):
        from asn1crypto import cms

        info = cms.ContentInfo.load(Path(spec["detached"]).read_bytes())
        st = asyncio.run(
            async_validate_detached_cms(data, info["content"], signer_validation_context=context())
        )
        ok = bool(st.intact and st.valid and st.trusted)
        return {"pyhanko": ("accepts" if ok else "rejects") + f" ({st.summary()})"}
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    sigs = reader.embedded_signatures
    if not sigs:
        return {"pyhanko": "finds no signature it can validate"}
    verdicts = []
    for emb in sigs:
        if emb.sig_object_type == "/DocTimeStamp":
            ts = asyncio.run(async_validate_pdf_timestamp(emb, validation_context=context()))
            ok = bool(ts.intact and ts.valid and ts.trusted)
            verdicts.append(("accepts" if ok else "rejects") + f" (doc timestamp {ts.summary()})")
            continue
        st = asyncio.run(async_validate_pdf_signature(emb, signer_validation_context=context()))
        verdicts.append(("accepts" if st.bottom_line else "rejects") + f" ({st.summary()})")
    if all(v.startswith("accepts") for v in verdicts):
        return {"pyhanko": "accepts all: " + "; ".join(verdicts)}
    return {"pyhanko": "; ".join(verdicts)}


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    ``VmHWM`` from ``/proc`` where there is one: ``ru_maxrss`` survives ``execve`` and so
    starts at the size of the parent that forked us.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    if argv[1:] == ["--pyhanko"]:
        started = time.perf_counter()
        try:
            result = pyhanko_alone(spec)
        except BaseException as exc:  # noqa: BLE001 - an exception is pyHanko's answer here
            result = {"pyhanko": f"raises {type(exc).__name__}: {exc}"[:240]}
        result["elapsed_s"] = round(time.perf_counter() - started, 3)
        print(json.dumps(result))
        return 0
    verifier = verifier_from_spec(spec)
    baseline = peak_rss_mb()
    started = time.perf_counter()
    try:
        if spec.get("detached"):
            report = verifier.verify(Path(spec["data"]), detached=Path(spec["detached"]))
        else:
            report = verifier.verify(Path(spec["data"]))
    except BaseException as exc:  # noqa: BLE001 - the point is to report an escape
        print(json.dumps({"raised": f"{type(exc).__name__}: {exc}"[:300]}))
        return 3
    elapsed = time.perf_counter() - started
    peak = peak_rss_mb()
    print(
        json.dumps(
            {
                "indication": report.indication.value,
                "sub_indication": report.sub_indication.value if report.sub_indication else None,
                "signatures": [
                    [s.indication.value, s.sub_indication.value if s.sub_indication else None]
                    for s in report.signatures
                ],
                "warnings": [w for s in report.signatures for w in s.warnings],
                "message_en": report.message_en,
                "elapsed_s": round(elapsed, 3),
                "peak_rss_mb": round(peak, 1),
                "baseline_rss_mb": round(baseline, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
