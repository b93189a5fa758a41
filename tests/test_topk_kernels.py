"""The top-k kernels of ``mesa_recsys.topk`` against a brute-force reference.

Small random instances with many ties and random exclusions: every kernel must return,
per user, the k best eligible items sorted by score (as a multiset of scores, since ties
may be ordered either way), never an excluded item, ``-1`` padding when fewer than k are
eligible, and tie-breaks that are uniform, reproducible from the seed and different
across seeds.
"""

import numpy as np
import pytest

from mesa_recsys.topk import random_k_items, top_k_factors, top_k_items, top_k_shared

#: chi-square critical value for 9 degrees of freedom at p = 1e-4
CHI2_9DF = 33.7


def _exclusions(rng, num_users, num_items):
    width = int(rng.integers(0, 6))
    ex = rng.integers(0, num_items, (num_users, width))
    return np.where(rng.random((num_users, width)) < 0.6, ex, -1)


def _check_against_reference(got, scores, k, excluded):
    """Assert that ``got`` holds the k best eligible items of each row of ``scores``."""
    num_users, num_items = scores.shape
    assert got.shape == (num_users, k)
    for u in range(num_users):
        banned = set() if excluded is None else {int(i) for i in excluded[u] if i >= 0}
        eligible = np.array([i for i in range(num_items) if i not in banned], dtype=int)
        kk = min(k, eligible.size)
        row = got[u]
        assert np.all(row[kk:] == -1), (u, row)
        picked = row[:kk]
        assert np.all((picked >= 0) & (picked < num_items))
        assert len(set(picked.tolist())) == kk  # no duplicates
        assert not set(picked.tolist()) & banned
        picked_scores = scores[u, picked]
        assert np.all(np.diff(picked_scores) <= 0), picked_scores  # best first
        best = np.sort(scores[u, eligible])[::-1][:kk]
        assert np.array_equal(picked_scores, best)  # the same multiset of scores


@pytest.mark.parametrize("trial", range(40))
def test_top_k_items_returns_the_k_best_eligible(trial):
    rng = np.random.default_rng(1000 + trial)
    num_users, num_items = int(rng.integers(1, 15)), int(rng.integers(1, 40))
    k = int(rng.integers(1, num_items + 4))  # sometimes more than are eligible
    scores = rng.integers(-2, 3, (num_users, num_items)).astype(float)
    excluded = _exclusions(rng, num_users, num_items) if trial % 4 else None
    got = top_k_items(lambda rows: scores[rows], num_users, num_items, k, trial, excluded)
    _check_against_reference(got, scores, k, excluded)


@pytest.mark.parametrize("trial", range(40))
def test_top_k_factors_returns_the_k_best_eligible(trial):
    rng = np.random.default_rng(2000 + trial)
    num_users, num_items = int(rng.integers(1, 15)), int(rng.integers(1, 40))
    num_attrs = int(rng.integers(1, 4))
    k = int(rng.integers(1, num_items + 4))
    users = rng.integers(-1, 3, (num_users, num_attrs)).astype(float)
    items = rng.integers(0, 3, (num_attrs, num_items)).astype(float)  # small ints: exact ties
    excluded = _exclusions(rng, num_users, num_items) if trial % 4 else None
    got = top_k_factors(users, items, k, trial, excluded)
    _check_against_reference(got, users @ items, k, excluded)


@pytest.mark.parametrize("trial", range(40))
def test_top_k_shared_returns_the_k_best_eligible(trial):
    rng = np.random.default_rng(3000 + trial)
    num_users, num_items = int(rng.integers(1, 15)), int(rng.integers(1, 40))
    k = int(rng.integers(1, num_items + 4))
    row = rng.integers(0, 4, num_items).astype(float)
    signs = rng.choice([-1, 0, 1], num_users)
    excluded = _exclusions(rng, num_users, num_items) if trial % 4 else None
    got = top_k_shared(row, signs, k, trial, excluded)
    _check_against_reference(got, signs[:, None] * row[None, :], k, excluded)


@pytest.mark.parametrize("trial", range(20))
def test_random_k_items_is_a_k_subset_of_the_eligible(trial):
    rng = np.random.default_rng(4000 + trial)
    num_users, num_items = int(rng.integers(1, 15)), int(rng.integers(1, 40))
    k = int(rng.integers(1, num_items + 4))
    excluded = _exclusions(rng, num_users, num_items)
    got = random_k_items(num_users, num_items, k, trial, excluded)
    _check_against_reference(got, np.zeros((num_users, num_items)), k, excluded)


