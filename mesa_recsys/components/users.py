"""Users: true preferences and how users choose among the items they are shown.

:class:`Users` keeps T-RECS's constructor and choice rule (``get_user_feedback``): each
user interacts with the shown item of highest true score, after an optional position
effect (``attention_exp``), skipping items already consumed when
``repeat_interactions=False``, and optionally not at all (``interaction_probability``).
True scores are computed only for the items shown, so the U×I score matrix is never built
unless asked for (``actual_user_scores.value``).

It is also the AgentSet of the model's :class:`~mesa_recsys.agents.UserAgent` handles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from mesa_recsys import matrix_ops as mo
from mesa_recsys import validate
from mesa_recsys._scores import listed_scores
from mesa_recsys.components.base import AgentView, BaseComponent, Component
from mesa_recsys.random import Generator

if TYPE_CHECKING:
    from mesa_recsys.components.items import Items

__all__ = [
    "ActualUserProfiles",
    "ActualUserScores",
    "DNUsers",
    "PredictedScores",
    "PredictedUserProfiles",
    "Users",
]

logger = logging.getLogger(__name__)

#: Score matrices up to this many cells are computed once and kept (128 MiB of float64).
CACHE_CELLS = 1 << 24


class ActualUserProfiles(Component):
    """True user profiles, U×A (name ``"actual_user_profiles"``)."""

    name = "actual_user_profiles"

    @property
    def num_users(self) -> int:
        """Number of users (rows)."""
        return self.shape[0]

    @property
    def num_attrs(self) -> int:
        """Number of attributes (columns)."""
        return self.shape[1]

    def append_new_users(self, new_users: Any) -> None:
        """Append rows for new users."""
        self.value = mo.vstack([self.value, new_users])


class PredictedUserProfiles(ActualUserProfiles):
    """The recommender's estimate of user profiles, ``users_hat`` (name ``"predicted_users"``)."""

    name = "predicted_users"


class _ScoreMatrix(Component):
    """A U×I score matrix that is either given explicitly or computed from factors on demand.

    In factor mode the scores are ``score_fn(users, items)``; they are computed a block of
    users at a time when a caller only needs a block (``block``), and computed once and
    cached when the whole matrix is small (at most :data:`CACHE_CELLS` cells) or asked for.
    """

    def __init__(self, matrix: Any = None) -> None:
        self._matrix = None if matrix is None else self._check(matrix)
        self._factors: tuple | None = None
        self._items_t: tuple | None = None
        self._unit_users: tuple | None = None
        self._kept_listed: tuple | None = None
        BaseComponent.__init__(self)

    def set_factors(self, users: Any, items: Any, score_fn: Callable) -> None:
        """Score as ``score_fn(users, items)`` from now on (drops any explicit matrix)."""
        self._factors = (users, items, score_fn)
        self._matrix = None
        self._items_t = None
        self._unit_users = None
        self._kept_listed = None
        # The default inner product is a pure function of the snapshot, so it can wait until
        # asked; a custom score_fn may read other model state, so small matrices are scored
        # now, as T-RECS does at train time.
        if score_fn is not mo.inner_product and self.shape[0] * self.shape[1] <= CACHE_CELLS:
            self._matrix = self._compute(slice(None))

    @property
    def explicit(self) -> bool:
        """True when the scores are a stored matrix rather than computed from factors."""
        return self._factors is None and self._matrix is not None

    def _compute(self, rows: slice | np.ndarray) -> np.ndarray:
        users, items, score_fn = self._factors
        block = score_fn(users[rows], items)
        return mo.to_dense(block)

    @property
    def shape(self) -> tuple[int, int]:
        """(U, I)."""
        if self._matrix is not None:
            return self._matrix.shape
        users, items, _ = self._factors
        return (users.shape[0], items.shape[1])

    @property
    def value(self) -> np.ndarray:
        """The full U×I matrix (computed and kept if it is not stored)."""
        if self._matrix is None:
            self._matrix = self._compute(slice(None))
        return self._matrix

    @value.setter
    def value(self, new_value: Any) -> None:
        self._matrix = self._check(new_value)
        self._factors = None

    def block(self, rows: slice) -> np.ndarray:
        """Dense scores of a block of users."""
        if self._matrix is not None:
            return mo.to_dense(self._matrix[rows])
        return self._compute(rows)

    def store_state(self) -> None:
        """Append a copy of the full matrix to the history."""
        self.state_history.append(self.value.copy())

    def append_item_scores(self, new_scores: Any) -> None:
        """Append score columns for new items (explicit mode)."""
        self.value = mo.hstack([self.value, new_scores])

    def append_user_scores(self, new_scores: Any) -> None:
        """Append score rows for new users (explicit mode)."""
        self.value = mo.vstack([self.value, new_scores])

    @property
    def num_users(self) -> int:
        """Number of users (rows)."""
        return self.shape[0]

    @property
    def num_items(self) -> int:
        """Number of items (columns)."""
        return self.shape[1]


