"""Every metric on hand-computed cases, its invariants, and how it lands in the DataCollector.

Small fake recommenders (plain objects with the attributes a metric reads) give exact
cases; real models check the wiring (t=0 values, one row per step, added users and items,
``batch_run``). Diffusion metrics run on a fake Bass-style model (``infection_state`` and a
``users_hat`` adjacency) because the Bass model is not built yet.
"""

import pickle
from types import SimpleNamespace

import mesa
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.spatial.distance import pdist

from mesa_recsys.components import Creators, Users
from mesa_recsys.metrics import (
    AverageFeatureScoreRange,
    CatalogCoverage,
    DiffusionTreeMeasurement,
    GroupSelector,
    InteractionMeasurement,
    InteractionSimilarity,
    InteractionSpread,
    InteractionSpreadTRECS,
    ItemPopularityGini,
    MeanPairwiseDistance,
    Measurement,
    MSEMeasurement,
    NDCGAtK,
    RecallAtK,
    RecallMeasurement,
    RecSimilarity,
    RMSEMeasurement,
    SimilarUserJaccard,
    StructuralVirality,
    by_group,
    effective_number_of_items,
    gini,
    mean_pairwise_distance,
    most_similar_users,
    structural_virality,
    top_k_by_score,
)
from mesa_recsys.models import BaseRecommender, IdealRecommender, PopularityRecommender

# --- fakes -------------------------------------------------------------------------------------


class _Scores:
    """What metrics read of a score component: ``block(rows)`` and ``shape``."""

    def __init__(self, matrix):
        self.matrix = np.asarray(matrix, dtype=float)
        self.shape = self.matrix.shape

    def block(self, rows):
        return self.matrix[rows]


def _fake(
    interactions=None,
    items_shown=None,
    num_items=None,
    users_hat=None,
    items_hat=None,
    predicted=None,
    true=None,
    items=None,
):
    """A stand-in recommender exposing only what the metrics read."""
    inter = np.empty((0, 0), dtype=np.int64) if interactions is None else np.asarray(interactions)
    shown = np.empty((0, 0), dtype=np.int64) if items_shown is None else np.asarray(items_shown)
    num_users = max(
        inter.shape[0] if inter.ndim == 1 else 0,
        shown.shape[0] if shown.size else 0,
        0 if users_hat is None else np.shape(users_hat)[0],
        0 if predicted is None else np.shape(predicted)[0],
    )
    return SimpleNamespace(
        interactions=inter,
        items_shown=shown,
        num_users=num_users,
        num_items=num_items,
        num_items_per_iter=shown.shape[1] if shown.size else 1,
        users_hat=SimpleNamespace(value=users_hat),
        items_hat=SimpleNamespace(value=items_hat),
        items=SimpleNamespace(value=items),
        predicted_scores=None if predicted is None else _Scores(predicted),
        users=SimpleNamespace(actual_user_scores=None if true is None else _Scores(true)),
    )


def _measure(metric, *recommenders):
    for rec in recommenders:
        metric.measure(rec)
    return metric.measurement_history


class _Static(BaseRecommender):
    def _update_internal_state(self, interactions):
        pass


# --- structural virality -----------------------------------------------------------------------


def test_structural_virality_of_a_three_node_path_is_four_thirds():
    # distances 1, 1, 2 over 3 pairs: mean 4/3 (T-RECS reports 2/3)
    assert structural_virality(nx.path_graph(3)) == pytest.approx(4 / 3)


def test_structural_virality_of_a_star_and_small_cases():
    # star with 3 leaves: 3 centre-leaf pairs at 1, 3 leaf-leaf pairs at 2 → 9/6
    assert structural_virality(nx.star_graph(3)) == pytest.approx(1.5)
    assert structural_virality(nx.path_graph(2)) == 1.0
    assert np.isnan(structural_virality(nx.empty_graph(1)))
    directed = nx.DiGraph([(0, 1), (1, 2)])  # a cascade drawn parent → child
    assert structural_virality(directed) == pytest.approx(4 / 3)


@pytest.mark.parametrize("seed", range(8))
def test_structural_virality_is_the_mean_shortest_path_on_random_trees(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 60))
    tree = nx.from_prufer_sequence(rng.integers(0, n, size=n - 2).tolist())
    expected = nx.average_shortest_path_length(tree)
    assert structural_virality(tree) == pytest.approx(expected, rel=1e-12)
    assert structural_virality(tree) == pytest.approx(
        2 * nx.wiener_index(tree) / (n * (n - 1)), rel=1e-12
    )


def test_structural_virality_rejects_what_is_not_a_tree():
    with pytest.raises(ValueError, match="tree: expected a tree"):
        structural_virality(nx.cycle_graph(4))
    with pytest.raises(ValueError, match="2 connected components"):
        structural_virality(nx.Graph([(0, 1), (2, 3)]))
    with pytest.raises(TypeError, match="tree"):
        structural_virality([(0, 1)])


