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
    # min_count applies to each tested segment: one window (40) alone is too thin ...
    assert not annotator_drift(ann, gold=gold, min_count=41, recent_windows=1)["dropped"].any()
    # ... but the last two windows pooled (80 items) against the first two (80) are enough
    assert annotator_drift(ann, gold=gold, min_count=41)["dropped"].tolist() == [False, False, False, True]
    assert not annotator_drift(ann, gold=gold, min_count=81)["dropped"].any()
    # with 6-hour windows each window has <= 6 items, so no single window can be tested ...
    six = annotator_drift(ann, gold=gold, window="6h", recent_windows=1)
    assert not six["dropped"].any() and six["p_value_honeypot_accuracy"].isna().all()
    # ... but two of them pooled can: the last hours of week 4 are all wrong answers
    assert annotator_drift(ann, gold=gold, window="6h")["dropped"].any()


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
    with pytest.raises(DataError, match="'alpha' parameter of annotator_drift .* strictly between 0 and 1"):
        annotator_drift(ann, gold=gold, alpha=0.0)
    with pytest.raises(DataError, match="recent_windows"):
        annotator_drift(ann, gold=gold, recent_windows=0)
    with pytest.raises(DataError, match="family"):
        annotator_drift(ann, gold=gold, family="team")  # type: ignore[arg-type]


def test_count_windows_follow_each_annotators_own_pace() -> None:
    # the drifter works in one burst a week, the steady one answers the same number spread over four weeks
    ann, gold = timeline({"drifter": [38, 37, 38, 20]})
    steady, steady_gold = timeline({"steady": [36, 35, 37, 36]})
    steady["created_at"] = START + pd.to_timedelta(np.arange(len(steady)) * 6, unit="h")
    ann, gold = pd.concat([ann, steady], ignore_index=True), pd.concat([gold, steady_gold])
    shuffled = ann.sample(frac=1.0, random_state=0)  # the table does not depend on row order
    out = annotator_drift(shuffled, gold=gold, window=40)
    assert out.groupby("annotator")["n_labels"].apply(list).to_dict() == {"drifter": [40] * 4, "steady": [40] * 4}
    drifter = out[out["annotator"] == "drifter"]
    assert drifter["dropped"].tolist() == [False, False, False, True]
    assert drifter["window_start"].tolist() == [START + pd.Timedelta(days=7 * w) for w in range(4)]  # first answers
    assert not out.loc[out["annotator"] == "steady", "dropped"].any()
    # the same answers in windows of time: 7-day windows cut the steady annotator's work differently
    timed = annotator_drift(shuffled, gold=gold, window="7D")
    assert timed.loc[timed["annotator"] == "steady", "n_labels"].tolist() == [27, 28, 28, 28, 28, 21]
    # a last, partial window holds what is left
    assert annotator_drift(ann, gold=gold, window=150)["n_labels"].tolist() == [150, 10, 150, 10]


def test_a_drifted_weight_counts_only_the_count_windows_since_the_drop() -> None:
    # 200 answers stamped with one day (a crowd export): two windows of 100 share their start time
    day = pd.Timestamp("2024-03-01", tz="UTC")
    ids = [f"c{i:03d}" for i in range(200)]
    values = ["yes" if (j < 100 or j % 5 == 0) else "no" for j in range(200)]
    ann = pd.DataFrame({"example_id": ids, "annotator": "a", "value": values, "created_at": day})
    gold = pd.Series("yes", index=ids)
    drift = annotator_drift(ann, gold, window=100)
    assert drift["window_start"].nunique() == 1 and drift["dropped"].tolist() == [False, True]
    report = annotator_report(ann, gold, window=100).loc["a"]
    assert report["drifted"] and report["weight_evidence"] == 100  # the second window only
    assert report["weight_accuracy"] < 0.3 and report["recommended_weight"] == 0


def test_count_windows_are_ints_and_a_bare_number_is_refused() -> None:
    ann, gold = timeline({"a": [10]})
    with pytest.raises(DataError, match="'50', a number without a unit: .* '50D' .* the int 50"):
        annotator_drift(ann, gold=gold, window="50")
    for bare in ("+50", " 1e3 ", "2.5"):  # pandas would read each as nanoseconds
        with pytest.raises(DataError, match="a number without a unit"):
            annotator_drift(ann, gold=gold, window=bare)
    for bad in (0, -3):
        with pytest.raises(DataError, match="positive int"):
            annotator_drift(ann, gold=gold, window=bad)
    for bad in (2.5, True):  # a float would be read as nanoseconds by pandas
        with pytest.raises(DataError, match="window"):
            annotator_drift(ann, gold=gold, window=bad)  # type: ignore[arg-type]
    assert annotator_drift(ann, gold=gold, window=np.int64(15))["n_labels"].tolist() == [15, 15, 10]


