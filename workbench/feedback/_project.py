"""``project.feedback``: production signals (corrections, overrides, flags, predictions) as labels and queue items."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench._stats import wilson_interval
from workbench.annotation._project import (
    REVIEW_KIND,
    default_review_threshold,
    newest_prediction_runs,
    proba_matrix,
    record_predictions,
    unknown_ids,
)
from workbench.data import id_text, read_table
from workbench.exceptions import DataError, LabelValidationError, NotFittedError
from workbench.feedback._source import FeedbackSource, source_name_of
from workbench.feedback._types import FEEDBACK_KINDS, FeedbackBatch, PredictionBatch
from workbench.log import parse_timestamp
from workbench.migrations import follow_renames, schema_switches
from workbench.store import utc_now

if TYPE_CHECKING:
    from workbench.annotation import ProjectAnnotation
    from workbench.data import DataCatalog
    from workbench.lf import ProjectLFs
    from workbench.log import LabelLog
    from workbench.schema import Question, SchemaRegistry
    from workbench.store import EventStore

__all__ = ["ProjectFeedback"]

_SEP = "\x1f"
# [{"kind": ..., "question": ..., "registered_at": ...}]: the kinds registered as weak sources, each with its question's
# name when it was registered (a later migration may rename it)
_SOURCES_META = "feedback_sources"
_INGEST = "feedback_ingest"
_PRED_RUN = "prediction_run"


def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _signal_text(v: Any) -> str:
    """A signal value as text, integral numbers as integers: 1, 1.0, np.int64(1), "1" and "1.0" (a float
    column written to CSV) are all "1"."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, str):
        try:
            number = float(v.strip())
        except ValueError:
            return v
        return id_text(number) if math.isfinite(number) and number.is_integer() else v
    return id_text(v)


def _choice_text(v: Any, choices: Sequence[str]) -> str | None:
    """A label cell as a choice: the text itself when it is one, else as :func:`_signal_text` reads it
    (a column with a gap reads 1.0 for the choice "1"); None for an empty cell."""
    if _missing(v):
        return None
    text = str(v)
    return text if text in choices else _signal_text(v)


