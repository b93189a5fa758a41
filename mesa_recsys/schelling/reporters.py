"""DataCollector reporters of the Schelling model (module-level, so they pickle).

``happy`` and ``pct_happy`` carry the names and meaning of Mesa's Schelling example
(a count and a percentage); the others are fractions.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    from mesa_recsys.schelling.model import SchellingModel

__all__ = [
    "group_happiness",
    "happy",
    "moves",
    "pct_happy",
    "reporters",
    "segregation",
    "share_happy",
]


def happy(model: SchellingModel) -> int:
    """Number of happy residents."""
    return int(np.count_nonzero(model.is_happy))


def share_happy(model: SchellingModel) -> float:
    """Fraction of residents who are happy."""
    return float(np.mean(model.is_happy))


def pct_happy(model: SchellingModel) -> float:
    """Percentage of residents who are happy (Mesa's example's ``pct_happy``)."""
    return 100.0 * share_happy(model)


def segregation(model: SchellingModel) -> float:
    """Σ same-group neighbour pairs / Σ occupied neighbour pairs (NaN when nobody has one).

    Both sums run over every resident's neighbours, so each pair is counted from both ends,
    which leaves the ratio unchanged.
    """
    same, occupied = model.neighbour_tallies()
    total = int(occupied.sum())
    return float(same.sum() / total) if total else float("nan")


def moves(model: SchellingModel) -> int:
    """Residents who moved in the last step (0 at t=0)."""
    return int(model.moves)


def group_happiness(model: SchellingModel, group: int) -> float:
    """Fraction of the residents of ``group`` who are happy (NaN for an empty group)."""
    members = model.group == group
    n = int(np.count_nonzero(members))
    return float(np.count_nonzero(model.is_happy[members]) / n) if n else float("nan")


def reporters(num_groups: int) -> dict[str, Callable[[Any], Any]]:
    """Every reporter of the model, by column name (``happy_group_0``, ... one per group)."""
    out: dict[str, Callable[[Any], Any]] = {
        "happy": happy,
        "pct_happy": pct_happy,
        "share_happy": share_happy,
        "segregation": segregation,
        "moves": moves,
    }
    for g in range(num_groups):
        out[f"happy_group_{g}"] = partial(group_happiness, group=g)
    return out
