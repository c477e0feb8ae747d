"""Headless tests of the Annotator widget: drive its Python side, assert on the project."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from widgets.jupyter._annotator import CHOICE_KEYS, SNIPPET_CHARS, Annotator
from workbench.exceptions import LabelValidationError


def _make(tmp_path: Path, schema: wb.Schema, n: int = 12, name: str = "p") -> wb.Project:
    project = wb.Project.create(tmp_path / name, schema=schema)
    project.add_data(
        pd.DataFrame({"id": [f"c-{i:02d}" for i in range(n)], "text": [f"comment <b>{i}</b> & co" for i in range(n)]}),
        id_column="id",
    )
    return project


@pytest.fixture
def spam(tmp_path: Path, spam_schema: wb.Schema) -> wb.Project:
    project = _make(tmp_path, spam_schema)
    yield project
    project.close()


def _human(project: wb.Project, annotator: str) -> pd.DataFrame:
    ev = project.events()
    return ev[(ev["source"] == "human") & (ev["annotator"] == annotator)].reset_index(drop=True)


def test_shows_text_as_stored_choices_keys_guidelines_and_progress(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=5)
    eid = ann.current_example_id
    assert ann.item["example_id"] == eid
    # The text goes as stored (the browser puts it in the page with textContent, never as markup).
    assert ann.item["text"] == f"comment <b>{int(eid[-2:])}</b> & co"
    assert ann.choices == ["ham", "spam"] and ann.choice_keys == ["1", "2"]
    assert ann.question == "spam"
    assert ann.guidelines == "Spam advertises; ham does not."
    assert ann.progress == {"position": 1, "batch": 5, "batch_number": 1, "done": 0, "answered": 0, "skipped": 0,
                            "labeled": 0, "text": "1 / 5 in this batch \u00b7 0 labeled"}
    assert ann.draft == {}
    ann.close()


def test_choose_submits_one_event_with_time_spent_and_advances(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=5)
    first = ann.current_example_id
    ann.choose(2)  # the key "2"
    ev = _human(spam, "alice")
    assert ev[["example_id", "value", "action"]].values.tolist() == [[first, "spam", "label"]]
    assert ev["time_spent"].iloc[0] >= 0
    assert ann.current_example_id != first
    assert ann.progress["done"] == 1 and ann.progress["answered"] == 1
    second = ann.current_example_id
    ann.choose("ham")  # a choice by name works too
    assert _human(spam, "alice")["value"].tolist() == ["spam", "ham"]
    assert ann.current_example_id not in (first, second)
    ann.choose(7)  # no such key: nothing is written, the widget says why
    assert len(_human(spam, "alice")) == 2
    assert "1..2" in ann.message
    ann.close()


def test_browser_messages_call_the_same_code_and_carry_time_spent(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=5)
    eid = ann.current_example_id
    ann._handle_message(ann, {"type": "choose", "index": 1, "example_id": eid, "time_spent": 1.25}, [])
    ev = _human(spam, "alice")
    assert ev[["example_id", "value"]].values.tolist() == [[eid, "ham"]]
    assert ev["time_spent"].iloc[0] == pytest.approx(1.25)
    # A second key press for the item that is no longer shown is ignored (no double submit).
    ann._handle_message(ann, {"type": "choose", "index": 2, "example_id": eid, "time_spent": 0.1}, [])
    assert len(_human(spam, "alice")) == 1
    nxt = ann.current_example_id
    ann._handle_message(ann, {"type": "skip", "example_id": nxt}, [])
    assert ann.current_example_id != nxt and ann.progress["skipped"] == 1
    ann._handle_message(ann, {"type": "undo"}, [])
    assert ann.current_example_id == eid
    ann.close()


def test_confirm_draft_records_the_draft_value(spam: wb.Project) -> None:
    for i in range(12):
        spam.annotate(f"c-{i:02d}", "spam" if i % 2 else "ham", annotator="m", source="model", confidence=0.9)
    ann = Annotator(spam, "alice", batch=4)
    eid = ann.current_example_id
    expected = "spam" if int(eid[-2:]) % 2 else "ham"
    assert ann.draft == {"value": expected, "confidence": 0.9, "source": "model"}
    ann.confirm_draft()
    ev = _human(spam, "alice")
    assert ev[["example_id", "value", "note"]].values.tolist() == [[eid, expected, "confirmed draft"]]


def test_confirm_without_draft_writes_nothing(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=4)
    ann.confirm_draft()
    assert _human(spam, "alice").empty
    assert "no draft" in ann.message


def test_skip_gives_the_item_back_and_it_is_not_served_again(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=3)
    skipped = ann.current_example_id
    ann.skip()
    assert _human(spam, "alice").empty
    seen = []
    while not ann.finished:
        seen.append(ann.current_example_id)
        ann.choose(1)
    assert skipped not in seen
    assert len(seen) == 11  # every other item, over several batches
    assert ann.progress["answered"] == 11 and ann.progress["skipped"] == 1
    assert "All done" in ann.message and ann.item == {} and ann.choices == []


def test_undo_appends_a_superseding_event_and_shows_the_item_again(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=5)
    a = ann.current_example_id
    ann.choose(1)
    b = ann.current_example_id
    ann.choose(2)
    assert ann.undo() == b
    assert ann.current_example_id == b  # shown again, to be labeled again
    assert ann.progress["answered"] == 1
    hist = spam.history(b)
    hist = hist[hist["source"] == "human"]
    assert hist["action"].tolist() == ["label", "retract"]
    assert hist["note"].tolist()[-1] == "undo"
    assert hist["superseded_by"].iloc[0] == hist["event_id"].iloc[1]  # nothing deleted, superseded
    ann.choose(1)
    assert spam.labels(source="human", annotator="alice").set_index("example_id")["value"].to_dict() == {
        a: "ham",
        b: "ham",
    }
    # Undo everything, then once more: nothing left to undo.
    ann.undo()
    ann.undo()
    assert ann.undo() is None and ann.message == "Nothing to undo."
    assert spam.labels(source="human", annotator="alice").empty


def test_multi_question_flow_asks_the_follow_up_only_when_its_condition_holds(
    tmp_path: Path, seatbelt_schema: wb.Schema
) -> None:
    project = _make(tmp_path, seatbelt_schema, n=6)
    ann = Annotator(project, "alice", batch=6)
    assert ann.question == "person" and ann.choices == ["yes", "no"]
    first = ann.current_example_id
    ann.choose("yes")
    # The follow-up is asked; nothing is stored until the item is complete.
    assert ann.question == "seatbelt" and ann.choices == ["yes", "no", "unsure"]
    assert ann.answers == {"person": "yes"} and ann.current_example_id == first
    assert _human(project, "alice").empty
    ann.undo()  # steps back within the item, stores nothing
    assert ann.question == "person" and ann.answers == {}
    assert _human(project, "alice").empty
    # A double key press from the browser: the second "1" was meant for "person", which is answered.
    for _ in range(2):
        ann._handle_message(ann, {"type": "choose", "index": 1, "example_id": first, "question": "person"}, [])
    assert ann.question == "seatbelt" and ann.answers == {"person": "yes"}
    ann.undo()
    ann.choose(1)
    ann.choose(3)
    second = ann.current_example_id
    ann.choose("no")  # no person: the seatbelt question is not asked
    ev = _human(project, "alice")
    assert ev[["example_id", "question", "value"]].values.tolist() == [
        [first, "person", "yes"],
        [first, "seatbelt", "unsure"],
        [second, "person", "no"],
    ]
    assert ann.question == "person" and ann.current_example_id not in (first, second)
    ann.close()
    project.close()


def test_honeypot_status_is_never_in_the_synced_state(spam: wb.Project) -> None:
    spam.annotation.configure(honeypot_rate=0.5)
    spam.add_gold(pd.DataFrame({"id": [f"c-{i:02d}" for i in range(6)], "label": ["ham", "spam"] * 3}))
    ann = Annotator(spam, "alice", batch=6)
    states = []
    while not ann.finished:
        state = {k: v for k, v in ann.get_state().items() if not k.startswith("_")}
        states.append(json.dumps(state, default=str))
        ann.choose(1)
    answered = spam.annotation.answers(include_honeypots=True)
    assert answered["is_honeypot"].sum() >= 1  # honeypots were served, so the check below means something
    for state in states:
        assert "honeypot" not in state.lower() and "gold" not in state.lower()


def test_two_annotators_with_overlap_two_label_the_same_items(tmp_path: Path, spam_schema: wb.Schema) -> None:
    project = _make(tmp_path, spam_schema, n=6)
    project.annotation.configure(overlap=2)
    alice = Annotator(project, "alice", batch=4)
    bob = Annotator(project, "bob", batch=4)
    while not alice.finished:
        alice.choose(1)
    while not bob.finished:
        bob.choose(2)
    ann = project.annotation.answers()
    assert ann.groupby("example_id")["annotator"].nunique().eq(2).all()
    assert len(ann) == 12
    cons = project.quality.consensus()
    assert (cons["n_annotators"] == 2).all()
    carol = Annotator(project, "carol", batch=4)
    assert carol.finished  # every item has its two answers already
    for w in (alice, bob, carol):
        w.close()
    project.close()


def test_close_leaves_no_listener(spam: wb.Project) -> None:
    before = spam.n_listeners()
    ann = Annotator(spam, "alice")
    assert spam.n_listeners() > before
    spam.update_guidelines("New guidelines: links are spam.")
    assert ann.guidelines == "New guidelines: links are spam."
    ann.close()
    ann.close()  # twice is harmless
    assert spam.n_listeners() == before


def test_image_items_are_sent_as_data_urls(tmp_path: Path, spam_schema: wb.Schema) -> None:
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f"
        "0005000201e2a1d4d50000000049454e44ae426082"
    )
    images = tmp_path / "imgs"
    images.mkdir()
    (images / "a.png").write_bytes(png)
    project = wb.Project.create(tmp_path / "img", schema=spam_schema, text_column=None, image_column="path")
    project.add_data(pd.DataFrame({"id": ["i-1"], "path": ["a.png"]}), id_column="id", image_root=images)
    ann = Annotator(project, "alice", image_root=images)
    assert ann.item["image"].startswith("data:image/png;base64,")
    assert ann.item["text"] == ""
    ann.close()
    project.close()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"annotator": ""}, "'annotator' parameter of Annotator"),
        ({"queue": "fifo"}, "'queue' parameter of Annotator"),
        ({"batch": 0}, "'batch' parameter of Annotator"),
    ],
)
def test_bad_parameters_say_what_was_expected(spam: wb.Project, kwargs: dict, match: str) -> None:
    args = {"annotator": "alice", **kwargs}
    with pytest.raises(LabelValidationError, match=match):
        Annotator(spam, **args)


# ---------------------------------------------------------------------- messages quote the item's text
def _text(eid: str) -> str:
    return f"comment <b>{int(eid[-2:])}</b> & co"


def test_messages_quote_a_snippet_of_the_text_not_the_id(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=5)
    first = ann.current_example_id
    ann.choose(2)
    assert ann.message == f"Labeled 'spam' on \u201c{_text(first)}\u201d."
    assert first not in ann.message and ann.message_kind == "info"
    second = ann.current_example_id
    ann.skip()
    assert ann.message == f"Skipped \u201c{_text(second)}\u201d."
    third = ann.current_example_id
    ann.choose(1)
    ann.undo()
    assert ann.message == f"Undid 'ham' on \u201c{_text(third)}\u201d: label it again."
    assert ann.current_example_id == third
    ann.confirm_draft()  # no draft on this item
    assert ann.message == f"\u201c{_text(third)}\u201d has no draft to confirm: pick a choice with its key."
    assert ann.message_kind == "error"
    ann.close()


def test_long_and_multi_line_texts_are_cut_to_one_line_snippets(tmp_path: Path, spam_schema: wb.Schema) -> None:
    project = wb.Project.create(tmp_path / "long", schema=spam_schema)
    long_text = "check out my channel\n\n  for the best    videos " + "and more " * 20
    project.add_data(pd.DataFrame({"id": ["a"], "text": [long_text]}), id_column="id")
    ann = Annotator(project, "alice")
    ann.choose(2)
    quoted = ann.message.split(" on ", 1)[1]
    assert quoted.startswith("\u201ccheck out my channel for the best vide")
    assert quoted.endswith("\u2026\u201d. All done: nothing left to label for you.")
    assert len(quoted.split("\u201d")[0]) == SNIPPET_CHARS + 1  # the opening quote, then SNIPPET_CHARS characters
    ann.close()
    project.close()


def test_an_error_from_the_project_is_shown_with_the_snippet(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=5)
    eid = ann.current_example_id
    spam.close()  # every call now raises ProjectClosedError
    ann._handle_message(ann, {"type": "choose", "index": 1, "example_id": eid}, [])
    assert ann.message.startswith(f"Could not save the answer to \u201c{_text(eid)}\u201d: ")
    assert ann.message_kind == "error"
    assert ann.current_example_id == eid  # nothing moved on


def test_undoing_an_earlier_sessions_answer_quotes_its_text(spam: wb.Project) -> None:
    first = Annotator(spam, "alice", batch=2)
    eid = first.current_example_id
    first.choose(1)
    first.close()
    again = Annotator(spam, "alice", batch=2)
    assert again.progress["labeled"] == 1  # the counter starts from the project, not from zero
    assert again.undo() == eid
    assert again.message == f"Undid your last answer, on \u201c{_text(eid)}\u201d."
    assert again.progress["labeled"] == 0
    again.close()


# ---------------------------------------------------------------------- the batch counter
def _counter(ann: Annotator) -> tuple[int, int, int, int, int]:
    p = ann.progress
    assert p["labeled"] == ann.project.annotation.progress(ann.annotator)["n_answered"]  # as the project counts
    return p["batch_number"], p["position"], p["batch"], p["done"], p["labeled"]


def test_the_batch_counter_is_right_across_batches_skip_and_undo(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=4)
    seen = {}  # counter state -> example shown, to check undo shows the same item at the same place
    steps = []
    for k in range(4):  # a full first batch: label, skip, label, label
        assert _counter(ann)[:4] == (1, k + 1, 4, k)
        seen[(1, k + 1)] = ann.current_example_id
        ann.skip() if k == 1 else ann.choose(1)
        steps.append(ann.progress["text"])
    assert _counter(ann) == (2, 1, 4, 0, 3)  # the next batch; 3 labeled, 1 skipped
    assert ann.progress["text"] == "1 / 4 in this batch \u00b7 3 labeled \u00b7 1 skipped"
    assert steps[0] == "2 / 4 in this batch \u00b7 1 labeled"
    assert steps[1] == "3 / 4 in this batch \u00b7 1 labeled \u00b7 1 skipped"
    in_batch_2 = ann.current_example_id
    ann.undo()  # back into the previous batch: its last item again, counted there
    assert ann.current_example_id == seen[(1, 4)]
    assert _counter(ann) == (1, 4, 4, 3, 2)
    assert ann.progress["text"] == "4 / 4 in this batch \u00b7 2 labeled \u00b7 1 skipped"
    ann.undo()
    assert ann.current_example_id == seen[(1, 3)]
    assert _counter(ann) == (1, 3, 4, 2, 1)
    ann.choose(2)
    assert _counter(ann) == (1, 4, 4, 3, 2) and ann.current_example_id == seen[(1, 4)]
    ann.choose(2)
    assert _counter(ann) == (2, 1, 4, 0, 3) and ann.current_example_id == in_batch_2
    assert ann.progress["labeled"] == spam.annotation.progress("alice")["n_answered"]
    while not ann.finished:
        ann.choose(1)
    # 12 items, one skipped (never served again): batches of 4, 4 and 4; the last one is done.
    assert ann.progress["batch_number"] == 3 and ann.progress["done"] == ann.progress["batch"] == 4
    assert ann.progress["text"] == "4 / 4 done in the last batch \u00b7 11 labeled \u00b7 1 skipped"
    ann.undo()  # out of "all done": the last item is back, at its place
    assert not ann.finished and _counter(ann) == (3, 4, 4, 3, 10)
    ann.close()


# ---------------------------------------------------------------------- drafts
def test_a_draft_recorded_after_the_batch_was_served_is_shown_and_enter_confirms_it(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=6)
    assert ann.draft == {}
    ann.choose(1)
    nxt = ann._pending[0].example_id  # the item after the one shown: it got no draft when served
    spam.annotate(nxt, "spam", annotator="m", source="model", confidence=0.7)
    ann.choose(1)
    assert ann.current_example_id == nxt
    draft = spam.annotation.draft(nxt)
    assert draft is not None
    assert ann.draft == {"value": "spam", "confidence": 0.7, "source": "model"}
    assert ann.draft == {"value": draft.value, "confidence": draft.confidence, "source": draft.source}
    ann._handle_message(ann, {"type": "confirm", "example_id": nxt, "question": "spam", "time_spent": 0.5}, [])
    ev = _human(spam, "alice")
    assert ev[["example_id", "value", "note"]].values.tolist()[-1] == [nxt, "spam", "confirmed draft"]
    assert ann.message == f"Confirmed the draft 'spam' on \u201c{_text(nxt)}\u201d."
    ann.close()


def test_follow_up_questions_show_their_own_draft(tmp_path: Path, seatbelt_schema: wb.Schema) -> None:
    project = _make(tmp_path, seatbelt_schema, n=2)
    for eid in ("c-00", "c-01"):
        project.annotate(eid, {"person": "yes", "seatbelt": "no"}, annotator="m", source="model", confidence=0.8)
    ann = Annotator(project, "alice", batch=2)
    assert ann.draft["value"] == "yes"
    ann.confirm_draft()
    assert ann.question == "seatbelt" and ann.draft["value"] == "no"
    ann.confirm_draft()
    ev = _human(project, "alice")
    assert ev[["question", "value", "note"]].values.tolist() == [
        ["person", "yes", "confirmed draft"], ["seatbelt", "no", "confirmed draft"]]
    ann.close()
    project.close()


# ---------------------------------------------------------------------- keys of many choices
def test_questions_with_many_choices_get_digits_then_letters_never_s_or_u(tmp_path: Path) -> None:
    names = [f"topic{i:02d}" for i in range(40)]
    project = _make(tmp_path, wb.Schema.single("topic", names), n=3)
    ann = Annotator(project, "alice")
    assert ann.choice_keys[:12] == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "a", "b"]
    assert len(ann.choice_keys) == len(CHOICE_KEYS) < len(names)  # the rest: buttons only
    assert "s" not in ann.choice_keys and "u" not in ann.choice_keys and "?" not in ann.choice_keys
    assert len(set(ann.choice_keys)) == len(ann.choice_keys)
    eid = ann.current_example_id
    ann.choose(12)  # key "b"
    assert _human(project, "alice")[["example_id", "value"]].values.tolist() == [[eid, "topic11"]]
    ann.close()
    project.close()


def test_every_answer_and_skip_logs_the_draft_shown_for_the_correction_log(spam: wb.Project) -> None:
    for i in range(12):
        spam.annotate(f"c-{i:02d}", "spam", annotator="m", source="model", confidence=0.9)
    ann = Annotator(spam, "alice", batch=6)
    confirmed = ann.current_example_id
    ann.confirm_draft()                      # Enter: the draft "spam"
    corrected = ann.current_example_id
    ann.choose(ann.choices.index("ham") + 1)   # another choice than the draft
    rejected = ann.current_example_id
    ann.skip()
    log = spam.annotation.corrections().set_index("example_id")
    assert log.loc[confirmed, "outcome"] == "confirmed" and log.loc[confirmed, "draft"] == "spam"
    assert log.loc[corrected, "outcome"] == "corrected" and log.loc[corrected, "answer"] == "ham"
    assert log.loc[rejected, "outcome"] == "rejected"
    assert (log["annotator"] == "alice").all() and log["time_spent"].notna().all()


# ---------------------------------------------------------------------- careful-user cases
def test_stepping_back_over_a_confirmed_draft_drops_the_confirmation(tmp_path: Path,
                                                                     seatbelt_schema: wb.Schema) -> None:
    project = _make(tmp_path, seatbelt_schema, n=3)
    for i in range(3):
        project.annotate(f"c-{i:02d}", {"person": "yes"}, annotator="m", source="model", confidence=0.9)
    ann = Annotator(project, "alice", batch=3)
    assert ann.draft["value"] == "yes"
    ann.confirm_draft()          # person = yes, the draft: the follow-up is asked
    assert ann.question == "seatbelt"
    ann.undo()                   # back to person
    ann.choose("no")             # against the draft
    row = _human(project, "alice").iloc[-1]
    assert row["value"] == "no" and row["note"] != "confirmed draft"
    assert "Confirmed" not in ann.message
    outcome = project.annotation.corrections().iloc[-1]
    assert outcome["outcome"] == "corrected" and not outcome["confirmed_draft"]
    ann.close()


def test_the_adjudication_queue_and_a_follow_up_root_are_refused(tmp_path: Path,
                                                                 seatbelt_schema: wb.Schema) -> None:
    project = _make(tmp_path, seatbelt_schema, n=3)
    with pytest.raises(LabelValidationError, match="QualityDashboard.*queue='adjudication'"):
        Annotator(project, "alice", queue="adjudication")
    with pytest.raises(LabelValidationError, match="'seatbelt' is only asked when person in \\['yes'\\].*'person'"):
        Annotator(project, "alice", question="seatbelt")
    assert project.n_listeners() == 0


def test_batches_keep_their_size_when_a_batch_ends_on_a_honeypot(tmp_path: Path, spam_schema: wb.Schema) -> None:
    project = _make(tmp_path, spam_schema, n=200)
    project.annotation.configure(honeypot_rate=0.3)
    project.add_gold(pd.DataFrame({"id": [f"c-{i:02d}" for i in range(60)], "label": "ham"}), id_column="id",
                     label_column="label")
    ann = Annotator(project, "alice", batch=5)
    sizes, after_honeypot = [], 0
    for _ in range(80):
        if ann.progress["position"] == ann.progress["batch"]:
            after_honeypot += bool(ann._current.assignment.is_honeypot)
        if ann.progress["position"] == 1:
            sizes.append(ann.progress["batch"])
        ann.choose(1)
    assert after_honeypot > 0 and set(sizes) == {5}, (after_honeypot, sizes)
    ann.close()


def test_after_all_done_new_items_are_served(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=20)
    while not ann.finished:
        ann.choose(1)
    spam.add_data(pd.DataFrame({"id": ["new-1", "new-2"], "text": ["fresh one", "fresh two"]}), id_column="id")
    assert not ann.finished and ann.current_example_id in ("new-1", "new-2")  # data_added
    ann.choose(1)
    ann.choose(1)
    assert ann.finished
    spam.annotation.undo(annotator="alice")  # from another cell: an item is open again
    ann.choose(1)  # the key press looks at the queue again instead of saying it is empty
    last = _human(spam, "alice").iloc[-1]
    assert (last["example_id"], last["action"]) == ("new-2", "label") and ann.message.startswith("Labeled")
    ann.close()


def test_a_renamed_choice_redraws_the_item_shown(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=5)
    shown = ann.current_example_id
    spam.migrations.plan(spam.schema.evolve(rename={"ham": "fine"})).apply()
    assert ann.choices == ["fine", "spam"] and ann.current_example_id == shown
    assert "schema changed" in ann.message
    ann.choose(1)
    assert _human(spam, "alice").iloc[-1][["example_id", "value"]].tolist() == [shown, "fine"]
    ann.close()
