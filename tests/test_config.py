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
