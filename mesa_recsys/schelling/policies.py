"""Recommendation policies: which free cells each unhappy resident is offered.

A policy ranks the free cells for each resident who wants to move; the model offers the
``num_items_per_iter`` best (ties broken at random with the step's seed) and the resident
takes the first offered cell that nobody has taken before it.

* ``"random"``: every free cell is equally good, so the offers are a uniform random
  sample of the free cells, in random order (with one offer, the classic Schelling move).
* ``"similar"``: "places like you": a cell scores the share of the resident's group among
  the cell's occupied neighbours as they are at the start of the step (0 for a cell with
  no occupied neighbour). Residents of one group share one ranking, so the cost is one
  sort of the free cells per group.
* a callable ``policy(model, residents, free_cells) -> scores``: ``residents`` are the
  indices of (a block of) the residents to serve, ``free_cells`` the flat indices of the
  free cells; it returns a ``len(residents) × len(free_cells)`` array, higher is better.
  It is called on blocks of residents so that the scores of all movers never sit in
  memory at once. :func:`neighbourhood_shares` gives the per-group shares to build on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from mesa_recsys import topk

if TYPE_CHECKING:
    from mesa_recsys.schelling.model import SchellingModel

__all__ = ["POLICIES", "PolicyFn", "check_policy", "neighbourhood_shares", "offer_cells"]

#: A user-supplied policy: ``(model, residents, free_cells) -> scores``.
PolicyFn = Callable[["SchellingModel", np.ndarray, np.ndarray], np.ndarray]

#: The built-in policies, by name.
POLICIES = ("random", "similar")


def check_policy(policy: str | PolicyFn) -> str | PolicyFn:
    """Return ``policy`` if it is a known name or a callable.

    Raises:
        ValueError: on an unknown name.
        TypeError: on anything else.
    """
    if isinstance(policy, str):
        if policy not in POLICIES:
            raise ValueError(
                f"policy: expected one of {list(POLICIES)} or a callable, got {policy!r}"
            )
        return policy
    if callable(policy):
        return policy
    raise TypeError(
        f"policy: expected one of {list(POLICIES)} or a callable, got {type(policy).__name__}"
    )


def neighbourhood_shares(model: SchellingModel, cells: np.ndarray | None = None) -> np.ndarray:
    """Share of each group among the occupied neighbours of each cell (0 where none).

    Args:
        model: the Schelling model.
        cells: flat cell indices (default: every cell).

    Returns:
        ``G × len(cells)`` float array.
    """
    counts, occupied = model.neighbour_counts()
    counts = counts.reshape(model.num_groups, -1)
    occupied = occupied.ravel()
    if cells is not None:
        counts, occupied = counts[:, cells], occupied[cells]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(occupied > 0, counts / np.maximum(occupied, 1), 0.0)


def offer_cells(
    model: SchellingModel,
    policy: str | PolicyFn,
    movers: np.ndarray,
    free_cells: np.ndarray,
    k: int,
    seed: int,
) -> np.ndarray:
    """The k cells offered to each mover, best first.

    Args:
        model: the Schelling model.
        policy: a name in :data:`POLICIES` or a :data:`PolicyFn`.
        movers: resident indices of the M residents to serve.
        free_cells: flat indices of the F free cells.
        k: offers per mover (at most F).
        seed: seed of the random draws and tie-breaks.

    Returns:
        M×k int64 flat cell indices.

    Raises:
        ValueError: when a callable policy returns scores of the wrong shape.
    """
    m, f = movers.size, free_cells.size
    if m == 0 or k == 0:
        return np.empty((m, k), dtype=np.int64)
    if policy == "random":
        local = topk.random_k_items(m, f, k, seed)
    elif policy == "similar":
        shares = neighbourhood_shares(model, free_cells)
        groups = model.group[movers]
        local = np.empty((m, k), dtype=np.int64)
        for g in np.unique(groups):
            rows = np.flatnonzero(groups == g)
            # Distinct seeds per group keep the groups' tie-breaks independent.
            local[rows] = topk.top_k_shared(
                shares[g], np.ones(rows.size), k, (seed + int(g) * 0x9E3779B97F4A7C15) % 2**64
            )
    else:

        def block(rows: slice) -> np.ndarray:
            scores = np.asarray(policy(model, movers[rows], free_cells), dtype=np.float64)
            expected = (rows.stop - rows.start, f)
            if scores.shape != expected:
                raise ValueError(
                    f"policy: expected scores of shape {expected} (residents × free cells), "
                    f"got {scores.shape}"
                )
            return scores

        local = topk.top_k_items(block, m, f, k, seed)
    return free_cells[local]
