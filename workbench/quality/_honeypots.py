"""Annotator correctness: accuracy on gold (honeypot) items and agreement with consensus.

The two are kept apart on purpose. Honeypot accuracy is an unbiased estimate of an
annotator's correctness on the gold items; agreement with consensus needs no gold but is
biased upwards (the annotator's own vote is part of the consensus) and towards the
majority's systematic mistakes.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench._stats import wilson_interval
from workbench.exceptions import DataError
from workbench.quality._frame import (
    ANNOTATOR,
    EXAMPLE_ID,
    VALUE,
    validate_annotations,
    validate_consensus,
    validate_gold,
)
from workbench.quality._registry import CheckResult, QualityCheck, register_check

__all__ = ["HoneypotCheck", "agreement_with_consensus", "honeypot_accuracy"]

FlagOn = Literal["ci", "point"]


def _check_common(caller: str, min_count: Any, confidence: Any, threshold: Any = 0.5) -> None:
    if not isinstance(min_count, (int, np.integer)) or isinstance(min_count, bool) or min_count < 1:
        raise DataError(f"The 'min_count' parameter of {caller} must be a positive int. Got {min_count!r} instead.")
    if not isinstance(confidence, (int, float)) or not 0.0 < float(confidence) < 1.0:
        raise DataError(
            f"The 'confidence' parameter of {caller} must be a float strictly between 0 and 1. "
            f"Got {confidence!r} instead."
        )
    if not isinstance(threshold, (int, float)) or not 0.0 <= float(threshold) <= 1.0:
        raise DataError(f"The 'threshold' parameter of {caller} must be a number in [0, 1]. Got {threshold!r} instead.")


def _matches(clean: pd.DataFrame, reference: pd.Series, caller: str, what: str) -> pd.DataFrame:
    """Per row: whether a reference label exists for the item and whether it matches."""
    ref = reference.reindex(clean[EXAMPLE_ID])
    seen = ref.notna().to_numpy()
    values = np.asarray(clean[VALUE].to_numpy(), dtype=object)
    refs = np.asarray(ref.to_numpy(), dtype=object)
    correct = np.zeros(len(clean), dtype=bool)
    correct[seen] = values[seen] == refs[seen]
    if seen.any() and not correct.any():
        ann_types = sorted({type(v).__name__ for v in values[seen][:1000]})
        ref_types = sorted({type(v).__name__ for v in refs[seen][:1000]})
        if ann_types != ref_types:
            warnings.warn(
                f"{caller}: no answer matches its {what} label, and the types differ "
                f"(answers: {ann_types}, {what}: {ref_types}). Convert both to the same type.",
                UserWarning,
                stacklevel=3,
            )
    return pd.DataFrame({ANNOTATOR: clean[ANNOTATOR].to_numpy(), "seen": seen, "correct": correct & seen})


def _per_annotator(matches: pd.DataFrame, annotators: pd.Index, confidence: float) -> pd.DataFrame:
    grouped = matches.groupby(ANNOTATOR, sort=True)[["seen", "correct"]].sum()
    grouped = grouped.reindex(annotators, fill_value=0).astype(np.int64)
    n = grouped["seen"].to_numpy()
    k = grouped["correct"].to_numpy()
    low, high = wilson_interval(k, n, confidence=confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    return pd.DataFrame(
        {"n": n, "k": k, "rate": rate, "ci_low": low, "ci_high": high},
        index=pd.Index(annotators, name=ANNOTATOR),
    )


def _annotator_index(clean: pd.DataFrame) -> pd.Index:
    return pd.Index(np.sort(pd.unique(clean[ANNOTATOR].to_numpy())).astype(object), name=ANNOTATOR)


def honeypot_accuracy(
    ann: pd.DataFrame,
    gold: pd.Series,
    min_count: int = 10,
    confidence: float = 0.95,
    *,
    threshold: float = 0.7,
    flag_on: FlagOn = "ci",
) -> pd.DataFrame:
    """Accuracy of each annotator on the gold (honeypot) items they answered.

    Parameters
    ----------
    ann : pandas.DataFrame
        Long-format annotations with columns ``example_id``, ``annotator``, ``value``.
    gold : pandas.Series
        Gold labels indexed by example_id; missing values are ignored.
    min_count : int, default 10
        Gold items an annotator must have answered for their figure to count (``enough``).
    confidence : float, default 0.95
        Level of the Wilson score interval.
    threshold : float, default 0.7
        Accuracy below which an annotator is flagged.
    flag_on : {"ci", "point"}, default "ci"
        ``"ci"`` flags an annotator when ``enough`` and the *upper* Wilson bound is below
        ``threshold``, i.e. we are confident their accuracy is too low (few false alarms
        on small samples). ``"point"`` flags when ``enough`` and the accuracy itself is
        below ``threshold`` (catches more, with more false alarms).

    Returns
    -------
    pandas.DataFrame
        Indexed by annotator (every annotator of ``ann``, sorted), with columns
        ``n_gold_seen``, ``n_correct``, ``accuracy`` (NaN without gold), ``ci_low``,
        ``ci_high``, ``enough`` and ``flagged``.

    Examples
    --------
    >>> import pandas as pd
    >>> ann = pd.DataFrame({"example_id": ["1", "2", "1", "2"], "annotator": ["a", "a", "b", "b"],
    ...                     "value": [1, 0, 1, 1]})
    >>> gold = pd.Series({"1": 1, "2": 0})
    >>> honeypot_accuracy(ann, gold, min_count=1)["accuracy"].tolist()
    [1.0, 0.5]
    """
    _check_common("honeypot_accuracy", min_count, confidence, threshold)
    if flag_on not in ("ci", "point"):
        raise DataError(
            f"The 'flag_on' parameter of honeypot_accuracy must be 'ci' or 'point'. Got {flag_on!r} instead."
        )
    clean = validate_annotations(ann, caller="honeypot_accuracy")
    gold_s = validate_gold(gold, caller="honeypot_accuracy")
    per = _per_annotator(_matches(clean, gold_s, "honeypot_accuracy", "gold"), _annotator_index(clean), confidence)
    enough = per["n"].to_numpy() >= min_count
    below = per["ci_high"].to_numpy() if flag_on == "ci" else per["rate"].to_numpy()
    with np.errstate(invalid="ignore"):
        flagged = enough & (below < threshold)
    return pd.DataFrame(
        {
            "n_gold_seen": per["n"],
            "n_correct": per["k"],
            "accuracy": per["rate"],
            "ci_low": per["ci_low"],
            "ci_high": per["ci_high"],
            "enough": enough,
            "flagged": flagged,
        },
        index=per.index,
    )


def agreement_with_consensus(
    ann: pd.DataFrame,
    consensus: pd.DataFrame | pd.Series,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """How often each annotator's answer equals the consensus label.

    Items whose consensus label is missing (abstained ties) are not counted. Note the
    upward bias: an annotator's own vote helped make the consensus, which matters most
    for items with few annotators.

    Parameters
    ----------
    ann : pandas.DataFrame
        Long-format annotations with columns ``example_id``, ``annotator``, ``value``.
    consensus : DataFrame or Series
        A frame from :func:`majority_consensus` / :func:`dawid_skene_consensus` (its
        ``label`` column is used) or a Series of labels indexed by example_id.
    confidence : float, default 0.95
        Level of the Wilson score interval.

    Returns
    -------
    pandas.DataFrame
        Indexed by annotator, with columns ``n_compared``, ``n_agree``, ``agreement``
        (NaN when nothing was compared), ``ci_low`` and ``ci_high``.
    """
    _check_common("agreement_with_consensus", 1, confidence)
    clean = validate_annotations(ann, caller="agreement_with_consensus")
    cons = validate_consensus(consensus, caller="agreement_with_consensus")
    per = _per_annotator(
        _matches(clean, cons, "agreement_with_consensus", "consensus"),
        _annotator_index(clean),
        confidence,
    )
    return pd.DataFrame(
        {
            "n_compared": per["n"],
            "n_agree": per["k"],
            "agreement": per["rate"],
            "ci_low": per["ci_low"],
            "ci_high": per["ci_high"],
        },
        index=per.index,
    )


@register_check
class HoneypotCheck(QualityCheck):
    """Accuracy on gold items; flags annotators below a threshold (see :func:`honeypot_accuracy`).

    Also flags the gold items that most annotators got "wrong" (their share of correct
    answers is below ``gold_item_threshold`` with at least ``min_item_answers`` answers):
    such items often have a wrong or ambiguous gold label.
    """

    name = "honeypots"
    requires = ("gold",)
    description = "Accuracy of each annotator on gold (honeypot) items, with Wilson intervals."

    def __init__(
        self,
        min_count: int = 10,
        confidence: float = 0.95,
        threshold: float = 0.7,
        flag_on: FlagOn = "ci",
        gold_item_threshold: float = 0.3,
        min_item_answers: int = 3,
    ) -> None:
        self.min_count = min_count
        self.confidence = confidence
        self.threshold = threshold
        self.flag_on = flag_on
        self.gold_item_threshold = gold_item_threshold
        self.min_item_answers = min_item_answers

    def run(
        self,
        ann: pd.DataFrame,
        gold: pd.Series | None = None,
        consensus: pd.DataFrame | pd.Series | None = None,
    ) -> CheckResult:
        if gold is None:
            raise DataError("The honeypots check needs 'gold' labels. Got None instead.")
        table = honeypot_accuracy(
            ann,
            gold,
            min_count=self.min_count,
            confidence=self.confidence,
            threshold=self.threshold,
            flag_on=self.flag_on,
        )
        clean = validate_annotations(ann, caller="HoneypotCheck.run")
        gold_s = validate_gold(gold, caller="HoneypotCheck.run")
        m = _matches(clean, gold_s, "HoneypotCheck.run", "gold").assign(**{EXAMPLE_ID: clean[EXAMPLE_ID].to_numpy()})
        per_item = m.loc[m["seen"]].groupby(EXAMPLE_ID)["correct"].agg(["sum", "count"])
        suspicious = per_item.loc[
            (per_item["count"] >= self.min_item_answers)
            & (per_item["sum"] / per_item["count"] < self.gold_item_threshold)
        ]
        with_gold = table.loc[table["n_gold_seen"] > 0]
        n_seen = int(with_gold["n_gold_seen"].sum())
        summary: dict[str, Any] = {
            "n_gold_items_answered": len(per_item),
            "n_annotators_with_gold": len(with_gold),
            "n_annotators_enough": int(table["enough"].sum()),
            "n_flagged": int(table["flagged"].sum()),
            "pooled_accuracy": float(with_gold["n_correct"].sum() / n_seen) if n_seen else float("nan"),
            "n_suspicious_gold_items": len(suspicious),
        }
        return CheckResult(
            self.name,
            summary,
            table,
            flagged_annotators=[str(a) for a in table.index[table["flagged"]]],
            flagged_items=[str(i) for i in suspicious.index],
        )
