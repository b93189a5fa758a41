"""The engine at the sizes the project promises (correctness at scale, not timing)."""

import numpy as np
import pytest

from mesa_recsys.models import PopularityRecommender, RandomRecommender


@pytest.mark.slow
@pytest.mark.parametrize("cls", [PopularityRecommender, RandomRecommender])
def test_hundred_thousand_users(cls):
    rng = np.random.default_rng(0)
    m = cls(
        actual_user_representation=rng.normal(size=(100_000, 20)),
        actual_item_representation=rng.uniform(size=(20, 10_000)),
        num_items_per_iter=10,
        seed=1,
    )
    m.step_options = m.step_options_with(repeated_items=False)
    m.run_for(3)
    shown = m.items_shown
    assert shown.shape == (100_000, 10) and shown.min() >= 0 and shown.max() < 10_000
    # no item shown twice in a slate, and no consumed item shown again
    assert np.all(np.diff(np.sort(shown, axis=1), axis=1) > 0)
    consumed = m._excluded[:, :-1]
    assert not np.any((shown[:, :, None] == consumed[:, None, :]).any(axis=2))
    assert m.items.interaction_counts.sum() == 300_000
    assert len(m.users) == 100_000 and len(m.items) == 10_000
