"""Web archives a person hands us, from any tool: WARC and ARC files, gzipped or not, and WACZ packages.

A WARC or ARC file is read where it is; a WACZ (a zip) is read as the WARC files in its
``archive/`` folder, unpacked into a scratch directory, so corpus rows name those WARCs as
the package's index does.  ``import_archives`` copies archives into an archive's ``warc/``
directory as gzip-per-record WARC files (the form the derivation, the indexes and replay
read), named by the SHA-256 of that copy, so the same records given twice, however compressed,
are taken once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from warcio.recompressor import Recompressor

from archive.atomic import held_temporary, remove_stale_temporaries
from archive.reader import file_head

ARCHIVE_SUFFIXES = (".warc.gz", ".warc", ".arc.gz", ".arc")
WACZ_SUFFIX = ".wacz"
WACZ_WARC_DIR = "archive/"
_SCRATCH = "unpacked"  # a run's scratch directory is .unpacked-XXXX, held by the marker file .unpacked.XXXX.tmp


def is_web_archive(path: str | Path) -> bool:
    """Whether a file is a web archive rather than a saved page: by its suffix, or by its first bytes."""
    if str(path).lower().endswith((*ARCHIVE_SUFFIXES, WACZ_SUFFIX)):
        return True
    try:
        with open(path, "rb") as stream:
            return file_head(stream).startswith((b"WARC/", b"filedesc://", b"PK\x03\x04"))
    except OSError:
        return False  # the caller says it cannot be read


def _archive_stem(name: str) -> str:
    for suffix in (*ARCHIVE_SUFFIXES, WACZ_SUFFIX):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def not_an_archive_file(path: Path) -> str | None:
    """Why ``path``, given as a web archive, is no file to read (missing, or a directory); None if it is one."""
    if path.is_dir():
        return f"{path}: is a directory; give the WARC, ARC or WACZ files in it"
    if not path.is_file():
        return f"{path}: no such file"
    return None


def _starts_as_zip(path: Path) -> bool:
    with open(path, "rb") as stream:
        return stream.read(4) == b"PK\x03\x04"


@contextmanager
def scratch_directory(parent: Path) -> Iterator[Path]:
    """A scratch directory in ``parent`` (``.unpacked-XXXX``) for unpacked WACZs and partial copies, removed at
    the end; those that killed runs left there are removed first.

    A SIGKILL leaves the directory behind: the marker file :func:`held_temporary` keeps flock-held beside it
    tells a dead run's (its marker unheld or gone) from one a run in the same directory still uses.
    """
    parent = Path(parent)
    remove_stale_temporaries(parent / _SCRATCH)  # the markers of dead runs
    for leftover in parent.glob(f".{_SCRATCH}-*"):
        if not (parent / f".{_SCRATCH}.{leftover.name.removeprefix(f'.{_SCRATCH}-')}.tmp").exists():
            shutil.rmtree(leftover, ignore_errors=True)
    with held_temporary(parent / _SCRATCH) as (marker, _):
        directory = parent / f".{_SCRATCH}-{marker.name.removeprefix(f'.{_SCRATCH}.').removesuffix('.tmp')}"
        directory.mkdir()
        try:
            yield directory
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def unpack_inputs(paths: Iterable[Path], scratch: Path) -> tuple[list[Path], list[str]]:
    """The WARC and ARC files to read for ``paths`` (a WACZ's own unpacked into ``scratch``), and one line per WACZ
    that has none or cannot be read."""
    found: list[Path] = []
    errors: list[str] = []
    for path in map(Path, paths):
        if problem := not_an_archive_file(path):
            errors.append(problem)
            continue
        if not zipfile.is_zipfile(path):
            if _starts_as_zip(path):  # a WACZ cut short: no central directory to list its files
                errors.append(f"{path.name}: a zip file that cannot be read, cut short or damaged (not a complete "
                              "WACZ)")
            else:
                found.append(path)
            continue
        try:
            with zipfile.ZipFile(path) as package:
                members = [info for info in package.infolist() if info.filename.startswith(WACZ_WARC_DIR)
                           and not info.is_dir() and info.filename.lower().endswith(ARCHIVE_SUFFIXES)]
                if not members:
                    errors.append(f"{path.name}: a zip file with no {WACZ_WARC_DIR}*.warc.gz in it (not a WACZ)")
                    continue
                into = scratch / f"{len(found)}-{path.name}"
                into.mkdir(parents=True)
                for info in members:
                    target = into / Path(info.filename).name
                    with package.open(info) as source, open(target, "wb") as sink:
                        shutil.copyfileobj(source, sink, 1 << 20)
                    found.append(target)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            errors.append(f"{path.name}: cannot unpack the WACZ: {exc}")
    return found, errors


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _recompress(source: Path, target: Path) -> None:
    """``source`` as a WARC file with one gzip member per record (ARC records become WARC records)."""
    recompressor = Recompressor(str(source), str(target))
    with open(source, "rb") as stream:
        try:
            recompressor.load_and_write(stream, str(target))
        except Exception:  # noqa: BLE001 - warcio's way of saying "one gzip stream": read it whole instead
            stream.seek(0)
            recompressor.decompress_and_recompress(stream, str(target))


def _is_arc(path: Path) -> bool:
    with open(path, "rb") as stream:
        return file_head(stream).startswith(b"filedesc://")


def import_archives(paths: Iterable[Path], warc_dir: Path, scratch: Path) -> tuple[list[str], list[str], list[Path]]:
    """Copy each archive into ``warc_dir`` as ``<name>-<sha256 prefix of the copy>.warc.gz``; one line per file,
    the errors, and the files copied.

    The copy of a WARC is its records recompressed a gzip member each, which gives the same bytes
    whatever the file's compression (plain, one gzip stream, a member per record): records imported
    before, however compressed, are not copied again. An ARC file's copy (its records made WARC
    records, with new record IDs) is named by the ARC's own bytes, as copies made before were.
    Nothing half-written is left in ``warc_dir``: each copy is written in ``scratch`` (on the same
    disk) and renamed.
    """
    files, errors = unpack_inputs(paths, scratch)
    lines: list[str] = []
    copied: list[Path] = []
    warc_dir.mkdir(parents=True, exist_ok=True)
    for number, path in enumerate(files):
        stem = _archive_stem(path.name)
        if (same_file := warc_dir / f"{stem}-{file_sha256(path)[:12]}.warc.gz").exists():
            lines.append(f"{path.name}: already in the archive as {same_file.name}")
            continue
        partial = scratch / f"copy-{number}.warc.gz"  # (scratch is on the archive's disk: renamed, not copied)
        try:
            _recompress(path, partial)
        except Exception as exc:  # noqa: BLE001 - warcio's readers fail in many types on a file that is no archive
            partial.unlink(missing_ok=True)
            errors.append(f"{path.name}: not a WARC or ARC file: {' '.join(str(exc).split()) or type(exc).__name__}")
            continue
        if _is_arc(path):  # converted, its records get new WARC-Record-IDs each time: named by its own bytes
            target = same_file
        else:
            digest = file_sha256(partial)[:12]
            if earlier := next(warc_dir.glob(f"*-{digest}.warc.gz"), None):
                partial.unlink()
                lines.append(f"{path.name}: its records are already in the archive as {earlier.name}")
                continue
            target = warc_dir / f"{stem}-{digest}.warc.gz"
        os.replace(partial, target)
        copied.append(target)
        lines.append(f"{path.name}: imported as {target.name}")
    return lines, errors, copied
