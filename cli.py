"""The ``newsarchive`` command: a thin layer that parses arguments and calls the stages."""

from __future__ import annotations

import argparse
import gc
import sys

from config import DEFAULT_CONFIG, ConfigError, load_config

EXIT_OK, EXIT_SOURCE_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the archive; cron may simply try again later


def _cmd_run(args: argparse.Namespace) -> int:
    from archive.lock import ArchiveBusy
    from crawler.run import run_sources

    config = load_config(args.config)
    try:
        report = run_sources(config, config.select(args.source), extract=not args.no_extract,
                             progress_interval=2.0 if args.progress else 0.0,
                             log_level="INFO" if args.verbose else "WARNING",
                             ignore_backoff=args.ignore_backoff)
    except ArchiveBusy as exc:
        print(f"newsarchive: not running: {exc}", file=sys.stderr)
        return EXIT_BUSY
    for line in report.summary_lines():
        print(line, file=sys.stderr)
    return report.exit_code


def _cmd_demo(args: argparse.Namespace) -> int:
    from demo.run import run_demo

    return run_demo(args.out)


def _cmd_replay(args: argparse.Namespace) -> int:
    from archive.replay import serve

    serve(load_config(args.config).archive.dir, args.port)
    return EXIT_OK


def _cmd_package(args: argparse.Namespace) -> int:
    from archive.package import PackageError, package

    try:
        print(package(load_config(args.config).archive.dir, args.out, title=args.title))
    except PackageError as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    return EXIT_OK


def _cmd_schedule(args: argparse.Namespace) -> int:
    import logging

    from scheduler import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    serve(args.config, time_limit=args.time_limit)
    return EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    from status import status_lines

    for line in status_lines(load_config(args.config), per_source=args.runs):
        print(line)
    return EXIT_OK


def _cmd_rebuild(args: argparse.Namespace) -> int:
    from extract.rebuild import RebuildError, rebuild

    try:
        rows = rebuild(args.warc, args.out, workers=args.workers)
    except RebuildError as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{len(rows)} articles from {len(set(args.warc))} WARC file(s) written to {args.out}", file=sys.stderr)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsarchive", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="crawl, archive and extract once")
    run.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    run.add_argument("--source", action="append", metavar="NAME", help="run only this source (repeatable)")
    run.add_argument("--no-extract", action="store_true", help="archive only; extract later with rebuild")
    run.add_argument("--progress", action="store_true", help="print a progress line per source every 2 s")
    run.add_argument("-v", "--verbose", action="store_true", help="log Scrapy's INFO messages")
    run.add_argument("--ignore-backoff", action="store_true", help="also run sources backing off after failures")
    run.set_defaults(handler=_cmd_run)

    demo = commands.add_parser("demo", help="run the pipeline against the bundled demo site")
    demo.add_argument("--out", default=None, help="output directory (default: a fresh one)")
    demo.set_defaults(handler=_cmd_demo)

    from extract.command import add_extract_parser  # light: the extractor loads on first use

    add_extract_parser(commands)
    replay = commands.add_parser("replay", help="serve the archive in pywb on 127.0.0.1")
    replay.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    replay.add_argument("--port", type=int, default=8080, help="port (default: %(default)s)")
    replay.set_defaults(handler=_cmd_replay)

    pack = commands.add_parser("package", help="write the archive as a WACZ file, each article a page")
    pack.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    pack.add_argument("--out", required=True, metavar="FILE.wacz", help="the WACZ file to write")
    pack.add_argument("--title", default=None, help="the package's title (default: from the archive dir)")
    pack.set_defaults(handler=_cmd_package)

    rebuild = commands.add_parser("rebuild", help="rebuild text/ and corpus.jsonl from WARC files alone")
    rebuild.add_argument("--warc", nargs="+", required=True, metavar="PATH", help="WARC files to read")
    rebuild.add_argument("--out", required=True, metavar="DIR", help="a new directory for the corpus")
    rebuild.add_argument("--workers", type=int, default=2, help="extraction processes (default: %(default)s)")
    rebuild.set_defaults(handler=_cmd_rebuild)

    schedule = commands.add_parser("schedule", help="run each source on its schedule until stopped (SIGTERM)")
    schedule.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    schedule.add_argument("--time-limit", type=float, default=3 * 3600, metavar="SECONDS",
                          help="stop a run that takes longer (default: %(default)s)")
    schedule.set_defaults(handler=_cmd_schedule)

    status = commands.add_parser("status", help="last runs per source and next scheduled times")
    status.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default: %(default)s)")
    status.add_argument("--runs", type=int, default=3, help="runs shown per source (default: %(default)s)")
    status.set_defaults(handler=_cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"newsarchive: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        # The process ends next: a frozen heap spares the interpreter's final collections a
        # walk over every object a run leaves behind (0.1 s of a short run).
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
