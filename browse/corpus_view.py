"""What the browser reads from the corpus store: searches, articles, sources (read-only, beside a running derivation).

The store is in WAL mode, so a read-only connection sees the last committed batch and never
blocks the derivation writing the next one.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from urllib.parse import quote

from corpus.search import APART, FTS_COLUMNS, cjk_apart, has_cjk
from corpus.store import AUTHOR_OF, DAY_OF, LANGUAGE_OF, STORE_FILE

PAGE_SIZE = 20
SQLITE_MAX_INTEGER = 2**63 - 1  # a larger Python int is an OverflowError as an SQL parameter
LEAD_CHARACTERS = 200  # of an article's text, listed without a query
# A search, or a listing filtered by more than source and language, counts, facets and (a search)
# ranks its newest this many matches, not every one: a page costs the same in any size of corpus.
# Each article (source and URL) is a hit once, its newest matching version; a listing's page looks for
# its articles among its rows and at most this many older versions of them (a live page refetched for
# years would otherwise have its page read each of its thousands of versions to skip them).
MATCHES_COUNTED = 1000
FACET_VALUES = 20
COPIES_LISTED = 50  # of an article's near-duplicates on its page; its cluster's listing pages through them all
VERSIONS_LISTED = 50  # of an article's versions on its page, those nearest it; a live page refetched for years has thousands
# A search's cost grows with its terms (runs of letters and digits) faster than their number, a prefix (c*) the
# most: it is looked up among every word of the index.  A query of more is refused (a 10 kB one took minutes).
MAX_TERMS, MAX_PREFIXES = 32, 8
_TERM = re.compile(r"\w+(\*?)")
# A query's phrases, each looked up alone to see what ranking it costs: a quoted string, or a run of letters and
# digits (those of Chinese, Japanese and Korean parted by ``APART``), with the "*" of a prefix; a column's name
# before its ":" is caught as such.
_PHRASE = re.compile(rf'"(?:[^"]|"")*"\*?|[\w{APART}]+\*?(\s*:)?')
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}
# A part of a name matching at most this many authors reads their rows through the index by author; more (a
# common part: their rows are many, so the newest of them come soon) are looked for in the rows newest first.
AUTHORS_LOOKED_UP = 50
# Tokens of a hit's snippet: 32 words are about 190 characters; a Chinese, Japanese or Korean character is a token
# of its own and about two Latin letters wide, so a query in those scripts has 96 (about 100 characters with their
# punctuation), a snippet as wide on the page rather than 32 characters.
SNIPPET_TOKENS, CJK_SNIPPET_TOKENS = 32, 96
# Private-use characters mark the matches in FTS5 snippets, so the text can be escaped before <mark> goes in.
_OPEN, _CLOSE = "\ue000", "\ue001"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Control characters are no words (and FTS5 reads a NUL as the query's end): query text holding one is
# read as plain words, parted by them as by white space.
_CONTROL = "\x00-\x1f\x7f-\x9f"
_NOT_WORDS = re.compile(rf"[\s{_CONTROL}]+")


class BadQuery(ValueError):
    """A filter value the browser cannot use; the message is shown as it is."""


@contextmanager
def connect(archive_dir: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the archive's corpus store, closed on leaving."""
    path = Path(archive_dir).resolve() / STORE_FILE
    db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)
    try:
        yield db
    finally:
        db.close()


def page_id(record_id: str) -> str:
    """A row's id in URLs: its WARC-Record-ID without ``<urn:uuid:`` and ``>``."""
    return record_id.strip("<>").removeprefix("urn:uuid:")


def marked(fragment: str) -> str:
    """An FTS5 snippet as HTML on one line: the text escaped, the matches in <mark>, without the index's
    zero-width spaces between Chinese, Japanese and Korean characters."""
    return html.escape(" ".join(fragment.replace(APART, "").split())).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


