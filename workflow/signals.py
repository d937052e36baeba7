"""Only the main thread takes the stop signals (SIGTERM, SIGINT).

Python runs a signal's handler in the main thread, yet the kernel gives a signal sent to the process to whichever of
its threads that does not block it gets there first. One taken by a worker only raises a flag for the main thread's
next Python code, and a main thread blocked in join() is not woken: a `daemon --once` told to stop while a message was
in flight sent its whole batch (found as a flake on a loaded machine). So every thread the daemon starts blocks them.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Threads started inside inherit a signal mask that blocks the stop signals; the caller gets its own mask back
    (and so any stop signal that came meanwhile)."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks, and a console's Ctrl-C wakes the main thread
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
