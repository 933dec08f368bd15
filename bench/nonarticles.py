"""Non-article pages in the tuning pages' own templates, for the article decision (--kinds).

How they are made: for each tuning page, its article body is located in its own template (the
element with the fewest words that holds at least 80% of the ground-truth body's words, or the
nearest block around it) and its content replaced by what a CMS would put there on another kind
of page: a section listing, a tag listing, an author page (a short bio and a list), search
results, a home page (several headed blocks of teasers, a lead story, a "most read" list) and a
soft 404 (a short message, a search box, sometimes a few suggested stories) and a long 404 (the
headline and an apology of 80 to 150 words, no box, no links). Teasers are built
from OTHER tuning pages' titles, first sentences, authors and dates, in one of several card
markups chosen per page (heading link and summary, block link around heading and text, list
items, a headline-only list, long WordPress-style excerpts, figure cards), with or without
bylines, dates, "read more" links and pagination. The page's heading, <title> and og:title
become the new page's name; the template (menus, sidebars, footers, banners, scripts) is left as
it is. Each page is made in two declaration variants: ``listing``, as a CMS declares a listing
(og:type website, article:* meta dropped, Article JSON-LD and microdata replaced by
CollectionPage, WebPage, SearchResultsPage, ProfilePage or nothing), and ``declared article``,
the article's own declarations left in place (a CMS that declares every page an article; only
the JSON-LD's articleBody, which such a CMS could not fill, is dropped, and its headline renamed).
Seeded by the page's key: the same pages on every run.

What they cannot represent: the template's other article-only parts (a byline, date or share bar
above the body, a comment section, related stories below it) stay where the article had them,
so the pages carry more article furniture than real listings do; real listings are often
built by other templates than the site's article template (a grid, a different main column);
listing texts are other articles' openings, not the editors' own summaries; the interface words
are in a handful of languages; and a page whose body could not be located (less than half the
ground-truth found in one element below <body>, or more than 5% outside it) makes none.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

import lxml.html
from lxml.html import HtmlElement

KINDS = ("section", "tag", "author", "search", "home", "soft 404", "long 404")
VARIANTS = ("listing", "declared article")
GRAM = 5
FOUND_SHARE = 0.5  # of the ground truth's 5-word sequences the replaced element holds at least ...
RESIDUE_SHARE = 0.05  # ... leaving at most this share of them on the rest of the page
_WORD = re.compile(r"\w+")
_SKIP = {"script", "style", "noscript", "template", "svg"}
_INLINE = {"p", "span", "a", "b", "i", "em", "strong", "font", "small", "blockquote", "h2", "h3", "h4"}
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\u00c0-\u024f\"'“‘])")

# Interface words a CMS prints, by page language (English otherwise).
_UI = {
    "en": {"more": "Read more", "by": "By", "next": "Next", "prev": "Previous", "search": "Search",
           "results": "{n} results for “{q}”", "tag": "Tag: {t}", "posts": "Articles by {a}",
           "latest": "Latest", "most": "Most read", "missing": ["Page not found", "Oops! That page can’t be found.",
           "404", "Sorry, we couldn’t find that page"],
           "sorry": ["The page you are looking for may have been moved or deleted.",
                     "It looks like nothing was found at this location. Maybe try a search?",
                     "Try searching for what you were looking for, or go back to the home page."],
           "apology": ["Links shared on social media or in old newsletters sometimes point to stories that were "
                       "withdrawn, merged into a later report or moved when the site was rebuilt.",
                       "Please check the address for typing mistakes if you entered it yourself.",
                       "Our latest reporting is always on the front page, and the archive lists every story we "
                       "have published by month and by topic.",
                       "If a link on our own pages brought you here, please tell our web team which one so that "
                       "we can put it right."],
           "suggest": "You might be interested in", "follow": "Follow"},
    "de": {"more": "Weiterlesen", "by": "Von", "next": "Weiter", "prev": "Zurück", "search": "Suche",
           "results": "{n} Ergebnisse für „{q}“", "tag": "Schlagwort: {t}", "posts": "Artikel von {a}",
           "latest": "Neueste", "most": "Meistgelesen", "missing": ["Seite nicht gefunden", "404",
           "Hoppla! Diese Seite gibt es nicht."],
           "sorry": ["Die gesuchte Seite wurde verschoben oder gelöscht.",
                     "Versuchen Sie es mit der Suche oder gehen Sie zur Startseite."],
           "apology": ["Verweise aus sozialen Netzwerken oder alten Newslettern führen manchmal zu Beiträgen, die "
                       "zurückgezogen, in einen späteren Bericht übernommen oder beim Umbau der Seite verschoben wurden.",
                       "Bitte prüfen Sie die Adresse auf Tippfehler, falls Sie sie selbst eingegeben haben.",
                       "Unsere neuesten Berichte finden Sie jederzeit auf der Startseite, und im Archiv stehen alle "
                       "Beiträge nach Monaten und Themen geordnet.",
                       "Wenn Sie ein Verweis auf unseren eigenen Seiten hierher geführt hat, sagen Sie bitte unserer "
                       "Onlineredaktion, welcher, damit wir ihn korrigieren können."],
           "suggest": "Das könnte Sie interessieren", "follow": "Folgen"},
    "fr": {"more": "Lire la suite", "by": "Par", "next": "Suivant", "prev": "Précédent", "search": "Rechercher",
           "results": "{n} résultats pour « {q} »", "tag": "Mot-clé : {t}", "posts": "Articles de {a}",
           "latest": "À la une", "most": "Les plus lus", "missing": ["Page introuvable", "Erreur 404"],
           "sorry": ["La page que vous cherchez n’existe pas ou a été déplacée.",
                     "Essayez une recherche ou revenez à l’accueil."],
           "apology": ["Les liens partagés sur les réseaux sociaux ou dans d’anciennes lettres d’information mènent "
                       "parfois à des articles retirés, fusionnés dans un article plus récent ou déplacés lors de la "
                       "refonte du site.",
                       "Vérifiez l’adresse si vous l’avez saisie vous-même.",
                       "Nos derniers articles sont toujours en page d’accueil, et les archives présentent tout ce que "
                       "nous avons publié, classé par mois et par thème.",
                       "Si un lien de nos propres pages vous a conduit ici, signalez-le à notre équipe web afin que "
                       "nous puissions le corriger."],
           "suggest": "À lire aussi", "follow": "Suivre"},
    "es": {"more": "Leer más", "by": "Por", "next": "Siguiente", "prev": "Anterior", "search": "Buscar",
           "results": "{n} resultados para «{q}»", "tag": "Etiqueta: {t}", "posts": "Artículos de {a}",
           "latest": "Lo último", "most": "Lo más leído", "missing": ["Página no encontrada", "Error 404"],
           "sorry": ["La página que buscas no existe o ha sido movida.",
                     "Prueba con el buscador o vuelve a la portada."],
           "apology": ["Los enlaces compartidos en redes sociales o en boletines antiguos llevan a veces a noticias "
                       "retiradas, integradas en una información posterior o trasladadas al rediseñar el sitio.",
                       "Comprueba la dirección si la has escrito tú mismo.",
                       "Nuestra información más reciente está siempre en la portada, y la hemeroteca reúne todo lo que "
                       "hemos publicado ordenado por meses y por temas.",
                       "Si un enlace de nuestras propias páginas te ha traído hasta aquí, avisa a nuestro equipo web "
                       "para que podamos corregirlo."],
           "suggest": "Te puede interesar", "follow": "Seguir"},
}
_SECTIONS = ["News", "Politics", "Business", "Technology", "Science", "Health", "Sport", "Culture",
             "Opinion", "World", "Local", "Travel", "Food", "Lifestyle", "Reviews", "Guides", "Money"]
_ROLES = ["reporter", "senior editor", "staff writer", "contributing writer", "correspondent",
          "features editor", "columnist", "data journalist"]
_BEATS = ["technology and privacy", "local government", "health policy", "personal finance", "climate and energy",
          "food and travel", "consumer products", "science and research", "culture and the arts", "education"]
_BIO = [
    "Before joining, {he} worked for {n} years at regional newspapers and a trade magazine.",
    "{He} holds a degree in journalism and lives with {his} family near the coast.",
    "{His} work has been recognised by several press associations.",
    "When not writing, {he} can usually be found hiking or cooking for friends.",
    "Tips and story ideas are welcome by email.",
    "{He} also hosts the weekly podcast and the morning newsletter.",
]


@dataclass(frozen=True)
class Teaser:
    """What a listing shows of another page."""

    title: str
    summary: str  # its first sentence or two
    author: str | None
    date: str | None
    url: str


@dataclass(frozen=True)
class NonArticle:
    key: str  # the page it was made from
    url: str
    kind: str
    variant: str
    html: bytes


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _text_nodes(element: HtmlElement) -> Iterator[tuple[HtmlElement, str]]:
    """(element, text) for the text an element's readers see, in document order."""
    if not isinstance(element.tag, str) or element.tag in _SKIP:
        return
    if element.text:
        yield element, element.text
    for child in element:
        yield from _text_nodes(child)
        if child.tail:
            yield element, child.tail


