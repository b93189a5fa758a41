"""Users: T-RECS's behaviours (test_Users.py in the spec) and mesa_recsys's additions.

Covers the choice rule (argmax of true scores over the shown items, attention, no
repeats), drift, ``interaction_probability``, DNUsers, and user agents that choose for
themselves (``user_agent_class``).
"""

import numpy as np
import pytest

from mesa_recsys import matrix_ops as mo
from mesa_recsys.agents import UserAgent
from mesa_recsys.components import DNUsers, Items, Users
from mesa_recsys.metrics import MSEMeasurement
from mesa_recsys.models import BaseRecommender, IdealRecommender, PopularityRecommender


class _Static(BaseRecommender):
    """A recommender that learns nothing: scores are score_fn(users_hat, items_hat)."""

    def _update_internal_state(self, interactions):
        pass


def _scored(users, items):
    """Give ``users`` true scores against ``items`` (A×I) so that they can choose."""
    users.bind_items(Items(np.asarray(items, dtype=float)))
    return users


def _angle(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return np.arccos(np.clip(cos, -1.0, 1.0))


# --- construction ---------------------------------------------------------------------------


def test_users_without_profiles_or_size_is_a_value_error():
    with pytest.raises(ValueError, match="actual_user_profiles or size"):
        Users()


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"actual_user_profiles": "abc"}, "actual_user_profiles"),
        ({"actual_user_profiles": 7}, "actual_user_profiles"),
        ({"size": [6, 5]}, "size"),
        ({"size": 6}, "size"),
        ({"size": (3, 2), "interact_with_items": 3}, "interact_with_items"),
        ({"size": (3, 2), "score_fn": "dot"}, "score_fn"),
        (
            {"actual_user_profiles": np.ones((2, 2)), "actual_user_scores": "x"},
            "actual_user_scores",
        ),
    ],
)
def test_users_wrong_types_are_type_errors(kwargs, named):
    with pytest.raises(TypeError, match=named):
        Users(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"actual_user_profiles": np.ones(4)}, "actual_user_profiles"),
        ({"actual_user_profiles": np.ones((3, 2)), "num_users": 4}, "num_users"),
        (
            {"actual_user_profiles": np.ones((3, 2)), "actual_user_scores": np.ones((2, 5))},
            "actual_user_scores",
        ),
        ({"size": (3, 2), "drift": 1.5}, "drift"),
        ({"size": (3, 2), "interaction_probability": 1.2}, "interaction_probability"),
        ({"size": (3, 2), "interaction_probability": -0.1}, "interaction_probability"),
        ({"size": (3, 2), "interaction_probability": np.ones((3, 1))}, "interaction_probability"),
    ],
)
def test_users_bad_values_are_value_errors(kwargs, named):
    with pytest.raises(ValueError, match=named):
        Users(**kwargs)


def test_users_shapes_from_size_and_from_profiles():
    drawn = Users(size=(6, 5), seed=3)
    assert drawn.actual_user_profiles.shape == (6, 5)
    assert drawn.num_users == 6
    assert drawn.num_attrs == 5  # an int (T-RECS returns a bound method)
    assert np.all(np.any(drawn.actual_user_profiles.value != 0, axis=1))
    profiles = np.arange(30.0).reshape(6, 5)
    given = Users(actual_user_profiles=profiles)
    assert given.actual_user_profiles.shape == (6, 5)
    assert np.array_equal(given.actual_user_profiles.value, profiles)
    one = Users(actual_user_profiles=[[1, 2, 3]])
    assert one.actual_user_profiles.shape == (1, 3)
    assert (one.num_users, one.num_attrs) == (1, 3)


def test_users_seeding():
    a = Users(size=(10, 3), seed=7).actual_user_profiles.value
    b = Users(size=(10, 3), seed=7).actual_user_profiles.value
    c = Users(size=(10, 3), seed=8).actual_user_profiles.value
    d = Users(size=(10, 3)).actual_user_profiles.value
    e = Users(size=(10, 3)).actual_user_profiles.value
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(d, e)


