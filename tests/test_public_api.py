"""Every protocol module says exactly what it exports (httpx's habit).

A name a module defines at top level without a leading underscore is public and
must be listed in ``__all__``; a listed name must exist. Private modules
(``_read``) are exempt: they are shared helpers, not API. Ruff's RUF022 keeps
each ``__all__`` sorted.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from typing import TYPE_CHECKING

import pytest

import protocol

if TYPE_CHECKING:
    from types import ModuleType


def _public_modules() -> list[ModuleType]:
    modules = [protocol]
    for info in pkgutil.walk_packages(protocol.__path__, "protocol."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            modules.append(importlib.import_module(info.name))
    return modules


def _defined_here(module: ModuleType) -> set[str]:
    """Top-level classes, functions and assignments in the module's own source."""
    names: set[str] = set()
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("module", _public_modules(), ids=lambda m: m.__name__)
def test_all_is_sorted_complete_and_real(module: ModuleType) -> None:
    exported = list(getattr(module, "__all__", []))
    missing = {name for name in exported if not hasattr(module, name)}
    assert not missing, f"{module.__name__}.__all__ names what does not exist: {missing}"
    unlisted = _defined_here(module) - set(exported)
    assert not unlisted, f"{module.__name__} defines public names not in __all__: {unlisted}"
