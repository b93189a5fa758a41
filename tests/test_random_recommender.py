"""RandomRecommender: the behaviours T-RECS's test_RandomRecommender.py checks, and more."""

import numpy as np
import pytest
from scipy import sparse

from mesa_recsys.agents import UserAgent
from mesa_recsys.components import Creators, Users
from mesa_recsys.metrics import InteractionMeasurement, MSEMeasurement
from mesa_recsys.models import RandomRecommender


def assert_sizes(model, num_users, num_items):
    assert model.num_users == num_users == model.users_hat.shape[0] == model.users.num_users
    assert model.num_items == num_items == model.items_hat.shape[1] == model.items.num_items
    assert model.predicted_scores is not None
    assert model.predicted_user_item_scores.shape == (num_users, num_items)
    assert not np.any(model.predicted_user_item_scores)
    assert len(model.users) == num_users and len(model.items) == num_items


def _quiet(**kwargs):
    kwargs.setdefault("measurements", [InteractionMeasurement()])
    return RandomRecommender(**kwargs)


def test_default():
    model = RandomRecommender()
    assert_sizes(model, 100, 1250)
    assert model.num_items_per_iter == 10
    assert np.array_equal(model.predicted_user_profiles, np.zeros((100, 1)))
    assert np.array_equal(model.predicted_item_attributes, np.zeros((1, 1250)))


def test_arguments():
    assert_sizes(RandomRecommender(num_users=9, num_items=31, seed=2), 9, 31)


@pytest.mark.parametrize(("num_users", "num_items"), [(9, None), (None, 31)])
def test_partial_arguments(num_users, num_items):
    assert_sizes(
        RandomRecommender(num_users=num_users, num_items=num_items),
        num_users or 100,
        num_items or 1250,
    )


def test_sizes_from_true_representations():
    gen = np.random.default_rng(0)
    model = RandomRecommender(
        actual_user_representation=gen.normal(size=(7, 3)),
        actual_item_representation=gen.normal(size=(3, 25)),
    )
    assert_sizes(model, 7, 25)
    with pytest.raises(ValueError):
        RandomRecommender(actual_user_representation=np.ones((7, 3)), num_users=8)
    with pytest.raises(ValueError):
        RandomRecommender(actual_item_representation=np.ones((3, 25)), num_items=24)
    with pytest.raises(ValueError):  # 10 items per step out of 5: a clear error at once
        RandomRecommender(num_items=5)


@pytest.mark.parametrize("name", ["item_representation", "user_representation", "score_fn"])
def test_representations_warn_and_are_ignored(name):
    value = {
        "item_representation": np.ones((3, 40)),
        "user_representation": np.ones((12, 3)),
        "score_fn": lambda u, i: np.ones((u.shape[0], i.shape[1])),
    }[name]
    with pytest.warns(UserWarning, match=f"ignores {name}"):
        model = RandomRecommender(num_users=12, num_items=40, **{name: value})
    assert_sizes(model, 12, 40)
    assert model.users_hat.shape == (12, 1) and model.items_hat.shape == (1, 40)


def test_additional_params():
    model = RandomRecommender(num_items=30, verbose=False, num_items_per_iter=4)
    assert model.num_items_per_iter == 4 and not model.is_verbose()
    model = RandomRecommender(num_items=30, verbose=True, num_items_per_iter="all")
    assert model.num_items_per_iter == 30 and model.is_verbose()


def _seeded_run(seed, **sizes):
    model = RandomRecommender(
        seed=seed, record_base_state=True, measurements=[MSEMeasurement()], **sizes
    )
    shown = []
    for _ in range(5):
        model.run(1, disable_tqdm=True)
        shown.append(model.items_shown.copy())
    return model, shown


@pytest.mark.parametrize("sizes", [{}, {"num_users": 23, "num_items": 41}])
def test_seeding(sizes):
    (first, shown1), (second, shown2), (other, shown3) = (
        _seeded_run(5, **sizes),
        _seeded_run(5, **sizes),
        _seeded_run(6, **sizes),
    )
    assert all(np.array_equal(a, b) for a, b in zip(shown1, shown2))
    assert not any(np.array_equal(a, b) for a, b in zip(shown1, shown3))
    assert np.array_equal(first.interactions, second.interactions)
    m1, m2 = first.get_measurements(), second.get_measurements()
    assert m1.keys() == m2.keys()
    assert m1["mse"] == m2["mse"] and len(m1["mse"]) == 6
    s1, s2 = first.get_system_state(), second.get_system_state()
    assert s1.keys() == s2.keys()
    for key in s1:
        assert all(np.array_equal(a, b) for a, b in zip(s1[key], s2[key])), key
    assert not np.array_equal(first.actual_user_profiles, other.actual_user_profiles)