def body_element(tree: HtmlElement, truth: str) -> HtmlElement | None:
    """The element with the fewest words that holds FOUND_SHARE of the truth's 5-word sequences and
    leaves at most RESIDUE_SHARE of them outside (None when there is none below <body>), widened to
    a block when it is a paragraph or an inline element."""
    wanted = _words(truth)
    grams = {tuple(wanted[i : i + GRAM]) for i in range(len(wanted) - GRAM + 1)}
    if len(grams) < 20 or tree.find("body") is None:
        return None
    tokens: list[str] = []
    spans: dict[HtmlElement, list[int]] = {}
    for element, text in _text_nodes(tree.find("body")):
        start = len(tokens)
        tokens += _words(text)
        for node in [element, *element.iterancestors()]:
            span = spans.setdefault(node, [start, start])
            span[0], span[1] = min(span[0], start), max(span[1], len(tokens))
    found = [0]
    for i in range(len(tokens)):
        found.append(found[-1] + (tuple(tokens[i : i + GRAM]) in grams))

    def inside(start: int, end: int) -> int:
        return found[max(start, end - GRAM + 1)] - found[start] if end > start else 0

    for _, _, element in sorted((end - start, i, e) for i, (e, (start, end)) in enumerate(spans.items())):
        start, end = spans[element]
        if element.tag in ("body", "html") or inside(start, end) < FOUND_SHARE * len(grams):
            continue
        if inside(0, start) + inside(end, len(tokens)) <= RESIDUE_SHARE * len(grams):
            while element.tag in _INLINE and element.getparent() is not None:
                element = element.getparent()
            return element
    return None


