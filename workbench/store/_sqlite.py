"""The SQLite implementation of :class:`~workbench.store.EventStore` (WAL mode)."""

from __future__ import annotations

import contextlib
import functools
import json
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.exceptions import (
    ConflictingContentError,
    IdempotencyError,
    ProjectClosedError,
    SchemaError,
    StoreCorruptedError,
    StoreError,
    StoreIntegrityError,
)
from workbench.store._base import ANNOTATE_TASK, EVENT_COLUMNS, EventStore, answers_complete
from workbench.store._chain import (
    CHAIN_ALGORITHM,
    CHAIN_FIELDS,
    GENESIS_HASH,
    StoreReport,
    event_hash,
    normalise_event_fields,
)
from workbench.store._records import DataVersion, LabelEvent, TrainingRun, utc_now

__all__ = ["SQLiteStore", "APPLICATION_ID", "LAYOUT_VERSION"]

#: Written into the SQLite header so a foreign database is recognised as such ("WBNC").
APPLICATION_ID = 0x57424E43
#: Version of the table layout below; bumped with a migration when it changes.
#: 1: the first layout. 2: events carry ``prev_hash`` and ``event_hash`` (the hash chain of
#: :mod:`workbench.store._chain`); a layout-1 file is migrated and back-filled once when opened.
#: 3: leases name their task (``annotate``, or a review task such as ``adjudication``), so one lease
#: table serves annotators (with overlap) and reviewers (exclusive); live leases are kept as ``annotate``.
LAYOUT_VERSION = 3
#: The meta key recording the layout, its chain algorithm and the migrations applied.
LAYOUT_META_KEY = "store_layout"

