"""hoso.verify: the auditor's verifier for Vietnamese digital signatures.

It stands alone at the bottom of hoso: it imports neither ``esign`` nor ``eforms``.

>>> from verify import TrustProfile, ValidationPolicy, Verifier
>>> verifier = Verifier(TrustProfile.any(), ValidationPolicy())
>>> report = verifier.verify("dossier.pdf")          # doctest: +SKIP
>>> report.indication, report.message_vi              # doctest: +SKIP
"""

from verify.errors import (
    CertificateParseError,
    TrustStoreError,
    UnknownTrustProfileError,
    VerifyError,
)
from verify.identity import Identifier, IdentifierScheme, SignerIdentity, SignerKind
from verify.policy import AlgorithmRules, RevocationMode, ValidationPolicy
from verify.report import (
    REPORT_SCHEMA_VERSION,
    CertificateInfo,
    DocumentReport,
    Indication,
    RevocationReport,
    SignatureReport,
    SubIndication,
    TimestampReport,
    VerificationFailed,
)
from verify.trust import (
    CatalogEntry,
    Hierarchy,
    TrustProfile,
    bundled_catalog,
    fingerprint,
    load_certificates,
)
from verify.verifier import CertificateCheck, Verifier

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "AlgorithmRules",
    "CatalogEntry",
    "CertificateCheck",
    "CertificateInfo",
    "CertificateParseError",
    "DocumentReport",
    "Hierarchy",
    "Identifier",
    "IdentifierScheme",
    "Indication",
    "RevocationMode",
    "RevocationReport",
    "SignatureReport",
    "SignerIdentity",
    "SignerKind",
    "SubIndication",
    "TimestampReport",
    "TrustProfile",
    "TrustStoreError",
    "UnknownTrustProfileError",
    "ValidationPolicy",
    "VerificationFailed",
    "Verifier",
    "VerifyError",
    "bundled_catalog",
    "fingerprint",
    "load_certificates",
]
