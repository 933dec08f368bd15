"""Each source's last runs come from the run reports' index: ``status``, a run's HTML report,
browse and the service read no report twice, so what they cost does not grow with the
archive's age, and the index always says what ``runs/`` holds."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.run import RunReport, SourceResult
from crawler.run_reports import INDEX_FILE, RUNS_DIR, last_runs, read_last_runs, sources_with_runs
from test_status import report

SOURCES = ["gazette", "herald", "ledger"]
_OPENED: list[str] = []


def _count_opens(event: str, args: tuple) -> None:
    if event == "open" and isinstance(args[0], (str, Path)) and str(args[0]).endswith(".json"):
        _OPENED.append(str(args[0]))


sys.addaudithook(_count_opens)


def reports_opened(call):
    """What ``call()`` returns, and how many JSON files it opened."""
    _OPENED.clear()
    result = call()
    return result, len(_OPENED)


def old_reports(archive: Path, count: int) -> None:
    """``count`` run reports, as runs from before the index left them: one a source in turn."""
    runs = archive / RUNS_DIR
    runs.mkdir(parents=True)
    for number in range(count):
        run = f"2025{1 + number // 2000:02d}{1 + number // 100 % 20:02d}T{number % 100:06d}.000Z"
        document = report(SOURCES[number % 3], fetched=number)
        (runs / f"{run}.json").write_text(json.dumps({**document, "run": run}))


def newest(archive: Path) -> dict[str, list[int]]:
    """Each source's last three runs by their ``fetched`` count, read from the index."""
    return {name: [entry["fetched"] for entry in runs] for name, runs in last_runs(archive, SOURCES, 3)[0].items()}


def test_the_last_runs_are_read_from_the_index_and_only_new_reports_are_read(tmp_path):
    archive = tmp_path / "archive"
    old_reports(archive, 300)
    expected = {"gazette": [297, 294, 291], "herald": [298, 295, 292], "ledger": [299, 296, 293]}
    assert reports_opened(lambda: newest(archive)) == (expected, 300)  # the index is made once
    assert reports_opened(lambda: newest(archive)) == (expected, 0)
    assert (archive / "state" / INDEX_FILE).exists()

    # A run adds its own report to the index: the next status reads none.
    run = RunReport([SourceResult("herald", 7, 1, [], "finished", None)], {})
    run.write(archive)
    expected["herald"] = [7, 298, 295]
    assert reports_opened(lambda: newest(archive)) == (expected, 0)
    assert "herald" in run.path.with_suffix(".html").read_text()

    # Reports copied in, by hand or by a run killed before it indexed its own, are read once;
    # one deleted is forgotten.
    copied = report("ledger", fetched=1000)
    (archive / RUNS_DIR / "20990101T000000.000Z.json").write_text(json.dumps({**copied, "run": "20990101T000000.000Z"}))
    (archive / RUNS_DIR / "20990101T000001.000Z.json").write_text("{")
    expected["ledger"] = [1000, 299, 296]
    assert reports_opened(lambda: newest(archive)) == (expected, 2)
    assert last_runs(archive, SOURCES)[1] == ["20990101T000001.000Z.json"]
    (archive / RUNS_DIR / "20990101T000000.000Z.json").unlink()
    expected["ledger"] = [299, 296, 293]
    assert reports_opened(lambda: newest(archive)) == (expected, 0)
    assert last_runs(archive, SOURCES) == read_last_runs(archive, SOURCES)


def test_a_damaged_or_deleted_index_is_made_again_from_the_reports(tmp_path, caplog):
    archive = tmp_path / "archive"
    old_reports(archive, 60)
    expected = read_last_runs(archive, SOURCES, 5)
    assert last_runs(archive, SOURCES, 5) == expected
    index = archive / "state" / INDEX_FILE
    index.write_bytes(b"not a database" * 500)
    with caplog.at_level(logging.WARNING):
        assert last_runs(archive, SOURCES, 5) == expected
    assert [record.message for record in caplog.records if "damaged" in record.message] == [
        f"{index} is damaged (file is not a database): made again from runs/"]
    index.unlink()
    assert last_runs(archive, SOURCES, 5) == expected


def test_the_reports_of_an_archive_mounted_read_only_are_read_one_by_one(tmp_path):
    archive, view = tmp_path / "archive", tmp_path / "view"
    old_reports(archive, 30)
    view.mkdir()
    if subprocess.run(["mount", "--bind", str(archive), str(view)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here (needs root)")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
        assert last_runs(view, SOURCES) == read_last_runs(archive, SOURCES)
        assert last_runs(view, SOURCES)[0]["ledger"][0]["fetched"] == 29
        assert not (archive / "state").exists()
        assert sources_with_runs(view) == sources_with_runs(archive) == SOURCES  # one by one, and indexed
    finally:
        subprocess.run(["umount", "-l", str(view)], check=True)


def test_an_index_that_cannot_be_made_on_a_full_disk_is_not_called_damaged(small_disk, caplog):
    """Before: "the run reports' index … is damaged (database or disk is full)", and a 0-byte file left."""
    from archive_fixtures import fill

    archive = small_disk / "archive"
    old_reports(archive, 30)
    (archive / "state").mkdir()
    fill(small_disk)
    with caplog.at_level(logging.INFO):
        assert last_runs(archive, SOURCES) == read_last_runs(archive, SOURCES)
    assert not [record for record in caplog.records if "damaged" in record.message]
    assert [record for record in caplog.records if "read one by one" in record.message]