def test_recommendations():
    model = _quiet(num_users=5, num_items=5, num_items_per_iter=1, seed=1234)
    assert not np.any(model.predicted_user_item_scores)
    model.run(1, disable_tqdm=True)
    assert not np.any(model.predicted_user_item_scores)
    first, second = model.recommend(), model.recommend()
    assert first.shape == (5, 1)
    assert not np.array_equal(first, second)
    assert np.array_equal(model.predicted_user_profiles, np.zeros((5, 1)))
    assert np.array_equal(model.predicted_item_attributes, np.zeros((1, 5)))


def test_recommendations_are_uniform_and_distinct():
    model = _quiet(num_users=200, num_items=50, num_items_per_iter=5, seed=9)
    counts = np.zeros(50)
    first_slot = np.zeros(50)
    for _ in range(20):
        recs = model.recommend()
        assert all(len(set(row)) == 5 for row in recs)
        counts += np.bincount(recs.ravel(), minlength=50)
        first_slot += np.bincount(recs[:, 0], minlength=50)
    # 20000 draws over 50 items: 400 each, standard deviation about 20
    assert counts.sum() == 20000
    assert counts.min() > 300 and counts.max() < 500
    # every slot is uniform too (no item is systematically shown first): 80 each
    assert first_slot.min() > 40 and first_slot.max() < 130


def test_learns_nothing_from_interactions():
    gen = np.random.default_rng(4)
    model = _quiet(
        actual_user_representation=gen.normal(size=(20, 3)),
        actual_item_representation=gen.normal(size=(3, 30)),
        num_items_per_iter=3,
        seed=4,
    )
    model.run(4, disable_tqdm=True)
    assert not np.any(model.predicted_user_profiles)
    assert not np.any(model.predicted_item_attributes)
    assert model.items.interaction_counts.sum() == 4 * 20
    # users still choose their best shown item by true score
    true = model.actual_user_item_scores
    rows = np.arange(20)
    best = model.items_shown[rows, np.argmax(true[rows[:, None], model.items_shown], axis=1)]
    assert np.array_equal(model.interactions, best)


def test_sparse_matrix():
    model = _quiet(
        actual_user_representation=sparse.csr_matrix(np.eye(5)),
        actual_item_representation=sparse.csr_matrix(np.eye(5)),
        num_items_per_iter=1,
        seed=1234,
    )
    model.run(1, disable_tqdm=True)
    first = model.items_shown.copy()
    model.run(1, disable_tqdm=True)
    assert not np.array_equal(first, model.items_shown)
    # with one item shown, the user takes it
    assert np.array_equal(model.interactions, model.items_shown[:, 0])


def test_creator_items():
    gen = np.random.default_rng(5)
    model = _quiet(
        actual_user_representation=Users(size=(100, 10), seed=5),
        actual_item_representation=gen.uniform(size=(10, 100)),
        creators=Creators(gen.uniform(size=(50, 10)), creation_probability=1.0, seed=5),
        seed=5,
    )
    model.run(1, disable_tqdm=True)
    assert model.num_items == 150
    assert model.actual_item_attributes.shape == (10, 150)
    assert model.predicted_item_attributes.shape == (1, 150)
    assert model.actual_user_item_scores.shape == (100, 150)
    assert not np.any(model.predicted_user_item_scores)
    assert len(model.items) == 150
    # new items are recommendable: over a few calls some of them are shown
    shown = np.concatenate([model.recommend().ravel() for _ in range(3)])
    assert np.any(shown >= 100)


def test_new_users():
    model = _quiet(seed=6)
    model.run(1, disable_tqdm=True)
    model.add_users(np.random.default_rng(6).normal(size=(100, 1)))
    assert model.num_users == 200
    assert model.users.num_users == 200
    assert model.users_hat.num_users == 200
    assert model.actual_user_item_scores.shape == (200, 1250)
    assert len(model.agents_by_type[UserAgent]) == 200
    model.run(1, disable_tqdm=True)
    assert model.items_shown.shape == (200, 10)
    assert model.interactions.shape == (200,)
    assert np.all(model.interactions >= 0)
    assert not np.any(model.predicted_user_item_scores)


def test_exclusions_are_respected_over_a_long_run():
    model = _quiet(num_users=30, num_items=20, num_items_per_iter=4, seed=12)
    history = []
    for _ in range(17):  # the 17th step starts with exactly 4 unconsumed items per user
        model.run(1, repeated_items=False, disable_tqdm=True)
        for user in range(30):
            row = model.items_shown[user]
            assert len(set(row)) == 4
            assert not set(row) & {h[user] for h in history}
        history.append(model.interactions.copy())
    chosen = np.stack(history, axis=1)
    assert all(len(set(row)) == 17 for row in chosen)
    # the last slate was forced: the 4 items each user had left (in random order)
    for user in range(30):
        left = set(range(20)) - set(chosen[user, :16])
        assert set(model.items_shown[user]) == left
    with pytest.raises(ValueError, match="not enough items"):
        model.run(1, repeated_items=False, disable_tqdm=True)
