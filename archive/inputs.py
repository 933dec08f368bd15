"""Web archives a person hands us, from any tool: WARC and ARC files, gzipped or not, and WACZ packages.

A WARC or ARC file is read where it is; a WACZ (a zip) is read as the WARC files in its
``archive/`` folder and its subfolders, unpacked into a scratch directory, so corpus rows name
those WARCs by their file names, as the package's index does (WARCs of one name and other bytes,
in two folders or two packages, also by their SHA-256).  ``import_archives`` copies archives into
an archive's ``warc/`` directory as gzip-per-record WARC files (the form the derivation, the
indexes and replay read), named by the SHA-256 of that copy, less the records the archive already
holds (by ``record_key``, in ``indexes/records.sqlite``), so records given twice, however
compressed or packaged (the archive's own WACZ, its own WARCs copied back), are taken once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from warcio.archiveiterator import ArchiveIterator
from warcio.recompressor import Recompressor
from warcio.statusandheaders import StatusAndHeaders

from archive import WARC_DIR
from archive.atomic import held_temporary, remove_stale_temporaries, replace_durably
from archive.derived_db import open_derived_db
from archive.reader import error_line, file_head, not_an_archive_start, warc_records
from archive.recover import not_whole_after, readable_extent
from archive.warc_date import CAPTURE_TYPES, is_warc_date, undated_problem
from archive.writer import OPEN_SUFFIX

ARCHIVE_SUFFIXES = (".warc.gz", ".warc", ".arc.gz", ".arc")
WACZ_SUFFIX = ".wacz"
WACZ_WARC_DIR = "archive/"
RECORDS_INDEX = "records.sqlite"  # in the archive's indexes/: the ``record_key`` of every record in warc/
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


def files_given(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """``paths`` with each directory replaced by the web archives below it, at any depth, in path order (researchers
    give the folder of a crawl), and one line per directory naming the files in it left aside as no web archive
    (wget's .cdx, Browsertrix's pages.jsonl, logs): part of a crawl's folder, not an error, where a file named as an
    archive that is none is one."""
    files: list[Path] = []
    notes: list[str] = []
    for path in map(Path, paths):
        if not path.is_dir():
            files.append(path)
            continue
        below = sorted(found for found in path.rglob("*") if found.is_file())
        archives = [found for found in below if is_web_archive(found)]
        files += archives or [path]  # a directory with no archive in it: said by ``not_an_archive_file``
        if aside := [str(found.relative_to(path)) for found in below if found not in archives]:
            shown = ", ".join(aside[:3]) + (f" and {len(aside) - 3} more" if len(aside) > 3 else "")
            notes.append(f"{path}: left aside {len(aside)} file(s) in it that are no web archive: {shown}")
    return files, notes


def not_an_archive_file(path: Path) -> str | None:
    """Why ``path``, given as a web archive, is no file to read (missing, or a directory); None if it is one."""
    if path.is_dir():
        return f"{path}: a directory with no web archive in it"
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


def unpack_inputs(paths: Iterable[Path], scratch: Path) -> tuple[list[Path], list[str], list[str]]:
    """The WARC and ARC files to read for ``paths`` (a WACZ's own unpacked into ``scratch``, a file gzipped as one
    stream recompressed there: :func:`_per_record`), each under a name of its own (:func:`_named_apart`); one line
    per WACZ that has none or cannot be read; and the names of the files read from a recompressed copy."""
    found, errors = _unpacked(paths, scratch)
    read = [_per_record(path, scratch) for path in found]
    recompressed = [path.name for path, copy in zip(found, read) if copy != path]
    return list(dict.fromkeys(_named_apart(read, scratch).values())), errors, recompressed


def _per_record(path: Path, scratch: Path) -> Path:
    """``path``, or of a WARC gzipped as one stream (``gzip file.warc``), whose records cannot be read by offset, a
    copy in ``scratch`` with a gzip member per record under the same name (the file's line then says it cannot be
    read if the copy cannot be made)."""
    if not _is_one_gzip_stream(path):
        return path
    copy = Path(tempfile.mkdtemp(dir=scratch)) / path.name
    try:
        _recompress(path, copy)
    except Exception:  # noqa: BLE001 - warcio fails in many types on a stream cut short; the scan says why
        return path
    return copy


def _is_one_gzip_stream(path: Path) -> bool:
    """Whether the gzip member a file starts with goes on past its first record, as warcio finds it."""
    with open(path, "rb") as stream:
        if stream.read(2) != b"\x1f\x8b":
            return False
        stream.seek(0)
        records = ArchiveIterator(stream, arc2warc=True)
        records.INC_RECORD = ""  # a record past its Content-Length: the scan says so, once
        try:
            for number, _ in enumerate(records):
                if number:
                    return False
        except Exception as exc:  # noqa: BLE001 - warcio's way of saying "one gzip stream"; other damage is not
            return "non-chunked gzip" in str(exc)
    return False


def _unpacked(paths: Iterable[Path], scratch: Path) -> tuple[list[Path], list[str]]:
    """The WARC and ARC files given in ``paths`` (a WACZ's own unpacked into ``scratch``, each in a folder of its
    own), and one line per WACZ that has none or cannot be read."""
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
                for info in members:  # each in a folder of its own: two folders of the package may hold one name
                    target = scratch / str(len(found)) / PurePosixPath(info.filename).name
                    target.parent.mkdir()
                    with package.open(info) as source, open(target, "wb") as sink:
                        shutil.copyfileobj(source, sink, 1 << 20)
                    found.append(target)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            errors.append(f"{path.name}: cannot unpack the WACZ: {exc}")
    return found, errors


def _named_apart(files: list[Path], scratch: Path) -> dict[Path, Path]:
    """Each of ``files`` to read, in their order, and where to read it: under a file name no other has, as corpus
    rows, scan positions and payload look-ups know a WARC by its name.  Files of one name and other bytes
    (``archive/a/data.warc.gz`` and ``archive/b/data.warc.gz``) are each read as
    ``<stem>-<first 12 hex digits of its SHA-256><suffix>``, whatever the order they come in; files of one
    name and the same bytes are one file, the first read.  An unpacked file is moved to its new name in
    ``scratch``, a file read where it is is linked to it."""
    names = {path: closed_name(path.name) for path in files}
    by_name: dict[str, list[Path]] = {}
    for path in files:
        by_name.setdefault(names[path], []).append(path)
    digests = {path: file_sha256(path) for same_name in by_name.values() if len(same_name) > 1 for path in same_name}
    for name, same_name in by_name.items():
        if len({digests.get(path) for path in same_name}) > 1:
            stem = _archive_stem(name)
            names.update((path, f"{stem}-{digests[path][:12]}{name[len(stem):]}") for path in same_name)
    read_as: dict[Path, Path] = {}
    first_of: dict[str, Path] = {}  # each name's first file
    for path in files:
        first = first_of.setdefault(names[path], path)
        if first != path and _same_bytes(first, path, digests):
            read_as[path] = read_as[first]
        elif names[path] == path.name:
            read_as[path] = path
        else:
            read_as[path] = scratch / "named" / names[path]
            read_as[path].parent.mkdir(exist_ok=True)
            if path.is_relative_to(scratch):
                os.replace(path, read_as[path])
            else:
                read_as[path].symlink_to(path.resolve())
    return read_as


def closed_name(name: str) -> str:
    """The name a file given is read under: :func:`stored_name`, less the ``.open`` of a WARC another tool is still
    writing (warcprox's, ours), which it drops when it closes the file (and which rows name it by)."""
    return stored_name(name).removesuffix(OPEN_SUFFIX)


def stored_name(name: str) -> str:
    """A file name as rows, lines and ``warc/`` can hold it: bytes of it that are no UTF-8 (a name made on a Latin-1
    system) as U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _same_bytes(one: Path, other: Path, digests: dict[Path, str]) -> bool:
    """Whether two files hold the same bytes, by their SHA-256 (kept in ``digests``: each file is read once)."""
    for path in (one, other):
        if path not in digests:
            digests[path] = file_sha256(path)
    return digests[one] == digests[other]


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


def _whole_records(copy: Path) -> int:
    """How many records of a copy made by :func:`_recompress` are whole, from its start: warcio copies a record cut
    short (a torn tail, a copy cut in its last record) as if it were whole, with the bytes it could read."""
    with open(copy, "rb") as stream:
        return readable_extent(stream.fileno())[1]


def _torn_gzip_tail(path: Path) -> str | None:
    """Why a WARC gzipped per record cannot be read to its end (a tool killed as it began a record leaves a member
    too short to hold the record's headers, which warcio's recompressor takes for the file's end); None if it can,
    or is not gzipped."""
    with open(path, "rb") as stream:
        if stream.read(2) != b"\x1f\x8b":
            return None
        readable, _ = readable_extent(stream.fileno())
        size = os.fstat(stream.fileno()).st_size
    return not_whole_after(readable, size) if readable < size else None


def _is_arc(path: Path) -> bool:
    with open(path, "rb") as stream:
        return file_head(stream).startswith(b"filedesc://")


_KEYED_HEADERS = ("WARC-Type", "WARC-Target-URI", "WARC-Date", "WARC-Payload-Digest", "WARC-Block-Digest")


def record_key(headers: StatusAndHeaders) -> str:
    """What tells a WARC record from any other: its WARC-Record-ID and a hash of what it is of (type, target, date,
    digests), as some tools give one ID to different records; a record without an ID is known by the rest."""
    what = "\n".join(headers.get_header(name) or "" for name in _KEYED_HEADERS)
    return f"{headers.get_header('WARC-Record-ID') or ''} {hashlib.sha256(what.encode('utf-8')).hexdigest()[:16]}"


class RecordStart(NamedTuple):
    """A record of a WARC file: its ``record_key``, where it starts, its type and its WARC-Date as written."""

    key: str
    offset: int
    rec_type: str
    date: str | None


def record_starts(warc: Path) -> tuple[list[RecordStart], str | None]:
    """Each record of a WARC file, up to any damage; and why the rest cannot be read (None when the file was read to
    its end)."""
    found: list[RecordStart] = []
    try:
        with open(warc, "rb") as stream:
            records = warc_records(stream, warc.name, no_record_parse=True)  # the WARC headers are all it needs
            found.extend(RecordStart(record_key(record.rec_headers), records.get_record_offset(), record.rec_type,
                                     record.rec_headers.get_header("WARC-Date"))
                         for record in records)
    except Exception as exc:  # noqa: BLE001 - warcio's readers fail in many types on bit rot or a file that is none
        return found, error_line(exc)
    return found, None


_READ_AGAIN = -1  # the size indexed for a damaged WARC: read again by the next import, as one restored would be


_RECORDS_SCHEMA = """
-- The WARC-Record-IDs alone, as kept before records were told apart by more: warc/ is read again.
DROP TABLE IF EXISTS records;
DROP TABLE IF EXISTS warcs;
CREATE TABLE IF NOT EXISTS files (number INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS record_keys (key TEXT NOT NULL, warc INTEGER NOT NULL, PRIMARY KEY (key, warc)) WITHOUT ROWID;
"""


class HeldRecords:
    """The ``record_key`` of every record in an archive's ``warc/`` (``indexes/records.sqlite``), so that an import
    knows which of the records given the archive holds without reading ``warc/``.

    Each WARC is read once in its life: an import adds its own copies as it writes them, and the
    files written since the last import (the crawl's, files put there by hand) when it starts;
    a file gone from ``warc/`` takes its records with it.  A kill between a copy and its rows
    costs a read of that copy at the next import.  The file is made again from ``warc/`` when
    it is missing or damaged.
    """

    def __init__(self, archive_dir: Path):
        from archive.index import INDEX_DIR  # here: cdxj-indexer's imports take a while, and `extract` needs none

        self.warc_dir = Path(archive_dir) / WARC_DIR
        self.db = open_derived_db(Path(archive_dir) / INDEX_DIR / RECORDS_INDEX, _RECORDS_SCHEMA, f"{WARC_DIR}/")

    def close(self) -> None:
        self.db.close()

    def catch_up(self) -> None:
        """Add the WARCs of ``warc/`` not indexed yet (or of another size since), drop those that are gone."""
        present = {path.name: path.stat().st_size for path in self.warc_dir.glob("*.warc.gz")}
        indexed = {name: size for name, size in self.db.execute("SELECT name, size FROM files")}
        for name in indexed.keys() - present.keys():
            self._forget(name)
        for name, size in sorted(present.items()):
            if indexed.get(name) != size:
                records, damage = record_starts(self.warc_dir / name)  # a damaged file: `check` says where
                self.add(name, _READ_AGAIN if damage else size, (record.key for record in records))

    def _forget(self, name: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM record_keys WHERE warc IN (SELECT number FROM files WHERE name = ?)",
                            (name,))
            self.db.execute("DELETE FROM files WHERE name = ?", (name,))

    def add(self, name: str, size: int, keys: Iterable[str]) -> None:
        """Index the records of ``warc/NAME`` by their ``record_key``, in one transaction."""
        self._forget(name)
        with self.db:
            number = self.db.execute("INSERT INTO files (name, size) VALUES (?, ?)", (name, size)).lastrowid
            self.db.executemany("INSERT OR IGNORE INTO record_keys VALUES (?, ?)", ((key, number) for key in keys))

    def holder(self, key: str) -> str | None:
        """The WARC of ``warc/`` that holds the record with this ``record_key``, or None."""
        found = self.db.execute("SELECT name FROM record_keys JOIN files ON warc = number WHERE key = ? LIMIT 1",
                                (key,)).fetchone()
        return found[0] if found else None


def _copy_stretches(source: Path, stretches: list[tuple[int, int]], target: Path) -> None:
    """Copy the byte ranges ``(start, end)`` of ``source`` (whole gzip members: records) into ``target``."""
    with open(source, "rb") as stream, open(target, "wb") as sink:
        for start, end in stretches:
            stream.seek(start)
            while start < end and (block := stream.read(min(end - start, 1 << 20))):
                sink.write(block)
                start += len(block)


def import_archives(paths: Iterable[Path], archive_dir: Path, scratch: Path) -> tuple[list[str], list[str],
                                                                                      list[Path]]:
    """Copy each archive into the archive's ``warc/`` as ``<name>-<sha256 prefix of the copy>.warc.gz``, less the
    records it holds already; one line per file, the errors, and the files copied.

    The copy of a WARC is its records recompressed a gzip member each, which gives the same bytes
    whatever the file's compression (plain, one gzip stream, a member per record).  A record the
    archive holds, by ``record_key`` (imported before, or the archive's own, given back in its WACZ
    or as a copy of its WARC) is left out: a file of such records adds nothing, one with new records
    too adds those.  An ARC file's records become WARC records with new record IDs at each
    conversion, so its copy is named by the ARC's own bytes, and an ARC copied before is known by
    that name.  Nothing half-written is left in ``warc/``: each copy is written in ``scratch`` (on
    the same disk) and renamed.
    """
    given, errors = _unpacked(paths, scratch)
    lines: list[str] = []
    copied: list[Path] = []
    warc_dir = Path(archive_dir) / WARC_DIR
    warc_dir.mkdir(parents=True, exist_ok=True)
    held = HeldRecords(archive_dir)
    try:
        held.catch_up()
        for number, (path, read_as) in enumerate(_named_apart(given, scratch).items()):
            stem = _archive_stem(closed_name(path.name))
            if line := _import_one(read_as, stem, warc_dir, scratch / f"copy-{number}.warc.gz", held, errors, copied):
                lines.append(line)
    finally:
        held.close()
    return lines, errors, copied


def _import_one(path: Path, stem: str, warc_dir: Path, partial: Path, held: HeldRecords, errors: list[str],
                copied: list[Path]) -> str | None:
    """Copy one WARC or ARC file into ``warc_dir`` as ``<stem>-<sha256 prefix>.warc.gz`` (see
    :func:`import_archives`); the line saying what it did, or None after adding the line saying why it could not
    to ``errors``."""
    with open(path, "rb") as stream:
        if foreign_bytes := not_an_archive_start(path.name, file_head(stream)):
            errors.append(foreign_bytes)
            return None
    arc = _is_arc(path)
    if arc and (same_file := warc_dir / f"{stem}-{file_sha256(path)[:12]}.warc.gz").exists():
        return f"{path.name}: already in the archive as {same_file.name}"
    try:
        _recompress(path, partial)  # (scratch is on the archive's disk: renamed, not copied)
        failure = None
    except Exception as exc:  # noqa: BLE001 - warcio's readers fail in many types on a file that is no archive
        failure = error_line(exc)
    if failure is None and not arc and not _is_one_gzip_stream(path):
        failure = _torn_gzip_tail(path)
    records, damage = record_starts(partial) if partial.exists() else ([], None)
    given = len(records)
    ends = [record.offset for record in records[1:]] + [partial.stat().st_size if records else 0]
    whole = _whole_records(partial) if records else 0
    why = failure or damage
    if not whole:
        partial.unlink(missing_ok=True)
        errors.append(f"{path.name}: not a WARC or ARC file: {why or 'no records in it'}")
        return None
    if why or whole < given:
        errors.append(f"{path.name}: damaged or cut short after its first {whole} records"
                      f"{f' ({why})' if why else ''}: those are imported, the rest cannot be read")
    records, ends = records[:whole], ends[:whole]
    holders = [held.holder(record.key) for record in records]
    undated = {number for number, record in enumerate(records)
               if record.rec_type in CAPTURE_TYPES and not is_warc_date(record.date)}
    if undated:
        errors.extend(_undated_lines(path, records, undated))
    taken = [number for number, holder in enumerate(holders) if holder is None and number not in undated]
    if not taken:
        partial.unlink()
        held_here = [holder for holder in holders if holder is not None]
        if not held_here:
            return None  # every record left out, each said in ``errors``
        where = sorted(set(held_here))
        return (f"{path.name}: its {len(held_here)} records are already in the archive, in "
                + (where[0] if len(where) == 1 else f"{len(where)} files ({where[0]}, ...)"))
    if len(taken) < given:
        copy, partial = partial, partial.with_name("new-" + partial.name)
        _copy_stretches(copy, [(records[number].offset, ends[number]) for number in taken], partial)
        copy.unlink()
    target = warc_dir / f"{stem}-{file_sha256(path if arc else partial)[:12]}.warc.gz"
    with open(partial, "rb") as copy:
        os.fsync(copy.fileno())
    replace_durably(partial, target)
    held.add(target.name, target.stat().st_size, (records[number].key for number in taken))
    copied.append(target)
    held_count = sum(holder is not None for holder in holders)
    if held_count:
        return (f"{path.name}: imported as {target.name}: its {len(taken)} records the archive did not hold; the "
                f"other {held_count} it holds already")
    return f"{path.name}: imported as {target.name}"


def _undated_lines(path: Path, copied: list[RecordStart], undated: set[int]) -> list[str]:
    """A line per record left out for its WARC-Date, naming it by its offset in the file given (in the copy, which
    is recompressed, when the file given is one gzip stream)."""
    given, damage = record_starts(path)
    records = given if damage is None and len(given) == len(copied) else copied
    return [f"{path.name}@{records[number].offset}: a {records[number].rec_type} record with "
            f"{undated_problem(records[number].date)}: not imported (its capture time is unknown, and replay cannot "
            "serve it)" for number in sorted(undated)]
