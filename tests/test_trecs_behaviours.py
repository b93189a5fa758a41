"""Behaviours T-RECS's own test suite checks for Popularity, Random and the base recommender."""

import numpy as np
import pytest

from mesa_recsys.components import Creators
from mesa_recsys.metrics import MSEMeasurement
from mesa_recsys.models import IdealRecommender, PopularityRecommender, RandomRecommender

MODELS = [PopularityRecommender, RandomRecommender, IdealRecommender]


def _sizes(m, users, items):
    assert m.num_users == users == m.users_hat.shape[0] == m.users.num_users == len(m.users)
    assert m.num_items == items == m.items_hat.shape[1] == m.items.num_items == len(m.items)
    assert m.predicted_scores.shape == (users, items)


@pytest.mark.parametrize("cls", MODELS)
def test_defaults_arguments_and_partial_arguments(cls):
    _sizes(cls(), 100, 1250)
    _sizes(cls(num_users=17, num_items=33, seed=1), 17, 33)
    _sizes(cls(num_users=17, seed=1), 17, 1250)
    _sizes(cls(num_items=33, seed=1), 100, 33)
    m = cls(num_items_per_iter=3, verbose=False, seed=1)
    assert m.num_items_per_iter == 3


@pytest.mark.parametrize("cls", MODELS)
def test_no_argument_construction_runs_mesa_style(cls):
    m = cls()
    m.run_for(10)
    assert m.steps == 10 and m.interactions.shape == (100,)


def test_popularity_representations_are_stored_exactly():
    items = np.random.default_rng(0).integers(0, 5, (1, 40))
    users = np.random.default_rng(1).integers(1, 3, (12, 1))
    m = PopularityRecommender(item_representation=items, user_representation=users)
    assert np.array_equal(m.predicted_item_attributes, items)
    assert np.array_equal(m.predicted_user_profiles, users)
    _sizes(m, 12, 40)
    with pytest.raises(ValueError):
        PopularityRecommender(user_representation=np.ones((5, 3)))
    with pytest.raises(ValueError):
        PopularityRecommender(item_representation=np.ones((2, 5)))


def test_popularity_follows_the_most_popular_item():
    m = PopularityRecommender(num_users=30, num_items=20, num_items_per_iter=2, seed=4)
    for _ in range(5):
        m.step()
    m.set_num_items_per_iter(1)
    best = int(np.argmax(m.items_hat.value))
    assert np.all(m.recommend() == best)
    assert np.array_equal(m.users_hat.value, np.ones((30, 1)))


def test_random_recommender_warns_on_representations_and_scores_zero():
    with pytest.warns(UserWarning, match="ignores item_representation"):
        m = RandomRecommender(
            item_representation=np.ones((1, 5)), num_items=5, num_items_per_iter=1
        )
    with pytest.warns(UserWarning, match="ignores user_representation"):
        RandomRecommender(user_representation=np.ones((5, 1)), num_users=5)
    assert m.num_items == 5 and np.all(m.predicted_scores.value == 0)
    m = RandomRecommender(num_users=5, num_items=5, num_items_per_iter=1, seed=1234)
    first = m.recommend()
    m.step()
    assert np.all(m.predicted_scores.value == 0)
    assert not np.array_equal(first, m.recommend())
    assert np.array_equal(m.users_hat.value, np.zeros((5, 1)))


@pytest.mark.parametrize("cls", MODELS)
def test_creator_items(cls):
    creators = Creators(
        size=(50, 10),
        seed=1,
        creation_probability=1.0,
    )
    kwargs = {
        "actual_item_representation": np.random.default_rng(0).uniform(size=(10, 100)),
        "actual_user_representation": np.random.default_rng(1).normal(size=(100, 10)),
    }
    if cls is IdealRecommender:
        kwargs["num_attributes"] = 10
    m = cls(creators=creators, seed=1, measurements=[MSEMeasurement()], **kwargs)
    m.run(1, disable_tqdm=True)
    assert m.items.shape == (10, 150)
    assert m.items_hat.shape[1] == 150
    assert m.actual_user_item_scores.shape == (100, 150)


@pytest.mark.parametrize("cls", MODELS)
def test_new_users(cls):
    m = cls(seed=3, measurements=[MSEMeasurement()])
    m.run(1, disable_tqdm=True)
    m.add_users(np.random.default_rng(0).normal(size=(100, m.users.num_attrs)))
    _sizes(m, 200, 1250)
    assert m.actual_user_item_scores.shape == (200, 1250)
    m.run(1, disable_tqdm=True)
    if cls is PopularityRecommender:
        assert np.array_equal(m.users_hat.value, np.ones((200, 1)))
        assert m.items_hat.value.sum() == 300


def test_all_items_per_iter_follows_the_catalogue():
    creators = Creators(size=(10, 1), creation_probability=1.0, seed=1)
    m = PopularityRecommender(
        num_users=10,
        num_items=50,
        num_items_per_iter="all",
        creators=creators,
        seed=1,
        measurements=[MSEMeasurement()],
    )
    assert m.num_items_per_iter == 50
    m.run(1, disable_tqdm=True)
    assert m.num_items_per_iter == 60
    m.run(1, disable_tqdm=True)
    assert m.num_items_per_iter == 70 and m.recommend().shape == (10, 70)


def test_interleaving_fn_and_full_random_slates():
    m = PopularityRecommender(
        num_users=10,
        num_items=50,
        num_items_per_iter=15,
        seed=1,
        interleaving_fn=lambda k, idx: idx[:, :k],
    )
    shown = m.recommend(random_items_per_iter=15)
    assert np.all(shown == shown[0])
    m = PopularityRecommender(num_users=10, num_items=50, num_items_per_iter=50, seed=1)
    shown = m.recommend(random_items_per_iter=50)
    assert all(sorted(row) == list(range(50)) for row in shown)
    assert len({tuple(row) for row in shown}) == 10


def test_item_order_follows_predicted_scores():
    items_hat = np.zeros((1, 50))
    items_hat[0, :5] = [100, 200, 300, 400, 500]
    m = PopularityRecommender(
        num_users=10, item_representation=items_hat, num_items_per_iter=5, seed=1
    )
    assert np.all(m.generate_recommendations(5) == [4, 3, 2, 1, 0])
    assert np.all(m.generate_recommendations(2) == [4, 3])
    assert np.all(m.recommend() == [4, 3, 2, 1, 0])
