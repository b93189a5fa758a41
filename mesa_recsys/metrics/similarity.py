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
from mesa_recsys.metrics import _kernels
from mesa_recsys.metrics._common import (
    UserSubset,
    check_choice,
    check_pairs,
    check_pairs_in_range,
    check_user_subset,
    current_interactions,
    current_items_shown,
    mean_or_nan,
    resolve_users,
)
from mesa_recsys.metrics.diagnostics import Diagnostics
from mesa_recsys.metrics.measurement import Measurement
from mesa_recsys.metrics.neighbours import TIES, PartnerIndex, most_similar_users

__all__ = [
    "InteractionSimilarity",
    "RecSimilarity",
    "SimilarUserJaccard",
    "most_similar_users",
]


class _CumulativeInteractions:
    """Each user's set of items interacted with since the metric was first measured.

    Kept as sorted CSR rows (see :mod:`mesa_recsys.metrics._kernels`): a step adds at most
    one item per user, in one pass over the sets, and a pair's Jaccard index is one merge
    of two short sorted rows.
    """

    def __init__(self) -> None:
        self.indptr = np.zeros(1, dtype=np.int64)
        self.indices = np.empty(0, dtype=np.int32)
        self.added = np.empty(0, dtype=np.int64)

    def update(self, inter: np.ndarray) -> _CumulativeInteractions:
        """Add this step's interactions (one item per user, ``-1`` = none).

        ``added`` then holds, per user, the item that was new to the set (``-1``: none).
        """
        self.indptr, self.indices, self.added = _kernels.add_to_sets(
            self.indptr, self.indices, inter
        )
        return self

    def jaccard(self, pairs: np.ndarray) -> np.ndarray:
        """Jaccard index of the pairs' sets (NaN where both are empty)."""
        return _kernels.set_jaccard(self.indptr, self.indices, pairs)


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
        self._common = np.zeros(self.pairs.shape[0], dtype=np.int64)
        self.last_pair_values: np.ndarray | None = None

    def measure(self, recommender: Any) -> None:
        """Add this step's interactions to the sets and observe the mean Jaccard index.

        The pairs are fixed, so their intersection sizes are kept and grown by this step's
        new items (see :func:`~mesa_recsys.metrics._kernels.grow_intersections`).
        """
        inter = current_interactions(recommender)
        if inter is None:
            self.observe(None)
            return
        check_pairs_in_range(self.pairs, recommender.num_users)
        sets = self._history.update(inter)
        self.last_pair_values = _kernels.grow_intersections(
            sets.indptr, sets.indices, sets.added, self.pairs, self._common
        )
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
        self.last_pair_values = _kernels.list_jaccard(shown, self.pairs)
        self.observe(mean_or_nan(self.last_pair_values))


