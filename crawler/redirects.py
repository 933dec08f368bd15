"""Redirects lead to a ``clean_link``ed address, as links do.

A server that writes the visitor's session ID or a tracker into a ``Location`` (a 302 to
``/story?sessionid=X``, or a meta refresh to one) would otherwise have the story requested,
deduplicated, looked up in the crawl state and archived under a URL that changes from run to run.
A server that insists (it redirects the cleaned address back to one with a session) is followed
as it says: cleaning its target again would be a redirect loop.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.http import Response

from crawler.discovery import clean_link


class _CleanTarget:
    def _build_redirect_request(self, source_request: Request, response: Response, *, url: str,
                                **kwargs: Any) -> Request:
        cleaned = clean_link(url)
        if cleaned in (source_request.url, *source_request.meta.get("redirect_urls", ())):
            cleaned = url
        return super()._build_redirect_request(source_request, response, url=cleaned, **kwargs)


class CleanRedirectMiddleware(_CleanTarget, RedirectMiddleware):
    """Scrapy's 3xx redirects, to the cleaned target."""


class CleanMetaRefreshMiddleware(_CleanTarget, MetaRefreshMiddleware):
    """Scrapy's meta refresh redirects, to the cleaned target."""
