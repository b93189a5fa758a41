"""Custom models, three ways: a new learning rule, a new score function, a new user behaviour.

1. ``CountingModel``: the recommender counts interactions per item and recommends the most
   counted ones (the construction the "create your own model" guide walks through: validate
   the inputs, build the representations, call ``super().__init__``, implement
   ``_update_internal_state``).
2. ``CosineModel``: the same learning rule, scored by cosine similarity instead of the
   default inner product (a custom ``score_fn``).
3. ``ContrarianUser``: a Mesa-style user agent whose own ``choose`` method picks the last
   item of its list; the model asks each agent in turn.

Run: ``python examples/custom_model.py``.
"""

from __future__ import annotations

import numpy as np

import mesa_recsys.matrix_ops as mo
from mesa_recsys.agents import UserAgent
from mesa_recsys.metrics import InteractionMeasurement, MSEMeasurement
from mesa_recsys.models import BaseRecommender
from mesa_recsys.validate import validate_user_item_inputs


class CountingModel(BaseRecommender):
    """Recommends the items with the most interactions so far."""

    def __init__(
        self,
        num_users=None,
        num_items=None,
        user_representation=None,
        item_representation=None,
        actual_user_representation=None,
        actual_item_representation=None,
        num_items_per_iter=10,
        **kwargs,
    ):
        num_users, num_items, num_attributes = validate_user_item_inputs(
            num_users,
            num_items,
            user_representation,
            item_representation,
            actual_user_representation,
            actual_item_representation,
            default_num_users=100,
            default_num_items=1250,
            num_attributes=1,
        )
        if item_representation is None:  # every item starts with zero interactions
            item_representation = np.zeros((num_attributes, num_items), dtype=int)
        if actual_item_representation is None:
            actual_item_representation = item_representation.copy()
        if user_representation is None:  # every user weighs the counts the same way
            user_representation = np.ones((num_users, num_attributes), dtype=int)
        super().__init__(
            user_representation,
            item_representation,
            actual_user_representation,
            actual_item_representation,
            num_users,
            num_items,
            num_items_per_iter,
            **kwargs,
        )

    def _update_internal_state(self, interactions):
        chosen = interactions[interactions >= 0]  # -1 = a user who did not interact
        self.items_hat.value += np.bincount(chosen, minlength=self.num_items)


def cosine_similarity(user_profiles, item_attributes):
    """Cosine of the angle between each user profile and each item (0 for zero vectors)."""
    scores = mo.inner_product(user_profiles, item_attributes, normalize_users=False)
    norms = np.outer(
        np.linalg.norm(mo.to_dense(user_profiles), axis=1),
        np.linalg.norm(mo.to_dense(item_attributes), axis=0),
    )
    return np.divide(scores, norms, out=np.zeros_like(scores, dtype=float), where=norms > 0)


class CosineModel(CountingModel):
    """The counting model with cosine-similarity scores."""

    def __init__(self, **kwargs):
        super().__init__(score_fn=cosine_similarity, **kwargs)


class ContrarianUser(UserAgent):
    """A user who always takes the last (least recommended) item shown."""

    def choose(self, items_shown):
        return int(items_shown[-1])


def main() -> None:
    metrics = [InteractionMeasurement(), MSEMeasurement()]
    counting = CountingModel(num_users=500, seed=1, measurements=metrics)
    counting.run(timesteps=5, disable_tqdm=True)
    frame = counting.datacollector.get_model_vars_dataframe()
    print("CountingModel: most popular item's count per step")
    print(frame["interaction_histogram"].map(lambda h: None if h is None else int(h.max())))

    cosine = CosineModel(num_users=500, seed=1, measurements=[MSEMeasurement()])
    cosine.run(timesteps=5, disable_tqdm=True)
    print("\nCosineModel: MSE per step")
    print(cosine.datacollector.get_model_vars_dataframe()["mse"].round(4).to_string())

    contrarian = CountingModel(
        num_users=200, seed=1, user_agent_class=ContrarianUser, measurements=[MSEMeasurement()]
    )
    contrarian.run(timesteps=3, disable_tqdm=True)
    last = contrarian.items_shown[:, -1]
    print(
        "\nContrarianUser: every user took the last item shown:",
        bool(np.array_equal(contrarian.interactions, last)),
    )


if __name__ == "__main__":
    main()
