"""ContentFiltering: user profiles fitted by non-negative least squares on item attributes."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from mesa_recsys import matrix_ops as mo
from mesa_recsys.models.base import BaseRecommender
from mesa_recsys.nnls import BATCH, is_positive_definite, nnls_gram
from mesa_recsys.random import Generator, defaults_seed
from mesa_recsys.validate import validate_user_item_inputs

__all__ = ["ContentFiltering"]


class ContentFiltering(BaseRecommender):
    """Content-based filtering with T-RECS's model and defaults.

    The system knows every item's attributes (``items_hat``, Â×I) and learns each user's
    profile (a row of ``users_hat``) from the user's cumulative interaction counts
    ``c_u`` (a row of ``all_interactions``) by non-negative least squares,
    ``min_{x >= 0} ||items_hatᵀ x - c_u||``. Scores are the inner product of the
    normalised profile with the item attributes.

    T-RECS solves one ``scipy.optimize.nnls`` per user per step; here all users are solved
    together from the shared Gram matrix ``items_hat items_hatᵀ`` (see
    :mod:`mesa_recsys.nnls`), warm-started from the previous step's profiles. The solutions
    are the same: the minimiser is unique whenever ``items_hat`` has full row rank.

    Differences from T-RECS, on purpose: profiles are always stored as floats (T-RECS
    truncates them to integers when given an integer ``user_representation``), and an
    all-zero row of interactions gives an all-zero profile without a solve.

    Args:
        num_users: U (default 100).
        num_items: I (default 1250).
        num_attributes: Â (default 1000).
        user_representation: U×Â initial profiles (default zeros).
        item_representation: Â×I item attributes known to the system (default: each entry
            0 or 1 with probability 1/2, drawn from ``seed``).
        actual_user_representation: true users (array or ``Users``; default standard normal).
        actual_item_representation: true item attributes (default: a copy of
            ``item_representation``).
        probabilistic_recommendations: sample the recommendations by rank.
        seed: seed of the default representations and of the model.
        num_items_per_iter: items shown per step (default 10) or ``"all"``.
        **kwargs: anything :class:`BaseRecommender` takes (rng, measurements, creators,
            record_base_state, score_fn, interleaving_fn, user_agent_class...).

    Attributes:
        all_interactions: U×I ``scipy.sparse.csr_matrix`` of interaction counts.
    """

    def __init__(
        self,
        num_users: int | None = None,
        num_items: int | None = None,
        num_attributes: int | None = None,
        user_representation: Any = None,
        item_representation: Any = None,
        actual_user_representation: Any = None,
        actual_item_representation: Any = None,
        probabilistic_recommendations: bool = False,
        seed: Any = None,
        num_items_per_iter: int | str = 10,
        **kwargs: Any,
    ) -> None:
        """Build the representations and the model."""
        num_users, num_items, num_attributes = validate_user_item_inputs(
            num_users,
            num_items,
            user_representation,
            item_representation,
            actual_user_representation,
            actual_item_representation,
            100,
            1250,
            1000,
            num_attributes=num_attributes,
        )
        if user_representation is None:
            user_representation = np.zeros((num_users, num_attributes))
        if item_representation is None:
            item_representation = Generator(defaults_seed(seed, kwargs.get("rng"))).binomial(
                1, 0.5, (num_attributes, num_items)
            )
        if actual_item_representation is None:
            actual_item_representation = mo.extract_value(item_representation).copy()
        self.all_interactions: sparse.csr_matrix | None = None
        self._gram_cache: tuple | None = None
        super().__init__(
            user_representation,
            item_representation,
            actual_user_representation,
            actual_item_representation,
            num_users,
            num_items,
            num_items_per_iter,
            probabilistic_recommendations=probabilistic_recommendations,
            seed=seed,
            **kwargs,
        )
        self.all_interactions = sparse.csr_matrix((self.num_users, self.num_items))

    def _update_internal_state(self, interactions: np.ndarray) -> None:
        """Add this step's interactions (one per user, ``-1`` = none) to the counts."""
        users = np.flatnonzero(interactions >= 0)
        step = sparse.csr_matrix(
            (np.ones(users.size), (users, interactions[users])),
            shape=self.all_interactions.shape,
        )
        self.all_interactions = self.all_interactions + step

    def _gram(self, items: Any) -> tuple[np.ndarray, int]:
        """``items items_ᵀ`` and the solver's step width, cached while ``items`` is unchanged."""
        probe = np.cos(np.arange(items.shape[1]) * 0.7071)  # fixed, fingerprint of the values
        fingerprint = np.asarray(items @ probe).ravel()
        cached = self._gram_cache
        if (
            cached is not None
            and cached[0] == items.shape
            and np.array_equal(cached[1], fingerprint)
        ):
            return cached[2], cached[3]
        gram = items @ items.T
        gram = gram.toarray() if sparse.issparse(gram) else np.asarray(gram, dtype=float)
        entering = BATCH if is_positive_definite(gram) else 1
        self._gram_cache = (items.shape, fingerprint, gram, entering)
        return gram, entering

    def fit_user_profiles(self) -> np.ndarray:
        """Non-negative least-squares profiles of every user from ``all_interactions``.

        Returns:
            U×Â float array; row u minimises ``||items_hatᵀ x - c_u||`` over ``x >= 0``.
        """
        items = self.items_hat.value
        items = sparse.csr_matrix(items, dtype=float) if sparse.issparse(items) else items
        if not sparse.issparse(items):
            items = np.asarray(items, dtype=float)
        counts = self.all_interactions
        profiles = np.zeros((counts.shape[0], items.shape[0]))
        active = np.flatnonzero(np.diff(counts.indptr))
        if active.size == 0:
            return profiles
        gram, entering = self._gram(items)
        counts = counts[active]
        rhs = counts @ items.T
        rhs = rhs.toarray() if sparse.issparse(rhs) else np.asarray(rhs)
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        previous = self.users_hat.value
        warm = None
        if not sparse.issparse(previous) and previous.shape == profiles.shape:
            warm = np.asarray(previous)[active]
        profiles[active] = nnls_gram(gram, rhs, norms, warm, entering=entering)
        return profiles

    def train(self) -> None:
        """Refit the user profiles (once there are interactions), then the scores."""
        if self.all_interactions is not None and self.all_interactions.nnz:
            profiles = self.fit_user_profiles()
            current = self.users_hat.value
            if (
                isinstance(current, np.ndarray)
                and current.dtype.kind == "f"
                and current.shape == profiles.shape
            ):
                current[...] = profiles  # in place, as T-RECS: the caller's array follows
            else:
                self.users_hat.value = profiles
        super().train()

    def process_new_items(self, new_items: np.ndarray) -> np.ndarray:
        """New items are represented by their true attributes; their counts start at 0."""
        n = new_items.shape[1]
        self.all_interactions = sparse.hstack(
            [self.all_interactions, sparse.csr_matrix((self.all_interactions.shape[0], n))],
            format="csr",
        )
        return new_items

    def process_new_users(self, new_users: np.ndarray, **kwargs: Any) -> np.ndarray:
        """New users start with an all-zero profile and no interactions."""
        n = new_users.shape[0]
        self.all_interactions = sparse.vstack(
            [self.all_interactions, sparse.csr_matrix((n, self.all_interactions.shape[1]))],
            format="csr",
        )
        return np.zeros((n, self.items_hat.value.shape[0]))
