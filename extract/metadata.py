"""Page metadata from the page's own declarations: JSON-LD, Open Graph, meta tags, then visible text.

Our own lookup rather than trafilatura.extract_metadata: it costs a third of the time (the
throughput goal leaves ~15 ms a page), returns full timestamps, and prefers the visible <h1>
headline over an og:title that carries the site name. The date a page shows but does not declare
is read here too, not by htmldate: its extensive search cost 6-9 ms a page, and dateparser's
2-3 s start in every worker, for fewer right dates.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import islice
from urllib.parse import urljoin, urlsplit

from courlan import extract_domain
from lxml.etree import Element, XPath
from lxml.html import HtmlElement
from trafilatura.metadata import extract_author as extract_byline

from extract.namematch import emulated_name_matches, memoized_search
from extract.paragraphs import text_of

_SPACES = re.compile(r"\s+")
_C1_CONTROLS = re.compile("[\x80-\x9f]")
# Elements found by their attribute (//@itemprop[. = 'x']/..) rather than by testing every element
# for it (//*[@itemprop = 'x']): the same elements, in the same order, in 60 % of the time
_MARKED_DATES = XPath('//@itemprop[. = "datePublished"]/../@datetime|//time[@pubdate]/@datetime')
_SHOWN_AUTHORS = XPath('//@rel[. = "author"]/parent::a|//@itemprop[. = "author"]/..')
_URL_DATE = re.compile(r"\D((?:19|20)\d\d)[/_-](\d{1,2})[/_-](\d{1,2})(?:\D|$)")
# Month names as dates are written in the news's most common languages, January to December: English
# (with its abbreviations), German, French, Spanish, Portuguese, Italian, Dutch, the Scandinavian
# languages, and Polish (which writes the genitive, "18 grudnia 2025"). Ours, because the date search
# that knew them (htmldate's, through dateparser) costs 2-3 s in every worker; no abbreviation that
# is an English word ("ago", "set").
_MONTH_NAMES = (
    "january jan | february feb | march mar | april apr | may | june jun | july jul | august aug"
    " | september sept sep | october oct | november nov | december dec",
    "januar jänner | februar | märz | april | mai | juni | juli | august | september | oktober | november"
    " | dezember",
    "janvier | février | mars | avril | mai | juin | juillet | août | septembre | octobre | novembre | décembre",
    "enero | febrero | marzo | abril | mayo | junio | julio | agosto | septiembre setiembre | octubre"
    " | noviembre | diciembre",
    "janeiro | fevereiro | março | abril | maio | junho | julho | agosto | setembro | outubro | novembro"
    " | dezembro",
    "gennaio | febbraio | marzo | aprile | maggio | giugno | luglio | agosto | settembre | ottobre | novembre"
    " | dicembre",
    "januari | februari | maart | april | mei | juni | juli | augustus | september | oktober | november"
    " | december",
    "januar januari | februar februari | marts mars | april | maj mai | juni | juli | august augusti"
    " | september | oktober | november | december desember",
    "stycznia | lutego | marca | kwietnia | maja | czerwca | lipca | sierpnia | września | października"
    " | listopada | grudnia",
)
_MONTH_NUMBER = {
    name: number
    for language in _MONTH_NAMES
    for number, names in enumerate(language.split("|"), start=1)
    for name in names.split()
}
# any word where a month name may stand; _shown_date keeps the month names (a regular expression
# listing a hundred names is four times slower on a page's text)
_MONTH = r"([^\W\d_]{3,12})\.?"
# a date as pages show it: "December 18, 2025", "18th Dec. 2025", "18. Dezember 2025", "1er décembre 2025",
# "18 de diciembre de 2025", "18-Dec-2025", "2025-12-18", "2025.12.18", "12/18/2025", "18.12.2025",
# "2025年12月18日"; not a URL's path ("/2015/03/24/slug" in a link written out)
_SHOWN_DATE = re.compile(
    rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b"
    r"|\b(\d{1,2})(?:st|nd|rd|th|er|º)?(?:\.?\s+(?:of\s+|de\s+)?|[-.])([^\W\d_]{3,12})"
    r"(?:\.?,?\s+(?:de\s+|del\s+)?|[-.])((?:19|20)\d\d)\b"
    r"|(?<!/)\b((?:19|20)\d\d)([-/.])(\d\d)\8(\d\d)(?![\d/])"
    r"|(?<!/)\b(\d{1,2})([/.])(\d{1,2})\12((?:19|20)\d\d)\b(?!/)"
    # Chinese and Japanese "2025年3月4日", Korean "2025년 3월 4일" (after a word, as these scripts write no spaces)
    r"|(?<!\d)((?:19|20)\d\d)\s{0,4}[年년]\s{0,4}(\d{1,2})\s{0,4}[月월]\s{0,4}(\d{1,2})\s{0,4}[日일]",
    re.I,
)
# Every _SHOWN_DATE match holds a year, and at most 24 characters that are not white space precede
# it in the match (a 12-letter month name, a day and its suffix, "de", the stops and commas), at
# most 27 follow it ("-12-18", "年 12 月 18 日"), and its other numbers have two digits at most:
# _shown_dates searches a little before each year to a little after it (_date_match), not from
# every word of the text between, nor on to the end of the page after a year that is no date's
_YEAR = re.compile(r"(?:19|20)\d\d")
_LEAD = re.compile(r"(?:\s*\S){32}")  # (read backwards) a year's lead: 32 characters not white space
_LEAD_SPAN = 400  # characters read back from a year for its lead
_TRAIL = 32  # characters after a year that a match and its look-aheads read
# the words of a date or an update note next to a byline: month and day names, short ones before a
# number ("Dec 5") or alone; right after a name without a separator, none that is also a name
# (Tom May, Ann March)
_SHORT_CALENDAR = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)\.?"
_DATE_WORD = (r"(?:january|february|july|september|october|november|december"
              rf"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|{_SHORT_CALENDAR}(?=,?\s*\d)"
              r"|(?:last\s+)?updated(?:\s+on)?:?|published|posted)")
_CALENDAR_WORD = re.compile(rf"{_DATE_WORD}|march|april|june|august|{_SHORT_CALENDAR}(?=\s*$)", re.I)
_DATE_LINE = re.compile(rf"{_DATE_WORD}(?!\w)", re.I)
_LETTER = re.compile(r"[^\W\d_]")
_LOGIN = re.compile(r"[a-z\d]+(?:[._-][a-z\d]+)*")  # "jroe", "jane.roe", "page.head.author"
_BYLINE_DATE = re.compile(rf"(?<=\w)(?:\s*[•|·,]\s*(?:{_CALENDAR_WORD.pattern})|\s+{_DATE_WORD})(?!\w).*$", re.I)
# what trafilatura's byline search looks for (trafilatura.xpaths.AUTHOR_XPATHS), in any of these
# attributes (or an <author> element): a block without has no byline it could find, and is not
# copied and searched
_BYLINE_ATTRIBUTES = ("class", "id", "rel", "itemprop", "data-component", "data-testid")
_AUTHOR_PAGE_LINKS = XPath(".//a[contains(@href, '/author/') or contains(@href, '/authors/')"
                           " or contains(@href, '/writer/') or contains(@href, '/writers/')]")
# an element without children whose two or more words begin $name, and one holding $name whole
_LEADING_LEAF = XPath(".//*[not(*)][contains(normalize-space(), ' ')]"
                      "[starts-with($name, concat(normalize-space(), ' '))]")
_WHOLE_LEAF = XPath("boolean(.//*[not(*)][normalize-space() = $name])")
_byline_mark_in = memoized_search(re.compile(r"author|byl|bbl|zuozhe|bianji|xiaobian|channel-name|submitted-by"
                                            r"|posted-by|journalist-name|screenname|writer|username", re.I))
# meta tags declaring a page's publication, most explicit first
_PUBLICATION_META = ("article:published_time", "datepublished", "og:published_time", "publication_date", "pubdate",
                     "publishdate", "date", "dc.date.issued", "dc.date", "dcterms.created", "sailthru.date")
_PUBLISHED_META = re.compile(r"pub\w*[-_.:]?(date|time)|^published$")
_MODIFIED_META = re.compile(r"(modified|updated)[-_.:]?(date|time)|^(modified|updated)$")
_US_LOCALE = re.compile(r"\s*en[-_]us\b", re.I)
_INVISIBLE = {"script", "style", "noscript", "template"}
_QUOTED = frozenset({"blockquote", "figure"})  # a quotation or an embedded post, with its own dates
_NOT_HEADLINE = {"time", "div", "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "figure", "script", "style",
                 "button"}
_LABEL = re.compile(r"^\s*\w+(?:\s\w+)?\s*:\s*$")  # "Blog:", "Title:"
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+")
_ARTICLE_TYPES = re.compile(r"Article|BlogPosting|Report|Posting|WebPage", re.I)
_URL_LIKE = re.compile(r"^(https?:)?//|^www\.", re.I)
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_WORD = re.compile(r"\w+")
# a byline's label: "By ", "Analysis by ", "Written By: ", "Author: "; and quotation marks around a name
_BY = re.compile(r"^(?:[\w ]{0,20}\s)?by:?(?:\s+|$)|^authors?(?::\s*|\s+)|^[\"“”']+|[\"“”']+$", re.I)
# a byline's label, in the news's most common languages: "By", "Written by", "Von", "Par", "Por", "Door", "Av",
# "Przez", "Author:"; a word before "by" as in "Written by"
_BYLINE_LABEL = re.compile(r"(?:^|(?<=[\s|·•]))(?:(?:[^\W\d_]+\s)?by:?|von|par|por|door|av|przez"
                           r"|authors?:|autor(?:es|en)?:|auteurs?:|autore:|forfatter:|författare:)(?=\s|$)", re.I)
_BYLINE_END = re.compile(r"\s*[|·•●/]|\s+[-–—]\s|\d|(?<=\w{3})\.\s|\s\(")
_NAME_WORD = re.compile(r"[^\W\d_][\w'’.-]*,?")
# what follows a date before a name on a date line: separators, a time of day ("5:00 pm ·")
_AFTER_DATE = re.compile(r"^[\s|·•,–—-]*(?:\d{1,2}:\d\d\s*(?:[ap]\.?m\.?)?[\s|·•,–—-]*)?", re.I)
_SECTION_LINK = re.compile(r"\btag\b|/(?:category|categories|tag|tags|topics?|section)/", re.I)
_NAME_PARTICLES = {"van", "der", "den", "de", "da", "di", "von", "du", "la", "le", "del", "dos", "bin", "al", "y"}
_NOT_BYLINE = {"h1", "h2", "h3", "figure", "figcaption", "select", "option", "label", "form", "script", "style", "noscript",
               "template"}
_JOINING = {",", "&", ";"}  # what stands between two names' elements in a joint byline
BYLINE_WORDS = 15  # the text of an element holding a byline, label and date included
DATE_LINE_ELEMENTS = 12  # an element holding more is a block, not a date line
BYLINE_NAME_WORDS = 5
BYLINE_PIECE = 60  # characters of an element's own text holding a byline's label: prose is searched no further
BYLINE_BEFORE, BYLINE_AFTER = 20, 80  # elements next to the headline where bylines sit
HEADLINE_MATCH = 0.5  # word overlap (Jaccard) between an <h1> and a declared title
ONLY_HEADLINE_MATCH = 0.12
SITE_NAME_WORDS = 4  # a title's last part after " | " this short is the site's name
BYLINE_CLIMB = 4
_PIECE = "\x1f"  # the unit separator: whitespace to \s and str.split
DATE_LINE_WORDS = 12  # a piece of text this long holding a date is a date line; longer, prose mentioning one
DATELINE_LEAD = 3  # words before a date that opens a piece of prose, as a dateline's place
CUT_HEADLINE = 100  # a JSON-LD headline this long may be cut at 110 characters
LEDE_WORDS = 25  # an <h1> longer than this may be a paragraph


@dataclass(frozen=True)
class Metadata:
    canonical_url: str | None
    title: str | None
    author: str | None
    date: str | None
    sitename: str | None
    language: str | None
    # what the page says it is, for the article decision (extract.pagekind): JSON-LD @type values
    # of its top-level objects, og:type, and the JSON-LD articleBody (a candidate body)
    schema_types: tuple[str, ...] = ()
    og_type: str | None = None
    article_body: str | None = None


def clean(text: object) -> str:
    """Whitespace-normalised text, character references decoded (CMSs escape meta values twice),
    soft hyphens (a word's break points, shown only at a line's end) dropped; "" for anything but a
    string (JSON-LD values may be lists)."""
    if not isinstance(text, str):
        return ""
    text = _unmangled(html.unescape(text) if "&" in text else text)
    return _SPACES.sub(" ", text.replace("\u00ad", "") if "\u00ad" in text else text).strip()


def _unmangled(text: str) -> str:
    """UTF-8 text that was read as Latin-1 before the page was written ("Investorâ\x80\x99s"): its
    C1 control characters never stand in real text."""
    if not _C1_CONTROLS.search(text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def _is_json_ld(content: str) -> bool:
    """Whether a <meta>'s content is JSON-LD: an object or a list naming schema.org's vocabulary."""
    return content.lstrip().startswith(("{", "[")) and "schema.org" in content


def _json_ld_objects(tree: HtmlElement) -> list[dict]:
    found: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            found.append(node)
            walk(node.get("@graph"))

    # (lxml's walk by tag rather than XPath's: two thirds of the time); and the same data in a
    # <meta>'s content, where a CMS keeps it for a script to write out, after the scripts'
    scripts, metas = [], []
    for element in tree.iter("script", "meta"):
        if element.tag == "script":
            if element.get("type") == "application/ld+json":
                scripts.append(element.text or "")
        elif _is_json_ld(content := element.get("content") or ""):
            metas.append(content)
    for block in scripts + metas:
        try:
            walk(json.loads(block))
        except (ValueError, RecursionError):  # broken or absurdly deep data is no declaration, and loses no article
            continue
    return found


def _article_object(objects: list[dict]) -> dict:
    """The JSON-LD object describing the page's article: the first of an article type with a headline."""
    def is_article(obj: dict) -> bool:
        types = obj.get("@type")
        types = types if isinstance(types, list) else [types]
        return any(isinstance(t, str) and _ARTICLE_TYPES.search(t) for t in types)

    articles = [o for o in objects if is_article(o)]
    with_headline = [o for o in articles if o.get("headline")]
    return (with_headline or articles or [{}])[0]


