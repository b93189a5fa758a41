"""Ranking quality: T-RECS's recall of interactions, and NDCG@k / recall@k against true scores.

- :class:`RecallMeasurement` is the metric T-RECS added in PR #107 and later reverted
  (branch ``fix-recall-metric``): the share of users whose chosen item is among the k
  best-scored items of their list.
- :class:`NDCGAtK` and :class:`RecallAtK` compare the recommender's ranking with the users'
  *true* scores, which a simulation knows and a real system does not (Järvelin and
  Kekäläinen 2002, "Cumulated gain-based evaluation of IR techniques", for DCG).

Scores are read a block of users at a time; no U×I matrix is built beyond what the model
already holds. With T-RECS's inner-product scores only the scores that matter are
computed, in compiled loops (:mod:`mesa_recsys.metrics._kernels`): the listed items' for
:class:`RecallMeasurement`, the ranked items' true scores for NDCG@k. The true side of
NDCG@k / recall@k (each user's true top k) is kept on the model until the true scores
change, and the two metrics share one pass per step. What remains is the model's top k
over the whole catalogue, the work of the recommender's own next ranking. The metric
breaks ties with the seed that ranking will use and leaves its work on the model
(``kept_ranking``): candidates for inner products of 2–32 factors
(:class:`mesa_recsys.topk.CandidateRanking`, any k and exclusions), the lists themselves
otherwise (:class:`mesa_recsys.topk.KeptLists`, same k, no exclusions). The next step's
recommendation reads its lists from them, exactly those it would have computed, so the
work is done once.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from mesa_recsys import matrix_ops as mo
from mesa_recsys import topk
from mesa_recsys.metrics import _kernels
from mesa_recsys.metrics._common import (
    UserSubset,
    block_rows,
    check_choice,
    check_positive_int,
    check_user_subset,
    current_interactions,
    current_items_shown,
    inner_product_factors,
    item_major_factors,
    resolve_users,
    scores_of_items,
)
from mesa_recsys.metrics.measurement import Measurement

__all__ = ["NDCGAtK", "RecallAtK", "RecallMeasurement", "predicted_top_k", "top_k_by_score"]


def top_k_by_score(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k highest entries of each row, best first; ties → lower index.

    Args:
        scores: b×n scores.
        k: 1 ≤ k ≤ n.

    Returns:
        b×k column indices.
    """
    n = scores.shape[1]
    if k < n:
        part = np.argpartition(scores, n - k, axis=1)[:, n - k :]
        kth = np.take_along_axis(scores, part, axis=1).min(axis=1)[:, None]
        # argpartition may cut a tie at the k-th place either way: in rows with more than k
        # items at or above the k-th value, keep every item above it and the lowest-index
        # items equal to it (one pass over those rows, no sort)
        tied = np.flatnonzero(np.count_nonzero(scores >= kth, axis=1) > k)
        if tied.size:
            rows, cut = scores[tied], kth[tied]
            above = rows > cut
            equal = rows == cut
            room = k - np.count_nonzero(above, axis=1)
            take = above | (equal & (np.cumsum(equal, axis=1) <= room[:, None]))
            part[tied] = np.nonzero(take)[1].reshape(tied.size, k)
    else:
        part = np.broadcast_to(np.arange(n), scores.shape).copy()
    order = np.lexsort((part, -np.take_along_axis(scores, part, axis=1)), axis=1)
    return np.take_along_axis(part, order, axis=1)


#: Seed of the tie-break keys of the model's ranking in NDCG@k and recall@k for a model
#: that does not tell the seed of its next ranking (``next_tie_seed``): fixed, so a
#: measurement is reproducible.
TIE_SEED = 0x5EED


