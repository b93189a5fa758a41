"""Homogenization under recommender feedback loops (Chaney, Stewart & Engelhardt 2018).

The configuration of the T-RECS paper's replication (arXiv 2107.08959, §5.1; see the README's
"Running a study" for the results next to the published ones):

* 100 users, 20 attributes. Per run, ``user_params = Dirichlet(1)·10`` and each user's
  preferences ~ ``Dirichlet(user_params)``; ``item_params = Dirichlet(100)·0.1`` and each
  item's attributes ~ ``Dirichlet(item_params)`` (nearly one attribute per item).
* A user's true utility for an item ~ Beta with mean ``prefs·attrs`` and sd 1e-5; what users
  know before consuming is the true utility × Beta(mean 0.98, sd 1e-5). Users see their list,
  weigh position j by ``(j+1)^−0.8`` and take the best known utility they have not consumed.
* 10 new items are released every step. During start-up users are shown only the 10 newest
  items; afterwards the 10 newest are interleaved at random positions into the ranked list,
  and items the recommender has not yet been trained on are ranked last (they are seen only
  when interleaved).
* Repeated training: 10 start-up steps, one fit, then 90 steps retrained after every step,
  slate = the whole catalogue. Single training: 50 start-up steps, one fit, then 50 steps
  without retraining, slate = 510 (the trained items plus the 10 interleaved ones).
* Six recommenders on the same users and items: ideal (true utilities), content filtering
  (NNLS on the true item attributes), implicit MF (20 factors), social filtering (covariance
  of preferences thresholded at the highest value that leaves every user a link, the user's
  own variance counting), popularity, random.

Homogenization is the change in Jaccard index: every user is paired with the user the
recommender thinks most similar (cosine of its current user estimates, ties drawn at
random), and the mean Jaccard index of the pairs' consumed items is compared with the same
pairs' index in the ideal recommender's run on the same users and items
(:class:`~mesa_recsys.metrics.SimilarUserJaccard` with ``relative_to``).

Every (recommender, training, seed) is one run of :func:`mesa_recsys.studies.run_study`,
the ideal run stepped alongside. Writes ``output/chaney_curves.csv`` (mean and sd per step)
and ``output/chaney.png``.

Usage::

    python examples/chaney_homogenization.py [--runs 20] [--processes 2]
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

from mesa_recsys.components import Creators, Users
from mesa_recsys.metrics import SimilarUserJaccard
from mesa_recsys.models import (
    ContentFiltering,
    IdealRecommender,
    ImplicitMF,
    PopularityRecommender,
    RandomRecommender,
    SocialFiltering,
)
from mesa_recsys.studies import run_study

OUTPUT = Path(__file__).resolve().parents[1] / "output"
RECOMMENDERS = ("ideal", "content", "mf", "social", "popularity", "random")
NUM_USERS, NUM_ATTRS, NEW_PER_STEP = 100, 20, 10
TRAINING = {"repeated": (10, 90), "single": (50, 50)}  # (start-up steps, steps after)
UTILITY_SD, KNOWN_SHARE = 1e-5, 0.98

#: The T-RECS paper's figure, read at t=100 (repeated training; see the README).
PUBLISHED = {
    "popularity": "≈ +0.22",
    "content": "≈ +0.15",
    "social": "≈ +0.09–0.10",
    "mf": "≈ +0.08–0.09",
    "random": "≈ +0.01–0.02",
    "ideal": "0",
}


def beta_with_mean(rng: np.random.Generator, mean: np.ndarray, sd: float) -> np.ndarray:
    """Beta draws with the given means and standard deviation (Chaney et al.'s Beta')."""
    mean = np.clip(mean, 1e-9, 1 - 1e-9)
    alpha = ((1 - mean) / sd**2 - 1 / mean) * mean**2
    return rng.beta(alpha, alpha * (1 / mean - 1))


def draw_world(seed: int, num_items: int) -> dict[str, np.ndarray]:
    """Preferences (U×A), the item pool (A×N), true and known utilities (U×N) of one run."""
    rng = np.random.default_rng(seed)
    user_params = rng.dirichlet(np.ones(NUM_ATTRS)) * 10
    item_params = rng.dirichlet(np.full(NUM_ATTRS, 100.0)) * 0.1
    prefs = rng.dirichlet(user_params, size=NUM_USERS)
    items = rng.dirichlet(item_params, size=num_items).T
    true = beta_with_mean(rng, prefs @ items, UTILITY_SD)
    known = true * beta_with_mean(rng, np.full(true.shape, KNOWN_SHARE), UTILITY_SD)
    return {"prefs": prefs, "items": items, "true": true, "known": known}


def social_graph(prefs: np.ndarray) -> np.ndarray:
    """Users linked where the covariance of their preferences reaches the threshold.

    The threshold is the highest covariance value, the U largest left aside, at which every
    user still has an entry at or above it, the diagonal (a user's own variance) included,
    as in the T-RECS paper's replication; the graph therefore has self-links.
    """
    cov = np.cov(prefs)
    candidates = np.sort(cov.ravel())[::-1][cov.shape[0] :]
    reachable = cov.max(axis=1).min()
    threshold = candidates[candidates <= reachable][0]
    return (cov >= threshold).astype(float)


class ItemRelease(Creators):
    """Releases the next ``per_step`` items of a fixed pool each time it is asked."""

    def __init__(self, pool: np.ndarray, per_step: int) -> None:
        """Hold the pool (A×N) and start at its first item."""
        super().__init__(actual_creator_profiles=np.full((1, pool.shape[0]), 0.5))
        self.pool, self.per_step, self.released = pool, per_step, 0

    def generate_items(self) -> np.ndarray:
        """The next items of the pool (none once it is exhausted)."""
        stop = min(self.pool.shape[1], self.released + self.per_step)
        items = self.pool[:, self.released : stop]
        self.released = stop
        self.last_creators = np.full(items.shape[1], -1)
        return items


class KnownUtilityUsers(Users):
    """Users who know their (noisy) utility for every item of the pool in advance."""

    def __init__(self, prefs: np.ndarray, known: np.ndarray, num_items: int) -> None:
        """Preferences, the U×N known utilities, and how many items exist at the start."""
        self.known = known
        super().__init__(
            actual_user_profiles=prefs,
            actual_user_scores=known[:, :num_items],
            attention_exp=-0.8,
            repeat_interactions=False,
        )

    def score_new_items(self, new_items: Any) -> None:
        """The next columns of the known utilities."""
        have = self.actual_user_scores.num_items
        self.actual_user_scores.append_item_scores(self.known[:, have : have + new_items.shape[1]])


def newest_items(rng: np.random.Generator):
    """Interleaving rule: each user's k newest items, in a random order."""

    def interleave(k: int, item_indices: np.ndarray) -> np.ndarray:
        newest = item_indices[:, -k:] if k else item_indices[:, :0]
        order = np.argsort(rng.random(newest.shape), axis=1)
        return np.take_along_axis(newest, order, axis=1)

    return interleave


class UntrainedItemsLast:
    """Mixin: items released since the last fit score −inf until the next fit."""

    def _extend_scores(self, items: Any = None, users: Any = None) -> None:
        if items is None:
            super()._extend_scores(items=items, users=users)
            return
        current = np.asarray(self.predicted_scores.value, dtype=float)
        self.predicted_scores.value = np.hstack(
            [current, np.full((current.shape[0], items.shape[1]), -np.inf)]
        )


class ChaneyIdeal(UntrainedItemsLast, IdealRecommender):
    """Ranks by the true utilities (the users themselves choose by what they know)."""

    true_utility: np.ndarray | None = None  # U×N, set once the model is built

    def train(self) -> None:
        """Predicted scores = true utilities of the items released so far."""
        super().train()
        if self.true_utility is not None:
            self.predicted_scores.value = self.true_utility[:, : self.num_items].copy()


class ChaneyContent(UntrainedItemsLast, ContentFiltering):
    """Content filtering (NNLS on the true item attributes)."""


class ChaneyMF(UntrainedItemsLast, ImplicitMF):
    """Implicit matrix factorization, 20 factors, fitted on every interaction so far."""


class ChaneySocial(UntrainedItemsLast, SocialFiltering):
    """Social filtering on the covariance graph."""


class ChaneyPopularity(UntrainedItemsLast, PopularityRecommender):
    """Popularity."""


class ChaneyRandom(UntrainedItemsLast, RandomRecommender):
    """Random order (retrained every step, so no item stays last)."""


def build(recommender: str, world: dict[str, np.ndarray], seed: int, metrics: list) -> Any:
    """One recommender on the run's users, with the first ``NEW_PER_STEP`` items out."""
    items = world["items"]
    first, pool = items[:, :NEW_PER_STEP], items[:, NEW_PER_STEP:]
    common = {
        "actual_user_representation": KnownUtilityUsers(
            world["prefs"], world["known"], NEW_PER_STEP
        ),
        "actual_item_representation": first,
        "creators": ItemRelease(pool, NEW_PER_STEP),
        "num_items_per_iter": NEW_PER_STEP,
        "interleaving_fn": newest_items(np.random.default_rng([seed, 1])),
        "measurements": metrics,
        "seed": seed,
    }
    if recommender == "ideal":
        model = ChaneyIdeal(**common)
        model.true_utility = world["true"]
        model.train()
        return model
    if recommender == "content":
        return ChaneyContent(item_representation=first.copy(), **common)
    if recommender == "mf":
        return ChaneyMF(num_latent_factors=NUM_ATTRS, reset_interactions=False, **common)
    if recommender == "social":
        return ChaneySocial(user_representation=social_graph(world["prefs"]), **common)
    if recommender == "popularity":
        return ChaneyPopularity(**common)
    if recommender == "random":
        return ChaneyRandom(**common)
    raise ValueError(f"recommender: expected one of {RECOMMENDERS}, got {recommender!r}")


class ChaneyRun(mesa.Model):
    """One (recommender, training, seed) run next to the ideal run on the same world.

    Args:
        recommender: one of :data:`RECOMMENDERS`.
        training: ``"repeated"`` or ``"single"``.
        rng: the run's seed (the same seed gives the same users and items to every
            recommender).
    """

    def __init__(self, recommender: str = "popularity", training: str = "repeated", rng: Any = 0):
        """Draw the world, build the ideal and the recommender, record t=0."""
        super().__init__(rng=rng)
        if training not in TRAINING:
            raise ValueError(f"training: expected one of {list(TRAINING)}, got {training!r}")
        self.startup, after = TRAINING[training]
        self.training = training
        seed = int(rng)
        world = draw_world(seed, NEW_PER_STEP * (self.startup + after))
        # the ideal run's own similar-user Jaccard (absolute), for reference
        self.ideal_metric = SimilarUserJaccard("ideal_jaccard", seed=seed)
        self.ideal = build("ideal", world, seed, [self.ideal_metric])
        if recommender == "ideal":
            self.recommender = self.ideal
            self.metric = SimilarUserJaccard(relative_to=self.ideal, seed=seed)
            self.ideal.add_metrics(self.metric)
        else:
            self.metric = SimilarUserJaccard(relative_to=self.ideal, seed=seed)
            self.recommender = build(recommender, world, seed, [self.metric])
        self.retrain_random = recommender == "random"
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "change": lambda m: m.metric.measurement_history[-1],
                "ideal_jaccard": lambda m: m.ideal_metric.measurement_history[-1],
            }
        )
        self.datacollector.collect(self)

    def _advance(self, model: Any) -> None:
        """Release this step's items, set the slate, and step ``model`` once."""
        startup = self.steps <= self.startup
        if self.steps > 1:  # the first items were out at the start
            model.create_and_process_items()
        if startup:
            slate: int | str = NEW_PER_STEP
        elif self.training == "repeated":
            slate = "all"
        else:
            slate = (self.startup + 1) * NEW_PER_STEP
        model.set_num_items_per_iter(slate)
        # random re-draws its order every step, whichever the training (as in the paper)
        retrain = not startup and (
            self.training == "repeated" or (model is not self.ideal and self.retrain_random)
        )
        model.run(
            1,
            startup=startup,
            train_between_steps=retrain,
            random_items_per_iter=0 if startup else NEW_PER_STEP,
            no_new_items=True,
            disable_tqdm=True,
        )
        if self.steps == self.startup:
            model.train()

    def step(self) -> None:
        """The ideal's step, then the recommender's (the metric compares the two)."""
        self._advance(self.ideal)
        if self.recommender is not self.ideal:
            self._advance(self.recommender)
        self.datacollector.collect(self)


