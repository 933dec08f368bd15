"""Content decoding only for the pages the crawler reads.

An article's body is read from its WARC record by the extractor, never from the crawl's
response, so decoding it in the crawler (gunzip, charset detection, a scan for a meta
refresh) is work thrown away: article responses reach the spider as a plain ``Response``
with the body as received.  Every other page (start pages, feeds, sitemaps) is decoded
as usual, with the same size limits.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.http import Response

from archive.capture import ROLE_ARTICLE


class DiscoveryDecompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's HttpCompressionMiddleware, skipped for article pages."""

    def process_response(self, request: Request, response: Response, spider=None) -> Request | Response:
        if request.meta.get("role") == ROLE_ARTICLE and response.status == 200:
            return Response(url=response.url, status=response.status, headers=response.headers, body=response.body,
                            flags=response.flags, request=request, certificate=response.certificate,
                            ip_address=response.ip_address, protocol=response.protocol)
        return super().process_response(request, response)
