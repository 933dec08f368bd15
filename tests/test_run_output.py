"""What `newsarchive run` prints for a person: a few short lines per source, and progress when asked."""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from archive_fixtures import REPO, loopback_site, newsarchive
from demo.farm import ArticleFarm
from demo.run import write_demo_config
from demo.site import SITE_NAMES

PROGRESS = re.compile(r"  corpus: \d+ captures? extracted, \d+ new articles?(, \d+ new versions?)?")


def summary(stderr: str) -> dict[str, list[str]]:
    """The summary's lines per source (a source's first line starts with its name)."""
    per_source: dict[str, list[str]] = {}
    current = None
    for line in stderr.splitlines():
        name = line.split(":", 1)[0]
        if name in SITE_NAMES:
            current = name
            per_source[current] = [line]
        elif current and line.startswith("  "):
            per_source[current].append(line)
        else:
            current = None
    return per_source


def test_the_summary_is_a_few_short_lines_per_source_and_tells_a_recrawl_from_a_first_run(demo_site, tmp_path):
    config = write_demo_config(demo_site, tmp_path)
    first = newsarchive("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    second = newsarchive("run", "--config", str(config))
    assert second.returncode == 0, second.stderr
    for result in (first, second):
        lines = summary(result.stderr)
        assert set(lines) == set(SITE_NAMES), result.stderr
        assert all(2 <= len(source) <= 5 and max(map(len, source)) <= 100 for source in lines.values()), result.stderr
        assert all(source[0].endswith(": ok") for source in lines.values())
        [report] = [line for line in result.stderr.splitlines() if line.startswith("report: ")]
        assert Path(report.removeprefix("report: ")).exists()
    # A new archive has nothing "not modified": the files the three sites share are the same bytes
    assert "not modified" not in first.stderr and "same bytes as an earlier capture" in first.stderr
    assert all("not modified since the last fetch" in "\n".join(source) for source in summary(second.stderr).values())
    assert "failed fetches: 1 (HTTP 404)" in "\n".join(summary(first.stderr)["herald"])


def run_on_a_terminal(config: Path) -> tuple[int, str]:
    """`newsarchive run` with its stderr on a pseudo-terminal, as a person at a shell has it."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config)], cwd=REPO,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: _read(controller), b"")), daemon=True)
    reader.start()
    code = process.wait(timeout=600)
    reader.join(timeout=30)
    os.close(controller)
    return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the terminal's last writer has gone
        return b""


def test_progress_lines_for_the_corpus_only_with_progress_or_on_a_terminal(tmp_path):
    with ArticleFarm(300) as farm:
        for name, flags in (("quiet", []), ("progress", ["--progress"]), ("terminal", None)):
            archive = tmp_path / name
            archive.mkdir()
            config = archive / "sources.toml"
            config.write_text(f'[archive]\ndir = "{archive}"\n\n[crawl]\ndownload_delay = 0\nautothrottle = false\n\n'
                              f'[[sources]]\nname = "farm"\nsitemaps = ["{farm.url}/sitemap.xml"]\n', encoding="utf-8")
            if flags is None:
                code, stderr = run_on_a_terminal(config)
            else:
                result = newsarchive("run", "--config", str(config), *flags, timeout=600)
                code, stderr = result.returncode, result.stderr
            assert code == 0, stderr
            progress = [line for line in stderr.splitlines() if PROGRESS.fullmatch(line)]
            if name == "quiet":
                assert not progress and "fetched," not in stderr.split("farm: ok")[0], stderr
            else:
                assert progress, stderr


def test_the_last_progress_line_of_a_source_gives_the_runs_own_figures(tmp_path):
    """Its last line comes after the last exchange is written, not while the writer still has some."""
    with ArticleFarm(60) as farm:
        config = tmp_path / "sources.toml"
        config.write_text(f'[archive]\ndir = "{tmp_path}"\n\n[crawl]\ndownload_delay = 0\nautothrottle = false\n\n'
                          f'[[sources]]\nname = "farm"\nsitemaps = ["{farm.url}/sitemap.xml"]\n', encoding="utf-8")
        result = newsarchive("run", "--config", str(config), "--progress", timeout=600)
    assert result.returncode == 0, result.stderr
    last = [line for line in result.stderr.splitlines() if line.startswith("  farm: ")][-1]
    report = json.loads(next((tmp_path / "runs").glob("*.json")).read_text())["sources"][0]
    assert last == f"  farm: {report['fetched']} fetched, {report['articles']} articles archived"
    assert report["articles"] == 60


def test_a_config_with_no_sources_is_one_line_and_exit_2(tmp_path):
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n', encoding="utf-8")
    for command in ("run", "schedule"):
        result = newsarchive(command, "--config", str(config))
        assert result.returncode == 2
        assert result.stderr == f"newsarchive: config error: {config}: no [[sources]] to crawl\n"
    assert not (tmp_path / "archive").exists()


def test_a_run_says_what_it_archived_without_deriving_and_the_next_what_it_caught_up_for_others(demo_site, tmp_path):
    """Before: `--no-extract` reported "0 new articles" for sources that archived some, and a later
    run crawling one source left out the rows it derived from the others' earlier WARCs."""
    from corpus.export import read_corpus

    config = write_demo_config(demo_site, tmp_path)
    archived = newsarchive("run", "--config", str(config), "--no-extract")
    assert archived.returncode == 0, archived.stderr
    counts = {name: re.search(r"(\d+) articles? archived, not derived", "\n".join(lines))
              for name, lines in summary(archived.stderr).items()}
    assert set(counts) == set(SITE_NAMES) and all(counts.values()), archived.stderr
    one = newsarchive("run", "--config", str(config), "--source", "herald")
    assert one.returncode == 0, one.stderr
    [caught_up] = [line for line in one.stderr.splitlines() if line.startswith("corpus: also ")]
    others = dict(re.findall(r"(\w+) (\d+)", caught_up.split(": ", 2)[2]))
    # herald's too: the first run archived them, this one did not fetch them again (before: counted as its new ones)
    assert set(others) == set(SITE_NAMES), caught_up
    herald = int(re.search(r"(\d+) new articles?", "\n".join(summary(one.stderr)["herald"]))[1])
    assert herald + sum(map(int, others.values())) == len(read_corpus(tmp_path))


def test_a_run_whose_derivation_fails_says_what_it_archived_not_0_new_articles(demo_site, tmp_path):
    """The derivation fails (here a corpus store that is no database; also a full disk, a second
    Ctrl-C): it counted nothing, so each source says what it archived, and the corpus line why."""
    config = write_demo_config(demo_site, tmp_path)
    (tmp_path / "derived").mkdir()
    (tmp_path / "derived" / "corpus.sqlite").write_bytes(b"not a database" * 300)
    result = newsarchive("run", "--config", str(config))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and " 0 new articles" not in result.stderr, result.stderr
    assert all(re.search(r"\d+ articles? archived, not derived", "\n".join(lines))
               for lines in summary(result.stderr).values()), result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("corpus: ")], result.stderr


