"""The validation process (verify.process): its building blocks on known answers, and the
verdicts it gives documents that pyHanko's own checks leave undecided."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import cms, crl
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

import fixtures.attacks as A
from fixtures.documents import minimal_pdf, sign_pdf
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW
from tests.verify.test_verifier import SIGNED_AT, demo_trust
from verify import Indication, SubIndication, ValidationPolicy, Verifier, process
from verify.report import ConstraintResult

DATA = "Hồ sơ đăng ký kinh doanh".encode()
OFFLINE = ValidationPolicy(validation_time=PINNED_NOW, network=False)


def _constraint(
    results: list[ConstraintResult] | tuple[ConstraintResult, ...], cid: str
) -> ConstraintResult:
    [found] = [r for r in results if r.id == cid]
    return found


# -- proof of existence ------------------------------------------------------------------


def _ts(
    pki: DemoPKI, label: str, at: datetime, *algos: str, kind: str = "signature"
) -> process.TimestampEvidence:
    return process.TimestampEvidence(
        kind=kind,
        time=at,
        intact=True,
        valid=True,
        trusted=True,
        tsa_cert=pki.cert(label),
        digest_algorithms=algos or ("sha256",),
    )


def test_a_sha1_token_made_in_2026_proves_nothing_but_one_made_in_2017_does(
    demo_pki: DemoPKI,
) -> None:
    """A timestamp is judged by the dated algorithm rules at its own time."""
    late = process.Judgement()
    assert (
        process.proof_of_existence(
            [_ts(demo_pki, "public-tsa", datetime(2026, 5, 1, tzinfo=UTC), "sha1")], OFFLINE, late
        )
        is None
    )
    assert _constraint(late.results, "timestamp_algorithms").status == "failed"
    assert late.failure is None  # the token is set aside; the signature is judged without it
    early = process.Judgement()
    when = datetime(2017, 5, 1, tzinfo=UTC)
    assert (
        process.proof_of_existence([_ts(demo_pki, "public-tsa", when, "sha1")], OFFLINE, early)
        == when
    )


def test_a_token_from_a_certificate_without_the_timestamping_purpose_proves_nothing(
    demo_pki: DemoPKI,
) -> None:
    """A citizen's certificate is no TSA: its token gives no proof of existence."""
    j = process.Judgement()
    assert (
        process.proof_of_existence(
            [_ts(demo_pki, "citizen", datetime(2026, 5, 1, tzinfo=UTC))], OFFLINE, j
        )
        is None
    )
    assert _constraint(j.results, "timestamp_tsa_purpose").status == "failed"
    assert "timeStamping" in _constraint(j.results, "timestamp_tsa_purpose").message_en


def test_the_earliest_acceptable_timestamp_is_the_proof_and_content_ones_never_are(
    demo_pki: DemoPKI,
) -> None:
    """Signature and document timestamps prove existence; a content timestamp does not."""
    first = datetime(2026, 1, 2, tzinfo=UTC)
    j = process.Judgement()
    found = process.proof_of_existence(
        [
            _ts(demo_pki, "public-tsa", datetime(2025, 6, 1, tzinfo=UTC), kind="content"),
            _ts(demo_pki, "public-tsa", datetime(2026, 3, 1, tzinfo=UTC), kind="document"),
            _ts(demo_pki, "public-tsa", first),
        ],
        OFFLINE,
        j,
    )
    assert found == first


def test_out_of_bounds_is_no_poe_without_proof_and_with_a_late_one(
    demo_pki: DemoPKI,
) -> None:
    """The one rule for every format: no proof → OUT_OF_BOUNDS_NO_POE naming the
    certificate; proof only after expiry → OUT_OF_BOUNDS_NO_POE saying so (a timestamp bounds
    the signing time from above only); proof inside validity → nothing to say."""
    cert = demo_pki.cert("citizen")
    after = cert.not_valid_after + timedelta(days=30)
    finding = process.out_of_bounds([cert], after, None)
    assert finding is not None
    assert finding.sub is SubIndication.OUT_OF_BOUNDS_NO_POE
    assert "valid 2025-01-01 to 2030-01-01" in finding.reason_en
    late = process.out_of_bounds([cert], after, cert.not_valid_after + timedelta(days=1))
    assert late is not None
    assert late.sub is SubIndication.OUT_OF_BOUNDS_NO_POE
    assert "after the signer's certificate expired" in late.reason_en
    assert process.out_of_bounds([cert], after, SIGNED_AT) is None


# -- revocation from what the signature carries --------------------------------------------


