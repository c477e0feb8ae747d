"""Inter-annotator agreement: pairwise Cohen's kappa, Fleiss' kappa, Krippendorff's alpha.

All three are computed from integer codes with a handful of (sparse) matrix products, so
they stay fast on hundreds of thousands of annotations. Undefined values (a single rater,
or every rating the same so that chance agreement is 1) are returned as NaN, which is what
``sklearn.metrics.cohen_kappa_score`` returns; the ``krippendorff`` package raises a
``ValueError`` there instead.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from workbench.exceptions import DataError
from workbench.quality._frame import (
    VALUE,
    EncodedAnnotations,
    encode_annotations,
    validate_annotations,
)
from workbench.quality._registry import CheckResult, QualityCheck, register_check

__all__ = [
    "AgreementCheck",
    "AgreementReport",
    "agreement",
    "cohen_kappa_pairwise",
    "fleiss_kappa",
    "krippendorff_alpha",
]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
_LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _indicator(enc: EncodedAnnotations, mask: NDArray[np.bool_] | None = None) -> sp.csr_matrix:
    rows, cols = enc.item, enc.annotator
    if mask is not None:
        rows, cols = rows[mask], cols[mask]
    data = np.ones(len(rows), dtype=np.float64)
    return sp.csr_matrix((data, (rows, cols)), shape=(enc.n_items, enc.n_annotators))


def _pairwise_arrays(
    enc: EncodedAnnotations,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Shared-item counts, agreeing counts and chance-agreement numerators per pair."""
    both = _indicator(enc)
    both_t = both.T.tocsr()
    shared = np.asarray((both_t @ both).todense(), dtype=np.float64)
    agree = np.zeros_like(shared)
    chance = np.zeros_like(shared)
    for k in range(enc.n_labels):
        xk = _indicator(enc, enc.value == k)
        xk_t = xk.T.tocsr()
        agree += np.asarray((xk_t @ xk).todense())
        # m[a, b]: items shared by a and b on which a said k
        m = np.asarray((xk_t @ both).todense())
        chance += m * m.T
    return shared, agree, chance


def _check_min_items(min_items: int, caller: str) -> None:
    if not isinstance(min_items, (int, np.integer)) or isinstance(min_items, bool) or min_items < 1:
        raise DataError(f"The 'min_items' parameter of {caller} must be a positive int. Got {min_items!r} instead.")


def cohen_kappa_pairwise(ann: pd.DataFrame, *, min_items: int = 10) -> pd.DataFrame:
    """Cohen's kappa for every pair of annotators, on the items both of them rated.

    Parameters
    ----------
    ann : pandas.DataFrame
        Long-format annotations with columns ``example_id``, ``annotator``, ``value``.
        Rows whose value is missing are ignored.
    min_items : int, default 10
        Pairs sharing fewer items get ``kappa = NaN`` (they are still listed).

    Returns
    -------
    pandas.DataFrame
        One row per pair of annotators that share at least one item (pairs that share
        none are not listed), ``annotator_a < annotator_b``, with columns
        ``annotator_a``, ``annotator_b``, ``n_items`` (shared items), ``agreement``
        (observed share of identical answers) and ``kappa``. Kappa is NaN when undefined,
        i.e. when chance agreement is 1 (both annotators gave the same single label on
        every shared item), as in ``sklearn.metrics.cohen_kappa_score``.

    Examples
    --------
    >>> import pandas as pd
    >>> ann = pd.DataFrame({"example_id": ["1", "2", "3", "1", "2", "3"],
    ...                     "annotator": ["a", "a", "a", "b", "b", "b"],
    ...                     "value": ["x", "y", "y", "x", "y", "x"]})
    >>> cohen_kappa_pairwise(ann, min_items=2)[["annotator_a", "annotator_b", "kappa"]]
      annotator_a annotator_b  kappa
    0           a           b    0.4
    """
    _check_min_items(min_items, "cohen_kappa_pairwise")
    clean = validate_annotations(ann, caller="cohen_kappa_pairwise", check_duplicates=False)
    columns = ["annotator_a", "annotator_b", "n_items", "agreement", "kappa"]
    if clean.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    enc = encode_annotations(clean, caller="cohen_kappa_pairwise")
    shared, agree, chance = _pairwise_arrays(enc)
    a, b = np.triu_indices(enc.n_annotators, k=1)
    keep = shared[a, b] > 0
    a, b = a[keep], b[keep]
    n = shared[a, b]
    p_o = agree[a, b] / n
    p_e = chance[a, b] / (n * n)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = (p_o - p_e) / (1.0 - p_e)
    kappa[np.isclose(p_e, 1.0)] = np.nan
    kappa[n < min_items] = np.nan
    return pd.DataFrame(
        {
            "annotator_a": enc.annotators.to_numpy()[a],
            "annotator_b": enc.annotators.to_numpy()[b],
            "n_items": n.astype(np.int64),
            "agreement": p_o,
            "kappa": kappa,
        }
    )


