"""Write your own metric, add it to a model, read it back as a DataFrame, plot it.

The mesa_recsys version of T-RECS's "advanced metrics" notebook. A metric subclasses
``Measurement``, gives itself a name, and in ``measure(recommender)`` computes one value and
hands it to ``self.observe(value)`` (``None`` while there is nothing to measure: before the
first step there are no interactions). Registered with ``measurements=[...]`` or
``add_metrics(...)``, it is a model reporter of the model's Mesa ``DataCollector``: one
column of ``get_model_vars_dataframe()``, one row per step, the first at t=0.

Run with ``python examples/custom_metric.py``; it prints the table and writes
``output/custom_metric.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mesa_recsys.metrics import (
    InteractionSpread,
    Measurement,
    MSEMeasurement,
    SimilarUserJaccard,
    by_group,
)
from mesa_recsys.models import ContentFiltering


class ChoiceProfileSimilarity(Measurement):
    """Mean cosine similarity between each user's estimated profile and the item they chose.

    High values mean the recommender's picture of a user agrees with what the user does.
    Users who did not interact this step are left out.
    """

    def __init__(self, name: str = "choice_profile_similarity", verbose: bool = False):
        super().__init__(name, verbose)

    def measure(self, recommender) -> None:
        interactions = recommender.interactions
        if interactions.size == 0:  # t=0: nobody has interacted yet
            self.observe(None)
            return
        users = np.flatnonzero(interactions >= 0)
        items = np.asarray(recommender.predicted_item_attributes)[:, interactions[users]].T
        profiles = np.asarray(recommender.predicted_user_profiles)[users]
        norms = np.linalg.norm(items, axis=1) * np.linalg.norm(profiles, axis=1)
        cosine = np.divide(
            (items * profiles).sum(axis=1), norms, out=np.zeros(len(users)), where=norms > 0
        )
        self.observe(float(cosine.mean()))


def simulate(steps: int, seed: int):
    rng = np.random.default_rng(seed)
    num_users, num_items, num_attrs = 200, 300, 20
    # two groups of users with different tastes: 150 "majority", 50 "minority"
    majority = rng.normal(1.0, 2.0, size=(150, num_attrs))
    minority = rng.normal(0.5, 1.25, size=(50, num_attrs))
    group = np.array(["majority"] * 150 + ["minority"] * 50)
    model = ContentFiltering(
        num_users=num_users,
        num_items=num_items,
        num_attributes=num_attrs,
        actual_user_representation=np.vstack([majority, minority]),
        seed=seed,
        measurements=[ChoiceProfileSimilarity(), InteractionSpread(), SimilarUserJaccard()],
    )
    # metrics can also be added later; a metric split by group is one column per group
    model.add_metrics(*by_group(MSEMeasurement, group))
    model.run(timesteps=steps, disable_tqdm=True)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("output/custom_metric.png"))
    args = parser.parse_args()
    model = simulate(args.steps, args.seed)

    df = model.datacollector.get_model_vars_dataframe()  # one row per step, t=0 first
    df.index.name = "step"
    with pd.option_context("display.width", 140, "display.max_columns", 20):
        print(df.round(4).to_string())
    # T-RECS's dict of lists is still there
    measurements = model.get_measurements()
    print("\nget_measurements() keys:", sorted(measurements))

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    steps = df.index[1:]  # t=0 holds None for the interaction-based metrics
    axes[0].plot(steps, df["choice_profile_similarity"].iloc[1:].astype(float))
    axes[0].set(xlabel="step", ylabel="mean cosine", title="Chosen item vs estimated profile")
    axes[1].plot(steps, df["similar_user_jaccard"].iloc[1:].astype(float), label="Jaccard")
    axes[1].set(xlabel="step", ylabel="Jaccard index", title="Similar users' consumption")
    for label in ("majority", "minority"):
        axes[2].plot(df.index, df[f"mse[{label}]"].astype(float), label=label)
    axes[2].set(xlabel="step", ylabel="MSE", title="Prediction error by group")
    axes[2].legend()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"\nPlot written to {args.out}")


if __name__ == "__main__":
    main()
