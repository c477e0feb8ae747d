"""evaluate / reliability_table / compare_label_models: agree with sklearn, hide nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, log_loss

from workbench.exceptions import DataError
from workbench.models import DawidSkene, MajorityVote, compare_label_models, evaluate, reliability_table


@pytest.fixture
def noisy_proba() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    n, k = 500, 3
    y = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.0
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


def test_matches_sklearn_on_non_degenerate_data(noisy_proba) -> None:
    y, proba = noisy_proba
    res = evaluate(y, proba, tie_break="first")
    pred = proba.argmax(axis=1)
    assert res["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert res["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert res["log_loss"] == pytest.approx(log_loss(y, proba))
    assert res["n_gold"] == res["n_items"] == 500
    assert res["coverage"] == 1.0 and res["n_ties"] == 0 and res["n_uncovered"] is None
    assert res["accuracy_low"] < res["accuracy"] < res["accuracy_high"]
    onehot = np.eye(3)[y]
    assert res["brier"] == pytest.approx(np.mean(((proba - onehot) ** 2).sum(axis=1)))


def test_ece_by_hand() -> None:
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.95, 0.05], [0.92, 0.08], [0.6, 0.4], [0.3, 0.7]])
    # bins are right-closed: (0.9, 1.0] holds 0.95 and 0.92 (both right), (0.5, 0.6] holds
    # the 0.6 (wrong) and (0.6, 0.7] the 0.7 (right)
    expected = (2 * abs(1.0 - 0.935) + abs(0.0 - 0.6) + abs(1.0 - 0.7)) / 4
    assert evaluate(y, proba)["ece"] == pytest.approx(expected)
    table = reliability_table(y, proba, n_bins=10)
    assert list(table.columns) == ["bin_lower", "bin_upper", "n", "mean_confidence", "accuracy", "gap"]
    assert table["n"].sum() == 4 and len(table) == 10
    row = table.iloc[9]
    assert row["n"] == 2 and row["mean_confidence"] == pytest.approx(0.935) and row["accuracy"] == 1.0
    assert table.iloc[5]["n"] == 1 and table.iloc[5]["accuracy"] == 0.0
    assert table.iloc[6]["n"] == 1 and table.iloc[6]["gap"] == pytest.approx(0.3)
    assert np.isnan(table.iloc[0]["accuracy"])


def test_ties_and_uncovered_are_counted_not_dropped() -> None:
    L = np.array([[0, 0], [1, -1], [0, 1], [-1, -1], [1, 1]])
    y = np.array([0, 1, 1, 0, -1])  # last item has no gold
    mv = MajorityVote().fit(L)
    proba = mv.predict_proba(L)
    res = evaluate(y, proba, L=L, tie_break="abstain")
    assert res["n_items"] == 5 and res["n_gold"] == 4
    assert res["n_ties"] == 2  # the 0/1 tie and the uncovered row (uniform prior)
    assert res["n_uncovered"] == 1
    assert res["n_abstained"] == 2 and res["coverage"] == 0.5
    assert res["accuracy"] == 0.5  # abstentions count as wrong
    assert res["accuracy_on_predicted"] == 1.0
    # macro F1 with abstentions as misses: class 0: tp1 fn1 -> 2/3; class 1: tp1 fn1 -> 2/3
    assert res["macro_f1"] == pytest.approx(2 / 3)
    first = evaluate(y, proba, L=L, tie_break="first")
    assert first["coverage"] == 1.0 and first["accuracy"] == 0.75
    # "random" depends on the seed, and the seed makes it reproducible
    accs = {evaluate(y, proba, L=L, random_state=s)["accuracy"] for s in range(30)}
    assert accs == {0.5, 0.75, 1.0}
    assert evaluate(y, proba, L=L, random_state=3) == evaluate(y, proba, L=L, random_state=3)


def test_explicit_predictions_and_clipped_log_loss() -> None:
    y = np.array([0, 1])
    proba = np.array([[1.0, 0.0], [1.0, 0.0]])
    res = evaluate(y, proba, pred=[0, -1])
    assert res["accuracy"] == 0.5 and res["n_abstained"] == 1
    assert np.isfinite(res["log_loss"]) and res["log_loss"] == pytest.approx(-np.log(1e-15) / 2)


@pytest.mark.parametrize(
    ("y", "proba", "message"),
    [
        ([0, 1], [0.5, 0.5], r"'proba' must be 2-D"),
        ([0, 1], [[0.5, 0.5]], r"'proba' has 1 row\(s\) but y_true has 2"),
        ([0, 1], [[0.5, 0.6], [0.5, 0.5]], r"rows sum to 1"),
        ([-1, -1], [[0.5, 0.5], [0.5, 0.5]], r"-1 \(unknown\) everywhere"),
        ([0, 2], [[0.5, 0.5], [0.5, 0.5]], r"contain \[2\] but cardinality is 2"),
    ],
)
def test_evaluate_errors(y, proba, message: str) -> None:
    with pytest.raises(DataError, match=message):
        evaluate(y, proba)


def test_compare_label_models_verdict(simulated) -> None:
    L, y = simulated
    train, test = slice(0, 2000), slice(2000, None)
    ds = DawidSkene(random_state=0).fit(L[train])
    y_eval = y[test].copy()
    y_eval[:10] = -1
    df = compare_label_models({"DawidSkene": ds}, L[test], y_eval, random_state=0)
    assert isinstance(df, pd.DataFrame)
    assert list(df.index) == ["DawidSkene", "MajorityVote"]
    assert df.attrs["baseline"] == "MajorityVote"
    assert (df["n_gold"] == 990).all()
    assert bool(df.loc["DawidSkene", "beats_majority_vote"]) is True
    diff = df.loc["DawidSkene", "accuracy_vs_majority"]
    assert diff > 0
    assert df.attrs["verdict"].startswith(f"DawidSkene beats majority vote by {diff:.1f} points")
    assert "990 gold items" in df.attrs["verdict"]
    for col in ("accuracy", "macro_f1", "log_loss", "ece", "coverage", "n_ties", "n_uncovered"):
        assert col in df.columns


def test_the_verdict_compares_expected_accuracy_not_one_draw_of_the_ties() -> None:
    # majority vote ties on half the rows; a model that breaks them no better than chance ties with it in
    # expectation, whatever the seed of the one random draw says
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    L = np.c_[y, np.where(np.arange(400) % 2 == 0, y, 1 - y)]  # LF 2 is wrong on odd rows: they tie
    mv = MajorityVote().fit(L)
    coin = np.full((400, 2), 0.5)
    coin[np.arange(0, 400, 2)] = np.eye(2)[y[::2]]  # right where MV is right, a coin elsewhere
    verdicts, draws = set(), set()
    for seed in range(6):
        df = compare_label_models({"MV": mv, "coin": coin}, L, y, random_state=seed)
        assert df.loc["coin", "expected_accuracy"] == pytest.approx(0.75)
        assert df.loc["MV", "expected_accuracy"] == pytest.approx(0.75)
        assert not df["beats_majority_vote"].any()
        verdicts.add(df.attrs["verdict"])
        draws.add(float(df.loc["MV", "accuracy"]))
    assert len(draws) > 1  # one draw of the ties moves with the seed; the verdict does not
    assert verdicts == {"coin ties with majority vote (0.750 vs 0.750 expected accuracy over random tie breaks "
                        "on 400 gold items, tie_break='random')"}


def test_compare_label_models_says_when_majority_vote_wins() -> None:
    # a model fitted on other data with a fixed, wrong prior loses to majority vote here
    L = np.array([[0, 0, 0], [1, 1, 1], [0, 0, -1], [1, 1, -1]] * 5)
    y = np.array([0, 1, 0, 1] * 5)
    flipped = np.array([[1, 1, 1], [0, 0, 0]] * 10)
    bad = DawidSkene(random_state=0).fit(flipped, np.array([0, 1] * 10))
    mv = MajorityVote(random_state=0).fit(L)
    df = compare_label_models({"MV": mv, "Bad": bad}, L, y)
    assert df.attrs["baseline"] == "MV"
    assert not df["beats_majority_vote"].any()
    assert df.attrs["verdict"].startswith("majority vote wins: the best other model, Bad, is 100.0 points behind")


def test_the_verdict_says_when_accuracy_hides_a_lower_macro_f1() -> None:
    """Imbalanced gold (90% class 0): a model that always says 0 beats majority vote on accuracy only."""
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.1).astype(int)
    L = np.where(rng.random((400, 3)) < 0.6, np.where(rng.random((400, 3)) < 0.7, y[:, None], 1 - y[:, None]), -1)
    always_zero = np.tile([0.9, 0.1], (400, 1))
    df = compare_label_models({"always_zero": always_zero, "mv": MajorityVote(cardinality=2).fit(L)}, L, y,
                              baseline="mv", random_state=0)
    assert df.loc["always_zero", "beats_majority_vote"]
    assert df.loc["always_zero", "macro_f1"] < df.loc["mv", "macro_f1"]
    assert "but its macro F1 is lower" in df.attrs["verdict"]


def test_compare_says_when_it_scored_on_held_out_gold_instead_of_cross_fitting() -> None:
    from workbench.models._crossfit import crossfit_evaluation

    y_fit = np.array([0, 1, -1, -1])
    assert crossfit_evaluation(y_fit, np.array([-1, -1, 0, 1]), 3).startswith("fitted on the project's gold")
    assert crossfit_evaluation(y_fit, np.array([0, 1, 0, 1]), 3) == "cross-fitted (3 folds)"
