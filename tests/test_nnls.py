"""Batched NNLS (mesa_recsys.nnls): agreement with scipy.optimize.nnls, KKT, inputs."""

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import nnls

from mesa_recsys.nnls import is_positive_definite, nnls_batch, nnls_gram
from mesa_recsys.random import Generator

TOL = 1e-6


def scipy_rows(matrix, targets):
    """scipy.optimize.nnls(matrix, t) for every row t of targets."""
    matrix = np.asarray(matrix, dtype=float)
    return np.array([nnls(matrix, np.asarray(t, dtype=float))[0] for t in targets])


def objective(matrix, x, t):
    return np.linalg.norm(matrix @ x - t)


def kkt_tolerance(matrix, t):
    return 1e-8 * (1.0 + np.linalg.norm(matrix) * np.linalg.norm(t))


def assert_kkt(matrix, targets, solutions):
    """x >= 0, gradient >= -tol, and x_j > 0 only where the gradient vanishes."""
    assert np.all(solutions >= 0)
    for x, t in zip(solutions, targets):
        w = matrix.T @ (t - matrix @ x)  # minus the gradient of ||Mx - t||² / 2
        tol = kkt_tolerance(matrix, t)
        assert np.all(w <= tol), w.max()
        assert np.all(np.abs(w[x > 0]) <= tol)
        assert abs(float(x @ w)) <= tol * (1.0 + np.abs(x).sum())


def assert_same_fit(matrix, targets, ours, reference):
    """Same fitted values and objective (to 1e-6) as the reference; ours is feasible."""
    assert np.all(ours >= 0)
    np.testing.assert_allclose(ours @ matrix.T, reference @ matrix.T, atol=TOL, rtol=0)
    for x, xs, t in zip(ours, reference, targets):
        assert abs(objective(matrix, x, t) - objective(matrix, xs, t)) <= TOL


def assert_basic(matrix, solutions):
    """Each solution's support is a set of linearly independent columns."""
    for x in solutions:
        support = np.flatnonzero(x > 0)
        if support.size:
            assert np.linalg.matrix_rank(matrix[:, support]) == support.size


def planted_problem(seed, m, n, u):
    """Gaussian m×n matrix and u targets M x* + noise, x* of mixed signs (some bounds bind)."""
    gen = np.random.default_rng(seed)
    matrix = gen.normal(size=(m, n))
    truth = gen.normal(size=(u, n))
    targets = truth @ matrix.T + 0.3 * gen.normal(size=(u, m))
    return matrix, targets


# --- hand-checked cases ------------------------------------------------------------------


def test_identity_matrix_clips_negative_targets():
    """With M = I the solution is max(t, 0), exactly."""
    targets = np.array([[3.0, -4.0], [-1.0, 2.5], [-2.0, -7.0], [0.5, 0.25]])
    out = nnls_batch(np.eye(2), targets)
    assert np.array_equal(out, np.maximum(targets, 0.0))


def test_two_variables_one_active_constraint():
    """M = [[1,0],[0,1],[1,1]], t = [2,-1,1]: unconstrained (2,-1), constrained (1.5, 0)."""
    matrix = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    target = np.array([2.0, -1.0, 1.0])
    assert np.allclose(np.linalg.lstsq(matrix, target, rcond=None)[0], [2.0, -1.0])
    out = nnls_batch(matrix, target[None, :])
    np.testing.assert_allclose(out, [[1.5, 0.0]], rtol=0, atol=1e-14)
    assert out[0, 1] == 0.0
    # the same problem in Gram form: G = [[2,1],[1,2]], b = Mᵀt = [3, 0]
    out = nnls_gram(np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([[3.0, 0.0]]))
    np.testing.assert_allclose(out, [[1.5, 0.0]], rtol=0, atol=1e-14)


def test_upper_triangular_hand_case():
    """M = [[1,1],[0,1]], t = [1,-1]: x2 is pinned at 0 and x1 = 1 (residual norm 1)."""
    matrix = np.array([[1.0, 1.0], [0.0, 1.0]])
    out = nnls_batch(matrix, np.array([[1.0, -1.0], [3.0, 2.0]]))
    # second row: M x = t has the positive solution (1, 2), so it is exact
    np.testing.assert_allclose(out, [[1.0, 0.0], [1.0, 2.0]], rtol=0, atol=1e-14)
    assert objective(matrix, out[0], np.array([1.0, -1.0])) == pytest.approx(1.0, abs=1e-14)


