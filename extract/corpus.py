"""From archived article responses to the corpus: ``text/<source>/<key>.txt`` and ``corpus.jsonl``.

The live run and a rebuild both call ``extract_capture`` on WARC records and
``write_corpus`` on the results, so they produce the same bytes.  For that, a site's
template boilerplate is learned from every article of the site, not just this run's:
``derived/site-documents/`` keeps each site's extracted documents (rebuilt from the
WARCs named in corpus.jsonl if it is lost), and when a run changes what is learned, the
site's earlier text files are rewritten in the same run.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
from collections import defaultdict
from concurrent.futures import Executor
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from archive import WARC_DIR
from archive.atomic import write_atomic
from archive.reader import RecordError, read_response
from extract import EXTRACTOR, Document, extract_document, remove_site_boilerplate
from extract.duplicates import Sketch, assign_duplicates

CORPUS_FILE = "corpus.jsonl"
TEXT_DIR = "text"
DERIVED_DIR = "derived"
_SITE_DOCUMENTS = f"{DERIVED_DIR}/site-documents"
_SKETCHES = f"{DERIVED_DIR}/sketches.tsv"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractedArticle:
    """A document with the provenance of the response record it was made from."""

    source: str
    url: str
    fetched_at: str
    warc_file: str
    warc_offset: int
    warc_record_id: str
    payload_digest: str
    document: Document


def text_key(url: str) -> str:
    """The stable 16-hex-digit name of a URL's text file."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def extract_capture(source: str, warc_path: Path, offset: int) -> ExtractedArticle:
    """Read the response record at ``offset`` and extract its article."""
    response = read_response(Path(warc_path), offset)
    if response.truncated:
        raise RecordError(f"{response.warc_file}@{offset} {response.url}: body {response.truncated}, not extracted")
    document = extract_document(response.body, response.url, content_type=response.content_type)
    return ExtractedArticle(
        source=source,
        url=response.url,
        fetched_at=response.date,
        warc_file=response.warc_file,
        warc_offset=offset,
        warc_record_id=response.record_id,
        payload_digest=response.payload_digest,
        document=document,
    )


def _corpus_row(article: ExtractedArticle, document: Document, text_path: str, text: bytes) -> dict:
    return {
        "url": article.url,
        "canonical_url": document.canonical_url or article.url,
        "source": article.source,
        "title": document.title,
        "author": document.author,
        "date": document.date,
        "sitename": document.sitename,
        "language": document.language,
        "text_path": text_path,
        "text_sha256": hashlib.sha256(text).hexdigest(),
        "fetched_at": article.fetched_at,
        "warc_file": article.warc_file,
        "warc_offset": article.warc_offset,
        "warc_record_id": article.warc_record_id,
        "payload_digest": article.payload_digest,
        "extractor": EXTRACTOR,
    }


def _site(article: ExtractedArticle | dict) -> tuple[str, str]:
    if isinstance(article, dict):
        return article["source"], urlsplit(article["url"]).netloc
    return article.source, urlsplit(article.url).netloc


def read_corpus(archive_dir: Path) -> list[dict]:
    """The rows of ``corpus.jsonl``; a torn last line (a crash mid-write elsewhere) is skipped."""
    path = Path(archive_dir) / CORPUS_FILE
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def version_path(source: str, url: str, version: int) -> str:
    """``text/<source>/<key>.txt`` for an article's first version, ``<key>.v<N>.txt`` for later ones."""
    suffix = "" if version == 1 else f".v{version}"
    return f"{TEXT_DIR}/{source}/{text_key(url)}{suffix}.txt"


def _capture_key(row: dict | ExtractedArticle) -> tuple[str, str, str]:
    if isinstance(row, dict):
        return row["source"], row["url"], row["payload_digest"]
    return row.source, row.url, row.payload_digest


def _number_versions(rows: list[dict]) -> None:
    """Number each URL's distinct payloads 1, 2, ... in order of capture (WARC-Date).

    Only the WARC records decide the numbers, so a corpus rebuilt from the WARCs gets the same.
    """
    by_url: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        by_url[row["source"], row["url"]].append(row)
    for captures in by_url.values():
        for version, row in enumerate(sorted(captures, key=lambda row: (row["fetched_at"], row["payload_digest"])), 1):
            row["version"] = version
            row["text_path"] = version_path(row["source"], row["url"], version)


