"""The corpus store: every derived article, keyed by the WARC record it came from, in SQLite.

One transaction takes a batch of extracted captures all the way into the corpus: the
captures and their documents, the site-template counts, the rows (versions, text files),
the near-duplicate index and clusters, and how far each WARC has been read.  A crash
leaves the store as it was before the batch or after it, never in between, and the next
derivation reads the WARC from where the last committed batch ended: each archived article
is derived exactly once per version, whatever happened to the run that fetched it.

Every step costs what the batch touches, not what the archive holds:

- site templates: the counts that ``extract.boilerplate.is_template`` decides on are kept
  per site and paragraph key; a batch updates the counts of its paragraphs and re-decides
  those keys and the site's current template keys only (no other key can change status),
  then rewrites only the earlier texts that hold a key whose status changed;
- versions: renumbered per URL, for the URLs the batch touches; a capture of a payload its URL
  archived before (a revisit) touches it only when the URL's capture before it holds another;
- near-duplicates: a new text is compared only with the texts that share sketch values
  with it (an index of MinHash values); the clusters are the connected groups of the
  "are copies" relation, kept as components that merge, and split when a text goes away.

``corpus.jsonl`` lists the rows in capture order, so a run's new rows go at its end: each
batch records the earliest place its changes touch, and the export rewrites the file from
there on (``export.export_corpus_jsonl``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from archive.atomic import write_atomic
from archive.digests import digest_key
from archive.reader import foreign_source, site_host
from archive.warc_date import canonical_warc_date
from corpus.duplicates import (
    HOT_VALUE_COUNTED,
    HOT_VALUES_SKIPPED,
    SKETCH_SIZE,
    Sketch,
    are_copies,
    canonical_row,
    capture_order,
    cluster_id,
    maybe_copies,
    shingles,
    shingles_of_ids,
    word_ids,
)
from corpus.search import index_text, prepare_search, unindex_text
from extract.boilerplate import (
    MIN_PAGES,
    MIN_SHARE,
    SpanScan,
    article_signature,
    has_template_shape,
    is_at_edge,
    is_template,
    paragraph_key,
    template_span,
    without_template,
)
from extract.document import Document
from extract.metadata import iso_date

logger = logging.getLogger("newsarchive.store")

STORE_FILE = "derived/corpus.sqlite"
TEXT_DIR = "text"

# A row naming its text by the SHA-suffixed name of ``version_path``, until a second commit gives it the plain one
# (``CorpusStore._settle``); a partial index holds those rows, so finding none costs one look at an empty index.
_HEX16 = "[0-9a-f]" * 16
_UNDER_SHA_NAME = f"text_path GLOB '*/{_HEX16}.v[0-9]*.{_HEX16}.txt'"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS scans (
    warc_file TEXT PRIMARY KEY, scanned INTEGER NOT NULL, closed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS captures (
    record_id TEXT PRIMARY KEY, source TEXT NOT NULL, url TEXT NOT NULL, site TEXT NOT NULL,
    fetched_at TEXT NOT NULL, payload_digest TEXT NOT NULL, warc_file TEXT NOT NULL,
    warc_offset INTEGER NOT NULL, extractor TEXT NOT NULL, error TEXT, document BLOB,
    is_primary INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS captures_by_time ON captures (source, url, fetched_at, record_id);
CREATE INDEX IF NOT EXISTS captures_by_extractor ON captures (extractor);
CREATE INDEX IF NOT EXISTS captures_by_file ON captures (warc_file, warc_offset);
CREATE TABLE IF NOT EXISTS rows (
    record_id TEXT PRIMARY KEY, source TEXT NOT NULL, url TEXT NOT NULL, version INTEGER NOT NULL,
    fetched_at TEXT NOT NULL, text_path TEXT NOT NULL, text_sha256 TEXT NOT NULL,
    dup_cluster TEXT, dup_canonical INTEGER, line TEXT NOT NULL, line_end INTEGER, last_seen TEXT);
CREATE INDEX IF NOT EXISTS rows_by_url ON rows (source, url, version);
CREATE INDEX IF NOT EXISTS rows_by_text ON rows (text_sha256);
CREATE INDEX IF NOT EXISTS rows_by_version ON rows (version, fetched_at, record_id);
-- each near-duplicate cluster's canonical row: the browser tells a copy of another article from an older version
CREATE INDEX IF NOT EXISTS rows_canonical_by_cluster ON rows (dup_cluster) WHERE dup_canonical = 1;
CREATE TABLE IF NOT EXISTS texts (
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, sketch TEXT NOT NULL, component INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS texts_by_component ON texts (component);
CREATE TABLE IF NOT EXISTS sketch_values (
    value INTEGER NOT NULL, text INTEGER NOT NULL, PRIMARY KEY (value, text)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS copies (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS copies_by_b ON copies (b);
CREATE TABLE IF NOT EXISTS sites (
    site TEXT PRIMARY KEY, articles INTEGER NOT NULL, reordered INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS site_signatures (
    site TEXT NOT NULL, signature INTEGER NOT NULL, first_at TEXT, PRIMARY KEY (site, signature)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS signature_keys (
    site TEXT NOT NULL, signature INTEGER NOT NULL, key INTEGER NOT NULL,
    PRIMARY KEY (site, signature, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS signature_keys_by_key ON signature_keys (site, key);
CREATE TABLE IF NOT EXISTS key_stats (
    site TEXT NOT NULL, key INTEGER NOT NULL, words INTEGER NOT NULL, frequency INTEGER NOT NULL,
    seen INTEGER NOT NULL, at_edge INTEGER NOT NULL, template INTEGER NOT NULL, first_at TEXT, last_at TEXT,
    from_at TEXT, to_at TEXT, scan TEXT, PRIMARY KEY (site, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS template_keys ON key_stats (site) WHERE template = 1;
CREATE TABLE IF NOT EXISTS corpus_file (name TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS key_docs (
    site TEXT NOT NULL, key INTEGER NOT NULL, record_id TEXT NOT NULL,
    PRIMARY KEY (site, key, record_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS host_sources (
    host TEXT PRIMARY KEY, source TEXT NOT NULL, first_at TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stale_texts (path TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS waiting_304s (
    record_id TEXT PRIMARY KEY, source TEXT NOT NULL, url TEXT NOT NULL, fetched_at TEXT NOT NULL,
    warc_file TEXT NOT NULL, warc_offset INTEGER NOT NULL, extractor TEXT NOT NULL,
    confirms_url TEXT NOT NULL, confirms_date TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS waiting_304s_by_url ON waiting_304s (confirms_url);
CREATE TABLE IF NOT EXISTS waiting_revisits (
    warc_file TEXT NOT NULL, warc_offset INTEGER NOT NULL, payload_key TEXT NOT NULL, capture TEXT NOT NULL,
    PRIMARY KEY (warc_file, warc_offset)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS waiting_revisits_by_payload ON waiting_revisits (payload_key);
CREATE INDEX IF NOT EXISTS rows_under_sha_names ON rows (source, url) WHERE {_UNDER_SHA_NAME};
"""
# The tables of a site's template counts (``_Batch._learn``), all keyed by site.
_SITE_TABLES = ("sites", "site_signatures", "signature_keys", "key_stats", "key_docs", "site_months")
# A WARC-Date in the one form our writer gives and ``canonical_warc_date`` gives every other (UTC, microseconds), as a
# GLOB; the columns that hold capture times; the store's user_version from which every one is in that form.
_ONE_FORM = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z"
_DATED_COLUMNS = (("captures", "fetched_at"), ("site_signatures", "first_at"), ("host_sources", "first_at"),
                  *(("key_stats", column) for column in ("first_at", "last_at", "from_at", "to_at")))
_DATES_IN_ONE_FORM = 1
_PUBLICATION_DATES_IN_ONE_FORM = 2  # the user_version from which every row's ``date`` is in ``iso_date``'s form
_FOREIGN_PORTS_KEPT = 3  # the user_version from which another tool's captures' sources keep their URLs' ports
_LAST_SEEN = 4  # the user_version from which every row has its ``last_seen``
# A capture of a payload with a text at its URL (one that shows a version): ``c`` is the capture.
_SHOWS_A_VERSION = ("EXISTS (SELECT 1 FROM captures p WHERE p.source = c.source AND p.url = c.url"
                    " AND p.payload_key = c.payload_key AND p.is_primary = 1)")
# Set (in corpus_file) while captures an older version wrote into an upgraded store await the upgrades again.
_OLDER_WRITES = "older_writes"
_ROWS_UPGRADED = "rows_upgraded"  # set (in corpus_file) from an upgrade that changed rows until corpus.jsonl is written

# What the browser counts and lists without reading every row (``CorpusStore._add_browse_counts``):
# rows per source and language (and their first versions, one per URL), first versions per source
# and publication day, kept by triggers on ``rows`` in the transaction that changes them; and the
# indexes of the listings it filters (newest first by source, by language, by publication date).
# A row's language and publication day ('' if none) are SQL on its ``line`` column: a query uses
# an index on an expression only if it has the same one, so the browser's filters are made from these.
LANGUAGE_OF = "IFNULL(json_extract({}, '$.language'), '')"
DAY_OF = "IFNULL(substr(json_extract({}, '$.date'), 1, 10), '')"
AUTHOR_OF = "IFNULL(json_extract({}, '$.author'), '')"
_COUNT_ROW = """
    INSERT INTO row_counts (source, language, rows, urls)
        VALUES ({row}.source, {language}, {sign}, {sign} * ({row}.version = 1))
        ON CONFLICT (source, language) DO UPDATE SET rows = rows + excluded.rows, urls = urls + excluded.urls;
    INSERT INTO source_days (source, day, articles) SELECT {row}.source, {day}, {sign} WHERE {row}.version = 1
        ON CONFLICT (source, day) DO UPDATE SET articles = articles + excluded.articles;"""
_DROP_EMPTY = """
    DELETE FROM row_counts WHERE source = OLD.source AND language = {language} AND rows = 0;
    DELETE FROM source_days WHERE source = OLD.source AND day = {day} AND articles = 0;"""


def _counted(row: str, sign: int) -> str:
    text = _COUNT_ROW + (_DROP_EMPTY if sign < 0 else "")
    line = f"{row}.line"
    return text.format(row=row, sign=sign, language=LANGUAGE_OF.format(line), day=DAY_OF.format(line))


BROWSE_COUNTS = (
    "CREATE TABLE row_counts (source TEXT NOT NULL, language TEXT NOT NULL, rows INTEGER NOT NULL,"
    " urls INTEGER NOT NULL, PRIMARY KEY (source, language)) WITHOUT ROWID",
    "CREATE TABLE source_days (source TEXT NOT NULL, day TEXT NOT NULL, articles INTEGER NOT NULL,"
    " PRIMARY KEY (source, day)) WITHOUT ROWID",
    # INSERT OR REPLACE fires no delete trigger (recursive_triggers is off): the replaced row is deleted first
    "CREATE TRIGGER rows_replaced BEFORE INSERT ON rows BEGIN DELETE FROM rows WHERE record_id = NEW.record_id; END",
    f"CREATE TRIGGER rows_counted AFTER INSERT ON rows BEGIN {_counted('NEW', 1)} END",
    f"CREATE TRIGGER rows_uncounted AFTER DELETE ON rows BEGIN {_counted('OLD', -1)} END",
    f"CREATE TRIGGER rows_recounted AFTER UPDATE OF source, version, line ON rows BEGIN"
    f" {_counted('OLD', -1)} {_counted('NEW', 1)} END",
    "CREATE INDEX IF NOT EXISTS rows_by_source ON rows (source, fetched_at, record_id)",
    f"CREATE INDEX IF NOT EXISTS rows_by_language ON rows ({LANGUAGE_OF.format('line')}, fetched_at, record_id)",
    f"CREATE INDEX IF NOT EXISTS rows_by_date ON rows ({DAY_OF.format('line')}, fetched_at, record_id)",
    f"INSERT INTO row_counts SELECT source, {LANGUAGE_OF.format('line')} AS language, COUNT(*), SUM(version = 1)"
    " FROM rows GROUP BY source, language",
    f"INSERT INTO source_days SELECT source, {DAY_OF.format('line')} AS day, COUNT(*) FROM rows"
    " WHERE version = 1 GROUP BY source, day",
)

# The authors the rows name, each with its rows, and the rows by author: the browser's filter by a part of a name
# looks the names up among the authors, then reads their rows newest first (``CorpusStore._add_browse_counts``).
_OLD_AUTHOR, _NEW_AUTHOR = AUTHOR_OF.format("OLD.line"), AUTHOR_OF.format("NEW.line")
_AUTHOR_ADDED = (f"INSERT INTO author_rows (author, rows) VALUES ({_NEW_AUTHOR}, 1)"
                 " ON CONFLICT (author) DO UPDATE SET rows = rows + 1;")
_AUTHOR_REMOVED = (f"UPDATE author_rows SET rows = rows - 1 WHERE author = {_OLD_AUTHOR};"
                   f" DELETE FROM author_rows WHERE author = {_OLD_AUTHOR} AND rows = 0;")
