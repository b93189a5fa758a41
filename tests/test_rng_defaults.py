"""Models built Mesa's way (``rng=``, as batch_run does) draw their defaults reproducibly."""

import numpy as np
import pytest
from scipy import sparse

from mesa_recsys.models import (
    BassModel,
    ContentFiltering,
    IdealRecommender,
    ImplicitMF,
    SocialFiltering,
)


def _values(model):
    out = []
    for component in (model.users_hat, model.items_hat, model.users.actual_user_profiles):
        value = component.value
        out.append(value.toarray() if sparse.issparse(value) else np.asarray(value))
    return out


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (ContentFiltering, {"num_users": 10, "num_items": 30, "num_attributes": 6}),
        (ImplicitMF, {"num_users": 10, "num_items": 30}),
        (SocialFiltering, {"num_users": 10, "num_items": 30}),
        (BassModel, {"num_users": 10}),
        (IdealRecommender, {"num_users": 10, "num_items": 30}),
    ],
)
def test_same_rng_same_defaults(cls, kwargs):
    """Two models with the same rng have equal default representations; another rng differs."""
    first, second = cls(rng=4, **kwargs), cls(rng=4, **kwargs)
    for a, b in zip(_values(first), _values(second), strict=True):
        assert np.array_equal(a, b)
    other = cls(rng=5, **kwargs)
    assert any(
        a.shape != b.shape or not np.array_equal(a, b)
        for a, b in zip(_values(first), _values(other), strict=True)
    )
    generator_built = cls(rng=np.random.default_rng(9), **kwargs)
    again = cls(rng=np.random.default_rng(9), **kwargs)
    for a, b in zip(_values(generator_built), _values(again), strict=True):
        assert np.array_equal(a, b)
