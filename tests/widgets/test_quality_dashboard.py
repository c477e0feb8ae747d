"""Headless tests of the QualityDashboard and its chart builders."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from widgets._quality_charts import agreement_heatmap, honeypot_accuracy_chart, label_mix_chart
from widgets.jupyter._quality_dashboard import QualityDashboard
from workbench.exceptions import DataError

N = 40
SEED = 7


def _truth(i: int) -> str:
    return "spam" if i % 3 == 0 else "ham"


@pytest.fixture
def crowd(tmp_path: Path, spam_schema: wb.Schema) -> wb.Project:
    """40 items; gold on the first 15; three annotators (one unreliable) with overlap 3, seeded."""
    project = wb.Project.create(tmp_path / "crowd", schema=spam_schema)
    ids = [f"c-{i:02d}" for i in range(N)]
    project.add_data(pd.DataFrame({"id": ids, "text": [f"text {i}" for i in range(N)]}), id_column="id")
    project.annotation.configure(overlap=3, honeypot_rate=0.3, min_honeypots=3)
    project.add_gold(pd.DataFrame({"id": ids[:15], "label": [_truth(i) for i in range(15)]}))
    rng = np.random.default_rng(SEED)
    reliability = {"ann": 0.95, "bea": 0.9, "cal": 0.4}
    for name, p in reliability.items():
        while True:
            items = project.annotation.next_items(name, 10, random_state=int(rng.integers(1 << 30)))
            if not items:
                break
            for a in items:
                truth = _truth(int(a.example_id[-2:]))
                value = truth if rng.random() < p else ("ham" if truth == "spam" else "spam")
                project.annotation.submit(a.example_id, value, annotator=name, time_spent=1.0)
    yield project
    project.close()


def test_dashboard_shows_report_charts_and_adjudication_count(crowd: wb.Project) -> None:
    dash = QualityDashboard(crowd)
    report = crowd.quality.annotator_report()
    assert list(dash.report.index) == list(report.index) == ["ann", "bea", "cal"]
    for name in ("ann", "bea", "cal"):
        assert f'data-annotator="{name}"' in dash.annotator_table.value
    assert bool(dash.report.loc["cal", "flagged"])  # the unreliable one is flagged, and shown so
    assert "flagged: <b>cal</b>" in dash.status.value
    expected_adj = len(crowd.annotation.queue("adjudication", None))
    assert expected_adj > 0
    assert dash.n_adjudication == expected_adj
    assert f">{expected_adj}</span>" in dash.adjudication_count.value
    assert "Fleiss' kappa" in dash.status.value
    # Charts: built from the workbench's figures and rendered into the outputs.
    hp = dash.charts["honeypot"].to_dict()
    assert {"annotator", "honeypot_accuracy"} <= set(hp["datasets"][next(iter(hp["datasets"]))][0])
    ag = dash.charts["agreement"].to_dict()
    assert ag["layer"][0]["mark"]["type"] == "rect"
    mix = dash.charts["label_mix"].to_dict()
    assert mix["encoding"]["x"]["stack"] == "normalize"
    for out in (dash.honeypot_chart, dash.agreement_chart, dash.label_mix_chart):
        assert len(out.outputs) == 1 and out.outputs[0]["output_type"] == "display_data"
    dash.close()


def test_honeypot_chart_draws_annotator_drift_output(crowd: wb.Project) -> None:
    from workbench.quality import annotator_drift

    ann = crowd.annotation.answers(include_honeypots=True)
    drift = annotator_drift(ann[["example_id", "annotator", "value", "created_at"]], crowd.gold(), window="1h")
    spec = honeypot_accuracy_chart(drift).to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    shown = {(r["annotator"], round(r["honeypot_accuracy"], 6)) for r in values}
    expected = {(a, round(x, 6)) for a, x, n in drift[["annotator", "honeypot_accuracy", "n_gold"]].values if n > 0}
    assert shown == expected


def test_agreement_heatmap_is_symmetric() -> None:
    pairs = pd.DataFrame({"annotator_a": ["a", "a", "b"], "annotator_b": ["b", "c", "c"], "n_items": [10, 11, 12],
                          "agreement": [0.9, 0.8, 0.7], "kappa": [0.8, 0.6, 0.4]})
    spec = agreement_heatmap(pairs).to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    cells = {(v["annotator_a"], v["annotator_b"]): v["kappa"] for v in values}
    assert cells[("a", "b")] == cells[("b", "a")] == 0.8
    assert len(cells) == 6


def test_label_mix_chart_lets_vega_count_the_answers() -> None:
    ann = pd.DataFrame({"annotator": ["a", "a", "b"], "value": ["ham", "spam", "spam"]})
    spec = label_mix_chart(ann).to_dict()
    assert spec["encoding"]["x"]["aggregate"] == "count"
    assert len(spec["datasets"][next(iter(spec["datasets"]))]) == 3


@pytest.mark.parametrize(
    ("builder", "frame"),
    [
        (honeypot_accuracy_chart, pd.DataFrame({"annotator": []})),
        (agreement_heatmap, pd.DataFrame({"kappa": []})),
        (label_mix_chart, [1, 2]),
    ],
)
def test_chart_builders_name_the_missing_columns(builder, frame) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match="'data' parameter of"):
        builder(frame)


def test_empty_project_shows_placeholders(project: wb.Project) -> None:
    dash = QualityDashboard(project)
    assert dash.report is None and dash.n_adjudication == 0
    assert "No human annotations yet" in dash.annotator_table.value
    assert dash.charts["label_mix"].to_dict()["mark"]["type"] == "text"
    dash.close()


def test_refresh_button_and_auto_refresh_on_labels_added_are_throttled(project: wb.Project) -> None:
    dash = QualityDashboard(project, throttle=0)
    n = dash.n_refreshes
    project.annotate("c-1", "spam", annotator="ann")
    assert dash.n_refreshes == n + 1  # throttle 0: every labels_added refreshes
    assert list(dash.report.index) == ["ann"]
    dash.refresh_button.click()
    assert dash.n_refreshes == n + 2
    dash.close()

    slow = QualityDashboard(project, throttle=3600)
    n = slow.n_refreshes
    project.annotate("c-2", "ham", annotator="bea")
    project.annotate("c-3", "ham", annotator="bea")
    assert slow.n_refreshes == n and slow.stale  # within the interval: no recompute, marked stale
    slow.refresh_button.click()
    assert slow.n_refreshes == n + 1 and not slow.stale
    assert list(slow.report.index) == ["ann", "bea"]
    slow.close()


def test_close_leaves_no_listener(project: wb.Project) -> None:
    before = project.n_listeners()
    dash = QualityDashboard(project)
    assert project.n_listeners("labels_added") == 1
    dash.close()
    assert project.n_listeners() == before
    n = dash.n_refreshes
    project.annotate("c-1", "spam", annotator="ann")
    assert dash.n_refreshes == n


def test_bad_parameters(project: wb.Project) -> None:
    with pytest.raises(TypeError, match="'project' parameter of QualityDashboard"):
        QualityDashboard("not a project")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'throttle' parameter"):
        QualityDashboard(project, throttle=-1)
    with pytest.raises(ValueError, match="'method' parameter"):
        QualityDashboard(project, method="vote")


# ---------------------------------------------------------------------- queues, a page at a time
def _queue_ids(dash: QualityDashboard) -> list[str]:
    return re.findall(r'<tr data-id="([^"]+)"', dash.queue_table.value)


def _queue_pager(dash: QualityDashboard) -> tuple[str, bool]:
    return re.sub(r"<[^>]+>", "", dash.queue_count.value), dash.queue_more.layout.display != "none"


def test_the_adjudication_queue_is_listed_a_page_at_a_time(crowd: wb.Project) -> None:
    expected = crowd.annotation.queue("adjudication", None)["example_id"].tolist()
    assert len(expected) >= 3  # enough for more than one page of 2
    dash = QualityDashboard(crowd, page_size=2)
    assert dash.queue_strategy.value == "adjudication"
    assert _queue_ids(dash) == expected[:2]
    assert _queue_pager(dash) == (f"2 of {len(expected)}", True)
    assert dash.queue_more.description == f"load {min(2, len(expected) - 2)} more"
    dash.queue_more.click()  # the button, as a user would
    assert _queue_ids(dash) == expected[:4]
    while _queue_pager(dash)[1]:
        dash.load_more()
    assert _queue_ids(dash) == expected  # every row once, in the queue's order
    assert _queue_pager(dash) == (f"{len(expected)} of {len(expected)}", False)
    assert dash.load_more() == expected  # nothing more to load
    # A row shows rank, id, score, reason and the text, escaped.
    first = re.search(r'<tr data-id="[^"]+">(.*?)</tr>', dash.queue_table.value).group(1)  # type: ignore[union-attr]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", first)
    row = crowd.annotation.queue("adjudication", None).iloc[0]
    assert cells == ["1", row["example_id"], f"{row['score']:.2f}", row["reason"],
                     crowd.example(row["example_id"])["text"]]
    dash.close()


def test_switching_queues_starts_from_the_first_page_and_escapes_texts(tmp_path: Path, spam_schema: wb.Schema) -> None:
    project = wb.Project.create(tmp_path / "q", schema=spam_schema)
    texts = [f"<img src=x onerror=alert({i})> comment {i}" for i in range(45)]
    project.add_data(pd.DataFrame({"id": [f"q-{i:02d}" for i in range(45)], "text": texts}), id_column="id")
    dash = QualityDashboard(project)  # pages of 20
    assert _queue_ids(dash) == [] and "The adjudication queue is empty" in dash.queue_table.value
    assert _queue_pager(dash) == ("", False)
    dash.queue_strategy.value = "random"
    expected = project.annotation.queue("random", None)["example_id"].tolist()
    assert _queue_ids(dash) == expected[:20]
    assert _queue_pager(dash) == ("20 of 45", True) and dash.queue_more.description == "load 20 more"
    dash.load_more()
    dash.load_more()
    assert _queue_ids(dash) == expected and _queue_pager(dash) == ("45 of 45", False)
    assert "<img" not in dash.queue_table.value and "&lt;img src=x onerror=alert(" in dash.queue_table.value
    # A refresh after new labels keeps the page; the labeled item leaves the random queue.
    project.annotate(expected[0], "spam", annotator="ann")
    dash.refresh()
    after = project.annotation.queue("random", None)["example_id"].tolist()
    assert expected[0] not in after and _queue_ids(dash) == after and _queue_pager(dash) == ("44 of 44", False)
    dash.queue_strategy.value = "adjudication"
    dash.queue_strategy.value = "random"
    assert _queue_pager(dash) == ("20 of 44", True)
    dash.close()
    project.close()


def test_bad_queue_parameters(project: wb.Project) -> None:
    with pytest.raises(ValueError, match="'queue' parameter of QualityDashboard must be one of"):
        QualityDashboard(project, queue="fifo")
    with pytest.raises(ValueError, match="'page_size' parameter of QualityDashboard must be a positive int"):
        QualityDashboard(project, page_size=0)
    assert project.n_listeners() == 0