AUTHOR_COUNTS = (
    "CREATE TABLE author_rows (author TEXT PRIMARY KEY, rows INTEGER NOT NULL) WITHOUT ROWID",
    f"CREATE TRIGGER authors_counted AFTER INSERT ON rows BEGIN {_AUTHOR_ADDED} END",
    f"CREATE TRIGGER authors_uncounted AFTER DELETE ON rows BEGIN {_AUTHOR_REMOVED} END",
    f"CREATE TRIGGER authors_recounted AFTER UPDATE OF line ON rows WHEN {_OLD_AUTHOR} IS NOT {_NEW_AUTHOR}"
    f" BEGIN {_AUTHOR_REMOVED} {_AUTHOR_ADDED} END",
    f"CREATE INDEX IF NOT EXISTS rows_by_author ON rows ({AUTHOR_OF.format('line')}, fetched_at, record_id)",
    f"INSERT INTO author_rows SELECT {AUTHOR_OF.format('line')} AS author, COUNT(*) FROM rows GROUP BY author",
)

# Each indexed text's rows, in the order of the text's id in the index (its rowid there, which follows the order texts
# came in), with what the browser ranks and counts a search's newest matches by: read through ``rows_by_text`` (a
# hash) instead, each of the newest 1,000 matches of a word cost a page of its own, 5 MiB a search at 50,000 rows.
_SEARCH_ROW_OF = (f"INSERT OR REPLACE INTO search_rows SELECT {{text}}, {{row}}.record_id, {{row}}.source,"
                  f" {LANGUAGE_OF.format('{row}.line')}, {{row}}.url, {{row}}.version")
_NEW_ROW_SEARCHED = _SEARCH_ROW_OF.format(text="t.id", row="NEW") + " FROM search_texts t WHERE t.sha256 = NEW.text_sha256;"
SEARCH_ROWS = (
    "CREATE TABLE search_rows (text_id INTEGER NOT NULL, record_id TEXT NOT NULL, source TEXT NOT NULL,"
    " language TEXT NOT NULL, url TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (text_id, record_id))"
    " WITHOUT ROWID",
    "CREATE INDEX search_rows_by_record ON search_rows (record_id)",
    f"CREATE TRIGGER search_rows_added AFTER INSERT ON rows BEGIN {_NEW_ROW_SEARCHED} END",
    "CREATE TRIGGER search_rows_removed AFTER DELETE ON rows BEGIN"
    " DELETE FROM search_rows WHERE record_id = OLD.record_id; END",
    "CREATE TRIGGER search_rows_changed AFTER UPDATE OF record_id, source, url, version, line, text_sha256 ON rows"
    " WHEN (OLD.record_id, OLD.source, OLD.url, OLD.version, OLD.text_sha256) IS NOT"
    " (NEW.record_id, NEW.source, NEW.url, NEW.version, NEW.text_sha256)"
    f" OR {LANGUAGE_OF.format('OLD.line')} IS NOT {LANGUAGE_OF.format('NEW.line')}"
    f" BEGIN DELETE FROM search_rows WHERE record_id = OLD.record_id; {_NEW_ROW_SEARCHED} END",
    "CREATE TRIGGER search_rows_text_removed AFTER DELETE ON search_texts BEGIN"
    " DELETE FROM search_rows WHERE text_id = OLD.id; END",
    _SEARCH_ROW_OF.format(text="t.id", row="r") + " FROM rows r CROSS JOIN search_texts t ON t.sha256 = r.text_sha256",
)
# A text is indexed after its rows are in, so they go in then, a row at a time: as one INSERT ... SELECT (or a
# trigger on search_texts) a batch of 400 articles read a third more of the store.
_TEXT_ROWS = (f"SELECT t.id, r.record_id, r.source, {LANGUAGE_OF.format('r.line')}, r.url, r.version FROM rows r"
              " CROSS JOIN search_texts t ON t.sha256 = r.text_sha256 WHERE t.sha256 = ?")

# The order of a corpus row's fields in corpus.jsonl.
ROW_FIELDS = ("url", "canonical_url", "source", "title", "author", "date", "sitename", "language", "text_path",
              "text_sha256", "fetched_at", "warc_file", "warc_offset", "warc_record_id", "payload_digest",
              "extractor", "version", "dup_cluster", "dup_canonical")


def _key_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


@dataclass(frozen=True)
class ParagraphKeys:
    """A document's paragraphs as the site-template counts see them: each key's hash (0: no key, never
    template) and word count, and the article's signature.  Made where the document is extracted (on a
    worker), so the process that writes the store does not re-read every paragraph."""

    hashes: tuple[int, ...]
    words: tuple[int, ...]
    signature: int

    @classmethod
    def of(cls, document: Document) -> ParagraphKeys:
        keys = [paragraph_key(paragraph) for paragraph in document.paragraphs]
        return cls(tuple(_key_hash(key) if key else 0 for key in keys), tuple(len(key.split()) for key in keys),
                   _key_hash(article_signature(keys)))


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
    extractor: str = ""
    # What the store needs from the document, made where it was extracted (on a worker), if it was:
    keys: ParagraphKeys | None = None
    packed: bytes | None = None  # the document as the store keeps it (``pack``)
    word_ids: tuple[bytes, ...] | None = None  # ``duplicates.word_ids`` of its title, then of each paragraph
    revisit: bool = False  # a revisit of a payload its URL archived before: no document of its own
    foreign: bool = False  # archived by another tool: the store gives it the source our captures of its host have
    note: str = ""  # one line for a person: the body it was made from breaks partway (the store keeps no note)
    # Another tool's 304: the (URL, WARC-Date) of the capture it names, or (URL, "") for its URL's latest before it;
    # the store gives it that capture's payload (its ``payload_digest`` is empty until then), or keeps it waiting
    # until the corpus holds that capture
    confirms: tuple[str, str] | None = None

    @classmethod
    def prepared(cls, *fields, document: Document, extractor: str, foreign: bool = False,
                 note: str = "") -> ExtractedArticle:
        """An extracted capture with the store's work on its document done here (a worker) rather than in the store."""
        if document.is_empty:
            return cls(*fields, document, extractor, foreign=foreign, note=note)
        blocks = (document.title or "", *document.paragraphs)
        return cls(*fields, document, extractor, ParagraphKeys.of(document), pack(document),
                   tuple(word_ids(block) for block in blocks), foreign=foreign, note=note)

    def paragraph_keys(self) -> ParagraphKeys:
        return self.keys or ParagraphKeys.of(self.document)


@dataclass
class BatchResult:
    """What one batch did to the corpus: new rows per source (first derivations of a capture, less the rows of the
    same URLs they took the place of: an earlier capture of a text read after a later one is no new row), and of
    those the new articles (rows of URLs the source held no row of: the rest are new versions of articles)."""

    new_rows: Counter = field(default_factory=Counter)
    new_articles: Counter = field(default_factory=Counter)
    moved_rows: Counter = field(default_factory=Counter)  # (source, source): rows another tool's captures took there
    moved_articles: Counter = field(default_factory=Counter)  # (source, source): of those, first versions
    rewritten_texts: int = 0
    not_extracted: list[dict] = field(default_factory=list)  # {"url", "reason"}: captures that gave no document
    # WARC file -> other tools' 304s read in it that confirm a capture the corpus holds; that confirm none yet (kept
    # waiting); that were waiting since an earlier batch and confirm one of this batch's captures
    confirmed: Counter = field(default_factory=Counter)
    waiting: Counter = field(default_factory=Counter)
    confirmed_later: Counter = field(default_factory=Counter)


def no_corpus_yet(archive_dir: Path) -> str | None:
    """Why a command that only reads the corpus has nothing to read (opening the store would create it); None if
    there is a store."""
    if (Path(archive_dir) / STORE_FILE).exists():
        return None
    return f"{archive_dir} holds no corpus yet (no {STORE_FILE}); `newsarchive run` or `newsarchive derive` makes it"


def text_key(url: str) -> str:
    """The stable 16-hex-digit name of a URL's text file."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def version_path(source: str, url: str, version: int, sha: str = "") -> str:
    """``text/<source>/<key>.txt`` for an article's first version, ``<key>.v<N>.txt`` for later ones; with ``sha``,
    ``<key>.v<N>.<sha[:16]>.txt``: a text's name until its commit, while a stored row gives the plain one to another
    text (``CorpusStore._after_commit``)."""
    suffix = "" if version == 1 and not sha else f".v{version}"
    return f"{TEXT_DIR}/{source}/{text_key(url)}{suffix}{'.' + sha[:16] if sha else ''}.txt"


def site_of(source: str, url: str) -> str:
    """A site is a source's host: its template is learned from its pages alone."""
    return f"{source} {urlsplit(url).netloc}"


def pack(document: Document) -> bytes:
    return zlib.compress(json.dumps(document.to_dict(), ensure_ascii=False).encode("utf-8"), 1)


def _unpack(blob: bytes) -> Document:
    return Document.from_dict(json.loads(zlib.decompress(blob)))


def _unpacked_with_keys(blob: bytes) -> tuple[Document, ParagraphKeys, None]:
    document = _unpack(blob)
    return document, ParagraphKeys.of(document), None


def _fields_of(line: str) -> dict:
    """A stored row's fields that come from its capture and document (not its place among the others)."""
    return {name: value for name, value in json.loads(line).items()
            if name not in ("text_path", "version", "dup_cluster", "dup_canonical")}


def _write_text(path: Path, text: bytes) -> None:
    """Written beside and renamed, not synced: a text lost to a power cut is rewritten from its row."""
    write_atomic(path, text, durable=False)


def derived_by_another(db: sqlite3.Connection, extractor: str) -> str | None:
    """An extractor other than ``extractor`` that derived captures in the store ``db``, found in the
    index of extractors (two look-ups, no scan)."""
    for other in ("<", ">"):
        if found := db.execute(f"SELECT extractor FROM captures WHERE extractor {other} ? LIMIT 1", (extractor,)).fetchone():
            return found[0]
    return None