def _forged_crl(pki: DemoPKI, serial: int) -> crl.CertificateList:
    """A CRL naming the demo CA as its issuer and listing ``serial``, signed by another key."""
    issuer = cx509.load_der_x509_certificate(pki.cert("ca-rsa").dump())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    built = (
        cx509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(datetime(2026, 5, 1, tzinfo=UTC))
        .next_update(datetime(2026, 7, 1, tzinfo=UTC))
        .add_revoked_certificate(
            cx509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(datetime(2025, 2, 1, tzinfo=UTC))
            .build()
        )
        .sign(key, hashes.SHA256())
    )
    return crl.CertificateList.load(built.public_bytes(serialization.Encoding.DER))


def test_a_crl_not_signed_by_the_issuer_never_revokes(demo_pki: DemoPKI) -> None:
    """A forged CRL carried in the signature, listing a genuine signer, changes nothing:
    revocation data is believed only when the certificate's issuer signed it."""
    serial = demo_pki.cert("citizen").serial_number
    genuine = A.demo_crls(demo_pki, PINNED_NOW)
    info = A.sign_cades(
        demo_pki, "citizen", DATA, at=SIGNED_AT, crls=[*genuine, _forged_crl(demo_pki, serial)]
    )
    report = Verifier(demo_trust(demo_pki), OFFLINE).verify(DATA, detached=info.dump())
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    (sig,) = report.signatures
    assert _constraint(sig.constraints, "revocation_at_signing_time").status == "passed"


def test_revocation_values_are_read_from_cms_crls_and_the_adobe_attribute(
    demo_pki: DemoPKI,
) -> None:
    """Both places a CMS keeps revocation data are read, each named as the source."""
    genuine = A.demo_crls(demo_pki, PINNED_NOW)
    info = A.sign_cades(demo_pki, "citizen", DATA, at=SIGNED_AT, crls=genuine)
    found = process.revocation_values(info["content"], "CMS")
    assert [src for _c, src in found.crls] == ["CMS crls"] * len(genuine)


# -- what pyHanko's checks do not decide --------------------------------------------------


def test_changes_that_cannot_be_analysed_keep_the_integrity_and_are_their_own_constraint(
    demo_pki: DemoPKI,
) -> None:
    """A later revision pyHanko's difference analysis cannot read (an xref entry pointing at
    no object) is not a FORMAT_FAILURE of an intact signature: integrity stays true, the
    modifications are NOT_ANALYSED, and pdf_changes_analysed decides (FAIL by default,
    a warning when the policy lowers it)."""
    pdf = sign_pdf(demo_pki, "citizen", minimal_pdf("Tờ khai"), at=SIGNED_AT)
    page = IncrementalPdfFileWriter(io.BytesIO(pdf)).root["/Pages"]["/Kids"].raw_get(0)
    broken = A.append_raw_update(pdf, {}, xref_entries={page.idnum: 20})
    policy = ValidationPolicy(validation_time=PINNED_NOW)
    report = Verifier(demo_trust(demo_pki), policy).verify(broken)
    (sig,) = report.signatures
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )
    assert sig.integrity is True
    assert sig.modifications == "NOT_ANALYSED"
    assert "could not be analysed" in report.message_en
    lenient = policy.replace(constraints={"pdf_changes_analysed": "WARN"})
    report = Verifier(demo_trust(demo_pki), lenient).verify(broken)
    assert report.indication is Indication.TOTAL_PASSED
    assert any("could not be analysed" in w for w in report.signatures[0].warnings)


def test_signed_attributes_out_of_der_order_are_a_hash_failure(demo_pki: DemoPKI) -> None:
    """Signed attributes whose SET OF is not in DER order, signed as they stand, fail as
    EU DSS and the ETSI plugtests say: the signature is not over their DER encoding."""
    crls = A.demo_crls(demo_pki, PINNED_NOW)
    info = A.sign_cades(demo_pki, "citizen", DATA, at=SIGNED_AT, crls=crls)
    key = A.load_key(demo_pki, "citizen")
    si = info["content"]["signer_infos"][0]
    attrs = [bytes(a.dump()) for a in si["signed_attrs"]]
    raw = b"".join(sorted(attrs, reverse=True))  # same attributes, out of DER order
    original = bytes(si["signed_attrs"].dump())
    assert original[0] == 0xA0
    reordered = b"\xa0" + original[1 : len(original) - len(raw)] + raw
    signature = A._sign_raw(key, b"\x31" + reordered[1:], "sha256")
    der = info.dump().replace(original, reordered).replace(si["signature"].native, signature)
    encoded = [
        bytes(a.dump())
        for a in cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signed_attrs"]
    ]
    assert encoded != sorted(encoded)  # the fixture is what it says
    report = Verifier(demo_trust(demo_pki), OFFLINE).verify(DATA, detached=der)
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.HASH_FAILURE,
    )
    assert "DER" in report.message_en


