"""Each package's public surface: ``__all__`` is sorted, complete and importable."""

from __future__ import annotations

import importlib
import types

import pytest

PACKAGES = ["verify", "esign", "eforms"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_every_name_exists(name: str) -> None:
    """``__all__`` is sorted (constants first, as ruff sorts it) and every name resolves."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))
    assert len(set(exported)) == len(exported)
    for attr in exported:
        assert hasattr(module, attr), f"{name}.{attr} is listed but missing"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_defined_in_the_package_is_exported(name: str) -> None:
    """Public classes and functions imported into the package's namespace are in ``__all__``."""
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", "").split(".")[0] == name
    }
    assert public <= set(module.__all__), sorted(public - set(module.__all__))


def test_verify_imports_neither_esign_nor_eforms() -> None:
    """``verify`` stands alone: importing it (and its CLI) loads neither esign nor eforms."""
    import subprocess
    import sys

    code = (
        "import sys, verify, verify.cli, verify.bulk, verify.render; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('esign', 'eforms')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
