"""Validation of a soft-labels DataFrame and its conversion to the stored Arrow table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.exceptions import DataError
from workbench.versions._format import _as_array, column_kind

__all__ = [
    "ID_COLUMN",
    "PROB_TOLERANCE",
    "Layout",
    "resolve_layout",
    "soft_labels_table",
]

ID_COLUMN = "id"
#: Probabilities may leave [0, 1], and their sums 1, by at most this much (float round-off).
PROB_TOLERANCE = 1e-6
_ROW_COLUMNS = ("confidence", "weight", "sources")
#: Question name used when a one-question layout is inferred from bare ``p_<choice>`` columns.
DEFAULT_QUESTION = "label"


@dataclass(frozen=True)
class Layout:
    """Which columns hold what: question -> choices, probability columns and label column."""

    questions: dict[str, list[str]]
    prob_columns: dict[str, list[str]]
    label_columns: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "prob_columns": self.prob_columns,
            "label_columns": self.label_columns,
        }

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> Layout:
        return cls(
            questions={str(k): list(v) for k, v in manifest["questions"].items()},
            prob_columns={str(k): list(v) for k, v in manifest["prob_columns"].items()},
            label_columns={str(k): str(v) for k, v in manifest["label_columns"].items()},
        )

    def all_prob_columns(self) -> list[str]:
        return [c for cols in self.prob_columns.values() for c in cols]


def _shown(values: Sequence[Any], limit: int = 5) -> str:
    vals = list(values)
    text = ", ".join(repr(v) for v in vals[:limit])
    return text + (f" and {len(vals) - limit} more" if len(vals) > limit else "")


def _check_questions(questions: object) -> dict[str, list[str]]:
    if not isinstance(questions, Mapping) or not questions:
        raise DataError(
            "The 'questions' entry of the manifest must be a non-empty mapping of question name -> list of "
            f"choices, e.g. {{'spam': ['ham', 'spam']}}. Got {questions!r} instead."
        )
    out: dict[str, list[str]] = {}
    for q, choices in questions.items():
        if not isinstance(q, str) or not q:
            raise DataError(f"Question names in 'questions' must be non-empty strings. Got {q!r} instead.")
        if isinstance(choices, str) or not isinstance(choices, Sequence) or not choices:
            raise DataError(
                f"The choices of question {q!r} must be a non-empty list of strings. Got {choices!r} instead."
            )
        cs = list(choices)
        if not all(isinstance(c, str) and c for c in cs) or len(set(cs)) != len(cs):
            raise DataError(
                f"The choices of question {q!r} must be distinct non-empty strings. Got {cs!r} instead."
            )
        out[q] = cs
    return out


def resolve_layout(columns: Sequence[str], questions: Mapping[str, Sequence[str]] | None) -> Layout:
    """Match the frame's columns to the questions (inferred from ``p_`` columns when None).

    One question: probability columns ``p_<choice>`` (or ``p_<question>__<choice>``) and a
    ``label`` (or ``label__<question>``) column. Several questions: ``p_<question>__<choice>``
    and ``label__<question>``.
    """
    cols = [str(c) for c in columns]
    present = set(cols)
    p_cols = [c for c in cols if c.startswith("p_")]
    if questions is None:
        if not p_cols:
            raise DataError(
                "The soft labels have no probability columns: expected 'p_<choice>' columns (e.g. 'p_ham', "
                f"'p_spam'), or 'p_<question>__<choice>' for several questions. Columns: {cols!r}."
            )
        if any("__" in c for c in p_cols):
            inferred: dict[str, list[str]] = {}
            for c in p_cols:
                q, sep, choice = c[2:].partition("__")
                if not sep:
                    raise DataError(
                        f"Column {c!r} mixes the one-question naming 'p_<choice>' with 'p_<question>__<choice>' "
                        f"columns; pass manifest['questions'] to say which is meant."
                    )
                inferred.setdefault(q, []).append(choice)
            questions = inferred
        else:
            questions = {DEFAULT_QUESTION: [c[2:] for c in p_cols]}
    qs = _check_questions(questions)
    prob: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    if len(qs) == 1:
        (q, choices), = qs.items()
        flat = [f"p_{c}" for c in choices]
        nested = [f"p_{q}__{c}" for c in choices]
        if all(c in present for c in flat):
            prob[q] = flat
        elif all(c in present for c in nested):
            prob[q] = nested
        else:
            missing = [c for c in flat if c not in present]
            raise DataError(
                f"The soft labels lack probability column(s) {missing!r} for question {q!r} (choices "
                f"{choices!r}); expected one 'p_<choice>' column per choice. Columns: {cols!r}."
            )
        label_col = "label" if "label" in present else f"label__{q}"
        if label_col not in present:
            raise DataError(
                f"The soft labels lack the 'label' column (the hard label per row: a choice of {choices!r} or "
                f"missing). Columns: {cols!r}."
            )
        labels[q] = label_col
    else:
        for q, choices in qs.items():
            nested = [f"p_{q}__{c}" for c in choices]
            missing = [c for c in nested if c not in present]
            if missing:
                raise DataError(
                    f"The soft labels lack probability column(s) {missing!r} for question {q!r}; several "
                    f"questions need 'p_<question>__<choice>' columns. Columns: {cols!r}."
                )
            prob[q] = nested
            if f"label__{q}" not in present:
                raise DataError(
                    f"The soft labels lack the column 'label__{q}' (the hard label of question {q!r}); several "
                    f"questions need one 'label__<question>' column each. Columns: {cols!r}."
                )
            labels[q] = f"label__{q}"
    known = {c for cs in prob.values() for c in cs}
    stray = [c for c in p_cols if c not in known]
    if stray:
        raise DataError(
            f"Column(s) {stray!r} look like probabilities but match no choice of {qs!r}. Rename or drop them, "
            f"or list the choice in manifest['questions']."
        )
    return Layout(qs, prob, labels)


def _arrow_strings(series: pd.Series) -> pa.Array | None:
    """The column as an Arrow string array, or None when it holds something other than str/missing."""
    try:
        arr = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), type=pa.string())
    if pa.types.is_dictionary(arr.type) and (
        pa.types.is_string(arr.type.value_type) or pa.types.is_large_string(arr.type.value_type)
    ):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_string(arr.type):
        return arr
    if pa.types.is_large_string(arr.type):
        return arr.cast(pa.string())
    return None


def _non_strings(series: pd.Series) -> np.ndarray:
    """Mask of the values that are neither str nor missing."""
    values = series.to_numpy(dtype=object)
    missing = pd.isna(series).to_numpy()
    return np.fromiter(
        (not m and not isinstance(v, str) for v, m in zip(values, missing, strict=True)), dtype=bool, count=len(values)
    )


def _ids_of(df: pd.DataFrame) -> pa.Array:
    has_col = ID_COLUMN in df.columns
    has_index = df.index.name == ID_COLUMN
    if has_col and has_index:
        raise DataError(
            "The soft labels have both an index named 'id' and an 'id' column; keep one (e.g. "
            "df.reset_index(drop=True))."
        )
    if not has_col and not has_index:
        raise DataError(
            "The soft labels need example ids in an 'id' column or an index named 'id'. Got columns "
            f"{[str(c) for c in df.columns]!r} and index name {df.index.name!r}."
        )
    raw = df[ID_COLUMN] if has_col else df.index.to_series()
    ids = _arrow_strings(raw)
    empty = (
        np.asarray(pc.fill_null(pc.equal(pc.binary_length(ids), 0), True).to_numpy(zero_copy_only=False), dtype=bool)
        if ids is not None
        else None
    )
    if ids is None or ids.null_count or (empty is not None and empty.any()):
        bad = _non_strings(raw) | pd.isna(raw).to_numpy()
        if empty is not None:
            bad |= empty
        where = np.flatnonzero(bad)
        n_bad, k = len(where), int(where[0])
        value = raw.iloc[k]
        raise DataError(
            f"Example ids must be non-empty strings; {n_bad} are not, e.g. row {k}: {value!r} "
            f"({type(value).__name__}). Convert them with df['id'].astype(str) or drop the rows."
        )
    return ids


def _check_unique_sorted(ids: pa.Array) -> None:
    """Raise on duplicate ids; ``ids`` must be sorted."""
    if len(ids) < 2:
        return
    same = pc.equal(ids.slice(1), ids.slice(0, len(ids) - 1))
    if pc.any(same).as_py():
        dups = pc.unique(ids.slice(1).filter(same)).to_pylist()
        raise DataError(
            f"Example ids must be unique; {len(dups)} occur more than once: {_shown(dups)}. Keep one row per id."
        )


def _float_column(df: pd.DataFrame, col: str) -> np.ndarray:
    s = df[col]
    if pd.api.types.is_bool_dtype(s.dtype) or not (
        pd.api.types.is_numeric_dtype(s.dtype) or s.isna().all()
    ):
        raise DataError(
            f"Column {col!r} must hold numbers (float). Got dtype {s.dtype} instead, e.g. {s.dropna().iloc[0]!r}."
        )
    return np.asarray(s.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _rows(ids: pa.Array, mask: Any) -> str:
    where = np.flatnonzero(np.asarray(mask, dtype=bool))
    return f"{len(where)} row(s), e.g. id {_shown(ids.take(pa.array(where[:5])).to_pylist())}"


def _string_column(df: pd.DataFrame, col: str, ids: pa.Array) -> pa.Array:
    arr = _arrow_strings(df[col])
    if arr is None:
        mask = _non_strings(df[col])
        value = df[col].iloc[int(np.flatnonzero(mask)[0])] if mask.any() else df[col].iloc[0]
        raise DataError(
            f"Column {col!r} must hold strings or missing values; {_rows(ids, mask)} hold something else "
            f"(first: {value!r}, {type(value).__name__})."
        )
    return arr


def _value_counts(arr: pa.Array) -> dict[str, int]:
    """Counts of each value, missing counted under ``""``, sorted by value."""
    out: dict[str, int] = {}
    for item in pc.value_counts(pc.fill_null(arr, "")).to_pylist():
        key = str(item["values"])
        out[key] = out.get(key, 0) + int(item["counts"])
    return dict(sorted(out.items()))


def soft_labels_table(
    df: pd.DataFrame, questions: Mapping[str, Sequence[str]] | None
) -> tuple[pa.Table, Layout, dict[str, Any]]:
    """Validate ``df`` and return (Arrow table sorted by id, layout, counts).

    Raises
    ------
    DataError
        Naming the column and the rows at fault.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"The soft labels must be a pandas DataFrame. Got {type(df).__name__} instead.")
    ids = _ids_of(df)
    data_cols = [str(c) for c in df.columns if c != ID_COLUMN]
    if len(set(data_cols)) != len(data_cols):
        raise DataError(f"The soft labels have duplicate column names: {data_cols!r}.")
    layout = resolve_layout(data_cols, questions)
    missing = [c for c in _ROW_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            f"The soft labels lack the column(s) {missing!r}. Each row needs 'confidence' (float in [0, 1]), "
            f"'weight' (float >= 0, the training sample weight) and 'sources' (e.g. 'lf+human'; empty when "
            f"nothing labeled the row)."
        )
    arrays: dict[str, pa.Array] = {ID_COLUMN: ids}
    tol = PROB_TOLERANCE
    for q, cols in layout.prob_columns.items():
        P = np.column_stack([_float_column(df, c) for c in cols]) if cols else np.empty((len(df), 0))
        nan = np.isnan(P)
        none = nan.all(axis=1)
        partial = nan.any(axis=1) & ~none
        if partial.any():
            raise DataError(
                f"The probabilities of question {q!r} are missing in some but not all of {cols!r} for "
                f"{_rows(ids, partial)}. A question that does not apply to a row has all its probabilities "
                f"missing; otherwise every choice needs one (0 is fine)."
            )
        for j, c in enumerate(cols):
            x = P[:, j]
            out = ~nan[:, j] & ((x < -tol) | (x > 1 + tol) | ~np.isfinite(np.where(nan[:, j], 0.0, x)))
            if out.any():
                k = int(np.flatnonzero(out)[0])
                raise DataError(
                    f"Column {c!r} must hold probabilities in [0, 1]; {_rows(ids, out)} are outside "
                    f"(first: {float(x[k])!r})."
                )
        sums = np.where(none, 1.0, np.nansum(P, axis=1))
        off = np.abs(sums - 1.0) > tol
        if off.any():
            k = int(np.flatnonzero(off)[0])
            raise DataError(
                f"The probabilities of question {q!r} ({cols!r}) must sum to 1 per row (tolerance {tol:g}); "
                f"{_rows(ids, off)} do not (first sums to {float(sums[k])!r}). Normalise them, e.g. "
                f"P / P.sum(axis=1, keepdims=True)."
            )
        for j, c in enumerate(cols):
            arrays[c] = pa.array(P[:, j], type=pa.float64(), from_pandas=True)
    counts_by_label: dict[str, dict[str, int]] = {}
    for q, col in layout.label_columns.items():
        values = _string_column(df, col, ids)
        choices = layout.questions[q]
        valid = pc.or_kleene(pc.is_in(values, value_set=pa.array(choices, pa.string())), pc.is_null(values))
        valid_np = np.asarray(valid.to_numpy(zero_copy_only=False), dtype=bool)
        if not valid_np.all():
            bad_vals = pc.unique(values.filter(pc.invert(valid))).to_pylist()
            raise DataError(
                f"Column {col!r} must hold a choice of question {q!r} ({choices!r}) or a missing value; "
                f"{_rows(ids, ~valid_np)} hold {_shown(bad_vals)}."
            )
        arrays[col] = values
        counts_by_label[q] = _value_counts(values)
    conf = _float_column(df, "confidence")
    bad = np.asarray(~np.isnan(conf) & ((conf < -tol) | (conf > 1 + tol)), dtype=bool)
    if bad.any():
        raise DataError(
            f"Column 'confidence' must hold numbers in [0, 1] (or missing); {_rows(ids, bad)} are outside "
            f"(first: {float(conf[np.flatnonzero(bad)[0]])!r})."
        )
    arrays["confidence"] = pa.array(conf, type=pa.float64(), from_pandas=True)
    weight = _float_column(df, "weight")
    w0 = np.where(np.isnan(weight), 0.0, weight)
    bad = np.asarray(~np.isnan(weight) & ((w0 < 0) | ~np.isfinite(w0)), dtype=bool)
    if bad.any():
        raise DataError(
            f"Column 'weight' must hold finite numbers >= 0 (or missing); {_rows(ids, bad)} do not "
            f"(first: {float(weight[np.flatnonzero(bad)[0]])!r})."
        )
    arrays["weight"] = pa.array(weight, type=pa.float64(), from_pandas=True)
    sources = _string_column(df, "sources", ids)
    arrays["sources"] = sources
    by_sources = _value_counts(sources)
    by_source: dict[str, int] = {}
    for combo, n in by_sources.items():
        for token in {t.strip() for t in combo.split("+") if t.strip()}:
            by_source[token] = by_source.get(token, 0) + n
    used = set(arrays)
    for c in df.columns:
        if c == ID_COLUMN or str(c) in used:
            continue
        s = df[c]
        try:
            arr = pa.array(s.to_numpy(dtype=object) if s.dtype == object else s, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise DataError(
                f"Extra column {c!r} cannot be stored ({exc}). Extra columns may hold strings, numbers or "
                f"booleans only; drop or convert it."
            ) from None
        kind = column_kind(arr.type)
        if kind is None and pa.types.is_null(arr.type):
            arr, kind = pa.array([None] * len(s), type=pa.string()), "string"
        if kind is None:
            raise DataError(
                f"Extra column {c!r} has type {arr.type}; extra columns may hold strings, numbers or booleans "
                f"only. Drop or convert it."
            )
        target = {"string": pa.string(), "float64": pa.float64(), "int64": pa.int64(), "bool": pa.bool_()}[kind]
        arrays[str(c)] = arr.cast(target)
    table = pa.table(arrays)
    if table.num_rows > 1:
        ascending = pc.all(pc.less(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py()
        if not ascending:  # store sorted by id: the content hash then ignores the input order
            table = table.take(pc.sort_indices(ids))
    _check_unique_sorted(_as_array(table.column(ID_COLUMN)))
    counts = {
        "rows": int(table.num_rows),
        "by_sources": by_sources,
        "by_source": dict(sorted(by_source.items())),
        "by_label": counts_by_label,
    }
    return table, layout, counts
