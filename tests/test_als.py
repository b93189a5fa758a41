"""implicit_als: Hu-Koren-Volinsky ALS checked against a plain numpy reference."""

import numpy as np
import pytest
from scipy import sparse

from mesa_recsys import als
from mesa_recsys.als import implicit_als

# --- numpy reference -----------------------------------------------------------------------


def initial_factors(shape, k, seed):
    """The factors implicit_als starts from: items drawn first, then users."""
    rng = np.random.default_rng(seed)
    items = np.square(rng.standard_normal((shape[1], k)) * 0.01)
    users = np.square(rng.standard_normal((shape[0], k)) * 0.01)
    return users, items


def row_system(counts_row, other, reg, weight):
    """Normal equations (YᵀC_uY + reg I) x = YᵀC_u p_u of one row, dense."""
    conf = 1.0 + weight * counts_row
    pref = (counts_row > 0).astype(float)
    a = other.T @ (conf[:, None] * other) + reg * np.eye(other.shape[1])
    b = other.T @ (conf * pref)
    return a, b


def pcg(a, b, x, steps):
    """Jacobi-preconditioned conjugate gradient from x, ``steps`` iterations."""
    x = x.copy()
    minv = 1.0 / np.diag(a)
    r = b - a @ x
    p = minv * r
    gam = r @ p
    for _ in range(steps):
        if gam == 0.0:
            break
        ap = a @ p
        pap = p @ ap
        if pap <= 0.0:
            break
        alpha = gam / pap
        x += alpha * p
        r -= alpha * ap
        new_gam = r @ (minv * r)
        p = minv * r + (new_gam / gam) * p
        gam = new_gam
    return x


def half_step(dense, this, other, reg, weight, method):
    """Update every row of ``this`` that has an interaction in ``dense``."""
    this = this.copy()
    for u in np.flatnonzero((dense > 0).any(axis=1)):
        a, b = row_system(dense[u], other, reg, weight)
        if method == "lu":
            this[u] = np.linalg.solve(a, b)
        else:
            this[u] = pcg(a, b, this[u], als.CG_STEPS)
    return this


def reference_als(dense, k, iterations, reg, weight, method, seed):
    """The whole fit, in numpy."""
    users, items = initial_factors(dense.shape, k, seed)
    for _ in range(iterations):
        users = half_step(dense, users, items, reg, weight, method)
        items = half_step(dense.T, items, users, reg, weight, method)
    return users, items


def objective(dense, users, items, reg, weight):
    """Σ c (p - xᵀy)² + reg (|X|² + |Y|²) over the full dense matrix."""
    conf = 1.0 + weight * dense
    pref = (dense > 0).astype(float)
    err = pref - users @ items.T
    return float((conf * err**2).sum() + reg * ((users**2).sum() + (items**2).sum()))


def random_counts(shape, nnz, seed, empty_rows=(), empty_cols=()):
    """Dense counts in 1..4 at ``nnz`` random cells, with some all-zero rows/columns."""
    rng = np.random.default_rng(seed)
    dense = np.zeros(shape)
    cells = rng.choice(shape[0] * shape[1], size=nnz, replace=False)
    dense.flat[cells] = rng.integers(1, 5, size=nnz)
    dense[list(empty_rows), :] = 0
    dense[:, list(empty_cols)] = 0
    return dense


# --- tests ---------------------------------------------------------------------------------


def test_iterations_zero_returns_the_documented_initial_factors():
    """With no iterations the factors are the squared N(0, 0.01²) draws, items drawn first."""
    dense = random_counts((7, 5), 12, 0)
    fit = implicit_als(dense, 3, iterations=0, rng=np.random.default_rng(42))
    users, items = initial_factors(dense.shape, 3, 42)
    assert np.array_equal(fit.user_factors, users)
    assert np.array_equal(fit.item_factors, items)
    assert fit.user_factors.shape == (7, 3) and fit.item_factors.shape == (5, 3)
    assert np.all(fit.user_factors >= 0) and fit.user_factors.max() < 0.1


