"""One table per annotator that combines every quality signal, with a recommended vote weight."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.exceptions import DataError
from workbench.quality._drift import annotator_drift
from workbench.quality._frame import ANNOTATOR, CREATED_AT, VALUE, validate_annotations
from workbench.quality._honeypots import (
    FlagOn,
    agreement_with_consensus,
    honeypot_accuracy,
)
from workbench.quality._registry import CheckResult, QualityCheck, register_check

__all__ = ["AnnotatorReportCheck", "annotator_report"]


def _log_odds_weight(k: np.ndarray, n: np.ndarray, n_labels: int) -> np.ndarray:
    """Weight of the optimal weighted vote under a one-coin model, from smoothed accuracy."""
    p = (k + 1.0) / (n + 2.0)  # Laplace smoothing keeps 0/n and n/n finite
    return np.maximum(0.0, np.log(max(n_labels - 1, 1) * p / (1.0 - p)))


def annotator_report(
    ann: pd.DataFrame,
    gold: pd.Series | None = None,
    consensus: pd.DataFrame | pd.Series | None = None,
    *,
    window: str | pd.Timedelta = "7D",
    min_count: int = 10,
    threshold: float = 0.7,
    confidence: float = 0.95,
    drift_margin: float = 0.1,
    flag_on: FlagOn = "ci",
) -> pd.DataFrame:
    """Everything known about each annotator's quality, in one table.

    Parameters
    ----------
    ann : pandas.DataFrame
        Long-format annotations (``example_id``, ``annotator``, ``value`` and optionally
        ``created_at``; without it, drift is not assessed and ``drifted`` is False).
    gold : pandas.Series, optional
        Gold labels indexed by example_id.
    consensus : DataFrame or Series, optional
        Consensus labels, e.g. from :func:`majority_consensus`.
    window, drift_margin :
        Passed to :func:`annotator_drift` (as ``window`` and ``margin``).
    min_count : int, default 10
        Minimum compared items for a figure to be trusted (honeypots, consensus, drift).
    threshold : float, default 0.7
        Accuracy (or agreement with consensus) below which an annotator is flagged.
    confidence : float, default 0.95
        Level of the Wilson intervals.
    flag_on : {"ci", "point"}, default "ci"
        Whether the upper Wilson bound or the point estimate is compared to
        ``threshold`` (see :func:`honeypot_accuracy`).

    Returns
    -------
    pandas.DataFrame
        Indexed by annotator (sorted), with columns ``n_labels``; ``n_gold_seen``,
        ``honeypot_accuracy``, ``honeypot_ci_low``, ``honeypot_ci_high`` (with gold);
        ``n_consensus``, ``consensus_agreement``, ``consensus_ci_low``,
        ``consensus_ci_high`` (with a consensus); ``drifted``; ``flagged``; ``reasons``
        (why, in words) and ``recommended_weight``.

    Notes
    -----
    An annotator is *flagged* when any of these holds: their honeypot accuracy is below
    ``threshold`` (see ``flag_on``) on at least ``min_count`` gold items; they have fewer
    gold items than that but their agreement with the consensus is below ``threshold``
    on at least ``min_count`` items; or a time window of theirs dropped (``drifted``).

    ``recommended_weight`` is the weight of the optimal weighted majority vote when each
    annotator is right with probability :math:`p` and otherwise picks one of the other
    :math:`K-1` labels (Nitzan & Paroush 1982): :math:`\\max(0, \\log((K-1)p/(1-p)))`, with
    :math:`p` the Laplace-smoothed honeypot accuracy (or agreement with consensus when
    gold is too thin). Annotators without enough evidence get the weight of the pooled
    accuracy of everyone; flagged annotators get 0. Pass the column to
    ``majority_consensus(ann, weights=report["recommended_weight"])``.
    """
    clean = validate_annotations(ann, caller="annotator_report")
    annotators = pd.Index(np.sort(pd.unique(clean[ANNOTATOR].to_numpy())).astype(object), name=ANNOTATOR)
    n_labels_k = max(int(clean[VALUE].nunique()), 2)
    out = pd.DataFrame(
        {"n_labels": clean.groupby(ANNOTATOR).size().reindex(annotators, fill_value=0)},
        index=annotators,
    )
    flagged = np.zeros(len(out), dtype=bool)
    reasons: list[list[str]] = [[] for _ in range(len(out))]
    evidence_k = np.full(len(out), np.nan)
    evidence_n = np.zeros(len(out))
    if gold is not None:
        hp = honeypot_accuracy(
            clean,
            gold,
            min_count=min_count,
            confidence=confidence,
            threshold=threshold,
            flag_on=flag_on,
        )
        out["n_gold_seen"] = hp["n_gold_seen"]
        out["honeypot_accuracy"] = hp["accuracy"]
        out["honeypot_ci_low"] = hp["ci_low"]
        out["honeypot_ci_high"] = hp["ci_high"]
        enough = hp["enough"].to_numpy()
        flagged |= hp["flagged"].to_numpy()
        for i in np.flatnonzero(hp["flagged"].to_numpy()):
            reasons[i].append(
                f"honeypot accuracy {hp['accuracy'].iloc[i]:.2f} "
                f"[{hp['ci_low'].iloc[i]:.2f}, {hp['ci_high'].iloc[i]:.2f}] below {threshold}"
            )
        evidence_k[enough] = hp["n_correct"].to_numpy()[enough]
        evidence_n[enough] = hp["n_gold_seen"].to_numpy()[enough]
    else:
        enough = np.zeros(len(out), dtype=bool)
    if consensus is not None:
        ac = agreement_with_consensus(clean, consensus, confidence=confidence)
        out["n_consensus"] = ac["n_compared"]
        out["consensus_agreement"] = ac["agreement"]
        out["consensus_ci_low"] = ac["ci_low"]
        out["consensus_ci_high"] = ac["ci_high"]
        c_enough = (ac["n_compared"].to_numpy() >= min_count) & ~enough
        below = ac["ci_high"].to_numpy() if flag_on == "ci" else ac["agreement"].to_numpy()
        with np.errstate(invalid="ignore"):
            c_flag = c_enough & (below < threshold)
        flagged |= c_flag
        for i in np.flatnonzero(c_flag):
            reasons[i].append(
                f"agreement with consensus {ac['agreement'].iloc[i]:.2f} "
                f"[{ac['ci_low'].iloc[i]:.2f}, {ac['ci_high'].iloc[i]:.2f}] below {threshold}"
            )
        evidence_k[c_enough] = ac["n_agree"].to_numpy()[c_enough]
        evidence_n[c_enough] = ac["n_compared"].to_numpy()[c_enough]
    drifted = np.zeros(len(out), dtype=bool)
    if CREATED_AT in clean.columns and (gold is not None or consensus is not None):
        drift = annotator_drift(clean, gold, consensus, window=window, min_count=min_count, margin=drift_margin)
        hit = drift.loc[drift["dropped"]]
        drifted = out.index.isin(hit[ANNOTATOR].unique())
        first_drop = hit.groupby(ANNOTATOR)["window_start"].min()
        for i in np.flatnonzero(drifted):
            reasons[i].append(f"quality dropped in the window starting {first_drop[out.index[int(i)]]}")
    out["drifted"] = drifted
    flagged |= drifted
    out["flagged"] = flagged
    out["reasons"] = ["; ".join(r) for r in reasons]
    has = ~np.isnan(evidence_k)
    weight = np.ones(len(out))
    if has.any():
        weight[has] = _log_odds_weight(evidence_k[has], evidence_n[has], n_labels_k)
        pooled = _log_odds_weight(np.array([evidence_k[has].sum()]), np.array([evidence_n[has].sum()]), n_labels_k)[0]
        weight[~has] = pooled
    weight[flagged] = 0.0
    out["recommended_weight"] = weight
    return out


@register_check
class AnnotatorReportCheck(QualityCheck):
    """Per-annotator summary of every signal (see :func:`annotator_report`)."""

    name = "annotators"
    description = "Per-annotator quality table with flags and recommended vote weights."

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - {"window", "min_count", "threshold", "confidence", "drift_margin", "flag_on"}
        if unknown:
            raise DataError(
                f"AnnotatorReportCheck got unknown parameters {sorted(unknown)}; expected those of annotator_report."
            )
        self.params = dict(params)

    def run(
        self,
        ann: pd.DataFrame,
        gold: pd.Series | None = None,
        consensus: pd.DataFrame | pd.Series | None = None,
    ) -> CheckResult:
        table = annotator_report(ann, gold, consensus, **self.params)
        flagged = [str(a) for a in table.index[table["flagged"]]]
        summary: dict[str, Any] = {
            "n_annotators": len(table),
            "n_flagged": len(flagged),
            "n_drifted": int(table["drifted"].sum()),
        }
        return CheckResult(self.name, summary, table, flagged_annotators=flagged)
