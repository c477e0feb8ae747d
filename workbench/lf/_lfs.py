"""Labeling-function kinds: per-row functions, vectorized functions and builders.

Every LF has a ``name``, a ``question`` (None: the project's only question) and a
``fingerprint`` (see :mod:`workbench.lf._fingerprint`). Every LF is also callable on a single
row (``lf(x)``), so it can be handed to snorkel's appliers unchanged; the engine runs
vectorized LFs over whole columns instead, with identical results.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench._constants import ABSTAIN
from workbench.exceptions import LFError
from workbench.lf._fingerprint import (
    FingerprintReport,
    canonical,
    fingerprint_report,
    function_token,
    hashing_session,
)
from workbench.lf._regex import PatternSearch, TextColumnCache, is_missing

__all__ = [
    "BaseLF",
    "LabelingFunction",
    "VectorizedLF",
    "KeywordLF",
    "RegexLF",
    "ThresholdLF",
    "LexiconLF",
    "ModelLF",
    "FeedbackLF",
    "Row",
    "as_lf",
    "labeling_function",
    "vectorized",
    "keywords",
    "regex",
    "threshold",
    "lexicon",
    "from_model",
    "from_feedback",
]

#: Bumped when the meaning of cached results changes, so old cache files are never reused.
#: wb-lf-2: fingerprints cover the user code an LF reaches (older ones could serve stale votes).
_ENGINE_SEMANTICS = "wb-lf-2"


class Row(dict):  # type: ignore[type-arg]
    """One example as handed to a per-row LF: ``x.text``, ``x["text"]``, ``x.name`` (the id).

    A ``dict`` with attribute access, much cheaper to build than a ``pandas.Series``. As on
    a row of ``DataFrame.apply(axis=1)``, ``x.name`` is the example id and dict methods
    (``x.get``, ``x.items`` ...) take precedence over columns of the same name.
    Preprocessors may set new attributes (``x.clean = ...``).
    """

    __slots__ = ("name",)

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"The row has no field {key!r}; its fields are {list(self)}.") from None

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "name":
            object.__setattr__(self, key, value)
        else:
            self[key] = value

    def __delattr__(self, key: str) -> None:
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_make_row, (dict(self), getattr(self, "name", None)))

    def __repr__(self) -> str:
        return f"Row(name={getattr(self, 'name', None)!r}, {dict.__repr__(self)})"


def _make_row(values: dict[str, Any], name: Any) -> Row:
    row = Row(values)
    object.__setattr__(row, "name", name)
    return row


def _row_value(x: Any, column: str) -> Any:
    try:
        return x[column]
    except (KeyError, TypeError, IndexError):
        return getattr(x, column)


class LFOutputError(LFError):
    """An LF returned something that is not one vote per row, or changed its input (internal).

    Raised by the engine while it computes an LF; not part of the public API (catch
    :class:`~workbench.exceptions.LFError`). It carries what :class:`~workbench.lf.ProjectLFs`
    needs to phrase the problem in the project's terms (the question's choices).

    Parameters
    ----------
    lf : str
        The LF's name.
    kind : {"type", "range", "shape", "index", "modified"}
        "type": a value that is not an int; "range": an int that is not ABSTAIN or a class id;
        "shape": not one value per row; "index": a Series indexed unlike the input;
        "modified": the LF changed the data it was given.
    message : str
        The engine-level message (what ``str(error)`` gives).
    row_id : object, optional
        The example id of the first row with a bad value ("type" and "range").
    value : object, optional
        That value when it is a plain scalar (str, int, float, bool, None), else its repr.
    value_repr : str, optional
        ``repr`` of the bad value.
    value_type : str, optional
        The type name of the bad value.
    data_version : str, optional
        The data version being labelled (set by the engine).
    """

    def __init__(
        self,
        lf: str = "",
        kind: str = "type",
        message: str = "",
        *,
        row_id: Any = None,
        value: Any = None,
        value_repr: str | None = None,
        value_type: str | None = None,
        data_version: str | None = None,
    ) -> None:
        super().__init__(message)
        self.lf = lf
        self.kind = kind
        self.message = message
        self.row_id = row_id
        self.value = value
        self.value_repr = value_repr
        self.value_type = value_type
        self.data_version = data_version

    def to_dict(self) -> dict[str, Any]:
        """The constructor's arguments (to send the error across processes)."""
        return {
            "lf": self.lf,
            "kind": self.kind,
            "message": self.message,
            "row_id": self.row_id,
            "value": self.value,
            "value_repr": self.value_repr,
            "value_type": self.value_type,
            "data_version": self.data_version,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_output_error, (self.to_dict(),))

    @classmethod
    def bad_value(cls, lf: BaseLF, kind: str, message: str, value: Any, row_id: Any) -> LFOutputError:
        """The error for the first bad ``value`` an LF returned, on row ``row_id``."""
        if isinstance(value, np.generic):
            value = value.item()
        plain = value is None or type(value) in (str, int, float, bool)
        return cls(lf.name, kind, message, row_id=row_id, value=value if plain else repr(value),
                   value_repr=repr(value), value_type=type(value).__name__)


def _rebuild_output_error(fields: dict[str, Any]) -> LFOutputError:
    return LFOutputError(**fields)


def _check_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise LFError(
            f"The 'name' parameter of {where} must be a non-empty str. Got {name!r} instead. "
            "Give every labeling function a unique name."
        )
    return name


def _check_label(label: Any, where: str) -> int:
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) or label < 0:
        raise LFError(
            f"The 'label' parameter of {where} must be a class label, an int >= 0. Got {label!r} "
            "instead. Pass the integer of the class the LF votes for (ABSTAIN is implicit)."
        )
    return int(label)


