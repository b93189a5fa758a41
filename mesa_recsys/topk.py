"""The recommendation kernels: chunked scoring fused with a compiled top-k.

Choosing the k best of I items for each of U users is the hot path of every
recommender. A full ``argpartition`` over U×I scores costs about 8 s at 100,000 ×
10,000 on a 2-core machine and needs the whole score matrix in memory. Here scores are
produced a block of users at a time (``score_block(rows)``), and a numba kernel keeps a
k-element heap per user, so memory is one block and the work is one pass over the block.

Ties are broken at random, as T-RECS does, but without drawing U×I random numbers: the
tie-break key of (user, item) is a counter-based hash of the step's seed, computed only
where two scores actually tie. The same seed gives the same recommendations, and every
tie is broken uniformly at random.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from mesa_recsys._jit import parallel_and_serial

__all__ = [
    "CandidateRanking",
    "KeptLists",
    "exclusion_csr",
    "random_k_items",
    "top_k_factors",
    "top_k_items",
    "top_k_shared",
]

#: Largest number of score cells computed at once (64 MiB of float64).
BLOCK_CELLS = 1 << 23
#: Up to this many factors, top-k from factors accumulates each user's scores in the
#: kernel (:func:`top_k_factors`); with more, a matrix product per block of users is faster.
FUSED_MAX_FACTORS = 32


@numba.njit(inline="always")
def _key(seed: np.uint64, user: np.int64, item: np.int64) -> np.uint64:
    """Splitmix64 finaliser of (seed, user, item): a reproducible uniform 64-bit key."""
    x = (
        seed
        ^ (np.uint64(user) * np.uint64(0x9E3779B97F4A7C15))
        ^ (np.uint64(item) * np.uint64(0xC2B2AE3D27D4EB4F))
    )
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@numba.njit(inline="always")
def _worse(s1: float, k1: np.uint64, s2: float, k2: np.uint64) -> bool:
    """Whether candidate 1 ranks below candidate 2 (lower score, or tie and larger key)."""
    return s1 < s2 or (s1 == s2 and k1 > k2)


@numba.njit(inline="always")
def _sift_down(hs, hk, hi, size, pos):
    """Restore the heap (worst candidate at the root) below ``pos``."""
    while True:
        left = 2 * pos + 1
        if left >= size:
            return
        child = left
        right = left + 1
        if right < size and _worse(hs[right], hk[right], hs[left], hk[left]):
            child = right
        if _worse(hs[child], hk[child], hs[pos], hk[pos]):
            hs[pos], hs[child] = hs[child], hs[pos]
            hk[pos], hk[child] = hk[child], hk[pos]
            hi[pos], hi[child] = hi[child], hi[pos]
            pos = child
        else:
            return


@numba.njit(inline="always")
def _sift_up(hs, hk, hi, pos):
    while pos > 0:
        parent = (pos - 1) // 2
        if _worse(hs[pos], hk[pos], hs[parent], hk[parent]):
            hs[pos], hs[parent] = hs[parent], hs[pos]
            hk[pos], hk[parent] = hk[parent], hk[pos]
            hi[pos], hi[parent] = hi[parent], hi[pos]
            pos = parent
        else:
            return


@numba.njit(inline="always")
def _offer(hs, hk, hi, size, k, s, seed, user, j):
    """Offer item j with score s to the heap; return the new heap size."""
    if s != s:  # NaN ranks last
        s = -np.inf
    if size < k:
        hs[size] = s
        hk[size] = _key(seed, user, j)
        hi[size] = j
        _sift_up(hs, hk, hi, size)
        return size + 1
    key = _key(seed, user, j)
    if _worse(hs[0], hk[0], s, key):
        hs[0] = s
        hk[0] = key
        hi[0] = j
        _sift_down(hs, hk, hi, size, 0)
    return size


@numba.njit(inline="always")
def _select_row(
    row, use_scores, m, k, user, seed, ex_idx, ex_start, ex_end, hs, hk, hi, out_row, out_s, keep_s
):
    """Fill ``out_row`` with the k best items of one user, best first.

    Excluded items (sorted ids in ``ex_idx[ex_start:ex_end]``) split the row into
    segments; inside a segment the loop only compares against the heap's worst score.
    With ``keep_s`` the items' scores go to ``out_s`` (NaN as -inf; -inf where no item).
    """
    size = 0
    p = ex_start
    seg_start = 0
    while seg_start <= m:
        seg_end = m
        while p < ex_end and ex_idx[p] < seg_start:
            p += 1
        if p < ex_end and ex_idx[p] < m:
            seg_end = ex_idx[p]
        j = seg_start
        if use_scores:
            while j < seg_end:
                if size == k and j + 16 <= seg_end:
                    # skip whole blocks that cannot enter the heap (vectorisable max)
                    block_max = row[j]
                    for t in range(j + 1, j + 16):
                        block_max = max(block_max, row[t])
                    if block_max < hs[0]:
                        j += 16
                        continue
                    h0 = hs[0]
                    k0 = hk[0]
                    for t in range(j, j + 16):
                        s = row[t]
                        # a tie with the worst kept item enters only if its key is smaller
                        if s > h0 or (s == h0 and _key(seed, user, t) < k0):
                            size = _offer(hs, hk, hi, size, k, s, seed, user, t)
                            h0 = hs[0]
                            k0 = hk[0]
                    j += 16
                    continue
                s = row[j]
                if size < k or s > hs[0] or (s == hs[0] and _key(seed, user, j) < hk[0]):
                    size = _offer(hs, hk, hi, size, k, s, seed, user, j)
                j += 1
        else:
            for j in range(seg_start, seg_end):
                size = _offer(hs, hk, hi, size, k, 0.0, seed, user, j)
        seg_start = seg_end + 1
    _drain(hs, hk, hi, size, k, out_row, out_s, keep_s)


@numba.njit(inline="always")
def _drain(hs, hk, hi, size, k, out_row, out_s, keep_s):
    """Empty a heap of ``size`` candidates into ``out_row``, best first; pad with -1."""
    for t in range(size, k):
        out_row[t] = -1
        if keep_s:
            out_s[t] = -np.inf
    n = size
    while n > 0:  # heap sort: pop the worst to the back, so the row ends best first
        out_row[n - 1] = hi[0]
        if keep_s:
            out_s[n - 1] = hs[0]
        n -= 1
        hs[0] = hs[n]
        hk[0] = hk[n]
        hi[0] = hi[n]
        _sift_down(hs, hk, hi, n, 0)


@numba.njit
def _chunk(n, c, nchunks):
    return (n * c) // nchunks, (n * (c + 1)) // nchunks


def _top_k_block_py(scores, k, row0, seed, ex_ptr, ex_idx, out, nchunks):
    n, m = scores.shape
    nchunks = max(1, min(n, nchunks))
    for c in numba.prange(nchunks):
        lo, hi_ = _chunk(n, c, nchunks)
        hs = np.empty(k, dtype=np.float64)
        hk = np.empty(k, dtype=np.uint64)
        hi = np.empty(k, dtype=np.int64)
        for r in range(lo, hi_):
            _select_row(
                scores[r],
                True,
                m,
                k,
                row0 + r,
                seed,
                ex_idx,
                ex_ptr[r],
                ex_ptr[r + 1],
                hs,
                hk,
                hi,
                out[r],
                hs,
                False,
            )


@numba.njit(inline="always")
def _accumulate_tile(users, items, r0, nt, a_dim, m, buf):
    # buf[t] += users[r0 + t, a] * items[a] for every attribute, four rows per item load
    for a in range(a_dim):
        if nt == 4:
            w0 = users[r0, a]
            w1 = users[r0 + 1, a]
            w2 = users[r0 + 2, a]
            w3 = users[r0 + 3, a]
            for j in range(m):
                x = items[a, j]
                buf[0, j] += w0 * x
                buf[1, j] += w1 * x
                buf[2, j] += w2 * x
                buf[3, j] += w3 * x
        else:
            for t in range(nt):
                w = users[r0 + t, a]
                for j in range(m):
                    buf[t, j] += w * items[a, j]


def _top_k_factors_py(users, items, k, ids, seed, ex_ptr, ex_idx, out, out_s, nchunks, skip_zeros):
    # Users are scored four at a time so each item attribute loaded serves four rows. User
    # row r is user ids[r] (its tie-break keys); with a non-empty out_s the k best scores
    # are kept too. With skip_zeros (finite items), four rows holding few non-zero weights
    # between them (non-negative least squares estimates hold ~3.5 of 20) are scored one
    # row at a time over their non-zero weights only: the same sums, as a zero weight
    # adds an exact zero.
    n, a_dim = users.shape
    keep_s = out_s.shape[0] > 0
    m = items.shape[1]
    ntiles = (n + 3) // 4
    nchunks = max(1, min(ntiles, nchunks))
    for c in numba.prange(nchunks):
        lo, hi_ = _chunk(ntiles, c, nchunks)
        hs = np.empty(k, dtype=np.float64)
        hk = np.empty(k, dtype=np.uint64)
        hi = np.empty(k, dtype=np.int64)
        buf = np.empty((4, m), dtype=np.float64)
        for tile in range(lo, hi_):
            r0 = tile * 4
            nt = min(4, n - r0)
            buf[:, :] = 0.0
            nonzero = 0
            if skip_zeros:
                for t in range(nt):
                    for a in range(a_dim):
                        nonzero += users[r0 + t, a] != 0.0
            if skip_zeros and 2 * nonzero < a_dim * (nt + 1):
                for t in range(nt):
                    for a in range(a_dim):
                        w = users[r0 + t, a]
                        if w != 0.0:
                            for j in range(m):
                                buf[t, j] += w * items[a, j]
            else:
                _accumulate_tile(users, items, r0, nt, a_dim, m, buf)
            for t in range(nt):
                r = r0 + t
                _select_row(
                    buf[t],
                    True,
                    m,
                    k,
                    ids[r],
                    seed,
                    ex_idx,
                    ex_ptr[r],
                    ex_ptr[r + 1],
                    hs,
                    hk,
                    hi,
                    out[r],
                    out_s[r] if keep_s else hs,
                    keep_s,
                )


@numba.njit(inline="always")
def _draw(seed, user, counter, bound):
    """A reproducible uniform integer in [0, bound) for (seed, user, counter)."""
    if bound == 1:  # the only value; skips a 64-bit division (groups of one item)
        return np.int64(0)
    return np.int64(_key(seed ^ np.uint64(0xD1B54A32D192ED03), user, counter) % np.uint64(bound))


def _top_k_shared_py(order, rank, group_ptr, sign, k, row0, seed, ex_ptr, ex_idx, out, nchunks):
    # The walk over tie groups is written out in one body (no helper taking arrays): a call
    # that takes arrays, inlined or not, costs reference-count updates on each of them,
    # which cost more than the whole draw when groups hold one item.
    n = sign.shape[0]
    m = order.shape[0]
    n_groups = group_ptr.shape[0] - 1
    nchunks = max(1, min(n, nchunks))
    for c in numba.prange(nchunks):
        lo, hi_ = _chunk(n, c, nchunks)
        scratch = np.empty(m, dtype=np.int64)
        for r in range(lo, hi_):
            user = row0 + r
            filled = 0
            counter = 0
            s = sign[r]
            ex_start = ex_ptr[r]
            ex_end = ex_ptr[r + 1]
            walk = 1 if s == 0 else n_groups
            for g in range(walk):
                # the g-th tie group in this user's order (all items when s == 0)
                if s == 0:
                    a = 0
                    b = m
                elif s > 0:
                    a = group_ptr[g]
                    b = group_ptr[g + 1]
                else:
                    a = group_ptr[n_groups - 1 - g]
                    b = group_ptr[n_groups - g]
                need = k - filled
                # append `need` (or all eligible) items of order[a:b] in random order
                n_ex = 0
                for t in range(ex_start, ex_end):
                    if t > ex_start and ex_idx[t] == ex_idx[t - 1]:
                        continue  # the same item excluded twice
                    pos = rank[ex_idx[t]]
                    if a <= pos < b:
                        n_ex += 1
                eligible = (b - a) - n_ex
                take = min(need, eligible)
                if take > 0 and take <= 64 and 2 * take <= eligible:
                    # rejection sampling: cheap when the group is much larger than needed
                    got = 0
                    while got < take:
                        item = order[a + _draw(seed, user, counter, b - a)]
                        counter += 1
                        if n_ex > 0:
                            x_lo = ex_start
                            x_hi = ex_end
                            while x_lo < x_hi:
                                mid = (x_lo + x_hi) // 2
                                if ex_idx[mid] < item:
                                    x_lo = mid + 1
                                else:
                                    x_hi = mid
                            if x_lo < ex_end and ex_idx[x_lo] == item:
                                continue
                        dup = False
                        for t in range(filled, filled + got):
                            if out[r, t] == item:
                                dup = True
                                break
                        if not dup:
                            out[r, filled + got] = item
                            got += 1
                    filled += take
                elif take > 0:
                    # every eligible item, then a partial Fisher-Yates shuffle picks `take`
                    cnt = 0
                    for pos in range(a, b):
                        item = order[pos]
                        if n_ex > 0:
                            x_lo = ex_start
                            x_hi = ex_end
                            while x_lo < x_hi:
                                mid = (x_lo + x_hi) // 2
                                if ex_idx[mid] < item:
                                    x_lo = mid + 1
                                else:
                                    x_hi = mid
                            if x_lo < ex_end and ex_idx[x_lo] == item:
                                continue
                        scratch[cnt] = item
                        cnt += 1
                    for t in range(take):
                        j = t + _draw(seed, user, counter, cnt - t)
                        counter += 1
                        scratch[t], scratch[j] = scratch[j], scratch[t]
                        out[r, filled + t] = scratch[t]
                    filled += take
                if filled == k:
                    break
            for t in range(filled, k):
                out[r, t] = -1


@numba.njit(inline="always")
def _in_sorted(ids, lo, hi, item):
    """Whether ``item`` is in the ascending ``ids[lo:hi]`` (binary search).

    The shared-order kernel writes this search out in its body (see its comment).
    """
    end = hi
    while lo < hi:
        mid = (lo + hi) // 2
        if ids[mid] < item:
            lo = mid + 1
        else:
            hi = mid
    return lo < end and ids[lo] == item


def _from_candidates_py(cand, cand_s, complete, k, seed, ex_ptr, ex_idx, out, missing, nchunks):
    # Row r holds user r's best items by score (best first). Every item scoring above the
    # row's last candidate is among its candidates, so the top k of those (excluded items
    # left out, ties by this seed's keys) is the top k over the catalogue, if there are k.
    n, depth = cand.shape
    nchunks = max(1, min(n, nchunks))
    for c in numba.prange(nchunks):
        lo, hi_ = _chunk(n, c, nchunks)
        hs = np.empty(k, dtype=np.float64)
        hk = np.empty(k, dtype=np.uint64)
        hi = np.empty(k, dtype=np.int64)
        for r in range(lo, hi_):
            floor = -np.inf if complete else cand_s[r, depth - 1]
            ex_start = ex_ptr[r]
            ex_end = ex_ptr[r + 1]
            size = 0
            usable = 0
            for t in range(depth):
                j = cand[r, t]
                s = cand_s[r, t]
                if j < 0 or (not complete and s <= floor):
                    break
                if _in_sorted(ex_idx, ex_start, ex_end, j):
                    continue
                usable += 1
                size = _offer(hs, hk, hi, size, k, s, seed, r, j)
            missing[r] = usable < k
            if usable >= k:
                _drain(hs, hk, hi, size, k, out[r], hs, False)


#: Below this much work (users × items) the kernels run on one thread: waking the thread
#: pool costs more than it saves (measured here: a 100 × 1,250 scan of tied scores runs
#: 1.5x faster on two threads).
SERIAL_CELLS = 1 << 16


_top_k_block_par, _top_k_block_ser = parallel_and_serial(_top_k_block_py)
_top_k_factors_par, _top_k_factors_ser = parallel_and_serial(_top_k_factors_py)
_top_k_shared_par, _top_k_shared_ser = parallel_and_serial(_top_k_shared_py)
_from_candidates_par, _from_candidates_ser = parallel_and_serial(_from_candidates_py)


def _pick(parallel_fn, serial_fn, work: int):
    return parallel_fn if work > SERIAL_CELLS else serial_fn


def exclusion_csr(excluded: np.ndarray | None, rows: slice, num_rows: int) -> tuple:
    """Per-row sorted exclusion lists for a block of users, as (indptr, indices).

    Args:
        excluded: U×t int array of item ids to skip per user (``-1`` = nothing), or None.
        rows: the block of users.
        num_rows: number of users in the block.

    Returns:
        ``(indptr, indices)`` with each row's item ids sorted ascending.
    """
    if excluded is None or excluded.shape[1] == 0:
        return np.zeros(num_rows + 1, dtype=np.int64), np.empty(0, dtype=np.int64)
    block = np.sort(excluded[rows], axis=1)
    valid = block >= 0
    indptr = np.zeros(num_rows + 1, dtype=np.int64)
    np.cumsum(valid.sum(axis=1), out=indptr[1:])
    return indptr, block[valid].astype(np.int64)


def _blocks(num_users: int, num_items: int, block_cells: int):
    step = max(1, block_cells // max(1, num_items))
    for start in range(0, num_users, step):
        yield slice(start, min(num_users, start + step))


def _nchunks() -> int:
    return 8 * numba.get_num_threads()


def _check_seed(seed: int) -> np.uint64:
    return np.uint64(int(seed) % (1 << 64))


def top_k_items(
    score_block: Callable[[slice], np.ndarray],
    num_users: int,
    num_items: int,
    k: int,
    seed: int,
    excluded: np.ndarray | None = None,
    block_cells: int = BLOCK_CELLS,
) -> np.ndarray:
    """The k highest-scoring items of every user, best first, ties broken at random.

    The generic path: any score function, evaluated one block of users at a time.

    Args:
        score_block: returns the dense ``len(rows)×num_items`` scores of a block of users.
        num_users: U.
        num_items: I.
        k: items per user; every user must have at least k items that are not excluded.
        seed: 64-bit seed of the tie-breaking keys (draw it from the model's generator).
        excluded: optional U×t item ids each user must not be shown (``-1`` pads).
        block_cells: scores computed at once (memory bound of the call).

    Returns:
        U×k int64 item ids (``-1`` where a user has fewer than k eligible items).

    Raises:
        ValueError: when ``score_block`` returns the wrong shape.
    """
    out = np.empty((num_users, k), dtype=np.int64)
    if k == 0 or num_users == 0:
        return out
    useed = _check_seed(seed)
    for rows in _blocks(num_users, num_items, block_cells):
        scores = np.ascontiguousarray(score_block(rows), dtype=np.float64)
        n = rows.stop - rows.start
        if scores.shape != (n, num_items):
            raise ValueError(
                f"score_fn returned shape {scores.shape} for {n} users; expected {(n, num_items)}"
            )
        ptr, idx = exclusion_csr(excluded, rows, n)
        _pick(_top_k_block_par, _top_k_block_ser, scores.size)(
            scores, k, rows.start, useed, ptr, idx, out[rows], _nchunks()
        )
    return out


def top_k_factors(
    users: np.ndarray,
    items: np.ndarray,
    k: int,
    seed: int,
    excluded: np.ndarray | None = None,
    block_users: int = 1 << 16,
) -> np.ndarray:
    """Top-k of ``users @ items`` computed inside the kernel, one user at a time.

    The score matrix never exists: each user's row is accumulated in a cache-resident
    buffer and scanned at once. Same ordering and tie-breaking as :func:`top_k_items`.

    Args:
        users: U×A dense user factors (already normalised if the score function does so).
        items: A×I dense item factors.
        k: items per user.
        seed: 64-bit tie-break seed.
        excluded: optional U×t item ids to skip (``-1`` pads).
        block_users: users per call of the kernel (bounds the exclusion lists' memory).

    Returns:
        U×k int64 item ids.
    """
    num_users = users.shape[0]
    out = np.empty((num_users, k), dtype=np.int64)
    if k == 0 or num_users == 0:
        return out
    _factors_pass(users, items, k, seed, excluded, block_users, out, None)
    return out


def _factors_pass(
    users: np.ndarray,
    items: np.ndarray,
    k: int,
    seed: int,
    excluded: np.ndarray | None,
    block_users: int,
    out: np.ndarray,
    out_scores: np.ndarray | None,
    ids: np.ndarray | None = None,
) -> None:
    """Run the fused kernel over blocks of users (``ids``: their user numbers, for the keys)."""
    num_users = users.shape[0]
    users = np.ascontiguousarray(users, dtype=np.float64)
    items = np.ascontiguousarray(items, dtype=np.float64)
    useed = _check_seed(seed)
    if ids is None:
        ids = np.arange(num_users, dtype=np.int64)
    no_scores = np.empty((0, k))
    skip_zeros = bool(np.isfinite(items).all())  # a zero weight then adds an exact zero
    for start in range(0, num_users, block_users):
        rows = slice(start, min(num_users, start + block_users))
        n = rows.stop - rows.start
        ptr, idx = exclusion_csr(excluded, rows, n)
        kernel = _pick(_top_k_factors_par, _top_k_factors_ser, n * items.shape[1] * items.shape[0])
        scores = no_scores if out_scores is None else out_scores[rows]
        kernel(
            users[rows], items, k, ids[rows], useed, ptr, idx, out[rows], scores, _nchunks(),
            skip_zeros,
        )  # fmt: skip


def top_k_shared(
    row_scores: np.ndarray,
    signs: np.ndarray,
    k: int,
    seed: int,
    excluded: np.ndarray | None = None,
    block_users: int = 1 << 16,
) -> np.ndarray:
    """Top-k when every user ranks items by the same scores (up to sign).

    User u's score of item i is ``signs[u] * row_scores[i]`` with signs in {-1, 0, +1}:
    the case of popularity (one shared attribute) and of random recommendations (all
    scores zero). The items are sorted once; each user then walks the shared order,
    skipping excluded items and drawing at random inside the tie group that the cut
    falls in, so a step costs O(I log I + U·k) instead of O(U·I).

    Args:
        row_scores: length-I shared scores.
        signs: length-U array of -1, 0 or +1.
        k: items per user.
        seed: 64-bit seed of the random draws.
        excluded: optional U×t item ids to skip (``-1`` pads).
        block_users: users per call of the kernel.

    Returns:
        U×k int64 item ids, best first, ties in random order.
    """
    num_users = signs.shape[0]
    out = np.empty((num_users, k), dtype=np.int64)
    if k == 0 or num_users == 0:
        return out
    row = np.nan_to_num(np.asarray(row_scores, dtype=np.float64).ravel(), nan=-np.inf)
    order = np.argsort(-row, kind="stable").astype(np.int64)
    ranked = row[order]
    bounds = np.flatnonzero(ranked[1:] != ranked[:-1]) + 1
    group_ptr = np.concatenate(([0], bounds, [row.size])).astype(np.int64)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size, dtype=np.int64)
    signs = np.sign(np.asarray(signs, dtype=np.float64)).astype(np.int64)
    useed = _check_seed(seed)
    for start in range(0, num_users, block_users):
        rows = slice(start, min(num_users, start + block_users))
        n = rows.stop - rows.start
        ptr, idx = exclusion_csr(excluded, rows, n)
        kernel = _pick(_top_k_shared_par, _top_k_shared_ser, n * (k + idx.size // max(1, n)) * 64)
        kernel(
            order, rank, group_ptr, signs[rows], k, start, useed, ptr, idx, out[rows], _nchunks()
        )
    return out


def random_k_items(
    num_users: int,
    num_items: int,
    k: int,
    seed: int,
    excluded: np.ndarray | None = None,
) -> np.ndarray:
    """A uniform random k-subset of each user's eligible items, in random order.

    Args:
        num_users: U.
        num_items: I.
        k: items per user.
        seed: 64-bit seed (draw it from the model's generator).
        excluded: optional U×t item ids to leave out (``-1`` pads).

    Returns:
        U×k int64 item ids.
    """
    return top_k_shared(np.zeros(num_items), np.zeros(num_users), k, seed, excluded)


class CandidateRanking:
    """Every user's ``depth`` best items by ``users @ items``, kept to answer top-k queries.

    One pass of the fused kernel (:func:`top_k_factors`) keeps each user's best items with
    their scores. A later top k for any seed, k and exclusions is then read from those
    candidates: every item that scores above a user's last candidate is among them, so
    the answer is exactly :func:`top_k_factors`'s whenever k eligible candidates score
    above the last one; the rare user without (too many excluded or tied candidates) is
    ranked again over the whole catalogue. A metric that ranks the model's current scores
    (NDCG@k) and the next step's recommendation share one pass this way.

    Args:
        users: U×A dense user factors (as passed to :func:`top_k_factors`).
        items: A×I dense item factors.
        depth: candidates kept per user (at least the largest k asked later, plus room
            for excluded items).
        source: the score object the factors belong to, for :meth:`matches`.

    Raises:
        ValueError: when ``depth`` is not positive.
    """

    def __init__(self, users: np.ndarray, items: np.ndarray, depth: int, source: Any = None):
        """Rank every user's items once."""
        if depth < 1:
            raise ValueError(f"depth: expected a positive number of candidates, got {depth}")
        self.users = np.ascontiguousarray(users, dtype=np.float64)
        self.items = np.ascontiguousarray(items, dtype=np.float64)
        num_users, num_items = self.users.shape[0], self.items.shape[1]
        self.complete = depth >= num_items
        self.depth = min(depth, num_items)
        self.source = source
        self.factors = getattr(source, "_factors", None)
        self.candidates = np.empty((num_users, self.depth), dtype=np.int64)
        self.scores = np.empty((num_users, self.depth))
        self._last: tuple[int, int, np.ndarray] | None = None  # (k, seed, lists) of no exclusions
        _factors_pass(
            self.users, self.items, self.depth, 0, None, 1 << 16, self.candidates, self.scores
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(U, I) of the ranked scores."""
        return (self.users.shape[0], self.items.shape[1])

    def matches(self, scores: Any) -> bool:
        """Whether these candidates rank ``scores`` as they are now (same factors object)."""
        return _same_source(scores, self.source, self.factors)

    def top_k(self, k: int, seed: int, excluded: np.ndarray | None = None) -> np.ndarray:
        """The k best items of every user, as ``top_k_factors(users, items, k, seed, excluded)``.

        Always answers (unlike :meth:`KeptLists.top_k`). The last answer without excluded
        items is kept: asked again for the same k and seed (the metric's ranking, then the
        model's next recommendation), it returns a copy instead of reading the candidates
        again.

        Args:
            k: items per user.
            seed: 64-bit tie-break seed.
            excluded: optional U×t item ids to skip (``-1`` pads).

        Returns:
            U×k int64 item ids, best first.
        """
        num_users = self.users.shape[0]
        out = np.empty((num_users, k), dtype=np.int64)
        if k == 0 or num_users == 0:
            return out
        if k > self.depth:
            return top_k_factors(self.users, self.items, k, seed, excluded)
        useed = _check_seed(seed)
        plain = excluded is None or not (excluded >= 0).any()
        if plain and self._last is not None and self._last[:2] == (k, int(useed)):
            return self._last[2].copy()
        ptr, idx = exclusion_csr(excluded, slice(0, num_users), num_users)
        missing = np.empty(num_users, dtype=np.bool_)
        kernel = _pick(_from_candidates_par, _from_candidates_ser, num_users * self.depth * 8)
        kernel(
            self.candidates,
            self.scores,
            self.complete,
            k,
            useed,
            ptr,
            idx,
            out,
            missing,
            _nchunks(),
        )
        rows = np.flatnonzero(missing)
        if rows.size:
            part = np.empty((rows.size, k), dtype=np.int64)
            again = None if excluded is None else excluded[rows]
            _factors_pass(self.users[rows], self.items, k, seed, again, 1 << 16, part, None, rows)
            out[rows] = part
        if plain:
            self._last = (k, int(useed), out.copy())
        return out


def _same_source(scores: Any, source: Any, factors: Any) -> bool:
    """Whether ``scores`` is ``source`` with the factors object it had when ranked."""
    return scores is source and factors is not None and getattr(scores, "_factors", None) is factors


class KeptLists:
    """Top-k lists ranked for one seed, kept for a later ranking with the same seed and k.

    For rankings that keep no candidates (shared scores, many factors, score blocks): a
    metric that ranks the current scores with the seed the model will draw next (see the
    model's ``next_tie_seed``) leaves its lists here, and the model's next ranking takes
    them when it asks for the same k with no excluded items.

    Args:
        lists: U×k item ids.
        seed: the tie-break seed they were ranked with.
        source: the score object they rank, for :meth:`matches`.
    """

    def __init__(self, lists: np.ndarray, seed: int, source: Any = None) -> None:
        """Keep the lists."""
        self.lists = lists
        self.seed = int(seed)
        self.source = source
        self.factors = getattr(source, "_factors", None)

    def matches(self, scores: Any) -> bool:
        """Whether the lists rank ``scores`` as they are now (same factors object)."""
        return _same_source(scores, self.source, self.factors)

    def top_k(self, k: int, seed: int, excluded: np.ndarray | None = None) -> np.ndarray | None:
        """A copy of the lists if they answer this ranking, else None.

        Args:
            k: items per user.
            seed: the ranking's tie-break seed.
            excluded: items to skip per user; any (``>= 0``) means None.

        Returns:
            U×k item ids, or None.
        """
        if (
            k != self.lists.shape[1]
            or int(seed) != self.seed
            or (excluded is not None and (excluded >= 0).any())
        ):
            return None
        return self.lists.copy()
