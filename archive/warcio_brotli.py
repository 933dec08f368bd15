"""Let warcio decode ``Content-Encoding: br`` with Google's ``brotli`` module.

warcio expects brotlipy's Decompressor (``decompress``, a settable ``unused_data``);
Scrapy needs Google's (``process``), and both install as ``brotli``.  The crawl venv keeps
Google's and registers this adapter, so reading, indexing and packaging br records work
there; the replay venv keeps pywb's brotlipy and needs nothing.  Importing is enough.

warcio hands the decompressor 16 KB of a body at a time and takes all it decodes, and 2 KB of
br can decode to GBs: a br body is decoded up to ``DECODED_LIMIT`` only, past the largest any
reader takes (archive/reader.py: 50 MB) and far short of a bomb's.
"""

from __future__ import annotations

from warcio.bufferedreaders import BufferedReader

try:
    import brotli
except ImportError:  # pragma: no cover - warcio then leaves br records undecoded
    brotli = None


DECODED_LIMIT = 64 << 20


class GoogleBrotliDecompressor:
    """The part of brotlipy's Decompressor interface that warcio's BufferedReader uses."""

    unused_data = b""

    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()
        self._left = DECODED_LIMIT

    def decompress(self, data: bytes) -> bytes:
        """What ``data`` decodes to, until ``DECODED_LIMIT`` is reached; nothing after."""
        if self._left <= 0 or not self._decompressor.can_accept_more_data():
            return b""
        decoded = self._decompressor.process(data, output_buffer_limit=self._left)
        self._left -= len(decoded)
        return decoded


if brotli is not None and not hasattr(brotli.Decompressor, "decompress"):
    BufferedReader.DECOMPRESSORS["br"] = GoogleBrotliDecompressor
