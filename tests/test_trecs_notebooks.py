"""T-RECS's own example notebooks run with nothing changed but ``trecs`` -> ``mesa_recsys``.

The code cells are stored verbatim in ``tests/trecs_notebooks/`` (CI has no network); the
rename happens here, at run time, so these tests prove the porting claim.
"""

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

CELLS = Path(__file__).parent / "trecs_notebooks"


def _ported(name: str) -> str:
    source = (CELLS / name).read_text()
    assert "trecs" in source
    return source.replace("trecs", "mesa_recsys")


def test_advanced_models_notebook_runs_unchanged():
    namespace: dict = {}
    with pytest.warns(UserWarning, match="No measurements are currently defined"):
        exec(
            compile(_ported("advanced_models.py.txt"), "advanced-models", "exec"),
            namespace,
        )
    model = namespace["model"]
    assert model.num_users == 1500 and model.num_items == 1250
    assert model.steps == 10
    # NewModel is a popularity recommender: every interaction adds one to an item's count
    assert model.items_hat.value.sum() == 1500 * 10
    assert np.array_equal(model.items_hat.value[0], model.items.interaction_counts)


@pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive:UserWarning")
def test_quick_start_notebook_popularity_parts():
    """The quick start builds a SocialFiltering model (another issue); its Popularity parts
    are the same cells with ``PopularityRecommender`` in place of ``SocialFiltering``."""
    source = _ported("quick_start.py.txt").replace("SocialFiltering", "PopularityRecommender")
    namespace: dict = {}
    exec(
        compile(source, "quick-start", "exec"),
        namespace,
    )
    sf = namespace["sf"]
    results = namespace["results"]
    assert set(results) == {"interaction_histogram", "mse", "timesteps"}
    assert all(len(v) == 6 for v in results.values())
    assert results["interaction_histogram"][0] is None
    for hist in results["interaction_histogram"][1:]:
        assert hist.sum() == sf.num_users
    frame = sf.datacollector.get_model_vars_dataframe()
    assert np.allclose(frame["mse"], results["mse"])
