"""The extraction service's worker processes never outlive the run, whatever ends it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_script(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=90)


def test_a_crawl_that_dies_before_the_corpus_is_written_still_lets_the_run_exit():
    """The worker held back while the crawl runs must be let go when the crawl dies, not only when it ends."""
    result = run_script(textwrap.dedent("""
        from extract.service import ExtractionService

        if __name__ == "__main__":
            try:
                with ExtractionService(2):
                    raise RuntimeError("crawl crashed")
            except RuntimeError as exc:
                print("caught:", exc)
    """))
    assert result.returncode == 0, result.stderr
    assert "caught: crawl crashed" in result.stdout


def _script_with_an_archived_article(archive: Path, then: str) -> str:
    """A script that archives one article at ``archive`` (``location`` says where), then runs ``then``."""
    return textwrap.dedent(f"""
        import logging, multiprocessing, os, signal, sys, time
        from pathlib import Path
        from archive.writer import RollingWarcWriter
        from extract.service import ExtractionService

        if __name__ == "__main__":
            logging.basicConfig(level=logging.ERROR, stream=sys.stdout)
            archive = Path({str(archive)!r})
            writer = RollingWarcWriter(archive / "warc", "test", {{"newsarchive-source": "s"}})
            html = b"<html><head><title>Harbour</title></head><body><article><h1>Harbour</h1>"
            html += b"<p>The harbour board met on Monday to agree the winter dredging plan for the port.</p>" * 20
            html += b"</article></body></html>"
            headers = [("Content-Type", "text/html"), ("Content-Length", str(len(html)))]
            record = writer.response_record("http://example.test/2026/harbour-plan", "200 OK", headers, html, {{}})
            location = writer.write_capture([record])[0]
            writer.close()
    """) + textwrap.indent(textwrap.dedent(then), " " * 4)


def test_a_crawl_that_dies_with_extractions_under_way_still_lets_the_run_exit(tmp_path):
    """Outcomes nobody collects must not keep the workers (and so the run) from exiting."""
    result = run_script(_script_with_an_archived_article(tmp_path, """
        try:
            with ExtractionService(2) as service:
                for _ in range(200):  # outcomes well beyond what a pipe holds
                    service.submit("s", archive / "warc" / location.warc_file, location.offset)
                raise RuntimeError("crawl crashed")
        except RuntimeError as exc:
            print("caught:", exc)
    """))
    assert result.returncode == 0, result.stderr
    assert "caught: crawl crashed" in result.stdout


def test_an_extraction_process_that_dies_is_reported_and_the_corpus_still_written(tmp_path):
    """Workers killed mid-crawl (a crash in a parser, the OOM killer) break the pool; nothing may hang."""
    result = run_script(_script_with_an_archived_article(tmp_path, """
        service = ExtractionService(2)
        for _ in range(3):
            service.submit("s", archive / "warc" / location.warc_file, location.offset)
        while not service._queued.empty():  # the workers are up (the fork server loads the extractor
            time.sleep(0.05)  # and warms up its date parser first: seconds) and have taken the captures
        time.sleep(0.5)
        for worker in multiprocessing.active_children():  # the one extracting and the one held back
            os.kill(worker.pid, signal.SIGKILL)
        for _ in range(20_000):  # the crawl goes on: more captures than the queue's pipe holds
            service.submit("s", archive / "warc" / location.warc_file, location.offset)
        rows = service.write_corpus(archive)
        print("rows:", len(rows))
    """))
    assert result.returncode == 0, result.stderr
    assert "an extraction process failed" in result.stdout
    assert "rows:" in result.stdout
