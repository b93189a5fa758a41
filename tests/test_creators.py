"""Creators: T-RECS's behaviours (test_Creators.py in the spec) plus learning and item agents."""

import numpy as np
import pytest

from mesa_recsys.agents import CreatorAgent, ItemAgent
from mesa_recsys.components import Creators
from mesa_recsys.metrics import MSEMeasurement
from mesa_recsys.models import IdealRecommender, PopularityRecommender


def test_creators_without_profiles_or_size_is_a_value_error():
    with pytest.raises(ValueError, match="actual_creator_profiles or size"):
        Creators()


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"actual_creator_profiles": "abc"}, "actual_creator_profiles"),
        ({"actual_creator_profiles": 3}, "actual_creator_profiles"),
        ({"size": [6, 5]}, "size"),
        ({"size": 6}, "size"),
        ({"size": (6, 5), "creation_probability": "often"}, "creation_probability"),
    ],
)
def test_creators_wrong_types_are_type_errors(kwargs, named):
    with pytest.raises(TypeError, match=named):
        Creators(**kwargs)


@pytest.mark.parametrize("probability", [30, -6, 1.01, -0.01])
def test_creation_probability_outside_unit_interval_is_a_value_error(probability):
    with pytest.raises(ValueError, match="creation_probability"):
        Creators(size=(6, 5), creation_probability=probability)


def test_learning_rate_outside_unit_interval_is_a_value_error():
    with pytest.raises(ValueError, match="learning_rate"):
        Creators(size=(2, 2), learning_rate=2.0)


def test_creator_shapes():
    drawn = Creators(size=(6, 5), seed=1)
    assert drawn.shape == (6, 5)
    assert (drawn.num_creators, drawn.num_attrs) == (6, 5)
    assert np.all((drawn.value >= 0) & (drawn.value <= 1))
    profiles = np.random.default_rng(0).uniform(size=(6, 5))
    given = Creators(profiles)
    assert given.shape == (6, 5)
    assert np.array_equal(given.value, profiles)


def test_generate_items_has_one_row_per_attribute_and_at_most_one_column_per_creator():
    creators = Creators(np.random.default_rng(1).uniform(size=(10, 5)), seed=2)
    widths = set()
    for _ in range(20):
        items = creators.generate_items()
        assert items.shape[0] == 5
        assert items.shape[1] <= 10
        assert np.all((items == 0) | (items == 1))
        assert len(creators.last_creators) == items.shape[1]
        widths.add(items.shape[1])
    assert len(widths) > 1  # with p = 0.5 the number of new items varies


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_generate_items_rejects_profiles_outside_unit_interval(bad):
    profiles = np.full((3, 4), 0.5)
    profiles[1, 2] = bad
    creators = Creators(profiles, seed=1)
    with pytest.raises(ValueError, match="actual_creator_profiles"):
        creators.generate_items()


def test_creation_probability_zero_makes_no_items():
    creators = Creators(np.full((7, 3), 0.5), creation_probability=0.0, seed=1)
    for _ in range(5):
        items = creators.generate_items()
        assert items.shape == (3, 0)
        assert creators.last_creators.size == 0


def test_creation_probability_one_makes_one_item_per_creator():
    creators = Creators(np.full((7, 3), 0.5), creation_probability=1.0, seed=1)
    for _ in range(5):
        items = creators.generate_items()
        assert items.shape == (3, 7)
        assert np.array_equal(creators.last_creators, np.arange(7))


def test_item_attributes_are_bernoulli_of_the_profile():
    # deterministic profiles give exact items; creator c makes column c
    profiles = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    creators = Creators(profiles, creation_probability=1.0, seed=3)
    assert np.array_equal(creators.generate_items(), profiles.T)
    # a profile entry p gives attribute frequency near p
    creators = Creators(np.array([[0.2, 0.7]]), creation_probability=1.0, seed=4)
    draws = np.hstack([creators.generate_items() for _ in range(4000)])
    # sd <= sqrt(0.25 / 4000) = 0.008
    assert np.allclose(draws.mean(axis=1), [0.2, 0.7], atol=0.04)


def test_seeded_creators_repeat():
    a = Creators(size=(4, 3), seed=9)
    b = Creators(size=(4, 3), seed=9)
    assert np.array_equal(a.value, b.value)
    assert np.array_equal(a.generate_items(), b.generate_items())
    assert not np.array_equal(a.value, Creators(size=(4, 3), seed=10).value)


def _model_with_creators(seed, creators=None, num_items=6, **kwargs):
    items = np.random.default_rng(0).uniform(size=(3, num_items))
    profiles = np.random.default_rng(1).normal(size=(5, 3))
    creators = creators or Creators(np.full((4, 3), 0.5), creation_probability=0.5)
    return IdealRecommender(
        actual_user_representation=profiles,
        actual_item_representation=items,
        num_items_per_iter=2,
        creators=creators,
        seed=seed,
        measurements=[MSEMeasurement()],
        **kwargs,
    )


