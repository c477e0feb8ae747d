from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import workbench as wb


def test_create_open_roundtrip(tmp_path: Path, spam_schema: wb.Schema, comments: pd.DataFrame) -> None:
    p = wb.Project.create(tmp_path / "p", schema=spam_schema)
    p.add_data(comments, id_column="id")
    p.annotate("c-1", "spam", annotator="bob")
    p.close()
    q = wb.Project.open(tmp_path / "p")
    assert q.schema == spam_schema
    assert q.schema_version == spam_schema.version
    assert q.guideline_version == spam_schema.guideline_version
    assert len(q) == 6
    assert q.labels()["value"].tolist() == ["spam"]
    assert "examples=6" in repr(q)


def test_every_event_carries_full_provenance(project: wb.Project) -> None:
    (ev,) = project.annotate("c-1", "spam", annotator="alice", confidence=0.9, time_spent=3.5)
    row = project.history("c-1").iloc[0]
    assert row["example_id"] == "c-1" and row["question"] == "spam" and row["value"] == "spam"
    assert row["source"] == "human" and row["annotator"] == "alice"
    assert row["confidence"] == 0.9 and row["time_spent"] == 3.5
    assert row["schema_version"] == project.schema_version
    assert row["guideline_version"] == project.guideline_version
    assert row["data_version"] == "d1"
    assert not row["is_honeypot"]
    assert pd.Timestamp(row["created_at"]).tzinfo is not None
    assert row["training_runs"] == []
    assert ev.event_id == row["event_id"]


def test_corrections_supersede_and_history_keeps_both(project: wb.Project) -> None:
    project.annotate("c-2", "spam", annotator="alice")
    project.annotate("c-2", "ham", annotator="alice")
    project.annotate("c-2", "spam", annotator="bob")
    h = project.history("c-2")
    assert h["value"].tolist() == ["spam", "ham", "spam"]
    assert h["superseded_by"].tolist()[0] == h["event_id"].tolist()[1]
    assert pd.isna(h["superseded_by"].iloc[1]) and pd.isna(h["superseded_by"].iloc[2])
    current = project.labels()
    assert sorted(zip(current["annotator"], current["value"], strict=True)) == [("alice", "ham"), ("bob", "spam")]


def test_retract_appends_and_never_deletes(project: wb.Project) -> None:
    project.annotate("c-3", "spam", annotator="alice")
    project.retract("c-3", annotator="alice")
    h = project.history("c-3")
    assert h["action"].tolist() == ["label", "retract"]
    assert project.labels(annotator="alice").empty
    with pytest.raises(wb.LabelValidationError, match="nothing to retract"):
        project.retract("c-3", annotator="alice")


def test_multi_question_labels_and_conditions(tmp_path: Path, seatbelt_schema: wb.Schema) -> None:
    p = wb.Project.create(tmp_path / "sb", schema=seatbelt_schema)
    p.add_data(pd.DataFrame({"frame_id": ["frame-17", "frame-18"], "text": ["a car", "a road"]}), id_column="frame_id")
    events = p.annotate("frame-17", {"person": "yes", "seatbelt": "no"}, annotator="alice")
    assert [e.question for e in events] == ["person", "seatbelt"]
    # the follow-up alone, later: its condition holds through alice's earlier answer
    p.annotate("frame-17", {"seatbelt": "yes"}, annotator="alice")
    # bob has not said a person is in frame
    with pytest.raises(wb.LabelValidationError, match="only asked when"):
        p.annotate("frame-17", {"seatbelt": "yes"}, annotator="bob")
    with pytest.raises(wb.LabelValidationError, match="only asked when"):
        p.annotate("frame-18", {"person": "no", "seatbelt": "yes"}, annotator="alice")
    # changing the parent answer retracts the follow-up that no longer applies
    p.annotate("frame-17", {"person": "no"}, annotator="alice")
    cur = p.labels(annotator="alice")
    assert dict(zip(cur["question"], cur["value"], strict=True)) == {"person": "no"}
    assert p.history("frame-17")["action"].tolist()[-1] == "retract"


