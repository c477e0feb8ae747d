"""Label-matrix analysis: per-LF summary, overall statistics, LF x LF matrix, drill-downs.

All statistics are vectorized over one LF column at a time (the matrix is transposed once
so each column is contiguous), and the pairwise matrix uses packed bitsets and popcounts,
so a 1,000,000 x 50 matrix is summarised in well under a second.

Definitions (Snorkel's, with one deliberate difference for gold):

* **coverage** of an LF: fraction of all rows on which it votes (does not abstain);
* **overlaps**: fraction of all rows on which it votes and at least one other LF votes;
* **conflicts**: fraction of all rows on which it votes and at least two LFs (not
  necessarily including it) vote different labels, i.e. the row's non-abstain votes
  are not all equal;
* **polarity**: sorted list of the labels it emitted;
* with ``gold``: **correct** / **incorrect** count the rows where it votes and the gold label
  is known (gold ``-1``/NaN means unknown); **emp_acc** = correct / (correct + incorrect), with a
  Wilson score interval. Snorkel's ``Emp. Acc.`` counts a vote on a row of unknown gold as
  wrong; here such rows are left out of both counts (``n_gold`` says how many rows were used).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench._constants import ABSTAIN
from workbench._stats import wilson_interval
from workbench.exceptions import LFError

__all__ = [
    "lf_summary",
    "overall_stats",
    "lf_pair_matrix",
    "rows_where_fires",
    "rows_where_conflict",
    "rows_where_wrong",
]


def _check_L(L: Any) -> np.ndarray:
    arr = np.asarray(L)
    if arr.ndim != 2:
        raise LFError(f"A label matrix must be 2-D (n_items, n_lfs). Got an array of shape {arr.shape} instead.")
    if arr.dtype.kind not in "iu":
        raise LFError(f"A label matrix must hold integers (int8 with ABSTAIN=-1). Got dtype {arr.dtype} instead.")
    if arr.dtype != np.int8:
        if arr.size and (arr.min() < ABSTAIN or arr.max() > 127):
            raise LFError("A label matrix must hold labels in -1..127.")
        arr = arr.astype(np.int8)
    return arr


def _names(lf_names: Sequence[str] | None, m: int) -> list[str]:
    if lf_names is None:
        return [str(j) for j in range(m)]
    names = list(lf_names)
    if len(names) != m:
        raise LFError(f"Got {len(names)} LF names for a label matrix with {m} columns; pass one name per column.")
    return names


def _gold(gold: Any, n: int) -> np.ndarray:
    """Gold as int64 with unknown = -1 (from -1, NaN, None, pd.NA)."""
    if isinstance(gold, np.ndarray) and gold.ndim == 1 and gold.dtype.kind in "iu":
        if len(gold) != n:
            raise LFError(
                f"Got {len(gold)} gold labels for a label matrix with {n} rows; pass one per row (-1 if unknown)."
            )
        if gold.size and gold.min() < -1:
            raise LFError("Gold labels must be class labels >= 0, or -1/NaN for unknown.")
        return gold.astype(np.int64, copy=False)
    g = pd.Series(gold) if not isinstance(gold, pd.Series) else gold
    if len(g) != n:
        raise LFError(f"Got {len(g)} gold labels for a label matrix with {n} rows; pass one per row (-1 if unknown).")
    num = pd.to_numeric(g, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.where(np.isnan(num), -1, num).astype(np.int64)
    if (out < -1).any():
        raise LFError("Gold labels must be class labels >= 0, or -1/NaN for unknown.")
    return out


#: Rows per block: small enough to stay in cache, and < 65536 so uint16 sums cannot overflow.
_CHUNK = 1 << 15


def _transposed_chunks(L: np.ndarray) -> Any:
    """Yield ``(start, Lt_chunk)``: row blocks of ``L`` as (n_lfs, rows) arrays, cache-sized.

    Free for a column-major ``L`` (what :class:`LFEngine` returns); a row-major ``L`` is
    transposed block by block.
    """
    Lt = L.T if L.flags.f_contiguous else None
    for start in range(0, L.shape[0], _CHUNK):
        if Lt is not None:
            yield start, Lt[:, start : start + _CHUNK]
        else:
            yield start, np.ascontiguousarray(L[start : start + _CHUNK].T)


def _transpose(L: np.ndarray) -> np.ndarray:
    """``L.T`` made contiguous, block by block (several times faster than one big copy)."""
    if L.flags.f_contiguous:
        return L.T
    Lt = np.empty((L.shape[1], L.shape[0]), dtype=L.dtype)
    for start, block in _transposed_chunks(L):
        Lt[:, start : start + block.shape[1]] = block
    return Lt


def _block_row_stats(Lt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For a transposed block (n_lfs, rows): votes mask, and per row: any vote, overlapped, conflicted."""
    fires = Lt != ABSTAIN
    count = fires.view(np.uint8).sum(axis=0, dtype=np.uint8 if Lt.shape[0] < 256 else np.int64)
    hi = Lt.max(axis=0, initial=ABSTAIN).view(np.uint8)  # largest label (255 when no vote)
    lo = Lt.view(np.uint8).min(axis=0, initial=255)  # smallest label: ABSTAIN is 255 as uint8
    overlapped = count > 1
    conflicted = overlapped & (hi != lo)
    return fires, count > 0, overlapped, conflicted


