"""The project's examples: immutable data versions on disk, read once per process."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import math
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench._events import EventEmitter
from workbench._stats import sha256_file as _sha256
from workbench.data._ingest import (
    DEFAULT_HASH_SCHEME,
    ID_COLUMN,
    IngestedBatch,
    canonical_text,
    cell_key,
    prepare_batch,
    read_table,
    row_hashes,
)
from workbench.exceptions import (
    ConflictingContentError,
    DataError,
    IntegrityError,
    StoreCorruptedError,
    UnknownExampleError,
    WorkbenchError,
)
from workbench.store import DataVersion, EventStore, utc_now

try:  # POSIX: a lock file serialises ingest across processes
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["DATA_DIR", "INGEST_LOCK", "DataCatalog"]

_log = logging.getLogger(__name__)

#: Folder of the project that holds one Parquet file per data version.
DATA_DIR = "data"
#: The lock file that makes the id check and the write of a data version one step.
INGEST_LOCK = "ingest.lock"
_FILE_RECORD = "data_file"  # record kind: data version -> the sha256 of its Parquet file


class DataCatalog:
    """Examples in immutable data versions: adding batches, reading them back, checking ids.

    Parameters
    ----------
    root : Path
        The project directory (data files live in ``root / "data"``).
    store : EventStore
        Holds the data versions and each example's content hash.
    emitter : EventEmitter
        Announces ``data_added``.
    """

    def __init__(self, root: Path, store: EventStore, emitter: EventEmitter) -> None:
        self._root = root
        self._store = store
        self._emitter = emitter
        self._frame_cache: tuple[tuple[str, ...], pd.DataFrame] | None = None
        self._batch_cache: dict[str, pd.DataFrame] = {}
        self._file_hash_cache: dict[str, str] | None = None

    # ------------------------------------------------------------------ columns
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

    @property
    def hash_scheme(self) -> str:
        """How this project hashes row content, recorded when it was created.

        ``"text2"`` for new projects; ``"text"`` and ``"json"`` for projects made before it (see
        :data:`workbench.data.HASH_SCHEMES`). A project never changes its scheme.
        """
        value = self._store.get_meta("row_hash_scheme")
        return "json" if value is None else str(value)

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def _ingest_lock(self) -> Iterator[None]:
        if fcntl is None:  # pragma: no cover - Windows: the store's transaction still refuses conflicts
            yield
            return
        with open(self._root / INGEST_LOCK, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def add(
        self,
        source: pd.DataFrame | str | os.PathLike[str],
        id_column: str | None = None,
        *,
        message: str = "",
        encoding: str = "utf-8",
        errors: str = "strict",
        image_root: str | os.PathLike[str] | None = None,
    ) -> DataVersion:
        """Add a batch as a new data version (see :meth:`workbench.Project.add_data`)."""
        frame = read_table(source, encoding=encoding, errors=errors)
        text_column = self.text_column
        batch = prepare_batch(
            frame,
            id_column,
            text_column=text_column if text_column in frame.columns else None,
            image_column=self.image_column,
            image_root=Path(image_root) if image_root is not None else None,
            hash_scheme=self.hash_scheme,
        )
        if text_column is not None and text_column not in batch.frame.columns:
            raise DataError(
                f"The project reads its text from column {text_column!r}, which this data lacks. Columns: "
                f"{list(batch.frame.columns)!r}. Rename the column, or create the project with "
                f"text_column=<your column>."
            )
        # The id check and the write happen under one lock: two processes adding overlapping
        # batches at once store each id once.
        with self._ingest_lock():
            existing = self._store.stored_hashes(batch.ids)
            conflicts = [i for i, h in zip(batch.ids, batch.hashes, strict=True) if i in existing and existing[i] != h]
            if conflicts:
                error = ConflictingContentError.for_ids(conflicts)
                details = self._conflict_details(batch, conflicts)
                raise ConflictingContentError(f"{error} {details}", conflicts) if details else error
            new_mask = [i not in existing for i in batch.ids]
            new_frame = batch.frame[new_mask]
            if not len(new_frame):
                _log.info("All %d rows are already in the project; no new data version.", len(batch.ids))
                holding = set(self._store.example_data_versions(batch.ids).values())
                return [v for v in self._store.data_versions() if v.version in holding][-1]  # the newest of them
            # named by the rows it holds (not the whole batch): a file an interrupted ingest of this batch left
            # behind holds other rows when some of them were stored since, and is never taken for this one
            new_hashes = [h for h, m in zip(batch.hashes, new_mask, strict=True) if m]
            held = hashlib.sha256("\n".join(f"{i}\t{h}" for i, h in zip(new_frame.index, new_hashes, strict=True))
                                  .encode("utf-8")).hexdigest()
            rel = f"{DATA_DIR}/{held[:24]}.parquet"
            target = self._root / rel
            if not target.exists():
                tmp = target.with_suffix(f".{uuid.uuid4().hex}.tmp")
                try:
                    new_frame.to_parquet(tmp, index=True)
                except (ValueError, TypeError, NotImplementedError) as exc:  # pyarrow's ArrowInvalid is a ValueError
                    tmp.unlink(missing_ok=True)
                    raise DataError(_unstorable(new_frame, exc)) from None
                os.replace(tmp, target)  # atomic: the file is complete or absent
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
            version = self._store.add_data_version(record, list(new_frame.index), new_hashes)
            self._store.put_record(_FILE_RECORD, version.version, {"file": rel, "sha256": _sha256(target)})
        self._frame_cache = None
        self._file_hash_cache = None
        self._emitter.emit("data_added", version=version)
        return version

    # ------------------------------------------------------------------ reading
    def versions(self) -> pd.DataFrame:
        """Every data version, oldest first, as a table."""
        rows = [v.__dict__ for v in self._store.data_versions()]
        return pd.DataFrame(
            rows, columns=["version", "content_hash", "n_rows", "n_existing", "columns", "created_at", "source",
                           "message", "file"]
        )

    def version_names(self) -> tuple[str, ...]:
        """The data versions' names, oldest first (what :meth:`versions` lists, without the table)."""
        return tuple(v.version for v in self._store.data_versions())

    def row_counts(self) -> dict[str, int]:
        """``{data version: rows}``, oldest first (what :meth:`versions` lists, without the table)."""
        return {v.version: int(v.n_rows) for v in self._store.data_versions()}

    def _batches(self) -> list[tuple[DataVersion, pd.DataFrame]]:
        return [(v, self._read_batch(v)) for v in self._store.data_versions() if v.n_rows > 0]

    def _read_batch(self, v: DataVersion) -> pd.DataFrame:
        cached = self._batch_cache.get(v.version)
        if cached is not None:  # data versions are immutable: a read is good forever
            return cached
        path = self._root / v.file
        if not path.is_file():
            raise StoreCorruptedError(
                f"Data version {v.version} is recorded but its file {v.file!r} is missing from "
                f"{str(self._root)!r}. Restore the file from a backup."
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
        expected = self._file_hashes(v.version).get(v.version)
        if expected is None:  # a version stored before file hashes were recorded: check its rows instead
            self._check_rows(v, df)
        elif _sha256(path) != expected:  # one pass, on the first read in a process
            self._check_rows(v, df)  # names the changed rows when the content changed
            raise IntegrityError(
                f"The data file {v.file!r} of version {v.version} was modified after it was stored (its sha256 "
                f"no longer matches). It is not served to LFs or annotators; restore it from a backup."
            )
        self._batch_cache[v.version] = df
        return df

    def batches(self) -> list[tuple[str, pd.DataFrame]]:
        """The examples batch by batch: ``[(data_version, frame), ...]``, oldest first."""
        return [(v.version, df) for v, df in self._batches()]

    def frame(self) -> pd.DataFrame:
        """The cached examples frame itself, with a ``data_version`` column (no copy: read-only use)."""
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

    def index(self) -> pd.Index:
        """Example ids in :meth:`frame` order (no copy of the data)."""
        return self.frame().index

    def examples(self, data_version: str | None = None) -> pd.DataFrame:
        """A copy of every example (or one data version's)."""
        frame = self.frame()
        if data_version is not None:
            versions = self._frame_cache[0] if self._frame_cache is not None else ()
            if data_version not in versions:
                raise DataError(f"Unknown data version {data_version!r}. Known: {list(versions)!r}.")
            frame = frame[frame["data_version"] == data_version]
        return frame.copy()

    def example(self, example_id: str) -> pd.Series:
        """A copy of one example's data."""
        self.check_ids([example_id])
        row = self.frame().loc[example_id].copy()
        assert isinstance(row, pd.Series)  # ids are unique
        return row

    def record(self, example_id: str) -> dict[str, object]:
        """One example's data as a plain dict, without the ``data_version`` column."""
        return {str(c): v for c, v in self.frame().loc[example_id].items() if c != "data_version"}

    def __len__(self) -> int:
        return self._store.n_examples()

    def check_ids(self, ids: Sequence[str]) -> dict[str, str]:
        """Each id's data version; raises :class:`UnknownExampleError` naming the unknown ones."""
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

    # ------------------------------------------------------------------ checking
    def _file_hashes(self, version: str | None = None) -> dict[str, str]:
        if self._file_hash_cache is None or (version is not None and version not in self._file_hash_cache):
            self._file_hash_cache = {k: str(r["sha256"]) for k, r in self._store.get_records(_FILE_RECORD).items()}
        return self._file_hash_cache

    def _check_rows(self, v: DataVersion, df: pd.DataFrame) -> None:
        hashes = row_hashes(df.reset_index(drop=True), self.hash_scheme)
        stored = self._store.stored_hashes(list(df.index))
        bad = [i for i, h in zip(df.index, hashes, strict=True) if stored.get(i) != h]
        if bad:
            raise IntegrityError(
                f"{len(bad)} row(s) of data version {v.version} ({v.file}) no longer match their recorded "
                f"hashes, e.g. {bad[0]!r}. The file was modified; restore it from a backup."
            )

    def _conflict_details(self, batch: IngestedBatch, conflicts: list[str], limit: int = 3) -> str:
        """What differs between the stored rows and this batch's rows for the first conflicting ids."""
        scheme = self.hash_scheme
        shown = conflicts[:limit]
        where = self._store.example_data_versions(shown)
        versions = {v.version: v for v in self._store.data_versions()}
        notes: list[str] = []
        hints: dict[str, None] = {}  # an ordered set
        for eid in shown:
            version = versions.get(where.get(eid, ""))
            if version is None:
                continue
            try:
                stored = self._read_batch(version)
            except WorkbenchError:  # a damaged file: verify() reports it; the plain message stands
                continue
            if eid not in stored.index:
                continue
            old_row, new_row = stored.loc[eid], batch.frame.loc[eid]
            old_cols, new_cols = set(map(str, stored.columns)), set(map(str, batch.frame.columns))
            if old_cols != new_cols:
                notes.append(f"{eid!r} is stored with columns {sorted(old_cols)!r} but this data has "
                             f"{sorted(new_cols)!r}")
            for col in sorted(old_cols & new_cols):
                old, new = old_row[col], new_row[col]
                if cell_key(old, scheme) == cell_key(new, scheme):
                    continue
                notes.append(f"{eid!r} column {col!r} is stored as {_shown(old)} ({stored[col].dtype}) but is "
                             f"{_shown(new)} ({batch.frame[col].dtype}) in this data")
                hint = _conflict_hint(col, old, new, stored[col].dtype)
                if hint:
                    hints[hint] = None
                if scheme != DEFAULT_HASH_SCHEME and cell_key(old, DEFAULT_HASH_SCHEME) == cell_key(
                        new, DEFAULT_HASH_SCHEME):
                    hints[
                        f"Projects made now (row hash scheme {DEFAULT_HASH_SCHEME!r}) count such cells as equal; this "
                        f"project keeps the scheme it was made with ({scheme!r}), so read the file into a DataFrame "
                        f"with the stored column types, or add the rows under new ids."
                    ] = None
        if not notes:
            return ""
        return "What differs: " + "; ".join(notes[:5]) + "." + "".join(" " + h for h in hints)

    def verify(self) -> int:
        """Re-read every data file and check it (sha256) and each row (content hash); returns rows checked."""
        self._batch_cache.clear()
        self._frame_cache = None
        self._file_hash_cache = None
        checked = 0
        for v, df in self._batches():
            self._check_rows(v, df)
            checked += len(df)
        return checked


def _unstorable(frame: pd.DataFrame, exc: Exception) -> str:
    """Why a batch cannot be written to Parquet, naming the columns that mix value types."""
    mixed = {str(c): pd.api.types.infer_dtype(frame[c], skipna=True) for c in frame.columns
             if frame[c].dtype == object and pd.api.types.infer_dtype(frame[c], skipna=True).startswith("mixed")}
    if mixed:
        shown = ", ".join(f"{c!r} ({kind})" for c, kind in mixed.items())
        return (f"add_data: the column(s) {shown} mix value types (e.g. numbers and text), and a data version "
                f"stores one type per column. Convert them first, e.g. df[col] = df[col].astype(str). Nothing was "
                f"written.")
    return (f"add_data: the rows cannot be stored as a data version ({type(exc).__name__}: {exc}). Convert the "
            f"columns to text, numbers or timestamps first. Nothing was written.")


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _epoch_unit(when: Any, number: Any) -> str | None:
    """The epoch unit in which ``number`` is exactly the timestamp ``when``, if any."""
    try:
        nanos = pd.Timestamp(when).value
    except (ValueError, TypeError, OverflowError):
        return None
    if isinstance(number, (float, np.floating)) and not (math.isfinite(number) and float(number).is_integer()):
        return None
    for unit, factor in (("seconds", 10**9), ("milliseconds", 10**6), ("microseconds", 10**3), ("nanoseconds", 1)):
        if int(number) * factor == nanos:
            return unit
    return None


def _conflict_hint(col: str, old: Any, new: Any, old_dtype: Any) -> str | None:
    """Why a round trip may have changed a cell, and how to read the file so that it does not."""
    is_time = isinstance(old, (dt.date, np.datetime64))
    is_number = isinstance(new, (int, float, np.integer, np.floating)) and not isinstance(new, (bool, np.bool_))
    if is_time and is_number:
        unit = _epoch_unit(old, new)
        aware = isinstance(old, dt.datetime) and old.utcoffset() is not None
        return (
            f"Column {col!r} holds timestamps but this data has numbers"
            + (f", the stored timestamps in epoch {unit}" if unit else "")
            + ". JSON has no timestamp type and pandas' to_json writes timestamps as epoch milliseconds unless "
            f"date_format='iso'; a number does not say that it is a time, or in which unit, so it is not read as "
            f"one. Write the file with to_json(..., date_format='iso', date_unit='ns'), or read it with pandas, "
            f"convert the column, df[{col!r}] = pd.to_datetime(df[{col!r}], unit='ms'"
            + (", utc=True" if aware else "") + "), and pass the DataFrame."
        )
    if is_time and isinstance(new, str):
        old_text, new_text = (str(canonical_text(v) or "").rstrip("Z") for v in (old, new))
        if old_text != new_text and old_text.startswith(new_text) and len(new_text) >= len("2024-05-01T10:00:00"):
            return (
                f"Column {col!r}: this data has the stored times with fewer fractional-second digits. "
                f"to_json(date_format='iso') keeps milliseconds unless date_unit='us' or 'ns'; write the file "
                f"with date_unit='ns', or use Parquet or CSV, which keep every digit."
            )
    if isinstance(old, (float, np.floating)) and is_number:
        if str(old_dtype) == "float32":
            return (
                f"Column {col!r} is float32, and pandas' to_json writes floats with 10 decimal places "
                f"(double_precision=10), so float32 values come back as other numbers (0.1 as 0.1000000015). "
                f"Read the file with pandas and cast it, df[{col!r}] = df[{col!r}].astype('float32'), or use "
                f"Parquet or CSV, which keep float32 digits."
            )
        if math.isclose(float(old), float(new), rel_tol=1e-9, abs_tol=1e-10):
            return (
                f"Column {col!r}: the numbers differ only in their last digits; pandas' to_json keeps 10 decimal "
                f"places of a float (double_precision=10). Use Parquet or CSV, which keep every digit."
            )
    return None
