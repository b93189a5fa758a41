"""RandomRecommender: recommend items uniformly at random."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mesa_recsys.models.base import BaseRecommender
from mesa_recsys.validate import validate_user_item_inputs

__all__ = ["RandomRecommender"]


class RandomRecommender(BaseRecommender):
    """Shows each user a uniformly random set of items, in random order (T-RECS semantics).

    Its predicted scores are all zero, so the top-k is decided by the random tie-break.
    ``user_representation``, ``item_representation`` and ``score_fn`` are ignored with a
    UserWarning, as in T-RECS.

    Args:
        num_users: U (default 100).
        num_items: I (default 1250).
        actual_user_representation: true users (array or ``Users``).
        actual_item_representation: true items (default zeros 1×I).
        num_items_per_iter: items shown per step (default 10) or ``"all"``.
        **kwargs: anything :class:`BaseRecommender` takes.
    """

    def __init__(
        self,
        num_users: int | None = None,
        num_items: int | None = None,
        actual_user_representation: Any = None,
        actual_item_representation: Any = None,
        num_items_per_iter: int | str = 10,
        **kwargs: Any,
    ) -> None:
        """Build the (all-zero) representations and the model."""
        for ignored in ("score_fn", "user_representation", "item_representation"):
            if kwargs.pop(ignored, None) is not None:
                warnings.warn(f"RandomRecommender ignores {ignored}", UserWarning, stacklevel=2)
        num_users, num_items = validate_user_item_inputs(
            num_users,
            num_items,
            None,
            None,
            actual_user_representation,
            actual_item_representation,
            100,
            1250,
            attributes_must_match=False,
        )
        items_hat = np.zeros((1, num_items), dtype=int)
        users_hat = np.zeros((num_users, 1), dtype=int)
        if actual_item_representation is None:
            actual_item_representation = items_hat.copy()
        super().__init__(
            users_hat,
            items_hat,
            actual_user_representation,
            actual_item_representation,
            num_users,
            num_items,
            num_items_per_iter,
            **kwargs,
        )

    def _update_internal_state(self, interactions: np.ndarray) -> None:
        """Random recommendations learn nothing."""

    def process_new_items(self, new_items: np.ndarray) -> np.ndarray:
        """New items score zero like the rest."""
        return np.zeros((1, new_items.shape[1]), dtype=int)

    def process_new_users(self, new_users: np.ndarray, **kwargs: Any) -> np.ndarray:
        """New users score every item zero."""
        return np.zeros((new_users.shape[0], 1), dtype=int)
