from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench._stats import wilson_interval
from workbench.exceptions import DataError
from workbench.quality import agreement_with_consensus, honeypot_accuracy, majority_consensus


def crowd() -> tuple[pd.DataFrame, pd.Series]:
    # gold on items g0..g11; "good" gets 11/12, "bad" 3/12, "new" answers one gold item only,
    # "nogold" answers a non-gold item only
    gold = pd.Series({f"g{i}": i % 2 for i in range(12)})
    rows = []
    for i in range(12):
        rows.append((f"g{i}", "good", i % 2 if i != 0 else 1))
        rows.append((f"g{i}", "bad", i % 2 if i < 3 else 1 - i % 2))
    rows += [("g0", "new", 0), ("x1", "nogold", 1)]
    return pd.DataFrame(rows, columns=["example_id", "annotator", "value"]), gold


def test_counts_accuracy_and_wilson() -> None:
    ann, gold = crowd()
    out = honeypot_accuracy(ann, gold)
    assert list(out.columns) == ["n_gold_seen", "n_correct", "accuracy", "ci_low", "ci_high", "enough", "flagged"]
    assert list(out.index) == ["bad", "good", "new", "nogold"]
    assert out.loc["good", ["n_gold_seen", "n_correct"]].tolist() == [12, 11]
    assert out.loc["bad", ["n_gold_seen", "n_correct"]].tolist() == [12, 3]
    low, high = wilson_interval([3, 11, 1], [12, 12, 1])
    np.testing.assert_allclose(out["ci_low"].iloc[:3], low)
    np.testing.assert_allclose(out["ci_high"].iloc[:3], high)
    assert out["enough"].tolist() == [True, True, False, False]
    assert out["flagged"].tolist() == [True, False, False, False]
    assert np.isnan(out.loc["nogold", "accuracy"]) and out.loc["nogold", "n_gold_seen"] == 0


def test_flag_on_point_flags_more_than_ci() -> None:
    ann, gold = crowd()
    # "mid": 7/12 correct -> point estimate 0.58 < 0.7 but the Wilson upper bound is 0.81
    mid = [(f"g{i}", "mid", i % 2 if i < 7 else 1 - i % 2) for i in range(12)]
    ann = pd.concat([ann, pd.DataFrame(mid, columns=ann.columns)])
    by_ci = honeypot_accuracy(ann, gold)
    by_point = honeypot_accuracy(ann, gold, flag_on="point")
    assert not by_ci.loc["mid", "flagged"] and by_point.loc["mid", "flagged"]
    assert honeypot_accuracy(ann, gold, min_count=13)["flagged"].sum() == 0


def test_gold_edge_cases() -> None:
    ann, gold = crowd()
    extra = pd.concat([gold, pd.Series({"unseen": 1, "g_missing": np.nan})])
    pd.testing.assert_frame_equal(honeypot_accuracy(ann, extra), honeypot_accuracy(ann, gold))
    with pytest.warns(UserWarning, match="types differ"):
        honeypot_accuracy(ann, gold.map(str))
    with pytest.raises(DataError, match="one label per example_id"):
        honeypot_accuracy(ann, pd.concat([gold, gold]))
    with pytest.raises(DataError, match="min_count"):
        honeypot_accuracy(ann, gold, min_count=0)
    with pytest.raises(DataError, match="flag_on"):
        honeypot_accuracy(ann, gold, flag_on="mean")  # type: ignore[arg-type]


@pytest.mark.data
def test_real_rte_worker_accuracy(rte: tuple[pd.DataFrame, pd.Series]) -> None:
    ann, gold = rte
    out = honeypot_accuracy(ann, gold)
    expected = (ann["value"] == gold.loc[ann["example_id"]].to_numpy()).groupby(ann["annotator"]).mean()
    pd.testing.assert_series_equal(out["accuracy"], expected.sort_index(), check_names=False)
    assert len(out) == 164 and out["enough"].all()  # every worker did >= 20 items
    assert (out["accuracy"] < 0.6).sum() == 9  # as measured in PROVENANCE.md
    assert out["n_correct"].sum() / out["n_gold_seen"].sum() == pytest.approx(0.729, abs=1e-3)
    flagged = out.loc[out["flagged"]]
    assert (flagged["ci_high"] < 0.7).all() and 0 < len(flagged) < 9


def test_agreement_with_consensus() -> None:
    ann = pd.DataFrame(
        {"example_id": ["1", "1", "1", "2", "2"], "annotator": ["a", "b", "c", "a", "b"], "value": [1, 1, 0, 1, 0]}
    )
    cons = majority_consensus(ann)  # item 2 is an abstained tie and is not compared
    out = agreement_with_consensus(ann, cons)
    assert out["n_compared"].tolist() == [1, 1, 1]
    assert out["agreement"].tolist() == [1.0, 1.0, 0.0]
    as_series = agreement_with_consensus(ann, pd.Series({"1": 1, "2": 0}))
    assert as_series.loc["b", ["n_compared", "n_agree"]].tolist() == [2, 2]
    with pytest.raises(DataError, match="'label' column"):
        agreement_with_consensus(ann, cons.drop(columns="label"))
