"""SchellingModel: the seed's three matrices, happiness, moves on the grid, replication targets."""

import mesa
import numpy as np
import pytest
from mesa.discrete_space import CellAgent

from mesa_recsys.agents import UserAgent
from mesa_recsys.models import BaseRecommender
from mesa_recsys.schelling import (
    Resident,
    SameGroup,
    SchellingModel,
    neighbourhood,
    neighbourhood_shares,
)

# A 4 (width) × 3 (height) grid, layout[x, y]: the group on each cell, -1 = free.
#   x=0: (0,0) g0, (0,1) free, (0,2) g1
#   x=1: (1,0) g0, (1,1) g0,   (1,2) free
#   x=2: (2,0) free, (2,1) g1, (2,2) g1
#   x=3: (3,0) g1, (3,1) free, (3,2) g0
LAYOUT = np.array([[0, -1, 1], [0, 0, -1], [-1, 1, 1], [1, -1, 0]])
# Residents are numbered in flat cell order x * height + y.
CELLS = [0, 2, 3, 4, 7, 8, 9, 11]
GROUPS = [0, 1, 0, 0, 1, 1, 1, 0]
BOUNDED_NEIGHBOURS = {
    0: {2, 3},
    1: {3},
    2: {0, 3, 4},
    3: {0, 1, 2, 4, 5},
    4: {2, 3, 5, 6, 7},
    5: {3, 4, 7},
    6: {4},
    7: {4, 5},
}
# On the torus, the height of 3 puts every row within reach; x wraps 3 <-> 0.
TORUS_NEIGHBOURS = {
    0: {1, 2, 3, 6, 7},
    1: {0, 2, 3, 6, 7},
    2: {0, 1, 3, 4, 5},
    3: {0, 1, 2, 4, 5},
    4: {2, 3, 5, 6, 7},
    5: {2, 3, 4, 6, 7},
    6: {0, 1, 4, 5, 7},
    7: {0, 1, 4, 5, 6},
}


def _dense(neighbours, n=8):
    a = np.zeros((n, n), dtype=int)
    for u, vs in neighbours.items():
        a[u, list(vs)] = 1
    return a


def _small(torus=False, **kwargs):
    kwargs.setdefault("homophily", 0.5)
    return SchellingModel.from_layout(LAYOUT, torus=torus, seed=0, **kwargs)


def _mesa_adjacency(model):
    """Adjacency read from Mesa's own cell neighbourhoods (an independent oracle)."""
    a = np.zeros((model.num_users, model.num_users), dtype=int)
    for resident in model.residents:
        hood = resident.cell.get_neighborhood(radius=model.radius)
        for other in hood.agents:
            if other is not resident:
                a[resident.index, other.index] = 1
    return a


def _assert_grid_in_sync(model):
    occupant = model.resident_layer.data
    flat = model.map_matrix.ravel()
    assert np.array_equal(flat, occupant.ravel())
    seen = set()
    for cell in model.grid.all_cells:
        agents = cell.agents
        x, y = cell.coordinate
        assert len(agents) <= 1
        expected = agents[0].index if agents else -1
        assert occupant[x, y] == expected
        assert bool(model.grid.empty.data[x, y]) == (not agents)
        seen.update(a.index for a in agents)
    assert seen == set(range(model.num_users))  # everybody on exactly one cell
    for resident in model.residents:
        x, y = resident.cell.coordinate
        assert model.cell_of_resident[resident.index] == x * model.height + y


# --- the seed's three inputs, on a hand-built grid ----------------------------------------------


def test_residents_are_users_and_cell_agents_on_the_grid():
    model = _small()
    assert isinstance(model, BaseRecommender)
    assert isinstance(model.grid, mesa.discrete_space.OrthogonalMooreGrid)
    assert model.num_users == 8 and model.num_items == 12
    assert len(model.users) == 8 and len(model.items) == 0  # the cells are the items
    for r in model.users:
        assert isinstance(r, Resident) and isinstance(r, UserAgent) and isinstance(r, CellAgent)
        assert r.cell.agents == [r]
        assert r.group == r.type == GROUPS[r.index]
    assert [r.cell.coordinate for r in model.residents] == [divmod(c, 3) for c in CELLS]
    _assert_grid_in_sync(model)


