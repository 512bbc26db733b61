"""Bulk verification benchmark: hoso against pyHanko alone, OpenSSL and the hash+crypto floor.

    python -m benchmarks.bulk_verify [--n 200] [--out benchmarks/corpus] [--kinds bb,lt,cms]

Builds (or reuses) corpora from the demo PKI, starts the demo OCSP/CRL/TSA services on
loopback, and measures in one run, side by side:

- hoso ``verify_many`` with 1 and 2 workers (one shared revocation cache);
- pyHanko in a plain loop, a fresh ValidationContext per document, and with one shared one;
- ``openssl cms -verify`` per file (detached CMS only; a process per file);
- the floor: read the file, SHA-256 of the signed bytes, one signature check (cryptography).

It prints documents per second, ms per document, the ratio of hoso to each peer, peak RSS
of the measuring process tree, and whether every approach agrees on which documents are
intact. Timing numbers go to benchmarks/RESULTS.md by hand, with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import cms
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from fixtures.documents import minimal_pdf, sign_detached, sign_pdf
from fixtures.pki import DemoPKI, start_services

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
SIGNED_AT = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)
LABELS = ["citizen", "citizen-ec", "organisation", "official", "agency-seal", "branch"]


@dataclass
class Corpus:
    kind: str
    files: list[Path]
    detached: dict[Path, Path]
    intact: dict[Path, bool]


def build_corpus(pki: DemoPKI, folder: Path, kind: str, n: int, seed: int = 7) -> Corpus:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    detached: dict[Path, Path] = {}
    intact: dict[Path, bool] = {}
    templates: dict[str, bytes] = {}
    for i in range(n):
        label = LABELS[i % len(LABELS)]
        tampered = rng.random() < 0.05
        if kind == "cms":
            content = folder / f"doc-{i:05d}.bin"
            data = rng.randbytes(100 * 1024)
            content.write_bytes(data)
            sig = folder / f"doc-{i:05d}.bin.p7s"
            sig.write_bytes(sign_detached(pki, label, data, at=SIGNED_AT))
            if tampered:
                content.write_bytes(b"X" + data[1:])
            files.append(content)
            detached[content] = sig
            intact[content] = not tampered
            continue
        key = f"{kind}-{label}"
        if key not in templates:
            pdf = minimal_pdf("Hồ sơ", pages=2, padding=rng.randint(50_000, 190_000))
            templates[key] = sign_pdf(pki, label, pdf, at=SIGNED_AT, ltv=(kind == "lt"))
        doc = bytearray(templates[key])
        # vary the trailer comment so every file has its own hash (outside the signed range
        # only when tampered is False: append after %%EOF)
        doc += f"%{i}\n".encode()
        if tampered:
            at = doc.find(b"/Helvetica")
            doc[at + 1] ^= 1
        path = folder / f"doc-{i:05d}.pdf"
        path.write_bytes(bytes(doc))
        files.append(path)
        intact[path] = not tampered
    return Corpus(kind, files, detached, intact)


def _peak_rss_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024


@dataclass
class Row:
    name: str
    seconds: float
    n: int
    verdicts: dict[Path, bool]
    rss_mb: float

    @property
    def per_second(self) -> float:
        return self.n / self.seconds

    @property
    def ms(self) -> float:
        return 1000 * self.seconds / self.n


def _timed(name: str, corpus: Corpus, fn: Callable[..., dict[Path, bool]], *args: object) -> Row:
    started = time.perf_counter()
    verdicts = fn(*args)
    elapsed = time.perf_counter() - started
    return Row(name, elapsed, len(corpus.files), verdicts, _peak_rss_mb())


def run_hoso(corpus: Corpus, pki: DemoPKI, workers: int, cache_dir: Path) -> dict[Path, bool]:
    from verify import TrustProfile, ValidationPolicy, Verifier
    from verify.bulk import BulkItem, verify_many
    from verify.cache import RevocationCache

    trust = TrustProfile.custom([pki.root("public"), pki.root("specialized")], name="demo")
    verifier = Verifier(
        trust, ValidationPolicy(validation_time=NOW), cache=RevocationCache.in_directory(cache_dir)
    )
    items = [
        BulkItem(str(p), str(corpus.detached[p]) if p in corpus.detached else None)
        for p in corpus.files
    ]
    out: dict[Path, bool] = {}
    for report in verify_many(items, verifier=verifier, workers=workers, chunk_size=16):
        assert report.path is not None
        out[Path(report.path)] = report.passed
    return out


def run_pyhanko(corpus: Corpus, pki: DemoPKI, shared: bool) -> dict[Path, bool]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_detached_cms, validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    def vc() -> ValidationContext:
        return ValidationContext(
            trust_roots=[pki.root("public"), pki.root("specialized")],
            allow_fetching=True,
            moment=NOW,
        )

    one = vc()
    out: dict[Path, bool] = {}
    for path in corpus.files:
        ctx = one if shared else vc()
        try:
            if corpus.kind == "cms":
                sd = cms.ContentInfo.load(corpus.detached[path].read_bytes())["content"]
                st = asyncio.run(
                    async_validate_detached_cms(
                        path.read_bytes(), sd, signer_validation_context=ctx
                    )
                )
                out[path] = bool(st.bottom_line)
            else:
                reader = PdfFileReader(io.BytesIO(path.read_bytes()))
                st = validate_pdf_signature(reader.embedded_signatures[0], ctx)
                out[path] = bool(st.bottom_line)
        except Exception:  # noqa: BLE001 - a peer's failure counts as "not intact"
            out[path] = False
    return out


def run_openssl(corpus: Corpus, pki: DemoPKI, folder: Path) -> dict[Path, bool]:
    roots = folder / "roots.pem"
    roots.write_bytes(pki.cert_pem("vn-root") + pki.cert_pem("gov-root"))
    out: dict[Path, bool] = {}
    for path in corpus.files:
        result = subprocess.run(
            [
                "openssl",
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                str(corpus.detached[path]),
                "-content",
                str(path),
                "-CAfile",
                str(roots),
                "-purpose",
                "any",
                "-attime",
                str(int(NOW.timestamp())),
                "-out",
                os.devnull,
            ],
            capture_output=True,
            check=False,
        )
        out[path] = result.returncode == 0
    return out


def _floor_one(signed: bytes, der: bytes) -> bool:
    info = cms.ContentInfo.load(der)
    sd = info["content"]
    si = sd["signer_infos"][0]
    cert = next(
        c.chosen
        for c in sd["certificates"]
        if c.name == "certificate"
        and c.chosen.serial_number == si["sid"].chosen["serial_number"].native
    )
    algo = si["digest_algorithm"]["algorithm"].native
    digest = hashlib.new(algo, signed).digest()
    attrs = si["signed_attrs"]
    md = next(a["values"][0].native for a in attrs if a["type"].native == "message_digest")
    if md != digest:
        return False
    key = cx509.load_der_x509_certificate(cert.dump()).public_key()
    payload = attrs.untag().dump()
    h = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[algo]
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(si["signature"].native, payload, padding.PKCS1v15(), h)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(si["signature"].native, payload, ec.ECDSA(h))
        return True
    except Exception:  # noqa: BLE001
        return False


def run_floor(corpus: Corpus) -> dict[Path, bool]:
    out: dict[Path, bool] = {}
    for path in corpus.files:
        data = path.read_bytes()
        if corpus.kind == "cms":
            der = corpus.detached[path].read_bytes()
            out[path] = _floor_one(data, der)
            continue
        start = data.rindex(b"/ByteRange")
        br = data[start : start + 120].split(b"[", 1)[1].split(b"]", 1)[0].split()
        a, b, c, d = (int(x) for x in br[:4])
        der = bytes.fromhex(data[a + b + 1 : c - 1].decode())
        out[path] = _floor_one(data[a : a + b] + data[c : c + d], der)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bulk_verify")
    p.add_argument("--n", type=int, default=200, help="documents per corpus")
    p.add_argument("--kinds", default="bb,lt,cms", help="bb (PAdES B-B), lt (B-LT), cms")
    p.add_argument("--out", type=Path, default=None, help="corpus folder (default: temp)")
    p.add_argument("--repeat", type=int, default=1, help="repeats; the median is shown")
    args = p.parse_args(argv)
    services = start_services(at_time=NOW)
    base = args.out or Path(tempfile.mkdtemp(prefix="hoso-bench-"))
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
    print(f"# machine: {machine}, Python {platform.python_version()}")
    print(f"# command: python -m benchmarks.bulk_verify {' '.join(argv or sys.argv[1:])}")
    try:
        for kind in args.kinds.split(","):
            t0 = time.perf_counter()
            corpus = build_corpus(services.pki, base / f"{kind}-{args.n}", kind, args.n)
            print(f"\n## {kind}: {args.n} documents (built in {time.perf_counter() - t0:.1f} s)")
            pki = services.pki
            peers: list[tuple[str, Callable[..., dict[Path, bool]], tuple[object, ...]]] = [
                ("hoso, 1 worker", run_hoso, (corpus, pki, 1, base / "cache1")),
                ("hoso, 2 workers", run_hoso, (corpus, pki, 2, base / "cache2")),
                ("pyHanko, fresh context", run_pyhanko, (corpus, pki, False)),
                ("pyHanko, shared context", run_pyhanko, (corpus, pki, True)),
            ]
            if kind == "cms":
                peers.append(("openssl cms -verify", run_openssl, (corpus, pki, base)))
            peers.append(("floor (read+hash+1 sig)", run_floor, (corpus,)))
            rows: list[Row] = []
            for name, fn, fn_args in peers:
                runs = [_timed(name, corpus, fn, *fn_args) for _ in range(args.repeat)]
                med = statistics.median(r.seconds for r in runs)
                rows.append(next(r for r in runs if r.seconds == med))
            hoso1 = rows[0]
            print("| approach | docs/s | ms/doc | hoso-1w vs it | peak RSS MB | agrees on intact |")
            print("|---|---:|---:|---:|---:|---:|")
            for row in rows:
                agree = sum(row.verdicts.get(f) == corpus.intact[f] for f in corpus.files)
                ratio = row.seconds / hoso1.seconds
                print(
                    f"| {row.name} | {row.per_second:.1f} | {row.ms:.2f} | {ratio:.2f}x "
                    f"| {row.rss_mb:.0f} | {agree}/{len(corpus.files)} |"
                )
    finally:
        services.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
