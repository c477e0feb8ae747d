"""Consensus labels from several annotators: (weighted) majority vote and Dawid-Skene.

Both return the same frame, indexed by ``example_id``, so that downstream code (the
adjudication queue, the agreement-with-consensus metrics, a UI) does not care which
one produced it.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.utils import check_random_state

from workbench.exceptions import DataError
from workbench.quality._frame import (
    EXAMPLE_ID,
    EncodedAnnotations,
    encode_annotations,
    labels_from_codes,
    validate_annotations,
)

__all__ = ["dawid_skene_consensus", "majority_consensus", "needs_adjudication", "route_to_adjudication"]

TieBreak = Literal["abstain", "random", "first"]
_TIE_BREAKS = ("abstain", "random", "first")
_COLUMNS = ["label", "confidence", "agreement", "n_annotators", "tie"]


def _prepare(
    ann: pd.DataFrame,
    caller: str,
    exclude: Iterable[str] | None,
    labels: Sequence[Hashable] | None,
) -> EncodedAnnotations:
    """Encode ``ann`` without the excluded annotators but keeping every item and label."""
    full = validate_annotations(ann, caller=caller, check_duplicates=False)
    enc = encode_annotations(full, labels=labels, caller=caller)
    if exclude is None:
        return enc
    excluded = [exclude] if isinstance(exclude, str) else [str(a) for a in exclude]
    codes = enc.annotators.get_indexer(pd.Index(excluded, dtype=object))
    unknown = sorted(a for a, c in zip(excluded, codes, strict=True) if c < 0)
    if unknown:
        warnings.warn(
            f"{caller}: the excluded annotators {unknown[:5]} do not occur in 'ann'; check their spelling.",
            UserWarning,
            stacklevel=3,
        )
    return enc.without_annotators(codes[codes >= 0].astype(np.int64))


def _weights_per_row(
    enc: EncodedAnnotations, weights: Mapping[str, float] | pd.Series | None
) -> NDArray[np.float64] | None:
    if weights is None:
        return None
    if isinstance(weights, Mapping):
        weights = pd.Series(dict(weights), dtype=np.float64)
    if not isinstance(weights, pd.Series):
        raise DataError(
            f"The 'weights' parameter of majority_consensus must be a dict or Series mapping "
            f"annotator -> non-negative weight. Got {type(weights).__name__} instead."
        )
    w = pd.to_numeric(weights, errors="coerce").astype(np.float64)
    w.index = w.index.astype(str)
    bad = w[~np.isfinite(w.to_numpy()) | (w.to_numpy() < 0)]
    if len(bad):
        raise DataError(
            f"The 'weights' parameter of majority_consensus must hold finite, non-negative "
            f"numbers. Got {bad.head(3).to_dict()} instead."
        )
    # annotators absent from `weights` vote with weight 1; weights of unknown annotators are ignored
    per_annotator = w.reindex(enc.annotators).fillna(1.0).to_numpy(dtype=np.float64)
    return np.asarray(per_annotator[enc.annotator], dtype=np.float64)


def _frame(
    enc: EncodedAnnotations,
    codes: NDArray[np.int64],
    confidence: NDArray[np.float64],
    agreement: NDArray[np.float64],
    n_annotators: NDArray[np.int64],
    tie: NDArray[np.bool_],
) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "label": labels_from_codes(enc.labels, codes),
            "confidence": confidence,
            "agreement": agreement,
            "n_annotators": n_annotators.astype(np.int64),
            "tie": tie,
        },
        index=pd.Index(enc.items, name=EXAMPLE_ID),
    )
    return out


def majority_consensus(
    ann: pd.DataFrame,
    tie_break: TieBreak = "abstain",
    random_state: int | np.random.RandomState | None = None,
    weights: Mapping[str, float] | pd.Series | None = None,
    *,
    exclude: Iterable[str] | None = None,
    labels: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """(Weighted) majority vote per example.

    Parameters
    ----------
    ann : pandas.DataFrame
        Long-format annotations with columns ``example_id``, ``annotator``, ``value``.
    tie_break : {"abstain", "random", "first"}, default "abstain"
        What to do when several labels share the top (weighted) vote: ``"abstain"``
        leaves the label missing (route it to adjudication), ``"random"`` draws one of
        the tied labels with ``random_state``, ``"first"`` takes the tied label that
        comes first in ``labels`` (sorted order by default). crowd-kit's ``MajorityVote``
        takes the first column of its vote table, whose order follows the data; passing
        that order as ``labels`` reproduces its output exactly.
    random_state : int, RandomState or None
        Seed for ``tie_break="random"``.
    weights : dict or Series, optional
        Annotator -> non-negative vote weight, e.g. the ``recommended_weight`` column of
        :func:`annotator_report`. Annotators not listed vote with weight 1; entries for
        annotators absent from ``ann`` are ignored. Weight 0 silences an annotator.
    exclude : iterable of str, optional
        Annotators whose answers are dropped (e.g. the flagged ones). Items rated only by
        them stay in the output with a missing label and ``n_annotators == 0``.
    labels : sequence, optional
        The full label set, in order; default the sorted observed values.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``example_id`` (sorted), with columns

        * ``label``: the consensus label (missing for abstained ties and for items
          without any weighted vote);
        * ``confidence``: the label's share of the weighted votes (for an abstained
          tie, the share each tied label got);
        * ``agreement``: the share of the item's annotators who gave that label,
          unweighted (for an abstained tie, the largest share among the tied labels);
        * ``n_annotators``: how many annotators answered (after ``exclude``);
        * ``tie``: whether several labels shared the top vote.

    Examples
    --------
    >>> import pandas as pd
    >>> ann = pd.DataFrame({"example_id": ["1", "1", "1", "2", "2"],
    ...                     "annotator": ["a", "b", "c", "a", "b"],
    ...                     "value": ["pos", "pos", "neg", "pos", "neg"]})
    >>> out = majority_consensus(ann)
    >>> out["label"].tolist(), out["agreement"].round(2).tolist(), out["tie"].tolist()
    (['pos', <NA>], [0.67, 0.5], [False, True])
    """
    if tie_break not in _TIE_BREAKS:
        raise DataError(
            f"The 'tie_break' parameter of majority_consensus must be one of "
            f"{list(_TIE_BREAKS)}. Got {tie_break!r} instead."
        )
    enc = _prepare(ann, "majority_consensus", exclude, labels)
    n, k = enc.n_items, max(enc.n_labels, 1)
    counts = enc.counts()
    row_w = _weights_per_row(enc, weights)
    if row_w is None:
        scores = counts
    else:
        flat = np.bincount(enc.item * k + enc.value, weights=row_w, minlength=n * k)
        scores = np.asarray(flat, dtype=np.float64).reshape(n, k)
    total = scores.sum(axis=1)
    n_annotators = counts.sum(axis=1).astype(np.int64)
    top = scores.max(axis=1, initial=0.0)
    voted = total > 0
    is_top = (scores >= top[:, None] - 1e-9 * np.maximum(top, 1.0)[:, None]) & voted[:, None]
    tie = is_top.sum(axis=1) > 1
    if tie_break == "random":
        rng = check_random_state(random_state)
        priority = np.where(is_top, rng.random_sample((n, k)), -1.0)
        codes = priority.argmax(axis=1).astype(np.int64)
    else:
        codes = is_top.argmax(axis=1).astype(np.int64)
        if tie_break == "abstain":
            codes[tie] = -1
    codes[~voted] = -1
    with np.errstate(invalid="ignore", divide="ignore"):
        rows = np.arange(n)
        safe = np.maximum(codes, 0)
        confidence = np.where(voted, np.where(codes >= 0, scores[rows, safe], top) / total, np.nan)
        agree_label = counts[rows, safe]
        agree_tied = np.where(is_top, counts, -1.0).max(axis=1, initial=-1.0)
        n_safe = np.maximum(n_annotators, 1)
        agreement = np.where(codes >= 0, agree_label, agree_tied) / n_safe
        agreement = np.where(voted, agreement, np.nan)
    return _frame(enc, codes, confidence, agreement, n_annotators, tie)


def dawid_skene_consensus(
    ann: pd.DataFrame,
    *,
    exclude: Iterable[str] | None = None,
    labels: Sequence[Hashable] | None = None,
    max_iter: int = 100,
    tol: float = 1e-5,
    random_state: int | None = None,
    model_params: Mapping[str, Any] | None = None,
    return_model: bool = False,
) -> Any:
    """Dawid-Skene consensus: each annotator gets a confusion matrix learnt by EM.

    The annotations are turned into an int8 label matrix of shape
    ``(n_items, n_annotators)`` (``-1`` = no answer, values ``0..k-1`` in sorted label
    order) and fitted with :class:`workbench.models.DawidSkene`.

    Parameters
    ----------
    ann : pandas.DataFrame
        Long-format annotations with columns ``example_id``, ``annotator``, ``value``.
    exclude : iterable of str, optional
        Annotators whose answers are dropped before fitting (e.g. the flagged ones).
    labels : sequence, optional
        The full label set, in order; default the sorted observed values (at most 127).
    max_iter, tol, random_state :
        Passed to :class:`workbench.models.DawidSkene`.
    model_params : mapping, optional
        Further parameters of :class:`workbench.models.DawidSkene` (e.g. ``smoothing``).
        By default ``abstain="missing"``: an empty cell means "not assigned to this
        annotator" and says nothing about the true label (classic Dawid-Skene).
    return_model : bool, default False
        Also return the fitted model and the annotator order of its columns.

    Returns
    -------
    pandas.DataFrame or tuple
        The frame of :func:`majority_consensus` where ``confidence`` is the posterior
        probability of the label and ``tie`` says that several labels share the top
        posterior (the first in label order is then taken). Items without any answer
        (after ``exclude``) get a missing label. With ``return_model=True``, a tuple
        ``(frame, model, annotators)``.
    """
    from workbench.models import DawidSkene

    enc = _prepare(ann, "dawid_skene_consensus", exclude, labels)
    n, k = enc.n_items, enc.n_labels
    if k > 127:
        raise DataError(
            f"dawid_skene_consensus supports at most 127 distinct labels (int8 label matrix). Got {k} instead."
        )
    counts = enc.counts()
    n_annotators = counts.sum(axis=1).astype(np.int64)
    voted = n_annotators > 0
    codes = np.full(n, -1, dtype=np.int64)
    confidence = np.full(n, np.nan)
    tie = np.zeros(n, dtype=bool)
    model: Any = None
    if k == 1:
        codes[voted] = 0
        confidence[voted] = 1.0
    elif k > 1 and voted.any():
        matrix = enc.matrix(np.int8)
        rows_used = np.flatnonzero(voted)
        lab = matrix[rows_used]
        params: dict[str, Any] = {"abstain": "missing", **dict(model_params or {})}
        model = DawidSkene(cardinality=k, max_iter=max_iter, tol=tol, random_state=random_state, **params).fit(lab)
        proba = np.asarray(model.predict_proba(lab), dtype=np.float64)
        best = proba.max(axis=1)
        codes[rows_used] = proba.argmax(axis=1)
        confidence[rows_used] = best
        tie[rows_used] = (proba >= best[:, None] - 1e-12).sum(axis=1) > 1
    rows = np.arange(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(codes >= 0, counts[rows, np.maximum(codes, 0)] / np.maximum(n_annotators, 1), np.nan)
    frame = _frame(enc, codes, confidence, agreement, n_annotators, tie)
    if return_model:
        return frame, model, list(enc.annotators)
    return frame


def _check_adjudication_args(
    consensus: Any, threshold: Any, on: Any, min_annotators: Any, caller: str
) -> None:
    if on not in ("agreement", "confidence"):
        raise DataError(
            f"The 'on' parameter of {caller} must be 'agreement' or 'confidence'. Got {on!r} instead."
        )
    needed = {"label", on} | ({"n_annotators"} if min_annotators > 0 else set())
    if not isinstance(consensus, pd.DataFrame) or not needed <= set(consensus.columns):
        got = (
            f"columns {list(map(str, consensus.columns))}"
            if isinstance(consensus, pd.DataFrame)
            else type(consensus).__name__
        )
        raise DataError(
            f"The 'consensus' parameter of {caller} must be a DataFrame with the columns "
            f"{sorted(needed)}, as returned by majority_consensus. Got {got} instead."
            + (" Pass min_annotators=0 to skip the 'n_annotators' check." if "n_annotators" in needed else "")
        )
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0.0 <= float(threshold) <= 1.0:
        raise DataError(
            f"The 'threshold' parameter of {caller} must be a number in [0, 1]. Got {threshold!r} instead."
        )


def needs_adjudication(
    consensus: pd.DataFrame,
    threshold: float,
    *,
    on: Literal["agreement", "confidence"] = "agreement",
    min_annotators: int = 2,
    adjudicated: Iterable[Hashable] | None = None,
) -> pd.Series:
    """Whether each item's consensus is too weak to accept without a human adjudicator.

    The one rule behind both the ``needs_adjudication`` column of a project's consensus
    and the adjudication queue (:func:`route_to_adjudication`), so the two always agree.
    An item needs adjudication when it has at least ``min_annotators`` answers, was not
    adjudicated yet, and any of these holds:

    * its label is missing (an abstained tie, or no weighted vote at all);
    * it is a tie (``tie`` column, when present), even if a tie-break picked a label;
    * its ``on`` column is strictly below ``threshold``.

    Parameters
    ----------
    consensus : pandas.DataFrame
        As returned by :func:`majority_consensus` or :func:`dawid_skene_consensus`.
    threshold : float
        Items whose ``on`` column is strictly below this need adjudication.
    on : {"agreement", "confidence"}, default "agreement"
        Which column to compare.
    min_annotators : int, default 2
        Items with fewer answers never need adjudication (one answer is no disagreement;
        such items need more annotators instead). 0 routes items without answers too.
    adjudicated : iterable of example ids, optional
        Items already decided by an adjudicator: never routed again.

    Returns
    -------
    pandas.Series
        Boolean, indexed like ``consensus``, named ``needs_adjudication``.

    Examples
    --------
    >>> import pandas as pd
    >>> ann = pd.DataFrame({"example_id": ["1", "1", "1", "2", "2", "3"],
    ...                     "annotator": ["a", "b", "c", "a", "b", "c"],
    ...                     "value": ["pos", "pos", "neg", "pos", "neg", "neg"]})
    >>> needs_adjudication(majority_consensus(ann), 0.5).tolist()  # item 2 is an unlabeled tie
    [False, True, False]
    """
    if (
        not isinstance(min_annotators, (int, np.integer))
        or isinstance(min_annotators, bool)
        or min_annotators < 0
    ):
        raise DataError(
            f"The 'min_annotators' parameter of needs_adjudication must be an int >= 0. "
            f"Got {min_annotators!r} instead."
        )
    _check_adjudication_args(consensus, threshold, on, min_annotators, "needs_adjudication")
    metric = pd.to_numeric(consensus[on], errors="coerce").to_numpy(dtype=np.float64)
    missing = consensus["label"].isna().to_numpy()
    with np.errstate(invalid="ignore"):
        weak = missing | (metric < threshold)
    if "tie" in consensus.columns:
        weak |= consensus["tie"].fillna(False).to_numpy(dtype=bool)
    if min_annotators > 0:
        n = pd.to_numeric(consensus["n_annotators"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
        weak &= n >= min_annotators
    if adjudicated is not None:
        done = pd.Index([str(a) for a in adjudicated], dtype=object)
        weak &= ~pd.Index(consensus.index.astype(str)).isin(done)
    return pd.Series(weak, index=consensus.index, name="needs_adjudication", dtype=bool)


def route_to_adjudication(
    consensus: pd.DataFrame,
    threshold: float,
    *,
    on: Literal["agreement", "confidence"] = "agreement",
    min_annotators: int = 2,
    adjudicated: Iterable[Hashable] | None = None,
) -> pd.Index:
    """Example ids whose consensus is too weak to accept without a human adjudicator.

    The items are exactly those for which :func:`needs_adjudication` (same parameters)
    is True, ordered for the queue.

    Parameters
    ----------
    consensus : pandas.DataFrame
        As returned by :func:`majority_consensus` or :func:`dawid_skene_consensus`.
    threshold : float
        Items whose ``on`` column is strictly below this are routed.
    on : {"agreement", "confidence"}, default "agreement"
        Which column to compare.
    min_annotators : int, default 2
        Items with fewer answers are not routed (0 routes items without answers too).
    adjudicated : iterable of example ids, optional
        Items already decided by an adjudicator: not routed again.

    Returns
    -------
    pandas.Index
        The routed example ids: items with a missing label (abstained ties, no weighted
        vote) first, then the others by increasing ``on`` (weakest first), ties in the
        frame's order.
    """
    routed = needs_adjudication(
        consensus, threshold, on=on, min_annotators=min_annotators, adjudicated=adjudicated
    ).to_numpy()
    metric = pd.to_numeric(consensus[on], errors="coerce").to_numpy(dtype=np.float64)
    missing = consensus["label"].isna().to_numpy()
    order = pd.DataFrame(
        {"missing": missing[routed], "metric": metric[routed]},
        index=consensus.index[routed],
    ).sort_values(["missing", "metric"], ascending=[False, True], kind="stable", na_position="first")
    return pd.Index(order.index, name=consensus.index.name or EXAMPLE_ID)
