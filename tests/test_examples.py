"""The example scripts run and produce what they say."""

import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_custom_model_example():
    out = _run("examples/custom_model.py")
    assert "every user took the last item shown: True" in out
    assert "CosineModel: MSE per step" in out


def test_custom_model_classes():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import custom_model as cm
    finally:
        sys.path.pop(0)
    m = cm.CountingModel(num_users=30, num_items=40, seed=2, measurements=[cm.MSEMeasurement()])
    m.run(timesteps=3, disable_tqdm=True)
    assert m.items_hat.value.sum() == 90
    cos = cm.cosine_similarity(
        np.array([[3.0, 4.0], [0.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 2.0]])
    )
    assert np.allclose(cos, [[0.6, 0.8], [0.0, 0.0]])


def test_quickstart_example(tmp_path):
    out = _run("examples/quickstart.py", "--steps", "3", "--out", str(tmp_path / "q.png"))
    assert "PopularityRecommender" in out and "distinct_items" in out
    assert (tmp_path / "q.png").stat().st_size > 5000
