"""Chaney, Stewart & Engelhardt (2018) as replicated in the T-RECS paper, at reduced size.

``examples/chaney_homogenization.py`` with the paper's configuration but 5 seeds (the paper
averages 400) and four of the six recommenders (ideal, content, popularity, random; MF and
social are in the full example). The bands are wide for 5 seeds: one run's change at t=100
has a standard deviation of about 0.02–0.03 (popularity, random) to 0.04 (content). With 30
seeds the example gives popularity +0.222, content +0.148 and random −0.026 (the paper reads
≈ +0.22, ≈ +0.15 and ≈ +0.01–0.02).
"""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5


@pytest.fixture(scope="module")
def curves(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("chaney")
    proc = subprocess.run(
        [
            sys.executable,
            "examples/chaney_homogenization.py",
            "--runs",
            str(RUNS),
            "--processes",
            "2",
            "--recommenders",
            "ideal,content,popularity,random",
            "--output",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "published (repeated)" in proc.stdout  # the side-by-side table is printed
    assert (out / "chaney.png").stat().st_size > 10_000
    table = pd.read_csv(out / "chaney_curves.csv")
    assert set(table["count"]) == {RUNS}
    return table


def _at(curves: pd.DataFrame, training: str, recommender: str, step: int = 100) -> pd.Series:
    rows = curves[
        (curves["training"] == training)
        & (curves["recommender"] == recommender)
        & (curves["Step"] == step)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.mark.slow
def test_ideal_is_zero_by_construction(curves):
    ideal = curves[curves["recommender"] == "ideal"]
    assert len(ideal) == 2 * 100
    assert (ideal["mean"] == 0).all() and (ideal["std"] == 0).all()


@pytest.mark.slow
def test_repeated_training_orders_popularity_content_random(curves):
    """Published at t=100: popularity ≈ +0.22, content ≈ +0.15, random ≈ +0.01–0.02."""
    pop, content, rand = (
        _at(curves, "repeated", r)["mean"] for r in ("popularity", "content", "random")
    )
    assert pop > content > rand
    assert 0.15 <= pop <= 0.32
    assert 0.06 <= content <= 0.22
    assert -0.06 <= rand <= 0.04


@pytest.mark.slow
def test_repeated_training_homogenizes_more_than_single(curves):
    for recommender in ("popularity", "content"):
        repeated = _at(curves, "repeated", recommender)["mean"]
        single = _at(curves, "single", recommender)["mean"]
        assert repeated > single + 0.05, recommender
