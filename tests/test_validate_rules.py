"""Input validation: ``validate_user_item_inputs`` (test_validate.py in the spec) and one test
per rule of model construction, each checking the exception type and that the message
names the offending argument.

Rules are checked at two doors: a concrete model (``PopularityRecommender``, which calls
``validate_user_item_inputs`` first) and ``BaseRecommender`` itself (a minimal subclass
that hands its arrays straight to ``super().__init__``).
"""

import pickle

import numpy as np
import pytest

from mesa_recsys.components import Creators, Users
from mesa_recsys.metrics import MSEMeasurement
from mesa_recsys.models import BaseRecommender, IdealRecommender, PopularityRecommender
from mesa_recsys.validate import validate_user_item_inputs


class _Static(BaseRecommender):
    def _update_internal_state(self, interactions):
        pass


def _base(**overrides):
    """A BaseRecommender with 4 users, 6 items, 2 predicted and 3 true attributes."""
    args = {
        "users_hat": np.ones((4, 2)),
        "items_hat": np.ones((2, 6)),
        "users": np.ones((4, 3)),
        "items": np.ones((3, 6)),
        "num_users": 4,
        "num_items": 6,
        "num_items_per_iter": 2,
    }
    args.update(overrides)
    return _Static(**args)


# --- validate_user_item_inputs: good ----------------------------------------------------------


def test_counts_only_without_attributes():
    assert validate_user_item_inputs(10, 20, attributes_must_match=False) == (10, 20)
    assert validate_user_item_inputs(10, 20) == (10, 20, None)


def test_inference_from_the_predicted_representations():
    got = validate_user_item_inputs(users_hat=np.zeros((300, 100)), items_hat=np.zeros((100, 600)))
    assert got == (300, 600, 100)


def test_inference_from_the_true_representations():
    got = validate_user_item_inputs(users=np.zeros((300, 7)), items=np.zeros((5, 600)))
    assert got == (300, 600, None)  # true attribute counts are not checked here


def test_defaults_fill_what_nothing_gives():
    got = validate_user_item_inputs(
        default_num_users=400, default_num_items=700, default_num_attributes=500
    )
    assert got == (400, 700, 500)
    got = validate_user_item_inputs(
        num_users=3, default_num_users=400, default_num_items=700, default_num_attributes=500
    )
    assert got == (3, 700, 500)


def test_everything_consistent():
    got = validate_user_item_inputs(
        num_users=4,
        num_items=6,
        users_hat=np.zeros((4, 2)),
        items_hat=np.zeros((2, 6)),
        users=np.zeros((4, 9)),
        items=np.zeros((9, 6)),
        num_attributes=2,
        user_item_scores=np.zeros((4, 6)),
        default_num_users=1,
        default_num_items=1,
        default_num_attributes=1,
    )
    assert got == (4, 6, 2)


def test_users_component_contributes_profiles_and_scores():
    users = Users(actual_user_profiles=np.zeros((5, 2)), actual_user_scores=np.zeros((5, 8)))
    assert validate_user_item_inputs(users=users, attributes_must_match=False) == (5, 8)
    with pytest.raises(ValueError, match="user_item_scores columns = 8"):
        validate_user_item_inputs(num_items=9, users=users)


# --- validate_user_item_inputs: bad -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"num_users": 5, "users_hat": np.zeros((4, 2))}, "user_representation rows = 4"),
        ({"users_hat": np.zeros((4, 2)), "items_hat": np.zeros((3, 6))}, "attributes"),
        ({"num_items": 5, "items_hat": np.zeros((2, 6))}, "item_representation columns = 6"),
        ({"num_items": 5, "items": np.zeros((2, 6))}, "actual_item_representation columns"),
        ({"num_users": 5, "users": np.zeros((4, 2))}, "actual_user_representation rows"),
        ({"num_attributes": 3, "users_hat": np.zeros((4, 2))}, "num_attributes = 3"),
        ({"num_attributes": 3, "items_hat": np.zeros((2, 4))}, "item_representation rows = 2"),
        ({"users_hat": np.zeros((4, 2)), "users": np.zeros((3, 2))}, "actual_user_representation"),
        ({"items_hat": np.zeros((2, 4)), "items": np.zeros((2, 5))}, "actual_item_representation"),
        ({"num_users": 4, "user_item_scores": np.zeros((3, 5))}, "user_item_scores rows = 3"),
        ({"num_items": 4, "user_item_scores": np.zeros((3, 5))}, "user_item_scores columns = 5"),
        ({"users_hat": np.zeros(4)}, "user_representation"),
        ({"items_hat": np.zeros((2, 2, 2))}, "item_representation"),
        ({"num_users": 0}, "num_users"),
        ({"num_items": -1}, "num_items"),
    ],
)
def test_inconsistent_inputs_are_value_errors(kwargs, named):
    with pytest.raises(ValueError, match=named):
        validate_user_item_inputs(**kwargs)