# --- scores ----------------------------------------------------------------------------------


def test_true_scores_match_the_models_predicted_scores_on_the_same_representation():
    rng = np.random.default_rng(0)
    profiles = rng.normal(size=(6, 4))
    items = rng.uniform(size=(4, 9))
    model = _Static(profiles.copy(), items.copy(), None, items.copy(), 6, 9, 3, seed=1)
    users = Users(actual_user_profiles=profiles.copy(), score_fn=model.score_fn)
    users.compute_user_scores(items)
    model.train()
    assert np.allclose(users.actual_user_scores.value, model.predicted_user_item_scores)
    # by hand: unit-normalised profiles dotted with the item columns
    unit = profiles / np.linalg.norm(profiles, axis=1, keepdims=True)
    assert np.allclose(users.actual_user_scores.value, unit @ items)

    other = _Static(rng.normal(size=(6, 4)), items.copy(), None, items.copy(), 6, 9, 3, seed=1)
    assert not np.allclose(users.actual_user_scores.value, other.predicted_user_item_scores)


def test_get_actual_user_scores_of_one_user_is_its_row():
    users = _scored(Users(actual_user_profiles=np.array([[1.0, 0.0], [0.0, 2.0]])), np.eye(2))
    assert np.array_equal(users.get_actual_user_scores(1), [0.0, 1.0])
    assert users.get_actual_user_scores() is users.actual_user_scores


# --- choosing --------------------------------------------------------------------------------


def test_users_pick_the_shown_item_of_highest_true_score():
    # item j has score 10 - j for everyone; shown lists in different orders
    users = _scored(Users(actual_user_profiles=np.ones((3, 1))), [[10, 9, 8, 7, 6]])
    shown = np.array([[4, 2, 3], [1, 0, 4], [3, 4, 2]])
    assert np.array_equal(users.get_user_feedback(shown), [2, 0, 2])


def test_custom_interact_with_items_replaces_the_choice_rule():
    calls = []

    def first_shown(users, items_shown):
        calls.append((users, items_shown.copy()))
        return items_shown[:, 0]

    users = _scored(Users(size=(3, 2), seed=1, interact_with_items=first_shown), np.ones((2, 6)))
    shown = np.array([[5, 1], [2, 3], [0, 4]])
    assert np.array_equal(users.get_user_feedback(shown), [5, 2, 0])
    assert len(calls) == 1
    assert calls[0][0] is users
    assert np.array_equal(calls[0][1], shown)


def test_custom_interact_with_items_drives_a_models_interactions():
    def last_shown(users, items_shown):
        return items_shown[:, -1]

    users = Users(size=(5, 1), seed=2, interact_with_items=last_shown)
    model = PopularityRecommender(
        actual_user_representation=users,
        num_items=8,
        num_items_per_iter=3,
        seed=4,
        measurements=[MSEMeasurement()],
    )
    for _ in range(3):
        model.run(1, disable_tqdm=True)
        assert np.array_equal(model.interactions, model.items_shown[:, -1])


def test_attention_exponent_hand_case():
    # all users like every item equally, except item 1 which scores 1.5 (profiles ones(5, 4)
    # normalised to 0.5 each, items ones with column 1 = 1.5: scores 2 and 3)
    items = np.ones((4, 4))
    items[:, 1] = 1.5
    shown = np.tile(np.arange(4), (5, 1))
    neutral = _scored(Users(actual_user_profiles=np.ones((5, 4)), attention_exp=0.0), items)
    assert np.array_equal(neutral.get_user_feedback(shown), np.ones(5))
    # 3 * 2**-0.8 = 1.72 < 2 = score of position 0
    steep = _scored(Users(actual_user_profiles=np.ones((5, 4)), attention_exp=-0.8), items)
    assert np.array_equal(steep.get_user_feedback(shown), np.zeros(5))
    assert np.allclose(
        steep.attention_transform(np.ones((1, 4))), [[1.0, 2**-0.8, 3**-0.8, 4**-0.8]]
    )


