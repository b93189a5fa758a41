"""Sparse inputs, state history, metric wiring, probabilistic recommendations, Ideal extras."""

import numpy as np
import pytest
from scipy import sparse

from mesa_recsys.components import Component, Creators, PredictedUserProfiles, Users
from mesa_recsys.metrics import InteractionMeasurement, Measurement, MSEMeasurement, RMSEMeasurement
from mesa_recsys.models import IdealRecommender, PopularityRecommender, RandomRecommender


def test_popularity_with_sparse_inputs():
    items = np.zeros((5, 5))
    items[:, 0] = 10
    m = PopularityRecommender(
        actual_user_representation=sparse.csr_matrix(np.eye(5)),
        actual_item_representation=sparse.csr_matrix(items),
        num_items_per_iter=5,
        measurements=[MSEMeasurement()],
    )
    m.run(1, disable_tqdm=True)
    m.set_num_items_per_iter(1)
    assert np.array_equal(m.recommend().ravel(), np.zeros(5))
    hat = PopularityRecommender(
        user_representation=sparse.csr_matrix(np.ones((5, 1))),
        item_representation=sparse.csr_matrix(np.zeros((1, 5))),
        num_items_per_iter=2,
        measurements=[MSEMeasurement()],
    )
    hat.run(2, disable_tqdm=True)
    assert sparse.issparse(hat.items_hat.value) and hat.items_hat.value.sum() == 10


def test_random_with_sparse_inputs_changes_between_steps():
    r = RandomRecommender(
        actual_user_representation=sparse.csr_matrix(np.eye(5)),
        actual_item_representation=sparse.csr_matrix(np.eye(5)),
        num_items_per_iter=1,
        seed=1234,
        measurements=[MSEMeasurement()],
    )
    first = r.recommend()
    r.run(1, disable_tqdm=True)
    assert not np.array_equal(first, r.recommend())
    assert np.all(r.predicted_scores.value == 0)


def test_component_history_and_system_state():
    comp = PredictedUserProfiles(np.zeros((5, 5)))
    m = PopularityRecommender(
        num_users=5, num_items=6, num_items_per_iter=2, seed=1, system_state=[comp]
    )
    comp.value += 1
    m.record_state()
    comp.value += 1
    m.record_state()
    assert [h[0, 0] for h in comp.state_history] == [0, 1, 2]

    m = PopularityRecommender(
        num_users=4,
        num_items=6,
        num_items_per_iter=2,
        seed=1,
        record_base_state=True,
        measurements=[MSEMeasurement()],
    )
    for t in range(1, 4):
        m.run(1, disable_tqdm=True)
        state = m.get_system_state()
        assert set(state) == {
            "predicted_users",
            "actual_user_scores",
            "predicted_items",
            "predicted_user_scores",
            "timesteps",
        }
        assert all(len(v) == t + 1 for v in state.values())
        assert np.array_equal(state["predicted_items"][-1], m.items_hat.value)
        assert np.array_equal(state["predicted_user_scores"][-1], m.predicted_scores.value)
    with pytest.raises(ValueError, match="No measurement module"):
        PopularityRecommender(num_users=2, num_items=3, num_items_per_iter=1).get_system_state()


@pytest.mark.parametrize("bad", [("mse",), (MSEMeasurement(), print), ()])
def test_add_metrics_and_state_variable_errors(bad):
    m = PopularityRecommender(num_users=3, num_items=4, num_items_per_iter=2, seed=1)
    with pytest.raises(ValueError):
        m.add_metrics(*bad)
    with pytest.raises(ValueError):
        m.add_state_variable(*bad)
    assert m.metrics == []


