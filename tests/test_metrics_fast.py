"""The compiled metric kernels and the metrics' caches give the values of the plain versions.

Each kernel of ``mesa_recsys.metrics._kernels`` is checked against a direct numpy
computation on random cases with ties, repeats and padding; each cache (factors derived
once per score snapshot, MSE shared with RMSE, intersection sizes grown step by step) is
checked against the same metric measured with every cache cleared, on a run where users
drift, creators add items and users are added, so every invalidation path is taken.
"""

import numpy as np
import pytest
from scipy import sparse

from mesa_recsys import matrix_ops as mo
from mesa_recsys._scores import listed_scores
from mesa_recsys.components import Creators, Users
from mesa_recsys.metrics import (
    AverageFeatureScoreRange,
    CatalogCoverage,
    InteractionSimilarity,
    MSEMeasurement,
    NDCGAtK,
    RecallAtK,
    RecallMeasurement,
    RecSimilarity,
    RMSEMeasurement,
    similarity,
    top_k_by_score,
)
from mesa_recsys.metrics import _kernels as kernels
from mesa_recsys.metrics._common import inner_product_factors, item_major_factors
from mesa_recsys.models import ContentFiltering, PopularityRecommender

# --- kernels against numpy ---------------------------------------------------------------------


def _jaccard(x, y):
    a, b = set(x) - {-1}, set(y) - {-1}
    union = len(a | b)
    return len(a & b) / union if union else np.nan


@pytest.mark.parametrize("seed", range(6))
def test_list_jaccard_counts_each_item_once_and_skips_padding(seed):
    rng = np.random.default_rng(seed)
    shown = rng.integers(-1, 12, size=(40, 5))  # repeats and -1 padding
    shown[3] = -1  # a list with no item: NaN against another empty list
    pairs = rng.integers(0, 40, size=(300, 2))
    pairs[0] = (3, 3)
    got = kernels.list_jaccard(shown, pairs)
    expected = [_jaccard(shown[a], shown[b]) for a, b in pairs]
    assert np.array_equal(got, expected, equal_nan=True)


#: Item-id limits of the bitset layout: sorted rows from the start; heads and bitsets, then
#: sorted rows from the first item id ≥ 100 on; heads and bitsets throughout.
_LAYOUTS = [0, 100, 4096]


@pytest.mark.parametrize("limit", _LAYOUTS)
@pytest.mark.parametrize("seed", range(4))
def test_cumulative_sets_and_grown_intersections_match_the_set_definition(seed, limit, monkeypatch):
    monkeypatch.setattr(similarity, "BITSET_MAX_ITEMS", limit)
    rng = np.random.default_rng(seed)
    history = similarity._CumulativeInteractions()
    sets: list[set] = []
    pairs = rng.integers(0, 30, size=(200, 2))
    pairs[:3] = [(0, 0), (1, 2), (2, 1)]
    a, b = pairs[:, 0].copy(), pairs[:, 1].copy()
    common = np.zeros(len(pairs), dtype=np.int32)
    grown = np.full(len(pairs), np.nan)  # both sets empty
    num_users = 20
    for step in range(40):
        if step == 6:
            num_users = 30  # users added: their sets start empty
        # few items first (short heads, repeats), then more: heads spill into bitsets, the
        # bitsets widen, rows fill up and move, the pool is compacted
        top = 8 if step < 10 else 70 if step < 20 else 300
        items = rng.integers(-1, top, size=num_users)  # -1: no interaction
        history.update(items)
        added = history.added
        sets += [set() for _ in range(num_users - len(sets))]
        for u, item in enumerate(items):
            new = item >= 0 and item not in sets[u]
            assert added[u] == (item if new else -1)
            if item >= 0:
                sets[u].add(int(item))
        indptr, indices = history.to_csr()
        rows = [indices[indptr[u] : indptr[u + 1]].tolist() for u in range(num_users)]
        assert rows == [sorted(s) for s in sets]
        in_range = (pairs < num_users).all(axis=1)
        expected = [_jaccard(sets[x], sets[y]) for x, y in pairs[in_range]]
        values, both = history.jaccard(a[in_range], b[in_range])
        assert np.array_equal(values, expected, equal_nan=True)
        assert both.tolist() == [len(sets[x] & sets[y]) for x, y in pairs[in_range]]
        # pairs naming users not added yet see empty sets; pairs whose sets did not change
        # keep their values
        assert history.grow(a, b, common, grown, added) is grown
        assert np.array_equal(grown, history.jaccard(a, b)[0], equal_nan=True)
        assert np.array_equal(common, history.jaccard(a, b)[1])
    assert (history.head is None) == (limit < 300)
    if limit == 4096:
        assert history.spilled > 0 and history.bits.shape[1] == 8  # long sets: 300 ids


