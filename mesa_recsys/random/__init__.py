"""Seeded random generators, with T-RECS's names.

``Generator(seed)`` is a ``numpy.random.Generator`` (PCG64 by default), so anything drawn
from it is reproducible from the seed. ``SocialGraphGenerator`` draws social networks as
adjacency matrices (T-RECS's way, dense); ``erdos_renyi_graph`` and ``power_law_graph``
draw large ones as scipy sparse matrices.
"""

from __future__ import annotations

import warnings
from typing import Any

import networkx as nx
import numpy as np

from mesa_recsys.random.graphs import erdos_renyi_graph, power_law_graph

__all__ = [
    "Generator",
    "SocialGraphGenerator",
    "defaults_seed",
    "erdos_renyi_graph",
    "power_law_graph",
]


class Generator(np.random.Generator):
    """A numpy Generator seeded from ``seed`` (any value ``numpy.random.SeedSequence`` takes).

    Args:
        seed: int, sequence of ints, SeedSequence, or a ``numpy.random.Generator`` whose
            bit generator is shared; None draws fresh entropy.
        bit_generator: an explicit bit generator; takes precedence over ``seed`` (with a
            UserWarning when both are given), as in T-RECS.
    """

    def __init__(self, seed: Any = None, bit_generator: np.random.BitGenerator | None = None):
        """Create the generator."""
        if bit_generator is not None:
            if seed is not None:
                warnings.warn(
                    "Generator: both seed and bit_generator given; the bit_generator is used",
                    UserWarning,
                    stacklevel=2,
                )
        elif isinstance(seed, np.random.Generator):
            bit_generator = seed.bit_generator
        elif isinstance(seed, np.random.BitGenerator):
            bit_generator = seed
        else:
            bit_generator = np.random.PCG64(np.random.SeedSequence(seed))
        super().__init__(bit_generator)


class SocialGraphGenerator:
    """Random social graphs as dense adjacency matrices (T-RECS's helper)."""

    @staticmethod
    def generate_random_graph(
        num: int, *args: Any, graph_type: Any = None, seed: Any = None, **kwargs: Any
    ) -> np.ndarray:
        """Draw a networkx graph on ``num`` nodes and return its adjacency matrix.

        Args:
            num: number of nodes (users).
            *args: passed to ``graph_type``.
            graph_type: a networkx generator taking ``n`` (default
                ``networkx.fast_gnp_random_graph`` with ``p=0.5`` unless ``p`` is given;
                T-RECS forces 0.5 even when ``p`` is given).
            seed: seed passed to the generator when it accepts one.
            **kwargs: passed to ``graph_type``.

        Returns:
            num×num float adjacency matrix.

        Raises:
            ValueError: when ``num`` is not a positive int.
        """
        if isinstance(num, bool) or not isinstance(num, int | np.integer) or num < 1:
            raise ValueError(f"num: expected a positive int, got {num!r}")
        if graph_type is None:
            graph_type = nx.fast_gnp_random_graph
            kwargs.setdefault("p", 0.5)
        if seed is not None:  # networkx takes an int seed; reduce anything else to one
            if not isinstance(seed, int | np.integer):
                seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
            kwargs["seed"] = int(seed)
        graph = graph_type(*args, n=int(num), **kwargs)
        return nx.to_numpy_array(graph)


def defaults_seed(seed: Any, rng: Any) -> Any:
    """The seed a model draws its default representations from.

    T-RECS models draw their defaults from ``Generator(seed)``. A model built Mesa's way,
    with ``rng=`` (as ``mesa.batch_run`` does), must be just as reproducible, so ``rng``
    stands in when ``seed`` is None: an int or SeedSequence is used as is, a numpy
    Generator gives one draw.

    Args:
        seed: the model's ``seed`` argument.
        rng: the model's ``rng`` argument.

    Returns:
        A value for ``Generator(...)`` or a networkx ``seed`` (None when neither is given).
    """
    if seed is not None or rng is None:
        return seed
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63))
    return rng
