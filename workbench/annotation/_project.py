"""``project.annotation``: serving items to annotators, model drafts and pre-labels, and the correction log."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench._stats import wilson_interval
from workbench.annotation._types import (
    QUEUE_STRATEGIES,
    REVIEW_TASKS,
    Assignment,
    CorrectionSummary,
    Draft,
    PrelabelResult,
)
from workbench.data import id_text
from workbench.exceptions import (
    DataError,
    LabelValidationError,
    NotFittedError,
    UnknownExampleError,
    WorkbenchError,
)
from workbench.log._log import _without_orphans
from workbench.migrations import schema_switches
from workbench.migrations._plan import plan_labels
from workbench.migrations._project import MIGRATED_UID, MIGRATION_RECORD
from workbench.quality import QualityConfig, load_config, route_to_adjudication, save_config
from workbench.schema import Schema, SchemaChanges
from workbench.store import LabelEvent, utc_now

if TYPE_CHECKING:
    from workbench.data import DataCatalog
    from workbench.lf import ProjectLFs
    from workbench.log import LabelLog
    from workbench.models import ProjectModels
    from workbench.quality import ProjectQuality
    from workbench.schema import Question, SchemaRegistry
    from workbench.store import EventStore

__all__ = [
    "LABEL_MODEL_VERSION",
    "PREDICTION_KIND",
    "REVIEW_KIND",
    "ProjectAnnotation",
    "default_review_threshold",
    "proba_matrix",
    "record_predictions",
    "unknown_ids",
]

_log = logging.getLogger(__name__)

_UNDO = "undo"
_SEP = "\x1f"  # separates the parts of a record key (never in a question name; ids are checked for it)
#: Record kind of model predictions (drafts): key ``question SEP example_id SEP run_id``, one per run and item.
PREDICTION_KIND = "prediction"
#: Record kind of production predictions awaiting review: key ``question SEP example_id`` (the latest wins).
REVIEW_KIND = "review"
_PRIORITY = "priority"  # keys ``question SEP head`` (small) and ``question SEP data`` (ids and scores)
_PRELABEL_RUN = "prelabel_run"  # key: the run id
_SUBMISSION = "submission_log"  # key: a submission's event-uid base, or "skip:<uuid>"; the draft shown
_PRELABEL_UID = "prelabel:"
#: The ``model_version`` of drafts that come from the label model (LF votes).
LABEL_MODEL_VERSION = "label_model:auto"
_SUM_TOLERANCE = 1e-3
_SHOWN: Any = object()  # submit(draft=...) default: the draft the item has now


def unknown_ids(ids: Sequence[str], known: pd.Index) -> list[str]:
    """The ids of ``ids`` that ``known`` lacks, in order, each once."""
    arr = pd.Index(list(ids), dtype=object)
    return list(dict.fromkeys(arr[~arr.isin(known)].tolist()))


def _show_ids(ids: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def proba_matrix(frame: pd.DataFrame, q: Question, *, func: str, param: str) -> np.ndarray:
    """Class probabilities of ``frame`` (columns = the choices of ``q``, any order) as an (n, k) array.

    Raises :class:`LabelValidationError` naming ``func`` and ``param`` when the columns are not
    exactly the choices, a value is missing, not finite or outside [0, 1], or a row does not
    sum to 1 (within 1e-3).
    """
    cols = [str(c) for c in frame.columns]
    if sorted(cols) != sorted(q.choices) or len(set(cols)) != len(cols):
        raise LabelValidationError(
            f"The {param} of {func} must have one column per choice of question {q.name!r}, named "
            f"{list(q.choices)!r}. Got the columns {cols!r}; rename them (e.g. frame.rename(columns=...)) or "
            f"select the probability columns."
        )
    try:
        P = frame.loc[:, list(q.choices)].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise LabelValidationError(
            f"The {param} of {func} must hold numbers (class probabilities). Got the dtypes "
            f"{dict(frame.dtypes.astype(str))!r}."
        ) from None
    bad = ~np.isfinite(P).all(axis=1) | (P < 0).any(axis=1) | (P > 1).any(axis=1)
    if bad.any():
        rows = [str(i) for i in frame.index[bad]]
        raise LabelValidationError(
            f"The {param} of {func} must hold probabilities in [0, 1], no missing values. "
            f"{len(rows)} row(s) do not, e.g. {_show_ids(rows)}."
        )
    off = np.abs(P.sum(axis=1) - 1.0) > _SUM_TOLERANCE
    if off.any():
        rows = [str(i) for i in frame.index[off]]
        sums = P.sum(axis=1)[off]
        raise LabelValidationError(
            f"Each row of the {param} of {func} must sum to 1 (a probability distribution over "
            f"{list(q.choices)!r}). {len(rows)} row(s) do not, e.g. {rows[0]!r} sums to {sums[0]:.4g}. "
            f"Normalise with frame.div(frame.sum(axis=1), axis=0), or pass predict_proba's output."
        )
    return P


def default_review_threshold(cardinality: int) -> float:
    """The default confidence below which a prediction goes to review: halfway between chance and certainty.

    ``(1 + 1/k) / 2`` for ``k`` classes: 0.75 for two classes, 0.667 for three, 0.55 for ten.
    """
    return (1.0 + 1.0 / cardinality) / 2.0


def record_predictions(
    store: EventStore,
    *,
    question: str,
    run_id: str,
    model_version: str,
    origin: str,
    ids: Sequence[str],
    proba: np.ndarray,
    choices: Sequence[str],
    statuses: Sequence[str],
    created_at: str,
) -> int:
    """Record a model's predictions (drafts) for ``ids`` in one transaction; returns how many were new.

    Nothing here is a label: predictions are what a model suggested, shown as drafts. Each is
    kept under (question, example, run), so every run's predictions stay.
    """
    top = proba.argmax(axis=1).tolist()
    conf = np.round(proba.max(axis=1), 6).tolist() if len(proba) else []
    rows = np.round(proba, 6).tolist()
    names = [str(c) for c in choices]
    items = [
        (
            f"{question}{_SEP}{eid}{_SEP}{run_id}",
            {"confidence": c, "created_at": created_at, "model_version": model_version, "origin": origin,
             "proba": row, "run_id": run_id, "status": st, "value": names[t]},
        )
        for eid, t, c, row, st in zip(ids, top, conf, rows, statuses, strict=True)
    ]
    return store.put_records(PREDICTION_KIND, items)


def newest_prediction_runs(store: EventStore, question: str) -> dict[str, str]:
    """Example id -> the run of its newest recorded prediction for ``question`` (the run behind its draft).

    Reads record keys only (each is question, example and run), in the order they were written.
    """
    prefix = f"{question}{_SEP}"
    out: dict[str, str] = {}
    for key in store.record_keys(PREDICTION_KIND, prefix):
        eid, _, run = key[len(prefix):].rpartition(_SEP)
        out.pop(eid, None)  # a newer record of an id moves it to the end, like the draft lookup
        out[eid] = run
    return out


@dataclass(frozen=True)
class _QueueFilters:
    """The search and filters of :meth:`ProjectAnnotation.queue`, checked."""

    words: tuple[str, ...] = ()
    max_agreement: float | None = None
    answered: frozenset[str] | None = None  # the ids the annotator / label filters keep (both: the intersection)

    @property
    def active(self) -> bool:
        return bool(self.words) or self.max_agreement is not None or self.answered is not None

    @classmethod
    def check(
        cls,
        q: Question,
        *,
        search: Any,
        max_agreement: Any,
        annotator: Any,
        label: Any,
        answers: pd.DataFrame | None,
    ) -> _QueueFilters:
        if search is not None and not isinstance(search, str):
            raise LabelValidationError(
                f"The 'search' parameter of queue must be a string of words to find in the item's id or text, or "
                f"None. Got {type(search).__name__} {search!r} instead; pass e.g. search='gift card'."
            )
        words = tuple(w for w in (search or "").casefold().split() if w)
        limit: float | None = None
        if max_agreement is not None:
            ok = isinstance(max_agreement, (int, float, np.integer, np.floating)) and not isinstance(max_agreement,
                                                                                                    bool)
            if not ok or not math.isfinite(float(max_agreement)) or not 0.0 <= float(max_agreement) <= 1.0:
                raise LabelValidationError(
                    f"The 'max_agreement' parameter of queue must be a number between 0 and 1 (the share of an "
                    f"item's annotators who agree), or None for no limit. Got {max_agreement!r} instead; pass e.g. "
                    f"max_agreement=0.67."
                )
            limit = float(max_agreement)
        answered: frozenset[str] | None = None
        if annotator is not None:
            if not isinstance(annotator, str) or not annotator.strip():
                raise LabelValidationError(
                    f"The 'annotator' parameter of queue must be a non-empty string (an annotator's name), or None. "
                    f"Got {annotator!r} instead."
                )
            assert answers is not None
            names = sorted({str(a) for a in answers["annotator"]})
            if annotator not in names:
                shown = names[:20] + (["..."] if len(names) > 20 else [])
                raise LabelValidationError(
                    f"The 'annotator' parameter of queue names {annotator!r}, who has no current answer to question "
                    f"{q.name!r}. Expected one of the annotators with answers: {shown!r}."
                )
            answered = frozenset(answers.loc[answers["annotator"].astype(str) == annotator,
                                             "example_id"].astype(str))
        if label is not None:
            if not isinstance(label, str) or label not in q.choices:
                raise LabelValidationError(
                    f"The 'label' parameter of queue must be a choice of question {q.name!r}: {list(q.choices)!r}, "
                    f"or None. Got {label!r} instead."
                )
            assert answers is not None
            with_label = frozenset(answers.loc[answers["value"].astype(str) == label, "example_id"].astype(str))
            answered = with_label if answered is None else answered & with_label
        return cls(words, limit, answered)


class ProjectAnnotation:
    """Human annotation: queues, leases, overlap, hidden honeypots, drafts, skip, undo, imports.

    Leases are kept in the store, so several kernels or processes can serve the same project
    at once: an item goes to ``overlap`` different annotators and never twice to the same one.
    Reviewers of the adjudication and relabel queues hold exclusive leases in the same table
    (:meth:`claim`, :meth:`release`, :meth:`holders`): one reviewer per item at a time.

    Parameters
    ----------
    store : EventStore
        Leases, skips and the project's settings.
    schema : SchemaRegistry
        The questions (routing uses the root question unless told otherwise).
    data : DataCatalog
        The examples served.
    log : LabelLog
        Where answers are recorded.
    lfs : ProjectLFs
        LF votes, for the ``disagreement`` queue.
    models : ProjectModels
        Probabilities, for drafts and the ``uncertain`` and ``stratified`` queues.
    quality : ProjectQuality
        Consensus, for the ``adjudication`` queue.

    Examples
    --------
    >>> project.annotation.configure(overlap=3, honeypot_rate=0.1)           # doctest: +SKIP
    >>> items = project.annotation.next_items("alice", n=20, strategy="uncertain")  # doctest: +SKIP
    >>> project.annotation.submit(items[0].example_id, "spam", annotator="alice")   # doctest: +SKIP
    >>> project.annotation.undo(annotator="alice")                           # doctest: +SKIP
    >>> project.annotation.queue("adjudication", n=None, search="gift", max_agreement=0.6)  # doctest: +SKIP
    >>> project.annotation.claim("c-4", "dr_lee", task="adjudication")      # doctest: +SKIP
    'dr_lee'
    """

    def __init__(
        self,
        store: EventStore,
        schema: SchemaRegistry,
        data: DataCatalog,
        log: LabelLog,
        lfs: ProjectLFs,
        models: ProjectModels,
        quality: ProjectQuality,
    ) -> None:
        self._store = store
        self._schema = schema
        self._data = data
        self._log = log
        self._lfs = lfs
        self._models = models
        self._quality = quality
        self._priority_cache: dict[str, tuple[str, pd.Series]] = {}
        self._accepted_cache: tuple[tuple[str, int], pd.DataFrame] | None = None

    def __repr__(self) -> str:
        c = self.config
        return (f"<project.annotation: overlap={c.overlap}, honeypot_rate={c.honeypot_rate}; "
                f"queue, next_items, submit, skip, undo, claim, release, holders, progress, answers, "
                f"import_annotations, "
                f"prioritize, prelabel, revoke_prelabels, corrections, correction_summary>")

    def _q(self, question: str | None) -> Question:
        return self._log.root_question(question)

    # ------------------------------------------------------------------ configuration
    @property
    def config(self) -> QualityConfig:
        """The project's routing and quality settings."""
        return load_config(self._store)

    def configure(self, **settings: Any) -> QualityConfig:
        """Change routing and quality settings; see :class:`~workbench.quality.QualityConfig` for the fields.

        Examples
        --------
        >>> project.annotation.configure(overlap=3, honeypot_rate=0.1, agreement_threshold=0.7)  # doctest: +SKIP
        """
        return save_config(self._store, **settings)

    # ------------------------------------------------------------------ imports
    def import_annotations(
        self,
        annotations: pd.DataFrame,
        *,
        id_column: str = "id",
        annotator_column: str = "annotator",
        value_column: str = "value",
        created_at_column: str = "created_at",
        source: str = "human",
    ) -> list[LabelEvent]:
        """Import existing labels (e.g. a crowd export): columns id, annotator, value[, created_at].

        ``created_at`` must be ISO-8601 strings or timestamps (a time without a timezone is
        read as UTC). Every row is validated first; all rows are written in one transaction
        or none.
        """
        if not isinstance(annotations, pd.DataFrame):
            raise DataError(f"import_annotations takes a DataFrame. Got {type(annotations).__name__} instead.")
        for col in (id_column, annotator_column, value_column):
            if col not in annotations.columns:
                raise DataError(
                    f"import_annotations: the column {col!r} is missing. Columns: {list(annotations.columns)!r}. "
                    f"Name yours with id_column=, annotator_column=, value_column=."
                )
        def text(v: Any) -> Any:  # a column with a gap reads 1.0 for 1; a missing value stays missing
            return None if v is None or (isinstance(v, float) and np.isnan(v)) else id_text(v)

        frame = pd.DataFrame(
            {
                "example_id": [text(v) for v in annotations[id_column]],
                "annotator": annotations[annotator_column].astype(str),
                "value": [text(v) for v in annotations[value_column]],
                "source": source,
            }
        )
        if created_at_column in annotations.columns:
            frame["created_at"] = annotations[created_at_column].to_numpy()  # recorded oldest first
        return self._log.annotate_many(frame)

    # ------------------------------------------------------------------ drafts
    def draft(self, example_id: str, question: str | None = None) -> Draft | None:
        """The suggestion shown to an annotator for one example, if any source has one.

        The newest model prediction wins: a draft recorded by :meth:`prelabel` or by
        ``project.feedback.predictions`` (these are not labels), or a current ``source="model"``
        label event (an auto-accepted pre-label, or a prediction recorded with
        ``project.annotate(..., source="model")``). Without one, the label model's most
        probable class from the LF votes (``source="label_model"``).
        """
        q = self._q(question)
        best: tuple[str, Draft] | None = None
        if _SEP not in example_id:
            preds = self._store.find_records(PREDICTION_KIND, f"{q.name}{_SEP}{example_id}{_SEP}")
            if preds:
                p = list(preds.values())[-1]
                conf = p.get("confidence")
                best = (str(p["created_at"]), Draft(str(p["value"]), None if conf is None else float(conf), "model",
                                                    str(p["model_version"])))
        ev = self._store.events(example_id=example_id, question=q.name, source="model", current_only=True)
        ev = ev[(ev["action"] == "label") & ~ev["event_id"].isin(self._log.excluded_event_ids())]  # no flagged drafts
        if len(ev):
            last = ev.iloc[-1]
            when = str(last["created_at"])
            if best is None or when >= best[0]:
                conf = last["confidence"]
                best = (when, Draft(str(last["value"]), None if pd.isna(conf) else float(conf), "model",
                                    str(last["annotator"])))
        if best is not None:
            return best[1]
        proba = self._models.predict_proba(q.name)
        if proba is not None and example_id in proba.index:
            row = proba.loc[example_id].to_numpy(dtype=float)
            return Draft(q.choices[int(row.argmax())], float(row.max()), "label_model", LABEL_MODEL_VERSION)
        return None

    def answers(self, question: str | None = None, *, include_honeypots: bool = False) -> pd.DataFrame:
        """Current human answers as a long table: example_id, annotator, value, created_at, is_honeypot, event_id."""
        return self._log.answers(self._q(question).name, include_honeypots=include_honeypots)

    # ------------------------------------------------------------------ queues
    def _asked_with(self, question: str) -> list[tuple[str, dict[str, tuple[str, ...]]]]:
        """What an annotator answers for an item served for ``question``, as ``(question, condition)`` pairs:
        it (always), then every later question, asked when its condition holds (the Annotator asks them
        along: the unconditional ones always, a follow-up when its parent's answer calls for it)."""
        schema = self._schema.current
        names = schema.question_names
        start = names.index(question)
        later = [(n, {p: tuple(a) for p, a in schema.question(n).condition.items()}) for n in names[start + 1:]]
        return [(question, {}), *later]

    def _human_counts(self, question: str) -> pd.Series:
        """Per example: the annotators whose current answers are complete for ``question`` (see
        :meth:`_asked_with`; a flagged answer is no answer, so its item is owed again)."""
        asked = self._asked_with(question)
        ev = self._log.labels(source="human")
        ev = ev[~ev["is_honeypot"].astype(bool)]
        if len(asked) == 1:
            ev = ev[ev["question"] == question]
            return ev.groupby("example_id")["annotator"].nunique()
        ev = ev[ev["question"].isin({q for q, _ in asked} | {p for _, cond in asked for p in cond})]
        wide = ev.pivot_table(index=["example_id", "annotator"], columns="question", values="value",
                              aggfunc="last")
        complete = np.ones(len(wide), dtype=bool)
        for q, cond in asked:
            answered = wide[q].notna().to_numpy() if q in wide.columns else np.zeros(len(wide), dtype=bool)
            owed = np.ones(len(wide), dtype=bool)
            for parent, accepted in cond.items():
                owed &= (wide[parent].isin(accepted).to_numpy() if parent in wide.columns
                         else np.zeros(len(wide), dtype=bool))
            complete &= answered | ~owed
        full = wide.index[complete].to_frame(index=False)
        return full.groupby("example_id")["annotator"].nunique()

    def queue(
        self,
        strategy: str = "random",
        n: int | None = 50,
        *,
        question: str | None = None,
        random_state: int | None = 0,
        search: str | None = None,
        max_agreement: float | None = None,
        annotator: str | None = None,
        label: str | None = None,
    ) -> pd.DataFrame:
        """Which examples to label next, best first; optionally only those matching a search and filters.

        Parameters
        ----------
        strategy : {"random", "stratified", "disagreement", "uncertain", "adjudication", "review"}
            ``random``: a seeded shuffle. ``stratified``: round-robin over predicted classes,
            rarest class first. ``disagreement``: where labeling functions conflict most.
            ``uncertain``: the latest :meth:`prioritize` order (an active learner's batch, highest
            score first), then the rest by highest entropy of the label-model / model
            probabilities. ``adjudication``: items whose consensus needs an adjudicator
            (``project.quality.consensus()["needs_adjudication"]``), lowest agreement first.
            ``review``: only the production predictions recorded with ``project.feedback.predictions``
            whose confidence fell below their threshold, least confident first.
        n : int or None
            How many (None: all).
        question : str, optional
            The question (default: the root question).
        random_state : int, optional
            Seed for shuffles and tie-breaks.
        search : str, optional
            Keep the items whose id or text contains every word of ``search`` (case-insensitive;
            the project's text column, or every field of a project without one).
        max_agreement : float in [0, 1], optional
            Keep the items whose annotators agree at most this much: the ``agreement`` of the
            majority consensus (``project.quality.consensus()``), the number the adjudication queue
            is routed by. Items without answers have no agreement and are left out.
        annotator : str, optional
            Keep the items this annotator answered (current human answers, honeypots left out).
            It must be someone with a current answer to the question.
        label : str, optional
            Keep the items some annotator answered with this choice of the question (with
            ``annotator`` too: items that annotator answered and someone answered ``label``).

        Returns
        -------
        DataFrame
            Columns ``example_id``, ``score`` and ``reason``. Items that already have
            ``overlap`` current human answers, gold items and auto-accepted items (a current
            :meth:`prelabel` label) are left out (except for ``adjudication``). Strategies that
            need predictions fall back to ``random`` when there are none, and say so in ``reason``.
            The filters keep the queue's order and are applied before ``n`` is taken.

        Raises
        ------
        LabelValidationError
            An unknown strategy or question, a bad ``n``, or a filter of the wrong type or
            value (naming the annotators and choices there are).

        Examples
        --------
        The adjudication queue of a reviewer looking for gift-card spam that ``cid`` answered,
        where at most two thirds of the annotators agree:

        >>> project.annotation.queue("adjudication", n=None, search="gift card", annotator="cid",
        ...                          max_agreement=0.67)                                 # doctest: +SKIP
          example_id  score                     reason
        0       r-04   0.33  agreement 0.67 below 0.70
        """
        if strategy not in QUEUE_STRATEGIES:
            raise LabelValidationError(
                f"Unknown queue strategy {strategy!r}. Expected one of {list(QUEUE_STRATEGIES)!r}."
            )
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise LabelValidationError(f"The 'n' parameter of queue must be a positive integer or None. Got {n!r}.")
        q = self._q(question)
        filters = _QueueFilters.check(q, search=search, max_agreement=max_agreement, annotator=annotator,
                                      label=label, answers=self._log.answers(q.name) if
                                      annotator is not None or label is not None else None)
        if strategy == "adjudication":
            out, agreement = self._adjudication_queue(q.name)
            return self._filtered(out, q, filters, n, agreement)
        rng = np.random.default_rng(random_state)
        ids = self._data.index()
        config = self.config
        counts = self._human_counts(q.name).reindex(ids, fill_value=0)
        gold_ids = set(self._log.gold(q.name).index)
        settled = gold_ids | set(self._accepted_labels(q.name)["example_id"])
        open_mask = (counts.to_numpy() < config.overlap) & ~np.asarray(ids.isin(settled), dtype=bool)
        cand = ids[open_mask]
        cand = cand[rng.permutation(len(cand))]
        score = np.zeros(len(cand))
        reason = np.full(len(cand), "random", dtype=object)
        if strategy == "review":
            rev = self._review_items(q.name)
            cand = cand[np.asarray(cand.isin(rev.index), dtype=bool)]
            sub = rev.reindex(cand)
            conf = sub["confidence"].to_numpy(dtype=float)
            idx = np.argsort(conf, kind="stable")
            cand = cand[idx]
            score = 1.0 - conf[idx]
            reason = np.array(
                [f"low confidence {c:.3f} < {t:.3f} from production model {m!r}" for c, t, m in
                 zip(conf[idx], sub["threshold"].to_numpy(dtype=float)[idx], sub["model_version"].to_numpy()[idx],
                     strict=True)], dtype=object)
        if strategy in ("uncertain", "stratified"):
            proba = self._models.predict_proba(q.name)
            if proba is None:
                reason[:] = f"random (no predictions yet for {strategy!r})"
            else:
                p = proba.reindex(cand).to_numpy(dtype=float)
                known = ~np.isnan(p).any(axis=1)
                if strategy == "uncertain":
                    with np.errstate(divide="ignore", invalid="ignore"):
                        ent = -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=1) / np.log(q.cardinality)
                    score = np.where(known, ent, 1.0)  # unpredicted rows are maximally uncertain
                    reason = np.where(known, "entropy of predicted classes", "no prediction").astype(object)
                    idx = np.argsort(-score, kind="stable")
                else:
                    pred = np.where(known, np.nanargmax(np.where(known[:, None], p, 0.0), axis=1), -1)
                    classes, freq = np.unique(pred, return_counts=True)
                    rank = {c: r for r, c in enumerate(classes[np.argsort(freq, kind="stable")])}
                    pos = np.zeros(len(cand))
                    for c in classes:
                        where = np.flatnonzero(pred == c)
                        pos[where] = np.arange(len(where)) * len(classes) + rank[c]
                    idx = np.argsort(pos, kind="stable")
                    score = 1.0 / (1.0 + pos)
                    reason = np.array(
                        [f"stratified: predicted {q.choices[c]!r}" if c >= 0 else "stratified: no prediction"
                         for c in pred],
                        dtype=object,
                    )
                cand, score, reason = cand[idx], score[idx], reason[idx]
            if strategy == "uncertain":
                cand, score, reason = self._apply_priorities(q.name, cand, score, reason)
        elif strategy == "disagreement":
            if not len(self._lfs):
                reason[:] = "random (no labeling functions yet)"
            else:
                key = q.name if not self._schema.current.is_single else None
                L = pd.DataFrame(self._lfs.matrix(key, progress=False), index=ids).reindex(cand).to_numpy()
                votes = np.stack([np.equal(L, c).sum(axis=1) for c in range(q.cardinality)], axis=1)
                total = votes.sum(axis=1)
                with np.errstate(divide="ignore", invalid="ignore"):
                    share = np.where(total[:, None] > 0, votes / np.maximum(total[:, None], 1), 0.0)
                    ent = -np.sum(np.where(share > 0, share * np.log(share), 0.0), axis=1)
                score = ent + 1e-3 * total
                reason = np.where(ent > 0, "labeling functions conflict", "no conflict").astype(object)
                idx = np.argsort(-score, kind="stable")
                cand, score, reason = cand[idx], score[idx], reason[idx]
        # Items other annotators already started come first, so overlap-k items get completed.
        started = np.asarray(counts.reindex(cand).to_numpy() > 0, dtype=bool)
        first = np.argsort(~started, kind="stable")
        cand, score, reason = cand[first], score[first], reason[first]
        reason = np.where(started[first], [f"{r}; started by others" for r in reason], reason)
        out = pd.DataFrame({"example_id": np.asarray(cand, dtype=object), "score": score, "reason": reason})
        return self._filtered(out, q, filters, n, None)

    def _filtered(
        self, out: pd.DataFrame, q: Question, filters: _QueueFilters, n: int | None, agreement: pd.Series | None
    ) -> pd.DataFrame:
        """``out`` with only the rows ``filters`` keep (in order), then its first ``n``."""
        if filters.active and len(out):
            ids = pd.Index(out["example_id"].astype(str), dtype=object)
            keep = np.ones(len(ids), dtype=bool)
            if filters.words:
                keep &= self._search_text(ids, filters.words)
            if filters.max_agreement is not None:
                if agreement is None:
                    agreement = self._quality.consensus("majority", q.name)["agreement"]
                a = pd.to_numeric(agreement.reindex(ids), errors="coerce").to_numpy(dtype=float)
                with np.errstate(invalid="ignore"):
                    keep &= np.isfinite(a) & (a <= filters.max_agreement + 1e-9)
            if filters.answered is not None:
                keep &= np.asarray(ids.isin(filters.answered), dtype=bool)
            out = out[keep].reset_index(drop=True)
        return out.head(n) if n is not None else out

    def _search_text(self, ids: pd.Index, words: Sequence[str]) -> np.ndarray:
        """Whether each id, or its text, contains every word (``words`` are case-folded already)."""
        frame = self._data.frame()
        column = self._data.text_column
        rows = frame.reindex(ids)
        if column is not None and column in frame.columns:
            texts = [("" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)) for v in rows[column]]
        else:
            fields = [c for c in frame.columns if c != "data_version"]
            texts = ["; ".join(f"{k}: {v}" for k, v in zip(fields, row, strict=True))
                     for row in rows[fields].itertuples(index=False, name=None)]
        hay = [f"{i} {t}".casefold() for i, t in zip(ids, texts, strict=True)]
        return np.array([all(w in h for w in words) for h in hay], dtype=bool)

    def _adjudication_queue(self, question: str) -> tuple[pd.DataFrame, pd.Series]:
        threshold = self.config.agreement_threshold
        cons = self._quality.consensus("majority", question)
        undecided = cons[~cons["adjudicated"].astype(bool)]
        sub = undecided.loc[route_to_adjudication(undecided, threshold)]  # the rule behind needs_adjudication
        out = pd.DataFrame(
            {
                "example_id": pd.Series(list(sub.index), dtype=object),
                "score": 1.0 - sub["agreement"].to_numpy(dtype=float),
                "reason": [
                    "tie" if bool(t) or pd.isna(lab) else f"agreement {a:.2f} below {threshold:.2f}"
                    for a, t, lab in zip(sub["agreement"], sub["tie"], sub["label"], strict=True)
                ],
            }
        )
        return out, cons["agreement"]

    # ------------------------------------------------------------------ serving work
    def next_items(
        self,
        annotator: str,
        n: int = 1,
        *,
        strategy: str = "random",
        question: str | None = None,
        random_state: int | None = None,
    ) -> list[Assignment]:
        """Lease the next ``n`` items to ``annotator`` (safe across processes).

        Honours overlap (each item goes to that many different annotators, never twice to
        the same one; an annotator has answered an item when they answered ``question`` and
        every later question the Annotator asks along: each one without a condition, and each
        follow-up their own answers call for), keeps an annotator's unexpired leases first,
        and mixes in hidden honeypots (gold items) at the configured rate. Items come with a draft when a model
        or the label model has one. A label that a migration or a guideline review flagged
        (excluded, waiting in ``project.migrations.relabel_queue()``) is not a current answer:
        the item is served again, to its annotator too, and the flagged label does not count
        toward the overlap.

        With ``strategy="adjudication"`` the items are leased to ``annotator`` (a reviewer)
        exclusively, under the ``"adjudication"`` task of :meth:`claim`: an item another
        reviewer holds is not served. End such a lease with :meth:`release` after
        ``project.quality.adjudicate(...)``, or let it expire.
        """
        if not isinstance(annotator, str) or not annotator.strip():
            raise LabelValidationError(f"The 'annotator' parameter of next_items must be a non-empty string. Got "
                                       f"{annotator!r} instead.")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise LabelValidationError(f"The 'n' parameter of next_items must be a positive integer. Got {n!r}.")
        config = self.config
        q = self._q(question)
        rng = np.random.default_rng(random_state)
        n_honey = int(rng.binomial(n, config.honeypot_rate)) if config.honeypot_rate > 0 else 0
        # One project-wide order (seed 0) so that annotators converge on the same items.
        cand = self.queue(strategy, None, question=q.name, random_state=0)["example_id"].tolist()
        # Adjudication items are leased exclusively (one reviewer each); annotators share items up to the overlap.
        # A label flagged for relabeling (by a migration or a guideline review) is no current answer: its item
        # goes back to its annotator and does not count toward the overlap.
        lease: dict[str, Any] = (
            {"task": "adjudication", "overlap": 1} if strategy == "adjudication"
            else {"overlap": config.overlap, "ignore_events": self._log.excluded_event_ids(),
                  "questions": self._asked_with(q.name)}
        )
        regular = self._store.claim(annotator, cand, n=n - n_honey, lease_seconds=config.lease_seconds, **lease)
        drafts = {eid: self.draft(eid, q.name) for eid, _ in regular}
        honey: list[tuple[str, float]] = []
        if n_honey:
            honey = self._store.claim(annotator, self._honeypot_order(q.name, drafts, rng), n=n_honey, overlap=1,
                                      lease_seconds=config.lease_seconds, honeypot=True,
                                      ignore_events=self._log.excluded_event_ids(),
                                      questions=self._asked_with(q.name))
            drafts.update({eid: self.draft(eid, q.name) for eid, _ in honey})
            if len(regular) + len(honey) < n:  # fewer honeypots than drawn: fill the batch with regular work
                more = self._store.claim(annotator, cand, n=n - len(honey), lease_seconds=config.lease_seconds,
                                         **lease)
                known = {e for e, _ in regular}
                regular += [(e, x) for e, x in more if e not in known]
                drafts.update({eid: self.draft(eid, q.name) for eid, _ in regular if eid not in drafts})
        items = [(e, x, False) for e, x in regular] + [(e, x, True) for e, x in honey]
        order = rng.permutation(len(items)) if honey else np.arange(len(items))
        out = []
        for k in order:
            eid, exp, hp = items[int(k)]
            out.append(Assignment(eid, annotator, exp, hp, drafts[eid], self._data.record(eid)))
        return out

    # ------------------------------------------------------------------ review leases
    def _review_args(self, func: str, reviewer: Any, task: Any) -> None:
        if task not in REVIEW_TASKS:
            raise LabelValidationError(
                f"The 'task' parameter of {func} must be one of the review tasks {list(REVIEW_TASKS)!r}. Got "
                f"{task!r} instead. Annotators' items are leased by next_items(annotator, ...) and released by "
                f"submit or skip."
            )
        if not isinstance(reviewer, str) or not reviewer.strip():
            raise LabelValidationError(
                f"The 'reviewer' parameter of {func} must be a non-empty string (the reviewer's name). Got "
                f"{reviewer!r} instead."
            )

    def claim(self, example_id: str, reviewer: str, *, task: str = "adjudication") -> str:
        """Lease one review item to ``reviewer`` unless another reviewer holds it; return who holds it now.

        Review leases are exclusive: one reviewer per item and task at a time, across every
        process serving the project (they live in the store's lease table, next to the
        annotators' leases; they are coordination state, never label events). Claiming an
        item one already holds renews the lease. A lease lasts ``config.lease_seconds``
        unless renewed or :meth:`release`-d, so an item on a closed browser tab frees itself.

        Parameters
        ----------
        example_id : str
            The item (e.g. from ``queue("adjudication")`` or ``project.migrations.relabel_queue()``).
        reviewer : str
            Who will have it on screen.
        task : {"adjudication", "relabel"}, default "adjudication"
            Which review queue the item is worked in; the tasks' leases are separate.

        Returns
        -------
        str
            ``reviewer`` when the lease is theirs, else the name of the reviewer holding it.

        Raises
        ------
        LabelValidationError
            An unknown task, or an empty reviewer name.
        UnknownExampleError
            ``example_id`` is not an example of the project.

        Examples
        --------
        >>> project.annotation.claim("c-1", "dr_lee")                       # doctest: +SKIP
        'dr_lee'
        >>> project.annotation.claim("c-1", "dr_kim")                       # doctest: +SKIP
        'dr_lee'
        >>> project.annotation.holders("adjudication")                      # doctest: +SKIP
        {'c-1': 'dr_lee'}
        >>> project.annotation.release("c-1", "dr_lee")                     # doctest: +SKIP
        """
        self._review_args("claim", reviewer, task)
        self._data.check_ids([example_id])
        holder, _ = self._store.claim_item(task, example_id, reviewer, lease_seconds=self.config.lease_seconds)
        return holder

    def release(self, example_id: str, reviewer: str, *, task: str = "adjudication") -> None:
        """End ``reviewer``'s lease on one review item (nothing happens if someone else holds it).

        Parameters are as in :meth:`claim`; an unknown ``example_id`` simply holds no lease.
        """
        self._review_args("release", reviewer, task)
        if not isinstance(example_id, str):
            raise UnknownExampleError(
                f"The 'example_id' parameter of release must be an example id (a string). Got "
                f"{type(example_id).__name__} {example_id!r} instead."
            )
        self._store.release(reviewer, example_id, task=task)

    def holders(self, task: str = "adjudication", example_ids: Sequence[str] | None = None) -> dict[str, str]:
        """Who has which item of a review task on screen: example id -> reviewer, for unexpired leases.

        Parameters
        ----------
        task : {"adjudication", "relabel"}, default "adjudication"
        example_ids : list of str, optional
            Only these items (default: every leased item of the task).
        """
        if task not in REVIEW_TASKS:
            raise LabelValidationError(
                f"The 'task' parameter of holders must be one of the review tasks {list(REVIEW_TASKS)!r}. Got "
                f"{task!r} instead."
            )
        if example_ids is not None and (isinstance(example_ids, str) or not all(isinstance(e, str)
                                                                               for e in example_ids)):
            raise LabelValidationError(
                f"The 'example_ids' parameter of holders must be a list of example ids (strings), or None. Got "
                f"{example_ids!r} instead."
            )
        leases = self._store.leases(task=task)
        out: dict[str, str] = {}
        for eid, who in zip(leases["example_id"].astype(str), leases["annotator"].astype(str), strict=True):
            out.setdefault(eid, who)  # exclusive leases: one holder (the oldest, should two ever race)
        if example_ids is not None:
            wanted = set(example_ids)
            out = {e: u for e, u in out.items() if e in wanted}
        return out

    def _draft_kinds(self, question: str) -> pd.Series:
        """Per example, where its draft would come from: ``"model"``, ``"label_model"`` or ``"none"``."""
        ids = self._data.index()
        kinds = pd.Series("none", index=ids, dtype=object)
        proba = self._models.predict_proba(question)
        if proba is not None:
            kinds[kinds.index.isin(proba.index)] = "label_model"
        preds = self._log.labels(source="model", question=question)
        drafted = {k.split(_SEP)[1] for k in self._store.record_keys(PREDICTION_KIND, f"{question}{_SEP}")}
        kinds[kinds.index.isin(preds["example_id"]) | kinds.index.isin(drafted)] = "model"
        return kinds

    def _honeypot_order(self, question: str, drafts: dict[str, Draft | None], rng: np.random.Generator) -> list[str]:
        """Gold items to serve as honeypots, those that look like the regular items first.

        A honeypot must not stand out: only gold items whose draft is of a kind the regular items
        of this batch have (a model's, the label model's, none) are served, so that the presence
        or source of a draft never tells the two apart. When none qualifies, the batch has no
        honeypot (a warning says why) rather than one an annotator could spot.
        """
        gold_ids = np.asarray(self._log.gold(question).index, dtype=object)
        rng.shuffle(gold_ids)
        if not len(gold_ids):
            return []
        kinds = self._draft_kinds(question).reindex(gold_ids).fillna("none").to_numpy()
        if not drafts:  # no regular item in this batch to look like (no open work): any gold item will do
            return [str(g) for g in gold_ids]
        wanted = {"none" if d is None else d.source for d in drafts.values()}
        alike = [str(g) for g, k in zip(gold_ids, kinds, strict=True) if k in wanted]
        if not alike:
            _log.warning(
                "No gold item can be served as a honeypot without standing out: this batch's items have drafts "
                "of kind %s and no gold item has one. Record the model's predictions for the gold items too "
                "(a model predicts every example), or the batch goes out without honeypots.", sorted(wanted),
            )
        return alike

    def submit(
        self,
        example_id: str,
        value: Any,
        *,
        annotator: str,
        time_spent: float | None = None,
        confirmed_draft: bool = False,
        draft: Draft | None = _SHOWN,
    ) -> list[LabelEvent]:
        """Record an answer to a served item and end its lease (honeypot status comes from the lease).

        Every submission is logged with the draft the annotator was shown (value, source, model
        version, confidence), which :meth:`corrections` and :meth:`correction_summary` read.

        Parameters
        ----------
        example_id : str
            The item answered.
        value : str or dict
            The answer (a choice, or ``{question: choice}``).
        annotator : str
            Who answered.
        time_spent : float, optional
            Seconds spent on the item.
        confirmed_draft : bool, default False
            The annotator accepted the draft as it was (the Enter key); noted on the event.
        draft : Draft or None, optional
            The draft that was shown (``Assignment.draft``); None if none was. By default the
            draft the item has now (:meth:`draft`), which is what was shown unless a model
            recorded new drafts in between.
        """
        shown = self._shown_draft(example_id, draft, "submit")
        lease = self._store.lease_of(annotator, example_id)
        if lease is not None:
            is_honeypot = bool(lease["is_honeypot"])
        else:  # an item answered again after an undo keeps the honeypot status it was served with
            before = self._store.events(example_id=example_id, annotator=annotator, source="human")
            is_honeypot = bool(before["is_honeypot"].any())
        events = self._log.annotate(
            example_id, value, annotator=annotator, time_spent=time_spent, is_honeypot=is_honeypot,
            note="confirmed draft" if confirmed_draft else None,
        )
        self._store.release(annotator, example_id)
        root = self._q(None).name
        answer = next((e.value for e in events if e.question == root and e.action == "label"), None)
        if events and answer is not None:
            d = shown if isinstance(shown, Draft) else None
            outcome = None if d is None else ("confirmed" if answer == d.value else "corrected")
            self._store.put_record(_SUBMISSION, events[0].event_uid.split(":")[0], {
                **self._draft_fields(d), "example_id": example_id, "annotator": annotator, "question": root,
                "answer": answer, "outcome": outcome, "confirmed_draft": bool(confirmed_draft),
                "time_spent": None if time_spent is None else float(time_spent), "is_honeypot": is_honeypot,
                "created_at": events[0].created_at, "event_id": events[0].event_id,
            })
        return events

    def _shown_draft(self, example_id: str, draft: Any, func: str) -> Draft | None:
        if draft is _SHOWN:
            if not isinstance(example_id, str):
                return None  # the write below names the bad id
            try:
                return self.draft(example_id)
            except WorkbenchError as exc:  # a failing label model must not lose the answer
                _log.warning("The draft of %r could not be computed for the correction log (%s).", example_id, exc)
                return None
        if draft is not None and not isinstance(draft, Draft):
            raise LabelValidationError(
                f"The 'draft' parameter of {func} must be the Draft that was shown (Assignment.draft) or None. "
                f"Got {type(draft).__name__} {draft!r} instead."
            )
        return draft

    @staticmethod
    def _draft_fields(d: Draft | None) -> dict[str, Any]:
        return {"draft": None if d is None else d.value, "draft_source": None if d is None else d.source,
                "model_version": None if d is None else d.model_version,
                "draft_confidence": None if d is None else d.confidence}

    def skip(
        self, example_id: str, *, annotator: str, time_spent: float | None = None, draft: Draft | None = _SHOWN,
    ) -> None:
        """Give an item back without answering; it is not served to this annotator again.

        Skipping an item that had a draft rejects the draft: the correction log records it with
        outcome ``"rejected"`` (see :meth:`corrections`). ``time_spent`` and ``draft`` are as
        in :meth:`submit`.
        """
        if not isinstance(annotator, str) or not annotator.strip():
            raise LabelValidationError(f"The 'annotator' parameter of skip must be a non-empty string. Got "
                                       f"{annotator!r} instead.")
        self._data.check_ids([example_id])
        if time_spent is not None and (isinstance(time_spent, bool) or not isinstance(time_spent, (int, float))
                                       or not math.isfinite(float(time_spent)) or time_spent < 0):
            raise LabelValidationError(f"The 'time_spent' parameter of skip must be a finite number of seconds >= 0. "
                                       f"Got {time_spent!r} instead.")
        shown = self._shown_draft(example_id, draft, "skip")
        self._store.release(annotator, example_id, skipped=True, task=None)  # the item's leases of every task end
        if shown is not None:
            self._store.put_record(_SUBMISSION, f"skip:{uuid.uuid4().hex}", {
                **self._draft_fields(shown), "example_id": example_id, "annotator": annotator,
                "question": self._q(None).name, "answer": None, "outcome": "rejected", "confirmed_draft": False,
                "time_spent": None if time_spent is None else float(time_spent), "is_honeypot": False,
                "created_at": utc_now(), "event_id": None,
            })

    def undo(self, *, annotator: str) -> str | None:
        """Undo the annotator's latest submission that is not undone yet; returns its example id, or None.

        Undo is a stack over the log: repeated calls walk back the annotator's submissions,
        newest first. Each restores the answers the annotator had for that example just
        before the submission (every question, follow-ups included), by appending superseding
        events; nothing is deleted. Only the annotator's own submissions (and answers or
        retractions made with ``project.annotate`` / ``project.retract``) are steps: the events
        a schema migration wrote for their labels are not.

        The restored answers are always valid under the current schema, and recorded under its
        version. If the schema was migrated since they were given, they are carried forward the
        way the migration carried current labels (``project.migrations``): a renamed or merged
        choice and a renamed question come back under their current names. An answer that has
        no place in the current schema is not restored, and the item is left without it to be
        answered again: its choice or question was removed, its choice was split (which part
        it meant is unknown), or its condition no longer holds. An answer flagged for re-review
        under newer guidelines (``project.migrations.flag_for_review``) comes back under its own
        guideline version and flagged as it was, so its item waits for the re-review again.

        Examples
        --------
        >>> project.annotation.submit("a", "ok", annotator="ann")                        # doctest: +SKIP
        >>> project.annotation.submit("a", "toxic", annotator="ann")                     # doctest: +SKIP
        >>> project.migrations.plan(project.schema.evolve(rename={"ok": "fine"})).apply()  # doctest: +SKIP
        >>> project.annotation.undo(annotator="ann")                                     # doctest: +SKIP
        'a'
        >>> project.labels(annotator="ann")["value"].tolist()                            # doctest: +SKIP
        ['fine']
        """
        if not isinstance(annotator, str) or not annotator.strip():
            raise LabelValidationError(f"The 'annotator' parameter of undo must be a non-empty string. Got "
                                       f"{annotator!r} instead.")
        ev = self._store.events(annotator=annotator, source="human")
        if ev.empty:
            return None
        uid = ev["event_uid"].astype(str)
        base = uid.str.split(":").str[0]
        is_undo = base == _UNDO
        undone = set(uid[is_undo].str.split(":").str[1])
        undone |= {r["submission"] for r in self._store.get_records(_UNDO).values() if r["annotator"] == annotator}
        own = ~is_undo & ~uid.str.startswith(MIGRATED_UID)  # a migration's mapping is not a submission
        submissions = ev.loc[own].assign(_base=base[own])
        todo = submissions[~submissions["_base"].isin(undone)]
        if todo.empty:
            return None
        last = todo.iloc[-1]
        eid, sub_id = str(last["example_id"]), str(last["_base"])
        mine = ev[ev["example_id"] == eid].sort_values("event_id")
        this = mine[base[mine.index] == sub_id]
        first_id = int(this["event_id"].min())
        schema = self._schema.current
        before = self._answers_before(mine[mine["event_id"] < first_id], eid, annotator, schema)
        current = self._store.current_answers(eid, "human", annotator)
        # only questions of the current schema, parents before follow-ups (an answer to a removed question stays
        # as it is: flagged by its migration, it is part of no current label)
        mentioned = {*this["question"].astype(str), *current, *before}
        touched = [q for q in schema.question_names if q in mentioned]
        honeypot = bool(this["is_honeypot"].astype(bool).any())
        data_version = self._data.check_ids([eid])[eid]
        when = utc_now()
        events: list[LabelEvent] = []
        # an answer flagged for re-review under new guidelines comes back as it was: under its guidelines, flagged
        flags = self._log.flags()
        flags = flags[(flags["kind"] == "review") & (flags["example_id"].astype(str) == eid)]
        earlier = mine[(mine["event_id"] < first_id) & (mine["action"] == "label")]
        reviewed: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        for qname, answer in before.items():
            given = earlier[(earlier["question"] == qname) & (earlier["value"].astype(str) == answer)]
            if len(given):
                source_id = int(given["event_id"].iloc[-1])
                marks = [{str(k): v for k, v in m.items()}
                         for m in flags[flags["event_id"] == source_id].to_dict("records")]
                if marks:
                    reviewed[qname] = (str(given["guideline_version"].iloc[-1]), marks)
        # parents before follow-ups when restoring, follow-ups first when retracting
        for qname in touched:
            want, have = before.get(qname), current.get(qname)
            if want is None or want == have:
                continue
            events.append(LabelEvent(
                example_id=eid, question=qname, value=want, source="human", annotator=annotator,
                schema_version=schema.version,
                guideline_version=reviewed[qname][0] if qname in reviewed else self._schema.guideline_version,
                data_version=data_version, event_uid=f"{_UNDO}:{sub_id}:{qname}", created_at=when,
                is_honeypot=honeypot, note=_UNDO,
            ))
        for qname in reversed(touched):
            if before.get(qname) is None and current.get(qname) is not None:
                events.append(LabelEvent(
                    example_id=eid, question=qname, value=None, source="human", annotator=annotator,
                    schema_version=schema.version, guideline_version=self._schema.guideline_version,
                    data_version=data_version, event_uid=f"{_UNDO}:{sub_id}:{qname}", created_at=when,
                    action="retract", is_honeypot=honeypot, note=_UNDO,
                ))
        if events:
            stored = self._log.write(events)
            self._log.add_flags(
                (f"undo:{int(ev.event_id or 0)}:{k}", {**mark, "event_id": int(ev.event_id or 0),
                                                     "guideline_version": ev.guideline_version, "created_at": when})
                for ev in stored if ev.action == "label" and ev.question in reviewed
                for k, mark in enumerate(reviewed[ev.question][1])
            )
        # the stack marker (a submission that changed nothing leaves no undo event to find)
        self._store.put_record(_UNDO, f"{annotator}\x1f{sub_id}", {"annotator": annotator, "submission": sub_id,
                                                                   "example_id": eid, "undone_at": when},
                               replace=True)
        return eid

    def _answers_before(self, events: pd.DataFrame, example_id: str, annotator: str, schema: Schema,
                        ) -> dict[str, str]:
        """An annotator's answers to one example after ``events`` (theirs, oldest first), as of ``schema`` now.

        The events are replayed in order; at every schema migration that happened in between or
        since, the answers are carried as that migration carried current labels (its own events
        replayed after it win). What is not a valid answer under ``schema`` is left out: a choice
        or question removed without a migration, a follow-up whose condition no longer holds.
        """
        switches = _recorded_switches(self._store)
        state: dict[str, str] = {}
        k = 0
        for row in events.to_dict("records"):
            while k < len(switches) and switches[k].switched_at < int(row["event_id"]):
                state = switches[k].carry(state, example_id, annotator)
                k += 1
            if row["action"] == "label":
                state[str(row["question"])] = str(row["value"])
            else:
                state.pop(str(row["question"]), None)
        for switch in switches[k:]:
            state = switch.carry(state, example_id, annotator)
        valid = {q: v for q, v in state.items() if q in schema.question_names and v in schema.question(q).choices}
        alive, _ = _without_orphans(schema, valid)
        if alive:
            schema.validate(alive)  # the log's own check (valid by construction: it guards what is written)
        return alive

    def progress(self, annotator: str | None = None) -> dict[str, int]:
        """How much is done: items with enough answers or auto-accepted, and (for one annotator) their answers."""
        root = self._schema.current.questions[0].name
        counts = self._human_counts(root)
        gold = set(self._log.gold(root).index)
        total = len(self._data.index()) - len(gold)
        complete = set(counts.index[counts >= self.config.overlap]) - gold  # gold items are not work to do
        accepted = set(self._accepted_labels(root)["example_id"]) - gold - complete
        done = len(complete) + len(accepted)
        out = {"n_items": total, "n_complete": done, "n_remaining": max(total - done, 0),
               "n_auto_accepted": len(accepted)}
        if annotator is not None:
            mine = self._log.labels(source="human", annotator=annotator)
            out["n_answered"] = int(mine["example_id"].nunique())
            out["n_honeypots"] = int(mine["is_honeypot"].astype(bool).sum())
        return out


    # ------------------------------------------------------------------ priorities (an active learner's order)
    def prioritize(self, scores: pd.Series, *, source: str, question: str | None = None) -> None:
        """Make the ``uncertain`` queue serve items in this order (higher score first).

        The latest call wins, for every process and kernel of the project (the order is kept in
        the store). ``queue("uncertain")`` and ``next_items(..., strategy="uncertain")`` then
        serve the prioritised items that still need answers first, best first; the items the
        series leaves out follow, ordered as without priorities (highest entropy first). Their
        ``reason`` names ``source``. An empty series clears the priorities.

        Parameters
        ----------
        scores : Series
            Indexed by example id (each once), numbers (e.g. an active learner's uncertainty).
        source : str
            Who ordered them, e.g. ``"ActiveLearner(margin)-3"``: shown in the queue's ``reason``.
        question : str, optional
            The question (default: the root question).

        Examples
        --------
        >>> project.annotation.prioritize(pd.Series({"c-7": 0.9, "c-2": 0.4}), source="margin")  # doctest: +SKIP
        >>> project.annotation.queue("uncertain", n=2)["example_id"].tolist()                    # doctest: +SKIP
        ['c-7', 'c-2']
        """
        if not isinstance(source, str) or not source.strip():
            raise LabelValidationError(
                f"The 'source' parameter of prioritize must be a non-empty string naming who ordered the items "
                f"(e.g. 'ActiveLearner-margin'). Got {source!r} instead."
            )
        if not isinstance(scores, pd.Series):
            raise LabelValidationError(
                f"The 'scores' parameter of prioritize must be a pandas Series of numbers indexed by example id. "
                f"Got {type(scores).__name__} instead; build one with pd.Series(scores, index=example_ids)."
            )
        q = self._q(question)
        ids = [str(i) for i in scores.index]
        if len(set(ids)) != len(ids):
            dup = list(dict.fromkeys(i for i in ids if ids.count(i) > 1)) if len(ids) < 10_000 else \
                scores.index[scores.index.duplicated()].astype(str).tolist()
            raise LabelValidationError(
                f"The 'scores' of prioritize name some example ids more than once ({_show_ids(dup)}); give each "
                f"item one score (e.g. scores.groupby(level=0).max())."
            )
        try:
            values = scores.to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise LabelValidationError(
                f"The 'scores' of prioritize must be numbers. Got dtype {scores.dtype}."
            ) from None
        if not np.isfinite(values).all():
            bad = [ids[i] for i in np.flatnonzero(~np.isfinite(values))]
            raise LabelValidationError(
                f"The 'scores' of prioritize must be finite numbers; {len(bad)} are NaN or infinite (e.g. for "
                f"{_show_ids(bad)}). Drop those items or give them a score."
            )
        missing = unknown_ids(ids, self._data.index())
        if missing:
            raise UnknownExampleError(
                f"The 'scores' of prioritize name {len(missing)} example id(s) that are not in this project: "
                f"{_show_ids(missing)}. Score only examples added with project.add_data(...)."
            )
        run = uuid.uuid4().hex
        when = utc_now()
        head = {"run": run, "source": source, "created_at": when, "n": len(ids)}
        order = np.argsort(-values, kind="stable")
        data = {"run": run, "ids": [ids[i] for i in order], "scores": [float(values[i]) for i in order]}
        self._store.put_records(_PRIORITY, [(f"{q.name}{_SEP}data", data), (f"{q.name}{_SEP}head", head)],
                                replace=True)

    def priorities(self, question: str | None = None) -> pd.Series | None:
        """The latest :meth:`prioritize` scores, highest first (``attrs``: ``source``, ``created_at``), or None."""
        q = self._q(question)
        head = self._store.get_record(_PRIORITY, f"{q.name}{_SEP}head")
        if head is None or not head.get("n"):
            return None
        hit = self._priority_cache.get(q.name)
        if hit is None or hit[0] != head["run"]:
            data = self._store.get_record(_PRIORITY, f"{q.name}{_SEP}data") or {"run": "", "ids": [], "scores": []}
            series = pd.Series(data["scores"], index=pd.Index(data["ids"], dtype=object, name="example_id"),
                               name="priority", dtype=float)
            hit = (str(data["run"]), series)
            self._priority_cache[q.name] = hit
        out = hit[1].copy()
        out.attrs.update({"source": head["source"], "created_at": head["created_at"]})
        return out

    def _apply_priorities(
        self, question: str, cand: pd.Index, score: np.ndarray, reason: np.ndarray
    ) -> tuple[pd.Index, np.ndarray, np.ndarray]:
        pri = self.priorities(question)
        if pri is None or not len(cand):
            return cand, score, reason
        got = pri.reindex(cand).to_numpy(dtype=float)
        mine = ~np.isnan(got)
        if not mine.any():
            return cand, score, reason
        src = pri.attrs["source"]
        key = np.where(mine, -got, np.inf)
        idx = np.argsort(key, kind="stable")  # prioritised first, best first; the rest keep their order
        new_score = np.where(mine, got, score)[idx]
        new_reason = np.where(mine, f"priority from {src}", [f"{r} (not prioritised by {src})" for r in reason])
        return cand[idx], new_score, new_reason.astype(object)[idx]

    # ------------------------------------------------------------------ pre-labels and drafts from a model
    def _accepted_labels(self, question: str) -> pd.DataFrame:
        """Current ``source="model"`` labels written by :meth:`prelabel` (not revoked); cached until a new event."""
        key = (question, self._store.last_event_id())
        hit = self._accepted_cache
        if hit is not None and hit[0] == key:
            return hit[1]
        lab = self._log.labels(source="model", question=question)
        lab = lab[lab["event_uid"].astype(str).str.startswith(_PRELABEL_UID)]
        self._accepted_cache = (key, lab)
        return lab

    def _review_items(self, question: str) -> pd.DataFrame:
        recs = self._store.find_records(REVIEW_KIND, f"{question}{_SEP}")
        rows = [{"example_id": k.split(_SEP, 1)[1], **v} for k, v in recs.items() if v.get("needs_review")]
        cols = ["example_id", "confidence", "threshold", "model_version", "run_id", "created_at"]
        frame = pd.DataFrame(rows, columns=[*cols, "needs_review", "value"])[cols]
        return frame.set_index("example_id")

    def prelabel(
        self,
        model: Any,
        *,
        auto_accept: Any = None,
        question: str | None = None,
        example_ids: Iterable[str] | None = None,
        model_name: str | None = None,
    ) -> PrelabelResult:
        """Pre-label items with a model: confident ones are auto-accepted, the rest become drafts.

        Items whose top-class probability reaches the ``auto_accept`` rule become label events
        with ``source="model"``, ``annotator`` = the model version, the top probability as
        ``confidence`` and a note naming the rule (threshold, target precision, confidence
        level); they count as labels (soft labels, label versions) and leave the annotation
        queues. They share the run id, so :meth:`revoke_prelabels` retracts them together. Every
        other item gets a *draft*: a recorded prediction, not a label, which the Annotator shows
        so that Enter confirms it (:meth:`draft`). Items that already have human answers, gold
        or an accepted pre-label are skipped.

        Parameters
        ----------
        model : object or DataFrame
            An object with ``predict_frame(example_ids) -> DataFrame`` (index example id, one
            column per choice, rows summing to 1) and a ``model_version`` string, such as
            :class:`workbench.active.ActiveLearner`; or such a DataFrame itself (then
            ``model_name`` is required). A model with a ``target_question`` (an ActiveLearner's)
            pre-labels that question, and another ``question`` is refused.
        auto_accept : AutoAccept, optional
            A fitted :class:`workbench.active.AutoAccept` (per class or not). None: no item is
            accepted, every item becomes a draft.
        question : str, optional
            The question (default: the root question); it must not be a follow-up question.
        example_ids : iterable of str, optional
            The items to pre-label (default: every item not yet answered, gold or accepted).
        model_name : str, optional
            The model version to record; required with a DataFrame, and overrides the object's
            ``model_version`` otherwise.

        Returns
        -------
        PrelabelResult

        Examples
        --------
        >>> accept = AutoAccept(target_precision=0.97).fit(proba_gold, y_gold)     # doctest: +SKIP
        >>> run = project.annotation.prelabel(learner, auto_accept=accept)          # doctest: +SKIP
        >>> run.n_accepted, run.n_drafts                                            # doctest: +SKIP
        >>> project.annotation.revoke_prelabels(run.run_id)                         # doctest: +SKIP
        """
        # a model that says which question it predicts (an ActiveLearner does) pre-labels that question only
        own = getattr(model, "target_question", None)
        if isinstance(own, str) and own in self._schema.current.question_names:
            if question is not None and self._q(question).name != own:
                raise LabelValidationError(
                    f"prelabel was asked to pre-label {self._q(question).name!r} with a model of {own!r}: its "
                    f"probabilities are about {own!r}. Pass question={own!r}, or a model of "
                    f"{self._q(question).name!r}."
                )
            question = own
        q = self._q(question)
        if q.condition:
            raise LabelValidationError(
                f"prelabel works on questions without a condition; {q.name!r} is a follow-up question (asked when "
                f"{q.condition!r}). Pre-label its parent question, or leave it to annotators."
            )
        version = self._model_version(model, model_name)
        accept = self._check_auto_accept(auto_accept, q)
        all_ids = self._data.index()
        settled = self.settled(q.name)
        if example_ids is not None:
            if isinstance(example_ids, str):
                raise LabelValidationError(
                    f"The 'example_ids' parameter of prelabel must be a list of ids, not one string. Got "
                    f"{example_ids!r}; write example_ids=[{example_ids!r}]."
                )
            wanted = [str(i) for i in example_ids]
            missing = unknown_ids(wanted, all_ids)
            if missing:
                raise UnknownExampleError(
                    f"The 'example_ids' of prelabel name {len(missing)} id(s) that are not in this project: "
                    f"{_show_ids(missing)}. Add the data first with project.add_data(...)."
                )
            wanted = list(dict.fromkeys(wanted))
        if isinstance(model, pd.DataFrame):
            frame = model
            fids = [str(i) for i in frame.index]
            if len(set(fids)) != len(fids):
                raise LabelValidationError("The predictions DataFrame given to prelabel names some example ids "
                                           "twice; keep one row per example.")
            missing = unknown_ids(fids, all_ids)
            if missing:
                raise UnknownExampleError(
                    f"The predictions given to prelabel name {len(missing)} example id(s) that are not in this "
                    f"project: {_show_ids(missing)}. Predict only examples added with project.add_data(...)."
                )
            frame = frame.set_axis(pd.Index(fids, dtype=object), axis=0)
            if example_ids is not None:
                absent = unknown_ids(wanted, frame.index)
                if absent:
                    raise LabelValidationError(
                        f"The predictions DataFrame given to prelabel has no row for {len(absent)} of the "
                        f"example_ids: {_show_ids(absent)}. Predict them too, or leave them out of example_ids."
                    )
                pool = wanted
            else:
                pool = fids
            keep = np.array([i not in settled for i in pool], dtype=bool)
            rows = frame.index.get_indexer(pd.Index([i for i, k in zip(pool, keep, strict=True) if k]))
            P = proba_matrix(frame, q, func="prelabel", param="predictions DataFrame")[rows]
        else:
            pool = wanted if example_ids is not None else [str(i) for i in all_ids]
            keep = np.array([i not in settled for i in pool], dtype=bool)
            frame = self._predict(model, [i for i, k in zip(pool, keep, strict=True) if k], q)
            P = proba_matrix(frame, q, func="prelabel", param="frame returned by model.predict_frame")
        ids = [i for i, k in zip(pool, keep, strict=True) if k]
        n_skipped = int((~keep).sum())
        accepted = accept.accept(P) if accept is not None and len(P) else np.zeros(len(P), dtype=bool)
        top = P.argmax(axis=1) if len(P) else np.zeros(0, dtype=int)
        threshold, rule, tp, cl = self._rule(accept, q)
        when = utc_now()
        run_id = self._store.claim_next_record(_PRELABEL_RUN, "prelabel-", {
            "model_version": version, "question": q.name, "status": "writing", "created_at": when})[1]
        record_predictions(self._store, question=q.name, run_id=run_id, model_version=version, origin="prelabel",
                           ids=ids, proba=P, choices=q.choices,
                           statuses=["accepted" if a else "draft" for a in accepted], created_at=when)
        acc_ids = [i for i, a in zip(ids, accepted, strict=True) if a]
        if acc_ids:
            versions = self._data.check_ids(acc_ids)
            schema = self._schema.current
            sv, gv = schema.version, self._schema.guideline_version
            limits = self._limits(threshold, q)
            events = []
            for k in np.flatnonzero(accepted):
                eid, c = ids[int(k)], int(top[k])
                choice = q.choices[c]
                events.append(LabelEvent(
                    example_id=eid, question=q.name, value=choice, source="model", annotator=version,
                    schema_version=sv, guideline_version=gv,
                    data_version=versions[eid], event_uid=f"{_PRELABEL_UID}{run_id}:{q.name}:{eid}",
                    created_at=when, confidence=round(float(P[k, c]), 6),
                    note=(f"auto-accepted by {run_id}: p({choice}) = {P[k, c]:.4f} >= {limits[c]:.4g}; {rule}"),
                ))
            self._log.write(events)
        acc_counts = {c: int(((top == k) & accepted).sum()) for k, c in enumerate(q.choices)}
        draft_counts = {c: int(((top == k) & ~accepted).sum()) for k, c in enumerate(q.choices)}
        result = PrelabelResult(
            run_id=run_id, model_version=version, question=q.name, threshold=threshold, target_precision=tp,
            confidence=cl, rule=rule, n_accepted=len(acc_ids), n_drafts=len(ids) - len(acc_ids), n_skipped=n_skipped,
            accepted_per_class=acc_counts, drafts_per_class=draft_counts, created_at=when,
        )
        self._store.put_record(_PRELABEL_RUN, run_id, {
            "model_version": version, "question": q.name, "status": "complete", "created_at": when,
            "threshold": threshold if not isinstance(threshold, float) or math.isfinite(threshold) else None,
            "rule": rule, "target_precision": tp, "confidence": cl, "n_accepted": result.n_accepted,
            "n_drafts": result.n_drafts, "n_skipped": n_skipped, "accepted_per_class": acc_counts,
            "drafts_per_class": draft_counts, "revoked_at": None, "n_revoked": 0,
        }, replace=True)
        return result

    def settled(self, question: str | None = None) -> set[str]:
        """The examples nobody needs to label for a question: a current human answer (honeypots
        included), gold, an adjudication, or a current auto-accepted pre-label (:meth:`prelabel`;
        a revoked one counts no more). Neither :meth:`prelabel` nor an active learner's
        ``next_batch`` offers them.

        Parameters
        ----------
        question : str, optional
            Default: the schema's first question.

        Returns
        -------
        set of str
        """
        q = self._q(question)
        humans = self._log.labels(source="human", question=q.name)
        adjudicated = self._log.labels(source="adjudication", question=q.name)
        return (set(humans["example_id"].astype(str)) | set(self._log.gold(q.name).index.astype(str))
                | set(adjudicated["example_id"].astype(str))
                | set(self._accepted_labels(q.name)["example_id"].astype(str)))

    @staticmethod
    def _model_version(model: Any, model_name: str | None) -> str:
        if model_name is not None and (not isinstance(model_name, str) or not model_name.strip()):
            raise LabelValidationError(f"The 'model_name' parameter of prelabel must be a non-empty string. Got "
                                       f"{model_name!r} instead.")
        if isinstance(model, pd.DataFrame):
            if model_name is None:
                raise LabelValidationError(
                    "prelabel was given a DataFrame of predictions but no model_name: pass model_name='<model "
                    "version>' so every draft and accepted label says which model made it."
                )
            return model_name
        # on the class too: an unfitted learner's model_version property raises NotFittedError (an
        # AttributeError), which hasattr would swallow; reading it below then says "fit the model first"
        if not callable(getattr(model, "predict_frame", None)) or not (
                hasattr(type(model), "model_version") or hasattr(model, "model_version")):
            raise LabelValidationError(
                f"The 'model' parameter of prelabel must have predict_frame(example_ids) and model_version (e.g. "
                f"workbench.active.ActiveLearner), or be a DataFrame of class probabilities with model_name=. Got "
                f"{type(model).__name__} instead."
            )
        version = model_name if model_name is not None else model.model_version
        if not isinstance(version, str) or not version.strip():
            raise LabelValidationError(
                f"The model's model_version must be a non-empty string (e.g. 'LogisticRegression-run-3'). Got "
                f"{version!r}; fit the model first, or pass model_name=."
            )
        return version

    @staticmethod
    def _check_auto_accept(auto_accept: Any, q: Question) -> Any:
        if auto_accept is None:
            return None
        from workbench.active import AutoAccept

        if not isinstance(auto_accept, AutoAccept):
            raise LabelValidationError(
                f"The 'auto_accept' parameter of prelabel must be a fitted workbench.active.AutoAccept or None. "
                f"Got {type(auto_accept).__name__} instead."
            )
        if not hasattr(auto_accept, "threshold_"):
            raise NotFittedError(
                "The AutoAccept given to prelabel is not fitted: call accept.fit(proba_gold, y_gold) on held-out "
                "gold first, so its threshold carries a precision guarantee."
            )
        if int(auto_accept.n_classes_) != q.cardinality:
            raise LabelValidationError(
                f"The AutoAccept given to prelabel was fitted on {auto_accept.n_classes_} classes, but question "
                f"{q.name!r} has {q.cardinality} ({list(q.choices)!r}). Fit it on this question's probabilities."
            )
        return auto_accept

    @staticmethod
    def _rule(accept: Any, q: Question) -> tuple[float | dict[str, float] | None, str, float | None, float | None]:
        if accept is None:
            return None, "no auto-accept rule: every item is a draft", None, None
        tp, cl = float(accept.target_precision), float(accept.confidence)
        guarantee = (f"AutoAccept target precision {tp:g} at confidence {cl:g}, fixed-sequence Clopper-Pearson on "
                     f"{accept.n_gold_} gold items")
        if accept.per_class:
            thr = {q.choices[c]: float(t) for c, t in accept.threshold_.items()}
            lows = {q.choices[c]: float(b) for c, b in accept.precision_lower_.items()}
            shown = ", ".join(f"{c} >= {t:.4g} (lower bound {lows[c]:.4g})" if math.isfinite(t) else f"{c} never"
                              for c, t in thr.items())
            return thr, f"{guarantee}, per class: {shown}", tp, cl
        t = float(accept.threshold_)
        return t, f"{guarantee}: top-class probability >= {t:.4g} (lower bound {accept.precision_lower_:.4g})", tp, cl

    @staticmethod
    def _limits(threshold: float | dict[str, float] | None, q: Question) -> list[float]:
        if isinstance(threshold, dict):
            return [threshold.get(c, math.inf) for c in q.choices]
        return [math.inf if threshold is None else float(threshold)] * q.cardinality

    @staticmethod
    def _predict(model: Any, ids: list[str], q: Question) -> pd.DataFrame:
        if not ids:
            return pd.DataFrame(columns=list(q.choices), dtype=float)
        frame = model.predict_frame(ids)
        if not isinstance(frame, pd.DataFrame):
            raise LabelValidationError(
                f"model.predict_frame must return a DataFrame (index example id, one column per choice). Got "
                f"{type(frame).__name__} instead."
            )
        frame = frame.set_axis(pd.Index([str(i) for i in frame.index], dtype=object), axis=0)
        absent = unknown_ids(ids, frame.index)
        if absent:
            raise LabelValidationError(
                f"model.predict_frame returned no row for {len(absent)} of the example ids it was asked for: "
                f"{_show_ids(absent)}. It must return one row per requested id."
            )
        return frame.loc[ids]

    def revoke_prelabels(self, run: str) -> int:
        """Retract every label a :meth:`prelabel` run auto-accepted that is still current; returns how many.

        Append-only: each label gets a ``retract`` event (``source="model"``, the model version,
        note ``"revoked <run>"``); nothing is rewritten. The items go back to the queues with
        their model prediction as the draft. Revoking again retracts nothing more.
        """
        runs = self._store.get_records(_PRELABEL_RUN)
        if not isinstance(run, str) or run not in runs:
            raise LabelValidationError(
                f"The 'run' parameter of revoke_prelabels must name a prelabel run. Got {run!r}; known runs: "
                f"{list(runs)[-10:]!r} (PrelabelResult.run_id)."
            )
        info = runs[run]
        lab = self._accepted_labels(str(info["question"]))
        mine = lab[lab["event_uid"].astype(str).str.startswith(f"{_PRELABEL_UID}{run}:")]
        if mine.empty:
            return 0
        when = utc_now()
        sv, gv = self._schema.current.version, self._schema.guideline_version
        events = [
            LabelEvent(
                example_id=str(r["example_id"]), question=str(r["question"]), value=None, source="model",
                annotator=str(r["annotator"]), schema_version=sv, guideline_version=gv,
                data_version=r["data_version"],
                event_uid=f"revoke:{run}:{r['question']}:{r['example_id']}", created_at=when, action="retract",
                note=f"revoked {run}",
            )
            for r in mine.to_dict("records")
        ]
        self._log.write(events)
        self._store.put_record(_PRELABEL_RUN, run, {**info, "revoked_at": when,
                                                    "n_revoked": int(info.get("n_revoked", 0)) + len(events)},
                               replace=True)
        return len(events)

    def auto_accepted(self, question: str | None = None) -> pd.DataFrame:
        """The current auto-accepted labels of a question: what :meth:`prelabel` accepted and no
        :meth:`revoke_prelabels` has retracted (one row per example, the columns of ``project.labels()``).

        Parameters
        ----------
        question : str, optional
            Default: the schema's first question.

        Returns
        -------
        DataFrame
        """
        q = self._q(question)
        return self._accepted_labels(q.name).copy()

    def prelabel_runs(self) -> pd.DataFrame:
        """Every :meth:`prelabel` run: model version, threshold, rule, counts, and whether it was revoked."""
        cols = ["run_id", "model_version", "question", "created_at", "threshold", "target_precision", "confidence",
                "n_accepted", "n_drafts", "n_skipped", "n_revoked", "revoked_at", "rule", "status"]
        rows = [{"run_id": k, **v} for k, v in self._store.get_records(_PRELABEL_RUN).items()]
        return pd.DataFrame(rows, columns=cols)

    # ------------------------------------------------------------------ the correction log
    def _undone(self) -> set[str]:
        ev = self._store.events(source="human")
        uids = ev["event_uid"].astype(str)
        undone = set(uids[uids.str.startswith(f"{_UNDO}:")].str.split(":").str[1])
        return undone | {str(r["submission"]) for r in self._store.get_records(_UNDO).values()}

    def _submissions(self) -> pd.DataFrame:
        cols = ["submission", "example_id", "annotator", "question", "model_version", "draft_source", "draft",
                "draft_confidence", "answer", "outcome", "confirmed_draft", "time_spent", "is_honeypot",
                "created_at", "event_id"]
        recs = self._store.get_records(_SUBMISSION)
        undone = self._undone() if recs else set()
        rows = [{"submission": k, **v} for k, v in recs.items() if k not in undone]
        out = pd.DataFrame(rows, columns=cols)
        out["time_spent"] = out["time_spent"].astype(float)
        out["draft_confidence"] = out["draft_confidence"].astype(float)
        return out

    def corrections(self, question: str | None = None) -> pd.DataFrame:
        """The correction log: one row per answer (or skip) of an item that was shown a draft.

        Outcomes (:data:`~workbench.annotation.CORRECTION_OUTCOMES`): ``confirmed`` when the answer
        equals the draft (by Enter or by picking the same choice; ``confirmed_draft`` says which),
        ``corrected`` when it is another choice, ``rejected`` when the annotator skipped the item
        while the draft was shown (neither the draft nor any choice fitted). Undone submissions
        are left out. Honeypot answers are kept (``is_honeypot``).

        Returns
        -------
        DataFrame
            ``example_id``, ``annotator``, ``question``, ``model_version``, ``draft_source``
            (``"model"`` / ``"label_model"``), ``draft``, ``draft_confidence``, ``answer`` (None
            for a rejection), ``outcome``, ``confirmed_draft``, ``time_spent``, ``is_honeypot``,
            ``created_at``; oldest first.
        """
        q = self._q(question)
        sub = self._submissions()
        sub = sub[sub["draft"].notna() & (sub["question"] == q.name)]
        sub = sub.sort_values("created_at", kind="stable").drop(columns=["submission", "event_id"])
        return sub.reset_index(drop=True)

    def correction_summary(self, question: str | None = None) -> CorrectionSummary:
        """The correction log summarised: rates per class and model version, throughput, suggestions.

        ``throughput`` compares, per annotator, the seconds per item answered with a draft and
        without one (every :meth:`submit` is logged with the draft it showed; items without a
        recorded time are left out): the figure behind "600-800 labels an hour with drafts against
        200 from scratch". ``lf_contradictions`` uses the LF votes (``project.lfs.matrix()``) on
        the corrected items; ``confusions`` counts (draft, answer) pairs of corrections.
        """
        q = self._q(question)
        log = self.corrections(q.name)
        by_class = _rates(log, "draft", q.choices)
        by_model = _rates(log, "model_version", sorted(log["model_version"].dropna().unique()))
        sub = self._submissions()
        sub = sub[(sub["question"] == q.name) & sub["outcome"].ne("rejected") & sub["time_spent"].notna()]
        throughput = _throughput(sub)
        corrected = log[log["outcome"] == "corrected"]
        lf_table = self._lf_contradictions(q, corrected)
        conf = (corrected.groupby(["draft", "answer"]).size().rename("n").reset_index()
                if len(corrected) else pd.DataFrame(columns=["draft", "answer", "n"]))
        totals = log[log["outcome"] != "rejected"].groupby("draft").size()
        conf["share"] = [n / totals.get(d, n) for d, n in zip(conf["draft"], conf["n"], strict=True)]
        conf = conf.sort_values(["n", "draft", "answer"], ascending=[False, True, True], kind="stable")
        conf = conf.reset_index(drop=True)
        return CorrectionSummary(by_class=by_class, by_model_version=by_model, throughput=throughput,
                                 lf_contradictions=lf_table, confusions=conf,
                                 suggestions=_suggestions(by_class, by_model, throughput, lf_table, conf))

    def _lf_contradictions(self, q: Question, corrected: pd.DataFrame) -> pd.DataFrame:
        cols = ["lf", "n_votes", "n_contradicted", "contradiction_rate"]
        if corrected.empty or not len(self._lfs):
            return pd.DataFrame(columns=cols)
        key = q.name if not self._schema.current.is_single else None
        result = self._lfs.apply(progress=False)
        L, names = result.for_question(self._lfs.question_key(key))
        if not names:
            return pd.DataFrame(columns=cols)
        last = corrected.drop_duplicates(["example_id", "annotator"], keep="last")
        rows = self._data.index().get_indexer(pd.Index(last["example_id"].astype(str)))
        ok = rows >= 0
        votes = L[rows[ok]]
        truth = np.array([q.choices.index(a) for a in last["answer"][ok]])
        voted = votes != -1
        wrong = voted & (votes != truth[:, None])
        n_votes, n_wrong = voted.sum(axis=0), wrong.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(n_votes > 0, n_wrong / np.maximum(n_votes, 1), np.nan)
        out = pd.DataFrame({"lf": names, "n_votes": n_votes, "n_contradicted": n_wrong, "contradiction_rate": rate})
        out = out.sort_values(["n_contradicted", "contradiction_rate"], ascending=False, kind="stable")
        return out.reset_index(drop=True)


