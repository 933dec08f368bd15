"""What a search for a common word beside a rare one costs in corpora of 1x, 10x, 100x rows, before and after.

The corpus is ``bench/browse.py``'s with "the" before each word of every text (90 a text, as in English prose);
"250" is a number in one headline, "w17" a word in about 1.8% of the texts.  Each search is asked of two
servers over the same store, the browser of ``--before`` (a git ref) and this checkout's; per request, the
server's CPU ms and KiB read.

    .venv/bin/python bench/common_word.py [--sizes 500,5000,50000] [--before 90176ce] [--keep DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # before bench/: ``browse`` is the package

from bench.browse import compare, english_article  # noqa: E402

SEARCHES = {"the 250 (1 match)": "/?q=the+250", "the w17": "/?q=the+w17", "250 alone": "/?q=250",
            "w17 alone": "/?q=w17", "the alone (all)": "/?q=the"}

if __name__ == "__main__":
    sys.exit(compare(__doc__, SEARCHES, "500,5000,50000", "90176ce", english_article))
