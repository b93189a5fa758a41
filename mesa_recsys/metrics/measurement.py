"""Measurements: T-RECS's metric API, recorded through Mesa's DataCollector.

A :class:`Measurement` has a ``name`` and a ``measure(recommender)`` method that calls
``self.observe(value)``. Registered on a model (``measurements=[...]`` or
``add_metrics``), it becomes a model reporter of ``model.datacollector``: one column of
``get_model_vars_dataframe()``, one row per step, the first at construction (t=0).
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from mesa_recsys import matrix_ops as mo
from mesa_recsys.metrics._common import (
    UserSubset,
    check_user_subset,
    derived_from_factors,
    inner_product_factors,
    interaction_counts,
    resolve_users,
)
from mesa_recsys.metrics.diagnostics import Diagnostics

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
    number of users who interacted (T-RECS raises unless it sums to every user). Records
    None before the first step. The whole histogram is one cell of the DataCollector
    column. (T-RECS, ``metrics/measurement.py``, ``InteractionMeasurement``.)

    Args:
        name: column name.
        verbose: kept for T-RECS compatibility.
        users: count only these users' interactions (see ``mesa_recsys.metrics.by_group``).
    """

    def __init__(
        self,
        name: str = "interaction_histogram",
        verbose: bool = False,
        *,
        users: UserSubset = None,
    ) -> None:
        """Create the metric."""
        super().__init__(name, verbose)
        self.users = check_user_subset(users)

    @staticmethod
    def _generate_interaction_histogram(
        interactions: np.ndarray, num_users: int, num_items: int
    ) -> np.ndarray:
        valid = interactions[interactions >= 0]
        return np.bincount(valid, minlength=num_items).astype(float)

    def measure(self, recommender: Any) -> None:
        """Observe the histogram (None before the first step).

        Over every user, the step's counts are shared with the other metrics that count
        them (see :func:`~mesa_recsys.metrics._common.interaction_counts`).
        """
        inter = _interactions(recommender)
        if inter is None:
            self.observe(None)
            return
        if (
            self.users is None
            and type(self)._generate_interaction_histogram
            is InteractionMeasurement._generate_interaction_histogram
        ):
            self.observe(interaction_counts(recommender).astype(float), copy=False)
            return
        idx = resolve_users(self.users, recommender)
        if idx is not None:
            inter = inter[idx]
        self.observe(
            self._generate_interaction_histogram(
                inter, recommender.num_users, recommender.num_items
            ),
            copy=False,
        )