def test_signed_attributes_stored_unsorted_but_signed_in_der_order_stand(demo_pki: DemoPKI) -> None:
    """Some producers store the attributes out of order but sign their DER encoding: as EU
    DSS re-encodes them, the signature stands, with a warning saying so."""
    crls = A.demo_crls(demo_pki, PINNED_NOW)
    info = A.sign_cades(demo_pki, "citizen", DATA, at=SIGNED_AT, crls=crls)
    si = info["content"]["signer_infos"][0]
    attrs = [bytes(a.dump()) for a in si["signed_attrs"]]
    raw = b"".join(sorted(attrs, reverse=True))
    original = bytes(si["signed_attrs"].dump())
    stored = b"\xa0" + original[1 : len(original) - len(raw)] + raw  # the signature is kept
    der = info.dump().replace(original, stored)
    assert der != info.dump()
    report = Verifier(demo_trust(demo_pki), OFFLINE).verify(DATA, detached=der)
    assert report.indication is Indication.TOTAL_PASSED, report.message_en
    assert any("out of DER order" in w for w in report.signatures[0].warnings)


def test_a_signature_without_signed_attributes_is_checked_and_judged_by_the_policy(
    demo_pki: DemoPKI,
) -> None:
    """Plain PKCS#7 over the content: its integrity is computed (true), and the missing
    message-digest attribute makes it INDETERMINATE / SIG_CONSTRAINTS_FAILURE."""
    crls = A.demo_crls(demo_pki, PINNED_NOW)
    info = A.sign_cades(demo_pki, "citizen", DATA, at=SIGNED_AT, crls=crls)
    plain = A.cms_no_signed_attrs(info, A.load_key(demo_pki, "citizen"), DATA)
    report = Verifier(demo_trust(demo_pki), OFFLINE).verify(DATA, detached=plain.dump())
    (sig,) = report.signatures
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )
    assert sig.integrity is True
    assert _constraint(sig.constraints, "message_digest_present").status == "failed"
    tampered = Verifier(demo_trust(demo_pki), OFFLINE).verify(DATA + b"!", detached=plain.dump())
    assert tampered.indication is Indication.TOTAL_FAILED


@pytest.mark.parametrize("fmt", ["pdf", "cms"])
def test_every_signature_report_lists_every_constraint_once(demo_pki: DemoPKI, fmt: str) -> None:
    """The detailed report: each constraint of the policy appears once per signature, with
    its block, level and a status."""
    from verify.policy import CONSTRAINTS

    verifier = Verifier(demo_trust(demo_pki), ValidationPolicy(validation_time=PINNED_NOW))
    if fmt == "pdf":
        report = verifier.verify(sign_pdf(demo_pki, "citizen", minimal_pdf("x"), at=SIGNED_AT))
    else:
        info = A.sign_cades(demo_pki, "citizen", DATA, at=SIGNED_AT)
        report = verifier.verify(DATA, detached=info.dump())
    assert report.passed, report.message_en
    (sig,) = report.signatures
    assert sorted(c.id for c in sig.constraints) == sorted(CONSTRAINTS)
    for c in sig.constraints:
        assert c.block == CONSTRAINTS[c.id].block
        assert c.status in {"passed", "not_applicable"}, (c.id, c.message_en)


@pytest.mark.parametrize("network", [False, True])
def test_a_missing_issuer_is_named_with_where_it_was_looked_for(
    demo_pki: DemoPKI, network: bool
) -> None:
    """No chain: the report names the certificate whose issuer is missing, the issuer, that
    the signature did not carry it, and the AIA address (not tried offline; online, the
    fetched certificates join the path and the untrusted root it ends at is named)."""
    der = A.detached_with_certificates(
        DATA, demo_pki.cert("citizen"), demo_pki.key("citizen"), [], at=SIGNED_AT
    )
    policy = ValidationPolicy(validation_time=PINNED_NOW, network=network, revocation="soft")
    from verify import TrustProfile

    trust = TrustProfile.custom([demo_pki.root("public")], name="demo")
    if network:  # the CA is fetched by its AIA address: the path is found
        report = Verifier(trust, policy).verify(DATA, detached=der)
        assert report.sub_indication is not SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        trust = TrustProfile.custom([demo_pki.root("specialized")], name="other")
    report = Verifier(trust, policy).verify(DATA, detached=der)
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND, report.message_en
    if network:  # the CA and its root were fetched: the path ends at a root not trusted
        assert "ends at «Demo National Root CA»" in report.message_en
        assert "not a trust anchor of the profile «other»" in report.message_en
        assert "không phải gốc tin cậy của hồ sơ «other»" in report.message_vi
    else:
        assert "Demo Public CA RSA" in report.message_en
        assert "the signature does not carry it" in report.message_en
        assert "was not tried (offline)" in report.message_en
        assert "chữ ký không kèm" in report.message_vi


# -- long-term validation data past its nextUpdate ---------------------------------------


