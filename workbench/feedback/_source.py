"""One kind of production feedback as a column of the label matrix, refreshed when new feedback arrives."""

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

if TYPE_CHECKING:
    from workbench.store import EventStore

__all__ = ["FeedbackSource", "source_name_of"]


def source_name_of(kind: str) -> str:
    """The label-matrix column (LF name) of a feedback kind: ``"feedback:<kind>"``."""
    return f"feedback:{kind}"


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

    Parameters
    ----------
    store : EventStore
        Where the feedback events are.
    kind : str
        The feedback kind (see :data:`workbench.feedback.FEEDBACK_KINDS`).
    question : str
        The schema question the feedback answers.
    choices : sequence of str
        That question's choices (a vote is the position of the label among them).
    lf_question : str or None
        The question key of the LF engine (None in a single-question schema).
    excluded_event_ids : callable, optional
        Returns the ids of the events that must not be used (flagged as excluded by a schema
        migration or for re-review), e.g. ``LabelLog.excluded_event_ids``; called on every
        read. None: no event is ever excluded.

    Examples
    --------
    >>> project.lfs["feedback:user_correction"]       # doctest: +SKIP
    FeedbackSource(name='feedback:user_correction')
    """

    kind = "vectorized"

    def __init__(
        self,
        store: EventStore,
        kind: str,
        question: str,
        choices: Sequence[str],
        lf_question: str | None = None,
        *,
        excluded_event_ids: Callable[[], Iterable[int]] | None = None,
    ) -> None:
        super().__init__(source_name_of(kind), lf_question)
        if excluded_event_ids is not None and not callable(excluded_event_ids):
            raise LFError(
                f"The 'excluded_event_ids' parameter of FeedbackSource must be a function returning event ids "
                f"(e.g. LabelLog.excluded_event_ids) or None. Got {type(excluded_event_ids).__name__} instead."
            )
        self.feedback_kind = kind
        self.target_question = question
        self.choices = tuple(choices)
        self._store: EventStore | None = store
        self._excluded_event_ids = excluded_event_ids
        self._excluded: frozenset[int] = frozenset()  # the excluded ids the votes were built without
        self._lock = threading.Lock()
        self._last_id = 0
        self._state: dict[tuple[str, str], tuple[str, str, int]] = {}  # (item, annotator) -> (value, time, id)
        self._votes = pd.Series(dtype=np.int64)
        self._digest = hashlib.sha256(b"[]").hexdigest()

    # -- reading the feedback ---------------------------------------------------------------
    def refresh(self) -> pd.Series:
        """Read feedback events newer than the last read; returns the votes (item id -> label index)."""
        if self._store is None:  # a copy shipped to a worker: the votes it was made with
            return self._votes
        with self._lock:
            new = self._store.events(source="feedback", question=self.target_question, since_event_id=self._last_id)
            excluded = self._excluded
            if self._excluded_event_ids is not None:
                excluded = frozenset(int(i) for i in self._excluded_event_ids())
            flags_changed = excluded != self._excluded
            self._excluded = excluded
            if new.empty:
                if flags_changed:
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
            if changed or flags_changed:
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
        self._digest = hashlib.sha256(json.dumps(pairs).encode("utf-8")).hexdigest()

    # -- the LF contract -------------------------------------------------------------------
    def _fingerprint_parts(self) -> list[Any]:
        self.refresh()
        return [self.feedback_kind, self.target_question, list(self.choices), self._digest]

    def _runs_user_code(self) -> bool:
        return False

    def output_labels(self) -> tuple[int, ...]:
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
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FeedbackSource(name={self.name!r})"
