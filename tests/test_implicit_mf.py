"""ImplicitMF: the behaviours T-RECS's test_ImplicitMF.py checks, and more."""

import numpy as np
import pytest
from scipy import sparse

from mesa_recsys.als import implicit_als
from mesa_recsys.components import Creators, Users
from mesa_recsys.matrix_ops import normalize_matrix
from mesa_recsys.metrics import InteractionMeasurement
from mesa_recsys.models import ImplicitMF, RandomRecommender


def make(**kwargs):
    """An ImplicitMF with a metric, so that ``run`` does not warn "No measurements"."""
    kwargs.setdefault("measurements", [InteractionMeasurement()])
    return ImplicitMF(**kwargs)


def run(model, timesteps=1, **kwargs):
    """``model.run`` without the progress bar."""
    model.run(timesteps, disable_tqdm=True, **kwargs)


def startup(model, timesteps):
    """``model.startup_and_train`` (its run shows no progress bar in the test output)."""
    model.startup_and_train(timesteps)


def reps(model):
    """Copies of users_hat and items_hat."""
    return model.predicted_user_profiles.copy(), model.predicted_item_attributes.copy()


# --- T-RECS's test_ImplicitMF.py -------------------------------------------------------------


def test_default():
    """Defaults are U=100, I=1250, k=10; the seed fixes the representations."""
    model = make(seed=123)
    assert model.num_latent_factors == 10
    assert model.users_hat.shape == (100, 10) and model.items_hat.shape == (10, 1250)
    assert model.num_users == 100 and model.num_items == 1250
    assert model.actual_user_profiles.shape == (100, 10)
    assert model.actual_item_attributes.shape == (10, 1250)
    assert model.predicted_user_item_scores.shape == (100, 1250)
    again = make(seed=123)
    assert np.array_equal(again.predicted_item_attributes, model.predicted_item_attributes)
    assert np.array_equal(again.predicted_user_profiles, model.predicted_user_profiles)
    other = make(seed=1234)
    assert not np.allclose(other.predicted_item_attributes, model.predicted_item_attributes)


def test_default_scores_are_normalised_inner_products():
    """Predicted scores = row-normalised users_hat @ items_hat (T-RECS's inner_product)."""
    model = make(num_users=7, num_items=9, num_latent_factors=3, seed=2, num_items_per_iter=4)
    expected = normalize_matrix(model.predicted_user_profiles) @ model.predicted_item_attributes
    np.testing.assert_allclose(model.predicted_user_item_scores, expected, rtol=1e-12)


@pytest.mark.parametrize(("num_users", "num_items", "k"), [(17, 33, 4), (100, 1250, 10), (5, 8, 1)])
def test_arguments(num_users, num_items, k):
    """Explicit U, I and k are honoured."""
    model = make(
        num_users=num_users, num_items=num_items, num_latent_factors=k, num_items_per_iter=5, seed=1
    )
    assert model.num_latent_factors == k
    assert model.users_hat.shape == (num_users, k) and model.items_hat.shape == (k, num_items)
    assert model.num_users == num_users and model.num_items == num_items


def test_arguments_from_representations():
    """U, I and k are inferred from the given representations, which are stored as given."""
    gen = np.random.default_rng(0)
    users, items = gen.normal(size=(12, 6)), gen.normal(size=(6, 40))
    model = make(user_representation=users, item_representation=items)
    assert model.num_latent_factors == 6
    assert (model.num_users, model.num_items) == (12, 40)
    assert np.array_equal(model.predicted_user_profiles, users)
    assert np.array_equal(model.predicted_item_attributes, items)
    # true items default to a copy of the item representation
    assert np.array_equal(model.actual_item_attributes, items)
    assert model.actual_item_attributes is not model.predicted_item_attributes


@pytest.mark.parametrize("which", ["user_representation", "item_representation", "both"])
def test_representation_latent_factor_mismatch(which):
    """Representations with 101 attributes and num_latent_factors=15 raise ValueError."""
    gen = np.random.default_rng(1)
    kwargs = {
        "user_representation": gen.normal(size=(20, 101)),
        "item_representation": gen.normal(size=(101, 30)),
    }
    if which != "both":
        kwargs = {which: kwargs[which]}
    with pytest.raises(ValueError, match="101") as info:
        make(num_latent_factors=15, **kwargs)
    message = str(info.value)
    assert "15" in message
    assert message.startswith("Number of latent factors is not the same across inputs")
    assert "num_latent_factors" in message and "num_attributes" not in message