def _types(tree: HtmlElement, objects: list[dict]) -> tuple[str, ...]:
    """schema.org types the page declares: JSON-LD @type values, then microdata itemtypes."""
    found = []
    for obj in objects:
        types = obj.get("@type")
        found += [t for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)]
    for itemtype in tree.xpath("//@itemtype"):
        found += [url.rstrip("/").rsplit("/", 1)[-1] for url in itemtype.split()]
    return tuple(dict.fromkeys(found))


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


def _meta(tree: HtmlElement) -> dict[str, str]:
    """Meta tags by lower-cased name/property/itemprop; the first occurrence wins."""
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv")
        content = meta.get("content")
        if key and content and content.strip():
            found.setdefault(key.strip().lower(), content.strip())
    return found


def iso_date(value: str | None) -> str | None:
    """An ISO 8601 date or timestamp, or None when the value is not one; in one form: the day (``2026-03-04``), or
    the time to the second with the page's offset when it gives one (``2026-03-04T10:00:00+01:00``,
    ``2026-03-04T10:00:00``): a publishing system's fraction of a second is its save's, not news."""
    value = clean(value)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T", 1) if "T" not in value else value)
    except ValueError:
        match = re.match(r"(\d{4})-?(\d{2})-?(\d{2})", value)
        if not match:
            return None
        try:
            parsed = datetime(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
        return parsed.date().isoformat()
    if parsed.year < 1990 or parsed.year > 2100:
        return None
    has_time = bool(re.search(r"\d[T ]\d{1,2}:\d{2}", value))
    return parsed.replace(microsecond=0).isoformat() if has_time else parsed.date().isoformat()


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _tokens(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _overlap(words: set[str], reference: set[str]) -> float:
    """Jaccard overlap of two texts' words."""
    return len(words & reference) / len(words | reference) if words else 0.0


def _squeezed(text: str) -> str:
    """Words without case or spaces: "Metro Daily" and the host's "metrodaily" compare equal."""
    return _key(text).replace(" ", "")


def _site_keys(site_names: list[str]) -> set[str]:
    """The site's names squeezed, as a title's or a byline's parts are compared with them."""
    return {_squeezed(name) for name in site_names if name}


def _without_site_name(title: str, site_names: list[str]) -> str:
    """A declared title without the site name that templates append or prepend ("Headline | Site"):
    a part named like the site, or a short last part after a bar, or the site's host name set
    before the headline with no separator."""
    first, _, rest = title.partition(" ")
    if rest and "." in first and first.lower() in site_names:  # "metrodaily.example Tram line opens"
        return _without_site_name(rest, site_names)
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    names = _site_keys(site_names)
    if _squeezed(parts[0]) in names:
        parts = parts[1:]
    elif _squeezed(parts[-1]) in names or (" | " in title and len(parts[-1].split()) <= SITE_NAME_WORDS):
        parts = parts[:-1]
    shorter = title[title.index(parts[0]) : title.rindex(parts[-1]) + len(parts[-1])]
    return _without_site_name(shorter, site_names) if shorter != title else title


def _hidden(element: HtmlElement) -> bool:
    """Text a reader does not see: in a heading, a screen reader's or a script's copy."""
    return (element.get("hidden") is not None or element.get("aria-hidden") == "true"
            or "display:none" in (element.get("style") or "").replace(" ", ""))


def _heading_text(heading: HtmlElement) -> str:
    """A heading's own words: line breaks as spaces ("WEEKEND<br>CODING" is two words), and a
    subtitle element not run into the word before it, without
    what templates nest in it besides the headline: blocks (a byline row, a subtitle paragraph),
    a <time>, hidden text, and a leading label ("<strong>Blog:</strong> ...")."""
    first = next((child for child in heading if isinstance(child.tag, str)), None)
    leading = first is not None and not (heading.text or "").strip()
    label = first if leading and _LABEL.match(text_of(first)) else None
    parts: list[str] = []

    def walk(node: HtmlElement) -> None:
        parts.append(node.text or "")
        for child in node:
            if child.tag == "br":
                parts.append(" ")
            elif (isinstance(child.tag, str) and child is not label and child.tag not in _NOT_HEADLINE
                  and not _hidden(child)):
                # an element whose capital follows a small letter with no space between is a line of
                # its own, as the page's style sets it (a subtitle in a span after the headline):
                # "Widgets<span>Ten Tools</span>" is two words, not "WidgetsTen"
                last = next((part[-1] for part in reversed(parts) if part), "")
                if last.islower() and text_of(child)[:1].isupper():
                    parts.append(" ")
                walk(child)
            parts.append(child.tail or "")

    walk(heading)
    return "".join(parts)


def _lost_characters_of(shown: str, declared: str) -> bool:
    """Whether a heading is the declared title but for characters a wrong decoding turned into "?"
    or U+FFFD ("Beginner? Guide" for "Beginner's Guide"); a "?" that ends the heading asks."""
    lost = {i for i, char in enumerate(shown) if char == "\ufffd" or (char == "?" and i < len(shown) - 1)}
    if not lost or shown == declared:
        return False
    pattern = "".join(r"[^\s?]{1,2}" if i in lost else re.escape(char) for i, char in enumerate(shown))
    return re.fullmatch(pattern, declared) is not None


def _in_declared_case(shown: str, declared: list[str]) -> str:
    """A heading as a declared title writes its words when only their letters' case differs (the
    page's style sets the heading in small letters): the whole title or its part before a separator."""
    for title in declared:
        start = title[: len(shown)]
        if start.lower() == shown.lower() and (start == title or _TITLE_SEPARATORS.match(title, len(shown))):
            return start
    return shown


def _headline(tree: HtmlElement, article: dict, meta: dict[str, str], site_names: list[str]) -> str | None:
    """The visible <h1> that best matches a declared title (og:title and <title> often carry the
    site name, and editors retouch the visible headline); else the declared headline without the
    site name."""
    declared = [clean(v) for v in (article.get("headline"), meta.get("og:title"), meta.get("twitter:title"))]
    page_title = clean(tree.findtext(".//title"))
    declared = [_without_site_name(v, site_names) for v in [*declared, page_title] if v]
    references = [_tokens(d) for d in declared]
    # an <h1> holding the site's name is the masthead, not the headline
    names = _site_keys(site_names)
    headings = [text for text in (clean(_heading_text(h1)) for h1 in tree.iter("h1")) if text]
    headings = list(dict.fromkeys(text for text in headings if _squeezed(text) not in names))
    if declared:  # an <h1> as long as a paragraph, and twice the declared title, is a lede set as a heading
        longest = max(LEDE_WORDS, 2 * len(declared[0].split()))
        headings = [text for text in headings if len(text.split()) <= longest]
    # the page's only <h1> (repeated for a phone's layout, it is still one) needs to share a few words
    # with a declared title, one of several more; of two matching alike ("Tram Line Opens", "Tram line opens"),
    # the one written as a declaration writes it
    tokens = {text: _tokens(text) for text in headings}
    # (an <h1> sharing too few words with every declared title, a promotion's or a masthead's, is no rival)
    rivals = sum(1 for text in headings if any(_overlap(tokens[text], reference) >= ONLY_HEADLINE_MATCH for reference in references))
    best, best_score = None, (HEADLINE_MATCH if rivals > 1 else ONLY_HEADLINE_MATCH, 0.0)
    for text in headings:
        for reference, title in zip(references, declared):
            score = (_overlap(tokens[text], reference), _overlap(set(text.split()), set(title.split())))
            if score >= best_score:
                best, best_score = text, score
    if best is not None:  # a headline whose characters a wrong decoding lost: the declared title it copies
        best = next((title for title in declared if _lost_characters_of(best, title)), best)
    if best is not None and best.islower():  # a heading in small letters: the declared title's capitals
        best = _in_declared_case(best, declared)
    if best is not None and best.isupper():  # a capitalised display headline: the declared title it matches
        words = _tokens(best)
        best = next((d for d, ref in zip(declared, references) if _overlap(words, ref) >= HEADLINE_MATCH), best)
    if best is None and not declared and len(headings) == 1:
        best = headings[0]
    if best is not None:
        best = _without_site_name(best, site_names)
    if declared and best not in declared:
        # a declared title the page also shows as a heading has two sources' word for it, which
        # an <h1> no declaration gives (a promotion, a pull quote, a retouched headline) has not;
        # shown as an element of a heading, it is the headline's link beside what the template
        # runs into it (a link to the source, a comment count)
        shown = {" ".join(text_of(element).split())
                 for heading in tree.iter("h1", "h2", "h3") for element in heading.iter()}
        best = next((title for title in declared if title in shown), best)
        if best is None:
            # with no <h1> for it, a declared title's longest part that a heading shows is the
            # headline, its other parts a label or a name ("Headline - Infographic")
            longest = (max(_TITLE_SEPARATORS.split(title), key=len) for title in declared)
            best = next((part for part in longest if part in shown), None)
    if best is None and declared:
        # a long JSON-LD headline cut at 110 characters (search engines' limit) is the start of a
        # fuller one, which goes on with words, not with a separator and the site's name
        first = declared[0]
        fuller = [d for d in declared if len(d) > len(first) and d.startswith(first)
                  and not _TITLE_SEPARATORS.match(d, len(first))]
        best = fuller[0] if fuller and len(first) >= CUT_HEADLINE else first
    return _in_its_script_s_width(best) if best else None


def _in_its_script_s_width(text: str) -> str:
    """Text in a script of narrow letters typed with an East Asian input method has its full-width
    punctuation ("Work？"), which NFKC makes ASCII; beside wide letters (CJK) it is their own."""
    if any(unicodedata.east_asian_width(char) == "W" for char in text):
        return text
    return "".join(unicodedata.normalize("NFKC", char) if "\uff01" <= char <= "\uff5e" else char for char in text)


def _headline_block(tree: HtmlElement) -> HtmlElement:
    """The block around the first <h1>, BYLINE_CLIMB levels up, where bylines sit; the whole page
    without an <h1>. Searching it rather than the page costs a third of the time (a byline search
    copies what it searches) and finds 45 of the 47 bylines the whole page gives."""
    node = next(tree.iter("h1"), None)
    if node is None:
        return tree
    for _ in range(BYLINE_CLIMB):
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        node = parent
    return node


def _name(text: object) -> str:
    """A byline as a name: without its "By " label, and without the date or update note that
    templates put on the same line ("Luke Kim · December 5", "Jo Bee Last updated: Aug 1")."""
    name = _BYLINE_DATE.sub("", _BY.sub("", clean(text)))
    if _CALENDAR_WORD.fullmatch(name) or _DATE_LINE.match(name) or not _LETTER.search(name):
        return ""  # a date line ("Updated March 13"), a label alone, a number
    first, _, rest = name.partition(" ")
    if first.isupper() and len(first) > 1 and first == "".join(word[0] for word in rest.split()).upper():
        return rest  # an avatar's initials before the name ("JR Jane Roe")
    return name


def _without_job_title(names: list[str], block: HtmlElement) -> list[str]:
    """A visible byline's names without the job title that templates set after the name, in an element
    of its own ("Ann Lee Tech Reporter", "Ann Lee Founder, Lead Reviewer"): a name that runs on past an
    element holding two or more of its words is cut there, and the pieces after it are the rest of the
    title unless an element holds them whole (a second name)."""
    for i, name in enumerate(names):
        leading = _LEADING_LEAF(block, name=name) if len(name.split()) > 2 else []
        if leading:
            cut = " ".join(text_of(leading[0]).split())
            return [*names[:i], cut, *(n for n in names[i + 1:] if _WHOLE_LEAF(block, name=n))]
    return names


def _without_affiliation(name: str, site_keys: set[str]) -> str:
    """An author credit without the site it writes for ("Ann Lee, The Daily Post"; ", USA TODAY" is
    no name at all): a part after a comma named like the site (site names squeezed)."""
    if ", " not in name:
        return name
    return ", ".join(part for part in name.split(", ") if _squeezed(part) not in site_keys)


def _marks_byline(block: HtmlElement) -> bool:
    """Whether an attribute of the block or of an element in it bears a byline's mark: each value
    searched on its own (no mark holds the space that would join them) and up to the first mark,
    rather than an XPath's every value joined (twice the time); each element's attributes read in
    one call."""
    return any(
        _byline_mark_in(value)
        for element in block.iter(Element)
        for name, value in element.items()
        if name in _BYLINE_ATTRIBUTES and value
    )


def _near_headline(block: HtmlElement, headline: HtmlElement) -> Iterator[HtmlElement]:
    """The block's elements from BYLINE_BEFORE before the headline to BYLINE_AFTER after it, in order."""
    before: deque[HtmlElement] = deque(maxlen=BYLINE_BEFORE)
    elements = block.iter(Element)
    for element in elements:
        if element is headline:
            yield from before
            yield element
            yield from islice(elements, BYLINE_AFTER)
            return
        before.append(element)


def _is_label_piece(piece: str | None) -> bool:
    return bool(piece) and len(piece.strip()) < BYLINE_PIECE and _BYLINE_LABEL.search(piece) is not None


def _label_pieces(element: HtmlElement) -> Iterator[tuple[str, HtmlElement | None]]:
    """An element's own text and its children's tails that hold a byline's label, in order, each
    with the element that follows it (the next child looked up for those only: a block near the
    headline may hold thousands)."""
    if _is_label_piece(element.text):
        yield element.text, element[0] if len(element) else None
    for child in element:
        if _is_label_piece(child.tail):
            yield child.tail, child.getnext()


def _labelled_byline(block: HtmlElement) -> list[str]:
    """The name after a byline's label ("By Ann Lee", "Written by: Ann Lee", "May 5, 2025 by Ann Lee |
    5 min") in a short element next to the headline that no class marks as a byline: the label in
    the element's own text, at its start or after a date or a separator; the name the element that
    follows the label ("By <a>Ann Lee</a> View edition"), else the text after the label in the
    element or, for a label standing alone, in its parent."""
    headline = next(block.iter("h1"), None)
    if headline is None:
        return []
    for element in _near_headline(block, headline):
        if element.tag in _NOT_BYLINE:
            continue
        labelled = list(_label_pieces(element))
        if not labelled:
            continue
        for piece, following in labelled:
            label = _byline_label(" ".join(piece.split()))
            if label and label.end() == len(" ".join(piece.split())) and isinstance(following, HtmlElement):
                names = []
                while (name := _byline_name(text_of(following))) is not None:
                    names.append(name)  # and the next, in "By <a>Ann Lee</a>, <a>Bo Park</a>"
                    following = following.getnext()
                    if following is None or (following.getprevious().tail or "").strip() not in _JOINING:
                        break
                if names:
                    return names
        for holder in (element, element.getparent()):
            if holder is None or holder.tag in _NOT_BYLINE:
                break
            text = " ".join(_visible_text(holder).split())
            label = _byline_label(text)
            if len(text.split()) > BYLINE_WORDS or label is None:
                break
            name = _byline_name(text[label.end():])
            if name:
                return [name]
    return []


def _dated_byline(block: HtmlElement) -> list[str]:
    """The name after the date in a short date line next to the headline that no label or class marks as a
    byline ("Dec 17, 2025 · Ann Lee", "<span>2025-12-17</span><a>Ann Lee</a>"): a name as a labelled byline's
    (capitalised words up to a separator, a number or the end of a piece of text: "Ann Lee in <a>Transport</a>"),
    not a link to a section or a tag. The headline and what holds it, and blocks, are no date lines."""
    headline = next(block.iter("h1"), None)
    if headline is None:
        return []
    around = set(headline.iterancestors())
    for element in _near_headline(block, headline):
        if (element is headline or element in around or element.tag in _NOT_BYLINE
                or next(islice(element.iter(), DATE_LINE_ELEMENTS, None), None) is not None):
            continue
        visible = _visible_text(element)
        if _YEAR.search(visible) is None:
            continue  # (every date _SHOWN_DATE finds holds a year, written within a piece of the text)
        text = " ".join(visible.replace(_PIECE, " | ").split())
        date_shown = _SHOWN_DATE.search(text) if len(text.split()) <= BYLINE_WORDS else None
        if date_shown is None or not _shown_date(date_shown.group(0), False):
            continue
        rest = _AFTER_DATE.sub("", text[date_shown.end():])
        name = _byline_name(rest.split(" | ")[0]) if rest else None
        sections = {clean(text_of(a)) for a in element.iter("a") if _SECTION_LINK.search(
            f"{a.get('rel') or ''} {a.get('href') or ''}")}
        if name and name not in sections:
            return [name]
    return []


def _byline_label(text: str) -> re.Match | None:
    """A byline's label in a text, at its start or after a date or a separator: "a guide by its author"
    is a title, not a byline."""
    label = _BYLINE_LABEL.search(text)
    before = text[: label.start()].rstrip() if label else ""
    return label if not before or before[-1] in "|·•," or _SHOWN_DATE.search(before) else None


def _byline_name(text: str) -> str | None:
    """The name a byline's text begins with: up to a separator, a number or a sentence's end, two to
    five capitalised words (particles between them)."""
    words = _BYLINE_END.split(_name(" ".join(text.split())), 1)[0].split()
    while words and not words[-1][0].isupper():
        words.pop()
    if all(_NAME_WORD.fullmatch(w) and (w[0].isupper() or w in _NAME_PARTICLES) for w in words):
        return " ".join(words).rstrip(",") if 2 <= len(words) <= BYLINE_NAME_WORDS else None
    return None


def _of_the_headline(tree: HtmlElement, elements: list[HtmlElement]) -> list[HtmlElement]:
    """The elements that belong to the headline's story: not in another story's <article> or in an
    <aside> (a related story's card, a sidebar's list, each with its author)."""
    headline = next(tree.iter("h1"), None)
    if headline is None or not elements:
        return elements
    around = set(headline.iterancestors())
    return [
        element for element in elements
        if next(element.iterancestors("article", "aside"), headline.getparent()) in around
    ]


def _in_page_furniture(element: HtmlElement) -> bool:
    """Whether an element is in a header, menu or footer of the page's own, outside any <article> or <main>."""
    ancestors = [a.tag for a in element.iterancestors()]
    furniture = [i for i, tag in enumerate(ancestors) if tag in ("header", "nav", "footer")]
    return bool(furniture) and not any(tag in ("article", "main") for tag in ancestors[furniture[-1]:])


def _shown_authors(tree: HtmlElement) -> list[str]:
    """Author names the page shows: rel=author links, else a visible byline, else a link to an
    author's page near the headline."""
    visible = _of_the_headline(tree, _SHOWN_AUTHORS(tree))[:3]
    names = list(dict.fromkeys(n for n in (_name(text_of(a)) for a in visible) if 1 < len(n) < 80))
    if names:
        return names
    # a byline the page shows but does not declare: trafilatura's search of bylines by their
    # class and attributes (43 % of the tuning pages declare no author; it finds a sixth of them)
    block = _headline_block(tree)
    marked = _marks_byline(block) or block.find(".//author") is not None
    byline = ""
    if marked:
        with emulated_name_matches():  # (its XPaths test names by calls back into Python: 2.5 -> 1 ms a search)
            byline = extract_byline(block) or ""
    names = [name for name in map(_name, byline.split(";")) if name]
    if names:  # no field label of a comment form ("Name *")
        labels = {clean(text) for form in block.iter("form") for text in form.itertext()}
        names = [name for name in names if name not in labels]
    if not names:  # a link to the author's page, next to the headline, in a byline no class names
        names = [n for n in (_name(text_of(a)) for a in _AUTHOR_PAGE_LINKS(block)[:1]) if 1 < len(n) < 80]
    if not names:
        names = _labelled_byline(block)
    if not names:
        names = _dated_byline(block)
    if not names and block is not tree:
        # a link to the author's page elsewhere in the story (an author box after the text), named as people are;
        # not in the page's furniture (a menu listing the site's writers): a header, menu or footer outside the story
        links = [a for a in _of_the_headline(tree, _AUTHOR_PAGE_LINKS(tree)) if not _in_page_furniture(a)]
        names = [name for name in (_byline_name(text_of(a)) for a in links[:1]) if name]
    return _without_job_title(names, block)


def _credited_in(name: str, credit: str) -> bool:
    """Whether a credit names the name whole: "Ann Lee" in "Ann Lee, Bo Park", not "Ann Le"."""
    start = credit.find(name)
    while start >= 0:
        end = start + len(name)
        if (start == 0 or not credit[start - 1].isalnum()) and (end == len(credit) or not credit[end].isalnum()):
            return True
        start = credit.find(name, start + 1)
    return False


def _author(tree: HtmlElement, article: dict, meta: dict[str, str], site_names: list[str]) -> str | None:
    """Author names from JSON-LD, else meta tags, else the names the page shows; a declared author
    that is the site itself gives way to a person the page shows, in a byline too (searched only
    then, and when nothing is declared: trafilatura's search copies the block)."""
    declared = _names(article.get("author")) or [
        meta.get(key) for key in ("author", "article:author", "dc.creator", "byl")
    ]
    if not any(declared):  # the author as the page declares it to its analytics tools (Parse.ly, Sailthru)
        declared = [meta.get("parsely-author") or meta.get("sailthru.author")]
    site_keys = _site_keys(site_names)
    names = [_without_affiliation(_name(n), site_keys) for n in declared]
    names = list(dict.fromkeys(n for n in names if n and not _URL_LIKE.search(n) and 1 < len(n) < 80))
    if not names:
        names = _shown_authors(tree)
    elif all(_squeezed(n) in site_keys or _LOGIN.fullmatch(n) for n in names):
        # the site, or an account's login, declared as author: a person the page shows comes first
        names = _shown_authors(tree) or names
    # a name credited again within a joint credit ("Ann Lee and Bo Park", "Ann Lee"; "Ann Lee, Bo Park") is
    # listed once
    names = [n for n in names if not any(n != other and _credited_in(n, other) for other in names)]
    return ", ".join(names) or None


def _date_candidates(tree: HtmlElement, article: dict, meta: dict[str, str]) -> Iterator[object]:
    """Declared publication dates, most explicit first; the markup's own (itemprop, time pubdate)
    are searched, a walk of the whole tree, only when no declaration gave a date."""
    yield article.get("datePublished")
    yield from map(meta.get, _PUBLICATION_META)
    yield from _MARKED_DATES(tree)
    yield article.get("dateCreated")


def _other_dates(article: dict, meta: dict[str, str]) -> tuple[list[str], list[str]]:
    """Dates a page gives under other names: its publication dates named as other CMSs name them
    ("parsely-pub-date", "published-date", "published"), and its last modifications; in ISO 8601 or
    written as people write dates ("July 17, 2025")."""
    published = [value for key, value in meta.items() if _PUBLISHED_META.search(key)]
    modified = [value for key, value in meta.items() if _MODIFIED_META.search(key)]
    declared = article.get("dateModified")
    return published, [declared, *modified] if isinstance(declared, str) else modified


def _url_date(url: str | None) -> date | None:
    """The date in a URL's path ("/2025/12/18/slug"): the day the site filed the story, in its timezone."""
    match = _URL_DATE.search(urlsplit(url).path) if url else None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])) if match else None
    except ValueError:
        return None


