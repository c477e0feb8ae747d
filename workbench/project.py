"""The :class:`Project` facade a notebook talks to: data + schema + store (+ LFs and models)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from workbench._constants import LABEL_SOURCES
from workbench._events import EventEmitter, Subscription
from workbench._project_annotation import AnnotationMixin
from workbench._project_lf import LFMixin
from workbench._project_models import ModelsMixin
from workbench._project_versions import VersionsMixin
from workbench._version import __version__
from workbench.data import ID_COLUMN, prepare_batch, read_table
from workbench.exceptions import (
    ConflictingContentError,
    DataError,
    LabelValidationError,
    ProjectExistsError,
    ProjectNotFoundError,
    SchemaError,
    StoreCorruptedError,
    UnknownExampleError,
)
from workbench.schema import Schema
from workbench.store import DataVersion, EventStore, LabelEvent, SQLiteStore, TrainingRun, utc_now

__all__ = ["Project", "PROJECT_EVENTS"]

_log = logging.getLogger(__name__)

MARKER_FILE = "workbench.json"
DB_FILE = "project.db"
DATA_DIR = "data"
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


def _check_str(name: str, value: object, func: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LabelValidationError(
            f"The '{name}' parameter of {func} must be a non-empty string. Got {value!r} instead."
        )
    return value


class Project(LFMixin, ModelsMixin, VersionsMixin, AnnotationMixin):
    """A labeling project on disk: examples, schema versions and an append-only label log.

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
    """

    def __init__(self, path: Path, store: EventStore, *, _token: object = None) -> None:
        if _token is not _PRIVATE:
            raise TypeError("Use Project.create(path, schema=...) or Project.open(path) to get a Project.")
        self.path = path
        self._store = store
        self._events = EventEmitter(PROJECT_EVENTS)
        self._frame_cache: tuple[tuple[str, ...], pd.DataFrame] | None = None
        self._schema_cache: tuple[str, str, Schema] | None = None
        self._extensions: dict[str, Any] = {}
        self._batch_cache: dict[str, pd.DataFrame] = {}

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
            if project.schema.version != schema.version:
                raise SchemaError(
                    f"The project at {str(p)!r} has schema version {project.schema_version}, not "
                    f"{schema.version}. Use project.update_schema(schema) to change it deliberately."
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
        store.add_schema_version(schema.version, schema.to_dict(), now)
        store.add_guideline_version(schema.guideline_version, schema.guidelines, now)
        store.set_meta("schema_version", schema.version)
        store.set_meta("guideline_version", schema.guideline_version)
        store.set_meta("text_column", text_column)
        store.set_meta("image_column", image_column)
        store.set_meta("created_at", now)
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
        return project

    def close(self) -> None:
        """Close the database connection (the project can be reopened with :meth:`open`)."""
        self._store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Project({str(self.path)!r}, schema={self.schema.name!r}, schema_version={self.schema_version!r}, "
            f"examples={self._store.n_examples()}, events={self._store.n_events()})"
        )

    # ------------------------------------------------------------------ events
    def on(self, event: str, callback: Callable[..., Any]) -> Subscription:
        """Call ``callback(**payload)`` whenever ``event`` happens; returns an undoable handle.

        Events: ``data_added(version)``, ``labels_added(events)``, ``schema_changed(version)``,
        ``guidelines_changed(version)``, ``training_run_recorded(run)`` and, from the LF and
        model layers, ``lfs_changed``, ``lfs_applied``, ``label_version_saved``.
        """
        return self._events.connect(event, callback)

    @property
    def events(self) -> EventEmitter:
        """The project's event emitter (for widgets and extensions)."""
        return self._events

    @property
    def store(self) -> EventStore:
        """The store interface behind the project (for extensions; prefer the project's methods)."""
        return self._store

    # ------------------------------------------------------------------ schema and guidelines
    @property
    def schema_version(self) -> str:
        """The schema version new labels are recorded under."""
        return str(self._store.get_meta("schema_version"))

    @property
    def guideline_version(self) -> str:
        """The guideline version new labels are recorded under."""
        return str(self._store.get_meta("guideline_version"))

    @property
    def schema(self) -> Schema:
        """The current schema, with the current guidelines."""
        sv, gv = self.schema_version, self.guideline_version
        if self._schema_cache is not None and self._schema_cache[:2] == (sv, gv):
            return self._schema_cache[2]
        versions = self._store.schema_versions()
        row = versions[versions["version"] == sv]
        gl = self._store.guideline_versions()
        grow = gl[gl["version"] == gv]
        if row.empty or grow.empty:
            raise StoreCorruptedError(
                f"The project at {str(self.path)!r} names schema {sv!r} / guidelines {gv!r}, but their records "
                f"are missing from the database."
            )
        text = grow["text"].iloc[0]
        schema = Schema.from_dict(row["schema"].iloc[0], guidelines=text if isinstance(text, str) else None)
        if schema.version != sv:
            raise StoreCorruptedError(f"The stored schema record {sv!r} no longer matches its hash.")
        self._schema_cache = (sv, gv, schema)
        return schema

    def update_schema(self, schema: Schema) -> str:
        """Make ``schema`` the current schema (and its guidelines, if it has any).

        Old labels keep the versions they were made under; nothing is rewritten. Returns
        the new schema version.
        """
        if not isinstance(schema, Schema):
            raise SchemaError(f"update_schema takes a wb.Schema. Got {type(schema).__name__}.")
        now = utc_now()
        self._store.add_schema_version(schema.version, schema.to_dict(), now)
        changed = schema.version != self.schema_version
        self._store.set_meta("schema_version", schema.version)
        if schema.guidelines is not None:
            self.update_guidelines(schema.guidelines)
        if changed:
            self._events.emit("schema_changed", version=schema.version)
        return schema.version

    def update_guidelines(self, guidelines: str | os.PathLike[str]) -> str:
        """Record new guidelines (text or a file path) and make them current; returns their version."""
        schema = self.schema.with_guidelines(guidelines)
        gv = schema.guideline_version
        self._store.add_guideline_version(gv, schema.guidelines, utc_now())
        changed = gv != self.guideline_version
        self._store.set_meta("guideline_version", gv)
        if changed:
            self._events.emit("guidelines_changed", version=gv)
        return gv

    def schema_versions(self) -> pd.DataFrame:
        """Every schema version this project has had, oldest first."""
        return self._store.schema_versions()

    def guideline_versions(self) -> pd.DataFrame:
        """Every guideline version with its full text, oldest first."""
        return self._store.guideline_versions()

    @property
    def text_column(self) -> str | None:
        """The data column annotators read."""
        value = self._store.get_meta("text_column")
        return None if value is None else str(value)

    @property
    def image_column(self) -> str | None:
        """The data column holding image paths, if any."""
        value = self._store.get_meta("image_column")
        return None if value is None else str(value)

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
            Folder that the image paths are relative to (default: the project's parent
            directory's working directory); image files must exist.

        Returns
        -------
        DataVersion
            The new version (``n_rows`` new examples; ``n_existing`` already-stored rows with
            identical content are skipped).

        Raises
        ------
        DuplicateIdError
            An id occurs twice within the batch.
        ConflictingContentError
            An id already stored reappears with different content. Nothing is written.
        """
        frame = read_table(source, encoding=encoding, errors=errors)
        batch = prepare_batch(
            frame,
            id_column,
            text_column=self.text_column if self.text_column in frame.columns else None,
            image_column=self.image_column,
            image_root=Path(image_root) if image_root is not None else None,
        )
        if self.text_column is not None and self.text_column not in batch.frame.columns:
            raise DataError(
                f"The project reads its text from column {self.text_column!r}, which this data lacks. Columns: "
                f"{list(batch.frame.columns)!r}. Rename the column, or create the project with "
                f"text_column=<your column>."
            )
        existing = self._store.stored_hashes(batch.ids)
        conflicts = [i for i, h in zip(batch.ids, batch.hashes, strict=True) if i in existing and existing[i] != h]
        if conflicts:  # checked before the Parquet file is written; the store checks again atomically
            raise ConflictingContentError.for_ids(conflicts)
        new_mask = [i not in existing for i in batch.ids]
        new_frame = batch.frame[new_mask]
        rel = f"{DATA_DIR}/{batch.content_hash[:24]}.parquet"
        if len(new_frame):
            target = self.path / rel
            if not target.exists():
                tmp = target.with_suffix(f".{uuid.uuid4().hex}.tmp")
                new_frame.to_parquet(tmp, index=True)
                os.replace(tmp, target)  # atomic: the file is complete or absent
        else:
            _log.info("All %d rows are already in the project; no new data version.", len(batch.ids))
            versions = self._store.data_versions()
            where = self._store.example_data_versions(batch.ids[:1])
            return next(v for v in versions if v.version == where[batch.ids[0]])
        record = DataVersion(
            version="",
            content_hash=batch.content_hash,
            n_rows=len(new_frame),
            n_existing=len(batch.ids) - len(new_frame),
            columns=tuple(str(c) for c in batch.frame.columns),
            created_at=utc_now(),
            source=str(source) if not isinstance(source, pd.DataFrame) else "DataFrame",
            message=message,
            file=rel,
        )
        version = self._store.add_data_version(record, list(new_frame.index),
                                               [h for h, m in zip(batch.hashes, new_mask, strict=True) if m])
        self._frame_cache = None
        self._events.emit("data_added", version=version)
        return version

    def data_versions(self) -> pd.DataFrame:
        """Every data version, oldest first, as a table."""
        rows = [v.__dict__ for v in self._store.data_versions()]
        return pd.DataFrame(
            rows, columns=["version", "content_hash", "n_rows", "n_existing", "columns", "created_at", "source",
                           "message", "file"]
        )

    def _batches(self) -> list[tuple[DataVersion, pd.DataFrame]]:
        out = []
        for v in self._store.data_versions():
            if v.n_rows == 0:
                continue
            out.append((v, self._read_batch(v)))
        return out

    def _read_batch(self, v: DataVersion) -> pd.DataFrame:
        cached = self._batch_cache.get(v.version)
        if cached is not None:  # data versions are immutable: a read is good forever
            return cached
        path = self.path / v.file
        if not path.is_file():
            raise StoreCorruptedError(
                f"Data version {v.version} is recorded but its file {v.file!r} is missing from {str(self.path)!r}. "
                f"Restore the file from a backup."
            )
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several unrelated types for damaged files
            raise StoreCorruptedError(
                f"The data file {v.file!r} of version {v.version} cannot be read ({type(exc).__name__}: {exc}). "
                f"It is damaged; restore it from a backup."
            ) from None
        if len(df) < v.n_rows or df.index.name != ID_COLUMN:
            raise StoreCorruptedError(
                f"The data file {v.file!r} of version {v.version} does not hold the {v.n_rows} rows recorded for it."
            )
        self._batch_cache[v.version] = df
        return df

    def data_batches(self) -> list[tuple[str, pd.DataFrame]]:
        """The examples batch by batch: ``[(data_version, frame), ...]``, oldest first."""
        return [(v.version, df) for v, df in self._batches()]

    def examples(self, data_version: str | None = None) -> pd.DataFrame:
        """All examples as one DataFrame indexed by id (``data_version`` selects one batch).

        The frame is a copy: changing it changes nothing stored.
        """
        frame = self._examples_frame()
        if data_version is not None:
            versions = self._frame_cache[0] if self._frame_cache is not None else ()
            if data_version not in versions:
                raise DataError(f"Unknown data version {data_version!r}. Known: {list(versions)!r}.")
            frame = frame[frame["data_version"] == data_version]
        return frame.copy()

    def _examples_frame(self) -> pd.DataFrame:
        """The cached examples frame itself (no copy: internal, read-only use)."""
        versions = tuple(v.version for v in self._store.data_versions())
        if self._frame_cache is None or self._frame_cache[0] != versions:
            batches = self._batches()
            frames = [df for _, df in batches]
            if frames:
                frame = pd.concat(frames, axis=0, sort=False)
                frame["data_version"] = [v.version for v, df in batches for _ in range(len(df))]
            else:
                frame = pd.DataFrame(index=pd.Index([], name=ID_COLUMN, dtype=object))
                frame["data_version"] = pd.Series(dtype=object)
            frame.index.name = ID_COLUMN
            self._frame_cache = (versions, frame)
        return self._frame_cache[1]

    def _example_index(self) -> pd.Index:
        """Example ids in :meth:`examples` order (no copy of the data)."""
        return self._examples_frame().index

    def __len__(self) -> int:
        return self._store.n_examples()

    def example(self, example_id: str) -> pd.Series:
        """One example's data."""
        self._check_ids([example_id])
        row = self._examples_frame().loc[example_id].copy()
        assert isinstance(row, pd.Series)  # ids are unique
        return row

    def _check_ids(self, ids: Sequence[str]) -> dict[str, str]:
        for i in ids:
            if not isinstance(i, str):
                raise UnknownExampleError(
                    f"Example ids are strings; got {type(i).__name__} {i!r}. Write str({i!r}) if that is the id."
                )
        known = self._store.example_data_versions(list(ids))
        missing = [i for i in ids if i not in known]
        if missing:
            shown = ", ".join(repr(i) for i in missing[:10])
            raise UnknownExampleError(
                f"{len(missing)} example id(s) are not in this project: {shown}. Add the data first with "
                f"project.add_data(...), or check the id."
            )
        return known

    # ------------------------------------------------------------------ labels
    def _current_answers(self, example_id: str, source: str, annotator: str) -> dict[str, str]:
        return self._store.current_answers(example_id, source, annotator)

    def _make_events(
        self,
        example_id: str,
        value: object,
        *,
        annotator: str,
        source: str,
        confidence: float | None,
        time_spent: float | None,
        is_honeypot: bool,
        note: str | None,
        created_at: str | None,
        data_version: str,
        context: dict[str, str],
        event_uid: str | None,
    ) -> list[LabelEvent]:
        func = "Project.annotate"
        _check_str("annotator", annotator, func)
        if source not in LABEL_SOURCES:
            raise LabelValidationError(
                f"The 'source' parameter of {func} must be one of {list(LABEL_SOURCES)!r}. Got {source!r} instead."
            )
        if confidence is not None:
            bad = isinstance(confidence, bool) or not isinstance(confidence, (int, float))
            if bad or not 0.0 <= float(confidence) <= 1.0:
                raise LabelValidationError(
                    f"The 'confidence' parameter of {func} must be a number in [0, 1]. Got {confidence!r} instead."
                )
            confidence = float(confidence)
        if time_spent is not None:
            if isinstance(time_spent, bool) or not isinstance(time_spent, (int, float)) or not float(time_spent) >= 0:
                raise LabelValidationError(
                    f"The 'time_spent' parameter of {func} must be a number of seconds >= 0. Got {time_spent!r}."
                )
            time_spent = float(time_spent)
        schema = self.schema
        answers = schema.validate(value, context=context)
        merged = {**context, **answers}
        sv, gv = schema.version, self.guideline_version
        when = created_at or utc_now()
        events: list[LabelEvent] = []
        base = event_uid or uuid.uuid4().hex
        for k, (q, v) in enumerate(answers.items()):
            events.append(
                LabelEvent(
                    example_id=example_id, question=q, value=v, source=source, annotator=annotator,
                    schema_version=sv, guideline_version=gv, data_version=data_version,
                    event_uid=f"{base}:{k}" if len(answers) > 1 or event_uid else base,
                    created_at=when, confidence=confidence, time_spent=time_spent,
                    is_honeypot=bool(is_honeypot), note=note,
                )
            )
        # A changed answer can switch a follow-up question off: retract its answer too.
        for follow_up in schema.questions:
            name = follow_up.name
            if name in context and name not in answers and not follow_up.is_asked(merged):
                events.append(
                    LabelEvent(
                        example_id=example_id, question=name, value=None, source=source, annotator=annotator,
                        schema_version=sv, guideline_version=gv, data_version=data_version,
                        event_uid=f"{base}:retract:{name}", created_at=when, action="retract",
                        note=f"condition of {name!r} no longer holds",
                    )
                )
        context.clear()
        context.update({k: v for k, v in merged.items() if schema.question(k).is_asked(merged)})
        return events

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
        :meth:`history`).

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
            Seconds spent on the item.
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
        known = self._check_ids([example_id])
        context = self._current_answers(example_id, source, annotator)
        events = self._make_events(
            example_id, value, annotator=annotator, source=source, confidence=confidence, time_spent=time_spent,
            is_honeypot=is_honeypot, note=note, created_at=None, data_version=known[example_id], context=context,
            event_uid=event_uid,
        )
        return self._write_events(events)

    def annotate_many(self, records: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[LabelEvent]:
        """Record many annotations in one transaction (all or nothing).

        ``records`` has the columns (or keys) ``example_id``, ``value`` and ``annotator``, and
        optionally ``source``, ``confidence``, ``time_spent``, ``is_honeypot``, ``note``,
        ``created_at`` (ISO-8601 string or timestamp, for imported labels) and ``event_uid``.
        Every row is validated before anything is written.
        """
        rows: list[dict[str, Any]] = (
            [{str(k): v for k, v in r.items()} for r in records.to_dict("records")]
            if isinstance(records, pd.DataFrame)
            else [dict(r) for r in records]
        )
        if not rows:
            return []
        for k, r in enumerate(rows):
            missing = {"example_id", "value", "annotator"} - set(r)
            if missing:
                raise LabelValidationError(
                    f"Row {k} of annotate_many lacks {sorted(missing)}; each record needs example_id, value "
                    f"and annotator."
                )
        ids = [str(r["example_id"]) if not isinstance(r["example_id"], str) else r["example_id"] for r in rows]
        known = self._check_ids(list(dict.fromkeys(ids)))
        contexts: dict[tuple[str, str, str], dict[str, str]] = {}
        events: list[LabelEvent] = []
        for k, (eid, r) in enumerate(zip(ids, rows, strict=True)):
            source = r.get("source") or "human"
            key = (eid, str(source), str(r["annotator"]))
            if key not in contexts:
                contexts[key] = self._current_answers(*key) if not self.schema.is_single else {}
            created = r.get("created_at")
            if created is not None and not isinstance(created, str):
                if pd.isna(created):
                    created = None
                else:
                    ts = pd.Timestamp(created)
                    created = (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).isoformat()
            try:
                events.extend(
                    self._make_events(
                        eid, r["value"], annotator=r["annotator"], source=source,
                        confidence=_none_if_na(r.get("confidence")), time_spent=_none_if_na(r.get("time_spent")),
                        is_honeypot=bool(_none_if_na(r.get("is_honeypot")) or False), note=_none_if_na(r.get("note")),
                        created_at=created, data_version=known[eid], context=contexts[key],
                        event_uid=_none_if_na(r.get("event_uid")),
                    )
                )
            except LabelValidationError as exc:
                raise LabelValidationError(f"Row {k} (example {eid!r}): {exc} Nothing was written.") from None
        return self._write_events(events)

    def _write_events(self, events: list[LabelEvent]) -> list[LabelEvent]:
        ids = self._store.append_events(events)
        stored = [LabelEvent(**{**e.to_dict(), "event_id": i}) for e, i in zip(events, ids, strict=True)]
        self._events.emit("labels_added", events=stored)
        return stored

    def retract(
        self, example_id: str, question: str | None = None, *, annotator: str, source: str = "human",
        note: str | None = None,
    ) -> LabelEvent:
        """Withdraw an annotator's current answer (an appended ``retract`` event; nothing is deleted)."""
        known = self._check_ids([example_id])
        q = self.schema.question(question)
        _check_str("annotator", annotator, "Project.retract")
        context = self._current_answers(example_id, source, annotator)
        if q.name not in context:
            raise LabelValidationError(
                f"{annotator!r} has no current {source} answer to {q.name!r} for example {example_id!r}; "
                f"nothing to retract."
            )
        event = LabelEvent(
            example_id=example_id, question=q.name, value=None, source=source, annotator=annotator,
            schema_version=self.schema_version, guideline_version=self.guideline_version,
            data_version=known[example_id], event_uid=uuid.uuid4().hex, action="retract", note=note,
        )
        return self._write_events([event])[0]

    def history(self, example_id: str) -> pd.DataFrame:
        """Every event for one example, oldest first, including superseded ones.

        Columns: the provenance fields of :class:`~workbench.store.LabelEvent`, plus
        ``superseded_by`` (the event that replaced it, if any) and ``training_runs`` (ids of
        the training runs that used it).
        """
        self._check_ids([example_id])
        df = self._store.events(example_id=example_id)
        runs = self._store.training_runs_of_events(df["event_id"].tolist())
        df["training_runs"] = [runs.get(int(i), []) for i in df["event_id"]]
        return df.reset_index(drop=True)

    def labels(
        self,
        *,
        question: str | None = None,
        source: str | None = None,
        annotator: str | None = None,
    ) -> pd.DataFrame:
        """The current labels: the latest non-retracted answer per example, question, source and annotator."""
        df = self._store.events(question=question, source=source, annotator=annotator, current_only=True)
        return df[df["action"] == "label"].reset_index(drop=True)

    def all_events(self) -> pd.DataFrame:
        """The whole event log, oldest first."""
        return self._store.events()

    # ------------------------------------------------------------------ training runs
    def record_training_run(
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
        _check_str("name", name, "Project.record_training_run")
        if labels is None:
            ids = self.labels()["event_id"].tolist()
        elif isinstance(labels, pd.DataFrame):
            if "event_id" not in labels.columns:
                raise LabelValidationError(
                    "The labels passed to record_training_run need an 'event_id' column (as returned by "
                    "project.labels() or project.history())."
                )
            ids = labels["event_id"].tolist()
        else:
            ids = list(labels)
        try:
            json.dumps(dict(params or {}))
        except TypeError as exc:
            raise LabelValidationError(f"The params of a training run must be JSON-serialisable: {exc}.") from None
        run = TrainingRun(
            run_id="run-" + uuid.uuid4().hex[:12], name=name, created_at=utc_now(), label_version=label_version,
            params=dict(params or {}), n_events=len(ids),
        )
        run = self._store.add_training_run(run, [int(i) for i in ids])
        self._events.emit("training_run_recorded", run=run)
        return run

    def training_runs(self) -> pd.DataFrame:
        """Every recorded training run, oldest first."""
        return pd.DataFrame(
            [r.__dict__ for r in self._store.training_runs()],
            columns=["run_id", "name", "created_at", "label_version", "params", "n_events"],
        )

    # ------------------------------------------------------------------ maintenance
    def verify(self) -> dict[str, Any]:
        """Check every data file against the hashes recorded for it; raises on any mismatch."""
        from workbench.data import row_hashes

        checked = 0
        self._batch_cache.clear()  # re-read every file from disk
        self._frame_cache = None
        for v, df in self._batches():
            hashes = row_hashes(df.reset_index(drop=True))
            stored = self._store.stored_hashes(list(df.index))
            bad = [i for i, h in zip(df.index, hashes, strict=True) if stored.get(i) != h]
            if bad:
                from workbench.exceptions import IntegrityError

                raise IntegrityError(
                    f"{len(bad)} row(s) of data version {v.version} ({v.file}) no longer match their recorded "
                    f"hashes, e.g. {bad[0]!r}. The file was modified; restore it from a backup."
                )
            checked += len(df)
        checks = self._versions.verify_all() if (self.path / "labels").exists() else pd.DataFrame()
        if len(checks) and not checks["ok"].astype(bool).all():
            from workbench.exceptions import IntegrityError

            failed = checks[~checks["ok"].astype(bool)]
            raise IntegrityError(
                "Label version(s) fail verification: "
                + "; ".join(f"{n}: {e}" for n, e in zip(failed["name"], failed["error"], strict=True))
            )
        return {"examples_checked": checked, "events": self._store.n_events(), "label_versions": len(checks)}

    def delete(self) -> None:
        """Remove the whole project directory (asks nothing: use with care)."""
        self.close()
        shutil.rmtree(self.path)


def _none_if_na(value: Any) -> Any:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


_PRIVATE = object()