def test_map_matrix_flattens_row_major_over_width_height():
    model = _small()
    expected = np.full(12, -1)
    expected[CELLS] = np.arange(8)
    assert model.map_matrix.shape == (12, 1)
    assert np.array_equal(model.map_matrix[:, 0], expected)
    assert model.cell_at(7).coordinate == (2, 1)
    assert np.array_equal(model.free_cells, [1, 5, 6, 10])
    with pytest.raises(ValueError):
        model.map_matrix[0, 0] = 5  # a read-only view of the grid


def test_adjacency_bounded_grid_hand_checked():
    adj = _small(torus=False).adjacency_matrix
    assert adj.shape == (8, 8)
    assert np.array_equal(adj.toarray(), _dense(BOUNDED_NEIGHBOURS))
    assert adj.nnz == 22  # 11 neighbour pairs, both directions


def test_adjacency_torus_hand_checked_and_differs_at_the_edges():
    bounded = _small(torus=False).adjacency_matrix.toarray()
    torus = _small(torus=True).adjacency_matrix.toarray()
    assert np.array_equal(torus, _dense(TORUS_NEIGHBOURS))
    assert np.array_equal(torus, torus.T) and not torus.diagonal().any()
    # (0,0) and (3,0) are neighbours only when x wraps; (0,0) and (0,2) only when y wraps
    assert bounded[0, 6] == 0 and torus[0, 6] == 1
    assert bounded[0, 1] == 0 and torus[0, 1] == 1
    # away from the edges nothing changes: (1,1)'s neighbours are the same
    assert np.array_equal(bounded[3], torus[3])


def test_type_matrix_without_dense_storage():
    model = _small()
    t = model.type_matrix
    assert isinstance(t, SameGroup) and t.shape == (8, 8)
    dense = (np.array(GROUPS)[:, None] == np.array(GROUPS)[None, :]).astype(np.int8)
    assert np.array_equal(t.toarray(), dense)
    assert t[0, 2] == 1 and t[0, 1] == 0
    assert np.array_equal(t[3], dense[3])
    assert np.array_equal(t[[0, 1], [2, 4]], [1, 1])
    assert np.array_equal(t[1:4, 2:], dense[1:4, 2:])
    x = np.arange(8.0)
    assert np.allclose(t @ x, dense @ x)
    assert np.allclose(t.aslinearoperator().matvec(x), dense @ x)
    assert t.nnz == int(dense.sum())
    big = SameGroup(np.zeros(200_000, dtype=np.int64), 2)  # 4·10^10 entries, never built
    assert big[5, 199_999] == 1 and big.nnz == 200_000**2


@pytest.mark.parametrize("torus", [False, True])
def test_happiness_from_adjacency_and_types_hand_checked(torus):
    model = _small(torus=torus, homophily=0.5)
    same, occupied = model.neighbour_tallies()
    if torus:
        assert np.array_equal(same, [3, 1, 2, 2, 2, 2, 3, 1])
        assert np.array_equal(occupied, [5] * 8)
    else:
        assert np.array_equal(same, [2, 0, 2, 2, 2, 1, 1, 0])
        assert np.array_equal(occupied, [2, 1, 3, 5, 5, 3, 1, 2])
    # the same numbers from the seed's matrices
    adj = model.adjacency_matrix.toarray()
    types = model.type_matrix.toarray()
    assert np.array_equal(same, (adj * types).sum(axis=1))
    assert np.array_equal(occupied, adj.sum(axis=1))
    expected_happy = same / occupied >= 0.5
    assert np.array_equal(model.is_happy, expected_happy)
    assert [r.happy for r in model.residents] == list(expected_happy)
    assert model.happy == int(expected_happy.sum())
    row = model.datacollector.get_model_vars_dataframe().iloc[0]
    assert row["segregation"] == pytest.approx(same.sum() / occupied.sum())
    assert row["happy"] == expected_happy.sum()
    assert row["share_happy"] == pytest.approx(expected_happy.mean())
    assert row["pct_happy"] == pytest.approx(100 * expected_happy.mean())
    groups = np.array(GROUPS)
    for g in (0, 1):
        assert row[f"happy_group_{g}"] == pytest.approx(expected_happy[groups == g].mean())