class BaseLF:
    """Common interface of all labeling functions.

    Attributes
    ----------
    name : str
        Unique name in an engine; registering another LF with this name replaces it.
    question : str or None
        The schema question the LF votes on; None means the project's only question.
    """

    #: "row" LFs are called once per example; "vectorized" LFs once per batch.
    kind: str = "row"
    #: What a soft label's ``sources`` calls this LF's evidence: ``"lf"``, or ``"feedback"`` for a production signal.
    evidence: str = "lf"

    def __init__(self, name: str, question: str | None = None) -> None:
        self.name = _check_name(name, type(self).__name__)
        if question is not None and not isinstance(question, str):
            raise LFError(
                f"The 'question' parameter of {type(self).__name__} must be a str or None. Got {question!r} instead."
            )
        self.question = question

    # -- identity -----------------------------------------------------------------------
    def _fingerprint_parts(self) -> list[Any]:
        raise NotImplementedError

    def fingerprint_report(self) -> FingerprintReport:
        """The fingerprint and, when it cannot cover everything the LF reaches, the reasons why.

        Computed afresh on every call: editing a helper module, a global or a resource shows.
        """
        with hashing_session() as session:
            parts = self._fingerprint_parts()
            report = fingerprint_report(_ENGINE_SEMANTICS, type(self).__name__, *parts)
            reasons = tuple(dict.fromkeys([*session.reasons, *report.volatile_reasons]))
        return FingerprintReport(report.digest, reasons)

    @property
    def fingerprint(self) -> str:
        """Hash of the LF's code, parameters, resources and the user code it reaches; names its cache files."""
        return self.fingerprint_report().digest

    @property
    def volatile(self) -> bool:
        """True when part of what the LF computes cannot be hashed: it is recomputed on every apply, never cached."""
        return self.fingerprint_report().volatile

    @property
    def volatile_reason(self) -> str | None:
        """Why the LF is volatile (e.g. a helper without source), or None."""
        return self.fingerprint_report().volatile_reason

    def _fingerprint_token(self) -> Any:
        return ["lf", self.fingerprint_report().digest]

    def _runs_user_code(self) -> bool:
        """True when applying the LF runs user code (so it runs under the engine's time limit)."""
        return True

    def output_labels(self) -> tuple[int, ...] | None:
        """The labels the LF can emit, when known from its parameters (else None)."""
        return None

    def __call__(self, x: Any) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def __repr__(self) -> str:
        q = f", question={self.question!r}" if self.question is not None else ""
        return f"{type(self).__name__}(name={self.name!r}{q})"


# --------------------------------------------------------------------------------------
# Per-row LFs
# --------------------------------------------------------------------------------------
def _preprocessor_token(p: Any) -> Any:
    """Describe a snorkel preprocessor (mapper) without its memoization cache."""
    token: list[Any] = [type(p).__module__, type(p).__qualname__, getattr(p, "name", None)]
    f = getattr(p, "_f", None)
    if f is not None:
        token.append(function_token(f))
    else:
        run = getattr(type(p), "run", None)
        if run is not None:
            token.append(function_token(run))
    state = {
        k: v
        for k, v in vars(p).items()
        if k not in ("_cache", "_f", "_pre", "_memoize_key", "name") and not k.startswith("__")
    }
    token.append(canonical(state))
    token.append([_preprocessor_token(q) for q in getattr(p, "_pre", [])])
    return token


class LabelingFunction(BaseLF):
    """A per-row labeling function, compatible with snorkel's ``LabelingFunction``.

    Parameters
    ----------
    name : str
        Unique name of the LF.
    f : callable
        ``f(x, **resources) -> int`` where ``x`` is a :class:`Row` (``x.text``, ``x["text"]``,
        ``x.name`` is the example id). Return a class label ``0..cardinality-1`` or ``ABSTAIN``.
    resources : mapping, optional
        Keyword arguments passed to ``f``; part of the fingerprint.
    pre : list of snorkel preprocessors, optional
        Run in order on each row before ``f`` (snorkel semantics: a preprocessor returning
        None is an error).
    question : str, optional
        The schema question the LF votes on.

    Examples
    --------
    >>> from workbench.lf import LabelingFunction, ABSTAIN
    >>> lf = LabelingFunction("short", lambda x: 0 if len(x.text) < 5 else ABSTAIN)
    >>> lf(Row(text="hi"))
    0
    """

    kind = "row"

    def __init__(
        self,
        name: str,
        f: Callable[..., Any],
        resources: Mapping[str, Any] | None = None,
        pre: Sequence[Any] | None = None,
        question: str | None = None,
    ) -> None:
        super().__init__(name, question)
        if not callable(f):
            raise LFError(
                f"The 'f' parameter of LabelingFunction {name!r} must be callable. Got {type(f).__name__} instead."
            )
        self._f = f
        self._resources = dict(resources or {})
        self._pre = list(pre or [])
        self._snorkel: Any = None

    @classmethod
    def from_snorkel(cls, lf: Any, question: str | None = None) -> LabelingFunction:
        """Wrap a snorkel ``LabelingFunction`` as it is (its name, function, resources, preprocessors)."""
        wrapped = cls(lf.name, lf._f, getattr(lf, "_resources", None), getattr(lf, "_pre", None), question)
        wrapped._snorkel = lf
        return wrapped

    def _fingerprint_parts(self) -> list[Any]:
        return [
            function_token(self._f),
            canonical(self._resources),
            [_preprocessor_token(p) for p in self._pre],
            type(self._snorkel).__qualname__ if self._snorkel is not None else None,
        ]

    def __call__(self, x: Any) -> int:
        if self._snorkel is not None:
            return self._snorkel(x)  # type: ignore[no-any-return]
        for p in self._pre:
            x = p(x)
            if x is None:
                raise ValueError("Preprocessor should not return None")
        return self._f(x, **self._resources)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"LabelingFunction {self.name}, Preprocessors: {self._pre}"


class labeling_function:
    """Decorator turning ``f(x) -> int`` into a :class:`LabelingFunction`.

    Parameters
    ----------
    name : str, optional
        Defaults to the function's name.
    resources, pre, question
        See :class:`LabelingFunction`.

    Examples
    --------
    >>> from workbench.lf import labeling_function, ABSTAIN
    >>> SPAM = 1
    >>> @labeling_function()
    ... def check_out(x):
    ...     return SPAM if "check out" in x.text.lower() else ABSTAIN
    >>> check_out.name
    'check_out'
    """

    def __init__(
        self,
        name: str | None = None,
        resources: Mapping[str, Any] | None = None,
        pre: Sequence[Any] | None = None,
        question: str | None = None,
    ) -> None:
        if callable(name):
            raise LFError("labeling_function is a decorator factory: write @labeling_function() with parentheses.")
        self.name = name
        self.resources = resources
        self.pre = pre
        self.question = question

    def __call__(self, f: Callable[..., Any]) -> LabelingFunction:
        return LabelingFunction(self.name or f.__name__, f, self.resources, self.pre, self.question)


