"""Measurements: T-RECS's metric API, recorded through Mesa's DataCollector.

A :class:`Measurement` has a ``name`` and a ``measure(recommender)`` method that calls
``self.observe(value)``. Registered on a model (``measurements=[...]`` or
``add_metrics``), it becomes a model reporter of ``model.datacollector``: one column of
``get_model_vars_dataframe()``, one row per step, the first at construction (t=0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mesa_recsys import matrix_ops as mo

__all__ = [
    "InteractionMeasurement",
    "MSEMeasurement",
    "Measurement",
    "RMSEMeasurement",
]


class Measurement:
    """Base class of metrics: subclass it and implement :meth:`measure`.

    Args:
        name: column name in the DataCollector and key in ``get_measurements()``.
        verbose: kept for T-RECS compatibility.
    """

    def __init__(self, name: str, verbose: bool = False) -> None:
        """Create an empty history."""
        self.name = name
        self.verbose = verbose
        self.measurement_history: list[Any] = []

    def measure(self, recommender: Any) -> None:
        """Compute the metric on ``recommender`` and ``observe`` it.

        Args:
            recommender: the model being measured.
        """
        raise NotImplementedError

    def observe(self, observation: Any, copy: bool = True) -> None:
        """Record one value (``None`` when there is nothing to measure yet)."""
        if copy and isinstance(observation, np.ndarray | list):
            observation = np.copy(observation)
        self.measurement_history.append(observation)

    def get_measurement(self) -> dict[str, list] | None:
        """``{name: history}``, or None before the first value."""
        return {self.name: self.measurement_history} if self.measurement_history else None

    def get_timesteps(self) -> int:
        """Number of recorded values."""
        return len(self.measurement_history)

    def __call__(self, model: Any) -> Any:
        """Measure ``model`` once per model time and return the value (the reporter hook).

        The DataCollector may call a reporter more than once at the same time (it
        validates reporters by calling them); the metric is measured only once.
        """
        key = (id(model), model.time)
        if getattr(self, "_last_key", None) == key:
            return self.measurement_history[-1]
        before = len(self.measurement_history)
        self.measure(model)
        if len(self.measurement_history) == before:
            self.measurement_history.append(None)
        self._last_key = key
        return self.measurement_history[-1]

    def __repr__(self) -> str:
        """Name."""
        return f"<{type(self).__name__} {self.name!r}>"


def _interactions(recommender: Any) -> np.ndarray | None:
    inter = recommender.interactions
    return None if inter.size == 0 or inter.ndim != 1 else inter


class InteractionMeasurement(Measurement):
    """Histogram of this step's interactions: entry i = number of users who chose item i.

    Users who did not interact this step are not counted, so the histogram sums to the
    number of users who interacted. Records None before the first step. (T-RECS,
    ``metrics/measurement.py``, ``InteractionMeasurement``.)
    """

    def __init__(self, name: str = "interaction_histogram", verbose: bool = False) -> None:
        """Create the metric."""
        super().__init__(name, verbose)

    @staticmethod
    def _generate_interaction_histogram(
        interactions: np.ndarray, num_users: int, num_items: int
    ) -> np.ndarray:
        valid = interactions[interactions >= 0]
        return np.bincount(valid, minlength=num_items).astype(float)

    def measure(self, recommender: Any) -> None:
        """Observe the histogram (None before the first step)."""
        inter = _interactions(recommender)
        if inter is None:
            self.observe(None)
            return
        self.observe(
            self._generate_interaction_histogram(
                inter, recommender.num_users, recommender.num_items
            ),
            copy=False,
        )


class MSEMeasurement(Measurement):
    """Mean squared error between predicted and true scores over all users and items.

    ``mean((predicted_scores - actual_user_scores) ** 2)`` elementwise (T-RECS computes a
    matrix power instead when the scores are sparse). Computed a block of users at a time.
    """

    def __init__(self, verbose: bool = False, name: str = "mse") -> None:
        """Create the metric."""
        super().__init__(name, verbose)

    @staticmethod
    def _mse(recommender: Any) -> float:
        pred = recommender.predicted_scores
        true = recommender.users.actual_user_scores
        num_users, num_items = pred.shape
        total = 0.0
        step = max(1, (1 << 22) // max(1, num_items))
        for start in range(0, num_users, step):
            rows = slice(start, start + step)
            diff = pred.block(rows) - mo.to_dense(true.block(rows))
            total += float(np.sum(diff * diff))
        return total / (num_users * num_items)

    def measure(self, recommender: Any) -> None:
        """Observe the MSE."""
        self.observe(self._mse(recommender))


class RMSEMeasurement(MSEMeasurement):
    """Root of :class:`MSEMeasurement`."""

    def __init__(self, verbose: bool = False, name: str = "rmse") -> None:
        """Create the metric."""
        super().__init__(verbose=verbose, name=name)

    def measure(self, recommender: Any) -> None:
        """Observe the RMSE."""
        self.observe(float(np.sqrt(self._mse(recommender))))
