"""One form for a WARC payload digest, whatever encoding its tool wrote it in: warcprox, pywb and Heritrix write
``sha1:`` and base 32, others hex or base 64 (RFC 3548 allows each), so that one hash in two encodings is one
payload when records are compared."""

from __future__ import annotations

import base64
import binascii
import hashlib
import string


def digest_key(digest: str) -> str:
    """``ALGORITHM:BASE32`` of the hash ``digest`` names (algorithm lowercased, ``sha-1`` as ``sha1``); a digest
    that is no known algorithm's in a known encoding, as it is."""
    algorithm, sep, value = digest.strip().partition(":")
    algorithm = algorithm.lower().replace("-", "")
    try:
        size = hashlib.new(algorithm).digest_size
    except (ValueError, TypeError):
        return digest
    raw = _hash_bytes(value.strip(), size) if sep else None
    return digest if raw is None else f"{algorithm}:{base64.b32encode(raw).decode('ascii')}"


def _hash_bytes(value: str, size: int) -> bytes | None:
    """The ``size`` bytes ``value`` encodes in hex, base 32 or base 64 (told by its length), or None."""
    decoders = []
    if len(value) == 2 * size and set(value) <= set(string.hexdigits):
        decoders.append(lambda: base64.b16decode(value, casefold=True))
    decoders += [lambda: base64.b32decode(value + "=" * (-len(value) % 8), casefold=True),
                 lambda: base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_" if "-" in value or "_" in value
                                          else None, validate=True)]
    for decode in decoders:
        try:
            raw = decode()
        except (binascii.Error, ValueError):
            continue
        if len(raw) == size:
            return raw
    return None
