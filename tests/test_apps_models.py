"""The pages' models without a browser: controls match the models, every recommender steps.

The browser tests are in tests/test_apps.py; these run everywhere.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest
from mesa.visualization.solara_viz import _check_model_params

APPS = Path(__file__).resolve().parents[1] / "apps"


@pytest.fixture(scope="module")
def recsys():
    """The recsys page's module namespace (runs its start-up warm-up once)."""
    return runpy.run_path(str(APPS / "recsys.py"), run_name="apps_recsys")


@pytest.fixture(scope="module")
def schelling():
    """The Schelling page's module namespace."""
    return runpy.run_path(str(APPS / "schelling.py"), run_name="apps_schelling")


@pytest.mark.parametrize("page", ["recsys", "schelling"])
def test_controls_are_model_arguments(page, request):
    """Every control is a keyword of the page's model, and defaults build it (Reset works)."""
    ns = request.getfixturevalue(page)
    model, params = ns["model"], ns["model_params"]
    _check_model_params(model, params)
    rebuilt = type(model)(**{k: v["value"] for k, v in params.items()})
    rebuilt.step()
    assert rebuilt.time == 1


@pytest.mark.parametrize(
    "recommender", ["popularity", "content", "MF", "social", "random", "ideal"]
)
def test_every_recommender_steps_and_draws(recsys, recommender):
    """Each choice builds, runs start-up steps, steps, and its plots draw."""
    explorer = recsys["RecsysExplorer"](
        recommender=recommender,
        num_users=50,
        num_items=80,
        startup_steps=2,
        random_items_per_iter=2,
        drift=0.1,
        seed=3,
    )
    explorer.step()
    explorer.step()
    assert explorer.time == 2
    df = explorer.datacollector.get_model_vars_dataframe()
    for column in recsys["METRICS"].values():
        assert np.isfinite(float(df[column].iloc[-1])), column
    for component in ("MetricsPlot", "InteractionHistogram", "UserItemMap"):
        recsys[component](explorer)


def test_recsys_rejects_unknown_recommender(recsys):
    """A name outside the list is an error naming the argument."""
    with pytest.raises(ValueError, match="recommender"):
        recsys["RecsysExplorer"](recommender="nope")


def test_same_seed_same_run(recsys):
    """The page's model is reproducible from its seed control."""
    runs = []
    for _ in range(2):
        explorer = recsys["RecsysExplorer"](recommender="content", num_users=40, num_items=60)
        explorer.step()
        runs.append(np.asarray(explorer.sim.interactions).copy())
    np.testing.assert_array_equal(*runs)
