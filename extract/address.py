"""What a page's address names, and whether the page answers it.

A site names an article's address after its headline ("/2024/05/council-approves-harbour-budget"),
and a "not found" page served with status 200 (a soft 404) is served at the address asked for: its
headline, title and message ("Page not found", "Sorry, we couldn't find that page" in whatever
language) name none of the words the address does, and its short body few of them. That is a fact
about the page and its address, not about its wording, so it holds in any language written in
the address's script. Only a slug says so: the last part of the address, its words joined by
hyphens, as CMSs write a headline into an address (and search engines ask for); an address with
fewer than SLUG_WORDS words there (a number, an id, "index.html", a section's name, a file's
name_with_underscores) says nothing, nor does a headline in another script than the address's (a
page in Russian or Japanese whose address is transliterated or in English). Words are compared as an
address spells them: transliterated to ASCII as slug makers do ("Łódź" lodz, "Straße" strasse,
"Ørsted" orsted, "kışın" kisin), a word with umlauts also with them written out ("Brücke" bruecke).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

from text_unidecode import unidecode

SLUG_LETTERS = 4  # shorter words ("the", "and", "how", "de", "la") are left out: any page may hold them
SLUG_WORDS = 3  # words of that length in the address's last part: fewer say nothing
_EXTENSION = re.compile(r"\.[a-z0-9]{2,5}$")
_WORDS = re.compile(r"[a-z]+")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})  # as German addresses write them


def fold(text: str) -> str:
    """Lower case without accents ("Café" and "cafe" alike); letters of other scripts are dropped."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


def spelled(text: str) -> str:
    """Lower-case ASCII, as a slug spells a text: transliterated (text-unidecode, as slug makers do)."""
    return unidecode(text).lower()


def in_latin_script(text: str) -> bool:
    """Whether most of a text's letters (and it has some) are Latin: fold to ASCII."""
    letters = sum(c.isalpha() for c in text)
    return letters > 0 and 2 * sum(c.isalpha() for c in fold(text)) >= letters


def address_words(url: str | None) -> frozenset[str]:
    """The words of the last part of an address's path, its extension dropped: the parts between
    hyphens that are letters only and SLUG_LETTERS long or longer (a part with digits is an id or a
    date); none when they are fewer than SLUG_WORDS."""
    if not url:
        return frozenset()
    last = next((part for part in reversed(unquote(urlsplit(url).path).split("/")) if part), "")
    parts = [spelled(part) for part in _EXTENSION.sub("", last.lower()).split("-") if in_latin_script(part)]
    words = {part for part in parts if part.isalpha() and len(part) >= SLUG_LETTERS}
    return frozenset(words) if len(words) >= SLUG_WORDS else frozenset()


def folded_words(text: str) -> set[str]:
    """A text's words as an address may spell them (``spelled``), those with umlauts both ways."""
    words = set(_WORDS.findall(spelled(text)))
    written_out = text.translate(_UMLAUTS)
    return words | set(_WORDS.findall(spelled(written_out))) if written_out != text else words


def unanswered(url: str | None, names: list[str]) -> frozenset[str]:
    """The address's words (``address_words``) when the page's names (its headline and title) hold
    none of them and are written in the address's script (most of their letters fold to ASCII);
    else none: the page names what its address does, or cannot be compared with it."""
    words = address_words(url)
    text = " ".join(names)
    if not words or not in_latin_script(text):
        return frozenset()
    return frozenset() if words & folded_words(text) else words
