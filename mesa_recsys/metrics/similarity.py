"""Homogenization metrics: Jaccard similarity of what pairs of users consume or are shown.

- :class:`InteractionSimilarity` and :class:`RecSimilarity` are T-RECS's metrics over a
  fixed list of user pairs (``metrics/measurement.py``).
- :class:`SimilarUserJaccard` is Chaney, Stewart and Engelhardt's measure (2018, "How
  algorithmic confounding in recommendation systems increases homogeneity and decreases
  utility", as replicated in the T-RECS paper, arXiv 2107.08959): every user is paired with
  the user the recommender currently thinks most similar (cosine similarity of the
  estimated user profiles), and the pairs' cumulative interaction sets are compared.

The Jaccard index of two sets is |A ∩ B| / |A ∪ B|; a pair whose two sets are both empty
has no defined index and is left out of the mean (NaN when no pair is defined).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from mesa_recsys import matrix_ops as mo
from mesa_recsys.metrics._common import (
    UserSubset,
    block_rows,
    check_pairs,
    check_pairs_in_range,
    check_user_subset,
    current_interactions,
    current_items_shown,
    item_sets,
    mean_or_nan,
    pair_jaccard,
    resolve_users,
    union_sets,
)
from mesa_recsys.metrics.diagnostics import Diagnostics
from mesa_recsys.metrics.measurement import Measurement

__all__ = [
    "InteractionSimilarity",
    "RecSimilarity",
    "SimilarUserJaccard",
    "most_similar_users",
]


class _CumulativeInteractions:
    """Each user's set of items interacted with since the metric was first measured."""

    def __init__(self) -> None:
        self.sets: sparse.csr_matrix | None = None

    def update(self, recommender: Any, inter: np.ndarray) -> sparse.csr_matrix:
        users = np.arange(inter.size)
        new = item_sets(users, inter, recommender.num_users, recommender.num_items)
        self.sets = new if self.sets is None else union_sets(self.sets, new)
        return self.sets


class InteractionSimilarity(Measurement, Diagnostics):
    """Mean Jaccard index of the cumulative interaction sets of given user pairs.

    S_u is the set of items user u interacted with since this metric was added; the value
    is the mean over ``pairs`` of |S_a ∩ S_b| / |S_a ∪ S_b| (T-RECS,
    ``InteractionSimilarity``). None before the first step.

    Args:
        pairs: P×2 user indices (ordered or unordered pairs: each row counts once).
        name: column name.
        verbose: kept for T-RECS compatibility.
        diagnostics: also keep summary statistics of the per-pair indices (T-RECS's
            option; see :class:`~mesa_recsys.metrics.diagnostics.Diagnostics`).
        **diagnostics_kwargs: ``columns=`` for the diagnostics.

    Raises:
        ValueError: on malformed ``pairs``; at measurement time when a pair names a user
            the model does not have.
    """

    def __init__(
        self,
        pairs: Any,
        name: str = "interaction_similarity",
        verbose: bool = False,
        diagnostics: bool = False,
        **diagnostics_kwargs: Any,
    ) -> None:
        """Create the metric."""
        super().__init__(name, verbose)
        Diagnostics.__init__(self, **diagnostics_kwargs)
        self.diagnostics = bool(diagnostics)
        self.pairs = check_pairs(pairs)
        self._history = _CumulativeInteractions()
        self.last_pair_values: np.ndarray | None = None

    def measure(self, recommender: Any) -> None:
        """Add this step's interactions to the sets and observe the mean Jaccard index."""
        inter = current_interactions(recommender)
        if inter is None:
            self.observe(None)
            return
        check_pairs_in_range(self.pairs, recommender.num_users)
        sets = self._history.update(recommender, inter)
        self.last_pair_values = pair_jaccard(sets, self.pairs)
        self.observe(mean_or_nan(self.last_pair_values))
        if self.diagnostics:
            self.diagnose(self.last_pair_values)


class RecSimilarity(Measurement):
    """Mean Jaccard index of the sets of items shown this step to given user pairs.

    S_u = set of items in user u's list this step (T-RECS, ``RecSimilarity``). None before
    the first step.

    Args:
        pairs: P×2 user indices.
        name: column name.
        verbose: kept for T-RECS compatibility.

    Raises:
        ValueError: on malformed ``pairs``; at measurement time when a pair names a user
            the model does not have.
    """

    def __init__(self, pairs: Any, name: str = "rec_similarity", verbose: bool = False) -> None:
        """Create the metric."""
        super().__init__(name, verbose)
        self.pairs = check_pairs(pairs)
        self.last_pair_values: np.ndarray | None = None

    def measure(self, recommender: Any) -> None:
        """Observe the mean Jaccard index of the pairs' lists."""
        shown = current_items_shown(recommender)
        if shown is None:
            self.observe(None)
            return
        check_pairs_in_range(self.pairs, recommender.num_users)
        users = np.repeat(np.arange(shown.shape[0]), shown.shape[1])
        sets = item_sets(users, shown.ravel(), recommender.num_users, recommender.num_items)
        self.last_pair_values = pair_jaccard(sets, self.pairs)
        self.observe(mean_or_nan(self.last_pair_values))


