"""Most similar users with exact tie handling (mesa_recsys.metrics.neighbours)."""

import numpy as np
import pytest
from scipy import sparse

import mesa_recsys.metrics.neighbours as neighbours
from mesa_recsys.metrics import SimilarUserJaccard
from mesa_recsys.metrics.neighbours import PartnerIndex, most_similar_users
from mesa_recsys.models import PopularityRecommender


def _tied_sets(profiles):
    """Brute force: each user's set of best partners (cosine, zero rows score 0)."""
    p = np.asarray(profiles, dtype=float)
    norms = np.linalg.norm(p, axis=1, keepdims=True)
    unit = np.divide(p, norms, out=np.zeros_like(p), where=norms > 0)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    best = sims.max(axis=1)
    return [set(np.flatnonzero(row >= b - 1e-9)) for row, b in zip(sims, best, strict=True)]


CASES = {
    "all equal (popularity)": np.ones((30, 1)),
    "all zero (random)": np.zeros((20, 3)),
    "few directions": np.random.default_rng(1).integers(0, 3, size=(120, 2)).astype(float),
    "mixed": np.vstack(
        [np.ones((10, 2)), np.random.default_rng(2).random((15, 2)), np.zeros((5, 2))]
    ),
    "sparse binary graph": (np.random.default_rng(3).random((60, 60)) < 0.05).astype(float),
}


@pytest.mark.parametrize("many_ties", [64, 2])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_draws_stay_among_the_tied_and_reach_all_of_them(case, kind, many_ties, monkeypatch):
    """Every draw is a tied best partner; small tie sets are all reached; lowest = min."""
    monkeypatch.setattr(neighbours, "MANY_TIES", many_ties)  # 2: the recompute path
    profiles = CASES[case]
    tied = _tied_sets(profiles)
    index = PartnerIndex(sparse.csr_matrix(profiles) if kind == "sparse" else profiles)
    assert index.lowest().tolist() == [min(t) for t in tied]
    rng = np.random.default_rng(0)
    seen = [set() for _ in tied]
    for _ in range(200):
        for u, v in enumerate(index.draw(rng)):
            assert v in tied[u] and v != u
            seen[u].add(v)
    for u, t in enumerate(tied):
        if len(t) <= 4:
            assert seen[u] == t


def test_tied_partners_are_drawn_uniformly_across_groups():
    """User 0 ([1,1]) ties with three [1,0] users and one [0,1] user: 3/4 vs 1/4."""
    profiles = np.array([[1, 1], [1, 0], [2, 0], [3, 0], [0, 5]], dtype=float)
    index = PartnerIndex(profiles, np.array([0]))
    draws = np.concatenate([index.draw(np.random.default_rng(s)) for s in range(4000)])
    share = np.bincount(draws, minlength=5) / draws.size
    assert share[0] == 0
    assert share[1:4] == pytest.approx([0.25, 0.25, 0.25], abs=0.03)
    assert share[4] == pytest.approx(0.25, abs=0.03)
    assert index.lowest().tolist() == [1]


def test_most_similar_users_options():
    profiles = np.ones((6, 2))
    assert most_similar_users(profiles).tolist() == [1, 0, 0, 0, 0, 0]
    drawn = most_similar_users(profiles, ties="random", rng=np.random.default_rng(5))
    assert np.all(drawn != np.arange(6))
    with pytest.raises(ValueError, match="ties"):
        most_similar_users(profiles, ties="first")


def test_random_ties_give_fresh_pairs_each_step_without_touching_the_model():
    """Popularity's estimates are all equal: partners are redrawn at every measurement."""

    def build(metrics):
        return PopularityRecommender(num_users=50, num_items=40, seed=4, measurements=metrics)

    metric = SimilarUserJaccard(seed=1)
    model = build([metric])
    pairs = []
    for _ in range(3):
        model.run(1, disable_tqdm=True)
        pairs.append(metric.last_pairs[:, 1].copy())
    assert not np.array_equal(pairs[0], pairs[1]) and not np.array_equal(pairs[1], pairs[2])
    assert all(np.all(p != np.arange(50)) for p in pairs)
    bare = build([SimilarUserJaccard(ties="lowest")])
    bare.run(3, disable_tqdm=True)
    assert np.array_equal(bare.interactions, model.interactions)  # the draws are the metric's
    again = build([SimilarUserJaccard(seed=1)])
    again.run(3, disable_tqdm=True)
    assert np.array_equal(again.metrics[0].last_pairs, metric.last_pairs)


def test_identical_profiles_draw_as_the_general_path(monkeypatch):
    # one group: the shortcut must give the general kernel's partners for the same draws
    from mesa_recsys.metrics import neighbours

    profiles = np.ones((57, 3))
    subset = np.array([0, 5, 56, 5, 31])
    for users in (None, subset):
        index = neighbours.PartnerIndex(profiles, users)
        fast = index.draw(np.random.default_rng(3))
        monkeypatch.setattr(index, "sizes", np.append(index.sizes, 0))  # two groups: general
        general = index.draw(np.random.default_rng(3))
        monkeypatch.undo()
        np.testing.assert_array_equal(fast, general)
        wanted = np.arange(57) if users is None else subset
        assert (fast != wanted).all() and fast.min() >= 0 and fast.max() < 57
