"""The ``newsarchive`` command: a thin layer that parses arguments and calls the stages."""

from __future__ import annotations

import signal

from supervision import STOP_SIGNALS, note_stop_requests  # (the standard library alone: loaded in milliseconds)

# First, before the modules below load (a quarter of a second under load): a Ctrl-C or SIGTERM from here on
# is the command's (``main``), where its default action ended the process without a word or a report.
# A reload (SIGHUP, `systemctl reload`) while `schedule` starts, before it listens for one, ended it (exit 129,
# no line): ignored until then, as its config watch reloads a file changed after it was read.
_HANGUP = signal.signal(signal.SIGHUP, signal.SIG_IGN)
_HANDLERS = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
_STOP_REQUESTS = note_stop_requests()
# (a service starts its runs with them blocked, stop_signals_blocked_for_children: one that came meanwhile is heard now)
signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

import argparse  # noqa: E402
import errno  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import NoReturn  # noqa: E402

from config import DEFAULT_CONFIG, Config, ConfigError, load_config  # noqa: E402
from supervision import (dump_stacks_on_signal, stop_with_service, tell_service_why,  # noqa: E402
                         tell_service_why_on_crash)

EXIT_OK, EXIT_SOURCE_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the archive; cron may simply try again later
MAX_WORKERS = 4 * (os.cpu_count() or 1)  # rebuild --workers: more processes than this only wait on each other
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, systemd's stop): the command stops as Ctrl-C stops it, and exits 128 + SIGTERM."""

    code, said = 128 + signal.SIGTERM, "stopped by SIGTERM"


def _terminate(_signum: int, _frame: object) -> NoReturn:
    raise Terminated


def _stopped(exc: KeyboardInterrupt) -> tuple[int, str]:
    """The exit code and the word for a command stopped by Ctrl-C or SIGTERM."""
    return (exc.code, exc.said) if isinstance(exc, Terminated) else (EXIT_INTERRUPTED, "interrupted")


def _cannot(message: str) -> None:
    """The line that says why a command stops without doing its work: on stderr, and to the schedule service
    that started it, if one did (a run that could not start has no report for its line to point at)."""
    print(message, file=sys.stderr)
    tell_service_why(message)


def _with_sources(config: Config) -> Config:
    """A command that crawls needs something to crawl."""
    if not config.sources:
        raise ConfigError(f"{config.path}: no [[sources]] to crawl")
    return config