def test_counts_of_one_are_said_in_the_singular(tmp_path):
    """Before: "1 pages not articles", "1 articles from 1 file(s)", "1 new articles", "derived 1 captures"."""
    from demo.farm import article_html
    from test_foreign_archives import HOST, article_url, http_response, ok, write_warc

    about = b"<html><head><title>About us</title></head><body><p>Who we are.</p></body></html>"
    one = write_warc(tmp_path / "one.warc.gz", [lambda writer: http_response(writer, article_url(1), article_html(1)),
                                               lambda writer: http_response(writer, f"{HOST}/about", about)])
    rebuilt = ok(newsarchive("rebuild", "--warc", str(one), "--out", str(tmp_path / "out"))).splitlines()
    assert rebuilt[0].startswith("one.warc.gz: 2 records, 2 HTML pages, 1 article; not articles: 1 page"), rebuilt
    assert rebuilt[-1] == f"1 article from 1 file written to {tmp_path / 'out'}"
    archive = tmp_path / "archive"
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{archive}"\n\n[[sources]]\nname = "news"\nstart_urls = ["{HOST}/"]\n')
    assert ok(newsarchive("import", "--config", str(config), str(one))).splitlines()[-1] == "1 new article in the corpus"
    write_warc(archive / "warc" / "two.warc.gz", [lambda writer: http_response(writer, article_url(2), article_html(2))])
    derived = ok(newsarchive("derive", "--config", str(config))).splitlines()
    assert derived[0] == "derived 1 capture: 1 new article, 1 earlier text rewritten, 0 could not be read or extracted"


