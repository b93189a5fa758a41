"""Candidates kept from one ranking answer later top-k queries exactly.

NDCG@k ranks the model's current scores at the end of a step; the next step's
recommendation ranks the same scores. :class:`mesa_recsys.topk.CandidateRanking` keeps
each user's best items from the first ranking so the second reads its lists from them;
these tests check that the lists are exactly those of a fresh ranking (ties, exclusions,
NaN, small catalogues) and that a model recommends the same items with or without the
metric attached.
"""

from __future__ import annotations

import numpy as np
import pytest

from mesa_recsys import topk
from mesa_recsys.metrics import NDCGAtK, RecallAtK
from mesa_recsys.models import ContentFiltering, ImplicitMF, PopularityRecommender


def _factors(rng: np.random.Generator, trial: int) -> tuple[np.ndarray, np.ndarray]:
    num_users = int(rng.integers(1, 200))
    num_attrs = int(rng.integers(2, 6))
    num_items = int(rng.integers(2, 60))
    if trial % 3 == 0:  # continuous scores: ties only between identical items
        users = rng.normal(size=(num_users, num_attrs))
        items = rng.normal(size=(num_attrs, num_items))
        items[:, -1] = items[:, 0]
    else:  # small integers: ties everywhere
        users = rng.integers(0, 3, size=(num_users, num_attrs)).astype(float)
        items = rng.integers(0, 3, size=(num_attrs, num_items)).astype(float)
    if trial % 5 == 0:
        items[:, rng.integers(0, num_items)] = np.nan
    return users, items


@pytest.mark.parametrize("trial", range(24))
def test_candidates_give_the_lists_of_a_fresh_ranking(trial):
    rng = np.random.default_rng(trial)
    users, items = _factors(rng, trial)
    num_users, num_items = users.shape[0], items.shape[1]
    depth = int(rng.integers(1, num_items + 3))
    kept = topk.CandidateRanking(users, items, depth)
    assert kept.complete == (depth >= num_items)
    for k in range(min(num_items, depth + 2) + 1):
        for width in (0, 1, 4):
            excluded = rng.integers(-1, num_items, size=(num_users, width)) if width else None
            seed = int(rng.integers(0, 2**63))
            fresh = topk.top_k_factors(users, items, k, seed, excluded)
            np.testing.assert_array_equal(kept.top_k(k, seed, excluded), fresh)


def test_the_candidates_are_the_best_items_with_their_scores():
    rng = np.random.default_rng(5)
    users, items = rng.normal(size=(50, 3)), rng.normal(size=(3, 40))
    kept = topk.CandidateRanking(users, items, 7)
    scores = users @ items
    best = -np.sort(-scores, axis=1)[:, :7]
    np.testing.assert_allclose(kept.scores, best, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        np.take_along_axis(scores, kept.candidates, axis=1), best, atol=1e-12
    )


def test_a_user_whose_candidates_run_out_is_ranked_again():
    # depth 3, k 2, and each user's two best items excluded: no candidate is usable, so
    # every user falls back to a ranking of the whole catalogue
    rng = np.random.default_rng(2)
    users, items = rng.normal(size=(30, 3)), rng.normal(size=(3, 20))
    kept = topk.CandidateRanking(users, items, 3)
    excluded = kept.candidates[:, :2].copy()
    lists = kept.top_k(2, 9, excluded)
    np.testing.assert_array_equal(lists, topk.top_k_factors(users, items, 2, 9, excluded))
    assert not (lists[:, :, None] == excluded[:, None, :]).any()


def test_a_tie_at_the_last_candidate_is_not_trusted():
    # all items score the same: the last candidate ties with items left out, so no
    # candidate is known complete and the seed's draw over all 30 items decides
    users = np.ones((40, 2))
    items = np.ones((2, 30))
    kept = topk.CandidateRanking(users, items, 5)
    for seed in range(5):
        fresh = topk.top_k_factors(users, items, 3, seed)
        np.testing.assert_array_equal(kept.top_k(3, seed), fresh)
    assert np.unique(kept.top_k(3, 0)).size > 5  # draws reach beyond the five candidates


