"""Compiled loops of :class:`~mesa_recsys.metrics.neighbours.PartnerIndex`.

Unit rows (:func:`normalize_rows`, numpy's numbers) and groups of identical ones
(:func:`fingerprints`, :func:`rank_rows`: a radix sort, numbered as ``np.lexsort`` orders
them; :func:`group_layout`).

Search (:func:`search_ties`): each group's tied most cosine-similar groups, without
computing every pair, for non-negative profiles (non-negative least squares estimates hold
a few attributes of twenty). For unit rows u and v, ``u·v ≥ t`` if and only if
``‖u - v‖² ≤ 2 - 2t = R²``. So a row within the radius R of u

* holds every attribute a with ``u_a > R`` (as ``|v_a - u_a| ≤ R``);
* in a list of rows sorted by ``v_a``, lies within ``u_a ± R``;
* has ``(v_a - u_a)² + (v_b - u_b)² + (‖v_rest‖ - ‖u_rest‖)² ≤ R²``, the rest being the
  attributes other than a and b.

Each row walks the list of the rows holding both its two largest attributes a and b (then,
when b may be missing within the radius, the rows of the list of a that do not hold b, with
``v_b = 0`` in the third test; a row holding one attribute walks the list of a), by
``v_a``: the few nearest its own ``u_a`` first, then upwards, then downwards, while within
the radius of the best similarity so far (which narrows as the best rises), computing the
similarity of the rows that pass the third test. When a is held within the final radius,
every row within tie tolerance of the best was computed (the radius carries a margin far
above rounding), so the ties are those of the dense scan.
Rows whose largest attribute is not held (a zero row, a row sharing no attribute with
others: its best is low), or with more ties than kept, are left to the dense scan.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from mesa_recsys._jit import parallel_and_serial
from mesa_recsys._norms import normalize_rows
from mesa_recsys.metrics._kernels import tied_low_own

__all__ = [
    "SearchLists",
    "build_lists",
    "fingerprints",
    "gather_runs",
    "group_layout",
    "nonnegative_csr",
    "normalize_rows",
    "rank_rows",
    "search_ties",
    "workspace_array",
]

#: Added to the squared search radius: far above the rounding of similarities and norms
#: (about 1e-15), so no row within tie tolerance of the best falls outside the search.
RADIUS_MARGIN = 1e-9

#: Added to the squared radius when rows are passed over by their distance over two
#: attributes and the norm of the rest: that norm, ``sqrt(1 - x² - y²)``, may be off by
#: 2e-8 near 0 (the squared norms of unit rows are 1 within 4e-16).
FILTER_SLACK = 1e-6

#: List entries a row looks at nearest first (by the list's attribute), for a first best,
#: before it walks the rest of the list within the radius, upwards then downwards.
NEAREST = 8

#: The search runs on every thread from this many rows.
PARALLEL_ROWS = 2048

#: Lists of the rows holding two given attributes are kept when attributes² is at most
#: this.
MAX_PAIR_TABLE = 1 << 16


# --- unit rows and groups --------------------------------------------------------------------


@numba.njit(cache=True)
def _group_layout(group, order, unit):
    num_rows = group.size
    num_groups = group[order[num_rows - 1]] + 1 if num_rows else 0
    sizes = np.zeros(num_groups, dtype=np.int64)
    for i in range(num_rows):
        sizes[group[i]] += 1
    start = np.zeros(num_groups + 1, dtype=np.int64)
    for g in range(num_groups):
        start[g + 1] = start[g] + sizes[g]
    position = np.empty(num_rows, dtype=np.int64)
    for t in range(num_rows):
        position[order[t]] = t - start[group[order[t]]]
    first = np.empty(num_groups, dtype=np.int64)
    rows = np.empty((num_groups, unit.shape[1]))
    for g in range(num_groups):
        first[g] = order[start[g]]
        rows[g] = unit[first[g]]
    return sizes, start, position, first, rows


def group_layout(
    group: np.ndarray, order: np.ndarray, unit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sizes, starts, member positions, first members and unit rows of the groups.

    Args:
        group: each row's group (0 … G-1, every one used).
        order: the rows by group, then index.
        unit: U×A dense unit rows.

    Returns:
        ``(sizes, start, position, first, rows)``: members per group, where each group
        starts in ``order`` (G + 1 entries), each row's place within its group, each group's
        lowest row, and each group's unit row.
    """
    return _group_layout(
        np.ascontiguousarray(group, dtype=np.int64),
        np.ascontiguousarray(order, dtype=np.int64),
        np.ascontiguousarray(unit, dtype=float),
    )