def _row_stats(L: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of ``L``: has a vote, is overlapped, is conflicted."""
    n = L.shape[0]
    covered = np.zeros(n, dtype=bool)
    overlapped = np.zeros(n, dtype=bool)
    conflicted = np.zeros(n, dtype=bool)
    for start, Lt in _transposed_chunks(L):
        _f, cov, ovl, cfl = _block_row_stats(Lt)
        stop = start + Lt.shape[1]
        covered[start:stop], overlapped[start:stop], conflicted[start:stop] = cov, ovl, cfl
    return covered, overlapped, conflicted


def _count(mask: np.ndarray) -> np.ndarray:
    """Per-LF counts of a (n_lfs, rows) boolean block (rows < 65536)."""
    return mask.view(np.uint8).sum(axis=1, dtype=np.uint16).astype(np.int64)


def lf_summary(
    L: Any,
    lf_names: Sequence[str] | None = None,
    gold: Any = None,
    cardinality: int | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per-LF statistics of a label matrix (Snorkel's ``lf_summary``, faster, gold-aware).

    Parameters
    ----------
    L : array-like of int, shape (n_items, n_lfs)
        Label matrix with ``ABSTAIN`` (-1) for no vote.
    lf_names : list of str, optional
        Column names; default ``"0"``, ``"1"`` ...
    gold : array-like, optional
        Gold label per row, ``-1``/NaN where unknown; unknown rows are ignored by the
        accuracy columns (not counted as wrong, unlike Snorkel).
    cardinality : int, optional
        Number of classes; only used to check that ``L`` and ``gold`` fit it.
    confidence : float, default 0.95
        Level of the Wilson interval on ``emp_acc``.

    Returns
    -------
    DataFrame indexed by LF name with columns ``j``, ``polarity``, ``coverage``,
    ``overlaps``, ``conflicts``, ``n_votes`` and, with gold, ``correct``, ``incorrect``,
    ``n_gold``, ``emp_acc``, ``emp_acc_low``, ``emp_acc_high``. See the module docstring
    for the exact definitions (Snorkel's for coverage/overlaps/conflicts/polarity).

    Examples
    --------
    >>> import numpy as np
    >>> L = np.array([[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]], dtype=np.int8)
    >>> s = lf_summary(L, ["a", "b", "c"], gold=[0, 1, 1, -1, 0])
    >>> s["coverage"].tolist(), s["conflicts"].tolist()
    ([0.4, 0.8, 0.4], [0.2, 0.2, 0.0])
    >>> s["correct"].tolist(), s["incorrect"].tolist()
    ([2, 2, 2], [0, 1, 0])
    """
    L = _check_L(L)
    n, m = L.shape
    names = _names(lf_names, m)
    g = _gold(gold, n) if gold is not None else None
    if cardinality is not None:
        top = int(L.max()) if L.size else -1
        if g is not None:
            top = max(top, int(g.max()) if n else -1)
        if top >= cardinality:
            raise LFError(f"A label {top} is outside 0..{cardinality - 1} (cardinality {cardinality}).")
    g_cmp = np.where(g >= 0, g, -2).astype(np.int8) if g is not None else None  # -2 never equals a vote
    max_label = int(L.max()) if L.size else -1
    seen = np.zeros((max(max_label + 1, 0), m), dtype=bool)
    votes = np.zeros(m, dtype=np.int64)
    ovl = np.zeros(m, dtype=np.int64)
    cfl = np.zeros(m, dtype=np.int64)
    correct = np.zeros(m, dtype=np.int64)
    n_gold = np.zeros(m, dtype=np.int64)
    for start, Lt in _transposed_chunks(L):
        fires, _cov, overlapped, conflicted = _block_row_stats(Lt)
        votes += _count(fires)
        ovl += _count(fires & overlapped)
        cfl += _count(fires & conflicted)
        if max_label < 0:
            pass  # no votes at all
        elif max_label <= 1:  # binary: the smallest and the largest vote are the whole polarity
            seen[0] |= Lt.view(np.uint8).min(axis=1, initial=255) == 0
            if max_label == 1:
                seen[1] |= Lt.max(axis=1, initial=ABSTAIN) == 1
        else:
            for lab in range(max_label + 1):
                seen[lab] |= (Lt == lab).any(axis=1)
        if g_cmp is not None:
            gc = g_cmp[start : start + Lt.shape[1]]
            correct += _count(Lt == gc)
            n_gold += _count(fires & (gc >= 0))
    polarity = [[int(v) for v in np.flatnonzero(seen[:, j])] for j in range(m)]
    denom = max(n, 1)
    data: dict[str, Any] = {
        "j": np.arange(m),
        "polarity": polarity,
        "coverage": votes / denom,
        "overlaps": ovl / denom,
        "conflicts": cfl / denom,
        "n_votes": votes,
    }
    if g is not None:
        incorrect = n_gold - correct
        with np.errstate(invalid="ignore", divide="ignore"):
            acc = np.where(n_gold > 0, correct / np.maximum(n_gold, 1), np.nan)
        low, high = wilson_interval(correct, n_gold, confidence=confidence)
        data.update(
            correct=correct,
            incorrect=incorrect,
            n_gold=n_gold,
            emp_acc=acc,
            emp_acc_low=low,
            emp_acc_high=high,
        )
    return pd.DataFrame(data, index=pd.Index(names, name="lf"))


def overall_stats(L: Any) -> dict[str, float]:
    """Fractions of rows with at least one vote, two or more votes, and conflicting votes.

    Returns
    -------
    dict with ``n_items``, ``n_lfs``, ``coverage``, ``overlap``, ``conflict`` (Snorkel's
    ``label_coverage``, ``label_overlap``, ``label_conflict``).
    """
    L = _check_L(L)
    n, m = L.shape
    covered, overlapped, conflicted = _row_stats(L)
    denom = max(n, 1)
    return {
        "n_items": float(n),
        "n_lfs": float(m),
        "coverage": float(np.count_nonzero(covered)) / denom,
        "overlap": float(np.count_nonzero(overlapped)) / denom,
        "conflict": float(np.count_nonzero(conflicted)) / denom,
    }


def _packed(mask: np.ndarray) -> np.ndarray:
    """Pack a 2-D boolean array row-wise into uint64 words."""
    bits = np.packbits(mask, axis=1)
    pad = (-bits.shape[1]) % 8
    if pad:
        bits = np.pad(bits, ((0, 0), (0, pad)))
    return bits.view(np.uint64)


def lf_pair_matrix(L: Any, lf_names: Sequence[str] | None = None, normalize: bool = False) -> pd.DataFrame:
    """Pairwise overlap, agreement and conflict counts of every pair of LFs.

    Parameters
    ----------
    L : array-like of int, shape (n_items, n_lfs)
    lf_names : list of str, optional
    normalize : bool, default False
        Divide counts by the number of rows.

    Returns
    -------
    DataFrame with a two-level column index (``"overlap"``, ``"agree"``, ``"conflict"``) x
    LF name, indexed by LF name: entry ``[a, ("conflict", b)]`` is the number of rows on which
    both ``a`` and ``b`` vote and their votes differ; the diagonal of ``"overlap"`` is each LF's
    vote count. ``agree + conflict == overlap``.
    """
    L = _check_L(L)
    n, m = L.shape
    names = _names(lf_names, m)
    Lt = _transpose(L)
    fires = _packed(Lt != ABSTAIN)
    labels = [int(v) for v in np.unique(Lt) if v != ABSTAIN] if L.size else []
    per_label = [_packed(Lt == lab) for lab in labels]
    overlap = np.zeros((m, m), dtype=np.int64)
    agree = np.zeros((m, m), dtype=np.int64)
    for j in range(m):
        overlap[j] = np.bitwise_count(fires & fires[j]).sum(axis=1, dtype=np.int64)
        for bits in per_label:
            agree[j] += np.bitwise_count(bits & bits[j]).sum(axis=1, dtype=np.int64)
    conflict = overlap - agree
    mats = {"overlap": overlap, "agree": agree, "conflict": conflict}
    frames = {
        k: pd.DataFrame(v / max(n, 1) if normalize else v, index=pd.Index(names, name="lf"), columns=names)
        for k, v in mats.items()
    }
    return pd.concat(frames, axis=1)


def _col(L: np.ndarray, lf: int | str, lf_names: Sequence[str] | None) -> int:
    if isinstance(lf, str):
        if lf_names is None or lf not in list(lf_names):
            raise LFError(f"No LF named {lf!r} among {list(lf_names or [])}; pass lf_names or a column index.")
        return list(lf_names).index(lf)
    if not 0 <= int(lf) < L.shape[1]:
        raise LFError(f"LF column {lf} is outside 0..{L.shape[1] - 1}.")
    return int(lf)


def _as_ids(pos: np.ndarray, row_ids: Any) -> Any:
    if row_ids is None:
        return pos
    return pd.Index(np.asarray(row_ids, dtype=object)[pos], name="id")


def rows_where_fires(
    L: Any,
    lf: int | str,
    lf_names: Sequence[str] | None = None,
    row_ids: Any = None,
    label: int | None = None,
) -> Any:
    """Rows on which ``lf`` votes (``label``, if given): positions, or ids when ``row_ids`` is given."""
    L = _check_L(L)
    col = L[:, _col(L, lf, lf_names)]
    mask = col != ABSTAIN if label is None else col == label
    return _as_ids(np.flatnonzero(mask), row_ids)


def rows_where_conflict(
    L: Any, a: int | str, b: int | str, lf_names: Sequence[str] | None = None, row_ids: Any = None
) -> Any:
    """Rows on which LFs ``a`` and ``b`` both vote and disagree."""
    L = _check_L(L)
    ca, cb = L[:, _col(L, a, lf_names)], L[:, _col(L, b, lf_names)]
    return _as_ids(np.flatnonzero((ca != ABSTAIN) & (cb != ABSTAIN) & (ca != cb)), row_ids)


def rows_where_wrong(
    L: Any, lf: int | str, gold: Any, lf_names: Sequence[str] | None = None, row_ids: Any = None
) -> Any:
    """Rows on which ``lf`` votes, the gold label is known, and they differ."""
    L = _check_L(L)
    col = L[:, _col(L, lf, lf_names)].astype(np.int64)
    g = _gold(gold, L.shape[0])
    return _as_ids(np.flatnonzero((col != ABSTAIN) & (g >= 0) & (col != g)), row_ids)