# --- diffusion tree on a fake Bass model -------------------------------------------------------


def _notebook_graph():
    """T-RECS's structural-virality notebook graph: identity plus friends 0-4, 0-3, 1-4."""
    adjacency = np.eye(5)
    for a, b in [(0, 4), (0, 3), (1, 4)]:
        adjacency[a, b] = adjacency[b, a] = 1
    return adjacency


class _FakeBass:
    """Exposes what T-RECS's BassModel does: infection_state (U×1) and users_hat (U×U)."""

    def __init__(self, adjacency, infected, seed=0):
        self.users_hat = SimpleNamespace(value=adjacency)
        self.num_users = adjacency.shape[0]
        self.infection_state = np.zeros((self.num_users, 1))
        self.infection_state[infected] = 1
        self._seed = seed
        self.time = 0

    def infect(self, users):
        self.infection_state[self.infection_state != 0] = -1
        self.infection_state[users] = 1
        self.time += 1


def test_diffusion_tree_of_the_notebook_cascade_is_the_path_4_0_3():
    for adjacency in (_notebook_graph(), sparse.csr_matrix(_notebook_graph())):
        model = _FakeBass(adjacency, infected=[4])
        metric = StructuralVirality()
        metric(model)  # t=0, through the reporter hook
        model.infect([0])  # 0 follows 4
        metric(model)
        model.infect([3])  # 3 follows 0
        metric(model)
        model.infect([])  # nobody new: the tree stays
        metric(model)
        assert metric.measurement_history == [1, 2, 3, 3]
        assert {frozenset(e) for e in metric.diffusion_tree.edges} == {
            frozenset((0, 3)),
            frozenset((0, 4)),
        }
        assert metric.get_structural_virality() == pytest.approx(4 / 3)
        assert metric.name == "num_infected"


def test_diffusion_parents_are_drawn_among_linked_previous_infections_reproducibly():
    # user 2 can be infected by 0 or 1 (both infected at the previous step), not by 3
    adjacency = np.zeros((4, 4))
    adjacency[2, [0, 1]] = 1
    adjacency[3, 2] = 1

    def parent(seed):
        model = _FakeBass(adjacency.copy(), infected=[0, 1, 3])
        metric = DiffusionTreeMeasurement(seed=seed)
        metric.measure(model)
        model.infect([2])
        metric.measure(model)
        assert metric.diffusion_tree.number_of_nodes() == 4
        (edge,) = metric.diffusion_tree.edges(2)
        return edge[1]

    parents = [parent(seed) for seed in range(30)]
    assert set(parents) == {0, 1}
    assert parents == [parent(seed) for seed in range(30)]


def test_diffusion_without_a_link_takes_the_first_previous_infection_as_in_trecs():
    model = _FakeBass(np.zeros((3, 3)), infected=[1, 2])
    metric = DiffusionTreeMeasurement(True)  # T-RECS's tests pass one positional argument
    metric.measure(model)
    model.infect([0])
    metric.measure(model)
    assert {frozenset(e) for e in metric.diffusion_tree.edges} == {frozenset((0, 1))}
    with pytest.raises(ValueError, match="2 connected components"):
        StructuralVirality.get_structural_virality(metric)  # two roots: a forest


def test_diffusion_metric_errors_name_what_is_wrong():
    model = _FakeBass(np.eye(3), infected=[0])
    model.infection_state = np.zeros((2, 1))
    with pytest.raises(ValueError, match="infection_state"):
        DiffusionTreeMeasurement().measure(model)
    with pytest.raises(AttributeError, match="infection_state"):
        DiffusionTreeMeasurement().measure(SimpleNamespace(num_users=3))


# --- Jaccard metrics ---------------------------------------------------------------------------


def test_interaction_similarity_hand_case_is_cumulative():
    pairs = [(0, 1), (0, 2), (1, 2)]
    metric = InteractionSimilarity(pairs)
    history = _measure(
        metric,
        _fake(num_items=3),
        _fake([0, 0, 1], num_items=3),  # {0} {0} {1}: 1, 0, 0
        _fake([1, 2, 1], num_items=3),  # {0,1} {0,2} {1}: 1/3, 1/2, 0
        _fake([-1, -1, -1], num_items=3),  # nobody interacted: sets unchanged
    )
    assert history[0] is None
    assert history[1] == pytest.approx(1 / 3)
    assert history[2] == pytest.approx((1 / 3 + 1 / 2) / 3)
    assert history[3] == pytest.approx(history[2])
    assert np.allclose(metric.last_pair_values, [1 / 3, 1 / 2, 0])


def test_interaction_similarity_of_users_sharing_one_item_is_one():
    metric = InteractionSimilarity([(0, 1), (1, 0)])
    assert _measure(metric, _fake([0, 0], num_items=1), _fake([0, 0], num_items=1))[-1] == 1.0