def _fleiss_from_counts(counts: NDArray[np.float64]) -> float:
    n_i = counts.sum(axis=1)
    counts = counts[n_i >= 2]
    n_i = n_i[n_i >= 2]
    if len(n_i) == 0:
        return float("nan")
    p_i = ((counts * counts).sum(axis=1) - n_i) / (n_i * (n_i - 1.0))
    p_bar = float(p_i.mean())
    p_j = counts.sum(axis=0) / n_i.sum()
    p_e = float((p_j * p_j).sum())
    if np.isclose(p_e, 1.0):
        return float("nan")
    return (p_bar - p_e) / (1.0 - p_e)


def fleiss_kappa(ann: pd.DataFrame) -> float:
    r"""Fleiss' kappa, generalised to items with unequal numbers of ratings.

    Rater identity does not matter. Items with fewer than two ratings are excluded.
    With :math:`n_{ij}` raters putting item :math:`i` in category :math:`j` and
    :math:`n_i = \sum_j n_{ij}`, the generalisation used is

    .. math::

        P_i = \frac{\sum_j n_{ij}(n_{ij} - 1)}{n_i (n_i - 1)}, \quad
        \bar P = \frac{1}{N}\sum_i P_i, \quad
        p_j = \frac{\sum_i n_{ij}}{\sum_i n_i}, \quad
        \bar P_e = \sum_j p_j^2, \quad
        \kappa = \frac{\bar P - \bar P_e}{1 - \bar P_e}

    i.e. each item's pairwise agreement uses its own number of raters, items count
    equally in :math:`\bar P`, and chance agreement uses the pooled category shares over
    all ratings. When every item has the same number of raters this is exactly Fleiss
    (1971). The result is NaN when no item has two ratings or when chance agreement is 1
    (a single category used throughout).

    Examples
    --------
    >>> import pandas as pd
    >>> ann = pd.DataFrame({"example_id": ["1", "1", "1", "2", "2", "2"],
    ...                     "annotator": ["a", "b", "c", "a", "b", "c"],
    ...                     "value": [0, 0, 0, 1, 1, 0]})
    >>> round(fleiss_kappa(ann), 3)
    0.25
    """
    clean = validate_annotations(ann, caller="fleiss_kappa", check_duplicates=False)
    if clean.empty:
        return float("nan")
    return _fleiss_from_counts(encode_annotations(clean, caller="fleiss_kappa").counts())


def _delta_squared(
    level: str, labels: pd.Index, n_c: NDArray[np.float64], explicit: bool = False
) -> NDArray[np.float64]:
    k = len(labels)
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "ordinal":
        cs = np.concatenate([[0.0], np.cumsum(n_c)])
        lo = np.minimum.outer(np.arange(k), np.arange(k))
        hi = np.maximum.outer(np.arange(k), np.arange(k))
        between = cs[hi + 1] - cs[lo]
        return (between - (n_c[:, None] + n_c[None, :]) / 2.0) ** 2
    try:
        v = np.asarray(labels.to_numpy(), dtype=np.float64)
    except (TypeError, ValueError):
        if level == "interval" and explicit:
            v = np.arange(k, dtype=np.float64)  # equally spaced levels, in the given order
        else:
            hint = (
                "Pass levels=[...] in their order to treat them as equally spaced, use level='ordinal', "
                if level == "interval"
                else "Use numeric values, or level='ordinal' with levels=[...], "
            )
            raise DataError(
                f"krippendorff_alpha with level={level!r} needs numeric values. Got labels "
                f"{list(labels)[:5]} instead. {hint}or level='nominal' for unordered categories."
            ) from None
    diff = v[:, None] - v[None, :]
    if level == "interval":
        return diff**2
    total = v[:, None] + v[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total == 0, 0.0, (diff / total) ** 2)
    return np.asarray(out, dtype=np.float64)


