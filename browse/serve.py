"""``newsarchive browse``: the web app on 127.0.0.1, with pywb beside it for the archived originals.

The listening socket is bound here, before anything starts, so a busy port is one line, not a
server's traceback.  pywb runs as a child process that dies with this one (its output goes to
``replay/pywb.log``); uvicorn serves the app on the socket until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from corpus.store import STORE_FILE, CorpusStore


class CannotServe(Exception):
    """The browser cannot start; the message says why in one line."""


def listen(port: int) -> socket.socket:
    """A TCP socket bound to 127.0.0.1:``port``, or ``CannotServe`` saying why not."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as error:
        sock.close()
        raise CannotServe(f"cannot listen on 127.0.0.1:{port}: {error.strerror or error}") from None
    return sock


def _start_replay(archive_dir: Path, port: int) -> subprocess.Popen:
    from archive.replay import replay_tool, write_pywb_config
    from supervision import die_with_parent

    listen(port).close()  # busy: said now, in one line, rather than in pywb's log
    root = write_pywb_config(archive_dir)
    wayback = replay_tool("wayback")
    parent = os.getpid()
    with open(root / "pywb.log", "ab") as log:
        return subprocess.Popen([str(wayback), "-b", "127.0.0.1", "-p", str(port), "-d", str(root)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: die_with_parent(parent))


def serve_browser(archive_dir: Path, port: int, replay_port: int | None) -> None:
    """Serve the browser until stopped; ``CannotServe`` if there is no corpus or a port is taken."""
    import uvicorn

    from archive.replay import COLLECTION
    from browse.app import create_app

    archive_dir = Path(archive_dir)
    if not (archive_dir / STORE_FILE).exists():
        raise CannotServe(f"{archive_dir} holds no corpus yet (no {STORE_FILE}); `newsarchive run` or "
                          "`newsarchive derive` makes it")
    CorpusStore(archive_dir).close()  # a store made before the search index gets it now, once
    sock = listen(port)
    replay = _start_replay(archive_dir, replay_port) if replay_port else None
    replay_base = f"http://127.0.0.1:{replay_port}/{COLLECTION}" if replay_port else None
    print(f"newsarchive: browsing {archive_dir} at http://127.0.0.1:{port}/"
          + (f" (originals replayed by pywb at {replay_base}/)" if replay else "") + "; Ctrl-C stops",
          file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(archive_dir, replay_base), log_level="warning",
                                           access_log=False))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        if replay is not None:
            replay.terminate()
            replay.wait()
