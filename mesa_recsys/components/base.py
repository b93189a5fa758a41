"""State components: named arrays with an optional history, as in T-RECS.

A component wraps one array of the simulation state (``users_hat``, ``items_hat``, the
true item attributes, ...). Its ``value`` is the single source of truth that agents read
their rows from. ``store_state()`` appends a copy to ``state_history``; the model calls it
each step only for components registered with ``record_base_state=True`` or
``add_state_variable`` (history is opt-in because it costs memory).
"""

from __future__ import annotations

import copy
import random
import weakref
from typing import Any

import numpy as np
from mesa.agentset import AgentSet
from scipy import sparse

__all__ = ["AgentView", "BaseComponent", "Component", "SystemStateModule"]

ArrayLike = np.ndarray | sparse.spmatrix | sparse.sparray


def _copy(value: Any) -> Any:
    return value.copy() if hasattr(value, "copy") else copy.deepcopy(value)


class BaseComponent:
    """Something whose state can be recorded over time.

    Args:
        verbose: kept for T-RECS compatibility (logging goes through ``logging``).
        init_value: first entry of the state history (copied), or None for none.
        seed: unused; kept for T-RECS's signature.
    """

    name = "unnamed"

    def __init__(self, verbose: bool = False, init_value: Any = None, seed: Any = None) -> None:
        """Create the component with an optional first history entry."""
        self.verbose = verbose
        self.state_history: list = [] if init_value is None else [_copy(init_value)]

    def get_component_state(self) -> dict[str, list]:
        """Return ``{name: state_history}``."""
        return {self.name: self.state_history}

    def observe(self, state: Any, copy: bool = True) -> None:
        """Append ``state`` (a copy unless ``copy=False``) to the history."""
        self.state_history.append(_copy(state) if copy else state)

    def store_state(self) -> None:
        """Append a copy of the current state to the history."""
        raise NotImplementedError

    def get_timesteps(self) -> int:
        """Number of recorded states."""
        return len(self.state_history)


