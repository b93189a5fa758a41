"""Random social graphs as sparse adjacency matrices, sized for 10^5 users and more.

Every graph uses the models' convention: ``A[u, v] = 1`` when user u sees (or can be
infected by) user v, so content flows from v to u. Nothing here builds a dense U×U matrix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

__all__ = ["erdos_renyi_graph", "power_law_graph"]


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n: expected a positive int, got {n!r}")
    return int(n)


def _check_probability(name: str, p: Any) -> float:
    if not isinstance(p, int | float | np.floating) or not 0 <= p <= 1:
        raise ValueError(f"{name}: expected a probability in [0, 1], got {p!r}")
    return float(p)


def _pairs_to_edges(index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode indices of the unordered pairs {i < j} (row-major) into (i, j)."""
    index = index.astype(np.float64)
    # row i starts at s(i) = i·n − i(i+1)/2; solve s(i) <= k for the largest i
    disc = (2 * n - 1) ** 2 - 8 * index
    i = np.floor(((2 * n - 1) - np.sqrt(disc)) / 2).astype(np.int64)
    start = i * n - i * (i + 1) // 2
    # float rounding can be off by one near row boundaries: fix it exactly
    k = index.astype(np.int64)
    low = start > k
    i[low] -= 1
    start = i * n - i * (i + 1) // 2
    next_start = (i + 1) * n - (i + 1) * (i + 2) // 2
    high = next_start <= k
    i[high] += 1
    start = i * n - i * (i + 1) // 2
    j = k - start + i + 1
    return i, j


def erdos_renyi_graph(
    n: int, p: float, directed: bool = False, seed: Any = None
) -> sparse.csr_matrix:
    """G(n, p): each pair of distinct users is connected with probability ``p``.

    Exact: the number of edges is drawn from its binomial law, then that many distinct
    pairs uniformly, so the cost is O(edges), not O(n²).

    Args:
        n: number of users.
        p: edge probability.
        directed: draw each ordered pair (u sees v) independently; otherwise each
            unordered pair, and the matrix is symmetric.
        seed: anything ``numpy.random.default_rng`` takes.

    Returns:
        n×n CSR float matrix of 0/1 with an empty diagonal.

    Raises:
        ValueError: on a bad ``n`` or ``p``.
    """
    n = _check_n(n)
    p = _check_probability("p", p)
    rng = np.random.default_rng(seed)
    pairs = n * (n - 1) if directed else n * (n - 1) // 2
    m = int(rng.binomial(pairs, p)) if pairs else 0
    index = rng.choice(pairs, size=m, replace=False) if m else np.empty(0, dtype=np.int64)
    if directed:
        rows = index // (n - 1)
        cols = index % (n - 1)
        cols = cols + (cols >= rows)
    else:
        rows, cols = _pairs_to_edges(index, n)
        rows, cols = np.concatenate([rows, cols]), np.concatenate([cols, rows])
    data = np.ones(rows.size)
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))


def power_law_graph(
    n: int,
    exponent: float = 2.3,
    min_degree: int = 1,
    max_degree: int | None = None,
    mutual: bool = False,
    seed: Any = None,
) -> sparse.csr_matrix:
    """A graph whose out-degrees follow a power law (Goel et al. 2016's setting).

    User v reaches ``d_v`` others, with ``P(d) ∝ d^(−exponent)`` for ``min_degree <= d <=
    max_degree``, chosen uniformly among the other users without repeats. In the models'
    convention that is column v of the matrix: ``A[u, v] = 1`` for each of the ``d_v``
    users u who see v. Goel, Anderson, Hofman & Watts (2016) simulate cascades on graphs
    with exponent 2.3.

    Args:
        n: number of users.
        exponent: the power-law exponent (> 1).
        min_degree: smallest out-degree (>= 1).
        max_degree: largest out-degree (default n − 1).
        mutual: make every link go both ways (a symmetric matrix: an undirected graph
            whose degrees keep the power-law tail, in which a user reached by a cascade
            tends to have many contacts, as in a scale-free network).
        seed: anything ``numpy.random.default_rng`` takes.

    Returns:
        n×n CSR float matrix of 0/1 with an empty diagonal.

    Raises:
        ValueError: on a bad argument (named in the message).
    """
    n = _check_n(n)
    if not isinstance(exponent, int | float | np.floating) or exponent <= 1:
        raise ValueError(f"exponent: expected a number > 1, got {exponent!r}")
    top = n - 1 if max_degree is None else max_degree
    if isinstance(min_degree, bool) or not isinstance(min_degree, int | np.integer):
        raise ValueError(f"min_degree: expected an int >= 1, got {min_degree!r}")
    if not 1 <= min_degree <= top <= max(n - 1, 1):
        raise ValueError(
            f"min_degree, max_degree: expected 1 <= min_degree <= max_degree <= n - 1 = "
            f"{n - 1}, got {min_degree} and {top}"
        )
    rng = np.random.default_rng(seed)
    support = np.arange(min_degree, top + 1, dtype=np.float64)
    weights = support ** (-float(exponent))
    cdf = np.cumsum(weights / weights.sum())
    degrees = min_degree + np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    degrees = np.minimum(degrees, top)
    sources = np.repeat(np.arange(n), degrees)
    # targets uniform among the other users, then repeats drawn again until none are left
    targets = _other_users(rng, sources, n)
    while True:
        key = sources * n + targets
        order = np.argsort(key, kind="stable")
        repeat = np.zeros(key.size, dtype=bool)
        repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
        if not repeat.any():
            break
        targets[repeat] = _other_users(rng, sources[repeat], n)
    data = np.ones(sources.size)
    # content flows from source v to target u: A[u, v] = 1
    graph = sparse.csr_matrix((data, (targets, sources)), shape=(n, n))
    if mutual:
        graph = ((graph + graph.T) > 0).astype(float).tocsr()
    return graph


def _other_users(rng: np.random.Generator, sources: np.ndarray, n: int) -> np.ndarray:
    """One user per entry of ``sources``, uniform among the n − 1 others."""
    draw = rng.integers(0, n - 1, size=sources.size)
    return draw + (draw >= sources)
