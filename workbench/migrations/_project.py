"""``project.migrations``: schema and guideline migrations that never rewrite a label."""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from workbench._constants import LABEL_SOURCES
from workbench.exceptions import LabelValidationError, SchemaError
from workbench.migrations._plan import (
    QUEUE_SOURCES,
    MigrationPlan,
    MigrationResult,
    check_sources,
    lf_id_shift_message,
    lf_id_shifts,
    lf_issues,
    lf_lost_votes,
    lf_lost_votes_message,
    plan_labels,
)
from workbench.schema import Schema, SchemaChanges
from workbench.store import LabelEvent, utc_now

if TYPE_CHECKING:
    from workbench.lf import BaseLF, ProjectLFs
    from workbench.log import LabelLog
    from workbench.schema import SchemaRegistry
    from workbench.store import EventStore

__all__ = [
    "MIGRATION_RECORD", "REVIEW_RECORD", "REVIEW_SOURCES", "ProjectMigrations", "SchemaSwitch", "follow_renames",
    "schema_switches",
]

#: Store record kind of applied (or started) migrations, keyed by migration id.
MIGRATION_RECORD = "schema_migration"
#: Store record kind of guideline re-reviews, keyed ``r1``, ``r2`` ...
REVIEW_RECORD = "guideline_review"
#: Sources whose labels a new guideline version flags for re-review by default: people's labels.
REVIEW_SOURCES: tuple[str, ...] = ("human", "adjudication", "gold")
#: ``event_uid`` prefix of the events a migration writes.
MIGRATED_UID = "migrate:"

QUEUE_COLUMNS: tuple[str, ...] = (
    "example_id", "question", "kind", "origin", "reasons", "old_values", "flagged_event_ids", "queued_at",
    "done", "done_event_id",
)
MIGRATION_COLUMNS: tuple[str, ...] = (
    "migration_id", "old_version", "new_version", "status", "started_at", "applied_at", "exclude",
    "relabel_queue", "n_unchanged", "n_mapped", "n_relabel", "n_dropped", "n_asked", "n_queued", "changes",
)


class SchemaSwitch(NamedTuple):
    """A schema migration that made its new schema current: when it started and the questions it renamed."""

    migration_id: str
    started_at: str
    renamed_questions: Mapping[str, str]


def schema_switches(store: EventStore, *, applied_only: bool = False) -> builtins.list[SchemaSwitch]:
    """Every migration that switched the project's schema, oldest first, read from the store's records.

    Parameters
    ----------
    store : EventStore
        The project's store (so a migration made by another process is seen too).
    applied_only : bool, default False
        Only migrations whose writing finished (``status == "applied"``); by default also one
        that switched the schema and is still writing its events.
    """
    out = []
    for mid, rec in store.get_records(MIGRATION_RECORD).items():
        if rec.get("switched_at") is None or (applied_only and rec.get("status") != "applied"):
            continue
        renamed = rec.get("renamed_questions") or {}
        out.append(SchemaSwitch(str(mid), str(rec.get("started_at") or ""),
                                {str(k): str(v) for k, v in dict(renamed).items()}))
    return sorted(out, key=lambda sw: (sw.started_at, sw.migration_id))


def follow_renames(question: str, switches: Iterable[SchemaSwitch], *, since: str = "") -> str:
    """The name ``question`` has after the ``switches`` that started after ``since`` (in order)."""
    for switch in switches:
        if switch.started_at > since:
            question = switch.renamed_questions.get(question, question)
    return question


def _migration_id(old: Schema, new: Schema, watermark: int) -> str:
    key = json.dumps([old.version, new.version, new.guideline_version, int(watermark)])
    return "m-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _answer(question: Any, value: Any, other: Any) -> str:
    """``'ok'``, or ``toxic='ok'`` when the question differs from ``other`` (a renamed question)."""
    return f"{value!r}" if question == other else f"{question}={value!r}"


def _none(value: Any) -> Any:
    try:
        return None if value is None or pd.isna(value) else value
    except (TypeError, ValueError):
        return value