class SimilarUserJaccard(Measurement):
    """Chaney et al.'s homogenization: Jaccard index of each user and their most similar user.

    At each measurement, every user u is paired with v(u) = the other user with the
    highest cosine similarity between the recommender's *current* estimates of user
    profiles (``users_hat``). The value is the mean over u of |S_u ∩ S_v(u)| /
    |S_u ∪ S_v(u)|, S_u being u's cumulative set of interacted items since the metric was
    added (Chaney, Stewart, Engelhardt 2018, §5; T-RECS paper §5.1). None before the first
    step.

    Ties decide the pairs of many recommenders (popularity's estimates are all equal, so
    every user ties with every other): by default a tied partner is drawn uniformly at every
    measurement, as the T-RECS paper's replication does; ``ties="lowest"`` takes the lowest
    index. Draws come from the metric's own generator (``seed``, or derived from the model's
    seed), so adding the metric does not change the simulation.

    The paper's "change in Jaccard index" compares two runs on the *same pairs*: pass the
    ideal recommender's model as ``relative_to`` (stepped in lockstep with this one, e.g.
    stepped first in every step) and the value becomes J(pairs, this run's sets) −
    J(pairs, the reference run's sets), the pairs being this model's.

    Finding the tied partners costs O(U²·A) (a block of users at a time, users with
    identical estimates grouped); it is kept while the estimates do not change (a model
    that does not learn user profiles, such as popularity or ideal, pays it once).

    Args:
        name: column name.
        verbose: kept for T-RECS compatibility.
        users: average over these users only (partners may be any user).
        ties: ``"random"`` (default) or ``"lowest"``.
        seed: seed of the tie draws.
        relative_to: a reference model (same users) whose interaction sets are compared on
            this model's pairs.

    Raises:
        ValueError: on an unknown ``ties``; at measurement time when ``relative_to`` has
            other users or is not at the same step.
    """

    def __init__(
        self,
        name: str = "similar_user_jaccard",
        verbose: bool = False,
        *,
        users: UserSubset = None,
        ties: str = "random",
        seed: Any = None,
        relative_to: Any = None,
    ) -> None:
        """Create the metric."""
        super().__init__(name, verbose)
        self.users = check_user_subset(users)
        self.ties = check_choice("ties", ties, TIES)
        self.seed = seed
        self.relative_to = relative_to
        self._rng: np.random.Generator | None = None
        self._history = _CumulativeInteractions()
        self._reference_history = _CumulativeInteractions()
        self.last_pairs: np.ndarray | None = None
        self._index: tuple | None = None

    def _generator(self, recommender: Any) -> np.random.Generator:
        if self._rng is None:
            base = self.seed if self.seed is not None else getattr(recommender, "_seed", None)
            self._rng = np.random.default_rng(np.random.SeedSequence(base, spawn_key=(11,)))
        return self._rng

    def _partner_index(self, profiles: Any, idx: np.ndarray) -> PartnerIndex:
        """The tied partners, reused while neither the estimates nor the users changed."""
        if self._index is not None:
            old, old_idx, index = self._index
            if old.shape == profiles.shape and np.array_equal(old_idx, idx):
                if sparse.issparse(old) or sparse.issparse(profiles):
                    same = (
                        sparse.issparse(old)
                        and sparse.issparse(profiles)
                        and (sparse.csr_matrix(old) != sparse.csr_matrix(profiles)).nnz == 0
                    )
                else:
                    same = np.array_equal(old, profiles)
                if same:
                    return index
        index = PartnerIndex(profiles, idx)
        self._index = (profiles.copy(), idx.copy(), index)
        return index

    def _reference_sets(self, recommender: Any) -> _CumulativeInteractions | None:
        ref = self.relative_to
        if ref is None:
            return None
        if ref.num_users != recommender.num_users:
            raise ValueError(
                f"relative_to: the reference model has {ref.num_users} users, this one "
                f"{recommender.num_users}"
            )
        here, there = getattr(recommender, "steps", None), getattr(ref, "steps", None)
        if here != there:
            raise ValueError(
                f"relative_to: the reference model is at step {there}, this one at step "
                f"{here}; step the reference first in every step"
            )
        inter = current_interactions(ref)
        if inter is None:
            return None
        return self._reference_history.update(inter)

    def measure(self, recommender: Any) -> None:
        """Update the sets, pair the users, observe the mean Jaccard index (or its change)."""
        inter = current_interactions(recommender)
        reference = self._reference_sets(recommender)
        if inter is None:
            self.observe(None)
            return
        sets = self._history.update(inter)
        idx = resolve_users(self.users, recommender)
        if idx is None:
            idx = np.arange(recommender.num_users)
        if idx.size == 0 or recommender.num_users < 2:
            self.observe(float("nan"))
            return
        index = self._partner_index(mo.extract_value(recommender.users_hat), idx)
        partners = (
            index.lowest() if self.ties == "lowest" else index.draw(self._generator(recommender))
        )
        self.last_pairs = np.column_stack([idx, partners])
        value = mean_or_nan(sets.jaccard(self.last_pairs))
        if self.relative_to is not None:
            if reference is None:
                raise ValueError("relative_to: the reference model has not interacted yet")
            value -= mean_or_nan(reference.jaccard(self.last_pairs))
        self.observe(value)