# --- grouping --------------------------------------------------------------------------------


@numba.njit(cache=True)
def _fingerprints(unit, probe):
    # in attribute order, one product at a time, as numpy's einsum "ua,ak->uk" sums
    num_rows, num_attrs = unit.shape
    keys = np.empty((num_rows, probe.shape[1]))
    for i in range(num_rows):
        for k in range(probe.shape[1]):
            s = 0.0
            for a in range(num_attrs):
                s += unit[i, a] * probe[a, k]
            keys[i, k] = s
    return keys


def fingerprints(unit: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """``unit @ probe``, each row summed in attribute order (equal rows, equal results).

    Args:
        unit: U×A rows (dense).
        probe: A×K projections.

    Returns:
        U×K projections of the rows.
    """
    return _fingerprints(
        np.ascontiguousarray(unit, dtype=float), np.ascontiguousarray(probe, dtype=float)
    )


@numba.njit(inline="always")
def _lex_greater(keys, i, j):
    # whether row i comes after row j in lexicographic order of the keys
    for c in range(keys.shape[1]):
        if keys[i, c] != keys[j, c]:
            return keys[i, c] > keys[j, c]
    return False


@numba.njit(cache=True)
def _rank_rows(keys):
    # A stable sort by (keys[:, 0], keys[:, 1], ...), as np.lexsort: an LSD radix sort
    # (11-bit digits) of the top 33 bits of the first key as an order-preserving integer,
    # then runs with equal top bits (identical rows, or first keys within about 1e-6 of
    # each other) by insertion. False when such runs are too long to sort that way.
    num_rows = keys.shape[0]
    order = np.arange(num_rows)
    spare = np.empty(num_rows, dtype=np.int64)
    column = np.empty(num_rows)
    bits = column.view(np.uint64)
    sign = np.uint64(1) << np.uint64(63)
    mask = np.uint64(2047)
    counts = np.empty(2049, dtype=np.int64)
    for i in range(num_rows):
        column[i] = keys[i, 0] + 0.0  # -0.0 as 0.0
    for i in range(num_rows):  # as unsigned integers in the same order
        b = bits[i]
        bits[i] = ~b if b & sign else b | sign
    for shift in range(31, 64, 11):
        sh = np.uint64(shift)
        counts[:] = 0
        for t in range(num_rows):
            counts[((bits[order[t]] >> sh) & mask) + 1] += 1
        if counts[((bits[order[0]] >> sh) & mask) + 1] == num_rows:
            continue  # one digit for all: the pass would not move anything
        for d in range(2048):
            counts[d + 1] += counts[d]
        for t in range(num_rows):
            i = order[t]
            d = (bits[i] >> sh) & mask
            spare[counts[d]] = i
            counts[d] += 1
        order, spare = spare, order
    low = np.uint64(31)
    moves = 0
    t = 0
    while t < num_rows:
        head = bits[order[t]] >> low
        end = t + 1
        while end < num_rows and bits[order[end]] >> low == head:
            end += 1
        for u in range(t + 1, end):
            i = order[u]
            v = u - 1
            while v >= t and _lex_greater(keys, order[v], i):
                order[v + 1] = order[v]
                v -= 1
            order[v + 1] = i
            moves += u - 1 - v
        if moves > 16 * num_rows:
            return order, order, False
        t = end
    group = np.empty(num_rows, dtype=np.int64)
    g = -1
    for t in range(num_rows):
        i = order[t]
        if t == 0 or _lex_greater(keys, i, order[t - 1]):
            g += 1
        group[i] = g
    return group, order, True


def rank_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Group ids of rows by equal keys, numbered in lexicographic order of the keys.

    The group ids of ``np.unique(keys, axis=0, return_inverse=True)``, and the stable
    lexicographic order of the rows (``np.lexsort`` of the columns, first column most
    significant); ``-0.0`` equals ``0.0``. Keys must not be NaN.

    Args:
        keys: U×K finite keys.

    Returns:
        ``(group, order)``: each row's group id, and the rows in that order (by group, then
        row index); None when too many rows have nearly equal first keys (use np.lexsort).
    """
    group, order, ok = _rank_rows(np.ascontiguousarray(keys, dtype=float))
    return (group, order) if ok else None


# --- attribute lists -------------------------------------------------------------------------


@numba.njit(cache=True)
def _dense_nonzeros(unit):
    num_rows, num_attrs = unit.shape
    indptr = np.zeros(num_rows + 1, dtype=np.int64)
    ok = True
    for i in range(num_rows):
        c = 0
        for a in range(num_attrs):
            x = unit[i, a]
            ok &= (x >= 0.0) & (x < np.inf)  # not negative, NaN or infinite
            c += x != 0.0
        indptr[i + 1] = indptr[i] + c
    nnz = indptr[num_rows]
    indices = np.empty(nnz + 1, dtype=np.int64)  # one spare: written, never kept
    data = np.empty(nnz + 1)
    p = 0
    for i in range(num_rows):
        for a in range(num_attrs):
            x = unit[i, a]
            indices[p] = a
            data[p] = x
            p += x != 0.0
    return indptr, indices[:nnz], data[:nnz], ok


@numba.njit(cache=True)
def _csr_nonzeros(indptr, indices, values):
    num_rows = indptr.size - 1
    out_ptr = np.zeros(num_rows + 1, dtype=np.int64)
    ok = True
    for i in range(num_rows):
        c = 0
        for k in range(indptr[i], indptr[i + 1]):
            x = values[k]
            ok &= (x >= 0.0) & (x < np.inf)
            c += x != 0.0
        out_ptr[i + 1] = out_ptr[i] + c
    nnz = out_ptr[num_rows]
    out_idx = np.empty(nnz + 1, dtype=np.int64)
    out_val = np.empty(nnz + 1)
    p = 0
    for k in range(indptr[num_rows]):
        out_idx[p] = indices[k]
        out_val[p] = values[k]
        p += values[k] != 0.0
    return out_ptr, out_idx[:nnz], out_val[:nnz], ok


def nonnegative_csr(unit) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The non-zeros of rows as CSR, or None when any entry is negative or not finite.

    Args:
        unit: G×A rows, a dense array or a scipy CSR matrix (its order of entries kept).

    Returns:
        ``(indptr, indices, data)`` (int64, int64, float64), or None.
    """
    if hasattr(unit, "indptr"):
        out = _csr_nonzeros(
            np.asarray(unit.indptr, dtype=np.int64),
            np.asarray(unit.indices, dtype=np.int64),
            np.asarray(unit.data, dtype=float),
        )
    else:
        out = _dense_nonzeros(np.ascontiguousarray(unit, dtype=float))
    indptr, indices, data, ok = out
    return (indptr, indices, data) if ok else None