def _alpha_from_encoded(enc: EncodedAnnotations, level: str, explicit: bool = False) -> float:
    counts = enc.counts()
    m_u = counts.sum(axis=1)
    pairable = m_u >= 2
    counts, m_u = counts[pairable], m_u[pairable]
    if len(m_u) == 0:
        return float("nan")
    scaled = counts / (m_u - 1.0)[:, None]
    coincidence = counts.T @ scaled - np.diag(scaled.sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    delta2 = _delta_squared(level, enc.labels, n_c, explicit)
    d_o = float((coincidence * delta2).sum())
    d_e = float((np.outer(n_c, n_c) * delta2).sum()) / (n - 1.0)
    if d_e <= 0.0 or not np.isfinite(d_e):
        return float("nan")
    return float(1.0 - d_o / d_e)


def _resolve_levels(clean: pd.DataFrame, levels: Sequence[Hashable] | None, caller: str) -> list[Hashable] | None:
    """The explicit order of the values: ``levels``, else an ordered Categorical's categories, else None."""
    values = clean[VALUE]
    if levels is None:
        dtype = values.dtype
        if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
            return list(dtype.categories)
        return None
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Iterable):
        raise DataError(
            f"The 'levels' parameter of {caller} must be a list of every possible value in order "
            f"(lowest first), e.g. ['low', 'mid', 'high']. Got {levels!r} instead."
        )
    order = list(levels)
    index = pd.Index(order, dtype=object)
    if len(order) == 0 or index.has_duplicates:
        dups = index[index.duplicated()].unique().tolist()
        raise DataError(
            f"The 'levels' parameter of {caller} must list each possible value once, in order. Got "
            f"{'an empty list' if not order else f'repeated values {dups[:5]}'} instead."
        )
    observed = pd.unique(np.asarray(values.to_numpy(), dtype=object))
    unknown = [v for v, i in zip(observed, index.get_indexer(pd.Index(observed, dtype=object)), strict=True) if i < 0]
    if unknown:
        raise DataError(
            f"The 'value' column given to {caller} holds values that are not in 'levels' {order[:10]}: "
            f"got {unknown[:5]} instead. Add them to 'levels' in their place, or fix or drop those answers "
            f"(check for types too: 3 and '3' differ)."
        )
    return order


