"""Headless tests of the Panel reviewer views: build them, drive buttons and keys from Python, assert on the project.

Also the permission checks of every view and action, the escaping of every user string, the ``app.py``
script and the validation of ``python -m widgets.panel.serve``.
"""

from __future__ import annotations

import html as _html
import io
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

import panel as pn

from widgets.panel import (
    AnnotateView,
    ExportView,
    LFView,
    LocalAccess,
    OverviewView,
    QualityView,
    RelabelView,
    ReviewApp,
    SessionAccess,
    VersionsView,
    build_view,
)
from widgets.panel.serve import ServeError, parse_config
from workbench.auth import ROLES, VIEWS, Accounts, PermissionDeniedError, can

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
    assert list(app.queue_list.options.values()) == app.pending  # label: "id · text preview"
    assert next(iter(app.queue_list.options)) == f"{app.pending[0]} \u00b7 {TEXTS[app.pending[0]]}"
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
def test_bad_arguments_say_what_to_do(project: wb.Project, kwargs: dict[str, Any], message: str) -> None:
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
    assert "dr_kim adjudicated it as &#x27;ham&#x27;" in app.status.object
    assert "Nothing was written" in app.status.object
    assert app.current != current and current not in app.pending


def test_a_decision_on_answers_changed_in_another_session_is_refused(app: ReviewApp, project: wb.Project) -> None:
    """The dissenting annotator agrees meanwhile: the item is unanimous, and the stale click writes nothing."""
    current = app.current
    assert current is not None
    shown = project.annotation.answers()
    shown = shown[shown["example_id"] == current]
    majority = str(shown["value"].value_counts().index[0])
    minority = next(c for c in ("ham", "spam") if c != majority)
    other_session = wb.Project.open(project.path)
    try:
        for who in shown.loc[shown["value"] != majority, "annotator"]:
            other_session.annotate(current, majority, annotator=str(who))
    finally:
        other_session.close()
    app.choice_buttons[minority].clicks += 1
    assert _adjudications(project, current).empty
    assert "changed since it was shown" in app.status.object and "now answers" in app.status.object
    assert current not in app.pending  # unanimous now: it left the queue on the refresh
    assert project.quality.consensus().loc[current, "label"] == majority


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
    with pytest.raises(script.AppSetupError, match=r"Missing reviewer\. Give the project and the reviewer: panel "
                                                   r"serve"):
        script._settings(["app.py"])


def test_guidelines_markdown_cannot_carry_html() -> None:
    from widgets.panel._review_app import _markdown_text

    out = _markdown_text('# Rules\n\n> quote <img src=x onerror="alert(1)"> & <script>x()</script>')
    assert "<" not in out and "&lt;img" in out and "&lt;script" in out and "&amp;" in out
    assert out.startswith("# Rules") and "\n> quote" in out  # Markdown structure is kept


# ---------------------------------------------------------------------------------------------- issue 12
XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
RAW = ("<img src=x", "<script>")
PASSWORD = "a long passphrase"


def _rendered(pane: Any) -> str:
    """The HTML a pane sends to the browser (Bokeh transports it escaped once more)."""
    return _html.unescape(pane.get_root().text)


def _assert_escaped(html_text: str, expect_visible: str = "onerror") -> None:
    assert not any(raw in html_text for raw in RAW), html_text
    assert "&lt;img src=x" in html_text and expect_visible in html_text


def test_digits_choose_and_enter_confirms(app: ReviewApp, project: wb.Project) -> None:
    first, second = app.pending[:2]
    assert app.keys.keys == ["1", "2", "Enter", "s", "u"]
    app.keys.press("Enter")  # nothing chosen yet: nothing is written
    assert _adjudications(project, first).empty and "Choose first" in app.status.object
    app.keys._handle_msg({"key": "2", "context": first})  # what the browser sends: the key and the item shown
    assert app.selected_choice == "spam" and "wb-chosen'>spam<" in app.selected.object
    assert _adjudications(project, first).empty  # a digit alone writes nothing
    app.keys._handle_msg({"key": "x", "context": first})  # a key that is not a shortcut is ignored
    app.keys._handle_msg("Enter")  # so is a malformed message
    assert _adjudications(project, first).empty
    app.keys.press("Enter")
    assert _adjudications(project, first)[["annotator", "value"]].values.tolist() == [["dr_lee", "spam"]]
    assert app.current == second and app.selected_choice is None and app.decided == [first]
    assert "<span class='wb-decided'>1</span> decided in this session" in app.progress.object
    app.keys.press("s")
    assert app.current not in (first, second) and not len(_adjudications(project, second))


