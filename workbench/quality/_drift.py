"""Annotator drift: does an annotator's quality fall over time?

Answers are binned into fixed time windows per annotator. In each window we measure
honeypot accuracy (with gold) and agreement with the consensus (with a consensus), and
compare it with the annotator's own *earlier level*: the same figure pooled over all
their earlier windows. A window is marked ``dropped`` when it has at least
``min_count`` compared items, the earlier level rests on at least ``min_count`` items,
and the window's figure is below the earlier level by more than ``margin``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.exceptions import DataError
from workbench.quality._frame import (
    ANNOTATOR,
    CREATED_AT,
    validate_annotations,
    validate_consensus,
    validate_gold,
)
from workbench.quality._honeypots import _matches
from workbench.quality._registry import CheckResult, QualityCheck, register_check

__all__ = ["DriftCheck", "annotator_drift"]

_METRICS = (("gold", "honeypot_accuracy"), ("consensus", "consensus_agreement"))


def _window(window: Any) -> pd.Timedelta:
    try:
        td = pd.Timedelta(window)
    except (TypeError, ValueError):
        td = None
    if td is None or pd.isna(td) or td <= pd.Timedelta(0):
        raise DataError(
            f"The 'window' parameter of annotator_drift must be a positive time span such as "
            f"'7D', '12h' or pd.Timedelta(days=1). Got {window!r} instead."
        )
    return td


def annotator_drift(
    ann: pd.DataFrame,
    gold: pd.Series | None = None,
    consensus: pd.DataFrame | pd.Series | None = None,
    window: str | pd.Timedelta = "7D",
    *,
    min_count: int = 10,
    margin: float = 0.1,
) -> pd.DataFrame:
    """Per annotator and time window: counts, honeypot accuracy, agreement with consensus, drops.

    Parameters
    ----------
    ann : pandas.DataFrame
        Long-format annotations with columns ``example_id``, ``annotator``, ``value`` and
        ``created_at`` (tz-aware timestamps).
    gold : pandas.Series, optional
        Gold labels indexed by example_id.
    consensus : DataFrame or Series, optional
        Consensus labels (e.g. from :func:`majority_consensus`).
    window : str or Timedelta, default "7D"
        Width of the windows. Windows are aligned on midnight (UTC) of the day of the
        earliest answer in ``ann``, the same for every annotator.
    min_count : int, default 10
        Minimum compared items, both in the window and in the earlier level, for a drop.
    margin : float, default 0.1
        How far (absolute) below the earlier level a window's figure must fall.

    Returns
    -------
    pandas.DataFrame
        One row per annotator and window in which they answered, sorted, with columns
        ``annotator``, ``window_start``, ``n_labels``; per metric (``honeypot_accuracy``
        with gold, ``consensus_agreement`` with a consensus): ``n_gold`` / ``n_consensus``
        (compared items in the window), the figure, ``baseline_<figure>`` (pooled over
        earlier windows, NaN for the first), ``dropped_<figure>``; and ``dropped`` (any
        metric dropped).
    """
    if not isinstance(min_count, (int, np.integer)) or isinstance(min_count, bool) or min_count < 1:
        raise DataError(
            f"The 'min_count' parameter of annotator_drift must be a positive int. Got {min_count!r} instead."
        )
    if not isinstance(margin, (int, float)) or not 0.0 <= float(margin) <= 1.0:
        raise DataError(
            f"The 'margin' parameter of annotator_drift must be a number in [0, 1]. Got {margin!r} instead."
        )
    width = _window(window)
    clean = validate_annotations(ann, caller="annotator_drift", require_time=True)
    ts = clean[CREATED_AT].dt.tz_convert("UTC")
    columns: dict[str, Any] = {ANNOTATOR: clean[ANNOTATOR].to_numpy()}
    if len(clean):
        origin = ts.min().floor("D")
        columns["window_start"] = origin + ((ts - origin) // width) * width
    else:
        columns["window_start"] = ts
    references: dict[str, pd.Series] = {}
    if gold is not None:
        references["gold"] = validate_gold(gold, caller="annotator_drift")
    if consensus is not None:
        references["consensus"] = validate_consensus(consensus, caller="annotator_drift")
    for key, ref in references.items():
        m = _matches(clean, ref, "annotator_drift", key)
        columns[f"n_{key}"] = m["seen"].to_numpy().astype(np.int64)
        columns[f"k_{key}"] = m["correct"].to_numpy().astype(np.int64)
    rows = pd.DataFrame(columns)
    rows["n_labels"] = 1
    sums = [c for c in rows.columns if c not in (ANNOTATOR, "window_start")]
    table = rows.groupby([ANNOTATOR, "window_start"], sort=True)[sums].sum().reset_index()
    dropped = np.zeros(len(table), dtype=bool)
    out: dict[str, Any] = {
        ANNOTATOR: table[ANNOTATOR].astype(str).to_numpy(),
        "window_start": table["window_start"],
        "n_labels": table["n_labels"].to_numpy(np.int64),
    }
    for key, metric in _METRICS:
        if key not in references:
            continue
        n = table[f"n_{key}"].to_numpy(np.float64)
        k = table[f"k_{key}"].to_numpy(np.float64)
        grp = table.groupby(ANNOTATOR, sort=False)
        base_n = (grp[f"n_{key}"].cumsum() - table[f"n_{key}"]).to_numpy(np.float64)
        base_k = (grp[f"k_{key}"].cumsum() - table[f"k_{key}"]).to_numpy(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            figure = np.where(n > 0, k / np.maximum(n, 1), np.nan)
            baseline = np.where(base_n > 0, base_k / np.maximum(base_n, 1), np.nan)
            drop = (n >= min_count) & (base_n >= min_count) & (figure < baseline - margin)
        out[f"n_{key}"] = n.astype(np.int64)
        out[metric] = figure
        out[f"baseline_{metric}"] = baseline
        out[f"dropped_{metric}"] = drop
        dropped |= drop
    out["dropped"] = dropped
    return pd.DataFrame(out)


@register_check
class DriftCheck(QualityCheck):
    """Flags annotators whose honeypot accuracy or agreement with consensus dropped over time.

    See :func:`annotator_drift` for the parameters.
    """

    name = "drift"
    requires = ("created_at",)
    description = "Per-window honeypot accuracy and agreement with consensus, with drops."

    def __init__(self, window: str | pd.Timedelta = "7D", min_count: int = 10, margin: float = 0.1) -> None:
        self.window = window
        self.min_count = min_count
        self.margin = margin

    def run(
        self,
        ann: pd.DataFrame,
        gold: pd.Series | None = None,
        consensus: pd.DataFrame | pd.Series | None = None,
    ) -> CheckResult:
        table = annotator_drift(ann, gold, consensus, window=self.window, min_count=self.min_count, margin=self.margin)
        flagged = sorted(table.loc[table["dropped"], ANNOTATOR].astype(str).unique())
        summary: dict[str, Any] = {
            "n_windows": int(table["window_start"].nunique()),
            "n_annotator_windows": len(table),
            "n_dropped_windows": int(table["dropped"].sum()),
            "n_flagged": len(flagged),
            "window": str(self.window),
        }
        return CheckResult(self.name, summary, table, flagged_annotators=flagged)
