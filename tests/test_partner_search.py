"""The pruned partner search (mesa_recsys.metrics._search) gives the dense scan's partners.

:class:`PartnerIndex` uses the search for non-negative sparse profiles and the dense scan
otherwise; both must give the same fields, the same lowest partners and the same random
draws from the same generator.
"""

import numpy as np
import pytest
from scipy import sparse

import mesa_recsys.metrics._search as search
import mesa_recsys.metrics.neighbours as neighbours
from mesa_recsys.metrics.neighbours import PartnerIndex
from mesa_recsys.models import ContentFiltering

FIELDS = (
    "group",
    "sizes",
    "members",
    "start",
    "position",
    "first",
    "unit",
    "low_other",
    "self_tied",
    "many",
    "indptr",
    "tied",
)


def _build(profiles, users, monkeypatch, fast, parallel_rows=1):
    """A PartnerIndex by the search (fast) or the dense scan, whatever the size.

    The search runs on every thread from ``parallel_rows`` groups (1: always).
    """
    with monkeypatch.context() as patch:
        patch.setattr(neighbours, "SEARCH_MIN_GROUPS", 0)
        patch.setattr(neighbours, "SEARCH_NONZEROS", np.inf if fast else -1.0)
        patch.setattr(search, "PARALLEL_ROWS", parallel_rows)
        index = PartnerIndex(profiles, users)
        assert (neighbours._search_lists(index.unit) is not None) == fast
    return index


def _dense(index, field):
    value = getattr(index, field)
    return value.toarray() if sparse.issparse(value) else value


def assert_same(profiles, monkeypatch, users=None, draws=3):
    """The search's index equals the dense scan's; returns the search's."""
    fast = _build(profiles, users, monkeypatch, True)
    dense = _build(profiles, users, monkeypatch, False)
    for field in FIELDS:
        np.testing.assert_array_equal(_dense(fast, field), _dense(dense, field), err_msg=field)
    np.testing.assert_array_equal(fast.lowest(), dense.lowest())
    for seed in range(draws):
        np.testing.assert_array_equal(
            fast.draw(np.random.default_rng(seed)), dense.draw(np.random.default_rng(seed))
        )
    return fast


def settled(index):
    """Share of the groups the search settles itself (the rest go to the dense scan)."""
    lists = search.build_lists(*search.nonnegative_csr(index.unit), index.unit.shape[1])
    groups = np.arange(index.sizes.size)
    out = search.search_ties(
        lists, groups, index.sizes == 1, index.first, neighbours.TIE_TOLERANCE, 0, 64
    )
    return 1.0 - out[3].mean()


def sparse_profiles(rng, num_users, num_attrs, density, pool=None):
    """Non-negative profiles with the given share of non-zeros; rows drawn from a smaller
    pool (repeated profiles, some scaled) when ``pool`` is given."""
    rows = pool if pool is not None else num_users
    values = rng.random((rows, num_attrs)) * (rng.random((rows, num_attrs)) < density)
    if pool is None:
        return values
    profiles = values[rng.integers(0, pool, num_users)]
    return profiles * rng.choice([1.0, 1.0, 2.0, 3.0, 0.1], size=(num_users, 1))


def nnls_like(rng, num_users, num_attrs, pool):
    """Profiles like non-negative least squares estimates: few non-zeros, near neighbours."""
    centres = sparse_profiles(rng, pool, num_attrs, 3.5 / num_attrs)
    profiles = centres[rng.integers(0, pool, num_users)]
    noise = rng.random(profiles.shape) * 0.05 * (profiles > 0)
    jitter = rng.random(num_users) < 0.7
    profiles[jitter] += noise[jitter]
    return profiles


@pytest.mark.parametrize("many_ties", [64, 2])
@pytest.mark.parametrize(
    ("num_users", "num_attrs", "density", "pool"),
    [
        (300, 5, 0.3, None),
        (400, 20, 0.15, None),
        (600, 20, 0.2, 150),
        (500, 60, 0.05, None),
        (800, 12, 0.25, 40),
    ],
)
def test_random_sparse_profiles(num_users, num_attrs, density, pool, many_ties, monkeypatch):
    monkeypatch.setattr(neighbours, "MANY_TIES", many_ties)  # 2: ties overflow the search
    rng = np.random.default_rng(num_users + num_attrs)
    profiles = sparse_profiles(rng, num_users, num_attrs, density, pool)
    assert_same(profiles, monkeypatch)


