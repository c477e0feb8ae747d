"""Store self-checks: the events' hash chain, SQLite's integrity check, duplicate ids, idempotency keys,
closed stores and the migration of layout-1 databases. Tested on :class:`SQLiteStore` directly."""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from workbench.exceptions import (
    IdempotencyError,
    IntegrityError,
    LabelValidationError,
    ProjectClosedError,
    StoreIntegrityError,
)
from workbench.store import CHAIN_ALGORITHM, DataVersion, LabelEvent, SQLiteStore, StoreReport, _chain
from workbench.store._sqlite import APPLICATION_ID, LAYOUT_META_KEY, LAYOUT_VERSION


def _event(k: int, *, uid: str | None = None, value: str = "spam", annotator: str = "ann", **kw: Any) -> LabelEvent:
    return LabelEvent(
        example_id=f"c-{k % 7}", question="spam", value=value, source="human", annotator=annotator,
        schema_version="s1", guideline_version="g1", data_version="d1", event_uid=uid or f"u-{annotator}-{k}",
        **kw,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "project.db", create=True)
    yield s
    s.close()


def _fill(store: SQLiteStore, n: int = 30, seed: int = 0) -> None:
    rng = random.Random(seed)
    for start in range(0, n, 5):
        store.append_events(
            _event(k, value=rng.choice(["ham", "spam"]), confidence=rng.choice([None, 0.5, 1.0, 1 / 3]),
                   time_spent=rng.choice([None, 2.5]), note=rng.choice([None, "ünïcode note"]),
                   is_honeypot=rng.random() < 0.2)
            for k in range(start, min(start + 5, n))
        )


def _raw(store: SQLiteStore) -> sqlite3.Connection:
    """A plain sqlite3 connection, as someone editing the file by hand would use."""
    return sqlite3.connect(store.path, isolation_level=None)


# ---------------------------------------------------------------------------------------- the chain
def test_a_fresh_chain_verifies_and_reports_its_head(store: SQLiteStore) -> None:
    assert store.verify() == StoreReport(ok=True, layout=LAYOUT_VERSION)
    _fill(store)
    report = store.verify()
    assert report.ok and report.problems == () and report.sqlite_check == ("ok",)
    assert report.n_events == 30 and report.chain_head == store.chain_head()
    assert report.chain_head is not None and report.chain_head[0] == 30
    assert json.loads(json.dumps(report.to_dict()))["chain_head"] == list(report.chain_head)
    assert store.get_meta(LAYOUT_META_KEY)["event_chain"] == CHAIN_ALGORITHM


def test_the_documented_stdlib_check_reproduces_every_hash(store: SQLiteStore) -> None:
    _fill(store, seed=3)
    doc = _chain.__doc__ or ""
    code = textwrap.dedent(doc[doc.index("    import hashlib, json, sqlite3") :])
    exec(compile(code.replace('"project.db"', repr(str(store.path))), "chain-docstring", "exec"), {})


