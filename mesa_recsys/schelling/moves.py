"""Who gets which cell when several residents are offered the same one.

Movers are served one after another in a random order drawn from the model's generator
(a random serial dictatorship): each takes the first of its offered cells that no earlier
mover has taken, or stays where it is when all are gone. Every mover has the same chance
of coming first, and the same seed gives the same assignment.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["assign_cells"]


@numba.njit(cache=True)
def _assign(offers: np.ndarray, order: np.ndarray, num_cells: int) -> np.ndarray:
    taken = np.zeros(num_cells, dtype=np.bool_)
    chosen = np.full(offers.shape[0], -1, dtype=np.int64)
    for i in order:
        for j in range(offers.shape[1]):
            c = offers[i, j]
            if c >= 0 and not taken[c]:
                taken[c] = True
                chosen[i] = c
                break
    return chosen


def assign_cells(offers: np.ndarray, order: np.ndarray, num_cells: int) -> np.ndarray:
    """Serve the movers in ``order``; each takes its first offered cell still free.

    Args:
        offers: M×k flat cell indices offered to each mover, best first (``-1`` = none).
        order: a permutation of ``range(M)``: who is served first.
        num_cells: number of cells in the grid.

    Returns:
        Length-M chosen flat cell index per mover, ``-1`` for a mover who stays.
    """
    offers = np.ascontiguousarray(offers, dtype=np.int64)
    order = np.ascontiguousarray(order, dtype=np.int64)
    if offers.shape[0] == 0:
        return np.empty(0, dtype=np.int64)
    return _assign(offers, order, int(num_cells))
