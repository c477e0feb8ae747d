"""The label-model contract: input validation, the ``LabelModel`` base class, tie breaking.

A label model turns a label matrix ``L`` of shape ``(n_items, n_lfs)`` -- one column per
labeling function (or annotator), ``-1`` (:data:`workbench._constants.ABSTAIN`) where it did
not vote and ``0 .. k-1`` otherwise -- into one probability distribution over the ``k``
classes per item.
"""

from __future__ import annotations

import json
import numbers
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from sklearn.base import BaseEstimator

from workbench._constants import ABSTAIN
from workbench.exceptions import DataError, LFError, NotFittedError

__all__ = [
    "LabelModel",
    "TieBreak",
    "break_ties",
    "check_gold",
    "check_label_matrix",
    "get_num_threads",
    "set_num_threads",
]

_T = TypeVar("_T")
_R = TypeVar("_R")

TieBreak = Literal["random", "abstain", "first"]
_TIE_BREAKS: tuple[str, ...] = ("random", "abstain", "first")

#: Two class probabilities closer than this are a tie.
TIE_TOLERANCE: float = 1e-9

#: Rows per block when a label matrix is turned into sparse one-hot blocks.
BLOCK_ROWS: int = 1 << 16

#: ``unlabeled`` parameter values: fit on every row (gold clamped) or on the gold rows only.
_UNLABELED: tuple[str, ...] = ("use", "ignore")

_FORMAT = "workbench.label_model"
_FORMAT_VERSION = 1


