"""The step pipeline of BaseRecommender: order of stages, determinism, agents, Mesa idioms."""

import mesa
import numpy as np
import pytest

from mesa_recsys import matrix_ops as mo
from mesa_recsys.agents import ItemAgent, UserAgent
from mesa_recsys.components import Creators, Users
from mesa_recsys.metrics import InteractionMeasurement, MSEMeasurement
from mesa_recsys.models import (
    BaseRecommender,
    IdealRecommender,
    PopularityRecommender,
    RandomRecommender,
)


def _run(model, steps=1, **kwargs):
    model.run(timesteps=steps, disable_tqdm=True, **kwargs)
    return model


def test_first_step_popularity_is_random_then_follows_counts():
    users = np.eye(5)
    items = np.zeros((5, 5))
    items[:, 0] = 10
    m = PopularityRecommender(
        actual_user_representation=users, actual_item_representation=items, num_items_per_iter=5
    )
    with pytest.warns(UserWarning, match="No measurements"):
        _run(m)
    # true scores all 0 except item 0 -> everyone picks item 0
    assert np.array_equal(m.interactions, np.zeros(5, dtype=int))
    assert np.array_equal(m.items_hat.value, [[5, 0, 0, 0, 0]])
    m.set_num_items_per_iter(1)
    assert np.array_equal(m.recommend(), np.zeros((5, 1), dtype=int))


@pytest.mark.parametrize("cls", [PopularityRecommender, RandomRecommender, IdealRecommender])
def test_same_seed_same_run_different_seed_differs(cls):
    def run(seed):
        m = cls(num_users=30, num_items=60, seed=seed, measurements=[MSEMeasurement()])
        shown, inter = [], []
        for _ in range(4):
            m.step()
            shown.append(m.items_shown.copy())
            inter.append(m.interactions.copy())
        return np.array(shown), np.array(inter)

    a, b, c = run(7), run(7), run(8)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_step_order_train_after_update_and_metrics_after_train():
    m = PopularityRecommender(num_users=20, num_items=30, seed=1, measurements=[MSEMeasurement()])
    _run(m, 3)
    # predicted scores reflect the counts of all three steps (trained after each update)
    assert np.allclose(m.predicted_scores.value[0], m.items_hat.value[0])
    assert m.items_hat.value.sum() == 60
    assert len(m.get_measurements()["mse"]) == 4
    # without training between steps, scores stay at the last train
    before = m.predicted_scores.value.copy()
    _run(m, 1, train_between_steps=False)
    assert np.array_equal(m.predicted_scores.value, before)
    assert m.items_hat.value.sum() == 80


def test_mesa_step_run_for_and_time():
    m = RandomRecommender(num_users=10, num_items=20, seed=3, measurements=[MSEMeasurement()])
    m.step()
    m.run_for(2)
    assert m.steps == 3 and m.time == 3.0
    df = m.datacollector.get_model_vars_dataframe()
    assert list(df.index) == [0, 1, 2, 3]
    assert set(df.columns) == {"num_items", "mse"}


def test_repeated_items_false_never_reshows_consumed_items():
    m = PopularityRecommender(num_users=8, num_items=12, num_items_per_iter=3, seed=5)
    consumed = [set() for _ in range(8)]
    for _ in range(4):
        m.step_options = m.step_options_with(repeated_items=False)
        m.step()
        for u in range(8):
            assert not (set(m.items_shown[u]) & consumed[u])
            consumed[u].add(int(m.interactions[u]))
    assert (m.indices == -1).sum() == sum(len(c) for c in consumed)
    with pytest.raises(ValueError, match="num_items_per_iter"):
        for _ in range(20):
            m.step()


