"""BaseRecommender behaviours (T-RECS's test_recommender.py, plus the Mesa side of the model)."""

import mesa
import numpy as np
import pytest
from mesa.agentset import AgentSet

from mesa_recsys import matrix_ops as mo
from mesa_recsys import topk
from mesa_recsys.agents import ItemAgent, UserAgent
from mesa_recsys.components import Creators, Users
from mesa_recsys.metrics import InteractionMeasurement, MSEMeasurement
from mesa_recsys.models import BaseRecommender, PopularityRecommender

NUM_USERS, NUM_ITEMS, NUM_ATTRS, N = 10, 50, 5, 5


class DummyRecommender(BaseRecommender):
    """A recommender that learns nothing; new items get uniform random representations."""

    def __init__(self, users_hat, items_hat, users, items, num_items_per_iter=N, **kwargs):
        super().__init__(
            users_hat,
            items_hat,
            users,
            items,
            users_hat.shape[0],
            items_hat.shape[1],
            num_items_per_iter,
            **kwargs,
        )

    def _update_internal_state(self, interactions):
        pass

    def process_new_items(self, new_items):
        return self.rng.uniform(size=(self.items_hat.shape[0], new_items.shape[1]))


def make_dummy(seed=0, users_hat=None, items_hat=None, users=None, items=None, **kwargs):
    """10 users, 50 items, 5 attributes; representations drawn from ``seed`` unless given."""
    gen = np.random.default_rng(seed)
    if users_hat is None:
        users_hat = gen.normal(size=(NUM_USERS, NUM_ATTRS))
    if items_hat is None:
        items_hat = gen.normal(size=(NUM_ATTRS, NUM_ITEMS))
    if users is None:
        users = gen.normal(size=(NUM_USERS, NUM_ATTRS))
    if items is None:
        items = gen.normal(size=(NUM_ATTRS, NUM_ITEMS))
    kwargs.setdefault("seed", seed)
    kwargs.setdefault("measurements", [InteractionMeasurement()])
    return DummyRecommender(users_hat, items_hat, users, items, **kwargs)


def ordered_items_hat():
    """items_hat whose columns 0..4 hold 100..500 in every attribute, the rest zero."""
    items_hat = np.zeros((NUM_ATTRS, NUM_ITEMS))
    items_hat[:, :5] = np.array([100, 200, 300, 400, 500])
    return items_hat


def make_ordered(**kwargs):
    """Dummy whose predicted ranking is items 4, 3, 2, 1, 0 for every user."""
    return make_dummy(
        users_hat=np.ones((NUM_USERS, NUM_ATTRS)), items_hat=ordered_items_hat(), **kwargs
    )


# --- T-RECS's test_recommender.py -----------------------------------------------------------


def test_generate_recommendations_shape_and_validity():
    model = make_dummy()
    recs = model.generate_recommendations(k=N)
    assert recs.shape == (NUM_USERS, N)
    assert recs.dtype.kind == "i"
    assert recs.min() >= 0 and recs.max() < NUM_ITEMS
    assert all(len(set(row)) == N for row in recs)
    # best first: each row is the top-5 of that user's predicted scores, in order
    scores = mo.inner_product(model.users_hat.value, model.items_hat.value)
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :N]
    assert np.array_equal(recs, expected)
    assert model.generate_recommendations(k=0).shape == (NUM_USERS, 0)


def test_generate_recommendations_errors_clearly_where_trecs_crashed():
    model = make_dummy()
    # T-RECS crashes on the documented default item_indices=None; here it means "all items"
    assert model.generate_recommendations(k=3).shape == (NUM_USERS, 3)
    with pytest.raises(ValueError, match="not enough items"):
        model.generate_recommendations(k=NUM_ITEMS + 1)
    only_two = np.tile(np.array([7, 9]), (NUM_USERS, 1))
    with pytest.raises(ValueError, match="not enough items"):
        model.generate_recommendations(k=3, item_indices=only_two)
    recs = model.generate_recommendations(k=2, item_indices=only_two)
    assert set(recs.ravel()) <= {7, 9}
    assert all(sorted(row) == [7, 9] for row in recs)
    with pytest.raises(ValueError, match="random_items_per_iter"):
        model.recommend(random_items_per_iter=N + 1)