def test_metrics_in_the_datacollector_and_get_measurements():
    class Observed(Measurement):
        def __init__(self):
            super().__init__("observed")

        def measure(self, recommender):
            inter = recommender.interactions
            self.observe(None if inter.ndim != 1 else int(inter.sum()))

    m = PopularityRecommender(num_users=6, num_items=9, num_items_per_iter=3, seed=2)
    m.add_metrics(MSEMeasurement(), RMSEMeasurement(), InteractionMeasurement(), Observed())
    m.run(3, disable_tqdm=True)
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 4
    assert {"mse", "rmse", "interaction_histogram", "observed"} <= set(df.columns)
    assert np.isnan(df["observed"].iloc[0]) and df["observed"].iloc[-1] == int(m.interactions.sum())
    assert np.allclose(df["rmse"], np.sqrt(df["mse"]))
    hist = df["interaction_histogram"].iloc[-1]
    assert isinstance(hist, np.ndarray) and hist.shape == (9,)
    assert np.array_equal(hist, np.bincount(m.interactions, minlength=9))
    res = m.get_measurements()
    assert np.array_equal(res["timesteps"], np.arange(4))
    assert all(len(v) == 4 for v in res.values())
    # MSE by hand: true scores are 0 (true items are zeros), predictions are the counts
    counts = m.items_hat.value[0].astype(float)
    assert res["mse"][-1] == pytest.approx(np.mean(np.tile(counts, (6, 1)) ** 2))


def test_metric_added_mid_run_is_padded_in_the_table():
    m = PopularityRecommender(num_users=4, num_items=5, num_items_per_iter=2, seed=2)
    m.add_metrics(MSEMeasurement())
    m.run(2, disable_tqdm=True)
    m.add_metrics(RMSEMeasurement())
    m.run(1, disable_tqdm=True)
    df = m.datacollector.get_model_vars_dataframe()
    assert df["rmse"].isna().sum() == 2 and len(m.get_measurements()["rmse"]) == 2


def test_probabilistic_recommendations_are_valid_and_seeded():
    def run(seed):
        m = PopularityRecommender(
            num_users=20,
            num_items=30,
            probabilistic_recommendations=True,
            seed=seed,
            measurements=[MSEMeasurement()],
        )
        m.run(3, disable_tqdm=True)
        return m.items_shown.copy()

    a, b, c = run(3), run(3), run(4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert all(len(set(row)) == 10 for row in a) and a.min() >= 0 and a.max() < 30
    assert len({tuple(row) for row in a}) > 1  # each user samples on their own


def test_probabilistic_favours_high_scores():
    m = PopularityRecommender(
        num_users=2000,
        num_items=100,
        num_items_per_iter=1,
        probabilistic_recommendations=True,
        seed=1,
    )
    m.items_hat.value[0] = np.arange(100)
    m.train()
    picks = m.recommend().ravel()
    # weights 2^(10 r / 99): the top decile carries ~ half of the mass
    assert 0.4 < np.mean(picks >= 90) < 0.65


def test_ideal_with_explicit_scores_creators_and_new_users():
    rng = np.random.default_rng(0)
    users = Users(size=(20, 3), seed=1, actual_user_scores=rng.random((20, 8)))
    m = IdealRecommender(
        actual_user_representation=users,
        actual_item_representation=rng.random((3, 8)),
        num_items_per_iter=2,
        measurements=[MSEMeasurement()],
        creators=Creators(size=(4, 3), creation_probability=1.0, seed=1),
    )
    top = np.argsort(-users.actual_user_scores.value, axis=1)[:, 0]
    assert np.array_equal(m.recommend()[:, 0], top)
    m.run(2, disable_tqdm=True)
    assert m.num_items == 16
    assert m.get_measurements()["mse"] == [0.0, 0.0, 0.0]
    m.add_users(np.ones((2, 3)))
    m.run(1, disable_tqdm=True)
    assert m.num_users == 22 and m.get_measurements()["mse"][-1] == 0.0


def test_component_type_errors():
    with pytest.raises(TypeError, match="expected a numpy array"):
        Component("abc")
    with pytest.raises(ValueError, match="current_state or size"):
        Component()
    assert Component(size=(2, 3)).shape == (2, 3)
