"""Schema and guideline migrations: plans, appended mappings, flags, the relabel queue, versions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.migrations import MigrationPlan

#: Columns of the event table that are stored (``superseded_by`` is derived from later events).
STORED = ["event_id", "event_uid", "example_id", "question", "value", "action", "source", "annotator", "confidence",
          "created_at", "time_spent", "schema_version", "guideline_version", "data_version", "is_honeypot",
          "supersedes", "note"]


@pytest.fixture
def tox(tmp_path: Path) -> Iterator[wb.Project]:
    """Toxicity with a follow-up question, labels from people, a model, gold and an adjudicator."""
    schema = wb.Schema("tox", [
        wb.Question("toxicity", ["ok", "toxic", "unsure"]),
        wb.Question("target", ["person", "group"], when={"toxicity": "toxic"}),
    ], guidelines="Toxic: insults or threats.")
    p = wb.Project.create(tmp_path / "tox", schema=schema)
    p.add_data(pd.DataFrame({"id": [f"e{i}" for i in range(8)], "text": [f"text {i}" for i in range(8)]}),
               id_column="id")
    p.annotate("e0", {"toxicity": "ok"}, annotator="ann")
    p.annotate("e1", {"toxicity": "toxic", "target": "group"}, annotator="ann")
    p.annotate("e1", {"toxicity": "toxic", "target": "person"}, annotator="bob")
    p.annotate("e2", {"toxicity": "unsure"}, annotator="ann")
    p.annotate("e3", {"toxicity": "ok"}, annotator="bob")
    p.annotate("e4", {"toxicity": "toxic"}, annotator="m1", source="model", confidence=0.9)
    p.annotate("e5", {"toxicity": "ok"}, annotator="m1", source="model", confidence=0.8)
    p.annotate("e6", {"toxicity": "toxic"}, annotator="expert", source="gold")
    p.annotate("e7", {"toxicity": "ok"}, annotator="lead", source="adjudication")
    yield p
    p.close()


def _issue_schema(p: wb.Project) -> wb.Schema:
    return p.schema.evolve(split={"toxic": ["harassment", "hate", "other"]}, rename={"ok": "fine"}, remove=["unsure"])


def _stored(p: wb.Project) -> list[dict[str, object]]:
    """The stored columns of every event, as plain records (missing values as None)."""
    ev = p.events()[STORED].astype(object)
    return [{str(k): v for k, v in r.items()} for r in ev.where(ev.notna(), None).to_dict("records")]


# ---------------------------------------------------------------------- plans
def test_plan_says_what_happens_to_every_label_and_writes_nothing(tox: wb.Project) -> None:
    before, version = _stored(tox), tox.schema_version
    plan = tox.migrations.plan(_issue_schema(tox))
    assert isinstance(plan, MigrationPlan)
    assert _stored(tox) == before and tox.schema_version == version  # a plan writes nothing
    t = plan.table().set_index(["example_id", "question", "source", "annotator"])["status"].to_dict()
    assert t[("e0", "toxicity", "human", "ann")] == "mapped"
    assert t[("e1", "toxicity", "human", "ann")] == t[("e1", "toxicity", "human", "bob")] == "relabel"
    assert t[("e1", "target", "human", "ann")] == "unchanged"  # asked for every part of the split
    assert t[("e2", "toxicity", "human", "ann")] == "dropped"
    assert t[("e4", "toxicity", "model", "m1")] == "relabel"
    assert t[("e5", "toxicity", "model", "m1")] == "mapped"
    assert t[("e6", "toxicity", "gold", "expert")] == "relabel"
    assert t[("e7", "toxicity", "adjudication", "lead")] == "mapped"
    assert len(t) == len(tox.labels())  # every current label of every source
    assert plan.counts == {"unchanged": 2, "mapped": 4, "relabel": 4, "dropped": 1, "asked": 0}
    summary = plan.summary()
    row = summary[(summary["choice"] == "toxic") & (summary["source"] == "human")].iloc[0]
    assert (row["status"], row["becomes"], row["n_labels"], row["n_examples"], row["n_queued"]) == (
        "relabel", "harassment | hate | other", 2, 1, 1)
    assert summary["n_labels"].sum() == len(tox.labels())
    # people's items are queued; the model's split label is flagged but its producer is re-run, not asked
    items = plan.relabel_items()
    assert sorted(items["example_id"]) == ["e1", "e2", "e6"]
    assert "relabel" in repr(plan) and plan.migration_id in repr(plan)


def test_apply_appends_mappings_flags_the_rest_and_rewrites_nothing(tox: wb.Project) -> None:
    before = _stored(tox)
    old_version = tox.schema_version
    new = _issue_schema(tox)
    result = tox.migrations.plan(new).apply(relabel_queue=True)
    after = _stored(tox)
    # append-only: the old rows are identical, the new ones come after them
    assert after[: len(before)] == before
    added = {r["event_id"]: r for r in after[len(before):]}
    assert len(added) == result.counts["mapped"] == 4
    assert tox.schema_version == new.version == result.new_version and result.old_version == old_version
    assert {r["schema_version"] for r in added.values()} == {new.version}
    by_id = {r["event_id"]: r for r in before}
    for old_id, new_id in result.mapped.items():  # each mapping references the event it replaces
        row, old = added[new_id], by_id[old_id]
        assert row["supersedes"] == old_id
        assert row["event_uid"] == f"migrate:{result.migration_id}:{old_id}"
        assert f"from event {old_id}" in str(row["note"])
        assert (row["created_at"], row["annotator"], row["source"]) == (old["created_at"], old["annotator"],
                                                                        old["source"])
    assert tox.verify()["events"] == len(after)  # the hash chain still holds
    # current labels: mapped and unchanged ones only; flagged ones stay in the history
    labels = tox.labels()
    assert set(labels["value"]) <= {"fine", "person", "group"}
    assert sorted(result.flagged) == sorted(int(str(r["event_id"])) for r in before
                                            if r["value"] in ("toxic", "unsure"))
    h = tox.history("e1")
    assert (h["value"] == "toxic").sum() == 2 and h["superseded_by"].isna().all()
    assert len(tox.labels(source="gold")) == 0 and len(tox.gold("toxicity")) == 0
    flags = tox.migrations.flags()
    assert set(flags["event_id"]) == set(result.flagged) and flags["current"].all() and flags["excluded"].all()
    assert set(tox.migrations.relabel_ids()) == {"e1", "e2", "e6"}
    listed = tox.migrations.list()
    assert listed["status"].tolist() == ["applied"] and int(listed["n_mapped"].iloc[0]) == 4


def test_apply_twice_is_refused_and_a_stale_plan_too(tox: wb.Project) -> None:
    plan = tox.migrations.plan(_issue_schema(tox))
    stale = tox.migrations.plan(tox.schema.evolve(question="toxicity", add=["spam"]))
    plan.apply()
    n = len(tox.events())
    with pytest.raises(wb.SchemaError, match="was applied already"):
        plan.apply()
    with pytest.raises(wb.SchemaError, match="changed after the plan was made"):
        stale.apply()
    assert len(tox.events()) == n


def test_labels_made_after_the_plan_are_migrated_too(tox: wb.Project) -> None:
    plan = tox.migrations.plan(_issue_schema(tox))
    late = tox.annotate("e3", {"toxicity": "ok"}, annotator="cid")[0]
    result = plan.apply()
    assert late.event_id in result.mapped
    assert tox.labels(annotator="cid")["value"].tolist() == ["fine"]


def test_relabel_queue_drains_as_items_are_answered_under_the_new_schema(tox: wb.Project) -> None:
    tox.migrations.plan(_issue_schema(tox)).apply()
    q = tox.migrations.relabel_queue()
    assert sorted(q["example_id"]) == ["e1", "e2", "e6"]
    assert q.set_index("example_id").loc["e1", "old_values"] == ["toxic"]
    # a model's answer does not take an item out: people relabel
    tox.annotate("e1", {"toxicity": "hate"}, annotator="m1", source="model")
    assert "e1" in tox.migrations.relabel_ids()
    # another annotator's answer does; the flagged labels stay flagged (and excluded)
    tox.annotate("e1", {"toxicity": "hate", "target": "group"}, annotator="cid")
    assert tox.migrations.relabel_ids() == ["e2", "e6"]
    assert sorted(tox.labels(question="toxicity", source="human")["annotator"]) == ["ann", "bob", "cid"]
    # the same annotator answering again supersedes their flagged label
    tox.annotate("e2", {"toxicity": "fine"}, annotator="ann")
    tox.annotate("e6", {"toxicity": "other"}, annotator="expert", source="gold")
    assert tox.migrations.relabel_ids() == []
    assert tox.gold("toxicity").to_dict() == {"e6": "other"}
    done = tox.migrations.relabel_queue(include_done=True)
    assert done["done"].all() and done["done_event_id"].notna().all()
    assert tox.migrations.relabel_queue().empty


def test_relabel_queue_is_optional_and_an_undone_relabel_returns_the_item(tox: wb.Project) -> None:
    tox.migrations.plan(_issue_schema(tox)).apply(relabel_queue=False)
    assert tox.migrations.relabel_ids() == []
    assert len(tox.migrations.flags()) == 5  # flagged and excluded all the same
    other = wb.Project.create(tox.path.parent / "other", schema=wb.Schema.single("t", ["ok", "toxic"]))
    other.add_data(pd.DataFrame({"id": ["a"], "text": ["x"]}), id_column="id")
    other.annotate("a", "toxic", annotator="ann")
    other.migrations.plan(other.schema.evolve(split={"toxic": ["hate", "other"]})).apply()
    other.annotate("a", "hate", annotator="bob")
    assert other.migrations.relabel_ids() == []
    other.retract("a", annotator="bob")
    assert other.migrations.relabel_ids() == ["a"]
    other.close()


def test_a_chain_of_migrations_rename_then_split_then_merge(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "c", schema=wb.Schema.single("t", ["ok", "toxic"]))
    p.add_data(pd.DataFrame({"id": ["a", "b", "c"], "text": ["x", "y", "z"]}), id_column="id")
    p.annotate("a", "ok", annotator="ann")
    p.annotate("b", "toxic", annotator="ann")
    p.annotate("c", "toxic", annotator="bob")
    history = [_stored(p)]
    r1 = p.migrations.plan(p.schema.evolve(rename={"toxic": "bad"})).apply()
    assert r1.counts["mapped"] == 2 and p.migrations.relabel_ids() == []
    history.append(_stored(p))
    r2 = p.migrations.plan(p.schema.evolve(split={"bad": ["insult", "threat", "other"]})).apply()
    assert r2.counts["relabel"] == 2 and p.migrations.relabel_ids() == ["b", "c"]
    history.append(_stored(p))
    p.annotate("b", "threat", annotator="cid")  # relabeled under the split schema
    r3 = p.migrations.plan(p.schema.evolve(merge={"abuse": ["insult", "threat"]})).apply()
    history.append(_stored(p))
    assert r3.counts == {"unchanged": 1, "mapped": 1, "relabel": 0, "dropped": 0, "asked": 0}
    assert p.labels().set_index(["example_id", "annotator"])["value"].to_dict() == {
        ("a", "ann"): "ok", ("b", "cid"): "abuse"}
    assert p.migrations.relabel_ids() == ["c"]  # still waiting since the split
    for earlier, later in itertools.pairwise(history):
        assert later[: len(earlier)] == earlier  # every step only appended
    assert len(p.schema_versions()) == 4
    p.verify()
    p.close()


# ---------------------------------------------------------------------- update_schema refuses silent changes
def test_update_schema_refuses_removing_a_used_choice_and_points_to_the_plan(tox: wb.Project) -> None:
    n, version = len(tox.events()), tox.schema_version
    by_hand = wb.Schema("tox", [wb.Question("toxicity", ["ok", "toxic"]),
                                wb.Question("target", ["person", "group"], when={"toxicity": "toxic"})])
    with pytest.raises(wb.SchemaError, match=r"toxicity='unsure' would lose its answer.*project\.migrations\.plan"):
        tox.update_schema(by_hand)
    with pytest.raises(wb.SchemaError, match="would need mapping"):
        tox.update_schema(tox.schema.evolve(rename={"ok": "fine"}))
    with pytest.raises(wb.SchemaError, match=r"would need relabeling \('toxic' was split"):
        tox.update_schema(tox.schema.evolve(split={"toxic": ["a", "b"]}))
    assert len(tox.events()) == n and tox.schema_version == version  # nothing changed
    # harmless changes pass: a new choice, a removed unused one, a new question
    assert tox.update_schema(tox.schema.evolve(question="toxicity", add=["spam"]))
    assert tox.update_schema(tox.schema.evolve(remove=["spam"]))
    assert tox.update_schema(tox.schema.evolve(add_question=wb.Question("lang", ["en", "other"])))


# ---------------------------------------------------------------------- conditions and questions
def test_a_narrowed_condition_drops_follow_ups_and_a_broadened_one_asks(tmp_path: Path,
                                                                       seatbelt_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "s", schema=seatbelt_schema.evolve(question="person", add=["maybe"]))
    p.add_data(pd.DataFrame({"id": ["a", "b", "c"], "text": ["x", "y", "z"]}), id_column="id")
    p.annotate("a", {"person": "yes", "seatbelt": "no"}, annotator="ann")
    p.annotate("b", {"person": "maybe"}, annotator="ann")
    p.annotate("c", {"person": "no"}, annotator="ann")
    broad = p.migrations.plan(p.schema.evolve(condition={"seatbelt": {"person": ["yes", "maybe"]}}))
    assert broad.counts["unchanged"] == 4 and broad.counts["asked"] == 1
    assert broad.asked()["example_id"].tolist() == ["b"]
    assert broad.relabel_items()["example_id"].tolist() == ["b"]
    narrow = p.migrations.plan(p.schema.evolve(question="person", split={"yes": ["driver", "passenger"]},
                                               condition={"seatbelt": {"person": "driver"}}))
    t = narrow.table().set_index(["example_id", "question"])
    assert t.loc[("a", "person"), "status"] == "relabel"
    assert t.loc[("a", "seatbelt"), "status"] == "relabel"  # depends on how 'person' is relabeled
    assert "depends on how" in str(t.loc[("a", "seatbelt"), "reason"])
    gone = p.migrations.plan(p.schema.evolve(condition={"seatbelt": {"person": "maybe"}}))
    g = gone.table().set_index(["example_id", "question"])
    assert g.loc[("a", "seatbelt"), "status"] == "dropped" and not g.loc[("a", "seatbelt"), "queue"]
    result = broad.apply()
    assert result.queued == 1 and p.migrations.relabel_ids() == ["b"]
    p.annotate("b", {"person": "maybe", "seatbelt": "yes"}, annotator="bob")
    assert p.migrations.relabel_ids() == []
    p.close()


def test_a_removed_question_drops_its_labels_without_queueing(tmp_path: Path, seatbelt_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "s", schema=seatbelt_schema)
    p.add_data(pd.DataFrame({"id": ["a"], "text": ["x"]}), id_column="id")
    p.annotate("a", {"person": "yes", "seatbelt": "no"}, annotator="ann")
    result = p.migrations.plan(p.schema.evolve(remove_question="seatbelt")).apply()
    assert result.counts["dropped"] == 1 and result.queued == 0
    assert p.labels()["question"].tolist() == ["person"]
    assert p.migrations.relabel_ids() == []
    p.close()


# ---------------------------------------------------------------------- versions and training data
def _single(tmp_path: Path) -> wb.Project:
    p = wb.Project.create(tmp_path / "v", schema=wb.Schema.single("t", ["ok", "toxic"]))
    p.add_data(pd.DataFrame({"id": [f"x{i}" for i in range(6)], "text": [f"t{i}" for i in range(6)]}),
               id_column="id")
    for i, v in enumerate(["ok", "toxic", "ok", "toxic", "ok", "ok"]):
        p.annotate(f"x{i}", v, annotator="ann")
    return p


def test_versions_use_only_labels_valid_under_the_current_schema(tmp_path: Path) -> None:
    p = _single(tmp_path)
    result = p.migrations.plan(p.schema.evolve(split={"toxic": ["hate", "other"]}, rename={"ok": "fine"})).apply()
    soft = p.models.soft_labels()
    assert sorted(soft.index) == ["x0", "x2", "x4", "x5"]  # the split labels wait for relabeling
    v = p.versions.save(soft, message="after the split")
    ids = p.versions.event_ids(v.name)
    assert set(ids) == set(result.mapped.values())  # the mapped events, never the flagged ones
    assert not set(ids) & set(result.flagged)
    manifest = p.versions.manifest(v.name)
    assert manifest["label_schema_versions"] == {p.schema_version: 4}
    assert manifest["events"]["excluded"] == []
    assert "old_schema_labels" not in manifest
    X, y, _ = p.versions.training_data(v.name)
    assert sorted(X) == ["x0", "x2", "x4", "x5"] and set(y) == {"fine"}
    p.close()


def test_keep_old_version_mixes_only_with_the_schema_version_feature(tmp_path: Path) -> None:
    p = _single(tmp_path)
    old_version = p.schema_version
    p.migrations.plan(p.schema.evolve(split={"toxic": ["hate", "other"]})).apply(exclude="keep_old_version")
    assert set(p.migrations.flags()["rule"]) == {"keep_old_version"}
    p.annotate("x1", "hate", annotator="bob")  # one of the two relabeled
    v = p.versions.save(p.models.soft_labels())
    kept = p.versions.manifest(v.name)["old_schema_labels"]
    assert sorted(r["example_id"] for r in kept) == ["x1", "x3"]
    assert {r["schema_version"] for r in kept} == {old_version}
    _, y, _ = p.versions.training_data(v.name)  # by default: the current schema only
    assert "toxic" not in set(y) and len(y) == 5
    features = pd.DataFrame({"n": np.arange(6.0)}, index=pd.Index([f"x{i}" for i in range(6)], name="id"))
    Xm, ym, wm = p.versions.training_data(v.name, features, schema_version_feature=True, run_name="mixed")
    assert list(Xm.columns) == ["n", "schema_version"] and len(ym) == len(wm) == 7
    old_rows = Xm["schema_version"] == old_version
    assert sorted(Xm.index[old_rows]) == ["x1", "x3"] and set(ym[old_rows.to_numpy()]) == {"toxic"}
    assert set(Xm.loc[~old_rows, "schema_version"]) == {p.schema_version}
    run = p.versions.runs().set_index("name").loc["mixed"]
    assert run["n_events"] == 7 and run["params"]["schema_version_feature"] is True
    with pytest.raises(wb.LabelValidationError, match="mixed rows need hard choice labels"):
        p.versions.training_data(v.name, soft=True, schema_version_feature=True)
    with pytest.raises(wb.LabelValidationError, match="'schema_version_feature' parameter"):
        p.versions.training_data(v.name, schema_version_feature="yes")  # type: ignore[arg-type]
    p.close()


def test_a_schema_changed_without_a_migration_cannot_be_saved_until_flagged(tmp_path: Path) -> None:
    p = _single(tmp_path)
    soft = p.models.soft_labels()
    # a project from before update_schema checked labels: the choice went away silently
    p._schema.update(wb.Schema.single("t", ["ok", "bad"]))
    with pytest.raises(wb.LabelValidationError, match=r"mix labels of two schemas.*flag_invalid"):
        p.versions.save(soft)
    assert p.update_schema(p.schema.evolve(add=["unsure"]))  # the older problem does not block harmless changes
    result = p.migrations.flag_invalid()
    assert result.counts["dropped"] == 2 and sorted(p.migrations.relabel_ids()) == ["x1", "x3"]
    assert p.migrations.flag_invalid().counts["dropped"] == 0  # nothing left to flag: nothing recorded
    v = p.versions.save(p.models.soft_labels())
    assert len(p.versions.event_ids(v.name)) == 4
    p.close()


def test_a_version_saved_before_a_migration_keeps_its_events(tmp_path: Path) -> None:
    p = _single(tmp_path)
    v1 = p.versions.save(p.models.soft_labels())
    before = p.versions.event_ids(v1.name)
    p.migrations.plan(p.schema.evolve(split={"toxic": ["hate", "other"]})).apply()
    assert p.versions.event_ids(v1.name) == before  # flags made later change no saved version
    assert p.versions.load(v1.name)["label"].tolist().count("toxic") == 2
    p.close()


# ---------------------------------------------------------------------- guidelines
def test_new_guidelines_flag_older_labels_for_review(tox: wb.Project) -> None:
    old_gv = tox.guideline_version
    tox.update_guidelines("Toxic: insults, threats and sarcasm aimed at a person.")
    tox.annotate("e3", {"toxicity": "toxic"}, annotator="cid")  # made under the new guidelines
    flagged = tox.migrations.flag_for_review(guideline_version=old_gv)
    assert set(flagged["source"]) == {"human", "gold", "adjudication"}  # people's labels, not the model's
    assert (flagged["guideline_version"] == old_gv).all() and len(flagged) == 9
    assert tox.labels(source="human")["annotator"].tolist() == ["cid"]  # the rest wait for review
    assert len(tox.labels(source="model")) == 2
    assert sorted(tox.migrations.relabel_ids()) == ["e0", "e1", "e2", "e3", "e6", "e7"]
    assert tox.migrations.flag_for_review(guideline_version=old_gv).empty  # flagged once
    tox.annotate("e0", {"toxicity": "ok"}, annotator="ann")  # re-reviewed: the same answer, now current
    assert "e0" not in tox.migrations.relabel_ids()
    assert ("e0", "ann") in set(zip(tox.labels()["example_id"], tox.labels()["annotator"], strict=True))
    q = tox.migrations.relabel_queue()
    assert set(q["kind"]) == {"review"}
    # a later schema migration carries an excluding review flag to the mapped event
    result = tox.migrations.plan(tox.schema.evolve(rename={"ok": "fine"})).apply()
    e7 = result.mapped[int(tox.history("e7")["event_id"].iloc[0])]
    assert e7 in set(tox.migrations.flags(kind="review")["event_id"])
    assert len(tox.labels(source="adjudication")) == 0


def test_review_flags_can_keep_labels_in_use(tox: wb.Project) -> None:
    old_gv = tox.guideline_version
    tox.update_guidelines("New guidelines.")
    n = len(tox.labels())
    flagged = tox.migrations.flag_for_review(question="toxicity", sources=["human"], exclude=False)
    assert len(flagged) == 5 and set(flagged["question"]) == {"toxicity"}
    assert len(tox.labels()) == n  # only queued, still used
    assert sorted(tox.migrations.relabel_ids()) == ["e0", "e1", "e2", "e3"]
    assert old_gv in set(flagged["guideline_version"])


# ---------------------------------------------------------------------- LFs
def test_lfs_whose_votes_change_meaning_are_listed_and_warned_about(tmp_path: Path) -> None:
    p = _single(tmp_path)
    TOXIC = p.schema.label_id("toxic")
    p.lfs.add(wb.lf.keywords("insults", ["idiot"], label=TOXIC))
    plan = p.migrations.plan(p.schema.evolve(split={"toxic": ["hate", "other"]}))
    issues = plan.lfs()
    assert issues["lf"].tolist() == ["insults"] and "vote 1 meant 'toxic', now means 'hate'" in issues["issue"][0]
    with pytest.warns(UserWarning, match="insults"):
        plan.apply()
    harmless = p.migrations.plan(p.schema.evolve(rename={"ok": "fine"}))
    assert harmless.lfs().empty  # a rename in place keeps every vote's meaning
    shifted = p.migrations.plan(p.schema.evolve(remove=["ok"], add=["spam"]))
    # a builder is checked on the label it declares (1, now 'hate'), not on ids it never votes
    assert shifted.lfs()["issue"][0].startswith("vote 1 meant 'hate', now means 'other'")
    p.close()


# ---------------------------------------------------------------------- an interrupted apply resumes
def test_an_interrupted_apply_resumes_to_the_same_state(tox: wb.Project, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = tox.migrations.plan(_issue_schema(tox))
    real = tox._log.add_flags

    def crash(flags: object) -> int:
        raise OSError("the kernel died")

    monkeypatch.setattr(tox._log, "add_flags", crash)
    with pytest.raises(OSError):
        plan.apply()
    assert tox.schema_version == plan.new_version  # switched, mapped, not flagged yet
    monkeypatch.setattr(tox._log, "add_flags", real)
    n = len(tox.events())
    result = plan.apply()
    assert len(tox.events()) == n  # nothing written twice
    assert len(result.mapped) == 4 and len(result.flagged) == 5
    assert set(tox.migrations.relabel_ids()) == {"e1", "e2", "e6"}


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda p: p.migrations.plan("new"), wb.SchemaError, "takes a wb.Schema"),
        (lambda p: p.migrations.plan(p.schema), wb.SchemaError, "nothing to migrate"),
        (lambda p: p.migrations.plan(p.schema.with_guidelines("other")), wb.SchemaError,
         "Only the guidelines differ"),
        (lambda p: p.migrations.plan(wb.Schema.single("t", ["a", "b"]).evolve(add=["c"])), wb.SchemaError,
         "was evolved from schema version"),
        (lambda p: p.migrations.plan(p.schema.evolve(question="toxicity", add=["x"]), queue_sources="human"),
         wb.LabelValidationError, "must be a list of label sources"),
        (lambda p: p.migrations.plan(p.schema.evolve(question="toxicity", add=["x"]), queue_sources=["people"]),
         wb.LabelValidationError, r"names \['people'\], which are not label sources"),
        (lambda p: p.migrations.plan(p.schema.evolve(question="toxicity", add=["x"])).apply(exclude="all"),
         wb.LabelValidationError, "'exclude' parameter of MigrationPlan.apply"),
        (lambda p: p.migrations.plan(p.schema.evolve(question="toxicity", add=["x"])).apply(relabel_queue="yes"),
         wb.LabelValidationError, "'relabel_queue' parameter"),
        (lambda p: p.migrations.flags(kind="lf"), wb.LabelValidationError, "'kind' parameter"),
        (lambda p: p.migrations.relabel_queue(include_done="no"), wb.LabelValidationError, "'include_done'"),
        (lambda p: p.migrations.relabel_queue(question="nope"), wb.SchemaError, "has no question 'nope'"),
        (lambda p: p.migrations.flag_for_review(guideline_version="g-nope"), wb.LabelValidationError,
         "must be one of the project's guideline versions"),
        (lambda p: p.migrations.flag_for_review(guideline_version=p.guideline_version), wb.LabelValidationError,
         "names the current guidelines"),
        (lambda p: p.migrations.flag_for_review(sources=["bots"]), wb.LabelValidationError, "not label sources"),
        (lambda p: p.migrations.flag_for_review(exclude="yes"), wb.LabelValidationError, "'exclude' parameter"),
    ],
)
def test_error_catalogue(tox: wb.Project, call, error: type[Exception], message: str) -> None:
    n = len(tox.events())
    with pytest.raises(error, match=message):
        call(tox)
    assert len(tox.events()) == n



def test_a_flagged_model_label_is_no_longer_offered_as_a_draft(tox: wb.Project) -> None:
    shown = tox.annotation.draft("e4", "toxicity")
    assert shown is not None and shown.value == "toxic"   # the model's label, shown as a draft
    tox.migrations.plan(_issue_schema(tox)).apply()   # "toxic" is split: the label of e4 is flagged
    draft = tox.annotation.draft("e4", "toxicity")
    assert draft is None or draft.source != "model"
    mapped = tox.annotation.draft("e5", "toxicity")
    assert mapped is not None and mapped.value == "fine"    # a mapped model label still is one


# ---------------------------------------------------------------------- renaming a question
def _by_key(df: pd.DataFrame) -> dict[tuple[str, str, str, str], str]:
    return {(str(e), str(q), str(s), str(a)): str(v) for e, q, s, a, v in
            zip(df["example_id"], df["question"], df["source"], df["annotator"], df["value"], strict=True)}


def test_renaming_a_question_maps_its_labels_as_new_events_and_rewrites_nothing(tox: wb.Project) -> None:
    before, labels_before = _stored(tox), _by_key(tox.labels())
    new = tox.schema.evolve(rename_question={"toxicity": "harm"})
    plan = tox.migrations.plan(new)
    # the plan: every label of the renamed question is mapped to the new name, the follow-up's are unchanged
    t = plan.table()
    renamed = t[t["question"] == "toxicity"]
    assert len(renamed) == 9 and set(renamed["status"]) == {"mapped"} and set(renamed["new_question"]) == {"harm"}
    assert (renamed["new_value"] == renamed["value"]).all()
    assert set(t.loc[t["question"] == "target", "status"]) == {"unchanged"}
    assert plan.counts == {"unchanged": 2, "mapped": 9, "relabel": 0, "dropped": 0, "asked": 0}
    assert plan.relabel_items().empty
    summary = plan.summary()
    assert set(summary.loc[summary["question"] == "toxicity", "new_question"]) == {"harm"}
    assert summary.loc[summary["question"] == "toxicity", "n_labels"].sum() == 9
    assert any("'toxicity' is renamed to 'harm'" in line and "9 label(s)" in line for line in plan.describe())
    assert _stored(tox) == before  # a plan writes nothing
    result = plan.apply()
    after = _stored(tox)
    assert after[: len(before)] == before  # append-only
    added = {int(str(r["event_id"])): r for r in after[len(before):]}
    assert len(added) == len(result.mapped) == 9 and result.flagged == []
    by_id = {int(str(r["event_id"])): r for r in before}
    for old_id, new_id in result.mapped.items():  # each new event references the event it replaces
        row, old = added[new_id], by_id[old_id]
        assert (old["question"], row["question"], row["value"]) == ("toxicity", "harm", old["value"])
        assert row["event_uid"] == f"migrate:{result.migration_id}:{old_id}" and f"from event {old_id}" in str(
            row["note"])
        assert (row["created_at"], row["annotator"], row["source"], row["schema_version"]) == (
            old["created_at"], old["annotator"], old["source"], new.version)
    assert tox.verify()["events"] == len(after)
    # current labels: under the new name only, the same answers
    expected = {(e, "harm" if q == "toxicity" else q, s, a): v for (e, q, s, a), v in labels_before.items()}
    assert _by_key(tox.labels()) == expected
    assert tox.gold("harm").to_dict() == {"e6": "toxic"}
    # the old events stay in the history, flagged as mapped (no event of another question can supersede them)
    flags = tox.migrations.flags()
    assert set(flags["event_id"]) == set(result.mapped) and set(flags["status"]) == {"mapped"}
    assert flags["excluded"].all() and "mapped to event" in flags["reason"].iloc[0]
    assert (tox.history("e0")["question"].tolist()) == ["toxicity", "harm"]
    # the follow-up's condition follows the renamed question, and annotating under the new name works
    assert tox.schema.question("target").condition == {"harm": ("toxic",)}
    tox.annotate("e4", {"harm": "toxic", "target": "group"}, annotator="ann")
    tox.annotate("e0", {"harm": "toxic"}, annotator="ann")  # supersedes the mapped event
    assert tox.labels(annotator="ann", question="harm").set_index("example_id")["value"].to_dict() == {
        "e0": "toxic", "e1": "toxic", "e2": "unsure", "e4": "toxic"}
    with pytest.raises(wb.LabelValidationError, match="has no question 'toxicity'"):
        tox.annotate("e3", {"toxicity": "ok"}, annotator="ann")
    assert tox.migrations.list()["changes"].iloc[0] == ["renamed question 'toxicity' to 'harm'"]


def test_rename_question_and_choices_in_one_chained_evolve(tox: wb.Project) -> None:
    new = tox.schema.evolve(rename_question={"toxicity": "harm"}).evolve(
        question="harm", rename={"ok": "fine"}, split={"toxic": ["insult", "threat"]})
    one_call = tox.schema.evolve(rename_question={"toxicity": "harm"}, rename={"ok": "fine"},
                                 split={"toxic": ["insult", "threat"]})
    plan = tox.migrations.plan(new)
    assert plan.counts == tox.migrations.plan(one_call).counts
    t = plan.table().set_index(["example_id", "question", "source", "annotator"])
    assert tuple(t.loc[("e0", "toxicity", "human", "ann"), ["status", "new_question", "new_value"]]) == (
        "mapped", "harm", "fine")
    assert t.loc[("e1", "toxicity", "human", "ann"), "status"] == "relabel"
    assert t.loc[("e1", "target", "human", "ann"), "status"] == "unchanged"  # asked for both parts of the split
    assert t.loc[("e2", "toxicity", "human", "ann"), "status"] == "mapped"  # 'unsure' under the new name
    items = plan.relabel_items()
    assert set(items["question"]) == {"harm"} and sorted(items["example_id"]) == ["e1", "e6"]
    result = plan.apply()
    assert tox.schema.question("target").condition == {"harm": ("insult", "threat")}
    labels = tox.labels()
    assert set(labels["question"]) == {"harm", "target"}
    assert set(labels.loc[labels["question"] == "harm", "value"]) == {"fine", "unsure"}
    note = tox.events().set_index("event_id").loc[result.mapped[int(tox.history("e0")["event_id"].iloc[0])], "note"]
    assert "toxicity='ok' -> harm='fine'" in str(note)
    # the relabel queue is under the new name, and answers under it drain it
    queue = tox.migrations.relabel_queue()
    assert set(queue["question"]) == {"harm"} and sorted(queue["example_id"]) == ["e1", "e6"]
    tox.annotate("e1", {"harm": "threat", "target": "group"}, annotator="cid")
    tox.annotate("e6", {"harm": "insult"}, annotator="expert", source="gold")
    assert tox.migrations.relabel_ids() == []
    assert tox.gold("harm").to_dict() == {"e6": "insult"}


def test_a_relabel_queue_and_review_flags_follow_a_later_question_rename(tox: wb.Project) -> None:
    tox.migrations.plan(_issue_schema(tox)).apply()  # splits 'toxic': e1, e2, e6 wait under 'toxicity'
    old_gv = tox.guideline_version
    tox.update_guidelines("Toxic: insults, threats and sarcasm.")
    tox.migrations.flag_for_review(guideline_version=old_gv, question="toxicity", sources=["adjudication"])
    waiting = tox.migrations.relabel_ids()
    assert sorted(waiting) == ["e1", "e2", "e6", "e7"]
    result = tox.migrations.plan(tox.schema.evolve(rename_question={"toxicity": "harm"})).apply()
    q = tox.migrations.relabel_queue()
    assert set(q["question"]) == {"harm"} and sorted(q["example_id"]) == sorted(waiting)  # nothing lost or done
    # the excluding review flag moved with the adjudicator's label to its new event
    e7_new = result.mapped[int(tox.history("e7")["event_id"].iloc[-2])]
    assert e7_new in set(tox.migrations.flags(kind="review")["event_id"])
    assert len(tox.labels(source="adjudication")) == 0
    for eid in ("e1", "e2"):
        tox.annotate(eid, {"harm": "fine"}, annotator="cid")
    tox.annotate("e7", {"harm": "fine"}, annotator="lead", source="adjudication")
    assert tox.migrations.relabel_ids() == ["e6"]
    with pytest.raises(wb.SchemaError, match="has no question 'toxicity'"):
        tox.migrations.relabel_queue(question="toxicity")
    assert tox.migrations.relabel_ids("harm") == ["e6"]


def test_renaming_a_question_and_back_is_a_chain_of_appends(tox: wb.Project) -> None:
    labels = _by_key(tox.labels())
    history = [_stored(tox)]
    tox.migrations.plan(tox.schema.evolve(rename_question={"toxicity": "harm"})).apply()
    history.append(_stored(tox))
    r2 = tox.migrations.plan(tox.schema.evolve(rename_question={"harm": "toxicity"})).apply()
    history.append(_stored(tox))
    assert r2.counts["mapped"] == 9
    for earlier, later in itertools.pairwise(history):
        assert later[: len(earlier)] == earlier
    assert _by_key(tox.labels()) == labels  # the same answers, under the original name again
    assert len(tox.labels()) == len(labels) and tox.verify()["events"] == len(history[-1])
    assert tox.migrations.relabel_ids() == []
    assert tox.history("e0")["question"].tolist() == ["toxicity", "harm", "toxicity"]


def test_a_label_version_after_a_question_rename_uses_the_new_name_only(tmp_path: Path) -> None:
    p = _single(tmp_path)
    v1 = p.versions.save(p.models.soft_labels(), message="before")
    before_ids = p.versions.event_ids(v1.name)
    result = p.migrations.plan(p.schema.evolve(rename_question={"t": "toxicity"})).apply(exclude="keep_old_version")
    soft = p.models.soft_labels()
    v2 = p.versions.save(soft, message="after the rename")
    ids = p.versions.event_ids(v2.name)
    assert set(ids) == set(result.mapped.values()) and not set(ids) & set(result.mapped)
    events = p.events().set_index("event_id")
    assert set(events.loc[ids, "question"]) == {"toxicity"} and set(events.loc[before_ids, "question"]) == {"t"}
    manifest = p.versions.manifest(v2.name)
    assert list(manifest["questions"]) == ["toxicity"]
    assert manifest["label_schema_versions"] == {p.schema_version: 6}
    assert sorted(manifest["events"]["excluded"]) == sorted(result.mapped)  # the old events, left out
    assert "old_schema_labels" not in manifest  # a mapped label is never kept under its old version too
    assert p.versions.load(v2.name)["label"].tolist() == p.versions.load(v1.name)["label"].tolist()
    assert p.versions.event_ids(v1.name) == before_ids  # the earlier version is untouched
    _, y, _ = p.versions.training_data(v2.name)
    assert len(y) == 6 and set(y) == {"ok", "toxic"}
    p.close()


def test_lfs_of_a_renamed_question_are_listed(tox: wb.Project) -> None:
    tox.lfs.add(wb.lf.keywords("insults", ["idiot"], label=1, question="toxicity"))
    plan = tox.migrations.plan(tox.schema.evolve(rename_question={"toxicity": "harm"}))
    issues = plan.lfs()
    assert issues["lf"].tolist() == ["insults"]
    assert "question 'toxicity' is renamed to 'harm': register the LF again with question='harm'" in issues[
        "issue"].iloc[0]


def test_update_schema_refuses_renaming_a_used_question(tox: wb.Project) -> None:
    n = len(tox.events())
    with pytest.raises(wb.SchemaError, match=r"toxicity='ok' would need mapping \(question 'toxicity' becomes 'harm'"):
        tox.update_schema(tox.schema.evolve(rename_question={"toxicity": "harm"}))
    assert len(tox.events()) == n and tox.schema.question_names == ("toxicity", "target")
    assert tox.update_schema(tox.schema.evolve(add_question=wb.Question("lang", ["en", "other"])))
    assert tox.update_schema(tox.schema.evolve(rename_question={"lang": "language"}))  # unused: harmless


def test_a_follow_up_whose_parent_waits_for_relabeling_keeps_its_standing(tox: wb.Project) -> None:
    tox.migrations.plan(_issue_schema(tox)).apply()  # e1's 'toxicity' labels are flagged, its 'target' ones kept
    assert len(tox.labels(question="target")) == 2
    # a later change that asks 'target' exactly as before (a new choice, a rename) leaves them alone ...
    for new in (tox.schema.evolve(question="toxicity", add=["spam"]), tox.schema.evolve(rename={"fine": "okay"})):
        t = tox.migrations.plan(new).table()
        assert set(t.loc[t["question"] == "target", "status"]) == {"unchanged"}
    # ... but one that folds an answer that did not ask it into one that does cannot tell, so it asks again
    folded = tox.migrations.plan(tox.schema.evolve(merge={"hate": ["hate", "fine"]}, add=["spam"])).table()
    assert set(folded.loc[folded["question"] == "target", "status"]) == {"relabel"}
    narrowed = tox.migrations.plan(tox.schema.evolve(condition={"target": {"toxicity": "hate"}})).table()
    assert set(narrowed.loc[narrowed["question"] == "target", "status"]) == {"relabel"}


def test_update_schema_refuses_renaming_a_question_whose_items_wait_for_relabeling(tmp_path: Path) -> None:
    p = _single(tmp_path)
    p.migrations.plan(p.schema.evolve(split={"toxic": ["hate", "other"]})).apply()  # x1, x3 wait; no label is left
    p.migrations.plan(p.schema.evolve(remove=["ok"], add=["fine"])).apply()  # ... for the other four either
    assert p.labels().empty and sorted(p.migrations.relabel_ids()) == ["x0", "x1", "x2", "x3", "x4", "x5"]
    version = p.schema_version
    with pytest.raises(wb.SchemaError, match=r"rename the question\(s\) \['t'\], whose items wait in the relabel"):
        p.update_schema(p.schema.evolve(rename_question={"t": "toxicity"}))
    assert p.schema_version == version and len(p.migrations.relabel_ids()) == 6
    p.migrations.plan(p.schema.evolve(rename_question={"t": "toxicity"})).apply()  # the migration keeps them
    assert len(p.migrations.relabel_ids("toxicity")) == 6
    p.close()


def test_labels_checked_against_a_schema_a_migration_replaced_meanwhile_are_not_written(tmp_path: Path) -> None:
    """Session B checks its labels, session A migrates (merging B's choice away), then B writes: refused."""
    schema = wb.Schema.single("target", ["person", "group", "none"])
    a = wb.Project.create(tmp_path / "p", schema=schema)
    a.add_data(pd.DataFrame({"id": ["x0", "x1"], "text": ["a", "b"]}), id_column="id")
    b = wb.Project.open(tmp_path / "p")
    real = b._store.write_events

    def migrate_first(events: object) -> object:  # the migration lands between B's check and B's write
        a.migrations.plan(a.schema.evolve(merge={"other": ["group", "none"]})).apply()
        return real(events)  # type: ignore[arg-type]

    b._store.write_events = migrate_first  # type: ignore[method-assign]
    with pytest.raises(wb.SchemaError, match="The schema changed to .* Nothing was written; submit them again"):
        b.annotate_many(pd.DataFrame({"example_id": ["x0", "x1"], "value": ["group", "person"],
                                      "annotator": "bob"}))
    b._store.write_events = real  # type: ignore[method-assign]
    assert a.labels().empty and b.labels().empty
    with pytest.raises(wb.LabelValidationError):  # submitted again: checked against the new schema
        b.annotate_many(pd.DataFrame({"example_id": ["x0"], "value": ["group"], "annotator": "bob"}))
    b.annotate_many(pd.DataFrame({"example_id": ["x0"], "value": ["other"], "annotator": "bob"}))
    assert a.labels()[["example_id", "value", "schema_version"]].values.tolist() == [["x0", "other",
                                                                                      a.schema_version]]
    a.close()
    b.close()


def test_a_plan_made_before_new_guidelines_keeps_them(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"], guidelines="v1: ads"))
    plan = p.migrations.plan(p.schema.evolve(split={"spam": ["promo", "scam"]}))  # carries the v1 text
    v2 = p.update_guidelines("v2: promo vs scam, in detail")
    with pytest.warns(UserWarning, match="carries the earlier guidelines .* the current guidelines .* stay"):
        plan.apply()
    assert p.guideline_version == v2 and p.schema.guidelines == "v2: promo vs scam, in detail"
    assert list(p.schema.question("spam").choices) == ["ham", "promo", "scam"]
    with pytest.warns(UserWarning, match="earlier guidelines"):
        p.update_schema(wb.Schema.single("spam", ["ham", "promo", "scam"], guidelines="v1: ads"))
    assert p.guideline_version == v2
    p.update_schema(wb.Schema.single("spam", ["ham", "promo", "scam"], guidelines="v3: new text"))  # new: taken
    assert p.schema.guidelines == "v3: new text"
    p.close()


def test_a_follow_up_question_added_by_a_migration_is_asked_of_the_items_it_applies_to(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("toxic", ["no", "yes"]))
    p.add_data(pd.DataFrame({"id": ["a", "b", "c"], "text": ["x", "y", "z"]}), id_column="id")
    p.annotation.configure(overlap=1)
    for eid, v in (("a", "yes"), ("b", "no"), ("c", "yes")):
        p.annotation.submit(eid, v, annotator="ann")
    assert p.annotation.queue(n=None).empty
    p.migrations.plan(p.schema.evolve(
        add_question=wb.Question("severity", choices=["low", "high"], when={"toxic": "yes"}))).apply()
    assert sorted(p.annotation.queue(n=None)["example_id"]) == ["a", "c"]  # b: not asked (toxic = no)
    assert sorted(x.example_id for x in p.annotation.next_items("ann", n=5)) == ["a", "c"]
    p.close()


def test_undoing_a_re_review_brings_the_flagged_answer_back_flagged(tmp_path: Path) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"], guidelines="v1: ads"))
    p.add_data(pd.DataFrame({"id": ["a"], "text": ["x"]}), id_column="id")
    g1 = p.guideline_version
    p.annotation.submit("a", "spam", annotator="alice")
    p.update_guidelines("v2: ads and self-promotion")
    p.migrations.flag_for_review()
    assert p.migrations.relabel_ids() == ["a"] and p.labels().empty
    p.annotation.submit("a", "ham", annotator="alice")  # the re-review
    assert p.migrations.relabel_ids() == [] and p.labels()["value"].tolist() == ["ham"]
    assert p.annotation.undo(annotator="alice") == "a"
    assert p.migrations.relabel_ids() == ["a"]  # waiting for its re-review again
    assert p.labels().empty  # the v1 answer is flagged (excluded) as it was
    last = p.history("a").iloc[-1]
    assert (last["value"], last["guideline_version"], last["action"]) == ("spam", g1, "label")
    p.close()
