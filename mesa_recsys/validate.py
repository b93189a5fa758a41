"""Argument checks that fail at construction with a message naming the argument.

``validate_user_item_inputs`` keeps T-RECS's signature (custom models call it as the
"Create your own models" guide shows); every message says which argument is wrong, what
was expected and what came in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

__all__ = [
    "check_array",
    "check_callable",
    "check_fraction",
    "check_num_items_per_iter",
    "check_positive_int",
    "validate_user_item_inputs",
]


def _value(x: Any) -> Any:
    return getattr(x, "value", x)


def check_array(name: str, value: Any, ndim: int | None = None) -> Any:
    """Check that ``value`` is an array (list, ndarray or scipy sparse) of ``ndim`` dims.

    Args:
        name: the argument's name, for the message.
        value: the argument.
        ndim: required number of dimensions, or None.

    Returns:
        The value as an ndarray (lists converted) or the sparse matrix unchanged.

    Raises:
        TypeError: when it is not array-like.
        ValueError: when its number of dimensions is wrong.
    """
    value = _value(value)
    if isinstance(value, list | tuple):
        try:
            value = np.array(value)
        except ValueError as err:
            raise ValueError(f"{name}: expected a rectangular array, got a ragged list") from err
    if not (isinstance(value, np.ndarray) or sparse.issparse(value)):
        raise TypeError(
            f"{name}: expected a numpy array, list or scipy sparse matrix, "
            f"got {type(value).__name__}"
        )
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {value.shape}")
    return value


def check_positive_int(name: str, value: Any, minimum: int = 1, allow_none: bool = True) -> Any:
    """Check an integer count.

    Raises:
        TypeError: when it is not an int.
        ValueError: when it is below ``minimum``.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return int(value)


def check_fraction(name: str, value: Any) -> float:
    """Check a number in [0, 1].

    Raises:
        TypeError: when it is not a number.
        ValueError: when it is outside [0, 1].
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name}: expected a number in [0, 1], got {type(value).__name__}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name}: expected a number in [0, 1], got {value}")
    return float(value)


def check_callable(name: str, value: Any) -> Any:
    """Check that ``value`` is callable (or None).

    Raises:
        TypeError: when it is neither.
    """
    if value is not None and not callable(value):
        raise TypeError(f"{name}: expected a callable, got {type(value).__name__}")
    return value


def check_num_items_per_iter(value: Any) -> int | str:
    """Check ``num_items_per_iter``: an int >= 1 or the string ``"all"``.

    Raises:
        TypeError: for another type.
        ValueError: for an int < 1 or another string.
    """
    if isinstance(value, str):
        if value != "all":
            raise ValueError(f'num_items_per_iter: expected an int >= 1 or "all", got {value!r}')
        return value
    return check_positive_int("num_items_per_iter", value, allow_none=False)


def _shape(value: Any) -> tuple | None:
    value = _value(value)
    return None if value is None else tuple(value.shape)


def validate_user_item_inputs(
    num_users: int | None = None,
    num_items: int | None = None,
    users_hat: Any = None,
    items_hat: Any = None,
    users: Any = None,
    items: Any = None,
    default_num_users: int | None = None,
    default_num_items: int | None = None,
    default_num_attributes: int | None = None,
    num_attributes: int | None = None,
    user_item_scores: Any = None,
    attributes_must_match: bool = True,
) -> tuple:
    """Infer and cross-check the number of users, items and attributes.

    Every source of a count must agree: ``num_users`` with the rows of ``users_hat``,
    ``users`` (true profiles) and ``user_item_scores``; ``num_items`` with the columns of
    ``items_hat``, ``items`` and ``user_item_scores``; and, when ``attributes_must_match``,
    ``num_attributes`` with the columns of ``users_hat`` and the rows of ``items_hat``.
    Counts no source gives take their defaults.

    Args:
        num_users: U, or None to infer.
        num_items: I, or None to infer.
        users_hat: U×A predicted user profiles (``user_representation``).
        items_hat: A×I predicted item attributes (``item_representation``).
        users: U×A* true profiles, or a ``Users`` component.
        items: A*×I true item attributes.
        default_num_users: U when nothing gives it.
        default_num_items: I when nothing gives it.
        default_num_attributes: A when nothing gives it.
        num_attributes: A, or None to infer.
        user_item_scores: U×I true scores.
        attributes_must_match: whether to check and return the attribute count.

    Returns:
        ``(num_users, num_items, num_attributes)``, or ``(num_users, num_items)`` when
        ``attributes_must_match`` is False.

    Raises:
        TypeError: on a wrong type.
        ValueError: when two sources disagree, naming both and their values.
    """
    if hasattr(users, "actual_user_profiles"):  # a Users component
        if user_item_scores is None and users.actual_user_scores is not None:
            user_item_scores = users.actual_user_scores
        users = users.actual_user_profiles
    arrays = {
        "user_representation": users_hat,
        "item_representation": items_hat,
        "actual_user_representation": users,
        "actual_item_representation": items,
        "user_item_scores": user_item_scores,
    }
    for name, arr in arrays.items():
        if arr is not None and name != "user_item_scores":
            check_array(name, arr, ndim=2)
    check_positive_int("num_users", num_users)
    check_positive_int("num_items", num_items)
    check_positive_int("num_attributes", num_attributes)

    user_sources = {
        "num_users": num_users,
        "user_representation rows": _shape(users_hat)[0] if users_hat is not None else None,
        "actual_user_representation rows": _shape(users)[0] if users is not None else None,
        "user_item_scores rows": _shape(user_item_scores)[0]
        if user_item_scores is not None
        else None,
    }
    item_sources = {
        "num_items": num_items,
        "item_representation columns": _shape(items_hat)[1] if items_hat is not None else None,
        "actual_item_representation columns": _shape(items)[1] if items is not None else None,
        "user_item_scores columns": _shape(user_item_scores)[1]
        if user_item_scores is not None
        else None,
    }
    resolved_users = _resolve("users", user_sources, default_num_users)
    resolved_items = _resolve("items", item_sources, default_num_items)
    if not attributes_must_match:
        return resolved_users, resolved_items
    attr_sources = {
        "num_attributes": num_attributes,
        "user_representation columns": _shape(users_hat)[1] if users_hat is not None else None,
        "item_representation rows": _shape(items_hat)[0] if items_hat is not None else None,
    }
    resolved_attrs = _resolve("attributes", attr_sources, default_num_attributes)
    return resolved_users, resolved_items, resolved_attrs


def _resolve(what: str, sources: dict[str, int | None], default: int | None) -> int | None:
    given = {name: int(v) for name, v in sources.items() if v is not None}
    values = set(given.values())
    if len(values) > 1:
        detail = ", ".join(f"{name} = {v}" for name, v in given.items())
        raise ValueError(f"Inconsistent number of {what}: {detail}")
    return values.pop() if values else default
