"""workbench.report: the summary, recorded LF votes, the learning curve of runs, and the executed report."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import workbench as wb
from workbench.report import (
    DEFAULT_TEMPLATE,
    ReportError,
    build_report,
    convert_param,
    learning_curve_from_runs,
    project_summary,
    read_report,
    recorded_lf_votes,
    template_parameters,
)


def test_public_names() -> None:
    import workbench.report as rep

    assert sorted(rep.__all__) == sorted([
        "DEFAULT_TEMPLATE", "RecordedVotes", "Report", "ReportContents", "ReportError", "build_report",
        "convert_param", "learning_curve_from_runs", "project_summary", "read_report", "recorded_lf_votes",
        "template_parameters"])


def test_the_template_ships_with_the_package() -> None:
    assert DEFAULT_TEMPLATE.is_file() and DEFAULT_TEMPLATE.parent.joinpath("workbench_report.html.j2").is_file()
    nb = nbformat.read(str(DEFAULT_TEMPLATE), as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # committed without outputs
    params = template_parameters()
    assert list(params) == ["project_path", "seed", "gold", "question", "window", "version", "lfs",
                            "learning_curve", "title"]
    assert params["seed"] == 0


# ---------------------------------------------------------------------- what the report reads
def test_recorded_votes_equal_the_live_lfs(tmp_path: Path, build_rich: Callable[..., Path]) -> None:
    path = build_rich(tmp_path / "p")
    with wb.Project.open(path) as p:
        votes = recorded_lf_votes(p)
        assert votes.version == "v2" and votes.missing == {}
        assert votes.names == ["channel", "link", "song", "love", "subscribe"]
        ham, spam = p.schema.label_ids("ham", "spam")
        for lf in (wb.lf.keywords("channel", ["channel"], label=spam), wb.lf.regex("link", r"http", label=spam),
                   wb.lf.keywords("song", ["song", "music"], label=ham),
                   wb.lf.keywords("love", ["love", "amazing"], label=ham),
                   wb.lf.keywords("subscribe", ["subscribe", "sub4sub"], label=spam)):
            p.lfs.add(lf)
        np.testing.assert_array_equal(votes.L, p.lfs.matrix())      # same votes, same row order
        assert recorded_lf_votes(p, "v1").names == ["channel", "link", "song", "love"]
        with pytest.raises(wb.WorkbenchError, match="no label version 'v7'.*'v1', 'v2'"):
            recorded_lf_votes(p, "v7")
    # a cleared cache: the LFs are listed as missing, never silently given other votes
    shutil.rmtree(path / "lf_cache")
    with wb.Project.open(path) as p:
        votes = recorded_lf_votes(p)
        assert votes.names == [] and votes.L.shape == (160, 0)
        assert votes.missing == {n: ["d1", "d2"] for n in ["channel", "link", "song", "love", "subscribe"]}


def test_summary_of_an_empty_project(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    s = project_summary(p)
    assert s["counts"]["examples"] == 0 and s["label_versions"] == [] and s["quality"]["agreement"] is None
    assert any("annotator quality" in n for n in s["notes"])
    assert recorded_lf_votes(p).version is None
    p.close()


def test_the_report_of_a_project_without_data(tmp_path: Path) -> None:
    """A project just made with `workbench init`: every section says what is missing instead of failing."""
    wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"])).close()
    rep = build_report(tmp_path / "p", tmp_path / "r.html")
    html = rep.path.read_text(encoding="utf-8")
    assert "No data yet" in html and "No human annotations yet" in html and "No label version saved yet" in html


def test_summary_counts(rich_project: Path) -> None:
    with wb.Project.open(rich_project) as p:
        s = project_summary(p)
    assert s["counts"]["labels_by_source"] == {"gold": 40, "human": 90}
    assert s["counts"]["annotators"] == 3 and s["training_runs"] == 2
    assert [(v["name"], v["parent"]) for v in s["label_versions"]] == [("v1", None), ("v2", "v1")]
    assert set(s["quality"]["annotators"]) == {"ann", "bea", "cal"}


def test_learning_curve_from_runs() -> None:
    runs = pd.DataFrame({
        "run_id": ["r1", "r2", "r3", "r4"], "name": ["a", "b", "c", "d"], "created_at": ["t1", "t2", "t3", "t4"],
        "label_version": None, "n_events": 0,
        "params": [{"n_human": 10, "n_gold": 5, "cv": {"accuracy": 0.8, "macro_f1": 0.7}},
                   {"n_human": 20, "n_gold": 5, "cv": {"skipped": "too few"}},      # no score: left out
                   {"model": "by hand"},                                           # no counts: left out
                   {"n_labels": 50, "score": 0.9, "metric": "f1"}],
    })
    curve = learning_curve_from_runs(runs)
    assert curve[["run_id", "n_labels", "metric", "score"]].values.tolist() == [
        ["r1", 15, "cv macro_f1", 0.7], ["r1", 15, "cv accuracy", 0.8], ["r4", 50, "f1", 0.9]]
    assert learning_curve_from_runs(runs.iloc[1:3]).empty


@pytest.mark.parametrize(
    ("name", "text", "default", "expected"),
    [("seed", "3", 0, 3), ("x", "0.5", 1.0, 0.5), ("flag", "yes", False, True), ("flag", "0", True, False),
     ("gold", "label", "gold", "label"), ("n", "[1, 2]", None, [1, 2]), ("n", "plain", None, "plain")],
)
def test_convert_param(name: str, text: str, default: object, expected: object) -> None:
    assert convert_param(name, text, default) == expected


@pytest.mark.parametrize(("text", "default", "match"), [
    ("x", 0, "--param p= takes an integer"), ("x", 0.5, "takes a number"), ("maybe", True, "true or false")])
def test_convert_param_errors(text: str, default: object, match: str) -> None:
    with pytest.raises(ReportError, match=match):
        convert_param("p", text, default)


# ---------------------------------------------------------------------- errors before any kernel starts
def _template(path: Path, *cells: object) -> Path:
    nbformat.write(new_notebook(cells=list(cells)), str(path))
    return path


def test_build_report_errors(rich_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    cases = [
        (dict(params={"nope": 1}), "has no parameter 'nope'. It takes: seed, gold"),
        (dict(params={"project_path": "x"}), "project_path is set from the PROJECT argument"),
        (dict(params={"seed": object()}), "must be a plain value"),
        (dict(params=[("seed", 1)]), "must be a mapping"),
        (dict(template=tmp_path / "none.ipynb"), "does not exist"),
        (dict(template=_template(tmp_path / "np.ipynb", new_code_cell("x = 1"))), "no cell tagged 'parameters'"),
        (dict(template=_template(tmp_path / "nopp.ipynb", new_code_cell("x = 1", metadata={"tags": ["parameters"]}))),
         "does not assign project_path"),
        (dict(timeout=0), "--timeout must be a number of seconds > 0"),
    ]
    (tmp_path / "bad.ipynb").write_text("not json", encoding="utf-8")
    cases.append((dict(template=tmp_path / "bad.ipynb"), "is not a readable notebook"))
    for kwargs, match in cases:
        with pytest.raises(ReportError, match=match):
            build_report(rich_project, out, **kwargs)  # type: ignore[arg-type]
    for bad_out, match in ((tmp_path, "is a directory"), (tmp_path / "no" / "r.html", "does not exist"),
                           (tmp_path / "r.pdf", "with a .html suffix")):
        with pytest.raises(ReportError, match=match):
            build_report(rich_project, bad_out)
    with pytest.raises(wb.ProjectNotFoundError):
        build_report(tmp_path / "none", out)
    assert not out.exists()


@pytest.mark.slow
def test_a_failing_cell_fails_the_report(rich_project: Path, tmp_path: Path) -> None:
    template = _template(
        tmp_path / "t.ipynb",
        new_code_cell('project_path = ""\nthreshold = 0.5', metadata={"tags": ["parameters"]}),
        new_code_cell("import workbench as wb\nproject = wb.Project.open(project_path)"),
        new_code_cell("# the check that fails\nassert len(project) < threshold, f'{len(project)} examples'"),
    )
    out = tmp_path / "r.html"
    with pytest.raises(ReportError, match=r"failed in cell 4 \(\"assert len\(project\) < threshold.*\"\): "
                                          r"AssertionError: 160 examples") as info:
        build_report(rich_project, out, template=template, params={"threshold": 1.0})
    assert "\n" not in str(info.value) and not out.exists()


# ---------------------------------------------------------------------- the built-in report
@pytest.mark.slow
def test_two_runs_give_the_same_numbers(rich_project: Path, tmp_path: Path) -> None:
    before = project_summary(wb.Project.open(rich_project))
    a = build_report(rich_project, tmp_path / "a.html")
    b = build_report(rich_project, tmp_path / "b.html")
    ra, rb = read_report(a.path), read_report(b.path)
    assert len(ra.tables) == len(rb.tables) >= 10 and len(ra.charts) == len(rb.charts) == a.n_charts >= 4
    for ta, tb in zip(ra.tables, rb.tables, strict=True):
        pd.testing.assert_frame_equal(ta, tb)
    assert ra.charts == rb.charts                                       # the charts' data too
    # what the report shows
    lf_table = next(t for t in ra.tables if "polarity" in t.columns)
    assert list(lf_table.iloc[:, 0]) == ["channel", "link", "song", "love", "subscribe"]
    comparison = next(t for t in ra.tables if "evaluation" in t.columns)
    assert set(comparison.iloc[:, 0]) == {"majority_vote", "dawid_skene"}
    curve = next(t for t in ra.tables if "n_labels" in t.columns and "score" in t.columns)
    assert sorted(curve["n_labels"].astype(int)) == [40, 40, 70, 70]
    lineage = next(t for t in ra.tables if "parent" in t.columns and "label_model" in t.columns)
    assert list(lineage.iloc[:, 0]) == ["v1", "v2"]
    annotators = next(t for t in ra.tables if "consensus_agreement" in t.columns)
    assert list(annotators.iloc[:, 0]) == ["ann", "bea", "cal"]
    # self-contained: no code, no script loaded from elsewhere; charts drawn by embedded scripts
    html = a.path.read_text(encoding="utf-8")
    assert a.chart_scripts in ("inline", "cdn")
    if a.chart_scripts == "inline":
        assert "<script src=" not in html
    assert "import workbench" not in html and "recorded_lf_votes" not in html
    # the report changed nothing in the project
    assert project_summary(wb.Project.open(rich_project))["counts"] == before["counts"]


@pytest.mark.slow
def test_another_seed_and_a_learning_curve_file(rich_project: Path, tmp_path: Path) -> None:
    curve = pd.DataFrame({"strategy": ["random", "random", "margin", "margin"], "seed": 0,
                          "n_labels": [25, 50, 25, 50], "score": [0.6, 0.7, 0.65, 0.8]})
    curve.to_csv(tmp_path / "curve.csv", index=False)
    rep = build_report(rich_project, tmp_path / "r.html",
                       params={"seed": 7, "learning_curve": str(tmp_path / "curve.csv"), "version": "v1",
                               "title": "<script>alert(1)</script> spam report", "window": "10"})
    contents = read_report(rep.path)
    annotators = next(t for t in contents.tables if "consensus_agreement" in t.columns)  # drift in 10-answer windows
    assert list(annotators.iloc[:, 0]) == ["ann", "bea", "cal"]
    lf_table = next(t for t in contents.tables if "polarity" in t.columns)
    assert list(lf_table.iloc[:, 0]) == ["channel", "link", "song", "love"]  # the LFs of v1
    table = next(t for t in contents.tables if "n_labels" in t.columns and "score" in t.columns)
    assert {"random", "margin", "cv accuracy"} <= set(table["metric"])
    html = rep.path.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
