"""Seconds per step and peak memory of the recommenders, side by side with T-RECS.

Times ``PopularityRecommender``, ``RandomRecommender``, ``ContentFiltering``,
``ImplicitMF``, ``SocialFiltering`` and ``BassModel`` (``--models`` picks some) at up to
three sizes (the social models at T-RECS's defaults only):

* ``default``: T-RECS's defaults (100 users × 1,250 items; ContentFiltering knows 1,000
  item attributes, ImplicitMF fits 10 factors), built with no size arguments and ``seed=1``.
* ``medium``: 1,000 users × 1,250 items, T-RECS's defaults otherwise (``num_users=1000``,
  ``seed=1``); the learning models only.
* ``large``: 100,000 users × 10,000 items with 20 true attributes (standard-normal user
  profiles, uniform item attributes, both drawn from ``numpy.random.default_rng(0)``),
  ``num_items_per_iter=10``, ``seed=1``. ContentFiltering is given the true attributes as
  the ones it knows (Â = 20), ImplicitMF fits 20 factors.

A step is ``run(timesteps=1)``: ContentFiltering refits every user profile in it (its
default); ImplicitMF is run with ``train_between_steps=True`` so that each timed step
includes an ALS fit (20 iterations, on the interactions of that run, T-RECS's default
``reset_interactions``).

Every (package, model, size) runs in a fresh interpreter, so its peak memory is its own:
the child builds the model, runs one warm-up step (numba compiles its kernels on first
use, so compilation is not timed), then times ``run(timesteps=1, disable_tqdm=True)``
``--repeats`` times and reports the median. Peak memory is the child's peak resident set
(``VmHWM``). ``getrusage().ru_maxrss`` is only a fallback: on Linux a child's ``ru_maxrss``
also counts the parent's resident set at the time of the fork.

T-RECS runs the same configuration (same seed, same arrays) in its own environment:
``bash benchmarks/setup_trecs.sh`` makes ``.venv-trecs``, or point ``TRECS_PYTHON`` at an
interpreter that can ``import trecs``. Without one its columns say so. At the large size
T-RECS keeps several dense U×I matrices (true scores, predicted scores, the candidate index
matrix; 7.5 GiB each at 10^9 cells) and makes more while ranking, so it is only attempted
with ``--trecs-large``. Every child runs under an address-space cap (``--mem-limit-gib``) so
that a configuration too big for the machine stops with a ``MemoryError`` instead of waking
the kernel's out-of-memory killer.

The table is printed and written to ``benchmarks/results/engine.md``.

Usage::

    python benchmarks/bench_engine.py [--sizes default,large] [--repeats 5] [--trecs-large]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import importlib
import importlib.metadata
import inspect
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

# This file is also the child process, and T-RECS's children run it under Python 3.11 with
# numpy<2: keep it to the standard library, numpy and tqdm, and to 3.11 syntax.

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "engine.md"
MODELS = (
    "PopularityRecommender",
    "RandomRecommender",
    "ContentFiltering",
    "ImplicitMF",
    "SocialFiltering",
    "BassModel",
)
LEARNING = ("ContentFiltering", "ImplicitMF")
#: Models run only at T-RECS's defaults here: their default graph is dense G(U, 0.3), which
#: has no meaning at 10^5 users (benchmarks/bench_bass.py runs a large sparse cascade).
SOCIAL = ("SocialFiltering", "BassModel")
MIB = 2**20
GIB = 2**30


@dataclass(frozen=True)
class Size:
    """One problem size.

    Attributes:
        label: how the table names it.
        num_users: U, or None for the package's default.
        num_items: I, or None for the package's default.
        num_attributes: true attributes A (used only with explicit sizes).
    """

    label: str
    num_users: int | None = None
    num_items: int | None = None
    num_attributes: int = 0


SIZES = {
    "default": Size("T-RECS defaults: 100 users × 1,250 items"),
    "medium": Size("1,000 users × 1,250 items", 1_000, 1_250),
    "large": Size("100,000 users × 10,000 items × 20 attributes", 100_000, 10_000, 20),
}


# --- the child: one configuration --------------------------------------------------------


def peak_rss_mib() -> float:
    """Peak resident set of this process, in MiB (``VmHWM``; ``ru_maxrss`` off Linux)."""
    with contextlib.suppress(OSError):
        status = Path("/proc/self/status").read_text()
        found = re.search(r"^VmHWM:\s+(\d+)\s+kB", status, re.MULTILINE)
        if found:
            return int(found.group(1)) / 1024
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MIB


def cap_address_space(limit_gib: float) -> None:
    """Make allocations past ``limit_gib`` of address space raise ``MemoryError`` (0: no cap)."""
    if limit_gib <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = int(limit_gib * GIB)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def build_model(cls: type, size: Size) -> tuple[Any, str]:
    """Construct one model.

    Args:
        cls: recommender class (of ``mesa_recsys.models`` or ``trecs.models``).
        size: problem size.

    Returns:
        The model and a short digest of the true representations it was given ("-" when
        the package drew its own).
    """
    if size.num_users is None:
        return cls(seed=1), "-"
    if size.num_attributes == 0:
        return cls(num_users=size.num_users, num_items=size.num_items, seed=1), "-"
    rng = np.random.default_rng(0)
    users = rng.normal(size=(size.num_users, size.num_attributes))
    items = rng.uniform(size=(size.num_attributes, size.num_items))
    digest = hashlib.sha1(users.tobytes() + items.tobytes(), usedforsecurity=False)
    extra: dict[str, Any] = {}
    if cls.__name__ == "ContentFiltering":
        extra["item_representation"] = items.copy()
    elif cls.__name__ == "ImplicitMF":
        extra["num_latent_factors"] = size.num_attributes
    model = cls(
        actual_user_representation=users,
        actual_item_representation=items,
        num_items_per_iter=10,
        seed=1,
        **extra,
    )
    return model, digest.hexdigest()[:10]


def step_function(model: Any) -> Any:
    """A no-argument callable that runs one step of ``model`` (see the module docstring)."""
    kwargs: dict[str, Any] = {"timesteps": 1}
    if "disable_tqdm" in inspect.signature(model.run).parameters:
        kwargs["disable_tqdm"] = True  # T-RECS's ImplicitMF.run does not take it
    if type(model).__name__ == "ImplicitMF":
        kwargs["train_between_steps"] = True
    return lambda: model.run(**kwargs)


def run_configuration(
    package: str, model_name: str, size: Size, repeats: int, limit_gib: float = 0
) -> dict[str, Any]:
    """Build, warm up and time one configuration in this process.

    Args:
        package: ``mesa_recsys`` or ``trecs``.
        model_name: recommender class name.
        size: problem size.
        repeats: timed steps after the warm-up step.
        limit_gib: the address-space cap this process runs under (0: none), for the record.

    Returns:
        JSON-ready results: ``seconds`` (median step), ``steps``, ``construct_s`` (drawing
        the inputs and building the model, imports excluded), ``warmup_s``, ``peak_mib``,
        ``warnings`` ({message: count}) and versions; or ``error``, ``stage`` and
        ``peak_mib`` when the configuration failed.
    """
    result: dict[str, Any] = {
        "version": importlib.metadata.version(package),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    stage = "construction"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cls = getattr(importlib.import_module(f"{package}.models"), model_name)
            start = time.perf_counter()
            model, result["inputs"] = build_model(cls, size)
            result["construct_s"] = time.perf_counter() - start
            step = step_function(model)
            stage = "warm-up step"
            start = time.perf_counter()
            step()
            result["warmup_s"] = time.perf_counter() - start
            stage = "timed steps"
            steps = []
            for _ in range(repeats):
                start = time.perf_counter()
                step()
                steps.append(time.perf_counter() - start)
        except MemoryError as exc:
            cap = f" (address space capped at {limit_gib:g} GiB)" if limit_gib > 0 else ""
            result.update(error=f"MemoryError{cap}: {exc}", stage=stage, peak_mib=peak_rss_mib())
            return result
    result.update(seconds=statistics.median(steps), steps=steps, peak_mib=peak_rss_mib())
    counts: dict[str, int] = {}
    for w in caught:
        key = f"{w.category.__name__}: {w.message}"
        counts[key] = counts.get(key, 0) + 1
    result["warnings"] = counts
    return result


# --- the parent: run the children and tabulate --------------------------------------------


def find_trecs_python() -> tuple[str | None, str]:
    """The interpreter of a T-RECS environment, and a line saying which or why none."""
    candidate = os.environ.get("TRECS_PYTHON") or str(ROOT / ".venv-trecs" / "bin" / "python")
    if not Path(candidate).exists():
        return None, f"{candidate} does not exist"
    probe = subprocess.run(
        [candidate, "-c", "import trecs"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["failed"])[-1]
        return None, f"{candidate} cannot import trecs ({last})"
    return candidate, candidate


def measure(
    python: str,
    package: str,
    model_name: str,
    size_key: str,
    repeats: int,
    timeout: float,
    mem_limit_gib: float,
) -> dict[str, Any]:
    """Run one configuration in a fresh child process and return its results.

    Args:
        python: interpreter to run the child with.
        package: ``mesa_recsys`` or ``trecs``.
        model_name: recommender class name.
        size_key: key of :data:`SIZES`.
        repeats: timed steps.
        timeout: seconds before the child is killed.
        mem_limit_gib: the child's address-space cap (0: none).

    Returns:
        The child's results (see :func:`run_configuration`), or ``{"error": ...}``.
    """
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--worker",
        f"{package}:{model_name}",
        "--sizes",
        size_key,
        "--repeats",
        str(repeats),
        "--mem-limit-gib",
        str(mem_limit_gib),
    ]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}  # the child records warnings itself
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT, env=env
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        if proc.returncode < 0:
            return {"error": f"killed by signal {-proc.returncode}"}
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return {"error": last[:120]}
    return json.loads(lines[-1])


def cell(result: dict[str, Any], key: str, spec: str) -> str:
    """One table cell: the value, or the reason there is none."""
    if key in result:
        return format(result[key], spec)
    return str(result.get("short", result.get("error", "—")))


def summary(result: dict[str, Any]) -> str:
    """One configuration's result in a few words, for the progress log."""
    if "seconds" in result:
        return f"{result['seconds']:.4f} s/step, peak {result['peak_mib']:,.0f} MiB"
    return str(result.get("short", result.get("error", "—")))


