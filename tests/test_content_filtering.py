"""ContentFiltering: the behaviours T-RECS's test_ContentFiltering.py checks, and more."""

import itertools

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import nnls

from mesa_recsys import matrix_ops as mo
from mesa_recsys.agents import ItemAgent, UserAgent
from mesa_recsys.components import Creators, Users
from mesa_recsys.metrics import InteractionMeasurement, MSEMeasurement
from mesa_recsys.models import ContentFiltering, RandomRecommender

TOL = 1e-6


def _quiet(cls=ContentFiltering, **kwargs):
    """A model with a metric, so run() does not warn that none is defined."""
    kwargs.setdefault("measurements", [InteractionMeasurement()])
    return cls(**kwargs)


def assert_sizes(model, num_users, num_items, num_attributes):
    assert model.num_users == num_users == model.users.num_users == len(model.users)
    assert model.num_items == num_items == model.items.num_items == len(model.items)
    assert model.users_hat.shape == (num_users, num_attributes)
    assert model.items_hat.shape == (num_attributes, num_items)
    assert model.predicted_scores is not None
    assert model.predicted_user_item_scores.shape == (num_users, num_items)
    assert model.all_interactions.shape == (num_users, num_items)


def scipy_profiles(model):
    """T-RECS's fit: scipy.optimize.nnls(items_hatᵀ, all_interactions[u]) for every user."""
    matrix = mo.to_dense(model.predicted_item_attributes).T.astype(float)
    counts = model.all_interactions.toarray()
    return matrix, counts, np.array([nnls(matrix, c)[0] for c in counts])


def assert_fit_like_scipy(model, unique):
    """users_hat is scipy's NNLS fit: x itself when unique, else the fitted values/objective."""
    matrix, counts, reference = scipy_profiles(model)
    profiles = np.asarray(model.predicted_user_profiles)
    assert np.all(profiles >= 0)
    if unique:
        np.testing.assert_allclose(profiles, reference, atol=TOL, rtol=0)
    else:
        np.testing.assert_allclose(profiles @ matrix.T, reference @ matrix.T, atol=TOL, rtol=0)
        for x, xs, c in zip(profiles, reference, counts):
            fit, best = np.linalg.norm(matrix @ x - c), np.linalg.norm(matrix @ xs - c)
            assert abs(fit - best) <= TOL
    return counts


# --- construction (T-RECS: default, arguments, partial arguments, representations) -----------


def test_default():
    """Defaults: 100 users, 1250 items, 1000 binary attributes; zero profiles and scores."""
    model = ContentFiltering()
    assert_sizes(model, 100, 1250, 1000)
    assert model.num_items_per_iter == 10
    items = model.predicted_item_attributes
    assert set(np.unique(items)) == {0, 1}
    assert 0.45 < items.mean() < 0.55  # binomial(1, 1/2)
    assert np.array_equal(model.predicted_user_profiles, np.zeros((100, 1000)))
    assert not np.any(model.predicted_user_item_scores)
    # true items default to a copy of the representation; true users to N(0, 1) profiles
    assert np.array_equal(model.actual_item_attributes, items)
    assert model.actual_item_attributes is not items
    assert model.actual_user_profiles.shape == (100, 1000)
    assert abs(model.actual_user_profiles.std() - 1.0) < 0.05
    assert model.all_interactions.nnz == 0
    other = ContentFiltering()
    assert not np.array_equal(other.predicted_item_attributes, items)


def test_arguments():
    """Explicit num_users/num_items/num_attributes are honoured."""
    gen = np.random.default_rng(1)
    for _ in range(3):
        u, i, a = (int(v) for v in gen.integers(10, 60, size=3))
        model = ContentFiltering(num_users=u, num_items=i, num_attributes=a)
        assert_sizes(model, u, i, a)
    first = ContentFiltering(num_users=10, num_items=40, num_attributes=30)
    second = ContentFiltering(num_users=10, num_items=40, num_attributes=30)
    assert not np.array_equal(first.predicted_item_attributes, second.predicted_item_attributes)