def test_bad_labels_write_nothing(project: wb.Project) -> None:
    n = len(project.events())
    with pytest.raises(wb.LabelValidationError, match="not a choice"):
        project.annotate("c-1", "eggs", annotator="alice")
    with pytest.raises(wb.UnknownExampleError, match="not in this project"):
        project.annotate("nope", "spam", annotator="alice")
    with pytest.raises(wb.LabelValidationError, match="Row 1"):
        project.annotate_many(
            [
                {"example_id": "c-1", "value": "spam", "annotator": "a"},
                {"example_id": "c-2", "value": "eggs", "annotator": "a"},
            ]
        )
    assert len(project.events()) == n


def test_annotate_many_imports_with_timestamps(project: wb.Project) -> None:
    rows = pd.DataFrame(
        {
            "example_id": ["c-1", "c-2", "c-1"],
            "value": ["spam", "ham", "ham"],
            "annotator": ["w1", "w1", "w2"],
            "created_at": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:01", "2024-01-02 00:00"]),
            "source": ["human", "human", "human"],
        }
    )
    events = project.annotate_many(rows)
    assert len(events) == 3
    assert project.labels()["created_at"].tolist()[0].startswith("2024-01-01T10:00:00")


def test_idempotent_writes_duplicate_nothing(project: wb.Project) -> None:
    a = project.annotate("c-1", "spam", annotator="alice", event_uid="client-42")
    b = project.annotate("c-1", "spam", annotator="alice", event_uid="client-42")
    assert a[0].event_id == b[0].event_id
    assert len(project.history("c-1")) == 1


def test_schema_and_guideline_changes_create_versions(project: wb.Project) -> None:
    project.annotate("c-1", "spam", annotator="alice")
    old_sv, old_gv = project.schema_version, project.guideline_version
    seen: list[str] = []
    sub = project.on("schema_changed", lambda version: seen.append(version))
    new_schema = wb.Schema.single("spam", ["ham", "spam", "unsure"])
    project.update_schema(new_schema)
    gv = project.update_guidelines("Spam advertises. When in doubt, say unsure.")
    assert project.schema_version == new_schema.version != old_sv
    assert gv == project.guideline_version != old_gv
    project.annotate("c-2", "unsure", annotator="alice")
    h1, h2 = project.history("c-1").iloc[0], project.history("c-2").iloc[0]
    assert (h1["schema_version"], h1["guideline_version"]) == (old_sv, old_gv)  # never rewritten
    assert (h2["schema_version"], h2["guideline_version"]) == (new_schema.version, gv)
    assert project.schema_versions()["version"].tolist() == [old_sv, new_schema.version]
    assert project.guideline_versions()["version"].tolist()[-1] == gv
    assert seen == [new_schema.version]
    sub.disconnect()
    assert project.n_listeners("schema_changed") == 0


def test_training_runs_link_exact_labels(project: wb.Project) -> None:
    project.annotate("c-1", "spam", annotator="alice")
    project.annotate("c-2", "ham", annotator="alice")
    used = project.labels()
    run = project.versions.record_run("logreg-1", used, params={"C": 1.0})
    project.annotate("c-1", "ham", annotator="alice")  # a later correction was not used by the run
    h = project.history("c-1")
    assert h["training_runs"].tolist() == [[run.run_id], []]
    assert project.versions.runs()["n_events"].tolist() == [2]
    with pytest.raises(wb.WorkbenchError, match="not stored in this project"):
        project.versions.record_run("bad", [999_999])
    with pytest.raises(wb.LabelValidationError, match="JSON-serialisable"):
        project.versions.record_run("bad", params={"f": object()})


def test_events_announce_changes(project: wb.Project) -> None:
    got: list[tuple[str, object]] = []
    subs = [
        project.on("labels_added", lambda events: got.append(("labels", len(events)))),
        project.on("data_added", lambda version: got.append(("data", version.version))),
    ]
    project.annotate("c-1", "spam", annotator="alice")
    project.add_data(pd.DataFrame({"id": ["n1"], "text": ["x"]}), id_column="id")
    assert got == [("labels", 1), ("data", "d2")]
    for s in subs:
        s.disconnect()
    assert project.n_listeners() == 0
    with pytest.raises(ValueError, match="Unknown event"):
        project.on("label_added", print)


