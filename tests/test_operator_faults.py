"""What an operator meets at a terminal or in a cron mail: one clear line, the documented exit code,
no traceback, no process left behind, nothing archived lost.

Read-only directories are real read-only mounts (a tmpfs, a bind mount remounted read-only):
the tests run as root, for whom a ``chmod``-ed directory is still writable.  Where mounting is
not allowed they are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_fixtures import free_port, free_ports, newsarchive

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """An archive that holds data: the demo's (its sites are gone once it has run), on ports of its own
    (a person's `newsarchive demo --serve` may hold the default ones)."""
    out = tmp_path_factory.mktemp("demo")
    result = newsarchive("demo", "--out", str(out), "--port", str(free_ports()))
    assert result.returncode == 0, result.stderr
    return out


def copy_archive(archive: Path, to: Path) -> Path:
    """A copy of ``archive`` at ``to`` with its sources file pointing there; the sources file's path."""
    shutil.copytree(archive, to, dirs_exist_ok=True)
    config = to / "sources.toml"
    config.write_text(config.read_text().replace(str(archive), str(to)))
    return config


def digests(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def read_only(tmp_path) -> Iterator:
    """``read_only(path)`` makes ``path`` (a directory) a read-only mount of itself until the test ends."""
    mounted: list[Path] = []

    def make(path: Path) -> None:
        if not _mount("--bind", str(path), str(path)):
            pytest.skip("cannot bind-mount here (needs root)")
        mounted.append(path)
        if not _mount("-o", "remount,bind,ro", str(path)):
            pytest.skip("cannot remount read-only here")

    yield make
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=True)


def assert_one_line(result: subprocess.CompletedProcess, code: int, *words: str) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    for word in words:
        assert word in line, line
    return line


@pytest.mark.parametrize("command", [["run"], ["derive"], ["check"], ["check", "--repair"]])
def test_a_read_only_archive_that_holds_data_is_one_line_and_exit_2_and_stays_as_it_was(
        archive, tmp_path, read_only, command):
    root = tmp_path / "archive"
    root.mkdir()
    config = copy_archive(archive, root)
    before = digests(root)
    read_only(root)
    result = newsarchive(*command, "--config", str(config))
    assert_one_line(result, 2, str(config), "[archive] dir", str(root), "Read-only file system")
    assert digests(root) == before


def test_a_run_whose_warc_directory_is_read_only_says_so_before_fetching_anything(archive, tmp_path, read_only):
    root = tmp_path / "archive"
    root.mkdir()
    config = copy_archive(archive, root)
    before = digests(root / "warc")
    read_only(root / "warc")
    result = newsarchive("run", "--config", str(config))
    assert_one_line(result, 2, str(config), f"cannot write in {root / 'warc'}", "Read-only file system")
    assert digests(root / "warc") == before
    assert not list((root / "runs").glob("*.json"))[len(list((archive / "runs").glob("*.json"))):]


def _pywb_processes(port: int) -> list[str]:
    table = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout.splitlines()
    return [line for line in table if "wayback" in line and f"-p {port}" in line]


def test_replay_on_a_busy_port_is_one_line_before_it_says_it_is_replaying(archive):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = newsarchive("replay", "--config", str(archive / "sources.toml"), "--port", str(port), timeout=120)
    line = assert_one_line(result, 1, f"127.0.0.1:{port}", "in use")
    assert "replaying" not in line
    assert _pywb_processes(port) == []


def _stop_after(command: list[str], ready: str, signum: int) -> tuple[subprocess.CompletedProcess, list[int]]:
    """Start ``newsarchive COMMAND``, wait for ``ready`` on stderr, send ``signum``; its result and its children."""
    process = subprocess.Popen([sys.executable, "-m", "cli", *command], cwd=REPO, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if ready in line or not line:
            break
    time.sleep(1)  # pywb and the server are up
    children = [int(pid) for pid in subprocess.run(["ps", "-o", "pid=", "--ppid", str(process.pid)],
                                                   capture_output=True, text=True).stdout.split()]
    process.send_signal(signum)
    rest = process.stderr.read()
    process.wait(timeout=60)
    return subprocess.CompletedProcess(command, process.returncode, "", "".join(lines) + rest), children


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("command", ["replay", "browse"])
def test_ctrl_c_or_sigterm_stops_replay_and_browse_cleanly_with_no_pywb_left(archive, command, signum):
    port = free_port()
    args = [command, "--config", str(archive / "sources.toml"), "--port", str(port)]
    if command == "browse":
        args += ["--replay-port", str(free_port())]
    result, children = _stop_after(args, "Ctrl-C stops", signum)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "KeyboardInterrupt" not in result.stderr
    assert children, "pywb was not started"
    time.sleep(1)
    assert not [pid for pid in children if _alive(pid)]


# A SIGTERM (`kill PID`, systemd's stop), a real one the export sends itself as its third row goes out.
SIGTERM_AT_THE_THIRD_ROW = """
import os, runpy, signal, sys
import corpus.export
real = corpus.export._rows_with_text
def rows_then_sigterm(*args):
    for count, row in enumerate(real(*args), 1):
        if count == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        yield row
corpus.export._rows_with_text = rows_then_sigterm
sys.argv = ["cli", *sys.argv[1:]]
runpy.run_module("cli", run_name="__main__")
"""


def test_a_sigterm_to_an_export_midway_stops_it_in_one_line_and_writes_nothing(archive, tmp_path):
    """Before: the signal's default action ended it (exit -15), no word, its half-written temporary file left."""
    out = tmp_path / "corpus.jsonl"
    config = str(archive / "sources.toml")
    result = subprocess.run([sys.executable, "-c", SIGTERM_AT_THE_THIRD_ROW, "export", "--config", config, "--out",
                             str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stderr.splitlines()) == (143, [
        "newsarchive: stopped by SIGTERM; what was done is kept, and the same command goes on from there"])
    assert list(tmp_path.iterdir()) == []
    again = newsarchive("export", "--config", config, "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert len(out.read_text().splitlines()) == len((archive / "corpus.jsonl").read_text().splitlines()) > 3


def test_rebuild_says_which_file_is_no_warc_in_one_line_and_rebuilds_the_others(archive, tmp_path):
    bogus = tmp_path / "notes.warc.gz"
    bogus.write_text("these are notes, not a web archive\n")
    warcs = sorted((archive / "warc").glob("*.warc.gz"))
    result = newsarchive("rebuild", "--warc", str(bogus), *map(str, warcs), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if "notes.warc.gz" in line]
    assert "not a WARC" in line
    rebuilt = (tmp_path / "out" / "corpus.jsonl").read_bytes()
    assert rebuilt and rebuilt == (archive / "corpus.jsonl").read_bytes()


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_rebuild_with_no_workers_is_a_usage_error_in_one_line(archive, tmp_path, workers):
    result = newsarchive("rebuild", "--warc", *map(str, (archive / "warc").glob("*.warc.gz")),
                         "--out", str(tmp_path / "out"), "--workers", workers)
    assert_one_line(result, 2, "--workers")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("workers", ["99999999999", str(4 * os.cpu_count() + 1)], ids=["huge", "over_4_per_cpu"])
def test_rebuild_with_more_workers_than_the_machine_runs_is_a_usage_error_in_one_line(archive, tmp_path, workers):
    """Not an OverflowError traceback, nor hundreds of processes forked on a small machine."""
    result = newsarchive("rebuild", "--warc", *map(str, (archive / "warc").glob("*.warc.gz")),
                         "--out", str(tmp_path / "out"), "--workers", workers)
    line = assert_one_line(result, 2, "--workers", f"from 1 to {4 * os.cpu_count()}", workers)
    assert "4 per CPU" in line
    assert not (tmp_path / "out").exists()
    help_text = newsarchive("rebuild", "--help").stdout
    assert f"1 to {4 * os.cpu_count()}" in " ".join(help_text.split())


def test_status_read_by_a_pipe_that_closes_early_ends_without_a_broken_pipe(tmp_path):
    """Output far longer than a pipe holds, so ``head`` leaves while status still writes."""
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path}"\n' + "".join(
        f'[[sources]]\nname = "source-{n}"\nstart_urls = ["http://127.0.0.1:9/{n}"]\n' for n in range(2000)))
    result = subprocess.run(f"{sys.executable} -m cli status --config {config} | head -3", shell=True,
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert len(result.stdout.splitlines()) == 3
    assert result.stderr == "", result.stderr


def test_a_dead_host_is_one_line_per_url_in_the_report_once(tmp_path):
    """(Also in test_failures; here as an operator reads it: the summary says each URL failed once.)"""
    port = free_port()
    urls = [f"http://127.0.0.1:{port}/{path}" for path in ("", "news", "sport")]
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{tmp_path}"\n[crawl]\ndownload_delay = 0\nautothrottle = false\n'
                      f'timeout = 5\n[[sources]]\nname = "dead"\nstart_urls = {json.dumps(urls)}\n')
    result = newsarchive("run", "--config", str(config))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "failed fetches: 3 " in result.stderr
    for url in urls:
        assert len([line for line in result.stderr.splitlines() if f"{url}:" in line]) == 1, result.stderr


@pytest.mark.parametrize("command", [["browse", "--no-replay"], ["replay"], ["export", "--out", "OUT"]])
def test_commands_that_read_the_archive_say_in_one_line_that_it_is_read_only(archive, tmp_path, read_only, command):
    """Replay brings the indexes up to date and SQLite's WAL writes beside the store: they need to write."""
    root = tmp_path / "archive"
    root.mkdir()
    config = copy_archive(archive, root)
    before = digests(root)
    read_only(root)
    args = [str(tmp_path / "out.jsonl") if arg == "OUT" else arg for arg in command]
    if command[0] in ("browse", "replay"):
        args += ["--port", str(free_port())]
    result = newsarchive(*args, "--config", str(config), timeout=120)
    assert_one_line(result, 2, str(config), "[archive] dir", str(root), "Read-only file system")
    assert digests(root) == before


@pytest.mark.parametrize(("command", "out", "words"), [
    (["export"], "DIR", ["--out", "is a directory"]),
    (["export"], "/proc/x.jsonl", ["--out", "cannot write in /proc"]),
    (["package"], "DIR", ["--out", "is a directory"]),
    (["package"], "/proc/x.wacz", ["--out", "cannot write in /proc"]),
    (["export"], "FILE/x.jsonl", ["--out", "is a file, not a directory"]),
    (["package"], "FILE/x.wacz", ["--out", "is a file, not a directory"]),
    (["rebuild", "--warc", "WARCS"], "FILE", ["is a file, not a directory"]),
    (["rebuild", "--warc", "WARCS"], "/proc/x", ["/proc/x", "cannot make"]),
])
def test_an_out_that_cannot_be_written_is_one_line_and_exit_2(archive, tmp_path, command, out, words):
    file = tmp_path / "notes.txt"
    file.write_text("mine\n")
    out = out.replace("FILE", str(file)) if out.startswith("FILE") else {"DIR": str(tmp_path)}.get(out, out)
    warcs = [str(path) for path in sorted((archive / "warc").glob("*.warc.gz"))]
    args = [arg for word in command for arg in (warcs if word == "WARCS" else [word])]
    if command[0] != "rebuild":
        args += ["--config", str(archive / "sources.toml")]
    result = newsarchive(*args, "--out", out, timeout=120)
    assert_one_line(result, 2, out, *words)
    assert file.read_text() == "mine\n"


@pytest.mark.parametrize("command", [["export", "--out", "OUT"], ["browse", "--no-replay"], ["browse"], ["derive"]])
def test_a_damaged_corpus_store_is_one_line_naming_check_repair(archive, tmp_path, command):
    root = tmp_path / "archive"
    root.mkdir()
    config = copy_archive(archive, root)
    for path in (root / "derived").glob("corpus.sqlite*"):
        path.unlink()
    (root / "derived" / "corpus.sqlite").write_bytes(b"these are not the pages of a database\n" * 100)
    args = [str(tmp_path / "out.jsonl") if arg == "OUT" else arg for arg in command]
    if command[0] == "browse":
        args += ["--port", str(free_port()), "--replay-port", str(free_port())]
    result = newsarchive(*args, "--config", str(config), timeout=120)
    assert_one_line(result, 1, "corpus store is damaged", str(root), "newsarchive check --repair")
    assert not (tmp_path / "out.jsonl").exists()


def test_rebuild_on_a_scheduler_that_is_no_address_is_one_line_and_exit_2(archive, tmp_path):
    result = newsarchive("rebuild", "--warc", *map(str, (archive / "warc").glob("*.warc.gz")),
                         "--out", str(tmp_path / "out"), "--scheduler", "bogus", timeout=120)
    assert_one_line(result, 2, "'bogus'", "local", "tcp://HOST:PORT")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("site", "words"), [("nowhere", ["no such directory"]), ("FILE", ["not a directory"])])
