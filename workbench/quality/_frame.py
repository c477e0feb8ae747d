"""Validation and integer encoding of long-format annotation frames.

Every quality function takes the same input: a pandas DataFrame with one row per
(example, annotator) current answer and the columns ``example_id``, ``annotator``,
``value`` and, optionally, ``created_at``. This module checks that frame once and turns
it into integer codes that the vectorized metrics work on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from workbench.exceptions import DataError

__all__ = [
    "ANNOTATOR",
    "CREATED_AT",
    "EXAMPLE_ID",
    "VALUE",
    "EncodedAnnotations",
    "encode_annotations",
    "labels_from_codes",
    "parse_timestamps",
    "validate_annotations",
    "validate_consensus",
    "validate_gold",
]

EXAMPLE_ID = "example_id"
ANNOTATOR = "annotator"
VALUE = "value"
CREATED_AT = "created_at"
_REQUIRED = (EXAMPLE_ID, ANNOTATOR, VALUE)


def _fn_name(caller: str) -> str:
    return caller or "this function"


def _duplicate_error(clean: pd.DataFrame, dup: NDArray[np.bool_], name: str) -> DataError:
    pairs = clean.loc[dup, [EXAMPLE_ID, ANNOTATOR]].drop_duplicates().head(3)
    shown = ", ".join(f"({e!r}, {a!r})" for e, a in pairs.itertuples(index=False))
    return DataError(
        f"The 'ann' parameter of {name} must hold one row per (example_id, annotator) "
        f"current answer. Got {int(dup.sum())} rows sharing a pair, e.g. {shown}. Keep the "
        f"latest answer, e.g. ann.sort_values('created_at').drop_duplicates("
        f"['example_id', 'annotator'], keep='last')."
    )


def validate_annotations(
    ann: pd.DataFrame,
    *,
    caller: str = "",
    require_time: bool = False,
    exclude: Iterable[str] | None = None,
    check_duplicates: bool = True,
) -> pd.DataFrame:
    """Check a long-format annotation frame and return a clean copy.

    The copy has ``example_id`` and ``annotator`` as strings, no row whose ``value`` is
    missing (a missing value means "no answer" and is dropped), and no row from an
    annotator listed in ``exclude``. A repeated (example_id, annotator) pair is an error:
    the quality functions expect each annotator's *current* answer only
    (:func:`encode_annotations` checks this on integer codes, hence ``check_duplicates``).

    Raises
    ------
    DataError
        If ``ann`` is not a DataFrame, lacks a required column, repeats a pair, or (with
        ``require_time``) has no usable tz-aware ``created_at`` column.
    """
    name = _fn_name(caller)
    if not isinstance(ann, pd.DataFrame):
        raise DataError(
            f"The 'ann' parameter of {name} must be a pandas DataFrame with columns "
            f"{list(_REQUIRED)}. Got {type(ann).__name__} instead."
        )
    missing = [c for c in _REQUIRED if c not in ann.columns]
    if missing:
        raise DataError(
            f"The 'ann' parameter of {name} must have the columns {list(_REQUIRED)}; "
            f"{missing} {'is' if len(missing) == 1 else 'are'} missing. Got columns "
            f"{list(map(str, ann.columns))} instead. Rename your columns, e.g. "
            f"ann.rename(columns={{'item': 'example_id', 'worker': 'annotator', 'label': 'value'}})."
        )
    cols = [c for c in (*_REQUIRED, CREATED_AT) if c in ann.columns]
    out = ann.loc[:, cols]
    present = out[VALUE].notna() & out[EXAMPLE_ID].notna() & out[ANNOTATOR].notna()
    if not present.all():
        out = out.loc[present]
    out = out.assign(
        **{
            EXAMPLE_ID: out[EXAMPLE_ID].astype(str),
            ANNOTATOR: out[ANNOTATOR].astype(str),
        }
    )
    if exclude is not None:
        if isinstance(exclude, str):
            exclude = [exclude]
        out = out.loc[~out[ANNOTATOR].isin([str(a) for a in exclude])]
    if check_duplicates:
        dup = out.duplicated([EXAMPLE_ID, ANNOTATOR], keep=False).to_numpy()
        if dup.any():
            raise _duplicate_error(out, dup, name)
    if require_time:
        if CREATED_AT not in out.columns:
            raise DataError(
                f"{name} needs a 'created_at' column of tz-aware timestamps in 'ann'. Got "
                f"columns {list(map(str, ann.columns))} instead. Add the time of each answer."
            )
        ts = parse_timestamps(out[CREATED_AT], caller=name)
        out = out.assign(**{CREATED_AT: ts}).loc[ts.notna()]
    return out.reset_index(drop=True)


# a time of day followed by a zone designator ("Z", "+02:00", "-0500", "+02", "UTC")
_TZ_SUFFIX = r"(?i)[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)$"


def _shown(values: pd.Series, mask: NDArray[np.bool_]) -> str:
    bad = values[mask]
    head = ", ".join(f"{v!r} (row {i!r})" for i, v in bad.head(3).items())
    more = f" and {int(mask.sum()) - 3} more" if mask.sum() > 3 else ""
    return head + more


def parse_timestamps(values: pd.Series, *, caller: str = "") -> pd.Series:
    """Return ``values`` as tz-aware timestamps, or raise a ``DataError`` naming the bad ones.

    Accepted: a tz-aware datetime column (any time zone, kept as is); or ISO-8601 strings
    with a time zone (``"2024-05-01T10:00:00Z"``, ``"2024-05-01 10:00+02:00"``) and
    tz-aware ``datetime`` objects, which are converted to UTC. Missing values stay missing
    (``NaT``). Rejected, with the offending values and their row labels in the message:
    naive timestamps (no time zone: the instant is ambiguous), and strings that are not
    ISO-8601 such as ``"05/01/2024 10:00"`` (month/day order is ambiguous).

    Raises
    ------
    DataError
        If some value is not a tz-aware timestamp or an ISO-8601 string with a time zone.
    """
    name = _fn_name(caller)
    fix = (
        "Convert the column yourself with pd.to_datetime(col, format=<your format>, utc=True) "
        "(or .dt.tz_localize(<time zone>) for naive datetimes)."
    )
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        raise DataError(
            f"The 'created_at' column given to {name} must hold tz-aware timestamps (or ISO-8601 "
            f"strings with a time zone, e.g. '2024-05-01T10:00:00Z'). Got naive timestamps (dtype "
            f"{values.dtype}) instead. {fix}"
        )
    present = values.notna().to_numpy()
    is_str = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    other = present & ~is_str
    is_aware = np.fromiter(
        (
            isinstance(v, (pd.Timestamp, dt.datetime)) and v.tzinfo is not None
            for v in values.to_numpy(dtype=object)
        ),
        dtype=bool,
        count=len(values),
    )
    if (other & ~is_aware).any():
        raise DataError(
            f"The 'created_at' column given to {name} must hold tz-aware timestamps or ISO-8601 "
            f"strings with a time zone (e.g. '2024-05-01T10:00:00Z'). Got values that are neither "
            f"(naive datetimes or other types): {_shown(values, other & ~is_aware)} instead. {fix}"
        )
    if is_str.any():
        text = pd.Series(
            [v.strip() if isinstance(v, str) else "" for v in values.to_numpy(dtype=object)], index=values.index
        )
        parsed = pd.to_datetime(text.where(is_str), format="ISO8601", utc=True, errors="coerce")
        unparsable = is_str & parsed.isna().to_numpy()
        if unparsable.any():
            raise DataError(
                f"The 'created_at' column given to {name} must hold tz-aware timestamps or ISO-8601 "
                f"strings with a time zone (e.g. '2024-05-01T10:00:00Z'). Got {int(unparsable.sum())} "
                f"value(s) that are not ISO-8601: {_shown(values, unparsable)} instead. {fix}"
            )
        naive = is_str & ~text.str.contains(_TZ_SUFFIX, regex=True, na=False).to_numpy()
        if naive.any():
            raise DataError(
                f"The 'created_at' column given to {name} must hold timestamps with a time zone. Got "
                f"{int(naive.sum())} ISO-8601 string(s) without one: {_shown(values, naive)} instead. "
                f"Append the offset ('Z' for UTC, '+02:00' ...) or {fix[0].lower()}{fix[1:]}"
            )
    out = pd.to_datetime(values.where(present, None), utc=True, format="ISO8601", errors="coerce")
    return pd.Series(out, index=values.index, name=values.name)


def _sorted_unique(uniq: NDArray[Any]) -> pd.Index:
    values = list(uniq.tolist())
    try:
        order = sorted(values)
    except TypeError:  # mixed, non-comparable types: fall back to their text
        order = sorted(values, key=lambda v: (type(v).__name__, str(v)))
    return pd.Index(order)


@dataclass(frozen=True)
class EncodedAnnotations:
    """Integer codes of a validated annotation frame.

    Attributes
    ----------
    item, annotator, value : ndarray of int64
        Per-row codes into ``items``, ``annotators`` and ``labels``.
    items, annotators, labels : pandas.Index
        The distinct example ids (sorted), annotators (sorted) and label values (sorted
        unless given).
    """

    item: NDArray[np.int64]
    annotator: NDArray[np.int64]
    value: NDArray[np.int64]
    items: pd.Index
    annotators: pd.Index
    labels: pd.Index

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_annotators(self) -> int:
        return len(self.annotators)

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    def counts(self) -> NDArray[np.float64]:
        """The (n_items, n_labels) matrix of how many raters gave each label to each item."""
        k = max(self.n_labels, 1)
        flat = np.bincount(self.item * k + self.value, minlength=self.n_items * k)
        return flat.reshape(self.n_items, k).astype(np.float64)

    def matrix(self, dtype: Any = np.int64) -> NDArray[Any]:
        """The dense (n_items, n_annotators) matrix of label codes, -1 where no answer."""
        out = np.full((self.n_items, self.n_annotators), -1, dtype=dtype)
        out[self.item, self.annotator] = self.value
        return out

    def without_annotators(self, codes: NDArray[np.int64]) -> EncodedAnnotations:
        """Drop the rows of the given annotator codes; every item and label is kept."""
        keep = ~np.isin(self.annotator, codes)
        remaining, annotator = np.unique(self.annotator[keep], return_inverse=True)
        return EncodedAnnotations(
            item=self.item[keep],
            annotator=annotator.astype(np.int64),
            value=self.value[keep],
            items=self.items,
            annotators=self.annotators[remaining],
            labels=self.labels,
        )


def encode_annotations(
    clean: pd.DataFrame,
    *,
    labels: Iterable[Hashable] | None = None,
    caller: str = "",
) -> EncodedAnnotations:
    """Encode a frame returned by :func:`validate_annotations` as integer codes.

    ``labels`` fixes the label order (values outside it raise); by default the observed
    values are sorted. A repeated (example_id, annotator) pair raises ``DataError``.
    """
    item, items = pd.factorize(clean[EXAMPLE_ID], sort=True)
    annotator, annotators = pd.factorize(clean[ANNOTATOR], sort=True)
    value_raw, uniques = pd.factorize(clean[VALUE])
    uniques_arr = np.asarray(uniques, dtype=object)
    label_index = _sorted_unique(uniques_arr) if labels is None else pd.Index(list(labels))
    mapping = label_index.get_indexer(pd.Index(uniques_arr, dtype=object))
    if (mapping < 0).any():
        bad = uniques_arr[mapping < 0][:5].tolist()
        raise DataError(
            f"Some annotation values are not among the allowed labels {list(label_index)}: "
            f"got {bad}. Pass the full label set or fix the values."
        )
    item = item.astype(np.int64)
    annotator = annotator.astype(np.int64)
    if len(item):
        key = np.sort(item * len(annotators) + annotator)
        if (key[1:] == key[:-1]).any():
            key = item * len(annotators) + annotator
            dup = pd.Series(key).duplicated(keep=False).to_numpy()
            raise _duplicate_error(clean, dup, _fn_name(caller))
    return EncodedAnnotations(
        item=item,
        annotator=annotator,
        value=mapping[value_raw].astype(np.int64),
        items=pd.Index(np.asarray(items, dtype=object), dtype=object),
        annotators=pd.Index(np.asarray(annotators, dtype=object), dtype=object),
        labels=label_index,
    )


def labels_from_codes(labels: pd.Index, codes: NDArray[np.integer[Any]]) -> pd.api.extensions.ExtensionArray:
    """Map label codes back to values; code -1 becomes a missing value (``<NA>``/NaN)."""
    arr = pd.array(labels.to_numpy())
    return arr.take(np.asarray(codes, dtype=np.int64), allow_fill=True)


def validate_gold(gold: Any, *, caller: str = "") -> pd.Series:
    """Return ``gold`` as a Series indexed by string example ids, without missing values."""
    name = _fn_name(caller)
    if isinstance(gold, Mapping) and not isinstance(gold, pd.Series):
        gold = pd.Series(gold)
    if not isinstance(gold, pd.Series):
        raise DataError(
            f"The 'gold' parameter of {name} must be a pandas Series of gold labels indexed by "
            f"example_id. Got {type(gold).__name__} instead."
        )
    out = gold.dropna()
    out.index = out.index.astype(str)
    if out.index.has_duplicates:
        dups = out.index[out.index.duplicated()].unique()[:3].tolist()
        raise DataError(
            f"The 'gold' parameter of {name} must have one label per example_id. Got repeated ids {dups} instead."
        )
    out.index.name = EXAMPLE_ID
    return out


def validate_consensus(consensus: Any, *, caller: str = "") -> pd.Series:
    """Return the consensus label per example id (a Series), without missing labels.

    Accepts the DataFrame returned by :func:`majority_consensus` or
    :func:`dawid_skene_consensus` (its ``label`` column is used) or a Series of labels.
    """
    name = _fn_name(caller)
    if isinstance(consensus, pd.DataFrame):
        if "label" not in consensus.columns:
            raise DataError(
                f"The 'consensus' parameter of {name} must be a Series of labels or a DataFrame "
                f"with a 'label' column (as returned by majority_consensus). Got columns "
                f"{list(map(str, consensus.columns))} instead."
            )
        consensus = consensus["label"]
    if not isinstance(consensus, pd.Series):
        raise DataError(
            f"The 'consensus' parameter of {name} must be a Series of labels indexed by "
            f"example_id or a consensus DataFrame. Got {type(consensus).__name__} instead."
        )
    return validate_gold(consensus, caller=caller)