def _first_sentences(text: str, rng: random.Random, most: int) -> str:
    sentences = [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]
    chosen, words = [], 0
    for sentence in sentences[: rng.randint(1, 3)]:
        if chosen and words + len(sentence.split()) > most:
            break
        chosen.append(sentence)
        words += len(sentence.split())
    summary = " ".join(chosen) or text
    cut = summary.split()
    return summary if len(cut) <= most else " ".join(cut[:most]) + " …"


def _card(t: Teaser, style: int, ui: dict, rng: random.Random, heading: str) -> str:
    title, url = escape(t.title), escape(t.url)
    summary = escape(t.summary)
    byline = f'<span class="byline">{ui["by"]} <a href="/author/{rng.randint(1, 99)}">{escape(t.author)}</a></span>' if t.author and rng.random() < 0.6 else ""
    date = f'<time datetime="{t.date}">{t.date}</time>' if t.date and rng.random() < 0.7 else ""
    img = f'<img src="/img/{rng.randint(1000, 9999)}.jpg" alt="{title}" loading="lazy">'
    more = f' <a class="more-link" href="{url}">{ui["more"]}</a>' if rng.random() < 0.3 else ""
    if style == 0:  # WordPress: article, entry header, excerpt
        return (f'<article class="post type-post"><header class="entry-header"><{heading} class="entry-title">'
                f'<a href="{url}" rel="bookmark">{title}</a></{heading}><div class="entry-meta">{date} {byline}</div>'
                f'</header><div class="entry-summary"><p>{summary}{more}</p></div></article>')
    if style == 1:  # a card whose link wraps image, heading and text
        return (f'<div class="card"><a class="card-link" href="{url}">{img}<div class="card-body">'
                f'<{heading} class="card-title">{title}</{heading}><div class="card-text">{summary}</div></div></a>'
                f'<div class="card-footer">{date}</div></div>')
    if style == 2:  # list items
        return f'<li class="story"><a href="{url}"><span class="headline">{title}</span></a> {date}<p class="dek">{summary}</p></li>'
    if style == 3:  # headline-only list
        return f'<li><a href="{url}">{title}</a> <small>{date}</small></li>'
    if style == 4:  # media object: figure beside the text
        return (f'<div class="media"><figure><a href="{url}">{img}</a></figure><div class="media-body">'
                f'<div class="kicker">{escape(rng.choice(_SECTIONS))}</div><{heading}><a href="{url}">{title}</a></{heading}>'
                f'<p>{summary}</p><p class="meta">{byline} {date}</p></div></div>')
    # a div soup: no headings, spans and divs only
    return (f'<div class="views-row"><div class="field-title"><a href="{url}">{title}</a></div>'
            f'<div class="field-date">{date}</div><div class="field-body">{summary}{more}</div></div>')


