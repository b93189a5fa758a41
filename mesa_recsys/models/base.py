"""BaseRecommender: a recommender-system simulation as a ``mesa.Model``.

One step (``model.step()``, driven by ``run``, ``run_for`` or SolaraViz):

1. creators add items (if any);
2. the recommender shows each user ``num_items_per_iter`` items: the top of its
   predicted scores, mixed with random ("interleaved") items when asked;
3. users choose (vectorised; per agent when the user agent class overrides ``choose``);
4. the model updates its internal state from the interactions
   (``_update_internal_state``), creators learn, users drift, and the model retrains;
5. ``datacollector.collect`` records every metric.

Constructor arguments, method names and matrix properties are T-RECS's, so a T-RECS
script ports by changing its imports; everything else is plain Mesa.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from functools import partial
from typing import Any, ClassVar

import mesa
import numpy as np
from scipy import sparse
from tqdm.auto import trange

from mesa_recsys import matrix_ops as mo
from mesa_recsys import topk, validate
from mesa_recsys.agents import CreatorAgent, ItemAgent, UserAgent, overrides_choose
from mesa_recsys.components import (
    BaseComponent,
    Creators,
    Items,
    PredictedItems,
    PredictedScores,
    PredictedUserProfiles,
    SystemStateModule,
    Users,
)
from mesa_recsys.metrics import Measurement
from mesa_recsys.threads import limit_blas_threads

__all__ = ["BaseRecommender", "StepOptions"]


@dataclass(frozen=True)
class StepOptions:
    """How ``step()`` runs; ``run(...)`` sets these for its duration.

    Attributes:
        startup: show only random items and learn nothing about the catalogue's ranking.
        train_between_steps: retrain (recompute predicted scores) after every step.
        random_items_per_iter: how many of the shown items are random ("interleaved").
        vary_random_items_per_iter: draw that number uniformly in [0, random_items_per_iter]
            each step.
        repeated_items: whether an item a user interacted with may be recommended again.
        no_new_items: keep creators from making items.
    """

    startup: bool = False
    train_between_steps: bool = True
    random_items_per_iter: int = 0
    vary_random_items_per_iter: bool = False
    repeated_items: bool = True
    no_new_items: bool = False


class BaseRecommender(mesa.Model, SystemStateModule):
    """Base class of every recommender model (subclass it, as in T-RECS).

    Subclasses build their representations, call ``super().__init__``, and implement
    ``_update_internal_state(interactions)``; they may override ``train``,
    ``process_new_items`` and ``process_new_users``.

    Args:
        users_hat: U×Â predicted user profiles (array, sparse, or component).
        items_hat: Â×I predicted item attributes.
        users: true users: a U×A* profile array, a :class:`~mesa_recsys.components.Users`,
            or None for standard-normal profiles shaped like ``users_hat``.
        items: A*×I true item attributes (array or :class:`~mesa_recsys.components.Items`).
        num_users: U (checked against the matrices).
        num_items: I (checked against the matrices).
        num_items_per_iter: items shown per user per step, or ``"all"``.
        creators: optional :class:`~mesa_recsys.components.Creators`.
        probabilistic_recommendations: sample the shown items with probability rising
            exponentially with rank instead of taking the top.
        measurements: metrics to record from t=0.
        record_base_state: record the history of users_hat, users, items_hat, predicted
            scores (and creators) every step.
        system_state: further components whose history to record.
        score_fn: ``fn(user_profiles, item_attributes) -> scores``; must score each user
            row independently (it is evaluated a block of users at a time).
        interleaving_fn: ``fn(k, item_indices) -> U×k`` choosing the interleaved items.
        verbose: log at debug level.
        seed: seed of the model's generator (T-RECS's name for Mesa's ``rng``).
        rng: Mesa's ``rng`` (seed or Generator); give ``seed`` or ``rng``, not both.
        user_agent_class: class of the user agents (a :class:`UserAgent` subclass).
        step_options: default :class:`StepOptions` (or a dict of them) for ``step()``.

    Raises:
        TypeError: on an argument of the wrong type.
        ValueError: on inconsistent sizes or out-of-range values; the message names the
            argument, the expected value or shape, and what was received.
    """

    user_agent_class: ClassVar[type[UserAgent]] = UserAgent
    item_agent_class: ClassVar[type[ItemAgent]] = ItemAgent
    creator_agent_class: ClassVar[type[CreatorAgent]] = CreatorAgent
    #: Whether ``users_hat`` columns must equal ``items_hat`` rows (False for models whose
    #: score function is not a product of the two, such as the BassModel).
    representations_must_match: ClassVar[bool] = True
    #: Most threads BLAS may use while a step runs (its idle threads spin and take cores
    #: from the compiled kernels; see :mod:`mesa_recsys.threads`); None leaves BLAS alone.
    blas_threads: int | None = 1

    def __init__(
        self,
        users_hat: Any,
        items_hat: Any,
        users: Any,
        items: Any,
        num_users: int | None,
        num_items: int | None,
        num_items_per_iter: int | str,
        creators: Creators | None = None,
        probabilistic_recommendations: bool = False,
        measurements: list[Measurement] | None = None,
        record_base_state: bool = False,
        system_state: list[BaseComponent] | None = None,
        score_fn: Callable = mo.inner_product,
        interleaving_fn: Callable | None = None,
        verbose: bool = False,
        seed: Any = None,
        rng: Any = None,
        user_agent_class: type[UserAgent] | None = None,
        step_options: StepOptions | dict | None = None,
    ) -> None:
        """Build the state, the agents and the DataCollector; record t=0."""
        if seed is not None and rng is not None:
            raise ValueError("seed and rng: give one of them, not both")
        super().__init__(rng=rng if rng is not None else _seed_value(seed))
        # Mesa's step() moves the clock (steps, time) before our step body runs, and a body
        # that raises also drops the next step event. Check a step's options first, so that
        # a rejected step leaves the model as it was and able to run on.
        self._clocked_step = self.step
        self.step = self._checked_step
        self.logger = logging.getLogger(f"mesa_recsys.{type(self).__name__}")
        self.set_verbose(verbose)
        SystemStateModule.__init__(self)
        self.metrics: list[Measurement] = []

        validate.check_positive_int("num_users", num_users)
        validate.check_positive_int("num_items", num_items)
        self.score_fn = validate.check_callable("score_fn", score_fn)
        if score_fn is None:
            raise TypeError("score_fn: expected a callable, got None")
        self.interleaving_fn = validate.check_callable("interleaving_fn", interleaving_fn)
        self.probabilistic_recommendations = bool(probabilistic_recommendations)
        if user_agent_class is not None:
            if not (isinstance(user_agent_class, type) and issubclass(user_agent_class, UserAgent)):
                raise TypeError(
                    f"user_agent_class: expected a subclass of UserAgent, got {user_agent_class!r}"
                )
            self.user_agent_class = user_agent_class
        if isinstance(step_options, dict):
            step_options = StepOptions(**step_options)
        self.step_options = step_options or StepOptions()

        self.users_hat = _as_component(users_hat, PredictedUserProfiles, "user_representation")
        self.items_hat = _as_component(items_hat, PredictedItems, "item_representation")
        self.users = self._make_users(users, num_users)
        self.items = self._make_items(items)
        if creators is not None and not isinstance(creators, Creators):
            raise TypeError(
                f"creators: expected a mesa_recsys.components.Creators, got {type(creators).__name__}"
            )
        self.creators = creators
        self.users.claim(self, "actual_user_representation")
        self.items.claim(self, "actual_item_representation")
        if self.creators is not None:
            self.creators.claim(self, "creators")
        self._check_sizes(num_users, num_items)
        if self.creators is not None and self.creators.rng is None:
            self.creators.rng = self._spawn_rng()
        if self.users.rng is None:
            self.users.rng = self._spawn_rng()
        self.users.bind_items(self.items)

        self.expand_items_per_iter = False
        self.set_num_items_per_iter(validate.check_num_items_per_iter(num_items_per_iter))
        self.items_shown = np.empty((self.num_users, 0), dtype=np.int64)
        self.interactions = np.empty((self.num_users, 0), dtype=np.int64)
        self._excluded = np.empty((self.num_users, 0), dtype=np.int64)
        self.predicted_scores: PredictedScores | None = None
        #: Lists (or candidates) of the current scores ranked by a metric (NDCG@k) at the
        #: end of the last step; the next recommendation reads its top k from them when
        #: they answer it (the same lists it would compute).
        self.kept_ranking: topk.CandidateRanking | topk.KeptLists | None = None
        self.train()

        self._create_agents(self.user_agent_class, self.users, 0, self.num_users)
        self._create_agents(self.item_agent_class, self.items, 0, self.num_items)
        if self.creators is not None:
            self._create_agents(
                self.creator_agent_class, self.creators, 0, self.creators.num_creators
            )

        self.datacollector = mesa.DataCollector(model_reporters={"num_items": "num_items"})
        if record_base_state:
            state = [self.users_hat, self.users, self.items_hat, self.predicted_scores]
            self.add_state_variable(*state, *([self.creators] if self.creators else []))
        if system_state:
            self.add_state_variable(*system_state)
        if measurements:
            self.add_metrics(*measurements)
        self.datacollector.collect(self)

    # --- construction helpers -----------------------------------------------------------

    def _spawn_rng(self) -> np.random.Generator:
        return np.random.default_rng(self.rng.integers(0, 2**63))

    def _make_users(self, users: Any, num_users: int | None) -> Users:
        if users is None:
            return Users(size=self.users_hat.shape, seed=self.rng.integers(0, 2**63))
        if isinstance(users, Users):
            return users
        if isinstance(users, list | np.ndarray) or sparse.issparse(users):
            validate.check_array("actual_user_representation", users, ndim=2)
            return Users(actual_user_profiles=users)
        raise TypeError(
            "actual_user_representation: expected an array, a sparse matrix or a "
            f"mesa_recsys.components.Users, got {type(users).__name__}"
        )

    def _make_items(self, items: Any) -> Items:
        if items is None:
            raise ValueError("actual_item_representation: the true item attributes can't be None")
        if isinstance(items, Items):
            return items
        if isinstance(items, list | np.ndarray) or sparse.issparse(items):
            validate.check_array("actual_item_representation", items, ndim=2)
            return Items(items)
        raise TypeError(
            "actual_item_representation: expected an array, a sparse matrix or a "
            f"mesa_recsys.components.Items, got {type(items).__name__}"
        )

    def _check_sizes(self, num_users: int | None, num_items: int | None) -> None:
        u_hat, i_hat = self.users_hat.shape, self.items_hat.shape
        if self.representations_must_match and u_hat[1] != i_hat[0]:
            raise ValueError(
                f"user_representation and item_representation: expected the same number of "
                f"attributes, got user_representation shape {u_hat} (U×A) and "
                f"item_representation shape {i_hat} (A×I)"
            )
        checks = [
            ("num_users", num_users, "user_representation rows", u_hat[0]),
            (
                "actual_user_representation rows",
                self.users.num_users,
                "user_representation rows",
                u_hat[0],
            ),
            ("num_items", num_items, "item_representation columns", i_hat[1]),
            (
                "actual_item_representation columns",
                self.items.num_items,
                "item_representation columns",
                i_hat[1],
            ),
        ]
        for name, got, ref_name, ref in checks:
            if got is not None and got != ref:
                raise ValueError(f"{name}: expected {ref} (from {ref_name}), got {got}")
        if self.users.score_fn is mo.inner_product and self.users.num_attrs != self.items.num_attrs:
            raise ValueError(
                f"actual_user_representation and actual_item_representation: expected the same "
                f"number of attributes, got {self.users.num_attrs} (users) and "
                f"{self.items.num_attrs} (items)"
            )
        scores = self.users.actual_user_scores
        if scores is not None and scores.explicit and scores.shape != (u_hat[0], i_hat[1]):
            raise ValueError(
                f"actual_user_scores: expected shape {(u_hat[0], i_hat[1])}, got {scores.shape}"
            )
        if self.creators is not None and self.creators.num_attrs != self.items.num_attrs:
            raise ValueError(
                f"creators: expected profiles with {self.items.num_attrs} attributes (the true "
                f"items' count), got {self.creators.num_attrs}"
            )

    def _create_agents(self, cls: type, view: Any, start: int, stop: int) -> None:
        agents = [cls(self, i) for i in range(start, stop)]
        for agent in agents:
            view._agents[agent] = None
        view.random = self.random

    # --- sizes and T-RECS's matrix properties --------------------------------------------

    @property
    def num_users(self) -> int:
        """Number of users."""
        return self.users_hat.shape[0]

    @property
    def num_items(self) -> int:
        """Number of items."""
        return self.items_hat.shape[1]

    @property
    def random_state(self) -> np.random.Generator:
        """T-RECS's name for the model's generator (``model.rng``)."""
        return self.rng

    @property
    def predicted_user_profiles(self) -> Any:
        """``users_hat`` as an array."""
        return self.users_hat.value

    @property
    def predicted_item_attributes(self) -> Any:
        """``items_hat`` as an array."""
        return self.items_hat.value

    @property
    def actual_user_profiles(self) -> Any:
        """True user profiles, U×A*."""
        return self.users.actual_user_profiles.value

    @property
    def actual_item_attributes(self) -> Any:
        """True item attributes, A*×I."""
        return self.items.value

    @property
    def actual_user_item_scores(self) -> np.ndarray:
        """True scores, U×I (built on demand)."""
        return self.users.actual_user_scores.value

    @property
    def predicted_user_item_scores(self) -> np.ndarray:
        """Predicted scores, U×I (built on demand)."""
        return self.predicted_scores.value

    @property
    def indices(self) -> np.ndarray:
        """U×I item ids with ``-1`` where an item may no longer be recommended (T-RECS's view)."""
        idx = np.tile(np.arange(self.num_items), (self.num_users, 1))
        rows, cols = np.nonzero(self._excluded >= 0)
        idx[rows, self._excluded[rows, cols]] = -1
        return idx

    # --- verbosity --------------------------------------------------------------------------

    def set_verbose(self, verbose: bool) -> None:
        """Log at debug level (True) or info level (False)."""
        self.verbose = bool(verbose)
        self.logger.setLevel(logging.DEBUG if verbose else logging.INFO)

    def is_verbose(self) -> bool:
        """Whether debug logging is on."""
        return self.verbose

    def log(self, message: str) -> None:
        """Log ``message`` at debug level."""
        self.logger.debug(message)

    # --- training and scoring ---------------------------------------------------------------

    def train(self) -> None:
        """Recompute predicted scores from the current ``users_hat`` and ``items_hat``."""
        users = _copy(self.users_hat.value)
        items = _copy(self.items_hat.value)
        if self.predicted_scores is None:
            self.predicted_scores = PredictedScores()
        self.predicted_scores.set_factors(users, items, self.score_fn)

    def _fast_factors(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Normalised dense factors when scores are the default inner product, else None."""
        scores = self.predicted_scores
        if scores.explicit or scores._factors[2] is not mo.inner_product:
            return None
        users, items, _ = scores._factors
        if sparse.issparse(users) or sparse.issparse(items):
            return None
        return mo.normalize_matrix(users), np.asarray(items, dtype=float)

    @staticmethod
    def _draw_tie_seed(rng: np.random.Generator) -> int:
        return int(rng.integers(0, 2**63))

    def next_tie_seed(self) -> int:
        """The tie-break seed the next ranking of items will use, without drawing it.

        A metric that ranks the current scores (NDCG@k) breaks ties with it, so that its
        lists are those the model would recommend next, and can hand them over
        (``kept_ranking``). Reads a copy of the model's generator: the simulation is not
        changed.
        """
        twin = np.random.Generator(type(self.rng.bit_generator)())
        twin.bit_generator.state = self.rng.bit_generator.state
        return self._draw_tie_seed(twin)

    def _top_k(self, k: int, excluded: np.ndarray | None) -> np.ndarray:
        seed = self._draw_tie_seed(self.rng)
        if self.probabilistic_recommendations:
            return self._probabilistic_top_k(k, excluded)
        kept = self.kept_ranking
        if kept is not None and kept.matches(self.predicted_scores):
            lists = kept.top_k(k, seed, excluded)
            if lists is not None:  # the lists of this seed, k and exclusions are known
                return lists
        factors = self._fast_factors()
        if factors is not None:
            users, items = factors
            if items.shape[0] == 1:
                return topk.top_k_shared(items[0], users[:, 0], k, seed, excluded)
            if items.shape[0] <= topk.FUSED_MAX_FACTORS:
                return topk.top_k_factors(users, items, k, seed, excluded)
            # Many factors: blocks of scores by BLAS beat the per-user accumulation.
            return topk.top_k_items(
                lambda rows: users[rows] @ items, self.num_users, self.num_items, k, seed, excluded
            )
        return topk.top_k_items(
            self.predicted_scores.block, self.num_users, self.num_items, k, seed, excluded
        )

    def _probabilistic_top_k(self, k: int, excluded: np.ndarray | None) -> np.ndarray:
        """Sample k items per user, each pick weighted by 2^(n/10 · rank/(n-1)) (T-RECS's law)."""
        out = np.empty((self.num_users, k), dtype=np.int64)
        n = self.num_items
        step = max(1, (1 << 22) // max(1, n))
        for start in range(0, self.num_users, step):
            rows = slice(start, min(self.num_users, start + step))
            scores = self.predicted_scores.block(rows).astype(float)
            if excluded is not None and excluded.shape[1]:
                r, c = np.nonzero(excluded[rows] >= 0)
                scores[r, excluded[rows][r, c]] = -np.inf
            rank = np.argsort(np.argsort(scores, axis=1, kind="stable"), axis=1)
            logw = (n / 10.0) * rank / max(1, n - 1) * np.log(2.0)
            logw[np.isneginf(scores)] = -np.inf
            keys = logw + self.rng.gumbel(size=scores.shape)
            out[rows] = np.argsort(-keys, axis=1)[:, :k]
        return out

    # --- recommending -----------------------------------------------------------------------

    def set_num_items_per_iter(self, num_items_per_iter: int | str) -> None:
        """Set how many items each user is shown per step (``"all"`` follows the catalogue)."""
        if num_items_per_iter == "all":
            self.expand_items_per_iter = True
            num_items_per_iter = self.num_items
        if num_items_per_iter > self.num_items:
            raise ValueError(
                f"num_items_per_iter: expected at most num_items = {self.num_items}, "
                f"got {num_items_per_iter}"
            )
        self.num_items_per_iter = int(num_items_per_iter)

    def _available_items(self) -> int:
        """Fewest items any user may still be recommended."""
        if self._excluded.shape[1] == 0:
            return self.num_items
        ex = np.sort(self._excluded, axis=1)
        distinct = (ex >= 0) & np.concatenate(
            [np.ones((ex.shape[0], 1), dtype=bool), ex[:, 1:] != ex[:, :-1]], axis=1
        )
        return self.num_items - int(distinct.sum(axis=1).max())

    def generate_recommendations(
        self, k: int = 1, item_indices: np.ndarray | None = None
    ) -> np.ndarray:
        """The k best items per user by predicted score, best first, ties broken at random.

        Args:
            k: items per user.
            item_indices: optional U×n candidate item ids per user (T-RECS's form; ``-1``
                entries are ignored). When None, every item not excluded is a candidate.

        Returns:
            U×k item ids.

        Raises:
            ValueError: when some user has fewer than k candidates.
        """
        validate.check_positive_int("k", k, minimum=0, allow_none=False)
        if item_indices is None:
            excluded = self._excluded if self._excluded.shape[1] else None
            if k > self._available_items():
                raise ValueError(
                    f"k: there are not enough items left to recommend {k} items to each user "
                    f"(fewest left: {self._available_items()})"
                )
            return self._top_k(k, excluded)
        item_indices = np.asarray(item_indices)
        if item_indices.ndim != 2 or item_indices.shape[0] != self.num_users:
            raise ValueError(
                f"item_indices: expected shape ({self.num_users}, n), got {item_indices.shape}"
            )
        if k > int((item_indices >= 0).sum(axis=1).min()):
            raise ValueError(
                f"k: there are not enough items left to recommend {k} items to each user"
            )
        return self._top_k(k, self._excluded_outside(item_indices))

    def _excluded_outside(self, item_indices: np.ndarray) -> np.ndarray:
        """U×I exclusion list of every item not among each user's ``item_indices``."""
        mask = np.ones((self.num_users, self.num_items), dtype=bool)
        rows = np.repeat(np.arange(self.num_users), item_indices.shape[1])
        valid = item_indices.ravel() >= 0
        mask[rows[valid], item_indices.ravel()[valid]] = False
        return np.where(mask, np.arange(self.num_items), -1)

    def choose_interleaved_items(
        self, k: int = 0, item_indices: np.ndarray | None = None
    ) -> np.ndarray:
        """A uniform random k-subset of each user's candidate items, in random order.

        Uses ``interleaving_fn(k, item_indices)`` when the model has one (it then receives
        the U×I candidate matrix of :attr:`indices`, filtered as in T-RECS).
        """
        if self.interleaving_fn is not None:
            if item_indices is None:
                item_indices = self._candidate_matrix()
            return np.asarray(self.interleaving_fn(k, item_indices), dtype=np.int64)
        if k == 0:
            return np.empty((self.num_users, 0), dtype=np.int64)
        seed = int(self.rng.integers(0, 2**63))
        excluded = self._excluded if self._excluded.shape[1] else None
        if item_indices is not None:
            excluded = self._excluded_outside(np.asarray(item_indices))
        return topk.random_k_items(self.num_users, self.num_items, k, seed, excluded)

    def _candidate_matrix(self) -> np.ndarray:
        idx = self.indices
        if self._excluded.shape[1] == 0:
            return idx
        keep = idx >= 0
        counts = keep.sum(axis=1)
        if np.all(counts == counts[0]):
            return idx[keep].reshape(self.num_users, -1)
        return idx

    def recommend(
        self,
        startup: bool = False,
        random_items_per_iter: int = 0,
        vary_random_items_per_iter: bool = False,
        repeated_items: bool = True,
    ) -> np.ndarray:
        """The items each user is shown this step (does not change ``items_shown``).

        Args:
            startup: show only random items.
            random_items_per_iter: how many shown items are random, placed at random slots.
            vary_random_items_per_iter: draw that number in [0, random_items_per_iter].
            repeated_items: when False, items a user interacted with are not shown again.

        Returns:
            U×``num_items_per_iter`` item ids.

        Raises:
            ValueError: when ``random_items_per_iter`` exceeds ``num_items_per_iter`` or too
                few items are left.
        """
        n_shown = self.num_items_per_iter
        self._check_recommend(n_shown, random_items_per_iter, repeated_items)
        if startup:
            n_new = n_shown
        elif vary_random_items_per_iter:
            n_new = int(self.rng.integers(0, random_items_per_iter + 1))
        else:
            n_new = int(random_items_per_iter)
        n_rec = n_shown - n_new
        excluding = not repeated_items and self._excluded.shape[1] > 0
        saved = self._excluded
        if not excluding:
            self._excluded = np.empty((self.num_users, 0), dtype=np.int64)
        try:
            recommended = self.generate_recommendations(n_rec) if n_rec else None
            interleaved = self.choose_interleaved_items(n_new)
        finally:
            self._excluded = saved
        if n_new == 0:
            return recommended
        if n_rec == 0:
            return interleaved
        slots = np.argsort(self.rng.random((self.num_users, n_shown)), axis=1)[:, n_rec:]
        is_new = np.zeros((self.num_users, n_shown), dtype=bool)
        np.put_along_axis(is_new, slots, True, axis=1)
        shown = np.empty((self.num_users, n_shown), dtype=np.int64)
        shown[is_new] = interleaved.ravel()
        shown[~is_new] = recommended.ravel()
        return shown

    def _check_recommend(
        self, n_shown: int, random_items_per_iter: int, repeated_items: bool
    ) -> None:
        """Raise ValueError unless ``n_shown`` items can be shown with these options."""
        validate.check_positive_int("random_items_per_iter", random_items_per_iter, minimum=0)
        if random_items_per_iter > n_shown:
            raise ValueError(
                f"random_items_per_iter: expected at most num_items_per_iter = {n_shown}, "
                f"got {random_items_per_iter}"
            )
        available = self.num_items if repeated_items else self._available_items()
        if n_shown > available:
            raise ValueError(
                f"num_items_per_iter: there are not enough items left to recommend "
                f"{n_shown} items to each user (fewest left: {available}); "
                "with repeated_items=False every interaction removes an item"
            )

    # --- one step ---------------------------------------------------------------------------

    def _checked_step(self) -> None:
        """``model.step()``: validate the step's options, then let Mesa move the clock and step.

        A step rejected here leaves ``steps``, ``time`` and the DataCollector as they were.
        When creators will add items first, what can be recommended is known only inside
        the step, which then checks again. ``run_for``/``run_until`` go straight to Mesa's
        event list and skip this check.

        Raises:
            ValueError: when the step's options cannot be honoured (see ``recommend``).
        """
        opts = self.step_options
        if self.creators is None or opts.no_new_items:
            self._check_recommend(
                self.num_items_per_iter, opts.random_items_per_iter, opts.repeated_items
            )
        self._clocked_step()

    def step(self) -> None:
        """Run one step of the recommendation loop with ``self.step_options``.

        BLAS runs on at most ``blas_threads`` threads meanwhile (see :mod:`mesa_recsys.threads`).
        """
        with limit_blas_threads(self.blas_threads):
            self._step()

    def _step(self) -> None:
        opts = self.step_options
        if self.creators is not None and not opts.no_new_items:
            self.create_and_process_items()
            if self.expand_items_per_iter:
                self.num_items_per_iter = self.num_items
        self.items_shown = self.recommend(
            startup=opts.startup,
            random_items_per_iter=opts.random_items_per_iter,
            vary_random_items_per_iter=opts.vary_random_items_per_iter,
            repeated_items=opts.repeated_items,
        )
        interactions = self._user_feedback(self.items_shown)
        self.interactions = interactions
        if not opts.repeated_items:
            self._excluded = np.hstack([self._excluded, interactions[:, None]])
        self.items.count_interactions(interactions)
        self._update_internal_state(interactions)
        if self.creators is not None:
            self.creators.update_profiles(interactions, self.items.value, self.items.creator_of)
        if self.users.drift > 0:
            moved = np.flatnonzero(interactions >= 0)
            chosen = mo.to_dense(self.items.value)[:, interactions[moved]].T
            self.users.update_profiles(chosen, users=moved)
            self.users.compute_user_scores(self.items)
        if opts.train_between_steps:
            self.train()
        self.record_state()
        self.datacollector.collect(self)

    def _user_feedback(self, items_shown: np.ndarray) -> np.ndarray:
        if not overrides_choose(self.user_agent_class):
            interactions = self.users.get_user_feedback(items_shown)
        else:
            interactions = np.full(self.num_users, -1, dtype=np.int64)
            for agent in self.users:
                choice = agent.choose(items_shown[agent.index])
                interactions[agent.index] = -1 if choice is None else int(choice)
            interactions = self.users.apply_interaction_probability(interactions)
            if not self.users.repeat_interactions:
                self.users.user_interactions = np.hstack(
                    [self.users.user_interactions, interactions[:, None]]
                )
        if interactions.shape != (self.num_users,):
            raise ValueError(
                f"interact_with_items: expected {self.num_users} interactions (one per user), "
                f"got shape {interactions.shape}"
            )
        if np.any(interactions >= self.num_items):
            raise ValueError("interact_with_items: returned an item id >= num_items")
        return interactions

    def _update_internal_state(self, interactions: np.ndarray) -> None:
        """Learn from this step's interactions (``-1`` = user did not interact).

        Args:
            interactions: length-U item ids.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _update_internal_state")

    # --- running ----------------------------------------------------------------------------

    def run(
        self,
        timesteps: int = 50,
        startup: bool = False,
        train_between_steps: bool = True,
        random_items_per_iter: int = 0,
        vary_random_items_per_iter: bool = False,
        repeated_items: bool = True,
        no_new_items: bool = False,
        disable_tqdm: bool = False,
    ) -> None:
        """Run ``timesteps`` steps with a progress bar (T-RECS's ``run``).

        Args:
            timesteps: number of steps.
            startup: show only random items and do not train (see ``startup_and_train``).
            train_between_steps: retrain after every step.
            random_items_per_iter: random items mixed into each user's list.
            vary_random_items_per_iter: draw that number anew each step.
            repeated_items: whether items a user interacted with may be shown again.
            no_new_items: keep creators from making items.
            disable_tqdm: hide the progress bar.
        """
        validate.check_positive_int("timesteps", timesteps, minimum=0, allow_none=False)
        if not self.metrics:
            warnings.warn(
                "No measurements are currently defined for the simulation. Please add "
                "measurements if desired.",
                UserWarning,
                stacklevel=2,
            )
        options = StepOptions(
            startup=startup,
            train_between_steps=train_between_steps,
            random_items_per_iter=random_items_per_iter,
            vary_random_items_per_iter=vary_random_items_per_iter,
            repeated_items=repeated_items,
            no_new_items=no_new_items,
        )
        saved, self.step_options = self.step_options, options
        try:
            for _ in trange(timesteps, disable=disable_tqdm, desc=type(self).__name__):
                self.step()
        finally:
            self.step_options = saved

    def startup_and_train(self, timesteps: int = 50, no_new_items: bool = False) -> None:
        """Run ``timesteps`` start-up steps (random items, no training), then train once."""
        self.run(timesteps, startup=True, train_between_steps=False, no_new_items=no_new_items)
        self.train()

    # --- growing the catalogue and the population --------------------------------------------

    def create_and_process_items(self) -> None:
        """Let creators make items and add them everywhere (recommendable this step)."""
        new_items = self.creators.generate_items()
        n = new_items.shape[1]
        if n == 0:
            return
        start = self.num_items
        self.items.append_new_items(
            new_items, step=self.steps, creators=self.creators.last_creators
        )
        new_hat = self.process_new_items(new_items)
        self.items_hat.append_new_items(new_hat)
        self._extend_scores(items=new_hat)
        self.users.score_new_items(new_items)
        self._create_agents(self.item_agent_class, self.items, start, start + n)

    def add_users(
        self,
        new_users: Any,
        *,
        interaction_probability: float | np.ndarray | None = None,
        **kwargs: Any,
    ) -> None:
        """Add users (n×A* true profiles) to the running simulation.

        Args:
            new_users: true profiles of the new users.
            interaction_probability: the new users' chance of interacting in a step (one
                value or n). When None they share the users' single probability; it is
                required when the users have one probability each.
            **kwargs: passed to ``process_new_users`` (e.g. a social graph).

        Raises:
            ValueError: on profiles of the wrong width or a missing or invalid
                ``interaction_probability`` (see ``Users.append_new_users``).
        """
        new_users = validate.check_array("new_users", new_users, ndim=2)
        if new_users.shape[1] != self.users.num_attrs:
            raise ValueError(
                f"new_users: expected {self.users.num_attrs} attributes per user, got shape "
                f"{new_users.shape}"
            )
        n = new_users.shape[0]
        start = self.num_users
        # check everything that can fail before anything changes: a rejected add_users
        # leaves the model as it was
        self.users.probability_with_new_users(n, interaction_probability)
        new_hat = self.process_new_users(new_users, **kwargs)
        self.users.append_new_users(new_users, self.items, interaction_probability)
        self.users_hat.append_new_users(new_hat)
        self._excluded = np.vstack([self._excluded, np.full((n, self._excluded.shape[1]), -1)])
        if self.items_shown.shape[1]:
            pad = np.full((n, self.items_shown.shape[1]), -1, dtype=np.int64)
            self.items_shown = np.vstack([self.items_shown, pad])
        else:
            self.items_shown = np.empty((self.num_users, 0), dtype=np.int64)
        if self.interactions.ndim == 1:
            self.interactions = np.concatenate([self.interactions, np.full(n, -1)])
        else:
            self.interactions = np.empty((self.num_users, 0), dtype=np.int64)
        self._extend_scores(users=new_hat)
        self._create_agents(self.user_agent_class, self.users, start, start + n)

    def _extend_scores(self, items: Any = None, users: Any = None) -> None:
        scores = self.predicted_scores
        if scores.explicit:
            if items is not None:
                scores.append_item_scores(self.score_fn(self.users_hat.value, items))
            if users is not None:
                scores.append_user_scores(self.score_fn(users, self.items_hat.value))
            return
        u, i, fn = scores._factors
        if items is not None:
            i = mo.hstack([i, items])
        if users is not None:
            u = mo.vstack([u, users])
        scores.set_factors(u, i, fn)

    def process_new_items(self, new_items: np.ndarray) -> Any:
        """The recommender's representation (Â×n) of new items (A*×n true attributes).

        Raises:
            RuntimeError: unless a subclass implements it.
        """
        raise RuntimeError(f"{type(self).__name__} does not support new items")

    def process_new_users(self, new_users: np.ndarray, **kwargs: Any) -> Any:
        """The recommender's representation (n×Â) of new users.

        Raises:
            RuntimeError: unless a subclass implements it.
        """
        raise RuntimeError(f"{type(self).__name__} does not support new users")

    def add_new_item_indices(self, num_new_items: int) -> None:
        """Kept for T-RECS compatibility: new items are candidates automatically."""

    def add_new_user_indices(self, num_new_users: int) -> None:
        """Kept for T-RECS compatibility: ``add_users`` extends every per-user array."""

    # --- metrics and state ------------------------------------------------------------------

    def add_metrics(self, *measurements: Measurement) -> None:
        """Register metrics as DataCollector reporters; they are measured now and every step.

        Raises:
            ValueError: when no metric is given or one is not a ``Measurement``.
        """
        if not measurements:
            raise ValueError("add_metrics: give at least one Measurement")
        bad = [m for m in measurements if not isinstance(m, Measurement)]
        if bad:
            raise ValueError(
                f"add_metrics: expected Measurement instances, got {type(bad[0]).__name__}"
            )
        dc = getattr(self, "datacollector", None)
        for metric in measurements:
            if any(metric.name == m.name for m in self.metrics) or (
                dc is not None and metric.name in dc.model_reporters
            ):
                warnings.warn(
                    f"add_metrics: a reporter named {metric.name!r} exists and is replaced",
                    UserWarning,
                    stacklevel=2,
                )
                self.metrics = [m for m in self.metrics if m.name != metric.name]
            self.metrics.append(metric)
            if dc is None:
                continue
            dc._new_model_reporter(metric.name, partial(metric))
            collected = len(dc._collection_steps)
            dc.model_vars[metric.name] = [None] * collected
            if collected and dc._collection_steps[-1] == self.time:
                dc.model_vars[metric.name][-1] = metric(self)

    def measure_content(self) -> None:
        """Measure every metric now (outside a step; the DataCollector is not touched)."""
        for metric in self.metrics:
            metric.measure(self)

    def get_measurements(self) -> dict[str, Any] | None:
        """Every metric's history, plus ``"timesteps"`` (T-RECS's dict-of-lists).

        Returns:
            ``{name: [value at t0, t1, ...], ..., "timesteps": array}``, or None with no metrics.
        """
        if not self.metrics:
            return None
        out: dict[str, Any] = {}
        for metric in self.metrics:
            out[metric.name] = metric.measurement_history
        if "timesteps" not in out:
            out["timesteps"] = np.arange(len(self.metrics[0].measurement_history))
        return out

    def get_system_state(self) -> dict[str, Any]:
        """Every recorded component's history, plus ``"timesteps"``.

        Raises:
            ValueError: when no state is recorded.
        """
        if not self._system_state:
            raise ValueError("No measurement module defined")
        out: dict[str, Any] = {}
        for component in self._system_state:
            out[component.name] = component.state_history
        out["timesteps"] = np.arange(len(self._system_state[0].state_history))
        return out

    def step_options_with(self, **changes: Any) -> StepOptions:
        """A copy of ``step_options`` with some fields changed (validated by name)."""
        names = {f.name for f in fields(StepOptions)}
        unknown = set(changes) - names
        if unknown:
            raise TypeError(
                f"step options: unknown option(s) {sorted(unknown)}; known: {sorted(names)}"
            )
        return replace(self.step_options, **changes)


def _seed_value(seed: Any) -> Any:
    """Turn T-RECS's seed into something Mesa's ``rng=`` accepts."""
    if seed is None or isinstance(seed, int | np.integer | np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, float) and seed.is_integer():
        return int(seed)
    raise TypeError(
        f"seed: expected an int, a SeedSequence or a Generator, got {type(seed).__name__}"
    )


def _copy(value: Any) -> Any:
    return value.copy()


def _as_component(value: Any, cls: type, name: str) -> Any:
    if isinstance(value, cls):
        return value
    if value is None:
        raise ValueError(f"{name}: can't be None")
    return cls(validate.check_array(name, value, ndim=2))
