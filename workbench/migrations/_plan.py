"""Migration plans: what a schema change does to every current label, before anything is written."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from workbench.exceptions import LabelValidationError
from workbench.schema import Schema, SchemaChanges

if TYPE_CHECKING:
    from workbench.lf import BaseLF

__all__ = [
    "EXCLUDE_RULES",
    "LABEL_OUTCOMES",
    "QUEUE_SOURCES",
    "LFIdShift",
    "LFLostVotes",
    "MigrationPlan",
    "MigrationResult",
    "plan_labels",
    "lf_id_shifts",
    "lf_id_shift_message",
    "lf_issues",
    "lf_lost_votes",
    "lf_lost_votes_message",
]

#: What a migration does to a current label, from harmless to final.
LABEL_OUTCOMES: tuple[str, ...] = ("unchanged", "mapped", "relabel", "dropped")
#: Sources whose items enter the relabel queue by default: people can answer again.
#: Labels from ``lf``, ``model``, ``consensus`` and ``feedback`` are flagged and excluded just
#: the same, but their producers are re-run (refit the model, recompute consensus), not asked.
QUEUE_SOURCES: tuple[str, ...] = ("human", "adjudication", "gold")
#: What exports and training data do with flagged labels: ``"flagged"`` leaves them out;
#: ``"keep_old_version"`` keeps them under their old schema version for training data that
#: carries the schema version as a feature (``project.versions.training_data(...,
#: schema_version_feature=True)``); without that opt-in they are left out as well.
EXCLUDE_RULES: tuple[str, ...] = ("flagged", "keep_old_version")

TABLE_COLUMNS: tuple[str, ...] = (
    "event_id", "example_id", "question", "source", "annotator", "value", "schema_version", "guideline_version",
    "status", "new_question", "new_value", "candidates", "reason", "queue",
)
ASKED_COLUMNS: tuple[str, ...] = ("example_id", "question", "source", "annotator", "reason")
SUMMARY_COLUMNS: tuple[str, ...] = (
    "question", "choice", "source", "status", "new_question", "becomes", "n_labels", "n_examples", "n_queued",
)
LF_COLUMNS: tuple[str, ...] = ("lf", "question", "issue")


def _na(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


@dataclass
class _Outcome:
    status: str
    new_value: str | None
    candidates: tuple[str, ...]
    reason: str
    queue: bool
    possible: frozenset[str]  # the answers this label may have under the new schema (empty: not asked)
    new_question: str | None = None  # the label's question in the new schema (None: the question is gone)


def _own_outcome(question: str, value: str, old: Schema, new: Schema, changes: SchemaChanges) -> _Outcome:
    """The outcome of one label from its question and value alone (conditions come next)."""
    if question not in old.question_names:
        return _Outcome("dropped", None, (), f"question {question!r} is not part of the current schema", False,
                        frozenset())
    target_q = changes.question_target(question)
    if question in changes.removed_questions or target_q is None or target_q not in new.question_names:
        return _Outcome("dropped", None, (), f"question {question!r} is removed", False, frozenset())
    all_new = frozenset(new.question(target_q).choices)
    renamed = f"question {question!r} becomes {target_q!r}" if target_q != question else ""
    targets = changes.targets(question, value)
    if targets is None:
        return _Outcome("dropped", None, (), f"{value!r} is not a choice of {question!r} in the current schema "
                        f"either", True, all_new, target_q)
    if not targets:
        return _Outcome("dropped", None, (), f"the choice {value!r} is removed", True, all_new, target_q)
    if len(targets) == 1:
        status = "unchanged" if targets[0] == value and not renamed else "mapped"
        moved = f"{value!r} becomes {targets[0]!r}" if targets[0] != value else ""
        reason = "; ".join(r for r in (renamed, moved) if r)
        return _Outcome(status, targets[0], (), reason, False, frozenset(targets), target_q)
    return _Outcome("relabel", None, tuple(targets), f"{value!r} was split into {list(targets)!r}", True,
                    frozenset(targets), target_q)


def _verdict(possible: frozenset[str], accepted: Iterable[str]) -> str:
    """``all``: asked whatever the parent becomes; ``none``: never asked; ``some``: depends on the parent."""
    acc = set(accepted)
    if not possible or not possible & acc:
        return "none"
    return "all" if possible <= acc else "some"


def _condition_follows(
    old_q: str, new_q: str, parent: str, accepted: Iterable[str], old: Schema, changes: SchemaChanges
) -> bool:
    """Whether the new condition of ``new_q`` on ``parent`` asks it for exactly the old parent answers that
    asked it before, mapped: then a label whose parent answer is not current (e.g. flagged earlier) keeps the
    standing it had. False for an explicitly changed condition, or a merge that folds an answer that did not ask
    the question into one that does."""
    old_parent = changes.question_origin(parent)
    if new_q in changes.changed_conditions or old_q not in old.question_names \
            or old_parent not in old.question_names:
        return False
    before = old.question(old_q).condition.get(old_parent)
    if before is None:
        return False
    acc = set(accepted)
    for c in old.question(old_parent).choices:
        targets = changes.targets(old_parent, c) or ()
        if any((t in acc) != (c in before) for t in targets):
            return False
    return True


def plan_labels(
    labels: pd.DataFrame,
    old: Schema,
    new: Schema,
    changes: SchemaChanges,
    queue_sources: Sequence[str] = QUEUE_SOURCES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The outcome of every label in ``labels`` when ``old`` becomes ``new``, and the newly asked items.

    ``labels`` holds current label events (the columns of ``project.labels()``). A label is
    judged by its own question and value (unchanged, mapped: a renamed choice or question,
    split, removed) and then by the condition of its question in the new schema, evaluated
    over the same annotator's other answers as they will be: a condition that holds whatever
    the parent answer becomes keeps the label, one that can no longer hold drops it, and one
    that depends on a parent still to be relabeled queues it. Returns ``(table, asked)``: one
    row per label (:data:`TABLE_COLUMNS`), and one row per annotator and item where a changed
    condition now asks a question they never answered.
    The table's ``question`` is the label's own (old) question and ``new_question`` its name
    in the new schema; ``asked`` names questions of the new schema.
    """
    qset = set(queue_sources)
    new_order = {q: k for k, q in enumerate(new.question_names)}
    groups: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
    cols = [c for c in ("event_id", "example_id", "question", "source", "annotator", "value", "schema_version",
                        "guideline_version") if c in labels.columns]
    for rec in labels[cols].to_dict("records"):
        r = {str(k): v for k, v in rec.items()}
        groups.setdefault((str(r["example_id"]), str(r["source"]), str(r["annotator"])), {})[str(r["question"])] = r
    rows: list[dict[str, Any]] = []
    asked: list[dict[str, Any]] = []
    for (eid, source, annotator), by_q in groups.items():
        outcome = {q: _own_outcome(q, str(r["value"]), old, new, changes) for q, r in by_q.items()}
        # the annotator's labels by their question's name in the new schema
        by_new = {o.new_question: q for q, o in outcome.items() if o.new_question in new_order}

        def _of(new_name: str, outcome: dict[str, _Outcome] = outcome, by_new: dict[Any, str] = by_new,
                ) -> _Outcome | None:
            old_name = by_new.get(new_name)
            return None if old_name is None else outcome[old_name]

        for nn in sorted(by_new, key=new_order.__getitem__):
            q = by_new[nn]
            o = outcome[q]
            nq = new.question(nn)
            if not nq.condition or (o.status == "dropped" and not o.queue):
                continue
            verdicts = []
            for parent, accepted in nq.condition.items():
                po = _of(parent)
                if po is not None:
                    verdicts.append((parent, _verdict(po.possible, accepted)))
                elif _condition_follows(q, nn, parent, accepted, old, changes):
                    verdicts.append((parent, "all"))  # no answer to judge, but asked exactly as before
                else:
                    verdicts.append((parent, _verdict(frozenset(new.question(parent).choices), accepted)))
            worst = "none" if any(v == "none" for _, v in verdicts) else (
                "some" if any(v == "some" for _, v in verdicts) else "all")
            when = " and ".join(f"{p} in {list(a)!r}" for p, a in nq.condition.items())
            if worst == "none":
                outcome[q] = _Outcome("dropped", None, (), f"the condition of {nn!r} ({when}) no longer holds", False,
                                      frozenset(), nn)
            elif worst == "some":
                parents = [p for p, v in verdicts if v == "some"]
                reason = (f"{nn!r} is asked only when {when}, which depends on how {parents!r} is relabeled"
                          if any((po := _of(p)) is not None and po.queue for p in parents)
                          else f"{nn!r} is now asked only when {when}")
                if o.status in ("unchanged", "mapped"):
                    outcome[q] = _Outcome("relabel", None, (o.new_value,) if o.new_value else (),
                                          reason, True, o.possible, nn)
                else:
                    o.reason = f"{o.reason}; {reason}"
        for q, r in by_q.items():
            o = outcome[q]
            rows.append({
                **{c: r.get(c) for c in cols}, "status": o.status, "new_question": o.new_question,
                "new_value": o.new_value, "candidates": list(o.candidates), "reason": o.reason,
                "queue": bool(o.queue and source in qset),
            })
        if source not in qset:
            continue
        for q in changes.changed_conditions:
            oq = changes.question_origin(q)
            if q in by_new or q not in new_order or oq not in old.question_names:
                continue
            nq = new.question(q)
            if old.question(oq).is_asked({p: str(by_q[p]["value"]) for p in by_q}):
                continue  # asked before, and not answered: nothing changed for this annotator
            definite = all(
                (po := _of(p)) is not None and po.status in ("unchanged", "mapped")
                and _verdict(po.possible, a) == "all" for p, a in nq.condition.items()
            )  # no condition any more: asked of everyone
            if definite:
                asked.append({"example_id": eid, "question": q, "source": source, "annotator": annotator,
                              "reason": f"the changed condition of {q!r} now asks it"})
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table["event_id"] = table["event_id"].astype("int64")
    table["queue"] = table["queue"].astype(bool)
    table = table.sort_values("event_id", kind="stable").reset_index(drop=True)
    return table, pd.DataFrame(asked, columns=list(ASKED_COLUMNS))


