"""The corpus store as its users rely on it: derivation reads only what is new, exports carry every
row with its text, and the site-template counts decide as the whole-site rule does."""

from __future__ import annotations

import fcntl
import hashlib
import json
import random
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta

import pyarrow.parquet as pq
import pytest
from archive_fixtures import REPO, crawl_demo, newsarchive

from archive.warc_date import canonical_warc_date
from archive.writer import warc_date
from corpus.export import export_corpus_jsonl, export_jsonl, export_parquet, read_corpus
from corpus.store import CorpusStore, ExtractedArticle
from extract import Document, remove_site_boilerplate


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return crawl_demo(tmp_path_factory.mktemp("store"))


def test_a_derivation_with_nothing_new_does_not_read_the_closed_warcs_again(archive):
    out, config = archive["out"], archive["config"]
    corpus = (out / "corpus.jsonl").read_bytes()
    warcs = sorted((out / "warc").glob("*.warc.gz"))
    kept = {warc: warc.read_bytes() for warc in warcs}
    try:
        for warc in warcs:  # were any of them read again, the derivation would say so
            warc.write_bytes(b"not a WARC any more")
        result = newsarchive("derive", "--config", str(config))
    finally:
        for warc, data in kept.items():
            warc.write_bytes(data)
    assert result.returncode == 0, result.stderr
    assert "derived 0 captures" in result.stderr
    assert (out / "corpus.jsonl").read_bytes() == corpus


def test_export_writes_every_row_with_its_text_as_json_lines_and_parquet(archive, tmp_path):
    out, config = archive["out"], archive["config"]
    rows = read_corpus(out)
    texts = {row["warc_record_id"]: (out / row["text_path"]).read_text(encoding="utf-8") for row in rows}
    result = newsarchive("export", "--config", str(config), "--out", str(tmp_path / "corpus.parquet"),
                         "--format", "parquet")
    assert result.returncode == 0, result.stderr
    table = pq.read_table(tmp_path / "corpus.parquet").to_pylist()
    assert {row["warc_record_id"]: row["text"] for row in table} == texts
    assert [row["url"] for row in table] == [row["url"] for row in rows]
    result = newsarchive("export", "--config", str(config), "--out", str(tmp_path / "corpus.jsonl"))
    assert result.returncode == 0, result.stderr
    exported = [json.loads(line) for line in (tmp_path / "corpus.jsonl").read_text().splitlines()]
    # and when each version was last seen, which corpus.jsonl leaves out (its lines would change each run)
    assert [{key: value for key, value in row.items() if key not in ("text", "last_seen")} for row in exported] == rows
    assert all(row["last_seen"] >= row["fetched_at"] for row in exported)
    assert {row["warc_record_id"]: row["text"] for row in exported} == texts


@pytest.mark.parametrize("out", ["corpus.jsonl", "corpus.parquet", "-"])
def test_an_export_with_text_files_missing_names_them_and_the_repair_in_one_line_and_writes_nothing(
        archive, tmp_path, out):
    rows = read_corpus(archive["out"])
    gone = sorted({rows[1]["text_path"], rows[-1]["text_path"]})
    target = tmp_path / out
    if out != "-":
        target.write_bytes(b"an earlier export\n")
    moved = {archive["out"] / path: tmp_path / f"aside{n}" for n, path in enumerate(gone)}
    for path, aside in moved.items():
        path.rename(aside)
    try:
        result = newsarchive("export", "--config", str(archive["config"]), "--out", out if out == "-" else str(target),
                             *(["--format", "parquet"] if out.endswith("parquet") else []))
    finally:
        for path, aside in moved.items():
            aside.rename(path)
    assert result.returncode == 1
    assert result.stderr == (f"newsarchive: export: 2 text files are missing ({gone[0]}, {gone[1]}); "
                             "`newsarchive check --repair` writes them again; nothing was exported\n")
    assert result.stdout == ""
    if out != "-":
        assert target.read_bytes() == b"an earlier export\n"
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("aside")) == [out]