def _describe(values: NDArray[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def check_label_matrix(
    L: ArrayLike,
    cardinality: int | None = None,
    *,
    n_lfs: int | None = None,
    name: str = "L",
) -> NDArray[np.integer[Any]]:
    """Validate a label matrix and return it as a compact integer array.

    Parameters
    ----------
    L : array-like of shape (n_items, n_lfs)
        Votes: ``-1`` means abstain, ``0 .. cardinality-1`` are classes. Integer arrays,
        floats with integral values (e.g. read from a CSV), lists and DataFrames are accepted.
    cardinality : int, optional
        Number of classes ``k``. When given, every vote must be below it.
    n_lfs : int, optional
        Expected number of columns (e.g. the number a model was fitted on).
    name : str, default "L"
        Name used in error messages.

    Returns
    -------
    ndarray of shape (n_items, n_lfs)
        ``int8`` when every value fits (``k <= 127``), else ``int16`` or ``int32``. No copy is
        made when ``L`` already is such an array.

    Raises
    ------
    LFError
        If ``L`` is not 2-D, is empty, holds non-integers, NaN, values below ``-1`` or
        values ``>= cardinality``, or has the wrong number of columns.

    Examples
    --------
    >>> check_label_matrix([[0, -1], [1, 1]]).dtype
    dtype('int8')
    """
    if sparse.issparse(L):
        raise LFError(
            f"The label matrix {name!r} must be a dense array-like; got a scipy sparse matrix. "
            "Sparse storage would read 0 as a missing vote; pass a dense int8 array with -1 "
            "for abstain (e.g. L.toarray() after shifting)."
        )
    try:
        arr = np.asarray(L)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise LFError(
            f"The label matrix {name!r} could not be read as a rectangular array ({exc}). "
            "Pass an array-like of shape (n_items, n_lfs) with the same number of votes per row."
        ) from exc
    if arr.ndim != 2:
        hint = " For a single labeling function use L.reshape(-1, 1)." if arr.ndim == 1 else ""
        raise LFError(
            f"The label matrix {name!r} must be 2-D of shape (n_items, n_lfs). "
            f"Got an array with {arr.ndim} dimension(s) and shape {arr.shape} instead.{hint}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise LFError(
            f"The label matrix {name!r} is empty: got shape {arr.shape}. It needs at least "
            "one item (row) and one labeling function (column)."
        )
    kind = arr.dtype.kind
    if kind == "b":
        raise LFError(
            f"The label matrix {name!r} must hold integer votes (-1 = abstain, 0..k-1 = class). "
            "Got a boolean array instead; convert it with L.astype(np.int8) if True/False "
            "are the classes 1/0."
        )
    if kind not in "iuf":
        raise LFError(
            f"The label matrix {name!r} must hold integer votes (-1 = abstain, 0..k-1 = class). "
            f"Got dtype {arr.dtype} instead; map labels to integers first."
        )
    if kind == "f":
        if np.isnan(arr).any():
            raise LFError(
                f"The label matrix {name!r} contains NaN. Use -1 for an abstain, not NaN "
                "(e.g. np.nan_to_num(L, nan=-1))."
            )
        if not np.isfinite(arr).all():
            raise LFError(
                f"The label matrix {name!r} contains infinite values; votes must be -1 "
                "(abstain) or class indices 0..k-1."
            )
        frac = arr[arr != np.round(arr)]
        if frac.size:
            raise LFError(
                f"The label matrix {name!r} must hold integer votes; got {frac.size} "
                f"non-integer value(s) such as {_describe(np.unique(frac))}. Votes are class "
                "indices (-1 = abstain), not probabilities."
            )
    lo = arr.min()
    hi = arr.max()
    if lo < ABSTAIN:
        bad = np.unique(arr[arr < ABSTAIN])
        raise LFError(
            f"The label matrix {name!r} may only contain -1 (abstain) and class indices "
            f"0..k-1. Got value(s) below -1: {_describe(bad)}."
        )
    if cardinality is not None and hi >= cardinality:
        bad = np.unique(arr[arr >= cardinality])
        raise LFError(
            f"The label matrix {name!r} has votes {_describe(bad)} but cardinality is "
            f"{cardinality}, so votes must be in 0..{cardinality - 1} (or -1 = abstain). "
            "Pass a larger cardinality or fix the labeling functions."
        )
    if n_lfs is not None and arr.shape[1] != n_lfs:
        raise LFError(
            f"The label matrix {name!r} has {arr.shape[1]} column(s) but the model was fitted "
            f"on {n_lfs} labeling function(s). Apply the same labeling functions, in the same "
            "order, as at fit time."
        )
    if hi <= np.iinfo(np.int8).max:
        dtype: type[np.integer[Any]] = np.int8
    elif hi <= np.iinfo(np.int16).max:
        dtype = np.int16
    else:
        dtype = np.int32
    return np.asarray(arr, dtype=dtype)


def check_gold(y: ArrayLike, n_items: int, cardinality: int | None = None, *, name: str = "y") -> NDArray[np.int64]:
    """Validate gold labels: 1-D, one per item, ``-1`` where unknown, else ``0..k-1``.

    Raises
    ------
    DataError
        If ``y`` has the wrong shape or holds values that are not class indices.
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise DataError(f"The gold labels {name!r} must be 1-D with one entry per item. Got shape {arr.shape} instead.")
    if arr.shape[0] != n_items:
        raise DataError(
            f"The gold labels {name!r} must have one entry per row of L ({n_items}). Got {arr.shape[0]} instead."
        )
    if arr.size and arr.dtype.kind not in "iuf":
        raise DataError(
            f"The gold labels {name!r} must be integer class indices (-1 = unknown). "
            f"Got dtype {arr.dtype} instead; map labels to integers first."
        )
    if arr.size and arr.dtype.kind == "f" and (np.isnan(arr).any() or (arr != np.round(arr)).any()):
        raise DataError(
            f"The gold labels {name!r} must be integer class indices; use -1 (not NaN) for an unknown label."
        )
    out = arr.astype(np.int64, copy=False)
    if out.size and out.min() < ABSTAIN:
        raise DataError(
            f"The gold labels {name!r} may only contain -1 (unknown) and 0..k-1. "
            f"Got {_describe(np.unique(out[out < ABSTAIN]))}."
        )
    if cardinality is not None and out.size and out.max() >= cardinality:
        raise DataError(
            f"The gold labels {name!r} contain {_describe(np.unique(out[out >= cardinality]))} "
            f"but cardinality is {cardinality} (classes 0..{cardinality - 1})."
        )
    return out


def break_ties(
    proba: NDArray[np.floating[Any]],
    tie_break: str = "random",
    *,
    covered: NDArray[np.bool_] | None = None,
    random_state: int | np.random.Generator | None = None,
    tol: float = TIE_TOLERANCE,
) -> NDArray[np.int64]:
    """Turn class probabilities into predictions, resolving ties by a policy.

    Parameters
    ----------
    proba : ndarray of shape (n, k)
    tie_break : {"random", "abstain", "first"}
        ``"random"`` picks uniformly among the tied classes (seeded by ``random_state``);
        ``"abstain"`` returns ``-1`` for a tie and for every row not ``covered``;
        ``"first"`` takes the lowest tied class index.
    covered : ndarray of bool, optional
        Rows with at least one vote; only used by ``"abstain"``.
    random_state : int, Generator or None
    tol : float, default TIE_TOLERANCE (1e-9)
        Class probabilities within ``tol`` of the top one are tied.

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    if tie_break not in _TIE_BREAKS:
        raise ValueError(f"The 'tie_break' parameter must be one of {list(_TIE_BREAKS)}. Got {tie_break!r} instead.")
    proba = np.asarray(proba, dtype=np.float64)
    pred = proba.argmax(axis=1).astype(np.int64)
    if tie_break == "first":
        return pred
    top = proba.max(axis=1, keepdims=True)
    candidates = proba >= top - tol
    tied = candidates.sum(axis=1) > 1
    if tie_break == "abstain":
        pred[tied] = ABSTAIN
        if covered is not None:
            pred[~np.asarray(covered, dtype=bool)] = ABSTAIN
        return pred
    rows = np.flatnonzero(tied)
    if rows.size:
        rng = np.random.default_rng(random_state)
        noise = rng.random((rows.size, proba.shape[1]))
        noise[~candidates[rows]] = -1.0
        pred[rows] = noise.argmax(axis=1)
    return pred


_SHARED = threading.local()


@contextmanager
def shared_one_hot() -> Iterator[None]:
    """Within this block, :func:`one_hot_blocks` builds each array's blocks once and reuses them.

    For code that fits many models on the same label matrix (cross-validation folds and
    candidates in :class:`~workbench.models.AutoLabelModel`). The cache holds the arrays it
    saw, so an array's ``id`` cannot be recycled while the block runs; the arrays must not be
    modified in place inside it. Per thread; nested blocks share the outer cache.
    """
    outer = getattr(_SHARED, "cache", None)
    if outer is None:
        _SHARED.cache = {}
    try:
        yield
    finally:
        if outer is None:
            _SHARED.cache = None


#: Most worker threads :func:`parallel_map` uses by default (and the environment's cap).
_MAX_DEFAULT_THREADS = 8
_NUM_THREADS: int | None = None
_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()
_WORKER = threading.local()


def _env_threads() -> int:
    raw = os.environ.get("WORKBENCH_NUM_THREADS", "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(
                f"WORKBENCH_NUM_THREADS must be a positive integer; got {raw!r}. Unset it to use every core."
            ) from None
        if value < 1:
            raise ValueError(f"WORKBENCH_NUM_THREADS must be a positive integer; got {raw!r}.")
        return value
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, _MAX_DEFAULT_THREADS))


