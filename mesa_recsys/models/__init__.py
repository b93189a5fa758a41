"""Recommender models (``from mesa_recsys.models import ...`` as in T-RECS)."""

from mesa_recsys.models.base import BaseRecommender, StepOptions
from mesa_recsys.models.bass import BassModel
from mesa_recsys.models.content import ContentFiltering
from mesa_recsys.models.ideal import IdealRecommender
from mesa_recsys.models.mf import ImplicitMF
from mesa_recsys.models.popularity import PopularityRecommender
from mesa_recsys.models.random import RandomRecommender
from mesa_recsys.models.social import SocialFiltering

__all__ = [
    "BaseRecommender",
    "BassModel",
    "ContentFiltering",
    "IdealRecommender",
    "ImplicitMF",
    "PopularityRecommender",
    "RandomRecommender",
    "SocialFiltering",
    "StepOptions",
]