def test_rec_similarity_uses_this_steps_lists_as_sets():
    metric = RecSimilarity([(0, 1), (0, 2)])
    history = _measure(
        metric,
        _fake(num_items=5),
        _fake(items_shown=[[0, 1], [1, 2], [3, 4]], num_items=5),  # 1/3 and 0
        _fake(items_shown=[[0, 0], [0, 1], [4, 0]], num_items=5),  # {0}: 1/2 and 1/2
    )
    assert history == [None, pytest.approx(1 / 6), pytest.approx(0.5)]


@pytest.mark.parametrize(
    "pairs, error, match",
    [
        ([(0, 1, 2)], ValueError, "P×2"),
        ([], ValueError, "P×2"),
        ([(0, -1)], ValueError, "non-negative"),
        ([(0.5, 1)], TypeError, "integer"),
    ],
)
def test_pairs_are_checked_at_construction(pairs, error, match):
    with pytest.raises(error, match=f"pairs: .*{match}"):
        InteractionSimilarity(pairs)


def test_a_pair_outside_the_population_is_named_when_measured():
    with pytest.raises(ValueError, match="pairs: user index 5"):
        RecSimilarity([(0, 5)]).measure(_fake(items_shown=[[0], [1]], num_items=2))


def test_most_similar_users_hand_case_ties_and_blocks():
    profiles = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 1.0], [0.0, 0.0]])
    assert most_similar_users(profiles).tolist() == [1, 0, 3, 2, 0]  # zero row: lowest other
    assert most_similar_users(sparse.csr_matrix(profiles)).tolist() == [1, 0, 3, 2, 0]
    assert most_similar_users(profiles, np.array([4, 2])).tolist() == [0, 3]
    rng = np.random.default_rng(3)
    big = rng.normal(size=(300, 4))
    unit = big / np.linalg.norm(big, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    assert np.array_equal(most_similar_users(big), sims.argmax(axis=1))
    with pytest.raises(ValueError, match="profiles"):
        most_similar_users(np.ones((1, 3)))


def test_similar_user_jaccard_pairs_by_current_estimates():
    profiles = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 1.0]])
    metric = SimilarUserJaccard()
    history = _measure(
        metric,
        _fake(users_hat=profiles, num_items=3),
        _fake([0, 0, 1, 2], users_hat=profiles, num_items=3),  # 1, 1, 0, 0
        _fake(
            [1, 2, 2, 2], users_hat=profiles, num_items=3
        ),  # {0,1}{0,2}: 1/3 twice; {1,2}{2}: 1/2
    )
    assert history[0] is None
    assert history[1] == pytest.approx(0.5)
    assert history[2] == pytest.approx((1 / 3 + 1 / 3 + 1 / 2 + 1 / 2) / 4)
    assert metric.last_pairs.tolist() == [[0, 1], [1, 0], [2, 3], [3, 2]]


def test_similar_user_jaccard_relative_to_a_reference_run_uses_the_same_pairs():
    """The change in Jaccard index: this run's sets minus the reference run's, same pairs."""
    profiles = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 1.0]])
    reference = _fake(users_hat=np.eye(4)[::-1], num_items=3)  # its own estimates unused
    metric = SimilarUserJaccard(relative_to=reference)
    metric.measure(_fake(users_hat=profiles, num_items=3))
    reference.interactions = np.array([0, 1, 1, 1])
    metric.measure(_fake([0, 0, 1, 2], users_hat=profiles, num_items=3))  # 0.5 vs 0.5
    reference.interactions = np.array([2, 2, 2, 0])
    metric.measure(_fake([1, 2, 2, 2], users_hat=profiles, num_items=3))  # 5/12 vs 1/3
    assert metric.measurement_history[0] is None
    assert metric.measurement_history[1] == pytest.approx(0.0)
    assert metric.measurement_history[2] == pytest.approx(5 / 12 - 1 / 3)
    assert metric.last_pairs.tolist() == [[0, 1], [1, 0], [2, 3], [3, 2]]


def test_similar_user_jaccard_reference_must_match():
    def build(num_users, seed, metrics=None):
        return PopularityRecommender(
            num_users=num_users, num_items=8, num_items_per_iter=2, seed=seed, measurements=metrics
        )

    reference = build(5, 1)
    model = build(5, 2, [SimilarUserJaccard(relative_to=reference)])  # t=0: both at step 0
    with pytest.raises(ValueError, match="relative_to: the reference model is at step 0"):
        model.run(1, disable_tqdm=True)
    # at construction Mesa's DataCollector wraps a reporter's first error in a RuntimeError
    with pytest.raises((ValueError, RuntimeError), match="reference model has 5 users"):
        build(6, 3, [SimilarUserJaccard(relative_to=reference)])
    with pytest.raises(ValueError, match="ties"):
        SimilarUserJaccard(ties="first")


# --- spread ------------------------------------------------------------------------------------


