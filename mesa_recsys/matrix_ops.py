"""Matrix helpers with T-RECS's names: scoring, normalisation, stacking and slerp.

T-RECS scripts import ``trecs.matrix_ops as mo`` and call ``mo.inner_product``,
``mo.normalize_matrix``, ``mo.to_dense`` and friends; the same calls work on
``mesa_recsys.matrix_ops``. The hot top-k kernels live in :mod:`mesa_recsys.topk`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from mesa_recsys._norms import normalize_rows, same_as_numpy

__all__ = [
    "add_empty_cols",
    "all_dense",
    "all_sparse",
    "all_to_dense",
    "any_dense",
    "argmax",
    "contains_row",
    "extract_value",
    "hstack",
    "inner_product",
    "normalize_matrix",
    "slerp",
    "sparse_dot",
    "to_dense",
    "top_k_indices",
    "transpose",
    "vstack",
]


def extract_value(*args: Any) -> Any:
    """Return the ``.value`` of component arguments, or the arguments themselves.

    Args:
        *args: arrays or components (objects with a ``value`` attribute).

    Returns:
        One value for one argument, else a list of values.
    """
    values = [getattr(a, "value", a) for a in args]
    return values[0] if len(values) == 1 else values


def to_dense(arr: Any) -> np.ndarray:
    """Return ``arr`` as a dense numpy array.

    Args:
        arr: ndarray, list, scipy sparse matrix/array, or a component holding one.

    Returns:
        A dense ndarray (the same object when it already is one).

    Raises:
        TypeError: for any other type.
    """
    arr = extract_value(arr)
    if isinstance(arr, np.ndarray):
        return np.asarray(arr)
    if sparse.issparse(arr):
        return arr.toarray()
    if isinstance(arr, list):
        return np.array([to_dense(a) if not np.isscalar(a) else a for a in arr])
    raise TypeError(f"Cannot convert {type(arr).__name__} to a dense array")


def all_to_dense(*args: Any) -> list[np.ndarray]:
    """Return every argument as a dense array (see :func:`to_dense`)."""
    return [to_dense(a) for a in args]


def _flat(args: tuple) -> list:
    out = []
    for a in args:
        if isinstance(a, list | tuple):
            out.extend(_flat(tuple(a)))
        else:
            value = extract_value(a)
            if not (isinstance(value, np.ndarray) or sparse.issparse(value)):
                raise TypeError(f"Expected arrays or sparse matrices, got {type(value).__name__}")
            out.append(value)
    return out


def all_dense(*args: Any) -> bool:
    """True when every argument (lists searched recursively) is a dense ndarray."""
    return all(isinstance(a, np.ndarray) for a in _flat(args))


def all_sparse(*args: Any) -> bool:
    """True when every argument (lists searched recursively) is a scipy sparse matrix."""
    return all(sparse.issparse(a) for a in _flat(args))


def any_dense(*args: Any) -> bool:
    """True when at least one argument (lists searched recursively) is a dense ndarray."""
    return any(isinstance(a, np.ndarray) for a in _flat(args))


def transpose(arr: Any) -> Any:
    """Transpose of an array or of a component's value."""
    return extract_value(arr).T


def hstack(arrays: list) -> Any:
    """Stack horizontally; the result is dense if any input is dense, else sparse."""
    arrays = [extract_value(a) for a in arrays]
    if any_dense(*arrays):
        return np.hstack(all_to_dense(*arrays))
    return sparse.hstack(arrays, format="csr")


def vstack(arrays: list) -> Any:
    """Stack vertically; the result is dense if any input is dense, else sparse."""
    arrays = [extract_value(a) for a in arrays]
    if any_dense(*arrays):
        return np.vstack(all_to_dense(*arrays))
    return sparse.vstack(arrays, format="csr")


def add_empty_cols(matrix: Any, num_cols: int) -> Any:
    """Append ``num_cols`` zero columns to a dense or sparse matrix."""
    matrix = extract_value(matrix)
    if sparse.issparse(matrix):
        return sparse.hstack([matrix, sparse.csr_matrix((matrix.shape[0], num_cols))], format="csr")
    return np.hstack([matrix, np.zeros((matrix.shape[0], num_cols), dtype=matrix.dtype)])


def argmax(matrix: Any, axis: int | None = None) -> np.ndarray:
    """Argmax along ``axis`` of a dense or sparse matrix, as a 1-D array (first max wins)."""
    matrix = extract_value(matrix)
    if sparse.issparse(matrix):
        return np.asarray(matrix.argmax(axis=axis)).ravel()
    return np.asarray(np.argmax(matrix, axis=axis)).ravel()


def sparse_dot(a: Any, b: Any) -> Any:
    """Matrix product of two sparse matrices.

    Raises:
        TypeError: when either argument is dense.
    """
    if not (sparse.issparse(a) and sparse.issparse(b)):
        raise TypeError("sparse_dot needs two scipy sparse matrices")
    return a @ b


