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

import contextlib
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
    mean_or_nan,
    resolve_users,
    shown_lists,
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


#: Item ids below this keep the cumulative sets as bitsets (at most 64 words of 64 items per
#: user, 512 bytes); from the first larger id on they are kept as sorted rows.
BITSET_MAX_ITEMS = 64 * 64

#: Attribute of the model holding the cumulative sets most recently started on it, which
#: metrics starting at the same measurement share (one update per step for all of them).
_SETS_ATTR = "_mesa_recsys_interaction_sets"


class _CumulativeInteractions:
    """Each user's set of items interacted with since the history started.

    Updated in place, at a cost per step that does not grow with the number of steps (see
    the layouts in :mod:`mesa_recsys.metrics._kernels`): short sorted heads and bitsets
    while every item id is below :data:`BITSET_MAX_ITEMS`, pooled sorted rows with spare
    room from the first larger id on. Both hold the same sets.

    Attributes:
        added: per user, the item the last update added to the set (``-1``: none).
        version: the number of updates so far.
        time: the model time of the last update (None when the model has no ``time``).
        start_time: the model time of the first update.
    """

    def __init__(self) -> None:
        """Start with no users and no items."""
        self.num_rows = 0
        # small catalogues: heads, and bitset rows of the sets too long for a head
        self.head: np.ndarray | None = np.zeros((0, _kernels.HEAD), dtype=np.int32)
        self.bits = np.zeros((0, 1), dtype=np.uint64)
        self.nonzero = np.zeros(0, dtype=np.uint64)
        self.spilled = 0
        # any catalogue: pooled sorted rows
        self.start = self.length = self.room = np.zeros(0, dtype=np.int64)
        self.pool = np.zeros(0, dtype=np.int32)
        self.end = 0
        self.num_items = 0  # one more than the largest item id seen
        self.added = np.empty(0, dtype=np.int32)
        self.version = 0
        self.time: Any = None
        self.start_time: Any = None
        self._source: np.ndarray | None = None  # the interactions of the last update

    def _reserve_rows(self, num_rows: int) -> None:
        """Room for ``num_rows`` users (capacity doubled; new users have empty sets)."""
        capacity = self.head.shape[0] if self.head is not None else self.length.size
        if num_rows > capacity:
            capacity = max(num_rows, 2 * capacity)
            if self.head is not None:
                self.head = _grown(self.head, (capacity, _kernels.HEAD))
            else:
                self.start = _grown(self.start, (capacity,))
                self.length = _grown(self.length, (capacity,))
                self.room = _grown(self.room, (capacity,))
        self.num_rows = max(self.num_rows, num_rows)

    def _reserve_items(self, top: int) -> None:
        """Room for item ids up to ``top``: wider bitset rows, or sorted rows."""
        self.num_items = max(self.num_items, top + 1)
        if self.head is None or top < 64 * self.bits.shape[1]:
            return
        if top < BITSET_MAX_ITEMS:
            words = self.bits.shape[1]
            while 64 * words <= top:
                words *= 2
            self.bits = _grown(self.bits, (self.bits.shape[0], words))
            return
        # to sorted rows with twice their length in room
        indptr, indices = _kernels.heads_to_csr(self.head, self.bits)
        length = np.diff(indptr)
        self.room = np.maximum(2 * length, _kernels.FIRST_ROOM)
        self.start = np.zeros(length.size, dtype=np.int64)
        np.cumsum(self.room[:-1], out=self.start[1:])
        self.end = int(self.room.sum())
        self.pool = np.empty(2 * self.end + 64, dtype=np.int32)
        self.pool[np.repeat(self.start - indptr[:-1], length) + np.arange(indices.size)] = indices
        self.length = length
        self.head = None
        self.bits = np.zeros((0, 1), dtype=np.uint64)
        self.nonzero = np.zeros(0, dtype=np.uint64)
        self.spilled = 0

    def update(self, inter: np.ndarray, time: Any = None) -> _CumulativeInteractions:
        """Add one step's interactions (one item per user, ``-1`` = none).

        ``added`` then holds, per user, the item that was new to the set (``-1``: none).

        Args:
            inter: the step's interactions.
            time: the model time of the step (kept to share the sets, see
                :func:`_sets_after_step`).

        Returns:
            self.
        """
        items = np.ascontiguousarray(inter, dtype=np.int64)
        self._reserve_rows(items.size)
        self._reserve_items(int(items.max(initial=-1)))
        if self.head is not None:
            self.bits, self.nonzero, self.spilled, self.added = _kernels.heads_add(
                self.head, self.bits, self.nonzero, self.spilled, items
            )
        else:
            self.pool, self.end, self.added = _kernels.rows_add(
                self.start, self.length, self.room, self.pool, self.end, items
            )
        self.version += 1
        self.time = time
        if self.start_time is None:
            self.start_time = time
        self._source = None if time is None else inter
        return self

    def holds(self, time: Any, inter: np.ndarray) -> bool:
        """Whether the last update was this interactions array at this model time.

        The array is compared by identity: the model makes a new one every step (and when
        users are added), and does not change it in place.
        """
        return time is not None and self.time == time and self._source is inter

    def jaccard(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Jaccard indices of the pairs' sets (NaN where both are empty) and intersection sizes.

        Args:
            a: the pairs' first users.
            b: the pairs' second users.
        """
        n = self.num_rows
        if self.head is not None:
            return _kernels.heads_jaccard(self.head[:n], self.bits, self.nonzero, a, b)
        return _kernels.rows_jaccard(
            self.start[:n], self.length[:n], self.pool, a, b, self.num_items
        )

    def grow(
        self,
        a: np.ndarray,
        b: np.ndarray,
        common: np.ndarray,
        values: np.ndarray,
        added: np.ndarray,
    ) -> np.ndarray:
        """Jaccard indices of fixed pairs after ``added``, updating ``common`` and ``values``.

        Args:
            a: the pairs' first users (contiguous int32 or int64).
            b: the pairs' second users.
            common: the pairs' intersection sizes before ``added``, updated in place.
            values: the pairs' Jaccard indices before ``added``, updated in place (only
                pairs with a changed set are computed).
            added: per user, the item the last update added (empty: none).

        Returns:
            ``values``.
        """
        n = self.num_rows
        if self.head is not None:
            return _kernels.heads_grow(self.head[:n], self.bits, added, a, b, common, values)
        return _kernels.rows_grow(
            self.start[:n], self.length[:n], self.pool, added, a, b, common, values
        )

    def to_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """The sets as sorted CSR rows ``(indptr, indices)``, one row per user."""
        n = self.num_rows
        if self.head is not None:
            return _kernels.heads_to_csr(self.head[:n], self.bits)
        length = self.length[:n]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(length, out=indptr[1:])
        where = np.repeat(self.start[:n] - indptr[:-1], length) + np.arange(indptr[-1])
        return indptr, self.pool[where]


def _grown(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A zero array of ``shape`` with ``array`` copied into its leading corner."""
    out = np.zeros(shape, dtype=array.dtype)
    out[tuple(slice(0, s) for s in array.shape)] = array
    return out


