"""Altair chart builders shared by the Jupyter and Panel front ends.

Every function is pure: it takes a DataFrame computed by the workbench (``project.lfs.summary()``,
``workbench.lf.lf_pair_matrix()``) and returns an :class:`altair.Chart`. Nothing here computes a
metric; the charts only draw the columns they are given.

Examples
--------
>>> import numpy as np
>>> from workbench.lf import lf_summary, lf_pair_matrix
>>> from widgets.charts import coverage_chart, accuracy_chart, conflict_heatmap
>>> L = np.array([[0, 1], [0, -1], [-1, 1], [1, 1]], dtype=np.int8)
>>> summary = lf_summary(L, ["a", "b"], gold=[0, 0, 1, 1])
>>> coverage_chart(summary).to_dict()["mark"]["type"]
'bar'
>>> accuracy_chart(summary).to_dict()["layer"][0]["mark"]["type"]
'rule'
>>> conflict_heatmap(lf_pair_matrix(L, ["a", "b"])).to_dict()["mark"]["type"]
'rect'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from workbench.exceptions import DataError, LFError

__all__ = ["coverage_chart", "accuracy_chart", "conflict_heatmap", "lf_overview_chart"]

_SUMMARY_BASE = ("coverage", "overlaps", "conflicts")
_ACCURACY = ("emp_acc", "emp_acc_low", "emp_acc_high", "n_gold")


def require_frame(
    frame: Any,
    columns: Sequence[str],
    *,
    func: str,
    source: str,
    param: str = "data",
    error: type[Exception] = DataError,
    hint: str = "",
) -> pd.DataFrame:
    """Check a chart builder's input table, with a message that says which workbench call makes it."""
    if not isinstance(frame, pd.DataFrame):
        raise error(
            f"The '{param}' parameter of {func} must be a pandas DataFrame from {source}. "
            f"Got {type(frame).__name__} instead."
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise error(
            f"The '{param}' parameter of {func} must hold the columns {list(columns)}; {missing} are missing. "
            f"Got columns {list(frame.columns)} instead (pass the output of {source}).{hint}"
        )
    return frame


def _check_summary(summary: Any, columns: Sequence[str], func: str) -> pd.DataFrame:
    hint = " Pass gold= to project.lfs.summary() to get the accuracy columns." if "emp_acc" in columns else ""
    return require_frame(
        summary, columns, func=func, source="project.lfs.summary()", param="summary", error=LFError, hint=hint
    )


def _order(summary: pd.DataFrame, order: Sequence[str] | None) -> list[str]:
    names = [str(n) for n in summary.index]
    if order is None:
        return names
    ordered = [str(n) for n in order if str(n) in set(names)]
    return ordered + [n for n in names if n not in set(ordered)]


def _frame(summary: pd.DataFrame) -> pd.DataFrame:
    df = summary.copy()
    df.index = df.index.map(str)
    df = df.rename_axis("lf").reset_index()
    if "polarity" in df.columns:
        df["polarity"] = df["polarity"].map(lambda p: ", ".join(str(v) for v in p) if isinstance(p, list) else str(p))
    return df


def _height(n: int) -> int:
    return max(60, 18 * n)


def coverage_chart(
    summary: pd.DataFrame, *, order: Sequence[str] | None = None, width: int = 260
) -> alt.Chart:
    """Horizontal bars of each LF's coverage (fraction of rows it votes on).

    Parameters
    ----------
    summary : DataFrame
        ``project.lfs.summary()`` (indexed by LF name, with ``coverage``, ``overlaps``,
        ``conflicts``).
    order : list of str, optional
        LF names from top to bottom (default: the summary's order).
    width : int
        Chart width in pixels.
    """
    summary = _check_summary(summary, _SUMMARY_BASE, "coverage_chart")
    names = _order(summary, order)
    df = _frame(summary)
    tooltip = [
        alt.Tooltip("lf:N", title="LF"),
        alt.Tooltip("coverage:Q", format=".1%"),
        alt.Tooltip("overlaps:Q", format=".1%"),
        alt.Tooltip("conflicts:Q", format=".1%"),
    ]
    if "polarity" in df.columns:
        tooltip.append(alt.Tooltip("polarity:N"))
    return (
        alt.Chart(df, title="Coverage")
        .mark_bar(color="#4c78a8")
        .encode(
            x=alt.X("coverage:Q", title="coverage", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("lf:N", sort=names, title=None),
            tooltip=tooltip,
        )
        .properties(width=width, height=_height(len(names)))
    )


def accuracy_chart(
    summary: pd.DataFrame, *, order: Sequence[str] | None = None, width: int = 260
) -> alt.LayerChart:
    """Empirical accuracy of each LF on gold rows, with its Wilson interval as an error bar.

    Parameters
    ----------
    summary : DataFrame
        ``project.lfs.summary(gold=...)``, holding ``emp_acc``, ``emp_acc_low``,
        ``emp_acc_high`` and ``n_gold``. LFs without gold rows (``emp_acc`` NaN) are drawn
        without a point.
    order : list of str, optional
        LF names from top to bottom.
    width : int
        Chart width in pixels.
    """
    summary = _check_summary(summary, _ACCURACY, "accuracy_chart")
    names = _order(summary, order)
    df = _frame(summary)[["lf", *_ACCURACY]]
    df = df.astype({"emp_acc": "float64", "emp_acc_low": "float64", "emp_acc_high": "float64"})
    base = alt.Chart(df, title="Empirical accuracy (95% Wilson CI)").encode(
        y=alt.Y("lf:N", sort=names, title=None),
        tooltip=[
            alt.Tooltip("lf:N", title="LF"),
            alt.Tooltip("emp_acc:Q", title="accuracy", format=".1%"),
            alt.Tooltip("emp_acc_low:Q", title="CI low", format=".1%"),
            alt.Tooltip("emp_acc_high:Q", title="CI high", format=".1%"),
            alt.Tooltip("n_gold:Q", title="gold rows voted on"),
        ],
    )
    bars = base.mark_rule(color="#888888", strokeWidth=2).encode(
        x=alt.X("emp_acc_low:Q", title="accuracy", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        x2="emp_acc_high:Q",
    )
    points = base.mark_point(filled=True, size=60, color="#f58518").encode(x="emp_acc:Q")
    return alt.LayerChart(layer=[bars, points]).properties(width=width, height=_height(len(names)))


def conflict_heatmap(
    pairs: pd.DataFrame,
    *,
    kind: str = "conflict",
    order: Sequence[str] | None = None,
    size: int | None = None,
) -> alt.Chart:
    """An LF x LF heat map of pairwise conflicts (or overlaps / agreements).

    Parameters
    ----------
    pairs : DataFrame
        ``workbench.lf.lf_pair_matrix(L, names)``: a two-level column index
        (``"overlap"``, ``"agree"``, ``"conflict"``) x LF name.
    kind : {"conflict", "overlap", "agree"}
        Which matrix to draw.
    order : list of str, optional
        LF order on both axes.
    size : int, optional
        Side of the square in pixels (default grows with the number of LFs).
    """
    if not isinstance(pairs, pd.DataFrame) or pairs.columns.nlevels != 2:
        raise LFError(
            "The 'pairs' parameter of conflict_heatmap must be the DataFrame returned by "
            f"workbench.lf.lf_pair_matrix(L, names). Got {type(pairs).__name__} instead."
        )
    kinds = list(dict.fromkeys(pairs.columns.get_level_values(0)))
    if kind not in kinds:
        raise LFError(f"The 'kind' parameter of conflict_heatmap must be one of {kinds}. Got {kind!r} instead.")
    mat: pd.DataFrame = pd.DataFrame(pairs[kind])
    names = [str(n) for n in mat.index]
    if order is not None:
        names = [str(n) for n in order if str(n) in set(names)] + [
            n for n in names if n not in {str(o) for o in order}
        ]
    long = mat.copy()
    long.index = long.index.map(str)
    long.columns = long.columns.map(str)
    long = long.rename_axis("lf").reset_index().melt(id_vars="lf", var_name="other", value_name="value")
    side = size if size is not None else max(120, 22 * len(names))
    return (
        alt.Chart(long, title=f"LF x LF {kind}s")
        .mark_rect()
        .encode(
            x=alt.X("other:N", sort=names, title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("lf:N", sort=names, title=None),
            color=alt.Color("value:Q", title=f"{kind} rows", scale=alt.Scale(scheme="orangered", domainMin=0)),
            tooltip=[
                alt.Tooltip("lf:N", title="LF"),
                alt.Tooltip("other:N", title="other LF"),
                alt.Tooltip("value:Q", title=f"{kind} rows"),
            ],
        )
        .properties(width=side, height=side)
    )


def lf_overview_chart(
    summary: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    *,
    order: Sequence[str] | None = None,
) -> alt.TopLevelMixin:
    """Coverage bars, accuracy (when ``summary`` has gold columns) and the conflict heat map together."""
    top: list[Any] = [coverage_chart(summary, order=order)]
    if all(c in summary.columns for c in _ACCURACY):
        top.append(accuracy_chart(summary, order=order))
    row: Any = alt.hconcat(*top) if len(top) > 1 else top[0]
    if pairs is None or len(summary) < 2:
        return row
    return alt.vconcat(row, conflict_heatmap(pairs, order=order))
