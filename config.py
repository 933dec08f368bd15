"""The sources file: a TOML document naming the archive directory and the sources to crawl.

Every problem is reported as one ``ConfigError`` naming the file, the source and the key,
so that an operator reading a cron mail knows what to fix.
"""

from __future__ import annotations

import ipaddress
import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import urlsplit


DEFAULT_CONFIG = "sources.toml"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PREFIX = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$")


class ConfigError(Exception):
    """A configuration that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Source:
    name: str
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    schedule: str = "0 */6 * * *"
    max_pages: int | None = None
    refetch_after: float | None = None  # hours; articles are otherwise fetched once
    max_age: float | None = None  # days; feed and sitemap entries dated older are not fetched
    requisites: bool = True  # an article's images, stylesheets, scripts and fonts are archived too, for replay

    def seed_urls(self) -> tuple[str, ...]:
        return self.start_urls + self.feeds + self.sitemaps


@dataclass(frozen=True)
class ArchiveSettings:
    dir: Path
    warc_max_size: int = 1_000_000_000
    warc_prefix: str = "newsarchive"
    extract_workers: int = 2


@dataclass(frozen=True)
class CrawlSettings:
    """Politeness knobs and caps on what one page, feed or sitemap gives; the defaults suit real sites
    (crawler/settings.py, crawler/discovery.py), the demo and tests lower them on loopback."""

    download_delay: float | None = None
    autothrottle: bool | None = None
    concurrent_requests_per_domain: int | None = None
    timeout: float | None = None
    user_agent: str | None = None
    max_links_per_page: int | None = None
    max_feed_entries: int | None = None
    max_sitemap_entries: int | None = None
    max_sitemaps: int | None = None

    def scrapy_settings(self) -> dict:
        names = {
            "download_delay": "DOWNLOAD_DELAY",
            "autothrottle": "AUTOTHROTTLE_ENABLED",
            "concurrent_requests_per_domain": "CONCURRENT_REQUESTS_PER_DOMAIN",
            "timeout": "DOWNLOAD_TIMEOUT",
            "user_agent": "USER_AGENT",
            "max_links_per_page": "NEWSARCHIVE_MAX_LINKS_PER_PAGE",
            "max_feed_entries": "NEWSARCHIVE_MAX_FEED_ENTRIES",
            "max_sitemap_entries": "NEWSARCHIVE_MAX_SITEMAP_ENTRIES",
            "max_sitemaps": "NEWSARCHIVE_MAX_SITEMAPS",
        }
        return {names[key]: value for key, value in vars(self).items() if value is not None}


@dataclass(frozen=True)
class ClusterSettings:
    """Several crawler machines share one crawl through this Redis (``redis://HOST:PORT/DB``); None: crawl alone."""

    redis: str | None = None
    # The cluster's name, the same in every machine's config: its archives share one Redis database whatever sources
    # each lists, and an archive of another name there is refused (crawler/cluster_sources.py).
    name: str | None = None
    # Days since its last run after which `check --forget-archive` forgets an archive without --force: a machine run
    # from cron is live only while it runs, and is not retired between its runs.
    forget_after: float = 7.0


@dataclass(frozen=True)
class Config:
    path: Path
    archive: ArchiveSettings
    sources: tuple[Source, ...] = field(default=())
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)

    def crawl_settings(self) -> dict:
        return self.crawl.scrapy_settings()

    def select(self, names: list[str] | None) -> tuple[Source, ...]:
        """The sources named, in config order; all of them when ``names`` is empty."""
        if not names:
            return self.sources
        known = {source.name for source in self.sources}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ConfigError(f"{self.path}: no source named {', '.join(map(repr, unknown))}")
        return tuple(source for source in self.sources if source.name in names)


_SOURCE_KEYS = {
    "name": str,
    "start_urls": list,
    "feeds": list,
    "sitemaps": list,
    "allowed_domains": list,
    "schedule": str,
    "max_pages": int,
    "refetch_after": (int, float),
    "max_age": (int, float),
    "requisites": bool,
}
_CRAWL_KEYS = {
    "download_delay": (int, float),
    "autothrottle": bool,
    "concurrent_requests_per_domain": int,
    "timeout": (int, float),
    "user_agent": str,
    "max_links_per_page": int,
    "max_feed_entries": int,
    "max_sitemap_entries": int,
    "max_sitemaps": int,
}
_CLUSTER_KEYS = {"redis": str, "name": str, "forget_after": (int, float)}
_ARCHIVE_KEYS = {
    "dir": str,
    "warc_max_size": int,
    "warc_prefix": str,
    "extract_workers": int,
}


