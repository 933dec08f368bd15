"""Which of the dates a page declares and shows is its date (extract.metadata._date)."""

from __future__ import annotations

from test_extract import _dated

STRUCTURED = ('<script type="application/ld+json">{"@type": "Article", "headline": "Tram line opens",'
              ' "datePublished": "2021-03-02T09:00:00Z", "dateModified": "2025-09-28T14:10:00Z"}</script>')
GUIDE = ("<html><head>{head}</head><body><article><h1>Tram line opens</h1>"
         "<p class='byline'>By Jane Roe · Updated {shown}</p>{body}</article></body></html>")


def test_a_rewritten_guide_is_dated_by_the_update_it_shows_when_only_its_structured_data_give_an_older_publication() -> None:
    """A guide rewritten since it first went up shows its rewrite's day by its headline, which its JSON-LD or
    microdata give as the last modification; a publication day declared there alone, and shown nowhere, is no
    reader's date for the text archived."""
    page = GUIDE.replace("{head}", STRUCTURED)
    assert _dated(page.replace("{shown}", "September 28, 2025")) == "2025-09-28"
    assert _dated(page.replace("{shown}", "<time datetime='2025-09-28'>Sep 28</time>"))[:10] == "2025-09-28"
    microdata = ("<meta itemprop='datePublished' content='2021-03-02'>"
                 "<meta itemprop='dateModified' content='2025-09-28'>")
    assert _dated(GUIDE.replace("{head}", microdata).replace("{shown}", "September 28, 2025")) == "2025-09-28"
    # a modification declared in a meta tag named "updated"
    named = STRUCTURED.replace(', "dateModified": "2025-09-28T14:10:00Z"', "") + "<meta name='updated' content='2025-09-28'>"
    assert _dated(GUIDE.replace("{head}", named).replace("{shown}", "September 28, 2025")) == "2025-09-28"
    # the declared publication stays the date where a meta tag declares it too (Open Graph's, which link previews
    # show), where the page shows its day too, or where the date shown is no day declared as a modification
    tagged = page.replace("</script>", "</script><meta property='article:published_time' content='2021-03-02T09:00:00Z'>")
    assert _dated(tagged.replace("{shown}", "September 28, 2025")) == "2021-03-02T09:00:00+00:00"
    shows_both = page.replace("</article>", "<footer>First published March 2, 2021</footer></article>")
    assert _dated(shows_both.replace("{shown}", "September 28, 2025")) == "2021-03-02T09:00:00+00:00"
    assert _dated(page.replace("{shown}", "September 20, 2025")) == "2021-03-02T09:00:00+00:00"


def test_an_update_shown_on_the_evening_before_its_utc_stamp_is_still_the_declared_modification() -> None:
    """A guide updated at 8 pm in New York is stamped 01:00 the next day in UTC; the day it shows is that update's."""
    late = GUIDE.replace("{head}", STRUCTURED.replace("2025-09-28T14:10:00Z", "2025-09-29T01:00:00Z"))
    assert _dated(late.replace("{shown}", "September 28, 2025")) == "2025-09-28"
    # two days before the stamp is no timezone's reading of it
    assert _dated(late.replace("{shown}", "September 27, 2025")) == "2021-03-02T09:00:00+00:00"
