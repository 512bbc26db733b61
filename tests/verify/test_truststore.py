"""The local trust store and ``verify trust``: what it adds, refuses, logs and lends to ``verify``.

Certificates are made here with ``cryptography`` (a root, an intermediate under it, a sub-CA
under that, a leaf, a timestamping certificate, an unknown root with its own CA, and a
forgery: the intermediate's names on another key). Every store lives in ``tmp_path`` and
the clock is pinned.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.conftest import PINNED_NOW
from tests.verify.conftest import PINNED_AT, Corpus
from verify import cli
from verify.trust import (
    TrustDataVersion,
    TrustProfile,
    bundled_catalog,
    bundled_trust_version,
    fingerprint,
    load_certificates,
)
from verify.trust import trust_data_age_warning as age_warning
from verify.truststore import STORE_ENV, TrustStore

VALID_FROM = datetime(2025, 1, 1, tzinfo=UTC)
VALID_TO = datetime(2030, 1, 1, tzinfo=UTC)
BUNDLED = len(bundled_catalog())


# -- a small PKI ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def sha256(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Thử nghiệm"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _issue(
    cn: str,
    issuer: Issued | None,
    *,
    ca: bool | None,
    issuer_name: x509.Name | None = None,
    valid: tuple[datetime, datetime] = (VALID_FROM, VALID_TO),
    timestamping: bool = False,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_name or (issuer.cert.subject if issuer else _name(cn)))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
    if timestamping:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True
        )
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


@dataclass(frozen=True)
class PKI:
    root: Issued
    inter: Issued
    sub: Issued
    leaf: Issued
    tsa: Issued
    expired_root: Issued
    stranger_root: Issued
    stranger_ca: Issued
    forged: Issued


@pytest.fixture(scope="module")
def pki() -> PKI:
    root = _issue("Gốc thử nghiệm", None, ca=True)
    inter = _issue("CA trung gian", root, ca=True)
    stranger_root = _issue("Gốc lạ", None, ca=True)
    return PKI(
        root=root,
        inter=inter,
        sub=_issue("CA cấp dưới", inter, ca=True),
        leaf=_issue("Nguyễn Văn A", inter, ca=False),
        tsa=_issue("Dấu thời gian", root, ca=False, timestamping=True),
        expired_root=_issue(
            "Gốc đã hết hạn",
            None,
            ca=True,
            valid=(datetime(2015, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC)),
        ),
        stranger_root=stranger_root,
        stranger_ca=_issue("CA của gốc lạ", stranger_root, ca=True),
        # the root's name as issuer, signed by the stranger's key: names alone would pass
        forged=_issue("CA giả", stranger_root, ca=True, issuer_name=root.cert.subject),
    )


def _write(path: Path, *certs: Issued) -> Path:
    path.write_bytes(b"".join(c.pem for c in certs))
    return path


def _p7b(path: Path, *certs: Issued) -> Path:
    path.write_bytes(
        pkcs7.serialize_certificates([c.cert for c in certs], serialization.Encoding.DER)
    )
    return path


# -- running the command ----------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


Trust = Callable[..., Run]
"""``trust("add", FILE, ...)``: one in-process ``verify trust --store STORE ...`` run."""


@pytest.fixture(autouse=True)
def _pinned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The clock is PINNED_NOW; no test sees the user's store or revocation cache."""
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "env-store"))
    monkeypatch.setenv("HOSO_CACHE_DIR", str(tmp_path / "cache"))
    with time_machine.travel(PINNED_NOW, tick=False):
        yield


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def trust(capsys: pytest.CaptureFixture[str], store: Path) -> Trust:
    def go(*args: str | os.PathLike[str]) -> Run:
        capsys.readouterr()
        code = cli.main(["trust", "--store", str(store), *(os.fspath(a) for a in args)])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return Run(code, captured.out, captured.err)

    return go


def _local(run: Run) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in run.out.splitlines()]
    return [r for r in rows if r["source"] == "local"]


