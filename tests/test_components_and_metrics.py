"""Component state history, system state, and metrics (T-RECS's test_components.py and
test_measurements.py in the spec), plus the DataCollector view of the metrics.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from mesa_recsys import matrix_ops as mo
from mesa_recsys.components import PredictedUserProfiles, SystemStateModule, Users
from mesa_recsys.metrics import (
    InteractionMeasurement,
    Measurement,
    MSEMeasurement,
    RMSEMeasurement,
)
from mesa_recsys.models import BaseRecommender, IdealRecommender, PopularityRecommender


class _Static(BaseRecommender):
    def _update_internal_state(self, interactions):
        pass


def _drifting_model(**kwargs):
    """Popularity over 6 users and 8 items whose true users drift (true scores change)."""
    rng = np.random.default_rng(0)
    users = Users(actual_user_profiles=rng.normal(size=(6, 2)), drift=0.3)
    return PopularityRecommender(
        actual_user_representation=users,
        actual_item_representation=rng.uniform(size=(2, 8)),
        num_items_per_iter=3,
        seed=3,
        **kwargs,
    )


# --- component history -------------------------------------------------------------------------


def test_component_history_after_two_increments():
    component = PredictedUserProfiles(np.zeros((5, 5)))
    module = SystemStateModule()
    module.add_state_variable(component)
    for _ in range(2):
        component.value += 1
        module.record_state()
    history = component.state_history
    assert len(history) == 3
    for k, entry in enumerate(history):
        assert np.array_equal(entry, np.full((5, 5), float(k)))
    # entries are copies: editing the value later does not rewrite the past
    component.value += 1
    assert np.array_equal(history[0], np.zeros((5, 5)))
    assert component.get_component_state() == {"predicted_users": history}
    assert component.get_timesteps() == 3


def test_registering_twice_records_once():
    component = PredictedUserProfiles(np.zeros((2, 2)))
    module = SystemStateModule()
    module.add_state_variable(component)
    module.add_state_variable(component)
    module.record_state()
    assert len(component.state_history) == 2


@pytest.mark.parametrize("args", [("predicted_users",), ((MSEMeasurement(), print),), ()])
def test_add_state_variable_rejects_non_components(args):
    model = _drifting_model(measurements=[MSEMeasurement()])
    before = len(model._system_state)
    with pytest.raises(ValueError, match="add_state_variable"):
        model.add_state_variable(*args)
    assert len(model._system_state) == before


def test_add_state_variable_on_a_model_records_from_now():
    model = _drifting_model(measurements=[MSEMeasurement()])
    model.run(1, disable_tqdm=True)
    extra = PredictedUserProfiles(np.zeros((3, 3)), name="extra")
    model.add_state_variable(extra)
    model.run(2, disable_tqdm=True)
    assert len(extra.state_history) == 3
    assert list(model.get_system_state()) == ["extra", "timesteps"]


# --- record_base_state and get_system_state ----------------------------------------------------


def test_get_system_state_without_recorded_state_is_a_value_error():
    model = _drifting_model(measurements=[MSEMeasurement()])
    with pytest.raises(ValueError, match="No measurement module defined"):
        model.get_system_state()


def test_base_state_history_grows_by_one_per_step_and_ends_with_the_current_value():
    model = _drifting_model(record_base_state=True, measurements=[MSEMeasurement()])
    keys = {
        "predicted_users",
        "actual_user_scores",
        "predicted_items",
        "predicted_user_scores",
        "timesteps",
    }
    current = {
        "predicted_users": lambda: model.users_hat.value,
        "actual_user_scores": lambda: model.actual_user_item_scores,
        "predicted_items": lambda: model.items_hat.value,
        "predicted_user_scores": lambda: model.predicted_user_item_scores,
    }
    state = model.get_system_state()
    assert set(state) == keys
    assert state["actual_user_scores"][0].shape == (6, 8)  # scores, not profiles (T-RECS §6.3)
    for t in range(1, 4):
        model.run(1, disable_tqdm=True)
        state = model.get_system_state()
        assert set(state) == keys
        assert np.array_equal(state["timesteps"], np.arange(t + 1))
        for name, value in current.items():
            assert len(state[name]) == t + 1, name
            assert np.array_equal(state[name][t], mo.to_dense(value())), name
        assert not np.array_equal(state["actual_user_scores"][t], state["actual_user_scores"][0])
        assert not np.array_equal(state["predicted_items"][t], state["predicted_items"][t - 1])


def test_base_state_includes_creators_when_present():
    from mesa_recsys.components import Creators

    model = _drifting_model(
        record_base_state=True,
        creators=Creators(np.full((2, 2), 0.5), creation_probability=1.0),
        measurements=[MSEMeasurement()],
    )
    model.run(2, disable_tqdm=True)
    state = model.get_system_state()
    assert len(state["actual_creator_profiles"]) == 3
    assert [h.shape[1] for h in state["predicted_items"]] == [8, 10, 12]


# --- metrics registration ---------------------------------------------------------------------


def test_add_metrics_adds_one():
    model = _drifting_model()
    assert model.get_measurements() is None
    model.add_metrics(MSEMeasurement())
    assert len(model.metrics) == 1


@pytest.mark.parametrize("args", [("mse",), ((MSEMeasurement(), print),), ()])
def test_add_metrics_rejects_non_measurements(args):
    model = _drifting_model(measurements=[MSEMeasurement()])
    with pytest.raises(ValueError, match="add_metrics"):
        model.add_metrics(*args)
    assert len(model.metrics) == 1


def test_run_without_metrics_warns():
    model = _drifting_model()
    with pytest.warns(UserWarning, match="No measurements"):
        model.run(1, disable_tqdm=True)


def test_measurement_lengths_grow_by_one_per_step():
    model = _drifting_model(
        measurements=[MSEMeasurement(), RMSEMeasurement(), InteractionMeasurement()]
    )
    for t in range(4):
        if t:
            model.run(1, disable_tqdm=True)
        got = model.get_measurements()
        assert set(got) == {"mse", "rmse", "interaction_histogram", "timesteps"}
        assert np.array_equal(got["timesteps"], np.arange(t + 1))
        for name in ("mse", "rmse", "interaction_histogram"):
            assert len(got[name]) == t + 1, name


# --- MSE / RMSE -------------------------------------------------------------------------------


def _hand_model(items_hat, users_hat=None):
    # predicted: users_hat rows normalised to e0, e1 → scores [[1, 2], [3, 4]]
    # true: profiles [[1, 0], [0, 2]] normalised to e0, e1, items [[0, 1], [1, 0]]
    #       → scores [[0, 1], [1, 0]]
    return _Static(
        np.array([[5.0, 0.0], [0.0, 0.5]]) if users_hat is None else users_hat,
        items_hat,
        np.array([[1.0, 0.0], [0.0, 2.0]]),
        np.array([[0.0, 1.0], [1.0, 0.0]]),
        2,
        2,
        1,
        measurements=[MSEMeasurement(), RMSEMeasurement()],
        seed=1,
    )


@pytest.mark.parametrize("kind", ["dense", "sparse items", "all sparse"])
def test_mse_and_rmse_hand_case(kind):
    items_hat = np.array([[1.0, 2.0], [3.0, 4.0]])
    users_hat = np.array([[5.0, 0.0], [0.0, 0.5]])
    if kind != "dense":  # T-RECS computes a matrix power here (§6.10)
        items_hat = sparse.csr_matrix(items_hat)
    if kind == "all sparse":
        users_hat = sparse.csr_matrix(users_hat)
    model = _hand_model(items_hat, users_hat)
    assert np.allclose(model.predicted_user_item_scores, [[1, 2], [3, 4]])
    assert np.allclose(model.actual_user_item_scores, [[0, 1], [1, 0]])
    # differences 1, 1, 2, 4: squares 1, 1, 4, 16, mean 22 / 4
    got = model.get_measurements()
    assert got["mse"] == [pytest.approx(5.5)]
    assert got["rmse"] == [pytest.approx(np.sqrt(5.5))]


def test_rmse_is_the_root_of_mse_every_step():
    users = Users(size=(8, 1), seed=4, repeat_interactions=False)
    model = PopularityRecommender(
        actual_user_representation=users,
        actual_item_representation=np.random.default_rng(1).uniform(size=(1, 10)),
        num_items_per_iter=2,
        seed=1,
        measurements=[MSEMeasurement(), RMSEMeasurement()],
    )
    model.run(5, disable_tqdm=True)
    got = model.get_measurements()
    assert len(got["mse"]) == 6
    assert np.all(np.isfinite(got["mse"]))
    assert np.allclose(got["rmse"], np.sqrt(got["mse"]))
    assert got["mse"][-1] != got["mse"][0]
    pred = model.predicted_user_item_scores
    true = model.actual_user_item_scores
    assert got["mse"][-1] == pytest.approx(np.mean((pred - true) ** 2))


# --- InteractionMeasurement ---------------------------------------------------------------------


def test_interaction_histogram_is_the_bincount_of_interactions():
    users = Users(size=(40, 2), seed=5, interaction_probability=0.6)
    model = IdealRecommender(
        actual_user_representation=users,
        num_items=12,
        num_items_per_iter=4,
        seed=2,
        measurements=[InteractionMeasurement()],
    )
    assert model.get_measurements()["interaction_histogram"] == [None]
    abstained = 0
    for t in range(1, 5):
        model.run(1, disable_tqdm=True)
        hist = model.get_measurements()["interaction_histogram"][t]
        inter = model.interactions
        assert hist.shape == (12,)
        assert hist.sum() == np.count_nonzero(inter >= 0)
        assert np.array_equal(hist, np.bincount(inter[inter >= 0], minlength=12))
        abstained += np.count_nonzero(inter < 0)
    assert abstained > 0  # the case where the sum is below num_users was exercised


# --- DataCollector --------------------------------------------------------------------------------


def test_datacollector_has_a_row_per_step_and_a_column_per_metric():
    model = _drifting_model(measurements=[MSEMeasurement(), InteractionMeasurement()])
    model.run(3, disable_tqdm=True)
    df = model.datacollector.get_model_vars_dataframe()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == 4
    assert {"mse", "interaction_histogram"} <= set(df.columns)
    got = model.get_measurements()
    assert list(df["mse"]) == got["mse"]
    assert df["interaction_histogram"].iloc[0] is None
    for t in range(1, 4):
        cell = df["interaction_histogram"].iloc[t]
        assert isinstance(cell, np.ndarray)
        assert cell.shape == (8,)
        assert np.array_equal(cell, got["interaction_histogram"][t])


def test_metric_added_after_construction_has_its_t0_value():
    model = _drifting_model(measurements=[InteractionMeasurement()])
    expected = float(
        np.mean((model.predicted_user_item_scores - model.actual_user_item_scores) ** 2)
    )
    model.add_metrics(MSEMeasurement())
    assert model.get_measurements()["mse"] == [pytest.approx(expected)]
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == 1
    assert df["mse"].iloc[0] == pytest.approx(expected)
    model.run(2, disable_tqdm=True)
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == 3
    assert df["mse"].iloc[0] == pytest.approx(expected)
    assert len(model.get_measurements()["mse"]) == 3


class _FirstSlotShare(Measurement):
    """Share of users who took the item shown first (None before any interaction)."""

    def __init__(self, name="first_slot_share"):
        super().__init__(name)

    def measure(self, recommender):
        if recommender.interactions.size == 0:
            self.observe(None)
            return
        self.observe(float(np.mean(recommender.interactions == recommender.items_shown[:, 0])))


def test_custom_measurement_lands_in_the_dataframe():
    model = _drifting_model(measurements=[_FirstSlotShare()])
    expected = [None]
    for _ in range(3):
        model.run(1, disable_tqdm=True)
        expected.append(float(np.mean(model.interactions == model.items_shown[:, 0])))
    df = model.datacollector.get_model_vars_dataframe()
    assert "first_slot_share" in df.columns
    assert pd.isna(df["first_slot_share"].iloc[0])  # None, or NaN in a float column
    assert model.get_measurements()["first_slot_share"][0] is None
    assert list(df["first_slot_share"].iloc[1:]) == pytest.approx(expected[1:])
    assert model.get_measurements()["first_slot_share"][1:] == pytest.approx(expected[1:])
    assert np.array_equal(model.get_measurements()["timesteps"], np.arange(4))
