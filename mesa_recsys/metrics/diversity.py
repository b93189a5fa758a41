"""Diversity of what is shown and consumed.

AFSR, catalogue coverage, the Gini coefficient of item popularity, and the mean pairwise
distance between consumed items.

:class:`AverageFeatureScoreRange` is T-RECS's metric; the others are the usual measures of
recommender-system studies (definitions in each docstring). All are whole-array numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from mesa_recsys import matrix_ops as mo
from mesa_recsys.metrics import _kernels
from mesa_recsys.metrics._common import (
    ShownLists,
    UserSubset,
    block_rows,
    check_choice,
    check_user_subset,
    current_interactions,
    current_items_shown,
    interaction_counts,
    resolve_users,
    shown_lists,
)
from mesa_recsys.metrics.measurement import Measurement

__all__ = [
    "AverageFeatureScoreRange",
    "CatalogCoverage",
    "ItemPopularityGini",
    "MeanPairwiseDistance",
    "gini",
    "mean_pairwise_distance",
]


def _rows(recommender: Any, users: UserSubset) -> np.ndarray:
    idx = resolve_users(users, recommender)
    return np.arange(recommender.num_users) if idx is None else idx


def _of_users(values: np.ndarray, recommender: Any, users: UserSubset) -> np.ndarray:
    """The rows of a per-user array that belong to ``users`` (the array itself for all)."""
    idx = resolve_users(users, recommender)
    return values if idx is None else values[idx]


class AverageFeatureScoreRange(Measurement):
    """Average feature score range (AFSR) of the lists shown this step.

    T-RECS's value (``per_feature=False``, the default): for each user, the largest minus
    the smallest ``items_hat`` entry over *all* attributes of the items in the user's list;
    the mean over users (T-RECS, ``AverageFeatureScoreRange``). Willemsen, Graus and
    Knijnenburg (2016, "Understanding the role of latent feature diversification on choice
    difficulty and satisfaction", UMUAI 26(4)) define AFSR per feature: for each attribute,
    the range of its values over the list, averaged over attributes; ``per_feature=True``
    gives that. None before the first step.

    Args:
        name: column name.
        verbose: kept for T-RECS compatibility.
        per_feature: Willemsen et al.'s per-attribute range instead of T-RECS's global one.
        users: average over these users only.
    """

    def __init__(
        self,
        name: str = "afsr",
        verbose: bool = False,
        per_feature: bool = False,
        *,
        users: UserSubset = None,
    ) -> None:
        """Create the metric."""
        super().__init__(name, verbose)
        self.per_feature = bool(per_feature)
        self.users = check_user_subset(users)

    def measure(self, recommender: Any) -> None:
        """Observe the mean range.

        T-RECS's value reads the lists as the other list metrics do, once per step (see
        :func:`~mesa_recsys.metrics._common.shown_lists`).
        """
        if not self.per_feature:
            lists = shown_lists(recommender)
            if lists is None:
                self.observe(None)
                return
            rows = _rows(recommender, self.users)
            items_hat = mo.extract_value(recommender.items_hat)
            self.observe(_global_range(items_hat, lists, rows))
            return
        shown = current_items_shown(recommender)
        if shown is None:
            self.observe(None)
            return
        rows = _rows(recommender, self.users)
        items_hat = mo.extract_value(recommender.items_hat)
        rows = rows[(shown[rows] >= 0).all(axis=1)]
        if rows.size == 0:
            self.observe(float("nan"))
            return
        # item-major dense copy of the attributes of the items shown (n_distinct × A)
        used, inverse = np.unique(shown[rows], return_inverse=True)
        attrs = np.asarray(mo.to_dense(items_hat[:, used]), dtype=float).T
        inverse = inverse.reshape(rows.size, shown.shape[1])
        total = 0.0
        step = block_rows(shown.shape[1] * attrs.shape[1])
        for start in range(0, rows.size, step):
            lists = attrs[inverse[start : start + step]]  # b × N × A
            ranges = (lists.max(axis=1) - lists.min(axis=1)).mean(axis=1)
            total += float(ranges.sum())
        self.observe(total / rows.size)


def _global_range(items_hat: Any, lists: ShownLists, rows: np.ndarray) -> float:
    """T-RECS's AFSR: mean over ``rows`` of max − min of ``items_hat`` over the list's items.

    The largest and smallest attribute of every item are taken once (A×I), then each list
    needs only its N items' two numbers (one range per distinct list of items when there
    are few, see :meth:`~mesa_recsys.metrics._common.ShownLists.ranges`). Users whose list
    has padding are left out; NaN when none is left.
    """
    shown = lists.shown
    if sparse.issparse(items_hat):  # implicit zeros count, as in the dense matrix
        item_max = items_hat.max(axis=0).toarray().ravel()
        item_min = items_hat.min(axis=0).toarray().ravel()
    else:
        dense = np.asarray(items_hat, dtype=float)
        item_max, item_min = dense.max(axis=0), dense.min(axis=0)
    ranges, _ = lists.ranges(item_max, item_min, rows)
    if ranges.size == 0:
        return float("nan")
    total = 0.0
    # summed in the blocks the users × items × attributes version summed them in
    step = block_rows(shown.shape[1] * items_hat.shape[0])
    for start in range(0, ranges.size, step):
        total += float(ranges[start : start + step].sum())
    return total / ranges.size


class CatalogCoverage(Measurement):
    """Share of the catalogue reached: items shown (or chosen) / number of items.

    With ``of="shown"`` an item counts when it is in at least one user's list; with
    ``of="interactions"`` when at least one user chose it. ``cumulative=True`` counts every
    step so far instead of this step only (Ge, Delgado-Battenfeld and Jannach 2010,
    "Beyond accuracy: evaluating recommender systems by coverage and serendipity"). The
    denominator is the current catalogue. None before the first step.

    Args:
        of: ``"shown"`` or ``"interactions"``.
        cumulative: count every step since the metric was added.
        name: column name (default ``"coverage_shown"`` / ``"coverage_interactions"``,
            prefixed ``"cumulative_"`` when cumulative).
        users: count only these users' lists or choices.
    """

    def __init__(
        self,
        of: str = "shown",
        cumulative: bool = False,
        name: str | None = None,
        *,
        users: UserSubset = None,
    ) -> None:
        """Create the metric."""
        self.of = check_choice("of", of, ("shown", "interactions"))
        self.cumulative = bool(cumulative)
        default = ("cumulative_" if self.cumulative else "") + f"coverage_{self.of}"
        super().__init__(name or default, False)
        self.users = check_user_subset(users)
        self._reached = np.zeros(0, dtype=bool)

    def measure(self, recommender: Any) -> None:
        """Observe the covered share.

        The items shown to every user are marked once per step for every metric that reads
        the lists (see :func:`~mesa_recsys.metrics._common.shown_lists`).
        """
        num_items = recommender.num_items
        if self.of == "shown" and self.users is None:
            lists = shown_lists(recommender)
            if lists is None:
                self.observe(None)
                return
            if not self.cumulative:
                self.observe(float(lists.num_distinct) / num_items)
                return
            now = lists.marked
        else:
            source = (
                current_items_shown(recommender)
                if self.of == "shown"
                else current_interactions(recommender)
            )
            if source is None:
                self.observe(None)
                return
            items = _of_users(source, recommender, self.users)
            now = np.zeros(num_items, dtype=bool)
            _kernels.mark_items(items, now)
        if self.cumulative:
            reached = np.zeros(num_items, dtype=bool)
            reached[: self._reached.size] = self._reached
            now |= reached
            self._reached = now
        self.observe(float(np.count_nonzero(now)) / num_items)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = all equal, → 1 = all in one entry).

    G = Σ_i (2i − n − 1) x_(i) / (n Σ x), with x sorted in increasing order and i = 1..n
    (the mean absolute difference over all pairs divided by twice the mean).

    Args:
        values: non-negative numbers.

    Returns:
        G in [0, 1 − 1/n]; NaN when the values sum to 0 or there are none.

    Raises:
        ValueError: when ``values`` has a negative entry or is not 1-D.
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"values: expected a 1-D array, got shape {x.shape}")
    if x.size and x.min() < 0:
        raise ValueError("values: expected non-negative values")
    total = x.sum()
    if x.size == 0 or total <= 0:
        return float("nan")
    x = np.sort(x)
    n = x.size
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    return float(weights @ x / (n * total))


class ItemPopularityGini(Measurement):
    """Gini coefficient of item popularity (interactions per item).

    Popularity is each item's number of interactions since the start of the simulation
    (``cumulative=True``, the model's ``items.interaction_counts``, which items created
    later start at 0 in) or in this step only. High values mean a few items take most
    interactions (popularity bias; Fleder and Hosanagar 2009, "Blockbuster culture's next
    rise or fall"). None before any interaction has happened.

    Args:
        cumulative: count all steps so far (True) or this step only.
        name: column name (default ``"popularity_gini"``, or ``"step_popularity_gini"``).
        users: count only these users' interactions (this-step counts are then used for
            each step and summed over the steps the metric saw when cumulative).
    """

    def __init__(
        self, cumulative: bool = True, name: str | None = None, *, users: UserSubset = None
    ) -> None:
        """Create the metric."""
        self.cumulative = bool(cumulative)
        super().__init__(name or ("popularity_gini" if cumulative else "step_popularity_gini"))
        self.users = check_user_subset(users)
        self._counts = np.zeros(0, dtype=np.int64)

    def measure(self, recommender: Any) -> None:
        """Observe the Gini coefficient."""
        inter = current_interactions(recommender)
        if inter is None:
            self.observe(None)
            return
        num_items = recommender.num_items
        if self.cumulative and self.users is None:
            counts = np.asarray(recommender.items.interaction_counts)
        else:
            chosen = _of_users(inter, recommender, self.users)
            counts = np.bincount(chosen[chosen >= 0], minlength=num_items)
            if self.cumulative:
                counts[: self._counts.size] += self._counts
                self._counts = counts
        self.observe(gini(counts))


def mean_pairwise_distance(vectors: Any, metric: str = "cosine") -> float:
    """Mean distance over all ordered pairs of distinct rows of an m×A matrix, in O(m·A).

    ``"cosine"``: d = 1 − cos(x_i, x_j), from ‖Σ x̂_i‖² = m + Σ_{i≠j} cos(x_i, x_j); an
    all-zero row has cosine 0 with everything. ``"sqeuclidean"``: d = ‖x_i − x_j‖², whose
    pair mean is 2m/(m − 1) times the total variance (sum of per-attribute variances,
    dividing by m). Rows are vectors, repeats included (two users who chose the same item
    are a pair at distance 0).

    Args:
        vectors: m×A dense or sparse matrix, m ≥ 2.
        metric: ``"cosine"`` or ``"sqeuclidean"``.

    Returns:
        the mean pairwise distance; NaN when m < 2.

    Raises:
        ValueError: on an unknown ``metric`` or a ``vectors`` that is not 2-D.
    """
    check_choice("metric", metric, ("cosine", "sqeuclidean"))
    x = mo.to_dense(vectors) if sparse.issparse(vectors) else np.asarray(vectors)
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"vectors: expected an m×A matrix, got shape {x.shape}")
    m = x.shape[0]
    if m < 2:
        return float("nan")
    if metric == "cosine":
        unit = mo.normalize_matrix(x)
        s = unit.sum(axis=0)
        self_sim = float(np.count_nonzero(np.linalg.norm(x, axis=1) > 0))
        mean_cos = (float(s @ s) - self_sim) / (m * (m - 1))
        return 1.0 - mean_cos
    variance = float(x.var(axis=0).sum())
    return 2.0 * m / (m - 1) * variance


class MeanPairwiseDistance(Measurement):
    """Mean pairwise distance between the items users chose this step (homogenization).

    The items chosen this step (one per interacting user, repeats kept) are compared pair
    by pair with :func:`mean_pairwise_distance` on their true attributes (``attributes=
    "true"``) or on the recommender's ``items_hat`` (``"predicted"``). Low values mean the
    users consume similar items. None before the first step; NaN with fewer than 2
    interacting users.

    Args:
        metric: ``"cosine"`` or ``"sqeuclidean"``.
        attributes: ``"true"`` or ``"predicted"``.
        name: column name (default ``"mean_pairwise_distance"``).
        users: use only these users' choices.
    """

    def __init__(
        self,
        metric: str = "cosine",
        attributes: str = "true",
        name: str = "mean_pairwise_distance",
        *,
        users: UserSubset = None,
    ) -> None:
        """Create the metric."""
        super().__init__(name)
        self.metric = check_choice("metric", metric, ("cosine", "sqeuclidean"))
        self.attributes = check_choice("attributes", attributes, ("true", "predicted"))
        self.users = check_user_subset(users)

    def measure(self, recommender: Any) -> None:
        """Observe the mean pairwise distance."""
        if self.users is None:  # the step's counts, shared with the metrics that count them
            counts = interaction_counts(recommender)
            if counts is None:
                self.observe(None)
                return
        else:
            inter = current_interactions(recommender)
            if inter is None:
                self.observe(None)
                return
            chosen = _of_users(inter, recommender, self.users)
            counts = np.bincount(chosen[chosen >= 0])
        # distinct items once (ascending), then weight by how many users chose each
        used = np.flatnonzero(counts)
        counts = counts[used]
        if counts.sum() < 2:
            self.observe(float("nan"))
            return
        source = recommender.items if self.attributes == "true" else recommender.items_hat
        matrix = mo.extract_value(source)
        vectors = np.asarray(mo.to_dense(matrix[:, used]), dtype=float).T
        self.observe(_weighted_mean_pairwise_distance(vectors, counts, self.metric))


def _weighted_mean_pairwise_distance(vectors: np.ndarray, counts: np.ndarray, metric: str) -> float:
    """:func:`mean_pairwise_distance` of the rows repeated ``counts`` times, without repeating."""
    w = counts.astype(float)
    m = w.sum()
    if metric == "cosine":
        unit = mo.normalize_matrix(vectors)
        s = w @ unit
        nonzero = np.linalg.norm(vectors, axis=1) > 0
        return 1.0 - (float(s @ s) - float(w[nonzero].sum())) / (m * (m - 1))
    mean = w @ vectors / m
    variance = float((w @ (vectors - mean) ** 2).sum() / m)
    return 2.0 * m / (m - 1) * variance
