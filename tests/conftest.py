"""Shared fixtures: the demo news sites on 127.0.0.1, a small disk of a test's own."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The suite must run from a plain checkout as well as from an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.site import DemoSite  # noqa: E402


@pytest.fixture
def demo_site() -> Iterator[DemoSite]:
    """The three demo sites, started fresh for each test and stopped after it."""
    with DemoSite() as site:
        yield site


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MB tmpfs of its own: a disk that can be filled without touching anyone else's."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)
