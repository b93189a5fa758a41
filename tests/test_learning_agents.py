"""Per-agent handles on the learning recommenders follow the fitted state."""

import numpy as np
import pytest

from mesa_recsys.agents import ItemAgent, UserAgent
from mesa_recsys.metrics import InteractionMeasurement
from mesa_recsys.models import ContentFiltering, ImplicitMF


@pytest.mark.parametrize(
    ("cls", "kwargs"), [(ContentFiltering, {"num_attributes": 5}), (ImplicitMF, {})]
)
def test_agents_read_the_refitted_rows(cls, kwargs):
    """After fits, each UserAgent's predicted profile and last choice are its own rows."""
    model = cls(
        num_users=20,
        num_items=30,
        seed=3,
        measurements=[InteractionMeasurement()],
        **kwargs,
    )
    model.startup_and_train(2)
    model.run(1, train_between_steps=True, disable_tqdm=True)
    users_hat = np.asarray(model.users_hat.value)
    users = sorted(model.agents_by_type[UserAgent], key=lambda a: a.index)
    assert len(users) == 20
    for agent in users:
        assert np.array_equal(agent.predicted_profile, users_hat[agent.index])
        assert agent.last_interaction == model.interactions[agent.index]
    assert not np.allclose(users_hat, 0)
    items = sorted(model.agents_by_type[ItemAgent], key=lambda a: a.index)
    true_items = np.asarray(model.items.value)
    assert all(np.array_equal(a.attributes, true_items[:, a.index]) for a in items)


def test_new_users_get_agents_with_their_rows():
    """add_users on ContentFiltering makes agents whose profiles are the new zero rows."""
    model = ContentFiltering(
        num_users=10,
        num_items=15,
        num_attributes=4,
        seed=2,
        measurements=[InteractionMeasurement()],
    )
    model.run(1, disable_tqdm=True)
    model.add_users(np.random.default_rng(0).normal(size=(3, 4)))
    users = sorted(model.agents_by_type[UserAgent], key=lambda a: a.index)
    assert [a.index for a in users] == list(range(13))
    assert all(np.array_equal(a.predicted_profile, np.zeros(4)) for a in users[10:])