class MSEMeasurement(Measurement, Diagnostics):
    """Mean squared error between predicted and true scores over all users and items.

    ``mean((predicted_scores - actual_user_scores) ** 2)`` elementwise (T-RECS,
    ``MSEMeasurement``; T-RECS computes a matrix power instead when the scores are
    sparse). Computed a block of users at a time. Measured at t=0 too.

    With ``diagnostics=True`` each measurement also diagnoses, per user,
    ``(mean_i predicted - mean_i true)**2`` as T-RECS does (see
    :class:`~mesa_recsys.metrics.diagnostics.Diagnostics`: ``get_diagnostics()``,
    ``last_observation``, ``hist``).

    Args:
        verbose: kept for T-RECS compatibility.
        name: column name.
        diagnostics: also keep per-user summary statistics.
        users: average over these users only (see ``mesa_recsys.metrics.by_group``); NaN
            when the subset is empty.
        **diagnostics_kwargs: ``columns=`` for the diagnostics.
    """

    def __init__(
        self,
        verbose: bool = False,
        name: str = "mse",
        diagnostics: bool = False,
        *,
        users: UserSubset = None,
        **diagnostics_kwargs: Any,
    ) -> None:
        """Create the metric."""
        super().__init__(name, verbose)
        Diagnostics.__init__(self, **diagnostics_kwargs)
        self.diagnostics = bool(diagnostics)
        self.users = check_user_subset(users)

    def _mse(self, recommender: Any) -> float:
        pred = recommender.predicted_scores
        true = recommender.users.actual_user_scores
        num_users, num_items = pred.shape
        idx = resolve_users(getattr(self, "users", None), recommender)
        count = num_users if idx is None else idx.size
        diagnose = getattr(self, "diagnostics", False)
        per_user = np.empty(count) if diagnose else None
        if count == 0:
            return float("nan")
        fast = _factor_mse(pred, true, idx, diagnose, recommender)
        if fast is not None:
            total, gaps = fast
            if gaps is not None:
                self.diagnose(gaps)
            return total / (count * num_items)
        total = 0.0
        step = max(1, (1 << 22) // max(1, num_items))
        for start in range(0, count, step):
            rows = slice(start, start + step) if idx is None else idx[start : start + step]
            p_block = pred.block(rows)
            t_block = mo.to_dense(true.block(rows))
            diff = p_block - t_block
            total += float(np.sum(diff * diff))
            if per_user is not None:
                gap = p_block.mean(axis=1) - np.asarray(t_block).mean(axis=1)
                per_user[start : start + gap.size] = gap * gap
        if per_user is not None:
            self.diagnose(per_user)
        return total / (count * num_items)

    def measure(self, recommender: Any) -> None:
        """Observe the MSE."""
        self.observe(self._mse(recommender))


#: Attribute of the model holding its last factor-form MSE (see :func:`_factor_mse`): MSE and
#: RMSE on the same scores and users share one computation.
_MSE_ATTR = "_mesa_recsys_factor_mse"
#: Attribute of the model holding the users' Gram matrices of its last factor-form MSE, with
#: the (normalised) user factors and users they came from.
_GRAMS_ATTR = "_mesa_recsys_user_grams"


def _factor_mse(
    pred: Any, true: Any, idx: np.ndarray | None, diagnose: bool, owner: Any = None
) -> tuple[float, np.ndarray | None] | None:
    """Σ(P − T)² over the users ``idx`` without forming P or T, when both are inner products.

    With P = Û Î and T = V̂ J (rows of Û, V̂ unit-normalised),
    Σ P² = Σ (ÛᵀÛ) ∘ (ÎÎᵀ), Σ P∘T = Σ (ÛᵀV̂) ∘ (ÎJᵀ), Σ T² = Σ (V̂ᵀV̂) ∘ (JJᵀ): the cost is
    O((U + I)·A·A*) instead of O(U·I·A). Returns None (use the block path) when the scores
    are not both dense inner products, or when the sum is so small next to Σ P² + Σ T² that
    the subtraction would lose it (a near-perfect recommender).

    The result is kept on ``owner`` (the model) with the factors and users it came from, so
    the next call on the same scores (RMSE after MSE) reuses it; Σ T², which changes only
    with the true scores, is kept on the true-score component. The users' Gram matrices
    ÛᵀÛ, ÛᵀV̂ and V̂ᵀV̂, the O(U·A·A*) part, are kept on ``owner`` too while the normalised
    user factors are the same arrays (see :func:`~mesa_recsys.metrics._common.
    derived_from_factors`: a model that does not learn user profiles keeps them), so such a
    model's MSE costs O(I·A·A*) a step.
    """
    pf, tf = inner_product_factors(pred), inner_product_factors(true)
    if pf is None or tf is None:
        return None
    key = (pred._factors, true._factors)
    cached = getattr(owner, _MSE_ATTR, None)
    if (
        cached is not None
        and all(a is b for a, b in zip(cached[0], key, strict=True))
        and cached[2] >= diagnose
        and _same_users(cached[1], idx)
    ):
        return cached[3]
    (u, i), (v, j) = pf, tf
    uu, uv, vv = _user_grams(owner, u, v, idx)
    pp = float(np.sum(uu * (i @ i.T)))
    pt = float(np.sum(uv * (i @ j.T)))
    tt = _true_square_sum(true, vv, j, idx)
    total = pp - 2.0 * pt + tt
    result = None
    if total > 1e-6 * (pp + tt):
        gaps = None
        if diagnose:
            if idx is not None:
                u, v = u[idx], v[idx]
            gap = u @ i.mean(axis=1) - v @ j.mean(axis=1)
            gaps = gap * gap
        result = (total, gaps)
    with contextlib.suppress(AttributeError):
        setattr(owner, _MSE_ATTR, (key, None if idx is None else idx.copy(), diagnose, result))
    return result


def _user_grams(
    owner: Any, u: np.ndarray, v: np.ndarray, idx: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ÛᵀÛ, ÛᵀV̂ and V̂ᵀV̂ over the users ``idx``, kept on ``owner`` while u, v and idx are.

    V̂ᵀV̂ is kept while v and idx are (the true users rarely change; the estimates of a
    learning model change every step).
    """
    cached = getattr(owner, _GRAMS_ATTR, None)
    same_users = cached is not None and _same_users(cached[2], idx)
    if same_users and cached[0] is u and cached[1] is v:
        return cached[3]
    us, vs = (u, v) if idx is None else (u[idx], v[idx])
    kept = same_users and cached[1] is v  # the true users' Gram matrix is kept
    vv = cached[3][2] if kept else vs.T @ vs
    grams = (us.T @ us, us.T @ vs, vv)
    with contextlib.suppress(AttributeError):
        setattr(owner, _GRAMS_ATTR, (u, v, None if idx is None else idx.copy(), grams))
    return grams


def _same_users(cached: np.ndarray | None, idx: np.ndarray | None) -> bool:
    if cached is None or idx is None:
        return cached is None and idx is None
    return np.array_equal(cached, idx)


def _true_square_sum(true: Any, vv: np.ndarray, j: np.ndarray, idx: np.ndarray | None) -> float:
    """Σ (V̂ᵀV̂) ∘ (JJᵀ): kept on the true scores for all users (they rarely change)."""
    if idx is not None:
        return float(np.sum(vv * (j @ j.T)))
    derived = derived_from_factors(true)
    if derived is not None and "square_sum" in derived:
        return derived["square_sum"]
    tt = float(np.sum(vv * (j @ j.T)))
    if derived is not None:
        derived["square_sum"] = tt
    return tt


class RMSEMeasurement(MSEMeasurement):
    """Root of :class:`MSEMeasurement` (T-RECS, ``RMSEMeasurement``)."""

    def __init__(
        self, verbose: bool = False, name: str = "rmse", *, users: UserSubset = None
    ) -> None:
        """Create the metric."""
        super().__init__(verbose=verbose, name=name, users=users)

    def measure(self, recommender: Any) -> None:
        """Observe the RMSE."""
        self.observe(float(np.sqrt(self._mse(recommender))))