def get_num_threads() -> int:
    """Worker threads the label models use for block-parallel work.

    The default is every core this process may run on (at most 8), or the environment
    variable ``WORKBENCH_NUM_THREADS``; :func:`set_num_threads` overrides both.
    """
    return _NUM_THREADS if _NUM_THREADS is not None else _env_threads()


def set_num_threads(n: int | None) -> None:
    """Set the worker threads of the label models (``1``: run serially; ``None``: the default).

    The sparse products and numpy's element-wise work release the GIL, so blocks of a large
    label matrix and cross-validation fits run on several cores. Results do not depend on
    the number of threads: partial sums are always combined in block order.

    Parameters
    ----------
    n : int or None
        Threads, at least 1, or None for :func:`get_num_threads`'s default.
    """
    global _NUM_THREADS
    if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1):
        raise ValueError(f"set_num_threads needs an int >= 1 or None; got {n!r}.")
    _NUM_THREADS = None if n is None else int(n)


def _reset_pool_after_fork() -> None:
    global _POOL, _POOL_SIZE, _POOL_LOCK
    _POOL, _POOL_SIZE, _POOL_LOCK = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pool_after_fork)


def _pool(size: int) -> ThreadPoolExecutor:
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:
        if _POOL is None or size != _POOL_SIZE:
            old = _POOL
            _POOL = ThreadPoolExecutor(max_workers=size, thread_name_prefix="workbench-models")
            _POOL_SIZE = size
            if old is not None:
                old.shutdown(wait=False)
        return _POOL


