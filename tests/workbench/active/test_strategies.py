"""The shared contract test of the query strategies, then each strategy's own behaviour."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

import workbench as wb
from workbench.active import (
    DEFAULT_STRATEGY,
    STRATEGIES,
    DiverseEntropySampling,
    EntropySampling,
    LeastConfidence,
    MarginSampling,
    Pool,
    QueryByCommittee,
    QueryStrategy,
    RandomSampling,
    StratifiedSampling,
    make_strategy,
)
from workbench.exceptions import LabelValidationError

NAMES = sorted(STRATEGIES)


def _data(n_pool: int = 120, seed: int = 0) -> dict[str, Any]:
    """Three Gaussian classes: a small labeled set, a pool with a fitted model's probabilities."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 2.0]])
    y_train = np.repeat([0, 1, 2], 6)
    X_train = centers[y_train] + rng.normal(scale=0.8, size=(len(y_train), 2))
    X = centers[rng.integers(0, 3, size=n_pool)] + rng.normal(scale=0.8, size=(n_pool, 2))
    model = LogisticRegression().fit(X_train, y_train)
    return {"proba": model.predict_proba(X), "X": X, "estimator": LogisticRegression(), "X_train": X_train,
            "y_train": y_train, "classes": model.classes_}


def _pool(n_pool: int = 120, seed: int = 0) -> Pool:
    return Pool(**_data(n_pool, seed))


# ---------------------------------------------------------------------------------------------------
# the contract: every entry of STRATEGIES
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_params_round_trip_through_clone(name: str) -> None:
    s = STRATEGIES[name](random_state=3)
    assert isinstance(s, QueryStrategy)
    params = s.get_params()
    assert params["random_state"] == 3
    c = clone(s)
    assert c is not s and type(c) is type(s)
    assert c.get_params() == params
    c.set_params(random_state=5)
    assert c.random_state == 5 and s.random_state == 3
    assert type(s).__name__ in repr(s)


@pytest.mark.parametrize("name", NAMES)
def test_same_random_state_gives_the_same_selection(name: str) -> None:
    pool = _pool()
    a = STRATEGIES[name](random_state=11).select(pool, 10)
    b = clone(STRATEGIES[name](random_state=11)).select(pool, 10)
    assert a.tolist() == b.tolist()
    np.testing.assert_array_equal(STRATEGIES[name](random_state=11).scores(pool),
                                  STRATEGIES[name](random_state=11).scores(pool))


@pytest.mark.parametrize("name", ["random", "stratified"])
def test_different_seeds_give_different_random_selections(name: str) -> None:
    pool = _pool()
    picks = {tuple(STRATEGIES[name](random_state=seed).select(pool, 10).tolist()) for seed in range(5)}
    assert len(picks) == 5


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", [1, 10, 37])
def test_selection_is_distinct_pool_indices_of_the_right_length(name: str, n: int) -> None:
    pool = _pool()
    picked = STRATEGIES[name](random_state=0).select(pool, n)
    assert picked.dtype == np.intp
    assert len(picked) == n
    assert len(np.unique(picked)) == n
    assert picked.min() >= 0 and picked.max() < pool.size


@pytest.mark.parametrize("name", NAMES)
def test_selection_is_best_first_by_the_strategys_own_scores(name: str) -> None:
    pool = _pool()
    s = STRATEGIES[name](random_state=4)
    scores = s.scores(pool)
    assert scores.shape == (pool.size,) and np.isfinite(scores).all()
    picked = s.select(pool, 15)
    assert (np.diff(scores[picked]) <= 1e-12).all()
    if getattr(s, "diversity", None) is None:
        rest = np.setdiff1d(np.arange(pool.size), picked)
        assert scores[picked].min() >= scores[rest].max()
    else:  # the diversity step picks among the candidate_factor * n best rows
        candidates = np.argsort(-scores, kind="stable")[: s.candidate_factor * 15]
        assert set(picked.tolist()) <= set(candidates.tolist())
        assert scores[picked[0]] == scores.max()


@pytest.mark.parametrize("name", NAMES)
def test_n_larger_than_the_pool_gives_every_row_once(name: str) -> None:
    pool = _pool(n_pool=12)
    picked = STRATEGIES[name](random_state=0).select(pool, 50)
    assert sorted(picked.tolist()) == list(range(12))