@pytest.mark.parametrize("method", ["lu", "cg"])
def test_one_iteration_matches_numpy_reference(method):
    """One round (users, then items) equals the numpy reference; empty rows/cols keep their start."""
    dense = random_counts((40, 30), 200, 1, empty_rows=(3, 17), empty_cols=(0, 29))
    fit = implicit_als(
        sparse.csr_matrix(dense),
        4,
        iterations=1,
        reg=0.3,
        weight=5.0,
        method=method,
        rng=np.random.default_rng(7),
    )
    users, items = reference_als(dense, 4, 1, 0.3, 5.0, method, 7)
    np.testing.assert_allclose(fit.user_factors, users, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fit.item_factors, items, rtol=1e-10, atol=1e-12)
    start_users, start_items = initial_factors(dense.shape, 4, 7)
    assert np.array_equal(fit.user_factors[[3, 17]], start_users[[3, 17]])
    assert np.array_equal(fit.item_factors[[0, 29]], start_items[[0, 29]])
    assert not np.allclose(fit.user_factors[0], start_users[0])


@pytest.mark.parametrize("method", ["lu", "cg"])
def test_several_iterations_match_numpy_reference(method):
    """Five rounds with the default reg/weight still equal the reference."""
    dense = random_counts((25, 20), 90, 2, empty_rows=(5,), empty_cols=(11,))
    fit = implicit_als(dense, 3, iterations=5, method=method, rng=np.random.default_rng(3))
    users, items = reference_als(dense, 3, 5, 0.1, 40.0, method, 3)
    np.testing.assert_allclose(fit.user_factors, users, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fit.item_factors, items, rtol=1e-8, atol=1e-10)


def test_cg_row_longer_than_scratch_buffer():
    """A row with more than 4096 interactions (buffer allocated per row) matches the reference."""
    rng = np.random.default_rng(4)
    dense = np.zeros((3, 4200))
    dense[0] = rng.integers(1, 3, size=4200)
    dense[1, rng.choice(4200, size=50, replace=False)] = 1
    fit = implicit_als(dense, 3, iterations=1, method="cg", rng=np.random.default_rng(5))
    users, _ = reference_als(dense, 3, 1, 0.1, 40.0, "cg", 5)
    # Only the user half-step has the long row. (The item half-step that follows solves
    # systems with condition numbers ~1e8, where 3 CG steps amplify rounding differences.)
    np.testing.assert_allclose(fit.user_factors, users, rtol=1e-10, atol=1e-12)
    assert np.abs(fit.user_factors[0]).max() > 1.0  # the long row was really updated


def test_lu_objective_decreases_monotonically():
    """Every exact round lowers the full-matrix objective, and it ends far below the start."""
    dense = random_counts((60, 45), 400, 5, empty_rows=(0,), empty_cols=(1,))
    values = []
    for iterations in range(9):
        fit = implicit_als(
            dense, 5, iterations=iterations, method="lu", rng=np.random.default_rng(8)
        )
        values.append(objective(dense, fit.user_factors, fit.item_factors, 0.1, 40.0))
    diffs = np.diff(values)
    assert np.all(diffs <= 1e-9 * values[0]), values
    assert values[-1] < 0.5 * values[0]


def test_cg_objective_close_to_lu_after_20_iterations():
    """CG (3 steps per round) gets within 3 % of the exact solver's objective in 20 rounds."""
    dense = random_counts((80, 60), 600, 6)
    objs = {}
    for method in ("lu", "cg"):
        fit = implicit_als(dense, 6, iterations=20, method=method, rng=np.random.default_rng(9))
        objs[method] = objective(dense, fit.user_factors, fit.item_factors, 0.1, 40.0)
    start = objective(dense, *initial_factors(dense.shape, 6, 9), 0.1, 40.0)
    assert objs["lu"] < 0.5 * start
    assert abs(objs["cg"] - objs["lu"]) <= 0.03 * objs["lu"], objs