# -- list, show, export --------------------------------------------------------------------------


def test_list_shows_every_bundled_certificate_then_the_local_ones(
    trust: Trust, pki: PKI, tmp_path: Path
) -> None:
    """``list --json``: all bundled certificates, then the local root with its fields."""
    assert trust("add", _write(tmp_path / "root.pem", pki.root), "--hierarchy", "public").code == 0
    run = trust("list", "--json")
    assert run.code == 0
    rows = [json.loads(line) for line in run.out.splitlines()]
    assert len(rows) == BUNDLED + 1
    assert {r["source"] for r in rows[:BUNDLED]} == {"bundled"}
    local = rows[-1]
    assert local == {
        "source": "local",
        "hierarchy": "public",
        "kind": "root",
        "subject_cn": "Gốc thử nghiệm",
        "subject": "C=VN, O=Thử nghiệm, CN=Gốc thử nghiệm",
        "issuer": "C=VN, O=Thử nghiệm, CN=Gốc thử nghiệm",
        "not_before": "2025-01-01T00:00:00Z",
        "not_after": "2030-01-01T00:00:00Z",
        "expired": False,
        "sha256": pki.root.sha256,
        "added": "2026-06-01T10:00:00Z",
    }


def test_list_table_marks_an_expired_certificate(trust: Trust, pki: PKI, tmp_path: Path) -> None:
    """The table's EXPIRED column says yes for a root whose validity ended before now."""
    path = _write(tmp_path / "old.pem", pki.expired_root)
    assert trust("add", path, "--hierarchy", "specialized").code == 0
    run = trust("list")
    assert run.code == 0
    line = next(x for x in run.out.splitlines() if pki.expired_root.sha256 in x)
    assert line.split()[:3] == ["local", "specialized", "root"]
    assert "2015-01-01..2020-01-01  yes" in line
    assert f"{BUNDLED} bundled and 1 local" in run.err


def test_show_finds_a_certificate_by_fingerprint_prefix(
    trust: Trust, pki: PKI, tmp_path: Path
) -> None:
    """``show`` with the first hex digits (colons allowed) prints that certificate's details."""
    trust("add", _write(tmp_path / "r.pem", pki.root), "--hierarchy", "public")
    prefix = ":".join(pki.root.sha256[i : i + 2] for i in range(0, 8, 2)).upper()
    run = trust("show", prefix)
    assert run.code == 0
    assert "CN=Gốc thử nghiệm" in run.out
    assert pki.root.sha256 in run.out
    assert "cA=TRUE" in run.out
    assert "EC 256 bit" in run.out


def test_show_an_unknown_fingerprint_is_one_line_exit_64(trust: Trust) -> None:
    """An unknown fingerprint: one line naming it, in both languages, exit 64."""
    run = trust("show", "00000000deadbeef")
    assert run.code == 64
    assert run.err.count("\n") == 1
    assert "no trusted certificate has the fingerprint 00000000deadbeef" in run.err
    assert "không có chứng thư tin cậy nào" in run.err


def test_export_writes_one_hierarchy_as_a_pem_bundle(
    trust: Trust, pki: PKI, tmp_path: Path
) -> None:
    """``export --profile specialized`` holds the bundled specialized certificates and the
    local ones of that hierarchy, and nothing of the public one."""
    trust("add", _write(tmp_path / "r.pem", pki.root), "--hierarchy", "specialized")
    trust("add", _write(tmp_path / "s.pem", pki.stranger_root), "--hierarchy", "public")
    out = tmp_path / "specialized.pem"
    assert trust("export", "--profile", "specialized", out).code == 0
    fingerprints = {fingerprint(c) for c in load_certificates(out)}
    expected = {e.sha256 for e in bundled_catalog() if e.hierarchy == "specialized"}
    assert fingerprints == expected | {pki.root.sha256}


# -- add and remove -----------------------------------------------------------------------------


