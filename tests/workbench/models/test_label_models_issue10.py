"""Semi-supervision, Snorkel's tie tolerance, Dawid-Skene's float64 E-step, WeightedMajorityVote, new metrics."""

from __future__ import annotations

import numpy as np
import pytest
from label_sim import simulate_label_matrix

from workbench.models import (
    DawidSkene,
    MajorityVote,
    SnorkelLabelModel,
    WeightedMajorityVote,
    calibration_errors,
    evaluate,
    expected_score,
)


# -- metrics -------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_expected_score_is_the_mean_over_random_tie_breaks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    votes = rng.integers(0, 3, (200, 4))
    P = np.stack([(votes == c).mean(axis=1) for c in range(3)], axis=1)  # many ties
    y = rng.integers(0, 3, 200)
    draws = [(np.array([rng.choice(np.flatnonzero(p >= p.max() - 1e-9)) for p in P]) == y).mean() for _ in range(400)]
    assert expected_score(y, P) == pytest.approx(np.mean(draws), abs=0.01)
    assert 0.0 <= expected_score(y, P, "macro_f1") <= 1.0


def test_expected_f1_counts_the_positive_class_only() -> None:
    P = np.array([[0.2, 0.8], [0.7, 0.3], [0.4, 0.6], [0.9, 0.1]])
    y = np.array([1, 1, 0, 0])
    # tp=1, fn=1, fp=1 -> F1 = 0.5
    assert expected_score(y, P, "f1") == pytest.approx(0.5)
    assert expected_score(y, P, "f1", positive=0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="'metric' parameter must be one of"):
        expected_score(y, P, "auc")


def test_calibration_errors_match_evaluate_and_the_interval_is_seeded() -> None:
    rng = np.random.default_rng(3)
    p1 = rng.random(500)
    y = (rng.random(500) < p1**0.7).astype(int)
    P = np.column_stack([1 - p1, p1])
    a = calibration_errors(y, P, random_state=7)
    b = calibration_errors(y, P, random_state=7)
    ev = evaluate(y, P)
    assert a == b
    assert a["ece"] == pytest.approx(ev["ece"]) and a["brier"] == pytest.approx(ev["brier"])
    assert a["ece_low"] < a["ece"] < a["ece_high"] and a["brier_low"] < a["brier"] < a["brier_high"]
    small = calibration_errors(y[:100], P[:100], random_state=7)
    assert (small["brier_high"] - small["brier_low"]) > (a["brier_high"] - a["brier_low"])
    with pytest.raises(ValueError, match="'n_bootstrap' parameter must be an int >= 0"):
        calibration_errors(y, P, n_bootstrap=-1)


# -- semi-supervision -----------------------------------------------------------------------------
def test_dawid_skene_clamps_gold_rows_in_em() -> None:
    L, y = simulate_label_matrix(2000, np.array([0.9, 0.8, 0.7, 0.6]), np.full(4, 0.7), seed=5)
    ds = DawidSkene(smoothing=0.0, abstain="missing").fit(L, y)  # every row known: EM is counting
    for j in range(L.shape[1]):
        voted = L[:, j] >= 0
        for c in range(2):
            rows = voted & (y == c)
            expected = np.bincount(L[rows, j], minlength=2) / rows.sum()
            np.testing.assert_allclose(ds.confusion_[j, c], expected, atol=1e-9)
    np.testing.assert_allclose(ds.class_prior_, np.bincount(y, minlength=2) / len(y), atol=1e-9)


def test_gold_rows_only_mode_fits_on_the_gold_rows() -> None:
    L, y = simulate_label_matrix(1500, np.array([0.9, 0.7, 0.65]), np.full(3, 0.8), seed=6)
    gold = np.full(1500, -1)
    gold[:300] = y[:300]
    for model in (DawidSkene(unlabeled="ignore"), WeightedMajorityVote(unlabeled="ignore")):
        a = model.fit(L, gold).predict_proba(L)
        b = type(model)(**model.get_params()).fit(L[:300], y[:300]).predict_proba(L)
        np.testing.assert_allclose(a, b)
    with pytest.raises(ValueError, match="'unlabeled' parameter of DawidSkene must be one of"):
        DawidSkene(unlabeled="drop").fit(L)