def test_interaction_spread_is_the_effective_number_of_items():
    metric = InteractionSpread()
    history = _measure(
        metric,
        _fake(num_items=4),
        _fake([0, 0, 1, 2], num_items=4),  # shares 1/2, 1/4, 1/4: exp(1.5 ln 2)
        _fake([3, 3, 3, 3], num_items=4),
        _fake([0, 1, 2, 3], num_items=4),
        _fake([-1, -1, -1, -1], num_items=4),
    )
    assert history[0] is None
    assert history[1:4] == [pytest.approx(2**1.5), 1.0, pytest.approx(4.0)]
    assert np.isnan(history[4])
    with pytest.raises(ValueError, match="histogram"):
        effective_number_of_items(np.array([1, -1]))


def test_trecs_interaction_spread_value_and_its_reduction_to_two_entries():
    metric = InteractionSpreadTRECS()
    history = _measure(
        metric,
        _fake(num_items=4),
        _fake([0, 0, 1, 2], num_items=4),  # sorted [2,1,1,0]: area 3, first value -3
        _fake([0, 1, 2, 3], num_items=4),  # [1,1,1,1]: area 3
        _fake([0, 0, 0, 0], num_items=4),  # [4,0,0,0]: area 2
    )
    assert history == [None, -3.0, 0.0, 1.0]
    assert metric.name == "interaction_spread_trecs"
    # against numpy's trapezoid rule, and the reduction (h0 + h_last)/2 - (previous same)
    rng = np.random.default_rng(0)
    spread = InteractionSpreadTRECS()
    previous = np.zeros(30)
    for step in range(5):
        inter = rng.integers(0, 30, size=200)
        spread.measure(_fake(inter, num_items=30))
        h = np.sort(np.bincount(inter, minlength=30))[::-1].astype(float)
        expected = np.trapezoid(previous) - np.trapezoid(h)
        assert spread.measurement_history[-1] == pytest.approx(expected)
        if step:
            assert expected == pytest.approx((h[0] + h[-1]) / 2 - (previous[0] + previous[-1]) / 2)
        previous = h


# --- AFSR, coverage, Gini, pairwise distance -------------------------------------------------


def test_afsr_trecs_global_range_and_per_feature_range():
    items_hat = np.array([[0.0, 1.0, 5.0], [2.0, 3.0, -1.0]])
    shown = [[0, 1], [1, 2]]
    # user 0: values {0,1,2,3} → 3; user 1: {1,5,3,-1} → 6
    rec = _fake(items_shown=shown, items_hat=items_hat, num_items=3)
    assert _measure(AverageFeatureScoreRange(), _fake(num_items=3), rec) == [None, 4.5]
    # per feature: user 0 ranges 1 and 1; user 1 ranges 4 and 4
    assert _measure(AverageFeatureScoreRange(per_feature=True), rec) == [2.5]
    rec_sparse = _fake(items_shown=shown, items_hat=sparse.csr_matrix(items_hat), num_items=3)
    assert _measure(AverageFeatureScoreRange(), rec_sparse) == [4.5]


def test_catalog_coverage_this_step_and_cumulative():
    steps = [
        _fake([1, 1], items_shown=[[0, 1], [1, 2]], num_items=5),
        _fake([3, 3], items_shown=[[3, 4], [4, 3]], num_items=5),
    ]
    assert _measure(CatalogCoverage(), _fake(num_items=5), *steps) == [None, 0.6, 0.4]
    assert _measure(CatalogCoverage("interactions"), *steps) == [0.2, 0.2]
    cumulative = CatalogCoverage("shown", cumulative=True)
    assert _measure(cumulative, *steps) == [0.6, 1.0]
    assert cumulative.name == "cumulative_coverage_shown"
    with pytest.raises(ValueError, match="of: expected one of"):
        CatalogCoverage("clicks")


def test_gini_hand_values():
    assert gini(np.array([1, 1, 1, 1])) == 0.0
    assert gini(np.array([0, 0, 0, 4])) == pytest.approx(0.75)  # 1 - 1/n
    assert gini(np.array([1, 2, 3])) == pytest.approx(2 / 9)
    x = np.random.default_rng(2).integers(0, 20, size=50)
    mad = np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean())
    assert gini(x) == pytest.approx(mad)
    assert np.isnan(gini(np.zeros(3)))
    with pytest.raises(ValueError, match="values"):
        gini(np.array([1, -2]))


def test_item_popularity_gini_per_step_and_for_a_group():
    steps = [_fake([0, 0, 1, 2], num_items=4), _fake([3, 3, 3, 3], num_items=4)]
    assert _measure(ItemPopularityGini(cumulative=False), *steps) == [
        pytest.approx(gini(np.array([2, 1, 1, 0]))),
        pytest.approx(0.75),
    ]
    mine = ItemPopularityGini(
        users=[0, 1]
    )  # cumulative counts of users 0, 1: [2,0,0,0] then +[0,0,0,2]
    assert _measure(mine, *steps) == [
        pytest.approx(0.75),
        pytest.approx(gini(np.array([2, 0, 0, 2]))),
    ]