def test_no_repeat_interactions_walks_down_the_ranking_and_restores_scores():
    items = np.array([[5.0, 4.0, 3.0, 2.0, 1.0]])
    users = _scored(Users(actual_user_profiles=np.ones((5, 1)), repeat_interactions=False), items)
    before = users.actual_user_scores.value.copy()
    assert np.array_equal(before, mo.inner_product(np.ones((5, 1)), items))
    rng = np.random.default_rng(0)
    shown = np.array([rng.permutation(5) for _ in range(5)])  # order shown must not matter
    for expected in (0, 1, 2):
        assert np.array_equal(users.get_user_feedback(shown), np.full(5, expected))
        assert np.array_equal(users.actual_user_scores.value, before)
        assert np.all(np.isfinite(users.actual_user_scores.value))
    assert np.array_equal(users.user_interactions, np.tile([0, 1, 2], (5, 1)))


def test_no_repeat_interactions_when_everything_shown_was_consumed_gives_minus_one():
    # T-RECS bug (spec §6.5): argmax over all -inf picks position 0, i.e. a repeat
    items = np.array([[3.0, 2.0, 1.0]])
    users = _scored(Users(actual_user_profiles=np.ones((2, 1)), repeat_interactions=False), items)
    shown = np.tile([0, 1], (2, 1))
    assert np.array_equal(users.get_user_feedback(shown), [0, 0])
    assert np.array_equal(users.get_user_feedback(shown), [1, 1])
    assert np.array_equal(users.get_user_feedback(shown), [-1, -1])
    # a fresh item is still taken
    assert np.array_equal(users.get_user_feedback(np.tile([1, 2], (2, 1))), [2, 2])


# --- drift -----------------------------------------------------------------------------------


def test_update_profiles_rotates_half_the_angle_and_keeps_norms():
    users = Users(actual_user_profiles=np.array([[3.0, 0.0], [0.0, 2.0]]), drift=0.5)
    targets = np.array([[0.0, 5.0], [1.0, 1.0]])
    users.update_profiles(targets)
    new = users.actual_user_profiles.value
    # 90° → 45° (norm 3); 45° → 22.5° (norm 2)
    assert np.allclose(new[0], [3 / np.sqrt(2), 3 / np.sqrt(2)])
    assert np.allclose(new[1], [2 * np.sin(np.pi / 8), 2 * np.cos(np.pi / 8)])


def test_drift_in_a_model_turns_users_toward_their_chosen_items():
    num = 6
    profiles = np.eye(num)
    items = np.eye(num) + 0.1 * np.roll(np.eye(num), 1, axis=1)
    users = Users(actual_user_profiles=profiles.copy(), drift=0.5)
    model = IdealRecommender(
        actual_user_representation=users,
        actual_item_representation=items,
        num_items_per_iter=num,
        seed=5,
        measurements=[MSEMeasurement()],
    )
    model.run(1, disable_tqdm=True)
    chosen = model.interactions
    assert np.array_equal(chosen, np.arange(num))  # each user's best item is its own
    target = items[:, chosen].T
    new = model.actual_user_profiles
    assert not np.allclose(new, profiles)
    assert np.allclose(np.linalg.norm(new, axis=1), np.linalg.norm(profiles, axis=1))
    assert np.allclose(_angle(new, target), 0.5 * _angle(profiles, target))
    assert np.all(np.linalg.norm(new - target, axis=1) < np.linalg.norm(profiles - target, axis=1))
    # true scores were recomputed from the moved profiles
    assert np.allclose(model.actual_user_item_scores, mo.inner_product(new, items))


# --- interaction_probability ------------------------------------------------------------------


def _feedback_with_probability(p, num_users=2000, seed=1):
    users = _scored(
        Users(actual_user_profiles=np.ones((num_users, 1)), interaction_probability=p, seed=seed),
        np.arange(1.0, 7.0)[None, :],
    )
    return users.get_user_feedback(np.tile(np.arange(6), (num_users, 1)))


def test_interaction_probability_zero_means_nobody_interacts():
    assert np.all(_feedback_with_probability(0.0) == -1)