def predicted_top_k(
    scores: Any,
    idx: np.ndarray | None,
    num_users: int,
    num_items: int,
    k: int,
    seed: int = TIE_SEED,
) -> np.ndarray:
    """The k best items by predicted score of each user in ``idx`` (all users when None).

    Uses the recommender's own compiled top-k (``mesa_recsys.topk``): best first, ties
    broken at random by keys from ``seed``, scores computed a block at a time (or never
    formed, for inner products of at most 32 factors). With all users, the lists are those
    the recommender computes for that seed.
    """
    factors = inner_product_factors(scores)
    if factors is not None:
        users, items = factors
        if idx is not None:
            users = users[idx]
        if items.shape[0] == 1:
            return topk.top_k_shared(items[0], users[:, 0], k, seed)
        if items.shape[0] <= topk.FUSED_MAX_FACTORS:
            return topk.top_k_factors(users, items, k, seed)
        return topk.top_k_items(
            lambda rows: users[rows] @ items, users.shape[0], num_items, k, seed
        )
    if idx is None:
        return topk.top_k_items(scores.block, num_users, num_items, k, seed)
    return topk.top_k_items(lambda rows: scores.block(idx[rows]), idx.size, num_items, k, seed)


def _tie_seed(recommender: Any) -> int:
    """The seed of the model's next ranking (see ``next_tie_seed``), else :data:`TIE_SEED`."""
    peek = getattr(recommender, "next_tie_seed", None)
    return int(peek()) if callable(peek) else TIE_SEED


#: Candidates kept per user beyond the longest top k that will be asked of them (items a
#: user may no longer be shown take these places; a user without enough is ranked again).
EXCLUSION_ROOM = 4


def _shared_top_k(recommender: Any, scores: Any, k: int, seed: int) -> np.ndarray:
    """Every user's top k of the current scores, through the model's kept ranking.

    A model that keeps rankings (``kept_ranking``, scores by inner products, not
    probabilistic) gets this work for its next recommendation, which then reads its lists
    from it: the model recommends what it would have recommended, and NDCG@k adds little
    to a step. With 2 to 32 factors (the fused kernel) the work kept is candidates
    (:class:`mesa_recsys.topk.CandidateRanking`: any seed, k and exclusions); otherwise the
    lists (:class:`mesa_recsys.topk.KeptLists`), left only when k is the model's list
    length or nothing kept matches the scores. Lists already kept are read when they answer.
    When the next recommendation will ask for exactly these lists (k is the list length,
    chosen items stay eligible, no random items), the lists are kept whatever the number of
    factors: one plain ranking, without the candidates' scores.
    """
    factors = inner_product_factors(scores)
    if (
        factors is None
        or not hasattr(recommender, "kept_ranking")
        or getattr(recommender, "probabilistic_recommendations", False)
    ):
        return predicted_top_k(scores, None, recommender.num_users, recommender.num_items, k, seed)
    kept = recommender.kept_ranking
    current = kept is not None and kept.matches(scores)
    longest = getattr(recommender, "num_items_per_iter", k)
    options = getattr(recommender, "step_options", None)
    repeated = getattr(options, "repeated_items", True)
    # the next recommendation asks for exactly these lists: keep them, no candidates
    plain = k == longest and repeated and not getattr(options, "random_items_per_iter", 0)
    if 1 < factors[1].shape[0] <= topk.FUSED_MAX_FACTORS and not plain:
        deepest = max(k, longest)
        if not (
            current
            and isinstance(kept, topk.CandidateRanking)
            and (kept.complete or kept.depth > deepest)
        ):
            room = 0 if repeated else EXCLUSION_ROOM
            kept = topk.CandidateRanking(*factors, deepest + 1 + room, source=scores)
            recommender.kept_ranking = kept
        return kept.top_k(k, seed)
    if current:
        ranked = kept.top_k(k, seed)
        if ranked is not None:
            return ranked
    ranked = predicted_top_k(scores, None, recommender.num_users, recommender.num_items, k, seed)
    if k == longest or not current:
        recommender.kept_ranking = topk.KeptLists(ranked, seed, source=scores)
    return ranked