@pytest.mark.parametrize(
    "given", [c for r in range(4) for c in itertools.combinations(("u", "i", "a"), r)]
)
def test_partial_arguments(given):
    """Every subset of (num_users, num_items, num_attributes); the rest take the defaults."""
    values = {"u": 17, "i": 33, "a": 9}
    kwargs = {
        name: values[key]
        for key, name in (("u", "num_users"), ("i", "num_items"), ("a", "num_attributes"))
        if key in given
    }
    model = ContentFiltering(**kwargs)
    assert_sizes(
        model,
        values["u"] if "u" in given else 100,
        values["i"] if "i" in given else 1250,
        values["a"] if "a" in given else 1000,
    )


def test_representations_are_stored_exactly():
    """Given representations are kept as given and fix U, I and Â."""
    gen = np.random.default_rng(0)
    items = gen.binomial(1, 0.5, size=(12, 40))
    model = ContentFiltering(item_representation=items)
    assert model.predicted_item_attributes is items
    assert_sizes(model, 100, 40, 12)
    users = gen.uniform(size=(15, 12))
    model = ContentFiltering(user_representation=users)
    assert model.predicted_user_profiles is users
    assert_sizes(model, 15, 1250, 12)
    model = ContentFiltering(user_representation=users, item_representation=items)
    assert np.array_equal(model.predicted_user_profiles, users)
    assert np.array_equal(model.predicted_item_attributes, items)
    assert_sizes(model, 15, 40, 12)
    # scores: normalised profiles times the item attributes
    expected = (users / np.linalg.norm(users, axis=1, keepdims=True)) @ items
    np.testing.assert_allclose(model.predicted_user_item_scores, expected, atol=1e-12)
    # true users/items are taken as given too
    true_users, true_items = gen.normal(size=(15, 4)), gen.normal(size=(4, 40))
    model = ContentFiltering(
        actual_user_representation=true_users,
        actual_item_representation=true_items,
        item_representation=items,
    )
    assert np.array_equal(model.actual_user_profiles, true_users)
    assert np.array_equal(model.actual_item_attributes, true_items)
    unit = true_users / np.linalg.norm(true_users, axis=1, keepdims=True)
    np.testing.assert_allclose(model.actual_user_item_scores, unit @ true_items, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"user_representation": np.ones((5, 3)), "item_representation": np.ones((4, 20))},
        {"user_representation": np.ones((5, 4)), "item_representation": np.ones((3, 20))},
        {"user_representation": np.ones((5, 4)), "num_attributes": 5},
        {"item_representation": np.ones((4, 20)), "num_attributes": 3},
        {"user_representation": np.ones((5, 4)), "num_users": 6},
        {"item_representation": np.ones((4, 20)), "num_items": 21},
        {"item_representation": np.ones((4, 20)), "actual_item_representation": np.ones((4, 19))},
        {"user_representation": np.ones((5, 4)), "actual_user_representation": np.ones((6, 4))},
        {"num_items": 5},  # default num_items_per_iter=10 > 5 items
        {"num_items": 20, "num_items_per_iter": 0},
        {"num_users": 0},
        {"num_attributes": 0},
    ],
)
def test_wrong_representations_raise_value_error(kwargs):
    """Inconsistent sizes (users_hat cols vs items_hat rows, counts) raise ValueError."""
    with pytest.raises(ValueError):
        ContentFiltering(**kwargs)


def test_additional_params():
    """verbose, num_items_per_iter (int and "all") and probabilistic_recommendations."""
    model = ContentFiltering(num_items=40, num_attributes=8, verbose=True, num_items_per_iter=7)
    assert model.num_items_per_iter == 7 and model.is_verbose()
    assert model.recommend().shape == (100, 7)
    model = ContentFiltering(num_items=20, num_attributes=8, num_items_per_iter="all")
    assert model.num_items_per_iter == 20 and not model.is_verbose()
    model = ContentFiltering(
        num_items=20, num_attributes=8, num_items_per_iter=3, probabilistic_recommendations=True
    )
    assert model.probabilistic_recommendations
    assert model.recommend().shape == (100, 3)


# --- seeding and determinism ----------------------------------------------------------------


