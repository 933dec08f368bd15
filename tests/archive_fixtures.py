"""Helpers shared by the replay, package, rebuild and dedup tests: a real crawl and a real pywb."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli
from warcio.archiveiterator import ArchiveIterator

from archive.replay import replay_venv, timestamp14  # noqa: F401 - the replay tests take it from here
from demo.run import write_demo_config
from demo.site import DemoSite

REPO = Path(__file__).resolve().parent.parent
REPLAY_BIN = replay_venv() / "bin"

BROTLI_ARTICLE_PATH = "/2026/11/20/ferry-timetable-changes-for-winter/"
BROTLI_PARAGRAPHS = [
    "The island ferry will run on its winter timetable from the first Monday of December, "
    "with the last evening crossing moved forty minutes earlier.",
    "The operator said passenger numbers after eight in the evening fall by two thirds in winter "
    "and that the crew hours saved will go towards a second morning crossing.",
    "Commuters who work late shifts at the harbour said they had not been consulted and asked "
    "the council to review the change before the spring timetable is drawn up.",
]


def assert_warcio_check(warcs: Iterable[Path]) -> None:
    """``warcio check`` (digests and all) passes on every one of ``warcs``."""
    check = subprocess.run([Path(sys.executable).parent / "warcio", "check", *map(str, warcs)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def corpus_files(root: Path) -> dict[str, bytes]:
    """corpus.jsonl and every text file, by relative path."""
    files = {path.relative_to(root).as_posix(): path.read_bytes() for path in (root / "text").rglob("*.txt")}
    files["corpus.jsonl"] = (root / "corpus.jsonl").read_bytes()
    return files


def newsarchive(*args: str, timeout: float = 180, cwd: Path = REPO,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


class _BrotliHandler(BaseHTTPRequestHandler):
    """Answers with Content-Encoding: br whatever Accept-Encoding said, as some servers do."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/":
            body = f'<html><body><h1>Harbour News</h1><a href="{BROTLI_ARTICLE_PATH}">Ferry timetable</a></body></html>'
        elif self.path == BROTLI_ARTICLE_PATH:
            paragraphs = "".join(f"<p>{p}</p>" for p in BROTLI_PARAGRAPHS)
            body = ("<html><head><title>Ferry moves to winter timetable</title></head><body>"
                    f"<article><h1>Ferry moves to winter timetable</h1>{paragraphs}</article></body></html>")
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = brotli.compress(body.encode("utf-8"))
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Encoding", "br")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def brotli_site() -> AbstractContextManager[str]:
    """A one-article site on 127.0.0.1 serving brotli; yields its base URL."""
    return loopback_site(_BrotliHandler)


@contextmanager
def loopback_site(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` serving on 127.0.0.1 from a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def crawl_demo(out: Path, with_brotli: bool = False, runs: int = 1,
               between_runs: Callable[[DemoSite], object] | None = None) -> dict:
    """``runs`` runs of `newsarchive run` over the demo sites (and the brotli site) into ``out``.

    A second run fetches start pages, feeds and sitemaps again with validators: the demo
    sites answer 304 (server-not-modified revisits), the brotli site the same bytes
    (identical-payload-digest revisits).  With ``between_runs`` (called before each later run,
    e.g. to change an article), articles are fetched again too.
    """
    with DemoSite() as site, brotli_site() as brotli_url:
        config = write_demo_config(site, out)
        if between_runs:
            config.write_text(config.read_text(encoding="utf-8").replace(
                "[[sources]]", "[[sources]]\nrefetch_after = 0.0001"), encoding="utf-8")
        if with_brotli:
            with config.open("a", encoding="utf-8") as handle:
                handle.write(f'\n[[sources]]\nname = "harbour"\nstart_urls = ["{brotli_url}/"]\n')
        for run in range(runs):
            if run and between_runs:
                between_runs(site)
            result = newsarchive("run", "--config", str(config))
            assert result.returncode == 0, result.stderr
        urls = {name: site.article_urls(name) for name in ("gazette", "herald", "courier")}
    return {"out": out, "config": config, "urls": urls, "brotli_url": brotli_url}


def warc_captures(out: Path) -> list[dict]:
    """Every response and revisit record in ``out/warc``: where it is, its WARC-Date, profile and HTTP status."""
    found = []
    for warc in sorted((out / "warc").glob("*.warc.gz")):
        with open(warc, "rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                if record.rec_type in ("response", "revisit"):
                    found.append({"filename": warc.name, "offset": str(records.get_record_offset()),
                                  "type": record.rec_type, "url": record.rec_headers.get_header("WARC-Target-URI"),
                                  "date": record.rec_headers.get_header("WARC-Date"),
                                  "profile": record.rec_headers.get_header("WARC-Profile") or "",
                                  "status": record.http_headers.get_statuscode()})
    return found


def latest_not_modified(out: Path) -> tuple[dict, dict]:
    """A URL whose latest capture is a server-not-modified revisit: that revisit and the URL's 200 response."""
    every = warc_captures(out)
    latest = {capture["url"]: capture for capture in sorted(every, key=lambda capture: capture["date"])}
    not_modified = sorted((c for c in latest.values() if c["profile"].endswith("/revisit/server-not-modified")),
                          key=lambda capture: capture["url"])
    assert not_modified, "the second run's conditional GETs were answered 304"
    revisit = not_modified[0]
    [original] = [c for c in every if c["url"] == revisit["url"] and c["type"] == "response"]
    assert (original["status"], revisit["status"]) == ("200", "304")
    return revisit, original


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int = 3) -> int:
    """The first of ``count`` consecutive free ports on 127.0.0.1."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count > 65535:
            continue
        sockets = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise AssertionError("no three consecutive free ports")


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}: {process.stderr.read()}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@contextmanager
def running(command: list[str], ready_url: str, cwd: Path = REPO,
            env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """Start a server process, wait until ``ready_url`` answers, stop it afterwards."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_for_http(ready_url, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, accept_encoding: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET without following redirects or decoding bodies: status, headers, raw body."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": accept_encoding} if accept_encoding else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill ``disk`` to the last byte, or to ``leave`` bytes short of it; the file to delete to free it."""
    filler = disk / "filler"
    room = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize - leave
    with open(filler, "wb", buffering=0) as out:  # unbuffered: nothing left to flush (and fail) on closing
        try:
            while room > 0:
                room -= out.write(b"\0" * min(65536, room))
        except OSError:
            pass
    return filler


def article_captures(warc: Path) -> list[tuple[str, int, int]]:
    """(URL, start, end) of each article capture of one of our WARCs: its response to the end of its metadata."""
    starts, found = {}, []
    with open(warc, "rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            headers = record.rec_headers
            if record.rec_type == "response":
                starts[headers.get_header("WARC-Record-ID")] = (headers.get_header("WARC-Target-URI"),
                                                               records.get_record_offset())
            elif record.rec_type == "metadata" and b"newsarchive-role: article" in record.content_stream().read():
                url, start = starts[headers.get_header("WARC-Concurrent-To")]
                found.append((url, start, records.get_record_offset() + records.get_record_length()))
    return found


def rot(path: Path, at: int, length: int = 50) -> None:
    """Flip ``length`` bytes of ``path`` from ``at`` on: bit rot the gzip CRC finds and warcio reads as an end."""
    data = bytearray(path.read_bytes())
    data[at:at + length] = bytes(byte ^ 0xFF for byte in data[at:at + length])
    path.write_bytes(bytes(data))