def test_extract_site_that_is_no_directory_is_one_line_and_exit_2(tmp_path, site, words):
    (tmp_path / "page.html").write_text("<html><body><p>hello</p></body></html>")
    site = str(tmp_path / "page.html") if site == "FILE" else str(tmp_path / site)
    result = newsarchive("extract", "--site", site)
    assert_one_line(result, 2, f"--site {site}", *words)
    assert result.stdout == ""


def test_browse_with_the_replay_port_its_own_port_is_one_line_and_exit_2(archive):
    port = free_port()
    result = newsarchive("browse", "--config", str(archive / "sources.toml"), "--port", str(port),
                         "--replay-port", str(port), timeout=120)
    line = assert_one_line(result, 2, f"--port {port}", "--replay-port")
    assert "browsing" not in line
    assert _pywb_processes(port) == []


@pytest.mark.parametrize("taken", ["--port", "--replay-port"])
def test_browse_on_a_port_another_program_listens_on_is_one_line_and_exit_1(archive, taken):
    ports = {"--port": free_port(), "--replay-port": free_port()}
    with socket.socket() as other:
        other.bind(("127.0.0.1", ports[taken]))
        other.listen()
        result = newsarchive("browse", "--config", str(archive / "sources.toml"),
                             *[str(arg) for item in ports.items() for arg in item], timeout=120)
    line = assert_one_line(result, 1, f"127.0.0.1:{ports[taken]}", "in use")
    assert "browsing" not in line
    assert _pywb_processes(ports["--replay-port"]) == []