def _lf_question(lf: BaseLF, old: Schema) -> str | None:
    """The question of ``old`` an LF votes on (a question-less LF: the only one), or None.

    None as well for sources that follow the schema themselves (``follows_schema = True``,
    e.g. feedback sources: they re-read the current schema) and for unknown questions.
    """
    if getattr(lf, "follows_schema", False):
        return None
    qname = lf.question if lf.question is not None else (old.questions[0].name if old.is_single else None)
    return qname if qname is not None and qname in old.question_names else None


def lf_issues(lfs: Iterable[BaseLF], old: Schema, new: Schema, changes: SchemaChanges) -> pd.DataFrame:
    """Registered LFs whose integer votes would mean something else (or nothing) under ``new``.

    An LF votes with label ids, the positions of choices. A vote keeps its meaning only if
    the choice at that position maps 1:1 to the choice at the same position in ``new``. An LF
    that declares its labels (a builder) is checked on those only. Sources that follow the
    schema themselves (``follows_schema = True``, such as ``project.feedback``'s weak
    sources) are not listed.
    """
    rows: list[dict[str, Any]] = []
    for lf in lfs:
        qname = _lf_question(lf, old)
        if qname is None:
            continue
        target = changes.question_target(qname)
        if target is None or target not in new.question_names:
            rows.append({"lf": lf.name, "question": qname,
                         "issue": f"question {qname!r} is removed: remove the LF (project.lfs.remove({lf.name!r}))"})
            continue
        if lf.question is None and not new.is_single:
            rows.append({"lf": lf.name, "question": qname,
                         "issue": f"it names no question, but the new schema has several: register it again with "
                                  f"question={target!r}"})
        elif lf.question is not None and target != qname:
            rows.append({"lf": lf.name, "question": qname,
                         "issue": f"question {qname!r} is renamed to {target!r}: register the LF again with "
                                  f"question={target!r}"})
        new_choices = list(new.question(target).choices)
        declared = lf.output_labels()  # a builder's votes are known: only those can change meaning
        moved = []
        for i, c in enumerate(old.question(qname).choices):
            if declared is not None and i not in declared:
                continue
            t = changes.targets(qname, c) or ()
            now = new_choices[i] if i < len(new_choices) else None
            if len(t) != 1 or now != t[0]:
                moved.append(f"vote {i} meant {c!r}, now " + (f"means {now!r}" if now is not None else "is invalid"))
        if moved:
            rows.append({"lf": lf.name, "question": qname,
                         "issue": "; ".join(moved) + ". Update the LF to vote with project.schema.label_id(...)"})
    return pd.DataFrame(rows, columns=list(LF_COLUMNS))


