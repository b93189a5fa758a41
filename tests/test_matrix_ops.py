"""matrix_ops: T-RECS's helpers (test_matrix_ops.py in the spec) on exact small cases."""

import numpy as np
import pytest
from scipy import sparse

from mesa_recsys import matrix_ops as mo
from mesa_recsys.components import Component


def _unit_norms(m, axis):
    return np.linalg.norm(mo.to_dense(m), axis=axis)


# --- normalize_matrix -------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1])
def test_normalize_identity_is_unchanged_and_twice_identity_gives_identity(axis):
    assert np.array_equal(mo.normalize_matrix(np.eye(4), axis=axis), np.eye(4))
    assert np.array_equal(mo.normalize_matrix(2 * np.eye(4), axis=axis), np.eye(4))


def test_normalize_rows_of_a_range_matrix():
    m = np.arange(16.0).reshape(4, 4)
    got = mo.normalize_matrix(m)
    assert np.allclose(_unit_norms(got, 1), 1.0, atol=1e-15, rtol=0)
    # each row keeps its direction
    assert np.allclose(got * np.linalg.norm(m, axis=1, keepdims=True), m)
    assert np.allclose(got[0], np.array([0, 1, 2, 3]) / np.sqrt(14))


@pytest.mark.parametrize("num_cols", [1, 3, 8, 9, 20, 127, 128, 129, 300, 1000])
def test_normalized_rows_are_numpys_numbers(num_cols):
    """The compiled rows equal numpy's norm-and-divide bit for bit, special values too."""
    from mesa_recsys import _norms

    rng = np.random.default_rng(num_cols)
    m = rng.standard_normal((40, num_cols)) * 10.0 ** rng.integers(-8, 8, size=(40, 1))
    m[0] = 0.0
    m[1, 0] = np.nan
    m[2, -1] = np.inf
    m[3] = 1e-200  # squares underflow: a zero norm
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        expected = np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)
        got = mo.normalize_matrix(m)
        strided = mo.normalize_matrix(np.asfortranarray(m))
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(strided, expected)
    assert _norms.same_as_numpy(num_cols)  # so the compiled path was the one tested
    np.testing.assert_array_equal(mo.normalize_matrix(m[5]), expected[5:6])
    np.testing.assert_array_equal(
        mo.normalize_matrix(np.arange(3 * num_cols).reshape(3, num_cols)),
        mo.normalize_matrix(np.arange(3.0 * num_cols).reshape(3, num_cols)),
    )


def test_normalize_columns_with_an_extra_column():
    m = np.arange(20.0).reshape(4, 5)
    got = mo.normalize_matrix(m, axis=0)
    assert got.shape == (4, 5)
    assert np.allclose(_unit_norms(got, 0), 1.0)
    assert np.allclose(got[:, 0], np.array([0, 5, 10, 15]) / np.sqrt(350))


def test_normalize_vector_and_zero_rows():
    assert np.allclose(mo.normalize_matrix(np.array([3.0, 4.0])), [[0.6, 0.8]])
    got = mo.normalize_matrix(np.array([[0.0, 0.0], [0.0, 5.0]]))
    assert np.array_equal(got, [[0.0, 0.0], [0.0, 1.0]])


