"""Dawid-Skene: recovery of known parameters, semi-supervision, crowd mode, no-vote rows."""

from __future__ import annotations

import numpy as np
import pytest
from label_sim import simulate_label_matrix
from sklearn.exceptions import ConvergenceWarning

from workbench.models import DawidSkene, MajorityVote


def simulate_confusions(
    n: int, confusions: np.ndarray, coverages: np.ndarray, prior: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """LF j fires with prob. coverages[j] and then votes c with prob. confusions[j, y, c]."""
    rng = np.random.default_rng(seed)
    m, k, _ = confusions.shape
    y = rng.choice(k, size=n, p=prior)
    L = np.full((n, m), -1, dtype=np.int8)
    for j in range(m):
        cdf = np.cumsum(confusions[j][y], axis=1)
        vote = (rng.random(n)[:, None] > cdf).sum(axis=1)
        fire = rng.random(n) < coverages[j]
        L[fire, j] = vote[fire]
    return L, y


def test_recovers_known_confusion_matrices_and_prior() -> None:
    confusions = np.array(
        [
            [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]],
            [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]],
            [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.3, 0.1, 0.6]],
            [[0.6, 0.3, 0.1], [0.1, 0.6, 0.3], [0.1, 0.2, 0.7]],
            [[0.75, 0.15, 0.1], [0.15, 0.75, 0.1], [0.1, 0.15, 0.75]],
        ]
    )
    coverages = np.array([0.9, 0.8, 0.7, 0.9, 0.8])
    prior = np.array([0.5, 0.3, 0.2])
    L, y = simulate_confusions(40_000, confusions, coverages, prior, seed=11)
    for abstain in ("model", "missing"):
        ds = DawidSkene(abstain=abstain, random_state=0).fit(L)
        assert ds.converged_
        np.testing.assert_allclose(ds.class_prior_, prior, atol=0.02)
        np.testing.assert_allclose(ds.confusion_, confusions, atol=0.04)
        np.testing.assert_allclose(ds.confusion_.sum(axis=2), 1.0)
        true_acc = np.einsum("jyy,y->j", confusions, prior) / 1.0
        np.testing.assert_allclose(ds.lf_accuracy_, true_acc, atol=0.03)
    ds = DawidSkene(random_state=0).fit(L)
    np.testing.assert_allclose(1.0 - ds.abstain_rate_, np.repeat(coverages[:, None], 3, axis=1), atol=0.02)
    mv_acc = (MajorityVote(random_state=0).fit(L).predict(L) == y).mean()
    assert (ds.predict(L) == y).mean() > mv_acc + 0.02


def test_class_conditional_abstain_is_learned() -> None:
    # unipolar LFs: each only ever votes one class and fires more often on it
    rng = np.random.default_rng(5)
    n = 20_000
    y = rng.integers(0, 2, size=n)
    L = np.full((n, 4), -1, dtype=np.int8)
    fire_rates = [(0.05, 0.6), (0.1, 0.5), (0.5, 0.1), (0.6, 0.05)]  # (P(fire|0), P(fire|1))
    polarity = [1, 1, 0, 0]
    for j, (r0, r1) in enumerate(fire_rates):
        fire = rng.random(n) < np.where(y == 0, r0, r1)
        L[fire, j] = polarity[j]
    ds = DawidSkene(random_state=0).fit(L)
    expected = 1.0 - np.array(fire_rates)
    np.testing.assert_allclose(ds.abstain_rate_, expected, atol=0.03)
    # the classic model (abstain = missing) cannot use unipolar LFs at all
    acc_model = (ds.predict(L) == y).mean()
    acc_missing = (DawidSkene(abstain="missing", random_state=0).fit(L).predict(L) == y).mean()
    assert acc_model > 0.8
    assert acc_model > acc_missing + 0.1


def test_semi_supervision_fixes_a_bad_unsupervised_fit() -> None:
    # three adversarial LFs outvote two good ones: unsupervised EM anchors on the wrong side
    acc = np.array([0.3, 0.3, 0.3, 0.9, 0.9])
    cov = np.full(5, 0.9)
    L, y = simulate_label_matrix(5000, acc, cov, seed=3)
    unsup = (DawidSkene(random_state=0).fit(L).predict(L) == y).mean()
    y_partial = np.full_like(y, -1)
    rng = np.random.default_rng(0)
    known = rng.choice(len(y), size=250, replace=False)
    y_partial[known] = y[known]
    ds = DawidSkene(random_state=0).fit(L, y_partial)
    semi = (ds.predict(L)[y_partial < 0] == y[y_partial < 0]).mean()
    assert unsup < 0.5
    assert semi > 0.9
    np.testing.assert_allclose(ds.lf_accuracy_, acc, atol=0.05)