def as_lf(obj: Any, question: str | None = None) -> BaseLF:
    """Return ``obj`` as a workbench LF: our LFs as they are, snorkel LFs wrapped."""
    if isinstance(obj, BaseLF):
        return obj
    if hasattr(obj, "name") and hasattr(obj, "_f") and callable(obj):
        return LabelingFunction.from_snorkel(obj, question=question)
    raise LFError(
        f"Expected a labeling function (workbench or snorkel LabelingFunction, or a builder such as "
        f"keywords(...)). Got {type(obj).__name__} instead. Wrap plain functions with "
        "@labeling_function()."
    )


# --------------------------------------------------------------------------------------
# Vectorized LFs
# --------------------------------------------------------------------------------------
def frame_of_row(x: Any) -> pd.DataFrame:
    """A one-row DataFrame from a row (Row, Series, namedtuple, SimpleNamespace)."""
    if isinstance(x, pd.Series):
        return x.to_frame().T
    if isinstance(x, Mapping):
        data = dict(x)
    elif hasattr(x, "_asdict"):
        data = x._asdict()
    else:
        data = dict(vars(x))
    idx = [getattr(x, "name", None) if isinstance(x, Row) else None]
    return pd.DataFrame({k: [v] for k, v in data.items()}, index=idx)


def _buffer_signature(arr: Any) -> Any:
    """Where an array's data lives: equal before and after a call unless the data was replaced.

    pandas >= 3 copies on write, so any write to a frame handed to an LF lands in new buffers;
    comparing buffer addresses detects it without comparing values.
    """
    nd = getattr(arr, "_ndarray", None)
    if isinstance(nd, np.ndarray):
        return ("np", nd.__array_interface__["data"][0], nd.shape, nd.strides, str(nd.dtype))
    chunked = getattr(arr, "_pa_array", None)
    if chunked is not None:
        bufs = tuple(
            (b.address, b.size) if b is not None else None for chunk in chunked.chunks for b in chunk.buffers()
        )
        return ("arrow", len(chunked), bufs)
    data, mask = getattr(arr, "_data", None), getattr(arr, "_mask", None)
    if isinstance(data, np.ndarray) and isinstance(mask, np.ndarray):
        return ("masked", _buffer_signature(data), _buffer_signature(mask))
    codes = getattr(arr, "_codes", None)
    if isinstance(codes, np.ndarray):
        return ("categorical", _buffer_signature(codes), _index_signature(arr.categories))
    if isinstance(arr, np.ndarray):
        return ("np", arr.__array_interface__["data"][0], arr.shape, arr.strides, str(arr.dtype))
    return ("hash", int(pd.util.hash_array(np.asarray(arr, dtype=object)).sum()))


def _index_signature(index: pd.Index) -> Any:
    if isinstance(index, pd.RangeIndex):
        return ("range", index.start, index.stop, index.step)
    if isinstance(index, pd.MultiIndex):
        return ("multi", int(pd.util.hash_pandas_object(index, index=False).sum()))
    return ("index", str(index.dtype), _buffer_signature(index.array))


def input_signature(obj: Any) -> Any:
    """A cheap signature of a frame or Series handed to an LF: columns, dtypes, data buffers, index."""
    if isinstance(obj, pd.DataFrame):
        data = tuple((repr(name), str(col.dtype), _buffer_signature(col.array)) for name, col in obj.items())
        return ("frame", data, _index_signature(obj.index))
    if isinstance(obj, pd.Series):
        return ("series", str(obj.dtype), _buffer_signature(obj.array), _index_signature(obj.index))
    return ("other", id(obj))


def check_unmodified(lf: BaseLF, obj: Any, before: Any) -> None:
    """Raise LFError when the LF changed the data it was given (signature taken before the call)."""
    if input_signature(obj) != before:
        what = "DataFrame" if isinstance(obj, pd.DataFrame) else "Series" if isinstance(obj, pd.Series) else "input"
        raise LFOutputError(
            lf.name,
            "modified",
            f"The labeling function {lf.name!r} modified the {what} it was given (assigned to a column or cell, "
            "added, dropped or reordered columns or rows). LFs get read-only data: their input is shared with "
            "the project's examples and with the other LFs, so nothing was cached from this run. Work on a copy "
            "instead, e.g. frame = frame.copy() or texts = texts.str.lower(), and return only the labels.",
        )


class VectorizedLF(BaseLF):
    """A labeling function computed over a whole batch at once.

    Parameters
    ----------
    name : str
        Unique name of the LF.
    f : callable
        ``f(frame, **resources)`` (or ``f(frame[column], **resources)`` when ``column`` is given)
        returning one label per row: an array-like of ints with ``ABSTAIN`` for no vote
        (NaN/None/pd.NA also count as ``ABSTAIN``). It must be row-wise: the label of a row
        may not depend on which other rows are in the batch (batches are cached and split).
    column : str, optional
        Pass only this column (a Series) to ``f``.
    resources : mapping, optional
        Keyword arguments passed to ``f``; part of the fingerprint.
    question : str, optional
        The schema question the LF votes on.
    """

    kind = "vectorized"

    def __init__(
        self,
        name: str,
        f: Callable[..., Any] | None = None,
        column: str | None = None,
        resources: Mapping[str, Any] | None = None,
        question: str | None = None,
    ) -> None:
        super().__init__(name, question)
        if f is not None and not callable(f):
            raise LFError(
                f"The 'f' parameter of VectorizedLF {name!r} must be callable. Got {type(f).__name__} instead."
            )
        self._f = f
        self.column = column
        self._resources = dict(resources or {})

    def _fingerprint_parts(self) -> list[Any]:
        return [function_token(self._f) if self._f is not None else None, self.column, canonical(self._resources)]

    def apply_frame(self, frame: pd.DataFrame, cache: TextColumnCache | None = None) -> Any:
        """Raw output for every row of ``frame`` (validated by the engine)."""
        assert self._f is not None
        arg = frame[self.column] if self.column is not None else frame.copy(deep=False)
        before = input_signature(arg)
        out = self._f(arg, **self._resources)
        check_unmodified(self, arg, before)
        return out

    def __call__(self, x: Any) -> int:
        frame = frame_of_row(x)
        out = _to_label_array(self, self.apply_frame(frame), 1, row_ids=frame.index)
        return int(out[0])