def test_model_params_features_mismatch():
    """model_params["features"] disagreeing with k raises "Number of latent factors" errors."""
    with pytest.raises(ValueError, match="Number of latent factors"):
        make(model_params={"features": 7}, num_latent_factors=5)
    with pytest.raises(ValueError, match="Number of latent factors"):
        make(model_params={"features": 7})  # default k is 10
    with pytest.raises(ValueError, match="Number of latent factors"):
        make(model_params={"features": 7}, user_representation=np.ones((4, 3)))
    model = make(model_params={"features": 7}, user_representation=np.ones((4, 7)))
    assert model.num_latent_factors == 7
    assert make(model_params={"features": 4}, num_latent_factors=4).num_latent_factors == 4


def test_model_params_unknown_key():
    """An unknown model_params key raises ValueError naming it."""
    with pytest.raises(ValueError, match=r"model_params.*bogus"):
        make(model_params={"iterations": 3, "bogus": 1})


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"method": "qr"}, "method"),
        ({"iterations": 2.5}, "iterations"),
        ({"iterations": -1}, "iterations"),
        ({"reg": -0.1}, "reg"),
        ({"weight": float("nan")}, "weight"),
    ],
)
def test_model_params_bad_values_rejected_at_construction(params, key):
    """A fitting option implicit_als would reject fails when the model is built, named."""
    with pytest.raises(ValueError, match=rf"model_params\['{key}'\]"):
        make(num_users=10, num_items=20, seed=0, model_params=params)


def test_startup_run():
    """startup_and_train logs U·steps and refits; run(1) logs U anew without refitting."""
    model = make(seed=5)
    users_before, items_before = reps(model)
    startup(model, 5)
    assert len(model.all_interactions) == 100 * 5
    users_fit, items_fit = reps(model)
    assert not np.allclose(users_fit, users_before)
    assert not np.allclose(items_fit, items_before)

    run(model, 1)
    users_run, items_run = reps(model)
    assert np.array_equal(users_run, users_fit)  # no retraining between steps
    assert np.array_equal(items_run, items_fit)
    assert len(model.all_interactions) == 100  # the log restarts with every run
    assert np.array_equal(model.all_interactions["user"], np.arange(100))
    assert np.array_equal(model.all_interactions["item"], model.interactions)

    scores = model.predicted_user_item_scores.copy()
    model.train()
    users_train, items_train = reps(model)
    assert not np.allclose(model.predicted_user_item_scores, scores)
    assert not np.allclose(users_train, users_run)
    assert not np.allclose(items_train, items_run)


def test_content_creators():
    """Creators make nothing during start-up; new items get the mean fitted item factor."""
    creators = Creators(size=(5, 10), creation_probability=1.0, seed=3)
    model = make(num_users=60, num_items=200, num_latent_factors=10, creators=creators, seed=4)
    startup(model, 5)
    assert model.num_items == 200 and model.items_hat.shape == (10, 200)
    fitted = np.unique(model.all_interactions["item"])
    assert 0 < fitted.size < 200  # some items were never seen and kept their start values
    mean = model.predicted_item_attributes[:, fitted].mean(axis=1)

    run(model, 1)
    assert model.num_items == 205 and model.items_hat.shape == (10, 205)
    assert model.actual_item_attributes.shape == (10, 205)
    assert model.predicted_user_item_scores.shape == (60, 205)
    np.testing.assert_allclose(
        model.predicted_item_attributes[:, 200:], np.tile(mean[:, None], (1, 5)), rtol=1e-12
    )


def test_new_items_before_any_fit_are_zero():
    """Before the first fit there is no mean factor: new items get zero vectors."""
    creators = Creators(size=(3, 4), creation_probability=1.0, seed=3)
    model = make(num_users=10, num_items=20, num_latent_factors=4, creators=creators, seed=4)
    run(model, 1)
    assert model.items_hat.shape == (4, 23)
    assert np.array_equal(model.predicted_item_attributes[:, 20:], np.zeros((4, 3)))


