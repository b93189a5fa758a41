"""Bad input fails at construction with a message naming the argument."""

import numpy as np
import pytest

from mesa_recsys.components import Creators, Users
from mesa_recsys.models import PopularityRecommender, RandomRecommender
from mesa_recsys.validate import validate_user_item_inputs


def test_validate_user_item_inputs_infers_and_defaults():
    assert validate_user_item_inputs(10, 20, attributes_must_match=False) == (10, 20)
    assert validate_user_item_inputs(
        users_hat=np.zeros((300, 100)), items_hat=np.zeros((100, 600))
    ) == (300, 600, 100)
    assert validate_user_item_inputs(
        users=np.zeros((300, 7)), items=np.zeros((5, 600)), attributes_must_match=False
    ) == (300, 600)
    assert validate_user_item_inputs(
        default_num_users=400, default_num_items=700, default_num_attributes=500
    ) == (400, 700, 500)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"num_users": 5, "users_hat": np.zeros((4, 2))}, "num_users = 5"),
        ({"users_hat": np.zeros((4, 2)), "items_hat": np.zeros((3, 6))}, "attributes"),
        ({"num_items": 5, "items_hat": np.zeros((2, 6))}, "num_items = 5"),
        ({"num_items": 5, "items": np.zeros((2, 6))}, "actual_item_representation columns = 6"),
        ({"users_hat": np.zeros((4, 2)), "users": np.zeros((3, 2))}, "actual_user_representation"),
        ({"num_attributes": 3, "users_hat": np.zeros((4, 2))}, "num_attributes = 3"),
    ],
)
def test_validate_user_item_inputs_rejects_disagreement(kwargs, named):
    with pytest.raises(ValueError, match=named):
        validate_user_item_inputs(**kwargs)


def test_attribute_mismatch_allowed_when_not_required():
    assert validate_user_item_inputs(
        num_attributes=3, users_hat=np.zeros((4, 2)), attributes_must_match=False
    ) == (4, None)


@pytest.mark.parametrize(
    ("kwargs", "error", "named"),
    [
        ({"num_users": -3}, ValueError, "num_users"),
        ({"num_users": 0}, ValueError, "num_users"),
        ({"num_users": 2.5}, TypeError, "num_users"),
        ({"num_items": "many"}, TypeError, "num_items"),
        ({"num_items_per_iter": 0}, ValueError, "num_items_per_iter"),
        ({"num_items_per_iter": "some"}, ValueError, "num_items_per_iter"),
        ({"num_items_per_iter": 2.0}, TypeError, "num_items_per_iter"),
        ({"num_items": 5, "num_items_per_iter": 6}, ValueError, "num_items_per_iter"),
        ({"user_representation": np.ones((5, 3))}, ValueError, "attributes"),
        ({"item_representation": np.ones((2, 5))}, ValueError, "attributes"),
        ({"user_representation": np.ones(5)}, ValueError, "user_representation"),
        ({"user_representation": "ones"}, TypeError, "user_representation"),
        ({"actual_user_representation": {"a": 1}}, TypeError, "actual_user_representation"),
        (
            {
                "actual_user_representation": np.ones((100, 3)),
                "actual_item_representation": np.ones((2, 1250)),
            },
            ValueError,
            "actual_user_representation and actual_item_representation",
        ),
        ({"seed": 1, "rng": 2}, ValueError, "seed and rng"),
        ({"seed": "abc"}, TypeError, "seed"),
        ({"creators": "ten creators"}, TypeError, "creators"),
        ({"score_fn": 3}, TypeError, "score_fn"),
        ({"interleaving_fn": 3}, TypeError, "interleaving_fn"),
        ({"user_agent_class": int}, TypeError, "user_agent_class"),
    ],
)
def test_model_construction_errors_name_the_argument(kwargs, error, named):
    with pytest.raises(error, match=named):
        PopularityRecommender(**kwargs)


def test_creators_with_wrong_attribute_count():
    with pytest.raises(ValueError, match="creators: expected profiles with 1 attributes"):
        PopularityRecommender(
            creators=Creators(size=(3, 4), seed=1), actual_item_representation=np.zeros((1, 1250))
        )


def test_random_items_per_iter_too_large():
    m = RandomRecommender(num_users=4, num_items=10, num_items_per_iter=3, seed=1)
    with pytest.raises(
        ValueError, match="random_items_per_iter: expected at most num_items_per_iter = 3, got 4"
    ):
        m.recommend(random_items_per_iter=4)
    with pytest.raises(ValueError, match="random_items_per_iter"):
        m.recommend(random_items_per_iter=-1)


def test_running_out_of_items_without_repeats():
    m = RandomRecommender(num_users=4, num_items=5, num_items_per_iter=2, seed=1)
    m.step_options = m.step_options_with(repeated_items=False)
    for _ in range(4):  # each step removes one of each user's five items
        m.step()
    with pytest.raises(ValueError, match="num_items_per_iter: there are not enough items left"):
        m.step()
    with pytest.raises(ValueError, match="k: there are not enough items left"):
        m.generate_recommendations(k=3)
    with pytest.raises(TypeError, match="unknown option"):
        m.step_options_with(repeat=False)


def test_users_argument_errors():
    with pytest.raises(ValueError, match="give actual_user_profiles or size"):
        Users()
    with pytest.raises(TypeError, match="size"):
        Users(size=[3, 2])
    with pytest.raises(TypeError, match="actual_user_profiles"):
        Users(actual_user_profiles="profiles")
    with pytest.raises(TypeError, match="interact_with_items"):
        Users(size=(2, 2), interact_with_items=5)
    with pytest.raises(ValueError, match="drift"):
        Users(size=(2, 2), drift=1.5)
    with pytest.raises(ValueError, match="interaction_probability"):
        Users(size=(2, 2), interaction_probability=2)
    with pytest.raises(ValueError, match="num_users: got 3"):
        Users(size=(2, 2), num_users=3)
    with pytest.raises(ValueError, match="actual_user_scores: expected 2 rows"):
        Users(size=(2, 2), actual_user_scores=np.zeros((3, 4)))


def test_explicit_scores_shape_checked_against_the_model():
    users = Users(size=(100, 1), actual_user_scores=np.zeros((100, 7)), seed=1)
    with pytest.raises(ValueError, match="num_items = 1250, user_item_scores columns = 7"):
        PopularityRecommender(actual_user_representation=users, num_items=1250)


def test_add_users_checks_attributes():
    m = PopularityRecommender(num_users=3, num_items=4, num_items_per_iter=2, seed=1)
    with pytest.raises(ValueError, match="new_users: expected 1 attributes"):
        m.add_users(np.zeros((2, 3)))
