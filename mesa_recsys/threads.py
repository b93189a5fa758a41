"""How many threads BLAS gets while a model steps.

A step's heavy loops are compiled kernels (numba) that run on every core. numpy and scipy
hand matrix products to a BLAS library (OpenBLAS in the numpy and scipy wheels), whose
worker threads keep spinning for a while after each product that BLAS ran on several
threads; on a machine with few cores they take a core from the kernels that come next.
On the 2-core machine of ``benchmarks/bench_metrics.py`` (10,000 users × 1,000 items),
a ContentFiltering step with every metric took 0.24 s with BLAS on its default two
threads and 0.17-0.20 s with BLAS on one.

So a model runs each step with BLAS limited to its ``blas_threads`` (a class attribute,
1 by default; None leaves BLAS as it is: ImplicitMF, whose alternating least squares is
BLAS-bound, uses None). Set it on a model, or on a class, to choose otherwise. The
previous number of threads is restored after the step, so code around the model sees
BLAS as it was. Libraries other than BLAS (numba's own threads, OpenMP) are not touched.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from threadpoolctl import ThreadpoolController

from mesa_recsys.validate import check_positive_int

__all__ = ["limit_blas_threads"]


@functools.cache
def _blas_libraries() -> tuple:
    """The BLAS libraries loaded in this process (threadpoolctl finds them once)."""
    return tuple(lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas")


@contextlib.contextmanager
def limit_blas_threads(limit: int | None) -> Iterator[None]:
    """Run the block with every loaded BLAS library on at most ``limit`` threads.

    Args:
        limit: most threads; None leaves BLAS alone.

    Raises:
        TypeError: when ``limit`` is not an int or None.
        ValueError: when ``limit`` is below 1.
    """
    if limit is None:
        yield
        return
    limit = check_positive_int("blas_threads", limit)
    previous = []
    for lib in _blas_libraries():
        threads = lib.get_num_threads()
        if threads is not None and threads > limit:
            lib.set_num_threads(limit)
            previous.append((lib, threads))
    try:
        yield
    finally:
        for lib, threads in previous:
            lib.set_num_threads(threads)