@pytest.mark.parametrize("method", ["cg", "lu"])
def test_sparse_matrix(method):
    """Sparse identity true users/items: training changes scores; each user is shown its item."""
    eye = sparse.csr_matrix(np.eye(5))
    model = make(
        actual_user_representation=eye,
        actual_item_representation=eye,
        num_items_per_iter=5,
        seed=6,
        model_params={"method": method},
    )
    scores = model.predicted_user_item_scores.copy()
    startup(model, 1)
    # every user saw all 5 items and picked the only one it likes
    assert np.array_equal(model.interactions, np.arange(5))
    assert not np.allclose(model.predicted_user_item_scores, scores)
    model.set_num_items_per_iter(1)
    assert np.array_equal(model.recommend(), np.arange(5)[:, None])
    run(model, 1)
    assert np.array_equal(model.items_shown, np.arange(5)[:, None])
    assert np.array_equal(model.interactions, np.arange(5))


def test_sparse_representations():
    """Sparse users_hat/items_hat run and are replaced by dense fitted factors."""
    gen = np.random.default_rng(7)
    users = sparse.csr_matrix(gen.normal(size=(8, 3)))
    items = sparse.csr_matrix(gen.normal(size=(3, 12)))
    model = make(user_representation=users, item_representation=items, seed=7)
    startup(model, 2)
    run(model, 1)
    assert isinstance(model.predicted_user_profiles, np.ndarray)
    assert model.predicted_user_profiles.shape == (8, 3)
    assert np.all(np.isfinite(model.predicted_user_item_scores))


def test_new_users():
    """add_users grows every per-user structure; a retraining run fits the new users too."""
    model = make(seed=8)
    run(model, 1)
    assert len(model.all_interactions) == 100
    new_profiles = np.random.default_rng(9).normal(size=(100, 10))
    model.add_users(new_profiles)
    assert model.num_users == model.users.num_users == model.users_hat.shape[0] == 200
    assert model.actual_user_item_scores.shape == (200, 1250)
    assert model.predicted_user_item_scores.shape == (200, 1250)
    assert np.array_equal(model.actual_user_profiles[100:], new_profiles)
    assert len(model.all_interactions) == 100  # adding users does not touch the log
    new_hat = model.predicted_user_profiles[100:].copy()
    # documented: new users get standard-normal factors
    assert new_hat.shape == (100, 10)
    assert 0.8 < new_hat.std() < 1.2 and abs(new_hat.mean()) < 0.15

    run(model, 1, repeated_items=True, train_between_steps=True)
    assert len(model.all_interactions) == 200  # reset at the start of the run, then 200 users
    assert set(model.all_interactions["user"]) == set(range(200))
    assert not np.any(np.isclose(model.predicted_user_profiles[100:], new_hat).all(axis=1))


# --- the interaction log ----------------------------------------------------------------------


def test_reset_interactions_false_keeps_log():
    """reset_interactions=False accumulates the log across runs."""
    model = make(num_users=30, num_items=40, seed=10, reset_interactions=False)
    startup(model, 2)
    assert len(model.all_interactions) == 60
    run(model, 1)
    assert len(model.all_interactions) == 90
    run(model, 3)
    assert len(model.all_interactions) == 180
    counts = model.interaction_counts()
    assert counts.shape == (30, 40) and counts.sum() == 180
    assert np.array_equal(np.asarray(counts.sum(axis=1)).ravel(), np.full(30, 6))
    run(model, 1, reset_interactions=True)  # a per-call override
    assert len(model.all_interactions) == 30


def test_run_reset_interactions_override():
    """run(..., reset_interactions=False) keeps the log even when the model resets by default."""
    model = make(num_users=30, num_items=40, seed=11)
    assert model.reset_interactions
    startup(model, 2)
    run(model, 1, reset_interactions=False)
    assert len(model.all_interactions) == 90
    run(model, 2, reset_interactions=False)
    assert len(model.all_interactions) == 150
    run(model, 1)
    assert len(model.all_interactions) == 30