@numba.njit(cache=True)
def _sort_segment(vals, order, lo, hi):
    # order[lo:hi] (entries of vals) by value ascending, stably: bucket sort over the
    # segment's range, then insertion sort; a mergesort where buckets crowd
    m = hi - lo
    if m < 2:
        return
    low = np.inf
    high = -np.inf
    for t in range(lo, hi):
        v = vals[order[t]]
        low = min(low, v)
        high = max(high, v)
    if not high > low:
        return  # all equal
    scale = m / (high - low)
    counts = np.zeros(m + 1, dtype=np.int64)
    for t in range(lo, hi):
        b = min(m - 1, np.int64((vals[order[t]] - low) * scale))
        counts[b + 1] += 1
    for b in range(m):
        counts[b + 1] += counts[b]
    placed = np.empty(m, dtype=np.int64)
    for t in range(lo, hi):
        b = min(m - 1, np.int64((vals[order[t]] - low) * scale))
        placed[counts[b]] = order[t]
        counts[b] += 1
    moves = 0
    for t in range(1, m):
        j = placed[t]
        v = vals[j]
        s = t - 1
        while s >= 0 and vals[placed[s]] > v:
            placed[s + 1] = placed[s]
            s -= 1
        placed[s + 1] = j
        moves += t - 1 - s
        if moves > 16 * m:  # crowded buckets: sort the segment as it came
            placed[:] = order[lo:hi][np.argsort(vals[order[lo:hi]], kind="mergesort")]
            break
    order[lo:hi] = placed


