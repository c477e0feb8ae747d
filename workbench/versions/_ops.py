"""Pure operations on loaded label versions: diffs and scikit-learn training arrays."""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.exceptions import DataError
from workbench.versions._validate import ID_COLUMN, Layout

__all__ = ["diff_frames", "training_arrays"]


def _pick_questions(layout_a: Layout, layout_b: Layout, question: str | None) -> list[str]:
    qs = list(dict.fromkeys([*layout_a.questions, *layout_b.questions]))
    if question is None:
        return qs
    if question not in qs:
        raise DataError(f"Unknown question {question!r}; these versions have questions {qs!r}.")
    return [question]


def _prob_matrix(df: pd.DataFrame, layout: Layout, q: str, choices: list[str], ids: pd.Index) -> np.ndarray:
    """(len(ids), len(choices)) probabilities; NaN for absent rows or an inapplicable question.

    A choice the version does not know gets probability 0 where the question applies.
    """
    out = np.full((len(ids), len(choices)), np.nan)
    if q not in layout.questions:
        return out
    own = layout.questions[q]
    frame = df[layout.prob_columns[q]].reindex(ids)
    P = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    applies = ~np.isnan(P).all(axis=1)
    for j, c in enumerate(choices):
        if c in own:
            out[:, j] = P[:, own.index(c)]
        else:
            out[:, j] = np.where(applies, 0.0, np.nan)
    return out


def _labels(df: pd.DataFrame, layout: Layout, q: str, ids: pd.Index) -> pd.Series:
    if q not in layout.label_columns:
        return pd.Series([None] * len(ids), index=ids, dtype=object)
    return df[layout.label_columns[q]].reindex(ids).astype(object).where(lambda s: s.notna(), None)


def diff_frames(
    a: pd.DataFrame,
    layout_a: Layout,
    b: pd.DataFrame,
    layout_b: Layout,
    *,
    question: str | None = None,
    names: tuple[str, str] = ("a", "b"),
) -> pd.DataFrame:
    """Per-example differences between two loaded versions (see :meth:`LabelVersionStore.diff`)."""
    ids = a.index.union(b.index)
    if not ids.is_monotonic_increasing:
        ids = ids.sort_values()
    ids = pd.Index(ids, name=ID_COLUMN)
    if question is None and len(layout_a.questions) == 1 and len(layout_b.questions) == 1:
        # two one-question versions compare their only question, even if it was named differently
        (qa,), (qb,) = layout_a.questions, layout_b.questions
        if qa != qb:
            layout_b = Layout(
                {qa: layout_b.questions[qb]}, {qa: layout_b.prob_columns[qb]}, {qa: layout_b.label_columns[qb]}
            )
    in_a = np.asarray(ids.isin(a.index))
    in_b = np.asarray(ids.isin(b.index))
    both = in_a & in_b
    qs = _pick_questions(layout_a, layout_b, question)
    out = pd.DataFrame(index=ids)
    out["in_a"] = in_a
    out["in_b"] = in_b
    max_abs = np.full(len(ids), np.nan)
    tvd = np.full(len(ids), np.nan)
    nan_status_differs = np.zeros(len(ids), dtype=bool)
    label_changed = np.zeros(len(ids), dtype=bool)
    single = len(qs) == 1
    for q in qs:
        choices = list(dict.fromkeys([*layout_a.questions.get(q, []), *layout_b.questions.get(q, [])]))
        Pa = _prob_matrix(a, layout_a, q, choices, ids)
        Pb = _prob_matrix(b, layout_b, q, choices, ids)
        nan_a = np.isnan(Pa).all(axis=1)
        nan_b = np.isnan(Pb).all(axis=1)
        nan_status_differs |= both & (nan_a != nan_b)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            d = np.abs(Pa - Pb)
            q_max = d.max(axis=1) if d.shape[1] else np.full(len(ids), np.nan)
            q_tvd = 0.5 * d.sum(axis=1)
            q_tvd[np.isnan(q_max)] = np.nan
            max_abs = np.fmax(max_abs, q_max)
            tvd = np.fmax(tvd, q_tvd)
        la = _labels(a, layout_a, q, ids)
        lb = _labels(b, layout_b, q, ids)
        differs = np.asarray((la != lb) & ~(la.isna() & lb.isna()), dtype=bool)
        label_changed |= both & differs
        suffix = "" if single else f"__{q}"
        out[f"label_a{suffix}"] = la.where(pd.Series(in_a, index=ids), None)
        out[f"label_b{suffix}"] = lb.where(pd.Series(in_b, index=ids), None)
    prob_changed = both & ((np.nan_to_num(max_abs, nan=0.0) > 0) | nan_status_differs)
    out["label_changed"] = label_changed
    out["changed"] = ~both | label_changed | prob_changed
    out["max_abs_change"] = max_abs
    out["tvd"] = tvd
    common_tvd = tvd[both & ~np.isnan(tvd)]
    out.attrs["summary"] = summary = {
        "a": names[0],
        "b": names[1],
        "n_a": int(in_a.sum()),
        "n_b": int(in_b.sum()),
        "n_common": int(both.sum()),
        "n_added": int((in_b & ~in_a).sum()),
        "n_removed": int((in_a & ~in_b).sum()),
        "n_label_changed": int(label_changed.sum()),
        "n_changed": int(np.asarray(out["changed"]).sum()),
        "mean_tvd": float(common_tvd.mean()) if len(common_tvd) else float("nan"),
        "max_tvd": float(common_tvd.max()) if len(common_tvd) else float("nan"),
    }
    out.attrs.update(summary)
    return out