def _page(site: str, number: int, rng: random.Random, shared: list[str]) -> ExtractedArticle:
    url = f"http://{site}/news/{number}"
    own = [f"Article {number} paragraph {n}: " + " ".join(rng.choice(["harbour", "council", "river", "school",
                                                                      "budget", "bridge"]) for _ in range(20))
           for n in range(rng.randint(2, 5))]
    picked = [paragraph for paragraph in shared if rng.random() < 0.5]
    paragraphs = picked[:1] + own + picked[1:]
    document = Document(url, url, f"Title {number}", None, None, site, "en", tuple(paragraphs))
    return ExtractedArticle(site, url, f"2026-11-{1 + number % 28:02d}T00:00:00Z", "x.warc.gz", number,
                            f"<urn:uuid:{site}-{number}>", f"sha1:{number}", document, "test")


def test_site_templates_learned_batch_by_batch_equal_the_rule_applied_to_the_whole_site(tmp_path):
    rng = random.Random(7)
    shared = ["Subscribe to the Gazette today.", "Follow us on the river walk.",
              "A long standing disclaimer " + " ".join(f"word{n}" for n in range(50)), "Share this story"]
    pages = [_page("gazette.example", number, rng, shared) for number in range(40)]
    with CorpusStore(tmp_path) as store:
        for start in range(0, len(pages), 7):  # the site grows run by run; statuses flip as it does
            store.add(pages[start:start + 7])
        texts = {row["url"]: (tmp_path / row["text_path"]).read_text(encoding="utf-8") for row in store.rows()}
    expected = {page.url: document.text() for page, document in
                zip(pages, remove_site_boilerplate([page.document for page in pages])) if not document.is_empty}
    assert texts == expected
    assert any("Subscribe to the Gazette" in page.document.text() for page in pages)
    assert not any("Subscribe to the Gazette" in text for text in texts.values())


BANNER = "Support our newsroom with a subscription today."


def _site_with_banner(carried: range, count: int, every: timedelta = timedelta(days=1)) -> list[ExtractedArticle]:
    """A site's articles, one ``every`` day or minute, the banner on those in ``carried``."""
    rng = random.Random(11)
    pages = []
    for number in range(count):
        page = _page("gazette.example", number, rng, shared=[])
        own = tuple(" ".join(f"w{rng.randrange(10**6)}" for _ in range(30)) for _ in range(3))  # no two alike
        paragraphs = (*own, BANNER) if number in carried else own
        pages.append(replace(page, document=replace(page.document, paragraphs=paragraphs),
                             fetched_at=f"{datetime(2026, 1, 1, 8) + number * every:%Y-%m-%dT%H:%M:%SZ}"))
    return pages


def _texts_after_runs(root, pages: list[ExtractedArticle], per_run: int) -> dict[str, str]:
    with CorpusStore(root) as store:
        for start in range(0, len(pages), per_run):
            store.add(pages[start:start + per_run])
        return {row["url"]: (root / row["text_path"]).read_text(encoding="utf-8") for row in store.rows()}


@pytest.mark.parametrize("every", [timedelta(days=1), timedelta(minutes=1)], ids=["a day apart", "a minute apart"])
def test_a_banner_a_redesign_retired_stays_out_of_the_texts_of_its_years_however_many_articles_follow(tmp_path, every):
    """The banner of a site's first 20 articles is on fewer than 30 % of them once the site has 70: it must
    not come back into those 20 texts then (judged over the site's whole life, it did).  Captured a minute
    apart, the site's articles of one day are in the banner's span in part."""
    texts = _texts_after_runs(tmp_path, _site_with_banner(range(0, 20), 200, every), per_run=5)
    assert len(texts) == 200
    assert not [url for url, text in texts.items() if BANNER in text]


@pytest.mark.parametrize("every", [timedelta(days=1), timedelta(minutes=1)], ids=["a day apart", "a minute apart"])
def test_a_banner_a_site_brings_in_late_is_template_from_its_second_article_however_many_came_before(tmp_path, every):
    texts = _texts_after_runs(tmp_path, _site_with_banner(range(100, 106), 106, every), per_run=2)
    assert len(texts) == 106
    assert not [url for url, text in texts.items() if BANNER in text]


