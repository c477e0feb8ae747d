"""``project.annotation``: serving items to annotators and recording their answers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.annotation._types import QUEUE_STRATEGIES, Assignment, Draft
from workbench.exceptions import DataError, LabelValidationError
from workbench.quality import QualityConfig, load_config, route_to_adjudication, save_config
from workbench.store import LabelEvent, utc_now

if TYPE_CHECKING:
    from workbench.data import DataCatalog
    from workbench.lf import ProjectLFs
    from workbench.log import LabelLog
    from workbench.models import ProjectModels
    from workbench.quality import ProjectQuality
    from workbench.schema import Question, SchemaRegistry
    from workbench.store import EventStore

__all__ = ["ProjectAnnotation"]

_log = logging.getLogger(__name__)

_UNDO = "undo"


class ProjectAnnotation:
    """Human annotation: queues, leases, overlap, hidden honeypots, drafts, skip, undo, imports.

    Leases are kept in the store, so several kernels or processes can serve the same project
    at once: an item goes to ``overlap`` different annotators and never twice to the same one.

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

    def __repr__(self) -> str:
        c = self.config
        return (f"<project.annotation: overlap={c.overlap}, honeypot_rate={c.honeypot_rate}; "
                f"queue, next_items, submit, skip, undo, progress, answers, import_annotations>")

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
        return self._log.annotate_many(frame)

    # ------------------------------------------------------------------ drafts
    def draft(self, example_id: str, question: str | None = None) -> Draft | None:
        """The suggestion shown to an annotator for one example, if any source has one."""
        q = self._q(question)
        pred = self._store.latest_label(example_id, q.name, "model")
        if pred is not None:
            return Draft(pred[0], pred[1], "model")
        proba = self._models.predict_proba(q.name)
        if proba is not None and example_id in proba.index:
            row = proba.loc[example_id].to_numpy(dtype=float)
            return Draft(q.choices[int(row.argmax())], float(row.max()), "label_model")
        return None

    def answers(self, question: str | None = None, *, include_honeypots: bool = False) -> pd.DataFrame:
        """Current human answers as a long table: example_id, annotator, value, created_at, is_honeypot, event_id."""
        return self._log.answers(self._q(question).name, include_honeypots=include_honeypots)

    # ------------------------------------------------------------------ queues
    def _human_counts(self) -> pd.Series:
        ev = self._log.labels(source="human")
        ev = ev[~ev["is_honeypot"].astype(bool)]
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
            ``adjudication``: items whose consensus needs an adjudicator
            (``project.quality.consensus()["needs_adjudication"]``), lowest agreement first.
        n : int or None
            How many (None: all).
        question : str, optional
            The question (default: the root question).
        random_state : int, optional
            Seed for shuffles and tie-breaks.

        Returns
        -------
        DataFrame
            Columns ``example_id``, ``score`` and ``reason``. Items that already have
            ``overlap`` current human answers, and gold items, are left out (except for
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
        if strategy == "adjudication":
            return self._adjudication_queue(q.name, n)
        rng = np.random.default_rng(random_state)
        ids = self._data.index()
        config = self.config
        counts = self._human_counts().reindex(ids, fill_value=0)
        gold_ids = set(self._log.gold(q.name).index)
        open_mask = (counts.to_numpy() < config.overlap) & ~np.asarray(ids.isin(gold_ids), dtype=bool)
        cand = ids[open_mask]
        cand = cand[rng.permutation(len(cand))]
        score = np.zeros(len(cand))
        reason = np.full(len(cand), "random", dtype=object)
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
        return out.head(n) if n is not None else out

    def _adjudication_queue(self, question: str, n: int | None) -> pd.DataFrame:
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
        config = self.config
        q = self._q(question)
        rng = np.random.default_rng(random_state)
        n_honey = int(rng.binomial(n, config.honeypot_rate)) if config.honeypot_rate > 0 else 0
        # One project-wide order (seed 0) so that annotators converge on the same items.
        cand = self.queue(strategy, None, question=q.name, random_state=0)["example_id"].tolist()
        overlap = config.overlap if strategy != "adjudication" else 10**9
        regular = self._store.claim(annotator, cand, n=n - n_honey, overlap=overlap,
                                    lease_seconds=config.lease_seconds)
        drafts = {eid: self.draft(eid, q.name) for eid, _ in regular}
        honey: list[tuple[str, float]] = []
        if n_honey:
            honey = self._store.claim(annotator, self._honeypot_order(q.name, drafts, rng), n=n_honey, overlap=1,
                                      lease_seconds=config.lease_seconds, honeypot=True)
            drafts.update({eid: self.draft(eid, q.name) for eid, _ in honey})
            if len(regular) + len(honey) < n:  # fewer honeypots than drawn: fill the batch with regular work
                more = self._store.claim(annotator, cand, n=n - len(honey), overlap=overlap,
                                         lease_seconds=config.lease_seconds)
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

    def _draft_kinds(self, question: str) -> pd.Series:
        """Per example, where its draft would come from: ``"model"``, ``"label_model"`` or ``"none"``."""
        ids = self._data.index()
        kinds = pd.Series("none", index=ids, dtype=object)
        proba = self._models.predict_proba(question)
        if proba is not None:
            kinds[kinds.index.isin(proba.index)] = "label_model"
        preds = self._log.labels(source="model", question=question)
        kinds[kinds.index.isin(preds["example_id"])] = "model"
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
    ) -> list[LabelEvent]:
        """Record an answer to a served item and end its lease (honeypot status comes from the lease)."""
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
        return events

    def skip(self, example_id: str, *, annotator: str) -> None:
        """Give an item back without answering; it is not served to this annotator again."""
        self._data.check_ids([example_id])
        self._store.release(annotator, example_id, skipped=True)

    def undo(self, *, annotator: str) -> str | None:
        """Undo the annotator's latest submission that is not undone yet; returns its example id, or None.

        Undo is a stack over the log: repeated calls walk back the annotator's submissions,
        newest first. Each restores the answers the annotator had for that example just
        before the submission (every question, follow-ups included), by appending superseding
        events; nothing is deleted.
        """
        if not isinstance(annotator, str) or not annotator.strip():
            raise LabelValidationError(f"The 'annotator' parameter of undo must be a non-empty string. Got "
                                       f"{annotator!r} instead.")
        ev = self._store.events(annotator=annotator, source="human")
        if ev.empty:
            return None
        base = ev["event_uid"].astype(str).str.split(":").str[0]
        is_undo = base == _UNDO
        undone = set(ev.loc[is_undo, "event_uid"].astype(str).str.split(":").str[1])
        undone |= {r["submission"] for r in self._store.get_records(_UNDO).values() if r["annotator"] == annotator}
        submissions = ev.loc[~is_undo].assign(_base=base[~is_undo])
        todo = submissions[~submissions["_base"].isin(undone)]
        if todo.empty:
            return None
        last = todo.iloc[-1]
        eid, sub_id = str(last["example_id"]), str(last["_base"])
        mine = ev[ev["example_id"] == eid].sort_values("event_id")
        this = mine[base[mine.index] == sub_id]
        first_id = int(this["event_id"].min())
        before: dict[str, str] = {}
        for _, row in mine[mine["event_id"] < first_id].iterrows():
            if row["action"] == "label":
                before[str(row["question"])] = str(row["value"])
            else:
                before.pop(str(row["question"]), None)
        current = self._store.current_answers(eid, "human", annotator)
        touched = list(dict.fromkeys([*this["question"].astype(str), *current, *before]))
        schema = self._schema.current
        honeypot = bool(this["is_honeypot"].astype(bool).any())
        data_version = self._data.check_ids([eid])[eid]
        when = utc_now()
        events: list[LabelEvent] = []
        # parents before follow-ups when restoring, follow-ups first when retracting
        for qname in sorted(touched, key=schema.question_names.index):
            want, have = before.get(qname), current.get(qname)
            if want is None or want == have:
                continue
            events.append(LabelEvent(
                example_id=eid, question=qname, value=want, source="human", annotator=annotator,
                schema_version=schema.version, guideline_version=self._schema.guideline_version,
                data_version=data_version, event_uid=f"{_UNDO}:{sub_id}:{qname}", created_at=when,
                is_honeypot=honeypot, note=_UNDO,
            ))
        for qname in sorted(touched, key=lambda q: -schema.question_names.index(q)):
            if before.get(qname) is None and current.get(qname) is not None:
                events.append(LabelEvent(
                    example_id=eid, question=qname, value=None, source="human", annotator=annotator,
                    schema_version=schema.version, guideline_version=self._schema.guideline_version,
                    data_version=data_version, event_uid=f"{_UNDO}:{sub_id}:{qname}", created_at=when,
                    action="retract", is_honeypot=honeypot, note=_UNDO,
                ))
        if events:
            self._log.write(events)
        # the stack marker (a submission that changed nothing leaves no undo event to find)
        self._store.put_record(_UNDO, f"{annotator}\x1f{sub_id}", {"annotator": annotator, "submission": sub_id,
                                                                   "example_id": eid, "undone_at": when},
                               replace=True)
        return eid

    def progress(self, annotator: str | None = None) -> dict[str, int]:
        """How much is done: items with enough answers, and (for one annotator) their answers."""
        counts = self._human_counts()
        root = self._schema.current.questions[0].name
        total = len(self._data.index()) - len(self._log.gold(root))
        done = int((counts >= self.config.overlap).sum())
        out = {"n_items": total, "n_complete": done, "n_remaining": max(total - done, 0)}
        if annotator is not None:
            mine = self._log.labels(source="human", annotator=annotator)
            out["n_answered"] = int(mine["example_id"].nunique())
            out["n_honeypots"] = int(mine["is_honeypot"].astype(bool).sum())
        return out