def test_mean_pairwise_distance_hand_values_and_against_scipy():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert mean_pairwise_distance(x) == pytest.approx(2 / 3)
    assert mean_pairwise_distance(x, "sqeuclidean") == pytest.approx(4 / 3)
    assert mean_pairwise_distance(np.array([[0.0, 0.0], [1.0, 0.0]])) == pytest.approx(1.0)
    assert np.isnan(mean_pairwise_distance(x[:1]))
    y = np.random.default_rng(1).normal(size=(40, 5))
    assert mean_pairwise_distance(y) == pytest.approx(pdist(y, "cosine").mean())
    assert mean_pairwise_distance(y, "sqeuclidean") == pytest.approx(pdist(y, "sqeuclidean").mean())
    with pytest.raises(ValueError, match="metric"):
        mean_pairwise_distance(y, "manhattan")


@pytest.mark.parametrize("metric", ["cosine", "sqeuclidean"])
def test_mean_pairwise_distance_metric_counts_repeated_choices(metric):
    rng = np.random.default_rng(4)
    items = rng.normal(size=(3, 6))
    inter = np.array([0, 0, 5, 2, 2, 2, -1, 4])
    got = _measure(MeanPairwiseDistance(metric), _fake(inter, items=items, num_items=6))[0]
    chosen = inter[inter >= 0]
    assert got == pytest.approx(mean_pairwise_distance(items[:, chosen].T, metric))
    assert got == pytest.approx(pdist(items[:, chosen].T, metric).mean())


# --- ranking -------------------------------------------------------------------------------------


def test_top_k_by_score_breaks_ties_by_lower_index():
    scores = np.array([[1.0, 3.0, 3.0, 0.0, 3.0], [5.0, 4.0, 3.0, 2.0, 1.0]])
    assert top_k_by_score(scores, 2).tolist() == [[1, 2], [0, 1]]
    assert top_k_by_score(scores, 5).tolist() == [[1, 2, 4, 0, 3], [0, 1, 2, 3, 4]]
    rng = np.random.default_rng(0)
    ties = rng.integers(0, 4, size=(200, 30)).astype(float)
    expected = np.argsort(-ties, axis=1, kind="stable")[:, :7]
    assert np.array_equal(top_k_by_score(ties, 7), expected)


def test_recall_measurement_hand_case():
    predicted = [[0.9, 0.5, 0.1], [0.1, 0.5, 0.9]]
    shown = [[0, 1, 2], [2, 1, 0]]
    metric = RecallMeasurement(k=1)
    history = _measure(
        metric,
        _fake(items_shown=shown, predicted=predicted, num_items=3),
        _fake([0, 1], items_shown=shown, predicted=predicted, num_items=3),  # hit, miss
        _fake([0, -1], items_shown=shown, predicted=predicted, num_items=3),  # hit; 1 counted
    )
    assert history == [None, 0.5, 1.0]
    with pytest.raises(ValueError, match="k: expected less than num_items_per_iter"):
        RecallMeasurement(k=3).measure(_fake([0, 1], items_shown=shown, predicted=predicted))


def test_ndcg_and_recall_at_k_against_true_scores_hand_case():
    true = [[3.0, 2.0, 1.0, 0.0]]
    log3 = np.log2(3)
    cases = {  # predicted scores → (NDCG@2, recall@2); R = predicted top 2, T = [0, 1]
        (0.0, 1.0, 2.0, 3.0): ((1 / log3) / (3 + 2 / log3), 0.0),  # R = [3, 2]
        (5.0, 0.0, 4.0, 0.0): ((3 + 1 / log3) / (3 + 2 / log3), 0.5),  # R = [0, 2]
        (9.0, 8.0, 0.0, 0.0): (1.0, 1.0),
    }
    for predicted, (ndcg, recall) in cases.items():
        rec = _fake(predicted=[predicted], true=true, num_items=4)
        assert _measure(NDCGAtK(k=2), rec) == [pytest.approx(ndcg)]
        assert _measure(RecallAtK(k=2), rec) == [pytest.approx(recall)]
    flat = _fake(predicted=[[1, 2, 3, 4], [4, 3, 2, 1]], true=[[1, 1, 1, 1], [3, 2, 1, 0]])
    flat.num_items = 4
    assert _measure(NDCGAtK(k=2), flat) == [1.0]  # the flat user has no NDCG; left out
    assert NDCGAtK(k=3).name == "ndcg@3" and RecallAtK(k=4).name == "recall@4"


