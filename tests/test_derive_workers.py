"""The derivation's own extraction processes: a worker killed at any moment breaks the pool, never hangs it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from corpus.workers import SPOOL_PREFIX, ExtractionOverran, ResultFilePool, page_seconds_from_environment, working_on

RESULT_BYTES = 64 * 2**20  # far more than a pipe holds at once: milliseconds of writing, to be caught in


def _kill_self_when(thread_id: int, waits_in: str) -> None:
    """Kill this process once its thread ``thread_id`` is blocked in the kernel function ``waits_in``."""
    wchan = Path(f"/proc/self/task/{thread_id}/wchan")
    while True:
        if waits_in in wchan.read_text():
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.0005)


def result_killed_while_sent(size: int) -> bytes:
    """A large result; this worker is killed while its result is being written into a pipe."""
    threading.Thread(target=_kill_self_when, args=(threading.get_native_id(), "pipe_write"), daemon=True).start()
    return b"x" * size


def result_killed_while_written(size: int) -> bytes:
    """A large result whose pickling kills this worker half-way through writing it."""
    return HalfWritten(size)


class HalfWritten:
    def __init__(self, size: int) -> None:
        self.size = size

    def __reduce__(self):
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_while_it_sends_a_large_result_breaks_the_pool_instead_of_hanging_it():
    # CPython's own pool waits for ever here (the rest of the message never comes): checked below.
    pool = ResultFilePool(1)
    try:
        future = pool.submit(result_killed_while_sent, RESULT_BYTES)
        try:
            assert future.result(timeout=60) == b"x" * RESULT_BYTES  # the pipe carried only a file's name
        except BrokenProcessPool:
            pass  # killed after sending: the pool is broken, and says so
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert not pool.spool.exists()


def test_the_check_above_hangs_cpython_s_own_pool():
    """The test above can fail: the same task on a plain ProcessPoolExecutor gets no answer."""
    script = (
        "import multiprocessing, os\n"
        "from concurrent.futures import ProcessPoolExecutor, TimeoutError\n"
        "from test_derive_workers import result_killed_while_sent, RESULT_BYTES\n"
        "said = 'answered'\n"
        "for attempt in range(3):\n"  # a write the watching thread did not see blocked is tried again
        "    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('fork'))\n"
        "    try:\n"
        "        pool.submit(result_killed_while_sent, RESULT_BYTES).result(timeout=5)\n"
        "    except TimeoutError:\n"
        "        said = 'hung'\n"
        "    except Exception:\n"
        "        pass\n"
        "    for pid in list(getattr(pool, '_processes', None) or {}):\n"  # none may outlive this script
        "        try:\n"
        "            os.kill(pid, 9)\n"
        "        except ProcessLookupError:\n"
        "            pass\n"
        "    if said == 'hung':\n"
        "        break\n"
        "print(said, flush=True)\n"
        "os._exit(0)\n"  # a hung pool's manager thread is stuck: a normal exit would wait for it
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parent)
    assert done.stdout.strip() == "hung", done.stderr


def test_a_worker_killed_while_it_writes_its_result_file_breaks_the_pool():
    pool = ResultFilePool(1)
    try:
        with pytest.raises(BrokenProcessPool):
            pool.submit(result_killed_while_written, RESULT_BYTES).result(timeout=60)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert not pool.spool.exists()


def test_results_come_back_in_order_and_leave_no_files():
    with ResultFilePool(2) as pool:
        futures = [pool.submit(pow, n, 2) for n in range(50)]
        assert [future.result(timeout=60) for future in futures] == [n * n for n in range(50)]
        assert list(pool.spool.iterdir()) == []
    assert not pool.spool.exists()


def test_results_whose_files_cannot_be_written_still_come_back_and_it_is_said_once(caplog):
    with ResultFilePool(1) as pool:
        shutil.rmtree(pool.spool)  # as a full temporary directory would refuse them
        assert [pool.submit(pow, n, 2).result(timeout=60) for n in range(3)] == [0, 1, 4]
    said = [record.getMessage() for record in caplog.records if "without their files" in record.getMessage()]
    assert len(said) == 1 and str(pool.spool) in said[0], said
    assert pool.unspooled == 3


def test_the_result_files_of_a_derivation_that_was_killed_are_removed_by_the_next():
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    import tempfile

    stale = Path(tempfile.gettempdir()) / f"{SPOOL_PREFIX}{dead.stdout.strip()}-left"
    stale.mkdir()
    (stale / "result.pickle").write_bytes(b"half")
    with ResultFilePool(1) as pool:
        assert pool.spool.exists()
    assert not stale.exists()


def hang_on(page: str) -> None:
    """A worker's task that starts on ``page`` and never ends it (a parser caught in a loop)."""
    working_on(page)
    while True:
        time.sleep(1)


