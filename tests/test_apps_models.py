"""The pages' models without a browser: controls match the models, every recommender steps.

The browser tests are in tests/test_apps.py; these run everywhere.
"""

from __future__ import annotations

import io
import runpy
from pathlib import Path

import ipywidgets
import numpy as np
import pytest
import solara
from mesa.visualization.solara_viz import _check_model_params
from PIL import Image

APPS = Path(__file__).resolve().parents[1] / "apps"


@pytest.fixture(scope="module")
def recsys():
    """The recsys page's module namespace (runs its start-up warm-up once)."""
    return runpy.run_path(str(APPS / "recsys.py"), run_name="apps_recsys")


@pytest.fixture(scope="module")
def schelling():
    """The Schelling page's module namespace."""
    return runpy.run_path(str(APPS / "schelling.py"), run_name="apps_schelling")


@pytest.fixture(scope="module")
def panels():
    """The namespace of apps/_panels.py, the drawing code both pages share."""
    return runpy.run_path(str(APPS / "_panels.py"), run_name="apps_panels")


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
        _, rc = solara.render(recsys[component](explorer), handle_error=False)
        image = rc.find(ipywidgets.Image).widget
        assert image.format == "png"
        assert _pixels(image.value).std() > 0, f"{component}: a blank image"
        rc.close()


PLOTS = ("MetricPanels", "HistogramPanel", "MapPanel")


def _pixels(png: bytes) -> np.ndarray:
    """RGB pixels of a PNG."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _panels(plot) -> list:
    """The Panel objects behind one of the page's plots."""
    return list(getattr(plot, "panels", [])) or [plot.panel]


def test_plots_before_the_first_step(recsys):
    """A new model (what the page shows on load and after Reset) draws every plot."""
    explorer = recsys["RecsysExplorer"](num_users=30, num_items=40)
    for name in PLOTS:
        assert _pixels(recsys[name]().png(explorer)).std() > 0, name


@pytest.mark.parametrize("drift", [0.0, 0.3])
def test_plots_kept_between_steps_match_full_draws(recsys, drift):
    """Drawing only the data over the kept background gives the image a full draw gives.

    And the kept background is what saves the time: over 15 steps the map (no drift: fixed
    limits) is drawn in full once, the histogram and the bounded metrics a few times.
    """
    explorer = recsys["RecsysExplorer"](drift=drift, seed=7)
    plots = {name: recsys[name]() for name in PLOTS}
    for _ in range(15):
        explorer.step()
        for name, plot in plots.items():
            kept = _pixels(plot.png(explorer))
            for panel in _panels(plot):
                panel.invalidate()
            full = _pixels(plot.png(explorer))
            np.testing.assert_array_equal(kept, full, err_msg=f"{name}, step {explorer.steps}")
    # each step above drew every panel in full once on purpose (after invalidate)
    purposeful = 15
    if drift == 0.0:
        assert plots["MapPanel"].panel.full_draws - purposeful == 1
    assert plots["HistogramPanel"].panel.full_draws - purposeful <= 5
    coverage = _panels(plots["MetricPanels"])[list(recsys["METRICS"]).index("coverage")]
    assert coverage.full_draws - purposeful <= 4


def test_plot_limits_move_in_coarse_steps(panels):
    """Axis limits come from the 1-2-5 ladder: small changes of the data keep them."""
    ladder, limits = panels["ladder"], panels["ladder_limits"]
    assert [ladder(v) for v in (0.003, 0.064, 0.3, 1.0, 1.53, 27.0, 100.0, 207.0)] == [
        0.005,
        0.1,
        0.5,
        1.0,
        2.0,
        50.0,
        100.0,
        500.0,
    ]
    assert limits(np.array([np.nan, 0.61, 0.79])) == limits(np.array([0.2, 0.95]))
    low, high = limits(np.array([np.nan, 0.3, 27.6]))
    assert low < 0 < 50 < high < 52
    assert limits(np.array([np.nan])) == limits(np.array([0.0, 1.0]))
    # the time axis: 10 steps, then 20, 50, 100, ...
    time_limits = panels["time_limits"]
    assert time_limits(1) == time_limits(11) == pytest.approx((-0.3, 10.3))
    assert time_limits(12) == pytest.approx((-0.6, 20.6))
    assert time_limits(52) == pytest.approx((-3.0, 103.0))


