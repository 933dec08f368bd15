"""`scrapy crawl news -a source=NAME [-a config=PATH]` writes everything under the configured archive dir."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from archive_fixtures import REPO, fetch, free_port, newsarchive, running, warc_captures
from test_incremental import write_config
from test_interruptions import wait_for
from corpus.export import read_corpus
from demo.farm import ArticleFarm, article_path
from demo.run import write_demo_config
from demo.site import DemoSite


def scrapy_crawl_command(config: Path, *settings: str, source: str = "gazette") -> list[str]:
    """Scrapy's own command line, to run from the project directory (scrapy.cfg) as the README says."""
    command = [str(Path(sys.executable).parent / "scrapy"), "crawl", "news", "-a", f"source={source}",
               "-a", f"config={config}", "-L", "WARNING"]
    for setting in settings:
        command += ["-s", setting]
    return command


def scrapy_crawl(config: Path, *settings: str) -> subprocess.CompletedProcess:
    return subprocess.run(scrapy_crawl_command(config, *settings), cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def files_under(root: Path) -> set[Path]:
    return set(root.rglob("*")) if root.exists() else set()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The demo sites' sources file in ``tmp_path``, its archive dir given relative to it and not made yet."""
    site = DemoSite().start()
    path = write_demo_config(site, tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(f"dir = \"{tmp_path}\"", 'dir = "archive"'),
                    encoding="utf-8")
    yield path
    site.stop()


def test_scrapy_crawl_archives_under_the_configs_archive_dir_and_package_finds_the_warcs(config, tmp_path):
    before = files_under(REPO / "data")
    result = scrapy_crawl(config)
    assert result.returncode == 0, result.stderr
    archive = tmp_path / "archive"
    warcs = list((archive / "warc").glob("*.warc.gz"))
    assert len(warcs) == 1 and warcs[0].name.startswith("newsarchive-gazette-")
    assert (archive / "state" / "crawl.sqlite").exists()
    assert files_under(REPO / "data") == before, "nothing written beside the project"

    derived = newsarchive("derive", "--config", str(config))
    assert derived.returncode == 0, derived.stderr
    rows = read_corpus(archive)
    assert len(rows) == 5 and {row["warc_file"] for row in rows} == {warcs[0].name}
    packaged = newsarchive("package", "--config", str(config), "--out", str(tmp_path / "gazette.wacz"))
    assert packaged.returncode == 0, packaged.stderr
    with zipfile.ZipFile(tmp_path / "gazette.wacz") as wacz:
        assert f"archive/{warcs[0].name}" in wacz.namelist()


def test_scrapy_crawl_with_an_archive_dir_setting_writes_everything_there(config, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    result = scrapy_crawl(config, f"NEWSARCHIVE_ARCHIVE_DIR={elsewhere}")
    assert result.returncode == 0, result.stderr
    assert len(list((elsewhere / "warc").glob("*.warc.gz"))) == 1
    assert (elsewhere / "state" / "crawl.sqlite").exists()
    assert not (tmp_path / "archive").exists()


@pytest.mark.parametrize(("source", "body", "words"), [
    ("nosuch", "", ["no source named 'nosuch'", "known: gazette, herald, courier"]),
    ("gazette", "[crawl]\ntimeout = 0\n", ["[crawl]", "'timeout'"]),
])
def test_scrapy_crawl_with_an_unknown_source_or_a_bad_config_is_one_line_and_exit_2(tmp_path, source, body, words):
    config = tmp_path / "sources.toml"
    config.write_text(body + "".join(f'[[sources]]\nname = "{name}"\nstart_urls = ["http://127.0.0.1:9/{name}"]\n'
                                     for name in ("gazette", "herald", "courier")))
    result = subprocess.run([str(Path(sys.executable).parent / "scrapy"), "crawl", "news", "-a", f"source={source}",
                             "-a", f"config={config}", "-L", "WARNING"], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"newsarchive: config error: {config}: "), line
    for word in words:
        assert word in line, line
    assert not (tmp_path / "data").exists()


def test_a_run_beside_a_live_scrapy_crawl_leaves_its_open_warc_alone_and_replay_serves_every_capture(tmp_path):
    """`scrapy crawl` takes no archive lock, so a run started meanwhile took its `.open` WARC for a dead
    run's: it closed and indexed it half written, replay lacked the captures written after, and the crawl's
    own close failed.  The farm holds its pages until the run has crawled (its recovery is done by then)."""
    archive = tmp_path / "archive"
    warc_dir = archive / "warc"
    with ArticleFarm(8, gate=lambda: len(list(warc_dir.glob("*.warc.gz*"))) >= 2) as farm:
        config = write_config(None, tmp_path / "sources.toml", archive, [farm.source("gazette")])
        crawl = subprocess.Popen(scrapy_crawl_command(config), cwd=REPO, stderr=subprocess.PIPE, text=True)
        try:
            assert wait_for(lambda: list(warc_dir.glob("*.warc.gz.open")), timeout=120)
            [live] = warc_dir.glob("*.warc.gz.open")
            run = newsarchive("run", "--config", str(config))
            _, crawl_log = crawl.communicate(timeout=180)
        finally:
            crawl.kill()
            crawl.wait()
    assert crawl.returncode == 0 and "Traceback" not in crawl_log, crawl_log
    assert run.returncode == 0, run.stderr
    assert "recovered" not in run.stderr, run.stderr
    closed = live.with_name(live.name.removesuffix(".open"))
    assert not list(warc_dir.glob("*.open"))
    captures = warc_captures(archive)
    crawled = {capture["url"] for capture in captures if capture["filename"] == closed.name}
    assert {farm.url + article_path(n) for n in range(8)} <= crawled, "the crawl's WARC holds every page it fetched"
    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}/archive"
    with running([sys.executable, "-m", "cli", "replay", "--config", str(config), "--port", str(port)],
                 f"{base}/cdx?url=http://example.invalid/"):
        for capture in captures:
            status, _, body = fetch(f"{base}/cdx?url={capture['url']}&output=json")
            assert status == 200
            entries = [json.loads(line) for line in body.decode().splitlines()]
            [entry] = [entry for entry in entries if (entry["filename"], entry["offset"]) ==
                       (capture["filename"], capture["offset"])]
            status, _, _ = fetch(f"{base}/{entry['timestamp']}id_/{capture['url']}")
            assert status == 200, capture
