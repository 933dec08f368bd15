"""Content decoding only for the pages the crawler reads.

An article's body is read from its WARC record by the extractor, never from the crawl's
response, so decoding it in the crawler (gunzip, charset detection, a scan for a meta
refresh) is work thrown away: article responses reach the spider as a plain ``Response``
with the body as received.  Every other page (start pages, feeds, sitemaps) is decoded
as usual, with the same size limits.

An article page that is a meta refresh (a story moved, a stub left at the old address) is the
exception: only the start of a body is decoded to look for one, as far as Scrapy's
MetaRefreshMiddleware looks, and such a page is decoded whole for it to follow.

robots.txt is decoded by crawler/robots.py, only as far as it is read: decoded whole, one of a few KB could be
over the download limit, and its host shut out for the run.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.response import get_meta_refresh
from warcio.statusandheaders import StatusAndHeaders

from archive.capture import ROLE_ARTICLE
from archive.reader import decoded_head

META_REFRESH_SCAN = 4 * 4096  # bytes holding the 4,096 characters scrapy.utils.response.get_meta_refresh reads


class DecodedOverLimit(IgnoreRequest):
    """A body over its download limit once decompressed: archived as sent (the capture came first), not read."""


class DiscoveryDecompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's HttpCompressionMiddleware, skipped for article pages; a body over its limit once decoded is a
    ``DecodedOverLimit``, which the spider's errback says in its own words (crawler/quiet.py drops Scrapy's)."""

    def process_response(self, request: Request, response: Response, spider=None) -> Request | Response:
        if request.meta.get("dont_obey_robotstxt"):  # Scrapy's mark of its robots.txt requests
            return response
        if request.meta.get("role") == ROLE_ARTICLE and response.status == 200 and not _meta_refresh(response):
            return Response(url=response.url, status=response.status, headers=response.headers, body=response.body,
                            flags=response.flags, request=request, certificate=response.certificate,
                            ip_address=response.ip_address, protocol=response.protocol)
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # Scrapy's only one here: decompressed past the limit
            raise DecodedOverLimit(str(exc)) from exc


def _meta_refresh(response: Response) -> bool:
    """Whether an HTML page's start holds a meta refresh to another page, its body decoded that far only
    (one to the page itself reloads it, as a live story does: no move, and to Scrapy a redirect loop)."""
    content_type = response.headers.get("Content-Type", b"").decode("latin-1")
    if "html" not in content_type.lower():
        return False
    try:
        head, _ = decoded_start(response, META_REFRESH_SCAN)
    except Exception:  # noqa: BLE001 - a body that is not what its codings say: the extractor will say so
        return False
    page = HtmlResponse(url=response.url, body=head, headers={"Content-Type": content_type})
    return get_meta_refresh(page)[1] not in (None, response.url)


def decoded_start(response: Response, size: int) -> tuple[bytes, str | None]:
    """The first ``size`` bytes of a response's body, its content codings undone, decoding not much more than that;
    and why, if the body breaks before.

    A body that is not what its codings say from its start may raise anything warcio's decoders raise.
    """
    headers = [(name.decode("latin-1"), value.decode("latin-1"))
               for name, values in response.headers.items() for value in values]
    return decoded_head(StatusAndHeaders(str(response.status), headers), response.body, size)
