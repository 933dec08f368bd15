"""A site's standing banner changes (a redesign): what the runs after it cost, and what the texts hold.

Judged over every article a site ever had, a banner's status followed the archive's age:
- retired: the banner of the first ``--base`` articles stayed template until the site had
  ``base / 0.3`` articles; then every article that carried it was derived again, its banner back
  in its text, and corpus.jsonl rewritten from its first line;
- introduced: a banner on every article after the first ``--base`` was kept in their texts until
  30 % of all the site's articles carried it; then all of those were rewritten at once.
- brought back: a banner retired after the first ``--base`` articles and back on every article after
  ``base / 0.2``: over its whole span, the years without it put it back into the first ``base``
  texts and left it in the new ones until it was on 30 % of that span again.
The share is now taken over a span of the banner's own (``extract/boilerplate.py``), so none of it
happens. The runs go past the points where it did (``base / 0.3`` and ``base / 0.7`` articles);
per run: new rows, earlier texts rewritten, bytes written, texts holding the banner (0 expected).

    .venv/bin/python bench/template_age.py [--base 300]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from archive_age import write_config  # noqa: E402
from demo.farm import BANNER, ArticleFarm  # noqa: E402
from extract.boilerplate import MIN_SHARE  # noqa: E402
from measure import measure  # noqa: E402

_NUMBER = re.compile(r"story-(\d+)-")


class RedesignedFarm(ArticleFarm):
    """The farm, its banner on the articles whose number ``carries`` says."""

    def __init__(self, carries: Callable[[int], bool]) -> None:
        super().__init__(0)
        self.carries = carries

    def route(self, path: str) -> tuple[int, str, bytes]:
        status, content_type, body = super().route(path)
        found = _NUMBER.search(path)
        if status == 200 and found and not self.carries(int(found[1])):
            body = body.replace(f"<p>{BANNER}</p>".encode(), b"")
        return status, content_type, body


def scenario(work: Path, carries: Callable[[int], bool], steps: list[int]) -> None:
    archive = work / "archive"
    work.mkdir(parents=True)
    with RedesignedFarm(carries) as farm:
        config = write_config(work / "sources.toml", archive, farm)
        for added in steps:
            farm.add(added)
            measured = measure([sys.executable, "-m", "cli", "run", "--config", str(config)], cwd=ROOT)
            corpus = json.loads(sorted((archive / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))["corpus"]
            holding = sum(BANNER in path.read_text(encoding="utf-8") for path in (archive / "text").rglob("*.txt"))
            print(f"  {farm.articles:>6,} articles (+{added:,}): exit {measured.returncode}, "
                  f"{sum(corpus['new_articles'].values()):>5,} new rows, {corpus['rewritten_texts']:>5,} texts rewritten, "
                  f"{measured.written / 2**20:6.1f} MiB written, {holding:>5,} texts hold the banner", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=int, default=300, help="articles before the redesign")
    args = parser.parse_args()
    base = args.base
    flip_retired = int(base / MIN_SHARE)  # over the site's whole life, the retired banner's share fell under MIN_SHARE here
    flip_introduced = int(base / (1 - MIN_SHARE))  # and the new banner's reached it here
    work = Path(tempfile.mkdtemp(prefix="newsarchive-template-age-"))
    try:
        print(f"a banner retired after {base:,} articles:")
        scenario(work / "retired", lambda number: number < base, [base, flip_retired - base - 30, 20, 20])
        print(f"a banner introduced after {base:,} articles:")
        scenario(work / "introduced", lambda number: number >= base, [base, flip_introduced - base - 30, 20, 20])
        back = int(base / (MIN_SHARE - Fraction(1, 10)))  # its whole span's share under MIN_SHARE from then on
        print(f"a banner retired after {base:,} articles and back after {back:,}:")
        scenario(work / "brought back", lambda number: number < base or number >= back, [base, back - base, 20, 20])
    finally:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
