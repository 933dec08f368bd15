"""The written-date search (extract.metadata._shown_dates) starts in front of the next year rather
than at every word: it finds the same dates as a search from every position."""

from __future__ import annotations

import random

from extract import metadata
from extract.metadata import _shown_dates


def test_a_date_whose_parts_white_space_spreads_far_before_its_year_is_found() -> None:
    gap = " " * 500 + "\n" * 300
    text = "filler words " * 40 + f"Published December{gap}18th,{gap}2025 and more words" + " x" * 300
    assert list(_shown_dates(text, False)) == ["2025-12-18"]


def test_the_longest_lead_a_match_may_have_is_found_behind_a_long_word_run() -> None:
    text = "y" * 600 + " 18th. de septiembre. del 2019 " + "z" * 600
    assert list(_shown_dates(text, False)) == ["2019-09-18"]


def test_random_texts_give_the_dates_a_search_from_every_position_gives(monkeypatch) -> None:
    pieces = ["December", "Dec.", "18", "18th", "de", "septiembre", "2025", "1999", "2019", "-", ".", "/", ",",
              "12/18/2025", "18.12.2025", "2025-12-18", "of", "\u00a0", "\n\n      ", "w" * 30, "word", "1"]
    rng = random.Random(7)
    texts = ["".join(rng.choice(pieces) + rng.choice(["", " ", "\t"]) for _ in range(rng.randint(1, 150)))
             for _ in range(3000)]
    found = [list(_shown_dates(text, month_first)) for text in texts for month_first in (False, True)]
    monkeypatch.setattr(metadata, "_search_start", lambda text, start: start)  # every position
    assert found == [list(_shown_dates(text, month_first)) for text in texts for month_first in (False, True)]
