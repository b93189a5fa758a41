"""PopularityRecommender: the behaviours T-RECS's test_PopularityRecommender.py checks, and more."""

import numpy as np
import pytest
from scipy import sparse

from mesa_recsys.agents import ItemAgent, UserAgent
from mesa_recsys.components import Creators, Users
from mesa_recsys.metrics import InteractionMeasurement, MSEMeasurement
from mesa_recsys.models import PopularityRecommender


def assert_sizes(model, num_users, num_items):
    assert model.num_users == num_users == model.users_hat.shape[0] == model.users.num_users
    assert model.num_items == num_items == model.items_hat.shape[1] == model.items.num_items
    assert model.users_hat.shape == (num_users, 1)
    assert model.items_hat.shape == (1, num_items)
    assert model.predicted_scores is not None
    assert model.predicted_user_item_scores.shape == (num_users, num_items)
    assert len(model.users) == num_users and len(model.items) == num_items


def _quiet(**kwargs):
    kwargs.setdefault("measurements", [InteractionMeasurement()])
    return PopularityRecommender(**kwargs)


def test_default():
    model = PopularityRecommender()
    assert_sizes(model, 100, 1250)
    assert model.num_items_per_iter == 10
    assert np.array_equal(model.predicted_user_profiles, np.ones((100, 1)))
    assert np.array_equal(model.predicted_item_attributes, np.zeros((1, 1250)))
    assert not np.any(model.predicted_user_item_scores)
    # true items default to a copy of the representation; true users to N(0, 1) profiles
    assert np.array_equal(model.actual_item_attributes, np.zeros((1, 1250)))
    assert model.actual_user_profiles.shape == (100, 1)
    assert model.actual_item_attributes is not model.predicted_item_attributes


def test_arguments():
    model = PopularityRecommender(num_users=17, num_items=33, seed=4)
    assert_sizes(model, 17, 33)


@pytest.mark.parametrize(("num_users", "num_items"), [(17, None), (None, 33), (None, None)])
def test_partial_arguments(num_users, num_items):
    model = PopularityRecommender(num_users=num_users, num_items=num_items)
    assert_sizes(model, num_users or 100, num_items or 1250)


def test_representations_are_stored_exactly():
    gen = np.random.default_rng(0)
    items = gen.integers(0, 10, size=(1, 40))
    model = PopularityRecommender(item_representation=items)
    assert np.array_equal(model.predicted_item_attributes, items)
    assert_sizes(model, 100, 40)
    users = gen.integers(1, 4, size=(12, 1))
    model = PopularityRecommender(user_representation=users)
    assert np.array_equal(model.predicted_user_profiles, users)
    assert_sizes(model, 12, 1250)
    model = PopularityRecommender(user_representation=users, item_representation=items)
    assert_sizes(model, 12, 40)
    # positive users are normalised to 1: every user's predicted score of i is its count
    assert np.allclose(model.predicted_user_item_scores, np.tile(items, (12, 1)))


def test_predicted_scores_follow_the_sign_of_the_user_representation():
    items = np.array([[3, 7, 1, 5]])
    model = PopularityRecommender(
        user_representation=np.array([[2], [-1], [0]]),
        item_representation=items,
        num_items_per_iter=1,
        seed=1,
    )
    scores = model.predicted_user_item_scores
    assert np.allclose(scores, [[3, 7, 1, 5], [-3, -7, -1, -5], [0, 0, 0, 0]])
    recs = model.recommend()
    assert recs[0, 0] == 1 and recs[1, 0] == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"user_representation": np.ones((5, 3))},
        {"item_representation": np.ones((2, 5))},
        {"user_representation": np.ones((5, 1)), "num_users": 6},
        {"item_representation": np.ones((1, 5)), "num_items": 6},
        {"actual_user_representation": np.ones((3, 1)), "num_users": 5},
        {"actual_item_representation": np.ones((1, 4)), "num_items": 5},
        {"num_items": 5},  # default num_items_per_iter=10 > 5 items: T-RECS fails only later
        {"num_items": 5, "num_items_per_iter": 0},
        {"num_items": 5, "num_items_per_iter": "some"},
        {"num_users": 0},
    ],
)
def test_wrong_representations_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        PopularityRecommender(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_users": "5"},
        {"num_items": 2.5},
        {"num_items": 20, "num_items_per_iter": 2.5},
        {"user_representation": "ones"},
        {"actual_item_representation": {"a": 1}, "num_items": 20},
        {"num_items": 20, "creators": np.ones((3, 1))},
    ],
)
def test_wrong_types_raise_type_error(kwargs):
    with pytest.raises(TypeError):
        PopularityRecommender(**kwargs)


