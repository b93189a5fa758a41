"""What metrics share on a model gives the values each metric computes on its own.

Metrics registered on one model share the cumulative interaction sets of those started at
the same measurement, this step's lists (read once), the row-normalised user factors of a
snapshot whose users did not change, and the users' Gram matrices of the MSE. Each test
measures the same metrics on a view of the model that has no ``time`` (so nothing is shared
or kept) with the caches cleared, on runs where users drift, are added and interact only
sometimes, creators add items, estimates are retrained, and profiles are changed in place.
"""

import numpy as np
import pytest
from test_metrics_fast import _clear_caches as clear_caches

from mesa_recsys import matrix_ops as mo
from mesa_recsys.components import Creators, Users
from mesa_recsys.metrics import (
    AverageFeatureScoreRange,
    CatalogCoverage,
    InteractionSimilarity,
    MSEMeasurement,
    NDCGAtK,
    RecSimilarity,
    RMSEMeasurement,
    SimilarUserJaccard,
    _common,
    similarity,
)
from mesa_recsys.metrics import _kernels as kernels
from mesa_recsys.metrics._common import inner_product_factors
from mesa_recsys.models import ContentFiltering, PopularityRecommender


class _View:
    """The model's state without ``time`` and without metrics: nothing is shared or kept."""

    def __init__(self, model):
        object.__setattr__(self, "_model", model)

    def __getattr__(self, name):
        if name in ("time", "metrics") or name.startswith("_mesa_recsys"):
            raise AttributeError(name)
        return getattr(self._model, name)

    def __setattr__(self, name, value):
        raise AttributeError(name)


def _same(got, want):
    if got is None or want is None:
        return got is None and want is None
    return got == want or (np.isnan(got) and np.isnan(want))


def _model(model_class, metrics, rng, num_users=25, num_items=30, probability=0.7):
    items = rng.uniform(size=(3, num_items))
    extra = {"item_representation": items.copy()} if model_class is ContentFiltering else {}
    return model_class(
        actual_user_representation=Users(
            actual_user_profiles=rng.normal(size=(num_users, 3)),
            interaction_probability=probability,
            drift=0.1,
        ),
        actual_item_representation=items,
        creators=Creators(rng.uniform(size=(2, 3)), creation_probability=0.5),
        num_items_per_iter=4,
        seed=5,
        measurements=metrics,
        **extra,
    )


# --- cumulative interaction sets ---------------------------------------------------------------


@pytest.mark.parametrize("limit", [0, 4096])  # sorted rows; heads and bitsets
@pytest.mark.parametrize("model_class", [PopularityRecommender, ContentFiltering])
def test_metrics_started_together_share_one_set_history_and_keep_their_values(
    model_class, limit, monkeypatch
):
    monkeypatch.setattr(similarity, "BITSET_MAX_ITEMS", limit)
    rng = np.random.default_rng(1)
    pairs = rng.integers(0, 25, size=(80, 2))
    metrics = [
        InteractionSimilarity(pairs),
        SimilarUserJaccard(seed=3),
        InteractionSimilarity(pairs[::-1], name="reversed"),
    ]
    model = _model(model_class, metrics, rng)
    view = _View(model)
    alone = [
        InteractionSimilarity(pairs),
        SimilarUserJaccard(seed=3),
        InteractionSimilarity(pairs[::-1]),
    ]
    late = late_alone = None
    for step in range(9):
        if step == 3:  # rows for new users: their sets start empty
            model.add_users(rng.normal(size=(4, 3)))
        model.step()
        if step == 5:  # registered later: a history of its own, from this measurement on
            late, late_alone = (
                InteractionSimilarity(pairs, name="late"),
                InteractionSimilarity(pairs),
            )
            model.add_metrics(late)
        for metric in alone + ([late_alone] if late_alone else []):
            metric.measure(view)
        pairs_now = list(zip(model.metrics[:3], alone, strict=True))
        if late is not None:
            pairs_now.append((late, late_alone))
        for shared, own in pairs_now:
            got, want = shared.measurement_history[-1], own.measurement_history[-1]
            assert _same(got, want), (step, shared.name)
            if isinstance(own, InteractionSimilarity):
                assert np.array_equal(shared.last_pair_values, own.last_pair_values, equal_nan=True)
        assert np.array_equal(model.metrics[1].last_pairs, alone[1].last_pairs)
        history = model.metrics[0]._history
        assert model.metrics[1]._history is history and model.metrics[2]._history is history
        assert history.version == step + 1  # one update per step for all three
        if late is not None:
            assert late._history is not history
    # measured again at the same time (directly): the same values, the sets unchanged (the
    # partners of SimilarUserJaccard are drawn again)
    for metric in (model.metrics[0], model.metrics[2]):
        before = metric.measurement_history[-1]
        metric.measure(model)
        assert _same(metric.measurement_history[-1], before), metric.name
    assert model.metrics[0]._history.version == 9