def test_bounded_segregation_value():
    model = _small(torus=False)
    row = model.datacollector.get_model_vars_dataframe().iloc[0]
    assert row["segregation"] == pytest.approx(10 / 22)
    assert row["moves"] == 0


def test_lonely_resident_is_unhappy_unless_homophily_is_zero():
    layout = np.full((3, 3), -1)
    layout[1, 1] = 0
    model = SchellingModel.from_layout(layout, homophily=0.3, seed=1)
    assert model.similar_share[0] == 0 and not model.is_happy[0]
    assert model.running
    assert SchellingModel.from_layout(layout, homophily=0.0, seed=1).is_happy[0]


@pytest.mark.parametrize("torus", [False, True])
@pytest.mark.parametrize("radius", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1, 5), (2, 3), (5, 4), (7, 6)])
def test_neighbourhoods_match_mesas_own_grid(torus, radius, shape):
    layout = np.random.default_rng(sum(shape) + radius).integers(-1, 3, size=shape)
    layout[0, 0] = 0
    model = SchellingModel.from_layout(layout, radius=radius, torus=torus, seed=0)
    assert np.array_equal(model.adjacency_matrix.toarray(), _mesa_adjacency(model))
    adj = model.adjacency_matrix.toarray()
    same, occupied = model.neighbour_tallies()
    assert np.array_equal(same, (adj * model.type_matrix.toarray()).sum(axis=1))
    assert np.array_equal(occupied, adj.sum(axis=1))


def _brute_window_sum(a, r, torus):
    _, w, h = a.shape
    out = np.zeros(a.shape, dtype=np.int64)
    for x in range(w):
        for y in range(h):
            if torus:
                xs = {(x + d) % w for d in range(-r, r + 1)}
                ys = {(y + d) % h for d in range(-r, r + 1)}
            else:
                xs = {x + d for d in range(-r, r + 1) if 0 <= x + d < w}
                ys = {y + d for d in range(-r, r + 1) if 0 <= y + d < h}
            out[:, x, y] = sum(a[:, i, j] for i in xs for j in ys)
    return out


@pytest.mark.parametrize("torus", [False, True])
def test_window_sum_matches_brute_force(torus):
    rng = np.random.default_rng(0)
    for w in (1, 2, 3, 5, 8):
        for h in (1, 2, 4, 7):
            for r in (1, 2, 3, 5):
                a = rng.integers(0, 3, size=(2, w, h)).astype(np.int32)
                got = neighbourhood.window_sum(a, r, torus)
                assert np.array_equal(got, _brute_window_sum(a, r, torus)), (w, h, r)


def test_neighbourhood_shares_of_free_cells():
    model = _small(torus=False)
    shares = neighbourhood_shares(model, model.free_cells)
    # free cell (0,1) touches (0,0) g0, (0,2) g1, (1,0) g0, (1,1) g0, (1,2) free
    assert shares[:, 0] == pytest.approx([3 / 4, 1 / 4])
    # free cell (3,1) touches (2,0) free, (2,1) g1, (2,2) g1, (3,0) g1, (3,2) g0
    assert shares[:, 3] == pytest.approx([1 / 4, 3 / 4])


# --- steps ---------------------------------------------------------------------------------------


def test_step_moves_unhappy_residents_to_free_cells_and_keeps_the_grid_in_sync():
    model = SchellingModel(width=30, height=30, density=0.85, homophily=0.5, seed=3)
    for _ in range(6):
        before_free = set(model.free_cells.tolist())
        unhappy = set(np.flatnonzero(~model.is_happy).tolist())
        before = model.cell_of_resident.copy()
        steps = model.steps
        model.step()
        assert model.steps == steps + 1
        moved = np.flatnonzero(model.interactions >= 0)
        targets = model.interactions[moved]
        assert set(moved.tolist()) <= unhappy  # only the unhappy move
        assert set(targets.tolist()) <= before_free  # only to cells free at the start
        assert np.unique(targets).size == targets.size  # never two on one cell
        assert np.array_equal(model.cell_of_resident[moved], targets)
        stayed = np.setdiff1d(np.arange(model.num_users), moved)
        assert np.array_equal(model.cell_of_resident[stayed], before[stayed])
        assert model.moves == moved.size
        shown = model.items_shown[moved]
        assert all(t in row for t, row in zip(targets, shown))  # each took an offered cell
        _assert_grid_in_sync(model)