def run(
    runs: int,
    processes: int = 1,
    output: Path | None = None,
    recommenders: tuple[str, ...] = RECOMMENDERS,
    trainings: tuple[str, ...] = tuple(TRAINING),
) -> pd.DataFrame:
    """``runs`` seeds of every recommender × training; mean and sd of the change per step.

    Args:
        runs: seeds per (recommender, training); seeds are 0 … runs−1.
        processes: worker processes of ``batch_run``.
        output: folder that keeps every finished run (a restarted study resumes).
        recommenders: which of :data:`RECOMMENDERS`.
        trainings: which of ``"repeated"``, ``"single"``.

    Returns:
        One row per (training, recommender, Step ≥ 1): ``mean``, ``std`` and ``count`` of
        the change in Jaccard index, and ``ideal_jaccard`` (the ideal run's own index).
    """
    table = run_study(
        ChaneyRun,
        parameters={"recommender": list(recommenders), "training": list(trainings)},
        seeds=list(range(runs)),
        max_steps=100,
        number_processes=processes,
        output=output,
    )
    table = table[table["Step"] > 0].astype({"change": float, "ideal_jaccard": float})
    groups = table.groupby(["training", "recommender", "Step"])
    curves = groups["change"].agg(["mean", "std", "count"])
    curves["ideal_jaccard"] = groups["ideal_jaccard"].mean()
    return curves.reset_index()