def _show(values: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _ids(frame: pd.DataFrame, id_column: str, func: str) -> list[str]:
    """The id column as strings (integral floats written as integers); a clear error for empty ids."""
    col = frame[id_column]
    empty = col.isna().to_numpy()
    if empty.any():
        rows = np.flatnonzero(empty).tolist()
        raise DataError(f"The id column {id_column!r} given to {func} is empty in {len(rows)} row(s) (row positions "
                        f"{_show(rows)}). Every signal must name its item.")
    if pd.api.types.is_float_dtype(col):
        vals = col.to_numpy(dtype=float)
        if not np.all(np.mod(vals, 1) == 0):
            raise DataError(f"The id column {id_column!r} given to {func} holds non-integral numbers; ids must be "
                            f"strings or integers.")
        return [str(int(v)) for v in vals]
    return [str(v) for v in col.tolist()]


class ProjectFeedback:
    """Production signals: user corrections, moderator overrides, flags and prediction logs.

    Signals become label events with ``source="feedback"`` (annotator ``"<kind>:<source name>"``,
    the original signal and time kept), idempotently: ingesting the same rows again writes
    nothing. Each kind is also a weak source, a column ``"feedback:<kind>"`` of the label
    matrix (``"feedback:<kind>:<question>"`` for the same kind on a further question)
    (:class:`~workbench.feedback.FeedbackSource`), so the label model learns how
    reliable it is rather than trusting it blindly; the column follows schema migrations (its
    votes are positions among the question's current choices, under the question's current
    name). Items the project does not know become a new data version (given their text),
    which the LFs label incrementally. Production predictions are recorded as drafts, and the
    low-confidence ones enter the review queue (``project.annotation.queue("review")``).

    Parameters
    ----------
    store : EventStore
        Ingest provenance, prediction runs and the list of weak sources.
    schema : SchemaRegistry
        The questions and choices signals must name.
    data : DataCatalog
        The examples (new production rows are added here).
    log : LabelLog
        Where feedback (and, for trusted kinds, gold) events are written.
    lfs : ProjectLFs
        Where each feedback kind is registered as a weak source.
    annotation : ProjectAnnotation
        Drafts and the review queue.

    Examples
    --------
    >>> project.feedback.ingest("corrections.csv", kind="user_correction", id_column="item_id",
    ...                         label_column="label")                       # doctest: +SKIP
    >>> project.models.fit()       # learns how reliable the corrections are  # doctest: +SKIP
    >>> project.feedback.predictions(prod, model="prod-2026-11")             # doctest: +SKIP
    >>> project.annotation.next_items("alice", 10, strategy="review")        # doctest: +SKIP
    >>> project.feedback.summary()                                           # doctest: +SKIP
    """

    def __init__(
        self,
        store: EventStore,
        schema: SchemaRegistry,
        data: DataCatalog,
        log: LabelLog,
        lfs: ProjectLFs,
        annotation: ProjectAnnotation,
    ) -> None:
        self._store = store
        self._schema = schema
        self._data = data
        self._log = log
        self._lfs = lfs
        self._annotation = annotation
        # weak sources registered by earlier sessions (another kernel may have ingested): register them here too
        names = set(self._schema.current.question_names)
        for entry in self._registered():
            if entry["question"] in names and self._lf_name(entry["kind"], entry["question"]) not in self._lfs:
                self._lfs.engine.add(self._source(entry["kind"], entry["question"]))

    def __repr__(self) -> str:
        kinds = [e["kind"] for e in self._registered()]
        return f"<project.feedback: weak sources {kinds or 'none'}; ingest, predictions, summary, ingests>"

    # ------------------------------------------------------------------ weak sources
    def _stored_sources(self) -> list[dict[str, str]]:
        value = self._store.get_meta(_SOURCES_META)
        return [dict(e) for e in value] if isinstance(value, list) else []

    def _registered(self) -> list[dict[str, str]]:
        """The registered kinds, each with its question's current name (a migration may have renamed it since)."""
        switches = schema_switches(self._store)
        out = []
        for e in self._stored_sources():
            since = str(e.get("registered_at") or "")  # older entries have no time: follow every rename
            question = follow_renames(e["question"], switches, since=since)
            out.append({**e, "question": question})
        return out

    def _lf_name(self, kind: str, question: str) -> str:
        """The LF name of a kind's source on a question: ``feedback:<kind>`` on the first question the
        kind was registered for, ``feedback:<kind>:<question>`` on any other."""
        first = next((e["question"] for e in self._registered() if e["kind"] == kind), question)
        return source_name_of(kind) if first == question else source_name_of(kind, question)

    def _source(self, kind: str, question: str) -> FeedbackSource:
        schema = self._schema.current
        q = schema.question(question)
        return FeedbackSource(self._store, kind, q.name, q.choices, None if schema.is_single else q.name,
                              excluded_event_ids=self._log.excluded_event_ids, schema=self._schema,
                              name=self._lf_name(kind, q.name))

    def _register(self, kind: str, q: Question) -> str:
        if not any(e["kind"] == kind and e["question"] == q.name for e in self._registered()):
            entry = {"kind": kind, "question": q.name, "registered_at": utc_now()}
            self._store.set_meta(_SOURCES_META, [*self._stored_sources(), entry])
        name = self._lf_name(kind, q.name)
        if name not in self._lfs:
            self._lfs.add(self._source(kind, q.name))
        return name

    # ------------------------------------------------------------------ ingest
    def ingest(
        self,
        data: pd.DataFrame | str | os.PathLike[str],
        *,
        kind: str,
        id_column: str,
        label_column: str,
        text_column: str | None = None,
        timestamp_column: str | None = None,
        source_name: str | None = None,
        label_map: Mapping[Any, str | None] | None = None,
        question: str | None = None,
        as_gold: bool = False,
        weak_source: bool = True,
        encoding: str = "utf-8",
    ) -> FeedbackBatch:
        """Record production signals as ``source="feedback"`` label events (idempotent).

        Parameters
        ----------
        data : DataFrame or path-like
            One row per signal; a CSV, TSV, Parquet or JSON Lines file is read with
            :func:`workbench.data.read_table`.
        kind : {"user_correction", "user_confirmation", "moderator_override", "flag"}
            What the signal is (:data:`~workbench.feedback.FEEDBACK_KINDS`).
        id_column : str
            The column naming the item (the project's example id).
        label_column : str
            The column holding the signalled label: a choice of the question, or a value
            ``label_map`` maps to one.
        text_column : str, optional
            The item's text. Items the project does not know are then added as a new data
            version (the text stored in the project's text column); without it, unknown ids
            are an error.
        timestamp_column : str, optional
            When the signal happened (ISO-8601 or datetime; without a timezone: UTC). It is the
            events' ``created_at``, and signals are recorded in time order, so the latest
            signal of a source is its current label, across calls too: a backfill of older
            signals goes into the history, and the source's latest signal is restated after it.
        source_name : str, optional
            Where the signals come from (default: the file's name, or ``"dataframe"``).
            The events' annotator is ``"<kind>:<source_name>"``. Give the exports of one source
            one name (``source_name="app"``): the default differs from file to file, and two
            sources reporting the same signal are two signals.
        label_map : mapping, optional
            Signal value -> choice (None, or a value not in the mapping: no label), e.g.
            ``{"reported_spam": "spam"}`` for flags. Keys and values are compared as text,
            integral numbers as integers, so ``{0: "ham", 1: "spam"}`` reads a CSV's ``"1"``
            and a float column's ``1.0`` alike. A map that none of the column's values is a key
            of is refused. The mapped label is part of a signal's identity: ingesting the same
            signals with a corrected map records the corrected labels.
        question : str, optional
            The question answered (default: the root question).
        as_gold : bool, default False
            Also record the labels as gold (``source="gold"``, annotator
            ``"feedback:<kind>:<source_name>"``): for a trusted kind such as moderator
            overrides, which then serve as honeypots, evaluation gold and AutoAccept gold.
        weak_source : bool, default True
            Register the kind as the label-matrix column ``"feedback:<kind>"`` (on a further
            question of a multi-question schema: ``"feedback:<kind>:<question>"``).
        encoding : str, default "utf-8"
            The encoding of a text file.

        Returns
        -------
        FeedbackBatch

        Notes
        -----
        A signal is identified by its content: kind, source name, question, item, raw label and
        timestamp. Ingesting it again (the same file twice, the same rows as CSV and as Parquet,
        or overlapping exports of one ``source_name``) writes nothing. With ``timestamp_column``, the same label for the
        same item at a later time is a new signal; without one, a repeated (item, label) pair of
        a source is the same signal and is not recorded again, so pass timestamps when a label
        may come back after another one.
        """
        func = "project.feedback.ingest"
        if kind not in FEEDBACK_KINDS:
            raise LabelValidationError(f"The 'kind' parameter of {func} must be one of {list(FEEDBACK_KINDS)!r}. "
                                       f"Got {kind!r} instead.")
        for name, value in (("id_column", id_column), ("label_column", label_column)):
            if not isinstance(value, str) or not value:
                raise LabelValidationError(f"The '{name}' parameter of {func} must be a column name. Got {value!r}.")
        if source_name is None:
            source_name = Path(data).stem if isinstance(data, (str, os.PathLike)) else "dataframe"
        if not isinstance(source_name, str) or not source_name.strip() or ":" in source_name:
            raise LabelValidationError(f"The 'source_name' parameter of {func} must be a non-empty string without "
                                       f"':'. Got {source_name!r} instead.")
        if label_map is not None and not isinstance(label_map, Mapping):
            raise LabelValidationError(f"The 'label_map' parameter of {func} must be a mapping of signal value -> "
                                       f"choice. Got {type(label_map).__name__} instead.")
        frame = read_table(data, encoding=encoding)
        wanted = [c for c in (id_column, label_column, text_column, timestamp_column) if c is not None]
        absent = [c for c in wanted if c not in frame.columns]
        if absent:
            raise DataError(f"{func}: the column(s) {absent!r} are missing. Columns: {list(frame.columns)!r}. Name "
                            f"yours with id_column=, label_column=, text_column=, timestamp_column=.")
        q = self._log.root_question(question)
        single = self._schema.current.is_single
        ids = _ids(frame, id_column, func)
        raw = frame[label_column].tolist()
        labels = self._labels(raw, label_map, q, func, label_column)
        times: list[str | None] = [None] * len(ids)
        if timestamp_column is not None:
            col = frame[timestamp_column].tolist()
            gaps = [k for k, v in enumerate(col) if _missing(v)]
            if gaps:
                raise DataError(f"The timestamp column {timestamp_column!r} given to {func} is empty in {len(gaps)} "
                                f"row(s) (row positions {_show(gaps)}). Fill them in, or leave timestamp_column out.")
            times = [parse_timestamp(v, name=timestamp_column) for v in col]
        annotator = f"{kind}:{source_name}"
        order = sorted(range(len(ids)), key=lambda k: times[k] or "") if timestamp_column else range(len(ids))
        records: list[dict[str, Any]] = []
        seen: set[str] = set()
        n_ignored = n_dup = 0
        for k in order:
            if labels[k] is None:
                n_ignored += 1
                continue
            # integral numbers as integers: a column read as floats (a gap in it) is the same signal
            signal = None if _missing(raw[k]) else _signal_text(raw[k])
            # the label is part of a signal's identity when label_map translated it: the same raw signal
            # under a corrected label_map is a new label, not a conflicting retry
            key = ["feedback", kind, source_name, q.name, ids[k], signal, times[k]]
            if label_map is not None and labels[k] != signal:
                key.append(labels[k])
            uid = "feedback:" + hashlib.sha256(json.dumps(key).encode("utf-8")).hexdigest()[:32]
            if uid in seen:
                n_dup += 1
                continue
            seen.add(uid)
            note = json.dumps({"feedback": kind, "source": source_name, "signal": signal, "at": times[k]},
                              sort_keys=True)
            records.append({"example_id": ids[k], "value": labels[k] if single else {q.name: labels[k]},
                            "annotator": annotator, "source": "feedback", "created_at": times[k],
                            "event_uid": uid, "note": note})
        # every label is checked against the schema before anything is written (new rows included)
        self._check_records(records, func)
        n_new_examples, data_version = self._add_unknown(frame, ids, text_column, func,
                                                         f"production rows from {kind} feedback ({source_name})")
        before = self._store.last_event_id()
        stored = self._log.annotate_many(records) if records else []  # oldest first; a backfill stays history
        new_ids = [int(e.event_id or 0) for e in stored if int(e.event_id or 0) > before]
        n_dup += len(stored) - len(new_ids)
        n_gold = 0
        if as_gold and records:
            gold = [{**r, "source": "gold", "annotator": f"feedback:{annotator}", "event_uid": r["event_uid"] + ":gold"}
                    for r in records]
            gold_before = self._store.last_event_id()
            n_gold = sum(int(e.event_id or 0) > gold_before for e in self._log.annotate_many(gold))
        weak = self._register(kind, q) if weak_source else None
        when = utc_now()
        provenance = {
            "kind": kind, "source_name": source_name, "annotator": annotator, "question": q.name,
            "input": "DataFrame" if isinstance(data, pd.DataFrame) else str(data), "id_column": id_column,
            "label_column": label_column, "text_column": text_column, "timestamp_column": timestamp_column,
            "label_map": None if label_map is None else {str(k): v for k, v in label_map.items()},
            "n_rows": len(ids), "n_new": len(new_ids), "n_duplicates": n_dup, "n_ignored": n_ignored,
            "n_new_examples": n_new_examples, "data_version": data_version, "n_gold": n_gold,
            "first_event_id": min(new_ids) if new_ids else None, "last_event_id": max(new_ids) if new_ids else None,
            "weak_source": weak, "created_at": when,
        }
        _, ingest_id = self._store.claim_next_record(_INGEST, "feedback-", provenance)
        return FeedbackBatch(
            ingest_id=ingest_id, kind=kind, source_name=source_name, annotator=annotator, n_rows=len(ids),
            n_new=len(new_ids), n_duplicates=n_dup, n_ignored=n_ignored, n_new_examples=n_new_examples,
            new_data_version=data_version, weak_source=weak, n_gold=n_gold,
        )

    def _check_records(self, records: list[dict[str, Any]], func: str) -> None:
        """Refuse the batch, before anything is written, when a label breaks the schema."""
        schema = self._schema.current
        for r in records:
            try:
                schema.validate(r["value"], context=self._log.current_answers(r["example_id"], "feedback",
                                                                              r["annotator"]))
            except LabelValidationError as exc:
                raise LabelValidationError(f"{func}: the signal for item {r['example_id']!r}: {exc} Nothing was "
                                           f"written.") from None

    @staticmethod
    def _labels(
        raw: list[Any], label_map: Mapping[Any, str | None] | None, q: Question, func: str, column: str
    ) -> list[str | None]:
        if label_map is not None:
            bad_targets = sorted({str(v) for v in label_map.values() if v is not None and v not in q.choices})
            if bad_targets:
                raise LabelValidationError(
                    f"The 'label_map' of {func} maps to {bad_targets!r}, which are not choices of {q.name!r}. "
                    f"Map each signal to one of {list(q.choices)!r}, or to None for no label."
                )
            # keys and values compared as text, integral numbers as integers: {0: "ham"} matches a CSV's
            # "0", a float column's 0.0 and an int column's 0 alike
            keys: dict[str, str | None] = {}
            for k, v in label_map.items():
                key = _signal_text(k)
                if key in keys and keys[key] != v:
                    raise LabelValidationError(
                        f"The 'label_map' of {func} maps {key!r} twice, to {keys[key]!r} and to {v!r} (keys are "
                        f"compared as text, so 1, 1.0 and '1' are one key). Keep one of them."
                    )
                keys[key] = v
            out: list[str | None] = []
            unmapped: list[str] = []
            for v in raw:
                if _missing(v):
                    out.append(None)
                    continue
                text = _signal_text(v)
                if text not in keys:
                    unmapped.append(text)
                hit = keys.get(text)
                out.append(None if hit is None else str(hit))
            present = [v for v in raw if not _missing(v)]
            if present and len(unmapped) == len(present):
                raise LabelValidationError(
                    f"None of the values in the label column {column!r} given to {func} is a key of label_map: the "
                    f"column holds {_show(sorted(set(unmapped)))}, the keys are {_show(sorted(keys))}. Map the "
                    f"column's values (a value not in label_map gives no label; map it to None to say so)."
                )
            return out
        values = [_choice_text(v, q.choices) for v in raw]
        bad = sorted({v for v in values if v is not None and v not in q.choices})
        if bad:
            raise LabelValidationError(
                f"The label column {column!r} given to {func} holds values that are not choices of {q.name!r}: "
                f"{_show(bad)}. Expected one of {list(q.choices)!r}; translate the others with label_map="
                f"{{{bad[0]!r}: <choice or None>}}."
            )
        return values

    def _add_unknown(
        self, frame: pd.DataFrame, ids: list[str], text_column: str | None, func: str, message: str
    ) -> tuple[int, str | None]:
        """Add the rows whose id the project lacks as a new data version (needs their text)."""
        unknown = unknown_ids(ids, self._data.index())
        if not unknown:
            return 0, None
        if text_column is None:
            raise DataError(
                f"{func}: {len(unknown)} item id(s) are not in this project: {_show(unknown)}. Pass "
                f"text_column=<the column with their text> to add them as a new data version (new production rows), "
                f"or add them first with project.add_data(...)."
            )
        target = self._data.text_column
        if target is None:
            raise DataError(f"{func}: {len(unknown)} item id(s) are new, but this project has no text column to store "
                            f"their text in. Add them with project.add_data(...) first.")
        wanted = set(unknown)
        pairs: dict[str, Any] = {}
        clash: list[str] = []
        for i, t in zip(ids, frame[text_column].tolist(), strict=True):
            if i not in wanted:
                continue
            if i in pairs and pairs[i] != t and not (_missing(pairs[i]) and _missing(t)):
                clash.append(i)
            pairs.setdefault(i, t)
        if clash:
            raise DataError(f"{func}: the new item(s) {_show(sorted(set(clash)))} come with different texts in "
                            f"different rows; an item has one text. Fix the input.")
        new = pd.DataFrame({"id": list(pairs), target: list(pairs.values())})
        version = self._data.add(new, "id", message=message)
        return len(pairs), version.version

    def ingests(self) -> pd.DataFrame:
        """Every :meth:`ingest` call with its provenance (input, columns, counts, data version), oldest first."""
        rows = [{"ingest_id": k, **v} for k, v in self._store.get_records(_INGEST).items()]
        cols = ["ingest_id", "kind", "source_name", "input", "n_rows", "n_new", "n_duplicates", "n_ignored",
                "n_new_examples", "data_version", "n_gold", "weak_source", "created_at"]
        return pd.DataFrame(rows).reindex(columns=cols) if rows else pd.DataFrame(columns=cols)

    # ------------------------------------------------------------------ production predictions
    def predictions(
        self,
        data: pd.DataFrame | str | os.PathLike[str],
        *,
        model: str,
        id_column: str = "example_id",
        proba_columns: Sequence[str] | Mapping[str, str] | None = None,
        label_column: str | None = None,
        confidence_column: str | None = None,
        threshold: Any = None,
        question: str | None = None,
        text_column: str | None = None,
        encoding: str = "utf-8",
    ) -> PredictionBatch:
        """Record a production model's predictions as drafts; send the low-confidence ones to review.

        Each prediction becomes the item's draft (shown by the Annotator, logged in the
        correction log under the model's name); none is a label. Predictions whose top-class
        confidence is below the threshold enter the review queue
        (``project.annotation.queue("review")`` / ``next_items(..., strategy="review")``), least
        confident first; a later, confident prediction of the same item takes it out again.

        Parameters
        ----------
        data : DataFrame or path-like
            One row per prediction (the last row of an item wins).
        model : str
            The production model's name and version, e.g. ``"prod-2026-11"``.
        id_column : str, default "example_id"
            The column naming the item.
        proba_columns : list or mapping, optional
            Class-probability columns: a list in the order of the question's choices, or a
            mapping column -> choice. Default: columns named like the choices, or
            ``p_<choice>``.
        label_column, confidence_column : str, optional
            Instead of probabilities: the predicted choice and its confidence (the rest of the
            probability is spread evenly over the other choices).
        threshold : float or AutoAccept, optional
            Review predictions whose confidence is below this number; or everything a fitted
            :class:`workbench.active.AutoAccept` would not accept. Default: halfway between chance
            and certainty, ``(1 + 1/k) / 2`` for ``k`` choices (0.75 for two). The same predictions
            recorded again under the same rule write nothing (``already_recorded``) while they are
            still the items' newest predictions; after a later run (e.g. a rollback to an earlier
            model), or under another threshold, they are a new run, and it decides the drafts and
            the review queue.
        question : str, optional
            The question predicted (default: the root question).
        text_column : str, optional
            The items' text, to add items the project does not know as a new data version.
        encoding : str, default "utf-8"
            The encoding of a text file.

        Returns
        -------
        PredictionBatch
        """
        func = "project.feedback.predictions"
        if not isinstance(model, str) or not model.strip():
            raise LabelValidationError(f"The 'model' parameter of {func} must name the production model and its "
                                       f"version (e.g. 'prod-2026-11'). Got {model!r} instead.")
        frame = read_table(data, encoding=encoding)
        if id_column not in frame.columns:
            raise DataError(f"{func}: the id column {id_column!r} is missing. Columns: {list(frame.columns)!r}. Name "
                            f"yours with id_column=.")
        if text_column is not None and text_column not in frame.columns:
            raise DataError(f"{func}: the text column {text_column!r} is missing. Columns: {list(frame.columns)!r}.")
        q = self._log.root_question(question)
        ids = _ids(frame, id_column, func)
        frame = frame.set_axis(pd.Index(ids, dtype=object), axis=0)
        frame = frame[~frame.index.duplicated(keep="last")]
        P = self._proba(frame, q, proba_columns, label_column, confidence_column, func)
        ids = [str(i) for i in frame.index]
        limits, rule = self._review_rule(threshold, q, func)
        top, conf = P.argmax(axis=1), P.max(axis=1)
        review = conf < np.asarray(limits)[top]  # for an AutoAccept: exactly the rows it would not accept
        thr: float | dict[str, float] = (float(limits[0]) if len(set(limits)) == 1
                                         else {c: float(t) for c, t in zip(q.choices, limits, strict=True)})
        # the same predictions under the same review rule are the same run; under another rule, a new one
        content = [model, q.name, ids, np.round(P, 6).tolist()]
        digest = hashlib.sha256(json.dumps([*content, [round(float(t), 9) for t in limits]]).encode()).hexdigest()
        older = hashlib.sha256(json.dumps(content).encode()).hexdigest()  # runs recorded without their rule
        same = [(run_id, info) for run_id, info in self._store.get_records(_PRED_RUN).items()
                if info.get("digest") == digest or (info.get("digest") == older and info.get("threshold") == thr)]
        if same:  # recorded before; unless a later run predicted some of these items since, it is the same call
            run_id, info = same[-1]
            newest = newest_prediction_runs(self._store, q.name)
            if all(newest.get(i) == run_id for i in ids):
                return PredictionBatch(run_id, model, q.name, len(ids), int(info["n_review"]), info["threshold"],
                                       str(info["rule"]), 0, None, True)
        n_new_examples, data_version = self._add_unknown(frame, ids, text_column, func,
                                                         f"production rows predicted by {model}")
        when = utc_now()
        _, run_id = self._store.claim_next_record(_PRED_RUN, "predictions-", {
            "model_version": model, "question": q.name, "digest": digest, "n_predictions": len(ids),
            "n_review": int(review.sum()), "threshold": thr, "rule": rule, "created_at": when,
            "data_version": data_version})
        record_predictions(self._store, question=q.name, run_id=run_id, model_version=model, origin="production",
                           ids=ids, proba=P, choices=q.choices,
                           statuses=["review" if r else "draft" for r in review], created_at=when)
        self._store.put_records(REVIEW_KIND, [
            (f"{q.name}{_SEP}{eid}", {"run_id": run_id, "model_version": model, "value": q.choices[int(t)],
                                      "confidence": round(float(c), 6), "threshold": float(limits[int(t)]),
                                      "needs_review": bool(r), "created_at": when})
            for eid, t, c, r in zip(ids, top, conf, review, strict=True)
        ], replace=True)
        return PredictionBatch(run_id, model, q.name, len(ids), int(review.sum()), thr, rule, n_new_examples,
                               data_version, False)

    @staticmethod
    def _proba(
        frame: pd.DataFrame, q: Question, proba_columns: Sequence[str] | Mapping[str, str] | None,
        label_column: str | None, confidence_column: str | None, func: str,
    ) -> np.ndarray:
        choices = list(q.choices)
        if proba_columns is not None:
            if isinstance(proba_columns, Mapping):
                mapping = {str(k): str(v) for k, v in proba_columns.items()}
            elif isinstance(proba_columns, str) or len(proba_columns) != len(choices):
                raise LabelValidationError(
                    f"The 'proba_columns' parameter of {func} must list one column per choice of {q.name!r} in "
                    f"the order {choices!r} (or map column -> choice). Got {proba_columns!r}."
                )
            else:
                mapping = dict(zip([str(c) for c in proba_columns], choices, strict=True))
            absent = [c for c in mapping if c not in frame.columns]
            if absent:
                raise DataError(f"{func}: the probability column(s) {absent!r} are missing. Columns: "
                                f"{list(frame.columns)!r}.")
            sub = frame[list(mapping)].rename(columns=mapping)
            return proba_matrix(sub, q, func=func, param="probability columns")
        if label_column is not None:
            if confidence_column is None:
                raise LabelValidationError(
                    f"{func} was given label_column={label_column!r} but no confidence_column: low-confidence "
                    f"predictions cannot be told apart without one. Pass confidence_column=, or proba_columns=."
                )
            absent = [c for c in (label_column, confidence_column) if c not in frame.columns]
            if absent:
                raise DataError(f"{func}: the column(s) {absent!r} are missing. Columns: {list(frame.columns)!r}.")
            labels = [_choice_text(v, q.choices) for v in frame[label_column].tolist()]
            bad = sorted({str(v) for v in labels if v not in q.choices})
            if bad:
                raise LabelValidationError(f"The label column {label_column!r} given to {func} holds values that are "
                                           f"not choices of {q.name!r}: {_show(bad)}. Expected one of {choices!r}.")
            try:
                conf = frame[confidence_column].to_numpy(dtype=float)
            except (TypeError, ValueError):
                raise LabelValidationError(f"The confidence column {confidence_column!r} given to {func} must hold "
                                           f"numbers in [0, 1].") from None
            k = q.cardinality
            bad_conf = ~np.isfinite(conf) | (conf < 1.0 / k) | (conf > 1.0)
            if bad_conf.any():
                rows = [str(i) for i in frame.index[bad_conf]]
                raise LabelValidationError(
                    f"The confidence column {confidence_column!r} given to {func} must hold the predicted choice's "
                    f"probability, between 1/{k} and 1; {len(rows)} row(s) do not (e.g. {_show(rows)})."
                )
            P = np.repeat(((1.0 - conf) / (k - 1))[:, None], k, axis=1)
            P[np.arange(len(labels)), [choices.index(str(v)) for v in labels]] = conf
            return P
        for cols in (choices, [f"p_{c}" for c in choices]):
            if all(c in frame.columns for c in cols):
                sub = frame[cols].set_axis(choices, axis=1)
                return proba_matrix(sub, q, func=func, param="probability columns")
        raise LabelValidationError(
            f"{func} found no predictions in the columns {list(frame.columns)!r}. Expected probability columns named "
            f"{choices!r} or {[f'p_{c}' for c in choices]!r}, or pass proba_columns=, or label_column= with "
            f"confidence_column=."
        )

    @staticmethod
    def _review_rule(threshold: Any, q: Question, func: str) -> tuple[list[float], str]:
        k = q.cardinality
        if threshold is None:
            t = default_review_threshold(k)
            return [t] * k, (f"confidence below {t:.4g}, halfway between chance (1/{k}) and certainty (the default "
                             f"rule)")
        if isinstance(threshold, (int, float)) and not isinstance(threshold, bool):
            t = float(threshold)
            if not 0.0 < t <= 1.0:
                raise LabelValidationError(f"The 'threshold' parameter of {func} must be a confidence in (0, 1]. Got "
                                           f"{threshold!r} instead.")
            return [t] * k, f"confidence below {t:.4g}"
        from workbench.active import AutoAccept

        if not isinstance(threshold, AutoAccept):
            raise LabelValidationError(f"The 'threshold' parameter of {func} must be a number in (0, 1], a fitted "
                                       f"workbench.active.AutoAccept or None. Got {type(threshold).__name__}.")
        if not hasattr(threshold, "threshold_"):
            raise NotFittedError(f"The AutoAccept given to {func} is not fitted: call fit(proba_gold, y_gold) first.")
        if int(threshold.n_classes_) != k:
            raise LabelValidationError(f"The AutoAccept given to {func} was fitted on {threshold.n_classes_} classes; "
                                       f"question {q.name!r} has {k}.")
        if threshold.per_class:
            limits = [float(threshold.threshold_.get(c, math.inf)) for c in range(k)]
        else:
            limits = [float(threshold.threshold_)] * k
        return limits, (f"not auto-acceptable: AutoAccept(target_precision={threshold.target_precision:g}, "
                        f"confidence={threshold.confidence:g}) threshold(s) "
                        f"{', '.join(f'{c} {t:.4g}' for c, t in zip(q.choices, limits, strict=True))}")

    # ------------------------------------------------------------------ summary
    def summary(self, question: str | None = None) -> pd.DataFrame:
        """Counts per feedback kind and production model, and their agreement with gold and with people.

        One row per feedback kind (``user_correction`` ...) and per production model
        (``prediction:<model>``): ``n_signals`` (events or predictions recorded, superseded ones
        included), ``n_items`` (items with a current signal), ``sources`` (source names),
        ``first_at``/``last_at``; ``n_gold``, ``agree_gold`` with a 95% Wilson interval
        (``agree_gold_low``/``agree_gold_high``) on the items that also have gold that did not
        come from feedback itself; the same against the human majority answer (``n_human``,
        ``agree_human`` ...; ties left out); and ``n_review`` (items currently in the review
        queue's list) for production models.
        """
        q = self._log.root_question(question)
        cols = ["n_signals", "n_items", "sources", "first_at", "last_at", "n_gold", "agree_gold", "agree_gold_low",
                "agree_gold_high", "n_human", "agree_human", "agree_human_low", "agree_human_high", "n_review"]
        gold_ev = self._log.labels(source="gold", question=q.name)
        gold_ev = gold_ev[~gold_ev["annotator"].astype(str).str.startswith("feedback:")]
        gold = gold_ev.drop_duplicates("example_id", keep="last").set_index("example_id")["value"]
        human = self._human_majority(q.name)
        rows: dict[str, dict[str, Any]] = {}
        ev = self._store.events(source="feedback", question=q.name)
        ev = ev[(ev["action"] == "label") & ~ev["event_id"].isin(self._log.excluded_event_ids())]  # flagged: out
        kinds = ev["annotator"].astype(str).str.split(":", n=1).str[0]
        for kind in [k for k in FEEDBACK_KINDS if k in set(kinds)]:
            mine = ev[kinds == kind]
            current = mine[mine["superseded_by"].isna()].sort_values(["created_at", "event_id"], kind="stable")
            latest = current.drop_duplicates("example_id", keep="last").set_index("example_id")["value"]
            # a backfill restates the newer signal after it (LabelLog.annotate_many): not a signal of its own
            restated = mine["event_uid"].astype(str).str.contains(":restated:", regex=False)
            rows[kind] = {"n_signals": int((~restated).sum()), "n_items": len(latest),
                          "sources": sorted(mine["annotator"].astype(str).str.split(":", n=1).str[1].unique()),
                          "first_at": mine["created_at"].min(), "last_at": mine["created_at"].max(),
                          **_agreement(latest, gold, "gold"), **_agreement(latest, human, "human"), "n_review": None}
        preds = self._store.find_records(REVIEW_KIND, f"{q.name}{_SEP}")
        runs = self._store.get_records(_PRED_RUN)
        if preds:
            table = pd.DataFrame([{"example_id": k.split(_SEP, 1)[1], **v} for k, v in preds.items()])
            for mv, grp in table.groupby("model_version", sort=True):
                latest = grp.set_index("example_id")["value"]
                mine_runs = [r for r in runs.values() if r.get("model_version") == mv and r.get("question") == q.name]
                rows[f"prediction:{mv}"] = {
                    "n_signals": int(sum(int(r["n_predictions"]) for r in mine_runs)), "n_items": len(latest),
                    "sources": [str(mv)],
                    "first_at": min(str(r["created_at"]) for r in mine_runs) if mine_runs else None,
                    "last_at": max(str(r["created_at"]) for r in mine_runs) if mine_runs else None,
                    **_agreement(latest, gold, "gold"), **_agreement(latest, human, "human"),
                    "n_review": int(grp["needs_review"].astype(bool).sum()),
                }
        out = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=cols)
        out.index.name = "kind"
        return out

    def _human_majority(self, question: str) -> pd.Series:
        ans = self._log.answers(question)
        if ans.empty:
            return pd.Series(dtype=object)
        counts = ans.groupby(["example_id", "value"]).size().rename("n").reset_index()
        top = counts.groupby("example_id")["n"].transform("max")
        winners = counts[counts["n"] == top]
        unique = winners.groupby("example_id").filter(lambda g: len(g) == 1)
        return unique.set_index("example_id")["value"]

    # ------------------------------------------------------------------ sources
    def sources(self) -> pd.DataFrame:
        """The feedback kinds registered as weak sources: kind, question (its current name), label-matrix column,
        whether it is registered in this session, items voted."""
        rows = []
        for e in self._registered():
            name = self._lf_name(e["kind"], e["question"])
            lf = next((x for x in self._lfs if x.name == name), None)
            n = len(lf.refresh()) if isinstance(lf, FeedbackSource) else 0
            rows.append({"kind": e["kind"], "question": e["question"], "column": name, "registered": lf is not None,
                         "n_items": n})
        return pd.DataFrame(rows, columns=["kind", "question", "column", "registered", "n_items"])


def _agreement(signal: pd.Series, reference: pd.Series, name: str) -> dict[str, Any]:
    both = signal.index.intersection(reference.index)
    n = len(both)
    k = int((signal.loc[both].astype(str).to_numpy() == reference.loc[both].astype(str).to_numpy()).sum()) if n else 0
    low, high = wilson_interval([k], [n])
    return {f"n_{name}": n, f"agree_{name}": k / n if n else float("nan"), f"agree_{name}_low": float(low[0]),
            f"agree_{name}_high": float(high[0])}

