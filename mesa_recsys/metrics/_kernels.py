"""Compiled loops of the metrics: item sets, Jaccard indices, list statistics, rank counts.

Each kernel does in one pass over small per-user rows what the numpy version did with
several whole-array temporaries (sparse fancy indexing, a sort per row, a users × items
mask). The results are the same numbers: counts are exact, and scores are dot products
summed in attribute order, so equal scores stay equal.

Each user's cumulative set of interacted items is kept as a bitset or as a sorted row with
spare room, both updated in place (see "cumulative sets" below).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from mesa_recsys._jit import parallel_and_serial
from mesa_recsys._jit import pick as _pick
from mesa_recsys._scores import dot_listed

__all__ = [
    "chosen_in_top_k",
    "chosen_in_top_k_factors",
    "draw_partners",
    "heads_add",
    "heads_grow",
    "heads_jaccard",
    "heads_to_csr",
    "label_lists",
    "list_jaccard",
    "list_masks",
    "list_ranges",
    "lists_jaccard",
    "mark_items",
    "mask_jaccard",
    "mask_ranges",
    "ndcg_recall_factors",
    "ndcg_recall_gains",
    "rows_add",
    "rows_grow",
    "rows_jaccard",
    "same_values",
    "scan_ties",
    "tied_low_own",
    "user_ids",
]


def user_ids(ids: np.ndarray) -> np.ndarray:
    """``ids`` as a contiguous int32 or int64 array (the kernels are compiled for both).

    Args:
        ids: user indices.

    Returns:
        ``ids`` itself when it is already one, else a contiguous int64 copy.
    """
    ids = np.ascontiguousarray(ids)
    return ids if ids.dtype in (np.int32, np.int64) else ids.astype(np.int64)


def _check_ids(ids: np.ndarray, bound: int, what: str) -> None:
    """IndexError unless every id is below ``bound`` (compiled loops do not check)."""
    if ids.size and int(ids.max()) >= bound:
        raise IndexError(f"{what} {int(ids.max())} is out of bounds for size {bound}")


# --- equal snapshots -------------------------------------------------------------------------


@numba.njit(cache=True)
def _same_words(a, b):
    for t in range(a.size):  # noqa: SIM110 (an early exit, compiled)
        if a[t] != b[t]:
            return False
    return True


def same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays hold the same bits: same dtype, shape and bytes.

    The comparison stops at the first difference, so arrays that differ early cost next to
    nothing. Bitwise, not numerically: -0.0 and 0.0 differ and a NaN equals a NaN of the same bits,
    so that whatever is computed from one array is exactly what the other gives.

    Args:
        a: an array.
        b: another array.

    Returns:
        True when they are interchangeable.
    """
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.size == 0:
        return True
    if not (a.flags.c_contiguous and b.flags.c_contiguous) or a.dtype.hasobject:
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        if a.dtype.hasobject:
            return bool(np.array_equal(a, b))
    words = np.uint64 if a.nbytes % 8 == 0 else np.uint8
    return bool(_same_words(a.reshape(-1).view(words), b.reshape(-1).view(words)))


# --- cumulative sets -------------------------------------------------------------------------
#
# Each user's cumulative set of interacted items is kept in one of two layouts, both updated
# in place, so that a step costs O(users) whatever the number of steps so far:
#
# * small catalogues (item ids below 64 words of 64 bits): a head of HEAD int32 per user,
#   the set's size and then its items in increasing order while there are at most INLINE
#   of them; a larger set moves to a bitset row of its own (one bit per item, and a word
#   ``nonzero[r]`` whose bit w says that word w of the row has an item), whose index the
#   head keeps. Short sets, the usual case, stay within 32 bytes per user; a long set costs
#   one bit test per membership test, and two long sets intersect by a popcount over the
#   words nonzero in both.
# * any catalogue: sorted rows with spare room. Row u is ``pool[start[u] : start[u] +
#   length[u]]`` with ``room[u]`` slots reserved; a full row moves to the end of the pool
#   with twice the room, and the pool is compacted when it is full. Adding an item shifts
#   the entries after it in its row only.


@intrinsic
def _popcount(typingctx, x):
    """Number of set bits of an unsigned 64-bit word (LLVM's ``ctpop``)."""
    if not isinstance(x, types.Integer) or x.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.ctpop", [args[0].type])
        return builder.call(fn, [args[0]])

    return types.int64(x), codegen


@intrinsic
def _trailing_zeros(typingctx, x):
    """Index of the lowest set bit of a nonzero unsigned 64-bit word (LLVM's ``cttz``)."""
    if not isinstance(x, types.Integer) or x.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.cttz", [args[0].type, ir.IntType(1)])
        return builder.call(fn, [args[0], ir.Constant(ir.IntType(1), 0)])

    return types.int64(x), codegen


#: Rows up to this long are searched by a branch-free scan rather than by bisection.
SHORT_ROW = 32

#: Room of a row's first entries in the pool of sorted rows.
FIRST_ROOM = 4


#: int32 slots per user in the small-catalogue layout (see "cumulative sets" above).
HEAD = 8
#: Items a user's head holds before the set moves to a bitset row.
INLINE = HEAD - 1


@numba.njit(cache=True)
def _heads_add(head, bits, nonzero, count, items, added, begin):
    # from user ``begin`` on; stops at a user whose set needs a bitset row when none is free
    one = np.uint64(1)
    for u in range(begin, items.size):
        x = items[u]
        n = head[u, 0]
        if n <= INLINE:
            # where x goes (after the items below it) and whether it is there: every slot
            # read, the ones past the size masked, without a branch per item
            at = 1
            hits = 0
            for t in range(1, INLINE + 1):
                y = head[u, t]
                valid = t <= n
                at += valid & (y < x)
                hits += valid & (y == x)
            if (hits > 0) | (x < 0):
                added[u] = -1
                continue
            if n < INLINE:
                for t in range(n, at - 1, -1):
                    head[u, t + 1] = head[u, t]
                head[u, at] = x
            else:  # the head is full: its items and x move to a bitset row
                if count == bits.shape[0]:
                    return u, count
                for t in range(1, INLINE + 1):
                    y = head[u, t]
                    bits[count, y >> 6] |= one << np.uint64(y & 63)
                    nonzero[count] |= one << np.uint64(y >> 6)
                bits[count, x >> 6] |= one << np.uint64(x & 63)
                nonzero[count] |= one << np.uint64(x >> 6)
                head[u, 1] = count
                count += 1
        else:
            if x < 0:
                added[u] = -1
                continue
            r = head[u, 1]
            w = x >> 6
            bit = one << np.uint64(x & 63)
            word = bits[r, w]
            if word & bit:
                added[u] = -1
                continue
            bits[r, w] = word | bit
            nonzero[r] |= one << np.uint64(w)
        head[u, 0] = n + 1
        added[u] = x
    return -1, count