class ProjectMigrations:
    """Schema and guideline migrations: plan, apply, flag, relabel; no label is ever rewritten.

    A schema change (:meth:`Schema.evolve <workbench.Schema.evolve>`: add, remove, rename,
    merge or split a choice; add, remove or rename a question; change a condition) is first a
    :meth:`plan` that says what happens to every current label of every source. Applying it
    makes the new schema current, appends automatic mappings as new events that reference
    the old ones (they supersede them; a renamed question's old events are flagged instead),
    and flags the labels that cannot be mapped: they stay in the history and are left out of
    current labels, consensus, models and label versions; their items wait in
    :meth:`relabel_queue` until someone answers them under the new schema. New guidelines can
    flag the labels made under older ones for re-review (:meth:`flag_for_review`).
    ``project.update_schema`` refuses a change that would silently invalidate labels and
    points here.

    Parameters
    ----------
    store : EventStore
        Migration and review records; the event log.
    schema : SchemaRegistry
        The current schema, and where the new one is recorded.
    log : LabelLog
        Current labels, appended events and label flags.
    lfs : ProjectLFs
        The registered LFs, checked for votes whose meaning a change shifts.

    Examples
    --------
    >>> import tempfile, pandas as pd, workbench as wb
    >>> project = wb.Project.create(tempfile.mkdtemp() + "/t", schema=wb.Schema.single("toxicity", ["ok", "toxic"]))
    >>> _ = project.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["hi", "you idiot"]}), id_column="id")
    >>> _ = project.annotate("a", "ok", annotator="ann")
    >>> _ = project.annotate("b", "toxic", annotator="ann")
    >>> new = project.schema.evolve(split={"toxic": ["harassment", "hate", "other"]}, rename={"ok": "fine"})
    >>> plan = project.migrations.plan(new)
    >>> plan.counts["mapped"], plan.counts["relabel"]
    (1, 1)
    >>> result = plan.apply(relabel_queue=True)
    >>> project.labels()["value"].tolist(), project.migrations.relabel_ids()
    (['fine'], ['b'])
    >>> _ = project.annotate("b", "hate", annotator="ann")
    >>> project.migrations.relabel_ids()
    []
    """

    def __init__(self, store: EventStore, schema: SchemaRegistry, log: LabelLog, lfs: ProjectLFs) -> None:
        self._store = store
        self._schema = schema
        self._log = log
        self._lfs = lfs

    def __repr__(self) -> str:
        return ("<project.migrations: plan, list, flags, relabel_queue, relabel_ids, flag_for_review, flag_invalid, "
                "check_update>")

    # ------------------------------------------------------------------ planning
    def _votes_of(self, lf: BaseLF) -> frozenset[int]:
        """The label ids a registered LF is known to vote (declared, or seen in its computed votes)."""
        return self._lfs.known_votes(lf.name)

    def _current_labels(self) -> pd.DataFrame:
        """Current labels that a migration judges: all sources; labels a schema migration flagged stay out."""
        labels = self._log.labels(include_flagged=True)
        flags = self._log.flags()
        gone = set(flags.loc[flags["excluded"] & (flags["kind"] == "schema"), "event_id"].astype(int))
        return labels[~labels["event_id"].isin(gone)] if gone else labels

    def _changes(self, new: Schema, func: str) -> SchemaChanges:
        current = self._schema.current
        if new.changes is None:
            return SchemaChanges.infer(current, new)
        if new.changes.base_version != current.version:
            raise SchemaError(
                f"The schema passed to {func} was evolved from schema version {new.changes.base_version}, but the "
                f"project's current schema is {current.version}. Evolve the current one: "
                f"project.schema.evolve(...)."
            )
        return new.changes

    def plan(
        self,
        new_schema: Schema,
        *,
        guidelines: str | os.PathLike[str] | None = None,
        queue_sources: Sequence[str] = QUEUE_SOURCES,
    ) -> MigrationPlan:
        """What migrating to ``new_schema`` does to every current label; nothing is written.

        Parameters
        ----------
        new_schema : Schema
            Usually ``project.schema.evolve(...)``, whose ``changes`` say what became of each
            choice. A schema built by hand is compared by name: a missing choice counts as
            removed (nothing is guessed to be a rename).
        guidelines : str or path-like, optional
            New guidelines to record with the new schema.
        queue_sources : list of str, default ("human", "adjudication", "gold")
            Sources whose unmappable labels put their items in the relabel queue. Labels of
            the other sources (``lf``, ``model``, ``consensus``, ``feedback``) are mapped or
            flagged the same way, but not queued: re-run their producers instead.

        Returns
        -------
        MigrationPlan
            ``summary()``, ``table()``, ``relabel_items()``, ``lfs()`` and ``apply()``.

        Raises
        ------
        SchemaError
            ``new_schema`` is not a Schema, equals the current one, or was evolved from
            another schema version than the current one.
        """
        if not isinstance(new_schema, Schema):
            raise SchemaError(
                f"project.migrations.plan takes a wb.Schema, usually project.schema.evolve(...). Got "
                f"{type(new_schema).__name__} instead."
            )
        sources = check_sources(queue_sources, "queue_sources", "project.migrations.plan", LABEL_SOURCES)
        new = new_schema.with_guidelines(guidelines) if guidelines is not None else new_schema
        old = self._schema.current
        if new.version == old.version:
            hint = ("Only the guidelines differ: record them with project.update_guidelines(...) and flag older "
                    "labels with project.migrations.flag_for_review()."
                    if new.guideline_version != old.guideline_version and new.guidelines is not None
                    else "Change it first, e.g. project.schema.evolve(rename={'old': 'new'}).")
            raise SchemaError(f"The new schema has the current schema's structure (version {old.version}); there is "
                              f"nothing to migrate. {hint}")
        changes = self._changes(new, "project.migrations.plan")
        watermark = self._store.last_event_id()
        table, asked = plan_labels(self._current_labels(), old, new, changes, sources)
        registered = list(self._lfs)
        shifts = lf_id_shifts(registered, old, new, changes)
        lost = lf_lost_votes(registered, old, new, changes, self._votes_of)
        issues = lf_issues(registered, old, new, changes)
        held = {n for s in shifts for n in s.lfs} | {x.lf for x in lost}
        if held and len(issues):
            issues["issue"] = [f"{i}. apply() refuses this plan while the LF is registered" if n in held else i
                               for n, i in zip(issues["lf"], issues["issue"], strict=True)]
        return MigrationPlan(
            self, migration_id=_migration_id(old, new, watermark), old_schema=old, new_schema=new, changes=changes,
            table=table, asked=asked, lfs=issues, watermark=watermark, queue_sources=sources, lf_shifts=shifts,
            lf_lost=lost,
        )

    def check_update(self, new_schema: Schema) -> None:
        """Refuse a plain schema update that would leave current labels invalid or silently changed.

        ``project.update_schema`` calls this first. A change that only adds choices or
        questions, removes unused ones, or keeps every current label valid passes; anything
        else (a used choice removed, renamed, merged or split; a used question renamed, or one
        whose items wait in the relabel queue; a condition that no longer holds for some labels)
        raises and points to :meth:`plan`. A change that moves choices registered LFs vote
        with to other integer ids (a reorder; a choice removed or inserted before others) is
        refused as well, with or without labels: migrating would not help.

        Raises
        ------
        SchemaError
            Naming the affected questions and choices, how many labels of which sources use
            them, and the migration to run instead; or the LFs and the choices whose label ids
            would change, and how to change the schema safely. Nothing is changed.
        """
        if not isinstance(new_schema, Schema):
            return  # the registry raises its own clear error
        old = self._schema.current
        if new_schema.version == old.version:
            return
        changes = self._changes(new_schema, "update_schema")
        shifts = lf_id_shifts(self._lfs, old, new_schema, changes)
        if shifts:
            raise SchemaError(lf_id_shift_message(shifts, "update_schema"))
        lost = lf_lost_votes(self._lfs, old, new_schema, changes, self._votes_of)
        if lost:
            raise SchemaError(lf_lost_votes_message(lost, "update_schema"))
        if changes.renamed_questions:
            waiting = self.relabel_queue()
            held = sorted(set(waiting["question"]) & set(changes.renamed_questions))
            if held:
                raise SchemaError(
                    f"update_schema would rename the question(s) {held!r}, whose items wait in the relabel queue "
                    f"({int(waiting['question'].isin(held).sum())} item(s)); a plain update would lose track of them. "
                    f"Nothing was changed. Migrate instead, so that the queue follows the new name: "
                    f"project.migrations.plan(new_schema).apply()."
                )
        labels = self._current_labels()
        # labels already invalid under the current schema are an older problem (see flag_invalid), not this change's
        valid = {(q.name, c) for q in old.questions for c in q.choices}
        labels = labels[[(q, v) in valid for q, v in zip(labels["question"], labels["value"], strict=True)]]
        table, _ = plan_labels(labels, old, new_schema, changes, QUEUE_SOURCES)
        bad = table[table["status"] != "unchanged"]
        if bad.empty:
            return
        parts = []
        for (q, v, st), g in bad.groupby(["question", "value", "status"], sort=True):
            by_src = ", ".join(f"{s}: {n}" for s, n in g["source"].value_counts().sort_index().items())
            what = {"mapped": "would need mapping", "relabel": "would need relabeling",
                    "dropped": "would lose its answer"}[str(st)]
            parts.append(f"{q}={v!r} {what} ({g['reason'].iloc[0]}; {len(g)} label(s): {by_src})")
        shown = "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more" if len(parts) > 5 else "")
        raise SchemaError(
            f"update_schema would silently invalidate {len(bad)} current label(s): {shown}. Nothing was changed. "
            f"Migrate instead, so that every label is mapped, queued for relabeling or excluded explicitly: "
            f"plan = project.migrations.plan(new_schema); plan.summary(); plan.apply(relabel_queue=True). Use "
            f"project.schema.evolve(rename=..., merge=..., split=..., remove=...) to say what became of each choice."
        )

    def flag_invalid(
        self, *, relabel_queue: bool = True, exclude: str = "flagged", queue_sources: Sequence[str] = QUEUE_SOURCES,
    ) -> MigrationResult:
        """Flag current labels that are not valid answers under the current schema, and queue their items.

        For projects whose schema was changed before ``update_schema`` refused such changes: a
        label whose choice or question no longer exists, or whose condition no longer holds,
        is flagged (kept, excluded) exactly as a migration would. Recorded like a migration
        from the current schema to itself; with nothing to flag, nothing is recorded.
        """
        sources = check_sources(queue_sources, "queue_sources", "project.migrations.flag_invalid", LABEL_SOURCES)
        current = self._schema.current
        identity = SchemaChanges(current.version, {q.name: {c: (c,) for c in q.choices} for q in current.questions},
                                 steps=("flagged the labels that are not valid under the current schema",))
        watermark = self._store.last_event_id()
        table, asked = plan_labels(self._current_labels(), current, current, identity, sources)
        plan = MigrationPlan(
            self, migration_id=_migration_id(current, current, watermark), old_schema=current, new_schema=current,
            changes=identity, table=table, asked=asked, lfs=lf_issues([], current, current, identity),
            watermark=watermark, queue_sources=sources,
        )
        if not table["status"].isin(["relabel", "dropped"]).any():
            return MigrationResult(plan.migration_id, current.version, current.version, plan.counts, exclude=exclude)
        return plan.apply(relabel_queue=relabel_queue, exclude=exclude)

    # ------------------------------------------------------------------ applying
    def _apply(self, plan: MigrationPlan, *, relabel_queue: bool, exclude: str) -> MigrationResult:
        mid = plan.migration_id
        rec = self._store.get_record(MIGRATION_RECORD, mid)
        if rec is not None and rec.get("status") == "applied":
            raise SchemaError(
                f"Migration {mid} ({plan.old_version} -> {plan.new_version}) was applied already, at "
                f"{rec.get('applied_at')}. Applying it again would change nothing. To change the schema further, "
                f"plan again from the current schema: project.migrations.plan(project.schema.evolve(...))."
            )
        if rec is None or rec.get("switched_at") is None:  # the schema is not switched yet: nothing is changed
            shifts = lf_id_shifts(self._lfs, plan.old_schema, plan.new_schema, plan.changes)  # LFs registered now
            if shifts:
                raise SchemaError(lf_id_shift_message(shifts, f"Migration {mid} ({plan.old_version} -> "
                                                              f"{plan.new_version})"))
            lost = lf_lost_votes(self._lfs, plan.old_schema, plan.new_schema, plan.changes, self._votes_of)
            if lost:
                raise SchemaError(lf_lost_votes_message(lost, f"Migration {mid} ({plan.old_version} -> "
                                                              f"{plan.new_version})"))
        current = self._schema.version
        if rec is None:
            if current != plan.old_version:
                raise SchemaError(
                    f"This plan migrates from schema {plan.old_version}, but the current schema is now {current} "
                    f"(it changed after the plan was made). Make a new plan: project.migrations.plan(...)."
                )
            claim = {"migration_id": mid, "old_version": plan.old_version, "new_version": plan.new_version,
                     "status": "started", "started_at": utc_now(), "exclude": exclude, "relabel_queue": relabel_queue,
                     "changes": plan.changes.describe(), "switched_at": None,
                     "queue_sources": list(plan.queue_sources),
                     "renamed_questions": dict(plan.changes.renamed_questions),
                     # the changes as data too (undo carries an older answer through them)
                     "choice_maps": {q: {c: list(t) for c, t in m.items()}
                                     for q, m in plan.changes.choice_maps.items()},
                     "removed_questions": list(plan.changes.removed_questions),
                     "added_questions": list(plan.changes.added_questions),
                     "changed_conditions": list(plan.changes.changed_conditions)}
            self._store.put_record(MIGRATION_RECORD, mid, claim)
            rec = self._store.get_record(MIGRATION_RECORD, mid) or claim
        if rec.get("switched_at") is None:
            if self._schema.version != plan.old_version:
                raise SchemaError(
                    f"Migration {mid} was started, but the schema is now {self._schema.version}, neither its old "
                    f"({plan.old_version}) nor its new version. Make a new plan from the current schema."
                )
            switched = {**rec, "switched_at": self._store.last_event_id()}
            if self._store.put_record(MIGRATION_RECORD, mid, switched, expected=rec):
                self._schema.update(plan.new_schema)
            rec = self._store.get_record(MIGRATION_RECORD, mid) or switched
        elif self._schema.version != plan.new_version:
            raise SchemaError(
                f"Migration {mid} switched the schema to {plan.new_version}, but it is now {self._schema.version}. "
                f"Make a new plan from the current schema."
            )
        exclude, relabel_queue = str(rec.get("exclude", exclude)), bool(rec.get("relabel_queue", relabel_queue))
        switched_at = int(str(rec["switched_at"]))
        # Judge every label made under the old schema: those before the switch, and any validated against the
        # old schema but written just after it. Events this migration wrote are under the new schema already.
        labels = self._current_labels()
        prefix = f"{MIGRATED_UID}{mid}:"
        keep = ((labels["event_id"] <= switched_at) | (labels["schema_version"] == plan.old_version)) & \
            ~labels["event_uid"].astype(str).str.startswith(prefix)
        labels = labels[keep]
        table, asked = plan_labels(labels, plan.old_schema, plan.new_schema, plan.changes, plan.queue_sources)
        mapped_rows = table[table["status"] == "mapped"]
        wanted = labels[labels["event_id"].isin(mapped_rows["event_id"])]
        full = {int(r["event_id"]): r for r in wanted.to_dict("records")}
        events: list[LabelEvent] = []
        for r in mapped_rows.to_dict("records"):
            old = full[int(r["event_id"])]
            events.append(LabelEvent(
                example_id=str(r["example_id"]), question=str(r["new_question"]), value=str(r["new_value"]),
                source=str(r["source"]), annotator=str(r["annotator"]), schema_version=plan.new_version,
                guideline_version=str(old["guideline_version"]), data_version=_none(old["data_version"]),
                event_uid=f"{prefix}{int(r['event_id'])}", created_at=str(old["created_at"]),
                confidence=_none(old["confidence"]), time_spent=_none(old["time_spent"]),
                is_honeypot=bool(old["is_honeypot"]),
                note=f"migration {mid}: {_answer(r['question'], r['value'], r['new_question'])} -> "
                     f"{_answer(r['new_question'], r['new_value'], r['question'])}, from event {int(r['event_id'])} "
                     f"(schema {old['schema_version']})",
            ))
        if events:
            self._log.write(events)
        # every mapping of this migration, also those a resumed (interrupted) apply wrote the first time
        written = self._store.events(since_event_id=switched_at)
        written = written[written["event_uid"].astype(str).str.startswith(prefix)]
        mapped = {int(str(u)[len(prefix):]): int(i) for u, i in zip(written["event_uid"], written["event_id"],
                                                                    strict=True)}
        now = utc_now()
        flags: list[tuple[str, dict[str, Any]]] = []
        flagged = table[table["status"].isin(["relabel", "dropped"])]
        for r in flagged.to_dict("records"):
            flags.append((f"schema:{mid}:{int(r['event_id'])}", {
                **{k: r[k] for k in ("event_id", "example_id", "question", "value", "source", "annotator",
                                     "schema_version", "guideline_version", "status", "reason")},
                "event_id": int(r["event_id"]), "kind": "schema", "rule": exclude, "excluded": True, "origin": mid,
                "created_at": now,
            }))
        # A mapped label of a renamed question: its new event (another question) cannot supersede the old one in
        # the store, so the old event is flagged too: kept in the history, never current again, never kept under
        # its old schema version (its answer lives on under the new name).
        moved = table[(table["status"] == "mapped") & (table["new_question"] != table["question"])]
        for r in moved.to_dict("records"):
            old_id = int(r["event_id"])
            flags.append((f"schema:{mid}:{old_id}", {
                **{k: r[k] for k in ("example_id", "question", "value", "source", "annotator", "schema_version",
                                     "guideline_version", "status")},
                "event_id": old_id, "kind": "schema", "rule": "flagged", "excluded": True, "origin": mid,
                "reason": f"{r['reason']}: mapped to event {mapped.get(old_id)}", "created_at": now,
            }))
        # an excluding review flag follows its label to the mapped event
        reviews = self._log.flags()
        reviews = reviews[(reviews["kind"] == "review") & reviews["excluded"] & reviews["event_id"].isin(list(mapped))]
        for r in reviews.to_dict("records"):
            new_id = mapped[int(r["event_id"])]
            flags.append((f"review:{r['origin']}:{new_id}", {**{str(k): v for k, v in r.items()}, "event_id": new_id,
                                                               "created_at": now}))
        self._log.add_flags(flags)
        queue: list[dict[str, Any]] = []
        if relabel_queue:
            q_rows = table.loc[table["queue"].to_numpy(dtype=bool)]
            q_rows = q_rows.assign(question=q_rows["new_question"].fillna(q_rows["question"]))
            for (eid, q), g in q_rows.groupby(["example_id", "question"], sort=False):
                queue.append({"example_id": eid, "question": q, "reasons": sorted(set(g["reason"])),
                              "old_values": sorted(set(g["value"].astype(str))),
                              "event_ids": [int(i) for i in g["event_id"]], "sources": sorted(set(g["source"]))})
            seen = {(e["example_id"], e["question"]) for e in queue}
            for (eid, q), g in asked.groupby(["example_id", "question"], sort=False):
                if (eid, q) not in seen:
                    queue.append({"example_id": eid, "question": q, "reasons": sorted(set(g["reason"])),
                                  "old_values": [], "event_ids": [], "sources": sorted(set(g["source"]))})
        counts = {s: int((table["status"] == s).sum()) for s in ("unchanged", "mapped", "relabel", "dropped")}
        counts["asked"] = len(asked)
        done = {**rec, "status": "applied", "applied_at": utc_now(), "counts": counts,
                "mapped": [[o, n] for o, n in mapped.items()], "queue": queue,
                "watermark_after": self._store.last_event_id()}
        self._store.put_record(MIGRATION_RECORD, mid, done, replace=True)
        issues = plan.lfs()
        if len(issues):
            warnings.warn(
                f"Migration {mid}: {len(issues)} labeling function(s) vote with label ids whose meaning changed: "
                + "; ".join(f"{n}: {i}" for n, i in zip(issues["lf"], issues["issue"], strict=True)),
                UserWarning, stacklevel=3,
            )
        return MigrationResult(
            migration_id=mid, old_version=plan.old_version, new_version=plan.new_version, counts=counts,
            mapped=mapped, flagged=[int(i) for i in flagged["event_id"]], queued=len(queue), exclude=exclude,
        )

    # ------------------------------------------------------------------ reading
    def list(self) -> pd.DataFrame:
        """Every migration started or applied, oldest first, with its counts (see :data:`MIGRATION_COLUMNS`)."""
        rows = []
        for rec in self._store.get_records(MIGRATION_RECORD).values():
            c = rec.get("counts") or {}
            rows.append({
                **{k: rec.get(k) for k in ("migration_id", "old_version", "new_version", "status", "started_at",
                                           "applied_at", "exclude", "relabel_queue", "changes")},
                **{f"n_{s}": c.get(s) for s in ("unchanged", "mapped", "relabel", "dropped", "asked")},
                "n_queued": len(rec.get("queue") or []),
            })
        return pd.DataFrame(rows, columns=list(MIGRATION_COLUMNS))

    def flags(self, *, kind: str | None = None) -> pd.DataFrame:
        """Every flagged label, oldest first: the event, why (``reason``), its ``kind`` (``schema`` or
        ``review``), ``status``, ``rule`` (``flagged``, ``keep_old_version``, ``review``), whether it is
        ``excluded``, its ``origin`` (migration or review id), and whether it is still current."""
        if kind is not None and kind not in ("schema", "review"):
            raise LabelValidationError(f"The 'kind' parameter of project.migrations.flags must be 'schema', 'review' "
                                       f"or None. Got {kind!r} instead.")
        f = self._log.flags()
        if kind is not None:
            f = f[f["kind"] == kind]
        current = set(self._log.labels(include_flagged=True)["event_id"].astype(int)) if len(f) else set()
        f = f.assign(current=f["event_id"].isin(current).to_numpy(dtype=bool))
        return f.reset_index(drop=True)

    def _queue_entries(self) -> builtins.list[dict[str, Any]]:
        """Every queued item, its question under its name now (a later migration may have renamed it)."""
        out: builtins.list[dict[str, Any]] = []
        records = self._store.get_records(MIGRATION_RECORD)
        switches = schema_switches(self._store, applied_only=True)

        def now_named(question: str, since: str) -> str:
            return follow_renames(question, switches, since=since)

        for rec in (records[sw.migration_id] for sw in switches):
            since = str(rec.get("started_at") or "")
            for e in rec.get("queue") or []:
                out.append({**e, "question": now_named(str(e["question"]), since), "kind": "schema",
                            "origin": rec["migration_id"], "after": int(rec["switched_at"]),
                            "queued_at": rec.get("applied_at"), "sources": e.get("sources") or list(QUEUE_SOURCES),
                            "allowed": rec.get("queue_sources") or list(QUEUE_SOURCES)})
        for key, rec in self._store.get_records(REVIEW_RECORD).items():
            since = str(rec.get("created_at") or "")
            for e in rec.get("queue") or []:
                out.append({**e, "question": now_named(str(e["question"]), since), "kind": "review", "origin": key,
                            "after": int(rec["watermark"]), "queued_at": rec.get("created_at"),
                            "allowed": rec.get("sources") or list(REVIEW_SOURCES)})
        return out

    def relabel_queue(self, *, question: str | None = None, include_done: bool = False) -> pd.DataFrame:
        """Items waiting to be relabeled after a migration or a guideline re-review, oldest first.

        An item (example and question) leaves the queue as soon as it has a current label
        made after the migration (or review) by one of the queued sources (``human``,
        ``adjudication``, ``gold`` by default) that is not itself flagged: any annotator's
        answer under the new schema counts. Items whose question a later change removed
        leave it too.

        Parameters
        ----------
        question : str, optional
            Only this question's items.
        include_done : bool, default False
            Also list the items already relabeled (``done``, with the ``done_event_id``).

        Returns
        -------
        DataFrame
            One row per item and origin: ``example_id``, ``question``, ``kind`` (``schema`` or
            ``review``), ``origin`` (migration or review id), ``reasons``, ``old_values``,
            ``flagged_event_ids``, ``queued_at``, ``done``, ``done_event_id``.
        """
        if question is not None:
            self._schema.current.question(question)
        if not isinstance(include_done, bool):
            raise LabelValidationError(f"The 'include_done' parameter of relabel_queue must be True or False. Got "
                                       f"{include_done!r} instead.")
        entries = self._queue_entries()
        if question is not None:
            entries = [e for e in entries if e["question"] == question]
        if not entries:
            return pd.DataFrame(columns=list(QUEUE_COLUMNS))
        since = min(int(e["after"]) for e in entries)
        recent = self._store.events(since_event_id=since)
        uids = dict(zip(recent["event_id"].astype(int), recent["event_uid"].astype(str), strict=True))

        def made(event_id: int) -> int:
            """The event an answer was first given in: a later migration's mapping keeps the original's place."""
            while uids.get(event_id, "").startswith(MIGRATED_UID):
                event_id = int(uids[event_id].rsplit(":", 1)[1])
            return event_id

        ev = recent[(recent["action"] == "label") & recent["superseded_by"].isna()]
        excluded = self._log.excluded_event_ids()
        if excluded:
            ev = ev[~ev["event_id"].isin(excluded)]
        answers: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for eid, q, i, src in zip(ev["example_id"], ev["question"], ev["event_id"], ev["source"], strict=True):
            answers.setdefault((str(eid), str(q)), []).append((made(int(i)), str(src)))
        names = set(self._schema.current.question_names)
        rows = []
        for e in entries:
            allowed = set(e["allowed"])
            hits = [i for i, src in answers.get((e["example_id"], e["question"]), []) if i > e["after"] and
                    src in allowed]
            gone = e["question"] not in names
            done = bool(hits) or gone
            if done and not include_done:
                continue
            rows.append({"example_id": e["example_id"], "question": e["question"], "kind": e["kind"],
                         "origin": e["origin"], "reasons": e["reasons"] + (["question removed later"] if gone else []),
                         "old_values": e["old_values"], "flagged_event_ids": e["event_ids"],
                         "queued_at": e["queued_at"], "done": done, "done_event_id": min(hits) if hits else None})
        out = pd.DataFrame(rows, columns=list(QUEUE_COLUMNS))
        out["done"] = out["done"].astype(bool)
        out["done_event_id"] = out["done_event_id"].astype("Int64")
        return out

    def relabel_ids(self, question: str | None = None) -> builtins.list[str]:
        """The example ids waiting in :meth:`relabel_queue`, each once, oldest first."""
        return list(dict.fromkeys(self.relabel_queue(question=question)["example_id"].astype(str)))

    # ------------------------------------------------------------------ guidelines
    def flag_for_review(
        self,
        guideline_version: str | None = None,
        *,
        question: str | None = None,
        sources: Sequence[str] = REVIEW_SOURCES,
        exclude: bool = True,
        relabel_queue: bool = True,
    ) -> pd.DataFrame:
        """Flag the current labels made under older guidelines for re-review under the current ones.

        Parameters
        ----------
        guideline_version : str, optional
            The older guideline version whose labels to flag (see ``project.guideline_versions()``);
            default: every version but the current one.
        question : str, optional
            Only this question's labels.
        sources : list of str, default ("human", "adjudication", "gold")
            Whose labels to flag.
        exclude : bool, default True
            Leave the flagged labels out of current labels, consensus, models and label
            versions until re-reviewed (False: only queue them).
        relabel_queue : bool, default True
            Put their items in :meth:`relabel_queue`; an item leaves it when re-answered.

        Returns
        -------
        DataFrame
            The labels flagged now (labels flagged before are not flagged again).

        Raises
        ------
        LabelValidationError
            An unknown guideline version, the current one, or bad sources.
        """
        current = self._schema.guideline_version
        known = [str(v) for v in self._schema.guideline_versions()["version"]]
        if guideline_version is None:
            targets = [v for v in known if v != current]
        else:
            if not isinstance(guideline_version, str) or guideline_version not in known:
                raise LabelValidationError(
                    f"The 'guideline_version' parameter of flag_for_review must be one of the project's guideline "
                    f"versions {known!r} (see project.guideline_versions()). Got {guideline_version!r} instead."
                )
            if guideline_version == current:
                raise LabelValidationError(
                    f"The 'guideline_version' parameter of flag_for_review names the current guidelines "
                    f"({current}); labels made under them need no re-review. Record the new guidelines first "
                    f"(project.update_guidelines(...)), then flag the older version."
                )
            targets = [guideline_version]
        srcs = check_sources(sources, "sources", "flag_for_review", LABEL_SOURCES)
        for name, val in (("exclude", exclude), ("relabel_queue", relabel_queue)):
            if not isinstance(val, bool):
                raise LabelValidationError(f"The '{name}' parameter of flag_for_review must be True or False. Got "
                                           f"{val!r} instead.")
        qname = self._schema.current.question(question).name if question is not None else None
        labels = self._log.labels(question=qname)
        sel = labels[labels["guideline_version"].isin(targets) & labels["source"].isin(srcs)]
        review_flags = self._log.flags()
        already = set(review_flags.loc[review_flags["kind"] == "review", "event_id"].astype(int))
        sel = sel[~sel["event_id"].isin(already)].reset_index(drop=True)
        if sel.empty:
            return sel
        now = utc_now()
        watermark = self._store.last_event_id()
        queue = []
        if relabel_queue:
            for (eid, q), g in sel.groupby(["example_id", "question"], sort=False):
                queue.append({"example_id": eid, "question": q,
                              "reasons": [f"made under guidelines {', '.join(sorted(set(g['guideline_version'])))}; "
                                          f"re-review under {current}"],
                              "old_values": sorted(set(g["value"].astype(str))),
                              "event_ids": [int(i) for i in g["event_id"]]})
        _, key = self._store.claim_next_record(REVIEW_RECORD, "r", {
            "guideline_version": current, "flagged_versions": targets, "question": qname, "sources": list(srcs),
            "exclude": exclude, "created_at": now, "watermark": watermark, "queue": queue,
        })
        self._log.add_flags(
            (f"review:{key}:{int(r['event_id'])}", {
                **{k: r[k] for k in ("example_id", "question", "value", "source", "annotator", "schema_version",
                                     "guideline_version")},
                "event_id": int(r["event_id"]), "kind": "review", "status": "review",
                "reason": f"made under guidelines {r['guideline_version']}, re-review under {current}",
                "rule": "review", "excluded": exclude, "origin": key, "created_at": now,
            })
            for r in sel.to_dict("records")
        )
        return sel