def test_interaction_indices_count_minus_one_without_repeated_items():
    model = make_dummy(seed=3)
    chosen = []
    for step in range(10):
        model.run(1, repeated_items=False, disable_tqdm=True)
        indices = model.indices
        assert np.count_nonzero(indices == -1) == NUM_USERS * (step + 1)
        assert np.all(np.count_nonzero(indices == -1, axis=1) == step + 1)
        # the items a user interacted with before were not shown again
        for user in range(NUM_USERS):
            assert not set(model.items_shown[user]) & {c[user] for c in chosen}
        chosen.append(model.interactions.copy())
        assert np.all(indices[np.arange(NUM_USERS), model.interactions] == -1)
    history = np.stack(chosen, axis=1)
    assert all(len(set(row)) == 10 for row in history)


def test_running_out_of_items_without_repeats_is_a_clear_error():
    gen = np.random.default_rng(1)
    model = DummyRecommender(
        gen.normal(size=(4, 2)),
        gen.normal(size=(2, 6)),
        gen.normal(size=(4, 2)),
        gen.normal(size=(2, 6)),
        num_items_per_iter=5,
        measurements=[InteractionMeasurement()],
        seed=1,
    )
    model.run(2, repeated_items=False, disable_tqdm=True)  # 6 -> 5 -> 4 items left
    assert np.all(np.count_nonzero(model.indices == -1, axis=1) == 2)
    with pytest.raises(ValueError, match="not enough items left"):
        model.run(1, repeated_items=False, disable_tqdm=True)


def test_item_order_best_first():
    model = make_ordered()
    assert np.array_equal(
        model.generate_recommendations(k=5), np.tile([4, 3, 2, 1, 0], (NUM_USERS, 1))
    )
    assert np.array_equal(model.generate_recommendations(k=2), np.tile([4, 3], (NUM_USERS, 1)))
    assert np.array_equal(model.recommend(), np.tile([4, 3, 2, 1, 0], (NUM_USERS, 1)))


def test_repeated_items_keep_every_index():
    model = make_dummy(seed=2)
    model.run(5, repeated_items=True, disable_tqdm=True)
    assert not np.any(model.indices == -1)
    assert np.array_equal(model.indices, np.tile(np.arange(NUM_ITEMS), (NUM_USERS, 1)))


def test_content_creators_add_items_scored_by_the_model():
    gen = np.random.default_rng(5)
    creators = Creators(gen.uniform(size=(10, NUM_ATTRS)), creation_probability=1.0, seed=5)
    model = make_dummy(seed=5, creators=creators)
    model.run(5, disable_tqdm=True)
    assert model.num_items == NUM_ITEMS + 5 * 10
    assert model.items_hat.shape == (NUM_ATTRS, 100)
    assert model.items.shape == (NUM_ATTRS, 100)
    assert model.actual_user_item_scores.shape == (NUM_USERS, 100)
    new_hat = model.items_hat.value[:, NUM_ITEMS:]
    assert np.all((new_hat >= 0) & (new_hat < 1))
    expected = mo.inner_product(model.users_hat.value, new_hat)
    assert np.allclose(model.predicted_user_item_scores[:, NUM_ITEMS:], expected)
    assert np.array_equal(
        np.argsort(model.predicted_user_item_scores[:, NUM_ITEMS:], axis=1),
        np.argsort(model.users_hat.value @ new_hat, axis=1),
    )
    # true scores of the new items come from the true (binary) attributes
    true_new = model.items.value[:, NUM_ITEMS:]
    assert set(np.unique(true_new)) <= {0.0, 1.0}
    assert np.allclose(
        model.actual_user_item_scores[:, NUM_ITEMS:],
        mo.inner_product(model.actual_user_profiles, true_new),
    )
    # each step's new items are created at that step
    assert np.array_equal(model.items.created_at[NUM_ITEMS:], np.repeat(np.arange(1, 6), 10))