def _voting_lfs(lfs: Iterable[BaseLF], old: Schema) -> dict[str, list[str]]:
    """``{question of old: [names of the LFs voting on it]}``, in registration order.

    An LF without a question votes on the only question of a single-question schema. Sources
    that follow the schema themselves (``follows_schema = True``) are left out.
    """
    out: dict[str, list[str]] = {}
    for lf in lfs:
        qname = _lf_question(lf, old)
        if qname is not None:
            out.setdefault(qname, []).append(lf.name)
    return out


@dataclass(frozen=True)
class LFIdShift:
    """A question whose registered LFs' integer votes a schema change would silently reinterpret.

    Attributes
    ----------
    question : str
        The question's name in the current schema.
    lfs : tuple of str
        The LFs voting on it.
    moved : tuple of (str, int, str, int)
        ``(old choice, old id, new choice, new id)`` for every choice that keeps its meaning
        (unchanged, renamed, merged) but would get another integer id.
    reread : tuple of (int, str, str)
        ``(vote, old meaning, new meaning)`` for every vote that would mean another choice.
    """

    question: str
    lfs: tuple[str, ...]
    moved: tuple[tuple[str, int, str, int], ...]
    reread: tuple[tuple[int, str, str], ...]

    def describe(self) -> str:
        """E.g. ``"question 'tox' (LF(s) 'insult', 'song'): label ids 'ok' 1 -> 0, 'toxic' 2 -> 1; ..."``."""
        lfs = ", ".join(repr(n) for n in self.lfs)
        moved = ", ".join(f"{c!r} {i} -> {j}" + (f" (as {t!r})" if t != c else "") for c, i, t, j in self.moved)
        reread = ", ".join(f"vote {i} would mean {now!r} instead of {was!r}" for i, was, now in self.reread)
        ids = f"label ids {moved}; " if moved else ""
        return f"question {self.question!r} (LF(s) {lfs}): {ids}{reread}"


