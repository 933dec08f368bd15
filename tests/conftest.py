"""Shared fixtures: the demo news sites on 127.0.0.1."""

from __future__ import annotations

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
