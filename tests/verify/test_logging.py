"""Logging in library use: hoso logs under ``hoso.*``; pyHanko's tracebacks of expected
failures (offline, no revocation data) never reach stderr, they go to DEBUG, and the cause
is in the report.

The batch runs in a fresh interpreter, as an application would use the library: no CLI, no
logging set up (Python's last-resort handler prints WARNING and above on stderr), or
``logging.basicConfig`` at WARNING or DEBUG. Documents from the demo PKI, validated offline
at a pinned time with hard revocation checking, so each lacks revocation data.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from pyhanko_certvalidator.errors import PathBuildingError

from tests.verify.conftest import PINNED_AT, Corpus
from verify import logs

BATCH = textwrap.dedent(
    """
    import json, logging, sys
    from datetime import datetime
    job = json.loads(sys.argv[1])
    if job["logging"] == "warning":
        logging.basicConfig(level=logging.WARNING)
    elif job["logging"] == "debug":
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s:%(name)s:%(message)s")
    import verify
    from verify import TrustProfile, ValidationPolicy, Verifier, verify_many
    if job["uninstall"]:
        verify.logs.uninstall()
    trust = TrustProfile.any().with_extra_anchors(job["trust"])
    policy = ValidationPolicy(
        validation_time=datetime.fromisoformat(job["at"]), network=False, revocation="hard"
    )
    verifier = Verifier(trust, policy)
    for _ in range(job["rounds"]):
        for path in job["files"]:
            r = verifier.verify(path)
            print(r.indication, r.sub_indication, r.message_en, sep="|")
        r = verifier.verify(job["content"], detached=job["signature"])
        print(r.indication, r.sub_indication, r.message_en, sep="|")
    for r in verify_many(job["files"], verifier=verifier):
        print(r.indication, r.sub_indication, r.message_en, sep="|")
    """
)


def run_batch(
    corpus: Corpus, *, logging_setup: str = "none", uninstall: bool = False
) -> subprocess.CompletedProcess[str]:
    job = {
        "logging": logging_setup,
        "uninstall": uninstall,
        "trust": str(corpus.trust_pem),
        "at": PINNED_AT.replace("Z", "+00:00"),
        "files": [
            str(corpus[n])
            for n in ("passed-bb.pdf", "passed-bt.pdf", "revoked.pdf", "tampered.pdf")
        ],
        "content": str(corpus["to-khai.xml"]),
        "signature": str(corpus["to-khai.xml.p7s"]),
        "rounds": 5,
    }
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", BATCH, json.dumps(job)],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, check=False,
    )  # fmt: skip


def verdicts(proc: subprocess.CompletedProcess[str]) -> list[list[str]]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [line.split("|") for line in proc.stdout.splitlines()]


def test_offline_batch_without_revocation_data_prints_nothing_on_stderr(
    verify_corpus: Corpus,
) -> None:
    """29 ordinary offline verifications, no logging set up: stderr is empty, and every
    report that could not settle revocation says so (TRY_LATER, with the reason)."""
    proc = run_batch(verify_corpus)
    found = verdicts(proc)
    assert proc.stderr == ""
    assert len(found) == 29
    undecided = [v for v in found if v[1] == "TRY_LATER"]
    assert len(undecided) >= 20  # B-B, B-T, the revoked signer, the detached pair
    assert all("revocation status" in v[2] for v in undecided)
    assert {v[1] for v in found} >= {"TRY_LATER", "HASH_FAILURE"}


def test_with_logging_configured_at_warning_stderr_stays_empty(verify_corpus: Corpus) -> None:
    """An application's ``basicConfig(level=WARNING)`` handler shows none of them either."""
    proc = run_batch(verify_corpus, logging_setup="warning")
    verdicts(proc)
    assert proc.stderr == ""


def test_with_debug_logging_the_tracebacks_are_there_at_debug_level(
    verify_corpus: Corpus,
) -> None:
    """An application that asks for DEBUG gets pyHanko's records, lowered to DEBUG, with
    their tracebacks: nothing is lost."""
    proc = run_batch(verify_corpus, logging_setup="debug")
    verdicts(proc)
    lines = proc.stderr.splitlines()
    assert any(
        line.startswith("DEBUG:pyhanko.sign.validation.generic_cms:Validation error")
        for line in lines
    )
    assert "InsufficientRevinfoError" in proc.stderr
    assert not any(line.startswith(("WARNING:pyhanko", "ERROR:pyhanko")) for line in lines)