def test_attribute_mismatch_is_allowed_when_attributes_need_not_match():
    got = validate_user_item_inputs(
        num_attributes=3, users_hat=np.zeros((4, 2)), attributes_must_match=False
    )
    assert got == (4, None)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"num_users": "4"}, "num_users"),
        ({"num_items": 2.0}, "num_items"),
        ({"num_attributes": 1.5}, "num_attributes"),
        ({"users_hat": "abc"}, "user_representation"),
        ({"items": {"a": 1}}, "actual_item_representation"),
    ],
)
def test_wrong_types_are_type_errors(kwargs, named):
    with pytest.raises(TypeError, match=named):
        validate_user_item_inputs(**kwargs)


# --- model construction: types -----------------------------------------------------------------


def test_num_users_of_the_wrong_type():
    with pytest.raises(TypeError, match="num_users"):
        PopularityRecommender(num_users="5")
    with pytest.raises(TypeError, match="num_users"):
        _base(num_users=4.0)


def test_num_items_of_the_wrong_type():
    with pytest.raises(TypeError, match="num_items"):
        PopularityRecommender(num_items=[6])
    with pytest.raises(TypeError, match="num_items"):
        _base(num_items="6")


def test_user_representation_of_the_wrong_type():
    with pytest.raises(TypeError, match="user_representation"):
        PopularityRecommender(user_representation="ones")
    with pytest.raises(TypeError, match="user_representation"):
        _base(users_hat=3.0)


def test_item_representation_of_the_wrong_type():
    with pytest.raises(TypeError, match="item_representation"):
        PopularityRecommender(item_representation={"x": 1})
    with pytest.raises(TypeError, match="item_representation"):
        _base(items_hat="zeros")


def test_actual_user_representation_of_the_wrong_type():
    with pytest.raises(TypeError, match="actual_user_representation"):
        PopularityRecommender(actual_user_representation="users")
    with pytest.raises(TypeError, match="actual_user_representation"):
        _base(users=5)


def test_actual_item_representation_of_the_wrong_type():
    with pytest.raises(TypeError, match="actual_item_representation"):
        PopularityRecommender(actual_item_representation="items")
    with pytest.raises(TypeError, match="actual_item_representation"):
        _base(items=5)


def test_actual_item_representation_none_at_the_base():
    with pytest.raises(ValueError, match="actual_item_representation"):
        _base(items=None)


def test_score_fn_and_interleaving_fn_must_be_callable():
    with pytest.raises(TypeError, match="score_fn"):
        _base(score_fn="inner")
    with pytest.raises(TypeError, match="interleaving_fn"):
        _base(interleaving_fn=7)


def test_user_agent_class_must_be_a_user_agent_subclass():
    with pytest.raises(TypeError, match="user_agent_class"):
        _base(user_agent_class=object)


def test_seed_of_the_wrong_type():
    with pytest.raises(TypeError, match="seed"):
        _base(seed="abc")


# --- model construction: dimensions and sizes ---------------------------------------------------


@pytest.mark.parametrize("arg", ["users_hat", "items_hat", "users", "items"])
def test_non_2d_arrays_are_value_errors(arg):
    names = {
        "users_hat": "user_representation",
        "items_hat": "item_representation",
        "users": "actual_user_representation",
        "items": "actual_item_representation",
    }
    with pytest.raises(ValueError, match=names[arg]):
        _base(**{arg: np.ones(6)})
    with pytest.raises(ValueError, match=names[arg]):
        _base(**{arg: np.ones((2, 2, 2))})


def test_non_2d_representations_at_the_model_door():
    with pytest.raises(ValueError, match="user_representation"):
        PopularityRecommender(user_representation=np.ones(5))
    with pytest.raises(ValueError, match="actual_item_representation"):
        PopularityRecommender(actual_item_representation=np.ones(5))


@pytest.mark.parametrize("value", [0, -3])
def test_non_positive_num_users(value):
    with pytest.raises(ValueError, match="num_users"):
        PopularityRecommender(num_users=value)
    with pytest.raises(ValueError, match="num_users"):
        _base(num_users=value)


@pytest.mark.parametrize("value", [0, -3])
def test_non_positive_num_items(value):
    with pytest.raises(ValueError, match="num_items"):
        PopularityRecommender(num_items=value)
    with pytest.raises(ValueError, match="num_items"):
        _base(num_items=value)


def test_num_users_disagreeing_with_the_representation():
    with pytest.raises(ValueError, match="num_users"):
        _base(num_users=5)
    with pytest.raises(ValueError, match="num_users"):
        PopularityRecommender(num_users=5, user_representation=np.ones((4, 1)))


def test_num_items_disagreeing_with_the_representation():
    with pytest.raises(ValueError, match="num_items"):
        _base(num_items=7)