def _cards(teasers: list[Teaser], style: int, ui: dict, rng: random.Random, heading: str = "h2") -> str:
    items = "".join(_card(t, style, ui, rng, heading) for t in teasers)
    if style in (2, 3):
        return f'<ul class="{rng.choice(["story-list", "post-list", "list-unstyled"])}">{items}</ul>'
    return f'<div class="{rng.choice(["posts", "archive-list", "grid", "view-content"])}">{items}</div>'


def _pagination(ui: dict, rng: random.Random) -> str:
    if rng.random() < 0.3:
        return ""
    pages = "".join(f'<a class="page-numbers" href="?page={i}">{i}</a>' for i in range(2, rng.randint(3, 8)))
    tag = rng.choice(["nav", "div"])
    return f'<{tag} class="pagination"><span class="current">1</span>{pages}<a class="next" href="?page=2">{ui["next"]} »</a></{tag}>'


def _search_form(ui: dict, query: str = "") -> str:
    return (f'<form role="search" method="get" action="/"><label>{ui["search"]}'
            f'<input type="search" name="s" value="{escape(query)}"></label><button type="submit">{ui["search"]}</button></form>')


def _section(name: str, teasers: list[Teaser], ui: dict, rng: random.Random) -> str:
    intro = f'<div class="taxonomy-description"><p>{escape(teasers[0].summary)}</p></div>' if rng.random() < 0.3 else ""
    return f"<h1 class=\"page-title\">{escape(name)}</h1>{intro}{_cards(teasers[1:], rng.randrange(6), ui, rng)}{_pagination(ui, rng)}"


def _author(name: str, teasers: list[Teaser], ui: dict, rng: random.Random) -> str:
    he = rng.choice([("he", "his"), ("she", "her"), ("they", "their")])
    years = rng.randint(3, 20)
    lines = [f"{escape(name)} is a {rng.choice(_ROLES)} covering {rng.choice(_BEATS)}."]
    lines += [s.format(he=he[0], He=he[0].capitalize(), his=he[1], His=he[1].capitalize(), n=years)
              for s in rng.sample(_BIO, rng.randint(1, 3))]
    social = "".join(f'<a href="https://social.example/{i}">{ui["follow"]} {i}</a> ' for i in ("X", "LinkedIn")[: rng.randint(0, 2)])
    bio = f'<div class="author-bio"><img class="avatar" src="/avatars/{rng.randint(1, 99)}.jpg" alt=""><p>{" ".join(lines)}</p>{social}</div>'
    listing = f'<h2>{escape(ui["posts"].format(a=name))}</h2>{_cards(teasers, rng.randrange(6), ui, rng, "h3")}'
    return f'<h1 class="author-name">{escape(name)}</h1>{bio}{listing}{_pagination(ui, rng)}'


def _search(query: str, teasers: list[Teaser], ui: dict, rng: random.Random) -> str:
    results = []
    for t in teasers:
        words = t.summary.split()
        start = rng.randint(0, max(0, len(words) - 12))
        snippet = escape(" ".join(words[start : start + rng.randint(15, 30)]))
        for word in query.split():
            snippet = re.sub(rf"\b({re.escape(escape(word))})\b", r"<mark>\1</mark>", snippet, flags=re.I)
        results.append(f'<div class="search-result"><h3><a href="{escape(t.url)}">{escape(t.title)}</a></h3>'
                       f'<cite>{escape(t.url)}</cite><p>… {snippet} …</p></div>')
    heading = escape(ui["results"].format(n=rng.randint(len(teasers), 900), q=query))
    return f'<h1>{heading}</h1>{_search_form(ui, query)}<div class="search-results">{"".join(results)}</div>{_pagination(ui, rng)}'