def _some(labels: Sequence[Any] | pd.Index, k: int = 3) -> str:
    """Up to ``k`` labels as Python reprs, for messages."""
    items = labels.tolist() if isinstance(labels, pd.Index) else list(labels)
    return ", ".join(repr(v) for v in items[:k])


def _series_in_row_order(lf: BaseLF, out: pd.Series, n: int, row_ids: Sequence[Any] | pd.Index | None) -> np.ndarray:
    """The values of a Series an LF returned, in the order of the rows it was given.

    A Series is matched to the rows by its index, as pandas aligns Series: one whose index
    holds exactly the input's row ids (in any order) is reordered to row order; one whose
    index lacks some of them, holds others or repeats one is refused. The default index
    ``0..n-1`` (what ``pd.Series(values)`` gives when the values were built in row order) is
    read as row positions when the input is indexed otherwise -- unless the input's row ids
    are those same integers in another order, where labels and positions disagree and the
    Series is refused rather than guessed. Without ``row_ids`` the values are taken in order.
    """
    values = out.to_numpy(dtype=object) if out.dtype == object else out.to_numpy()
    if row_ids is None:
        return values
    index = row_ids if isinstance(row_ids, pd.Index) else pd.Index(list(row_ids), dtype=object)
    got = out.index
    if got.equals(index):
        return values
    fix = (
        "return one value per row, indexed like the input (e.g. pd.Series(values, index=frame.index)), "
        "or a plain array or list in row order (e.g. series.to_numpy())."
    )
    default = isinstance(got, pd.RangeIndex) and got.start == 0 and got.step == 1 and len(got) == n
    if default:
        if not (index.is_unique and len(index) == n and index.isin(got).all()):
            return values  # labels 0..n-1 that are not the input's row ids: positions
        raise LFOutputError(
            lf.name,
            "index",
            f"The vectorized labeling function {lf.name!r} returned a Series with the default index 0..{n - 1}, "
            "which are also the row ids of the input in another order: it is unclear whether they are labels or "
            f"positions, so the votes were not guessed. To fix it, {fix}",
        )
    if got.is_unique and index.is_unique and len(got) == n:
        positions = got.get_indexer(index)
        if (positions >= 0).all():
            return values[positions]
    problems: list[str] = []
    dupes = got[got.duplicated()].unique()
    if len(dupes):
        problems.append(f"it holds the label(s) {_some(dupes)} more than once")
    missing = index[~index.isin(got)]
    if len(missing):
        problems.append(f"it has no value for {len(missing)} of its {len(index)} rows (e.g. {_some(missing)})")
    extra = got[~got.isin(index)].unique()
    if len(extra):
        problems.append(f"it holds {len(extra)} label(s) that are not rows of the input (e.g. {_some(extra)})")
    if not index.is_unique:
        problems.append("the input's row ids are not unique, so the Series cannot be matched to them by label")
    raise LFOutputError(
        lf.name,
        "index",
        f"The vectorized labeling function {lf.name!r} returned a Series whose index does not match the rows it "
        f"was given ({len(got)} values for {n} rows): {'; '.join(problems)}. A Series is matched to the rows by "
        f"its index; to fix it, {fix}",
    )


def _to_label_array(lf: BaseLF, out: Any, n: int, row_ids: Sequence[Any] | pd.Index | None) -> np.ndarray:
    """Validate a vectorized output and return it as an int64 array in row order (labels not range-checked).

    ``row_ids`` are the ids of the rows the LF was given: a returned Series is matched to them
    by its index (see :func:`_series_in_row_order`); arrays, lists and Index objects are read
    in row order.
    """
    if isinstance(out, pd.Series):
        values = _series_in_row_order(lf, out, n, row_ids)
    elif isinstance(out, pd.Index):
        values = out.to_numpy(dtype=object) if out.dtype == object else out.to_numpy()
    else:
        values = np.asarray(out) if not isinstance(out, np.ndarray) else out
    if values.ndim != 1 or len(values) != n:
        shape = getattr(values, "shape", None)
        raise LFOutputError(
            lf.name,
            "shape",
            f"The vectorized labeling function {lf.name!r} returned {shape if shape is not None else type(out)} "
            f"values for a batch of {n} rows; it must return exactly one label per row, in row order "
            f"(first row id: {row_ids[0] if row_ids is not None and len(row_ids) else 'n/a'!r}).",
        )
    if values.dtype.kind in "iu":
        return values.astype(np.int64, copy=False)
    if values.dtype.kind == "b":
        bad = 0
    elif values.dtype.kind == "f":
        missing = np.isnan(values)
        finite = np.where(missing, -1.0, values)
        nonint = finite != np.round(finite)
        if nonint.any():
            bad = int(np.flatnonzero(nonint)[0])
        else:
            return finite.astype(np.int64)
    else:
        result = np.empty(n, dtype=np.int64)
        bad = -1
        for i, v in enumerate(values.tolist()):
            if isinstance(v, (bool, np.bool_)) or not (isinstance(v, (int, np.integer)) or is_missing(v)):
                bad = i
                break
            result[i] = ABSTAIN if is_missing(v) else int(v)
        if bad < 0:
            return result
    rid = row_ids[bad] if row_ids is not None else bad
    value = values[bad].item() if isinstance(values[bad], np.generic) else values[bad]
    raise LFOutputError.bad_value(
        lf,
        "type",
        f"The labeling function {lf.name!r} returned {value!r} ({type(value).__name__}) for row "
        f"{rid!r}; expected an int class label or ABSTAIN (-1). Return integers, not "
        f"{values.dtype} values.",
        value,
        rid,
    )


