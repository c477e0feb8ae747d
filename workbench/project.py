"""The :class:`Project` facade: the project's core (data, schema, event log) and its namespaces."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from workbench._events import EventEmitter, Subscription
from workbench._moved import MOVED
from workbench._version import __version__
from workbench.annotation import ProjectAnnotation
from workbench.data import DATA_DIR, DEFAULT_HASH_SCHEME, INGEST_LOCK, DataCatalog
from workbench.exceptions import (
    IntegrityError,
    LabelValidationError,
    ProjectExistsError,
    ProjectNotFoundError,
    SchemaError,
    StoreCorruptedError,
)
from workbench.feedback import ProjectFeedback
from workbench.lf import ProjectLFs
from workbench.lf._project import LF_CACHE_DIR
from workbench.log import LabelLog
from workbench.migrations import ProjectMigrations
from workbench.models import ProjectModels
from workbench.quality import ProjectQuality
from workbench.schema import Schema, SchemaRegistry
from workbench.store import DataVersion, EventStore, LabelEvent, SQLiteStore, utc_now
from workbench.versions import LABELS_DIR, ProjectVersions

__all__ = ["NAMESPACES", "PROJECT_EVENTS", "Project"]

MARKER_FILE = "workbench.json"
DB_FILE = "project.db"
PROJECT_FORMAT = "workbench-project"
PROJECT_LAYOUT = 1

#: Events a project announces; subscribe with :meth:`Project.on`.
PROJECT_EVENTS: tuple[str, ...] = (
    "data_added",
    "labels_added",
    "schema_changed",
    "guidelines_changed",
    "training_run_recorded",
    "lfs_changed",
    "lfs_applied",
    "label_version_saved",
)

#: The capability namespaces of a project, each an object from its own package.
NAMESPACES: tuple[str, ...] = ("lfs", "models", "versions", "annotation", "quality", "feedback", "migrations")


class Project:
    """A labeling project on disk: examples, schema versions and an append-only label log.

    The core lives here (data, schema and guidelines, gold, the event log, subscriptions);
    each capability is a namespace from its own package:

    ======================  =======================================  ===============================================
    namespace               what                                     class
    ======================  =======================================  ===============================================
    ``project.lfs``         labeling functions, votes, LF analysis   :class:`workbench.lf.ProjectLFs`
    ``project.models``      label models, comparisons, soft labels   :class:`workbench.models.ProjectModels`
    ``project.versions``    immutable label versions, training runs  :class:`workbench.versions.ProjectVersions`
    ``project.annotation``  queues, leases, honeypots, drafts, undo  :class:`workbench.annotation.ProjectAnnotation`
    ``project.quality``     consensus, agreement, annotators, drift  :class:`workbench.quality.ProjectQuality`
    ``project.feedback``    production signals, prediction logs      :class:`workbench.feedback.ProjectFeedback`
    ``project.migrations``  schema/guideline changes, relabel queue  :class:`workbench.migrations.ProjectMigrations`
    ======================  =======================================  ===============================================

    Create one with :meth:`create`, reopen it with :meth:`open`. Several processes (a team's
    kernels) may open and write the same project at once.

    Examples
    --------
    >>> import tempfile, pandas as pd, workbench as wb
    >>> tmp = tempfile.mkdtemp()
    >>> project = wb.Project.create(tmp + "/spam", schema=wb.Schema.single("spam", ["ham", "spam"]))
    >>> _ = project.add_data(pd.DataFrame({"id": ["c-1"], "text": ["subscribe!"]}), id_column="id")
    >>> _ = project.annotate("c-1", "spam", annotator="bob")
    >>> project.history("c-1")[["question", "value", "annotator"]].values.tolist()
    [['spam', 'spam', 'bob']]
    >>> project.lfs, project.quality  # doctest: +ELLIPSIS
    (<project.lfs: 0 labeling function(s): none>, <project.quality: ...>)
    """

    lfs: ProjectLFs
    """Labeling functions to register, apply (cached) and analyse (:class:`workbench.lf.ProjectLFs`)."""
    models: ProjectModels
    """Label models and soft labels (:class:`workbench.models.ProjectModels`)."""
    versions: ProjectVersions
    """Immutable label versions and training runs (:class:`workbench.versions.ProjectVersions`)."""
    annotation: ProjectAnnotation
    """Serving items to annotators (:class:`workbench.annotation.ProjectAnnotation`)."""
    quality: ProjectQuality
    """Consensus, agreement, annotator quality (:class:`workbench.quality.ProjectQuality`)."""
    feedback: ProjectFeedback
    """Production signals as labels, weak sources and review items (:class:`workbench.feedback.ProjectFeedback`)."""
    migrations: ProjectMigrations
    """Schema and guideline migrations, flags, the relabel queue (:class:`workbench.migrations.ProjectMigrations`)."""

    def __init__(self, path: Path, store: EventStore, *, _token: object = None) -> None:
        if _token is not _PRIVATE:
            raise TypeError("Use Project.create(path, schema=...) or Project.open(path) to get a Project.")
        self.path = path
        self._store = store
        self._emitter = EventEmitter(PROJECT_EVENTS)
        self._schema = SchemaRegistry(store, self._emitter)
        self._data = DataCatalog(path, store, self._emitter)
        self._log = LabelLog(store, self._schema, self._data, self._emitter)
        self.lfs = ProjectLFs(path, store, self._schema, self._data, self._log, self._emitter)
        self.quality = ProjectQuality(store, self._schema, self._log)
        self.models = ProjectModels(self._schema, self._data, self._log, self.lfs, self.quality)
        self.annotation = ProjectAnnotation(store, self._schema, self._data, self._log, self.lfs, self.models,
                                            self.quality)
        self.versions = ProjectVersions(path, store, self._schema, self._data, self._log, self.lfs, self.models,
                                        self._emitter)
        self.feedback = ProjectFeedback(store, self._schema, self._data, self._log, self.lfs, self.annotation)
        self.migrations = ProjectMigrations(store, self._schema, self._log, self.lfs)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: point users of the first, flat API to the new home.
        if name in MOVED:
            raise AttributeError(
                f"'Project' has no attribute {name!r}: it moved to {MOVED[name]}.", name=name, obj=self
            )
        raise AttributeError(f"'Project' object has no attribute {name!r}", name=name, obj=self)

    # ------------------------------------------------------------------ creating / opening
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        schema: Schema,
        *,
        text_column: str | None = "text",
        image_column: str | None = None,
        exist_ok: bool = False,
    ) -> Project:
        """Create a new project directory.

        Parameters
        ----------
        path : path-like
            A directory that does not exist yet, or is empty.
        schema : Schema
            The labeling schema (questions and guidelines); its versions are recorded.
        text_column, image_column : str, optional
            The data column annotators read (text) or look at (an image path).
        exist_ok : bool, default False
            If a project already exists at ``path``, open it instead of failing; its schema
            must then equal ``schema``.
        """
        if not isinstance(schema, Schema):
            raise SchemaError(
                f"The 'schema' parameter of Project.create must be a wb.Schema. Got {type(schema).__name__} "
                f"instead; build one with wb.Schema(...) or wb.Schema.single(name, choices)."
            )
        p = Path(path)
        if (p / MARKER_FILE).exists():
            if not exist_ok:
                raise ProjectExistsError(
                    f"A project already exists at {str(p)!r}. Open it with wb.Project.open(path), or pass "
                    f"exist_ok=True."
                )
            project = cls.open(p)
            stored = project._data.text_column
            if text_column not in ("text", stored):  # a text column other than the default, and not the stored one
                project.close()
                raise ProjectExistsError(
                    f"The project at {str(p)!r} reads its text from column {stored!r}, not {text_column!r}; "
                    f"exist_ok=True opens it as it is. Rename the data's column to {stored!r}, or create the "
                    f"project at another path."
                )
            if project.schema.version != schema.version:
                have = project.schema_version
                project.close()
                raise SchemaError(
                    f"The project at {str(p)!r} has schema version {have}, not "
                    f"{schema.version}. Use project.update_schema(schema) to change it deliberately."
                )
            if project.guideline_version != schema.guideline_version:
                have = project.guideline_version
                project.close()
                raise SchemaError(
                    f"The project at {str(p)!r} has guideline version {have}, not {schema.guideline_version} (the "
                    f"guidelines given differ from the stored ones). Open it with wb.Project.open(path) and call "
                    f"project.update_schema(schema) to record the new guidelines deliberately."
                )
            return project
        if p.exists() and (not p.is_dir() or any(p.iterdir())):
            raise ProjectExistsError(
                f"{str(p)!r} exists and is not an empty directory; choose a new path for the project."
            )
        p.mkdir(parents=True, exist_ok=True)
        (p / DATA_DIR).mkdir(exist_ok=True)
        store = SQLiteStore(p / DB_FILE, create=True)
        now = utc_now()
        SchemaRegistry(store, EventEmitter(())).record_initial(schema)
        store.set_meta("text_column", text_column)
        store.set_meta("image_column", image_column)
        store.set_meta("created_at", now)
        store.set_meta("row_hash_scheme", DEFAULT_HASH_SCHEME)  # round trips through CSV/JSONL/Parquet hash the same
        marker = {
            "format": PROJECT_FORMAT,
            "layout": PROJECT_LAYOUT,
            "created_at": now,
            "created_with": __version__,
            "database": DB_FILE,
        }
        tmp = p / (MARKER_FILE + ".tmp")
        tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, p / MARKER_FILE)  # the marker last: a half-made project is not a project
        return cls(p, store, _token=_PRIVATE)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Project:
        """Open an existing project directory (made by :meth:`create`)."""
        p = Path(path)
        if not p.exists():
            raise ProjectNotFoundError(
                f"There is no project at {str(p)!r}. Create one with wb.Project.create(path, schema=...)."
            )
        marker_path = p / MARKER_FILE
        if not marker_path.is_file():
            raise ProjectNotFoundError(
                f"{str(p)!r} is not a workbench project: it has no {MARKER_FILE}. Open the project's own "
                f"directory, or create one with wb.Project.create(path, schema=...)."
            )
        try:
            marker = json.loads(marker_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StoreCorruptedError(
                f"{str(marker_path)!r} is damaged ({exc}); it should be a small JSON file written by the workbench."
            ) from None
        if not isinstance(marker, dict) or marker.get("format") != PROJECT_FORMAT:
            raise StoreCorruptedError(
                f"{str(marker_path)!r} is not a workbench project marker (format={marker.get('format')!r} "
                f"where {PROJECT_FORMAT!r} was expected)." if isinstance(marker, dict) else
                f"{str(marker_path)!r} is not a workbench project marker."
            )
        if int(marker.get("layout", 0)) > PROJECT_LAYOUT:
            raise StoreCorruptedError(
                f"The project at {str(p)!r} uses layout {marker.get('layout')}, newer than this workbench "
                f"({__version__}) reads. Upgrade the package."
            )
        db = p / DB_FILE
        if not db.is_file():
            raise StoreCorruptedError(
                f"The project at {str(p)!r} has lost its database {DB_FILE!r}. Restore it from a backup."
            )
        store = SQLiteStore(db)
        project = cls(p, store, _token=_PRIVATE)
        _ = project.schema  # fail now, clearly, if the schema records are damaged
        # roll interrupted label-version saves forward or back; remove orphaned temporary files
        project.versions.store.recover(data_dir=p / DATA_DIR)
        return project

    def close(self) -> None:
        """Close the database connection (the project can be reopened with :meth:`open`)."""
        self._store.close()

    def delete(self) -> None:
        """Remove the whole project directory (asks nothing: use with care)."""
        self.close()
        shutil.rmtree(self.path)

    def verify(self) -> dict[str, Any]:
        """Check everything the project stores; raises :class:`IntegrityError` on the first class of problem.

        The database (SQLite's ``integrity_check``, the hash chain of label events, duplicated
        example ids, each data file holding exactly its recorded ids), every data file's rows
        against their recorded hashes, every label version's hashes (and interrupted saves or
        unknown entries under ``labels/``), the LF vote cache, and files in the project
        directory that the project does not know.
        """
        store = self._store.verify(project_dir=self.path)
        checked = self._data.verify()
        check: dict[str, Any] = self.versions.store.check() if (self.path / LABELS_DIR).exists() else {
            "ok": True, "versions": pd.DataFrame(columns=["name", "ok", "error"]), "interrupted": [], "unknown": []}
        versions: pd.DataFrame = check["versions"]
        if len(versions) and not versions["ok"].astype(bool).all():
            failed = versions[~versions["ok"].astype(bool)]
            raise IntegrityError(
                "Label version(s) fail verification: "
                + "; ".join(f"{n}: {e}" for n, e in zip(failed["name"], failed["error"], strict=True))
            )
        if check.get("interrupted"):
            raise IntegrityError(f"Interrupted label-version saves: {check['interrupted']}. Reopen the project "
                                 f"(wb.Project.open) to roll them forward or back.")
        cache = self.lfs.verify_cache()
        if not cache.ok:
            raise IntegrityError(
                f"{len(cache.problems)} file(s) of the LF vote cache are bad, e.g. {cache.problems[0].path}: "
                f"{cache.problems[0].problem}. Run project.lfs.verify_cache(repair=True) to delete them (they "
                f"are recomputed on the next apply)."
            )
        unknown = [*check.get("unknown", []), *self._unknown_files()]
        return {"examples_checked": checked, "events": store.n_events, "chain_head": store.chain_head,
                "label_versions": len(versions), "lf_cache_entries": cache.checked, "unknown_files": unknown}

    def _unknown_files(self) -> list[str]:
        """Entries of the project directory that are not the project's own (listed, never adopted)."""
        known = {MARKER_FILE, DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm", DB_FILE + "-journal", DATA_DIR,
                 LABELS_DIR, LF_CACHE_DIR, INGEST_LOCK, "cache", "auth"}  # the learner's feature cache; accounts
        out = [e.name for e in sorted(self.path.iterdir()) if e.name not in known]
        files = {str(f) for f in self._data.versions()["file"]}
        data = self.path / DATA_DIR
        if data.is_dir():
            out += [f"{DATA_DIR}/{e.name}" for e in sorted(data.iterdir()) if f"{DATA_DIR}/{e.name}" not in files]
        return out

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if getattr(self._store, "closed", False):
            return f"Project({str(self.path)!r}, closed)"
        return (
            f"Project({str(self.path)!r}, schema={self.schema.name!r}, schema_version={self.schema_version!r}, "
            f"examples={self._store.n_examples()}, events={self._store.n_events()})"
        )

    def __len__(self) -> int:
        return len(self._data)

    # ------------------------------------------------------------------ subscriptions
    def on(self, event: str, callback: Callable[..., Any]) -> Subscription:
        """Call ``callback(**payload)`` whenever ``event`` happens; returns an undoable handle.

        Events: ``data_added(version)``, ``labels_added(events)``, ``schema_changed(version)``,
        ``guidelines_changed(version)``, ``training_run_recorded(run)``, ``lfs_changed(name,
        action)``, ``lfs_applied(result)`` and ``label_version_saved(version)``.
        """
        return self._emitter.connect(event, callback)

    def n_listeners(self, event: str | None = None) -> int:
        """How many callbacks are subscribed (to one event, or to all): a closed widget leaves none."""
        return self._emitter.n_listeners(event)

    # ------------------------------------------------------------------ schema and guidelines
    @property
    def schema(self) -> Schema:
        """The current schema, with the current guidelines."""
        return self._schema.current

    @property
    def schema_version(self) -> str:
        """The schema version new labels are recorded under."""
        return self._schema.version

    @property
    def guideline_version(self) -> str:
        """The guideline version new labels are recorded under."""
        return self._schema.guideline_version

    def update_schema(self, schema: Schema) -> str:
        """Make ``schema`` the current schema (and its guidelines, if it has any).

        Old labels keep the versions they were made under; nothing is rewritten. Returns
        the new schema version. A change that would leave current labels invalid (a used
        choice removed, renamed, merged or split; a condition that no longer holds) raises
        :class:`SchemaError` and points to ``project.migrations.plan(schema)``.
        """
        self.migrations.check_update(schema)
        return self._schema.update(schema)

    def update_guidelines(self, guidelines: str | os.PathLike[str]) -> str:
        """Record new guidelines (text or a file path) and make them current; returns their version."""
        return self._schema.update_guidelines(guidelines)

    def schema_versions(self) -> pd.DataFrame:
        """Every schema version this project has had, oldest first."""
        return self._schema.versions()

    def guideline_versions(self) -> pd.DataFrame:
        """Every guideline version with its full text, oldest first."""
        return self._schema.guideline_versions()

    @property
    def text_column(self) -> str | None:
        """The data column annotators read."""
        return self._data.text_column

    @property
    def image_column(self) -> str | None:
        """The data column holding image paths, if any."""
        return self._data.image_column

    # ------------------------------------------------------------------ data
    def add_data(
        self,
        source: pd.DataFrame | str | os.PathLike[str],
        id_column: str | None = None,
        *,
        message: str = "",
        encoding: str = "utf-8",
        errors: str = "strict",
        image_root: str | os.PathLike[str] | None = None,
    ) -> DataVersion:
        """Add a batch of examples as a new immutable data version.

        Parameters
        ----------
        source : DataFrame or path-like
            A DataFrame, or a CSV, TSV, Parquet, JSON Lines or JSON file.
        id_column : str, optional
            The column holding example ids (strings or integers). Without it, each id is
            derived from the row's content (``"ex-"`` + 16 hex digits), stable across runs.
        message : str
            Why this batch was added (recorded with the version).
        encoding, errors : str
            How to decode text files; see :func:`workbench.data.read_table`.
        image_root : path-like, optional
            Folder that the image paths are relative to; image files must exist.

        Returns
        -------
        DataVersion
            The new version (``n_rows`` new examples; ``n_existing`` already-stored rows with
            identical content are skipped). When every row is stored already, no version is
            made, and the newest version holding some of them is returned.

        Raises
        ------
        DuplicateIdError
            An id occurs twice within the batch.
        ConflictingContentError
            An id already stored reappears with different content. Nothing is written.
        """
        return self._data.add(source, id_column, message=message, encoding=encoding, errors=errors,
                              image_root=image_root)

    def data_versions(self) -> pd.DataFrame:
        """Every data version, oldest first, as a table."""
        return self._data.versions()

    def examples(self, data_version: str | None = None) -> pd.DataFrame:
        """All examples as one DataFrame indexed by id (``data_version`` selects one batch).

        The frame is a copy: changing it changes nothing stored.
        """
        return self._data.examples(data_version)

    def example(self, example_id: str) -> pd.Series:
        """One example's data (a copy)."""
        return self._data.example(example_id)

    # ------------------------------------------------------------------ gold
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
        Rows without a label (a blank cell) are left out; an id given twice with two different
        labels is refused, and nothing is written.
        """
        return self._log.add_gold(gold, id_column, label_column, annotator=annotator, question=question)

    def gold(self, question: str | None = None) -> pd.Series:
        """Current gold labels (choices) indexed by example id."""
        return self._log.gold(question)

    # ------------------------------------------------------------------ the event log
    def annotate(
        self,
        example_id: str,
        value: str | Mapping[str, str],
        *,
        annotator: str,
        source: str = "human",
        confidence: float | None = None,
        time_spent: float | None = None,
        is_honeypot: bool = False,
        note: str | None = None,
        event_uid: str | None = None,
    ) -> list[LabelEvent]:
        """Record one annotation: a choice, or a dict of question -> choice.

        The label is validated against the schema (choices and conditions) before anything
        is written; all its answers are written in one transaction. A new answer by the same
        annotator and source to the same question supersedes the earlier one (both stay in
        :meth:`history`). Answers to follow-up questions whose condition no longer holds are
        retracted, through chains of conditions.

        Parameters
        ----------
        example_id : str
            The example's id.
        value : str or dict
            A bare choice (single-question schemas), or ``{question: choice, ...}``.
        annotator : str
            Who (or which LF, model ...) made the label.
        source : str, default "human"
            One of ``human``, ``lf``, ``model``, ``consensus``, ``adjudication``, ``feedback``, ``gold``.
        confidence : float, optional
            Confidence in [0, 1].
        time_spent : float, optional
            Seconds spent on the item (finite, >= 0).
        is_honeypot : bool, default False
            Whether the item was served as a hidden gold item.
        note : str, optional
            Free text kept with the event.
        event_uid : str, optional
            An idempotency key: retrying a write with the same key stores it once.

        Returns
        -------
        list of LabelEvent
            The stored events, with their ``event_id``.
        """
        return self._log.annotate(
            example_id, value, annotator=annotator, source=source, confidence=confidence, time_spent=time_spent,
            is_honeypot=is_honeypot, note=note, event_uid=event_uid,
        )

    def annotate_many(self, records: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[LabelEvent]:
        """Record many annotations in one transaction (all or nothing).

        ``records`` has the columns (or keys) ``example_id``, ``value`` and ``annotator``, and
        optionally ``source``, ``confidence``, ``time_spent``, ``is_honeypot``, ``note``,
        ``created_at`` (ISO-8601 string or timestamp, for imported labels; without a timezone
        it is read as UTC) and ``event_uid``. Every row is validated before anything is written.

        Rows are recorded oldest first by ``created_at``, so an annotator's newest answer is the
        current one, also across calls: an answer older than the current one (an import or a
        backfill) goes into the history, and the newer answer is restated after it
        (append-only; the same backfill again writes nothing).
        """
        return self._log.annotate_many(records)

    def retract(
        self, example_id: str, question: str | None = None, *, annotator: str, source: str = "human",
        note: str | None = None,
    ) -> LabelEvent:
        """Withdraw an annotator's current answer (an appended ``retract`` event; nothing is deleted).

        Follow-up answers whose condition needed it are retracted too. Returns the retraction.
        """
        return self._log.retract(example_id, question, annotator=annotator, source=source, note=note)

    def history(self, example_id: str) -> pd.DataFrame:
        """Every event for one example, oldest first, including superseded ones.

        Columns: the provenance fields of :class:`~workbench.store.LabelEvent`, plus
        ``superseded_by`` (the event that replaced it, if any) and ``training_runs`` (ids of
        the training runs that used it).
        """
        return self._log.history(example_id)

    def labels(
        self,
        *,
        question: str | None = None,
        source: str | None = None,
        annotator: str | None = None,
    ) -> pd.DataFrame:
        """The current labels: the latest non-retracted answer per example, question, source and annotator.

        ``source`` must be one of :data:`workbench.LABEL_SOURCES` and ``question`` a question of
        the current schema (a misspelt one is an error, not an empty frame).
        """
        from workbench._constants import LABEL_SOURCES

        if source is not None and source not in LABEL_SOURCES:
            raise LabelValidationError(f"The 'source' parameter of Project.labels must be one of "
                                       f"{list(LABEL_SOURCES)!r} or None. Got {source!r} instead.")
        names = self.schema.question_names
        if question is not None and question not in names:
            raise LabelValidationError(f"The 'question' parameter of Project.labels must be a question of the "
                                       f"schema, one of {list(names)!r}, or None. Got {question!r} instead.")
        return self._log.labels(question=question, source=source, annotator=annotator)

    def events(self) -> pd.DataFrame:
        """The whole event log, oldest first (superseded and retracted events included)."""
        return self._log.events()


_PRIVATE = object()