def test_interleaving_places_exactly_the_random_items():
    m = PopularityRecommender(num_users=15, num_items=40, num_items_per_iter=6, seed=2)
    m.items_hat.value[0, :6] = [100, 90, 80, 70, 60, 50]
    m.train()
    shown = m.recommend(random_items_per_iter=2)
    assert shown.shape == (15, 6)
    in_order = 0
    for row in shown:
        top = [i for i in row if i < 4]
        # the top four are always recommended, in rank order (unless a random item repeats one)
        assert {0, 1, 2, 3} <= set(top)
        if len(top) == 4:
            assert top == [0, 1, 2, 3]
            in_order += 1
    assert in_order >= 10
    startup = m.recommend(startup=True)
    assert not np.array_equal(startup, np.tile(np.arange(6), (15, 1)))
    with pytest.raises(ValueError, match="random_items_per_iter"):
        m.recommend(random_items_per_iter=7)


def test_agents_are_handles_onto_state_rows():
    m = PopularityRecommender(num_users=6, num_items=9, seed=4, num_items_per_iter=3)
    assert len(m.users) == 6 and len(m.items) == 9
    assert len(m.agents_by_type[UserAgent]) == 6 and len(m.agents_by_type[ItemAgent]) == 9
    user = m.users.to_list()[2]
    assert user.last_interaction is None and user.shown_items.size == 0
    m.run_for(2)
    assert np.array_equal(user.profile, m.actual_user_profiles[2])
    assert np.array_equal(user.shown_items, m.items_shown[2])
    assert user.last_interaction == m.interactions[2]
    pops = m.items.agg("popularity", np.sum)
    assert pops == 12 == m.items.interaction_counts.sum()
    user.profile[:] = 0.5  # writing through the handle changes the state
    assert m.actual_user_profiles[2, 0] == 0.5


def test_agent_reporters_in_datacollector():
    m = PopularityRecommender(num_users=4, num_items=5, seed=4, num_items_per_iter=2)
    dc = mesa.DataCollector(
        model_reporters={"n": "num_items"},
        agenttype_reporters={ItemAgent: {"popularity": "popularity"}},
    )
    for _ in range(3):
        m.step()
        dc.collect(m)
    df = dc.get_agenttype_vars_dataframe(ItemAgent)
    last = df.xs(3.0, level="Step")["popularity"]
    assert last.sum() == 12


def test_creators_add_items_and_agents():
    creators = Creators(np.full((10, 1), 0.5), creation_probability=1.0, seed=1)
    m = PopularityRecommender(num_users=5, num_items=10, creators=creators, seed=1)
    with pytest.warns(UserWarning):
        _run(m, 2)
    assert m.num_items == 30 == len(m.items) == m.items.value.shape[1]
    assert m.predicted_scores.shape == (5, 30)
    new = m.items.to_list()[-1]
    assert new.created_at == 2 and new.creator is not None
    with pytest.warns(UserWarning):
        _run(m, 1, no_new_items=True)
    assert m.num_items == 30


def test_add_users_grows_everything():
    m = PopularityRecommender(num_users=5, num_items=10, seed=1, measurements=[MSEMeasurement()])
    _run(m, 1)
    m.add_users(np.random.default_rng(0).normal(size=(3, 1)))
    assert m.num_users == 8 == len(m.users) == m.users.num_users
    assert m.predicted_scores.shape == (8, 10)
    _run(m, 1)
    assert m.items_hat.value.sum() == 13
    assert m.users.to_list()[-1].last_interaction is not None


def test_per_agent_choice_path():
    class LastItemUser(UserAgent):
        calls = 0

        def choose(self, items_shown):
            LastItemUser.calls += 1
            return None if self.index == 0 else int(items_shown[-1])

    m = PopularityRecommender(
        num_users=6, num_items=10, seed=1, user_agent_class=LastItemUser, num_items_per_iter=4
    )
    m.step()
    assert LastItemUser.calls == 6
    assert m.interactions[0] == -1
    assert np.array_equal(m.interactions[1:], m.items_shown[1:, -1])
    assert m.items_hat.value.sum() == 5


