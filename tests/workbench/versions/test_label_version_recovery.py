"""Version numbers from the database, foreign entries under labels/, and crash-safe saves with recover().

Tested on :class:`LabelVersionStore` over a bare :class:`SQLiteStore` (no Project needed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from workbench.exceptions import DataError
from workbench.store import SQLiteStore
from workbench.versions import LabelVersionStore
from workbench.versions._store import _HOST, RECORD_KIND

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[tuple[LabelVersionStore, SQLiteStore]]:
    store = SQLiteStore(tmp_path / "project.db", create=True)
    yield LabelVersionStore(tmp_path / "labels", store), store
    store.close()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def _as_interrupted(store: SQLiteStore, name: str, *, pid: int, tmp: str | None = None) -> dict[str, Any]:
    """Turn a finished version's record back into the pending claim a killed save leaves."""
    rec = store.get_records(RECORD_KIND)[name]
    token = uuid.uuid4().hex
    claim = {k: v for k, v in rec.items() if k not in ("name", "path", "manifest_sha256", "status")}
    claim.update({"status": "pending", "token": token, "tmp": tmp or f".tmp-{_HOST}-{pid}-{token}",
                  "host": _HOST, "pid": pid})
    store.put_record(RECORD_KIND, name, claim, replace=True)
    return claim


# ------------------------------------------------------------------------ numbers and foreign entries
def test_a_stray_folder_does_not_move_the_numbering(
    bare: tuple[LabelVersionStore, SQLiteStore], make_soft: Callable[..., pd.DataFrame]
) -> None:
    versions, _ = bare
    versions.save(make_soft(seed=0), author="ann")
    stray = versions.root / "v7"
    stray.mkdir()
    (stray / "mine.txt").write_text("someone's notes")
    (versions.root / "README.txt").write_text("foreign file")
    names = [versions.save(make_soft(seed=k), author="ann").name for k in range(1, 8)]
    assert names == ["v2", "v3", "v4", "v5", "v6", "v8", "v9"]  # v7 is taken by the stray folder: passed over
    assert (stray / "mine.txt").read_text() == "someone's notes"
    report = versions.check()
    assert report["ok"] and report["unknown"] == ["README.txt", "v7"] and report["skipped"] == ["v7"]
    assert report["versions"]["ok"].all() and "v7" not in versions