def test_a_key_pressed_on_an_item_no_longer_current_is_refused(app: ReviewApp, project: wb.Project) -> None:
    """Render lag: the page still showed the previous item when the key went out. Acting on the key
    would decide an item the reviewer has not seen, so it is refused and nothing is written."""
    first, second = app.pending[:2]
    assert app.keys.context == first  # the page is told which item it shows
    app.keys._handle_msg({"key": "1", "context": first})
    app.keys._handle_msg({"key": "Enter", "context": first})
    assert _adjudications(project, first)["value"].tolist() == ["ham"]
    assert app.current == second and app.keys.context == second
    n_events = len(project.events())
    # the reviewer, still looking at the first item, presses 2 then Enter
    app.keys._handle_msg({"key": "2", "context": first})
    app.keys._handle_msg({"key": "Enter", "context": first})
    assert len(project.events()) == n_events and _adjudications(project, second).empty
    assert app.selected_choice is None and app.keys.stale == 2
    assert "pressed before this item appeared" in app.status.object and "nothing was done" in app.status.object
    for msg in ({"key": "s"}, {"key": "s", "context": None}, {"key": "s", "context": 7}):
        app.keys._handle_msg(msg)  # no context, or not a string: refused too
    assert app.current == second and app.keys.stale == 5
    # undo is about the session's last decision, not the item on screen: it acts whatever the context
    app.keys._handle_msg({"key": "u", "context": "anything"})
    assert app.decided == [] and app.current == first and app.keys.context == first
    assert len(project.events()) == n_events + 1
    # once the page shows the current item, its keys act again
    app.keys._handle_msg({"key": "2", "context": first})
    app.keys._handle_msg({"key": "Enter", "context": first})
    assert _adjudications(project, first)["value"].tolist()[-1] == "spam"


def test_a_click_made_before_the_page_drew_the_item_is_refused(app: ReviewApp, project: wb.Project) -> None:
    """Buttons carry no item, so the page reports which item it applied; a click that arrives
    before that report (a double click, a click during render lag) was made on the previous item."""
    first, second = app.pending[:2]
    assert app.keys.shown is None and not app.keys.page_is_behind()  # no page: clicks act (notebooks, tests)
    app.keys._handle_msg({"shown": first})  # the page drew the first item
    app.choice_buttons["spam"].clicks += 1
    assert _adjudications(project, first)["value"].tolist() == ["spam"]
    assert app.current == second and app.keys.page_is_behind()
    n_events = len(project.events())
    app.choice_buttons["ham"].clicks += 1  # the second click of a double click: the page still shows `first`
    assert len(project.events()) == n_events and _adjudications(project, second).empty
    assert "made before this item appeared" in app.status.object
    app.keys._handle_msg({"shown": 3})  # malformed reports are ignored
    assert app.keys.shown == first
    app.keys._handle_msg({"shown": second})
    app.choice_buttons["ham"].clicks += 1
    assert _adjudications(project, second)["value"].tolist() == ["ham"]


def test_an_empty_queue_has_an_empty_context(project: wb.Project) -> None:
    app = ReviewApp(project, reviewer="dr_lee")
    while app.current is not None:
        app.keys.press("1")
        app.keys.press("Enter")
    assert app.keys.context == ""
    app.keys._handle_msg({"key": "Enter", "context": "an old item"})
    assert app.keys.stale == 1
    app.close()


def test_u_undoes_the_last_decision_with_one_retraction(app: ReviewApp, project: wb.Project) -> None:
    first = app.current
    assert first is not None
    app.keys.press("1")
    app.keys.press("Enter")
    assert first not in app.pending
    n_events = len(project.events())
    app.keys.press("u")
    assert len(project.events()) == n_events + 1  # one retract event, nothing deleted
    last = project.events().iloc[-1]
    assert (last["example_id"], last["action"], last["source"], last["annotator"]) == (
        first, "retract", "adjudication", "dr_lee")
    assert first in app.pending and app.current == first and app.decided == []
    assert "Undid the decision" in app.status.object
    app.keys.press("u")
    assert "Nothing to undo" in app.status.object and len(project.events()) == n_events + 1


