"""Social graphs: who sees (or can be infected by) whom, as an adjacency matrix.

``A[u, v] != 0`` means that user u is connected to user v: in :class:`SocialFiltering`
u sees what v consumed, in :class:`BassModel` u can be infected by v. Graphs come in as
dense arrays, scipy sparse matrices or networkx graphs and go out as networkx graphs.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
from scipy import sparse

__all__ = ["SocialGraph", "to_adjacency"]


def to_adjacency(graph: Any, name: str = "social_graph") -> np.ndarray | sparse.csr_matrix:
    """A U×U float adjacency matrix from an array, a sparse matrix or a networkx graph.

    Dense input stays dense (so that, as in T-RECS, the caller's array is the model's and
    edits show in both); sparse input becomes CSR; a networkx graph becomes CSR with its
    nodes in sorted order (they must be 0..U-1) and edge weights as values (1 when unset).

    Args:
        graph: the adjacency matrix or graph.
        name: the argument's name, for error messages.

    Returns:
        The adjacency matrix.

    Raises:
        TypeError: when ``graph`` is none of the accepted types.
        ValueError: when it is not square or its nodes are not 0..U-1.
    """
    if isinstance(graph, nx.Graph):
        nodes = list(range(graph.number_of_nodes()))
        if set(graph.nodes) != set(nodes):
            raise ValueError(f"{name}: expected a graph whose nodes are 0..U-1")
        value = sparse.csr_matrix(nx.to_scipy_sparse_array(graph, nodelist=nodes, dtype=float))
    elif sparse.issparse(graph):
        value = sparse.csr_matrix(graph, dtype=float)
    elif isinstance(graph, np.ndarray | list):
        value = np.asarray(graph)
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{name}: expected a numeric matrix, got dtype {value.dtype}")
    else:
        raise TypeError(
            f"{name}: expected an array, a scipy sparse matrix or a networkx graph, "
            f"got {type(graph).__name__}"
        )
    if value.ndim != 2 or value.shape[0] != value.shape[1]:
        raise ValueError(f"{name}: expected a square U×U matrix, got shape {value.shape}")
    return value


class SocialGraph:
    """Editing the model's social graph (``users_hat``), with T-RECS's method names.

    Mixed into :class:`SocialFiltering` and :class:`BassModel`. Every method raises
    ``ValueError`` on an index outside ``0..num_users-1`` and does nothing when the edge
    is already as asked. Edits take effect on the scores at the next ``train()``.
    """

    users_hat: Any
    num_users: int

    @property
    def social_graph(self) -> np.ndarray | sparse.csr_matrix:
        """The U×U adjacency matrix (``users_hat``)."""
        return self.users_hat.value

    def to_networkx(self) -> nx.DiGraph:
        """The social graph as a networkx DiGraph (edge u→v when ``A[u, v] != 0``)."""
        value = self.users_hat.value
        matrix = value if sparse.issparse(value) else sparse.csr_matrix(value)
        graph = nx.from_scipy_sparse_array(matrix, create_using=nx.DiGraph)
        return graph

    def _check_index(self, name: str, index: Any) -> int:
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise ValueError(f"{name}: expected a user index (int), got {index!r}")
        if not 0 <= index < self.num_users:
            raise ValueError(f"{name}: expected a user index in [0, {self.num_users}), got {index}")
        return int(index)

    def _set_edges(self, cells: list[tuple[int, int]], value: float) -> None:
        """Set ``A[r, c] = value`` for each cell (in place; sparse via a LIL copy)."""
        current = self.users_hat.value
        todo = [(r, c) for r, c in cells if current[r, c] != value]
        if not todo:
            self.log(f"social graph unchanged: {cells} already {value:g}")
            return
        if sparse.issparse(current):
            edited = current.tolil()
            for r, c in todo:
                edited[r, c] = value
            self.users_hat.value = sparse.csr_matrix(edited)
        else:
            for r, c in todo:
                current[r, c] = value

    def follow(self, user_index: int, following_index: int) -> None:
        """Connect ``following_index`` to ``user_index``: sets ``A[following_index, user_index]``.

        This is T-RECS's behaviour (its docstring says the reverse; its tests and scripts
        rely on this). In SocialFiltering, ``following_index`` then sees what
        ``user_index`` consumes; in BassModel, it can be infected by ``user_index``.

        Args:
            user_index: the user being followed.
            following_index: the follower.
        """
        u = self._check_index("user_index", user_index)
        f = self._check_index("following_index", following_index)
        self._set_edges([(f, u)], 1.0)

    def unfollow(self, user_index: int, following_index: int) -> None:
        """Undo :meth:`follow`: clears ``A[following_index, user_index]``."""
        u = self._check_index("user_index", user_index)
        f = self._check_index("following_index", following_index)
        self._set_edges([(f, u)], 0.0)

    def add_friends(self, user1_index: int, user2_index: int) -> None:
        """Connect two users both ways: ``A[u1, u2] = A[u2, u1] = 1``."""
        a = self._check_index("user1_index", user1_index)
        b = self._check_index("user2_index", user2_index)
        self._set_edges([(a, b), (b, a)], 1.0)

    def remove_friends(self, user1_index: int, user2_index: int) -> None:
        """Disconnect two users both ways: ``A[u1, u2] = A[u2, u1] = 0``."""
        a = self._check_index("user1_index", user1_index)
        b = self._check_index("user2_index", user2_index)
        self._set_edges([(a, b), (b, a)], 0.0)