def _seeded_run(seed, steps=2, **sizes):
    model = ContentFiltering(
        seed=seed, record_base_state=True, measurements=[MSEMeasurement()], **sizes
    )
    model.run(steps, disable_tqdm=True)
    return model


@pytest.mark.parametrize("sizes", [{}, {"num_users": 23, "num_items": 41, "num_attributes": 7}])
def test_seeding(sizes):
    """Same seed: identical representations, measurements and system state after run(2)."""
    first, second = _seeded_run(12, **sizes), _seeded_run(12, **sizes)
    other = ContentFiltering(seed=13, **sizes)
    assert np.array_equal(first.predicted_item_attributes, second.predicted_item_attributes)
    assert np.array_equal(first.predicted_user_profiles, second.predicted_user_profiles)
    assert np.array_equal(first.actual_user_profiles, second.actual_user_profiles)
    m1, m2 = first.get_measurements(), second.get_measurements()
    assert m1.keys() == m2.keys() == {"mse", "timesteps"}
    assert len(m1["mse"]) == 3 and m1["mse"] == m2["mse"]
    s1, s2 = first.get_system_state(), second.get_system_state()
    assert s1.keys() == s2.keys()
    assert {"predicted_users", "predicted_items", "predicted_user_scores"} <= s1.keys()
    for key in s1:
        assert len(s1[key]) == len(s2[key])
        assert all(np.array_equal(a, b) for a, b in zip(s1[key], s2[key])), key
    assert not np.array_equal(first.predicted_item_attributes, other.predicted_item_attributes)
    assert not np.array_equal(first.actual_user_profiles, other.actual_user_profiles)


def test_same_seed_same_trajectory():
    """Two models with the same seed make the same interactions, profiles and recommendations."""

    def trajectory(seed):
        model = _quiet(num_users=30, num_items=50, num_attributes=12, seed=seed)
        history = []
        for _ in range(4):
            model.run(1, disable_tqdm=True)
            history.append(model.interactions.copy())
        return model, np.stack(history)

    (a, ha), (b, hb), (c, hc) = trajectory(5), trajectory(5), trajectory(6)
    assert np.array_equal(ha, hb)
    assert np.array_equal(a.predicted_user_profiles, b.predicted_user_profiles)
    assert (a.all_interactions != b.all_interactions).nnz == 0
    assert np.array_equal(a.recommend(), b.recommend())
    assert not np.array_equal(ha, hc)
    assert not np.array_equal(a.predicted_item_attributes, c.predicted_item_attributes)


# --- hand-checked behaviour (T-RECS: recommendations, drift, sparse) -------------------------


def test_recommendations_identity():
    """Users = items = I₅: each user picks its own item, so its profile is e_u and recs are u."""
    model = _quiet(
        actual_user_representation=np.eye(5),
        actual_item_representation=np.eye(5),
        item_representation=np.eye(5),
        num_items_per_iter=5,
    )
    before = model.predicted_user_item_scores.copy()
    assert not np.any(before)
    model.run(1, disable_tqdm=True)
    assert np.array_equal(model.interactions, np.arange(5))
    assert np.array_equal(model.all_interactions.toarray(), np.eye(5))
    np.testing.assert_allclose(model.predicted_user_profiles, np.eye(5), atol=1e-12)
    assert not np.array_equal(model.predicted_user_item_scores, before)
    model.set_num_items_per_iter(1)
    assert np.array_equal(model.recommend(), np.arange(5)[:, None])


def test_hand_checked_profile_with_shared_attributes():
    """Two items sharing an attribute: a user who chose item 0 twice gets x = (2, 0) fit."""
    # items (columns): item 0 = attr 0, item 1 = attrs 0+1, item 2 = attr 1
    items = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    model = _quiet(
        actual_user_representation=np.array([[1.0, -1.0]]),
        actual_item_representation=np.array([[1.0, 0.5, 0.0], [0.0, 0.0, 1.0]]),
        item_representation=items,
        num_items_per_iter=3,
    )
    model.run(2, disable_tqdm=True)  # true scores (1, .5, -1): item 0 both times
    assert np.array_equal(model.all_interactions.toarray(), [[2.0, 0.0, 0.0]])
    # min_{x>=0} ||(x0, x0+x1, x1) - (2, 0, 0)||: x1 = 0 and x0 = 1 (half of the count)
    np.testing.assert_allclose(model.predicted_user_profiles, [[1.0, 0.0]], atol=1e-14)
    np.testing.assert_allclose(model.predicted_user_item_scores, [[1.0, 1.0, 0.0]], atol=1e-14)


