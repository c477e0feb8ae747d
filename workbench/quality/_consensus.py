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

__all__ = ["dawid_skene_consensus", "majority_consensus", "route_to_adjudication"]

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


def route_to_adjudication(
    consensus: pd.DataFrame,
    threshold: float,
    *,
    on: Literal["agreement", "confidence"] = "agreement",
) -> pd.Index:
    """Example ids whose consensus is too weak to accept without a human adjudicator.

    Parameters
    ----------
    consensus : pandas.DataFrame
        As returned by :func:`majority_consensus` or :func:`dawid_skene_consensus`.
    threshold : float
        Items whose ``on`` column is strictly below this are routed.
    on : {"agreement", "confidence"}, default "agreement"
        Which column to compare.

    Returns
    -------
    pandas.Index
        The routed example ids, weakest first. Items with a missing label (abstained
        ties, items without answers) are always routed, first.
    """
    if not isinstance(consensus, pd.DataFrame) or not {"label", on} <= set(consensus.columns):
        raise DataError(
            f"The 'consensus' parameter of route_to_adjudication must be a DataFrame with "
            f"'label' and {on!r} columns, as returned by majority_consensus. Got "
            f"{type(consensus).__name__} instead."
        )
    if on not in ("agreement", "confidence"):
        raise DataError(
            f"The 'on' parameter of route_to_adjudication must be 'agreement' or 'confidence'. Got {on!r} instead."
        )
    if not isinstance(threshold, (int, float)) or not 0.0 <= float(threshold) <= 1.0:
        raise DataError(
            f"The 'threshold' parameter of route_to_adjudication must be a number in [0, 1]. Got {threshold!r} instead."
        )
    metric = consensus[on].astype(np.float64)
    missing = consensus["label"].isna().to_numpy()
    routed = missing | (metric.to_numpy() < threshold)
    order = pd.DataFrame(
        {"missing": missing[routed], "metric": metric.to_numpy()[routed]},
        index=consensus.index[routed],
    ).sort_values(["missing", "metric"], ascending=[False, True], kind="stable")
    return pd.Index(order.index, name=consensus.index.name or EXAMPLE_ID)