@pytest.mark.parametrize("name", NAMES)
def test_an_empty_pool_or_n_zero_gives_an_empty_selection(name: str) -> None:
    d = _data()
    empty = Pool(**{**d, "proba": d["proba"][:0], "X": d["X"][:0]})
    s = STRATEGIES[name](random_state=0)
    assert s.select(empty, 5).tolist() == []
    assert s.scores(empty).shape == (0,)
    assert s.select(_pool(), 0).tolist() == []


@pytest.mark.parametrize("name", NAMES)
def test_cold_start_without_probabilities(name: str) -> None:
    d = _data()
    cold = Pool(**{**d, "proba": None})
    s = STRATEGIES[name](random_state=0)
    if s.needs_proba:
        with pytest.raises(LabelValidationError, match=r"Pool\.proba is None.*strategy='random'"):
            s.select(cold, 5)
    else:  # documented: random needs nothing, the committee fits its own members
        picked = s.select(cold, 5)
        assert len(np.unique(picked)) == 5


def test_random_sampling_needs_only_the_pool_size() -> None:
    picked = RandomSampling(random_state=1).select(Pool(proba=None, n_rows=30), 30)
    assert sorted(picked.tolist()) == list(range(30))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("proba", "message"),
    [
        (np.array([0.2, 0.8]), r"shape \(n_pool, n_classes >= 2\)"),
        (np.ones((4, 1)), r"shape \(n_pool, n_classes >= 2\)"),
        (np.array([[0.5, 0.5], [np.nan, 0.5]]), r"NaN or infinite values in 1 row"),
        (np.array([[0.5, 0.9], [0.5, 0.5]]), r"rows sum to 1"),
        (np.array([[1.5, -0.5], [0.5, 0.5]]), r"probabilities in \[0, 1\]"),
    ],
)
def test_bad_probabilities_are_refused(name: str, proba: np.ndarray, message: str) -> None:
    with pytest.raises(LabelValidationError, match=message):
        STRATEGIES[name](random_state=0).select(proba, 2)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", [-1, 2.5, True, "3", None])
def test_a_bad_batch_size_is_refused(name: str, n: Any) -> None:
    with pytest.raises(LabelValidationError, match=r"'n' parameter of select must be an integer >= 0"):
        STRATEGIES[name](random_state=0).select(_pool(), n)