def test_simple_properties_equal_inputs():
    gen = np.random.default_rng(7)
    users_hat, items_hat = (
        gen.normal(size=(NUM_USERS, NUM_ATTRS)),
        gen.normal(size=(NUM_ATTRS, NUM_ITEMS)),
    )
    users, items = gen.normal(size=(NUM_USERS, 3)), gen.normal(size=(3, NUM_ITEMS))
    model = make_dummy(users_hat=users_hat, items_hat=items_hat, users=users, items=items)
    assert np.array_equal(model.predicted_user_profiles, users_hat)
    assert np.array_equal(model.predicted_item_attributes, items_hat)
    assert np.array_equal(model.actual_user_profiles, users)
    assert np.array_equal(model.actual_item_attributes, items)
    assert np.allclose(model.predicted_user_item_scores, mo.inner_product(users_hat, items_hat))
    assert np.allclose(model.actual_user_item_scores, mo.inner_product(users, items))
    assert model.num_users == NUM_USERS and model.num_items == NUM_ITEMS
    assert model.num_items_per_iter == N
    assert model.random_state is model.rng


def test_all_items_per_iter_grows_with_creators():
    gen = np.random.default_rng(8)
    creators = Creators(gen.uniform(size=(10, NUM_ATTRS)), creation_probability=1.0, seed=8)
    model = make_dummy(seed=8, creators=creators, num_items_per_iter="all")
    assert model.num_items_per_iter == NUM_ITEMS
    model.run(1, disable_tqdm=True)
    assert model.num_items_per_iter == 60
    assert model.items_shown.shape == (NUM_USERS, 60)
    model.run(1, disable_tqdm=True)
    assert model.num_items_per_iter == 70
    recs = model.recommend()
    assert recs.shape == (NUM_USERS, 70)
    assert all(sorted(row) == list(range(70)) for row in recs)


def test_random_tiebreak_differs_between_users():
    model = make_dummy(
        seed=1234,
        users_hat=np.zeros((NUM_USERS, NUM_ATTRS)),
        items_hat=np.zeros((NUM_ATTRS, NUM_ITEMS)),
    )
    assert not np.any(model.predicted_user_item_scores)
    recs = model.recommend()
    assert any(not np.array_equal(recs[0], row) for row in recs[1:])
    assert all(len(set(row)) == N for row in recs)
    # ties are broken afresh each call
    assert not np.array_equal(recs, model.recommend())


def test_custom_interleaving_fn():
    calls = []

    def first_k(k, item_indices):
        calls.append((k, item_indices.shape))
        return item_indices[:, :k]

    model = make_dummy(num_items_per_iter=15, interleaving_fn=first_k)
    recs = model.recommend(random_items_per_iter=15)
    assert np.array_equal(recs, np.tile(np.arange(15), (NUM_USERS, 1)))
    assert calls == [(15, (NUM_USERS, NUM_ITEMS))]
    with pytest.raises(TypeError, match="interleaving_fn"):
        make_dummy(interleaving_fn="not callable")


def test_random_interleaving_of_all_items_is_a_permutation():
    model = make_dummy(seed=11, num_items_per_iter=NUM_ITEMS)
    recs = model.recommend(random_items_per_iter=NUM_ITEMS)
    assert all(sorted(row) == list(range(NUM_ITEMS)) for row in recs)
    assert any(not np.array_equal(recs[0], row) for row in recs[1:])


# --- recommend(): start-up, interleaving, probabilistic recommendations ---------------------


def test_startup_shows_only_random_items():
    model = make_ordered(seed=4)
    top = np.array([4, 3, 2, 1, 0])
    recs = model.recommend(startup=True)
    assert recs.shape == (NUM_USERS, N)
    assert all(len(set(row)) == N for row in recs)
    assert not any(np.array_equal(row, top) for row in recs)
    assert len(set(recs.ravel())) > N
    assert len(set(recs.ravel()) - set(top)) > 0

    def last_k(k, item_indices):
        return item_indices[:, item_indices.shape[1] - k :]

    model = make_ordered(seed=4, interleaving_fn=last_k)
    assert np.array_equal(model.recommend(startup=True), np.tile(np.arange(45, 50), (NUM_USERS, 1)))


