"""Bundled autofill providers: SQLite registries, earlier submissions, HTTP JSON."""

from __future__ import annotations

from eforms.providers.http import HttpJsonProvider
from eforms.providers.sqlite import SQLiteProvider, sqlite_registry
from eforms.providers.submissions import SubmissionsProvider, SubmissionStore

__all__ = [
    "HttpJsonProvider",
    "SQLiteProvider",
    "SubmissionStore",
    "SubmissionsProvider",
    "sqlite_registry",
]
