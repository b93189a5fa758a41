"""Compiling one kernel twice: a multi-threaded and a single-threaded version."""

from __future__ import annotations

import types
from collections.abc import Callable

import numba

__all__ = ["SERIAL_WORK", "parallel_and_serial", "pick"]

#: Below this much work (about one unit per score or set entry touched) a kernel runs on one
#: thread: waking the thread pool costs more than it saves for a pass of well under a
#: millisecond. (Passes of a few milliseconds used to run on one thread too, when the BLAS
#: threads spinning after a matrix product took the second core; steps now limit BLAS, see
#: :mod:`mesa_recsys.threads`.)
SERIAL_WORK = 1 << 20


def _renamed(fn: Callable, suffix: str) -> Callable:
    """A copy of ``fn`` under another qualified name (numba names cache files after it)."""
    copy = types.FunctionType(
        fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__, fn.__closure__
    )
    copy.__qualname__ = fn.__qualname__ + suffix
    copy.__doc__ = fn.__doc__
    return copy


def parallel_and_serial(fn: Callable) -> tuple[Callable, Callable]:
    """Compile ``fn`` (which loops with ``numba.prange``) with and without threads.

    The two versions are cached under different names: compiled from one function they
    would share a cache entry, and one would load the other's machine code.

    Args:
        fn: the Python kernel.

    Returns:
        ``(parallel, serial)`` dispatchers, both cached on disk.
    """
    parallel = numba.njit(parallel=True, cache=True)(_renamed(fn, "_parallel"))
    serial = numba.njit(cache=True)(_renamed(fn, "_serial"))
    return parallel, serial


def pick(parallel: Callable, serial: Callable, work: int) -> Callable:
    """The threaded version of a kernel above :data:`SERIAL_WORK` units of work, else the other.

    Args:
        parallel: the threaded dispatcher.
        serial: the single-threaded one.
        work: about one unit per score or entry the call touches.

    Returns:
        the dispatcher to call.
    """
    return parallel if work > SERIAL_WORK else serial
