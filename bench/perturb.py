"""Ours and trafilatura defaults on the tuning pages as served and perturbed the way unseen pages differ.

A diagnostic, not a test: keep the as-served figures from ``bench/extraction.py`` as the gate. Each
variant rewrites the raw markup (never our extractor's input path) and prints, per set and host
half, wx and ws F1, empty outputs and pages judged no article (the article decision's misses: every
tuning page is an article), as served and perturbed side by side.

- ``opaque``: every class and id name made opaque. Many open-web sites name nothing (CSS-module
  hashes, utility classes), so the furniture rules, the body's choice and the article decision must
  stand on structure. Each class and id value token becomes a token made from its md5 (the same name
  gives the same token, so repetition survives; the page's references to its ids, in fragment
  links, labels, aria attributes and scripts' quoted strings, follow them).
- ``plain``: no HTML5 sectioning, as older CMSs, table layouts and small sites serve pages:
  ``article``, ``main``, ``nav``, ``aside``, ``header``, ``footer``, ``section``, ``figure`` and
  ``figcaption`` become ``div`` and ``time`` a ``span``, keeping attributes (``role``, ``itemprop``),
  text and children.
- ``plain-norole``: ``plain`` without ``role`` attributes either.
- ``opaque+plain``: both, a page that says nothing by names or tags.
- ``divs``: every paragraph a ``div``, as page builders, editors' exports and many hand-written sites
  set them: the body's prose must be found by its text, not by ``<p>`` tags.
- ``breaks``: no paragraph tags at all, each paragraph's text after two line breaks, as blogs and
  older sites write them.
- ``custom``: every ``div`` a custom element (``x-node``), as sites built of web components write
  their wrappers (one name for all: a site's own names, ``story-body`` or ``share-bar``, say more).
- ``wrapped``: each paragraph in a ``div`` of its own, as page builders set each block of text.
- ``signup``: a newsletter sign-up box (a heading, a line of pitch, an e-mail field and a button)
  after the page's third paragraph, as sites set one amid an article.
- ``noh1``: no ``<h1>``, each a ``div`` (a headline set as a styled block), its attributes kept.
- ``sections``: every ``div`` a ``section``, as builders that set every block in one write them.
- ``replies``: readers' comments after the last paragraph, named by nothing, their dates written
  as text (no ``<time>``), with the form to reply in: a small site's own comment template. (One
  comment is a paragraph's length, as some are: a box of short texts around a form is a sign-up
  box's shape, which drop_signup_boxes takes whole.)
- ``banner``: a consent banner (a paragraph and two buttons) named by nothing, first in the body.
- ``teasers``: a grid of twenty teaser cards with summaries after the last paragraph, named by
  nothing, as a "more stories" grid set inside the article's container.
- ``broken``: one broken byte sequence (a character cut short) after the third paragraph, as a
  truncated capture or a legacy byte pasted into a UTF-8 page leaves one.
- ``legacy``: the page in windows-1252, no charset declared, as older sites serve theirs.
- ``truncated``: the first 70 % of the page's bytes, a capture cut short (its truth stays whole:
  compare the extractors with each other, and count the empty outputs).
- ``wordproc``: each paragraph's text in a span with a word processor's style and ``<o:p>`` at its
  end, ``class=MsoNormal`` where it has no class, as Word's "Save as web page" writes paragraphs.
- ``pretty``: a line end and indentation around each opening inline tag (a link, emphasis, a
  span), as templates and pretty-printers set markup one tag a line: a paragraph's text holds line
  ends, which a browser shows as spaces.
- ``related``: a "Read more:" pointer (a label and a link to another story) after every third of
  the story's paragraphs (the page's longest run of sibling paragraphs), as news templates set them.
- ``authorbox``: the author's box (a portrait, the page's author's name linking to their page, a
  line of bio) right after the story's last paragraph, inside its block.
- ``shy``: a soft hyphen inside every long word of the paragraphs, as sites that hyphenate on
  the server mark break points: a word is split in the page's text, whole in our paragraphs.
- ``dropcap``: each paragraph's first letter in a span of its own (a drop cap; set on every
  paragraph here, the harder case): its word is split in the page's text nodes.
- ``readmore``: the story's paragraphs after its third hidden (``display:none``) until a "Read more"
  button is clicked, as templates shorten a story for phones: the longest run of sibling paragraphs,
  no toggle naming the hidden block.

    python bench/perturb.py [--variant NAME ...] [--set NAME] [--only ours] [--worst N]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Callable
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from extraction import EXTRACTORS, SETS, host_halves, load_pages, score, whitespace_tokens, word_tokens  # noqa: E402

from extract.htmlinput import load_tree  # noqa: E402
from extract.metadata import extract_metadata  # noqa: E402

NAMES = re.compile(rb"""\b(class|id)\s*=\s*("[^"]*"|'[^']*')""", re.IGNORECASE)
# where a page refers to an element by its id: a link to a place on the page, a label, aria's
# references, and a script's quoted string (a streamed page's script moves pieces into place by id)
FRAGMENT_LINK = re.compile(rb"""(\bhref\s*=\s*["'])#([^"']+)""", re.IGNORECASE)
ID_REFS = re.compile(rb"""\b(for|aria-controls|aria-labelledby|aria-describedby|aria-owns)\s*=\s*("[^"]*"|'[^']*')""", re.IGNORECASE)
SCRIPT = re.compile(rb"(<script\b[^>]*>)(.*?)(</script>)", re.IGNORECASE | re.DOTALL)
QUOTED = re.compile(rb"""(["'])([^"'\s]{1,200})\1""")
SECTIONING = re.compile(rb"<(/?)(?:article|main|nav|aside|header|footer|section|figure|figcaption)(?=[\s/>])", re.IGNORECASE)
TIME = re.compile(rb"<(/?)time(?=[\s/>])", re.IGNORECASE)
PARAGRAPH = re.compile(rb"<(/?)p(?=[\s/>])", re.IGNORECASE)
PARAGRAPH_START = re.compile(rb"<p(?:\s[^>]*)?>", re.IGNORECASE)
PARAGRAPH_END = re.compile(rb"</p\s*>", re.IGNORECASE)
DIVISION = re.compile(rb"<(/?)div(?=[\s/>])", re.IGNORECASE)
HEADLINE = re.compile(rb"<(/?)h1(?=[\s/>])", re.IGNORECASE)
ROLE = re.compile(rb"""(<[a-z][^<>]*?)\s+role\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
PEERS = ("ours", "trafilatura defaults")


def _token(value: bytes) -> bytes:
    return b"c" + hashlib.md5(value).hexdigest()[:6].encode()


def opaque(html: bytes) -> bytes:
    """Every class and id value token made opaque; the page's references to its ids follow them, so
    that what finds an element by id (a fragment link, a label, aria-controls, a script) still does:
    a site with hashed names refers to them consistently."""
    ids = {m.group(2)[1:-1].strip() for m in NAMES.finditer(html) if m.group(1).lower() == b"id"}

    def names(match: re.Match) -> bytes:
        return match.group(1) + b'="' + b" ".join(map(_token, match.group(2)[1:-1].split())) + b'"'

    def refs(match: re.Match) -> bytes:
        values = match.group(2)[1:-1].split()
        return match.group(1) + b'="' + b" ".join(_token(v) if v in ids else v for v in values) + b'"'

    def fragment(match: re.Match) -> bytes:
        value = match.group(2)
        return match.group(1) + b"#" + (_token(value) if value in ids else value)

    def script(match: re.Match) -> bytes:
        def quoted(q: re.Match) -> bytes:
            return q.group(1) + _token(q.group(2)) + q.group(1) if q.group(2) in ids else q.group(0)

        return match.group(1) + QUOTED.sub(quoted, match.group(2)) + match.group(3)

    html = NAMES.sub(names, html)
    html = ID_REFS.sub(refs, html)
    html = FRAGMENT_LINK.sub(fragment, html)
    return SCRIPT.sub(script, html)


def plain(html: bytes) -> bytes:
    """HTML5's sectioning elements as the ``div`` an older page has in their place (``time`` a
    ``span``), with their attributes, text and children."""
    return TIME.sub(rb"<\1span", SECTIONING.sub(rb"<\1div", html))


def plain_norole(html: bytes) -> bytes:
    """``plain``, and no element says its role."""
    return ROLE.sub(rb"\1", plain(html))


def divs(html: bytes) -> bytes:
    """Every ``p`` a ``div``, with its attributes, text and children."""
    return PARAGRAPH.sub(rb"<\1div", html)


def breaks(html: bytes) -> bytes:
    """No ``p``: each paragraph's text follows two ``br``, as blogs and older sites write them."""
    return PARAGRAPH_START.sub(b"<br><br>", PARAGRAPH_END.sub(b"", html))


