"""Crawl throughput benchmark: is archiving cheap enough, and does extraction keep up?

Serves real article pages (the extraction benchmark's HTML, repeated under many paths, each
copy made unique by a trailing comment, gzip_static) from nginx on 127.0.0.1 with a news
sitemap and an allow-all robots.txt, then runs on that site, each as a child process:

  (a) a bare Scrapy SitemapSpider with our settings (so our downloader too, which keeps the
      per-domain concurrency Scrapy 2.19's lets go, and our scheduler, which keeps pending
      requests on disk) and stock components, no archiving
  (b) ``newsarchive run --no-extract``: crawl + WARC archive
  (c) ``wget --input-file --warc-file --compression=gzip`` over the same URLs (robots.txt and
      sitemap first), the pages themselves to /dev/null: kept as files and deleted
      (``--delete-after``), 600 deleted files would slow the next run's file creation for 30 s,
      ext4 passing over recently freed inodes (measured: 0.2 s more system time for (d)'s 600
      text files).  It asks for gzip as we do, so both receive and archive the same bytes
  (c0) the same with wget's default ``--compression=none``: it receives the plain HTML (5x the
      bytes) and deflates all of it into its WARC, which is what (c) used to measure
  (d) ``newsarchive run``: crawl + archive + extraction
  (e) ``extract.extract_document`` over the same pages, one process, one core
  (f) our derivation alone, on one extraction worker: ``newsarchive rebuild --workers 1`` over the
      WARCs (d) wrote (each article read back from its WARC, extracted, stored, corpus.jsonl written)

Politeness delays and AutoThrottle are off for (a), (b) and (d); all Scrapy runs use the same
per-domain concurrency.  (a) decodes every body as stock Scrapy does; (b) and (d) leave article
bodies undecoded in the crawler (the extractor reads them from the WARC), so (b)/(a) is the
cost of archiving net of that saving.  pages/s = responses nginx logged during the run / the child's wall
time; "window" uses the first and last logged request instead, leaving out start-up.  Peak RSS
is the largest sampled sum over the child's process tree; CPU s is the CPU time (user + system)
of every process the child started, counted exactly (the child runs under a subreaper that reaps
them all), and for (e) that of its loop; CPU s/page divides it by the responses (or
pages) of the row.  Each repeat runs (a) to (f) in turn;
the table shows each one's median run, and the ratios are the medians of each repeat's own
ratios, so that the machine's drift in speed over minutes (±15 % seen here) cancels out of
them.  Prints figures; it is not a test.

    .venv/bin/python bench/crawl.py [--pages N] [--repeat N] [--per-domain N] [--keep]
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path, where sibling scripts would shadow
# installed packages (bench/incremental.py hides Twisted's "incremental").
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from bench.measure import measure  # noqa: E402
from supervision import stop_process  # noqa: E402

HTML_DIR = REPO.parent / "shared" / "benchmarks" / "article-extraction" / "html"
NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{ text/html html; application/xml xml; text/plain txt; }}
    default_type application/octet-stream;
    charset utf-8;
    log_format bench '$msec $status $body_bytes_sent';
    access_log {prefix}/access.log bench;
    sendfile on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/www;
        gzip_static on;
    }}
}}
"""


@dataclass
class Measure:
    label: str
    responses: int
    wall: float
    window: float
    peak_rss: int  # bytes
    warc_bytes: int | None
    exit_code: int
    cpu: float = 0.0  # seconds of CPU time, user + system, summed over every process of the run

    @property
    def rate(self) -> float:
        return self.responses / self.wall if self.wall else 0.0

    @property
    def window_rate(self) -> float:
        return self.responses / self.window if self.window else 0.0

    @property
    def cpu_per_page(self) -> float:
        return self.cpu / self.responses if self.responses else 0.0


