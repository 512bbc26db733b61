"""E-invoice verification in one warm process: hoso against the python-xmlsec loop.

    .venv/bin/python -m benchmarks.xml_steady [--n 1000] [--rounds 5]

``benchmarks.bulk_verify`` times each row in a fresh process over one run of ``--n``
invoices, so hoso's row also carries what only its first invoice costs: the full
validation (the signer's path, OCSP and CRL fetched from the demo responders) whose
report the template of every later invoice repeats. The python-xmlsec loop checks
signature values and reference digests only, so it has no such first document.

This benchmark separates the two. It starts the demo services on loopback, builds the
same e-invoice corpus, runs both approaches once over it (hoso's template is made, each
library has read its first document), then times ``--rounds`` rounds over all of it,
hoso and the loop in turn, in CPU time of this process, and prints a table of each
round and the medians. Both give every invoice the verdict the corpus expects (intact
ones pass, tampered ones do not), checked after each round.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bulk_verify import run_xmlsec
from benchmarks.corpus import NOW, build


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="invoices in the corpus")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds of each approach")
    args = p.parse_args(argv)

    from fixtures.pki import start_services
    from verify import TrustProfile, ValidationPolicy, Verifier
    from verify.bulk import BulkItem, verify_many
    from verify.cache import RevocationCache

    services = start_services(at_time=NOW)
    try:
        pki = services.pki
        folder = Path(tempfile.mkdtemp(prefix="hoso-xml-steady-"))
        corpus = build(pki, folder / "xml", "xml", args.n)
        items = [(str(f), None, corpus.intact[f]) for f in corpus.files]
        roots = [pki.cert(label) for label in ("vn-root", "gov-root")]
        trust = TrustProfile.custom(roots, name="demo")
        cache = RevocationCache.in_directory(folder / "cache")
        verifier = Verifier(trust, ValidationPolicy(validation_time=NOW), cache=cache)

        def hoso() -> dict[str, bool]:
            reports = verify_many(
                (BulkItem(path, None) for path, _d, _ok in items), verifier=verifier, workers=1
            )
            return {str(report.path): report.passed for report in reports}

        rows: dict[str, list[float]] = {"hoso, 1 process, templates made": [], "xmlsec": []}
        runs = {"hoso, 1 process, templates made": hoso, "xmlsec": lambda: run_xmlsec(items)}
        for run in runs.values():  # once, untimed: the template, each library's first read
            run()
        for _ in range(args.rounds):
            for name, run in runs.items():
                started = time.process_time()
                verdicts = run()
                rows[name].append((time.process_time() - started) / len(items) * 1e6)
                wrong = sum(verdicts.get(path) != ok for path, _d, ok in items)
                if wrong:
                    print(f"{name}: {wrong} verdicts not the corpus's", file=sys.stderr)
                    return 1
        print(f"Machine: {platform.machine()}, Python {platform.python_version()}")
        print(f"Command: python -m benchmarks.xml_steady --n {args.n} --rounds {args.rounds}")
        print()
        heads = " | ".join(f"round {k + 1}" for k in range(args.rounds))
        print(f"| approach | {heads} | median |")
        print("|---|" + "---:|" * (args.rounds + 1))
        for name, times in rows.items():
            cells = " | ".join(f"{t:.0f}" for t in times)
            print(f"| {name} (µs CPU a document) | {cells} | {statistics.median(times):.0f} |")
        ratio = statistics.median(rows["xmlsec"]) / statistics.median(
            rows["hoso, 1 process, templates made"]
        )
        print()
        print(f"hoso is {ratio:.2f}x as fast as the python-xmlsec loop (medians).")
    finally:
        services.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