def custom(html: bytes) -> bytes:
    """Every ``div`` a custom element, ``x-node``, with its attributes, text and children."""
    return DIVISION.sub(rb"<\1x-node", html)


def wrapped(html: bytes) -> bytes:
    """Each ``p`` in a ``div`` of its own."""
    return PARAGRAPH_END.sub(b"</p></div>", PARAGRAPH_START.sub(lambda m: b"<div>" + m.group(0), html))


SIGNUP = (b'<div class="q7"><h3>Get our morning briefing</h3><p>The day\'s top stories, sent to your inbox every '
          b'weekday.</p><form action="/s"><input type="email" placeholder="Your email"><button>Sign me up</button>'
          b"</form></div>")


def _after_paragraph(html: bytes, index: int, insert: bytes) -> bytes:
    """``insert`` after the page's ``index``-th ``</p>`` (as a list index: -1 the last); the page as
    it is when it has too few."""
    ends = list(PARAGRAPH_END.finditer(html))
    if not -len(ends) <= index < len(ends):
        return html
    at = ends[index].end()
    return html[:at] + insert + html[at:]


def signup(html: bytes) -> bytes:
    """A sign-up box after the third ``</p>``."""
    return _after_paragraph(html, 2, SIGNUP)


REPLIES = b"".join(
    b"<li><div><b>%s</b> <span>%s</span></div><p>%s</p><a href=\"#reply\">Reply</a></li>" % entry
    for entry in (
        (b"Maria Jensen", b"March 3, 2025 at 9:14 am", b"Thanks for writing this up, it answered most of the questions I had "
         b"before I started. I would love a follow-up on the running costs over a longer period, say two or three years."),
        (b"Tom", b"March 4, 2025 at 11:02 pm", b"I tried the second approach last year and ran into trouble with the setup, "
         b"so this was really helpful to read. Bookmarking it for later."),
        (b"Priya K.", b"March 6, 2025 at 7:45 am", b"Great article. One small correction: the figures in the third section "
         b"seem to be from an older report, and the newer numbers are a bit different."),
    )
)
THREAD = (b"<div><h3>3 thoughts on this post</h3><ol>" + REPLIES + b"</ol><h3>Leave a Reply</h3><p>Your email address "
          b"will not be published. Required fields are marked *</p><form><textarea></textarea><input type=\"submit\" "
          b"value=\"Post Comment\"></form></div>")