# TOML's kinds of value as a person names them
_KIND = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
         dict: "a table", datetime: "a date and time", date: "a date", time: "a time"}


def _check_keys(table: dict, allowed: dict, where: str) -> None:
    for key, value in table.items():
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(allowed))})")
        expected = allowed[key]
        if (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
            raise ConfigError(f"{where}: key {key!r} must be {_KIND.get(expected, 'a number')}, "
                              f"not {_KIND.get(type(value), type(value).__name__)}")
        if isinstance(value, float) and not math.isfinite(value):  # TOML has inf and nan
            raise ConfigError(f"{where}: key {key!r} must be a finite number, not {value}")


def check_url(url: object, where: str) -> str:
    """``url`` if it is an absolute http(s) URL that urllib reads whole, else ``ConfigError`` saying ``where``."""
    if not isinstance(url, str):
        raise ConfigError(f"{where}: {url!r} is not a URL string")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket
        raise ConfigError(f"{where}: {url!r} is not an http(s) URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {url!r} is not an http(s) URL")
    try:
        parts.port  # noqa: B018 -- urllib checks the port only when it is read
    except ValueError:
        raise ConfigError(f"{where}: {url!r} has a port that is not a number from 0 to 65535") from None
    return url


def _is_host_name(domain: str) -> bool:
    """A domain as allowed_domains needs it: a DNS name or an IP address, no scheme, port or path."""
    try:
        ipaddress.ip_address(domain)
        return True
    except ValueError:
        pass
    labels = domain.split(".")
    return len(domain) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


def _allowed(host: str, domains: tuple[str, ...]) -> bool:
    """As the spider's scope and Scrapy's OffsiteMiddleware read allowed_domains: the domain or under it."""
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def _source(table: object, index: int, path: Path) -> Source:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: sources[{index}] must be a table")
    name = table.get("name")
    label = f"{path}: source {name!r}" if isinstance(name, str) else f"{path}: sources[{index}]"
    _check_keys(table, _SOURCE_KEYS, label)
    if not isinstance(name, str):
        raise ConfigError(f"{label}: key 'name' is required")
    if not _NAME.match(name):
        raise ConfigError(f"{label}: key 'name' must be lowercase letters, digits, '-' or '_'")
    urls = {}
    for key in ("start_urls", "feeds", "sitemaps"):
        urls[key] = tuple(check_url(url, f"{label}: key {key!r}") for url in table.get(key, []))
    if not any(urls.values()):
        raise ConfigError(f"{label}: key 'start_urls': give at least one of start_urls, feeds, sitemaps")
    domains = table.get("allowed_domains")
    if domains is None:
        domains = sorted({urlsplit(url).hostname for group in urls.values() for url in group})
    else:
        for domain in domains:
            if not isinstance(domain, str) or not _is_host_name(domain.lower()):
                raise ConfigError(f"{label}: key 'allowed_domains': {domain!r} is not a host name "
                                  "(give example.com, not a URL)")
        domains = [domain.lower() for domain in domains]
        for url in urls["start_urls"]:  # a feed or sitemap may live elsewhere: only its entries are scoped
            if not _allowed(urlsplit(url).hostname, tuple(domains)):
                raise ConfigError(f"{label}: key 'start_urls': the host of {url!r} is not in allowed_domains "
                                  f"({', '.join(domains)}): none of its links would be followed")
    schedule = table.get("schedule", Source.schedule)
    from scheduler import CronError, cron_trigger  # APScheduler takes a second to load: only when a config is

    try:
        cron_trigger(schedule)
    except CronError as exc:
        raise ConfigError(f"{label}: key 'schedule': {exc}") from None
    max_pages = table.get("max_pages")
    if max_pages is not None and max_pages < 1:
        raise ConfigError(f"{label}: key 'max_pages' must be at least 1")
    refetch_after = table.get("refetch_after")
    if refetch_after is not None and refetch_after <= 0:
        raise ConfigError(f"{label}: key 'refetch_after' must be a positive number of hours")
    max_age = table.get("max_age")
    if max_age is not None and not 0 < max_age <= 36_500:
        raise ConfigError(f"{label}: key 'max_age' must be a positive number of days (at most 36500)")
    return Source(
        name=name,
        allowed_domains=tuple(domains),
        schedule=schedule,
        max_pages=max_pages,
        refetch_after=refetch_after,
        max_age=max_age,
        requisites=table.get("requisites", True),
        **urls,
    )


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read and validate a sources file; raise ``ConfigError`` on the first problem."""
    path = Path(path)
    try:
        # utf-8-sig drops one leading BOM, which editors on Windows add and the user cannot see
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(document) - {"archive", "cluster", "crawl", "sources"}
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r} (known: archive, cluster, crawl, sources)")
    crawl_table = document.get("crawl", {})
    if not isinstance(crawl_table, dict):
        raise ConfigError(f"{path}: key 'crawl' must be a table")
    _check_keys(crawl_table, _CRAWL_KEYS, f"{path}: [crawl]")
    crawl = CrawlSettings(**crawl_table)
    if crawl.download_delay is not None and crawl.download_delay < 0:
        raise ConfigError(f"{path}: [crawl]: key 'download_delay' must not be negative")
    if crawl.timeout is not None and crawl.timeout <= 0:  # Scrapy reads 0 as no timeout: a silent server holds the run
        raise ConfigError(f"{path}: [crawl]: key 'timeout' must be a positive number of seconds")
    for key in ("concurrent_requests_per_domain", "max_links_per_page", "max_feed_entries", "max_sitemap_entries",
                "max_sitemaps"):
        if crawl_table.get(key, 1) < 1:
            raise ConfigError(f"{path}: [crawl]: key {key!r} must be at least 1")
    archive_table = document.get("archive", {})
    if not isinstance(archive_table, dict):
        raise ConfigError(f"{path}: key 'archive' must be a table")
    _check_keys(archive_table, _ARCHIVE_KEYS, f"{path}: [archive]")
    archive_dir = Path(archive_table.get("dir", "data"))
    if not archive_dir.is_absolute():
        archive_dir = path.resolve().parent / archive_dir
    if archive_dir.exists() and not archive_dir.is_dir():  # else each command reads it as an empty archive
        raise ConfigError(f"{path}: [archive] dir: {archive_dir}: it is a file, not a directory")
    archive = ArchiveSettings(
        dir=archive_dir,
        **{key: value for key, value in archive_table.items() if key != "dir"},
    )
    if archive.warc_max_size < 1_000_000:
        raise ConfigError(f"{path}: [archive]: key 'warc_max_size' must be at least 1000000 bytes")
    if archive.extract_workers < 1:
        raise ConfigError(f"{path}: [archive]: key 'extract_workers' must be at least 1")
    if not _PREFIX.match(archive.warc_prefix):  # it names files in warc/: no path, no hidden file
        raise ConfigError(f"{path}: [archive]: key 'warc_prefix': {archive.warc_prefix!r} must be a plain file name "
                          "part: letters, digits, '.', '-' or '_', not starting with '.'")
    tables = document.get("sources", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{path}: key 'sources' must be an array of tables ([[sources]])")
    sources = tuple(_source(table, index, path) for index, table in enumerate(tables))
    seen: set[str] = set()
    for source in sources:
        if source.name in seen:
            raise ConfigError(f"{path}: source {source.name!r}: key 'name' is used twice")
        seen.add(source.name)
    return Config(path=path, archive=archive, sources=sources, crawl=crawl, cluster=_cluster(document, path))


def _cluster(document: dict, path: Path) -> ClusterSettings:
    table = document.get("cluster", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: key 'cluster' must be a table")
    _check_keys(table, _CLUSTER_KEYS, f"{path}: [cluster]")
    url = table.get("redis")
    if url is not None:
        parts = urlsplit(url)
        try:
            port, db = parts.port, parts.path.strip("/")
        except ValueError:  # a port that is no number
            port, db = None, "?"
        if parts.scheme not in ("redis", "rediss") or not parts.hostname or not port or not (db == "" or db.isdigit()):
            raise ConfigError(f"{path}: [cluster]: key 'redis': {url!r} is not a redis://HOST:PORT/DB address")
    name = table.get("name")
    if name is not None and not name.strip():
        raise ConfigError(f"{path}: [cluster]: key 'name' must not be empty")
    forget_after = table.get("forget_after", ClusterSettings.forget_after)
    if forget_after < 0:
        raise ConfigError(f"{path}: [cluster]: key 'forget_after' must be a number of days, 0 or more")
    return ClusterSettings(redis=url, name=name, forget_after=forget_after)