def test_random_policy_serves_every_mover_while_free_cells_last():
    model = SchellingModel(width=30, height=30, density=0.7, homophily=0.6, seed=4)
    movers = int((~model.is_happy).sum())
    free = model.free_cells.size
    model.step()
    # random serial dictatorship with 10 offers each: nearly everyone who can move does
    assert model.moves <= min(movers, free)
    assert model.moves >= 0.85 * min(movers, free)  # ~0.94 expected when movers = free cells


def test_clock_and_datacollector():
    model = SchellingModel(seed=5)
    model.run_for(3)
    df = model.datacollector.get_model_vars_dataframe()
    assert model.steps == 3 and len(df) == 4  # t=0 and one row per step
    assert list(df.columns) == [
        "num_items",
        "happy",
        "pct_happy",
        "share_happy",
        "segregation",
        "moves",
        "happy_group_0",
        "happy_group_1",
    ]
    assert df["moves"].iloc[0] == 0 and (df["moves"].iloc[1:] > 0).all()
    model.run(timesteps=2, disable_tqdm=True)  # T-RECS style: exactly that many steps
    assert model.steps == 5 and len(model.datacollector.get_model_vars_dataframe()) == 6


def test_manual_move_updates_layer_and_happiness():
    model = _small(torus=False, homophily=0.5)
    lonely = model.residents[1]  # (0,2) g1, unhappy
    assert not lonely.happy
    target = model.cell_at(10)  # (3,1): three g1 neighbours of four
    lonely.move_to(target)
    assert model.map_matrix[10, 0] == 1 and model.map_matrix[2, 0] == -1
    assert lonely.happy and lonely.similar_share == pytest.approx(3 / 4)
    _assert_grid_in_sync(model)
    with pytest.raises(Exception, match="full"):
        lonely.move_to(model.cell_at(0))  # occupied: Mesa's capacity check
    _assert_grid_in_sync(model)


def test_a_resident_taken_off_the_grid_is_reported():
    model = _small()
    model.residents[2].remove()
    assert model.map_matrix[3, 0] == -1  # its cell is free again
    with pytest.raises(RuntimeError, match=r"\[2\] are not on the grid"):
        model.step()


def test_same_seed_same_run_and_other_seed_other_run():
    def trajectory(seed, policy="random"):
        m = SchellingModel(width=25, height=25, homophily=0.5, policy=policy, seed=seed)
        m.run_for(5)
        return m.map_matrix.copy(), m.datacollector.get_model_vars_dataframe()

    for policy in ("random", "similar"):
        a_map, a_df = trajectory(11, policy)
        b_map, b_df = trajectory(11, policy)
        assert np.array_equal(a_map, b_map) and a_df.equals(b_df)
        c_map, _ = trajectory(12, policy)
        assert not np.array_equal(a_map, c_map)
    gen = SchellingModel(rng=np.random.default_rng(11), width=25, height=25, homophily=0.5)
    gen.run_for(5)
    assert np.array_equal(gen.map_matrix, trajectory(11)[0])


def test_running_turns_false():
    assert not SchellingModel(homophily=0.0, seed=1).running  # all happy from the start
    full = SchellingModel(density=1.0, homophily=1.0, seed=1)
    assert full.free_cells.size == 0 and not full.running  # nobody can move
    full.step()
    assert full.moves == 0 and not full.running
    model = SchellingModel(seed=2)
    model.run_model()  # Mesa's loop: stops on running=False
    assert not model.running and model.is_happy.all() and model.steps < 100


