"""The archive writer process: the crawler's WARC writing, off the crawler's CPU.

A crawl is CPU-bound in Python, so WARC writing in a thread of the crawler (record
building, digests, zlib, SQLite) competes with it for the GIL; in its own process it runs
on the other core.  The crawler streams ``Exchange`` objects over this process's stdin and
reads back where each was written (``archive.messages``).

Requests (parent → child), each a tuple:
  ``("open", key, WriterOptions)``, ``("write", key, id, Exchange)``, ``("close", key)``
Replies (child → parent):
  ``("written", id, Archived)``, ``("failed", id, message)``, ``("closed", key, [file names])``,
  ``("full", id, message)``: the disk is full, and every later write of that crawler fails so too;
  ``("lost", id, message)``: the cluster's Redis (the revisit look-up's state) is unreachable, likewise

One process serves every crawler of a run, so the revisit decision sees the payloads
of every source written before it.  End of input closes whatever is still open, so the
WARCs are complete even when the crawler dies; SIGINT and SIGTERM are left to the
crawler, which shuts down cleanly and then closes the pipe.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from archive.archiver import ExchangeArchiver
from archive.atomic import disk_full
from archive.messages import WriterOptions, encode_message, read_messages
from archive.revisits import RevisitPolicy
from archive.state import open_state
from archive.writer import RollingWarcWriter
from supervision import dump_stacks_on_signal, leave_stop_signals_to_the_run

logger = logging.getLogger("newsarchive.writer")


@dataclass
class WriterService:
    """Everything the process holds: one archiver per open crawler, one state per archive."""

    archivers: dict[str, ExchangeArchiver] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)  # key -> why its WARC could not be opened
    # key -> ("full" or "lost", why): what every later write of that crawler meets too
    lasting: dict[str, tuple[str, str]] = field(default_factory=dict)
    policies: dict[str, RevisitPolicy] = field(default_factory=dict)
    indexing: dict[str, list[Future]] = field(default_factory=dict)  # key -> its WARCs' indexing
    indexer: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "cdxj"))

    def open(self, key: str, options: WriterOptions) -> None:
        archive_dir = options.archive_dir
        revisits = self._policy(archive_dir, options.state_url) if archive_dir and options.incremental else None
        futures: list[Future] = self.indexing.setdefault(key, [])

        def index(warc_path: Path) -> None:
            futures.append(self.indexer.submit(_index, archive_dir, warc_path))

        indexes = bool(archive_dir and options.index_on_close)
        if indexes:  # load cdxj-indexer (0.2 s) while the crawl starts, not when the crawl waits for the index
            self.indexer.submit(importlib.import_module, "archive.index")
        writer = RollingWarcWriter(Path(options.warc_dir), options.prefix, options.info, options.max_size,
                                   on_close=index if indexes else None)
        self.archivers[key] = ExchangeArchiver(writer, revisits)

    def _policy(self, archive_dir: str, state_url: str | None) -> RevisitPolicy:
        key = state_url or archive_dir
        if key not in self.policies:
            self.policies[key] = RevisitPolicy(open_state(Path(archive_dir), state_url))
        return self.policies[key]

    def close(self, key: str) -> list[str]:
        """Close a crawler's WARC and wait until every one of its WARCs is indexed."""
        files = self.archivers.pop(key).close()
        for future in self.indexing.pop(key, []):
            future.result()
        return files

    def handle(self, message: tuple) -> tuple | None:
        kind, key = message[0], message[1]
        if kind == "open":
            try:
                self.open(key, message[2])
            except Exception as exc:
                if _redis_lost(exc):  # its state is gone, not its WARC directory: each write says so, as below
                    self.lasting[key] = ("lost", str(exc))
                    return None
                logger.exception("cannot open a WARC in %s", message[2].warc_dir)
                self.broken[key] = f"cannot write WARCs in {message[2].warc_dir}: {type(exc).__name__}: {exc}"
            return None
        if kind == "write":
            exchange_id, exchange = message[2], message[3]
            if key in self.broken:
                return ("failed", exchange_id, self.broken[key])
            if key in self.lasting:
                return (self.lasting[key][0], exchange_id, self.lasting[key][1])
            try:
                return ("written", exchange_id, self.archivers[key].archive(exchange))
            except Exception as exc:  # say what failed and go on with the next exchange
                if disk_full(exc):  # every later write would fail too: the crawler stops its crawl
                    self.lasting[key] = ("full", f"the disk is full ({exc}) in {self.archivers[key].writer.directory}")
                    logger.error("could not archive %s: %s", exchange.uri, self.lasting[key][1])
                    return ("full", exchange_id, self.lasting[key][1])
                if _redis_lost(exc):  # likewise; the crawler says it, once, as it stops its crawl
                    self.lasting[key] = ("lost", str(exc))
                    return ("lost", exchange_id, str(exc))
                if isinstance(exc, OSError):  # the disk, not us: no traceback (the WARC is cut back whole)
                    logger.error("could not archive %s: %s", exchange.uri, exc)
                else:
                    logger.exception("could not archive %s", exchange.uri)
                return ("failed", exchange_id, f"{exchange.uri}: {type(exc).__name__}: {exc}")
        if kind == "close":
            self.lasting.pop(key, None)
            self.broken.pop(key, None)
            return ("closed", key, self.close(key) if key in self.archivers else [])  # (none if it never opened)
        raise ValueError(f"unknown message {kind!r}")

    def shutdown(self) -> None:
        for key in list(self.archivers):
            self.close(key)
        self.indexer.shutdown(wait=True)
        for policy in self.policies.values():
            policy.state.close()


def _redis_lost(exc: Exception) -> bool:
    """Whether the cluster's Redis, the crawl state of a cluster's writer, is unreachable."""
    from archive.redis_state import StateUnreachable  # (only a cluster's writer has Redis to lose)

    return isinstance(exc, StateUnreachable)


def _index(archive_dir: str, warc_path: Path) -> None:
    try:
        from archive.index import update_index  # loaded only by a writer that indexes (see open)

        update_index(Path(archive_dir), [warc_path])
    except Exception as exc:  # a broken index must not stop the crawl; replay re-indexes missing files
        if isinstance(exc, OSError):  # the disk, not us: one line
            logger.error("could not index %s: %s", warc_path, exc)
        else:
            logger.exception("could not index %s", warc_path)


def serve(requests: BinaryIO, replies: BinaryIO | None) -> None:
    service = WriterService()
    try:
        for message in read_messages(requests):
            reply = service.handle(message)
            if reply is not None and replies is not None:
                try:
                    replies.write(encode_message(reply))
                    replies.flush()
                except BrokenPipeError:  # the crawler is gone: archive what it sent, then stop
                    replies = None
    finally:
        service.shutdown()


def main() -> None:
    dump_stacks_on_signal()
    leave_stop_signals_to_the_run()
    logging.basicConfig(level=logging.WARNING, format="newsarchive writer: %(levelname)s: %(message)s")
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the replies
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