def test_ranking_of_the_shown_lists_and_errors():
    rec = _fake(
        items_shown=[[1, 0]], predicted=[[0.0, 0.0, 0.0]], true=[[3.0, 2.0, 1.0]], num_items=3
    )
    assert _measure(RecallAtK(k=1, ranking="shown"), _fake(num_items=3), rec) == [None, 0.0]
    # lists [1, 0] against the true order [0, 1]; gains 2, 1, 0
    log3 = np.log2(3)
    assert _measure(NDCGAtK(k=2, ranking="shown"), rec) == [
        pytest.approx((1 + 2 / log3) / (2 + 1 / log3))
    ]
    with pytest.raises(ValueError, match="ranking"):
        NDCGAtK(ranking="best")
    with pytest.raises(ValueError, match="k: expected a positive int"):
        RecallAtK(k=0)
    with pytest.raises(ValueError, match="k: expected at most num_items"):
        RecallAtK(k=4).measure(rec)


# --- user subsets and groups -------------------------------------------------------------------


def _hand_model(**kwargs):
    # predicted [[1, 2], [3, 4]], true [[0, 1], [1, 0]] (see test_components_and_metrics)
    return _Static(
        np.array([[5.0, 0.0], [0.0, 0.5]]),
        np.array([[1.0, 2.0], [3.0, 4.0]]),
        np.array([[1.0, 0.0], [0.0, 2.0]]),
        np.array([[0.0, 1.0], [1.0, 0.0]]),
        2,
        2,
        1,
        seed=1,
        **kwargs,
    )


def test_mse_split_by_group_hand_case():
    groups = np.array(["b", "a"])
    metrics = [*by_group(MSEMeasurement, groups), *by_group(RMSEMeasurement, groups)]
    model = _hand_model(measurements=[MSEMeasurement(), *metrics])
    got = model.get_measurements()
    # user 0: differences 1, 1 → 1; user 1: differences 2, 4 → 10
    assert got["mse"] == [pytest.approx(5.5)]
    assert got["mse[b]"] == [pytest.approx(1.0)]
    assert got["mse[a]"] == [pytest.approx(10.0)]
    assert got["rmse[a]"] == [pytest.approx(np.sqrt(10.0))]
    df = model.datacollector.get_model_vars_dataframe()
    assert {"mse[a]", "mse[b]", "rmse[a]", "rmse[b]"} <= set(df.columns)


def test_group_histograms_add_up_to_the_whole_and_follow_an_attribute():
    users = Users(size=(30, 2), seed=2)
    model = IdealRecommender(
        actual_user_representation=users, num_items=9, num_items_per_iter=3, seed=4
    )
    model.group = np.where(np.arange(30) < 20, "majority", "minority")
    split = by_group(InteractionMeasurement, "group", labels=["majority", "minority"])
    model.add_metrics(InteractionMeasurement(), *split)
    model.run(3, disable_tqdm=True)
    df = model.datacollector.get_model_vars_dataframe()
    for t in range(1, 4):
        whole = df["interaction_histogram"].iloc[t]
        parts = (
            df["interaction_histogram[majority]"].iloc[t]
            + df["interaction_histogram[minority]"].iloc[t]
        )
        assert np.array_equal(whole, parts)
        assert df["interaction_histogram[minority]"].iloc[t].sum() == 10
    selector = pickle.loads(pickle.dumps(GroupSelector("group", "minority")))  # noqa: S301
    assert selector(model).sum() == 10


def test_by_group_errors_name_the_argument():
    with pytest.raises(ValueError, match="labels"):
        by_group(MSEMeasurement, "group")
    with pytest.raises(TypeError, match="metric"):
        by_group(InteractionSimilarity, np.array([0, 1]), pairs=[(0, 1)])
    with pytest.raises(TypeError, match="users"):
        MSEMeasurement(users=np.array([0.5]))
    with pytest.raises(ValueError, match="users: expected user indices in"):
        MSEMeasurement(users=[0, 7]).measure(_hand_model())


# --- diagnostics (T-RECS's option on MSE and InteractionSimilarity) ----------------------------


def test_mse_diagnostics_are_per_user_gaps_of_mean_scores():
    mse = MSEMeasurement(diagnostics=True)
    _hand_model(measurements=[mse])
    # user 0: mean predicted 1.5, mean true 0.5 → 1; user 1: 3.5 - 0.5 → 9
    assert np.allclose(mse.last_observation, [1.0, 9.0])
    table = mse.get_diagnostics()
    assert list(table.columns) == [
        "mean", "std", "median", "min", "max", "skew", "kurtosis", "sw_stat", "sw_p", "n"
    ]  # fmt: skip
    row = table.iloc[0]
    assert (row["mean"], row["std"], row["min"], row["max"], row["n"]) == (5.0, 4.0, 1.0, 9.0, 2)
    assert np.isnan(row["sw_stat"])  # Shapiro-Wilk needs 3 values


# --- wiring: t=0, one row per step, added users and items, batch_run --------------------------