def _date_match(text: str, start: int) -> re.Match | None:
    """The first _SHOWN_DATE match at or after ``start``, searched year by year: from the year's lead
    (_LEAD: more characters not white space than a match has before its year) to _TRAIL characters
    after it. A match found there that starts at the year or before holds that year (no other
    part of a match holds four digits); else no match holds it, and the search goes on from the
    next. (The search still reads the characters before the place it begins, for its word
    boundaries and look-behinds.)"""
    while (year := _YEAR.search(text, start)) is not None:
        lead = _LEAD.match(text[max(start, year.start() - _LEAD_SPAN) : year.start()][::-1])
        match = _SHOWN_DATE.search(text, year.start() - lead.end() if lead else start, year.end() + _TRAIL)
        if match is not None and match.start() <= year.start():
            return match
        start = year.start() + 1
    return None


def _shown_dates(text: str, month_first: bool) -> Iterator[str]:
    """The plausible dates written in a text, in order; a slashed date is read day first, as most of the
    world writes it, or month first on a page in US English, unless its first number cannot be a month.
    In a text of pieces (_visible_text's), none that a piece of prose mentions: the piece (or the
    pieces a date spans) holds a date line's few words, not a sentence's."""
    latest = date.today() + timedelta(days=1)
    start = 0
    while match := _date_match(text, start):
        groups = match.groups()
        name = (groups[0] or groups[4] or "").lower()
        if name and name not in _MONTH_NUMBER:
            start = match.start() + 1  # not a date: one may still begin inside the match
            continue
        start = match.end()
        if groups[0]:
            year, month, day = groups[2], _MONTH_NUMBER[name], groups[1]
        elif groups[3]:
            year, month, day = groups[5], _MONTH_NUMBER[name], groups[3]
        elif groups[6]:
            year, month, day = groups[6], groups[8], groups[9]
        elif groups[14]:
            year, month, day = groups[14], groups[15], groups[16]
        else:
            first, second, year = int(groups[10]), int(groups[12]), groups[13]
            us_style = month_first and groups[11] == "/" and first <= 12
            month, day = (first, second) if us_style or second > 12 else (second, first)
        try:
            found = date(int(year), int(month), int(day))
        except ValueError:
            continue
        if 1995 <= found.year and found <= latest and not _in_prose(text, match.start(), match.end()):
            yield found.isoformat()


