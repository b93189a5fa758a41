"""Quick start: three recommenders on the same users, one metrics table, one plot.

Run with ``bash tools/main.sh`` (or ``python examples/quickstart.py``). It simulates
popularity, random and ideal recommendations for 500 users and 1,000 items over 20 steps,
prints the DataCollector tables side by side and writes ``output/quickstart.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mesa_recsys import IdealRecommender, PopularityRecommender, RandomRecommender, Users
from mesa_recsys.metrics import InteractionMeasurement, Measurement, MSEMeasurement


class DistinctItems(Measurement):
    """How many distinct items were consumed this step (a small custom metric)."""

    def __init__(self):
        super().__init__("distinct_items")

    def measure(self, recommender):
        inter = recommender.interactions
        self.observe(None if inter.ndim != 1 else int(np.unique(inter[inter >= 0]).size))


def simulate(steps: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    num_users, num_items, num_attrs = 500, 1000, 10
    profiles = rng.normal(size=(num_users, num_attrs))
    items = rng.uniform(size=(num_attrs, num_items))
    frames = []
    for cls in (PopularityRecommender, RandomRecommender, IdealRecommender):
        users = Users(actual_user_profiles=profiles.copy(), attention_exp=-0.8)
        kwargs = {"num_attributes": num_attrs} if cls is IdealRecommender else {}
        model = cls(
            actual_user_representation=users,
            actual_item_representation=items,
            num_items_per_iter=10,
            measurements=[MSEMeasurement(), DistinctItems(), InteractionMeasurement()],
            seed=seed,
            **kwargs,
        )
        model.run(timesteps=steps, disable_tqdm=True)
        df = model.datacollector.get_model_vars_dataframe()
        df["top_item_share"] = [
            np.nan if h is None else h.max() / max(1, h.sum()) for h in df["interaction_histogram"]
        ]
        df = df.drop(columns=["interaction_histogram"])
        df["model"] = cls.__name__
        df["step"] = np.arange(len(df))
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("output/quickstart.png"))
    args = parser.parse_args()
    results = simulate(args.steps, args.seed)
    table = results.pivot(
        index="step", columns="model", values=["distinct_items", "top_item_share"]
    )
    pd.set_option("display.width", 140)
    print(table.round(3).to_string())
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, df in results.groupby("model"):
        axes[0].plot(df["step"], df["distinct_items"], label=name)
        axes[1].plot(df["step"], df["top_item_share"], label=name)
    axes[0].set(xlabel="step", ylabel="distinct items consumed", title="Catalogue reached per step")
    axes[1].set(xlabel="step", ylabel="share of users on the top item", title="Concentration")
    axes[0].legend()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"\nPlot written to {args.out}")


if __name__ == "__main__":
    main()