def test_adding_a_leaf_as_a_root_is_refused_exit_1(trust: Trust, pki: PKI, tmp_path: Path) -> None:
    """A certificate with cA=FALSE cannot be a root: refused, exit 1, the store unchanged."""
    run = trust(
        "add", _write(tmp_path / "leaf.pem", pki.leaf), "--hierarchy", "public", "--kind", "root"
    )
    assert run.code == 1
    assert "not a CA certificate (basicConstraints cA=FALSE)" in run.err
    assert "không phải chứng thư CA" in run.err
    assert TrustStore(tmp_path / "store").entries() == ()


def test_a_tsa_certificate_needs_the_timestamping_purpose(
    trust: Trust, pki: PKI, tmp_path: Path
) -> None:
    """``--kind tsa`` takes a timestamping certificate and refuses a plain leaf."""
    tsa = trust(
        "add", _write(tmp_path / "tsa.pem", pki.tsa), "--hierarchy", "public", "--kind", "tsa"
    )
    assert tsa.code == 0
    assert "(public, tsa)" in tsa.out
    leaf = trust(
        "add", _write(tmp_path / "l.pem", pki.leaf), "--hierarchy", "public", "--kind", "tsa"
    )
    assert leaf.code == 1
    assert "timeStamping" in leaf.err


def test_adding_a_bundled_certificate_changes_nothing(trust: Trust, tmp_path: Path) -> None:
    """A certificate already bundled is reported as such and not added (exit 0, no log)."""
    entry = bundled_catalog()[0]
    source = Path(cli.__file__).parent / "data" / "trust" / entry.file
    run = trust("add", source, "--hierarchy", entry.hierarchy)
    assert run.code == 0
    assert "already trusted (the bundled data" in run.out
    assert TrustStore(tmp_path / "store").audit() == ()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"hello, not a certificate\n", "not a certificate or PKCS#7 bundle"),
        (b"0\x82\x01\x00garbage p7b", "not a certificate or PKCS#7 bundle"),
        (b"", "empty file"),
    ],
)
def test_a_file_that_is_not_a_certificate_is_one_line_exit_64(
    trust: Trust, tmp_path: Path, content: bytes, why: str
) -> None:
    """``add`` / ``import`` of text, a garbage .p7b or an empty file: one line, exit 64."""
    bad = tmp_path / "bad.p7b"
    bad.write_bytes(content)
    for command in ("add", "import"):
        run = trust(command, bad, "--hierarchy", "public")
        assert run.code == 64
        assert run.err.count("\n") == 1
        assert why in run.err


def test_remove_takes_a_local_certificate_out(trust: Trust, pki: PKI, tmp_path: Path) -> None:
    """``remove`` deletes the local certificate and its file; ``list`` no longer shows it."""
    trust("add", _write(tmp_path / "r.pem", pki.root), "--hierarchy", "public")
    run = trust("remove", pki.root.sha256[:12])
    assert run.code == 0
    assert pki.root.sha256 in run.out
    assert _local(trust("list", "--json")) == []
    assert list((tmp_path / "store" / "certs").iterdir()) == []


def test_a_bundled_certificate_cannot_be_removed(trust: Trust) -> None:
    """``remove`` of a bundled fingerprint is refused, saying why, exit 1."""
    run = trust("remove", bundled_catalog()[0].sha256)
    assert run.code == 1
    assert "is bundled trust data and cannot be removed" in run.err
    assert "thuộc dữ liệu tin cậy đóng gói" in run.err


# -- import ---------------------------------------------------------------------------------------