def test_fit_reconstructs_preferences():
    """Predicted x·y is high on observed cells and low on unobserved ones (low-rank data)."""
    rng = np.random.default_rng(10)
    blocks = np.kron(np.eye(3), np.ones((10, 8)))  # 3 user groups × 3 item groups
    dense = blocks * rng.integers(1, 3, size=blocks.shape)
    fit = implicit_als(dense, 3, iterations=15, method="lu", rng=rng)
    pred = fit.user_factors @ fit.item_factors.T
    assert pred[dense > 0].min() > 0.8
    assert np.abs(pred[dense == 0]).max() < 0.2


@pytest.mark.parametrize("kind", ["csr", "float_csr", "dense", "int_dense", "coo"])
def test_counts_not_modified(kind):
    """The caller's counts are left untouched (they used to be scaled in place by weight)."""
    dense = random_counts((12, 9), 30, 11)
    counts = {
        "csr": sparse.csr_matrix(dense),
        "float_csr": sparse.csr_matrix(dense.astype(np.float64)),
        "dense": dense.copy(),
        "int_dense": dense.astype(np.int64),
        "coo": sparse.coo_matrix(dense),
    }[kind]
    before = counts.toarray().copy() if sparse.issparse(counts) else counts.copy()
    for method in ("cg", "lu"):
        implicit_als(
            counts, 2, iterations=2, weight=40.0, method=method, rng=np.random.default_rng(0)
        )
    after = counts.toarray() if sparse.issparse(counts) else counts
    assert np.array_equal(after, before)


def test_dense_and_sparse_input_agree():
    """Dense, CSR, CSC, COO with duplicate entries and stored zeros all give the same fit."""
    dense = random_counts((15, 12), 50, 12)
    rows, cols = np.nonzero(dense)
    vals = dense[rows, cols]
    # split every count into 1 + (count-1) duplicates, plus a stored explicit zero
    dup = sparse.coo_matrix(
        (
            np.concatenate([np.ones_like(vals), vals - 1, [0.0]]),
            (np.concatenate([rows, rows, [0]]), np.concatenate([cols, cols, [11]])),
        ),
        shape=dense.shape,
    )
    assert np.array_equal(dup.toarray(), dense)
    inputs = [dense, sparse.csr_matrix(dense), sparse.csc_matrix(dense), dup]
    fits = [implicit_als(c, 3, iterations=4, rng=np.random.default_rng(13)) for c in inputs]
    for fit in fits[1:]:
        np.testing.assert_allclose(fit.user_factors, fits[0].user_factors, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(fit.item_factors, fits[0].item_factors, rtol=1e-12, atol=1e-15)


def test_all_zero_counts_keep_initial_factors():
    """No interactions at all: nothing is updated, whatever the iterations."""
    fit = implicit_als(np.zeros((4, 6)), 2, iterations=3, rng=np.random.default_rng(14))
    users, items = initial_factors((4, 6), 2, 14)
    assert np.array_equal(fit.user_factors, users)
    assert np.array_equal(fit.item_factors, items)


@pytest.mark.parametrize("method", ["lu", "cg"])
def test_deterministic_with_same_seed(method):
    """Same rng seed gives bit-identical factors; another seed gives different ones."""
    dense = random_counts((30, 25), 120, 15)
    a = implicit_als(dense, 4, iterations=5, method=method, rng=np.random.default_rng(1))
    b = implicit_als(dense, 4, iterations=5, method=method, rng=np.random.default_rng(1))
    c = implicit_als(dense, 4, iterations=5, method=method, rng=np.random.default_rng(2))
    assert np.array_equal(a.user_factors, b.user_factors)
    assert np.array_equal(a.item_factors, b.item_factors)
    assert not np.allclose(a.user_factors, c.user_factors)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"method": "qr"}, "method"),
        ({"factors": 0}, "factors"),
        ({"iterations": -1}, "iterations"),
        ({"reg": -0.1}, "reg"),
        ({"reg": float("nan")}, "reg"),
        ({"weight": -1.0}, "weight"),
        ({"weight": float("nan")}, "weight"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, name):
    """Bad arguments raise ValueError whose message starts with the argument's name."""
    args = {"factors": 2, **kwargs}
    with pytest.raises(ValueError, match=f"^{name}:"):
        implicit_als(np.ones((3, 3)), **args)


