"""Another tool's crawl of a site the archive crawls under a configured source name (wget's WARC of the herald
demo site, served on loopback) joins that source: one row and version chain per URL, under ``herald``, whether
theirs is imported after our crawl or before it, and a rebuild of both, in either order, is the live corpus.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from archive_fixtures import corpus_files, newsarchive
from archive.reader import foreign_source
from corpus.derive import derive_files
from corpus.export import read_corpus
from corpus.store import STORE_FILE
from demo.run import write_demo_config
from demo.site import DemoSite
from test_foreign_archives import ok, recorded_by_wget


@pytest.fixture(scope="module")
def herald(tmp_path_factory) -> dict:
    """The demo sites on loopback for the module's tests, and wget's WARC of the herald site."""
    with DemoSite() as site:
        base = site.base_urls["herald"]
        yield {"site": site, "wget": recorded_by_wget(base + "/", tmp_path_factory.mktemp("wget")), "base": base}


def crawl_herald(herald: dict, config: Path) -> None:
    ok(newsarchive("run", "--config", str(config), "--source", "herald"))


def import_wget(herald: dict, config: Path) -> None:
    ok(newsarchive("import", "--config", str(config), str(herald["wget"])))


def archive_made(herald: dict, archive: Path, *steps: Callable[[dict, Path], None]) -> Path:
    """An archive of the demo sites at ``archive`` that ``steps`` (our crawl, wget's WARC imported) made in turn."""
    config = write_demo_config(herald["site"], archive)
    for step in steps:
        step(herald, config)
    return archive


@pytest.fixture(scope="module")
def ours_then_theirs(herald, tmp_path_factory) -> Path:
    return archive_made(herald, tmp_path_factory.mktemp("ours-then-theirs"), crawl_herald, import_wget)


@pytest.fixture(scope="module")
def theirs_then_ours(herald, tmp_path_factory) -> Path:
    return archive_made(herald, tmp_path_factory.mktemp("theirs-then-ours"), import_wget, crawl_herald)


def chains(archive: Path) -> dict[str, list[tuple[str, int, str, str]]]:
    """Each URL's rows: source, version, text path, title."""
    found = defaultdict(list)
    for row in read_corpus(archive):
        found[row["url"]].append((row["source"], row["version"], row["text_path"], row["title"]))
    return {url: sorted(rows, key=lambda row: row[1]) for url, rows in found.items()}


def assert_one_chain_per_url_under_herald(archive: Path) -> None:
    """Every URL's rows are versions 1, 2, ... under ``herald``, its texts under text/herald/ alone, and no URL is
    a near-duplicate of itself under another source."""
    rows = chains(archive)
    assert rows
    for url, chain in rows.items():
        assert [(source, version) for source, version, _, _ in chain] == \
               [("herald", version) for version in range(1, len(chain) + 1)], url
    assert sorted(path.name for path in (archive / "text").iterdir()) == ["herald"]
    clusters = defaultdict(set)
    for row in read_corpus(archive):
        clusters[row["dup_cluster"]].add(row["url"])
    assert all(len(urls) == 1 for urls in clusters.values())


def test_another_tools_warc_of_a_configured_sites_pages_joins_that_source(herald, ours_then_theirs):
    assert all(url.startswith(herald["base"]) for url in chains(ours_then_theirs))
    assert_one_chain_per_url_under_herald(ours_then_theirs)


def test_importing_theirs_before_our_crawl_gives_the_same_corpus(ours_then_theirs, theirs_then_ours):
    assert_one_chain_per_url_under_herald(theirs_then_ours)
    assert chains(theirs_then_ours) == chains(ours_then_theirs)


@pytest.mark.parametrize("archive_name", ["ours_then_theirs", "theirs_then_ours"])
def test_a_rebuild_of_ours_and_theirs_in_either_order_is_the_live_corpus(archive_name, request, tmp_path):
    archive = request.getfixturevalue(archive_name)
    warcs = sorted((archive / "warc").glob("*.warc.gz"))
    theirs = [warc for warc in warcs if warc.name.startswith("wget")]
    ours = [warc for warc in warcs if warc not in theirs]
    assert theirs and ours
    live = corpus_files(archive)
    for order, files in (("ours-first", ours + theirs), ("theirs-first", theirs + ours)):
        derive_files(tmp_path / order, files, workers=1)
        assert_one_chain_per_url_under_herald(tmp_path / order)
        assert corpus_files(tmp_path / order) == live, order


def test_of_our_captures_of_a_host_under_two_sources_the_earliest_source_takes_theirs_in_any_order(herald, tmp_path):
    for archive in ("earlier", "later"):
        (tmp_path / archive).mkdir()
    earlier = write_demo_config(herald["site"], tmp_path / "earlier")  # the herald crawled as "herald-copy" first
    earlier.write_text(earlier.read_text().replace('name = "herald"', 'name = "herald-copy"'))
    ok(newsarchive("run", "--config", str(earlier), "--source", "herald-copy"))
    crawl_herald(herald, write_demo_config(herald["site"], tmp_path / "later"))
    first, = (tmp_path / "earlier" / "warc").glob("*.warc.gz")
    then, = (tmp_path / "later" / "warc").glob("*.warc.gz")
    corpora = []
    for order, files in (("earliest-last", [then, herald["wget"], first]),
                         ("earliest-first", [first, then, herald["wget"]]), ("theirs-first", [herald["wget"], then, first])):
        derive_files(tmp_path / order, files, workers=1)
        theirs = {row["source"] for row in read_corpus(tmp_path / order) if row["warc_file"] == "wget.warc.gz"}
        assert theirs == {"herald-copy"}, order
        corpora.append(corpus_files(tmp_path / order))
    assert corpora[0] == corpora[1] == corpora[2]


def test_a_store_from_before_the_rule_gives_its_foreign_captures_of_a_host_our_source(herald, ours_then_theirs,
                                                                                        tmp_path):
    archived = sorted((ours_then_theirs / "warc").glob("*.warc.gz"))
    theirs = [warc for warc in archived if warc.name.startswith("wget")]
    ours = [warc for warc in archived if warc not in theirs]
    derive_files(tmp_path / "old", theirs, workers=1)
    with sqlite3.connect(tmp_path / "old" / STORE_FILE) as db:  # as the store was before: theirs keyed by host alone
        db.executescript("DROP INDEX captures_by_foreign_host; ALTER TABLE captures DROP COLUMN foreign_host;"
                         " DROP TABLE host_sources;")
    derive_files(tmp_path / "old", ours, workers=1)
    assert_one_chain_per_url_under_herald(tmp_path / "old")
    assert corpus_files(tmp_path / "old") == corpus_files(ours_then_theirs)


@pytest.mark.parametrize("later_source", [None, "herald-copy"])
def test_a_host_whose_first_captures_a_power_cut_tore_off_gives_another_tools_captures_the_source_a_rebuild_does(
        herald, later_source, tmp_path):
    """Recovery cut our first captures of the herald host off our WARC (its torn tail) and the corpus forgot them;
    before, ``host_sources`` still gave the host their source, so wget's captures of it imported then went under
    ``herald``, where a rebuild of the WARCs puts them under their own host, or under the source of our captures
    of it left (a later crawl of it as ``herald-copy``): the live corpus differed from the rebuild."""
    from warcio.archiveiterator import ArchiveIterator

    from corpus.store import CorpusStore

    (tmp_path / "archive").mkdir()
    archive = archive_made(herald, tmp_path / "archive", crawl_herald)
    ours, = (archive / "warc").glob("*.warc.gz")
    config = archive / "sources.toml"
    if later_source:  # crawled later by another machine, its WARC gathered into this archive
        (tmp_path / "elsewhere").mkdir()
        other = write_demo_config(herald["site"], tmp_path / "elsewhere")
        other.write_text(other.read_text().replace('name = "herald"', f'name = "{later_source}"'))
        ok(newsarchive("run", "--config", str(other), "--source", later_source))
        for warc in (tmp_path / "elsewhere" / "warc").glob("*.warc.gz"):
            shutil.copy(warc, archive / "warc")
        ok(newsarchive("derive", "--config", str(config)))
    with ours.open("rb") as stream:
        records = ArchiveIterator(stream)
        cut = next(records.get_record_offset() for record in records if record.rec_type != "warcinfo")
    os.truncate(ours, cut)  # as recovery cuts a torn tail
    with CorpusStore(archive) as store:
        assert store.forget_from(ours.name, cut) > 0  # as the next derivation does
    import_wget(herald, config)

    theirs = {row["source"] for row in read_corpus(archive) if row["warc_file"].startswith("wget")}
    assert theirs == {later_source or foreign_source(herald["base"])}
    derive_files(tmp_path / "rebuilt", sorted((archive / "warc").glob("*.warc.gz")), workers=1)
    assert corpus_files(archive) == corpus_files(tmp_path / "rebuilt")
    assert host_sources(archive) == host_sources(tmp_path / "rebuilt")


def host_sources(archive: Path) -> list[tuple]:
    with sqlite3.connect(archive / STORE_FILE) as db:
        return db.execute("SELECT * FROM host_sources ORDER BY host").fetchall()
