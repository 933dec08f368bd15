"""Plots as inline SVG drawn on the server by matplotlib: no script, and text stays text in the page's own font.

Figures are made with ``matplotlib.figure.Figure`` (no pyplot, so no global figure registry);
the style is set through ``rc_context``, which is global, hence the lock for a threaded server.
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from datetime import date, datetime, timedelta

import matplotlib
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

_STYLE = {
    "svg.fonttype": "none",  # text as <text>, not glyph outlines: smaller, selectable, the page's font
    "svg.hashsalt": "newsarchive",  # the same data gives the same SVG
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=["#33658a", "#c0392b", "#86bbd8"]),
}
_LOCK = threading.Lock()
MIN_SLOTS = 10  # bar places on a run plot's axis, whatever the number of runs


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # inline in HTML: no XML declaration or doctype


# The bars of articles_per_day: a day each over half a year, then a week, then a month, so that a
# source of many years draws a few hundred bars at most (one each day of ten years took a third of a second).
_BINS = ((183, "day", 0.8), (3 * 366, "week", 6), (None, "month", 27))


def _binned(days: list[tuple[date, int]]) -> tuple[list[tuple[date, int]], str, float]:
    """``days`` (oldest first) summed into bins of a day, a week or a month as their span needs; the bin's name
    and its bars' width in days."""
    span = (days[-1][0] - days[0][0]).days + 1
    _, unit, width = next(bin_ for bin_ in _BINS if bin_[0] is None or span <= bin_[0])
    if unit == "day":
        return days, unit, width
    bins: Counter[date] = Counter()
    for day, count in days:
        bins[day - timedelta(days=day.weekday()) if unit == "week" else day.replace(day=1)] += count
    return sorted(bins.items()), unit, width


def articles_per_day(days: list[tuple[date, int]]) -> str:
    """Bars of articles per publication day (per week or month over a long span); "" when there is nothing to draw."""
    if not days:
        return ""
    bins, unit, width = _binned(days)
    with _LOCK, matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(7, 2.2))
        axes = figure.add_subplot()
        axes.bar([day for day, _ in bins], [count for _, count in bins], width=width,
                 align="center" if unit == "day" else "edge")  # (a week or month bar starts on its first day)
        locator = AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel(f"articles a {unit}")
        return _svg(figure)


def run_history(runs: list[dict]) -> str:
    """Fetches and failures, and WARC megabytes written, per run (oldest first); "" without runs."""
    if not runs:
        return ""
    with _LOCK, matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(7, 3.4))
        counts, sizes = figure.subplots(2, 1, sharex=True)
        positions = range(len(runs))
        counts.bar([x - 0.2 for x in positions], [run["fetched"] for run in runs], 0.4, label="fetched")
        counts.bar([x + 0.2 for x in positions], [run["failed_fetches"] for run in runs], 0.4, label="failed",
                   color="#c0392b")
        counts.yaxis.set_major_locator(MaxNLocator(integer=True))
        counts.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1), ncols=2)
        counts.set_ylabel("fetches")
        scale, unit = (1e6, "MB") if max(run["bytes_written"] for run in runs) >= 1e6 else (1e3, "kB")
        sizes.bar(positions, [run["bytes_written"] / scale for run in runs], 0.6, color="#86bbd8")
        sizes.set_ylabel(f"WARC {unit}")
        sizes.set_xlim(-0.5, max(len(runs), MIN_SLOTS) - 0.5)  # a few runs are not drawn as wide slabs
        step = max(1, len(runs) // 8)
        sizes.set_xticks(list(positions)[::step],
                         [datetime.fromisoformat(run["started"]).strftime("%m-%d %H:%M") for run in runs][::step],
                         rotation=30, ha="right", rotation_mode="anchor")
        return _svg(figure)
