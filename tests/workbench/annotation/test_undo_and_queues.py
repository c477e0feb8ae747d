"""Undo is a stack over the log; retraction of answers whose condition no longer holds is transitive."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from answers_of import current

import workbench as wb


@pytest.fixture
def spam(tmp_path: Path) -> wb.Project:
    p = wb.Project.create(tmp_path / "s", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": [f"x{i}" for i in range(5)], "text": list("abcde")}), id_column="id")
    return p


@pytest.fixture
def chain(tmp_path: Path) -> wb.Project:
    schema = wb.Schema(
        "cars",
        questions=[
            wb.Question("person", choices=["yes", "no"]),
            wb.Question("driver", choices=["yes", "no"], when={"person": "yes"}),
            wb.Question("seatbelt", choices=["yes", "no"], when={"driver": "yes"}),
        ],
    )
    p = wb.Project.create(tmp_path / "c", schema=schema)
    p.add_data(pd.DataFrame({"id": ["f1", "f2"], "text": ["a", "b"]}), id_column="id")
    return p


def test_repeated_undo_walks_back_in_order(spam: wb.Project) -> None:
    states = [current(spam)]
    for eid, value in [("x0", "ham"), ("x0", "spam"), ("x1", "spam"), ("x0", "ham")]:
        spam.annotation.submit(eid, value, annotator="ann")
        states.append(current(spam))
    for expected in reversed(states[:-1]):
        assert spam.annotation.undo(annotator="ann") is not None
        assert current(spam) == expected  # never toggles back: each undo goes one step further
    assert spam.annotation.undo(annotator="ann") is None
    assert current(spam) == {}
    assert len(spam.events()) > 4  # nothing was deleted


def test_undo_does_not_touch_other_annotators(spam: wb.Project) -> None:
    spam.annotation.submit("x0", "ham", annotator="ann")
    spam.annotation.submit("x0", "spam", annotator="bob")
    assert spam.annotation.undo(annotator="ann") == "x0"
    assert current(spam, "bob") == {("x0", "spam"): "spam"}
    assert current(spam, "ann") == {}


def test_undo_restores_multi_question_answers_and_follow_ups(chain: wb.Project) -> None:
    chain.annotation.submit("f1", {"person": "yes", "driver": "yes", "seatbelt": "no"}, annotator="ann")
    full = current(chain)
    chain.annotation.submit("f1", {"person": "no"}, annotator="ann")  # switches driver and seatbelt off
    assert current(chain) == {("f1", "person"): "no"}
    chain.annotation.undo(annotator="ann")
    assert current(chain) == full  # the follow-up answers are back exactly
    chain.annotation.undo(annotator="ann")
    assert current(chain) == {}


def test_changing_a_grandparent_retracts_the_grandchild(chain: wb.Project) -> None:
    chain.annotate("f1", {"person": "yes", "driver": "yes", "seatbelt": "yes"}, annotator="ann")
    chain.annotate("f1", {"person": "no"}, annotator="ann")
    assert current(chain) == {("f1", "person"): "no"}
    chain.annotate("f2", {"person": "yes", "driver": "yes", "seatbelt": "no"}, annotator="ann")
    chain.retract("f2", "person", annotator="ann")  # retracting a parent withdraws the whole chain
    assert [k for k in current(chain) if k[0] == "f2"] == []


def test_undone_and_skipped_items_are_open_again(spam: wb.Project) -> None:
    spam.annotation.configure(overlap=1)
    [item] = spam.annotation.next_items("ann", n=1)
    spam.annotation.submit(item.example_id, "spam", annotator="ann")
    open_ids = set(spam.annotation.queue(n=None)["example_id"])
    assert item.example_id not in open_ids
    spam.annotation.undo(annotator="ann")
    assert item.example_id in set(spam.annotation.queue(n=None)["example_id"])
    assert spam.annotation.progress()["n_complete"] == 0
    served = {a.example_id for a in spam.annotation.next_items("bob", n=5)}
    assert item.example_id in served  # queue(), progress() and next_items() agree: it is open


def test_needs_adjudication_and_the_queue_agree(spam: wb.Project) -> None:
    rows = [("x0", "a1", "ham"), ("x0", "a2", "spam"),                      # an unlabeled tie
            ("x1", "a1", "spam"), ("x1", "a2", "spam"), ("x1", "a3", "ham"),  # agreement 0.67
            ("x2", "a1", "ham"), ("x2", "a2", "ham"),                        # agreed
            ("x3", "a1", "spam")]                                           # one answer: no disagreement
    spam.annotation.import_annotations(pd.DataFrame(rows, columns=["id", "annotator", "value"]))
    for threshold in (0.5, 0.7, 0.9):
        spam.annotation.configure(agreement_threshold=threshold)
        cons = spam.quality.consensus()
        flagged = set(cons.index[cons["needs_adjudication"].astype(bool)])
        queued = set(spam.annotation.queue("adjudication", n=None)["example_id"])
        assert flagged == queued
        assert "x0" in queued and "x2" not in queued and "x3" not in queued
    spam.quality.adjudicate("x0", "ham", annotator="dr_lee")
    cons = spam.quality.consensus()
    assert not cons.loc["x0", "needs_adjudication"] and cons.loc["x0", "adjudicated"]
    assert "x0" not in set(spam.annotation.queue("adjudication", n=None)["example_id"])


@pytest.fixture
def two_roots(tmp_path: Path) -> wb.Project:
    schema = wb.Schema("two", questions=[
        wb.Question("spam", choices=["ham", "spam"]),
        wb.Question("lang", choices=["en", "other"]),  # asked of every item too (no condition)
        wb.Question("kind", choices=["link", "other"], when={"spam": "spam"}),
    ])
    p = wb.Project.create(tmp_path / "two", schema=schema)
    p.add_data(pd.DataFrame({"id": ["a", "b", "c", "d"], "text": ["x", "y", "z", "w"]}), id_column="id")
    return p


def test_an_item_answered_on_one_of_two_independent_questions_is_still_served(two_roots: wb.Project) -> None:
    p = two_roots
    p.annotation.configure(overlap=1)
    p.annotation.submit("a", {"spam": "ham"}, annotator="api")   # lang left out (e.g. written by a script)
    p.annotation.submit("b", {"lang": "en"}, annotator="api")    # spam left out
    p.annotation.submit("c", {"spam": "ham", "lang": "en"}, annotator="ann")  # complete: "kind" is not asked
    p.annotation.submit("d", {"spam": "spam", "lang": "en"}, annotator="ann")  # "kind" is asked, and missing
    assert sorted(p.annotation.queue(n=None)["example_id"]) == ["a", "b", "d"]
    assert p.annotation.progress()["n_complete"] == 1
    assert sorted(p.annotation.queue(n=None, question="lang")["example_id"]) == ["a", "d"]
    served = [x.example_id for x in p.annotation.next_items("bob", n=5)]
    assert sorted(served) == ["a", "b", "d"]
    assert p.annotation.next_items("cid", n=5) == []  # overlap 1: bob holds them
    for eid in ("a", "b"):
        p.annotation.submit(eid, {"spam": "ham", "lang": "en"}, annotator="bob")
    p.annotation.submit("d", {"spam": "spam", "lang": "en", "kind": "link"}, annotator="bob")
    assert p.annotation.queue(n=None).empty and p.annotation.progress()["n_complete"] == 4


def test_an_item_whose_follow_up_answer_a_migration_flagged_is_served_again(chain: wb.Project) -> None:
    p = chain
    p.annotation.configure(overlap=1)
    p.annotation.submit("f1", {"person": "yes", "driver": "yes", "seatbelt": "yes"}, annotator="ann")
    p.annotation.submit("f2", {"person": "no"}, annotator="ann")  # complete: the follow-ups are not asked
    assert p.annotation.queue(n=None).empty
    p.migrations.plan(p.schema.evolve(question="seatbelt", split={"yes": ["lap", "shoulder"]})).apply()
    assert p.annotation.queue(n=None)["example_id"].tolist() == ["f1"]  # its seatbelt answer is flagged
    assert [x.example_id for x in p.annotation.next_items("ann", n=5)] == ["f1"]  # to its annotator too
