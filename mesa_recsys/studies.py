"""Parameter studies: many settings × many seeds, on one machine or on a Dask cluster.

:func:`run_study` runs every combination of ``parameters`` for every seed and returns the
tidy table ``mesa.batch_run`` returns (one row per run per collected step, the parameters
and the seed as columns), whichever backend runs it:

* ``backend="batch_run"``: Mesa's batch runner on this machine (its own run function, in a
  pool of ``number_processes`` worker processes, or in this process when that is 1);
* ``backend="dask"``: the same run function submitted to a Dask ``distributed`` scheduler:
  ``client=`` an existing ``distributed.Client`` (e.g. ``Client("tcp://scheduler:8786")``
  for a cluster), or a ``LocalCluster`` of ``number_processes`` workers started for the
  study and closed after it.

With ``output=`` (a folder), every run is written there the moment it finishes
(``run-000042.csv`` or ``.parquet``, written to a temporary name and renamed, so a killed
study never leaves half a file), and a study started again with the same output folder
skips the runs already there: an interrupted study loses nothing. ``results.csv`` (or
``.parquet``) in the folder holds the whole table once the study ends. Seeds make runs
reproducible: the same seed gives the same numbers on every backend.
"""

from __future__ import annotations

import inspect
import json
import multiprocessing
import os
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import pandas as pd
from mesa.batchrunner import _make_model_kwargs, _model_run_func
from tqdm.auto import tqdm

__all__ = ["run_study", "study_runs"]

BACKENDS = ("batch_run", "dask")
FORMATS = ("csv", "parquet")


def _accepted_names(model_cls: type) -> set[str] | None:
    """Keyword arguments ``model_cls`` takes, following ``**kwargs`` up the MRO (None: any)."""
    names: set[str] = set()
    for cls in model_cls.__mro__:
        if "__init__" not in vars(cls):
            continue
        params = inspect.signature(cls.__init__).parameters.values()
        names |= {
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
        }
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return names
        if cls is mesa.Model:
            return names
    return None


def study_runs(
    model_cls: type[mesa.Model], parameters: Mapping[str, Any], seeds: Sequence[Any]
) -> list[tuple[int, int, dict[str, Any]]]:
    """The runs of a study, numbered as ``mesa.batch_run`` numbers them.

    Checks the study before anything runs.

    Args:
        model_cls: the model class.
        parameters: ``{name: value or list of values}``.
        seeds: one run per seed and combination.

    Returns:
        ``(RunId, iteration, kwargs)`` for every run; ``kwargs`` holds the seed under
        ``seed`` or ``rng`` (the name the model takes, as ``batch_run`` chooses it).

    Raises:
        TypeError: when ``model_cls`` is not a Mesa model class or ``parameters`` is not
            a mapping.
        ValueError: on an unknown parameter name, an empty list of values, or no seeds.
    """
    if not (isinstance(model_cls, type) and issubclass(model_cls, mesa.Model)):
        raise TypeError(f"model: expected a mesa.Model subclass, got {model_cls!r}")
    if not isinstance(parameters, Mapping):
        raise TypeError(f"parameters: expected a dict, got {type(parameters).__name__}")
    seeds = list(seeds) if isinstance(seeds, Iterable) and not isinstance(seeds, str) else None
    if not seeds:
        raise ValueError("seeds: expected a non-empty list of seeds (one run per seed)")
    accepted = _accepted_names(model_cls)
    seed_name = "seed" if "seed" in inspect.signature(model_cls).parameters else "rng"
    for name, values in parameters.items():
        if accepted is not None and name not in accepted:
            raise ValueError(
                f"parameters: {model_cls.__name__} takes no argument {name!r} "
                f"(it takes {', '.join(sorted(accepted))})"
            )
        if name in ("seed", "rng"):
            raise ValueError(f"parameters: give seeds with seeds=, not as {name!r}")
        if isinstance(values, list | tuple | set | range) and len(values) == 0:
            raise ValueError(f"parameters: {name!r} has an empty list of values")
    runs = []
    for iteration, seed in enumerate(seeds):
        for kwargs in _make_model_kwargs(parameters):
            kwargs[seed_name] = seed
            runs.append((len(runs), iteration, kwargs))
    return runs


