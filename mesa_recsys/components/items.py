"""Items: true attributes (the AgentSet of item agents) and the recommender's estimate."""

from __future__ import annotations

from typing import Any

import numpy as np

from mesa_recsys import matrix_ops as mo
from mesa_recsys.components.base import AgentView, Component

__all__ = ["Items", "PredictedItems"]


class PredictedItems(Component):
    """The recommender's item representation, ``items_hat``, A×I (name ``"predicted_items"``).

    Args:
        item_attributes: A×I array (dense or sparse), held by reference.
        size: (A, I) shape of zeros when no attributes are given.
        verbose: kept for T-RECS compatibility.
        seed: unused.
        name: history key.
    """

    name = "predicted_items"

    def __init__(
        self,
        item_attributes: Any = None,
        size: tuple[int, int] | None = None,
        verbose: bool = False,
        seed: Any = None,
        name: str | None = None,
    ) -> None:
        """Wrap the attributes."""
        super().__init__(current_state=item_attributes, size=size, verbose=verbose, name=name)

    @property
    def num_attrs(self) -> int:
        """Number of attributes (rows)."""
        return self.shape[0]

    @property
    def num_items(self) -> int:
        """Number of items (columns)."""
        return self.shape[1]

    def append_new_items(self, new_items: Any) -> None:
        """Append columns (A×n) for new items."""
        self.value = mo.hstack([self.value, new_items])


class Items(AgentView, PredictedItems):
    """True item attributes, A×I (name ``"items"``); also the AgentSet of the item agents.

    ``interaction_counts`` holds how many interactions each item has received so far (an
    item agent's ``popularity``), and ``created_at`` the step at which each item appeared.
    """

    name = "items"

    def __init__(
        self,
        item_attributes: Any = None,
        size: tuple[int, int] | None = None,
        verbose: bool = False,
        seed: Any = None,
        name: str = "items",
    ) -> None:
        """Wrap the attributes; see :class:`PredictedItems`."""
        self._init_agentset()
        PredictedItems.__init__(self, item_attributes, size=size, verbose=verbose, name=name)
        self.interaction_counts = np.zeros(self.num_items, dtype=np.int64)
        self.created_at = np.zeros(self.num_items, dtype=np.int64)
        self.creator_of = np.full(self.num_items, -1, dtype=np.int64)

    def append_new_items(
        self, new_items: Any, step: int = 0, creators: np.ndarray | None = None
    ) -> None:
        """Append columns (A×n) for new items created at ``step`` by ``creators``."""
        n = mo.extract_value(new_items).shape[1]
        PredictedItems.append_new_items(self, new_items)
        self.interaction_counts = np.concatenate(
            [self.interaction_counts, np.zeros(n, dtype=np.int64)]
        )
        self.created_at = np.concatenate([self.created_at, np.full(n, step, dtype=np.int64)])
        made_by = np.full(n, -1, dtype=np.int64) if creators is None else np.asarray(creators)
        self.creator_of = np.concatenate([self.creator_of, made_by])

    def count_interactions(self, interactions: np.ndarray) -> None:
        """Add one step's interactions (``-1`` = none) to ``interaction_counts``."""
        valid = interactions[interactions >= 0]
        self.interaction_counts += np.bincount(valid, minlength=self.num_items)

    def __repr__(self) -> str:
        """Sizes, not agents."""
        return f"<Items num_attrs={self.num_attrs} num_items={self.num_items}>"
