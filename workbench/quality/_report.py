"""One table per annotator that combines every quality signal, with a recommended vote weight."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.exceptions import DataError
from workbench.quality._drift import Family, _drift_table
from workbench.quality._frame import ANNOTATOR, CREATED_AT, VALUE, validate_annotations
from workbench.quality._honeypots import (
    FlagOn,
    agreement_with_consensus,
    honeypot_accuracy,
)
from workbench.quality._registry import CheckResult, QualityCheck, register_check

__all__ = ["AnnotatorReportCheck", "annotator_report"]


def _log_odds_weight(k: np.ndarray, n: np.ndarray, n_labels: int) -> np.ndarray:
    """Weight of the optimal weighted vote under a one-coin model, from Laplace-smoothed accuracy."""
    p = (k + 1.0) / (n + 2.0)
    return _weight_of_accuracy(p, n_labels)


def _weight_of_accuracy(p: np.ndarray, n_labels: int) -> np.ndarray:
    """``max(0, log((K-1) p / (1-p)))``: negative (worse than chance, p < 1/K) is clipped to 0."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1.0 - 1e-12)
    return np.asarray(np.maximum(0.0, np.log(max(n_labels - 1, 1) * p / (1.0 - p))), dtype=np.float64)


def _check_prior_strength(prior_strength: Any) -> None:
    if (
        not isinstance(prior_strength, (int, float))
        or isinstance(prior_strength, bool)
        or not np.isfinite(prior_strength)
        or prior_strength <= 0
    ):
        raise DataError(
            f"The 'prior_strength' parameter of annotator_report must be a positive number of pseudo-items "
            f"(how many answers the prior is worth, e.g. 2). Got {prior_strength!r} instead."
        )