def _rates(log: pd.DataFrame, by: str, order: Sequence[str]) -> pd.DataFrame:
    """Outcome counts and rates per value of ``by`` (a Wilson interval on the confirm rate)."""
    cols = ["n", "confirmed", "corrected", "rejected", "confirm_rate", "correct_rate", "reject_rate",
            "confirm_low", "confirm_high", "mean_draft_confidence"]
    if log.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name=by))
    counts = pd.crosstab(log[by], log["outcome"]).reindex(columns=["confirmed", "corrected", "rejected"],
                                                           fill_value=0)
    counts = counts.reindex([o for o in order if o in counts.index])
    n = counts.sum(axis=1)
    out = pd.DataFrame({"n": n, **{c: counts[c] for c in counts.columns}})
    out["confirm_rate"] = out["confirmed"] / n
    out["correct_rate"] = out["corrected"] / n
    out["reject_rate"] = out["rejected"] / n
    low, high = wilson_interval(out["confirmed"].to_numpy(), n.to_numpy())
    out["confirm_low"], out["confirm_high"] = low, high
    out["mean_draft_confidence"] = log.groupby(by)["draft_confidence"].mean().reindex(out.index)
    out.index.name = by
    return out[cols]


def _throughput(sub: pd.DataFrame) -> pd.DataFrame:
    """Seconds per item with and without a draft, per annotator."""
    cols = ["annotator", "n_with_draft", "n_without_draft", "mean_seconds_with_draft", "mean_seconds_without_draft",
            "median_seconds_with_draft", "median_seconds_without_draft", "items_per_hour_with_draft",
            "items_per_hour_without_draft", "speedup"]
    rows = []
    for who, grp in sub.groupby("annotator", sort=True):
        w = grp.loc[grp["draft"].notna(), "time_spent"]
        wo = grp.loc[grp["draft"].isna(), "time_spent"]
        mw = float(w.mean()) if len(w) else float("nan")
        mwo = float(wo.mean()) if len(wo) else float("nan")
        rows.append({
            "annotator": who, "n_with_draft": len(w), "n_without_draft": len(wo),
            "mean_seconds_with_draft": mw, "mean_seconds_without_draft": mwo,
            "median_seconds_with_draft": float(w.median()) if len(w) else float("nan"),
            "median_seconds_without_draft": float(wo.median()) if len(wo) else float("nan"),
            "items_per_hour_with_draft": 3600.0 / mw if mw > 0 else float("nan"),
            "items_per_hour_without_draft": 3600.0 / mwo if mwo > 0 else float("nan"),
            "speedup": mwo / mw if mw > 0 and len(wo) else float("nan"),
        })
    return pd.DataFrame(rows, columns=cols)


