"""newsarchive installed with pip (a wheel in site-packages), not run from its checkout."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parent.parent


def _shipped() -> tuple[set[str], list[Path]]:
    """The top-level names the wheel installs and the source files it holds, from pyproject.toml's
    setuptools settings (read with setuptools' own package finder)."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = find_packages(ROOT, include=setuptools["packages"]["find"]["include"])
    modules = setuptools["py-modules"]
    files = [ROOT / f"{module}.py" for module in modules]
    for package in packages:
        files += (ROOT / package.replace(".", "/")).glob("*.py")
    return {name.split(".")[0] for name in [*packages, *modules]}, files


def test_every_module_of_the_checkout_that_the_installed_commands_import_is_installed():
    """`newsarchive schedule` installed with pip stopped at once on ModuleNotFoundError: job_store."""
    shipped, files = _shipped()
    ours = {path.stem for path in ROOT.glob("*.py")} | {path.parent.name for path in ROOT.glob("*/__init__.py")}
    imported = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                imported.add(node.module.split(".")[0])
    assert sorted((imported & ours) - shipped) == []
