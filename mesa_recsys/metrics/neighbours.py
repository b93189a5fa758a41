"""Each user's most similar other user by cosine similarity, with ties handled exactly.

Chaney et al.'s homogenization measure pairs every user with the user the recommender
thinks most similar. Many recommenders give many users the same estimated profile
(popularity: all ones; random: all zeros), so ties are the rule, not the exception, and how
they are broken decides the pairs. :class:`PartnerIndex` finds, once per set of profiles,
every user's tied best partners, and then draws partners as often as asked:

* ``ties="random"``: uniformly among the tied best partners, a fresh draw each time (the
  T-RECS paper's replication breaks ties with a random key at every measurement);
* ``ties="lowest"``: the lowest user index among them (deterministic).

Users with identical unit profiles are grouped first, so "everybody ties with everybody"
costs O(U) rather than O(U²). Similarities within :data:`TIE_TOLERANCE` of the best count
as ties (floating-point noise must not decide a pair). All-zero profiles have similarity 0
with everyone.

The tied best groups come from a dense scan of all pairs of groups, or, for non-negative
profiles with few non-zeros (content filtering's non-negative least squares estimates), from
a search that looks only at the groups that may be within tolerance of the best
(:mod:`~mesa_recsys.metrics._search`): the same ties, a tenth of the time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy import sparse

from mesa_recsys import matrix_ops as mo
from mesa_recsys.metrics import _kernels, _search
from mesa_recsys.metrics._common import block_rows, check_choice

__all__ = ["TIE_TOLERANCE", "PartnerIndex", "most_similar_users"]

#: Similarities this close to a user's best (relative to max(1, |best|)) are ties.
TIE_TOLERANCE = 1e-12

#: A group whose tied best partners span more groups than this is not stored; its ties are
#: recomputed (one block of similarities) whenever partners are drawn.
MANY_TIES = 64

TIES = ("random", "lowest")

#: Similarities scanned per block when pairing (4 MiB of float64: the block stays in cache
#: between the matrix product that writes it and the scan that reads it).
SCAN_CELLS = 1 << 19

#: The pruned search (:mod:`~mesa_recsys.metrics._search`) replaces the dense scan for at
#: least this many distinct profiles, when they are non-negative, finite and hold at most
#: ``SEARCH_NONZEROS`` non-zeros each on average. Its cost grows with the non-zeros per
#: profile: on uniform random profiles it matches the dense scan at about 5 (of 20, 50 or
#: 200 attributes); on non-negative least squares estimates (about 3.7 of 20) it takes a
#: tenth of the time.
SEARCH_MIN_GROUPS = 256
SEARCH_NONZEROS = 5.0


def _unit_profiles(profiles: Any) -> Any:
    """Unit-norm rows as float (CSR when sparse), or a ValueError naming ``profiles``."""
    profiles = mo.extract_value(profiles)
    if len(profiles.shape) != 2 or profiles.shape[0] < 2:
        raise ValueError(
            f"profiles: expected a U×A matrix with U ≥ 2, got shape {tuple(profiles.shape)}"
        )
    if sparse.issparse(profiles):
        return sparse.csr_matrix(mo.normalize_matrix(sparse.csr_matrix(profiles, dtype=float)))
    return mo.normalize_matrix(np.asarray(profiles, dtype=float))


def _search_lists(unit: Any, workspace: dict | None = None) -> _search.SearchLists | None:
    """Attribute lists for the pruned search of ``unit`` (one row per group), or None.

    None (the dense scan) for fewer than :data:`SEARCH_MIN_GROUPS` rows, or rows with a
    negative or non-finite entry, or more than :data:`SEARCH_NONZEROS` non-zeros per row.
    """
    num_groups, num_attrs = unit.shape
    if num_groups < SEARCH_MIN_GROUPS:
        return None
    nonzeros = _search.nonnegative_csr(unit)
    if nonzeros is None or nonzeros[0][-1] > SEARCH_NONZEROS * num_groups:
        return None
    return _search.build_lists(*nonzeros, num_attrs, workspace)


def _group_identical(unit: Any) -> tuple[np.ndarray, np.ndarray]:
    """Group id of every row, and the rows by group, then index.

    Rows with bit-identical unit vectors share a group. Rows are fingerprinted by two fixed
    random projections (identical rows give identical fingerprints; distinct rows collide
    with probability zero); groups are numbered in the lexicographic order of the
    fingerprints.
    """
    probe = np.random.default_rng(0x5EED).standard_normal((unit.shape[1], 2))
    if sparse.issparse(unit):  # canonical rows: same entries in the same order
        unit.sort_indices()
        keys = np.asarray(unit @ probe)
    else:  # each row summed in attribute order (a BLAS kernel may not)
        keys = _search.fingerprints(unit, probe)
    ranked = _search.rank_rows(keys) if np.isfinite(keys).all() else None
    if ranked is not None:
        return ranked
    # the group ids of np.unique(keys, axis=0, return_inverse=True) (rows sorted
    # lexicographically, equal rows one group), from one lexsort instead of a sort of rows
    order = np.lexsort((keys[:, 1], keys[:, 0]))
    ranked = keys[order]
    new = np.ones(order.size, dtype=bool)
    new[1:] = (ranked[1:] != ranked[:-1]).any(axis=1)
    group = np.empty(order.size, dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    return group, np.argsort(group, kind="stable")


class PartnerIndex:
    """Every wanted user's tied most-similar other users, for drawing partners repeatedly.

    Args:
        profiles: U×A user profiles (dense or sparse), U ≥ 2.
        users: the users to find partners for (default: all). Partners may be any user.
        workspace: a dict of buffers that the search keeps between indexes (a caller that
            builds one index per step passes the same dict each time: no fresh megabytes
            to page in); the index does not hold on to them.

    Raises:
        ValueError: when ``profiles`` is not 2-D or has fewer than 2 rows.
    """

    def __init__(
        self, profiles: Any, users: np.ndarray | None = None, workspace: dict | None = None
    ) -> None:
        """Group identical profiles and find each wanted group's tied best groups."""
        unit = _unit_profiles(profiles)
        num_users = unit.shape[0]
        self.users = (
            np.arange(num_users) if users is None else np.asarray(users, dtype=np.int64).ravel()
        )
        group, self.members = _group_identical(unit)  # members: by group, then user index
        self.group = group
        if sparse.issparse(unit):
            self.sizes = np.bincount(group)
            self.start = np.concatenate([[0], np.cumsum(self.sizes)])
            self.position = np.empty(num_users, dtype=np.int64)
            self.position[self.members] = np.arange(num_users) - self.start[group[self.members]]
            self.first = self.members[self.start[:-1]]  # lowest user of each group
            self.unit = unit[self.first]  # one row per group
        else:
            self.sizes, self.start, self.position, self.first, self.unit = _search.group_layout(
                group, self.members, unit
            )
        num_groups = self.sizes.size
        if users is None:
            wanted = np.arange(num_groups)
        else:  # np.unique(group[self.users])
            wanted = np.flatnonzero(np.bincount(group[self.users], minlength=num_groups))
        self.low_other = np.full(num_groups, num_users, dtype=np.int64)
        self.self_tied = np.zeros(num_groups, dtype=bool)
        self.many = np.zeros(num_groups, dtype=bool)
        counts = np.zeros(num_groups, dtype=np.int64)
        alone = self.sizes == 1
        many_ties = MANY_TIES
        lists = _search_lists(self.unit, workspace)
        if lists is not None:  # the pruned search
            self.tied = self._search(lists, wanted, alone, counts, workspace)
            self.indptr = np.concatenate([[0], np.cumsum(counts)])
            return
        tied = []
        for rows, sims in self._sim_blocks(wanted, SCAN_CELLS):
            cols, n, low, own = _kernels.scan_ties(
                sims, rows, alone, self.first, TIE_TOLERANCE, num_users, many_ties
            )
            self.low_other[rows] = low
            self.self_tied[rows] = own
            self.many[rows] = n > many_ties
            keep = n <= many_ties
            counts[rows[keep]] = n[keep]
            cols = cols[keep]
            tied.append(cols[np.arange(cols.shape[1]) < n[keep][:, None]])
        self.tied = np.concatenate(tied) if tied else np.empty(0, np.int64)
        self.indptr = np.concatenate([[0], np.cumsum(counts)])

    def _search(
        self,
        lists: _search.SearchLists,
        wanted: np.ndarray,
        alone: np.ndarray,
        counts: np.ndarray,
        workspace: dict | None = None,
    ) -> np.ndarray:
        """The tied groups of ``wanted`` by the pruned search, as the dense scan finds them.

        Sets ``low_other``, ``self_tied``, ``many`` and ``counts`` of the wanted groups, and
        returns their tied groups (ascending, group after group). The groups the search
        leaves (zero or low best, many ties) are scanned densely, a block at a time.
        """
        num_users = self.group.size
        many_ties = MANY_TIES
        n, low, own, dense, begin, flat = _search.search_ties(
            lists, wanted, alone, self.first, TIE_TOLERANCE, num_users, many_ties, workspace
        )
        dense = np.flatnonzero(dense)
        runs = [flat]
        size = flat.size
        done = 0
        for rows, sims in self._sim_blocks(wanted[dense], SCAN_CELLS):
            at = dense[done : done + rows.size]
            done += rows.size
            cols, n[at], low[at], own[at] = _kernels.scan_ties(
                sims, rows, alone, self.first, TIE_TOLERANCE, num_users, many_ties
            )
            begin[at] = size + cols.shape[1] * np.arange(rows.size)
            runs.append(cols.ravel())
            size += cols.size
        self.low_other[wanted] = low
        self.self_tied[wanted] = own
        self.many[wanted] = n > many_ties
        keep = n <= many_ties
        counts[wanted[keep]] = n[keep]
        return _search.gather_runs(np.concatenate(runs), begin[keep], n[keep])

    def _sim_blocks(
        self, groups: np.ndarray, max_cells: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(groups, their similarities with every group) for blocks of ``groups``.

        Dense blocks are written into one buffer (a fresh array per block costs page
        faults): each yielded block is valid until the next one.
        """
        num_groups = self.sizes.size
        step = block_rows(num_groups)
        if max_cells is not None:
            step = min(step, max(1, max_cells // max(1, num_groups)))
        dense = not sparse.issparse(self.unit)
        buffer = np.empty((min(step, groups.size), num_groups)) if dense else None
        for begin in range(0, groups.size, step):
            rows = groups[begin : begin + step]
            if dense:
                sims = np.matmul(self.unit[rows], self.unit.T, out=buffer[: rows.size])
            else:
                sims = np.asarray((self.unit[rows] @ self.unit.T).toarray(), dtype=float)
            yield rows, sims

    def _tie_blocks(self, groups: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(groups, tie mask over all groups) for blocks of ``groups``."""
        for rows, block in self._sim_blocks(groups):
            sims = block.copy()
            alone = self.sizes[rows] == 1
            sims[np.flatnonzero(alone), rows[alone]] = -np.inf  # nobody else has this profile
            best = sims.max(axis=1, keepdims=True)
            ties = sims >= best - TIE_TOLERANCE * np.maximum(1.0, np.abs(best))
            yield rows, ties

    def lowest(self) -> np.ndarray:
        """Each wanted user's tied best partner with the lowest index."""
        users = self.users
        g = self.group[users]
        own = self.first[g]
        second = self.members[np.minimum(self.start[g] + 1, self.start[g + 1] - 1)]
        own = np.where(own == users, second, own)
        own = np.where(self.self_tied[g], own, self.group.size)
        return np.minimum(self.low_other[g], own)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """Each wanted user's partner, drawn uniformly among their tied best partners."""
        users = self.users
        if self.sizes.size == 1:  # identical profiles (popularity, random): any other user
            # the general draw's numbers, without its search: u1 (which tied group) is
            # drawn and unused, u2 picks a member other than the user
            span = self.sizes[0] - 1
            u2 = rng.random(2 * users.size)[users.size :]
            k = np.minimum((u2 * span).astype(np.int64), span - 1)
            k += k >= self.position[users]
            return self.members[k]
        out = np.empty(users.size, dtype=np.int64)
        few = ~self.many[self.group[users]]
        if few.any():
            every_group = np.arange(self.sizes.size)
            out[few] = self._draw_from(users[few], every_group, self.indptr, self.tied, rng)
        if not few.all():  # groups with many ties: recompute their ties, a block at a time
            big = np.flatnonzero(~few)
            for rows, ties in self._tie_blocks(np.unique(self.group[users[big]])):
                indptr = np.concatenate([[0], np.cumsum(ties.sum(axis=1))])
                these = big[np.isin(self.group[users[big]], rows)]
                out[these] = self._draw_from(users[these], rows, indptr, np.nonzero(ties)[1], rng)
        return out

    def _draw_from(
        self,
        users: np.ndarray,
        row_groups: np.ndarray,
        indptr: np.ndarray,
        tied: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Partners of ``users`` from a CSR whose row j lists the groups tied for ``row_groups[j]``.

        A tied group is picked with probability proportional to how many candidates it holds
        (its size, less one for the user's own group), then a member of it uniformly.
        """
        owner = np.repeat(row_groups, np.diff(indptr))
        weights = self.sizes[tied] - (tied == owner)
        cum = np.concatenate([[0], np.cumsum(weights)])
        u1 = rng.random(users.size)
        u2 = rng.random(users.size)
        return _kernels.draw_partners(
            users,
            self.group,
            row_groups,
            indptr,
            cum,
            tied,
            self.sizes,
            self.start,
            self.members,
            self.position,
            u1,
            u2,
        )


def most_similar_users(
    profiles: Any,
    users: np.ndarray | None = None,
    ties: str = "lowest",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """For each user, the other user whose profile has the highest cosine similarity.

    Computed a block of users at a time (never U×U at once). All-zero profiles have
    similarity 0 with everyone; similarities within :data:`TIE_TOLERANCE` of the best tie.

    Args:
        profiles: U×A user profiles (dense or sparse), U ≥ 2.
        users: the users to find partners for (default: all).
        ties: ``"lowest"`` (lowest index) or ``"random"`` (uniform among the tied).
        rng: generator for ``ties="random"`` (default: a fresh unseeded one).

    Returns:
        one partner index per requested user.

    Raises:
        ValueError: when ``profiles`` is not 2-D or has fewer than 2 rows, or ``ties`` is
            unknown.
    """
    check_choice("ties", ties, TIES)
    index = PartnerIndex(profiles, users)
    if ties == "lowest":
        return index.lowest()
    return index.draw(rng if rng is not None else np.random.default_rng())
