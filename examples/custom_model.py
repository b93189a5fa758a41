"""Writing your own recommender: a learning rule, a score function, a user behaviour.

A model in this package is a ``BaseRecommender`` subclass. It owns two representations, the
system's guess of user preferences (``users_hat``, users × attributes) and of item
attributes (``items_hat``, attributes × items); each step the users are shown the items
with the best predicted scores, pick one, and the model learns from those picks. This
script shows the three places where you can plug in your own behaviour:

1. ``NewModel`` -- a new *learning rule*. It is a popularity recommender built from
   scratch: validate the sizes with ``validate_user_item_inputs``, build default
   representations, hand everything to ``super().__init__``, and implement
   ``_update_internal_state(interactions)``, which here adds this step's interaction
   histogram to ``self.items_hat.value``.
2. ``CosineModel`` -- a new *score function*. A content-based recommender whose user
   estimate is the sum of the attribute vectors of the items each user picked; it passes
   ``score_fn=cosine_similarity`` so that items are ranked by the angle between user and
   item vectors (``matrix_ops.inner_product`` divided by both norms) rather than by the
   default inner product.
3. ``ContrarianUser`` -- a new *user behaviour*, the Mesa way: a ``UserAgent`` subclass
   whose ``choose(items_shown)`` picks the item ranked last, passed to any model as
   ``user_agent_class=``. The model then asks each agent for its choice, one at a time.

Every model records its metrics in a Mesa ``DataCollector``; the script prints a few
columns of ``model.datacollector.get_model_vars_dataframe()`` for each part.

Run: ``python examples/custom_model.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import mesa_recsys.matrix_ops as mo
from mesa_recsys.agents import UserAgent
from mesa_recsys.metrics import InteractionMeasurement, MSEMeasurement
from mesa_recsys.models import BaseRecommender
from mesa_recsys.random import Generator
from mesa_recsys.validate import validate_user_item_inputs

# --------------------------------------------------------------------------------------
# 1. A new learning rule: count interactions per item
# --------------------------------------------------------------------------------------


class NewModel(BaseRecommender):
    """Popularity recommender: every user is shown the items picked most often so far."""

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
        # Fill in whichever of the sizes were not given and check that the given arrays
        # agree with each other (100 users and 1250 items when nothing is given).
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
        # One attribute per item: its interaction count, zero for every item at the start.
        if item_representation is None:
            item_representation = np.zeros((num_attributes, num_items), dtype=int)
        if actual_item_representation is None:
            actual_item_representation = item_representation.copy()
        # Every user weighs that count by the same factor, so everyone sees the same ranking.
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
            **kwargs,
        )

    def _update_internal_state(self, interactions):
        # interactions[u] is the item user u picked this step (-1 if the user picked none).
        picked = interactions[interactions >= 0]
        histogram = np.bincount(picked, minlength=self.num_items)
        self.items_hat.value += histogram


# --------------------------------------------------------------------------------------
# 2. A new score function: cosine similarity
# --------------------------------------------------------------------------------------


def cosine_similarity(user_profiles, item_attributes):
    """Cosine of the angle between every user row and every item column.

    A user or item whose vector is all zeros gets a score of 0 with every partner.
    """
    dots = mo.to_dense(mo.inner_product(user_profiles, item_attributes, normalize_users=False))
    user_norms = np.linalg.norm(mo.to_dense(user_profiles), axis=1)
    item_norms = np.linalg.norm(mo.to_dense(item_attributes), axis=0)
    lengths = np.outer(user_norms, item_norms)
    return np.divide(dots, lengths, out=np.zeros(dots.shape), where=lengths > 0)


class CosineModel(BaseRecommender):
    """Content-based recommender ranked by cosine similarity.

    The system knows the true item attributes; it estimates a user as the sum of the
    attribute vectors of the items that user has picked.
    """

    def __init__(self, num_users=200, num_items=500, num_attributes=8, seed=None, **kwargs):
        rng = Generator(seed)
        true_users = rng.normal(size=(num_users, num_attributes))
        true_items = rng.uniform(size=(num_attributes, num_items))
        super().__init__(
            np.zeros((num_users, num_attributes)),  # nothing known about users yet
            true_items.copy(),  # the system's copy of the item attributes
            true_users,
            true_items,
            num_users,
            num_items,
            10,
            score_fn=cosine_similarity,
            seed=seed,
            **kwargs,
        )

    def _update_internal_state(self, interactions):
        users = np.flatnonzero(interactions >= 0)
        picked = interactions[users]
        self.users_hat.value[users] += self.items_hat.value[:, picked].T


# --------------------------------------------------------------------------------------
# 3. A new user behaviour, per agent
# --------------------------------------------------------------------------------------


class ContrarianUser(UserAgent):
    """A user who distrusts the recommender and takes the item it ranked lowest."""

    def choose(self, items_shown):
        return int(items_shown[-1])


# --------------------------------------------------------------------------------------


def _top_item_count(histogram):
    return None if histogram is None else int(np.max(histogram))


def main() -> None:
    pd.set_option("display.width", 120)

    # Give the users real tastes (10 hidden attributes) so that their picks differ; the
    # model still only sees the counts.
    rng = Generator(1)
    popular = NewModel(
        actual_user_representation=rng.normal(size=(500, 10)),
        actual_item_representation=rng.uniform(size=(10, 1250)),
        seed=1,
        measurements=[InteractionMeasurement(), MSEMeasurement()],
    )
    popular.run(timesteps=5, disable_tqdm=True)
    frame = popular.datacollector.get_model_vars_dataframe()
    frame["top_item_count"] = frame["interaction_histogram"].map(_top_item_count)
    print("NewModel (popularity from scratch):")
    print(frame[["num_items", "mse", "top_item_count"]].round(4).to_string())
    print("interactions counted in items_hat:", int(popular.items_hat.value.sum()))

    cosine = CosineModel(
        num_users=200, seed=1, measurements=[InteractionMeasurement(), MSEMeasurement()]
    )
    cosine.run(timesteps=5, disable_tqdm=True)
    frame = cosine.datacollector.get_model_vars_dataframe()
    frame["distinct_items_picked"] = frame["interaction_histogram"].map(
        lambda h: None if h is None else int(np.count_nonzero(h))
    )
    print("\nCosineModel (custom score_fn):")
    print(frame[["mse", "distinct_items_picked"]].round(4).to_string())

    contrarian = NewModel(
        num_users=200,
        seed=1,
        user_agent_class=ContrarianUser,
        measurements=[InteractionMeasurement()],
    )
    contrarian.run(timesteps=3, disable_tqdm=True)
    took_last = np.array_equal(contrarian.interactions, contrarian.items_shown[:, -1])
    print("\nContrarianUser (user_agent_class=):")
    print("every user took the last item shown:", took_last)
    print("user agents:", type(contrarian.agents_by_type[ContrarianUser][0]).__name__)


if __name__ == "__main__":
    main()