def test_drift():
    """Users drifting by 0.5 rotate halfway toward the item they chose and get closer to it."""
    users = np.eye(10)
    items = users + 0.1 * np.roll(users, 1, axis=0)  # item j = e_j + 0.1 e_(j+1)
    model = _quiet(
        actual_user_representation=Users(actual_user_profiles=users.copy(), drift=0.5),
        actual_item_representation=items,
        item_representation=items,
    )
    model.run(1, disable_tqdm=True)
    assert np.array_equal(model.interactions, np.arange(10))  # user u prefers item u
    after = model.actual_user_profiles
    assert not np.array_equal(after, users)

    def angle(a, b):
        cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        return np.arccos(np.clip(cos, -1.0, 1.0))

    chosen = items.T
    np.testing.assert_allclose(angle(after, chosen), 0.5 * angle(users, chosen), atol=1e-10)
    assert np.all(np.linalg.norm(after - chosen, axis=1) < np.linalg.norm(users - chosen, axis=1))
    np.testing.assert_allclose(np.linalg.norm(after, axis=1), 1.0)  # slerp keeps the norm
    np.testing.assert_allclose(model.actual_user_item_scores, after @ items, atol=1e-12)


@pytest.mark.parametrize(
    "sparse_args",
    [
        ("user_representation", "item_representation", "actual_user", "actual_item"),
        ("item_representation",),
        ("user_representation",),
        ("actual_user", "actual_item"),
    ],
)
def test_sparse_matrix(sparse_args):
    """csr representations: run(1) learns the identity profiles and recommends item u to u."""

    def maybe(name, value):
        return sparse.csr_matrix(value) if name in sparse_args else value

    model = _quiet(
        user_representation=maybe("user_representation", np.zeros((5, 5))),
        item_representation=maybe("item_representation", np.eye(5)),
        actual_user_representation=maybe("actual_user", np.eye(5)),
        actual_item_representation=maybe("actual_item", np.eye(5)),
        num_items_per_iter=5,
    )
    before = model.predicted_user_item_scores.copy()
    model.run(1, disable_tqdm=True)
    assert np.array_equal(model.interactions, np.arange(5))
    np.testing.assert_allclose(mo.to_dense(model.predicted_user_profiles), np.eye(5), atol=1e-12)
    assert not np.array_equal(model.predicted_user_item_scores, before)
    model.set_num_items_per_iter(1)
    assert np.array_equal(model.recommend(), np.arange(5)[:, None])


def test_sparse_items_fit_like_dense():
    """A sparse items_hat gives the same profiles as the dense one (same seed)."""
    gen = np.random.default_rng(4)
    items = gen.binomial(1, 0.3, size=(8, 30)).astype(float)
    true_users = gen.normal(size=(20, 8))
    dense = _quiet(actual_user_representation=true_users, item_representation=items, seed=4)
    sp = _quiet(
        actual_user_representation=true_users,
        item_representation=sparse.csr_matrix(items),
        actual_item_representation=items.copy(),
        seed=4,
    )
    dense.run(3, disable_tqdm=True)
    sp.run(3, disable_tqdm=True)
    assert (dense.all_interactions != sp.all_interactions).nnz == 0
    np.testing.assert_allclose(
        mo.to_dense(sp.predicted_user_profiles), dense.predicted_user_profiles, atol=1e-12
    )
    assert_fit_like_scipy(sp, unique=True)


# --- growing the simulation (T-RECS: creators, new users) -----------------------------------


