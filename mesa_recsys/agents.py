"""User, item and creator agents: Mesa agents that are handles onto rows of the state.

An agent stores only its ``index``; everything else (``profile``, ``shown_items``,
``popularity``, ...) is read from the model's arrays, so agents and arrays never drift
apart. They work with every AgentSet verb and with ``DataCollector(agent_reporters=...)``.

To give users a behaviour of your own, subclass :class:`UserAgent`, override
:meth:`UserAgent.choose`, and pass the class as ``user_agent_class`` to the model: the
model then asks each agent in turn (the per-agent path, slower than the default
whole-array rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from mesa_recsys import matrix_ops as mo

if TYPE_CHECKING:
    from mesa_recsys.models.base import BaseRecommender

__all__ = ["CreatorAgent", "ItemAgent", "UserAgent"]


class UserAgent(mesa.Agent):
    """A user: a handle onto row ``index`` of the users' arrays.

    Args:
        model: the recommender model.
        index: the user's row in every user-indexed array.
    """

    def __init__(self, model: BaseRecommender, index: int) -> None:
        """Create the handle."""
        super().__init__(model)
        self.index = int(index)

    @property
    def profile(self) -> np.ndarray:
        """True preferences (a view of the row; write through it to change them)."""
        return self.model.users.actual_user_profiles.value[self.index]

    @property
    def predicted_profile(self) -> np.ndarray:
        """The recommender's estimate of this user's preferences."""
        return mo.to_dense(self.model.users_hat.value[self.index]).ravel()

    @property
    def shown_items(self) -> np.ndarray:
        """Item ids shown this step, best first (empty before the first step)."""
        return self.model.items_shown[self.index]

    @property
    def last_interaction(self) -> int | None:
        """Item chosen in the last step; None before the first step or when it chose none."""
        if self.model.interactions.shape[-1] == 0 or self.model.interactions.ndim != 1:
            return None
        item = int(self.model.interactions[self.index])
        return None if item < 0 else item

    @property
    def actual_scores(self) -> np.ndarray:
        """True scores of every item for this user (computed for this row only)."""
        users = self.model.users
        if users.actual_user_scores.explicit:
            return mo.to_dense(users.actual_user_scores.value[self.index]).ravel()
        profile = users.actual_user_profiles.value[self.index : self.index + 1]
        return mo.to_dense(users.score_fn(profile, self.model.items.value)).ravel()

    @property
    def predicted_scores(self) -> np.ndarray:
        """The recommender's predicted score of every item for this user."""
        rows = slice(self.index, self.index + 1)
        return self.model.predicted_scores.block(rows).ravel()

    def choose(self, items_shown: np.ndarray) -> int | None:
        """Pick one of ``items_shown`` (or None to interact with nothing).

        The default applies the model's vectorised rule to this one user; override it in a
        subclass to give users a behaviour of your own. Every user is asked each step; the
        users' ``interaction_probability`` is applied afterwards, as on the vectorised path,
        so a user who sits the step out gets ``-1`` whatever this returns.

        Args:
            items_shown: the item ids shown to this user, best first.

        Returns:
            The chosen item id, or None.
        """
        users = self.model.users
        scores = self.actual_scores[items_shown][None, :].astype(float)
        scores = users.attention_transform(users.choice_scores(scores))[0]
        if not users.repeat_interactions and users.user_interactions.shape[1]:
            seen = np.isin(items_shown, users.user_interactions[self.index])
            if seen.all():
                return None
            scores = np.where(seen, -np.inf, scores)
        return int(items_shown[int(np.argmax(scores))])

    def __repr__(self) -> str:
        """Index and id."""
        return f"<{type(self).__name__} index={self.index} id={self.unique_id}>"


class ItemAgent(mesa.Agent):
    """An item: a handle onto column ``index`` of the items' arrays.

    Args:
        model: the recommender model.
        index: the item's column in every item-indexed array.
    """

    def __init__(self, model: BaseRecommender, index: int) -> None:
        """Create the handle."""
        super().__init__(model)
        self.index = int(index)

    @property
    def attributes(self) -> np.ndarray:
        """True attributes (a column of ``model.items``)."""
        return mo.to_dense(self.model.items.value[:, self.index]).ravel()

    @property
    def predicted_attributes(self) -> np.ndarray:
        """The recommender's representation of this item."""
        return mo.to_dense(self.model.items_hat.value[:, self.index]).ravel()

    @property
    def popularity(self) -> int:
        """Number of interactions received so far."""
        return int(self.model.items.interaction_counts[self.index])

    @property
    def created_at(self) -> int:
        """Step at which the item appeared (0 for the initial catalogue)."""
        return int(self.model.items.created_at[self.index])

    @property
    def creator(self) -> CreatorAgent | None:
        """The creator agent that made the item, if any."""
        c = int(self.model.items.creator_of[self.index])
        return None if c < 0 else self.model.creators.to_list()[c]

    def __repr__(self) -> str:
        """Index and id."""
        return f"<ItemAgent index={self.index} id={self.unique_id}>"


class CreatorAgent(mesa.Agent):
    """A content creator: a handle onto row ``index`` of the creators' profiles.

    Args:
        model: the recommender model.
        index: the creator's row.
    """

    def __init__(self, model: BaseRecommender, index: int) -> None:
        """Create the handle."""
        super().__init__(model)
        self.index = int(index)

    @property
    def profile(self) -> np.ndarray:
        """Probability of each attribute in this creator's items."""
        return mo.to_dense(self.model.creators.value[self.index]).ravel()

    @property
    def num_items_created(self) -> int:
        """How many items this creator has made."""
        return int(np.count_nonzero(self.model.items.creator_of == self.index))

    def __repr__(self) -> str:
        """Index and id."""
        return f"<CreatorAgent index={self.index} id={self.unique_id}>"


def overrides_choose(cls: type[Any]) -> bool:
    """Whether a UserAgent subclass brings its own ``choose``."""
    return getattr(cls, "choose", None) is not UserAgent.choose