def test_choose_interleaved_items_draws_from_the_given_candidates():
    model = make_dummy(seed=15)
    candidates = np.tile(np.array([7, 9, 11, 13]), (NUM_USERS, 1))
    picks = model.choose_interleaved_items(2, candidates)
    assert picks.shape == (NUM_USERS, 2)
    assert all(len(set(row)) == 2 for row in picks)
    # T-RECS: a random k-subset of each user's item_indices (generate_recommendations honours
    # the same argument)
    assert set(picks.ravel()) <= {7, 9, 11, 13}
    assert set(model.generate_recommendations(2, candidates).ravel()) <= {7, 9, 11, 13}


def _marked_interleaving(k, item_indices):
    """Interleave the last k items (45..49), which the ordered model never ranks in its top 5."""
    return item_indices[:, item_indices.shape[1] - k :]


def test_random_items_per_iter_places_exactly_that_many():
    model = make_ordered(seed=6, interleaving_fn=_marked_interleaving)
    for n_new in range(N + 1):
        recs = model.recommend(random_items_per_iter=n_new)
        is_new = recs >= NUM_ITEMS - n_new
        assert np.all(is_new.sum(axis=1) == n_new)
        # the recommended slots keep rank order: 4, 3, 2, ... for the N - n_new best
        for row, new in zip(recs, is_new):
            assert list(row[~new]) == [4, 3, 2, 1, 0][: N - n_new]
            assert sorted(row[new]) == list(range(NUM_ITEMS - n_new, NUM_ITEMS))
        if 0 < n_new < N:
            # the interleaved items land in random slots, not the same slots for everyone
            assert len({tuple(row) for row in is_new}) > 1


def test_default_interleaving_takes_random_distinct_items():
    model = make_ordered(seed=6)
    counts = np.zeros(NUM_ITEMS)
    for _ in range(40):
        recs = model.recommend(random_items_per_iter=N)
        assert all(len(set(row)) == N for row in recs)
        counts += np.bincount(recs.ravel(), minlength=NUM_ITEMS)
    # 2000 uniform draws over 50 items: 40 each on average; the top items get no favour
    assert counts.sum() == 40 * NUM_USERS * N
    assert counts.min() >= 15 and counts.max() <= 70
    assert counts[:5].mean() < 60


def test_vary_random_items_per_iter():
    ks = []

    def spy(k, item_indices):
        ks.append(k)
        return _marked_interleaving(k, item_indices)

    model = make_ordered(seed=9, interleaving_fn=spy)
    for _ in range(40):
        recs = model.recommend(random_items_per_iter=3, vary_random_items_per_iter=True)
        k = ks[-1]
        # one draw per call, shared by every user
        assert np.all((recs >= NUM_ITEMS - k).sum(axis=1) == k)
        assert np.all((recs < 5).sum(axis=1) == N - k)
    assert set(ks) == {0, 1, 2, 3}


def _increasing_model(seed, num_users=200, **kwargs):
    users_hat = np.ones((num_users, 1))
    items_hat = np.arange(NUM_ITEMS, dtype=float)[None, :]
    gen = np.random.default_rng(0)
    return DummyRecommender(
        users_hat,
        items_hat,
        gen.normal(size=(num_users, 2)),
        gen.normal(size=(2, NUM_ITEMS)),
        seed=seed,
        probabilistic_recommendations=True,
        measurements=[InteractionMeasurement()],
        **kwargs,
    )


def test_probabilistic_recommendations_are_valid_and_seeded():
    a = _increasing_model(seed=21, num_items_per_iter=10)
    b = _increasing_model(seed=21, num_items_per_iter=10)
    c = _increasing_model(seed=22, num_items_per_iter=10)
    ra, rb, rc = a.recommend(), b.recommend(), c.recommend()
    assert ra.shape == (200, 10)
    assert ra.min() >= 0 and ra.max() < NUM_ITEMS
    assert all(len(set(row)) == 10 for row in ra)
    assert np.array_equal(ra, rb)
    assert not np.array_equal(ra, rc)
    # not the deterministic top 10 for everyone
    assert not np.all(np.sort(ra, axis=1) == np.arange(40, 50))
    a.run(3, disable_tqdm=True)
    b.run(3, disable_tqdm=True)
    assert np.array_equal(a.items_shown, b.items_shown)
    assert np.array_equal(a.interactions, b.interactions)