@dataclass(frozen=True)
class Filters:
    """A search: FTS5 query text and the row filters, as given in the URL (strings, empty = any)."""

    q: str = ""
    source: str = ""
    date_from: str = ""  # publication date, YYYY-MM-DD, inclusive
    date_to: str = ""
    author: str = ""  # a part of the author field, any case
    language: str = ""
    cluster: str = ""
    version: str = ""

    @classmethod
    def from_params(cls, params: dict[str, str]) -> Filters:
        return cls(**{f.name: params.get(f.name, "").strip() for f in fields(cls)})

    def params(self, **changes: str) -> dict[str, str]:
        """The non-empty filters, with ``changes``, for building links."""
        values = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        return {name: value for name, value in values.items() if value}

    def where(self, db: sqlite3.Connection, row: str = "r") -> tuple[list[str], list[object]]:
        """SQL conditions on ``rows {row}`` and their parameters."""
        conditions, values = [], []
        for name, column in (("source", f"{row}.source"), ("cluster", f"{row}.dup_cluster"),
                             ("language", LANGUAGE_OF.format(f"{row}.line"))):
            if getattr(self, name):
                conditions.append(f"{column} = ?")
                values.append(getattr(self, name))
        for name, operator in (("date_from", ">="), ("date_to", "<=")):
            value = getattr(self, name)
            if value:
                if not is_day(value):
                    raise BadQuery(f"{name.replace('_', ' ')}: {value!r} is not a date like 2026-11-20")
                conditions.append(f"{DAY_OF.format(f'{row}.line')} {operator} ?")
                values.append(value)
        if self.author:
            part = "%" + re.sub(r"([%_\\])", r"\\\1", self.author) + "%"
            names = [name for (name,) in db.execute("SELECT author FROM author_rows WHERE author LIKE ? ESCAPE '\\'"
                                                    " LIMIT ?", (part, AUTHORS_LOOKED_UP + 1))]
            if len(names) <= AUTHORS_LOOKED_UP:
                conditions.append(f"{AUTHOR_OF.format(f'{row}.line')} IN ({','.join('?' * len(names))})")
                values.extend(names)
            else:
                conditions.append(f"{AUTHOR_OF.format(f'{row}.line')} LIKE ? ESCAPE '\\'")
                values.append(part)
        if self.version:
            if not (self.version.isascii() and self.version.isdigit()):
                raise BadQuery(f"version: {self.version!r} is not a number")
            conditions.append(f"{row}.version = ?")
            values.append(min(int(self.version), SQLITE_MAX_INTEGER))  # past SQLite's integers: no row has it
        return conditions, values

    def counted(self) -> bool:
        """Whether the store's row counts (per source and language) answer how many rows match."""
        return not any(getattr(self, name) for name in ("q", "date_from", "date_to", "author", "cluster", "version"))


def is_day(text: str) -> bool:
    """Whether ``text`` is a calendar day written YYYY-MM-DD (2026-02-30 is none)."""
    if not _DAY.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def plain_words(text: str) -> list[str]:
    """The words of query text read as plain words: control characters part them as white space does."""
    return [word for word in _NOT_WORDS.split(text) if word]


def fts_query(text: str) -> str:
    """User words as an FTS5 query that cannot be a syntax error: each word a quoted term, all required."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in plain_words(text))


_ROW_COLUMNS = ("r.record_id, r.source, r.url, r.version, r.fetched_at, r.last_seen, r.line, r.dup_cluster,"
                " r.dup_canonical")


def _newest_version_of_each(matches: list[tuple]) -> list[tuple]:
    """Of matches (source, language, url, version, ...), each article's (source and URL) newest version's, in the
    order of the article's first match."""
    newest: dict[tuple[str, str], tuple] = {}
    for match in matches:
        article = match[0], match[2]
        if article not in newest or match[3] > newest[article][3]:
            newest[article] = match
    return list(newest.values())