def test_similar_policy_offers_the_most_similar_free_cells():
    model = SchellingModel(
        width=30, height=30, density=0.8, homophily=0.5, policy="similar", seed=7
    )
    free = model.free_cells
    shares = neighbourhood_shares(model, free)  # at the start of the step, as the policy sees it
    movers = np.flatnonzero(~model.is_happy)
    model.step()
    score = {g: dict(zip(free.tolist(), shares[g].tolist())) for g in (0, 1)}
    for u in movers:
        g = int(model.group[u])
        offered = model.items_shown[u]
        values = [score[g][int(c)] for c in offered]
        assert values == sorted(values, reverse=True)  # best first
        others = [v for c, v in score[g].items() if c not in set(offered.tolist())]
        assert max(others) <= values[-1]  # no cell left out beats one offered


def test_callable_policy_and_its_errors():
    def leftmost(model, residents, free_cells):
        x = free_cells // model.height
        return np.broadcast_to(-x.astype(float), (residents.size, free_cells.size))

    model = SchellingModel(width=20, height=20, homophily=0.6, policy=leftmost, seed=8)
    free_x = model.free_cells // model.height
    model.step()
    moved = np.flatnonzero(model.interactions >= 0)
    first = model.items_shown[moved, 0] // model.height
    assert (first <= np.sort(free_x)[9]).all()  # everyone is offered the leftmost cells first

    def wrong_shape(model, residents, free_cells):
        return np.zeros((residents.size, 3))

    bad = SchellingModel(width=20, height=20, homophily=0.6, policy=wrong_shape, seed=8)
    with pytest.raises(ValueError, match="policy"):
        bad.step()


def test_user_agent_class_with_its_own_choice():
    class LastOffered(Resident):
        def choose(self, items_shown):
            return int(items_shown[-1]) if len(items_shown) else None

    model = SchellingModel(width=20, height=20, homophily=0.5, user_agent_class=LastOffered, seed=9)
    assert all(isinstance(r, LastOffered) for r in model.users)
    model.step()
    moved = np.flatnonzero(model.interactions >= 0)
    assert moved.size > 0
    _assert_grid_in_sync(model)

    class Stubborn(Resident):
        def choose(self, items_shown):
            return None

    still = SchellingModel(width=20, height=20, homophily=0.5, user_agent_class=Stubborn, seed=9)
    still.step()
    assert still.moves == 0 and not still.running

    class Cheat(Resident):
        def choose(self, items_shown):
            return int(self.model.cell_of_resident[self.index])  # its own, occupied cell

    cheat = SchellingModel(width=20, height=20, homophily=0.5, user_agent_class=Cheat, seed=9)
    with pytest.raises(ValueError, match="choose"):
        cheat.step()

    with pytest.raises(TypeError, match="user_agent_class"):
        SchellingModel(user_agent_class=UserAgent)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"density": 0.0}, ValueError, "density"),
        ({"density": 1.5}, ValueError, "density"),
        ({"density": "x"}, TypeError, "density"),
        ({"homophily": -0.1}, ValueError, "homophily"),
        ({"homophily": 1.2}, ValueError, "homophily"),
        ({"group_shares": [0.5, 0.6]}, ValueError, "group_shares"),
        ({"group_shares": [1.0]}, ValueError, "group_shares"),
        ({"group_shares": [0.5, 0.5], "minority_pc": 0.3}, ValueError, "minority_pc"),
        ({"minority_pc": 2}, ValueError, "minority_pc"),
        ({"radius": 0}, ValueError, "radius"),
        ({"radius": 1.5}, TypeError, "radius"),
        ({"width": 0}, ValueError, "width"),
        ({"height": -3}, ValueError, "height"),
        ({"policy": "nearest"}, ValueError, "policy"),
        ({"policy": 3}, TypeError, "policy"),
        ({"torus": "yes"}, TypeError, "torus"),
        ({"num_items_per_iter": 0}, ValueError, "num_items_per_iter"),
        ({"num_items_per_iter": 500}, ValueError, "num_items_per_iter"),
        ({"seed": 1, "rng": 1}, ValueError, "seed"),
        ({"layout": np.full((3, 3), -1)}, ValueError, "density"),
        ({"layout": np.zeros((3, 3)) + 0.5}, TypeError, "layout"),
        ({"layout": np.array([[0, -2]])}, ValueError, "layout"),
        ({"layout": np.zeros((3, 4), dtype=int), "width": 4}, ValueError, "width"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name):
    with pytest.raises(error, match=name):
        SchellingModel(**kwargs)


