"""Any user-level metric split by a group attribute (e.g. majority / minority).

``by_group(MSEMeasurement, groups)`` returns one metric per group label, each restricted to
that group's users and named ``"<name>[<label>]"``, so the DataCollector gets one column
per group::

    groups = np.array(["majority"] * 150 + ["minority"] * 50)
    model = ContentFiltering(..., measurements=[*by_group(MSEMeasurement, groups)])
    model.datacollector.get_model_vars_dataframe()[["mse[majority]", "mse[minority]"]]

The split metrics are picklable (they hold labels, not lambdas), so they work with
``mesa.batch_run`` inside a model's ``__init__``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mesa_recsys.metrics.measurement import Measurement

__all__ = ["GroupSelector", "by_group"]


class GroupSelector:
    """Picklable ``fn(model) -> boolean mask`` of the users whose group label is ``label``.

    Args:
        groups: one label per user (array-like; users added later have no label and
            belong to no group), the name of a per-user array on ``model.users`` or on the
            model (read at each measurement, so it can grow with ``add_users``), or a
            callable ``fn(model) -> labels``.
        label: the group to select.
    """

    def __init__(self, groups: Any, label: Any) -> None:
        """Keep the grouping and the label."""
        self.groups = groups if isinstance(groups, str) or callable(groups) else np.asarray(groups)
        self.label = label

    def labels(self, model: Any) -> np.ndarray:
        """The label of every user of ``model`` that has one.

        Raises:
            AttributeError: when a named attribute is on neither ``model.users`` nor ``model``.
            ValueError: when there are more labels than users.
        """
        if isinstance(self.groups, str):
            for owner in (model.users, model):
                if hasattr(owner, self.groups):
                    labels = np.asarray(getattr(owner, self.groups))
                    break
            else:
                raise AttributeError(
                    f"groups: neither model.users nor the model has an attribute {self.groups!r}"
                )
        elif callable(self.groups):
            labels = np.asarray(self.groups(model))
        else:
            labels = self.groups
        if labels.ndim != 1 or labels.size > model.num_users:
            raise ValueError(
                f"groups: expected one label per user (at most {model.num_users}), got shape "
                f"{labels.shape}"
            )
        return labels

    def __call__(self, model: Any) -> np.ndarray:
        """Boolean mask of this group's users."""
        return self.labels(model) == self.label

    def __repr__(self) -> str:
        """Label."""
        return f"GroupSelector(label={self.label!r})"


def by_group(
    metric: type[Measurement] | Callable[..., Measurement],
    groups: Any,
    labels: list[Any] | None = None,
    **kwargs: Any,
) -> list[Measurement]:
    """One copy of a user-level metric per group, each measured on that group's users only.

    Args:
        metric: a metric class (or factory) that takes ``users=`` and ``name=`` keywords:
            ``MSEMeasurement``, ``RMSEMeasurement``, ``InteractionMeasurement``,
            ``InteractionSpread``, ``SimilarUserJaccard``, ``RecallMeasurement``,
            ``NDCGAtK``, ``RecallAtK``, ``AverageFeatureScoreRange``, ``CatalogCoverage``,
            ``ItemPopularityGini``, ``MeanPairwiseDistance``.
        groups: labels per user, or an attribute name or callable (see
            :class:`GroupSelector`).
        labels: the groups to make metrics for, in column order (default: the distinct
            labels of an array ``groups``, sorted; required for a name or callable).
        **kwargs: passed to every metric (``k=5``, ``cumulative=True``, ...).

    Returns:
        one metric per label, named ``"<default name>[<label>]"``.

    Raises:
        ValueError: when ``labels`` is needed and missing, or empty.
        TypeError: when ``metric`` does not accept ``users=``.
    """
    if labels is None:
        if isinstance(groups, str) or callable(groups):
            raise ValueError(
                "labels: give the group labels when groups is an attribute name or a callable"
            )
        labels = sorted(np.unique(np.asarray(groups)).tolist())
    if len(labels) == 0:
        raise ValueError("labels: expected at least one group label")
    base_name = kwargs.pop("name", None)
    metrics = []
    for label in labels:
        try:
            made = metric(users=GroupSelector(groups, label), **kwargs)
        except TypeError as err:
            raise TypeError(
                f"metric: {getattr(metric, '__name__', metric)!r} does not take users= "
                f"(a user-level metric is needed): {err}"
            ) from err
        made.name = f"{base_name or made.name}[{label}]"
        metrics.append(made)
    return metrics