def test_a_story_corrected_between_runs_is_a_new_version_not_a_new_article_and_the_article_total_is_the_urls(
        demo_site, tmp_path):
    """Before: the run after the gazette corrected a story said "gazette: ... 1 new article" and "corpus: 16 captures
    extracted, 2 new articles" (the herald's new story and the correction), and every count of the corpus called its
    rows (texts) articles: 17 for 16 URLs, one in 2 versions."""
    from corpus.export import read_corpus
    from demo.run import change_sites

    config = write_demo_config(demo_site, tmp_path, refetch=True)
    assert newsarchive("run", "--config", str(config)).returncode == 0
    change_sites(demo_site)
    second = newsarchive("run", "--config", str(config), "--progress")
    assert second.returncode == 0, second.stderr
    lines = summary(second.stderr)
    assert re.fullmatch(r"  \d+ fetched, 0 new articles, 1 new version, [\d.]+ kB, [\d.]+ s",
                        lines["gazette"][1]), lines
    assert re.fullmatch(r"  \d+ fetched, 1 new article, [\d.]+ kB, [\d.]+ s", lines["herald"][1]), lines
    progress = [line for line in second.stderr.splitlines() if PROGRESS.fullmatch(line)]
    assert progress[-1].endswith(" extracted, 1 new article, 1 new version"), second.stderr
    reports = [json.loads(path.read_text()) for path in sorted((tmp_path / "runs").glob("*.json"))]
    assert [(source["name"], source["new_articles"], source["new_versions"]) for source in reports[1]["sources"]] \
        == [("gazette", 0, 1), ("herald", 1, 0), ("courier", 0, 0)]
    assert reports[1]["corpus"]["new_versions"] == {"gazette": 1, "herald": 0, "courier": 0}
    rows = read_corpus(tmp_path)
    urls = {(row["source"], row["url"]) for row in rows}
    assert len(rows) == len(urls) + 1
    assert sum(source["new_articles"] for report in reports for source in report["sources"]) == len(urls)
    status = newsarchive("status", "--config", str(config)).stdout
    assert re.search(r"^  \S+ \S+ ok +\d+ fetched, 0 new, 1 new version, ", status, re.MULTILINE), status
    warcs = sorted(str(path) for path in (tmp_path / "warc").glob("*.warc.gz"))
    rebuilt = newsarchive("rebuild", "--warc", *warcs, "--out", str(tmp_path / "rebuilt"))
    assert rebuilt.stderr.splitlines()[-1] == (f"{len(urls)} articles ({len(rows)} versions) from {len(warcs)} files "
                                               f"written to {tmp_path / 'rebuilt'}"), rebuilt.stderr


class _OnePageSite(BaseHTTPRequestHandler):
    """A robots.txt and a home page with no article, the same bytes on every fetch."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = {"/robots.txt": b"User-agent: *\nDisallow: /private/\n",
                "/": b"<html><head><title>Coming soon</title></head><body><p>Nothing yet.</p></body></html>"}.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")


def _one_page_config(site: str, tmp_path: Path) -> Path:
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path / "archive"}"\n[crawl]\ndownload_delay = 0\nautothrottle = false\n'
                      f'[[sources]]\nname = "soon"\nstart_urls = ["{site}/"]\n', encoding="utf-8")
    return config


def test_revisits_count_the_sites_pages_as_fetched_does_not_robots_txt(tmp_path):
    """Before: the second run said "1 fetched ... archived as revisits: 2 same bytes as an earlier
    capture" (robots.txt's among them) and status "2 unchanged": more revisits than fetches."""
    with loopback_site(_OnePageSite) as site:
        config = _one_page_config(site, tmp_path)
        runs = [newsarchive("run", "--config", str(config)) for _ in range(2)]
    assert all(run.returncode == 0 for run in runs), runs[-1].stderr
    first, second = (summary_of(run.stderr, "soon") for run in runs)
    assert first[1].startswith("  1 fetched, 0 new articles") and "revisits" not in "\n".join(first), first
    assert second[1].startswith("  1 fetched, 0 new articles"), second
    assert "  archived as revisits: 1 same bytes as an earlier capture" in second, second
    status = newsarchive("status", "--config", str(config), "--runs", "2").stdout
    assert [line.split("fetched, ")[1].split(", ")[1] for line in status.splitlines() if " fetched, " in line] \
        == ["1 unchanged", "0 unchanged"], status  # newest first