def test_probabilistic_recommendations_follow_the_rank_law():
    model = _increasing_model(seed=3, num_items_per_iter=1)
    draws = np.concatenate([model.recommend().ravel() for _ in range(10)])
    freq = np.bincount(draws, minlength=NUM_ITEMS) / draws.size
    weights = 2.0 ** (NUM_ITEMS / 10 * np.arange(NUM_ITEMS) / (NUM_ITEMS - 1))
    p = weights / weights.sum()
    # item 49 (best) is 32 times as likely as item 0 (worst): p ~ 0.07 vs 0.002
    assert abs(freq[-1] - p[-1]) < 0.025
    assert freq[-10:].sum() > 3 * freq[:10].sum()
    expected_mean_rank = float(p @ np.arange(NUM_ITEMS))
    assert abs(draws.mean() - expected_mean_rank) < 1.5


# --- run, startup_and_train and Mesa's own stepping -------------------------------------------


def test_run_warns_without_metrics():
    model = make_dummy(measurements=None)
    with pytest.warns(UserWarning, match="No measurements"):
        model.run(1, disable_tqdm=True)
    assert model.steps == 1
    # step()/run_for() are Mesa's loop and do not warn
    model.run_for(2)
    assert model.steps == 3


def test_startup_and_train():
    gen = np.random.default_rng(3)
    model = PopularityRecommender(
        num_users=20,
        num_items=30,
        actual_user_representation=gen.normal(size=(20, 4)),
        actual_item_representation=gen.normal(size=(4, 30)),
        record_base_state=True,
        measurements=[MSEMeasurement()],
        seed=3,
    )
    model.startup_and_train(3)
    assert model.steps == 3
    history = model.get_system_state()["predicted_user_scores"]
    assert len(history) == 4
    assert all(not np.any(h) for h in history)  # no training during start-up
    assert len(model.get_measurements()["mse"]) == 4
    counts = model.items_hat.value.ravel()
    assert counts.sum() == 3 * 20
    assert np.array_equal(counts, model.items.interaction_counts)
    assert np.allclose(model.predicted_user_item_scores, np.tile(counts, (20, 1)))


def test_run_for_advances_steps_and_time():
    model = make_dummy(seed=2)
    assert model.steps == 0 and model.time == 0
    model.run_for(3)
    assert model.steps == 3 and model.time == 3
    assert model.items_shown.shape == (NUM_USERS, N)
    assert len(model.get_measurements()["interaction_histogram"]) == 4
    model.step()
    assert model.steps == 4 and model.time == 4
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 5
    assert frame["interaction_histogram"].iloc[-1].sum() == NUM_USERS


def test_step_options_drive_mesa_steps():
    model = make_ordered(
        seed=3, step_options={"random_items_per_iter": 2}, interleaving_fn=_marked_interleaving
    )
    model.run_for(1)
    assert np.all((model.items_shown >= 48).sum(axis=1) == 2)
    # run() uses its own options for its duration and restores the model's afterwards
    model.run(1, disable_tqdm=True)
    assert np.array_equal(model.items_shown, np.tile([4, 3, 2, 1, 0], (NUM_USERS, 1)))
    assert model.step_options.random_items_per_iter == 2


# --- users and items are Mesa AgentSets and T-RECS views at once ------------------------------


def test_users_and_items_are_agentsets_and_views():
    gen = np.random.default_rng(4)
    profiles = gen.normal(size=(NUM_USERS, NUM_ATTRS))
    users = Users(actual_user_profiles=profiles, attention_exp=-0.5)
    model = make_dummy(seed=4, users=users)
    assert model.users is users
    assert isinstance(model.users, AgentSet) and isinstance(model.items, AgentSet)
    assert len(model.users) == NUM_USERS and len(model.items) == NUM_ITEMS
    assert sorted(a.index for a in model.users) == list(range(NUM_USERS))
    assert all(isinstance(a, UserAgent) for a in model.users)
    assert all(isinstance(a, ItemAgent) for a in model.items)
    assert model.users.agg("index", sum) == sum(range(NUM_USERS))
    assert model.items.agg("index", max) == NUM_ITEMS - 1
    seen = []
    model.users.do(lambda agent: seen.append(agent.index))
    assert sorted(seen) == list(range(NUM_USERS))
    assert len(model.agents_by_type[UserAgent]) == NUM_USERS
    assert len(model.agents_by_type[ItemAgent]) == NUM_ITEMS
    assert len(model.agents) == NUM_USERS + NUM_ITEMS
    assert len(model.users.select(lambda a: a.index < 3)) == 3
    # the same object is T-RECS's component
    assert model.users.actual_user_profiles.value is profiles
    assert model.users.attention_exp == -0.5
    assert model.users.num_users == NUM_USERS
    assert model.items.num_items == NUM_ITEMS and model.items.num_attrs == NUM_ATTRS
    assert np.array_equal(np.asarray(model.items), model.items.value)