@pytest.mark.parametrize("axis", [0, 1])
def test_normalize_sparse_matches_dense(axis):
    dense = np.array([[0.0, 3.0, 0.0], [4.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
    got = mo.normalize_matrix(sparse.csr_matrix(dense), axis=axis)
    assert sparse.issparse(got)
    assert np.allclose(got.toarray(), mo.normalize_matrix(dense, axis=axis))


# --- inner_product ----------------------------------------------------------------------------


def test_inner_product_unnormalised_and_result_types():
    users = np.ones((3, 5))
    items = 2 * np.eye(5)
    got = mo.inner_product(users, items, normalize_users=False)
    assert isinstance(got, np.ndarray)
    assert np.array_equal(got, np.full((3, 5), 2.0))
    mixed = mo.inner_product(sparse.csr_matrix(users), items, normalize_users=False)
    assert isinstance(mixed, np.ndarray)
    assert np.array_equal(mixed, np.full((3, 5), 2.0))
    mixed = mo.inner_product(users, sparse.csr_matrix(items), normalize_users=False)
    assert isinstance(mixed, np.ndarray)
    both = mo.inner_product(sparse.csr_matrix(users), sparse.csr_matrix(items), False)
    assert sparse.issparse(both)
    assert np.array_equal(both.toarray(), np.full((3, 5), 2.0))


def test_inner_product_normalises_users_by_default():
    users = np.array([[3.0, 4.0], [0.0, 0.0], [0.0, -2.0]])
    items = np.array([[1.0, 10.0], [1.0, 0.0]])
    got = mo.inner_product(users, items)
    assert np.allclose(got, [[1.4, 6.0], [0.0, 0.0], [-1.0, 0.0]])
    sparse_got = mo.inner_product(sparse.csr_matrix(users), sparse.csr_matrix(items))
    assert np.allclose(sparse_got.toarray(), got)


def test_inner_product_normalise_items_and_attribute_mismatch():
    users = np.array([[1.0, 0.0]])
    items = np.array([[3.0, 0.0], [4.0, 2.0]])
    got = mo.inner_product(users, items, normalize_users=False, normalize_items=True)
    assert np.allclose(got, [[0.6, 0.0]])
    with pytest.raises(ValueError, match="attributes"):
        mo.inner_product(np.ones((2, 3)), np.ones((2, 4)))


# --- slerp ------------------------------------------------------------------------------------


def test_slerp_half_way_between_orthogonal_unit_rows():
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[0.0, 1.0], [-1.0, 0.0]])
    got = mo.slerp(a, b, perc=0.5)
    r = 1 / np.sqrt(2)
    assert np.allclose(got, [[r, r], [-r, r]])


def test_slerp_keeps_the_norm_of_the_first_matrix():
    a = np.array([[2.0, 0.0], [0.0, 2.0]])
    b = np.array([[0.0, 7.0], [0.5, 0.0]])
    got = mo.slerp(a, b, perc=0.5)
    assert np.allclose(np.linalg.norm(got, axis=1), 2.0)
    r = np.sqrt(2)
    assert np.allclose(got, [[r, r], [r, r]])


def test_slerp_travels_the_given_fraction_of_the_angle():
    a = np.array([[1.0, 0.0, 0.0]])
    b = np.array([[0.0, 1.0, 0.0]])
    got = mo.slerp(a, b, perc=0.05)
    angle_to_b = np.degrees(np.arccos(got[0] @ b[0] / np.linalg.norm(got[0])))
    assert angle_to_b == pytest.approx(0.95 * 90, abs=1e-10)
    assert np.allclose(mo.slerp(a, b, perc=0.0), a)
    assert np.allclose(mo.slerp(a, b, perc=1.0), b)


def test_slerp_on_vectors_returns_one_row():
    got = mo.slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), perc=0.0)
    assert got.shape == (1, 2)
    assert np.allclose(got, [[1.0, 0.0]])


def test_slerp_of_parallel_rows_leaves_them_unchanged():
    # T-RECS returns NaN here (omega = 0)
    got = mo.slerp(np.array([[2.0, 2.0]]), np.array([[1.0, 1.0]]), perc=0.5)
    assert np.allclose(got, [[2.0, 2.0]])


@pytest.mark.parametrize(
    ("a", "b", "perc"),
    [
        (np.eye(2), np.eye(2)[::-1], 1.5),
        (np.eye(2), np.eye(2)[::-1], -0.1),
        (np.eye(2), np.ones((3, 2)), 0.5),
        (np.array([[1.0, 0.0]]), np.array([[-1.0, 0.0]]), 0.5),
    ],
)
def test_slerp_rejects_bad_input(a, b, perc):
    with pytest.raises(ValueError):
        mo.slerp(a, b, perc=perc)


# --- stacking and type predicates --------------------------------------------------------------


def test_hstack_type_rules():
    a = np.ones((2, 2))
    b = np.zeros((2, 3))
    dense = mo.hstack([a, b])
    assert isinstance(dense, np.ndarray)
    assert np.array_equal(dense, np.hstack([a, b]))
    mixed = mo.hstack([a, sparse.csr_matrix(b)])
    assert isinstance(mixed, np.ndarray)
    assert np.array_equal(mixed, np.hstack([a, b]))
    both = mo.hstack([sparse.coo_matrix(a), sparse.csr_matrix(b)])
    assert sparse.issparse(both)
    assert np.array_equal(both.toarray(), np.hstack([a, b]))


