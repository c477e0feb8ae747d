"""Annotator drift: does an annotator's quality fall over time?

Answers are binned into fixed time windows per annotator (or windows of a fixed number of
answers per annotator, ``window=50``). In each window we measure
honeypot accuracy (with gold) and agreement with the consensus (with a consensus), and
ask whether it fell below the annotator's own *earlier level*, with a test.

The test
--------
For an annotator's window :math:`t` and a span :math:`r = 1, \\dots,` ``recent_windows``,
the *recent* segment is their windows :math:`t-r+1, \\dots, t` pooled and the *earlier*
segment is all their windows before it pooled. The null hypothesis "recent accuracy
>= earlier accuracy" is tested against "recent accuracy is lower" with the one-sided
Fisher exact test (the hypergeometric tail of the 2x2 table correct/wrong x
recent/earlier), which is valid for any number of items. A span is only tested when
both segments hold at least ``min_count`` compared items.

Every test of the table (all annotators, windows, spans and metrics, with
``family="all"``) is one family, corrected with Holm's step-down procedure, so the
probability that *any* steady annotator gets *any* window flagged is at most ``alpha``
(family-wise error rate, under any dependence between the tests). With
``family="annotator"`` the correction is per annotator: each steady annotator is flagged
with probability at most ``alpha``. A window is ``dropped`` when one of its tests rejects
*and* the observed fall exceeds ``margin`` (an effect-size gate, which only removes
flags and so keeps the error rate).

Spans longer than one window let a drop be confirmed by the window after it: a fall
from 0.90 to 0.60 accuracy with 30 honeypots a week is usually flagged in the week of
the drop or the next one (see ``tests/workbench/quality/test_drift_simulation.py``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import hypergeom

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

__all__ = ["DriftCheck", "annotator_drift", "holm_adjust"]

Family = Literal["all", "annotator"]
_FAMILIES = ("all", "annotator")
_METRICS = (("gold", "honeypot_accuracy"), ("consensus", "consensus_agreement"))


def _is_number(text: str) -> bool:
    """Whether ``text`` is a bare number ("50", "+50", "1e3"): pandas would read it as nanoseconds."""
    try:
        float(text.strip())
    except ValueError:
        return False
    return True


def _window(window: Any, caller: str = "annotator_drift") -> pd.Timedelta | int:
    """A time span (windows of time) or a positive int (windows of that many answers per annotator)."""
    if isinstance(window, (int, np.integer)) and not isinstance(window, (bool, np.bool_)):
        if window < 1:
            raise DataError(
                f"The 'window' parameter of {caller} must be a positive time span such as '7D', or a positive "
                f"int (windows of that many answers per annotator). Got {window!r} instead."
            )
        return int(window)
    if isinstance(window, str) and _is_number(window):
        raise DataError(
            f"The 'window' parameter of {caller} is {window!r}, a number without a unit: give a time span "
            f"such as '{window.strip()}D' or '{window.strip()}h', or the int {window.strip()} for windows of "
            f"{window.strip()} answers per annotator."
        )
    if isinstance(window, (float, np.floating, bool, np.bool_)):
        td = None  # a bare float would be read as nanoseconds
    else:
        try:
            td = pd.Timedelta(window)
        except (TypeError, ValueError):
            td = None
    if td is None or pd.isna(td) or td <= pd.Timedelta(0):
        raise DataError(
            f"The 'window' parameter of {caller} must be a positive time span such as "
            f"'7D', '12h' or pd.Timedelta(days=1), or a positive int (windows of that many answers per "
            f"annotator). Got {window!r} instead."
        )
    return td


def parse_window(text: str | None) -> str | int | None:
    """A drift window given as text (a command line, a report parameter), checked.

    Parameters
    ----------
    text : str or None
        A time span (``"7D"``, ``"12h"``), a count of answers per annotator (``"50"``), or
        ``""`` / None for the project's ``drift_window`` setting.

    Returns
    -------
    str, int or None
        The span as given, the count as an int, or None.

    Raises
    ------
    DataError
        Not a positive time span nor a positive count.

    Examples
    --------
    >>> parse_window("50"), parse_window("7D"), parse_window("")
    (50, '7D', None)
    """
    if text is None or not str(text).strip():
        return None
    stripped = str(text).strip()
    value: str | int = int(stripped) if stripped.isdigit() else stripped
    _window(value, "parse_window")
    return value


def holm_adjust(p_values: NDArray[np.float64] | list[float]) -> NDArray[np.float64]:
    """Holm (1979) step-down adjusted p-values, controlling the family-wise error rate.

    Rejecting every hypothesis whose adjusted p-value is at most ``alpha`` keeps the
    probability of any false rejection at most ``alpha``, whatever the dependence
    between the tests. NaN entries are not tests: they stay NaN and do not count.

    Parameters
    ----------
    p_values : array-like of float
        Unadjusted p-values in [0, 1] (NaN for "not tested").

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, same shape and order.

    Examples
    --------
    >>> holm_adjust([0.01, 0.04, 0.03, float("nan")]).round(2).tolist()
    [0.03, 0.06, 0.06, nan]
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = len(tested)
    if m == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out


