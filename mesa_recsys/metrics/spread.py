"""How widely this step's interactions are spread over the catalogue.

T-RECS's ``InteractionSpread`` sorts the step's interaction histogram h in decreasing
order and reports ``trapz(h_previous) - trapz(h)``. With unit spacing
``trapz(h) = sum(h) - (h[0] + h[-1]) / 2`` and ``sum(h)`` is the number of interacting
users, so the value reduces to ``(max_t + min_t)/2 - (max_{t-1} + min_{t-1})/2``: a
difference of two histogram entries, which says little about spread. That value is kept
as :class:`InteractionSpreadTRECS` (column ``"interaction_spread_trecs"``);
:class:`InteractionSpread` reports a real spread measure under T-RECS's name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mesa_recsys.metrics._common import (
    UserSubset,
    check_user_subset,
    current_interactions,
    interaction_counts,
    resolve_users,
)
from mesa_recsys.metrics.measurement import Measurement

__all__ = ["InteractionSpread", "InteractionSpreadTRECS", "effective_number_of_items"]


def _histogram(recommender: Any, users: UserSubset) -> np.ndarray | None:
    if users is None:  # the step's counts, shared with the other metrics that count them
        counts = interaction_counts(recommender)
        return None if counts is None else counts.astype(float)
    inter = current_interactions(recommender)
    if inter is None:
        return None
    idx = resolve_users(users, recommender)
    if idx is not None:
        inter = inter[idx]
    return np.bincount(inter[inter >= 0], minlength=recommender.num_items).astype(float)


def effective_number_of_items(histogram: np.ndarray) -> float:
    """The exponential of the Shannon entropy of the interaction shares (Hill number of order 1).

    It is 1 when every interaction goes to one item and n when n items get equal shares;
    in general it is the number of equally popular items that would have the same entropy
    (Hill 1973, "Diversity and evenness: a unifying notation").

    Args:
        histogram: non-negative interaction counts per item.

    Returns:
        the effective number of items, or NaN when the histogram is all zeros.

    Raises:
        ValueError: when ``histogram`` has a negative entry.
    """
    counts = np.asarray(histogram, dtype=float)
    if counts.size and counts.min() < 0:
        raise ValueError("histogram: expected non-negative counts")
    total = counts.sum()
    if total <= 0:
        return float("nan")
    shares = counts[counts > 0] / total
    return float(np.exp(-np.sum(shares * np.log(shares))))


class InteractionSpread(Measurement):
    """Spread of this step's interactions: the effective number of items consumed.

    The value is ``exp(H)`` with H the Shannon entropy of the step's interaction shares
    (see :func:`effective_number_of_items`): 1 when every user chose the same item, the
    number of interacting users when they all chose different items. T-RECS's metric of
    this name reports a difference of two histogram entries instead (see the module
    docstring); that value is :class:`InteractionSpreadTRECS`. None before the first step;
    NaN in a step where nobody interacted.

    Args:
        verbose: kept for T-RECS compatibility.
        name: column name.
        users: count only these users' interactions.
    """

    def __init__(
        self, verbose: bool = False, name: str = "interaction_spread", *, users: UserSubset = None
    ) -> None:
        """Create the metric."""
        super().__init__(name, verbose)
        self.users = check_user_subset(users)
        self.histogram: np.ndarray | None = None

    def measure(self, recommender: Any) -> None:
        """Observe the effective number of items."""
        hist = _histogram(recommender, self.users)
        if hist is None:
            self.observe(None)
            return
        self.histogram = hist
        self.observe(effective_number_of_items(hist))


class InteractionSpreadTRECS(Measurement):
    """T-RECS's ``InteractionSpread`` value, kept for comparisons with T-RECS results.

    With h the step's interaction histogram sorted in decreasing order, the value is
    ``trapz(h_prev) - trapz(h)`` (unit spacing), h_prev being the previous measured
    histogram, all zeros the first time (so the first value is ``-trapz(h)``). It equals
    ``(h[0] + h[-1])/2 - (h_prev[0] + h_prev[-1])/2 + sum(h_prev) - sum(h)``: a difference
    of histogram entries, not a spread (T-RECS, ``metrics/measurement.py``,
    ``InteractionSpread``). Use :class:`InteractionSpread` for a spread measure. None
    before the first step.

    Args:
        verbose: kept for T-RECS compatibility.
        name: column name.
    """

    def __init__(self, verbose: bool = False, name: str = "interaction_spread_trecs") -> None:
        """Create the metric."""
        super().__init__(name, verbose)
        self.histogram: np.ndarray | None = None
        self._old_histogram: np.ndarray | None = None

    @staticmethod
    def _area(h: np.ndarray) -> float:
        # trapezoid rule with unit spacing
        return float(h.sum() - (h[0] + h[-1]) / 2.0) if h.size else 0.0

    def measure(self, recommender: Any) -> None:
        """Observe the change in area under the sorted histogram."""
        hist = _histogram(recommender, None)
        if hist is None:
            self.observe(None)
            return
        hist = np.sort(hist)[::-1]
        old = self._old_histogram
        if old is None:
            old = np.zeros(recommender.num_items)
        self.observe(self._area(old) - self._area(hist))
        self._old_histogram = hist.copy()
        self.histogram = hist
