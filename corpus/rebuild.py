"""``newsarchive rebuild``: the corpus (``text/`` and ``corpus.jsonl``) from WARC files alone.

A rebuild is a derivation into an empty store: the live run's code, over the given WARCs,
so a rebuild over the WARCs of a live archive reproduces its text files and corpus.jsonl
byte for byte.  ``manifest.json`` records what the output was made from and with.

A rebuild of years of WARCs takes hours, and a Ctrl-C or a kill must not cost them: until the
manifest is written, ``.rebuilding`` in the output names the archives given, and the same
rebuild run again goes on from the derivation's journal (what was committed is kept).
"""

from __future__ import annotations

import json
import platform
from concurrent.futures import Executor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from archive.atomic import write_atomic
from archive.inputs import file_sha256, not_an_archive_file, scratch_directory, stored_name, unpack_inputs
from archive.reader import ONE_GZIP_STREAM
from archive.lock import ArchiveUnwritable, check_writable
from corpus.derive import DeriveReport, derive_files
from corpus.export import CORPUS_FILE
from corpus.store import TEXT_DIR
from extract import EXTRACTOR

MANIFEST_FILE = "manifest.json"
UNFINISHED_FILE = ".rebuilding"  # the archives an unfinished rebuild in this directory was given
# The packages whose versions decide the bytes of the output.
DEPENDENCIES = ("trafilatura", "readability-lxml", "lxml", "justext", "htmldate", "courlan", "charset-normalizer",
                "warcio", "brotli", "mimesniff")


class RebuildError(Exception):
    """The output directory already holds a corpus, or an archive given does not exist."""


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def write_manifest(out: Path, warcs: list[Path]) -> Path:
    """``manifest.json``: sha256 of every text file and archive given, and the software versions."""
    texts = sorted((out / TEXT_DIR).rglob("*.txt"))
    manifest = {
        "extractor": EXTRACTOR,
        "versions": _versions(),
        "warcs": [{"file": stored_name(warc.name), "sha256": file_sha256(warc)} for warc in warcs],
        "corpus": {"file": CORPUS_FILE, "sha256": file_sha256(out / CORPUS_FILE)},
        "texts": {path.relative_to(out).as_posix(): file_sha256(path) for path in texts},
    }
    path = out / MANIFEST_FILE
    write_atomic(path, (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def rebuild(warcs: list[Path], out: Path, workers: int = 1, executor: Executor | None = None,
            progress: float = 0.0) -> DeriveReport:
    """Derive every article of the web archives ``warcs`` (WARC, ARC, WACZ) with ``workers`` processes into ``out``
    (or on ``executor``, ``workers`` batches at a time).

    The report says, per WARC file, what was found; a file that cannot be read is an error
    in it (and in ``failed``), and the others are still rebuilt.
    """
    out = Path(out)
    warcs = sorted({Path(warc).resolve() for warc in warcs}, key=lambda warc: warc.name)
    given = json.dumps([str(warc) for warc in warcs]).encode("utf-8")
    unfinished = out / UNFINISHED_FILE
    if unfinished.exists():
        if unfinished.read_bytes() != given:
            raise RebuildError(f"{out}: holds an unfinished rebuild of other archives; give the same ones to "
                               "finish it, or rebuild into a new directory")
    elif (out / CORPUS_FILE).exists() or (out / TEXT_DIR).exists():
        raise RebuildError(f"{out}: already holds a corpus; rebuild into a new directory")
    problems = [problem for warc in warcs if (problem := not_an_archive_file(warc))]
    if problems:
        raise RebuildError("; ".join(problems))
    if out.exists() and not out.is_dir():
        raise RebuildError(f"{out}: is a file, not a directory; rebuild into a new directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        check_writable(out)
    except OSError as exc:
        raise RebuildError(f"{out}: cannot make or write this directory: {exc.strerror or exc}") from None
    except ArchiveUnwritable as exc:
        raise RebuildError(f"{out}: {exc}") from None
    write_atomic(unfinished, given)
    with scratch_directory(out) as scratch:
        files, errors, recompressed = unpack_inputs(warcs, scratch)
        names = [path.name for path in files]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise RebuildError(f"two WARC files are named {', '.join(duplicated)}; corpus rows name their WARC "
                               "by file name")
        report = derive_files(out, files, workers, executor, progress)
    for name in recompressed:
        report.file(stored_name(name)).note = (f"{ONE_GZIP_STREAM}: read from a copy with a gzip member per record, as "
                                               "`warcio recompress` makes it, which its rows' offsets are in")
    for error in errors:
        report.fail(error)
        report.file(error.partition(": ")[0]).error = error
    if not (out / CORPUS_FILE).exists():  # nothing was derived: the corpus is empty, not missing
        write_atomic(out / CORPUS_FILE, b"")
    write_manifest(out, warcs)
    unfinished.unlink()
    return report
