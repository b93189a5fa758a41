"""SolaraViz page for Schelling segregation as a recommender: ``solara run apps/schelling.py``.

The grid shows each resident on its cell (colour = group, marker = happy ``o`` or unhappy
``X``); controls set the policy that offers free cells (``random``: the classic model;
``similar``: cells ranked by the share of the resident's group around them), the homophily
threshold and the grid; plots show segregation and the share of happy residents.

The grid and the plots are matplotlib figures kept from step to step (``Panel`` in
``apps/_panels.py``, shared with the recommender page): a step draws the residents and the
curves over a kept background of axes, ticks and labels, which are drawn again only when an
axis limit moves. Mesa's space renderer and ``make_plot_component`` made new figures on every
step, which took most of a second on a 2-core machine (see the README, "In the browser").

The recommender page is ``apps/recsys.py`` (``solara run apps/recsys.py``).
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors
import numpy as np
import reacton.ipywidgets as rw
import solara
from matplotlib.lines import Line2D
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from mesa_recsys.schelling import SchellingModel

# The drawing code both pages share: apps/_panels.py (no page: its name starts with "_").
# `solara run apps/schelling.py` puts this folder on sys.path; `solara run apps` and runpy do not.
sys.path.append(str(Path(__file__).resolve().parent))
from _panels import Panel, Series, encode_png, use_png

# CSS colours, one per group (the browser test looks for the first two on the grid).
GROUP_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
_GROUP_RGBA = matplotlib.colors.to_rgba_array(GROUP_COLOURS)


class GridPanel:
    """The residents on the grid: colour = group, a dot when happy, a cross when not.

    The axes, ticks, cell lines and legend are drawn once (the grid's size is fixed for a
    model); each step draws the two marker collections over them.

    Args:
        width: the grid's width (cells along x).
        height: the grid's height (cells along y).
        num_groups: the model's number of groups (for the legend).
    """

    def __init__(self, width: int, height: int, num_groups: int) -> None:
        """Make the panel, the legend and the two (empty) marker collections."""
        self.width, self.height = int(width), int(height)
        # 384 px square: fits a SolaraViz grid item (10 rows, about 390 px high)
        self.panel = Panel(4.8, 4.8, (0.4, 0.1, 0.35, 0.35))
        ax = self.panel.ax
        ax.set_xlim(-0.5, self.width - 0.5)
        ax.set_ylim(-0.5, self.height - 0.5)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=8)
        ax.locator_params(nbins=5, integer=True)
        if max(self.width, self.height) <= 50:
            # faint cell borders (drawn once, with the background)
            ax.set_xticks(np.arange(self.width + 1) - 0.5, minor=True)
            ax.set_yticks(np.arange(self.height + 1) - 0.5, minor=True)
            ax.grid(which="minor", color="0.9", linewidth=0.5)
            ax.tick_params(which="minor", length=0)
        # marker sizes from the size of a cell on screen, in points
        ax.apply_aspect()
        box = ax.get_position()
        inches = self.panel.figure.get_size_inches()
        cell = 72 * min(box.width * inches[0] / self.width, box.height * inches[1] / self.height)
        self.happy = self.panel.data(ax.scatter([], [], s=(0.6 * cell) ** 2, marker="o", lw=0))
        # unhappy over happy, as Mesa's renderer drew them (zorder 2)
        self.unhappy = self.panel.data(ax.scatter([], [], s=(0.7 * cell) ** 2, marker="X", lw=0))
        handles = [
            Line2D([], [], ls="", marker="s", ms=6, color=c, label=f"group {g}")
            for g, c in enumerate(GROUP_COLOURS[: max(1, min(num_groups, len(GROUP_COLOURS)))])
        ]
        handles += [
            Line2D([], [], ls="", marker="o", ms=5, color="0.4", label="happy"),
            Line2D([], [], ls="", marker="X", ms=6, color="0.4", label="unhappy"),
        ]
        # above the axes: part of the background, not redrawn each step
        ax.legend(
            handles=handles,
            fontsize=8,
            ncols=len(handles),
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            frameon=False,
            handletextpad=0.1,
            columnspacing=1.0,
        )

    def png(self, model: SchellingModel) -> bytes:
        """The grid as the model has it now."""
        x, y = np.divmod(np.asarray(model.cell_of_resident), self.height)
        xy = np.column_stack([x, y]).astype(float)
        colours = _GROUP_RGBA[np.asarray(model.group) % len(GROUP_COLOURS)]
        happy = np.asarray(model.is_happy, dtype=bool)
        for markers, which in ((self.happy, happy), (self.unhappy, ~happy)):
            markers.set_offsets(xy[which])
            markers.set_facecolors(colours[which])
        return encode_png([[self.panel.rgba()]])


class SeriesPlot:
    """One DataCollector column over time (segregation, share happy).

    Args:
        column: the model reporter's column.
        title: the plot's title.
        colour: the line's colour.
    """

    def __init__(self, column: str, title: str, colour: str) -> None:
        """Make the panel and its line."""
        self.column = column
        self.series = Series(5.0, 3.6, (0.6, 0.15, 0.5, 0.3), title=title, colour=colour)
        self.panel = self.series.panel

    def png(self, model: SchellingModel) -> bytes:
        """The column's values from step 0 to now."""
        values = model.datacollector.get_model_vars_dataframe()[self.column]
        return encode_png([[self.series.rgba(values.astype(float).to_numpy())]])


