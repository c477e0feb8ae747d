"""Honest evaluation of label models: ties and uncovered rows are counted, never dropped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from workbench._constants import ABSTAIN
from workbench._stats import wilson_interval
from workbench.exceptions import DataError
from workbench.models._base import (
    TIE_TOLERANCE,
    LabelModel,
    break_ties,
    check_gold,
    check_label_matrix,
    covered_rows,
)

__all__ = [
    "METRICS",
    "calibration_errors",
    "compare_label_models",
    "evaluate",
    "expected_score",
    "reliability_table",
]

#: Metrics :func:`expected_score` computes.
METRICS: tuple[str, ...] = ("accuracy", "macro_f1", "f1")

LOG_LOSS_EPS = 1e-15


def _check_proba(proba: ArrayLike, n: int | None = None) -> NDArray[np.float64]:
    P = np.asarray(proba, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] < 2:
        raise DataError(
            f"'proba' must be 2-D of shape (n_items, n_classes) with n_classes >= 2. Got shape {P.shape} instead."
        )
    if n is not None and P.shape[0] != n:
        raise DataError(f"'proba' has {P.shape[0]} row(s) but y_true has {n}; pass one row per item.")
    if not np.isfinite(P).all() or (P < -1e-9).any() or not np.allclose(P.sum(axis=1), 1.0, atol=1e-6):
        raise DataError(
            "'proba' must hold finite, non-negative probabilities whose rows sum to 1 "
            "(e.g. the output of predict_proba)."
        )
    return P


def _ece_bins(
    y: NDArray[np.int64], P: NDArray[np.float64], n_bins: int
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"The 'n_bins' parameter must be an int >= 1. Got {n_bins!r} instead.")
    conf = P.max(axis=1)
    correct = (P.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # right-closed bins, (lo, hi]; a confidence of exactly 0 cannot occur (max of >= 2 probs)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / counts
        acc = np.bincount(idx, weights=correct, minlength=n_bins) / counts
    return edges, counts, mean_conf, acc


def reliability_table(y_true: ArrayLike, proba: ArrayLike, n_bins: int = 10) -> pd.DataFrame:
    """Per-confidence-bin accuracy, the data behind a reliability diagram.

    Confidence is the top-class probability; bins are equal-width over [0, 1] and
    right-closed. Items with unknown gold (``-1``) are left out. Empty bins are kept with
    ``n = 0`` and NaN statistics.

    Returns
    -------
    DataFrame with columns ``bin_lower, bin_upper, n, mean_confidence, accuracy, gap``
    (``gap = accuracy - mean_confidence``; negative means over-confident).
    """
    y_all = np.asarray(y_true)
    P = _check_proba(proba, y_all.shape[0] if y_all.ndim == 1 else None)
    y = check_gold(y_all, P.shape[0], P.shape[1], name="y_true")
    known = y >= 0
    edges, counts, mean_conf, acc = _ece_bins(y[known], P[known], n_bins)
    return pd.DataFrame(
        {
            "bin_lower": edges[:-1],
            "bin_upper": edges[1:],
            "n": counts.astype(np.int64),
            "mean_confidence": mean_conf,
            "accuracy": acc,
            "gap": acc - mean_conf,
        }
    )


def evaluate(
    y_true: ArrayLike,
    proba: ArrayLike,
    *,
    L: ArrayLike | None = None,
    tie_break: str = "random",
    n_bins: int = 10,
    random_state: int | np.random.Generator | None = None,
    pred: ArrayLike | None = None,
) -> dict[str, Any]:
    """Score probabilistic labels against gold without hiding ties or uncovered rows.

    Parameters
    ----------
    y_true : array-like of shape (n_items,)
        Gold classes, ``-1`` where unknown; unknown rows are excluded from every metric.
    proba : array-like of shape (n_items, k)
        Class probabilities (e.g. ``model.predict_proba(L)``).
    L : array-like of shape (n_items, n_lfs), optional
        The label matrix, to find rows without any vote ("uncovered"). Without it
        ``n_uncovered`` is None and ``tie_break="abstain"`` only abstains on ties.
    tie_break : {"random", "abstain", "first"}, default "random"
        How predictions are made from ``proba`` (ignored when ``pred`` is given).
    n_bins : int, default 10
        Bins of the expected calibration error.
    random_state : int, Generator or None
        Seed for ``tie_break="random"``.
    pred : array-like, optional
        Predictions to score instead of deriving them from ``proba`` (``-1`` = abstain).

    Returns
    -------
    dict
        ``n_items`` (rows), ``n_gold`` (rows with known gold, the denominator of every
        metric), ``accuracy`` (an abstention counts as wrong) with its Wilson 95% interval
        ``accuracy_low``/``accuracy_high``, ``accuracy_on_predicted`` (over non-abstained
        rows only), ``coverage`` (share of gold rows with a prediction), ``n_abstained``,
        ``n_ties`` (gold rows whose top classes tie), ``n_uncovered`` (gold rows without
        votes), ``macro_f1`` (abstentions count against recall), ``log_loss`` (probabilities
        clipped to [1e-15, 1 - 1e-15]), ``brier`` and ``ece``.

    Examples
    --------
    >>> r = evaluate([0, 1, -1], [[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]], tie_break="abstain")
    >>> r["n_gold"], r["accuracy"], r["n_ties"]
    (2, 0.5, 1)
    """
    y_all = np.asarray(y_true)
    P_all = _check_proba(proba, y_all.shape[0] if y_all.ndim == 1 else None)
    n_items, k = P_all.shape
    y_full = check_gold(y_all, n_items, k, name="y_true")
    covered_all: NDArray[np.bool_] | None = None
    if L is not None:
        Lc = check_label_matrix(L, k, name="L")
        if Lc.shape[0] != n_items:
            raise DataError(f"'L' has {Lc.shape[0]} row(s) but y_true has {n_items}.")
        covered_all = covered_rows(Lc)
    if pred is None:
        pred_all = break_ties(P_all, tie_break, covered=covered_all, random_state=random_state)
    else:
        pred_all = check_gold(pred, n_items, k, name="pred")
    known = y_full >= 0
    n_gold = int(known.sum())
    if n_gold == 0:
        raise DataError("evaluate needs at least one known gold label; y_true is -1 (unknown) everywhere.")
    y = y_full[known]
    P = P_all[known]
    yhat = pred_all[known]
    top = P.max(axis=1, keepdims=True)
    n_ties = int(((top - TIE_TOLERANCE <= P).sum(axis=1) > 1).sum())
    n_uncovered = None if covered_all is None else int((~covered_all[known]).sum())
    predicted = yhat != ABSTAIN
    n_correct = int((yhat == y).sum())
    low, high = wilson_interval([n_correct], [n_gold])

    # macro F1 over the k classes; -1 predictions are a wrong "class" that lowers recall
    f1s = []
    for c in range(k):
        tp = float(((yhat == c) & (y == c)).sum())
        fp = float(((yhat == c) & (y != c)).sum())
        fn = float(((yhat != c) & (y == c)).sum())
        denom = 2 * tp + fp + fn
        f1s.append(2 * tp / denom if denom > 0 else 0.0)
    present = np.union1d(np.unique(y), np.unique(yhat[predicted]))
    macro_f1 = float(np.mean([f1s[c] for c in present])) if present.size else 0.0

    p_true = np.clip(P[np.arange(n_gold), y], LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    onehot = np.zeros_like(P)
    onehot[np.arange(n_gold), y] = 1.0
    _, counts, mean_conf, acc = _ece_bins(y, P, n_bins)
    nonempty = counts > 0
    ece = float(np.sum(counts[nonempty] * np.abs(acc[nonempty] - mean_conf[nonempty])) / n_gold)
    return {
        "n_items": int(n_items),
        "n_gold": n_gold,
        "accuracy": n_correct / n_gold,
        "accuracy_low": float(low[0]),
        "accuracy_high": float(high[0]),
        "accuracy_on_predicted": float((yhat[predicted] == y[predicted]).mean()) if predicted.any() else float("nan"),
        "coverage": float(predicted.mean()),
        "n_abstained": int((~predicted).sum()),
        "n_ties": n_ties,
        "n_uncovered": n_uncovered,
        "macro_f1": macro_f1,
        "log_loss": float(-np.mean(np.log(p_true))),
        "brier": float(np.mean(np.sum((P - onehot) ** 2, axis=1))),
        "ece": ece,
    }


def compare_label_models(
    models: Mapping[str, LabelModel | NDArray[np.float64]],
    L: ArrayLike,
    y_true: ArrayLike,
    *,
    tie_break: str = "random",
    n_bins: int = 10,
    random_state: int | None = None,
    baseline: str | None = None,
) -> pd.DataFrame:
    """Evaluate fitted label models on one gold set and say whether they beat majority vote.

    Parameters
    ----------
    models : mapping of name -> fitted LabelModel, or its (n_items, k) probabilities on ``L``
        Probabilities let a caller score predictions made elsewhere, e.g. cross-fitted ones
        (each gold row predicted by a model fitted without it).
        If none of them is a :class:`~workbench.models.MajorityVote`, an unfitted-prior
        ``MajorityVote`` baseline (uniform prior for rows without votes) is added as
        ``"MajorityVote"``.
    L : array-like of shape (n_items, n_lfs)
        Votes on the evaluation items.
    y_true : array-like of shape (n_items,)
        Gold, ``-1`` where unknown (those rows are excluded; ``n_gold`` counts the rest).
    tie_break, n_bins, random_state
        As in :func:`evaluate`; the same seed is used for every model.
    baseline : str, optional
        The entry of ``models`` that is majority vote, when it is given as probabilities
        (a :class:`~workbench.models.MajorityVote` instance is recognised by itself).

    Returns
    -------
    DataFrame
        One row per model (index = name) with the columns of :func:`evaluate`, plus
        ``expected_accuracy`` (with ``tie_break="random"``: the exact expectation over the
        random tie breaks, :func:`expected_score`; otherwise ``accuracy``),
        ``accuracy_vs_majority`` (points of expected accuracy above the baseline) and the
        boolean ``beats_majority_vote``: the comparison never hangs on one draw of the ties.
        ``df.attrs["verdict"]`` is a one-sentence summary and ``df.attrs["baseline"]`` the
        name of the majority-vote row.
    """
    from workbench.models._majority import MajorityVote

    if not models:
        raise ValueError("compare_label_models needs at least one fitted model in 'models'.")
    Lc = check_label_matrix(L, name="L")
    all_models: dict[str, LabelModel | NDArray[np.float64]] = dict(models)
    if baseline is not None and baseline not in all_models:
        raise ValueError(f"baseline={baseline!r} is not one of the models {list(all_models)}.")
    baseline = baseline or next((name for name, m in all_models.items() if isinstance(m, MajorityVote)), None)
    if baseline is None:
        k = max(int(m.shape[1]) if isinstance(m, np.ndarray) else int(getattr(m, "cardinality_", 2))
                for m in all_models.values())
        baseline = "MajorityVote"
        while baseline in all_models:
            baseline += "_baseline"
        all_models[baseline] = MajorityVote(cardinality=k).fit(Lc)
    rows = {}
    for name, model in all_models.items():
        # a model, or its probabilities on L computed elsewhere (e.g. cross-fitted on the gold rows)
        proba = _check_proba(model, len(Lc)) if isinstance(model, np.ndarray) else model.predict_proba(Lc)
        rows[name] = evaluate(y_true, proba, L=Lc, tie_break=tie_break, n_bins=n_bins, random_state=random_state)
        # the verdict must not hang on one draw of the tie breaks (majority vote ties often)
        rows[name]["expected_accuracy"] = (expected_score(y_true, proba, "accuracy") if tie_break == "random"
                                           else rows[name]["accuracy"])
    df = pd.DataFrame.from_dict(rows, orient="index")
    accuracy = df["expected_accuracy"].astype(float)
    base_acc = float(accuracy[baseline])
    df["accuracy_vs_majority"] = (accuracy - base_acc) * 100.0
    df["beats_majority_vote"] = accuracy > base_acc
    df.loc[baseline, "beats_majority_vote"] = False
    others = df.drop(index=baseline)
    n_gold = int(df["n_gold"].astype(int)[baseline])
    if others.empty:
        verdict = f"only the majority-vote baseline was evaluated ({base_acc:.3f} accuracy)"
    else:
        other_acc = accuracy.drop(index=baseline)
        best = str(other_acc.idxmax())
        best_acc = float(other_acc[best])
        diff = (best_acc - base_acc) * 100.0
        what = "expected accuracy over random tie breaks" if tie_break == "random" else "accuracy"
        tail = f"({best_acc:.3f} vs {base_acc:.3f} {what} on {n_gold} gold items, tie_break={tie_break!r})"
        if diff > 0:
            verdict = f"{best} beats majority vote by {diff:.1f} points {tail}"
            f1 = df["macro_f1"].astype(float)
            f1_best, f1_base = float(f1[best]), float(f1[baseline])
            if f1_best < f1_base:  # accuracy rewards predicting the majority class on imbalanced gold
                verdict += (f"; but its macro F1 is lower ({f1_best:.3f} vs {f1_base:.3f}): with imbalanced "
                            f"classes, judge by macro_f1")
        elif diff == 0:
            verdict = f"{best} ties with majority vote {tail}"
        else:
            verdict = f"majority vote wins: the best other model, {best}, is {-diff:.1f} points behind {tail}"
    df.attrs["verdict"] = verdict
    df.attrs["baseline"] = baseline
    return df


def expected_confusion(y: NDArray[np.int64], P: NDArray[np.float64]) -> NDArray[np.float64]:
    """``C[true, predicted]``: expected counts when ties are broken uniformly at random.

    A row whose top classes tie (within ``TIE_TOLERANCE``) adds ``1 / n_tied`` to each of
    them, so the result is the exact expectation of the confusion matrix over tie breaks.
    """
    k = P.shape[1]
    top = P.max(axis=1, keepdims=True)
    cand = top - TIE_TOLERANCE <= P
    share = cand / cand.sum(axis=1, keepdims=True)
    C = np.zeros((k, k), dtype=np.float64)
    np.add.at(C, y, share)
    return C


def _score_from_confusion(C: NDArray[np.float64], metric: str, positive: int) -> float:
    if metric == "accuracy":
        return float(np.trace(C) / C.sum())
    tp = np.diag(C)
    denom = C.sum(axis=0) + C.sum(axis=1)  # 2 tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1.0), 0.0)
    if metric == "f1":
        return float(f1[positive])
    present = (C.sum(axis=1) > 0) | (C.sum(axis=0) > 0)
    return float(f1[present].mean()) if present.any() else 0.0


def expected_score(
    y_true: ArrayLike,
    proba: ArrayLike,
    metric: str = "accuracy",
    *,
    positive: int = 1,
) -> float:
    """A metric's expectation over uniformly random tie breaks, from class probabilities.

    Scoring ``argmax`` would credit a model for the order of its classes on tied rows
    (majority vote ties often); scoring one random draw adds noise. This is the exact
    expected accuracy, and the F1 of the expected confusion matrix (a close, deterministic
    stand-in for the expected F1).

    Parameters
    ----------
    y_true : array-like of shape (n_items,)
        Gold classes, ``-1`` where unknown (left out).
    proba : array-like of shape (n_items, k)
    metric : {"accuracy", "macro_f1", "f1"}, default "accuracy"
        ``"f1"`` is the F1 of class ``positive`` (WRENCH's metric for its binary
        imbalanced tasks); ``"macro_f1"`` averages over the classes present in gold or
        predictions.
    positive : int, default 1

    Returns
    -------
    float

    Examples
    --------
    >>> expected_score([0, 1], [[0.9, 0.1], [0.5, 0.5]])
    0.75
    """
    if metric not in METRICS:
        raise ValueError(f"The 'metric' parameter must be one of {list(METRICS)}. Got {metric!r} instead.")
    y_all = np.asarray(y_true)
    P = _check_proba(proba, y_all.shape[0] if y_all.ndim == 1 else None)
    y = check_gold(y_all, P.shape[0], P.shape[1], name="y_true")
    known = y >= 0
    if not known.any():
        raise DataError("expected_score needs at least one known gold label; y_true is -1 (unknown) everywhere.")
    if metric == "f1" and not 0 <= positive < P.shape[1]:
        raise ValueError(f"The 'positive' class must be in 0..{P.shape[1] - 1}. Got {positive!r} instead.")
    return _score_from_confusion(expected_confusion(y[known], P[known]), metric, positive)


def calibration_errors(
    y_true: ArrayLike,
    proba: ArrayLike,
    *,
    n_bins: int = 10,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = None,
) -> dict[str, Any]:
    """ECE and Brier score with percentile-bootstrap confidence intervals.

    Parameters
    ----------
    y_true : array-like of shape (n_items,)
        Gold classes, ``-1`` where unknown (left out).
    proba : array-like of shape (n_items, k)
    n_bins : int, default 10
        Equal-width, right-closed confidence bins of the ECE (as in :func:`evaluate`).
    n_bootstrap : int, default 1000
        Resamples of the gold rows; ``0`` gives the point estimates only (NaN bounds).
    confidence : float, default 0.95
    random_state : int, Generator or None
        Seed of the resampling.

    Returns
    -------
    dict
        ``n_gold``, ``ece``, ``ece_low``, ``ece_high``, ``brier``, ``brier_low``,
        ``brier_high``, ``n_bootstrap``, ``confidence``. The Brier score is summed over
        classes and averaged over items (0 is perfect, 2 the worst).

    Examples
    --------
    >>> r = calibration_errors([0, 1, 1, 0], [[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4]], random_state=0)
    >>> round(r["ece"], 3), round(r["brier"], 3), r["ece_low"] <= r["ece"] <= r["ece_high"]
    (0.325, 0.225, True)
    """
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 0:
        raise ValueError(f"The 'n_bootstrap' parameter must be an int >= 0. Got {n_bootstrap!r} instead.")
    if not isinstance(confidence, (float, int)) or not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"The 'confidence' parameter must be a float in (0, 1). Got {confidence!r} instead.")
    y_all = np.asarray(y_true)
    P_all = _check_proba(proba, y_all.shape[0] if y_all.ndim == 1 else None)
    y_full = check_gold(y_all, P_all.shape[0], P_all.shape[1], name="y_true")
    known = y_full >= 0
    n = int(known.sum())
    if n == 0:
        raise DataError("calibration_errors needs at least one known gold label; y_true is -1 everywhere.")
    y, P = y_full[known], P_all[known]
    edges, _, _, _ = _ece_bins(y, P, n_bins)
    conf = P.max(axis=1)
    correct = (P.argmax(axis=1) == y).astype(np.float64)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    onehot = np.zeros_like(P)
    onehot[np.arange(n), y] = 1.0
    brier_i = np.sum((P - onehot) ** 2, axis=1)
    bins = np.zeros((n, n_bins), dtype=np.float64)
    bins[np.arange(n), idx] = 1.0

    def ece_of(weights: NDArray[np.float64]) -> NDArray[np.float64]:
        # weights (B, n): each row is a resample's multiplicity of each item
        gap = np.abs((weights * correct) @ bins - (weights * conf) @ bins)
        return np.asarray(gap.sum(axis=1) / weights.sum(axis=1), dtype=np.float64)

    ones = np.ones((1, n))
    ece = float(ece_of(ones)[0])
    brier = float(brier_i.mean())
    out: dict[str, Any] = {"n_gold": n, "ece": ece, "brier": brier}
    if n_bootstrap:
        rng = np.random.default_rng(random_state)
        eces, briers = [], []
        for start in range(0, n_bootstrap, 200):  # chunks keep the (B, n) weights small
            b = min(200, n_bootstrap - start)
            W = rng.multinomial(n, np.full(n, 1.0 / n), size=b).astype(np.float64)
            eces.append(ece_of(W))
            briers.append(W @ brier_i / n)
        alpha = (1.0 - float(confidence)) / 2.0
        e = np.concatenate(eces)
        br = np.concatenate(briers)
        out.update(
            ece_low=float(np.quantile(e, alpha)),
            ece_high=float(np.quantile(e, 1 - alpha)),
            brier_low=float(np.quantile(br, alpha)),
            brier_high=float(np.quantile(br, 1 - alpha)),
        )
    else:
        out.update(ece_low=float("nan"), ece_high=float("nan"), brier_low=float("nan"), brier_high=float("nan"))
    out.update(n_bootstrap=int(n_bootstrap), confidence=float(confidence))
    return out
