"""``verify serve`` under load and faults, measured: throughput and p50/p95/p99 latency at
1, 8 and 64 concurrent clients beside the CLI's bulk throughput, a soak with the service's
RSS, and four fault runs.

    python -m benchmarks.service_load [--quick] [--n 300] [--docs 60] [--kinds bb,lt,two,xml]
                                      [--clients 1,8,64] [--workers 2] [--soak 600]
                                      [--read-timeout 10] [--out DIR]

Starts the demo OCSP/CRL/TSA services on loopback, builds a corpus per kind with
:mod:`benchmarks.corpus` (distinct, genuinely signed documents, about 5% tampered) and
starts ``python -m verify serve --port 0 --workers W`` (the demo roots as extra trust, the
corpus's validation time, an empty SQLite revocation cache). Everything is in this run:

- **Load.** Per kind, one cold pass (each document once, 4 clients), then ``--n`` requests
  cycling over the documents from each number of clients at once (asyncio streams: one
  keep-alive HTTP/1.1 connection per client sending requests encoded before the clock
  starts, so that the client spends as little of the shared CPU as it can; each cell
  bounded to ``--n`` requests and 300 s).
  Beside it, the ``verify`` command's bulk path (``verify.bulk.verify_many``) with
  ``--workers`` processes over ``--n`` documents cycling over the same ones (a process of
  its own, empty cache), just before and just after the service's cell with the most
  clients (the same other load on the machine): the CLI's bulk throughput, their mean.
- **Soak** (``--soak SECONDS``, 0 to skip): 8 clients over every kind's documents for that
  long; the RSS of the service's processes (supervisor and workers, summed) sampled every
  few seconds; first, last and largest sample.
- **Faults**, each while 8 bystander clients send ordinary requests: a client sending its
  body one byte a second (expected: 408 after ``--read-timeout``); clients hanging up
  halfway through a body, and right after sending it; a 1 GiB body announced with
  Content-Length, and one sent chunked from a generator (never held in memory), both
  expected 413 long before the gigabyte; the OCSP/CRL responder stopped mid-run against a
  second, cold service (expected: reports, TOTAL_PASSED from the cache or INDETERMINATE).
  For each: what the service answered, and the bystanders' 200s, 5xx and lost requests
  (no HTTP answer at all).

``--quick``: 12 documents per kind, 128 requests per cell, a 20 s soak, a 4 s read timeout.
The client runs on the same machine and takes its share of the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from benchmarks._service_common import (
    CELL_SECONDS,
    KIND_NAMES,
    NOW,
    Job,
    Service,
    bulk_measured,
    corpora,
    cpu_seconds,
    jobs_of,
    machine,
    quantile,
)

GIB = 1 << 30
CHUNK = 1 << 20
HEAD = "POST /v1/verify?filename=fault.pdf HTTP/1.1\r\nHost: x\r\n"


@dataclass
class Run:
    """Requests from concurrent clients: what came back."""

    label: str
    clients: int
    sent: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    indications: Counter[str] = field(default_factory=Counter)
    agree: int = 0
    lost: int = 0
    disagreements: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    service_cpu: float = 0.0
    """CPU seconds the service's processes used during the run (0: not measured)."""
    client_cpu: float = 0.0
    """CPU seconds this process (the clients) used during the run."""

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def quantile(self, q: float) -> float:
        return quantile(self.latencies, q)