def _listed(db: sqlite3.Connection, hit: dict) -> dict:
    """A hit as a search lists it: with its article's versions (the latest's number), and whether it is a copy
    of another article, its near-duplicate cluster's canonical row being of another URL (not a version of its own)."""
    (versions,) = db.execute("SELECT max(version) FROM rows WHERE source = ? AND url = ?",
                             (hit["source"], hit["url"])).fetchone()
    return hit | {"versions": versions, "copy_of_another": not hit["dup_canonical"] and _canonical_elsewhere(db, hit)}


def _canonical_elsewhere(db: sqlite3.Connection, hit: dict) -> bool:
    """Whether the canonical row of ``hit``'s cluster is of another URL, read from the index of canonical rows (the
    store makes it on opening, as ``browse`` does first): the cluster's own index reads every copy, 5,000 at times."""
    canonical = db.execute("SELECT source, url FROM rows INDEXED BY rows_canonical_by_cluster"
                           " WHERE dup_cluster = ? AND dup_canonical = 1", (hit["dup_cluster"],)).fetchone()
    return canonical is not None and canonical != (hit["source"], hit["url"])


def _hit(found: tuple) -> dict:
    record_id, source, url, version, fetched_at, last_seen, line, cluster, canonical, *rest = found
    row = json.loads(line)
    hit = {"id": page_id(record_id), "record_id": record_id, "source": source, "url": url, "version": version,
           "fetched_at": fetched_at, "last_seen": last_seen, "title": row["title"], "author": row["author"],
           "date": row["date"], "language": row["language"], "dup_cluster": cluster, "dup_canonical": bool(canonical)}
    if rest:  # listed: the headline and a part of the text, matches marked
        headline, snippet = rest
        hit["headline_html"] = marked(headline)
        hit["snippet_html"] = marked(snippet)
    return hit


