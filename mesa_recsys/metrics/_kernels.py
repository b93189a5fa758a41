"""Compiled loops of the metrics: item sets, Jaccard indices, list statistics, rank counts.

Each kernel does in one pass over small per-user rows what the numpy version did with
several whole-array temporaries (sparse fancy indexing, a sort per row, a users × items
mask). The results are the same numbers: counts are exact, and scores are dot products
summed in attribute order, so equal scores stay equal.

Sets of items are kept as sorted CSR rows (``indptr``, int32 ``indices``): each user's
cumulative set of interacted items.
"""

from __future__ import annotations

import numba
import numpy as np

from mesa_recsys._jit import parallel_and_serial

__all__ = [
    "add_to_sets",
    "chosen_in_top_k",
    "chosen_in_top_k_factors",
    "draw_partners",
    "grow_intersections",
    "list_jaccard",
    "list_ranges",
    "mark_items",
    "ndcg_recall_factors",
    "ndcg_recall_gains",
    "scan_ties",
    "set_jaccard",
]

#: Below this much work (about one unit per score or set entry touched) a kernel runs on one
#: thread. The per-user loops of one measurement take a few milliseconds at 10,000 users;
#: on a small shared machine, waking a thread pool for them costs more than it saves.
SERIAL_WORK = 1 << 22


def _pick(parallel_fn, serial_fn, work: int):
    return parallel_fn if work > SERIAL_WORK else serial_fn


def _check_ids(ids: np.ndarray, bound: int, what: str) -> None:
    """IndexError unless every id is below ``bound`` (compiled loops do not check)."""
    if ids.size and int(ids.max()) >= bound:
        raise IndexError(f"{what} {int(ids.max())} is out of bounds for size {bound}")


# --- cumulative sets -------------------------------------------------------------------------


#: Rows up to this long are searched by a branch-free scan rather than by bisection.
SHORT_ROW = 32


@numba.njit(cache=True)
def _add_to_sets(indptr, indices, items):
    # One pass: each row is copied into a buffer with room for one more item per row,
    # the new item inserted in order.
    n_old = indptr.size - 1
    n = max(n_old, items.size)
    new_ptr = np.empty(n + 1, dtype=np.int64)
    new_idx = np.empty(indices.size + n, dtype=np.int32)
    added = np.empty(n, dtype=np.int64)
    out = 0
    new_ptr[0] = 0
    for u in range(n):
        lo = indptr[u] if u < n_old else 0
        hi = indptr[u + 1] if u < n_old else 0
        item = items[u] if u < items.size else -1
        at = -1
        if item >= 0:
            # the first entry >= item: counted branch-free in a short row, else bisected
            if hi - lo <= SHORT_ROW:
                a = lo
                for t in range(lo, hi):
                    a += indices[t] < item
            else:
                a, b = lo, hi
                while a < b:
                    mid = (a + b) // 2
                    if indices[mid] < item:
                        a = mid + 1
                    else:
                        b = mid
            if a == hi or indices[a] != item:
                at = a
        if at < 0:
            for t in range(lo, hi):
                new_idx[out + t - lo] = indices[t]
            out += hi - lo
            added[u] = -1
        else:
            for t in range(lo, at):
                new_idx[out + t - lo] = indices[t]
            new_idx[out + at - lo] = item
            for t in range(at, hi):
                new_idx[out + t - lo + 1] = indices[t]
            out += hi - lo + 1
            added[u] = item
        new_ptr[u + 1] = out
    return new_ptr, new_idx[:out], added