def test_group_shares_three_groups():
    model = SchellingModel(width=40, height=40, group_shares=[0.5, 0.3, 0.2], seed=2)
    counts = np.bincount(model.group, minlength=3) / model.num_users
    assert counts == pytest.approx([0.5, 0.3, 0.2], abs=0.05)
    df = model.datacollector.get_model_vars_dataframe()
    assert {"happy_group_0", "happy_group_1", "happy_group_2"} <= set(df.columns)
    model.run_for(3)
    _assert_grid_in_sync(model)


def test_batch_run_sweeps_homophily():
    rows = mesa.batch_run(
        SchellingModel,
        parameters={"homophily": [0.2, 0.5], "width": 15, "height": 15},
        rng=[1, 2],
        max_steps=30,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 4
    assert all(0 <= r["segregation"] <= 1 for r in rows)
    assert {r["homophily"] for r in rows} == {0.2, 0.5}


# --- replication targets (replication-targets.md §2) --------------------------------------------


def _run(seed, max_steps=200, **kwargs):
    model = SchellingModel(seed=seed, **kwargs)
    while model.running and model.steps < max_steps:
        model.step()
    return model.datacollector.get_model_vars_dataframe()


def _mesa_example_segregation(seed, max_steps=200):
    """End segregation of Mesa's own Schelling example (its defaults), measured on its grid."""
    from mesa.examples.basic.schelling.model import Schelling, SchellingScenario

    model = Schelling(scenario=SchellingScenario(rng=seed))
    while model.running and model.steps < max_steps:
        model.step()
    same = total = 0
    for agent in model.agents:
        for other in agent.cell.get_neighborhood(radius=1).agents:
            total += 1
            same += other.type == agent.type
    return same / total


def test_replication_random_policy_50x50():
    kwargs = {"width": 50, "height": 50, "density": 0.9, "minority_pc": 0.5, "homophily": 0.3}
    starts, ends, steps = [], [], []
    for seed in range(5):
        df = _run(seed, **kwargs)
        starts.append(df["segregation"].iloc[0])
        ends.append(df["segregation"].iloc[-1])
        steps.append(len(df) - 1)
        assert df["share_happy"].iloc[-1] == 1.0
    assert all(abs(s - 0.5) <= 0.02 for s in starts)
    assert abs(np.mean(starts) - 0.5) <= 0.01
    assert 0.72 <= np.mean(ends) <= 0.78, ends
    assert all(0.70 <= e <= 0.80 for e in ends), ends


def test_replication_mesa_example_defaults():
    ends = [_run(seed)["segregation"].iloc[-1] for seed in range(20)]
    assert np.mean(ends) == pytest.approx(0.82, abs=0.03), np.mean(ends)
    mesa_ends = [_mesa_example_segregation(seed) for seed in range(20)]
    assert np.mean(ends) == pytest.approx(np.mean(mesa_ends), abs=0.03), np.mean(mesa_ends)


def test_similar_policy_segregates_more_than_random():
    kwargs = {"width": 40, "height": 40, "density": 0.85, "homophily": 0.4}
    random_end, similar_end = [], []
    for seed in range(4):
        random_end.append(_run(seed, policy="random", **kwargs)["segregation"].iloc[-1])
        similar_end.append(_run(seed, policy="similar", **kwargs)["segregation"].iloc[-1])
    assert all(s > r for s, r in zip(similar_end, random_end)), (similar_end, random_end)
    assert np.mean(similar_end) > np.mean(random_end) + 0.03


def test_example_script_runs_and_saves_the_sweep_plot(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "sweep.png"
    args = ["--seeds", "1", "--max-steps", "15", "--processes", "1", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "examples/schelling.py", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "End segregation by homophily" in proc.stdout
    assert out.stat().st_size > 10_000
