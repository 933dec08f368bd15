"""``newsarchive demo``: the whole pipeline against the bundled demo sites, offline, in seconds.

The sites listen on fixed ports (``DEMO_PORT`` and the two after it), so the sources file a
demo writes crawls them again whenever ``newsarchive demo --serve`` has them up, and a second
demo into the same directory re-crawls the same URLs instead of archiving the articles again
under new ones.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from archive.lock import why_not_made
from corpus.counts import articles_held
from corpus.export import read_corpus
from config import ConfigError, load_config
from demo.site import CONTENT, DEMO_PORT, SITE_NAMES, DemoSite, PortInUse
from supervision import note_stop_requests

EXIT_OK, EXIT_CANNOT_SERVE, EXIT_USAGE = 0, 1, 2  # 1: as `newsarchive browse` on a port in use
_ROOT = Path(__file__).resolve().parent.parent

# Loopback servers need no politeness delay; everything else stays as in production.
DEMO_CRAWL = "\n[crawl]\ndownload_delay = 0\nautothrottle = false\n"
# The demo crawls twice within seconds: its articles are asked for again (with If-None-Match)
# on every run, so the second run shows a correction.  Real sites: hours, e.g. 24.
DEMO_REFETCH_HOURS = 0.0001


def write_demo_config(site: DemoSite, out: Path, refetch: bool = False) -> Path:
    """A sources file for the demo sites, archiving into ``out``; ``refetch``: articles asked for on every run."""
    options = {"refetch_after": DEMO_REFETCH_HOURS} if refetch else {}
    path = site.write_config(out / "sources.toml", out, source_options=options)
    with path.open("a", encoding="utf-8") as config:
        config.write(DEMO_CRAWL)
    return path


def change_sites(site: DemoSite) -> list[str]:
    """What the sites do between the demo's runs (``demo/content/recrawl.json``): one publishes, one corrects."""
    changes = json.loads((CONTENT / "recrawl.json").read_text(encoding="utf-8"))
    new, fix = changes["publish"], changes["correct"]
    return [f"  {new['site']} published {site.publish(new['site'], new['article'])}",
            f"  {fix['site']} corrected {site.correct(fix['site'], fix['slug'], fix['correction'], fix['modified'])}"]


def _start(port: int) -> DemoSite | None:
    try:
        return DemoSite(port=port).start()
    except PortInUse as exc:
        print(f"newsarchive: {exc} (is `newsarchive demo --serve` running? --port picks others)", file=sys.stderr)
        return None


def _directory(out: str) -> Path | None:
    """``out`` made if need be (and absolute: the runs start elsewhere), or None after one line saying why not."""
    path = Path(out).resolve()
    if problem := _someone_elses(path):
        print(f"newsarchive: --out: {path} {problem}; give a new or empty directory, or a demo's", file=sys.stderr)
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
        return path
    except OSError as exc:
        print(f"newsarchive: --out: cannot create {path}: {why_not_made(exc)}", file=sys.stderr)
        return None


def _someone_elses(path: Path) -> str | None:
    """What in ``path`` is not a demo's, so that writing the demo there would overwrite or mix with it
    (a sources file of one's own, other files); None for a new or empty directory, or a demo's output."""
    if not path.is_dir() or not any(path.iterdir()):
        return None
    config = path / "sources.toml"
    if not config.is_file():
        return "holds files and no demo's sources.toml"
    try:
        loaded = load_config(config)
    except ConfigError:
        return "holds a sources.toml that is not a demo's"
    if {source.name for source in loaded.sources} != set(SITE_NAMES) or loaded.archive.dir != path:
        return "holds a sources.toml that is not a demo's"
    return None


def _sites(site: DemoSite) -> None:
    for name, url in site.base_urls.items():
        print(f"  {name}: {url}", file=sys.stderr)