def ensure_tool(binary: str, package: str) -> str:
    """The tool's path, installing its Debian package first if it is missing."""
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")
    if found:
        return found
    print(f"installing {package} ...", flush=True)
    install = ["apt-get", "install", "-y", "-q", package]
    if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(install, stdout=subprocess.DEVNULL, check=True)
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")
    if not found:
        raise SystemExit(f"bench: {binary} still missing after installing {package}")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Nginx:
    """nginx as a foreground child with its own prefix, serving ``pages`` article paths."""

    def __init__(self, prefix: Path, pages: int) -> None:
        self.prefix = prefix
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.sources = sorted(HTML_DIR.glob("*.html.gz"))
        if not self.sources:
            raise SystemExit(f"bench: no pages in {HTML_DIR}")
        self.urls = self._build_site(pages)
        self.process: subprocess.Popen | None = None

    def _build_site(self, pages: int) -> list[str]:
        """Each page is a source file plus a trailing comment naming its copy, stored plain and .gz.

        The comment keeps payloads distinct, so that no crawler gets to store repeats as revisits.
        """
        www = self.prefix / "www"
        originals = [gzip.decompress(source.read_bytes()) for source in self.sources]
        entries, urls = [], []
        for index in range(pages):
            key = self.sources[index % len(self.sources)].name.split(".")[0][:12]
            path = f"/2026/11/{index % 28 + 1:02d}/article-{index:05d}-{key}.html"
            target = www / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            body = originals[index % len(originals)] + f"\n<!-- bench copy {index} -->\n".encode()
            target.write_bytes(body)
            target.with_name(target.name + ".gz").write_bytes(gzip.compress(body, compresslevel=6, mtime=0))
            url = self.base_url + path
            urls.append(url)
            entries.append(
                f"<url><loc>{url}</loc><news:news><news:publication><news:name>Bench</news:name>"
                f"<news:language>en</news:language></news:publication>"
                f"<news:publication_date>2026-11-{index % 28 + 1:02d}T08:00:00+00:00</news:publication_date>"
                f"<news:title>Article {index}</news:title></news:news></url>"
            )
        (www / "sitemap.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + "\n".join(entries) + "\n</urlset>\n"
        )
        (www / "robots.txt").write_text(f"User-agent: *\nAllow: /\n\nSitemap: {self.sitemap_url}\n")
        (self.prefix / "urls.txt").write_text(
            "\n".join([self.base_url + "/robots.txt", self.sitemap_url, *urls]) + "\n"
        )
        return urls

    @property
    def sitemap_url(self) -> str:
        return self.base_url + "/sitemap.xml"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def start(self) -> None:
        binary = ensure_tool("nginx", "nginx")
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.prefix / "tmp" / name).mkdir(parents=True, exist_ok=True)
        conf = self.prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=self.prefix, port=self.port))
        # Workers run as "nobody" when we are root: they must be able to read the tree.
        for folder in (self.prefix.parent, self.prefix):
            os.chmod(folder, 0o755)
        self.process = subprocess.Popen(
            [binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.prefix / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        error = (self.prefix / "error.log").read_text(errors="replace") if (self.prefix / "error.log").exists() else ""
        self.stop()
        raise SystemExit(f"bench: nginx did not start\n{error}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, sig=signal.SIGQUIT)  # nginx's graceful stop
        self.process = None

    def log_offset(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def responses_since(self, offset: int) -> tuple[int, float]:
        """Responses logged after ``offset`` and the seconds between the first and the last."""
        with self.access_log.open("rb") as log:
            log.seek(offset)
            stamps = [float(line.split(b" ", 1)[0]) for line in log if line.strip()]
        return len(stamps), (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0


def run_measured(label: str, argv: list[str], nginx: Nginx,
                 warc_files: Callable[[], Iterable[Path]] | None = None, cwd: Path | None = None) -> Measure:
    """Run one child to completion (``bench/measure.py``: its process tree's CPU and peak RSS) and count its fetches."""
    offset = nginx.log_offset()
    measured = measure(argv, cwd=cwd)
    if measured.returncode != 0:
        tail = measured.stderr.strip().splitlines()[-5:]
        print(f"  ({label}) exited {measured.returncode}: " + " | ".join(tail), file=sys.stderr)
    time.sleep(0.1)  # nginx writes its access log line after the response
    responses, window = nginx.responses_since(offset)
    warc_bytes = sum(path.stat().st_size for path in warc_files()) if warc_files else None
    return Measure(label, responses, measured.wall, window, measured.peak_rss, warc_bytes, measured.returncode,
                   measured.cpu)


def bare_spider(sitemap_url: str, per_domain: int) -> None:
    """(a): a SitemapSpider that only fetches; our settings, stock Scrapy components."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings
    from scrapy.spiders import SitemapSpider

    class BareSpider(SitemapSpider):
        name = "bare"
        sitemap_urls = [sitemap_url]

        def parse(self, response):
            return None

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.update({
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
        "EXTENSIONS": {},
        "ITEM_PIPELINES": {},
        "DOWNLOADER_MIDDLEWARES": {},
        "LOG_LEVEL": "WARNING",
    }, priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl(BareSpider)
    process.start()


def write_config(path: Path, archive_dir: Path, sitemap_url: str, per_domain: int) -> Path:
    path.write_text(
        f'[archive]\ndir = "{archive_dir}"\n\n'
        f"[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrent_requests_per_domain = {per_domain}\n\n"
        f'[[sources]]\nname = "bench"\nsitemaps = ["{sitemap_url}"]\n'
    )
    return path


def extractor_rate(nginx: Nginx) -> Measure:
    """(e): single-core extraction speed over the same pages, in this process."""
    from extract import extract_document

    www = nginx.prefix / "www"
    pages = [(url, (www / url.removeprefix(nginx.base_url + "/")).read_bytes()) for url in nginx.urls]
    extract_document(pages[0][1], pages[0][0])  # imports and caches, as a worker would have
    started, cpu_started = time.perf_counter(), time.process_time()
    for url, html in pages:
        extract_document(html, url)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return Measure("(e) extract_document, 1 core", len(pages), wall, wall, 0, None, 0, cpu)


def extract_stage_rate(archive_dir: Path, out: Path) -> Measure:
    """(f): the derivation of our run without the run: a rebuild of (d)'s WARCs on one worker."""
    from archive import WARC_DIR

    warcs = sorted(str(path) for path in (archive_dir / WARC_DIR).glob("*.warc.gz"))
    measured = measure([sys.executable, str(REPO / "cli.py"), "rebuild", "--warc", *warcs, "--out", str(out),
                        "--workers", "1"])
    rows = (out / "corpus.jsonl").read_bytes().count(b"\n") if measured.returncode == 0 else 0
    return Measure("(f) derivation, 1 worker", rows, measured.wall, measured.wall, measured.peak_rss, None,
                   measured.returncode, measured.cpu)


def two_core_limit(crawl_rate: float, extract_rate: float) -> float:
    """Pages/s of crawling and extracting with both cores always busy and nothing else to do."""
    return 2 / (1 / crawl_rate + 1 / extract_rate)


def cpu_budget(pages: int, crawl_rate: float, extract_rate: float) -> float:
    """CPU seconds of bare crawling plus bare extraction of ``pages``, as the two-core limit prices them."""
    return pages / crawl_rate + pages / extract_rate


def median_run(runs: list[Measure]) -> Measure:
    rates = sorted(runs, key=lambda m: m.rate)
    return rates[len(rates) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=600, help="article pages to serve (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the median is reported")
    parser.add_argument("--per-domain", type=int, default=None,
                        help="CONCURRENT_REQUESTS_PER_DOMAIN for every Scrapy run (default: ours)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and print its path")
    parser.add_argument("--bare-spider", metavar="SITEMAP_URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from crawler import settings as our_settings

    per_domain = args.per_domain or our_settings.CONCURRENT_REQUESTS_PER_DOMAIN
    if args.bare_spider:
        bare_spider(args.bare_spider, per_domain)
        return 0

    wget = ensure_tool("wget", "wget")
    work = Path(tempfile.mkdtemp(prefix="newsarchive-bench-"))
    nginx = Nginx(work / "nginx", args.pages)
    python, cli = sys.executable, str(REPO / "cli.py")
    try:
        nginx.start()
        print(f"nginx on {nginx.base_url}: {len(nginx.urls)} article pages from {len(nginx.sources)} files, "
              f"per-domain concurrency {per_domain}, {os.cpu_count()} CPUs", flush=True)
        runs: dict[str, list[Measure]] = {}
        for attempt in range(args.repeat):
            out = work / f"run{attempt}"
            out.mkdir()
            cfg_b = write_config(out / "archive.toml", out / "b", nginx.sitemap_url, per_domain)
            cfg_d = write_config(out / "full.toml", out / "d", nginx.sitemap_url, per_domain)
            wget_dir = out / "c"
            wget_dir.mkdir()
            wget_run = [wget, "--input-file", str(nginx.prefix / "urls.txt"), "--no-verbose",
                        "--output-document", os.devnull]
            plan = [
                ("a", "(a) bare Scrapy spider",
                 [python, __file__, "--bare-spider", nginx.sitemap_url, "--per-domain", str(per_domain)], None),
                ("b", "(b) newsarchive run --no-extract",
                 [python, cli, "run", "--config", str(cfg_b), "--no-extract"],
                 lambda out=out: (out / "b" / "warc").glob("*.warc.gz*")),
                ("c", "(c) wget --warc-file, gzip",
                 [*wget_run, "--compression=gzip", "--warc-file", str(wget_dir / "gzip")],
                 lambda wget_dir=wget_dir: wget_dir.glob("gzip.warc.gz")),
                ("c0", "(c0) wget --warc-file, no compression",
                 [*wget_run, "--compression=none", "--warc-file", str(wget_dir / "plain")],
                 lambda wget_dir=wget_dir: wget_dir.glob("plain.warc.gz")),
                ("d", "(d) newsarchive run", [python, cli, "run", "--config", str(cfg_d)],
                 lambda out=out: (out / "d" / "warc").glob("*.warc.gz*")),
            ]
            for key, label, command, warcs in plan:
                print(f"  run {attempt + 1}/{args.repeat}: {label} ...", flush=True)
                runs.setdefault(key, []).append(run_measured(label, command, nginx, warcs, cwd=out))
            print(f"  run {attempt + 1}/{args.repeat}: (e) extractor ...", flush=True)
            runs.setdefault("e", []).append(extractor_rate(nginx))
            print(f"  run {attempt + 1}/{args.repeat}: (f) derivation ...", flush=True)
            runs.setdefault("f", []).append(extract_stage_rate(out / "d", out / "f"))
        results = {key: median_run(measures) for key, measures in runs.items()}
    finally:
        nginx.stop()
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"{'run':38} {'responses':>9} {'wall s':>7} {'CPU s':>6} {'CPU s/page':>10} {'pages/s':>8} {'window/s':>9} "
          f"{'peak RSS':>9} {'WARC bytes':>12} {'exit':>4}")
    for m in results.values():
        rss = f"{m.peak_rss / 2**20:.0f} MB" if m.peak_rss else "-"
        warc = f"{m.warc_bytes:,}" if m.warc_bytes is not None else "-"
        print(f"{m.label:38} {m.responses:9d} {m.wall:7.2f} {m.cpu:6.2f} {m.cpu_per_page:10.4f} {m.rate:8.1f} "
              f"{m.window_rate:9.1f} {rss:>9} {warc:>12} {m.exit_code:4d}")
    repeats = [dict(zip(runs, measures)) for measures in zip(*runs.values())]
    print()
    if all(r[key].rate for r in repeats for key in ("a", "c", "c0", "e", "f")):
        archiving = median([r["b"].rate / r["a"].rate for r in repeats])
        over_wget = median([r["b"].rate / r["c"].rate for r in repeats])
        over_plain_wget = median([r["b"].rate / r["c0"].rate for r in repeats])
        cpu_over_wget = median([r["b"].cpu_per_page / r["c"].cpu_per_page for r in repeats])
        of_limit = median([r["d"].rate / two_core_limit(r["a"].rate, r["e"].rate) for r in repeats])
        print(f"(b)/(a) = {archiving:.2f}   goal >= 0.90  {'ok' if archiving >= 0.90 else 'MISSED'}")
        print(f"(b)/(c) = {over_wget:.2f}   goal >= 1.20  {'ok' if over_wget >= 1.2 else 'MISSED'}   "
              f"(wget asking for gzip as we do; against wget's default, (b)/(c0) = {over_plain_wget:.2f})")
        print(f"CPU s/page (b)/(c) = {cpu_over_wget:.2f}   (below 1: we spend less CPU a page than wget)")
        print(f"(d) / two-core limit 2/(1/a + 1/e) = {of_limit:.2f}   goal >= 0.85  "
              f"{'ok' if of_limit >= 0.85 else 'MISSED'}   (per repeat: "
              + ", ".join(f"{r['d'].rate:.1f}/{two_core_limit(r['a'].rate, r['e'].rate):.1f}" for r in repeats) + ")")
        # At 0.85 of the limit, (d) may take (n/a + n/e)/(2 x 0.85) for its n pages: two cores for that
        # long give (n/a + n/e)/0.85 of CPU time, and a run that needs more cannot meet the goal,
        # however busy it keeps both cores.
        cpu_share = median([r["d"].cpu / cpu_budget(r["d"].responses, r["a"].rate, r["e"].rate) for r in repeats])
        print(f"(d) CPU time / (n/a + n/e) = {cpu_share:.2f}   the goal needs <= {1 / 0.85:.2f}")
        # The same budget against our stages each run alone: crawl + archive (b) and the extract
        # stage (f).  What they cost beyond (a) and (e) (archiving, reading records back, writing
        # the corpus) is spent by any run that does what (d) does, before running them side by side
        # costs anything or leaves a core idle.
        stages_share = median([(r["b"].cpu + r["f"].cpu) / cpu_budget(r["d"].responses, r["a"].rate, r["e"].rate)
                               for r in repeats])
        print(f"((b) + (f)) CPU time / (n/a + n/e) = {stages_share:.2f}   our stages, each alone")
    else:
        print("ratios: a run failed")
    wa, wb, wc = (results[key].window_rate for key in ("a", "b", "c"))
    if wa and wc:
        print(f"without start-up (window rates): (b)/(a) = {wb / wa:.2f}   (b)/(c) = {wb / wc:.2f}")
    print("WARC bytes: " + "   ".join(f"({key}) {results[key].warc_bytes or 0:,}" for key in ("b", "c", "c0")))
    return 0 if all(m.exit_code == 0 for m in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
