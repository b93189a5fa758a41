"""Information cascades: the diffusion tree of a Bass-style model and its structural virality.

The metrics read what T-RECS's ``BassModel`` exposes: ``infection_state`` (a U×I array or
component: 0 susceptible, 1 infected this step, −1 recovered) and ``users_hat``, the U×U
adjacency in which ``users_hat[u, v] != 0`` means u can be infected by v.

Structural virality follows Goel, Anderson, Hofman and Watts (2016, "The structural
virality of online diffusion", Management Science 62(1)): the mean shortest-path distance
over all pairs of distinct nodes of the tree, ν(T) = 2·W(T) / (n(n−1)), W being the Wiener
index (sum of distances over unordered pairs). T-RECS divides W by n(n−1) and so reports
half of it (2/3 instead of 4/3 for a 3-node path).
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from mesa_recsys import matrix_ops as mo
from mesa_recsys.metrics._common import block_rows
from mesa_recsys.metrics.measurement import Measurement

__all__ = ["DiffusionTreeMeasurement", "StructuralVirality", "structural_virality"]


def structural_virality(tree: nx.Graph) -> float:
    """Mean shortest-path distance between all pairs of distinct nodes of a tree.

    ν(T) = 2·W(T) / (n(n−1)) (Goel et al. 2016, eq. 1). W is computed in O(n) from subtree
    sizes: an edge that splits the tree into s and n − s nodes lies on s·(n − s) paths.

    Args:
        tree: a tree (connected, acyclic; edge directions are ignored).

    Returns:
        the structural virality; NaN for a tree of fewer than 2 nodes (no pairs).

    Raises:
        TypeError: when ``tree`` is not a networkx graph.
        ValueError: when ``tree`` is not a tree (disconnected, or has a cycle).
    """
    if not isinstance(tree, nx.Graph):
        raise TypeError(f"tree: expected a networkx graph, got {type(tree).__name__}")
    graph = tree.to_undirected(as_view=True) if tree.is_directed() else tree
    n = graph.number_of_nodes()
    if n < 2:
        return float("nan")
    if not nx.is_tree(graph):
        raise ValueError(
            f"tree: expected a tree (connected, no cycles), got {n} nodes, "
            f"{graph.number_of_edges()} edges and {nx.number_connected_components(graph)} "
            "connected components"
        )
    root = next(iter(graph.nodes))
    edges = list(nx.bfs_edges(graph, root))  # (parent, child) in breadth-first order
    parent = {child: par for par, child in edges}
    order = [child for _, child in edges]
    size = dict.fromkeys(graph.nodes, 1)
    wiener = 0
    for node in reversed(order):
        s = size[node]
        wiener += s * (n - s)
        size[parent[node]] += s
    return 2.0 * wiener / (n * (n - 1))


class DiffusionTreeMeasurement(Measurement):
    """Grows the diffusion tree of a cascade; records the number of users ever infected.

    At each measurement the users infected now (``infection_state == 1`` for some item)
    who are not yet in the tree become nodes. At the first measurement (or when nobody
    was infected at the previous one) they are roots. Otherwise each one's parent is drawn
    uniformly among the users infected at the previous measurement who can infect it
    (``users_hat[child, parent] != 0``); when none can, the first of them is taken, as in
    T-RECS (``DiffusionTreeMeasurement``). Nodes are user indices; the tree is
    :attr:`diffusion_tree` (a ``networkx.Graph``).

    T-RECS draws parents from numpy's global generator; here they come from this metric's
    own generator, seeded by ``seed`` or, when None, from the model's seed, so a run is
    reproducible and adding the metric does not change the simulation.

    Args:
        verbose: kept for T-RECS compatibility (T-RECS's tests pass the infection state
            here positionally; any value is accepted).
        name: column name.
        seed: seed of the parent draws.

    Raises:
        AttributeError: at measurement time when the model has no ``infection_state``.
        ValueError: at measurement time when ``infection_state`` is not U×I for the
            model's U users.
    """

    def __init__(self, verbose: Any = False, name: str = "num_infected", seed: Any = None) -> None:
        """Create the metric with an empty tree."""
        super().__init__(name, verbose is True)
        self.diffusion_tree = nx.Graph()
        self.seed = seed
        self._rng: np.random.Generator | None = None
        self._old_infected: np.ndarray | None = None

    def _generator(self, recommender: Any) -> np.random.Generator:
        if self._rng is None:
            if self.seed is not None:
                self._rng = np.random.default_rng(self.seed)
            else:
                base = getattr(recommender, "_seed", None)
                self._rng = np.random.default_rng(np.random.SeedSequence(base, spawn_key=(7,)))
        return self._rng

    @staticmethod
    def _infected(recommender: Any) -> np.ndarray:
        if not hasattr(recommender, "infection_state"):
            raise AttributeError(
                f"{type(recommender).__name__} has no infection_state: diffusion metrics need "
                "a Bass-style model"
            )
        state = np.asarray(mo.to_dense(mo.extract_value(recommender.infection_state)))
        if state.ndim == 1:
            state = state[:, None]
        if state.ndim != 2 or state.shape[0] != recommender.num_users:
            raise ValueError(
                f"infection_state: expected shape ({recommender.num_users}, num_items), got "
                f"{state.shape}"
            )
        return np.flatnonzero((state == 1).any(axis=1))

    def _parents(self, recommender: Any, children: np.ndarray) -> np.ndarray | None:
        prev = self._old_infected
        if prev is None or prev.size == 0:
            return None
        adjacency = mo.extract_value(recommender.users_hat)
        rng = self._generator(recommender)
        parents = np.empty(children.size, dtype=np.int64)
        step = block_rows(prev.size)
        for start in range(0, children.size, step):
            rows = children[start : start + step]
            links = np.asarray(mo.to_dense(adjacency[rows][:, prev])) != 0
            weights = links * rng.random(links.shape)
            parents[start : start + rows.size] = prev[np.argmax(weights, axis=1)]
        return parents

    def measure(self, recommender: Any) -> None:
        """Add the newly infected users to the tree; observe the number of nodes."""
        infected = self._infected(recommender)
        new = infected[[not self.diffusion_tree.has_node(int(u)) for u in infected]]
        if new.size:
            parents = self._parents(recommender, new)
            self.diffusion_tree.add_nodes_from(new.tolist())
            if parents is not None:
                self.diffusion_tree.add_edges_from(zip(parents.tolist(), new.tolist()))
        self.observe(self.diffusion_tree.number_of_nodes())
        self._old_infected = infected

    def draw_tree(self, **kwargs: Any) -> None:
        """Draw the tree with networkx (labels on); ``kwargs`` go to ``networkx.draw``."""
        nx.draw(self.diffusion_tree, with_labels=True, **kwargs)


class StructuralVirality(DiffusionTreeMeasurement):
    """:class:`DiffusionTreeMeasurement` plus the tree's structural virality.

    The recorded value is the number of users ever infected, as in T-RECS;
    :meth:`get_structural_virality` returns Goel et al.'s ν = 2W/(n(n−1)) of the tree so far
    (T-RECS returns W/(n(n−1)), half of it).
    """

    def get_structural_virality(self) -> float:
        """Structural virality of the diffusion tree (see :func:`structural_virality`).

        Raises:
            ValueError: when the cascade is not a single tree (several roots).
        """
        return structural_virality(self.diffusion_tree)
