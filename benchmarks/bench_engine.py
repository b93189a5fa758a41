"""Seconds per step and peak memory of the engine, side by side with T-RECS.

Times ``PopularityRecommender`` and ``RandomRecommender`` at T-RECS's default sizes (100 users
× 1,250 items) and at 100,000 users × 10,000 items × 20 true attributes. Each configuration
runs in its own process (so peak RSS is that configuration's), warms up (numba compiles on
first use), then times ``run(timesteps=1)`` several times and reports the median.

T-RECS runs the same configuration in its own environment (``bash benchmarks/setup_trecs.sh``
makes ``.venv-trecs``; or set ``TRECS_PYTHON``). Without it, its columns say "not installed".
At 100,000 × 10,000 T-RECS needs several dense 10^9-cell matrices (8 GB each), more than
this machine's 24 GiB, so it is only attempted with ``--trecs-large``.

Usage: ``python benchmarks/bench_engine.py [--sizes default,large] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
SIZES = {
    "default": {"label": "T-RECS defaults (100 users × 1,250 items)", "large": False},
    "large": {"label": "100,000 users × 10,000 items × 20 attributes", "large": True},
}
MODELS = ("PopularityRecommender", "RandomRecommender")

# One configuration, run in a fresh interpreter; prints a JSON line.
WORKER = """
import json, resource, statistics, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
package, model_name, large, repeats = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])
models = __import__(package + ".models", fromlist=[model_name])
cls = getattr(models, model_name)
if large:
    rng = np.random.default_rng(0)
    model = cls(actual_user_representation=rng.normal(size=(100_000, 20)),
                actual_item_representation=rng.uniform(size=(20, 10_000)),
                num_items_per_iter=10, seed=1)
else:
    model = cls(seed=1)
model.run(timesteps=1, disable_tqdm=True)
times = []
for _ in range(repeats):
    start = time.perf_counter()
    model.run(timesteps=1, disable_tqdm=True)
    times.append(time.perf_counter() - start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": statistics.median(times), "peak_mib": peak}))
"""


def trecs_python() -> str | None:
    """The interpreter of a T-RECS environment, if there is one."""
    candidates = [os.environ.get("TRECS_PYTHON"), str(ROOT / ".venv-trecs" / "bin" / "python")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            probe = subprocess.run(
                [candidate, "-c", "import trecs"], capture_output=True, check=False
            )
            if probe.returncode == 0:
                return candidate
    return None


def measure(
    python: str, package: str, model: str, large: bool, repeats: int, timeout: float
) -> dict:
    """Run one configuration in a child process and return its timing and peak memory."""
    cmd = [python, "-c", WORKER, package, model, "1" if large else "0", str(repeats)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": last[:80]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt(result: dict | None, key: str, spec: str) -> str:
    """One table cell."""
    if result is None:
        return "—"
    if "error" in result:
        return result["error"]
    return format(result[key], spec)


def main() -> None:
    """Run the benchmark and write ``benchmarks/results/engine.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="default,large")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--trecs-large", action="store_true")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = set(sizes) - set(SIZES)
    if unknown:
        parser.error(f"--sizes: unknown size(s) {sorted(unknown)}; choose from {sorted(SIZES)}")
    trecs = trecs_python()
    if trecs is None:
        print("T-RECS not installed (bash benchmarks/setup_trecs.sh): its columns are skipped")
    rows = []
    jobs = [(s, m) for s in sizes for m in MODELS]
    for size, model in tqdm(jobs, desc="configurations"):
        large = SIZES[size]["large"]
        ours = measure(sys.executable, "mesa_recsys", model, large, args.repeats, args.timeout)
        if trecs is None:
            theirs = {"error": "not installed"}
        elif large and not args.trecs_large:
            theirs = {"error": "not run (needs > 24 GiB)"}
        else:
            theirs = measure(trecs, "trecs", model, large, args.repeats, args.timeout)
        ratio = (
            f"{theirs['seconds'] / ours['seconds']:.0f}×"
            if "seconds" in ours and "seconds" in theirs
            else "—"
        )
        rows.append(
            f"| {model} | {SIZES[size]['label']} | {fmt(ours, 'seconds', '.4f')} | "
            f"{fmt(ours, 'peak_mib', '.0f')} | {fmt(theirs, 'seconds', '.4f')} | "
            f"{fmt(theirs, 'peak_mib', '.0f')} | {ratio} |"
        )
    table = "\n".join(
        [
            (
                "| model | configuration | mesa_recsys s/step | mesa_recsys peak MiB | "
                "T-RECS s/step | T-RECS peak MiB | speed-up |"
            ),
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(table)
    out = ROOT / "benchmarks" / "results" / "engine.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        f"Median of {args.repeats} steps after a warm-up step; peak = max RSS of the process.\n\n"
        + table
        + "\n"
    )
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