class SearchLists(NamedTuple):
    """Unit rows and their attribute lists, for :func:`search_ties`.

    The rows are renumbered (``perm``: original row of each; ``inv``: new number of each
    original row) in the order of their largest attribute, then its value, so that rows
    near each other in a list are mostly near each other in memory. ``indptr``/``indices``/
    ``data``: the renumbered rows, CSR, non-zeros only; ``top``/``second``: each row's
    largest and second largest attribute (CSR slots, -1 when none).

    ``col_*``: for each attribute a, the rows where it is non-zero, by ``v_a`` ascending
    (list a); ``pair_*``: for each ordered pair (a, b), the rows where both are non-zero,
    by ``v_a`` ascending (list ``a * num_attrs + b``; the lists (a, a) are empty).
    Each entry (a row of ``*_entries``) holds ``v_a``, ``v_b`` (0 in the lists of one
    attribute), the norm of the row's other attributes, and the row (a float).
    ``col_pos``/``pair_pos``: each row's place in the list of its largest (and second
    largest) attribute, -1 when there is none.
    """

    perm: np.ndarray
    inv: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    num_attrs: int
    top: np.ndarray
    second: np.ndarray
    col_ptr: np.ndarray
    col_entries: np.ndarray
    col_pos: np.ndarray
    pair_ptr: np.ndarray
    pair_entries: np.ndarray
    pair_pos: np.ndarray


@numba.njit(inline="always")
def _rest(x, y):
    # the norm of a unit row's attributes other than two holding x and y
    return np.sqrt(max(0.0, 1.0 - x * x - y * y))


@numba.njit(inline="always")
def _pair_entry(entries, fill, q, x, y, n):
    # row n (v_a = x, v_b = y) at the end of pair list q
    e = fill[q]
    fill[q] = e + 1
    entries[e, 0] = x
    entries[e, 1] = y
    entries[e, 2] = _rest(x, y)
    entries[e, 3] = n