def lf_id_shifts(lfs: Iterable[BaseLF], old: Schema, new: Schema, changes: SchemaChanges) -> list[LFIdShift]:
    """The questions whose registered LFs would vote with ids that silently mean another choice under ``new``.

    An LF votes with label ids, the positions of choices. A change is safe for a question's
    LFs when every id that stays valid still means what it meant (the choice at that position
    is the same choice, renamed in place, or what it was merged or split into): appending
    choices, renaming in place, or removing, merging or splitting the last ones. Reordering
    choices, or removing or inserting one before others, moves existing choices to other ids
    and is listed here. Questions without LFs, and removed questions, are not listed.
    """
    out: list[LFIdShift] = []
    for qname, names in _voting_lfs(lfs, old).items():
        target = changes.question_target(qname)
        if target is None or target not in new.question_names:
            continue
        before, after = list(old.question(qname).choices), list(new.question(target).choices)
        reread = tuple((i, c, after[i]) for i, c in enumerate(before[:len(after)])
                       if after[i] not in (changes.targets(qname, c) or ()))
        if not reread:
            continue
        moved = []
        for i, c in enumerate(before):
            t = changes.targets(qname, c) or ()
            if len(t) == 1 and t[0] in after and after.index(t[0]) != i:
                moved.append((c, i, t[0], after.index(t[0])))
        out.append(LFIdShift(qname, tuple(names), tuple(moved), reread))
    return out


def lf_id_shift_message(shifts: Sequence[LFIdShift], what: str) -> str:
    """Why ``what`` (e.g. ``"update_schema"``) is refused, and how to make the change safely."""
    first = shifts[0].lfs[0]
    return (
        f"{what} would change the integer label ids of choices that labeling functions vote with: "
        + "; ".join(s.describe() for s in shifts)
        + ". An LF votes with a choice's position (its label id) and its cached votes are reused, so these votes "
        f"would silently mean other choices. Nothing was changed. Keep the existing choices in place and append "
        f"new ones at the end (project.schema.evolve(add=[...]) appends, rename={{...}} keeps a choice's place), "
        f"or remove or redefine the LFs first (project.lfs.remove({first!r}); after the change register it again, "
        f"voting with project.schema.label_id(...))."
    )


