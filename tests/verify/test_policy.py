"""The validation policy: constraint levels, their defaults, policy files, and how each
level changes a verdict."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import crl

import fixtures.attacks as A
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.test_verifier import SIGNED_AT, demo_trust
from verify import (
    CONSTRAINTS,
    Indication,
    Level,
    PolicyFileError,
    SubIndication,
    ValidationPolicy,
    Verifier,
    cli,
    load_policy,
)

DATA = "Tờ khai đăng ký khai sinh".encode()


def test_defaults_match_eu_dss_where_dss_has_the_constraint() -> None:
    """signing-certificate missing WARN, message-digest FAIL, signing-time present FAIL,
    signing time inside the certificate's validity FAIL (DSS's default constraint.xml)."""
    policy = ValidationPolicy()
    assert policy.level("signing_certificate_present") is Level.WARN
    assert policy.level("message_digest_present") is Level.FAIL
    assert policy.level("signing_time_present") is Level.FAIL
    assert policy.level("signing_time_in_certificate_validity") is Level.FAIL
    assert all(policy.level(c) is CONSTRAINTS[c].default for c in CONSTRAINTS)


def test_levels_may_be_given_as_strings_and_unknown_ones_are_refused() -> None:
    """ "warn" is Level.WARN; an unknown constraint or level is a ValueError naming it."""
    policy = ValidationPolicy(constraints={"signing_time_present": "warn"})
    assert policy.level("signing_time_present") is Level.WARN
    with pytest.raises(ValueError, match="no_such_rule"):
        ValidationPolicy(constraints={"no_such_rule": "FAIL"})
    with pytest.raises(ValueError, match="SOMETIMES"):
        ValidationPolicy(constraints={"signing_time_present": "SOMETIMES"})


def test_a_policy_with_levels_pickles_compares_and_hashes() -> None:
    """Policies travel to workers: equal after a pickle round trip, same hash."""
    policy = ValidationPolicy(constraints={"signing_certificate_present": "FAIL"})
    back = pickle.loads(pickle.dumps(policy))  # noqa: S301 - our own object
    assert back == policy
    assert hash(back) == hash(policy)
    assert back != ValidationPolicy()


TOML = """
revocation = "soft"
network = false
validation_time = 2026-06-01T10:00:00Z
document_time_limit = 20
[algorithms]
sha1_until = 2017-01-01
rsa_min_bits = 3072
[constraints]
signing_certificate_present = "FAIL"
signing_time_present = "INFORM"
"""


def test_a_toml_policy_file_round_trips_every_kind_of_key(tmp_path: Path) -> None:
    """Scalars, dated algorithm rules and constraint levels are read as written."""
    file = tmp_path / "policy.toml"
    file.write_text(TOML, encoding="utf-8")
    policy = load_policy(file)
    assert policy.revocation.value == "soft"
    assert policy.network is False
    assert policy.validation_time == PINNED_NOW
    assert policy.document_time_limit == 20
    assert policy.algorithms.sha1_until == datetime(2017, 1, 1, tzinfo=UTC)
    assert policy.algorithms.rsa_min_bits == 3072
    assert policy.level("signing_certificate_present") is Level.FAIL
    assert policy.level("signing_time_present") is Level.INFORM
    assert policy.level("message_digest_present") is Level.FAIL  # untouched default


def test_a_json_policy_file_gives_the_same_policy(tmp_path: Path) -> None:
    """The same policy written as JSON loads equal to the TOML one."""
    toml = tmp_path / "p.toml"
    toml.write_text(TOML, encoding="utf-8")
    data = {
        "revocation": "soft",
        "network": False,
        "validation_time": "2026-06-01T10:00:00Z",
        "document_time_limit": 20,
        "algorithms": {"sha1_until": "2017-01-01", "rsa_min_bits": 3072},
        "constraints": {"signing_certificate_present": "FAIL", "signing_time_present": "INFORM"},
    }
    as_json = tmp_path / "p.json"
    as_json.write_text(json.dumps(data), encoding="utf-8")
    assert load_policy(as_json) == load_policy(toml)


def test_the_documented_example_policy_loads(tmp_path: Path) -> None:
    """The example in docs/policy.md is a valid policy file."""
    doc = (Path(__file__).parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    file = tmp_path / "example.toml"
    file.write_text(example, encoding="utf-8")
    policy = load_policy(file)
    assert policy.level("signing_certificate_present") is Level.FAIL


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("revocation = ", "not valid TOML"),
        ("colour = 'red'", "'colour'"),
        ("network = 'yes'", "network"),
        ("max_signatures = true", "max_signatures"),
        ("[constraints]\nsigning_time_present = 'LOUD'", "LOUD"),
        ("[constraints]\nno_such_rule = 'FAIL'", "no_such_rule"),
        ("[algorithms]\nsha1_until = 'soon'", "sha1_until"),
        ("[algorithms]\nmd9_until = 2020-01-01", "algorithms.md9_until"),
        ("validation_time = 2026-06-01T10:00:00", "time zone"),
        ("revocation = 'sometimes'", "sometimes"),
    ],
)
def test_a_bad_policy_file_is_one_line_naming_the_key(
    tmp_path: Path, text: str, named: str
) -> None:
    """Each malformed or unknown entry is a PolicyFileError of one line that names it."""
    file = tmp_path / "bad.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFileError) as caught:
        load_policy(file)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message
    assert str(file) in message


def test_the_cli_refuses_a_bad_policy_file_with_one_line_and_exit_64(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`verify --policy FILE` with an unknown key: one line on stderr, exit 64."""
    file = tmp_path / "bad.toml"
    file.write_text("[constraints]\nno_such_rule = 'FAIL'\n", encoding="utf-8")
    doc = tmp_path / "x.pdf"
    doc.write_bytes(b"%PDF-1.7\n")
    code = cli.main(["--policy", str(file), str(doc)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == cli.EXIT_USAGE == 64
    assert len(err) == 1
    assert err[0].startswith("verify: error: --policy:")
    assert "no_such_rule" in err[0]


def test_the_cli_applies_the_policy_file(
    demo_pki: DemoPKI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plain openssl CMS passes under the default policy and fails under a policy file
    that sets signing_certificate_present to FAIL."""
    der = A.openssl_cms_sign(demo_pki, "citizen", DATA, tmp_path)
    content = tmp_path / "data.txt"
    content.write_bytes(DATA)
    sig = tmp_path / "data.txt.p7s"
    sig.write_bytes(der)
    trust = tmp_path / "roots.pem"
    trust.write_bytes(demo_pki.cert_pem("vn-root") + demo_pki.cert_pem("gov-root"))
    strict = tmp_path / "strict.toml"
    strict.write_text("[constraints]\nsigning_certificate_present = 'FAIL'\n", encoding="utf-8")
    base = ["--at", "2026-12-31T00:00:00Z", "--trust", str(trust), "--json", "--no-cache"]
    base += ["--offline", "--revocation", "soft"]  # openssl signs at the wall clock's time
    base += ["--detached", str(sig), str(content)]
    runs = {}
    for name, extra in (("default", []), ("strict", ["--policy", str(strict)])):
        capsys.readouterr()
        cli.main([*extra, *base])
        runs[name] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert runs["default"]["indication"] == "TOTAL_PASSED"
    assert (runs["strict"]["indication"], runs["strict"]["sub_indication"]) == (
        "INDETERMINATE",
        "NO_SIGNING_CERTIFICATE_FOUND",
    )


# -- each level, on one known answer: a claimed signing time after the certificate's expiry --


@pytest.fixture(scope="module")
def late_claim(demo_pki: DemoPKI) -> bytes:
    """A CAdES signature whose signing-time (2031) lies after the certificate's 2030 expiry,
    with the CRLs as of the validation time."""
    crls: list[crl.CertificateList] = A.demo_crls(demo_pki, PINNED_NOW)
    info = A.sign_cades(
        demo_pki,
        "citizen",
        DATA,
        at=SIGNED_AT,
        signing_time=datetime(2031, 1, 1, tzinfo=UTC),
        crls=crls,
    )
    return bytes(info.dump())


def _at_level(
    pki: DemoPKI, sig: bytes, level: str
) -> tuple[Indication, SubIndication | None, str, tuple[str, ...]]:
    policy = ValidationPolicy(
        validation_time=PINNED_NOW,
        network=False,
        constraints={"signing_time_in_certificate_validity": level},
    )
    report = Verifier(demo_trust(pki), policy).verify(DATA, detached=sig)
    (signature,) = report.signatures
    [checked] = [c for c in signature.constraints if c.id == "signing_time_in_certificate_validity"]
    return report.indication, report.sub_indication, checked.status, signature.warnings


@pytest.mark.parametrize(
    ("level", "indication", "status", "warned"),
    [
        ("FAIL", Indication.INDETERMINATE, "failed", False),
        ("WARN", Indication.TOTAL_PASSED, "failed", True),
        ("INFORM", Indication.TOTAL_PASSED, "failed", False),
        ("IGNORE", Indication.TOTAL_PASSED, "ignored", False),
    ],
)
def test_each_level_decides_warns_informs_or_skips(
    demo_pki: DemoPKI,
    late_claim: bytes,
    level: str,
    indication: Indication,
    status: str,
    warned: bool,
) -> None:
    """FAIL gives SIG_CONSTRAINTS_FAILURE; WARN passes with a warning; INFORM passes and only
    the detailed report says it failed; IGNORE does not check."""
    got, sub, checked, warnings = _at_level(demo_pki, late_claim, level)
    assert got is indication
    assert sub is (SubIndication.SIG_CONSTRAINTS_FAILURE if level == "FAIL" else None)
    assert checked == status
    assert any("signing_time_in_certificate_validity" in w for w in warnings) is warned