@numba.njit(cache=True, parallel=True)
def _build_lists(in_ptr, in_idx, in_data, num_attrs, with_pairs, col_buffer, pair_buffer):
    num_rows = in_ptr.size - 1
    nnz = in_ptr[num_rows]
    # CSR slots by attribute, then value
    col_ptr = np.zeros(num_attrs + 1, dtype=np.int64)
    for k in range(nnz):
        col_ptr[in_idx[k] + 1] += 1
    for a in range(num_attrs):
        col_ptr[a + 1] += col_ptr[a]
    slots = np.empty(nnz, dtype=np.int64)
    fill = col_ptr[:-1].copy()
    for k in range(nnz):
        slots[fill[in_idx[k]]] = k
        fill[in_idx[k]] += 1
    for a in numba.prange(num_attrs):  # each attribute's segment on its own
        _sort_segment(in_data, slots, col_ptr[a], col_ptr[a + 1])
    # each row's two largest attributes (the first in attribute order among equal values)
    in_top = np.full(num_rows, -1, dtype=np.int64)
    in_second = np.full(num_rows, -1, dtype=np.int64)
    for i in range(num_rows):
        t1 = -1
        t2 = -1
        for k in range(in_ptr[i], in_ptr[i + 1]):
            if t1 < 0 or in_data[k] > in_data[t1]:
                t2 = t1
                t1 = k
            elif t2 < 0 or in_data[k] > in_data[t2]:
                t2 = k
        in_top[i] = t1
        in_second[i] = t2
    # renumbered rows: by largest attribute, then its value; zero rows last
    inv = np.full(num_rows, -1, dtype=np.int64)
    perm = np.empty(num_rows, dtype=np.int64)
    placed = 0
    owner = np.empty(nnz, dtype=np.int64)
    for i in range(num_rows):
        for k in range(in_ptr[i], in_ptr[i + 1]):
            owner[k] = i
    for p in range(nnz):
        k = slots[p]
        i = owner[k]
        if k == in_top[i]:
            perm[placed] = i
            inv[i] = placed
            placed += 1
    for i in range(num_rows):
        if in_top[i] < 0:
            perm[placed] = i
            inv[i] = placed
            placed += 1
    indptr = np.empty(num_rows + 1, dtype=np.int64)
    indices = np.empty(nnz, dtype=np.int64)
    data = np.empty(nnz)
    top = np.empty(num_rows, dtype=np.int64)
    second = np.empty(num_rows, dtype=np.int64)
    new_slot = np.empty(nnz, dtype=np.int64)
    indptr[0] = 0
    for n in range(num_rows):
        i = perm[n]
        k0 = in_ptr[i]
        shift = indptr[n] - k0
        for k in range(k0, in_ptr[i + 1]):
            indices[k + shift] = in_idx[k]
            data[k + shift] = in_data[k]
            new_slot[k] = k + shift
            owner[k + shift] = n
        indptr[n + 1] = in_ptr[i + 1] + shift
        top[n] = in_top[i] + shift if in_top[i] >= 0 else -1
        second[n] = in_second[i] + shift if in_second[i] >= 0 else -1
    # attribute lists
    col_entries = col_buffer[:nnz]  # room for nnz entries (the caller's, reused)
    col_pos = np.full(num_rows, -1, dtype=np.int64)
    for p in range(nnz):
        k = new_slot[slots[p]]
        slots[p] = k
        n = owner[k]
        col_entries[p, 0] = data[k]
        col_entries[p, 1] = 0.0
        col_entries[p, 2] = _rest(data[k], 0.0)
        col_entries[p, 3] = n
        if k == top[n]:
            col_pos[n] = p
    # lists of the pairs: every row in those of each ordered pair (a, b) of two of its
    # attributes; the lists (a, a) stay empty (the row's other slots are the ranges before and
    # after its slot of a: no branch per entry)
    num_pairs = num_attrs * num_attrs if with_pairs else 0
    pair_ptr = np.zeros(num_pairs + 1, dtype=np.int64)
    if with_pairs:
        # attribute a's lists are counted and filled from the entries of list a alone:
        # one attribute per task, no two tasks write the same list
        for a in numba.prange(num_attrs):
            base = a * num_attrs + 1
            for p in range(col_ptr[a], col_ptr[a + 1]):
                k = slots[p]
                n = owner[k]
                for k2 in range(indptr[n], k):
                    pair_ptr[base + indices[k2]] += 1
                for k2 in range(k + 1, indptr[n + 1]):
                    pair_ptr[base + indices[k2]] += 1
        for q in range(num_pairs):
            pair_ptr[q + 1] += pair_ptr[q]
    size = pair_ptr[num_pairs]
    pair_entries = pair_buffer[:size]  # room for every row's ordered pairs of attributes
    pair_pos = np.full(num_rows, -1, dtype=np.int64)
    if with_pairs:
        fill = pair_ptr[:-1].copy()
        for a in numba.prange(num_attrs):
            base = a * num_attrs
            for p in range(col_ptr[a], col_ptr[a + 1]):  # rows by v_a: the lists come sorted
                k = slots[p]
                n = owner[k]
                x = data[k]
                if k == top[n] and second[n] >= 0:
                    pair_pos[n] = fill[base + indices[second[n]]]
                for kb in range(indptr[n], k):
                    _pair_entry(pair_entries, fill, base + indices[kb], x, data[kb], n)
                for kb in range(k + 1, indptr[n + 1]):
                    _pair_entry(pair_entries, fill, base + indices[kb], x, data[kb], n)
    return (
        perm, inv, indptr, indices, data, top, second, col_ptr, col_entries, col_pos,
        pair_ptr, pair_entries, pair_pos,
    )  # fmt: skip


