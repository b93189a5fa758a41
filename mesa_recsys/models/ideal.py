"""IdealRecommender: recommends by the users' true scores.

The baseline of homogenization studies (Chaney, Stewart & Engelhardt 2018): metrics of
other recommenders are reported relative to this one's. T-RECS has no such class; its
paper builds it by hand from a content-filtering model fed the true representations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mesa_recsys import matrix_ops as mo
from mesa_recsys.components import Users
from mesa_recsys.models.base import BaseRecommender
from mesa_recsys.random import Generator, defaults_seed
from mesa_recsys.validate import validate_user_item_inputs

__all__ = ["IdealRecommender"]


class IdealRecommender(BaseRecommender):
    """Predicted scores are the users' true scores, kept exact as users drift and items arrive.

    ``users_hat`` is the true profiles and ``items_hat`` the true item attributes, scored
    with the users' own ``score_fn``; when the users carry explicit true scores
    (``Users(actual_user_scores=...)``), those are the predictions.

    Args:
        num_users: U (default 100).
        num_items: I (default 1250).
        num_attributes: A (default 20).
        actual_user_representation: true users (array or ``Users``; default standard normal).
        actual_item_representation: true items A×I (default uniform on [0, 1)).
        seed: seed of the default representations and of the model.
        num_items_per_iter: items shown per step (default 10) or ``"all"``.
        **kwargs: anything :class:`BaseRecommender` takes (except the representations).
    """

    def __init__(
        self,
        num_users: int | None = None,
        num_items: int | None = None,
        num_attributes: int | None = None,
        actual_user_representation: Any = None,
        actual_item_representation: Any = None,
        seed: Any = None,
        num_items_per_iter: int | str = 10,
        **kwargs: Any,
    ) -> None:
        """Build the model from the true representations."""
        true_users = actual_user_representation
        profiles = true_users.actual_user_profiles if isinstance(true_users, Users) else true_users
        num_users, num_items, num_attributes = validate_user_item_inputs(
            num_users,
            num_items,
            profiles,
            actual_item_representation,
            true_users,
            actual_item_representation,
            100,
            1250,
            20,
            num_attributes=num_attributes,
        )
        gen = Generator(defaults_seed(seed, kwargs.get("rng")))
        if actual_item_representation is None:
            actual_item_representation = gen.uniform(size=(num_attributes, num_items))
        if true_users is None:
            true_users = Users(size=(num_users, num_attributes), seed=gen.integers(0, 2**63))
        elif not isinstance(true_users, Users):
            true_users = Users(actual_user_profiles=true_users)
        super().__init__(
            true_users.actual_user_profiles.value,
            actual_item_representation,
            true_users,
            actual_item_representation,
            num_users,
            num_items,
            num_items_per_iter,
            score_fn=true_users.score_fn,
            seed=seed,
            **kwargs,
        )

    def train(self) -> None:
        """Predicted scores = true scores."""
        users = getattr(self, "users", None)
        if users is not None and users.actual_user_scores is not None:
            if users.actual_user_scores.explicit:
                super().train()
                self.predicted_scores.value = users.actual_user_scores.value
                return
            self.users_hat.value = users.actual_user_profiles.value
            self.items_hat.value = self.items.value
        super().train()

    def _update_internal_state(self, interactions: np.ndarray) -> None:
        """The ideal recommender needs no learning; ``train`` reads the true state."""

    def process_new_items(self, new_items: np.ndarray) -> np.ndarray:
        """New items are known exactly."""
        return mo.to_dense(new_items)

    def process_new_users(self, new_users: np.ndarray, **kwargs: Any) -> np.ndarray:
        """New users are known exactly."""
        return mo.to_dense(new_users)