def test_search_and_filters(app: ReviewApp) -> None:
    assert set(app.visible) == DISPUTED
    app.search.value = "gift"
    assert app.visible == ["r-04"] and app.current == "r-04"
    assert "<span class='wb-shown'>1</span> shown" in app.progress.object
    app.search.value = "R-0"  # ids count too, case-insensitively
    assert set(app.visible) == DISPUTED
    app.search.value = "no such words"
    assert app.visible == [] and app.current is None and "No queued item matches" in app.empty_message.object
    app.search.value = ""
    app.label_filter.value = "spam"  # someone answered spam: every disputed item
    assert set(app.visible) == DISPUTED
    app.annotator_filter.value = "cid"
    assert app.annotator_filter.options == ["(any)", "ann", "bob", "cid"]
    assert set(app.visible) == DISPUTED
    app.agreement_filter.value = 0.5  # every disputed item has agreement 2/3
    assert app.visible == []
    app.agreement_filter.value = 0.7
    assert set(app.visible) == DISPUTED
    assert len(app.pending) == 4  # filters never change the queue itself


def test_lf_votes_and_model_draft_are_shown_escaped(app: ReviewApp, project: wb.Project) -> None:
    assert "No labeling function is registered" in app.lf_votes.object
    _, spam = project.schema.label_ids("ham", "spam")
    project.lfs.add(wb.lf.keywords(f"lf {XSS}", ["gift", "channel"], label=spam))
    project.annotate("r-04", "spam", annotator="model-v1", source="model", confidence=0.8)
    app.show("r-04")
    votes = app.lf_votes.object
    _assert_escaped(votes)
    assert "<b>spam</b>" in votes and "0 abstain" in votes
    assert "wb-draft-value'>spam</b> (0.80)" in app.draft.object and "model-v1" in app.draft.object
    app.show("r-02")
    assert "All 1 labeling function(s) abstain" in app.lf_votes.object


def test_every_string_on_the_page_is_escaped(tmp_path: Path) -> None:
    schema = wb.Schema.single("spam", ["ham", "spam"], guidelines=f"# Rules\n{XSS}")
    project = wb.Project.create(tmp_path / "xss", schema=schema)
    try:
        project.add_data(pd.DataFrame({"id": ["x-1"], "text": [f"buy {XSS}"]}), id_column="id")
        project.annotation.import_annotations(pd.DataFrame(
            {"id": ["x-1", "x-1"], "annotator": [f"ann {XSS}", "bob"], "value": ["spam", "ham"]}))
        app = ReviewApp(project, reviewer="dr_lee")
        for pane in (app.text, app.answers, app.queue_list):
            if isinstance(pane, pn.widgets.Select):
                continue
            _assert_escaped(_rendered(pane))
        assert any(XSS in label for label in app.queue_list.options)  # option labels are DOM text, not HTML
        assert "&lt;img" in app._guidelines_pane.object and "<img" not in app._guidelines_pane.object
        app.close()
    finally:
        project.close()


def _accounts(project: wb.Project) -> Accounts:
    acc = Accounts(project.path)
    for name, role in (("dr_lee", "reviewer"), ("dr_kim", "reviewer"), ("alice", "annotator"), ("root", "admin")):
        acc.add(name, role, PASSWORD)
    return acc


def test_two_reviewers_get_different_items(project: wb.Project) -> None:
    acc = _accounts(project)
    other = wb.Project.open(project.path)  # another browser session: its own connection
    try:
        lee = ReviewApp(project, access=SessionAccess(acc, acc.start_session("dr_lee")))
        kim = ReviewApp(other, access=SessionAccess(acc, acc.start_session("dr_kim")))
        assert project.annotation.holders("adjudication") == {lee.current: "dr_lee", kim.current: "dr_kim"}
        assert lee.current is not None and kim.current is not None and lee.current != kim.current
        kim.refresh()
        assert kim.visible[-1] == lee.current  # the item dr_lee has on screen is listed last for dr_kim
        assert any(label.endswith("(with dr_lee)") for label in kim.queue_list.options)
        held = lee.current
        kim.show(held)
        assert all(b.disabled for b in kim.choice_buttons.values()) and "dr_lee has this item" in \
            kim.item_header.object
        kim.decide("ham")
        assert "&#x27;dr_lee&#x27; has" in kim.status.object and _adjudications(project, held).empty
        lee.decide("spam")
        assert _adjudications(project, held)["annotator"].tolist() == ["dr_lee"]
        lee.close()
        kim.close()
        assert project.annotation.holders("adjudication") == {}
    finally:
        other.close()


