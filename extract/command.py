"""`newsarchive extract FILE...`: the clean text of saved pages, for a reader or a script."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from pathlib import Path

import mimesniff
from lxml import etree

from extract import Document, extract_document, remove_site_boilerplate
from extract.htmlinput import MAX_PAGE_BYTES

DESCRIPTION = """\
Print the clean text of saved pages: the headline, a blank line, then the paragraphs (one file),
or one JSON object per file (several files, or --jsonl).

A single page lacks what the archive has: its site's other articles. The archive's text files
leave out the site's template, the paragraphs that recur on the site's articles (a standing
disclaimer, a subscription banner, a "follow us" line), which one page cannot always tell from its
article: alone, it loses only share and follow widgets and a short note set apart at the end of
its body, by their structure. Pass --site DIR with other saved pages of the same site (or the
directory holding the files given) to learn that template across them; it needs two or more
distinct articles.
Pages that are no article (a section, tag, author, search or home page) print nothing and say
why on stderr."""


SNIFFED_BYTES = 1445  # what a browser reads to sniff a type (the MIME Sniffing Standard)
_IMPLIED = {"html", "head", "body"}  # the elements an HTML parser makes around any text


def not_a_page(head: bytes) -> str | None:
    """What a file that begins with ``head`` seems to be when it is no saved HTML page (a CDX index, a PDF, an image,
    JSON), or None: sniffed as a browser does, and a text a browser takes as plain is a page if it holds HTML markup
    (a page that begins ``<meta charset>`` or a byte order mark is sniffed as plain)."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    kind = mimesniff.what(head[:SNIFFED_BYTES]).split(";", 1)[0]
    if kind in ("text/html", "text/xml") or not head:
        return None
    if kind != "text/plain":
        return kind
    root = etree.fromstring(head, etree.HTMLParser())
    if root is not None and any(isinstance(node.tag, str) and node.tag not in _IMPLIED for node in root.iter()):
        return None
    return f"text with no HTML markup: it begins {head[:24]!r}"


def _not_a_page_file(path: str) -> str | None:
    """``not_a_page`` of a file's first bytes (gunzipped); None if it cannot be read (the caller says so)."""
    from archive.reader import file_head

    try:
        with open(path, "rb") as stream:
            return not_a_page(file_head(stream))
    except OSError:
        return None


def _not_a_page_line(path: str | Path, what: str) -> str:
    return f"newsarchive extract: {path}: not a saved page or a web archive ({what})"


class PageTooLarge(Exception):
    """A saved page larger than any the crawler archives, once decompressed: not read further."""


def _read(path: Path) -> bytes:
    """The page's bytes, decompressed as a stream and never past MAX_PAGE_BYTES (a gzip bomb stops there)."""
    with path.open("rb") as raw, (gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw) as page:
        data = page.read(MAX_PAGE_BYTES + 1)
    if len(data) > MAX_PAGE_BYTES:
        raise PageTooLarge(("too large when decompressed" if path.name.endswith(".gz") else "too large")
                           + f" (over {MAX_PAGE_BYTES >> 20} MB)")
    return data


def site_pages(directory: Path) -> list[Path]:
    """The saved pages of a site directory, in name order."""
    return sorted(p for p in directory.iterdir() if p.name.endswith((".html", ".htm", ".html.gz", ".htm.gz")))


def _extract_files(paths: list[Path], url: str | None) -> tuple[dict[Path, Document], int]:
    """Each readable file's Document; an unreadable file is reported on stderr (status 1)."""
    docs, status = {}, 0
    for path in paths:
        try:
            data = _read(path)
            if what := not_a_page(data):
                print(_not_a_page_line(path, what), file=sys.stderr)
                status = 1
                continue
            docs[path] = extract_document(data, url)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            from archive.inputs import not_an_archive_file

            why = not_an_archive_file(path) or f"{path}: cannot read it: {getattr(exc, 'strerror', None) or exc}"
            print(f"newsarchive extract: {why}", file=sys.stderr)  # (not errno's "[Errno 2] ... 'nothere.html'")
            status = 1
        except PageTooLarge as exc:
            print(f"newsarchive extract: {path}: {exc}", file=sys.stderr)
            status = 1
    return docs, status


