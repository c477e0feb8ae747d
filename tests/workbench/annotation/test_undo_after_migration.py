"""Undo after a schema migration: the restored answer is carried through the migrations, never left invalid.

Undo restores the answers an annotator had just before a submission. When the schema changed
since, those answers are carried forward the way the migration carried current labels (a
renamed or merged choice, a renamed question), and answers that have no place in the current
schema (a removed choice or question, a split choice, a condition that no longer holds) are not
restored. A migration's own events are not submissions: they are never an undo step.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from answers_of import current

import workbench as wb


@pytest.fixture
def tox(tmp_path: Path) -> wb.Project:
    p = wb.Project.create(tmp_path / "t", schema=wb.Schema.single("tox", ["ok", "toxic", "unsure"]))
    p.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"]}), id_column="id")
    return p


@pytest.fixture
def seatbelts(tmp_path: Path, seatbelt_schema: wb.Schema) -> wb.Project:
    p = wb.Project.create(tmp_path / "sb", schema=seatbelt_schema)
    p.add_data(pd.DataFrame({"id": ["f0", "f1"], "text": ["a", "b"]}), id_column="id")
    return p


def migrate(p: wb.Project, **evolve: object) -> None:
    p.migrations.plan(p.schema.evolve(**evolve)).apply()  # type: ignore[arg-type]


def assert_valid_under_current_schema(p: wb.Project) -> None:
    """Every current label is a choice of its question, recorded under the current schema if written since."""
    schema = p.schema
    lab = p.labels()
    for q, v in zip(lab["question"], lab["value"], strict=True):
        assert q in schema.question_names
        assert v in schema.question(q).choices
    undo = p.events()
    undo = undo[undo["note"].eq("undo") & undo["action"].eq("label")]
    for q, v in zip(undo["question"], undo["value"], strict=True):
        assert q in schema.question_names and v in schema.question(q).choices


# ---------------------------------------------------------------------------------------------- (a) values
def test_undo_restores_the_renamed_value(tox: wb.Project) -> None:
    tox.annotation.submit("a", "ok", annotator="ann")
    tox.annotation.submit("a", "toxic", annotator="ann")
    migrate(tox, rename={"ok": "fine"})
    assert tox.annotation.undo(annotator="ann") == "a"
    assert current(tox) == {("a", "tox"): "fine"}
    restored = tox.history("a").iloc[-1]
    assert (restored["value"], restored["schema_version"]) == ("fine", tox.schema_version)
    assert tox.quality.consensus().loc["a", "label"] == "fine"  # raised DataError: 'ok' is not a label
    assert tox.models.soft_labels().loc["a", "label"] == "fine"
    assert_valid_under_current_schema(tox)


def test_undo_does_not_restore_a_removed_choice(tox: wb.Project) -> None:
    tox.annotation.submit("a", "unsure", annotator="ann")
    tox.annotation.submit("a", "ok", annotator="ann")  # ann corrects herself
    tox.annotation.submit("a", "ok", annotator="bob")
    tox.annotation.submit("a", "ok", annotator="cem")
    migrate(tox, remove=["unsure"])  # no current label uses 'unsure'
    assert tox.annotation.undo(annotator="ann") == "a"
    assert current(tox) == {}  # her earlier answer has no place in the schema: nothing is restored for it
    assert current(tox, "bob") == {("a", "tox"): "ok"}
    consensus = tox.quality.consensus()
    assert consensus.loc["a", "label"] == "ok" and consensus.loc["a", "n_annotators"] == 2
    assert tox.models.soft_labels().loc["a", "label"] == "ok"
    agreement = tox.quality.agreement()
    assert (agreement.n_ratings, agreement.percent_agreement) == (2, 1.0)  # 'unsure' is not counted
    assert_valid_under_current_schema(tox)


def test_undo_does_not_restore_a_choice_a_plain_schema_update_removed(tox: wb.Project) -> None:
    tox.annotation.submit("a", "unsure", annotator="ann")
    tox.annotation.submit("a", "ok", annotator="ann")
    tox.update_schema(tox.schema.evolve(remove=["unsure"]))  # allowed: no current label uses it; no migration
    tox.annotation.undo(annotator="ann")
    assert current(tox) == {}
    assert_valid_under_current_schema(tox)


def test_undo_follows_a_merge_and_drops_a_split(tox: wb.Project) -> None:
    tox.annotation.submit("a", "toxic", annotator="ann")
    tox.annotation.submit("a", "ok", annotator="ann")
    tox.annotation.submit("b", "ok", annotator="ann")
    tox.annotation.submit("b", "unsure", annotator="ann")
    migrate(tox, merge={"bad": ["toxic", "unsure"]})
    migrate(tox, split={"ok": ["fine", "meh"]})
    assert current(tox) == {("b", "tox"): "bad"}  # a's 'ok' was split: flagged for relabeling
    assert tox.annotation.undo(annotator="ann") == "b"
    assert current(tox) == {}  # b's earlier 'ok' was split too: which part it is, nobody knows
    assert tox.annotation.undo(annotator="ann") == "b"
    assert tox.annotation.undo(annotator="ann") == "a"
    assert current(tox) == {("a", "tox"): "bad"}  # a's 'toxic' before the correction, as merged
    assert_valid_under_current_schema(tox)


def test_undo_follows_a_swap_of_choice_names_made_in_one_call(tox: wb.Project) -> None:
    tox.annotation.submit("a", "ok", annotator="ann")
    tox.annotation.submit("a", "toxic", annotator="ann")
    tox.annotation.submit("b", "ok", annotator="ann")
    migrate(tox, rename={"ok": "toxic", "toxic": "ok"})  # simultaneous, not one after the other
    assert current(tox) == {("a", "tox"): "ok", ("b", "tox"): "toxic"}
    assert tox.annotation.undo(annotator="ann") == "b"
    assert tox.annotation.undo(annotator="ann") == "a"
    assert current(tox) == {("a", "tox"): "toxic"}  # what was called 'ok' is now called 'toxic'


def test_undo_follows_several_migrations_and_a_renamed_question(seatbelts: wb.Project) -> None:
    seatbelts.annotation.submit("f0", {"person": "yes", "seatbelt": "no"}, annotator="ann")
    seatbelts.annotation.submit("f0", {"person": "no"}, annotator="ann")  # switches the follow-up off
    new = seatbelts.schema.evolve(rename_question={"seatbelt": "belt"}).evolve(question="belt", rename={"no": "nope"})
    seatbelts.migrations.plan(new).apply()
    migrate(seatbelts, question="person", rename={"yes": "y"})
    assert seatbelts.annotation.undo(annotator="ann") == "f0"
    assert current(seatbelts) == {("f0", "person"): "y", ("f0", "belt"): "nope"}
    assert_valid_under_current_schema(seatbelts)
    assert seatbelts.annotation.undo(annotator="ann") == "f0"
    assert current(seatbelts) == {}
    assert seatbelts.annotation.undo(annotator="ann") is None


def test_undo_drops_a_follow_up_whose_choice_was_removed(seatbelts: wb.Project) -> None:
    seatbelts.annotation.submit("f0", {"person": "yes", "seatbelt": "unsure"}, annotator="carol")
    seatbelts.annotation.submit("f0", {"person": "no"}, annotator="carol")
    migrate(seatbelts, question="seatbelt", remove=["unsure"])
    assert seatbelts.annotation.undo(annotator="carol") == "f0"
    assert current(seatbelts, "carol") == {("f0", "person"): "yes"}  # 'unsure' is not restored
    assert_valid_under_current_schema(seatbelts)


def test_undo_drops_a_follow_up_whose_condition_no_longer_holds(seatbelts: wb.Project) -> None:
    seatbelts.annotation.submit("f0", {"person": "yes", "seatbelt": "yes"}, annotator="ann")
    seatbelts.annotation.submit("f0", {"person": "no"}, annotator="ann")
    new = seatbelts.schema.evolve(question="person", add=["maybe"]).evolve(condition={"seatbelt": {"person": "maybe"}})
    seatbelts.migrations.plan(new).apply()
    seatbelts.annotation.undo(annotator="ann")
    assert current(seatbelts) == {("f0", "person"): "yes"}  # seatbelt is no longer asked when person is yes
    assert_valid_under_current_schema(seatbelts)


# ------------------------------------------------------------------------------------ (b) submissions only
def test_a_migration_is_not_an_undo_step(tox: wb.Project) -> None:
    tox.annotation.submit("a", "ok", annotator="ann")
    tox.annotation.submit("b", "toxic", annotator="ann")
    migrate(tox, rename={"ok": "fine"})  # maps ann's label on a
    assert tox.annotation.undo(annotator="ann") == "b"  # her own last submission, not the migration
    assert current(tox) == {("a", "tox"): "fine"}
    assert tox.annotation.undo(annotator="ann") == "a"
    assert current(tox) == {}
    assert tox.annotation.undo(annotator="ann") is None
    assert_valid_under_current_schema(tox)


def test_undo_after_migrations_of_several_annotators_keeps_each_stack(tox: wb.Project) -> None:
    tox.annotation.submit("a", "ok", annotator="ann")
    tox.annotation.submit("a", "toxic", annotator="bob")
    tox.annotation.submit("b", "ok", annotator="bob")
    migrate(tox, rename={"ok": "fine", "toxic": "bad"})
    assert tox.annotation.undo(annotator="bob") == "b"
    assert tox.annotation.undo(annotator="bob") == "a"
    assert tox.annotation.undo(annotator="bob") is None
    assert current(tox, "bob") == {}
    assert current(tox) == {("a", "tox"): "fine"}


# ------------------------------------------------------------------------------------- (c) removed question
def test_undo_after_a_question_was_removed(seatbelts: wb.Project) -> None:
    seatbelts.annotation.submit("f0", {"person": "yes", "seatbelt": "no"}, annotator="dan")
    migrate(seatbelts, remove_question="seatbelt")
    seatbelts.annotation.submit("f0", {"person": "no"}, annotator="dan")
    assert seatbelts.annotation.undo(annotator="dan") == "f0"  # raised ValueError: tuple.index(x): x not in tuple
    assert current(seatbelts, "dan") == {("f0", "person"): "yes"}  # the removed question is not restored
    assert seatbelts.annotation.undo(annotator="dan") == "f0"  # the submission made before the removal
    assert current(seatbelts, "dan") == {}
    assert seatbelts.annotation.undo(annotator="dan") is None
    assert_valid_under_current_schema(seatbelts)
    hist = seatbelts.history("f0")
    assert not hist[hist["note"].eq("undo")]["question"].eq("seatbelt").any()  # nothing written for it


# ------------------------------------------------------------------ every kind of change, against the plan's own map
CHANGES = {
    "rename": lambda s: s.evolve(rename={"ok": "fine", "spam": "ads"}),
    "swap": lambda s: s.evolve(rename={"ok": "toxic", "toxic": "ok"}),
    "merge and remove": lambda s: s.evolve(merge={"bad": ["toxic", "spam"]}, remove=["unsure"]),
    "split and add": lambda s: s.evolve(split={"toxic": ["hate", "other"]}, add=["new"]),
    "merge into a renamed choice": lambda s: s.evolve(rename={"ok": "fine"}).evolve(merge={"fine": ["fine", "unsure"]}),
    "a freed name reused": lambda s: s.evolve(rename={"ok": "x"}).evolve(rename={"toxic": "ok"}),
    "names that look like the step text": lambda s: s.evolve(rename={"ok": "it's \"ok\" of question 'tox' to"}),
    "renamed question": lambda s: s.evolve(rename_question={"tox": "toxicity"}).evolve(rename={"spam": "ads"}),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_undo_restores_what_the_migration_maps_each_choice_to(tmp_path: Path, change: str) -> None:
    choices = ["ok", "toxic", "spam", "unsure"]
    p = wb.Project.create(tmp_path / "t", schema=wb.Schema.single("tox", choices))
    p.add_data(pd.DataFrame({"id": choices, "text": choices}), id_column="id")
    for c in choices:  # item c: first answered c ...
        p.annotation.submit(c, c, annotator="ann")
    for c in choices:  # ... then corrected
        p.annotation.submit(c, "ok" if c != "ok" else "toxic", annotator="ann")
    new = CHANGES[change](p.schema)
    p.migrations.plan(new).apply()
    for c in reversed(choices):  # the corrections, newest first
        assert p.annotation.undo(annotator="ann") == c
    question = new.changes.question_target("tox")
    expected = {}
    for c in choices:
        targets = new.changes.targets("tox", c)
        if len(targets) == 1:  # a split or removed choice is not restored
            expected[(c, question)] = targets[0]
    assert current(p) == expected
    assert_valid_under_current_schema(p)


def test_a_migration_recorded_without_its_choice_maps_matches_choices_by_name(tox: wb.Project) -> None:
    # projects migrated before the record kept its choice maps: the undo still writes only valid values
    from workbench.migrations._project import MIGRATION_RECORD

    tox.annotation.submit("b", "ok", annotator="ann")
    tox.annotation.submit("a", "unsure", annotator="ann")
    tox.annotation.submit("a", "toxic", annotator="ann")
    tox.annotation.submit("b", "toxic", annotator="ann")
    migrate(tox, rename={"ok": "fine"})
    store = tox._store  # rewriting the record the way an older version stored it
    for mid, rec in store.get_records(MIGRATION_RECORD).items():
        old = {k: v for k, v in rec.items() if k not in ("choice_maps", "removed_questions", "added_questions",
                                                          "changed_conditions")}
        store.put_record(MIGRATION_RECORD, mid, old, replace=True)
    tox.annotation.undo(annotator="ann")
    assert ("b", "tox") not in current(tox)  # 'ok' is no choice now and, without the maps, not known as 'fine'
    tox.annotation.undo(annotator="ann")
    assert current(tox) == {("a", "tox"): "unsure"}  # the same name in both schemas
    assert_valid_under_current_schema(tox)
