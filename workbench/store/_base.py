"""The store interface: everything the workbench asks of a database goes through it.

A PostgreSQL backend for teams on several machines is a second implementation of
:class:`EventStore`, not a rewrite.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.store._chain import StoreReport
from workbench.store._records import DataVersion, LabelEvent, TrainingRun

__all__ = ["ANNOTATE_TASK", "EventStore", "EVENT_COLUMNS", "answers_complete"]


def answers_complete(
    answers: Mapping[str, str], questions: Sequence[tuple[str, Mapping[str, Collection[str]]]],
) -> bool:
    """Whether one annotator's ``answers`` (question -> choice) to an item are complete.

    ``questions`` are ``(question, condition)`` pairs, ``condition`` a mapping parent -> accepted
    answers (empty: always asked). Complete: every question whose condition the answers meet is
    answered (a follow-up whose parent answer rules it out is not owed).
    """
    return all(q in answers for q, cond in questions
               if all(answers.get(p) in accepted for p, accepted in cond.items()))

#: The lease task of annotators' work, shared among up to ``overlap`` annotators per item
#: (:meth:`EventStore.claim`); leases of any other task are exclusive (review tasks).
ANNOTATE_TASK = "annotate"

#: Columns of the event tables returned by :meth:`EventStore.events`.
EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "event_uid",
    "example_id",
    "question",
    "value",
    "action",
    "source",
    "annotator",
    "confidence",
    "created_at",
    "time_spent",
    "schema_version",
    "guideline_version",
    "data_version",
    "is_honeypot",
    "supersedes",
    "superseded_by",
    "note",
)


class EventStore(abc.ABC):
    """Abstract, append-only store of a project's events, versions and metadata."""

    # -- metadata ----------------------------------------------------------------------
    @abc.abstractmethod
    def get_meta(self, key: str) -> Any:
        """The JSON value stored under ``key``, or ``None``."""

    @abc.abstractmethod
    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""

    # -- schema and guideline versions ------------------------------------------------------
    @abc.abstractmethod
    def add_schema_version(self, version: str, schema_json: dict[str, Any], created_at: str) -> bool:
        """Record a schema version; returns False if it was known already."""

    @abc.abstractmethod
    def add_guideline_version(self, version: str, text: str | None, created_at: str) -> bool:
        """Record a guideline version with its full text; returns False if known already."""

    @abc.abstractmethod
    def schema_versions(self) -> pd.DataFrame:
        """Every schema version recorded, oldest first."""

    @abc.abstractmethod
    def guideline_versions(self) -> pd.DataFrame:
        """Every guideline version recorded, oldest first, with its text."""

    # -- data ------------------------------------------------------------------------------
    @abc.abstractmethod
    def stored_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored content hash of each of ``ids`` that is already known."""

    @abc.abstractmethod
    def add_data_version(
        self, record: DataVersion, ids: Sequence[str], hashes: Sequence[str]
    ) -> DataVersion:
        """Atomically register a batch and its rows; assigns the version name.

        Raises ``ConflictingContentError`` if an id is already stored with another hash.
        """

    @abc.abstractmethod
    def data_versions(self) -> list[DataVersion]:
        """Every data version, oldest first."""

    @abc.abstractmethod
    def example_data_versions(self, ids: Sequence[str]) -> dict[str, str]:
        """The data version each known id was added in."""

    @abc.abstractmethod
    def n_examples(self) -> int:
        """How many distinct examples are stored."""

    # -- events ----------------------------------------------------------------------------
    @abc.abstractmethod
    def append_events(self, events: Iterable[LabelEvent]) -> list[int]:
        """Append events in one transaction; returns their event ids.

        Each event supersedes the current event of the same (example, question, source,
        annotator). An event whose ``event_uid`` is already stored is not written again
        (its existing id is returned), so a retried write duplicates nothing.
        """

    def write_events(self, events: Iterable[LabelEvent]) -> list[LabelEvent]:
        """Append events like :meth:`append_events`, returning them as stored (ids, supersedes).

        A retried ``event_uid`` returns the event stored the first time; the same uid with
        different content raises :class:`~workbench.exceptions.IdempotencyError`. This default
        asks :meth:`append_events` and :meth:`events`; backends override it with one round trip.
        """
        evs = list(events)
        ids = self.append_events(evs)
        if not ids:
            return []
        stored = self.events(since_event_id=min(ids) - 1)
        by_id = {int(r["event_id"]): r for r in stored.to_dict("records")}
        out: list[LabelEvent] = []
        for ev, i in zip(evs, ids, strict=True):
            row = by_id.get(int(i))
            raw = None if row is None else row["supersedes"]
            sup = None if raw is None or pd.isna(raw) else int(raw)
            out.append(LabelEvent(**{**ev.to_dict(), "event_id": int(i), "supersedes": sup}))
        return out

    @abc.abstractmethod
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
        """Events as a DataFrame with :data:`EVENT_COLUMNS`, oldest first."""

    @abc.abstractmethod
    def current_answers(self, example_id: str, source: str, annotator: str) -> dict[str, str]:
        """The current (non-retracted) answer per question of one annotator for one example."""

    @abc.abstractmethod
    def latest_label(self, example_id: str, question: str, source: str) -> tuple[str, float | None] | None:
        """The most recent current label (value, confidence) from ``source`` for one example and question."""

    @abc.abstractmethod
    def n_events(self) -> int:
        """How many events are stored."""

    @abc.abstractmethod
    def last_event_id(self) -> int:
        """The largest event id stored (0 when there is none)."""

    # -- training runs --------------------------------------------------------------------
    @abc.abstractmethod
    def add_training_run(self, run: TrainingRun, event_ids: Sequence[int]) -> TrainingRun:
        """Record a training run and link it to the events it used."""

    @abc.abstractmethod
    def training_runs(self) -> list[TrainingRun]:
        """Every training run, oldest first."""

    @abc.abstractmethod
    def training_runs_of_events(self, event_ids: Sequence[int]) -> dict[int, list[str]]:
        """The ids of the runs that used each of ``event_ids``."""

    # -- work assignment (leases are mutable bookkeeping, never label data) ---------------
    # Every lease names a task: ANNOTATE_TASK for annotators' work (an item goes to up to ``overlap``
    # annotators), any other name (e.g. "adjudication", "relabel") for a review task, whose leases are
    # exclusive (one reviewer per item at a time). Leases expire on their own; they are never events.
    @abc.abstractmethod
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
        """Atomically lease up to ``n`` of ``candidates`` (in order) to ``annotator`` for ``task``.

        The annotator's live leases of the task come first (for a review task only those still
        among ``candidates``). A candidate is skipped when the annotator skipped it or already
        holds it. For :data:`ANNOTATE_TASK` it is also skipped when the annotator already
        answered it, or when its completed human answers plus other annotators' live leases
        reach ``overlap`` (honeypot claims ignore ``overlap``); answers whose event id is in
        ``ignore_events`` (labels flagged for relabeling) do not count; with ``questions``
        (``(question, condition)`` pairs, ``condition`` a mapping parent -> accepted answers, empty
        for always), an annotator's answers count only when complete: every question whose
        condition their own answers meet is answered (:func:`answers_complete`). For a review task it is
        skipped when anyone else holds a live lease on it (``overlap`` plays no part).
        Returns ``(example_id, expires_at_unix)`` pairs.
        """

    @abc.abstractmethod
    def claim_item(self, task: str, example_id: str, annotator: str, *, lease_seconds: float) -> tuple[str, float]:
        """Lease one item of a review task to ``annotator`` unless someone else holds a live lease on it.

        Returns ``(holder, expires_at_unix)``: ``annotator`` when the lease is theirs (a lease they
        already held is renewed), else whoever holds it. Raises
        :class:`~workbench.exceptions.StoreError` for :data:`ANNOTATE_TASK` (use :meth:`claim`).
        """

    @abc.abstractmethod
    def release(
        self, annotator: str, example_id: str, *, skipped: bool = False, task: str | None = ANNOTATE_TASK
    ) -> None:
        """End a lease of ``task`` (``None``: of every task) after an answer, or a skip, which also keeps the
        item from coming back to this annotator."""

    @abc.abstractmethod
    def leases(self, *, active_only: bool = True, task: str | None = None) -> pd.DataFrame:
        """Leases (of one task, or all): task, example_id, annotator, expires_at, is_honeypot; oldest first."""

    @abc.abstractmethod
    def lease_of(self, annotator: str, example_id: str, *, task: str = ANNOTATE_TASK) -> dict[str, Any] | None:
        """The live lease of one annotator on one example for ``task``, or None."""

    # -- generic append-only records (label versions, LF registry ...) ---------------------
    @abc.abstractmethod
    def put_record(
        self, kind: str, key: str, value: dict[str, Any], *, replace: bool = False,
        expected: dict[str, Any] | None = None,
    ) -> bool:
        """Store a JSON record of ``kind`` under ``key``; False if it exists and not ``replace``.

        With ``expected``: replace the record only if its stored value equals ``expected``
        (compare-and-set); False if it does not exist or differs.
        """

    @abc.abstractmethod
    def get_records(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every record of ``kind``, in insertion order."""

    @abc.abstractmethod
    def delete_record(self, kind: str, key: str, *, expected: dict[str, Any] | None = None) -> bool:
        """Remove a mutable record (never events); with ``expected``, only if its value equals it.

        Returns True if a record was removed.
        """

    def put_records(
        self, kind: str, items: Sequence[tuple[str, dict[str, Any]]], *, replace: bool = False
    ) -> int:
        """Store many records of ``kind`` at once (one transaction in backends that can); returns how many.

        Like :meth:`put_record` for each ``(key, value)``: without ``replace`` an existing key
        is kept as it is (and not counted). This default calls :meth:`put_record` per item.
        """
        return sum(bool(self.put_record(kind, key, value, replace=replace)) for key, value in items)

    def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        """The record of ``kind`` stored under ``key``, or None (this default reads every record of ``kind``)."""
        return self.get_records(kind).get(key)

    def find_records(self, kind: str, prefix: str) -> dict[str, dict[str, Any]]:
        """The records of ``kind`` whose key starts with ``prefix``, in insertion order."""
        return {k: v for k, v in self.get_records(kind).items() if k.startswith(prefix)}

    def record_keys(self, kind: str, prefix: str = "") -> list[str]:
        """The keys of the records of ``kind`` starting with ``prefix``, in insertion order (values not read)."""
        return list(self.find_records(kind, prefix))

    @abc.abstractmethod
    def claim_next_record(self, kind: str, prefix: str, value: dict[str, Any]) -> tuple[int, str]:
        """Atomically store ``value`` under ``f"{prefix}{n}"``, ``n`` one more than the largest claimed.

        Returns ``(n, key)``. Concurrent claims get distinct numbers; files play no part.
        """

    # -- self-checks ------------------------------------------------------------------------
    @abc.abstractmethod
    def chain_head(self) -> tuple[int, str] | None:
        """``(event_id, event_hash)`` of the newest event (an anchor for :meth:`verify`), or None."""

    @abc.abstractmethod
    def verify(
        self,
        *,
        project_dir: str | Path | None = None,
        expected_head: tuple[int, str] | None = None,
        raise_on_error: bool = True,
    ) -> StoreReport:
        """Check the storage, the events' hash chain and example-id uniqueness; see :class:`StoreReport`.

        Raises :class:`~workbench.exceptions.StoreIntegrityError` (an ``IntegrityError``) on a
        problem unless ``raise_on_error`` is False.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; any later call raises :class:`~workbench.exceptions.ProjectClosedError`."""
