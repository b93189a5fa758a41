"""PopularityRecommender: recommend what most users have interacted with."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from mesa_recsys.models.base import BaseRecommender
from mesa_recsys.validate import validate_user_item_inputs

__all__ = ["PopularityRecommender"]


class PopularityRecommender(BaseRecommender):
    """Ranks items by how many interactions they have received (T-RECS semantics).

    ``items_hat`` is 1×I interaction counts (zeros at the start unless given), ``users_hat``
    is U×1 ones, so every user's predicted score of item i is its count. Ties (at first,
    every item) are broken at random for each user.

    Args:
        num_users: U (default 100).
        num_items: I (default 1250).
        user_representation: U×1 predicted profiles (default ones).
        item_representation: 1×I initial popularity (default zeros).
        actual_user_representation: true users (array or ``Users``; default standard normal).
        actual_item_representation: true items (default: a copy of ``item_representation``).
        verbose: debug logging.
        num_items_per_iter: items shown per step (default 10) or ``"all"``.
        **kwargs: anything :class:`BaseRecommender` takes (seed, rng, measurements, creators...).
    """

    def __init__(
        self,
        num_users: int | None = None,
        num_items: int | None = None,
        user_representation: Any = None,
        item_representation: Any = None,
        actual_user_representation: Any = None,
        actual_item_representation: Any = None,
        verbose: bool = False,
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
            num_attributes=1,
        )
        if item_representation is None:
            item_representation = np.zeros((num_attributes, num_items), dtype=int)
        if actual_item_representation is None:
            actual_item_representation = item_representation.copy()
        if user_representation is None:
            user_representation = np.ones((num_users, num_attributes), dtype=int)
        super().__init__(
            user_representation,
            item_representation,
            actual_user_representation,
            actual_item_representation,
            num_users,
            num_items,
            num_items_per_iter,
            verbose=verbose,
            **kwargs,
        )

    def _update_internal_state(self, interactions: np.ndarray) -> None:
        """Add this step's interactions to the items' counts."""
        valid = interactions[interactions >= 0]
        counts = np.bincount(valid, minlength=self.num_items)[None, :]
        if sparse.issparse(self.items_hat.value):  # stay sparse (csr + ndarray gives np.matrix)
            self.items_hat.value = self.items_hat.value + sparse.csr_matrix(counts)
        else:
            self.items_hat.value += counts.astype(self.items_hat.value.dtype)

    def process_new_items(self, new_items: np.ndarray) -> np.ndarray:
        """New items start with zero interactions."""
        return np.zeros((1, new_items.shape[1]), dtype=self.items_hat.value.dtype)

    def process_new_users(self, new_users: np.ndarray, **kwargs: Any) -> np.ndarray:
        """New users rank by popularity like everyone else."""
        return np.ones((new_users.shape[0], 1), dtype=self.users_hat.value.dtype)
