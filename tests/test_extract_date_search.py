"""The written-date search (extract.metadata._shown_dates) reads the text around each year rather
than from every word: it finds the same dates as a search from every position."""

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
              "12/18/2025", "18.12.2025", "2025-12-18", "of", "\u00a0", "\n\n      ", "w" * 30, "word", "1",
              "年", "月", "日", "3", "2025年 3 月4日", "20192", "in 2023 a"]
    rng = random.Random(7)
    texts = ["".join(rng.choice(pieces) + rng.choice(["", " ", "\t"]) for _ in range(rng.randint(1, 150)))
             for _ in range(3000)]
    found = [list(_shown_dates(text, month_first)) for text in texts for month_first in (False, True)]
    monkeypatch.setattr(metadata, "_date_match", lambda text, start: metadata._SHOWN_DATE.search(text, start))  # every position
    assert found == [list(_shown_dates(text, month_first)) for text in texts for month_first in (False, True)]


def test_a_year_that_is_no_date_does_not_send_the_search_to_the_end_of_the_page(monkeypatch) -> None:
    text = "In 2019 the council met. " + "word " * 20000 + "Posted 18 December 2025"
    searched = []
    pattern = metadata._SHOWN_DATE

    class Counting:
        def search(self, text: str, pos: int = 0, endpos: int = len(text)):
            searched.append(min(endpos, len(text)) - pos)
            return pattern.search(text, pos, endpos)

    monkeypatch.setattr(metadata, "_SHOWN_DATE", Counting())
    assert list(_shown_dates(text, False)) == ["2025-12-18"]
    assert max(searched) < 200  # characters read by one search: around a year, not the rest of the page