@pytest.mark.parametrize("seed", range(4))
def test_near_neighbours(seed, monkeypatch):
    """Profiles with close neighbours (the search's case): it settles most of them."""
    rng = np.random.default_rng(seed)
    index = assert_same(nnls_like(rng, 1500, 20, 400), monkeypatch)
    assert settled(index) > 0.9


def test_zero_rows_and_rows_sharing_no_attribute(monkeypatch):
    rng = np.random.default_rng(5)
    profiles = np.zeros((400, 30))
    profiles[:, :20] = nnls_like(rng, 400, 20, 100)
    profiles[10:14] = 0.0  # zero rows: similarity 0 with everyone
    for row, attr in zip(range(20, 30), range(20, 30), strict=True):
        profiles[row] = 0.0
        profiles[row, attr] = 1.0 + row  # the only row holding this attribute
    profiles[40, :] = 0.0
    profiles[40, [28, 29]] = [1.0, 2.0]  # shares attributes only with rows 28 and 29
    index = assert_same(profiles, monkeypatch)
    assert index.many[index.group[20]] and index.many[index.group[10]]
    assert not index.many[index.group[40]]
    for many_ties in (1000, 0):  # all ties stored; none stored
        monkeypatch.setattr(neighbours, "MANY_TIES", many_ties)
        assert_same(profiles, monkeypatch)


def test_exact_ties(monkeypatch):
    """Different profiles equally similar to a third, in many symmetric arrangements."""
    rng = np.random.default_rng(6)
    blocks = []
    for _ in range(60):
        attrs = rng.choice(20, size=3, replace=False)
        a, b, c = rng.random(3) + 0.5
        block = np.zeros((6, 20))
        block[0, attrs] = [a, b, b]  # equally similar to rows 1 and 2
        block[1, attrs[:2]] = [a, b]
        block[2, attrs[[0, 2]]] = [a, b]
        block[3, attrs[1:]] = [c, c]  # equally similar to rows 4 and 5
        block[4, attrs[1]] = 1.0
        block[5, attrs[2]] = 2.0
        blocks.append(block)
    profiles = np.vstack([*blocks, nnls_like(rng, 300, 20, 80)])
    profiles = profiles[rng.permutation(len(profiles))]
    index = assert_same(profiles, monkeypatch)
    assert np.diff(index.indptr).max() >= 2  # ties were found


def test_one_attribute(monkeypatch):
    rng = np.random.default_rng(7)
    assert_same(rng.random((300, 1)) * (rng.random((300, 1)) < 0.8), monkeypatch)
    onehot = np.zeros((500, 20))  # every row one attribute: lists of one attribute only
    onehot[np.arange(500), rng.integers(0, 20, 500)] = rng.random(500) + 0.1
    assert_same(onehot, monkeypatch)


def test_scipy_sparse_input(monkeypatch):
    rng = np.random.default_rng(8)
    profiles = nnls_like(rng, 900, 20, 250)
    profiles[5] = 0.0
    assert_same(sparse.csr_matrix(profiles), monkeypatch)
    wide = sparse_profiles(rng, 700, 300, 0.01)  # too many attributes for the pair lists
    assert_same(sparse.csr_matrix(wide), monkeypatch)


def test_a_subset_of_users(monkeypatch):
    rng = np.random.default_rng(9)
    profiles = nnls_like(rng, 1000, 20, 300)
    assert_same(profiles, monkeypatch, users=rng.choice(1000, size=300, replace=False))
    assert_same(profiles, monkeypatch, users=np.array([3, 3, 17]))


@pytest.fixture(scope="module")
def content_filtering_profiles():
    rng = np.random.default_rng(0)
    items = rng.uniform(size=(12, 200))
    model = ContentFiltering(
        item_representation=items.copy(),
        actual_user_representation=rng.normal(size=(800, 12)),
        actual_item_representation=items,
        num_items_per_iter=10,
        seed=1,
    )
    steps = []
    for _ in range(4):
        model.step()
        steps.append(np.array(model.users_hat.value))
    return steps


@pytest.mark.parametrize("step", range(4))
def test_content_filtering_profiles(content_filtering_profiles, step, monkeypatch):
    profiles = content_filtering_profiles[step]
    assert (profiles >= 0).all() and (profiles != 0).sum(axis=1).mean() < 4
    index = assert_same(profiles, monkeypatch)
    assert settled(index) > 0.9