def most_similar_users(profiles: Any, users: np.ndarray | None = None) -> np.ndarray:
    """For each user, the other user whose profile has the highest cosine similarity.

    Computed a block of users at a time (never U×U at once). All-zero profiles have
    similarity 0 with everyone; ties go to the lowest index.

    Args:
        profiles: U×A user profiles (dense or sparse), U ≥ 2.
        users: the users to find partners for (default: all).

    Returns:
        one partner index per requested user.

    Raises:
        ValueError: when ``profiles`` is not 2-D or has fewer than 2 rows.
    """
    profiles = mo.extract_value(profiles)
    if len(profiles.shape) != 2 or profiles.shape[0] < 2:
        raise ValueError(
            f"profiles: expected a U×A matrix with U ≥ 2, got shape {tuple(profiles.shape)}"
        )
    num_users = profiles.shape[0]
    if sparse.issparse(profiles):
        unit = sparse.csr_matrix(mo.normalize_matrix(sparse.csr_matrix(profiles, dtype=float)))
    else:
        unit = mo.normalize_matrix(np.asarray(profiles, dtype=float))
    wanted = np.arange(num_users) if users is None else np.asarray(users, dtype=np.int64)
    if 2 * wanted.size >= num_users:
        # most users wanted: score each pair once (the similarity matrix is symmetric)
        return _most_similar_all(unit, num_users)[wanted]
    out = np.empty(wanted.size, dtype=np.int64)
    step = block_rows(num_users)
    for start in range(0, wanted.size, step):
        rows = wanted[start : start + step]
        sims = np.asarray(mo.to_dense(unit[rows] @ unit.T), dtype=float)
        sims[np.arange(rows.size), rows] = -np.inf
        out[start : start + rows.size] = np.argmax(sims, axis=1)
    return out


def _most_similar_all(unit: Any, num_users: int) -> np.ndarray:
    """Every user's most similar other user, each pair's similarity computed once.

    Block of rows r = [s, e) against columns [s, U): the row maxima are r's best partners
    at or after s, the column maxima beyond e are later users' best partners within r.
    Merging keeps the higher similarity and, on equal values, the lower index.
    """
    best = np.full(num_users, -np.inf)
    best_idx = np.full(num_users, num_users, dtype=np.int64)

    def merge(users: np.ndarray, values: np.ndarray, partners: np.ndarray) -> None:
        better = (values > best[users]) | ((values == best[users]) & (partners < best_idx[users]))
        best[users[better]] = values[better]
        best_idx[users[better]] = partners[better]

    step = block_rows(num_users)
    for start in range(0, num_users, step):
        stop = min(num_users, start + step)
        sims = np.asarray(mo.to_dense(unit[start:stop] @ unit[start:].T), dtype=float)
        local = np.arange(stop - start)
        sims[local, local] = -np.inf
        rows = np.arange(start, stop)
        arg = np.argmax(sims, axis=1)
        merge(rows, sims[local, arg], start + arg)
        if stop < num_users:
            later = sims[:, stop - start :]
            arg = np.argmax(later, axis=0)
            merge(np.arange(stop, num_users), later[arg, np.arange(later.shape[1])], start + arg)
    return best_idx


class SimilarUserJaccard(Measurement):
    """Chaney et al.'s homogenization: Jaccard index of each user and their most similar user.

    At each measurement, every user u is paired with v(u) = the other user with the
    highest cosine similarity between the recommender's *current* estimates of user
    profiles (``users_hat``; ties go to the lowest index). The value is the mean over u of
    |S_u ∩ S_v(u)| / |S_u ∪ S_v(u)|, S_u being u's cumulative set of interacted items since
    the metric was added (Chaney, Stewart, Engelhardt 2018, §5; T-RECS paper §5.1). The
    paper's "change in Jaccard index" is this value minus the same value for an
    ``IdealRecommender`` run. None before the first step.

    Finding the partners costs O(U²·A) (computed a block of users at a time); they are
    kept and reused while the estimates do not change (a model that does not learn user
    profiles, such as popularity or ideal, pays it once).

    Args:
        name: column name.
        verbose: kept for T-RECS compatibility.
        users: average over these users only (partners may be any user).
    """

    def __init__(
        self,
        name: str = "similar_user_jaccard",
        verbose: bool = False,
        *,
        users: UserSubset = None,
    ) -> None:
        """Create the metric."""
        super().__init__(name, verbose)
        self.users = check_user_subset(users)
        self._history = _CumulativeInteractions()
        self.last_pairs: np.ndarray | None = None
        self._partners: tuple | None = None

    def _cached_partners(self, profiles: Any, idx: np.ndarray) -> np.ndarray | None:
        """The last partners if neither the estimates nor the users changed since (O(U·A))."""
        if self._partners is None:
            return None
        old, old_idx, partners = self._partners
        if old.shape != profiles.shape or not np.array_equal(old_idx, idx):
            return None
        if sparse.issparse(old) or sparse.issparse(profiles):
            if not (sparse.issparse(old) and sparse.issparse(profiles)):
                return None
            same = (sparse.csr_matrix(old) != sparse.csr_matrix(profiles)).nnz == 0
        else:
            same = np.array_equal(old, profiles)
        return partners if same else None

    def measure(self, recommender: Any) -> None:
        """Update the sets, pair the users, observe the mean Jaccard index."""
        inter = current_interactions(recommender)
        if inter is None:
            self.observe(None)
            return
        sets = self._history.update(recommender, inter)
        idx = resolve_users(self.users, recommender)
        if idx is None:
            idx = np.arange(recommender.num_users)
        if idx.size == 0 or recommender.num_users < 2:
            self.observe(float("nan"))
            return
        profiles = mo.extract_value(recommender.users_hat)
        partners = self._cached_partners(profiles, idx)
        if partners is None:
            partners = most_similar_users(profiles, idx)
            self._partners = (profiles.copy(), idx.copy(), partners)
        self.last_pairs = np.column_stack([idx, partners])
        self.observe(mean_or_nan(pair_jaccard(sets, self.last_pairs)))
