"""What the crawler promises site owners (robots.txt obeyed, an identifying User-Agent, no cookies)
and operators (no telnet console or remote control listening)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from demo.run import DEMO_CRAWL
from demo.site import DemoSite


def run_config(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(path)],
                          capture_output=True, text=True, timeout=180)


def test_disallowed_pages_are_never_requested_while_robots_txt_is_still_downloading(tmp_path):
    """Scrapy >= 2.14 lets the third request queued behind a slow robots.txt through unchecked."""
    with DemoSite(robots_delay=1.0) as site:
        private = [site.url("gazette", f"/private/report-{n}") for n in range(4)]
        seeds = [site.url("gazette", "/about"), site.url("gazette", "/"), *private]
        config = tmp_path / "sources.toml"
        config.write_text(
            f'[archive]\ndir = "{tmp_path / "archive"}"\n'
            f"[[sources]]\nname = \"race\"\nstart_urls = {seeds!r}\n".replace("'", '"') + DEMO_CRAWL
        )
        result = run_config(config)
        paths = [request.path for request in site.requests]
    assert "/robots.txt" in paths
    assert not [path for path in paths if path.startswith("/private/")], paths
    assert result.returncode == 0, result.stderr


def test_no_more_requests_to_a_host_are_in_flight_than_its_per_domain_concurrency(tmp_path):
    """Scrapy 2.19 sends every request queued for a host at once when there is no download delay."""
    with DemoSite(robots_delay=0.5) as site:  # the pages queue up behind robots.txt, then are let go together
        slow = [site.url("gazette", f"/slow?seconds=0.3&page={n}") for n in range(6)]
        config = tmp_path / "sources.toml"
        config.write_text(
            f'[archive]\ndir = "{tmp_path / "archive"}"\n'
            f"[[sources]]\nname = \"slow\"\nstart_urls = {slow!r}\n".replace("'", '"')
            + DEMO_CRAWL + "concurrent_requests_per_domain = 2\n"
        )
        result = run_config(config)
        paths = [request.path for request in site.requests]
    assert result.returncode == 0, result.stderr
    assert len([path for path in paths if path.startswith("/slow")]) == len(slow)
    assert site.peak_in_flight["gazette"] == 2


def test_requests_identify_the_crawler_and_carry_no_cookies_or_zstd(tmp_path):
    with DemoSite() as site:
        config = tmp_path / "sources.toml"
        config.write_text(
            f'[archive]\ndir = "{tmp_path / "archive"}"\n'
            f'[[sources]]\nname = "ua"\nstart_urls = ["{site.url("courier", "/")}"]\nmax_pages = 3\n' + DEMO_CRAWL
        )
        assert run_config(config).returncode == 0
        requests = site.requests
    assert requests
    for request in requests:
        headers = {name.lower(): value for name, value in request.headers.items()}
        assert headers["user-agent"].startswith("newsarchive-bot/") and "+http" in headers["user-agent"]
        assert "cookie" not in headers
        assert "zstd" not in headers.get("accept-encoding", "")


def _listening_tcp_ports(pid: int) -> set[int]:
    """TCP ports on which process ``pid`` listens, from its sockets' inodes and /proc/net/tcp{,6}."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_a_run_opens_no_telnet_console_or_remote_control_port(tmp_path):
    with DemoSite(robots_delay=1.0) as site:
        config = tmp_path / "sources.toml"
        config.write_text(
            f'[archive]\ndir = "{tmp_path / "archive"}"\n'
            f'[[sources]]\nname = "ports"\nstart_urls = ["{site.url("courier", "/")}"]\nmax_pages = 3\n' + DEMO_CRAWL
        )
        run = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listening, samples = set(), 0
        while run.poll() is None:
            try:
                listening |= _listening_tcp_ports(run.pid)
                samples += 1
            except OSError:  # the process ended between poll() and reading /proc
                break
            time.sleep(0.05)
        assert run.wait(timeout=180) == 0
    assert samples > 10  # the run lasted past its engine start (robots.txt takes a second)
    assert listening == set()