def _home(teasers: list[Teaser], ui: dict, rng: random.Random) -> str:
    lead, rest = teasers[0], teasers[1:]
    parts = [f'<div class="lead-story"><a href="{escape(lead.url)}"><img src="/img/lead.jpg" alt=""></a>'
             f'<h2><a href="{escape(lead.url)}">{escape(lead.title)}</a></h2><p>{escape(lead.summary)}</p></div>']
    names = rng.sample(_SECTIONS, 5)
    while rest:
        count = rng.randint(3, 7)
        block, rest = rest[:count], rest[count:]
        heading = names.pop() if names else ui["latest"]
        parts.append(f'<section class="home-block"><h2>{escape(heading)}</h2>{_cards(block, rng.randrange(6), ui, rng, "h3")}</section>')
    if rng.random() < 0.5:
        parts.insert(rng.randint(1, len(parts)), f'<div class="most-read"><h2>{ui["most"]}</h2><ol>'
                     + "".join(f'<li><a href="{escape(t.url)}">{escape(t.title)}</a></li>' for t in rng.sample(teasers, 5)) + "</ol></div>")
    return "".join(parts)


def _soft_404(teasers: list[Teaser], ui: dict, rng: random.Random) -> str:
    message = "".join(f"<p>{escape(s)}</p>" for s in rng.sample(ui["sorry"], rng.randint(1, 2)))
    suggested = ""
    if rng.random() < 0.5:
        suggested = f'<h2>{ui["suggest"]}</h2>' + _cards(teasers[: rng.randint(3, 6)], rng.randrange(6), ui, rng, "h3")
    return f'<h1>{escape(rng.choice(ui["missing"]))}</h1>{message}{_search_form(ui)}{suggested}'


def _long_404(heading: str, ui: dict) -> str:
    """A "not found" page as some CMSs serve it: the headline and a long apology, no search box, no links."""
    return f'<h1>{escape(heading)}</h1>' + "".join(f"<p>{escape(s)}</p>" for s in (*ui["sorry"], *ui["apology"]))


def _json_ld(variant: str, kind: str, name: str, url: str, rng: random.Random) -> list[str]:
    """The listing variant's JSON-LD: what a CMS declares on such a page, or nothing."""
    types = {"section": ["CollectionPage", "WebPage", None], "tag": ["CollectionPage", "WebPage", None],
             "author": ["ProfilePage", "WebPage", "CollectionPage", None], "search": ["SearchResultsPage", "WebPage", None],
             "home": ["WebPage", "WebSite", "CollectionPage", None], "soft 404": ["WebPage", None], "long 404": ["WebPage", None]}[kind]
    kind_type = rng.choice(types)
    if kind_type is None:
        return []
    graph = [{"@type": kind_type, "@id": url, "url": url, "name": name}, {"@type": "WebSite", "url": url.split("/", 3)[0] + "//" + urlsplit(url).netloc + "/"}]
    if kind == "author" and rng.random() < 0.5:
        graph.append({"@type": "Person", "name": name})
    return [json.dumps({"@context": "https://schema.org", "@graph": graph})]


def _strip_article_body(node: object, name: str) -> object:
    """A JSON-LD object without its article text; its headline the page's name."""
    if isinstance(node, list):
        return [_strip_article_body(n, name) for n in node]
    if isinstance(node, dict):
        out = {k: _strip_article_body(v, name) for k, v in node.items() if k not in ("articleBody", "text")}
        if "headline" in out:
            out["headline"] = name
        return out
    return node


def _declare(tree: HtmlElement, variant: str, kind: str, name: str, url: str, rng: random.Random) -> None:
    """Rename the page, and make its declarations the variant's."""
    head = tree.find("head")
    if head is None:
        head = lxml.html.Element("head")
        tree.insert(0, head)
    for title in tree.iter("title"):
        title.text = name
    for meta in list(tree.iter("meta")):  # (a list: some are dropped)
        prop = (meta.get("property") or meta.get("name") or "").lower()
        if prop in ("og:title", "twitter:title"):
            meta.set("content", name)
        elif variant == "listing" and prop == "og:type":
            meta.set("content", "website")
        elif variant == "listing" and (prop.startswith("article:") or prop in ("author", "og:article:author")):
            meta.drop_tree()
        elif (meta.get("content") or "").lstrip().startswith(("{", "[")):  # JSON-LD kept in a meta, as below
            if variant == "listing":
                meta.drop_tree()
            else:
                try:
                    meta.set("content", json.dumps(_strip_article_body(json.loads(meta.get("content")), name)))
                except ValueError:
                    pass
    scripts = [s for s in tree.iter("script") if (s.get("type") or "").strip().lower() == "application/ld+json"]
    for script in scripts:
        if variant == "listing":
            script.drop_tree()
            continue
        try:
            script.text = json.dumps(_strip_article_body(json.loads(script.text or ""), name))
        except ValueError:
            pass
    if variant == "listing":
        for element in tree.xpath("//*[@itemtype]"):
            if re.search(r"Article|Posting|Report|Review", element.get("itemtype")):
                element.set("itemtype", "https://schema.org/WebPage")
        for data in _json_ld(variant, kind, name, url, rng):
            script = lxml.html.Element("script", type="application/ld+json")
            script.text = data
            head.append(script)


