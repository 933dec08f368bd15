"""The Scrapy project: settings, spiders and the WARC capture that records every exchange."""