def _history_path(archive_dir: Path, site: tuple[str, str]) -> Path:
    source, netloc = site
    return archive_dir / _SITE_DOCUMENTS / source / (netloc.replace(":", "_") + ".jsonl.gz")


def _site_history(archive_dir: Path, site: tuple[str, str], corpus: list[dict]) -> list[ExtractedArticle]:
    """The site's articles extracted by earlier runs: from the derived file, else from the WARCs."""
    path = _history_path(archive_dir, site)
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            return [ExtractedArticle(**{**data, "document": Document.from_dict(data["document"])})
                    for data in map(json.loads, lines)]
    articles = []
    for row in (row for row in corpus if _site(row) == site):
        try:
            articles.append(extract_capture(row["source"], archive_dir / WARC_DIR / row["warc_file"], row["warc_offset"]))
        except (OSError, RecordError) as exc:
            logger.warning("%s: cannot re-extract %s: %s", archive_dir, row["url"], exc)
    return articles


def _save_site_history(archive_dir: Path, site: tuple[str, str], articles: list[ExtractedArticle]) -> None:
    lines = []
    for article in articles:
        data = {field.name: getattr(article, field.name) for field in fields(article)}
        lines.append(json.dumps({**data, "document": article.document.to_dict()}, ensure_ascii=False) + "\n")
    data = gzip.compress("".join(lines).encode("utf-8"), compresslevel=1, mtime=0)  # derived: speed over size
    write_atomic(_history_path(archive_dir, site), data)


def _site_rows(site_articles: list[ExtractedArticle]) -> list[tuple[dict, bytes]]:
    """Rows and texts of one site's articles, its template paragraphs learned from all of them."""
    documents = remove_site_boilerplate([article.document for article in site_articles])
    rows = []
    for article, document in zip(site_articles, documents):
        if not document.is_empty:
            text = document.text().encode("utf-8")
            rows.append((_corpus_row(article, document, "", text), text))
    return rows


def _write_text(path: Path, text: bytes) -> None:
    """A new text file is written in place, an existing one replaced atomically.

    Readers find text files through corpus.jsonl, which names a file only after it is
    synced, so a new file needs no temporary name: that halves the directory updates of a
    run's new articles, which the run's end waits for.  A file torn by a crash is not yet
    named and is replaced by the next run.
    """
    try:
        out = open(path, "xb")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        out = open(path, "xb")
    except FileExistsError:
        write_atomic(path, text, durable=False)
        return
    with out:
        out.write(text)


@dataclass(frozen=True)
class _SiteResult:
    rows: list[dict]
    texts: dict[tuple[str, str, str], bytes]  # by capture key
    sketches: dict[str, str]  # by text digest, for each text file written


def _redo_site(archive_dir: Path, site: tuple[str, str], articles: list[ExtractedArticle],
               earlier: list[dict]) -> _SiteResult:
    """One site done as a whole: its rows, text files, history and the sketches of new texts.

    Sites share nothing (a URL's versions are all on its site), so they can be done in
    separate processes; ``earlier`` are the site's rows in corpus.jsonl.
    """
    known: dict[tuple[str, str, str], ExtractedArticle] = {}
    everything = _site_history(archive_dir, site, earlier) + articles
    for article in sorted(everything, key=lambda article: (article.url, article.fetched_at, article.warc_record_id)):
        known.setdefault(_capture_key(article), article)  # in capture order: the first capture wins
    rows, texts = [], {}
    for row, text in _site_rows(list(known.values())):
        rows.append(row)
        texts[_capture_key(row)] = text
    _save_site_history(archive_dir, site, list(known.values()))
    _number_versions(rows)
    before = {row["text_path"]: row["text_sha256"] for row in earlier}
    sketches: dict[str, str] = {}
    for row in rows:
        path = archive_dir / row["text_path"]
        if before.get(row["text_path"]) != row["text_sha256"] or not path.exists():
            text = texts[_capture_key(row)]
            _write_text(path, text)
            if row["text_sha256"] not in sketches:
                sketches[row["text_sha256"]] = Sketch.of(text.decode("utf-8")).to_str()
    for stale in set(before) - {row["text_path"] for row in rows}:
        (archive_dir / stale).unlink(missing_ok=True)
    return _SiteResult(rows, texts, sketches)


