"""State components with T-RECS's names: users, items, creators, scores."""

from mesa_recsys.components.base import AgentView, BaseComponent, Component, SystemStateModule
from mesa_recsys.components.creators import Creators
from mesa_recsys.components.items import Items, PredictedItems
from mesa_recsys.components.social import SocialGraph, to_adjacency
from mesa_recsys.components.users import (
    ActualUserProfiles,
    ActualUserScores,
    DNUsers,
    PredictedScores,
    PredictedUserProfiles,
    Users,
)

__all__ = [
    "ActualUserProfiles",
    "ActualUserScores",
    "AgentView",
    "BaseComponent",
    "Component",
    "Creators",
    "DNUsers",
    "Items",
    "PredictedItems",
    "PredictedScores",
    "PredictedUserProfiles",
    "SocialGraph",
    "SystemStateModule",
    "Users",
    "to_adjacency",
]
