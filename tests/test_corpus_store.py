"""The corpus store as its users rely on it: derivation reads only what is new, exports carry every
row with its text, and the site-template counts decide as the whole-site rule does."""

from __future__ import annotations

import fcntl
import json
import random
import subprocess
import sys
from dataclasses import replace

import pyarrow.parquet as pq
import pytest
from archive_fixtures import REPO, crawl_demo, newsarchive

from corpus.export import export_corpus_jsonl, read_corpus
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
    assert [{key: value for key, value in row.items() if key != "text"} for row in exported] == rows
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
