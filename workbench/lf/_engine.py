"""The LF application engine: registry, on-disk cache, local (multi-core) and Dask appliers.

Results are cached per (LF fingerprint, data version): one ``int8`` ``.npy`` file per pair plus
a small JSON sidecar holding the error record, never a pickle. Applying after an edit re-runs
only the edited LF; applying after a new data version runs every LF on the new rows only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import multiprocessing as mp
import os
import re
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
from workbench.exceptions import LFError
from workbench.lf._lfs import BaseLF, Row, _make_row, _to_label_array, as_lf, frame_of_row
from workbench.lf._regex import TextColumnCache

__all__ = ["LFEngine", "LFResult", "LFErrorRecord"]

_log = logging.getLogger(__name__)

_MAX_ERROR_IDS = 10
_SAFE_VERSION = re.compile(r"^[A-Za-z0-9._-]{1,120}$")
#: Below this many (row x row-LF) calls, per-row LFs run in-process (a pool costs ~50 ms).
_PARALLEL_MIN_CALLS = 40_000
_MIN_CHUNK = 1_000
#: Vectorized LFs run in a thread pool from this many rows on.
_THREADED_MIN_ROWS = 20_000


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
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
    """

    lf: str
    count: int
    exception: str
    traceback: str
    row_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lf": self.lf,
            "count": self.count,
            "exception": self.exception,
            "traceback": self.traceback,
            "row_ids": list(self.row_ids),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LFErrorRecord:
        return cls(str(d["lf"]), int(d["count"]), str(d["exception"]), str(d["traceback"]), list(d["row_ids"]))

    def merge(self, other: LFErrorRecord) -> LFErrorRecord:
        ids = (self.row_ids + other.row_ids)[:_MAX_ERROR_IDS]
        return LFErrorRecord(self.lf, self.count + other.count, self.exception, self.traceback, ids)


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
        LF name -> seconds spent computing it in this call (0.0 when fully cached).
    computed : dict
        LF name -> data versions computed in this call (cache misses); empty when cached.
    """

    L: np.ndarray
    lf_names: list[str]
    row_ids: pd.Index
    questions: dict[str, str | None]
    errors: dict[str, LFErrorRecord]
    timings: dict[str, float]
    computed: dict[str, list[str]]

    @property
    def cache_hits(self) -> list[str]:
        """Names of the LFs served entirely from the cache."""
        return [n for n in self.lf_names if not self.computed.get(n)]

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


# --------------------------------------------------------------------------------------
# Per-row application (in-process and in worker processes)
# --------------------------------------------------------------------------------------
def _format_exc(exc: BaseException) -> tuple[str, str]:
    return repr(exc), "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _validate_labels(lf: BaseLF, values: np.ndarray, cardinality: int, ids: Sequence[Any] | pd.Index) -> np.ndarray:
    bad = (values < ABSTAIN) | (values >= cardinality)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LFError(
            f"The labeling function {lf.name!r} returned {int(values[i])} for row {ids[i]!r}; expected a "
            f"label in 0..{cardinality - 1} or ABSTAIN (-1) (cardinality {cardinality}"
            f"{'' if lf.question is None else ', question ' + repr(lf.question)}). Fix the LF's return "
            "value or the engine's cardinality."
        )
    return values.astype(np.int8)


def _coerce_row_outputs(lf: BaseLF, vals: list[Any], ids: Sequence[Any]) -> np.ndarray:
    if all(type(v) is int for v in vals):
        return np.array(vals, dtype=np.int64)
    out = np.empty(len(vals), dtype=np.int64)
    for i, v in enumerate(vals):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            hint = " (did the function forget to return ABSTAIN?)" if v is None else ""
            raise LFError(
                f"The labeling function {lf.name!r} returned {v!r} ({type(v).__name__}) for row {ids[i]!r}; "
                f"expected an int class label or ABSTAIN (-1){hint}."
            )
        out[i] = int(v)
    return out


def _apply_row_lfs(
    lfs: Sequence[BaseLF],
    columns: Sequence[str],
    values: Sequence[Sequence[Any]],
    ids: Sequence[Any],
    cards: Sequence[int],
) -> tuple[np.ndarray, list[tuple[int, str, str, list[str]] | None], list[float]]:
    """Apply per-row LFs to rows ``zip(*values)``; returns labels (n, m), errors, seconds per LF."""
    n = len(ids)
    tuples = list(zip(*values, strict=True)) if values else [()] * n
    rows = [_make_row(dict(zip(columns, tup, strict=True)), rid) for tup, rid in zip(tuples, ids, strict=True)]
    out = np.full((n, len(lfs)), ABSTAIN, dtype=np.int8)
    errors: list[tuple[int, str, str, list[str]] | None] = []
    seconds: list[float] = []
    for j, lf in enumerate(lfs):
        t0 = time.perf_counter()
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
        labels[:, j] = _validate_labels(lf, _to_label_array(lf, raw, n, ids), cards[j], ids)
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
# Engine
# --------------------------------------------------------------------------------------
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

    # -- registry -----------------------------------------------------------------------
    def add(self, lf: Any, question: str | None = None) -> bool:
        """Register ``lf`` (replacing an LF of the same name).

        Returns True when the LF is new or its fingerprint (code, parameters, resources)
        changed, i.e. when the next :meth:`apply` will compute it.
        """
        wlf = as_lf(lf, question=question)
        if question is not None and wlf.question is None:
            wlf.question = question
        card = self._card(wlf)
        labels = wlf.output_labels()
        if labels is not None:
            bad = [lab for lab in labels if lab >= card]
            if bad:
                raise LFError(
                    f"The labeling function {wlf.name!r} votes {bad[0]}, outside 0..{card - 1} (cardinality "
                    f"{card}). Use a label of the schema or raise the engine's cardinality."
                )
        fp = wlf.fingerprint
        changed = self._fingerprints.get(wlf.name) != fp
        self._lfs[wlf.name] = wlf
        self._fingerprints[wlf.name] = fp
        return changed

    def remove(self, name: str) -> None:
        """Unregister the LF called ``name`` (its cache files stay until :meth:`prune_cache`)."""
        if name not in self._lfs:
            raise KeyError(f"No labeling function named {name!r}; registered: {list(self._lfs)}.")
        del self._lfs[name]
        del self._fingerprints[name]

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

    def _cache_get(self, fp: str, dv: str, n: int) -> tuple[np.ndarray, dict[str, Any]] | None:
        key = (fp, dv)
        hit = self._memory.get(key)
        if hit is None and self.cache_dir is not None:
            npy, meta_path = self._paths(fp, dv)
            if npy.exists() and meta_path.exists():
                try:
                    arr = np.load(npy, allow_pickle=False)
                    meta = json.loads(meta_path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    warnings.warn(f"Ignoring unreadable LF cache file {npy}: {exc}", RuntimeWarning, stacklevel=3)
                    return None
                hit = (arr, meta)
                self._remember(key, arr, meta)
        if hit is None:
            return None
        arr, meta = hit
        if arr.dtype != np.int8 or arr.shape != (n,) or meta.get("data_version") != dv:
            warnings.warn(
                f"The cached labels of fingerprint {fp} for data version {dv!r} have shape {arr.shape}, not "
                f"({n},); recomputing. Data versions must be immutable.",
                RuntimeWarning,
                stacklevel=3,
            )
            self._memory.pop(key, None)
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
        tmpj.write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
        os.replace(tmpj, meta_path)

    def clear_cache(self) -> None:
        """Forget every cached result, in memory and on disk."""
        self._memory.clear()
        self._memory_size = 0
        if self.cache_dir is not None and self.cache_dir.exists():
            for p in self.cache_dir.iterdir():
                if p.suffix in (".npy", ".json"):
                    p.unlink()

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
            length); the message names the LF and a row id. Exceptions raised *inside* LFs do
            not stop the apply: they are recorded in ``result.errors``, those rows abstain.
        """
        progress = self.progress if progress is None else progress
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
        lfs = self.lfs
        names = [lf.name for lf in lfs]
        fps = {lf.name: lf.fingerprint for lf in lfs}
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

        for b, (dv, df) in enumerate(blist):
            missing: list[BaseLF] = []
            for lf in lfs:
                hit = self._cache_get(fps[lf.name], dv, len(df))
                if hit is None:
                    missing.append(lf)
                    continue
                pieces[(lf.name, b)] = hit[0]
                if hit[1].get("error"):
                    add_error(lf.name, LFErrorRecord.from_dict(hit[1]["error"]))
            if not missing:
                continue
            labels, errs, secs = self._compute(missing, df, [cards[lf.name] for lf in missing], progress, dv)
            for k, lf in enumerate(missing):
                arr = labels[k]
                rec = errs[k]
                meta = {
                    "lf": lf.name,
                    "fingerprint": fps[lf.name],
                    "data_version": dv,
                    "n_rows": len(df),
                    "seconds": secs[k],
                    "error": rec.to_dict() if rec is not None else None,
                }
                self._cache_put(fps[lf.name], dv, arr, meta)
                pieces[(lf.name, b)] = arr
                add_error(lf.name, errs[k])
                timings[lf.name] += secs[k]
                computed[lf.name].append(dv)

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
            questions={lf.name: lf.question for lf in lfs},
            errors=errors,
            timings=timings,
            computed=computed,
        )

    # -- computing ----------------------------------------------------------------------
    def _compute(
        self, lfs: list[BaseLF], df: pd.DataFrame, cards: list[int], progress: bool | None, dv: str
    ) -> tuple[list[np.ndarray], list[LFErrorRecord | None], list[float]]:
        if self.backend == "dask":
            return self._compute_dask(lfs, df, cards, dv)
        n = len(df)
        ids = df.index  # only indexed when reporting an error
        labels: list[np.ndarray] = [np.empty(0, np.int8)] * len(lfs)
        errs: list[LFErrorRecord | None] = [None] * len(lfs)
        secs = [0.0] * len(lfs)
        vec = [k for k, lf in enumerate(lfs) if lf.kind != "row"]
        rows = [k for k, lf in enumerate(lfs) if lf.kind == "row"]
        if vec:
            cache = TextColumnCache(df)
            bar = _progress(len(vec), f"vectorized LFs on {dv}", progress)

            def run_one(k: int) -> tuple[int, np.ndarray, LFErrorRecord | None, float]:
                lf = lfs[k]
                t0 = time.perf_counter()
                rec: LFErrorRecord | None = None
                try:
                    raw = lf.apply_frame(df, cache)  # type: ignore[attr-defined]
                except LFError:
                    raise
                except Exception as exc:  # noqa: BLE001 - fault isolation
                    text, tb = _format_exc(exc)
                    rec = LFErrorRecord(lf.name, n, text, tb, [str(i) for i in ids[:_MAX_ERROR_IDS]])
                    arr = np.full(n, ABSTAIN, dtype=np.int8)
                else:
                    arr = _validate_labels(lf, _to_label_array(lf, raw, n, ids), cards[k], ids)
                return k, arr, rec, time.perf_counter() - t0

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