def add_to_sets(
    indptr: np.ndarray, indices: np.ndarray, items: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted CSR item sets with ``items[u]`` added to row u.

    Args:
        indptr: length R+1 row pointers of the current sets (R may be 0).
        indices: int32 item ids, sorted within each row, no repeats.
        items: one item per user (``-1`` = none); rows beyond R are new, empty sets.

    Returns:
        the new ``(indptr, indices)`` with max(R, len(items)) rows, and per row the item
        that was new to it (``-1`` where none was: no item, or one already in the set).
    """
    return _add_to_sets(
        np.asarray(indptr, dtype=np.int64),
        np.asarray(indices, dtype=np.int32),
        np.asarray(items, dtype=np.int64),
    )


def _set_jaccard_py(indptr, indices, a, b, num_items, out):
    # Marks the first set's items in a catalogue-sized array of bytes, counts the second
    # set's marked items, clears the marks: branch-free, unlike a merge of the two rows.
    num_rows = indptr.size - 1
    num_pairs = a.size
    nchunks = max(1, min(num_pairs, 64))
    for c in numba.prange(nchunks):
        lo = (num_pairs * c) // nchunks
        hi = (num_pairs * (c + 1)) // nchunks
        mark = np.zeros(num_items, dtype=np.uint8)
        for p in range(lo, hi):
            u = a[p]
            v = b[p]
            i = indptr[u] if u < num_rows else 0
            i_end = indptr[u + 1] if u < num_rows else 0
            j = indptr[v] if v < num_rows else 0
            j_end = indptr[v + 1] if v < num_rows else 0
            for t in range(i, i_end):
                mark[indices[t]] = 1
            common = 0
            for t in range(j, j_end):
                common += mark[indices[t]]
            for t in range(i, i_end):
                mark[indices[t]] = 0
            union = (i_end - i) + (j_end - j) - common
            out[p] = common / union if union > 0 else np.nan


_set_jaccard_par, _set_jaccard_ser = parallel_and_serial(_set_jaccard_py)


def set_jaccard(indptr: np.ndarray, indices: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Jaccard index |S_a ∩ S_b| / |S_a ∪ S_b| of each pair of sorted CSR rows.

    Args:
        indptr: row pointers of the sets (rows past the end are empty sets).
        indices: item ids, sorted within each row, no repeats.
        pairs: P×2 row indices.

    Returns:
        length-P floats; NaN where both sets are empty.
    """
    a = np.ascontiguousarray(pairs[:, 0], dtype=np.int64)
    b = np.ascontiguousarray(pairs[:, 1], dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int32)
    num_items = int(indices.max(initial=0)) + 1
    out = np.empty(a.size)
    _pick(_set_jaccard_par, _set_jaccard_ser, indices.size + a.size * 8)(
        np.asarray(indptr, dtype=np.int64), indices, a, b, num_items, out
    )
    return out


def _grow_intersections_py(indptr, indices, added, a, b, common, out):
    num_rows = indptr.size - 1
    for p in numba.prange(a.size):
        u = a[p]
        v = b[p]
        x = added[u] if u < added.size else -1
        y = added[v] if v < added.size else -1
        grow = 0
        for item, row in ((x, v), (y, u)):  # is x in S_v, is y in S_u
            if item < 0 or row >= num_rows:
                continue
            lo = indptr[row]
            hi = indptr[row + 1]
            if hi - lo <= SHORT_ROW:
                found = False
                for t in range(lo, hi):
                    found |= indices[t] == item
                grow += found
            else:
                end = hi
                while lo < hi:
                    mid = (lo + hi) // 2
                    if indices[mid] < item:
                        lo = mid + 1
                    else:
                        hi = mid
                grow += lo < end and indices[lo] == item
        if x >= 0 and x == y:  # one new item shared by both, counted twice above
            grow -= 1
        common[p] += grow
        size = 0
        if u < num_rows:
            size += indptr[u + 1] - indptr[u]
        if v < num_rows:
            size += indptr[v + 1] - indptr[v]
        union = size - common[p]
        out[p] = common[p] / union if union > 0 else np.nan


_grow_intersections_par, _grow_intersections_ser = parallel_and_serial(_grow_intersections_py)


def grow_intersections(
    indptr: np.ndarray,
    indices: np.ndarray,
    added: np.ndarray,
    pairs: np.ndarray,
    common: np.ndarray,
) -> np.ndarray:
    """Update the pairs' intersection sizes after a step added ``added`` to the sets; Jaccard.

    A step adds at most one item x_u to each set, so |S_a ∩ S_b| grows by [x_a ∈ S_b] +
    [x_b ∈ S_a] (in the updated sets), less one when x_a = x_b was new to both: one
    membership test per pair instead of a merge of the two sets.

    Args:
        indptr: row pointers of the updated sets.
        indices: sorted item ids of the updated sets.
        added: per row, the item this step added to it (``-1`` = none), as returned by
            :func:`add_to_sets`.
        pairs: P×2 row indices.
        common: length-P intersection sizes before the step, updated in place.

    Returns:
        length-P Jaccard indices (NaN where both sets are empty).
    """
    a = np.ascontiguousarray(pairs[:, 0], dtype=np.int64)
    b = np.ascontiguousarray(pairs[:, 1], dtype=np.int64)
    out = np.empty(a.size)
    _pick(_grow_intersections_par, _grow_intersections_ser, a.size * 8)(
        np.asarray(indptr, dtype=np.int64),
        np.asarray(indices, dtype=np.int32),
        np.asarray(added, dtype=np.int64),
        a,
        b,
        common,
        out,
    )
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
    shown = np.ascontiguousarray(shown, dtype=np.int64)
    a = np.ascontiguousarray(pairs[:, 0], dtype=np.int64)
    b = np.ascontiguousarray(pairs[:, 1], dtype=np.int64)
    num_items = int(shown.max(initial=0)) + 1
    out = np.empty(a.size)
    kernel = _pick(_list_jaccard_par, _list_jaccard_ser, a.size * shown.shape[1] * 4)
    kernel(shown, a, b, num_items, out)
    return out


@numba.njit(cache=True)
def _list_ranges(item_max, item_min, shown, rows, keep):
    n_kept = 0
    out = np.empty(rows.size)
    for r in range(rows.size):
        row = shown[rows[r]]
        ok = True
        for t in range(row.size):
            if row[t] < 0:
                ok = False
                break
        keep[r] = ok
        if not ok:
            continue
        hi = -np.inf
        lo = np.inf
        for t in range(row.size):
            hi = max(hi, item_max[row[t]])
            lo = min(lo, item_min[row[t]])
        out[n_kept] = hi - lo
        n_kept += 1
    return out[:n_kept]


def list_ranges(
    item_max: np.ndarray, item_min: np.ndarray, shown: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Range of item values over each listed user's list: max of ``item_max`` − min of ``item_min``.

    Args:
        item_max: per item, its largest value (length I).
        item_min: per item, its smallest value (length I).
        shown: U×N item ids.
        rows: the users to compute (rows of ``shown``).

    Returns:
        ``(ranges, keep)``: the ranges of the users whose lists have no ``-1`` entry, in
        ``rows`` order, and the boolean mask over ``rows`` of those users.
    """
    _check_ids(shown, item_max.size, "item")
    keep = np.empty(rows.size, dtype=np.bool_)
    ranges = _list_ranges(
        np.ascontiguousarray(item_max, dtype=np.float64),
        np.ascontiguousarray(item_min, dtype=np.float64),
        np.ascontiguousarray(shown, dtype=np.int64),
        np.ascontiguousarray(rows, dtype=np.int64),
        keep,
    )
    return ranges, keep


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


@numba.njit(inline="always")
def _listed_scores(users, u, items_t, ids, n, scores):
    """``scores[t] = users[u] · items_t[ids[t]]`` for t < n, four items at a time.

    Four independent sums, each in attribute order (the same values as one at a time).
    """
    num_attrs = users.shape[1]
    t = 0
    while t < n:
        i0 = ids[t]
        i1 = ids[min(t + 1, n - 1)]
        i2 = ids[min(t + 2, n - 1)]
        i3 = ids[min(t + 3, n - 1)]
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        for a in range(num_attrs):
            w = users[u, a]
            s0 += w * items_t[i0, a]
            s1 += w * items_t[i1, a]
            s2 += w * items_t[i2, a]
            s3 += w * items_t[i3, a]
        scores[t] = s0
        if t + 1 < n:
            scores[t + 1] = s1
        if t + 2 < n:
            scores[t + 2] = s2
        if t + 3 < n:
            scores[t + 3] = s3
        t += 4


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
            _listed_scores(users, u, items_t, shown[u], n, scores)
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
    users, items_t, rows, ranked, ideal, idcg, lowest, discount, ndcg, recall
):
    k = discount.size
    num_rows = rows.size
    nchunks = max(1, min(num_rows, 64))
    for c in numba.prange(nchunks):
        lo = (num_rows * c) // nchunks
        hi = (num_rows * (c + 1)) // nchunks
        scores = np.empty(k)
        for r in range(lo, hi):
            u = rows[r]
            _listed_scores(users, u, items_t, ranked[r], k, scores)
            dcg = 0.0
            for t in range(k):
                dcg += (scores[t] - lowest[r]) * discount[t]
            ndcg[r] = dcg / idcg[r] if idcg[r] > 0 else np.nan
            hits = 0
            for t in range(k):
                for j in range(k):
                    hits += ranked[r, t] == ideal[r, j]
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
) -> tuple[np.ndarray, np.ndarray]:
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
        ``(ndcg, recall)``, length b each.
    """
    _check_ids(ranked, items_t.shape[0], "item")
    b = ranked.shape[0]
    ndcg, recall = np.empty(b), np.empty(b)
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
    )
    return ndcg, recall


# --- most similar users ----------------------------------------------------------------------


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
            for t in range(n):
                j = tied[r, t]
                if j == g:
                    own = True
                elif first[j] < low:
                    low = first[j]
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
    for p in range(users.size):
        user = users[p]
        g = group[user]
        row = np.searchsorted(row_groups, g)
        first = indptr[row]
        last = indptr[row + 1]
        lo = cum[first]
        target = lo + u1[p] * (cum[last] - lo)
        # searchsorted(cum, target, side="right") - 1, clipped to the row's entries
        a = 0
        b = cum.size
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
