"""The Altair chart builders: pure functions of the workbench's DataFrames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

alt = pytest.importorskip("altair")

from widgets.charts import accuracy_chart, conflict_heatmap, coverage_chart, lf_overview_chart  # noqa: E402
from workbench.exceptions import DataError, LFError  # noqa: E402
from workbench.lf import lf_pair_matrix, lf_summary  # noqa: E402

L = np.array([[0, 1, -1], [0, -1, 1], [-1, 1, 1], [1, 1, 0], [-1, -1, -1]], dtype=np.int8)
NAMES = ["a", "b", "c"]
GOLD = [0, 1, 1, 1, -1]


@pytest.fixture
def summary() -> pd.DataFrame:
    return lf_summary(L, NAMES, gold=GOLD)


def _data(spec: dict, chart_spec: dict | None = None) -> list[dict]:
    """The inline rows a (sub)chart draws."""
    chart_spec = chart_spec or spec
    name = chart_spec["data"]["name"]
    return spec["datasets"][name]


def test_coverage_chart_draws_the_coverage_column_in_the_given_order(summary: pd.DataFrame) -> None:
    spec = coverage_chart(summary, order=["c", "a"]).to_dict()  # validates against the Vega-Lite schema
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["field"] == "coverage"
    assert spec["encoding"]["y"]["sort"] == ["c", "a", "b"]
    rows = {r["lf"]: r["coverage"] for r in _data(spec)}
    assert rows == pytest.approx(summary["coverage"].to_dict())


def test_accuracy_chart_has_wilson_error_bars(summary: pd.DataFrame) -> None:
    spec = accuracy_chart(summary).to_dict()
    rule, point = spec["layer"]
    assert rule["mark"]["type"] == "rule"
    assert rule["encoding"]["x"]["field"] == "emp_acc_low" and rule["encoding"]["x2"]["field"] == "emp_acc_high"
    assert point["encoding"]["x"]["field"] == "emp_acc"
    rows = {r["lf"]: r for r in _data(spec, spec)}
    for name in NAMES:
        assert rows[name]["emp_acc_low"] <= rows[name]["emp_acc"] <= rows[name]["emp_acc_high"]
        assert rows[name]["emp_acc"] == pytest.approx(summary.loc[name, "emp_acc"])


def test_accuracy_chart_without_gold_columns_says_how_to_get_them() -> None:
    with pytest.raises(LFError, match=r"emp_acc.*Pass gold= to project.lfs.summary"):
        accuracy_chart(lf_summary(L, NAMES))


def test_builders_reject_a_non_frame() -> None:
    with pytest.raises(LFError, match="must be a pandas DataFrame.*Got list instead"):
        coverage_chart([1, 2])  # type: ignore[arg-type]


def test_conflict_heatmap_draws_the_pairwise_conflict_counts() -> None:
    pairs = lf_pair_matrix(L, NAMES)
    spec = conflict_heatmap(pairs).to_dict()
    assert spec["mark"]["type"] == "rect"
    cells = {(r["lf"], r["other"]): r["value"] for r in _data(spec)}
    assert len(cells) == 9
    assert cells[("a", "b")] == pairs.loc["a", ("conflict", "b")] == 1  # only row 0: a votes 0, b votes 1
    assert cells[("b", "c")] == pairs.loc["b", ("conflict", "c")]
    overlap = {(r["lf"], r["other"]): r["value"] for r in _data(conflict_heatmap(pairs, kind="overlap").to_dict())}
    assert overlap[("a", "a")] == 3


def test_conflict_heatmap_rejects_unknown_kind_and_wrong_input() -> None:
    with pytest.raises(LFError, match=r"'kind' parameter of conflict_heatmap must be one of"):
        conflict_heatmap(lf_pair_matrix(L, NAMES), kind="disagree")
    with pytest.raises(LFError, match="lf_pair_matrix"):
        conflict_heatmap(pd.DataFrame({"a": [1]}))


def test_overview_combines_the_charts(summary: pd.DataFrame) -> None:
    chart = lf_overview_chart(summary, lf_pair_matrix(L, NAMES))
    spec = chart.to_dict()
    assert "vconcat" in spec and "hconcat" in spec["vconcat"][0]
    no_gold = lf_overview_chart(lf_summary(L, NAMES)).to_dict()
    assert no_gold["mark"]["type"] == "bar"  # only coverage without gold or pairs


def test_label_model_and_reliability_charts() -> None:
    import numpy as np

    from widgets import label_model_chart, reliability_chart
    from workbench.models import MajorityVote, compare_label_models, reliability_table

    L = np.array([[0, 1], [0, -1], [-1, 1], [1, 1], [0, 0]], dtype=np.int8)
    y = np.array([0, 0, 1, 1, 0])
    table = compare_label_models({"mv": MajorityVote(cardinality=2).fit(L)}, L, y, random_state=0)
    spec = label_model_chart(table).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]][:2] == ["rule", "point"]
    rel = reliability_chart(reliability_table(y, MajorityVote(cardinality=2).fit(L).predict_proba(L), n_bins=4))
    assert rel.to_dict()["layer"][1]["mark"]["type"] == "circle"
    with pytest.raises(DataError, match=r"project.models.compare\(\)"):
        label_model_chart(pd.DataFrame({"x": [1]}))
