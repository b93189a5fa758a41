"""SolaraViz page for Schelling segregation as a recommender: ``solara run apps/schelling.py``.

The grid is drawn with Mesa's space renderer (colour = group, marker = happy ``o`` or
unhappy ``x``); controls set the policy that offers free cells (``random``: the classic
model; ``similar``: cells ranked by the share of the resident's group around them), the
homophily threshold and the grid; plots show segregation and the share of happy residents.

The recommender page is ``apps/recsys.py`` (``solara run apps/recsys.py``).
"""

from __future__ import annotations

import solara
from mesa.visualization import SolaraViz, SpaceRenderer, make_plot_component
from mesa.visualization.components import AgentPortrayalStyle
from mesa.visualization.utils import update_counter

from mesa_recsys.schelling import SchellingModel

# CSS colours (Altair draws nothing for "tab:blue"-style names; these work in both backends).
GROUP_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]


def agent_portrayal(agent) -> AgentPortrayalStyle:
    """Colour by group; a filled circle when happy, a cross when not."""
    colour = GROUP_COLOURS[agent.group % len(GROUP_COLOURS)]
    if agent.happy:
        return AgentPortrayalStyle(color=colour, marker="o", size=40)
    return AgentPortrayalStyle(color=colour, marker="X", size=55, zorder=2)


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
renderer = SpaceRenderer(model, backend="matplotlib").setup_agents(agent_portrayal)
renderer.render()

SegregationPlot = make_plot_component({"segregation": "tab:purple"})
HappyPlot = make_plot_component({"share_happy": "tab:green"})

# A key of its own: served together (`solara run apps`), the pages are two SolaraViz at the
# same place in the tree, and without a key switching tabs would keep the other page's model.
page = SolaraViz(
    model,
    renderer,
    components=[SegregationPlot, HappyPlot, (Summary, 0)],
    model_params=model_params,
    name="mesa_recsys: Schelling segregation",
).key("schelling")

page  # noqa: B018
