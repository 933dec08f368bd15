"""``newsarchive browse``: the web app on 127.0.0.1, with pywb beside it for the archived originals.

The listening socket is bound here, before anything starts, so a busy port is one line, not a
server's traceback.  pywb runs as a child process that dies with this one (its output goes to
``replay/pywb.log``); uvicorn serves the app on the socket until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import signal
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from archive.lock import check_writable
from archive.replay import CannotServe, listen
from corpus.derive import storage_error
from corpus.store import STORE_FILE, CorpusStore, no_corpus_yet
from supervision import stop_process

__all__ = ["CannotServe", "serve_browser"]


def serve_browser(archive_dir: Path, port: int, replay_port: int | None, configured: Sequence[str] = ()) -> None:
    """Serve the browser until Ctrl-C or SIGTERM; ``CannotServe`` if there is no corpus or a port is taken,
    ``ArchiveUnwritable`` if the corpus store's directory is read-only (SQLite's WAL must write beside it).
    The sources ``configured`` have pages before they have articles."""
    archive_dir = Path(archive_dir)
    if missing := no_corpus_yet(archive_dir):
        raise CannotServe(missing)
    check_writable((archive_dir / STORE_FILE).parent)  # the store's WAL, and its search index on first use
    sock = listen(port)
    replay = None
    # SIGTERM stops as Ctrl-C does, also before uvicorn takes the signals over and when it passes
    # them on after its shutdown.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    try:
        import uvicorn

        from archive.replay import COLLECTION, REPLAY_DIR, PywbMissing, await_listening, start_pywb
        from browse.app import create_app

        try:
            CorpusStore(archive_dir).close()  # a store made before the search index gets it now, once
        except sqlite3.DatabaseError as exc:  # said as derive and check say it
            raise CannotServe(storage_error(archive_dir, exc)) from None
        if replay_port:
            (archive_dir / REPLAY_DIR).mkdir(exist_ok=True)
            try:
                with open(archive_dir / REPLAY_DIR / "pywb.log", "ab") as log:
                    replay = start_pywb(archive_dir, replay_port, log)
            except PywbMissing as exc:  # the corpus is still there to search and read
                print(f"newsarchive: {exc}; browsing without replay (articles link to no original)",
                      file=sys.stderr, flush=True)
                replay_port = None
            # the app links to pywb from its first page: it is up before the app says it serves
            if replay is not None and not await_listening(replay, replay_port):
                print(f"newsarchive: pywb is not answering on 127.0.0.1:{replay_port} (see "
                      f"{archive_dir / REPLAY_DIR / 'pywb.log'}); originals will not replay until it does",
                      file=sys.stderr, flush=True)
        replay_base = f"http://127.0.0.1:{replay_port}/{COLLECTION}" if replay_port else None
        print(f"newsarchive: browsing {archive_dir} at http://127.0.0.1:{port}/"
              + (f" (originals replayed by pywb at {replay_base}/)" if replay else "") + "; Ctrl-C stops",
              file=sys.stderr, flush=True)
        server = uvicorn.Server(uvicorn.Config(create_app(archive_dir, replay_base, configured), log_level="warning",
                                               access_log=False))
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C while starting (or passed on by uvicorn once it has stopped): done
        pass
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # pywb is stopped whatever comes next
            signal.signal(signum, signal.SIG_IGN)
        sock.close()
        if replay is not None:
            stop_process(replay)
