"""hoso.eforms: interactive e-forms for Vietnamese public services.

Load a procedure's form, autofill it from the registries the state already keeps, validate
what the person typed with Vietnamese (and English) messages::

    from eforms import bundled_catalog, autofill_sync, sqlite_registry, validate

    form = bundled_catalog().form("to-khai-thay-doi-thong-tin-cu-tru")
    prefilled = autofill_sync(form, "001090012345", sqlite_registry("registry.sqlite"))
    report = validate(form, prefilled.data, prefilled=prefilled.values)
    for error in report.errors:
        print(error.pointer, error.code, error.message_vi)

and submit it signed (:func:`submit`: validate, verify attachments, dossier code, PDF/A-3,
PAdES signature, a bundle with a SHA-256 manifest).
"""

from __future__ import annotations

from eforms.autofill import (
    ENTRY_POINT_GROUP,
    AutofillProvider,
    AutofillResult,
    AutofillWarning,
    ProviderRegistry,
    autofill,
    autofill_sync,
)
from eforms.catalog import (
    Catalog,
    Fee,
    FormRef,
    LegalReference,
    Procedure,
    RequiredDocument,
    bundled_catalog,
)
from eforms.definition import (
    AutofillBinding,
    ComputedField,
    CrossCheck,
    FieldLabel,
    FormDefinition,
    Localized,
    SignerBlock,
    load_definition,
)
from eforms.errors import (
    CatalogError,
    DefinitionError,
    DefinitionWarning,
    EformsError,
    FormValidationError,
    LogicError,
    ProviderError,
    RegistryError,
)
from eforms.formats import (
    PersonalId,
    format_checker,
    format_display_date,
    is_tax_code,
    normalize_mobile,
    parse_display_date,
    parse_personal_id,
    tax_check_digit,
)
from eforms.lint import Problem, check_definition
from eforms.names import (
    NAMES,
    NameRegistry,
    provider_display_name,
    register_key_labels,
    register_provider_name,
    register_vocabulary,
)
from eforms.provenance import FilledValue
from eforms.providers import (
    HttpJsonProvider,
    SQLiteProvider,
    SubmissionsProvider,
    SubmissionStore,
    sqlite_registry,
)
from eforms.render import (
    PdfAttachment,
    PdfMetadata,
    RenderError,
    render_html,
    render_pdf,
)
from eforms.rules import evaluate_rules, hidden_fields
from eforms.submission import (
    Attachment,
    AttachmentRefused,
    CheckedAttachment,
    CodeRecord,
    DossierCodes,
    SignerMismatch,
    Submission,
    SubmissionError,
    asubmit,
    stamp_for,
    submit,
)
from eforms.text import fold, nfc
from eforms.validation import FieldError, ValidationReport, compute, validate

__all__ = [
    "ENTRY_POINT_GROUP",
    "NAMES",
    "Attachment",
    "AttachmentRefused",
    "AutofillBinding",
    "AutofillProvider",
    "AutofillResult",
    "AutofillWarning",
    "Catalog",
    "CatalogError",
    "CheckedAttachment",
    "CodeRecord",
    "ComputedField",
    "CrossCheck",
    "DefinitionError",
    "DefinitionWarning",
    "DossierCodes",
    "EformsError",
    "Fee",
    "FieldError",
    "FieldLabel",
    "FilledValue",
    "FormDefinition",
    "FormRef",
    "FormValidationError",
    "HttpJsonProvider",
    "LegalReference",
    "Localized",
    "LogicError",
    "NameRegistry",
    "PdfAttachment",
    "PdfMetadata",
    "PersonalId",
    "Problem",
    "Procedure",
    "ProviderError",
    "ProviderRegistry",
    "RegistryError",
    "RenderError",
    "RequiredDocument",
    "SQLiteProvider",
    "SignerBlock",
    "SignerMismatch",
    "Submission",
    "SubmissionError",
    "SubmissionStore",
    "SubmissionsProvider",
    "ValidationReport",
    "asubmit",
    "autofill",
    "autofill_sync",
    "bundled_catalog",
    "check_definition",
    "compute",
    "evaluate_rules",
    "fold",
    "format_checker",
    "format_display_date",
    "hidden_fields",
    "is_tax_code",
    "load_definition",
    "nfc",
    "normalize_mobile",
    "parse_display_date",
    "parse_personal_id",
    "provider_display_name",
    "register_key_labels",
    "register_provider_name",
    "register_vocabulary",
    "render_html",
    "render_pdf",
    "sqlite_registry",
    "stamp_for",
    "submit",
    "tax_check_digit",
    "validate",
]