_NO_UPDATE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'label events are append-only: write a superseding event'); END;"""

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
    supersedes INTEGER REFERENCES events(event_id), note TEXT, prev_hash TEXT, event_hash TEXT);
CREATE INDEX IF NOT EXISTS events_by_key ON events (example_id, question, source, annotator, event_id);
CREATE INDEX IF NOT EXISTS events_by_supersedes ON events (supersedes);
""" + _NO_UPDATE_TRIGGER + """
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
    task TEXT NOT NULL DEFAULT 'annotate', example_id TEXT NOT NULL, annotator TEXT NOT NULL,
    expires_at REAL NOT NULL, is_honeypot INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
    PRIMARY KEY (task, example_id, annotator)) WITHOUT ROWID;
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


_SELECT_STORED = f"SELECT {', '.join(CHAIN_FIELDS)} FROM events"
_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(CHAIN_FIELDS)}, prev_hash, event_hash)"
    f" VALUES ({', '.join('?' * (len(CHAIN_FIELDS) + 2))})"
)
_LABEL_EVENT_FIELDS = frozenset(LabelEvent.__dataclass_fields__)
#: Fields a retry must repeat exactly (the label itself); the rest is context captured when written.
_RETRY_FIELDS: tuple[str, ...] = (
    "example_id", "question", "value", "action", "source", "annotator", "confidence", "time_spent",
    "is_honeypot", "note",
)


def _event_from_row(row: Sequence[Any]) -> LabelEvent:
    fields = normalise_event_fields(dict(zip(CHAIN_FIELDS, row, strict=True)))
    return LabelEvent(**{k: v for k, v in fields.items() if k in _LABEL_EVENT_FIELDS})


def _check_retry(stored: LabelEvent, sent: LabelEvent) -> None:
    """Raise :class:`IdempotencyError` unless ``sent`` repeats ``stored`` (same uid, same label)."""
    mine = normalise_event_fields(sent.to_dict())
    theirs = normalise_event_fields(stored.to_dict())
    diff = {k: (theirs[k], mine[k]) for k in _RETRY_FIELDS if theirs[k] != mine[k]}
    if not diff:
        return
    shown = "; ".join(f"{k}: stored {a!r}, sent {b!r}" for k, (a, b) in diff.items())
    raise IdempotencyError(
        f"The event_uid {sent.event_uid!r} is already stored (event {stored.event_id}) with different content "
        f"({shown}). An event_uid names one event: a retry must send exactly the same label. Nothing of this "
        f"batch was written. To record a new or changed label, send it with a new event_uid (or none).",
        sent.event_uid,
        diff,
    )


def _events_frame(rows: list[Any]) -> pd.DataFrame:
    """Event rows (``_SELECT_EVENTS`` order) as the typed frame :meth:`SQLiteStore.events` returns."""
    df = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    df["is_honeypot"] = df["is_honeypot"].astype(bool)
    for col in ("supersedes", "superseded_by"):
        df[col] = df[col].astype("Int64")
    df["confidence"] = df["confidence"].astype("float64")
    df["time_spent"] = df["time_spent"].astype("float64")
    return df


@functools.cache
def _empty_events() -> pd.DataFrame:
    return _events_frame([])


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
                layout_meta = json.dumps(
                    {"layout": LAYOUT_VERSION, "created_layout": LAYOUT_VERSION, "event_chain": CHAIN_ALGORITHM,
                     "migrations": []}
                )
                self._retry("creating the tables", lambda: self._conn.executescript(
                    "BEGIN IMMEDIATE;" + _SCHEMA_SQL
                    + f"INSERT OR IGNORE INTO meta (key, value) VALUES ('{LAYOUT_META_KEY}', '{layout_meta}');"
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
        self._closed = False
        if layout < LAYOUT_VERSION:
            try:
                self._migrate()
            except sqlite3.DatabaseError as exc:
                self._close_quietly()
                raise StoreCorruptedError(
                    f"Upgrading the project database {str(self.path)!r} from store layout {layout} to "
                    f"{LAYOUT_VERSION} failed: {exc}. Nothing was changed; restore the file from a backup if "
                    f"this repeats."
                ) from None

    # -- layout migrations --------------------------------------------------------------------
    def _migrate(self) -> None:
        """Bring an older layout up to :data:`LAYOUT_VERSION`, once, in one write transaction.

        Several processes may open an old file at once: each re-reads the layout inside the
        lock, so only the first migrates. The steps applied are recorded under the meta key
        :data:`LAYOUT_META_KEY`.
        """
        with self._write() as cur:
            layout = int(cur.execute("PRAGMA user_version").fetchone()[0])
            if layout >= LAYOUT_VERSION:
                return  # another process migrated it meanwhile
            row = cur.execute("SELECT value FROM meta WHERE key = ?", (LAYOUT_META_KEY,)).fetchone()
            info: dict[str, Any] = json.loads(row[0]) if row else {"created_layout": layout, "migrations": []}
            if layout == 1:
                n = self._migrate_1_to_2(cur)
                info["migrations"].append(
                    {"from": 1, "to": 2, "at": utc_now(), "step": "event hash chain added and back-filled",
                     "backfilled_events": n}
                )
                layout = 2
            if layout == 2:
                n = self._migrate_2_to_3(cur)
                info["migrations"].append(
                    {"from": 2, "to": 3, "at": utc_now(), "step": "leases name their task", "kept_leases": n}
                )
                layout = 3
            info.update({"layout": layout, "event_chain": CHAIN_ALGORITHM})
            cur.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (LAYOUT_META_KEY, json.dumps(info)),
            )
            cur.execute(f"PRAGMA user_version = {int(layout)}")

    @staticmethod
    def _migrate_1_to_2(cur: sqlite3.Cursor) -> int:
        """Add ``prev_hash``/``event_hash`` to the events and back-fill the chain in id order."""
        cur.execute("ALTER TABLE events ADD COLUMN prev_hash TEXT")
        cur.execute("ALTER TABLE events ADD COLUMN event_hash TEXT")
        cur.execute("DROP TRIGGER IF EXISTS events_no_update")  # restored below, in the same transaction
        rows = cur.execute(f"SELECT {', '.join(CHAIN_FIELDS)} FROM events ORDER BY event_id").fetchall()
        prev = GENESIS_HASH
        updates: list[tuple[str, str, int]] = []
        for row in rows:
            fields = dict(zip(CHAIN_FIELDS, row, strict=True))
            digest = event_hash(fields, prev)
            updates.append((prev, digest, int(fields["event_id"])))
            prev = digest
        cur.executemany("UPDATE events SET prev_hash = ?, event_hash = ? WHERE event_id = ?", updates)
        cur.execute(_NO_UPDATE_TRIGGER)
        return len(updates)

    @staticmethod
    def _migrate_2_to_3(cur: sqlite3.Cursor) -> int:
        """Rebuild the lease table with a ``task`` column (in its primary key); existing leases become ``annotate``."""
        had = cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'leases'").fetchone()
        cur.execute(
            "CREATE TABLE leases_v3 (task TEXT NOT NULL DEFAULT 'annotate', example_id TEXT NOT NULL, "
            "annotator TEXT NOT NULL, expires_at REAL NOT NULL, is_honeypot INTEGER NOT NULL DEFAULT 0, "
            "created_at TEXT NOT NULL, PRIMARY KEY (task, example_id, annotator)) WITHOUT ROWID"
        )
        n = 0
        if had:
            cur.execute(
                "INSERT INTO leases_v3 (task, example_id, annotator, expires_at, is_honeypot, created_at) "
                "SELECT 'annotate', example_id, annotator, expires_at, is_honeypot, created_at FROM leases"
            )
            n = int(cur.execute("SELECT count(*) FROM leases_v3").fetchone()[0])
            cur.execute("DROP TABLE leases")
        cur.execute("ALTER TABLE leases_v3 RENAME TO leases")
        return n

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

    def _check_open(self) -> None:
        if self._closed:
            raise ProjectClosedError(
                f"The project database {str(self.path)!r} was closed; it cannot be read or written any more. "
                f"Open the project again (wb.Project.open(path)) and use the new object."
            )

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction: BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        with self._lock:
            self._check_open()
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
            self._check_open()
            try:
                return self._retry("reading", lambda: self._conn.execute(sql, params).fetchall())  # type: ignore[no-any-return]
            except sqlite3.DatabaseError as exc:
                raise StoreCorruptedError(
                    f"Reading the project database {str(self.path)!r} failed: {exc}."
                ) from None

    def close(self) -> None:
        """Release the connection; every later call raises :class:`~workbench.exceptions.ProjectClosedError`.

        Closing twice is harmless.
        """
        with self._lock:
            self._closed = True
            self._close_quietly()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

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
        return [int(ev.event_id or 0) for ev in self.write_events(events)]

    def write_events(self, events: Iterable[LabelEvent]) -> list[LabelEvent]:
        """Append events in one transaction and return them as stored.

        Each event gets the next ``event_id``, the id of the event it supersedes, and its link
        in the hash chain (``prev_hash``/``event_hash``, computed inside the write lock, so
        concurrent writers from several processes extend one chain). An event whose
        ``event_uid`` is already stored with the same content is a retry: nothing is written
        and the stored event (with its original ``created_at``) is returned in its place.

        Parameters
        ----------
        events : iterable of LabelEvent
            ``event_id`` and ``supersedes`` are ignored (the store assigns them).

        Returns
        -------
        list of LabelEvent
            One per input, in order, with ``event_id`` and ``supersedes`` filled in.

        Raises
        ------
        IdempotencyError
            An ``event_uid`` is already stored (or repeated in ``events``) with different
            content: another example, question, value, action, source, annotator, confidence,
            time spent, honeypot flag or note. ``created_at`` and the schema, guideline and
            data versions may differ (a retry made later records the same label). Nothing of
            the batch is written.
        """
        evs = list(events)
        out: list[LabelEvent] = []
        if not evs:
            return out
        with self._write() as cur:
            head = cur.execute(
                "SELECT e.event_id, e.event_hash, (SELECT seq FROM sqlite_sequence WHERE name = 'events') "
                "FROM events e ORDER BY e.event_id DESC LIMIT 1"
            ).fetchone()
            # AUTOINCREMENT never reuses an id, not even one removed behind the store's back.
            if head is None:
                seq = cur.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
                next_id = int(seq[0] if seq else 0) + 1
            else:
                next_id = max(int(head[0]), int(head[2] or 0)) + 1
            prev_hash = str(head[1]) if head and head[1] else GENESIS_HASH
            # labels checked against a schema another session replaced meanwhile (a migration) are not written
            # under it: the migration has judged the labels it could see, and would never see these
            meta = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            now = json.loads(meta[0]) if meta is not None else None
            for ev in evs:
                row = cur.execute(_SELECT_STORED + " WHERE event_uid = ?", (ev.event_uid,)).fetchone()
                if row is not None:  # a retried write: already stored
                    stored = _event_from_row(row)
                    _check_retry(stored, ev)
                    out.append(stored)
                    continue
                if now is not None and ev.schema_version != now:  # rolled back: nothing of the batch is written
                    raise SchemaError(
                        f"The schema changed to {now} (a migration or update_schema, perhaps in another session) "
                        f"while these {len(evs)} label event(s) were being checked against {ev.schema_version}. "
                        f"Nothing was written; submit them again, and they are checked against the new schema."
                    )
                prev = cur.execute(
                    "SELECT event_id FROM events WHERE example_id = ? AND question = ? AND source = ? "
                    "AND annotator = ? ORDER BY event_id DESC LIMIT 1",
                    (ev.example_id, ev.question, ev.source, ev.annotator),
                ).fetchone()
                raw = {f: getattr(ev, f) for f in CHAIN_FIELDS}
                raw.update(event_id=next_id, supersedes=None if prev is None else int(prev[0]))
                fields = normalise_event_fields(raw)
                digest = event_hash(fields, prev_hash, normalised=True)
                cur.execute(
                    _INSERT_EVENT,
                    (*(fields[c] for c in CHAIN_FIELDS[:-3]), int(fields["is_honeypot"]), fields["supersedes"],
                     fields["note"], prev_hash, digest),
                )
                out.append(LabelEvent(**{k: v for k, v in fields.items() if k in _LABEL_EVENT_FIELDS}))
                prev_hash = digest
                next_id += 1
        return out

    def chain_head(self) -> tuple[int, str] | None:
        """``(event_id, event_hash)`` of the newest event, or None when there is none.

        Record it somewhere outside the project (a lab notebook, a commit message) and pass it
        to :meth:`verify` as ``expected_head`` later: then even a rewrite of the whole chain's
        tail is detected.
        """
        rows = self._read("SELECT event_id, event_hash FROM events ORDER BY event_id DESC LIMIT 1")
        if not rows:
            return None
        return int(rows[0][0]), str(rows[0][1])

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
        if not rows:  # the common answer of the per-example and since-last-seen reads: skip building it
            return _empty_events().copy()
        return _events_frame(rows)

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
    # One table for every lease: annotators' work (task "annotate": several annotators per item, up to the
    # overlap) and reviewers' items (any other task: one reviewer per item at a time). Leases are coordination
    # state, deleted when they end or expire; they are never label events.
    @staticmethod
    def _answered(
        cur: sqlite3.Cursor, example_id: str, annotator: str | None, ignored: frozenset[int],
        questions: Sequence[tuple[str, Mapping[str, Collection[str]]]] | None = None,
    ) -> set[str]:
        """Annotators with a current human answer to ``example_id`` (one, or every non-honeypot one), flagged
        events in ``ignored`` left out; with ``questions``, only those whose answers are complete (see claim)."""
        sql = ("SELECT e.annotator, e.event_id, e.question, e.value FROM events e WHERE e.example_id = ? "
               "AND e.source = 'human' AND e.action = 'label' "
               "AND NOT EXISTS (SELECT 1 FROM events s WHERE s.supersedes = e.event_id)")
        params: tuple[Any, ...] = (example_id,)
        if annotator is not None:
            sql += " AND e.annotator = ?"
            params += (annotator,)
        else:
            sql += " AND e.is_honeypot = 0"
        answers: dict[str, dict[str, str]] = {}
        for a, i, q, v in cur.execute(sql, params).fetchall():
            if int(i) not in ignored:
                answers.setdefault(str(a), {})[str(q)] = str(v)
        if questions is None:
            return set(answers)
        return {a for a, given in answers.items() if answers_complete(given, questions)}

    def claim(
        self,
        annotator: str,
        candidates: Sequence[str],
        *,
        n: int,
        overlap: int,
        lease_seconds: float,
        honeypot: bool = False,
        task: str = ANNOTATE_TASK,
        ignore_events: Iterable[int] = (),
        questions: Sequence[tuple[str, Mapping[str, Collection[str]]]] | None = None,
    ) -> list[tuple[str, float]]:
        now = time.time()
        ignored = frozenset(int(i) for i in ignore_events)
        review = task != ANNOTATE_TASK
        wanted = set(candidates) if review else None
        out: list[tuple[str, float]] = []
        with self._write() as cur:
            cur.execute("DELETE FROM leases WHERE expires_at <= ?", (now,))
            if not honeypot:
                mine = cur.execute(
                    "SELECT example_id, expires_at FROM leases WHERE task = ? AND annotator = ? AND is_honeypot = 0 "
                    "ORDER BY created_at",
                    (task, annotator),
                ).fetchall()
                if wanted is not None:  # a reviewer's item that left the queue (decided) is not handed out again
                    mine = [(e, x) for e, x in mine if e in wanted]
                out.extend((str(e), float(x)) for e, x in mine[:n])
            taken = {e for e, _ in out}
            expires = now + lease_seconds
            for eid in candidates:
                if len(out) >= n:
                    break
                if eid in taken:
                    continue
                if cur.execute(
                    "SELECT 1 FROM skips WHERE annotator = ? AND example_id = ?", (annotator, eid)
                ).fetchone() or cur.execute(
                    "SELECT 1 FROM leases WHERE task = ? AND annotator = ? AND example_id = ?", (task, annotator, eid)
                ).fetchone():
                    continue
                leased = cur.execute("SELECT count(*) FROM leases WHERE task = ? AND example_id = ?",
                                     (task, eid)).fetchone()[0]
                if review:
                    if leased:  # another reviewer has it on screen
                        continue
                else:
                    # Only current answers count: an undone (retracted), superseded or flagged answer frees the item.
                    if self._answered(cur, eid, annotator, ignored, questions):
                        continue
                    if not honeypot and len(self._answered(cur, eid, None, ignored, questions)) + leased >= overlap:
                        continue
                cur.execute(
                    "INSERT INTO leases (task, example_id, annotator, expires_at, is_honeypot, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (task, eid, annotator, expires, int(honeypot), utc_now()),
                )
                out.append((eid, expires))
                taken.add(eid)
        return out

    def claim_item(self, task: str, example_id: str, annotator: str, *, lease_seconds: float) -> tuple[str, float]:
        if task == ANNOTATE_TASK:
            raise StoreError(
                f"claim_item leases one item of a review task exclusively; the {ANNOTATE_TASK!r} task shares items "
                f"among annotators up to the overlap. Use claim(annotator, candidates, ...) for annotators' work."
            )
        now = time.time()
        with self._write() as cur:
            cur.execute("DELETE FROM leases WHERE expires_at <= ?", (now,))
            row = cur.execute(
                "SELECT annotator, expires_at FROM leases WHERE task = ? AND example_id = ? AND annotator != ? "
                "ORDER BY created_at LIMIT 1",
                (task, example_id, annotator),
            ).fetchone()
            if row is not None:
                return str(row[0]), float(row[1])
            expires = now + lease_seconds
            cur.execute(
                "INSERT INTO leases (task, example_id, annotator, expires_at, is_honeypot, created_at) "
                "VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (task, example_id, annotator) "
                "DO UPDATE SET expires_at = excluded.expires_at",
                (task, example_id, annotator, expires, utc_now()),
            )
        return annotator, expires

    def release(
        self, annotator: str, example_id: str, *, skipped: bool = False, task: str | None = ANNOTATE_TASK
    ) -> None:
        with self._write() as cur:
            if task is None:
                cur.execute("DELETE FROM leases WHERE annotator = ? AND example_id = ?", (annotator, example_id))
            else:
                cur.execute("DELETE FROM leases WHERE task = ? AND annotator = ? AND example_id = ?",
                            (task, annotator, example_id))
            if skipped:
                cur.execute(
                    "INSERT OR IGNORE INTO skips (example_id, annotator, created_at) VALUES (?, ?, ?)",
                    (example_id, annotator, utc_now()),
                )

    def leases(self, *, active_only: bool = True, task: str | None = None) -> pd.DataFrame:
        where: list[str] = []
        params: list[Any] = []
        if active_only:
            where.append("expires_at > ?")
            params.append(time.time())
        if task is not None:
            where.append("task = ?")
            params.append(task)
        sql = "SELECT task, example_id, annotator, expires_at, is_honeypot FROM leases"
        sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY created_at"
        df = pd.DataFrame(self._read(sql, params), columns=["task", "example_id", "annotator", "expires_at",
                                                             "is_honeypot"])
        df["is_honeypot"] = df["is_honeypot"].astype(bool)
        df["expires_at"] = df["expires_at"].astype(float)
        return df

    def lease_of(self, annotator: str, example_id: str, *, task: str = ANNOTATE_TASK) -> dict[str, Any] | None:
        rows = self._read(
            "SELECT expires_at, is_honeypot FROM leases WHERE task = ? AND annotator = ? AND example_id = ? "
            "AND expires_at > ?",
            (task, annotator, example_id, time.time()),
        )
        if not rows:
            return None
        return {"task": task, "example_id": example_id, "annotator": annotator, "expires_at": float(rows[0][0]),
                "is_honeypot": bool(rows[0][1])}

    # -- generic records -----------------------------------------------------------------------
    def put_record(
        self, kind: str, key: str, value: dict[str, Any], *, replace: bool = False,
        expected: dict[str, Any] | None = None,
    ) -> bool:
        """Store a JSON record of ``kind`` under ``key``; False if it exists and not ``replace``.

        With ``expected``, the record is replaced only if it exists and its stored value equals
        ``expected`` (a compare-and-set inside the write lock); False otherwise.
        """
        with self._write() as cur:
            if expected is not None:
                row = cur.execute("SELECT value FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
                if row is None or json.loads(row[0]) != expected:
                    return False
                cur.execute(
                    "UPDATE records SET value = ? WHERE kind = ? AND key = ?",
                    (json.dumps(value, sort_keys=True), kind, key),
                )
                return True
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

    def delete_record(self, kind: str, key: str, *, expected: dict[str, Any] | None = None) -> bool:
        """Remove a mutable record; with ``expected``, only if its value equals it. True if one was removed."""
        with self._write() as cur:
            if expected is not None:
                row = cur.execute("SELECT value FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
                if row is None or json.loads(row[0]) != expected:
                    return False
            cur.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))
            return cur.rowcount > 0

    def put_records(
        self, kind: str, items: Sequence[tuple[str, dict[str, Any]]], *, replace: bool = False
    ) -> int:
        """Store many records of ``kind`` in one write transaction; returns how many were written.

        Without ``replace``, a key already stored is kept unchanged (and not counted).
        """
        now = utc_now()
        rows = [(kind, str(k), json.dumps(v, sort_keys=True), now) for k, v in items]
        if not rows:
            return 0
        sql = (
            "INSERT INTO records (kind, key, value, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(kind, key) DO UPDATE SET value = excluded.value"
            if replace else "INSERT OR IGNORE INTO records (kind, key, value, created_at) VALUES (?, ?, ?, ?)"
        )
        with self._write() as cur:
            before = self._conn.total_changes
            cur.executemany(sql, rows)
            return int(self._conn.total_changes - before)

    def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        rows = self._read("SELECT value FROM records WHERE kind = ? AND key = ?", (kind, key))
        return json.loads(rows[0][0]) if rows else None

    @staticmethod
    def _prefix_range(prefix: str) -> tuple[str, str] | None:
        """``(low, high)`` with ``low <= key < high`` exactly for the keys starting with ``prefix`` (index friendly)."""
        if not prefix or ord(prefix[-1]) >= 0x10FFFF:
            return None
        return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)

    def find_records(self, kind: str, prefix: str) -> dict[str, dict[str, Any]]:
        span = self._prefix_range(prefix)
        if span is None:
            return {k: v for k, v in self.get_records(kind).items() if k.startswith(prefix)}
        rows = self._read(
            "SELECT key, value FROM records WHERE kind = ? AND key >= ? AND key < ? ORDER BY seq", (kind, *span)
        )
        return {k: json.loads(v) for k, v in rows if k.startswith(prefix)}

    def record_keys(self, kind: str, prefix: str = "") -> list[str]:
        span = self._prefix_range(prefix)
        if span is None:
            rows = self._read("SELECT key FROM records WHERE kind = ? ORDER BY seq", (kind,))
        else:
            rows = self._read(
                "SELECT key FROM records WHERE kind = ? AND key >= ? AND key < ? ORDER BY seq", (kind, *span)
            )
        return [str(k) for (k,) in rows if str(k).startswith(prefix)]

    def claim_next_record(self, kind: str, prefix: str, value: dict[str, Any]) -> tuple[int, str]:
        """Atomically store ``value`` under the next free key ``f"{prefix}{n}"`` of ``kind``.

        ``n`` is one more than the largest number of any record of ``kind`` whose key is
        ``prefix`` followed by digits (1 for the first), computed inside the write lock, so
        concurrent claims from several processes get distinct numbers. Files and folders play
        no part. A removed record's number may be claimed again.

        Returns
        -------
        (int, str)
            The number and the key claimed.
        """
        with self._write() as cur:
            keys = cur.execute(
                "SELECT key FROM records WHERE kind = ? AND substr(key, 1, ?) = ?", (kind, len(prefix), prefix)
            ).fetchall()
            numbers = [int(k[len(prefix):]) for (k,) in keys if k[len(prefix):].isdigit()]
            n = max(numbers, default=0) + 1
            key = f"{prefix}{n}"
            cur.execute(
                "INSERT INTO records (kind, key, value, created_at) VALUES (?, ?, ?, ?)",
                (kind, key, json.dumps(value, sort_keys=True), utc_now()),
            )
        return n, key

    # -- self-check ---------------------------------------------------------------------------
    def verify(
        self,
        *,
        project_dir: str | Path | None = None,
        expected_head: tuple[int, str] | None = None,
        raise_on_error: bool = True,
    ) -> StoreReport:
        """Check the database file, the events' hash chain and the uniqueness of example ids.

        The checks, all on one consistent snapshot (writers may keep writing meanwhile):

        1. SQLite's ``PRAGMA integrity_check`` (damaged pages, broken indexes);
        2. every event's ``event_hash`` recomputed from its stored fields and linked to its
           predecessor's (:mod:`workbench.store._chain`), no id missing from the sequence, and
           ``sqlite_sequence`` not ahead of the last event (events removed from the end);
        3. no example id stored twice: in the examples table and, with ``project_dir``, across
           the data files (each data version's file must hold exactly the ids recorded for it);
        4. with ``expected_head`` (from an earlier :meth:`chain_head`), that event still has that hash.

        Parameters
        ----------
        project_dir : path-like, optional
            The project directory, to check the ids in the data files (``data/<hash>.parquet``).
        expected_head : (int, str), optional
            An anchor recorded earlier with :meth:`chain_head`.
        raise_on_error : bool, default True
            Raise on any problem; False returns the report either way.

        Returns
        -------
        StoreReport

        Raises
        ------
        StoreIntegrityError
            (an :class:`~workbench.exceptions.IntegrityError`) when a problem was found and
            ``raise_on_error``; its ``report`` attribute holds the full report.
        """
        with self._lock:
            self._check_open()
            try:
                report = self._retry("verifying", lambda: self._verify_snapshot(project_dir, expected_head))
            except sqlite3.DatabaseError as exc:
                report = StoreReport(
                    ok=False, sqlite_check=(str(exc),), layout=LAYOUT_VERSION,
                    problems=(f"SQLite cannot read {str(self.path)!r} ({exc}): the file is damaged. Restore it "
                              f"from a backup.",),
                )
        if raise_on_error and not report.ok:
            shown = " ".join(report.problems[:5])
            more = f" ... and {len(report.problems) - 5} more problem(s)." if len(report.problems) > 5 else ""
            raise StoreIntegrityError(
                f"The project database {str(self.path)!r} failed its self-check: {shown}{more}", report
            )
        return report

    def _verify_snapshot(self, project_dir: str | Path | None, expected_head: tuple[int, str] | None) -> StoreReport:
        conn = self._conn
        conn.execute("BEGIN")  # one read snapshot for every check
        try:
            problems: list[str] = []
            layout = int(conn.execute("PRAGMA user_version").fetchone()[0])
            try:
                sqlite_check = tuple(str(r[0]) for r in conn.execute("PRAGMA integrity_check(100)").fetchall())
            except sqlite3.DatabaseError as exc:
                sqlite_check = (str(exc),)
            if sqlite_check != ("ok",):
                problems.append(
                    f"SQLite's integrity check of {str(self.path)!r} failed ({'; '.join(sqlite_check[:3])}"
                    f"{' ...' if len(sqlite_check) > 3 else ''}); expected 'ok'. The file is damaged: restore it "
                    f"from a backup."
                )
            n_events, head, broken, missing = self._verify_chain(conn, problems)
            if expected_head is not None:
                eid, digest = int(expected_head[0]), str(expected_head[1])
                row = conn.execute("SELECT event_hash FROM events WHERE event_id = ?", (eid,)).fetchone()
                if row is None or row[0] != digest:
                    problems.append(
                        f"The recorded chain head (event {eid}, hash {digest[:12]}...) does not match: the store has "
                        f"{'no such event' if row is None else f'hash {str(row[0])[:12]}...'}. Events were "
                        f"rewritten or removed; restore the database from a backup taken before the change."
                    )
            dups = [str(r[0]) for r in conn.execute(
                "SELECT example_id FROM examples GROUP BY example_id HAVING count(*) > 1 LIMIT 100"
            ).fetchall()]
            n_files = 0
            if project_dir is not None:
                n_files, file_dups = self._verify_data_files(conn, Path(project_dir), problems)
                dups = list(dict.fromkeys([*dups, *file_dups]))
            if dups:
                shown = ", ".join(repr(d) for d in dups[:10])
                problems.append(
                    f"{len(dups)} example id(s) are stored twice ({shown}); each id is expected once. Concurrent "
                    f"ingests of overlapping batches made them; keep one copy of each row (restore from a backup, "
                    f"or re-ingest the data into a new project)."
                )
        finally:
            conn.execute("COMMIT")
        return StoreReport(
            ok=not problems, problems=tuple(problems), sqlite_check=sqlite_check, n_events=n_events,
            chain_head=head, broken_events=tuple(broken), missing_event_ids=tuple(missing),
            duplicate_example_ids=tuple(dups), data_files_checked=n_files, layout=layout,
        )

    @staticmethod
    def _verify_chain(
        conn: sqlite3.Connection, problems: list[str]
    ) -> tuple[int, tuple[int, str] | None, list[int], list[int]]:
        cur = conn.execute(f"{_SELECT_STORED.replace(' FROM', ', prev_hash, event_hash FROM')} ORDER BY event_id")
        prev_hash = GENESIS_HASH
        prev_id = 0
        n = 0
        changed: list[int] = []
        unlinked: list[int] = []
        missing: list[int] = []
        head: tuple[int, str] | None = None
        while rows := cur.fetchmany(2048):
            for row in rows:
                n += 1
                fields = dict(zip(CHAIN_FIELDS, row[:-2], strict=True))
                eid = int(fields["event_id"])
                stored_prev, stored_hash = row[-2], row[-1]
                if eid != prev_id + 1:
                    missing.extend(range(prev_id + 1, min(eid, prev_id + 1 + 1000)))
                if stored_prev != prev_hash:
                    unlinked.append(eid)
                if stored_hash is None or event_hash(fields, str(stored_prev)) != stored_hash:
                    changed.append(eid)
                prev_hash = str(stored_hash)
                prev_id = eid
                head = (eid, prev_hash)
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        if seq is not None and int(seq[0]) > prev_id:
            missing.extend(range(prev_id + 1, min(int(seq[0]), prev_id + 1000) + 1))
        if changed:
            problems.append(
                f"{len(changed)} label event(s) no longer match their recorded hash (event ids "
                f"{_ids(changed)}): they were changed after being written, which the append-only store never "
                f"does. Restore the database from a backup; expected every stored event to be unchanged."
            )
        if unlinked:
            problems.append(
                f"The hash chain is broken before event(s) {_ids(unlinked)}: their prev_hash is not the hash of "
                f"the event before them, so events were removed, inserted or reordered. Restore the database "
                f"from a backup."
            )
        if missing:
            problems.append(
                f"{len(missing)} event id(s) are missing from the sequence ({_ids(missing)}): events were "
                f"deleted. Events are never deleted; restore the database from a backup."
            )
        broken = sorted(set(changed) | set(unlinked))
        return n, head, broken, missing

    @staticmethod
    def _verify_data_files(conn: sqlite3.Connection, root: Path, problems: list[str]) -> tuple[int, list[str]]:
        import pyarrow.parquet as pq

        owner: dict[str, str] = dict(conn.execute("SELECT example_id, data_version FROM examples").fetchall())
        recorded = Counter(owner.values())
        versions = conn.execute("SELECT version, n_rows, file FROM data_versions ORDER BY seq").fetchall()
        dups: list[str] = []
        n_files = 0
        for version, n_rows, file in versions:
            if int(n_rows) == 0:
                continue
            path = root / str(file)
            if not path.is_file():
                problems.append(
                    f"Data version {version} is recorded with the file {file!r}, which is missing from "
                    f"{str(root)!r}. Restore the file from a backup."
                )
                continue
            try:
                field = _id_field(pq.read_schema(path))
                ids = pq.read_table(path, columns=[field]).column(field).to_pylist()
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several unrelated types for damaged files
                problems.append(
                    f"The data file {file!r} of version {version} cannot be read ({type(exc).__name__}: {exc}); "
                    f"expected a Parquet file with an 'id' column. Restore it from a backup."
                )
                continue
            n_files += 1
            counts = Counter(ids)
            twice = [i for i, k in counts.items() if k > 1 or (owner.get(i) not in (None, version))]
            unknown = [i for i in counts if i not in owner]
            dups.extend(twice)
            belonging = sum(1 for i in counts if owner.get(i) == version)
            if unknown:
                problems.append(
                    f"The data file {file!r} of version {version} holds {len(unknown)} id(s) the examples table "
                    f"does not know (e.g. {unknown[0]!r}); expected only the ids recorded for {version}. The file "
                    f"was replaced or edited: restore it from a backup."
                )
            if belonging != recorded.get(version, 0) or recorded.get(version, 0) != int(n_rows):
                problems.append(
                    f"Data version {version} is recorded with {n_rows} row(s) ({recorded.get(version, 0)} in the "
                    f"examples table), but its file {file!r} holds {belonging} of them. Restore the file or the "
                    f"database from a backup."
                )
        return n_files, dups


def _id_field(schema: Any) -> str:
    """The Parquet column of a data file that holds its example ids (the pandas index named ``id``).

    pandas stores an index named ``id`` as the column ``id``, unless the data has a column named
    ``id`` of its own (a user's column next to another id column): then the index is stored as
    ``__index_level_0__`` and the file's pandas metadata names it. Files without that metadata
    hold the ids in ``id``.
    """
    raw = (schema.metadata or {}).get(b"pandas")
    if raw is not None:
        meta = json.loads(raw)
        index = meta.get("index_columns") or []
        if len(index) == 1 and isinstance(index[0], str):
            named = [c.get("name") for c in meta.get("columns") or [] if c.get("field_name") == index[0]]
            if named == ["id"]:
                return str(index[0])
    return "id"


def _ids(ids: Sequence[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:10])
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
