"""Logging: hoso's own loggers, and third-party tracebacks of expected failures kept quiet.

hoso logs through :mod:`logging` under ``hoso.*`` (``hoso.verify``, ``hoso.verify.cli``...)
and, as a library should, adds only a :class:`logging.NullHandler` to the ``hoso`` logger:
where the records go is the application's choice.

pyHanko and pyhanko-certvalidator log an ordinary failed validation (no revocation data
offline, an untrusted chain, a changed document) as a WARNING or ERROR *with its
traceback*. For hoso such a failure is a verdict, and its cause is in the report; printed
on stderr a hundred times over it reads like a crash. :func:`install` (run once when
``verify`` is imported; calling it again is harmless) puts a :class:`ExpectedFailures`
filter on pyHanko's loggers. It touches nothing else — no level, handler or propagation
of theirs changes, and no third-party code is patched — and does only this: a record that
carries an exception of pyHanko, pyhanko-certvalidator, asn1crypto or cryptography, or a
``ValueError`` / ``OSError`` (malformed input, an unreachable server) is lowered to DEBUG.
It then reaches handlers only where that logger is enabled for DEBUG (the application
asked for debug output), with its traceback; otherwise it is dropped. A record with any
other exception (a bug) and every record without one pass unchanged. :func:`uninstall`
takes the filter off again.
"""

from __future__ import annotations

import logging

__all__ = [
    "THIRD_PARTY_LOGGERS",
    "ExpectedFailures",
    "get_logger",
    "install",
    "uninstall",
]

THIRD_PARTY_LOGGERS = (
    "pyhanko",
    "pyhanko.pdf_utils.crypt.pubkey",
    "pyhanko.pdf_utils.generic",
    "pyhanko.pdf_utils.reader",
    "pyhanko.pdf_utils.xref",
    "pyhanko.sign.diff_analysis.policies",
    "pyhanko.sign.general",
    "pyhanko.sign.validation.ades",
    "pyhanko.sign.validation.dss",
    "pyhanko.sign.validation.generic_cms",
    "pyhanko.sign.validation.pdf_embedded",
    "pyhanko.sign.validation.status",
    "pyhanko_certvalidator",
    "pyhanko_certvalidator.fetchers.common_utils",
    "pyhanko_certvalidator.revinfo.validate_crl",
    "pyhanko_certvalidator.util",
)
"""The pyHanko modules that log warnings or errors. A logging filter applies only to the
records logged on the very logger it is on (not on its children), so :func:`install` puts
it on each of these and on every ``pyhanko*`` logger that exists when it runs."""

_EXPECTED_MODULES = ("pyhanko", "pyhanko_certvalidator", "asn1crypto", "cryptography")

_logging_ready = False
_wanted = True


def get_logger(name: str = "") -> logging.Logger:
    """hoso's logger ``hoso.verify`` or ``hoso.verify.<name>``."""
    return logging.getLogger(f"hoso.verify.{name}" if name else "hoso.verify")


class ExpectedFailures(logging.Filter):
    """Lowers a third-party record of an expected failure to DEBUG (see the module docs)."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self._logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG or not _expected(record):
            return True
        record.levelno = logging.DEBUG
        record.levelname = logging.getLevelName(logging.DEBUG)
        return self._logger.isEnabledFor(logging.DEBUG)


def _expected(record: logging.LogRecord) -> bool:
    info = record.exc_info
    if not info or info[1] is None:
        return False
    exc = info[1]
    if isinstance(exc, ValueError | OSError):
        return True
    module = type(exc).__module__ or ""
    return module.split(".", 1)[0] in _EXPECTED_MODULES


def _targets() -> list[logging.Logger]:
    names = set(THIRD_PARTY_LOGGERS)
    names.update(
        name
        for name in list(logging.Logger.manager.loggerDict)
        if name.split(".", 1)[0] in ("pyhanko", "pyhanko_certvalidator")
    )
    return [logging.getLogger(name) for name in sorted(names)]


def ensure() -> None:
    """:func:`install`, unless :func:`uninstall` was called: what making a
    :class:`~verify.Verifier` does."""
    if _wanted:
        install()


def install() -> None:
    """Put the :class:`ExpectedFailures` filter on pyHanko's loggers (idempotent), and a
    NullHandler on ``hoso``."""
    global _logging_ready, _wanted
    _wanted = True
    if not _logging_ready:
        logging.getLogger("hoso").addHandler(logging.NullHandler())
        _logging_ready = True
    for logger in _targets():
        if not any(isinstance(f, ExpectedFailures) for f in logger.filters):
            logger.addFilter(ExpectedFailures(logger))


def uninstall() -> None:
    """Take the filter off again: pyHanko's records pass as pyHanko logs them (and later
    verifiers do not put it back)."""
    global _wanted
    _wanted = False
    for logger in _targets():
        for f in [f for f in logger.filters if isinstance(f, ExpectedFailures)]:
            logger.removeFilter(f)