def test_an_archive_with_no_articles_has_an_empty_corpus_jsonl(tmp_path):
    """Before: `run` said "0 new articles" but wrote no corpus.jsonl, the file the README's layout lists."""
    from corpus.export import read_corpus

    with loopback_site(_OnePageSite) as site:
        config = _one_page_config(site, tmp_path)
        result = newsarchive("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    corpus = tmp_path / "archive" / "corpus.jsonl"
    assert corpus.exists() and corpus.read_bytes() == b"" and read_corpus(tmp_path / "archive") == []


def summary_of(stderr: str, name: str) -> list[str]:
    """The summary's lines of the source ``name``."""
    lines = stderr.splitlines()
    start = lines.index(f"{name}: ok")
    return [lines[start]] + list(itertools.takewhile(lambda line: line.startswith("  "), lines[start + 1:]))


def corpus_rows_now(archive: Path) -> int:
    """The rows the corpus store holds (committed), read beside a run that writes it."""
    import sqlite3
    from contextlib import closing

    path = archive / "derived" / "corpus.sqlite"
    if not path.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
            return db.execute("SELECT COUNT(*) FROM rows").fetchone()[0]
    except sqlite3.OperationalError:  # made as we looked
        return 0


def test_the_articles_of_a_killed_run_are_counted_once_by_the_next_run_and_not_as_its_new_ones(tmp_path):
    """A run SIGKILLed while its derivation follows the crawl leaves no report.  Before: the articles its
    derivation had written were counted by no run, the next run counted the rest of its captures as new (more
    new articles than pages fetched), and `check` in between called corpus.jsonl a problem (exit 1)."""
    import signal

    from corpus.export import read_corpus
    from test_incremental import write_config
    from test_interruptions import archived_articles, derivation_process, ended_within, running, session_processes, \
        wait_for

    with ArticleFarm(150, delay=0.2) as slow:
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [slow.source()])
        with running(config) as killed:
            assert wait_for(lambda: corpus_rows_now(tmp_path) >= 10, timeout=120)
            os.kill(derivation_process(killed), signal.SIGSTOP)  # behind the crawl, as on a busy machine
            archived = archived_articles(tmp_path)
            assert wait_for(lambda: archived_articles(tmp_path) > archived + 20_000, timeout=60)
            os.kill(killed.pid, signal.SIGKILL)  # its processes die with it
            ended_within(killed, 10)
            assert wait_for(lambda: not session_processes(killed.pid), timeout=10), session_processes(killed.pid)
        assert killed.returncode == -signal.SIGKILL and not (tmp_path / "runs").exists()
        derived_by_the_killed_run = corpus_rows_now(tmp_path)

        checked = newsarchive("check", "--config", str(config))
        assert checked.returncode == 0, checked.stderr
        assert "problem:" not in checked.stderr, checked.stderr
        assert re.search(r"^note: the run started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC did not finish: its derivation "
                         r"was cut short; the next run completes it", checked.stderr, re.MULTILINE), checked.stderr

        after = newsarchive("run", "--config", str(config))
        assert after.returncode == 0, after.stderr
    [report] = [json.loads(path.read_text()) for path in (tmp_path / "runs").glob("*.json")]
    corpus = report["corpus"]
    [source] = report["sources"]
    unfinished = sum(corpus["from_unfinished_runs"].values())
    rows = len(read_corpus(tmp_path))
    assert rows == 150
    assert source["new_articles"] + unfinished + sum(corpus["from_earlier_runs"].values()) == rows, corpus
    assert source["new_articles"] <= source["fetched"], source
    # its derivation's articles, and those of its captures the next run derived
    assert unfinished > derived_by_the_killed_run, (unfinished, derived_by_the_killed_run)
    assert len(corpus["unfinished_runs"]) == 1
    assert re.search(rf"^corpus: {unfinished} articles from a run that did not finish \(started [-0-9 :]+ UTC\): "
                     rf"farm {unfinished}$", after.stderr, re.MULTILINE), after.stderr
    status = newsarchive("status", "--config", str(config)).stdout
    assert re.search(rf"^    also {unfinished} articles from a run that did not finish \(started [-0-9 :]+ UTC\)$",
                     status, re.MULTILINE), status
    # counted once: the next check has nothing to say, and a run after it counts none of them again
    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 0 and "note:" not in checked.stderr, checked.stderr


