"""Social graphs, SocialFiltering and BassModel: T-RECS behaviours and hand-checked cascades."""

import itertools

import mesa
import networkx as nx
import numpy as np
import pytest
from scipy import sparse

from mesa_recsys.components import Creators, Users
from mesa_recsys.components.social import to_adjacency
from mesa_recsys.metrics import InteractionMeasurement, MSEMeasurement, structural_virality
from mesa_recsys.models import BassModel, SocialFiltering
from mesa_recsys.models.bass import BassUserAgent
from mesa_recsys.random import erdos_renyi_graph, power_law_graph
from mesa_recsys.random.graphs import _pairs_to_edges

# --- graphs ---------------------------------------------------------------------------------


def dense(matrix):
    """The matrix as a dense array."""
    return matrix.toarray() if sparse.issparse(matrix) else np.asarray(matrix)


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_social_graph_editing_follows_trecs(kind):
    """follow sets A[f, u]; unfollow clears it; friends set and clear both; repeats no-op."""
    zeros = np.zeros((5, 5)) if kind == "dense" else sparse.csr_matrix((5, 5))
    model = SocialFiltering(user_representation=zeros, num_items=12, seed=1)
    model.follow(1, 3)
    expected = np.zeros((5, 5))
    expected[3, 1] = 1
    assert np.array_equal(dense(model.users_hat.value), expected)
    model.follow(1, 3)
    assert np.array_equal(dense(model.users_hat.value), expected)
    model.unfollow(1, 3)
    assert not dense(model.users_hat.value).any()
    model.add_friends(0, 4)
    model.add_friends(4, 0)
    expected = np.zeros((5, 5))
    expected[0, 4] = expected[4, 0] = 1
    assert np.array_equal(dense(model.users_hat.value), expected)
    model.remove_friends(4, 0)
    model.remove_friends(0, 4)
    assert not dense(model.users_hat.value).any()
    assert sparse.issparse(model.users_hat.value) == (kind == "sparse")
    with pytest.raises(ValueError, match="following_index"):
        model.follow(0, 5)
    with pytest.raises(ValueError, match="user1_index"):
        model.add_friends(-1, 2)


def test_dense_graph_is_edited_in_place_like_trecs():
    """A dense graph given by the caller is the model's: edits show in the caller's array."""
    graph = np.eye(4)
    model = BassModel(user_representation=graph, item_representation=np.array([[0.5]]), seed=0)
    model.add_friends(0, 3)
    assert graph[0, 3] == graph[3, 0] == 1


def test_networkx_round_trip():
    """networkx → model → networkx keeps every edge; sparse and dense inputs agree."""
    graph = nx.gnp_random_graph(30, 0.2, seed=4, directed=True)
    model = SocialFiltering(user_representation=graph, num_items=10, seed=1)
    back = model.to_networkx()
    assert set(back.edges) == set(graph.edges)
    assert sorted(back.nodes) == list(range(30))
    matrix = to_adjacency(graph)
    assert sparse.issparse(matrix)
    assert np.array_equal(matrix.toarray(), nx.to_numpy_array(graph, nodelist=range(30)))
    assert np.array_equal(dense(to_adjacency(matrix.toarray())), matrix.toarray())


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (np.zeros((3, 4)), ValueError, "square"),
        ("graph", TypeError, "networkx"),
        (nx.relabel_nodes(nx.path_graph(3), {0: "a"}), ValueError, "0..U-1"),
    ],
)
def test_bad_graphs_are_rejected(value, error, match):
    """Non-square matrices, other types and graphs with odd node names raise, named."""
    with pytest.raises(error, match=match):
        SocialFiltering(user_representation=value, num_items=12)