# -- WeightedMajorityVote ---------------------------------------------------------------------------
def test_weighted_majority_vote_recovers_source_accuracies() -> None:
    acc = np.array([0.92, 0.8, 0.7, 0.6, 0.55])
    L, y = simulate_label_matrix(20000, acc, np.full(5, 0.6), seed=9)
    wmv = WeightedMajorityVote(class_prior="uniform").fit(L)
    np.testing.assert_allclose(wmv.accuracy_, acc, atol=0.03)
    assert np.all(np.diff(wmv.weights_) < 0)  # more accurate -> heavier vote
    gold = WeightedMajorityVote(unlabeled="ignore").fit(L, y)
    np.testing.assert_allclose(gold.accuracy_, acc, atol=0.02)


# -- Dawid-Skene: float64 E-step -----------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_majority_vote_does_not_turn_one_class_sources_against_their_class(seed: int) -> None:
    # four unipolar LFs, 85% accurate each: two only ever vote 0, two only ever vote 1 (how keyword LFs look).
    # "every covered row is class 1 and the 0-voters are always wrong" explains such votes perfectly; EM fell
    # into it (accuracies 1, 1, 0.01, 0.01; expected accuracy 0.52 against majority vote's 0.74)
    rng = np.random.default_rng(seed)
    n = 4000
    y = rng.integers(0, 2, n)
    L = np.full((n, 4), -1)
    for j, c in enumerate([0, 0, 1, 1]):
        fires = rng.random(n) < np.where(y == c, 0.5, 0.5 * 0.15 / 0.85)  # precision 0.85 on what it fires on
        L[fires, j] = c
    wmv = WeightedMajorityVote(class_prior="uniform").fit(L)
    mv = MajorityVote().fit(L)
    assert (wmv.accuracy_ > 0.5).all() and (wmv.weights_ > 0).all()
    # no collapse (it gave 0.52); the one-coin model cannot tell unipolar sources' accuracies apart without
    # gold, so it stays a little behind majority vote here (within 0.015 on these seeds)
    assert expected_score(y, wmv.predict_proba(L)) >= expected_score(y, mv.predict_proba(L)) - 0.03


def test_dawid_skene_posteriors_do_not_depend_on_the_order_of_sources() -> None:
    rng = np.random.default_rng(12)
    n, m = 40, 3000  # thousands of votes per item
    y = rng.integers(0, 2, n)
    acc = rng.uniform(0.5, 0.6, m)
    L = np.where(rng.random((n, m)) < acc, y[:, None], 1 - y[:, None]).astype(np.int8)
    L[:, m // 2 :] = 1 - L[:, : m // 2]  # mirrored sources: every item has exactly tied evidence
    perm = rng.permutation(m)
    a = DawidSkene(abstain="missing", class_prior="uniform", max_iter=5).fit(L).predict_proba(L)
    b = DawidSkene(abstain="missing", class_prior="uniform", max_iter=5).fit(L[:, perm]).predict_proba(L[:, perm])
    np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(a, 0.5, atol=1e-9)  # symmetric input, symmetric posterior


# -- Snorkel: ports of snorkel's own LabelModel tests ---------------------------------------------------
def test_snorkel_three_disagreeing_lfs_give_ties_within_1e5() -> None:
    """snorkel test_label_model.py::test_predict: LFs that always disagree or abstain -> all abstain."""
    pytest.importorskip("snorkel")
    L = np.array([[-1, 1, 0], [0, -1, 1], [1, 0, -1]])
    model = SnorkelLabelModel(cardinality=2, n_epochs=100, random_state=0).fit(L)
    np.testing.assert_array_equal(model.predict(L, tie_break="abstain"), [-1, -1, -1])


def test_snorkel_predictions_match_snorkels_tie_policy(simulated) -> None:
    snorkel_model = pytest.importorskip("snorkel.labeling.model")
    L, _ = simulated
    L = L[:800]
    ours = SnorkelLabelModel(n_epochs=50, random_state=1).fit(L)
    theirs = snorkel_model.LabelModel(cardinality=2, verbose=False)
    theirs.fit(L, n_epochs=50, seed=1, progress_bar=False)
    expected = theirs.predict(L, tie_break_policy="abstain")
    got = ours.predict(L, tie_break="abstain")
    covered = (L >= 0).any(axis=1)  # snorkel predicts a class for rows without votes unless tied
    np.testing.assert_array_equal(got[covered], expected[covered])


def test_snorkel_perfect_lfs_recover_the_labels() -> None:
    """snorkel test_label_model.py::test_score-like case: agreeing accurate LFs -> perfect predictions."""
    pytest.importorskip("snorkel")
    L, y = simulate_label_matrix(1000, np.array([0.99, 0.99, 0.99]), np.ones(3), seed=2)
    model = SnorkelLabelModel(n_epochs=200, random_state=0).fit(L)
    assert (model.predict(L) == y).mean() > 0.98
