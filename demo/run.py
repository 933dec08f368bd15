"""``newsarchive demo``: the whole pipeline against the bundled demo sites, offline, in seconds."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from config import load_config
from crawler.run import run_sources
from demo.site import DemoSite

# Loopback servers need no politeness delay; everything else stays as in production.
DEMO_CRAWL = "\n[crawl]\ndownload_delay = 0\nautothrottle = false\n"


def write_demo_config(site: DemoSite, out: Path) -> Path:
    """A sources file for the demo sites, archiving into ``out``."""
    path = site.write_config(out / "sources.toml", out)
    with path.open("a", encoding="utf-8") as config:
        config.write(DEMO_CRAWL)
    return path


def run_demo(out: str | None = None) -> int:
    out_dir = Path(out) if out else Path(tempfile.mkdtemp(prefix="newsarchive-demo-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    with DemoSite() as site:
        config = load_config(write_demo_config(site, out_dir))
        print(f"demo: {len(config.sources)} news sites on 127.0.0.1, archiving into {out_dir}", file=sys.stderr)
        for name, url in site.base_urls.items():
            print(f"  {name}: {url}", file=sys.stderr)
        report = run_sources(config, config.sources, progress_interval=1.0)
    print("", file=sys.stderr)
    for line in report.summary_lines():
        print(line, file=sys.stderr)
    text_files = sorted((out_dir / "text").rglob("*.txt"))
    print(
        f"\n{report.fetched} pages fetched, {sum(report.articles_written.values())} articles written, "
        f"{len(report.warc_files)} WARC files.\n"
        f"  WARCs:   {out_dir / 'warc'}\n"
        f"  text:    {out_dir / 'text'}" + (f"  (e.g. {text_files[0]})" if text_files else "") + "\n"
        f"  corpus:  {out_dir / 'corpus.jsonl'}\n"
        f"  config:  {out_dir / 'sources.toml'}  (newsarchive run --config ... to crawl again)\n"
        f"  browse:  newsarchive browse --config {out_dir / 'sources.toml'}",
    )
    return report.exit_code
