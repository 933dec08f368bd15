"""The vocabulary shared by the crawler that writes captures and the readers that use them.

Each fetch is written as response + request (+ metadata) records.  The metadata record
says why the page was fetched (its role), so that a reader of the WARC alone knows which
responses are articles to extract: the live run and a rebuild decide the same way.
"""

from __future__ import annotations

ROLE_FIELD = "newsarchive-role"
SOURCE_FIELD = "newsarchive-source"
# The address a page is known by (crawl state, corpus, dedup) when it is not the one fetched: a site that redirects
# every address to one with a new session ID in it is fetched as it insists, its pages known without the ID.
URL_FIELD = "newsarchive-url"

ROLE_ARTICLE = "article"
ROLE_START = "start"
ROLE_FEED = "feed"
ROLE_SITEMAP = "sitemap"
ROLE_ROBOTS = "robots"
ROLE_RESOURCE = "resource"
ROLE_REQUISITE = "requisite"  # what an article page embeds (images, CSS, scripts, fonts): for replay, never an article

HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_article_capture(role: str | None, status: int, content_type: str | None) -> bool:
    """Whether a captured response is an article page whose text we extract."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return role == ROLE_ARTICLE and status == 200 and media_type in HTML_TYPES
