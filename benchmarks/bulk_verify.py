"""Bulk verification benchmark: hoso against pyHanko alone, OpenSSL and the hash+crypto floor.

    python -m benchmarks.bulk_verify [--n 1000] [--n-fresh 200] [--kinds bb,lt,two,cms]
                                     [--scale 10000] [--repeat 1] [--out DIR]
                                     [--markdown FILE]

Starts the demo OCSP/CRL/TSA services on loopback, builds corpora from the demo PKI (see
:mod:`benchmarks.corpus`: distinct documents, RSA and ECDSA signers of both hierarchies,
50-200 KB PDFs, 100 KB files for detached CMS, 5% tampered) and measures, side by side in
one run, each approach in a fresh process of its own (so peak RSS is its own):

- hoso ``verify_many`` with 1 and 2 worker processes, each starting with an empty SQLite
  revocation cache (with ``--repeat R``: the run of median time among R), and once more
  with 1 worker and the cache the first row left (what a second ``verify`` run finds in
  its default cache folder);
- pyHanko in a plain loop: a fresh ``ValidationContext`` per document, and one shared
  context (hard revocation checking, fetching on, like hoso's default policy);
- ``openssl cms -verify`` per file (detached CMS; one process per file, as a script would);
- the floor: read the file, SHA-256 the signed bytes, verify each signature once with
  ``cryptography`` (no certificate path, no revocation).

Every approach checks the first ``--n`` documents of each corpus, except the pyHanko loop
with a fresh context per document, which checks ``--n-fresh``: it keeps nothing from one
document to the next, so its time per document does not depend on how many there are (and
1,000 of them take ten minutes). Then the scaling rows: hoso on ``--scale`` documents of
the B-B corpus, to compare with the ``--n`` rows; and, to set the 2-worker rows against
what this machine gives two processes that share nothing, two separate hoso processes of
1 worker, each verifying every other document, started together (the time of the slower).

For each row: documents per second, ms per document, how many times faster hoso (one
worker) is, peak RSS, and how many documents the approach judged as the corpus says
(intact and valid = passes). At the end, the targets, met or missed and by how much.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.corpus import NOW, Corpus, build

APPROACHES = (
    "hoso-1",
    "hoso-2",
    "hoso-1-warm",
    "pyhanko-fresh",
    "pyhanko-shared",
    "openssl",
    "floor",
)
NAMES = {
    "hoso-1": "hoso, 1 worker",
    "hoso-2": "hoso, 2 workers",
    "hoso-1-warm": "hoso, 1 worker, revocation cache kept from row 1",
    "hoso-halves": "two hoso processes (1 worker), half the documents each, sharing nothing",
    "pyhanko-fresh": "pyHanko loop, fresh context per doc",
    "pyhanko-shared": "pyHanko loop, one shared context",
    "openssl": "openssl cms -verify per file",
    "floor": "floor (read + SHA-256 + signature check)",
}
KIND_NAMES = {
    "bb": "PAdES B-B, one signature",
    "lt": "PAdES B-LT, one signature",
    "two": "two B-B signatures",
    "cms": "detached CAdES-B-B over 100 KB files",
}


# -- the measured side (one fresh process per approach) ---------------------------------------


def _peak_rss_mb() -> float:
    import multiprocessing

    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)  # let pool workers exit so that their peak is counted
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def _items(
    manifest: dict[str, Any], n: int, part: tuple[int, int] = (0, 1)
) -> list[tuple[str, str | None, bool]]:
    """The first ``n`` documents; with ``part`` (i, k), every k-th of them from the i-th."""
    return [(p, d, ok) for p, d, ok in manifest["files"][:n]][part[0] :: part[1]]


def run_hoso(
    items: list[tuple[str, str | None, bool]],
    roots: list[Any],
    workers: int,
    cache_dir: str | None = None,
) -> dict[str, bool]:
    from verify import TrustProfile, ValidationPolicy, Verifier
    from verify.bulk import BulkItem, verify_many
    from verify.cache import RevocationCache

    trust = TrustProfile.custom(roots, name="demo")
    cache = RevocationCache.in_directory(cache_dir or tempfile.mkdtemp(prefix="hoso-bench-"))
    verifier = Verifier(trust, ValidationPolicy(validation_time=NOW), cache=cache)
    out: dict[str, bool] = {}
    for report in verify_many(
        (BulkItem(p, d) for p, d, _ok in items), verifier=verifier, workers=workers
    ):
        assert report.path is not None
        out[report.path] = report.passed
    return out


def run_pyhanko(
    items: list[tuple[str, str | None, bool]], roots: list[Any], shared: bool
) -> dict[str, bool]:
    import asyncio
    import io

    from asn1crypto import cms
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_detached_cms, validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    def context() -> ValidationContext:
        return ValidationContext(
            trust_roots=roots, allow_fetching=True, moment=NOW, revocation_mode="require"
        )

    one = context()
    out: dict[str, bool] = {}
    for path, sig, _ok in items:
        vc = one if shared else context()
        try:
            data = Path(path).read_bytes()
            if sig is not None:
                sd = cms.ContentInfo.load(Path(sig).read_bytes())["content"]
                st = asyncio.run(
                    async_validate_detached_cms(data, sd, signer_validation_context=vc)
                )
                out[path] = bool(st.bottom_line)
            else:
                reader = PdfFileReader(io.BytesIO(data))
                sigs = reader.embedded_signatures
                out[path] = bool(sigs) and all(
                    validate_pdf_signature(emb, vc).bottom_line for emb in sigs
                )
        except Exception:  # noqa: BLE001 - a peer's failure counts as "not passed"
            out[path] = False
    return out


def run_openssl(items: list[tuple[str, str | None, bool]], roots_pem: str) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for path, sig, _ok in items:
        assert sig is not None
        result = subprocess.run(
            [
                "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
                "-content", path, "-CAfile", roots_pem, "-purpose", "any",
                "-attime", str(int(NOW.timestamp())), "-out", os.devnull,
            ],
            capture_output=True,
            check=False,
        )  # fmt: skip
        out[path] = result.returncode == 0
    return out


def _floor_check(signed: bytes, der: bytes) -> bool:
    from asn1crypto import cms
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    sd = cms.ContentInfo.load(der)["content"]
    si = sd["signer_infos"][0]
    serial = si["sid"].chosen["serial_number"].native
    cert = next(c.chosen for c in sd["certificates"] if c.chosen.serial_number == serial)
    algo = si["digest_algorithm"]["algorithm"].native
    attrs = si["signed_attrs"]
    md = next(a["values"][0].native for a in attrs if a["type"].native == "message_digest")
    if md != hashlib.new(algo, signed).digest():
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


def run_floor(items: list[tuple[str, str | None, bool]]) -> dict[str, bool]:
    import re

    byte_range = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
    out: dict[str, bool] = {}
    for path, sig, _ok in items:
        data = Path(path).read_bytes()
        if sig is not None:
            out[path] = _floor_check(data, Path(sig).read_bytes())
            continue
        ok = True
        for m in byte_range.finditer(data):
            _z, a, b, c = (int(x) for x in m.groups())
            der = bytes.fromhex(data[a + 1 : b - 1].decode())
            ok = _floor_check(data[0:a] + data[b : b + c], der) and ok
        out[path] = ok
    return out


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure one approach on one corpus in this (fresh) process."""
    from asn1crypto import pem, x509

    manifest = json.loads(Path(spec["manifest"]).read_text(encoding="utf-8"))
    items = _items(manifest, spec["n"], tuple(spec.get("part", (0, 1))))  # type: ignore[arg-type]
    roots = [
        x509.Certificate.load(der)
        for _t, _h, der in pem.unarmor(Path(spec["roots"]).read_bytes(), multiple=True)
    ]
    approach = spec["approach"]
    # libraries are loaded before the clock starts: the rows compare verifying, not imports
    import cryptography.x509  # noqa: F401
    import pyhanko.sign.validation  # noqa: F401
    import pyhanko_certvalidator  # noqa: F401

    import verify.bulk  # noqa: F401

    if spec.get("together"):  # started with another: both clocks start on the same word
        print("ready", flush=True)
        sys.stdin.readline()
    started = time.perf_counter()
    if approach.startswith("hoso-"):
        verdicts = run_hoso(items, roots, int(approach.split("-")[1]), spec.get("cache"))
    elif approach.startswith("pyhanko-"):
        verdicts = run_pyhanko(items, roots, approach == "pyhanko-shared")
    elif approach == "openssl":
        verdicts = run_openssl(items, spec["roots"])
    else:
        verdicts = run_floor(items)
    seconds = time.perf_counter() - started
    agree = sum(verdicts.get(p) == ok for p, _d, ok in items)
    return {"seconds": seconds, "n": len(items), "agree": agree, "rss_mb": _peak_rss_mb()}


