"""Run a command and measure its whole process tree: wall time, CPU time, peak RSS, bytes written and read.

CPU time comes from a subreaper launcher (this file run with ``--launch``), so the children
that outlive their parent for a moment are reaped, and counted, too.  Peak RSS and bytes
written and read are sampled from /proc every 50 ms (the counts of a process that lives less
than that are missed).
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float
    peak_rss: int
    written: int
    returncode: int
    stderr: str
    read: int = 0  # rchar: bytes the tree's read calls returned (from the page cache too)


def _descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                children = [int(child) for child in (task / "children").read_text().split()]
                found += children
                stack += children
        except (OSError, ValueError):
            continue
    return found


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def _io_count(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def measure(argv: list[str], cwd: Path | None = None) -> Measured:
    """Run ``argv`` to its end; its tree's CPU seconds, peak resident bytes and bytes written."""
    os.sync()  # earlier writes must not be flushed on this run's time
    descriptor, name = tempfile.mkstemp(prefix="newsarchive-measure-")
    os.close(descriptor)
    started = time.perf_counter()
    launcher = subprocess.Popen([sys.executable, __file__, "--launch", name, "--", *argv], cwd=cwd,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, written, read = 0, {}, {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            rss = 0
            for pid in _descendants(launcher.pid):
                try:
                    rss += _status_kb(pid, "VmRSS:") * 1024
                    written[pid] = _io_count(pid, "wchar:")
                    read[pid] = _io_count(pid, "rchar:")
                except (OSError, ValueError):
                    continue
            peak = max(peak, rss)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = launcher.stderr.read().decode(errors="replace")
    code = launcher.wait()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    cpu = float(Path(name).read_text() or 0.0)
    Path(name).unlink()
    return Measured(wall, cpu, peak, sum(written.values()), code, stderr, sum(read.values()))


def _launch(report: str, argv: list[str]) -> int:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)
    code = subprocess.call(argv)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(report).write_text(f"{usage.ru_utime + usage.ru_stime:.3f}")
    return code


if __name__ == "__main__" and sys.argv[1:2] == ["--launch"]:
    sys.exit(_launch(sys.argv[2], sys.argv[4:]))
