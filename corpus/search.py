"""The corpus's full-text index (SQLite FTS5), kept in the store's own transactions.

One entry per distinct text (rows that share a text share its entry): the headline (the text's
first line) and the rest in two columns, so a hit in a headline can rank higher.  The store
calls ``index_text`` when it first holds a text and ``unindex_text`` when no row holds it any
more, inside the transaction of the batch that did it, so the index is current whenever a batch
commits and costs what the batch's new texts cost.  A store made before the index existed gets
it filled once, from its text files, the first time it is opened (``prepare_search``).

The FTS rowid is the id of ``search_texts``, an INTEGER PRIMARY KEY, so VACUUM cannot move it.

A prefix (``c*``) is read from prefix indexes of its first one to three characters (``prefix``): without
them FTS5 merges the entries of every word the prefix begins, a cost that grows with the corpus, not with
the page.  Chinese, Japanese and Korean are written without spaces between words, and unicode61 takes an
unspaced run as one token, so a word inside a sentence was never found: a zero-width space goes between
each two of their characters in the index and in a query (``cjk_apart``), each character a token, and a
word is the phrase of its characters, found wherever it stands.  Unigrams, not a second index of trigrams:
a one- or two-character word (most Chinese words) is found through the index, a trigram index finds none
under three; and each text stays in one index, in its own characters (the zero-width spaces are taken
out where it is shown; the tokenizer is told it parts tokens, so the index's schema says its content has
them).  An index whose schema is not the one here is made again from its own content once, on opening.

FTS5's ``snippet()`` and ``highlight()`` read a column whole and weigh each match against every
other: over a text of megabytes they take seconds a hit.  So a text longer than ``EXCERPT_BODY``
(or with a headline longer than ``EXCERPT_HEADLINE``) also has its excerpt, its headline and the
start of its body, indexed in ``search_excerpts`` under the same rowid, and the browser marks the
matches in that.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

logger = logging.getLogger("newsarchive.search")

EXCERPT_HEADLINE = 1_000  # characters
EXCERPT_BODY = 20_000
# the columns and tokenizer of the index (the browser marks a page's hits in a table of its own made alike)
FTS_COLUMNS = "(headline, body, tokenize = \"unicode61 remove_diacritics 2 separators '\u200b'\", prefix = '1 2 3')"
EXCERPTS_SCHEMA = f"CREATE VIRTUAL TABLE search_excerpts USING fts5{FTS_COLUMNS}"
INDEX_SCHEMA = f"CREATE VIRTUAL TABLE search USING fts5{FTS_COLUMNS}"
SEARCH_SCHEMA = (
    "CREATE TABLE search_texts (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE)",
    INDEX_SCHEMA,
    EXCERPTS_SCHEMA,
    # The browser lists a row's near-duplicates and filters by cluster.
    "CREATE INDEX IF NOT EXISTS rows_by_cluster ON rows (dup_cluster)",
)


# Han (with its extensions and compatibility forms), kana, Hangul syllables: scripts written without spaces
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff"
_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])(?=[{_CJK}])")
_CJK_CHARACTER = re.compile(f"[{_CJK}]")
APART = "\u200b"  # a zero-width space: no letter (unicode61 parts tokens there), and unseen if shown


def cjk_apart(text: str) -> str:
    """``text`` with each character of a Chinese, Japanese or Korean run a token of its own (see above)."""
    return _BETWEEN_CJK.sub(APART, text)


def has_cjk(text: str) -> bool:
    """Whether ``text`` has a Chinese, Japanese or Korean character: each is a token of the index alone."""
    return _CJK_CHARACTER.search(text) is not None


def split_text(text: str) -> tuple[str, str]:
    """A text file's headline (first line) and the rest."""
    headline, _, body = text.partition("\n")
    return headline, body.strip("\n")


