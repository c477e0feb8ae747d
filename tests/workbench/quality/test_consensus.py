from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import DataError
from workbench.quality import dawid_skene_consensus, majority_consensus, needs_adjudication, route_to_adjudication

COLUMNS = ["label", "confidence", "agreement", "n_annotators", "tie"]


def small() -> pd.DataFrame:
    # item 1: pos, pos, neg -> pos; item 2: pos vs neg tie; item 3: single neg
    return pd.DataFrame(
        {
            "example_id": ["1", "1", "1", "2", "2", "3"],
            "annotator": ["a", "b", "c", "a", "b", "c"],
            "value": ["pos", "pos", "neg", "pos", "neg", "neg"],
        }
    )


def accuracy(consensus: pd.DataFrame, gold: pd.Series) -> float:
    pred = consensus["label"].to_numpy(dtype=object)
    truth = gold.reindex(consensus.index).to_numpy(dtype=object)
    return float(np.mean(pred == truth))


def test_majority_columns_and_values() -> None:
    out = majority_consensus(small())
    assert list(out.columns) == COLUMNS
    assert out.index.name == "example_id" and list(out.index) == ["1", "2", "3"]
    assert out.loc["1", "label"] == "pos"
    assert out.loc["1", "confidence"] == pytest.approx(2 / 3)
    assert out.loc["1", "agreement"] == pytest.approx(2 / 3)
    assert pd.isna(out.loc["2", "label"]) and bool(out.loc["2", "tie"])
    assert out.loc["2", "confidence"] == pytest.approx(0.5)
    assert out.loc["3", "label"] == "neg" and out.loc["3", "agreement"] == 1.0
    assert out["n_annotators"].tolist() == [3, 2, 1]


def test_tie_break_first_and_random() -> None:
    first = majority_consensus(small(), tie_break="first")
    assert first.loc["2", "label"] == "neg"  # "neg" sorts before "pos"
    assert majority_consensus(small(), tie_break="first", labels=["pos", "neg"]).loc["2", "label"] == "pos"
    picks = {majority_consensus(small(), tie_break="random", random_state=s).loc["2", "label"] for s in range(20)}
    assert picks == {"pos", "neg"}
    a = majority_consensus(small(), tie_break="random", random_state=3)
    b = majority_consensus(small(), tie_break="random", random_state=3)
    pd.testing.assert_frame_equal(a, b)
    assert a.loc["1", "label"] == "pos"  # non-tied items never change


def test_integer_labels_keep_their_type() -> None:
    ann = small().assign(value=lambda d: d["value"].map({"pos": 1, "neg": 0}))
    out = majority_consensus(ann)
    assert out.loc["1", "label"] == 1 and pd.isna(out.loc["2", "label"])
    assert str(out["label"].dtype) == "Int64"


def test_weights_change_the_winner_and_silence() -> None:
    out = majority_consensus(small(), weights={"c": 5.0})
    assert out.loc["1", "label"] == "neg"
    assert out.loc["1", "confidence"] == pytest.approx(5 / 7)
    assert out.loc["1", "agreement"] == pytest.approx(1 / 3)  # unweighted share
    zero = majority_consensus(small(), weights=pd.Series({"c": 0.0, "ghost": 3.0}))
    assert pd.isna(zero.loc["3", "label"]) and np.isnan(zero.loc["3", "confidence"])
    assert zero.loc["1", "confidence"] == 1.0
    with pytest.raises(DataError, match="non-negative"):
        majority_consensus(small(), weights={"a": -1})


def test_exclude_keeps_items_and_warns_on_unknown() -> None:
    out = majority_consensus(small(), exclude=["c"])
    assert out.loc["3", "n_annotators"] == 0 and pd.isna(out.loc["3", "label"])
    assert not out.loc["3", "tie"]
    assert out.loc["1", "agreement"] == 1.0
    with pytest.warns(UserWarning, match="do not occur"):
        majority_consensus(small(), exclude="nobody")


def test_single_annotator_and_missing_values() -> None:
    ann = pd.DataFrame({"example_id": ["1", "2", "3"], "annotator": ["a"] * 3, "value": ["x", None, "y"]})
    out = majority_consensus(ann)
    assert list(out.index) == ["1", "3"]
    assert out["confidence"].tolist() == [1.0, 1.0]
    ds = dawid_skene_consensus(ann, random_state=0)
    assert ds["label"].tolist() == ["x", "y"]


