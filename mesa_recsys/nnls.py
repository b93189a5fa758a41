"""Batched non-negative least squares sharing one Gram matrix.

Content filtering fits every user's profile by non-negative least squares,
``min_{x >= 0} ||M x - c_u||``, where ``M`` (items × attributes) is the same for every
user and only the right-hand side ``c_u`` (the user's interaction counts) differs. T-RECS
calls ``scipy.optimize.nnls`` once per user, which re-factorises ``M`` every time.

Here the problem is written in its normal-equation form, ``min_{x >= 0} xᵀGx - 2bᵀx`` with
``G = MᵀM`` (attributes × attributes, computed once) and ``b_u = Mᵀc_u``, and each user is
solved by the Lawson-Hanson active-set algorithm (the algorithm behind ``scipy.optimize.nnls``)
operating on ``G``: a Cholesky factor of the passive block is grown one column at a time, so
one iteration costs O(A·p) for a passive set of p attributes instead of a QR of the I×p
block. Users are solved in parallel by a compiled kernel, and a solve can be warm-started
from a guess of the passive set (the previous step's support), which usually leaves one or
two iterations.

The optimum is exact up to rounding (the Karush-Kuhn-Tucker conditions hold to a relative
tolerance of about 1e-10). When ``M`` has full column rank the minimiser is unique and
agrees with ``scipy.optimize.nnls``; when it does not, every minimiser gives the same fitted
values ``M x``, and both solvers return a basic solution (linearly independent support).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from scipy import sparse

from mesa_recsys._jit import parallel_and_serial

__all__ = ["is_positive_definite", "nnls_batch", "nnls_gram"]

#: A new column whose squared distance to the span of the passive columns is below this
#: fraction of its squared norm is treated as linearly dependent and not added.
DEPENDENCE_RTOL = 1e-10
#: The solve stops when no inactive attribute has a gradient above this fraction of the
#: bound ``sqrt(G_jj) * ||c_u||`` on the gradient's size.
GRADIENT_RTOL = 1e-11
#: Variables entering the passive set per iteration (Lawson-Hanson adds one); adding the
#: few largest gradients at once cuts the iterations, each of which costs O(A·p).
BATCH = 8


@numba.njit(inline="always")
def _append_column(G, L, U, P, p, j, rtol):
    """Grow the Cholesky factor ``L`` of ``G[P, P]`` by column ``j``; False if dependent."""
    d2 = G[j, j]
    for r in range(p):
        s = G[j, P[r]]
        for c in range(r):
            s -= L[r, c] * L[p, c]
        lr = s / L[r, r]
        L[p, r] = lr
        U[r, p] = lr
        d2 -= lr * lr
    if d2 <= rtol * G[j, j] or d2 <= 0.0:
        return False
    L[p, p] = np.sqrt(d2)
    U[p, p] = L[p, p]
    return True


@numba.njit(inline="always")
def _cho_solve(L, U, p, rhs, z):
    """Solve ``L Lᵀ z = rhs`` for the leading p×p block (``U`` holds ``Lᵀ`` row-wise)."""
    for r in range(p):
        s = rhs[r]
        for c in range(r):
            s -= L[r, c] * z[c]
        z[r] = s / L[r, r]
    for r in range(p - 1, -1, -1):
        s = z[r]
        for c in range(r + 1, p):
            s -= U[r, c] * z[c]
        z[r] = s / L[r, r]


@numba.njit(inline="always")
def _solve_passive(G, b, L, U, P, p, rhs, z, refine):
    """Least squares on the passive set: ``z = G[P,P]⁻¹ b[P]`` (plus refinement steps)."""
    for r in range(p):
        rhs[r] = b[P[r]]
    _cho_solve(L, U, p, rhs, z)
    for _ in range(refine):
        for r in range(p):
            s = b[P[r]]
            row = P[r]
            for c in range(p):
                s -= G[row, P[c]] * z[c]
            rhs[r] = s
        _cho_solve(L, U, p, rhs, rhs)
        for r in range(p):
            z[r] += rhs[r]


@numba.njit(inline="always")
def _refactor(G, L, U, P, keep, p, in_p, x, rtol):
    """Update ``L`` after removals: rows before ``keep`` are unchanged, the rest rebuilt.

    Columns that became dependent are dropped. Returns the new passive-set size.
    """
    q = keep
    for r in range(keep, p):
        j = P[r]
        if _append_column(G, L, U, P, q, j, rtol):
            P[q] = j
            q += 1
        else:
            in_p[j] = False
            x[j] = 0.0
    return q


@numba.njit(inline="always")
def _largest(w, in_p, blocked, gtol, width, cand):
    """The (at most ``width``) inactive, unblocked indices with the largest ``w > gtol``."""
    m = 0
    for j in range(w.shape[0]):
        if in_p[j] or blocked[j] or w[j] <= gtol:
            continue
        if m == width and w[j] <= w[cand[m - 1]]:
            continue
        pos = m if m < width else width - 1
        while pos > 0 and w[cand[pos - 1]] < w[j]:
            cand[pos] = cand[pos - 1]
            pos -= 1
        cand[pos] = j
        if m < width:
            m += 1
    return m


@numba.njit
def _nnls_one(
    G,
    b,
    warm,
    n_warm,
    x,
    L,
    U,
    P,
    in_p,
    blocked,
    rhs,
    z,
    w,
    GP,
    held,
    cand,
    batch,
    gtol,
    rtol,
    maxiter,
):
    """Lawson-Hanson on the Gram matrix for one right-hand side; returns iterations or -1."""
    n = b.shape[0]
    for j in range(n):
        x[j] = 0.0
        in_p[j] = False
        blocked[j] = False
        held[j] = -1
    # Warm start: take the guessed support, then drop variables until the unconstrained
    # least-squares solution on it is positive. That is a valid Lawson-Hanson state.
    p = 0
    for r in range(n_warm):
        j = warm[r]
        if not in_p[j] and _append_column(G, L, U, P, p, j, rtol):
            P[p] = j
            in_p[j] = True
            p += 1
    while p > 0:
        _solve_passive(G, b, L, U, P, p, rhs, z, 0)
        q = 0
        for r in range(p):
            if z[r] > 0.0:
                P[q] = P[r]
                q += 1
            else:
                in_p[P[r]] = False
        if q == p:
            for r in range(p):
                x[P[r]] = z[r]
            break
        p = _refactor(G, L, U, P, 0, q, in_p, x, rtol)
    iterations = 0
    width = batch
    while True:
        for j in range(n):
            w[j] = b[j]
        for r in range(p):  # rows of G for the passive set, kept contiguous (cache)
            if held[r] != P[r]:
                held[r] = P[r]
                GP[r, :] = G[P[r], :]
            xj = x[P[r]]
            for j in range(n):
                w[j] -= xj * GP[r, j]
        added = 0
        while added == 0:  # the entering variables: largest gradients among the inactive
            n_cand = _largest(w, in_p, blocked, gtol, width, cand)
            if n_cand == 0:
                break
            for c in range(n_cand):
                j = cand[c]
                if _append_column(G, L, U, P, p + added, j, rtol):
                    P[p + added] = j
                    in_p[j] = True
                    added += 1
                else:
                    blocked[j] = True
            if added == 0:
                continue
            _solve_passive(G, b, L, U, P, p + added, rhs, z, 0)
            if added == 1 and z[p] <= 0.0:  # rounding: it would not enter with a positive value
                in_p[P[p]] = False
                blocked[P[p]] = True
                added = 0
        if added == 0:
            break
        first_new = p
        p += added
        iterations += 1
        if iterations > maxiter:
            return -1
        # Inner loop: step from x towards z, keeping x feasible, until z is positive.
        while True:
            alpha = 2.0
            arg = -1
            for r in range(p):
                if z[r] <= 0.0:
                    xj = x[P[r]]
                    a = xj / (xj - z[r]) if xj > 0.0 else 0.0
                    if a < alpha:
                        alpha = a
                        arg = r
            if arg < 0:
                for r in range(p):
                    x[P[r]] = z[r]
                break
            for r in range(p):
                j = P[r]
                x[j] += alpha * (z[r] - x[j])
            x[P[arg]] = 0.0
            q = 0
            keep = p
            for r in range(p):
                j = P[r]
                if x[j] > 0.0 or (r != arg and z[r] > 0.0):
                    P[q] = j
                    q += 1
                else:
                    x[j] = 0.0
                    in_p[j] = False
                    if r < first_new:
                        first_new -= 1
                    keep = min(keep, q)
            p = _refactor(G, L, U, P, keep, q, in_p, x, rtol)
            first_new = min(first_new, p)
            for j in range(n):
                blocked[j] = False
            _solve_passive(G, b, L, U, P, p, rhs, z, 0)
        # No new variable survived: fall back to Lawson-Hanson's single entering variable,
        # which always makes progress.
        width = batch if p > first_new else 1
    if p > 0:  # one step of iterative refinement sharpens the final solution
        _solve_passive(G, b, L, U, P, p, rhs, z, 1)
        for r in range(p):
            x[P[r]] = max(z[r], 0.0)
    return iterations


def _nnls_rows_py(
    G, B, scale, warm_ptr, warm_idx, X, status, nchunks, maxiter, batch, gtol, rtol, Lb, Ub, GPb
):
    n_rows, n = B.shape
    for c in numba.prange(nchunks):
        # Large work buffers come from the caller, one per thread: numba would hoist an
        # allocation made here out of the parallel loop and serialise the threads.
        t = numba.get_thread_id()
        L = Lb[t]
        Ut = Ub[t]
        GP = GPb[t]
        start = c * n_rows // nchunks
        stop = (c + 1) * n_rows // nchunks
        P = np.zeros(n, dtype=np.int64)
        in_p = np.zeros(n, dtype=np.bool_)
        blocked = np.zeros(n, dtype=np.bool_)
        rhs = np.zeros(n)
        z = np.zeros(n)
        w = np.zeros(n)
        x = np.zeros(n)
        held = np.zeros(n, dtype=np.int64)
        cand = np.zeros(max(batch, 1), dtype=np.int64)
        for u in range(start, stop):
            warm = warm_idx[warm_ptr[u] : warm_ptr[u + 1]]
            status[u] = _nnls_one(
                G, B[u], warm, warm.shape[0], x, L, Ut, P, in_p, blocked, rhs, z, w, GP, held,
                cand, batch, gtol * scale[u], rtol, maxiter,
            )  # fmt: skip
            X[u] = x


_nnls_rows_par, _nnls_rows_ser = parallel_and_serial(_nnls_rows_py)


def nnls_gram(
    gram: np.ndarray,
    rhs: np.ndarray,
    rhs_norms: np.ndarray | None = None,
    warm_start: np.ndarray | None = None,
    maxiter: int | None = None,
    entering: int | None = None,
) -> np.ndarray:
    """Solve ``min_{x_u >= 0} x_uᵀ G x_u - 2 b_uᵀ x_u`` for every row ``b_u`` of ``rhs``.

    This is ``min ||M x_u - c_u||`` with ``G = MᵀM`` and ``b_u = Mᵀc_u``.

    Args:
        gram: the n×n Gram matrix ``G`` (symmetric positive semi-definite).
        rhs: U×n right-hand sides ``b_u``.
        rhs_norms: length-U ``||c_u||`` (sets the stopping tolerance's scale); defaults to
            a bound derived from ``b_u``.
        warm_start: U×n array whose positive entries guess each row's support (e.g. the
            previous solution); the result does not depend on it, only the work does.
        maxiter: most entering steps per row (default ``3 n``, as in scipy).
        entering: variables added to the passive set per step. 1 is Lawson-Hanson's path,
            which also picks scipy's solution when the minimiser is not unique; more cuts
            the work when it is. Default: ``BATCH`` if ``gram`` is positive definite,
            else 1.

    Returns:
        U×n non-negative solutions.

    Raises:
        ValueError: on inconsistent shapes or non-finite input.
        RuntimeError: when a row needs more than ``maxiter`` steps.
    """
    gram = np.ascontiguousarray(gram, dtype=np.float64)
    rhs = np.ascontiguousarray(rhs, dtype=np.float64)
    if gram.ndim != 2 or gram.shape[0] != gram.shape[1]:
        raise ValueError(f"gram: expected a square matrix, got shape {gram.shape}")
    if rhs.ndim != 2 or rhs.shape[1] != gram.shape[0]:
        raise ValueError(f"rhs: expected shape (U, {gram.shape[0]}) to match gram, got {rhs.shape}")
    if not (np.isfinite(gram).all() and np.isfinite(rhs).all()):
        raise ValueError("gram, rhs: must be finite")
    n_rows, n = rhs.shape
    diag = np.sqrt(np.clip(np.diag(gram), 0.0, None))
    if rhs_norms is None:
        # ||b_u|| <= ||M|| ||c_u||, so ||b_u|| / max sqrt(G_jj) under-estimates ||c_u||
        # by at most sqrt(n); that only tightens the tolerance.
        rhs_norms = np.linalg.norm(rhs, axis=1) / max(float(diag.max(initial=0.0)), 1e-300)
    scale = np.asarray(rhs_norms, dtype=np.float64) * float(diag.max(initial=0.0))
    if scale.shape != (n_rows,):
        raise ValueError(f"rhs_norms: expected {n_rows} values, got shape {scale.shape}")
    if warm_start is None:
        warm_ptr = np.zeros(n_rows + 1, dtype=np.int64)
        warm_idx = np.empty(0, dtype=np.int64)
    else:
        if sparse.issparse(warm_start):
            warm_start = warm_start.toarray()
        support = sparse.csr_matrix(np.asarray(warm_start) > 0)
        if support.shape != rhs.shape:
            raise ValueError(f"warm_start: expected shape {rhs.shape}, got {support.shape}")
        warm_ptr = support.indptr.astype(np.int64)
        warm_idx = support.indices.astype(np.int64)
    out = np.zeros((n_rows, n))
    status = np.zeros(n_rows, dtype=np.int64)
    if n == 0 or n_rows == 0:
        return out
    maxiter = 3 * n if maxiter is None else int(maxiter)
    if entering is None:
        entering = BATCH if is_positive_definite(gram) else 1
    if int(entering) < 1:
        raise ValueError(f"entering: expected an integer >= 1, got {entering!r}")
    work = n_rows * n * max(1, min(n, 64))
    kernel = _nnls_rows_par if work > (1 << 22) else _nnls_rows_ser
    numba.get_num_threads()  # starts the threading layer: a disk-cached get_thread_id needs it
    nchunks = 4 * numba.get_num_threads() if kernel is _nnls_rows_par else 1
    nchunks = max(1, min(nchunks, n_rows))
    threads = numba.get_num_threads() if kernel is _nnls_rows_par else 1
    buffers = [np.empty((threads, n, n)) for _ in range(3)]
    kernel(
        gram, rhs, scale, warm_ptr, warm_idx, out, status, nchunks, maxiter, int(entering),
        GRADIENT_RTOL, DEPENDENCE_RTOL, *buffers,
    )  # fmt: skip
    failed = np.flatnonzero(status < 0)
    if failed.size:
        raise RuntimeError(
            f"nnls: {failed.size} row(s) did not converge in maxiter={maxiter} steps "
            f"(first: row {failed[0]})"
        )
    return out


def is_positive_definite(gram: np.ndarray) -> bool:
    """Whether a symmetric matrix has a Cholesky factor (numerically full rank)."""
    try:
        np.linalg.cholesky(gram)
    except np.linalg.LinAlgError:
        return False
    return True


def _finite_2d(name: str, value: Any) -> np.ndarray | sparse.csr_matrix:
    """``value`` as a float 2-D array or CSR matrix; ValueError naming ``name`` otherwise."""
    if value is None:
        raise ValueError(f"{name}: expected a 2-D matrix, got None")
    try:
        if sparse.issparse(value):
            value = sparse.csr_matrix(value, dtype=float)
            values = value.data
        else:
            value = values = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a 2-D matrix of numbers ({exc})") from None
    if value.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D matrix, got {value.ndim} dimension(s)")
    if not np.isfinite(values).all():
        raise ValueError(f"{name}: must be finite (found NaN or infinity)")
    return value


def nnls_batch(
    matrix: np.ndarray | sparse.spmatrix,
    targets: np.ndarray | sparse.spmatrix,
    warm_start: np.ndarray | None = None,
    maxiter: int | None = None,
) -> np.ndarray:
    """``scipy.optimize.nnls(matrix, t)`` for every row ``t`` of ``targets`` at once.

    Args:
        matrix: m×n matrix ``M`` (dense or sparse), shared by all problems.
        targets: U×m right-hand sides (dense or sparse), one problem per row.
        warm_start: optional U×n guess (positive entries = guessed support).
        maxiter: most entering steps per row (default ``3 n``).

    Returns:
        U×n array whose row u minimises ``||M x - targets[u]||`` over ``x >= 0``.

    Raises:
        ValueError: when an argument is not a finite 2-D matrix or ``targets`` does not
            have m columns.
    """
    matrix = _finite_2d("matrix", matrix)
    targets = _finite_2d("targets", targets)
    if targets.shape[1] != matrix.shape[0]:
        raise ValueError(
            f"targets: expected {matrix.shape[0]} columns (rows of matrix), got shape "
            f"{targets.shape}"
        )
    if sparse.issparse(matrix):
        matrix = sparse.csr_matrix(matrix, dtype=float)
        gram = (matrix.T @ matrix).toarray()
    else:
        matrix = np.asarray(matrix, dtype=float)
        gram = matrix.T @ matrix
    if sparse.issparse(targets):
        targets = sparse.csr_matrix(targets, dtype=float)
        rhs = np.asarray(
            (targets @ matrix).todense() if sparse.issparse(matrix) else targets @ matrix
        )
        norms = np.sqrt(np.asarray(targets.multiply(targets).sum(axis=1)).ravel())
    else:
        targets = np.asarray(targets, dtype=float)
        rhs = np.asarray(matrix.T @ targets.T).T
        norms = np.linalg.norm(targets, axis=1)
    return nnls_gram(gram, rhs, norms, warm_start, maxiter)
