"""Where a prefilled value came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eforms.definition import Localized

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
    source: Localized | None = None
    """How people know ``provider`` ("Cơ sở dữ liệu quốc gia về dân cư"), when known."""

    def __post_init__(self) -> None:
        if self.retrieved_at.tzinfo is None:
            raise ValueError("retrieved_at must be timezone-aware")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (time in ISO 8601 with offset)."""
        out: dict[str, Any] = {
            "pointer": self.pointer,
            "value": self.value,
            "provider": self.provider,
            "key": self.key,
            "retrieved_at": self.retrieved_at.isoformat(),
            "locked": self.locked,
        }
        if self.source is not None:
            out["source"] = {"vi": self.source.vi, "en": self.source.get("en")}
        return out