def test_route_to_adjudication() -> None:
    cons = majority_consensus(
        pd.concat(
            [
                small(),
                pd.DataFrame(
                    {"example_id": ["4"] * 4, "annotator": list("abcd"), "value": ["pos", "pos", "pos", "neg"]}
                ),
            ]
        )
    )
    routed = route_to_adjudication(cons, 0.7)
    assert list(routed) == ["2", "1"]  # the abstained tie first, then weakest agreement
    assert list(route_to_adjudication(cons, 0.8)) == ["2", "1", "4"]
    assert list(route_to_adjudication(cons, 0.0)) == ["2"]
    with pytest.raises(DataError, match="threshold"):
        route_to_adjudication(cons, 1.5)
    with pytest.raises(DataError, match="'label'"):
        route_to_adjudication(cons.drop(columns="label"), 0.5)


def test_bad_tie_break() -> None:
    with pytest.raises(DataError, match="tie_break"):
        majority_consensus(small(), tie_break="coin")  # type: ignore[arg-type]


def test_dawid_skene_maps_labels_back_and_beats_majority_on_spammy_crowd(make_crowd) -> None:  # type: ignore[no-untyped-def]
    acc = [0.9, 0.85, 0.8] + [0.34] * 5  # three good annotators among five spammers (3 labels)
    ann, gold, _ = make_crowd(seed=11, n_items=600, n_annotators=8, per_item=5, accuracies=acc)
    names = {0: "cat", 1: "dog", 2: "eel"}
    ann = ann.assign(value=ann["value"].map(names))
    gold = gold.map(names)
    ds = dawid_skene_consensus(ann, random_state=0)
    mv = majority_consensus(ann, tie_break="random", random_state=0)
    assert list(ds.columns) == COLUMNS
    assert set(ds["label"].dropna()) <= set(names.values())
    assert ((ds["confidence"] > 0) & (ds["confidence"] <= 1)).all()
    assert accuracy(ds, gold) > accuracy(mv, gold) + 0.05
    _, model, order = dawid_skene_consensus(ann, random_state=0, return_model=True)
    assert order == sorted(ann["annotator"].unique()) and model.confusion_.shape == (8, 3, 3)
    excluded = dawid_skene_consensus(ann, exclude=["w03", "w04", "w05", "w06", "w07"], random_state=0)
    assert (excluded["n_annotators"] <= 3).all()