def _subset_blocks(recommender: Any, users: UserSubset, num_cols: int) -> Any:
    idx = resolve_users(users, recommender)
    count = recommender.num_users if idx is None else idx.size
    step = block_rows(num_cols)
    for start in range(0, count, step):
        yield (
            np.arange(start, min(count, start + step)) if idx is None else idx[start : start + step]
        )


class RecallMeasurement(Measurement):
    """Share of users whose chosen item is among the k best-predicted items of their list.

    The items of each user's list are ranked by the model's current predicted scores
    (interleaved random items included); ties keep the earlier slot. The value is the
    number of users whose interaction is in their top k, divided by the number of users
    who interacted (T-RECS divides by all users; the two agree when everyone interacts).
    T-RECS PR #107, ``RecallMeasurement``, reverted upstream. None before the first step.

    Args:
        k: rank cut-off; must be smaller than ``num_items_per_iter``.
        name: column name.
        verbose: kept for T-RECS compatibility.
        users: average over these users only.

    Raises:
        ValueError: (when measured) if ``k >= num_items_per_iter``, as in T-RECS.
    """

    def __init__(
        self,
        k: int = 5,
        name: str = "recall_at_k",
        verbose: bool = False,
        *,
        users: UserSubset = None,
    ) -> None:
        """Create the metric."""
        super().__init__(name, verbose)
        self.k = check_positive_int("k", k)
        self.users = check_user_subset(users)

    def measure(self, recommender: Any) -> None:
        """Observe the recall."""
        if self.k >= recommender.num_items_per_iter:
            raise ValueError(
                f"k: expected less than num_items_per_iter = {recommender.num_items_per_iter}, "
                f"got {self.k}"
            )
        inter = current_interactions(recommender)
        shown = current_items_shown(recommender)
        if inter is None or shown is None:
            self.observe(None)
            return
        pred = recommender.predicted_scores
        factors = item_major_factors(pred)
        if factors is not None:  # scores of the listed items only, in one compiled pass
            idx = resolve_users(self.users, recommender)
            rows = np.arange(recommender.num_users) if idx is None else idx
            hits = _kernels.chosen_in_top_k_factors(*factors, shown, inter, rows, self.k)
            counted = int(np.count_nonzero(hits >= 0))
            found = int(np.count_nonzero(hits == 1))
            self.observe(found / counted if counted else float("nan"))
            return
        found = 0
        counted = 0
        for block in _subset_blocks(recommender, self.users, recommender.num_items):
            valid = (inter[block] >= 0) & (shown[block] >= 0).all(axis=1)
            if not valid.any():
                continue
            rows = block[valid]
            lists = shown[rows]
            scores = scores_of_items(pred, None, rows, lists)
            found += int(
                np.count_nonzero(_kernels.chosen_in_top_k(scores, lists, inter[rows], self.k))
            )
            counted += rows.size
        self.observe(found / counted if counted else float("nan"))


def _score_state(scores: Any) -> tuple:
    """Objects that change whenever ``scores`` change (compared by identity)."""
    return (scores, getattr(scores, "_factors", None), getattr(scores, "_matrix", None))


#: Attribute of the model holding its last per-user NDCG/recall pass: NDCGAtK and RecallAtK
#: with the same k, ranking and users share it at one measurement (each would otherwise rank
#: every user again). It lives and dies with the model and holds one pass only.
_CACHE_ATTR = "_mesa_recsys_ranking_pass"
#: Attribute of the model holding the true-score side of that pass (see ``_true_side``).
_TRUE_ATTR = "_mesa_recsys_true_top_k"