def _shown_date(text: str, month_first: bool) -> str | None:
    """The first plausible date written in a text (_shown_dates')."""
    return next(_shown_dates(text, month_first), None)


def _in_prose(text: str, start: int, end: int) -> bool:
    """Whether the piece of a text that holds start:end is longer than a date line and the date does
    not open it (as a dateline opens a report: "LONDON, 18 December 2025 -")."""
    if _PIECE not in text:
        return False
    piece_start, piece_end = text.rfind(_PIECE, 0, start) + 1, text.find(_PIECE, end)
    return (len(text[piece_start:start].split()) > DATELINE_LEAD
            and len(text[piece_start : piece_end if piece_end >= 0 else None].split()) > DATE_LINE_WORDS)


def _visible_text(element: HtmlElement, skipped: frozenset[str] = frozenset()) -> str:
    """The text a reader sees in an element: no scripts, styles or comments; its pieces (the text
    of an element, or after one) joined by _PIECE, a separator that regular expressions read as space.
    Elements of the skipped tags are left out whole, their descendants' text too."""
    parts = []
    nodes = element.iter()
    for node in nodes:
        if node.tag in skipped and node is not element:
            parts.append(node.tail or "")
            for _ in node.iterdescendants():
                next(nodes)  # (lxml's iter walks in document order: the descendants come next)
            continue
        if node.text and isinstance(node.tag, str) and node.tag not in _INVISIBLE:
            parts.append(node.text)
        if node.tail and node is not element:
            parts.append(node.tail)
    return _PIECE.join(parts)