def test_a_deleted_claim_frees_its_number_but_a_folder_name_never_does(
    bare: tuple[LabelVersionStore, SQLiteStore], soft: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions, _ = bare

    def full_disk(src: object, dst: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as m:  # a failure the saving process sees is rolled back at once
        m.setattr("workbench.versions._store.os.rename", full_disk)
        with pytest.raises(OSError, match="disk full"):
            versions.save(soft, author="ann")
    assert versions.names() == [] and list(versions.root.iterdir()) == []
    assert versions.save(soft, author="ann").name == "v1"


# ------------------------------------------------------------------------ crash states, built directly
def test_killed_after_the_rename_rolls_forward(
    bare: tuple[LabelVersionStore, SQLiteStore], make_soft: Callable[..., pd.DataFrame]
) -> None:
    versions, store = bare
    versions.save(make_soft(seed=1), author="ann")
    v2 = versions.save(make_soft(seed=2), author="ann")
    _as_interrupted(store, "v2", pid=_dead_pid())
    assert versions.names() == ["v1"]  # a pending claim is no version yet ...
    assert versions.check()["interrupted"] == ["v2"] and not versions.check()["ok"]
    assert versions.verify_all()["ok"].all()  # ... and never a phantom that fails verification
    assert versions.recover() == {"rolled_forward": ["v2"], "rolled_back": [], "removed": [], "in_progress": []}
    assert versions.names() == ["v1", "v2"] and versions.verify("v2")["content_hash"] == v2.content_hash
    assert versions.check()["ok"] and versions.check()["unknown"] == []
    assert versions.save(make_soft(seed=3), author="ann").name == "v3"


def test_killed_before_the_rename_with_a_complete_folder_rolls_forward(
    bare: tuple[LabelVersionStore, SQLiteStore], soft: pd.DataFrame
) -> None:
    versions, store = bare
    v1 = versions.save(soft, author="ann")
    pid = _dead_pid()
    claim = _as_interrupted(store, "v1", pid=pid)
    os.rename(v1.path, versions.root / claim["tmp"])
    assert versions.recover()["rolled_forward"] == ["v1"]
    assert sorted(p.name for p in versions.root.iterdir()) == ["v1"]
    df, manifest = versions.load("v1")
    assert manifest["name"] == "v1" and len(df) == len(soft)


def test_killed_with_a_partial_folder_rolls_back_and_the_number_is_reused(
    bare: tuple[LabelVersionStore, SQLiteStore], soft: pd.DataFrame
) -> None:
    versions, store = bare
    v1 = versions.save(soft, author="ann")
    claim = _as_interrupted(store, "v1", pid=_dead_pid())
    tmp = versions.root / claim["tmp"]
    os.rename(v1.path, tmp)
    (tmp / "manifest.json").chmod(0o644)
    (tmp / "manifest.json").unlink()  # killed before the manifest was written
    assert versions.recover()["rolled_back"] == ["v1"]
    assert list(versions.root.iterdir()) == [] and store.get_records(RECORD_KIND) == {}
    assert versions.save(soft, author="ann").name == "v1"
    assert versions.check()["ok"]


def test_a_folder_that_does_not_match_its_claim_is_never_adopted(
    bare: tuple[LabelVersionStore, SQLiteStore], soft: pd.DataFrame
) -> None:
    versions, store = bare
    versions.save(soft, author="ann")
    claim = _as_interrupted(store, "v1", pid=_dead_pid())
    store.put_record(RECORD_KIND, "v1", {**claim, "content_hash": "0" * 64}, replace=True)  # claimed other content
    assert versions.recover()["rolled_back"] == ["v1"]
    assert versions.names() == [] and versions.check()["unknown"] == ["v1"]
    assert (versions.root / "v1" / "labels.parquet").exists()  # left exactly as it was


def test_a_save_still_running_is_left_alone(
    bare: tuple[LabelVersionStore, SQLiteStore], soft: pd.DataFrame
) -> None:
    versions, store = bare
    versions.save(soft, author="ann")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _as_interrupted(store, "v1", pid=sleeper.pid)
        report = versions.recover()
        assert report["in_progress"] == ["v1"] and report["rolled_forward"] == []
        assert versions.check()["in_progress"] == ["v1"] and versions.check()["ok"]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert versions.recover()["rolled_forward"] == ["v1"]


def test_orphaned_temporaries_are_removed(
    bare: tuple[LabelVersionStore, SQLiteStore], soft: pd.DataFrame, tmp_path: Path
) -> None:
    versions, _ = bare
    versions.save(soft, author="ann")
    data = tmp_path / "data"
    data.mkdir()
    (data / "abc.parquet").write_bytes(b"kept")
    fresh_ingest = data / "abc.1234.tmp"  # perhaps another kernel's ingest, still writing
    fresh_ingest.write_bytes(b"partial")
    old_ingest = data / "def.5678.tmp"
    old_ingest.write_bytes(b"partial")
    dead = versions.root / f".tmp-{_HOST}-{_dead_pid()}-{uuid.uuid4().hex}"  # its process is gone
    dead.mkdir()
    (dead / "labels.parquet").write_bytes(b"partial")
    stray_tmp = versions.root / "notes.tmp"
    stray_tmp.write_text("x")
    two_hours_ago = time.time() - 7200
    for p in (old_ingest, stray_tmp):
        os.utime(p, (two_hours_ago, two_hours_ago))
    report = versions.recover(data_dir=data)
    assert sorted(Path(p).name for p in report["removed"]) == sorted([dead.name, "notes.tmp", "def.5678.tmp"])
    assert fresh_ingest.exists() and (data / "abc.parquet").exists()
    assert versions.recover(data_dir=data, grace_seconds=0)["removed"] == [str(fresh_ingest)]
    assert sorted(p.name for p in versions.root.iterdir()) == ["v1"]
    with pytest.raises(DataError, match="'grace_seconds' parameter of recover must be"):
        versions.recover(grace_seconds=-1)


# ------------------------------------------------------------------------ real kills at each crash point
_KILLED_SAVE = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, sys.argv[3])
    from conftest import _make_soft
    from workbench.store import SQLiteStore
    from workbench.versions import LabelVersionStore
    import workbench.versions._store as vs

    root, point = sys.argv[1], sys.argv[2]
    store = SQLiteStore(os.path.join(root, "project.db"))
    versions = LabelVersionStore(os.path.join(root, "labels"), store)
    versions.save(_make_soft(seed=1), author="ann")

    def die(*args, **kwargs):
        os._exit(9)  # no clean-up runs: as a kill -9

    if point == "before-claim":
        store.claim_next_record = die
    elif point == "before-manifest":
        real = vs.dump_manifest
        vs.dump_manifest = die
    elif point == "before-rename":
        vs.os.rename = die
    elif point == "before-complete":
        real_put = store.put_record
        store.put_record = lambda kind, key, value, **kw: die() if value.get("status") == "complete" else real_put(
            kind, key, value, **kw)
    versions.save(_make_soft(seed=2), author="ann")
    """
)


@pytest.mark.slow
def test_a_save_killed_at_any_point_is_recovered(tmp_path: Path, make_soft: Callable[..., pd.DataFrame]) -> None:
    points = {"before-claim": "v2", "before-manifest": "v2", "before-rename": "v3", "before-complete": "v3"}
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = {}
    for point in points:
        root = tmp_path / point
        root.mkdir()
        SQLiteStore(root / "project.db", create=True).close()
        procs[point] = subprocess.Popen(
            [sys.executable, "-c", _KILLED_SAVE, str(root), point, str(Path(__file__).parent)], env=env,
            stderr=subprocess.PIPE, text=True,
        )
    for point, proc in procs.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 9, (point, err)
    for point, next_name in points.items():
        root = tmp_path / point
        store = SQLiteStore(root / "project.db")
        versions = LabelVersionStore(root / "labels", store)
        report = versions.recover()
        forward = next_name == "v3"
        assert report["rolled_forward"] == (["v2"] if forward else []), point
        assert len(report["removed"]) + len(report["rolled_back"]) == (0 if forward else 1), (point, report)
        check = versions.check()
        assert check["ok"] and check["unknown"] == [] and check["interrupted"] == [], point
        assert versions.save(make_soft(seed=3), author="ann").name == next_name, point
        store.close()
