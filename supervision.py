"""Every process of a run belongs to the run: children die with the process that started them."""

from __future__ import annotations

import ctypes
import faulthandler
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

_PR_SET_PDEATHSIG = 1
STACKS_SIGNAL = signal.SIGUSR2  # the signal Scrapy's StackTraceDump answers, where it is enabled
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})
_ROOT = Path(__file__).resolve().parent  # the checkout, or site-packages when installed


def dump_stacks_on_signal() -> None:
    """From now on ``kill -USR2 <pid>`` prints every thread's stack to stderr and the process goes on:
    what a process that seems hung is doing, asked of it in place (its children inherit this)."""
    faulthandler.register(STACKS_SIGNAL, all_threads=True)


def module_command(module: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run this project's ``module`` in a child Python, wherever the run was
    started: ``-P`` keeps the working directory off its ``sys.path`` (a ``warcio.py`` or ``supervision.py``
    there was imported in place of ours, and the run's writer and derivation died), and ``PYTHONPATH``
    names the directory these modules were loaded from."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    return [sys.executable, "-P", "-m", module, *args], env


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        pass
    return True


def remove_orphaned_dirs(parent: Path, prefix: str) -> None:
    """Remove the directories ``<prefix><pid>-...`` under ``parent`` whose process is gone: what
    processes killed before they could clean up left behind."""
    for folder in parent.glob(prefix + "*"):
        pid = folder.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


SERVICE_PID_ENV = "NEWSARCHIVE_SERVICE_PID"  # the schedule service's pid, given to the runs it starts


WHY_FD_ENV = "NEWSARCHIVE_WHY_FD"  # a pipe to the schedule service that started the run, see tell_service_why


def tell_service_why(line: str) -> None:
    """In a run the schedule service started: give the service the line that says why the run ends without a
    report (it could not start: a damaged crawl state, a full disk; a config or usage error; a traceback), for its
    own line about the run."""
    fd = os.environ.get(WHY_FD_ENV, "")
    if fd.isdigit():
        try:
            os.write(int(fd), line.encode("utf-8", "replace") + b"\n")
        except OSError:  # the service is gone: the line is on stderr all the same
            pass


def tell_service_why_on_crash() -> None:
    """In a run the schedule service started: an exception nothing caught (a traceback) also gives the service one
    line of why, its type, message and where in our code it was raised; the traceback still goes to stderr."""
    if not os.environ.get(WHY_FD_ENV, "").isdigit():
        return
    print_traceback = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        tell_service_why(crash_line(exc))
        print_traceback(kind, exc, tb)

    sys.excepthook = hook


def crash_line(exc: BaseException) -> str:
    """``newsarchive: crashed at crawler/run.py:61: SyntaxError: …``: the innermost frame of this project's code."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = next((frame for frame in reversed(frames) if _ours(frame.filename)), frames[-1] if frames else None)
    at = f" at {_shown(where.filename)}:{where.lineno}" if where else ""
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    message = str(exc).strip().splitlines()
    return f"newsarchive: crashed{at}: {name}" + (f": {message[0]}" if message else "")


def _ours(filename: str) -> bool:
    """Whether ``filename`` is this project's code: below where its modules are, not in a virtualenv there, nor
    another distribution's (installed, they share site-packages)."""
    from importlib.metadata import packages_distributions

    try:
        parts = Path(filename).resolve().relative_to(_ROOT).parts
    except ValueError:
        return False
    if {"site-packages", "dist-packages"} & set(parts):
        return False
    return "newsarchive" in packages_distributions().get(parts[0].removesuffix(".py"), ["newsarchive"])


def _shown(filename: str) -> str:
    """``filename`` relative to where this project's modules are, if it is below it."""
    path = Path(filename).resolve()
    return str(path.relative_to(_ROOT)) if path.is_relative_to(_ROOT) else filename


def stop_with_service() -> None:
    """In a run the schedule service started: SIGTERM (a stop request) when the service dies, as by kill -9.

    Such a run went on alone, unwatched, with no time limit: a hang held the archive's lock for good.
    The variable is taken out, so that this process's own children are not tied to the service."""
    service = os.environ.pop(SERVICE_PID_ENV, "")
    if service.isdigit():
        die_with_parent(int(service), signal.SIGTERM)


def die_with_parent(parent: int | None = None, sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies, and check that ``parent``
    (the pid that started it, if known) has not died already.

    A child that outlived a SIGKILLed run would hold memory, files and the derivation for days;
    a pipe's end of file only tells a child that reads it.  Elsewhere than Linux this does nothing.
    """
    parent = os.getppid() if parent is None else parent
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), sig)


class StopRequest(threading.Event):
    """A run's stop request, set by Ctrl-C or SIGTERM: ``signal_name`` says which, for the line that
    says how the run acts on it (it may act later, once the crawl is over)."""

    signal_name: str | None = None


def ask_to_stop(stop: threading.Event, signum: int) -> None:
    """Set ``stop``, noting the signal that asked."""
    if isinstance(stop, StopRequest):
        stop.signal_name = stop.signal_name or signal.Signals(signum).name
    stop.set()


def note_stop_requests(stop: threading.Event | None = None) -> threading.Event:
    """From now until a crawl installs its own handlers, Ctrl-C or SIGTERM asks to stop: the Event
    (``stop``, or a new StopRequest) is set.

    A service may stop a run that has only just started, or whose crawl has just ended; the run
    then stops as asked and reports, instead of dying without a report or not hearing the request.
    """
    stop = StopRequest() if stop is None else stop
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda signum, _: ask_to_stop(stop, signum))
    return stop


@contextmanager
def stop_signals_blocked_for_children() -> Iterator[None]:
    """Children started inside begin with Ctrl-C and SIGTERM blocked, until ``leave_stop_signals_to_the_run``.

    A terminal sends Ctrl-C to the whole process group: one that reached a child still loading its
    modules ended it in a traceback, and the run took its derivation for dead.  The run stops its
    children in order itself.  (Blocked rather than ignored: a spawner may set ignored signals back
    to their defaults, as Twisted's does, but the signal mask goes through fork and exec as it is.)
    """
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


@contextmanager
def stop_signals_held_over_forks() -> Iterator[None]:
    """Around code that forks (a pool starting its workers): a Ctrl-C or SIGTERM meanwhile is acted on after it.

    Python runs a signal's handler at its next instruction, and the next ones during a fork are the
    at-fork hooks (logging's, say), which swallow an exception: a Ctrl-C there was lost, the command
    went on to the end, and a child forked with logging's lock still held could hang on its first
    line of log.  Here the signal is only noted, acted on once the forks are done, and the children
    start with it blocked (``stop_signals_blocked_for_children``).
    """
    if threading.current_thread() is not threading.main_thread():  # only the main thread acts on signals
        yield
        return
    noted: list[int] = []
    with stop_signals_blocked_for_children():  # (a signal then reaches this thread once its handler is back)
        handlers = {signum: signal.signal(signum, lambda signum, _frame: noted.append(signum))
                    for signum in STOP_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)  # (None: set outside Python)
    for signum in dict.fromkeys(noted):  # each once, in the order they came
        signal.raise_signal(signum)


def leave_stop_signals_to_the_run() -> None:
    """In a child of the run (``stop_signals_blocked_for_children``): ignore Ctrl-C and SIGTERM, which the run
    acts on, then unblock them, dropping any that came while this process started."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def stop_process(process: subprocess.Popen, grace: float = 10.0, sig: int = signal.SIGTERM) -> int:
    """Ask a child to stop (``sig``), SIGKILL it if it has not ended ``grace`` seconds later; its exit code.

    A child that ignores or hangs on its stop signal must not keep the process that waits for it.
    """
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()
