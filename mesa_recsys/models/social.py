"""SocialFiltering: recommend what the people you are connected to consumed."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
from scipy import sparse

from mesa_recsys import matrix_ops as mo
from mesa_recsys.components.social import SocialGraph, to_adjacency
from mesa_recsys.components.users import PredictedScores
from mesa_recsys.models.base import BaseRecommender
from mesa_recsys.random import SocialGraphGenerator, defaults_seed
from mesa_recsys.validate import validate_user_item_inputs

__all__ = ["SocialFiltering"]

#: Largest matrices (cells) scored densely (see :meth:`SocialFiltering.train`).
DENSE_CELLS = 1 << 22


class SocialFiltering(BaseRecommender, SocialGraph):
    """Social filtering with T-RECS's model and defaults.

    The recommender's user representation is the social graph (``users_hat``, U×U,
    ``A[u, v] != 0`` when u sees what v consumes) and its item representation counts
    interactions (``items_hat``, U×I, entry ``[v, i]`` = how many times v chose i). The
    score of item i for user u is ``Σ_v A[u, v] / ||A[u, :]|| · items_hat[v, i]``: what
    u's connections consumed, weighted by the row-normalised graph.

    The graph and the counts are stored as given (a dense array given by the caller is the
    model's own, edited in place, as in T-RECS). The default graph is a G(U, 0.3) random
    graph drawn from ``seed`` (T-RECS's draw), stored as CSR; the default counts are
    zeros, dense up to 2^22 cells (where dense is faster) and CSR beyond.

    Args:
        num_users: U (default 100, or inferred from the representations).
        num_items: I (default 1250).
        user_representation: U×U social graph: array, scipy sparse matrix or networkx graph.
        item_representation: U×I interaction counts (default zeros).
        actual_user_representation: true users (array or ``Users``; default standard
            normal U×U, T-RECS's default).
        actual_item_representation: true item attributes (default: a copy of
            ``item_representation``, T-RECS's default, which makes every true score 0).
        probabilistic_recommendations: sample the recommendations by rank.
        num_items_per_iter: items shown per step (default 10) or ``"all"``.
        seed: seed of the default graph and of the model.
        **kwargs: anything :class:`BaseRecommender` takes.

    Raises:
        ValueError: when the graph is not square or ``item_representation`` does not have
            one row per user.
    """

    def __init__(
        self,
        num_users: int | None = None,
        num_items: int | None = None,
        user_representation: Any = None,
        item_representation: Any = None,
        actual_user_representation: Any = None,
        actual_item_representation: Any = None,
        probabilistic_recommendations: bool = False,
        num_items_per_iter: int | str = 10,
        seed: Any = None,
        **kwargs: Any,
    ) -> None:
        """Build the graph, the counts and the model."""
        if user_representation is not None:
            user_representation = to_adjacency(user_representation, "user_representation")
        num_users, num_items, num_attributes = validate_user_item_inputs(
            num_users,
            num_items,
            user_representation,
            item_representation,
            actual_user_representation,
            actual_item_representation,
            None,
            1250,
            None,
            num_attributes=num_users,
        )
        if num_users is None:
            num_users = num_attributes if num_attributes is not None else 100
        if user_representation is None:
            graph = SocialGraphGenerator.generate_random_graph(
                num_users,
                p=0.3,
                seed=defaults_seed(seed, kwargs.get("rng")),
                graph_type=nx.fast_gnp_random_graph,
            )
            user_representation = sparse.csr_matrix(graph)
        if user_representation.shape != (num_users, num_users):
            raise ValueError(
                f"user_representation: expected a square {num_users}×{num_users} social graph, "
                f"got shape {user_representation.shape}"
            )
        if item_representation is None:  # zero counts, dense while small (as T-RECS)
            small = num_users * max(num_users, num_items) <= DENSE_CELLS
            item_representation = (
                np.zeros((num_users, num_items))
                if small
                else sparse.csr_matrix((num_users, num_items))
            )
        if np.shape(item_representation)[0] != num_users:
            raise ValueError(
                f"item_representation: expected one row per user ({num_users}), got shape "
                f"{np.shape(item_representation)}"
            )
        if actual_item_representation is None:
            # T-RECS's default (a copy of the counts); dense when small, so that the true
            # scores of the shown items are gathered rather than computed for every item
            actual_item_representation = item_representation.copy()
        super().__init__(
            user_representation,
            item_representation,
            actual_user_representation,
            actual_item_representation,
            num_users,
            num_items,
            num_items_per_iter,
            probabilistic_recommendations=probabilistic_recommendations,
            seed=seed,
            **kwargs,
        )

    def train(self) -> None:
        """Recompute the scores from the graph and the counts.

        Small problems (graph and counts of at most 2^22 cells, counts dense) are scored
        directly, and kept up to date between fits: an interaction of user v with item i
        adds column v of the normalised graph to column i of the scores. That running
        score matrix is used only while the graph and the counts are exactly what it was
        built from (an edit by hand, e.g. ``follow`` or a changed ``items_hat``, makes the
        next fit start again from the counts). Larger problems use the sparse product.
        """
        graph, counts = self.users_hat.value, self.items_hat.value
        small = graph.shape[0] * max(graph.shape[1], counts.shape[1]) <= DENSE_CELLS
        if not small or sparse.issparse(counts):
            self._running = None
            super().train()
            return
        dense_graph = np.asarray(mo.to_dense(graph), dtype=float)
        state = getattr(self, "_running", None)
        if not (
            state is not None
            and state["graph"].shape == dense_graph.shape
            and state["counts"].shape == counts.shape
            and np.array_equal(state["graph"], dense_graph)
            and np.array_equal(state["counts"], counts)
        ):
            weights = mo.normalize_matrix(dense_graph)
            scores = np.zeros(counts.shape)
            consumed = np.flatnonzero(counts.any(axis=0))
            if consumed.size:
                # counts are mostly zeros: a sparse product costs U per count and, unlike
                # a small multi-threaded BLAS call, does not stall when the other core is busy
                used = sparse.csr_matrix(counts[:, consumed].T)
                scores[:, consumed] = (used @ weights.T).T
            state = {
                "graph": dense_graph.copy(),
                "counts": np.array(counts, dtype=float),
                "weights": np.ascontiguousarray(weights),
                "scores": scores,
            }
            self._running = state
        if self.predicted_scores is None:
            self.predicted_scores = PredictedScores()
        self.predicted_scores.value = state["scores"].copy()

    def _update_internal_state(self, interactions: np.ndarray) -> None:
        """Add this step's interactions (one per user, ``-1`` = none) to ``items_hat``."""
        counts = self.items_hat.value
        if counts.shape != (self.num_users, self.num_items):
            raise ValueError(
                f"items_hat: expected shape {(self.num_users, self.num_items)}, got {counts.shape}"
            )
        users = np.flatnonzero(interactions >= 0)
        items = interactions[users]
        if sparse.issparse(counts):
            step = sparse.csr_matrix((np.ones(users.size), (users, items)), shape=counts.shape)
            self.items_hat.value = sparse.csr_matrix(counts + step)
            return
        state = getattr(self, "_running", None)
        in_step = state is not None and np.array_equal(state["counts"], counts)
        # one interaction per user: the (user, item) cells are distinct
        counts[users, items] += 1
        if in_step:
            state["counts"][users, items] += 1
            _add_columns(state["scores"], items, state["weights"][:, users])
        elif state is not None:
            self._running = None

    def process_new_items(self, new_items: np.ndarray) -> Any:
        """New items have no interactions yet: U×n zeros (sparse unless counts are dense)."""
        n = new_items.shape[1]
        if sparse.issparse(self.items_hat.value):
            return sparse.csr_matrix((self.num_users, n))
        return np.zeros((self.num_users, n), dtype=self.items_hat.value.dtype)

    def process_new_users(self, new_users: np.ndarray, social_graph: Any = None) -> Any:
        """Grow the graph to the (U+n)×(U+n) ``social_graph`` and give new users no counts.

        Args:
            new_users: n×A true profiles of the new users.
            social_graph: the whole new graph, old users first (required).

        Returns:
            The new users' rows of the graph.

        Raises:
            RuntimeError: when ``social_graph`` is missing.
            ValueError: when it is not (U+n)×(U+n).
        """
        if social_graph is None:
            raise RuntimeError(
                "social_graph: SocialFiltering.add_users needs the whole new social graph "
                "(add_users(new_users, social_graph=...))"
            )
        n = new_users.shape[0]
        old = self.users_hat.value.shape[0]
        graph = to_adjacency(social_graph, "social_graph")
        if graph.shape != (old + n, old + n):
            raise ValueError(
                f"social_graph: expected shape {(old + n, old + n)}, got {graph.shape}"
            )
        counts = self.items_hat.value
        if sparse.issparse(counts):
            self.items_hat.value = sparse.vstack(
                [counts, sparse.csr_matrix((n, counts.shape[1]))], format="csr"
            )
        else:
            self.items_hat.value = np.vstack([counts, np.zeros((n, counts.shape[1]), counts.dtype)])
        current = self.users_hat.value
        new_cols = graph[:old, old:]
        if sparse.issparse(current):
            self.users_hat.value = sparse.hstack([current, sparse.csr_matrix(new_cols)], "csr")
        else:
            cols = new_cols.toarray() if sparse.issparse(new_cols) else new_cols
            self.users_hat.value = np.hstack([current, cols])
        rows = graph[old:, :]
        if sparse.issparse(current):
            return sparse.csr_matrix(rows)
        return rows.toarray() if sparse.issparse(rows) else np.asarray(rows)

    def _extend_scores(self, items: Any = None, users: Any = None) -> None:
        """New users change every row's graph, so the scores are recomputed."""
        if users is not None:
            self.train()
        else:
            super()._extend_scores(items=items, users=users)


def _add_columns(target: np.ndarray, columns: np.ndarray, values: np.ndarray) -> None:
    """``target[:, columns[j]] += values[:, j]`` for every j, repeated columns summed."""
    if columns.size == 0:
        return
    order = np.argsort(columns, kind="stable")
    sorted_cols = columns[order]
    starts = np.flatnonzero(np.r_[True, sorted_cols[1:] != sorted_cols[:-1]])
    target[:, sorted_cols[starts]] += np.add.reduceat(values[:, order], starts, axis=1)