@solara.component
def Grid(model: SchellingModel):
    """The residents on the grid (colour = group, dot = happy, cross = unhappy)."""
    image = use_png(model, partial(GridPanel, model.width, model.height, model.num_groups))
    return rw.Image(value=image, format="png")


@solara.component
def SegregationPlot(model: SchellingModel):
    """Segregation over time: the share of same-group pairs among neighbour pairs."""
    image = use_png(model, partial(SeriesPlot, "segregation", "segregation", "tab:purple"))
    return rw.Image(value=image, format="png")


@solara.component
def HappyPlot(model: SchellingModel):
    """The share of happy residents over time."""
    image = use_png(model, partial(SeriesPlot, "share_happy", "share happy", "tab:green"))
    return rw.Image(value=image, format="png")


def Summary(model: SchellingModel):
    """Policy, threshold and the current state in words."""
    update_counter.get()
    df = model.datacollector.get_model_vars_dataframe()
    last = df.iloc[-1]
    policy = (
        model.policy if isinstance(model.policy, str) else getattr(model.policy, "__name__", "?")
    )
    state = "running" if model.running else "stopped (everyone happy or nobody can move)"
    # solara.HTML, not solara.Markdown: Markdown pulls KaTeX from a CDN (not in solara-assets)
    return solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<b class='policy'>policy: {policy}</b>, homophily {model.homophily:g}, "
            f"{model.num_users} residents: segregation {last['segregation']:.3f}, "
            f"share happy {last['share_happy']:.3f}, {state}.<br>"
            "The recommender page: <a href='/'>Home</a> when all pages are served "
            "(<code>solara run apps</code>, as <code>bash tools/main.sh</code> does), or on its "
            "own: <code>solara run apps/recsys.py</code>."
        ),
    )


model_params = {
    "policy": {
        "type": "Select",
        "value": "random",
        "values": ["random", "similar"],
        "label": "Policy (which free cells are offered)",
    },
    "homophily": {
        "type": "SliderFloat",
        "value": 0.4,
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
        "label": "Homophily (share of own group wanted)",
    },
    "density": {
        "type": "SliderFloat",
        "value": 0.8,
        "min": 0.1,
        "max": 0.99,
        "step": 0.01,
        "label": "Density",
    },
    "minority_pc": {
        "type": "SliderFloat",
        "value": 0.5,
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
        "label": "Share of group 1",
    },
    "num_items_per_iter": {
        "type": "SliderInt",
        "value": 10,
        "min": 1,
        "max": 50,
        "step": 1,
        "label": "Offers per unhappy resident",
    },
    "width": {"type": "SliderInt", "value": 30, "min": 5, "max": 100, "step": 1, "label": "Width"},
    "height": {
        "type": "SliderInt",
        "value": 30,
        "min": 5,
        "max": 100,
        "step": 1,
        "label": "Height",
    },
    "seed": {"type": "SliderInt", "value": 42, "min": 0, "max": 1000, "step": 1, "label": "Seed"},
}

# Load the policies' compiled kernels (numba's cache) at start-up, so that the first Step in
# the browser does not pay for it (0.5-1 s on a 2-core machine).
for _policy in model_params["policy"]["values"]:
    SchellingModel(width=6, height=6, density=0.8, homophily=0.6, policy=_policy, seed=1).step()

model = SchellingModel(
    width=30,
    height=30,
    density=0.8,
    minority_pc=0.5,
    homophily=0.4,
    policy="random",
    num_items_per_iter=10,
    seed=42,
)

# A key of its own: served together (`solara run apps`), the pages are two SolaraViz at the
# same place in the tree, and without a key switching tabs would keep the other page's model.
page = SolaraViz(
    model,
    components=[(Grid, 0), (SegregationPlot, 0), (HappyPlot, 0), (Summary, 0)],
    model_params=model_params,
    name="mesa_recsys: Schelling segregation",
).key("schelling")

page  # noqa: B018