def test_import_takes_only_ca_certificates_that_chain_to_a_trusted_anchor(
    trust: Trust, pki: PKI, tmp_path: Path
) -> None:
    """A .p7b with the sub-CA before its issuer, a leaf, a stranger's CA and a forgery:
    the two CAs that chain to the local root are added, each other one refused with its
    reason, exit 1."""
    trust("add", _write(tmp_path / "r.pem", pki.root), "--hierarchy", "public")
    bundle = _p7b(tmp_path / "cas.p7b", pki.sub, pki.leaf, pki.inter, pki.stranger_ca, pki.forged)
    run = trust("import", bundle, "--hierarchy", "public")
    assert run.code == 1
    lines = run.out.splitlines()
    added = [x for x in lines if x.startswith("added")]
    assert [pki.inter.sha256 in added[0], pki.sub.sha256 in added[1]] == [True, True]
    others = (pki.leaf.sha256, pki.stranger_ca.sha256, pki.forged.sha256)
    by_fp = {fp: next(x for x in lines if fp in x) for fp in others}
    assert "not a CA certificate" in by_fp[pki.leaf.sha256]
    for fp in (pki.stranger_ca.sha256, pki.forged.sha256):
        assert by_fp[fp].startswith("refused / từ chối")
        assert "does not chain to a trusted anchor of the public hierarchy" in by_fp[fp]
        assert "không nối về gốc tin cậy nào" in by_fp[fp]
    assert "2 added, 3 refused, 0 already trusted" in run.err
    kinds = {e.sha256: e.kind for e in TrustStore(tmp_path / "store").entries()}
    assert kinds == {pki.root.sha256: "root", pki.inter.sha256: "ca", pki.sub.sha256: "ca"}


def test_import_of_a_folder_that_all_chains_exits_0(trust: Trust, pki: PKI, tmp_path: Path) -> None:
    """A folder of CAs that chain (and one already trusted) is imported, exit 0."""
    trust("add", _write(tmp_path / "r.pem", pki.root), "--hierarchy", "specialized")
    folder = tmp_path / "cas"
    folder.mkdir()
    _write(folder / "a.pem", pki.inter)
    _write(folder / "b.crt", pki.sub)
    _write(folder / "c.pem", pki.root)
    run = trust("import", folder, "--hierarchy", "specialized")
    assert run.code == 0
    assert "2 added, 0 refused, 1 already trusted" in run.err


def test_import_refuses_a_chain_to_the_other_hierarchy(
    trust: Trust, pki: PKI, tmp_path: Path
) -> None:
    """A CA under a root trusted as public is not imported as specialized."""
    trust("add", _write(tmp_path / "r.pem", pki.root), "--hierarchy", "public")
    run = trust("import", _write(tmp_path / "i.pem", pki.inter), "--hierarchy", "specialized")
    assert run.code == 1
    assert "does not chain to a trusted anchor of the specialized hierarchy" in run.out


def test_import_refuses_a_self_signed_root(trust: Trust, pki: PKI, tmp_path: Path) -> None:
    """A new root never comes in by import (only by ``add``)."""
    run = trust("import", _p7b(tmp_path / "r.p7b", pki.stranger_root), "--hierarchy", "public")
    assert run.code == 1
    assert "verify trust add" in run.out


# -- the audit log, the store's folder --------------------------------------------------------


def test_every_change_is_in_the_audit_log(trust: Trust, pki: PKI, tmp_path: Path) -> None:
    """add, import and remove each append a JSON line: time (UTC), action, fingerprint,
    subject, who, hoso version; ``log --json`` prints them in order."""
    trust("add", _write(tmp_path / "r.pem", pki.root), "--hierarchy", "public")
    with time_machine.travel(PINNED_NOW + timedelta(hours=1), tick=False):
        trust("import", _write(tmp_path / "i.pem", pki.inter), "--hierarchy", "public")
        trust("remove", pki.inter.sha256)
    run = trust("log", "--json")
    assert run.code == 0
    records = [json.loads(line) for line in run.out.splitlines()]
    assert [(r["action"], r["fingerprint"], r["time"]) for r in records] == [
        ("add", pki.root.sha256, "2026-06-01T10:00:00Z"),
        ("import", pki.inter.sha256, "2026-06-01T11:00:00Z"),
        ("remove", pki.inter.sha256, "2026-06-01T11:00:00Z"),
    ]
    assert records[1]["subject"] == "C=VN, O=Thử nghiệm, CN=CA trung gian"
    assert all(r["who"] and r["hoso_version"] for r in records)
    log_file = tmp_path / "store" / "audit.jsonl"
    assert log_file.read_text(encoding="utf-8").count("\n") == 3