def _rewrite(store: SQLiteStore, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Drop the append-only triggers, run ``sql``, restore them (what a determined editor does)."""
    con = _raw(store)
    triggers = con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    con.execute("DROP TRIGGER events_no_update")
    con.execute("DROP TRIGGER events_no_delete")
    con.execute(sql, params)
    for (text,) in triggers:
        con.execute(text)
    con.close()


@pytest.mark.parametrize(
    "assignment",
    ["value = CASE value WHEN 'ham' THEN 'spam' ELSE 'ham' END", "annotator = 'mallory'", "confidence = 0.25",
     "created_at = '2020-01-01T00:00:00+00:00'", "is_honeypot = 1 - is_honeypot", "supersedes = 3",
     "note = 'edited'"],
)
def test_an_event_rewritten_in_place_fails_verification(store: SQLiteStore, assignment: str) -> None:
    _fill(store)
    _rewrite(store, f"UPDATE events SET {assignment} WHERE event_id = 12")
    with pytest.raises(StoreIntegrityError, match=r"1 label event\(s\) no longer match their recorded hash \(event ids "
                       r"12\).*Restore the database from a backup") as info:
        store.verify()
    assert isinstance(info.value, IntegrityError)
    assert info.value.report.broken_events == (12,)
    assert store.verify(raise_on_error=False).ok is False


def test_a_removed_event_fails_verification(store: SQLiteStore) -> None:
    _fill(store)
    _rewrite(store, "DELETE FROM events WHERE event_id = 9")
    report = store.verify(raise_on_error=False)
    assert not report.ok and report.broken_events == (10,) and report.missing_event_ids == (9,)
    assert any("hash chain is broken before event(s) 10" in p for p in report.problems)


def test_events_removed_from_the_end_fail_verification(store: SQLiteStore) -> None:
    _fill(store)
    _rewrite(store, "DELETE FROM events WHERE event_id > 27")
    report = store.verify(raise_on_error=False)
    assert not report.ok and report.missing_event_ids == (28, 29, 30) and report.broken_events == ()
    # appending afterwards neither hides the gap nor reuses the ids
    assert store.append_events([_event(100)]) == [31]
    assert store.verify(raise_on_error=False).missing_event_ids == (28, 29, 30)


def test_a_rewritten_tail_is_caught_by_a_recorded_head(store: SQLiteStore) -> None:
    _fill(store)
    anchor = store.chain_head()
    assert anchor is not None
    # a forger who recomputes the hash of the event they changed (the last one) fools the chain alone ...
    con = _raw(store)
    cols = ", ".join(_chain.CHAIN_FIELDS)
    row = dict(zip(_chain.CHAIN_FIELDS, con.execute(f"SELECT {cols} FROM events WHERE event_id = 30").fetchone(),
                   strict=True))
    prev = con.execute("SELECT prev_hash FROM events WHERE event_id = 30").fetchone()[0]
    con.close()
    forged = _chain.event_hash({**row, "value": "ham" if row["value"] == "spam" else "spam"}, prev)
    _rewrite(store, "UPDATE events SET value = CASE value WHEN 'spam' THEN 'ham' ELSE 'spam' END, event_hash = ? "
             "WHERE event_id = 30", (forged,))
    assert store.verify().ok
    # ... but not an anchor kept elsewhere
    with pytest.raises(IntegrityError, match=r"recorded chain head \(event 30.*does not match"):
        store.verify(expected_head=anchor)


def test_an_event_inserted_behind_the_stores_back_fails_verification(store: SQLiteStore) -> None:
    _fill(store, n=5)
    con = _raw(store)
    con.execute(
        "INSERT INTO events (event_uid, example_id, question, value, action, source, annotator, created_at, "
        "schema_version, guideline_version) VALUES ('forged', 'c-1', 'spam', 'ham', 'label', 'human', 'x', "
        "'2024-01-01', 's1', 'g1')"
    )
    con.close()
    report = store.verify(raise_on_error=False)
    assert report.broken_events == (6,) and not report.ok


def test_random_single_edits_are_always_detected(tmp_path: Path) -> None:
    rng = random.Random(7)
    for trial in range(6):
        store = SQLiteStore(tmp_path / f"p{trial}.db", create=True)
        _fill(store, n=20, seed=trial)
        eid = rng.randint(1, 20)
        column, value = rng.choice([("value", "maybe"), ("example_id", "c-99"), ("time_spent", 99.0),
                                    ("event_uid", "other"), ("guideline_version", "g2"), ("prev_hash", "0" * 64)])
        _rewrite(store, f"UPDATE events SET {column} = ? WHERE event_id = ?", (value, eid))
        report = store.verify(raise_on_error=False)
        assert not report.ok and eid in report.broken_events, (trial, column, eid)
        store.close()


def _flip_byte_in_closed_db(path: Path, marker: bytes) -> int:
    """Flip the last byte of the first occurrence of ``marker``; returns how often it occurs."""
    data = bytearray(path.read_bytes())
    at = data.find(marker)
    assert at > 0
    data[at + len(marker) - 1] ^= 0x01
    path.write_bytes(bytes(data))
    return bytes(data).count(marker) + 1


def test_a_byte_flipped_in_an_events_data_page_is_caught_by_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "project.db"
    store = SQLiteStore(path, create=True)
    _fill(store, n=40)
    store.append_events([_event(42, note="NOTE-MARKER-0042")])
    store.append_events([_event(k, annotator="bob") for k in range(10)])
    store.close()  # the last connection checkpoints the WAL into project.db
    assert not Path(f"{path}-wal").exists()
    assert _flip_byte_in_closed_db(path, b"NOTE-MARKER-0042") == 1  # the note is in the table's page only
    reopened = SQLiteStore(path)
    report = reopened.verify(raise_on_error=False)
    assert not report.ok and report.broken_events == (41,)
    with pytest.raises(StoreIntegrityError, match="no longer match their recorded hash"):
        reopened.verify()
    reopened.close()


def test_a_byte_flipped_in_an_indexed_value_is_caught_by_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "project.db"
    store = SQLiteStore(path, create=True)
    _fill(store, n=40)
    store.append_events([_event(42, uid="UID-MARKER-17")])
    store.close()
    assert _flip_byte_in_closed_db(path, b"UID-MARKER-17") == 2  # in the events page and in the uid index
    reopened = SQLiteStore(path)
    report = reopened.verify(raise_on_error=False)
    assert not report.ok and report.sqlite_check != ("ok",)
    assert any("SQLite's integrity check" in p and "restore it from a backup" in p for p in report.problems)
    reopened.close()


# ------------------------------------------------------------------------------------ duplicate ids
def test_an_example_id_in_two_data_files_is_reported(tmp_path: Path, store: SQLiteStore) -> None:
    """What concurrent ingests of overlapping batches used to leave behind."""
    (tmp_path / "data").mkdir()

    def add(version_file: str, stored_ids: list[str], file_ids: list[str]) -> None:
        frame = pd.DataFrame({"text": [f"t-{i}" for i in file_ids]}, index=pd.Index(file_ids, name="id"))
        frame.to_parquet(tmp_path / version_file, index=True)
        record = DataVersion("", "h" * 64, len(stored_ids), 0, ("text",), "2024-01-01", "DataFrame", "", version_file)
        store.add_data_version(record, stored_ids, [f"hash-{i}" for i in stored_ids])

    add("data/a.parquet", ["a", "b"], ["a", "b"])
    assert store.verify(project_dir=tmp_path).data_files_checked == 1
    add("data/b.parquet", ["c"], ["b", "c"])  # "b" was already stored by the first batch
    report = store.verify(project_dir=tmp_path, raise_on_error=False)
    assert not report.ok and report.duplicate_example_ids == ("b",) and report.data_files_checked == 2
    assert any("1 example id(s) are stored twice ('b')" in p for p in report.problems)
    assert store.verify().ok  # without the files, the database alone is sound
    (tmp_path / "data/a.parquet").unlink()
    report = store.verify(project_dir=tmp_path, raise_on_error=False)
    assert any("data/a.parquet" in p and "missing" in p for p in report.problems)


# ------------------------------------------------------------------------------------ idempotency
def test_a_retry_with_the_same_uid_and_content_is_a_no_op(store: SQLiteStore) -> None:
    first = store.write_events([_event(1, uid="k1", confidence=1, created_at="2024-01-01T00:00:00+00:00")])
    retry = store.write_events([_event(1, uid="k1", confidence=1.0, created_at="2024-02-02T00:00:00+00:00")])
    assert retry == first  # the stored event, with its original time
    assert retry[0].created_at == "2024-01-01T00:00:00+00:00" and retry[0].confidence == 1.0
    assert store.append_events([_event(1, uid="k1", confidence=1)]) == [1]
    assert store.n_events() == 1 and store.verify().ok


@pytest.mark.parametrize(
    ("change", "field"),
    [({"value": "ham"}, "value"), ({"annotator": "bob"}, "annotator"), ({"confidence": 0.5}, "confidence"),
     ({"action": "retract", "value": None}, "action"), ({"note": "x"}, "note")],
)
def test_a_reused_uid_with_other_content_is_an_error(
    store: SQLiteStore, change: dict[str, Any], field: str
) -> None:
    store.append_events([_event(1, uid="k1")])
    expected = (rf"event_uid 'k1' is already stored \(event 1\) with different content \(.*{field}: stored "
                r".*a retry must send exactly the same label.*new event_uid")
    with pytest.raises(IdempotencyError, match=expected) as info:
        store.append_events([_event(2, uid="fresh"), _event(1, uid="k1", **change)])
    assert isinstance(info.value, LabelValidationError)
    assert info.value.event_uid == "k1" and field in info.value.differences
    assert store.n_events() == 1  # nothing of the batch was written
    assert store.verify().ok


def test_a_uid_repeated_inside_one_batch_with_other_content_is_an_error(store: SQLiteStore) -> None:
    with pytest.raises(IdempotencyError, match="'dup'"):
        store.append_events([_event(1, uid="dup"), _event(1, uid="dup", value="ham")])
    assert store.n_events() == 0
    assert store.append_events([_event(1, uid="dup"), _event(1, uid="dup")]) == [1, 1]


def test_write_events_returns_what_was_stored(store: SQLiteStore) -> None:
    a, b = store.write_events([_event(1), _event(8, time_spent=3)])  # same example c-1: b supersedes a
    assert (a.event_id, a.supersedes, b.event_id, b.supersedes, b.time_spent) == (1, None, 2, 1, 3.0)
    stored = store.events()
    assert stored["event_id"].tolist() == [1, 2] and stored["superseded_by"].tolist()[0] == 2


# ------------------------------------------------------------------------------------ closed store
@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get_meta("x"),
        lambda s: s.set_meta("x", 1),
        lambda s: s.append_events([_event(1)]),
        lambda s: s.events(),
        lambda s: s.n_events(),
        lambda s: s.put_record("k", "a", {}),
        lambda s: s.claim_next_record("k", "v", {}),
        lambda s: s.verify(),
        lambda s: s.chain_head(),
    ],
)
def test_a_closed_store_says_so(tmp_path: Path, call: Any) -> None:
    store = SQLiteStore(tmp_path / "project.db", create=True)
    store.close()
    store.close()  # twice is harmless
    assert store.closed
    with pytest.raises(ProjectClosedError, match=r"was closed.*Open the project again"):
        call(store)


# ------------------------------------------------------------------------------------ records
def test_claim_next_record_numbers_from_the_database_only(store: SQLiteStore) -> None:
    assert store.claim_next_record("label_version", "v", {"a": 1}) == (1, "v1")
    store.put_record("label_version", "v7", {"legacy": True})
    store.put_record("label_version", "vX", {"not": "numbered"})
    assert store.claim_next_record("label_version", "v", {}) == (8, "v8")
    assert store.claim_next_record("other", "v", {}) == (1, "v1")
    assert store.put_record("label_version", "v8", {"b": 2}, expected={"wrong": 1}) is False
    assert store.put_record("label_version", "v8", {"b": 2}, expected={}) is True
    assert store.delete_record("label_version", "v8", expected={}) is False
    assert store.delete_record("label_version", "v8", expected={"b": 2}) is True
    assert store.claim_next_record("label_version", "v", {}) == (8, "v8")


# ------------------------------------------------------------------------------------ migration
#: The layout-1 tables, frozen as they were shipped (before the hash chain).
_LAYOUT_1_EVENTS = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE examples (example_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, data_version TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE data_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT UNIQUE NOT NULL,
    content_hash TEXT NOT NULL, n_rows INTEGER NOT NULL, n_existing INTEGER NOT NULL,
    columns TEXT NOT NULL, created_at TEXT NOT NULL, source TEXT NOT NULL,
    message TEXT NOT NULL, file TEXT NOT NULL);
CREATE TABLE events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_uid TEXT UNIQUE NOT NULL,
    example_id TEXT NOT NULL, question TEXT NOT NULL, value TEXT, action TEXT NOT NULL,
    source TEXT NOT NULL, annotator TEXT NOT NULL, confidence REAL, created_at TEXT NOT NULL,
    time_spent REAL, schema_version TEXT NOT NULL, guideline_version TEXT NOT NULL,
    data_version TEXT, is_honeypot INTEGER NOT NULL DEFAULT 0,
    supersedes INTEGER REFERENCES events(event_id), note TEXT);
CREATE INDEX events_by_key ON events (example_id, question, source, annotator, event_id);
CREATE INDEX events_by_supersedes ON events (supersedes);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'label events are append-only: write a superseding event'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'label events are append-only: write a superseding event'); END;
CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT NOT NULL,
    value TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (kind, key));
"""


def _layout_1_db(path: Path, n: int) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.executescript(_LAYOUT_1_EVENTS)
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute("PRAGMA user_version = 1")
    for k in range(n):
        con.execute(
            "INSERT INTO events (event_uid, example_id, question, value, action, source, annotator, confidence, "
            "created_at, schema_version, guideline_version, data_version, supersedes) "
            "VALUES (?, ?, 'spam', ?, 'label', 'human', 'ann', ?, '2024-01-01T00:00:00+00:00', 's1', 'g1', 'd1', ?)",
            (f"old-{k}", f"c-{k % 3}", "spam" if k % 2 else "ham", 1 if k % 4 == 0 else 0.75,
             k - 2 if k >= 3 else None),
        )
    con.close()


def test_a_layout_1_database_is_migrated_once_and_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "project.db"
    _layout_1_db(path, 12)
    store = SQLiteStore(path)
    info = store.get_meta(LAYOUT_META_KEY)
    assert info["layout"] == LAYOUT_VERSION and info["created_layout"] == 1
    steps = info["migrations"]
    assert [(m["from"], m["to"]) for m in steps] == [(1, 2), (2, 3)]  # the chain, then the leases' task
    assert steps[0]["backfilled_events"] == 12 and steps[1]["kept_leases"] == 0
    report = store.verify()
    assert report.ok and report.n_events == 12 and report.layout == LAYOUT_VERSION
    assert store.events()["event_uid"].tolist()[:2] == ["old-0", "old-1"]
    store.append_events([_event(1, uid="new-1")])
    assert store.verify().n_events == 13
    store.close()
    again = SQLiteStore(path)  # a second open migrates nothing
    assert len(again.get_meta(LAYOUT_META_KEY)["migrations"]) == 2
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == LAYOUT_VERSION
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):  # the trigger is back
        con.execute("UPDATE events SET value = 'x'")
    con.close()
    again.close()


def _open_old(path: str, q: Any) -> None:
    store = SQLiteStore(path)
    q.put(len(store.get_meta(LAYOUT_META_KEY)["migrations"]))
    store.close()


@pytest.mark.slow
def test_processes_opening_an_old_database_together_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "project.db"
    _layout_1_db(path, 200)
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_open_old, args=(str(path), q)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert [q.get() for _ in procs] == [2, 2, 2]  # layout 1 -> 2 -> 3, once
    store = SQLiteStore(path)
    assert store.verify().n_events == 200
    store.close()


# ------------------------------------------------------------------------------------ concurrency
def _append_many(path: str, who: str, n: int) -> None:
    store = SQLiteStore(path)
    for k in range(n):
        store.append_events([_event(k, annotator=who), _event(k + 1, annotator=who, uid=f"{who}-pair-{k}")])
    store.close()


@pytest.mark.slow
def test_concurrent_writers_extend_one_unbroken_chain(tmp_path: Path) -> None:
    path = tmp_path / "project.db"
    SQLiteStore(path, create=True).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), f"w{i}", 40)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = SQLiteStore(path)
    report = store.verify()
    assert report.n_events == 4 * 40 * 2 and report.chain_head is not None and report.chain_head[0] == 320
    store.close()