def test_the_server_side_session_is_checked_before_every_decision(project: wb.Project) -> None:
    acc = _accounts(project)
    token = acc.start_session("dr_lee")
    app = ReviewApp(project, access=SessionAccess(acc, token))
    assert app.reviewer == "dr_lee"
    n_events = len(project.events())
    acc.set_role("dr_lee", "annotator")  # demoted while the page is open
    app.decide("spam")
    assert len(project.events()) == n_events and "may not adjudicate" in app.status.object
    acc.set_role("dr_lee", "reviewer")
    acc.end_session(token)  # logged out in another tab
    app.keys.press("1")
    app.keys.press("Enter")
    assert len(project.events()) == n_events and "session has ended" in app.status.object
    app.close()
    with pytest.raises(PermissionDeniedError, match="not logged in"):
        SessionAccess(acc, token)
    with pytest.raises(PermissionDeniedError, match=r"alice \(role 'annotator'\) may not open the 'adjudication'"):
        ReviewApp(project, access=SessionAccess(acc, acc.start_session("alice")))
    with pytest.raises(LabelValidationError, match=r"'reviewer' parameter of ReviewApp must be left out"):
        ReviewApp(project, reviewer="mallory", access=SessionAccess(acc, acc.start_session("dr_kim")))


@pytest.mark.parametrize("role", ROLES)
def test_every_view_checks_the_role_when_built(project: wb.Project, role: str) -> None:
    access = LocalAccess("someone", role)
    for view in VIEWS:
        if can(role, f"view:{view}"):
            built = build_view(view, project, access)
            built.panel().get_root()  # renders
            built.close()
        else:
            with pytest.raises(PermissionDeniedError, match=rf"may not open the '{view}' view"):
                build_view(view, project, access)
    with pytest.raises(LabelValidationError, match=r"'name' parameter of build_view must be one of"):
        build_view("admin_panel", project, LocalAccess("x", "admin"))


def test_overview_quality_versions_and_lf_views_show_project_figures(project: wb.Project) -> None:
    access = LocalAccess("dr_lee", "reviewer")
    overview = OverviewView(project, access)
    assert overview.figures["examples"] == 6 and overview.figures["waiting for adjudication"] == 4
    assert overview.figures["annotators"] == 3 and overview.figures["human answers"] == 18
    quality = QualityView(project, access)
    report = project.quality.annotator_report(window="7D")
    shown = quality.table.object
    assert shown["annotator"].tolist() == [str(a) for a in report.index]
    assert shown["n_labels"].tolist() == report["n_labels"].tolist()  # the notebook's window and numbers
    assert f"Fleiss' kappa <b>{project.quality.agreement().fleiss_kappa:.2f}</b>" in quality.summary.object
    versions = VersionsView(project, access)
    assert "No label version saved yet" in versions.lineage.object
    lfs = LFView(project, access)
    assert "No labeling function is registered" in lfs.note.object
    for view in (overview, quality, versions, lfs):
        view.close()


def test_versions_view_shows_lineage_and_diffs_escaped(project: wb.Project) -> None:
    soft = project.models.soft_labels()
    first = project.versions.save(soft, message=f"first {XSS}", author="dr_lee")
    project.quality.adjudicate("r-01", "ham", annotator="dr_lee")
    second = project.versions.save(project.models.soft_labels(), message="after adjudication", author=f"x {XSS}")
    view = VersionsView(project, LocalAccess("dr_lee", "reviewer"))
    lineage = view.lineage.object
    _assert_escaped(lineage)
    assert f"<b>{second.name}</b> &larr; {first.name}" in lineage
    assert (view.version_a.value, view.version_b.value) == (first.name, second.name)
    diff = project.versions.diff(first.name, second.name)
    assert f"n_changed <b>{diff.attrs['n_changed']}</b>" in view.diff_summary.object
    assert set(view.diff_table.object["id"]) == set(diff.index[diff["changed"]])
    _assert_escaped(_rendered(view.table))
    view.close()


