"""`newsarchive replay`: a real pywb over a real crawl, started and stopped by the test."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_http_date, iso_date_to_datetime

from archive.index import FAN_OUT, index_lines, replay_index_dir, update_index
from archive.replay import PYWB_REQUIREMENT, REPLAY_REQUIREMENTS, REPLAY_VENV_ENV, made_with, replay_tool, replay_venv
from archive.writer import RollingWarcWriter
from archive_fixtures import (BROTLI_ARTICLE_PATH, BROTLI_PARAGRAPHS, REPLAY_BIN, crawl_demo, fetch, free_port,
                              free_ports, latest_not_modified, newsarchive, running, timestamp14, warc_captures)
from demo.run import write_demo_config
from demo.site import DemoSite
from corpus.export import read_corpus


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> dict:
    return crawl_demo(tmp_path_factory.mktemp("replay"), with_brotli=True, runs=2)


@pytest.fixture(scope="module")
def pywb(archive) -> str:
    port = free_port()
    base = f"http://127.0.0.1:{port}/archive"
    command = [sys.executable, "-m", "cli", "replay", "--config", str(archive["config"]), "--port", str(port)]
    with running(command, f"{base}/cdx?url=http://example.invalid/"):
        yield base


def index_text(archive_dir) -> str:
    return b"".join(index_lines(archive_dir)).decode("utf-8")


def index_entry(line: str) -> dict:
    return json.loads(line.split(" ", 2)[2])


def cdx(base: str, url: str) -> list[dict]:
    status, _, body = fetch(f"{base}/cdx?url={url}&output=json")
    assert status == 200
    return [json.loads(line) for line in body.decode().splitlines()]


def stored(archive: dict, entry: dict) -> tuple[dict[str, str], bytes]:
    """The HTTP headers and the raw (still content-encoded) payload of an index entry's record."""
    with open(archive["out"] / "warc" / entry["filename"], "rb") as stream:
        stream.seek(int(entry["offset"]))
        record = next(iter(ArchiveIterator(stream)))
        return dict(record.http_headers.headers), record.raw_stream.read()


