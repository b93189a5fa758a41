"""Schelling's segregation model as a recommender of free cells on a Mesa grid.

Residents are the users, the cells of an ``OrthogonalMooreGrid`` are the items, and each
step the recommender offers every unhappy resident some free cells: offering random cells
reproduces Schelling's model; offering "places like you" shows what a recommender does to
segregation.

The grid is the one source of truth: residents are ``CellAgent``s on its cells, and its
``resident`` property layer holds the resident index of every cell (``-1`` when free),
kept in step with every move. The three inputs of T-RECS's Schelling example are computed
from it on demand: :attr:`SchellingModel.adjacency_matrix`,
:attr:`SchellingModel.map_matrix` and :attr:`SchellingModel.type_matrix`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import mesa
import numpy as np
from mesa.discrete_space import Cell, OrthogonalMooreGrid
from mesa.discrete_space.cell_agent import HasCell
from mesa.discrete_space.property_layer import PropertyLayer
from scipy import sparse
from tqdm.auto import trange

from mesa_recsys import validate
from mesa_recsys.agents import UserAgent
from mesa_recsys.metrics import Measurement
from mesa_recsys.models.base import BaseRecommender, _seed_value
from mesa_recsys.schelling import neighbourhood, reporters
from mesa_recsys.schelling.agents import Resident
from mesa_recsys.schelling.matrices import SameGroup
from mesa_recsys.schelling.moves import assign_cells
from mesa_recsys.schelling.policies import PolicyFn, check_policy, offer_cells

__all__ = ["SchellingModel"]

_mesa_set_cell = HasCell.cell.fset


@dataclass(frozen=True)
class _Snapshot:
    """What the neighbourhoods look like for one layout (recomputed after any move)."""

    version: int
    counts: np.ndarray  # G×W×H: residents of each group among each cell's neighbours
    occupied: np.ndarray  # W×H: occupied neighbours of each cell
    cell_of: np.ndarray  # U: flat cell index of each resident
    same: np.ndarray  # U: same-group neighbours of each resident
    neighbours: np.ndarray  # U: occupied neighbours of each resident
    share: np.ndarray  # U: same / neighbours (0 with no neighbours)
    happy: np.ndarray  # U: share >= homophily


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


class SchellingModel(BaseRecommender):
    """Schelling's segregation model, with a recommender choosing where residents may move.

    Each step:

    1. every resident computes its happiness: the share of its own group among its occupied
       neighbours (radius ``radius``, Moore) must reach ``homophily``. A resident with no
       occupied neighbour has share 0, as in Mesa's example, so it is unhappy unless
       ``homophily`` is 0;
    2. the recommender offers each unhappy resident ``num_items_per_iter`` of the cells
       that are free at the start of the step, ranked by ``policy`` (see
       :mod:`mesa_recsys.schelling.policies`);
    3. the unhappy residents are served one by one in a random order from the model's
       generator; each takes the first of its offered cells that nobody took before it
       (or, with a ``user_agent_class`` overriding ``Resident.choose``, whichever free
       offered cell its ``choose`` returns), and stays when none is left. A cell vacated
       in this step is free from the next step on;
    4. the movers move on the grid (``resident.cell = cell``), ``interactions`` holds each
       resident's new cell (``-1`` for those who stayed), and the DataCollector records
       the reporters of :mod:`mesa_recsys.schelling.reporters`.

    ``running`` turns False once everybody is happy or nobody could move in a step.

    Items are the ``width × height`` cells, flattened row-major over ``(width, height)``:
    cell ``(x, y)`` is item ``x * height + y``, and the grid's property layers are indexed
    ``[x, y]``. Residents are numbered in that cell order at the start. There is no item
    agent per cell: the grid's cells are the items.

    Args:
        width: grid width (default 20, or the layout's).
        height: grid height (default 20, or the layout's).
        density: chance that a cell is populated at the start, in (0, 1] (with a layout:
            the share of populated cells, set by the model).
        minority_pc: chance that a resident belongs to group 1 (the minority), the rest
            being group 0; default 0.5. Give this or ``group_shares``.
        group_shares: shares of two or more groups (summing to 1); ``model.group_shares``
            holds them (as ``[1 - minority_pc, minority_pc]`` when ``minority_pc`` is given).
        homophily: the wanted share of same-group neighbours, in [0, 1].
        radius: neighbourhood radius (>= 1).
        torus: whether the grid wraps around.
        policy: ``"random"``, ``"similar"`` or a callable
            ``policy(model, residents, free_cells) -> scores`` (higher is better).
        num_items_per_iter: cells offered to each unhappy resident (capped each step at
            the number of free cells), or ``"all"``; default 10 (or every cell of a grid
            with fewer).
        layout: optional ``(width, height)`` integer array giving the group of the
            resident on each cell and ``-1`` for a free cell; replaces the random start
            (``density``, ``minority_pc`` and ``group_shares`` are then unused). The
            number of groups is the largest group + 1 (at least 2).
        seed: seed of the model's generator (T-RECS's name for Mesa's ``rng``).
        rng: Mesa's ``rng`` (seed or Generator); give ``seed`` or ``rng``, not both.
        user_agent_class: a :class:`Resident` subclass for the residents.
        measurements: extra T-RECS-style metrics to record.
        verbose: log at debug level.

    Raises:
        TypeError: on an argument of the wrong type (the message names it).
        ValueError: on an out-of-range value (the message names the argument).
    """

    user_agent_class: ClassVar[type[UserAgent]] = Resident

    def __init__(
        self,
        width: int | None = None,
        height: int | None = None,
        density: float = 0.8,
        minority_pc: float | None = None,
        group_shares: Sequence[float] | None = None,
        homophily: float = 0.4,
        radius: int = 1,
        torus: bool = False,
        policy: str | PolicyFn = "random",
        num_items_per_iter: int | str | None = None,
        layout: Any = None,
        seed: Any = None,
        rng: Any = None,
        user_agent_class: type[Resident] | None = None,
        measurements: list[Measurement] | None = None,
        verbose: bool = False,
    ) -> None:
        """Draw (or take) the layout, place the residents and record t=0."""
        if seed is not None and rng is not None:
            raise ValueError("seed and rng: give one of them, not both")
        self.homophily = validate.check_fraction("homophily", homophily)
        self.radius = validate.check_positive_int("radius", radius, allow_none=False)
        if not isinstance(torus, bool | np.bool_):
            raise TypeError(f"torus: expected a bool, got {type(torus).__name__}")
        self.torus = bool(torus)
        self.policy = check_policy(policy)
        if user_agent_class is not None and not (
            isinstance(user_agent_class, type) and issubclass(user_agent_class, Resident)
        ):
            raise TypeError(
                f"user_agent_class: expected a subclass of Resident, got {user_agent_class!r}"
            )
        generator = np.random.default_rng(rng if rng is not None else _seed_value(seed))
        shares = None
        if layout is None:
            width = 20 if width is None else width
            height = 20 if height is None else height
            validate.check_positive_int("width", width, allow_none=False)
            validate.check_positive_int("height", height, allow_none=False)
            density = _check_density(density)
            shares = _check_shares(minority_pc, group_shares)
            layout = _draw_layout(generator, int(width), int(height), density, shares)
            num_groups = shares.size
        else:
            layout = _check_layout(layout, width, height)
            num_groups = max(2, int(layout.max()) + 1)
        self.width, self.height = (int(n) for n in layout.shape)
        self.num_groups = num_groups
        start_cells = np.flatnonzero(layout.ravel() >= 0)
        if start_cells.size == 0:
            raise ValueError(
                "density: no cell was populated at the start; raise density or enlarge the "
                "grid (or give a layout with at least one resident)"
            )
        self._group = _read_only(layout.ravel()[start_cells].astype(np.int64))
        if shares is None:  # an explicit layout: what it holds
            density = start_cells.size / layout.size
            shares = np.bincount(self._group, minlength=num_groups) / start_cells.size
        self.density = float(density)
        self.group_shares = _read_only(shares)
        self._start_cells = start_cells
        self._layout_version = 0
        self._snapshot_cache: _Snapshot | None = None
        self.moves = 0

        num_users, num_items = start_cells.size, self.width * self.height
        if num_items_per_iter is None:
            num_items_per_iter = min(10, num_items)
        profiles = np.zeros((num_users, num_groups), dtype=np.int8)
        profiles[np.arange(num_users), self._group] = 1
        super().__init__(
            np.zeros((num_users, 1), dtype=np.int8),
            np.zeros((1, num_items), dtype=np.int8),
            profiles,
            np.zeros((num_groups, num_items), dtype=np.int8),
            num_users,
            num_items,
            num_items_per_iter,
            verbose=verbose,
            rng=generator,
            user_agent_class=user_agent_class,
        )
        del self._start_cells
        self.datacollector = mesa.DataCollector(
            model_reporters={"num_items": "num_items", **reporters.reporters(num_groups)}
        )
        self.running = bool(not self.is_happy.all() and self.free_cells.size > 0)
        self.datacollector.collect(self)
        if measurements:
            self.add_metrics(*measurements)

    @classmethod
    def from_layout(cls, layout: Any, **kwargs: Any) -> Self:
        """A model starting from an explicit layout.

        Args:
            layout: ``(width, height)`` integer array: the group of the resident on each
                cell (``layout[x, y]``), ``-1`` for a free cell.
            **kwargs: any other constructor argument (``homophily``, ``radius``, ...).

        Returns:
            The model.
        """
        return cls(layout=layout, **kwargs)

    # --- the grid and the residents ---------------------------------------------------------

    def _create_agents(self, cls: type, view: Any, start: int, stop: int) -> None:
        """Residents go onto the grid; the cells themselves are the items (no item agents)."""
        view.random = self.random
        if view is self.items:
            return
        if start != 0:
            raise RuntimeError(f"{type(self).__name__} does not support new users")
        self.grid = OrthogonalMooreGrid(
            (self.width, self.height), torus=self.torus, capacity=1, random=self.random
        )
        self.resident_layer: PropertyLayer = self.grid.create_property_layer(
            "resident", default_value=-1, dtype=np.int64
        )
        cells: list[Cell | None] = [None] * (self.width * self.height)
        for cell in self.grid.all_cells:
            x, y = cell.coordinate
            cells[x * self.height + y] = cell
        self._cells: list[Cell] = cells
        self._residents: list[Resident] = [cls(self, i) for i in range(start, stop)]
        for agent, c in zip(self._residents, self._start_cells):
            view._agents[agent] = None
            agent.cell = cells[c]

    def add_users(self, new_users: Any, **kwargs: Any) -> None:
        """Residents cannot be added to a running Schelling model.

        Raises:
            RuntimeError: always.
        """
        raise RuntimeError(f"{type(self).__name__} does not support new users")

    @property
    def residents(self) -> list[Resident]:
        """The resident agents, by index (a copy of the list)."""
        return list(self._residents)

    def cell_at(self, item: int) -> Cell:
        """The grid cell of flat index ``item`` (``x * height + y``)."""
        return self._cells[item]

    def _layout_changed(self) -> None:
        self._layout_version += 1

    def _snapshot(self) -> _Snapshot:
        snap = self._snapshot_cache
        if snap is not None and snap.version == self._layout_version:
            return snap
        occupant = self.resident_layer.data
        flat = occupant.ravel()
        cells = np.flatnonzero(flat >= 0)
        residents = flat[cells]
        cell_of = np.full(self.num_users, -1, dtype=np.int64)
        cell_of[residents] = cells
        if cells.size != self.num_users:
            off = np.flatnonzero(cell_of < 0)
            raise RuntimeError(
                f"residents {off[:10].tolist()} are not on the grid (removed?); every resident "
                "of a Schelling model must live on a cell"
            )
        group_of_cell = np.full(flat.size, -1, dtype=np.int64)
        group_of_cell[cells] = self._group[residents]
        onehot = (
            group_of_cell.reshape(1, self.width, self.height)
            == np.arange(self.num_groups)[:, None, None]
        ).astype(np.int32)
        counts = neighbourhood.window_sum(onehot, self.radius, self.torus) - onehot
        occupied = counts.sum(axis=0)
        same = counts.reshape(self.num_groups, -1)[self._group, cell_of]
        neighbours = occupied.ravel()[cell_of]
        share = np.zeros(self.num_users)
        np.divide(same, neighbours, out=share, where=neighbours > 0)
        snap = _Snapshot(
            version=self._layout_version,
            counts=_read_only(counts),
            occupied=_read_only(occupied),
            cell_of=_read_only(cell_of),
            same=_read_only(same),
            neighbours=_read_only(neighbours),
            share=_read_only(share),
            happy=_read_only(share >= self.homophily),
        )
        self._snapshot_cache = snap
        return snap

    # --- what the grid says, as arrays -------------------------------------------------------

    @property
    def group(self) -> np.ndarray:
        """Length-U group of each resident (read-only)."""
        return self._group

    @property
    def map_matrix(self) -> np.ndarray:
        """num_items × 1: the resident on each cell, ``-1`` if free (a read-only view of the grid).

        Row ``x * height + y`` is cell ``(x, y)``.
        """
        return _read_only(self.resident_layer.data.reshape(-1, 1))

    @property
    def adjacency_matrix(self) -> sparse.csr_array:
        """U×U sparse 0/1 matrix: 1 where two residents are neighbours now (computed)."""
        return neighbourhood.adjacency(
            self.resident_layer.data, self.num_users, self.radius, self.torus
        )

    @property
    def type_matrix(self) -> SameGroup:
        """U×U "same group" matrix, held as the group vector (no U² memory)."""
        return SameGroup(self._group, self.num_groups)

    @property
    def cell_of_resident(self) -> np.ndarray:
        """Length-U flat index of each resident's cell (read-only)."""
        return self._snapshot().cell_of

    @property
    def free_cells(self) -> np.ndarray:
        """Flat indices of the free cells, ascending."""
        return np.flatnonzero(self.resident_layer.data.ravel() < 0)

    def neighbour_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Per cell, the residents of each group among its neighbours, and their total.

        Returns:
            ``(counts, occupied)``: G×width×height and width×height int arrays (read-only).
        """
        snap = self._snapshot()
        return snap.counts, snap.occupied

    def neighbour_tallies(self) -> tuple[np.ndarray, np.ndarray]:
        """Per resident, its same-group neighbours and its occupied neighbours.

        Equal to ``(adjacency ∘ type).sum(1)`` and ``adjacency.sum(1)``, computed from the
        grid by shifted sums.

        Returns:
            ``(same, occupied)``: two length-U int arrays (read-only).
        """
        snap = self._snapshot()
        return snap.same, snap.neighbours

    @property
    def similar_share(self) -> np.ndarray:
        """Length-U share of same-group neighbours among occupied ones (0 with none)."""
        return self._snapshot().share

    @property
    def is_happy(self) -> np.ndarray:
        """Length-U bool: whether each resident is happy (read-only)."""
        return self._snapshot().happy

    @property
    def happy(self) -> int:
        """Number of happy residents (the attribute of Mesa's example)."""
        return int(np.count_nonzero(self.is_happy))

    # --- one step -----------------------------------------------------------------------------

    def step(self) -> None:
        """Offer cells to the unhappy, let them choose and move, then record."""
        movers = np.flatnonzero(~self.is_happy)
        free = self.free_cells
        k = min(self.num_items_per_iter, free.size)
        shown = np.full((self.num_users, self.num_items_per_iter), -1, dtype=np.int64)
        interactions = np.full(self.num_users, -1, dtype=np.int64)
        if movers.size and k:
            seed = int(self.rng.integers(0, 2**63))
            offers = offer_cells(self, self.policy, movers, free, k, seed)
            shown[movers, :k] = offers
            order = self.rng.permutation(movers.size)
            if self.user_agent_class.choose is Resident.choose:
                chosen = assign_cells(offers, order, self.num_items)
            else:
                chosen = self._choose_per_agent(movers, offers, order)
            interactions[movers] = chosen
        self.items_shown = shown
        self.interactions = interactions
        self.items.count_interactions(interactions)
        self._update_internal_state(interactions)
        self.record_state()
        self.running = bool(self.moves > 0 and not self.is_happy.all())
        self.datacollector.collect(self)

    def run(self, timesteps: int = 50, disable_tqdm: bool = False) -> None:
        """Run exactly ``timesteps`` steps with a progress bar (T-RECS's ``run``).

        The recommender's step options (``startup``, ``repeated_items``, ...) do not apply
        to Schelling; Mesa's ``run_model()`` runs until ``running`` turns False instead.

        Args:
            timesteps: number of steps.
            disable_tqdm: hide the progress bar.
        """
        validate.check_positive_int("timesteps", timesteps, minimum=0, allow_none=False)
        for _ in trange(timesteps, disable=disable_tqdm, desc=type(self).__name__):
            self.step()

    def _choose_per_agent(
        self, movers: np.ndarray, offers: np.ndarray, order: np.ndarray
    ) -> np.ndarray:
        """Ask each mover's ``choose`` in turn, with only the offered cells still free."""
        taken = np.zeros(self.num_items, dtype=bool)
        chosen = np.full(movers.size, -1, dtype=np.int64)
        for i in order:
            row = offers[i]
            row = row[row >= 0]
            available = row[~taken[row]]
            pick = self._residents[movers[i]].choose(available)
            if pick is None:
                continue
            if int(pick) not in set(available.tolist()):
                raise ValueError(
                    f"choose: resident {int(movers[i])} picked cell {pick}, which is not one "
                    f"of its offered cells still free {available.tolist()}"
                )
            taken[int(pick)] = True
            chosen[i] = int(pick)
        return chosen

    def _update_internal_state(self, interactions: np.ndarray) -> None:
        """Move every resident with ``interactions[u] >= 0`` to that (free) cell.

        Args:
            interactions: length-U flat cell index per resident, ``-1`` to stay.

        Raises:
            ValueError: when a target cell is out of range, occupied, or chosen twice.
        """
        interactions = np.asarray(interactions)
        if interactions.shape != (self.num_users,):
            raise ValueError(
                f"interactions: expected shape ({self.num_users},), got {interactions.shape}"
            )
        movers = np.flatnonzero(interactions >= 0)
        targets = interactions[movers].astype(np.int64)
        layer = self.resident_layer.data
        if targets.size:
            if targets.max() >= self.num_items:
                raise ValueError("interactions: a cell index is >= num_items")
            tx, ty = np.divmod(targets, self.height)
            if np.any(layer[tx, ty] >= 0) or np.unique(targets).size != targets.size:
                raise ValueError("interactions: every target cell must be free and distinct")
        origins = self.cell_of_resident[movers]
        residents, cells = self._residents, self._cells
        for u, c in zip(movers.tolist(), targets.tolist()):
            _mesa_set_cell(residents[u], cells[c])  # Mesa's move; the layer follows below
        if targets.size:
            ox, oy = np.divmod(origins, self.height)
            layer[ox, oy] = -1
            layer[tx, ty] = movers
        self.moves = int(movers.size)
        self._layout_changed()


def _check_density(density: Any) -> float:
    if isinstance(density, bool) or not isinstance(density, int | float | np.number):
        raise TypeError(f"density: expected a number in (0, 1], got {type(density).__name__}")
    if not 0 < density <= 1:
        raise ValueError(f"density: expected a number in (0, 1], got {density}")
    return float(density)


def _check_shares(minority_pc: Any, group_shares: Any) -> np.ndarray:
    if minority_pc is not None and group_shares is not None:
        raise ValueError("minority_pc and group_shares: give one of them, not both")
    if group_shares is None:
        p = validate.check_fraction("minority_pc", 0.5 if minority_pc is None else minority_pc)
        return np.array([1.0 - p, p])
    try:
        shares = np.asarray(group_shares, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"group_shares: expected a sequence of numbers, got {group_shares!r}"
        ) from err
    if shares.ndim != 1 or shares.size < 2:
        raise ValueError(
            f"group_shares: expected the shares of two or more groups, got {group_shares!r}"
        )
    if np.any(~np.isfinite(shares)) or np.any(shares < 0) or not np.isclose(shares.sum(), 1.0):
        raise ValueError(
            f"group_shares: expected non-negative shares summing to 1, got {group_shares!r} "
            f"(sum {shares.sum():g})"
        )
    return shares / shares.sum()


def _draw_layout(
    rng: np.random.Generator, width: int, height: int, density: float, shares: np.ndarray
) -> np.ndarray:
    """Each cell populated with chance ``density``, by a group drawn from ``shares``."""
    populated = rng.random(width * height) < density
    layout = np.full(width * height, -1, dtype=np.int64)
    layout[populated] = rng.choice(shares.size, size=int(populated.sum()), p=shares)
    return layout.reshape(width, height)


def _check_layout(layout: Any, width: Any, height: Any) -> np.ndarray:
    arr = np.asarray(layout)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(
            f"layout: expected a non-empty 2-D (width, height) array, got shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"layout: expected integers (a group per cell, -1 = free), got {arr.dtype}")
    if arr.min() < -1:
        raise ValueError(f"layout: expected groups >= 0 and -1 for free cells, got {arr.min()}")
    for name, given, actual in (("width", width, arr.shape[0]), ("height", height, arr.shape[1])):
        if given is not None and given != actual:
            raise ValueError(f"{name}: expected {actual} (from layout.shape), got {given}")
    return arr.astype(np.int64)