def heads_add(
    head: np.ndarray, bits: np.ndarray, nonzero: np.ndarray, count: int, items: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Add ``items[u]`` to user u's set in the small-catalogue layout, in place.

    Args:
        head: R×:data:`HEAD` int32, per user the set's size, then its items in increasing
            order while there are at most :data:`INLINE`, else the user's bitset row;
            R ≥ ``len(items)``.
        bits: S×W uint64 bitset rows, bit ``i & 63`` of word ``i >> 6`` standing for item i
            (every item id below 64·W).
        nonzero: length-S uint64, bit w set where word w of the row is nonzero.
        count: bitset rows in use.
        items: one item per user (``-1`` = none).

    Returns:
        ``(bits, nonzero, count, added)``: the bitset rows (new arrays when they had to
        grow), the rows in use, and per user of ``items`` the item that was new to the set
        (``-1`` where none was).
    """
    items = np.ascontiguousarray(items, dtype=np.int64)
    added = np.empty(items.size, dtype=np.int32)
    begin = 0
    while True:
        begin, count = _heads_add(head, bits, nonzero, count, items, added, begin)
        if begin < 0:
            return bits, nonzero, int(count), added
        rows = max(16, 2 * bits.shape[0])  # no free bitset row: twice as many
        wider = np.zeros((rows, bits.shape[1]), dtype=np.uint64)
        wider[: bits.shape[0]] = bits
        bits = wider
        nonzero = np.concatenate([nonzero, np.zeros(rows - nonzero.size, dtype=np.uint64)])


@numba.njit(cache=True)
def _heads_rows(head, bits, indptr, indices):
    # every set's items in increasing order (bitset rows: lowest word and bit first)
    for u in range(head.shape[0]):
        out = indptr[u]
        n = head[u, 0]
        if n <= INLINE:
            for t in range(n):
                indices[out + t] = head[u, t + 1]
            continue
        r = head[u, 1]
        for w in range(bits.shape[1]):
            word = bits[r, w]
            while word:
                indices[out] = w * 64 + _trailing_zeros(word)
                out += 1
                word &= word - np.uint64(1)


def heads_to_csr(head: np.ndarray, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sets of the small-catalogue layout as sorted CSR rows ``(indptr, indices)``.

    Args:
        head: R×:data:`HEAD` int32 heads (see :func:`heads_add`).
        bits: S×W uint64 bitset rows.

    Returns:
        int64 row pointers (length R+1) and int32 item ids, sorted within each row.
    """
    indptr = np.zeros(head.shape[0] + 1, dtype=np.int64)
    np.cumsum(head[:, 0], out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    _heads_rows(head, bits, indptr, indices)
    return indptr, indices


@numba.njit(cache=True)
def _compact(start, length, room, pool, extra):
    # every row copied, with its room, into a pool twice the size of what is in use
    used = extra
    for u in range(start.size):
        used += room[u]
    new = np.empty(max(2 * used, 64), dtype=pool.dtype)
    out = 0
    for u in range(start.size):
        lo = start[u]
        for t in range(length[u]):
            new[out + t] = pool[lo + t]
        start[u] = out
        out += room[u]
    return new, out


@numba.njit(cache=True)
def _rows_add(start, length, room, pool, end, items, added):
    for u in range(items.size):
        x = items[u]
        if x < 0:
            added[u] = -1
            continue
        lo = start[u]
        n = length[u]
        hi = lo + n
        # the first entry >= x: counted branch-free in a short row, else bisected
        if n <= SHORT_ROW:
            at = lo
            for t in range(lo, hi):
                at += pool[t] < x
        else:
            at, b = lo, hi
            while at < b:
                mid = (at + b) // 2
                if pool[mid] < x:
                    at = mid + 1
                else:
                    b = mid
        if at < hi and pool[at] == x:
            added[u] = -1
            continue
        if n == room[u]:  # full: the row moves to the end of the pool with twice the room
            grown = max(FIRST_ROOM, 2 * n)
            if end + grown > pool.size:
                offset = at - lo
                pool, end = _compact(start, length, room, pool, grown)
                lo = start[u]
                at = lo + offset
            for t in range(n):
                pool[end + t] = pool[lo + t]
            at = end + (at - lo)
            lo = end
            start[u] = end
            room[u] = grown
            end += grown
        for t in range(lo + n, at, -1):
            pool[t] = pool[t - 1]
        pool[at] = x
        length[u] = n + 1
        added[u] = x
    return pool, end


def rows_add(
    start: np.ndarray,
    length: np.ndarray,
    room: np.ndarray,
    pool: np.ndarray,
    end: int,
    items: np.ndarray,
) -> tuple[np.ndarray, int, np.ndarray]:
    """Add ``items[u]`` to sorted row u of a pool of rows with spare room.

    Args:
        start: length-R int64 first slot of each row in ``pool`` (updated in place).
        length: length-R int64 entries of each row (updated in place).
        room: length-R int64 slots reserved for each row (updated in place); a row with no
            room yet has 0.
        pool: int32 slots; ``pool[start[u] : start[u] + length[u]]`` is row u, sorted.
        end: first slot of ``pool`` not reserved by any row.
        items: one item per user (``-1`` = none); R ≥ ``len(items)``.

    Returns:
        ``(pool, end, added)``: the pool (a new, compacted one when it was full), its new
        end, and per user the item that was new to the set (``-1`` where none was).
    """
    items = np.ascontiguousarray(items, dtype=np.int64)
    added = np.empty(items.size, dtype=np.int32)
    pool, end = _rows_add(start, length, room, pool, end, items, added)
    return pool, int(end), added


def _heads_jaccard_py(head, bits, nonzero, a, b, common, out):
    one = np.uint64(1)
    num_rows = head.shape[0]
    for p in numba.prange(a.size):
        u = a[p]
        v = b[p]
        nu = head[u, 0] if u < num_rows else 0
        nv = head[v, 0] if v < num_rows else 0
        c = 0
        if nu <= INLINE and nv <= INLINE:  # two short lists: every item against every item
            for s in range(1, nu + 1):
                x = head[u, s]
                for t in range(1, nv + 1):
                    c += head[v, t] == x
        elif nu <= INLINE:  # a short list against a bitset
            r = head[v, 1]
            for s in range(1, nu + 1):
                x = head[u, s]
                if x < 0:  # never: keeps LLVM from vector gathers
                    break
                c += np.int64((bits[r, x >> 6] >> np.uint64(x & 63)) & one)
        elif nv <= INLINE:
            r = head[u, 1]
            for t in range(1, nv + 1):
                y = head[v, t]
                if y < 0:  # never
                    break
                c += np.int64((bits[r, y >> 6] >> np.uint64(y & 63)) & one)
        else:  # two bitsets: the words nonzero in both
            ru = head[u, 1]
            rv = head[v, 1]
            both = nonzero[ru] & nonzero[rv]
            while both:
                w = _trailing_zeros(both)
                c += _popcount(bits[ru, w] & bits[rv, w])
                both &= both - one
        common[p] = c
        union = nu + nv - c
        out[p] = c / union if union > 0 else np.nan


def _rows_jaccard_py(start, length, pool, a, b, num_items, common, out):
    # Marks the first set's items in a catalogue-sized array of bytes, counts the second
    # set's marked items, clears the marks: branch-free, unlike a merge of the two rows.
    num_rows = start.size
    num_pairs = a.size
    nchunks = max(1, min(num_pairs, 64))
    for c in numba.prange(nchunks):
        lo = (num_pairs * c) // nchunks
        hi = (num_pairs * (c + 1)) // nchunks
        mark = np.zeros(num_items, dtype=np.uint8)
        for p in range(lo, hi):
            u = a[p]
            v = b[p]
            i = start[u] if u < num_rows else 0
            i_end = i + length[u] if u < num_rows else 0
            j = start[v] if v < num_rows else 0
            j_end = j + length[v] if v < num_rows else 0
            for t in range(i, i_end):
                mark[pool[t]] = 1
            both = 0
            for t in range(j, j_end):
                both += mark[pool[t]]
            for t in range(i, i_end):
                mark[pool[t]] = 0
            common[p] = both
            union = (i_end - i) + (j_end - j) - both
            out[p] = both / union if union > 0 else np.nan


_heads_jaccard_par, _heads_jaccard_ser = parallel_and_serial(_heads_jaccard_py)
_rows_jaccard_par, _rows_jaccard_ser = parallel_and_serial(_rows_jaccard_py)


def heads_jaccard(
    head: np.ndarray, bits: np.ndarray, nonzero: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Jaccard index |S_a ∩ S_b| / |S_a ∪ S_b| of pairs of sets in the small-catalogue layout.

    Two short sets compare item by item, a short one and a bitset by bit tests, two bitsets
    by a popcount of the words nonzero in both.

    Args:
        head: R×:data:`HEAD` int32 heads (rows past R are empty sets).
        bits: S×W uint64 bitset rows.
        nonzero: length-S, bit w set where word w of the row is nonzero.
        a: length-P first users.
        b: length-P second users.

    Returns:
        ``(jaccard, common)``: length-P floats (NaN where both sets are empty) and the
        intersection sizes.
    """
    a, b = user_ids(a), user_ids(b)
    common = np.empty(a.size, dtype=np.int32)
    out = np.empty(a.size)
    _pick(_heads_jaccard_par, _heads_jaccard_ser, a.size * 8)(
        head, bits, nonzero, a, b, common, out
    )
    return out, common


def rows_jaccard(
    start: np.ndarray,
    length: np.ndarray,
    pool: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    num_items: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Jaccard index |S_a ∩ S_b| / |S_a ∪ S_b| of each pair of pooled sorted rows.

    Args:
        start: length-R first slot of each row in ``pool``.
        length: length-R entries of each row (rows past R are empty sets).
        pool: int32 item ids, no repeats within a row.
        a: length-P first rows.
        b: length-P second rows.
        num_items: a bound on the item ids.

    Returns:
        ``(jaccard, common)``: length-P floats (NaN where both sets are empty) and the
        intersection sizes.
    """
    a, b = user_ids(a), user_ids(b)
    common = np.empty(a.size, dtype=np.int32)
    out = np.empty(a.size)
    work = a.size * 8 + int(length.sum()) if length.size else a.size * 8
    _pick(_rows_jaccard_par, _rows_jaccard_ser, work)(
        start, length, pool, a, b, max(1, int(num_items)), common, out
    )
    return out, common


def _heads_grow_py(head, bits, added, a, b, common, out):
    one = np.uint64(1)
    num_rows = head.shape[0]
    for p in numba.prange(a.size):
        u = a[p]
        v = b[p]
        x = added[u] if u < added.size else -1
        y = added[v] if v < added.size else -1
        if (x < 0) & (y < 0):  # neither set changed: nor did the pair's index
            continue
        grow = 0
        for item, row in ((x, v), (y, u)):  # is x in S_v, is y in S_u
            if item < 0 or row >= num_rows:
                continue
            n = head[row, 0]
            if n <= INLINE:
                found = False
                for t in range(1, n + 1):
                    found |= head[row, t] == item
                grow += found
            else:
                r = head[row, 1]
                grow += np.int64((bits[r, item >> 6] >> np.uint64(item & 63)) & one)
        if x >= 0 and x == y:  # one new item shared by both, counted twice above
            grow -= 1
        both = common[p] + grow
        common[p] = both
        size = 0
        if u < num_rows:
            size += head[u, 0]
        if v < num_rows:
            size += head[v, 0]
        union = size - both
        out[p] = both / union if union > 0 else np.nan


def _rows_grow_py(start, length, pool, added, a, b, common, out):
    num_rows = start.size
    for p in numba.prange(a.size):
        u = a[p]
        v = b[p]
        x = added[u] if u < added.size else -1
        y = added[v] if v < added.size else -1
        if (x < 0) & (y < 0):  # neither set changed: nor did the pair's index
            continue
        grow = 0
        for item, row in ((x, v), (y, u)):  # is x in S_v, is y in S_u
            if item < 0 or row >= num_rows:
                continue
            lo = start[row]
            hi = lo + length[row]
            if hi - lo <= SHORT_ROW:
                found = False
                for t in range(lo, hi):
                    found |= pool[t] == item
                grow += found
            else:
                end = hi
                while lo < hi:
                    mid = (lo + hi) // 2
                    if pool[mid] < item:
                        lo = mid + 1
                    else:
                        hi = mid
                grow += lo < end and pool[lo] == item
        if x >= 0 and x == y:
            grow -= 1
        both = common[p] + grow
        common[p] = both
        size = 0
        if u < num_rows:
            size += length[u]
        if v < num_rows:
            size += length[v]
        union = size - both
        out[p] = both / union if union > 0 else np.nan


_heads_grow_par, _heads_grow_ser = parallel_and_serial(_heads_grow_py)
_rows_grow_par, _rows_grow_ser = parallel_and_serial(_rows_grow_py)


def heads_grow(
    head: np.ndarray,
    bits: np.ndarray,
    added: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    common: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """Update the pairs' intersection sizes and Jaccard indices after a step added ``added``.

    A step adds at most one item x_u to each set, so |S_a ∩ S_b| grows by [x_a ∈ S_b] +
    [x_b ∈ S_a] (in the updated sets), less one when x_a = x_b was new to both: one
    membership test per pair (a scan of a short set or a bit test) instead of an
    intersection of the two sets. A pair neither of whose sets changed keeps its values.

    Args:
        head: R×:data:`HEAD` int32 heads, updated (rows past R are empty sets).
        bits: S×W uint64 bitset rows, updated.
        added: per user, the item this step added (``-1`` = none; users past its end
            added none), as returned by :func:`heads_add`.
        a: length-P first users.
        b: length-P second users.
        common: length-P intersection sizes before the step, updated in place.
        out: length-P Jaccard indices before the step (NaN where both sets are empty),
            updated in place.

    Returns:
        ``out``.
    """
    _pick(_heads_grow_par, _heads_grow_ser, a.size * 8)(head, bits, added, a, b, common, out)
    return out


def rows_grow(
    start: np.ndarray,
    length: np.ndarray,
    pool: np.ndarray,
    added: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    common: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """:func:`heads_grow` on pooled sorted rows (a scan or a bisection per test).

    Args:
        start: length-R first slot of each row in ``pool``.
        length: length-R entries of each row (rows past R are empty sets).
        pool: int32 item ids, sorted within each row.
        added: per row, the item this step added to it (``-1`` = none).
        a: length-P first rows.
        b: length-P second rows.
        common: length-P intersection sizes before the step, updated in place.
        out: length-P Jaccard indices before the step, updated in place.

    Returns:
        ``out``.
    """
    _pick(_rows_grow_par, _rows_grow_ser, a.size * 8)(start, length, pool, added, a, b, common, out)
    return out


# --- this step's lists -----------------------------------------------------------------------


def _list_jaccard_py(shown, a, b, num_items, out):
    # Each pair marks its first list's items (bit 1) in a catalogue-sized array of bytes,
    # then its second list's (bit 2; an item marked 2 already is a repeat), counting the
    # items marked both, then clears the marks: a few branch-free steps per listed item.
    n = shown.shape[1]
    num_pairs = a.size
    nchunks = max(1, min(num_pairs, 64))
    for c in numba.prange(nchunks):
        lo = (num_pairs * c) // nchunks
        hi = (num_pairs * (c + 1)) // nchunks
        mark = np.zeros(num_items, dtype=np.uint8)
        for p in range(lo, hi):
            u = a[p]
            v = b[p]
            na = 0
            for t in range(n):
                x = shown[u, t]
                if x >= 0:
                    na += mark[x] == 0
                    mark[x] = 1
            nb = 0
            common = 0
            for t in range(n):
                y = shown[v, t]
                if y >= 0:
                    m = mark[y]
                    new = (m & 2) == 0
                    nb += new
                    common += new & (m == 1)
                    mark[y] = m | 2
            for t in range(n):
                x = shown[u, t]
                y = shown[v, t]
                if x >= 0:
                    mark[x] = 0
                if y >= 0:
                    mark[y] = 0
            union = na + nb - common
            out[p] = common / union if union > 0 else np.nan


_list_jaccard_par, _list_jaccard_ser = parallel_and_serial(_list_jaccard_py)


def list_jaccard(shown: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Jaccard index of the sets of items in two users' lists, for each pair of users.

    Args:
        shown: U×N item ids (``-1`` entries are not items; repeats count once).
        pairs: P×2 user indices (rows of ``shown``).

    Returns:
        length-P floats; NaN where both lists hold no item.
    """
    shown = np.ascontiguousarray(shown)
    if shown.dtype not in (np.int16, np.int32, np.int64):
        shown = shown.astype(np.int64)
    bound = int(shown.max(initial=0)) + 1
    return lists_jaccard(shown, pairs[:, 0], pairs[:, 1], bound)


def lists_jaccard(lists: np.ndarray, a: np.ndarray, b: np.ndarray, bound: int) -> np.ndarray:
    """:func:`list_jaccard` of the pairs ``(a[p], b[p])``, on int16, int32 or int64 lists.

    Args:
        lists: U×N item ids, C-contiguous (``-1`` entries are not items).
        a: length-P first users.
        b: length-P second users.
        bound: one more than the largest item id.

    Returns:
        length-P floats; NaN where both lists hold no item.
    """
    a, b = user_ids(a), user_ids(b)
    out = np.empty(a.size)
    kernel = _pick(_list_jaccard_par, _list_jaccard_ser, a.size * lists.shape[1] * 4)
    kernel(lists, a, b, max(1, bound), out)
    return out


@numba.njit(cache=True)
def _label_lists(flat, n, bound, label, masks, counts, padded):
    # Items numbered in order of first appearance (label[x + 1]; label[0] is the padding's,
    # label[bound + 1] that of anything out of range); while there are at most 64, each
    # list's mask of numbers is kept in a register.
    one = np.uint64(1)
    top = np.uint64(bound + 1)
    distinct = 0
    for u in range(counts.size):
        row = u * n
        m = np.uint64(0)
        pad = False
        for t in range(n):
            j = np.uint64(flat[row + t] + 1)
            j = j if j < top else top
            pad |= j == 0
            number = label[j]
            if number < 0 and j != 0:  # first appearance (a predictable branch)
                number = distinct
                label[j] = number
                distinct += 1
            inside = (number >= 0) & (number < 64)
            m |= (one << np.uint64(number & 63)) if inside else np.uint64(0)
        masks[u, 0] = m
        counts[u] = _popcount(m)
        padded[u] = pad
    return distinct


def label_lists(
    shown: np.ndarray, bound: int
) -> tuple[np.ndarray, int, np.ndarray, tuple[np.ndarray, np.ndarray] | None] | None:
    """Number the items of this step's lists; each list as a one-word mask when it can be.

    Args:
        shown: U×N item ids (``-1`` = padding).
        bound: one more than the largest possible item id.

    Returns:
        ``(label, distinct, padded, masks)``: per item id, its number in order of first
        appearance (``-1``: in no list), the number of items some list has, per user
        whether the list has padding, and ``(masks, counts)``: U×1 uint64 masks of the
        numbers and the number of distinct items of each list, when there are at most 64
        items (else None); None when an entry is below ``-1`` or not below ``bound``.
    """
    num_users, n = shown.shape
    label = np.full(bound + 2, -1, dtype=np.int32)
    masks = np.empty((num_users, 1), dtype=np.uint64)
    counts = np.empty(num_users, dtype=np.int32)
    padded = np.empty(num_users, dtype=np.bool_)
    distinct = _label_lists(_flat_ids(shown), n, bound, label, masks, counts, padded)
    if label[bound + 1] >= 0:
        return None
    one_word = (masks, counts) if distinct <= 64 else None
    return label[1 : bound + 1], int(distinct), padded, one_word


@numba.njit(cache=True)
def _mask_ranges(masks, padded, rows, item_of, item_max, item_min, out, keep):
    # Lists with the same items have the same range: it is kept per mask (in a table of
    # 4096 slots, filled to half at most), so a step where everyone is shown the same few
    # items computes a handful of ranges.
    size = 4096
    keys = np.zeros(size, dtype=np.uint64)
    values = np.empty(size)
    used = np.zeros(size, dtype=np.bool_)
    filled = 0
    n_kept = 0
    one = np.uint64(1)
    for r in range(rows.size):
        u = rows[r]
        if padded[u]:
            keep[r] = False
            continue
        keep[r] = True
        m = masks[u, 0]
        slot = np.int64((m * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(52))
        found = False
        value = 0.0
        while used[slot]:
            if keys[slot] == m:
                value = values[slot]
                found = True
                break
            slot = (slot + 1) & (size - 1)
        if not found:
            hi = -np.inf
            lo = np.inf
            w = m
            while w:
                item = item_of[_trailing_zeros(w)]
                hi = max(hi, item_max[item])
                lo = min(lo, item_min[item])
                w &= w - one
            value = hi - lo
            if filled < size // 2:
                used[slot] = True
                keys[slot] = m
                values[slot] = value
                filled += 1
        out[n_kept] = value
        n_kept += 1
    return n_kept


def mask_ranges(
    masks: np.ndarray,
    padded: np.ndarray,
    rows: np.ndarray,
    item_of: np.ndarray,
    item_max: np.ndarray,
    item_min: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`list_ranges` from one-word masks of the lists (see :func:`label_lists`).

    The same ranges when no item value is NaN (max and min of a set do not depend on the
    order the list has its items in).

    Args:
        masks: U×1 uint64 masks of the items' numbers.
        padded: per user, whether the list has padding.
        rows: the users to compute.
        item_of: per number, the item id.
        item_max: per item, its largest value.
        item_min: per item, its smallest value.

    Returns:
        ``(ranges, keep)`` as :func:`list_ranges`.
    """
    rows = user_ids(rows)
    keep = np.empty(rows.size, dtype=np.bool_)
    out = np.empty(rows.size)
    n_kept = _mask_ranges(
        masks,
        padded,
        rows,
        np.ascontiguousarray(item_of, dtype=np.int64),
        np.ascontiguousarray(item_max, dtype=np.float64),
        np.ascontiguousarray(item_min, dtype=np.float64),
        out,
        keep,
    )
    return out[:n_kept], keep


def _flat_ids(ids: np.ndarray) -> np.ndarray:
    """``ids`` as a flat contiguous int16, int32 or int64 array (a view where possible)."""
    ids = np.ascontiguousarray(ids)
    if ids.dtype not in (np.int16, np.int32, np.int64):
        ids = ids.astype(np.int64)
    return ids.reshape(-1)


@numba.njit(cache=True)
def _list_masks(flat, n, word_of, bit_of, masks, counts):
    words = masks.shape[1]
    for u in range(counts.size):
        row = u * n
        if words == 1:  # one word: kept in a register
            m = np.uint64(0)
            for t in range(n):
                j = flat[row + t] + 1
                if j < 0:  # never (ids are >= -1): keeps LLVM from vector gathers, slower here
                    break
                m |= bit_of[j]
            masks[u, 0] = m
            counts[u] = _popcount(m)
            continue
        for w in range(words):
            masks[u, w] = 0
        for t in range(n):
            j = flat[row + t] + 1
            masks[u, word_of[j]] |= bit_of[j]
        c = 0
        for w in range(words):
            c += _popcount(masks[u, w])
        counts[u] = c


def list_masks(lists: np.ndarray, label: np.ndarray, words: int) -> tuple[np.ndarray, np.ndarray]:
    """Each list as a bitmask over the items shown, numbered ``label[i]`` from 0.

    Args:
        lists: U×N item ids (``-1`` = padding; every other id below ``len(label)``).
        label: per item id, its number among the items shown (below 64·``words``; any
            value for items no list has).
        words: 64-bit words per mask.

    Returns:
        ``(masks, counts)``: U×``words`` uint64 masks and the number of distinct items of
        each list.
    """
    num_users, n = lists.shape
    label = np.clip(np.asarray(label, dtype=np.int64), 0, 64 * max(1, words) - 1)
    # per entry x + 1: its word and its bit (none for the padding)
    word_of = np.zeros(label.size + 1, dtype=np.int64)
    word_of[1:] = label >> 6
    bit_of = np.zeros(label.size + 1, dtype=np.uint64)
    bit_of[1:] = np.left_shift(np.uint64(1), (label & 63).astype(np.uint64))
    masks = np.empty((num_users, max(1, words)), dtype=np.uint64)
    counts = np.empty(num_users, dtype=np.int32)
    _list_masks(_flat_ids(lists), n, word_of, bit_of, masks, counts)
    return masks, counts


def _mask_jaccard_py(masks, counts, a, b, out):
    for p in numba.prange(a.size):
        u = a[p]
        v = b[p]
        c = 0
        for w in range(masks.shape[1]):
            c += _popcount(masks[u, w] & masks[v, w])
        union = counts[u] + counts[v] - c
        out[p] = c / union if union > 0 else np.nan


_mask_jaccard_par, _mask_jaccard_ser = parallel_and_serial(_mask_jaccard_py)


def mask_jaccard(masks: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`list_jaccard` of the pairs ``(a[p], b[p])`` from the lists' bitmasks.

    Args:
        masks: U×W uint64 masks (see :func:`list_masks`).
        counts: per user, the number of distinct items of the list.
        a: length-P first users.
        b: length-P second users.

    Returns:
        length-P floats; NaN where both lists hold no item.
    """
    a, b = user_ids(a), user_ids(b)
    out = np.empty(a.size)
    _pick(_mask_jaccard_par, _mask_jaccard_ser, a.size * masks.shape[1] * 4)(
        masks, counts, a, b, out
    )
    return out


@numba.njit(cache=True)
def _list_ranges(item_max, item_min, shown, rows, keep, out):
    # every slot read (a -1 reads item 0 and drops the row), no branch per item
    num_items = item_max.size
    n_kept = 0
    ok = True
    for r in range(rows.size):
        u = rows[r]
        hi = -np.inf
        lo = np.inf
        pad = False
        for t in range(shown.shape[1]):
            x = shown[u, t]
            pad |= x < 0
            ok &= x < num_items
            x = min(max(x, 0), num_items - 1)
            hi = max(hi, item_max[x])
            lo = min(lo, item_min[x])
        keep[r] = not pad
        out[n_kept] = hi - lo
        n_kept += not pad
    return n_kept, ok


def list_ranges(
    item_max: np.ndarray, item_min: np.ndarray, shown: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Range of item values over each listed user's list: max of ``item_max`` − min of ``item_min``.

    Args:
        item_max: per item, its largest value (length I).
        item_min: per item, its smallest value (length I).
        shown: U×N item ids (int16, int32 or int64).
        rows: the users to compute (rows of ``shown``).

    Returns:
        ``(ranges, keep)``: the ranges of the users whose lists have no ``-1`` entry, in
        ``rows`` order, and the boolean mask over ``rows`` of those users.

    Raises:
        IndexError: when a listed item id is not below I.
    """
    shown = np.ascontiguousarray(shown)
    if shown.dtype not in (np.int16, np.int32, np.int64):
        shown = shown.astype(np.int64)
    rows = user_ids(rows)
    keep = np.empty(rows.size, dtype=np.bool_)
    ranges = np.empty(rows.size)
    if item_max.size == 0:  # no items: every slot must be padding
        _check_ids(shown[rows], 0, "item")
        keep[:] = shown.shape[1] == 0
        return np.full(int(keep.sum()), -np.inf), keep
    n_kept, ok = _list_ranges(
        np.ascontiguousarray(item_max, dtype=np.float64),
        np.ascontiguousarray(item_min, dtype=np.float64),
        shown,
        rows,
        keep,
        ranges,
    )
    if not ok:
        _check_ids(shown[rows], item_max.size, "item")
    return ranges[:n_kept], keep


# --- ranks ------------------------------------------------------------------------------------
#
# The loops below are written out in each kernel body: a helper that takes arrays costs
# reference-count updates on every call, which at one call per user is a large share of
# the work. Scores of a user's few listed items are accumulated side by side (attribute
# outer, item inner), each still summed in attribute order.


def _chosen_in_top_k_py(scores, lists, chosen, k, hits):
    n = lists.shape[1]
    for r in numba.prange(lists.shape[0]):
        pos = -1
        for t in range(n - 1, -1, -1):  # the first slot holding the chosen item
            if lists[r, t] == chosen[r]:
                pos = t
        if pos < 0:
            hits[r] = False
            continue
        s = scores[r, pos]
        s = s if s == s else -np.inf  # NaN ranks last
        rank = 0
        for t in range(n):
            x = scores[r, t]
            x = x if x == x else -np.inf
            rank += (x > s) | ((x == s) & (t < pos))
        hits[r] = rank < k


_chosen_in_top_k_par, _chosen_in_top_k_ser = parallel_and_serial(_chosen_in_top_k_py)


def chosen_in_top_k(
    scores: np.ndarray, lists: np.ndarray, chosen: np.ndarray, k: int
) -> np.ndarray:
    """Whether each user's chosen item is among the k best-scored of their list.

    The chosen item's rank is the number of listed items scored higher plus those scored
    the same in earlier slots (its first slot: a repeat has the same score and comes later).
    NaN scores rank last.

    Args:
        scores: b×n scores of the listed items.
        lists: b×n item ids.
        chosen: length-b chosen items (a user whose item is not listed has no hit).
        k: rank cut-off; ties keep the earlier slot.

    Returns:
        length-b booleans.
    """
    hits = np.empty(lists.shape[0], dtype=np.bool_)
    _pick(_chosen_in_top_k_par, _chosen_in_top_k_ser, lists.size)(
        np.ascontiguousarray(scores, dtype=np.float64),
        np.ascontiguousarray(lists, dtype=np.int64),
        np.ascontiguousarray(chosen, dtype=np.int64),
        k,
        hits,
    )
    return hits


def _chosen_in_top_k_factors_py(users, items_t, shown, inter, rows, k, hits):
    n = shown.shape[1]
    num_rows = rows.size
    nchunks = max(1, min(num_rows, 64))
    for c in numba.prange(nchunks):
        lo = (num_rows * c) // nchunks
        hi = (num_rows * (c + 1)) // nchunks
        scores = np.empty(n)
        for r in range(lo, hi):
            u = rows[r]
            chosen = inter[u]
            pos = -1
            padded = False
            for t in range(n - 1, -1, -1):
                item = shown[u, t]
                padded |= item < 0
                if item == chosen:
                    pos = t
            if chosen < 0 or padded:
                hits[r] = -1
                continue
            if pos < 0:
                hits[r] = 0
                continue
            dot_listed(users, u, items_t, shown[u], n, scores)
            s = scores[pos]
            s = s if s == s else -np.inf
            rank = 0
            for t in range(n):
                x = scores[t]
                x = x if x == x else -np.inf
                rank += (x > s) | ((x == s) & (t < pos))
            hits[r] = 1 if rank < k else 0


_chosen_factors_par, _chosen_factors_ser = parallel_and_serial(_chosen_in_top_k_factors_py)


def chosen_in_top_k_factors(
    users: np.ndarray,
    items_t: np.ndarray,
    shown: np.ndarray,
    interactions: np.ndarray,
    rows: np.ndarray,
    k: int,
) -> np.ndarray:
    """Per user of ``rows``: 1 when the chosen item is in the top k of the list, 0 when not.

    Scores are ``users[u] · items_t[i]`` (the inner-product scores), computed only for the
    listed items; ranks as in :func:`chosen_in_top_k`. ``-1`` marks a user who did not
    interact or whose list has padding (``-1`` entries).

    Args:
        users: U×A user factors (normalised as the score function does).
        items_t: I×A item factors, item-major.
        shown: U×n item ids.
        interactions: length-U chosen items (``-1`` = none).
        rows: the users to look at.
        k: rank cut-off; ties keep the earlier slot.

    Returns:
        int8 per user of ``rows``: 1 hit, 0 miss, -1 not counted.
    """
    _check_ids(shown, items_t.shape[0], "item")
    hits = np.empty(rows.size, dtype=np.int8)
    work = rows.size * shown.shape[1] * max(1, users.shape[1])
    _pick(_chosen_factors_par, _chosen_factors_ser, work)(
        np.ascontiguousarray(users, dtype=np.float64),
        np.ascontiguousarray(items_t, dtype=np.float64),
        np.ascontiguousarray(shown, dtype=np.int64),
        np.ascontiguousarray(interactions, dtype=np.int64),
        np.ascontiguousarray(rows, dtype=np.int64),
        k,
        hits,
    )
    return hits


# --- NDCG@k and recall@k ---------------------------------------------------------------------


def _ndcg_recall_gains_py(gains, ranked, ideal, idcg, discount, ndcg, recall):
    k = discount.size
    for r in numba.prange(ranked.shape[0]):
        dcg = 0.0
        for t in range(k):
            dcg += gains[r, t] * discount[t]
        ndcg[r] = dcg / idcg[r] if idcg[r] > 0 else np.nan
        hits = 0
        for t in range(ranked.shape[1]):  # the ideal list has no repeats
            for j in range(ideal.shape[1]):
                hits += ranked[r, t] == ideal[r, j]
        recall[r] = hits / k


def _ndcg_recall_factors_py(
    users, items_t, rows, ranked, ideal, idcg, lowest, discount, ndcg, recall, listed
):
    k = discount.size
    num_rows = rows.size
    nchunks = max(1, min(num_rows, 64))
    for c in numba.prange(nchunks):
        lo = (num_rows * c) // nchunks
        hi = (num_rows * (c + 1)) // nchunks
        # the user's ideal items marked in a catalogue-long array (set, read, cleared: 3k
        # steps instead of k² comparisons)
        marked = np.zeros(items_t.shape[0], dtype=np.bool_)
        for r in range(lo, hi):
            u = rows[r]
            scores = listed[r]
            dot_listed(users, u, items_t, ranked[r], k, scores)
            dcg = 0.0
            for t in range(k):
                dcg += (scores[t] - lowest[r]) * discount[t]
            ndcg[r] = dcg / idcg[r] if idcg[r] > 0 else np.nan
            for j in range(k):
                marked[ideal[r, j]] = True
            hits = 0
            for t in range(k):
                x = ranked[r, t]
                if x >= 0:
                    hits += marked[x]
            for j in range(k):
                marked[ideal[r, j]] = False
            recall[r] = hits / k


_gains_par, _gains_ser = parallel_and_serial(_ndcg_recall_gains_py)
_factors_par, _factors_ser = parallel_and_serial(_ndcg_recall_factors_py)


def ndcg_recall_gains(
    gains: np.ndarray,
    ranked: np.ndarray,
    ideal: np.ndarray,
    idcg: np.ndarray,
    discount: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-user NDCG and recall from the gains of the ranked items.

    Args:
        gains: b×k gains of the ranked items, best rank first.
        ranked: b×k ranked items.
        ideal: b×k truly best items (no repeats in a row).
        idcg: length-b DCG of the ideal ranking (NDCG is NaN where it is not positive).
        discount: length-k rank discounts.

    Returns:
        ``(ndcg, recall)``, length b each; recall counts each ranked entry found in the
        ideal list, over k.
    """
    b = ranked.shape[0]
    ndcg, recall = np.empty(b), np.empty(b)
    _pick(_gains_par, _gains_ser, ranked.size)(
        np.ascontiguousarray(gains, dtype=np.float64),
        np.ascontiguousarray(ranked, dtype=np.int64),
        np.ascontiguousarray(ideal, dtype=np.int64),
        np.ascontiguousarray(idcg, dtype=np.float64),
        np.ascontiguousarray(discount, dtype=np.float64),
        ndcg,
        recall,
    )
    return ndcg, recall


def ndcg_recall_factors(
    users: np.ndarray,
    items_t: np.ndarray,
    rows: np.ndarray,
    ranked: np.ndarray,
    ideal: np.ndarray,
    idcg: np.ndarray,
    lowest: np.ndarray,
    discount: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-user NDCG and recall when the true scores are inner products of factors.

    The gain of a ranked item is its true score ``users[u] · items_t[i]`` minus the user's
    lowest true score; only the b×k ranked scores are computed.

    Args:
        users: U×A true user factors (normalised as the score function does).
        items_t: I×A true item factors, item-major.
        rows: length-b users (rows of ``users``) of the ranked lists.
        ranked: b×k ranked items.
        ideal: b×k truly best items (no repeats in a row).
        idcg: length-b DCG of the ideal ranking.
        lowest: length-b lowest true score of each user.
        discount: length-k rank discounts.

    Returns:
        ``(ndcg, recall, scores)``: length b each, and the b×k true scores of the ranked
        items (as :func:`mesa_recsys._scores.listed_scores` gives them).
    """
    _check_ids(ranked, items_t.shape[0], "item")
    b = ranked.shape[0]
    ndcg, recall = np.empty(b), np.empty(b)
    listed = np.empty((b, discount.size))
    work = ranked.size * max(1, users.shape[1])
    _pick(_factors_par, _factors_ser, work)(
        np.ascontiguousarray(users, dtype=np.float64),
        np.ascontiguousarray(items_t, dtype=np.float64),
        np.ascontiguousarray(rows, dtype=np.int64),
        np.ascontiguousarray(ranked, dtype=np.int64),
        np.ascontiguousarray(ideal, dtype=np.int64),
        np.ascontiguousarray(idcg, dtype=np.float64),
        np.ascontiguousarray(lowest, dtype=np.float64),
        np.ascontiguousarray(discount, dtype=np.float64),
        ndcg,
        recall,
        listed,
    )
    return ndcg, recall, listed


# --- most similar users ----------------------------------------------------------------------


@numba.njit(inline="always")
def tied_low_own(ids, n, g, first, sentinel):
    """Lowest first member of the other tied groups, and whether g ties with itself.

    Of the n groups ``ids[:n]`` tied for group g: the lowest ``first`` member among those
    other than g (``sentinel`` if none), and whether g is among them.
    """
    low = sentinel
    own = False
    for t in range(n):
        j = ids[t]
        if j == g:
            own = True
        elif first[j] < low:
            low = first[j]
    return low, own


def _scan_ties_py(sims, rows, first, tol, sentinel, tied, counts, low_other, self_tied):
    # One pass per row: the running best and the columns within tolerance of it. A column
    # is kept when it is within tolerance of the best so far; when the best rises, kept
    # columns that fell out of tolerance are dropped (the threshold only rises, so a
    # dropped column can not tie with the final best). A row whose kept columns overflow
    # the buffer is scanned again against its final threshold.
    num_cols = sims.shape[1]
    cap = tied.shape[1]
    for r in numba.prange(rows.size):
        g = rows[r]
        best = -np.inf
        threshold = -np.inf
        n = 0
        overflow = False
        nan = False
        for j in range(num_cols):
            x = sims[r, j]
            if not x < threshold:  # x >= threshold or NaN: rare, a predictable branch
                if x != x:
                    nan = True
                    continue
                if x > best:
                    best = x
                    threshold = best - tol * max(1.0, abs(best))
                    kept = 0
                    for t in range(min(n, cap)):
                        if sims[r, tied[r, t]] >= threshold:
                            tied[r, kept] = tied[r, t]
                            kept += 1
                    n = kept
                if n < cap:
                    tied[r, n] = j
                else:
                    overflow = True
                n += 1
        if nan:  # numpy's maximum is NaN: the row ties with nothing
            n = 0
        elif overflow:
            n = 0
            for j in range(num_cols):
                if sims[r, j] >= threshold:
                    if n < cap:
                        tied[r, n] = j
                    n += 1
        low = sentinel
        own = False
        if n > cap:
            for j in range(num_cols):
                if sims[r, j] >= threshold:
                    if j == g:
                        own = True
                    elif first[j] < low:
                        low = first[j]
        else:
            low, own = tied_low_own(tied[r], n, g, first, sentinel)
        counts[r] = n
        low_other[r] = low
        self_tied[r] = own


_scan_ties_par, _scan_ties_ser = parallel_and_serial(_scan_ties_py)


def scan_ties(
    sims: np.ndarray,
    rows: np.ndarray,
    alone: np.ndarray,
    first: np.ndarray,
    tol: float,
    sentinel: int,
    cap: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's tied best columns of a block of similarities, in one pass over the block.

    Column j ties for row r when ``sims[r, j] >= best - tol * max(1, |best|)``, ``best``
    being the row's largest similarity; the row's own column ``rows[r]`` is left out when
    ``alone[rows[r]]`` (a group of one has no other member). A row holding a NaN ties with
    nothing (its maximum is NaN, as numpy's).

    Args:
        sims: b×G similarities of b groups with all G groups; overwritten (the left-out
            own columns are set to -inf).
        rows: length-b group of each row.
        alone: per group, whether it has a single member.
        first: per group, its lowest member.
        tol: relative tie tolerance.
        sentinel: value of ``low_other`` when no other group ties.
        cap: how many tied columns to keep per row.

    Returns:
        ``(tied, counts, low_other, self_tied)``: b×cap tied columns (the first
        min(count, cap) of each row are valid, ascending), the number of tied columns, the
        lowest first member of the tied groups other than the row's own, and whether the
        row's own group ties.
    """
    b = rows.size
    lone = np.flatnonzero(alone[rows])
    sims[lone, rows[lone]] = -np.inf
    tied = np.empty((b, max(1, cap)), dtype=np.int64)
    counts = np.empty(b, dtype=np.int64)
    low_other = np.empty(b, dtype=np.int64)
    self_tied = np.empty(b, dtype=np.bool_)
    _pick(_scan_ties_par, _scan_ties_ser, sims.size)(
        sims,
        np.ascontiguousarray(rows, dtype=np.int64),
        np.ascontiguousarray(first, dtype=np.int64),
        float(tol),
        int(sentinel),
        tied,
        counts,
        low_other,
        self_tied,
    )
    return tied, counts, low_other, self_tied


@numba.njit(cache=True)
def _draw_partners(
    users, group, row_groups, indptr, cum, tied, sizes, start, members, position, u1, u2, out
):
    # the row listing each group's ties (row_groups is sorted)
    row_of = np.empty(sizes.size, dtype=np.int64)
    for j in range(row_groups.size):
        row_of[row_groups[j]] = j
    for p in range(users.size):
        user = users[p]
        g = group[user]
        row = row_of[g]
        first = indptr[row]
        last = indptr[row + 1]
        lo = cum[first]
        target = lo + u1[p] * (cum[last] - lo)
        # searchsorted(cum, target, side="right") - 1, clipped to the row's entries: cum
        # does not decrease and cum[first] <= target, so the search can stay in the row
        a = first
        b = last + 1
        while a < b:
            mid = (a + b) // 2
            if cum[mid] <= target:
                a = mid + 1
            else:
                b = mid
        idx = min(max(a - 1, first), last - 1)
        h = tied[idx]
        same = h == g
        span = sizes[h] - same
        k = min(np.int64(u2[p] * span), span - 1)
        if same and k >= position[user]:
            k += 1
        out[p] = members[start[h] + k]


def draw_partners(
    users: np.ndarray,
    group: np.ndarray,
    row_groups: np.ndarray,
    indptr: np.ndarray,
    cum: np.ndarray,
    tied: np.ndarray,
    sizes: np.ndarray,
    start: np.ndarray,
    members: np.ndarray,
    position: np.ndarray,
    u1: np.ndarray,
    u2: np.ndarray,
) -> np.ndarray:
    """Each user's partner: a tied group by cumulative weight ``cum``, then one of its members.

    The loop of :meth:`~mesa_recsys.metrics.neighbours.PartnerIndex.draw` over users, with
    the same arithmetic on the same uniforms ``u1`` (group) and ``u2`` (member), so the
    partners are the same as its whole-array version's.

    Args:
        users: the users to pair.
        group: every user's group.
        row_groups: sorted groups whose ties are listed (row j of ``indptr``/``tied``).
        indptr: row pointers into ``tied``.
        cum: cumulative candidate counts of the entries of ``tied`` (leading 0).
        tied: tied groups, row by row.
        sizes: members per group.
        start: first position of each group in ``members``.
        members: users ordered by group.
        position: each user's position within its group.
        u1: one uniform in [0, 1) per user, for the group.
        u2: one uniform in [0, 1) per user, for the member.

    Returns:
        one partner per user.
    """
    out = np.empty(users.size, dtype=np.int64)
    _draw_partners(
        users, group, row_groups, indptr, cum, tied, sizes, start, members, position, u1, u2, out
    )
    return out


@numba.njit(cache=True)
def _mark_items(items, marked):
    count = 0
    for t in range(items.size):
        x = items[t]
        if x >= 0 and not marked[x]:
            marked[x] = True
            count += 1
    return count


def mark_items(items: np.ndarray, marked: np.ndarray) -> int:
    """Set ``marked[i]`` for every item id i ≥ 0 in ``items``; return how many were new.

    Args:
        items: item ids, any shape (``-1`` = no item).
        marked: per item, whether it is already marked (updated in place).

    Returns:
        the number of items marked by this call.
    """
    items = np.ascontiguousarray(items, dtype=np.int64).ravel()
    _check_ids(items, marked.size, "item")
    return int(_mark_items(items, marked))
