"""Tampering and interruptions are noticed: data files, foreign files, stray version folders, closed projects."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import workbench as wb


@pytest.fixture
def project(tmp_path: Path) -> wb.Project:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a", "b", "c"], "text": ["one", "two", "three"]}), id_column="id")
    return p


def test_a_rewritten_data_file_is_refused_on_first_read(project: wb.Project) -> None:
    file = project.path / project.data_versions()["file"].iloc[0]
    df = pd.read_parquet(file)
    df.loc["b", "text"] = "TWO"  # valid Parquet, one text changed
    df.to_parquet(file)
    project.close()
    fresh = wb.Project.open(project.path)
    with pytest.raises(wb.IntegrityError, match="no longer match their recorded hashes, e.g. .b."):
        fresh.examples()
    with pytest.raises(wb.IntegrityError):
        fresh.verify()


def test_verify_lists_files_it_does_not_know(project: wb.Project) -> None:
    (project.path / "notes.txt").write_text("mine")
    (project.path / "data" / "stray.parquet").write_bytes(b"x")
    report = project.verify()
    assert set(report["unknown_files"]) >= {"notes.txt", "data/stray.parquet"}
    assert report["examples_checked"] == 3 and report["events"] == 0


def test_a_stray_version_folder_does_not_shift_numbering(project: wb.Project) -> None:
    project.annotate("a", "spam", annotator="ann")
    (project.path / "labels" / "v7").mkdir(parents=True)
    v = project.versions.save(project.models.soft_labels(), author="t")
    assert v.name == "v1"
    assert "v7" in project.verify()["unknown_files"]


def test_a_closed_project_says_so(project: wb.Project) -> None:
    project.close()
    with pytest.raises(wb.ProjectClosedError, match="closed"):
        project.annotate("a", "spam", annotator="ann")


def test_reusing_an_idempotency_key_with_another_value_is_an_error(project: wb.Project) -> None:
    first = project.annotate("a", "spam", annotator="ann", event_uid="k1")
    again = project.annotate("a", "spam", annotator="ann", event_uid="k1")  # a retry: stored once
    assert [e.event_id for e in again] == [e.event_id for e in first]
    with pytest.raises(wb.IdempotencyError, match="k1"):
        project.annotate("a", "ham", annotator="ann", event_uid="k1")
    assert len(project.events()) == 1
