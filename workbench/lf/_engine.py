"""The LF application engine: registry, on-disk cache, local (multi-core) and Dask appliers.

Results are cached per (LF fingerprint, data version): one ``int8`` ``.npy`` file per pair plus
a small JSON sidecar holding the error record, never a pickle. Applying after an edit re-runs
only the edited LF; applying after a new data version runs every LF on the new rows only.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import decimal
import hashlib
import json
import logging
import math
import multiprocessing as mp
import os
import re
import signal
import time
import traceback
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench._constants import ABSTAIN
from workbench.exceptions import LFError, LFTimeoutError
from workbench.lf._lfs import (
    BaseLF,
    LFOutputError,
    Row,
    _make_row,
    _to_label_array,
    as_lf,
    check_unmodified,
    frame_of_row,
    input_signature,
)
from workbench.lf._regex import TextColumnCache

__all__ = ["FINGERPRINT_PATTERN", "CachedVotes", "LFCacheProblem", "LFCacheReport", "LFEngine", "LFErrorRecord",
           "LFResult"]

_log = logging.getLogger(__name__)

_MAX_ERROR_IDS = 10
_SAFE_VERSION = re.compile(r"^[A-Za-z0-9._-]{1,120}$")
#: Below this many (row x row-LF) calls, per-row LFs run in-process (a pool costs ~50 ms).
_PARALLEL_MIN_CALLS = 40_000
_MIN_CHUNK = 1_000
#: Vectorized LFs run in a thread pool from this many rows on.
_THREADED_MIN_ROWS = 20_000
#: Default time limit per LF per data version, in seconds.
DEFAULT_TIMEOUT = 600.0
#: What an LF code fingerprint looks like (:attr:`BaseLF.fingerprint`): 24 lower-case hex digits.
FINGERPRINT_PATTERN = re.compile(r"^[0-9a-f]{24}$")
_CACHE_FILE = re.compile(r"^(?P<fp>[0-9a-f]{24})-(?P<version>[A-Za-z0-9._-]{1,120})\.(?P<ext>npy|json)$")
#: Cell values that an LF cannot change in place (rows holding anything else are deep-copied).
_IMMUTABLE_CELLS: frozenset[type] = frozenset(
    {
        str,
        int,
        float,
        bool,
        complex,
        bytes,
        type(None),
        decimal.Decimal,
        _dt.date,
        _dt.datetime,
        _dt.time,
        _dt.timedelta,
        pd.Timestamp,
        pd.Timedelta,
        type(pd.NaT),
        type(pd.NA),
        range,
        frozenset,
        np.float64,
        np.float32,
        np.int64,
        np.int32,
        np.int8,
        np.bool_,
        np.str_,
    }
)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
def _votes_digest(arr: np.ndarray) -> str:
    """The SHA-256 of a vote vector's bytes (int8, contiguous)."""
    return hashlib.sha256(np.ascontiguousarray(arr, dtype=np.int8).tobytes()).hexdigest()


