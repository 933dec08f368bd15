"""The browser's web app (Starlette): search, articles, sources and runs as server-rendered pages.

Handlers are plain functions (Starlette runs them in its thread pool), each with its own
read-only connection to the store: SQLite is synchronous, and a connection per request keeps
threads apart.  Nothing is loaded from elsewhere: styles are inline and plots are inline SVG.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from browse import corpus_view, plots
from browse.corpus_view import BadQuery, Filters
from browse.report import HISTORY, TEMPLATES, render_run_report
from archive.replay import timestamp14
from corpus.derive import storage_error
from corpus.store import STORE_FILE
from crawler.run_reports import RUNS_DIR, last_runs, newest_reports, read_report, sources_with_runs

RUNS_LISTED = 200
MAX_LIMIT = 500
_RUN_ID = re.compile(r"\d{8}T\d{6}\.\d{3}Z")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CSV_FIELDS = ("id", "source", "url", "version", "fetched_at", "last_seen", "title", "author", "date", "language",
               "dup_cluster", "dup_canonical", "versions", "copy_of_another")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell no spreadsheet runs as a formula: text beginning with one of ``= + - @``, a tab or a
    carriage return gets a ``'`` before it, as OWASP advises against CSV injection."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def create_app(archive_dir: Path, replay_base: str | None, configured: Sequence[str] = ()) -> Starlette:
    """The app over ``archive_dir``; article pages link to ``replay_base`` (pywb's collection URL) if given.
    The sources ``configured``, and those with runs, have pages (and are in the navigation) without articles."""
    archive_dir = Path(archive_dir)

    def page(name: str, status: int = 200, **context: object) -> HTMLResponse:
        with corpus_view.connect(archive_dir) as db:
            names = sorted({*corpus_view.source_names(db), *configured, *sources_with_runs(archive_dir)})
        return HTMLResponse(TEMPLATES.get_template(name).render(nav=True, sources=names, **context),
                            status_code=status)

    def not_found(message: str) -> HTMLResponse:
        return page("message.html", 404, heading="Not found", message=message)

    def search(request: Request) -> Response:
        filters = Filters.from_params(dict(request.query_params))
        output = request.query_params.get("format", "html")
        try:
            number = int(request.query_params.get("p", "1"))
            limit = int(request.query_params.get("limit", corpus_view.PAGE_SIZE))
            if number < 1 or not 1 <= limit <= MAX_LIMIT:
                raise ValueError
        except ValueError:
            return Response(f"p must be a page number and limit 1 to {MAX_LIMIT}\n", 400, media_type="text/plain")
        error, result = "", None
        with corpus_view.connect(archive_dir) as db:
            try:
                result = corpus_view.search(db, filters, limit, (number - 1) * limit)
            except BadQuery as problem:
                error = str(problem)
        if output in ("json", "csv"):
            if error:
                return Response(error + "\n", 400, media_type="text/plain")
            if output == "json":
                capped = {"capped": True} if result.capped else {}  # more than total match
                cut_short = {"cut_short": True} if result.cut_short else {}  # older articles unlisted
                return JSONResponse({"total": result.total, **capped, **cut_short, "hits": result.hits,
                                     "note": result.syntax_note})
            out = io.StringIO()
            writer = csv.DictWriter(out, _CSV_FIELDS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows({name: spreadsheet_safe(value) for name, value in hit.items()} for hit in result.hits)
            return Response(out.getvalue(), media_type="text/csv; charset=utf-8")

        def link(**changes: str) -> str:  # (a page size asked for stays: page numbers count in it)
            size = {"limit": str(limit)} if limit != corpus_view.PAGE_SIZE else {}
            return "/?" + urlencode({**filters.params(**changes), **size})

        def export_url(kind: str) -> str:
            return "/?" + urlencode({**filters.params(), "format": kind, "limit": str(MAX_LIMIT)})

        return page("search.html", 400 if error else 200, filters=filters, result=result, error=error,
                    page=number, page_size=limit, link=link, export_url=export_url,
                    counted_among=corpus_view.MATCHES_COUNTED)

    def article(request: Request) -> Response:
        article_id = request.path_params["article_id"]
        with corpus_view.connect(archive_dir) as db:
            found = corpus_view.article(db, archive_dir, article_id)
        if found is None:
            return not_found(f"No article has the id {article_id}.")
        row = found["row"]
        replay_url = f"{replay_base}/{timestamp14(row['fetched_at'])}/{row['url']}" if replay_base else None
        return page("article.html", article=found, replay_url=replay_url)

    def source(request: Request) -> Response:
        name = request.path_params["name"]
        runs = list(reversed(last_runs(archive_dir, [name], 30)[0].get(name, [])))
        with corpus_view.connect(archive_dir) as db:
            summary = corpus_view.source_summary(db, name)
            if summary is None and not runs and name not in configured:
                return not_found(f"No source named {name} is configured, has run or has articles.")
            days, undated = corpus_view.articles_per_day(db, name)
        return page("source.html", source_name=name, source=summary, per_day_plot=plots.articles_per_day(days),
                    undated=undated, runs=runs, runs_plot=plots.run_history(runs),
                    run_link=lambda run: f"/runs/{run}.html")

    def runs(request: Request) -> Response:
        before = request.query_params.get("before")
        if before is not None and not _RUN_ID.fullmatch(before):
            return Response(f"before: {before!r} is not a run id like 20261120T101500.000Z\n", 400,
                            media_type="text/plain")
        listed = newest_reports(archive_dir, RUNS_LISTED + 1, before)  # (one more: are there older ones?)
        older = listed[RUNS_LISTED - 1].get("run") if len(listed) > RUNS_LISTED else None
        return page("runs.html", runs=listed[:RUNS_LISTED], older=older)

    def run(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        path = archive_dir / RUNS_DIR / f"{run_id}.json"
        if not _RUN_ID.fullmatch(run_id) or not path.exists():
            return not_found(f"No run has the id {run_id}.")
        written = path.with_suffix(".html")
        if written.exists():
            return FileResponse(written, media_type="text/html; charset=utf-8")
        # a run from before reports had HTML: drawn now, from its JSON
        report = read_report(path)
        if report is None:
            return not_found(f"The report of run {run_id} cannot be read.")
        history = last_runs(archive_dir, [entry["name"] for entry in report["sources"]], HISTORY, run_id)[0]
        return HTMLResponse(render_run_report(report, history))

    def store_unreadable(request: Request, exc: Exception) -> HTMLResponse:
        """The corpus store gone or unreadable while the browser runs (moved away, a disk error, damage): every
        page says so in one line, not a server error with a traceback, and serves again once it is back.  Other
        errors (a constraint, a statement's) are no fault of the store: they stay server errors."""
        if type(exc) not in (sqlite3.DatabaseError, sqlite3.OperationalError):
            raise exc
        store = archive_dir / STORE_FILE
        if not store.exists():
            message = f"The corpus store {store} is gone: `newsarchive derive` makes it again from the WARCs."
        elif isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            message = storage_error(archive_dir, exc)
        else:
            message = f"The corpus store {store} cannot be read ({exc}); `newsarchive check` says why."
        return HTMLResponse(TEMPLATES.get_template("message.html").render(
            nav=False, heading="The corpus cannot be read", message=message), status_code=503)

    return Starlette(exception_handlers={sqlite3.DatabaseError: store_unreadable}, routes=[
        Route("/", search),
        Route("/article/{article_id}", article),
        Route("/source/{name}", source),
        Route("/runs", runs),
        Route("/runs/{run_id}.html", run),
    ])
