"""Cross-fitting on gold: each gold row scored by a model fitted without it."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold

from workbench.exceptions import LabelValidationError

__all__ = ["cross_fitted_proba", "gold_folds"]


def gold_folds(y_gold: NDArray[np.int64], n_splits: int, random_state: int | None) -> list[tuple[Any, Any]]:
    """``(train, test)`` positions of ``n_splits`` folds of the gold rows: stratified when every
    class has a row per fold, plain shuffled folds otherwise."""
    k = int(min(n_splits, len(y_gold)))
    if k < 2:
        raise LabelValidationError(f"Cross-fitting needs at least 2 gold rows; there are {len(y_gold)}.")
    counts = np.bincount(y_gold)
    splitter: Any = (StratifiedKFold(k, shuffle=True, random_state=random_state)
                     if counts[counts > 0].min() >= k else KFold(k, shuffle=True, random_state=random_state))
    return list(splitter.split(np.zeros(len(y_gold)), y_gold))


def crossfit_evaluation(y_fit: NDArray[np.int64], y_eval: NDArray[np.int64], folds: int) -> str:
    """How :func:`cross_fitted_proba` scores ``y_eval``: cross-fitted, or (no evaluation row has fit gold)
    one fit on the other gold, scored on held-out gold."""
    rows = np.flatnonzero(np.asarray(y_eval) >= 0)
    if not (np.asarray(y_fit)[rows] >= 0).any():
        return "fitted on the project's gold, scored on held-out gold"
    return f"cross-fitted ({folds} folds)"


def cross_fitted_proba(
    template: Any, L: NDArray[Any], y_fit: NDArray[np.int64], y_eval: NDArray[np.int64], folds: int,
    random_state: int | None,
) -> NDArray[np.float64]:
    """Probabilities on every row of ``L``; each gold row of ``y_eval`` from a fit that did not see its gold.

    ``template`` is an unfitted label model, fitted (cloned) on ``L`` with ``y_fit`` as its gold;
    rows without evaluation gold get a uniform row (they are not scored).
    """
    rows = np.flatnonzero(y_eval >= 0)
    n_classes = int(max(y_eval.max(), y_fit.max())) + 1
    k_classes = max(n_classes, int(getattr(template, "cardinality", None) or 2))
    P = np.full((len(L), k_classes), 1.0 / k_classes)
    if not (y_fit[rows] >= 0).any():  # the fit never sees the evaluation gold (e.g. a held-out test set)
        P[rows] = clone(template).fit(L, y_fit).predict_proba(L[rows])
        return P
    for _, test in gold_folds(y_eval[rows], folds, random_state):
        hidden = rows[test]
        y_fold = y_fit.copy()
        y_fold[hidden] = -1  # this fold's gold is unknown to the fit that predicts it
        P[hidden] = clone(template).fit(L, y_fold).predict_proba(L[hidden])
    return P
