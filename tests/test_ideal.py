"""IdealRecommender: recommendations are the users' true top items, kept exact over time."""

import numpy as np
import pytest
from scipy import sparse

from mesa_recsys import matrix_ops as mo
from mesa_recsys.agents import ItemAgent, UserAgent
from mesa_recsys.components import Creators, Users
from mesa_recsys.metrics import InteractionMeasurement, MSEMeasurement
from mesa_recsys.models import IdealRecommender

# user u cares only about attribute u (users = identity); true scores = ITEMS
ITEMS = np.array(
    [
        [0.9, 0.1, 0.2, 0.0],
        [0.1, 0.8, 0.3, 0.0],
        [0.0, 0.2, 0.1, 0.7],
    ]
)
# each user's items, best first, read off the rows of ITEMS
RANKING = np.array([[0, 2, 1, 3], [1, 2, 0, 3], [3, 1, 2, 0]])


def _quiet(**kwargs):
    kwargs.setdefault("measurements", [InteractionMeasurement()])
    return IdealRecommender(**kwargs)


def assert_exact(model):
    """Predictions are the true scores."""
    assert np.allclose(model.predicted_user_item_scores, model.actual_user_item_scores)


def test_default():
    model = IdealRecommender()
    assert model.num_users == 100 and model.num_items == 1250
    assert model.actual_item_attributes.shape == (20, 1250)
    assert model.actual_user_profiles.shape == (100, 20)
    items = model.actual_item_attributes
    assert items.min() >= 0 and items.max() < 1
    assert np.array_equal(model.predicted_user_profiles, model.actual_user_profiles)
    assert np.array_equal(model.predicted_item_attributes, model.actual_item_attributes)
    assert_exact(model)
    assert len(model.users) == 100 and len(model.items) == 1250


def test_arguments_and_partial_arguments():
    model = IdealRecommender(num_users=8, num_items=30, num_attributes=4, seed=1)
    assert model.actual_user_profiles.shape == (8, 4)
    assert model.actual_item_attributes.shape == (4, 30)
    assert_exact(model)
    assert IdealRecommender(num_users=8, seed=1).actual_user_profiles.shape == (8, 20)
    assert IdealRecommender(num_items=30, seed=1).actual_item_attributes.shape == (20, 30)
    assert IdealRecommender(num_attributes=3, seed=1).predicted_user_profiles.shape == (100, 3)
    model = IdealRecommender(num_items=30, num_items_per_iter=6, verbose=True, seed=1)
    assert model.num_items_per_iter == 6 and model.is_verbose()


@pytest.mark.parametrize(
    "kwargs",
    [
        {
            "actual_user_representation": np.ones((5, 3)),
            "actual_item_representation": np.ones((4, 20)),
        },
        {"actual_item_representation": np.ones((4, 20)), "num_attributes": 5},
        {"actual_user_representation": np.ones((5, 3)), "num_users": 6},
        {"actual_item_representation": np.ones((3, 20)), "num_items": 21},
        {"num_items": 5},  # 10 items per step out of 5
    ],
)
def test_wrong_representations(kwargs):
    with pytest.raises(ValueError):
        IdealRecommender(**kwargs)


def test_seeding():
    a = IdealRecommender(num_users=30, num_items=40, seed=3, measurements=[MSEMeasurement()])
    b = IdealRecommender(num_users=30, num_items=40, seed=3, measurements=[MSEMeasurement()])
    c = IdealRecommender(num_users=30, num_items=40, seed=4, measurements=[MSEMeasurement()])
    assert np.array_equal(a.actual_user_profiles, b.actual_user_profiles)
    assert np.array_equal(a.actual_item_attributes, b.actual_item_attributes)
    assert not np.array_equal(a.actual_item_attributes, c.actual_item_attributes)
    a.run(3, disable_tqdm=True)
    b.run(3, disable_tqdm=True)
    assert np.array_equal(a.items_shown, b.items_shown)
    assert np.array_equal(a.interactions, b.interactions)
    # predictions are exact, so the error stays zero throughout
    assert np.allclose(a.get_measurements()["mse"], 0)


def test_recommendations_are_the_true_top_items():
    model = _quiet(
        actual_user_representation=np.eye(3), actual_item_representation=ITEMS, num_items_per_iter=4
    )
    assert np.allclose(model.predicted_user_item_scores, ITEMS)
    assert np.array_equal(model.recommend(), RANKING)
    assert np.array_equal(model.generate_recommendations(k=2), RANKING[:, :2])
    model.set_num_items_per_iter(1)
    model.run(2, disable_tqdm=True)
    assert np.array_equal(model.interactions, [0, 1, 3])
    assert model.items.interaction_counts.tolist() == [2, 2, 0, 2]


