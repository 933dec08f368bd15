"""`newsarchive extract FILE...` as a user runs it."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extract.command import run_extract_command

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "extract"
ARTICLE = FIXTURES / "article_full.html"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", "extract", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_one_file_prints_seed_text() -> None:
    result = _cli(str(ARTICLE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Harbour ferry returns after two-year refit\n\nThe blue-hulled ferry")
    assert result.stdout.endswith("\n")


def test_gzip_file_and_url(tmp_path: Path) -> None:
    packed = tmp_path / "page.html.gz"
    packed.write_bytes(gzip.compress(ARTICLE.read_bytes()))
    result = _cli("--jsonl", "--url", "https://courier.example.org/news/x", str(packed))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["file"] == str(packed)
    assert record["url"] == "https://courier.example.org/news/x"
    assert record["title"] == record["text"].split("\n")[0] == "Harbour ferry returns after two-year refit"
    assert record["date"].startswith("2024-03-14") and record["author"] == "Priya Castellane"


def test_several_files_one_json_line_each(capsys) -> None:
    files = [str(ARTICLE), str(FIXTURES / "site_page1.html")]
    assert run_extract_command(files) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["file"] for line in lines] == files
    assert json.loads(lines[1])["title"] == "Sea wall repairs to start in May"


def test_unreadable_file_reported_others_still_run(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.html.gz"
    broken.write_bytes(b"not gzip at all")
    missing = tmp_path / "missing.html"
    assert run_extract_command([str(broken), str(ARTICLE), str(missing)]) == 1
    captured = capsys.readouterr()
    assert str(broken) in captured.err and str(missing) in captured.err
    assert [json.loads(line)["file"] for line in captured.out.splitlines()] == [str(ARTICLE)]


@pytest.mark.parametrize(("given", "said"), [
    ("nothere.html", "nothere.html: no such file"),
    ("pages", "pages: a directory with no web archive in it"),
    ("broken.html.gz", "broken.html.gz: cannot read it: Not a gzipped file (b'no')"),
    ("binary.html", "binary.html: not a saved page or a web archive (application/octet-stream)"),
    pytest.param("locked.html", "locked.html: cannot read it: Permission denied", marks=pytest.mark.skipif(
        os.geteuid() == 0, reason="root reads a file whatever its mode")),
])
def test_a_file_that_cannot_be_read_as_a_page_is_one_line_naming_it_and_exit_1(tmp_path: Path, given, said) -> None:
    """A missing file or a directory printed errno's own words: "cannot read nothere.html: [Errno 2] No such file or
    directory: 'nothere.html'"."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "broken.html.gz").write_bytes(b"not gzip at all")
    (tmp_path / "binary.html").write_bytes(bytes(range(256)))
    (tmp_path / "locked.html").write_bytes(ARTICLE.read_bytes())
    (tmp_path / "locked.html").chmod(0)
    result = subprocess.run([sys.executable, "-m", "cli", "extract", given], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"newsarchive extract: {said}\n")


CDX = b" CDX a b a m s k r M V g\nhttp://127.0.0.1/ 20261207080000 http://127.0.0.1/ text/html 200 ABC - - 512 crawl.warc.gz\n"


def test_files_that_are_no_saved_page_are_named_in_one_line_each_and_the_page_still_extracted(tmp_path: Path) -> None:
    """A CDX index, a PDF or an image given among saved pages is no article: told by its bytes, not its name."""
    others = {"crawl.cdx": CDX, "scan.html": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "photo.png":
              b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(20)}
    for name, data in others.items():
        (tmp_path / name).write_bytes(data)
    result = _cli(str(tmp_path / "crawl.cdx"), str(ARTICLE), str(tmp_path / "scan.html"), str(tmp_path / "photo.png"))
    assert result.returncode == 1, result.stderr
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == [str(ARTICLE)]
    assert json.loads(result.stdout)["text"].startswith("Harbour ferry returns after two-year refit\n\n")
    assert result.stderr.splitlines() == [
        f"newsarchive extract: {tmp_path / 'crawl.cdx'}: not a saved page or a web archive "
        "(text with no HTML markup: it begins b' CDX a b a m s k r M V g')",
        f"newsarchive extract: {tmp_path / 'scan.html'}: not a saved page or a web archive (application/pdf)",
        f"newsarchive extract: {tmp_path / 'photo.png'}: not a saved page or a web archive (image/png)"]