def test_gold_rows_are_clamped(simulated: tuple[np.ndarray, np.ndarray]) -> None:
    L, y = simulated
    y_partial = np.full_like(y, -1)
    y_partial[:50] = 1 - y[:50]  # deliberately wrong gold still gets clamped, not ignored
    a = DawidSkene(random_state=0).fit(L)
    b = DawidSkene(random_state=0).fit(L, y_partial)
    assert not np.allclose(a.confusion_, b.confusion_)
    assert b.fit(L, np.full_like(y, -1)).n_iter_ == a.n_iter_  # all-unknown gold == no gold


def test_rows_without_votes_get_p_y_given_all_abstain() -> None:
    L = np.array([[0, 0, -1], [1, 1, 1], [0, -1, 0], [1, -1, 1], [-1, -1, -1], [0, 0, 0]] * 20)
    for abstain in ("model", "missing", "votes_only"):
        ds = DawidSkene(abstain=abstain, class_prior="uniform" if abstain == "votes_only" else "learned")
        ds.fit(L)
        empty = ds.predict_proba(np.full((2, 3), -1))
        if abstain == "model":
            post = ds.class_prior_ * np.prod(ds.abstain_rate_, axis=0)
            np.testing.assert_allclose(empty[0], post / post.sum())
        else:
            np.testing.assert_allclose(empty[0], ds.class_prior_)
        assert (ds.predict(np.full((2, 3), -1), tie_break="abstain") == -1).all()


def test_crowd_consensus_mode_on_sparse_assignments() -> None:
    # 2,000 items, 60 workers, 5 random workers per item; a third of the workers are spammers
    rng = np.random.default_rng(21)
    n, m, per_item = 2000, 60, 5
    y = rng.integers(0, 2, size=n)
    skill = np.where(np.arange(m) < 20, 0.5, rng.uniform(0.7, 0.95, size=m))
    L = np.full((n, m), -1, dtype=np.int8)
    for i in range(n):
        workers = rng.choice(m, size=per_item, replace=False)
        right = rng.random(per_item) < skill[workers]
        L[i, workers] = np.where(right, y[i], 1 - y[i])
    ds = DawidSkene(abstain="missing", random_state=0).fit(L)
    mv = MajorityVote(random_state=0).fit(L)
    acc_ds = (ds.predict(L) == y).mean()
    acc_mv = (mv.predict(L) == y).mean()
    assert acc_ds > acc_mv + 0.02
    assert np.corrcoef(ds.lf_accuracy_, skill)[0, 1] > 0.9


@pytest.mark.slow
def test_crowd_scale_100k_items_recovers_the_annotators_skills() -> None:
    # its speed against crowd-kit is measured in benchmarks/bench_consensus.py
    rng = np.random.default_rng(2)
    n, m = 100_000, 10
    y = rng.integers(0, 2, size=n)
    skill = rng.uniform(0.6, 0.9, size=m)
    assigned = rng.random((n, m)) < 0.3
    right = rng.random((n, m)) < skill
    L = np.where(assigned, np.where(right, y[:, None], 1 - y[:, None]), -1).astype(np.int8)
    ds = DawidSkene(abstain="missing").fit(L)
    proba = ds.predict_proba(L)
    assert proba.shape == (n, 2)
    np.testing.assert_allclose(np.diagonal(ds.confusion_, axis1=1, axis2=2).mean(axis=1), skill, atol=0.02)


def test_block_boundaries_do_not_change_results(simulated: tuple[np.ndarray, np.ndarray], monkeypatch) -> None:
    import workbench.models._base as base

    L, _ = simulated
    full = DawidSkene(random_state=0).fit(L)
    monkeypatch.setattr(base, "BLOCK_ROWS", 97)
    monkeypatch.setattr(base.one_hot_blocks, "__defaults__", (97,))
    blocked = DawidSkene(random_state=0).fit(L)
    np.testing.assert_allclose(blocked.confusion_, full.confusion_, atol=1e-5)  # float32 sums per block
    np.testing.assert_allclose(blocked.predict_proba(L), full.predict_proba(L), atol=1e-5)