class _TextLF(VectorizedLF):
    """Shared machinery of the text builders: a pattern searched in one text column."""

    def __init__(self, name: str, label: int, column: str, question: str | None) -> None:
        super().__init__(name, None, column, None, question)
        self.label = _check_label(label, type(self).__name__)
        if not isinstance(column, str):
            raise LFError(f"The 'column' parameter of {type(self).__name__} must be a str. Got {column!r} instead.")
        self.text_column: str = column
        self._search: PatternSearch

    def output_labels(self) -> tuple[int, ...]:
        return (self.label,)

    def _runs_user_code(self) -> bool:
        return self._search.re2 is None  # Python's re may backtrack for ever on a user pattern

    def _fingerprint_parts(self) -> list[Any]:
        return [self._search.pattern, self._search.flags, self.label, self.column]

    def apply_frame(self, frame: pd.DataFrame, cache: TextColumnCache | None = None) -> np.ndarray:
        cache = cache or TextColumnCache(frame)
        if self.column not in frame.columns:
            raise LFError(
                f"The labeling function {self.name!r} reads column {self.column!r}, which the data does not "
                f"have; columns are {list(frame.columns)}."
            )
        hits, missing = self._search.contains(cache, self.text_column)
        out = np.full(len(frame), ABSTAIN, dtype=np.int8)
        out[hits & ~missing] = self.label
        return out

    def __call__(self, x: Any) -> int:
        found = self._search.search_one(_row_value(x, self.text_column))
        return self.label if found else ABSTAIN


class KeywordLF(_TextLF):
    """Votes ``label`` when any keyword occurs in the text; see :func:`keywords`."""

    def __init__(
        self,
        name: str,
        words: Iterable[str],
        label: int,
        column: str = "text",
        case: bool = False,
        word_boundary: bool = False,
        question: str | None = None,
    ) -> None:
        super().__init__(name, label, column, question)
        if isinstance(words, str):
            raise LFError(
                f"The 'keywords' parameter of keywords({name!r}) must be a list of str. Got the str {words!r} "
                f"instead. Write [{words!r}]."
            )
        self.keywords = tuple(words)
        if not self.keywords or not all(isinstance(k, str) and k for k in self.keywords):
            raise LFError(
                f"The 'keywords' parameter of keywords({name!r}) must be a non-empty list of non-empty str. "
                f"Got {list(self.keywords)!r} instead."
            )
        self.case = bool(case)
        self.word_boundary = bool(word_boundary)
        # Longest first, so alternation order cannot matter.
        alts = "|".join(re.escape(k) for k in sorted(set(self.keywords), key=lambda k: (-len(k), k)))
        pattern = rf"\b(?:{alts})\b" if self.word_boundary else f"(?:{alts})"
        self._search = PatternSearch(pattern, 0 if self.case else re.IGNORECASE)


class RegexLF(_TextLF):
    """Votes ``label`` when the pattern matches anywhere in the text; see :func:`regex`."""

    def __init__(
        self,
        name: str,
        pattern: str,
        label: int,
        column: str = "text",
        case: bool = False,
        flags: int = 0,
        question: str | None = None,
    ) -> None:
        super().__init__(name, label, column, question)
        if not isinstance(pattern, str):
            raise LFError(f"The 'pattern' parameter of regex({name!r}) must be a str. Got {pattern!r} instead.")
        try:
            self._search = PatternSearch(pattern, int(flags) | (0 if case else re.IGNORECASE))
        except re.error as exc:
            raise LFError(f"The pattern of regex({name!r}) is not a valid regular expression: {exc}.") from exc
        self.pattern = pattern
        self.case = bool(case)


def keywords(
    name: str,
    keywords: Iterable[str],
    label: int,
    *,
    column: str = "text",
    case: bool = False,
    word_boundary: bool = False,
    question: str | None = None,
) -> KeywordLF:
    """Keyword LF: vote ``label`` when any of ``keywords`` occurs in ``column``.

    Vectorized (one combined regular expression run over the column). Its per-row
    equivalent is ``label if re.search(pattern, x.text, flags) else ABSTAIN`` with
    ``pattern = "(?:k1|k2|...)"`` (``\\b`` around it when ``word_boundary``) and
    ``flags = re.IGNORECASE`` unless ``case``; results are identical to it on every row.
    Missing text (None/NaN) abstains; other non-str values are searched as ``str(value)``.

    Examples
    --------
    >>> from workbench.lf import keywords
    >>> lf = keywords("subscribe", ["subscribe", "sub4sub"], label=1)
    >>> lf(Row(text="Please SUBSCRIBE"))
    1
    """
    return KeywordLF(name, keywords, label, column=column, case=case, word_boundary=word_boundary, question=question)


def regex(
    name: str,
    pattern: str,
    label: int,
    *,
    column: str = "text",
    case: bool = False,
    flags: int = 0,
    question: str | None = None,
) -> RegexLF:
    """Regex LF: vote ``label`` when ``re.search(pattern, text)`` finds a match.

    Case-insensitive unless ``case=True``. Vectorized with RE2 where RE2 provably agrees
    with Python's ``re`` (see :mod:`workbench.lf._regex`), Python's ``re`` elsewhere, so the
    result always equals the per-row ``re.search``. Missing text abstains.

    Examples
    --------
    >>> from workbench.lf import regex
    >>> lf = regex("link", r"https?://", label=1)
    >>> lf(Row(text="see http://x.io")), lf(Row(text="no link"))
    (1, -1)
    """
    return RegexLF(name, pattern, label, column=column, case=case, flags=flags, question=question)