def test_interaction_probability_one_means_everybody_interacts():
    assert np.array_equal(_feedback_with_probability(1.0), np.full(2000, 5))


def test_interaction_probability_half_gives_a_share_near_half():
    got = _feedback_with_probability(0.5)
    share = np.mean(got >= 0)
    # sd = sqrt(0.25 / 2000) = 0.011; the band is more than 5 sd wide on each side
    assert 0.44 < share < 0.56
    assert set(np.unique(got)) == {-1, 5}


def test_interaction_probability_per_user_array_is_honoured():
    p = np.tile([0.0, 1.0, 0.2, 0.8], 500)
    got = _feedback_with_probability(p)
    assert np.all(got[p == 0.0] == -1)
    assert np.all(got[p == 1.0] == 5)
    assert 0.14 < np.mean(got[p == 0.2] >= 0) < 0.26
    assert 0.74 < np.mean(got[p == 0.8] >= 0) < 0.86


@pytest.mark.parametrize("length", [3, 5])
def test_per_user_interaction_probability_of_the_wrong_length_is_rejected(length):
    # one probability per user: a length other than num_users is a construction error
    with pytest.raises(ValueError, match="interaction_probability"):
        Users(size=(4, 1), seed=1, interaction_probability=np.full(length, 0.5))


def test_a_user_who_does_not_interact_leaves_popularity_counts_unchanged():
    p = np.ones(6)
    p[0] = 0.0
    users = Users(size=(6, 1), seed=3, interaction_probability=p)
    model = PopularityRecommender(
        actual_user_representation=users,
        num_items=10,
        num_items_per_iter=2,
        seed=1,
        measurements=[MSEMeasurement()],
    )
    for t in range(1, 4):
        before = model.items_hat.value.copy()
        model.run(1, disable_tqdm=True)
        assert model.interactions[0] == -1
        assert np.all(model.interactions[1:] >= 0)
        delta = model.items_hat.value - before
        assert np.array_equal(delta[0], np.bincount(model.interactions[1:], minlength=10))
        assert model.items_hat.value.sum() == 5 * t
        assert model.items.interaction_counts.sum() == 5 * t


def test_nobody_interacting_leaves_popularity_at_zero():
    users = Users(size=(4, 1), seed=3, interaction_probability=0.0)
    model = PopularityRecommender(
        actual_user_representation=users,
        num_items=5,
        num_items_per_iter=2,
        seed=1,
        measurements=[MSEMeasurement()],
    )
    model.run(3, disable_tqdm=True)
    assert np.all(model.interactions == -1)
    assert np.array_equal(model.items_hat.value, np.zeros((1, 5)))


# --- DNUsers ---------------------------------------------------------------------------------


def test_dn_normalize_values_hand_case():
    users = DNUsers(actual_user_profiles=[[0, 1, 2, 3, 4]], sigma=0.05, omega=0.25, beta=0.9)
    got = users.normalize_values(np.array([120, 130, 140, 150]))
    expected = [[0.7620146], [0.82551582], [0.88901703], [0.95251825]]
    assert got.shape == (4, 1)
    assert np.allclose(got, expected, atol=1e-6, rtol=0)


def test_dn_utilities_shape_and_noise():
    users = DNUsers(size=(8, 5), seed=4)
    raw = np.random.default_rng(0).uniform(size=(8, 5))
    utilities = users.calc_dn_utilities(raw)
    assert utilities.shape == (8, 5)
    assert not np.allclose(utilities, raw)
    assert not np.allclose(utilities, users.normalize_values(raw).T)
    noise = users.sample_from_error_dist(3, 20000)
    assert noise.shape == (3, 20000)
    cov = np.cov(noise)
    assert np.allclose(np.diag(cov), 1.0, atol=0.05)
    assert np.allclose(cov[np.triu_indices(3, 1)], 0.5, atol=0.05)