def _suggestions(
    by_class: pd.DataFrame, by_model: pd.DataFrame, throughput: pd.DataFrame, lfs: pd.DataFrame, conf: pd.DataFrame
) -> list[str]:
    out: list[str] = []
    if by_class.empty:
        return ["No draft has been confirmed, corrected or rejected yet: serve items with drafts (prelabel, or "
                "a label model) and submit answers through project.annotation.submit."]
    for _, row in conf.head(3).iterrows():
        out.append(f"The model drafts {row['draft']!r} where annotators answer {row['answer']!r} ({int(row['n'])} "
                   f"time(s), {row['share']:.0%} of its {row['draft']!r} drafts): add training examples or an LF "
                   f"that separates the two.")
    for _, row in lfs.head(3).iterrows():
        if int(row["n_contradicted"]) > 0:
            out.append(f"The labeling function {row['lf']!r} voted against the human answer on "
                       f"{int(row['n_contradicted'])} of the {int(row['n_votes'])} corrected items it voted on "
                       f"({row['contradiction_rate']:.0%}): review it (project.lfs.summary(gold=...)).")
    worst = by_class[by_class["n"] >= 5].sort_values("confirm_rate", kind="stable").head(1)
    for cls, row in worst.iterrows():
        if row["confirm_rate"] < 0.8:
            out.append(f"Drafts of class {cls!r} are confirmed only {row['confirm_rate']:.0%} of the time "
                       f"({int(row['n'])} drafts): do not auto-accept that class yet (AutoAccept(per_class=True)).")
    if len(by_model) > 1:
        best = by_model.sort_values("confirm_rate", ascending=False, kind="stable").index[0]
        out.append(f"Of {len(by_model)} model versions, {best!r} has the highest confirm rate "
                   f"({by_model.loc[best, 'confirm_rate']:.0%}).")
    fast = throughput.dropna(subset=["speedup"])
    for _, row in fast.iterrows():
        out.append(f"{row['annotator']} labels {row['items_per_hour_with_draft']:.0f} items/hour with drafts against "
                   f"{row['items_per_hour_without_draft']:.0f} without ({row['speedup']:.1f}x).")
    return out