def test_derive_after_a_killed_run_names_its_articles_and_the_next_run_still_counts_them_once(tmp_path):
    """`derive` in place of the next `run` completes a killed run's derivation.  Before, it said nothing of the run
    that did not finish, whose articles it had just derived; now it names them in one line, and leaves their
    counting to the next run, which counts them once (not as its new ones, nor as earlier runs')."""
    import signal

    from corpus.export import read_corpus
    from test_incremental import write_config
    from test_interruptions import ended_within, running, session_processes, wait_for

    with ArticleFarm(60, delay=0.1) as farm:
        config = write_config(None, tmp_path / "sources.toml", tmp_path, [farm.source()])
        with running(config) as killed:
            assert wait_for(lambda: corpus_rows_now(tmp_path) >= 5, timeout=120)
            os.kill(killed.pid, signal.SIGKILL)  # its processes die with it
            ended_within(killed, 10)
            assert wait_for(lambda: not session_processes(killed.pid), timeout=10), session_processes(killed.pid)
        assert not (tmp_path / "runs").exists()

        derived = newsarchive("derive", "--config", str(config))
        assert derived.returncode == 0, derived.stderr
        of_the_killed_run = corpus_rows_now(tmp_path)
        assert re.search(rf"^corpus: {of_the_killed_run} articles from a run that did not finish \(started "
                         rf"[-0-9 :]+ UTC\): farm {of_the_killed_run}; the next run counts them$",
                         derived.stderr, re.MULTILINE), derived.stderr

        after = newsarchive("run", "--config", str(config))
        assert after.returncode == 0, after.stderr
    [report] = [json.loads(path.read_text()) for path in (tmp_path / "runs").glob("*.json")]
    [source] = report["sources"]
    assert report["corpus"]["from_unfinished_runs"] == {"farm": of_the_killed_run}, report["corpus"]
    assert not report["corpus"]["from_earlier_runs"], report["corpus"]
    assert source["new_articles"] + of_the_killed_run == len(read_corpus(tmp_path)) == 60, source
    # counted: a derive after that run has nothing to say of it
    again = newsarchive("derive", "--config", str(config))
    assert again.returncode == 0 and "did not finish" not in again.stderr, again.stderr


def test_a_run_killed_between_its_report_and_its_end_has_no_article_counted_twice_or_dropped(tmp_path):
    """The report goes first, then the note that the run is over: a kill between the two must not have the next
    run count again the articles of a run that did not finish, nor drop those the report could not count."""
    from dataclasses import replace

    from crawler.run_reports import RunSpan, begin_run

    def written(span: RunSpan, counted: list[str]) -> None:
        (tmp_path / "runs").mkdir(exist_ok=True)
        (tmp_path / "runs" / f"{span.run}.json").write_text(json.dumps(
            {"run": span.run, "started": span.start, "sources": [], "corpus": {"unfinished_runs": counted}}))

    first, counting, second, failing, last = (
        RunSpan(f"20261206T{hour}0000.000Z", f"2026-12-06T{hour}:00:00.000000Z") for hour in range(10, 15))
    assert begin_run(tmp_path, first) == []  # and killed
    assert begin_run(tmp_path, counting) == [replace(first, end=counting.start)]
    written(counting, [first.run])  # and killed before it says it is over
    assert begin_run(tmp_path, second) == []  # and killed
    assert begin_run(tmp_path, failing) == [replace(second, end=failing.start)]
    written(failing, [])  # its corpus did not catch up: it counted nothing; killed before it says it is over
    assert begin_run(tmp_path, last) == [replace(second, end=failing.start)]