def _request(path: str, name: str, data: bytes, sig: bytes | None) -> bytes:
    """One POST to the service, encoded once, before the clock starts."""
    if sig is None:
        head = (
            f"POST {path}?filename={quote(name)} HTTP/1.1\r\nHost: loopback\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        return head.encode() + data
    boundary = "hoso-load-" + "0" * 16
    body = (
        b"".join(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                f'filename="{quote(filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
            for field, filename, content in (
                ("document", name, data),
                ("signature", name + ".p7s", sig),
            )
        )
        + f"--{boundary}--\r\n".encode()
    )
    head = (
        f"POST {path} HTTP/1.1\r\nHost: loopback\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class _Connection:
    """One keep-alive HTTP/1.1 connection that sends pre-encoded requests and reads each
    answer's status and body: the least CPU a client can spend on a request (the load
    generator shares the machine with the service it measures)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, request: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):  # once more on a connection the service closed while idle
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            try:
                self.writer.write(request)
                await self.writer.drain()
                head = await self.reader.readuntil(b"\r\n\r\n")
            except (OSError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
                continue
            status = int(head.split(b" ", 2)[1])
            length = 0
            close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                key = name.strip().lower()
                if key == b"content-length":
                    length = int(value)
                elif key == b"connection" and value.strip().lower() == b"close":
                    close = True
            body = await self.reader.readexactly(length)
            if close:
                await self.close()
            return status, body
        raise OSError("unreachable")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def drive(
    url: str,
    jobs: list[Job],
    clients: int,
    run: Run,
    *,
    n: int | None = None,
    seconds: float = CELL_SECONDS,
) -> Run:
    """``n`` requests (or as many as fit in ``seconds``) cycling over ``jobs``."""
    counter = iter(range(n if n is not None else 1 << 62))
    deadline = time.monotonic() + seconds
    target = urlsplit(url)
    requests = [
        (name, _request(target.path, name, data, sig), intact) for name, data, sig, intact in jobs
    ]

    async def client(connection: _Connection) -> None:
        while time.monotonic() < deadline:
            i = next(counter, None)
            if i is None:
                return
            name, request, intact = requests[i % len(requests)]
            run.sent += 1
            started = time.perf_counter()
            try:
                status, body = await asyncio.wait_for(connection.post(request), 120)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                await connection.close()
                run.lost += 1
                run.failures[f"{type(exc).__name__}: {exc}"[:120]] += 1
                continue
            run.latencies.append(time.perf_counter() - started)
            run.statuses[status] += 1
            if status == 200:
                report = json.loads(body)
                indication = report["indication"]
                run.indications[indication] += 1
                if (indication == "TOTAL_PASSED") == intact:
                    run.agree += 1
                else:
                    run.disagreements.append(
                        f"{name} (intact: {intact}): {indication} {report.get('sub_indication')}"
                    )

    # each client its own keep-alive connection sending requests encoded before the clock
    # starts: an httpx client spends about 4 ms of CPU a request (19 ms with one pool shared
    # by 64 connections), as much as the service's own work, on the same two cores
    host, port = target.hostname or "127.0.0.1", target.port or 80
    connections = [_Connection(host, port) for _ in range(clients)]
    try:
        started = time.perf_counter()
        await asyncio.gather(*(client(c) for c in connections))
        run.seconds = time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.close()
    return run


# -- faults -------------------------------------------------------------------------------


async def _answer(reader: asyncio.StreamReader, wait: float) -> bytes:
    """What the service sent back within ``wait`` seconds (head and, if any, body)."""
    data = b""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            chunk = await asyncio.wait_for(reader.read(65536), deadline - time.monotonic())
        except (TimeoutError, OSError):
            break
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep and b"content-length" in head.lower():
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            if len(body) >= length:
                break
    return data


def _describe(raw: bytes) -> str:
    if not raw:
        return "no answer"
    status = raw.split(b" ", 2)[1].decode()
    error = b""
    if b'"error":"' in raw:
        error = raw.split(b'"error":"', 1)[1].split(b'"', 1)[0]
    return f"{status} {error.decode()}".strip()


async def slow_client(port: int, document: bytes, limit: float) -> str:
    """A body sent one byte a second: what the service answered, and after how long."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"{HEAD}Content-Length: {len(document)}\r\n\r\n"
    writer.write(head.encode())
    started = time.monotonic()
    answer = asyncio.ensure_future(_answer(reader, limit))
    for i in range(len(document)):
        if answer.done() or time.monotonic() - started > limit:
            break
        try:
            writer.write(document[i : i + 1])
            await writer.drain()
        except OSError:
            break
        await asyncio.wait([answer], timeout=1.0)
    raw = await answer
    writer.close()
    return f"{_describe(raw)} after {time.monotonic() - started:.1f} s"


async def hang_ups(port: int, document: bytes, count: int) -> str:
    """``count`` clients each hanging up halfway through the body, and ``count`` right
    after sending all of it (while it is validated)."""
    for sent in (len(document) // 2, len(document)):
        for _ in range(count):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            head = f"{HEAD}Content-Length: {len(document)}\r\n\r\n"
            writer.write(head.encode() + document[:sent])
            await writer.drain()
            writer.close()
            await asyncio.sleep(0.05)
    return f"{2 * count} clients hung up (half the body / all of it)"


def gibibyte() -> Iterator[bytes]:
    """1 GiB in 1 MiB chunks, one chunk in memory."""
    chunk = b"\0" * CHUNK
    for _ in range(GIB // CHUNK):
        yield chunk


async def huge_body(port: int, chunked: bool) -> str:
    """1 GiB streamed from a generator (announced by Content-Length, or chunked): what the
    service answered, bytes sent before it did, and how long it took."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {GIB}"
    writer.write(f"POST /v1/verify HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n".encode())
    started = time.monotonic()
    answer = asyncio.ensure_future(_answer(reader, 60))
    sent = 0
    for chunk in gibibyte():
        if answer.done() or time.monotonic() - started > 60:
            break
        try:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            await asyncio.wait_for(writer.drain(), 5)
        except (OSError, TimeoutError):
            break
        sent += len(chunk)
    raw = await answer
    writer.close()
    how = "chunked" if chunked else "Content-Length"
    return (
        f"{_describe(raw)} ({how}; {sent / CHUNK:.0f} MiB sent, {time.monotonic() - started:.1f} s)"
    )


@dataclass
class Fault:
    name: str
    answered: str
    bystanders: Run
    tracebacks: int


async def with_bystanders(
    label: str, url: str, jobs: list[Job], seconds: float, fault: Awaitable[str]
) -> tuple[str, Run]:
    bystanders = Run(label, 8)
    load = asyncio.ensure_future(drive(url, jobs, 8, bystanders, seconds=seconds))
    answered: str = await fault
    await load
    return answered, bystanders


# -- the run ------------------------------------------------------------------------------


def _load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine shows there."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.service_load")
    p.add_argument("--quick", action="store_true", help="small numbers, a short run")
    p.add_argument("--n", type=int, default=None, help="requests per cell (300)")
    p.add_argument("--docs", type=int, default=None, help="distinct documents per kind (60)")
    p.add_argument("--kinds", default="bb,lt,two,xml", help="corpus kinds: bb, lt, two, xml")
    p.add_argument("--clients", default="1,8,64", help="concurrent clients per cell")
    p.add_argument("--workers", type=int, default=2, help="service (and bulk) processes")
    p.add_argument("--soak", type=float, default=None, help="soak seconds (600; 0: none)")
    p.add_argument("--read-timeout", type=float, default=None, help="service's (10 s)")
    p.add_argument("--out", type=Path, default=None, help="work folder (default: temp)")
    args = p.parse_args(argv)
    n = args.n or (128 if args.quick else 300)
    docs = args.docs or (12 if args.quick else 60)
    soak = args.soak if args.soak is not None else (20.0 if args.quick else 600.0)
    read_timeout = args.read_timeout or (4.0 if args.quick else 10.0)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    client_counts = [int(c) for c in args.clients.split(",")]

    from fixtures.pki import start_services

    base = args.out or Path(tempfile.mkdtemp(prefix="hoso-bench-load-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}")
    print(f"Load average at start: {_load()}")
    given = argv if argv is not None else sys.argv[1:]
    print(f"Command: python -m benchmarks.service_load {' '.join(given)}")
    print(f"Service: --workers {args.workers} --read-timeout {read_timeout:g}; {docs} docs/kind")

    services = start_services(at_time=NOW)
    services_up = True
    cold: list[Run] = []
    cells: list[Run] = []
    rates: dict[str, float] = {}
    bulk_runs: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
    samples: list[tuple[float, float]] = []
    soak_run: Run | None = None
    faults: list[Fault] = []
    try:
        roots, built = corpora(services.pki, base, kinds, docs)
        jobs = {kind: jobs_of(corpus) for kind, corpus in built.items()}
        every = [job for kind in kinds for job in jobs[kind]]
        service = Service(args.workers, roots, base / "service", read_timeout=read_timeout)
        try:
            top = max(client_counts)
            for kind in kinds:
                name = KIND_NAMES.get(kind, kind)
                run = Run(f"{name} (cold pass)", 4)
                cold.append(asyncio.run(drive(service.url, jobs[kind], 4, run, n=len(jobs[kind]))))
                for clients in client_counts:
                    if clients == top:  # the bulk path just before and just after this cell
                        bulk_runs[kind].append(bulk_measured(built[kind], roots, args.workers, n))
                    run = Run(name, clients)
                    service_cpu, client_cpu = cpu_seconds(service.pids), time.process_time()
                    cells.append(asyncio.run(drive(service.url, jobs[kind], clients, run, n=n)))
                    run.service_cpu = cpu_seconds(service.pids) - service_cpu
                    run.client_cpu = time.process_time() - client_cpu
                    if clients == top:
                        bulk_runs[kind].append(bulk_measured(built[kind], roots, args.workers, n))
                    print(
                        f"  {name}, {clients} client(s): {run.per_second:.1f} req/s "
                        f"(load {_load()})",
                        file=sys.stderr,
                    )
                rates[kind] = sum(r for r, _cpu in bulk_runs[kind]) / len(bulk_runs[kind])
            if soak > 0:
                soak_run = Run("soak", 8)

                async def soaking() -> None:
                    assert soak_run is not None
                    load = asyncio.ensure_future(
                        drive(service.url, every, 8, soak_run, seconds=soak)
                    )
                    started = time.monotonic()
                    step = max(1.0, min(10.0, soak / 20))
                    while not load.done():
                        samples.append((time.monotonic() - started, service.rss_mb()))
                        await asyncio.wait([load], timeout=step)
                    samples.append((time.monotonic() - started, service.rss_mb()))

                asyncio.run(soaking())
            pdf = built[kinds[0]].files[0].read_bytes()
            window = read_timeout + 4
            faulty: list[tuple[str, Callable[[], Awaitable[str]]]] = [
                ("one byte a second", lambda: slow_client(service.port, pdf, read_timeout + 3)),
                ("disconnect mid-request", lambda: hang_ups(service.port, pdf, 10)),
                ("1 GiB body, Content-Length", lambda: huge_body(service.port, False)),
                ("1 GiB body, chunked", lambda: huge_body(service.port, True)),
            ]
            for label, make in faulty:
                before = service.tracebacks()
                answered, bystanders = asyncio.run(
                    with_bystanders(label, service.url, every, window, make())
                )
                faults.append(Fault(label, answered, bystanders, service.tracebacks() - before))
            rss_after = service.rss_mb()
        finally:
            service.stop()

        # a cold service (empty cache, no templates); the responder stops after 1 s
        cold_service = Service(
            args.workers, roots, base / "service-ocsp", read_timeout=read_timeout
        )
        try:

            async def responder_down() -> str:
                await asyncio.sleep(1.0)
                await asyncio.to_thread(services.stop)
                return "OCSP/CRL/TSA responder stopped after 1 s"

            answered, bystanders = asyncio.run(
                with_bystanders("OCSP down", cold_service.url, every, 8.0, responder_down())
            )
            services_up = False
            faults.append(
                Fault("OCSP responder stopped", answered, bystanders, cold_service.tracebacks())
            )
        finally:
            cold_service.stop()
    finally:
        if services_up:
            services.stop()

    print(f"Load average at the end: {_load()}")
    print()
    print(
        "| documents | clients | requests | req/s | p50 ms | p95 ms | p99 ms | agree | 5xx | lost |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in [*cold, *cells]:
        print(
            f"| {r.label} | {r.clients} | {r.answered} | {r.per_second:.1f} | "
            f"{r.quantile(0.5):.0f} | {r.quantile(0.95):.0f} | {r.quantile(0.99):.0f} | "
            f"{r.agree}/{r.answered} | {r.server_errors} | {r.lost} |"
        )
    for r in [*cold, *cells]:
        for text in r.disagreements[:5]:
            print(f"  disagrees with the corpus: {r.label}, {r.clients} clients: {text}")
    print()
    top = max(client_counts)
    print(
        f"| documents | CLI bulk path, verify_many ({args.workers} workers) docs/s, before "
        f"/ after the cell | mean | service at {top} clients req/s | ratio |"
    )
    print("|---|---|---:|---:|---:|")
    for kind, rate in rates.items():
        name = KIND_NAMES.get(kind, kind)
        served = [r for r in cells if r.label == name and r.clients == top]
        got = served[0].per_second if served else 0.0
        both = " / ".join(f"{r:.1f}" for r, _cpu in bulk_runs[kind])
        print(f"| {name} | {both} | {rate:.1f} | {got:.1f} | {got / rate:.0%} |")
    print(
        "verify_many's time includes starting its worker processes and their first (cold)"
        " validations, as the CLI's does; the service's cells were measured warm. The bulk"
        " path ran just before and just after the service's cell, so that both meet the same"
        " other load on the machine."
    )
    print()
    print(
        f"| documents | bulk path CPU ms/doc, before / after | service CPU ms/request at {top}"
        " clients (all its processes) | client CPU ms/request | service throughput at equal"
        " CPU, as a share of the bulk path's |"
    )
    print("|---|---|---:|---:|---:|")
    for kind in rates:
        name = KIND_NAMES.get(kind, kind)
        served = [r for r in cells if r.label == name and r.clients == top]
        if not served or not served[0].answered:
            continue
        r = served[0]
        spent = [cpu for _rate, cpu in bulk_runs[kind]]
        per_request = r.service_cpu * 1000 / r.answered
        share = (sum(spent) / len(spent)) / per_request if per_request else 0.0
        print(
            f"| {name} | {' / '.join(f'{c:.2f}' for c in spent)} | {per_request:.2f} | "
            f"{r.client_cpu * 1000 / r.answered:.2f} | {share:.0%} |"
        )
    print(
        "CPU time is what other work on the machine changes least: the last column is the"
        " bulk path's CPU per document over the service's, the throughput ratio the two"
        " would have on the same free cores (the clients' CPU aside)."
    )
    if soak_run is not None and samples:
        rss = [mb for _, mb in samples]
        print()
        print(
            f"Soak: {soak:g} s, 8 clients, {soak_run.answered} requests "
            f"({soak_run.per_second:.1f} req/s), p99 {soak_run.quantile(0.99):.0f} ms, "
            f"5xx {soak_run.server_errors}, lost {soak_run.lost}; RSS of the service's "
            f"processes (MB, {len(rss)} samples): first {rss[0]:.0f}, last {rss[-1]:.0f}, "
            f"max {max(rss):.0f}; after the fault runs {rss_after:.0f}"
        )
    print()
    print(
        "| fault | the service answered | bystanders 200 | 5xx | lost "
        "| bystanders' verdicts | tracebacks in log |"
    )
    print("|---|---|---:|---:|---:|---|---:|")
    for f in faults:
        b = f.bystanders
        other = ", ".join(f"{k}: {v}" for k, v in sorted(b.indications.items()))
        print(
            f"| {f.name} | {f.answered} | {b.statuses.get(200, 0)}/{b.sent} | "
            f"{b.server_errors} | {b.lost} | {other} | {f.tracebacks} |"
        )
    for r in [*cold, *cells, *(f.bystanders for f in faults)]:
        for text, count in r.failures.most_common(5):
            print(f"  lost ({r.label}, {r.clients} clients): {count} x {text}")
    if args.out is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