class _TrueRanking(Measurement):
    """Shared loop of NDCG@k and recall@k: the model's top k against the true top k."""

    statistic = ""

    def __init__(self, k: int, name: str | None, ranking: str, users: UserSubset) -> None:
        self.k = check_positive_int("k", k)
        self.ranking = check_choice("ranking", ranking, ("predicted", "shown"))
        super().__init__(name or self.default_name(self.k), False)
        self.users = check_user_subset(users)

    @staticmethod
    def default_name(k: int) -> str:
        raise NotImplementedError

    def _true_side(self, recommender: Any, true_scores: Any) -> tuple[np.ndarray, ...]:
        """Per user (subset order): true top k, its DCG of shifted gains, the lowest true score.

        Kept on the model until the true scores change (users drift, items or users are
        added), so a run where they do not change ranks the true scores once.
        """
        sizes = (self.k, recommender.num_users, recommender.num_items)
        objects = (self.users, *_score_state(true_scores))
        cached = getattr(recommender, _TRUE_ATTR, None)
        if (
            cached is not None
            and cached[0] == sizes
            and all(a is b for a, b in zip(cached[1], objects, strict=True))
        ):
            return cached[2]
        discount = 1.0 / np.log2(np.arange(2, self.k + 2))
        ideal, idcg, lowest = [], [], []
        for rows in _subset_blocks(recommender, self.users, recommender.num_items):
            true = np.asarray(mo.to_dense(true_scores.block(rows)), dtype=float)
            top = top_k_by_score(true, self.k)
            low = true.min(axis=1)
            ideal.append(top)
            lowest.append(low)
            idcg.append((np.take_along_axis(true, top, axis=1) - low[:, None]) @ discount)
        result = tuple(
            np.concatenate(parts) if parts else np.empty(0) for parts in (ideal, idcg, lowest)
        )
        if not ideal:
            result = (np.empty((0, self.k), dtype=np.int64), *result[1:])
        with contextlib.suppress(AttributeError):
            setattr(recommender, _TRUE_ATTR, (sizes, objects, result))
        return result

    def _per_user(self, recommender: Any, shown: np.ndarray | None) -> dict[str, np.ndarray]:
        true_scores = recommender.users.actual_user_scores
        pred = recommender.predicted_scores
        key = (
            getattr(recommender, "time", None),
            self.k,
            self.ranking,
            self.users,
            shown,
            *_score_state(pred),
            *_score_state(true_scores),
        )
        cached_key, cached = getattr(recommender, _CACHE_ATTR, (None, None))
        if cached_key is not None and all(a is b for a, b in zip(cached_key, key, strict=True)):
            return cached
        ideal, idcg, lowest = self._true_side(recommender, true_scores)
        discount = 1.0 / np.log2(np.arange(2, self.k + 2))
        idx = resolve_users(self.users, recommender)
        num_users, num_items = recommender.num_users, recommender.num_items
        rows = np.arange(num_users) if idx is None else idx
        if shown is None:
            seed = _tie_seed(recommender)
            if idx is None:
                ranked = _shared_top_k(recommender, pred, self.k, seed)
            else:
                ranked = predicted_top_k(pred, idx, num_users, num_items, self.k, seed)
        else:
            ranked = shown[rows, : self.k]
            keep = (ranked >= 0).all(axis=1)
            rows, ranked, ideal, idcg, lowest = (
                rows[keep],
                ranked[keep],
                ideal[keep],
                idcg[keep],
                lowest[keep],
            )
        true_factors = item_major_factors(true_scores)
        if true_factors is not None:  # only the ranked items' true scores are computed
            ndcg, recall, listed = _kernels.ndcg_recall_factors(
                *true_factors, rows, ranked, ideal, idcg, lowest, discount
            )
            if shown is None and idx is None and hasattr(true_scores, "keep_listed"):
                # the lists the model shows next when it shows its top k: their true
                # scores are these (the same numbers), for the users' choices
                true_scores.keep_listed(ranked, listed)
        else:
            gains = np.empty(ranked.shape)
            step = block_rows(num_items)
            for start in range(0, rows.size, step):
                part = slice(start, start + step)
                gains[part] = scores_of_items(true_scores, None, rows[part], ranked[part])
            gains -= lowest[:, None]
            ndcg, recall = _kernels.ndcg_recall_gains(gains, ranked, ideal, idcg, discount)
        result = {"ndcg": ndcg, "recall": recall}
        with contextlib.suppress(AttributeError):  # a model that takes no attributes: no cache
            setattr(recommender, _CACHE_ATTR, (key, result))
        return result

    def measure(self, recommender: Any) -> None:
        """Observe the mean over users of the statistic."""
        num_items = recommender.num_items
        if self.k > num_items:
            raise ValueError(f"k: expected at most num_items = {num_items}, got {self.k}")
        shown = None
        if self.ranking == "shown":
            shown = current_items_shown(recommender)
            if shown is None:
                self.observe(None)
                return
            if self.k > shown.shape[1]:
                raise ValueError(
                    f"k: with ranking='shown', expected at most num_items_per_iter = "
                    f"{shown.shape[1]}, got {self.k}"
                )
        values = self._per_user(recommender, shown)[self.statistic]
        finite = values[np.isfinite(values)]
        self.observe(float(finite.mean()) if finite.size else float("nan"))