class ThresholdLF(VectorizedLF):
    """Votes ``label`` when a numeric column passes the given bounds; see :func:`threshold`."""

    def __init__(
        self,
        name: str,
        column: str,
        label: int,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        question: str | None = None,
    ) -> None:
        super().__init__(name, None, column, None, question)
        self.label = _check_label(label, "threshold")
        bounds = {"gt": gt, "ge": ge, "lt": lt, "le": le}
        for key, value in bounds.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, np.number))):
                raise LFError(f"The {key!r} parameter of threshold({name!r}) must be a number. Got {value!r} instead.")
        if all(v is None for v in bounds.values()):
            raise LFError(
                f"threshold({name!r}) needs at least one bound: gt=, ge=, lt= or le=. Got none. "
                "Example: threshold('long', 'length', label=1, gt=200)."
            )
        if (gt is not None and ge is not None) or (lt is not None and le is not None):
            raise LFError(f"threshold({name!r}) takes at most one lower bound (gt or ge) and one upper (lt or le).")
        self.gt, self.ge, self.lt, self.le = gt, ge, lt, le

    def output_labels(self) -> tuple[int, ...]:
        return (self.label,)

    def _runs_user_code(self) -> bool:
        return False

    def _fingerprint_parts(self) -> list[Any]:
        return [self.column, self.label, canonical([self.gt, self.ge, self.lt, self.le])]

    def _passes(self, v: np.ndarray) -> np.ndarray:
        ok = ~np.isnan(v)
        with np.errstate(invalid="ignore"):
            if self.gt is not None:
                ok &= v > self.gt
            if self.ge is not None:
                ok &= v >= self.ge
            if self.lt is not None:
                ok &= v < self.lt
            if self.le is not None:
                ok &= v <= self.le
        return ok

    def apply_frame(self, frame: pd.DataFrame, cache: TextColumnCache | None = None) -> np.ndarray:
        assert self.column is not None
        col = frame[self.column]
        if not (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)):
            raise LFError(
                f"threshold({self.name!r}) needs a numeric column; column {self.column!r} has dtype "
                f"{col.dtype}. Convert it first (e.g. with pd.to_numeric) or use a vectorized LF."
            )
        v = col.to_numpy(dtype=np.float64, na_value=np.nan)
        out = np.full(len(frame), ABSTAIN, dtype=np.int8)
        out[self._passes(v)] = self.label
        return out

    def __call__(self, x: Any) -> int:
        value = _row_value(x, self.column or "")
        if is_missing(value):
            return ABSTAIN
        return self.label if bool(self._passes(np.array([float(value)]))[0]) else ABSTAIN


def threshold(
    name: str,
    column: str,
    label: int,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    question: str | None = None,
) -> ThresholdLF:
    """Threshold LF: vote ``label`` when ``column`` is within the given bounds (NaN abstains).

    Examples
    --------
    >>> from workbench.lf import threshold
    >>> lf = threshold("long", "length", label=1, gt=200)
    >>> lf(Row(length=250)), lf(Row(length=20))
    (1, -1)
    """
    return ThresholdLF(name, column, label, gt=gt, ge=ge, lt=lt, le=le, question=question)


class LexiconLF(VectorizedLF):
    """Votes the label whose lexicon entries occur most often; see :func:`lexicon`."""

    def __init__(
        self,
        name: str,
        entries: Mapping[str, int],
        column: str = "text",
        case: bool = False,
        min_count: int = 1,
        question: str | None = None,
    ) -> None:
        super().__init__(name, None, column, None, question)
        if not isinstance(entries, Mapping) or not entries:
            raise LFError(
                f"The 'lexicon' parameter of lexicon({name!r}) must be a non-empty mapping from word to label, "
                f"e.g. {{'great': 1, 'awful': 0}}. Got {type(entries).__name__} instead."
            )
        by_label: dict[int, list[str]] = {}
        for word, lab in entries.items():
            if not isinstance(word, str) or not word:
                raise LFError(f"lexicon({name!r}) entries must be non-empty str. Got {word!r}.")
            by_label.setdefault(_check_label(lab, "lexicon"), []).append(word)
        if not isinstance(min_count, int) or min_count < 1:
            raise LFError(f"The 'min_count' parameter of lexicon({name!r}) must be an int >= 1. Got {min_count!r}.")
        self.entries = dict(entries)
        self.case = bool(case)
        self.min_count = min_count
        flags = 0 if case else re.IGNORECASE
        self._searches: dict[int, PatternSearch] = {}
        for lab in sorted(by_label):
            words = sorted(set(by_label[lab]), key=lambda w: (-len(w), w))
            pattern = r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"
            self._searches[lab] = PatternSearch(pattern, flags)

    def output_labels(self) -> tuple[int, ...]:
        return tuple(self._searches)

    def _runs_user_code(self) -> bool:
        return any(search.re2 is None for search in self._searches.values())

    def _fingerprint_parts(self) -> list[Any]:
        return [self.column, canonical(self.entries), self.case, self.min_count]

    def _decide(self, counts: np.ndarray) -> np.ndarray:
        """counts: (n, n_labels) -> label with the strictly largest count >= min_count."""
        labels = np.array(list(self._searches), dtype=np.int8)
        out = np.full(counts.shape[0], ABSTAIN, dtype=np.int8)
        if counts.shape[0] == 0:
            return out
        best = counts.max(axis=1)
        winners = (counts == best[:, None]).sum(axis=1)
        arg = counts.argmax(axis=1)
        ok = (best >= self.min_count) & (winners == 1)
        out[ok] = labels[arg[ok]]
        return out

    def apply_frame(self, frame: pd.DataFrame, cache: TextColumnCache | None = None) -> np.ndarray:
        cache = cache or TextColumnCache(frame)
        assert self.column is not None
        cols = []
        missing = np.zeros(len(frame), dtype=bool)
        for search in self._searches.values():
            counts, missing = search.count(cache, self.column)
            cols.append(counts)
        out = self._decide(np.column_stack(cols) if cols else np.zeros((len(frame), 0)))
        out[missing] = ABSTAIN
        return out

    def __call__(self, x: Any) -> int:
        value = _row_value(x, self.column or "")
        counts = [s.count_one(value) for s in self._searches.values()]
        if counts and counts[0] is None:
            return ABSTAIN
        return int(self._decide(np.array([counts], dtype=np.int64))[0])


def lexicon(
    name: str,
    lexicon: Mapping[str, int],
    *,
    column: str = "text",
    case: bool = False,
    min_count: int = 1,
    question: str | None = None,
) -> LexiconLF:
    """Lexicon LF: count whole-word occurrences of each label's entries, vote the top label.

    For each label, counts the non-overlapping whole-word (``\\b``) matches of its entries
    (multi-word entries allowed; case-insensitive unless ``case``); votes the label with the
    strictly largest count if that count is at least ``min_count``; ties and missing text
    abstain.

    Examples
    --------
    >>> from workbench.lf import lexicon
    >>> lf = lexicon("sentiment_words", {"great": 1, "love": 1, "awful": 0})
    >>> lf(Row(text="Great song, love it")), lf(Row(text="great but awful"))
    (1, -1)
    """
    return LexiconLF(name, lexicon, column=column, case=case, min_count=min_count, question=question)