def test_all_constraints_active_gives_exact_zero():
    """A target whose projection on every column is negative gives x = 0 exactly."""
    matrix = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    out = nnls_batch(matrix, np.array([[-1.0, -1.0, -1.0], [-2.0, 0.5, -1.0]]))
    assert np.array_equal(out, np.zeros((2, 2)))


def test_exactly_representable_target_is_recovered():
    """t = M x with x > 0 and M of full column rank: the solution is x itself."""
    gen = np.random.default_rng(5)
    matrix = gen.normal(size=(12, 4))
    truth = gen.uniform(0.5, 2.0, size=(3, 4))
    out = nnls_batch(matrix, truth @ matrix.T)
    np.testing.assert_allclose(out, truth, rtol=0, atol=1e-10)


# --- agreement with scipy -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "m", "n", "u"),
    [(0, 8, 3, 20), (1, 30, 10, 25), (2, 60, 25, 15), (3, 100, 40, 10), (4, 5, 5, 30)],
)
def test_matches_scipy_full_rank(seed, m, n, u):
    """Full column rank: x equals scipy's unique minimiser to 1e-6."""
    matrix, targets = planted_problem(seed, m, n, u)
    assert np.linalg.matrix_rank(matrix) == n
    ours, reference = nnls_batch(matrix, targets), scipy_rows(matrix, targets)
    np.testing.assert_allclose(ours, reference, atol=TOL, rtol=0)
    # the instances exercise both kinds of coordinates: some bounds bind, some don't
    assert np.any(ours == 0) and np.any(ours > 0)
    assert_kkt(matrix, targets, ours)


def _rank_deficient(kind, seed):
    gen = np.random.default_rng(seed)
    if kind == "fewer_rows_than_columns":  # fewer items than attributes
        matrix = gen.binomial(1, 0.5, size=(6, 15)).astype(float)
    elif kind == "duplicated_columns":
        matrix = gen.normal(size=(20, 8))
        matrix[:, 5] = matrix[:, 1]
        matrix[:, 7] = matrix[:, 1]
    elif kind == "dependent_columns":
        matrix = gen.normal(size=(20, 8))
        matrix[:, 6] = matrix[:, 0] + 2.0 * matrix[:, 2]
        matrix[:, 7] = matrix[:, 3] - matrix[:, 4]
    elif kind == "binary_duplicates":
        matrix = gen.binomial(1, 0.5, size=(25, 10)).astype(float)
        matrix[:, 9] = matrix[:, 0]
        matrix[:, 8] = matrix[:, 3]
    else:  # wide Gaussian
        matrix = gen.normal(size=(7, 20))
    targets = np.vstack(
        [gen.poisson(2.0, size=(8, matrix.shape[0])), gen.normal(size=(8, matrix.shape[0]))]
    ).astype(float)
    return matrix, targets