def _dn_model(seed):
    profiles = np.random.default_rng(11).normal(size=(30, 3))
    items = np.random.default_rng(12).uniform(size=(3, 20))
    model = IdealRecommender(
        actual_user_representation=DNUsers(actual_user_profiles=profiles),
        actual_item_representation=items,
        num_items_per_iter=5,
        seed=seed,
        measurements=[MSEMeasurement()],
    )
    history = []
    for _ in range(4):
        model.run(1, disable_tqdm=True)
        history.append(model.interactions.copy())
        assert np.all((model.items_shown == model.interactions[:, None]).any(axis=1))
    return np.array(history)


def test_dn_users_work_in_a_model_and_are_reproducible_from_the_model_seed():
    a = _dn_model(21)
    b = _dn_model(21)
    c = _dn_model(22)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dn_users_do_not_always_take_the_best_shown_item():
    # with noise of variance 1 and normalised values well below 1, choices often differ
    # from the argmax of the true scores
    profiles = np.random.default_rng(11).normal(size=(200, 3))
    items = np.random.default_rng(12).uniform(size=(3, 20))
    users = _scored(DNUsers(actual_user_profiles=profiles, seed=3), items)
    shown = np.tile(np.arange(5), (200, 1))
    plain = _scored(Users(actual_user_profiles=profiles), items).get_user_feedback(shown)
    noisy = users.get_user_feedback(shown)
    assert np.all((noisy >= 0) & (noisy < 5))
    assert 0.1 < np.mean(noisy != plain) < 0.95


# --- user agents that choose for themselves ----------------------------------------------------


class _LastShown(UserAgent):
    calls: list = []  # noqa: RUF012 - shared log, reset by each test

    def choose(self, items_shown):
        type(self).calls.append((self.model.steps, self.index, tuple(items_shown)))
        return int(items_shown[-1])


class _Abstains(UserAgent):
    def choose(self, items_shown):
        return None


def test_user_agent_choose_is_called_once_per_user_per_step_and_drives_interactions():
    _LastShown.calls = []
    model = PopularityRecommender(
        num_users=5,
        num_items=8,
        num_items_per_iter=3,
        seed=2,
        user_agent_class=_LastShown,
        measurements=[MSEMeasurement()],
    )
    assert all(type(agent) is _LastShown for agent in model.users)
    for t in range(1, 4):
        model.run(1, disable_tqdm=True)
        this_step = [c for c in _LastShown.calls if c[0] == t]
        assert sorted(c[1] for c in this_step) == list(range(5))
        for _, index, shown in this_step:
            assert np.array_equal(shown, model.items_shown[index])
        assert np.array_equal(model.interactions, model.items_shown[:, -1])
    assert len(_LastShown.calls) == 15
    assert model.items_hat.value.sum() == 15


def test_user_agent_choosing_none_records_minus_one():
    model = PopularityRecommender(
        num_users=4,
        num_items=6,
        num_items_per_iter=2,
        seed=2,
        user_agent_class=_Abstains,
        measurements=[MSEMeasurement()],
    )
    model.run(2, disable_tqdm=True)
    assert np.array_equal(model.interactions, np.full(4, -1))
    assert np.array_equal(model.items_hat.value, np.zeros((1, 6)))
    assert all(agent.last_interaction is None for agent in model.users)


class _PassThrough(UserAgent):
    """Overrides choose only to defer to the default rule (the per-agent path)."""

    def choose(self, items_shown):
        return super().choose(items_shown)


def _ideal(users, items, cls, seed=1, n=4):
    return IdealRecommender(
        actual_user_representation=users,
        actual_item_representation=items,
        num_items_per_iter=n,
        seed=seed,
        measurements=[MSEMeasurement()],
        user_agent_class=cls,
    )


def test_default_choose_from_a_subclass_matches_the_vectorised_rule():
    # UserAgent.choose documents that it applies the model's rule to this one user
    rng = np.random.default_rng(8)
    profiles = rng.normal(size=(7, 3))
    items = rng.uniform(size=(3, 10))
    plain = _ideal(Users(actual_user_profiles=profiles.copy()), items, None, n=5)
    agents = _ideal(Users(actual_user_profiles=profiles.copy()), items, _PassThrough, n=5)
    for _ in range(2):
        plain.run(1, random_items_per_iter=5, disable_tqdm=True)
        agents.run(1, random_items_per_iter=5, disable_tqdm=True)
        assert np.array_equal(plain.items_shown, agents.items_shown)
        assert np.array_equal(agents.interactions, plain.interactions)


