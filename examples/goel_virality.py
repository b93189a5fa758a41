"""Cascades on a power-law network: how often they get large, and how viral they are.

A scaled-down version of the simulations of Goel, Anderson, Hofman & Watts (2016, "The
structural virality of online diffusion", Management Science 62(1)): an independent-cascade
(SIR, one-step infectious period) model on a network whose out-degrees follow a power law
with exponent 2.3 (links made mutual, so degrees are heavy-tailed both ways, as in the
scale-free networks of the paper). Each run seeds one random user and spreads until nobody is infected; we
record the cascade's size and the structural virality of its tree (the mean distance between
two of its users). As the infection rate r grows, more cascades become large and the large
ones are more viral (broadcast-like trees give way to long, branching ones).

Every run is one :class:`~mesa_recsys.models.BassModel` driven by ``mesa.batch_run`` (it
stops by itself when the cascade dies). Writes ``output/goel_virality.csv`` (one row per
run) and ``output/goel_virality.png``.

Usage::

    python examples/goel_virality.py [--users 10000] [--rates 0.03,0.06,0.1,0.15,0.2]
        [--runs 200] [--large 100] [--processes 2]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import mesa
import numpy as np
import pandas as pd

from mesa_recsys.metrics import Measurement, structural_virality
from mesa_recsys.models import BassModel
from mesa_recsys.random import power_law_graph

OUTPUT = Path(__file__).resolve().parents[1] / "output"


class CascadeSize(Measurement):
    """Number of users the cascade has reached so far (from the model's own tree)."""

    def __init__(self) -> None:
        """Name the column."""
        super().__init__("cascade_size")

    def measure(self, recommender: BassModel) -> None:
        """Observe the tree's size."""
        self.observe(recommender.diffusion_tree.number_of_nodes())


class Virality(Measurement):
    """Structural virality of the cascade so far (NaN while it has one user)."""

    def __init__(self) -> None:
        """Name the column."""
        super().__init__("structural_virality")

    def measure(self, recommender: BassModel) -> None:
        """Observe ν of the tree (only once the cascade is over: it is O(n) per call)."""
        if recommender.running and recommender.steps > 0:
            self.observe(float("nan"))
            return
        self.observe(structural_virality(recommender.diffusion_tree))


class PowerLawCascade(BassModel):
    """One cascade of item 0 at rate ``r`` on a fixed power-law network (mutual links).

    Args:
        num_users: network size.
        r: infection probability per contact.
        exponent: power-law exponent of the out-degrees.
        graph_seed: seed of the network (the same network for every run).
        rng: seed of the run (which user starts the cascade, who catches it).
    """

    def __init__(
        self,
        num_users: int = 10_000,
        r: float = 0.2,
        exponent: float = 2.3,
        graph_seed: int = 0,
        rng: Any = None,
    ) -> None:
        """Build the network and seed one random user."""
        graph = power_law_graph(num_users, exponent=exponent, mutual=True, seed=graph_seed)
        start = np.random.default_rng(rng).integers(num_users)
        state = np.zeros((num_users, 1))
        state[start, 0] = 1
        super().__init__(
            user_representation=graph,
            item_representation=np.array([[r]]),
            infection_state=state,
            measurements=[CascadeSize(), Virality()],
            rng=rng,
        )


def run_study(
    users: int, rates: list[float], runs: int, processes: int, max_steps: int = 1000
) -> pd.DataFrame:
    """One cascade per (rate, seed); the last row of each run.

    Returns:
        One row per run: ``r``, ``rng`` (the run's seed), ``cascade_size``, ``structural_virality``.
    """
    rows = mesa.batch_run(
        PowerLawCascade,
        parameters={"num_users": users, "r": rates},
        rng=list(range(runs)),
        max_steps=max_steps,
        number_processes=processes,
        data_collection_period=-1,
        display_progress=True,
    )
    frame = pd.DataFrame(rows)
    last = frame.sort_values("Step").groupby(["r", "rng"], as_index=False).last()
    return last[["r", "rng", "Step", "cascade_size", "structural_virality"]]


def summarise(results: pd.DataFrame, large: int) -> pd.DataFrame:
    """Per rate: runs, share of cascades with at least ``large`` users, their mean virality."""
    results = results.assign(is_large=results["cascade_size"] >= large)
    grouped = results.groupby("r")
    summary = pd.DataFrame(
        {
            "runs": grouped.size(),
            "share_large": grouped["is_large"].mean(),
            "mean_size_large": results[results["is_large"]].groupby("r")["cascade_size"].mean(),
            "virality_large": results[results["is_large"]]
            .groupby("r")["structural_virality"]
            .mean(),
        }
    )
    return summary.reset_index()


def plot(summary: pd.DataFrame, path: Path, large: int) -> None:
    """Two panels: share of large cascades and their mean structural virality, against r."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(summary["r"], summary["share_large"], "o-")
    left.set_xlabel("infection rate r")
    left.set_ylabel(f"share of cascades with ≥ {large} users")
    right.plot(summary["r"], summary["virality_large"], "o-", color="tab:orange")
    right.set_xlabel("infection rate r")
    right.set_ylabel("mean structural virality (large cascades)")
    fig.suptitle("Cascades on a power-law network (Goel et al. 2016, scaled down)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    """Run the study, print the summary, write the CSV and the plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rates", default="0.03,0.06,0.1,0.15,0.2")
    parser.add_argument("--runs", type=int, default=200, help="cascades per rate")
    parser.add_argument("--large", type=int, default=100, help="size of a 'large' cascade")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    results = run_study(args.users, rates, args.runs, args.processes)
    summary = summarise(results, args.large)
    args.output.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.output / "goel_virality.csv", index=False)
    plot(summary, args.output / "goel_virality.png", args.large)
    with pd.option_context("display.width", 120):
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"written: {args.output / 'goel_virality.csv'}, {args.output / 'goel_virality.png'}")
    return summary


if __name__ == "__main__":
    main()
