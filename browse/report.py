"""``runs/<id>.html``: the run report a person reads, beside the JSON one.

The same numbers per source, and plots of each source's last runs up to this one.  The file
stands alone (styles inline, plots inline SVG, links only to the other reports beside it), so
it can be opened from disk or mailed; ``newsarchive browse`` serves it too.
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2

from archive.atomic import write_atomic

TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("browse"), autoescape=True,
                               undefined=jinja2.StrictUndefined)
HISTORY = 20  # runs per source in a report's plots


def render_run_report(archive_dir: Path, report: dict) -> str:
    """The HTML of one run's report (``report`` as in its JSON)."""
    from browse import plots
    from status import last_runs  # status imports crawler.run, which imports this module

    history, _ = last_runs(archive_dir, HISTORY, until=report["run"])
    sources = []
    for entry in report["sources"]:
        runs = list(reversed(history.get(entry["name"], [])))
        sources.append({**entry, "history": runs, "plot": plots.run_history(runs)})
    return TEMPLATES.get_template("run.html").render(report=report, sources=sources, nav=False,
                                                     run_link=lambda run: f"{run}.html")


def write_run_html(json_path: Path) -> Path:
    """Write ``runs/<id>.html`` beside the run's JSON report, atomically."""
    report = json.loads(Path(json_path).read_text(encoding="utf-8"))
    out = Path(json_path).with_suffix(".html")
    write_atomic(out, render_run_report(Path(json_path).parent.parent, report).encode("utf-8"))
    return out
