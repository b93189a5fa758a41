"""Residents: the users of the Schelling recommender, living on cells of a Mesa grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import Cell, CellAgent
from mesa.discrete_space.cell_agent import HasCell

from mesa_recsys.agents import UserAgent

if TYPE_CHECKING:
    from mesa_recsys.schelling.model import SchellingModel

__all__ = ["Resident"]

_mesa_set_cell = HasCell.cell.fset


class Resident(UserAgent, CellAgent):
    """A resident: user ``index`` of the model and a ``CellAgent`` on its grid.

    Its cell is where Mesa keeps it (``resident.cell``, ``cell.agents``); the grid's
    ``resident`` property layer, which holds the resident index of every cell, follows
    every move made through ``resident.cell = ...`` or ``resident.move_to(...)``. Its group
    and happiness are read from the model, never stored on the agent.

    Args:
        model: the Schelling model.
        index: the resident's row in every user-indexed array.
    """

    model: SchellingModel

    @property
    def cell(self) -> Cell | None:
        """The cell the resident lives on."""
        return self._mesa_cell

    @cell.setter
    def cell(self, cell: Cell | None) -> None:
        old = self._mesa_cell
        if cell is old:
            return
        _mesa_set_cell(self, cell)  # Mesa's own move: checks capacity, updates the cells
        layer = self.model.resident_layer.data
        if old is not None:
            layer[old.coordinate] = -1
        if cell is not None:
            layer[cell.coordinate] = self.index
        self.model._layout_changed()

    @property
    def group(self) -> int:
        """The resident's group (0..G-1)."""
        return int(self.model.group[self.index])

    @property
    def type(self) -> int:
        """Mesa's Schelling example calls the group ``type``."""
        return self.group

    @property
    def happy(self) -> bool:
        """Whether the share of its group among its occupied neighbours reaches ``homophily``."""
        return bool(self.model.is_happy[self.index])

    @property
    def similar_share(self) -> float:
        """Share of its own group among its occupied neighbours (0 with no neighbours)."""
        return float(self.model.similar_share[self.index])

    def choose(self, items_shown: np.ndarray) -> int | None:
        """Pick a cell among those offered that are still free (best first).

        The model passes only the offered cells nobody has taken yet, in the recommender's
        order; the default takes the first. Override it in a subclass (and pass the class
        as ``user_agent_class``) to let each resident decide for itself; return None to stay.

        Args:
            items_shown: flat indices of the offered cells still free, best first.

        Returns:
            The chosen cell's flat index, or None to stay.
        """
        return int(items_shown[0]) if len(items_shown) else None

    def __repr__(self) -> str:
        """Index, group and cell."""
        coord = None if self._mesa_cell is None else self._mesa_cell.coordinate
        return f"<Resident index={self.index} group={self.group} cell={coord}>"