def test_a_repeated_query_is_answered_once(monkeypatch):
    # the metric's ranking and the model's next recommendation ask for the same k and
    # seed: the second gets a copy of the first answer; exclusions and other k or seeds
    # are read from the candidates again
    rng = np.random.default_rng(11)
    users, items = rng.integers(0, 3, size=(60, 3)).astype(float), rng.normal(size=(3, 25))
    kept = topk.CandidateRanking(users, items, 8)
    reads = []
    for name in ("_from_candidates_par", "_from_candidates_ser"):
        kernel = getattr(topk, name)
        monkeypatch.setattr(
            topk, name, lambda *args, kernel=kernel: reads.append(args[3]) or kernel(*args)
        )
    first = kept.top_k(5, 77)
    first[:] = -1  # the caller's copy: the kept answer is not touched
    again = kept.top_k(5, 77, np.full((60, 2), -1))
    np.testing.assert_array_equal(again, topk.top_k_factors(users, items, 5, 77))
    assert reads == [5]
    excluded = rng.integers(0, 25, size=(60, 1))
    np.testing.assert_array_equal(
        kept.top_k(5, 77, excluded), topk.top_k_factors(users, items, 5, 77, excluded)
    )
    np.testing.assert_array_equal(kept.top_k(5, 78), topk.top_k_factors(users, items, 5, 78))
    np.testing.assert_array_equal(kept.top_k(4, 78), topk.top_k_factors(users, items, 4, 78))
    assert reads == [5, 5, 5, 4]


def test_matches_follows_the_factors_object():
    class Scores:
        pass

    rng = np.random.default_rng(0)
    scores = Scores()
    scores._factors = (rng.normal(size=(4, 2)), rng.normal(size=(2, 5)), None)
    kept = topk.CandidateRanking(scores._factors[0], scores._factors[1], 3, source=scores)
    assert kept.matches(scores)
    assert not kept.matches(Scores())
    scores._factors = (*scores._factors[:2], None)  # new factors (a retrain): stale
    assert not kept.matches(scores)
    with pytest.raises(ValueError, match="depth"):
        topk.CandidateRanking(scores._factors[0], scores._factors[1], 0)


def _run(
    cls, metrics, repeated: bool, random_items: int, steps: int = 6, record: str = "items_shown"
):
    """Step a model of 120 users and 50 items; ``record`` (an attribute) after each step."""
    rng = np.random.default_rng(0)
    items = rng.integers(0, 3, size=(4, 50)).astype(float)
    items[:, 7] = items[:, 8]  # identical items tie in every user's scores
    kwargs = {
        "actual_user_representation": rng.normal(size=(120, 4)),
        "actual_item_representation": items,
        "num_items_per_iter": 6,
        "seed": 4,
        "measurements": metrics,
    }
    if cls is ContentFiltering:
        kwargs["item_representation"] = items.copy()
    elif cls is ImplicitMF:
        kwargs["num_latent_factors"] = 3
    model = cls(**kwargs)
    model.step_options = model.step_options_with(
        repeated_items=repeated, random_items_per_iter=random_items
    )
    seen = []
    for _ in range(steps):
        model.step()
        seen.append(getattr(model, record).copy())
    return np.array(seen), model


@pytest.mark.parametrize("cls", [ContentFiltering, ImplicitMF])
@pytest.mark.parametrize(("repeated", "random_items"), [(True, 0), (False, 0), (True, 2)])
def test_the_model_recommends_the_same_with_or_without_ndcg(cls, repeated, random_items):
    alone, _ = _run(cls, None, repeated, random_items)
    measured, model = _run(cls, [NDCGAtK(10), RecallAtK(4)], repeated, random_items)
    np.testing.assert_array_equal(measured, alone)
    assert model.kept_ranking is not None and model.kept_ranking.matches(model.predicted_scores)


def test_the_next_recommendation_reads_the_kept_candidates(monkeypatch):
    calls = []
    original = topk.CandidateRanking.top_k

    def counted(self, k, seed, excluded=None):
        calls.append(k)
        return original(self, k, seed, excluded)

    monkeypatch.setattr(topk.CandidateRanking, "top_k", counted)
    _run(ContentFiltering, [NDCGAtK(10)], True, 0, steps=3)
    # NDCG's top 10 at construction and after every step; every step's recommendation
    # (top 6) reads the candidates of the measurement before it
    assert calls == [10, 6, 10, 6, 10, 6, 10]


def _popularity(metrics, repeated: bool, steps: int = 5):
    rng = np.random.default_rng(1)
    model = PopularityRecommender(
        actual_user_representation=rng.normal(size=(150, 3)),
        actual_item_representation=rng.uniform(size=(3, 40)),
        num_items_per_iter=5,
        seed=7,
        measurements=metrics,
    )
    model.step_options = model.step_options_with(repeated_items=repeated)
    shown = []
    for _ in range(steps):
        model.step()
        shown.append(model.items_shown.copy())
    return np.array(shown), model