BANNER = (b"<div><p>We use cookies and similar technologies to improve your experience on our website, to analyse traffic "
          b"and to show you personalised content. By clicking Accept all you agree to our use of cookies.</p>"
          b"<button>Accept all</button><button>Reject all</button></div>")
BODY_START = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)


def replies(html: bytes) -> bytes:
    """Readers' comments after the last ``</p>``, named by nothing: three entries with a name, a date
    written as text and a reply link, and the form to reply in, in one block."""
    return _after_paragraph(html, -1, THREAD)


TOPICS = (b"council budget", b"school awards", b"harbour repairs", b"night buses", b"library hours")
CARDS = b"<div><h2>More stories</h2>" + b"".join(
    b'<div><a href="/news/story-%d"><img src="/i/%d.jpg" alt=""></a><h3><a href="/news/story-%d">What the new %s plan '
    b"means for residents this spring, part %d</a></h3><p>Officials set out how the %s changes will work and what "
    b"residents can expect over the coming months.</p><span>March %d, 2025</span></div>"
    % (i, i, i, TOPICS[i % 5], i, TOPICS[i % 5], i + 1)
    for i in range(20)
) + b"</div>"


def teasers(html: bytes) -> bytes:
    """A grid of twenty teaser cards (a picture link, a headline link, a summary, a date) after the
    last ``</p>``, named by nothing: a "more stories" grid set inside the article's container."""
    return _after_paragraph(html, -1, CARDS)


