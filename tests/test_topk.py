"""The compiled top-k kernels against a brute-force reference."""

import numpy as np
import pytest

from mesa_recsys.topk import random_k_items, top_k_factors, top_k_items, top_k_shared


def _instance(rng):
    num_users, num_items = int(rng.integers(1, 25)), int(rng.integers(1, 50))
    k = int(rng.integers(1, num_items + 1))
    row = rng.integers(0, 4, num_items).astype(float)  # many ties
    signs = rng.choice([-1, 0, 1], num_users)
    excluded = np.where(
        rng.random((num_users, 3)) < 0.6, rng.integers(0, num_items, (num_users, 3)), -1
    )
    return num_users, num_items, k, row, signs, excluded


@pytest.mark.parametrize("trial", range(60))
def test_kernels_return_the_k_best_eligible_items_and_agree(trial):
    rng = np.random.default_rng(trial)
    num_users, num_items, k, row, signs, excluded = _instance(rng)
    scores = signs[:, None] * row[None, :]
    shared = top_k_shared(row, signs, k, trial, excluded)
    generic = top_k_items(lambda r: scores[r], num_users, num_items, k, trial, excluded)
    fused = top_k_factors(signs[:, None].astype(float), row[None, :], k, trial, excluded)
    # the heap kernels share tie-break keys; the shared-order kernel draws ties its own way
    assert np.array_equal(fused, generic)
    for u in range(num_users):
        assert np.array_equal(
            np.take(scores[u], shared[u][shared[u] >= 0]),
            np.take(scores[u], generic[u][generic[u] >= 0]),
        )
        banned = set(excluded[u][excluded[u] >= 0])
        eligible = [i for i in range(num_items) if i not in banned]
        kk = min(k, len(eligible))
        got = generic[u]
        assert np.all(got[kk:] == -1)
        got = got[:kk]
        assert len(set(got)) == kk and not set(got) & banned
        assert np.all(np.diff(scores[u, got]) <= 0)
        best = np.sort(scores[u, eligible])[::-1][:kk]
        assert np.array_equal(scores[u, got], best)


def test_ties_are_broken_uniformly_and_by_seed():
    counts = np.zeros(10)
    for seed in range(3000):
        counts[random_k_items(1, 10, 3, seed)[0]] += 1
    heap = np.zeros(10)
    for seed in range(3000):
        heap[top_k_items(lambda r: np.zeros((1, 10)), 1, 10, 3, seed)[0]] += 1
    expected = 3000 * 3 / 10
    assert np.sum((heap - expected) ** 2 / expected) < 27.9
    expected = 3000 * 3 / 10
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 27.9  # 99.9th percentile of chi-square with 9 degrees of freedom
    a = top_k_items(lambda r: np.zeros((r.stop - r.start, 30)), 5, 30, 4, seed=1)
    b = top_k_items(lambda r: np.zeros((r.stop - r.start, 30)), 5, 30, 4, seed=1)
    c = top_k_items(lambda r: np.zeros((r.stop - r.start, 30)), 5, 30, 4, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert len({tuple(x) for x in a}) > 1  # users get different random tie-breaks


def test_blocks_do_not_change_the_result():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(57, 40))
    whole = top_k_items(lambda r: scores[r], 57, 40, 5, seed=4)
    small = top_k_items(lambda r: scores[r], 57, 40, 5, seed=4, block_cells=100)
    assert np.array_equal(whole, small)
    assert np.array_equal(whole, np.argsort(-scores, axis=1)[:, :5])


def test_wrong_block_shape_is_reported():
    with pytest.raises(ValueError, match="score_fn returned shape"):
        top_k_items(lambda r: np.zeros((1, 3)), 4, 5, 2, seed=1)
