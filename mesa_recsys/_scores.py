"""Inner-product scores of a few listed items per user, in compiled code.

``score[u, t] = users[u] · items_t[lists[u, t]]``, each dot product summed in attribute
order. The users' choices (true scores of the items shown), NDCG@k (true scores of the
items ranked) and RecallMeasurement (predicted scores of the items shown) all score
through :func:`dot_listed`, so an item scored for a user has one value wherever it is
scored: equal scores stay equal, and a metric's scores of the lists the model shows next
can stand in for the step's own (see ``ActualUserScores.keep_listed``).
"""

from __future__ import annotations

import numba
import numpy as np

from mesa_recsys._jit import parallel_and_serial, pick

__all__ = ["dot_listed", "listed_scores"]


@numba.njit(inline="always")
def dot_listed(users, u, items_t, ids, n, scores):
    """``scores[t] = users[u] · items_t[ids[t]]`` for t < n, four items at a time.

    Four independent sums, each in attribute order (the values of one at a time).
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


def _listed_py(users, items_t, lists, out):
    num_rows, n = lists.shape
    nchunks = max(1, min(num_rows, 64))
    for c in numba.prange(nchunks):
        for u in range((num_rows * c) // nchunks, (num_rows * (c + 1)) // nchunks):
            dot_listed(users, u, items_t, lists[u], n, out[u])


_listed_par, _listed_ser = parallel_and_serial(_listed_py)


def listed_scores(users: np.ndarray, items_t: np.ndarray, lists: np.ndarray) -> np.ndarray:
    """Scores of each user's listed items.

    Args:
        users: U×A user factors (normalised as the score function does).
        items_t: I×A item factors, item-major.
        lists: U×n item ids, each in ``[0, I)``.

    Returns:
        U×n float64 scores, in list order.

    Raises:
        IndexError: when an id is outside ``[0, I)`` (the loop does not check).
    """
    lists = np.ascontiguousarray(lists, dtype=np.int64)
    if lists.size and (lists.min() < 0 or lists.max() >= items_t.shape[0]):
        raise IndexError(f"item ids must lie in [0, {items_t.shape[0]})")
    out = np.empty(lists.shape)
    work = lists.size * max(1, users.shape[1])
    pick(_listed_par, _listed_ser, work)(
        np.ascontiguousarray(users, dtype=np.float64),
        np.ascontiguousarray(items_t, dtype=np.float64),
        lists,
        out,
    )
    return out
