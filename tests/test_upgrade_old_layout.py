"""An archive derived before the corpus store, upgraded: its first run takes the old corpus over.

The old layout is the one commit 5357f12 (the last before the corpus store) left under the archive
dir, written here file by file from the archive's own WARCs, as ``extract/corpus.py`` of that commit
wrote it after its runs:

- ``corpus.jsonl``: one row per distinct payload of an article URL (``_number_versions``: a URL's
  payloads numbered 1, 2, ... by (WARC-Date, payload digest), new bytes of the same text a version
  too), sorted by (source, url, version), with the fields of ``_corpus_row`` plus ``version``,
  ``dup_cluster`` and ``dup_canonical``;
- ``text/<source>/<key>.txt`` and ``<key>.v<N>.txt`` for each row;
- ``derived/site-documents/<source>/<host with ':' as '_'>.jsonl.gz``: each site's extracted
  captures, one JSON object a line (the provenance fields and ``document``), gzip with mtime 0;
- ``derived/sketches.tsv``: text digest, tab, sketch, one a line;
- no ``derived/corpus.sqlite``.

The texts and documents are what the current extractor makes of those WARCs (the old one's made no
difference to the layout).
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from corpus.duplicates import Sketch, shingles
from corpus.store import version_path
from corpus.upgrade import UPGRADE_RECORD
from demo.run import write_demo_config
from demo.site import DemoSite
from tests.archive_fixtures import REPO, corpus_files, newsarchive

OLD_FIELDS = ("url", "canonical_url", "source", "title", "author", "date", "sitename", "language", "text_path",
              "text_sha256", "fetched_at", "warc_file", "warc_offset", "warc_record_id", "payload_digest", "extractor",
              "version", "dup_cluster", "dup_canonical")


def _write_old_layout(archive: Path, scratch: Path) -> list[dict]:
    """Replace ``archive``'s corpus by the layout of 5357f12 (see the module's text), made from the corpus that
    ``scratch`` (a rebuild of the archive's WARCs) derived; the old corpus's rows."""
    db = sqlite3.connect(scratch / "derived" / "corpus.sqlite")
    rows_by_id = {record_id: json.loads(line) for record_id, line in db.execute("SELECT record_id, line FROM rows")}
    captures = db.execute("SELECT record_id, source, url, fetched_at, payload_digest, warc_file, warc_offset, document"
                          " FROM captures WHERE is_primary = 1 AND document IS NOT NULL"
                          " ORDER BY source, url, fetched_at, payload_digest").fetchall()
    db.close()
    for path in ("derived", "text"):
        subprocess.run(["rm", "-rf", str(archive / path)], check=True)
    (archive / "corpus.jsonl").unlink()
    old_rows, site_documents, sketches = [], {}, {}
    last: dict | None = None
    for record_id, source, url, fetched_at, digest, warc_file, offset, document in captures:
        site = (source, url.split("/")[2])
        site_documents.setdefault(site, []).append(
            {"source": source, "url": url, "fetched_at": fetched_at, "warc_file": warc_file, "warc_offset": offset,
             "warc_record_id": record_id, "payload_digest": digest, "document": json.loads(zlib.decompress(document))})
        made = rows_by_id.get(record_id)
        if made is not None:
            text = (scratch / made["text_path"]).read_bytes()
        elif last is not None and (last["source"], last["url"]) == (source, url):
            made = last  # new bytes, the same text: no version now, one then (``text`` is still its)
        else:
            continue
        version = 1 if last is None or (last["source"], last["url"]) != (source, url) else last["version"] + 1
        row = {**made, "fetched_at": fetched_at, "warc_file": warc_file, "warc_offset": offset,
               "warc_record_id": record_id, "payload_digest": digest, "version": version,
               "text_path": version_path(source, url, version)}
        (archive / row["text_path"]).parent.mkdir(parents=True, exist_ok=True)
        (archive / row["text_path"]).write_bytes(text)
        sketches[row["text_sha256"]] = Sketch.of_shingles(shingles(text.decode("utf-8"))).to_str()
        old_rows.append(row)
        last = row
    old_rows.sort(key=lambda row: (row["source"], row["url"], row["version"]))
    (archive / "corpus.jsonl").write_text(
        "".join(json.dumps({name: row[name] for name in OLD_FIELDS}, ensure_ascii=False) + "\n" for row in old_rows),
        encoding="utf-8")
    for (source, netloc), documents in site_documents.items():
        path = archive / "derived" / "site-documents" / source / (netloc.replace(":", "_") + ".jsonl.gz")
        path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(json.dumps(document, ensure_ascii=False) + "\n" for document in documents)
        path.write_bytes(gzip.compress(data.encode("utf-8"), compresslevel=1, mtime=0))
    (archive / "derived" / "sketches.tsv").write_text(
        "".join(f"{digest}\t{sketch}\n" for digest, sketch in sorted(sketches.items())), encoding="utf-8")
    return old_rows


@pytest.fixture
def old_archive(tmp_path):
    """Two runs over the demo sites (an article's page changed between them outside its text), its corpus then
    put in the layout of 5357f12; yields the archive, its config and the old corpus's rows, the sites still up."""
    archive = tmp_path / "archive"
    archive.mkdir()
    with DemoSite() as site:
        config = write_demo_config(site, archive)
        config.write_text(config.read_text(encoding="utf-8").replace("[[sources]]", "[[sources]]\nrefetch_after = 0.0001"),
                          encoding="utf-8")
        for run in range(2):
            if run:
                site.set_article("gazette", site.articles("gazette")[0].slug)  # new Last-Modified, the same text
                time.sleep(1.1)  # a later WARC-Date
            result = newsarchive("run", "--config", str(config))
            assert result.returncode == 0, result.stderr
        scratch = tmp_path / "scratch"
        rebuilt = newsarchive("rebuild", "--warc", *map(str, sorted((archive / "warc").glob("*.warc.gz"))),
                              "--out", str(scratch))
        assert rebuilt.returncode == 0, rebuilt.stderr
        old_rows = _write_old_layout(archive, scratch)
        yield archive, config, old_rows


def _rebuild_of(archive: Path, out: Path) -> dict[str, bytes]:
    result = newsarchive("rebuild", "--warc", *map(str, sorted((archive / "warc").glob("*.warc.gz"))), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return corpus_files(out)


def _assert_upgraded(archive: Path, result: subprocess.CompletedProcess, old_rows: list[dict], out: Path) -> None:
    """The run counted none of the old corpus's articles as new, said once what it took over, left no old
    derived file, and the corpus is what a rebuild of the WARCs gives."""
    assert result.returncode == 0, result.stderr
    new_lines = [line for line in result.stderr.splitlines() if " new article" in line]
    assert new_lines and all(" 0 new articles" in line for line in new_lines), result.stderr
    taken_over = [line for line in result.stderr.splitlines() if "taken over" in line]
    kept = len({(row["source"], row["url"], row["text_sha256"]) for row in old_rows})  # same text again: no version
    assert taken_over == [f"corpus: upgraded from the layout before the corpus store: {kept} of its {len(old_rows)} "
                          "articles taken over, derived again from the WARCs; derived/site-documents/ and "
                          "derived/sketches.tsv removed, and 1 text file no row names now"], result.stderr
    assert sorted(path.name for path in (archive / "derived").iterdir()) == [
        "corpus.sqlite", "corpus.sqlite-shm", "corpus.sqlite-wal"]
    assert corpus_files(archive) == _rebuild_of(archive, out)


def test_the_first_run_after_an_upgrade_takes_the_old_corpus_over_without_calling_it_new(old_archive, tmp_path):
    archive, config, old_rows = old_archive
    assert any(row["version"] == 2 for row in old_rows)  # the old layout's version of the same text
    result = newsarchive("run", "--config", str(config))
    _assert_upgraded(archive, result, old_rows, tmp_path / "rebuilt")
    again = newsarchive("run", "--config", str(config))
    assert "taken over" not in again.stderr and "upgraded" not in again.stderr


def test_an_upgrade_killed_midway_is_finished_by_the_next_run_as_if_nothing_had_happened(old_archive, tmp_path):
    archive, config, old_rows = old_archive
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    derive = subprocess.Popen([sys.executable, "-m", "cli", "derive", "--config", str(config)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    store = archive / "derived" / "corpus.sqlite"
    deadline = time.monotonic() + 60
    while not store.exists() and derive.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    os.killpg(derive.pid, signal.SIGKILL)  # the derivation and its workers, mid-upgrade
    derive.wait()
    assert (archive / UPGRADE_RECORD).exists()  # killed with the upgrade begun, not finished
    result = newsarchive("run", "--config", str(config))
    _assert_upgraded(archive, result, old_rows, tmp_path / "rebuilt")


def test_an_upgrade_leaves_no_empty_text_folder_of_its_own_making_and_keeps_any_that_holds_something(old_archive,
                                                                                                   tmp_path):
    """Before: the text files of a source none of whose old articles is one now were removed, and their folder
    ``text/<source>/`` was left behind empty.  A folder that holds anything else stays, and ``text/`` itself."""
    archive, config, old_rows = old_archive
    warc_file = old_rows[0]["warc_file"]
    extra = []
    for index, source in enumerate(("retired", "annotated")):  # pages the current extractor makes no article of
        row = {**old_rows[0], "source": source, "warc_record_id": f"<urn:uuid:00000000-0000-0000-0000-00000000000{index}>",
               "warc_file": warc_file, "text_path": f"text/{source}/page.txt", "version": 1}
        (archive / row["text_path"]).parent.mkdir()
        (archive / row["text_path"]).write_text("An old text no row names now.\n", encoding="utf-8")
        extra.append(json.dumps({name: row[name] for name in OLD_FIELDS}) + "\n")
    (archive / "text" / "annotated" / "notes.md").write_text("the operator's notes\n", encoding="utf-8")
    with (archive / "corpus.jsonl").open("a", encoding="utf-8") as corpus:
        corpus.writelines(extra)

    result = newsarchive("derive", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "and 3 text files no row names now" in result.stderr, result.stderr
    assert not (archive / "text" / "retired").exists()
    assert sorted(path.name for path in (archive / "text" / "annotated").iterdir()) == ["notes.md"]
    assert {path.name for path in (archive / "text").iterdir()} == {"annotated", *(row["source"] for row in old_rows)}
    assert corpus_files(archive) == _rebuild_of(archive, tmp_path / "rebuilt")
