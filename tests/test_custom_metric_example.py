"""examples/custom_metric.py: a new metric, added, read back as a DataFrame, plotted."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location(
        "custom_metric_example", ROOT / "examples" / "custom_metric.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_custom_metric_script_prints_the_table_and_writes_the_plot(tmp_path):
    out = tmp_path / "plot.png"
    proc = subprocess.run(
        [sys.executable, "examples/custom_metric.py", "--steps", "4", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[0].split()
    assert header == [
        "num_items", "choice_profile_similarity", "interaction_spread",
        "similar_user_jaccard", "mse[majority]", "mse[minority]",
    ]  # fmt: skip
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Plot written to" in proc.stdout


def test_the_new_metric_is_a_cosine_between_profile_and_choice():
    module = _load()
    model = module.simulate(steps=3, seed=1)
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == 4
    assert pd.isna(df["choice_profile_similarity"].iloc[0])
    # recompute the last value by hand from the model's state
    users = np.flatnonzero(model.interactions >= 0)
    items = model.predicted_item_attributes[:, model.interactions[users]].T
    profiles = model.predicted_user_profiles[users]
    cos = (items * profiles).sum(1) / (
        np.linalg.norm(items, axis=1) * np.linalg.norm(profiles, axis=1)
    )
    assert np.isclose(df["choice_profile_similarity"].iloc[-1], cos.mean())
    assert -1 <= df["choice_profile_similarity"].iloc[-1] <= 1
    # the group split: one MSE column per group, and the groups' weighted mean is the overall MSE
    pred, true = model.predicted_user_item_scores, model.actual_user_item_scores
    per_user = ((pred - true) ** 2).mean(axis=1)
    assert np.isclose(df["mse[majority]"].iloc[-1], per_user[:150].mean())
    assert np.isclose(df["mse[minority]"].iloc[-1], per_user[150:].mean())
