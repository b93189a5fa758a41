"""Helpers shared by the metrics: input checks, user subsets, pairs, factors of the scores.

Everything here works on whole arrays; nothing builds a dense users × items matrix.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mesa_recsys import matrix_ops as mo
from mesa_recsys.metrics import _kernels

#: A subset of users: None (everyone), a boolean mask, user indices, or ``fn(model)``
#: returning either of those (evaluated at every measurement, so it can follow added users).
UserSubset = np.ndarray | Sequence[int] | Sequence[bool] | Callable[[Any], Any] | None

#: Dense blocks hold at most this many cells (32 MiB of float64).
BLOCK_CELLS = 1 << 22


def block_rows(num_cols: int) -> int:
    """Rows per block so that a block of ``num_cols`` columns stays under BLOCK_CELLS."""
    return max(1, BLOCK_CELLS // max(1, num_cols))


def check_positive_int(name: str, value: Any) -> int:
    """``value`` as an int ≥ 1, or a ValueError/TypeError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name}: expected a positive int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value}")
    return int(value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, else a ValueError naming ``name``."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")
    return value


def check_user_subset(users: UserSubset) -> UserSubset:
    """Validate a user subset given at construction (callables are checked when used).

    Raises:
        TypeError: when ``users`` is neither None, a callable nor a 1-D array of bools or ints.
        ValueError: when an index is negative.
    """
    if users is None or callable(users):
        return users
    arr = np.asarray(users)
    if arr.ndim != 1 or not (arr.dtype == bool or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(
            "users: expected None, a callable, a boolean mask or user indices (1-D), got "
            f"an array of dtype {arr.dtype} and shape {arr.shape}"
        )
    if arr.dtype != bool and arr.size and arr.min() < 0:
        raise ValueError(f"users: expected non-negative user indices, got {int(arr.min())}")
    return arr


def resolve_users(users: UserSubset, recommender: Any) -> np.ndarray | None:
    """The user indices selected by ``users`` on ``recommender`` (None = every user).

    A boolean mask shorter than the population (users were added after it was made)
    leaves the added users out.

    Raises:
        ValueError: when an index or a mask is out of range for the model.
    """
    if users is None:
        return None
    num_users = recommender.num_users
    arr = np.asarray(users(recommender)) if callable(users) else users
    if arr.dtype == bool:
        if arr.ndim != 1 or arr.size > num_users:
            raise ValueError(
                f"users: expected a boolean mask of at most {num_users} users, got shape "
                f"{arr.shape}"
            )
        return np.flatnonzero(arr)
    arr = arr.astype(np.int64, copy=False).ravel()
    if arr.size and (arr.min() < 0 or arr.max() >= num_users):
        raise ValueError(
            f"users: expected user indices in [0, {num_users}), got values in "
            f"[{int(arr.min())}, {int(arr.max())}]"
        )
    return arr


def current_interactions(recommender: Any) -> np.ndarray | None:
    """This step's interactions (length U, ``-1`` = none), or None before the first step."""
    inter = recommender.interactions
    return None if inter.size == 0 or inter.ndim != 1 else inter


#: Attribute of the model holding this step's interaction counts (see
#: :func:`interaction_counts`).
_COUNTS_ATTR = "_mesa_recsys_interaction_counts"


def interaction_counts(recommender: Any) -> np.ndarray | None:
    """This step's number of interactions per item (int64), or None before the first step.

    ``np.bincount`` of the interactions (``-1`` left out) with ``minlength`` the model's
    number of items. Counted once per step for every metric that asks (kept on the model
    with the interactions array and the model time it came from; a model without ``time``
    is counted at every call); callers must not modify it.
    """
    inter = current_interactions(recommender)
    if inter is None:
        return None
    time = getattr(recommender, "time", None)
    cached = getattr(recommender, _COUNTS_ATTR, None)
    if time is not None and cached is not None and cached[0] == time and cached[1] is inter:
        return cached[2]
    num_items = getattr(recommender, "num_items", None)
    minlength = int(num_items) if isinstance(num_items, int | np.integer) else 0
    counts = np.bincount(inter[inter >= 0], minlength=minlength)
    if time is not None:
        with contextlib.suppress(AttributeError):  # a model that takes no attributes
            setattr(recommender, _COUNTS_ATTR, (time, inter, counts))
    return counts


def current_items_shown(recommender: Any) -> np.ndarray | None:
    """This step's U×N shown items (``-1`` = padding for added users), or None before any."""
    shown = recommender.items_shown
    return None if shown.size == 0 or shown.ndim != 2 else shown


#: Attribute of the model holding this step's lists in compact form (see :func:`shown_lists`).
_SHOWN_ATTR = "_mesa_recsys_shown_lists"

#: Lists are compared as bitmasks over the items shown this step when there are at most this
#: many of them (4 words of 64 bits per user).
MASK_ITEMS = 256


class ShownLists:
    """This step's lists, read once for the metrics that read them (see :func:`shown_lists`).

    Attributes:
        shown: the model's ``items_shown`` (U×N item ids, ``-1`` = padding).
        time: the model time they were read at.
        num_distinct: how many items some list has.
        bound: one more than the largest possible item id.
    """

    def __init__(self, shown: np.ndarray, bound: int, time: Any) -> None:
        """Number the items of ``shown`` (ids below ``bound``, ``-1`` = padding), one pass.

        Raises:
            IndexError: when an id is not below ``bound`` (or below -1).
        """
        labelled = _kernels.label_lists(shown, bound)
        if labelled is None:
            bad = int(shown.max()) if shown.max() >= bound else int(shown.min())
            raise IndexError(f"item {bad} is out of bounds for size {bound}")
        self.shown = shown
        self.time = time
        self.bound = bound
        self._label, self.num_distinct, self._padded, self._masks = labelled
        self._one_word = self._masks is not None

    @property
    def marked(self) -> np.ndarray:
        """Per item, whether some list has it."""
        return self._label >= 0

    def ranges(
        self, item_max: np.ndarray, item_min: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:func:`~mesa_recsys.metrics._kernels.list_ranges` of the lists of ``rows``.

        From the lists' one-word masks (one range per distinct set of items) when there are
        at most 64 items shown and no value is NaN, else list by list.
        """
        if self._one_word and not (np.isnan(item_max).any() or np.isnan(item_min).any()):
            item_of = np.empty(self.num_distinct, dtype=np.int64)
            listed = np.flatnonzero(self._label >= 0)
            item_of[self._label[listed]] = listed
            masks = self._masks[0]
            return _kernels.mask_ranges(masks, self._padded, rows, item_of, item_max, item_min)
        return _kernels.list_ranges(item_max, item_min, self.shown, rows)

    def jaccard(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Jaccard index of the sets of items of the lists of users ``a[p]`` and ``b[p]``.

        By bitmasks over the items shown, numbered from 0, when there are few of them
        (popularity shows everyone the same few; the masks are made once per step), else by
        marks in a catalogue-sized array; NaN where both lists hold no item.
        """
        if self.num_distinct > MASK_ITEMS:
            return _kernels.lists_jaccard(self.shown, a, b, self.bound)
        if self._masks is None:
            words = max(1, -(-self.num_distinct // 64))
            self._masks = _kernels.list_masks(self.shown, self._label, words)
        return _kernels.mask_jaccard(*self._masks, a, b)


def shown_lists(recommender: Any) -> ShownLists | None:
    """This step's lists in compact form, made once per step and shared (None before any).

    Kept on the model with the ``items_shown`` array and the model time they came from; a
    model without ``time`` gets a fresh copy at every call. The model replaces
    ``items_shown`` every step (and when users are added) and does not change it in place.
    """
    shown = current_items_shown(recommender)
    if shown is None:
        return None
    time = getattr(recommender, "time", None)
    cached = getattr(recommender, _SHOWN_ATTR, None)
    if (
        time is not None
        and isinstance(cached, ShownLists)
        and cached.time == time
        and cached.shown is shown
    ):
        return cached
    num_items = getattr(recommender, "num_items", None)
    if not isinstance(num_items, int | np.integer):
        num_items = int(shown.max(initial=-1)) + 1
    lists = ShownLists(shown, max(1, int(num_items)), time)
    if time is not None:
        with contextlib.suppress(AttributeError):  # a model that takes no attributes
            setattr(recommender, _SHOWN_ATTR, lists)
    return lists


def check_pairs(pairs: Any) -> np.ndarray:
    """Pairs of user indices as a P×2 int array.

    Raises:
        ValueError: on a shape other than P×2, no pairs, or negative indices.
        TypeError: on non-integer entries.
    """
    try:
        arr = np.asarray(pairs)
    except ValueError as err:  # ragged input
        raise ValueError(f"pairs: expected a sequence of (user, user) pairs ({err})") from err
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(f"pairs: expected P×2 user indices with P ≥ 1, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"pairs: expected integer user indices, got dtype {arr.dtype}")
    if arr.min() < 0:
        raise ValueError(f"pairs: expected non-negative user indices, got {int(arr.min())}")
    return arr.astype(np.int64)


def check_pairs_in_range(pairs: np.ndarray, num_users: int, largest: int | None = None) -> None:
    """Raise a ValueError naming ``pairs`` when an index is not a user of the model.

    Args:
        pairs: P×2 user indices.
        num_users: the model's number of users.
        largest: ``pairs.max()``, when the caller keeps it.
    """
    largest = int(pairs.max()) if largest is None else largest
    if largest >= num_users:
        raise ValueError(f"pairs: user index {largest} is out of range for {num_users} users")


def mean_or_nan(values: np.ndarray) -> float:
    """Mean of the finite entries, or NaN when there are none.

    When every entry is finite this is ``values.mean()`` (the same sum divided by the same
    count), without the mask and the copy.
    """
    if values.size:
        total = float(np.add.reduce(values))
        if math.isfinite(total):
            return total / values.size
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def dense_columns(matrix: Any, cols: np.ndarray) -> np.ndarray:
    """Dense float copy of the given columns of an A×I matrix (dense or sparse)."""
    sub = mo.extract_value(matrix)[:, cols]
    return np.asarray(mo.to_dense(sub), dtype=float)


#: Attribute of a score component holding what :func:`inner_product_factors` derived from
#: its factors, with the factors it was derived from (a new ``set_factors`` replaces them),
#: and a private copy of the users they were normalised from.
_FACTORS_ATTR = "_mesa_recsys_unit_factors"


#: Snapshots of changed user factors after which the next private copy is made, at most
#: (see :func:`derived_from_factors`).
MAX_COPY_WAIT = 64


def derived_from_factors(scores: Any) -> dict | None:
    """Per-factors cache on a score component (None when the scores are not factors).

    A new snapshot of factors (``set_factors``) starts a new cache, but when its user
    factors hold the same values as the last snapshot's (a model that does not learn user
    profiles, such as popularity, retrains with copies of the same profiles every step),
    their row-normalised array is reused, the same object: caches keyed on it stay valid.
    The comparison is against a private copy, so profiles changed in place are seen. A
    model whose profiles change at every snapshot would pay that copy for nothing: after a
    change the next copy waits 1, 2, 4, ... snapshots (at most :data:`MAX_COPY_WAIT`), and
    without a copy the profiles are normalised anew.
    """
    factors = getattr(scores, "_factors", None)
    if factors is None or getattr(scores, "explicit", True):
        return None
    cached = getattr(scores, _FACTORS_ATTR, None)
    if cached is not None and cached[0] is factors:
        return cached[1]
    derived: dict = {}
    kept = None
    users, items, score_fn = factors
    if score_fn is mo.inner_product and (
        isinstance(users, np.ndarray) and isinstance(items, np.ndarray)
    ):
        kept = _normalised_users(
            users, cached[2] if cached is not None and len(cached) > 2 else None
        )
        derived["factors"] = (kept[1], np.asarray(items, dtype=float))
    with contextlib.suppress(AttributeError):  # an object that takes no attributes: no cache
        setattr(scores, _FACTORS_ATTR, (factors, derived, kept))
    return derived


def _normalised_users(users: np.ndarray, kept: tuple | None) -> tuple:
    """The row-normalised users, reused from ``kept`` when its copy holds the same values.

    Returns:
        ``(copy, unit, wait, backoff)``: a private copy of ``users`` (None while waiting
        ``wait`` more snapshots, the wait doubling with every change seen), the
        row-normalised users, and the wait state.
    """
    if kept is not None and kept[0] is not None and _kernels.same_values(kept[0], users):
        return kept[0], kept[1], 0, 1
    unit = mo.normalize_matrix(users)
    wait, backoff = (0, 1) if kept is None else kept[2:]
    if kept is not None and kept[0] is not None:  # a change: wait longer for the next copy
        backoff = min(MAX_COPY_WAIT, 2 * backoff)
        wait = backoff
    elif wait > 0:
        wait -= 1
    return (users.copy() if wait == 0 else None), unit, wait, backoff


def inner_product_factors(scores: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(row-normalised users, items) when ``scores`` are T-RECS's default inner product.

    None when the scores are an explicit matrix, a custom ``score_fn`` or sparse factors.
    Computed once per set of factors (kept on the component until ``set_factors`` gives it
    new ones); callers must not modify the arrays.
    """
    derived = derived_from_factors(scores)
    return None if derived is None else derived.get("factors")


def item_major_factors(scores: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(row-normalised users, items as a contiguous I×A array), as :func:`inner_product_factors`.

    The item-major copy puts each item's attributes side by side, for kernels that score a
    few items per user.
    """
    derived = derived_from_factors(scores)
    if derived is None or "factors" not in derived:
        return None
    if "item_major" not in derived:
        users, items = derived["factors"]
        derived["item_major"] = (users, np.ascontiguousarray(items.T))
    return derived["item_major"]


def scores_of_items(
    scores: Any,
    factors: tuple[np.ndarray, np.ndarray] | None,
    rows: np.ndarray,
    items: np.ndarray,
) -> np.ndarray:
    """Scores of b users (``rows``) for their own item lists (``items``, b×n), as b×n floats.

    From the factors when given (see :func:`inner_product_factors`): only the b×n scores are
    computed; otherwise a b×I block of scores is computed and the lists are picked from it.
    """
    if factors is None:
        return np.take_along_axis(np.asarray(scores.block(rows), dtype=float), items, axis=1)
    users, item_attrs = factors
    gathered = item_attrs.T[items]  # b × n × A
    return np.matmul(gathered, users[rows][:, :, None])[:, :, 0]