class PredictedScores(_ScoreMatrix):
    """The recommender's predicted scores, U×I (name ``"predicted_user_scores"``).

    Computed from the snapshot of ``users_hat`` and ``items_hat`` taken at the last
    ``train()``, as in T-RECS; large matrices are never held, only scored in blocks.
    """

    name = "predicted_user_scores"

    def filter_by_index(self, item_indices: np.ndarray) -> np.ndarray:
        """Scores of ``item_indices`` (U×n item ids) per user, U×n.

        Raises:
            ValueError: when ``item_indices`` has a different number of rows.
        """
        if item_indices.shape[0] != self.shape[0]:
            raise ValueError(
                f"item_indices: expected {self.shape[0]} rows, got {item_indices.shape[0]}"
            )
        return np.take_along_axis(self.value, item_indices, axis=1)


class ActualUserScores(_ScoreMatrix):
    """True user–item scores, U×I (name ``"actual_user_scores"``)."""

    name = "actual_user_scores"

    def _item_major(self, items: np.ndarray) -> np.ndarray:
        """Item-major copy of the true item attributes (each item one contiguous row).

        Kept while the factors are the same objects: true scores are a snapshot taken by
        ``compute_user_scores``, which sets new factors whenever items or users change.
        """
        cached = self._items_t
        if cached is None or cached[0] is not items:
            cached = (items, np.ascontiguousarray(np.asarray(items, dtype=float).T))
            self._items_t = cached
        return cached[1]

    def _unit_rows(self, users: Any, rows: slice) -> np.ndarray:
        """Row-normalised users of a block, dense.

        Dense users are normalised once and kept while the factors are the same objects
        (as :meth:`_item_major`); sparse ones a block at a time (their dense copy could be
        large).
        """
        if sparse.issparse(users):
            return mo.to_dense(mo.normalize_matrix(users[rows]))
        cached = self._unit_users
        if cached is None or cached[0] is not users:
            cached = (users, mo.normalize_matrix(users))
            self._unit_users = cached
        return cached[1][rows]

    def keep_listed(self, lists: np.ndarray, scores: np.ndarray) -> None:
        """Keep scores of these lists, computed as :meth:`get_item_scores` would.

        A metric that scores the lists the model will show next (NDCG@k scores the items it
        ranks with the true scores) leaves them here; :meth:`get_item_scores` returns them
        when asked for the same lists while the factors are the same. Only for the default
        inner product, scored by :func:`mesa_recsys._scores.dot_listed` from the
        row-normalised users and item-major items (the same numbers).

        Args:
            lists: U×n item ids (not copied: the caller does not change them).
            scores: U×n scores of those items.
        """
        self._kept_listed = (self._factors, lists, scores)

    def get_item_scores(self, items_shown: np.ndarray) -> np.ndarray:
        """True scores of the shown items, U×N, without building the U×I matrix.

        With the default inner product and dense users, each score is one compiled dot
        product in attribute order (:func:`mesa_recsys._scores.listed_scores`).

        Args:
            items_shown: U×N item ids.

        Returns:
            U×N float scores in the order shown.
        """
        if self._matrix is not None:
            if sparse.issparse(self._matrix):
                rows = np.repeat(np.arange(items_shown.shape[0]), items_shown.shape[1])
                vals = np.asarray(self._matrix[rows, items_shown.ravel()]).ravel()
                return vals.reshape(items_shown.shape).astype(float)
            return np.take_along_axis(self._matrix, items_shown, axis=1).astype(float)
        users, items, score_fn = self._factors
        if score_fn is mo.inner_product and not sparse.issparse(items):
            items_t = self._item_major(items)
            if not sparse.issparse(users) and (items_shown.size == 0 or items_shown.min() >= 0):
                kept = self._kept_listed
                if (
                    kept is not None
                    and kept[0] is self._factors
                    and kept[1].shape == items_shown.shape
                    and np.array_equal(kept[1], items_shown)
                ):
                    return kept[2].copy()
                unit = self._unit_rows(users, slice(None))
                return listed_scores(unit, items_t, items_shown)
            out = np.empty(items_shown.shape, dtype=float)
            block = max(1, (1 << 22) // max(1, items_shown.shape[1] * items.shape[0]))
            for start in range(0, items_shown.shape[0], block):
                rows = slice(start, start + block)
                profiles = self._unit_rows(users, rows)
                gathered = items_t[items_shown[rows]]  # b×N×A
                out[rows] = np.matmul(gathered, profiles[:, :, None])[:, :, 0]
            return out
        out = np.empty(items_shown.shape, dtype=float)
        step = max(1, (1 << 22) // max(1, self.shape[1]))
        for start in range(0, items_shown.shape[0], step):
            rows = slice(start, start + step)
            out[rows] = np.take_along_axis(self._compute(rows), items_shown[rows], axis=1)
        return out


class Users(AgentView, BaseComponent):
    """The users of a simulation: true profiles and the rule by which they choose items.

    Accepted wherever T-RECS accepts its ``Users``. Once a model is built with it, it is
    also the AgentSet of the model's users (``model.users``).

    Args:
        actual_user_profiles: U×A true preferences (array, list or sparse).
        actual_user_scores: optional U×I true scores; when given, choices follow these
            instead of ``score_fn(profiles, items)``.
        interact_with_items: optional ``fn(users, items_shown) -> interactions`` replacing
            the built-in choice rule (return ``-1`` for a user who does not interact).
        size: (U, A) shape of standard-normal profiles to draw when none are given.
        num_users: optional check on the number of users.
        drift: fraction of the angle by which each user's profile turns toward the item it
            chose, every step (0 = fixed preferences).
        score_fn: ``fn(user_profiles, item_attributes) -> U×I`` true scores.
        verbose: log at debug level.
        seed: seed of this component's own generator (profiles and choice noise). When
            None, a model that adopts these users gives them a generator spawned from its own.
        attention_exp: position effect: the score of the item in 0-based position j is
            multiplied by ``(j + 1) ** attention_exp`` (negative favours the top of the list).
        repeat_interactions: whether a user may interact again with an item already chosen.
        interaction_probability: chance that a user interacts at all in a step: one
            probability for everybody, or one per user (length U); users who do not
            interact get ``-1`` in ``interactions``. It applies to every way of choosing:
            the built-in rule, ``interact_with_items`` and user agents that override
            ``choose``.

    Raises:
        TypeError: on a wrong argument type (the message names the argument).
        ValueError: on missing or inconsistent sizes (a per-user
            ``interaction_probability`` whose length is not U included), or probabilities
            outside [0, 1].
    """

    name = "actual_user_scores"

    def __init__(
        self,
        actual_user_profiles: Any = None,
        actual_user_scores: Any = None,
        interact_with_items: Callable | None = None,
        size: tuple[int, int] | None = None,
        num_users: int | None = None,
        drift: float = 0,
        score_fn: Callable = mo.inner_product,
        verbose: bool = False,
        seed: Any = None,
        attention_exp: float = 0.0,
        repeat_interactions: bool = True,
        interaction_probability: float | np.ndarray = 1.0,
    ) -> None:
        """Create the users; see the class docstring for the arguments."""
        self._init_agentset()
        BaseComponent.__init__(self, verbose=verbose)
        self.rng = Generator(seed) if seed is not None else None
        if interact_with_items is not None and not callable(interact_with_items):
            raise TypeError(
                "interact_with_items: expected a callable fn(users, items_shown), got "
                f"{type(interact_with_items).__name__}"
            )
        if not callable(score_fn):
            raise TypeError(f"score_fn: expected a callable, got {type(score_fn).__name__}")
        if actual_user_profiles is None:
            if size is None:
                raise ValueError("Users: give actual_user_profiles or size")
            if not isinstance(size, tuple):
                raise TypeError(f"size: expected a tuple (num_users, num_attributes), got {size!r}")
            gen = self.rng if self.rng is not None else Generator()
            profiles = gen.normal(size=size)
            while np.any(~profiles.any(axis=1)):  # no all-zero user
                zero = ~profiles.any(axis=1)
                profiles[zero] = gen.normal(size=(int(zero.sum()), size[1]))
            actual_user_profiles = profiles
        validate.check_array("actual_user_profiles", actual_user_profiles, ndim=2)
        self.actual_user_profiles = ActualUserProfiles(actual_user_profiles)
        if actual_user_scores is not None:
            actual_user_scores = validate.check_array(
                "actual_user_scores", actual_user_scores, ndim=2
            )
            if actual_user_scores.shape[0] != self.actual_user_profiles.num_users:
                raise ValueError(
                    f"actual_user_scores: expected {self.actual_user_profiles.num_users} rows "
                    f"(one per user), got shape {actual_user_scores.shape}"
                )
            self.actual_user_scores: ActualUserScores | None = ActualUserScores(actual_user_scores)
        else:
            self.actual_user_scores = None
        if num_users is not None and num_users != self.actual_user_profiles.num_users:
            raise ValueError(
                f"num_users: got {num_users} but actual_user_profiles has "
                f"{self.actual_user_profiles.num_users} rows"
            )
        self.interact_with_items = interact_with_items
        self.drift = validate.check_fraction("drift", drift)
        self.score_fn = score_fn
        self.attention_exp = float(attention_exp)
        self.repeat_interactions = bool(repeat_interactions)
        self.interaction_probability = interaction_probability
        self.user_interactions = np.empty((self.num_users, 0), dtype=np.int64)
        self._items: Items | None = None

    # --- sizes -------------------------------------------------------------------------

    @property
    def num_users(self) -> int:
        """Number of users."""
        return self.actual_user_profiles.num_users

    @property
    def num_attrs(self) -> int:
        """Number of true attributes."""
        return self.actual_user_profiles.num_attrs

    @property
    def interaction_probability(self) -> float | np.ndarray:
        """Chance that a user interacts in a step (scalar or one per user)."""
        return self._interaction_probability

    @interaction_probability.setter
    def interaction_probability(self, value: float | np.ndarray) -> None:
        self._interaction_probability = self._check_probability(value, self.num_users)

    @staticmethod
    def _check_probability(value: Any, num_users: int) -> float | np.ndarray:
        """``value`` as a float or a length-``num_users`` float array.

        Raises:
            ValueError: unless ``value`` is a probability or ``num_users`` of them.
        """
        try:
            arr = np.array(value, dtype=float)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.ndim > 1 or np.any((arr < 0) | (arr > 1)) or np.any(np.isnan(arr)):
            raise ValueError(
                "interaction_probability: expected a probability in [0, 1] or one per user, "
                f"got {value!r}"
            )
        if arr.ndim == 0:
            return float(arr)
        if arr.shape[0] != num_users:
            raise ValueError(
                f"interaction_probability: expected one probability per user ({num_users} "
                f"values) or a single probability, got {arr.shape[0]} values"
            )
        return arr

    # --- scores ------------------------------------------------------------------------

    def set_score_function(self, score_fn: Callable) -> None:
        """Use ``score_fn(user_profiles, item_attributes)`` for the true scores.

        Raises:
            TypeError: when ``score_fn`` is not callable.
        """
        if not callable(score_fn):
            raise TypeError(f"score_fn: expected a callable, got {type(score_fn).__name__}")
        self.score_fn = score_fn
        if self._items is not None and not self._explicit_scores:
            self.compute_user_scores(self._items)

    @property
    def _explicit_scores(self) -> bool:
        return self.actual_user_scores is not None and self.actual_user_scores.explicit

    def compute_user_scores(self, item_attributes: Any) -> None:
        """(Re)compute true scores from the profiles and ``item_attributes`` (A×I).

        Args:
            item_attributes: the true item attributes, as an array or an Items component.
        """
        items = item_attributes if isinstance(item_attributes, Component) else None
        if items is not None:
            self._items = items
        values = mo.extract_value(item_attributes)
        scores = self.actual_user_scores or ActualUserScores()
        scores.set_factors(self.actual_user_profiles.value, values, self.score_fn)
        self.actual_user_scores = scores

    def bind_items(self, items: Items) -> None:
        """Score against ``items`` from now on (computing scores unless they were given)."""
        self._items = items
        if self.actual_user_scores is None or not self.actual_user_scores.explicit:
            self.compute_user_scores(items)

    def score_new_items(self, new_items: Any) -> None:
        """Extend the true scores to new items (A×n attributes)."""
        if self._explicit_scores:
            self.actual_user_scores.append_item_scores(
                self.score_fn(self.actual_user_profiles.value, mo.extract_value(new_items))
            )
        elif self._items is not None:
            self.compute_user_scores(self._items)

    def get_actual_user_scores(self, user: int | np.ndarray | None = None) -> Any:
        """True scores: the component, or the rows of ``user`` (an index or indices)."""
        if user is None:
            return self.actual_user_scores
        return self.actual_user_scores.value[user]

    # --- choosing ----------------------------------------------------------------------

    def attention_transform(self, item_scores: np.ndarray) -> np.ndarray:
        """Apply the position effect: multiply position j's score by ``(j+1)**attention_exp``."""
        if self.attention_exp == 0:
            return item_scores
        weights = np.power(np.arange(1, item_scores.shape[1] + 1, dtype=float), self.attention_exp)
        return item_scores * weights

    def choice_scores(self, shown_scores: np.ndarray) -> np.ndarray:
        """The values users maximise over the shown items (true scores; overridden by DNUsers)."""
        return shown_scores

    def get_user_feedback(self, items_shown: np.ndarray) -> np.ndarray:
        """Which shown item each user interacts with.

        Args:
            items_shown: U×N item ids in the order shown.

        Returns:
            Length-U int array of item ids, ``-1`` for a user who does not interact (only
            with ``interaction_probability < 1``, a custom ``interact_with_items`` that says
            so, or ``repeat_interactions=False`` when every shown item was already consumed).
        """
        items_shown = np.asarray(items_shown)
        if self.interact_with_items is not None:
            interactions = np.asarray(self.interact_with_items(self, items_shown), dtype=np.int64)
            interactions = interactions.ravel()
        else:
            values = self.choice_scores(self.actual_user_scores.get_item_scores(items_shown))
            values = self.attention_transform(values)
            if not self.repeat_interactions and self.user_interactions.shape[1] > 0:
                seen = self._already_consumed(items_shown)
                values = np.where(seen, -np.inf, values)
            pos = np.argmax(values, axis=1)
            interactions = items_shown[np.arange(items_shown.shape[0]), pos].astype(np.int64)
            if not self.repeat_interactions and self.user_interactions.shape[1] > 0:
                interactions[np.all(seen, axis=1)] = -1
        interactions = self.apply_interaction_probability(interactions)
        if not self.repeat_interactions:
            self.user_interactions = np.hstack([self.user_interactions, interactions[:, None]])
        return interactions

    def _already_consumed(self, items_shown: np.ndarray) -> np.ndarray:
        """U×N: whether each shown item is among the user's past interactions.

        Each user's past items are sorted within their row of one flat array (row u's keys
        offset by u·(I+2), so rows stay apart and ``-1`` = "no interaction" matches
        nothing), and every shown item is looked up by binary search: O((U·t + U·N)·log).
        """
        past = self.user_interactions
        num_users = items_shown.shape[0]
        width = np.int64(max(int(items_shown.max(initial=0)), int(past.max(initial=0))) + 2)
        offsets = np.arange(num_users, dtype=np.int64)[:, None] * width
        keys = np.sort(past + offsets, axis=1).ravel()  # sorted rows, rows in order
        wanted = items_shown + offsets
        pos = np.searchsorted(keys, wanted)
        found = np.zeros(wanted.shape, dtype=bool)
        inside = pos < keys.size
        found[inside] = keys[pos[inside]] == wanted[inside]
        return found

    def apply_interaction_probability(self, interactions: np.ndarray) -> np.ndarray:
        """Replace by ``-1`` the choice of each user who sits this step out.

        User u interacts with probability ``interaction_probability`` (its own entry when
        per user). When every probability is 1 nothing is drawn; otherwise one uniform
        number per user is drawn from this component's generator, whoever made the choices.

        Args:
            interactions: length-U item ids chosen this step (``-1`` = none).

        Returns:
            The item ids, with ``-1`` for the users who do not interact.
        """
        p = self._interaction_probability
        if np.all(np.asarray(p) >= 1):
            return interactions
        skip = self._rng().random(interactions.shape[0]) >= p
        return np.where(skip, -1, interactions)

    def _rng(self) -> np.random.Generator:
        if self.rng is None:
            self.rng = Generator()
        return self.rng

    # --- changing ----------------------------------------------------------------------

    def update_profiles(self, item_attributes: np.ndarray, users: np.ndarray | None = None) -> None:
        """Turn profiles toward the chosen items' attributes by ``drift`` of the angle (slerp).

        Args:
            item_attributes: n×A attributes of the chosen items, one row per moving user.
            users: the rows that move (all users when None).
        """
        profiles = mo.to_dense(self.actual_user_profiles.value).astype(float)
        rows = slice(None) if users is None else users
        profiles[rows] = mo.slerp(profiles[rows], item_attributes, perc=self.drift)
        self.actual_user_profiles.value = profiles

    def store_state(self) -> None:
        """Append a copy of the true score matrix to the history."""
        self.state_history.append(self.actual_user_scores.value.copy())

    def probability_with_new_users(
        self, n: int, interaction_probability: float | np.ndarray | None = None
    ) -> float | np.ndarray:
        """The interaction probability after adding ``n`` users (nothing is changed).

        Args:
            n: number of new users.
            interaction_probability: theirs (see :meth:`append_new_users`).

        Returns:
            One probability for everybody, or one per user (old users first).

        Raises:
            ValueError: when ``interaction_probability`` is invalid, has a length other
                than n, or is None while the current probability is per user.
        """
        p = self._interaction_probability
        if interaction_probability is None:
            if isinstance(p, np.ndarray):
                raise ValueError(
                    f"interaction_probability: the users have one probability each, so the "
                    f"{n} new users need theirs: pass interaction_probability (one value or {n})"
                )
            return p
        added = self._check_probability(interaction_probability, n)
        if isinstance(p, np.ndarray) or isinstance(added, np.ndarray) or added != p:
            old = np.full(self.num_users, p) if np.ndim(p) == 0 else p
            new = np.full(n, added) if np.ndim(added) == 0 else added
            return np.concatenate([old, new])
        return p

    def append_new_users(
        self,
        new_users: Any,
        existing_items: Any,
        interaction_probability: float | np.ndarray | None = None,
    ) -> None:
        """Add users (n×A profiles) and score them against the existing items.

        Args:
            new_users: n×A true profiles.
            existing_items: the true item attributes (array or Items component).
            interaction_probability: the new users' chance of interacting in a step: one
                probability for all n, or n of them. When None, new users share the
                population's single probability; if it is per user, there is no value
                to give them, and None is an error.

        Raises:
            ValueError: when ``interaction_probability`` is invalid, has a length other
                than n, or is None while the current probability is per user (nothing is
                changed then).
        """
        n = mo.to_dense(new_users).shape[0]
        p = self.probability_with_new_users(n, interaction_probability)
        self.actual_user_profiles.append_new_users(new_users)
        self._interaction_probability = p
        self.user_interactions = np.vstack(
            [self.user_interactions, np.full((n, self.user_interactions.shape[1]), -1)]
        )
        if self._explicit_scores:
            self.actual_user_scores.append_user_scores(
                self.score_fn(mo.to_dense(new_users), mo.extract_value(existing_items))
            )
        else:
            self.compute_user_scores(existing_items)

    def __repr__(self) -> str:
        """Sizes, not agents."""
        return f"<Users num_users={self.num_users} num_attrs={self.num_attrs}>"


class DNUsers(Users):
    """Users who choose by divisively normalised utilities (Webb, Glimcher, Louie 2020).

    The score of each shown item is divided by ``sigma + omega * ||v||_beta`` (the
    beta-norm of the user's shown scores) and perturbed by correlated Gaussian noise
    (variance 1, covariance 0.5); the user picks the item of highest utility. Unlike T-RECS
    (whose ``DNUsers.get_user_feedback`` raises a TypeError), this works inside ``run`` and
    combines with ``attention_exp`` and ``repeat_interactions``.

    Args:
        sigma: additive constant of the normaliser.
        omega: weight of the beta-norm.
        beta: order of the norm.
        **kwargs: everything :class:`Users` takes.
    """

    def __init__(
        self,
        actual_user_profiles: Any = None,
        actual_user_scores: Any = None,
        interact_with_items: Callable | None = None,
        size: tuple[int, int] | None = None,
        num_users: int | None = None,
        drift: float = 0,
        score_fn: Callable = mo.inner_product,
        sigma: float = 0.0,
        omega: float = 0.2376,
        beta: float = 0.9739,
        verbose: bool = False,
        seed: Any = None,
        **kwargs: Any,
    ) -> None:
        """Create the users; see the class docstring."""
        super().__init__(
            actual_user_profiles=actual_user_profiles,
            actual_user_scores=actual_user_scores,
            interact_with_items=interact_with_items,
            size=size,
            num_users=num_users,
            drift=drift,
            score_fn=score_fn,
            verbose=verbose,
            seed=seed,
            **kwargs,
        )
        self.sigma = float(sigma)
        self.omega = float(omega)
        self.beta = float(beta)

    def normalize_values(self, user_item_scores: Any) -> np.ndarray:
        """Divisively normalised values, n×U (T-RECS's orientation).

        Args:
            user_item_scores: U×n scores (a 1-D vector is one user).
        """
        values = np.atleast_2d(np.asarray(user_item_scores, dtype=float))
        norm = np.sum(np.abs(values) ** self.beta, axis=1) ** (1.0 / self.beta)
        return (values / (self.sigma + self.omega * norm)[:, None]).T

    def sample_from_error_dist(self, num_choices: int, num_users: int) -> np.ndarray:
        """Correlated noise, n×U: unit variances, covariance 0.5 between choices."""
        cov = np.full((num_choices, num_choices), 0.5)
        np.fill_diagonal(cov, 1.0)
        return self._rng().multivariate_normal(np.zeros(num_choices), cov, size=num_users).T

    def calc_dn_utilities(self, user_item_scores: np.ndarray) -> np.ndarray:
        """Normalised values plus noise, U×n."""
        z = self.normalize_values(user_item_scores)
        return (z + self.sample_from_error_dist(*z.shape)).T

    def choice_scores(self, shown_scores: np.ndarray) -> np.ndarray:
        """DN utilities of the shown items."""
        return self.calc_dn_utilities(shown_scores)