@pytest.mark.parametrize(
    "kind",
    [
        "fewer_rows_than_columns",
        "duplicated_columns",
        "dependent_columns",
        "binary_duplicates",
        "wide_gaussian",
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scipy_rank_deficient(kind, seed):
    """Rank-deficient M: same fitted values and objective as scipy, x >= 0, basic support."""
    matrix, targets = _rank_deficient(kind, seed)
    assert np.linalg.matrix_rank(matrix) < matrix.shape[1]
    ours, reference = nnls_batch(matrix, targets), scipy_rows(matrix, targets)
    assert_same_fit(matrix, targets, ours, reference)
    assert_kkt(matrix, targets, ours)
    assert_basic(matrix, ours)


def test_zero_column_gets_zero_weight():
    """An attribute no item has (a zero column of M) gets exactly 0, as in scipy."""
    gen = np.random.default_rng(3)
    matrix = gen.binomial(1, 0.5, size=(30, 6)).astype(float)
    matrix[:, 2] = 0.0
    targets = gen.poisson(3.0, size=(10, 30)).astype(float)
    out = nnls_batch(matrix, targets)
    assert np.array_equal(out[:, 2], np.zeros(10))
    assert_same_fit(matrix, targets, out, scipy_rows(matrix, targets))


@pytest.mark.parametrize("densify", [False, True])
def test_zero_target_rows_give_exact_zero(densify):
    """All-zero target rows give exactly zero (also when warm-started on a support)."""
    gen = np.random.default_rng(7)
    matrix = gen.binomial(1, 0.5, size=(20, 8)).astype(float)
    targets = gen.poisson(1.0, size=(9, 20)).astype(float)
    targets[[0, 4, 8]] = 0.0
    given = targets if densify else sparse.csr_matrix(targets)
    out = nnls_batch(matrix, given)
    assert np.array_equal(out[[0, 4, 8]], np.zeros((3, 8)))
    np.testing.assert_allclose(out, scipy_rows(matrix, targets), atol=TOL, rtol=0)
    warm = nnls_batch(matrix, given, warm_start=np.ones((9, 8)))
    assert np.array_equal(warm[[0, 4, 8]], np.zeros((3, 8)))
    # rank-deficient too
    wide = gen.binomial(1, 0.5, size=(5, 12)).astype(float)
    out = nnls_batch(wide, np.zeros((4, 5)), warm_start=np.ones((4, 12)))
    assert np.array_equal(out, np.zeros((4, 12)))


@pytest.mark.parametrize(
    ("seed", "attributes", "items"), [(0, 10, 40), (1, 25, 60), (2, 40, 25), (3, 30, 30)]
)
def test_binary_items_with_count_targets(seed, attributes, items):
    """ContentFiltering's setting: 0/1 attributes (Â×I) and integer count targets."""
    items_hat = Generator(seed).binomial(1, 0.5, (attributes, items))
    gen = np.random.default_rng(seed + 100)
    counts = np.zeros((30, items))
    for row in counts:  # a few users' cumulative choices, repeats allowed
        np.add.at(row, gen.integers(0, items, size=gen.integers(0, 12)), 1.0)
    matrix = items_hat.T.astype(float)
    ours, reference = nnls_batch(items_hat.T, counts), scipy_rows(matrix, counts)
    if np.linalg.matrix_rank(matrix) == attributes:
        np.testing.assert_allclose(ours, reference, atol=TOL, rtol=0)
    else:
        assert_same_fit(matrix, counts, ours, reference)
        assert_basic(matrix, ours)
    assert_kkt(matrix, counts, ours)
    assert np.array_equal(
        ours[counts.sum(axis=1) == 0], np.zeros_like(ours[counts.sum(axis=1) == 0])
    )


def test_scaling_targets_scales_the_solution():
    """Positive homogeneity: nnls(M, c t) = c nnls(M, t) for c > 0 (here c = 1e6)."""
    matrix, targets = planted_problem(11, 40, 12, 10)
    base = nnls_batch(matrix, targets)
    np.testing.assert_allclose(nnls_batch(matrix, 1e6 * targets), 1e6 * base, rtol=1e-9, atol=0)
    np.testing.assert_allclose(nnls_batch(1e-3 * matrix, targets), 1e3 * base, rtol=1e-9, atol=0)


# --- optimality and warm starts -------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_kkt_conditions(seed):
    """x >= 0, gradient >= -tol and complementary slackness on random instances."""
    gen = np.random.default_rng(seed)
    m, n = gen.integers(5, 40), gen.integers(2, 30)
    matrix = gen.normal(size=(m, n)) * gen.uniform(0.1, 10.0, size=n)
    targets = gen.normal(size=(12, m)) * 5.0
    assert_kkt(matrix, targets, nnls_batch(matrix, targets))


def test_warm_start_matches_cold_start_full_rank():
    """Any warm start (exact, perturbed, full, random, empty) gives the cold-start answer."""
    matrix, targets = planted_problem(21, 50, 20, 20)
    cold = nnls_batch(matrix, targets)
    gen = np.random.default_rng(21)
    perturbed = nnls_batch(matrix, targets + 0.5 * gen.normal(size=targets.shape))
    assert not np.array_equal(perturbed > 0, cold > 0)  # a genuinely different support
    starts = [
        cold,
        perturbed,
        np.ones_like(cold),
        gen.normal(size=cold.shape),
        np.zeros_like(cold),
        -np.ones_like(cold),
    ]
    for warm in starts:
        np.testing.assert_allclose(
            nnls_batch(matrix, targets, warm_start=warm), cold, atol=1e-10, rtol=0
        )


def test_warm_start_rank_deficient_keeps_the_fit():
    """Warm starts on a rank-deficient M (dependent columns in the guess) keep the optimum."""
    matrix, targets = _rank_deficient("duplicated_columns", 4)
    cold = nnls_batch(matrix, targets)
    gen = np.random.default_rng(4)
    for warm in [cold, np.ones_like(cold), gen.normal(size=cold.shape)]:
        out = nnls_batch(matrix, targets, warm_start=warm)
        assert_same_fit(matrix, targets, out, cold)
        assert_basic(matrix, out)
        assert_kkt(matrix, targets, out)


@pytest.mark.parametrize("entering", [1, 2, 5, 64])
def test_entering_width_does_not_change_a_unique_solution(entering):
    """nnls_gram's batch of entering variables only changes the path, not the minimiser."""
    matrix, targets = planted_problem(13, 60, 30, 12)
    gram, rhs = matrix.T @ matrix, targets @ matrix
    np.testing.assert_allclose(
        nnls_gram(gram, rhs, entering=entering), scipy_rows(matrix, targets), atol=TOL, rtol=0
    )


def test_nnls_gram_matches_nnls_batch():
    """nnls_gram(MᵀM, T M) is nnls_batch(M, T); rhs_norms only sets the tolerance."""
    matrix, targets = planted_problem(17, 40, 15, 10)
    expected = nnls_batch(matrix, targets)
    gram, rhs = matrix.T @ matrix, targets @ matrix
    np.testing.assert_allclose(nnls_gram(gram, rhs), expected, atol=1e-10, rtol=0)
    norms = np.linalg.norm(targets, axis=1)
    np.testing.assert_allclose(nnls_gram(gram, rhs, rhs_norms=norms), expected, atol=1e-10, rtol=0)


def test_parallel_kernel_matches_serial_kernel():
    """A batch big enough for the threaded kernel gives the same rows as small serial batches."""
    gen = np.random.default_rng(23)
    matrix = gen.binomial(1, 0.5, size=(150, 64)).astype(float)
    targets = gen.poisson(0.3, size=(1100, 150)).astype(float)  # 1100·64·64 > 2²² cells
    together = nnls_batch(matrix, targets)
    apart = np.vstack([nnls_batch(matrix, targets[i : i + 100]) for i in range(0, 1100, 100)])
    np.testing.assert_allclose(together, apart, atol=1e-12, rtol=0)
    rows = gen.choice(1100, size=20, replace=False)
    np.testing.assert_allclose(together[rows], scipy_rows(matrix, targets[rows]), atol=TOL, rtol=0)


# --- inputs -------------------------------------------------------------------------------


@pytest.mark.parametrize("matrix_format", ["dense", "csr", "csc", "coo", "csr_array"])
@pytest.mark.parametrize("targets_format", ["dense", "csr", "coo"])
def test_dense_and_sparse_inputs_agree(matrix_format, targets_format):
    """Every dense/sparse combination of matrix and targets gives the dense answer."""
    gen = np.random.default_rng(31)
    matrix = gen.binomial(1, 0.4, size=(30, 12)).astype(float)
    targets = gen.poisson(0.5, size=(15, 30)).astype(float)
    targets[3] = 0.0
    convert = {
        "dense": np.asarray,
        "csr": sparse.csr_matrix,
        "csc": sparse.csc_matrix,
        "coo": sparse.coo_matrix,
        "csr_array": sparse.csr_array,
    }
    expected = nnls_batch(matrix, targets)
    out = nnls_batch(convert[matrix_format](matrix), convert[targets_format](targets))
    assert isinstance(out, np.ndarray) and out.shape == (15, 12)
    np.testing.assert_allclose(out, expected, atol=1e-12, rtol=0)
    np.testing.assert_allclose(out, scipy_rows(matrix, targets), atol=TOL, rtol=0)


def test_integer_and_boolean_inputs_are_accepted():
    """Integer/boolean matrices and integer targets are read as floats."""
    matrix = np.array([[1, 0], [0, 1], [1, 1]])
    targets = np.array([[2, -1, 1]])
    expected = [[1.5, 0.0]]
    np.testing.assert_allclose(nnls_batch(matrix, targets), expected, atol=1e-14, rtol=0)
    np.testing.assert_allclose(
        nnls_batch(matrix.astype(bool), targets), expected, atol=1e-14, rtol=0
    )


def test_empty_problems():
    """No targets or no variables give an empty result of the right shape."""
    assert nnls_batch(np.eye(3), np.zeros((0, 3))).shape == (0, 3)
    assert nnls_batch(np.zeros((3, 0)), np.ones((2, 3))).shape == (2, 0)
    assert nnls_gram(np.eye(2), np.zeros((0, 2))).shape == (0, 2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: nnls_batch(None, np.ones((1, 2))), "matrix"),
        (lambda: nnls_batch(np.ones(3), np.ones((1, 3))), "matrix"),
        (lambda: nnls_batch(np.ones((2, 2, 2)), np.ones((1, 2))), "matrix"),
        (lambda: nnls_batch("ab", np.ones((1, 2))), "matrix"),
        (lambda: nnls_batch(np.eye(2), None), "targets"),
        (lambda: nnls_batch(np.eye(2), np.ones(2)), "targets"),
        (lambda: nnls_batch(np.eye(2), np.ones((1, 3))), "targets"),
        (lambda: nnls_batch(np.ones((3, 2)), np.ones((4, 2))), "targets"),
        (lambda: nnls_batch(np.eye(2), np.ones((1, 2)), warm_start=np.ones((2, 2))), "warm_start"),
        (lambda: nnls_batch(np.eye(2), np.ones((1, 2)), warm_start=np.ones((1, 3))), "warm_start"),
        (lambda: nnls_batch(np.array([[np.nan, 0.0], [0.0, 1.0]]), np.ones((1, 2))), "matrix"),
        (lambda: nnls_batch(np.array([[np.inf, 0.0], [0.0, 1.0]]), np.ones((1, 2))), "matrix"),
        (lambda: nnls_batch(np.eye(2), np.array([[np.nan, 1.0]])), "targets"),
        (lambda: nnls_batch(np.eye(2), np.array([[np.inf, 1.0]])), "targets"),
        (lambda: nnls_batch(np.eye(2), sparse.csr_matrix([[np.nan, 1.0]])), "targets"),
        (lambda: nnls_batch("not a matrix", np.ones((1, 2))), "matrix"),
        (lambda: nnls_gram(np.eye(2), np.ones((3, 2)), rhs_norms=np.ones(2)), "rhs_norms"),
        (lambda: nnls_gram(np.ones((2, 3)), np.ones((1, 3))), "gram"),
        (lambda: nnls_gram(np.ones(4), np.ones((1, 4))), "gram"),
        (lambda: nnls_gram(np.eye(2), np.ones((1, 3))), "rhs"),
        (lambda: nnls_gram(np.eye(2), np.ones(2)), "rhs"),
        (lambda: nnls_gram(np.eye(2), np.array([[1.0, np.inf]])), "finite"),
        (lambda: nnls_gram(np.array([[1.0, np.nan], [np.nan, 1.0]]), np.ones((1, 2))), "finite"),
        (lambda: nnls_gram(np.eye(2), np.ones((1, 2)), entering=0), "entering"),
        (lambda: nnls_gram(np.eye(2), np.ones((1, 2)), warm_start=np.ones((3, 2))), "warm_start"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    """Wrong shapes, non-2-D or non-finite input: ValueError that names what is wrong."""
    with pytest.raises(ValueError, match=match):
        call()


def test_too_few_iterations_raise_runtime_error():
    """A row that needs more than maxiter entering steps raises RuntimeError (maxiter named)."""
    matrix, targets = planted_problem(2, 20, 10, 3)
    with pytest.raises(RuntimeError, match="maxiter=0"):
        nnls_batch(matrix, targets, maxiter=0)
    # zero targets need no step at all, so maxiter=0 is enough for them
    assert np.array_equal(nnls_batch(matrix, np.zeros((2, 20)), maxiter=0), np.zeros((2, 10)))
    # the default (3n) is plenty
    np.testing.assert_allclose(
        nnls_batch(matrix, targets), scipy_rows(matrix, targets), atol=TOL, rtol=0
    )


def test_inputs_are_not_modified():
    """The caller's matrix, targets and warm start are left as they were."""
    matrix, targets = planted_problem(9, 15, 6, 4)
    warm = np.ones((4, 6))
    copies = matrix.copy(), targets.copy(), warm.copy()
    nnls_batch(matrix, targets, warm_start=warm)
    for before, after in zip(copies, (matrix, targets, warm)):
        assert np.array_equal(before, after)


def test_is_positive_definite():
    """Cholesky-based check: PD yes; singular PSD, indefinite and negative no."""
    gen = np.random.default_rng(1)
    tall = gen.normal(size=(10, 4))
    wide = gen.normal(size=(3, 6))
    assert is_positive_definite(np.eye(3))
    assert is_positive_definite(tall.T @ tall)
    assert not is_positive_definite(wide.T @ wide)  # rank 3 of 6
    assert not is_positive_definite(np.ones((2, 2)))
    assert not is_positive_definite(np.array([[1.0, 2.0], [2.0, 1.0]]))
    assert not is_positive_definite(-np.eye(2))


def test_list_inputs_are_accepted():
    """Nested lists work like arrays (they are converted, not read for .shape)."""
    x = nnls_batch([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [[2.0, -1.0, 1.0]])
    assert np.allclose(x, [[1.5, 0.0]])
