"""run_study: batch_run and Dask give the same table; interrupted studies resume; bad input fails early."""

import subprocess
import sys
import textwrap

import mesa
import pandas as pd
import pytest

from mesa_recsys.models import PopularityRecommender
from mesa_recsys.studies import run_study, study_runs

PARAMS = {"num_users": [40, 70], "num_items": 50, "num_items_per_iter": [5]}


def _batch_run_table(seeds, max_steps):
    rows = mesa.batch_run(
        PopularityRecommender,
        parameters=PARAMS,
        rng=seeds,
        max_steps=max_steps,
        data_collection_period=1,
        number_processes=1,
        display_progress=False,
    )
    return pd.DataFrame(rows).sort_values(["RunId", "Step"]).reset_index(drop=True)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore:.*(Port|port).*:UserWarning")
def test_backends_give_identical_tables(tmp_path):
    """batch_run with 2 processes, Dask on a 2-worker LocalCluster and mesa.batch_run agree."""
    seeds = [3, 4]
    local = run_study(
        PopularityRecommender, PARAMS, seeds, max_steps=3, number_processes=2,
        display_progress=False,
    )  # fmt: skip
    dask = run_study(
        PopularityRecommender, PARAMS, seeds, max_steps=3, backend="dask", number_processes=2,
        output=tmp_path / "dask", display_progress=False,
    )  # fmt: skip
    reference = _batch_run_table(seeds, 3)
    assert len(local) == 2 * 2 * 4  # runs × collected steps (t = 0..3)
    pd.testing.assert_frame_equal(local, dask, check_dtype=False)
    pd.testing.assert_frame_equal(local, reference, check_dtype=False)
    assert set(local.columns) >= {"RunId", "iteration", "Step", "num_users", "rng"}
    written = pd.read_csv(tmp_path / "dask" / "results.csv")
    pd.testing.assert_frame_equal(written, local, check_dtype=False)


CRASHING_MODEL = """
import os
from mesa_recsys.models import PopularityRecommender

class Crashing(PopularityRecommender):
    def __init__(self, num_users=30, crash_at=None, rng=None):
        super().__init__(num_users=num_users, num_items=40, rng=rng)
        self.crash_at = crash_at

    def step(self):
        marker = os.environ.get("CRASH_RUN")
        if marker is not None and self.num_users == int(marker) and self.steps == 1:
            os._exit(3)  # the process dies here, as if killed
        super().step()
"""

DRIVER = """
import sys
sys.path.insert(0, {folder!r})
from crashing import Crashing
from mesa_recsys.studies import run_study
run_study(Crashing, {{"num_users": [30, 31, 32, 33]}}, seeds=[1, 2], max_steps=2,
          output={output!r}, display_progress=False)
print("finished")
"""


def test_a_killed_study_resumes_and_runs_everything_once(tmp_path):
    """Killed at the 3rd run, then restarted: every run exactly once, finished runs kept."""
    (tmp_path / "crashing.py").write_text(textwrap.dedent(CRASHING_MODEL))
    output = tmp_path / "study"
    script = DRIVER.format(folder=str(tmp_path), output=str(output))
    first = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "CRASH_RUN": "32"}, check=False,
    )  # fmt: skip
    assert first.returncode == 3 and "finished" not in first.stdout
    written = sorted(p.name for p in output.glob("run-*.csv"))
    assert written == ["run-000000.csv", "run-000001.csv"]  # runs before the crash
    stamps = {name: (output / name).stat().st_mtime_ns for name in written}

    second = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert second.returncode == 0, second.stderr
    assert "finished" in second.stdout
    files = sorted(p.name for p in output.glob("run-*.csv"))
    assert files == [f"run-{i:06d}.csv" for i in range(8)]
    assert {name: (output / name).stat().st_mtime_ns for name in written} == stamps
    table = pd.read_csv(output / "results.csv")
    assert sorted(table["RunId"].unique()) == list(range(8))
    assert table.groupby("RunId")["Step"].apply(list).map(list).tolist() == [[0, 1, 2]] * 8


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"parameters": {"num_user": [10]}}, "num_user"),
        ({"parameters": {"num_users": []}}, "empty"),
        ({"seeds": []}, "seeds"),
        ({"backend": "spark"}, "backend"),
        ({"max_steps": -1}, "max_steps"),
        ({"number_processes": 0}, "number_processes"),
        ({"output_format": "xlsx"}, "output_format"),
        ({"parameters": {"rng": [1]}}, "seeds="),
    ],
)
def test_bad_studies_fail_before_any_run(tmp_path, kwargs, match):
    """Every bad argument is reported, named, before a single run starts."""
    args = {"parameters": {"num_users": [10]}, "seeds": [1], "output": tmp_path / "out"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        run_study(PopularityRecommender, display_progress=False, **args)
    assert not list(tmp_path.glob("out/run-*"))


def test_an_output_folder_of_another_study_is_refused(tmp_path):
    """Resuming into a folder written by other parameters raises instead of mixing results."""
    run_study(
        PopularityRecommender,
        {"num_users": [10]},
        [1],
        max_steps=1,
        output=tmp_path,
        display_progress=False,
    )
    again = run_study(
        PopularityRecommender,
        {"num_users": [10]},
        [1],
        max_steps=1,
        output=tmp_path,
        display_progress=False,
    )
    assert len(again) == 2  # nothing ran again: the table comes from the folder
    with pytest.raises(ValueError, match="different study"):
        run_study(
            PopularityRecommender,
            {"num_users": [11]},
            [1],
            max_steps=1,
            output=tmp_path,
            display_progress=False,
        )


def test_study_runs_number_like_batch_run():
    """Runs are numbered seed-major, as mesa.batch_run numbers them."""
    runs = study_runs(PopularityRecommender, {"num_users": [1, 2]}, seeds=[7, 8])
    assert [(r, i, k["num_users"], k["rng"]) for r, i, k in runs] == [
        (0, 0, 1, 7), (1, 0, 2, 7), (2, 1, 1, 8), (3, 1, 2, 8),
    ]  # fmt: skip