def test_a_worker_that_hangs_on_a_page_is_stopped_and_the_page_named(caplog):
    pool = ResultFilePool(2, page_seconds=1)
    try:
        healthy = [pool.submit(pow, n, 2) for n in range(3)]
        hung = pool.submit(hang_on, "w.warc.gz@1234 http://example.org/loops")
        started = time.monotonic()
        with pytest.raises(ExtractionOverran, match="ran over 1 s"):
            hung.result(timeout=30)
        assert time.monotonic() - started < 10
        assert [future.result(timeout=30) for future in healthy] == [0, 1, 4]  # done before the hang was seen
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert any("w.warc.gz@1234 http://example.org/loops" in record.getMessage() and "over 1 s" in record.getMessage()
               for record in caplog.records), [record.getMessage() for record in caplog.records]


def test_work_waiting_on_a_stopped_worker_is_given_up_in_bounded_time_and_the_pool_ends():
    pool = ResultFilePool(1, page_seconds=1)
    try:
        assert pool.submit(pow, 2, 2).result(timeout=30) == 4
        (worker,) = pool._processes
        os.kill(worker, signal.SIGSTOP)  # neither working nor dead: it holds the queue its work comes by
        with pytest.raises(ExtractionOverran):
            pool.submit(pow, 3, 2).result(timeout=30)
    finally:
        started = time.monotonic()
        pool.shutdown(wait=True, cancel_futures=True)
    assert time.monotonic() - started < 15


def test_a_pool_whose_idle_worker_was_stopped_still_shuts_down():
    pool = ResultFilePool(2, page_seconds=60)
    assert [pool.submit(pow, n, 2).result(timeout=30) for n in range(2)] == [0, 1]
    stopped = next(iter(pool._processes))
    os.kill(stopped, signal.SIGSTOP)
    started = time.monotonic()
    pool.shutdown(wait=True)
    assert time.monotonic() - started < 15
    assert not Path(f"/proc/{stopped}").exists() or "Z" in Path(f"/proc/{stopped}/stat").read_text().split()[2]


def test_a_pool_given_up_without_waiting_leaves_no_worker_on_its_task():
    """A broken pool is given up without waiting (its work is redone): a worker still on a task is
    killed, not left to send a result nobody reads while the process's exit waits for it."""
    pool = ResultFilePool(2, page_seconds=60)
    assert pool.submit(pow, 2, 2).result(timeout=30) == 4
    workers = list(pool._processes.values())
    pool.submit(time.sleep, 60)
    time.sleep(0.5)
    pool.shutdown(wait=False, cancel_futures=True)
    # asked of the OS: Process.is_alive() can stay True for a worker the pool's manager thread reaped meanwhile
    deadline = time.monotonic() + 10
    while any(map(_running, (worker.pid for worker in workers))) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_running, (worker.pid for worker in workers)))


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is no zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_page_time_limit_that_is_no_number_falls_back_to_the_default(monkeypatch, caplog):
    monkeypatch.setenv("NEWSARCHIVE_PAGE_SECONDS", "soon")
    assert page_seconds_from_environment() == 120
    assert "NEWSARCHIVE_PAGE_SECONDS" in caplog.text
    monkeypatch.setenv("NEWSARCHIVE_PAGE_SECONDS", "2.5")
    assert page_seconds_from_environment() == 2.5
