"""Compiling one kernel twice: a multi-threaded and a single-threaded version."""

from __future__ import annotations

import types
from collections.abc import Callable

import numba

__all__ = ["parallel_and_serial"]


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