@pytest.mark.parametrize("seed", range(6))
def test_chosen_in_top_k_is_the_rank_of_the_first_slot(seed):
    rng = np.random.default_rng(seed)
    n, k = 6, 3
    lists = rng.integers(0, 9, size=(200, n))  # repeats: a repeated item has one score
    table = rng.integers(0, 3, size=(200, 9)).astype(float)  # many ties
    scores = np.take_along_axis(table, lists, axis=1)
    chosen = np.where(rng.random(200) < 0.9, lists[np.arange(200), rng.integers(0, n, 200)], 99)
    got = kernels.chosen_in_top_k(scores, lists, chosen, k)
    top = np.take_along_axis(lists, top_k_by_score(scores, k), axis=1)
    assert np.array_equal(got, (top == chosen[:, None]).any(axis=1))


@pytest.mark.parametrize("seed", range(4))
def test_factor_kernels_score_only_the_listed_items(seed):
    rng = np.random.default_rng(seed)
    num_users, num_items, num_attrs, n = 50, 30, 4, 6
    users = mo.normalize_matrix(rng.integers(-1, 3, size=(num_users, num_attrs)).astype(float))
    items = rng.integers(0, 3, size=(num_attrs, num_items)).astype(float)  # equal items tie
    scores = users @ items
    shown = np.array([rng.permutation(num_items)[:n] for _ in range(num_users)])
    shown[5, 2] = -1  # padded: not counted
    inter = shown[np.arange(num_users), rng.integers(0, n, num_users)]
    inter[7] = -1  # did not interact: not counted
    rows = np.arange(num_users)
    hits = kernels.chosen_in_top_k_factors(users, items.T.copy(), shown, inter, rows, 2)
    for u in rows:
        if u in (5, 7):
            assert hits[u] == -1
            continue
        order = top_k_by_score(scores[u, shown[u]][None, :], 2)[0]
        assert hits[u] == int(inter[u] in shown[u, order])
    ranked = np.argsort(-scores, axis=1, kind="stable")[:, :4]
    ideal = np.argsort(-scores[:, ::-1], axis=1, kind="stable")[:, :4]
    low, idcg = scores.min(axis=1), np.linspace(0.0, 3.0, num_users)
    discount = 1 / np.log2(np.arange(2, 6))
    ndcg, recall, listed = kernels.ndcg_recall_factors(
        users, items.T.copy(), rows, ranked, ideal, idcg, low, discount
    )
    # the ranked items' scores, as the users' choices compute them
    np.testing.assert_array_equal(listed, listed_scores(users, items.T.copy(), ranked))
    assert np.allclose(listed, np.take_along_axis(scores, ranked, axis=1), rtol=1e-13)
    gains = np.take_along_axis(scores, ranked, axis=1) - low[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(idcg > 0, gains @ discount / idcg, np.nan)
    assert np.allclose(ndcg, expected, rtol=1e-13, equal_nan=True)
    assert np.isnan(ndcg[0])  # idcg 0: no NDCG
    overlap = [len(set(r) & set(i)) / 4 for r, i in zip(ranked, ideal)]
    assert np.array_equal(recall, overlap)
    assert np.array_equal(
        kernels.ndcg_recall_gains(gains, ranked, ideal, idcg, discount)[1], overlap
    )


def test_kernels_reject_item_ids_beyond_the_catalogue():
    with pytest.raises(IndexError, match="item 5 is out of bounds"):
        kernels.mark_items(np.array([0, 5]), np.zeros(5, dtype=bool))
    with pytest.raises(IndexError, match="item"):
        kernels.list_ranges(np.zeros(3), np.zeros(3), np.array([[0, 3]]), np.array([0]))
    marked = np.zeros(4, dtype=bool)
    assert kernels.mark_items(np.array([[1, -1], [1, 3]]), marked) == 2
    assert marked.tolist() == [False, True, False, True]


def test_afsr_and_coverage_on_sparse_items_and_padded_lists():
    items_hat = sparse.csr_matrix(np.array([[0.0, 4.0, -2.0], [1.0, 0.0, 0.0]]))
    ranges, keep = kernels.list_ranges(
        items_hat.max(axis=0).toarray().ravel(),
        items_hat.min(axis=0).toarray().ravel(),
        np.array([[0, 1], [2, -1], [2, 0]]),
        np.array([0, 1, 2]),
    )
    assert ranges.tolist() == [4.0, 3.0]  # implicit zeros count: {0, 1, 4, 0} and {-2, 0, 0, 1}
    assert keep.tolist() == [True, False, True]


# --- caches against cache-free measurements ----------------------------------------------------

#: What the metrics keep between calls, on the model and on its score components.
_MODEL_CACHES = (
    "_mesa_recsys_ranking_pass",
    "_mesa_recsys_true_top_k",
    "_mesa_recsys_factor_mse",
    "_mesa_recsys_user_grams",
    "_mesa_recsys_shown_lists",
    "_mesa_recsys_interaction_sets",
)


def _clear_caches(model):
    for name in _MODEL_CACHES:
        model.__dict__.pop(name, None)
    for scores in (model.predicted_scores, model.users.actual_user_scores):
        scores.__dict__.pop("_mesa_recsys_unit_factors", None)


def _stateless_metrics():
    return [
        MSEMeasurement(),
        MSEMeasurement(name="mse_diag", diagnostics=True),
        RMSEMeasurement(),
        MSEMeasurement(name="mse_sub", users=np.arange(0, 30, 2)),
        RMSEMeasurement(name="rmse_sub", users=np.arange(0, 30, 2)),
        NDCGAtK(k=3),
        RecallAtK(k=3),
        NDCGAtK(k=2, ranking="shown", name="ndcg_shown"),
        RecallMeasurement(k=2),
        AverageFeatureScoreRange(),
        CatalogCoverage(),
    ]


@pytest.mark.parametrize("model_class", [PopularityRecommender, ContentFiltering])
def test_cached_values_equal_cache_free_values_as_users_items_and_estimates_change(model_class):
    rng = np.random.default_rng(3)
    items = rng.uniform(size=(3, 25))
    extra = {"item_representation": items.copy()} if model_class is ContentFiltering else {}
    model = model_class(
        actual_user_representation=Users(actual_user_profiles=rng.normal(size=(30, 3)), drift=0.2),
        actual_item_representation=items,
        creators=Creators(rng.uniform(size=(2, 3)), creation_probability=0.5),
        num_items_per_iter=4,
        seed=5,
        measurements=_stateless_metrics(),
        **extra,
    )
    reference = _stateless_metrics()
    for step in range(6):
        if step == 3:
            model.add_users(rng.normal(size=(4, 3)))
        model.step()
        if step == 4:  # a retrain between steps replaces the estimates the caches came from
            model.train()
            for metric in model.metrics:
                metric.measure(model)
        for cached, fresh in zip(model.metrics, reference, strict=True):
            _clear_caches(model)
            fresh.measure(model)
            got, want = cached.measurement_history[-1], fresh.measurement_history[-1]
            assert got == pytest.approx(want, rel=1e-12, nan_ok=True), (step, cached.name)
        diag = model.metrics[1]
        _clear_caches(model)
        check = MSEMeasurement(diagnostics=True)
        check.measure(model)
        assert np.array_equal(diag.last_observation, check.last_observation)


def test_derived_factors_follow_each_new_snapshot():
    rng = np.random.default_rng(4)
    model = PopularityRecommender(
        actual_user_representation=Users(actual_user_profiles=rng.normal(size=(12, 2)), drift=0.3),
        actual_item_representation=rng.uniform(size=(2, 9)),
        num_items_per_iter=3,
        seed=1,
    )
    true = model.users.actual_user_scores
    for _ in range(3):
        before = inner_product_factors(true)
        assert inner_product_factors(true) is before  # kept while the snapshot is the same
        model.step()  # users drift: new true scores
        after = inner_product_factors(true)
        assert after is not before
        users, items = true._factors[:2]
        assert np.array_equal(after[0], mo.normalize_matrix(users))
        assert np.array_equal(after[1], items)
        unit, items_t = item_major_factors(true)
        assert unit is after[0] and np.array_equal(items_t, items.T)
    model.add_users(rng.normal(size=(2, 2)))
    assert inner_product_factors(model.predicted_scores)[0].shape == (14, 1)
    model.predicted_scores.value = np.zeros((14, 9))  # explicit scores: no factors
    assert inner_product_factors(model.predicted_scores) is None


def test_interaction_similarity_grows_the_same_values_as_a_fresh_merge():
    rng = np.random.default_rng(6)
    pairs = rng.integers(0, 15, size=(60, 2))
    model = PopularityRecommender(
        actual_user_representation=Users(
            actual_user_profiles=rng.normal(size=(15, 2)), interaction_probability=0.7
        ),
        actual_item_representation=rng.uniform(size=(2, 8)),
        num_items_per_iter=3,
        seed=2,
        measurements=[InteractionSimilarity(pairs), RecSimilarity(pairs)],
    )
    history = []
    for _ in range(8):
        model.step()
        history.append(model.interactions.copy())
        sets = [set() for _ in range(15)]
        for inter in history:
            for u, item in enumerate(inter):
                if item >= 0:
                    sets[u].add(int(item))
        expected = [_jaccard(sets[a], sets[b]) for a, b in pairs]
        metric = model.metrics[0]
        assert np.array_equal(metric.last_pair_values, expected, equal_nan=True)
        shown = model.items_shown
        lists = [_jaccard(shown[a], shown[b]) for a, b in pairs]
        assert model.metrics[1].last_pair_values.tolist() == pytest.approx(lists, nan_ok=True)