def test_unseeded_creators_are_reproducible_from_the_model_seed():
    runs = []
    for seed in (5, 5, 6):
        model = _model_with_creators(seed)
        model.run(4, disable_tqdm=True)
        runs.append((model.num_items, model.items.value.copy(), model.items.creator_of.copy()))
    assert runs[0][0] == runs[1][0]
    assert np.array_equal(runs[0][1], runs[1][1])
    assert np.array_equal(runs[0][2], runs[1][2])
    assert runs[0][0] != runs[2][0] or not np.array_equal(runs[0][1], runs[2][1])


def test_creators_with_probability_one_grow_the_catalogue_exactly():
    model = _model_with_creators(1, Creators(np.full((4, 3), 0.5), creation_probability=1.0))
    model.run(3, disable_tqdm=True)
    assert model.num_items == 6 + 3 * 4
    assert model.items.value.shape == (3, 18)
    assert model.items_hat.value.shape == (3, 18)
    assert model.actual_user_item_scores.shape == (5, 18)
    assert model.predicted_user_item_scores.shape == (5, 18)
    assert len(model.items) == 18


def test_learning_rate_moves_profiles_toward_consumed_items_hand_case():
    creators = Creators(np.full((3, 3), 0.5), learning_rate=0.5, seed=1)
    items = np.array(
        [
            [1.0, 0.0, 1.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [1.0, 1.0, 0.0, 1.0],
        ]
    )
    creator_of = np.array([0, 0, 1, -1])
    # item 0 twice and item 1 once for creator 0, nothing of creator 1 or 2, item 3 has no creator
    creators.update_profiles(np.array([0, 1, 0, 3, -1]), items, creator_of)
    # creator 0's target: mean of [1,0,1], [0,1,1], [1,0,1] = [2/3, 1/3, 1]
    expected0 = 0.5 + 0.5 * (np.array([2 / 3, 1 / 3, 1.0]) - 0.5)
    assert np.allclose(creators.value[0], expected0)
    assert np.array_equal(creators.value[1], [0.5, 0.5, 0.5])
    assert np.array_equal(creators.value[2], [0.5, 0.5, 0.5])


def test_learning_rate_zero_or_unknown_creators_change_nothing():
    items = np.eye(2)
    static = Creators(np.full((2, 2), 0.5), seed=1)
    static.update_profiles(np.array([0, 1]), items, np.array([0, 1]))
    assert np.array_equal(static.value, np.full((2, 2), 0.5))
    learner = Creators(np.full((2, 2), 0.5), learning_rate=1.0, seed=1)
    learner.update_profiles(np.array([0, 1]), items, None)
    assert np.array_equal(learner.value, np.full((2, 2), 0.5))


def test_learning_creators_in_a_model_move_toward_what_was_consumed():
    creators = Creators(np.full((4, 3), 0.5), creation_probability=1.0, learning_rate=0.3)
    model = _model_with_creators(3, creators)
    before = creators.value.copy()
    model.run(1, disable_tqdm=True)
    chosen = model.interactions
    made_by = model.items.creator_of[chosen]
    learned = np.unique(made_by[made_by >= 0])
    assert learned.size > 0  # new items rank with the rest; some are consumed
    for c in range(4):
        if c in learned:
            target = model.items.value[:, chosen[made_by == c]].mean(axis=1)
            assert np.allclose(creators.value[c], before[c] + 0.3 * (target - before[c]))
        else:
            assert np.array_equal(creators.value[c], before[c])


def test_new_items_become_item_agents_with_creator_and_creation_step():
    creators = Creators(np.full((3, 3), 0.5), creation_probability=1.0)
    model = _model_with_creators(2, creators, num_items=4)
    model.run(2, disable_tqdm=True)
    assert model.num_items == 4 + 2 * 3
    agents = sorted(model.items, key=lambda a: a.index)
    assert [a.index for a in agents] == list(range(10))
    assert all(isinstance(a, ItemAgent) for a in agents)
    for agent in agents[:4]:
        assert agent.creator is None
        assert agent.created_at == 0
    creator_agents = sorted(model.creators, key=lambda a: a.index)
    assert all(isinstance(a, CreatorAgent) for a in creator_agents)
    for n, agent in enumerate(agents[4:]):
        step, maker = divmod(n, 3)
        assert agent.created_at == step + 1
        assert agent.creator is creator_agents[maker]
        assert np.array_equal(agent.attributes, model.items.value[:, agent.index])
    assert [c.num_items_created for c in creator_agents] == [2, 2, 2]


def test_popularity_with_creators_gives_new_items_zero_popularity():
    creators = Creators(np.full((3, 1), 0.5), creation_probability=1.0)
    model = PopularityRecommender(
        num_users=5,
        num_items=4,
        num_items_per_iter=2,
        creators=creators,
        seed=1,
        measurements=[MSEMeasurement()],
    )
    model.run(1, disable_tqdm=True)
    assert model.num_items == 7
    # the 5 interactions of the step are the only counts, wherever they went
    assert model.items_hat.value.sum() == 5
    assert np.array_equal(model.items_hat.value[0], model.items.interaction_counts)
