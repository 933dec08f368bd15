"""The crawler's side of the archive writer process (``archive.writer_process``).

Exchanges go down the child's stdin through the reactor's non-blocking pipe, so the event
loop never waits on the archive; replies come back on its stdout and fire the Deferred of
each write.  One process serves every crawler running in this process and stops once the
last of them has closed.
"""

from __future__ import annotations

import fcntl
import itertools

from twisted.internet import defer, protocol
from twisted.python.failure import Failure

from archive.archiver import Archived
from archive.exchange import Exchange
from archive.messages import MessageDecoder, WriterOptions, encode_message
from supervision import module_command, stop_signals_blocked_for_children

PIPE_SIZE = 1 << 20


class ArchiveWriterError(Exception):
    """The writer process could not archive an exchange, or went away."""


class DiskFull(ArchiveWriterError):
    """The archive's disk is full: no later exchange of the crawl can be archived either."""


class StateLost(ArchiveWriterError):
    """The cluster's Redis, where the revisit look-up reads, is unreachable: likewise."""


class ArchiveWriterProcess(protocol.ProcessProtocol):
    """The writer child as the reactor sees it: requests out on stdin, replies in from stdout."""

    def __init__(self) -> None:
        self._decoder = MessageDecoder()
        self._ids = itertools.count()
        self._writes: dict[int, defer.Deferred] = {}
        self._closes: dict[str, defer.Deferred] = {}
        self._keys = itertools.count()
        self.open_crawlers = 0
        self.stopping = False
        self.lost: str | None = None  # why the process is gone, once it is
        self.ended: defer.Deferred = defer.Deferred()

    @classmethod
    def spawn(cls) -> ArchiveWriterProcess:
        from twisted.internet import reactor

        writer = cls()
        command, env = module_command("archive.writer_process")
        with stop_signals_blocked_for_children():
            reactor.spawnProcess(writer, command[0], command, env=env,
                                 childFDs={0: "w", 1: "r", 2: 2})
        return writer

    def connectionMade(self) -> None:
        # A 64 kB pipe takes one page per turn of the event loop; the rest would wait in
        # Twisted's buffer while the writer idles.  Linux lets a pipe grow to 1 MB.
        if hasattr(fcntl, "F_SETPIPE_SZ"):
            try:
                fcntl.fcntl(self.transport.pipes[0].fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            except OSError:
                pass

    # -- requests --------------------------------------------------------------
    def _send(self, message: tuple) -> None:
        self.transport.write(encode_message(message))

    def open(self, options: WriterOptions) -> str:
        """Start archiving for one crawler; the key names it in later calls."""
        key = f"{options.prefix}#{next(self._keys)}"
        self.open_crawlers += 1
        self._send(("open", key, options))
        return key

    def write(self, key: str, exchange: Exchange) -> defer.Deferred[Archived]:
        if self.lost:  # nothing would ever answer
            return defer.fail(ArchiveWriterError(self.lost))
        exchange_id = next(self._ids)
        self._writes[exchange_id] = written = defer.Deferred()
        self._send(("write", key, exchange_id, exchange))
        return written

    def close(self, key: str) -> defer.Deferred[list[str]]:
        """Close a crawler's WARC once its writes are done; fires with its file names."""
        if self.lost:  # the next run closes what it left open
            return defer.succeed([])
        self._closes[key] = closed = defer.Deferred()
        self._send(("close", key))
        return closed

    def release(self) -> defer.Deferred[None]:
        """A crawler is done with the process; the last one stops it (fires when it has exited)."""
        self.open_crawlers -= 1
        if self.open_crawlers == 0 and not self.stopping:
            self.stopping = True
            self.transport.closeStdin()
        return self.ended if self.stopping else defer.succeed(None)

    # -- replies ---------------------------------------------------------------
    def outReceived(self, data: bytes) -> None:
        for kind, key, result in self._decoder.feed(data):
            if kind == "written":
                self._writes.pop(key).callback(result)
            elif kind == "failed":
                self._writes.pop(key).errback(Failure(ArchiveWriterError(result)))
            elif kind == "full":
                self._writes.pop(key).errback(Failure(DiskFull(result)))
            elif kind == "lost":
                self._writes.pop(key).errback(Failure(StateLost(result)))
            elif kind == "closed":
                self._closes.pop(key).callback(result)

    def processEnded(self, reason: Failure) -> None:
        global _shared
        if _shared is self:
            _shared = None
        self.lost = f"the archive writer process ended: {reason.value}"
        lost = ArchiveWriterError(self.lost)
        for waiting in [*self._writes.values(), *self._closes.values()]:
            waiting.errback(Failure(lost))
        self._writes.clear()
        self._closes.clear()
        self.ended.callback(None)


_shared: ArchiveWriterProcess | None = None


def archive_writer() -> ArchiveWriterProcess:
    """The running writer process, started if there is none (or the last one is stopping)."""
    global _shared
    if _shared is None or _shared.stopping:
        _shared = ArchiveWriterProcess.spawn()
    return _shared