class NDCGAtK(_TrueRanking):
    """Normalised discounted cumulative gain of the model's top k, with true scores as gains.

    For user u, R_u is the model's top k (by predicted score over the whole catalogue, ties
    broken at random by the seed of the model's next ranking, read without drawing it, so
    that R_u is what the model would recommend next; fixed keys from :data:`TIE_SEED` for
    a model without ``next_tie_seed``; see :func:`predicted_top_k`. Or the first k items of
    the list shown this step with ``ranking="shown"``) and T_u the k items with the highest true scores (ties → lower
    item index). The gain of item
    i is its true score shifted so the user's worst item gains 0, g_i = s_ui − min_j s_uj
    (true scores may be negative). DCG = Σ_{r=1..k} g_{R_u[r]} / log2(r + 1) and
    NDCG = DCG(R_u) / DCG(T_u), in [0, 1]; a user whose true scores are all equal has no
    defined NDCG and is left out. The value is the mean over users. Items a user may no
    longer be recommended (``repeated_items=False``) are still ranked.

    Args:
        k: rank cut-off.
        name: column name (default ``"ndcg@k"``).
        ranking: ``"predicted"`` (the model's scores; measured at t=0 too) or ``"shown"``
            (this step's lists; None at t=0).
        users: average over these users only.

    Raises:
        ValueError: on a bad ``k`` or ``ranking``; when measured, if k exceeds the catalogue
            (or the list length with ``ranking="shown"``).
    """

    statistic = "ndcg"

    def __init__(
        self,
        k: int = 10,
        name: str | None = None,
        ranking: str = "predicted",
        *,
        users: UserSubset = None,
    ) -> None:
        """Create the metric."""
        super().__init__(k, name, ranking, users)

    @staticmethod
    def default_name(k: int) -> str:
        """Column name for cut-off k."""
        return f"ndcg@{k}"


class RecallAtK(_TrueRanking):
    """Share of each user's k truly best items that the model ranks in its top k.

    recall@k = |R_u ∩ T_u| / k with R_u and T_u as in :class:`NDCGAtK`, averaged over
    users. With many equal predicted scores (a random recommender, early popularity) R_u
    is a random pick among them, so recall@k measures chance there. Not T-RECS's
    :class:`RecallMeasurement`, which scores the *chosen* item within the shown list.

    Args:
        k: rank cut-off.
        name: column name (default ``"recall@k"``).
        ranking: ``"predicted"`` or ``"shown"``, as in :class:`NDCGAtK`.
        users: average over these users only.
    """

    statistic = "recall"

    def __init__(
        self,
        k: int = 10,
        name: str | None = None,
        ranking: str = "predicted",
        *,
        users: UserSubset = None,
    ) -> None:
        """Create the metric."""
        super().__init__(k, name, ranking, users)

    @staticmethod
    def default_name(k: int) -> str:
        """Column name for cut-off k."""
        return f"recall@{k}"
