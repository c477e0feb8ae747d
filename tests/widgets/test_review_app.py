"""Headless tests of the Panel ReviewApp: build it, drive its buttons from Python, assert on the project."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.exceptions import LabelValidationError, OptionalDependencyError

pytest.importorskip("panel", reason="the Panel apps need panel: pip install labeling-workbench[panel]")

from widgets.panel import ReviewApp

REPO_ROOT = Path(__file__).resolve().parents[2]

TEXTS = {
    "r-01": "check out my channel",
    "r-02": "<script>alert('pwned')</script> & <b>bold</b>",
    "r-03": "I love this song",
    "r-04": "free gift cards",
    "r-05": "great video",
    "r-06": None,
}
# three annotators; r-01, r-02, r-04 and r-06 split 2:1 (agreement 0.67 < 0.7), r-03 and r-05 unanimous
ANSWERS = {
    "r-01": ("spam", "spam", "ham"),
    "r-02": ("ham", "spam", "spam"),
    "r-03": ("ham", "ham", "ham"),
    "r-04": ("spam", "ham", "spam"),
    "r-05": ("ham", "ham", "ham"),
    "r-06": ("ham", "ham", "spam"),
}
DISPUTED = {"r-01", "r-02", "r-04", "r-06"}
GUIDELINES = "# Spam rules\nSpam advertises a channel, a product or a link."


def _make_project(path: Path, answers: dict[str, tuple[str, str, str]] = ANSWERS) -> wb.Project:
    project = wb.Project.create(path, schema=wb.Schema.single("spam", ["ham", "spam"], guidelines=GUIDELINES))
    project.add_data(pd.DataFrame({"id": list(TEXTS), "text": list(TEXTS.values())}), id_column="id")
    rows = [{"id": eid, "annotator": name, "value": value}
            for eid, values in answers.items() for name, value in zip(("ann", "bob", "cid"), values, strict=True)]
    project.annotation.import_annotations(pd.DataFrame(rows))
    return project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[wb.Project]:
    project = _make_project(tmp_path / "review")
    yield project
    project.close()


@pytest.fixture
def app(project: wb.Project) -> Iterator[ReviewApp]:
    app = ReviewApp(project, reviewer="dr_lee")
    yield app
    app.close()


def _adjudications(project: wb.Project, example_id: str) -> pd.DataFrame:
    history = project.history(example_id)
    return history[history["source"] == "adjudication"]


def test_shows_the_adjudication_queue_and_the_first_item(app: ReviewApp, project: wb.Project) -> None:
    queue = project.annotation.queue("adjudication", n=None)
    assert set(queue["example_id"]) == DISPUTED
    assert app.pending == list(queue["example_id"])
    assert "<b class='wb-count'>4</b> items to review" in app.queue_count.object
    assert app.queue_list.options == app.pending
    assert app.current == app.pending[0] == app.queue_list.value
    first = app.current
    assert f">{first}</code> (1 of 4)" in app.item_header.object
    answers = app.answers.object
    assert list(answers.columns) == ["annotator", "value", "created_at"]
    assert dict(zip(answers["annotator"], answers["value"], strict=True)) == dict(
        zip(("ann", "bob", "cid"), ANSWERS[first], strict=True)
    )
    expected = project.quality.consensus("majority").loc[first]
    assert f"<b>{expected['label']}</b>" in app.consensus.object
    assert "3 annotators" in app.consensus.object
    assert set(app.choice_buttons) == {"ham", "spam"}
    assert not app.empty_message.visible and app.item_view.visible


def test_choice_click_records_an_adjudication_and_advances(app: ReviewApp, project: wb.Project) -> None:
    first, second = app.pending[:2]
    n_events = len(project.events())
    app.note_input.value = "links are spam"
    app.choice_buttons["spam"].clicks += 1

    adj = _adjudications(project, first)
    assert len(adj) == 1
    row = adj.iloc[0]
    assert (row["annotator"], row["value"], row["action"], row["note"]) == ("dr_lee", "spam", "label", "links are spam")
    assert len(project.events()) == n_events + 1  # one project call, one event
    assert project.quality.consensus().loc[first, "adjudicated"]
    assert app.current == second
    assert first not in app.pending and len(app.pending) == 3
    assert "<b class='wb-count'>3</b> items to review" in app.queue_count.object
    assert app.note_input.value == ""
    assert "Recorded" in app.status.object


def test_skip_advances_without_writing_and_requeues_last(app: ReviewApp, project: wb.Project) -> None:
    order = app.pending
    n_events = len(project.events())
    app.skip_button.clicks += 1
    assert len(project.events()) == n_events
    assert app.current == order[1]
    assert app.pending == order[1:] + order[:1]
    assert "<b class='wb-count'>4</b> items to review" in app.queue_count.object  # nothing left the queue
    assert app.current not in project.labels(source="adjudication")["example_id"].tolist()
    # deciding the next item keeps the skipped one at the end
    app.decide("ham")
    assert app.pending == order[2:] + order[:1]
    assert app.current == order[2]


def test_item_text_is_html_escaped(app: ReviewApp) -> None:
    app.show("r-02")
    shown = app.text.object
    assert "<script>" not in shown and "<b>bold</b>" not in shown
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in shown
    app.show("r-06")  # a missing text says so
    assert "(no text)" in app.text.object


def test_empty_queue_says_nothing_to_review(tmp_path: Path) -> None:
    unanimous = {eid: ("ham", "ham", "ham") for eid in TEXTS}
    project = _make_project(tmp_path / "calm", unanimous)
    try:
        app = ReviewApp(project, reviewer="dr_lee")
        assert app.current is None and app.pending == []
        assert app.empty_message.visible and not app.item_view.visible
        assert "Nothing to review" in app.empty_message.object
        assert "<b class='wb-count'>0</b> items to review" in app.queue_count.object
        assert all(b.disabled for b in [*app.choice_buttons.values(), app.skip_button])
        n_events = len(project.events())
        app.decide("spam")  # nothing on screen: nothing is written
        assert len(project.events()) == n_events
        assert "Nothing to review" in app.status.object
        app.close()
    finally:
        project.close()


def test_deciding_every_item_empties_the_queue(app: ReviewApp, project: wb.Project) -> None:
    for _ in range(len(DISPUTED)):
        app.choice_buttons["ham"].clicks += 1
    assert app.current is None and app.empty_message.visible
    assert project.annotation.queue("adjudication", n=None).empty
    assert set(project.labels(source="adjudication")["example_id"]) == DISPUTED


def test_queue_list_jumps_to_an_item(app: ReviewApp) -> None:
    target = app.pending[-1]
    app.queue_list.value = target
    assert app.current == target
    assert f">{target}</code> (4 of 4)" in app.item_header.object
    with pytest.raises(LabelValidationError, match="not in the adjudication queue"):
        app.show("r-03")


def test_follows_labels_added_elsewhere_in_the_process(app: ReviewApp, project: wb.Project) -> None:
    current = app.current
    other = next(i for i in app.pending if i != current)
    project.quality.adjudicate(other, "spam", annotator="someone_else")  # e.g. from a notebook
    assert other not in app.pending and app.current == current
    assert "<b class='wb-count'>3</b>" in app.queue_count.object


def test_guidelines_and_quality_summary(app: ReviewApp, project: wb.Project) -> None:
    assert app.guidelines.collapsed
    assert "Spam advertises a channel" in app.guidelines.objects[0].object
    report = project.quality.agreement()
    assert f"Fleiss' kappa: <b>{report.fleiss_kappa:.2f}</b>" in app.quality.object
    assert f"Krippendorff's alpha: <b>{report.krippendorff_alpha:.2f}</b>" in app.quality.object
    assert "Flagged annotators: none" in app.quality.object


def test_close_leaves_no_listener_behind(project: wb.Project) -> None:
    before = project.n_listeners()
    app = ReviewApp(project, reviewer="dr_lee")
    assert project.n_listeners() > before
    app.close()
    assert project.n_listeners() == before
    app.close()  # twice is harmless
    assert project.n_listeners() == before


def test_layout_is_a_panel_viewable(app: ReviewApp) -> None:
    import panel as pn

    assert isinstance(app.panel(), pn.Column)
    assert pn.panel(app) is app.panel()
    app.panel().get_root()  # renders to a Bokeh model without error


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reviewer": ""}, r"The 'reviewer' parameter of ReviewApp must be a non-empty string.*Got ''"),
        ({"reviewer": "x", "method": "vote"}, r"The 'method' parameter of ReviewApp must be one of .*Got 'vote'"),
    ],
)
def test_bad_arguments_say_what_to_do(project: wb.Project, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(LabelValidationError, match=message):
        ReviewApp(project, **kwargs)


def test_missing_panel_names_the_extra() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules['panel'] = None
        try:
            import widgets.panel
        except ImportError as exc:
            print(type(exc).__name__ + ': ' + str(exc))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert "pip install labeling-workbench[panel]" in out.stdout
    assert OptionalDependencyError.__name__ in out.stdout


def test_an_item_decided_in_another_session_is_not_written_twice(app: ReviewApp, project: wb.Project) -> None:
    current = app.current
    assert current is not None
    other_session = wb.Project.open(project.path)  # another process: no in-process event reaches the app
    try:
        other_session.quality.adjudicate(current, "ham", annotator="dr_kim")
    finally:
        other_session.close()
    app.choice_buttons["spam"].clicks += 1
    adj = _adjudications(project, current)
    assert adj[["annotator", "value"]].values.tolist() == [["dr_kim", "ham"]]
    assert "already adjudicated by &#x27;dr_kim&#x27;" in app.status.object
    assert app.current != current and current not in app.pending


def _load_app_script() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location("review_app_script", REPO_ROOT / "widgets" / "panel" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # outside `panel serve` it only defines functions
    return module


def test_app_script_reads_argv_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    script: Any = _load_app_script()
    monkeypatch.setenv("WORKBENCH_PROJECT", "/env/project")
    monkeypatch.setenv("WORKBENCH_REVIEWER", "env_reviewer")
    assert script._settings(["app.py"]) == ("/env/project", "env_reviewer", "majority")
    assert script._settings(["app.py", "/arg/project", "arg_reviewer", "dawid_skene"]) == (
        "/arg/project", "arg_reviewer", "dawid_skene")
    monkeypatch.delenv("WORKBENCH_REVIEWER")
    with pytest.raises(SystemExit, match=r"Missing reviewer\. Give the project and the reviewer: panel serve"):
        script._settings(["app.py"])


def test_guidelines_markdown_cannot_carry_html() -> None:
    from widgets.panel._review_app import _markdown_text

    out = _markdown_text('# Rules\n\n> quote <img src=x onerror="alert(1)"> & <script>x()</script>')
    assert "<" not in out and "&lt;img" in out and "&lt;script" in out and "&amp;" in out
    assert out.startswith("# Rules") and "\n> quote" in out  # Markdown structure is kept
