"""``project.quality``: consensus, agreement, annotator reports, drift and adjudication."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from workbench.exceptions import LabelValidationError, StaleDecisionError, WorkbenchError
from workbench.log import LabelLog
from workbench.quality._agreement import AgreementReport, agreement
from workbench.quality._config import QualityConfig, load_config
from workbench.quality._consensus import (
    dawid_skene_consensus,
    majority_consensus,
    needs_adjudication,
)
from workbench.quality._drift import annotator_drift
from workbench.quality._report import annotator_report
from workbench.schema import SchemaRegistry
from workbench.store import EventStore, LabelEvent

__all__ = ["CONSENSUS_METHODS", "ProjectQuality"]

#: The methods :meth:`ProjectQuality.consensus` knows.
CONSENSUS_METHODS: tuple[str, ...] = ("majority", "dawid_skene")


class ProjectQuality:
    """How good the human labels are, and one label per item from several annotators.

    Honeypot answers never count towards consensus or agreement; they measure annotators.
    Settings (overlap, thresholds, exclusion and weighting of annotators) come from
    ``project.annotation.configure(...)``.

    Parameters
    ----------
    store : EventStore
        Where the project's quality settings are kept.
    schema : SchemaRegistry
        The questions and their choices.
    log : LabelLog
        The human answers, gold labels and adjudications.

    Examples
    --------
    >>> project.quality.consensus(method="dawid_skene")           # doctest: +SKIP
    >>> project.quality.agreement().fleiss_kappa                  # doctest: +SKIP
    >>> project.quality.annotator_report(window="7D")             # doctest: +SKIP
    >>> project.quality.adjudicate("c-17", "spam", annotator="dr_lee")  # doctest: +SKIP
    """

    def __init__(self, store: EventStore, schema: SchemaRegistry, log: LabelLog) -> None:
        self._store = store
        self._schema = schema
        self._log = log

    def __repr__(self) -> str:
        return "<project.quality: consensus, agreement, annotator_report, drift, adjudicate, record_consensus>"

    @property
    def config(self) -> QualityConfig:
        """The settings quality figures are computed with (change them with ``project.annotation.configure``)."""
        return load_config(self._store)

    # ------------------------------------------------------------------ annotators
    def _window(self, window: str | int | None, cfg: QualityConfig | None = None) -> str | int:
        """The drift window asked for, or the project's ``drift_window`` setting."""
        if window is not None:
            return window
        return (cfg or self.config).drift_window

    def annotator_report(self, window: str | int | None = None, question: str | None = None, *,
                         method: str = "majority") -> pd.DataFrame:
        """Per annotator: labels, honeypot accuracy with CI, agreement with consensus, drift, flag, weight.

        Parameters
        ----------
        window : str or int, optional
            The drift windows: a time span (``"7D"``, ``"12h"``), or an int, windows of that
            many answers per annotator in time order (see :func:`workbench.quality.annotator_drift`).
            Default: the project's ``drift_window`` setting (``project.annotation.configure``).
        question : str, optional
            Default: the schema's first question.
        method : str, default "majority"
            The consensus that agreement is measured against.

        Returns
        -------
        pandas.DataFrame
            One row per annotator (see :func:`workbench.quality.annotator_report`).
        """
        q = self._log.root_question(question)
        ann = self._log.answers(q.name, include_honeypots=True)
        if ann.empty:
            raise WorkbenchError("No human annotations yet: nothing to report.")
        cfg = self.config
        cons = self._raw_consensus(q.name, method=method, exclude=None)
        return annotator_report(
            ann[["example_id", "annotator", "value", "created_at"]], gold=self._log.gold(q.name), consensus=cons,
            window=self._window(window, cfg), min_count=cfg.min_honeypots, threshold=cfg.accuracy_threshold,
        )

    def drift(
        self, window: str | int | None = None, question: str | None = None, *, require_gold: bool = False
    ) -> pd.DataFrame | None:
        """Per annotator and window: honeypot accuracy and agreement with consensus, with a drop flag.

        Parameters
        ----------
        window : str or int, optional
            A time span (``"7D"``, ``"12h"``), or an int: windows of that many answers per
            annotator in time order. Default: the project's ``drift_window`` setting.
        question : str, optional
            Default: the schema's first question.
        require_gold : bool, default False
            Return None while the project has no gold labels (the honeypot columns would be empty).

        Returns
        -------
        pandas.DataFrame or None
            The table of :func:`workbench.quality.annotator_drift`.
        """
        q = self._log.root_question(question)
        gold = self._log.gold(q.name)
        if require_gold and gold.empty:
            return None
        ann = self._log.answers(q.name, include_honeypots=True)
        if ann.empty:
            raise WorkbenchError("No human annotations yet: nothing to measure drift on.")
        cons = self._raw_consensus(q.name, method="majority", exclude=None)
        return annotator_drift(
            ann[["example_id", "annotator", "value", "created_at"]], gold=gold, consensus=cons,
            window=self._window(window), min_count=self.config.min_honeypots,
        )

    def _report_column(self, question: str, column: str) -> pd.Series | None:
        """One column of the annotator report indexed by annotator, or None while there is no report."""
        try:
            rep = self.annotator_report(question=question)
        except WorkbenchError:
            return None
        if column not in rep.columns:
            return None
        names = rep["annotator"] if "annotator" in rep.columns else rep.index
        return pd.Series(rep[column].to_numpy(), index=[str(a) for a in names])

    def flagged(self, question: str | None = None) -> list[str]:
        """The annotators the report flags (low honeypot accuracy or drift)."""
        flags = self._report_column(self._log.root_question(question).name, "flagged")
        return [] if flags is None else [str(a) for a, f in flags.items() if bool(f)]

    def _annotator_weights(self, question: str) -> dict[str, float] | None:
        weights = self._report_column(question, "recommended_weight")
        if weights is None:
            return None
        return {str(a): 1.0 if pd.isna(w) else float(w) for a, w in weights.items()}

    # ------------------------------------------------------------------ consensus
    def _raw_consensus(
        self,
        question: str,
        *,
        method: str,
        exclude: Iterable[str] | None,
        weights: dict[str, float] | None = None,
    ) -> pd.DataFrame:
        if method not in CONSENSUS_METHODS:
            raise LabelValidationError(
                f"The 'method' parameter of consensus must be one of {list(CONSENSUS_METHODS)!r}. "
                f"Got {method!r} instead."
            )
        ann = self._log.answers(question)
        if ann.empty:
            return pd.DataFrame(columns=["label", "confidence", "agreement", "n_annotators", "tie"])
        labels = list(self._schema.current.question(question).choices)
        frame = ann[["example_id", "annotator", "value", "created_at"]]
        if method == "majority":
            return majority_consensus(frame, exclude=exclude, labels=labels, weights=weights)
        return dawid_skene_consensus(frame, exclude=exclude, labels=labels, random_state=0)  # type: ignore[no-any-return]

    def consensus(
        self, method: str = "majority", question: str | None = None, *, exclude_flagged: bool | None = None
    ) -> pd.DataFrame:
        """One label per annotated example from its independent annotators.

        Parameters
        ----------
        method : {"majority", "dawid_skene"}
            Majority vote (optionally reliability-weighted) or Dawid-Skene EM.
        question : str, optional
            The question (default: the root question).
        exclude_flagged : bool, optional
            Leave flagged annotators out (default: the configured ``exclude_flagged``).

        Returns
        -------
        DataFrame
            Indexed by example id: ``label``, ``confidence``, ``agreement``, ``n_annotators``,
            ``tie``, ``needs_adjudication`` and ``adjudicated``. An adjudicator's decision
            (``source="adjudication"``) replaces the label.
        """
        q = self._log.root_question(question)
        cfg = self.config
        if exclude_flagged is not None and not isinstance(exclude_flagged, (bool, np.bool_)):
            raise LabelValidationError(f"The 'exclude_flagged' parameter of consensus must be True, False or None "
                                       f"(the project's setting). Got {exclude_flagged!r}.")
        excl = cfg.exclude_flagged if exclude_flagged is None else bool(exclude_flagged)
        exclude = self.flagged(q.name) if excl else None
        weights = self._annotator_weights(q.name) if cfg.weight_annotators and method == "majority" else None
        cons = self._raw_consensus(q.name, method=method, exclude=exclude, weights=weights).copy()
        adj = self._log.labels(source="adjudication", question=q.name).drop_duplicates("example_id", keep="last")
        # one rule for this column and for the adjudication queue (route_to_adjudication)
        cons["needs_adjudication"] = needs_adjudication(cons, cfg.agreement_threshold, adjudicated=adj["example_id"])
        cons["adjudicated"] = False
        for eid, value in zip(adj["example_id"], adj["value"], strict=True):
            if eid in cons.index:
                cons.loc[eid, ["label", "confidence", "adjudicated"]] = [value, 1.0, True]
        return cons

    def record_consensus(self, method: str = "majority", question: str | None = None) -> int:
        """Write the current consensus as ``source="consensus"`` events (one producer per method).

        Only items whose consensus (label or confidence) changed since the last call are
        written, so calling it after every batch keeps one event per change, not per call; a
        recorded consensus that no longer holds (the answers now tie) is withdrawn. Returns the
        number of events written.
        """
        q = self._log.root_question(question)
        cons = self.consensus(method, q.name)
        cons = cons[cons["label"].notna()]
        producer = f"consensus:{method}"
        stored = self._log.labels(source="consensus", question=q.name)
        stored = stored[stored["annotator"] == producer]
        known = {str(e): (str(v), None if pd.isna(c) else float(c))
                 for e, v, c in zip(stored["example_id"], stored["value"], stored["confidence"], strict=True)}
        single = self._schema.current.is_single
        records = []
        for eid, lab, conf in zip(cons.index, cons["label"], cons["confidence"], strict=True):
            if known.get(str(eid)) == (str(lab), float(conf)):
                continue  # recorded already, unchanged
            records.append({"example_id": eid, "value": {q.name: str(lab)} if not single else str(lab),
                            "annotator": producer, "source": "consensus", "confidence": float(conf)})
        written = len(self._log.annotate_many(records)) if records else 0
        # a recorded consensus that no longer holds (a tie now, or no answers left) is withdrawn
        for eid in sorted(set(known) - {str(e) for e in cons.index}):
            self._log.retract(eid, q.name, annotator=producer, source="consensus",
                              note="the consensus no longer holds")
            written += 1
        return written

    def adjudicate(
        self, example_id: str, value: Any, *, annotator: str, note: str | None = None,
        seen: Mapping[str, Any] | None = None,
    ) -> list[LabelEvent]:
        """Record an adjudicator's final decision; it wins over the consensus.

        An item nobody answered can be decided too (an expert's label, e.g. for a hard case).

        Parameters
        ----------
        example_id : str
            The item.
        value : Any
            The decision: a choice (single-question schema) or ``{question: choice}``.
        annotator : str
            Who decided (the reviewer).
        note : str, optional
            Why, kept with the event.
        seen : mapping of annotator -> answer, optional
            The answers the decision was made on, as the reviewer saw them (the question of
            ``value``). When given, nothing is written if the item's answers differ now, or if
            someone adjudicated it since: a :class:`StaleDecisionError` says what changed. A
            review screen passes what it shows, so a decision on a stale screen is refused.

        Raises
        ------
        StaleDecisionError
            With ``seen``: the answers or the adjudication changed since.
        """
        if seen is not None:
            self._check_seen(str(example_id), value, seen)
        return self._log.annotate(example_id, value, annotator=annotator, source="adjudication", note=note)

    def _check_seen(self, example_id: str, value: Any, seen: Mapping[str, Any]) -> None:
        if not isinstance(seen, Mapping):
            raise LabelValidationError(
                f"'seen' must map each annotator to the answer the reviewer saw, e.g. {{'ann': 'spam'}}; got "
                f"{type(seen).__name__}."
            )
        if isinstance(value, Mapping):
            if len(value) != 1:
                raise LabelValidationError(
                    f"With 'seen', decide one question at a time: the value names {sorted(map(str, value))}."
                )
            question = self._log.root_question(str(next(iter(value)))).name  # an unknown question: a clear error
        else:
            question = self._log.root_question(None).name
        ans = self._log.answers(question)
        ans = ans[ans["example_id"].astype(str) == example_id]
        now = {str(a): str(v) for a, v in zip(ans["annotator"], ans["value"], strict=True)}
        then = {str(a): str(v) for a, v in seen.items()}
        changes = [f"{a} now answers {now[a]!r}" + (f" (was {then[a]!r})" if a in then else " (new)")
                   for a in sorted(now) if now[a] != then.get(a)]
        changes += [f"{a} withdrew {then[a]!r}" for a in sorted(set(then) - set(now))]
        decided = self._log.labels(source="adjudication", question=question)
        decided = decided[decided["example_id"].astype(str) == example_id]
        if len(decided):
            last = decided.iloc[-1]
            changes.append(f"{last['annotator']} adjudicated it as {str(last['value'])!r}")
        if changes:
            raise StaleDecisionError(
                f"{example_id!r} changed since it was shown: {'; '.join(changes)}. Nothing was written; look at "
                f"it again.", example_id=example_id, changes=changes,
            )

    def agreement(self, question: str | None = None) -> AgreementReport:
        """Inter-annotator agreement: pairwise Cohen's kappa, Fleiss' kappa, Krippendorff's alpha."""
        ann = self._log.answers(self._log.root_question(question).name)
        if ann.empty or not (ann.groupby("example_id")["annotator"].nunique() >= 2).any():
            raise WorkbenchError(
                "No item has answers from two annotators yet: agreement needs at least two annotators per item. "
                + ("Raise the overlap with project.annotation.configure(overlap=2) and label more."
                   if self.config.overlap < 2 else
                   f"The overlap is {self.config.overlap}: let a second annotator answer the items already answered.")
            )
        return agreement(ann[["example_id", "annotator", "value"]])