def test_an_unwritable_store_is_one_line_exit_73(
    capsys: pytest.CaptureFixture[str], pki: PKI, tmp_path: Path
) -> None:
    """A store under a regular file cannot be made: one line, both languages, exit 73."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = cli.main(
        [
            "trust",
            "add",
            str(_write(tmp_path / "r.pem", pki.root)),
            "--hierarchy",
            "public",
            "--store",
            str(blocker / "store"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 73
    assert err.count("\n") == 1
    assert "cannot write the trust store" in err
    assert "không ghi được kho tin cậy" in err


def test_a_tampered_store_file_is_refused(trust: Trust, pki: PKI, tmp_path: Path) -> None:
    """A certificate file swapped in the store no longer matches its SHA-256: exit 64."""
    trust("add", _write(tmp_path / "r.pem", pki.root), "--hierarchy", "public")
    _write(tmp_path / "store" / "certs" / f"{pki.root.sha256}.pem", pki.stranger_root)
    run = trust("list")
    assert run.code == 64
    assert "does not match its SHA-256" in run.err


def test_the_store_defaults_to_the_environment_variable(
    capsys: pytest.CaptureFixture[str], pki: PKI, tmp_path: Path
) -> None:
    """Without --store, ``$HOSO_TRUST_STORE`` is the store."""
    code = cli.main(
        ["trust", "add", str(_write(tmp_path / "r.pem", pki.root)), "--hierarchy", "public"]
    )
    assert code == 0
    assert [e.sha256 for e in TrustStore(tmp_path / "env-store").entries()] == [pki.root.sha256]


# -- verify uses the store; the age of the bundled data ---------------------------------------


def test_verify_builds_its_profile_with_the_local_store(
    trust: Trust, pki: PKI, tmp_path: Path, store: Path
) -> None:
    """Local roots become anchors and local CAs intermediates, tagged with their hierarchy;
    --profile specialized leaves a public one out; --no-trust-store leaves the store out."""
    trust("add", _write(tmp_path / "r.pem", pki.root), "--hierarchy", "public")
    trust("import", _write(tmp_path / "i.pem", pki.inter), "--hierarchy", "public")
    root = load_certificates(tmp_path / "r.pem")[0]
    inter = load_certificates(tmp_path / "i.pem")[0]

    def profile(*extra: str) -> TrustProfile:
        args = cli.build_parser().parse_args(["--trust-store", str(store), *extra, "x.pdf"])
        return cli.trust_profile(args)

    anyp = profile()
    assert anyp.is_anchor(root)
    assert not anyp.is_anchor(inter)
    assert fingerprint(inter) in {fingerprint(c) for c in anyp.intermediates}
    assert anyp.profile_of(root) == "public"
    assert not profile("--profile", "specialized").is_anchor(root)
    assert not profile("--no-trust-store").is_anchor(root)


def test_a_document_passes_on_a_root_from_the_local_store(
    trust: Trust, verify_corpus: Corpus, capsys: pytest.CaptureFixture[str], store: Path
) -> None:
    """The demo root added to the store (no --trust) makes the demo signature TOTAL_PASSED."""
    assert trust("add", verify_corpus.trust_pem, "--hierarchy", "public").code == 0
    code = cli.main(
        [
            "--trust-store",
            str(store),
            "--at",
            PINNED_AT,
            "--json",
            str(verify_corpus["passed-bb.pdf"]),
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert report["indication"] == "TOTAL_PASSED"
    assert report["signatures"][0]["trust_anchor_profile"] == "public"


def test_the_html_report_names_the_local_store(
    trust: Trust, pki: PKI, tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report made with a local store says so: its certificates and last change date."""
    trust("add", _write(tmp_path / "r.pem", pki.root), "--hierarchy", "public")
    note = tmp_path / "note.txt"
    note.write_text("không có chữ ký\n", encoding="utf-8")
    html = tmp_path / "report.html"
    code = cli.main(
        [
            "--trust-store",
            str(store),
            "--at",
            PINNED_AT,
            "--offline",
            "--report",
            str(html),
            str(note),
        ]
    )
    capsys.readouterr()
    assert code == 2  # nothing signed
    page = html.read_text(encoding="utf-8")
    assert "Kho tin cậy cục bộ" in page
    assert "Local trust store" in page
    assert f"{store}: 1 chứng thư, thay đổi lần cuối 01/06/2026" in page
    assert "1 certificate, last changed 01/06/2026" in page