class Component(BaseComponent):
    """A named array (dense or scipy sparse) of the simulation state.

    Args:
        current_state: the array; held by reference, as T-RECS does, so in-place edits of
            the caller's array and of ``value`` are the same edit.
        size: kept for T-RECS's signature: a shape to fill with zeros when no state is given.
        verbose: kept for T-RECS compatibility.
        seed: unused.
        name: the key this component's history uses in ``get_system_state()``.

    Raises:
        TypeError: when ``current_state`` is not an array, list or sparse matrix, or
            ``size`` is not a tuple.
        ValueError: when neither ``current_state`` nor ``size`` is given.
    """

    def __init__(
        self,
        current_state: Any = None,
        size: tuple[int, ...] | None = None,
        verbose: bool = False,
        seed: Any = None,
        name: str | None = None,
    ) -> None:
        """Wrap ``current_state`` (or zeros of ``size``)."""
        if name is not None:
            self.name = name
        if current_state is None:
            if size is None:
                raise ValueError(f"{self.name}: give current_state or size")
            if not isinstance(size, tuple):
                raise TypeError(f"size: expected a tuple, got {type(size).__name__}")
            current_state = np.zeros(size)
        self._value = self._check(current_state)
        super().__init__(verbose=verbose, init_value=None)

    def _check(self, value: Any) -> ArrayLike:
        if isinstance(value, list):
            value = np.array(value)
        if not (isinstance(value, np.ndarray) or sparse.issparse(value)):
            raise TypeError(
                f"{self.name}: expected a numpy array, list or scipy sparse matrix, "
                f"got {type(value).__name__}"
            )
        return value

    @property
    def value(self) -> ArrayLike:
        """The array this component holds."""
        return self._value

    @value.setter
    def value(self, new_value: Any) -> None:
        self._value = self._check(new_value)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the array."""
        return self._value.shape

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """Let numpy read the component as its (dense) array."""
        value = self._value.toarray() if sparse.issparse(self._value) else self._value
        return np.asarray(value, dtype=dtype)

    def store_state(self) -> None:
        """Append a copy of ``value`` to the history."""
        self.state_history.append(_copy(self._value))

    def __repr__(self) -> str:
        """Name and shape."""
        return f"<{type(self).__name__} {self.name!r} shape={self.shape}>"


class SystemStateModule:
    """Mixin that keeps the list of components whose state the model records."""

    def __init__(self) -> None:
        """Start with no recorded components."""
        self._system_state: list[BaseComponent] = []

    def add_state_variable(self, *args: BaseComponent) -> None:
        """Record the state of these components every step (and now).

        Raises:
            ValueError: when no component is given or one is not a component.
        """
        if not args:
            raise ValueError("add_state_variable: give at least one component")
        bad = [a for a in args if not isinstance(a, BaseComponent)]
        if bad:
            raise ValueError(
                f"add_state_variable: expected components, got {type(bad[0]).__name__}"
            )
        for component in args:
            if not any(component is c for c in self._system_state):
                self._system_state.append(component)
                if not component.state_history:
                    component.store_state()

    def record_state(self) -> None:
        """Append the current state of every registered component to its history."""
        for component in self._system_state:
            component.store_state()


class AgentView(AgentSet):
    """An AgentSet that is also the T-RECS view of a population's arrays.

    ``model.users`` and ``model.items`` are such views: iterate them, ``do``, ``agg`` and
    ``select`` as with any AgentSet, and read ``actual_user_profiles`` or ``value`` as in
    T-RECS. The agents are added when the component is attached to a model.
    """

    def _init_agentset(self) -> None:
        AgentSet.__init__(self, [], random=random.Random(0))

    def __bool__(self) -> bool:
        """A component is truthy even before its agents exist."""
        return True

    def __eq__(self, other: object) -> bool:
        """Components compare by identity, not by their agents."""
        return self is other

    __hash__ = object.__hash__

    def claim(self, model: Any, name: str) -> None:
        """Attach this component to ``model``.

        Raises:
            ValueError: when it already belongs to another live model (its agents and its
                per-user state would be shared between the two).
        """
        ref = self.__dict__.get("_owner")
        owner = ref() if ref is not None else None
        if owner is not None and owner is not model:
            raise ValueError(
                f"{name}: this {type(self).__name__} already belongs to another model; give "
                "each model its own (e.g. build a new one from a copy of the same arrays)"
            )
        self._owner = weakref.ref(model)

    def as_agentset(self) -> AgentSet:
        """A plain AgentSet of the same agents (a snapshot to filter, sort or edit freely)."""
        return AgentSet(list(self._agents.keys()), random=self.random)

    def select(
        self,
        filter_func: Any = None,
        at_most: float = float("inf"),
        inplace: bool = False,
        agent_type: type | None = None,
    ) -> AgentSet:
        """Select agents, as ``AgentSet.select``; the result is a plain AgentSet.

        Raises:
            ValueError: for ``inplace=True``: the model's own view always holds every agent.
        """
        if inplace:
            raise ValueError(
                "inplace: the model's users/items view always holds all its agents; "
                "use select(...) without inplace and keep the result"
            )
        return self.as_agentset().select(filter_func, at_most, False, agent_type)

    def groupby(self, by: Any, result_type: str = "agentset") -> Any:
        """Group agents, as ``AgentSet.groupby`` (groups are plain AgentSets)."""
        return self.as_agentset().groupby(by, result_type)

    def __getstate__(self) -> dict:
        """Pickle the arrays and the agents."""
        state = self.__dict__.copy()
        state["_agents"] = list(self._agents.keys())
        state.pop("_owner", None)
        return state

    def __setstate__(self, state: dict) -> None:
        """Restore the arrays and the weak agent index."""
        agents = state.pop("_agents")
        self.__dict__.update(state)
        self._agents = weakref.WeakKeyDictionary(dict.fromkeys(agents))
