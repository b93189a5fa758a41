"""Content creators: each step, each creator makes a new item with some probability."""

from __future__ import annotations

from typing import Any

import numpy as np

from mesa_recsys import matrix_ops as mo
from mesa_recsys import validate
from mesa_recsys.components.base import AgentView, Component
from mesa_recsys.random import Generator

__all__ = ["Creators"]


class Creators(AgentView, Component):
    """Creators of new items, C×A* profiles with entries in [0, 1] (name ``"actual_creator_profiles"``).

    Each step each creator makes an item with probability ``creation_probability``; the
    item's attribute a is 1 with probability ``profile[c, a]`` (binary attributes, as in
    T-RECS). ``update_profiles`` is the hook for creators that learn from which of their
    items were consumed; the built-in rule (``learning_rate > 0``) moves each creator's
    profile toward the attributes of its items that were consumed this step.

    Args:
        actual_creator_profiles: C×A* array in [0, 1].
        creation_probability: chance each creator makes an item per step, in [0, 1].
        size: (C, A*) shape of uniform profiles to draw when none are given.
        verbose: kept for T-RECS compatibility.
        seed: seed of this component's generator; when None a model spawns one from its own.
        learning_rate: fraction by which a creator's profile moves toward the mean
            attributes of its consumed items each step (0 = T-RECS's static creators).

    Raises:
        TypeError: on a wrong argument type.
        ValueError: when both profiles and size are missing or a probability is out of range.
    """

    name = "actual_creator_profiles"

    def __init__(
        self,
        actual_creator_profiles: Any = None,
        creation_probability: float = 0.5,
        size: tuple[int, int] | None = None,
        verbose: bool = False,
        seed: Any = None,
        learning_rate: float = 0.0,
    ) -> None:
        """Create the creators; see the class docstring."""
        self._init_agentset()
        self.rng = Generator(seed) if seed is not None else None
        if actual_creator_profiles is None:
            if size is None:
                raise ValueError("Creators: give actual_creator_profiles or size")
            if not isinstance(size, tuple):
                raise TypeError(
                    f"size: expected a tuple (num_creators, num_attributes), got {size!r}"
                )
            gen = self.rng if self.rng is not None else Generator()
            profiles = gen.uniform(size=size)
            while np.any(~profiles.any(axis=1)):
                zero = ~profiles.any(axis=1)
                profiles[zero] = gen.uniform(size=(int(zero.sum()), size[1]))
            actual_creator_profiles = profiles
        validate.check_array("actual_creator_profiles", actual_creator_profiles, ndim=2)
        Component.__init__(self, actual_creator_profiles, verbose=verbose)
        self.creation_probability = validate.check_fraction(
            "creation_probability", creation_probability
        )
        self.learning_rate = validate.check_fraction("learning_rate", learning_rate)
        self.last_creators = np.empty(0, dtype=np.int64)

    @property
    def num_creators(self) -> int:
        """Number of creators."""
        return self.shape[0]

    @property
    def num_attrs(self) -> int:
        """Number of attributes."""
        return self.shape[1]

    def _rng(self) -> np.random.Generator:
        if self.rng is None:
            self.rng = Generator()
        return self.rng

    def generate_items(self) -> np.ndarray:
        """Draw this step's new items.

        Returns:
            A*×n binary attributes of the n new items (n may be 0). The creators who made
            them are in ``last_creators``.

        Raises:
            ValueError: when a profile entry is outside [0, 1].
        """
        profiles = mo.to_dense(self.value)
        if np.any((profiles < 0) | (profiles > 1)):
            raise ValueError("actual_creator_profiles: every entry must be in [0, 1]")
        rng = self._rng()
        makers = np.flatnonzero(rng.binomial(1, self.creation_probability, self.num_creators))
        self.last_creators = makers
        return rng.binomial(1, profiles[makers]).T.astype(float)

    def update_profiles(self, interactions: np.ndarray, items: Any, creator_of=None) -> None:
        """Learn from this step's interactions (no-op unless ``learning_rate > 0``).

        Args:
            interactions: length-U item ids chosen this step (``-1`` = none).
            items: A*×I true item attributes.
            creator_of: length-I creator index of each item (``-1`` = none).
        """
        if self.learning_rate == 0 or creator_of is None:
            return
        chosen = interactions[interactions >= 0]
        made_by = np.asarray(creator_of)[chosen]
        mine = made_by >= 0
        if not np.any(mine):
            return
        attrs = mo.to_dense(mo.extract_value(items))[:, chosen[mine]].T
        sums = np.zeros((self.num_creators, self.num_attrs))
        np.add.at(sums, made_by[mine], attrs)
        counts = np.bincount(made_by[mine], minlength=self.num_creators)
        learn = counts > 0
        profiles = mo.to_dense(self.value).astype(float)
        target = sums[learn] / counts[learn, None]
        profiles[learn] += self.learning_rate * (target - profiles[learn])
        self.value = np.clip(profiles, 0, 1)

    def store_state(self) -> None:
        """Append a copy of the profiles to the history."""
        self.state_history.append(mo.to_dense(self.value).copy())

    def __repr__(self) -> str:
        """Sizes, not agents."""
        return f"<Creators num_creators={self.num_creators} num_attrs={self.num_attrs}>"