def test_panel_draws_data_over_the_kept_background(panels):
    """A blitted draw equals a full one; limits and ``key`` decide when to draw in full."""
    panel = panels["Panel"](3.0, 2.0, (0.5, 0.1, 0.4, 0.1))
    (line,) = panel.ax.plot([], [], color="tab:red")
    panel.data(line)
    panel.ax.set_xlim(0, 10)
    panel.ax.set_ylim(0, 1)
    rng = np.random.default_rng(0)
    for _ in range(3):
        line.set_data(np.arange(11), rng.uniform(size=11))
        kept = panel.rgba().copy()
        panel.invalidate()
        np.testing.assert_array_equal(kept, panel.rgba())
    assert panel.full_draws == 1 + 3  # the first draw, then one per invalidate
    panel.rgba(key=("other",))
    assert panel.full_draws == 5
    panel.ax.set_ylim(0, 2)
    panel.rgba(key=("other",))
    assert panel.full_draws == 6
    # the data artist is not part of the background: hidden, it leaves none of its ink
    line.set_visible(False)
    blank = panel.rgba().copy()
    panel.invalidate()
    np.testing.assert_array_equal(blank, panel.rgba())
    line.set_visible(True)
    assert not np.array_equal(blank, panel.rgba())


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


def test_schelling_grid_shows_each_resident_on_its_cell(schelling):
    """Each resident is drawn on its cell (x right, y up) in its group's colour, with the
    marker of its state (dot: happy, cross: unhappy); free cells stay blank."""
    layout = np.full((7, 4), -1)
    layout[0, :] = 0  # a column of group 0 on the left: happy
    layout[1, 3] = 1  # group 1 next to it: unhappy at homophily 0.5
    layout[6, 0] = 1  # group 1 in the bottom right corner and ...
    layout[5, 1] = 1  # ... its diagonal neighbour of group 1: both happy
    layout[3, 3] = 0  # alone at the top: unhappy
    model = schelling["SchellingModel"].from_layout(layout, homophily=0.5, seed=1)
    grid = schelling["GridPanel"](model.width, model.height, model.num_groups)
    image = _pixels(grid.png(model))
    x, y = np.divmod(np.asarray(model.cell_of_resident), model.height)
    happy = np.asarray(model.is_happy)
    assert happy.sum() == 6 and (~happy).sum() == 2
    for markers, which in ((grid.happy, happy), (grid.unhappy, ~happy)):
        drawn = {tuple(p) for p in np.asarray(markers.get_offsets()).tolist()}
        assert drawn == set(zip(x[which].tolist(), y[which].tolist()))

    def pixel(cx: int, cy: int) -> np.ndarray:
        px, py = grid.panel.ax.transData.transform((cx, cy))
        return image[round(image.shape[0] - py), round(px)].astype(int)

    colours = [np.array([0x1F, 0x77, 0xB4]), np.array([0xFF, 0x7F, 0x0E])]
    for cx, cy in zip(x.tolist(), y.tolist()):
        group = int(layout[cx, cy])
        np.testing.assert_allclose(pixel(cx, cy), colours[group], atol=8, err_msg=f"{cx, cy}")
    for cx, cy in zip(*np.nonzero(layout < 0)):
        assert pixel(cx, cy).min() > 200, f"free cell ({cx}, {cy}) is not blank"


@pytest.mark.parametrize("policy", ["random", "similar"])
def test_schelling_plots_kept_between_steps_match_full_draws(schelling, policy):
    """The grid and the curves drawn over their kept backgrounds equal full draws, and the
    grid's background (fixed limits) is drawn in full only once."""
    model = schelling["SchellingModel"](
        width=30, height=30, density=0.8, minority_pc=0.5, homophily=0.4, policy=policy, seed=5
    )
    plots = {
        "grid": schelling["GridPanel"](model.width, model.height, model.num_groups),
        "segregation": schelling["SeriesPlot"]("segregation", "segregation", "tab:purple"),
        "share happy": schelling["SeriesPlot"]("share_happy", "share happy", "tab:green"),
    }
    steps = 12  # past 10: the time axis moves once
    for step in range(steps + 1):
        if step:
            model.step()
        for name, plot in plots.items():
            kept = _pixels(plot.png(model))
            plot.panel.invalidate()
            full = _pixels(plot.png(model))
            np.testing.assert_array_equal(kept, full, err_msg=f"{name}, step {step}")
    purposeful = steps + 1  # each step above drew every panel in full once on purpose
    assert plots["grid"].panel.full_draws - purposeful == 1
    for name in ("segregation", "share happy"):
        assert plots[name].panel.full_draws - purposeful <= 3, name


@pytest.mark.parametrize("policy", ["random", "similar"])
def test_schelling_components_render(schelling, policy):
    """The page's components render the model before and after a step, without an error."""
    model = schelling["SchellingModel"](width=12, height=9, policy=policy, seed=2)
    for step in range(2):
        if step:
            model.step()
        for component in ("Grid", "SegregationPlot", "HappyPlot"):
            _, rc = solara.render(schelling[component](model), handle_error=False)
            image = rc.find(ipywidgets.Image).widget
            assert image.format == "png"
            assert _pixels(image.value).std() > 0, f"{component}: a blank image"
            rc.close()
