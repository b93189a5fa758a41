"""Users' choice rule (T-RECS semantics plus our options), DNUsers, and Creators."""

import numpy as np
import pytest

from mesa_recsys import matrix_ops as mo
from mesa_recsys.components import Creators, DNUsers, Users
from mesa_recsys.metrics import MSEMeasurement
from mesa_recsys.models import PopularityRecommender


def _bound(users, items):
    from mesa_recsys.components import Items

    users.bind_items(Items(items))
    return users


def test_attention_exponent_favours_the_top_of_the_list():
    items = np.ones((4, 5))
    items[:, 1] = 1.5
    shown = np.tile(np.arange(5), (5, 1))
    flat = _bound(Users(actual_user_profiles=np.ones((5, 4)), attention_exp=0.0), items)
    assert np.array_equal(flat.get_user_feedback(shown), np.ones(5))
    # 1.5 * 2**-0.8 = 0.86 < 1: position 0 wins
    steep = _bound(Users(actual_user_profiles=np.ones((5, 4)), attention_exp=-0.8), items)
    assert np.array_equal(steep.get_user_feedback(shown), np.zeros(5))


def test_no_repeated_interactions_sequence_and_exhaustion():
    items = np.array([[5.0, 4.0, 3.0]])
    users = _bound(Users(actual_user_profiles=np.ones((4, 1)), repeat_interactions=False), items)
    shown = np.tile(np.arange(3), (4, 1))
    before = users.actual_user_scores.value.copy()
    for expected in (0, 1, 2):
        assert np.array_equal(users.get_user_feedback(shown), np.full(4, expected))
    # every shown item consumed: no interaction (T-RECS would repeat position 0)
    assert np.array_equal(users.get_user_feedback(shown), np.full(4, -1))
    assert np.array_equal(users.actual_user_scores.value, before)


def test_custom_interact_with_items():
    users = _bound(
        Users(size=(3, 2), seed=1, interact_with_items=lambda u, shown: shown[:, -1]),
        np.ones((2, 4)),
    )
    shown = np.array([[0, 1], [2, 3], [1, 0]])
    assert np.array_equal(users.get_user_feedback(shown), [1, 3, 0])


def test_drift_halves_the_angle_and_keeps_norms():
    profiles = np.array([[2.0, 0.0], [0.0, 3.0]])
    items = np.array([[0.0, 1.0], [1.0, 1.0]])  # item 0 = (0, 1), item 1 = (1, 1)
    users = Users(actual_user_profiles=profiles.copy(), drift=0.5)
    m = PopularityRecommender(
        actual_user_representation=users,
        actual_item_representation=items,
        num_items_per_iter=1,
        seed=1,
        measurements=[MSEMeasurement()],
    )
    m.items_hat.value[:] = [[5, 0]]  # both users are shown item 0
    m.train()
    m.step()
    new = m.actual_user_profiles
    assert np.allclose(np.linalg.norm(new, axis=1), [2.0, 3.0])
    # user 0 was at 90 degrees from item 0: now 45; user 1 was aligned: unchanged
    assert np.allclose(new[0], [np.sqrt(2), np.sqrt(2)])
    assert np.allclose(new[1], [0.0, 3.0])
    assert np.allclose(m.actual_user_item_scores, mo.inner_product(new, items))


def test_interaction_probability():
    items = np.ones((1, 6))
    shown = np.tile(np.arange(3), (400, 1))
    never = _bound(Users(size=(400, 1), interaction_probability=0.0, seed=1), items)
    assert np.all(never.get_user_feedback(shown) == -1)
    half = _bound(Users(size=(400, 1), interaction_probability=0.5, seed=1), items)
    share = np.mean(half.get_user_feedback(shown) >= 0)
    assert 0.4 < share < 0.6
    per_user = np.r_[np.zeros(200), np.ones(200)]
    split = _bound(Users(size=(400, 1), interaction_probability=per_user, seed=1), items)
    out = split.get_user_feedback(shown)
    assert np.all(out[:200] == -1) and np.all(out[200:] >= 0)


def test_dn_users_normalisation_values():
    users = DNUsers(actual_user_profiles=[[0, 1, 2, 3, 4]], sigma=0.05, omega=0.25, beta=0.9)
    got = users.normalize_values([120, 130, 140, 150])
    expected = [[0.7620146], [0.82551582], [0.88901703], [0.95251825]]
    assert np.allclose(got, expected, atol=1e-7)
    raw = np.arange(15.0).reshape(3, 5)
    users3 = DNUsers(size=(3, 5), seed=2)
    util = users3.calc_dn_utilities(raw)
    assert util.shape == (3, 5) and not np.allclose(util, raw)


def test_dn_users_run_inside_a_model_reproducibly():
    def run(seed):
        profiles = np.random.default_rng(1).normal(size=(30, 1))
        users = DNUsers(actual_user_profiles=profiles, attention_exp=-0.5)  # noise: model rng
        m = PopularityRecommender(
            actual_user_representation=users,
            actual_item_representation=np.random.default_rng(0).uniform(size=(1, 40)),
            seed=seed,
            measurements=[MSEMeasurement()],
        )
        m.run(3, disable_tqdm=True)
        return m.interactions.copy()

    assert np.array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))


def test_creators_errors_and_generation():
    with pytest.raises(ValueError, match="give actual_creator_profiles or size"):
        Creators()
    with pytest.raises(TypeError, match="actual_creator_profiles"):
        Creators("profiles")
    with pytest.raises(TypeError, match="size"):
        Creators(size=[6, 5])
    for p in (30, -6):
        with pytest.raises(ValueError, match="creation_probability"):
            Creators(size=(6, 5), creation_probability=p)
    assert Creators(size=(6, 5), seed=1).shape == (6, 5)
    c = Creators(np.full((10, 5), 0.5), seed=3)
    for _ in range(5):
        items = c.generate_items()
        assert items.shape[0] == 5 and items.shape[1] <= 10
        assert set(np.unique(items)) <= {0.0, 1.0}
    assert Creators(np.ones((7, 2)), creation_probability=1.0, seed=1).generate_items().shape == (
        2,
        7,
    )
    assert Creators(np.ones((7, 2)), creation_probability=0.0, seed=1).generate_items().shape == (
        2,
        0,
    )
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        Creators(-np.ones((2, 2)), seed=1).generate_items()


def test_learning_creators_move_toward_consumed_items():
    c = Creators(np.full((2, 2), 0.5), learning_rate=0.5, seed=1)
    items = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    creator_of = np.array([0, 1, -1])
    c.update_profiles(np.array([0, 0, 2, -1]), items, creator_of)
    assert np.allclose(c.value, [[0.75, 0.25], [0.5, 0.5]])
