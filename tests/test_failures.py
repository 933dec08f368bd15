"""One source failing never costs the others their archive."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from demo.run import write_demo_config
from demo.site import DemoSite


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_dead_host_makes_run_exit_1_while_other_sources_are_written(tmp_path):
    dead = {"name": "deadhost", "start_urls": [f"http://127.0.0.1:{closed_port()}/"], "schedule": "0 * * * *"}
    with DemoSite() as site:
        config = write_demo_config(site, tmp_path)
        text = config.read_text()
        config.write_text(text.replace("\n[crawl]", f'\n[[sources]]\nname = "deadhost"\n'
                                       f'start_urls = {json.dumps(dead["start_urls"])}\n\n[crawl]', 1)
                          + "timeout = 5\n")
        result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                                capture_output=True, text=True, timeout=180)
    assert result.returncode == 1, result.stderr
    assert "deadhost" in result.stderr and "FAILED" in result.stderr
    rows = [json.loads(line) for line in (tmp_path / "corpus.jsonl").read_text().splitlines()]
    assert {"gazette", "herald", "courier"} == {row["source"] for row in rows}
    assert not list((tmp_path / "warc").glob("*.open"))


@pytest.mark.parametrize("blocked", ["warc", "state"])
def test_an_archive_directory_that_cannot_be_made_exits_2_naming_the_config_and_the_path(tmp_path, blocked):
    (tmp_path / blocked).write_text("a file where the directory should be")
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "."\n\n[[sources]]\nname = "news"\n'
                      f'start_urls = ["http://127.0.0.1:{closed_port()}/"]\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"{config}: [archive] dir: cannot create {tmp_path / blocked}" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / blocked).read_text() == "a file where the directory should be"