def _sets_after_step(
    recommender: Any,
    history: _CumulativeInteractions | None,
    inter: np.ndarray,
    share: bool,
) -> _CumulativeInteractions:
    """A metric's cumulative sets with this step's interactions added.

    Metrics measured at every step of one model (``share``: the metrics registered on it)
    whose sets start at the same measurement share one history, kept on ``recommender`` and
    updated once per model time: a metric whose history already holds this step's
    interactions (another metric added them) does not add them again, and a metric measured
    for the first time joins the history started at this very measurement, if any. Models
    without a ``time`` attribute share nothing.

    Args:
        recommender: the model whose interactions these are.
        history: the metric's history so far (None before its first update).
        inter: this step's interactions.
        share: whether the metric may share its history (it is measured at every step).

    Returns:
        the history to use from now on (``history`` itself, or a shared or new one).
    """
    time = getattr(recommender, "time", None)
    if history is None:
        share = share and time is not None
        if share:
            shared = getattr(recommender, _SETS_ATTR, None)
            if (
                isinstance(shared, _CumulativeInteractions)
                and shared.start_time == time
                and shared.holds(time, inter)
            ):
                return shared
        history = _CumulativeInteractions()
        if share:
            with contextlib.suppress(AttributeError):  # a model that takes no attributes
                setattr(recommender, _SETS_ATTR, history)
    elif history.holds(time, inter):
        return history
    return history.update(inter, time)


def _registered(metric: Any, recommender: Any) -> bool:
    """Whether ``metric`` is one of the model's metrics (measured at every step)."""
    return any(m is metric for m in getattr(recommender, "metrics", ()))


