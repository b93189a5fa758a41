"""Per-step summary statistics of a metric's per-user (or per-pair) values.

T-RECS's ``Diagnostics`` mixin (``metrics/measurement.py``): a metric built with
``diagnostics=True`` (``MSEMeasurement``, ``InteractionSimilarity``) also hands the vector
behind its value to :meth:`Diagnostics.diagnose` at every measurement; the statistics are
one row per measurement of :meth:`Diagnostics.get_diagnostics`, and the last vector is
:attr:`Diagnostics.last_observation` (for :meth:`Diagnostics.hist`, e.g. by user group).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_DIAGNOSTICS", "Diagnostics"]

#: Statistics computed by default, in column order.
DEFAULT_DIAGNOSTICS = (
    "mean",
    "std",
    "median",
    "min",
    "max",
    "skew",
    "kurtosis",
    "sw_stat",
    "sw_p",
    "n",
)

#: Shapiro–Wilk's p-value is not reliable from this many values on (scipy warns); it is NaN.
SHAPIRO_MAX_N = 5000


def _shapiro(values: np.ndarray) -> tuple[float, float]:
    """Shapiro–Wilk statistic and p-value; NaN where the test is undefined or unreliable."""
    if values.size < 3 or np.ptp(values) == 0:
        return float("nan"), float("nan")
    from scipy import stats  # noqa: PLC0415 (scipy.stats is slow to import)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scipy: p-value inaccurate for n > 5000
        result = stats.shapiro(values)
    p = float(result.pvalue) if values.size < SHAPIRO_MAX_N else float("nan")
    return float(result.statistic), p


def _moment(which: str, values: np.ndarray) -> float:
    """Skewness or excess kurtosis (scipy's); NaN for fewer than 2 distinct values."""
    if values.size < 2 or np.ptp(values) == 0:
        return float("nan")
    from scipy import stats  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # precision loss on near-constant data
        return float(getattr(stats, which)(values))


class Diagnostics:
    """Mixin: summary statistics of the vector behind each measurement.

    Args:
        columns: statistics to compute, among :data:`DEFAULT_DIAGNOSTICS` (all by default):
            mean, std (population), median, min, max, skew and kurtosis (Fisher, scipy),
            Shapiro–Wilk statistic and p-value (``sw_stat``, ``sw_p``; NaN with fewer than
            3 distinct values, and p NaN from 5,000 values on, as in T-RECS), n.

    Raises:
        ValueError: on an unknown column.
    """

    def __init__(self, columns: Sequence[str] | None = None) -> None:
        """Start with no diagnostics."""
        columns = list(DEFAULT_DIAGNOSTICS if columns is None else columns)
        unknown = [c for c in columns if c not in DEFAULT_DIAGNOSTICS]
        if unknown:
            raise ValueError(
                f"columns: unknown statistic(s) {unknown}; known: {list(DEFAULT_DIAGNOSTICS)}"
            )
        self.columns = columns
        self._diagnostic_rows: list[list[float]] = []
        self.last_observation: np.ndarray | None = None

    def diagnose(self, observation: np.ndarray) -> None:
        """Compute the statistics of ``observation`` and keep it as ``last_observation``.

        Raises:
            TypeError: when ``observation`` is not a numpy array.
            ValueError: when it is not 1-D.
        """
        if not isinstance(observation, np.ndarray):
            raise TypeError(
                f"observation: expected a 1-D numpy array, got {type(observation).__name__}"
            )
        if observation.ndim != 1:
            raise ValueError(f"observation: expected a 1-D array, got shape {observation.shape}")
        values = observation.astype(float)
        self.last_observation = observation
        sw = _shapiro(values) if {"sw_stat", "sw_p"} & set(self.columns) else (0.0, 0.0)
        empty = values.size == 0
        simple = {
            "mean": lambda v: np.nan if empty else float(np.mean(v)),
            "std": lambda v: np.nan if empty else float(np.std(v)),
            "median": lambda v: np.nan if empty else float(np.median(v)),
            "min": lambda v: np.nan if empty else float(np.min(v)),
            "max": lambda v: np.nan if empty else float(np.max(v)),
            "skew": lambda v: _moment("skew", v),
            "kurtosis": lambda v: _moment("kurtosis", v),
            "sw_stat": lambda v: sw[0],
            "sw_p": lambda v: sw[1],
            "n": lambda v: v.size,
        }
        self._diagnostic_rows.append([simple[c](values) for c in self.columns])

    def get_diagnostics(self) -> pd.DataFrame:
        """One row of statistics per diagnosed measurement."""
        return pd.DataFrame(self._diagnostic_rows, columns=self.columns)

    def hist(self, split_indices: Sequence[int] | None = None) -> None:
        """Histogram(s) of ``last_observation`` on the current matplotlib axes.

        Args:
            split_indices: positions that cut the values into consecutive groups (e.g.
                ``[150]`` for users 0–149 and 150–end), one coloured histogram each (at
                most 4 cuts); None or empty draws one histogram.

        Raises:
            RuntimeError: with more than 4 cuts (as T-RECS) or before any observation.
        """
        import matplotlib.pyplot as plt  # noqa: PLC0415 (only when drawing)

        if self.last_observation is None:
            raise RuntimeError("hist: nothing has been diagnosed yet")
        split_indices = list(split_indices or [])
        if len(split_indices) > 4:
            raise RuntimeError("split_indices: at most 4 split indices")
        values = self.last_observation
        if split_indices:
            colors = ["blue", "orange", "red", "yellow", "green"]
            cuts = [0, *split_indices, values.size]
            for i in range(len(cuts) - 1):
                plt.hist(values[cuts[i] : cuts[i + 1]], alpha=0.7, color=colors[i])
        else:
            plt.hist(values, bins="auto")
        plt.ylabel(f"observation count (total n={values.size})")