def annotator_report(
    ann: pd.DataFrame,
    gold: pd.Series | None = None,
    consensus: pd.DataFrame | pd.Series | None = None,
    *,
    window: str | pd.Timedelta | int = "7D",
    min_count: int = 10,
    threshold: float = 0.7,
    confidence: float = 0.95,
    drift_margin: float = 0.1,
    flag_on: FlagOn = "ci",
    drift_alpha: float = 0.05,
    drift_recent_windows: int = 2,
    drift_family: Family = "all",
    prior_strength: float = 2.0,
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
    window, drift_margin, drift_alpha, drift_recent_windows, drift_family :
        Passed to :func:`annotator_drift` (as ``window``, ``margin``, ``alpha``,
        ``recent_windows`` and ``family``): a drift flag needs a test that rejects at
        family-wise level ``drift_alpha``.
    min_count : int, default 10
        Minimum compared items for a figure to be trusted (honeypots, consensus, drift).
    threshold : float, default 0.7
        Accuracy (or agreement with consensus) below which an annotator is flagged.
    confidence : float, default 0.95
        Level of the Wilson intervals.
    flag_on : {"ci", "point"}, default "ci"
        Whether the upper Wilson bound or the point estimate is compared to
        ``threshold`` (see :func:`honeypot_accuracy`).
    prior_strength : float, default 2.0
        Weight, in pseudo-answers, of the prior of the vote weights (see Notes).

    Returns
    -------
    pandas.DataFrame
        Indexed by annotator (sorted), with columns ``n_labels``; ``n_gold_seen``,
        ``honeypot_accuracy``, ``honeypot_ci_low``, ``honeypot_ci_high`` (with gold);
        ``n_consensus``, ``consensus_agreement``, ``consensus_ci_low``,
        ``consensus_ci_high`` (with a consensus); ``drifted``; ``flagged``; ``reasons``
        (why, in words); ``weight_basis`` (what the weight rests on: ``"honeypots"``,
        ``"consensus"``, ``"honeypots since <window>"`` / ``"consensus since <window>"``
        after a drift, or ``"prior"``), ``weight_evidence`` (items it rests on),
        ``weight_accuracy`` (posterior mean accuracy) and ``recommended_weight``.

    Notes
    -----
    An annotator is *flagged* when any of these holds: their honeypot accuracy is below
    ``threshold`` (see ``flag_on``) on at least ``min_count`` gold items; they have fewer
    gold items than that but their agreement with the consensus is below ``threshold``
    on at least ``min_count`` items; or :func:`annotator_drift` found a significant drop
    (``drifted``).

    A flag never sets a weight by itself. ``recommended_weight`` is the weight of the
    optimal weighted majority vote when each annotator is right with probability
    :math:`p` and otherwise picks one of the other :math:`K-1` labels (Nitzan & Paroush
    1982): :math:`\\max(0, \\log((K-1)p/(1-p)))`, where :math:`p` is the posterior mean of
    a Beta prior updated with the annotator's evidence. The prior is centred on the
    pooled accuracy of everyone and worth ``prior_strength`` answers, so thin evidence
    shrinks a weight towards the crowd's and an annotator without evidence gets the
    crowd's weight. The evidence is their honeypots when they answered at least
    ``min_count``, else their agreement with consensus when it rests on at least
    ``min_count`` items, else the honeypots they have. For a drifted annotator only the
    answers since the drop count, so the weight follows their *recent* accuracy. A
    weight is 0 only when the posterior accuracy is at or below chance (:math:`1/K`).
    Without any evidence for anyone, every weight is 1. Pass the column to
    ``majority_consensus(ann, weights=report["recommended_weight"])``.
    """
    _check_prior_strength(prior_strength)
    clean = validate_annotations(ann, caller="annotator_report")
    annotators = pd.Index(np.sort(pd.unique(clean[ANNOTATOR].to_numpy())).astype(object), name=ANNOTATOR)
    n_labels_k = max(int(clean[VALUE].nunique()), 2)
    out = pd.DataFrame(
        {"n_labels": clean.groupby(ANNOTATOR).size().reindex(annotators, fill_value=0)},
        index=annotators,
    )
    flagged = np.zeros(len(out), dtype=bool)
    reasons: list[list[str]] = [[] for _ in range(len(out))]
    evidence_k = np.zeros(len(out))
    evidence_n = np.zeros(len(out))
    basis = np.full(len(out), "prior", dtype=object)
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
        evidence_k = hp["n_correct"].to_numpy(np.float64).copy()
        evidence_n = hp["n_gold_seen"].to_numpy(np.float64).copy()
        basis[evidence_n > 0] = "honeypots"
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
        basis[c_enough] = "consensus"
    # the prior: pooled accuracy of everyone's evidence, before any drift restriction
    has_any = evidence_n.sum() > 0
    prior_mean = (evidence_k.sum() + 1.0) / (evidence_n.sum() + 2.0)
    drifted = np.zeros(len(out), dtype=bool)
    if CREATED_AT in clean.columns and (gold is not None or consensus is not None):
        drift, counts, since_row = _drift_table(
            clean, gold, consensus, window, min_count=min_count, margin=drift_margin, alpha=drift_alpha,
            recent_windows=drift_recent_windows, family=drift_family, caller="annotator_report",
        )
        hit = drift.loc[drift["dropped"]]
        drifted = out.index.isin(hit[ANNOTATOR].unique())
        first_drop = hit.groupby(ANNOTATOR)["window_start"].min()
        rows = np.arange(len(drift))
        for i in np.flatnonzero(drifted):
            name = out.index[int(i)]
            mine = (drift[ANNOTATOR] == name).to_numpy()
            start_row = int(since_row[mine & (since_row >= 0)].min())  # the earliest window a drop dates from
            start = drift["window_start"].iloc[start_row]
            reasons[i].append(
                f"quality dropped significantly (family-wise alpha {drift_alpha}) in the window starting "
                f"{first_drop[name]}, the drop dating from the window starting {start}"
            )
            recent = mine & (rows >= start_row)  # windows, not start times: count windows may share a start
            for key, label in (("gold", "honeypots"), ("consensus", "consensus")):
                if key not in counts:
                    continue
                k_rows, n_rows = counts[key]
                if n_rows[recent].sum() > 0:
                    evidence_k[i] = float(k_rows[recent].sum())
                    evidence_n[i] = float(n_rows[recent].sum())
                    basis[i] = f"{label} since {start}"
                    break
    out["drifted"] = drifted
    flagged |= drifted
    out["flagged"] = flagged
    out["reasons"] = ["; ".join(r) for r in reasons]
    a0 = prior_strength * prior_mean
    b0 = prior_strength * (1.0 - prior_mean)
    posterior = (evidence_k + a0) / (evidence_n + a0 + b0)
    out["weight_basis"] = basis
    out["weight_evidence"] = evidence_n.astype(np.int64)
    if has_any:
        out["weight_accuracy"] = posterior
        out["recommended_weight"] = _weight_of_accuracy(posterior, n_labels_k)
    else:
        out["weight_accuracy"] = np.nan
        out["recommended_weight"] = 1.0
    return out


@register_check
class AnnotatorReportCheck(QualityCheck):
    """Per-annotator summary of every signal (see :func:`annotator_report`)."""

    name = "annotators"
    description = "Per-annotator quality table with flags and recommended vote weights."

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - {
            "window", "min_count", "threshold", "confidence", "drift_margin", "flag_on",
            "drift_alpha", "drift_recent_windows", "drift_family", "prior_strength",
        }
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