def _check_params(min_count: Any, margin: Any, alpha: Any, recent_windows: Any, family: Any) -> None:
    if not isinstance(min_count, (int, np.integer)) or isinstance(min_count, bool) or min_count < 1:
        raise DataError(
            f"The 'min_count' parameter of annotator_drift must be a positive int. Got {min_count!r} instead."
        )
    if not isinstance(margin, (int, float)) or isinstance(margin, bool) or not 0.0 <= float(margin) <= 1.0:
        raise DataError(
            f"The 'margin' parameter of annotator_drift must be a number in [0, 1]. Got {margin!r} instead."
        )
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0.0 < float(alpha) < 1.0:
        raise DataError(
            f"The 'alpha' parameter of annotator_drift (the family-wise false-alarm rate) must be a number "
            f"strictly between 0 and 1, e.g. 0.05. Got {alpha!r} instead."
        )
    if not isinstance(recent_windows, (int, np.integer)) or isinstance(recent_windows, bool) or recent_windows < 1:
        raise DataError(
            f"The 'recent_windows' parameter of annotator_drift must be a positive int (how many of the "
            f"latest windows are pooled and tested against the earlier ones). Got {recent_windows!r} instead."
        )
    if family not in _FAMILIES:
        raise DataError(
            f"The 'family' parameter of annotator_drift must be one of {list(_FAMILIES)}. Got {family!r} instead."
        )


def _fisher_lower(k_post: NDArray[np.float64], n_post: NDArray[np.float64], k_pre: NDArray[np.float64],
                  n_pre: NDArray[np.float64]) -> NDArray[np.float64]:
    """One-sided Fisher exact p-value of "the recent segment is less accurate than the earlier one"."""
    total = n_post + n_pre
    correct = k_post + k_pre
    return np.asarray(hypergeom.cdf(k_post, total, correct, n_post), dtype=np.float64)