def test_browses_socket_listens_before_pywb_starts_so_pywb_cannot_share_its_port(archive):
    """Below the command line's check of equal ports: a socket only bound let pywb (SO_REUSEADDR) bind it too."""
    port = free_port()
    result = subprocess.run([sys.executable, "-c", "import sys; from browse.serve import CannotServe, serve_browser\n"
                             f"try: serve_browser({str(archive)!r}, {port}, {port})\n"
                             "except CannotServe as exc: sys.exit(f'cannot serve: {exc}')"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert_one_line(result, 1, "cannot serve", f"127.0.0.1:{port}", "in use")
    assert _pywb_processes(port) == []


@pytest.mark.parametrize("command", ["rebuild", "import"])
@pytest.mark.parametrize(("given", "words", "code"), [
    ("DIR", ["a directory with no web archive in it"], {"rebuild": 2, "import": 1}),
    ("TRUNCATED", ["cut short or damaged", "not a complete WACZ"], {"rebuild": 1, "import": 1}),
])
def test_an_empty_directory_or_a_cut_wacz_given_as_an_archive_is_one_line_saying_so(archive, tmp_path, command, given,
                                                                                    words, code):
    (tmp_path / "empty").mkdir()
    wacz = tmp_path / "whole.wacz"
    assert newsarchive("package", "--config", str(archive / "sources.toml"), "--out", str(wacz)).returncode == 0
    cut = tmp_path / "cut.wacz"
    cut.write_bytes(wacz.read_bytes()[:30_000])
    path = str(tmp_path / "empty") if given == "DIR" else str(cut)
    if command == "rebuild":
        result = newsarchive("rebuild", "--warc", path, "--out", str(tmp_path / "out"))
    else:
        root = tmp_path / "archive"
        root.mkdir()
        (root / "sources.toml").write_text(f'[archive]\ndir = "{root}"\n')
        result = newsarchive("import", "--config", str(root / "sources.toml"), path)
    assert result.returncode == code[command], result.stderr
    assert "Traceback" not in result.stderr and "\\x" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if Path(path).name in line]
    for word in words:
        assert word in line, line


def test_export_out_dash_writes_json_lines_to_stdout_not_a_file_named_dash(archive, tmp_path):
    config = str(archive / "sources.toml")
    assert newsarchive("export", "--config", config, "--out", str(tmp_path / "corpus.jsonl")).returncode == 0
    result = subprocess.run([sys.executable, "-m", "cli", "export", "--config", config, "--out", "-"],
                            cwd=tmp_path, capture_output=True, timeout=120, env={"PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stdout == (tmp_path / "corpus.jsonl").read_bytes() != b""
    count = len(result.stdout.splitlines())
    assert result.stderr.decode().splitlines() == [f"{count} articles written to standard output"]
    assert not (tmp_path / "-").exists()
    piped = subprocess.run(f"{sys.executable} -m cli export --config {config} --out - | head -1", shell=True,
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert len(piped.stdout.splitlines()) == 1 and "Traceback" not in piped.stderr, piped.stderr
    parquet = newsarchive("export", "--config", config, "--out", "-", "--format", "parquet", cwd=tmp_path)
    assert_one_line(parquet, 2, "--out -", "Parquet")
    assert parquet.stdout == "" and not (tmp_path / "-").exists()


@pytest.mark.parametrize("command", ["export", "package", "rebuild"])
def test_writing_onto_a_full_disk_is_one_line_and_exit_1(archive, small_disk, command):
    """Before: a traceback ending in `OSError: [Errno 28]` (export, package) or SQLite's `cannot rollback`
    (rebuild), whose last line hid the cause."""
    from archive_fixtures import fill

    fill(small_disk, leave=20_000)
    out = small_disk / {"export": "corpus.jsonl", "package": "archive.wacz", "rebuild": "rebuilt"}[command]
    args = {"export": ["--config", str(archive / "sources.toml"), "--out", str(out)],
            "package": ["--config", str(archive / "sources.toml"), "--out", str(out)],
            "rebuild": ["--warc", *map(str, sorted((archive / "warc").glob("*.warc.gz"))), "--out", str(out)]}[command]
    result = newsarchive(command, *args)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"newsarchive {command}: cannot write"), result.stderr
    assert "(is the disk full?)" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("stray", ["broken link", "directory", "text file"])
def test_what_is_no_warc_among_the_warcs_is_one_line_for_check_and_package(archive, tmp_path, stray):
    """Before: tracebacks (FileNotFoundError, IsADirectoryError, warcio's ArchiveLoadFailed out of py-wacz)."""
    config = copy_archive(archive, tmp_path / "copy")
    odd = tmp_path / "copy" / "warc" / "odd.warc.gz"
    {"broken link": lambda: odd.symlink_to(tmp_path / "nowhere"), "directory": odd.mkdir,
     "text file": lambda: odd.write_text("hello\n")}[stray]()
    checked = newsarchive("check", "--config", str(config))
    assert checked.returncode == 1 and "Traceback" not in checked.stdout + checked.stderr
    assert [line for line in (checked.stdout + checked.stderr).splitlines() if "odd.warc.gz" in line]
    out = tmp_path / "copy.wacz"
    packaged = newsarchive("package", "--config", str(config), "--out", str(out))
    assert packaged.returncode == 1 and "Traceback" not in packaged.stderr, packaged.stderr
    assert len(packaged.stderr.splitlines()) == 1 and "odd.warc.gz" in packaged.stderr, packaged.stderr
    assert not out.exists()


@pytest.mark.parametrize("format", ["jsonl", "parquet"])
def test_export_of_an_archive_with_no_corpus_yet_says_so_and_creates_nothing(tmp_path, format):
    """An export only reads: on an archive whose WARCs were never derived it must not leave an empty store behind
    (which `browse` and `check` would then take for a corpus)."""
    archive = tmp_path / "archive"
    (archive / "warc").mkdir(parents=True)
    (archive / "warc" / "crawl.warc.gz").write_bytes(b"")
    config = tmp_path / "sources.toml"
    config.write_text(f'[archive]\ndir = "{archive}"\n')
    before = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*"))
    out = tmp_path / f"corpus.{format}"
    result = newsarchive("export", "--config", str(config), "--out", str(out), "--format", format)
    assert_one_line(result, 1, "holds no corpus yet", "newsarchive derive")
    assert sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("command", [["run"], ["derive"], ["check"], ["import", "none.warc.gz"], ["status"],
                                     ["export", "--out", "OUT.jsonl"], ["package", "--out", "OUT.wacz"],
                                     ["browse", "--no-replay", "--port", "9"], ["replay", "--port", "9"]])
def test_an_archive_dir_that_is_a_file_is_one_line_saying_so_and_the_file_stays(tmp_path, command):
    """`[archive] dir` naming a file said "File exists", which reads as if the archive were in the way, or
    (status, export, browse, package) took it for an archive with nothing in it yet."""
    taken = tmp_path / "archive"
    taken.write_text("notes\n")
    config = tmp_path / "sources.toml"
    config.write_text('[archive]\ndir = "archive"\n\n[[sources]]\nname = "news"\nstart_urls = ["http://127.0.0.1:9/"]\n')
    args = [arg.replace("OUT", str(tmp_path / "out")) for arg in command]
    result = newsarchive(*args, "--config", str(config))
    assert_one_line(result, 2, str(config), "[archive] dir", str(taken), "is a file, not a directory")
    assert taken.read_text() == "notes\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["archive", "sources.toml"]


@pytest.mark.parametrize("command", [["derive"], ["derive", "--anew"], ["check"], ["export", "--out", "OUT.jsonl"],
                                     ["package", "--out", "OUT.wacz"], ["browse", "--no-replay", "--port", "PORT"],
                                     ["replay", "--port", "PORT"]])
def test_a_command_that_reads_an_archive_dir_that_is_not_there_says_so_and_makes_nothing(tmp_path, command):
    """A typo in `[archive] dir`, or a disk not mounted: derive made an empty archive there and said it derived
    0 captures (exit 0), replay made its indexes, export and browse named `derive` as the way to a corpus."""
    config = tmp_path / "sources.toml"
    config.write_text('[archive]\ndir = "not-mounted/archive"\n\n[[sources]]\nname = "news"\n'
                      'start_urls = ["http://127.0.0.1:9/"]\n')
    args = [arg.replace("OUT", str(tmp_path / "out" / "corpus")).replace("PORT", str(free_port())) for arg in command]
    env = {**os.environ, "NEWSARCHIVE_REPLAY_VENV": str(tmp_path / "replay-venv"), "PIP_NO_INDEX": "1"}
    result = newsarchive(*args, "--config", str(config), env=env)
    assert_one_line(result, 1, f"newsarchive: {command[0]}: ", str(tmp_path / "not-mounted" / "archive"),
                    "no such directory")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sources.toml"]