@dataclass(frozen=True)
class LFLostVotes:
    """A registered LF that votes for choices a schema change removes or merges away.

    Attributes
    ----------
    lf : str
        The LF's name.
    question : str
        Its question's name in the current schema.
    votes : tuple of (int, str, tuple of str)
        ``(label id, old choice, what it became)`` for every vote the LF is known to cast
        whose id the new schema no longer has: ``()`` for a removed choice, the merged or
        split choices otherwise.
    """

    lf: str
    question: str
    votes: tuple[tuple[int, str, tuple[str, ...]], ...]

    def describe(self) -> str:
        """E.g. ``"LF 'buy' votes 2 ('spam', removed) on question 'tox'"``."""
        parts = []
        for i, c, became in self.votes:
            fate = "removed" if not became else "merged into " + ", ".join(repr(b) for b in became)
            parts.append(f"{i} ({c!r}, {fate})")
        return f"LF {self.lf!r} votes {', '.join(parts)} on question {self.question!r}"


def lf_lost_votes(
    lfs: Iterable[BaseLF], old: Schema, new: Schema, changes: SchemaChanges,
    votes_of: Callable[[BaseLF], Iterable[int]],
) -> list[LFLostVotes]:
    """Registered LFs that vote for a choice whose label id ``new`` no longer has.

    ``votes_of(lf)`` gives the label ids an LF is known to vote (declared by a builder or seen
    in its computed votes). A removed choice, or one merged into another, frees its id only
    when it was among the last ones (else the ids after it move, which :func:`lf_id_shifts`
    reports); an LF still voting that id could no longer be applied. LFs of removed
    questions and sources that follow the schema themselves are not listed.
    """
    out: list[LFLostVotes] = []
    for lf in lfs:
        qname = _lf_question(lf, old)
        target = None if qname is None else changes.question_target(qname)
        if qname is None or target is None or target not in new.question_names:
            continue
        before, n_after = list(old.question(qname).choices), len(new.question(target).choices)
        lost = tuple((v, before[v], tuple(changes.targets(qname, before[v]) or ()))
                     for v in sorted(set(votes_of(lf))) if n_after <= v < len(before))
        if lost:
            out.append(LFLostVotes(lf.name, qname, lost))
    return out


def lf_lost_votes_message(lost: Sequence[LFLostVotes], what: str) -> str:
    """Why ``what`` (e.g. ``"update_schema"``) is refused while LFs vote for choices it removes, and what to do."""
    names = list(dict.fromkeys(x.lf for x in lost))
    removes = "; ".join(f"project.lfs.remove({n!r})" for n in names)
    merged = [(i, c, b) for x in lost for i, c, b in x.votes if b]
    instead = (f" To keep such an LF, make it vote project.schema.label_id({merged[0][2][0]!r}) (what {merged[0][1]!r} "
               f"was merged into) instead of {merged[0][0]}, add it again, then make the change." if merged else "")
    them = "this LF" if len(names) == 1 else "these LFs"
    return (
        f"{what} would remove choices that registered labeling functions vote for: "
        + "; ".join(x.describe() for x in lost)
        + f". The new schema has no such label id, so {them} could no longer be applied and would be unregistered. "
        f"Nothing was changed. Remove {them} first ({removes}), then make the change; labels of a removed "
        f"choice are handled by a migration (project.migrations.plan(new_schema)), which flags them and queues "
        f"their items.{instead}"
    )


@dataclass(frozen=True)
class MigrationResult:
    """What :meth:`MigrationPlan.apply` did.

    Attributes
    ----------
    migration_id : str
        The migration's id (``"m-"`` + 12 hex digits), also in every event and flag it wrote.
    old_version, new_version : str
        The schema versions before and after.
    counts : dict
        Labels per outcome (``unchanged``, ``mapped``, ``relabel``, ``dropped``) and ``asked``.
    mapped : dict of int to int
        ``{old event id: new event id}`` for every automatic mapping (the new event also
        ``supersedes`` the old one).
    flagged : list of int
        The event ids of the labels that could not be mapped (``relabel``, ``dropped``),
        flagged: kept, excluded from current labels and versions. The old events of a renamed
        question's mapped labels are flagged as well (see :meth:`ProjectMigrations.flags
        <workbench.migrations.ProjectMigrations.flags>`, status ``mapped``), but are listed in
        ``mapped``, not here.
    queued : int
        Items (example and question) put in the relabel queue.
    exclude : str
        The exclusion rule recorded for the flagged labels.
    """

    migration_id: str
    old_version: str
    new_version: str
    counts: dict[str, int]
    mapped: dict[int, int] = field(default_factory=dict)
    flagged: list[int] = field(default_factory=list)
    queued: int = 0
    exclude: str = "flagged"


