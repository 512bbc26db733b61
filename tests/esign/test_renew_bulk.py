"""``esign renew`` over many documents: on a Dask cluster (real worker processes, chunks of
documents) with the outcomes of the local run, and with ``--evidence``, which keeps what
the validation before each renewal rested on so that it can be replayed offline."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

import esign
from esign import cli
from fixtures.documents import demo_signer, minimal_pdf, pinned
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.esign.test_renew import CONTENT, DUE_BEFORE, tsa_2027
from verify import Indication, TrustProfile, ValidationPolicy, Verifier

pytest.importorskip("distributed")


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    """The clock starts at PINNED_NOW and ticks: the Dask scheduler and client run in this
    process, and a clock that stands still stops them (the conftest's clock stands still)."""
    with time_machine.travel(PINNED_NOW, tick=True):
        yield


def _pin_worker_clock(at: datetime) -> str:
    """Run in each Dask worker: its clock starts at ``at`` and ticks, as this process's."""
    time_machine.travel(at, tick=True).start()
    return datetime.now(UTC).isoformat()


@pytest.fixture(scope="module")
def many(
    demo_pki: DemoPKI, public_trust: TrustProfile, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Twelve documents, three chunks of four: six PDFs whose last timestamp lapses in 2027
    (due), three that last until 2039 (not due), two detached CAdES-B-LTA (due) and a PDF
    that holds no signature (refused)."""
    folder = tmp_path_factory.mktemp("many") / "docs"
    folder.mkdir()
    signer = demo_signer(demo_pki, "citizen")
    short, long = tsa_2027(demo_pki), demo_pki.tsa_url("public")
    with pinned(PINNED_NOW):
        for i in range(9):
            esign.sign_pdf(
                minimal_pdf(f"Hồ sơ số {i}"),
                folder / f"doc{i:02}.pdf",
                signer,
                level="B-LTA",
                trust=public_trust,
                tsa_url=short if i < 6 else long,
            )
        for i in range(2):
            content = folder / f"form{i}.xml"
            content.write_bytes(CONTENT.replace(b"0001", f"000{i + 2}".encode()))
            esign.sign_detached(
                content, folder / f"form{i}.xml.p7s", signer, level="B-B", trust=public_trust
            )
            esign.augment_cms(
                folder / f"form{i}.xml.p7s",
                folder / f"form{i}.xml.p7s",
                level="B-LTA",
                content=content,
                trust=public_trust,
                tsa_url=short,
            )
    (folder / "zz-not-signed.pdf").write_bytes(minimal_pdf("chưa ký"))
    return folder


def _renew_cli(
    folder: Path, root: Path, tsa: str, state: Path, capsys: Any, *more: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(
        [
            "renew",
            str(folder),
            "--due-before",
            DUE_BEFORE.date().isoformat(),
            "--tsa",
            tsa,
            "--profile",
            "public",
            "--trust",
            str(root),
            "--state",
            str(state),
            *more,
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _outcomes(state: Path, folder: Path) -> dict[str, dict[str, Any]]:
    """The state file's outcomes by file name, without what differs from run to run (the
    renewed bytes' hash: each timestamp token has its own nonce and serial number)."""
    found = {}
    for line in state.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        item.pop("sha256")
        item["path"] = str(Path(item["path"]).relative_to(folder))
        found[item["path"]] = item
    return found


def test_renew_on_a_dask_cluster_gives_the_outcomes_of_the_local_run(
    demo_pki: DemoPKI, public_trust: TrustProfile, many: Path, p12_dir: Path, tmp_path: Path, capsys
) -> None:
    """``esign renew FOLDER --dask ADDRESS`` on a LocalCluster of two worker processes, in
    chunks of four documents: the same outcome for each document as one local process
    (renewed, not due, refused, with the same dates and additions), one progress line per
    document, the same summary and exit status; the workers keep each renewal's evidence
    in the shared folder; the state file, written by this process as chunks come back, lets
    a second Dask run skip them all; the renewed files verify."""
    from distributed import Client, LocalCluster

    root, tsa = p12_dir / "public-root.pem", demo_pki.tsa_url("public")
    local_dir, dask_dir = tmp_path / "local", tmp_path / "dask"
    shutil.copytree(many, local_dir)
    shutil.copytree(many, dask_dir)
    local = _renew_cli(local_dir, root, tsa, tmp_path / "local.jsonl", capsys)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        clocks = client.run(_pin_worker_clock, PINNED_NOW)
        assert len(clocks) == 2
        state = tmp_path / "dask.jsonl"
        evidence = tmp_path / "evidence"
        remote = _renew_cli(
            dask_dir,
            root,
            tsa,
            state,
            capsys,
            "--dask",
            cluster.scheduler_address,
            "--evidence",
            str(evidence),
        )
        again = _renew_cli(dask_dir, root, tsa, state, capsys, "--dask", cluster.scheduler_address)
        workers = {w["id"] for w in client.scheduler_info()["workers"].values()}
    assert len(workers) == 2
    expected = _outcomes(tmp_path / "local.jsonl", local_dir)
    assert [o["status"] for o in expected.values()] == ["renewed"] * 6 + ["not_due"] * 3 + [
        "renewed",
        "renewed",
        "refused",
    ]
    assert _outcomes(state, dask_dir) == expected
    assert remote[0] == local[0] == 1  # the document that is not signed
    summary = "8 renewed, 3 not due, 1 refused, 0 failed, 0 skipped"
    assert local[1].rstrip().endswith(summary)
    assert remote[1].rstrip().endswith(summary)
    progress = [line for line in remote[2].splitlines() if line.startswith("esign renew: [")]
    assert remote[2].splitlines()[len(progress) :] == [f"esign renew: evidence kept in {evidence}"]
    assert sorted(line.split("] ", 1)[1] for line in progress) == sorted(
        line.split("] ", 1)[1].replace(str(local_dir), str(dask_dir))
        for line in local[2].splitlines()
    )
    assert [line.split("] ")[0] for line in progress] == [
        f"esign renew: [{n}/12" for n in range(1, 13)
    ]
    kept = {  # a .p7s's under its content's folder, in signatures/<its SHA-256>/
        json.loads(found.read_text(encoding="utf-8"))["path"]
        for found in evidence.rglob("renewal.json")
    }
    assert sorted(Path(p).name for p in kept) == [
        *(f"doc0{i}.pdf" for i in range(6)),
        "form0.xml.p7s",
        "form1.xml.p7s",
    ]
    assert again[1].rstrip().endswith("0 renewed, 0 not due, 1 refused, 0 failed, 11 skipped")
    checker = Verifier(public_trust, ValidationPolicy(validation_time=PINNED_NOW, network=False))
    for name in ("doc00.pdf", "doc05.pdf"):
        report = checker.verify(dask_dir / name)
        assert report.indication is Indication.TOTAL_PASSED, report.message_en
        assert report.signatures[-1].kind == "document_timestamp"
    cades = checker.verify(dask_dir / "form1.xml", detached=dask_dir / "form1.xml.p7s")
    assert cades.indication is Indication.TOTAL_PASSED, cades.message_en
    assert [t.kind for t in cades.signatures[0].timestamps] == ["signature", "archive", "archive"]


def test_renew_with_worker_processes_gives_the_outcomes_of_one_process(
    demo_pki: DemoPKI, public_trust: TrustProfile, many: Path, tmp_path: Path
) -> None:
    """``workers=2`` (spawned processes, whose clocks are not pinned: the validation time
    is the policy's) renews the same documents with the same outcomes, returned in the
    order of the documents."""
    policy = ValidationPolicy(validation_time=PINNED_NOW)
    runs = []
    for workers in (1, 2):
        folder = tmp_path / f"w{workers}"
        shutil.copytree(many, folder)
        outcomes = esign.renew(
            [folder],
            due_before=DUE_BEFORE,
            trust=public_trust,
            policy=policy,
            tsa_url=demo_pki.tsa_url("public"),
            workers=workers,
        )
        runs.append(
            [
                (Path(o.path).name, o.status, o.due, o.next_due, o.added, o.message_en)
                for o in outcomes
            ]
        )
    assert runs[0] == runs[1]
    assert [r[1] for r in runs[1]].count("renewed") == 8