def test_annotator_report_combines_signals(make_crowd) -> None:  # type: ignore[no-untyped-def]
    ann, gold = timeline({"drifter": [38, 37, 38, 20], "steady": [36, 35, 37, 36], "poor": [15] * 4})
    cons = pd.Series("yes", index=gold.index)
    report = annotator_report(ann, gold, cons)
    assert list(report.index) == ["drifter", "poor", "steady"]
    assert report["flagged"].tolist() == [True, True, False]
    assert report["drifted"].tolist() == [True, False, False]
    assert "dropped significantly (family-wise alpha 0.05)" in report.loc["drifter", "reasons"]
    assert "honeypot accuracy" in report.loc["poor", "reasons"]
    assert report.loc["steady", "reasons"] == ""
    assert report.loc["steady", "n_labels"] == 160
    # the prior is the pooled accuracy of everyone (Laplace-smoothed), worth 2 answers
    prior = (113 + 20 + 60 + 144 + 1) / (480 + 2)
    p = (144 + 2 * prior) / (160 + 2)
    assert report.loc["steady", "weight_accuracy"] == pytest.approx(p)
    assert report.loc["steady", "recommended_weight"] == pytest.approx(np.log(p / (1 - p)))
    assert report.loc["steady", "weight_basis"] == "honeypots"
    # the drifter's weight rests on the window since the drop (20 of 40 right): barely above chance
    drifter = report.loc["drifter"]
    assert drifter["weight_basis"] == f"honeypots since {START.floor('D') + pd.Timedelta(days=21)}"
    assert drifter["weight_evidence"] == 40
    assert drifter["weight_accuracy"] == pytest.approx((20 + 2 * prior) / 42)
    assert 0 < drifter["recommended_weight"] < 0.1
    # "poor" is right 15 times in 40 on a yes/no question: worse than chance, weight 0
    assert report.loc["poor", "weight_accuracy"] < 0.5 and report.loc["poor", "recommended_weight"] == 0.0
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


def test_p_values_are_holm_adjusted_one_sided_fisher_tests() -> None:
    from scipy.stats import fisher_exact
    from statsmodels.stats.multitest import multipletests

    weekly = {"drifter": [38, 37, 38, 20], "steady": [36, 35, 37, 36]}
    ann, gold = timeline(weekly)
    out = annotator_drift(ann, gold=gold, recent_windows=1, margin=0.0)
    raw = []
    for counts in weekly.values():
        for t in range(1, 4):
            k_pre, n_pre = sum(counts[:t]), 40 * t
            table = [[counts[t], 40 - counts[t]], [k_pre, n_pre - k_pre]]
            raw.append(fisher_exact(table, alternative="less")[1])
    expected = multipletests(raw, method="holm")[1]
    got = out.loc[out["window_start"] > START.floor("D"), "p_value_honeypot_accuracy"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert np.isnan(out["p_value_honeypot_accuracy"].iloc[0])  # the first window has nothing to compare with
    assert out["dropped"].iloc[1:].tolist() == [bool(x) for x in expected[:3] <= 0.05] + [False] * 4


def test_holm_adjust_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    from workbench.quality._drift import holm_adjust

    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.2, size=50)
    np.testing.assert_allclose(holm_adjust(p), multipletests(p, method="holm")[1])
    with_nan = np.r_[p[:5], np.nan]
    np.testing.assert_allclose(holm_adjust(with_nan)[:5], multipletests(p[:5], method="holm")[1])
    assert np.isnan(holm_adjust(with_nan)[5]) and holm_adjust([]).shape == (0,)


def test_more_annotators_make_the_same_dip_less_significant() -> None:
    """The correction is over annotators too: a borderline dip stops being a flag in a larger team."""
    weekly = {"dip": [36, 37, 36, 27]}
    alone = annotator_drift(*timeline(weekly), margin=0.0)
    assert alone["dropped"].iloc[-1]
    team = {**weekly, **{f"s{i}": [36, 36, 36, 36] for i in range(20)}}
    ann, gold = timeline(team)
    in_team = annotator_drift(ann, gold=gold, margin=0.0)
    assert not in_team.loc[in_team["annotator"] == "dip", "dropped"].any()
    # per-annotator correction keeps it: each annotator is its own family
    per_annotator = annotator_drift(ann, gold=gold, margin=0.0, family="annotator")
    assert per_annotator.loc[per_annotator["annotator"] == "dip", "dropped"].iloc[-1]
    assert per_annotator.loc[per_annotator["annotator"] == "dip", "p_value_honeypot_accuracy"].iloc[-1] == (
        pytest.approx(alone["p_value_honeypot_accuracy"].iloc[-1])
    )