def test_true_users_disagreeing_with_predicted_users_in_count():
    with pytest.raises(ValueError, match="actual_user_representation"):
        _base(users=np.ones((5, 3)))


def test_true_items_disagreeing_with_predicted_items_in_count():
    with pytest.raises(ValueError, match="actual_item_representation"):
        _base(items=np.ones((3, 7)))


def test_predicted_user_and_item_attributes_mismatch():
    with pytest.raises(ValueError, match="user_representation and item_representation"):
        _base(items_hat=np.ones((3, 6)))
    with pytest.raises(ValueError, match="user_representation columns = 3"):
        PopularityRecommender(user_representation=np.ones((4, 3)))


def test_true_user_and_item_attributes_mismatch():
    with pytest.raises(
        ValueError, match="actual_user_representation and actual_item_representation"
    ):
        _base(users=np.ones((4, 2)))
    with pytest.raises(
        ValueError, match="actual_user_representation and actual_item_representation"
    ):
        PopularityRecommender(
            num_users=4,
            num_items=6,
            actual_user_representation=np.ones((4, 3)),
            actual_item_representation=np.ones((2, 6)),
            num_items_per_iter=2,
        )


def test_true_user_and_item_attributes_may_differ_with_a_custom_score_fn():
    def first_attribute(user_profiles, item_attributes):
        return np.outer(np.asarray(user_profiles)[:, 0], np.asarray(item_attributes)[0])

    users = Users(actual_user_profiles=np.ones((4, 2)), score_fn=first_attribute)
    model = _base(users=users)
    assert model.actual_user_item_scores.shape == (4, 6)


def test_explicit_true_scores_of_the_wrong_shape():
    users = Users(actual_user_profiles=np.ones((4, 3)), actual_user_scores=np.ones((4, 5)))
    with pytest.raises(ValueError, match="actual_user_scores"):
        _base(users=users)


# --- model construction: num_items_per_iter ------------------------------------------------------


def test_num_items_per_iter_larger_than_num_items():
    with pytest.raises(ValueError, match="num_items_per_iter"):
        _base(num_items_per_iter=7)
    with pytest.raises(ValueError, match="num_items_per_iter"):
        PopularityRecommender(num_items=5, num_items_per_iter=6)


def test_num_items_per_iter_zero_or_negative():
    with pytest.raises(ValueError, match="num_items_per_iter"):
        _base(num_items_per_iter=0)
    with pytest.raises(ValueError, match="num_items_per_iter"):
        _base(num_items_per_iter=-2)


def test_num_items_per_iter_unknown_string():
    with pytest.raises(ValueError, match="num_items_per_iter"):
        _base(num_items_per_iter="some")


@pytest.mark.parametrize("value", [2.0, None, [2]])
def test_num_items_per_iter_wrong_type(value):
    with pytest.raises(TypeError, match="num_items_per_iter"):
        _base(num_items_per_iter=value)


def test_num_items_per_iter_all_is_accepted_and_follows_the_catalogue():
    model = _base(num_items_per_iter="all")
    assert model.num_items_per_iter == 6


# --- run-time rules ----------------------------------------------------------------------------


def test_random_items_per_iter_larger_than_num_items_per_iter():
    model = _base(measurements=[MSEMeasurement()], seed=1)
    with pytest.raises(ValueError, match="random_items_per_iter"):
        model.run(1, random_items_per_iter=3, disable_tqdm=True)
    with pytest.raises(ValueError, match="random_items_per_iter"):
        model.recommend(random_items_per_iter=3)
    with pytest.raises(ValueError, match="random_items_per_iter"):
        model.recommend(random_items_per_iter=-1)
    assert model.recommend(random_items_per_iter=2).shape == (4, 2)


def test_negative_timesteps():
    model = _base(measurements=[MSEMeasurement()], seed=1)
    with pytest.raises(ValueError, match="timesteps"):
        model.run(-1, disable_tqdm=True)


def test_k_larger_than_the_items_left_without_repeats():
    model = PopularityRecommender(
        num_users=3, num_items=5, num_items_per_iter=3, seed=1, measurements=[MSEMeasurement()]
    )
    model.run(2, repeated_items=False, disable_tqdm=True)  # 3 items left per user
    assert model.generate_recommendations(k=3).shape == (3, 3)
    with pytest.raises(ValueError, match="k: there are not enough items left"):
        model.generate_recommendations(k=4)
    with pytest.raises(ValueError, match="num_items_per_iter"):
        model.run(2, repeated_items=False, disable_tqdm=True)  # the 2nd of these has 2 left
    assert len(model.get_measurements()["mse"]) == 4  # t=0 and the three steps that ran