def speed_up(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    """T-RECS's seconds per step over ours, as ``123×``."""
    if "seconds" not in ours or "seconds" not in theirs:
        return "—"
    ratio = theirs["seconds"] / ours["seconds"]
    return f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def memory_total_gib() -> float | None:
    """Physical memory of this machine in GiB, when /proc/meminfo says."""
    with contextlib.suppress(OSError, AttributeError):
        text = Path("/proc/meminfo").read_text()
        return int(re.search(r"^MemTotal:\s+(\d+)\s+kB", text, re.MULTILINE).group(1)) / 2**20
    return None


def describe_failure(result: dict[str, Any]) -> dict[str, Any]:
    """Add a short table cell (``short``) for a failed configuration."""
    if "error" in result and "stage" in result:
        kind = result["error"].split(":", 1)[0].split(" ", 1)[0]
        result["short"] = f"{kind} in {result['stage']}"
    return result


def render(rows: list[dict[str, Any]], args: argparse.Namespace, notes: list[str]) -> str:
    """The markdown report: the table, then details per configuration and notes."""
    mem = memory_total_gib()
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs" + (
        f", {mem:.0f} GiB memory" if mem else ""
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    intro = (
        f"Benchmark, {stamp}, on {machine}. Median of {args.repeats} "
        "`run(timesteps=1)` steps after one warm-up step (numba compilation excluded); "
        "peak = the child process's peak RSS (VmHWM), one fresh process per cell."
    )
    header = (
        "| configuration | model | mesa_recsys s/step | mesa_recsys peak MiB | "
        "T-RECS s/step | T-RECS peak MiB | speed-up |"
    )
    lines = [intro, "", header, "|---|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        ours, theirs = row["ours"], row["theirs"]
        lines.append(
            f"| {SIZES[row['size']].label} | {row['model']} | {cell(ours, 'seconds', '.4f')} | "
            f"{cell(ours, 'peak_mib', ',.0f')} | {cell(theirs, 'seconds', '.4f')} | "
            f"{cell(theirs, 'peak_mib', ',.0f')} | {speed_up(ours, theirs)} |"
        )
    lines += [
        "",
        "Details (construction, warm-up step, fastest–slowest timed step):",
        "",
    ]
    for row in rows:
        for who, res in (("mesa_recsys", row["ours"]), ("T-RECS", row["theirs"])):
            if "steps" in res:
                lines.append(
                    f"- {row['size']}/{row['model']}/{who} {res['version']} "
                    f"(Python {res['python']}, numpy {res['numpy']}): build "
                    f"{res['construct_s']:.2f} s, warm-up {res['warmup_s']:.3f} s, steps "
                    f"{min(res['steps']):.4f}–{max(res['steps']):.4f} s, inputs {res['inputs']}"
                )
            elif "stage" in res:
                lines.append(
                    f"- {row['size']}/{row['model']}/{who}: {res['error']} "
                    f"(during {res['stage']}, peak {res['peak_mib']:,.0f} MiB)"
                )
    warned: dict[str, set[str]] = {}
    for row in rows:
        for who, res in (("mesa_recsys", row["ours"]), ("T-RECS", row["theirs"])):
            for message in res.get("warnings", {}):
                warned.setdefault(message, set()).add(who)
    if warned:
        lines += ["", "Warnings raised while running:", ""]
        lines += [f"- {', '.join(sorted(w))}: {m}" for m, w in sorted(warned.items())]
    if notes:
        lines += ["", *[f"Note: {n}" for n in notes]]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="default,large", help=f"comma-separated, from {', '.join(SIZES)}"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per configuration")
    parser.add_argument(
        "--trecs-large", action="store_true", help="also run T-RECS at the large size"
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds per configuration (default 600)"
    )
    total = memory_total_gib()
    parser.add_argument(
        "--mem-limit-gib",
        type=float,
        default=round(0.9 * total, 1) if total else 0.0,
        help="address-space cap of each child in GiB, 0 for none (default: 90%% of memory)",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="markdown file to write (default: %(default)s)"
    )
    parser.add_argument(
        "--models", default=",".join(MODELS), help="comma-separated, from %(default)s"
    )
    parser.add_argument("--worker", metavar="PACKAGE:MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.size_keys = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = sorted(set(args.size_keys) - set(SIZES))
    if unknown or not args.size_keys:
        parser.error(f"--sizes: unknown or empty {unknown}; choose from {', '.join(SIZES)}")
    args.model_names = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = sorted(set(args.model_names) - set(MODELS))
    if bad or not args.model_names:
        parser.error(f"--models: unknown or empty {bad}; choose from {', '.join(MODELS)}")
    if args.repeats < 1:
        parser.error("--repeats: expected at least 1")
    if args.worker and (len(args.size_keys) != 1 or ":" not in args.worker):
        parser.error("--worker PACKAGE:MODEL takes exactly one size")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (or, with ``--worker``, one configuration of it)."""
    args = parse_args(argv)
    if args.worker:
        package, model_name = args.worker.split(":", 1)
        cap_address_space(args.mem_limit_gib)
        size = SIZES[args.size_keys[0]]
        result = run_configuration(package, model_name, size, args.repeats, args.mem_limit_gib)
        print(json.dumps(result))
        return

    trecs, where = find_trecs_python()
    notes = []
    if trecs is None:
        line = (
            f"T-RECS skipped: {where}. Run `bash benchmarks/setup_trecs.sh` or set TRECS_PYTHON "
            "to get its columns."
        )
        print(line)
        notes.append(line)
    else:
        print(f"T-RECS: {where}")
    jobs = [
        (size, model)
        for size in args.size_keys
        for model in args.model_names
        if (size != "medium" or model in LEARNING) and (size == "default" or model not in SOCIAL)
    ]
    rows = []
    for size, model in tqdm(jobs, desc="configurations", unit="config"):
        run = (args.repeats, args.timeout, args.mem_limit_gib)
        ours = describe_failure(measure(sys.executable, "mesa_recsys", model, size, *run))
        if trecs is None:
            theirs = {"error": "not installed"}
        elif size == "large" and not args.trecs_large:
            theirs = {"error": "not run (would need > 24 GB)"}
        else:
            theirs = describe_failure(measure(trecs, "trecs", model, size, *run))
        if ours.get("inputs", "-") != theirs.get("inputs", ours.get("inputs", "-")):
            notes.append(f"{size}/{model}: the two packages were given different inputs")
        tqdm.write(f"{size} {model}: mesa_recsys {summary(ours)}; T-RECS {summary(theirs)}")
        rows.append({"size": size, "model": model, "ours": ours, "theirs": theirs})
    report = render(rows, args, notes)
    print()
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"written to {shown}")


if __name__ == "__main__":
    main()