def test_additional_params():
    model = PopularityRecommender(num_items=20, verbose=True, num_items_per_iter=7)
    assert model.num_items_per_iter == 7
    assert model.is_verbose()
    model = PopularityRecommender(num_items=20, verbose=False, num_items_per_iter="all")
    assert model.num_items_per_iter == 20 and not model.is_verbose()
    model = PopularityRecommender(
        num_items=20, num_items_per_iter=3, probabilistic_recommendations=True
    )
    assert model.probabilistic_recommendations
    assert model.recommend().shape == (100, 3)


def _seeded_run(seed, **sizes):
    model = PopularityRecommender(
        seed=seed, record_base_state=True, measurements=[MSEMeasurement()], **sizes
    )
    model.run(5, disable_tqdm=True)
    return model


@pytest.mark.parametrize("sizes", [{}, {"num_users": 23, "num_items": 41}])
def test_seeding(sizes):
    first, second, other = (
        _seeded_run(12, **sizes),
        _seeded_run(12, **sizes),
        _seeded_run(13, **sizes),
    )
    assert np.array_equal(first.actual_user_profiles, second.actual_user_profiles)
    assert np.array_equal(first.predicted_item_attributes, second.predicted_item_attributes)
    m1, m2 = first.get_measurements(), second.get_measurements()
    assert m1.keys() == m2.keys() == {"mse", "timesteps"}
    assert len(m1["mse"]) == 6
    assert m1["mse"] == m2["mse"]
    s1, s2 = first.get_system_state(), second.get_system_state()
    assert s1.keys() == s2.keys()
    assert {"predicted_users", "predicted_items", "predicted_user_scores"} <= s1.keys()
    for key in s1:
        assert len(s1[key]) == len(s2[key])
        assert all(np.array_equal(a, b) for a, b in zip(s1[key], s2[key])), key
    assert len(s1["predicted_items"]) == 6
    assert not np.array_equal(first.actual_user_profiles, other.actual_user_profiles)
    assert not np.array_equal(first.predicted_item_attributes, other.predicted_item_attributes)


def test_recommendations_hand_checked():
    # user u likes only attribute u; item 0 has 10 in every attribute, the rest nothing
    users = np.eye(5)
    items = np.zeros((5, 5))
    items[:, 0] = 10
    model = _quiet(
        actual_user_representation=users, actual_item_representation=items, num_items_per_iter=5
    )
    before = model.predicted_user_item_scores.copy()
    assert not np.any(before)
    model.run(1, disable_tqdm=True)
    assert np.array_equal(model.interactions, np.zeros(5))
    assert not np.array_equal(model.predicted_user_item_scores, before)
    assert np.array_equal(model.predicted_item_attributes, [[5, 0, 0, 0, 0]])
    assert np.array_equal(model.predicted_user_profiles, np.ones((5, 1)))
    model.set_num_items_per_iter(1)
    assert np.array_equal(model.recommend(), np.zeros((5, 1)))
    # the ranking is by count, highest first
    model.set_num_items_per_iter(5)
    assert np.all(model.recommend()[:, 0] == 0)


def test_follows_the_most_popular_item():
    gen = np.random.default_rng(2)
    model = _quiet(
        actual_user_representation=gen.normal(size=(30, 4)),
        actual_item_representation=gen.normal(size=(4, 20)),
        num_items_per_iter=2,
        seed=2,
    )
    model.run(5, disable_tqdm=True)
    counts = model.predicted_item_attributes.ravel()
    assert counts.sum() == 5 * 30
    assert np.array_equal(counts, model.items.interaction_counts)
    assert [a.popularity for a in sorted(model.items, key=lambda a: a.index)] == list(counts)
    model.set_num_items_per_iter(1)
    best = np.flatnonzero(counts == counts.max())
    assert best.size == 1  # (this seed) a single most popular item
    assert np.all(model.recommend() == best[0])


def test_without_repeated_items_each_user_walks_down_the_ranking():
    model = _quiet(
        item_representation=np.array([[50, 40, 30, 20, 10]]), num_users=5, num_items_per_iter=1
    )
    chosen = []
    for _ in range(3):
        model.run(1, repeated_items=False, disable_tqdm=True)
        chosen.append(model.interactions.copy())
    assert np.array_equal(np.stack(chosen), np.array([[0] * 5, [1] * 5, [2] * 5]))
    assert np.array_equal(model.predicted_item_attributes, [[55, 45, 35, 20, 10]])