def test_lf_view_lists_names_escaped_and_has_no_edit_control(project: wb.Project) -> None:
    _, spam = project.schema.label_ids("ham", "spam")
    project.lfs.add(wb.lf.keywords(f"kw {XSS}", ["channel", "gift"], label=spam))
    view = LFView(project, LocalAccess("dr_lee", "reviewer"))
    assert view.summary is not None and len(view.summary) == 1
    _assert_escaped(_rendered(view.table))
    widgets_in_view = [w for w in view.layout.select(pn.widgets.Widget)]
    assert widgets_in_view == []  # read-only: nothing to click, type or edit
    view.close()


def test_annotate_view_submits_under_the_logged_in_annotator(project: wb.Project) -> None:
    project.add_data(pd.DataFrame({"id": ["n-1"], "text": [f"new {XSS}"]}), id_column="id")
    acc = _accounts(project)
    view = AnnotateView(project, SessionAccess(acc, acc.start_session("alice")))
    assert view.current is not None and view.current.example_id == "n-1"  # the only item short of answers
    _assert_escaped(view.text.object)
    view.keys.press("2")
    view.keys.press("Enter")
    labels = project.labels(source="human", annotator="alice")
    assert labels[["example_id", "value"]].values.tolist() == [["n-1", "spam"]]
    assert view.current is None and "Nothing to annotate" in view.empty_message.object
    view.keys.press("u")
    assert project.labels(source="human", annotator="alice").empty and view.current is not None
    view.keys.press("s")
    assert view.current is None and project.labels(source="human", annotator="alice").empty
    view.close()


def test_item_views_refuse_keys_pressed_on_another_item(project: wb.Project) -> None:
    project.add_data(pd.DataFrame({"id": ["n-1", "n-2"], "text": ["new one", "new two"]}), id_column="id")
    acc = _accounts(project)
    view = AnnotateView(project, SessionAccess(acc, acc.start_session("alice")))
    shown = view.current.example_id
    assert view.keys.context == shown
    view.keys._handle_msg({"key": "2", "context": "n-0"})
    view.keys._handle_msg({"key": "Enter", "context": "n-0"})
    assert project.labels(source="human", annotator="alice").empty and view.keys.stale == 2
    assert "pressed before this item appeared" in view.status.object
    view.keys._handle_msg({"key": "2", "context": shown})
    view.keys._handle_msg({"key": "Enter", "context": shown})
    assert project.labels(source="human", annotator="alice")["example_id"].tolist() == [shown]
    assert view.keys.context == view.current.example_id != shown
    view.close()
    if not hasattr(project, "migrations"):
        return
    project.migrations.plan(project.schema.evolve(split={"spam": ["promo", "scam"]})).apply(relabel_queue=True)
    relabel = RelabelView(project, LocalAccess("dr_lee", "reviewer"))
    assert relabel.keys.context.startswith(f"{relabel.current}\x1f")
    before = len(project.labels(source="adjudication"))
    relabel.keys._handle_msg({"key": "3", "context": "elsewhere"})
    relabel.keys._handle_msg({"key": "Enter", "context": "elsewhere"})
    assert len(project.labels(source="adjudication")) == before and relabel.keys.stale == 2
    relabel.close()


def test_relabel_view_works_through_the_queue_after_a_migration(project: wb.Project) -> None:
    if not hasattr(project, "migrations"):
        pytest.skip("this workbench has no project.migrations")
    new = project.schema.evolve(split={"spam": ["promo", "scam"]})
    project.migrations.plan(new).apply(relabel_queue=True)
    queued = project.migrations.relabel_ids()
    assert queued
    view = RelabelView(project, LocalAccess("dr_lee", "reviewer"))
    assert view.current == queued[0] and view._choices == ["ham", "promo", "scam"]
    assert f"<b class='wb-count'>{len(queued)}</b>" in view.count.object
    for _ in queued:
        view.keys.press("3")
        view.keys.press("Enter")
    assert project.migrations.relabel_ids() == [] and view.current is None
    adj = project.labels(source="adjudication")
    assert set(adj["example_id"]) == set(queued) and set(adj["annotator"]) == {"dr_lee"}
    view.close()


