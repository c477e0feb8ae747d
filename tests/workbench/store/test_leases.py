"""The store's one lease table: annotators' leases (shared up to the overlap) and review leases (exclusive), by task.

Also the migration of layout-2 databases, whose lease table had no task: their live leases are kept as annotators'.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.store import ANNOTATE_TASK, LabelEvent, SQLiteStore
from workbench.store._sqlite import LAYOUT_META_KEY, LAYOUT_VERSION


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "project.db", create=True)
    yield s
    s.close()


def _answer(store: SQLiteStore, eid: str, who: str) -> int:
    (ev,) = store.write_events([LabelEvent(
        example_id=eid, question="spam", value="spam", source="human", annotator=who, schema_version="s1",
        guideline_version="g1", data_version="d1", event_uid=f"u-{eid}-{who}")])
    assert ev.event_id is not None
    return int(ev.event_id)


def _ids(pairs: list[tuple[str, float]]) -> list[str]:
    return [e for e, _ in pairs]


def test_annotators_share_items_up_to_the_overlap_reviewers_do_not(store: SQLiteStore) -> None:
    items = ["a", "b", "c"]
    assert _ids(store.claim("ann", items, n=2, overlap=2, lease_seconds=60)) == ["a", "b"]
    assert _ids(store.claim("bob", items, n=3, overlap=2, lease_seconds=60)) == ["a", "b", "c"]
    assert _ids(store.claim("cid", items, n=3, overlap=2, lease_seconds=60)) == ["c"]  # a, b have two leases
    assert _ids(store.claim("lee", items, n=2, overlap=99, lease_seconds=60, task="adjudication")) == ["a", "b"]
    assert _ids(store.claim("kim", items, n=3, overlap=99, lease_seconds=60, task="adjudication")) == ["c"]
    assert _ids(store.claim("lee", items, n=3, overlap=99, lease_seconds=60, task="relabel")) == items  # own task
    leases = store.leases()
    assert sorted(set(leases["task"])) == sorted([ANNOTATE_TASK, "adjudication", "relabel"])
    assert store.leases(task="adjudication")[["example_id", "annotator"]].values.tolist() == [
        ["a", "lee"], ["b", "lee"], ["c", "kim"]]


def test_a_review_lease_on_a_decided_item_is_not_handed_out(store: SQLiteStore) -> None:
    assert _ids(store.claim("lee", ["a", "b"], n=1, overlap=1, lease_seconds=60, task="adjudication")) == ["a"]
    # "a" left the queue (decided): the reviewer's old lease on it does not come back first
    assert _ids(store.claim("lee", ["b"], n=1, overlap=1, lease_seconds=60, task="adjudication")) == ["b"]
    assert _ids(store.claim("lee", ["a", "b"], n=2, overlap=1, lease_seconds=60, task="adjudication")) == ["a", "b"]


def test_claim_item_is_exclusive_renews_and_expires(store: SQLiteStore) -> None:
    holder, first = store.claim_item("adjudication", "a", "lee", lease_seconds=0.3)
    assert holder == "lee"
    assert store.claim_item("adjudication", "a", "kim", lease_seconds=60)[0] == "lee"
    time.sleep(0.05)
    holder, renewed = store.claim_item("adjudication", "a", "lee", lease_seconds=0.3)
    assert holder == "lee" and renewed > first
    time.sleep(0.4)
    assert store.claim_item("adjudication", "a", "kim", lease_seconds=60)[0] == "kim"
    assert store.lease_of("kim", "a", task="adjudication") is not None
    assert store.lease_of("kim", "a") is None  # no annotator's lease


def test_release_ends_one_task_or_every_task(store: SQLiteStore) -> None:
    store.claim("ann", ["a"], n=1, overlap=1, lease_seconds=60)
    store.claim_item("relabel", "a", "ann", lease_seconds=60)
    store.release("ann", "a", task="relabel")
    assert store.leases()["task"].tolist() == [ANNOTATE_TASK]
    store.claim_item("relabel", "a", "ann", lease_seconds=60)
    store.release("ann", "a", skipped=True, task=None)
    assert store.leases().empty
    assert store.claim("ann", ["a"], n=1, overlap=1, lease_seconds=60) == []  # the skip keeps it away


def test_ignored_answers_neither_make_an_item_seen_nor_fill_the_overlap(store: SQLiteStore) -> None:
    flagged = [_answer(store, "a", "ann"), _answer(store, "a", "bob")]
    assert store.claim("ann", ["a"], n=1, overlap=3, lease_seconds=60) == []  # answered
    assert store.claim("cid", ["a"], n=1, overlap=2, lease_seconds=60) == []  # two answers fill overlap 2
    assert _ids(store.claim("ann", ["a"], n=1, overlap=3, lease_seconds=60, ignore_events=flagged)) == ["a"]
    # bob's answer counts unless ignored; ann's lease counts either way
    assert _ids(store.claim("cid", ["a"], n=1, overlap=2, lease_seconds=60, ignore_events=flagged[:1])) == []
    assert _ids(store.claim("cid", ["a"], n=1, overlap=2, lease_seconds=60, ignore_events=flagged)) == ["a"]
    assert _ids(store.claim("dan", ["a"], n=1, overlap=2, lease_seconds=60, ignore_events=flagged)) == []


def test_a_layout_2_database_keeps_its_live_leases_as_annotators(tmp_path: Path) -> None:
    path = tmp_path / "project.db"
    SQLiteStore(path, create=True).close()
    con = sqlite3.connect(path, isolation_level=None)  # the lease table as layout 2 shipped it
    con.executescript(f"""
        DROP TABLE leases;
        CREATE TABLE leases (
            example_id TEXT NOT NULL, annotator TEXT NOT NULL, expires_at REAL NOT NULL,
            is_honeypot INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
            PRIMARY KEY (example_id, annotator)) WITHOUT ROWID;
        INSERT INTO leases VALUES ('a', 'ann', {time.time() + 600}, 1, '2024-01-01T00:00:00+00:00');
        PRAGMA user_version = 2;
    """)
    con.close()
    store = SQLiteStore(path)
    try:
        info = store.get_meta(LAYOUT_META_KEY)
        assert info["layout"] == LAYOUT_VERSION == 3
        assert [(m["from"], m["to"], m["kept_leases"]) for m in info["migrations"]] == [(2, 3, 1)]
        kept = store.lease_of("ann", "a")
        assert kept is not None and kept["is_honeypot"] and kept["task"] == ANNOTATE_TASK
        assert store.leases()[["task", "example_id", "annotator"]].values.tolist() == [[ANNOTATE_TASK, "a", "ann"]]
        assert store.claim_item("adjudication", "a", "ann", lease_seconds=60)[0] == "ann"  # a second task
        assert store.verify().ok
    finally:
        store.close()
