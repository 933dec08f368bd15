"""newsarchive as operators run it: installed with pip (a wheel in site-packages), from any directory."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from setuptools import find_packages

from corpus.export import read_corpus
from demo.run import write_demo_config
from demo.site import DemoSite

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
    # the checkout's modules and directories, bench/ (no package) too: an import of any not installed fails there
    ours = {path.stem for path in ROOT.glob("*.py")} | {path.name for path in ROOT.iterdir() if path.is_dir()}
    imported = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                imported.add(node.module.split(".")[0])
    assert sorted((imported & ours) - shipped) == []


def test_a_run_started_in_a_directory_holding_python_files_named_like_its_modules_archives_and_derives(tmp_path):
    """Its archive writer and derivation (``python -m`` children) imported the working directory's files first."""
    here = tmp_path / "scripts"
    here.mkdir()
    for name in ("warcio", "supervision"):  # a library's name and one of ours
        (here / f"{name}.py").write_text(f"raise SystemExit('the working directory\'s {name}.py was imported')\n")
    with DemoSite() as site:
        (tmp_path / "out").mkdir()
        config = write_demo_config(site, tmp_path / "out")
        # -P: as the installed `newsarchive` script, whose sys.path starts at its own bin/, not the working directory
        result = subprocess.run([sys.executable, "-P", "-m", "cli", "run", "--config", str(config)], cwd=here,
                                capture_output=True, text=True, timeout=180,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (result.returncode, "was imported" in result.stderr) == (0, False), result.stderr[-2000:]
    assert len(read_corpus(tmp_path / "out")) == 15