def test_relabel_views_of_two_reviewers_hold_different_items(project: wb.Project) -> None:
    project.migrations.plan(project.schema.evolve(split={"spam": ["promo", "scam"]})).apply(relabel_queue=True)
    queued = project.migrations.relabel_ids()
    assert len(queued) >= 3
    other = wb.Project.open(project.path)  # another browser session
    try:
        lee = RelabelView(project, LocalAccess("dr_lee", "reviewer"))
        kim = RelabelView(other, LocalAccess("dr_kim", "reviewer"))
        assert lee.current == queued[0] and kim.current == queued[1]
        assert project.annotation.holders("relabel") == {queued[0]: "dr_lee", queued[1]: "dr_kim"}
        lee.keys.press("2")
        lee.keys.press("Enter")
        assert lee.current == queued[2]  # dr_kim's item is passed over
        lee.keys.press("u")  # the undone item comes back first; the one on screen is given back
        assert lee.current == queued[0]
        assert project.annotation.holders("relabel") == {queued[0]: "dr_lee", queued[1]: "dr_kim"}
        kim.close()  # a closed page gives its item back
        assert project.annotation.holders("relabel") == {queued[0]: "dr_lee"}
        seen = []
        while lee.current is not None:
            seen.append(lee.current)
            lee.keys.press("3")
            lee.keys.press("Enter")
        assert sorted(seen) == sorted(queued) and project.migrations.relabel_ids() == []
        assert project.annotation.holders("relabel") == {}
        lee.close()
    finally:
        other.close()


def test_held_relabel_items_are_not_called_done(project: wb.Project) -> None:
    project.migrations.plan(project.schema.evolve(split={"spam": ["promo", "scam"]})).apply(relabel_queue=True)
    queued = project.migrations.relabel_ids()
    for eid in queued:
        project.annotation.claim(eid, "dr_kim", task="relabel")
    view = RelabelView(project, LocalAccess("dr_lee", "reviewer"))
    assert view.current is None and f"<b class='wb-count'>{len(queued)}</b>" in view.count.object
    assert "on other reviewers&#x27; screens right now" in view.empty_message.object
    view.close()


def test_a_filter_the_engine_refuses_is_shown_not_raised(app: ReviewApp) -> None:
    app.annotator_filter.options = [*app.annotator_filter.options, "zed"]
    app.annotator_filter.value = "zed"  # e.g. their answers were retracted in another session meanwhile
    assert app.visible == [] and app.current is None
    assert "The filters could not be applied" in app.status.object and "zed" in app.status.object


def test_export_is_admin_only_and_checked_at_download(project: wb.Project) -> None:
    project.versions.save(project.models.soft_labels(), message="v")
    with pytest.raises(PermissionDeniedError, match=r"may not open the 'export' view"):
        ExportView(project, LocalAccess("dr_lee", "reviewer"))
    acc = _accounts(project)
    view = ExportView(project, SessionAccess(acc, acc.start_session("root")))
    name = str(view.version.value)
    expected = project.versions.load(name)
    csv = pd.read_csv(io.BytesIO(view.export_bytes(name, "csv")), index_col=0)
    assert list(csv.index.astype(str)) == list(expected.index.astype(str))
    assert len(pd.read_json(io.BytesIO(view.export_bytes(name, "jsonl")), lines=True)) == len(expected)
    assert pd.read_parquet(io.BytesIO(view.export_bytes(name, "parquet"))).shape == expected.shape
    assert view.download.filename == f"{name}.csv"
    acc.set_role("root", "reviewer")  # demoted after the page was built
    assert view._payload() is None and "may not export" in view.status.object
    with pytest.raises(LabelValidationError, match="export format must be one of"):
        ExportView(project, LocalAccess("boss", "admin")).export_bytes(name, "xlsx")