# -- the orchestrating side ---------------------------------------------------------------------


@dataclass
class Row:
    kind: str
    approach: str
    n: int
    seconds: float
    agree: int
    rss_mb: float

    @property
    def per_second(self) -> float:
        return self.n / self.seconds

    @property
    def ms(self) -> float:
        return 1000 * self.seconds / self.n


def measure(
    approach: str, manifest: Path, roots: Path, n: int, kind: str, cache: Path | None = None
) -> Row:
    spec: dict[str, Any] = {
        "approach": approach,
        "manifest": str(manifest),
        "roots": str(roots),
        "n": n,
        "cache": str(cache) if cache else None,
    }
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bulk_verify", "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{approach} on {kind} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return Row(kind, approach, result["n"], result["seconds"], result["agree"], result["rss_mb"])


def measure_halves(manifest: Path, roots: Path, n: int, kind: str, cache: Path) -> Row:
    """Two hoso processes of 1 worker, each on every other one of the first ``n`` documents,
    started together, each with a revocation cache of its own: the time of the slower."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = []
    for i in range(2):
        spec = {
            "approach": "hoso-1",
            "manifest": str(manifest),
            "roots": str(roots),
            "n": n,
            "cache": str(cache.with_name(f"{cache.name}-half{i}")),
            "part": [i, 2],
            "together": True,
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks.bulk_verify", "--child", json.dumps(spec)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"half of {kind} failed:\n{proc.communicate()[1][-3000:]}")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"half of {kind} failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return Row(
        kind,
        "hoso-halves",
        sum(r["n"] for r in results),
        max(r["seconds"] for r in results),
        sum(r["agree"] for r in results),
        max(r["rss_mb"] for r in results),
    )


def measure_median(
    approach: str,
    manifest: Path,
    roots: Path,
    n: int,
    kind: str,
    repeat: int,
    cache: Path | None = None,
) -> Row:
    """The run of median time among ``repeat`` fresh runs (each hoso run with a revocation
    cache of its own: the first one's is ``cache``, the others start empty too)."""
    rows = []
    for r in range(repeat):
        where = cache if r == 0 or cache is None else cache.with_name(f"{cache.name}-rep{r}")
        rows.append(measure(approach, manifest, roots, n, kind, where))
    rows.sort(key=lambda row: row.seconds)
    return rows[len(rows) // 2]


def _print(lines: list[str], text: str = "") -> None:
    print(text, flush=True)
    lines.append(text)


def table(lines: list[str], rows: list[Row]) -> None:
    hoso1 = next((r for r in rows if r.approach == "hoso-1"), None)
    _print(
        lines,
        "| approach | docs | docs/s | ms/doc | hoso (1 worker) is this many times faster "
        "| peak RSS MB | agrees |",
    )
    _print(lines, "|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        ratio = f"{r.ms / hoso1.ms:.2f}" if hoso1 else "-"
        if r is hoso1:
            ratio = "-"
        _print(
            lines,
            f"| {NAMES[r.approach]} | {r.n} | {r.per_second:.1f} | {r.ms:.2f} | {ratio} | "
            f"{r.rss_mb:.0f} | {r.agree}/{r.n} |",
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bulk_verify")
    p.add_argument("--n", type=int, default=1000, help="documents per corpus")
    p.add_argument(
        "--n-fresh", type=int, default=200, help="documents for the fresh-context pyHanko loop"
    )
    p.add_argument("--kinds", default="bb,lt,two,cms", help="bb, lt, two, cms")
    p.add_argument("--scale", default="10000", help="hoso scaling rows on B-B ('' = none)")
    p.add_argument("--out", type=Path, default=None, help="corpus folder (default: temp)")
    p.add_argument("--markdown", type=Path, default=None, help="also write the tables here")
    p.add_argument("--repeat", type=int, default=1, help="hoso rows: the median of this many runs")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))), flush=True)
        return 0

    from fixtures.pki import start_services

    scales = [int(x) for x in args.scale.split(",") if x.strip()]
    base = args.out or Path(tempfile.mkdtemp(prefix="hoso-bench-"))
    lines: list[str] = []
    uname = " ".join(platform.uname())
    _print(lines, f"Machine: `{uname}`, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    _print(lines, f"Command: `python -m benchmarks.bulk_verify {' '.join(argv or sys.argv[1:])}`")
    services = start_services(at_time=NOW)
    results: dict[tuple[str, str, int], Row] = {}
    try:
        pki = services.pki
        roots = base / "roots.pem"
        base.mkdir(parents=True, exist_ok=True)
        roots.write_bytes(pki.cert_pem("vn-root") + pki.cert_pem("gov-root"))
        for kind in args.kinds.split(","):
            size = max([args.n, *scales]) if kind == "bb" else args.n
            t0 = time.perf_counter()
            corpus: Corpus = build(pki, base / f"{kind}", kind, size)
            manifest = corpus.write_manifest(base / f"{kind}.json")
            os.sync()  # the corpus's dirty pages are written out before anything is timed
            tampered = sum(not ok for ok in corpus.intact.values())
            _print(lines)
            _print(
                lines,
                f"### {KIND_NAMES[kind]}: {args.n} documents ({tampered * 100 / size:.1f}% "
                f"of the corpus tampered; corpus of {size} made in "
                f"{time.perf_counter() - t0:.0f} s)",
            )
            _print(lines)
            approaches = [a for a in APPROACHES if a != "openssl" or kind == "cms"]
            rows = []
            cache = base / f"cache-{kind}"
            for approach in approaches:
                n = args.n_fresh if approach == "pyhanko-fresh" else args.n
                kept = cache if approach in ("hoso-1", "hoso-1-warm") else None
                if approach in ("hoso-1", "hoso-2"):
                    row = measure_median(approach, manifest, roots, n, kind, args.repeat, kept)
                else:
                    row = measure(approach, manifest, roots, n, kind, kept)
                results[(kind, approach, args.n)] = row
                rows.append(row)
            table(lines, rows)
            if kind == "bb" and scales:
                _print(lines)
                _print(
                    lines, "Scaling (hoso on the first N documents of the B-B corpus, empty cache):"
                )
                _print(lines)
                scale_rows = [results[(kind, a, args.n)] for a in ("hoso-1", "hoso-2")]
                for n in scales:
                    for approach in ("hoso-1", "hoso-2"):
                        row = measure_median(approach, manifest, roots, n, kind, args.repeat)
                        results[(kind, approach, n)] = row
                        scale_rows.append(row)
                for n in [args.n, *scales]:
                    halves = sorted(
                        (
                            measure_halves(manifest, roots, n, kind, base / f"cache-halves-{n}-{r}")
                            for r in range(args.repeat)
                        ),
                        key=lambda row: row.seconds,
                    )
                    results[(kind, "hoso-halves", n)] = halves[len(halves) // 2]
                    scale_rows.append(halves[len(halves) // 2])
                _print(lines, "| approach | docs | docs/s | ms/doc | peak RSS MB | agrees |")
                _print(lines, "|---|---:|---:|---:|---:|---:|")
                for r in scale_rows:
                    _print(
                        lines,
                        f"| {NAMES[r.approach]} | {r.n} | {r.per_second:.1f} | {r.ms:.2f} | "
                        f"{r.rss_mb:.0f} | {r.agree}/{r.n} |",
                    )
    finally:
        services.stop()

    _print(lines)
    _print(lines, "### Targets")
    _print(lines)
    _print(lines, "| target | measured | met |")
    _print(lines, "|---|---:|---|")

    def ratio(kind: str, peer: str, n: int) -> float | None:
        a, b = results.get((kind, "hoso-1", n)), results.get((kind, peer, n))
        return (b.ms / a.ms) if a and b else None

    def target(text: str, value: float | None, goal: float, *, below: bool = False) -> None:
        if value is None:
            return
        met = value <= goal if below else value >= goal
        _print(lines, f"| {text} | {value:.2f} | {'yes' if met else 'no'} |")

    target(
        "B-B: hoso (1 worker) vs pyHanko fresh-context loop, ≥ 20x",
        ratio("bb", "pyhanko-fresh", args.n),
        20,
    )
    target(
        "B-LT: hoso (1 worker) vs pyHanko fresh-context loop, ≥ 15x",
        ratio("lt", "pyhanko-fresh", args.n),
        15,
    )
    target(
        "detached: hoso (1 worker) vs openssl per file, ≥ 5x", ratio("cms", "openssl", args.n), 5
    )
    for kind in args.kinds.split(","):
        floor = ratio(kind, "floor", args.n)
        if kind in ("bb", "lt"):  # the target is for single-signature PDFs
            target(
                f"{kind}: hoso (1 worker) time / floor time, ≤ 10",
                1 / floor if floor else None,
                10,
                below=True,
            )
        elif floor:
            _print(lines, f"| {kind}: hoso (1 worker) time / floor time (not a target) | "
                          f"{1 / floor:.2f} | - |")  # fmt: skip
    for n in [args.n, *scales]:
        one, two = results.get(("bb", "hoso-1", n)), results.get(("bb", "hoso-2", n))
        if one and two:
            target(f"B-B, {n} docs: 2 workers vs 1, ≥ 1.8x", one.seconds / two.seconds, 1.8)
        halves = results.get(("bb", "hoso-halves", n))
        if one and halves:
            ratio_halves = one.seconds / halves.seconds
            _print(lines, f"| B-B, {n} docs: two separate half-runs (sharing nothing) vs 1 "
                          f"worker, for comparison | {ratio_halves:.2f} | - |")  # fmt: skip
    if len(scales) >= 2:
        for approach in ("hoso-1", "hoso-2"):
            small, big = (
                results.get(("bb", approach, scales[0])),
                results.get(("bb", approach, scales[-1])),
            )
            if small and big:
                target(
                    f"{NAMES[approach]}: peak RSS at {scales[-1]} / at {args.n}, ≤ 1.20",
                    big.rss_mb / small.rss_mb, 1.2, below=True,
                )  # fmt: skip
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
