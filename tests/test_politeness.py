"""What the crawler promises site owners: robots.txt obeyed, an identifying User-Agent, no cookies."""

from __future__ import annotations

import subprocess
import sys

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
