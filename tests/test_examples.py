"""The example scripts run as scripts and print (and draw) what they promise."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _load_custom_model():
    spec = importlib.util.spec_from_file_location(
        "custom_model_example", ROOT / "examples" / "custom_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_custom_model_script_output():
    out = _run("examples/custom_model.py")
    lines = out.splitlines()
    for header in (
        "NewModel (popularity from scratch):",
        "CosineModel (custom score_fn):",
        "ContrarianUser (user_agent_class=):",
    ):
        assert header in lines
    # 500 users x 5 steps, each pick counted once
    assert "interactions counted in items_hat: 2500" in lines
    assert "every user took the last item shown: True" in lines
    assert "user agents: ContrarianUser" in lines
    # each DataFrame has the initial row 0 and one row per step, 1..5
    start = lines.index("NewModel (popularity from scratch):")
    assert lines[start + 1].split() == ["num_items", "mse", "top_item_count"]
    assert [line.split()[0] for line in lines[start + 2 : start + 8]] == list("012345")
    start = lines.index("CosineModel (custom score_fn):")
    assert lines[start + 1].split() == ["mse", "distinct_items_picked"]
    assert [line.split()[0] for line in lines[start + 2 : start + 8]] == list("012345")


def test_custom_model_classes():
    cm = _load_custom_model()

    popular = cm.NewModel(num_users=30, num_items=40, seed=2)
    popular.add_metrics(cm.InteractionMeasurement())
    popular.run(timesteps=3, disable_tqdm=True)
    assert popular.items_hat.value.shape == (1, 40)
    assert popular.items_hat.value.sum() == 30 * 3
    assert np.array_equal(popular.items_hat.value[0], popular.items.interaction_counts)

    cos = cm.cosine_similarity(
        np.array([[3.0, 4.0], [0.0, 0.0]]), np.array([[1.0, 0.0, 3.0], [0.0, 2.0, 4.0]])
    )
    assert np.allclose(cos, [[0.6, 0.8, 1.0], [0.0, 0.0, 0.0]])

    content = cm.CosineModel(
        num_users=20, num_items=50, num_attributes=4, seed=3, measurements=[cm.MSEMeasurement()]
    )
    assert content.score_fn is cm.cosine_similarity
    before = content.users_hat.value.copy()
    content.run(timesteps=1, disable_tqdm=True)
    picked = content.interactions
    expected = before + content.items_hat.value[:, picked].T
    assert np.allclose(content.users_hat.value, expected)

    contrarian = cm.NewModel(
        num_users=15,
        num_items=30,
        seed=4,
        user_agent_class=cm.ContrarianUser,
        measurements=[cm.InteractionMeasurement()],
    )
    contrarian.run(timesteps=2, disable_tqdm=True)
    assert np.array_equal(contrarian.interactions, contrarian.items_shown[:, -1])
    assert len(contrarian.agents_by_type[cm.ContrarianUser]) == 15


def test_quickstart_script(tmp_path):
    png = tmp_path / "q.png"
    out = _run("examples/quickstart.py", "--steps", "3", "--out", str(png))
    for name in ("PopularityRecommender", "RandomRecommender", "IdealRecommender"):
        assert name in out
    assert "distinct_items" in out and "top_item_share" in out
    assert re.search(r"^Plot written to .*q\.png$", out, re.MULTILINE)
    # steps 0..3 appear as table rows
    rows = [line.split()[0] for line in out.splitlines() if re.match(r"^\d+\s", line)]
    assert rows == ["0", "1", "2", "3"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 5000


def test_goel_virality_example(tmp_path):
    """Scaled-down Goel et al.: more large cascades at a higher rate; CSV and PNG written."""
    out = _run(
        "examples/goel_virality.py",
        "--users", "3000", "--runs", "30", "--rates", "0.03,0.2", "--processes", "1",
        "--output", str(tmp_path),
    )  # fmt: skip
    import pandas as pd

    results = pd.read_csv(tmp_path / "goel_virality.csv")
    assert len(results) == 60 and set(results["r"]) == {0.03, 0.2}
    assert (results["cascade_size"] >= 1).all()
    large = results["cascade_size"] >= 100
    share = large.groupby(results["r"]).mean()
    assert share[0.2] > share[0.03] + 0.2
    virality = results.loc[large & (results["r"] == 0.2), "structural_virality"]
    assert (virality > 2).all()
    assert (tmp_path / "goel_virality.png").stat().st_size > 10_000
    assert "share_large" in out
