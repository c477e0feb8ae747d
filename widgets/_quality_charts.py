"""Altair chart builders for annotation quality (used by the Jupyter quality dashboard).

Every function is pure: it takes a DataFrame computed by the workbench and returns an
:class:`altair.Chart`. Nothing here computes a metric: the honeypot accuracy per window comes
from :func:`workbench.quality.annotator_drift`, the pairwise kappas from
``project.quality.agreement().pairwise`` and the label mix is counted by Vega-Lite from the
annotations themselves.

Examples
--------
>>> import pandas as pd
>>> pairs = pd.DataFrame({"annotator_a": ["a"], "annotator_b": ["b"], "n_items": [12],
...                       "agreement": [0.75], "kappa": [0.5]})
>>> agreement_heatmap(pairs).to_dict()["layer"][0]["mark"]["type"]
'rect'
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from widgets.charts import require_frame
from workbench.exceptions import DataError

__all__ = ["agreement_heatmap", "honeypot_accuracy_chart", "label_mix_chart", "empty_chart"]


def _need(frame: Any, columns: tuple[str, ...], func: str, source: str) -> pd.DataFrame:
    return require_frame(frame, columns, func=func, source=source)


def empty_chart(title: str, note: str) -> alt.Chart:
    """A placeholder with a title and a short note (when there is nothing to draw yet)."""
    return (
        alt.Chart(pd.DataFrame({"note": [note]}))
        .mark_text(align="left", fontSize=12, color="#666")
        .encode(text="note:N")
        .properties(title=title, width=320, height=40)
    )


def honeypot_accuracy_chart(drift: pd.DataFrame, *, width: int = 420, height: int = 220) -> alt.TopLevelMixin:
    """Honeypot accuracy per annotator and time window (lines), windows that dropped marked in red.

    Parameters
    ----------
    drift : pandas.DataFrame
        The output of :func:`workbench.quality.annotator_drift` computed with gold: columns
        ``annotator``, ``window_start``, ``n_gold``, ``honeypot_accuracy`` and ``dropped``.
    """
    cols = ("annotator", "window_start", "n_gold", "honeypot_accuracy")
    data = _need(drift, cols, "honeypot_accuracy_chart", "workbench.quality.annotator_drift(ann, gold)")
    data = data.loc[data["n_gold"] > 0, [*cols, *(["dropped"] if "dropped" in data.columns else [])]].copy()
    if data.empty:
        return empty_chart("Honeypot accuracy over time", "no honeypot answers yet")
    data["window_start"] = pd.to_datetime(data["window_start"], utc=True).dt.tz_localize(None)
    if "dropped" not in data.columns:
        data["dropped"] = False
    base = alt.Chart(data).encode(
        x=alt.X("window_start:T", title="window start (UTC)"),
        y=alt.Y("honeypot_accuracy:Q", title="honeypot accuracy", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("annotator:N", title="annotator"),
        tooltip=[
            alt.Tooltip("annotator:N"),
            alt.Tooltip("window_start:T", title="window"),
            alt.Tooltip("honeypot_accuracy:Q", format=".2f", title="accuracy"),
            alt.Tooltip("n_gold:Q", title="honeypots"),
            alt.Tooltip("dropped:N"),
        ],
    )
    lines = base.mark_line()
    points = base.mark_point(filled=True).encode(
        size=alt.Size("n_gold:Q", title="honeypots", scale=alt.Scale(range=[30, 200])),
        stroke=alt.condition("datum.dropped", alt.value("#d62728"), alt.value(None)),
        strokeWidth=alt.condition("datum.dropped", alt.value(3), alt.value(0)),
    )
    chart: alt.TopLevelMixin = alt.layer(lines, points).properties(
        title="Honeypot accuracy over time", width=width, height=height
    )
    return chart


def agreement_heatmap(pairwise: pd.DataFrame, *, value: str = "kappa", size: int = 260) -> alt.TopLevelMixin:
    """A symmetric annotator x annotator heat map of pairwise Cohen's kappa (or agreement).

    Parameters
    ----------
    pairwise : pandas.DataFrame
        ``project.quality.agreement().pairwise``: ``annotator_a``, ``annotator_b``, ``n_items``,
        ``agreement`` and ``kappa``, one row per pair.
    value : {"kappa", "agreement"}
        The column coloured.
    """
    if value not in ("kappa", "agreement"):
        raise DataError(f"The 'value' parameter of agreement_heatmap must be 'kappa' or 'agreement'. Got {value!r}.")
    data = _need(pairwise, ("annotator_a", "annotator_b", "n_items", value), "agreement_heatmap",
                 "project.quality.agreement().pairwise")
    both = pd.concat(
        [data, data.rename(columns={"annotator_a": "annotator_b", "annotator_b": "annotator_a"})],
        ignore_index=True,
    )[["annotator_a", "annotator_b", "n_items", value]]
    both[value] = both[value].astype(float)
    names = sorted(set(both["annotator_a"]) | set(both["annotator_b"]))
    base = alt.Chart(both).encode(
        x=alt.X("annotator_a:N", title=None, sort=names),
        y=alt.Y("annotator_b:N", title=None, sort=names),
    )
    domain = [-1, 1] if value == "kappa" else [0, 1]
    rect = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=value, scale=alt.Scale(domain=domain, scheme="redyellowgreen")),
        tooltip=[
            alt.Tooltip("annotator_a:N"),
            alt.Tooltip("annotator_b:N"),
            alt.Tooltip(f"{value}:Q", format=".2f"),
            alt.Tooltip("n_items:Q", title="shared items"),
        ],
    )
    text = base.mark_text(fontSize=11).encode(text=alt.Text(f"{value}:Q", format=".2f"))
    title = "Pairwise Cohen's kappa" if value == "kappa" else "Pairwise agreement"
    chart: alt.TopLevelMixin = alt.layer(rect, text).properties(title=title, width=size, height=size)
    return chart


def label_mix_chart(annotations: pd.DataFrame, *, width: int = 420) -> alt.Chart:
    """Each annotator's answers split by label (normalised stacked bars; Vega-Lite counts the rows).

    Parameters
    ----------
    annotations : pandas.DataFrame
        ``project.annotation.answers()``: one row per answer with ``annotator`` and ``value``.
    """
    data = _need(annotations, ("annotator", "value"), "label_mix_chart", "project.annotation.answers()")
    data = data[["annotator", "value"]].astype(str)
    if data.empty:
        return empty_chart("Label mix per annotator", "no answers yet")
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("annotator:N", title=None),
            x=alt.X("count():Q", stack="normalize", title="share of answers"),
            color=alt.Color("value:N", title="label"),
            tooltip=[alt.Tooltip("annotator:N"), alt.Tooltip("value:N", title="label"),
                     alt.Tooltip("count():Q", title="answers")],
        )
        .properties(title="Label mix per annotator", width=width)
    )
