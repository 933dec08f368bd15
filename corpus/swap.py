"""Putting a corpus derived anew in place of an archive's corpus, so that a crash cannot leave half of each.

A corpus is three paths under its root: the store's directory, ``text/`` and ``corpus.jsonl``;
no rename moves the three at once.  So a marker naming the paths the new corpus has is made
durable first, then each live path is moved aside and the new one moved in.  Whoever takes the
archive's lock next and finds the marker (``finish_swap``: every derivation of the archive and
every check does) moves what is left: each step can be done again, so a swap killed anywhere is
finished exactly once.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from archive.atomic import fsync_directory, write_atomic
from corpus.export import CORPUS_FILE
from corpus.store import STORE_FILE, TEXT_DIR

REDERIVE_DIR = "rederive"  # under the archive: the corpus being derived anew
SWAP_MARKER = "swapping"  # in REDERIVE_DIR: the paths to move, once the new corpus is complete
REPLACED_DIR = "replaced"  # in REDERIVE_DIR: the live corpus's paths, moved aside until the swap is done
CORPUS_PATHS = (Path(STORE_FILE).parts[0], TEXT_DIR, CORPUS_FILE)


def swap_in(archive_dir: Path) -> None:
    """Put the complete corpus under ``archive_dir/rederive`` in place of the archive's (the caller holds the
    archive's lock, and has closed the new store)."""
    new = Path(archive_dir) / REDERIVE_DIR
    present = [name for name in CORPUS_PATHS if (new / name).exists()]
    write_atomic(new / SWAP_MARKER, json.dumps(present).encode())
    fsync_directory(new)
    finish_swap(archive_dir)


def finish_swap(archive_dir: Path) -> bool:
    """Finish a swap that was begun (see the module's text); whether there was one.  The caller holds the
    archive's lock."""
    archive_dir = Path(archive_dir)
    new = archive_dir / REDERIVE_DIR
    try:
        present = json.loads((new / SWAP_MARKER).read_bytes())
    except FileNotFoundError:
        # swapped, and killed while the old corpus was being removed (only that: a re-derivation may be
        # under way in ``new``)
        shutil.rmtree(new / REPLACED_DIR, ignore_errors=True)
        return False
    replaced = new / REPLACED_DIR
    replaced.mkdir(exist_ok=True)
    for name in CORPUS_PATHS:
        if name in present and not (new / name).exists():
            continue  # moved in before a crash: what is live is the new one
        if (archive_dir / name).exists():
            os.replace(archive_dir / name, replaced / name)
        if name in present:
            os.replace(new / name, archive_dir / name)
    fsync_directory(archive_dir)
    (new / SWAP_MARKER).unlink()
    fsync_directory(new)
    shutil.rmtree(new, ignore_errors=True)  # the old corpus, in ``replaced``
    return True
