"""The type matrix of a Schelling model without its U² cost.

Element ``(u, v)`` of the type matrix is 1 when residents u and v belong to the same group.
It is the product ``S Sᵀ`` of the U×G one-hot group matrix ``S``, so :class:`SameGroup`
keeps only the group of each resident and answers indexing, products and (for small
populations) a dense copy from that.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as splinalg

__all__ = ["SameGroup"]


class SameGroup:
    """U×U "same group" matrix, stored as the length-U group vector.

    It indexes like a numpy array (``T[u, v]``, ``T[u]``, ``T[rows, cols]``, slices) and
    multiplies like a matrix (``T @ x``), without ever holding U² numbers; ``toarray()``
    builds the dense matrix when that is affordable.

    Args:
        group: length-U integer group of each resident (0..G-1).
        num_groups: G (default: the largest group + 1).
    """

    def __init__(self, group: np.ndarray, num_groups: int | None = None) -> None:
        """Wrap a group vector (kept read-only)."""
        group = np.asarray(group)
        if group.ndim != 1:
            raise ValueError(f"group: expected a 1-D array, got shape {group.shape}")
        self.group = group.view()
        self.group.flags.writeable = False
        self.num_groups = int(num_groups if num_groups is not None else group.max(initial=-1) + 1)
        self.shape = (group.size, group.size)
        self.dtype = np.dtype(np.int8)

    def _views(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.group.size
        return (
            np.broadcast_to(self.group[:, None], (n, n)),
            np.broadcast_to(self.group[None, :], (n, n)),
        )

    def __getitem__(self, key: Any) -> Any:
        """Entries selected as numpy would select them from the dense matrix."""
        rows, cols = self._views()  # zero-stride views: no U² memory
        return (rows[key] == cols[key]).astype(self.dtype)

    @property
    def factor(self) -> sparse.csr_array:
        """The U×G one-hot matrix ``S`` with ``T = S Sᵀ``."""
        n = self.group.size
        data = np.ones(n, dtype=np.int8)
        return sparse.csr_array((data, (np.arange(n), self.group)), shape=(n, self.num_groups))

    @property
    def nnz(self) -> int:
        """Number of ones, Σ_g n_g² (the diagonal included)."""
        counts = np.bincount(self.group, minlength=self.num_groups).astype(np.int64)
        return int((counts**2).sum())

    def __matmul__(self, other: Any) -> np.ndarray:
        """``T @ x`` for a length-U vector or a U×k matrix, in O(U·k)."""
        x = np.asarray(other)
        if x.shape[0] != self.shape[1]:
            raise ValueError(f"matmul: expected {self.shape[1]} rows, got shape {x.shape}")
        s = self.factor
        return s @ (s.T @ x)

    def dot(self, other: Any) -> np.ndarray:
        """Same as ``self @ other``."""
        return self @ other

    def aslinearoperator(self) -> splinalg.LinearOperator:
        """The matrix as a ``scipy.sparse.linalg.LinearOperator`` (symmetric)."""
        return splinalg.LinearOperator(
            self.shape, matvec=self.__matmul__, rmatvec=self.__matmul__, dtype=np.float64
        )

    def toarray(self) -> np.ndarray:
        """The dense U×U int8 matrix (U² bytes: for small populations only)."""
        return (self.group[:, None] == self.group[None, :]).astype(self.dtype)

    def __repr__(self) -> str:
        """Size and groups."""
        return f"<SameGroup shape={self.shape} num_groups={self.num_groups}>"