def run_extract_command(files: list[str], url: str | None = None, jsonl: bool = False, site: str | None = None) -> int:
    """One file: its seed-format text. Several files or jsonl: one JSON object per line.
    With ``site``, the site's template is learnt across its pages and the files and removed.
    An unreadable file is reported on stderr and the others still run; the exit status is then 1."""
    paths = [Path(f) for f in files]
    learn_from = list(dict.fromkeys(paths + (site_pages(Path(site)) if site else [])))
    docs, status = _extract_files(learn_from, url)
    if site:
        docs = dict(zip(docs, remove_site_boilerplate(list(docs.values()))))
    shown = [p for p in paths or learn_from if p in docs]
    as_lines = jsonl or len(paths) != 1
    for path in shown:
        doc = docs[path]
        if doc.error:
            print(f"newsarchive extract: {path}: {doc.error}", file=sys.stderr)
        if as_lines:
            record = {"file": str(path), "title": doc.title if not doc.is_empty else None, "text": doc.text()}
            record.update({k: v for k, v in doc.to_dict().items() if k not in ("title", "paragraphs")})
            print(json.dumps(record, ensure_ascii=False))
        else:
            sys.stdout.write(doc.text())
    return status


def run_extract_archives(files: list[str], url: str | None = None, workers: int = 2) -> int:
    """Each article page of web archives (WARC, ARC, WACZ) as one JSON object per line, the text with it.

    The pages are derived as a rebuild derives them (site boilerplate removed, duplicates
    clustered), into a scratch corpus; stderr gets one line per WARC file saying what was
    found.  Saved pages and archives are not mixed in one call, and ``url`` has no meaning
    here: each record names its own.  Exit status 2 for either, 1 if a file could not be read.
    """
    import shutil
    import tempfile

    from archive.inputs import is_web_archive
    from corpus.export import export_jsonl
    from corpus.rebuild import RebuildError, rebuild
    from corpus.store import CorpusStore

    others = {path: what for path in files if not is_web_archive(path) and (what := _not_a_page_file(path))}
    pages = [path for path in files if not is_web_archive(path) and path not in others]
    if pages or url:
        print("newsarchive extract: " + (f"{pages[0]} is a saved page, the others web archives; extract them apart"
                                         if pages else "--url is for saved pages: an archive's records name their URLs"),
              file=sys.stderr)
        return 2
    for path, what in others.items():
        print(_not_a_page_line(path, what), file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="newsarchive-extract-") as scratch:
        corpus = Path(scratch) / "corpus"
        try:
            report = rebuild([Path(path) for path in files if path not in others], corpus, workers)
        except RebuildError as exc:
            print(f"newsarchive extract: {exc}", file=sys.stderr)
            return 2
        for line in report.lines():
            print(line, file=sys.stderr)
        with CorpusStore(corpus) as store:
            export_jsonl(store, Path(scratch) / "rows.jsonl")
        sys.stdout.flush()
        with open(Path(scratch) / "rows.jsonl", "rb") as rows:
            shutil.copyfileobj(rows, sys.stdout.buffer)
    return 1 if report.file_errors() or others else 0


def add_extract_parser(commands: argparse._SubParsersAction) -> None:
    """The `extract` subcommand's arguments, kept beside the code that runs it."""
    parser = commands.add_parser(
        "extract", help="print the clean text of saved HTML files, or a web archive's articles", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help=".html or .html.gz files (default: all of --site); or WARC, ARC, WACZ files "
                             "(JSON Lines, one article per line)")
    parser.add_argument("--url", default=None, help="the page's URL, for relative links and metadata")
    parser.add_argument("--jsonl", action="store_true", help="print one JSON object per file")
    parser.add_argument("--site", metavar="DIR", default=None,
                        help="saved pages of the same site: learn its template across them and the files")
    parser.set_defaults(handler=_cmd_extract)


def _cmd_extract(args: argparse.Namespace) -> int:
    if not args.files and not args.site:
        print("newsarchive extract: give FILE... or --site DIR", file=sys.stderr)
        return 2
    if args.site and not Path(args.site).is_dir():
        problem = "is not a directory" if Path(args.site).exists() else "no such directory"
        print(f"newsarchive extract: --site {args.site}: {problem}", file=sys.stderr)
        return 2
    if args.site and not args.files and not site_pages(Path(args.site)):
        print(f"newsarchive extract: --site {args.site}: holds no saved page (.html, .htm, .html.gz, .htm.gz)",
              file=sys.stderr)
        return 2
    if args.url is not None:
        from config import ConfigError, check_url

        try:
            check_url(args.url, "--url")
        except ConfigError as exc:
            print(f"newsarchive extract: {exc}", file=sys.stderr)
            return 2
    from archive.inputs import files_given, is_web_archive

    files, notes = files_given(args.files)
    for note in notes:
        print(f"newsarchive extract: {note}", file=sys.stderr)
    try:
        if any(is_web_archive(path) for path in files):
            import logging

            logging.getLogger("newsarchive.derive").setLevel(logging.CRITICAL)  # the per-file lines say it once
            return run_extract_archives(files, url=args.url)
        return run_extract_command(files, url=args.url, jsonl=args.jsonl, site=args.site)
    except BrokenPipeError:
        # The reader has had enough (`extract ARCHIVE | head -c 100`), as in cli's `status`: point stdout at
        # /dev/null, or the interpreter's own flush at exit fails on the closed pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