@pytest.mark.parametrize("days_later", [30, 400])
def test_b_lt_passes_offline_after_its_embedded_revocation_data_went_stale(
    demo_pki: DemoPKI, days_later: int
) -> None:
    """An archived B-LT PDF validated offline long after its embedded OCSP responses and
    CRLs passed their nextUpdate still passes: revocation data issued after the signature
    timestamp is fresh enough for it (ETSI EN 319 102-1 long-term validation, as EU DSS),
    the TSA's path is validated at the token's time, and the signer's at the proven time."""
    signed = sign_pdf(demo_pki, "branch", minimal_pdf(), at=SIGNED_AT, ltv=True)
    later = PINNED_NOW + timedelta(days=days_later)
    report = Verifier(
        demo_trust(demo_pki), ValidationPolicy(validation_time=later, network=False)
    ).verify(signed)
    sig = report.signatures[0]
    assert report.indication is Indication.TOTAL_PASSED, sig.message_en
    assert sig.signing_time_proven == PINNED_NOW  # the demo TSA's time
    assert sig.validated_at == PINNED_NOW  # the path was validated at the proven time
    [ts] = sig.timestamps
    assert ts.indication is Indication.TOTAL_PASSED
    assert not any("proves nothing" in w for w in sig.warnings)


def test_b_t_without_validation_data_stays_indeterminate_long_after(demo_pki: DemoPKI) -> None:
    """The same signature without embedded revocation data (B-T), offline a month later,
    is not passed: nothing speaks of the TSA's or the signer's revocation status."""
    signed = sign_pdf(demo_pki, "branch", minimal_pdf(), at=SIGNED_AT, timestamp=True)
    later = PINNED_NOW + timedelta(days=30)
    report = Verifier(
        demo_trust(demo_pki), ValidationPolicy(validation_time=later, network=False)
    ).verify(signed)
    assert report.indication is Indication.INDETERMINATE, report.message_en
    assert report.sub_indication is SubIndication.TRY_LATER


@pytest.mark.parametrize(
    ("oid", "said"),
    [
        ("1.2.840.113549.1.1.11", "the signature names the signature algorithm sha256_rsa"),
        ("1.2.3.4.5", "the signature names an unknown digest algorithm (1.2.3.4.5)"),
    ],
)
def test_a_digest_algorithm_no_hash_answers_to_is_named_in_both_languages(
    demo_pki: DemoPKI, oid: str, said: str
) -> None:
    """A CAdES signature whose SignerInfo names a signature algorithm, or an unknown OID,
    as its digest algorithm (outside what the signature covers, so it still verifies
    over its attributes): TOTAL_FAILED / FORMAT_FAILURE that names the algorithm in both
    languages, not a library's internal error."""
    info = A.sign_cades(demo_pki, "citizen", DATA, at=SIGNED_AT)
    si = info["content"]["signer_infos"][0]
    si["digest_algorithm"] = {"algorithm": oid}
    report = Verifier(demo_trust(demo_pki), OFFLINE).verify(
        DATA, detached=cms.ContentInfo.load(info.dump(force=True)).dump()
    )
    (sig,) = report.signatures
    assert (sig.indication, sig.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    )
    assert said in sig.message_en
    assert oid in sig.message_vi
    assert "không tính được giá trị băm" in sig.message_vi
    assert "cryptography" not in sig.message_en


def test_eu_dss_pdf_naming_a_signature_algorithm_as_its_digest_is_not_intact() -> None:
    """EU DSS's Signature-P-HU_NET-2.pdf names sha256WithRSAEncryption as the digest
    algorithm; DSS finds it neither intact nor valid (PAdESInvalidDigestAlgorithmTest).
    hoso: TOTAL_FAILED / FORMAT_FAILURE, the algorithm named."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "dss" / "Signature-P-HU_NET-2.pdf"
    (sig,) = Verifier(policy=OFFLINE).verify(path).signatures
    assert sig.integrity is False
    assert sig.sub_indication is SubIndication.FORMAT_FAILURE
    assert "sha256_rsa (1.2.840.113549.1.1.11) as its digest" in sig.message_en


def test_a_library_check_that_fails_without_a_reason_is_said_so_not_by_its_class_name() -> None:
    """EU DSS's BadEncodedCMS.pdf stops pyhanko-certvalidator on a bare ``assert`` (its
    ECDSA key against an RSA reading of the signature): the report says the checking
    library stopped on one of its own consistency checks, in both languages, not just
    "(AssertionError)"."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "dss" / "BadEncodedCMS.pdf"
    (sig,) = Verifier(policy=OFFLINE).verify(path).signatures
    assert sig.sub_indication is SubIndication.FORMAT_FAILURE
    assert "stopped on one of its own consistency checks" in sig.message_en
    assert "phép kiểm tra nội bộ không đạt" in sig.message_vi
    assert "(AssertionError)" not in sig.message_en