def _jaccard_from_history(history, pairs, num_users):
    sets = [set() for _ in range(num_users)]
    for inter in history:
        for u, item in enumerate(inter):
            if item >= 0:
                sets[u].add(int(item))
    out = []
    for a, b in pairs:
        union = len(sets[a] | sets[b])
        out.append(len(sets[a] & sets[b]) / union if union else np.nan)
    return np.array(out)


def test_replaced_pairs_are_counted_afresh_on_the_shared_sets():
    rng = np.random.default_rng(8)
    pairs = rng.integers(0, 25, size=(50, 2))
    metric = InteractionSimilarity(pairs)
    model = _model(PopularityRecommender, [metric, SimilarUserJaccard(seed=2)], rng)
    history = []
    kept = None
    for step in range(6):
        model.step()
        history.append(model.interactions.copy())
        if kept is not None:  # an earlier step's values are not the kept ones, updated
            assert np.array_equal(kept[0], kept[1], equal_nan=True)
        kept = (metric.last_pair_values, metric.last_pair_values.copy())
        if step == 3:  # new pairs: their intersections are not the old pairs' grown
            metric.pairs = rng.integers(0, 25, size=(70, 2))
            metric.measure(model)
        expected = _jaccard_from_history(history, metric.pairs, model.num_users)
        assert np.array_equal(metric.last_pair_values, expected, equal_nan=True), step


def test_a_metric_that_is_not_registered_keeps_its_own_sets():
    """Measured only now and then, its sets hold the steps it saw, as before."""
    rng = np.random.default_rng(2)
    pairs = rng.integers(0, 25, size=(60, 2))
    model = _model(PopularityRecommender, [InteractionSimilarity(pairs)], rng)
    view = _View(model)
    sometimes, alone = InteractionSimilarity(pairs), InteractionSimilarity(pairs)
    for step in range(7):
        model.step()
        if step in (0, 3, 4, 6):
            sometimes.measure(model)
            alone.measure(view)
            assert sometimes._history is not model.metrics[0]._history
            assert np.array_equal(
                sometimes.last_pair_values, alone.last_pair_values, equal_nan=True
            )


def test_the_reference_run_sets_are_shared_with_the_reference_models_own_metrics():
    rng = np.random.default_rng(3)
    pairs = rng.integers(0, 20, size=(40, 2))

    def build(metrics):
        return PopularityRecommender(
            actual_user_representation=rng.normal(size=(20, 2)),
            actual_item_representation=rng.uniform(size=(2, 12)),
            num_items_per_iter=3,
            seed=4,
            measurements=metrics,
        )

    reference = build([InteractionSimilarity(pairs)])
    metric = SimilarUserJaccard(seed=1, relative_to=reference)
    model = build([metric])
    alone = SimilarUserJaccard(seed=1, relative_to=_View(reference))
    for _ in range(5):
        reference.step()
        model.step()
        alone.measure(_View(model))
        assert metric._reference_history is reference.metrics[0]._history
        assert _same(metric.measurement_history[-1], alone.measurement_history[-1])