@dataclass
class LFErrorRecord:
    """Exceptions raised by one LF during an apply (those rows were set to ABSTAIN).

    Attributes
    ----------
    lf : str
        Name of the LF.
    count : int
        Number of rows on which it raised.
    exception : str
        ``repr`` of the first exception (type and message).
    traceback : str
        Formatted traceback of the first exception.
    row_ids : list of str
        Up to 10 example ids on which it raised.
    kind : {"exception", "timeout", "crash"}
        "exception": the LF raised (deterministic: cached with its votes). "timeout": it ran
        longer than the engine's ``timeout`` and was stopped. "crash": the process running it
        died (e.g. a segfault in a C extension). Timeouts and crashes are never cached.
    """

    lf: str
    count: int
    exception: str
    traceback: str
    row_ids: list[str] = field(default_factory=list)
    kind: str = "exception"

    def to_dict(self) -> dict[str, Any]:
        return {
            "lf": self.lf,
            "count": self.count,
            "exception": self.exception,
            "traceback": self.traceback,
            "row_ids": list(self.row_ids),
            "kind": self.kind,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LFErrorRecord:
        return cls(
            str(d["lf"]),
            int(d["count"]),
            str(d["exception"]),
            str(d["traceback"]),
            list(d["row_ids"]),
            str(d.get("kind", "exception")),
        )

    def merge(self, other: LFErrorRecord) -> LFErrorRecord:
        ids = (self.row_ids + other.row_ids)[:_MAX_ERROR_IDS]
        kind = self.kind if self.kind != "exception" else other.kind
        return LFErrorRecord(self.lf, self.count + other.count, self.exception, self.traceback, ids, kind)


@dataclass
class LFResult:
    """The outcome of :meth:`LFEngine.apply`.

    Attributes
    ----------
    L : ndarray of int8, shape (n_items, n_lfs)
        Label matrix, ``ABSTAIN`` (-1) where an LF did not vote; rows in batch order.
        Column-major (Fortran order): each LF's column is contiguous, which makes caching
        and analysis cheap; ``np.ascontiguousarray(L)`` gives a row-major copy.
    lf_names : list of str
        Column names of ``L``, in registration order.
    row_ids : pandas.Index
        Example id of every row of ``L``.
    questions : dict
        LF name -> the question it votes on (None: the only question).
    errors : dict
        LF name -> :class:`LFErrorRecord`, only for LFs that raised on some rows.
    timings : dict
        LF name -> seconds spent computing it in this call (0.0 when fully cached), including
        the computation :meth:`LFEngine.check` did for it when it was registered since the
        previous apply.
    computed : dict
        LF name -> data versions computed in this call (cache misses, including those computed
        by :meth:`LFEngine.check` when it was registered since the previous apply); empty when
        cached.
    volatile : dict
        LF name -> why it is volatile (part of what it computes cannot be hashed, see
        :attr:`BaseLF.volatile_reason`), only for such LFs: they are recomputed on every apply
        and never cached.
    """

    L: np.ndarray
    lf_names: list[str]
    row_ids: pd.Index
    questions: dict[str, str | None]
    errors: dict[str, LFErrorRecord]
    timings: dict[str, float]
    computed: dict[str, list[str]]
    volatile: dict[str, str] = field(default_factory=dict)

    @property
    def cache_hits(self) -> list[str]:
        """Names of the LFs served entirely from the cache."""
        return [n for n in self.lf_names if not self.computed.get(n)]

    @property
    def timed_out(self) -> list[str]:
        """Names of the LFs stopped by the engine's time limit on some data version (their rows abstain)."""
        return [n for n in self.lf_names if n in self.errors and self.errors[n].kind == "timeout"]

    def for_question(self, question: str | None) -> tuple[np.ndarray, list[str]]:
        """The columns of ``L`` (and their names) of the LFs voting on ``question``."""
        cols = [j for j, n in enumerate(self.lf_names) if self.questions.get(n) == question]
        names = [self.lf_names[j] for j in cols]
        if len(cols) == self.L.shape[1]:
            return self.L, names
        return self.L.T[cols].T, names  # keeps the column-major layout

    def to_frame(self) -> pd.DataFrame:
        """``L`` as an int8 DataFrame indexed by example id, one column per LF."""
        return pd.DataFrame(self.L, index=self.row_ids, columns=self.lf_names, copy=False)


@dataclass(frozen=True)
class CachedVotes:
    """The votes the LF cache holds for some LFs over the rows of some data versions.

    Returned by :meth:`workbench.lf.ProjectLFs.cached_votes`; nothing was computed to make it.

    Attributes
    ----------
    L : ndarray of int8, shape (n_rows, n_found)
        Votes, ``ABSTAIN`` (-1) where an LF did not vote; rows follow :attr:`row_ids`, columns
        :attr:`names`.
    names : list of str
        The LFs whose votes were found on every one of :attr:`data_versions`, in the order asked.
    row_ids : pandas.Index
        The example id of every row of :attr:`L` (the rows of :attr:`data_versions`, in
        ``project.examples()`` order).
    data_versions : list of str
        The data versions whose rows these are, oldest first.
    fingerprints : dict
        LF name -> the code fingerprint its votes are keyed on, for every LF asked for (found or not).
    missing : dict
        LF name -> the data versions on which the cache holds no valid votes for it (those LFs
        are not columns of :attr:`L`); empty when everything was found.
    """

    L: np.ndarray
    names: list[str]
    row_ids: pd.Index
    data_versions: list[str]
    fingerprints: dict[str, str] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when the votes of every LF asked for were found on every data version."""
        return not self.missing

    def to_frame(self) -> pd.DataFrame:
        """:attr:`L` as an int8 DataFrame indexed by example id, one column per found LF."""
        return pd.DataFrame(self.L, index=self.row_ids, columns=self.names, copy=False)


@dataclass(frozen=True)
class LFCacheProblem:
    """One bad or unknown file found by :meth:`LFEngine.verify_cache`.

    Attributes
    ----------
    path : str
        The file.
    problem : str
        What is wrong with it.
    """

    path: str
    problem: str


@dataclass
class LFCacheReport:
    """The outcome of :meth:`LFEngine.verify_cache`.

    Attributes
    ----------
    checked : int
        Entries (vote file + sidecar) that passed every check.
    problems : list of LFCacheProblem
        Bad entries and unknown files.
    unregistered : list of str
        Good entries (file stems) whose fingerprint no registered LF has: votes of an older
        version of an LF or of a removed one (:meth:`LFEngine.prune_cache` deletes them).
    removed : list of str
        Files deleted by ``repair=True``.
    """

    checked: int
    problems: list[LFCacheProblem]
    unregistered: list[str]
    removed: list[str]

    @property
    def ok(self) -> bool:
        """True when no file is bad or unknown."""
        return not self.problems

    def to_frame(self) -> pd.DataFrame:
        """The problems as a DataFrame with columns ``path`` and ``problem``."""
        rows = [{"path": p.path, "problem": p.problem} for p in self.problems]
        return pd.DataFrame(rows, columns=["path", "problem"])


# --------------------------------------------------------------------------------------
# Per-row application (in-process and in worker processes)
# --------------------------------------------------------------------------------------
def _format_exc(exc: BaseException) -> tuple[str, str]:
    return repr(exc), "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _validate_labels(lf: BaseLF, values: np.ndarray, cardinality: int, ids: Sequence[Any] | pd.Index) -> np.ndarray:
    bad = (values < ABSTAIN) | (values >= cardinality)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LFOutputError.bad_value(
            lf,
            "range",
            f"The labeling function {lf.name!r} returned {int(values[i])} for row {ids[i]!r}; expected a "
            f"label in 0..{cardinality - 1} or ABSTAIN (-1) (cardinality {cardinality}"
            f"{'' if lf.question is None else ', question ' + repr(lf.question)}). Fix the LF's return "
            "value or the engine's cardinality.",
            int(values[i]),
            ids[i],
        )
    return values.astype(np.int8)


def _coerce_row_outputs(lf: BaseLF, vals: list[Any], ids: Sequence[Any]) -> np.ndarray:
    if all(type(v) is int for v in vals):
        return np.array(vals, dtype=np.int64)
    out = np.empty(len(vals), dtype=np.int64)
    for i, v in enumerate(vals):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            hint = " (did the function forget to return ABSTAIN?)" if v is None else ""
            raise LFOutputError.bad_value(
                lf,
                "type",
                f"The labeling function {lf.name!r} returned {v!r} ({type(v).__name__}) for row {ids[i]!r}; "
                f"expected an int class label or ABSTAIN (-1){hint}.",
                v,
                ids[i],
            )
        out[i] = int(v)
    return out


def _apply_row_lfs(
    lfs: Sequence[BaseLF],
    columns: Sequence[str],
    values: Sequence[Sequence[Any]],
    ids: Sequence[Any],
    cards: Sequence[int],
    prepared: tuple[list[dict[str, Any]], list[str]] | None = None,
) -> tuple[np.ndarray, list[tuple[int, str, str, list[str]] | None], list[float]]:
    """Apply per-row LFs to rows ``zip(*values)``; returns labels (n, m), errors, seconds per LF.

    ``prepared``: the rows' field dicts and mutable columns from :func:`_prepare_rows`.
    """
    n = len(ids)
    bases, mutable = prepared if prepared is not None else _prepare_rows(columns, values, n)
    out = np.full((n, len(lfs)), ABSTAIN, dtype=np.int8)
    errors: list[tuple[int, str, str, list[str]] | None] = []
    seconds: list[float] = []
    for j, lf in enumerate(lfs):
        t0 = time.perf_counter()
        # Every LF gets rows of its own: what one LF (or its preprocessors) changes in a row is
        # never seen by the next LF nor written back to the data.
        if mutable:
            rows = [
                _make_row({**b, **{c: copy.deepcopy(b[c]) for c in mutable}}, rid)
                for b, rid in zip(bases, ids, strict=True)
            ]
        else:
            rows = [_make_row(b, rid) for b, rid in zip(bases, ids, strict=True)]
        vals: list[Any] = []
        append = vals.append
        n_err = 0
        first: tuple[str, str] | None = None
        err_ids: list[str] = []
        for i, x in enumerate(rows):
            try:
                y = lf(x)
            except Exception as exc:  # noqa: BLE001 - fault isolation is the point
                n_err += 1
                if first is None:
                    first = _format_exc(exc)
                if len(err_ids) < _MAX_ERROR_IDS:
                    err_ids.append(str(ids[i]))
                y = ABSTAIN
            append(y)
        out[:, j] = _validate_labels(lf, _coerce_row_outputs(lf, vals, ids), cards[j], ids)
        errors.append((n_err, first[0], first[1], err_ids) if first is not None else None)
        seconds.append(time.perf_counter() - t0)
    return out, errors, seconds


def _prepare_rows(
    columns: Sequence[str], values: Sequence[Sequence[Any]], n: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """Field dicts of the rows, and the columns holding mutable cells (deep-copied for every LF)."""
    tuples = list(zip(*values, strict=True)) if values else [()] * n
    bases = [dict(zip(columns, tup, strict=True)) for tup in tuples]
    mutable = [c for c, col in zip(columns, values, strict=True) if not _immutable_cells(col)]
    return bases, mutable


def _immutable_cells(col: Sequence[Any]) -> bool:
    """True when every value of the column is of a type an LF cannot change in place."""
    immutable = _IMMUTABLE_CELLS
    return all(type(v) in immutable for v in col)


# State inherited by forked workers (set just before the pool forks, cleared after).
_FORK_STATE: dict[str, Any] = {}


def _fork_chunk(start: int, stop: int) -> tuple[np.ndarray, list[Any], list[float]]:
    s = _FORK_STATE
    values = [col[start:stop] for col in s["values"]]
    return _apply_row_lfs(s["lfs"], s["columns"], values, s["ids"][start:stop], s["cards"])


def _spawn_chunk(
    payload: bytes, columns: list[str], values: list[list[Any]], ids: list[Any], cards: list[int]
) -> tuple[np.ndarray, list[Any], list[float]]:
    import cloudpickle

    lfs = cloudpickle.loads(payload)
    return _apply_row_lfs(lfs, columns, values, ids, cards)


# --------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------
class _DaskPayload:
    """The LFs shipped to Dask workers; tokenized by fingerprint, not by content."""

    def __init__(self, lfs: list[BaseLF], cards: list[int], token: str) -> None:
        self.lfs = lfs
        self.cards = cards
        self.token = token

    def __dask_tokenize__(self) -> str:
        return self.token


def _dask_partition(pdf: pd.DataFrame, payload: _DaskPayload) -> pd.DataFrame:
    lfs, cards = payload.lfs, payload.cards
    n = len(pdf)
    ids = pdf.index.tolist()
    labels = np.full((n, len(lfs)), ABSTAIN, dtype=np.int8)
    flags = np.zeros((n, len(lfs)), dtype=np.int8)
    row_js = [j for j, lf in enumerate(lfs) if lf.kind == "row"]
    if row_js and n:
        cols = [str(c) for c in pdf.columns]
        out, errs, _ = _apply_row_lfs(
            [lfs[j] for j in row_js], cols, [pdf[c].tolist() for c in pdf.columns], ids, [cards[j] for j in row_js]
        )
        labels[:, row_js] = out
        for k, j in enumerate(row_js):
            if errs[k] is not None:
                # Flag rows that raised: re-derive them cheaply by re-running only on abstained rows.
                flags[:, j] = _rows_that_raise(lfs[j], pdf, out[:, k])
    cache = TextColumnCache(pdf)
    for j, lf in enumerate(lfs):
        if lf.kind == "row":
            continue
        try:
            raw = lf.apply_frame(pdf, cache)  # type: ignore[attr-defined]
        except LFError:
            raise
        except Exception:  # noqa: BLE001
            flags[:, j] = 1
            continue
        labels[:, j] = _validate_labels(lf, _to_label_array(lf, raw, n, pdf.index), cards[j], pdf.index)
    data = {f"l{j}": labels[:, j] for j in range(len(lfs))}
    data.update({f"e{j}": flags[:, j] for j in range(len(lfs))})
    return pd.DataFrame(data, index=pdf.index)


def _rows_that_raise(lf: BaseLF, pdf: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
    flags = np.zeros(len(pdf), dtype=np.int8)
    for i in np.flatnonzero(labels == ABSTAIN):
        row = _row_at(pdf, int(i))
        try:
            lf(row)
        except Exception:  # noqa: BLE001
            flags[i] = 1
    return flags


# --------------------------------------------------------------------------------------
# Vectorized application on read-only input, and the forked worker that enforces timeouts
# --------------------------------------------------------------------------------------
class _SharedInput:
    """One batch as vectorized LFs see it: the frame, its text cache, its signature, mutable columns."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.cache = TextColumnCache(df)
        self.ids = df.index
        self._signature: Any = None
        self._mutable: list[Any] | None = None

    @property
    def signature(self) -> Any:
        if self._signature is None:
            self._signature = input_signature(self.df)
        return self._signature

    @property
    def mutable(self) -> list[Any]:
        if self._mutable is None:
            self._mutable = [
                c for c in self.df.columns if self.df[c].dtype == object and not _immutable_cells(self.df[c].tolist())
            ]
        return self._mutable

    def view(self) -> pd.DataFrame:
        """A frame the LF may not (and cannot usefully) change: a shallow copy-on-write view."""
        view = self.df.copy(deep=False)
        for c in self.mutable:
            view[c] = pd.Series([copy.deepcopy(v) for v in self.df[c].tolist()], index=view.index, dtype=object)
        return view


def _run_vectorized(lf: BaseLF, shared: _SharedInput, card: int) -> tuple[np.ndarray, LFErrorRecord | None, float]:
    """Apply one vectorized LF; user code gets a view and must leave it as it was."""
    n = len(shared.df)
    ids = shared.ids
    t0 = time.perf_counter()
    rec: LFErrorRecord | None = None
    user = lf._runs_user_code()
    frame = shared.view() if user else shared.df
    before = input_signature(frame) if user else None
    try:
        raw = lf.apply_frame(frame, shared.cache)  # type: ignore[attr-defined]
    except LFError:
        raise
    except Exception as exc:  # noqa: BLE001 - fault isolation
        text, tb = _format_exc(exc)
        rec = LFErrorRecord(lf.name, n, text, tb, [str(i) for i in ids[:_MAX_ERROR_IDS]])
        arr = np.full(n, ABSTAIN, dtype=np.int8)
    else:
        if user:
            check_unmodified(lf, frame, before)
        arr = _validate_labels(lf, _to_label_array(lf, raw, n, ids), card, ids)
    return arr, rec, time.perf_counter() - t0


def _kill(proc: Any) -> None:
    """Kill a worker and anything it started (its process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (OSError, AttributeError):
        with contextlib.suppress(OSError):
            proc.kill()
    proc.join(5)


def _guarded_worker(
    conn: Any, engine: LFEngine, lfs: list[BaseLF], todo: list[int], df: pd.DataFrame, cards: list[int]
) -> None:
    """Body of the forked worker: compute ``todo`` one LF at a time, reporting each start and result."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    shared: _SharedInput | None = None
    rows: tuple[list[str], list[list[Any]], list[Any], Any] | None = None
    n = len(df)
    parallel = engine._workers() > 1 and n >= max(_PARALLEL_MIN_CALLS, 2 * _MIN_CHUNK)
    try:
        for k in todo:
            lf = lfs[k]
            conn.send(("start", k))
            try:
                if lf.kind == "row" and parallel:
                    out, rerrs, rsecs = engine._apply_rows_local([lf], df, [cards[k]], False, "")
                    result = (np.ascontiguousarray(out[:, 0]), rerrs[0], rsecs[0])
                elif lf.kind == "row":
                    if rows is None:  # built once for all the per-row LFs of this worker
                        columns = [str(c) for c in df.columns]
                        values = [df[c].tolist() for c in df.columns]
                        rows = (columns, values, df.index.tolist(), _prepare_rows(columns, values, n))
                    out, raw_errs, rsecs = _apply_row_lfs([lf], rows[0], rows[1], rows[2], [cards[k]], rows[3])
                    e = raw_errs[0]
                    rec = None if e is None else LFErrorRecord(lf.name, e[0], e[1], e[2], list(e[3]))
                    result = (np.ascontiguousarray(out[:, 0]), rec, rsecs[0])
                else:
                    shared = shared or _SharedInput(df)
                    result = _run_vectorized(lf, shared, cards[k])
            except LFError as exc:
                details = exc.to_dict() if isinstance(exc, LFOutputError) else None
                conn.send(("lferror", k, str(exc), details))
                return
            conn.send(("done", k, *result))
    finally:
        conn.close()


# --------------------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------------------
def _batch_list(batches: Iterable[tuple[str, pd.DataFrame]]) -> list[tuple[str, pd.DataFrame]]:
    """``batches`` as a list, each item checked to be a (data version, DataFrame) pair."""
    blist: list[tuple[str, pd.DataFrame]] = []
    for item in batches:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ValueError(
                "The 'batches' parameter of LFEngine.apply must be a list of (data_version, DataFrame) pairs. "
                f"Got an item of type {type(item).__name__} instead."
            )
        dv, df = item
        if not isinstance(dv, str) or not dv:
            raise ValueError(f"A data version must be a non-empty str. Got {dv!r} instead.")
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"Data version {dv!r}: expected a pandas DataFrame, got {type(df).__name__}.")
        blist.append((dv, df))
    return blist