class _Applier(Protocol):
    def _apply(self, plan: MigrationPlan, *, relabel_queue: bool, exclude: str) -> MigrationResult: ...


class MigrationPlan:
    """What a schema change does to every current label; nothing is written until :meth:`apply`.

    Made by :meth:`workbench.migrations.ProjectMigrations.plan`. Each current label (every
    source) gets one outcome:

    ``unchanged``
        Its answer is still a choice with the same meaning: kept as it is.
    ``mapped``
        Renamed or merged, or its question renamed: :meth:`apply` appends a new event with the
        new answer (under the question's new name) and the new schema version that references
        the old one, which stays in the history: it ``supersedes`` it, and when the question
        was renamed (a new event can only supersede one of its own question) the old event is
        also flagged (status ``mapped``), so that no current label, model or version uses it.
    ``relabel``
        Split, or its question's condition now depends on an answer still to be relabeled:
        the label is flagged (kept, excluded from use) and its item queued for relabeling.
    ``dropped``
        Its choice or question is removed, or its condition can no longer hold: flagged and
        excluded; the item is queued when its question is still asked.

    Attributes
    ----------
    migration_id : str
        The id :meth:`apply` records (the same plan applied twice is refused).
    old_schema, new_schema : Schema
        The current schema and the one to migrate to.
    changes : SchemaChanges
        What changed (from :meth:`Schema.evolve`, or inferred by name for a hand-built schema).
    watermark : int
        The last event id when the plan was made.
    lf_shifts : tuple of LFIdShift
        Questions whose registered LFs would vote with ids that mean other choices: :meth:`apply`
        refuses the plan while they are registered (:meth:`describe` says so).
    lf_lost : tuple of LFLostVotes
        Registered LFs that vote for choices the change removes or merges away: :meth:`apply`
        refuses the plan while they are registered as well.

    Examples
    --------
    >>> new = project.schema.evolve(split={"toxic": ["harassment", "hate", "other"]})  # doctest: +SKIP
    >>> plan = project.migrations.plan(new)                                          # doctest: +SKIP
    >>> plan.summary()                                                               # doctest: +SKIP
    >>> plan.apply(relabel_queue=True)                                               # doctest: +SKIP
    """

    def __init__(
        self,
        owner: _Applier,
        *,
        migration_id: str,
        old_schema: Schema,
        new_schema: Schema,
        changes: SchemaChanges,
        table: pd.DataFrame,
        asked: pd.DataFrame,
        lfs: pd.DataFrame,
        watermark: int,
        queue_sources: tuple[str, ...],
        lf_shifts: Sequence[LFIdShift] = (),
        lf_lost: Sequence[LFLostVotes] = (),
    ) -> None:
        self._owner = owner
        self.migration_id = migration_id
        self.old_schema = old_schema
        self.new_schema = new_schema
        self.changes = changes
        self.watermark = watermark
        self.queue_sources = queue_sources
        self._table = table
        self._asked = asked
        self._lfs = lfs
        self.lf_shifts: tuple[LFIdShift, ...] = tuple(lf_shifts)
        self.lf_lost: tuple[LFLostVotes, ...] = tuple(lf_lost)
        self.result: MigrationResult | None = None

    @property
    def old_version(self) -> str:
        """The schema version migrated from."""
        return self.old_schema.version

    @property
    def new_version(self) -> str:
        """The schema version migrated to."""
        return self.new_schema.version

    @property
    def counts(self) -> dict[str, int]:
        """Labels per outcome, and ``asked``: annotator-items a changed condition newly asks."""
        vc = self._table["status"].value_counts()
        out = {s: int(vc.get(s, 0)) for s in LABEL_OUTCOMES}
        out["asked"] = len(self._asked)
        return out

    def describe(self) -> list[str]:
        """The schema changes in words, then, for each renamed question, what happens to its labels,
        e.g. ``"question 'toxic' is renamed to 'toxicity': its 12 label(s) are mapped to 'toxicity' as
        new events that reference the old ones (kept in the history, flagged)"``; last, if the change
        would move choices that registered LFs vote with, that :meth:`apply` refuses it and why."""
        lines = self.changes.describe()
        for shift in self.lf_shifts:
            lines.append(f"apply() refuses this plan while these LFs are registered, because their integer votes "
                         f"would mean other choices: {shift.describe()}. Keep the existing choices in place and "
                         f"append new ones at the end, or remove or redefine the LFs first")
        for lost in self.lf_lost:
            lines.append(f"apply() refuses this plan while this LF is registered, because it votes for a choice the "
                         f"new schema no longer has: {lost.describe()}. Remove the LF first "
                         f"(project.lfs.remove({lost.lf!r}))")
        t = self._table
        for old, new in self.changes.renamed_questions.items():
            g = t[t["question"] == old]
            counts = g["status"].value_counts()
            others = [f"{int(counts[s])} {s}" for s in ("relabel", "dropped") if s in counts]
            rest = f"; {', '.join(others)} (queued under {new!r} where people can answer again)" if others else ""
            lines.append(f"question {old!r} is renamed to {new!r}: its {int(counts.get('mapped', 0))} label(s) are "
                         f"mapped to {new!r} as new events that reference the old ones (kept in the history, "
                         f"flagged){rest}")
        return lines

    def table(self) -> pd.DataFrame:
        """One row per current label: its event (``question`` is the label's own), ``status``,
        ``new_question`` (its question's name in the new schema; None: removed), ``new_value``
        (mapped), ``candidates`` (the choices a split label can become), ``reason`` and whether
        its item is queued."""
        return self._table.copy()

    def asked(self) -> pd.DataFrame:
        """Annotator-items where a changed condition now asks a question never answered (queued too)."""
        return self._asked.copy()

    def summary(self) -> pd.DataFrame:
        """Counts per question, old choice, source and outcome, with the question's name in the new
        schema (``new_question``; empty: removed) and what the choice ``becomes``."""
        t = self._table
        rows: list[dict[str, Any]] = []
        if len(t):
            keyed = t.assign(becomes=[
                (nv or "") if st in ("unchanged", "mapped") else " | ".join(c)
                for st, nv, c in zip(t["status"], t["new_value"], t["candidates"], strict=True)
            ], new_question=t["new_question"].fillna(""))
            for (q, v, src, st, nq, becomes), g in keyed.groupby(
                ["question", "value", "source", "status", "new_question", "becomes"], sort=True, dropna=False
            ):
                rows.append({"question": q, "choice": v, "source": src, "status": st, "new_question": nq,
                             "becomes": becomes, "n_labels": len(g), "n_examples": int(g["example_id"].nunique()),
                             "n_queued": int(g.loc[g["queue"], "example_id"].nunique())})
        a = self._asked
        if len(a):
            for (q, src), g in a.groupby(["question", "source"], sort=True):
                rows.append({"question": self.changes.question_origin(str(q)), "choice": None, "source": src,
                             "status": "asked", "new_question": q, "becomes": "", "n_labels": 0,
                             "n_examples": int(g["example_id"].nunique()),
                             "n_queued": int(g["example_id"].nunique())})
        out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
        order = {s: k for k, s in enumerate((*LABEL_OUTCOMES, "asked"))}
        if len(out):
            out = out.sort_values(["question", "status", "choice", "source"], key=lambda s: s.map(order)
                                  if s.name == "status" else s.astype(str), kind="stable").reset_index(drop=True)
        return out

    def relabel_items(self) -> pd.DataFrame:
        """The items (example and question of the new schema) :meth:`apply` puts in the relabel queue,
        with their reasons."""
        t = self._table.loc[self._table["queue"].to_numpy(dtype=bool)]
        t = t.assign(question=t["new_question"].fillna(t["question"]))
        parts = [t[["example_id", "question", "reason", "event_id"]]]
        if len(self._asked):
            parts.append(self._asked[["example_id", "question", "reason"]].assign(event_id=None))
        both = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        rows = []
        for (eid, q), g in both.groupby(["example_id", "question"], sort=False):
            rows.append({"example_id": eid, "question": q, "reasons": sorted(set(g["reason"])),
                         "event_ids": [int(i) for i in g["event_id"].dropna()]})
        return pd.DataFrame(rows, columns=["example_id", "question", "reasons", "event_ids"])

    def lfs(self) -> pd.DataFrame:
        """Registered LFs whose integer votes change meaning (:meth:`apply` warns about them, and refuses
        the plan when a valid vote would mean another choice: see :attr:`lf_shifts`)."""
        return self._lfs.copy()

    def apply(self, *, relabel_queue: bool = True, exclude: str = "flagged") -> MigrationResult:
        """Migrate: new schema version, mapped labels as new events, the rest flagged; nothing is rewritten.

        In order: the new schema (and guidelines, if the plan has them) becomes current; every
        automatic mapping is appended as a new event under the new version that supersedes
        the old event and names it in its ``note`` (``event_uid`` ``migrate:<id>:<old id>``);
        every label that cannot be mapped is flagged (kept in the log, left out of current
        labels, consensus, models and label versions); with ``relabel_queue`` its item enters
        :meth:`~workbench.migrations.ProjectMigrations.relabel_queue`. Labels made between
        :meth:`~workbench.migrations.ProjectMigrations.plan` and ``apply`` are migrated too.

        Parameters
        ----------
        relabel_queue : bool, default True
            Queue the items of ``relabel`` labels (and of ``dropped`` ones whose question is
            still asked) from the plan's queue sources.
        exclude : {"flagged", "keep_old_version"}, default "flagged"
            The rule for exports and training data: ``"flagged"`` leaves flagged labels out;
            ``"keep_old_version"`` keeps them, under their old schema version, for training data
            that carries the schema version as a feature
            (``project.versions.training_data(..., schema_version_feature=True)``).

        Returns
        -------
        MigrationResult

        Raises
        ------
        SchemaError
            The plan was applied already, the schema changed since the plan was made, or the change
            would move choices that registered LFs vote with (:attr:`lf_shifts`) or remove
            choices they vote for (:attr:`lf_lost`), both checked again now. Nothing is written
            then.
        """
        if not isinstance(relabel_queue, bool):
            raise LabelValidationError(f"The 'relabel_queue' parameter of MigrationPlan.apply must be True or False. "
                                       f"Got {relabel_queue!r} instead.")
        if exclude not in EXCLUDE_RULES:
            raise LabelValidationError(
                f"The 'exclude' parameter of MigrationPlan.apply must be one of {list(EXCLUDE_RULES)!r}. Got "
                f"{exclude!r} instead: 'flagged' leaves flagged labels out of exports and training data, "
                f"'keep_old_version' keeps them under their old schema version."
            )
        self.result = self._owner._apply(self, relabel_queue=relabel_queue, exclude=exclude)
        return self.result

    def __repr__(self) -> str:
        c = self.counts
        shown = ", ".join(f"{c[s]} {s}" for s in LABEL_OUTCOMES)
        n_items = len(self.relabel_items())
        state = " (applied)" if self.result is not None else ""
        if self.lf_shifts and self.result is None:
            state = " (refused while its LFs are registered: their label ids would change)"
        elif self.lf_lost and self.result is None:
            state = " (refused while its LFs are registered: they vote for choices it removes)"
        return (f"<MigrationPlan {self.migration_id}{state}: {self.old_version} -> {self.new_version}; {shown}; "
                f"{n_items} item(s) to relabel; {len(self._lfs)} LF(s) to check>")


def check_sources(sources: object, param: str, func: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """A tuple of label sources, or a clear error."""
    if isinstance(sources, str) or not isinstance(sources, (Sequence, set, frozenset)):
        raise LabelValidationError(
            f"The '{param}' parameter of {func} must be a list of label sources such as ['human', 'gold']. "
            f"Got {sources!r} instead."
        )
    bad = [s for s in sources if s not in allowed]
    if bad:
        raise LabelValidationError(
            f"The '{param}' parameter of {func} names {bad!r}, which are not label sources. Expected some of "
            f"{list(allowed)!r}."
        )
    return tuple(dict.fromkeys(sources))
