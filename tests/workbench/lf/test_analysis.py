"""lf_summary, overall_stats, lf_pair_matrix and drill-downs against snorkel and brute force."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from snorkel.labeling import LFAnalysis

from workbench._stats import wilson_interval
from workbench.exceptions import LFError
from workbench.lf import (
    lf_pair_matrix,
    lf_summary,
    overall_stats,
    rows_where_conflict,
    rows_where_fires,
    rows_where_wrong,
)


def random_L(seed: int, n: int = 500, m: int = 7, k: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    L = rng.integers(0, k, size=(n, m))
    L[rng.random((n, m)) < 0.6] = -1
    L[:, 3] = -1  # an LF that never fires
    return L.astype(np.int8)


def snorkel_summary(L: np.ndarray, gold: np.ndarray | None) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LFAnalysis(L.astype(np.int64)).lf_summary(gold)


@pytest.mark.parametrize(("seed", "k"), [(0, 3), (1, 2), (2, 2), (3, 5)])
@pytest.mark.parametrize("chunk", [1 << 15, 64])  # one block, and many blocks with a ragged last one
def test_summary_equals_snorkel_with_fully_known_gold(
    seed: int, k: int, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workbench.lf._analysis as analysis

    monkeypatch.setattr(analysis, "_CHUNK", chunk)
    L = random_L(seed, k=k)
    gold = np.random.default_rng(seed + 100).integers(0, k, L.shape[0])
    ours = lf_summary(L, [f"lf{j}" for j in range(L.shape[1])], gold=gold)
    column_major = lf_summary(np.asfortranarray(L), [f"lf{j}" for j in range(L.shape[1])], gold=gold)
    pd.testing.assert_frame_equal(ours, column_major)
    assert overall_stats(np.asfortranarray(L)) == overall_stats(L)
    theirs = snorkel_summary(L, gold)
    assert ours["polarity"].tolist() == theirs["Polarity"].tolist()
    for a, b in [("coverage", "Coverage"), ("overlaps", "Overlaps"), ("conflicts", "Conflicts")]:
        np.testing.assert_allclose(ours[a].to_numpy(), theirs[b].to_numpy())
    assert ours["correct"].tolist() == theirs["Correct"].tolist()
    assert ours["incorrect"].tolist() == theirs["Incorrect"].tolist()
    fired = ours["n_gold"].to_numpy() > 0
    np.testing.assert_allclose(ours["emp_acc"].to_numpy()[fired], theirs["Emp. Acc."].to_numpy()[fired])
    assert np.isnan(ours.loc["lf3", "emp_acc"])  # never fired: no accuracy, not 0


def test_summary_without_gold_has_no_accuracy_columns() -> None:
    s = lf_summary(random_L(3))
    assert list(s.columns) == ["j", "polarity", "coverage", "overlaps", "conflicts", "n_votes"]
    assert list(s.index) == [str(j) for j in range(7)]


def test_unknown_gold_is_not_counted_as_wrong() -> None:
    L = np.array([[1], [1], [1], [1], [0]], dtype=np.int8)
    gold = np.array([1, 1, -1, np.nan, 0], dtype=float)
    s = lf_summary(L, ["a"], gold=gold)
    assert s.loc["a", "correct"] == 3 and s.loc["a", "incorrect"] == 0 and s.loc["a", "n_gold"] == 3
    assert s.loc["a", "emp_acc"] == 1.0
    # Snorkel counts the two unknown-gold votes as wrong: 0.6
    their = snorkel_summary(L, np.array([1, 1, -1, -1, 0]))
    assert their.loc[0, "Emp. Acc."] == pytest.approx(0.6)


def test_wilson_interval_columns() -> None:
    L = random_L(4)
    gold = np.random.default_rng(4).integers(-1, 3, L.shape[0])  # some unknown
    s = lf_summary(L, gold=gold, confidence=0.9)
    low, high = wilson_interval(s["correct"], s["n_gold"], confidence=0.9)
    np.testing.assert_allclose(s["emp_acc_low"].to_numpy(), low)
    np.testing.assert_allclose(s["emp_acc_high"].to_numpy(), high)
    fired = s["n_gold"] > 0
    assert ((s["emp_acc_low"] <= s["emp_acc"]) & (s["emp_acc"] <= s["emp_acc_high"]))[fired].all()


def test_overall_stats_equal_snorkel() -> None:
    L = random_L(5)
    ours = overall_stats(L)
    a = LFAnalysis(L.astype(np.int64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours["coverage"] == pytest.approx(a.label_coverage())
        assert ours["overlap"] == pytest.approx(a.label_overlap())
        assert ours["conflict"] == pytest.approx(a.label_conflict())
    assert ours["n_items"] == 500 and ours["n_lfs"] == 7


@pytest.mark.parametrize("chunk", [1 << 15, 50])
def test_pair_matrix_equals_brute_force(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench.lf._analysis as analysis

    monkeypatch.setattr(analysis, "_CHUNK", chunk)
    L = random_L(6, n=333)  # not a multiple of 64: exercises bit padding
    names = [f"lf{j}" for j in range(L.shape[1])]
    pm = lf_pair_matrix(L, names)
    for a in range(L.shape[1]):
        for b in range(L.shape[1]):
            both = (L[:, a] != -1) & (L[:, b] != -1)
            assert pm.loc[names[a], ("overlap", names[b])] == both.sum()
            assert pm.loc[names[a], ("agree", names[b])] == (both & (L[:, a] == L[:, b])).sum()
            assert pm.loc[names[a], ("conflict", names[b])] == (both & (L[:, a] != L[:, b])).sum()
    normalized = lf_pair_matrix(L, names, normalize=True)
    np.testing.assert_allclose(normalized["overlap"].to_numpy(), pm["overlap"].to_numpy() / 333)


def test_drill_downs_return_positions_or_ids() -> None:
    L = np.array([[0, 1], [0, 0], [-1, 1], [1, -1]], dtype=np.int8)
    ids = ["a", "b", "c", "d"]
    assert rows_where_fires(L, 0).tolist() == [0, 1, 3]
    assert rows_where_fires(L, "y", lf_names=["x", "y"], row_ids=ids).tolist() == ["a", "b", "c"]
    assert rows_where_fires(L, 0, label=1).tolist() == [3]
    assert rows_where_conflict(L, 0, 1).tolist() == [0]
    assert rows_where_wrong(L, 0, gold=[1, 0, 1, -1], row_ids=ids).tolist() == ["a"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lf_summary(np.zeros(3)), "must be 2-D"),
        (lambda: lf_summary(np.zeros((2, 2))), "must hold integers"),
        (lambda: lf_summary(np.zeros((2, 2), dtype=int), ["a"]), "Got 1 LF names for a label matrix with 2 columns"),
        (lambda: lf_summary(np.zeros((2, 1), dtype=int), gold=[1]), "Got 1 gold labels for a label matrix with 2 rows"),
        (lambda: lf_summary(np.full((2, 1), 2), cardinality=2), "outside 0..1"),
        (lambda: rows_where_fires(np.zeros((2, 1), dtype=int), "z"), "No LF named 'z'"),
    ],
)
def test_analysis_error_catalogue(call: object, message: str) -> None:
    with pytest.raises(LFError, match=message):
        call()  # type: ignore[operator]


def test_empty_matrices() -> None:
    none = np.zeros((0, 3), dtype=np.int8)
    assert lf_summary(none, ["a", "b", "c"])["coverage"].tolist() == [0.0, 0.0, 0.0]
    assert overall_stats(none)["coverage"] == 0.0
    no_lfs = np.zeros((4, 0), dtype=np.int8)
    assert lf_summary(no_lfs, gold=[0, 1, 0, 1]).empty
    assert overall_stats(no_lfs) == {"n_items": 4.0, "n_lfs": 0.0, "coverage": 0.0, "overlap": 0.0, "conflict": 0.0}