def test_creator_items():
    """50 creators with probability 1: items and items_hat grow to 150 columns in one step."""
    gen = np.random.default_rng(3)
    creators = Creators(gen.uniform(size=(50, 10)), creation_probability=1.0, seed=3)
    model = _quiet(
        actual_user_representation=Users(size=(100, 10), seed=3),
        actual_item_representation=gen.uniform(size=(10, 100)),
        num_attributes=10,
        creators=creators,
        record_base_state=True,
        seed=3,
    )
    model.run(1, disable_tqdm=True)
    assert model.num_items == 150
    assert model.actual_item_attributes.shape == (10, 150)
    assert model.predicted_item_attributes.shape == (10, 150)
    assert model.users.state_history[-1].shape == (100, 150)
    assert model.actual_user_item_scores.shape == (100, 150)
    assert model.predicted_user_item_scores.shape == (100, 150)
    assert len(model.items) == 150 and len(model.agents_by_type[ItemAgent]) == 150
    # the system knows the new items' true attributes; their counts start at zero
    new = model.predicted_item_attributes[:, 100:]
    assert np.array_equal(new, model.actual_item_attributes[:, 100:])
    assert model.all_interactions.shape == (100, 150)
    assert model.all_interactions.sum() == 100
    assert np.array_equal(
        np.asarray(model.all_interactions.sum(axis=0)).ravel(), model.items.interaction_counts
    )
    # the profiles are refitted against the grown items_hat
    assert_fit_like_scipy(model, unique=True)
    model.run(1, disable_tqdm=True)
    assert model.predicted_item_attributes.shape == (10, 200)
    assert model.all_interactions.shape == (100, 200) and model.all_interactions.sum() == 200
    assert_fit_like_scipy(model, unique=True)


def test_new_users():
    """add_users(100): counts 200 everywhere, zero profiles and counts, then they learn."""
    model = _quiet(seed=8)
    model.run(1, disable_tqdm=True)
    new_profiles = np.random.default_rng(8).normal(size=(100, 1000))
    model.add_users(new_profiles)
    assert model.num_users == model.users.num_users == model.users_hat.num_users == 200
    assert model.actual_user_item_scores.shape == (200, 1250)
    assert model.predicted_user_item_scores.shape == (200, 1250)
    assert len(model.agents_by_type[UserAgent]) == 200
    assert np.array_equal(model.actual_user_profiles[100:], new_profiles)
    assert np.array_equal(model.predicted_user_profiles[100:], np.zeros((100, 1000)))
    assert not np.any(model.predicted_user_item_scores[100:])
    assert model.all_interactions.shape == (200, 1250)
    assert model.all_interactions.sum() == 100
    assert model.all_interactions[100:].nnz == 0
    model.run(1, disable_tqdm=True)
    assert np.all(np.any(model.predicted_user_profiles[100:] > 0, axis=1))
    assert model.all_interactions.sum() == 300
    assert np.array_equal(np.asarray(model.all_interactions[100:].sum(axis=1)).ravel(), [1] * 100)
    with pytest.raises(ValueError, match="new_users"):
        model.add_users(np.ones((3, 7)))


# --- the NNLS fit against scipy --------------------------------------------------------------


def test_profiles_match_scipy_nnls_full_rank():
    """Â < I (items_hat of full row rank): users_hat equals per-user scipy nnls to 1e-6."""
    model = _quiet(num_users=40, num_items=60, num_attributes=15, seed=21)
    assert np.linalg.matrix_rank(model.predicted_item_attributes) == 15
    for _ in range(3):  # warm-started refits after every step
        model.run(2, disable_tqdm=True)
        counts = assert_fit_like_scipy(model, unique=True)
    assert counts.sum() == 40 * 6
    profiles = model.predicted_user_profiles
    assert np.any(profiles == 0) and np.any(profiles > 0)


def test_profiles_match_scipy_nnls_rank_deficient():
    """Â > I (rank-deficient items_hatᵀ): same fitted values and objective as scipy."""
    model = _quiet(num_users=30, num_items=25, num_attributes=40, seed=22)
    assert np.linalg.matrix_rank(model.predicted_item_attributes) < 40
    for _ in range(2):
        model.run(3, disable_tqdm=True)
        assert_fit_like_scipy(model, unique=False)
    # each profile is a basic solution: its support is linearly independent
    items = model.predicted_item_attributes.astype(float)
    for x in model.predicted_user_profiles:
        support = np.flatnonzero(x > 0)
        assert np.linalg.matrix_rank(items[support]) == support.size