def test_a_damaged_store_stops_verify_with_one_line_exit_64(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """verify with a store whose catalogue is garbage: one line, exit 64, no traceback."""
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "store.json").write_text("{not json", encoding="utf-8")
    code = cli.main(["--trust-store", str(folder), "--offline", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 64
    assert "damaged trust store" in err
    assert "kho tin cậy hỏng" in err
    assert "Traceback" not in err


BUNDLED_DATE = date(2026, 7, 16)
_DATA = TrustDataVersion("2026.07.16+000000000000", BUNDLED_DATE, "0" * 64, 40, False)


def test_no_age_warning_within_a_year() -> None:
    """365 days after the data's date there is no warning."""
    assert age_warning(datetime(2027, 7, 16, 23, 0, tzinfo=UTC), _DATA) is None


def test_age_warning_after_a_year_names_the_data_and_its_age() -> None:
    """366 days after the data's date: a warning in Vietnamese and English with the age."""
    warning = age_warning(datetime(2027, 7, 17, 1, 0, tzinfo=UTC), _DATA)
    assert warning is not None
    vi, en = warning
    assert "2026-07-16" in en
    assert "366 days older" in en
    assert "đã cũ 366 ngày" in vi


def test_verify_warns_once_when_the_bundled_data_is_over_a_year_old(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With --at two years after the bundled data's date, stderr has one warning line;
    at the pinned time (before that date), none."""
    note = tmp_path / "note.txt"
    note.write_text("x\n", encoding="utf-8")
    late = bundled_trust_version().date + timedelta(days=2 * 365)
    cli.main(["--no-trust-store", "--offline", "--at", late.isoformat(), "--json", str(note)])
    err = capsys.readouterr().err
    warnings = [x for x in err.splitlines() if "bundled trust data" in x]
    assert len(warnings) == 1
    assert warnings[0].startswith("verify: warning: the bundled trust data")
    assert "Cảnh báo: dữ liệu tin cậy đóng gói" in warnings[0]
    cli.main(["--no-trust-store", "--offline", "--at", PINNED_AT, "--json", str(note)])
    assert "bundled trust data" not in capsys.readouterr().err


def test_changes_made_at_once_are_all_kept(pki: PKI, tmp_path: Path) -> None:
    """Eight roots added from eight threads at once: the catalogue and the log hold all
    eight (each change holds the store's lock)."""
    roots = [_issue(f"Gốc {i}", None, ca=True) for i in range(8)]
    store = TrustStore(tmp_path / "shared")
    certs = [
        load_certificates(_write(tmp_path / f"root-{i}.pem", r))[0] for i, r in enumerate(roots)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda c: store.add(c, hierarchy="public", now=PINNED_NOW), certs))
    assert {e.sha256 for e in store.entries()} == {r.sha256 for r in roots}
    assert len(store.audit()) == 8


def test_trust_without_a_command_is_a_usage_error(trust: Trust) -> None:
    """``verify trust`` alone, or an unknown command: one line, exit 64."""
    for args in ((), ("frobnicate",), ("add", "x.pem")):
        run = trust(*args)
        assert run.code == 64
        assert run.err.count("\n") == 1
        assert run.err.startswith("verify trust: error:")