def _pair_columns(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The pairs' first and second users as contiguous arrays, and the largest user.

    int32 where the users fit (half the memory the kernels read), else int64.
    """
    largest = int(pairs.max())
    dtype = np.int32 if largest < 2**31 else np.int64
    return (
        np.ascontiguousarray(pairs[:, 0], dtype=dtype),
        np.ascontiguousarray(pairs[:, 1], dtype=dtype),
        largest,
    )


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
        self._columns: tuple | None = None
        self._history: _CumulativeInteractions | None = None
        self._version = 0
        self._common = np.zeros(self.pairs.shape[0], dtype=np.int32)
        self._values = np.full(self.pairs.shape[0], np.nan)  # both sets empty
        self.last_pair_values: np.ndarray | None = None

    def measure(self, recommender: Any) -> None:
        """Add this step's interactions to the sets and observe the mean Jaccard index.

        The pairs are fixed, so their intersection sizes and indices are kept, and those of
        pairs with a user who added an item this step are updated (see
        :func:`~mesa_recsys.metrics._kernels.heads_grow`). The sets are shared with the
        model's other metrics that started at the same measurement.
        """
        inter = current_interactions(recommender)
        if inter is None:
            self.observe(None)
            return
        if self._columns is None or self._columns[0] is not self.pairs:  # new pairs
            self._columns = (self.pairs, *_pair_columns(self.pairs))
            if self._history is not None:
                self._version = -1  # pairs replaced: their intersections are counted afresh
        _, a, b, largest = self._columns
        check_pairs_in_range(self.pairs, recommender.num_users, largest)
        sets = self._history = _sets_after_step(
            recommender, self._history, inter, _registered(self, recommender)
        )
        if sets.version == self._version + 1:  # the one update since the last measurement
            sets.grow(a, b, self._common, self._values, sets.added)
        elif sets.version != self._version:  # updates missed, or new pairs: count again
            self._values, self._common = sets.jaccard(a, b)
        self._version = sets.version
        self.last_pair_values = values = self._values.copy()
        self.observe(mean_or_nan(values))
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
        self._columns: tuple | None = None
        self.last_pair_values: np.ndarray | None = None

    def measure(self, recommender: Any) -> None:
        """Observe the mean Jaccard index of the pairs' lists.

        The lists are read once per step for every metric that reads them (see
        :func:`~mesa_recsys.metrics._common.shown_lists`).
        """
        lists = shown_lists(recommender)
        if lists is None:
            self.observe(None)
            return
        if self._columns is None or self._columns[0] is not self.pairs:
            self._columns = (self.pairs, *_pair_columns(self.pairs))
        _, a, b, largest = self._columns
        check_pairs_in_range(self.pairs, recommender.num_users, largest)
        self.last_pair_values = lists.jaccard(a, b)
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

    Finding the tied partners costs O(U²·A) at worst (a block of users at a time, users
    with identical estimates grouped); sparse non-negative estimates (content filtering's)
    take a pruned exact search instead (:mod:`~mesa_recsys.metrics.neighbours`). It is kept
    while the estimates do not change (a model that does not learn user profiles, such as
    popularity or ideal, pays it once). ``users`` narrows the average, not much the cost:
    partners may be any user, so every user's estimate is grouped and indexed (at 10,000
    content-filtering users, about 30 ms of CPU for 500 users against 45 ms for all).

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
        self._history: _CumulativeInteractions | None = None
        self._reference_history: _CumulativeInteractions | None = None
        self._last: tuple | None = None  # users, partners, and both as pairs once asked
        self._index: tuple | None = None
        self._workspace: dict = {}  # the partner search's buffers, reused step after step

    @property
    def last_pairs(self) -> np.ndarray | None:
        """The pairs of the last measurement, U×2 ``(user, partner)`` (None before any)."""
        if self._last is None:
            return None
        users, partners, pairs = self._last
        if pairs is None:
            pairs = np.column_stack([users, partners])
            self._last = (users, partners, pairs)
        return pairs

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
        index = PartnerIndex(profiles, idx, self._workspace)
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
        self._reference_history = _sets_after_step(
            ref, self._reference_history, inter, _registered(self, recommender)
        )
        return self._reference_history

    def measure(self, recommender: Any) -> None:
        """Update the sets, pair the users, observe the mean Jaccard index (or its change)."""
        inter = current_interactions(recommender)
        reference = self._reference_sets(recommender)
        if inter is None:
            self.observe(None)
            return
        sets = self._history = _sets_after_step(
            recommender, self._history, inter, _registered(self, recommender)
        )
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
        self._last = (idx, partners, None)
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        partners = np.ascontiguousarray(partners, dtype=np.int64)
        value = mean_or_nan(sets.jaccard(idx, partners)[0])
        if self.relative_to is not None:
            if reference is None:
                raise ValueError("relative_to: the reference model has not interacted yet")
            value -= mean_or_nan(reference.jaccard(idx, partners)[0])
        self.observe(value)
