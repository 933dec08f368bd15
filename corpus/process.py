"""The derivation beside a crawl, in its own process: it follows the WARCs as they are written.

The run starts it before the crawl and tells it, on its stdin, when the crawl is done; it
then catches up, writes corpus.jsonl and prints its report as one JSON line on its stdout.
It shares nothing with the crawl but the archive directory.  It dies with the run
(``die_with_parent``), and a run that finds it dead starts another to catch up: what it
had not committed is derived again from the WARCs.

    python -m corpus.process ROOT WORKERS PARENT_PID [PROGRESS_SECONDS]
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from corpus.derive import DeriveReport, progress_lines
from supervision import (die_with_parent, dump_stacks_on_signal, leave_stop_signals_to_the_run, module_command,
                         stop_signals_blocked_for_children)

DONE = b"done\n"


class DerivationProcess:
    """The run's handle on its derivation process."""

    def __init__(self, archive_dir: Path, workers: int, follow: bool = True, progress: float = 0.0):
        """``progress``: seconds between progress lines on stderr (0: none)."""
        command, env = module_command("corpus.process", str(archive_dir), str(workers), str(os.getpid()),
                                      str(progress))
        with stop_signals_blocked_for_children():
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        if not follow:
            self._say_done()

    @property
    def pid(self) -> int:
        return self._process.pid

    def exit_code(self) -> int | None:
        """None while it runs."""
        return self._process.poll()

    def _say_done(self) -> None:
        try:
            self._process.stdin.write(DONE)
            self._process.stdin.close()
        except (BrokenPipeError, ValueError):  # it is gone already, or was told
            pass

    def finish(self) -> DeriveReport | None:
        """Tell it the crawl is done and wait for it to catch up; None if it died."""
        self._say_done()
        out = self._process.stdout.read()
        self._process.stdout.close()
        if self._process.wait() != 0:
            return None
        try:
            return DeriveReport.from_dict(json.loads(out))
        except ValueError:
            return None

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()


def main() -> None:
    root, workers, parent = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    progress = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    die_with_parent(parent)
    dump_stacks_on_signal()
    leave_stop_signals_to_the_run()  # the run stops its crawl on Ctrl-C or SIGTERM, and then tells this process
    logging.basicConfig(level=logging.WARNING, format="newsarchive derive: %(levelname)s: %(message)s")
    report_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the report
    # The run's word comes on a private descriptor read with os.read: a thread blocked in
    # sys.stdin would hold its lock across the fork of each extraction worker, which closes
    # sys.stdin first and would wait for that lock forever.
    orders = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    done = threading.Event()

    def listen() -> None:
        heard = b""
        while not heard.endswith(b"\n") and (chunk := os.read(orders, 64)):
            heard += chunk
        if heard != DONE:  # the run died without a word: so do we
            os._exit(1)
        done.set()

    threading.Thread(target=listen, daemon=True).start()
    from archive import WARC_DIR
    from corpus.derive import Derivation, ArchiveWarcs, storage_error

    try:
        with Derivation(root, ArchiveWarcs(root / WARC_DIR), workers) as derivation:
            with progress_lines(derivation.report, progress):
                derivation.follow(lambda timeout: not done.wait(timeout))
                report = derivation.catch_up()
    except (OSError, sqlite3.Error) as exc:  # a full disk, a broken store: the run says so in one line
        report = DeriveReport(error=storage_error(root, exc))
    report_out.write(json.dumps(report.to_dict()).encode("utf-8") + b"\n")
    report_out.close()


if __name__ == "__main__":
    main()