def test_dawid_skene_single_label() -> None:
    ann = pd.DataFrame({"example_id": ["1", "1", "2"], "annotator": ["a", "b", "a"], "value": [1, 1, 1]})
    out = dawid_skene_consensus(ann)
    assert out["label"].tolist() == [1, 1] and out["confidence"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize(("task", "mv_expected", "ds_expected"), [("rte", 0.875, 0.9275), ("temp", 0.9394, 0.9416)])
@pytest.mark.data
@pytest.mark.filterwarnings("ignore::Warning:crowdkit")
def test_real_crowd_matches_crowd_kit(  # type: ignore[no-untyped-def]
    snow, task: str, mv_expected: float, ds_expected: float
) -> None:
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    ann, gold = snow(task)
    ck = ann.rename(columns={"example_id": "task", "annotator": "worker", "value": "label"})
    ck_mv_model = crowdkit.MajorityVote()
    ck_mv = ck_mv_model.fit_predict(ck)
    ck_ds = crowdkit.DawidSkene(n_iter=100).fit_predict(ck)
    ck_mv_acc = float((ck_mv == gold.loc[ck_mv.index]).mean())
    ck_ds_acc = float((ck_ds == gold.loc[ck_ds.index]).mean())
    assert ck_mv_acc == pytest.approx(mv_expected, abs=1e-3)
    assert ck_ds_acc == pytest.approx(ds_expected, abs=1e-3)

    # crowd-kit breaks ties by the column order of its vote table; with the same label order
    # our "first" rule reproduces it exactly
    ours = majority_consensus(ann, tie_break="first", labels=list(ck_mv_model.probas_.columns))
    pd.testing.assert_series_equal(
        ours["label"].astype("int64"),
        ck_mv.loc[ours.index].astype("int64"),
        check_names=False,
        check_index=False,
    )
    assert accuracy(ours, gold) == pytest.approx(ck_mv_acc, abs=1e-12)
    untied = majority_consensus(ann)
    assert untied["tie"].sum() == (65 if task == "rte" else 17)
    decided = untied.loc[~untied["tie"]]
    assert (decided["label"].astype("int64") == ck_mv.loc[decided.index]).all()

    ds = dawid_skene_consensus(ann, random_state=0)
    assert accuracy(ds, gold) >= ck_ds_acc - 1e-12
    assert accuracy(ds, gold) >= ds_expected - 1e-3


def adjudication_cases() -> pd.DataFrame:
    """1: 2-1 majority; 2: unlabeled tie; 3: one answer; 4: 3-1 majority; 5: unanimous; 6: three-way tie."""
    return pd.concat(
        [
            small(),
            pd.DataFrame({"example_id": ["4"] * 4, "annotator": list("abcd"), "value": ["pos", "pos", "pos", "neg"]}),
            pd.DataFrame({"example_id": ["5"] * 3, "annotator": list("abc"), "value": ["pos"] * 3}),
            pd.DataFrame({"example_id": ["6"] * 3, "annotator": list("abc"), "value": ["pos", "neg", "neu"]}),
        ]
    )


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.7, 0.8, 1.0])
@pytest.mark.parametrize("tie_break", ["abstain", "first", "random"])
def test_needs_adjudication_and_the_queue_agree(threshold: float, tie_break: str) -> None:
    cons = majority_consensus(adjudication_cases(), tie_break=tie_break, random_state=0)  # type: ignore[arg-type]
    flags = needs_adjudication(cons, threshold)
    routed = route_to_adjudication(cons, threshold)
    assert flags.dtype == bool and flags.index.equals(cons.index) and flags.name == "needs_adjudication"
    assert set(routed) == set(flags.index[flags])
    # ties are routed whatever the threshold and however they were broken; single answers never are
    assert flags[["2", "6"]].all() and not flags["3"]
    assert flags["1"] == (threshold > 2 / 3) and flags["4"] == (threshold > 0.75) and flags["5"] == (threshold > 1.0)


def test_an_unlabeled_tie_is_flagged_even_below_its_agreement() -> None:
    """Issue 9: agreement 0.5 is not below a 0.5 threshold, yet the tie has no label."""
    cons = majority_consensus(small())
    assert pd.isna(cons.loc["2", "label"]) and cons.loc["2", "agreement"] == 0.5
    assert needs_adjudication(cons, 0.5)["2"]
    assert list(route_to_adjudication(cons, 0.5)) == ["2"]


def test_adjudicated_items_and_min_annotators() -> None:
    cons = majority_consensus(adjudication_cases(), exclude=["a", "b", "d"])  # item 2 has no answers left
    assert cons.loc["2", "n_annotators"] == 0 and pd.isna(cons.loc["2", "label"])
    assert not needs_adjudication(cons, 0.7)["2"]
    assert needs_adjudication(cons, 0.7, min_annotators=0)["2"]
    assert route_to_adjudication(cons, 0.7, min_annotators=0)[0] == "2"  # missing labels first
    full = majority_consensus(adjudication_cases())
    assert list(route_to_adjudication(full, 0.8)) == ["6", "2", "1", "4"]  # unlabeled first, weakest first
    assert list(route_to_adjudication(full, 0.8, adjudicated=["2", "4"])) == ["6", "1"]
    assert not needs_adjudication(full, 0.8, adjudicated=["2"])["2"]
    # confidence instead of agreement (weighted votes)
    weighted = majority_consensus(adjudication_cases(), weights={"a": 3.0})
    assert needs_adjudication(weighted, 0.7, on="confidence")["1"] == (weighted.loc["1", "confidence"] < 0.7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 1.5}, "'threshold' parameter of needs_adjudication must be a number in \\[0, 1\\]"),
        ({"threshold": 0.5, "on": "votes"}, "'on' parameter"),
        ({"threshold": 0.5, "min_annotators": -1}, "'min_annotators' parameter"),
    ],
)
def test_needs_adjudication_errors(kwargs: dict[str, object], message: str) -> None:
    cons = majority_consensus(small())
    with pytest.raises(DataError, match=message):
        needs_adjudication(cons, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="n_annotators.*Pass min_annotators=0"):
        needs_adjudication(cons.drop(columns="n_annotators"), 0.5)
    assert needs_adjudication(cons.drop(columns="n_annotators"), 0.5, min_annotators=0)["2"]
