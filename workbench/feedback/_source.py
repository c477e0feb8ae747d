"""One kind of production feedback as a column of the label matrix, refreshed when new feedback arrives
and when the project's schema changes."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench._constants import ABSTAIN
from workbench.exceptions import LFError
from workbench.lf import BaseLF
from workbench.migrations import follow_renames, schema_switches
from workbench.schema import SchemaRegistry

if TYPE_CHECKING:
    from workbench.store import EventStore

__all__ = ["FeedbackSource", "source_name_of"]


def source_name_of(kind: str, question: str | None = None) -> str:
    """The label-matrix column (LF name) of a feedback kind: ``"feedback:<kind>"``, or
    ``"feedback:<kind>:<question>"`` for a kind's source on a question other than the first it was
    registered for (a multi-question schema)."""
    return f"feedback:{kind}" if question is None else f"feedback:{kind}:{question}"


class FeedbackSource(BaseLF):
    """A labeling function that votes the current feedback label of one kind on its items.

    The votes are the project's ``source="feedback"`` events whose annotator is
    ``"<kind>:<source name>"``: per item, the latest current label of any source name of that
    kind (a retracted or superseded signal no longer votes, nor does one a migration flagged
    as excluded: the same labels ``project.labels()`` gives). Registered in ``project.lfs``
    under ``"feedback:<kind>"``, it is one more column of ``project.lfs.matrix()``, so
    ``project.models.fit()`` learns its accuracy like any LF's and weighs it by that.

    Its fingerprint is a hash of those votes, read from the store (only events newer than
    the last read are fetched, and the flags are checked again). New feedback, or a migration
    that flags some of it, from this process or another, therefore changes the fingerprint:
    the cached votes and the fitted label models are refreshed on their next use, and
    nothing else is recomputed.

    Given the project's ``schema``, the source follows it: when the schema version changes
    (``project.migrations.plan(new).apply()`` or ``project.update_schema``, here or in another
    process), it takes its question's current name and choices and reads its feedback
    again, so a vote is always the position of the label among the *current* choices. A
    migration's mapped events (a renamed or merged choice, a renamed question) vote under
    their new choice; the labels it flags (a removed or split choice) are excluded and their
    items abstain, whatever its ``exclude`` rule: a removed choice has no position to vote.
    If the question itself is removed, the source has no choices left and votes nothing, and
    a project opened afterwards no longer registers it.

    Parameters
    ----------
    store : EventStore
        Where the feedback events are.
    kind : str
        The feedback kind (see :data:`workbench.feedback.FEEDBACK_KINDS`).
    question : str
        The schema question the feedback answers.
    choices : sequence of str
        That question's choices (a vote is the position of the label among them). With
        ``schema``, they must be its current choices; they then follow the schema.
    lf_question : str or None
        The question key of the LF engine (None in a single-question schema). With ``schema``
        it follows the schema too (a renamed question, or a schema that gains questions).
    excluded_event_ids : callable, optional
        Returns the ids of the events that must not be used (flagged as excluded by a schema
        migration or for re-review), e.g. ``LabelLog.excluded_event_ids``; called on every
        read. None: no event is ever excluded.
    schema : SchemaRegistry, optional
        The project's schema versions (``project.schema``'s registry); its version is checked
        on every read. None: the question and choices stay the ones given.

    Examples
    --------
    >>> project.lfs["feedback:user_correction"]       # doctest: +SKIP
    FeedbackSource(name='feedback:user_correction')
    """

    kind = "vectorized"
    evidence = "feedback"
    #: Its votes follow the project's schema: a migration changes no vote's meaning.
    follows_schema = True

    def __init__(
        self,
        store: EventStore,
        kind: str,
        question: str,
        choices: Sequence[str],
        lf_question: str | None = None,
        *,
        excluded_event_ids: Callable[[], Iterable[int]] | None = None,
        schema: SchemaRegistry | None = None,
        name: str | None = None,
    ) -> None:
        self._lock = threading.RLock()  # before the LF base class sets ``question`` (a property here)
        self._store: EventStore | None = store
        self._schema: SchemaRegistry | None = None
        super().__init__(source_name_of(kind) if name is None else name, lf_question)
        if excluded_event_ids is not None and not callable(excluded_event_ids):
            raise LFError(
                f"The 'excluded_event_ids' parameter of FeedbackSource must be a function returning event ids "
                f"(e.g. LabelLog.excluded_event_ids) or None. Got {type(excluded_event_ids).__name__} instead."
            )
        self.feedback_kind = kind
        self.target_question = question
        self.choices = tuple(choices)
        self._schema_version: str | None = None  # the schema version the question and choices are from
        self._migrations_seen: frozenset[str] = frozenset()  # the schema switches the question name follows
        if schema is not None:
            self._check_schema(schema)
            self._schema = schema
            self._schema_version = schema.version
            self._migrations_seen = frozenset(s.migration_id for s in schema_switches(store))
        self._excluded_event_ids = excluded_event_ids
        self._excluded: frozenset[int] = frozenset()  # the excluded ids the votes were built without
        self._last_id = 0
        self._stale = False  # the schema was followed, the votes are not rebuilt yet
        self._state: dict[tuple[str, str], tuple[str, str, int]] = {}  # (item, annotator) -> (value, time, id)
        self._votes = pd.Series(dtype=np.int64)
        self._digest = hashlib.sha256(b"[]").hexdigest()

    def _check_schema(self, schema: object) -> None:
        if not isinstance(schema, SchemaRegistry):
            raise LFError(
                f"The 'schema' parameter of FeedbackSource must be the project's SchemaRegistry (what project.feedback "
                f"passes) or None. Got {type(schema).__name__} instead."
            )
        current = schema.current
        if self.target_question not in current.question_names:
            raise LFError(
                f"The 'question' parameter of FeedbackSource must be a question of the current schema "
                f"{list(current.question_names)!r}. Got {self.target_question!r} instead."
            )
        now = current.question(self.target_question).choices
        if self.choices != now:
            raise LFError(
                f"The 'choices' parameter of FeedbackSource must be the current choices of {self.target_question!r}, "
                f"{list(now)!r}, when a schema is given. Got {list(self.choices)!r} instead; pass "
                f"schema.current.question({self.target_question!r}).choices."
            )

    # -- following the schema ---------------------------------------------------------------
    @property
    def question(self) -> str | None:
        """The question key of the LF engine, under its current name (None in a single-question schema)."""
        if self._schema is not None:
            with self._lock:
                self._follow_schema()
        return self._lf_question

    @question.setter
    def question(self, value: str | None) -> None:
        self._lf_question = value

    def _follow_schema(self) -> None:
        """Take the question's current name and choices if the schema version changed (with the lock held)."""
        registry, store = self._schema, self._store
        if registry is None or store is None:
            return
        version = registry.version
        if version == self._schema_version:
            return
        switches = [s for s in schema_switches(store) if s.migration_id not in self._migrations_seen]
        question = follow_renames(self.target_question, switches)
        current = registry.current
        known = question in current.question_names
        self.target_question = question
        self.choices = tuple(current.question(question).choices) if known else ()  # a removed question: no vote
        if known:
            self._lf_question = None if current.is_single else question
        self._schema_version = version
        self._migrations_seen = self._migrations_seen | {s.migration_id for s in switches}
        # read every event again: a renamed question's events are under its new name, and values become positions
        # among the new choices
        self._state = {}
        self._last_id = 0
        self._stale = True

    # -- reading the feedback ---------------------------------------------------------------
    def refresh(self) -> pd.Series:
        """Read feedback events newer than the last read; returns the votes (item id -> label index).

        When the project's schema changed since the last read, every event is read again under
        the question's current name and choices first.
        """
        if self._store is None:  # a copy shipped to a worker: the votes it was made with
            return self._votes
        with self._lock:
            self._follow_schema()
            followed = self._stale  # also when a property read followed the schema before this read
            new = self._store.events(source="feedback", question=self.target_question, since_event_id=self._last_id)
            excluded = self._excluded
            if self._excluded_event_ids is not None:
                excluded = frozenset(int(i) for i in self._excluded_event_ids())
            flags_changed = excluded != self._excluded
            self._excluded = excluded
            if new.empty:
                if flags_changed or followed:
                    self._rebuild()
                return self._votes
            prefix = f"{self.feedback_kind}:"
            mine = new[new["annotator"].astype(str).str.startswith(prefix)]
            changed = False
            for eid, ann, action, value, when, ev_id in zip(
                mine["example_id"], mine["annotator"], mine["action"], mine["value"], mine["created_at"],
                mine["event_id"], strict=True,
            ):
                key = (str(eid), str(ann))
                if action == "label":
                    self._state[key] = (str(value), str(when), int(ev_id))
                else:
                    self._state.pop(key, None)
                changed = True
            self._last_id = int(new["event_id"].max())
            if changed or flags_changed or followed:
                self._rebuild()
            return self._votes

    def _rebuild(self) -> None:
        latest: dict[str, tuple[str, int, str]] = {}
        for (item, _ann), (value, when, ev_id) in self._state.items():
            if ev_id in self._excluded:  # flagged: it does not vote (nor does an older signal of that source)
                continue
            have = latest.get(item)
            if have is None or (when, ev_id) > (have[0], have[1]):
                latest[item] = (when, ev_id, value)
        lookup = {c: i for i, c in enumerate(self.choices)}
        pairs = sorted((item, lookup[v]) for item, (_w, _i, v) in latest.items() if v in lookup)
        self._votes = pd.Series([p[1] for p in pairs], index=pd.Index([p[0] for p in pairs], dtype=object),
                                dtype=np.int64)
        self._stale = False
        self._digest = hashlib.sha256(json.dumps(pairs).encode("utf-8")).hexdigest()

    # -- the LF contract -------------------------------------------------------------------
    def _fingerprint_parts(self) -> list[Any]:
        self.refresh()
        return [self.feedback_kind, self.target_question, list(self.choices), self._digest]

    def _runs_user_code(self) -> bool:
        return False

    def output_labels(self) -> tuple[int, ...]:
        with self._lock:
            self._follow_schema()
            return tuple(range(len(self.choices)))

    def apply_frame(self, frame: pd.DataFrame, cache: Any = None) -> np.ndarray:
        """The votes for the rows of ``frame`` (indexed by example id), ``ABSTAIN`` where there is no feedback."""
        votes = self.refresh()
        joined = votes.reindex(pd.Index([str(i) for i in frame.index], dtype=object))
        return joined.fillna(ABSTAIN).to_numpy(dtype=np.int64).astype(np.int8)

    def __call__(self, x: Any) -> int:
        return int(self.refresh().get(str(getattr(x, "name", None)), ABSTAIN))

    def __getstate__(self) -> dict[str, Any]:
        self.refresh()
        state = dict(self.__dict__)
        state["_store"] = None  # a copy votes what it was made with (no database handle crosses processes)
        state["_excluded_event_ids"] = None
        state["_schema"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"FeedbackSource(name={self.name!r})"