# --- this step's lists -------------------------------------------------------------------------


@pytest.mark.parametrize("mask_items", [0, 256])  # marks; bitmasks over the items shown
def test_list_metrics_read_the_lists_once_per_step_with_their_own_values(mask_items, monkeypatch):
    monkeypatch.setattr(_common, "MASK_ITEMS", mask_items)
    rng = np.random.default_rng(4)
    pairs = rng.integers(0, 25, size=(90, 2))

    def metrics():
        return [
            RecSimilarity(pairs),
            CatalogCoverage(),
            CatalogCoverage(cumulative=True),
            RecSimilarity(pairs[::-1], name="reversed"),
        ]

    model = _model(PopularityRecommender, metrics(), rng)
    view = _View(model)
    alone = metrics()
    for step in range(7):
        model.step()
        if step == 2:  # new users' lists are padding until the next step
            model.add_users(rng.normal(size=(3, 3)))
            for shared in model.metrics:
                shared.measure(model)  # the lists changed at the same time: read again
        for shared, own in zip(model.metrics, alone, strict=True):
            own.measure(view)
            assert _same(shared.measurement_history[-1], own.measurement_history[-1]), (
                step,
                shared.name,
            )
        lists = model._mesa_recsys_shown_lists
        assert lists.shown is model.items_shown
        expected = np.unique(model.items_shown[model.items_shown >= 0]).size
        assert lists.num_distinct == expected


def test_list_jaccard_by_bitmasks_counts_repeats_once_and_skips_padding():
    rng = np.random.default_rng(5)
    shown = rng.integers(-1, 70, size=(40, 6))
    shown[3] = -1  # no item: NaN against another empty list
    shown[4] = shown[5]
    pairs = rng.integers(0, 40, size=(300, 2))
    pairs[0] = (3, 3)
    lists = _common.ShownLists(shown, 70, None)
    assert lists.num_distinct <= _common.MASK_ITEMS  # 2 words
    got = lists.jaccard(pairs[:, 0], pairs[:, 1])
    expected = []
    for a, b in pairs:
        x, y = set(shown[a]) - {-1}, set(shown[b]) - {-1}
        expected.append(len(x & y) / len(x | y) if x | y else np.nan)
    assert np.array_equal(got, expected, equal_nan=True)
    with pytest.raises(IndexError, match="item 70 is out of bounds"):
        _common.ShownLists(np.array([[0, 70]]), 70, None)


# --- normalised factors and the MSE's Gram matrices ---------------------------------------------


def test_unchanged_user_factors_keep_their_normalised_array_and_changed_ones_do_not():
    rng = np.random.default_rng(6)
    model = _model(PopularityRecommender, [], rng, probability=1.0)
    model.step()
    first = inner_product_factors(model.predicted_scores)[0]
    model.step()  # popularity retrains with a copy of the same (all-ones) profiles
    assert inner_product_factors(model.predicted_scores)[0] is first
    # the true profiles changed in place, then rescored: seen, though the array is the same
    true = model.users.actual_user_scores
    before = inner_product_factors(true)[0]
    profiles = model.users.actual_user_profiles.value
    profiles[0] *= -2.0
    model.users.compute_user_scores(model.items)
    after = inner_product_factors(true)[0]
    assert after is not before
    assert np.array_equal(after, mo.normalize_matrix(true._factors[0]))
    assert np.array_equal(after[0], -before[0])