def _all_metrics(num_users):
    pairs = [(u, (u + 1) % num_users) for u in range(num_users)]
    return [
        InteractionMeasurement(),
        MSEMeasurement(),
        RMSEMeasurement(),
        InteractionSimilarity(pairs),
        RecSimilarity(pairs),
        InteractionSpread(),
        InteractionSpreadTRECS(),
        AverageFeatureScoreRange(),
        RecallMeasurement(k=2),
        SimilarUserJaccard(),
        NDCGAtK(k=3),
        RecallAtK(k=3),
        CatalogCoverage(),
        ItemPopularityGini(),
        MeanPairwiseDistance(),
    ]


NONE_AT_T0 = {
    "interaction_histogram",
    "interaction_similarity",
    "rec_similarity",
    "interaction_spread",
    "interaction_spread_trecs",
    "afsr",
    "recall_at_k",
    "similar_user_jaccard",
    "coverage_shown",
    "popularity_gini",
    "mean_pairwise_distance",
}


def _growing_model():
    rng = np.random.default_rng(5)
    return PopularityRecommender(
        actual_user_representation=Users(actual_user_profiles=rng.normal(size=(12, 3))),
        actual_item_representation=rng.uniform(size=(3, 15)),
        creators=Creators(rng.uniform(size=(2, 3)), creation_probability=1.0),
        num_items_per_iter=4,
        seed=6,
        measurements=_all_metrics(12),
    )


def test_every_metric_is_a_column_with_one_row_per_step_across_added_users_and_items():
    model = _growing_model()
    names = [m.name for m in model.metrics]
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == 1 and set(names) <= set(df.columns)
    for name in names:  # what a metric with nothing to measure yet records at t=0
        assert bool(pd.isna(df[name].iloc[0])) == (name in NONE_AT_T0), name
    model.run(2, disable_tqdm=True)
    model.add_users(np.random.default_rng(7).normal(size=(3, 3)))
    model.run(2, disable_tqdm=True)
    df = model.datacollector.get_model_vars_dataframe()
    got = model.get_measurements()
    assert len(df) == 5
    assert np.array_equal(got["timesteps"], np.arange(5))
    assert list(df["num_items"]) == [15, 17, 19, 21, 23]
    for t in range(1, 5):
        hist = df["interaction_histogram"].iloc[t]
        assert hist.shape == (df["num_items"].iloc[t],)  # one cell, not one column per item
        assert hist.sum() == (12 if t <= 2 else 15)  # every user interacts here
        for name in ("interaction_similarity", "rec_similarity", "similar_user_jaccard"):
            assert 0.0 <= df[name].iloc[t] <= 1.0, name
        for name in ("ndcg@3", "recall@3", "coverage_shown", "popularity_gini"):
            assert 0.0 <= df[name].iloc[t] <= 1.0, name
    for name in names:
        assert len(got[name]) == 5
        if name != "interaction_histogram":
            assert np.allclose(
                pd.to_numeric(df[name].iloc[1:]),
                np.asarray(got[name][1:], dtype=float),
                equal_nan=True,
            ), name


def test_ideal_recommender_ranks_perfectly():
    model = IdealRecommender(
        num_users=20,
        num_items=30,
        num_attributes=4,
        num_items_per_iter=5,
        seed=3,
        measurements=[NDCGAtK(k=5), RecallAtK(k=5)],
    )
    model.run(2, disable_tqdm=True)
    got = model.get_measurements()
    assert got["ndcg@5"] == [pytest.approx(1.0)] * 3
    assert got["recall@5"] == [pytest.approx(1.0)] * 3


class _MetricsModel(PopularityRecommender):
    """A batch_run model: metrics are built inside, from picklable parameters."""

    def __init__(self, num_users=10, num_items=12, rng=None):
        super().__init__(
            num_users=num_users,
            num_items=num_items,
            num_items_per_iter=3,
            rng=rng,
            measurements=[
                MSEMeasurement(),
                InteractionMeasurement(),
                InteractionSpread(),
                ItemPopularityGini(),
            ],
        )


