"""hoso.verify: the auditor's verifier for Vietnamese digital signatures.

It stands alone at the bottom of hoso: it imports neither ``esign`` nor ``eforms``.

>>> from verify import TrustProfile, ValidationPolicy, Verifier
>>> verifier = Verifier(TrustProfile.any(), ValidationPolicy())
>>> report = verifier.verify("dossier.pdf")          # doctest: +SKIP
>>> report.indication, report.message_vi              # doctest: +SKIP

Thousands of documents, streamed, on one machine's cores or a Dask cluster:

>>> for report in verify_many(paths, verifier=verifier, workers=4):  # doctest: +SKIP
...     print(report.path, report.indication)

Logging: hoso logs under ``hoso.*`` (a NullHandler on ``hoso``). Making a ``Verifier``
puts a filter on pyHanko's loggers that lowers the tracebacks of expected validation
failures to DEBUG (:mod:`verify.logs`; ``verify.logs.uninstall()`` takes it off).
"""

from verify.bulk import BulkItem, verify_many
from verify.cache import RevocationCache
from verify.errors import (
    CertificateParseError,
    PolicyFileError,
    TrustStoreError,
    UnknownTrustProfileError,
    VerifyError,
)
from verify.identity import Identifier, IdentifierScheme, SignerIdentity, SignerKind
from verify.policy import (
    CONSTRAINTS,
    AlgorithmRules,
    Constraint,
    Level,
    RevocationMode,
    ValidationPolicy,
    load_policy,
)
from verify.report import (
    REPORT_SCHEMA_VERSION,
    CertificateInfo,
    ConstraintResult,
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
    "CONSTRAINTS",
    "REPORT_SCHEMA_VERSION",
    "AlgorithmRules",
    "BulkItem",
    "CatalogEntry",
    "CertificateCheck",
    "CertificateInfo",
    "CertificateParseError",
    "Constraint",
    "ConstraintResult",
    "DocumentReport",
    "Hierarchy",
    "Identifier",
    "IdentifierScheme",
    "Indication",
    "Level",
    "PolicyFileError",
    "RevocationCache",
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
    "load_policy",
    "verify_many",
]
