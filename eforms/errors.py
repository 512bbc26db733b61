"""Exceptions raised by :mod:`eforms`.

The tree, in full::

    EformsError                     base of everything this package raises on purpose
    ├── DefinitionError             a form definition (or plain schema) is refused on load
    ├── CatalogError                a procedure or form is unknown, or catalog data is broken
    ├── LogicError                  a computed-field expression is refused or fails to evaluate
    ├── ProviderError               an autofill provider could not answer (never escapes autofill)
    ├── RegistryError               a provider name is unknown or registered twice
    └── FormValidationError         raised by ``ValidationReport.raise_for_status()``

    DefinitionWarning (a UserWarning) what :func:`~eforms.lint.check_definition` finds in a
                                    definition that loads: unlabelled fields, unnamed
                                    providers, enum values without labels, unknown references

Every error carries data, not just text: ``DefinitionError.location`` is a JSON Pointer into
the definition, ``FormValidationError.errors`` the ranked :class:`~eforms.validation.FieldError`
list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eforms.lint import Problem
    from eforms.validation import FieldError

__all__ = [
    "CatalogError",
    "DefinitionError",
    "DefinitionWarning",
    "EformsError",
    "FormValidationError",
    "LogicError",
    "ProviderError",
    "RegistryError",
]


class EformsError(Exception):
    """Base class of every error :mod:`eforms` raises on purpose."""


class DefinitionError(EformsError):
    """A form definition is broken; ``location`` points at the bad place (JSON Pointer)."""

    def __init__(self, message: str, *, location: str = "", source: str = "") -> None:
        self.location = location
        self.source = source
        where = f"{source}:" if source else ""
        where += location or "/"
        super().__init__(f"{where}: {message}")
        self.reason = message


class DefinitionWarning(UserWarning):
    """A definition loads but would read badly: ``problem`` is the
    :class:`~eforms.lint.Problem` (location, code, message in English and Vietnamese)."""

    def __init__(self, problem: Problem, source: str = "") -> None:
        self.problem = problem
        self.source = source
        where = f"{source}:" if source else ""
        super().__init__(f"{where}{problem}")


class CatalogError(EformsError):
    """A procedure or form is not in the catalog, or catalog data is malformed."""


class LogicError(EformsError):
    """A computed-field expression uses an unknown operation, is too deep or too costly."""


class ProviderError(EformsError):
    """An autofill provider failed; autofill turns it into a warning."""


class RegistryError(EformsError):
    """An autofill provider name is unknown, or registered twice."""


class FormValidationError(EformsError):
    """Filled data does not satisfy its form; ``errors`` lists every problem, best first."""

    def __init__(self, errors: tuple[FieldError, ...]) -> None:
        self.errors = errors
        first = errors[0] if errors else None
        summary = f"{first.pointer or '/'}: {first.message_en}" if first else "invalid"
        super().__init__(f"{len(errors)} validation error(s); first: {summary}")
