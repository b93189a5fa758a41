"""SolaraViz page over the recommender models: ``solara run apps/recsys.py``.

One Mesa model, :class:`RecsysExplorer`, takes the page's controls as keyword arguments and
builds the chosen ``mesa_recsys`` recommender inside (popularity, content filtering, implicit
MF, social filtering, random or ideal), so that SolaraViz's Reset rebuilds it from the
controls. The page shows the metrics over time (homogenization, MSE, coverage, Gini), the
interaction histogram, a 2-D view of users and items (true attributes projected on their
first two principal components, users coloured by the item they consumed last) and one
user's view (picked with a slider: Mesa 3.5's SolaraViz has no click-to-select on plots).

The plots are matplotlib figures kept from step to step (``Panel`` in ``apps/_panels.py``,
shared with the Schelling page): their axes, ticks and labels are drawn again only when an
axis limit moves, and the limits move in coarse steps (0 to 1, 2, 5, 10, 20, ...), so that
most steps redraw only the data. Together with fewer tick labels this keeps a step of the
default configuration well under a second in the browser (see the README, "In the browser").

The Schelling page is ``apps/schelling.py`` (``solara run apps/schelling.py``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors
import mesa
import numpy as np
import reacton.ipywidgets as rw
import solara
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from mesa_recsys import Users
from mesa_recsys.metrics import (
    CatalogCoverage,
    InteractionMeasurement,
    ItemPopularityGini,
    MSEMeasurement,
    SimilarUserJaccard,
)
from mesa_recsys.models import (
    ContentFiltering,
    IdealRecommender,
    ImplicitMF,
    PopularityRecommender,
    RandomRecommender,
    SocialFiltering,
)
from mesa_recsys.random import erdos_renyi_graph

# The drawing code both pages share: apps/_panels.py (no page: its name starts with "_").
# `solara run apps/recsys.py` puts this folder on sys.path; `solara run apps` and runpy do not.
sys.path.append(str(Path(__file__).resolve().parent))
from _panels import Panel, Series, encode_png, ladder, use_png

RECOMMENDERS = {
    "popularity": PopularityRecommender,
    "content": ContentFiltering,
    "MF": ImplicitMF,
    "social": SocialFiltering,
    "random": RandomRecommender,
    "ideal": IdealRecommender,
}

# DataCollector columns plotted over time, and the labels the page gives them.
METRICS = {
    "homogenization": "similar_user_jaccard",
    "MSE": "mse",
    "coverage": "coverage_shown",
    "Gini": "popularity_gini",
}


class RecsysExplorer(mesa.Model):
    """A recommender chosen by name, built from the page's controls and stepped by SolaraViz.

    Args:
        recommender: one of ``RECOMMENDERS``' keys.
        num_users: number of users.
        num_items: number of items.
        num_attributes: number of true attributes of users and items (and the recommender's
            for content filtering, latent factors for MF).
        num_items_per_iter: items shown to each user per step.
        attention_exp: users' attention exponent (T-RECS ``attention_exp``; < 0 favours the
            top of the list).
        drift: how far a user's profile moves toward each item consumed (0 to 1).
        random_items_per_iter: how many of the shown items are random (interleaved).
        startup_steps: start-up steps (random items, no training) run before the page starts.
        seed: seed of every draw.
    """

    def __init__(
        self,
        recommender: str = "popularity",
        num_users: int = 200,
        num_items: int = 300,
        num_attributes: int = 10,
        num_items_per_iter: int = 10,
        attention_exp: float = -0.8,
        drift: float = 0.0,
        random_items_per_iter: int = 0,
        startup_steps: int = 0,
        seed: int = 42,
    ) -> None:
        """Draw users and items, build the recommender and run its start-up steps."""
        seed = int(seed)
        super().__init__(rng=seed)
        if recommender not in RECOMMENDERS:
            raise ValueError(
                f"recommender: expected one of {list(RECOMMENDERS)}, got {recommender!r}"
            )
        self.recommender = recommender
        num_users, num_items, num_attributes = int(num_users), int(num_items), int(num_attributes)
        num_items_per_iter = min(int(num_items_per_iter), num_items)
        random_items_per_iter = min(int(random_items_per_iter), num_items_per_iter)
        gen = np.random.default_rng(seed)
        profiles = gen.normal(size=(num_users, num_attributes))
        attributes = gen.uniform(size=(num_attributes, num_items))
        users = Users(
            actual_user_profiles=profiles,
            attention_exp=float(attention_exp),
            drift=float(drift),
            seed=seed,
        )
        measurements = [
            SimilarUserJaccard(),
            MSEMeasurement(),
            CatalogCoverage(),
            ItemPopularityGini(),
            InteractionMeasurement(),
        ]
        kwargs = {
            "actual_user_representation": users,
            "actual_item_representation": attributes,
            "num_items_per_iter": num_items_per_iter,
            "measurements": measurements,
            "step_options": {"random_items_per_iter": random_items_per_iter},
            "seed": seed,
        }
        if recommender == "content":
            kwargs.update(num_attributes=num_attributes, item_representation=attributes.copy())
        elif recommender == "MF":
            kwargs.update(num_latent_factors=num_attributes)
        elif recommender == "social":
            kwargs.update(user_representation=erdos_renyi_graph(num_users, 0.05, seed=seed))
        elif recommender == "ideal":
            kwargs.update(num_attributes=num_attributes)
        self.sim = RECOMMENDERS[recommender](**kwargs)
        if int(startup_steps) > 0:
            # T-RECS's startup_and_train, without the progress bar
            self.sim.run(
                int(startup_steps), startup=True, train_between_steps=False, disable_tqdm=True
            )
            self.sim.train()
        # SolaraViz's plots read model.datacollector: it is the recommender's.
        self.datacollector = self.sim.datacollector
        self.last_step_seconds: float | None = None
        # A fixed 2-D projection of the true attributes: directions (rows scaled to unit
        # length), each set centred on its own mean, axes = the first two principal components
        # of both sets together (profiles move under drift, the axes stay).
        self._user_center = _unit(profiles).mean(axis=0)
        self._item_center = _unit(attributes.T).mean(axis=0)
        both = np.vstack(
            [_unit(profiles) - self._user_center, _unit(attributes.T) - self._item_center]
        )
        _, _, vt = np.linalg.svd(both, full_matrices=False)
        self._axes = vt[:2].T

    def step(self) -> None:
        """One step of the recommender (recommend, users choose, train, measure)."""
        start = time.perf_counter()
        self.sim.step()
        self.last_step_seconds = time.perf_counter() - start

    def project(self, vectors: np.ndarray, users: bool) -> np.ndarray:
        """Rows of true vectors (users' profiles, or items' attributes) on the two PCs."""
        center = self._user_center if users else self._item_center
        return (_unit(vectors) - center) @ self._axes


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=float)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


class MetricPanels:
    """The four metrics over time, one panel each, joined 2 x 2 into one image."""

    def __init__(self) -> None:
        """Make the panels (the bottom row holds the time axis' labels)."""
        self.series = [
            Series(
                3.0,
                2.25 if i >= 2 else 1.9,
                (0.5, 0.12, 0.45 if i >= 2 else 0.1, 0.3),
                title=label,
                time_labels=i >= 2,
            )
            for i, label in enumerate(METRICS)
        ]
        self.panels: list[Panel] = [series.panel for series in self.series]

    def png(self, model: RecsysExplorer) -> bytes:
        """The panels for the model's DataCollector as it is now."""
        df = model.datacollector.get_model_vars_dataframe()
        arrays = [
            series.rgba(
                df[column].astype(float).to_numpy() if column in df else np.full(len(df), np.nan)
            )
            for series, column in zip(self.series, METRICS.values())
        ]
        return encode_png([arrays[:2], arrays[2:]])


class HistogramPanel:
    """How many users interacted with each item in the last step, items sorted by count."""

    def __init__(self) -> None:
        """Make the panel, with a hint for before the first step."""
        self.panel = Panel(5.0, 3.6, (0.6, 0.15, 0.5, 0.3))
        ax = self.panel.ax
        self.bars = self.panel.data(ax.stairs([0.0], [0.0, 1.0], fill=True, color="tab:orange"))
        self.hint = self.panel.data(
            ax.text(
                0.5,
                0.5,
                "no interactions yet: press Step",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
        )
        ax.set_xlabel("items, most interacted first", fontsize=8)
        ax.set_ylabel("interactions this step", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.locator_params(nbins=4)
        ax.locator_params(axis="y", integer=True)  # counts
        ax.set_title("interaction histogram", fontsize=10)
        self._top = 0.0

    def png(self, model: RecsysExplorer) -> bytes:
        """The histogram of the model's last step (empty, with a hint, before the first step)."""
        hist = model.datacollector.get_model_vars_dataframe()["interaction_histogram"].iloc[-1]
        # the same panel before and after the first step: its background is drawn on page
        # load, and the first step redraws it (new y limits) instead of drawing a new figure
        self.hint.set_visible(hist is None)
        if hist is None:
            counts = np.zeros(model.sim.num_items)
        else:
            counts = np.sort(np.asarray(hist, dtype=float))[::-1]
        self.bars.set_data(counts, np.arange(counts.size + 1))
        ax = self.panel.ax
        ax.set_xlim(0, counts.size)
        # the top of the y axis, a rung of the 1-2-5 ladder, moves only when the highest bar
        # passes it or falls under a quarter of it
        peak = max(float(counts.max()), 1.0)
        if not self._top / 4 < peak <= self._top:
            self._top = ladder(peak)
            ax.set_ylim(0, 1.03 * self._top)
        return encode_png([[self.panel.rgba()]])


class MapPanel:
    """Users and items on the first two principal components of their true attributes."""

    def __init__(self) -> None:
        """Make the panel, its colour bar and legend; points and limits come with the first draw."""
        self.panel = Panel(5.0, 3.6, (0.6, 0.1, 0.5, 0.5))
        ax = self.panel.ax
        self.norm = Normalize(0.0, 1.0)
        self.cmap = matplotlib.colormaps["viridis"]
        self.items = self.panel.data(ax.scatter([], [], s=8, marker="x", color="0.7"))
        self.users = self.panel.data(ax.scatter([], [], s=12))
        colorbar = self.panel.figure.colorbar(ScalarMappable(self.norm, self.cmap), ax=ax)
        colorbar.set_label("PC1 of item consumed last", fontsize=8)
        colorbar.ax.tick_params(labelsize=8)
        ax.set_xlabel("PC1", fontsize=8)
        ax.set_ylabel("PC2", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.locator_params(nbins=4)
        ax.set_title("users and items (true attributes)", fontsize=10, pad=16)
        handles = [
            Line2D([], [], ls="", marker="x", ms=4, color="0.7", label="items"),
            Line2D([], [], ls="", marker="o", ms=4, color=self.cmap(0.5), label="users"),
            Line2D([], [], ls="", marker="o", ms=4, color="0.5", label="users, none consumed"),
        ]
        # above the axes, out of the points' way: part of the background, not redrawn each step
        ax.legend(
            handles=handles,
            fontsize=7,
            ncols=3,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            frameon=False,
            handletextpad=0.1,
            columnspacing=1.0,
        )
        self._placed = False  # axis limits set (at the first draw)

    def png(self, model: RecsysExplorer) -> bytes:
        """The map for the model as it is now (users move under drift; items do not)."""
        sim = model.sim
        items_xy = model.project(sim.actual_item_attributes.T, users=False)
        users_xy = model.project(sim.actual_user_profiles, users=True)
        last = np.asarray(sim.interactions).ravel() if np.ndim(sim.interactions) else None
        colours = np.tile(matplotlib.colors.to_rgba("0.5"), (users_xy.shape[0], 1))
        colour_range = float(items_xy[:, 0].min()), float(items_xy[:, 0].max())
        self.norm.vmin, self.norm.vmax = colour_range
        if last is not None and last.size == users_xy.shape[0]:
            # colour = where on the first component the item consumed last lies
            done = last >= 0
            colours[done] = self.cmap(self.norm(items_xy[last[done], 0]))
        self.items.set_offsets(items_xy)
        self.users.set_offsets(users_xy)
        self.users.set_facecolors(colours)
        self.users.set_edgecolors("face")
        ax = self.panel.ax
        both = np.vstack([items_xy, users_xy])
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        inside = (both[:, 0] >= x0) & (both[:, 0] <= x1) & (both[:, 1] >= y0) & (both[:, 1] <= y1)
        if not self._placed or not inside.all():
            self._placed = True
            # fixed until a point leaves them (users move under drift, toward items)
            low, high = both.min(axis=0), both.max(axis=0)
            margin = 0.05 * (high - low)
            ax.set_xlim(low[0] - margin[0], high[0] + margin[0])
            ax.set_ylim(low[1] - margin[1], high[1] + margin[1])
        return encode_png([[self.panel.rgba(key=colour_range)]])


@solara.component
def MetricsPlot(model: RecsysExplorer):
    """The four metrics over time, one panel each."""
    image = use_png(model, MetricPanels)
    return rw.Image(value=image, format="png")


@solara.component
def InteractionHistogram(model: RecsysExplorer):
    """How many users interacted with each item in the last step, items sorted by count."""
    image = use_png(model, HistogramPanel)
    return rw.Image(value=image, format="png")


@solara.component
def UserItemMap(model: RecsysExplorer):
    """Users and items on the first two principal components of their true attributes."""
    image = use_png(model, MapPanel)
    return rw.Image(value=image, format="png")


@solara.component
def AgentView(model: RecsysExplorer):
    """One user's view: profile position, the items shown last step and the one consumed."""
    update_counter.get()
    sim = model.sim
    user_id, set_user_id = solara.use_state(0)
    user_id = min(user_id, sim.num_users - 1)
    shown = np.asarray(sim.items_shown)
    last = np.asarray(sim.interactions).ravel() if np.ndim(sim.interactions) else None
    with solara.Column():
        solara.SliderInt("User", value=user_id, on_value=set_user_id, min=0, max=sim.num_users - 1)
        seconds = model.last_step_seconds
        where = model.project(sim.actual_user_profiles[[user_id]], users=True)[0]
        lines = [
            f"<b>{type(sim).__name__}</b>, step {sim.steps}"
            + (f", last step computed in {seconds * 1000:.0f} ms" if seconds else ""),
            f"user {user_id}: position (PC1, PC2) = ({where[0]:.2f}, {where[1]:.2f})",
        ]
        if shown.ndim == 2 and shown.shape[0] == sim.num_users:
            lines.append(f"shown last step: {', '.join(map(str, shown[user_id].tolist()))}")
        if last is not None and last.size == sim.num_users:
            choice = int(last[user_id])
            lines.append(f"consumed last step: {choice if choice >= 0 else 'nothing'}")
        # solara.HTML, not solara.Markdown: Markdown pulls KaTeX from a CDN (not in solara-assets)
        solara.HTML(tag="div", unsafe_innerHTML="<br>".join(lines), classes=["agent-view"])


def StepTiming(model: RecsysExplorer):
    """The wall time of the last step, for the browser test's log."""
    update_counter.get()
    seconds = model.last_step_seconds
    text = "–" if seconds is None else f"{seconds * 1000:.1f} ms"
    return solara.Text(f"Last step (model only): {text}", classes=["step-timing"])


@solara.component
def Links(model: RecsysExplorer):
    """Where the other pages are (a component of its own: SolaraViz redraws it only on Reset)."""
    return solara.HTML(
        tag="div",
        unsafe_innerHTML="Other pages: <a href='/schelling'>Schelling segregation</a> (the tab at "
        "the top when all pages are served: <code>solara run apps</code>, which "
        "<code>bash tools/main.sh</code> does), or on its own: "
        "<code>solara run apps/schelling.py</code>.",
    )


model_params = {
    "recommender": {
        "type": "Select",
        "value": "popularity",
        "values": list(RECOMMENDERS),
        "label": "Recommender",
    },
    "num_users": {
        "type": "SliderInt",
        "value": 200,
        "min": 10,
        "max": 2000,
        "step": 10,
        "label": "Users",
    },
    "num_items": {
        "type": "SliderInt",
        "value": 300,
        "min": 20,
        "max": 3000,
        "step": 10,
        "label": "Items",
    },
    "num_attributes": {
        "type": "SliderInt",
        "value": 10,
        "min": 2,
        "max": 50,
        "step": 1,
        "label": "Attributes",
    },
    "num_items_per_iter": {
        "type": "SliderInt",
        "value": 10,
        "min": 1,
        "max": 50,
        "step": 1,
        "label": "Items per step",
    },
    "attention_exp": {
        "type": "SliderFloat",
        "value": -0.8,
        "min": -3.0,
        "max": 0.0,
        "step": 0.1,
        "label": "Attention exponent",
    },
    "drift": {
        "type": "SliderFloat",
        "value": 0.0,
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
        "label": "Drift",
    },
    "random_items_per_iter": {
        "type": "SliderInt",
        "value": 0,
        "min": 0,
        "max": 20,
        "step": 1,
        "label": "Random items per step",
    },
    "startup_steps": {
        "type": "SliderInt",
        "value": 0,
        "min": 0,
        "max": 50,
        "step": 1,
        "label": "Start-up steps",
    },
    "seed": {"type": "SliderInt", "value": 42, "min": 0, "max": 1000, "step": 1, "label": "Seed"},
}

# Compile the numba kernels once at start-up, so that the first Step in the browser does not
# pay for it.
for _name in RECOMMENDERS:
    RecsysExplorer(recommender=_name, num_users=20, num_items=30, startup_steps=1).step()

model = RecsysExplorer()
# A key of its own: served together (`solara run apps`), the pages are two SolaraViz at the
# same place in the tree, and without a key switching tabs would keep the other page's model.
page = SolaraViz(
    model,
    components=[
        (MetricsPlot, 0),
        (InteractionHistogram, 0),
        (UserItemMap, 0),
        (AgentView, 0),
        (StepTiming, 0),
        (Links, 0),
    ],
    model_params=model_params,
    name="mesa_recsys: recommender systems",
).key("recsys")

page  # noqa: B018
