"""ImplicitMF: implicit-feedback matrix factorisation (T-RECS's model, without LensKit)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from mesa_recsys.als import implicit_als
from mesa_recsys.models.base import BaseRecommender, StepOptions
from mesa_recsys.random import Generator, defaults_seed
from mesa_recsys.validate import validate_user_item_inputs

__all__ = ["ImplicitMF"]

#: Fitting options and their defaults (LensKit's ``ImplicitMF``, which T-RECS wraps).
DEFAULT_MODEL_PARAMS: dict[str, Any] = {
    "iterations": 20,
    "reg": 0.1,
    "weight": 40.0,
    "method": "cg",
    "rng_spec": None,
}


def _check_model_params(params: dict[str, Any]) -> None:
    """Raise ValueError (naming the key) on a fitting option ``implicit_als`` would reject."""
    if "method" in params and params["method"] not in ("cg", "lu"):
        raise ValueError(f"model_params['method']: expected 'cg' or 'lu', got {params['method']!r}")
    for key, low in (("features", 1), ("iterations", 0)):
        value = params.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low
        ):
            raise ValueError(f"model_params[{key!r}]: expected an integer >= {low}, got {value!r}")
    for key in ("reg", "weight"):
        value = params.get(key)
        if value is not None and not (isinstance(value, int | float) and value >= 0):
            raise ValueError(f"model_params[{key!r}]: expected a number >= 0, got {value!r}")


class ImplicitMF(BaseRecommender):
    """Matrix factorisation of implicit feedback (Hu, Koren & Volinsky 2008), as in T-RECS.

    The recommender logs every interaction. ``train()`` fits k latent factors to the
    logged (user, item) pairs by alternating least squares (:func:`mesa_recsys.als.
    implicit_als`): users and items that appear in the log get new factors, the others
    keep theirs. Scores are the inner product of the normalised user factors with the
    item factors.

    The log and ``reset_interactions``: T-RECS empties the log at the start of every
    ``run()`` call, so a fit only sees the interactions of the latest run (typically the
    start-up run, or the last step when running one step at a time). That is the default
    here too (``reset_interactions=True``). The T-RECS paper's replication of Chaney et al.
    had to override it to learn from the whole history; ``reset_interactions=False``
    (on the model or per ``run``) keeps every interaction. ``step()`` alone never empties
    the log; ``clear_interactions()`` does.

    Like T-RECS, ``run`` and ``step`` do not retrain between steps unless asked
    (``train_between_steps=True``), and new items get the mean of the fitted item factors.

    Args:
        num_users: U (default 100).
        num_items: I (default 1250).
        num_latent_factors: k (default 10).
        user_representation: U×k initial user factors (default standard normal).
        item_representation: k×I initial item factors (default standard normal).
        actual_user_representation: true users (array or ``Users``; default standard normal).
        actual_item_representation: true items (default: a copy of ``item_representation``).
        seed: seed of the default representations, of the fits and of the model.
        num_items_per_iter: items shown per step (default 10) or ``"all"``.
        model_params: fitting options (T-RECS passes them to LensKit): ``features`` (= k),
            ``iterations`` (20), ``reg`` (0.1), ``weight`` (confidence weight, 40),
            ``method`` (``"cg"`` or ``"lu"``), ``rng_spec`` (seed of the fits; default:
            drawn from the model's generator).
        reset_interactions: empty the log at the start of every ``run()`` (T-RECS).
        **kwargs: anything :class:`BaseRecommender` takes.

    Raises:
        ValueError: when the number of factors differs across the inputs, or on an
            unknown ``model_params`` key.
    """

    def __init__(
        self,
        num_users: int | None = None,
        num_items: int | None = None,
        num_latent_factors: int | None = None,
        user_representation: Any = None,
        item_representation: Any = None,
        actual_user_representation: Any = None,
        actual_item_representation: Any = None,
        seed: Any = None,
        num_items_per_iter: int | str = 10,
        model_params: dict[str, Any] | None = None,
        reset_interactions: bool = True,
        **kwargs: Any,
    ) -> None:
        """Build the representations and the model."""
        params = dict(model_params or {})
        unknown = set(params) - set(DEFAULT_MODEL_PARAMS) - {"features"}
        if unknown:
            raise ValueError(
                f"model_params: unknown key(s) {sorted(unknown)}; expected some of "
                f"{sorted([*DEFAULT_MODEL_PARAMS, 'features'])}"
            )
        _check_model_params(params)
        try:
            num_users, num_items, num_attributes = validate_user_item_inputs(
                num_users,
                num_items,
                user_representation,
                item_representation,
                actual_user_representation,
                actual_item_representation,
                100,
                1250,
                10,
                num_attributes=num_latent_factors,
            )
        except ValueError as exc:  # the validator calls the factor count num_attributes
            message = str(exc).replace("num_attributes", "num_latent_factors")
            if "Inconsistent number of attributes" in message:
                message = f"Number of latent factors is not the same across inputs: {message}"
            raise ValueError(message) from None
        features = params.pop("features", None)
        given = {v for v in (features, num_latent_factors, num_attributes) if v is not None}
        if len(given) > 1:
            raise ValueError(
                "Number of latent factors is not the same across inputs: "
                f"model_params['features']={features}, num_latent_factors="
                f"{num_latent_factors}, representations have {num_attributes}"
            )
        self.num_latent_factors = int(num_attributes)
        self.model_params = {**DEFAULT_MODEL_PARAMS, **params}
        self.reset_interactions = bool(reset_interactions)
        gen = Generator(defaults_seed(seed, kwargs.get("rng")))
        if user_representation is None:
            user_representation = gen.normal(size=(num_users, num_attributes))
        if item_representation is None:
            item_representation = gen.normal(size=(num_attributes, num_items))
        if actual_item_representation is None:
            actual_item_representation = (
                item_representation.copy()
                if sparse.issparse(item_representation)
                else np.array(item_representation, copy=True)
            )
        kwargs.setdefault("step_options", StepOptions(train_between_steps=False))
        self._log_users: list[np.ndarray] = []
        self._log_items: list[np.ndarray] = []
        self._item_factor_mean: np.ndarray | None = None
        super().__init__(
            user_representation,
            item_representation,
            actual_user_representation,
            actual_item_representation,
            num_users,
            num_items,
            num_items_per_iter,
            seed=seed,
            **kwargs,
        )

    # --- the interaction log ----------------------------------------------------------------

    @property
    def all_interactions(self) -> pd.DataFrame:
        """The logged interactions, one row per (user, item) event (T-RECS's DataFrame)."""
        users = np.concatenate(self._log_users) if self._log_users else np.empty(0, int)
        items = np.concatenate(self._log_items) if self._log_items else np.empty(0, int)
        return pd.DataFrame({"user": users, "item": items})

    def clear_interactions(self) -> None:
        """Empty the interaction log (what ``run`` does when ``reset_interactions``)."""
        self._log_users.clear()
        self._log_items.clear()

    def interaction_counts(self) -> sparse.csr_matrix:
        """U×I sparse counts of the logged interactions."""
        users = np.concatenate(self._log_users) if self._log_users else np.empty(0, int)
        items = np.concatenate(self._log_items) if self._log_items else np.empty(0, int)
        return sparse.csr_matrix(
            (np.ones(users.size), (users, items)), shape=(self.num_users, self.num_items)
        )

    def _update_internal_state(self, interactions: np.ndarray) -> None:
        """Log this step's interactions (``-1`` = none)."""
        users = np.flatnonzero(interactions >= 0)
        self._log_users.append(users)
        self._log_items.append(interactions[users].astype(np.int64))

    # --- fitting ----------------------------------------------------------------------------

    def train(self) -> None:
        """Fit the factors to the logged interactions (if any), then recompute the scores."""
        if self._log_users and sum(u.size for u in self._log_users):
            self._fit()
        super().train()

    def _fit(self) -> None:
        counts = self.interaction_counts()
        users = np.flatnonzero(np.diff(counts.indptr))
        items = np.flatnonzero(np.bincount(counts.indices, minlength=counts.shape[1]))
        params = self.model_params
        seed = params["rng_spec"]
        rng = np.random.default_rng(seed if seed is not None else self.rng.integers(0, 2**63))
        fit = implicit_als(
            counts[users][:, items],
            self.num_latent_factors,
            iterations=params["iterations"],
            reg=params["reg"],
            weight=params["weight"],
            method=params["method"],
            rng=rng,
        )
        user_hat = self._as_float(self.users_hat)
        item_hat = self._as_float(self.items_hat)
        user_hat[users] = fit.user_factors
        item_hat[:, items] = fit.item_factors.T
        self._item_factor_mean = fit.item_factors.mean(axis=0)

    @staticmethod
    def _as_float(component: Any) -> np.ndarray:
        """The component's value as a writable float array (in place when it is one)."""
        value = component.value
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
            value = np.asarray(value.toarray() if sparse.issparse(value) else value, float)
            component.value = value
        return value

    # --- running ----------------------------------------------------------------------------

    def run(
        self,
        timesteps: int = 50,
        startup: bool = False,
        train_between_steps: bool = False,
        random_items_per_iter: int = 0,
        vary_random_items_per_iter: bool = False,
        repeated_items: bool = True,
        no_new_items: bool = False,
        disable_tqdm: bool = False,
        reset_interactions: bool | None = None,
    ) -> None:
        """Run ``timesteps`` steps (T-RECS's ``ImplicitMF.run``: no retraining by default).

        Args:
            timesteps: number of steps.
            startup: show only random items and do not train.
            train_between_steps: refit after every step (default False, as in T-RECS).
            random_items_per_iter: random items mixed into each user's list.
            vary_random_items_per_iter: draw that number anew each step.
            repeated_items: whether items a user interacted with may be shown again.
            no_new_items: keep creators from making items.
            disable_tqdm: hide the progress bar.
            reset_interactions: empty the log first (default: the model's setting).
        """
        reset = self.reset_interactions if reset_interactions is None else reset_interactions
        if reset:
            self.clear_interactions()
        super().run(
            timesteps,
            startup=startup,
            train_between_steps=train_between_steps,
            random_items_per_iter=random_items_per_iter,
            vary_random_items_per_iter=vary_random_items_per_iter,
            repeated_items=repeated_items,
            no_new_items=no_new_items,
            disable_tqdm=disable_tqdm,
        )

    def startup_and_train(self, timesteps: int = 50, no_new_items: bool = True) -> None:
        """Start-up steps (random items, no training), then one fit; no new items by default."""
        super().startup_and_train(timesteps, no_new_items=no_new_items)

    # --- growing ----------------------------------------------------------------------------

    def process_new_items(self, new_items: np.ndarray) -> np.ndarray:
        """New items get the mean fitted item factor (zeros before the first fit)."""
        mean = self._item_factor_mean
        if mean is None:
            mean = np.zeros(self.num_latent_factors)
        return np.tile(mean[:, None], (1, new_items.shape[1]))

    def process_new_users(self, new_users: np.ndarray, **kwargs: Any) -> np.ndarray:
        """New users get standard-normal factors."""
        return self.rng.standard_normal((new_users.shape[0], self.num_latent_factors))
