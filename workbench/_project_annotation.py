"""The human-in-the-loop part of :class:`workbench.Project`: queues, leases, honeypots, drafts,
consensus, agreement, annotator reports and adjudication."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench._constants import ABSTAIN
from workbench._project_base import ProjectParts
from workbench.exceptions import DataError, LabelValidationError, WorkbenchError

if TYPE_CHECKING:
    from workbench.store import LabelEvent

__all__ = ["AnnotationMixin", "Assignment", "Draft", "QualityConfig", "QUEUE_STRATEGIES"]

#: The strategies :meth:`AnnotationMixin.queue` knows.
QUEUE_STRATEGIES: tuple[str, ...] = ("random", "stratified", "disagreement", "uncertain", "adjudication")


@dataclass(frozen=True)
class QualityConfig:
    """How a project routes work and judges annotators.

    Attributes
    ----------
    overlap : int
        Independent annotators per item (k).
    honeypot_rate : float
        Share of served items that are hidden gold items, in [0, 1).
    agreement_threshold : float
        Items whose consensus agreement is below this go to adjudication.
    lease_seconds : float
        How long an item served to an annotator stays reserved for them.
    min_honeypots : int
        Honeypot answers needed before an annotator's accuracy is judged.
    accuracy_threshold : float
        Honeypot accuracy below which (upper CI bound) an annotator is flagged.
    exclude_flagged : bool
        Leave flagged annotators out of consensus.
    weight_annotators : bool
        Weight each annotator's vote in majority-vote consensus by the report's
        ``recommended_weight`` (log-odds of their honeypot accuracy; 0 for flagged annotators),
        so unreliable annotators count less. Dawid-Skene weighs annotators by itself.
    """

    overlap: int = 1
    honeypot_rate: float = 0.0
    agreement_threshold: float = 0.7
    lease_seconds: float = 900.0
    min_honeypots: int = 10
    accuracy_threshold: float = 0.7
    exclude_flagged: bool = False
    weight_annotators: bool = False

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> LabelValidationError:
            return LabelValidationError(
                f"The '{name}' parameter of configure_quality must be {expected}. Got {getattr(self, name)!r} instead."
            )

        if isinstance(self.overlap, bool) or not isinstance(self.overlap, int) or self.overlap < 1:
            raise bad("overlap", "an integer >= 1")
        if not isinstance(self.honeypot_rate, (int, float)) or not 0.0 <= self.honeypot_rate < 1.0:
            raise bad("honeypot_rate", "a number in [0, 1)")
        if not isinstance(self.agreement_threshold, (int, float)) or not 0.0 <= self.agreement_threshold <= 1.0:
            raise bad("agreement_threshold", "a number in [0, 1]")
        if not isinstance(self.lease_seconds, (int, float)) or self.lease_seconds <= 0:
            raise bad("lease_seconds", "a positive number of seconds")
        if isinstance(self.min_honeypots, bool) or not isinstance(self.min_honeypots, int) or self.min_honeypots < 1:
            raise bad("min_honeypots", "an integer >= 1")
        if not isinstance(self.accuracy_threshold, (int, float)) or not 0.0 <= self.accuracy_threshold <= 1.0:
            raise bad("accuracy_threshold", "a number in [0, 1]")
        for flag in ("exclude_flagged", "weight_annotators"):
            if not isinstance(getattr(self, flag), bool):
                raise bad(flag, "True or False")


@dataclass(frozen=True)
class Draft:
    """A suggested answer shown to an annotator to confirm or correct."""

    value: str
    confidence: float | None
    source: str  # "model" (a model's prediction event) or "label_model" (LF votes)


@dataclass(frozen=True)
class Assignment:
    """An item served to one annotator: what to show, and whether it is a honeypot (hidden from the UI)."""

    example_id: str
    annotator: str
    expires_at: float
    is_honeypot: bool
    draft: Draft | None = None
    data: dict[str, Any] = field(default_factory=dict)


class AnnotationMixin(ProjectParts):
    """Human annotation: queues, leases, honeypots, consensus, quality and adjudication."""

    def _q(self, question: str | None) -> Any:
        """The named question; by default the first (root) question, which routing and quality use."""
        return self.schema.question(question) if question is not None else self.schema.questions[0]

    # ------------------------------------------------------------------ configuration
    @property
    def quality_config(self) -> QualityConfig:
        """The project's routing and quality settings."""
        stored = self._store.get_meta("quality_config") or {}
        return QualityConfig(**stored)

    def configure_quality(self, **settings: Any) -> QualityConfig:
        """Change routing and quality settings; see :class:`QualityConfig` for the fields.

        Examples
        --------
        >>> project.configure_quality(overlap=3, honeypot_rate=0.1, agreement_threshold=0.7)  # doctest: +SKIP
        """
        known = set(QualityConfig.__dataclass_fields__)
        unknown = sorted(set(settings) - known)
        if unknown:
            raise LabelValidationError(
                f"configure_quality got unknown setting(s) {unknown}. Known: {sorted(known)}."
            )
        config = QualityConfig(**{**asdict(self.quality_config), **settings})
        self._store.set_meta("quality_config", asdict(config))
        return config

    # ------------------------------------------------------------------ gold and imports
    def add_gold(
        self,
        gold: pd.DataFrame,
        id_column: str = "id",
        label_column: str = "label",
        *,
        annotator: str = "expert",
        question: str | None = None,
    ) -> int:
        """Record expert gold labels (used as honeypots and for evaluation); returns how many.

        The examples must already be in the project. Gold is recorded as events with
        ``source="gold"``; a later gold label for the same example supersedes the earlier one.
        """
        if not isinstance(gold, pd.DataFrame):
            raise DataError(f"add_gold takes a DataFrame with {id_column!r} and {label_column!r} columns.")
        for col in (id_column, label_column):
            if col not in gold.columns:
                raise DataError(f"add_gold: the column {col!r} is missing. Columns: {list(gold.columns)!r}.")
        q = self._q(question)
        rows = gold[[id_column, label_column]].dropna()
        records = [
            {"example_id": str(i), "value": {q.name: str(v)} if not self.schema.is_single else str(v),
             "annotator": annotator, "source": "gold"}
            for i, v in zip(rows[id_column], rows[label_column], strict=True)
        ]
        return len(self.annotate_many(records))

    def gold(self, question: str | None = None) -> pd.Series:
        """Current gold labels (choices) indexed by example id."""
        q = self._q(question)
        g = self.labels(source="gold", question=q.name)
        return g.drop_duplicates("example_id", keep="last").set_index("example_id")["value"].rename("gold")

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

        Every row is validated first; all rows are written in one transaction or none.
        """
        for col in (id_column, annotator_column, value_column):
            if col not in annotations.columns:
                raise DataError(
                    f"import_annotations: the column {col!r} is missing. Columns: {list(annotations.columns)!r}. "
                    f"Name yours with id_column=, annotator_column=, value_column=."
                )
        frame = pd.DataFrame(
            {
                "example_id": annotations[id_column].astype(str),
                "annotator": annotations[annotator_column].astype(str),
                "value": annotations[value_column].astype(str),
                "source": source,
            }
        )
        if created_at_column in annotations.columns:
            frame["created_at"] = annotations[created_at_column].to_numpy()
        return self.annotate_many(frame)

    # ------------------------------------------------------------------ predictions and drafts
    def predict_proba(self, question: str | None = None) -> pd.DataFrame | None:
        """Class probabilities per example from the best available source, or None.

        Latest ``source="model"`` predictions win where present (their confidence goes to the
        predicted class, the rest spread evenly); elsewhere the LF votes through the default
        label model (Dawid-Skene). Rows no source covers are absent.
        """
        q = self._q(question)
        ids = self._example_index()
        k = q.cardinality
        proba = pd.DataFrame(np.nan, index=ids, columns=list(q.choices))
        if self.lfs:
            from workbench.models import DawidSkene

            L = self.label_matrix(q.name if not self.schema.is_single else None, progress=False)
            if L.shape[1] > 0:
                covered = (L != ABSTAIN).any(axis=1)
                if covered.any():
                    model = DawidSkene(cardinality=k, random_state=0).fit(L)
                    p = model.predict_proba(L)
                    proba.loc[ids[covered]] = p[covered]
        preds = self.labels(source="model", question=q.name)
        if len(preds):
            last = preds.drop_duplicates("example_id", keep="last")
            for eid, value, conf in zip(last["example_id"], last["value"], last["confidence"], strict=True):
                c = 1.0 if pd.isna(conf) else float(conf)
                row = np.full(k, (1.0 - c) / (k - 1))
                row[q.choices.index(value)] = c
                proba.loc[eid] = row
        proba = proba.dropna()
        return proba if len(proba) else None

    def draft(self, example_id: str, question: str | None = None) -> Draft | None:
        """The suggestion shown to an annotator for one example, if any source has one."""
        q = self._q(question)
        pred = self._store.latest_label(example_id, q.name, "model")
        if pred is not None:
            return Draft(pred[0], pred[1], "model")
        proba = self._cached_proba(q.name)
        if proba is not None and example_id in proba.index:
            row = proba.loc[example_id].to_numpy(dtype=float)
            return Draft(q.choices[int(row.argmax())], float(row.max()), "label_model")
        return None

    def _cached_proba(self, question: str) -> pd.DataFrame | None:
        key = ("proba", question, tuple(lf.fingerprint for lf in self.lfs), len(self._example_index()))
        cache = self._extensions.setdefault("proba_cache", {})
        if key not in cache:
            cache.clear()
            cache[key] = self.predict_proba(question)
        return cache[key]  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ queues
    def _human_counts(self) -> pd.Series:
        ev = self.labels(source="human")
        ev = ev[~ev["is_honeypot"]]
        return ev.groupby("example_id")["annotator"].nunique()

    def queue(
        self,
        strategy: str = "random",
        n: int | None = 50,
        *,
        question: str | None = None,
        random_state: int | None = 0,
    ) -> pd.DataFrame:
        """Which examples to label next, best first.

        Parameters
        ----------
        strategy : {"random", "stratified", "disagreement", "uncertain", "adjudication"}
            ``random``: a seeded shuffle. ``stratified``: round-robin over predicted classes,
            rarest class first. ``disagreement``: where labeling functions conflict most.
            ``uncertain``: highest entropy of the label-model / model probabilities.
            ``adjudication``: items whose annotators disagree (agreement below the
            configured threshold), lowest agreement first.
        n : int or None
            How many (None: all).
        question : str, optional
            The question (default: the only one).
        random_state : int, optional
            Seed for shuffles and tie-breaks.

        Returns
        -------
        DataFrame
            Columns ``example_id``, ``score`` and ``reason``. Items that already have
            ``overlap`` human answers, and gold items, are left out (except for
            ``adjudication``). Strategies that need predictions fall back to ``random`` when
            there are none, and say so in ``reason``.
        """
        if strategy not in QUEUE_STRATEGIES:
            raise LabelValidationError(
                f"Unknown queue strategy {strategy!r}. Expected one of {list(QUEUE_STRATEGIES)!r}."
            )
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise LabelValidationError(f"The 'n' parameter of queue must be a positive integer or None. Got {n!r}.")
        q = self._q(question)
        rng = np.random.default_rng(random_state)
        if strategy == "adjudication":
            return self._adjudication_queue(q.name, n)
        ids = self._example_index()
        config = self.quality_config
        counts = self._human_counts().reindex(ids, fill_value=0)
        gold_ids = set(self.gold(q.name).index)
        open_mask = (counts.to_numpy() < config.overlap) & ~np.asarray(ids.isin(gold_ids), dtype=bool)
        cand = ids[open_mask]
        order = rng.permutation(len(cand))
        cand = cand[order]
        score = np.zeros(len(cand))
        reason = np.full(len(cand), "random", dtype=object)
        if strategy in ("uncertain", "stratified"):
            proba = self._cached_proba(q.name)
            if proba is None:
                reason[:] = f"random (no predictions yet for {strategy!r})"
            else:
                p = proba.reindex(cand).to_numpy(dtype=float)
                known = ~np.isnan(p).any(axis=1)
                if strategy == "uncertain":
                    with np.errstate(divide="ignore", invalid="ignore"):
                        ent = -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=1) / np.log(q.cardinality)
                    # unpredicted rows are maximally uncertain
                    score = np.where(known, ent, 1.0)
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
        elif strategy == "disagreement":
            if not self.lfs:
                reason[:] = "random (no labeling functions yet)"
            else:
                L = pd.DataFrame(self.label_matrix(q.name if not self.schema.is_single else None, progress=False),
                                 index=ids).reindex(cand).to_numpy()
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
        return out.head(n) if n is not None else out

    def _adjudication_queue(self, question: str, n: int | None) -> pd.DataFrame:
        ann = self.annotations(question)
        if ann.empty:
            return pd.DataFrame({"example_id": [], "score": [], "reason": []})
        from workbench.quality import majority_consensus, route_to_adjudication

        cons = majority_consensus(ann)
        multi = cons[cons["n_annotators"] >= 2]
        routed = route_to_adjudication(multi, self.quality_config.agreement_threshold)
        done = set(self.labels(source="adjudication", question=question)["example_id"])
        ids = [i for i in routed if i not in done]
        sub = multi.loc[ids].sort_values("agreement", kind="stable")
        out = pd.DataFrame(
            {
                "example_id": list(sub.index),
                "score": 1.0 - sub["agreement"].to_numpy(dtype=float),
                "reason": [f"agreement {a:.2f} below {self.quality_config.agreement_threshold:.2f}"
                           for a in sub["agreement"]],
            }
        )
        return out.head(n) if n is not None else out

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
        the same one), keeps an annotator's unexpired leases first, and mixes in hidden
        honeypots (gold items) at the configured rate. Items come with a draft when a model
        or the label model has one.
        """
        if not isinstance(annotator, str) or not annotator.strip():
            raise LabelValidationError(f"The 'annotator' parameter of next_items must be a non-empty string. Got "
                                       f"{annotator!r} instead.")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise LabelValidationError(f"The 'n' parameter of next_items must be a positive integer. Got {n!r}.")
        config = self.quality_config
        q = self._q(question)
        rng = np.random.default_rng(random_state)
        n_honey = int(rng.binomial(n, config.honeypot_rate)) if config.honeypot_rate > 0 else 0
        honey: list[tuple[str, float]] = []
        if n_honey:
            gold_ids = list(self.gold(q.name).index)
            rng.shuffle(gold_ids)
            honey = self._store.claim(annotator, gold_ids, n=n_honey, overlap=1, lease_seconds=config.lease_seconds,
                                      honeypot=True)
        if strategy == "adjudication":
            cand = self.queue("adjudication", None, question=q.name)["example_id"].tolist()
        else:
            # One project-wide order (seed 0) so that annotators converge on the same items.
            cand = self.queue(strategy, None, question=q.name, random_state=0)["example_id"].tolist()
        regular = self._store.claim(annotator, cand, n=n - len(honey), overlap=config.overlap if strategy !=
                                    "adjudication" else 10**9, lease_seconds=config.lease_seconds)
        items = [(e, x, False) for e, x in regular] + [(e, x, True) for e, x in honey]
        order = rng.permutation(len(items)) if honey else np.arange(len(items))
        frame = self._examples_frame()
        out = []
        for k in order:
            eid, exp, hp = items[int(k)]
            data = {str(c): v for c, v in frame.loc[eid].items() if c != "data_version"}
            out.append(Assignment(eid, annotator, exp, hp, self.draft(eid, q.name), data))
        return out

    def submit(
        self,
        example_id: str,
        value: Any,
        *,
        annotator: str,
        time_spent: float | None = None,
        confirmed_draft: bool = False,
    ) -> list[LabelEvent]:
        """Record an answer to a served item and end its lease (honeypot status comes from the lease)."""
        lease = self._store.lease_of(annotator, example_id)
        if lease is not None:
            is_honeypot = bool(lease["is_honeypot"])
        else:  # an item answered again after an undo keeps the honeypot status it was served with
            before = self._store.events(example_id=example_id, annotator=annotator, source="human")
            is_honeypot = bool(before["is_honeypot"].any())
        events = self.annotate(
            example_id, value, annotator=annotator, time_spent=time_spent, is_honeypot=is_honeypot,
            note="confirmed draft" if confirmed_draft else None,
        )
        self._store.release(annotator, example_id)
        return events

    def skip(self, example_id: str, *, annotator: str) -> None:
        """Give an item back without answering; it is not served to this annotator again."""
        self._store.release(annotator, example_id, skipped=True)

    def undo(self, *, annotator: str) -> str | None:
        """Undo the annotator's last human submission by appending superseding events.

        Every answer of that submission (all its questions) is undone: an earlier answer to
        the same question is restated, otherwise the answer is retracted. Nothing is deleted.
        Returns the example id whose submission was undone, or None.
        """
        ev = self._store.events(annotator=annotator, source="human")
        live = ev[ev["superseded_by"].isna() & (ev["action"] == "label")]
        if live.empty:
            return None
        last = live.iloc[-1]
        eid = str(last["example_id"])
        submission = str(last["event_uid"]).split(":", 1)[0]
        same = live[(live["example_id"] == eid) & (live["event_uid"].str.split(":").str[0] == submission)]
        by_id = ev.set_index("event_id")
        restate: dict[str, str] = {}
        retract: list[str] = []
        for _, row in same.iterrows():
            qname = str(row["question"])
            prev = None
            if not pd.isna(row["supersedes"]) and int(row["supersedes"]) in by_id.index:
                before = by_id.loc[int(row["supersedes"])]
                if before["action"] == "label":
                    prev = str(before["value"])
            if prev is None:
                retract.append(qname)
            else:
                restate[qname] = prev
        honeypot = bool(same["is_honeypot"].any())
        if restate:
            value: Any = restate if not self.schema.is_single else next(iter(restate.values()))
            self.annotate(eid, value, annotator=annotator, note="undo", is_honeypot=honeypot)
        # follow-up questions first, so conditions stay consistent
        for qname in sorted(retract, key=lambda q: -self.schema.question_names.index(q)):
            current = self._store.current_answers(eid, "human", annotator)
            if qname in current:
                self.retract(eid, qname, annotator=annotator, note="undo")
        return eid

    def progress(self, annotator: str | None = None) -> dict[str, int]:
        """How much is done: items with enough answers, and (for one annotator) their answers."""
        counts = self._human_counts()
        total = len(self._example_index()) - len(self.gold(self.schema.questions[0].name))
        done = int((counts >= self.quality_config.overlap).sum())
        out = {"n_items": total, "n_complete": done, "n_remaining": max(total - done, 0)}
        if annotator is not None:
            mine = self.labels(source="human", annotator=annotator)
            out["n_answered"] = int(mine["example_id"].nunique())
            out["n_honeypots"] = int(mine["is_honeypot"].sum())
        return out

    # ------------------------------------------------------------------ consensus and quality
    def annotations(self, question: str | None = None, *, include_honeypots: bool = False) -> pd.DataFrame:
        """Current human answers as a long table: example_id, annotator, value, created_at."""
        q = self._q(question)
        ev = self.labels(source="human", question=q.name)
        if not include_honeypots:
            ev = ev[~ev["is_honeypot"]]
        out = ev[["example_id", "annotator", "value", "created_at", "is_honeypot", "event_id"]].copy()
        out["created_at"] = pd.to_datetime(out["created_at"], utc=True, format="ISO8601")
        return out.reset_index(drop=True)

    def annotator_drift(
        self, window: str = "7D", question: str | None = None, *, require_gold: bool = False
    ) -> pd.DataFrame | None:
        """Per annotator and time window: honeypot accuracy and agreement with consensus, with a drop flag.

        With ``require_gold=True`` it returns None while the project has no gold labels (the
        honeypot columns would be empty).
        """
        from workbench.quality import annotator_drift

        q = self._q(question)
        if require_gold and self.gold(q.name).empty:
            return None
        ann = self.annotations(q.name, include_honeypots=True)
        if ann.empty:
            raise WorkbenchError("No human annotations yet: nothing to measure drift on.")
        cfg = self.quality_config
        cons = self._raw_consensus(q.name, method="majority", exclude=None)
        return annotator_drift(
            ann[["example_id", "annotator", "value", "created_at"]], gold=self.gold(q.name), consensus=cons,
            window=window, min_count=cfg.min_honeypots,
        )

    def annotator_report(
        self, window: str = "7D", question: str | None = None, *, method: str = "majority"
    ) -> pd.DataFrame:
        """Per annotator: labels, honeypot accuracy with CI, agreement with consensus, drift, flag, weight."""
        from workbench.quality import annotator_report

        q = self._q(question)
        ann = self.annotations(q.name, include_honeypots=True)
        if ann.empty:
            raise WorkbenchError("No human annotations yet: nothing to report.")
        cfg = self.quality_config
        cons = self._raw_consensus(q.name, method=method, exclude=None)
        return annotator_report(
            ann[["example_id", "annotator", "value", "created_at"]], gold=self.gold(q.name), consensus=cons,
            window=window, min_count=cfg.min_honeypots, threshold=cfg.accuracy_threshold,
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

    def _flagged(self, question: str) -> list[str]:
        flags = self._report_column(question, "flagged")
        return [] if flags is None else [str(a) for a, f in flags.items() if bool(f)]

    def _annotator_weights(self, question: str) -> dict[str, float] | None:
        weights = self._report_column(question, "recommended_weight")
        if weights is None:
            return None
        return {str(a): 1.0 if pd.isna(w) else float(w) for a, w in weights.items()}

    def _raw_consensus(
        self,
        question: str,
        *,
        method: str,
        exclude: Iterable[str] | None,
        weights: dict[str, float] | None = None,
    ) -> pd.DataFrame:
        from workbench.quality import dawid_skene_consensus, majority_consensus

        ann = self.annotations(question)
        if ann.empty:
            return pd.DataFrame(columns=["label", "confidence", "agreement", "n_annotators", "tie"])
        labels = list(self._q(question).choices)
        frame = ann[["example_id", "annotator", "value", "created_at"]]
        if method == "majority":
            return majority_consensus(frame, exclude=exclude, labels=labels, weights=weights)
        if method == "dawid_skene":
            return dawid_skene_consensus(frame, exclude=exclude, labels=labels, random_state=0)  # type: ignore[no-any-return]
        raise LabelValidationError(
            f"The 'method' parameter of consensus must be 'majority' or 'dawid_skene'. Got {method!r} instead."
        )

    def consensus(
        self, method: str = "majority", question: str | None = None, *, exclude_flagged: bool | None = None
    ) -> pd.DataFrame:
        """One label per annotated example from its independent annotators.

        Returns a DataFrame indexed by example id with ``label``, ``confidence``,
        ``agreement``, ``n_annotators``, ``tie``, ``needs_adjudication`` and ``adjudicated``.
        An adjudicator's decision (``source="adjudication"``) replaces the label. Honeypot
        answers never count. Flagged annotators are excluded (``exclude_flagged``) or votes are
        weighted by annotator reliability (``weight_annotators``) when configured with
        :meth:`configure_quality`.
        """
        q = self._q(question)
        cfg = self.quality_config
        excl = cfg.exclude_flagged if exclude_flagged is None else exclude_flagged
        exclude = self._flagged(q.name) if excl else None
        weights = self._annotator_weights(q.name) if cfg.weight_annotators and method == "majority" else None
        cons = self._raw_consensus(q.name, method=method, exclude=exclude, weights=weights).copy()
        cons["needs_adjudication"] = (cons["n_annotators"] >= 2) & (
            cons["agreement"].astype(float) < self.quality_config.agreement_threshold
        )
        adj = self.labels(source="adjudication", question=q.name).drop_duplicates("example_id", keep="last")
        cons["adjudicated"] = False
        for eid, value in zip(adj["example_id"], adj["value"], strict=True):
            if eid in cons.index:
                cons.loc[eid, ["label", "confidence", "adjudicated", "needs_adjudication"]] = [value, 1.0, True, False]
        return cons

    def adjudicate(self, example_id: str, value: Any, *, annotator: str, note: str | None = None) -> list[LabelEvent]:
        """Record an adjudicator's final decision; it wins over the consensus."""
        return self.annotate(example_id, value, annotator=annotator, source="adjudication", note=note)

    def agreement(self, question: str | None = None) -> Any:
        """Inter-annotator agreement: pairwise Cohen's kappa, Fleiss' kappa, Krippendorff's alpha."""
        from workbench.quality import agreement

        ann = self.annotations(question)
        if ann.empty or not (ann.groupby("example_id")["annotator"].nunique() >= 2).any():
            raise WorkbenchError(
                "No item has answers from two annotators yet: agreement needs at least two annotators per item. "
                "Raise the overlap with project.configure_quality(overlap=2) and label more."
            )
        return agreement(ann[["example_id", "annotator", "value"]])

    def record_consensus(self, method: str = "majority", question: str | None = None) -> int:
        """Write the current consensus as ``source="consensus"`` events (one producer per method)."""
        q = self._q(question)
        cons = self.consensus(method, q.name)
        cons = cons[cons["label"].notna()]
        records = [
            {"example_id": eid, "value": {q.name: str(lab)} if not self.schema.is_single else str(lab),
             "annotator": f"consensus:{method}", "source": "consensus", "confidence": float(conf)}
            for eid, lab, conf in zip(cons.index, cons["label"], cons["confidence"], strict=True)
        ]
        return len(self.annotate_many(records))


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat()