def test_every_warc_passes_warcio_check_in_the_replay_venv(archive, pywb):
    # brotli records need brotlipy's warcio: the replay venv's, which `replay` created if missing
    warcs = sorted((archive["out"] / "warc").glob("*.warc.gz"))
    result = subprocess.run([str(REPLAY_BIN / "warcio"), "check", "-v", *map(str, warcs)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_combined_index_is_sorted_and_lists_every_response_and_revisit_but_304s(archive):
    lines = index_text(archive["out"]).splitlines()
    assert lines == sorted(lines)
    indexed = sorted((entry["filename"], entry["offset"]) for entry in map(index_entry, lines))
    every = warc_captures(archive["out"])
    assert any(capture["status"] == "304" for capture in every)
    assert indexed == sorted((c["filename"], c["offset"]) for c in every if c["status"] != "304")


def test_adding_a_warc_merges_it_into_the_replay_index_once(archive, tmp_path):
    shutil.copytree(archive["out"] / "warc", tmp_path / "warc")
    update_index(tmp_path)  # from scratch: every closed WARC
    assert index_text(tmp_path) == index_text(archive["out"])
    first, *_, last = sorted((tmp_path / "warc").glob("*.warc.gz"))
    update_index(tmp_path, [last])  # again, as after a crash before its per-WARC index was written
    (tmp_path / "indexes" / "per-warc" / (first.name + ".cdxj")).unlink()
    update_index(tmp_path)
    assert index_text(tmp_path) == index_text(archive["out"])
    first.unlink()
    update_index(tmp_path)  # a WARC gone: its lines go too
    lines = index_text(tmp_path).splitlines()
    assert lines and lines == sorted(lines) and not any(first.name in line for line in lines)


def test_the_replay_index_grows_in_tiers_so_a_new_warc_does_not_rewrite_the_whole_index(tmp_path):
    archive_dir = tmp_path / "archive"
    writer = RollingWarcWriter(archive_dir / "warc", "tiers", {}, max_size=1,  # one capture a file
                               on_close=lambda path: update_index(archive_dir, [path]))
    for number in range(3 * FAN_OUT + 2):
        url = f"http://news.test/story-{number}"
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_capture([writer.builder.create_warc_record(
            url, "response", payload=io.BytesIO(b"<p>story</p>"), http_headers=headers)])
    writer.close()
    files = sorted(path.name for path in replay_index_dir(archive_dir).iterdir())
    # 26 WARCs: three tier-0 files merged into tier 1 each time eight piled up, two left in tier 0
    assert [name.split("-")[0] for name in files] == ["t0", "t0", "t1", "t1", "t1"], files
    shutil.copytree(archive_dir / "warc", tmp_path / "at-once" / "warc")
    update_index(tmp_path / "at-once")
    assert index_text(archive_dir) == index_text(tmp_path / "at-once")
    assert index_text(archive_dir).count("news.test") == 3 * FAN_OUT + 2


def test_a_run_without_extraction_indexes_its_warcs_as_they_close(tmp_path):
    # A run with extraction indexes on its pool at the end; one without has the writer do it.
    out = tmp_path / "out"
    out.mkdir()
    with DemoSite() as site:
        result = newsarchive("run", "--no-extract", "--config", str(write_demo_config(site, out)))
    assert result.returncode == 0, result.stderr
    shutil.copytree(out / "warc", tmp_path / "again" / "warc")
    update_index(tmp_path / "again")
    assert index_text(out) and index_text(out) == index_text(tmp_path / "again")


def test_gzip_article_id_replay_returns_the_original_bytes(archive, pywb):
    url = archive["urls"]["gazette"][0]
    [entry] = cdx(pywb, url)
    headers, payload = stored(archive, entry)
    assert headers["Content-Encoding"] == "gzip"
    status, replayed_headers, body = fetch(f"{pywb}/{entry['timestamp']}id_/{url}", accept_encoding="gzip")
    assert status == 200
    assert replayed_headers["Content-Encoding"] == "gzip"
    assert body == payload


def test_redirect_replays_as_a_redirect_to_the_archived_target(archive, pywb):
    redirects = [line.split(" ", 2) for line in index_text(archive["out"]).splitlines()
                 if '"status": "301"' in line]
    assert redirects, "the demo's redirect hop is in the index"
    _, stamp, fields = redirects[0]
    entry = json.loads(fields)
    status, headers, _ = fetch(f"{pywb}/{stamp}id_/{entry['url']}")
    assert (status, headers["Location"]) == (301, stored(archive, entry)[0]["Location"])  # as archived
    status, headers, _ = fetch(f"{pywb}/{stamp}mp_/{entry['url']}")
    assert status == 301 and headers["Location"].startswith(f"{pywb}/")  # rewritten into the archive
    status, _, body = fetch(headers["Location"])
    assert status == 200 and b"<html" in body.lower()


def test_brotli_page_is_crawled_extracted_and_replayed(archive, pywb):
    url = archive["brotli_url"] + BROTLI_ARTICLE_PATH
    [row] = [row for row in read_corpus(archive["out"]) if row["url"] == url]
    text = (archive["out"] / row["text_path"]).read_text()
    assert all(paragraph in text for paragraph in BROTLI_PARAGRAPHS)
    [entry] = cdx(pywb, url)
    headers, payload = stored(archive, entry)
    assert headers["Content-Encoding"] == "br"
    status, replayed_headers, body = fetch(f"{pywb}/{entry['timestamp']}id_/{url}", accept_encoding="br")
    assert (status, replayed_headers.get("Content-Encoding"), body) == (200, "br", payload)
    status, _, page = fetch(f"{pywb}/{entry['timestamp']}mp_/{url}")
    assert status == 200 and BROTLI_PARAGRAPHS[0].encode() in page


def test_revisits_written_by_the_crawl_replay_the_original_payload(archive, pywb):
    lines = index_text(archive["out"]).splitlines()
    entries = [index_entry(line) for line in lines]
    for revisit in (e for e in entries if e.get("mime") == "warc/revisit"):
        [original] = [e for e in entries if e.get("digest") == revisit["digest"] and e.get("mime") != "warc/revisit"]
        stamp = next(line.split(" ")[1] for line in lines if f'"offset": "{revisit["offset"]}"' in line
                     and revisit["filename"] in line)
        headers, payload = stored(archive, original)
        status, _, body = fetch(f"{pywb}/{stamp}id_/{revisit['url']}", accept_encoding=headers.get("Content-Encoding"))
        assert status == int(original["status"]), revisit  # a 404 asked again and unchanged replays as the 404 it was
        assert body == payload


def test_revisit_in_a_warc_written_while_replay_runs_resolves_to_the_original(archive, pywb):
    url = archive["urls"]["herald"][0]
    [original] = cdx(pywb, url)
    headers, payload = stored(archive, original)
    with open(archive["out"] / "warc" / original["filename"], "rb") as stream:
        stream.seek(int(original["offset"]))
        record = next(iter(ArchiveIterator(stream)))
        original_id = record.rec_headers.get_header("WARC-Record-ID")
        original_date = record.rec_headers.get_header("WARC-Date")
    writer = RollingWarcWriter(archive["out"] / "warc", "test-revisit", {},
                               on_close=lambda path: update_index(archive["out"], [path]))
    revisit = writer.builder.create_revisit_record(
        url, original["digest"], url, original_date, http_headers=record.http_headers,
        warc_headers_dict={"WARC-Date": "2030-01-01T00:00:00Z", "WARC-Refers-To": original_id,
                           "WARC-Truncated": "length"})
    writer.write_capture([revisit])
    writer.close()

    captures = cdx(pywb, url)
    assert [c["mime"] for c in captures] == [original["mime"], "warc/revisit"]
    status, _, body = fetch(f"{pywb}/20300101000000id_/{url}", accept_encoding="gzip")
    assert status == 200
    assert body == payload


def test_url_whose_latest_capture_is_a_304_replays_the_archived_200(archive, pywb):
    revisit, original = latest_not_modified(archive["out"])
    status, headers, body = fetch(f"{pywb}/{timestamp14(revisit['date'])}id_/{revisit['url']}", accept_encoding="gzip")
    assert status == 200
    assert body == stored(archive, original)[1]
    assert headers["Memento-Datetime"] == datetime_to_http_date(iso_date_to_datetime(original["date"]))
    assert [entry["status"] for entry in cdx(pywb, revisit["url"])] == ["200"]


def test_replay_of_an_archive_holding_a_warc_cut_short_says_which_in_one_line(archive, tmp_path):
    """pywb answered 503 for the records past the cut, and nothing said why or where."""
    shutil.copytree(archive["out"] / "warc", tmp_path / "warc")
    shutil.copytree(archive["out"] / "indexes", tmp_path / "indexes")
    cut, *whole = sorted((tmp_path / "warc").glob("*.warc.gz"), key=lambda path: -path.stat().st_size)
    os.truncate(cut, cut.stat().st_size - 300)
    config = tmp_path / "sources.toml"
    config.write_text(f"[archive]\ndir = {json.dumps(str(tmp_path))}\n")
    port = free_port()
    command = [sys.executable, "-m", "cli", "replay", "--config", str(config), "--port", str(port)]
    with running(command, f"http://127.0.0.1:{port}/archive/cdx?url=http://example.invalid/") as replay:
        pass
    lines = [line for line in replay.stderr.read().splitlines() if "cut short" in line]
    assert len(lines) == 1 and lines[0].startswith(f"newsarchive: replay: {cut.name} is cut short or damaged after "
                                                   "offset "), lines
    assert whole and not any(path.name in lines[0] for path in whole)


def offline(venv) -> dict[str, str]:
    """The environment of a machine on which pip finds no package, pywb's venv to be made at ``venv``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PIP_")}
    return {**env, REPLAY_VENV_ENV: str(venv), "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1"}


def test_replay_and_browse_on_a_machine_that_cannot_install_pywb_say_why_in_one_line(archive, tmp_path):
    """Offline, the first replay printed pip's errors and a traceback, and browse did not start at all."""
    venv = tmp_path / "replay-venv"
    port = free_port()
    result = newsarchive("replay", "--config", str(archive["config"]), "--port", str(port), env=offline(venv))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    installing, failed = result.stderr.splitlines()
    assert installing.startswith(f"newsarchive: installing pywb into {venv} ")
    assert failed.startswith(f"newsarchive: cannot install pywb into {venv}: ")
    assert f"No matching distribution found for {PYWB_REQUIREMENT}" in failed
    port = free_ports(2)
    command = [sys.executable, "-m", "cli", "browse", "--config", str(archive["config"]), "--port", str(port),
               "--replay-port", str(port + 1)]
    with running(command, f"http://127.0.0.1:{port}/", env=offline(venv)) as browse:
        status, _, page = fetch(f"http://127.0.0.1:{port}/?q=ferry")
        assert status == 200 and b"ferry" in page.lower() and f":{port + 1}/".encode() not in page
    said = browse.stderr.read()
    assert "Traceback" not in said
    assert [line for line in said.splitlines() if "cannot install pywb" in line][0].endswith(
        "; browsing without replay (articles link to no original)")


def _wheel(directory: Path, requirement: str, scripts: tuple[str, ...] = ()) -> None:
    """A minimal real wheel meeting ``requirement`` (name and the version it names), console scripts and all."""
    name, version = re.split(r"[=<>~]=", requirement)
    info = f"{name}-{version}.dist-info"
    files = {f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
             f"{info}/entry_points.txt": "[console_scripts]\n" + "".join(f"{s} = {name}:main\n" for s in scripts)}
    files[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(directory / f"{name}-{version}-py3-none-any.whl", "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)


def test_a_replay_venv_made_before_its_requirements_changed_is_updated_once_or_kept_as_it_is(tmp_path, monkeypatch,
                                                                                              capsys):
    """A .venv-replay made by an older newsarchive (pywb, no brotlicffi) was reused as it was, so br pages replayed
    undecoded. Real venv, real pip, a local wheel directory in place of the package index."""
    for name in [name for name in os.environ if name.startswith("PIP_")]:
        monkeypatch.delenv(name)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for name, value in {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels),
                        "PIP_DISABLE_PIP_VERSION_CHECK": "1"}.items():
        monkeypatch.setenv(name, value)
    _wheel(wheels, PYWB_REQUIREMENT, scripts=("wayback", "wb-manager"))
    venv = tmp_path / "venv-replay"
    python = str(venv / "bin" / "python")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", PYWB_REQUIREMENT], check=True)  # as an old one made it
    wayback = venv / "bin" / "wayback"

    assert replay_tool("wayback", venv) == wayback and wayback.exists()  # the index lacks a requirement: kept
    updating, failed = capsys.readouterr().err.splitlines()
    assert updating.startswith(f"newsarchive: updating pywb's venv {venv} to {' '.join(REPLAY_REQUIREMENTS)} ")
    assert failed.startswith(f"newsarchive: cannot install pywb into {venv}: ") and failed.endswith(
        "; using it as it is"), failed
    assert "No matching distribution found for brotlicffi" in failed and made_with(venv) is None

    for requirement in REPLAY_REQUIREMENTS[1:]:
        _wheel(wheels, requirement)
    assert replay_tool("wayback", venv) == wayback  # reachable: installed, and the venv says what it was made with
    assert capsys.readouterr().err.splitlines() == [updating]
    assert made_with(venv) == REPLAY_REQUIREMENTS
    listed = subprocess.run([python, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout
    assert all(requirement.replace(">=", "==") in listed.splitlines() for requirement in REPLAY_REQUIREMENTS), listed

    subprocess.run([python, "-m", "pip", "uninstall", "--quiet", "--yes", "pip"], check=True)
    assert replay_tool("wayback", venv) == wayback  # up to date: pip (gone now) is not called at all
    assert capsys.readouterr().err == ""


def test_an_installed_package_keeps_pywb_in_the_users_data_directory_not_in_site_packages(tmp_path, monkeypatch):
    """Installed with pip (not from a checkout), pywb's venv was made inside site-packages."""
    monkeypatch.delenv(REPLAY_VENV_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    installed = tmp_path / "site-packages"
    installed.mkdir()
    assert replay_venv(installed) == tmp_path / "data" / "newsarchive" / "venv-replay"
    (tmp_path / "checkout").mkdir()
    (tmp_path / "checkout" / "pyproject.toml").write_text("")
    assert replay_venv(tmp_path / "checkout") == tmp_path / "checkout" / ".venv-replay"
    monkeypatch.setenv(REPLAY_VENV_ENV, str(tmp_path / "chosen"))
    assert replay_venv(installed) == tmp_path / "chosen"