def test_without_the_filter_pyhanko_would_print_its_tracebacks(verify_corpus: Corpus) -> None:
    """The control: ``verify.logs.uninstall()`` lets pyHanko's records through as it logs
    them, and the same batch fills stderr with tracebacks."""
    proc = run_batch(verify_corpus, uninstall=True)
    verdicts(proc)
    assert "Traceback" in proc.stderr
    assert "Validation error" in proc.stderr


# -- the filter itself -----------------------------------------------------------------------


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def generic_cms() -> Iterator[tuple[logging.Logger, Keep]]:
    """pyHanko's CMS validation logger with a handler of ours, restored afterwards."""
    logger = logging.getLogger("pyhanko.sign.validation.generic_cms")
    saved = (logger.level, logger.propagate)
    keep = Keep()
    logger.addHandler(keep)
    logger.propagate = False
    logs.install()
    try:
        yield logger, keep
    finally:
        logger.removeHandler(keep)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _log(logger: logging.Logger, exc: BaseException) -> None:
    try:
        raise exc
    except BaseException as caught:
        logger.warning("Validation error", exc_info=caught)


def test_an_expected_failure_is_lowered_to_debug(
    generic_cms: tuple[logging.Logger, Keep],
) -> None:
    """A certvalidator error: dropped while the logger is not enabled for DEBUG, passed on
    at DEBUG (with its traceback) once it is."""
    logger, keep = generic_cms
    logger.setLevel(logging.WARNING)
    _log(logger, PathBuildingError("no path to a trust anchor"))
    assert keep.records == []
    logger.setLevel(logging.DEBUG)
    _log(logger, PathBuildingError("no path to a trust anchor"))
    [record] = keep.records
    assert (record.levelno, record.levelname) == (logging.DEBUG, "DEBUG")
    assert record.exc_info is not None


def test_an_unexpected_error_and_a_plain_warning_pass_unchanged(
    generic_cms: tuple[logging.Logger, Keep],
) -> None:
    """A bug (KeyError) keeps its WARNING and traceback; a warning without an exception is
    not touched."""
    logger, keep = generic_cms
    logger.setLevel(logging.WARNING)
    _log(logger, KeyError("bug"))
    logger.warning("something to know")
    assert [(r.levelname, r.getMessage()) for r in keep.records] == [
        ("WARNING", "Validation error"),
        ("WARNING", "something to know"),
    ]


def test_hoso_logs_under_its_own_name_with_a_null_handler() -> None:
    """hoso's loggers are ``hoso.verify.*``; ``hoso`` has a NullHandler, nothing else."""
    assert logs.get_logger("dossier").name == "hoso.verify.dossier"
    handlers = logging.getLogger("hoso").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
    assert logging.getLogger("hoso").level == logging.NOTSET


def test_install_is_idempotent_and_uninstall_takes_every_filter_off() -> None:
    logger = logging.getLogger("pyhanko.sign.validation.generic_cms")
    logs.install()
    logs.install()
    assert sum(isinstance(f, logs.ExpectedFailures) for f in logger.filters) == 1
    logs.uninstall()
    assert not any(isinstance(f, logs.ExpectedFailures) for f in logger.filters)
    logs.install()


def test_cli_verbose_shows_pyhankos_warnings(verify_corpus: Corpus) -> None:
    """``verify -v`` (a real process): pyHanko's own warnings, tracebacks included, on
    stderr, as asked."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env["HOSO_CACHE_DIR"] = str(verify_corpus.root.parent / "cache-verbose")
    proc = subprocess.run(
        [
            sys.executable, "-m", "verify", "-v", "--offline", "--at", PINNED_AT,
            "--trust", str(verify_corpus.trust_pem), str(verify_corpus["passed-bb.pdf"]),
        ],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=240, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "pyhanko.sign.validation.generic_cms: WARNING: Validation error" in proc.stderr
    assert "Traceback" in proc.stderr


def test_cli_verbose_takes_the_filter_off_for_the_run_only() -> None:
    """While ``-v`` logging is on, pyHanko's records pass as pyHanko logs them; afterwards
    the filter is back, once."""
    from verify import cli

    logger = logging.getLogger("pyhanko.sign.validation.generic_cms")
    with cli._quiet_libraries(verbose=True):
        assert not any(isinstance(f, logs.ExpectedFailures) for f in logger.filters)
    assert sum(isinstance(f, logs.ExpectedFailures) for f in logger.filters) == 1