def test_a_step_rejected_by_validation_does_not_advance_the_step_counter():
    model = PopularityRecommender(
        num_users=3, num_items=4, num_items_per_iter=2, seed=1, measurements=[MSEMeasurement()]
    )
    model.run(3, repeated_items=False, disable_tqdm=True)  # 1 item left per user
    with pytest.raises(ValueError, match="num_items_per_iter"):
        model.run(1, repeated_items=False, disable_tqdm=True)
    # nothing happened in the rejected step: the clock must agree with the records
    assert len(model.datacollector.get_model_vars_dataframe()) == 4
    assert model.steps == 3


def _snapshot(model):
    return {
        "steps": model.steps,
        "time": model.time,
        "rows": len(model.datacollector.get_model_vars_dataframe()),
        "mse": list(model.get_measurements()["mse"]),
        "items_hat": model.items_hat.value.copy(),
        "items_shown": model.items_shown.copy(),
        "interactions": model.interactions.copy(),
        "rng": model.rng.bit_generator.state,
    }


def _assert_same(before, after):
    assert before.keys() == after.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, after[key]), key
        else:
            assert value == after[key], key


def test_a_rejected_step_leaves_the_model_unchanged_and_able_to_run_on():
    model = PopularityRecommender(
        num_users=3, num_items=4, num_items_per_iter=2, seed=1, measurements=[MSEMeasurement()]
    )
    model.run(3, repeated_items=False, disable_tqdm=True)
    before = _snapshot(model)
    for _ in range(2):  # rejected again and again, nothing moves
        with pytest.raises(ValueError, match="not enough items left"):
            model.run(1, repeated_items=False, disable_tqdm=True)
        _assert_same(before, _snapshot(model))
    # Mesa drops the next step event when a step body raises; here the clock never moved,
    # so a valid step runs exactly once and is recorded
    model.run(1, disable_tqdm=True)
    assert (model.steps, model.time) == (4, 4.0)
    assert len(model.datacollector.get_model_vars_dataframe()) == 5
    assert len(model.get_measurements()["mse"]) == 5
    assert model.items_hat.value.sum() == before["items_hat"].sum() + 3


def test_model_step_checks_step_options_before_the_clock_moves():
    model = _base(measurements=[MSEMeasurement()], seed=1)
    model.step_options = model.step_options_with(random_items_per_iter=3)
    with pytest.raises(ValueError, match="random_items_per_iter"):
        model.step()
    assert (model.steps, model.time) == (0, 0.0)
    assert len(model.datacollector.get_model_vars_dataframe()) == 1
    model.step_options = model.step_options_with(random_items_per_iter=2)
    model.step()
    model.step()
    assert (model.steps, model.time) == (2, 2.0)
    assert len(model.datacollector.get_model_vars_dataframe()) == 3


def test_the_step_check_survives_pickling():
    model = _base(measurements=[MSEMeasurement()], seed=1)
    copy = pickle.loads(pickle.dumps(model))  # noqa: S301 (our own object)
    copy.step_options = copy.step_options_with(random_items_per_iter=3)
    with pytest.raises(ValueError, match="random_items_per_iter"):
        copy.step()
    assert copy.steps == 0
    copy.step_options = copy.step_options_with(random_items_per_iter=0)
    copy.step()
    assert (copy.steps, model.steps) == (1, 0)


def test_generate_recommendations_with_too_few_candidates():
    model = _base(seed=1)
    with pytest.raises(ValueError, match="k"):
        model.generate_recommendations(k=3, item_indices=np.tile([0, 1, -1], (4, 1)))
    with pytest.raises(ValueError, match="item_indices"):
        model.generate_recommendations(k=1, item_indices=np.tile([0, 1], (3, 1)))


def test_seed_and_rng_both_given():
    with pytest.raises(ValueError, match="seed and rng"):
        _base(seed=1, rng=np.random.default_rng(1))
    with pytest.raises(ValueError, match="seed and rng"):
        PopularityRecommender(seed=1, rng=2)


# --- creators ----------------------------------------------------------------------------------


def test_creators_of_the_wrong_type():
    with pytest.raises(TypeError, match="creators"):
        _base(creators=np.ones((2, 3)))
    with pytest.raises(TypeError, match="creators"):
        _base(creators="two creators")


def test_creators_with_the_wrong_attribute_count():
    with pytest.raises(ValueError, match="creators"):
        _base(creators=Creators(np.full((2, 2), 0.5)))
    with pytest.raises(ValueError, match="creators"):
        IdealRecommender(
            num_users=4,
            num_items=6,
            num_attributes=3,
            num_items_per_iter=2,
            creators=Creators(np.full((2, 4), 0.5)),
        )


def test_valid_base_model_builds():
    # the fixture used by every rule above is itself valid
    model = _base(seed=1, creators=Creators(np.full((2, 3), 0.5)))
    assert (model.num_users, model.num_items, model.num_items_per_iter) == (4, 6, 2)
