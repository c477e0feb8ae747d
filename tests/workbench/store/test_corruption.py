"""Damaged or foreign files in a project directory give clear errors, never SQLite tracebacks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import workbench as wb
from workbench.store import SQLiteStore
from workbench.store._sqlite import LAYOUT_VERSION


def test_garbage_database(project: wb.Project) -> None:
    path = project.path
    project.close()
    for suffix in ("-wal", "-shm"):
        (path / f"project.db{suffix}").unlink(missing_ok=True)
    (path / "project.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(wb.StoreCorruptedError, match="not a readable workbench database"):
        wb.Project.open(path)


def test_foreign_sqlite_database(project: wb.Project) -> None:
    path = project.path
    project.close()
    for suffix in ("", "-wal", "-shm"):
        (path / f"project.db{suffix}").unlink(missing_ok=True)
    con = sqlite3.connect(path / "project.db")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(wb.StoreCorruptedError, match="not a workbench project database"):
        wb.Project.open(path)


def test_missing_database(project: wb.Project) -> None:
    path = project.path
    project.close()
    (path / "project.db").unlink()
    with pytest.raises(wb.StoreCorruptedError, match="lost its database"):
        wb.Project.open(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is damaged"),
        (b'{"format": "other"}', "not a workbench project marker"),
        (b"\xff\xfe", "damaged"),
    ],
)
def test_damaged_marker(project: wb.Project, content: bytes, message: str) -> None:
    project.close()
    (project.path / "workbench.json").write_bytes(content)
    with pytest.raises(wb.StoreCorruptedError, match=message):
        wb.Project.open(project.path)


def test_truncated_data_file(project: wb.Project) -> None:
    file = project.path / project.data_versions()["file"].iloc[0]
    file.write_bytes(file.read_bytes()[:50])
    project = wb.Project.open(project.path)  # a fresh session reads the files from disk
    with pytest.raises(wb.StoreCorruptedError, match="cannot be read.*restore it"):
        project.examples()


def test_missing_data_file(project: wb.Project) -> None:
    file = project.path / project.data_versions()["file"].iloc[0]
    file.unlink()
    project = wb.Project.open(project.path)  # a fresh session reads the files from disk
    with pytest.raises(wb.StoreCorruptedError, match="is missing"):
        project.examples()


def test_events_table_is_append_only_at_the_database_level(project: wb.Project) -> None:
    project.annotate("c-1", "spam", annotator="alice")
    con = sqlite3.connect(project.path / "project.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE events SET value = 'ham'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM events")
    con.close()
    assert project.labels()["value"].tolist() == ["spam"]


def test_store_is_wal_and_layout_versioned(project: wb.Project, tmp_path: Path) -> None:
    con = sqlite3.connect(project.path / "project.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == LAYOUT_VERSION
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(wb.WorkbenchError, match="newer workbench"):
        SQLiteStore(project.path / "project.db")


def test_store_rejects_bad_synchronous(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'synchronous' parameter"):
        SQLiteStore(tmp_path / "x.db", create=True, synchronous="OFF")
