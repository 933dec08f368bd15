"""From archived article responses to the corpus: ``text/<source>/<key>.txt`` and ``corpus.jsonl``.

The live run and a rebuild both call ``extract_capture`` on WARC records and
``write_corpus`` on the results, so they produce the same bytes.
"""

from __future__ import annotations

import hashlib
import json
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


def write_corpus(archive_dir: Path, articles: list[ExtractedArticle]) -> list[dict]:
    """Write the text files of ``articles`` and merge their rows into ``corpus.jsonl``.

    Paragraphs that recur across one site's pages are removed first.  Articles whose
    document is empty (not an article after all) get no file.  Returns the new rows.
    """
    archive_dir = Path(archive_dir)
    by_site: dict[tuple[str, str], list[ExtractedArticle]] = defaultdict(list)
    for article in articles:
        by_site[_site(article)].append(article)
    rows = []
    for site in sorted(by_site):
        site_articles = sorted(by_site[site], key=lambda article: (article.url, article.fetched_at))
        documents = remove_site_boilerplate([article.document for article in site_articles])
        for article, document in zip(site_articles, documents):
            if document.is_empty:
                continue
            text = document.text().encode("utf-8")
            text_path = f"{TEXT_DIR}/{article.source}/{text_key(article.url)}.txt"
            write_atomic(archive_dir / text_path, text)
            rows.append(_corpus_row(article, document, text_path, text))
    replaced = {(row["source"], row["url"]) for row in rows}
    kept = [row for row in read_corpus(archive_dir) if (row["source"], row["url"]) not in replaced]
    merged = sorted(kept + rows, key=lambda row: (row["source"], row["url"]))
    data = "".join(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n" for row in merged)
    write_atomic(archive_dir / CORPUS_FILE, data.encode("utf-8"))
    return rows