# ---------------------------------------------------------------------------------------------- undo across migrations
@dataclass(frozen=True)
class _Switch:
    """A schema migration that switched the schema: when (the last event id before it), and what it changed."""

    switched_at: int
    old: Schema
    new: Schema
    changes: SchemaChanges

    def carry(self, answers: dict[str, str], example_id: str, annotator: str) -> dict[str, str]:
        """One annotator's answers to one example as this migration carried (or dropped) such current labels."""
        if not answers:
            return {}
        labels = pd.DataFrame({
            "event_id": range(len(answers)), "example_id": example_id, "question": list(answers),
            "source": "human", "annotator": annotator, "value": list(answers.values()),
            "schema_version": self.old.version, "guideline_version": "",
        })
        table, _ = plan_labels(labels, self.old, self.new, self.changes, ())
        kept = table[table["status"].isin(["unchanged", "mapped"])]
        return {str(q): str(v) for q, v in zip(kept["new_question"], kept["new_value"], strict=True)}


def _recorded_switches(store: EventStore) -> list[_Switch]:
    """Every migration that switched the project's schema, in the order of the log, with its changes."""
    records = store.get_records(MIGRATION_RECORD)
    versions = store.schema_versions()
    schemas = dict(zip(versions["version"], versions["schema"], strict=True))
    out = []
    for sw in schema_switches(store):
        rec = records.get(sw.migration_id) or {}
        old, new = schemas.get(rec.get("old_version")), schemas.get(rec.get("new_version"))
        if old is None or new is None:
            continue  # nothing to carry answers with; the final check against the current schema still holds
        old_s, new_s = Schema.from_dict(old), Schema.from_dict(new)
        out.append(_Switch(int(rec["switched_at"]), old_s, new_s, _recorded_changes(rec, sw.renamed_questions,
                                                                                 old_s, new_s)))
    return sorted(out, key=lambda s: s.switched_at)