def test_agent_handles_read_the_state():
    model = make_dummy(seed=12)
    users = sorted(model.users, key=lambda a: a.index)
    items = sorted(model.items, key=lambda a: a.index)
    assert all(u.last_interaction is None for u in users)
    assert all(u.shown_items.size == 0 for u in users)
    for user in users:
        assert np.array_equal(user.profile, model.actual_user_profiles[user.index])
    for item in items[:5]:
        assert np.array_equal(item.attributes, model.actual_item_attributes[:, item.index])
    counts = np.zeros(NUM_ITEMS, dtype=int)
    for _ in range(5):
        model.step()
        counts += np.bincount(model.interactions, minlength=NUM_ITEMS)
        for user in users:
            assert np.array_equal(user.shown_items, model.items_shown[user.index])
            assert user.last_interaction == model.interactions[user.index]
            assert user.last_interaction in user.shown_items
    assert [item.popularity for item in items] == list(counts)
    assert model.items.agg("popularity", sum) == 5 * NUM_USERS
    # the profile is a view: writing through it changes the model's true preferences
    users[2].profile[0] = 42.0
    assert model.actual_user_profiles[2, 0] == 42.0


def test_new_items_and_users_become_agents():
    gen = np.random.default_rng(13)
    creators = Creators(gen.uniform(size=(4, NUM_ATTRS)), creation_probability=1.0, seed=13)
    model = make_dummy(seed=13, creators=creators)
    model.step()
    assert len(model.items) == NUM_ITEMS + 4
    assert len(model.agents_by_type[ItemAgent]) == NUM_ITEMS + 4
    new_item = max(model.items, key=lambda a: a.index)
    assert new_item.index == NUM_ITEMS + 3
    assert np.array_equal(new_item.attributes, model.items.value[:, -1])
    assert new_item.creator is not None and new_item.creator.index == 3
    assert new_item.created_at == 1

    class Growing(DummyRecommender):
        def process_new_users(self, new_users, **kwargs):
            return np.ones((new_users.shape[0], self.users_hat.shape[1]))

    model = Growing(
        gen.normal(size=(NUM_USERS, NUM_ATTRS)),
        gen.normal(size=(NUM_ATTRS, NUM_ITEMS)),
        gen.normal(size=(NUM_USERS, NUM_ATTRS)),
        gen.normal(size=(NUM_ATTRS, NUM_ITEMS)),
        seed=13,
    )
    model.step()
    new_profiles = gen.normal(size=(3, NUM_ATTRS))
    model.add_users(new_profiles)
    assert len(model.users) == NUM_USERS + 3
    assert len(model.agents_by_type[UserAgent]) == NUM_USERS + 3
    newest = max(model.users, key=lambda a: a.index)
    assert np.array_equal(newest.profile, new_profiles[-1])
    assert newest.last_interaction is None
    assert model.predicted_user_item_scores.shape == (NUM_USERS + 3, NUM_ITEMS)
    model.step()
    assert newest.last_interaction is not None
    assert model.interactions.shape == (NUM_USERS + 3,)
    # base models refuse new users unless they implement process_new_users
    plain = make_dummy(seed=13)
    with pytest.raises(RuntimeError):
        plain.add_users(new_profiles)