def test_one_thread_and_every_thread_agree(content_filtering_profiles, monkeypatch):
    """The search split in chunks over threads finds what one thread finds in one pass."""
    profiles = content_filtering_profiles[2]
    threaded = _build(profiles, None, monkeypatch, True)
    single = _build(profiles, None, monkeypatch, True, parallel_rows=np.iinfo(np.int64).max)
    for field in FIELDS:
        np.testing.assert_array_equal(_dense(threaded, field), _dense(single, field), err_msg=field)


def test_buffers_kept_between_indexes_change_nothing(content_filtering_profiles, monkeypatch):
    """Indexes built one after another in one workspace equal indexes built afresh."""
    workspace = {}
    rng = np.random.default_rng(3)
    inputs = [
        content_filtering_profiles[3][:300],  # small first: the buffers grow later
        *content_filtering_profiles,
        nnls_like(rng, 1200, 12, 300),
    ]
    for profiles in inputs:
        fresh = _build(profiles, None, monkeypatch, True)
        with monkeypatch.context() as patch:
            patch.setattr(neighbours, "SEARCH_MIN_GROUPS", 0)
            patch.setattr(neighbours, "SEARCH_NONZEROS", np.inf)
            patch.setattr(search, "PARALLEL_ROWS", 1)
            kept = PartnerIndex(profiles, None, workspace)
        for field in FIELDS:
            np.testing.assert_array_equal(_dense(kept, field), _dense(fresh, field), err_msg=field)
    assert {"ties", "col_entries", "pair_entries"} <= set(workspace)


def test_a_narrower_search_would_be_caught(content_filtering_profiles, monkeypatch):
    """The comparisons above see a search that leaves out rows it must look at."""
    profiles = content_filtering_profiles[3]
    dense = _build(profiles, None, monkeypatch, False)
    monkeypatch.setattr(search, "RADIUS_MARGIN", -0.02)
    narrow = _build(profiles, None, monkeypatch, True)
    assert not np.array_equal(narrow.low_other, dense.low_other)


def test_used_by_default_on_sparse_estimates():
    """Non-negative profiles with few non-zeros take the search; others the dense scan."""
    rng = np.random.default_rng(10)
    profiles = nnls_like(rng, 2000, 20, 600)
    assert neighbours._search_lists(PartnerIndex(profiles).unit) is not None
    assert neighbours._search_lists(PartnerIndex(rng.random((2000, 20))).unit) is None
    signed = profiles.copy()
    signed[0, 0] = -1.0
    assert neighbours._search_lists(PartnerIndex(signed).unit) is None


def test_grouping_and_normalisation_match_numpy():
    """The compiled unit rows and group numbers are numpy's (normalize_matrix, lexsort)."""
    from mesa_recsys import matrix_ops as mo

    rng = np.random.default_rng(11)
    for shape in [(50, 1), (50, 7), (300, 20), (40, 129), (10, 1000)]:
        matrix = rng.standard_normal(shape) * (rng.random(shape) < 0.5)
        matrix[0] = 0.0
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        numpy_rows = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
        np.testing.assert_array_equal(search.normalize_rows(matrix), numpy_rows)
        np.testing.assert_array_equal(mo.normalize_matrix(matrix), numpy_rows)
    keys = rng.standard_normal((2000, 2))
    keys = keys[rng.integers(0, 700, 2000)]
    keys[:50, 0] = 0.25  # equal first keys, different second keys
    keys[50:60] = -0.0
    group, order = search.rank_rows(keys)
    expected = np.lexsort((keys[:, 1], keys[:, 0]))
    np.testing.assert_array_equal(order, expected)
    new = np.ones(order.size, dtype=bool)
    new[1:] = (keys[expected][1:] != keys[expected][:-1]).any(axis=1)
    np.testing.assert_array_equal(group[expected], np.cumsum(new) - 1)


@pytest.mark.parametrize(
    "profiles",
    [
        np.ones((30, 1)),
        np.zeros((20, 3)),
        np.array([[1.0, 0.0], [0.0, 1.0]]),
        np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [1.0, 2.0 + 1e-15]]),
        np.random.default_rng(3).integers(0, 3, size=(120, 2)).astype(float),
        (np.random.default_rng(3).random((60, 60)) < 0.05).astype(float),
    ],
)
def test_small_and_degenerate_profiles(profiles, monkeypatch):
    assert_same(profiles, monkeypatch)
    assert_same(sparse.csr_matrix(profiles), monkeypatch)