@pytest.mark.parametrize("repeated", [True, False])
def test_popularity_lists_are_shared_when_k_is_the_list_length(repeated, monkeypatch):
    calls = []
    original = topk.top_k_shared

    def counted(*args, **kwargs):
        calls.append(args[2])
        return original(*args, **kwargs)

    monkeypatch.setattr(topk, "top_k_shared", counted)
    alone, _ = _popularity(None, repeated)
    assert len(calls) == 5  # one ranking per step
    calls.clear()
    measured, model = _popularity([NDCGAtK(5), NDCGAtK(3)], repeated)
    # popularity's equal counts tie everywhere: the lists are the same only because the
    # metric ranks with the seed the model draws next and hands its lists over
    np.testing.assert_array_equal(measured, alone)
    assert isinstance(model.kept_ranking, topk.KeptLists)
    # NDCG@5 and NDCG@3 at construction and after every step (12 rankings); the model
    # ranks again only when items are excluded (KeptLists answers no exclusions)
    assert len(calls) == 12 + (0 if repeated else 4)


def test_next_tie_seed_is_the_seed_the_model_draws_and_draws_nothing():
    _, model = _popularity(None, True, steps=1)
    seed = model.next_tie_seed()
    assert model.next_tie_seed() == seed  # reading it does not move the generator
    assert model._draw_tie_seed(model.rng) == seed


# --- true scores of the ranked lists, handed to the users' choices ------------------------------


@pytest.mark.parametrize("cls", [ContentFiltering, PopularityRecommender])
@pytest.mark.parametrize(("repeated", "random_items"), [(True, 0), (False, 0), (True, 2)])
def test_choices_are_the_same_when_ndcg_hands_over_its_true_scores(
    cls, repeated, random_items, monkeypatch
):
    """NDCG@k with k the list length scores the lists shown next: the users choose alike."""
    from mesa_recsys.components import users as users_module

    computed = []
    original = users_module.listed_scores

    def counted(*args):
        computed.append(args[2].shape)
        return original(*args)

    monkeypatch.setattr(users_module, "listed_scores", counted)
    alone, model = _run(cls, None, repeated, random_items, 5, "interactions")
    assert len(computed) == 5  # one scoring of the shown lists per step
    computed.clear()
    measured, _ = _run(cls, [NDCGAtK(6)], repeated, random_items, 5, "interactions")
    np.testing.assert_array_equal(measured, alone)
    # the kept scores stand in only where the model shows NDCG's lists: every step; the
    # first step only when chosen items are excluded (none are yet); never with random items
    assert len(computed) == {(True, 0): 0, (False, 0): 4, (True, 2): 5}[repeated, random_items]
    # and the choice scores are the inner products of the normalised profiles
    true = model.users.actual_user_scores
    shown = model.items_shown
    dense = true.block(slice(None))
    np.testing.assert_allclose(
        true.get_item_scores(shown), np.take_along_axis(dense, shown, axis=1), rtol=1e-12
    )


@pytest.mark.parametrize("cls", [ContentFiltering, ImplicitMF])
def test_lists_of_the_list_length_are_kept_without_candidates(cls, monkeypatch):
    """NDCG@k with k the list length ranks once per step, and the model shows its lists."""
    passes = []
    original = topk._factors_pass

    def counted(users, items, k, *args, **kwargs):
        passes.append(k)
        return original(users, items, k, *args, **kwargs)

    monkeypatch.setattr(topk, "_factors_pass", counted)
    alone, _ = _run(cls, None, True, 0, steps=4)
    assert len(passes) == 4  # one ranking per step
    passes.clear()
    measured, model = _run(cls, [NDCGAtK(6), RecallAtK(6)], True, 0, steps=4)
    np.testing.assert_array_equal(measured, alone)
    assert len(passes) == 5  # at construction and after each step, none in the steps
    assert passes == [6] * 5
    assert isinstance(model.kept_ranking, topk.KeptLists)
    # with random items the model asks for 4 lists: candidates answer it
    alone, _ = _run(cls, None, True, 2, steps=3)
    measured, model = _run(cls, [NDCGAtK(6)], True, 2, steps=3)
    np.testing.assert_array_equal(measured, alone)
    assert isinstance(model.kept_ranking, topk.CandidateRanking)
