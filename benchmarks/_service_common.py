"""What :mod:`benchmarks.service` and :mod:`benchmarks.service_load` share: the corpora,
``verify serve`` started in a process of its own, and the bulk path over the same
documents for comparison."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import NOW, Corpus, build

__all__ = [
    "CELL_SECONDS",
    "KIND_NAMES",
    "NOW",
    "REPO",
    "Job",
    "Service",
    "bulk",
    "bulk_measured",
    "corpora",
    "cpu_seconds",
    "jobs_of",
    "machine",
    "quantile",
]
from fixtures.pki import DemoPKI

REPO = Path(__file__).resolve().parents[1]
KIND_NAMES = {"bb": "PAdES B-B", "lt": "PAdES B-LT", "two": "two signatures", "xml": "e-invoice"}
CELL_SECONDS = 300.0
"""Longest time one cell of requests may run."""

Job = tuple[str, bytes, bytes | None, bool]
"""One request: file name, body, detached signature (multipart) or None, intact."""


def machine() -> str:
    """One line about this machine and Python."""
    cpus = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    return f"{cpus}, {platform.platform()}"


def corpora(
    pki: DemoPKI, base: Path, kinds: list[str], docs: int
) -> tuple[Path, dict[str, Corpus]]:
    """The demo roots as a PEM file (the service's extra trust) and ``docs`` documents of
    each kind, in ``base``."""
    base.mkdir(parents=True, exist_ok=True)
    roots = base / "roots.pem"
    roots.write_bytes(pki.cert_pem("vn-root") + pki.cert_pem("gov-root"))
    return roots, {kind: build(pki, base / kind, kind, docs) for kind in kinds}


def jobs_of(corpus: Corpus) -> list[Job]:
    out = []
    for path in corpus.files:
        sig = corpus.detached.get(path)
        out.append(
            (path.name, path.read_bytes(), sig.read_bytes() if sig else None, corpus.intact[path])
        )
    return out


def quantile(latencies: list[float], q: float) -> float:
    """The ``q`` quantile of ``latencies`` (seconds), in milliseconds (0 if none)."""
    if not latencies:
        return 0.0
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class Service:
    """``python -m verify serve --port 0`` in a process of its own: the demo roots as extra
    trust, the corpus's validation time, an empty SQLite revocation cache in ``folder``,
    ``--max-pending 1024`` (a benchmark measures waiting, not refusals). Its JSON log
    lines, its processes' pids and their RSS."""

    def __init__(
        self,
        workers: int,
        roots: Path,
        folder: Path,
        *,
        read_timeout: float | None = None,
        name: str = "serve",
        extra: tuple[str, ...] = (),
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / f"{name}.log"
        cache = folder / f"{name}-cache"
        shutil.rmtree(cache, ignore_errors=True)
        at = NOW.isoformat().replace("+00:00", "Z")
        argv = [
            sys.executable,
            "-m",
            "verify",
            "serve",
            "--port",
            "0",
            "--workers",
            str(workers),
            "--trust",
            str(roots),
            "--at",
            at,
            "--cache",
            str(cache),
            "--max-pending",
            "1024",
            *extra,
        ]
        if read_timeout is not None:
            argv += ["--read-timeout", str(read_timeout)]
        with self.log.open("wb") as err:
            self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=REPO)
        self.port = 0
        self.pids: set[int] = {self.process.pid}
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            lines = self.lines()
            ports = [line["port"] for line in lines if line.get("message") == "listening"]
            ready = {line["pid"] for line in lines if line.get("message") == "ready to serve"}
            if ports and len(ready) >= workers:
                self.port = ports[0]
                self.pids |= {int(pid) for pid in ready}
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"verify serve did not start:\n{self.log.read_text()}")

    def lines(self) -> list[dict[str, Any]]:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        out = []
        for line in text.splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    out.append(json.loads(line))
        return out

    def tracebacks(self) -> int:
        return self.log.read_text(encoding="utf-8", errors="replace").count("Traceback")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/verify"

    def rss_mb(self) -> float:
        """The resident memory of the supervisor and its workers, summed (MB)."""
        total = 0
        for pid in self.pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def bulk(corpus: Corpus, roots: Path, workers: int, n: int | None = None) -> float:
    """Documents per second of the bulk path (see :func:`bulk_measured`)."""
    return bulk_measured(corpus, roots, workers, n)[0]


def bulk_measured(
    corpus: Corpus, roots: Path, workers: int, n: int | None = None
) -> tuple[float, float]:
    """Documents per second, and milliseconds of CPU per document (its process and its
    workers, user and system, from the moment the run starts: what another load on the
    machine does not change much), of ``verify_many`` (the ``verify`` command's bulk path) with
    ``workers`` processes over the corpus, or over ``n`` documents cycling over it (as the
    service's cells do), with an empty cache, in a process of its own that has no other
    thread (as the command's: its workers are forked warm; in this process, which runs the
    demo responders' threads, they would be spawned). The time includes starting the
    workers and their first (cold) validations, as the command's does, not the
    interpreter's start."""
    docs = [
        (str(p), str(corpus.detached[p]) if p in corpus.detached else None, corpus.intact[p])
        for p in corpus.files
    ]
    items = list(itertools.islice(itertools.cycle(docs), n)) if n else docs
    folder = Path(tempfile.mkdtemp(prefix="hoso-bench-"))
    try:
        (folder / "items.json").write_text(json.dumps(items), encoding="utf-8")
        argv = [sys.executable, "-m", "benchmarks._service_common", str(folder), str(roots)]
        done = subprocess.run(
            [*argv, str(workers)], cwd=REPO, capture_output=True, text=True, check=True
        )
        rate, cpu = done.stdout.split()[-2:]
        return float(rate), float(cpu)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _bulk_here(folder: Path, roots: Path, workers: int) -> tuple[float, float]:
    from benchmarks.bulk_verify import run_hoso
    from verify.trust import load_certificates

    items = [tuple(item) for item in json.loads((folder / "items.json").read_text())]
    anchors = list(load_certificates(roots))
    cpu = _cpu_of_self_and_children()
    started = time.perf_counter()
    run_hoso(items, anchors, workers, str(folder / "cache"))  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    cpu = _cpu_of_self_and_children() - cpu  # the workers were waited for: counted
    return len(items) / seconds, cpu * 1000 / len(items)


def _cpu_of_self_and_children() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def cpu_seconds(pids: set[int]) -> float:
    """The CPU time (user and system) these processes have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


if __name__ == "__main__":
    rate, cpu = _bulk_here(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
    print(f"{rate:.3f} {cpu:.3f}")
