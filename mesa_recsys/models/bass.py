"""BassModel: information spreading over a social graph (T-RECS's diffusion model)."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
from scipy import sparse

from mesa_recsys.agents import UserAgent
from mesa_recsys.components.base import Component
from mesa_recsys.components.social import SocialGraph, to_adjacency
from mesa_recsys.components.users import PredictedScores
from mesa_recsys.models.base import BaseRecommender, StepOptions
from mesa_recsys.random import Generator, SocialGraphGenerator, defaults_seed

__all__ = ["BassModel", "BassUserAgent", "InfectionState", "InfectionThresholds"]

#: How a user exposed to an item becomes infected (see :class:`BassModel`).
INFECTION_RULES = ("probabilistic", "threshold")


class InfectionState(Component):
    """U×I infection state: 0 susceptible, 1 infected (this step), −1 recovered."""

    name = "infection_state"

    @property
    def num_infected(self) -> int:
        """Number of (user, item) cells currently infected."""
        return int(np.count_nonzero(np.asarray(self.value) == 1))

    def infected_users(self) -> tuple[np.ndarray, ...]:
        """``np.where(state == 1)``."""
        return np.where(np.asarray(self.value) == 1)

    def recovered_users(self) -> tuple[np.ndarray, ...]:
        """``np.where(state == -1)``."""
        return np.where(np.asarray(self.value) == -1)

    def infect_users(self, user_indices: np.ndarray, item_indices: np.ndarray) -> None:
        """Infect ``(user, item)`` pairs; everyone infected before recovers (−1).

        The infectious period is one step, as in T-RECS: the cells that were 1 or −1
        before this call become −1, then the given cells become 1. The array is changed
        in place (a caller's array passed to the model follows).

        Args:
            user_indices: users newly infected.
            item_indices: the item each of them is infected with.
        """
        state = self.value
        state[state != 0] = -1
        state[
            np.asarray(user_indices, dtype=np.int64), np.asarray(item_indices, dtype=np.int64)
        ] = 1


class InfectionThresholds(Component):
    """1×U per-user infection thresholds (name ``"infection_thresholds"``)."""

    name = "infection_thresholds"


class BassUserAgent(UserAgent):
    """A user of a :class:`BassModel`, with its own infection threshold and state."""

    @property
    def infection_threshold(self) -> float:
        """This user's threshold (used by the ``"threshold"`` infection rule)."""
        return float(self.model.infection_thresholds.value[0, self.index])

    @infection_threshold.setter
    def infection_threshold(self, value: float) -> None:
        if not 0 <= float(value) <= 1:
            raise ValueError(f"infection_threshold: expected a number in [0, 1], got {value!r}")
        self.model.infection_thresholds.value[0, self.index] = float(value)

    @property
    def infection_state(self) -> np.ndarray:
        """This user's row of the infection state (one entry per item)."""
        return np.asarray(self.model.infection_state.value)[self.index]


class BassModel(BaseRecommender, SocialGraph):
    """Independent-cascade diffusion with a one-step infectious period (T-RECS's BassModel).

    Each item i has an infection probability ``p_i`` (``items_hat``, 1×I). ``users_hat`` is
    the U×U social graph, ``A[u, v] != 0`` meaning that u can be infected by v. In a step,
    a susceptible user u is exposed to the item it is shown (one per step) and catches it
    with probability ``P[u, i] = 1 − Π_v (1 − p_i)^{A[u,v]·[v infected with i]}``; users
    infected in the previous step recover (−1) and can no longer be infected. The cascade
    stops when nobody is infected: ``model.running`` turns False then, so ``batch_run``
    and Mesa's ``run_model`` stop by themselves, and ``run()`` with no argument runs to
    that point.

    Two infection rules (``infection_rule``):

    * ``"probabilistic"`` (default, T-RECS): u is infected with probability ``P[u, i]``;
      ``infection_thresholds`` are stored and not used, as in T-RECS.
    * ``"threshold"``: u is infected exactly when ``P[u, i]`` exceeds u's own threshold
      (T-RECS issue #51): threshold 0 infects every exposed user, threshold 1 nobody.
      Thresholds are a 1×U array, or set per agent
      (``agent.infection_threshold = 0.2``).

    The model records who infected whom: ``diffusion_trees[i]`` is a ``networkx.DiGraph``
    per item with an edge v→u when u caught item i from v (v drawn uniformly among u's
    infected neighbours, which is exact when every contact transmits with the same
    probability); ``diffusion_tree`` is the tree of the only item when there is one.

    Args:
        num_users: U (default 100, or from ``infection_state``).
        num_items: I (default 1, or from ``infection_state``).
        infection_state: U×I initial state (default: one random user infected with one
            random item); used in place, not copied.
        infection_thresholds: 1×U thresholds in [0, 1] (default ``|uniform|``, T-RECS).
        item_representation: 1×I infection probabilities (default uniform).
        user_representation: U×U social graph: array, sparse matrix or networkx graph
            (default G(U, 0.3) from ``seed``).
        actual_user_representation: true users (default zeros U×1: users pick the first
            item shown).
        actual_item_representation: true items (default: a copy of ``item_representation``).
        measurements: metrics (default ``[StructuralVirality()]``).
        num_items_per_iter: forced to 1, as in T-RECS.
        seed: seed of the defaults and of the model.
        infection_rule: ``"probabilistic"`` or ``"threshold"``.
        **kwargs: anything :class:`BaseRecommender` takes.

    Raises:
        TypeError: when ``infection_state`` is not a 2-D array.
        ValueError: on inconsistent shapes, thresholds outside [0, 1] or an unknown rule.
    """

    user_agent_class = BassUserAgent
    representations_must_match = False

    def __init__(
        self,
        num_users: int | None = None,
        num_items: int | None = None,
        infection_state: Any = None,
        infection_thresholds: Any = None,
        item_representation: Any = None,
        user_representation: Any = None,
        actual_user_representation: Any = None,
        actual_item_representation: Any = None,
        measurements: list | None = None,
        num_items_per_iter: int = 1,
        seed: Any = None,
        infection_rule: str = "probabilistic",
        **kwargs: Any,
    ) -> None:
        """Build the graph, the infection state and the model."""
        if infection_rule not in INFECTION_RULES:
            raise ValueError(
                f"infection_rule: expected one of {INFECTION_RULES}, got {infection_rule!r}"
            )
        self.infection_rule = infection_rule
        if infection_state is not None:
            if not isinstance(infection_state, np.ndarray) or infection_state.ndim != 2:
                raise TypeError(
                    "infection_state: expected a 2-D numpy array (U×I), got "
                    f"{type(infection_state).__name__}"
                )
            num_users = infection_state.shape[0] if num_users is None else num_users
            num_items = infection_state.shape[1] if num_items is None else num_items
        if user_representation is not None:
            user_representation = to_adjacency(user_representation, "user_representation")
            num_users = user_representation.shape[0] if num_users is None else num_users
        if item_representation is not None:
            item_representation = np.asarray(item_representation, dtype=float)
            if item_representation.ndim != 2 or item_representation.shape[0] != 1:
                raise ValueError(
                    "item_representation: expected a 1×I array of infection probabilities, "
                    f"got shape {item_representation.shape}"
                )
            num_items = item_representation.shape[1] if num_items is None else num_items
        num_users = 100 if num_users is None else num_users
        num_items = 1 if num_items is None else num_items
        seed_defaults = defaults_seed(seed, kwargs.get("rng"))
        generator = Generator(seed_defaults)
        if item_representation is None:
            item_representation = generator.uniform(size=(1, num_items))
        if np.any((item_representation < 0) | (item_representation > 1)):
            raise ValueError("item_representation: infection probabilities must be in [0, 1]")
        if user_representation is None:
            user_representation = sparse.csr_matrix(
                SocialGraphGenerator.generate_random_graph(
                    num_users, p=0.3, seed=seed_defaults, graph_type=nx.fast_gnp_random_graph
                )
            )
        if actual_user_representation is None:
            actual_user_representation = np.zeros((num_users, 1))
        if actual_item_representation is None:
            actual_item_representation = np.array(item_representation, copy=True)
        if infection_state is None:
            infection_state = np.zeros((num_users, num_items))
            infection_state[generator.integers(num_users), generator.integers(num_items)] = 1
        if infection_thresholds is None:
            infection_thresholds = np.abs(generator.uniform(size=(1, num_users)))
        thresholds = np.array(infection_thresholds, dtype=float, ndmin=2)
        if thresholds.shape != (1, num_users) or np.any((thresholds < 0) | (thresholds > 1)):
            raise ValueError(
                f"infection_thresholds: expected 1×{num_users} values in [0, 1], got shape "
                f"{thresholds.shape}"
            )
        if user_representation.shape != (num_users, num_users):
            raise ValueError(
                f"user_representation: expected a square {num_users}×{num_users} social graph, "
                f"got shape {user_representation.shape}"
            )
        if infection_state.shape != (num_users, num_items):
            raise ValueError(
                f"infection_state: expected shape {(num_users, num_items)} (users × items), "
                f"got {infection_state.shape}"
            )
        self.infection_state = InfectionState(infection_state)
        self.infection_thresholds = InfectionThresholds(thresholds)
        self.diffusion_trees: dict[int, nx.DiGraph] = {}
        for user, item in zip(*np.nonzero(infection_state == 1), strict=True):
            self.diffusion_trees.setdefault(int(item), nx.DiGraph()).add_node(int(user))
        if measurements is None:
            from mesa_recsys.metrics import StructuralVirality  # noqa: PLC0415

            measurements = [StructuralVirality()]
        kwargs.setdefault("step_options", StepOptions(repeated_items=True))
        system_state = [self.infection_state, *(kwargs.pop("system_state", None) or [])]
        super().__init__(
            user_representation,
            item_representation,
            actual_user_representation,
            actual_item_representation,
            num_users,
            num_items,
            1,
            measurements=measurements,
            system_state=system_state,
            seed=seed,
            score_fn=self.infection_probabilities,
            **kwargs,
        )
        self.running = self.infection_state.num_infected > 0

    # --- infection --------------------------------------------------------------------------

    def infection_probabilities(self, user_profiles: Any, item_attributes: Any) -> np.ndarray:
        """``P[u, i] = 1 − Π_v (1 − p_i)^{A[u,v] S[v,i]}`` (0 for recovered users).

        Args:
            user_profiles: the U×U social graph (or a block of its rows).
            item_attributes: 1×I infection probabilities.

        Returns:
            The probabilities for the given rows of the graph.
        """
        state = np.asarray(self.infection_state.value, dtype=float)
        infected = (state == 1).astype(float)
        with np.errstate(divide="ignore"):
            log_keep = np.log1p(-np.asarray(item_attributes, dtype=float))  # log(1 − p_i)
        exposure = user_profiles @ infected  # Σ_v A[u, v] S[v, i]
        exposure = exposure.toarray() if sparse.issparse(exposure) else np.asarray(exposure)
        with np.errstate(invalid="ignore"):
            log_escape = np.where(exposure > 0, exposure * log_keep, 0.0)
        probabilities = -np.expm1(log_escape)
        if probabilities.shape[0] == state.shape[0]:
            probabilities[state == -1] = 0.0
        return probabilities

    def train(self) -> None:
        """Recompute every user's infection probabilities from the current state."""
        if self.predicted_scores is None:
            self.predicted_scores = PredictedScores()
        self.predicted_scores.value = self.infection_probabilities(
            self.users_hat.value, self.items_hat.value
        )

    def _update_internal_state(self, interactions: np.ndarray) -> None:
        """Infect the users whose exposure succeeds; record who infected them."""
        users = np.flatnonzero(interactions >= 0)
        items = interactions[users]
        # the probabilities of the start of the step (from the last train), as in T-RECS
        probabilities = self.predicted_scores.block(users)[np.arange(users.size), items]
        state = np.asarray(self.infection_state.value)
        fresh = state[users, items] == 0
        if self.infection_rule == "threshold":
            thresholds = self.infection_thresholds.value[0, users]
            caught = fresh & (probabilities > thresholds)
        else:
            caught = fresh & (self.rng.random(users.size) < probabilities)
        new_users, new_items = users[caught], items[caught]
        self._record_tree(new_users, new_items, state)
        self.infection_state.infect_users(new_users, new_items)
        self.running = self.infection_state.num_infected > 0  # before the step's metrics

    def _record_tree(self, new_users: np.ndarray, new_items: np.ndarray, state: np.ndarray) -> None:
        """Add an edge v→u for each new infection, v uniform among u's infected neighbours."""
        graph = self.users_hat.value
        if sparse.issparse(graph):
            graph = sparse.csr_matrix(graph)
            indptr, indices, data = graph.indptr, graph.indices, graph.data
        for user, item in zip(new_users.tolist(), new_items.tolist(), strict=True):
            if sparse.issparse(graph):
                lo, hi = indptr[user], indptr[user + 1]
                neighbours = indices[lo:hi][data[lo:hi] != 0]
            else:
                neighbours = np.flatnonzero(graph[user])
            sources = neighbours[state[neighbours, item] == 1]
            tree = self.diffusion_trees.setdefault(item, nx.DiGraph())
            if sources.size:
                tree.add_edge(int(sources[self.rng.integers(sources.size)]), user)
            else:
                tree.add_node(user)

    @property
    def diffusion_tree(self) -> nx.DiGraph:
        """The cascade of the only item (``diffusion_trees[0]`` when I == 1).

        Raises:
            ValueError: when the model has several items (use ``diffusion_trees``).
        """
        if self.num_items != 1:
            raise ValueError(
                f"diffusion_tree: the model has {self.num_items} items; use diffusion_trees[i]"
            )
        return self.diffusion_trees.setdefault(0, nx.DiGraph())

    # --- running ----------------------------------------------------------------------------

    def run(
        self,
        timesteps: int | str = "until_completion",
        startup: bool = False,
        train_between_steps: bool = True,
        repeated_items: bool = True,
        disable_tqdm: bool = False,
        max_steps: int = 100_000,
    ) -> None:
        """Run ``timesteps`` steps, or until nobody is infected (``"until_completion"``).

        T-RECS runs in chunks of 50 steps until extinction; here the run stops at the
        step where the last infected users recover, so the history is exactly as long as
        the cascade.

        Args:
            timesteps: number of steps or ``"until_completion"``.
            startup: show random items and do not train.
            train_between_steps: recompute infection probabilities every step (default).
            repeated_items: kept True (users may be shown the same item again).
            disable_tqdm: hide the progress bar.
            max_steps: most steps of an ``"until_completion"`` run (a guard).

        Raises:
            ValueError: on an unknown ``timesteps``.
        """
        if timesteps != "until_completion":
            super().run(
                timesteps,
                startup=startup,
                train_between_steps=train_between_steps,
                repeated_items=repeated_items,
                disable_tqdm=disable_tqdm,
            )
            return
        steps = 0
        while self.infection_state.num_infected > 0 and steps < max_steps:
            super().run(
                1,
                startup=startup,
                train_between_steps=train_between_steps,
                repeated_items=repeated_items,
                disable_tqdm=True,
            )
            steps += 1

    def draw_diffusion_tree(self) -> None:
        """Draw the cascade tree(s) with networkx (needs matplotlib)."""
        for tree in self.diffusion_trees.values():
            nx.draw(tree, with_labels=True)

    def get_structural_virality(self) -> float:
        """Structural virality of the cascade (Goel et al. 2016; 2·W/(n(n−1))).

        Uses the first metric that provides it (T-RECS's behaviour), else the model's own
        tree of the only item.

        Raises:
            ValueError: when no metric provides it and the model has several items.
        """
        for metric in self.metrics:
            if hasattr(metric, "get_structural_virality"):
                return metric.get_structural_virality()
        from mesa_recsys.metrics import structural_virality  # noqa: PLC0415

        if self.num_items != 1:
            raise ValueError("Structural virality metric undefined")
        return structural_virality(self.diffusion_tree.to_undirected())

    def process_new_items(self, new_items: np.ndarray) -> np.ndarray:
        """New items: their probabilities are their true attributes; nobody has them yet."""
        n = new_items.shape[1]
        state = self.infection_state.value
        self.infection_state.value = np.hstack([state, np.zeros((state.shape[0], n))])
        return np.asarray(new_items, dtype=float)