def test_a_failing_listener_does_not_lose_labels(project: wb.Project) -> None:
    def boom(**_: object) -> None:
        raise RuntimeError("widget bug")

    project.on("labels_added", boom)
    project.annotate("c-1", "spam", annotator="alice")
    assert len(project.labels()) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"annotator": ""}, "'annotator' parameter of Project.annotate must be a non-empty string"),
        ({"annotator": "a", "source": "robot"}, "'source' parameter .* must be one of"),
        ({"annotator": "a", "confidence": 1.5}, r"'confidence' parameter .* in \[0, 1\]"),
        ({"annotator": "a", "time_spent": -1}, "'time_spent' parameter"),
    ],
)
def test_annotate_error_catalogue(project: wb.Project, kwargs: dict, message: str) -> None:
    with pytest.raises(wb.LabelValidationError, match=message):
        project.annotate("c-1", "spam", **kwargs)
    assert project.events().empty


def test_open_and_create_errors(tmp_path: Path, spam_schema: wb.Schema) -> None:
    with pytest.raises(wb.ProjectNotFoundError, match="There is no project"):
        wb.Project.open(tmp_path / "nothing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(wb.ProjectNotFoundError, match="has no workbench.json"):
        wb.Project.open(tmp_path / "plain")
    wb.Project.create(tmp_path / "p", schema=spam_schema).close()
    with pytest.raises(wb.ProjectExistsError, match="already exists"):
        wb.Project.create(tmp_path / "p", schema=spam_schema)
    assert wb.Project.create(tmp_path / "p", schema=spam_schema, exist_ok=True).schema == spam_schema
    with pytest.raises(wb.SchemaError, match="update_schema"):
        wb.Project.create(tmp_path / "p", schema=wb.Schema.single("x", ["a", "b"]), exist_ok=True)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "file.txt").write_text("x")
    with pytest.raises(wb.ProjectExistsError, match="not an empty directory"):
        wb.Project.create(tmp_path / "full", schema=spam_schema)
    with pytest.raises(wb.SchemaError, match="must be a wb.Schema"):
        wb.Project.create(tmp_path / "q", schema={"name": "spam"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Project.create"):
        wb.Project(tmp_path, None)  # type: ignore[arg-type]


def test_exist_ok_refuses_other_guidelines_and_a_closed_project_has_a_repr(tmp_path: Path) -> None:
    first = wb.Schema.single("spam", ["ham", "spam"], guidelines="v1 rules")
    wb.Project.create(tmp_path / "p", schema=first).close()
    again = wb.Project.create(tmp_path / "p", schema=first, exist_ok=True)
    assert again.guideline_version == first.guideline_version
    again.close()
    assert repr(again) == f"Project({str(tmp_path / 'p')!r}, closed)"
    other = wb.Schema.single("spam", ["ham", "spam"], guidelines="v2 rules: links are spam")
    with pytest.raises(wb.SchemaError, match=r"has guideline version .* not .*update_schema\(schema\) to record"):
        wb.Project.create(tmp_path / "p", schema=other, exist_ok=True)
    with wb.Project.open(tmp_path / "p") as p:  # unchanged, and not left open by the refusal
        assert p.guideline_version == first.guideline_version


def test_create_exist_ok_refuses_another_text_column(tmp_path: Path) -> None:
    schema = wb.Schema.single("spam", ["ham", "spam"])
    wb.Project.create(tmp_path / "p", schema=schema, text_column="body").close()
    with pytest.raises(wb.ProjectExistsError, match="reads its text from column 'body', not 'comment'"):
        wb.Project.create(tmp_path / "p", schema=schema, text_column="comment", exist_ok=True)
    again = wb.Project.create(tmp_path / "p", schema=schema, text_column="body", exist_ok=True)
    again.close()