def _redo_sites(archive_dir: Path, by_site: dict[tuple[str, str], list[ExtractedArticle]],
                corpus: list[dict], executor: Executor | None) -> list[_SiteResult]:
    """``_redo_site`` for every site of ``by_site``, in site order; on ``executor``'s processes if given."""
    earlier: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in corpus:
        if _site(row) in by_site:
            earlier[_site(row)].append(row)
    sites = sorted(by_site)
    if executor is None:
        return [_redo_site(archive_dir, site, by_site[site], earlier[site]) for site in sites]
    # The largest sites first, so that no process is left with a big one at the end.
    largest_first = sorted(sites, key=lambda site: len(by_site[site]) + len(earlier[site]), reverse=True)
    futures = {site: executor.submit(_redo_site, archive_dir, site, by_site[site], earlier[site])
               for site in largest_first}
    return [futures[site].result() for site in sites]


def _mark_duplicates(archive_dir: Path, rows: list[dict], texts: dict[tuple, bytes], computed: dict[str, str]) -> None:
    """``dup_cluster``/``dup_canonical`` on every row; sketches are cached by text digest."""
    path = archive_dir / _SKETCHES
    cached = dict(line.split("\t", 1) for line in path.read_text().splitlines()) if path.exists() else {}
    used: dict[str, str] = {}

    def text_of(row: dict) -> str:
        text = texts.get(_capture_key(row))
        return (text if text is not None else (archive_dir / row["text_path"]).read_bytes()).decode("utf-8")

    def sketch_of(row: dict) -> Sketch:
        digest = row["text_sha256"]
        if digest not in used:
            used[digest] = cached.get(digest) or computed.get(digest) or Sketch.of(text_of(row)).to_str()
        return Sketch.from_str(used[digest])

    assign_duplicates(rows, sketch_of, text_of)
    if used != cached:
        write_atomic(path, "".join(f"{digest}\t{used[digest]}\n" for digest in sorted(used)).encode("utf-8"))


def write_corpus(archive_dir: Path, articles: list[ExtractedArticle], *, executor: Executor | None = None) -> list[dict]:
    """Write the text files of ``articles`` and merge their rows into ``corpus.jsonl``.

    Each site that has new articles is redone as a whole: its template paragraphs are
    learned from all its articles, earlier ones included, and only text files whose bytes
    change are written; a site without new articles is left alone.  Empty documents (not
    an article after all) get no file and teach nothing.  A URL archived with another
    payload before gets a new version; the same payload captured again keeps its first
    capture.  Near-duplicates are marked over the whole corpus.  With an ``executor``
    (a process pool) the sites are redone in its processes; the bytes are the same.
    Returns the rows of ``articles``.
    """
    archive_dir = Path(archive_dir)
    corpus = read_corpus(archive_dir)
    by_site: dict[tuple[str, str], list[ExtractedArticle]] = defaultdict(list)
    for article in articles:
        if not article.document.is_empty:
            by_site[_site(article)].append(article)
    fresh: list[dict] = []
    texts: dict[tuple[str, str, str], bytes] = {}
    sketches: dict[str, str] = {}
    for result in _redo_sites(archive_dir, by_site, corpus, executor):
        fresh.extend(result.rows)
        texts.update(result.texts)
        sketches.update(result.sketches)
    merged = [row for row in corpus if _site(row) not in by_site] + fresh
    os.sync()  # the text files are on disk before the corpus.jsonl that names them
    _mark_duplicates(archive_dir, merged, texts, sketches)
    merged.sort(key=lambda row: (row["source"], row["url"], row["version"]))
    data = "".join(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n" for row in merged)
    write_atomic(archive_dir / CORPUS_FILE, data.encode("utf-8"))
    new = {_capture_key(article) for article in articles}
    return [row for row in fresh if _capture_key(row) in new]
