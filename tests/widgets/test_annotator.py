"""Headless tests of the Annotator widget: drive its Python side, assert on the project."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from widgets.jupyter._annotator import Annotator
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


def test_shows_escaped_text_choices_guidelines_and_progress(spam: wb.Project) -> None:
    ann = Annotator(spam, "alice", batch=5)
    assert ann.item["example_id"] == ann.current_example_id
    assert "<b>" not in ann.item["html"] and "&lt;b&gt;" in ann.item["html"] and "&amp;" in ann.item["html"]
    assert ann.choices == ["ham", "spam"]
    assert ann.question == "spam"
    assert ann.guidelines == "Spam advertises; ham does not."
    assert ann.progress == {"done": 0, "batch": 5, "answered": 0, "skipped": 0}
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
    assert ann.item["html"] == ""
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