def test_step_does_not_reset_and_clear_interactions_empties():
    """step() only appends to the log; clear_interactions() empties it and train() then keeps reps."""
    model = make(num_users=30, num_items=40, seed=12)
    startup(model, 1)
    model.step()
    model.step()
    assert len(model.all_interactions) == 90
    model.clear_interactions()
    assert len(model.all_interactions) == 0
    assert list(model.all_interactions.columns) == ["user", "item"]
    assert model.interaction_counts().nnz == 0
    users, items = reps(model)
    model.train()
    assert np.array_equal(model.predicted_user_profiles, users)
    assert np.array_equal(model.predicted_item_attributes, items)


def test_users_who_do_not_interact_are_not_logged():
    """Users that skip a step (interaction probability 0.5) leave no row in the log."""
    gen = np.random.default_rng(13)
    users = Users(actual_user_profiles=gen.normal(size=(200, 4)), interaction_probability=0.5)
    model = make(
        actual_user_representation=users,
        actual_item_representation=gen.normal(size=(4, 30)),
        num_latent_factors=4,
        seed=13,
    )
    run(model, 1)
    active = np.flatnonzero(model.interactions >= 0)
    assert 50 < active.size < 150
    assert np.array_equal(model.all_interactions["user"], active)
    assert np.array_equal(model.all_interactions["item"], model.interactions[active])


# --- fitting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["cg", "lu"])
def test_train_places_fitted_factors_at_the_right_ids(method):
    """train() = implicit_als on the seen users×items; unseen ones keep their vectors."""
    params = {"rng_spec": 99, "method": method, "iterations": 4, "reg": 0.2, "weight": 10.0}
    model = make(num_users=30, num_items=80, num_latent_factors=3, seed=14, model_params=params)
    run(model, 3)  # no training between steps
    _, items_before = reps(model)
    counts = model.interaction_counts()
    assert counts.sum() == 90
    seen_users = np.flatnonzero(np.asarray(counts.sum(axis=1)).ravel())
    seen_items = np.flatnonzero(np.asarray(counts.sum(axis=0)).ravel())
    assert seen_items.size < 80
    fit = implicit_als(
        counts[seen_users][:, seen_items],
        3,
        iterations=4,
        reg=0.2,
        weight=10.0,
        method=method,
        rng=np.random.default_rng(99),
    )
    model.train()
    users, items = reps(model)
    np.testing.assert_allclose(users[seen_users], fit.user_factors, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(items[:, seen_items], fit.item_factors.T, rtol=1e-12, atol=1e-15)
    unseen = np.setdiff1d(np.arange(80), seen_items)
    assert np.array_equal(items[:, unseen], items_before[:, unseen])
    np.testing.assert_allclose(
        model.predicted_user_item_scores, normalize_matrix(users) @ items, rtol=1e-12
    )


def test_seeded_determinism():
    """The same seed gives identical factors and recommendations; another seed does not."""

    def simulate(seed):
        model = make(num_users=50, num_items=120, num_latent_factors=5, seed=seed)
        startup(model, 3)
        run(model, 2)
        return model.predicted_user_profiles, model.predicted_item_attributes, model.recommend()

    a, b, c = simulate(21), simulate(21), simulate(22)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)
    assert not np.allclose(a[0], c[0])
    assert not np.array_equal(a[2], c[2])


@pytest.mark.parametrize("method", ["cg", "lu"])
def test_planted_low_rank_recall(method):
    """On rank-5 true preferences MF's top-10 recovers the true top-10 far better than random."""
    rng = np.random.default_rng(0)
    num_users, num_items, k = 300, 100, 5
    true_users = rng.normal(size=(num_users, k))
    true_items = rng.normal(size=(k, num_items))
    best = np.argsort(-(true_users @ true_items), axis=1)[:, :10]

    def recall(recommended):
        hits = [np.intersect1d(r, b).size for r, b in zip(recommended, best, strict=True)]
        return np.mean(hits) / 10

    model = make(
        actual_user_representation=true_users,
        actual_item_representation=true_items,
        num_latent_factors=k,
        seed=1,
        model_params={"method": method},
    )
    startup(model, 20)
    random_model = RandomRecommender(
        actual_user_representation=true_users,
        actual_item_representation=true_items,
        seed=1,
        measurements=[InteractionMeasurement()],
    )
    mf_recall = recall(model.recommend())
    random_recall = recall(random_model.recommend())
    assert 0.05 < random_recall < 0.15
    assert mf_recall > 0.4 and mf_recall > 3 * random_recall