def test_recommendations_on_random_instances_match_argsort():
    model = _quiet(num_users=40, num_items=60, num_attributes=5, num_items_per_iter=8, seed=7)
    true = mo.inner_product(model.actual_user_profiles, model.actual_item_attributes)
    expected = np.argsort(-true, axis=1)[:, :8]
    assert np.array_equal(model.recommend(), expected)
    model.run(2, disable_tqdm=True)
    # users pick the best item they are shown, which is their overall best
    assert np.array_equal(model.interactions, expected[:, 0])


def test_sparse_representations():
    model = _quiet(
        actual_user_representation=sparse.csr_matrix(np.eye(3)),
        actual_item_representation=sparse.csr_matrix(ITEMS),
        num_items_per_iter=4,
    )
    assert np.allclose(model.predicted_user_item_scores, ITEMS)
    assert np.array_equal(model.recommend(), RANKING)
    model.run(1, disable_tqdm=True)
    assert np.array_equal(model.interactions, [0, 1, 3])


def test_tracks_drift():
    # user 0 = (1, 0). Item a = (1, .5) is its best; b = (.95, 0) beats c = (.9, .4) at first,
    # but after the user turns halfway toward a (drift=0.5), c beats b.
    items = np.array([[1.0, 0.95, 0.9], [0.5, 0.0, 0.4]])
    profile = np.array([[1.0, 0.0]])
    model = _quiet(
        actual_user_representation=Users(actual_user_profiles=profile.copy(), drift=0.5),
        actual_item_representation=items,
        num_items_per_iter=3,
    )
    assert np.array_equal(model.recommend(), [[0, 1, 2]])
    model.set_num_items_per_iter(1)
    model.run(1, disable_tqdm=True)
    assert model.interactions.tolist() == [0]
    moved = model.actual_user_profiles
    assert not np.allclose(moved, profile)
    # half the angle to item a, norm kept
    angle = np.arctan2(moved[0, 1], moved[0, 0])
    assert angle == pytest.approx(np.arctan2(0.5, 1.0) / 2)
    assert np.linalg.norm(moved) == pytest.approx(1.0)
    # the recommender follows: its profile and scores are the new true ones
    assert np.allclose(model.predicted_user_profiles, moved)
    assert_exact(model)
    model.set_num_items_per_iter(3)
    assert np.array_equal(model.recommend(), [[0, 2, 1]])


def test_tracks_drift_in_larger_runs():
    users = Users(size=(25, 4), seed=1, drift=0.3)
    model = _quiet(actual_user_representation=users, num_items=30, num_items_per_iter=3, seed=1)
    start = model.actual_user_profiles.copy()
    model.run(3, disable_tqdm=True)
    assert not np.allclose(model.actual_user_profiles, start)
    assert np.allclose(model.predicted_user_profiles, model.actual_user_profiles)
    assert_exact(model)
    true = mo.inner_product(model.actual_user_profiles, model.actual_item_attributes)
    assert np.array_equal(model.recommend(), np.argsort(-true, axis=1)[:, :3])


def test_explicit_true_scores():
    scores = np.array([[0.0, 5.0, 1.0], [3.0, 0.0, 2.0]])
    # the profiles alone would rank differently: user 0 would like item 0 best
    users = Users(actual_user_profiles=np.eye(2), actual_user_scores=scores)
    model = _quiet(
        actual_user_representation=users,
        actual_item_representation=np.eye(2, 3),
        num_items_per_iter=3,
    )
    assert np.array_equal(model.predicted_user_item_scores, scores)
    assert np.array_equal(model.recommend(), [[1, 2, 0], [0, 2, 1]])
    model.set_num_items_per_iter(1)
    model.run(2, disable_tqdm=True)
    assert model.interactions.tolist() == [1, 0]
    assert np.array_equal(model.predicted_user_item_scores, scores)
    with pytest.raises(ValueError, match="user_item_scores columns = 3"):
        IdealRecommender(
            actual_user_representation=Users(
                actual_user_profiles=np.eye(2), actual_user_scores=scores
            ),
            actual_item_representation=np.eye(2, 4),
            num_items_per_iter=1,
        )