def test_datacollector_agent_reporters():
    model = make_dummy(seed=14)
    collector = mesa.DataCollector(
        agent_reporters={
            "index": "index",
            "popularity": lambda a: getattr(a, "popularity", None),
            "last": lambda a: getattr(a, "last_interaction", None),
        },
        agenttype_reporters={ItemAgent: {"pop": "popularity"}},
    )
    for _ in range(3):
        model.step()
        collector.collect(model)
    frame = collector.get_agent_vars_dataframe()
    assert len(frame) == 3 * (NUM_USERS + NUM_ITEMS)
    last = frame.xs(3.0, level=0)
    item_rows = last.dropna(subset=["popularity"])
    assert len(item_rows) == NUM_ITEMS
    assert sorted(item_rows["popularity"].astype(int)) == sorted(model.items.interaction_counts)
    assert item_rows["popularity"].sum() == 3 * NUM_USERS
    user_rows = last.dropna(subset=["last"])
    assert sorted(user_rows["last"].astype(int)) == sorted(model.interactions)
    typed = collector.get_agenttype_vars_dataframe(ItemAgent)
    assert len(typed) == 3 * NUM_ITEMS
    assert typed.xs(3.0, level=0)["pop"].sum() == 3 * NUM_USERS


# --- seeding and the three top-k paths --------------------------------------------------------


def _trajectory(seed, steps=5):
    gen = np.random.default_rng(0)  # same arrays for every seed: only the model seed differs
    users_hat = np.zeros((NUM_USERS, NUM_ATTRS))  # all ties: the order is the seed's doing
    items_hat = gen.normal(size=(NUM_ATTRS, NUM_ITEMS))
    creators = Creators(gen.uniform(size=(3, NUM_ATTRS)), creation_probability=0.5)
    model = DummyRecommender(
        users_hat,
        items_hat,
        None,  # true users drawn from the model seed
        gen.normal(size=(NUM_ATTRS, NUM_ITEMS)),
        creators=creators,
        seed=seed,
        measurements=[InteractionMeasurement()],
    )
    shown, chosen = [], []
    for _ in range(steps):
        model.run(1, random_items_per_iter=2, disable_tqdm=True)
        shown.append(model.items_shown.copy())
        chosen.append(model.interactions.copy())
    return shown, chosen, model.num_items


def test_same_seed_same_run_different_seed_different_run():
    shown_a, chosen_a, items_a = _trajectory(42)
    shown_b, chosen_b, items_b = _trajectory(42)
    shown_c, chosen_c, _ = _trajectory(43)
    assert items_a == items_b
    assert all(np.array_equal(x, y) for x, y in zip(shown_a, shown_b))
    assert all(np.array_equal(x, y) for x, y in zip(chosen_a, chosen_b))
    assert not all(np.array_equal(x, y) for x, y in zip(shown_a, shown_c))
    assert not all(np.array_equal(x, y) for x, y in zip(chosen_a, chosen_c))


