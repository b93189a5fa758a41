"""BLAS runs on ``blas_threads`` threads while a model steps, and as before afterwards."""

from __future__ import annotations

import numpy as np
import pytest

from mesa_recsys.metrics import Measurement
from mesa_recsys.models import ContentFiltering, ImplicitMF, PopularityRecommender
from mesa_recsys.threads import _blas_libraries, limit_blas_threads


def _threads() -> list[int]:
    return [lib.get_num_threads() for lib in _blas_libraries()]


@pytest.fixture
def two_blas_threads():
    """BLAS on two threads for the test (skipped where BLAS cannot have two)."""
    libs = _blas_libraries()
    if not libs:
        pytest.skip("no BLAS library found by threadpoolctl")
    before = _threads()
    for lib in libs:
        lib.set_num_threads(2)
    if min(_threads()) < 2:
        for lib, n in zip(libs, before, strict=True):
            lib.set_num_threads(n)
        pytest.skip("BLAS cannot run two threads here")
    yield
    for lib, n in zip(libs, before, strict=True):
        lib.set_num_threads(n)


class BlasThreads(Measurement):
    """Records BLAS's threads at each measurement (inside the step)."""

    def __init__(self) -> None:
        super().__init__("blas_threads")

    def measure(self, recommender) -> None:
        self.observe(max(_threads()))


def test_the_limit_holds_inside_and_is_undone_after(two_blas_threads):
    with limit_blas_threads(1):
        assert _threads() == [1] * len(_threads())
        with limit_blas_threads(3):  # a limit above the current number changes nothing
            assert max(_threads()) == 1
        assert max(_threads()) == 1
    assert min(_threads()) == 2
    with limit_blas_threads(None):
        assert min(_threads()) == 2
    with pytest.raises(RuntimeError), limit_blas_threads(1):
        raise RuntimeError("the step failed")
    assert min(_threads()) == 2  # restored on errors too


@pytest.mark.parametrize("bad", [0, -1])
def test_a_limit_below_one_is_refused(bad):
    with pytest.raises(ValueError, match="blas_threads"), limit_blas_threads(bad):
        pass


def test_a_limit_that_is_not_an_int_is_refused():
    with pytest.raises(TypeError, match="blas_threads"), limit_blas_threads(1.5):
        pass


@pytest.mark.parametrize("cls", [PopularityRecommender, ContentFiltering, ImplicitMF])
def test_a_step_runs_blas_on_one_thread(cls, two_blas_threads):
    model = cls(num_users=30, num_items=20, seed=0, measurements=[BlasThreads()])
    model.run(2, disable_tqdm=True)
    assert model.get_measurements()["blas_threads"] == [2, 1, 1]  # t=0 is the constructor
    assert min(_threads()) == 2
    model.blas_threads = None  # BLAS as it is
    model.step()
    assert model.get_measurements()["blas_threads"][-1] == 2
    model.blas_threads = 0
    with pytest.raises(ValueError, match="blas_threads"):
        model.step()


def test_the_limit_does_not_change_results():
    def run(limit):
        rng = np.random.default_rng(4)
        model = ContentFiltering(
            actual_user_representation=rng.normal(size=(40, 5)),
            actual_item_representation=rng.uniform(size=(5, 30)),
            num_attributes=5,
            seed=2,
        )
        model.blas_threads = limit
        for _ in range(3):
            model.step()
        return model.items_shown, model.predicted_scores.block(slice(None))

    for limited, free in zip(run(1), run(None), strict=True):
        np.testing.assert_array_equal(limited, free)