def normalize_matrix(matrix: Any, axis: int = 1) -> Any:
    """Scale rows (``axis=1``) or columns (``axis=0``) to unit L2 norm; zero rows stay zero.

    Args:
        matrix: dense or sparse 2-D matrix; a 1-D vector is treated as one row.
        axis: 1 normalises rows, 0 normalises columns.

    Returns:
        A new matrix of the same kind (dense or sparse).
    """
    matrix = extract_value(matrix)
    if sparse.issparse(matrix):
        matrix = sparse.csr_matrix(matrix, dtype=float, copy=True)
        matrix.sum_duplicates()
        n_rows, n_cols = matrix.shape
        if axis == 1:
            where = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
            size = n_rows
        else:
            where = matrix.indices
            size = n_cols
        norms = np.sqrt(np.bincount(where, weights=matrix.data**2, minlength=size))
        with np.errstate(divide="ignore"):
            inv = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)
        matrix.data *= inv[where]
        return matrix
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if axis == 1 and matrix.ndim == 2 and same_as_numpy(matrix.shape[1]):
        return normalize_rows(matrix)  # the same numbers, compiled
    norms = np.linalg.norm(matrix, axis=axis, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def inner_product(
    user_profiles: Any,
    item_attributes: Any,
    normalize_users: bool = True,
    normalize_items: bool = False,
) -> Any:
    """Scores as inner products of (row-normalised) user profiles and item attributes.

    This is T-RECS's default score function: ``score[u, i] = <p_u / ||p_u||, a_i>``.

    Args:
        user_profiles: U×A matrix (dense or sparse).
        item_attributes: A×I matrix (dense or sparse).
        normalize_users: scale each user row to unit L2 norm first (zero rows stay zero).
        normalize_items: scale each item column to unit L2 norm first.

    Returns:
        U×I scores; sparse only when both inputs are sparse.

    Raises:
        ValueError: when the attribute dimensions differ.
    """
    user_profiles, item_attributes = extract_value(user_profiles, item_attributes)
    if isinstance(item_attributes, np.ndarray) and item_attributes.dtype != np.float64:
        item_attributes = item_attributes.astype(np.float64)
    if user_profiles.shape[1] != item_attributes.shape[0]:
        raise ValueError(
            f"user_profiles has {user_profiles.shape[1]} attributes but item_attributes has "
            f"{item_attributes.shape[0]}"
        )
    if normalize_users:
        user_profiles = normalize_matrix(user_profiles, axis=1)
    if normalize_items:
        item_attributes = normalize_matrix(item_attributes, axis=0)
    if sparse.issparse(user_profiles) and sparse.issparse(item_attributes):
        return user_profiles @ item_attributes
    if sparse.issparse(user_profiles):
        return np.asarray(user_profiles @ item_attributes)  # CSR times dense: dense
    if sparse.issparse(item_attributes):
        return np.asarray((item_attributes.T @ user_profiles.T).T)
    return user_profiles @ item_attributes


def contains_row(matrix: Any, row: Any) -> bool:
    """True when some row of ``matrix`` equals ``row``."""
    return bool(np.any(np.all(to_dense(matrix) == np.asarray(row), axis=1)))


def slerp(mat1: Any, mat2: Any, perc: float = 0.05) -> np.ndarray:
    """Rotate each row of ``mat1`` toward the same row of ``mat2`` by ``perc`` of their angle.

    Spherical linear interpolation on the directions; each result row keeps the norm of
    its ``mat1`` row. Rows that already point the same way are returned unchanged (T-RECS
    returns NaN there).

    Args:
        mat1: N×A starting vectors (1-D is one row).
        mat2: N×A target vectors (1-D is one row).
        perc: fraction of the angle to travel, in [0, 1].

    Returns:
        N×A rotated vectors.

    Raises:
        ValueError: when ``perc`` is outside [0, 1], the shapes differ, or two rows point in
            exactly opposite directions (the rotation plane is undefined).
    """
    if not 0 <= perc <= 1:
        raise ValueError(f"perc: expected a value in [0, 1], got {perc}")
    m1 = np.atleast_2d(to_dense(mat1)).astype(float)
    m2 = np.atleast_2d(to_dense(mat2)).astype(float)
    if m1.shape != m2.shape:
        raise ValueError(f"slerp needs matrices of equal shape, got {m1.shape} and {m2.shape}")
    norm1 = np.linalg.norm(m1, axis=1, keepdims=True)
    u1 = normalize_matrix(m1)
    u2 = normalize_matrix(m2)
    cos = np.clip(np.sum(u1 * u2, axis=1), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.any(np.isclose(omega, np.pi)):
        raise ValueError("slerp is undefined for vectors pointing in opposite directions")
    sin = np.sin(omega)
    moving = sin > 1e-12
    w1 = np.ones_like(omega)
    w2 = np.zeros_like(omega)
    w1[moving] = np.sin((1 - perc) * omega[moving]) / sin[moving]
    w2[moving] = np.sin(perc * omega[moving]) / sin[moving]
    return (w1[:, None] * u1 + w2[:, None] * u2) * norm1


def top_k_indices(matrix: Any, k: int, random_state: np.random.Generator) -> np.ndarray:
    """Positions of the ``k`` highest entries of each row, best first, ties broken at random.

    This is T-RECS's small-matrix helper; models use the chunked kernel in
    :mod:`mesa_recsys.topk`, which never holds all scores at once.

    Args:
        matrix: U×n scores.
        k: how many positions per row.
        random_state: generator for the tie-breaking draws.

    Returns:
        U×k int array of column positions.
    """
    scores = to_dense(matrix)
    tiebreak = random_state.random(scores.shape)
    order = np.lexsort((tiebreak, -scores), axis=-1)
    return order[..., :k]
