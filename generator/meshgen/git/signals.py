"""Signals during a canary step: until the step's commit is visible, SIGINT and SIGTERM
roll it back; from then on, the step is done and an interruption could only misreport it.

CI cancellation and `timeout` send SIGTERM, whose default would end meshgen without any
rollback; during a step it is handled exactly like Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_HELD = {signal.SIGINT, signal.SIGTERM}
_done = threading.Event()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


# Blocks of shielded() the main thread is in, and whether a signal came meanwhile.
_depth = [0]
_pending = threading.Event()


@contextmanager
def shielded() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back until the block ends; they are delivered then.

    Blocking them in the main thread is not enough: the kernel may hand a signal to
    another thread (a timer, a reader of a worker's output), and Python then runs the
    handler in the main thread all the same. So the handler of a step, too, only notes a
    signal that comes within the block, and the block's end raises it, unless the step
    is done by then.
    """
    if not _main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    _depth[0] += 1
    try:
        yield
    except BaseException:
        # The command is failing anyway, and rolls back: the signal adds nothing.
        _depth[0] -= 1
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        if _depth[0] == 0:
            _pending.clear()
        raise
    _depth[0] -= 1
    signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    if _depth[0] == 0 and _pending.is_set():
        _pending.clear()
        if not _done.is_set():
            raise KeyboardInterrupt


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    if _done.is_set():
        return
    if _depth[0] > 0:
        _pending.set()
        return
    raise KeyboardInterrupt


@contextmanager
def step_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise KeyboardInterrupt until `mark_done()`."""
    if not _main_thread():
        yield
        return
    _done.clear()
    _pending.clear()
    previous = {signum: signal.signal(signum, _interrupt) for signum in _HELD}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _done.clear()


def mark_done() -> None:
    """The step's commit is visible: from now on, SIGINT and SIGTERM are not obeyed."""
    _done.set()
