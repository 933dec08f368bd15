"""``newsarchive replay``: serve the whole archive in pywb on 127.0.0.1, with no set-up steps.

pywb lives in its own venv (created on first use; ``replay_venv`` says where): it installs
brotlipy, whose ``brotli`` module shadows the Google ``brotli`` Scrapy needs to decode br responses.
Instead of ``wb-manager`` collections we generate a pywb config that points one collection
at the archive's ``warc/`` directory and its replay index (a directory of sorted CDXJ files,
``archive/index.py``).  pywb reads that directory on every lookup and crawls add to it when
they close a WARC, so captures written while replay runs appear without a restart.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from archive import WARC_DIR
from archive.atomic import write_atomic
from archive.index import changed_since_indexed, update_index
from archive.lock import ArchiveUnwritable
from archive.recover import torn_at
from supervision import die_with_parent, stop_process

PYWB_REQUIREMENT = "pywb==2.10.0"
# warcio 1.8.2 (pywb's dependency, unpinned) decodes br with brotlicffi, no longer with brotlipy's ``brotli``: without
# it pywb serves a br page's archived bytes undecoded to a browser that never asked for br.
REPLAY_REQUIREMENTS = (PYWB_REQUIREMENT, "brotlicffi>=1.2.1.0")
REPLAY_VENV_ENV = "NEWSARCHIVE_REPLAY_VENV"
# In the replay venv, written once pip installed REPLAY_REQUIREMENTS: a venv without it, or with others, is updated.
REQUIREMENTS_STAMP = "newsarchive-requirements.txt"
COLLECTION = "archive"
REPLAY_DIR = "replay"


def timestamp14(warc_date: str) -> str:
    """A WARC-Date as the 14-digit timestamp of replay URLs (``/archive/<timestamp>/<url>``)."""
    return re.sub(r"\D", "", warc_date)[:14]


def replay_venv(package_root: Path = Path(__file__).resolve().parent.parent) -> Path:
    """Where pywb's venv lives: ``$NEWSARCHIVE_REPLAY_VENV`` if set; ``.venv-replay`` in a source
    checkout (beside ``pyproject.toml``, where ``./quickstart`` makes it); else the user's data
    directory, as an installed package's own directory (site-packages) is no place for a venv
    and may not be writable."""
    if os.environ.get(REPLAY_VENV_ENV):
        return Path(os.environ[REPLAY_VENV_ENV])
    if (package_root / "pyproject.toml").is_file():
        return package_root / ".venv-replay"
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "newsarchive" / "venv-replay"


class CannotServe(Exception):
    """A server cannot start; the message says why in one line."""


class PywbMissing(CannotServe):
    """pywb is not installed and cannot be: replay is unavailable, what does not need it goes on."""


def replay_tool(name: str, venv: Path | None = None) -> Path:
    """A console script of the replay venv (``wayback``, ``wb-manager``, ``warcio``), installing pywb if needed;
    ``PywbMissing`` saying why in one line if it cannot be installed (offline, no ``venv`` module).

    A venv made with other requirements (by an older newsarchive) is brought up to date in place; should that fail,
    one line says so and the venv serves as it is (the next start tries again)."""
    venv = venv or replay_venv()
    tool = venv / "bin" / name
    if made_with(venv) == REPLAY_REQUIREMENTS:  # no pip, no network: nothing changed since it was made
        return tool
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two first uses at once: one installs, the other waits for it
        if made_with(venv) != REPLAY_REQUIREMENTS:
            try:
                _install_pywb(venv)
            except PywbMissing as failed:
                if not (venv / "bin" / "wayback").exists():  # pip installs pywb after its dependencies
                    raise
                print(f"newsarchive: {failed}; using it as it is", file=sys.stderr, flush=True)
    return tool


def made_with(venv: Path) -> tuple[str, ...] | None:
    """The requirements the replay venv was installed with (its stamp), None if unknown: made by a newsarchive
    that wrote no stamp, not made yet, or its install did not finish."""
    try:
        return tuple((venv / REQUIREMENTS_STAMP).read_text(encoding="utf-8").split())
    except OSError:
        return None


def _install_pywb(venv: Path) -> None:
    if (venv / "bin" / "python").exists():
        print(f"newsarchive: updating pywb's venv {venv} to {' '.join(REPLAY_REQUIREMENTS)} (made by an "
              "older newsarchive)", file=sys.stderr, flush=True)
        steps = []
    else:
        print(f"newsarchive: installing pywb into {venv} (first use; it is kept apart from the crawl venv "
              "because its brotlipy shadows the brotli module Scrapy needs)", file=sys.stderr, flush=True)
        steps = [[sys.executable, "-m", "venv", str(venv)]]
    steps.append([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *REPLAY_REQUIREMENTS])
    for step in steps:
        try:
            done = subprocess.run(step, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")
        except OSError as exc:
            done = subprocess.CompletedProcess(step, 1, "", str(exc))
        if done.returncode != 0:
            said = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
            why = next((line for line in reversed(said) if line.startswith("ERROR")), said[-1] if said else "")
            raise PywbMissing(
                f"cannot install pywb into {venv}: `{' '.join(step[-3:])}` exited {done.returncode}"
                + (f" ({why[:300]})" if why else "") + f"; with the package index reachable the next start "
                f"installs it, or install {' '.join(REPLAY_REQUIREMENTS)} into a venv and name it in ${REPLAY_VENV_ENV}")
    write_atomic(venv / REQUIREMENTS_STAMP, "".join(f"{line}\n" for line in REPLAY_REQUIREMENTS).encode())


def write_pywb_config(archive_dir: Path) -> Path:
    """Write ``replay/config.yaml``: collection ``archive`` over the archive's WARCs and index."""
    archive_dir = Path(archive_dir).resolve()
    index = update_index(archive_dir)
    root = archive_dir / REPLAY_DIR
    root.mkdir(parents=True, exist_ok=True)
    # JSON strings are YAML strings, so paths need no further quoting.
    config = (
        "# Written by `newsarchive replay` on every start; edits are lost.\n"
        "collections:\n"
        f"  {COLLECTION}:\n"
        f"    index_paths: {json.dumps(str(index) + '/')}\n"
        f"    archive_paths: {json.dumps(str(archive_dir / WARC_DIR) + '/')}\n"
        "enable_memento: true\n"
    )
    (root / "config.yaml").write_text(config, encoding="utf-8")
    return root