class _Store:
    """The output folder: one file per finished run, then the whole table."""

    def __init__(self, folder: Path, fmt: str) -> None:
        self.folder = folder
        self.fmt = fmt
        folder.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            try:
                import pyarrow  # noqa: F401, PLC0415
            except ImportError as exc:
                raise ValueError(
                    "output_format: 'parquet' needs pyarrow (pip install pyarrow), or use 'csv'"
                ) from exc

    def path(self, run_id: int) -> Path:
        return self.folder / f"run-{run_id:06d}.{self.fmt}"

    def done(self) -> set[int]:
        found = set()
        for file in self.folder.glob(f"run-*.{self.fmt}"):
            stem = file.stem.split("-", 1)[1]
            if stem.isdigit():
                found.add(int(stem))
        return found

    def write(self, run_id: int, rows: list[dict[str, Any]]) -> None:
        frame = pd.DataFrame(rows)
        target = self.path(run_id)
        temporary = target.with_name(f".{target.name}.tmp")
        if self.fmt == "csv":
            frame.to_csv(temporary, index=False)
        else:
            frame.to_parquet(temporary, index=False)
        os.replace(temporary, target)

    def read(self, run_id: int) -> pd.DataFrame:
        if self.fmt == "csv":
            return pd.read_csv(self.path(run_id))
        return pd.read_parquet(self.path(run_id))

    def check_same_study(self, runs: list[tuple[int, int, dict[str, Any]]]) -> None:
        """Refuse to resume into a folder that holds a different study."""
        manifest = self.folder / "study.json"
        described = json.dumps(
            [
                [run_id, iteration, {k: repr(v) for k, v in kwargs.items()}]
                for run_id, iteration, kwargs in runs
            ]
        )
        if manifest.exists():
            if manifest.read_text() != described:
                raise ValueError(
                    f"output: {self.folder} holds the results of a different study (other "
                    "parameters or seeds); use a new folder"
                )
        else:
            manifest.write_text(described)

    def combine(self, runs: list[tuple[int, int, dict[str, Any]]]) -> pd.DataFrame:
        frames = [self.read(run_id) for run_id, _, _ in runs if self.path(run_id).exists()]
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        target = self.folder / f"results.{self.fmt}"
        temporary = target.with_name(f".{target.name}.tmp")
        if self.fmt == "csv":
            table.to_csv(temporary, index=False)
        else:
            table.to_parquet(temporary, index=False)
        os.replace(temporary, target)
        return table


