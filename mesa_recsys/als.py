"""Implicit-feedback matrix factorisation by alternating least squares.

Hu, Koren & Volinsky (2008): with interaction counts ``r_ui``, preferences
``p_ui = [r_ui > 0]`` and confidences ``c_ui = 1 + weight · r_ui``, find user factors
``x_u`` and item factors ``y_i`` minimising

    Σ_{u,i} c_ui (p_ui - x_uᵀ y_i)² + reg (Σ_u ||x_u||² + Σ_i ||y_i||²).

Each half-step fixes one side and solves, for every row u of the other,
``(YᵀY + Yᵀ(C_u - I)Y + reg I) x_u = Yᵀ C_u p_u``; ``YᵀY`` is shared, so a row costs
only its own interactions. Two solvers, as in LensKit (which T-RECS wraps): ``"cg"``
runs a few Jacobi-preconditioned conjugate-gradient iterations warm-started from the
current factors (LensKit's default, 3 per half-step), ``"lu"`` solves exactly by Cholesky.
Rows are solved in parallel by compiled kernels.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy import sparse

from mesa_recsys._jit import parallel_and_serial

__all__ = ["ALSResult", "implicit_als"]

#: Conjugate-gradient iterations per row and half-step (LensKit's value).
CG_STEPS = 3


@numba.njit(inline="always")
def _cg_row(cols, conf, other, gram, w, r, z, p, ap, xv, steps):
    """A few preconditioned CG steps on one row's normal equations, from ``w`` in place."""
    k = w.shape[0]
    n = cols.shape[0]
    # Jacobi preconditioner: the diagonal of gram + Σ conf_j y_j y_jᵀ.
    for a in range(k):
        z[a] = gram[a, a]
    for t in range(n):
        j = cols[t]
        for a in range(k):
            z[a] += conf[t] * other[j, a] * other[j, a]
    # r = b - A w with b = Σ (1 + conf_j) y_j
    for a in range(k):
        s = 0.0
        for c in range(k):
            s += gram[a, c] * w[c]
        r[a] = -s
    for t in range(n):
        j = cols[t]
        s = 0.0
        for a in range(k):
            s += other[j, a] * w[a]
        xv[t] = s
    for t in range(n):
        j = cols[t]
        coef = (1.0 + conf[t]) - conf[t] * xv[t]
        for a in range(k):
            r[a] += coef * other[j, a]
    for a in range(k):
        z[a] = 1.0 / z[a]  # z now holds the inverse preconditioner
        p[a] = z[a] * r[a]
    gam = 0.0
    for a in range(k):
        gam += r[a] * p[a]
    for _ in range(steps):
        if gam == 0.0:
            return
        for a in range(k):
            s = 0.0
            for c in range(k):
                s += gram[a, c] * p[c]
            ap[a] = s
        for t in range(n):
            j = cols[t]
            s = 0.0
            for a in range(k):
                s += other[j, a] * p[a]
            s *= conf[t]
            for a in range(k):
                ap[a] += s * other[j, a]
        pap = 0.0
        for a in range(k):
            pap += p[a] * ap[a]
        if pap <= 0.0:
            return
        alpha = gam / pap
        new_gam = 0.0
        for a in range(k):
            w[a] += alpha * p[a]
            r[a] -= alpha * ap[a]
            new_gam += r[a] * r[a] * z[a]
        beta = new_gam / gam
        gam = new_gam
        for a in range(k):
            p[a] = z[a] * r[a] + beta * p[a]


@numba.njit(inline="always")
def _exact_row(cols, conf, other, gram, w, mat):
    """Solve one row's normal equations exactly (Cholesky) into ``w``."""
    k = w.shape[0]
    for a in range(k):
        w[a] = 0.0
        for c in range(k):
            mat[a, c] = gram[a, c]
    for t in range(cols.shape[0]):
        j = cols[t]
        for a in range(k):
            ya = conf[t] * other[j, a]
            w[a] += (1.0 + conf[t]) * other[j, a]
            for c in range(k):
                mat[a, c] += ya * other[j, c]
    for a in range(k):  # in-place Cholesky, lower triangle
        s = mat[a, a]
        for c in range(a):
            s -= mat[a, c] * mat[a, c]
        d = np.sqrt(s)
        mat[a, a] = d
        for b in range(a + 1, k):
            s = mat[b, a]
            for c in range(a):
                s -= mat[b, c] * mat[a, c]
            mat[b, a] = s / d
    for a in range(k):
        s = w[a]
        for c in range(a):
            s -= mat[a, c] * w[c]
        w[a] = s / mat[a, a]
    for a in range(k - 1, -1, -1):
        s = w[a]
        for c in range(a + 1, k):
            s -= mat[c, a] * w[c]
        w[a] = s / mat[a, a]