def workspace_array(
    workspace: dict | None, name: str, shape: tuple[int, ...], dtype: type = np.float64
) -> np.ndarray:
    """An array with room for ``shape`` (its first axis may be longer), from ``workspace``.

    Kept in ``workspace`` (when given) and handed out again while it is large enough: a
    fresh multi-megabyte array each step costs page faults (on this project's virtual
    machine a 3 MB array took 2-4 ms to touch the first time). Its contents are not
    cleared, and it is only valid until the next call with the same name.

    Args:
        workspace: the caller's dict of buffers, or None for a fresh array.
        name: the buffer's key.
        shape: the room needed.
        dtype: element type.

    Returns:
        an array of at least ``shape[0]`` rows of ``shape[1:]``.
    """
    if workspace is None:
        return np.empty(shape, dtype=dtype)
    kept = workspace.get(name)
    if (
        kept is not None
        and kept.dtype == dtype
        and kept.shape[0] >= shape[0]
        and kept.shape[1:] == shape[1:]
    ):
        return kept
    array = np.empty((shape[0] + shape[0] // 4, *shape[1:]), dtype=dtype)  # room to grow
    workspace[name] = array
    return array


def build_lists(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    num_attrs: int,
    workspace: dict | None = None,
) -> SearchLists:
    """Attribute lists of CSR unit rows (non-zeros only) for :func:`search_ties`.

    Args:
        indptr: row pointers (int64).
        indices: attribute of each non-zero (int64), each at most once per row.
        data: value of each non-zero (float64, positive); rows of unit norm.
        num_attrs: number of attributes.
        workspace: buffers kept between calls (see :func:`workspace_array`); the lists
            returned live in them until the next call with the same workspace.

    Returns:
        the renumbered rows with their attribute lists (pair lists when ``num_attrs²`` is at
        most :data:`MAX_PAIR_TABLE`).
    """
    with_pairs = num_attrs * num_attrs <= MAX_PAIR_TABLE
    row_nnz = np.diff(indptr)
    # every row in a list per ordered pair of two of its attributes
    pairs = int(row_nnz @ (row_nnz - 1)) if with_pairs else 0
    perm, inv, *lists = _build_lists(
        indptr,
        indices,
        data,
        int(num_attrs),
        with_pairs,
        workspace_array(workspace, "col_entries", (int(indptr[-1]), 4)),
        workspace_array(workspace, "pair_entries", (pairs, 4)),
    )
    return SearchLists(perm, inv, *lists[:3], int(num_attrs), *lists[3:])


# --- search ----------------------------------------------------------------------------------


@numba.njit(inline="always")
def _radius2(threshold, margin):
    # every unit row with similarity >= threshold lies within this squared distance
    if threshold == -np.inf:
        return np.inf
    return max(0.0, 2.0 - 2.0 * threshold) + margin


@numba.njit(inline="always")
def _dot_holding(uq, indptr, indices, data, j, attr):
    # u·v for row j (u dense in uq), and whether row j holds attribute attr (never for -1)
    s = 0.0
    held = False
    for k in range(indptr[j], indptr[j + 1]):
        s += uq[indices[k]] * data[k]
        held |= indices[k] == attr
    return s, held


@numba.njit(inline="always")
def _dot(uq, indptr, indices, data, j):
    return _dot_holding(uq, indptr, indices, data, j, -1)[0]


@numba.njit(inline="always")
def _walk(
    x, y, z, lo, hi, p, entries, g, lone, uq, indptr, indices, data, tol, margin, slack,
    nearest, state, tied, sims, skip,
):  # fmt: skip
    # Entries [lo, hi) of a list around p (where v_a = x) while |v_a - x| is within the
    # radius of the running threshold: ``nearest`` of them nearest first (a first best),
    # then the rest above p, then the rest below; the scan of scan_ties on the similarities
    # of those whose squared distance over the list's attributes (x, y) plus the squared
    # difference of the norms of the rest (z) is within the squared radius, less the rows
    # holding attribute ``skip`` (when not -1: those were walked in a pair list).
    # state: [best, threshold, n, overflow].
    best = state[0]
    threshold = state[1]
    n = np.int64(state[2])
    overflow = state[3] != 0.0
    cap = tied.size
    r2 = _radius2(threshold, margin)
    down = p - 1
    up = p
    steps = 0
    phase = 0  # 0: nearest first, 1: upwards, 2: downwards
    while True:
        if phase == 0:
            if steps == nearest or (down < lo and up >= hi):
                phase = 1
                continue
            d_down = x - entries[down, 0] if down >= lo else np.inf
            d_up = entries[up, 0] - x if up < hi else np.inf
            if d_down <= d_up:
                e = down
                down -= 1
            else:
                e = up
                up += 1
            steps += 1
        elif phase == 1:
            if up >= hi:
                phase = 2
                continue
            e = up
            up += 1
        else:
            if down < lo:
                break
            e = down
            down -= 1
        d = entries[e, 0] - x
        d2 = d * d
        if not d2 <= r2:
            if phase == 0:
                break  # the nearest is out: so are all the others
            if phase == 1:
                phase = 2
                continue
            break
        dy = entries[e, 1] - y
        dz = entries[e, 2] - z
        if d2 + dy * dy + dz * dz <= r2 + slack:
            j = np.int64(entries[e, 3])
            if lone and j == g:
                continue
            s, held = _dot_holding(uq, indptr, indices, data, j, skip)
            if held:
                continue
            if not s < threshold:
                if s > best:
                    best = s
                    threshold = best - tol * max(1.0, abs(best))
                    r2 = _radius2(threshold, margin)
                    kept = 0
                    for t in range(min(n, cap)):
                        if sims[t] >= threshold:
                            tied[kept] = tied[t]
                            sims[kept] = sims[t]
                            kept += 1
                    n = kept
                if n < cap:
                    tied[n] = j
                    sims[n] = s
                else:
                    overflow = True
                n += 1
    state[0] = best
    state[1] = threshold
    state[2] = n
    state[3] = 1.0 if overflow else 0.0


def _search_ties_py(
    rows, perm, inv, indptr, indices, data, num_attrs, top, second, col_ptr, col_entries,
    col_pos, pair_ptr, pair_entries, pair_pos, alone, first, tol, margin, slack, nearest,
    sentinel, cap, nchunks, counts, low_other, self_tied, dense, start, flat,
):  # fmt: skip
    # chunks of the renumbered order (neighbouring rows walk the same lists), each with its
    # own scratch; row r's ties go to flat[r * cap:]
    at = np.full(perm.size, -1, dtype=np.int64)
    for r in range(rows.size):
        at[inv[rows[r]]] = r
    num = perm.size
    for c in numba.prange(nchunks):
        uq = np.zeros(num_attrs)
        state = np.empty(4)
        row_tied = np.empty(cap, dtype=np.int64)
        sims = np.empty(cap)
        for g in range((num * c) // nchunks, (num * (c + 1)) // nchunks):
            r = at[g]
            if r < 0:
                continue
            k0 = indptr[g]
            k1 = indptr[g + 1]
            dense[r] = True
            if k0 == k1:  # a zero row: similarity 0 with everyone
                continue
            for k in range(k0, k1):
                uq[indices[k]] = data[k]
            lone = alone[rows[r]]
            state[0] = -np.inf
            state[1] = -np.inf
            if not lone:  # its own group is the best
                best = _dot(uq, indptr, indices, data, g)
                state[0] = best
                state[1] = best - tol * max(1.0, abs(best))
            ka = top[g]
            kb = second[g]
            x = data[ka]
            y = data[kb] if kb >= 0 else 0.0
            state[2] = 0.0
            state[3] = 0.0
            on_pair = kb >= 0 and pair_pos[g] >= 0
            if on_pair:  # the list of its two largest attributes
                q = indices[ka] * num_attrs + indices[kb]
                _walk(
                    x, y, _rest(x, y), pair_ptr[q], pair_ptr[q + 1], pair_pos[g], pair_entries, g,
                    lone, uq, indptr, indices, data, tol, margin, slack, nearest, state, row_tied,
                    sims, -1,
                )  # fmt: skip
            r2 = _radius2(state[1], margin)
            if state[3] == 0.0 and (not on_pair or (not y * y > r2 and x * x > r2)):
                # no pair list, or the second attribute may be missing within the radius: the
                # list of the first. After a pair list, only the rows without the second
                # attribute b: the rows with it were all walked (the radius only narrows), and
                # a row v without b lies at least (x - v_a)² + y² + (‖u_rest‖ - ‖v_rest‖)²
                # away, the rest being the attributes other than a and b (col entries hold
                # v_b = 0 and the norm of the attributes other than a)
                a = indices[ka]
                skip = indices[kb] if on_pair else -1
                y_col = y if on_pair else 0.0
                if not on_pair:
                    state[2] = 0.0
                _walk(
                    x, y_col, _rest(x, y_col), col_ptr[a], col_ptr[a + 1], col_pos[g], col_entries,
                    g, lone, uq, indptr, indices, data, tol, margin, slack, nearest, state,
                    row_tied, sims, skip,
                )  # fmt: skip
                on_pair = False
            r2 = _radius2(state[1], margin)
            n = np.int64(state[2])
            held = x * x > r2 and (not on_pair or y * y > r2)  # the list holds every candidate
            if held and state[3] == 0.0 and n > 0:
                dense[r] = False
                for t in range(n):
                    row_tied[t] = perm[row_tied[t]]
                for t in range(1, n):  # ascending group ids, as the dense scan finds them
                    j = row_tied[t]
                    s = t - 1
                    while s >= 0 and row_tied[s] > j:
                        row_tied[s + 1] = row_tied[s]
                        s -= 1
                    row_tied[s + 1] = j
                begin = r * row_tied.size
                start[r] = begin
                for t in range(n):
                    flat[begin + t] = row_tied[t]
                low, own = tied_low_own(row_tied, n, rows[r], first, sentinel)
                counts[r] = n
                low_other[r] = low
                self_tied[r] = own
            for k in range(k0, k1):
                uq[indices[k]] = 0.0


_search_ties_par, _search_ties_ser = parallel_and_serial(_search_ties_py)


def search_ties(
    lists: SearchLists,
    rows: np.ndarray,
    alone: np.ndarray,
    first: np.ndarray,
    tol: float,
    sentinel: int,
    cap: int,
    workspace: dict | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's tied best rows, as :func:`~mesa_recsys.metrics._kernels.scan_ties` finds.

    Row j ties for row r when ``sim(r, j) >= best - tol * max(1, |best|)``; the row itself
    is left out when ``alone[r]``. Rows this search does not settle are flagged ``dense``
    (their other outputs are not set): zero rows, rows whose best similarity is too low
    for their largest attribute to narrow the search, and rows with more than
    ``max(1, cap)`` ties.

    Args:
        lists: the unit rows and their attribute lists, from :func:`build_lists`.
        rows: the rows (groups) to find ties for, each once.
        alone: per row, whether its group has a single member.
        first: per row, its group's lowest member.
        tol: relative tie tolerance.
        sentinel: value of ``low_other`` when no other row ties.
        cap: how many tied rows to keep per row.
        workspace: buffers kept between calls (see :func:`workspace_array`).

    Returns:
        ``(counts, low_other, self_tied, dense, start, tied)``: per row, the number of tied
        rows, the lowest first member of the tied rows other than the row itself, whether the
        row itself ties, whether the row is left to the dense scan, and where its tied rows
        (ascending) start in ``tied``.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    b = rows.size
    counts = np.empty(b, dtype=np.int64)
    low_other = np.empty(b, dtype=np.int64)
    self_tied = np.empty(b, dtype=np.bool_)
    dense = np.empty(b, dtype=np.bool_)
    start = np.zeros(b, dtype=np.int64)
    cap = max(1, int(cap))
    flat = workspace_array(workspace, "ties", (b * cap,), np.int64)  # cap slots per row
    threads = numba.get_num_threads() if b >= PARALLEL_ROWS else 1
    kernel = _search_ties_par if threads > 1 else _search_ties_ser
    # costs differ along the renumbered order (rows walk lists of different lengths):
    # many chunks, handed out one at a time
    previous = numba.set_parallel_chunksize(1)
    try:
        kernel(
            rows,
            *lists[:5],
            lists.num_attrs,
            *lists[6:],
            np.ascontiguousarray(alone, dtype=np.bool_),
            np.ascontiguousarray(first, dtype=np.int64),
            float(tol),
            RADIUS_MARGIN,
            FILTER_SLACK,
            NEAREST,
            int(sentinel),
            cap,
            16 * threads,
            counts,
            low_other,
            self_tied,
            dense,
            start,
            flat,
        )
    finally:
        numba.set_parallel_chunksize(previous)
    # the settled rows' runs one after the other (reads only the slots written)
    settled = np.flatnonzero(~dense)
    tied = gather_runs(flat, start[settled], counts[settled])
    start[settled] = np.cumsum(counts[settled]) - counts[settled]
    return counts, low_other, self_tied, dense, start, tied


@numba.njit(cache=True)
def _gather_runs(flat, start, counts):
    out = np.empty(counts.sum(), dtype=np.int64)
    p = 0
    for r in range(start.size):
        for t in range(counts[r]):
            out[p + t] = flat[start[r] + t]
        p += counts[r]
    return out


def gather_runs(flat: np.ndarray, start: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``flat[start[r] : start[r] + counts[r]]`` for every r, one after the other.

    Args:
        flat: the runs.
        start: where each run starts.
        counts: how long each run is.

    Returns:
        the runs concatenated.
    """
    return _gather_runs(
        np.ascontiguousarray(flat, dtype=np.int64),
        np.ascontiguousarray(start, dtype=np.int64),
        np.ascontiguousarray(counts, dtype=np.int64),
    )