def _three_kernels(row, signs, k, seed, excluded):
    scores = signs[:, None] * row[None, :]
    generic = top_k_items(lambda rows: scores[rows], signs.size, row.size, k, seed, excluded)
    fused = top_k_factors(signs[:, None].astype(float), row[None, :], k, seed, excluded)
    shared = top_k_shared(row, signs, k, seed, excluded)
    return generic, fused, shared


@pytest.mark.parametrize("trial", range(20))
def test_the_three_kernels_agree_when_there_are_no_ties(trial):
    rng = np.random.default_rng(5000 + trial)
    num_users, num_items = int(rng.integers(1, 15)), int(rng.integers(1, 40))
    k = int(rng.integers(1, num_items + 1))
    row = rng.permutation(num_items).astype(float) + 1.0  # distinct, nonzero
    signs = rng.choice([-1, 1], num_users)
    excluded = _exclusions(rng, num_users, num_items)
    generic, fused, shared = _three_kernels(row, signs, k, trial, excluded)
    assert np.array_equal(generic, fused)
    assert np.array_equal(generic, shared)


def _tied_instance(trial):
    rng = np.random.default_rng(6000 + trial)
    num_users, num_items = int(rng.integers(2, 15)), int(rng.integers(2, 40))
    k = int(rng.integers(1, num_items + 1))
    row = rng.integers(0, 3, num_items).astype(float)
    signs = rng.choice([-1, 0, 1], num_users)
    excluded = _exclusions(rng, num_users, num_items)
    return row, signs, k, excluded


@pytest.mark.parametrize("trial", range(20))
def test_the_heap_kernels_return_identical_arrays_with_ties(trial):
    row, signs, k, excluded = _tied_instance(trial)
    generic, fused, _ = _three_kernels(row, signs, k, trial, excluded)
    assert np.array_equal(generic, fused)


def _above_the_cut(scores_row, picked):
    """The picked items that score strictly above the k-th pick (no tie can displace them)."""
    if picked.size == 0:
        return set()
    cut = scores_row[picked[-1]]
    return {int(i) for i in picked if scores_row[i] > cut}


@pytest.mark.parametrize("trial", range(20))
def test_the_shared_kernel_agrees_with_the_heap_kernels_up_to_ties(trial):
    # The shared-order kernel samples inside the tie group it cuts, the heap kernels rank
    # ties by a hash of (seed, user, item): the same seed need not give the same arrays
    # (a popularity model takes top_k_shared with dense representations and top_k_items
    # with sparse ones). What is guaranteed: per user the same scores in the same order,
    # the same items above the cut, and the same -1 padding.
    row, signs, k, excluded = _tied_instance(trial)
    generic, _, shared = _three_kernels(row, signs, k, trial, excluded)
    scores = signs[:, None] * row[None, :]
    _check_against_reference(shared, scores, k, excluded)
    for u in range(signs.size):
        g, s = generic[u][generic[u] >= 0], shared[u][shared[u] >= 0]
        assert g.size == s.size
        assert np.array_equal(scores[u, g], scores[u, s])
        assert _above_the_cut(scores[u], g) == _above_the_cut(scores[u], s)


def test_random_k_items_is_the_shared_kernel_on_all_zero_scores():
    # random recommendations and interleaved items come from the shared-order kernel, so
    # a random draw and an all-zero (e.g. untrained popularity) ranking agree exactly
    zeros = np.zeros(12)
    got = random_k_items(6, 12, 4, 77)
    assert np.array_equal(got, top_k_shared(zeros, np.ones(6), 4, 77))
    assert np.array_equal(got, top_k_shared(zeros, np.zeros(6), 4, 77))
    _check_against_reference(got, np.zeros((6, 12)), 4, None)
    assert not np.array_equal(got, random_k_items(6, 12, 4, 78))


def _chi_square(counts):
    expected = counts.sum() / counts.size
    return float(np.sum((counts - expected) ** 2 / expected))


@pytest.mark.parametrize("kernel", ["items", "factors", "shared", "random"])
def test_ties_are_broken_uniformly_over_seeds(kernel):
    n, k, seeds = 10, 3, 2000
    picked = np.zeros(n)
    first = np.zeros(n)
    zeros = np.zeros((1, n))
    for seed in range(seeds):
        if kernel == "items":
            got = top_k_items(lambda rows: zeros[rows], 1, n, k, seed)
        elif kernel == "factors":
            got = top_k_factors(np.ones((1, 1)), np.zeros((1, n)), k, seed)
        elif kernel == "shared":
            got = top_k_shared(np.zeros(n), np.ones(1), k, seed)
        else:
            got = random_k_items(1, n, k, seed)
        picked[got[0]] += 1
        first[got[0, 0]] += 1
    assert _chi_square(picked) < CHI2_9DF, picked
    assert _chi_square(first) < CHI2_9DF, first


