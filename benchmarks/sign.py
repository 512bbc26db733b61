"""Signing throughput: PAdES B-B and B-LT, soft key vs PKCS#11 token; CAdES memory on 1 GB.

    .venv/bin/python -m benchmarks.sign [--n 30] [--gb 1] [--write]

Runs the demo PKI services on loopback (real HTTP OCSP/CRL/TSA). For B-LT one long-lived
:class:`verify.Verifier` is passed to every call, so OCSP answers and CRLs are fetched
once and then served from its cache (the figure a portal backend sees in steady state).
The token is SoftHSM2 (software, so it measures the PKCS#11 path, not USB latency).
The detached run signs a sparse 1 GB file and reports the peak RSS growth: streaming
keeps it flat. ``--write`` replaces the "esign: signing" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## esign: signing"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.sign")
    parser.add_argument("--n", type=int, default=30, help="signatures per configuration")
    parser.add_argument("--gb", type=float, default=1.0, help="size of the detached-signing file")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)

    import esign
    from fixtures import softhsm
    from fixtures.documents import demo_signer, minimal_pdf
    from fixtures.pki import start_services
    from fixtures.pki.build import P12_PASSWORD
    from verify import TrustProfile, ValidationPolicy, Verifier

    services = start_services()
    pki = services.pki
    trust = TrustProfile.custom([pki.root("public")], hierarchy="public")
    pdf = minimal_pdf("Tờ khai", pages=2)
    rows: list[tuple[str, str, int, float]] = []
    token = softhsm.make_token(pki, ("citizen",)) if softhsm.available() else None
    try:
        p12 = pki.write_p12("citizen", Path(tempfile.mkdtemp(prefix="hoso-bench-")) / "c.p12")
        keys: list[tuple[str, object]] = [
            ("soft key (esign.from_pkcs12)", esign.from_pkcs12(p12, P12_PASSWORD)),
            ("pyHanko SimpleSigner", demo_signer(pki, "citizen")),
        ]
        if token is not None:
            keys.append(
                ("SoftHSM2 token", esign.from_pkcs11(token.lib, token.label, "citizen", token.pin))
            )
        for key_name, signer in keys:
            for level in ("B-B", "B-LT"):
                verifier = Verifier(trust, ValidationPolicy())
                kwargs = {"level": level, "verifier": verifier, "tsa_url": pki.tsa_url("public")}
                esign.sign_pdf(pdf, None, signer, **kwargs)  # type: ignore[arg-type]  # warm caches
                start = time.perf_counter()
                for _ in range(args.n):
                    esign.sign_pdf(pdf, None, signer, **kwargs)  # type: ignore[arg-type]
                elapsed = time.perf_counter() - start
                rows.append((key_name, f"PAdES-{level}", args.n, args.n / elapsed))
                print(f"{key_name:24} PAdES-{level:5} {args.n / elapsed:7.1f} sig/s", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "big.bin"
            size = int(args.gb * (1 << 30))
            with big.open("wb") as f:
                f.truncate(size)
            before = _rss_mb()
            start = time.perf_counter()
            esign.sign_detached(
                big,
                Path(tmp) / "big.bin.p7s",
                demo_signer(pki, "citizen"),
                level="B-B",
                trust=trust,
            )
            elapsed = time.perf_counter() - start
            growth = _rss_mb() - before
        print(
            f"detached CAdES over {args.gb:g} GB: {elapsed:.1f} s, peak RSS growth {growth:.1f} MB"
        )
    finally:
        if token is not None:
            token.cleanup()
        services.stop()

    command = "python -m benchmarks.sign " + " ".join(argv if argv is not None else sys.argv[1:])
    machine = (
        f"{platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    lines = [
        SECTION,
        "",
        f"Command: `{command.strip()}`  ",
        f"Machine: {machine}  ",
        f"Date: {time.strftime('%Y-%m-%d')}",
        "",
        "| key | level | signatures | signatures/s |",
        "|---|---|---:|---:|",
        *[f"| {k} | {lvl} | {n} | {rate:.1f} |" for k, lvl, n, rate in rows],
        "",
        f"Detached CAdES-B-B over a {args.gb:g} GB file: {elapsed:.1f} s, peak RSS growth "
        f"{growth:.1f} MB (the file is streamed through the digest in 1 MiB chunks).",
        "",
        "B-LT reuses one `verify.Verifier`, so OCSP/CRL answers are fetched once and cached; "
        "every signature still gets a fresh RFC 3161 timestamp from the loopback TSA. "
        "The token is SoftHSM2 (software PKCS#11), not a USB device. "
        "`esign.from_pkcs12` keeps its parsed key; pyHanko's SimpleSigner (the row below it) "
        "parses the key again for every signature and for the dry run that sizes it.",
        "",
    ]
    if args.write:
        _write_section("\n".join(lines))
    else:
        print("\n".join(lines))
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def _write_section(text: str) -> None:
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\n"
    start = old.find(SECTION)
    if start == -1:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text.rstrip("\n") + ("\n\n" + old[nxt + 1 :] if nxt != -1 else "")
    RESULTS.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
