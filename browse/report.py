"""``runs/<id>.html``: the run report a person reads, beside the JSON one.

The same numbers per source, and plots of each source's last runs up to this one.  The file
stands alone (styles inline, plots inline SVG, links only to the other reports beside it), so
it can be opened from disk or mailed; ``newsarchive browse`` serves it too.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from archive.atomic import write_atomic

TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("browse"), autoescape=True,
                               undefined=jinja2.StrictUndefined)
HISTORY = 20  # runs per source in a report's plots


def render_run_report(report: dict, history: dict[str, list[dict]]) -> str:
    """The HTML of one run's report (``report`` as in its JSON; ``history``: each source's last runs
    up to it, newest first, as ``crawler.run_reports.last_runs`` gives them)."""
    from browse import plots

    sources = []
    for entry in report["sources"]:
        runs = list(reversed(history.get(entry["name"], [])))
        sources.append({**entry, "history": runs, "plot": plots.run_history(runs)})
    return TEMPLATES.get_template("run.html").render(report=report, sources=sources, nav=False,
                                                     run_link=lambda run: f"{run}.html")


def write_run_html(json_path: Path, report: dict, history: dict[str, list[dict]]) -> Path:
    """Write ``runs/<id>.html`` beside the run's JSON report, atomically."""
    out = Path(json_path).with_suffix(".html")
    write_atomic(out, render_run_report(report, history).encode("utf-8"))
    return out