@pytest.mark.parametrize("kernel", ["items", "shared"])
def test_ties_are_broken_uniformly_over_users(kernel):
    n, users = 10, 3000
    row = np.zeros(n)
    if kernel == "items":
        zeros = np.zeros((users, n))
        got = top_k_items(lambda rows: zeros[rows], users, n, 1, 123)
    else:
        got = top_k_shared(row, np.ones(users), 1, 123)
    assert _chi_square(np.bincount(got[:, 0], minlength=n).astype(float)) < CHI2_9DF


@pytest.mark.parametrize("kernel", ["items", "factors", "shared"])
def test_a_partial_tie_group_is_sampled_uniformly(kernel):
    # item 0 is best; k=3 takes 2 of the 4 items tied at 1; item 5 is never taken
    row = np.array([2.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    taken = np.zeros(6)
    second = np.zeros(6)
    for seed in range(2000):
        if kernel == "items":
            got = top_k_items(lambda rows: row[None, :][rows], 1, 6, 3, seed)
        elif kernel == "factors":
            got = top_k_factors(np.ones((1, 1)), row[None, :], 3, seed)
        else:
            got = top_k_shared(row, np.ones(1), 3, seed)
        assert got[0, 0] == 0
        taken[got[0]] += 1
        second[got[0, 1]] += 1
    assert taken[0] == 2000 and taken[5] == 0
    assert np.all(np.abs(taken[1:5] - 1000) < 120)  # binomial(2000, 1/2): sd 22
    assert np.all(np.abs(second[1:5] - 500) < 100)  # binomial(2000, 1/4): sd 19


def test_excluded_items_never_appear_even_when_they_score_best():
    scores = np.tile(np.arange(8.0), (5, 1))  # item 7 best for everyone
    excluded = np.array([[7, 6], [7, -1], [-1, -1], [0, 7], [6, 6]])
    generic = top_k_items(lambda rows: scores[rows], 5, 8, 3, 1, excluded)
    assert np.array_equal(generic, [[5, 4, 3], [6, 5, 4], [7, 6, 5], [6, 5, 4], [7, 5, 4]])
    fused = top_k_factors(np.ones((5, 1)), np.arange(8.0)[None, :], 3, 1, excluded)
    shared = top_k_shared(np.arange(8.0), np.ones(5), 3, 1, excluded)
    assert np.array_equal(fused, generic)
    assert np.array_equal(shared, generic)


def test_fewer_eligible_items_than_k_pad_with_minus_one():
    excluded = np.array([[0, 1, 2], [0, -1, -1]])
    scores = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
    got = top_k_items(lambda rows: scores[rows], 2, 4, 4, 3, excluded)
    assert np.array_equal(got, [[3, -1, -1, -1], [1, 2, 3, -1]])
    got = random_k_items(2, 4, 4, 3, excluded)
    assert np.array_equal(got[0], [3, -1, -1, -1])
    assert sorted(got[1, :3]) == [1, 2, 3] and got[1, 3] == -1


def test_same_seed_same_output_and_different_seeds_different_ties():
    zeros = np.zeros((20, 30))
    for kernel in (
        lambda s: top_k_items(lambda rows: zeros[rows], 20, 30, 5, s),
        lambda s: top_k_factors(np.ones((20, 1)), np.zeros((1, 30)), 5, s),
        lambda s: top_k_shared(np.zeros(30), np.ones(20), 5, s),
        lambda s: random_k_items(20, 30, 5, s),
    ):
        assert np.array_equal(kernel(1), kernel(1))
        assert not np.array_equal(kernel(1), kernel(2))
        # different users get different tie-breaks under one seed
        assert len({tuple(r) for r in kernel(1)}) > 1


def test_block_sizes_do_not_change_the_result():
    rng = np.random.default_rng(9)
    scores = rng.integers(0, 3, (23, 17)).astype(float)
    excluded = _exclusions(rng, 23, 17)
    whole = top_k_items(lambda rows: scores[rows], 23, 17, 5, 8, excluded)
    blocked = top_k_items(lambda rows: scores[rows], 23, 17, 5, 8, excluded, block_cells=40)
    assert np.array_equal(whole, blocked)
    users = rng.integers(0, 3, (23, 2)).astype(float)
    items = rng.integers(0, 3, (2, 17)).astype(float)
    assert np.array_equal(
        top_k_factors(users, items, 5, 8, excluded),
        top_k_factors(users, items, 5, 8, excluded, block_users=4),
    )
    row = rng.integers(0, 3, 17).astype(float)
    signs = rng.choice([-1, 0, 1], 23)
    assert np.array_equal(
        top_k_shared(row, signs, 5, 8, excluded),
        top_k_shared(row, signs, 5, 8, excluded, block_users=4),
    )


def test_nan_scores_rank_last():
    scores = np.array([[np.nan, 1.0, 0.0, np.nan]])
    got = top_k_items(lambda rows: scores[rows], 1, 4, 3, 0)
    assert list(got[0, :2]) == [1, 2] and got[0, 2] in (0, 3)
    got = top_k_shared(scores[0], np.ones(1), 3, 0)
    assert list(got[0, :2]) == [1, 2] and got[0, 2] in (0, 3)


def test_wrong_score_block_shape_is_a_value_error():
    with pytest.raises(ValueError, match="shape"):
        top_k_items(lambda rows: np.zeros((1, 3)), 2, 4, 1, 0)


def test_k_zero_gives_an_empty_result():
    assert top_k_items(lambda rows: np.zeros((2, 3)), 2, 3, 0, 0).shape == (2, 0)
    assert top_k_factors(np.ones((2, 1)), np.ones((1, 3)), 0, 0).shape == (2, 0)
    assert top_k_shared(np.ones(3), np.ones(2), 0, 0).shape == (2, 0)


def test_shared_kernel_draws_are_pinned():
    """The shared-order walk draws exactly as it always has: same seed, same lists.

    Expected values come from the walk before it was written out in one body (a seeded
    simulation must not change when a kernel gets faster).
    """
    row = np.array([3.0, 1, 3, 0, 2, 3, 1, 0, 0, 2, 3, 1])
    signs = np.array([1, -1, 0, 1, 1, -1])
    excluded = np.array([[0, -1], [3, 3], [-1, -1], [2, 5], [11, 4], [7, -1]])
    assert top_k_shared(row, signs, 5, 2024, excluded).tolist() == [
        [2, 10, 5, 4, 9],
        [8, 7, 1, 6, 11],
        [7, 6, 11, 3, 10],
        [0, 10, 9, 4, 11],
        [0, 5, 2, 10, 9],
        [8, 3, 6, 1, 11],
    ]
    assert top_k_shared(row, signs, 5, 2024).tolist() == [
        [5, 0, 10, 2, 4],
        [3, 8, 7, 1, 6],
        [7, 6, 11, 3, 10],
        [5, 2, 10, 0, 4],
        [0, 5, 2, 10, 9],
        [8, 3, 7, 1, 6],
    ]
    assert random_k_items(3, 12, 4, 7).tolist() == [[3, 5, 7, 9], [9, 3, 5, 11], [6, 10, 7, 2]]


@pytest.mark.parametrize("trial", range(12))
def test_sparse_users_are_ranked_as_by_the_dense_sums(trial):
    """Rows scored over their non-zero weights only give the dense scan's lists and scores."""
    from mesa_recsys import topk

    rng = np.random.default_rng(4000 + trial)
    num_users, num_attrs, num_items = int(rng.integers(1, 60)), int(rng.integers(2, 25)), 50
    users = rng.random((num_users, num_attrs)) * (rng.random((num_users, num_attrs)) < 0.2)
    if trial % 2:  # small integers: exact ties between items
        users = np.round(users * 4)
        items = rng.integers(0, 3, (num_attrs, num_items)).astype(float)
    else:
        items = rng.normal(size=(num_attrs, num_items))
    users[0] = 0.0  # a zero row scores every item 0
    k = int(rng.integers(1, 12))
    excluded = _exclusions(rng, num_users, num_items) if trial % 3 else None
    ptr, idx = topk.exclusion_csr(excluded, slice(0, num_users), num_users)
    ids = np.arange(num_users, dtype=np.int64)
    runs = []
    for skip in (False, True):
        out = np.empty((num_users, k), dtype=np.int64)
        scores = np.empty((num_users, k))
        topk._top_k_factors_ser(
            users, items, k, ids, np.uint64(trial), ptr, idx, out, scores, 4, skip
        )
        runs.append((out, scores))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    _check_against_reference(runs[1][0], users @ items, k, excluded)
    # and the public path takes the same lists (items are finite: zeros are skipped)
    np.testing.assert_array_equal(top_k_factors(users, items, k, trial, excluded), runs[1][0])