def test_batch_run_rows_carry_every_metric():
    rows = mesa.batch_run(
        _MetricsModel,
        parameters={"num_users": [8, 10]},
        rng=[1],
        max_steps=2,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    assert len(rows) == 2 * 3
    for row in rows:
        assert {"mse", "interaction_histogram", "interaction_spread", "popularity_gini"} <= set(row)
        if row["Step"] == 0:
            assert row["interaction_histogram"] is None
        else:
            assert row["interaction_histogram"].sum() == row["num_users"]


class _ChosenSlot(Measurement):
    """T-RECS's custom-metric API: subclass, ``measure``, ``observe`` (None before step 1)."""

    def __init__(self, name="chosen_slot", verbose=False):
        Measurement.__init__(self, name, verbose)

    def measure(self, recommender):
        if recommender.interactions.size == 0:
            self.observe(None)
            return
        slot = np.argmax(recommender.items_shown == recommender.interactions[:, None], axis=1)
        self.observe(slot.mean())


def test_custom_metric_sits_next_to_built_ins():
    model = PopularityRecommender(
        num_users=10, num_items=12, num_items_per_iter=3, seed=2,
        measurements=[_ChosenSlot(), InteractionSpread()],
    )  # fmt: skip
    model.run(3, disable_tqdm=True)
    df = model.datacollector.get_model_vars_dataframe()
    assert list(df.columns[-2:]) == ["chosen_slot", "interaction_spread"]
    assert df["chosen_slot"].iloc[0] is None or np.isnan(df["chosen_slot"].iloc[0])
    assert all(0 <= v <= 2 for v in df["chosen_slot"].iloc[1:])


def test_mse_without_forming_scores_equals_the_dense_mean_and_is_exact_near_zero():
    rng = np.random.default_rng(8)
    model = PopularityRecommender(
        actual_user_representation=rng.normal(size=(40, 3)),
        actual_item_representation=rng.uniform(size=(3, 25)),
        num_items_per_iter=4,
        seed=2,
        measurements=[MSEMeasurement(), MSEMeasurement(name="mse_sub", users=np.arange(10))],
    )
    model.run(2, disable_tqdm=True)
    pred, true = model.predicted_user_item_scores, model.actual_user_item_scores
    got = model.get_measurements()
    assert got["mse"][-1] == pytest.approx(np.mean((pred - true) ** 2), rel=1e-10)
    assert got["mse_sub"][-1] == pytest.approx(np.mean((pred[:10] - true[:10]) ** 2), rel=1e-10)
    ideal = IdealRecommender(num_users=30, num_items=40, seed=3, measurements=[MSEMeasurement()])
    ideal.run(1, disable_tqdm=True)
    assert ideal.get_measurements()["mse"] == [0.0, 0.0]  # falls back to the exact sum


def _dense_ndcg_recall(pred, true, k):
    ranked = np.argsort(-pred, axis=1, kind="stable")[:, :k]
    ideal = np.argsort(-true, axis=1, kind="stable")[:, :k]
    gains = true - true.min(axis=1, keepdims=True)
    discount = 1 / np.log2(np.arange(2, k + 2))
    dcg = np.take_along_axis(gains, ranked, axis=1) @ discount
    idcg = np.take_along_axis(gains, ideal, axis=1) @ discount
    recall = [len(set(r) & set(i)) / k for r, i in zip(ranked, ideal)]
    return float(np.mean(dcg / idcg)), float(np.mean(recall))


class _NewItemsKnown(_Static):
    def process_new_items(self, new_items):
        return np.asarray(new_items, dtype=float)


def test_ndcg_and_recall_follow_drifting_users_and_new_items():
    rng = np.random.default_rng(9)
    model = _NewItemsKnown(
        rng.normal(size=(25, 3)),  # estimates unlike the true profiles: an imperfect ranking
        (items := rng.uniform(size=(3, 20))),
        Users(actual_user_profiles=rng.normal(size=(25, 3)), drift=0.4),
        items.copy(),
        25,
        20,
        4,
        creators=Creators(rng.uniform(size=(2, 3)), creation_probability=1.0),
        seed=2,
        measurements=[NDCGAtK(k=3), RecallAtK(k=3)],
    )
    for t in range(1, 4):
        model.run(1, disable_tqdm=True)
        pred, true = model.predicted_user_item_scores, model.actual_user_item_scores
        ndcg, recall = _dense_ndcg_recall(pred, true, 3)
        got = model.get_measurements()
        assert got["ndcg@3"][t] == pytest.approx(ndcg, rel=1e-9)
        assert got["recall@3"][t] == pytest.approx(recall)
        assert 0 < ndcg < 1


def test_recall_at_k_of_a_random_ranking_is_chance():
    from mesa_recsys.models import RandomRecommender

    model = RandomRecommender(
        num_users=400, num_items=50, num_items_per_iter=5, seed=1, measurements=[RecallAtK(k=5)]
    )
    # all predicted scores are 0: ties broken at random, so recall@5 ≈ 5/50 (sd ≈ 0.007)
    assert model.get_measurements()["recall@5"][0] == pytest.approx(0.1, abs=0.03)


def test_most_similar_users_in_small_blocks_with_many_ties(monkeypatch):
    import mesa_recsys.metrics._common as common

    rng = np.random.default_rng(11)
    profiles = rng.integers(0, 3, size=(500, 2)).astype(float)  # many equal directions
    unit = profiles / np.maximum(np.linalg.norm(profiles, axis=1, keepdims=True), 1e-300)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    expected = sims.argmax(axis=1)  # ties → lowest index
    monkeypatch.setattr(common, "BLOCK_CELLS", 500 * 37)  # 37 users per block: 14 blocks
    assert np.array_equal(most_similar_users(profiles), expected)  # all users: symmetric pass
    some = np.array([499, 3, 250, 0])
    assert np.array_equal(most_similar_users(profiles, some), expected[some])  # row pass
    assert np.array_equal(most_similar_users(sparse.csr_matrix(profiles)), expected)