def test_custom_true_score_function():
    def unnormalised_negative(user_profiles, item_attributes):
        return -(np.asarray(user_profiles) @ np.asarray(item_attributes))

    users = Users(actual_user_profiles=np.eye(3), score_fn=unnormalised_negative)
    model = _quiet(
        actual_user_representation=users, actual_item_representation=ITEMS, num_items_per_iter=1
    )
    assert np.allclose(model.predicted_user_item_scores, -ITEMS)
    # the worst item by the inner product is now the best; user 1 ties items 3 (score 0)
    recs = model.recommend().ravel()
    assert recs[0] == 3 and recs[2] == 0 and recs[1] == 3


def test_new_items_from_creators():
    # creator 0 always makes item (1, 0); creator 1 always makes (0, 0)
    creators = Creators(np.array([[1.0, 0.0], [0.0, 0.0]]), creation_probability=1.0, seed=1)
    model = _quiet(
        actual_user_representation=np.eye(2),
        actual_item_representation=np.array([[0.5, 0.0], [0.0, 0.5]]),
        creators=creators,
        num_items_per_iter=1,
    )
    model.run(1, disable_tqdm=True)
    assert model.num_items == 4
    assert np.array_equal(model.actual_item_attributes[:, 2:], [[1.0, 0.0], [0.0, 0.0]])
    assert np.array_equal(model.predicted_item_attributes, model.actual_item_attributes)
    assert_exact(model)
    # new items are recommendable in the step they appear: user 0's best is the new item 2
    assert model.interactions.tolist() == [2, 1]
    assert len(model.agents_by_type[ItemAgent]) == 4
    model.run(1, disable_tqdm=True)
    assert model.num_items == 6
    assert_exact(model)
    assert model.interactions[0] in (2, 4) and model.interactions[1] == 1


def test_add_users():
    model = _quiet(
        actual_user_representation=np.eye(3), actual_item_representation=ITEMS, num_items_per_iter=1
    )
    model.run(1, disable_tqdm=True)
    model.add_users(np.array([[0.0, 0.0, 2.0], [1.0, 0.0, 0.0]]))
    assert model.num_users == 5 and model.users.num_users == 5
    assert len(model.agents_by_type[UserAgent]) == 5
    assert np.array_equal(model.predicted_user_profiles[3:], [[0, 0, 2], [1, 0, 0]])
    assert_exact(model)
    assert np.array_equal(model.recommend().ravel(), [0, 1, 3, 3, 0])
    model.run(1, disable_tqdm=True)
    assert model.interactions.tolist() == [0, 1, 3, 3, 0]
    with pytest.raises(ValueError, match="new_users"):
        model.add_users(np.ones((1, 2)))


def test_explicit_scores_extend_to_new_items_and_users():
    scores = np.array([[0.0, 5.0, 1.0], [3.0, 0.0, 2.0]])
    users = Users(actual_user_profiles=np.eye(2), actual_user_scores=scores.copy())
    creators = Creators(np.array([[1.0, 0.0]]), creation_probability=1.0, seed=1)
    model = _quiet(
        actual_user_representation=users,
        actual_item_representation=np.eye(2, 3),
        creators=creators,
        num_items_per_iter=1,
    )
    model.run(1, disable_tqdm=True)
    # the new item (1, 0) is scored by the users' score function; given scores are kept
    assert np.allclose(model.actual_user_item_scores, [[0, 5, 1, 1], [3, 0, 2, 0]])
    assert_exact(model)
    assert model.interactions.tolist() == [1, 0]
    model.add_users(np.array([[0.0, 1.0]]))
    assert np.allclose(model.actual_user_item_scores[2], [0, 1, 0, 0])
    assert_exact(model)
    assert model.recommend().ravel().tolist() == [1, 0, 1]


def test_user_agents_see_the_drifted_profiles():
    users = Users(actual_user_profiles=np.eye(3), drift=0.5)
    model = _quiet(
        actual_user_representation=users, actual_item_representation=ITEMS, num_items_per_iter=1
    )
    model.step()
    for agent in model.users:
        assert np.array_equal(agent.profile, model.actual_user_profiles[agent.index])
        assert np.allclose(agent.predicted_scores, model.actual_user_item_scores[agent.index])
        assert np.allclose(agent.actual_scores, model.actual_user_item_scores[agent.index])
        assert agent.last_interaction == RANKING[agent.index, 0]
    assert not np.allclose(model.actual_user_profiles, np.eye(3))