@pytest.mark.parametrize("every", [timedelta(days=1), timedelta(minutes=1)], ids=["a day apart", "a minute apart"])
def test_a_banner_a_site_retires_and_brings_back_stays_out_of_every_text_and_no_earlier_text_is_rewritten(tmp_path, every):
    """The banner of a site's first 20 articles, retired for 180, then back on every article: it is template
    from its first article back (the record of its retired years says so), its old texts are not made again,
    and a rebuild reading the captures in another order makes the same texts."""
    pages = _site_with_banner([*range(0, 20), *range(200, 230)], 230, every)
    rewritten = []
    with CorpusStore(tmp_path / "runs") as store:
        for start in range(0, len(pages), 5):
            rewritten.append(store.add(pages[start:start + 5]).rewritten_texts)
        texts = {row["url"]: (tmp_path / "runs" / row["text_path"]).read_text(encoding="utf-8") for row in store.rows()}
    assert len(texts) == 230
    assert not [url for url, text in texts.items() if BANNER in text]
    assert sum(rewritten) == 0
    shuffled = pages[:]
    random.Random(5).shuffle(shuffled)
    assert _texts_after_runs(tmp_path / "rebuild", shuffled, per_run=9) == texts


def test_a_store_from_before_template_records_keeps_a_banner_it_brings_back_out_of_every_text(tmp_path):
    """A store whose template keys kept no record of the span they were decided over takes their span as it: a
    banner template there stays out of its old texts and the new ones when the site brings it back."""
    pages = _site_with_banner([*range(0, 20), *range(200, 230)], 230)
    _texts_after_runs(tmp_path, pages[:40], per_run=5)
    with sqlite3.connect(tmp_path / "derived" / "corpus.sqlite") as db:  # what a store made before looked like
        db.execute("ALTER TABLE key_stats DROP COLUMN from_at")
        db.execute("ALTER TABLE key_stats DROP COLUMN to_at")
    db.close()
    rewritten = []
    with CorpusStore(tmp_path) as store:
        for start in range(40, len(pages), 5):
            rewritten.append(store.add(pages[start:start + 5]).rewritten_texts)
        texts = {row["url"]: (tmp_path / row["text_path"]).read_text(encoding="utf-8") for row in store.rows()}
    assert len(texts) == 230
    assert not [url for url, text in texts.items() if BANNER in text]
    assert sum(rewritten) == 0


def test_site_templates_are_the_same_whatever_order_the_captures_come_in(tmp_path):
    """A rebuild reads WARCs in another order than the runs wrote them: the texts must not depend on it."""
    pages = _site_with_banner(range(10, 40), 120)
    shuffled = pages[:]
    random.Random(3).shuffle(shuffled)
    in_order = _texts_after_runs(tmp_path / "runs", pages, per_run=7)
    assert _texts_after_runs(tmp_path / "rebuild", shuffled, per_run=9) == in_order
    assert _texts_after_runs(tmp_path / "backwards", pages[::-1], per_run=50) == in_order
    assert not [url for url, text in in_order.items() if BANNER in text]