def krippendorff_alpha(
    ann: pd.DataFrame, level: Level = "nominal", *, levels: Sequence[Hashable] | None = None
) -> float:
    """Krippendorff's alpha from the coincidence matrix, for any pattern of missing ratings.

    Parameters
    ----------
    ann : pandas.DataFrame
        Long-format annotations with columns ``example_id``, ``annotator``, ``value``.
    level : {"nominal", "ordinal", "interval", "ratio"}, default "nominal"
        Level of measurement. ``"ordinal"`` needs the order of the values: ``levels``, or
        the categories of an *ordered* pandas Categorical ``value`` column, else the
        sorted order of the values (alphabetical for strings: pass ``levels``).
        ``"interval"`` uses numeric values as they are, or, for non-numeric values with
        an explicit order, their positions in it (equally spaced levels). ``"ratio"``
        needs numeric values.
    levels : sequence, optional
        Every possible value, lowest first (the ``value_domain`` of the ``krippendorff``
        package). A value outside it raises. Levels nobody used do not change alpha.

    Returns
    -------
    float
        Alpha; NaN when undefined (no item rated twice, or only one value used, where the
        ``krippendorff`` package raises ``ValueError``).

    Raises
    ------
    DataError
        If ``level`` is unknown, a value is not among ``levels``, or ``level`` needs
        numbers and got other values.

    Examples
    --------
    >>> import pandas as pd
    >>> ann = pd.DataFrame({"example_id": ["1", "1", "2", "2", "3", "3"],
    ...                     "annotator": ["a", "b", "a", "b", "a", "b"],
    ...                     "value": [0, 0, 1, 1, 0, 1]})
    >>> round(krippendorff_alpha(ann), 3)
    0.444
    >>> likert = ann.assign(value=ann["value"].map({0: "low", 1: "high"}))
    >>> round(krippendorff_alpha(likert, "ordinal", levels=["low", "mid", "high"]), 3)
    0.444
    """
    if level not in _LEVELS:
        raise DataError(
            f"The 'level' parameter of krippendorff_alpha must be one of {list(_LEVELS)}. Got {level!r} instead."
        )
    clean = validate_annotations(ann, caller="krippendorff_alpha", check_duplicates=False)
    order = _resolve_levels(clean, levels, "krippendorff_alpha")
    if clean.empty:
        return float("nan")
    enc = encode_annotations(clean, labels=order, caller="krippendorff_alpha")
    return _alpha_from_encoded(enc, level, explicit=order is not None)


@dataclass(frozen=True)
class AgreementReport:
    """Inter-annotator agreement of one annotation frame.

    Attributes
    ----------
    n_items, n_annotators, n_ratings : int
        Items, annotators and (non-missing) ratings seen.
    n_items_multi_rated : int
        Items with at least two ratings (the only ones that carry agreement information).
    percent_agreement : float
        Share of agreeing rater pairs within items, pooled over items (NaN if none).
    fleiss_kappa, krippendorff_alpha : float
        See :func:`fleiss_kappa` and :func:`krippendorff_alpha` (NaN when undefined).
    mean_pairwise_kappa : float
        Mean of the defined pairwise Cohen's kappas, weighted by shared items.
    pairwise : pandas.DataFrame
        The table of :func:`cohen_kappa_pairwise`.
    level : str
        The level of measurement used for alpha.
    """

    n_items: int
    n_annotators: int
    n_ratings: int
    n_items_multi_rated: int
    percent_agreement: float
    fleiss_kappa: float
    krippendorff_alpha: float
    mean_pairwise_kappa: float
    pairwise: pd.DataFrame
    level: str = "nominal"

    def summary(self) -> dict[str, Any]:
        """The scalar figures as a plain dict (for logging or JSON)."""
        return {
            "n_items": self.n_items,
            "n_annotators": self.n_annotators,
            "n_ratings": self.n_ratings,
            "n_items_multi_rated": self.n_items_multi_rated,
            "percent_agreement": self.percent_agreement,
            "fleiss_kappa": self.fleiss_kappa,
            "krippendorff_alpha": self.krippendorff_alpha,
            "mean_pairwise_kappa": self.mean_pairwise_kappa,
            "level": self.level,
        }