class _Runs:
    """``newsarchive run`` over the demo sources, each in its own process (Scrapy's reactor runs once per
    process), for a person at a terminal: Ctrl-C reaches the run from the terminal and stops it cleanly;
    a SIGTERM sent to the demo alone is passed on to it.  Either way no further run starts."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.stop = threading.Event()
        self._process: subprocess.Popen | None = None
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)

    def _stop(self, signum: int, frame: object) -> None:
        self.stop.set()
        if signum == signal.SIGTERM and self._process is not None:
            self._process.send_signal(signum)

    def run(self) -> int:
        """One run, unless a stop came first; its exit code."""
        if self.stop.is_set():
            return EXIT_OK
        print(f"$ newsarchive run --config {self.config} --progress", file=sys.stderr, flush=True)
        # From the project's directory: `-m cli` finds this checkout, and no module of the caller's
        # working directory shadows a library's.
        self._process = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(self.config),
                                          "--progress"], cwd=_ROOT)
        try:
            return self._process.wait()
        finally:
            self._process = None


def run_demo(out: str | None = None, port: int = DEMO_PORT) -> int:
    """Crawl the demo sites into ``out`` (default: a new directory), change them, and crawl them again."""
    site = _start(port)
    if site is None:
        return EXIT_CANNOT_SERVE
    try:
        out_dir = _directory(out) if out else Path(tempfile.mkdtemp(prefix="newsarchive-demo-"))
        if out_dir is None:
            return EXIT_USAGE
        config = write_demo_config(site, out_dir, refetch=True)
        runs = _Runs(config)
        print(f"demo: {len(site.base_urls)} news sites on 127.0.0.1, archiving into {out_dir}", file=sys.stderr)
        _sites(site)
        print("The herald and the courier link to a story they have withdrawn, as real sites do: each run warns "
              "that it cannot fetch it (HTTP 404) and counts a failed fetch for each.\n", file=sys.stderr)
        code = runs.run()
        if runs.stop.is_set():
            return code
        print("\nbetween the runs:", file=sys.stderr)
        for line in change_sites(site):
            print(line, file=sys.stderr)
        print("The second run asks for every page with If-None-Match/If-Modified-Since: what did not change "
              "answers 304 and is archived as a revisit; only the new story and the correction are extracted.\n",
              file=sys.stderr)
        code = runs.run()
    finally:
        site.stop()
    text_files = sorted((out_dir / "text").rglob("*.txt"))
    rows = read_corpus(out_dir)
    held = articles_held(sum(row["version"] == 1 for row in rows), len(rows))
    print(
        f"\n{held} in the corpus, {len(list((out_dir / 'warc').glob('*.warc.gz')))} "
        f"WARC files.\n"
        f"  WARCs:   {out_dir / 'warc'}\n"
        f"  text:    {out_dir / 'text'}" + (f"  (e.g. {text_files[0]})" if text_files else "") + "\n"
        f"  corpus:  {out_dir / 'corpus.jsonl'}\n"
        f"  browse:  newsarchive browse --config {config}\n"
        f"  again:   newsarchive demo --serve --port {port}   (keeps the demo sites up until Ctrl-C), then\n"
        f"           newsarchive run --config {config}",
    )
    return code


def serve_demo(out: str | None = None, port: int = DEMO_PORT) -> int:
    """Serve the demo sites, as a demo leaves them, until Ctrl-C or SIGTERM; with ``out``, write a sources file."""
    site = _start(port)
    if site is None:
        return EXIT_CANNOT_SERVE
    stop = note_stop_requests()
    try:
        out_dir = _directory(out) if out else None
        if out and out_dir is None:
            return EXIT_USAGE
        change_sites(site)
        print("demo: the demo news sites on 127.0.0.1, until Ctrl-C", file=sys.stderr)
        _sites(site)
        if out_dir:
            config = write_demo_config(site, out_dir, refetch=True)
            print(f"crawl them: newsarchive run --config {config}", file=sys.stderr, flush=True)
        else:
            print("crawl them: newsarchive run --config DIR/sources.toml, with the sources file of a "
                  f"`newsarchive demo --port {port}` (or `--serve --out DIR` writes one)", file=sys.stderr, flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        site.stop()
    print("demo: sites stopped", file=sys.stderr)
    return EXIT_OK