@dataclass
class SearchResult:
    total: int  # articles (each source and URL once)
    hits: list[dict]
    facets: dict[str, list[tuple[str, int]]]  # per facet name: (value, articles) most first
    syntax_note: str = ""  # set when the query was read as plain words
    more: bool = False  # a next page has hits
    capped: bool = False  # more rows match: the total and facets are of the newest ``MATCHES_COUNTED`` rows' articles
    cut_short: bool = False  # a listing ended with older articles unlisted, behind too many newer versions

    def pages(self, limit: int) -> int:
        """How many pages of ``limit`` hits the matches counted make (one, if none)."""
        return max(1, -(-self.total // limit))


def search(db: sqlite3.Connection, filters: Filters, limit: int = PAGE_SIZE, offset: int = 0) -> SearchResult:
    """Rows matching ``filters``: by relevance (a headline hit weighs 5 body hits) among the newest
    ``MATCHES_COUNTED`` matches with highlighted snippets, or, without query text, newest capture first
    with the start of their text.  The query text is FTS5 syntax (phrases, OR, NOT, prefix*); if it is
    not valid FTS5 its words are searched for instead."""
    conditions, values = filters.where(db)
    offset = min(offset, SQLITE_MAX_INTEGER)  # a page past SQLite's integers is as empty as any past the end
    if not filters.q:
        return _listing(db, filters, conditions, values, limit, offset)
    words = plain_words(filters.q)
    if not words:
        raise BadQuery(f"q: {filters.q!r} has no words to search for")
    terms = _TERM.findall(cjk_apart(filters.q))  # each "*" after a prefix, or "" (a CJK character is a term)
    if len(terms) > MAX_TERMS or terms.count("*") > MAX_PREFIXES:
        raise BadQuery(f"q: {len(terms)} words, {terms.count('*')} of them prefixes (c*): a search takes at most "
                       f"{MAX_TERMS} words and {MAX_PREFIXES} prefixes")
    if not re.search(f"[{_CONTROL}]", filters.q):
        try:
            return _match(db, cjk_apart(filters.q), conditions, values, limit, offset)
        except sqlite3.OperationalError:  # FTS5's parser says "syntax error", "unterminated string", "no such column" ...
            pass
    result = _match(db, cjk_apart(fts_query(filters.q)), conditions, values, limit, offset)
    result.syntax_note = f"“{' '.join(words)}” is not a search expression, so its words were searched for"
    return result


def _listing(db: sqlite3.Connection, filters: Filters, conditions: list[str], values: list[object],
             limit: int, offset: int) -> SearchResult:
    """Each article's newest version matching the filters, newest capture first, read from the index of the filter
    (no filter: of capture order) one page at a time; the total and facets from the row counts, or counted among
    the newest matches."""
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    window = min(offset + limit + 1 + MATCHES_COUNTED, SQLITE_MAX_INTEGER)
    articles, article_values = _newest_versions(db, filters, where, values, window)
    found = db.execute(
        f"SELECT {_ROW_COLUMNS}, search.headline, substr(search.body, 1, {LEAD_CHARACTERS}) || '…'"
        f" FROM ({articles} LIMIT ? OFFSET ?) r"
        " CROSS JOIN search_texts t ON t.sha256 = r.text_sha256 CROSS JOIN search ON search.rowid = t.id"
        " ORDER BY r.fetched_at DESC, r.record_id",
        [*article_values, limit + 1, offset]).fetchall()  # the page, then its texts
    hits = [_listed(db, _hit(row)) for row in found[:limit]]
    if filters.counted():
        result = SearchResult(_counted_articles(db, filters), hits, _counted_facets(db, filters),
                              more=len(found) > limit)
    else:
        newest = db.execute(f"SELECT r.source, {LANGUAGE_OF.format('r.line')}, r.url, r.version FROM rows r{where}"
                            " ORDER BY r.fetched_at DESC, r.record_id LIMIT ?",
                            [*values, MATCHES_COUNTED + 1]).fetchall()
        result = _counted_among(_newest_version_of_each(newest[:MATCHES_COUNTED]), hits, more=len(found) > limit,
                                capped=len(newest) > MATCHES_COUNTED)
        if result.capped and offset and not found:  # past the end: fewer match than were skipped, so they are counted
            (result.total,) = db.execute(f"SELECT count(*) FROM ({articles})", article_values).fetchone()
            result.capped = False
    result.cut_short = not result.more and db.execute(  # the last page, though rows lie past those it looked among
        f"SELECT 1 FROM rows r{where} ORDER BY r.fetched_at DESC, r.record_id LIMIT 1 OFFSET ?",
        [*values, window]).fetchone() is not None
    return result


def _newest_versions(db: sqlite3.Connection, filters: Filters, where: str, values: list[object],
                     rows: int) -> tuple[str, list[object]]:
    """A query of the rows among the newest ``rows`` matching the filters (``where`` and its ``values``) that no
    newer version of their URL matches (each article's newest matching version, newest capture first), and its
    parameters."""
    newer, newer_values = filters.where(db, "n")
    return (f"SELECT * FROM (SELECT * FROM rows r{where} ORDER BY r.fetched_at DESC, r.record_id LIMIT ?) r"
            " WHERE NOT EXISTS (SELECT 1 FROM rows n WHERE n.source = r.source AND n.url = r.url"
            " AND n.version > r.version" + "".join(f" AND {condition}" for condition in newer) + ")",
            [*values, rows, *newer_values])


def _counted_articles(db: sqlite3.Connection, filters: Filters) -> int:
    """Articles (their first versions, one per URL) matching a search filtered by source and language alone."""
    conditions, values = _count_conditions(filters)
    return db.execute(f"SELECT IFNULL(SUM(urls), 0) FROM row_counts{conditions}", values).fetchone()[0]


def _count_conditions(filters: Filters) -> tuple[str, list[str]]:
    """The WHERE clause on ``row_counts`` of a search filtered by source and language alone."""
    named = {column: getattr(filters, column) for column in ("source", "language") if getattr(filters, column)}
    return (" WHERE " + " AND ".join(f"{column} = ?" for column in named) if named else ""), list(named.values())


def _counted_facets(db: sqlite3.Connection, filters: Filters) -> dict[str, list[tuple[str, int]]]:
    """Articles per source and per language among the matches, from the store's row counts."""
    conditions, values = _count_conditions(filters)
    return {name: db.execute(f"SELECT {name} AS value, SUM(urls) AS n FROM row_counts{conditions}"
                             f" GROUP BY value ORDER BY n DESC, value LIMIT {FACET_VALUES}", values).fetchall()
            for name in ("source", "language")}


def _counted_among(articles: list[tuple], hits: list[dict], more: bool, capped: bool) -> SearchResult:
    """The total and facets of the (source, language, ...) of the articles of the newest matches."""
    facets = {name: sorted(Counter(article[index] for article in articles).items(),
                           key=lambda item: (-item[1], item[0]))[:FACET_VALUES]
              for index, name in enumerate(("source", "language"))}
    return SearchResult(len(articles), hits, facets, more=more, capped=capped)


def _match(db: sqlite3.Connection, query: str, conditions: list[str], values: list[object],
           limit: int, offset: int) -> SearchResult:
    """The articles of the newest ``MATCHES_COUNTED`` matches (by text, newest indexed first: FTS5 reads its index in
    that order and stops there), each its newest matching version, ranked here (``_ranks``), from the store's
    ``search_rows`` (in that order too: a search reads the few pages they are on) and the rows themselves only if
    filtered; snippets are cut for the page's hits alone."""
    source = ("FROM search CROSS JOIN search_rows s ON s.text_id = search.rowid"
              + (" CROSS JOIN rows r ON r.record_id = s.record_id" if conditions else "")
              + " WHERE search MATCH ?" + "".join(f" AND {c}" for c in conditions))
    newest = db.execute(f"SELECT s.source, s.language, s.url, s.version, search.rowid, s.record_id {source}"
                        " ORDER BY search.rowid DESC LIMIT ?", [query, *values, MATCHES_COUNTED + 1]).fetchall()
    counted = _newest_version_of_each(newest[:MATCHES_COUNTED])
    ranks = _ranks(db, query, {match[4] for match in counted})
    ranked = sorted(counted, key=lambda match: (ranks.get(match[4], (float("inf"),)), match[0], match[2], match[3]))
    page = [(text_id, record_id) for *_, text_id, record_id in ranked[offset:offset + limit]]
    shown = _marked_matches(db, query, [text_id for text_id, _ in page])
    hits = []
    for text_id, record_id in page:
        row = db.execute(f"SELECT {_ROW_COLUMNS} FROM search_texts t CROSS JOIN rows r ON r.text_sha256 = t.sha256"
                         " WHERE t.id = ? AND r.record_id = ?", (text_id, record_id)).fetchone()
        if row and text_id in shown:  # else a batch committed since dropped it
            hits.append(_listed(db, _hit((*row, *shown[text_id]))))
    return _counted_among(counted, hits, more=offset + limit < len(ranked), capped=len(newest) > MATCHES_COUNTED)


def _ranks(db: sqlite3.Connection, query: str, text_ids: set[int]) -> dict[int, tuple]:
    """Per text of ``text_ids`` that ``query`` matches, its rank (lower first): FTS5's bm25 (a headline's match weighs
    five) of the query or, if one of its phrases is found in more than ``MATCHES_COUNTED`` texts, of its rarer phrases
    alone, texts holding none of them after, newest first; with no rarer phrase, headline matches first, then newest.
    bm25 weighs each phrase by counting all its matches in the index, whatever rows are asked for (bm25 of `the w17`
    at 50,000 texts, ``rowid IN`` its 954 matches, read 4.6 GB: "the" counted again for each), and a phrase in many
    texts weighs little in it anyway."""
    oldest = min(text_ids, default=0)
    phrases = _phrases(query)
    rare = [phrase for phrase in phrases if not _matches_more_than_counted(db, phrase)]
    if len(rare) == len(phrases) and not _matches_more_than_counted(db, query):
        ranking, match = "bm25(search, 5.0, 1.0)", query
    elif rare:
        ranking, match = "bm25(search, 5.0, 1.0)", " OR ".join(rare)
    else:
        ranking, match = "0", f"headline : ({query})"
    try:
        scores = dict(db.execute(f"SELECT rowid, {ranking} FROM search WHERE search MATCH ? AND rowid >= ?",
                                 (match, oldest)))
    except sqlite3.OperationalError:  # a query of its own column filters in the headline's, say: the newest first
        scores = {}
    return {text_id: (text_id not in scores, scores.get(text_id, 0), -text_id) for text_id in text_ids}


def _matches_more_than_counted(db: sqlite3.Connection, query: str) -> bool:
    """Whether ``query`` matches more than ``MATCHES_COUNTED`` texts, read from its newest matches alone (FTS5's
    fts5vocab counts a word's texts by reading every one of its matches)."""
    return db.execute("SELECT count(*) FROM (SELECT 1 FROM search WHERE search MATCH ? ORDER BY rowid DESC LIMIT ?)",
                      (query, MATCHES_COUNTED + 1)).fetchone()[0] > MATCHES_COUNTED


def _phrases(query: str) -> list[str]:
    """The phrases of FTS5 query text, each a query of its own: its quoted strings and its other words (a prefix
    with its ``*``), without the operators AND, OR, NOT, NEAR and the column names before a ``:``."""
    phrases = []
    for found in _PHRASE.finditer(query):
        phrase = found.group()
        if phrase in _OPERATORS or found.group(1):
            continue
        if not phrase.startswith('"'):
            phrase = '"' + phrase.removesuffix("*") + '"' + "*" * phrase.endswith("*")
        phrases.append(phrase)
    return list(dict.fromkeys(phrases))


def _marked_matches(db: sqlite3.Connection, query: str, text_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Per text still indexed, its headline and a snippet of it, the matches of ``query`` marked; of a long
    text, cut from its excerpt (unmarked if its matches are all past it): FTS5 marks a text in a time that
    grows faster than its length.  The texts are marked in a temporary index of their own: matched in the
    store's, a prefix term (``c*``) is looked up among every text for each one, a page costing seconds."""
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.shown USING fts5{FTS_COLUMNS}")
    db.execute("DELETE FROM temp.shown")
    starts = {}
    for text_id in dict.fromkeys(text_ids):  # (hits may share a text)
        excerpt = db.execute("SELECT headline, body FROM search_excerpts WHERE rowid = ?", (text_id,)).fetchone()
        text = excerpt or db.execute("SELECT headline, body FROM search WHERE rowid = ?", (text_id,)).fetchone()
        if text:
            db.execute("INSERT INTO temp.shown (rowid, headline, body) VALUES (?, ?, ?)", (text_id, *text))
            starts[text_id] = (text[0], text[1][:LEAD_CHARACTERS] + "…")
    tokens = CJK_SNIPPET_TOKENS if has_cjk(query) else SNIPPET_TOKENS
    marked_texts = db.execute("SELECT rowid, highlight(shown, 0, ?, ?), snippet(shown, 1, ?, ?, '…', ?) FROM shown"
                              " WHERE shown MATCH ?", (_OPEN, _CLOSE, _OPEN, _CLOSE, tokens, query))
    return starts | {text_id: (headline, snippet) for text_id, headline, snippet in marked_texts}


def article(db: sqlite3.Connection, archive_dir: Path, article_id: str) -> dict | None:
    """One row with its text, its other versions and its near-duplicates; None if there is no such row."""
    found = db.execute(f"SELECT {_ROW_COLUMNS}, r.line, r.text_path FROM rows r WHERE r.record_id = ?",
                       (f"<urn:uuid:{article_id}>",)).fetchone()
    if found is None:
        return None
    row = json.loads(found[-2]) | {"last_seen": found[5]}  # (kept beside the line: it moves with each capture)
    try:
        text, text_missing = (Path(archive_dir) / found[-1]).read_text(encoding="utf-8"), None
    except FileNotFoundError:  # deleted: the page says so (and how to write it again) with what the store holds
        text, text_missing = row["title"] or "", "is missing"
    except (OSError, UnicodeDecodeError) as exc:  # a disk error, bytes changed: the same
        text, text_missing = row["title"] or "", f"cannot be read ({getattr(exc, 'strerror', None) or exc})"
    blocks = text.strip("\n").split("\n\n")
    first, latest = (_hit(db.execute(f"SELECT {_ROW_COLUMNS} FROM rows r WHERE r.source = ? AND r.url = ?"
                                     f" ORDER BY r.version {order} LIMIT 1", (row["source"], row["url"])).fetchone())
                     for order in ("", "DESC"))
    start = min(row["version"] - VERSIONS_LISTED // 2, latest["version"] - VERSIONS_LISTED + 1)  # (the latest: those before it)
    versions = [_hit(other) for other in db.execute(
        f"SELECT {_ROW_COLUMNS} FROM rows r WHERE r.source = ? AND r.url = ? AND r.version >= ?"
        " ORDER BY r.version LIMIT ?", (row["source"], row["url"], start, VERSIONS_LISTED))]
    copies = [_hit(other) for other in db.execute(
        f"SELECT {_ROW_COLUMNS} FROM rows r WHERE r.dup_cluster = ? AND r.record_id != ?"
        " ORDER BY r.dup_canonical DESC, r.source, r.url, r.version LIMIT ?",
        (row["dup_cluster"], row["warc_record_id"], COPIES_LISTED + 1))]
    headline = blocks[0] if row["title"] else None
    # pywb reads a replay link's time to the second and no link names one record (pywb 2.10): another capture of
    # the URL in the same second with other bytes may be the one it replays
    second = row["fetched_at"][:19]
    same_second = db.execute("SELECT COUNT(*) FROM captures WHERE source = ? AND url = ? AND fetched_at >= ?"
                             " AND fetched_at < ? AND payload_digest != ?",
                             (row["source"], row["url"], second, second + "~", row["payload_digest"])).fetchone()[0]
    return {"id": article_id, "row": row, "headline": headline, "text_missing": text_missing, "same_second": same_second,
            "paragraphs": [] if text_missing else blocks[1:] if headline is not None else blocks,
            "versions": versions, "first_version": first, "latest_version": latest,
            "more_versions": first["id"] != versions[0]["id"] or latest["id"] != versions[-1]["id"],
            "copies": copies[:COPIES_LISTED], "more_copies": len(copies) > COPIES_LISTED}


def source_names(db: sqlite3.Connection) -> list[str]:
    """The sources the corpus has articles from, read from the small per-site table (its key is
    ``corpus.store.site_of``: source, a space, host) rather than from every row."""
    return sorted({site.split(" ", 1)[0] for (site,) in db.execute("SELECT site FROM sites")})


def source_summary(db: sqlite3.Connection, name: str) -> dict | None:
    """A source's rows, distinct URLs (first versions) and latest capture, from the store's row counts
    and the source's index; None if it has no rows."""
    count, urls = db.execute("SELECT IFNULL(SUM(rows), 0), SUM(urls) FROM row_counts WHERE source = ?",
                             (name,)).fetchone()
    if not count:
        return None
    (latest,) = db.execute("SELECT MAX(fetched_at) FROM rows WHERE source = ?", (name,)).fetchone()
    return {"name": name, "rows": count, "urls": urls, "latest": latest}


def articles_per_day(db: sqlite3.Connection, source: str) -> tuple[list[tuple[date, int]], int]:
    """A source's articles (first versions) per publication day, and how many have no date."""
    days, undated = [], 0
    for day, count in db.execute("SELECT day, articles FROM source_days WHERE source = ? ORDER BY day", (source,)):
        if is_day(day):
            days.append((date.fromisoformat(day), count))
        else:
            undated += count
    return days, undated
