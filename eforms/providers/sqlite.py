"""Autofill from a SQLite database (the embedded demo registry, or any compatible one).

The database is opened read-only for every lookup; column names asked for are checked against
the table before any SQL is built, so a key can never inject SQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eforms.autofill import ProviderRegistry
from eforms.errors import ProviderError
from eforms.names import LabelLike

__all__ = ["SQLiteProvider", "sqlite_registry"]


class SQLiteProvider:
    """Looks ``subject`` up in ``table`` by the first of ``subject_columns`` that matches."""

    def __init__(
        self,
        path: str | Path,
        table: str,
        *,
        subject_columns: Sequence[str],
        busy_timeout: float = 2.0,
        display_name: LabelLike | None = None,
        enum_labels: Mapping[str, Mapping[Any, LabelLike] | str] | None = None,
    ) -> None:
        if not table.isidentifier() or not all(c.isidentifier() for c in subject_columns):
            raise ValueError("table and column names must be identifiers")
        self.path = Path(path)
        self.table = table
        self.subject_columns = tuple(subject_columns)
        self.busy_timeout = busy_timeout
        self.display_name = display_name
        """How people know this registry; :class:`~eforms.ProviderRegistry` reads it."""
        self.enum_labels = enum_labels
        """What the values of its columns mean (column -> value -> label, or a vocabulary)."""

    def __repr__(self) -> str:
        return f"SQLiteProvider({str(self.path)!r}, {self.table!r})"

    def _connect(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise ProviderError(f"registry database not found: {self.path}")
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=self.busy_timeout)

    def _lookup(self, subject: str, keys: Sequence[str]) -> dict[str, Any]:
        try:
            with self._connect() as conn:
                conn.row_factory = sqlite3.Row
                columns = {
                    row[1] for row in conn.execute(f"PRAGMA table_info({self.table})")
                }  # table name checked to be an identifier above
                wanted = [k for k in keys if k in columns]
                if not wanted:
                    return {}
                for col in self.subject_columns:
                    row = conn.execute(
                        f"SELECT {', '.join(wanted)} FROM {self.table} WHERE {col} = ? LIMIT 1",  # noqa: S608 - identifiers checked against PRAGMA table_info
                        (subject,),
                    ).fetchone()
                    if row is not None:
                        return {k: row[k] for k in wanted if row[k] is not None}
                return {}
        except sqlite3.Error as exc:
            raise ProviderError(f"{self.table}: {exc}") from exc

    async def lookup(self, subject: str, keys: Sequence[str]) -> Mapping[str, Any]:
        """The values of ``keys`` (column names) for ``subject``; {} when unknown."""
        return await asyncio.to_thread(self._lookup, subject, list(keys))


def sqlite_registry(path: str | Path, registry: ProviderRegistry | None = None) -> ProviderRegistry:
    """Register the demo registry's ``population``, ``business`` and ``insurance`` providers."""
    registry = registry or ProviderRegistry()
    registry.register("population", SQLiteProvider(path, "people", subject_columns=["personal_id"]))
    registry.register(
        "business",
        SQLiteProvider(path, "businesses", subject_columns=["tax_code", "owner_id"]),
    )
    registry.register(
        "insurance",
        SQLiteProvider(path, "insurance", subject_columns=["personal_id", "insurance_number"]),
    )
    return registry