def test_pair_decoding_is_exact():
    """Pair indices decode to the row-major (i < j) pairs, also near float limits."""
    for n in (2, 3, 7, 30):
        pairs = list(itertools.combinations(range(n), 2))
        i, j = _pairs_to_edges(np.arange(len(pairs)), n)
        assert list(zip(i.tolist(), j.tolist(), strict=True)) == pairs
    n = 200_000
    k = np.random.default_rng(0).integers(0, n * (n - 1) // 2, size=100_000)
    k = np.concatenate([k, [0, n - 2, n - 1, n * (n - 1) // 2 - 1]])
    i, j = _pairs_to_edges(k, n)
    assert np.all((i >= 0) & (i < j) & (j < n))
    assert np.array_equal(i * n - i * (i + 1) // 2 + (j - i - 1), k)


def test_erdos_renyi_graph():
    """G(n, p): symmetric, empty diagonal, edge share near p, seeded."""
    g = erdos_renyi_graph(400, 0.05, seed=3)
    a = g.toarray()
    assert np.array_equal(a, a.T) and not a.diagonal().any()
    share = a[np.triu_indices(400, 1)].mean()
    assert share == pytest.approx(0.05, abs=0.005)
    assert (erdos_renyi_graph(400, 0.05, seed=3) != g).nnz == 0
    d = erdos_renyi_graph(300, 0.1, directed=True, seed=1).toarray()
    assert not d.diagonal().any() and not np.array_equal(d, d.T)
    assert d.sum() / (300 * 299) == pytest.approx(0.1, abs=0.01)
    with pytest.raises(ValueError, match="p:"):
        erdos_renyi_graph(10, 1.5)


def test_power_law_graph():
    """Out-degrees follow the power law: no repeats, no self-loops, heavy tail."""
    n = 20_000
    g = power_law_graph(n, exponent=2.3, seed=5)
    out_degree = np.asarray(g.sum(axis=0)).ravel()  # column v = the users v reaches
    assert g.max() == 1 and not g.diagonal().any()
    # P(d = 1) for exponent 2.3 on [1, n-1] is 1 / Σ d^-2.3 ≈ 0.698
    p_one = 1 / np.sum(np.arange(1, n, dtype=float) ** -2.3)
    assert np.mean(out_degree == 1) == pytest.approx(p_one, abs=4 * np.sqrt(p_one / n))
    assert out_degree.max() > 100
    with pytest.raises(ValueError, match="exponent"):
        power_law_graph(10, exponent=1.0)


# --- SocialFiltering ----------------------------------------------------------------------


def test_social_filtering_defaults_and_seeding():
    """Defaults 100 users × 1250 items, G(100, 0.3) graph from the seed, zero counts."""
    model = SocialFiltering(seed=12)
    assert (model.num_users, model.num_items) == (100, 1250)
    graph = dense(model.users_hat.value)
    assert graph.shape == (100, 100) and np.array_equal(graph, graph.T)
    assert not graph.diagonal().any()
    assert graph[np.triu_indices(100, 1)].mean() == pytest.approx(0.3, abs=0.03)
    expected = nx.to_numpy_array(nx.fast_gnp_random_graph(100, 0.3, seed=12))
    assert np.array_equal(graph, expected)  # T-RECS's graph for that seed
    assert (
        dense(model.items_hat.value).shape == (100, 1250) and not dense(model.items_hat.value).any()
    )
    assert not np.array_equal(dense(SocialFiltering(seed=13).users_hat.value), graph)
    small = SocialFiltering(num_users=5, num_items=10, seed=1234)
    assert (small.num_users, small.num_items) == (5, 10)


def test_social_filtering_representations_and_errors():
    """Representations are kept as given; inconsistent shapes raise ValueError."""
    items = np.random.default_rng(0).integers(0, 3, size=(6, 8))
    model = SocialFiltering(item_representation=items, num_items_per_iter=2)
    assert (model.num_users, model.num_items) == (6, 8)
    assert np.array_equal(model.items_hat.value, items)
    graph = (np.random.default_rng(1).random((6, 6)) < 0.5).astype(float)
    model = SocialFiltering(
        user_representation=graph, item_representation=items, num_items_per_iter=2
    )
    assert model.users_hat.value is graph
    with pytest.raises(ValueError):
        SocialFiltering(
            user_representation=np.ones((6, 6)),
            item_representation=np.ones((5, 8)),
            num_items_per_iter=2,
        )


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_social_filtering_recommends_what_friends_consumed(kind):
    """T-RECS: u follows u+1 (ring); after one step each user is offered u+1's item."""
    eye = np.eye(5)
    ring = np.roll(eye, 1, axis=1)
    make = sparse.csr_matrix if kind == "sparse" else np.asarray
    model = SocialFiltering(
        user_representation=make(ring),
        actual_user_representation=make(eye),
        actual_item_representation=make(eye),
        num_items_per_iter=5,
        seed=2,
        measurements=[MSEMeasurement()],
    )
    before = model.predicted_scores.value.copy()
    model.run(1, disable_tqdm=True)
    # each user chose its own item (true scores are the identity)
    assert np.array_equal(model.interactions, np.arange(5))
    assert not np.array_equal(model.predicted_scores.value, before)
    model.set_num_items_per_iter(1)
    assert np.array_equal(model.recommend(), [[1], [2], [3], [4], [0]])


def test_social_filtering_scores_on_a_hand_built_graph():
    """score[u, i] = Σ_v A[u, v]/||A[u]|| · counts[v, i], hand-computed."""
    graph = np.array([[0, 1, 1], [1, 0, 0], [0, 0, 0]], dtype=float)
    counts = np.array([[0, 0, 2, 0], [1, 0, 0, 0], [0, 3, 0, 0]], dtype=float)
    model = SocialFiltering(
        user_representation=graph, item_representation=counts, num_items_per_iter=2, seed=0
    )
    r = 1 / np.sqrt(2)
    expected = np.array([[r, 3 * r, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0]])
    assert np.allclose(model.predicted_scores.value, expected)


def test_social_filtering_counts_every_interaction():
    """items_hat gains one count per interacting user per step."""
    model = SocialFiltering(
        num_users=20, num_items=30, seed=5, measurements=[InteractionMeasurement()]
    )
    model.run(3, disable_tqdm=True)
    assert dense(model.items_hat.value).sum() == 60
    model.run(1, disable_tqdm=True)
    row_sums = dense(model.items_hat.value).sum(axis=1)
    assert np.array_equal(row_sums, np.full(20, 4))


def _rebuilt_scores(model):
    graph = dense(model.users_hat.value).astype(float)
    norms = np.linalg.norm(graph, axis=1, keepdims=True)
    weights = np.divide(graph, norms, out=np.zeros_like(graph), where=norms > 0)
    return weights @ dense(model.items_hat.value)


def test_social_filtering_scores_kept_up_to_date_equal_a_rebuild():
    """The running score matrix (updated per interaction) equals the product from scratch.

    Few items and a dense graph make many users pick the same item in a step (summed
    columns); a hand edit of the graph (``follow``) or of the counts forces a rebuild.
    """
    graph = (np.random.default_rng(1).random((30, 30)) < 0.4).astype(float)
    model = SocialFiltering(
        user_representation=graph,
        num_items=6,
        num_items_per_iter=3,
        seed=2,
        measurements=[InteractionMeasurement()],
    )
    for _ in range(8):
        model.run(1, disable_tqdm=True)
        assert np.allclose(model.predicted_scores.value, _rebuilt_scores(model))
        assert np.unique(model.interactions).size < model.num_users  # repeated items
    model.follow(0, 5)
    model.train()
    assert np.allclose(model.predicted_scores.value, _rebuilt_scores(model))
    model.items_hat.value[3, 4] += 7  # by hand, in place
    model.run(1, disable_tqdm=True)
    assert np.allclose(model.predicted_scores.value, _rebuilt_scores(model))
    frozen = model.predicted_scores.value.copy()
    model.run(2, train_between_steps=False, disable_tqdm=True)  # scores wait for train()
    assert np.array_equal(model.predicted_scores.value, frozen)
    model.train()
    assert np.allclose(model.predicted_scores.value, _rebuilt_scores(model))


def test_social_filtering_creator_items():
    """T-RECS: 50 creators make 50 items in a step: true items (10,150), items_hat (100,150)."""
    creators = Creators(size=(50, 10), creation_probability=1.0, seed=1)
    model = SocialFiltering(
        num_users=100,
        num_items=100,
        actual_user_representation=Users(size=(100, 10), seed=2),
        actual_item_representation=np.random.default_rng(3).random((10, 100)),
        creators=creators,
        seed=4,
        measurements=[MSEMeasurement()],
    )
    model.run(1, disable_tqdm=True)
    assert model.items.value.shape == (10, 150)
    assert model.items_hat.value.shape == (100, 150)
    assert model.users.actual_user_scores.value.shape == (100, 150)


def test_social_filtering_new_users():
    """T-RECS: 5 users of a 10-ring, one step, add 5 with the full ring: counts carry over."""
    ring = np.roll(np.eye(10), 1, axis=1)
    model = SocialFiltering(
        user_representation=ring[:5, :5].copy(),
        num_items=20,
        actual_user_representation=np.random.default_rng(0).normal(size=(5, 5)),
        seed=3,
        measurements=[MSEMeasurement()],
    )
    model.run(1, disable_tqdm=True)
    with pytest.raises(RuntimeError, match="social_graph"):
        model.add_users(np.ones((5, 5)))
    model.add_users(np.random.default_rng(1).normal(size=(5, 5)), social_graph=ring)
    assert model.num_users == model.users.num_users == model.users_hat.shape[0] == 10
    assert np.array_equal(dense(model.users_hat.value), ring)
    assert dense(model.items_hat.value).sum() == 5
    assert model.predicted_scores.value.shape == (10, 20)
    model.run(1, disable_tqdm=True)
    assert dense(model.items_hat.value).sum() == 15


# --- BassModel --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_bass_infections_match_trecs(kind):
    """T-RECS: 0 infects 1, 1 infects 2, and the caller's state array follows."""
    graph = np.zeros((5, 5))
    graph[1, 0] = graph[0, 1] = graph[2, 1] = 1
    if kind == "sparse":
        graph = sparse.csr_matrix(graph)
    state = np.zeros((5, 1))
    state[0, 0] = 1
    model = BassModel(
        user_representation=graph,
        item_representation=np.array([[0.9999]]),
        infection_state=state,
        seed=1234,
    )
    model.run(1, disable_tqdm=True)
    assert np.array_equal(state.ravel(), [-1, 1, 0, 0, 0])
    model.run(1, disable_tqdm=True)
    assert np.array_equal(state.ravel(), [-1, -1, 1, 0, 0])
    model.run()
    assert np.array_equal(state.ravel(), [-1, -1, -1, 0, 0])
    assert model.running is False
    assert sparse.issparse(model.users_hat.value) == (kind == "sparse")
    assert set(model.diffusion_tree.edges) == {(0, 1), (1, 2)}
    assert model.get_structural_virality() == pytest.approx(4 / 3)
    assert model.get_measurements()["num_infected"] == [1, 2, 3, 3]


def test_bass_defaults():
    """Defaults: 100 users, 1 item, one infected user, thresholds in [0, 1], seeded."""
    model = BassModel(seed=7)
    assert (model.num_users, model.num_items) == (100, 1)
    assert model.infection_state.num_infected == 1
    assert model.infection_thresholds.value.shape == (1, 100)
    assert model.num_items_per_iter == 1
    again = BassModel(seed=7)
    assert (again.users_hat.value != model.users_hat.value).nnz == 0
    assert np.array_equal(again.infection_state.value, model.infection_state.value)
    assert (BassModel(seed=8).users_hat.value != model.users_hat.value).nnz > 0
    with pytest.raises(ValueError, match="square"):
        BassModel(user_representation=np.ones((3, 4)))
    with pytest.raises(TypeError, match="infection_state"):
        BassModel(infection_state=np.zeros(5))
    with pytest.raises(ValueError, match="infection_thresholds"):
        BassModel(num_users=3, infection_thresholds=np.array([[0.1, 2.0, 0.3]]))
    with pytest.raises(ValueError, match="infection_rule"):
        BassModel(infection_rule="sometimes")


def _path_and_star():
    path = np.zeros((5, 5))
    for u in range(4):  # u + 1 can be infected by u
        path[u + 1, u] = 1
    star = np.zeros((5, 5))
    star[1:, 0] = 1  # everyone can be infected by the hub 0
    return {
        "path": (path, {(0, 1), (1, 2), (2, 3), (3, 4)}),
        "star": (star, {(0, 1), (0, 2), (0, 3), (0, 4)}),
    }


@pytest.mark.parametrize("shape", ["path", "star"])
def test_threshold_rule_gives_the_exact_tree(shape):
    """Threshold 0: every exposed user is infected, so the tree is the graph's; 1: nobody."""
    graph, edges = _path_and_star()[shape]
    state = np.zeros((5, 1))
    state[0, 0] = 1
    model = BassModel(
        user_representation=graph,
        item_representation=np.array([[0.3]]),
        infection_state=state,
        infection_thresholds=np.zeros((1, 5)),
        infection_rule="threshold",
        seed=1,
    )
    model.run()
    assert set(model.diffusion_tree.edges) == edges
    expected = nx.average_shortest_path_length(nx.Graph(list(edges)))
    assert model.get_structural_virality() == pytest.approx(expected)
    assert structural_virality(model.diffusion_tree) == pytest.approx(expected)
    assert model.steps == (5 if shape == "path" else 2)

    state = np.zeros((5, 1))
    state[0, 0] = 1
    blocked = BassModel(
        user_representation=graph,
        item_representation=np.array([[0.99]]),
        infection_state=state,
        infection_thresholds=np.ones((1, 5)),
        infection_rule="threshold",
        seed=1,
    )
    blocked.run()
    assert set(blocked.diffusion_tree.nodes) == {0} and blocked.steps == 1


def test_per_user_thresholds_set_on_agents_are_honoured():
    """On the path, raising user 2's threshold (on its agent) stops the cascade at 1."""
    graph, _ = _path_and_star()["path"]
    state = np.zeros((5, 1))
    state[0, 0] = 1
    model = BassModel(
        user_representation=graph,
        item_representation=np.array([[0.5]]),
        infection_state=state,
        infection_thresholds=np.zeros((1, 5)),
        infection_rule="threshold",
        seed=1,
    )
    agent = next(a for a in model.agents_by_type[BassUserAgent] if a.index == 2)
    agent.infection_threshold = 0.6
    assert model.infection_thresholds.value[0, 2] == 0.6
    model.run()
    assert set(model.diffusion_tree.edges) == {(0, 1)}
    assert agent.infection_state.tolist() == [0]
    with pytest.raises(ValueError, match="infection_threshold"):
        agent.infection_threshold = 1.5


def test_probabilistic_cascade_share_matches_the_probability():
    """On a star, each leaf catches the item with probability p (binomial band)."""
    n = 2001
    star = sparse.csr_matrix((np.ones(n - 1), (np.arange(1, n), np.zeros(n - 1, int))), (n, n))
    state = np.zeros((n, 1))
    state[0, 0] = 1
    model = BassModel(
        user_representation=star,
        item_representation=np.array([[0.3]]),
        infection_state=state,
        seed=11,
    )
    model.run()
    infected = model.diffusion_tree.number_of_nodes() - 1
    assert abs(infected - 600) < 4 * np.sqrt(2000 * 0.3 * 0.7)
    assert all(parent == 0 for parent, _ in model.diffusion_tree.edges)


def test_bass_runs_to_extinction_under_batch_run():
    """batch_run stops each run when the cascade dies (running turns False)."""
    results = mesa.batch_run(
        BassModel,
        parameters={"num_users": [60]},
        rng=[1, 2],
        max_steps=500,
        number_processes=1,
        display_progress=False,
    )
    assert len({r["seed"] for r in results}) == 2
    for seed in (1, 2):
        rows = [r for r in results if r["seed"] == seed]
        assert max(r["Step"] for r in rows) < 500