def _rename_headings(tree: HtmlElement, title: str | None, name: str, body: HtmlElement) -> bool:
    """The article's headline outside the body becomes the new page's name (True when it had one)."""
    renamed = False
    key = set(_words(title or ""))
    for heading in tree.xpath("//h1|//h2"):
        if body in heading.iterancestors() or heading is body:
            continue
        if key and len(key & set(_words(heading.text_content()))) >= 0.6 * len(key):
            for child in list(heading):
                child.drop_tree()
            heading.text = name
            renamed = True
    return renamed


def _page_title(page) -> str:
    if page.title:
        return page.title
    tree = lxml.html.fromstring(page.html)
    for path in ('//meta[@property="og:title"]/@content', "//h1", "//title"):
        found = tree.xpath(path)
        if found:
            text = found[0] if isinstance(found[0], str) else found[0].text_content()
            if text.strip():
                return " ".join(text.split())
    return ""


def teasers_of(pages: list) -> list[Teaser]:
    rng = random.Random(17)
    out = []
    for page in pages:
        title = _page_title(page)
        if title and page.truth.strip():
            out.append(Teaser(title, _first_sentences(page.truth, rng, 45), page.author, (page.date or "")[:10] or None, page.url))
    return out


def make(pages: list, pool: list[Teaser] | None = None) -> Iterator[NonArticle]:
    """Every kind in both variants for each page whose body is located (see the module's docstring)."""
    pool = pool or teasers_of(pages)
    for page in pages:
        rng = random.Random(f"nonarticle:{page.key}")
        try:
            original = lxml.html.fromstring(page.html)
        except (ValueError, lxml.etree.ParserError):
            continue
        located = body_element(original, page.truth)
        if located is None:
            continue
        path = original.getroottree().getpath(located)
        others = [t for t in pool if t.url != page.url]
        ui = _UI.get((original.get("lang") or "en")[:2].lower(), _UI["en"])
        host = urlsplit(page.url).netloc
        segment = next((s for s in urlsplit(page.url).path.split("/") if s.isalpha() and len(s) > 2), None)
        for kind in KINDS:
            teasers = rng.sample(others, rng.randint(10, 20) if kind != "tag" else rng.randint(4, 20))
            if kind == "section":
                name = segment.capitalize() if segment and rng.random() < 0.5 else rng.choice(_SECTIONS)
                content = _section(name, teasers, ui, rng)
            elif kind == "tag":
                name = ui["tag"].format(t=rng.choice(_BEATS).split(" and ")[0].title())
                content = _section(name, teasers, ui, rng)
            elif kind == "author":
                name = next((t.author for t in rng.sample(others, 30) if t.author), "Alex Morgan")
                content = _author(name, teasers[: rng.randint(6, 15)], ui, rng)
            elif kind == "search":
                query = rng.choice(_words(rng.choice(teasers).title) or ["news"])
                name = f'{ui["search"]}: {query}'
                content = _search(query, teasers[:10], ui, rng)
            elif kind == "home":
                name = host
                teasers = rng.sample(others, rng.randint(15, 30))
                content = _home(teasers, ui, rng)
            elif kind == "soft 404":
                name = ui["missing"][0]
                content = _soft_404(teasers, ui, rng)
            else:
                name = rng.choice(ui["missing"])
                content = _long_404(name, ui)
            for variant in VARIANTS:
                yield NonArticle(page.key, page.url, kind, variant, _replaced(original, path, page, content, name, kind, variant, rng))


def _replaced(original: HtmlElement, path: str, page, content: str, name: str, kind: str, variant: str, rng: random.Random) -> bytes:
    tree = copy.deepcopy(original)
    body = tree.getroottree().xpath(path)[0]
    tail = body.tail
    for child in list(body):
        body.remove(child)
    body.text = None
    for fragment in lxml.html.fragments_fromstring(content):
        if isinstance(fragment, str):
            body.text = (body.text or "") + fragment
        else:
            body.append(fragment)
    body.tail = tail
    if _rename_headings(tree, _page_title(page), name, body) and (own := next(body.iter("h1"), None)) is not None:
        own.drop_tree()  # the template's heading names the page
    _declare(tree, variant, kind, name, page.url, rng)
    return lxml.html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>")