@pytest.mark.parametrize("name", NAMES)
def test_a_bad_random_state_is_refused(name: str) -> None:
    with pytest.raises(LabelValidationError, match=r"'random_state' parameter of .* must be None, an int"):
        STRATEGIES[name](random_state="zero").select(_pool(), 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", NAMES)
def test_the_array_shorthand_and_a_none_pool(name: str) -> None:
    proba = _data()["proba"]
    s = STRATEGIES[name](random_state=0)
    if name == "committee":
        with pytest.raises(LabelValidationError, match=r"missing: \['estimator', 'X', 'X_train', 'y_train'\]"):
            s.select(proba, 3)
    elif getattr(s, "diversity", None) is not None:  # the diversity step needs the pool's features
        with pytest.raises(LabelValidationError, match=r"needs the pool features, but Pool.X is None"):
            s.select(proba, 3)
    else:
        assert len(s.select(proba, 3)) == 3
    with pytest.raises(LabelValidationError, match=r"needs a Pool .*got None"):
        s.select(None, 3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# the registry and make_strategy
# ---------------------------------------------------------------------------------------------------
def test_registry_and_make_strategy() -> None:
    assert set(STRATEGIES) == {"random", "stratified", "least_confidence", "margin", "entropy", "committee",
                               "diverse_entropy"}
    assert DEFAULT_STRATEGY in STRATEGIES
    default = make_strategy(DEFAULT_STRATEGY)
    assert isinstance(default, EntropySampling) and default.diversity == "cluster"
    s = make_strategy("margin", random_state=4)
    assert isinstance(s, MarginSampling) and s.random_state == 4
    mine = MarginSampling(diversity="kcenter", random_state=1)
    copy = make_strategy(mine, random_state=9)
    assert copy is not mine and copy.diversity == "kcenter" and copy.random_state == 9 and mine.random_state == 1
    assert make_strategy(mine).random_state == 1


@pytest.mark.parametrize("bad", ["Margin", "uncertainty", 3, None])
def test_make_strategy_refuses_unknown_names(bad: Any) -> None:
    with pytest.raises(LabelValidationError, match=r"Unknown query strategy .* Expected one of \['committee'"):
        make_strategy(bad)


def test_strategy_errors_are_workbench_errors_and_value_errors() -> None:
    with pytest.raises(wb.WorkbenchError):
        make_strategy("nope")
    with pytest.raises(ValueError):
        make_strategy("nope")


# ---------------------------------------------------------------------------------------------------
# each strategy's behaviour
# ---------------------------------------------------------------------------------------------------
def test_margin_picks_the_smallest_top_two_gap() -> None:
    proba = np.array([
        [0.50, 0.30, 0.20],  # gap 0.20
        [0.40, 0.38, 0.22],  # gap 0.02
        [0.50, 0.49, 0.01],  # gap 0.01: low entropy, yet the smallest gap
        [0.90, 0.05, 0.05],  # gap 0.85
        [0.45, 0.44, 0.11],  # gap 0.01
    ])
    picked = MarginSampling(random_state=0).select(proba, 3)
    assert set(picked[:2].tolist()) == {2, 4}
    assert picked[2] == 1
    assert MarginSampling().scores(proba)[3] == pytest.approx(1 - 0.85)


def test_uncertainty_measures_agree_on_binary_data() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(size=200)
    proba = np.c_[p, 1 - p]
    orders = [np.argsort(-cls().scores(proba), kind="stable") for cls in (LeastConfidence, MarginSampling,
                                                                         EntropySampling)]
    assert orders[0].tolist() == orders[1].tolist() == orders[2].tolist()
    picks = [cls(random_state=0).select(proba, 20).tolist() for cls in (LeastConfidence, MarginSampling,
                                                                        EntropySampling)]
    assert picks[0] == picks[1] == picks[2]


def test_uncertainty_measures_differ_on_three_classes() -> None:
    proba = np.array([[0.5, 0.5, 0.0], [0.4, 0.3, 0.3]])
    assert MarginSampling().select(proba, 1).tolist() == [0]      # gap 0 against 0.1
    assert EntropySampling().select(proba, 1).tolist() == [1]     # spread over three classes
    assert LeastConfidence().select(proba, 1).tolist() == [1]     # top 0.4 against 0.5


def test_stratified_balances_predicted_classes_rarest_first() -> None:
    proba = np.array([[0.8, 0.1, 0.1]] * 90 + [[0.1, 0.8, 0.1]] * 10 + [[0.1, 0.1, 0.8]] * 5)
    s = StratifiedSampling(random_state=0)
    first = s.select(proba, 15)
    assert np.bincount(proba[first].argmax(axis=1), minlength=3).tolist() == [5, 5, 5]
    assert proba[first[0]].argmax() == 2  # the rarest predicted class comes first
    more = s.select(proba, 30)  # class 2 runs out after 5: the others share the rest in turn
    assert np.bincount(proba[more].argmax(axis=1), minlength=3).tolist() == [15, 10, 5]
    assert RandomSampling(random_state=0).select(proba, 15).size == 15  # random would mostly pick class 0
    assert np.bincount(proba[RandomSampling(random_state=0).select(proba, 15)].argmax(axis=1),
                       minlength=3)[0] > 5


def test_committee_disagreement_is_zero_when_members_agree() -> None:
    rng = np.random.default_rng(2)
    X_train = np.r_[rng.normal(-5, 0.3, size=(20, 2)), rng.normal(5, 0.3, size=(20, 2))]
    y_train = np.repeat([0, 1], 20)
    far = np.r_[rng.normal(-6, 0.3, size=(10, 2)), rng.normal(6, 0.3, size=(10, 2))]
    pool = Pool(proba=None, X=far, estimator=LogisticRegression(), X_train=X_train, y_train=y_train)
    assert (QueryByCommittee(disagreement="vote_entropy", random_state=0).scores(pool) == 0).all()
    # members that ignore the resample (class priors; the per-class bootstrap keeps the counts) agree exactly
    prior = Pool(proba=None, X=far, estimator=DummyClassifier(strategy="prior"), X_train=X_train, y_train=y_train)
    assert QueryByCommittee(random_state=0).scores(prior) == pytest.approx(np.zeros(20), abs=1e-12)


def test_committee_prefers_rows_where_members_disagree() -> None:
    rng = np.random.default_rng(4)
    X_train = rng.normal(size=(30, 2))
    y_train = (X_train[:, 0] > 0).astype(int)
    pool_X = np.r_[np.c_[rng.normal(0, 0.05, 10), rng.normal(size=10)], np.c_[rng.choice([-4, 4], 30),
                                                                             rng.normal(size=30)]]
    pool = Pool(proba=None, X=pool_X, estimator=LogisticRegression(), X_train=X_train, y_train=y_train,
                w_train=np.ones(30))
    picked = QueryByCommittee(n_members=7, random_state=0).select(pool, 5)
    assert (picked < 10).all()
    votes = QueryByCommittee(n_members=7, disagreement="vote_entropy", random_state=0).scores(pool)
    assert (votes[10:] == 0).all() and (votes[:10] > 0).sum() >= 3
    members = QueryByCommittee(n_members=3, random_state=0).member_probas(pool)
    assert members.shape == (3, 40, 2)
    np.testing.assert_allclose(members.sum(axis=2), 1.0)


def test_committee_needs_a_training_set_with_two_classes() -> None:
    d = _data()
    one = Pool(**{**d, "y_train": np.zeros_like(d["y_train"]), "classes": None})
    with pytest.raises(LabelValidationError, match=r"at least 2 classes; y_train holds \[0\]"):
        QueryByCommittee(random_state=0).select(one, 3)
    with pytest.raises(LabelValidationError, match=r"missing: \['estimator'\]"):
        QueryByCommittee(random_state=0).select(Pool(**{**d, "estimator": None}), 3)
    odd = Pool(**{**d, "classes": np.array([0, 1, 5])})
    with pytest.raises(LabelValidationError, match=r"classes \[2\] that are not in Pool.classes"):
        QueryByCommittee(random_state=0).select(odd, 3)


def _duplicated_pool(sparse: bool) -> tuple[Pool, int]:
    """200 distinct rows plus 25 exact copies of the most uncertain one (row 0)."""
    rng = np.random.default_rng(8)
    base = rng.random((200, 40)) * (rng.random((200, 40)) < 0.15)
    X = np.r_[base, np.repeat(base[:1], 25, axis=0)]
    margin = np.r_[0.0, rng.uniform(0.02, 1.0, 199), np.zeros(25)]
    p = (1 + margin) / 2
    proba = np.c_[p, 1 - p]
    return Pool(proba=proba, X=sp.csr_matrix(X) if sparse else X), 0


@pytest.mark.parametrize("sparse", [True, False])
@pytest.mark.parametrize("diversity", ["kcenter", "cluster"])
def test_diversity_keeps_duplicates_out_of_a_batch(diversity: str, sparse: bool) -> None:
    pool, _ = _duplicated_pool(sparse)
    copies = {0, *range(200, 225)}
    plain = MarginSampling(random_state=0).select(pool, 25)
    assert len(copies & set(plain.tolist())) == 25  # uncertainty alone takes all 26 copies it can
    diverse = MarginSampling(diversity=diversity, random_state=0).select(pool, 25)
    assert len(np.unique(diverse)) == 25
    assert len(copies & set(diverse.tolist())) <= 2
    assert diverse[0] in copies  # the best row still leads the batch


def test_diversity_on_a_pool_of_only_duplicates_fills_the_batch_by_score() -> None:
    X = np.ones((30, 3))
    proba = np.c_[np.linspace(0.5, 1.0, 30), 1 - np.linspace(0.5, 1.0, 30)]
    picked = EntropySampling(diversity="kcenter", random_state=0).select(Pool(proba=proba, X=X), 10)
    assert sorted(picked.tolist()) == list(range(10))


def test_zero_rows_count_as_duplicates_of_each_other() -> None:
    X = sp.csr_matrix(np.r_[np.zeros((20, 5)), np.eye(5)])
    proba = np.c_[np.r_[np.full(20, 0.5), np.full(5, 0.6)], 1 - np.r_[np.full(20, 0.5), np.full(5, 0.6)]]
    picked = MarginSampling(diversity="kcenter", random_state=0).select(Pool(proba=proba, X=X), 6)
    assert (picked < 20).sum() == 1 and set(range(20, 25)) <= set(picked.tolist())


def _flat_model_pool(seed: int = 0) -> tuple[Pool, np.ndarray]:
    """A cold-start pool: a model unsure everywhere, a hair less sure outside one corner.

    Corner A (60 rows near one axis) has p = 0.50 (entropy 1.0); the rest (440 rows in four other groups)
    p = 0.55-0.56 (entropy 0.99), and 20 confident rows p = 0.95. Returns the pool and each row's group.
    """
    rng = np.random.default_rng(seed)
    groups = np.r_[np.zeros(60, int), rng.integers(1, 5, size=440), np.full(20, 5)]
    X = np.eye(6)[groups] * 3.0 + rng.normal(scale=0.3, size=(len(groups), 6))
    p = np.where(groups == 0, 0.5, np.where(groups == 5, 0.95, rng.uniform(0.55, 0.56, len(groups))))
    return Pool(proba=np.c_[p, 1 - p], X=X), groups


def test_near_ties_are_drawn_across_the_pool_not_from_the_top_corner() -> None:
    pool, groups = _flat_model_pool()
    n = 10
    exact = EntropySampling(diversity="cluster", candidate_factor=3, random_state=0).select(pool, n)
    assert set(groups[exact].tolist()) == {0}  # the 30 best by a hair are all in corner A
    # the default leaves the tolerance off (its balanced end model does not collapse); it picks the corner too
    assert make_strategy(DEFAULT_STRATEGY).get_params()["tie_tolerance"] == 0.0
    assert set(groups[make_strategy(DEFAULT_STRATEGY, random_state=0).select(pool, n)].tolist()) == {0}
    s = DiverseEntropySampling(tie_tolerance=0.05).scores(pool)
    for seed in range(5):
        picked = DiverseEntropySampling(tie_tolerance=0.05, random_state=seed).select(pool, n)
        assert len(set(picked.tolist())) == n
        assert len(set(groups[picked].tolist()) - {0}) >= 3  # most of the other groups, every seed
        assert not (groups[picked] == 5).any()  # confident rows are not ties
        assert np.all(np.diff(s[picked]) <= 1e-12)  # best first by the score itself
    # without the diversity step, ties are drawn at random (n of them), reproducibly
    plain = EntropySampling(tie_tolerance=0.05, random_state=3)
    a, b = plain.select(pool, n), clone(plain).select(pool, n)
    assert a.tolist() == b.tolist() and len(set(groups[a].tolist())) >= 2 and not (groups[a] == 5).any()
    assert set(groups[EntropySampling(random_state=3).select(pool, n)].tolist()) == {0}


def test_a_tolerance_changes_nothing_when_few_rows_are_near_the_best() -> None:
    d = _data(n_pool=300)
    pool = Pool(proba=d["proba"], X=d["X"])
    s = EntropySampling().scores(pool)
    tol = 0.5 * float(np.sort(s)[-1] - np.sort(s)[-5])  # fewer than 3 * n rows within it of the best
    for seed in range(3):
        with_tol = EntropySampling(diversity="cluster", candidate_factor=3, tie_tolerance=tol, random_state=seed)
        without = EntropySampling(diversity="cluster", candidate_factor=3, random_state=seed)
        assert with_tol.select(pool, 8).tolist() == without.select(pool, 8).tolist()


def test_random_share_reserves_the_end_of_the_batch_for_exploration() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 1.0, 500)
    proba = np.c_[p, 1 - p]
    best = np.argsort(-MarginSampling().scores(proba))[:20]
    picked = MarginSampling(random_share=0.25, random_state=0).select(proba, 20)
    assert len(np.unique(picked)) == 20
    n_top = len(set(picked.tolist()) & set(best.tolist()))
    assert 15 <= n_top <= 17  # 15 by score, 5 drawn from the whole pool (rarely among the next best)
    assert set(picked[:12].tolist()) <= set(best.tolist())
    all_random = MarginSampling(random_share=1.0, random_state=0).select(proba, 20)
    assert len(set(all_random.tolist()) & set(best.tolist())) <= 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"diversity": "dpp"}, r"'diversity' parameter of MarginSampling must be 'kcenter', 'cluster' or None"),
        ({"candidate_factor": 0}, r"'candidate_factor' parameter of MarginSampling must be an integer >= 1"),
        ({"random_share": 1.5}, r"'random_share' parameter of MarginSampling must be a number in \[0, 1\]"),
        ({"tie_tolerance": -0.1}, r"'tie_tolerance' parameter of MarginSampling must be a number in \[0, 1\]"),
        ({"tie_tolerance": 1.5}, r"'tie_tolerance' parameter of MarginSampling must be a number in \[0, 1\]"),
        ({"tie_tolerance": True}, r"'tie_tolerance' parameter of MarginSampling"),
        ({"tie_tolerance": "0.1"}, r"'tie_tolerance' parameter of MarginSampling"),
        ({"tie_factor": 0}, r"'tie_factor' parameter of MarginSampling must be an integer >= 1"),
        ({"tie_factor": 2.5}, r"'tie_factor' parameter of MarginSampling must be an integer >= 1"),
    ],
)
def test_bad_batch_parameters_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(LabelValidationError, match=message):
        MarginSampling(**kwargs).select(_pool(), 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_members": 1}, r"'n_members' parameter of QueryByCommittee must be an integer >= 2"),
        ({"disagreement": "jsd"}, r"'disagreement' parameter of QueryByCommittee must be 'kl' or 'vote_entropy'"),
        ({"diversity": "x"}, r"'diversity' parameter of QueryByCommittee"),
    ],
)
def test_bad_committee_parameters_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(LabelValidationError, match=message):
        QueryByCommittee(**kwargs).select(_pool(), 3)