def summary(curves: pd.DataFrame) -> pd.DataFrame:
    """The change in Jaccard index at the last step, mean ± sd, next to the published one."""
    last = curves[curves["Step"] == curves["Step"].max()]
    cells = last.assign(
        value=[f"{m:+.3f} ± {s:.3f}" for m, s in zip(last["mean"], last["std"], strict=True)]
    )
    table = cells.pivot(index="recommender", columns="training", values="value")
    order = [r for r in RECOMMENDERS if r in table.index]
    table = table.loc[order]
    table["published (repeated)"] = [PUBLISHED[r] for r in order]
    return table


def plot(curves: pd.DataFrame, path: Path) -> None:
    """Mean change in Jaccard index over time, ±1 sd, one panel per training mode."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, training in zip(axes, TRAINING, strict=True):
        for name in RECOMMENDERS:
            c = curves[(curves["training"] == training) & (curves["recommender"] == name)]
            ax.plot(c["Step"], c["mean"], label=name)
            ax.fill_between(c["Step"], c["mean"] - c["std"], c["mean"] + c["std"], alpha=0.15)
        ax.axvline(TRAINING[training][0], color="grey", lw=0.8, ls=":")
        ax.set_title(f"{training} training")
        ax.set_xlabel("step")
    axes[0].set_ylabel("change in Jaccard index vs ideal")
    axes[1].legend(fontsize=8)
    fig.suptitle("Homogenization (Chaney, Stewart & Engelhardt 2018, replicated)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    """Run the study, write the curves and the plot, print the values at the last step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="seeds per recommender")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--recommenders", default=",".join(RECOMMENDERS), help="comma-separated subset"
    )
    parser.add_argument("--trainings", default=",".join(TRAINING), help="comma-separated subset")
    args = parser.parse_args(argv)
    recommenders = tuple(args.recommenders.split(","))
    trainings = tuple(args.trainings.split(","))
    for name, chosen, allowed in (
        ("--recommenders", recommenders, RECOMMENDERS),
        ("--trainings", trainings, tuple(TRAINING)),
    ):
        unknown = sorted(set(chosen) - set(allowed))
        if unknown:
            parser.error(f"{name}: unknown {unknown}; expected some of {list(allowed)}")
    args.output.mkdir(parents=True, exist_ok=True)
    folder = args.output / "chaney-runs"
    if (recommenders, trainings) != (RECOMMENDERS, tuple(TRAINING)):
        folder = args.output / f"chaney-runs-{'-'.join(recommenders)}-{'-'.join(trainings)}"
    curves = run(args.runs, args.processes, folder, recommenders, trainings)
    curves.to_csv(args.output / "chaney_curves.csv", index=False)
    plot(curves, args.output / "chaney.png")
    print(summary(curves).to_string())
    print(f"written: {args.output / 'chaney_curves.csv'}, {args.output / 'chaney.png'}")
    return curves


if __name__ == "__main__":
    main()