def agreement(
    ann: pd.DataFrame,
    *,
    level: Level = "nominal",
    min_items: int = 10,
    levels: Sequence[Hashable] | None = None,
) -> AgreementReport:
    """Compute every agreement figure of ``ann`` at once.

    Parameters
    ----------
    ann : pandas.DataFrame
        Long-format annotations with columns ``example_id``, ``annotator``, ``value``.
    level : str, default "nominal"
        Level of measurement for Krippendorff's alpha.
    min_items : int, default 10
        Minimum shared items for a pairwise kappa (see :func:`cohen_kappa_pairwise`).
    levels : sequence, optional
        The possible values in order, for ordinal (and interval) alpha; see
        :func:`krippendorff_alpha`.

    Returns
    -------
    AgreementReport
    """
    if level not in _LEVELS:
        raise DataError(f"The 'level' parameter of agreement must be one of {list(_LEVELS)}. Got {level!r} instead.")
    clean = validate_annotations(ann, caller="agreement", check_duplicates=False)
    order = _resolve_levels(clean, levels, "agreement")
    pairwise = cohen_kappa_pairwise(clean, min_items=min_items)
    if clean.empty:
        nan = float("nan")
        return AgreementReport(0, 0, 0, 0, nan, nan, nan, nan, pairwise, level)
    enc = encode_annotations(clean, labels=order, caller="agreement")
    counts = enc.counts()
    n_i = counts.sum(axis=1)
    multi = n_i >= 2
    pairs_total = float((n_i[multi] * (n_i[multi] - 1)).sum())
    pairs_agree = float((counts[multi] * (counts[multi] - 1)).sum())
    defined = pairwise["kappa"].notna()
    if defined.any():
        w = pairwise.loc[defined, "n_items"].to_numpy(dtype=np.float64)
        mean_kappa = float(np.average(pairwise.loc[defined, "kappa"].to_numpy(), weights=w))
    else:
        mean_kappa = float("nan")
    return AgreementReport(
        n_items=enc.n_items,
        n_annotators=enc.n_annotators,
        n_ratings=len(clean),
        n_items_multi_rated=int(multi.sum()),
        percent_agreement=pairs_agree / pairs_total if pairs_total > 0 else float("nan"),
        fleiss_kappa=_fleiss_from_counts(counts),
        krippendorff_alpha=_alpha_from_encoded(enc, level, explicit=order is not None),
        mean_pairwise_kappa=mean_kappa,
        pairwise=pairwise,
        level=level,
    )


@register_check
class AgreementCheck(QualityCheck):
    """Agreement between annotators; flags annotators who rarely agree with their peers.

    Parameters
    ----------
    level : str, default "nominal"
        Level of measurement for Krippendorff's alpha.
    min_items : int, default 10
        Minimum shared items for a pairwise kappa.
    kappa_threshold : float, default 0.2
        An annotator is flagged when the item-weighted mean of their defined pairwise
        kappas is below this ("slight" agreement on the Landis & Koch scale).
    item_threshold : float, default 0.5
        With a consensus given, the items :func:`needs_adjudication` selects at this
        threshold (weak agreement, ties, missing labels) are flagged for adjudication.
    levels : sequence, optional
        The possible values in order, for ordinal or interval alpha.
    """

    name = "agreement"
    description = "Inter-annotator agreement (Cohen, Fleiss, Krippendorff)."

    def __init__(
        self,
        level: Level = "nominal",
        min_items: int = 10,
        kappa_threshold: float = 0.2,
        item_threshold: float = 0.5,
        levels: Sequence[Hashable] | None = None,
    ) -> None:
        self.level = level
        self.levels = levels
        self.min_items = min_items
        self.kappa_threshold = kappa_threshold
        self.item_threshold = item_threshold

    def run(
        self,
        ann: pd.DataFrame,
        gold: pd.Series | None = None,
        consensus: pd.DataFrame | pd.Series | None = None,
    ) -> CheckResult:
        report = agreement(ann, level=self.level, min_items=self.min_items, levels=self.levels)
        pw = report.pairwise
        both = pd.concat(
            [
                pw[["annotator_a", "n_items", "kappa"]].rename(columns={"annotator_a": "annotator"}),
                pw[["annotator_b", "n_items", "kappa"]].rename(columns={"annotator_b": "annotator"}),
            ]
        ).dropna(subset=["kappa"])
        flagged: list[str] = []
        if not both.empty:
            both = both.assign(weighted=both["kappa"] * both["n_items"])
            per = both.groupby("annotator")[["weighted", "n_items"]].sum()
            mean_kappa = per["weighted"] / per["n_items"]
            flagged = sorted(mean_kappa.index[mean_kappa < self.kappa_threshold].astype(str))
        items: list[str] = []
        if isinstance(consensus, pd.DataFrame) and "agreement" in consensus.columns:
            from workbench.quality._consensus import route_to_adjudication

            items = [str(i) for i in route_to_adjudication(consensus, self.item_threshold)]
        summary = report.summary()
        summary["n_items_to_adjudicate"] = len(items)
        return CheckResult(self.name, summary, pw, flagged, items)
