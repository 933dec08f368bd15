"""Let warcio decode ``Content-Encoding: br`` with Google's ``brotli`` module.

warcio expects brotlipy's Decompressor (``decompress``, a settable ``unused_data``);
Scrapy needs Google's (``process``), and both install as ``brotli``.  The crawl venv keeps
Google's and registers this adapter, so reading, indexing and packaging br records work
there; the replay venv keeps pywb's brotlipy and needs nothing.  Importing is enough.

warcio decodes a block of 16 KB at once, whatever it decodes to, and 2 KB of br can decode to
GBs: ``BrotliReader`` decodes a body no more than the reader asks for, for the WARC reader.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from warcio.bufferedreaders import BUFF_SIZE, BufferedReader

try:
    import brotli
except ImportError:  # pragma: no cover - warcio then leaves br records undecoded
    brotli = None


class GoogleBrotliDecompressor:
    """The part of brotlipy's Decompressor interface that warcio's BufferedReader uses."""

    unused_data = b""

    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decompress(self, data: bytes) -> bytes:
        return self._decompressor.process(data)


if brotli is not None and not hasattr(brotli.Decompressor, "decompress"):
    BufferedReader.DECOMPRESSORS["br"] = GoogleBrotliDecompressor


class BrotliReader(io.RawIOBase):
    """A br-coded stream decoded as it is read, never more at once than a read asks for.

    A body that is not br at all (a server's wrong header) is read as stored, as warcio reads it.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._decompressor = brotli.Decompressor()
        self._output = memoryview(b"")
        self._unread = b""  # stored bytes read before any decoded: the body if it turns out not to be br
        self._plain = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._output:
            if self._plain:
                self._output = memoryview(self._stream.read(len(buffer)))
                break
            if self._decompressor.is_finished():
                return 0
            # Until it can take more, the decompressor holds output of what it was given.
            data = self._stream.read(BUFF_SIZE) if self._decompressor.can_accept_more_data() else b""
            try:
                self._output = memoryview(self._decompressor.process(data, output_buffer_limit=len(buffer)))
            except brotli.error:
                if self._unread is None:
                    raise
                self._plain, self._output = True, memoryview(self._unread + data)
            if not self._output and not data and self._decompressor.can_accept_more_data():
                return 0  # the stored body ends before its br stream does
            if self._unread is not None:
                self._unread = None if self._output else self._unread + data
        size = min(len(buffer), len(self._output))
        buffer[:size] = self._output[:size]
        self._output = self._output[size:]
        return size
