"""The SQLite implementation of :class:`~workbench.store.EventStore` (WAL mode)."""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.exceptions import ConflictingContentError, StoreCorruptedError, StoreError
from workbench.store._base import EVENT_COLUMNS, EventStore
from workbench.store._records import DataVersion, LabelEvent, TrainingRun, utc_now

__all__ = ["SQLiteStore", "APPLICATION_ID", "LAYOUT_VERSION"]

#: Written into the SQLite header so a foreign database is recognised as such ("WBNC").
APPLICATION_ID = 0x57424E43
#: Version of the table layout below; bumped with a migration when it changes.
LAYOUT_VERSION = 1

_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schema_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT UNIQUE NOT NULL,
    created_at TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS guideline_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT UNIQUE NOT NULL,
    created_at TEXT NOT NULL, text TEXT);
CREATE TABLE IF NOT EXISTS data_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT UNIQUE NOT NULL,
    content_hash TEXT NOT NULL, n_rows INTEGER NOT NULL, n_existing INTEGER NOT NULL,
    columns TEXT NOT NULL, created_at TEXT NOT NULL, source TEXT NOT NULL,
    message TEXT NOT NULL, file TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS examples (
    example_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, data_version TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_uid TEXT UNIQUE NOT NULL,
    example_id TEXT NOT NULL, question TEXT NOT NULL, value TEXT, action TEXT NOT NULL,
    source TEXT NOT NULL, annotator TEXT NOT NULL, confidence REAL, created_at TEXT NOT NULL,
    time_spent REAL, schema_version TEXT NOT NULL, guideline_version TEXT NOT NULL,
    data_version TEXT, is_honeypot INTEGER NOT NULL DEFAULT 0,
    supersedes INTEGER REFERENCES events(event_id), note TEXT);
