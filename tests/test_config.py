"""A bad sources file stops `newsarchive run` with exit code 2 and one message saying where."""

from __future__ import annotations

import subprocess
import sys

import pytest

GOOD_SOURCE = 'name = "site"\nstart_urls = ["http://127.0.0.1:9/"]\n'


def run(config_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config_path)],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"[[sources]]\n{GOOD_SOURCE}colour = 'red'\n", ["source 'site'", "unknown key 'colour'"]),
        ("[[sources]]\nname = \"site\"\nstart_urls = \"http://x/\"\n", ["source 'site'", "'start_urls'", "list"]),
        ("[[sources]]\nname = \"site\"\nstart_urls = [\"ftp://x/\"]\n", ["source 'site'", "'start_urls'", "ftp://x/"]),
        (f"[[sources]]\n{GOOD_SOURCE}schedule = \"0 6 * * 9\"\n", ["source 'site'", "'schedule'"]),
        (f"[[sources]]\n{GOOD_SOURCE}schedule = \"every day\"\n", ["source 'site'", "'schedule'"]),
        (f"[[sources]]\n{GOOD_SOURCE}schedule = \"0 0 31 2 *\"\n", ["source 'site'", "'schedule'", "never fires"]),
        (f"[[sources]]\n{GOOD_SOURCE}schedule = \"0 0 31 4,6 *\"\n", ["source 'site'", "'schedule'", "never fires"]),
        (f"[[sources]]\n{GOOD_SOURCE}\n[[sources]]\n{GOOD_SOURCE}", ["source 'site'", "'name'", "twice"]),
        (f"[[sources]]\n{GOOD_SOURCE}max_pages = 0\n", ["source 'site'", "'max_pages'"]),
        (f"[archive]\ndir = 3\n[[sources]]\n{GOOD_SOURCE}", ["[archive]", "'dir'"]),
        ("[[sources]]\nname = \"site\"\n", ["source 'site'", "start_urls"]),
        ("[[sources]\nname = 1", ["not valid TOML"]),
        (f"[crawl]\nconcurrent_requests_per_domain = 0\n[[sources]]\n{GOOD_SOURCE}",
         ["[crawl]", "'concurrent_requests_per_domain'", "at least 1"]),
        (f"[crawl]\nconcurrent_requests_per_domain = -1\n[[sources]]\n{GOOD_SOURCE}",
         ["[crawl]", "'concurrent_requests_per_domain'", "at least 1"]),
        (f"[crawl]\ntimeout = 0\n[[sources]]\n{GOOD_SOURCE}", ["[crawl]", "'timeout'", "positive"]),
        (f"[crawl]\ntimeout = -5\n[[sources]]\n{GOOD_SOURCE}", ["[crawl]", "'timeout'", "positive"]),
        (f"[crawl]\ndownload_delay = nan\n[[sources]]\n{GOOD_SOURCE}", ["[crawl]", "'download_delay'", "finite"]),
        (f"[crawl]\ntimeout = inf\n[[sources]]\n{GOOD_SOURCE}", ["[crawl]", "'timeout'", "finite"]),
        (f"[[sources]]\n{GOOD_SOURCE}refetch_after = nan\n", ["source 'site'", "'refetch_after'", "finite"]),
        ("[[sources]]\nname = \"site\"\nstart_urls = [\"http://127.0.0.1:99999/\"]\n",
         ["source 'site'", "'start_urls'", "99999", "port"]),
        ("[[sources]]\nname = \"site\"\nstart_urls = [\"http://[::1/\"]\n", ["source 'site'", "'start_urls'", "[::1/"]),
        ("[[sources]]\nname = \"site\"\nfeeds = [\"http://127.0.0.1:port/rss\"]\n",
         ["source 'site'", "'feeds'", "port"]),
        ("[[sources]]\nname = \"site\"\nsitemaps = [\"http://127.0.0.1:-1/s.xml\"]\n",
         ["source 'site'", "'sitemaps'", "port"]),
        (f"[archive]\nwarc_prefix = \"../../evil\"\n[[sources]]\n{GOOD_SOURCE}", ["[archive]", "'warc_prefix'"]),
        (f"[archive]\nwarc_prefix = \"news/site\"\n[[sources]]\n{GOOD_SOURCE}", ["[archive]", "'warc_prefix'"]),
        (f"[archive]\nwarc_prefix = \".hidden\"\n[[sources]]\n{GOOD_SOURCE}", ["[archive]", "'warc_prefix'"]),
        (f"[archive]\nwarc_prefix = \"\"\n[[sources]]\n{GOOD_SOURCE}", ["[archive]", "'warc_prefix'"]),
        (f"[archive]\nwarc_prefix = \"a\\u0007b\"\n[[sources]]\n{GOOD_SOURCE}", ["[archive]", "'warc_prefix'"]),
        (f"[[sources]]\n{GOOD_SOURCE}allowed_domains = [\"http://127.0.0.1:8201/\"]\n",
         ["source 'site'", "'allowed_domains'", "not a host name"]),
        (f"[[sources]]\n{GOOD_SOURCE}allowed_domains = [\"example.com\"]\n",
         ["source 'site'", "'start_urls'", "127.0.0.1", "allowed_domains"]),
    ],
)
def test_bad_config_exits_2_naming_file_source_and_key(tmp_path, body, expected):
    config = tmp_path / "sources.toml"
    config.write_text(body)
    result = run(config)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert str(config) in message
    for fragment in expected:
        assert fragment in message
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("command", ["status", "schedule"])
def test_a_schedule_that_never_fires_stops_status_and_the_service_too(tmp_path, command):
    config = tmp_path / "sources.toml"
    config.write_text(f"[[sources]]\n{GOOD_SOURCE}schedule = \"0 0 30 2 *\"\n")
    result = subprocess.run([sys.executable, "-m", "cli", command, "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"newsarchive: config error: {config}: source 'site': key 'schedule': "
                                     "'0 0 30 2 *' never fires: none of its months has that day of the month")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("body", "allowed"),
    [
        ('start_urls = ["https://www.example.com/news/"]\nallowed_domains = ["example.com"]\n', ("example.com",)),
        ('start_urls = ["http://[::1]:8201/"]\nallowed_domains = ["::1"]\n', ("::1",)),
        ('start_urls = ["https://news.example.com/"]\nfeeds = ["https://feeds.example.net/rss"]\n'
         'allowed_domains = ["News.Example.com"]\n', ("news.example.com",)),
    ],
)
def test_allowed_domains_that_cover_the_start_urls_are_kept(tmp_path, body, allowed):
    from config import load_config

    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\nwarc_prefix = "my.archive-1"\n[crawl]\ntimeout = 0.5\n'
                      f'[[sources]]\nname = "site"\n{body}')
    assert load_config(config).sources[0].allowed_domains == allowed


def test_a_config_saved_with_a_utf8_bom_is_read(tmp_path):
    from config import load_config

    config = tmp_path / "sources.toml"
    config.write_bytes(b"\xef\xbb\xbf" + f"[archive]\ndir = \"arch\"\n[[sources]]\n{GOOD_SOURCE}".encode())
    loaded = load_config(config)
    assert [source.name for source in loaded.sources] == ["site"]
    assert loaded.archive.dir == tmp_path / "arch"


def test_missing_config_file_exits_2(tmp_path):
    result = run(tmp_path / "nowhere.toml")
    assert result.returncode == 2
    assert "nowhere.toml" in result.stderr and "not found" in result.stderr


def test_unknown_source_name_exits_2(tmp_path):
    config = tmp_path / "sources.toml"
    config.write_text(f"[[sources]]\n{GOOD_SOURCE}")
    result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config), "--source", "other"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "'other'" in result.stderr


def test_the_repository_sources_file_is_valid():
    from pathlib import Path

    from config import load_config

    config = load_config(Path(__file__).resolve().parent.parent / "sources.toml")
    assert {"eir", "theduran", "polygraph"} <= {source.name for source in config.sources}