def test_a_page_that_a_browser_sniffs_as_plain_text_is_still_a_saved_page(tmp_path: Path) -> None:
    """A saved page that begins with a byte order mark or ``<meta charset>`` is HTML by its markup."""
    page = tmp_path / "page.html"
    page.write_bytes(b"\xef\xbb\xbf<meta charset='utf-8'>\n" + ARTICLE.read_bytes())
    result = _cli(str(page))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Harbour ferry returns after two-year refit\n\n")


def test_help_says_what_a_single_page_lacks() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    assert "template" in result.stdout and "--site DIR" in result.stdout


def test_site_directory_teaches_the_template(tmp_path: Path, capsys) -> None:
    for page in FIXTURES.glob("site_page*.html"):
        (tmp_path / page.name).write_bytes(page.read_bytes())
    one = str(tmp_path / "site_page1.html")
    disclaimer = "Opinions expressed by contributors"
    assert run_extract_command([one]) == 0
    alone = capsys.readouterr().out
    assert run_extract_command([one], site=str(tmp_path)) == 0
    learnt = capsys.readouterr().out
    assert disclaimer in alone and disclaimer not in learnt
    assert learnt.startswith("Sea wall repairs to start in May\n\nContractors will begin")
    assert run_extract_command([], site=str(tmp_path)) == 0  # no FILE: every page of the site
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 4 and all(disclaimer not in r["text"] for r in records)


def test_a_gzip_bomb_is_one_line_too_large_when_decompressed_read_in_bounded_memory(tmp_path: Path) -> None:
    """1 GB of markup in 1 MB of gzip: read no further than any archived page goes (the crawler's download
    limit), in memory of that order, not the whole expansion; the other files still run."""
    bomb = tmp_path / "bomb.html.gz"
    with gzip.open(bomb, "wb", compresslevel=6) as out:
        out.write(b"<html><body><p>")
        chunk = b"a" * 2**20
        for _ in range(1024):
            out.write(chunk)
    # The peak of this process's own memory (VmHWM: getrusage's ru_maxrss keeps the parent's from
    # before exec, which a suite's pytest process of 400 MB makes the figure)
    measured = ("import runpy, sys\n"
                "sys.argv = ['newsarchive'] + sys.argv[1:]\n"
                "try:\n    runpy.run_module('cli', run_name='__main__')\n"
                "finally:\n"
                "    print('peak', next(line.split()[1] for line in open('/proc/self/status')\n"
                "                       if line.startswith('VmHWM:')), file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", measured, "extract", str(bomb), str(ARTICLE)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    *lines, peak = result.stderr.splitlines()
    assert result.returncode == 1, result.stderr
    assert lines == [f"newsarchive extract: {bomb}: too large when decompressed (over 20 MB)"]
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == [str(ARTICLE)]
    assert int(peak.split()[1]) < 300_000, peak  # KiB


@pytest.mark.parametrize(("args", "words"), [
    (["--url", "http://[::1", str(ARTICLE)], ["--url", "'http://[::1'", "not an http(s) URL"]),
    (["--url", "http://example.org:99999/a", str(ARTICLE)], ["--url", "port"]),
    (["--site", "EMPTY"], ["--site", "holds no saved page"]),
])
def test_a_bad_url_or_a_site_with_no_page_is_a_usage_error_in_one_line(tmp_path: Path, args, words) -> None:
    (tmp_path / "notes.txt").write_text("not a page")
    result = _cli(*[str(tmp_path) if arg == "EMPTY" else arg for arg in args])
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("newsarchive extract: ")
    for word in words:
        assert word in line, line
    assert result.stdout == ""


def test_saved_pages_into_a_reader_that_has_had_enough_end_quietly() -> None:
    """`newsarchive extract *.html | head -c 0`: the reader has closed the pipe; no traceback, exit 0."""
    run = subprocess.Popen([sys.executable, "-m", "cli", "extract", *map(str, sorted(FIXTURES.glob("*.html")))],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    run.stdout.close()
    stderr = run.stderr.read().decode()
    assert run.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "Broken pipe" not in stderr, stderr