def banner(html: bytes) -> bytes:
    """A consent banner, a paragraph and two buttons named by nothing, first in the ``body``."""
    return BODY_START.sub(lambda m: m.group(0) + BANNER, html, count=1)


def broken(html: bytes) -> bytes:
    """One byte of a character cut short (a UTF-8 lead byte alone) after the third ``</p>``."""
    return _after_paragraph(html, 2, b"<span>\xd0</span>")


CHARSET_DECLARATION = re.compile(rb"<meta[^>]*charset[^>]*>", re.IGNORECASE)


def legacy(html: bytes) -> bytes:
    """A UTF-8 page in windows-1252 (characters it lacks as character references), its charset
    declaration removed: an older site's page, served without one."""
    try:
        text = html.decode("utf-8")
    except UnicodeDecodeError:
        return html
    return CHARSET_DECLARATION.sub(b"", text.encode("cp1252", errors="xmlcharrefreplace"))


def truncated(html: bytes) -> bytes:
    """The page's first 70 % of bytes: a capture cut short."""
    return html[: len(html) * 7 // 10]


def noh1(html: bytes) -> bytes:
    """Every ``h1`` a ``div``, with its attributes, text and children."""
    return HEADLINE.sub(rb"<\1div", html)


# a run of sibling paragraphs: each <p>...</p> followed by the next's start, white space between
PARAGRAPH_RUN = re.compile(rb"(?:<p(?:\s[^>]*)?>(?:(?!</?p[\s/>]).)*</p\s*>\s*){6,}", re.IGNORECASE | re.DOTALL)
READ_MORE = (b'<div class="more-text" style="display:none">', b"</div><button>Read more</button>")


def readmore(html: bytes) -> bytes:
    """The paragraphs after the third of the page's longest run of six or more sibling paragraphs
    in a hidden block, a "Read more" button after it; the page as it is without such a run."""
    run = max(PARAGRAPH_RUN.finditer(html), key=lambda m: m.end() - m.start(), default=None)
    if run is None:
        return html
    starts = [m.start() for m in PARAGRAPH_START.finditer(html, run.start(), run.end())]
    if len(starts) < 6:
        return html
    end = max(m.end() for m in PARAGRAPH_END.finditer(html, run.start(), run.end()))  # the run's last </p>
    return html[: starts[3]] + READ_MORE[0] + html[starts[3] : end] + READ_MORE[1] + html[end:]


# a paragraph and its content, with no paragraph's tag inside
WHOLE_PARAGRAPH = re.compile(rb"<p(\s[^>]*)?>((?:(?!</?p[\s/>]).)*)</p\s*>", re.IGNORECASE | re.DOTALL)
WORD_SPAN = b"<span lang=EN-US style='font-size:12.0pt;mso-bidi-font-size:11.0pt'>"


def wordproc(html: bytes) -> bytes:
    """Each paragraph's content in a styled span ending in ``<o:p></o:p>``; ``class=MsoNormal``
    on the paragraphs without a class."""
    def exported(match: re.Match) -> bytes:
        attributes = match.group(1) or b""
        if b"class" not in attributes.lower():
            attributes = b" class=MsoNormal" + attributes
        return b"<p" + attributes + b">" + WORD_SPAN + match.group(2) + b"<o:p></o:p></span></p>"

    return WHOLE_PARAGRAPH.sub(exported, html)


INLINE_OPEN = re.compile(rb"(<(?:a|em|strong|b|i|span)\b[^>]*>)", re.IGNORECASE)


def pretty(html: bytes) -> bytes:
    """A line end and indentation around each opening inline tag, as templates and pretty-printers
    set markup one tag a line."""
    return INLINE_OPEN.sub(rb"\n        \1\n          ", html)


RELATED = (b"Officials set out how the new budget plan will work over the coming months",
           b"Harbour repairs to start in spring after years of delay, council confirms",
           b"Night bus routes return as operators hire more drivers for the winter")


def _longest_run(html: bytes) -> re.Match | None:
    return max(PARAGRAPH_RUN.finditer(html), key=lambda m: m.end() - m.start(), default=None)


def related(html: bytes) -> bytes:
    """A "Read more:" pointer to another story after every third paragraph of the page's longest
    run of sibling paragraphs (the story's), as news templates set them among a story's paragraphs."""
    run = _longest_run(html)
    if run is None:
        return html
    ends = [m.end() for m in PARAGRAPH_END.finditer(html, run.start(), run.end())][:-1]
    out, last = [], 0
    for i, end in enumerate(ends[2::3]):
        out += [html[last:end], b'<p><strong>Read more:</strong> <a href="/news/related-%d">%s</a></p>' % (i, RELATED[i % 3])]
        last = end
    return b"".join(out) + html[last:]


def authorbox(html: bytes) -> bytes:
    """A box of a portrait, the page's author's name linking to their page and a line of bio, after
    the last paragraph of the page's longest run of sibling paragraphs (the story's); the page as
    it is when it names no author (its author as our metadata reads it, as the page's byline or
    declaration shows the name the box repeats)."""
    run = _longest_run(html)
    author = extract_metadata(load_tree(html), None).author if run is not None else None
    if not author:
        return html
    name = escape(author.split(", ")[0]).encode()
    box = (b'<div><img src="/img/authors/portrait.jpg" alt=""><div><a href="/author/' + b"-".join(name.lower().split())
           + b'">' + name + b"</a><p>" + name + b" is a senior reporter covering transport and city hall, and joined "
           b"after ten years at regional papers.</p></div></div>")
    end = max(m.end() for m in PARAGRAPH_END.finditer(html, run.start(), run.end()))
    return html[:end] + box + html[end:]


def _in_paragraphs(html: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """Each paragraph's content, as ``WHOLE_PARAGRAPH`` finds it, changed."""
    return WHOLE_PARAGRAPH.sub(lambda m: b"<p" + (m.group(1) or b"") + b">" + change(m.group(2)) + b"</p>", html)


TEXT_BETWEEN_TAGS = re.compile(rb">([^<]*)")
LONG_WORD_START = re.compile(rb"(?<![A-Za-z])([A-Za-z]{4})(?=[a-z]{4})")  # a word's first 4 of 8 letters or more


def shy(html: bytes) -> bytes:
    """A soft hyphen (``&shy;``) after the fourth letter of every word of eight or more in the
    paragraphs' text, as sites that hyphenate on the server mark a word's break points."""
    def hyphenated(content: bytes) -> bytes:
        return TEXT_BETWEEN_TAGS.sub(lambda m: b">" + LONG_WORD_START.sub(rb"\1&shy;", m.group(1)), b">" + content)[1:]

    return _in_paragraphs(html, hyphenated)


FIRST_LETTER = re.compile(rb"^(\s*)([A-Z])")


def dropcap(html: bytes) -> bytes:
    """Each paragraph's first capital letter in a span of its own, as a drop cap is set."""
    return _in_paragraphs(html, lambda content: FIRST_LETTER.sub(rb'\1<span class="dropcap">\2</span>', content, count=1))


def sections(html: bytes) -> bytes:
    """Every ``div`` a ``section``, with its attributes, text and children."""
    return DIVISION.sub(rb"<\1section", html)


VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "opaque": opaque,
    "plain": plain,
    "plain-norole": plain_norole,
    "opaque+plain": lambda html: plain(opaque(html)),
    "divs": divs,
    "breaks": breaks,
    "custom": custom,
    "wrapped": wrapped,
    "signup": signup,
    "noh1": noh1,
    "sections": sections,
    "replies": replies,
    "banner": banner,
    "teasers": teasers,
    "broken": broken,
    "legacy": legacy,
    "truncated": truncated,
    "readmore": readmore,
    "wordproc": wordproc,
    "pretty": pretty,
    "related": related,
    "authorbox": authorbox,
    "shy": shy,
    "dropcap": dropcap,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", choices=list(VARIANTS), help="perturbations to run (repeatable; default all)")
    parser.add_argument("--set", action="append", choices=sorted(SETS))
    parser.add_argument("--only", action="append", choices=PEERS, help="only these extractors")
    parser.add_argument("--worst", type=int, default=0, help="list the N pages where ours loses most against trafilatura, per variant")
    args = parser.parse_args(argv)
    variants = ["served", *(args.variant or VARIANTS)]
    peers = args.only or PEERS
    print("| set                | half | extractor            | " + " | ".join(f"{v:<12}" for v in variants) + " |")
    print("|                    |      |                      | " + " | ".join("wx     ws    " for _ in variants) + " |")
    print("|--------------------|------|----------------------|" + "|".join("-" * 14 for _ in variants) + "|")
    worst = []
    for set_name in args.set or SETS:
        pages = load_pages(SETS[set_name])
        halves = host_halves(pages)
        rows: dict[tuple[str, str], list[tuple]] = {}  # (extractor, variant) -> [(key, ws, wx, empty, rejected)]
        for page in pages:
            for variant in variants:
                html = page.html if variant == "served" else VARIANTS[variant](page.html)
                for name in peers:
                    out = EXTRACTORS[name](html, page.url)
                    rows.setdefault((name, variant), []).append((
                        page.key, score(whitespace_tokens(out.text), whitespace_tokens(page.truth)).f1,
                        score(word_tokens(out.text), word_tokens(page.truth)).f1, not out.text.split(), out.rejected))
        for group in ("all", "A", "B") if set_name == "web-articles-dev" else ("all",):
            for name in peers:
                cells, counts = [], []
                for variant in variants:
                    part = [v for v in rows[(name, variant)] if group == "all" or halves[v[0]] == group]
                    n = len(part)
                    cells.append(f"{sum(v[2] for v in part) / n:.4f} {sum(v[1] for v in part) / n:.4f}")
                    counts.append(f"{variant} {sum(v[3] for v in part)}/{sum(v[4] for v in part)}")
                print(f"| {set_name:<18} | {group:<4} | {name:<20} | " + " | ".join(f"{c:<12}" for c in cells)
                      + " | empty/no article: " + ", ".join(counts))
        for variant in variants[1:] if args.worst else ():
            ours = zip(rows[("ours", "served")], rows[("ours", variant)])
            traf = zip(rows[("trafilatura defaults", "served")], rows[("trafilatura defaults", variant)]) if "trafilatura defaults" in peers else None
            loss = []
            for (before, after), t in zip(ours, traf or [((0, 0, 0), (0, 0, 0))] * len(pages)):
                # ours' loss beyond trafilatura's (a page trafilatura gains on is no loss of ours)
                loss.append(((after[2] - before[2]) - min(t[1][2] - t[0][2], 0.0), set_name, variant, before, after, t))
            worst += sorted(loss, key=lambda item: item[0])[: args.worst]
    for delta, set_name, variant, before, after, t in worst:
        print(f"  {variant} {set_name} {before[0]}: ours wx {before[2]:.3f} -> {after[2]:.3f}"
              f"{' (no article)' if after[4] else ''}, trafilatura {t[0][2]:.3f} -> {t[1][2]:.3f} ({delta:+.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