def _check_param(name: str, ok: bool, expected: str, value: Any) -> None:
    if not ok:
        raise DataError(
            f"The {name!r} parameter of LabelVersionStore.training_data must be {expected}. Got {value!r} instead."
        )


def training_arrays(
    df: pd.DataFrame,
    layout: Layout,
    features: pd.DataFrame | None,
    *,
    question: str | None = None,
    min_confidence: float = 0.0,
    drop_no_signal: bool = True,
    soft: bool = False,
    y_format: Literal["choice", "index"] = "choice",
) -> tuple[pd.DataFrame | pd.Index, np.ndarray, np.ndarray]:
    """(X, y, w) from one loaded version (see :meth:`LabelVersionStore.training_data`)."""
    _check_param(
        "min_confidence",
        isinstance(min_confidence, (int, float)) and not isinstance(min_confidence, bool)
        and 0.0 <= float(min_confidence) <= 1.0,
        "a number in [0, 1]",
        min_confidence,
    )
    _check_param("y_format", y_format in ("choice", "index"), "'choice' or 'index'", y_format)
    _check_param("soft", isinstance(soft, bool), "a bool", soft)
    _check_param("drop_no_signal", isinstance(drop_no_signal, bool), "a bool", drop_no_signal)
    qs = list(layout.questions)
    if question is None:
        if len(qs) != 1:
            raise DataError(
                f"This label version has several questions {qs!r}; pass question=<one of them> to "
                f"training_data."
            )
        question = qs[0]
    elif question not in layout.questions:
        raise DataError(f"Unknown question {question!r}; this label version has questions {qs!r}.")
    choices = layout.questions[question]
    P = df[layout.prob_columns[question]].to_numpy(dtype=np.float64, na_value=np.nan)
    labels = df[layout.label_columns[question]]
    keep = np.array(~np.isnan(P).any(axis=1) if soft else labels.notna(), dtype=bool)
    if drop_no_signal:
        src = df["sources"].astype(object).fillna("").map(str).str.strip()
        keep &= np.array(src != "", dtype=bool)
    if min_confidence > 0:
        keep &= np.array(df["confidence"].to_numpy(dtype=np.float64, na_value=np.nan) >= float(min_confidence))
    kept_ids = df.index[keep]
    if features is None:
        rows = kept_ids
        X: pd.DataFrame | pd.Index = pd.Index(kept_ids, name=ID_COLUMN)
    else:
        if not isinstance(features, pd.DataFrame):
            raise DataError(
                f"The 'features' parameter of LabelVersionStore.training_data must be a DataFrame indexed by "
                f"example id (or None). Got {type(features).__name__} instead."
            )
        F = features
        if ID_COLUMN in F.columns and F.index.name != ID_COLUMN:
            F = F.set_index(ID_COLUMN)
        if F.index.has_duplicates:
            dups = F.index[F.index.duplicated()].unique()[:5].tolist()
            raise DataError(f"The features index has duplicate ids, e.g. {dups!r}; keep one row per id.")
        in_features = F.index.isin(kept_ids)
        absent = ~kept_ids.isin(F.index)
        if len(F) and len(kept_ids) and not in_features.any():
            raise DataError(
                f"None of the {len(kept_ids)} labeled ids appear in the features index (features ids look like "
                f"{F.index[:3].tolist()!r}, label ids like {kept_ids[:3].tolist()!r}). Index the features by the "
                f"example id string."
            )
        if absent.any():
            warnings.warn(
                f"{int(absent.sum())} labeled example(s) have no row in the features and are left out, e.g. "
                f"{kept_ids[absent][:3].tolist()!r}.",
                UserWarning,
                stacklevel=3,
            )
        X = F[in_features]
        rows = X.index
    sel = df.loc[rows]
    w = sel["weight"].to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(w).any():
        bad = sel.index[np.isnan(w)][:3].tolist()
        raise DataError(
            f"{int(np.isnan(w).sum())} selected row(s) have no weight, e.g. {bad!r}; save the version with a "
            f"weight on every row that has a label (0 to ignore a row)."
        )
    y: np.ndarray
    if soft:
        y = sel[layout.prob_columns[question]].to_numpy(dtype=np.float64)
    else:
        hard = sel[layout.label_columns[question]].astype(object).to_numpy()
        if y_format == "index":
            lookup = {c: i for i, c in enumerate(choices)}
            y = np.fromiter((lookup[v] for v in hard), dtype=np.int64, count=len(hard))
        else:
            y = hard.astype(object)
    return X, y, w
