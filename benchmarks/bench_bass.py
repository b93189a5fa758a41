"""A BassModel cascade on a 100,000-user power-law network, run to extinction.

The network is :func:`mesa_recsys.random.power_law_graph` (exponent 2.3, mutual links,
``seed=0``); the best-connected user starts the cascade of one item with infection probability
``--rate``, and the model runs until nobody is infected. Reports the number of steps, the
cascade's size and structural virality, seconds per step (mean and slowest), the whole
run, and the process's peak memory. T-RECS cannot run this size: its BassModel keeps the
graph as a dense 100,000² matrix (80 GB). Writes ``benchmarks/results/bass.md``.

Usage::

    python benchmarks/bench_bass.py [--users 100000] [--rate 0.1] [--seed 1]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np

from mesa_recsys.metrics import structural_virality
from mesa_recsys.models import BassModel
from mesa_recsys.random import power_law_graph

RESULTS = Path(__file__).resolve().parent / "results" / "bass.md"


def peak_mib() -> float:
    """This process's peak resident set (VmHWM) in MiB."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+)\s+kB", text, re.MULTILINE).group(1)) / 1024


def main() -> None:
    """Build the network, run the cascade, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1, help="seed of the infections")
    args = parser.parse_args()
    start = time.perf_counter()
    graph = power_law_graph(args.users, exponent=2.3, mutual=True, seed=0)
    state = np.zeros((args.users, 1))
    hub = int(np.argmax(np.diff(graph.indptr)))  # the best-connected user starts it
    state[hub, 0] = 1
    model = BassModel(
        user_representation=graph,
        item_representation=np.array([[args.rate]]),
        infection_state=state,
        measurements=[],
        seed=args.seed,
    )
    build = time.perf_counter() - start
    steps = []
    while model.running:
        t = time.perf_counter()
        model.step()
        steps.append(time.perf_counter() - t)
    size = model.diffusion_tree.number_of_nodes()
    virality = structural_virality(model.diffusion_tree) if size > 1 else float("nan")
    report = "\n".join(
        [
            (
                f"BassModel cascade to extinction, {args.users:,} users (power-law network, "
                f"{graph.nnz:,} links), rate {args.rate}, seed {args.seed}."
            ),
            "",
            (
                "| steps | cascade size | structural virality | build s | run s | mean s/step | "
                "slowest step s | peak MiB |"
            ),
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            (
                f"| {len(steps)} | {size:,} | {virality:.2f} | {build:.2f} | {sum(steps):.2f} | "
                f"{np.mean(steps):.4f} | {max(steps):.4f} | {peak_mib():,.0f} |"
            ),
            "",
        ]
    )
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)


if __name__ == "__main__":
    main()