def test_convergence_warning_and_attributes(simulated: tuple[np.ndarray, np.ndarray]) -> None:
    L, _ = simulated
    with pytest.warns(ConvergenceWarning, match=r"did not converge in max_iter=1 iterations"):
        ds = DawidSkene(max_iter=1).fit(L)
    assert ds.n_iter_ == 1 and not ds.converged_
    ds = DawidSkene().fit(L)
    assert ds.converged_ and 1 < ds.n_iter_ < 100
    assert np.isfinite(ds.log_likelihood_)


def test_votes_only_with_learned_prior_warns(simulated: tuple[np.ndarray, np.ndarray]) -> None:
    with pytest.warns(UserWarning, match="class_prior='uniform'"):
        DawidSkene(abstain="votes_only").fit(simulated[0])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"max_iter": 0}, r"'max_iter' parameter of DawidSkene must be an int >= 1. Got 0 instead"),
        ({"tol": -1.0}, r"'tol' parameter of DawidSkene must be a float >= 0. Got -1.0"),
        ({"smoothing": float("nan")}, r"'smoothing' parameter of DawidSkene must be a float >= 0"),
        ({"init": "kmeans"}, r"'init' parameter of DawidSkene must be one of \['majority', 'random'\]"),
        ({"abstain": "skip"}, r"'abstain' parameter of DawidSkene must be one of"),
    ],
)
def test_bad_hyperparameters(simulated: tuple[np.ndarray, np.ndarray], params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DawidSkene(**params).fit(simulated[0])


def test_to_dict_round_trip_is_exact(simulated: tuple[np.ndarray, np.ndarray]) -> None:
    L, _ = simulated
    ds = DawidSkene(abstain="missing", class_prior=[0.4, 0.6], smoothing=0.5).fit(L)
    back = DawidSkene.from_dict(ds.to_dict())
    assert back.get_params()["class_prior"] == [0.4, 0.6]
    np.testing.assert_array_equal(back.predict_proba(L), ds.predict_proba(L))
    assert back.n_iter_ == ds.n_iter_ and back.converged_ == ds.converged_


@pytest.mark.parametrize("abstain", ["model", "missing"])
def test_log_likelihood_and_posteriors_match_brute_force(abstain: str) -> None:
    confusions = np.array([[[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]]] * 4)
    L, _ = simulate_confusions(300, confusions, np.full(4, 0.7), np.array([0.5, 0.3, 0.2]), seed=8)
    ds = DawidSkene(cardinality=3, abstain=abstain, tol=1e-6, max_iter=1000).fit(L)
    assert ds.converged_
    # direct evaluation of log p(y, votes_i) = log prior[y] + sum_j log P(L_ij | y)
    log_joint = np.tile(np.log(ds.class_prior_), (len(L), 1))
    for j in range(L.shape[1]):
        for i, vote in enumerate(L[:, j]):
            if vote >= 0:
                p = ds.confusion_[j, :, vote]
                if abstain == "model":
                    p = p * (1.0 - ds.abstain_rate_[j])
            else:
                p = ds.abstain_rate_[j] if abstain == "model" else np.ones(3)
            log_joint[i] += np.log(p)
    marginal = np.logaddexp.reduce(log_joint, axis=1)
    assert ds.log_likelihood_ == pytest.approx(marginal.mean(), abs=1e-4)
    np.testing.assert_allclose(ds.predict_proba(L), np.exp(log_joint - marginal[:, None]), atol=1e-4)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_silent_lf_and_zero_smoothing_stay_finite(simulated: tuple[np.ndarray, np.ndarray]) -> None:
    L, y = simulated
    with_silent = np.hstack([L, np.full((L.shape[0], 1), -1, dtype=np.int8)])
    for abstain in ("model", "missing"):
        base = DawidSkene(abstain=abstain).fit(L)
        ds = DawidSkene(abstain=abstain).fit(with_silent)
        assert ds.abstain_rate_[-1].min() > 0.99
        np.testing.assert_allclose(ds.predict_proba(with_silent), base.predict_proba(L), atol=1e-3)
    unipolar = np.where(L == 1, 1, -1).astype(np.int8)  # every LF only ever votes class 1
    ds = DawidSkene(smoothing=0.0).fit(unipolar)
    proba = ds.predict_proba(unipolar)
    assert np.isfinite(proba).all() and np.isfinite(ds.log_likelihood_)
    # without pseudo-counts EM starts on the boundary (class 0 never "fires") and does worse
    # than with the default smoothing, but it stays finite and better than chance
    acc_zero = (ds.predict(unipolar, tie_break="first") == y).mean()
    acc_default = (DawidSkene().fit(unipolar).predict(unipolar, tie_break="first") == y).mean()
    assert 0.6 < acc_zero <= acc_default
