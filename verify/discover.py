"""Turn the paths given on the command line into a list of things to verify.

Rules (documented for auditors in ``docs/cli.md``):

- A folder is walked recursively; entries are visited in sorted order (by name, folders
  depth-first), so the same folder always gives the same list. Hidden entries (names
  starting with ``.``) are skipped while walking; a path named explicitly never is.
- Symbolic links are followed, but each real folder is entered once: a link loop ends.
- The same real file reached twice (named twice, or through a link) is verified once.
- Every entry that is not a folder is collected: regular files, and also FIFOs, sockets,
  devices and dangling links, so that each gets a line saying what it is (they are never
  opened: reading a FIFO could block for ever) and nothing is skipped silently. An
  unreadable folder is collected as itself: its report says it cannot be read.
- ``X.p7s`` or ``X.sig`` beside ``X`` is X's detached signature: the pair is one item,
  reported under ``X``. A signature file with no ``X`` beside it is an *orphan*: it gets
  its own item, reported as "signed data not found".
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SIGNATURE_SUFFIXES", "Item", "discover", "walk"]

SIGNATURE_SUFFIXES = (".p7s", ".sig")
"""Suffixes of detached CMS signature files (DER or PEM), compared case-insensitively."""


@dataclass(frozen=True)
class Item:
    """One thing to verify: a file, optionally with its detached signature."""

    path: Path
    """The document (for a detached pair: the signed content)."""
    detached: Path | None = None
    """Its detached CMS signature, when there is one."""
    orphan: bool = False
    """``path`` is a detached signature whose content file was not found."""


def is_signature_file(path: Path) -> bool:
    return path.suffix.lower() in SIGNATURE_SUFFIXES


def walk(root: Path, *, _seen: set[tuple[int, int]] | None = None) -> Iterator[Path]:
    """Files under ``root`` in a deterministic order, following links without looping."""
    seen = _seen if _seen is not None else set()
    try:
        st = root.stat()
    except OSError:
        yield root  # vanished or unreadable: its report will say so
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return
    seen.add(key)
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        yield root  # unreadable folder: reported, not silently skipped
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        child = root / entry.name
        try:
            if entry.is_dir(follow_symlinks=True):
                yield from walk(child, _seen=seen)
            else:
                yield child  # a file, FIFO, socket, device or dangling link: each reported
        except OSError:
            yield child


def _key(path: Path) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.fspath(path)


def _collect(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    seen_files: set[str] = set()
    seen_dirs: set[tuple[int, int]] = set()
    for raw in paths:
        path = Path(raw)
        found = walk(path, _seen=seen_dirs) if path.is_dir() else iter((path,))
        for file in found:
            key = _key(file)
            if key in seen_files:
                continue
            seen_files.add(key)
            files.append(file)
    return files


def discover(paths: Sequence[str | os.PathLike[str]]) -> list[Item]:
    """The items to verify for ``paths`` (files and folders), in a deterministic order."""
    files = _collect(paths)
    # content key -> the signature files that sign it, in order
    signatures: dict[str, list[Path]] = {}
    orphans: set[str] = set()
    for file in files:
        if not is_signature_file(file):
            continue
        content = file.with_suffix("")
        if content.name and content.is_file():
            signatures.setdefault(_key(content), []).append(file)
        else:
            orphans.add(_key(file))
    # a file named on its own still finds the signature lying beside it
    for file in files:
        if is_signature_file(file):
            continue
        for suffix in SIGNATURE_SUFFIXES:
            sibling = file.with_name(file.name + suffix)
            found = signatures.setdefault(_key(file), [])
            if sibling.is_file() and _key(sibling) not in {_key(f) for f in found}:
                found.append(sibling)
        if not signatures[_key(file)]:
            del signatures[_key(file)]

    items: list[Item] = []
    emitted: set[str] = set()
    for file in files:
        key = _key(file)
        if is_signature_file(file):
            if key in orphans:
                items.append(Item(file, orphan=True))
                continue
            # a paired signature stands in for its content when the content itself was
            # not collected (hidden, or only the signature was named)
            content = file.with_suffix("")
            ckey = _key(content)
            if ckey in emitted:
                continue
            emitted.add(ckey)
            items.extend(Item(content, detached=sig) for sig in signatures[ckey])
            continue
        if key in emitted:
            continue
        emitted.add(key)
        if key in signatures:
            items.extend(Item(file, detached=sig) for sig in signatures[key])
        else:
            items.append(Item(file))
    return items