def test_diversity_needs_features() -> None:
    with pytest.raises(LabelValidationError, match=r"diversity='kcenter'\) needs the pool features.*Pool.X is None"):
        MarginSampling(diversity="kcenter").select(_data()["proba"], 5)


def test_diversity_refuses_non_finite_features() -> None:
    d = _data()
    X = d["X"].copy()
    X[3, 0] = np.nan
    with pytest.raises(LabelValidationError, match=r"'X' holds NaN or infinite values"):
        MarginSampling(diversity="cluster", candidate_factor=50).select(Pool(proba=d["proba"], X=X), 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, r"needs 'proba', 'X' or 'n_rows'"),
        ({"n_rows": -1}, r"'n_rows' must be an integer >= 0"),
        ({"proba": np.full((4, 2), 0.5), "X": np.zeros((5, 2))}, r"disagree on the number of pool rows"),
        ({"proba": np.full((4, 2), 0.5), "classes": np.array([0, 1, 2])}, r"'classes' has 3 entries but 'proba' has 2"),
        ({"X": np.zeros(5)}, r"'X' must be a 2-D numpy array or scipy.sparse matrix"),
        ({"n_rows": 3, "X_train": np.zeros((4, 2))}, r"'X_train' and 'y_train' go together"),
        ({"n_rows": 3, "X_train": np.zeros((4, 2)), "y_train": np.zeros(3)}, r"one label per row of X_train \(4\)"),
        ({"n_rows": 3, "X_train": np.zeros((2, 2)), "y_train": np.zeros(2), "w_train": np.array([1.0, -1.0])},
         r"'w_train' must hold one finite weight >= 0"),
    ],
)
def test_malformed_pools_are_refused(kwargs: dict[str, Any], message: str) -> None:
    kwargs.setdefault("proba", None)
    with pytest.raises(LabelValidationError, match=message):
        Pool(**kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("diversity", ["kcenter", "cluster"])
def test_a_million_row_sparse_pool_is_scored_and_diversified_without_densifying(diversity: str) -> None:
    # dense, this pool would take 40 GB: the test fails with a MemoryError if any step densifies it
    # (the time it takes is measured in benchmarks/bench_active_pool.py)
    rng = np.random.default_rng(0)
    n, d, nnz = 1_000_000, 5_000, 12
    rows = np.repeat(np.arange(n), nnz)
    X = sp.csr_matrix((rng.random(n * nnz), (rows, rng.integers(0, d, n * nnz))), shape=(n, d))
    p = rng.random(n)
    pool = Pool(proba=np.c_[p, 1 - p], X=X)
    picked = MarginSampling(diversity=diversity, random_state=0).select(pool, 25)
    assert len(np.unique(picked)) == 25
