"""Spiders of the newsarchive Scrapy project."""