def _start(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text``, cut after a word if it is longer."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit + 1)
    return text[:cut if cut > 0 else limit]


def _index_excerpt(db: sqlite3.Connection, rowid: int, headline: str, body: str) -> None:
    """Index the excerpt of a text too long to mark its matches in whole (none for a shorter one)."""
    if len(headline) > EXCERPT_HEADLINE or len(body) > EXCERPT_BODY:
        db.execute("INSERT INTO search_excerpts (rowid, headline, body) VALUES (?, ?, ?)",
                   (rowid, _start(headline, EXCERPT_HEADLINE), _start(body, EXCERPT_BODY)))


def index_text(db: sqlite3.Connection, sha256: str, text: str) -> None:
    """Add a text the store now holds to the index."""
    rowid = db.execute("INSERT INTO search_texts (sha256) VALUES (?)", (sha256,)).lastrowid
    headline, body = map(cjk_apart, split_text(text))
    db.execute("INSERT INTO search (rowid, headline, body) VALUES (?, ?, ?)", (rowid, headline, body))
    _index_excerpt(db, rowid, headline, body)


def unindex_text(db: sqlite3.Connection, sha256: str) -> None:
    """Drop a text no row holds any more from the index."""
    found = db.execute("SELECT id FROM search_texts WHERE sha256 = ?", (sha256,)).fetchone()
    if found:
        db.execute("DELETE FROM search WHERE rowid = ?", found)
        db.execute("DELETE FROM search_excerpts WHERE rowid = ?", found)
        db.execute("DELETE FROM search_texts WHERE id = ?", found)


def _search_tables(db: sqlite3.Connection) -> dict[str, str]:
    """The index's tables the store has, and how each was made."""
    return dict(db.execute("SELECT name, sql FROM sqlite_master WHERE name IN ('search', 'search_excerpts')"))


def _rebuild(db: sqlite3.Connection) -> None:
    """The index made again as ``INDEX_SCHEMA`` says, from its own content, without its excerpts."""
    texts = db.execute("SELECT COUNT(*) FROM search_texts").fetchone()[0]
    logger.warning("newsarchive: the search index of %d texts is made again, once, for prefix searches and for words"
                   " inside Chinese, Japanese and Korean sentences (stopped, the old index stays and the next"
                   " opening does it again)", texts)
    db.create_function("cjk_apart", 1, cjk_apart, deterministic=True)
    db.execute("DROP TABLE IF EXISTS search_excerpts")
    db.execute("ALTER TABLE search RENAME TO search_before")
    db.execute(INDEX_SCHEMA)
    db.execute("INSERT INTO search (rowid, headline, body)"
               " SELECT rowid, cjk_apart(headline), cjk_apart(body) FROM search_before")
    db.execute("DROP TABLE search_before")


def prepare_search(db: sqlite3.Connection, root: Path) -> None:
    """Create the index if the store has none yet, filled from the texts it holds, or make it again if it
    was made otherwise (from its content), or the excerpts if it has none yet, from the texts it indexes
    (once per store, in one transaction: a process stopped during it leaves the index as it was)."""
    made = _search_tables(db)
    if made == {"search": INDEX_SCHEMA, "search_excerpts": EXCERPTS_SCHEMA}:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        made = _search_tables(db)  # (another process may have made them meanwhile)
        if (made.get("search") not in (None, INDEX_SCHEMA)
                or made.get("search_excerpts") not in (None, EXCERPTS_SCHEMA)):
            _rebuild(db)
            made = _search_tables(db)
        if "search" not in made:
            db.execute("DROP TABLE IF EXISTS search_excerpts")  # of an index no longer there
            for statement in SEARCH_SCHEMA:
                db.execute(statement)
            held = db.execute("SELECT t.sha256, (SELECT text_path FROM rows WHERE text_sha256 = t.sha256 LIMIT 1)"
                              " FROM texts t").fetchall()
            for sha256, text_path in held:
                index_text(db, sha256, (Path(root) / text_path).read_text(encoding="utf-8"))
        elif "search_excerpts" not in made:
            db.execute(EXCERPTS_SCHEMA)
            for rowid, headline, body in db.execute(
                    "SELECT rowid, headline, body FROM search WHERE length(headline) > ? OR length(body) > ?",
                    (EXCERPT_HEADLINE, EXCERPT_BODY)):
                _index_excerpt(db, rowid, headline, body)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