def test_all_interactions_tally_every_choice():
    """all_interactions[u, i] counts how often u chose i (repeats count again)."""
    model = _quiet(num_users=25, num_items=12, num_attributes=4, num_items_per_iter=3, seed=2)
    tally = np.zeros((25, 12))
    for _ in range(6):
        model.run(1, disable_tqdm=True)
        np.add.at(tally, (np.arange(25), model.interactions), 1.0)
    assert isinstance(model.all_interactions, sparse.csr_matrix)
    assert np.array_equal(model.all_interactions.toarray(), tally)
    assert tally.max() > 1  # some user chose an item again


def test_users_without_interactions_keep_zero_profiles():
    """Users who never interact keep an all-zero profile and zero scores; others learn."""
    gen = np.random.default_rng(6)
    probability = np.ones(20)
    probability[[0, 7, 13]] = 0.0
    users = Users(
        actual_user_profiles=gen.normal(size=(20, 6)), interaction_probability=probability
    )
    model = _quiet(actual_user_representation=users, num_items=30, num_attributes=6, seed=6)
    model.run(4, disable_tqdm=True)
    counts = model.all_interactions.toarray()
    assert not np.any(counts[[0, 7, 13]])
    assert np.array_equal(model.predicted_user_profiles[[0, 7, 13]], np.zeros((3, 6)))
    assert not np.any(model.predicted_user_item_scores[[0, 7, 13]])
    others = np.setdiff1d(np.arange(20), [0, 7, 13])
    assert np.all(counts[others].sum(axis=1) == 4)
    assert np.all(np.any(model.predicted_user_profiles[others] > 0, axis=1))
    assert_fit_like_scipy(model, unique=np.linalg.matrix_rank(model.items_hat.value) == 6)


def test_predicted_scores_are_normalised_profiles_times_items():
    """Scores = (users_hat / ||users_hat||) items_hat after training."""
    model = _quiet(num_users=15, num_items=30, num_attributes=6, seed=9)
    model.run(3, disable_tqdm=True)
    profiles = model.predicted_user_profiles
    expected = mo.normalize_matrix(profiles) @ model.predicted_item_attributes
    np.testing.assert_allclose(model.predicted_user_item_scores, expected, atol=1e-12)
    model.set_num_items_per_iter(4)
    top = np.sort(np.sort(expected, axis=1)[:, ::-1][:, :4], axis=1)
    recs = model.recommend()
    np.testing.assert_allclose(np.sort(np.take_along_axis(expected, recs, axis=1), axis=1), top)


def test_integer_user_representation_is_not_truncated():
    """Profiles are stored as floats (T-RECS would truncate an int users_hat; on purpose)."""
    gen = np.random.default_rng(10)
    items = gen.binomial(1, 0.5, size=(5, 20))
    given = np.zeros((10, 5), dtype=int)
    model = _quiet(user_representation=given, item_representation=items, seed=10)
    model.run(2, disable_tqdm=True)
    profiles = model.predicted_user_profiles
    assert profiles.dtype.kind == "f"
    assert np.any((profiles > 0) & (profiles != np.round(profiles)))
    assert not np.any(given)  # the caller's int array is left alone
    assert_fit_like_scipy(model, unique=np.linalg.matrix_rank(items) == 5)


def test_float_user_representation_is_updated_in_place():
    """As in T-RECS, a float users_hat given by the caller follows the training."""
    gen = np.random.default_rng(11)
    given = np.zeros((10, 5))
    model = _quiet(user_representation=given, item_representation=gen.binomial(1, 0.5, (5, 20)))
    model.run(1, disable_tqdm=True)
    assert model.predicted_user_profiles is given
    assert np.any(given > 0)


