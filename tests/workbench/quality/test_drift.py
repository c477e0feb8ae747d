from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import DataError
from workbench.quality import annotator_drift, annotator_report, majority_consensus

START = pd.Timestamp("2026-01-05 09:00", tz="UTC")


def timeline(correct_per_week: dict[str, list[int]], per_week: int = 40) -> tuple[pd.DataFrame, pd.Series]:
    """Each annotator answers `per_week` gold items a week, of which the given number correctly."""
    rows = []
    gold = {}
    for name, weekly in correct_per_week.items():
        for w, n_correct in enumerate(weekly):
            for j in range(per_week):
                item = f"{name}-{w}-{j}"
                gold[item] = "yes"
                value = "yes" if j < n_correct else "no"
                when = START + pd.Timedelta(days=7 * w) + pd.Timedelta(hours=j)
                rows.append((item, name, value, when))
    ann = pd.DataFrame(rows, columns=["example_id", "annotator", "value", "created_at"])
    return ann, pd.Series(gold)


def test_drop_is_detected_in_the_right_window() -> None:
    ann, gold = timeline({"drifter": [38, 37, 38, 20], "steady": [36, 35, 37, 36]})
    out = annotator_drift(ann, gold=gold, window="7D")
    assert len(out) == 8
    assert out["window_start"].iloc[0] == START.floor("D")
    drifter = out.loc[out["annotator"] == "drifter"]
    assert drifter["dropped"].tolist() == [False, False, False, True]
    last = drifter.iloc[-1]
    assert last["honeypot_accuracy"] == pytest.approx(0.5)
    assert last["baseline_honeypot_accuracy"] == pytest.approx(113 / 120)  # pooled earlier windows
    assert last["n_gold"] == 40 and last["n_labels"] == 40
    assert np.isnan(drifter["baseline_honeypot_accuracy"].iloc[0])
    assert not out.loc[out["annotator"] == "steady", "dropped"].any()
    assert "consensus_agreement" not in out.columns


def test_margin_and_min_count_gate_the_flag() -> None:
    ann, gold = timeline({"drifter": [38, 37, 38, 20]})
    assert not annotator_drift(ann, gold=gold, margin=0.5)["dropped"].any()
    assert not annotator_drift(ann, gold=gold, min_count=41)["dropped"].any()
    # with 6-hour windows each window has <= 6 items, so nothing can drop
    assert not annotator_drift(ann, gold=gold, window="6h")["dropped"].any()


def test_drift_on_consensus_agreement() -> None:
    ann, gold = timeline({"drifter": [38, 37, 38, 20]})
    cons = pd.Series("yes", index=gold.index)
    out = annotator_drift(ann, consensus=cons)
    assert out["dropped_consensus_agreement"].tolist() == [False, False, False, True]
    assert "honeypot_accuracy" not in out.columns


def test_drift_input_errors() -> None:
    ann, gold = timeline({"a": [10]})
    with pytest.raises(DataError, match="created_at"):
        annotator_drift(ann.drop(columns="created_at"), gold=gold)
    with pytest.raises(DataError, match="tz-aware"):
        annotator_drift(ann.assign(created_at=ann["created_at"].dt.tz_localize(None)), gold=gold)
    with pytest.raises(DataError, match="window"):
        annotator_drift(ann, gold=gold, window="soon")
    with pytest.raises(DataError, match="margin"):
        annotator_drift(ann, gold=gold, margin=2)


def test_annotator_report_combines_signals(make_crowd) -> None:  # type: ignore[no-untyped-def]
    ann, gold = timeline({"drifter": [38, 37, 38, 20], "steady": [36, 35, 37, 36], "poor": [15] * 4})
    cons = pd.Series("yes", index=gold.index)
    report = annotator_report(ann, gold, cons)
    assert list(report.index) == ["drifter", "poor", "steady"]
    assert report["flagged"].tolist() == [True, True, False]
    assert report["drifted"].tolist() == [True, False, False]
    assert "dropped" in report.loc["drifter", "reasons"]
    assert "honeypot accuracy" in report.loc["poor", "reasons"]
    assert report.loc["steady", "reasons"] == ""
    assert report.loc["steady", "n_labels"] == 160
    assert report.loc[["drifter", "poor"], "recommended_weight"].tolist() == [0.0, 0.0]
    p = (144 + 1) / (160 + 2)
    assert report.loc["steady", "recommended_weight"] == pytest.approx(np.log(p / (1 - p)))
    no_time = annotator_report(ann.drop(columns="created_at"), gold)
    assert not no_time["drifted"].any() and "n_consensus" not in no_time.columns


def test_report_weights_improve_majority_vote(make_crowd) -> None:  # type: ignore[no-untyped-def]
    acc = [0.95, 0.9, 0.9, 0.85, 0.55, 0.5, 0.45, 0.45, 0.4, 0.4]
    ann, gold, _ = make_crowd(seed=5, n_items=3000, n_annotators=10, per_item=5, accuracies=acc)
    honeypots = gold.iloc[:600]  # 20% of the items are gold
    report = annotator_report(ann, honeypots)
    weights = report["recommended_weight"]
    assert weights["w00"] > weights["w03"] > weights["w04"]
    test_items = gold.index[600:]
    plain = majority_consensus(ann, tie_break="random", random_state=0).loc[test_items]
    weighted = majority_consensus(ann, tie_break="random", random_state=0, weights=weights).loc[test_items]

    def acc_of(c: pd.DataFrame) -> float:
        return float((c["label"].to_numpy() == gold.loc[test_items].to_numpy()).mean())

    assert acc_of(weighted) > acc_of(plain) + 0.03


def test_report_uses_consensus_when_gold_is_thin() -> None:
    ann, gold = timeline({"poor": [15, 15], "steady": [36, 35]})
    cons = pd.Series("yes", index=gold.index)
    report = annotator_report(ann, None, cons)
    assert report["flagged"].tolist() == [True, False]
    assert "agreement with consensus" in report.loc["poor", "reasons"]


def test_drift_and_annotator_checks_through_run_checks() -> None:
    from workbench.quality import run_checks

    ann, gold = timeline({"drifter": [38, 37, 38, 20], "steady": [36, 35, 37, 36]})
    results = run_checks(ann, gold, checks=["drift", "annotators"], params={"drift": {"margin": 0.2}})
    assert results["drift"].flagged_annotators == ["drifter"]
    assert results["drift"].summary["n_dropped_windows"] == 1
    assert results["annotators"].flagged_annotators == ["drifter"]
    assert results["annotators"].table.loc["drifter", "drifted"]
