"""matrix_ops and random, with the behaviours T-RECS's tests check for them."""

import networkx as nx
import numpy as np
import pytest
from scipy import sparse

from mesa_recsys import matrix_ops as mo
from mesa_recsys.random import Generator, SocialGraphGenerator


def test_normalize_matrix():
    assert np.array_equal(mo.normalize_matrix(np.eye(3)), np.eye(3))
    assert np.array_equal(mo.normalize_matrix(2 * np.eye(3), axis=0), np.eye(3))
    rows = mo.normalize_matrix(np.arange(16.0).reshape(4, 4))
    assert np.allclose(np.linalg.norm(rows, axis=1), 1)
    assert np.allclose(mo.normalize_matrix(np.array([3.0, 4.0])), [[0.6, 0.8]])
    zero = mo.normalize_matrix(np.array([[0.0, 0.0], [1.0, 1.0]]))
    assert np.array_equal(zero[0], [0, 0])
    sp = mo.normalize_matrix(sparse.csr_matrix([[3.0, 4.0], [0.0, 0.0]]))
    assert sparse.issparse(sp) and np.allclose(sp.toarray(), [[0.6, 0.8], [0, 0]])


def test_inner_product_dense_and_sparse():
    users, items = np.ones((3, 5)), 2 * np.eye(5)
    assert np.array_equal(mo.inner_product(users, items, normalize_users=False), 2 * users)
    both = mo.inner_product(
        sparse.csr_matrix(users), sparse.csr_matrix(items), normalize_users=False
    )
    assert sparse.issparse(both)
    mixed = mo.inner_product(users, sparse.csr_matrix(items), normalize_users=False)
    assert isinstance(mixed, np.ndarray) and np.array_equal(mixed, 2 * users)
    normed = mo.inner_product(np.array([[3.0, 4.0]]), np.eye(2))
    assert np.allclose(normed, [[0.6, 0.8]])
    with pytest.raises(ValueError, match="attributes"):
        mo.inner_product(np.ones((2, 3)), np.ones((2, 2)))


def test_slerp():
    a, b = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    half = mo.slerp(a, b, 0.5)
    assert np.allclose(half, [[np.sqrt(0.5), np.sqrt(0.5)]])
    assert np.allclose(np.linalg.norm(mo.slerp(2 * a, b, 0.3)), 2)
    small = mo.slerp(a, b, 0.05)
    angle = np.degrees(np.arccos(small[0, 0]))
    assert angle == pytest.approx(0.05 * 90)
    assert np.allclose(mo.slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0.0), [[1, 0]])
    assert np.allclose(mo.slerp(a, 3 * a, 0.5), a)  # parallel: unchanged (T-RECS gives NaN)
    with pytest.raises(ValueError, match="perc"):
        mo.slerp(a, b, 1.5)
    with pytest.raises(ValueError, match="opposite"):
        mo.slerp(a, -a, 0.5)
    with pytest.raises(ValueError, match="equal shape"):
        mo.slerp(a, np.ones((2, 2)), 0.5)


def test_dense_sparse_helpers():
    dense, sp = np.ones((3, 2)), sparse.csr_matrix(np.ones((3, 2)))
    assert mo.all_dense(dense, [dense]) and not mo.all_dense(dense, sp)
    assert mo.all_sparse(sp, [sp]) and mo.any_dense(sp, [dense])
    with pytest.raises(TypeError):
        mo.all_dense("abc")
    assert isinstance(mo.hstack([dense, dense]), np.ndarray)
    assert isinstance(mo.hstack([dense, sp]), np.ndarray)
    assert sparse.issparse(mo.hstack([sparse.coo_matrix(dense), sp]))
    assert mo.vstack([dense, sp]).shape == (6, 2)
    for m in (dense, sp):
        grown = mo.add_empty_cols(m, 8)
        assert grown.shape == (3, 10) and mo.to_dense(grown)[:, 2:].sum() == 0
    with pytest.raises(TypeError):
        mo.sparse_dot(dense, sp)
    assert mo.contains_row(np.arange(8).reshape(2, 4), [0, 1, 2, 3])
    assert not mo.contains_row(np.arange(8).reshape(2, 4), [3, 2, 1, 0])
    m = np.array([[1, 5, 2], [7, 0, 7]])
    for axis in (0, 1):
        assert np.array_equal(mo.argmax(m, axis), mo.argmax(sparse.csr_matrix(m), axis))
    with pytest.raises(TypeError):
        mo.to_dense("abc")


def test_top_k_indices_helper():
    scores = np.array([[1.0, 3.0, 2.0], [0.0, 0.0, 5.0]])
    out = mo.top_k_indices(scores, 2, np.random.default_rng(0))
    assert np.array_equal(out[0], [1, 2]) and out[1, 0] == 2


def test_generator():
    assert isinstance(Generator(1).bit_generator, np.random.PCG64)
    assert Generator(5).normal() == Generator(5).normal()
    assert Generator(5).binomial(3, 0.5, 20).tolist() == Generator(5).binomial(3, 0.5, 20).tolist()
    for bg in (np.random.MT19937, np.random.PCG64, np.random.Philox, np.random.SFC64):
        assert isinstance(Generator(bit_generator=bg(1)).bit_generator, bg)
    with pytest.warns(UserWarning, match="bit_generator"):
        Generator(seed=3, bit_generator=np.random.MT19937(1))


def test_social_graph_generator():
    a = SocialGraphGenerator.generate_random_graph(20, seed=3)
    assert isinstance(a, np.ndarray) and a.shape == (20, 20)
    assert np.array_equal(a, SocialGraphGenerator.generate_random_graph(20, seed=3))
    gnm = SocialGraphGenerator.generate_random_graph(
        30, m=40, graph_type=nx.gnm_random_graph, seed=1
    )
    assert np.count_nonzero(gnm) == 80
    ws = SocialGraphGenerator.generate_random_graph(
        25, k=4, p=0.5, graph_type=nx.watts_strogatz_graph, seed=1
    )
    assert ws.shape == (25, 25)
    sparse_p = SocialGraphGenerator.generate_random_graph(200, p=0.01, seed=1)
    assert np.count_nonzero(sparse_p) < 0.05 * 200 * 200  # p is honoured (T-RECS forced 0.5)
    with pytest.raises(ValueError, match="num"):
        SocialGraphGenerator.generate_random_graph("10")