# ---------------------------------------------------------------------------------------------- app.py and serve
def test_app_script_shows_errors_on_the_page(tmp_path: Path, project: wb.Project,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    script: Any = _load_app_script()
    monkeypatch.delenv("WORKBENCH_PROJECT", raising=False)
    monkeypatch.delenv("WORKBENCH_REVIEWER", raising=False)
    missing = script.page(["app.py"])
    assert "Missing project path and reviewer" in missing.objects[0].object
    bad = script.page(["app.py", str(tmp_path / "nowhere"), "dr_lee"])
    assert "There is no project at" in bad.objects[0].object
    Accounts(project.path).add("dr_lee", "reviewer", PASSWORD)
    locked = script.page(["app.py", str(project.path), "dr_lee"])
    assert "has accounts, so it must be served with logins: run workbench serve" in locked.objects[0].object


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_validates_the_project_before_starting(tmp_path: Path, project: wb.Project) -> None:
    port = str(_free_port())
    with pytest.raises(ServeError, match=r"There is no project at .*create one with workbench init"):
        parse_config([str(tmp_path / "nowhere"), "--port", port])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ServeError, match=r"is not a workbench project"):
        parse_config([str(tmp_path / "empty"), "--port", port])
    with pytest.raises(ServeError, match=r"has no accounts, and the reviewer app needs a login.*workbench users add"):
        parse_config([str(project.path), "--port", port])
    _accounts(project)
    config, accounts = parse_config([str(project.path), "--port", port, "--session-minutes", "30", "--no-browser"])
    assert (config.port, config.address, config.session_minutes, config.open_browser) == (int(port), "127.0.0.1",
                                                                                          30.0, False)
    assert config.project == project.path.resolve() and accounts.enabled


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--port", "0"], r"--port must be between 1 and 65535; got 0"),
        (["--port", "http"], r"--port must be a whole number; got 'http'"),
        (["--session-minutes", "0"], r"--session-minutes must be more than 0"),
        (["--session-minutes", "nan"], r"--session-minutes must be a finite number"),
        (["--refresh-seconds", "-1"], r"--refresh-seconds must be 0 \(off\) or more"),
        (["--address", ""], r"--address must not be empty"),
        (["--address", "0.0.0.0"], r"Refusing to listen on '0\.0\.0\.0' without encryption.*--tls-cert"),
        (["--tls-cert", "c.pem"], r"--tls-cert and --tls-key go together"),
        (["--tls-cert", "nope.pem", "--tls-key", "nope.key"], r"--tls-cert 'nope\.pem' is not a readable file"),
        (["--lfs", "missing.py"], r"--lfs 'missing\.py' must be an existing \.py file"),
        (["--method", "vote"], r"argument --method: invalid choice: 'vote'.*\(see .* --help\)"),
        (["--frobnicate"], r"unrecognized arguments: --frobnicate"),
    ],
)
def test_serve_argument_errors_are_one_clear_line(project: wb.Project, extra: list[str], message: str) -> None:
    _accounts(project)
    with pytest.raises(ServeError, match=message) as info:
        parse_config([str(project.path), "--port", str(_free_port()), *extra])
    assert "\n" not in str(info.value)


def test_serve_refuses_a_busy_port_and_a_broken_lf_file(project: wb.Project, tmp_path: Path) -> None:
    import socket

    _accounts(project)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServeError, match=rf"Port {port} on 127\.0\.0\.1 is already in use; choose another"):
            parse_config([str(project.path), "--port", str(port)])
    broken = tmp_path / "lfs.py"
    broken.write_text("raise RuntimeError('oops')\n")
    with pytest.raises(ServeError, match=r"failed to run: RuntimeError: oops"):
        parse_config([str(project.path), "--port", str(_free_port()), "--lfs", str(broken)])
    broken.write_text("x = 1\n")
    with pytest.raises(ServeError, match=r"must define a function register\(project\)"):
        parse_config([str(project.path), "--port", str(_free_port()), "--lfs", str(broken)])


def test_serve_accepts_tls_beyond_localhost(project: wb.Project, tmp_path: Path) -> None:
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    _accounts(project)
    config, _ = parse_config([str(project.path), "--port", str(_free_port()), "--address", "0.0.0.0",
                              "--tls-cert", str(cert), "--tls-key", str(key)])
    assert config.tls and config.url.startswith("https://0.0.0.0:")
    with pytest.raises(ServeError, match=r"cannot be used together"):
        parse_config([str(project.path), "--port", str(_free_port()), "--tls-cert", str(key), "--tls-key",
                      str(cert)])


@pytest.mark.slow  # a fresh interpreter imports workbench and panel
def test_serve_main_exits_2_with_one_line(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "widgets.panel.serve", str(tmp_path / "nowhere"), "--no-browser"],
                         cwd=REPO_ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("python -m widgets.panel.serve: error: There is no "
                                                                 "project at")