def test_negative_counts_rejected():
    """Negative interaction counts raise ValueError naming ``counts``."""
    counts = np.ones((3, 3))
    counts[1, 2] = -1
    with pytest.raises(ValueError, match=r"^counts:"):
        implicit_als(counts, 2)
    with pytest.raises(ValueError, match=r"^counts:"):
        implicit_als(sparse.csr_matrix(counts), 2)


def _large_case():
    """3000×2000 counts with 40000 interactions (past the threaded-kernel threshold)."""
    rng = np.random.default_rng(16)
    shape, nnz = (3000, 2000), 40000
    cells = rng.choice(shape[0] * shape[1], size=nnz, replace=False)
    counts = sparse.csr_matrix(
        (rng.integers(1, 4, size=nnz).astype(float), np.unravel_index(cells, shape)), shape=shape
    )
    return counts


def _spy(monkeypatch, name):
    """Wrap kernel ``name`` to record the row count of each half-step it runs."""
    calls = []
    kernel = getattr(als, name)

    def wrapped(*args):
        calls.append(args[3].shape[0])
        return kernel(*args)

    monkeypatch.setattr(als, name, wrapped)
    return calls


@pytest.mark.parametrize("method", ["lu", "cg"])
def test_parallel_kernel_matches_serial_kernel(monkeypatch, method):
    """A fit big enough for the threaded kernel equals the same fit with the serial kernel."""
    counts = _large_case()
    k = 10
    assert counts.nnz * k + counts.shape[0] * k * k > 2**18
    par_calls = _spy(monkeypatch, "_half_step_par")
    par = implicit_als(counts, k, iterations=2, method=method, rng=np.random.default_rng(17))
    assert par_calls == [3000, 2000, 3000, 2000]  # both half-steps ran threaded
    monkeypatch.setattr(als, "_half_step_par", als._half_step_ser)
    ser = implicit_als(counts, k, iterations=2, method=method, rng=np.random.default_rng(17))
    np.testing.assert_allclose(par.user_factors, ser.user_factors, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(par.item_factors, ser.item_factors, rtol=1e-12, atol=1e-15)


def test_parallel_lu_matches_numpy_reference():
    """One exact round on the large case (threaded kernel) equals per-row numpy solves."""
    counts = _large_case()
    k = 10
    fit = implicit_als(counts, k, iterations=1, method="lu", rng=np.random.default_rng(18))
    users, items = initial_factors(counts.shape, k, 18)
    for this, other, mat in ((users, items, counts), (items, users, counts.T.tocsr())):
        gram = other.T @ other + 0.1 * np.eye(k)
        for u in range(mat.shape[0]):
            cols = mat.indices[mat.indptr[u] : mat.indptr[u + 1]]
            if cols.size == 0:
                continue
            conf = 40.0 * mat.data[mat.indptr[u] : mat.indptr[u + 1]]
            y = other[cols]
            this[u] = np.linalg.solve(gram + y.T @ (conf[:, None] * y), y.T @ (1.0 + conf))
    np.testing.assert_allclose(fit.user_factors, users, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.item_factors, items, rtol=1e-9, atol=1e-12)


def test_small_case_uses_serial_kernel(monkeypatch):
    """Below the work threshold only the single-threaded kernel runs."""
    par_calls = _spy(monkeypatch, "_half_step_par")
    ser_calls = _spy(monkeypatch, "_half_step_ser")
    implicit_als(random_counts((20, 10), 40, 19), 3, iterations=1, rng=np.random.default_rng(0))
    assert par_calls == [] and ser_calls == [20, 10]
