"""Moore neighbourhoods on a 2-D grid, as whole-array operations.

The neighbourhood of radius ``r`` of cell ``(x, y)`` is every cell at Chebyshev distance
1..r from it: the (2r+1)×(2r+1) square around it without its centre, cut at the edges of a
bounded grid and wrapped around on a torus. This is the set that
``cell.get_neighborhood(radius=r)`` of a ``mesa.discrete_space.OrthogonalMooreGrid``
returns. On a torus narrower than the square, a cell that the square reaches twice (once
each way round) is counted once, as in Mesa; a cell is never its own neighbour.

Arrays are indexed ``[x, y]`` like the grid's coordinates and property layers; flattened,
cell ``(x, y)`` is index ``x * height + y`` (row-major over ``(width, height)``).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["adjacency", "neighbour_offsets", "window_sum"]


def _axis_window_sum(a: np.ndarray, axis: int, radius: int, torus: bool) -> np.ndarray:
    """Sum of ``a`` over the window ``[i - radius, i + radius]`` along one axis."""
    n = a.shape[axis]
    if torus and 2 * radius + 1 >= n:
        # The window wraps over the whole axis: each cell counted once.
        return np.broadcast_to(a.sum(axis=axis, keepdims=True), a.shape).copy()
    moved = np.moveaxis(a, axis, 0)
    # cumulative sums over the axis padded by `radius` cells each side (wrapped on a torus,
    # zeros otherwise), with a leading zero row: window i is cums[i + 2r + 1] - cums[i]
    cums = np.zeros((n + 2 * radius + 1, *moved.shape[1:]), dtype=np.int64)
    body = cums[radius + 1 : radius + 1 + n]
    np.cumsum(moved, axis=0, out=body)
    if torus:
        head, tail = moved[n - radius :], moved[:radius]
        lead = head.sum(axis=0)
        body += lead
        cums[1 : radius + 1] = np.cumsum(head, axis=0)
        cums[radius + 1 + n :] = body[-1] + np.cumsum(tail, axis=0)
    else:
        cums[radius + 1 + n :] = body[-1]
    width = 2 * radius + 1
    out = cums[width : width + n] - cums[:n]
    return np.moveaxis(out, 0, axis)


def window_sum(a: np.ndarray, radius: int, torus: bool) -> np.ndarray:
    """Sum of ``a`` over each cell's (2r+1)×(2r+1) square, centre included.

    Args:
        a: array whose last two axes are the grid's ``(width, height)``; leading axes
            (e.g. one per group) are summed independently.
        radius: the neighbourhood radius ``r`` (>= 1).
        torus: whether the grid wraps around.

    Returns:
        int64 array shaped like ``a``. Subtract ``a`` to leave the centre out.
    """
    out = np.asarray(a)
    for axis in (a.ndim - 2, a.ndim - 1):
        out = _axis_window_sum(out, axis, radius, torus)
    return out


def _axis_offsets(n: int, radius: int, torus: bool) -> list[int]:
    """Distinct offsets along one axis of size n (taken modulo n on a torus)."""
    if torus:
        return sorted({d % n for d in range(-radius, radius + 1)})
    return [d for d in range(-radius, radius + 1) if abs(d) < n]


def neighbour_offsets(width: int, height: int, radius: int, torus: bool) -> list[tuple[int, int]]:
    """The distinct ``(dx, dy)`` from a cell to its neighbours (the centre left out).

    On a torus the offsets are taken modulo the grid size, so that two offsets reaching the
    same cell appear once.
    """
    xs = _axis_offsets(width, radius, torus)
    ys = _axis_offsets(height, radius, torus)
    return [(dx, dy) for dx in xs for dy in ys if (dx, dy) != (0, 0)]


def _shifted_pairs(
    values: np.ndarray, dx: int, dy: int, torus: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``(values[x, y], values[x + dx, y + dy])`` over every cell where both exist."""
    if torus:
        return values, np.roll(values, shift=(-dx, -dy), axis=(0, 1))
    w, h = values.shape
    sx = slice(max(0, -dx), min(w, w - dx))
    sy = slice(max(0, -dy), min(h, h - dy))
    tx = slice(sx.start + dx, sx.stop + dx)
    ty = slice(sy.start + dy, sy.stop + dy)
    if sx.stop <= sx.start or sy.stop <= sy.start:
        empty = np.empty((0, 0), dtype=values.dtype)
        return empty, empty
    return values[sx, sy], values[tx, ty]


def adjacency(occupant: np.ndarray, num_users: int, radius: int, torus: bool) -> sparse.csr_array:
    """Who is whose neighbour now, as a sparse ``num_users × num_users`` 0/1 matrix.

    Args:
        occupant: ``(width, height)`` array of the resident index on each cell, ``-1``
            where the cell is free.
        num_users: U, the matrix size.
        radius: neighbourhood radius.
        torus: whether the grid wraps around.

    Returns:
        Symmetric ``scipy.sparse.csr_array`` of int8 with a 1 at ``(u, v)`` when residents
        u and v live within ``radius`` of each other (never on the diagonal).
    """
    width, height = occupant.shape
    rows, cols = [], []
    for dx, dy in neighbour_offsets(width, height, radius, torus):
        here, there = _shifted_pairs(occupant, dx, dy, torus)
        both = (here >= 0) & (there >= 0)
        rows.append(here[both])
        cols.append(there[both])
    r = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.empty(0, dtype=np.int64)
    data = np.ones(r.size, dtype=np.int8)
    return sparse.csr_array(sparse.coo_array((data, (r, c)), shape=(num_users, num_users)))
