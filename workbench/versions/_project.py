"""``project.versions``: immutable soft-label versions with lineage, and the training runs that used them."""

from __future__ import annotations

import builtins
import getpass
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.exceptions import DataError, LabelValidationError, WorkbenchError
from workbench.store import TrainingRun, utc_now
from workbench.versions._store import LabelVersion, LabelVersionStore
from workbench.versions._validate import resolve_layout

if TYPE_CHECKING:
    from workbench._events import EventEmitter
    from workbench.data import DataCatalog
    from workbench.lf import ProjectLFs
    from workbench.log import LabelLog
    from workbench.models import LabelModel, ProjectModels
    from workbench.schema import Schema, SchemaRegistry
    from workbench.store import EventStore

__all__ = ["LABELS_DIR", "ProjectVersions"]

#: Folder of the project holding the label versions.
LABELS_DIR = "labels"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database (containers): fall back
        return os.environ.get("USER", "unknown")


class ProjectVersions:
    """Immutable soft-label versions: save, list, load, diff, train from; and training runs.

    A version is a folder ``labels/vN/`` with ``labels.parquet``, ``manifest.json`` (parent,
    data, schema and guideline versions, every LF with its code fingerprint and source, the
    label model, metrics on gold, the label events it was built from) and ``SHA256SUMS``.
    Every load re-checks the hashes.

    Parameters
    ----------
    root : Path
        The project directory (versions live in ``root / "labels"``).
    store : EventStore
        Version records and training runs.
    schema : SchemaRegistry
        The schema and guideline versions recorded in each manifest.
    data : DataCatalog
        The data versions recorded in each manifest.
    log : LabelLog
        Label events (what a version was built from; what a training run used).
    lfs : ProjectLFs
        The LFs recorded in each manifest.
    models : ProjectModels
        The label model recorded in each manifest.
    emitter : EventEmitter
        Announces ``label_version_saved`` and ``training_run_recorded``.

    Examples
    --------
    >>> v = project.versions.save(project.models.soft_labels(), message="10 LFs")  # doctest: +SKIP
    >>> project.versions.diff("v1", "v2")                                          # doctest: +SKIP
    >>> X, y, w = project.versions.training_data("v2", features=tfidf)             # doctest: +SKIP
    """

    def __init__(
        self,
        root: Path,
        store: EventStore,
        schema: SchemaRegistry,
        data: DataCatalog,
        log: LabelLog,
        lfs: ProjectLFs,
        models: ProjectModels,
        emitter: EventEmitter,
    ) -> None:
        self._root = root
        self._store = store
        self._schema = schema
        self._data = data
        self._log = log
        self._lfs = lfs
        self._models = models
        self._emitter = emitter
        self._versions: LabelVersionStore | None = None

    def __repr__(self) -> str:
        return "<project.versions: save, list, load, manifest, diff, training_data, label_model, runs>"

    @property
    def store(self) -> LabelVersionStore:
        """The on-disk version store behind this namespace."""
        if self._versions is None:
            self._versions = LabelVersionStore(self._root / LABELS_DIR, self._store)
        return self._versions

    # ------------------------------------------------------------------ saving
    def save(
        self,
        soft: pd.DataFrame,
        *,
        message: str = "",
        author: str | None = None,
        parent: str | None = "latest",
        gold: Any = None,
    ) -> LabelVersion:
        """Write soft labels as a new immutable label version (Parquet + JSON manifest).

        The manifest records the parent version, the data, schema and guideline versions,
        every registered LF (name, kind, code fingerprint, source text), the label model
        (class, parameters, learned weights), metrics on gold when known, counts per source,
        author, time and message, the label events it was built from (``events``), and
        content hashes checked on every load.

        Parameters
        ----------
        soft : DataFrame
            Usually ``project.models.soft_labels()``' output.
        message : str
            Why this version exists.
        author : str, optional
            Default: the operating-system user.
        parent : str or None, default "latest"
            The version this one derives from.
        gold : "gold", column name or Series, optional
            Gold labels to score the version against (stored in the manifest's ``metrics``).

        Returns
        -------
        LabelVersion

        Raises
        ------
        LabelValidationError
            Not a DataFrame, no rows, rows for examples the project does not have, or a
            label that is not a most probable choice of its row. Nothing is written.
        DataError
            The frame breaks the label-version format (see ``LabelVersionStore.save``).

        Notes
        -----
        The version's events are those current when ``soft`` was computed
        (``soft.attrs["event_watermark"]``, set by ``soft_labels()``): a label written between
        ``soft_labels()`` and ``save()`` is in neither its data nor its provenance.
        """
        from workbench.lf._project import lf_record

        if not isinstance(soft, pd.DataFrame):
            raise LabelValidationError(
                f"project.versions.save takes the DataFrame of project.models.soft_labels(). Got "
                f"{type(soft).__name__} instead."
            )
        if soft.empty:
            raise LabelValidationError(
                "The soft labels to save have no rows: nothing labels any example yet. Add LFs, annotations or "
                "gold first (project.models.soft_labels() lists only covered examples)."
            )
        ids = pd.Index((soft["id"] if "id" in soft.columns else soft.index).astype(str))
        unknown = ids.difference(pd.Index(self._data.index().astype(str)))
        if len(unknown):
            raise LabelValidationError(
                f"The soft labels to save name {len(unknown)} example(s) this project does not have, e.g. "
                f"{unknown[:3].tolist()!r}. Save the frame of project.models.soft_labels() (or rows of it); add "
                f"the examples first with project.add_data(...)."
            )
        computed_under = soft.attrs.get("questions")
        now = {q.name: list(q.choices) for q in self._schema.current.questions}
        if isinstance(computed_under, dict) and computed_under != now and self._current_labels_valid(ids):
            # a migration since soft_labels(): the labels are fine now, the frame is stale (when the labels
            # themselves are not answers of the schema, the check below says how to flag them)
            raise LabelValidationError(
                f"These soft labels were computed under an earlier schema (questions and choices "
                f"{computed_under!r}; now {now!r}): compute them again with project.models.soft_labels() and "
                f"save those. Nothing was saved."
            )
        self._check_labels_agree(soft)
        # The label events current when the soft labels were computed (and only those) are what this version
        # was built from: a label written between soft_labels() and save() is not in its data, nor in its
        # provenance. A frame without the mark (built by hand) counts the events current now.
        latest = self._store.last_event_id()
        mark = soft.attrs.get("event_watermark")
        watermark = (int(mark) if isinstance(mark, (int, np.integer)) and not isinstance(mark, bool)
                     and 0 <= int(mark) <= latest else latest)
        author = author or _user()
        schema = self._schema.current
        dv = self._data.versions()
        manifest: dict[str, Any] = {
            "questions": {q.name: list(q.choices) for q in schema.questions},
            "data_version": str(dv["version"].iloc[-1]) if len(dv) else None,
            "data_versions": {str(v): str(h) for v, h in zip(dv["version"], dv["content_hash"], strict=True)},
            "schema_version": schema.version,
            "guideline_version": self._schema.guideline_version,
            "schema": schema.to_dict(),
            # the LFs and label model that produced the soft labels (soft_labels() records them), else the current
            "lfs": (soft.attrs["lfs"] if isinstance(soft.attrs.get("lfs"), list)
                    else [lf_record(lf) for lf in self._lfs]),
            "label_model": (soft.attrs["label_model_info"] if "label_model_info" in soft.attrs
                            else self._models.info(soft.attrs.get("model"))),
            "events": {
                "watermark": int(watermark),
                "rule": "the label events with event_id <= watermark that no event with event_id <= watermark "
                        "supersedes, for the examples of this version, except those listed in 'excluded' "
                        "(flagged by a schema migration or for re-review)",
            },
        }
        used, excluded, kept_old = self._labels_at(watermark, ids)  # ids as a column or as the index
        self._check_one_schema(used, schema)
        manifest["events"]["excluded"] = excluded
        manifest["label_schema_versions"] = {str(k): int(v) for k, v in
                                             used["schema_version"].value_counts().sort_index().items()}
        if kept_old:
            manifest["old_schema_labels"] = kept_old
        if gold is not None:
            manifest["metrics"] = self._metrics(soft, gold)
        version = self.store.save(soft, manifest=manifest, parent=parent, author=author, message=message)
        self._emitter.emit("label_version_saved", version=version)
        return version

    def _current_at(self, watermark: int) -> pd.DataFrame:
        """The label events current at ``watermark`` (an event later than it does not count)."""
        ev = self._store.events()
        ev = ev[ev["event_id"] <= watermark]
        sup = pd.to_numeric(ev["superseded_by"], errors="coerce")
        return ev[(sup.isna() | (sup > watermark)) & (ev["action"] == "label")]

    def _labels_at(
        self, watermark: int, ids: pd.Index
    ) -> tuple[pd.DataFrame, builtins.list[int], builtins.list[dict[str, Any]]]:
        """The events a version saved now is built from, the flagged ones it leaves out, and the flagged
        labels kept under their old schema version (exclusion rule ``keep_old_version``)."""
        current = self._current_at(watermark)
        flags = self._log.flags()
        flags = flags[flags["excluded"]]
        flagged = set(flags["event_id"].astype(int))
        mine = current[current["example_id"].isin(set(ids))]
        out = mine["event_id"].isin(flagged)
        keep_old = set(flags.loc[flags["rule"] == "keep_old_version", "event_id"].astype(int))
        kept = current[current["event_id"].isin(keep_old)]
        kept_old = [{"event_id": int(r["event_id"]), "example_id": str(r["example_id"]), "question": str(r["question"]),
                     "value": str(r["value"]), "schema_version": str(r["schema_version"])}
                    for r in kept.to_dict("records")]
        return mine[~out], sorted(int(i) for i in mine.loc[out, "event_id"]), kept_old

    def _current_labels_valid(self, ids: pd.Index) -> bool:
        """Whether the labels current now for these examples are all answers of the current schema."""
        used, _, _ = self._labels_at(self._store.last_event_id(), ids)
        try:
            self._check_one_schema(used, self._schema.current)
        except LabelValidationError:
            return False
        return True

    @staticmethod
    def _check_one_schema(used: pd.DataFrame, schema: Schema) -> None:
        """Refuse to build a version from labels that are not valid answers under the current schema."""
        choices = {q.name: set(q.choices) for q in schema.questions}
        bad = used[[v not in choices.get(q, ()) for q, v in zip(used["question"], used["value"], strict=True)]]
        if bad.empty:
            return
        counts = bad.groupby(["question", "value", "schema_version"]).size()
        shown = ", ".join(f"{k[0]}={k[1]!r} (schema {k[2]}, {n} label(s))" for k, n in
                          zip(counts.index.tolist(), counts.tolist(), strict=True))
        raise LabelValidationError(
            f"This version would mix labels of two schemas: {len(bad)} current label(s) are not answers under the "
            f"current schema {schema.version}: {shown}. The schema changed without a migration; flag them (kept in "
            f"the history, queued for relabeling) with project.migrations.flag_invalid(), then save again."
        )

    def _metrics(self, soft: pd.DataFrame, gold: Any) -> dict[str, Any]:
        """Scores of the version against ``gold``, honestly: gold rows that the version itself took from
        gold are left out (they would score themselves), and gold rows the version does not cover
        are counted (``n_gold_uncovered``) and scored as wrong in ``accuracy_all``."""
        from workbench.models import evaluate, soft_label_columns

        schema = self._schema.current
        out: dict[str, Any] = {}
        from_gold = soft["sources"].astype(str).str.contains("gold") if "sources" in soft.columns else None
        for q in schema.questions:
            y_all = pd.Series(self._log.gold_labels(gold, q.name), index=self._data.index())
            y_all = y_all[y_all >= 0]
            if from_gold is not None:
                y_all = y_all.drop(index=[i for i in soft.index[from_gold.to_numpy()] if i in y_all.index])
            if y_all.empty:
                continue
            sub = soft[soft_label_columns(schema)[q.name]].dropna()
            covered = y_all.index.intersection(sub.index)
            entry: dict[str, Any] = {"n_gold": len(y_all), "n_gold_covered": len(covered),
                                     "n_gold_uncovered": len(y_all) - len(covered)}
            if len(covered):
                res = evaluate(y_all.reindex(covered).to_numpy(), sub.loc[covered].to_numpy(dtype=float),
                               random_state=0)
                entry.update({k: v for k, v in res.items() if isinstance(v, (int, float)) and k != "n_gold"})
                entry["accuracy_all"] = entry.get("accuracy", 0.0) * len(covered) / len(y_all)
            out[q.name] = entry
        return out

    # ------------------------------------------------------------------ reading
    def _check_labels_agree(self, soft: pd.DataFrame) -> None:
        """Refuse a frame whose label is not a most probable choice of its row (a hand edit gone wrong:
        the label a model trains on must agree with the probabilities it is weighted by)."""
        schema = self._schema.current
        try:  # the format's own rule for which columns hold each question's probabilities and label
            layout = resolve_layout([str(c) for c in soft.columns], {q.name: list(q.choices) for q in schema.questions})
        except DataError:
            return  # the store's own validation names what is missing
        for q in schema.questions:
            col, names = layout.label_columns[q.name], layout.prob_columns[q.name]
            P = soft[names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
            lab = soft[col].to_numpy(dtype=object)
            pos = np.array([q.choices.index(v) if isinstance(v, str) and v in q.choices else -1 for v in lab])
            rows = np.flatnonzero((pos >= 0) & ~np.isnan(P).all(axis=1))
            if not len(rows):
                continue
            top = np.nanmax(P[rows], axis=1)
            off = rows[P[rows, pos[rows]] < top - 1e-6]
            if len(off):
                k = int(off[0])
                raise LabelValidationError(
                    f"The {col!r} of {len(off)} row(s) is not a most probable choice of {q.name!r}, e.g. row "
                    f"{soft.index[k]!r}: {lab[k]!r} has probability {P[k, pos[k]]:.3g}, "
                    f"{q.choices[int(np.nanargmax(P[k]))]!r} has {np.nanmax(P[k]):.3g}. Set the label to the "
                    f"argmax of the probabilities, or fix the probabilities (project.models.soft_labels() does both)."
                )

    def list(self) -> pd.DataFrame:
        """Every saved label version with its lineage, metrics and the runs that used it."""
        return self.store.list()

    def load(self, name: str, *, verify: bool = True) -> pd.DataFrame:
        """A saved version's soft labels, sorted by id (hashes are checked unless ``verify=False``)."""
        df, manifest = self.store.load(name, verify=verify)
        df.attrs["manifest"] = manifest
        return df

    def manifest(self, name: str) -> dict[str, Any]:
        """A saved version's manifest (its full provenance)."""
        return self.store.load(name)[1]

    def label_model(self, version: str, question: str | None = None) -> LabelModel:
        """Rebuild the label model a version was made with, from its manifest alone (no pickle).

        Returns a fitted :class:`~workbench.models.LabelModel` that predicts like the original.
        """
        from workbench.models import LabelModel

        info = self.manifest(version).get("label_model")
        if not info:
            raise WorkbenchError(f"Label version {version!r} records no label model (its soft labels came from "
                                 f"humans or gold only).")
        learned = info["learned"]
        schema = self._schema.current
        if not schema.is_single:
            learned = learned[schema.question(question).name]
        return LabelModel.from_dict({"format": info["format"], "format_version": info["format_version"],
                                     "model": info["class"], "params": info["params"], "fitted": learned})

    def event_ids(self, version: str) -> builtins.list[int]:
        """The ids of the label events a version was built from (exactly those, nothing later)."""
        return [int(i) for i in self.events_of(version)["event_id"]]

    def events_of(self, version: str) -> pd.DataFrame:
        """The label events a version was built from, as ``example_id`` and ``event_id`` columns
        (the rows of :meth:`event_ids`, with the example each event labels)."""
        manifest = self.manifest(version)
        spec = manifest.get("events")
        if not isinstance(spec, Mapping) or "watermark" not in spec:
            raise WorkbenchError(
                f"Label version {version!r} was saved before versions recorded their label events; its exact "
                f"events are unknown. Save a new version to train with exact provenance."
            )
        current = self._current_at(int(spec["watermark"]))
        excluded = {int(i) for i in spec.get("excluded", [])}  # flagged labels left out when it was saved
        ids = set(self.store.load(version, verify=False)[0].index.astype(str))
        mine = current[current["example_id"].isin(ids) & ~current["event_id"].isin(excluded)]
        return pd.DataFrame({"example_id": mine["example_id"].astype(str).to_numpy(),
                             "event_id": mine["event_id"].astype(int).to_numpy()})

    def diff(self, a: str, b: str, *, question: str | None = None, tol: float = 1e-3) -> pd.DataFrame:
        """Which examples changed between two versions, and by how much (total variation distance).

        ``changed`` is True for added or removed examples, changed hard labels, and
        probability changes larger than ``tol`` (refits move every probability a little).
        """
        diff = self.store.diff(a, b, question=question)
        moved = diff["max_abs_change"].fillna(0.0).to_numpy() > tol
        diff["changed"] = (~diff["in_a"] | ~diff["in_b"] | diff["label_changed"].astype(bool)
                           | moved).to_numpy()
        diff.attrs["n_changed"] = int(diff["changed"].sum())
        diff.attrs["tol"] = tol
        if isinstance(diff.attrs.get("summary"), dict):
            diff.attrs["summary"] = {**diff.attrs["summary"], "n_changed": diff.attrs["n_changed"], "tol": tol}
        return diff

    def verify(self) -> pd.DataFrame:
        """Check every saved version's hashes; one row per version with ``ok`` and ``error``."""
        if not (self._root / LABELS_DIR).exists():
            return pd.DataFrame(columns=["name", "ok", "error"])
        return self.store.verify_all()

    # ------------------------------------------------------------------ training
    def training_data(
        self,
        version: str,
        features: pd.DataFrame | None = None,
        *,
        question: str | None = None,
        min_confidence: float = 0.0,
        soft: bool = False,
        y_format: str = "choice",
        run_name: str | None = None,
        params: dict[str, Any] | None = None,
        schema_version_feature: bool = False,
    ) -> tuple[Any, np.ndarray, np.ndarray]:
        """Training arrays ``(X, y, w)`` from a label version, and a recorded training run.

        Rows with no signal are left out; ``w`` is the per-row training weight (use it as
        ``sample_weight``); ``soft=True`` gives (n, k) probability targets instead of labels.
        The run is recorded (``run_name``, default ``"train-<version>"``) and linked to the
        version and to exactly the label events the version was built from.

        A version holds only labels valid under its schema version (labels a migration
        flagged are left out). ``schema_version_feature=True`` is the opt-in to mix schema
        versions: ``X`` becomes a DataFrame with a ``schema_version`` column (the version's own
        schema version for its rows), and the labels a migration kept under their old schema
        version (``plan.apply(exclude="keep_old_version")``, recorded in the version's manifest
        as ``old_schema_labels``) are added as rows with their old choice in ``y``, weight 1 and
        their old schema version in that column. Mixed rows need hard choice labels
        (``soft=False``, ``y_format="choice"``): the two schemas' choices differ.
        """
        if y_format not in ("choice", "index"):
            raise LabelValidationError(f"The 'y_format' parameter of training_data must be 'choice' or 'index'. "
                                       f"Got {y_format!r} instead.")
        if not isinstance(schema_version_feature, bool):
            raise LabelValidationError(f"The 'schema_version_feature' parameter of training_data must be True or "
                                       f"False. Got {schema_version_feature!r} instead.")
        X, y, w = self.store.training_data(
            version, features, question=question, min_confidence=min_confidence, soft=soft,
            y_format=y_format,  # type: ignore[arg-type]
        )
        event_ids = self.event_ids(version)
        if schema_version_feature:
            X, y, w, old_ids = self._with_old_schema_rows(version, X, y, w, features, question=question, soft=soft,
                                                          y_format=y_format)
            event_ids = [*event_ids, *old_ids]
        run = self.record_run(run_name or f"train-{version}", event_ids, label_version=version,
                              params={"n_rows": len(y), "soft": soft, "schema_version_feature": schema_version_feature,
                                      **(params or {})})
        self.store.mark_used(version, run.run_id)
        return X, y, w

    def _with_old_schema_rows(
        self, version: str, X: Any, y: np.ndarray, w: np.ndarray, features: pd.DataFrame | None, *,
        question: str | None, soft: bool, y_format: str,
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, builtins.list[int]]:
        """``X`` with a ``schema_version`` column, plus the rows of the labels kept under old schema versions."""
        manifest = self.manifest(version)
        questions = list(manifest.get("questions") or {})
        qname = question if question is not None else (questions[0] if len(questions) == 1 else None)
        sv = str(manifest.get("schema_version"))
        frame = X.copy() if isinstance(X, pd.DataFrame) else pd.DataFrame(index=pd.Index(X, name="id"))
        frame["schema_version"] = sv
        old = [r for r in manifest.get("old_schema_labels") or [] if r["question"] == qname]
        if not old:
            return frame, y, w, []
        if soft or y_format != "choice":
            raise LabelValidationError(
                f"Label version {version!r} keeps {len(old)} label(s) under an older schema version, whose choices "
                f"differ from {sv}'s: mixed rows need hard choice labels. Pass soft=False and y_format='choice' "
                f"with schema_version_feature=True (or leave schema_version_feature=False to train without them)."
            )
        if features is not None:
            F = features.set_index("id") if "id" in features.columns and features.index.name != "id" else features
            old = [r for r in old if r["example_id"] in F.index]
            extra = F.loc[[r["example_id"] for r in old]].copy()
        else:
            extra = pd.DataFrame(index=pd.Index([r["example_id"] for r in old], name="id"))
        extra["schema_version"] = [r["schema_version"] for r in old]
        X_all = pd.concat([frame, extra[frame.columns]])
        y_all = np.concatenate([np.asarray(y, dtype=object), np.array([r["value"] for r in old], dtype=object)])
        w_all = np.concatenate([np.asarray(w, dtype=np.float64), np.ones(len(old))])
        return X_all, y_all, w_all, [int(r["event_id"]) for r in old]

    def record_run(
        self,
        name: str,
        labels: pd.DataFrame | Sequence[int] | None = None,
        *,
        label_version: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> TrainingRun:
        """Link a training run to the exact label events it used.

        Parameters
        ----------
        name : str
            A name for the run (e.g. the experiment tracker's run name).
        labels : DataFrame with an ``event_id`` column, or sequence of event ids, optional
            The labels used; default: every current label.
        label_version : str, optional
            The soft-label version trained on, if any.
        params : mapping, optional
            JSON-serialisable details (model, hyperparameters, commit ...).
        """
        if not isinstance(name, str) or not name.strip():
            raise LabelValidationError(f"The 'name' parameter of record_run must be a non-empty string. Got "
                                       f"{name!r} instead.")
        if labels is None:
            ids = self._log.labels()["event_id"].tolist()
        elif isinstance(labels, pd.DataFrame):
            if "event_id" not in labels.columns:
                raise LabelValidationError(
                    "The labels passed to record_run need an 'event_id' column (as returned by "
                    "project.labels() or project.history())."
                )
            ids = labels["event_id"].tolist()
        else:
            ids = list(labels)
        bad = [i for i in ids if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer))]
        if bad:
            raise LabelValidationError(
                f"record_run takes label event ids (integers, the 'event_id' column of project.labels() or "
                f"history()). Got {len(bad)} other value(s), e.g. {bad[:3]!r}."
            )
        if label_version is not None and (not isinstance(label_version, str) or label_version not in self.store):
            raise LabelValidationError(
                f"The 'label_version' parameter of record_run must name a saved label version or be None. Got "
                f"{label_version!r}; saved versions: {self.store.names()!r}."
            )
        if params is not None and not isinstance(params, Mapping):
            raise LabelValidationError(
                f"The 'params' parameter of record_run must be a mapping of names to JSON values, e.g. "
                f"{{'model': 'logreg', 'C': 1.0}}, or None. Got {type(params).__name__} {params!r:.60}."
            )
        try:
            json.dumps(dict(params or {}))
        except (TypeError, ValueError) as exc:
            raise LabelValidationError(f"The params of a training run must be JSON-serialisable: {exc}.") from None
        run = TrainingRun(
            run_id="run-" + uuid.uuid4().hex[:12], name=name, created_at=utc_now(), label_version=label_version,
            params=dict(params or {}), n_events=len(ids),
        )
        run = self._store.add_training_run(run, [int(i) for i in ids])
        self._emitter.emit("training_run_recorded", run=run)
        return run

    def runs(self) -> pd.DataFrame:
        """Every recorded training run, oldest first."""
        return pd.DataFrame(
            [r.__dict__ for r in self._store.training_runs()],
            columns=["run_id", "name", "created_at", "label_version", "params", "n_events"],
        )