def test_drop_since_points_at_the_window_where_the_drop_began() -> None:
    ann, gold = timeline({"drifter": [38, 37, 38, 20, 19, 21]})
    out = annotator_drift(ann, gold=gold)
    assert out["dropped"].tolist() == [False, False, False, True, True, True]
    week = [START.floor("D") + pd.Timedelta(days=7 * w) for w in range(6)]
    # each row's most significant segment: week 3 alone, weeks 3-4, then weeks 4-5 (spans are <= 2 windows)
    assert out["drop_since"].tolist()[3:] == [week[3], week[3], week[4]]
    assert out["drop_since"].iloc[:3].isna().all()
    report = annotator_report(ann, gold)
    assert report.loc["drifter", "weight_basis"] == f"honeypots since {week[3]}"
    assert report.loc["drifter", "weight_evidence"] == 120


def test_created_at_errors_say_what_is_wrong(make_timeline) -> None:  # type: ignore[no-untyped-def]
    ann, gold = timeline({"a": [30, 30]})
    iso = ann.assign(created_at=ann["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    # ISO-8601 strings with a time zone are parsed
    assert annotator_drift(iso, gold=gold).equals(annotator_drift(ann, gold=gold))
    mixed = iso.copy()
    mixed.loc[5, "created_at"] = "05/01/2024 10:00"
    for fn in (annotator_drift, annotator_report):
        with pytest.raises(DataError, match=r"ISO-8601 .*Got 1 value\(s\) that are not ISO-8601: '05/01/2024 10:00' "
                           r"\(row 5\) instead\. .*pd\.to_datetime\(col, format="):
            fn(mixed, gold)
    naive = iso.copy()
    naive.loc[7, "created_at"] = "2024-05-01 10:00"
    with pytest.raises(DataError, match=r"without one: '2024-05-01 10:00' \(row 7\).*Append the offset"):
        annotator_drift(naive, gold=gold)
    with pytest.raises(DataError, match=r"naive timestamps \(dtype datetime64"):
        annotator_drift(ann.assign(created_at=ann["created_at"].dt.tz_localize(None)), gold=gold)
    # missing timestamps are dropped, as before
    some_missing = iso.assign(created_at=iso["created_at"].where(iso.index % 2 == 0, None))
    assert annotator_drift(some_missing, gold=gold)["n_labels"].sum() == 40


def test_the_issue_9_team_is_no_longer_flagged(make_timeline) -> None:  # type: ignore[no-untyped-def]
    """20 steady annotators (true accuracy 0.85), 15 honeypots a week for 8 weeks: issue 9 flagged 17."""
    ann, gold = make_timeline(9, np.full((20, 8), 0.85), 15)
    report = annotator_report(ann, gold)
    assert not report["drifted"].any() and not report["flagged"].any()
    assert (report["recommended_weight"] > 1.0).all()
    assert report["weight_accuracy"].between(0.75, 0.95).all()


def test_the_projects_drift_window_is_used_by_flags_weights_and_consensus(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import workbench as wb
    from workbench.exceptions import LabelValidationError

    project = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    ids = [f"c{i:03d}" for i in range(200)]
    project.add_data(pd.DataFrame({"id": ids, "text": [f"comment {i}" for i in ids]}), id_column="id")
    project.add_gold(pd.DataFrame({"id": ids, "label": "spam"}), id_column="id", label_column="label")
    # all in one sitting (one day's time stamp): 7-day windows cannot see the drop, 50-answer windows do
    values = ["spam" if (j < 150 or j % 5 == 0) else "ham" for j in range(200)]  # 80 % overall: not flagged
    steady = ["spam" if j % 10 else "ham" for j in range(200)]
    project.annotation.import_annotations(pd.concat([
        pd.DataFrame({"id": ids, "annotator": "a", "value": values, "created_at": "2024-03-01"}),
        pd.DataFrame({"id": ids, "annotator": "b", "value": steady, "created_at": "2024-03-01"}),
    ]))
    assert project.quality.flagged() == []
    assert not project.quality.annotator_report().loc["a", "drifted"]
    before = project.events()
    with pytest.raises(LabelValidationError, match="drift_window"):
        project.annotation.configure(drift_window="50")  # a number without a unit
    with pytest.raises(LabelValidationError, match="drift_window"):
        project.annotation.configure(drift_window=0)
    assert project.annotation.config.drift_window == "7D" and len(project.events()) == len(before)
    project.annotation.configure(drift_window=50)
    assert wb.Project.open(project.path).annotation.config.drift_window == 50  # stored
    report = project.quality.annotator_report()
    assert report.loc["a", "drifted"] and report.loc["a", "recommended_weight"] == 0
    assert "a" in project.quality.flagged()
    assert project.quality.drift()["window_start"].nunique() == 1 and len(project.quality.drift()) == 8
    assert project.quality.annotator_report(window="7D").loc["a", "recommended_weight"] > 0  # an explicit window wins
    # consensus leaves out whom the project's window flags: on item 161 only b's answer counts
    with_a = project.quality.consensus(exclude_flagged=False)
    without_a = project.quality.consensus(exclude_flagged=True)
    assert with_a.loc["c161", "n_annotators"] == 2 and without_a.loc["c161", "n_annotators"] == 1