def test_refit_follows_changed_items_hat():
    """Changing items_hat (in place, or replacing it) is seen by the next fit (no stale Gram)."""
    model = _quiet(num_users=20, num_items=30, num_attributes=6, seed=12)
    model.run(3, disable_tqdm=True)
    items = model.items_hat.value
    items[:, :10] = 1 - items[:, :10]  # same shape, new values
    model.train()
    assert_fit_like_scipy(model, unique=np.linalg.matrix_rank(items) == 6)
    model.items_hat.value = np.random.default_rng(12).uniform(size=(6, 30))
    model.train()
    assert_fit_like_scipy(model, unique=True)


# --- run options -------------------------------------------------------------------------------


def test_train_between_steps_false_keeps_profiles():
    """train_between_steps=False: counts grow but profiles and scores stay until train()."""
    model = _quiet(num_users=20, num_items=30, num_attributes=6, seed=13)
    model.run(2, disable_tqdm=True)
    profiles = model.predicted_user_profiles.copy()
    scores = model.predicted_user_item_scores.copy()
    model.run(3, train_between_steps=False, disable_tqdm=True)
    assert model.all_interactions.sum() == 20 * 5
    assert np.array_equal(model.predicted_user_profiles, profiles)
    assert np.array_equal(model.predicted_user_item_scores, scores)
    model.train()
    assert not np.array_equal(model.predicted_user_profiles, profiles)
    assert_fit_like_scipy(model, unique=np.linalg.matrix_rank(model.items_hat.value) == 6)
    model.run(1, train_between_steps=True, disable_tqdm=True)
    assert_fit_like_scipy(model, unique=np.linalg.matrix_rank(model.items_hat.value) == 6)


def test_startup_and_train():
    """Start-up steps show random items and learn nothing until the final train()."""
    model = _quiet(num_users=20, num_items=30, num_attributes=6, seed=14)
    model.run(3, startup=True, train_between_steps=False, disable_tqdm=True)
    assert model.all_interactions.sum() == 60
    assert not np.any(model.predicted_user_profiles)
    assert not np.any(model.predicted_user_item_scores)
    other = _quiet(num_users=20, num_items=30, num_attributes=6, seed=14)
    other.startup_and_train(3)
    assert (other.all_interactions != model.all_interactions).nnz == 0
    model.train()
    np.testing.assert_allclose(other.predicted_user_profiles, model.predicted_user_profiles)
    assert np.any(other.predicted_user_profiles)
    assert_fit_like_scipy(other, unique=np.linalg.matrix_rank(other.items_hat.value) == 6)
    # startup with training between steps does train
    trained = _quiet(num_users=20, num_items=30, num_attributes=6, seed=14)
    trained.run(3, startup=True, disable_tqdm=True)
    np.testing.assert_allclose(trained.predicted_user_profiles, model.predicted_user_profiles)


def test_run_warns_without_measurements():
    """run() without metrics warns, as in T-RECS, and still trains."""
    model = ContentFiltering(num_users=5, num_items=20, num_attributes=4, seed=1)
    with pytest.warns(UserWarning, match="No measurements"):
        model.run(1, disable_tqdm=True)
    assert model.all_interactions.sum() == 5


# --- it learns --------------------------------------------------------------------------------


def test_planted_low_rank_beats_random():
    """Planted rank-5 truth: recall@10 of the true top-10 clearly beats RandomRecommender."""
    gen = np.random.default_rng(0)
    num_users, num_items, rank = 300, 100, 5
    true_users = gen.normal(size=(num_users, rank))
    true_items = gen.normal(size=(rank, num_items))
    best = np.argsort(-(true_users @ true_items), axis=1)[:, :10]

    def recall(model):
        recs = model.recommend()
        return np.mean([np.intersect1d(r, b).size / 10 for r, b in zip(recs, best)])

    content = _quiet(
        actual_user_representation=true_users,
        actual_item_representation=true_items,
        item_representation=(true_items > 0).astype(float),
        seed=1,
    )
    content.startup_and_train(20)
    baseline = _quiet(
        RandomRecommender,
        actual_user_representation=true_users,
        actual_item_representation=true_items,
        seed=1,
    )
    baseline.startup_and_train(20)
    cf, rnd = recall(content), recall(baseline)
    assert 0.07 < rnd < 0.13
    assert cf > 0.2 and cf > 2 * rnd