def _shown_on_page(tree: HtmlElement, month_first: bool) -> str | None:
    """The date a page shows: a <time datetime> or a written date in the block around its headline,
    then anywhere on the page (once, for a page whose block is the page). (Our own search rather than
    htmldate's: its extensive search cost ten times as much, a tenth of the page time, and found fewer
    right dates.)"""
    for element in dict.fromkeys((_headline_block(tree), tree)):
        stamped = next(filter(None, (iso_date(t.get("datetime")) for t in element.iter("time"))), None)
        shown = stamped or _shown_date(_visible_text(element), month_first)
        if shown:
            return shown
    return None


def _modified_days(article: dict, meta: dict[str, str]) -> set[str]:
    """The days of the page's declared last modifications, in any timezone: a stamp in UTC may fall on the day
    before in the page's (as _earliest_local_day reads it)."""
    values = [article.get("dateModified"), *(v for k, v in meta.items() if _MODIFIED_META.search(k) or k in ("og:updated_time", "datemodified"))]
    days = set()
    for stamp in filter(None, map(iso_date, filter(lambda v: isinstance(v, str), values))):
        day, earliest = date.fromisoformat(stamp[:10]), _earliest_local_day(stamp)
        days.update((earliest + timedelta(days=n)).isoformat() for n in range((day - earliest).days + 1))
    return days