def test_default_choose_uses_this_users_explicit_scores():
    # user u's true score is 1 for item u and 0 elsewhere: each user takes its own item
    users = Users(actual_user_profiles=np.ones((3, 1)), actual_user_scores=np.eye(3))
    model = PopularityRecommender(
        actual_user_representation=users,
        num_items=3,
        num_items_per_iter=3,
        seed=1,
        measurements=[MSEMeasurement()],
        user_agent_class=_PassThrough,
    )
    model.run(1, disable_tqdm=True)
    assert np.array_equal(model.interactions, [0, 1, 2])


def test_default_choose_honours_repeat_interactions_false():
    # one user, so that only the repeat rule is under test
    users = Users(actual_user_profiles=np.ones((1, 1)), repeat_interactions=False)
    model = _ideal(users, np.array([[5.0, 4.0, 3.0, 2.0]]), _PassThrough)
    for expected in (0, 1, 2):
        model.run(1, disable_tqdm=True)
        assert np.array_equal(model.interactions, [expected])


class _TakesLast(UserAgent):
    def choose(self, items_shown):
        return int(items_shown[-1])


def test_interaction_probability_applies_to_agents_that_choose_for_themselves():
    # the Users docstring: "chance that a user interacts at all in a step"; the custom
    # interact_with_items path honours it, so should the per-agent path
    users = Users(actual_user_profiles=np.ones((50, 1)), interaction_probability=0.0)
    model = _ideal(users, np.ones((1, 4)), _TakesLast)
    model.run(1, disable_tqdm=True)
    assert np.all(model.interactions == -1)


def test_drift_leaves_users_who_did_not_interact_where_they_were():
    profiles = np.eye(4)
    items = np.eye(4) + 0.1 * np.roll(np.eye(4), 1, axis=1)
    p = np.array([1.0, 0.0, 1.0, 0.0])
    users = Users(actual_user_profiles=profiles.copy(), drift=0.5, interaction_probability=p)
    model = _ideal(users, items, None, seed=3)
    model.run(1, disable_tqdm=True)
    assert np.array_equal(model.interactions[[1, 3]], [-1, -1])
    new = model.actual_user_profiles
    assert np.array_equal(new[[1, 3]], profiles[[1, 3]])
    moved = [0, 2]
    target = items[:, model.interactions[moved]].T
    assert np.allclose(_angle(new[moved], target), 0.5 * _angle(profiles[moved], target))


@pytest.mark.parametrize("users_class", [Users, DNUsers])
def test_per_agent_path_draws_interaction_probability_as_the_vectorised_path(users_class):
    # same draws from the same generator: an agent class that defers to the default rule
    # gives exactly the vectorised interactions, skips (-1) included, step after step
    p = np.tile([0.3, 0.9], 20)
    items = np.random.default_rng(1).uniform(size=(3, 30))
    runs = []
    for cls in (None, _PassThrough):
        users = users_class(size=(40, 3), seed=4, interaction_probability=p)
        model = _ideal(users, items, cls, seed=9, n=5)
        history = []
        for _ in range(4):
            model.run(1, random_items_per_iter=2, disable_tqdm=True)
            history.append(model.interactions.copy())
        runs.append(np.array(history))
    assert np.array_equal(runs[0], runs[1])
    assert 0 < np.mean(runs[0] == -1) < 1  # both outcomes occur: the comparison has teeth


def test_per_agent_path_honours_a_per_user_interaction_probability():
    p = np.tile([0.0, 1.0], 10)
    users = Users(actual_user_profiles=np.ones((20, 1)), interaction_probability=p)
    model = _ideal(users, np.ones((1, 4)), _TakesLast)
    for _ in range(3):
        model.run(1, disable_tqdm=True)
        assert np.all(model.interactions[p == 0.0] == -1)
        assert np.array_equal(model.interactions[p == 1.0], model.items_shown[p == 1.0, -1])
    assert model.items.interaction_counts.sum() == 3 * 10