class CorpusStore:
    """The corpus of one archive (or of one rebuild), under ``root``: the store, ``text/`` and the exports."""

    def __init__(self, root: Path):
        self.root = Path(root)
        path = self.root / STORE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # A batch's pages stay in memory until it commits (64 MiB at most, SQLite's default is 2 MiB):
        # with fewer, the pages it changed fill the cache and every page it reads is read again.
        self._db.execute("PRAGMA cache_size=-65536")
        # Checkpoint every 512 kB of log, not SQLite's 4 MB: the log of many small batches
        # stays small (an archive under a file size limit, or on a nearly full disk).
        self._db.execute("PRAGMA wal_autocheckpoint=128")
        self._db.executescript(_SCHEMA)
        self._remove_stale_left()
        self._add_line_ends()
        self._add_payload_keys()
        self._take_in_older_writers_captures()
        self._add_last_seen()
        self._add_confirms_latest()
        self._db.execute("CREATE INDEX IF NOT EXISTS rows_in_order ON rows (fetched_at, record_id)")
        prepare_search(self._db, self.root)
        self._add_browse_counts()
        self._add_template_records()
        self._add_span_scans()
        self._add_template_spans()
        self._add_foreign_hosts()
        self._put_dates_in_one_form()
        self._put_publication_dates_in_one_form()
        self._give_foreign_ports_their_sources()
        self._fill_last_seen()
        self._settle_left()

    def _has_column(self, table: str, column: str) -> bool:
        """Whether the store's ``table`` has ``column`` (an upgrade adds it once)."""
        return any(name == column for (_, name, *_) in self._db.execute(f"PRAGMA table_info({table})"))

    def _add_line_ends(self) -> None:
        """A store made before corpus.jsonl was written incrementally gets ``rows.line_end``; the next export is whole."""
        if not self._has_column("rows", "line_end"):
            self._db.execute("DROP INDEX IF EXISTS rows_in_order")  # it was by URL then
            self._db.execute("ALTER TABLE rows ADD COLUMN line_end INTEGER")

    def _add_payload_keys(self) -> None:
        """A store made before payload digests were compared in one form gets ``captures.payload_key``
        (``digest_key``: a hash in hex and in base 32 is one payload), filled in one transaction, and its indexes by
        payload made on it; ``payload_digest`` stays as the record has it, for the rows."""
        if self._has_column("captures", "payload_key"):
            return
        db = self._db
        with self._transaction():
            if self._has_column("captures", "payload_key"):  # another process added it since the look above
                return
            db.create_function("digest_key", 1, digest_key, deterministic=True)
            db.execute("ALTER TABLE captures ADD COLUMN payload_key TEXT")
            db.execute("UPDATE captures SET payload_key = digest_key(payload_digest)")
            db.execute("DROP INDEX IF EXISTS captures_by_payload")
            db.execute("DROP INDEX IF EXISTS articles_by_payload")
            # (the key first: ``held_payloads`` looks keys up alone, the others with their source and URL)
            db.execute("CREATE INDEX captures_by_payload_key ON captures (payload_key, source, url)")
            db.execute("CREATE INDEX articles_by_payload_key ON captures (payload_key, fetched_at) WHERE is_primary = 1")

    def _add_last_seen(self) -> None:
        """A store made before ``rows.last_seen`` gets the column (filled by ``_fill_last_seen``), before any upgrade
        below makes rows."""
        if not self._has_column("rows", "last_seen"):
            with self._transaction():
                if not self._has_column("rows", "last_seen"):  # another process may have added it since
                    self._db.execute("ALTER TABLE rows ADD COLUMN last_seen TEXT")

    def _add_confirms_latest(self) -> None:
        """``captures.confirms_latest`` marks another tool's 304 that names no capture (it confirms its URL's latest
        before it, which a capture read later may be); those stored before it was kept stay as they are."""
        if not self._has_column("captures", "confirms_latest"):
            with self._transaction():
                if not self._has_column("captures", "confirms_latest"):  # another process may have added it since
                    self._db.execute("ALTER TABLE captures ADD COLUMN confirms_latest INTEGER NOT NULL DEFAULT 0")
        self._db.execute("CREATE INDEX IF NOT EXISTS captures_confirming_latest ON captures (source, url)"
                         " WHERE confirms_latest = 1")

    def _fill_last_seen(self) -> None:
        """A store made before ``last_seen`` gets it from its captures, once (``user_version``), in one statement:
        each row's latest capture of its URL with a text, before the URL's next version (through rows_by_url, named:
        SQLite would rather read the source's rows by time).  Not in the row's line, so
        corpus.jsonl is not written again.  304s read before were never stored: only ``derive --anew`` counts them."""
        db = self._db
        if not self._upgrade_owed(_LAST_SEEN):
            return
        with self._transaction():
            db.execute(
                "UPDATE rows SET last_seen = (SELECT MAX(c.fetched_at) FROM captures c WHERE c.source = rows.source"
                " AND c.url = rows.url AND (c.fetched_at, c.record_id) >= (rows.fetched_at, rows.record_id)"
                " AND NOT EXISTS (SELECT 1 FROM rows n INDEXED BY rows_by_url WHERE n.source = rows.source"
                " AND n.url = rows.url AND n.version = rows.version + 1"
                " AND (n.fetched_at, n.record_id) <= (c.fetched_at, c.record_id))"
                f" AND {_SHOWS_A_VERSION})")
            self._set_version(_LAST_SEEN)
            db.execute("DELETE FROM corpus_file WHERE name = ?", (_OLDER_WRITES,))  # the last upgrade they were owed

    def _take_in_older_writers_captures(self) -> None:
        """An older version writing into an upgraded store (a release rolled back) leaves its captures without a
        payload key, another tool's of a port under the host alone and its pages' dates as they wrote them, which
        ``user_version`` no longer tells: their keys are filled, and the upgrades owed to them are noted, in one
        transaction, for the upgrades that follow to run again (each changes only what is not in its form yet).
        One look-up in an index of the captures without a key, empty unless an older version wrote."""
        db = self._db
        db.execute("CREATE INDEX IF NOT EXISTS captures_without_payload_key ON captures (record_id)"
                   " WHERE payload_key IS NULL")
        if db.execute("SELECT 1 FROM captures WHERE payload_key IS NULL LIMIT 1").fetchone() is None:
            return
        with self._transaction():
            db.create_function("digest_key", 1, digest_key, deterministic=True)
            if db.execute("UPDATE captures SET payload_key = digest_key(payload_digest)"
                          " WHERE payload_key IS NULL").rowcount:  # (none if another process did it since)
                db.execute("INSERT OR REPLACE INTO corpus_file (name, value) VALUES (?, 1)", (_OLDER_WRITES,))

    def _upgrade_owed(self, version: int) -> bool:
        """Whether the upgrade to ``version`` is to run: the store is older, or an older version wrote since."""
        return (self._db.execute("PRAGMA user_version").fetchone()[0] < version
                or self.file_state(_OLDER_WRITES) is not None)

    def _set_version(self, version: int) -> None:
        """``user_version`` raised to ``version`` (an upgrade run again for an older version's writes lowers none)."""
        if self._db.execute("PRAGMA user_version").fetchone()[0] < version:
            self._db.execute(f"PRAGMA user_version = {version}")

    def _add_foreign_hosts(self) -> None:
        """A store made before another tool's captures took the source of ours of their host gets
        ``captures.foreign_host``, in one transaction, once: its captures keyed by their host then (a configured
        source name has no dot), with their URL's port or, as it was then, without, are another tool's, and those of
        a host ours are of move to our source."""
        if self._has_column("captures", "foreign_host"):
            return
        db = self._db
        batch = _Batch(db, self.root)
        with self._transaction():
            if self._has_column("captures", "foreign_host"):  # another process added it since the look above
                return
            db.execute("ALTER TABLE captures ADD COLUMN foreign_host TEXT")
            db.execute("CREATE INDEX captures_by_foreign_host ON captures (foreign_host) WHERE foreign_host IS NOT NULL")
            db.create_function("foreign_source", 1, foreign_source, deterministic=True)
            db.create_function("host_source", 1, partial(foreign_source, port=False), deterministic=True)
            db.create_function("site_host", 1, site_host, deterministic=True)
            db.execute("UPDATE captures SET foreign_host = site_host(url)"
                       " WHERE source IN (foreign_source(url), host_source(url))")
            batch.learn_host_sources(db.execute(
                "SELECT url, fetched_at, source FROM captures WHERE foreign_host IS NULL").fetchall())
            batch.finish()
            self._mark_upgraded(batch.changed_from)
        self._after_commit(batch, self._mark_upgraded)

    def _put_publication_dates_in_one_form(self) -> None:
        """A store made before publication dates were read in one form (``iso_date``) holds a page's fraction of a
        second as the page wrote it (``10:00:00.123000+02:00``); its rows' dates are put in that form once
        (``user_version``), in one transaction, and corpus.jsonl is written again from the first row changed."""
        db = self._db
        if not self._upgrade_owed(_PUBLICATION_DATES_IN_ONE_FORM):
            return
        with self._transaction():
            changed = db.execute("SELECT fetched_at, record_id, line FROM rows"
                                 " WHERE json_extract(line, '$.date') GLOB '*T*.*'").fetchall()
            db.executemany("UPDATE rows SET line = ? WHERE record_id = ?", (
                (json.dumps({**row, "date": iso_date(row["date"])}, ensure_ascii=False), record_id)
                for row, record_id in ((json.loads(line), record_id) for _, record_id, line in changed)))
            self._mark_upgraded(min((item[:2] for item in changed), default=None))
            self._set_version(_PUBLICATION_DATES_IN_ONE_FORM)

    def _upgrade_once(self, version: int, upgrade: Callable[[_Batch], None]) -> None:
        """``upgrade`` run on a store whose ``user_version`` is below ``version`` (or that an older version wrote into
        since), then the rows it touched made again; once, in one transaction (a process killed midway leaves the store
        as it was)."""
        if not self._upgrade_owed(version):
            return
        batch = _Batch(self._db, self.root)
        with self._transaction():
            if not self._upgrade_owed(version):
                return  # another process did it since the look above
            upgrade(batch)
            batch.finish()
            self._mark_upgraded(batch.changed_from)
            self._set_version(version)
        self._after_commit(batch, self._mark_upgraded)

    def _put_dates_in_one_form(self) -> None:
        """A store made before every WARC-Date was read in one form (``canonical_warc_date``) holds another tool's as
        it was written, which sorts out of time order (``12:00:00.600Z`` before ``12:00:00Z``): a capture of that
        second read later was numbered among them out of order, a text made a version twice.  Its dates are put in
        the one form and those URLs' rows made again from their captures, numbered as a rebuild numbers them."""
        def upgrade(batch: _Batch) -> None:
            db = self._db
            db.create_function("canonical_warc_date", 1, canonical_warc_date, deterministic=True)
            batch.touched_urls.update(db.execute(
                f"SELECT DISTINCT source, url FROM captures WHERE fetched_at NOT GLOB '{_ONE_FORM}'").fetchall())
            for table, column in _DATED_COLUMNS:
                db.execute(f"UPDATE {table} SET {column} = canonical_warc_date({column})"
                           f" WHERE {column} NOT GLOB '{_ONE_FORM}'")
        self._upgrade_once(_DATES_IN_ONE_FORM, upgrade)

    def _give_foreign_ports_their_sources(self) -> None:
        """A store made before another tool's captures of a host none of ours is of kept a port their URLs name in
        their source holds two sites on one address and two ports under one source: their captures move to the
        source a rebuild gives them (``foreign_source``), their rows, versions and text files made again there.
        Those of a host without a port stay as they are."""
        def upgrade(batch: _Batch) -> None:
            for host, url in self._db.execute(
                    "SELECT foreign_host, min(url) FROM captures WHERE foreign_host IS NOT NULL AND foreign_host"
                    " NOT IN (SELECT host FROM host_sources) GROUP BY foreign_host ORDER BY foreign_host").fetchall():
                if foreign_source(url) != foreign_source(url, port=False):
                    batch.move_foreign_captures(host, foreign_source(url))
        self._upgrade_once(_FOREIGN_PORTS_KEPT, upgrade)

    def _add_browse_counts(self) -> None:
        """A store made before the browser's counts, its authors or its search rows gets them, each filled from its
        rows in one transaction (a run killed midway leaves none, and the next open makes them again)."""
        for trigger, statements in (("rows_counted", BROWSE_COUNTS), ("authors_counted", AUTHOR_COUNTS),
                                    ("search_rows_added", SEARCH_ROWS)):
            made = f"SELECT 1 FROM sqlite_master WHERE name = '{trigger}'"
            if self._db.execute(made).fetchone():
                continue
            with self._transaction():
                if not self._db.execute(made).fetchone():  # another process may have made them since the look above
                    for statement in statements:
                        self._db.execute(statement)
        self._add_search_rows_of_older_writers()

    def _add_search_rows_of_older_writers(self) -> None:
        """A version from before ``search_rows`` indexes a text without its rows there (its rows go in first, when the
        text is not indexed yet, so the trigger finds none), and no search finds them: the texts indexed since the
        last with rows get theirs, at the next opening by this version, which comes before any text of its own."""
        newest = "SELECT (SELECT IFNULL(MAX(id), 0) FROM search_texts), (SELECT IFNULL(MAX(text_id), 0) FROM search_rows)"
        indexed, with_rows = self._db.execute(newest).fetchone()
        if indexed <= with_rows:
            return
        with self._transaction():
            indexed, with_rows = self._db.execute(newest).fetchone()  # another process may have added them since
            added = self._db.execute(_SEARCH_ROW_OF.format(text="t.id", row="r") + " FROM search_texts t CROSS JOIN"
                                     " rows r ON r.text_sha256 = t.sha256 WHERE t.id > ?", (with_rows,)).rowcount
        if added > 0:
            logger.warning("newsarchive: %d articles an older version indexed are now found by searches", added)

    def _add_template_records(self) -> None:
        """A store made before a template's record was kept (the span it was decided template over,
        ``_Batch._redecide``) gets it: a template key's span, over which it was decided one."""
        db = self._db
        if self._has_column("key_stats", "from_at"):
            return
        with self._transaction():
            if self._has_column("key_stats", "from_at"):  # another process added it since the look above
                return
            db.execute("ALTER TABLE key_stats ADD COLUMN from_at TEXT")
            db.execute("ALTER TABLE key_stats ADD COLUMN to_at TEXT")
            if self._has_column("key_stats", "first_at"):  # (else the spans come next, and every key is decided again)
                db.execute("UPDATE key_stats SET (from_at, to_at) = (first_at, last_at) WHERE template = 1")

    def _add_span_scans(self) -> None:
        """A store made before the span search went on from where it stood (``_Batch._own_span``) gets the columns
        that keeps, empty: a key's first search reads its articles, as before.  One transaction (a process killed
        midway leaves the store as it was, and the next open adds them)."""
        if self._has_column("key_stats", "scan"):
            return
        with self._transaction():
            if self._has_column("key_stats", "scan"):  # another process added them since the look above
                return
            self._db.execute("ALTER TABLE key_stats ADD COLUMN scan TEXT")
            self._db.execute("ALTER TABLE sites ADD COLUMN reordered INTEGER NOT NULL DEFAULT 0")

    def _add_template_spans(self) -> None:
        """A store made before a paragraph's share was taken over its span gets the capture times that needs, from
        its own captures, and every key decided again: texts are made again where a key's status changed.  Once,
        in one transaction (a process killed midway leaves the store as it was, and the next open does it)."""
        db = self._db
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'site_months'").fetchone():
            return
        batch = _Batch(db, self.root)
        with self._transaction():
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'site_months'").fetchone():
                return  # another process made them since the look above
            if not self._has_column("key_stats", "first_at"):
                db.execute("ALTER TABLE site_signatures ADD COLUMN first_at TEXT")
                db.execute("ALTER TABLE key_stats ADD COLUMN first_at TEXT")
                db.execute("ALTER TABLE key_stats ADD COLUMN last_at TEXT")
            for statement in TEMPLATE_SPANS:
                db.execute(statement)
            db.execute("UPDATE key_stats SET (first_at, last_at) = (SELECT MIN(c.fetched_at), MAX(c.fetched_at)"
                       " FROM key_docs k JOIN captures c ON c.record_id = k.record_id"
                       " WHERE k.site = key_stats.site AND k.key = key_stats.key)")
            first: dict[tuple[str, int], str] = {}
            for site, fetched_at, blob in db.execute(
                    "SELECT site, fetched_at, document FROM captures WHERE is_primary = 1 AND document IS NOT NULL"):
                signature = (site, ParagraphKeys.of(_unpack(blob)).signature)
                first[signature] = min(first.get(signature, fetched_at), fetched_at)
            db.executemany("UPDATE site_signatures SET first_at = ? WHERE site = ? AND signature = ?",
                           [(at, site, signature) for (site, signature), at in first.items()])
            db.execute("INSERT INTO site_months (site, month, articles) SELECT site, substr(first_at, 1, 7), COUNT(*)"
                       " FROM site_signatures WHERE first_at IS NOT NULL GROUP BY 1, 2")
            for (site,) in db.execute("SELECT site FROM sites").fetchall():
                keys = [key for (key,) in db.execute("SELECT key FROM key_stats WHERE site = ?"
                                                     " AND (frequency >= ? OR template = 1)", (site, MIN_PAGES))]
                batch._touch_holders(site, batch._redecide(site, keys))
            batch.finish()
            self._mark_changed(batch.changed_from)
        self._after_commit(batch, self._mark_changed)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> CorpusStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:  # (SQLite rolls back itself on a full disk)
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- reading ---------------------------------------------------------------------------
    def scanned(self, warc_file: str) -> tuple[int, bool]:
        """How far ``warc_file`` has been read (every article before that offset is derived), and whether it was closed then."""
        row = self._db.execute("SELECT scanned, closed FROM scans WHERE warc_file = ?", (warc_file,)).fetchone()
        return (row[0], bool(row[1])) if row else (0, False)

    def finished_files(self) -> set[str]:
        """WARCs read to their end after they were closed: nothing more can come from them."""
        return {name for (name,) in self._db.execute("SELECT warc_file FROM scans WHERE closed = 1")}

    def known(self, record_ids: Iterable[str]) -> dict[str, tuple[str, str, str, str, int]]:
        """The captures held of these record keys: key -> URL, WARC-Date, payload digest, WARC file and offset (what
        tells the same record read again from another that has its ID)."""
        return {key: tuple(held) for key, *held in self._by_record_id(
            "SELECT record_id, url, fetched_at, payload_digest, warc_file, warc_offset FROM captures", record_ids)}

    def row_sources(self, record_ids: Iterable[str], first_versions: bool = False) -> dict[str, str]:
        """The source of each of these record keys that is a corpus row (a URL's first version, an article's first
        row, if ``first_versions``)."""
        return {record_id: source for record_id, source, version in self._by_record_id(
            "SELECT record_id, source, version FROM rows", record_ids) if version == 1 or not first_versions}

    def _by_record_id(self, select: str, record_ids: Iterable[str]) -> Iterator[tuple]:
        """``select``'s rows whose record_id is one of ``record_ids``, looked up 500 at a time."""
        ids = list(record_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            yield from self._db.execute(f"{select} WHERE record_id IN ({','.join('?' * len(chunk))})", chunk)

    def payload_at(self, digest: str, url: str = "") -> tuple[str, int] | None:
        """Where the first article archived with this payload was captured (WARC file name, offset), at ``url`` if it
        is given and has one: a revisit names the URL of the response holding its payload, and another URL's row of
        the payload may be a revisit itself."""
        query = ("SELECT warc_file, warc_offset FROM captures WHERE payload_key = ? AND is_primary = 1{}"
                 " ORDER BY fetched_at, record_id LIMIT 1")
        key = digest_key(digest)
        return ((self._db.execute(query.format(" AND url = ?"), (key, url)).fetchone() if url else None)
                or self._db.execute(query.format(""), (key,)).fetchone())

    def made_at(self, digest: str, source: str, url: str) -> bool:
        """Whether this payload's text is made at this URL already (its primary capture there): a later revisit of
        it there is a capture of that version, not a payload to extract again."""
        return self._db.execute("SELECT 1 FROM captures WHERE payload_key = ? AND source = ? AND url = ?"
                                " AND is_primary = 1", (digest_key(digest), source, url)).fetchone() is not None

    def held_payloads(self, keys: Iterable[str]) -> set[str]:
        """Those of these payload keys (``digest_key``) that a capture the corpus read holds, article or not (one
        pass over the captures)."""
        return {key for (key,) in self._db.execute(
            "SELECT DISTINCT payload_key FROM captures WHERE payload_key IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(keys))),))}

    def wait_for_payloads(self, revisits: Iterable[tuple[str, int, str, str]]) -> None:
        """Revisits whose payload no file read so far holds (a deduplicating crawl imported before the crawl it refers
        to), as (WARC file, offset, payload key, the capture as JSON): kept until a derivation reads that payload
        (``revisits_waiting_for``), committed before their file's scan position is."""
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO waiting_revisits VALUES (?, ?, ?, ?)", revisits)

    def revisits_waiting_for(self, keys: Collection[str]) -> list[tuple[str, int, str]]:
        """(WARC file, offset, capture as JSON) of the waiting revisits of these payload keys: one look at an empty
        table, else one look-up in its index per key."""
        if not keys or self._db.execute("SELECT 1 FROM waiting_revisits LIMIT 1").fetchone() is None:
            return []
        return self._db.execute("SELECT warc_file, warc_offset, capture FROM waiting_revisits WHERE payload_key IN"
                                " (SELECT value FROM json_each(?)) ORDER BY warc_file, warc_offset",
                                (json.dumps(sorted(keys)),)).fetchall()

    def stop_waiting(self, places: Iterable[tuple[str, int]]) -> None:
        """Waiting revisits whose payload turned out to be a page with no article: they make no row."""
        with self._transaction():
            self._db.executemany("DELETE FROM waiting_revisits WHERE warc_file = ? AND warc_offset = ?", places)

    def lines(self) -> Iterator[str]:
        """Every corpus row's JSON line, in capture order (``fetched_at``, then record id)."""
        yield from (line for _, line in self.lines_from(None))

    def lines_from(self, start: tuple[str, str] | None) -> Iterator[tuple[str, str]]:
        """(record id, line) of the rows at or after ``start`` (a ``(fetched_at, record_id)``) in capture order."""
        yield from self._in_capture_order("record_id, line", start)

    def lines_last_seen(self) -> Iterator[tuple[str, str, str | None]]:
        """(record id, line, last seen) of every row in capture order: ``last_seen`` changes with every capture of
        a version, so it is kept beside the line (corpus.jsonl would be written again from the oldest one seen)."""
        yield from self._in_capture_order("record_id, line, last_seen", None)

    def _in_capture_order(self, columns: str, start: tuple[str, str] | None) -> Iterator[tuple]:
        if start is None:
            return self._db.execute(f"SELECT {columns} FROM rows ORDER BY fetched_at, record_id")
        return self._db.execute(f"SELECT {columns} FROM rows WHERE (fetched_at, record_id) >= (?, ?)"
                                " ORDER BY fetched_at, record_id", start)

    # -- corpus.jsonl bookkeeping (see ``export.export_corpus_jsonl``) --------------------------
    def file_state(self, name: str):
        row = self._db.execute("SELECT value FROM corpus_file WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_file_state(self, **values) -> None:
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO corpus_file (name, value) VALUES (?, ?)", values.items())

    def changed_from(self) -> tuple[str, str] | None:
        """The capture-order key of the earliest row changed, added or dropped since corpus.jsonl was written."""
        fetched_at, record_id = self.file_state("changed_at"), self.file_state("changed_id")
        return None if fetched_at is None else (fetched_at, record_id)

    def line_end_before(self, start: tuple[str, str]) -> int | None:
        """Where the line of the last row before ``start`` ends in corpus.jsonl (0 if none; None if unknown)."""
        row = self._db.execute("SELECT line_end FROM rows WHERE (fetched_at, record_id) < (?, ?)"
                               " ORDER BY fetched_at DESC, record_id DESC LIMIT 1", start).fetchone()
        return 0 if row is None else row[0]

    def written(self, line_ends: Iterable[tuple[int, str]], size: int) -> None:
        """corpus.jsonl now ends at ``size`` and shows every row; ``line_ends`` are (end, record id) of lines written."""
        with self._transaction():
            self._db.executemany("UPDATE rows SET line_end = ? WHERE record_id = ?", line_ends)
            self._db.executemany("INSERT OR REPLACE INTO corpus_file (name, value) VALUES (?, ?)",
                                 [("size", size), ("changed_at", None), ("changed_id", None), ("writing_from", None),
                                  (_ROWS_UPGRADED, None)])

    @property
    def rows_upgraded(self) -> bool:
        """Whether an upgrade changed rows since corpus.jsonl was last written, so that it lags by that alone (kept
        in the store: the opening that upgraded may have been `browse`'s, or a command killed right after)."""
        return self.file_state(_ROWS_UPGRADED) is not None

    def _mark_upgraded(self, start: tuple[str, str] | None) -> None:
        """``_mark_changed`` by an upgrade (in its transaction), noted as such."""
        if start is not None:
            self._mark_changed(start)
            self._db.execute("INSERT OR REPLACE INTO corpus_file (name, value) VALUES (?, 1)", (_ROWS_UPGRADED,))

    def _mark_changed(self, start: tuple[str, str] | None) -> None:
        if start is None:
            return
        current = self.changed_from()
        if current is None or start < current:
            self._db.executemany("INSERT OR REPLACE INTO corpus_file (name, value) VALUES (?, ?)",
                                 [("changed_at", start[0]), ("changed_id", start[1])])

    def line_now(self, record_id: str) -> str | None:
        """A row's line once any batch in flight has committed (None: no such row now); its text files are then
        what it names."""
        with self._transaction():
            found = self._db.execute("SELECT line FROM rows WHERE record_id = ?", (record_id,)).fetchone()
        return found[0] if found else None

    def rows(self) -> Iterator[dict]:
        for line in self.lines():
            yield json.loads(line)

    def row_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM rows").fetchone()[0]

    def rows_per_source(self) -> Counter:
        """The rows each source holds, from the counts the store keeps: what a derivation gained is these after less
        these before, where its count of rows made also counts rows it made and dropped on the way."""
        return Counter(dict(self._db.execute("SELECT source, SUM(rows) FROM row_counts GROUP BY source")))

    def articles_per_source(self) -> Counter:
        """The articles (URLs: their first versions) each source holds, from the counts the store keeps."""
        return Counter(dict(self._db.execute("SELECT source, SUM(urls) FROM row_counts GROUP BY source")))

    def rows_captured(self, start: str, end: str | None = None) -> tuple[Counter, Counter]:
        """The rows per source whose capture is dated ``start`` or later, and before ``end`` if given (WARC-Dates),
        as articles (first versions) and later versions: a run's.  A range of the rows' index by capture time: it
        costs the rows counted."""
        before, bounds = (" AND fetched_at < ?", (start, end)) if end is not None else ("", (start,))
        articles, versions = Counter(), Counter()
        for source, first, later in self._db.execute(
                f"SELECT source, SUM(version = 1), SUM(version > 1) FROM rows WHERE fetched_at >= ?{before}"
                " GROUP BY source", bounds):
            articles[source], versions[source] = first, later
        return +articles, +versions

    # -- writing ---------------------------------------------------------------------------
    def mark_scanned(self, warc_file: str, offset: int, closed: bool) -> None:
        """Record how far a WARC has been read when no article was found there (in its own transaction)."""
        with self._transaction():
            self._mark_scanned(warc_file, offset, closed)

    def _mark_scanned(self, warc_file: str, offset: int, closed: bool) -> None:
        self._db.execute("INSERT OR REPLACE INTO scans (warc_file, scanned, closed) VALUES (?, ?, ?)",
                         (warc_file, offset, int(closed)))

    def add(self, articles: list[ExtractedArticle], failures: list[tuple[ExtractedArticle, str]] = (),
            scanned: dict[str, tuple[int, bool]] | None = None, rekeyed: dict[str, str] | None = None) -> BatchResult:
        """Take a batch of extracted captures into the corpus, in one transaction.

        ``failures`` are captures that could not be extracted (kept, with why, so they are not
        tried again); ``scanned`` records how far each WARC is now read; ``rekeyed`` gives captures
        held a new key first (the batch has a record that keeps their WARC-Record-ID).  Captures
        already in the store are ignored, so a batch applied twice changes nothing.
        """
        batch = _Batch(self._db, self.root)
        with self._transaction():
            for old, new in (rekeyed or {}).items():
                batch.rekey(old, new)
            batch.learn_host_sources((article.url, article.fetched_at, article.source) for article
                                     in [*articles, *(article for article, _ in failures)] if not article.foreign)
            for article in articles:
                batch.add_capture(batch.with_host_source(article), None)
            for article, error in failures:
                batch.add_capture(batch.with_host_source(article), error)
            batch.end_waits([*articles, *(article for article, _ in failures)])
            batch.confirm_waiting({article.url for article in articles})
            batch.reconfirm_latest()
            batch.finish()
            self._mark_changed(batch.changed_from)
            for warc_file, (offset, closed) in (scanned or {}).items():
                self._mark_scanned(warc_file, offset, closed)
        self._after_commit(batch, self._mark_changed)
        return batch.result

    def _after_commit(self, batch: _Batch, mark: Callable[[tuple[str, str] | None], None]) -> None:
        """Remove the text files the batch's commit left no row naming (until then the old rows named them); then give
        the rows it wrote under a SHA-suffixed name their plain names.  Those names stay noted stale until that
        commit, so a kill between leaves no file unnoted, and its rows to the next opening (``_settle_left``)."""
        self._remove_stale(batch.stale_paths - batch.held_names)
        self._settle(batch.held_urls, mark, batch.held_names)

    def _settle(self, urls: set[tuple[str, str]], mark: Callable[[tuple[str, str] | None], None],
                held_names: Iterable[str] = ()) -> None:
        """Give the rows of these (source, URL)s under a SHA-suffixed name their plain names, free now, in a commit of
        their own (``mark`` notes the lines it changes; ``held_names``, the plain names, are no longer stale): a
        rebuild names them so."""
        if not urls:
            return
        settle = _Batch(self._db, self.root)
        with self._transaction():
            settle.touched_urls.update(urls)
            settle.finish()
            mark(settle.changed_from)
            self._db.executemany("DELETE FROM stale_texts WHERE path = ?", ((path,) for path in held_names))
        self._remove_stale(settle.stale_paths)

    def _settle_left(self) -> None:
        """The rows a process killed between a batch's commit and its settling left under SHA-suffixed names get
        their plain names now, as the killed process would have given them, whatever URLs the next derivation touches
        (one look at an empty partial index when there are none)."""
        self._settle({(source, url) for source, url in self._db.execute(
            f"SELECT DISTINCT source, url FROM rows WHERE {_UNDER_SHA_NAME}")}, self._mark_changed)

    def _remove_stale(self, paths: Iterable[str]) -> None:
        """Remove text files no row names now (noted in ``stale_texts`` by the commit that made them so), and the
        source folders that leaves empty; then forget the note."""
        paths, folders = set(paths), set()
        if not paths:
            return
        for path in paths:
            (self.root / path).unlink(missing_ok=True)
            folders.add((self.root / path).parent)
        for folder in folders:
            try:
                folder.rmdir()
            except OSError:  # other texts are in it
                pass
        with self._transaction():
            self._db.executemany("DELETE FROM stale_texts WHERE path = ?", ((path,) for path in paths))

    def _remove_stale_left(self) -> None:
        """The text files a process killed after its commit (an upgrade's, a derivation's) had still to remove: no
        row names them, and they are removed now (one look at an empty table when there are none)."""
        if self._db.execute("SELECT 1 FROM stale_texts LIMIT 1").fetchone() is None:
            return
        self._db.execute("DELETE FROM stale_texts WHERE path IN (SELECT text_path FROM rows)")  # written again since
        self._remove_stale(path for (path,) in self._db.execute("SELECT path FROM stale_texts").fetchall())

    def forget_from(self, warc_file: str, offset: int) -> int:
        """Forget the captures at ``offset`` of ``warc_file`` or after, and read the file again from there; how
        many were forgotten.

        Those are bytes that recovery cut off a WARC a power cut left torn: the derivation read them
        while the file was written, before they were on disk for good, and nothing can make them
        again.  Their URLs' rows are made again from the captures left (the next crawl fetches those
        URLs again).  The site's template counts keep them: a page fetched again is the same article
        and counts once, as a rebuild counts it.
        """
        db = self._db
        batch = _Batch(db, self.root)
        with self._transaction():
            lost = db.execute("SELECT record_id, source, url, payload_digest, is_primary, document, fetched_at,"
                              " foreign_host FROM captures WHERE warc_file = ? AND warc_offset >= ?",
                              (warc_file, offset)).fetchall()
            for record_id, source, url, digest, primary, document, _, _ in lost:
                db.execute("DELETE FROM captures WHERE record_id = ?", (record_id,))
                if primary:  # the payload's next capture, if any, holds its text now
                    db.executemany("DELETE FROM key_docs WHERE site = ? AND key = ? AND record_id = ?",
                                   [(site_of(source, url), key, record_id)  # its document's keys: no look at the site's
                                    for key in set(_unpacked_with_keys(document)[1].hashes) - {0}])
                    batch.next_primary(source, url, digest)
                batch.touched_urls.add((source, url))
            batch.forget_host_sources((url, fetched_at, source) for _, source, url, *_, fetched_at, foreign_host
                                      in lost if foreign_host is None)
            db.execute("DELETE FROM waiting_304s WHERE warc_file = ? AND warc_offset >= ?", (warc_file, offset))
            db.execute("DELETE FROM waiting_revisits WHERE warc_file = ? AND warc_offset >= ?", (warc_file, offset))
            batch.finish()
            self._mark_changed(batch.changed_from)
            db.execute("UPDATE scans SET scanned = ?, closed = 0 WHERE warc_file = ? AND scanned > ?",
                       (offset, warc_file, offset))
        self._after_commit(batch, self._mark_changed)
        return len(lost)

    def redo(self, urls: set[tuple[str, str]]) -> None:
        """Make the rows and text files of these (source, URL)s again from their captures (a repair)."""
        batch = _Batch(self._db, self.root)
        with self._transaction():
            batch.touched_urls.update(urls)
            batch.finish()
            self._mark_changed(batch.changed_from)
        self._after_commit(batch, self._mark_changed)

    def unnamed_texts(self, listed: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Of the text files ``listed`` (folder and name in ``text/``, in any order), those no row names, by folder
        then name.  The listing goes into a temporary table (SQLite's temporary store spills to disk), not a set in
        memory: a check of millions of rows takes no more memory than one of thousands."""
        db = self._db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS listed_texts (folder TEXT, name TEXT, PRIMARY KEY (folder, name))"
                   " WITHOUT ROWID")
        db.execute("BEGIN")
        try:
            db.executemany("INSERT OR IGNORE INTO temp.listed_texts VALUES (?, ?)", listed)
            return db.execute(f"SELECT folder, name FROM temp.listed_texts WHERE '{TEXT_DIR}/' || folder || '/' || name"
                              " NOT IN (SELECT text_path FROM rows) ORDER BY folder, name").fetchall()
        finally:
            db.execute("ROLLBACK")  # the listing is kept for no one

    def text_rows(self) -> Iterator[tuple[str, str, str, str]]:
        """(source, URL, text path, text SHA-256) of every row."""
        yield from self._db.execute("SELECT source, url, text_path, text_sha256 FROM rows")

    def row_records(self) -> Iterator[tuple[str, int]]:
        """(WARC file, offset) of every row's record."""
        yield from self._db.execute("SELECT warc_file, warc_offset FROM rows JOIN captures USING (record_id)")

    def reading_once(self) -> None:
        """SQLite's default page cache (2 MiB) rather than a batch's 64 MiB, for a reader that passes over the store
        once and keeps nothing: the pages it reads would otherwise stay, and memory grow with the store up to that."""
        self._db.execute("PRAGMA cache_size=-2000")

    def rows_in_record_order(self) -> Iterator[tuple[str, str, str, str | None, str]]:
        """(WARC file, record id, URL, title, capture time) of every row, in the order of the records in the
        WARCs (file name, then offset): the order a reader of the WARCs meets the articles in.  One pass that
        keeps nothing (:meth:`reading_once`)."""
        self.reading_once()
        yield from self._db.execute(
            "SELECT warc_file, record_id, json_extract(line, '$.url'), json_extract(line, '$.title'), rows.fetched_at"
            " FROM rows JOIN captures USING (record_id) ORDER BY warc_file, warc_offset")

    def quick_check(self) -> str:
        return self._db.execute("PRAGMA quick_check").fetchone()[0]

# When a site's articles were first captured, by month (``_Batch._in_span``), and in order.
TEMPLATE_SPANS = (
    "CREATE TABLE IF NOT EXISTS site_months (site TEXT NOT NULL, month TEXT NOT NULL, articles INTEGER NOT NULL,"
    " PRIMARY KEY (site, month)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS site_signatures_by_time ON site_signatures (site, first_at)",
)


@dataclass(frozen=True)
class _SpanStand:
    """Where a key's span search stands (``SpanScan``), kept in ``key_stats.scan`` while it holds: the site's count
    of articles added before its latest then (such an article changes the counts before it), and the key's first
    capture then with the site's articles before it (from which its whole span's articles are counted)."""

    scan: SpanScan
    reordered: int
    first_at: str
    first_before: int

    @property
    def text(self) -> str:
        scan = self.scan
        return json.dumps([self.reordered, scan.last, scan.holding, int(scan.lowest * MIN_SHARE.denominator),
                           scan.lowest_at, self.first_at, self.first_before])

    @classmethod
    def read(cls, text: str | None, reordered: int, first_at: str | None, holding: int) -> _SpanStand | None:
        """The stand kept, if it holds still: no article added before the site's latest since, the key's first
        capture the same, and ``holding`` (the articles holding it, less those the batch adds after) those it counted."""
        if not text:
            return None
        kept, last, count, lowest, lowest_at, first, first_before = json.loads(text)
        if (kept, first, count) != (reordered, first_at, holding):
            return None
        return cls(SpanScan(last, count, Fraction(lowest, MIN_SHARE.denominator), lowest_at), kept, first, first_before)


class _Batch:
    """The work of one ``CorpusStore.add`` call, inside its transaction."""

    def __init__(self, db: sqlite3.Connection, root: Path):
        self.db = db
        self.root = root
        # site -> new primary docs (record id, capture time, keys); primary docs found captured earlier (before, now, keys)
        self.new_docs: dict[str, list[tuple[str, str, ParagraphKeys]]] = defaultdict(list)
        self.retimed_docs: dict[str, list[tuple[str, str, ParagraphKeys]]] = defaultdict(list)
        # record id -> the batch's new documents, their keys and their blocks' word ids if given
        self.documents: dict[str, tuple[Document, ParagraphKeys, tuple[bytes, ...] | None]] = {}
        self.word_ids: dict[str, bytes] = {}  # sha256 -> the word ids of a text made in this batch, where known
        self.new_ids: set[str] = set()
        self.touched_urls: set[tuple[str, str]] = set()
        self.texts: dict[str, bytes] = {}  # sha256 -> text, for texts made in this batch
        self.changed_texts: set[str] = set()
        self.changed_rows: set[str] = set()
        self.stale_paths: set[str] = set()
        # plain text names a stored row gave to another text, so written under a SHA-suffixed name; their URLs
        self.held_names: set[str] = set()
        self.held_urls: set[tuple[str, str]] = set()
        self.result = BatchResult()
        self.changed_from: tuple[str, str] | None = None  # the earliest row (in capture order) changed or dropped
        self.host_sources: dict[str, str | None] = {}  # host -> the source of our captures of it, as looked up
        # site -> when its latest article was first captured before the batch, and the articles the batch adds (their
        # signatures and times); the sites the batch adds an article to before their latest (``_own_span``)
        self.latest: dict[str, str | None] = {}
        self.new_articles: dict[str, dict[int, str]] = defaultdict(dict)
        self.reordered: set[str] = set()
        self.captured_urls: set[tuple[str, str]] = set()  # (source, URL) of the batch's captures, 304s that name none aside

    def _changed(self, fetched_at: str, record_id: str) -> None:
        if self.changed_from is None or (fetched_at, record_id) < self.changed_from:
            self.changed_from = (fetched_at, record_id)

    # -- captures ----------------------------------------------------------------------------
    def rekey(self, old: str, new: str) -> None:
        """A held capture keyed anew (another record keeps its WARC-Record-ID): its URL's rows are made again."""
        db = self.db
        found = db.execute("SELECT source, url, fetched_at FROM captures WHERE record_id = ?", (old,)).fetchone()
        if found is None:
            return
        for table in ("captures", "key_docs", "rows"):  # its row too: the record that keeps the ID makes its own
            db.execute(f"UPDATE {table} SET record_id = ? WHERE record_id = ?", (new, old))
        self._changed(found[2], old)  # where its line was in corpus.jsonl
        self.touched_urls.add(found[:2])

    def add_capture(self, article: ExtractedArticle, error: str | None) -> None:
        db = self.db
        if db.execute("SELECT 1 FROM captures WHERE record_id = ?", (article.warc_record_id,)).fetchone():
            return
        if article.confirms is not None and not article.payload_digest:  # (one taken from waiting has its payload)
            if (confirmed := self._confirmed_payload(*article.confirms, article.fetched_at)) is None:
                self._wait(article)
                return
            article = replace(article, payload_digest=confirmed)
            self.result.confirmed[article.warc_file] += 1
        confirms_latest = article.confirms is not None and not article.confirms[1]
        if not confirms_latest:
            self.captured_urls.add((article.source, article.url))
        document = article.document
        usable = error is None and not document.is_empty
        site = site_of(article.source, article.url)
        db.execute(
            "INSERT INTO captures (record_id, source, url, site, fetched_at, payload_digest, payload_key, warc_file,"
            " warc_offset, extractor, error, document, foreign_host, confirms_latest)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article.warc_record_id, article.source, article.url, site, article.fetched_at, article.payload_digest,
             digest_key(article.payload_digest),
             article.warc_file, article.warc_offset, article.extractor, error or document.error or None,
             (article.packed or pack(document)) if usable else None,
             site_host(article.url) if article.foreign else None, int(confirms_latest)))
        if article.revisit:
            self.new_ids.add(article.warc_record_id)
            self._captured_again(article)
            return
        if not usable:
            if error is None:  # a failure is reported by whoever caught it
                self.result.not_extracted.append({"url": article.url, "reason": document.error or "no text"})
            return
        self.new_ids.add(article.warc_record_id)
        first = db.execute(
            "SELECT record_id, fetched_at FROM captures WHERE source = ? AND url = ? AND payload_key = ?"
            " AND is_primary = 1", (article.source, article.url, digest_key(article.payload_digest))).fetchone()
        if first is None:  # a new payload at this URL: it teaches the site's template
            db.execute("UPDATE captures SET is_primary = 1 WHERE record_id = ?", (article.warc_record_id,))
            keys = article.paragraph_keys()
            self.new_docs[site].append((article.warc_record_id, article.fetched_at, keys))
            self.documents[article.warc_record_id] = (document, keys, article.word_ids)
        elif (article.fetched_at, article.warc_record_id) < (first[1], first[0]):
            # An earlier capture of the same payload (WARCs read out of order): it becomes the
            # row's provenance; the document, and so every count, is the same, but it dates the article earlier.
            db.execute("UPDATE captures SET is_primary = (record_id = ?) WHERE record_id IN (?, ?)",
                       (article.warc_record_id, article.warc_record_id, first[0]))
            keys = article.paragraph_keys()
            db.executemany("UPDATE key_docs SET record_id = ? WHERE site = ? AND key = ? AND record_id = ?",
                           [(article.warc_record_id, site, key, first[0]) for key in set(keys.hashes) - {0}])
            self.retimed_docs[site].append((first[1], article.fetched_at, keys))
        else:
            self._captured_again(article)
            return
        self.touched_urls.add((article.source, article.url))

    def _captured_again(self, article: ExtractedArticle) -> None:
        """A payload its URL archived before: a version again if the URL's capture before it (of a payload
        with a text there) holds another, as a correction reverted byte for byte; else the version that capture
        showed was seen again (a 304, a revisit, a refetch of the same bytes).  One look-up in the index of the
        URL's captures by time and one in its rows, whatever the URL's history."""
        before = self.db.execute(
            "SELECT c.payload_key FROM captures c WHERE c.source = ? AND c.url = ?"
            f" AND (c.fetched_at, c.record_id) < (?, ?) AND {_SHOWS_A_VERSION}"
            " ORDER BY c.fetched_at DESC, c.record_id DESC LIMIT 1",
            (article.source, article.url, article.fetched_at, article.warc_record_id)).fetchone()
        if before is None or before[0] != digest_key(article.payload_digest):
            self.touched_urls.add((article.source, article.url))
            return
        self.db.execute(  # the version it shows: the URL's latest row from before it (named: SQLite would rather
            # read every row of the source before that time through rows_by_source)
            "UPDATE rows SET last_seen = MAX(IFNULL(last_seen, ''), ?) WHERE record_id = (SELECT record_id FROM rows"
            " INDEXED BY rows_by_url WHERE source = ? AND url = ? AND (fetched_at, record_id) <= (?, ?)"
            " ORDER BY version DESC LIMIT 1)",
            (article.fetched_at, article.source, article.url, article.fetched_at, article.warc_record_id))

    # -- other tools' 304s -------------------------------------------------------------------
    def _confirmed_payload(self, url: str, date: str, at: str) -> str | None:
        """The payload digest of the capture of ``url`` a 304 at ``at`` confirms: the one at ``date`` (the capture it
        names), or if ``date`` is empty the URL's latest before ``at``; None if the corpus holds none.  A URL's
        captures are under the source of its host's (``host_sources``), or of its own address."""
        found = self.db.execute("SELECT source FROM host_sources WHERE host = ?", (site_host(url),)).fetchone()
        captured = self.db.execute(
            "SELECT payload_digest FROM captures WHERE source = ? AND url = ? AND fetched_at {} ?"
            " ORDER BY fetched_at DESC, record_id DESC LIMIT 1".format("=" if date else "<"),
            (found[0] if found else foreign_source(url), url, date or at)).fetchone()
        return captured[0] if captured else None

    def _wait(self, article: ExtractedArticle) -> None:
        """A 304 whose capture the corpus does not hold yet (read in a later WARC, a later import): kept, with the scan
        position of its file, until a batch brings that capture (``confirm_waiting``)."""
        self.db.execute(
            "INSERT OR IGNORE INTO waiting_304s (record_id, source, url, fetched_at, warc_file, warc_offset, extractor,"
            " confirms_url, confirms_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article.warc_record_id, article.source, article.url, article.fetched_at, article.warc_file,
             article.warc_offset, article.extractor, *article.confirms))
        self.result.waiting[article.warc_file] += 1

    def end_waits(self, articles: list[ExtractedArticle]) -> None:
        """The waiting revisits (``CorpusStore.wait_for_payloads``) among the batch's captures wait no more, in the
        batch's transaction: one look at an empty table, else one look-up per capture."""
        if self.db.execute("SELECT 1 FROM waiting_revisits LIMIT 1").fetchone() is None:
            return
        self.db.executemany("DELETE FROM waiting_revisits WHERE warc_file = ? AND warc_offset = ?",
                            ((article.warc_file, article.warc_offset) for article in articles))

    def confirm_waiting(self, urls: Collection[str]) -> None:
        """The waiting 304s that confirm captures of these URLs (the batch's), taken as captures of them now: one
        look at an empty table, else one look-up in its index per URL."""
        db = self.db
        if not urls or db.execute("SELECT 1 FROM waiting_304s LIMIT 1").fetchone() is None:
            return
        for record_id, source, url, fetched_at, warc_file, offset, extractor, *confirms in db.execute(
                "SELECT record_id, source, url, fetched_at, warc_file, warc_offset, extractor, confirms_url,"
                " confirms_date FROM waiting_304s WHERE confirms_url IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(urls)),)).fetchall():
            if (confirmed := self._confirmed_payload(*confirms, fetched_at)) is None:
                continue
            db.execute("DELETE FROM waiting_304s WHERE record_id = ?", (record_id,))
            self.add_capture(self.with_host_source(ExtractedArticle(
                source, url, fetched_at, warc_file, offset, record_id, confirmed, Document.empty(url, ""), extractor,
                revisit=True, foreign=True, confirms=tuple(confirms))), None)
            self.result.confirmed_later[warc_file] += 1

    def reconfirm_latest(self) -> None:
        """Another tool's 304s that name no capture, at the URLs of the batch's captures, each given the payload of its
        URL's latest capture before it now: one read before a capture between the two (WARCs read out of time order,
        a later import) confirms that one, as a rebuild would have it.  One look at an index of those 304s (empty in an
        archive of our own), else one look-up in it per URL; the URL's captures are read only where it has one."""
        db = self.db
        if not self.captured_urls or db.execute("SELECT 1 FROM captures INDEXED BY captures_confirming_latest"
                                                " WHERE confirms_latest = 1 LIMIT 1").fetchone() is None:
            return
        for source, url in sorted(self.captured_urls):
            if db.execute("SELECT 1 FROM captures INDEXED BY captures_confirming_latest WHERE source = ? AND url = ?"
                          " AND confirms_latest = 1 LIMIT 1", (source, url)).fetchone() is None:
                continue
            latest = None  # (payload digest, payload key) of the latest capture that is no such 304
            for record_id, digest, key, confirms_latest in db.execute(
                    "SELECT record_id, payload_digest, payload_key, confirms_latest FROM captures WHERE source = ?"
                    " AND url = ? ORDER BY fetched_at, record_id", (source, url)).fetchall():
                if not confirms_latest:
                    latest = (digest, key)
                elif latest is not None and key != latest[1]:
                    db.execute("UPDATE captures SET payload_digest = ?, payload_key = ? WHERE record_id = ?",
                               (*latest, record_id))
                    self.touched_urls.add((source, url))

    def next_primary(self, source: str, url: str, digest: str) -> None:
        """The payload's primary capture at its URL is gone: its first capture left with a document holds its text."""
        self.db.execute("UPDATE captures SET is_primary = 1 WHERE record_id = (SELECT record_id FROM captures"
                        " WHERE source = ? AND url = ? AND payload_key = ? AND document IS NOT NULL"
                        " ORDER BY fetched_at, record_id LIMIT 1)", (source, url, digest_key(digest)))

    # -- the source of another tool's captures -----------------------------------------------
    def learn_host_sources(self, ours: Iterable[tuple[str, str, str]]) -> None:
        """A host's source is that of our earliest capture of it (of two at one time, the first source by name), a
        function of the WARCs whatever order they are read in.  Where these captures of ours (URL, capture time,
        source) change it, the other tools' captures of the host stored so far move to it.  One look-up per host."""
        earliest: dict[str, tuple[str, str]] = {}
        for url, fetched_at, source in ours:
            host, first = site_host(url), (fetched_at, source)
            earliest[host] = min(earliest.get(host, first), first)
        for host, (fetched_at, source) in sorted(earliest.items()):
            held = self.db.execute("SELECT first_at, source FROM host_sources WHERE host = ?", (host,)).fetchone()
            if held is not None and tuple(held) <= (fetched_at, source):
                continue
            self.db.execute("INSERT OR REPLACE INTO host_sources (host, source, first_at) VALUES (?, ?, ?)",
                            (host, source, fetched_at))
            if held is None or held[1] != source:
                self.move_foreign_captures(host, source)

    def forget_host_sources(self, lost: Iterable[tuple[str, str, str]]) -> None:
        """These captures of ours (URL, capture time, source) are forgotten: a host whose source one of them gave
        takes that of our earliest capture of it left, as a rebuild would, or none (the other tools' captures of it
        go back to their own host's source).  Our captures of the host are then looked for among all: rare."""
        for url, fetched_at, source in sorted(set(lost)):
            host = site_host(url)
            held = self.db.execute("SELECT first_at, source FROM host_sources WHERE host = ?", (host,)).fetchone()
            if held is None or tuple(held) != (fetched_at, source):
                continue
            self.db.execute("DELETE FROM host_sources WHERE host = ?", (host,))
            self.learn_host_sources(found for found in self.db.execute(
                "SELECT url, fetched_at, source FROM captures WHERE foreign_host IS NULL AND instr(lower(url), ?)",
                ((urlsplit(url).hostname or "").removeprefix("www."),)) if site_host(found[0]) == host)
            if not self.db.execute("SELECT 1 FROM host_sources WHERE host = ?", (host,)).fetchone():
                self.move_foreign_captures(host, foreign_source(url))

    def with_host_source(self, article: ExtractedArticle) -> ExtractedArticle:
        """Another tool's capture under the source of our captures of its host, if there are any; else as it is."""
        if not article.foreign:
            return article
        host = site_host(article.url)
        if host not in self.host_sources:
            found = self.db.execute("SELECT source FROM host_sources WHERE host = ?", (host,)).fetchone()
            self.host_sources[host] = found[0] if found else None
        return replace(article, source=self.host_sources[host] or article.source)

    def move_foreign_captures(self, host: str, source: str) -> None:
        """Another tool's stored captures of ``host`` taken again under ``source``: their rows, versions, text files
        and clusters are made again there, and each site they leave learns its template again from what is left
        (nothing, unless it is one of ours: our captures of the host under another source, read out of time order)."""
        db = self.db
        moved = db.execute(
            "SELECT record_id, source, url, site, fetched_at, payload_digest, warc_file, warc_offset, extractor,"
            " error, document, is_primary FROM captures WHERE foreign_host = ? AND source != ?"
            " ORDER BY fetched_at, record_id", (host, source)).fetchall()
        for old_source, rows, articles in db.execute(
                "SELECT source, COUNT(*), SUM(version = 1) FROM rows WHERE record_id IN"
                " (SELECT value FROM json_each(?)) GROUP BY source", (json.dumps([found[0] for found in moved]),)):
            self.result.moved_rows[old_source, source] += rows
            self.result.moved_articles[old_source, source] += articles
        db.executemany("DELETE FROM captures WHERE record_id = ?", [(found[0],) for found in moved])
        left: dict[str, str] = {}  # site -> its source
        for _, old_source, url, site, _, digest, *_, primary in moved:
            self.touched_urls.add((old_source, url))
            left[site] = old_source
            if primary:
                self.next_primary(old_source, url, digest)
        for site, old_source in sorted(left.items()):
            self._learn_again(site, old_source)
        for record_id, _, url, _, fetched_at, digest, warc_file, offset, extractor, error, blob, _ in moved:
            document = Document.empty(url, error or "") if blob is None else _unpack(blob)
            self.add_capture(ExtractedArticle(source, url, fetched_at, warc_file, offset, record_id, digest, document,
                                              extractor, packed=blob, foreign=True),
                             None if blob is not None else error or "")
            self.new_ids.discard(record_id)  # taken before: not a new row

    def _learn_again(self, site: str, source: str) -> None:
        """The site's template counts made anew from the captures it holds, and its URLs' rows with them."""
        db = self.db
        for table in _SITE_TABLES:
            db.execute(f"DELETE FROM {table} WHERE site = ?", (site,))
        docs = []
        for record_id, url, fetched_at, blob in db.execute(
                "SELECT record_id, url, fetched_at, document FROM captures WHERE source = ? AND site = ?"
                " AND is_primary = 1 ORDER BY fetched_at, record_id", (source, site)).fetchall():
            docs.append((record_id, fetched_at, _unpacked_with_keys(blob)[1]))
            self.touched_urls.add((source, url))
        self.retimed_docs.pop(site, None)
        if docs:
            self.new_docs[site] = docs
        else:  # a site none is left at has no counts
            self.new_docs.pop(site, None)

    # -- site templates ----------------------------------------------------------------------
    def _learn(self, site: str, docs: list[tuple[str, str, ParagraphKeys]],
               retimed: list[tuple[str, str, ParagraphKeys]]) -> set[int]:
        """Count the new docs (record id, capture time, keys) into the site's template statistics, and date again
        the docs captured earlier than thought (time before, time now, keys); the keys whose status changed."""
        db = self.db
        row = db.execute("SELECT articles FROM sites WHERE site = ?", (site,)).fetchone()
        articles = row[0] if row else 0
        self.latest[site] = db.execute("SELECT MAX(first_at) FROM site_signatures WHERE site = ?", (site,)).fetchone()[0]
        holders: dict[int, set[int]] = defaultdict(set)  # key -> the batch's new articles holding it
        reheld: set[int] = set()  # keys the batch adds to articles it does not add
        frequency: Counter[int] = Counter()
        seen: Counter[int] = Counter()
        at_edge: Counter[int] = Counter()
        words: dict[int, int] = {}
        first_at: dict[int, str] = {}
        last_at: dict[int, str] = {}
        placed: list[str] = []  # when the articles this batch adds or moves were first captured
        for record_id, fetched_at, keys in docs:
            signature = keys.signature
            new_article = self._place_article(site, signature, fetched_at, placed)
            articles += new_article
            for index, (hashed, count) in enumerate(zip(keys.hashes, keys.words)):
                if hashed:
                    words[hashed] = count
                    seen[hashed] += 1
                    at_edge[hashed] += is_at_edge(index, len(keys.hashes))
                    first_at[hashed] = min(first_at.get(hashed, fetched_at), fetched_at)
                    last_at[hashed] = max(last_at.get(hashed, fetched_at), fetched_at)
            distinct = {hashed for hashed in keys.hashes if hashed}
            if not new_article:  # the same article again (a mirror): only keys it did not have count
                distinct_new = distinct - {key for (key,) in db.execute(
                    "SELECT key FROM signature_keys WHERE site = ? AND signature = ?", (site, signature))}
            else:
                distinct_new = distinct
            for hashed in distinct_new:
                if signature in self.new_articles[site]:
                    holders[hashed].add(signature)
                else:
                    reheld.add(hashed)
            db.executemany("INSERT OR IGNORE INTO signature_keys VALUES (?, ?, ?)",
                           [(site, signature, hashed) for hashed in distinct_new])
            frequency.update(distinct_new)
            db.executemany("INSERT OR IGNORE INTO key_docs VALUES (?, ?, ?)",
                           [(site, hashed, record_id) for hashed in distinct])
        db.execute("INSERT INTO sites (site, articles) VALUES (?, ?) ON CONFLICT (site) DO UPDATE SET"
                   " articles = excluded.articles", (site, articles))
        db.executemany(
            "INSERT INTO key_stats (site, key, words, frequency, seen, at_edge, template, first_at, last_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (site, key) DO UPDATE SET"
            " frequency = frequency + excluded.frequency, seen = seen + excluded.seen,"
            " at_edge = at_edge + excluded.at_edge, first_at = min(IFNULL(first_at, excluded.first_at), excluded.first_at),"
            " last_at = max(IFNULL(last_at, excluded.last_at), excluded.last_at)",
            [(site, key, words[key], frequency[key], seen[key], at_edge[key], first_at[key], last_at[key])
             for key in seen])
        moved = set()
        for before, now, keys in retimed:
            self._place_article(site, keys.signature, now, placed)
            for key in {hashed for hashed in keys.hashes if hashed}:
                moved.add(key)
                db.execute("UPDATE key_stats SET first_at = min(IFNULL(first_at, ?1), ?1) WHERE site = ?2 AND key = ?3",
                           (now, site, key))
                db.execute(  # the doc was the key's last: its last is now the latest of its docs
                    "UPDATE key_stats SET last_at = (SELECT MAX(c.fetched_at) FROM key_docs k JOIN captures c"
                    " ON c.record_id = k.record_id WHERE k.site = ? AND k.key = ?)"
                    " WHERE site = ? AND key = ? AND last_at = ?", (site, key, site, key, before))
        # Only a key whose counts or span moved, or a template key with an article added in the span it was
        # decided template over, can change status: a share over a span only falls as articles are added in it.
        candidates = set(seen) | moved
        if placed:
            candidates.update(key for (key,) in db.execute(
                "SELECT key FROM key_stats INDEXED BY template_keys WHERE site = ? AND template = 1 AND from_at <= ?"
                " AND to_at >= ?",
                (site, max(placed), min(placed))))
        if site in self.reordered:
            db.execute("UPDATE sites SET reordered = reordered + 1 WHERE site = ?", (site,))
        times = self.new_articles[site]
        held = {key: sorted(times[signature] for signature in signatures) for key, signatures in holders.items()
                if key not in reheld}
        return self._redecide(site, candidates, placed, moved, held)

    def _place_article(self, site: str, signature: int, fetched_at: str, placed: list[str]) -> bool:
        """Date an article of the site by its first capture (the earliest of its docs'); whether it is new."""
        db = self.db
        row = db.execute("SELECT first_at FROM site_signatures WHERE site = ? AND signature = ?",
                         (site, signature)).fetchone()
        if row is not None and row[0] is not None and row[0] <= fetched_at:
            return False
        latest = self.latest.get(site)
        if latest is not None and fetched_at < latest:
            self.reordered.add(site)
        if row is None or signature in self.new_articles[site]:
            self.new_articles[site][signature] = fetched_at
        if row is None:
            db.execute("INSERT INTO site_signatures (site, signature, first_at) VALUES (?, ?, ?)",
                       (site, signature, fetched_at))
        else:
            db.execute("UPDATE site_signatures SET first_at = ? WHERE site = ? AND signature = ?",
                       (fetched_at, site, signature))
            if row[0] is not None:
                self._count_month(site, row[0], -1)
        self._count_month(site, fetched_at, 1)
        placed.append(fetched_at)
        return row is None

    def _count_month(self, site: str, fetched_at: str, sign: int) -> None:
        self.db.execute("INSERT INTO site_months (site, month, articles) VALUES (?, ?, ?) ON CONFLICT (site, month)"
                        " DO UPDATE SET articles = articles + excluded.articles", (site, fetched_at[:7], sign))

    def _in_span(self, site: str, words: int, frequency: int, seen: int, at_edge: int, first_at: str,
                 last_at: str, first_before: int | None = None) -> bool:
        """The rule over the site's articles first captured from ``first_at`` to ``last_at``.  The per-month counts
        bound their number (the span's first and last months in part or in whole), and the rule only gets harder
        as it grows: the articles of those two months are counted one by one only when the bounds disagree.  So a
        span of years costs its months, and the articles near the share are counted only for a key near it.
        ``first_before``, the site's articles before ``first_at`` if known (``_SpanStand``), counts them exactly
        from the site's latest back to ``last_at`` instead: a cost of the articles after it."""
        db = self.db
        if first_before is not None:
            after = db.execute("SELECT COUNT(*) FROM site_signatures WHERE site = ? AND first_at > ?",
                               (site, last_at)).fetchone()[0]
            return is_template(words, frequency, seen, at_edge, self._dated(site) - after - first_before)
        first_month, last_month = first_at[:7], last_at[:7]
        most, inner = db.execute(
            "SELECT IFNULL(SUM(articles), 0), IFNULL(SUM(articles) FILTER (WHERE month > ?2 AND month < ?3), 0)"
            " FROM site_months WHERE site = ?1 AND month >= ?2 AND month <= ?3", (site, first_month, last_month)).fetchone()
        least = max(frequency, inner)  # (its own articles are in its span)
        if is_template(words, frequency, seen, at_edge, most) or not is_template(words, frequency, seen, at_edge, least):
            return is_template(words, frequency, seen, at_edge, most)
        count = "SELECT COUNT(*) FROM site_signatures WHERE site = ? AND first_at >= ? AND first_at <= ?"
        if first_month == last_month:
            exact = db.execute(count, (site, first_at, last_at)).fetchone()[0]
        else:
            exact = inner + (db.execute(count, (site, first_at, first_month + "~")).fetchone()[0]
                             + db.execute(count, (site, last_month, last_at)).fetchone()[0])
        return is_template(words, frequency, seen, at_edge, exact)

    def _redecide(self, site: str, keys: Iterable[int], placed: Iterable[str] = (),
                  moved: Collection[int] = (), held: dict[int, list[str]] | None = None) -> set[int]:
        """Decide these keys of the site again; those whose status changed (flipped in the store).  A key is
        template over its whole span; or over the span its record keeps (the one it was last decided template
        over), while no article was placed in that span nor one of its own moved, as nothing in it changed then:
        a template the site retired and brings back is one from its first article back, at no cost that grows
        with its years; or else over a span of its own among its articles (``_own_span``).  ``held``: the times
        of the batch's new articles holding each key, where those are all it added to the key."""
        db = self.db
        keys, placed, held = list(keys), sorted(placed), held or {}
        reordered = db.execute("SELECT reordered FROM sites WHERE site = ?", (site,)).fetchone()
        reordered = reordered[0] if reordered else 0
        flipped, records, scans = set(), [], []
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            for key, words_, frequency_, seen_, at_edge_, template, first_at, last_at, from_at, to_at, scan in db.execute(
                    "SELECT key, words, frequency, seen, at_edge, template, first_at, last_at, from_at, to_at, scan"
                    f" FROM key_stats WHERE site = ? AND key IN ({','.join('?' * len(chunk))})", (site, *chunk)):
                record = (from_at, to_at) if template else None
                new = held.get(key, [])
                stand = None if key in moved else _SpanStand.read(scan, reordered, first_at, frequency_ - len(new))
                if frequency_ < MIN_PAGES or first_at is None:  # (a key no doc of which is left has no span)
                    span = None
                elif self._in_span(site, words_, frequency_, seen_, at_edge_, first_at, last_at,
                                   stand.first_before if stand and new else None):
                    span = (first_at, last_at)
                elif (record is not None and from_at is not None and key not in moved
                      and bisect_left(placed, from_at) == bisect_right(placed, to_at)):
                    span = record
                elif has_template_shape(words_, seen_, at_edge_):
                    span, kept = self._own_span(site, key, first_at, stand, new, reordered)
                    if kept != scan:
                        scans.append((kept, site, key))
                else:
                    span = None
                if (span is not None) != bool(template):
                    flipped.add(key)
                if span != record:
                    records.append((span is not None, *(span or (None, None)), site, key))
        db.executemany("UPDATE key_stats SET template = ?, from_at = ?, to_at = ? WHERE site = ? AND key = ?", records)
        db.executemany("UPDATE key_stats SET scan = ? WHERE site = ? AND key = ?", scans)
        return flipped

    def _own_span(self, site: str, key: int, first_at: str, stand: _SpanStand | None, new: list[str],
                  reordered: int) -> tuple[tuple[str, str] | None, str | None]:
        """The first span of the site's articles from one holding the key to another over which the rule holds
        (``template_span``), and where the search stands if there is none (``_SpanStand``, to keep).  With a stand,
        the search goes on from it over the batch's new articles holding the key (``new``) and the site's articles
        since the first of them: the batch's.  Else it reads the key's articles and the site's since its first
        (a key on MIN_PAGES articles or fewer: none, its one span from one to another is its whole span)."""
        db = self.db
        dated = self._dated(site)
        since = "SELECT first_at FROM site_signatures WHERE site = ? AND first_at >= ? ORDER BY first_at"
        if stand is not None:
            if not new:
                return None, stand.text
            articles = [at for (at,) in db.execute(since, (site, new[0]))]
            found = template_span(new, articles, stand.scan.holding, dated - len(articles), stand.scan)
            first_before = stand.first_before
        else:
            holding = [at for (at,) in db.execute(
                "SELECT s.first_at FROM signature_keys k INDEXED BY signature_keys_by_key JOIN site_signatures s"
                " ON s.site = k.site AND s.signature = k.signature WHERE k.site = ? AND k.key = ? AND s.first_at IS NOT NULL"
                " ORDER BY 1", (site, key))]
            if len(holding) <= MIN_PAGES:
                return None, None
            articles = [at for (at,) in db.execute(since, (site, holding[0]))]
            before = dated - len(articles)
            found = template_span(holding, articles, 0, before)
            first_before = before + bisect_left(articles, first_at)
        if not isinstance(found, SpanScan):
            return found, None
        return None, _SpanStand(found, reordered, first_at, first_before).text

    def _dated(self, site: str) -> int:
        """The site's articles with a first capture time (all but those a store from before times kept undated)."""
        return self.db.execute("SELECT articles - (SELECT COUNT(*) FROM site_signatures WHERE site = ?1 AND"
                               " first_at IS NULL) FROM sites WHERE site = ?1", (site,)).fetchone()[0]

    def _template(self, site: str) -> set[int]:
        # (named: SQLite would rather read the site's every key through the primary key)
        return {key for (key,) in self.db.execute(
            "SELECT key FROM key_stats INDEXED BY template_keys WHERE site = ? AND template = 1", (site,))}

    def _touch_holders(self, site: str, keys: Iterable[int]) -> None:
        """Mark for making again the URLs whose docs hold any of these keys."""
        for key in keys:
            for (source, url) in self.db.execute(
                    "SELECT c.source, c.url FROM key_docs k JOIN captures c ON c.record_id = k.record_id"
                    " WHERE k.site = ? AND k.key = ?", (site, key)):
                self.touched_urls.add((source, url))

    # -- rows ----------------------------------------------------------------------------------
    def finish(self) -> None:
        for site in sorted(set(self.new_docs) | set(self.retimed_docs)):
            self._touch_holders(site, self._learn(site, self.new_docs[site], self.retimed_docs[site]))
        templates: dict[str, set[int]] = {}
        for source, url in sorted(self.touched_urls):
            site = site_of(source, url)
            if site not in templates:
                templates[site] = self._template(site)
            self._redo_url(source, url, templates[site])
        self._update_duplicates()
        for record_id in self.changed_rows:
            self._write_line(record_id)
        # noted with the commit: a process killed after it leaves them to the next opening (``_remove_stale_left``)
        self.db.executemany("INSERT OR IGNORE INTO stale_texts (path) VALUES (?)", ((path,) for path in self.stale_paths))

    def _redo_url(self, source: str, url: str, template: set[int]) -> None:
        """A URL's rows anew from its captures, numbered by capture time: a row where the text changes.  Each
        payload's text is made once, from its first capture's document; every capture of it (a revisit, a
        refetch) dates it again, so a text that comes back after another, in the same bytes or new ones, is
        a version again, and a payload whose text is the one before it (the page changed outside the article:
        a token, an ad, a timestamp) makes none, or a refetch each day would add a version a day."""
        db = self.db
        texts: dict[str, tuple[dict, bytes]] = {}  # payload key -> its row's fields from its text, the text
        for record_id, digest, extractor, blob in db.execute(
                "SELECT record_id, payload_key, extractor, document FROM captures"
                " WHERE source = ? AND url = ? AND is_primary = 1", (source, url)):
            document, keys, ids = self.documents.get(record_id) or _unpacked_with_keys(blob)
            cleaned = without_template(document, keys.hashes, template)
            if cleaned.is_empty:
                continue
            text = cleaned.text().encode("utf-8")
            sha = hashlib.sha256(text).hexdigest()
            if ids is not None:  # the kept blocks' words are the text's words
                self.word_ids[sha] = ids[0] + b"".join(
                    block for block, key in zip(ids[1:], keys.hashes) if key not in template)
            texts[digest] = ({"url": url, "canonical_url": cleaned.canonical_url or url, "source": source,
                              "title": cleaned.title, "author": cleaned.author, "date": iso_date(cleaned.date),
                              "sitename": cleaned.sitename, "language": cleaned.language,
                              "text_sha256": sha, "extractor": extractor}, text)
        made, last_seen = [], []  # the versions, and when each was last captured (before the next)
        for record_id, fetched_at, digest, key, warc_file, offset in db.execute(
                "SELECT record_id, fetched_at, payload_digest, payload_key, warc_file, warc_offset FROM captures"
                " WHERE source = ? AND url = ? ORDER BY fetched_at, record_id", (source, url)):
            if key not in texts:
                continue
            fields, text = texts[key]
            if made and made[-1][3]["text_sha256"] == fields["text_sha256"]:
                last_seen[-1] = fetched_at
                continue
            fields = {**fields, "fetched_at": fetched_at, "warc_file": warc_file, "warc_offset": offset,
                      "warc_record_id": record_id, "payload_digest": digest}
            made.append((fetched_at, digest, record_id, fields, text))
            last_seen.append(fetched_at)
        old, old_seen = {}, {}
        for record_id, text_path, sha, line, seen in db.execute(
                "SELECT record_id, text_path, text_sha256, line, last_seen FROM rows WHERE source = ? AND url = ?",
                (source, url)):
            old[record_id], old_seen[record_id] = (text_path, sha, _fields_of(line)), seen
        old_paths = {text_path: sha for text_path, sha, _ in old.values()}
        old_fetched = {record_id: fields["fetched_at"] for record_id, (_, _, fields) in old.items()}
        new_paths = set()
        added = 0
        for version, ((fetched_at, digest, record_id, fields, text), seen) in enumerate(zip(made, last_seen), 1):
            sha = fields["text_sha256"]
            text_path = version_path(source, url, version)
            if old_paths.get(text_path, sha) != sha:  # until the commit a row names it with another text
                self.held_names.add(text_path)
                self.held_urls.add((source, url))
                text_path = version_path(source, url, version, sha)
            new_paths.add(text_path)
            self.texts[sha] = text
            self.changed_texts.add(sha)
            if old_paths.get(text_path) != sha or not (self.root / text_path).exists():
                _write_text(self.root / text_path, text)
                if record_id not in self.new_ids:
                    self.result.rewritten_texts += 1
            if old.get(record_id) == (text_path, sha, fields):  # the same path means the same version
                if old_seen[record_id] != seen:  # (not in its line: corpus.jsonl stays as it is)
                    db.execute("UPDATE rows SET last_seen = ? WHERE record_id = ?", (seen, record_id))
                continue
            line = json.dumps({**fields, "text_path": text_path, "version": version}, ensure_ascii=False)
            db.execute(
                "INSERT OR REPLACE INTO rows (record_id, source, url, version, fetched_at, text_path, text_sha256,"
                " line, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record_id, source, url, version, fetched_at, text_path, sha, line, seen))
            self.changed_rows.add(record_id)
            if record_id in self.new_ids and record_id not in old:
                added += 1
        kept = {item[2] for item in made}
        for record_id, (text_path, sha, _) in old.items():
            self.changed_texts.add(sha)
            if record_id not in kept:
                db.execute("DELETE FROM rows WHERE record_id = ?", (record_id,))
                added -= 1
                self.changed_rows.discard(record_id)
                self._changed(old_fetched[record_id], record_id)
        if added > 0:
            self.result.new_rows[source] += added
            self.result.new_articles[source] += not old  # a URL with no row before: a new article
        self.stale_paths.update(set(old_paths) - new_paths)

    def _write_line(self, record_id: str) -> None:
        db = self.db
        found = db.execute("SELECT line, dup_cluster, dup_canonical FROM rows WHERE record_id = ?",
                           (record_id,)).fetchone()
        if found is None:
            return
        line, dup_cluster, dup_canonical = found
        row = {**json.loads(line), "dup_cluster": dup_cluster, "dup_canonical": bool(dup_canonical)}
        line = json.dumps({name: row[name] for name in ROW_FIELDS}, ensure_ascii=False)
        db.execute("UPDATE rows SET line = ? WHERE record_id = ?", (line, record_id))
        self._changed(row["fetched_at"], record_id)

    # -- near-duplicates -----------------------------------------------------------------------
    def _text_of(self, sha: str) -> str:
        if sha not in self.texts:
            (text_path,) = self.db.execute("SELECT text_path FROM rows WHERE text_sha256 = ? LIMIT 1", (sha,)).fetchone()
            self.texts[sha] = (self.root / text_path).read_bytes()
        return self.texts[sha].decode("utf-8")

    def _update_duplicates(self) -> None:
        """Index the batch's new texts, drop the texts no row holds any more, and redo the clusters they touch."""
        db = self.db
        redo: set[int] = set()  # components whose rows' cluster fields must be recomputed
        shingle_cache: dict[str, frozenset[int]] = {}

        def shingles_of(sha: str) -> frozenset[int]:
            if sha not in shingle_cache:
                shingle_cache[sha] = (shingles_of_ids(self.word_ids[sha]) if sha in self.word_ids
                                      else shingles(self._text_of(sha)))
            return shingle_cache[sha]

        added = []
        for sha in sorted(self.changed_texts):  # the texts no row holds go first: none is a candidate then
            used = db.execute("SELECT 1 FROM rows WHERE text_sha256 = ? LIMIT 1", (sha,)).fetchone() is not None
            known = db.execute("SELECT component FROM texts WHERE sha256 = ?", (sha,)).fetchone()
            if known and not used:
                redo.update(self._remove_text(sha, known[0]))
            elif used and not known:
                added.append(sha)
            elif known:
                redo.add(known[0])
        for sha in added:
            redo.add(self._add_text(sha, shingles_of))
        for component in redo:
            self._recluster(component, shingles_of)

    def _add_text(self, sha: str, shingles_of) -> int:
        """Index a new text, link it to the texts it copies or is copied by; its component's label."""
        db = self.db
        sketch = Sketch.of_shingles(shingles_of(sha))
        text = db.execute("INSERT INTO texts (sha256, sketch, component) VALUES (?, ?, 0)",
                          (sha, sketch.to_str())).lastrowid
        db.execute("UPDATE texts SET component = id WHERE id = ?", (text,))
        index_text(db, sha, self._text_of(sha))
        db.executemany("INSERT INTO search_rows VALUES (?, ?, ?, ?, ?, ?)", db.execute(_TEXT_ROWS, (sha,)).fetchall())
        if not sketch.size:  # nothing to compare: its rows stay on their own
            return text
        values = list(sketch.values)
        lookup = values
        if len(values) == SKETCH_SIZE:
            counts = {value: db.execute("SELECT COUNT(*) FROM (SELECT 1 FROM sketch_values WHERE value = ? LIMIT ?)",
                                        (value, HOT_VALUE_COUNTED)).fetchone()[0] for value in values}
            hottest = set(sorted(values, key=lambda value: (-counts[value], value))[:HOT_VALUES_SKIPPED])
            lookup = [value for value in values if value not in hottest]
        candidates: set[str] = set()
        for start in range(0, len(lookup), 500):
            chunk = lookup[start:start + 500]
            marks = ",".join("?" * len(chunk))
            candidates.update(other for (other,) in db.execute(
                f"SELECT DISTINCT text FROM sketch_values WHERE value IN ({marks})", chunk))
        db.executemany("INSERT OR IGNORE INTO sketch_values (value, text) VALUES (?, ?)",
                       [(value, text) for value in values])
        component = text
        for other in sorted(candidates - {text}):
            other_sha, other_sketch, other_component = db.execute(
                "SELECT sha256, sketch, component FROM texts WHERE id = ?", (other,)).fetchone()
            if not maybe_copies(sketch, Sketch.from_str(other_sketch)):
                continue
            if not are_copies(shingles_of(sha), shingles_of(other_sha)):
                continue
            db.execute("INSERT OR IGNORE INTO copies (a, b) VALUES (?, ?)", (min(text, other), max(text, other)))
            if other_component != component:
                db.execute("UPDATE texts SET component = ? WHERE component = ?", (other_component, component))
                component = other_component
        return component

    def _remove_text(self, sha: str, component: int) -> set[int]:
        """Forget a text no row holds; the component it leaves may fall apart: the labels of the parts."""
        db = self.db
        text, sketch = db.execute("SELECT id, sketch FROM texts WHERE sha256 = ?", (sha,)).fetchone()
        db.execute("DELETE FROM texts WHERE id = ?", (text,))
        unindex_text(db, sha)
        db.executemany("DELETE FROM sketch_values WHERE value = ? AND text = ?",
                       [(value, text) for value in Sketch.from_str(sketch).values])
        db.execute("DELETE FROM copies WHERE a = ? OR b = ?", (text, text))
        members = [member for (member,) in db.execute("SELECT id FROM texts WHERE component = ?", (component,))]
        parts: set[int] = set()
        left = set(members)
        while left:
            start = min(left)
            group, frontier = {start}, [start]
            while frontier:
                node = frontier.pop()
                for (neighbour,) in db.execute(
                        "SELECT b FROM copies WHERE a = ? UNION SELECT a FROM copies WHERE b = ?", (node, node)):
                    if neighbour in left and neighbour not in group:
                        group.add(neighbour)
                        frontier.append(neighbour)
            left -= group
            db.executemany("UPDATE texts SET component = ? WHERE id = ?", [(start, member) for member in group])
            parts.add(start)
        return parts

    def _recluster(self, component: int, shingles_of) -> None:
        """``dup_cluster``/``dup_canonical`` of the rows of one component's texts, from the whole component."""
        db = self.db
        members = db.execute("SELECT sha256, sketch FROM texts WHERE component = ?", (component,)).fetchall()
        if not members:
            return
        by_text: dict[str, list[dict]] = {}
        for sha, _ in members:
            by_text[sha] = [
                {"record_id": record_id, "source": source, "url": url, "fetched_at": fetched_at,
                 "dup_cluster": cluster, "dup_canonical": canonical}
                for record_id, source, url, fetched_at, cluster, canonical in db.execute(
                    "SELECT record_id, source, url, fetched_at, dup_cluster, dup_canonical FROM rows"
                    " WHERE text_sha256 = ?", (sha,))]
        assigned: dict[str, tuple[str, bool]] = {}
        if len(members) == 1 and Sketch.from_str(members[0][1]).size == 0:
            for row in by_text[members[0][0]]:  # a text without words: each capture on its own
                assigned[row["record_id"]] = (cluster_id(row), True)
        else:
            rows = [row for group in by_text.values() for row in group]
            first = min(rows, key=capture_order)
            texts = [(shingles_of(sha) if len(by_text) > 1 else frozenset(), group) for sha, group in by_text.items()]
            best = canonical_row(texts)
            for row in rows:
                assigned[row["record_id"]] = (cluster_id(first), row is best)
        for group in by_text.values():
            for row in group:
                cluster, canonical = assigned[row["record_id"]]
                if (row["dup_cluster"], row["dup_canonical"]) != (cluster, int(canonical)):
                    db.execute("UPDATE rows SET dup_cluster = ?, dup_canonical = ? WHERE record_id = ?",
                               (cluster, int(canonical), row["record_id"]))
                    self.changed_rows.add(row["record_id"])