def parallel_map(fn: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
    """``[fn(x) for x in items]``, on :func:`get_num_threads` threads, in the items' order.

    Serial with one thread, one item, or when called from inside a worker (nested calls
    never wait on the pool they run in). Workers see the caller's :func:`shared_one_hot`
    cache. The first exception raised by ``fn`` is re-raised.
    """
    todo = list(items)
    size = get_num_threads()
    if size <= 1 or len(todo) <= 1 or getattr(_WORKER, "active", False):
        return [fn(x) for x in todo]
    cache = getattr(_SHARED, "cache", None)

    def run(x: _T) -> _R:
        _WORKER.active = True
        _SHARED.cache = cache
        try:
            return fn(x)
        finally:
            _WORKER.active = False
            _SHARED.cache = None

    return list(_pool(size).map(run, todo))


class _Ones:
    """A read-only buffer of float64 ones that the one-hot blocks of one matrix share, grown on demand."""

    def __init__(self) -> None:
        self._buf = np.ones(0)
        self._lock = threading.Lock()

    def take(self, size: int) -> NDArray[np.float64]:
        with self._lock:
            if self._buf.size < size:
                buf = np.ones(size)
                buf.flags.writeable = False
                self._buf = buf
            return self._buf[:size]


def one_hot_blocks(
    L: NDArray[np.integer[Any]], cardinality: int, block_rows: int = BLOCK_ROWS
) -> Iterator[tuple[int, int, sparse.csr_matrix]]:
    """Yield ``(start, stop, X)`` with ``X`` the sparse one-hot votes of ``L[start:stop]``.

    ``X`` has shape ``(stop - start, n_lfs * cardinality)`` and a ``1.0`` in column
    ``j * cardinality + c`` when labeling function ``j`` voted ``c``; abstains are absent.
    Built block by block so the int64 temporaries stay small for millions of rows. Inside
    :func:`shared_one_hot` the blocks of an array are built once.
    """
    if getattr(_SHARED, "cache", None) is not None:
        return iter(one_hot_list(L, cardinality, block_rows))
    return _build_one_hot(L, cardinality, block_rows)


def one_hot_list(
    L: NDArray[np.integer[Any]], cardinality: int, block_rows: int = BLOCK_ROWS
) -> list[tuple[int, int, sparse.csr_matrix]]:
    """Every block of :func:`one_hot_blocks` at once, built on :func:`get_num_threads` threads."""
    hit = _cached_blocks(L, cardinality, block_rows)
    if hit is not None:
        return hit
    blocks = list(_build_one_hot(L, cardinality, block_rows, parallel=True))
    cache = getattr(_SHARED, "cache", None)
    if cache is not None:
        cache[(id(L), cardinality, block_rows)] = (L, blocks)
    return list(blocks)


def map_blocks(
    L: NDArray[np.integer[Any]],
    cardinality: int,
    fn: Callable[[int, int, sparse.csr_matrix], _R],
    block_rows: int = BLOCK_ROWS,
) -> list[_R]:
    """``[fn(start, stop, X) for start, stop, X in one_hot_blocks(L, cardinality)]`` on several threads.

    Each block is built in the worker that uses it (or taken from the :func:`shared_one_hot`
    cache), so at most one block per thread is alive at a time.
    """
    hit = _cached_blocks(L, cardinality, block_rows)
    if hit is not None:
        return parallel_map(lambda b: fn(*b), hit)
    ones = _Ones()
    return parallel_map(lambda b: fn(b[0], b[1], one_hot_block(L, cardinality, b[0], b[1], ones)),
                        _block_bounds(L.shape[0], block_rows))


def _cached_blocks(
    L: NDArray[np.integer[Any]], cardinality: int, block_rows: int
) -> list[tuple[int, int, sparse.csr_matrix]] | None:
    """The blocks of ``L`` that the current :func:`shared_one_hot` block already built, if any."""
    cache = getattr(_SHARED, "cache", None)
    hit = None if cache is None else cache.get((id(L), cardinality, block_rows))
    return list(hit[1]) if hit is not None and hit[0] is L else None


def _block_bounds(n: int, block_rows: int) -> list[tuple[int, int]]:
    return [(start, min(n, start + block_rows)) for start in range(0, n, block_rows)]


def _build_one_hot(
    L: NDArray[np.integer[Any]], cardinality: int, block_rows: int, *, parallel: bool = False
) -> Iterator[tuple[int, int, sparse.csr_matrix]]:
    """The blocks of ``L``: one at a time (bounded memory), or all at once on the thread pool."""
    ones = _Ones()

    def build(b: tuple[int, int]) -> tuple[int, int, sparse.csr_matrix]:
        return b[0], b[1], one_hot_block(L, cardinality, b[0], b[1], ones)

    bounds = _block_bounds(L.shape[0], block_rows)
    return iter(parallel_map(build, bounds)) if parallel else map(build, bounds)


def one_hot_block(
    L: NDArray[np.integer[Any]], cardinality: int, start: int, stop: int, ones: _Ones | None = None
) -> sparse.csr_matrix:
    """The sparse one-hot votes of ``L[start:stop]`` (see :func:`one_hot_blocks`)."""
    m = L.shape[1]
    width = m * cardinality
    # Every block's data is a read-only view of one shared buffer of ones, so the values cost
    # no memory per vote; float64 spares scipy a conversion per product.
    block = L[start:stop]
    mask = block >= 0
    indptr = np.zeros(stop - start + 1, dtype=np.int32 if mask.size < 2**31 else np.int64)
    np.cumsum(np.count_nonzero(mask, axis=1), out=indptr[1:])
    flat = np.flatnonzero(mask)  # row-major, so already in CSR order
    values = np.ravel(block)[flat]
    cols = (flat % m).astype(np.int32)
    cols *= cardinality
    cols += values
    data = (ones or _Ones()).take(cols.size)
    X = sparse.csr_matrix((data, cols, indptr), shape=(stop - start, width), copy=False)
    X.has_sorted_indices = True
    return X


def covered_rows(L: NDArray[np.integer[Any]]) -> NDArray[np.bool_]:
    """Rows of a validated label matrix with at least one vote."""
    return np.asarray((L >= 0).any(axis=1), dtype=np.bool_)


def _json_safe(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return value


class LabelModel(BaseEstimator):  # type: ignore[misc]
    """Base class of every label model: one scikit-learn style contract.

    Subclasses store their hyperparameters in ``__init__`` without logic and implement
    ``_fit(L, k, y)``, ``_predict_proba(L)``, ``_fitted_state()`` and
    ``_load_fitted_state(state)``. Learned attributes end in ``_``; every fitted model has
    ``cardinality_``, ``n_lfs_`` and ``class_prior_``.

    Rows where every labeling function abstained get, from :meth:`predict_proba`, what the
    model learned for such rows -- the learned class prior ``class_prior_`` unless the
    model says otherwise -- and ``-1`` from :meth:`predict` with ``tie_break="abstain"``.
    """

    _registry: ClassVar[dict[str, type[LabelModel]]] = {}
    #: Whether two instances may be fitted at once on different threads (no global state
    #: touched). Declared per class and not inherited (a subclass may add state), so user
    #: models run serially in cross-validation unless their own class sets it.
    _thread_safe: ClassVar[bool] = False
    #: Class probabilities closer than this are a tie in :meth:`predict`.
    _tie_tolerance: ClassVar[float] = TIE_TOLERANCE
    cardinality_: int
    n_lfs_: int
    class_prior_: NDArray[np.float64]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        LabelModel._registry[cls.__name__] = cls

    # -- subclass hooks ----------------------------------------------------------------
    def _fit(self, L: NDArray[np.integer[Any]], cardinality: int, y: NDArray[np.int64] | None) -> None:
        raise NotImplementedError

    def _predict_proba(self, L: NDArray[np.integer[Any]]) -> NDArray[np.float64]:
        raise NotImplementedError

    def _proba_and_decision(
        self, L: NDArray[np.integer[Any]]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Probabilities and the scores whose most probable class is the prediction.

        The same array for every model that predicts the most probable class; a model whose
        decision rule differs (:class:`~workbench.models.AutoLabelModel`) overrides this.
        """
        proba = self._predict_proba(L)
        return proba, proba

    def _fitted_state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _load_fitted_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    # -- shared validation ---------------------------------------------------------------
    def _validate_cardinality(self) -> int | None:
        k = getattr(self, "cardinality", None)
        if k is None:
            return None
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 2:
            raise ValueError(
                f"The 'cardinality' parameter of {type(self).__name__} must be an int >= 2 "
                f"or None (inferred from the votes). Got {k!r} instead."
            )
        return int(k)

    @classmethod
    def _is_thread_safe(cls) -> bool:
        return bool(cls.__dict__.get("_thread_safe", False))

    def _gold_rows_only(self) -> bool:
        """Whether ``fit`` keeps only the gold rows (the ``unlabeled="ignore"`` models)."""
        mode = getattr(self, "unlabeled", None)
        if mode is None:
            return False
        if mode not in _UNLABELED:
            raise ValueError(
                f"The 'unlabeled' parameter of {type(self).__name__} must be one of {list(_UNLABELED)}. "
                f"Got {mode!r} instead."
            )
        return bool(mode == "ignore")

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "class_prior_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with a "
                "label matrix before using this method."
            )

    def _validated(self, L: ArrayLike) -> NDArray[np.integer[Any]]:
        self._check_is_fitted()
        return check_label_matrix(L, self.cardinality_, n_lfs=self.n_lfs_)

    # -- public API ----------------------------------------------------------------------
    def fit(self, L: ArrayLike, y: ArrayLike | None = None) -> LabelModel:
        """Fit the model on a label matrix.

        Parameters
        ----------
        L : array-like of shape (n_items, n_lfs)
            Votes, ``-1`` = abstain.
        y : array-like of shape (n_items,), optional
            Partial gold labels, ``-1`` where unknown. Models that support it use the known
            ones (semi-supervision); the others use them only for the class prior.

        Returns
        -------
        self
        """
        k_param = self._validate_cardinality()
        Lc = check_label_matrix(L, k_param)
        y_arr = None if y is None else check_gold(y, Lc.shape[0], k_param)
        if k_param is None:
            k = max(2, int(Lc.max()) + 1)
            if y_arr is not None and y_arr.size:
                k = max(k, int(y_arr.max()) + 1)
        else:
            k = k_param
        if y_arr is not None and not (y_arr >= 0).any():
            y_arr = None
        if self._gold_rows_only() and y_arr is not None:
            known = y_arr >= 0
            Lc, y_arr = Lc[known], y_arr[known]
        self._fit(Lc, k, y_arr)
        self.cardinality_ = k
        self.n_lfs_ = int(Lc.shape[1])
        return self

    def predict_proba(self, L: ArrayLike) -> NDArray[np.float64]:
        """Class probabilities per item.

        Rows without any vote get what the model learned for them (see the class
        docstring; the learned class prior by default).

        Returns
        -------
        ndarray of shape (n_items, cardinality_), rows summing to 1.
        """
        return self._predict_proba(self._validated(L))

    def predict(
        self,
        L: ArrayLike,
        tie_break: TieBreak = "random",
        random_state: int | np.random.Generator | None = None,
    ) -> NDArray[np.int64]:
        """Predicted class per item, ``-1`` where the model abstains.

        Parameters
        ----------
        L : array-like of shape (n_items, n_lfs)
        tie_break : {"random", "abstain", "first"}, default "random"
            How to resolve classes with equal probability. ``"abstain"`` also returns
            ``-1`` for rows without any vote.
        random_state : int, Generator or None
            Seed for ``"random"``; defaults to the model's ``random_state`` if it has one.

        Returns
        -------
        ndarray of int64, shape (n_items,)
            The most probable class of :meth:`decision_function` (of :meth:`predict_proba`
            for every model except :class:`~workbench.models.AutoLabelModel`).
        """
        Lc = self._validated(L)
        _, decision = self._proba_and_decision(Lc)
        if random_state is None:
            random_state = getattr(self, "random_state", None)
        return break_ties(
            decision, tie_break, covered=covered_rows(Lc), random_state=random_state, tol=self._tie_tolerance
        )

    def predict_with_confidence(
        self,
        L: ArrayLike,
        tie_break: TieBreak = "random",
        random_state: int | np.random.Generator | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Predictions and their probability (that of the top class for abstained rows).

        The probability is :meth:`predict_proba`'s for the predicted class: its top class's
        for every model that predicts the most probable class.
        """
        Lc = self._validated(L)
        proba, decision = self._proba_and_decision(Lc)
        if random_state is None:
            random_state = getattr(self, "random_state", None)
        pred = break_ties(
            decision, tie_break, covered=covered_rows(Lc), random_state=random_state, tol=self._tie_tolerance
        )
        conf = proba.max(axis=1)
        if decision is not proba:
            rows = np.flatnonzero(pred >= 0)
            conf[rows] = proba[rows, pred[rows]]
        return pred, conf

    def decision_function(self, L: ArrayLike) -> NDArray[np.float64]:
        """Scores per class whose most probable class is :meth:`predict`'s.

        :meth:`predict_proba` itself for every model except
        :class:`~workbench.models.AutoLabelModel`, whose predictions keep the decision its
        cross-validated metric chose while its probabilities are calibrated (the two differ
        when the calibration that best fits the probabilities moves the class boundary).
        Score hard labels with these, soft labels with :meth:`predict_proba`.

        Returns
        -------
        ndarray of shape (n_items, cardinality_), rows summing to 1.

        Examples
        --------
        >>> import numpy as np
        >>> from workbench.models import MajorityVote
        >>> L = np.array([[0, 0, 1], [1, 1, -1]])
        >>> mv = MajorityVote().fit(L)
        >>> bool(np.array_equal(mv.decision_function(L), mv.predict_proba(L)))
        True
        """
        return self._proba_and_decision(self._validated(L))[1]

    def score(self, L: ArrayLike, y: ArrayLike, tie_break: TieBreak = "random") -> float:
        """Accuracy on the items with known gold (``y != -1``); an abstention counts as wrong."""
        Lc = self._validated(L)
        y_arr = check_gold(y, Lc.shape[0], self.cardinality_)
        known = y_arr >= 0
        if not known.any():
            raise DataError("score needs at least one known gold label (y != -1).")
        pred = self.predict(Lc, tie_break=tie_break)
        return float((pred[known] == y_arr[known]).mean())

    # -- JSON round trip -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description: class name, hyperparameters and learned state.

        Store it with a label version; :meth:`from_dict` rebuilds an equivalent model.
        No pickle is involved.
        """
        params = self._params_to_json()
        fitted = None
        if hasattr(self, "class_prior_"):
            fitted = {
                "cardinality_": self.cardinality_,
                "n_lfs_": self.n_lfs_,
                **_json_safe(self._fitted_state()),
            }
        out = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "model": type(self).__name__,
            "params": params,
            "fitted": fitted,
        }
        json.dumps(out)  # fail here, not when the caller writes it
        return out

    def _params_to_json(self) -> dict[str, Any]:
        """Hyperparameters as JSON values; models whose parameters hold models override this."""
        return _json_safe(self.get_params(deep=False))  # type: ignore[no-any-return]

    @classmethod
    def _params_from_json(cls, params: dict[str, Any]) -> dict[str, Any]:
        """The inverse of :meth:`_params_to_json`: constructor keyword arguments."""
        return params

    def learned_params(self) -> dict[str, Any]:
        """The learned state only, as a JSON-serialisable dict."""
        self._check_is_fitted()
        return _json_safe(self._fitted_state())  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelModel:
        """Rebuild a model written by :meth:`to_dict`.

        Called on :class:`LabelModel` it dispatches on the stored class name; called on a
        subclass it checks that the stored model is of that class.
        """
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise DataError(
                f"from_dict expects a dict written by LabelModel.to_dict (format {_FORMAT!r}). "
                f"Got {type(data).__name__} with format {getattr(data, 'get', lambda _: None)('format')!r}."
            )
        if data.get("format_version") != _FORMAT_VERSION:
            raise DataError(
                f"Unsupported label-model format_version {data.get('format_version')!r}; "
                f"this workbench reads version {_FORMAT_VERSION}."
            )
        name = data.get("model")
        target = LabelModel._registry.get(str(name))
        if target is None:
            raise DataError(f"Unknown label model {name!r}; known: {sorted(LabelModel._registry)}.")
        if cls is not LabelModel and target is not cls:
            raise DataError(
                f"The stored model is a {name}, not a {cls.__name__}. Use {name}.from_dict or LabelModel.from_dict."
            )
        params = target._params_from_json(dict(data.get("params") or {}))
        model = target(**params)
        fitted = data.get("fitted")
        if fitted is not None:
            state = dict(fitted)
            model.cardinality_ = int(state.pop("cardinality_"))
            model.n_lfs_ = int(state.pop("n_lfs_"))
            model._load_fitted_state(state)
        return model