CREATE INDEX IF NOT EXISTS events_by_key ON events (example_id, question, source, annotator, event_id);
CREATE INDEX IF NOT EXISTS events_by_supersedes ON events (supersedes);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'label events are append-only: write a superseding event'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'label events are append-only: write a superseding event'); END;
CREATE TABLE IF NOT EXISTS training_runs (
    run_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL,
    label_version TEXT, params TEXT NOT NULL, n_events INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS training_run_events (
    run_id TEXT NOT NULL REFERENCES training_runs(run_id), event_id INTEGER NOT NULL,
    PRIMARY KEY (run_id, event_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS training_run_events_by_event ON training_run_events (event_id);
CREATE TABLE IF NOT EXISTS leases (
    example_id TEXT NOT NULL, annotator TEXT NOT NULL, expires_at REAL NOT NULL,
    is_honeypot INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
    PRIMARY KEY (example_id, annotator)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS skips (
    example_id TEXT NOT NULL, annotator TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (example_id, annotator)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_annotator ON events (annotator, example_id);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT NOT NULL,
    value TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (kind, key));
"""

_SELECT_EVENTS = """
SELECT e.event_id, e.event_uid, e.example_id, e.question, e.value, e.action, e.source,
       e.annotator, e.confidence, e.created_at, e.time_spent, e.schema_version,
       e.guideline_version, e.data_version, e.is_honeypot, e.supersedes,
       (SELECT s.event_id FROM events s WHERE s.supersedes = e.event_id) AS superseded_by, e.note
FROM events e
"""


class SQLiteStore(EventStore):
    """An :class:`EventStore` in one SQLite file, in WAL mode, safe across processes.

    Every write is one ``BEGIN IMMEDIATE`` transaction, so concurrent writers from several
    kernels are serialised by SQLite's lock and a process killed mid-write leaves only
    committed transactions behind.

    Parameters
    ----------
    path : path-like
        The database file.
    create : bool, default False
        Create the tables if the file is new. Opening a file that is not a workbench
        database raises :class:`~workbench.exceptions.StoreCorruptedError`.
    synchronous : {"FULL", "NORMAL"}, default "FULL"
        SQLite's durability level. ``NORMAL`` survives a killed process but may lose the
        last transactions on power loss.
    timeout : float, default 60
        Seconds a writer waits for another writer's lock before giving up.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = False,
        synchronous: str = "FULL",
        timeout: float = 60.0,
    ) -> None:
        self.path = Path(path)
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"The 'synchronous' parameter must be 'FULL' or 'NORMAL'. Got {synchronous!r}.")
        if not create and not self.path.is_file():
            raise StoreError(f"The project database {str(self.path)!r} is missing.")
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(
                str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._timeout = float(timeout)
            # A short busy wait inside SQLite; longer waits are retried by _retry with fair, short sleeps.
            self._conn.execute("PRAGMA busy_timeout = 2")
            app_id = self._retry("opening", lambda: self._conn.execute("PRAGMA application_id").fetchone()[0])
            n_tables = self._retry(
                "opening", lambda: self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            )
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise StoreCorruptedError(
                f"{str(self.path)!r} is not a readable workbench database ({exc}). The file is damaged or "
                f"is not a SQLite file; restore it from a backup, or open the right project directory."
            ) from None
        if app_id != APPLICATION_ID and (n_tables > 0 or not create):
            self._close_quietly()
            raise StoreCorruptedError(
                f"{str(self.path)!r} is a SQLite database, but not a workbench project database "
                f"(application id {app_id:#x}, expected {APPLICATION_ID:#x}). Open the right project "
                f"directory, or move this file away."
            )
        try:
            mode = self._retry("opening", lambda: self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            if str(mode).lower() != "wal":
                raise StoreError(f"SQLite refused WAL mode for {str(self.path)!r} (got {mode!r}).")
            self._conn.execute(f"PRAGMA synchronous = {synchronous}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            if app_id != APPLICATION_ID:
                self._retry("creating the tables", lambda: self._conn.executescript(
                    "BEGIN IMMEDIATE;" + _SCHEMA_SQL
                    + f"PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {LAYOUT_VERSION};"
                    + "COMMIT;"
                ))
            layout = self._conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise StoreCorruptedError(
                f"The project database {str(self.path)!r} cannot be used: {exc}. Restore it from a backup."
            ) from None
        if layout > LAYOUT_VERSION:
            self._close_quietly()
            raise StoreError(
                f"The project at {str(self.path.parent)!r} was written by a newer workbench (store layout "
                f"{layout}, this one reads up to {LAYOUT_VERSION}). Upgrade the package to open it."
            )

    # -- plumbing ---------------------------------------------------------------------------
    def _close_quietly(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken handle must not mask the real error
            self._conn.close()

    def _retry(self, op: str, func: Any) -> Any:
        """Run ``func`` until SQLite stops answering "locked"/"busy", with short random sleeps.

        SQLite's own busy handler sleeps in growing steps of up to 100 ms and is unfair to
        waiting writers; retrying every 0.5-4 ms keeps the tail latency of a team's concurrent
        writes close to the median.
        """
        deadline = time.monotonic() + self._timeout
        delay = 0.0005
        while True:
            try:
                return func()
            except sqlite3.OperationalError as exc:
                msg = str(exc).lower()
                if "locked" not in msg and "busy" not in msg:
                    raise
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"The project database stayed locked for {self._timeout:.0f} s while {op} ({exc}). Another "
                        f"process holds it too long; try again."
                    ) from None
                time.sleep(random.uniform(delay, 2 * delay))
                delay = min(delay * 1.5, 0.004)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction: BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        with self._lock:
            cur = self._conn.cursor()
            self._retry("starting a write", lambda: cur.execute("BEGIN IMMEDIATE"))
            try:
                yield cur
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._retry("committing", lambda: self._conn.execute("COMMIT"))
            finally:
                cur.close()

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._retry("reading", lambda: self._conn.execute(sql, params).fetchall())  # type: ignore[no-any-return]
            except sqlite3.DatabaseError as exc:
                raise StoreCorruptedError(
                    f"Reading the project database {str(self.path)!r} failed: {exc}."
                ) from None

    def close(self) -> None:
        with self._lock:
            self._close_quietly()

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, key: str) -> Any:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: Any) -> None:
        with self._write() as cur:
            cur.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    # -- schema and guideline versions ---------------------------------------------------------
    def add_schema_version(self, version: str, schema_json: dict[str, Any], created_at: str) -> bool:
        with self._write() as cur:
            cur.execute(
                "INSERT OR IGNORE INTO schema_versions (version, created_at, json) VALUES (?, ?, ?)",
                (version, created_at, json.dumps(schema_json, sort_keys=True)),
            )
            return cur.rowcount > 0

    def add_guideline_version(self, version: str, text: str | None, created_at: str) -> bool:
        with self._write() as cur:
            cur.execute(
                "INSERT OR IGNORE INTO guideline_versions (version, created_at, text) VALUES (?, ?, ?)",
                (version, created_at, text),
            )
            return cur.rowcount > 0

    def schema_versions(self) -> pd.DataFrame:
        rows = self._read("SELECT version, created_at, json FROM schema_versions ORDER BY seq")
        df = pd.DataFrame(rows, columns=["version", "created_at", "schema"])
        df["schema"] = [json.loads(s) for s in df["schema"]]
        return df

    def guideline_versions(self) -> pd.DataFrame:
        rows = self._read("SELECT version, created_at, text FROM guideline_versions ORDER BY seq")
        return pd.DataFrame(rows, columns=["version", "created_at", "text"])

    # -- data -------------------------------------------------------------------------------
    def stored_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        ids = list(ids)
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for eid, h in self._read(
                f"SELECT example_id, content_hash FROM examples WHERE example_id IN ({marks})", chunk
            ):
                out[eid] = h
        return out

    def add_data_version(
        self, record: DataVersion, ids: Sequence[str], hashes: Sequence[str]
    ) -> DataVersion:
        with self._write() as cur:
            # Re-check conflicts inside the lock: another process may have added rows meanwhile.
            existing: dict[str, str] = {}
            ids = list(ids)
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                marks = ",".join("?" * len(chunk))
                cur.execute(
                    f"SELECT example_id, content_hash FROM examples WHERE example_id IN ({marks})", chunk
                )
                existing.update(dict(cur.fetchall()))
            conflicts = [i for i, h in zip(ids, hashes, strict=True) if i in existing and existing[i] != h]
            if conflicts:
                raise ConflictingContentError.for_ids(conflicts)
            new = [(i, h) for i, h in zip(ids, hashes, strict=True) if i not in existing]
            n_existing = record.n_existing + len(ids) - len(new)
            seq = cur.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM data_versions").fetchone()[0]
            version = f"d{seq}"
            cur.execute(
                "INSERT INTO data_versions (seq, version, content_hash, n_rows, n_existing, columns, created_at,"
                " source, message, file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    version,
                    record.content_hash,
                    len(new),
                    n_existing,
                    json.dumps(list(record.columns)),
                    record.created_at,
                    record.source,
                    record.message,
                    record.file,
                ),
            )
            cur.executemany(
                "INSERT INTO examples (example_id, content_hash, data_version) VALUES (?, ?, ?)",
                [(i, h, version) for i, h in new],
            )
        return DataVersion(
            version=version,
            content_hash=record.content_hash,
            n_rows=len(new),
            n_existing=n_existing,
            columns=tuple(record.columns),
            created_at=record.created_at,
            source=record.source,
            message=record.message,
            file=record.file,
        )

    def data_versions(self) -> list[DataVersion]:
        rows = self._read(
            "SELECT version, content_hash, n_rows, n_existing, columns, created_at, source, message, file"
            " FROM data_versions ORDER BY seq"
        )
        return [
            DataVersion(v, h, n, x, tuple(json.loads(c)), t, s, m, f) for v, h, n, x, c, t, s, m, f in rows
        ]

    def example_data_versions(self, ids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        ids = list(ids)
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ",".join("?" * len(chunk))
            out.update(
                dict(
                    self._read(
                        f"SELECT example_id, data_version FROM examples WHERE example_id IN ({marks})", chunk
                    )
                )
            )
        return out

    def n_examples(self) -> int:
        return int(self._read("SELECT count(*) FROM examples")[0][0])

    # -- events ----------------------------------------------------------------------------
    def append_events(self, events: Iterable[LabelEvent]) -> list[int]:
        evs = list(events)
        ids: list[int] = []
        if not evs:
            return ids
        with self._write() as cur:
            for ev in evs:
                row = cur.execute("SELECT event_id FROM events WHERE event_uid = ?", (ev.event_uid,)).fetchone()
                if row is not None:  # a retried write: already stored
                    ids.append(int(row[0]))
                    continue
                prev = cur.execute(
                    "SELECT event_id FROM events WHERE example_id = ? AND question = ? AND source = ? "
                    "AND annotator = ? ORDER BY event_id DESC LIMIT 1",
                    (ev.example_id, ev.question, ev.source, ev.annotator),
                ).fetchone()
                cur.execute(
                    "INSERT INTO events (event_uid, example_id, question, value, action, source, annotator,"
                    " confidence, created_at, time_spent, schema_version, guideline_version, data_version,"
                    " is_honeypot, supersedes, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        ev.event_uid,
                        ev.example_id,
                        ev.question,
                        ev.value,
                        ev.action,
                        ev.source,
                        ev.annotator,
                        ev.confidence,
                        ev.created_at,
                        ev.time_spent,
                        ev.schema_version,
                        ev.guideline_version,
                        ev.data_version,
                        int(ev.is_honeypot),
                        None if prev is None else int(prev[0]),
                        ev.note,
                    ),
                )
                ids.append(int(cur.lastrowid or 0))
        return ids

    def events(
        self,
        *,
        example_id: str | None = None,
        question: str | None = None,
        source: str | None = None,
        annotator: str | None = None,
        current_only: bool = False,
        since_event_id: int | None = None,
    ) -> pd.DataFrame:
        where: list[str] = []
        params: list[Any] = []
        for col, val in (
            ("example_id", example_id),
            ("question", question),
            ("source", source),
            ("annotator", annotator),
        ):
            if val is not None:
                where.append(f"e.{col} = ?")
                params.append(val)
        if since_event_id is not None:
            where.append("e.event_id > ?")
            params.append(int(since_event_id))
        if current_only:
            where.append("NOT EXISTS (SELECT 1 FROM events s WHERE s.supersedes = e.event_id)")
        sql = _SELECT_EVENTS + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY e.event_id"
        rows = self._read(sql, params)
        df = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
        df["is_honeypot"] = df["is_honeypot"].astype(bool)
        for col in ("supersedes", "superseded_by"):
            df[col] = df[col].astype("Int64")
        df["confidence"] = df["confidence"].astype("float64")
        df["time_spent"] = df["time_spent"].astype("float64")
        return df

    def current_answers(self, example_id: str, source: str, annotator: str) -> dict[str, str]:
        rows = self._read(
            "SELECT question, value FROM events e WHERE example_id = ? AND source = ? AND annotator = ? "
            "AND action = 'label' AND NOT EXISTS (SELECT 1 FROM events s WHERE s.supersedes = e.event_id)",
            (example_id, source, annotator),
        )
        return {q: v for q, v in rows}

    def latest_label(self, example_id: str, question: str, source: str) -> tuple[str, float | None] | None:
        rows = self._read(
            "SELECT value, confidence FROM events e WHERE example_id = ? AND question = ? AND source = ? "
            "AND action = 'label' AND NOT EXISTS (SELECT 1 FROM events s WHERE s.supersedes = e.event_id) "
            "ORDER BY event_id DESC LIMIT 1",
            (example_id, question, source),
        )
        if not rows:
            return None
        value, conf = rows[0]
        return str(value), None if conf is None else float(conf)

    def n_events(self) -> int:
        return int(self._read("SELECT count(*) FROM events")[0][0])

    def last_event_id(self) -> int:
        return int(self._read("SELECT COALESCE(MAX(event_id), 0) FROM events")[0][0])

    # -- training runs -----------------------------------------------------------------------
    def add_training_run(self, run: TrainingRun, event_ids: Sequence[int]) -> TrainingRun:
        ids = sorted({int(i) for i in event_ids})
        with self._write() as cur:
            if ids:
                found = 0
                for start in range(0, len(ids), 900):
                    chunk = ids[start : start + 900]
                    marks = ",".join("?" * len(chunk))
                    found += cur.execute(
                        f"SELECT count(*) FROM events WHERE event_id IN ({marks})", chunk
                    ).fetchone()[0]
                if found != len(ids):
                    raise StoreError(
                        f"The training run {run.name!r} names {len(ids) - found} event id(s) that are not "
                        f"stored in this project. Pass event ids from project.labels() or history()."
                    )
            cur.execute(
                "INSERT INTO training_runs (run_id, name, created_at, label_version, params, n_events)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (run.run_id, run.name, run.created_at, run.label_version, json.dumps(run.params), len(ids)),
            )
            cur.executemany(
                "INSERT INTO training_run_events (run_id, event_id) VALUES (?, ?)", [(run.run_id, i) for i in ids]
            )
        return TrainingRun(run.run_id, run.name, run.created_at, run.label_version, run.params, len(ids))

    def training_runs(self) -> list[TrainingRun]:
        rows = self._read(
            "SELECT run_id, name, created_at, label_version, params, n_events FROM training_runs ORDER BY created_at"
        )
        return [TrainingRun(r, n, t, lv, json.loads(p), k) for r, n, t, lv, p, k in rows]

    def training_runs_of_events(self, event_ids: Sequence[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        ids = [int(i) for i in event_ids]
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for eid, run in self._read(
                f"SELECT event_id, run_id FROM training_run_events WHERE event_id IN ({marks}) ORDER BY run_id",
                chunk,
            ):
                out.setdefault(int(eid), []).append(run)
        return out

    # -- leases -----------------------------------------------------------------------------
    def claim(
        self,
        annotator: str,
        candidates: Sequence[str],
        *,
        n: int,
        overlap: int,
        lease_seconds: float,
        honeypot: bool = False,
    ) -> list[tuple[str, float]]:
        import time

        now = time.time()
        out: list[tuple[str, float]] = []
        with self._write() as cur:
            cur.execute("DELETE FROM leases WHERE expires_at <= ?", (now,))
            if not honeypot:
                mine = cur.execute(
                    "SELECT example_id, expires_at FROM leases WHERE annotator = ? AND is_honeypot = 0 "
                    "ORDER BY created_at",
                    (annotator,),
                ).fetchall()
                out.extend((str(e), float(x)) for e, x in mine[:n])
            taken = {e for e, _ in out}
            expires = now + lease_seconds
            for eid in candidates:
                if len(out) >= n:
                    break
                if eid in taken:
                    continue
                seen = cur.execute(
                    "SELECT 1 FROM events WHERE annotator = ? AND example_id = ? AND source = 'human' LIMIT 1",
                    (annotator, eid),
                ).fetchone() or cur.execute(
                    "SELECT 1 FROM skips WHERE annotator = ? AND example_id = ?", (annotator, eid)
                ).fetchone() or cur.execute(
                    "SELECT 1 FROM leases WHERE annotator = ? AND example_id = ?", (annotator, eid)
                ).fetchone()
                if seen:
                    continue
                if not honeypot:
                    done = cur.execute(
                        "SELECT count(DISTINCT annotator) FROM events WHERE example_id = ? AND source = 'human' "
                        "AND is_honeypot = 0 AND action = 'label'",
                        (eid,),
                    ).fetchone()[0]
                    leased = cur.execute("SELECT count(*) FROM leases WHERE example_id = ?", (eid,)).fetchone()[0]
                    if done + leased >= overlap:
                        continue
                cur.execute(
                    "INSERT INTO leases (example_id, annotator, expires_at, is_honeypot, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (eid, annotator, expires, int(honeypot), utc_now()),
                )
                out.append((eid, expires))
                taken.add(eid)
        return out

    def release(self, annotator: str, example_id: str, *, skipped: bool = False) -> None:
        with self._write() as cur:
            cur.execute("DELETE FROM leases WHERE annotator = ? AND example_id = ?", (annotator, example_id))
            if skipped:
                cur.execute(
                    "INSERT OR IGNORE INTO skips (example_id, annotator, created_at) VALUES (?, ?, ?)",
                    (example_id, annotator, utc_now()),
                )

    def leases(self, *, active_only: bool = True) -> pd.DataFrame:
        import time

        sql = "SELECT example_id, annotator, expires_at, is_honeypot FROM leases"
        params: tuple[Any, ...] = ()
        if active_only:
            sql += " WHERE expires_at > ?"
            params = (time.time(),)
        df = pd.DataFrame(self._read(sql + " ORDER BY created_at", params),
                          columns=["example_id", "annotator", "expires_at", "is_honeypot"])
        df["is_honeypot"] = df["is_honeypot"].astype(bool)
        return df

    def lease_of(self, annotator: str, example_id: str) -> dict[str, Any] | None:
        import time

        rows = self._read(
            "SELECT expires_at, is_honeypot FROM leases WHERE annotator = ? AND example_id = ? AND expires_at > ?",
            (annotator, example_id, time.time()),
        )
        if not rows:
            return None
        return {"example_id": example_id, "annotator": annotator, "expires_at": float(rows[0][0]),
                "is_honeypot": bool(rows[0][1])}

    # -- generic records -----------------------------------------------------------------------
    def put_record(self, kind: str, key: str, value: dict[str, Any], *, replace: bool = False) -> bool:
        with self._write() as cur:
            if replace:
                cur.execute(
                    "INSERT INTO records (kind, key, value, created_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(kind, key) DO UPDATE SET value = excluded.value",
                    (kind, key, json.dumps(value, sort_keys=True), utc_now()),
                )
                return True
            cur.execute(
                "INSERT OR IGNORE INTO records (kind, key, value, created_at) VALUES (?, ?, ?, ?)",
                (kind, key, json.dumps(value, sort_keys=True), utc_now()),
            )
            return cur.rowcount > 0

    def get_records(self, kind: str) -> dict[str, dict[str, Any]]:
        rows = self._read("SELECT key, value FROM records WHERE kind = ? ORDER BY seq", (kind,))
        return {k: json.loads(v) for k, v in rows}

    def delete_record(self, kind: str, key: str) -> None:
        with self._write() as cur:
            cur.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))

