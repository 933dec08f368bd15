"""Let warcio decode ``Content-Encoding: br`` with Google's ``brotli`` module.

warcio expects brotlipy's Decompressor (``decompress``, a settable ``unused_data``);
Scrapy needs Google's (``process``), and both install as ``brotli``.  The crawl venv keeps
Google's and registers this adapter, so reading, indexing and packaging br records work
there; the replay venv keeps pywb's brotlipy and needs nothing.  Importing is enough.
"""

from __future__ import annotations

from warcio.bufferedreaders import BufferedReader

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
