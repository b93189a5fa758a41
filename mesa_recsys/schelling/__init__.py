"""Schelling's segregation model as a recommender of free cells on a ``mesa.discrete_space`` grid.

``SchellingModel`` is a :class:`~mesa_recsys.models.BaseRecommender`: residents
(:class:`Resident`, a ``UserAgent`` and a ``CellAgent``) are the users, the grid's cells are
the items, and a policy (``"random"``, ``"similar"`` or a callable) decides which free cells
each unhappy resident is offered.
"""

from mesa_recsys.schelling import neighbourhood, policies, reporters
from mesa_recsys.schelling.agents import Resident
from mesa_recsys.schelling.matrices import SameGroup
from mesa_recsys.schelling.model import SchellingModel
from mesa_recsys.schelling.policies import POLICIES, neighbourhood_shares

__all__ = [
    "POLICIES",
    "Resident",
    "SameGroup",
    "SchellingModel",
    "neighbourhood",
    "neighbourhood_shares",
    "policies",
    "reporters",
]
