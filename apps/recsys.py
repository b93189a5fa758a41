"""SolaraViz page over the recommender models: ``solara run apps/recsys.py``.

One Mesa model, :class:`RecsysExplorer`, takes the page's controls as keyword arguments and
builds the chosen ``mesa_recsys`` recommender inside (popularity, content filtering, implicit
MF, social filtering, random or ideal), so that SolaraViz's Reset rebuilds it from the
controls. The page shows the metrics over time (homogenization, MSE, coverage, Gini), the
interaction histogram, a 2-D view of users and items (true attributes projected on their
first two principal components, users coloured by the item they consumed last) and one
user's view (picked with a slider: Mesa 3.5's SolaraViz has no click-to-select on plots).

The Schelling page is ``apps/schelling.py`` (``solara run apps/schelling.py``).
"""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")
import mesa
import numpy as np
import solara
from matplotlib.figure import Figure
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


def _figure(width: float = 5.0, height: float = 3.6) -> Figure:
    # No constrained layout: it costs more than drawing the plots.
    fig = Figure(figsize=(width, height), dpi=80)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.14, top=0.91, wspace=0.3, hspace=0.35)
    return fig


def MetricsPlot(model: RecsysExplorer):
    """The four metrics over time, one panel each."""
    update_counter.get()
    df = model.datacollector.get_model_vars_dataframe()
    fig = _figure(6.0, 4.2)
    axes = fig.subplots(2, 2, sharex=True)
    for ax, (label, column) in zip(axes.flat, METRICS.items()):
        values = df[column].astype(float) if column in df else []
        ax.plot(range(len(values)), values, marker=".", color="tab:blue")
        ax.set_title(label, fontsize=10)
        ax.tick_params(labelsize=8)
        ax.locator_params(nbins=4)  # fewer tick labels: text is most of the drawing time
    for ax in axes[1]:
        ax.set_xlabel("step", fontsize=8)
    return solara.FigureMatplotlib(fig, format="png")


def InteractionHistogram(model: RecsysExplorer):
    """How many users interacted with each item in the last step, items sorted by count."""
    update_counter.get()
    hist = model.datacollector.get_model_vars_dataframe()["interaction_histogram"].iloc[-1]
    fig = _figure()
    ax = fig.subplots()
    if hist is None:
        ax.text(0.5, 0.5, "no interactions yet: press Step", ha="center", va="center")
        ax.set_axis_off()
    else:
        counts = np.sort(np.asarray(hist))[::-1]
        ax.stairs(counts, np.arange(counts.size + 1), fill=True, color="tab:orange")
        ax.set_xlabel("items, most interacted first", fontsize=8)
        ax.set_ylabel("interactions this step", fontsize=8)
        ax.tick_params(labelsize=8)
    ax.set_title("interaction histogram", fontsize=10)
    return solara.FigureMatplotlib(fig, format="png")


def UserItemMap(model: RecsysExplorer):
    """Users and items on the first two principal components of their true attributes."""
    update_counter.get()
    sim = model.sim
    items_xy = model.project(sim.actual_item_attributes.T, users=False)
    users_xy = model.project(sim.actual_user_profiles, users=True)
    last = np.asarray(sim.interactions).ravel() if np.ndim(sim.interactions) else None
    fig = _figure()
    ax = fig.subplots()
    ax.scatter(items_xy[:, 0], items_xy[:, 1], s=8, marker="x", color="0.7", label="items")
    if last is None or last.size != users_xy.shape[0]:
        ax.scatter(users_xy[:, 0], users_xy[:, 1], s=10, color="tab:gray", label="users")
    else:
        done = last >= 0
        # colour = where on the first component the item consumed last lies
        colour = np.zeros(last.size)
        colour[done] = items_xy[last[done], 0]
        ax.scatter(users_xy[~done, 0], users_xy[~done, 1], s=10, color="tab:gray")
        points = ax.scatter(
            users_xy[done, 0],
            users_xy[done, 1],
            s=12,
            c=colour[done],
            cmap="viridis",
            vmin=items_xy[:, 0].min(),
            vmax=items_xy[:, 0].max(),
            label="users",
        )
        fig.colorbar(points, ax=ax, label="PC1 of item consumed last")
    ax.set_xlabel("PC1", fontsize=8)
    ax.set_ylabel("PC2", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title("users and items (true attributes)", fontsize=10)
    return solara.FigureMatplotlib(fig, format="png")


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


def Links(model: RecsysExplorer):
    """Where the other pages are."""
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
