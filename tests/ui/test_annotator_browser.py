"""The Annotator in a real JupyterLab (Chromium): keyboard-only labeling lands in the project, exactly.

The second test drives what people expect of it: the ``?`` overlay, the note on an unknown key, the
focused / unfocused state (unfocused, a digit records nothing), messages quoting the item's text (an
``<img onerror>`` text stays text), the batch counter across batches, skip and undo, and drafts that Enter
confirms.

A notebook opens the Annotator on a 40-example project; the test labels 30 items with key presses on
the focused widget only (digits, one Enter to confirm a model draft, one ``u`` to undo), then opens the
project in this process and checks the event log holds exactly those events, and that JupyterLab's
command-mode shortcuts never fired. In JupyterLab 4.6 the digits only make *markdown* cells headings,
so the test also presses keys the widget does not use but JupyterLab does in command mode (``m`` turns
the cell into markdown, after which ``1`` would make it a heading; ``a`` inserts a cell; ``0 0``
restarts the kernel): none of them may reach JupyterLab.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from ui_harness import JupyterServer, assert_no_errors, open_notebook, run_all_cells, write_notebook

import workbench as wb

pytestmark = pytest.mark.timeout(300)

N_EXAMPLES = 40
N_LABELS = 30
UNDO_AFTER = 10  # press "u" after this many label key presses
STRAY_AT = {0, 5, 17}  # at these presses, also press keys JupyterLab would act on in command mode
DRAFT_IDS = {f"x-{i:02d}" for i in range(0, N_EXAMPLES, 4)}  # a model draft "spam" (0.9) on every 4th item

CELLS = [
    ("markdown", "# Annotate\nKeyboard only."),
    "import workbench as wb\nfrom widgets.jupyter._annotator import Annotator\n"
    "project = wb.Project.open({path!r})\nannotator = Annotator(project, 'alice', batch=50)",
    "annotator",
    "print('cells after the widget still run')",
]

_STATE = """() => {
  const root = document.querySelector('.wb-annotator');
  if (!root) { return null; }
  const draft = root.querySelector('.wb-draft');
  return {id: root.dataset.exampleId, revision: root.dataset.revision,
          draft: draft && draft.style.display !== 'none' ? draft.textContent : '',
          focused: document.activeElement === root};
}"""

_CELLS = """(path) => {
  for (const w of window.jupyterapp.shell.widgets('main')) {
    if (w.context && w.context.path === path && w.content) {
      return w.content.widgets.map((c) => ({type: c.model.type, source: c.model.sharedModel.getSource()}));
    }
  }
  return null;
}"""


def _make_project(path: Path) -> None:
    schema = wb.Schema.single("spam", ["ham", "spam"], guidelines="Spam advertises a channel or a link.")
    with wb.Project.create(path, schema=schema) as project:
        ids = [f"x-{i:02d}" for i in range(N_EXAMPLES)]
        project.add_data(pd.DataFrame({"id": ids, "text": [f"comment number {i}" for i in range(N_EXAMPLES)]}),
                         id_column="id")
        for eid in sorted(DRAFT_IDS):
            project.annotate(eid, "spam", annotator="m", source="model", confidence=0.9)


def _wait_for_new_render(page: Any, revision: str) -> dict[str, Any]:
    page.wait_for_function(
        "(rev) => { const r = document.querySelector('.wb-annotator'); return r && r.dataset.revision !== rev; }",
        arg=revision, timeout=20_000, polling=20,
    )
    return page.evaluate(_STATE)


def test_keyboard_only_labeling_records_exactly_the_typed_events(
    page: Any, jupyter: JupyterServer, tmp_path: Path
) -> None:
    project_path = tmp_path / "kbd-project"
    _make_project(project_path)
    cells = [c if isinstance(c, tuple) else c.format(path=str(project_path)) for c in CELLS]
    relpath = write_notebook(jupyter, "annotate_keyboard.ipynb", cells)
    open_notebook(page, jupyter, relpath)
    run_all_cells(page)
    assert_no_errors(page)
    cells_before = page.evaluate(_CELLS, relpath)

    root = page.locator(".wb-annotator")
    root.wait_for(state="visible", timeout=30_000)
    page.locator(".wb-annotator .wb-item").click()  # focus the widget the way a user would
    state = page.evaluate(_STATE)
    assert state["focused"], "clicking the widget should focus it"

    typed: list[tuple[str, str, str]] = []  # (example_id, value, how)
    confirmed = undone = None
    strays_done: set[int] = set()
    presses = 0
    while presses < N_LABELS:
        eid = state["id"]
        assert eid, f"the widget shows no item after {presses} presses"
        if presses in STRAY_AT and presses not in strays_done:
            strays_done.add(presses)
            page.keyboard.press("m")  # command mode: "change cell to markdown"
            if presses > 0:
                page.keyboard.press("1")  # on a markdown cell: "heading 1"; here it picks "ham"
                typed.append((eid, "ham", "digit"))
                presses += 1
                state = _wait_for_new_render(page, state["revision"])
                for key in ("a", "0", "0"):  # "insert cell above", "restart the kernel"
                    page.keyboard.press(key)
            page.wait_for_timeout(300)  # give JupyterLab (and the kernel) the time to react, if it would
            after = page.evaluate(_STATE)
            assert after is not None, f"the widget is gone: a JupyterLab shortcut changed its cell at press {presses}"
            assert after["revision"] == state["revision"], "keys the widget does not use changed the item"
            assert page.evaluate(_CELLS, relpath) == cells_before, f"a JupyterLab shortcut fired at press {presses}"
            continue
        if confirmed is None and state["draft"]:
            assert eid in DRAFT_IDS and "spam" in state["draft"] and "0.90" in state["draft"]
            page.keyboard.press("Enter")
            typed.append((eid, "spam", "confirm"))
            confirmed = eid
        else:
            value_key = "2" if int(eid[-2:]) % 3 == 0 else "1"
            page.keyboard.press(value_key)
            typed.append((eid, "spam" if value_key == "2" else "ham", "digit"))
        presses += 1
        state = _wait_for_new_render(page, state["revision"])
        if presses == UNDO_AFTER:
            page.keyboard.press("u")
            undone = typed[-1][0]
            state = _wait_for_new_render(page, state["revision"])
            assert state["id"] == undone, "undo should show the undone item again"
        assert state["focused"], f"the widget lost the focus after {presses} presses"

    # The notebook is untouched: no cell became a heading, nothing was inserted or deleted.
    assert page.evaluate(_CELLS, relpath) == cells_before
    assert [c["type"] for c in cells_before] == ["markdown", "code", "code", "code"]
    assert_no_errors(page)

    with wb.Project.open(project_path) as project:
        ev = project.events()
        human = ev[(ev["source"] == "human") & (ev["annotator"] == "alice")]
        labels = human[human["action"] == "label"]
        assert labels[["example_id", "value"]].values.tolist() == [[e, v] for e, v, _ in typed]
        assert len(labels) == N_LABELS
        retracts = human[human["action"] == "retract"]
        assert retracts[["example_id", "note"]].values.tolist() == [[undone, "undo"]]
        assert len(human) == N_LABELS + 1
        assert labels["time_spent"].notna().all() and (labels["time_spent"] >= 0).all()
        notes = labels.set_index("example_id")["note"]
        assert notes[confirmed] == "confirmed draft"
        assert (labels["note"] == "confirmed draft").sum() == 1
        # The current answers are the last typed value per item (the undone item was labeled again).
        expected = {e: v for e, v, _ in typed}
        current = project.labels(source="human", annotator="alice").set_index("example_id")["value"].to_dict()
        assert current == expected
        assert len(current) == N_LABELS - 1


def test_notebook_04_renders_the_annotator_and_the_quality_dashboard(page: Any, jupyter: JupyterServer) -> None:
    from playwright.sync_api import expect
    from ui_harness import REPO_ROOT, copy_notebook

    relpath = copy_notebook(jupyter, REPO_ROOT / "notebooks" / "04_annotation_and_quality.ipynb")
    open_notebook(page, jupyter, relpath)
    run_all_cells(page, timeout=180)
    assert_no_errors(page)
    annotator = page.locator(".wb-annotator")
    expect(annotator).to_be_visible()
    expect(annotator.locator(".wb-text")).not_to_be_empty()
    expect(annotator.locator(".wb-choice")).to_have_count(2)
    dashboard = page.locator(".wb-quality-dashboard")
    expect(dashboard.locator(".wb-annotator-table tr[data-annotator]")).to_have_count(3)
    count = dashboard.locator(".wb-adjudication-count")
    expect(count).to_have_text(re.compile(r"^\d+$"))  # the backlog left after the notebook's adjudications
    assert int(count.inner_text()) > 0
    # The three Altair charts were drawn by JupyterLab's Vega renderer.
    expect(dashboard.locator(".vega-embed")).to_have_count(3)

    # Reload with the kernel still running (the notebook closed a second dashboard): every widget renders
    # again, none stays on "Loading widget..." (a live container holding a closed child broke this).
    page.locator(".jp-NotebookPanel .jp-Cell .jp-InputPrompt").first.click()
    page.keyboard.press("ControlOrMeta+s")  # the widget views are outputs: save them to disk
    expect(page.locator(".jp-mod-current.jp-mod-dirty")).to_have_count(0, timeout=30_000)
    open_notebook(page, jupyter, relpath)  # a page load; the kernel session is kept
    expect(page.locator(".wb-annotator")).to_be_visible(timeout=60_000)
    expect(page.locator(".wb-annotator .wb-choice")).to_have_count(2)
    again = page.locator(".wb-quality-dashboard")
    expect(again.locator(".wb-annotator-table tr[data-annotator]")).to_have_count(3)
    expect(page.get_by_text("Loading widget...")).to_have_count(0, timeout=30_000)
    expect(page.locator(".jp-OutputArea-output", has_text="Error displaying widget")).to_have_count(0)


# ---------------------------------------------------------------------------------------------------------------
# What people expect: help overlay, unknown keys, focus state, text snippets, the batch counter, drafts.
# Every text is shorter than the snippet limit, so a message quotes it whole.
XSS = "<img src=x onerror=alert(1)> free gift"
TEXTS = {"x-0": "I love this song", "x-1": XSS, "x-2": "check out my channel", "x-3": "<b>bold</b> & <i>co</i>",
         "x-4": "great video", "x-5": "subscribe to me please"}
DRAFTS = {"x-2", "x-5"}  # a model draft "spam" (0.9)
EXPECT_CELLS = [
    "import workbench as wb\nfrom widgets.jupyter._annotator import Annotator\n"
    "project = wb.Project.open({path!r})\nannotator = Annotator(project, 'alice', batch=3)",
    "annotator",
    "print('a cell to click on')",
]


def _make_small_project(path: Path) -> None:
    with wb.Project.create(path, schema=wb.Schema.single("spam", ["ham", "spam"])) as project:
        project.add_data(pd.DataFrame({"id": list(TEXTS), "text": list(TEXTS.values())}), id_column="id")
        for eid in sorted(DRAFTS):
            project.annotate(eid, "spam", annotator="m", source="model", confidence=0.9)


def _quoted(eid: str) -> str:
    return "\u201c" + TEXTS[eid] + "\u201d"


def test_help_unknown_keys_focus_snippets_counter_and_drafts(page: Any, jupyter: JupyterServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    project_path = tmp_path / "expect-project"
    _make_small_project(project_path)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    relpath = write_notebook(jupyter, "annotate_expect.ipynb", [c.format(path=str(project_path)) for c in EXPECT_CELLS])
    open_notebook(page, jupyter, relpath)
    run_all_cells(page)
    assert_no_errors(page)
    cells_before = page.evaluate(_CELLS, relpath)

    root = page.locator(".wb-annotator")
    counter, message = root.locator(".wb-progress-label"), root.locator(".wb-message")
    note = root.locator(".wb-key-note")
    help_overlay, hint = root.locator(".wb-help"), root.locator(".wb-focus-hint")
    root.wait_for(state="visible", timeout=30_000)

    # -- unfocused: dimmed, says "click here", and a digit records nothing (and reaches no JupyterLab command)
    page.locator(".jp-NotebookPanel .jp-Cell").nth(2).locator(".jp-InputPrompt").click()
    expect(root).to_have_attribute("data-focused", "false")
    expect(hint).to_be_visible()
    expect(hint).to_have_text(re.compile("Click here to label with the keyboard"))
    unfocused_border = root.evaluate("(r) => getComputedStyle(r).borderTopStyle")
    revision = page.evaluate(_STATE)["revision"]
    page.keyboard.press("1")
    page.wait_for_timeout(500)  # time for a message to Python and back, if one went
    assert page.evaluate(_STATE)["revision"] == revision
    assert page.evaluate(_CELLS, relpath) == cells_before

    # -- clicking the widget focuses it: a visible ring, no hint
    root.locator(".wb-item").click()
    expect(root).to_have_attribute("data-focused", "true")
    expect(root).to_have_class(re.compile(r"\bwb-focused\b"))
    expect(hint).to_be_hidden()
    assert root.evaluate("(r) => getComputedStyle(r).borderTopStyle") != unfocused_border
    assert page.evaluate(_STATE)["focused"]
    expect(counter).to_have_text("1 / 3 in this batch \u00b7 0 labeled")

    # -- "?" toggles the list of keys; the "?" button too; Esc closes it; the focus stays on the widget
    expect(help_overlay).to_be_hidden()
    page.keyboard.press("?")
    expect(help_overlay).to_be_visible()
    keys_listed = help_overlay.locator("tr").all_inner_texts()
    for expected in ("1\tchoose \u201cham\u201d", "2\tchoose \u201cspam\u201d", "Enter", "s\tskip", "u / Backspace",
                     "?\tshow or hide", "Esc\tclose"):
        assert any(expected in row for row in keys_listed), f"{expected!r} is not listed in {keys_listed}"
    page.keyboard.press("?")
    expect(help_overlay).to_be_hidden()
    root.locator(".wb-help-button").click()
    expect(help_overlay).to_be_visible()
    page.keyboard.press("Escape")
    expect(help_overlay).to_be_hidden()
    assert page.evaluate(_STATE)["focused"]

    # -- an unknown key: a short note naming it, pointing to "?", and nothing else
    page.keyboard.press("x")
    expect(note).to_have_text("\u201cx\u201d is not a key of the annotator. Press ? to see the keys.")
    page.keyboard.press("7")
    expect(note).to_have_text("\u201c7\u201d picks nothing: this question has 2 choices. Press ? to see the keys.")
    page.wait_for_timeout(300)
    assert page.evaluate(_STATE)["revision"] == revision
    expect(note).to_have_text("", timeout=10_000)  # it goes away by itself

    # -- label through two batches of 3: label, skip, label | undo back into batch 1 | label the rest
    typed: list[tuple[str, str, str]] = []  # (example_id, value, "digit" or "confirm")

    def label_shown() -> str:
        state = page.evaluate(_STATE)
        eid = state["id"]
        expect(root.locator(".wb-text")).to_have_text(TEXTS[eid])  # as text: markup stays characters
        if eid in DRAFTS:
            assert "spam" in state["draft"] and "0.90" in state["draft"] and "model" in state["draft"]
            preselected = root.locator(".wb-choice-draft")
            expect(preselected).to_have_count(1)
            expect(preselected).to_contain_text("spam")
            expect(preselected).to_have_attribute("aria-pressed", "true")
            page.keyboard.press("Enter")
            typed.append((eid, "spam", "confirm"))
            expect(message).to_have_text(f"Confirmed the draft 'spam' on {_quoted(eid)}.")
        else:
            expect(root.locator(".wb-draft")).to_be_hidden()
            page.keyboard.press("1")
            typed.append((eid, "ham", "digit"))
            expect(message).to_have_text(re.compile("^" + re.escape(f"Labeled 'ham' on {_quoted(eid)}.")))
        assert eid not in message.inner_text()  # the text, not the id
        return eid

    label_shown()
    expect(counter).to_have_text("2 / 3 in this batch \u00b7 1 labeled")
    skipped = page.evaluate(_STATE)["id"]
    page.keyboard.press("s")
    expect(message).to_have_text(f"Skipped {_quoted(skipped)}.")
    expect(counter).to_have_text("3 / 3 in this batch \u00b7 1 labeled \u00b7 1 skipped")
    last_of_first = label_shown()
    expect(counter).to_have_text("1 / 3 in this batch \u00b7 2 labeled \u00b7 1 skipped")
    page.keyboard.press("u")  # back into the first batch
    value = typed[-1][1]
    expect(message).to_have_text(f"Undid '{value}' on {_quoted(last_of_first)}: label it again.")
    expect(counter).to_have_text("3 / 3 in this batch \u00b7 1 labeled \u00b7 1 skipped")
    assert page.evaluate(_STATE)["id"] == last_of_first
    label_shown()
    expect(counter).to_have_text("1 / 3 in this batch \u00b7 2 labeled \u00b7 1 skipped")
    for k in range(3):
        label_shown()
        if k < 2:
            expect(counter).to_have_text(f"{k + 2} / 3 in this batch \u00b7 {k + 3} labeled \u00b7 1 skipped")
    expect(counter).to_have_text("3 / 3 done in the last batch \u00b7 5 labeled \u00b7 1 skipped")
    expect(message).to_contain_text("All done")

    # -- the <img onerror> text was shown and quoted as text: no element made of it, no script ran
    assert XSS in {TEXTS[e] for e, _, _ in typed}
    assert dialogs == []
    assert root.locator(".wb-text *, .wb-message *, .wb-key-note *").count() == 0
    assert root.locator("img").count() == 1  # the widget's own (empty) image element only
    assert page.wb_page_errors == []
    assert page.evaluate(_CELLS, relpath) == cells_before
    assert_no_errors(page)

    with wb.Project.open(project_path) as project:
        ev = project.events()
        human = ev[(ev["source"] == "human") & (ev["annotator"] == "alice")]
        labels = human[human["action"] == "label"]
        assert labels[["example_id", "value"]].values.tolist() == [[e, v] for e, v, _ in typed]
        confirmed = [e for e, _, how in typed if how == "confirm"]
        assert sorted(labels.loc[labels["note"] == "confirmed draft", "example_id"]) == sorted(confirmed)
        assert len(confirmed) >= 1
        assert human.loc[human["action"] == "retract", "example_id"].tolist() == [last_of_first]
        assert project.annotation.progress("alice")["n_answered"] == 5
