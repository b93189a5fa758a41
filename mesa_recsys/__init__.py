"""mesa_recsys: recommender-system simulations on Mesa, compatible with T-RECS scripts.

Users and items are Mesa agents, the recommender is a ``mesa.Model``, metrics are
DataCollector reporters, and a T-RECS script ports by replacing ``trecs`` with
``mesa_recsys`` in its imports.
"""

from mesa_recsys import components, matrix_ops, metrics, models, random, validate
from mesa_recsys.agents import CreatorAgent, ItemAgent, UserAgent
from mesa_recsys.components import Creators, DNUsers, Items, Users
from mesa_recsys.models import (
    BaseRecommender,
    BassModel,
    ContentFiltering,
    IdealRecommender,
    ImplicitMF,
    PopularityRecommender,
    RandomRecommender,
    SocialFiltering,
    StepOptions,
)
from mesa_recsys.schelling import SchellingModel

__version__ = "0.1.0"

__all__ = [
    "BaseRecommender",
    "BassModel",
    "ContentFiltering",
    "CreatorAgent",
    "Creators",
    "DNUsers",
    "IdealRecommender",
    "ImplicitMF",
    "ItemAgent",
    "Items",
    "PopularityRecommender",
    "RandomRecommender",
    "SchellingModel",
    "SocialFiltering",
    "StepOptions",
    "UserAgent",
    "Users",
    "components",
    "matrix_ops",
    "metrics",
    "models",
    "random",
    "validate",
]
