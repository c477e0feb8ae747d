"""Altair chart builders for label models: the comparison on gold and the reliability diagram.

Pure functions of workbench tables (``project.models.compare()``,
``workbench.models.reliability_table()``): nothing here computes a metric.

Examples
--------
>>> import numpy as np
>>> from workbench.models import reliability_table
>>> from widgets import reliability_chart
>>> table = reliability_table(np.array([0, 1, 1]), np.array([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8]]), n_bins=5)
>>> reliability_chart(table).to_dict()["layer"][0]["mark"]["type"]
'line'
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from widgets.charts import require_frame

__all__ = ["label_model_chart", "reliability_chart"]

_COMPARISON = ("accuracy", "accuracy_low", "accuracy_high", "n_gold")
_RELIABILITY = ("mean_confidence", "accuracy", "n")


def label_model_chart(comparison: pd.DataFrame, *, width: int = 320) -> alt.LayerChart:
    """Each label model's accuracy on gold with its 95% interval; majority vote as a reference line.

    Parameters
    ----------
    comparison : DataFrame
        ``project.models.compare(gold=...)`` (or ``workbench.models.compare_label_models``):
        indexed by model, with ``accuracy``, ``accuracy_low``, ``accuracy_high``, ``n_gold``
        and, from the project, ``evaluation``.
    width : int
        Chart width in pixels.
    """
    data = require_frame(comparison, _COMPARISON, func="label_model_chart", source="project.models.compare()",
                         param="comparison")
    df = data.reset_index(names="model")[["model", *_COMPARISON]].copy()
    df["evaluation"] = data["evaluation"].to_numpy() if "evaluation" in data.columns else ""
    baseline = comparison.attrs.get("baseline")
    order = df.sort_values("accuracy", ascending=False)["model"].tolist()
    base = alt.Chart(df, title="Label models on gold (95% interval)").encode(
        y=alt.Y("model:N", sort=order, title=None),
        tooltip=[alt.Tooltip("model:N"), alt.Tooltip("accuracy:Q", format=".1%"),
                 alt.Tooltip("accuracy_low:Q", title="CI low", format=".1%"),
                 alt.Tooltip("accuracy_high:Q", title="CI high", format=".1%"),
                 alt.Tooltip("n_gold:Q", title="gold rows"), alt.Tooltip("evaluation:N")],
    )
    rules = base.mark_rule(color="#888888", strokeWidth=2).encode(
        x=alt.X("accuracy_low:Q", title="accuracy", axis=alt.Axis(format="%")), x2="accuracy_high:Q")
    points = base.mark_point(filled=True, size=70).encode(x="accuracy:Q", color=alt.Color("evaluation:N"))
    layers: list[alt.Chart] = [rules, points]
    if baseline in set(df["model"]):
        ref = df[df["model"] == baseline][["accuracy"]]
        layers.append(alt.Chart(ref).mark_rule(strokeDash=[4, 3], color="#b00020").encode(x="accuracy:Q"))
    return alt.LayerChart(layer=layers).properties(width=width, height=max(60, 28 * len(df)))


def reliability_chart(table: pd.DataFrame, *, title: str = "Reliability diagram", size: int = 260
                      ) -> alt.LayerChart:
    """A reliability diagram: accuracy against mean confidence per bin, with the diagonal.

    Parameters
    ----------
    table : DataFrame
        ``workbench.models.reliability_table(y, proba)``: ``mean_confidence``, ``accuracy``
        and ``n`` per confidence bin (empty bins are left out). Points on the diagonal are
        calibrated; below it the model is over-confident.
    title : str
        The chart title (e.g. the model's name).
    size : int
        Width and height in pixels.
    """
    data = require_frame(table, _RELIABILITY, func="reliability_chart", source="workbench.models.reliability_table()",
                         param="table")
    df = data[data["n"] > 0][list(_RELIABILITY)].astype(float)
    diagonal = pd.DataFrame({"mean_confidence": [0.0, 1.0], "accuracy": [0.0, 1.0]})
    axis = alt.Axis(format="%")
    line = alt.Chart(diagonal).mark_line(strokeDash=[4, 3], color="#888888").encode(
        x=alt.X("mean_confidence:Q", title="mean confidence", axis=axis, scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("accuracy:Q", title="accuracy", axis=axis, scale=alt.Scale(domain=[0, 1])),
    )
    points = alt.Chart(df).mark_circle(color="#4c78a8").encode(
        x="mean_confidence:Q", y="accuracy:Q", size=alt.Size("n:Q", title="items"),
        tooltip=[alt.Tooltip("mean_confidence:Q", format=".2f"), alt.Tooltip("accuracy:Q", format=".2f"),
                 alt.Tooltip("n:Q")],
    )
    return alt.LayerChart(layer=[line, points], title=title).properties(width=size, height=size)
