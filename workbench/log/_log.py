"""The label log behind :class:`workbench.Project`: validated, append-only label events."""

from __future__ import annotations

import datetime as _dt
import math
import uuid
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from workbench._constants import ABSTAIN, LABEL_SOURCES
from workbench._events import EventEmitter
from workbench.data import DataCatalog, id_text
from workbench.exceptions import DataError, LabelValidationError
from workbench.schema import Question, Schema, SchemaRegistry
from workbench.store import EventStore, LabelEvent, utc_now

__all__ = ["FLAG_COLUMNS", "FLAG_RECORD", "LabelLog", "parse_timestamp"]

#: The store record kind of label flags (a flagged label is kept, never rewritten; see :meth:`LabelLog.flags`).
FLAG_RECORD = "label_flag"
#: The meta key counting flag writes, so that readers know when their cached flags are stale.
_FLAGS_SEQ_META = "label_flags_seq"
#: Columns of :meth:`LabelLog.flags`.
FLAG_COLUMNS: tuple[str, ...] = (
    "event_id", "example_id", "question", "value", "source", "annotator", "schema_version", "guideline_version",
    "kind", "status", "reason", "rule", "excluded", "origin", "created_at",
)


def _check_str(name: str, value: object, func: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LabelValidationError(
            f"The '{name}' parameter of {func} must be a non-empty string. Got {value!r} instead."
        )
    return value


def parse_timestamp(value: Any, *, name: str = "created_at") -> str:
    """A time as the ISO-8601 UTC string the log stores; a clear error for anything else.

    Accepted: an ISO-8601 string (``"2024-05-01T10:00:00+02:00"``, ``"2024-05-01 10:00"``),
    a ``datetime`` or ``pandas.Timestamp``. A time without a timezone is taken as UTC.
    Ambiguous forms such as ``"05/01/2024 10:00"`` (May 1st or January 5th?) are refused.
    """
    if isinstance(value, str):
        try:
            ts = _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise LabelValidationError(
                f"The '{name}' value {value!r} is not an ISO-8601 time. Expected e.g. '2024-05-01T10:00:00Z' "
                f"(a time without a timezone is read as UTC). Convert the column first, e.g. "
                f"pd.to_datetime(df[{name!r}], format='%m/%d/%Y %H:%M', utc=True)."
            ) from None
    elif isinstance(value, _dt.datetime):  # pandas.Timestamp is a datetime
        ts = value
    elif isinstance(value, np.datetime64):
        ts = pd.Timestamp(value).to_pydatetime()
    else:
        raise LabelValidationError(
            f"The '{name}' value must be an ISO-8601 string or a datetime. Got {type(value).__name__} {value!r}."
        )
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=_dt.UTC)
    return ts.astimezone(_dt.UTC).isoformat(timespec="microseconds")