def run_study(
    model: type[mesa.Model],
    parameters: Mapping[str, Any],
    seeds: Sequence[Any],
    max_steps: int = 100,
    backend: str = "batch_run",
    client: Any = None,
    output: str | os.PathLike | None = None,
    output_format: str = "csv",
    number_processes: int = 1,
    data_collection_period: int = 1,
    display_progress: bool = True,
) -> pd.DataFrame:
    """Run a model for every combination of ``parameters`` and every seed.

    Args:
        model: the model class (built as ``model(**kwargs, seed=s)``, or ``rng=s`` when it
            takes no ``seed``, as ``mesa.batch_run`` does).
        parameters: ``{name: value or list of values}``; lists are crossed.
        seeds: one run per seed and combination.
        max_steps: steps per run (fewer when the model sets ``running = False``).
        backend: ``"batch_run"`` or ``"dask"``.
        client: a ``distributed.Client`` for ``backend="dask"`` (default: a LocalCluster of
            ``number_processes`` single-threaded workers, closed afterwards).
        output: a folder for the results (see the module docstring); None keeps them in
            memory only.
        output_format: ``"csv"`` or ``"parquet"`` (needs pyarrow).
        number_processes: worker processes (``batch_run``) or local Dask workers.
        data_collection_period: keep every n-th collected step (1: all; -1: the last).
        display_progress: a progress bar counting finished runs.

    Returns:
        One row per run per collected step: ``RunId``, ``iteration``, ``Step``, the
        parameters, the seed, and the model reporters, sorted by ``RunId`` then ``Step``.

    Raises:
        TypeError: on a bad ``model`` or ``parameters`` type.
        ValueError: on an unknown parameter, an empty list of values, no seeds, a bad
            backend, format, ``max_steps`` or ``number_processes``, or an output folder
            holding another study — all before any run starts.
    """
    runs = study_runs(model, parameters, seeds)
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if output_format not in FORMATS:
        raise ValueError(f"output_format: expected one of {FORMATS}, got {output_format!r}")
    for name, value, low in (
        ("max_steps", max_steps, 0),
        ("number_processes", number_processes, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name}: expected an int >= {low}, got {value!r}")
    if client is not None and backend != "dask":
        raise ValueError("client: only used with backend='dask'")
    store = _Store(Path(output), output_format) if output is not None else None
    done: set[int] = set()
    if store is not None:
        store.check_same_study(runs)
        done = store.done()
    pending = [run for run in runs if run[0] not in done]
    results: dict[int, list[dict[str, Any]]] = {}
    if store is None:
        finish = results.__setitem__
    else:

        def finish(run_id: int, rows: list[dict[str, Any]]) -> None:
            store.write(run_id, rows)
            results[run_id] = rows

    process = partial(
        _model_run_func, model, max_steps=max_steps, data_collection_period=data_collection_period
    )
    with tqdm(
        total=len(runs), initial=len(runs) - len(pending), disable=not display_progress,
        desc="runs", unit="run",
    ) as bar:  # fmt: skip
        if backend == "batch_run":
            _run_local(process, pending, number_processes, finish, bar)
        else:
            _run_dask(process, pending, number_processes, client, finish, bar)
    if store is not None:
        table = store.combine(runs)
    else:
        rows = [row for run_id, _, _ in runs for row in results.get(run_id, [])]
        table = pd.DataFrame(rows)
    if not table.empty:
        table = table.sort_values(["RunId", "Step"], kind="stable").reset_index(drop=True)
    return table


def _run_local(process, pending, number_processes, finish, bar) -> None:
    """Mesa's batch runner: in this process, or a spawn pool as ``batch_run`` uses."""
    if number_processes == 1 or len(pending) <= 1:
        for run in pending:
            finish(run[0], process(run))
            bar.update()
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(number_processes) as pool:
        for run_id, rows in pool.imap_unordered(partial(_tagged, process), pending):
            finish(run_id, rows)
            bar.update()


def _tagged(process, run) -> tuple[int, list[dict[str, Any]]]:
    """``(RunId, rows)`` of one run (so unordered results find their run)."""
    return run[0], process(run)


def _run_dask(process, pending, number_processes, client, finish, bar) -> None:
    """The same run function on a Dask scheduler, written back as runs complete."""
    try:
        from distributed import Client, LocalCluster, as_completed  # noqa: PLC0415
    except ImportError as exc:
        raise ValueError(
            "backend: 'dask' needs the distributed package (pip install distributed)"
        ) from exc
    own = client is None
    cluster = None
    if own:
        cluster = LocalCluster(
            n_workers=number_processes, threads_per_worker=1, processes=True,
            dashboard_address=None,
        )  # fmt: skip
        client = Client(cluster)
    try:
        futures = {client.submit(process, run, pure=False): run for run in pending}
        for future in as_completed(futures):
            run = futures[future]
            finish(run[0], future.result())
            bar.update()
    finally:
        if own:
            client.close()
            cluster.close()
