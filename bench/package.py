"""Peak RSS and CPU of ``newsarchive package`` on archives of 1x, 10x and 100x the articles, before and after
the package streamed its pages and sorted its index in runs, side by side, and whether the two packages hold the
same members (WARCs, pages, index lines, datapackage resources).

One loopback site of generated articles (``demo/farm.py``) is archived at each size (a small
``warc_max_size``, so the WARC count grows with it too, as in ``bench/growth.py`` of the cost
audit).  "Before" is ``newsarchive package`` run from a checkout of ``--before`` (a git ref: by
default main's last commit before the change) in a temporary directory, with the same venv.
Goal: peak RSS flat in the archive size (100x within 10 % of 1x), CPU not worse than before.

    .venv/bin/python bench/package.py [--sizes 200,2000,20000] [--before REF] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from archive_age import write_config  # noqa: E402
from demo.farm import ArticleFarm  # noqa: E402
from measure import Measured, measure  # noqa: E402

BEFORE = "bc4ec36"  # main before `package` streamed its pages and index
WARC_MAX_SIZE = 1_000_000


def build_archives(work: Path, sizes: list[int]) -> dict[int, Path]:
    """An archive of each size (``archive-N`` under ``work``, kept from an earlier run with ``--keep``)."""
    archives = {size: work / f"archive-{size}" for size in sizes}
    if all(path.is_dir() for path in archives.values()):
        return archives
    growing = work / "growing"
    shutil.rmtree(growing, ignore_errors=True)
    with ArticleFarm(0) as farm:
        config = write_config(work / "growing.toml", growing, farm)
        config.write_text(config.read_text().replace("[crawl]\n", f"warc_max_size = {WARC_MAX_SIZE}\n\n[crawl]\n"))
        for size in sizes:
            farm.add(size - farm.articles)
            crawled = subprocess.run([sys.executable, "-m", "cli", "run", "--config", str(config)], cwd=ROOT,
                                     capture_output=True, text=True)
            if crawled.returncode:
                raise SystemExit(crawled.stderr[-2000:])
            shutil.rmtree(archives[size], ignore_errors=True)
            shutil.copytree(growing, archives[size])
            print(f"  archive of {size:,} articles built", file=sys.stderr, flush=True)
    shutil.rmtree(growing)
    return archives


def package_config(work: Path, archive: Path) -> Path:
    path = work / f"{archive.name}.toml"
    path.write_text(f'[archive]\ndir = "{archive}"\n', encoding="utf-8")
    return path


def package(checkout: Path, config: Path, out: Path) -> Measured:
    measured = measure([sys.executable, "-m", "cli", "package", "--config", str(config), "--out", str(out)],
                       cwd=checkout)
    if measured.returncode:
        raise SystemExit(f"package in {checkout} failed: {measured.stderr[-2000:]}")
    return measured


def members(wacz: Path) -> dict[str, object]:
    """The package's members as a reader sees them: the index uncompressed, datapackage.json's resources as a set
    and without its creation time (and the hash of index.idx, which names the index's own compressed bytes)."""
    found: dict[str, object] = {}
    with zipfile.ZipFile(wacz) as package:
        for name in package.namelist():
            data = package.read(name)
            if name == "indexes/index.cdx.gz":
                data = gzip.decompress(data)
            elif name == "datapackage.json":
                manifest = json.loads(data)
                manifest.pop("created")
                manifest["resources"] = sorted(json.dumps(resource, sort_keys=True)
                                               for resource in manifest["resources"])
                data = json.dumps(manifest, sort_keys=True).encode()
            elif name == "datapackage-digest.json":
                continue  # the hash of datapackage.json, whose creation time differs
            found[name] = data
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200,2000,20000")
    parser.add_argument("--before", default=BEFORE, help="git ref of the code measured as before")
    parser.add_argument("--keep", type=Path, help="build the archives here and keep them (reused if there)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    work = args.keep or Path(tempfile.mkdtemp(prefix="newsarchive-package-"))
    work.mkdir(parents=True, exist_ok=True)
    archives = build_archives(work, sizes)
    before = Path(tempfile.mkdtemp(prefix="newsarchive-before-"))
    source = subprocess.run(["git", "archive", args.before], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(before)], input=source, check=True)
    rows = []
    for size, archive in archives.items():
        config = package_config(work, archive)
        old = package(before, config, work / f"before-{size}.wacz")
        new = package(ROOT, config, work / f"after-{size}.wacz")
        same = members(work / f"before-{size}.wacz") == members(work / f"after-{size}.wacz")
        rows.append((size, old, new, same))
        print(f"  {size:,}: packaged", file=sys.stderr, flush=True)
    print(f"{'articles':>9} {'RSS before':>11} {'RSS after':>10} {'CPU before':>11} {'CPU after':>10}  same members")
    for size, old, new, same in rows:
        print(f"{size:>9,} {old.peak_rss / 2**20:>8.1f} MB {new.peak_rss / 2**20:>7.1f} MB "
              f"{old.cpu:>9.2f} s {new.cpu:>8.2f} s  {'yes' if same else 'NO'}")
    (_, first_old, first, _), (last_size, last_old, last, _) = rows[0], rows[-1]
    per_article = (last.peak_rss - first.peak_rss) / (last_size - sizes[0])
    per_article_before = (last_old.peak_rss - first_old.peak_rss) / (last_size - sizes[0])
    flat = last.peak_rss <= 1.1 * first.peak_rss
    cpu = sum(new.cpu for _, _, new, _ in rows) / sum(old.cpu for _, old, _, _ in rows)
    print(f"\npeak RSS per added article: {per_article_before:,.0f} B before, {per_article:,.0f} B after; "
          f"{last_size:,} against {sizes[0]:,}: {last.peak_rss / first.peak_rss:.2f}x "
          f"(goal <= 1.1: {'ok' if flat else 'MISSED'}); CPU after/before {cpu:.2f}x "
          f"(goal <= 1.0 within noise: {'ok' if cpu <= 1.05 else 'MISSED'}); "
          f"same members: {'ok' if all(same for *_, same in rows) else 'MISSED'}")
    shutil.rmtree(before)
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