def listen(port: int) -> socket.socket:
    """A TCP socket listening on 127.0.0.1:``port``, or ``CannotServe`` saying why not.

    Listening at once, not only bound: a socket merely bound lets another with SO_REUSEADDR (pywb's,
    on the same port) bind it too, and the first to listen wins."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen()
    except (OSError, OverflowError) as error:  # taken, not ours to take (< 1024), or no port number at all
        sock.close()
        raise CannotServe(f"cannot listen on 127.0.0.1:{port}: {getattr(error, 'strerror', None) or error}") from None
    return sock


def start_pywb(archive_dir: Path, port: int, output: IO | None = None) -> subprocess.Popen:
    """pywb serving the archive on 127.0.0.1:``port``, as a child that dies with this process.

    A busy port is ``CannotServe``, said before anything else (not pywb's traceback).  pywb
    gets a session of its own, so Ctrl-C at the terminal reaches only us, and we stop it:
    interrupted itself, it prints a traceback from wherever it was.
    """
    listen(port).close()
    try:
        root = write_pywb_config(archive_dir)
    except OSError as exc:  # a read-only archive: its indexes and pywb's config cannot be brought up to date
        raise ArchiveUnwritable(f"cannot write {exc.filename or archive_dir}: {exc.strerror or exc}") from None
    wayback = replay_tool("wayback")
    parent = os.getpid()
    return subprocess.Popen([str(wayback), "-b", "127.0.0.1", "-p", str(port), "-d", str(root)],
                            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT if output else None,
                            start_new_session=True, preexec_fn=lambda: die_with_parent(parent))


def await_listening(process: subprocess.Popen, port: int, timeout: float = 30.0) -> bool:
    """Whether pywb (``process``) accepts connections on 127.0.0.1:``port`` within ``timeout`` seconds: it
    takes a few seconds to start, and a page linking to it before then links to nothing. False if it ends."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def serve(archive_dir: Path, port: int = 8080) -> int:
    """Index what is missing, write the pywb config and serve until Ctrl-C or SIGTERM (0), or pywb's exit code
    should it end by itself; ``CannotServe`` if the port is taken."""
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGTERM stops as Ctrl-C does (even where SIGINT was ignored)
        signal.signal(signum, signal.default_int_handler)
    process = None
    try:
        process = start_pywb(archive_dir, port)
        # (indexed by now; a WARC changed since is read from its last indexed record: the others cost a stat)
        for warc in sorted((Path(archive_dir) / WARC_DIR).glob("*.warc.gz")):
            if changed_since_indexed(archive_dir, warc) and (end := torn_at(archive_dir, warc)) is not None:
                print(f"newsarchive: replay: {warc.name} is cut short or damaged after offset {end}: its records "
                      "past it cannot be replayed (pywb answers 503); `newsarchive check` says what is lost",
                      file=sys.stderr, flush=True)
        await_listening(process, port)  # said once it answers; should it end instead, its exit code says so
        print(f"newsarchive: replaying {archive_dir} at http://127.0.0.1:{port}/{COLLECTION}/ "
              f"(e.g. http://127.0.0.1:{port}/{COLLECTION}/*/<url> lists the captures of a URL); "
              "Ctrl-C stops", file=sys.stderr, flush=True)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # pywb is stopped whatever comes next
            signal.signal(signum, signal.SIG_IGN)
        if process is not None:
            stop_process(process)
