"""The messages between the crawler and the archive writer process.

Length-prefixed pickles: both ends are this program, and pickle carries the exchanges'
bytes with one copy.  Kept apart from the writer so the crawler need not import it.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

_LENGTH = struct.Struct(">I")


def encode_message(message: tuple) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


class MessageDecoder:
    """Splits a byte stream back into messages, whatever the chunking."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[tuple]:
        self._buffer += data
        while len(self._buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self._buffer)
            end = _LENGTH.size + length
            if len(self._buffer) < end:
                return
            message = pickle.loads(self._buffer[_LENGTH.size:end])
            del self._buffer[:end]
            yield message


def read_messages(stream: BinaryIO) -> Iterator[tuple]:
    """Messages from a blocking stream, until it ends."""
    while True:
        header = stream.read(_LENGTH.size)
        if len(header) < _LENGTH.size:
            return
        (length,) = _LENGTH.unpack(header)
        data = stream.read(length)
        if len(data) < length:
            return
        yield pickle.loads(data)


@dataclass(frozen=True)
class WriterOptions:
    """How to archive one crawler's exchanges."""

    warc_dir: str
    prefix: str
    info: dict[str, str]
    max_size: int = 1_000_000_000
    archive_dir: str | None = None  # set: keep the crawl state there (and the index, below)
    index_on_close: bool = True  # index each WARC as it closes (needs archive_dir); off when the run indexes
    incremental: bool = True  # write revisits for payloads archived before (needs archive_dir)
    state_url: str | None = None  # set: the crawl state is this Redis, shared by a cluster's workers