def _cmd_run(args: argparse.Namespace) -> int:
    from archive.check import StateDamaged
    from archive.lock import ArchiveBusy
    from crawler.run import run_sources

    config = _with_sources(load_config(args.config))
    try:
        report = run_sources(config, config.select(args.source), extract=not args.no_extract,
                             progress_interval=2.0 if args.progress or sys.stderr.isatty() else 0.0,
                             log_level="INFO" if args.verbose else "WARNING",
                             ignore_backoff=args.ignore_backoff, stop=args.stop_requests)
    except ArchiveBusy as exc:
        print(f"newsarchive: not running: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except StateDamaged as exc:
        _cannot(f"newsarchive: not running: {exc}")
        return EXIT_SOURCE_FAILED
    for line in report.summary_lines():
        print(line, file=sys.stderr)
    if not args.no_extract:
        _say_if_derived_by_another(config.archive.dir)
    return report.exit_code


def _say_if_derived_by_another(archive_dir: Path) -> None:
    """After an upgrade of the extractor, the articles derived before keep the older text: say how to renew them."""
    from corpus.rederive import other_extractor

    if older := other_extractor(archive_dir):
        print(f"part of the corpus was derived by another extractor ({older}); `newsarchive derive --anew` "
              "derives it again with this one, while runs go on", file=sys.stderr)


def _unfinished_runs_line(archive_dir: Path) -> str | None:
    """The articles of the runs that did not finish (killed: no report), whose derivation `derive` may have
    completed: named, so the operator knows whose they are; the next run still counts them, once."""
    from crawler.run_reports import unfinished_runs

    if not (spans := unfinished_runs(archive_dir)):
        return None
    from crawler.run import articles_of, unfinished_line

    return f"corpus: {unfinished_line(spans, *articles_of(archive_dir, spans))}; the next run counts them"


def _archive_missing(archive_dir: Path, command: str) -> bool:
    """Say so in one line if the archive dir is not there: a command that only reads it would make an empty archive
    in its place, and a typo in [archive] dir or a disk not mounted would pass for an archive with nothing in it."""
    if archive_dir.exists():
        return False
    print(f"newsarchive: {command}: {archive_dir}: no such directory, so no archive to {command} (a typo in "
          "[archive] dir, or a disk not mounted?); `newsarchive run` makes one", file=sys.stderr)
    return True


def _output_file_problem(path: str) -> str | None:
    """Why no file can be written at ``path`` (a directory, or no file can be made beside it), said before
    the work that ends in writing it; None if one can.  Its directory is made, as the writing would."""
    from archive.lock import ArchiveUnwritable, check_writable, why_not_made

    out = Path(path)
    if out.is_dir():
        return f"{out}: is a directory; give a file name"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        check_writable(out.parent)
    except OSError as exc:
        return f"{out}: cannot write in {out.parent}: {why_not_made(exc)}"
    except ArchiveUnwritable as exc:
        return f"{out}: {exc}"
    return None


def _cmd_demo(args: argparse.Namespace) -> int:
    from demo.run import run_demo, serve_demo

    return (serve_demo if args.serve else run_demo)(args.out, args.port)


def _cmd_replay(args: argparse.Namespace) -> int:
    from archive.replay import CannotServe, serve

    archive_dir = load_config(args.config).archive.dir
    if _archive_missing(archive_dir, "replay"):
        return EXIT_SOURCE_FAILED
    try:
        return EXIT_OK if serve(archive_dir, args.port) == 0 else EXIT_SOURCE_FAILED
    except CannotServe as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return EXIT_SOURCE_FAILED


def _cmd_browse(args: argparse.Namespace) -> int:
    from browse.serve import CannotServe, serve_browser

    if not args.no_replay and args.port == args.replay_port:
        print(f"newsarchive: browse: --port {args.port} is also the --replay-port (pywb's, default 8080): "
              "give them different ports", file=sys.stderr)
        return EXIT_USAGE
    config = load_config(args.config)
    if _archive_missing(config.archive.dir, "browse"):
        return EXIT_SOURCE_FAILED
    try:
        serve_browser(config.archive.dir, args.port, None if args.no_replay else args.replay_port,
                      [source.name for source in config.sources])
    except CannotServe as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    return EXIT_OK


def _cmd_package(args: argparse.Namespace) -> int:
    from archive.package import PackageError, package

    archive_dir = load_config(args.config).archive.dir  # a bad sources file first, before --out's directory is made
    if _archive_missing(archive_dir, "package"):
        return EXIT_SOURCE_FAILED
    if problem := _output_file_problem(args.out):
        print(f"newsarchive: package: --out {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        print(package(archive_dir, args.out, title=args.title, description=args.description))
    except PackageError as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    except KeyboardInterrupt as exc:  # the package is written beside --out and renamed over it only when complete
        code, said = _stopped(exc)
        previous = f"the previous {args.out} is untouched" if Path(args.out).exists() else f"{args.out} was not made"
        print(f"newsarchive: package {said}; nothing was written and {previous}; run it again to package",
              file=sys.stderr)
        return code
    return EXIT_OK


def _cmd_schedule(args: argparse.Namespace) -> int:
    import logging

    from archive.lock import ArchiveBusy
    from scheduler import serve

    _with_sources(load_config(args.config))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    try:
        serve(args.config, time_limit=args.time_limit)
    except ArchiveBusy as exc:
        print(f"newsarchive: not scheduling: {exc}", file=sys.stderr)
        return EXIT_BUSY
    return EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    from status import status_lines

    lines = status_lines(load_config(args.config), per_source=args.runs)
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:
        # The reader has had enough (``status | head -3``).  Point stdout at /dev/null, or the
        # interpreter's own flush at exit fails on the closed pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK


def _quiet_derivation() -> None:
    """The derivation logs each unreadable file and capture; a command that prints its report says each once."""
    import logging

    logging.getLogger("newsarchive.derive").setLevel(logging.CRITICAL)


def _cmd_rebuild(args: argparse.Namespace) -> int:
    from archive.inputs import files_given
    from corpus.rebuild import RebuildError, rebuild

    args.warc, notes = files_given(args.warc)
    for note in notes:
        print(note, file=sys.stderr)
    if not 1 <= args.workers <= MAX_WORKERS:
        print(f"newsarchive: rebuild: --workers must be from 1 to {MAX_WORKERS} (4 per CPU), not {args.workers}",
              file=sys.stderr)
        return EXIT_USAGE
    _quiet_derivation()
    before, _ = _held(args.out)
    try:
        if args.scheduler:
            from corpus.cluster import ClusterError, dask_executor

            try:
                with dask_executor(args.scheduler, args.workers) as (executor, in_flight):
                    report = rebuild(args.warc, args.out, workers=in_flight, executor=executor,
                                     progress=_progress(args))
            except ClusterError as exc:
                print(f"newsarchive: {exc}", file=sys.stderr)
                return EXIT_USAGE
        else:
            report = rebuild(args.warc, args.out, workers=args.workers, progress=_progress(args))
    except RebuildError as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for line in report.lines():
        print(line, file=sys.stderr)
    print(_rebuilt_line(args.out, len(set(args.warc)), before), file=sys.stderr)
    return EXIT_SOURCE_FAILED if report.file_errors() else EXIT_OK


def _held(out: str | Path) -> tuple[int, int]:
    """The articles and rows of the corpus store in ``out`` (0 where there is none yet), from its counts: what a
    rebuild stopped before had written, so that a resumed one says what it added."""
    from corpus.store import STORE_FILE, CorpusStore

    if not (Path(out) / STORE_FILE).is_file():
        return 0, 0
    with CorpusStore(Path(out)) as store:
        return sum(store.articles_per_source().values()), sum(store.rows_per_source().values())


def _rebuilt_line(out: str, files: int, before: int) -> str:
    """What the corpus in ``out`` holds now, and how much of it this invocation wrote (``before``: what it held
    when it began): a rebuild resumed after Ctrl-C adds only what the stopped one had not.  Counted in the store:
    the derivation's count of rows made also counts those made on the way and dropped (another tool's later copy
    of an article, read before ours, is a row until ours comes)."""
    from corpus.counts import articles_held, counted

    total, rows = _held(out)
    held = f"{articles_held(total, rows)} from {counted(files, 'file')}"
    if not before:
        return f"{held} written to {out}"
    return f"{held} in {out}: {total - before} written now, {before} by the rebuild stopped before"


def _cmd_import(args: argparse.Namespace) -> int:
    from archive.inputs import files_given, import_archives, scratch_directory
    from archive.lock import ArchiveBusy, ArchiveLock
    from archive.recover import close_abandoned_warcs
    from corpus.derive import derive_archive

    _quiet_derivation()
    config = load_config(args.config)
    try:
        with ArchiveLock(config.archive.dir), scratch_directory(config.archive.dir) as scratch:
            close_abandoned_warcs(config.archive.dir, config.cluster.redis)
            archives, notes = files_given(args.archives)
            for note in notes:
                print(note, file=sys.stderr)
            lines, errors, copied = import_archives(archives, config.archive.dir, scratch)
            if copied:  # replay and `check` find them indexed, as the crawl's own WARCs are
                from archive.index import update_index

                update_index(config.archive.dir, copied)
            report = derive_archive(config.archive.dir, config.archive.extract_workers)
    except ArchiveBusy as exc:
        print(f"newsarchive: not importing: {exc}", file=sys.stderr)
        return EXIT_BUSY
    for line in [*lines, *errors, *report.lines()]:
        print(line, file=sys.stderr)
    if report.error:  # the WARCs are in the archive: the next derivation takes them
        print(f"newsarchive: {report.error}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    if report.upgrade:
        print(report.upgrade, file=sys.stderr)
    print(f"{report.new_texts()} in the corpus", file=sys.stderr)
    return EXIT_SOURCE_FAILED if errors or report.file_errors() else EXIT_OK


def _cmd_derive(args: argparse.Namespace) -> int:
    from archive.lock import ArchiveBusy, ArchiveLock
    from archive.recover import close_abandoned_warcs
    from corpus.counts import articles_held
    from corpus.derive import counted, derive_archive
    from corpus.rederive import RederiveBusy, rederive_archive

    config = load_config(args.config)
    if _archive_missing(config.archive.dir, "derive"):
        return EXIT_SOURCE_FAILED
    if args.anew:
        told: set[str] = set()

        def waiting(holder: str) -> None:  # said once for each run that holds the archive
            if holder not in told:
                told.add(holder)
                print(f"newsarchive: the new corpus waits for the archive, {holder.split(' is in use by ')[-1]}",
                      file=sys.stderr)

        try:
            report = rederive_archive(config.archive.dir, config.archive.extract_workers, waiting, _progress(args))
        except RederiveBusy as exc:
            print(f"newsarchive: not deriving anew: {exc}", file=sys.stderr)
            return EXIT_BUSY
    else:
        try:
            with ArchiveLock(config.archive.dir):
                close_abandoned_warcs(config.archive.dir, config.cluster.redis)
                report = derive_archive(config.archive.dir, config.archive.extract_workers, _progress(args))
                unfinished = None if report.error else _unfinished_runs_line(config.archive.dir)
        except ArchiveBusy as exc:
            print(f"newsarchive: not deriving: {exc}", file=sys.stderr)
            return EXIT_BUSY
    if report.error:
        print(f"newsarchive: {report.error}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    if args.anew:
        print(f"derived anew {counted(report.captures, 'capture')} into "
              f"{articles_held(sum(report.new_articles.values()), sum(report.new_rows.values()))}, "
              "copies at other URLs included, now in place of the corpus", file=sys.stderr)
    else:
        print(f"derived {counted(report.captures, 'capture')}: {report.new_texts()}, "
              f"{counted(report.rewritten_texts, 'earlier text')} rewritten, "
              f"{report.failed} could not be read or extracted",
              file=sys.stderr)
        if report.upgrade:
            print(report.upgrade, file=sys.stderr)
        if unfinished:
            print(unfinished, file=sys.stderr)
        _say_if_derived_by_another(config.archive.dir)
    return EXIT_SOURCE_FAILED if report.failed else EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from archive.check import check_archive
    from archive.lock import ArchiveBusy, ArchiveLock
    from corpus.check import check_corpus
    from corpus.derive import derive_archive
    from crawler.run_reports import sources_with_runs, unfinished_runs

    config = load_config(args.config)
    if not args.forget_archive and _archive_missing(config.archive.dir, "check"):  # (forgetting another's needs none)
        return EXIT_SOURCE_FAILED
    try:
        with ArchiveLock(config.archive.dir):
            report = check_archive(config.archive.dir, repair=args.repair)
            report.notes += [f"the run {span.started} did not finish: its derivation was cut short; the next run "
                             "completes it and counts that run's articles" for span in unfinished_runs(config.archive.dir)]
            check_corpus(config.archive.dir, report, repair=args.repair)
            if report.repaired:
                derived = derive_archive(config.archive.dir, config.archive.extract_workers)
                if derived.error:
                    report.problems.append(derived.error)
            if config.cluster.redis:  # (after the derivation: nothing in Redis is the corpus's)
                from crawler.cluster_sources import check_removed_sources

                check_removed_sources(config.cluster.redis, config.archive.dir,
                                      [source.name for source in config.sources], sources_with_runs(config.archive.dir),
                                      report, repair=args.repair, forget=args.forget_archive,
                                      name=config.cluster.name,
                                      forget_after=0 if args.force else config.cluster.forget_after)
            elif args.forget_archive:
                report.unusable.append("--forget-archive: this config has no [cluster] redis to forget an archive in")
    except ArchiveBusy as exc:
        print(f"newsarchive: not checking: {exc}", file=sys.stderr)
        return EXIT_BUSY
    print(f"checked {report.warcs} WARC files ({report.records} records), their indexes, the crawl state "
          "and the corpus", file=sys.stderr)
    for line in report.notes:
        print(f"note: {line}", file=sys.stderr)
    for line in [*report.unusable, *report.problems]:
        print(f"problem: {line}", file=sys.stderr)
    for line in report.repaired:
        print(f"repaired: {line}", file=sys.stderr)
    for line in report.lost:
        print(f"cannot be repaired: {line}", file=sys.stderr)
    if report.problems and not args.repair:
        print("`newsarchive check --repair` mends what can be made again from the WARCs", file=sys.stderr)
    if report.lost or report.unusable:
        return EXIT_SOURCE_FAILED
    return EXIT_OK if not report.problems or (args.repair and report.repaired) else EXIT_SOURCE_FAILED


def _cmd_export(args: argparse.Namespace) -> int:
    import sqlite3

    from archive.lock import check_writable
    from corpus.derive import storage_error
    from corpus.export import STDOUT, CorpusChanged, TextFilesMissing, export_jsonl, export_parquet
    from corpus.store import STORE_FILE, CorpusStore, no_corpus_yet

    config = load_config(args.config)
    to_stdout = args.out == STDOUT
    if to_stdout and args.format == "parquet":
        print("newsarchive: export: --out - (standard output) is for JSON Lines; give Parquet a file name",
              file=sys.stderr)
        return EXIT_USAGE
    if _archive_missing(config.archive.dir, "export"):  # before --out's directory is made
        return EXIT_SOURCE_FAILED
    if not to_stdout and (problem := _output_file_problem(args.out)):
        print(f"newsarchive: export: --out {problem}", file=sys.stderr)
        return EXIT_USAGE
    if missing := no_corpus_yet(config.archive.dir):  # opening the store would make an empty one
        print(f"newsarchive: export: {missing}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    check_writable((config.archive.dir / STORE_FILE).parent)  # the store's WAL must write beside it
    try:
        with CorpusStore(config.archive.dir) as store:
            count = (export_parquet if args.format == "parquet" else export_jsonl)(store, args.out)
    except sqlite3.DatabaseError as exc:  # said as derive and check say it
        print(f"newsarchive: {storage_error(config.archive.dir, exc)}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    except (TextFilesMissing, CorpusChanged) as exc:
        print(f"newsarchive: export: {exc}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    except BrokenPipeError:  # `export --out - | head`: the reader has had enough (see _cmd_status)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    print(f"{count} articles written to {'standard output' if to_stdout else args.out}", file=sys.stderr)
    return EXIT_OK


def _demo_port(text: str) -> int:
    """The first of the demo's three ports."""
    if not text.isdigit() or not 1 <= int(text) <= 65533:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 1 to 65533 (the sites take it and the next two)")
    return int(text)


def _runs_shown(text: str) -> int:
    """``status --runs``: at least one (none would read as "no runs yet")."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of runs from 1 up")
    return int(text)


def _add_progress(command: argparse.ArgumentParser) -> None:
    command.add_argument("--progress", action="store_true",
                         help="a line of counts every 2 s (the default when stderr is a terminal)")


def _progress(args: argparse.Namespace) -> float:
    """Seconds between progress lines: 2 if asked or stderr is a terminal, else none (0)."""
    return 2.0 if args.progress or sys.stderr.isatty() else 0.0


def _command(commands: argparse._SubParsersAction, name: str, summary: str,
             details: str = "") -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` opens with what it does (its summary, as a sentence), then ``details``."""
    command = commands.add_parser(name, help=summary, description=f"{summary[0].upper()}{summary[1:]}. {details}".strip())
    command.set_defaults(command_parser=command)  # a mistyped option is refused with this command's usage
    return command


class _Parser(argparse.ArgumentParser):
    """A parser whose error line (exit 2) also goes to the schedule service that started the run, if one did."""

    def error(self, message: str) -> NoReturn:
        tell_service_why(f"{self.prog}: error: {message}")
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="newsarchive",
        description="Crawl news sites into archival WARC files, derive clean article text from them, "
                    "and search, replay and package the archive.",
        epilog="New here? `newsarchive demo` runs it all against bundled demo sites. "
               "`newsarchive COMMAND --help` lists a command's options.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('newsarchive')}")
    commands = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")

    run = _command(commands, "run", "crawl, archive and extract once",
                   "Ctrl-C or SIGTERM stops it cleanly: what was archived is kept and derived. Exit status: "
                   "0 every source ok (or stopped on request), 1 a source failed or the corpus could not be "
                   "written, 2 usage or configuration error, 75 another run holds the archive (try later).")
    run.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    run.add_argument("--source", action="append", metavar="NAME", help="run only this source (repeatable)")
    run.add_argument("--no-extract", action="store_true", help="archive only; derive the corpus later (`derive`)")
    run.add_argument("--progress", action="store_true",
                     help="print a progress line per source, and for the corpus, every 2 s (the default on a terminal)")
    run.add_argument("-v", "--verbose", action="store_true", help="log Scrapy's INFO messages")
    run.add_argument("--ignore-backoff", action="store_true", help="also run sources backing off after failures")
    run.set_defaults(handler=_cmd_run)

    from demo.site import DEMO_PORT  # light: the demo's crawl loads on first use

    demo = commands.add_parser(
        "demo", help="crawl the bundled demo news sites twice into a new archive (offline, seconds)",
        description="Start three small demo news sites on 127.0.0.1, crawl, archive and extract them, change "
                    "them, and crawl them again to show what a re-crawl fetches. With --serve, only keep the "
                    "sites up until Ctrl-C, for `newsarchive run --config DIR/sources.toml` to crawl them.")
    demo.add_argument("--out", default=None, metavar="DIR",
                      help="archive directory (default: a new one); with --serve, where to write sources.toml")
    demo.add_argument("--serve", action="store_true", help="serve the demo sites until Ctrl-C, crawl nothing")
    demo.add_argument("--port", type=_demo_port, default=DEMO_PORT,
                      help="the sites' ports are this one and the next two (default: %(default)s)")
    demo.set_defaults(handler=_cmd_demo)

    from extract.command import add_extract_parser  # light: the extractor loads on first use

    add_extract_parser(commands)
    replay = _command(commands, "replay", "serve the archive in pywb on 127.0.0.1")
    replay.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    replay.add_argument("--port", type=int, default=8080, help="port (default: %(default)s)")
    replay.set_defaults(handler=_cmd_replay)

    browse = _command(commands, "browse", "search and read the corpus, its sources and runs in a web browser")
    browse.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    browse.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default: %(default)s)")
    browse.add_argument("--replay-port", type=int, default=8080,
                        help="port of the pywb it starts for the archived originals (default: %(default)s)")
    browse.add_argument("--no-replay", action="store_true", help="start no pywb; articles link to no original")
    browse.set_defaults(handler=_cmd_browse)

    pack = _command(commands, "package", "write the archive as a WACZ file, each article a page",
                    "Open it in ReplayWeb.page or load it into pywb; only closed WARC files go in.")
    pack.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    pack.add_argument("--out", required=True, metavar="FILE.wacz", help="the WACZ file to write")
    pack.add_argument("--title", default=None, help="the package's title (default: from the archive dir)")
    pack.add_argument("--description", default=None, help="a sentence or two on what the package holds")
    pack.set_defaults(handler=_cmd_package)

    rebuild = _command(commands, "rebuild", "rebuild text/ and corpus.jsonl from web archives alone")
    rebuild.add_argument("--warc", nargs="+", required=True, metavar="PATH",
                         help="WARC (1.0, 1.1, 0.17), ARC or WACZ files, from any tool, or folders of them")
    rebuild.add_argument("--out", required=True, metavar="DIR", help="a new directory for the corpus")
    rebuild.add_argument("--workers", type=int, default=2,
                         help=f"extraction processes, 1 to {MAX_WORKERS} (4 per CPU) (default: %(default)s)")
    _add_progress(rebuild)
    rebuild.add_argument("--scheduler", metavar="ADDRESS", default=None,
                         help="extract on Dask: 'local' (a local cluster of --workers processes) or a running "
                              "scheduler's address, tcp://HOST:PORT")
    rebuild.set_defaults(handler=_cmd_rebuild)

    derive = _command(commands, "derive", "bring the corpus up to date with the archive's WARCs (no crawl)",
                      "Every run does this too; after `scrapy crawl` or an interrupted run, this catches up.")
    derive.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    derive.add_argument("--anew", action="store_true",
                        help="derive the whole corpus again with the extractor installed now (after an upgrade), "
                             "beside the live one, which it replaces when done; runs go on meanwhile, and a "
                             "re-derivation killed resumes where it stopped")
    _add_progress(derive)
    derive.set_defaults(handler=_cmd_derive)

    check = _command(commands, "check", "check WARCs, indexes, crawl state and corpus against each other")
    check.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    check.add_argument("--repair", action="store_true", help="mend what can be made again from the WARCs")
    check.add_argument("--forget-archive", action="append", default=[], metavar="HOST:DIR",
                       help="drop a retired machine's or moved archive's registration in the cluster's Redis")
    check.add_argument("--force", action="store_true",
                       help="with --forget-archive: forget an archive run within [cluster] forget_after days too "
                            "(never a live one)")
    check.set_defaults(handler=_cmd_check)

    imports = _command(commands, "import", "add another tool's web archives to the archive and its corpus")
    imports.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    imports.add_argument("archives", nargs="+", type=Path, metavar="ARCHIVE",
                         help="WARC, ARC or WACZ files, or folders of them")
    imports.set_defaults(handler=_cmd_import)

    export = _command(commands, "export", "write the whole corpus, texts included, as JSON Lines or Parquet")
    export.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    export.add_argument("--out", required=True, metavar="FILE", help="the file to write ('-': standard output, JSON Lines)")
    export.add_argument("--format", choices=("jsonl", "parquet"), default="jsonl", help="(default: %(default)s)")
    export.set_defaults(handler=_cmd_export)

    schedule = _command(commands, "schedule", "run each source on its schedule until stopped (SIGTERM)",
                        "Each run is `newsarchive run --source NAME`; SIGTERM or Ctrl-C lets the running crawl "
                        "close its files and write its report, then the service exits.")
    schedule.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    schedule.add_argument("--time-limit", type=float, default=3 * 3600, metavar="SECONDS",
                          help="stop a run that takes longer (default: %(default)s)")
    schedule.set_defaults(handler=_cmd_schedule)

    status = _command(commands, "status", "last runs per source and next scheduled times")
    status.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    status.add_argument("--runs", type=_runs_shown, default=3, help="runs shown per source (default: %(default)s)")
    status.set_defaults(handler=_cmd_status)
    return parser


def _disk_failed(exc: BaseException) -> bool:
    """A full disk, said as the kernel or SQLite says it (SQLite may say only "disk I/O error" when it cannot
    grow its journal): one line, not a traceback."""
    from archive.atomic import disk_full

    if disk_full(exc) or isinstance(exc, OSError) and exc.errno == errno.EIO:
        return True
    return isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_IOERR


def main(argv: list[str] | None = None) -> int:
    # A Ctrl-C or SIGTERM since this module began to load, or while the command line is read (up to a second), is
    # the command's: a run stopped while it starts up still reports; any other command says it was interrupted.
    handlers, stop = _HANDLERS, _STOP_REQUESTS
    from archive.lock import ArchiveUnwritable

    tell_service_why_on_crash()

    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        getattr(args, "command_parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    args.stop_requests = stop
    dump_stacks_on_signal()  # kill -USR2: what a run that seems hung is doing, in its stderr
    try:
        if args.handler is not _cmd_schedule:
            signal.signal(signal.SIGHUP, _HANGUP)
        if args.handler is _cmd_run:
            stop_with_service()
        if args.handler is not _cmd_run:
            for signum, handler in handlers.items():  # SIGTERM as Ctrl-C, unless the command was started ignoring it
                signal.signal(signum, _terminate if signum == signal.SIGTERM and handler == signal.SIG_DFL else handler)
            if stop.is_set():
                raise Terminated if stop.signal_name == "SIGTERM" else KeyboardInterrupt
        return args.handler(args)
    except ConfigError as exc:
        _cannot(f"newsarchive: config error: {exc}")
        return EXIT_USAGE
    except ArchiveUnwritable as exc:  # a read-only archive: the config's [archive] dir must change, or the mount
        _cannot(f"newsarchive: config error: {args.config}: [archive] dir: {exc}")
        return EXIT_USAGE
    except (OSError, sqlite3.OperationalError) as exc:
        if not _disk_failed(exc):
            raise
        # what writes stops at a full disk (its files are written atomically, its stores journaled)
        where = getattr(exc, "filename", None)
        _cannot(f"newsarchive {args.command}: cannot write{f' {where}' if where else ''}: "
                f"{getattr(exc, 'strerror', None) or exc} (is the disk full?); nothing done before is lost: run it "
                "again once there is room")
        return EXIT_SOURCE_FAILED
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: whatever was committed stays (the derivations are journaled)
        code, said = _stopped(exc)
        print(f"newsarchive: {said}; what was done is kept, and the same command goes on from there", file=sys.stderr)
        return code
    finally:
        # The command is done, and a Ctrl-C or SIGTERM from now on cannot undo it. Ignored, not handled: Python sets
        # a handled signal back to its default as it finalizes, and one then ended a finished rebuild by the signal.
        for signum in handlers:
            signal.signal(signum, signal.SIG_IGN)
        # The process ends next: a frozen heap spares the interpreter's final collections a
        # walk over every object a run leaves behind (0.1 s of a short run).
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