def test_skipped_agent_choices_are_recorded_as_minus_one_for_repeat_bookkeeping():
    # a user who sits a step out has consumed nothing: the item stays available to it
    users = Users(
        actual_user_profiles=np.ones((2, 1)),
        interaction_probability=np.array([0.0, 1.0]),
        repeat_interactions=False,
    )
    model = _ideal(users, np.array([[4.0, 3.0, 2.0, 1.0]]), _PassThrough)
    model.run(2, disable_tqdm=True)
    assert np.array_equal(model.users.user_interactions, [[-1, -1], [0, 1]])


def test_setting_interaction_probability_later_checks_the_length_too():
    users = Users(size=(4, 1), seed=1)
    users.interaction_probability = np.full(4, 0.5)
    assert np.array_equal(users.interaction_probability, np.full(4, 0.5))
    with pytest.raises(ValueError, match=r"interaction_probability: expected .*4 values.*got 3"):
        users.interaction_probability = np.full(3, 0.5)
    assert np.array_equal(users.interaction_probability, np.full(4, 0.5))  # unchanged


def test_wrong_length_interaction_probability_message_names_both_lengths():
    with pytest.raises(ValueError, match=r"4 values\) or a single probability, got 5 values"):
        Users(size=(4, 1), seed=1, interaction_probability=np.full(5, 0.5))


def _popularity(users):
    return PopularityRecommender(
        actual_user_representation=users,
        num_items=6,
        num_items_per_iter=2,
        seed=1,
        measurements=[MSEMeasurement()],
    )


def test_add_users_shares_a_single_interaction_probability():
    model = _popularity(Users(size=(4, 1), seed=1, interaction_probability=0.0))
    model.add_users(np.ones((3, 1)))
    assert model.users.interaction_probability == 0.0
    model.run(1, disable_tqdm=True)
    assert np.all(model.interactions == -1)  # the new users sit out as well


def test_add_users_takes_the_new_users_interaction_probability():
    p = np.array([0.0, 1.0, 0.0, 1.0])
    model = _popularity(Users(size=(4, 1), seed=1, interaction_probability=p))
    model.add_users(np.ones((2, 1)), interaction_probability=np.array([1.0, 0.0]))
    model.add_users(np.ones((2, 1)), interaction_probability=1.0)  # one value for both
    expected = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    assert np.array_equal(model.users.interaction_probability, expected)
    model.run(2, disable_tqdm=True)
    assert np.all(model.interactions[expected == 0.0] == -1)
    assert np.all(model.interactions[expected == 1.0] >= 0)


def test_add_users_with_a_different_single_probability_makes_it_per_user():
    model = _popularity(Users(size=(3, 1), seed=1, interaction_probability=1.0))
    model.add_users(np.ones((2, 1)), interaction_probability=0.0)
    assert np.array_equal(model.users.interaction_probability, [1.0, 1.0, 1.0, 0.0, 0.0])
    model.run(1, disable_tqdm=True)
    assert np.array_equal(model.interactions[3:], [-1, -1])
    assert np.all(model.interactions[:3] >= 0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "the 2 new users need theirs"),
        (np.full(3, 0.5), r"2 values\) or a single probability, got 3"),
        (1.5, "expected a probability in"),
    ],
)
def test_add_users_rejects_a_missing_or_bad_interaction_probability(value, message):
    p = np.full(4, 0.5)
    model = _popularity(Users(size=(4, 1), seed=1, interaction_probability=p))
    with pytest.raises(ValueError, match=message):
        model.add_users(np.ones((2, 1)), interaction_probability=value)
    # nothing was added
    assert model.num_users == 4
    assert model.users.num_users == 4
    assert len(model.users) == 4
    assert np.array_equal(model.users.interaction_probability, p)
    model.run(1, disable_tqdm=True)  # and the model still runs
    assert model.interactions.shape == (4,)
