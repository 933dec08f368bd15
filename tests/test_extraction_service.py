"""The extraction service's worker processes never outlive the run, whatever ends it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_crawl_that_dies_before_the_corpus_is_written_still_lets_the_run_exit():
    """The worker held back while the crawl runs must be let go when the crawl dies, not only when it ends."""
    script = textwrap.dedent("""
        from extract.service import ExtractionService

        if __name__ == "__main__":
            try:
                with ExtractionService(2):
                    raise RuntimeError("crawl crashed")
            except RuntimeError as exc:
                print("caught:", exc)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "caught: crawl crashed" in result.stdout