class ModelLF(VectorizedLF):
    """Votes from a model's class probabilities; see :func:`from_model`."""

    def __init__(
        self,
        name: str,
        model: Any,
        label_if: Mapping[int, float],
        column: str | Sequence[str] | None = None,
        question: str | None = None,
    ) -> None:
        super().__init__(name, None, None, None, question)
        if not (hasattr(model, "predict_proba") or callable(model)):
            raise LFError(
                f"The 'model' parameter of from_model({name!r}) must have predict_proba (a fitted scikit-learn "
                f"classifier) or be callable returning an (n, n_classes) probability array. Got "
                f"{type(model).__name__} instead."
            )
        if not isinstance(label_if, Mapping) or not label_if:
            raise LFError(
                f"The 'label_if' parameter of from_model({name!r}) must be a non-empty mapping "
                f"{{label: min_probability}}, e.g. {{1: 0.8}}. Got {label_if!r} instead."
            )
        checked: dict[int, float] = {}
        for lab, p in label_if.items():
            lab = _check_label(lab, "from_model")
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= float(p) <= 1.0:
                raise LFError(
                    f"from_model({name!r}): the minimum probability for label {lab} must be a number in [0, 1]. "
                    f"Got {p!r} instead."
                )
            checked[lab] = float(p)
        self.model = model
        self.label_if = checked
        self.model_column = column

    def output_labels(self) -> tuple[int, ...]:
        return tuple(self.label_if)

    def _fingerprint_parts(self) -> list[Any]:
        model_token = (
            function_token(self.model)
            if callable(self.model) and not hasattr(self.model, "predict_proba")
            else canonical(self.model)
        )
        return [model_token, canonical(self.label_if), canonical(self.model_column)]

    def _proba(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        col = self.model_column
        if isinstance(col, str):
            X: Any = frame[col]
            keep = ~X.isna().to_numpy()
        elif col is not None:
            X = frame[list(col)]
            keep = np.ones(len(frame), dtype=bool)
        else:
            X = frame
            keep = np.ones(len(frame), dtype=bool)
        proba = np.zeros((len(frame), 0))
        if keep.any():
            Xk = X[keep] if not keep.all() else X.copy(deep=False)
            before = input_signature(Xk)
            raw = self.model.predict_proba(Xk) if hasattr(self.model, "predict_proba") else self.model(Xk)
            check_unmodified(self, Xk, before)
            raw = np.asarray(raw, dtype=np.float64)
            if raw.ndim != 2 or raw.shape[0] != int(keep.sum()):
                raise LFError(
                    f"The model of from_model({self.name!r}) returned probabilities of shape {raw.shape} for "
                    f"{int(keep.sum())} rows; expected (n_rows, n_classes)."
                )
            proba = np.full((len(frame), raw.shape[1]), np.nan)
            proba[keep] = raw
        return proba, keep

    def apply_frame(self, frame: pd.DataFrame, cache: TextColumnCache | None = None) -> np.ndarray:
        proba, keep = self._proba(frame)
        out = np.full(len(frame), ABSTAIN, dtype=np.int8)
        if proba.shape[1] == 0:
            return out
        classes = getattr(self.model, "classes_", None)
        best = np.full(len(frame), -np.inf)
        for lab, thr in self.label_if.items():
            if classes is not None:
                where = np.flatnonzero(np.asarray(classes) == lab)
                if len(where) == 0:
                    raise LFError(
                        f"from_model({self.name!r}): label {lab} is not among the model's classes_ {list(classes)}."
                    )
                j = int(where[0])
            else:
                j = lab
                if j >= proba.shape[1]:
                    raise LFError(
                        f"from_model({self.name!r}): label {lab} has no probability column; the model returned "
                        f"{proba.shape[1]} columns."
                    )
            p = proba[:, j]
            with np.errstate(invalid="ignore"):
                ok = keep & (p >= thr) & (p > best)
            out[ok] = lab
            best[ok] = p[ok]
        return out

    def __call__(self, x: Any) -> int:
        return int(self.apply_frame(frame_of_row(x))[0])


def from_model(
    name: str,
    model: Any,
    label_if: Mapping[int, float],
    *,
    column: str | Sequence[str] | None = None,
    question: str | None = None,
) -> ModelLF:
    """Model LF: vote a label when the model's probability for it reaches a threshold.

    Parameters
    ----------
    model : estimator with ``predict_proba`` or callable
        Called on ``frame[column]`` (a Series, e.g. for a text pipeline), ``frame[columns]``
        or the whole frame, returning an (n, n_classes) array. Probability columns follow
        ``model.classes_`` when the model has it, else column ``j`` is label ``j``.
    label_if : {label: min_proba}
        Per-class thresholds. A row gets the label whose probability reaches its threshold;
        if several do, the most probable one. Rows with a missing ``column`` value abstain
        and are not passed to the model.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.lf import from_model
    >>> model = lambda texts: np.array([[0.9, 0.1] if "love" in t else [0.5, 0.5] for t in texts])
    >>> lf = from_model("sentiment", model, label_if={0: 0.8}, column="text")
    >>> lf(Row(text="love it")), lf(Row(text="meh"))
    (0, -1)
    """
    return ModelLF(name, model, label_if, column=column, question=question)


class FeedbackLF(VectorizedLF):
    """Votes from a production feedback table joined by example id; see :func:`from_feedback`."""

    def __init__(
        self,
        name: str,
        feedback: pd.DataFrame,
        column: str,
        labels: Mapping[Any, int] | Callable[[Any], int] | None = None,
        id_column: str | None = None,
        order_by: str | None = None,
        aggregate: str = "last",
        question: str | None = None,
    ) -> None:
        super().__init__(name, None, None, None, question)
        if not isinstance(feedback, pd.DataFrame):
            raise LFError(
                f"The 'feedback' parameter of from_feedback({name!r}) must be a pandas DataFrame. "
                f"Got {type(feedback).__name__} instead."
            )
        for needed in [column] + ([id_column] if id_column else []) + ([order_by] if order_by else []):
            if needed not in feedback.columns:
                raise LFError(
                    f"from_feedback({name!r}): the feedback table has no column {needed!r}; its columns are "
                    f"{list(feedback.columns)}."
                )
        if aggregate not in ("last", "first", "majority"):
            raise LFError(
                f"The 'aggregate' parameter of from_feedback({name!r}) must be 'last', 'first' or 'majority'. "
                f"Got {aggregate!r} instead."
            )
        self.feedback = feedback
        self.signal_column = column
        self.labels = labels
        self.id_column = id_column
        self.order_by = order_by
        self.aggregate = aggregate

    def _runs_user_code(self) -> bool:
        return callable(self.labels)

    def output_labels(self) -> tuple[int, ...] | None:
        if isinstance(self.labels, Mapping):
            return tuple(int(v) for v in self.labels.values() if v != ABSTAIN)
        return None

    def _fingerprint_parts(self) -> list[Any]:
        labels_token = function_token(self.labels) if callable(self.labels) else canonical(self.labels)
        return [
            canonical(self.feedback),
            self.signal_column,
            labels_token,
            self.id_column,
            self.order_by,
            self.aggregate,
        ]

    def _per_id(self) -> pd.Series:
        """One label per example id (ABSTAIN rows dropped)."""
        from workbench.data import id_text

        fb = self.feedback
        if self.order_by is not None:
            key = fb[self.order_by]
            if key.dtype == object or pd.api.types.is_string_dtype(key):
                # times as text ("10:00+02:00", "09:00Z") are ordered as times, not as text
                with contextlib.suppress(TypeError, ValueError):
                    key = pd.to_datetime(key, utc=True, format="ISO8601")
            fb = fb.iloc[np.argsort(key.to_numpy(), kind="stable")]
        id_series = fb[self.id_column] if self.id_column else fb.index.to_series()
        known = ~id_series.isna().to_numpy()
        fb, id_series = fb[known], id_series[known]  # a row without an id votes on nothing
        ids = np.array([id_text(v) for v in id_series], dtype=object)  # 1.0 (a column with a gap) is "1"
        signal = fb[self.signal_column]
        labels = self.labels
        if labels is None:
            mapped = signal
        elif isinstance(labels, Mapping):
            table = labels
            # keys also matched as text, integral numbers as integers: {1: SPAM} matches a CSV's "1" and 1.0
            by_text = {id_text(k): v for k, v in table.items()}
            mapped = signal.map(lambda v: ABSTAIN if is_missing(v) else table[v] if v in table
                                else by_text.get(id_text(v), ABSTAIN))
        else:
            func = labels
            mapped = signal.map(lambda v: ABSTAIN if is_missing(v) else func(v))
        lab = _to_label_array(self, mapped.to_numpy(dtype=object), len(mapped), list(ids))
        s = pd.Series(lab, index=pd.Index(ids, name="id"))
        s = s[s != ABSTAIN]
        if self.aggregate == "last":
            return s[~s.index.duplicated(keep="last")]
        if self.aggregate == "first":
            return s[~s.index.duplicated(keep="first")]
        counts = s.groupby(level=0).value_counts()
        top = counts.groupby(level=0).transform("max")
        winners = counts[counts == top]
        n_win = winners.groupby(level=0).size()
        unique = winners[winners.index.get_level_values(0).isin(n_win[n_win == 1].index)]
        return pd.Series(unique.index.get_level_values(1).to_numpy(), index=unique.index.get_level_values(0))

    def apply_frame(self, frame: pd.DataFrame, cache: TextColumnCache | None = None) -> np.ndarray:
        per_id = self._per_id()
        joined = per_id.reindex(frame.index.astype(str))
        return joined.fillna(ABSTAIN).to_numpy(dtype=np.int64).astype(np.int8)

    def __call__(self, x: Any) -> int:
        per_id = self._per_id()
        rid = str(getattr(x, "name", None))
        return int(per_id.get(rid, ABSTAIN))


def from_feedback(
    name: str,
    feedback: pd.DataFrame,
    *,
    column: str,
    labels: Mapping[Any, int] | Callable[[Any], int] | None = None,
    id_column: str | None = None,
    order_by: str | None = None,
    aggregate: str = "last",
    question: str | None = None,
) -> FeedbackLF:
    """Production-signal LF: a feedback table (corrections, overrides, flags) joined by example id.

    Parameters
    ----------
    feedback : DataFrame
        One row per signal; example ids in ``id_column`` or, if None, in the index.
        Its content is part of the fingerprint: new feedback re-applies the LF.
    column : str
        The signal column (e.g. ``"corrected_label"``, ``"flag"``).
    labels : mapping or callable, optional
        Signal value -> label (ABSTAIN or absent keys: no vote). None: the column already
        holds labels.
    order_by : str, optional
        Sort signals by this column (e.g. a timestamp) before aggregating.
    aggregate : {"last", "first", "majority"}
        How several signals for one example combine; a majority tie abstains.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.lf import from_feedback
    >>> flags = pd.DataFrame({"id": ["a", "b"], "flag": ["reported_spam", "ok"]})
    >>> lf = from_feedback("user_flags", flags, column="flag", labels={"reported_spam": 1}, id_column="id")
    >>> lf.apply_frame(pd.DataFrame({"text": ["x", "y", "z"]}, index=["a", "b", "c"])).tolist()
    [1, -1, -1]
    """
    return FeedbackLF(name, feedback, column, labels, id_column, order_by, aggregate, question)


def vectorized(
    name: str | None = None,
    *,
    column: str | None = None,
    resources: Mapping[str, Any] | None = None,
    question: str | None = None,
) -> Callable[[Callable[..., Any]], VectorizedLF]:
    """Decorator turning ``f(frame)`` (or ``f(series)`` with ``column=``) into a :class:`VectorizedLF`.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.lf import vectorized, ABSTAIN
    >>> @vectorized(column="text")
    ... def short(texts):
    ...     return np.where(texts.str.len() < 5, 0, ABSTAIN)
    >>> short.name
    'short'
    """
    if callable(name):
        raise LFError("vectorized is a decorator factory: write @vectorized() with parentheses.")

    def wrap(f: Callable[..., Any]) -> VectorizedLF:
        return VectorizedLF(name or f.__name__, f, column=column, resources=resources, question=question)

    return wrap