def _recorded_changes(rec: Mapping[str, Any], renamed: Mapping[str, str], old: Schema,
                      new: Schema) -> SchemaChanges:
    """The :class:`SchemaChanges` of a migration from ``old`` to ``new``, as its record stores them.

    A migration records its choice maps (``choice_maps``); a record made before they were stored
    has only the steps in words, and then choices are matched by name after the recorded
    question renames (a choice that is not found counts as removed).
    """
    steps = tuple(str(x) for x in rec.get("changes") or [])
    stored = rec.get("choice_maps")
    if isinstance(stored, Mapping):
        maps = {str(q): {str(c): tuple(str(t) for t in ts) for c, ts in m.items()} for q, m in stored.items()}
        return SchemaChanges(
            old.version, maps, removed_questions=tuple(rec.get("removed_questions") or ()),
            added_questions=tuple(rec.get("added_questions") or ()),
            changed_conditions=tuple(rec.get("changed_conditions") or ()), steps=steps,
            renamed_questions=dict(renamed),
        )
    by_name: dict[str, dict[str, tuple[str, ...]]] = {}
    for q in old.questions:
        target = renamed.get(q.name, q.name)
        if target in new.question_names:
            now = new.question(target).choices
            by_name[q.name] = {c: (c,) if c in now else () for c in q.choices}
    kept = {renamed.get(q, q) for q in by_name}
    return SchemaChanges(
        old.version, by_name, removed_questions=tuple(q for q in old.question_names if q not in by_name),
        added_questions=tuple(q for q in new.question_names if q not in kept), steps=steps,
        renamed_questions={o: n for o, n in renamed.items() if o in by_name and o != n},
    )
