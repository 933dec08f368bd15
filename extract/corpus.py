"""From archived article responses to the corpus: ``text/<source>/<key>.txt`` and ``corpus.jsonl``.

The live run and a rebuild both call ``extract_capture`` on WARC records and
``write_corpus`` on the results, so they produce the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from archive.atomic import write_atomic
from archive.reader import RecordError, read_response
from extract import EXTRACTOR, Document, extract_document, remove_site_boilerplate

CORPUS_FILE = "corpus.jsonl"
TEXT_DIR = "text"


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
        raise RecordError(f"{response.warc_file}@{offset}: body truncated, not extracted")
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


def _site(article: ExtractedArticle) -> tuple[str, str]:
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


def _capture_key(row: dict) -> tuple[str, str, str]:
    return row["source"], row["url"], row["payload_digest"]


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


def write_corpus(archive_dir: Path, articles: list[ExtractedArticle]) -> list[dict]:
    """Write the text files of ``articles`` and merge their rows into ``corpus.jsonl``.

    Paragraphs that recur across one site's pages are removed first.  Articles whose
    document is empty (not an article after all) get no file.  A URL archived with another
    payload before gets a new version (a row and a text file of its own); the same capture
    extracted again replaces its row.  Returns the new rows.
    """
    archive_dir = Path(archive_dir)
    by_site: dict[tuple[str, str], list[ExtractedArticle]] = defaultdict(list)
    for article in articles:
        by_site[_site(article)].append(article)
    fresh: dict[tuple[str, str, str], tuple[dict, bytes]] = {}
    for site in sorted(by_site):
        site_articles = sorted(by_site[site], key=lambda article: (article.url, article.fetched_at))
        documents = remove_site_boilerplate([article.document for article in site_articles])
        for article, document in zip(site_articles, documents):
            if document.is_empty:
                continue
            text = document.text().encode("utf-8")
            row = _corpus_row(article, document, "", text)
            fresh.setdefault(_capture_key(row), (row, text))  # sorted by fetch time: the first capture wins
    rows = [row for row, _ in fresh.values()]
    existing = [row for row in read_corpus(archive_dir) if _capture_key(row) not in fresh]
    old_paths = {_capture_key(row): row["text_path"] for row in existing}
    merged = existing + rows
    _number_versions(merged)
    # An earlier capture that arrives late moves later versions up; move the highest first.
    moved = [row for row in existing if old_paths[_capture_key(row)] != row["text_path"]]
    for row in sorted(moved, key=lambda row: row["version"], reverse=True):
        os.replace(archive_dir / old_paths[_capture_key(row)], archive_dir / row["text_path"])
    for row in rows:
        write_atomic(archive_dir / row["text_path"], fresh[_capture_key(row)][1])
    merged.sort(key=lambda row: (row["source"], row["url"], row["version"]))
    data = "".join(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n" for row in merged)
    write_atomic(archive_dir / CORPUS_FILE, data.encode("utf-8"))
    return rows