@pytest.mark.parametrize("model_class", [PopularityRecommender, ContentFiltering])
def test_mse_from_kept_gram_matrices_equals_the_mse_from_scratch(model_class):
    rng = np.random.default_rng(7)

    def metrics():
        return [
            MSEMeasurement(),
            RMSEMeasurement(),
            MSEMeasurement(name="mse_sub", users=np.arange(0, 20, 3)),
            NDCGAtK(k=2),
        ]

    model = _model(model_class, metrics(), rng)
    fresh = metrics()
    for step in range(7):
        if step == 2:
            model.add_users(rng.normal(size=(3, 3)))
        if step == 4:  # estimates changed in place and retrained; the true profiles too
            model.users_hat.value[:2] = -2 * model.users_hat.value[:2]
            model.users.actual_user_profiles.value[1] *= -1.0
            model.users.compute_user_scores(model.items)
            model.train()
            for metric in model.metrics:
                metric.measure(model)
        model.step()
        for cached, own in zip(model.metrics, fresh, strict=True):
            clear_caches(model)
            own.measure(model)
            got, want = cached.measurement_history[-1], own.measurement_history[-1]
            assert got == pytest.approx(want, rel=1e-12), (step, cached.name)
            if cached.name.startswith("mse") or cached.name == "rmse":
                assert got == want, (step, cached.name)  # the same sums: the same floats


@pytest.mark.parametrize("num_items", [12, 200])  # one-word masks; lists one by one
def test_afsr_from_the_shared_lists_is_the_range_of_each_list(num_items):
    rng = np.random.default_rng(9)
    metric = AverageFeatureScoreRange()
    subset = AverageFeatureScoreRange(name="afsr_sub", users=np.arange(0, 20, 3))
    model = _model(PopularityRecommender, [metric, subset], rng, num_items=num_items)
    for step in range(5):
        if step == 2:
            model.add_users(rng.normal(size=(3, 3)))  # padded lists at this step
            metric.measure(model)
            subset.measure(model)
        model.step()
        items_hat = np.asarray(model.items_hat.value, dtype=float)
        hi, lo = items_hat.max(axis=0), items_hat.min(axis=0)
        shown = model.items_shown
        for m, rows in ((metric, np.arange(model.num_users)), (subset, np.arange(0, 20, 3))):
            lists = [shown[u] for u in rows if (shown[u] >= 0).all()]
            ranges = np.array([hi[row].max() - lo[row].min() for row in lists])
            assert m.measurement_history[-1] == ranges.sum() / ranges.size, (step, m.name)


def test_ranges_from_masks_equal_ranges_list_by_list():
    rng = np.random.default_rng(10)
    shown = rng.integers(0, 40, size=(300, 5))
    shown[::7, 2] = -1  # padded lists are left out
    shown[5] = shown[6][::-1]  # the same items in another order: one range
    values = rng.normal(size=(2, 40))
    values[0, 3] = -0.0
    item_max, item_min = values.max(axis=0), values.min(axis=0)
    lists = _common.ShownLists(shown, 40, None)
    assert lists.num_distinct <= 64 and lists._one_word
    rows = np.concatenate([np.arange(300), [5, 6]])
    got = lists.ranges(item_max, item_min, rows)
    want = kernels.list_ranges(item_max, item_min, shown, rows)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_changing_user_factors_are_copied_less_and_less_often_and_always_normalised_anew():
    rng = np.random.default_rng(11)
    model = _model(ContentFiltering, [], rng, probability=1.0)  # learns users every step
    copies = []
    for _ in range(12):
        model.step()
        unit = inner_product_factors(model.predicted_scores)[0]
        users = model.predicted_scores._factors[0]
        assert np.array_equal(unit, mo.normalize_matrix(users))
        copies.append(model.predicted_scores._mesa_recsys_unit_factors[2][0] is not None)
    assert copies == [
        True,
        False,
        False,
        True,
        False,
        False,
        False,
        False,
        True,
        False,
        False,
        False,
    ]
    # the estimates stop changing: the next copy finds them equal and is kept from then on
    model.predicted_scores.set_factors(users.copy(), *model.predicted_scores._factors[1:])
    for _ in range(9):
        first = inner_product_factors(model.predicted_scores)[0]
        model.predicted_scores.set_factors(users.copy(), *model.predicted_scores._factors[1:])
    assert inner_product_factors(model.predicted_scores)[0] is first