# Which of a site's articles (of ``size``, and a run's 5 after them) carry the banner.
_CARRIED = {
    "on every article": lambda size: range(size + 5),
    "retired after a year and back": lambda size: [*range(size // 5), *range(size, size + 5)],
    "on every tenth article": lambda size: range(0, size + 5, 10),  # a short line no span makes template
}


@pytest.mark.parametrize("carried", _CARRIED)
def test_a_runs_template_decisions_cost_the_same_on_a_site_with_ten_times_the_articles(tmp_path, carried):
    """A banner on every article of five years, on those of the first year and back on the run's, or a short line
    ("Photo: agency") on every tenth, searched for a span of its own again by each run that adds it: deciding it
    again, for a run of 5 new articles, must not count the site's articles (SQLite's work, in its progress
    handler's ticks, at 300 and at 3,000 articles)."""
    work = []
    for size in (300, 3000):
        pages = _site_with_banner(_CARRIED[carried](size), size + 5, timedelta(days=5 * 365) / size)
        with CorpusStore(tmp_path / str(size)) as store:
            for start in range(0, size, 500):
                store.add(pages[start:min(start + 500, size)])
            ticks = []
            store._db.set_progress_handler(lambda: ticks.append(1), 100)
            store.add(pages[size:])
            work.append(len(ticks))
            store._db.set_progress_handler(None, 100)
            holding = [row["url"] for row in store.rows() if BANNER in (tmp_path / str(size) / row["text_path"]).read_text()]
        assert holding == ([page.url for page in pages[::10]] if carried == "on every tenth article" else [])
    assert work[1] < 1.5 * work[0], work


_KILL_AT = """
import os, signal, sqlite3, sys
connect = sqlite3.connect
def killed_at(statement):  # the process dies with the store's upgrade begun
    if "ADD COLUMN reordered" in statement:
        os.kill(os.getpid(), signal.SIGKILL)
def connecting(*args, **kwargs):
    db = connect(*args, **kwargs)
    db.set_trace_callback(killed_at)
    return db
sqlite3.connect = connecting
from corpus.store import CorpusStore
CorpusStore(sys.argv[1])
"""


def test_a_store_from_before_span_scans_killed_while_it_upgrades_is_upgraded_by_the_next_open_and_decides_alike(tmp_path):
    """A store made before the span search was kept gets its columns on first open, in one transaction: a process
    killed midway leaves the store as it was, the next open upgrades it, and its next runs make what a store that
    always had them makes: a short line on every tenth article, no template, until it is on every one of a run of 20."""
    pages = _site_with_banner([*range(0, 150, 10), *range(150, 170)], 170, timedelta(hours=7))
    _texts_after_runs(tmp_path / "always", pages[:100], per_run=5)
    _texts_after_runs(tmp_path / "old", pages[:100], per_run=5)
    path = tmp_path / "old" / "derived" / "corpus.sqlite"
    with sqlite3.connect(path) as db:  # what a store made before looked like
        db.execute("ALTER TABLE key_stats DROP COLUMN scan")
        db.execute("ALTER TABLE sites DROP COLUMN reordered")
    db.close()
    columns = "SELECT name FROM pragma_table_info('key_stats') UNION ALL SELECT name FROM pragma_table_info('sites')"
    killed = subprocess.run([sys.executable, "-c", _KILL_AT, str(tmp_path / "old")], cwd=REPO)
    assert killed.returncode == -9
    with sqlite3.connect(path) as db:
        assert not {"scan", "reordered"} & {name for (name,) in db.execute(columns)}
    db.close()
    with CorpusStore(tmp_path / "old") as store:
        assert {"scan", "reordered"} <= {name for (name,) in store._db.execute(columns)}
    decisions = "SELECT key, frequency, template, from_at, to_at FROM key_stats ORDER BY key"
    texts = [_texts_after_runs(tmp_path / name, pages[100:], per_run=5) for name in ("always", "old")]
    assert texts[0] == texts[1] and len(texts[0]) == 170
    assert not [url for url, text in texts[0].items() if BANNER in text]
    with sqlite3.connect(tmp_path / "always" / "derived" / "corpus.sqlite") as always, sqlite3.connect(path) as old:
        assert always.execute(decisions).fetchall() == old.execute(decisions).fetchall()
    always.close()
    old.close()


def test_a_store_from_before_template_spans_gets_the_spans_a_new_store_keeps(tmp_path):
    pages = _site_with_banner(range(10, 40), 80)
    _texts_after_runs(tmp_path, pages, per_run=6)
    path = tmp_path / "derived" / "corpus.sqlite"
    spans = "SELECT site, key, first_at, last_at, template FROM key_stats ORDER BY 1, 2"
    articles = "SELECT site, signature, first_at FROM site_signatures ORDER BY 1, 2"
    months = "SELECT * FROM site_months ORDER BY 1, 2"
    with sqlite3.connect(path) as db:
        kept = [db.execute(query).fetchall() for query in (spans, articles, months)]
        db.execute("DROP TABLE site_months")  # what a store made before looked like
        for table, column in [("key_stats", "first_at"), ("key_stats", "last_at"), ("site_signatures", "first_at")]:
            db.execute("DROP INDEX IF EXISTS site_signatures_by_time")
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    db.close()
    CorpusStore(tmp_path).close()
    with sqlite3.connect(path) as db:
        assert [db.execute(query).fetchall() for query in (spans, articles, months)] == kept
    db.close()


def _articles(site: str, numbers: range) -> list[ExtractedArticle]:
    """Articles of a site with nothing in common, captured one a minute (so each run's go after the last's)."""
    rng = random.Random(site)
    return [replace(_page(site, number, rng, shared=[]), fetched_at=f"2026-11-01T{number // 60:02d}:{number % 60:02d}:00Z")
            for number in numbers]


def _whole(store: CorpusStore) -> bytes:
    return b"".join(line.encode("utf-8") + b"\n" for line in store.lines())


def test_corpus_jsonl_grows_by_the_new_rows_of_a_run_and_is_not_written_again(tmp_path):
    path = tmp_path / "corpus.jsonl"
    with CorpusStore(tmp_path) as store:
        store.add(_articles("gazette.example", range(0, 30)))
        assert export_corpus_jsonl(store)
        before, inode = path.read_bytes(), path.stat().st_ino
        store.add(_articles("gazette.example", range(30, 33)))
        assert export_corpus_jsonl(store)
        after = path.read_bytes()
        assert after == _whole(store)
        assert after.startswith(before) and after.count(b"\n") == 33
        assert path.stat().st_ino == inode  # appended to, not replaced by a new file
        assert not export_corpus_jsonl(store)  # nothing new: nothing written


def test_a_corpus_jsonl_write_cut_short_or_a_changed_file_is_made_whole_by_the_next_export(tmp_path):
    path = tmp_path / "corpus.jsonl"
    with CorpusStore(tmp_path) as store:
        store.add(_articles("gazette.example", range(0, 20)))
        export_corpus_jsonl(store)
        written = path.read_bytes()
        store.add(_articles("gazette.example", range(20, 25)))
        # What a crash (or a full disk) in the middle of the next export leaves: the file cut
        # back to its old end, and half of a new line written.
        store.set_file_state(writing_from=len(written))
        path.write_bytes(written + b'{"url": "http://gazette.exa')
        assert export_corpus_jsonl(store)
        assert path.read_bytes() == _whole(store)

        path.write_bytes(path.read_bytes()[:-40])  # damaged by hand: not what the store wrote
        store.add(_articles("gazette.example", range(25, 26)))
        assert export_corpus_jsonl(store)
        assert path.read_bytes() == _whole(store)
        path.unlink()
        assert export_corpus_jsonl(store) and path.read_bytes() == _whole(store)


def test_a_text_file_deleted_while_exporting_to_standard_output_says_how_many_rows_went_out(archive, tmp_path):
    """The rows before it are already in the pipe: the line says how many, not that nothing was exported."""
    rows = read_corpus(archive["out"])
    last = archive["out"] / rows[-1]["text_path"]
    run = subprocess.Popen([sys.executable, "-m", "cli", "export", "--config", str(archive["config"]), "--out", "-"],
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fcntl.fcntl(run.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)  # the export waits on us after a few rows
    first = run.stdout.read(1)  # it has begun writing: every text file was there
    aside = last.rename(tmp_path / "aside")
    try:
        written = first + run.stdout.read()
        stderr = run.stderr.read().decode()
        assert run.wait(timeout=60) == 1
    finally:
        aside.rename(last)
    lines = written.decode().splitlines()
    assert 0 < len(lines) < len(rows)
    assert stderr == (f"newsarchive: export: 1 text file is missing ({rows[-1]['text_path']}); `newsarchive check "
                      f"--repair` writes it again; the first {len(lines)} rows were written to standard output\n")


BANNER = "Subscribe to the Gazette for the whole story every morning."


def _bannered(numbers: range, holding: set[int]) -> list[ExtractedArticle]:
    """The gazette's articles ``numbers``; those in ``holding`` end in its subscription banner."""
    return [replace(page, document=replace(page.document, paragraphs=page.document.paragraphs + (BANNER,)))
            if number in holding else page for number, page in zip(numbers, _articles("gazette.example", numbers))]


def _banner_archive(root) -> list[str]:
    """A corpus whose first and last articles hold the banner (2 of 40: not the site's template yet); its lines."""
    with CorpusStore(root) as store:
        store.add(_bannered(range(40), {0, 39}))
        export_corpus_jsonl(store)
        lines = list(store.lines())
    (root / "sources.toml").write_text(f'[archive]\ndir = "{root}"\n\n[[sources]]\nname = "gazette"\n'
                                       'start_urls = ["http://gazette.example/"]\n')
    return lines


def _banner_learned(root) -> None:
    """A run's derivation: the banner on one article more makes it template, and the last article's text is
    written again without it."""
    with CorpusStore(root) as store:
        assert store.add(_bannered(range(40, 41), {40})).rewritten_texts


def _true_to_their_rows(rows: list[dict]) -> bool:
    return all(hashlib.sha256(row["text"].encode("utf-8")).hexdigest() == row["text_sha256"] for row in rows)


def _comparable(row: dict) -> dict:
    """A row of either export, or of the store, as JSON Lines give it with ``fetched_at`` in the one form the reader
    puts a WARC-Date in (these tests' rows skip the reader): Parquet's typed columns back as that string, or left out."""
    fetched_at = row["fetched_at"]
    row = {key: value for key, value in row.items() if key not in ("text", "published_at", "published_day",
                                                                    "last_seen")}
    return {**row, "fetched_at": canonical_warc_date(fetched_at) if isinstance(fetched_at, str) else warc_date(fetched_at)}


@pytest.mark.parametrize("name", ["export.jsonl", "export.parquet"])
def test_an_export_to_a_file_while_a_run_derives_gives_every_row_its_own_text(tmp_path, name):
    """A derivation that rewrites a text the export has not read yet (a banner learned as template) must not
    leave an earlier row holding the later text: the export is taken again over the store as it is now."""
    lines = _banner_archive(tmp_path)

    class DerivedMeanwhile(CorpusStore):
        def lines_last_seen(self):  # what an export reads the rows through
            for n, item in enumerate(super().lines_last_seen()):
                exporting = any(tmp_path.glob(f".{name}.*"))  # its output open: the rows with their texts
                if n == 1 and exporting and not (tmp_path / "derived-once").exists():
                    (tmp_path / "derived-once").touch()
                    _banner_learned(tmp_path)
                yield item

    export = export_parquet if name.endswith("parquet") else export_jsonl
    with DerivedMeanwhile(tmp_path) as store:
        assert export(store, tmp_path / name) == len(lines) + 1
        current = list(store.lines())
    rows = pq.read_table(tmp_path / name).to_pylist() if name.endswith("parquet") else \
        [json.loads(line) for line in (tmp_path / name).read_text(encoding="utf-8").splitlines()]
    assert _true_to_their_rows(rows)
    assert [_comparable(row) for row in rows] == [_comparable(json.loads(line)) for line in current]
    assert BANNER not in rows[39]["text"]


def test_an_export_to_standard_output_while_a_run_rewrites_a_text_stops_in_one_line_saying_so(tmp_path):
    """The rows already in the pipe cannot be taken back: the export ends, says how many went out and that the
    corpus changed under it, rather than send a row whose text is another version's."""
    lines = _banner_archive(tmp_path)
    run = subprocess.Popen([sys.executable, "-m", "cli", "export", "--config", str(tmp_path / "sources.toml"),
                            "--out", "-"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fcntl.fcntl(run.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)  # the export waits on us after a few rows
    first = run.stdout.read(1)
    _banner_learned(tmp_path)
    written = (first + run.stdout.read()).decode("utf-8").splitlines()
    stderr = run.stderr.read().decode()
    assert run.wait(timeout=60) == 1
    rows = [json.loads(line) for line in written]
    assert 0 < len(rows) < len(lines) and _true_to_their_rows(rows)
    assert stderr == ("newsarchive: export: the corpus changed while it was exported (a run derived meanwhile): "
                      f"the first {len(rows)} rows were written to standard output; export again for the whole corpus\n")


def _worded(number: int) -> ExtractedArticle:
    """A gazette article of its own words (texts sharing few shingles, quick to take in by the thousand)."""
    rng = random.Random(number)
    page = _articles("gazette.example", range(number, number + 1))[0]
    words = tuple(" ".join(f"w{rng.randrange(5000)}" for _ in range(30)) + "." for _ in range(3))
    return replace(page, document=replace(page.document, paragraphs=words))


@pytest.mark.parametrize("name", ["export.jsonl", "export.parquet"])
def test_an_export_killed_midway_leaves_the_previous_file_and_the_next_export_clears_what_it_left(tmp_path, name):
    """SIGKILL runs no clean-up: the half-written temporary file stays beside ``--out``, and every export killed so
    would leave one more (a whole corpus's size each) unless the next export removes them."""
    archive = tmp_path / "archive"
    _banner_archive(archive)
    with CorpusStore(archive) as store:
        store.add([_worded(number) for number in range(40, 1000)])
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_bytes(b"an earlier export\n")
    command = [sys.executable, "-m", "cli", "export", "--config", str(archive / "sources.toml"), "--out",
               str(out / name), "--format", name.rpartition(".")[2]]
    run = subprocess.Popen(command, cwd=REPO, stderr=subprocess.DEVNULL)
    while run.poll() is None and not any(path.stat().st_size for path in out.glob(f".{name}.*")):
        time.sleep(0.001)
    run.kill()
    run.wait()
    assert (out / name).read_bytes() == b"an earlier export\n"
    assert [path.name for path in out.iterdir() if path.name != name], "killed after it finished: make it longer"
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == [name]


# ``newsarchive export`` in a process that says its own peak resident memory (KiB) last on stderr: VmHWM, as
# ru_maxrss keeps the peak of the process that forked it (the test's).
PEAK_OF_EXPORT = ("import runpy, sys\nsys.argv[0] = 'cli'\ntry:\n    runpy.run_module('cli', run_name='__main__')\n"
                  "except SystemExit:\n    pass\n"
                  "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')), "
                  "file=sys.stderr)\n")


def _export_peak_kib(root, fmt: str) -> int:
    """The peak resident memory of ``newsarchive export`` of the corpus under ``root`` (KiB)."""
    result = subprocess.run([sys.executable, "-c", PEAK_OF_EXPORT, "export", "--config", str(root / "sources.toml"),
                             "--out", str(root / f"export.{fmt}"), "--format", fmt], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 0 and "articles written to" in result.stderr, result.stderr
    return int(result.stderr.splitlines()[-1])


def test_an_exports_memory_does_not_grow_with_the_corpus(tmp_path):
    """Rows stream from the store to the file; the pages SQLite reads on the way must not stay cached either (a
    derivation's batch keeps up to 64 MiB of them, which an export reading every row once would fill)."""
    peaks = {}
    for size in (1000, 8000):
        with CorpusStore(tmp_path) as store:
            for first in range(store.row_count(), size, 1000):
                store.add([_worded(number) for number in range(first, first + 1000)])
        (tmp_path / "sources.toml").write_text(f'[archive]\ndir = "{tmp_path}"\n\n[[sources]]\nname = "gazette"\n'
                                               'start_urls = ["http://gazette.example/"]\n')
        peaks[size] = _export_peak_kib(tmp_path, "jsonl")
    # SQLite's 2 MiB page cache fills as the export reads (58.3, 58.4, 59.2 and 59.1 MiB at 1,000, 4,000, 8,000 and
    # 16,000 rows); without the bound on it, 58.7 and 82.8 MiB at 1,000 and 8,000
    assert peaks[8000] - peaks[1000] < 2000 + 1024, f"peak KiB of an export of 1,000 and 8,000 rows: {peaks}"