def _drift_table(
    ann: pd.DataFrame,
    gold: pd.Series | None,
    consensus: pd.DataFrame | pd.Series | None,
    window: str | pd.Timedelta | int,
    *,
    min_count: int,
    margin: float,
    alpha: float,
    recent_windows: int,
    family: Family,
    caller: str,
) -> tuple[pd.DataFrame, dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]], NDArray[np.int64]]:
    """The public drift table; per metric key the (correct, compared) counts of each row; and per
    row the row where its drop began (the first row of its most significant rejected segment, -1
    when the row is not dropped). Rows of an annotator are contiguous and in window order."""
    _check_params(min_count, margin, alpha, recent_windows, family)
    width = _window(window, caller)
    clean = validate_annotations(ann, caller=caller, require_time=True)
    ts = clean[CREATED_AT].dt.tz_convert("UTC")
    columns: dict[str, Any] = {ANNOTATOR: clean[ANNOTATOR].to_numpy()}
    if isinstance(width, int):
        # windows of `width` answers per annotator, in time order; a window starts at its first answer
        t = ts.reset_index(drop=True)
        # answers at the same time keep their order in `ann` (a project's log: the order they were recorded)
        order = pd.DataFrame({"a": columns[ANNOTATOR], "t": t}).sort_values(["a", "t"], kind="stable")
        block = np.empty(len(clean), dtype=np.int64)
        block[order.index.to_numpy()] = order.groupby("a", sort=False).cumcount().to_numpy(np.int64) // width
        columns["window_start"] = t.groupby([columns[ANNOTATOR], block]).transform("min").to_numpy()
        columns["_block"] = block
    elif len(clean):
        origin = ts.min().floor("D")
        columns["window_start"] = origin + ((ts - origin) // width) * width
        columns["_block"] = ((ts - origin) // width).to_numpy(np.int64)
    else:
        columns["window_start"] = ts
        columns["_block"] = np.zeros(0, dtype=np.int64)
    references: dict[str, pd.Series] = {}
    if gold is not None:
        references["gold"] = validate_gold(gold, caller=caller)
    if consensus is not None:
        references["consensus"] = validate_consensus(consensus, caller=caller)
    for key, ref in references.items():
        m = _matches(clean, ref, caller, key)
        columns[f"n_{key}"] = m["seen"].to_numpy().astype(np.int64)
        columns[f"k_{key}"] = m["correct"].to_numpy().astype(np.int64)
    rows = pd.DataFrame(columns)
    rows["n_labels"] = 1
    sums = [c for c in rows.columns if c not in (ANNOTATOR, "window_start", "_block")]
    grouped = rows.groupby([ANNOTATOR, "_block"], sort=True)
    table = grouped[sums].sum()
    table.insert(0, "window_start", grouped["window_start"].min())
    table = table.reset_index().drop(columns="_block")
    n_rows = len(table)
    annotator_codes = pd.factorize(table[ANNOTATOR], sort=True)[0] if n_rows else np.zeros(0, dtype=np.int64)
    position = table.groupby(ANNOTATOR, sort=False).cumcount().to_numpy(np.int64)
    window_starts = table["window_start"].to_numpy()

    # every test of the table: (row, metric index, segment start row, p-value, observed fall)
    test_row: list[NDArray[np.int64]] = []
    test_metric: list[NDArray[np.int64]] = []
    test_start: list[NDArray[np.int64]] = []
    test_p: list[NDArray[np.float64]] = []
    test_fall: list[NDArray[np.float64]] = []
    counts: dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}
    present = [(j, key, metric) for j, (key, metric) in enumerate(_METRICS) if key in references]
    idx = np.arange(n_rows)
    for j, key, _metric in present:
        n = table[f"n_{key}"].to_numpy(np.int64)
        k = table[f"k_{key}"].to_numpy(np.int64)
        counts[key] = (k, n)
        grp = table.groupby(ANNOTATOR, sort=False)
        cum_n = grp[f"n_{key}"].cumsum().to_numpy(np.float64)
        cum_k = grp[f"k_{key}"].cumsum().to_numpy(np.float64)
        for r in range(1, int(recent_windows) + 1):
            ok = position >= r  # at least one earlier window before the recent segment
            rows_r = idx[ok]
            if not len(rows_r):
                continue
            pre_n, pre_k = cum_n[rows_r - r], cum_k[rows_r - r]
            post_n, post_k = cum_n[rows_r] - pre_n, cum_k[rows_r] - pre_k
            testable = (post_n >= min_count) & (pre_n >= min_count)
            if r > 1:
                # a longer span whose extra windows hold no items repeats a shorter test
                testable &= post_n > (cum_n[rows_r] - cum_n[rows_r - r + 1])
            rows_r, pre_n, pre_k, post_n, post_k = (
                a[testable] for a in (rows_r, pre_n, pre_k, post_n, post_k)
            )
            test_row.append(rows_r)
            test_metric.append(np.full(len(rows_r), j, dtype=np.int64))
            test_start.append(rows_r - r + 1)
            test_p.append(_fisher_lower(post_k, post_n, pre_k, pre_n))
            test_fall.append(pre_k / pre_n - post_k / post_n)
    t_row = np.concatenate(test_row) if test_row else np.zeros(0, dtype=np.int64)
    t_metric = np.concatenate(test_metric) if test_metric else np.zeros(0, dtype=np.int64)
    t_start = np.concatenate(test_start) if test_start else np.zeros(0, dtype=np.int64)
    t_p = np.concatenate(test_p) if test_p else np.zeros(0)
    t_fall = np.concatenate(test_fall) if test_fall else np.zeros(0)
    adjusted = np.full(len(t_p), np.nan)
    if family == "all":
        adjusted = holm_adjust(t_p)
    else:
        t_ann = annotator_codes[t_row]
        for a in np.unique(t_ann):
            sel = t_ann == a
            adjusted[sel] = holm_adjust(t_p[sel])
    reject = (adjusted <= alpha) & (t_fall > margin)

    out: dict[str, Any] = {
        ANNOTATOR: table[ANNOTATOR].astype(str).to_numpy(),
        "window_start": table["window_start"],
        "n_labels": table["n_labels"].to_numpy(np.int64),
    }
    dropped = np.zeros(n_rows, dtype=bool)
    # per dropped row, the start of its most significant rejected segment (the likeliest change)
    since = np.zeros(n_rows, dtype=np.int64)
    hits = np.flatnonzero(reject)
    if len(hits):
        best = hits[np.lexsort((-t_start[hits], t_p[hits], t_row[hits]))]
        first = np.r_[True, t_row[best][1:] != t_row[best][:-1]]
        since[t_row[best][first]] = t_start[best][first]
    for j, key, metric in present:
        k, n = counts[key]
        grp = table.groupby(ANNOTATOR, sort=False)
        base_n = (grp[f"n_{key}"].cumsum() - table[f"n_{key}"]).to_numpy(np.float64)
        base_k = (grp[f"k_{key}"].cumsum() - table[f"k_{key}"]).to_numpy(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            figure = np.where(n > 0, k / np.maximum(n, 1), np.nan)
            baseline = np.where(base_n > 0, base_k / np.maximum(base_n, 1), np.nan)
        mine = t_metric == j
        p_row = np.full(n_rows, np.inf)
        np.minimum.at(p_row, t_row[mine], adjusted[mine])
        drop = np.zeros(n_rows, dtype=bool)
        hit = mine & reject
        drop[t_row[hit]] = True
        out[f"n_{key}"] = n.astype(np.int64)
        out[metric] = figure
        out[f"baseline_{metric}"] = baseline
        out[f"p_value_{metric}"] = np.where(np.isfinite(p_row), p_row, np.nan)
        out[f"dropped_{metric}"] = drop
        dropped |= drop
    out["dropped"] = dropped
    drop_since = pd.Series(pd.NaT, index=range(n_rows), dtype=table["window_start"].dtype)
    if dropped.any():
        drop_since[dropped] = window_starts[since[dropped]]
    out["drop_since"] = drop_since.to_numpy()
    return pd.DataFrame(out), counts, np.where(dropped, since, -1)


def annotator_drift(
    ann: pd.DataFrame,
    gold: pd.Series | None = None,
    consensus: pd.DataFrame | pd.Series | None = None,
    window: str | pd.Timedelta | int = "7D",
    *,
    min_count: int = 10,
    margin: float = 0.1,
    alpha: float = 0.05,
    recent_windows: int = 2,
    family: Family = "all",
) -> pd.DataFrame:
    """Per annotator and time window: counts, honeypot accuracy, agreement with consensus, tested drops.

    A window is marked ``dropped`` only when a one-sided Fisher exact test of the latest
    windows against the annotator's earlier windows rejects at family-wise level
    ``alpha`` after Holm's correction over every test in the table (all annotators,
    windows, spans and metrics); see the module notes for the exact procedure.

    Parameters
    ----------
    ann : pandas.DataFrame
        Long-format annotations with columns ``example_id``, ``annotator``, ``value`` and
        ``created_at`` (tz-aware timestamps, or ISO-8601 strings with a time zone).
    gold : pandas.Series, optional
        Gold labels indexed by example_id.
    consensus : DataFrame or Series, optional
        Consensus labels (e.g. from :func:`majority_consensus`).
    window : str, Timedelta or int, default "7D"
        Width of the windows. A time span: windows aligned on midnight (UTC) of the day of
        the earliest answer in ``ann``, the same for every annotator. An int ``n``: each
        annotator's answers in time order, ``n`` per window (the last one may hold fewer),
        each window starting at its first answer (answers at the same time in their order in
        ``ann``; a project's log gives them in the order they were recorded); for work done in
        bursts, or in one sitting.
        A number without a unit (``"50"``) is refused: it is not clear which was meant.
    min_count : int, default 10
        Minimum compared items in both the recent and the earlier segment for a test.
    margin : float, default 0.1
        Effect-size gate: a rejected test only marks a drop when the recent figure is
        more than ``margin`` (absolute) below the earlier one. 0 keeps every rejection.
    alpha : float, default 0.05
        Family-wise false-alarm rate: the probability that any window of a steady
        annotator (one whose accuracy does not fall) is marked, at most.
    recent_windows : int, default 2
        Spans tested at each window: the window alone, the window with the one before,
        ... up to this many windows pooled. Longer spans detect smaller or later-confirmed
        drops; each span adds tests to the correction.
    family : {"all", "annotator"}, default "all"
        Correct over every test of the table (the chance of *any* false alarm is at most
        ``alpha``) or per annotator (each steady annotator is falsely flagged with
        probability at most ``alpha``: more power, more false alarms in a large team).

    Returns
    -------
    pandas.DataFrame
        One row per annotator and window in which they answered, sorted, with columns
        ``annotator``, ``window_start``, ``n_labels``; per metric (``honeypot_accuracy``
        with gold, ``consensus_agreement`` with a consensus): ``n_gold`` / ``n_consensus``
        (compared items in the window), the figure, ``baseline_<figure>`` (pooled over
        earlier windows, NaN for the first), ``p_value_<figure>`` (the smallest
        Holm-adjusted p-value of the window's tests, NaN when none was testable) and
        ``dropped_<figure>``; ``dropped`` (any metric dropped) and ``drop_since`` (the
        first window of the most significant rejected segment: where the drop likely
        began; NaT when not dropped).

    Examples
    --------
    >>> import pandas as pd
    >>> t0 = pd.Timestamp("2024-01-01", tz="UTC")
    >>> rows = [(f"{w}-{j}", "a", "yes" if j < (29 if w < 3 else 12) else "no", t0 + pd.Timedelta(days=7 * w))
    ...         for w in range(4) for j in range(30)]
    >>> ann = pd.DataFrame(rows, columns=["example_id", "annotator", "value", "created_at"])
    >>> gold = pd.Series("yes", index=ann["example_id"])
    >>> annotator_drift(ann, gold)["dropped"].tolist()
    [False, False, False, True]
    """
    table, _, _ = _drift_table(
        ann, gold, consensus, window, min_count=min_count, margin=margin, alpha=alpha,
        recent_windows=recent_windows, family=family, caller="annotator_drift",
    )
    return table


@register_check
class DriftCheck(QualityCheck):
    """Flags annotators whose honeypot accuracy or agreement with consensus dropped over time.

    See :func:`annotator_drift` for the parameters and the test.
    """

    name = "drift"
    requires = ("created_at",)
    description = "Per-window honeypot accuracy and agreement with consensus, with tested drops."

    def __init__(
        self,
        window: str | pd.Timedelta | int = "7D",
        min_count: int = 10,
        margin: float = 0.1,
        alpha: float = 0.05,
        recent_windows: int = 2,
        family: Family = "all",
    ) -> None:
        self.window = window
        self.min_count = min_count
        self.margin = margin
        self.alpha = alpha
        self.recent_windows = recent_windows
        self.family = family

    def run(
        self,
        ann: pd.DataFrame,
        gold: pd.Series | None = None,
        consensus: pd.DataFrame | pd.Series | None = None,
    ) -> CheckResult:
        table = annotator_drift(
            ann, gold, consensus, window=self.window, min_count=self.min_count, margin=self.margin,
            alpha=self.alpha, recent_windows=self.recent_windows, family=self.family,
        )
        flagged = sorted(table.loc[table["dropped"], ANNOTATOR].astype(str).unique())
        summary: dict[str, Any] = {
            "n_windows": int(table["window_start"].nunique()),
            "n_annotator_windows": len(table),
            "n_dropped_windows": int(table["dropped"].sum()),
            "n_flagged": len(flagged),
            "window": str(self.window),
            "alpha": float(self.alpha),
            "family": self.family,
        }
        return CheckResult(self.name, summary, table, flagged_annotators=flagged)