def test_vstack_type_rules():
    a = np.ones((2, 2))
    b = np.zeros((3, 2))
    assert isinstance(mo.vstack([a, b]), np.ndarray)
    mixed = mo.vstack([sparse.csr_matrix(a), b])
    assert isinstance(mixed, np.ndarray)
    assert np.array_equal(mixed, np.vstack([a, b]))
    both = mo.vstack([sparse.coo_matrix(a), sparse.csr_matrix(b)])
    assert sparse.issparse(both)
    assert np.array_equal(both.toarray(), np.vstack([a, b]))


def test_to_dense():
    a = np.arange(6).reshape(2, 3)
    assert mo.to_dense(a) is a
    assert np.array_equal(mo.to_dense(sparse.csr_matrix(a)), a)
    assert np.array_equal(mo.to_dense([[0, 1, 2], [3, 4, 5]]), a)
    assert np.array_equal(mo.to_dense(Component(a)), a)
    assert np.array_equal(mo.all_to_dense(a, sparse.csr_matrix(a))[1], a)
    with pytest.raises(TypeError):
        mo.to_dense("abc")


def test_dense_and_sparse_predicates():
    d = np.ones((2, 2))
    s = sparse.csr_matrix(d)
    assert mo.all_dense(d, d) and mo.any_dense(d, s) and not mo.all_dense(d, s)
    assert mo.all_sparse(s, s) and not mo.all_sparse(s, d) and not mo.any_dense(s, s)
    assert mo.all_dense([d, [d, d]]) and mo.any_dense([s, [s, d]]) and not mo.any_dense([s, [s]])
    for fn in (mo.all_dense, mo.all_sparse, mo.any_dense):
        with pytest.raises(TypeError):
            fn("abc")


def test_add_empty_cols_dense_and_sparse():
    dense = np.arange(15.0).reshape(3, 5)
    got = mo.add_empty_cols(dense, 5)
    assert isinstance(got, np.ndarray)
    assert got.shape == (3, 10)
    assert np.array_equal(got[:, :5], dense) and not got[:, 5:].any()
    got = mo.add_empty_cols(sparse.csr_matrix(dense), 5)
    assert sparse.issparse(got)
    assert got.shape == (3, 10)
    assert np.array_equal(got.toarray()[:, :5], dense) and got.toarray()[:, 5:].sum() == 0


# --- argmax, sparse_dot, contains_row ---------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1])
def test_argmax_dense_and_sparse_agree(axis):
    rng = np.random.default_rng(3)
    m = rng.uniform(0.1, 1.0, size=(6, 7)) * (rng.random((6, 7)) < 0.5)
    m[np.arange(6), np.arange(6)] = 2.0 + np.arange(6)  # every row and column has a maximum > 0
    m[:, 6] = 0.0
    m[0, 6] = 10.0
    dense = mo.argmax(m, axis=axis)
    assert dense.ndim == 1
    assert np.array_equal(dense, np.argmax(m, axis=axis))
    assert np.array_equal(mo.argmax(sparse.csr_matrix(m), axis=axis), dense)


def test_argmax_ties_pick_the_first():
    assert np.array_equal(mo.argmax(np.array([[1, 3, 3], [2, 2, 0]]), axis=1), [1, 0])


def test_sparse_dot():
    a = sparse.csr_matrix(np.array([[1.0, 2.0], [0.0, 1.0]]))
    b = sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert np.array_equal(mo.sparse_dot(a, b).toarray(), [[2.0, 1.0], [1.0, 0.0]])
    with pytest.raises(TypeError):
        mo.sparse_dot(a, np.eye(2))
    with pytest.raises(TypeError):
        mo.sparse_dot(np.eye(2), b)


def test_contains_row():
    m = np.arange(16).reshape(4, 4)
    assert mo.contains_row(m, [0, 1, 2, 3])
    assert mo.contains_row(m, [12, 13, 14, 15])
    assert not mo.contains_row(m, [3, 2, 1, 0])


def test_top_k_indices_best_first_with_random_ties():
    m = np.array([[0.0, 5.0, 1.0, 5.0, 3.0]])
    seen = set()
    for seed in range(40):
        got = mo.top_k_indices(m, 3, np.random.default_rng(seed))
        assert set(got[0, :2]) == {1, 3} and got[0, 2] == 4
        seen.add(tuple(got[0, :2]))
    assert seen == {(1, 3), (3, 1)}
