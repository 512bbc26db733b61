"""The verify package's layout: readers read, the process judges, the facade stays thin."""

from __future__ import annotations

import ast
from pathlib import Path

import verify

PACKAGE = Path(verify.__file__).parent


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(("verify", *path.relative_to(PACKAGE).with_suffix("").parts))
        found[name.removesuffix(".__init__")] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def _imports(tree: ast.Module) -> list[ast.ImportFrom]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]


def test_no_verify_module_imports_a_private_name_of_another() -> None:
    """Modules share public names only: no ``from verify.x import _private``."""
    for name, tree in _modules().items():
        for node in _imports(tree):
            if node.module and node.module.startswith("verify"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{name} imports {private} from {node.module}"


def test_only_the_facade_uses_the_format_readers() -> None:
    """The readers are reached through ``Verifier``; nothing else imports them (a module
    may ask a format's ``looks_like_*``/``is_*`` whether bytes or names are of it, as the command's
    screening does), so the process and the engine cannot grow format branches."""
    for name, tree in _modules().items():
        if name.startswith("verify.formats") or name == "verify.verifier":
            continue
        for node in _imports(tree):
            if (node.module or "").startswith("verify.formats"):
                names = [a.name for a in node.names]
                assert all(n.startswith(("looks_like", "is_")) for n in names), (name, names)


def test_the_process_and_the_engine_import_no_reader() -> None:
    """The verdict rules (process) and path validation (engine) know no format reader and
    no facade: a new format cannot reach them except through evidence."""
    modules = _modules()
    for name in ("verify.process", "verify.engine", "verify.policy"):
        imported = {node.module for node in _imports(modules[name])}
        assert not {
            m for m in imported if m and m.startswith(("verify.formats", "verify.verifier"))
        }


def test_the_facade_runs_no_pyhanko_validation_itself() -> None:
    """``verify/verifier.py`` reads input and dispatches: every pyHanko validation call is
    in a reader or the engine."""
    tree = _modules()["verify.verifier"]
    for node in _imports(tree):
        assert not (node.module or "").startswith("pyhanko.sign"), node.module
