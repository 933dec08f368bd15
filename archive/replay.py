"""``newsarchive replay``: serve the whole archive in pywb on 127.0.0.1, with no set-up steps.

pywb lives in its own venv (``.venv-replay``, created on first use): it installs brotlipy,
whose ``brotli`` module shadows the Google ``brotli`` Scrapy needs to decode br responses.
Instead of ``wb-manager`` collections we generate a pywb config that points one collection
at the archive's ``warc/`` directory and its replay index (a directory of sorted CDXJ files,
``archive/index.py``).  pywb reads that directory on every lookup and crawls add to it when
they close a WARC, so captures written while replay runs appear without a restart.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from archive import WARC_DIR
from archive.index import update_index

REPLAY_VENV = Path(__file__).resolve().parent.parent / ".venv-replay"
PYWB_REQUIREMENT = "pywb==2.10.0"
COLLECTION = "archive"
REPLAY_DIR = "replay"


def timestamp14(warc_date: str) -> str:
    """A WARC-Date as the 14-digit timestamp of replay URLs (``/archive/<timestamp>/<url>``)."""
    return re.sub(r"\D", "", warc_date)[:14]


def replay_tool(name: str, venv: Path = REPLAY_VENV) -> Path:
    """A console script of the replay venv (``wayback``, ``wb-manager``, ``warcio``), installing pywb if needed."""
    tool = venv / "bin" / name
    if not (venv / "bin" / "wayback").exists():
        print(f"newsarchive: installing pywb into {venv} (first use; it is kept apart from the crawl venv "
              "because its brotlipy shadows the brotli module Scrapy needs)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", PYWB_REQUIREMENT], check=True)
    return tool


def write_pywb_config(archive_dir: Path) -> Path:
    """Write ``replay/config.yaml``: collection ``archive`` over the archive's WARCs and index."""
    archive_dir = Path(archive_dir).resolve()
    index = update_index(archive_dir)
    root = archive_dir / REPLAY_DIR
    root.mkdir(parents=True, exist_ok=True)
    # JSON strings are YAML strings, so paths need no further quoting.
    config = (
        "# Written by `newsarchive replay` on every start; edits are lost.\n"
        "collections:\n"
        f"  {COLLECTION}:\n"
        f"    index_paths: {json.dumps(str(index) + '/')}\n"
        f"    archive_paths: {json.dumps(str(archive_dir / WARC_DIR) + '/')}\n"
        "enable_memento: true\n"
    )
    (root / "config.yaml").write_text(config, encoding="utf-8")
    return root


def serve(archive_dir: Path, port: int = 8080) -> None:
    """Index what is missing, write the pywb config and become the pywb server (never returns)."""
    root = write_pywb_config(archive_dir)
    wayback = replay_tool("wayback")
    print(f"newsarchive: replaying {archive_dir} at http://127.0.0.1:{port}/{COLLECTION}/ "
          f"(e.g. http://127.0.0.1:{port}/{COLLECTION}/*/<url> lists the captures of a URL); "
          "Ctrl-C stops", file=sys.stderr, flush=True)
    os.execv(wayback, [str(wayback), "-b", "127.0.0.1", "-p", str(port), "-d", str(root)])