def _earliest_local_day(stamp: str) -> date:
    """The earliest day a timestamp falls on in some timezone (UTC-12); a day before a date without a time."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return date.fromisoformat(stamp[:10]) - timedelta(days=1)
    if moment.tzinfo is None or len(stamp) <= 10:
        return moment.date() - timedelta(days=1)
    return (moment.astimezone(timezone.utc) - timedelta(hours=12)).date()


def _shows_day(tree: HtmlElement, day: str) -> bool:
    """Whether a page shows a day anywhere: in a <time datetime> or written."""
    if any((iso_date(t.get("datetime")) or "")[:10] == day for t in tree.iter("time")):
        return True
    text = _visible_text(tree)
    return any(day in _shown_dates(text, month_first) for month_first in (False, True))


def _meta_tag_declares(meta: dict[str, str], day: str) -> bool:
    """Whether a meta tag declares the page's publication on a day: Open Graph's, Dublin Core's, a CMS's; not
    schema.org's own property (a microdata <meta itemprop="datePublished">), which is the page's structured data."""
    return any((iso_date(value) or "")[:10] == day for key, value in meta.items()
               if key != "datepublished" and (key in _PUBLICATION_META or _PUBLISHED_META.search(key)))


def _story_date(tree: HtmlElement, declared: str, article: dict, meta: dict[str, str]) -> str | None:
    """A date the page shows at its headline instead of its declared publication. An earlier one, unless a
    timezone explains the difference, is the story's own date when the declaration is a CMS's stamp of a later
    save (a migration, a re-publication), as when it is also the page's last modification or the page shows its
    day nowhere. A later one is the date of the version the page shows when its structured data (JSON-LD,
    microdata), the publication's only declaration, give that day as the last modification and the page shows
    the publication's day nowhere (a guide rewritten since it first went up): the page's text and a
    declaration agree, against a stamp no reader sees. A quotation or a figure (an embedded post with its
    date) is not searched."""
    block = _headline_block(tree)
    if block is tree:
        return None
    stamped = next(filter(None, (iso_date(t.get("datetime")) for t in block.iter("time")
                                 if next(t.iterancestors(*_QUOTED), None) is None)), None)
    shown = stamped or _shown_date(_opening(_visible_text(block, _QUOTED)), False)
    if not shown:
        return None
    modified, shown_day = _modified_days(article, meta), date.fromisoformat(shown[:10])
    if shown_day < _earliest_local_day(declared):
        return shown if declared[:10] in modified or not _shows_day(tree, declared[:10]) else None
    if (shown_day > date.fromisoformat(declared[:10]) and shown[:10] in modified
            and not _meta_tag_declares(meta, declared[:10]) and not _shows_day(tree, declared[:10])):
        return shown
    return None


def _opening(text: str) -> str:
    """A text of pieces up to the end of its second piece of prose: the date lines around a headline (a
    standfirst may come first) and a dateline opening the story, not the dates its sources or notes give."""
    position, prose_pieces = 0, 2
    while (end := text.find(_PIECE, position)) >= 0:
        if len(text[position:end].split()) > DATE_LINE_WORDS:
            prose_pieces -= 1
            if not prose_pieces:
                return text[:end]
        position = end + 1
    return text


def _date(tree: HtmlElement, article: dict, meta: dict[str, str], url: str | None) -> str | None:
    """The declared publication date, else its URL's, else the date the page shows, else the earliest
    of the publication dates declared under other names, else its last modification. A declared
    timestamp a day off its URL's date is a local date converted to UTC: the URL's day is the one
    the site published on."""
    filed = _url_date(url)
    for value in _date_candidates(tree, article, meta):
        if isinstance(value, str) and (declared := iso_date(value)):
            if filed is not None and abs((filed - date.fromisoformat(declared[:10])).days) == 1:
                return filed.isoformat()
            if filed is None:
                return _story_date(tree, declared, article, meta) or declared
            return declared
    locales = (tree.get("lang"), meta.get("og:locale"), meta.get("content-language"))
    month_first = any(_US_LOCALE.match(locale) for locale in locales if locale)
    shown = filed.isoformat() if filed is not None else _shown_on_page(tree, month_first)
    if shown:
        return shown

    def read(value: str) -> str | None:
        return iso_date(value) or _shown_date(clean(value), month_first)

    published, modified = _other_dates(article, meta)
    # of publication dates under several names, the earliest: a later one is the stamp of a save
    earliest = min(filter(None, map(read, published)), key=lambda found: found[:10], default=None)
    return earliest or next(filter(None, map(read, modified)), None)


def _language(tree: HtmlElement, article: dict, meta: dict[str, str]) -> str | None:
    for value in (tree.get("lang"), tree.get("xml:lang"), meta.get("content-language"),
                  meta.get("og:locale"), article.get("inLanguage")):
        if isinstance(value, str):
            primary = re.split(r"[-_,; ]", value.strip().lower())[0]
            if _LANGUAGE.match(primary):
                return primary
    return None


def _absolute(url: str | None, href: str | None) -> str | None:
    href = (href or "").strip()
    if not href:
        return None
    absolute = urljoin(url, href) if url else href
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def extract_metadata(tree: HtmlElement, url: str | None) -> Metadata:
    """Metadata of the page; fields the page does not state are None."""
    objects = _json_ld_objects(tree)
    article = _article_object(objects)
    meta = _meta(tree)
    declared = [*(link.get("href") for link in tree.iter("link") if link.get("rel") == "canonical"), meta.get("og:url")]
    canonical = next(filter(None, (_absolute(url, href) for href in declared)), None)
    publisher = _names(article.get("publisher"))
    host = urlsplit(url).hostname if url else None
    site_names = [meta.get("og:site_name", ""), meta.get("application-name", ""), *publisher]
    site_names += [host.removeprefix("www."), host.removeprefix("www.").split(".")[0]] if host else []
    # the name registered under the public suffix: "slashdot" of developers.slashdot.org
    site_names += [domain.split(".")[0]] if url and (domain := extract_domain(url)) else []
    return Metadata(
        canonical_url=canonical,
        title=_headline(tree, article, meta, site_names),
        author=_author(tree, article, meta, site_names),
        date=_date(tree, article, meta, url),
        sitename=clean(meta.get("og:site_name") or (publisher[0] if publisher else None)
                       or meta.get("application-name")) or host,
        language=_language(tree, article, meta),
        schema_types=_types(tree, objects),
        og_type=clean(meta.get("og:type")).lower() or None,
        article_body=article.get("articleBody") if isinstance(article.get("articleBody"), str) else None,
    )
