"""JSON Pointer (RFC 6901) helpers for data and JSON Forms scopes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["MISSING", "get", "join", "scope_to_pointer", "set_value", "split"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def split(pointer: str) -> list[str]:
    """``"/a/b~1c"`` -> ``["a", "b/c"]``."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON Pointer: {pointer!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def join(parts: Iterable[str | int]) -> str:
    """``["a", 0, "b/c"]`` -> ``"/a/0/b~1c"``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def get(data: Any, pointer: str) -> Any:
    """The value at ``pointer`` in ``data``, or :data:`MISSING`."""
    current = data
    for part in split(pointer):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


def set_value(data: dict[str, Any], pointer: str, value: Any) -> None:
    """Set ``value`` at ``pointer``, creating objects on the way."""
    parts = split(pointer)
    if not parts:
        raise ValueError("cannot replace the whole document")
    current: Any = data
    for part in parts[:-1]:
        if isinstance(current, list) and part.isdigit():
            current = current[int(part)]
            continue
        if not isinstance(current.get(part), dict | list):
            current[part] = {}
        current = current[part]
    if isinstance(current, list):
        current[int(parts[-1])] = value
    else:
        current[parts[-1]] = value


def scope_to_pointer(scope: str) -> str:
    """JSON Forms scope ``#/properties/a/properties/b`` -> data pointer ``/a/b``.

    Only ``properties`` steps name data; ``items`` becomes nothing (the array itself).
    """
    parts = split(scope[1:] if scope.startswith("#") else scope)
    out: list[str] = []
    i = 0
    while i < len(parts):
        if parts[i] == "properties" and i + 1 < len(parts):
            out.append(parts[i + 1])
            i += 2
        else:
            i += 1
    return join(out)
