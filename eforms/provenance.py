"""Where a prefilled value came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["FilledValue"]


@dataclass(frozen=True)
class FilledValue:
    """A value autofill put at ``pointer``: from ``provider``'s ``key`` at ``retrieved_at``.

    ``locked`` values come from an authoritative registry; the person cannot change them.
    """

    pointer: str
    value: Any
    provider: str
    key: str
    retrieved_at: datetime
    locked: bool

    def __post_init__(self) -> None:
        if self.retrieved_at.tzinfo is None:
            raise ValueError("retrieved_at must be timezone-aware")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (time in ISO 8601 with offset)."""
        return {
            "pointer": self.pointer,
            "value": self.value,
            "provider": self.provider,
            "key": self.key,
            "retrieved_at": self.retrieved_at.isoformat(),
            "locked": self.locked,
        }