def _spy_paths(monkeypatch):
    calls = []
    for name in ("top_k_shared", "top_k_factors", "top_k_items"):
        original = getattr(topk, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(topk, name, spy)
    return calls


def _wrapped_inner_product(user_profiles, item_attributes):
    return mo.inner_product(user_profiles, item_attributes)


def _pair(users_hat, items_hat, seed):
    gen = np.random.default_rng(1)
    true_users = gen.normal(size=(users_hat.shape[0], 3))
    true_items = gen.normal(size=(3, items_hat.shape[1]))
    fast = DummyRecommender(
        users_hat,
        items_hat,
        true_users,
        true_items,
        score_fn=mo.inner_product,
        seed=seed,
        measurements=[InteractionMeasurement()],
    )
    generic = DummyRecommender(
        users_hat.copy(),
        items_hat.copy(),
        true_users.copy(),
        true_items.copy(),
        score_fn=_wrapped_inner_product,  # not mo.inner_product itself: the generic path
        seed=seed,
        measurements=[InteractionMeasurement()],
    )
    return fast, generic


@pytest.mark.parametrize(
    ("case", "fast_path"),
    [
        ("shared", "top_k_shared"),
        ("factors", "top_k_factors"),
        ("factor_ties", "top_k_factors"),
    ],
)
def test_topk_paths_agree(monkeypatch, case, fast_path):
    gen = np.random.default_rng(5)
    num_users, num_items = 40, 60
    if case == "shared":  # one attribute: every user ranks the same row (or its reverse)
        users_hat = gen.choice([-2.0, 0.5, 3.0], size=(num_users, 1))
        items_hat = gen.normal(size=(1, num_items))
    elif case == "shared_ties":  # ... with integer counts, as popularity has: many ties
        users_hat = gen.choice([-2.0, 0.5, 3.0], size=(num_users, 1))
        items_hat = gen.integers(0, 6, size=(1, num_items)).astype(float)
    elif case == "factors":
        users_hat = gen.normal(size=(num_users, 4))
        items_hat = gen.normal(size=(4, num_items))
    else:  # one-hot users over integer items: exact ties everywhere
        users_hat = np.eye(4)[gen.integers(0, 4, num_users)]
        items_hat = gen.integers(0, 3, size=(4, num_items)).astype(float)
    fast, generic = _pair(users_hat, items_hat, seed=77)
    calls = _spy_paths(monkeypatch)
    assert np.array_equal(fast.generate_recommendations(k=7), generic.generate_recommendations(k=7))
    assert calls == [fast_path, "top_k_items"]
    expected = np.argsort(-mo.inner_product(users_hat, items_hat), axis=1, kind="stable")
    recs = fast.generate_recommendations(k=num_items)
    # every path ranks by score; ties may be in any order but the sorted scores agree
    scores = mo.inner_product(users_hat, items_hat)
    rows = np.arange(num_users)[:, None]
    assert np.array_equal(scores[rows, recs], scores[rows, expected])
    generic.generate_recommendations(k=num_items)
    for _ in range(3):
        fast.run(1, repeated_items=False, disable_tqdm=True)
        generic.run(1, repeated_items=False, disable_tqdm=True)
        assert np.array_equal(fast.items_shown, generic.items_shown)
        assert np.array_equal(fast.interactions, generic.interactions)


def test_topk_paths_agree_on_all_zero_scores(monkeypatch):
    zeros_u, zeros_i = np.zeros((30, 3)), np.zeros((3, 40))
    fast, generic = _pair(zeros_u, zeros_i, seed=5)
    calls = _spy_paths(monkeypatch)
    a, b = fast.generate_recommendations(k=10), generic.generate_recommendations(k=10)
    assert calls == ["top_k_factors", "top_k_items"]
    assert np.array_equal(a, b)
    assert len({tuple(row) for row in a}) > 1


# --- mesa.batch_run ----------------------------------------------------------------------------


def test_batch_run_two_processes():
    # ``iterations`` is deprecated in Mesa 3.5 (rng=[None] * n is the new spelling)
    with pytest.warns(DeprecationWarning, match="iterations"):
        rows = mesa.batch_run(
            PopularityRecommender,
            parameters={"num_users": 20, "num_items": [15, 30], "num_items_per_iter": 5},
            iterations=2,
            max_steps=3,
            number_processes=2,
            data_collection_period=1,
            display_progress=False,
        )
    # 2 iterations x 2 parameter sets x steps 0..3
    assert len(rows) == 2 * 2 * 4
    assert {r["iteration"] for r in rows} == {0, 1}
    assert {r["RunId"] for r in rows} == {0, 1, 2, 3}
    for run_id in range(4):
        run = sorted((r for r in rows if r["RunId"] == run_id), key=lambda r: r["Step"])
        assert [r["Step"] for r in run] == [0, 1, 2, 3]
        assert all(r["num_items"] == run[0]["num_items"] for r in run)
        assert run[0]["num_users"] == 20
    assert sorted({r["num_items"] for r in rows}) == [15, 30]
    assert sum(r["num_items"] == 15 for r in rows) == 8


def test_batch_run_with_seed_list():
    rows = mesa.batch_run(
        PopularityRecommender,
        parameters={"num_users": 10, "num_items": 12, "num_items_per_iter": 3},
        rng=[1, 2],
        max_steps=2,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    assert len(rows) == 2 * 3
    # the signature has no explicit ``seed``, so batch_run passes Mesa's ``rng``, also accepted
    assert sorted({r["rng"] for r in rows}) == [1, 2]
    assert sorted(r["Step"] for r in rows) == [0, 0, 1, 1, 2, 2]
