"""``verify serve`` under load: requests per second and latency with 1, 4 and 8 concurrent
clients, the service running with 1 and 2 worker processes.

    python -m benchmarks.service [--n 300] [--kinds bb,lt] [--clients 1,4,8] [--workers 1,2]
                                 [--bulk] [--out DIR]

Starts the demo OCSP/CRL/TSA services on loopback, builds a corpus per kind with
:mod:`benchmarks.corpus` (distinct, genuinely signed documents; about 5% tampered), and for
each worker count starts ``python -m verify serve --port 0 --workers W`` with the demo
roots as extra trust, the corpus's validation time (``--at``) and an empty SQLite
revocation cache. Each kind is first sent once through the service (one request per
document, 4 clients: the cold pass that fetches OCSP/CRL answers and makes the fast path's
templates, reported on its own line), then, for each client count, ``--n`` requests
cycling over the documents are sent by that many clients at once (httpx, one keep-alive
connection per client), and the run of each cell is bounded to ``--n`` requests and 300 s.

For each cell: requests, requests per second (requests / wall time), p50 and p95 latency
(request sent to answer read, at the client), and how many answers agreed with the corpus
(TOTAL_PASSED if and only if intact). The client runs on the same machine and takes its
share of the CPU. With ``--bulk``, ``--n`` documents cycling over the same ones through
``verify.bulk.verify_many`` in this process (1 and 2 workers, empty cache) for comparison.
What it shares with :mod:`benchmarks.service_load` is in :mod:`benchmarks._service_common`.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks._service_common import (
    CELL_SECONDS,
    KIND_NAMES,
    NOW,
    Job,
    Service,
    bulk,
    corpora,
    jobs_of,
    machine,
    quantile,
)


@dataclass
class Cell:
    kind: str
    workers: int
    clients: int
    requests: int
    seconds: float
    latencies: list[float]
    agree: int
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        return quantile(self.latencies, q)


async def load(
    url: str, jobs: list[Job], n: int, clients: int
) -> tuple[float, list[float], int, int]:
    """``n`` requests over ``jobs`` from ``clients`` concurrent clients: wall time,
    latencies, answers that agree with the corpus, errors."""
    latencies: list[float] = []
    counts = {"agree": 0, "errors": 0}
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(jobs[i % len(jobs)])
    deadline = time.monotonic() + CELL_SECONDS

    async def client() -> None:
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=1)) as http:
            while not queue.empty() and time.monotonic() < deadline:
                name, data, sig, intact = queue.get_nowait()
                started = time.perf_counter()
                try:
                    if sig is None:
                        response = await http.post(url, content=data, params={"filename": name})
                    else:
                        response = await http.post(
                            url, files={"document": (name, data), "signature": (name + ".p7s", sig)}
                        )
                except httpx.HTTPError:
                    counts["errors"] += 1
                    continue
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    counts["errors"] += 1
                    continue
                passed = response.json()["indication"] == "TOTAL_PASSED"
                counts["agree"] += passed == intact

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies, counts["agree"], counts["errors"]


def measure(
    service: Service, kind: str, workers: int, jobs: list[Job], n: int, clients: int
) -> Cell:
    seconds, latencies, agree, errors = asyncio.run(load(service.url, jobs, n, clients))
    return Cell(kind, workers, clients, len(latencies), seconds, latencies, agree, errors)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.service")
    p.add_argument("--n", type=int, default=300, help="requests per cell")
    p.add_argument("--kinds", default="bb,lt", help="corpus kinds: bb, lt, two, cms, xml")
    p.add_argument("--clients", default="1,4,8", help="concurrent clients per cell")
    p.add_argument("--workers", default="1,2", help="service worker processes")
    p.add_argument("--docs", type=int, default=100, help="distinct documents per kind")
    p.add_argument(
        "--bulk", action="store_true", help="also time verify_many on the same documents"
    )
    p.add_argument("--out", type=Path, default=None, help="work folder (default: temp)")
    args = p.parse_args(argv)

    from fixtures.pki import start_services

    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    client_counts = [int(c) for c in args.clients.split(",")]
    worker_counts = [int(w) for w in args.workers.split(",")]
    base = args.out or Path(tempfile.mkdtemp(prefix="hoso-bench-service-"))
    print(f"Machine: {machine()}")
    given = argv if argv is not None else sys.argv[1:]
    print(f"Command: python -m benchmarks.service {' '.join(given)}")
    services = start_services(at_time=NOW)
    cells: list[Cell] = []
    cold: list[Cell] = []
    bulk_rates: dict[tuple[str, int], float] = {}
    try:
        roots, built = corpora(services.pki, base, kinds, args.docs)
        jobs = {kind: jobs_of(corpus) for kind, corpus in built.items()}
        for workers in worker_counts:
            service = Service(workers, roots, base, name=f"serve-{workers}")
            try:
                for kind in kinds:
                    cold.append(measure(service, kind, workers, jobs[kind], len(jobs[kind]), 4))
                    for clients in client_counts:
                        cells.append(measure(service, kind, workers, jobs[kind], args.n, clients))
                        last = cells[-1]
                        name = KIND_NAMES.get(kind, kind)
                        print(
                            f"  {name}, {workers} worker(s), {clients} client(s): "
                            f"{last.per_second:.1f} req/s",
                            file=sys.stderr,
                        )
            finally:
                service.stop()
        if args.bulk:
            for kind in kinds:
                for workers in worker_counts:
                    bulk_rates[(kind, workers)] = bulk(built[kind], roots, workers, args.n)
    finally:
        services.stop()

    print()
    print("| documents | workers | clients | requests | req/s | p50 ms | p95 ms | agree | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c, label in [*((c, " (cold pass)") for c in cold), *((c, "") for c in cells)]:
        print(
            f"| {KIND_NAMES.get(c.kind, c.kind)}{label} | {c.workers} | {c.clients} | "
            f"{c.requests} | {c.per_second:.1f} | {c.quantile(0.5):.1f} | "
            f"{c.quantile(0.95):.1f} | {c.agree}/{c.requests} | {c.errors} |"
        )
    if bulk_rates:
        print()
        print("| documents | verify_many workers | documents/s |")
        print("|---|---:|---:|")
        for (kind, workers), rate in bulk_rates.items():
            print(f"| {KIND_NAMES.get(kind, kind)} | {workers} | {rate:.1f} |")
    if args.out is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