def _half_step_py(indptr, indices, conf, this, other, gram, exact, steps, scratch, mats):
    """Update every row of ``this`` with at least one interaction, ``other`` fixed."""
    rows = this.shape[0]
    max_n = scratch.shape[2] - 4
    for i in numba.prange(rows):
        start, stop = indptr[i], indptr[i + 1]
        if stop == start:
            continue
        t = numba.get_thread_id()
        buf = scratch[t]
        cols = indices[start:stop]
        c = conf[start:stop]
        if exact:
            _exact_row(cols, c, other, gram, this[i], mats[t])
        elif stop - start <= max_n:
            _cg_row(cols, c, other, gram, this[i], buf[0], buf[1], buf[2], buf[3], buf[4], steps)
        else:
            xv = np.empty(stop - start)
            _cg_row(cols, c, other, gram, this[i], buf[0], buf[1], buf[2], buf[3], xv, steps)


_half_step_par, _half_step_ser = parallel_and_serial(_half_step_py)


class ALSResult:
    """Factors fitted by :func:`implicit_als`.

    Attributes:
        user_factors: n_users×k factors of the rows of the interaction matrix.
        item_factors: n_items×k factors of its columns.
    """

    def __init__(self, user_factors: np.ndarray, item_factors: np.ndarray) -> None:
        """Hold the two factor matrices."""
        self.user_factors = user_factors
        self.item_factors = item_factors


def _half_step(matrix, this, other, reg, exact, steps):
    gram = other.T @ other + reg * np.eye(other.shape[1])
    k = this.shape[1]
    threads = numba.get_num_threads()
    longest = int(np.diff(matrix.indptr).max(initial=0))
    scratch = np.empty((threads, 5, max(k, min(longest, 4096) + 4)))
    mats = np.empty((threads, k, k))
    work = matrix.nnz * k + this.shape[0] * k * k
    kernel = _half_step_par if work > (1 << 18) else _half_step_ser
    kernel(
        matrix.indptr, matrix.indices, matrix.data, this, other, gram, exact, steps, scratch, mats
    )


def implicit_als(
    counts: sparse.spmatrix,
    factors: int,
    iterations: int = 20,
    reg: float = 0.1,
    weight: float = 40.0,
    method: str = "cg",
    rng: np.random.Generator | None = None,
) -> ALSResult:
    """Fit implicit-feedback ALS to a matrix of interaction counts.

    Factors start as squares of N(0, 0.01²) draws (small and positive, as in LensKit).

    Args:
        counts: n_users×n_items non-negative counts (sparse or dense); zero = no interaction.
        factors: number of latent factors k.
        iterations: alternating rounds (each updates users, then items).
        reg: regularisation ``reg``.
        weight: confidence weight (``c_ui = 1 + weight · r_ui``).
        method: ``"cg"`` (conjugate gradient, 3 steps per round) or ``"lu"`` (exact).
        rng: generator of the initial factors.

    Returns:
        The fitted factors.

    Raises:
        ValueError: on a bad argument (named in the message).
    """
    if method not in ("cg", "lu"):
        raise ValueError(f"method: expected 'cg' or 'lu', got {method!r}")
    for name, value, low in (("factors", factors, 1), ("iterations", iterations, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    if not reg >= 0:
        raise ValueError(f"reg: expected a number >= 0, got {reg!r}")
    if not weight >= 0:
        raise ValueError(f"weight: expected a number >= 0, got {weight!r}")
    matrix = sparse.csr_matrix(counts, dtype=float, copy=True)
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    if matrix.data.size and matrix.data.min() < 0:
        raise ValueError("counts: expected non-negative interaction counts")
    matrix.data *= float(weight)
    transposed = matrix.T.tocsr()
    rng = np.random.default_rng() if rng is None else rng
    items = np.square(rng.standard_normal((matrix.shape[1], int(factors))) * 0.01)
    users = np.square(rng.standard_normal((matrix.shape[0], int(factors))) * 0.01)
    exact = method == "lu"
    for _ in range(int(iterations)):
        _half_step(matrix, users, items, float(reg), exact, CG_STEPS)
        _half_step(transposed, items, users, float(reg), exact, CG_STEPS)
    return ALSResult(users, items)