def _without_orphans(
    schema: Schema, answers: Mapping[str, str], keep: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """``answers`` without those whose condition no longer holds, through chains of conditions.

    Returns the answers that stay and the questions dropped (in schema order, transitively:
    dropping a parent can drop its child's child). Questions in ``keep`` are never dropped.
    """
    alive = dict(answers)
    dropped: list[str] = []
    changed = True
    while changed:
        changed = False
        for q in schema.questions:
            if q.name in alive and q.name not in (keep or {}) and not q.is_asked(alive):
                del alive[q.name]
                dropped.append(q.name)
                changed = True
    return alive, dropped


def _none_if_na(value: Any) -> Any:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value



def _gold_series(gold: pd.Series, ids: pd.Index) -> pd.Series:
    """A Series of gold labels indexed by example id, aligned with ``ids``: its index read as the project's
    text ids (a frame read with integer ids matches); none of them known, or one id twice, is an error."""
    index = pd.Index([id_text(v) for v in gold.index], dtype=object)
    if index.has_duplicates:
        twice = index[index.duplicated()].unique()[:5].tolist()
        raise DataError(f"The gold Series names some examples twice (e.g. {twice!r}); give one label per example.")
    known = index.isin(ids)
    if len(index) and not known.any():
        raise DataError(
            f"None of the {len(index)} ids of the gold Series is an example of this project (e.g. "
            f"{index[:3].tolist()!r}; the project's ids look like {ids[:3].tolist()!r}). Index the Series by "
            f"example id, e.g. df.set_index('id')['label']."
        )
    if not known.all():
        warnings.warn(f"{int((~known).sum())} of the {len(index)} gold labels name examples this project does not "
                      f"have (e.g. {index[~known][:3].tolist()!r}); they are left out.", UserWarning, stacklevel=3)
    return pd.Series(gold.to_numpy(), index=index).reindex(ids)

class LabelLog:
    """Append-only label events: validated writes, history, current labels, answers and gold.

    Parameters
    ----------
    store : EventStore
        Where events are appended.
    schema : SchemaRegistry
        Labels are validated against the current schema and recorded under its versions.
    data : DataCatalog
        Labels may only name known examples; each records its example's data version.
    emitter : EventEmitter
        Announces ``labels_added``.
    """

    def __init__(self, store: EventStore, schema: SchemaRegistry, data: DataCatalog, emitter: EventEmitter) -> None:
        self._store = store
        self._schema = schema
        self._data = data
        self._emitter = emitter
        self._flags_cache: tuple[Any, pd.DataFrame] | None = None
        # current labels per filter: the last event id and the flags' sequence they were read at, the
        # frame, and its revision (a new number whenever the frame changes), which keys what is derived
        self._labels_cache: dict[tuple[Any, ...], tuple[tuple[int, Any], pd.DataFrame, int]] = {}
        self._revisions = 0
        self._gold_cache: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    # ------------------------------------------------------------------ writing
    def make_events(
        self,
        example_id: str,
        value: object,
        *,
        annotator: str,
        source: str,
        confidence: float | None,
        time_spent: float | None,
        is_honeypot: bool,
        note: str | None,
        created_at: Any,
        data_version: str,
        context: dict[str, str],
        event_uid: str | None,
        func: str = "Project.annotate",
    ) -> list[LabelEvent]:
        """Validated events for one annotation (with retractions of follow-ups it switches off).

        ``context`` holds the annotator's current answers to the example and is updated in
        place, so that several annotations of one batch see each other.
        """
        _check_str("annotator", annotator, func)
        if source not in LABEL_SOURCES:
            raise LabelValidationError(
                f"The 'source' parameter of {func} must be one of {list(LABEL_SOURCES)!r}. Got {source!r} instead."
            )
        if confidence is not None:
            bad = isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating))
            if bad or not 0.0 <= float(confidence) <= 1.0:
                raise LabelValidationError(
                    f"The 'confidence' parameter of {func} must be a number in [0, 1]. Got {confidence!r} instead."
                )
            confidence = float(confidence)
        if time_spent is not None:
            if (isinstance(time_spent, bool) or not isinstance(time_spent, (int, float, np.floating))
                    or not math.isfinite(float(time_spent)) or float(time_spent) < 0):
                raise LabelValidationError(
                    f"The 'time_spent' parameter of {func} must be a finite number of seconds >= 0. "
                    f"Got {time_spent!r} instead."
                )
            time_spent = float(time_spent)
        if note is not None and not isinstance(note, str):
            raise LabelValidationError(
                f"The 'note' parameter of {func} must be a string or None. Got {type(note).__name__} {note!r}; "
                f"pass str(note) to keep it as text."
            )
        if event_uid is not None and (not isinstance(event_uid, str) or not event_uid):
            raise LabelValidationError(
                f"The 'event_uid' parameter of {func} must be a non-empty string. Got {event_uid!r} instead."
            )
        when = utc_now() if created_at is None else parse_timestamp(created_at)
        schema = self._schema.current
        answers = schema.validate(value, context=context)
        merged = {**context, **answers}
        sv, gv = schema.version, self._schema.guideline_version
        events: list[LabelEvent] = []
        base = event_uid or uuid.uuid4().hex
        for k, (q, v) in enumerate(answers.items()):
            events.append(
                LabelEvent(
                    example_id=example_id, question=q, value=v, source=source, annotator=annotator,
                    schema_version=sv, guideline_version=gv, data_version=data_version,
                    event_uid=f"{base}:{k}" if len(answers) > 1 or event_uid else base,
                    created_at=when, confidence=confidence, time_spent=time_spent,
                    is_honeypot=bool(is_honeypot), note=note,
                )
            )
        # A changed answer can switch follow-up questions off, through chains of conditions:
        # retract every earlier answer whose condition no longer holds.
        alive, dropped = _without_orphans(schema, merged, keep=answers)
        events += [
            LabelEvent(
                example_id=example_id, question=name, value=None, source=source, annotator=annotator,
                schema_version=sv, guideline_version=gv, data_version=data_version,
                event_uid=f"{base}:retract:{name}", created_at=when, action="retract",
                note=f"condition of {name!r} no longer holds",
            )
            for name in dropped if name in context
        ]
        context.clear()
        context.update(alive)
        return events

    def write(self, events: list[LabelEvent]) -> list[LabelEvent]:
        """Append events in one transaction and announce them; returns them with their ids."""
        stored = self._store.write_events(events)  # a retried event_uid returns the event stored first
        self._emitter.emit("labels_added", events=stored)
        return stored

    def last_event_id(self) -> int:
        """The id of the newest label event (0 when there is none)."""
        return int(self._store.last_event_id())

    def current_answers(self, example_id: str, source: str, annotator: str) -> dict[str, str]:
        """An annotator's current answers to one example, by question."""
        return self._store.current_answers(example_id, source, annotator)

    def annotate(
        self,
        example_id: str,
        value: str | Mapping[str, str],
        *,
        annotator: str,
        source: str = "human",
        confidence: float | None = None,
        time_spent: float | None = None,
        is_honeypot: bool = False,
        note: str | None = None,
        event_uid: str | None = None,
    ) -> list[LabelEvent]:
        """Record one annotation (see :meth:`workbench.Project.annotate`)."""
        known = self._data.check_ids([example_id])
        context = self.current_answers(example_id, source, annotator) if isinstance(annotator, str) else {}
        events = self.make_events(
            example_id, value, annotator=annotator, source=source, confidence=confidence, time_spent=time_spent,
            is_honeypot=is_honeypot, note=note, created_at=None, data_version=known[example_id], context=context,
            event_uid=event_uid,
        )
        return self.write(events)

    def annotate_many(self, records: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[LabelEvent]:
        """Record many annotations in one transaction (see :meth:`workbench.Project.annotate_many`)."""
        rows: list[dict[str, Any]] = (
            [{str(k): v for k, v in r.items()} for r in records.to_dict("records")]
            if isinstance(records, pd.DataFrame)
            else [dict(r) for r in records]
        )
        if not rows:
            return []
        for k, r in enumerate(rows):
            missing = {"example_id", "value", "annotator"} - set(r)
            if missing:
                raise LabelValidationError(
                    f"Row {k} of annotate_many lacks {sorted(missing)}; each record needs example_id, value "
                    f"and annotator."
                )
        ids = [r["example_id"] if isinstance(r["example_id"], str) else id_text(r["example_id"]) for r in rows]
        known = self._data.check_ids(list(dict.fromkeys(ids)))
        single = self._schema.current.is_single
        times: list[str | None] = []
        for k, (eid, r) in enumerate(zip(ids, rows, strict=True)):
            when = _none_if_na(r.get("created_at"))
            try:
                times.append(None if when is None else parse_timestamp(when))
            except LabelValidationError as exc:
                raise LabelValidationError(f"Row {k} (example {eid!r}): {exc} Nothing was written.") from None
        # oldest first (stable; a row without a time is recorded now: last), so an annotator's newest answer
        # is the one that stays current
        order = sorted(range(len(rows)), key=lambda k: times[k] or "\uffff") if any(times) else range(len(rows))
        current = self._current_of([(ids[k], rows[k]) for k in range(len(rows)) if times[k] is not None])
        contexts: dict[tuple[str, str, str], dict[str, str]] = {}
        events: list[LabelEvent] = []
        for k in order:
            eid, r = ids[k], rows[k]
            source = r.get("source") or "human"
            key = (eid, str(source), str(r["annotator"]))
            if key not in contexts:
                contexts[key] = self.current_answers(*key) if not single else {}
            try:
                events.extend(
                    self.make_events(
                        eid, r["value"], annotator=r["annotator"], source=source,
                        confidence=_none_if_na(r.get("confidence")), time_spent=_none_if_na(r.get("time_spent")),
                        is_honeypot=bool(_none_if_na(r.get("is_honeypot")) or False), note=_none_if_na(r.get("note")),
                        created_at=times[k], data_version=known[eid], context=contexts[key],
                        event_uid=_none_if_na(r.get("event_uid")), func="Project.annotate_many",
                    )
                )
            except LabelValidationError as exc:
                raise LabelValidationError(f"Row {k} (example {eid!r}): {exc} Nothing was written.") from None
        before = self._store.last_event_id()
        stored = self.write(events)
        if current:
            self._restate_newer(current, stored, before, single)
        return stored

    def _current_of(self, rows: list[tuple[str, Mapping[str, Any]]]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
        """The current label of each (example, question, source, annotator) a batch of timed rows touches."""
        if not rows:
            return {}
        wanted = {(eid, str(r.get("source") or "human"), str(r["annotator"])) for eid, r in rows}
        out: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        for src in sorted({w[1] for w in wanted}):
            lab = self.labels(source=src)
            for rec in lab.to_dict("records"):
                if (str(rec["example_id"]), src, str(rec["annotator"])) in wanted:
                    out[(str(rec["example_id"]), str(rec["question"]), src, str(rec["annotator"]))] = {
                        str(k): v for k, v in rec.items()}
        return out

    def _restate_newer(self, current: Mapping[tuple[str, str, str, str], Mapping[str, Any]], stored: list[LabelEvent],
                       before: int, single: bool) -> None:
        """Keep an annotator's newest answer current when a batch brought an older one (an import or a backfill).

        The log supersedes in the order events are written, so an answer older than the current
        one, written later, would become current. The newer answer is then written again (same
        value, time, note and confidence; ``event_uid`` ``<its uid>:restated:<older event id>``, so
        the same backfill again restates nothing more), append-only: ``history()`` shows both.
        """
        latest: dict[tuple[str, str, str, str], LabelEvent] = {}
        for e in stored:
            if int(e.event_id or 0) > before and e.action == "label":
                latest[(e.example_id, e.question, e.source, e.annotator)] = e  # the batch's last per key
        restate = []
        for key, e in latest.items():
            old = current.get(key)
            if old is None or str(e.created_at) >= str(old["created_at"]):
                continue
            restate.append({
                "example_id": key[0], "value": old["value"] if single else {key[1]: old["value"]},
                "annotator": key[3], "source": key[2], "created_at": old["created_at"], "note": old.get("note"),
                "confidence": old.get("confidence"), "time_spent": old.get("time_spent"),
                "is_honeypot": old.get("is_honeypot"), "event_uid": f"{old['event_uid']}:restated:{e.event_id}",
            })
        if restate:
            self.annotate_many(restate)

    def retract(
        self, example_id: str, question: str | None = None, *, annotator: str, source: str = "human",
        note: str | None = None,
    ) -> LabelEvent:
        """Withdraw an annotator's current answer (see :meth:`workbench.Project.retract`)."""
        known = self._data.check_ids([example_id])
        schema = self._schema.current
        q = schema.question(question)
        _check_str("annotator", annotator, "Project.retract")
        if note is not None and not isinstance(note, str):
            raise LabelValidationError(f"The 'note' parameter of Project.retract must be a string or None. Got "
                                       f"{type(note).__name__}.")
        context = self.current_answers(example_id, source, annotator)
        if q.name not in context:
            raise LabelValidationError(
                f"{annotator!r} has no current {source} answer to {q.name!r} for example {example_id!r}; "
                f"nothing to retract."
            )
        when = utc_now()
        base = uuid.uuid4().hex
        events = [LabelEvent(
            example_id=example_id, question=q.name, value=None, source=source, annotator=annotator,
            schema_version=schema.version, guideline_version=self._schema.guideline_version,
            data_version=known[example_id], event_uid=base, created_at=when, action="retract", note=note,
        )]
        # follow-ups whose condition needed this answer go too (transitively)
        _, dropped = _without_orphans(schema, {k: v for k, v in context.items() if k != q.name})
        events += [
            LabelEvent(
                example_id=example_id, question=name, value=None, source=source, annotator=annotator,
                schema_version=schema.version, guideline_version=self._schema.guideline_version,
                data_version=known[example_id], event_uid=f"{base}:retract:{name}", created_at=when,
                action="retract", note=f"condition of {name!r} no longer holds",
            )
            for name in dropped
        ]
        return self.write(events)[0]

    # ------------------------------------------------------------------ reading
    def history(self, example_id: str) -> pd.DataFrame:
        """Every event of one example, oldest first, with ``superseded_by`` and ``training_runs``."""
        self._data.check_ids([example_id])
        df = self._store.events(example_id=example_id)
        runs = self._store.training_runs_of_events(df["event_id"].tolist())
        df["training_runs"] = [runs.get(int(i), []) for i in df["event_id"]]
        return df.reset_index(drop=True)

    def labels(
        self, *, question: str | None = None, source: str | None = None, annotator: str | None = None,
        include_flagged: bool = False,
    ) -> pd.DataFrame:
        """The current labels: the latest non-retracted answer per example, question, source, annotator.

        Labels flagged as excluded (by a schema migration, or for re-review under new
        guidelines with ``exclude=True``) are left out unless ``include_flagged``: they stay in
        :meth:`history` and :meth:`events`, but no consensus, model or version uses them.
        """
        return self._current(question, source, annotator, include_flagged)[1].copy()

    def _current(
        self, question: str | None, source: str | None, annotator: str | None, include_flagged: bool,
    ) -> tuple[int, pd.DataFrame]:
        """``(revision, current labels)`` for one filter; the frame is the cached one (copy before changing it)."""
        key = (question, source, annotator, bool(include_flagged))
        last, seq = self._store.last_event_id(), self._store.get_meta(_FLAGS_SEQ_META)
        hit = self._labels_cache.get(key)
        if hit is not None and hit[0] == (last, seq):
            return hit[2], hit[1]
        if hit is not None and hit[0][1] == seq and hit[0][0] < last:
            # events are never updated or deleted, and an event only supersedes one of its own
            # (example, question, source, annotator): the newer events are all that can change the answer
            df = self._newer_labels(hit[1], hit[0][0], question, source, annotator, include_flagged)
        else:
            df = self._store.events(question=question, source=source, annotator=annotator, current_only=True)
            df = df[df["action"] == "label"]
            if not include_flagged:
                excluded = self.excluded_event_ids()
                if excluded:
                    df = df[~df["event_id"].isin(excluded)]
            df = df.reset_index(drop=True)
        if hit is not None and df is hit[1]:
            revision = hit[2]  # nothing that matches the filter changed
        else:
            self._revisions += 1
            revision = self._revisions
        if len(self._labels_cache) >= 64 and key not in self._labels_cache:  # a bounded set of filters
            self._labels_cache.clear()
            self._gold_cache.clear()
        self._labels_cache[key] = ((last, seq), df, revision)
        return revision, df

    def _newer_labels(
        self, cached: pd.DataFrame, since: int, question: str | None, source: str | None, annotator: str | None,
        include_flagged: bool,
    ) -> pd.DataFrame:
        """``cached`` (the current labels up to event ``since``) brought up to date with the events after it."""
        new = self._store.events(question=question, source=source, annotator=annotator, since_event_id=since)
        if new.empty:
            return cached
        gone = set(new["supersedes"].dropna().astype(int))
        new = new[~new["event_id"].isin(gone) & (new["action"] == "label")]
        if not include_flagged:
            excluded = self.excluded_event_ids()
            if excluded:
                new = new[~new["event_id"].isin(excluded)]
        kept = cached[~cached["event_id"].isin(gone)] if gone else cached
        if new.empty:
            return kept.reset_index(drop=True)
        return pd.concat([kept, new], ignore_index=True) if len(kept) else new.reset_index(drop=True)

    # ------------------------------------------------------------------ flags
    def add_flags(self, flags: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Record label flags (``(key, record)`` pairs with the fields of :data:`FLAG_COLUMNS`).

        A key already stored is kept as it is, so writing the same flags twice adds nothing.
        Returns how many were new. Flags are bookkeeping next to the events: no event changes.
        """
        items = [(str(k), {c: v.get(c) for c in FLAG_COLUMNS}) for k, v in flags]
        if not items:
            return 0
        n = self._store.put_records(FLAG_RECORD, items)
        if n:
            seq = self._store.get_meta(_FLAGS_SEQ_META)
            self._store.set_meta(_FLAGS_SEQ_META, int(seq or 0) + 1)
        return n

    def flags(self) -> pd.DataFrame:
        """Every label flag ever recorded, oldest first (see :data:`FLAG_COLUMNS`)."""
        seq = self._store.get_meta(_FLAGS_SEQ_META)
        if self._flags_cache is not None and self._flags_cache[0] == seq:
            return self._flags_cache[1].copy()
        records = list(self._store.get_records(FLAG_RECORD).values()) if seq is not None else []
        df = pd.DataFrame(records, columns=list(FLAG_COLUMNS))
        df["event_id"] = df["event_id"].astype("int64")
        df["excluded"] = df["excluded"].astype(bool)
        self._flags_cache = (seq, df)
        return df.copy()

    def excluded_event_ids(self) -> frozenset[int]:
        """The ids of flagged events that no consensus, model or label version may use."""
        f = self.flags()
        return frozenset(int(i) for i in f.loc[f["excluded"], "event_id"])

    def events(self) -> pd.DataFrame:
        """The whole event log, oldest first."""
        return self._store.events()

    def answers(self, question: str, *, include_honeypots: bool = False) -> pd.DataFrame:
        """Current human answers to ``question``: example_id, annotator, value, created_at, is_honeypot, event_id."""
        ev = self.labels(source="human", question=question)
        if not include_honeypots:
            ev = ev[~ev["is_honeypot"].astype(bool)]
        out = ev[["example_id", "annotator", "value", "created_at", "is_honeypot", "event_id"]].copy()
        out["created_at"] = pd.to_datetime(out["created_at"], utc=True, format="ISO8601")
        return out.reset_index(drop=True)

    # ------------------------------------------------------------------ gold
    def root_question(self, question: str | None) -> Question:
        """The named question; by default the first (root) question, which routing and quality use."""
        schema = self._schema.current
        return schema.question(question) if question is not None else schema.questions[0]

    def add_gold(
        self,
        gold: pd.DataFrame,
        id_column: str = "id",
        label_column: str = "label",
        *,
        annotator: str = "expert",
        question: str | None = None,
    ) -> int:
        """Record expert gold labels (see :meth:`workbench.Project.add_gold`)."""
        if not isinstance(gold, pd.DataFrame):
            raise DataError(
                f"add_gold takes a DataFrame with {id_column!r} and {label_column!r} columns. "
                f"Got {type(gold).__name__} instead."
            )
        for col in (id_column, label_column):
            if col not in gold.columns:
                raise DataError(
                    f"add_gold: the column {col!r} is missing. Columns: {list(gold.columns)!r}. Name yours with "
                    f"id_column= and label_column=."
                )
        q = self.root_question(question)
        single = self._schema.current.is_single
        rows = gold[[id_column, label_column]].dropna()
        # ids and labels as text, integral numbers as integers: a column with a gap reads 1.0 for 1
        pairs = list(dict.fromkeys((id_text(i), id_text(v)) for i, v in
                                   zip(rows[id_column], rows[label_column], strict=True)))
        seen: dict[str, str] = {}
        clashes = sorted({i for i, v in pairs if seen.setdefault(i, v) != v})
        if clashes:
            raise LabelValidationError(
                f"add_gold: {len(clashes)} id(s) come with two different labels, e.g. {clashes[:3]!r}; give one label "
                f"per example. Nothing was written."
            )
        records = [{"example_id": i, "value": {q.name: v} if not single else v, "annotator": annotator,
                    "source": "gold"} for i, v in pairs]
        return len(self.annotate_many(records))

    def gold(self, question: str | None = None) -> pd.Series:
        """Current gold labels (choices) indexed by example id."""
        q = self.root_question(question)
        revision, g = self._current(q.name, "gold", None, False)
        key = ("gold", q.name)
        hit = self._gold_cache.get(key)
        if hit is None or hit[0] != revision:
            hit = (revision, g.drop_duplicates("example_id", keep="last").set_index("example_id")["value"]
                   .rename("gold"))
            self._gold_cache[key] = hit
        return hit[1].copy()

    def gold_labels(self, gold: str | pd.Series | None = "gold", question: str | None = None) -> np.ndarray:
        """Gold label ids aligned with the examples, ``-1`` where unknown.

        ``gold`` is ``"gold"`` (labels recorded with ``source="gold"``), a data column holding
        choices, or a Series of choices indexed by example id.
        """
        q = self._schema.current.question(question)
        ids = self._data.index()
        if isinstance(gold, str) and gold == "gold":  # the same gold, choices and examples: the same ids
            revision, _ = self._current(q.name, "gold", None, False)
            key = ("gold_labels", q.name, tuple(q.choices), len(ids))  # examples are only ever appended
            hit = self._gold_cache.get(key)
            if hit is None or hit[0] != revision:
                hit = (revision, self._gold_labels(gold, q, ids))
                self._gold_cache[key] = hit
            return np.array(hit[1])
        return self._gold_labels(gold, q, ids)

    def _gold_labels(self, gold: str | pd.Series | None, q: Question, ids: pd.Index) -> np.ndarray:
        if isinstance(gold, pd.Series):
            values = _gold_series(gold, ids)
        elif gold == "gold":
            g = self.labels(source="gold", question=q.name)
            values = g.drop_duplicates("example_id", keep="last").set_index("example_id")["value"].reindex(ids)
        elif isinstance(gold, str):
            frame = self._data.frame()
            if gold not in frame.columns:
                raise DataError(
                    f"gold={gold!r} is neither 'gold' (labels recorded with source='gold') nor a data column. "
                    f"Columns: {[c for c in frame.columns if c != 'data_version']!r}."
                )
            values = frame[gold]
        else:
            raise DataError(f"gold must be 'gold', a column name or a pandas Series. Got {type(gold).__name__}.")
        lookup = {c: i for i, c in enumerate(q.choices)}
        out = np.full(len(ids), ABSTAIN, dtype=np.int64)
        unknown = set()
        for k, v in enumerate(values.tolist()):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            key = v if isinstance(v, str) else str(v)
            if key in lookup:
                out[k] = lookup[key]
            elif isinstance(v, (int, np.integer)) and 0 <= int(v) < q.cardinality:
                out[k] = int(v)
            else:
                unknown.add(key)
        if unknown:
            raise DataError(
                f"The gold labels hold values that are not choices of {q.name!r}: {sorted(unknown)[:5]}. "
                f"Expected one of {list(q.choices)!r} (or their ids 0..{q.cardinality - 1})."
            )
        return out
