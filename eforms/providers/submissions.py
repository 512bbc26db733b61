"""Autofill from the same subject's earlier submissions ("you told us this before")."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from eforms import pointers
from eforms.errors import ProviderError

__all__ = ["SubmissionStore", "SubmissionsProvider"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    form TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_subject ON submissions (subject, submitted_at);
"""


class SubmissionStore:
    """Earlier submissions in a SQLite file (``":memory:"`` is not shared across threads)."""

    def __init__(self, path: str | Path, *, max_bytes: int = 1_000_000) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        with sqlite3.connect(self.path) as conn:
            conn.executescript(_SCHEMA)

    def record(
        self, subject: str, form: str, data: Mapping[str, Any], submitted_at: datetime
    ) -> None:
        """Keep ``data`` that ``subject`` submitted on ``form`` at ``submitted_at`` (aware)."""
        if submitted_at.tzinfo is None:
            raise ValueError("submitted_at must be timezone-aware")
        text = json.dumps(data, ensure_ascii=False)
        if len(text) > self.max_bytes:
            raise ValueError("submission too large to keep")
        with sqlite3.connect(self.path) as conn:
            conn.execute(
                "INSERT INTO submissions (subject, form, submitted_at, data) VALUES (?, ?, ?, ?)",
                (subject, form, submitted_at.isoformat(), text),
            )

    def latest(self, subject: str, limit: int = 50) -> list[dict[str, Any]]:
        """The subject's last ``limit`` submissions' data, newest first."""
        try:
            with sqlite3.connect(self.path) as conn:
                rows = conn.execute(
                    "SELECT data FROM submissions WHERE subject = ? "
                    "ORDER BY submitted_at DESC, id DESC LIMIT ?",
                    (subject, limit),
                ).fetchall()
        except sqlite3.Error as exc:
            raise ProviderError(f"submissions: {exc}") from exc
        return [json.loads(r[0]) for r in rows]


class SubmissionsProvider:
    """Keys are paths into earlier data: ``applicant.phone`` or ``/applicant/phone``.

    The newest submission that has a value for a key wins.
    """

    def __init__(self, store: SubmissionStore) -> None:
        self.store = store

    def _lookup(self, subject: str, keys: Sequence[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        history = self.store.latest(subject)
        for key in keys:
            ptr = key if key.startswith("/") else pointers.join(key.split("."))
            for data in history:
                value = pointers.get(data, ptr)
                if value is not pointers.MISSING and value not in (None, ""):
                    found[key] = value
                    break
        return found

    async def lookup(self, subject: str, keys: Sequence[str]) -> Mapping[str, Any]:
        return await asyncio.to_thread(self._lookup, subject, list(keys))