def _check_cached_votes(lf: BaseLF, votes: np.ndarray, card: int, ids: pd.Index, dv: str) -> None:
    """Raise when cached votes are outside ``card`` (the LF's question lost choices since they were cast)."""
    if len(votes) and (int(votes.max()) >= card or int(votes.min()) < ABSTAIN):
        try:
            _validate_labels(lf, votes, card, ids)
        except LFOutputError as exc:
            exc.data_version = dv
            raise


def _version_key(data_version: str) -> str:
    if _SAFE_VERSION.match(data_version):
        return data_version
    return "h" + hashlib.sha256(data_version.encode("utf-8")).hexdigest()[:32]


def _progress(total: int, desc: str, mode: bool | None) -> Any:
    from tqdm.auto import tqdm

    if mode is False:
        return tqdm(total=total, desc=desc, disable=True)
    return tqdm(total=total, desc=desc, delay=0.0 if mode else 1.0, leave=bool(mode))


class LFEngine:
    """Registry of labeling functions and their cached, fault-isolated application.

    Parameters
    ----------
    cache_dir : path, optional
        Where results are cached (``<fingerprint>-<data version>.npy`` int8 arrays plus a JSON
        sidecar). None keeps the cache in memory only.
    cardinality : int or mapping, default 2
        Number of classes; a mapping ``{question: n_classes}`` for multi-question schemas
        (key None: the only question).
    n_jobs : int, default -1
        Processes for per-row LFs; -1 uses every core, 1 runs in-process.
    backend : {"local", "dask"}, default "local"
        "dask" applies the LFs with ``dask.dataframe.map_partitions`` on ``client`` (or on the
        default Dask scheduler, e.g. an active ``distributed.Client``).
    progress : bool or None, default None
        Progress bars (tqdm.auto); None shows them only for work that takes over a second.
    client : distributed.Client, optional
        The Dask client for ``backend="dask"``.
    memory_cache_bytes : int, default 1 GiB
        Results also kept in memory (LRU) up to this size.
    timeout : float or None, default 600
        Time limit in seconds for each LF on each data version; None disables it. An LF that
        exceeds it is stopped, its rows abstain, ``result.errors[name]`` says so (``kind ==
        "timeout"``, see :attr:`LFResult.timed_out`) and nothing is cached for it; the other LFs'
        votes are returned as usual.

        How it is enforced: LFs that run user code (per-row and vectorized functions, model LFs,
        regexes Python's ``re`` must run) are computed in a forked worker process, one LF after
        the other, and the worker is killed when an LF overruns. This stops anything -- pure
        Python loops, C code that never checks for signals, LFs that swallow exceptions -- works
        from any thread (Jupyter kernels, web servers) and cannot leave the kernel in a broken
        state; signal-based alarms can do none of that. Builders that run no user code
        (``keywords``, RE2-compatible ``regex``, ``threshold``, ``lexicon``) are bounded and
        stay in-process. Needs the ``fork`` start method (Linux, macOS); elsewhere LFs run
        without a limit (a warning says so). ``backend="dask"`` does not apply it. As the LFs
        run in another process, side effects they have on Python objects (appending to a list
        of the notebook ...) are not seen here; pass ``timeout=None`` to compute in-process.

    Notes
    -----
    LFs get data they cannot change: a vectorized LF gets its own shallow view of the batch
    (pandas copy-on-write keeps the project's frame intact) and one that modifies it anyway
    raises :class:`~workbench.exceptions.LFError`; a per-row LF gets fresh rows on every apply,
    so what it writes into ``x`` is seen by nobody else. Columns holding mutable cells (lists,
    dicts ...) are deep-copied for each LF.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.lf import LFEngine, keywords, regex
    >>> engine = LFEngine(cache_dir=None, n_jobs=1)
    >>> engine.add(keywords("subscribe", ["subscribe"], label=1))
    True
    >>> df = pd.DataFrame({"text": ["pls subscribe", "nice song"]}, index=pd.Index(["a", "b"], name="id"))
    >>> result = engine.apply([("d1", df)])
    >>> result.L.tolist()
    [[1], [-1]]
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] | None = None,
        cardinality: int | Mapping[str | None, int] = 2,
        n_jobs: int = -1,
        backend: str = "local",
        progress: bool | None = None,
        client: Any = None,
        memory_cache_bytes: int = 1 << 30,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        if backend not in ("local", "dask"):
            raise ValueError(f"The 'backend' parameter of LFEngine must be 'local' or 'dask'. Got {backend!r} instead.")
        if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
            raise ValueError(f"The 'n_jobs' parameter of LFEngine must be -1 or an int >= 1. Got {n_jobs!r} instead.")
        cards: dict[str | None, int] = dict(cardinality) if isinstance(cardinality, Mapping) else {None: cardinality}
        for q, k in cards.items():
            if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= 127:
                raise ValueError(
                    f"The 'cardinality' parameter of LFEngine must be an int in 2..127 (or a mapping of them); "
                    f"got {k!r} for question {q!r}."
                )
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
        ):
            raise ValueError(
                f"The 'timeout' parameter of LFEngine must be a number of seconds > 0 or None (no limit). "
                f"Got {timeout!r} instead."
            )
        self.timeout: float | None = None if timeout is None else float(timeout)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.cardinality = cards
        self.n_jobs = n_jobs
        self.backend = backend
        self.progress = progress
        self.client = client
        self.memory_cache_bytes = memory_cache_bytes
        self._lfs: dict[str, BaseLF] = {}
        self._fingerprints: dict[str, str] = {}
        self._memory: OrderedDict[tuple[str, str], tuple[np.ndarray, dict[str, Any]]] = OrderedDict()
        self._memory_size = 0
        self._mp_start_method: str | None = None  # None: fork where available, else spawn
        self._warned_no_timeout = False
        # Votes computed by check() for an LF about to be registered, used by the next apply:
        # LF name -> (fingerprint, {data version: (votes, error record, seconds)}).
        self._staged: dict[str, tuple[str, dict[str, tuple[np.ndarray, LFErrorRecord | None, float]]]] = {}

    # -- registry -----------------------------------------------------------------------
    def add(self, lf: Any, question: str | None = None) -> bool:
        """Register ``lf`` (replacing an LF of the same name).

        Only the labels an LF declares (builders such as ``keywords(..., label=3)``) are
        checked here; call :meth:`check` first to refuse an LF whose outputs on the data are
        not labels.

        Parameters
        ----------
        lf : LF
            A workbench LF, a builder's LF or a snorkel ``LabelingFunction``.
        question : str, optional
            The question it votes on, when the LF names none.

        Returns
        -------
        bool
            True when the LF is new or its fingerprint (code, parameters, resources) changed,
            i.e. when the next :meth:`apply` will compute it.

        Raises
        ------
        LFError
            The LF votes on a question the engine does not know, or declares a label outside
            ``0..cardinality-1``.
        """
        wlf = as_lf(lf, question=question)
        if question is not None and wlf.question is None:
            wlf.question = question
        self._check_declared_labels(wlf)
        fp = wlf.fingerprint
        changed = self._fingerprints.get(wlf.name) != fp
        self._lfs[wlf.name] = wlf
        self._fingerprints[wlf.name] = fp
        staged = self._staged.get(wlf.name)
        if staged is not None and staged[0] != fp:
            del self._staged[wlf.name]
        return changed

    def _check_declared_labels(self, lf: BaseLF) -> None:
        """Raise when the labels ``lf`` declares (builders) are outside the cardinality of its question."""
        card = self._card(lf)
        labels = lf.output_labels()
        bad = [lab for lab in labels or () if not 0 <= lab < card]
        if bad:
            raise LFOutputError(
                lf.name,
                "declared",
                f"The labeling function {lf.name!r} votes {bad[0]}, outside 0..{card - 1} (cardinality "
                f"{card}). Use a label of the schema or raise the engine's cardinality.",
                value=bad[0],
                value_repr=repr(bad[0]),
                value_type="int",
            )

    def check(
        self, lf: Any, batches: Iterable[tuple[str, pd.DataFrame]], *, progress: bool | None = None
    ) -> None:
        """Compute ``lf`` on ``batches`` without registering it; raise if it returns anything but labels.

        Run it before :meth:`add` to refuse an LF that would otherwise stop every later
        :meth:`apply`. Exceptions raised inside the LF are not a reason to refuse it (they are
        isolated as in :meth:`apply`). The votes computed here are not lost: the next
        :meth:`apply` uses them (and reports them in ``computed`` and ``timings``, as if it had
        computed them) when the LF registered under that name still has this fingerprint.
        Data versions whose votes are already cached for this fingerprint are only checked
        against the cardinality. Volatile LFs (see :attr:`BaseLF.volatile`) are computed here
        and again by :meth:`apply`.

        Parameters
        ----------
        lf : LF
            The LF to check, with its question set.
        batches : iterable of (data_version, DataFrame)
            As for :meth:`apply`.
        progress : bool or None, optional
            Overrides the engine's ``progress`` for this call.

        Raises
        ------
        LFError
            The LF returned a value that is not ``ABSTAIN`` or a label ``0..cardinality-1``, not
            one value per row, a Series indexed unlike its input, or it changed its input. The
            message names the LF, the row id and the value. Also when the process running it
            died.
        LFTimeoutError
            It did not finish within the engine's ``timeout`` (it would be run, and waited for,
            again by every apply: timeouts are never cached).

        Examples
        --------
        >>> import pandas as pd
        >>> from workbench.exceptions import LFError
        >>> from workbench.lf import LFEngine, labeling_function
        >>> engine = LFEngine(n_jobs=1, progress=False, timeout=None)
        >>> too_big = labeling_function(name="too_big")(lambda x: 5)
        >>> try:
        ...     engine.check(too_big, [("d1", pd.DataFrame({"text": ["hi"]}, index=["a"]))])
        ... except LFError as exc:
        ...     print(str(exc)[:54])
        The labeling function 'too_big' returned 5 for row 'a'
        >>> "too_big" in engine                       # checked, not registered
        False
        """
        wlf = as_lf(lf)
        self._check_declared_labels(wlf)
        progress = self.progress if progress is None else progress
        card = self._card(wlf)
        report = wlf.fingerprint_report()
        fp = report.digest
        prior = self._staged.get(wlf.name)
        kept = prior[1] if prior is not None and prior[0] == fp else {}
        fresh: dict[str, tuple[np.ndarray, LFErrorRecord | None, float]] = {}
        for dv, df in _batch_list(batches):
            if dv in kept and len(kept[dv][0]) == len(df):
                fresh[dv] = kept[dv]
                continue
            if not report.volatile:
                hit = self._cache_get(fp, dv, len(df), warn=False)
                if hit is not None:
                    _check_cached_votes(wlf, hit[0], card, df.index, dv)
                    continue
            try:
                labels, errs, secs = self._compute([wlf], df, [card], progress, dv)
            except LFOutputError as exc:
                exc.data_version = dv
                raise
            err = errs[0]
            if err is not None and err.kind == "timeout":  # never cached: every later apply would wait again
                raise LFTimeoutError(
                    f"The labeling function {wlf.name!r} did not finish within the time limit of {self.timeout:g} s "
                    f"on data version {dv!r} and was stopped; every later apply would wait for it again. Make it "
                    f"faster, or raise the limit (project.lfs.timeout = seconds, or LFEngine(timeout=...); None "
                    f"disables it)."
                )
            if err is not None and err.kind == "crash":
                raise LFError(
                    f"The process running the labeling function {wlf.name!r} died on data version {dv!r} "
                    f"({err.exception}); every later apply would run it again. Fix the LF (e.g. a C extension it "
                    f"calls)."
                )
            fresh[dv] = (labels[0], err, secs[0])
        if fresh and not report.volatile:
            self._staged[wlf.name] = (fp, fresh)

    def known_votes(self, name: str, n_rows: Mapping[str, int]) -> frozenset[int]:
        """The label ids the registered LF ``name`` is known to vote, without computing anything.

        The labels it declares (builders such as ``keywords(..., label=2)``), and every vote
        it cast on the data versions ``n_rows`` names (``{data version: rows}``) that
        :meth:`check` holds or the cache has for its current fingerprint. Abstains are left
        out; an LF never computed on the data is known only by what it declares.
        """
        lf = self.get(name)
        seen: set[int] = set(lf.output_labels() or ())
        fp = self._fingerprints[name]
        staged = self._staged.get(name)
        held = staged[1] if staged is not None and staged[0] == fp else {}
        for dv, n in n_rows.items():
            entry = held.get(dv)
            arr = entry[0] if entry is not None else None
            if arr is None:
                hit = self._cache_get(fp, dv, int(n), warn=False)
                arr = None if hit is None else hit[0]
            if arr is not None:
                seen.update(int(v) for v in np.unique(arr) if v >= 0)
        return frozenset(seen)

    def remove(self, name: str) -> None:
        """Unregister the LF called ``name`` (its cache files stay until :meth:`prune_cache`)."""
        if name not in self._lfs:
            raise KeyError(f"No labeling function named {name!r}; registered: {list(self._lfs)}.")
        del self._lfs[name]
        del self._fingerprints[name]
        self._staged.pop(name, None)

    def get(self, name: str) -> BaseLF:
        """The registered LF called ``name``."""
        try:
            return self._lfs[name]
        except KeyError:
            raise KeyError(f"No labeling function named {name!r}; registered: {list(self._lfs)}.") from None

    @property
    def lfs(self) -> list[BaseLF]:
        """Registered LFs in registration order."""
        return list(self._lfs.values())

    @property
    def names(self) -> list[str]:
        """Names of the registered LFs in registration order."""
        return list(self._lfs)

    def __len__(self) -> int:
        return len(self._lfs)

    def __contains__(self, name: object) -> bool:
        return name in self._lfs

    def __iter__(self) -> Iterator[BaseLF]:
        return iter(self.lfs)

    def _card(self, lf: BaseLF) -> int:
        if lf.question in self.cardinality:
            return self.cardinality[lf.question]
        if len(self.cardinality) == 1 and None in self.cardinality:
            return self.cardinality[None]
        raise LFError(
            f"The labeling function {lf.name!r} votes on question {lf.question!r}, which the engine does not "
            f"know; known questions: {list(self.cardinality)}. Set question= to one of them."
        )

    # -- cache --------------------------------------------------------------------------
    def _paths(self, fp: str, dv: str) -> tuple[Path, Path]:
        assert self.cache_dir is not None
        stem = f"{fp}-{_version_key(dv)}"
        return self.cache_dir / f"{stem}.npy", self.cache_dir / f"{stem}.json"

    def _remember(self, key: tuple[str, str], arr: np.ndarray, meta: dict[str, Any]) -> None:
        if key in self._memory:
            self._memory.move_to_end(key)
            return
        self._memory[key] = (arr, meta)
        self._memory_size += arr.nbytes
        while self._memory_size > self.memory_cache_bytes and self._memory:
            _, (old, _m) = self._memory.popitem(last=False)
            self._memory_size -= old.nbytes

    def cached(self, fingerprint: str, data_version: str, n_rows: int) -> np.ndarray | None:
        """The votes the cache holds for one LF code fingerprint on one data version, or None.

        Nothing is computed and no LF needs to be registered: the fingerprint (e.g. from a
        label version's manifest) names the entry. An entry that is absent, unreadable, or not
        a 1-d int8 vector of ``n_rows`` votes recorded for that fingerprint and data version
        counts as absent, without a warning (:meth:`verify_cache` says what is wrong with it).

        Parameters
        ----------
        fingerprint : str
            An LF code fingerprint (:attr:`BaseLF.fingerprint`, 24 hex digits).
        data_version : str
            The data version.
        n_rows : int
            Its number of rows.

        Returns
        -------
        ndarray of int8, shape (n_rows,), or None
        """
        if not isinstance(fingerprint, str) or not FINGERPRINT_PATTERN.match(fingerprint):
            raise LFError(f"The 'fingerprint' parameter of LFEngine.cached must be an LF code fingerprint (24 "
                          f"lower-case hex digits, as BaseLF.fingerprint gives). Got {fingerprint!r} instead.")
        hit = self._cache_get(fingerprint, str(data_version), int(n_rows), warn=False)
        return None if hit is None else hit[0]

    def _forget(self, key: tuple[str, str]) -> None:
        hit = self._memory.pop(key, None)
        if hit is not None:
            self._memory_size -= hit[0].nbytes

    def _cache_get(self, fp: str, dv: str, n: int, *, warn: bool = True) -> tuple[np.ndarray, dict[str, Any]] | None:
        key = (fp, dv)
        hit = self._memory.get(key)
        if hit is None and self.cache_dir is not None:
            npy, meta_path = self._paths(fp, dv)
            if npy.exists() and meta_path.exists():
                try:
                    arr = np.load(npy, allow_pickle=False)
                    meta = json.loads(meta_path.read_text(encoding="utf-8"))
                except (OSError, ValueError, EOFError) as exc:  # an empty file: EOFError
                    if warn:
                        warnings.warn(f"Ignoring unreadable LF cache file {npy}: {exc}", RuntimeWarning, stacklevel=3)
                    return None
                if not isinstance(meta, dict):
                    meta = {"fingerprint": None}  # a sidecar that is not an object names no fingerprint
                digest = meta.get("votes_sha256")
                if digest is not None and (not isinstance(arr, np.ndarray) or arr.dtype != np.int8
                                           or _votes_digest(arr) != digest):
                    if warn:
                        warnings.warn(f"Ignoring LF cache file {npy}: its votes do not match the hash recorded when "
                                      f"they were cached (changed since); recomputing.", RuntimeWarning, stacklevel=3)
                    return None
                hit = (arr, meta)
                self._remember(key, arr, meta)
        if hit is None:
            return None
        arr, meta = hit
        if meta.get("fingerprint", fp) != fp:
            if not warn:
                self._forget(key)
                return None
            warnings.warn(
                f"The LF cache file of fingerprint {fp} for data version {dv!r} has a sidecar naming fingerprint "
                f"{meta.get('fingerprint')!r}; ignoring it and recomputing (LFEngine.verify_cache(repair=True) "
                "removes such files).",
                RuntimeWarning,
                stacklevel=3,
            )
            self._forget(key)
            return None
        if arr.dtype != np.int8 or arr.shape != (n,) or meta.get("data_version") != dv:
            if not warn:
                self._forget(key)
                return None
            warnings.warn(
                f"The cached labels of fingerprint {fp} for data version {dv!r} have shape {arr.shape}, not "
                f"({n},); recomputing. Data versions must be immutable.",
                RuntimeWarning,
                stacklevel=3,
            )
            self._forget(key)
            return None
        self._memory.move_to_end(key)
        return hit

    def _cache_put(self, fp: str, dv: str, arr: np.ndarray, meta: dict[str, Any]) -> None:
        arr = np.ascontiguousarray(arr, dtype=np.int8)
        self._memory.pop((fp, dv), None)
        self._remember((fp, dv), arr, meta)
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        npy, meta_path = self._paths(fp, dv)
        tmp = npy.with_name(npy.name + f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        os.replace(tmp, npy)
        tmpj = meta_path.with_name(meta_path.name + f".{os.getpid()}.tmp")
        meta = {**meta, "votes_sha256": _votes_digest(arr)}  # what verify_cache and reads check the votes against
        tmpj.write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
        os.replace(tmpj, meta_path)

    def clear_cache(self, names: str | Iterable[str] | None = None) -> int:
        """Forget cached votes, in memory and on disk: all of them, or those of the LFs ``names``.

        Parameters
        ----------
        names : str or iterable of str, optional
            LF names; their cached votes of every version of their code (every fingerprint the
            cache recorded under that name) go. None: the whole cache.

        Returns
        -------
        int
            The number of files deleted.

        Raises
        ------
        KeyError
            A name is neither registered nor found in the cache.
        """
        if names is None:
            self._memory.clear()
            self._memory_size = 0
            self._staged.clear()
            removed = 0
            if self.cache_dir is not None and self.cache_dir.exists():
                for p in self.cache_dir.iterdir():
                    if p.is_file() and (p.suffix in (".npy", ".json") or p.name.endswith(".tmp")):
                        p.unlink()
                        removed += 1
            return removed
        wanted = {names} if isinstance(names, str) else set(names)
        sidecars = self._sidecars()
        known = set(self._lfs) | {meta.get("lf") for meta in sidecars.values() if isinstance(meta, dict)}
        unknown = sorted(wanted - known)
        if unknown:
            raise KeyError(
                f"clear_cache: no labeling function named {unknown[0]!r} is registered or cached; registered: "
                f"{list(self._lfs)}. Pass registered names, or names=None to clear the whole cache."
            )
        fps = {fp for name, fp in self._fingerprints.items() if name in wanted}
        for name in wanted:
            self._staged.pop(name, None)
        for key in [k for k, (_arr, meta) in self._memory.items() if meta.get("lf") in wanted or k[0] in fps]:
            arr, _meta = self._memory.pop(key)
            self._memory_size -= arr.nbytes
        removed = 0
        if self.cache_dir is None or not self.cache_dir.exists():
            return 0
        for stem, meta in sidecars.items():
            fp = stem.split("-", 1)[0]
            if (isinstance(meta, dict) and meta.get("lf") in wanted) or fp in fps:
                for suffix in (".npy", ".json"):
                    path = self.cache_dir / f"{stem}{suffix}"
                    if path.exists():
                        path.unlink()
                        removed += 1
        for p in self.cache_dir.glob("*.npy"):  # votes whose sidecar is missing
            if p.name.split("-", 1)[0] in fps:
                p.unlink()
                removed += 1
        return removed

    def _sidecars(self) -> dict[str, Any]:
        """Cache-file stem -> parsed JSON sidecar (None when unreadable)."""
        out: dict[str, Any] = {}
        if self.cache_dir is None or not self.cache_dir.exists():
            return out
        for p in sorted(self.cache_dir.glob("*.json")):
            try:
                out[p.stem] = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                out[p.stem] = None
        return out

    def verify_cache(self, n_rows: Mapping[str, int] | None = None, *, repair: bool = False) -> LFCacheReport:
        """Check every file of the on-disk cache against its name, its sidecar and (optionally) the data.

        An entry is a ``<fingerprint>-<data version>.npy`` int8 vector plus its ``.json`` sidecar.
        It is bad when either file is unreadable or missing, when the sidecar names another
        fingerprint or data version than the file name, when the array is not a 1-d int8 vector
        of the sidecar's ``n_rows`` (or of ``n_rows[data_version]`` when given), or when it holds
        a vote outside ``-1..cardinality-1`` of the LF that owns the fingerprint. Any other file
        in the directory is unknown.

        Parameters
        ----------
        n_rows : mapping, optional
            Data version -> its number of rows, to check the entries' length against the data.
        repair : bool, default False
            Delete bad and unknown files (and forget them in memory); the next apply recomputes them.

        Returns
        -------
        LFCacheReport
        """
        report = LFCacheReport(checked=0, problems=[], unregistered=[], removed=[])
        if self.cache_dir is None or not self.cache_dir.exists():
            return report
        owners = {fp: self._lfs[name] for name, fp in self._fingerprints.items() if name in self._lfs}
        files = sorted(p for p in self.cache_dir.iterdir() if p.is_file())
        stems: dict[str, set[str]] = {}
        for p in files:
            m = _CACHE_FILE.match(p.name)
            if m is None:
                tmp = p.name.endswith(".tmp")
                what = "a temporary file left by an interrupted write" if tmp else "not a cache file"
                report.problems.append(LFCacheProblem(str(p), f"unknown file: {what}"))
                continue
            stems.setdefault(p.name.rsplit(".", 1)[0], set()).add(m["ext"])
        for stem, exts in sorted(stems.items()):
            fp, version = stem.split("-", 1)
            npy, meta_path = self.cache_dir / f"{stem}.npy", self.cache_dir / f"{stem}.json"
            if exts != {"npy", "json"}:
                have, lacks = (npy, "sidecar .json") if "npy" in exts else (meta_path, "votes .npy")
                report.problems.append(LFCacheProblem(str(have), f"orphan: its {lacks} is missing"))
                continue
            bad = self._check_entry(npy, meta_path, fp, version, n_rows, owners.get(fp))
            if bad is not None:
                report.problems.append(LFCacheProblem(str(npy), bad))
                continue
            report.checked += 1
            if fp not in owners:
                report.unregistered.append(stem)
        if repair:
            for problem in report.problems:
                path = Path(problem.path)
                m = _CACHE_FILE.match(path.name)
                targets = [path]
                if m is not None:
                    stem = path.name.rsplit(".", 1)[0]
                    targets = [self.cache_dir / f"{stem}.npy", self.cache_dir / f"{stem}.json"]
                    fp, version = stem.split("-", 1)
                    for key in [k for k in self._memory if k[0] == fp and _version_key(k[1]) == version]:
                        arr, _meta = self._memory.pop(key)
                        self._memory_size -= arr.nbytes
                for t in targets:
                    if t.exists():
                        t.unlink()
                        report.removed.append(str(t))
        return report

    def _check_entry(
        self,
        npy: Path,
        meta_path: Path,
        fp: str,
        version: str,
        n_rows: Mapping[str, int] | None,
        owner: BaseLF | None,
    ) -> str | None:
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return f"unreadable sidecar {meta_path.name}: {exc}"
        if not isinstance(meta, dict) or not {"lf", "fingerprint", "data_version", "n_rows"} <= set(meta):
            return f"sidecar {meta_path.name} lacks lf/fingerprint/data_version/n_rows"
        if meta["fingerprint"] != fp:
            return f"sidecar names fingerprint {meta['fingerprint']!r}, the file name {fp!r}"
        dv = meta["data_version"]
        if not isinstance(dv, str) or _version_key(dv) != version:
            return f"sidecar names data version {dv!r}, which does not match the file name"
        try:
            arr = np.load(npy, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            return f"unreadable votes: {exc}"
        if arr.dtype != np.int8 or arr.ndim != 1:
            return f"votes have dtype {arr.dtype} and shape {arr.shape}; expected a 1-d int8 vector"
        expected = n_rows.get(dv) if n_rows is not None else None
        if arr.shape[0] != meta["n_rows"] or (expected is not None and arr.shape[0] != expected):
            want = meta["n_rows"] if expected is None else expected
            return f"votes have {arr.shape[0]} rows; data version {dv!r} has {want}"
        if len(arr):
            lo, hi = int(arr.min()), int(arr.max())
            card = self._card(owner) if owner is not None and owner.question in self.cardinality else 127
            if lo < ABSTAIN or hi >= card:
                return f"votes range over {lo}..{hi}; expected ABSTAIN (-1) or a label in 0..{card - 1}"
        digest = meta.get("votes_sha256")
        if digest is not None and _votes_digest(np.asarray(arr)) != digest:
            return "votes do not match the hash recorded when they were cached (the file was changed since)"
        return None

    def prune_cache(self) -> int:
        """Delete cache files of fingerprints no registered LF has; returns how many files went."""
        if self.cache_dir is None or not self.cache_dir.exists():
            return 0
        keep = set(self._fingerprints.values())
        removed = 0
        for p in self.cache_dir.iterdir():
            if p.suffix in (".npy", ".json") and p.name.split("-", 1)[0] not in keep:
                p.unlink()
                removed += 1
        return removed

    # -- apply --------------------------------------------------------------------------
    def apply(self, batches: Iterable[tuple[str, pd.DataFrame]], *, progress: bool | None = None) -> LFResult:
        """Label every row of every batch with every registered LF, reusing cached results.

        Parameters
        ----------
        batches : iterable of (data_version, DataFrame)
            Immutable data versions, each a frame indexed by example id. A batch's rows are
            cached under its data version, so the same version must always hold the same rows.
        progress : bool or None, optional
            Overrides the engine's ``progress`` for this call.

        Returns
        -------
        LFResult

        Raises
        ------
        LFError
            An LF returned something that is not a label (wrong type, out of range, wrong
            length, a Series indexed unlike its input), or cached votes of an LF are outside
            its question's cardinality (it shrank); the message names the LF and a row id, and
            the LF stays registered until it is fixed or removed. Exceptions raised *inside*
            LFs do not stop the apply: they are recorded in ``result.errors``, those rows
            abstain. :meth:`check` finds invalid outputs before an LF is registered.
        """
        progress = self.progress if progress is None else progress
        blist = _batch_list(batches)
        lfs = self.lfs
        names = [lf.name for lf in lfs]
        reports = {lf.name: lf.fingerprint_report() for lf in lfs}
        fps = {name: rep.digest for name, rep in reports.items()}
        volatile = {name: rep.volatile_reason for name, rep in reports.items() if rep.volatile_reason}
        self._fingerprints.update(fps)
        cards = {lf.name: self._card(lf) for lf in lfs}
        pieces: dict[tuple[str, int], np.ndarray] = {}
        errors: dict[str, LFErrorRecord] = {}
        timings = {n: 0.0 for n in names}
        computed: dict[str, list[str]] = {n: [] for n in names}

        def add_error(name: str, rec: LFErrorRecord | None) -> None:
            if rec is None:
                return
            errors[name] = errors[name].merge(rec) if name in errors else rec

        def computed_now(lf: BaseLF, b: int, dv: str, n: int, arr: np.ndarray, rec: LFErrorRecord | None,
                         sec: float) -> None:
            # Timeouts and crashes say nothing about the LF's votes: never cached.
            if lf.name not in volatile and (rec is None or rec.kind == "exception"):
                meta = {
                    "lf": lf.name,
                    "fingerprint": fps[lf.name],
                    "data_version": dv,
                    "n_rows": n,
                    "seconds": sec,
                    "error": rec.to_dict() if rec is not None else None,
                }
                self._cache_put(fps[lf.name], dv, arr, meta)
            pieces[(lf.name, b)] = arr
            add_error(lf.name, rec)
            timings[lf.name] += sec
            computed[lf.name].append(dv)

        for b, (dv, df) in enumerate(blist):
            missing: list[BaseLF] = []
            for lf in lfs:
                if lf.name in volatile:  # cannot be trusted to name a cache entry: always recomputed
                    missing.append(lf)
                    continue
                hit = self._cache_get(fps[lf.name], dv, len(df))
                if hit is None:
                    staged = self._take_staged(lf.name, fps[lf.name], dv, len(df))
                    if staged is not None:  # computed by check() when the LF was registered
                        computed_now(lf, b, dv, len(df), *staged)
                    else:
                        missing.append(lf)
                    continue
                _check_cached_votes(lf, hit[0], cards[lf.name], df.index, dv)
                pieces[(lf.name, b)] = hit[0]
                if hit[1].get("error"):
                    add_error(lf.name, LFErrorRecord.from_dict(hit[1]["error"]))
            if not missing:
                continue
            try:
                labels, errs, secs = self._compute(missing, df, [cards[lf.name] for lf in missing], progress, dv)
            except LFOutputError as exc:
                exc.data_version = dv
                raise
            for k, lf in enumerate(missing):
                computed_now(lf, b, dv, len(df), labels[k], errs[k], secs[k])

        n_total = sum(len(df) for _, df in blist)
        L = np.empty((n_total, len(lfs)), dtype=np.int8, order="F")  # column-major: cheap per-LF access
        start = 0
        for b, (_dv, df) in enumerate(blist):
            stop = start + len(df)
            for j, name in enumerate(names):
                L[start:stop, j] = pieces[(name, b)]
            start = stop
        if len(blist) == 1:
            row_ids = blist[0][1].index
        elif blist:
            row_ids = blist[0][1].index.append([df.index for _, df in blist[1:]])
        else:
            row_ids = pd.Index([], name="id", dtype=object)
        return LFResult(
            L=L,
            lf_names=names,
            row_ids=row_ids,
            # one question (the engine knows the key None): every LF votes on it, whether it names it or not
            questions={lf.name: None if None in self.cardinality else lf.question for lf in lfs},
            errors=errors,
            timings=timings,
            computed=computed,
            volatile=volatile,
        )

    def _take_staged(
        self, name: str, fp: str, dv: str, n: int
    ) -> tuple[np.ndarray, LFErrorRecord | None, float] | None:
        """The votes :meth:`check` computed for LF ``name`` at fingerprint ``fp`` on ``dv`` (forgotten once taken)."""
        staged = self._staged.get(name)
        if staged is None or staged[0] != fp or dv not in staged[1]:
            return None
        entry = staged[1].pop(dv)
        if not staged[1]:
            del self._staged[name]
        return entry if len(entry[0]) == n else None

    # -- computing ----------------------------------------------------------------------
    def _compute(
        self, lfs: list[BaseLF], df: pd.DataFrame, cards: list[int], progress: bool | None, dv: str
    ) -> tuple[list[np.ndarray], list[LFErrorRecord | None], list[float]]:
        if self.backend == "dask":  # Dask's workers run the LFs; it has its own means to stop them
            return self._compute_dask(lfs, df, cards, dv)
        labels: list[np.ndarray] = [np.empty(0, np.int8)] * len(lfs)
        errs: list[LFErrorRecord | None] = [None] * len(lfs)
        secs = [0.0] * len(lfs)
        guarded: list[int] = []
        if self.timeout is not None and any(lf._runs_user_code() for lf in lfs):
            if "fork" in mp.get_all_start_methods():
                guarded = [k for k, lf in enumerate(lfs) if lf._runs_user_code()]
            else:
                self._warn_no_timeout("it needs the 'fork' start method, which this platform lacks")
        local = [k for k in range(len(lfs)) if k not in set(guarded)]
        if local:
            sub = [lfs[k] for k in local]
            out = self._compute_local(sub, df, [cards[k] for k in local], progress, dv)
            for i, k in enumerate(local):
                labels[k], errs[k], secs[k] = out[0][i], out[1][i], out[2][i]
        if guarded:
            sub = [lfs[k] for k in guarded]
            out = self._compute_guarded(sub, df, [cards[k] for k in guarded], progress, dv)
            for i, k in enumerate(guarded):
                labels[k], errs[k], secs[k] = out[0][i], out[1][i], out[2][i]
        return labels, errs, secs

    def _warn_no_timeout(self, why: str) -> None:
        if not self._warned_no_timeout:
            self._warned_no_timeout = True
            warnings.warn(
                f"LFEngine(timeout={self.timeout}) cannot stop labeling functions here: {why}. LFs run without a "
                "time limit; pass timeout=None to silence this warning.",
                RuntimeWarning,
                stacklevel=4,
            )

    def _compute_local(
        self, lfs: list[BaseLF], df: pd.DataFrame, cards: list[int], progress: bool | None, dv: str
    ) -> tuple[list[np.ndarray], list[LFErrorRecord | None], list[float]]:
        """Compute ``lfs`` in this process (vectorized ones on threads for large batches)."""
        n = len(df)
        labels: list[np.ndarray] = [np.empty(0, np.int8)] * len(lfs)
        errs: list[LFErrorRecord | None] = [None] * len(lfs)
        secs = [0.0] * len(lfs)
        vec = [k for k, lf in enumerate(lfs) if lf.kind != "row"]
        rows = [k for k, lf in enumerate(lfs) if lf.kind == "row"]
        if vec:
            shared = _SharedInput(df)
            bar = _progress(len(vec), f"vectorized LFs on {dv}", progress)

            def run_one(k: int) -> tuple[int, np.ndarray, LFErrorRecord | None, float]:
                arr, rec, sec = _run_vectorized(lfs[k], shared, cards[k])
                return k, arr, rec, sec

            threads = min(self._workers(), len(vec)) if n >= _THREADED_MIN_ROWS else 1
            try:
                if threads > 1:
                    # Arrow's regex kernels release the GIL: builders run truly in parallel.
                    with ThreadPoolExecutor(max_workers=threads) as pool:
                        outcomes = []
                        for res in pool.map(run_one, vec):
                            outcomes.append(res)
                            bar.update(1)
                else:
                    outcomes = []
                    for k in vec:
                        outcomes.append(run_one(k))
                        bar.update(1)
            finally:
                bar.close()
            for k, arr, rec, sec in outcomes:
                labels[k], errs[k], secs[k] = arr, rec, sec
        if rows:
            out, rerrs, rsecs = self._apply_rows_local(
                [lfs[k] for k in rows], df, [cards[k] for k in rows], progress, dv
            )
            for i, k in enumerate(rows):
                labels[k] = np.ascontiguousarray(out[:, i])
                errs[k] = rerrs[i]
                secs[k] = rsecs[i]
        return labels, errs, secs

    def _compute_guarded(
        self, lfs: list[BaseLF], df: pd.DataFrame, cards: list[int], progress: bool | None, dv: str
    ) -> tuple[list[np.ndarray], list[LFErrorRecord | None], list[float]]:
        """Compute ``lfs`` one by one in a forked worker, killing it when one overruns ``timeout``.

        After a timeout (or a crash of the worker) a new worker carries on with the next LF, so
        the other LFs' votes are still returned.
        """
        assert self.timeout is not None
        timeout = self.timeout
        n = len(df)
        first_ids = [str(i) for i in df.index[:_MAX_ERROR_IDS]]
        labels: list[np.ndarray] = [np.full(n, ABSTAIN, dtype=np.int8) for _ in lfs]
        errs: list[LFErrorRecord | None] = [None] * len(lfs)
        secs = [0.0] * len(lfs)
        todo = list(range(len(lfs)))
        ctx = mp.get_context("fork")
        bar = _progress(len(lfs), f"LFs on {dv}", progress)
        try:
            while todo:
                receiver, sender = ctx.Pipe(duplex=False)
                proc = ctx.Process(
                    target=_guarded_worker, args=(sender, self, lfs, list(todo), df, cards), name="workbench-lf"
                )
                proc.start()
                sender.close()
                with contextlib.suppress(OSError):
                    assert proc.pid is not None
                    os.setpgid(proc.pid, proc.pid)  # the worker and its own pool can be killed together
                current: int | None = None
                started = time.monotonic()
                try:
                    while True:
                        wait = max(0.0, started + timeout - time.monotonic())
                        if not receiver.poll(wait if current is not None else max(wait, 60.0)):
                            if current is None:
                                continue
                            # Overran: stop the worker, report the LF, carry on with the next one.
                            elapsed = time.monotonic() - started
                            _kill(proc)
                            msg = (
                                f"The labeling function {lfs[current].name!r} did not finish within the time limit "
                                f"of {timeout:g} s on data version {dv!r}; it was stopped after {elapsed:.1f} s and "
                                "its rows abstain (nothing was cached). Make it faster, or raise the limit with "
                                "LFEngine(timeout=...) (None disables it)."
                            )
                            errs[current] = LFErrorRecord(
                                lfs[current].name, n, repr(LFTimeoutError(msg)), msg, first_ids, "timeout"
                            )
                            secs[current] = elapsed
                            todo.remove(current)
                            bar.update(1)
                            break
                        try:
                            message = receiver.recv()
                        except EOFError:
                            proc.join(5)
                            if current is not None:
                                code = proc.exitcode
                                msg = (
                                    f"The process running the labeling function {lfs[current].name!r} on data version "
                                    f"{dv!r} died (exit code {code}) before it returned; its rows abstain and nothing "
                                    "was cached. A crash in compiled code or a call to os._exit() inside the LF does "
                                    "this; run the LF on one row in a notebook to see the failure."
                                )
                                errs[current] = LFErrorRecord(lfs[current].name, n, msg, "", first_ids, "crash")
                                todo.remove(current)
                                bar.update(1)
                            elif todo:
                                raise LFError(
                                    f"The worker process computing labeling functions on data version {dv!r} exited "
                                    f"(exit code {proc.exitcode}) before starting {lfs[todo[0]].name!r}. Retry, or "
                                    "pass LFEngine(timeout=None) to compute LFs in-process."
                                ) from None
                            break
                        kind = message[0]
                        if kind == "start":
                            current = message[1]
                            started = time.monotonic()
                        elif kind == "done":
                            _, k, arr, rec, sec = message
                            labels[k], errs[k], secs[k] = arr, rec, sec
                            todo.remove(k)
                            current = None
                            bar.update(1)
                        elif kind == "lferror":
                            _kill(proc)
                            if message[3] is not None:
                                raise LFOutputError(**message[3])
                            raise LFError(message[2])
                finally:
                    receiver.close()
                    if proc.is_alive():
                        _kill(proc)
                    proc.join(5)
        finally:
            bar.close()
        return labels, errs, secs

    def _workers(self) -> int:
        return (os.cpu_count() or 1) if self.n_jobs == -1 else self.n_jobs

    def _apply_rows_local(
        self, lfs: list[BaseLF], df: pd.DataFrame, cards: list[int], progress: bool | None, dv: str
    ) -> tuple[np.ndarray, list[LFErrorRecord | None], list[float]]:
        n = len(df)
        columns = [str(c) for c in df.columns]
        values = [df[c].tolist() for c in df.columns]
        ids = df.index.tolist()
        workers = min(self._workers(), max(1, n // _MIN_CHUNK))
        parallel = workers > 1 and n * len(lfs) >= _PARALLEL_MIN_CALLS
        n_chunks = max(1, workers * 4) if parallel else max(1, min(20, n // 5_000))
        size = math.ceil(n / n_chunks) if n else 1
        bounds = [(s, min(n, s + size)) for s in range(0, n, size)] or [(0, 0)]
        show = progress if progress is not None else None
        if progress is None and n * len(lfs) < 20_000:
            show = False
        bar = _progress(n, f"per-row LFs on {dv}", show)
        results: list[tuple[np.ndarray, list[Any], list[float]]] = []
        method = self._mp_start_method
        if method is None:
            method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        try:
            if parallel and method == "fork":
                _FORK_STATE.update(lfs=lfs, columns=columns, values=values, ids=ids, cards=cards)
                try:
                    fork_ctx = mp.get_context("fork")
                    with ProcessPoolExecutor(max_workers=workers, mp_context=fork_ctx) as ex:
                        futs = [ex.submit(_fork_chunk, s, e) for s, e in bounds]
                        for (s, e), fut in zip(bounds, futs, strict=True):
                            results.append(fut.result())
                            bar.update(e - s)
                finally:
                    _FORK_STATE.clear()
            elif parallel:
                payload = self._cloudpickle(lfs)
                if payload is None:
                    parallel = False
                else:
                    ctx = mp.get_context(method)
                    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
                        futs = [
                            ex.submit(_spawn_chunk, payload, columns, [v[s:e] for v in values], ids[s:e], list(cards))
                            for s, e in bounds
                        ]
                        for (s, e), fut in zip(bounds, futs, strict=True):
                            results.append(fut.result())
                            bar.update(e - s)
            if not parallel:
                for s, e in bounds:
                    results.append(_apply_row_lfs(lfs, columns, [v[s:e] for v in values], ids[s:e], cards))
                    bar.update(e - s)
        finally:
            bar.close()
        out = np.concatenate([r[0] for r in results], axis=0) if results else np.empty((0, len(lfs)), np.int8)
        errs: list[LFErrorRecord | None] = []
        secs: list[float] = []
        for j, lf in enumerate(lfs):
            rec: LFErrorRecord | None = None
            for r in results:
                e = r[1][j]
                if e is not None:
                    new = LFErrorRecord(lf.name, e[0], e[1], e[2], list(e[3]))
                    rec = new if rec is None else rec.merge(new)
            errs.append(rec)
            secs.append(sum(r[2][j] for r in results) / (workers if parallel else 1))
        return out, errs, secs

    @staticmethod
    def _cloudpickle(lfs: list[BaseLF]) -> bytes | None:
        try:
            import cloudpickle
        except ImportError:
            _log.info("cloudpickle is not installed; running per-row LFs in-process.")
            return None
        try:
            return bytes(cloudpickle.dumps(lfs))
        except Exception as exc:  # noqa: BLE001 - any pickling failure means in-process
            _log.info("Labeling functions cannot be pickled (%r); running them in-process.", exc)
            return None

    def _compute_dask(
        self, lfs: list[BaseLF], df: pd.DataFrame, cards: list[int], dv: str
    ) -> tuple[list[np.ndarray], list[LFErrorRecord | None], list[float]]:
        import dask
        import dask.dataframe as dd

        n = len(df)
        t0 = time.perf_counter()
        if self.client is not None:
            workers = max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))
        else:
            workers = self._workers()
        nparts = max(1, min(workers * 4, math.ceil(n / 2_000))) if n else 1
        with dask.config.set({"dataframe.convert-string": False}):
            ddf = dd.from_pandas(df, npartitions=nparts, sort=False)
        token = hashlib.sha256("|".join(lf.fingerprint for lf in lfs).encode() + repr(cards).encode()).hexdigest()
        payload = _DaskPayload(lfs, cards, token)
        meta = pd.DataFrame(
            {
                **{f"l{j}": pd.Series(dtype="int8") for j in range(len(lfs))},
                **{f"e{j}": pd.Series(dtype="int8") for j in range(len(lfs))},
            },
            index=df.index[:0],
        )
        mapped = ddf.map_partitions(_dask_partition, payload, meta=meta)
        res = self.client.compute(mapped).result() if self.client is not None else mapped.compute()
        if len(res) != n:
            raise LFError(f"The Dask backend returned {len(res)} rows for data version {dv!r} of {n} rows.")
        ids = df.index.tolist()
        labels: list[np.ndarray] = []
        errs: list[LFErrorRecord | None] = []
        for j, lf in enumerate(lfs):
            labels.append(res[f"l{j}"].to_numpy(dtype=np.int8))
            flagged = np.flatnonzero(res[f"e{j}"].to_numpy() != 0)
            if len(flagged) == 0:
                errs.append(None)
                continue
            text, tb = _reproduce_error(lf, df, int(flagged[0]))
            errs.append(LFErrorRecord(lf.name, len(flagged), text, tb, [str(ids[i]) for i in flagged[:_MAX_ERROR_IDS]]))
        elapsed = time.perf_counter() - t0
        return labels, errs, [elapsed / max(1, len(lfs))] * len(lfs)


def _row_at(df: pd.DataFrame, i: int) -> Row:
    """Row ``i`` of ``df`` exactly as the per-row applier builds it (Python scalars per column)."""
    values = {str(c): df[c].iloc[i : i + 1].tolist()[0] for c in df.columns}
    return _make_row(values, df.index[i])


def _reproduce_error(lf: BaseLF, df: pd.DataFrame, i: int) -> tuple[str, str]:
    """Re-run ``lf`` locally on row ``i`` to capture the exception a Dask worker saw."""
    try:
        if lf.kind == "row":
            lf(_row_at(df, i))
        else:
            lf.apply_frame(df.iloc[i : i + 1])  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001
        return _format_exc(exc)
    return "<raised on a Dask worker; not reproducible locally>", ""


# Keep the helpers importable for tests.
_ = (Row, frame_of_row)
