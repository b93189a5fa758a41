"""What collecting every metric each step adds to a step, at 10,000 users × 1,000 items.

For each model, three copies are built from the same arrays and seed (standard-normal user
profiles over 20 attributes, uniform item attributes, ``numpy.random.default_rng(0)``,
``num_items_per_iter=10``, ``seed=1``): one with no metrics, one with T-RECS's metrics,
and one with every metric that applies to it (all but the diffusion metrics, which need a
Bass model):
``InteractionMeasurement``, ``MSEMeasurement``, ``RMSEMeasurement``,
``InteractionSimilarity`` and ``RecSimilarity`` over 10,000 random user pairs,
``InteractionSpread``, ``InteractionSpreadTRECS``, ``AverageFeatureScoreRange``,
``RecallMeasurement(k=5)``, ``SimilarUserJaccard``, ``NDCGAtK(10)``, ``RecallAtK(10)``,
``CatalogCoverage``, ``ItemPopularityGini`` and ``MeanPairwiseDistance``.

Each copy runs one warm-up step (numba compiles on first use), then ``--steps`` timed
``model.step()`` calls, the three copies taking turns step by step (so a change in the
load of a shared machine hits all three alike); the table gives the median step of each
and what the metrics add. A second table gives, for the copy with every metric, the median
time of each metric's ``measure`` inside those timed steps: what it adds to a step, with
whatever it shares or keeps (RMSE reuses MSE's result, recall@k the pass of NDCG@k;
Chaney partners are kept while the estimates do not change; NDCG@k's time includes the
ranking that the model's next recommendation then reads instead of ranking again, and the
true scores of those lists, which the users' next choices read when the model shows them, so
those parts are not added to the step). Steps run with BLAS on one thread (the models'
default ``blas_threads``). One process, so the copies
share the machine state; the numbers are indicative, not a timed test.

``--without`` leaves the named metrics out of every copy (for instance
``--without similar_user_jaccard``: what the rest cost without Chaney's partner search); the
tables then go to ``--output`` (default ``benchmarks/results/metrics_without.md``) instead of
``benchmarks/results/metrics.md``. ``--users`` changes the number of users (10,000 by default;
the tables then go to a file named after it, e.g. ``metrics_100000_users.md``).

Usage::

    python benchmarks/bench_metrics.py [--steps 5] [--models PopularityRecommender,ContentFiltering]
        [--without NAME,...] [--output PATH] [--users 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from mesa_recsys.metrics import (
    AverageFeatureScoreRange,
    CatalogCoverage,
    InteractionMeasurement,
    InteractionSimilarity,
    InteractionSpread,
    InteractionSpreadTRECS,
    ItemPopularityGini,
    MeanPairwiseDistance,
    MSEMeasurement,
    NDCGAtK,
    RecallAtK,
    RecallMeasurement,
    RecSimilarity,
    RMSEMeasurement,
    SimilarUserJaccard,
)
from mesa_recsys.models import ContentFiltering, ImplicitMF, PopularityRecommender

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "metrics.md"
RESULTS_WITHOUT = ROOT / "benchmarks" / "results" / "metrics_without.md"
NUM_USERS, NUM_ITEMS, NUM_ATTRS = 10_000, 1_000, 20


#: T-RECS's own metrics (the diffusion ones aside); the rest are the study metrics.
TRECS_METRICS = (
    "interaction_histogram",
    "mse",
    "rmse",
    "interaction_similarity",
    "rec_similarity",
    "interaction_spread",
    "interaction_spread_trecs",
    "afsr",
    "recall_at_k",
)


def all_metrics(num_users: int) -> list:
    pairs = np.random.default_rng(1).integers(0, num_users, size=(10_000, 2))
    return [
        InteractionMeasurement(),
        MSEMeasurement(),
        RMSEMeasurement(),
        InteractionSimilarity(pairs),
        RecSimilarity(pairs),
        InteractionSpread(),
        InteractionSpreadTRECS(),
        AverageFeatureScoreRange(),
        RecallMeasurement(k=5),
        SimilarUserJaccard(),
        NDCGAtK(k=10),
        RecallAtK(k=10),
        CatalogCoverage(),
        ItemPopularityGini(),
        MeanPairwiseDistance(),
    ]


def build(name: str, metrics: str, without: tuple[str, ...] = (), num_users: int = NUM_USERS):
    chosen = [m for m in all_metrics(num_users) if m.name not in without]
    rng = np.random.default_rng(0)
    profiles = rng.normal(size=(num_users, NUM_ATTRS))
    items = rng.uniform(size=(NUM_ATTRS, NUM_ITEMS))
    common = {
        "actual_user_representation": profiles,
        "actual_item_representation": items,
        "num_items_per_iter": 10,
        "seed": 1,
        "measurements": {
            "none": None,
            "trecs": [m for m in chosen if m.name in TRECS_METRICS],
            "all": chosen,
        }[metrics],
    }
    if name == "PopularityRecommender":
        return PopularityRecommender(**common)
    if name == "ContentFiltering":
        return ContentFiltering(item_representation=items.copy(), **common)
    if name == "ImplicitMF":
        return ImplicitMF(num_latent_factors=NUM_ATTRS, **common)
    raise ValueError(f"--models: unknown model {name!r}")


def time_steps(
    models: dict, steps: int, timed: str = "all"
) -> tuple[dict[str, float], dict[str, float]]:
    """Median step time of each model, taking turns; median ``measure`` time of each metric.

    Args:
        models: the copies by label; they step in turn, one step each per round.
        steps: timed rounds (after one warm-up round: numba compilation, caches).
        timed: the copy whose metrics are timed one by one.

    Returns:
        ``({label: median s/step}, {metric name: median s/call})``.
    """
    calls: dict[str, list[float]] = {}
    for metric in models[timed].metrics:
        calls[metric.name] = times = []
        measure = metric.measure

        def timed_measure(recommender, measure=measure, times=times):
            start = time.perf_counter()
            measure(recommender)
            times.append(time.perf_counter() - start)

        metric.measure = timed_measure
    for model in models.values():
        model.step()
    for times in calls.values():
        times.clear()
    step_times: dict[str, list[float]] = {label: [] for label in models}
    for _ in range(steps):
        for label, model in models.items():
            start = time.perf_counter()
            model.step()
            step_times[label].append(time.perf_counter() - start)
    medians = {label: statistics.median(times) for label, times in step_times.items()}
    return medians, {name: statistics.median(times) for name, times in calls.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--models", default="PopularityRecommender,ContentFiltering")
    parser.add_argument("--without", default="", help="metric names to leave out, comma-separated")
    parser.add_argument("--output", type=Path, default=None, help="where to write the tables")
    parser.add_argument("--users", type=int, default=NUM_USERS, help="number of users")
    args = parser.parse_args()
    if args.users < 2:
        parser.error(f"--users: expected at least 2, got {args.users}")
    without = tuple(n for n in args.without.split(",") if n)
    known = {m.name for m in all_metrics(NUM_USERS)}
    unknown = sorted(set(without) - known)
    if unknown:
        parser.error(f"--without: unknown metric(s) {unknown}; known: {sorted(known)}")
    output = args.output or (RESULTS_WITHOUT if without else RESULTS)
    if args.output is None and args.users != NUM_USERS:
        output = output.with_name(f"{output.stem}_{args.users}_users.md")
    rows, breakdown = [], {}
    for name in args.models.split(","):
        copies = {
            label: build(name, label, without, args.users) for label in ("none", "trecs", "all")
        }
        medians, breakdown[name] = time_steps(copies, args.steps)
        bare, trecs, full = medians["none"], medians["trecs"], medians["all"]
        rows.append((name, bare, trecs, full))
        del copies
        print(f"{name}: {bare:.4f} / {trecs:.4f} / {full:.4f} s/step", flush=True)

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        (
            f"Metrics benchmark, {now}, on {platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}. {args.users:,} users × {NUM_ITEMS:,} items × "
            f"{NUM_ATTRS} attributes, 10 items shown per step; median of {args.steps} steps "
            "after one warm-up step (`python benchmarks/bench_metrics.py`). T-RECS's metrics: "
            + ", ".join(TRECS_METRICS)
            + "; every metric adds similar_user_jaccard, ndcg@10, recall@10, coverage_shown, "
            "popularity_gini and mean_pairwise_distance."
            + (f" Left out of every copy: {', '.join(without)}." if without else "")
        ),
        "",
        (
            "| model | s/step, no metrics | s/step, T-RECS's metrics | added | s/step, every metric "
            "| added |"
        ),
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, bare, trecs, full in rows:
        lines.append(
            f"| {name} | {bare:.4f} | {trecs:.4f} | {100 * (trecs - bare) / bare:+.0f}% | "
            f"{full:.4f} | {100 * (full - bare) / bare:+.0f}% |"
        )
    names = list(next(iter(breakdown.values())))
    lines += [
        "",
        (
            "Each metric's `measure` inside the timed steps of the copy with every metric (ms, "
            "median; RMSE reuses MSE's result and recall@10 the NDCG@10 pass; NDCG@10's time "
            "includes the ranking that the next step's recommendation reads instead of "
            "ranking again):"
        ),
        "",
        "| metric | " + " | ".join(breakdown) + " |",
        "|---|" + "---:|" * len(breakdown),
    ]
    for metric in names:
        cells = " | ".join(f"{breakdown[m][metric] * 1e3:.1f}" for m in breakdown)
        lines.append(f"| {metric} | {cells} |")
    text = "\n".join(lines) + "\n"
    print(text)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)


if __name__ == "__main__":
    main()