def test_three_topk_paths_agree():
    rng = np.random.default_rng(0)
    users, items = rng.normal(size=(40, 4)), rng.integers(0, 3, size=(4, 50)).astype(float)

    def make(score_fn):
        class Fixed(BaseRecommender):
            def __init__(self):
                super().__init__(
                    users, items, users, items, None, None, 7, score_fn=score_fn, seed=9
                )

            def _update_internal_state(self, interactions):
                pass

        return Fixed()

    fast = make(mo.inner_product).recommend()
    generic = make(lambda u, i: mo.inner_product(u, i)).recommend()  # noqa: PLW0108 (generic path)
    assert np.array_equal(fast, generic)
    brute = mo.inner_product(users, items)
    for u in range(40):
        best = np.sort(brute[u])[::-1][:7]
        assert np.allclose(brute[u, fast[u]], best)


def test_ideal_recommends_true_top_items_and_tracks_drift():
    users = Users(actual_user_profiles=np.eye(3) + 0.01, drift=0.5)
    items = np.eye(3)[:, [0, 1, 2, 0, 1]] * [1, 1, 1, 0.5, 0.5]
    m = IdealRecommender(
        actual_user_representation=users,
        actual_item_representation=items,
        num_items_per_iter=1,
        seed=1,
        measurements=[MSEMeasurement()],
    )
    assert np.array_equal(m.recommend().ravel(), [0, 1, 2])
    _run(m, 2)
    assert m.get_measurements()["mse"][-1] == pytest.approx(0.0, abs=1e-12)


def test_interaction_histogram_counts_only_interacting_users():
    users = Users(size=(50, 1), interaction_probability=0.5, seed=3)
    m = PopularityRecommender(
        actual_user_representation=users,
        num_items=20,
        seed=3,
        measurements=[InteractionMeasurement()],
    )
    _run(m, 1)
    hist = m.get_measurements()["interaction_histogram"][-1]
    assert hist.sum() == (m.interactions >= 0).sum()
    assert 10 <= hist.sum() <= 40


class _BatchModel(PopularityRecommender):
    def __init__(self, num_users=20, num_items=30, seed=None):
        super().__init__(
            num_users=num_users, num_items=num_items, seed=seed, measurements=[MSEMeasurement()]
        )


def test_batch_run_two_processes_returns_per_step_rows():
    results = mesa.batch_run(
        _BatchModel,
        parameters={"num_users": [10, 20]},
        number_processes=2,
        rng=[1, 2],
        max_steps=3,
        data_collection_period=1,
        display_progress=False,
    )
    assert len(results) == 4 * 4  # four runs, t = 0..3
    assert {"mse", "num_items", "Step", "num_users"} <= set(results[0])
    first = [r["mse"] for r in results if r["Step"] == 3]
    assert len(set(first)) > 1  # different seeds and sizes give different runs
    steps = sorted({r["Step"] for r in results})
    assert steps == [0, 1, 2, 3]


def test_users_view_supports_agentset_verbs():
    m = PopularityRecommender(num_users=10, num_items=12, num_items_per_iter=3, seed=1)
    m.run_for(1)
    chosen = m.users.select(lambda a: a.index < 4)
    assert len(chosen) == 4 and len(m.users) == 10
    assert type(chosen).__name__ == "AgentSet"
    groups = m.users.groupby(lambda a: a.index % 2)
    assert groups.count() == {0: 5, 1: 5}
    assert sorted(m.users.get("index")) == list(range(10))
    assert m.items.agg("popularity", sum) == 10
    with pytest.raises(ValueError, match="inplace"):
        m.users.select(lambda a: True, inplace=True)
    assert len(m.users.shuffle()) == 10
    import pickle

    clone = pickle.loads(pickle.dumps(m))  # noqa: S301 (our own object)
    assert np.array_equal(clone.actual_user_profiles, m.actual_user_profiles)
    assert len(clone.users) == 10


def test_a_users_component_belongs_to_one_model():
    users = Users(size=(5, 1), seed=1)
    first = PopularityRecommender(
        actual_user_representation=users, num_items=6, num_items_per_iter=2
    )
    with pytest.raises(ValueError, match="already belongs to another model"):
        PopularityRecommender(actual_user_representation=users, num_items=6, num_items_per_iter=2)
    assert len(first.users) == 5
    del first
    import gc

    gc.collect()
    again = PopularityRecommender(
        actual_user_representation=users, num_items=6, num_items_per_iter=2
    )
    assert len(again.users) == 5