def test_sparse_matrix():
    users = sparse.csr_matrix(np.eye(5))
    items = np.zeros((5, 5))
    items[:, 0] = 10
    model = _quiet(
        actual_user_representation=users,
        actual_item_representation=sparse.csr_matrix(items),
        num_items_per_iter=5,
    )
    before = model.predicted_user_item_scores.copy()
    model.run(1, disable_tqdm=True)
    assert not np.array_equal(model.predicted_user_item_scores, before)
    model.set_num_items_per_iter(1)
    assert np.array_equal(model.recommend(), np.zeros((5, 1)))

    # sparse representations stay sparse and count the same way
    model = _quiet(
        user_representation=sparse.csr_matrix(np.ones((4, 1))),
        item_representation=sparse.csr_matrix(np.zeros((1, 8))),
        num_items_per_iter=3,
        seed=1,
    )
    model.run(2, disable_tqdm=True)
    assert sparse.issparse(model.predicted_item_attributes)
    assert model.predicted_item_attributes.sum() == 8
    assert np.array_equal(
        model.predicted_item_attributes.toarray().ravel(), model.items.interaction_counts
    )
    model = _quiet(
        user_representation=sparse.csr_matrix(np.ones((4, 1))),
        num_items=9,
        num_items_per_iter=3,
        seed=1,
    )
    model.run(2, disable_tqdm=True)
    assert model.predicted_item_attributes.sum() == 8


def test_creator_items():
    gen = np.random.default_rng(3)
    creators = Creators(gen.uniform(size=(50, 10)), creation_probability=1.0, seed=3)
    model = _quiet(
        actual_user_representation=Users(size=(100, 10), seed=3),
        actual_item_representation=gen.uniform(size=(10, 100)),
        creators=creators,
        seed=3,
    )
    model.run(1, disable_tqdm=True)
    assert model.num_items == 150
    assert model.actual_item_attributes.shape == (10, 150)
    assert model.predicted_item_attributes.shape == (1, 150)
    assert model.actual_user_item_scores.shape == (100, 150)
    assert model.predicted_user_item_scores.shape == (100, 150)
    assert len(model.items) == 150 and len(model.agents_by_type[ItemAgent]) == 150
    # new items start at zero and count this step's interactions like the rest
    assert model.predicted_item_attributes.sum() == 100
    assert np.array_equal(model.predicted_item_attributes.ravel(), model.items.interaction_counts)
    with pytest.raises(ValueError, match="creators"):
        PopularityRecommender(num_items=20, creators=Creators(np.ones((2, 3)) / 2))


def test_new_users():
    model = _quiet(seed=8)
    model.run(1, disable_tqdm=True)
    new_profiles = np.random.default_rng(8).normal(size=(100, 1))
    model.add_users(new_profiles)
    assert model.num_users == 200
    assert model.users.num_users == 200
    assert model.users_hat.num_users == 200
    assert model.actual_user_item_scores.shape == (200, 1250)
    assert model.predicted_user_item_scores.shape == (200, 1250)
    assert len(model.users) == 200 and len(model.agents_by_type[UserAgent]) == 200
    assert np.array_equal(model.actual_user_profiles[100:], new_profiles)
    # newcomers see the same popularity ranking as everyone else
    scores = model.predicted_user_item_scores
    assert np.allclose(scores[100:], scores[:1])
    model.run(1, disable_tqdm=True)
    assert np.array_equal(model.predicted_user_profiles, np.ones((200, 1)))
    assert model.predicted_item_attributes.sum() == 300
    assert model.interactions.shape == (200,)
    with pytest.raises(ValueError, match="new_users"):
        model.add_users(np.ones((3, 2)))


def test_exclusions_are_respected_over_a_long_run():
    gen = np.random.default_rng(11)
    model = _quiet(
        actual_user_representation=gen.normal(size=(30, 3)),
        actual_item_representation=gen.normal(size=(3, 20)),
        num_items_per_iter=3,
        seed=11,
    )
    history = []
    for _ in range(15):  # 20 items, 3 shown: the last step leaves exactly 5 to choose from
        model.run(1, repeated_items=False, disable_tqdm=True)
        for user in range(30):
            row = model.items_shown[user]
            assert len(set(row)) == 3
            assert not set(row) & {h[user] for h in history}
        history.append(model.interactions.copy())
    chosen = np.stack(history, axis=1)
    assert all(len(set(row)) == 15 for row in chosen)
    assert np.count_nonzero(model.indices == -1) == 30 * 15
    # the recommended items are the most popular ones each user has not consumed yet
    counts = model.predicted_item_attributes.ravel()
    recs = model.recommend(repeated_items=False)
    for user in range(30):
        left = np.setdiff1d(np.arange(20), chosen[user])
        best = np.sort(counts[left])[::-1][:3]
        assert np.array_equal(np.sort(counts[recs[user]])[::-1], best)
