"""The Scrapy settings a sources file gives one source's crawl, the same under `newsarchive run` and
`scrapy crawl news -a source=NAME`: everything the crawl writes (WARCs, crawl state, frontier) goes
under the config's ``[archive] dir``."""

from __future__ import annotations

from pathlib import Path

from scrapy.settings import BaseSettings

from archive import WARC_DIR
from config import Config, Source


def source_settings(config: Config, source: Source, archive_dir: Path | None = None) -> dict[str, object]:
    """The settings for crawling ``source`` into ``archive_dir`` (default: the config's)."""
    archive_dir = Path(archive_dir or config.archive.dir)
    return {
        "NEWSARCHIVE_ARCHIVE_DIR": str(archive_dir),
        "WARC_DIR": str(archive_dir / WARC_DIR),
        "WARC_MAX_SIZE": config.archive.warc_max_size,
        "WARC_PREFIX": f"{config.archive.warc_prefix}-{source.name}",
        **config.crawl_settings(),
    }


def configure_scrapy_crawl(settings: BaseSettings, config: Config, source: Source) -> None:
    """`scrapy crawl`: the sources file's settings, below any ``-s`` on the command line.

    ``-s NEWSARCHIVE_ARCHIVE_DIR=DIR`` moves the whole archive, WARCs included.  Called once the
    spider has read the file and before Scrapy freezes the settings (Scrapy >= 2.11 applies them
    after creating the spider).
    """
    archive_dir = settings.get("NEWSARCHIVE_ARCHIVE_DIR")  # only ever set by -s here
    settings.update(source_settings(config, source, Path(archive_dir) if archive_dir else None), priority="spider")
